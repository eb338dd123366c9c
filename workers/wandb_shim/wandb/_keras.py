"""Keras callbacks that log each epoch's metrics through a W&B session; Keras is imported only when they are used.

`WandbCallback` logs the epoch's logs as they are (`val_loss`, `accuracy`, ...), like W&B's legacy callback;
`WandbMetricsLogger` logs them as `epoch/<name>` with `epoch/epoch` as their step metric (and, with an integer
`log_freq`, every N batches as `batch/<name>`), like W&B's current one. Options that need W&B's media or model
registry are refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._core import Session
from ._values import Unsupported

REFUSED = ("log_weights", "log_gradients", "training_data", "validation_data", "generator", "predictions",
           "input_type", "output_type", "log_evaluation", "log_batch_frequency", "compute_flops")


def _base() -> type:
    """keras.callbacks.Callback when Keras is installed (fit() wants one), else a plain object."""
    try:
        import keras  # type: ignore[import-not-found,unused-ignore]

        return keras.callbacks.Callback  # type: ignore[no-any-return]
    except ImportError:
        return object


def make_callbacks(session: Session) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(WandbCallback, WandbMetricsLogger) classes, built on first use, that log through `session`."""
    built: dict[str, type] = {}

    def callback(**kwargs: Any) -> Any:
        if "WandbCallback" not in built:
            built["WandbCallback"] = _wandb_callback(session, _base())
        return built["WandbCallback"](**kwargs)

    def metrics_logger(log_freq: str | int = "epoch", initial_global_step: int = 0, **kwargs: Any) -> Any:
        if "WandbMetricsLogger" not in built:
            built["WandbMetricsLogger"] = _metrics_logger(session, _base())
        return built["WandbMetricsLogger"](log_freq=log_freq, initial_global_step=initial_global_step, **kwargs)

    return callback, metrics_logger


def _numbers(logs: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float)) or hasattr(v, "__float__")}


def _wandb_callback(session: Session, base: type) -> type:
    class WandbCallback(base):  # type: ignore[misc,unused-ignore]
        """Logs each epoch's logs (and `epoch`); save_model keeps the best model in run.dir like W&B."""

        def __init__(self, monitor: str = "val_loss", mode: str = "auto", save_model: bool = True, **kwargs: Any) -> None:
            asked = [k for k in REFUSED if kwargs.get(k)]
            if asked:
                raise Unsupported(f"WandbCallback({asked[0]}=...) is not implemented by sweepq's drop-in: it logs "
                                  "each epoch's metrics; log other values with wandb.log")
            super().__init__()
            self.monitor, self.save_model = monitor, save_model
            self.maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
            self.best: float | None = None

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            values = _numbers(logs)
            session.log({**values, "epoch": epoch})
            current = values.get(self.monitor)
            if current is None or not (self.best is None or (current > self.best if self.maximize else current < self.best)):
                return
            self.best = current
            run = session.require("WandbCallback")
            run.summary["best_" + self.monitor] = current
            model = getattr(self, "model", None)
            if self.save_model and model is not None:
                model.save(f"{run.dir}/model-best.keras")

    return WandbCallback


def _metrics_logger(session: Session, base: type) -> type:
    class WandbMetricsLogger(base):  # type: ignore[misc,unused-ignore]
        """Logs `epoch/<name>` each epoch (step metric `epoch/epoch`), and `batch/<name>` every log_freq batches."""

        def __init__(self, log_freq: str | int = "epoch", initial_global_step: int = 0, **kwargs: Any) -> None:
            if kwargs:
                raise TypeError(f"WandbMetricsLogger() got an unexpected keyword argument {next(iter(kwargs))!r}")
            super().__init__()
            self.log_freq = None if log_freq == "epoch" else int(log_freq)
            self.global_step = initial_global_step
            run = session.require("WandbMetricsLogger")
            run.define_metric("epoch/*", step_metric="epoch/epoch")
            if self.log_freq:
                run.define_metric("batch/*", step_metric="batch/batch_step")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            session.log({"epoch/epoch": epoch, **{f"epoch/{k}": v for k, v in _numbers(logs).items()}})

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.global_step += 1
            if self.log_freq and batch % self.log_freq == 0:
                session.log({"batch/batch_step": self.global_step, **{f"batch/{k}": v for k, v in _numbers(logs).items()}})

    return WandbMetricsLogger
