"""Scheduling a population sweep (pure): replacements take freed slots first, do not spend max_total_runs, and
keep the sweep open until every recorded exploit has its member; the runtime rebuilds them from the ledger."""

from __future__ import annotations

from typing import Any

from orchestrator.runtime import SweepRuntime
from orchestrator.scheduling import FinishSweep, PendingExploit, StartMember, StartTrial, SweepSnapshot, TrialView, step
from tests.unit.test_scheduling import CountingSampler

SPEC = {
    "name": "p", "trial": {"function": "examples.pbt_digits:train"}, "parameters": {"lr": {"uniform": [0.0, 1.0]}},
    "metric": {"name": "accuracy", "goal": "maximize"},
    "population": {"policy": "pbt", "size": 3, "perturbation_interval": 2},
}


def snap(*trials: TrialView, **kw: Any) -> SweepSnapshot:
    base: dict[str, Any] = {"now": 1.0, "started": 0.0, "next_number": 3, "trials": trials, "max_total_runs": 3,
                            "max_concurrent_runs": 3}
    return SweepSnapshot(**{**base, **kw})


def test_a_pending_exploit_takes_the_freed_slot_before_any_sample() -> None:
    running = (TrialView(0, "running"), TrialView(1, "running"))
    commands = step(snap(*running, exploits=(PendingExploit("2:1:4", {"lr": 0.4}),)), CountingSampler())
    assert commands == [StartMember(3, {"lr": 0.4}, "2:1:4")]


def test_an_exploit_waits_while_the_population_is_full() -> None:
    running = tuple(TrialView(n, "running") for n in range(3))
    assert step(snap(*running, exploits=(PendingExploit("2:1:4", {"lr": 0.4}),)), CountingSampler()) == []


def test_replacements_do_not_spend_the_sampling_budget_and_the_sweep_waits_for_exploits() -> None:
    sampler = CountingSampler()
    # 3 sampled members and 2 replacements (numbers 0..4), one member running: no new sample
    assert step(snap(TrialView(4, "running"), next_number=5, replacements=2), sampler) == []
    # nothing flies but an exploit is pending: its member starts, the sweep does not end
    commands = step(snap(next_number=5, replacements=2, exploits=(PendingExploit("4:1:2", {"lr": 0.1}),)), sampler)
    assert commands == [StartMember(5, {"lr": 0.1}, "4:1:2")]
    ended = step(snap(next_number=6, replacements=3, population=True), sampler)
    assert ended == [FinishSweep("completed", "population finished")]
    assert sampler.asked == []


def test_the_initial_population_is_sampled_up_to_its_size() -> None:
    commands = step(snap(next_number=0), CountingSampler())
    assert commands == [StartTrial(0, {"n": 0}), StartTrial(1, {"n": 1}), StartTrial(2, {"n": 2})]


def test_runtime_counts_replacements_and_keeps_pending_exploits_in_time_order() -> None:
    records = [{"number": n, "status": "running", "params": {"lr": 0.5}} for n in range(3)]
    records.append({"number": 3, "status": "queued", "params": {"lr": 0.2}, "lineage": {"parent": 0, "replaces": 1}})
    rt = SweepRuntime.build("s", {"spec": SPEC, "next_number": 4}, records)
    assert rt.concurrency() == 3 and rt.total_runs == 3 and rt.replacements == 1
    rt.pend({"b": {"params_after": {"lr": 0.9}, "time": 2.0}, "a": {"params_after": {"lr": 0.8}, "time": 1.0},
             "c": {"params_after": {"lr": 0.7}, "time": 0.5, "member": 3}})
    s = rt.snapshot(now=5.0)
    assert [e.key for e in s.exploits] == ["a", "b"] and s.replacements == 1
    rt.pend({"a": {"params_after": {"lr": 0.8}, "member": 4}})  # carried out: no longer pending
    assert [e.key for e in rt.snapshot(now=5.0).exploits] == ["b"]
