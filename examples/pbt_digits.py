"""An MLP on scikit-learn's digits, trained epoch by epoch from a checkpoint: the trial population-based training
(PBT) needs (configs/digits-pbt.yaml).

Each epoch is one `partial_fit` pass of plain SGD; after it the model and the epoch are pickled to
`checkpoint.pkl` in the trial's output directory (SWEEPQ_OUTPUT_DIR, written atomically) and the validation
accuracy is reported with `step=epoch`. A trial started with `resume_from` (a PBT member that copied a better
member's checkpoint) or retried after its worker was lost continues from the checkpoint's epoch with its own
learning rate and momentum: the learning rate that suits the first epochs (large) is not the one that suits the
last ones (small), which is what PBT's schedule finds.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

from examples.digits import _data
from workers import report

CHECKPOINT = "checkpoint.pkl"


def load(directory: str | Path | None) -> tuple[Any, int, float]:
    """The model, the last finished epoch and its accuracy in a checkpoint directory; (None, 0, NaN) if none."""
    path = None if directory is None else Path(directory) / CHECKPOINT
    if path is None or not path.is_file():
        return None, 0, float("nan")
    with path.open("rb") as f:
        state = pickle.load(f)  # our own checkpoint, written by save() below
    return state["model"], int(state["epoch"]), float(state.get("accuracy", "nan"))


def save(directory: Path, model: Any, epoch: int, accuracy: float) -> None:
    """Write the checkpoint atomically, so a copy taken while the trial runs is never half written."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{CHECKPOINT}.{os.getpid()}"
    with tmp.open("wb") as f:
        pickle.dump({"model": model, "epoch": epoch, "accuracy": accuracy}, f)
    os.replace(tmp, directory / CHECKPOINT)


def new_model(learning_rate: float, momentum: float, hidden: int, batch_size: int, seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(int(hidden),), solver="sgd", learning_rate_init=learning_rate, momentum=momentum,
        batch_size=int(batch_size), random_state=seed,
    )


def set_rates(model: Any, learning_rate: float, momentum: float) -> None:
    """Give a (resumed) model this member's learning rate and momentum: its SGD optimizer keeps its own copies."""
    model.learning_rate_init, model.momentum = learning_rate, momentum
    optimizer = getattr(model, "_optimizer", None)
    if optimizer is not None:
        optimizer.learning_rate, optimizer.momentum = learning_rate, momentum


def fit_epoch(model: Any) -> float:
    """One SGD pass over the training split; returns the validation accuracy."""
    import numpy as np

    x_train, x_val, y_train, y_val = _data()
    model.partial_fit(x_train, y_train, classes=np.arange(10))
    return float(model.score(x_val, y_val))


def train(
    learning_rate: float = 0.05,
    momentum: float = 0.5,
    epochs: int = 20,
    hidden: int = 32,
    batch_size: int = 64,
    seed: int = 0,
    epoch_seconds: float = 0.0,
    resume_from: str | None = None,
) -> float:
    """Train from the checkpoint (resume_from's, else this trial's own), reporting accuracy every epoch; a
    checkpoint already at the last epoch (a donor that finished before it was copied) is returned as it is."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    out = Path(os.environ.get("SWEEPQ_OUTPUT_DIR", "."))
    model, start, accuracy = load(resume_from)
    if model is None:
        model, start, accuracy = load(out)
    if model is None:
        model = new_model(learning_rate, momentum, hidden, batch_size, seed)
    set_rates(model, learning_rate, momentum)
    for epoch in range(start + 1, int(epochs) + 1):
        accuracy = fit_epoch(model)
        save(out, model, epoch, accuracy)
        time.sleep(epoch_seconds)  # lets the integration tests act while members train
        report(accuracy=accuracy, learning_rate=learning_rate, step=epoch)
    return accuracy
