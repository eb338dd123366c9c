"""W&B sweep configs as their users write them: every distribution, inference rule, nesting, hyperband form,
macro, grid expansion, and the refusals, with W&B-style messages."""

from __future__ import annotations

import math
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.loading import SpecError, load_spec
from orchestrator.policies import Hyperband, create_policy
from orchestrator.space import nest
from workers.runners.command import expand

HEAD = "program: train.py\nmetric: {name: loss, goal: minimize}\nrun_cap: 10\n"
GRID = "program: train.py\nmetric: {name: loss, goal: minimize}\nmethod: grid\n"


def wandb(text: str) -> Any:
    return load_spec(yaml.safe_load(text))


def draws(param: str, method: str = "random", n: int = 2000) -> list[Any]:
    spec = wandb(f"{HEAD}method: {method}\nparameters:\n  p: {param}\n")
    rng = random.Random(7)
    return [spec.space.sample(rng)["p"] for _ in range(n)]


# ---------------------------------------------------------------- distributions and their samples
@pytest.mark.parametrize(
    ("param", "check"),
    [
        ("{value: 7}", lambda v: v == 7),
        ("{values: [a, b, 3]}", lambda v: v in ("a", "b", 3)),
        ("{distribution: int_uniform, min: 1, max: 4}", lambda v: isinstance(v, int) and 1 <= v <= 4),
        ("{distribution: uniform, min: -1.5, max: 2.5}", lambda v: isinstance(v, float) and -1.5 <= v <= 2.5),
        ("{distribution: q_uniform, min: 0, max: 10, q: 2.5}", lambda v: v % 2.5 == 0 and 0 <= v <= 10),
        ("{distribution: log_uniform_values, min: 0.001, max: 0.1}", lambda v: 0.001 <= v <= 0.1),
        ("{distribution: q_log_uniform_values, min: 1, max: 1000, q: 5}", lambda v: v % 5 == 0 and 0 <= v <= 1000),
        ("{distribution: inv_log_uniform_values, min: 0.01, max: 10}", lambda v: 0.01 <= v <= 10),
        ("{distribution: normal, mu: 5, sigma: 0.1}", lambda v: isinstance(v, float) and 4 < v < 6),
        ("{distribution: q_normal, mu: 50, sigma: 10, q: 5}", lambda v: v % 5 == 0),
        ("{distribution: log_normal, mu: 0, sigma: 1}", lambda v: v > 0),
        ("{distribution: q_log_normal, mu: 3, sigma: 0.5, q: 2}", lambda v: v % 2 == 0 and v >= 0),
        ("{distribution: beta, a: 2, b: 5}", lambda v: 0 <= v <= 1),
        ("{distribution: q_beta, a: 2, b: 2, q: 0.25}", lambda v: v in (0, 0.25, 0.5, 0.75, 1.0)),
    ],
)
def test_every_wandb_distribution_samples_inside_its_range(param: str, check: Any) -> None:
    values = draws(param)
    bad = [v for v in values if not check(v)]
    assert not bad, bad[:5]


@pytest.mark.parametrize(
    ("param", "check"),
    [
        ("{distribution: log_uniform, min: -4.6, max: -2.3}", lambda v: math.exp(-4.6) <= v <= math.exp(-2.3)),
        ("{distribution: q_log_uniform, min: 0, max: 6.9, q: 1}", lambda v: float(v).is_integer() and 1 <= v <= 1000),
        ("{distribution: inv_log_uniform, min: 1, max: 3}", lambda v: math.exp(-3) <= v <= math.exp(-1)),
    ],
)
def test_exponent_distributions_are_refused_at_the_top_and_sampled_when_nested(param: str, check: Any) -> None:
    with pytest.raises(SpecError, match="where min/max specify base-e exponents"):
        wandb(f"{HEAD}method: random\nparameters:\n  p: {param}\n")
    spec = wandb(f"{HEAD}method: random\nparameters:\n  g:\n    parameters:\n      p: {param}\n")
    rng = random.Random(7)
    bad = [v for v in (spec.space.sample(rng)["g.p"] for _ in range(500)) if not check(v)]
    assert not bad, bad[:5]


def test_int_uniform_is_inclusive_and_beta_has_its_mean() -> None:
    assert set(draws("{distribution: int_uniform, min: 1, max: 4}")) == {1, 2, 3, 4}
    assert sum(draws("{distribution: beta, a: 2, b: 6}")) / 2000 == pytest.approx(0.25, abs=0.02)


def test_categorical_probabilities_are_followed() -> None:
    counts = Counter(draws("{values: [a, b, c], probabilities: [0.7, 0.2, 0.1]}", n=5000))
    assert counts["a"] / 5000 == pytest.approx(0.7, abs=0.03) and counts["c"] / 5000 == pytest.approx(0.1, abs=0.02)


# ---------------------------------------------------------------- inference and nesting
@pytest.mark.parametrize(
    ("param", "expected_type"),
    [("{values: [1, 2]}", "choice"), ("{min: 1, max: 8}", "int_uniform"), ("{min: 1, max: 8.0}", "uniform"),
     ("{min: 0.1, max: 1}", "uniform"), ("{value: adam}", "choice")],
)
def test_the_distribution_is_inferred_when_omitted(param: str, expected_type: str) -> None:
    spec = wandb(f"{HEAD}method: random\nparameters:\n  p: {param}\n")
    assert spec.space.expressions["p"].type == expected_type


def test_nested_parameters_reach_the_trial_as_nested_dicts() -> None:
    spec = wandb(HEAD + "method: random\nparameters:\n  optimizer:\n    parameters:\n      lr: {min: 0.1, max: 0.2}\n"
                        "      kind: {value: sgd}\n  epochs: {value: 3}\n")
    assert spec.space.names == ["optimizer.lr", "optimizer.kind", "epochs"]
    params = nest(spec.space.sample(random.Random(0)))
    assert params["optimizer"]["kind"] == "sgd" and 0.1 <= params["optimizer"]["lr"] <= 0.2 and params["epochs"] == 3


def test_goal_target_run_cap_and_methods() -> None:
    spec = wandb("program: t.py\nmethod: bayes\nmetric: {name: acc, goal: maximize, target: 0.99}\nrun_cap: 33\n"
                 "parameters: {p: {min: 0.0, max: 1.0}}\n")
    assert spec.sampling.method == "bayesian" and spec.metric.goal == "maximize" and spec.metric.target == 0.99
    assert spec.limits.max_total_runs == 33
    default_goal = wandb("program: t.py\nmethod: random\nmetric: {name: loss}\nparameters: {p: {value: 1}}\n")
    assert default_goal.metric.goal == "minimize" and default_goal.limits.max_duration_minutes == 10080


def test_a_wandb_metric_ranks_by_the_last_value_and_a_config_may_have_none() -> None:
    ranked = wandb(HEAD + "method: random\nparameters: {p: {value: 1}}\n")
    assert ranked.metric is not None and ranked.metric.summary == "last"  # W&B's run summary: the last logged value
    bare = wandb("program: t.py\nmethod: grid\nparameters: {p: {values: [1, 2]}}\n")
    assert bare.metric is None and bare.total_runs == 2


# ---------------------------------------------------------------- hyperband
def test_hyperband_from_min_iter_and_from_max_iter_with_s() -> None:
    by_min = create_policy(wandb(HEAD + "method: random\nparameters: {p: {value: 1}}\n"
                                 "early_terminate: {type: hyperband, min_iter: 3}\n"))
    assert isinstance(by_min, Hyperband) and by_min.bands[:3] == (3, 9, 27) and by_min.eta == 3
    by_max = create_policy(wandb(HEAD + "method: random\nparameters: {p: {value: 1}}\n"
                                 "early_terminate: {type: hyperband, max_iter: 27, s: 2, eta: 3, strict: true}\n"))
    assert isinstance(by_max, Hyperband) and by_max.bands == (3, 9) and by_max.strict
    assert by_min.strict  # W&B's schema fills strict: true


# ---------------------------------------------------------------- command and macros
def test_the_default_command_and_every_macro_expand(tmp_path: Path) -> None:
    macros = ["${env}", "${interpreter}", "${program}", "${args}", "${args_no_hyphens}", "${args_no_boolean_flags}",
              "${args_json}", "${args_json_file}", "--tag=${envvar:TAG}"]
    spec = wandb(GRID + "parameters: {lr: {value: 0.1}, amp: {value: true}, ema: {value: false}}\ncommand:\n"
                 + "".join(f"  - {m}\n" for m in macros))
    argv = expand(spec.trial, {"lr": 0.1, "amp": True, "ema": False}, tmp_path, {"TAG": "t1"})  # type: ignore[arg-type]
    assert argv[:3] == ["/usr/bin/env", sys.executable, "train.py"]
    assert argv[3:6] == ["--lr=0.1", "--amp=True", "--ema=False"]
    assert argv[6:9] == ["lr=0.1", "amp=True", "ema=False"]
    assert argv[9:11] == ["--lr=0.1", "--amp"]
    assert argv[11] == '{"lr": 0.1, "amp": true, "ema": false}' and Path(argv[12]).read_text() == argv[11]
    assert argv[13] == "--tag=t1"
    default = wandb(HEAD + "method: random\nparameters: {p: {value: 1}}\n")
    assert list(default.trial.command) == ["${env}", "${interpreter}", "${program}", "${args}"]  # type: ignore[union-attr]
    assert default.trial.wandb_shim  # type: ignore[union-attr]


# ---------------------------------------------------------------- grid
def test_grid_expands_int_uniform_inclusively_and_q_uniform_by_q() -> None:
    spec = wandb(GRID + "parameters:\n  n: {distribution: int_uniform, min: 1, max: 5}\n"
                 "  q: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n  c: {value: x}\n")
    assert spec.total_runs == 5 * 4  # W&B's numpy.arange(min, max, q): max is not a point
    assert sorted({p["q"] for p in spec.space.grid()}) == [0.0, 0.25, 0.5, 0.75]


def test_grid_counts_equal_values_once() -> None:
    spec = wandb(GRID + "parameters:\n  a: {values: [1, 1.0, 2]}\n  b: {values: ['1', true, 1]}\n")
    capped = wandb(GRID + "run_cap: 4\nparameters:\n  a: {values: [1, 2, 3]}\n  b: {values: [x, y]}\n")
    assert capped.total_runs == 4  # run_cap bounds a grid too
    assert spec.total_runs == 2 * 3


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (HEAD + "method: grid\nparameters: {lr: {min: 0.1, max: 0.2}}\n", "parameters.lr", "grid search needs constant"),
        (HEAD + "method: random\nparameters: {p: {value: 1}}\nearly_terminate: {type: hyperband, max_iter: 27}\n",
         "early_terminate", "max_iter needs s"),
        ("program: t.py\nmethod: random\nmetric: {name: loss, goal: lowest}\nrun_cap: 3\nparameters: {p: {value: 1}}\n",
         "metric.goal", "goal must be 'minimize' or 'maximize'"),
        (HEAD + "method: random\nparameters: {1st: {value: 1}}\n", "parameters.1st", "start with a letter"),
        (HEAD + "method: random\nparameters: {p: {values: [a, b], probabilities: [0.5, 0.6]}}\n", "parameters.p",
         "do not sum to 1"),
        (HEAD + "method: bogus\nparameters: {p: {value: 1}}\n", "method", "must be one of grid, random, bayes"),
        (HEAD + "method: random\nparameters: {p: {distribution: zipf, min: 1, max: 2}}\n", "parameters.p",
         "unknown distribution 'zipf'"),
    ],
)
def test_invalid_wandb_configs_are_refused_with_a_clear_reason(text: str, path: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        wandb(text)
    assert any(p.path.startswith(path) and message in p.message for p in info.value.problems), info.value.problems
