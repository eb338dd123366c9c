"""W&B's own engine (the `sweeps` package, pinned in tests/unit/dialects/oracle-requirements.txt) as the oracle:
the same configs accepted or refused, the same grid points, the same hyperband stops.

W&B accepts a config when its schema does (SweepConfig) and its engine can run it: next_run suggests a first run
and, with early_terminate, stop_runs can decide (bayes and hyperband need a metric there, a grid refuses
continuous parameters there)."""

from __future__ import annotations

import copy
import json
import math
import random
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from orchestrator.dialects.wandb import expression, from_wandb
from orchestrator.loading import SpecError, load_spec
from orchestrator.policies import Curve, Hyperband, create_policy
from orchestrator.samplers.base import TrialRecord
from orchestrator.samplers.grid import GridSampler
from orchestrator.space import Choice, SearchSpace
from orchestrator.spec import SweepSpec

warnings.filterwarnings("ignore", message="Valid config keys have changed in V2", category=UserWarning)
try:
    from sweeps import RunState, SweepConfig, SweepRun, next_run, next_runs, stop_runs  # type: ignore[import-untyped]
except ImportError:  # a missing oracle must fail loudly, never skip: these tests are the proof of W&B parity
    raise ImportError("W&B's engine is this test's oracle: pip install --no-deps -r tests/unit/dialects/oracle-requirements.txt "
                      "(its numpy<2 pin is why --no-deps)") from None

DATA = Path(__file__).parent / "data" / "wandb_hyperband_cases.json"
P = {"x": {"values": [1, 2]}}
MET = {"name": "loss", "goal": "minimize"}
HB = {"type": "hyperband", "min_iter": 3}


def cfg(**extra: Any) -> dict[str, Any]:
    """A config with a program (W&B's engine never reads it; the agent needs it), then the given keys."""
    return {"program": "train.py", "method": "random", "parameters": P, **extra}


def param(p: dict[str, Any], method: str = "random") -> dict[str, Any]:
    return cfg(method=method, metric=MET, parameters={"p": p})


def wandb_accepts(config: dict[str, Any]) -> bool:
    try:
        SweepConfig(copy.deepcopy(config))
        next_run(copy.deepcopy(config), [])  # validate=True would drop nested parameters (SweepConfig's filling does)
        if "early_terminate" in config:
            stop_runs(copy.deepcopy(config), [])
    except Exception:  # W&B raises jsonschema, Value, Key and Type errors alike: all are refusals
        return False
    return True


def sweepq_accepts(config: dict[str, Any]) -> bool:
    try:
        load_spec(copy.deepcopy(config))
    except SpecError:
        return False
    return True


ACCEPTED = {
    "random without metric": cfg(),
    "grid without metric": cfg(method="grid"),
    "bayes with metric": cfg(method="bayes", metric=MET),
    "every top-level key": cfg(name="n", description="d", entity="e", project="p", job="j", image_uri="u",
                               apiVersion="v1", kind="sweep", controller={"type": "local"}, run_cap=5),
    "controller cloud with more keys": cfg(controller={"type": "cloud", "extra": 1}),
    "run_cap integral float": cfg(run_cap=5.0),
    "metric with everything": cfg(metric={**MET, "target": 0.1, "impute": "best", "impute_while_running": "false"}),
    "metric goal defaults": cfg(metric={"name": "loss"}),
    "command without program": {"method": "random", "parameters": P, "command": ["python", "t.py", "${args}"]},
    "dotted and hyphenated names": cfg(parameters={"a.b": {"value": 1}, "learning-rate": {"values": [0.1]}}),
    "nested parameters": cfg(parameters={"opt": {"parameters": {"lr": {"min": 0.1, "max": 0.2}}}}),
    "nested exponent distribution": cfg(parameters={"g": {"parameters": {"p": {"distribution": "log_uniform",
                                                                               "min": -3, "max": -1}}}}),
    "hyperband min_iter": cfg(metric=MET, early_terminate=HB),
    "hyperband max_iter and s": cfg(metric=MET, early_terminate={"type": "hyperband", "max_iter": 27, "s": 2}),
    "hyperband integral float max_iter": cfg(metric=MET, early_terminate={"type": "hyperband", "max_iter": 27.0, "s": 2}),
    "hyperband everything": cfg(metric=MET, early_terminate={**HB, "eta": 2, "strict": False}),
    "hyperband both forms": cfg(metric=MET, early_terminate={**HB, "max_iter": 9, "s": 1}),
    "value": param({"value": 7}),
    "values": param({"values": [1, "a", None, {"k": 1}]}),
    "explicit constant": param({"value": 7, "distribution": "constant"}),
    "explicit categorical": param({"values": [1], "distribution": "categorical"}),
    "probabilities": param({"values": [1, 2], "probabilities": [0.25, 0.75]}),
    "explicit categorical_w_probabilities": param({"values": [1, 2], "probabilities": [0.5, 0.5],
                                                   "distribution": "categorical_w_probabilities"}),
    "inferred int_uniform": param({"min": 1, "max": 8}),
    "inferred uniform": param({"min": 1, "max": 8.0}),
    "uniform with int bounds": param({"distribution": "uniform", "min": 1, "max": 2}),
    "q_uniform": param({"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25}),
    "q_uniform default q": param({"distribution": "q_uniform", "min": 0, "max": 5}),
    "log_uniform_values": param({"distribution": "log_uniform_values", "min": 1e-4, "max": 0.1}),
    "inv_log_uniform_values": param({"distribution": "inv_log_uniform_values", "min": 0.01, "max": 10}),
    "q_log_uniform_values": param({"distribution": "q_log_uniform_values", "min": 1, "max": 1000, "q": 5}),
    "normal defaults": param({"distribution": "normal"}),
    "q_normal": param({"distribution": "q_normal", "mu": 5, "sigma": 2, "q": 0.5}),
    "log_normal": param({"distribution": "log_normal", "mu": 0, "sigma": 1}),
    "q_log_normal": param({"distribution": "q_log_normal", "mu": 1, "sigma": 0.5, "q": 2}),
    "beta": param({"distribution": "beta", "a": 2, "b": 5}),
    "q_beta": param({"distribution": "q_beta", "a": 2, "b": 2, "q": 0.25}),
    "grid int_uniform and q_uniform": param({"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5}, "grid"),
    "bayes categorical": param({"values": ["a", "b"]}, "bayes"),
}

REFUSED = {
    "no method": {"program": "t.py", "parameters": P},
    "method custom": cfg(method="custom"),
    "method unknown": cfg(method="bogus"),
    "unknown top-level key": cfg(imageUri="x"),
    "no parameters": {"program": "t.py", "method": "random"},
    "empty parameters": cfg(parameters={}),
    "misspelled distribution": param({"distrbution": "uniform", "min": 0, "max": 1}),
    "misspelled key beside values": param({"values": [1], "distrbution": "categorical"}),
    "value and values": param({"value": 1, "values": [1, 2]}),
    "q on uniform": param({"distribution": "uniform", "min": 0, "max": 1, "q": 0.1}),
    "probabilities in a grid": param({"values": [1, 2], "probabilities": [0.5, 0.5]}, "grid"),
    "q zero": param({"distribution": "q_uniform", "min": 0, "max": 1, "q": 0}),
    "q negative": param({"distribution": "q_normal", "q": -1}),
    "int_uniform min equals max": param({"distribution": "int_uniform", "min": 3, "max": 3}),
    "int_uniform min above max": param({"min": 4, "max": 3}),
    "int_uniform float bounds": param({"distribution": "int_uniform", "min": 1.0, "max": 3}),
    "uniform min equals max": param({"min": 1.0, "max": 1.0}),
    "log_uniform_values min zero": param({"distribution": "log_uniform_values", "min": 0, "max": 1}),
    "top-level log_uniform": param({"distribution": "log_uniform", "min": -3, "max": -1}),
    "top-level inv_log_uniform": param({"distribution": "inv_log_uniform", "min": 1, "max": 3}),
    "top-level q_log_uniform": param({"distribution": "q_log_uniform", "min": 0, "max": 3, "q": 1}),
    "unknown distribution": param({"distribution": "zipf", "min": 1, "max": 2}),
    "empty values": param({"values": []}),
    "values not a list": param({"values": 3}),
    "probabilities of another length": param({"values": [1, 2], "probabilities": [1.0]}),
    "probabilities not summing to 1": param({"values": [1, 2], "probabilities": [0.5, 0.6]}),
    "negative probability": param({"values": [1, 2], "probabilities": [-0.5, 1.5]}),
    "categorical with probabilities": param({"values": [1, 2], "probabilities": [0.5, 0.5], "distribution": "categorical"}),
    "q without a distribution": param({"min": 0, "max": 10, "q": 2}),
    "string bounds": param({"min": "0", "max": 1}),
    "negative sigma": param({"distribution": "normal", "sigma": -1}),
    "grid with uniform": param({"min": 0.0, "max": 1.0}, "grid"),
    "grid with normal": param({"distribution": "normal"}, "grid"),
    "nested group with another key": cfg(parameters={"g": {"parameters": {"a": {"value": 1}}, "value": 2}}),
    "nested misspelling": cfg(parameters={"g": {"parameters": {"a": {"valeus": [1]}}}}),
    "name starting with a digit": cfg(parameters={"1st": {"value": 1}}),
    "name with a space": cfg(parameters={"a b": {"value": 1}}),
    "run_cap zero": cfg(run_cap=0),
    "run_cap negative": cfg(run_cap=-2),
    "run_cap fractional": cfg(run_cap=1.5),
    "run_cap string": cfg(run_cap="5"),
    "run_cap bool": cfg(run_cap=True),
    "controller type other": cfg(controller={"type": "remote"}),
    "controller without type": cfg(controller={}),
    "controller a string": cfg(controller="local"),
    "kind other": cfg(kind="job"),
    "name not a string": cfg(name=3),
    "command not a list": cfg(command="python t.py"),
    "bayes without metric": cfg(method="bayes"),
    "early_terminate without metric": cfg(early_terminate=HB),
    "metric unknown key": cfg(metric={**MET, "summary": "last"}),
    "metric without name": cfg(metric={"goal": "minimize"}),
    "metric goal other": cfg(metric={"name": "loss", "goal": "lowest"}),
    "metric target string": cfg(metric={**MET, "target": "high"}),
    "metric impute other": cfg(metric={**MET, "impute": "zero"}),
    "metric not a mapping": cfg(metric="loss"),
    "early_terminate a string": cfg(metric=MET, early_terminate="hyperband"),
    "early_terminate other type": cfg(metric=MET, early_terminate={"type": "envelope", "min_iter": 3}),
    "early_terminate unknown key": cfg(metric=MET, early_terminate={**HB, "max_iters": 9}),
    "early_terminate strict string": cfg(metric=MET, early_terminate={**HB, "strict": "yes"}),
    "early_terminate eta 1": cfg(metric=MET, early_terminate={**HB, "eta": 1}),
    "early_terminate min_iter 0": cfg(metric=MET, early_terminate={"type": "hyperband", "min_iter": 0}),
    "early_terminate max_iter without s": cfg(metric=MET, early_terminate={"type": "hyperband", "max_iter": 27}),
    "early_terminate max_iter without s beside min_iter": cfg(metric=MET, early_terminate={**HB, "max_iter": 27}),
    "early_terminate without iters": cfg(metric=MET, early_terminate={"type": "hyperband", "eta": 3}),
    "early_terminate without bands": cfg(metric=MET, early_terminate={"type": "hyperband", "max_iter": 2, "s": 1}),
    "early_terminate s zero": cfg(metric=MET, early_terminate={"type": "hyperband", "max_iter": 27, "s": 0}),
    "early_terminate fractional s": cfg(metric=MET, early_terminate={"type": "hyperband", "max_iter": 27, "s": 1.5}),
    "multi-objective metrics": cfg(metrics=[MET, {"name": "acc", "goal": "maximize"}]),
}

# W&B accepts these; sweepq refuses them on purpose (each test below says why and shows W&B's side).
DIVERGENT = {
    "no program with the default command": {"method": "random", "parameters": P},
    "sigma zero": param({"distribution": "normal", "sigma": 0}),
    "beta with a zero": param({"distribution": "beta", "a": 0, "b": 1}),
    "a Launch scheduler": cfg(scheduler={"engine": "wandb"}),
    "a dotted name beside the group it names": cfg(parameters={"a.b": {"value": 1}, "a": {"parameters": {"b": {"value": 2}}}}),
    "a name ending in a dot": cfg(parameters={"a.": {"value": 1}}),
    "a metric name with a space": cfg(metric={"name": "val loss"}),  # sweepq's metric names are report keys
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_configs_wandb_accepts_are_accepted(name: str) -> None:
    assert wandb_accepts(ACCEPTED[name]), "the corpus entry must be one W&B accepts"
    assert sweepq_accepts(ACCEPTED[name])


@pytest.mark.parametrize("name", list(REFUSED))
def test_configs_wandb_refuses_are_refused_with_a_path(name: str) -> None:
    assert not wandb_accepts(REFUSED[name]), "the corpus entry must be one W&B refuses"
    with pytest.raises(SpecError) as info:
        load_spec(copy.deepcopy(REFUSED[name]))
    assert info.value.problems and all(p.message for p in info.value.problems)


@pytest.mark.parametrize("name", list(DIVERGENT))
def test_documented_divergences_are_wandb_accepts_and_sweepq_refuses(name: str) -> None:
    assert wandb_accepts(DIVERGENT[name]) and not sweepq_accepts(DIVERGENT[name])


def test_wandb_samples_nan_where_sweepq_refuses_a_zero_scale() -> None:
    for p in ({"distribution": "normal", "sigma": 0}, {"distribution": "beta", "a": 0, "b": 1}):
        run = next_run(param(p), [])
        assert run is not None and math.isnan(run.config["p"]["value"])


def test_refusals_name_the_field() -> None:
    def paths(config: dict[str, Any]) -> list[str]:
        with pytest.raises(SpecError) as info:
            load_spec(config)
        return [p.path for p in info.value.problems]

    assert paths(REFUSED["no method"]) == ["method"]
    assert paths(REFUSED["misspelled distribution"]) == ["parameters.p.distrbution"]
    assert paths(REFUSED["q on uniform"]) == ["parameters.p.q"]
    assert paths(REFUSED["run_cap fractional"]) == ["run_cap"]
    assert paths(REFUSED["early_terminate strict string"]) == ["early_terminate.strict"]
    assert paths(REFUSED["metric unknown key"]) == ["metric.summary"]
    assert paths(REFUSED["controller type other"]) == ["controller.type"]
    with pytest.raises(SpecError, match="did you mean 'distribution'"):
        load_spec(copy.deepcopy(REFUSED["misspelled distribution"]))


# ---------------------------------------------------------------- grid points
def canon(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, canon(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(canon(x) for x in v)
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return (type(v).__name__, v)


def unwrap(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v["value"] for k, v in config.items()}


def dotted(params: dict[str, Any], point: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A W&B point ({group: {name: value}}) with sweepq's dotted names for nested parameters (their values kept)."""
    out: dict[str, Any] = {}
    for name, p in params.items():
        if "parameters" in p:
            out.update(dotted(p["parameters"], point[name], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = point[name]
    return out


def ours_spec(config: dict[str, Any]) -> SweepSpec:
    """What load_spec builds from a W&B config."""
    return SweepSpec.model_validate(from_wandb(config))


GRIDS: dict[str, dict[str, Any]] = {
    "int_uniform, q_uniform and a constant": {"n": {"min": 1, "max": 5}, "c": {"value": "x"},
                                              "q": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25}},
    "integer q_uniform": {"q": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 3}},
    "q_uniform default q": {"q": {"distribution": "q_uniform", "min": 0, "max": 5}},
    "q_uniform with float error": {"q": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.1}},
    "equal numbers": {"a": {"values": [1, 1.0, 2]}, "b": {"values": ["1", True, 1]}},
    "dicts in another key order": {"d": {"values": [{"x": 1, "y": 2}, {"y": 2, "x": 1}, {"x": 2}]}},
    "lists and None": {"l": {"values": [[1, 2], [1, 2], None, [2]]}},
    "nested and dotted": {"opt": {"parameters": {"lr": {"values": [0.1, 0.2]}, "m": {"value": 0.9}}},
                          "a.b": {"values": [1, 2]}, "k-v": {"min": 0, "max": 2}},
}


def wandb_grid(params: dict[str, Any]) -> list[dict[str, Any]]:
    config = {"method": "grid", "parameters": params}
    return [unwrap(r.config) for r in next_runs(config, [], n=10_000) if r is not None]


@pytest.mark.parametrize("name", list(GRIDS))
def test_grid_points_are_wandbs(name: str) -> None:
    ours = list(ours_spec(cfg(method="grid", parameters=GRIDS[name])).space.grid())
    theirs = [dotted(GRIDS[name], p) for p in wandb_grid(GRIDS[name])]
    assert Counter(repr(canon(p)) for p in ours) == Counter(repr(canon(p)) for p in theirs)
    assert len(ours) == len(theirs)


def test_a_nan_grid_value_is_one_point_like_wandb() -> None:
    params = {"f": {"values": [float("nan"), 1.5, float("nan")]}}
    ours = from_wandb(cfg(method="grid", parameters=params))["parameters"]["f"]["values"]
    theirs = [p["f"] for p in wandb_grid(params)]
    assert Counter(repr(canon(v)) for v in ours) == Counter(repr(canon(v)) for v in theirs) and len(ours) == 2


def test_grid_coverage_treats_nan_and_reordered_dicts_as_the_points_they_equal() -> None:
    params: dict[str, Any] = {"f": {"values": [float("nan"), 2.0]}, "d": {"values": [{"x": 1, "y": 2}]}}
    done = [{"f": float("nan"), "d": {"y": 2, "x": 1}}]  # a fresh NaN and the dict in another key order
    runs = [SweepRun(config={k: {"value": v} for k, v in p.items()}, state=RunState.finished) for p in done]
    theirs = next_runs({"method": "grid", "parameters": params}, runs, n=10)
    # the dialect's expressions straight into a space (the spec's own checks on NaN values are not the point here)
    sampler = GridSampler(SearchSpace({k: Choice(**expression(p, "categorical", grid=True)) for k, p in params.items()}))
    for i, p in enumerate(done):
        sampler.observe(TrialRecord(number=i, params={"f": p["f"], "d": p["d"]}, state="completed"))
    ours = []
    while (point := sampler.ask(0)) is not None:
        ours.append(point)
    assert [unwrap(r.config) for r in theirs if r is not None] == [{"d": {"x": 1, "y": 2}, "f": 2.0}]
    assert ours == [{"f": 2.0, "d": {"x": 1, "y": 2}}]


# ---------------------------------------------------------------- hyperband stops
def our_stops(config: dict[str, Any], histories: list[list[float]], running: list[bool]) -> list[int]:
    policy = create_policy(load_spec({"program": "t.py", **config}))
    assert isinstance(policy, Hyperband)
    table = {i: Curve(values=h, finished=not r) for i, (h, r) in enumerate(zip(histories, running, strict=True))}
    return [i for i, (h, r) in enumerate(zip(histories, running, strict=True))
            if r and policy.applies(len(h)) and policy.decide(table, i, len(h)).stop]


def _values(run: dict[str, Any], metric: str) -> list[float]:
    return [float(step[metric]) for step in run["history"] if metric in step]


def wandb_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(DATA.read_text())["cases"]
    return cases


@pytest.mark.parametrize("case", wandb_cases(), ids=lambda c: str(c["test"]))
def test_hyperband_stops_what_wandb_stops_on_its_own_test_data(case: dict[str, Any]) -> None:
    config, metric = case["config"], case["config"]["metric"]["name"]
    runs = [SweepRun(name=r["name"], state=r["state"], history=r["history"]) for r in case["runs"]]
    theirs = [runs.index(r) for r in stop_runs(copy.deepcopy(config), runs)]
    assert theirs == case["stopped"]  # the engine installed is the one the data was recorded from
    histories = [_values(r, metric) for r in case["runs"]]
    running = [r["state"] == "running" for r in case["runs"]]
    if any(math.isnan(v) for h in histories for v in h):
        # W&B drops non-numbers from a history, so a NaN report is no iteration there; in sweepq every report is
        # an interval and NaN counts as the worst value (DESIGN.md section 4). With the NaNs left out, the same.
        assert our_stops(config, histories, running) != theirs
        histories = [[v for v in h if not math.isnan(v)] for h in histories]
    assert our_stops(config, histories, running) == theirs


HYPERBAND_CONFIGS = [
    {"type": "hyperband", "min_iter": m, "eta": eta, **({} if strict is None else {"strict": strict})}
    for m in (1, 2, 3) for eta in (1.5, 2, 3) for strict in (None, True, False)
] + [{"type": "hyperband", "max_iter": mi, "s": s, "eta": eta} for mi in (9, 27, 30) for s in (1, 2, 3) for eta in (2, 3)]


@pytest.mark.parametrize("et", HYPERBAND_CONFIGS, ids=lambda et: json.dumps(et, sort_keys=True)[1:-1])
@pytest.mark.parametrize("goal", ["minimize", "maximize"])
def test_hyperband_stops_what_wandb_stops_on_random_curves(et: dict[str, Any], goal: str) -> None:
    rng = random.Random(json.dumps(et, sort_keys=True) + goal)
    config = {"method": "random", "metric": {"name": "m", "goal": goal}, "early_terminate": et, "parameters": P}
    for _ in range(20):
        n = rng.randint(1, 12)
        histories = [[round(rng.gauss(0, 1) - 0.05 * t, 2) for t in range(rng.randint(0, 30))] for _ in range(n)]
        running = [rng.random() < 0.7 for _ in range(n)]
        runs = [SweepRun(name=str(i), state=RunState.running if r else RunState.finished,
                         history=[{"m": v} for v in h]) for i, (h, r) in enumerate(zip(histories, running, strict=True))]
        theirs = [runs.index(r) for r in stop_runs(copy.deepcopy(config), runs)]
        assert our_stops(config, histories, running) == theirs, (histories, running)
