"""The drop-in W&B run object: W&B's log/commit/step rules, summary, config, URLs, refusals, Keras callbacks."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

import workers.wandb_shim.wandb as shim
from workers.wandb_shim.wandb._core import Binding, Session
from workers.wandb_shim.wandb._keras import make_callbacks
from workers.wandb_shim.wandb._values import Error, Unsupported

Rows = list[tuple[dict[str, float], int | None]]


def session(params: dict[str, Any] | None = None, **binding: Any) -> tuple[Session, Rows]:
    rows: Rows = []
    s = Session(lambda: Binding(emit=lambda values, step: rows.append((values, step)), params=params or {}, **binding))
    return s, rows


def test_identity_and_urls() -> None:
    s, _ = session(trial_id="sw-1/3", sweep_id="sw-1", resumed=True, project="proj")
    run = s.init(name="lucky")
    assert (run.id, run.name, run.sweep_id, run.project, run.resumed, run.step) == ("sw-1/3", "lucky", "sw-1", "proj", True, 0)
    assert run.get_sweep_url() == "http://127.0.0.1:8000/sweeps/sw-1"
    assert run.get_project_url() == "http://127.0.0.1:8000/"
    assert s.init() is run  # within one trial, init returns the same run
    other, _ = session()
    assert other.init().name.startswith("offline-") and other.run is not None and other.run.get_sweep_url() is None


def test_config_sweep_parameters_override_defaults_from_dict_and_namespace() -> None:
    s, _ = session({"lr": 0.1, "opt": {"kind": "adam"}})
    run = s.init(config=argparse.Namespace(lr=0.5, epochs=3))
    assert (run.config.lr, run.config.epochs, run.config.opt.kind) == (0.1, 3, "adam")
    assert s.attribute("config") is run.config
    s2, _ = session({"lr": 0.2})
    run2 = s2.init(config={"lr": 1.0, "batch": 8, "secret": 1}, config_exclude_keys=["secret"])
    assert dict(run2.config) == {"lr": 0.2, "batch": 8}
    s3, _ = session()
    assert dict(s3.init(config=None).config) == {}
    s4, _ = session({"lr": 0.3})
    s4.attribute("config").extra = 1  # set on wandb.config before init: kept, as the parameters are
    assert dict(s4.init(config={"lr": 9}).config) == {"lr": 0.3, "extra": 1}
    with pytest.raises(TypeError, match=r"argparse\.Namespace"):
        session()[0].init(config=3)


def test_log_commits_each_call_and_counts_steps() -> None:
    s, rows = session()
    run = s.init()
    run.log({"loss": 1.0, "note": "text"})
    run.log({"loss": 0.5, "nested": {"a": 2}})
    assert rows == [({"loss": 1.0}, None), ({"loss": 0.5, "nested/a": 2.0}, None)]
    assert run.step == 2
    assert run.summary["note"] == "text" and run.summary["loss"] == 0.5


def test_commit_false_accumulates_into_one_step() -> None:
    s, rows = session()
    run = s.init()
    run.log({"loss": 1.0}, commit=False)
    run.log({"acc": 0.5}, commit=False)
    assert rows == [] and run.step == 0
    run.log({"lr": 0.1})
    assert rows == [({"loss": 1.0, "acc": 0.5, "lr": 0.1}, None)] and run.step == 1


def test_explicit_steps_commit_when_a_higher_step_comes_and_lower_steps_are_dropped() -> None:
    s, rows = session()
    run = s.init()
    run.log({"loss": 1.0}, step=0)
    run.log({"acc": 0.1}, step=0)
    assert rows == []  # step given: commit defaults to False
    run.log({"loss": 0.5}, step=3)
    assert rows == [({"loss": 1.0, "acc": 0.1}, 0)]
    run.log({"loss": 9.0}, step=1)  # lower than the current step: dropped, as W&B does
    run.finish()
    assert rows[-1] == ({"loss": 0.5}, 3)
    with pytest.raises(Error, match=r"after run\.finish"):
        run.log({"loss": 1.0})


def test_summary_follows_the_last_value_unless_the_script_sets_it() -> None:
    s, _ = session()
    run = s.init()
    run.log({"acc": 0.9})
    run.log({"acc": 0.7})
    assert run.summary["acc"] == 0.7 and run.explicit_summary() == {}
    run.summary["acc"] = 0.95
    run.log({"acc": 0.1})
    assert run.summary["acc"] == 0.95 and run.explicit_summary() == {"acc": 0.95}
    run.summary.update({"f1": 0.5})
    assert run.explicit_summary() == {"acc": 0.95, "f1": 0.5}


def test_define_metric_summary_and_step_metric() -> None:
    s, rows = session()
    run = s.init()
    s.define_metric("val_acc", summary="max")
    s.define_metric("train/*", step_metric="epoch")
    s.define_metric("loss", summary="best", goal="minimize")
    for acc, loss, epoch in ((0.5, 3.0, 10), (0.8, 1.0, 11), (0.6, 2.0, 12)):
        run.log({"val_acc": acc, "loss": loss, "train/loss": loss, "epoch": epoch})
    assert run.summary["val_acc"] == 0.8 and run.summary["loss"] == 1.0
    assert [step for _, step in rows] == [10, 11, 12]
    with pytest.raises(ValueError, match="summary"):
        s.define_metric("x", summary="median")


def test_context_manager_commits_the_pending_step_and_calls_on_finish() -> None:
    finished: list[str] = []
    rows: Rows = []
    s = Session(lambda: Binding(emit=lambda v, st: rows.append((v, st)), on_finish=lambda r: finished.append(r.id)))
    with s.init() as run:
        run.log({"loss": 2.0}, commit=False)
    assert rows == [({"loss": 2.0}, None)] and finished == [run.id]
    run.finish()
    assert finished == [run.id]  # finish is idempotent


def test_log_before_init_is_refused_like_wandb() -> None:
    s, _ = session()
    with pytest.raises(Error, match=r"wandb.init\(\) before wandb.log"):
        s.log({"loss": 1.0})
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        s.init(bogus=1)


def test_unimplemented_names_raise_a_clear_error_never_a_no_op() -> None:
    with pytest.raises(Unsupported, match=r"wandb.watch is not implemented .*numbers you pass to wandb.log"):
        _ = shim.watch
    with pytest.raises(Unsupported, match=r"wandb.Image .*run.dir"):
        _ = shim.Image
    assert not hasattr(shim, "Table")  # an AttributeError too, so feature probes see it is missing
    s, _ = session()
    run = s.init()
    with pytest.raises(Unsupported, match=r"Run.log_code"):
        run.log_code(".")


def test_shim_sweep_and_agent_inside_a_trial_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEPQ_TRIAL_ID", "sw/1")
    with pytest.raises(Unsupported, match="inside a sweepq trial"):
        shim.sweep({"method": "random"})
    with pytest.raises(Unsupported, match="inside a sweepq trial"):
        shim.agent("sw", function=print)


def test_shim_prints_committed_steps_and_explicit_summary_last(capsys: pytest.CaptureFixture[str]) -> None:
    shim._line({"loss": 0.5, "acc": float("nan")}, 3)
    run = shim.Run(Binding(emit=shim._line, on_finish=shim._final_summary), None, None, None)
    run.log({"acc": 0.5})
    run.summary["acc"] = 0.9
    run.summary["loss"] = 0.25
    run.finish()
    assert capsys.readouterr().out.splitlines() == [
        "sweepq: loss=0.5 acc=nan step=3", "sweepq: acc=0.5", "sweepq: acc=0.9 loss=0.25"
    ]
    same = shim.Run(Binding(emit=shim._line, on_finish=shim._final_summary), None, None, None)
    same.log({"acc": 0.5})
    same.summary["acc"] = 0.5  # what it logged last: no further report
    same.finish()
    assert capsys.readouterr().out.splitlines() == ["sweepq: acc=0.5"]


def test_keras_callbacks_log_each_epoch_without_keras() -> None:
    s, rows = session()
    s.init()
    wandb_callback, metrics_logger = make_callbacks(s)
    legacy = wandb_callback(monitor="val_loss")
    legacy.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    legacy.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.5})
    assert rows == [({"loss": 1.0, "val_loss": 2.0, "epoch": 0.0}, None), ({"loss": 0.5, "val_loss": 1.5, "epoch": 1.0}, None)]
    assert s.attribute("summary")["best_val_loss"] == 1.5
    rows.clear()
    logger = metrics_logger()
    logger.on_epoch_end(4, {"acc": 0.7})
    assert rows == [({"epoch/epoch": 4.0, "epoch/acc": 0.7}, 4)]
    with pytest.raises(Unsupported, match="log_weights"):
        wandb_callback(log_weights=True)


def test_orchestrator_wandb_is_the_same_api_and_refuses_what_it_lacks() -> None:
    import orchestrator.wandb as api

    with pytest.raises(Unsupported, match=r"wandb\.Artifact"):
        _ = api.Artifact
    with pytest.raises(Unsupported, match="resume_from"):
        api.sweep({"method": "random"}, prior_runs=["abc"])
    with pytest.raises(ValueError, match="count must be a positive"):
        api.agent("some-sweep", function=print, count=0)
    from orchestrator.wandb.integration.keras import WandbMetricsLogger
    from orchestrator.wandb.keras import WandbCallback

    assert callable(WandbCallback) and callable(WandbMetricsLogger)
    assert api.keras.WandbCallback is WandbCallback


def test_run_login_and_settings_as_wandb_scripts_use_them() -> None:
    s, _ = session()
    assert s.attribute("run") is None  # `if wandb.run is None:` before init
    run = s.init(settings=shim.Settings(start_method="thread"))
    assert s.attribute("run") is run
    assert shim.login() is True  # sweepq needs no login


def test_a_dotted_wandb_parameter_name_reads_flat_as_in_wandb() -> None:
    """sweepq passes "opt.lr" nested ({"opt": {"lr": ...}}); a W&B script reads config["opt.lr"], and its own
    dotted default must not shadow the sweep's value."""
    s, _ = session({"opt": {"lr": 0.1}})
    run = s.init(config={"opt.lr": 0.5, "epochs": 2})
    assert run.config["opt.lr"] == 0.1 and "opt.lr" in run.config and run.config.get("opt.lr") == 0.1
    assert run.config.opt.lr == 0.1 and run.config.epochs == 2
    assert "opt.momentum" not in run.config and run.config.get("opt.momentum", 0.9) == 0.9
    with pytest.raises(KeyError):
        run.config["opt.momentum"]
