"""Hostile specs and W&B configs: each is refused (SpecError, exit 2, no traceback) or accepted and usable.

A hypothesis-generated corpus of native specs and W&B sweep configs, with bounds that are null, lists, huge,
infinite or 400 digits long, q of 0 or 1e-9, odd methods, deep nesting and huge grids, goes through the loader
in-process; every document it accepts must give a sampler that draws a first trial storable as strict JSON.
A sample of the corpus, and the fault run's own cases (non-UTF-8 bytes, 5,000-deep nesting, alias bombs), go
through `sweepq validate` as a subprocess.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from orchestrator.loading import SpecError, load_spec
from orchestrator.samplers import create_sampler
from orchestrator.space import MAX_GRID_POINTS
from orchestrator.space_parse import POSITIONAL

SWEEPQ = str(Path(sys.executable).parent / "sweepq")
# Deterministic in CI; the deadline only catches a hang (the issue saw one spec never return).
CORPUS = settings(max_examples=300, deadline=timedelta(seconds=5), derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

EDGE_NUMBERS: list[Any] = [0, 1, -1, 2, 0.5, 1e-9, 1e-300, 5e-324, 700, 710, 1e11, 1e308, -1e308, 2**63, 10**400,
                           -(10**400), float("inf"), float("-inf"), float("nan")]
NUMBER = st.one_of(st.integers(-20, 20), st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from(EDGE_NUMBERS))
ODD = st.one_of(st.none(), st.booleans(), st.text(max_size=6), st.lists(st.integers(-3, 3), max_size=3),
                st.dictionaries(st.sampled_from(["a", "range", "type"]), st.integers(-3, 3), max_size=2))
VALUE = st.one_of(NUMBER, NUMBER, ODD)  # mostly numbers, sometimes anything
HOSTILE = st.recursive(VALUE, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                          max_size=3), max_leaves=6)
GOOD_NAME = st.sampled_from(["x", "lr", "y_2", "opt-kind", "_"])
BAD_NAME = st.sampled_from(["", "1x", "a.b", "x y"])


def _maybe(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Seven draws in eight from the good strategy: whole documents then come out valid often enough to test."""
    return st.sampled_from(range(8)).flatmap(lambda i: good if i < 7 else bad)


NAME = mostly(GOOD_NAME, BAD_NAME)


# ------------------------------------------------------------------ native specs

EXPR_KINDS = [*POSITIONAL, "int_uniform", "beta", "q_beta", "categorical", "bogus"]
TAG_FIELDS = ["values", "upper", "low", "high", "q", "mu", "sigma", "a", "b", "probabilities"]

SMALL = st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False)
WIDTH = st.integers(1, 10) | st.floats(0.1, 10)
Q = st.sampled_from([0.5, 1, 2, 1e-9, 1e-300])
good_expression = st.one_of(
    st.builds(lambda lo, w: {"uniform": [lo, lo + w]}, SMALL, WIDTH),
    st.builds(lambda lo, w, q: {"quniform": [lo, lo + w, q]}, SMALL, WIDTH, Q),
    st.builds(lambda lo, w: f"loguniform({lo}, {lo + w})", SMALL, WIDTH),
    st.builds(lambda lo, w, q: {"qloguniform": [lo, lo + w, q]}, SMALL, WIDTH, Q),
    st.builds(lambda kind, mu, sigma: {kind: [mu, sigma]}, st.sampled_from(["normal", "lognormal"]), SMALL, WIDTH),
    st.builds(lambda kind, mu, sigma, q: {kind: [mu, sigma, q]}, st.sampled_from(["qnormal", "qlognormal"]), SMALL,
              WIDTH, Q),
    st.builds(lambda values: {"choice": values}, st.lists(st.integers(-5, 5) | st.text(max_size=3) | st.booleans(),
                                                          min_size=1, max_size=5)),
    st.builds(lambda n: f"randint({n})", st.integers(1, 100)),
    st.builds(lambda a, b: {"choice": {"range": [a, b]}}, st.integers(-5, 5), st.integers(-5, 10)),
    st.builds(lambda lo, w: {"type": "int_uniform", "low": lo, "high": lo + w}, st.integers(-5, 5), st.integers(0, 9)),
)
hostile_expression = st.one_of(
    st.builds(lambda k, args: {k: args}, st.sampled_from(list(POSITIONAL)), st.lists(VALUE, max_size=4) | VALUE),
    st.builds(lambda k, args: f"{k}({', '.join(repr(a) for a in args)})", st.sampled_from(EXPR_KINDS),
              st.lists(NUMBER, max_size=4)),
    st.builds(lambda bounds: {"choice": {"range": bounds}}, st.lists(VALUE, max_size=4)),
    st.builds(lambda bounds: f"choice(range({', '.join(repr(b) for b in bounds)}))", st.lists(NUMBER, max_size=3)),
    st.builds(lambda k, fields: {"type": k, **fields}, st.sampled_from(EXPR_KINDS),
              st.dictionaries(st.sampled_from(TAG_FIELDS), VALUE | st.lists(NUMBER, max_size=4), max_size=4)),
    st.builds(lambda values: {"choice": values}, st.lists(HOSTILE, max_size=5)),
    HOSTILE,
)
native_expression = mostly(good_expression, hostile_expression)
native_parameters = st.recursive(
    st.dictionaries(NAME, native_expression, min_size=1, max_size=4),
    lambda inner: st.dictionaries(NAME, native_expression | st.builds(lambda p: {"parameters": p}, inner),
                                  min_size=1, max_size=3),
    max_leaves=6,
)
METHODS = ["random", "grid", "bayesian", "sobol", "nsga2", "bayes", "GRID"]
POLICIES = ["bandit", "median", "truncation", "none", "hyperband", "asha", "optuna", "unknown"]
POLICY_FIELDS = ["evaluation_interval", "delay_evaluation", "slack_factor", "slack_amount", "truncation_percentage",
                 "min_iter", "max_iter", "eta", "s", "strict", "min_resource", "reduction_factor", "pruner"]
LIMIT_FIELDS = ["max_total_runs", "max_concurrent_runs", "max_duration_minutes", "trial_timeout_minutes", "max_retries",
                "max_consecutive_failures"]


@st.composite
def native_specs(draw: st.DrawFn) -> dict[str, Any]:
    good_sampling = st.builds(lambda m, extra: {"method": m, **extra}, st.sampled_from(METHODS[:5]),
                              _maybe({"seed": st.integers(0, 2**31)}))
    bad_sampling = st.builds(lambda m, extra: {"method": m, **extra}, st.sampled_from(METHODS) | VALUE,
                             _maybe({"seed": VALUE, "n_startup_trials": VALUE, "population_size": VALUE})) | HOSTILE
    doc: dict[str, Any] = {
        "name": draw(mostly(st.sampled_from(["s", "a sweep"]), VALUE)),
        "trial": draw(mostly(st.sampled_from([{"function": "examples.digits:train"},
                                              {"command": ["python", "train.py", "${args}"]}]), HOSTILE)),
        "parameters": draw(mostly(native_parameters, HOSTILE)),
        "sampling": draw(mostly(good_sampling, bad_sampling)),
        "limits": draw(mostly(st.builds(lambda n: {"max_total_runs": n}, st.integers(1, 50)),
                              st.dictionaries(st.sampled_from(LIMIT_FIELDS), VALUE, max_size=3) | HOSTILE)),
    }
    good_policy = st.sampled_from([{"policy": "none"}, {"policy": "median"}, {"policy": "bandit", "slack_factor": 0.1}])
    bad_policy = st.builds(lambda p, extra: {"policy": p, **extra}, st.sampled_from(POLICIES) | VALUE,
                           st.dictionaries(st.sampled_from(POLICY_FIELDS), VALUE, max_size=3)) | HOSTILE
    doc.update(draw(_maybe({
        "metric": mostly(st.fixed_dictionaries({"name": st.just("loss"), "goal": st.sampled_from(["minimize", "max"])}),
                         st.fixed_dictionaries({"name": VALUE, "goal": st.just("up") | VALUE}) | HOSTILE),
        "early_termination": mostly(good_policy, bad_policy),
        "resources": mostly(st.just({"queue": "cpu"}), _maybe({"queue": VALUE, "gpus_per_trial": VALUE})),
        "description": mostly(st.text(max_size=20), VALUE),
    })))
    return doc


# ------------------------------------------------------------------ W&B sweep configs

W_DISTRIBUTIONS = ["constant", "categorical", "int_uniform", "uniform", "q_uniform", "log_uniform_values",
                   "q_log_uniform_values", "inv_log_uniform_values", "normal", "q_normal", "log_normal", "q_log_normal",
                   "beta", "q_beta", "log_uniform", "bogus"]
W_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "distribution": st.sampled_from(W_DISTRIBUTIONS) | VALUE, "min": VALUE, "max": VALUE, "q": VALUE, "mu": VALUE,
    "sigma": VALUE, "a": VALUE, "b": VALUE, "value": HOSTILE, "values": st.lists(HOSTILE, max_size=4) | VALUE,
    "probabilities": st.lists(NUMBER, max_size=4) | VALUE,
}
good_wandb_parameter = st.one_of(
    st.builds(lambda values: {"values": values}, st.lists(st.integers(-5, 5) | st.text(max_size=3), min_size=1,
                                                          max_size=4)),
    st.builds(lambda value: {"value": value}, st.integers(-5, 5) | st.text(max_size=3)),
    st.builds(lambda lo, w: {"min": lo, "max": lo + w}, st.integers(-5, 5), st.integers(1, 9)),
    st.builds(lambda lo, w: {"min": lo, "max": lo + w}, SMALL, WIDTH),
    st.builds(lambda d, lo, w: {"distribution": d, "min": lo, "max": lo + w},
              st.sampled_from(["uniform", "log_uniform", "int_uniform"]), st.integers(-5, 5), st.integers(1, 9)),
    st.builds(lambda d, lo, w: {"distribution": d, "min": lo, "max": lo + w},
              st.sampled_from(["log_uniform_values", "inv_log_uniform_values"]), st.floats(0.001, 1), WIDTH),
    st.builds(lambda lo, w, q: {"distribution": "q_uniform", "min": lo, "max": lo + w, "q": q}, st.integers(-5, 5),
              st.integers(1, 9), st.sampled_from([0.5, 1, 2, 1e-9])),
    st.builds(lambda d, mu, sigma: {"distribution": d, "mu": mu, "sigma": sigma},
              st.sampled_from(["normal", "log_normal", "q_normal", "q_log_normal"]), SMALL, WIDTH),
    st.builds(lambda d, a, b: {"distribution": d, "a": a, "b": b}, st.sampled_from(["beta", "q_beta"]), WIDTH, WIDTH),
)
wandb_parameter = mostly(good_wandb_parameter, _maybe(W_FIELDS))
wandb_parameters = st.recursive(
    st.dictionaries(NAME, wandb_parameter, min_size=1, max_size=4),
    lambda inner: st.dictionaries(NAME, wandb_parameter | st.builds(lambda p: {"parameters": p}, inner),
                                  min_size=1, max_size=3),
    max_leaves=6,
)


@st.composite
def wandb_configs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "method": draw(mostly(st.sampled_from(["grid", "random", "bayes"]), VALUE)),
        "parameters": draw(mostly(wandb_parameters, HOSTILE)),
        "metric": draw(mostly(st.fixed_dictionaries({"name": st.just("val_loss")},
                                                    optional={"goal": st.sampled_from(["minimize", "maximize"])}),
                              st.fixed_dictionaries({"name": VALUE}, optional={"goal": VALUE, "target": VALUE}))),
    }
    good_hyperband = st.builds(lambda n, eta: {"type": "hyperband", "min_iter": n, "eta": eta}, st.integers(1, 5),
                               st.integers(2, 4))
    bad_hyperband = _maybe({"type": st.just("hyperband") | VALUE, "min_iter": VALUE, "max_iter": VALUE,
                            "eta": VALUE, "s": VALUE, "strict": VALUE}) | HOSTILE
    doc.update(draw(_maybe({
        "early_terminate": mostly(good_hyperband, bad_hyperband),
        "run_cap": mostly(st.integers(1, 100), VALUE),
        "program": mostly(st.just("train.py"), VALUE),
        "command": mostly(st.just(["${env}", "${interpreter}", "${program}", "${args}"]), HOSTILE),
        "name": mostly(st.just("a sweep"), VALUE),
    })))
    return doc


# ------------------------------------------------------------------ the property

MEMORY_HEADROOM = 2 << 30  # a spec that tries to enumerate a billion values fails with MemoryError, not the machine


def _address_space() -> int:
    return int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()


@pytest.fixture(autouse=True)
def _bounded_memory() -> Iterator[None]:
    """Cap this process's address space while hostile specs load, so a runaway enumeration raises MemoryError."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + MEMORY_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def refused_or_usable(doc: dict[str, Any], dialect: str = "auto") -> str:
    """"refused" (with reasons) or "accepted" after proving the spec gives a storable first trial."""
    try:
        spec = load_spec(doc, dialect)
    except SpecError as exc:
        assert exc.problems and all(str(p.message).strip() for p in exc.problems), exc
        return "refused"
    json.dumps(spec.model_dump(mode="json"), allow_nan=False)  # the sweep's record is strict JSON
    sampler = create_sampler(spec.with_resolved_seed())
    first = sampler.ask(0)
    assert first is not None, "an accepted spec whose sampler has no first trial"
    assert set(first) == set(spec.space.names)
    json.dumps(first, allow_nan=False)  # the trial's parameters are strict JSON too
    if spec.sampling.method == "grid":
        assert spec.space.grid_size() <= MAX_GRID_POINTS
    return "accepted"


@CORPUS
@given(native_specs())
def test_native_specs_are_refused_or_usable(doc: dict[str, Any]) -> None:
    refused_or_usable(doc)


@CORPUS
@given(wandb_configs())
def test_wandb_configs_are_refused_or_usable(doc: dict[str, Any]) -> None:
    refused_or_usable(doc)
    refused_or_usable(doc, "wandb")


def corpus_example(strategy: st.SearchStrategy[dict[str, Any]], outcome: str) -> dict[str, Any]:
    """A (shrunk) document of the corpus with the given outcome; raises if the generator never yields one."""
    return find(strategy, lambda doc: refused_or_usable(doc) == outcome,
                settings=settings(max_examples=3000, derandomize=True, database=None))


@pytest.mark.parametrize("strategy", [native_specs(), wandb_configs()], ids=["native", "wandb"])
@pytest.mark.parametrize("outcome", ["refused", "accepted"])
def test_the_corpus_reaches_both_outcomes_and_the_cli_agrees(
    strategy: st.SearchStrategy[dict[str, Any]], outcome: str, tmp_path: Path
) -> None:
    """Each generator yields refusals and valid specs (a corpus that never accepts proves nothing), and
    `sweepq validate` gives the loader's verdict on them: exit 0, or exit 2 with no traceback."""
    doc = corpus_example(strategy, outcome)
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    out = validate(path)
    assert out.returncode == (0 if outcome == "accepted" else 2), (path.read_text()[:2000], out.stderr[-2000:])
    assert "Traceback" not in out.stdout + out.stderr


# ------------------------------------------------------------------ through the CLI

def _limit_child_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SWEEPQ, "validate", str(path)], capture_output=True, text=True, timeout=60, check=False,
                          preexec_fn=_limit_child_memory)


NATIVE = "name: s\ntrial: {function: 'examples.digits:train'}\nlimits: {max_total_runs: 3}\n"
FAULT_RUN_CASES: dict[str, tuple[bytes, str]] = {
    "latin-1": ((NATIVE + "description: caf\xe9\nparameters: {x: {uniform: [0, 1]}}\n").encode("latin-1"),
                "not UTF-8"),
    "deep-flow": ((NATIVE + "parameters: {x: {choice: " + "[" * 5000 + "]" * 5000 + "}}\n").encode(), "nest"),
    "deep-block": ((NATIVE + "parameters:\n" + "".join(" " * (i + 1) + f"g{i}:\n" for i in range(1200))
                    + " " * 1201 + "x: 1\n").encode(), "nest"),
    "too-big": ((NATIVE + "description: " + "x" * 1_100_000 + "\n").encode(), "larger than"),
    "alias-bomb": (("a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
        + NATIVE + "parameters: {x: {choice: *i}}\n").encode(), "values"),
    "range-null": ((NATIVE + "parameters: {x: {choice: {range: [null, 3]}}}\n").encode(), "parameters.x"),
    "range-list": ((NATIVE + "parameters: {x: {choice: {range: [[1], 3]}}}\n").encode(), "parameters.x"),
    "range-inf": ((NATIVE + "parameters: {x: {choice: {range: [0, .inf]}}}\n").encode(), "parameters.x"),
    "range-1e11": ((NATIVE + "parameters: {x: {choice: {range: [0, 100000000000]}}}\n").encode(), "parameters.x"),
    "method-list": ((NATIVE + "parameters: {x: {uniform: [0, 1]}}\nsampling: {method: [1]}\n").encode(), "sampling"),
    "q-0": ((NATIVE + "parameters: {x: {quniform: [0, 1, 0]}}\n").encode(), "parameters.x"),
    "400-digits": ((NATIVE + f"parameters: {{x: {{uniform: [0, {10**400}]}}}}\n").encode(), "parameters.x"),
    "huge-native-grid": ((NATIVE.replace("limits: {max_total_runs: 3}\n", "") + "sampling: {method: grid}\nparameters:\n"
                          + "".join(f"  p{i}: {{choice: {{range: [0, 100]}}}}\n" for i in range(8))).encode(), "grid"),
    "wandb-method-list": (b"method: [1]\nmetric: {name: loss, goal: minimize}\nparameters: {x: {values: [1, 2]}}\n",
                          "method"),
    "wandb-grid-q-1e-9": (b"method: grid\nmetric: {name: loss, goal: minimize}\n"
                          b"parameters: {x: {distribution: q_uniform, min: 0, max: 1, q: 1.0e-9}}\n", "parameters.x"),
    "wandb-grid-int-1e11": (b"method: grid\nmetric: {name: loss, goal: minimize}\n"
                            b"parameters: {x: {min: 0, max: 100000000000}}\n", "parameters.x"),
}


@pytest.mark.parametrize("case", sorted(FAULT_RUN_CASES))
def test_the_fault_runs_bad_specs_exit_2_with_the_field_and_no_traceback(case: str, tmp_path: Path) -> None:
    content, where = FAULT_RUN_CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    out = validate(path)
    assert out.returncode == 2, out.stdout[-1500:] + out.stderr[-1500:]
    assert "Traceback" not in out.stdout + out.stderr
    assert "invalid sweep spec" in out.stderr and where in out.stderr, out.stderr[-1500:]
