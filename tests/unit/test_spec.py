"""The sweep spec: example configs load, dicts load, and bad specs are refused with the field named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from orchestrator.loading import SpecError, load_spec
from orchestrator.spec import CommandTrial, ParameterGroup, SweepSpec
from orchestrator.spec_policies import BanditPolicy
from orchestrator.spec_sampling import GridSampling

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


def base(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "t",
        "trial": {"function": "examples.digits:train"},
        "parameters": {"lr": {"uniform": [0.001, 0.1]}, "batch": {"choice": [16, 32]}},
        "metric": {"name": "accuracy", "goal": "maximize"},
        "limits": {"max_total_runs": 10},
    }
    spec.update(over)
    return spec


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        load_spec(raw)
    return {p.path: p.message for p in info.value.problems}


def test_examples_ship_at_least_three_valid_specs() -> None:
    assert len(CONFIGS) >= 3
    methods = {load_spec(p).sampling.method for p in CONFIGS}
    assert {"bayesian", "grid", "random"} <= methods
    assert any(load_spec(p).early_termination.policy == "bandit" for p in CONFIGS)


def test_design_example_loads_from_a_dict() -> None:
    spec = load_spec(
        base(
            parameters={
                "learning_rate": {"loguniform": [-9.2, -2.3]},
                "momentum": {"uniform": [0.9, 0.99]},
                "batch_size": {"choice": [16, 32, 64, 128]},
            },
            sampling={"method": "bayesian", "seed": 0},
            early_termination={"policy": "bandit", "slack_factor": 0.1, "evaluation_interval": 1, "delay_evaluation": 5},
            limits={"max_total_runs": 100, "max_concurrent_runs": 4, "max_duration_minutes": 120},
            resources={"queue": "gpu", "gpus_per_trial": 1},
            resume_from=["abc"],
        )
    )
    assert isinstance(spec.early_termination, BanditPolicy) and spec.early_termination.slack_factor == 0.1
    assert spec.space.names == ["learning_rate", "momentum", "batch_size"]
    assert spec.resources.effective_queue == "gpu" and spec.resume_from == ("abc",)


def test_spec_is_frozen() -> None:
    spec = load_spec(base())
    with pytest.raises(ValidationError):
        spec.name = "other"  # type: ignore[misc]


def test_command_trial_and_nested_groups() -> None:
    spec = load_spec(
        base(
            trial={"command": ["python", "${program}", "${args}", "--seed=${envvar:SEED}"], "program": "train.py"},
            parameters={"opt": {"parameters": {"lr": {"uniform": [0, 1]}, "kind": {"choice": ["sgd"]}}}},
        )
    )
    assert isinstance(spec.trial, CommandTrial) and isinstance(spec.parameters["opt"], ParameterGroup)
    assert spec.space.names == ["opt.lr", "opt.kind"]


def test_grid_total_runs_is_the_grid_size() -> None:
    spec = load_spec(base(parameters={"a": {"choice": [1, 2, 3]}, "b": {"choice": [16, 32]}}, sampling={"method": "grid"}, limits={}))
    assert isinstance(spec.sampling, GridSampling) and spec.total_runs == 6


def test_goal_accepts_hyperdrive_spellings() -> None:
    assert load_spec(base(metric={"name": "loss", "goal": "MINIMIZE"})).metric.goal == "minimize"
    assert load_spec(base(metric={"name": "acc", "goal": "max"})).metric.goal == "maximize"


def test_resolved_seed_is_fixed_once() -> None:
    spec = load_spec(base()).with_resolved_seed()
    assert spec.sampling.seed is not None  # type: ignore[union-attr]
    assert spec.with_resolved_seed() == spec


@pytest.mark.parametrize(
    "over,path,reason",
    [
        ({"parameters": {"lr": {"uniform": [1, 0.5]}}}, "parameters.lr.uniform", "less than high"),
        ({"parameters": {"s": {"normal": [0, -1]}}}, "parameters.s.normal.sigma", "greater than 0"),
        ({"parameters": {"lr": {"uniform": [0, 1]}}, "sampling": {"method": "grid"}}, "sampling", "grid sampling supports only choice"),
        ({"early_termination": {"policy": "bandit", "slack_factor": 0.1, "slack_amount": 0.2}}, "early_termination.bandit", "exactly one"),
        ({"early_termination": {"policy": "bandit"}}, "early_termination.bandit", "exactly one"),
        ({"early_termination": {"policy": "hyperdrive"}}, "early_termination", "does not match"),
        ({"early_termination": {"policy": "truncation", "truncation_percentage": 0}}, "early_termination.truncation.truncation_percentage", "greater than or equal to 1"),
        ({"early_termination": {"policy": "truncation", "truncation_percentage": 100}}, "early_termination.truncation.truncation_percentage", "less than or equal to 99"),
        ({"early_termination": {"policy": "median", "evaluation_interval": 0}}, "early_termination.median.evaluation_interval", "greater than or equal to 1"),
        ({"early_termination": {"policy": "median", "delay_evaluation": -1}}, "early_termination.median.delay_evaluation", "greater than or equal to 0"),
        ({"early_termination": {"policy": "hyperband", "max_iter": 27}}, "early_termination.hyperband", "needs s"),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"metric": {"name": "a", "goal": "up"}}, "metric.goal", "'maximize' or 'minimize'"),
        ({"limits": {}}, "limits", "needs max_total_runs or max_duration_minutes"),
        ({"limits": {"max_total_runs": 0}}, "limits.max_total_runs", "greater than or equal to 1"),
        ({"parameters": {"bad name": {"choice": [1]}}}, "parameters.bad name", "must start with a letter"),
        ({"parameters": {}}, "parameters", "at least 1"),
        ({"trial": {"command": ["python", "${prog}"]}}, "trial", "unknown macro ${prog}"),
        ({"trial": {"command": ["${program}"]}}, "trial", "trial.program is not set"),
        ({"trial": {"function": "no_colon"}}, "trial.function", "pattern"),
        ({"trial": {"script": "x.py"}}, "trial", "a trial is"),
    ],
)
def test_invalid_specs_are_refused_naming_the_field(over: dict[str, Any], path: str, reason: str) -> None:
    found = problems(base(**over))
    assert path in found, found
    assert reason in found[path]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        base(parameters={"lr": {"uniform": [1, 0]}}, metric={"name": "a", "goal": "x"}, colour=1, limits={"max_total_runs": -1})
    )
    assert {"parameters.lr.uniform", "metric.goal", "colour", "limits.max_total_runs"} <= set(found)


def test_files_are_read_as_yaml_and_non_mappings_refused(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(SpecError, match="mapping"):
        load_spec(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(tmp_path / "broken.yaml")
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "missing.yaml")


def test_spec_round_trips_through_json() -> None:
    spec = load_spec(base(parameters={"g": {"parameters": {"x": {"qnormal": [0, 1, 0.5]}}}}))
    assert SweepSpec.model_validate_json(spec.model_dump_json()) == spec


def without_metric(**over: Any) -> dict[str, Any]:
    raw = base(**over)
    del raw["metric"]
    return raw


def test_a_sweep_without_a_metric_is_valid_for_samplers_that_need_none() -> None:
    for sampling in ({"method": "random"}, {"method": "sobol"}):
        spec = load_spec(without_metric(sampling=sampling))
        assert spec.metric is None and spec.objectives == []
    grid = load_spec(without_metric(parameters={"a": {"choice": [1, 2]}}, sampling={"method": "grid"}))
    assert grid.metric is None and grid.total_runs == 2


@pytest.mark.parametrize(
    "over,path,reason",
    [
        ({"sampling": {"method": "bayesian"}}, "metric", "bayesian sampling learns from a metric"),
        ({"sampling": {"method": "nsga2"}}, "metric", "nsga2 sampling learns from a metric"),
        ({"early_termination": {"policy": "median"}}, "early_termination", "median early termination compares a metric"),
    ],
)
def test_a_metric_is_required_where_sampling_or_early_termination_uses_it(over: dict[str, Any], path: str, reason: str) -> None:
    found = problems(without_metric(**over))
    assert reason in found[path], found


def test_metric_summary_defaults_to_best_and_accepts_last_only() -> None:
    assert load_spec(base()).metric.summary == "best"  # type: ignore[union-attr]
    last = load_spec(base(metric={"name": "acc", "goal": "max", "summary": "last"}))
    assert last.metric is not None and last.metric.summary == "last"
    assert "metric.summary" in problems(base(metric={"name": "acc", "goal": "max", "summary": "mean"}))


def test_max_consecutive_failures_is_optional_and_not_negative() -> None:
    assert load_spec(base()).limits.max_consecutive_failures is None
    assert load_spec(base(limits={"max_total_runs": 5, "max_consecutive_failures": 0})).limits.max_consecutive_failures == 0
    found = problems(base(limits={"max_total_runs": 5, "max_consecutive_failures": -1}))
    assert "greater than or equal to 0" in found["limits.max_consecutive_failures"]
