"""HyperDrive's API pieces that need no Redis: config to spec, the logging channel, offline runs, refusals."""

from __future__ import annotations

import pytest

from orchestrator.hyperdrive import (
    ComputeTarget,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    NotInSweepq,
    PrimaryMetricGoal,
    RandomParameterSampling,
    Run,
    RunEnvironmentException,
    ScriptRunConfig,
    choice,
    uniform,
)
from orchestrator.hyperdrive.context import _OfflineRun, metric_line
from orchestrator.hyperdrive.records import as_metrics, fold
from orchestrator.loading import load_spec
from workers.runners.command import parse_metric_line


def test_compute_target_names_the_queue() -> None:
    for target, queue in (("gpu-cluster", "gpu-cluster"), (ComputeTarget(name="hd-cluster"), "hd-cluster")):
        src = ScriptRunConfig(source_directory=".", script="train.py", compute_target=target)
        config = HyperDriveConfig(run_config=src, hyperparameter_sampling=RandomParameterSampling({"lr": uniform(0, 1)}),
                                  primary_metric_name="acc", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=2)
        assert load_spec(config.to_spec("x")).resources.effective_queue == queue
    no_target = ScriptRunConfig(source_directory=".", script="train.py")
    assert load_spec(no_target.single_run_spec("x")).resources.effective_queue == "cpu"


def test_a_single_run_is_a_one_trial_sweep_that_passes_no_parameter() -> None:
    src = ScriptRunConfig(source_directory=".", script="train_iris.py", arguments=["--kernel", "linear", "--penalty", 1.0])
    spec = load_spec(src.single_run_spec("train_iris"))
    assert spec.total_runs == 1 and spec.trial.command == ("${interpreter}", "train_iris.py", "--kernel", "linear",
                                                           "--penalty", "1.0")
    assert spec.trial.per_trial_workdir is True


def test_azure_only_arguments_and_calls_are_refused_by_name() -> None:
    with pytest.raises(NotInSweepq, match=r"HyperDriveConfig\(estimator=...\).*ScriptRunConfig"):
        HyperDriveConfig(GridParameterSampling({"a": choice(1)}), "acc", "MAXIMIZE", 1, estimator=object())
    with pytest.raises(NotInSweepq, match="distributed_job_config"):
        ScriptRunConfig(".", "train.py", distributed_job_config=object())
    run = Run(Experiment(None, "x"), "sweep-1/3")
    with pytest.raises(NotInSweepq, match=r"Run.register_model\(\).*get_file_names"):
        run.register_model("model", "outputs/model.pkl")
    with pytest.raises(NotInSweepq, match="get_secret"):
        run.get_secret("token")  # type: ignore[attr-defined]
    with pytest.raises(NotInSweepq, match=r"Run\.get_context"):
        run.log("accuracy", 0.5)  # logging belongs to the script
    with pytest.raises(ValueError, match="<sweep id>/<n>"):
        Run(Experiment(None, "x"), "not-a-child-id")


def test_outside_a_sweep_the_script_runs_offline_as_on_hyperdrive(capsys: pytest.CaptureFixture[str]) -> None:
    run = Run.get_context()
    assert isinstance(run, _OfflineRun) and run.id.startswith("OfflineRun_")
    run.log("Kernel type", "rbf")
    run.log("accuracy", 0.5)
    run.tag("team", "vision")
    assert capsys.readouterr().out == ("Attempted to log scalar metric Kernel type:\nrbf\n"
                                       "Attempted to log scalar metric accuracy:\n0.5\n"
                                       "Attempted to set tags {'team': 'vision'}\n")
    with pytest.raises(RunEnvironmentException):
        Run.get_context(allow_offline=False)


def test_numbers_of_any_name_travel_as_a_json_line_the_worker_parses() -> None:
    line = metric_line({"Max iterations:": 100.0}, step=3)
    assert parse_metric_line(line, known=lambda name: False) == ({"Max iterations:": 100.0}, 3)
    assert parse_metric_line("sweepq-json: {not json", known=lambda name: True) is None
    assert parse_metric_line('sweepq-json: {"metrics": {"flag": true}}', known=lambda name: True) is None


def test_logged_records_fold_into_hyperdrives_metric_shapes() -> None:
    logged = fold([
        {"kind": "value", "name": "Kernel type", "value": "rbf"},
        {"kind": "value", "name": "note", "value": "a"}, {"kind": "value", "name": "note", "value": "b"},
        {"kind": "list", "name": "losses", "value": [0.5]},
        {"kind": "row", "name": "per class", "value": {"label": "a", "recall": 0.5}},
        {"kind": "table", "name": "curve", "value": {"x": [1], "y": [0.1]}},
        {"kind": "table", "name": "curve", "value": {"x": [2], "y": [0.2]}},
        {"kind": "image", "name": "chart", "value": "images/chart.png"},
        {"kind": "tag", "name": "tags", "value": {"team": "vision"}},
        {"kind": "property", "name": "properties", "value": {"dataset": "v1"}},
    ])
    assert as_metrics(logged) == {"Kernel type": "rbf", "note": ["a", "b"], "losses": [0.5],
                                  "per class": {"label": "a", "recall": 0.5}, "curve": {"x": [1, 2], "y": [0.1, 0.2]},
                                  "chart": "images/chart.png"}
    assert logged["tags"] == {"team": "vision"} and logged["properties"] == {"dataset": "v1"}
