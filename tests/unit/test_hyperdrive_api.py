"""HyperDrive's classes become the equivalent sweepq spec (pure: nothing is submitted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    TruncationSelectionPolicy,
    choice,
    loguniform,
    normal,
    qlognormal,
    randint,
    uniform,
)
from orchestrator.loading import SpecError, load_spec


def config(sampling: object, policy: object = None, **kw: object) -> HyperDriveConfig:
    run = ScriptRunConfig(source_directory=".", script="train.py", arguments=["--num_epochs", 3])
    kw.setdefault("max_total_runs", 100)  # required by HyperDrive
    return HyperDriveConfig(run_config=run, hyperparameter_sampling=sampling, policy=policy, primary_metric_name="accuracy",  # type: ignore[arg-type]
                            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, **kw)  # type: ignore[arg-type]


def test_the_documents_random_bandit_config_maps_field_for_field() -> None:
    sampling = RandomParameterSampling({"--learning_rate": uniform(0.0005, 0.005), "momentum": uniform(0.9, 0.99)})
    spec = load_spec(config(sampling, BanditPolicy(slack_factor=0.15, evaluation_interval=1, delay_evaluation=10),
                            max_total_runs=100, max_concurrent_runs=4).to_spec("pytorch"))
    assert spec.space.names == ["learning_rate", "momentum"]
    assert spec.sampling.method == "random" and spec.metric.goal == "maximize" and spec.metric.name == "accuracy"
    et = spec.early_termination
    assert et.policy == "bandit" and et.slack_factor == 0.15 and et.delay_evaluation == 10
    assert spec.limits.max_total_runs == 100 and spec.limits.max_concurrent_runs == 4
    assert spec.limits.max_duration_minutes == 10080  # HyperDrive's default
    assert spec.trial.command[-1] == "${args_split}" and spec.trial.command[1:4] == ("train.py", "--num_epochs", "3")
    assert spec.trial.cwd == str(Path(".").resolve())


def test_every_expression_and_policy_has_its_hyperdrive_defaults() -> None:
    space = {"a": choice(1, 2, 3), "b": choice(range(4)), "c": randint(5), "d": loguniform(-3, -1), "e": normal(0, 1),
             "f": qlognormal(0, 1, 1)}
    spec = load_spec(config(BayesianParameterSampling(space), MedianStoppingPolicy(), max_total_runs=10).to_spec("x"))
    assert spec.sampling.method == "bayesian" and spec.early_termination.policy == "median"
    assert spec.early_termination.evaluation_interval == 1 and spec.early_termination.delay_evaluation == 0
    truncation = TruncationSelectionPolicy(truncation_percentage=20, delay_evaluation=5).to_spec()
    assert truncation == {"policy": "truncation", "truncation_percentage": 20, "exclude_finished_jobs": False,
                          "evaluation_interval": 1, "delay_evaluation": 5}
    assert NoTerminationPolicy().to_spec() == {"policy": "none"}


def test_warm_start_and_resumed_children_map_to_the_spec() -> None:
    class Earlier:
        id = "earlier-sweep"

    spec = config(RandomParameterSampling({"lr": uniform(0, 1)}), max_total_runs=5, resume_from=[Earlier()],
                  resume_child_runs=["earlier-sweep/3"]).to_spec("warm")
    assert spec["resume_from"] == ["earlier-sweep"] and spec["resume_child_runs"] == ["earlier-sweep/3"]
    assert load_spec(spec).resume_child_runs == ("earlier-sweep/3",)


def test_grid_over_a_continuous_expression_is_refused_like_hyperdrive() -> None:
    bad = config(GridParameterSampling({"lr": uniform(0, 1)}))
    with pytest.raises(SpecError, match="choice"):
        load_spec(bad.to_spec("grid"))
    assert load_spec(config(GridParameterSampling({"n": choice(1, 2, 3), "b": choice(16, 32)})).to_spec("g")).total_runs == 6
