"""The incremental policies decide exactly as the pure ones (the reference) on the same table, at every due report.

Hypothesis drives a metrics table as the evaluator does: reports of several trials interleaved, retried attempts
(a new curve), late reports of an old attempt, stops (the curve ends there), finished runs, warm-start curves of
an earlier sweep (finished, negative numbers), NaN and infinities, huge values, both goals, evaluation_interval
and delay_evaluation. At every report where a policy applies, the decision read from the index must equal the
pure policy's decision on `table.view()`: stop or continue, the value, the threshold and the reason. (Among
equal values a zero's sign may come from either run, so "-0" reads as "0" when comparing.)
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.metrics_table import MetricTable
from orchestrator.policies import (
    Asha,
    Bandit,
    Decision,
    Goal,
    Hyperband,
    Median,
    OptunaPruner,
    Policy,
    Schedule,
    Truncation,
    bands,
)
from orchestrator.policies.incremental import INCREMENTAL, decide

GOALS: tuple[Goal, ...] = ("maximize", "minimize")

values = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 0.5, 1.0, 1e308, -1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-3, 3).map(float),  # ties
)
schedules = st.builds(Schedule, st.integers(1, 3), st.integers(0, 4))


@st.composite
def policies(draw: st.DrawFn, goal: Goal) -> Policy:
    schedule = draw(schedules)
    kind = draw(st.sampled_from(["bandit", "median", "truncation", "asha", "hyperband"]))
    if kind == "bandit":
        if draw(st.booleans()):
            return Bandit(goal, slack_factor=draw(st.floats(0, 2)), schedule=schedule)
        return Bandit(goal, slack_amount=draw(st.floats(0, 2)), schedule=schedule)
    if kind == "median":
        return Median(goal, schedule)
    if kind == "truncation":
        return Truncation(goal, draw(st.integers(1, 99)), draw(st.booleans()), schedule)
    if kind == "asha":
        rf = draw(st.sampled_from([2, 3, 1.5, 4]))
        return Asha(goal, draw(st.integers(1, 3)), rf, draw(st.integers(0, 2)), schedule)
    eta = draw(st.sampled_from([2.0, 3.0, 1.5]))
    if draw(st.booleans()):
        found = bands(None, draw(st.integers(2, 12)), draw(st.integers(1, 4)), eta)
    else:
        found = bands(draw(st.integers(1, 3)), None, None, eta)
    return Hyperband(goal, tuple(found), eta, draw(st.booleans()), schedule)


# one step of the evaluator's input: a report (trial, retry?, value), a trial that ended, or a replayed stop
steps = st.one_of(
    st.tuples(st.just("report"), st.integers(0, 7), st.booleans(), values),
    st.tuples(st.just("report"), st.integers(0, 7), st.just(False), values),
    st.tuples(st.just("late"), st.integers(0, 7), st.just(False), values),
    st.tuples(st.just("finish"), st.integers(0, 7), st.just(False), st.just(0.0)),
    st.tuples(st.just("stop"), st.integers(0, 7), st.just(False), st.integers(0, 6).map(float)),
)


def unsigned_zero(reason: str) -> str:
    return re.sub(r"(?<![\d.e])-0(?![\d.e])", "0", reason)


def same(incremental: Decision, pure: Decision) -> bool:
    return replace(incremental, reason=unsigned_zero(incremental.reason)) == replace(pure, reason=unsigned_zero(pure.reason))


def warm(table: MetricTable, curves: list[list[float]]) -> None:
    """An earlier sweep's curves, as the evaluator's _warm adds them: trials -1, -2, ..., all finished."""
    for i, curve in enumerate(curves):
        for v in curve:
            table.add(-1 - i, 1, {"m": v})
    table.finish(*range(-1, -1 - len(curves), -1))


def check_all(table: MetricTable, judged: list[Policy], trial: int, interval: int) -> Decision | None:
    """Every policy's incremental decision equals its pure one; returns the first (driving) policy's."""
    first = None
    for policy in judged:
        if not policy.applies(interval):
            continue
        pure = policy.decide(table.view(), trial, interval)
        mine = decide(policy, table.index, trial, interval)
        assert same(mine, pure), (policy, mine, pure, table.view())
        first = first if first is not None or policy is not judged[0] else mine
    return first


def drive(table: MetricTable, judged: list[Policy], script: list[tuple[str, int, bool, float]]) -> int:
    """Feed the script to the table as the evaluator does (the first policy's stops are applied); returns how
    many decisions were compared."""
    attempts: dict[int, int] = {}
    compared = 0
    for op, trial, retry, x in script:
        if op == "finish":
            table.finish(trial)
            continue
        if op == "stop":
            length = len(table.curves.get(trial, ()))
            if length:
                table.stop(trial, max(1, min(int(x), length)))
            continue
        attempt = attempts.setdefault(trial, 1)
        if op == "late":
            attempt -= 1  # a report of an attempt that was since retried: ignored
        elif retry:
            attempt = attempts[trial] = attempt + 1
        interval = table.add(trial, attempt, {"m": x})
        if interval is None:
            continue
        compared += sum(p.applies(interval) for p in judged)
        decision = check_all(table, judged, trial, interval)
        if decision is not None and decision.stop:
            table.stop(trial, interval)
    return compared


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), goal=st.sampled_from(GOALS))
def test_every_incremental_decision_equals_the_pure_policy(data: st.DataObject, goal: Goal) -> None:
    judged = data.draw(st.lists(policies(goal), min_size=1, max_size=4), label="policies")
    table = MetricTable("m", goal)
    warm(table, data.draw(st.lists(st.lists(values, max_size=5), max_size=3), label="warm curves"))
    script = data.draw(st.lists(steps, max_size=60), label="script")
    drive(table, judged, script)
    # statistics asked for late (built from the curves so far) agree too, for every trial at every interval
    for trial, curve in list(table.curves.items()):
        if curve:
            check_all(table, judged, trial, len(curve))


ordinary = st.one_of(st.integers(-20, 20).map(lambda i: i / 4), st.just(math.nan))
long_steps = st.one_of(
    st.tuples(st.just("report"), st.integers(0, 15), st.just(False), ordinary),
    st.tuples(st.just("report"), st.integers(0, 15), st.booleans(), ordinary),
    st.tuples(st.just("finish"), st.integers(0, 15), st.just(False), st.just(0.0)),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), goal=st.sampled_from(GOALS))
def test_every_incremental_decision_equals_the_pure_policy_on_longer_sweeps(data: st.DataObject, goal: Goal) -> None:
    """The same property on more trials and reports (mostly reports, fewer special values), so rungs, bands and
    ranks hold many distinct values."""
    judged = data.draw(st.lists(policies(goal), min_size=1, max_size=5), label="policies")
    table = MetricTable("m", goal)
    drive(table, judged, data.draw(st.lists(long_steps, min_size=30, max_size=150), label="script"))


def test_a_run_of_the_property_compares_decisions() -> None:
    """The property above is not vacuous: a plain script makes many due decisions and some stops."""
    table = MetricTable("m", "maximize")
    judged: list[Policy] = [Median("maximize"), Truncation("maximize", 50, True), Bandit("maximize", 0.1)]
    script = [("report", t % 6, False, float((t * 7) % 5)) for t in range(60)]
    assert drive(table, judged, script) >= 100
    assert table.stopped_at


@pytest.mark.parametrize("goal", GOALS)
def test_the_index_follows_retries_stops_and_ends(goal: Goal) -> None:
    """Hand-checked statistics kept from the first report: a retry removes the old curve, a stop cuts it, an
    ended run leaves the open ranking."""
    table = MetricTable("m", goal)
    index = table.index
    index.values_at(1), index.bests_at(1), index.bests_at(1, open_only=True), index.averages_at(1)
    for v in (1.0, 3.0, 2.0):
        table.add(0, 1, {"m": v})
    table.add(1, 1, {"m": 5.0})
    table.add(1, 1, {"m": math.nan})
    assert list(index.values_at(1)) == [1.0, 5.0]
    assert list(index.bests_at(2)) == ([3.0, 5.0] if goal == "maximize" else [1.0, 5.0])
    averages = index.averages_at(2)  # of [1, 3] and [5, NaN]: 2 and the worst
    assert len(averages) == 2 and averages.median() == (-math.inf if goal == "maximize" else math.inf)
    assert index.best_within(1) == (5.0 if goal == "maximize" else 1.0)
    table.stop(0, 2)
    assert len(index.values_at(3)) == 0 and list(index.bests_at(2, open_only=True)) == [5.0]
    table.add(1, 2, {"m": 4.0})  # retried: the new curve replaces [5, nan]
    assert list(index.values_at(1)) == [1.0, 4.0] and list(index.values_at(2)) == [3.0]
    assert index.best_within(1) == (4.0 if goal == "maximize" else 1.0)
    assert len(index.averages_at(2)) == 1 and index.averages_at(1).median() == 2.5  # [1, 3] cut at 2; [4]
    table.finish(1)
    assert len(index.bests_at(1, open_only=True)) == 0 and len(index.bests_at(1)) == 2


@pytest.mark.parametrize("goal", GOALS)
def test_median_counts_an_average_of_both_infinities_as_the_worst(goal: Goal) -> None:
    """A curve of inf then NaN (NaN is -inf when maximizing) has no average: it counts as the worst, not a crash."""
    other = -math.inf if goal == "minimize" else math.inf
    table = MetricTable("m", goal)
    for trial, curve in enumerate([[other, math.nan], [1.0, 2.0], [0.0, 0.5]]):
        for v in curve:
            table.add(trial, 1, {"m": v})
    policy = Median(goal)
    pure = policy.decide(table.view(), 1, 2)
    assert pure == decide(policy, table.index, 1, 2)
    assert pure.threshold == (0.25 if goal == "maximize" else 1.5)  # the median of [worst, 1.5, 0.25]


def test_policies_without_an_incremental_version_are_given_the_table() -> None:
    """The optuna wrapper builds a study from the whole table per decision: it gets the same table as before."""
    table = MetricTable("m", "minimize")
    for trial in range(5):
        for step in range(1, 4):
            table.add(trial, 1, {"m": float(trial * step)})
    policy = OptunaPruner("minimize", "median", {"n_startup_trials": 0, "n_warmup_steps": 0})
    assert type(policy) not in INCREMENTAL
    assert decide(policy, table.index, 4, 3) == policy.decide(table.view(), 4, 3)


def test_finished_is_read_only_so_the_index_cannot_miss_an_end() -> None:
    table = MetricTable("m")
    table.add(0, 1, {"m": 1.0})
    table.finish(0)
    frozen: Any = table.finished
    with pytest.raises(AttributeError):
        frozen.add(1)
    assert table.finished == {0} and table.index.ended == {0}


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 50), st.sampled_from([-1.0, 0.0, 1.0, 2.5, math.inf, -math.inf])
                              | st.floats(allow_nan=False)), max_size=80))
def test_the_running_median_is_statistics_median_under_inserts_and_removals(ops: list[tuple[bool, int, float]]) -> None:
    """The median policy's running median (two heaps, lazy deletion) against statistics.median of a plain list."""
    import statistics

    from orchestrator.policies.incremental.ranks import RunningMedian

    running = RunningMedian()
    plain: list[float] = []
    for insert, pick, x in ops:
        if insert or not plain:
            running.add(x)
            plain.append(x)
        else:
            gone = plain.pop(pick % len(plain))
            running.remove(gone)
        assert len(running) == len(plain)
        if plain:
            want, got = statistics.median(plain), running.median()
            assert got == want or (math.isnan(got) and math.isnan(want))


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 50), st.integers(-5, 5).map(float)), max_size=80),
       divisor=st.integers(1, 4))
def test_the_rank_split_reads_the_value_at_its_rank(ops: list[tuple[bool, int, float]], divisor: int) -> None:
    """The split ASHA and hyperband read: the lower part's top is the value at ascending position low_size(n) - 1."""
    from orchestrator.policies.incremental.ranks import RunningRank

    ranked = RunningRank(lambda n: n // divisor + 1)
    plain: list[float] = []
    for insert, pick, x in ops:
        if insert or not plain:
            ranked.add(x)
            plain.append(x)
        else:
            ranked.remove(plain.pop(pick % len(plain)))
        if plain:
            assert ranked.low_top() == sorted(plain)[min(len(plain) // divisor + 1, len(plain)) - 1]
