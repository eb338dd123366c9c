"""The scheduler's pure decisions: a snapshot in, commands out (no Redis, no Celery)."""

from __future__ import annotations

from typing import Any

from orchestrator.scheduling import (
    BACKLOG,
    INBOX_PACE_SECONDS,
    CancelQueued,
    EndTrial,
    FinishSweep,
    RequestStop,
    RetryTrial,
    Revoke,
    StartTrial,
    SweepSnapshot,
    TrialView,
    error_line,
    inbox_pace,
    reached,
    step,
)


class CountingSampler:
    """Gives {"n": number} until `size` points were asked (None after: a grid that ran out)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size
        self.asked: list[int] = []

    def ask(self, number: int) -> dict[str, Any] | None:
        if self.size is not None and len(self.asked) >= self.size:
            return None
        self.asked.append(number)
        return {"n": number}

    def observe(self, record: Any) -> None:
        pass

    def remaining(self) -> int | None:
        return None if self.size is None else self.size - len(self.asked)


def snap(*trials: TrialView, **kw: Any) -> SweepSnapshot:
    base: dict[str, Any] = {"now": 100.0, "started": 0.0, "next_number": len(trials), "trials": trials,
                            "max_total_runs": 10, "max_concurrent_runs": 3}
    base.update(kw)
    return SweepSnapshot(**base)


def t(number: int, status: str, **kw: Any) -> TrialView:
    return TrialView(number=number, status=status, **kw)


def test_fills_free_slots_up_to_max_concurrent_runs() -> None:
    commands = step(snap(t(0, "running"), t(1, "completed")), CountingSampler())
    assert commands == [StartTrial(2, {"n": 2}), StartTrial(3, {"n": 3})]


def test_queued_trials_count_as_in_flight() -> None:
    assert step(snap(t(0, "queued"), t(1, "running"), t(2, "queued")), CountingSampler()) == []


def test_never_starts_more_than_max_total_runs() -> None:
    trials = [t(i, "completed") for i in range(9)]
    assert step(snap(*trials), CountingSampler()) == [StartTrial(9, {"n": 9})]


def test_completes_when_the_budget_is_spent_and_nothing_is_in_flight() -> None:
    trials = [t(i, "completed") for i in range(10)]
    assert step(snap(*trials), CountingSampler()) == [FinishSweep("completed", "max_total_runs reached")]


def test_waits_for_running_trials_before_completing() -> None:
    trials = [t(i, "completed") for i in range(9)] + [t(9, "running")]
    assert step(snap(*trials), CountingSampler()) == []


def test_an_exhausted_grid_completes_the_sweep() -> None:
    sampler = CountingSampler(size=2)
    sampler.asked = [0, 1]
    commands = step(snap(t(0, "completed"), t(1, "failed"), max_total_runs=None), sampler)
    assert commands == [FinishSweep("completed", "search space exhausted")]


def test_lost_lease_is_retried_while_retries_remain() -> None:
    commands = step(snap(t(0, "running", lease_alive=False, attempt=1), max_retries=1, max_total_runs=1), CountingSampler())
    assert commands == [RetryTrial(0, 2, "worker lost (lease expired); retrying")]


def test_lost_lease_fails_the_trial_when_retries_are_spent_and_frees_its_slot() -> None:
    commands = step(snap(t(0, "running", lease_alive=False, attempt=2), max_retries=1, max_concurrent_runs=1), CountingSampler())
    assert commands == [EndTrial(0, 2, "failed", "worker lost (lease expired)"), StartTrial(1, {"n": 1})]


def test_a_live_or_unchecked_lease_is_left_alone() -> None:
    commands = step(snap(t(0, "running", lease_alive=True), t(1, "running"), max_concurrent_runs=2), CountingSampler())
    assert commands == []


def test_lost_lease_after_a_stop_request_ends_with_the_requested_status() -> None:
    trial = t(0, "running", lease_alive=False, stop_reason="stopped", stop_requested_at=99.0)
    commands = step(snap(trial, max_concurrent_runs=1, max_total_runs=1), CountingSampler())
    assert commands == [EndTrial(0, 1, "stopped", "worker gone after a stop request"), FinishSweep("completed", "max_total_runs reached")]


def test_cancel_cancels_queued_and_stops_running_trials_then_finishes() -> None:
    commands = step(snap(t(0, "running"), t(1, "queued"), t(2, "completed"), cancel_requested=True), CountingSampler())
    assert commands == [CancelQueued((1,), "sweep ended before the trial started"), RequestStop((0,), "canceled")]
    done = step(snap(t(0, "canceled"), t(1, "canceled"), cancel_requested=True), CountingSampler())
    assert done == [FinishSweep("canceled", "canceled by user")]


def test_a_stop_ignored_for_the_grace_period_is_revoked_once() -> None:
    asked = t(0, "running", stop_reason="canceled", stop_requested_at=85.0)
    assert step(snap(asked, cancel_requested=True, stop_grace_seconds=10), CountingSampler()) == [Revoke((0,))]
    within = t(0, "running", stop_reason="canceled", stop_requested_at=95.0)
    assert step(snap(within, cancel_requested=True, stop_grace_seconds=10), CountingSampler()) == []
    revoked = t(0, "running", stop_reason="canceled", stop_requested_at=85.0, revoked=True)
    assert step(snap(revoked, cancel_requested=True, stop_grace_seconds=10), CountingSampler()) == []


def test_a_policy_stop_ignored_for_the_grace_period_is_revoked_while_the_sweep_runs() -> None:
    stopped = t(0, "running", stop_reason="stopped", stop_requested_at=50.0)
    commands = step(snap(stopped, max_concurrent_runs=1), CountingSampler())
    assert commands == [Revoke((0,))]


def test_max_duration_cancels_what_runs_and_starts_nothing() -> None:
    commands = step(snap(t(0, "running"), now=61.0, max_duration_seconds=60.0), CountingSampler())
    assert commands == [RequestStop((0,), "canceled")]
    assert step(snap(t(0, "canceled"), now=70.0, max_duration_seconds=60.0), CountingSampler()) == [
        FinishSweep("completed", "max_duration_minutes reached")
    ]


def test_the_metric_target_lets_running_trials_finish_but_starts_no_more() -> None:
    trials = (t(0, "completed", best=0.95), t(1, "running", best=0.5), t(2, "queued"))
    commands = step(snap(*trials, target=0.9), CountingSampler())
    assert commands == [CancelQueued((2,), "sweep ended before the trial started")]
    trials = (t(0, "completed", best=0.95), t(1, "completed", best=0.5), t(2, "canceled"))
    assert step(snap(*trials, target=0.9), CountingSampler()) == [FinishSweep("completed", "metric target reached")]


def test_target_follows_the_goal_and_ignores_nan() -> None:
    assert reached(0.9, 0.9, "maximize") and not reached(0.89, 0.9, "maximize")
    assert reached(0.1, 0.2, "minimize") and not reached(0.3, 0.2, "minimize")
    assert not reached(float("nan"), 0.5, "maximize") and not reached(None, 0.5, "maximize")
    assert not reached(1.0, None, "maximize")


def test_unbounded_budget_keeps_sampling() -> None:
    commands = step(snap(max_total_runs=None, max_concurrent_runs=2), CountingSampler())
    assert commands == [StartTrial(0, {"n": 0}), StartTrial(1, {"n": 1})]


def test_a_paused_sweep_starts_nothing_but_still_reaps_and_revokes() -> None:
    assert step(snap(t(0, "running"), paused=True), CountingSampler()) == []
    lost = t(0, "running", lease_alive=False)
    assert step(snap(lost, paused=True), CountingSampler()) == [EndTrial(0, 1, "failed", "worker lost (lease expired)")]
    assert step(snap(paused=True, max_total_runs=0), CountingSampler()) == []  # not even finishing while paused


def test_stop_lets_running_trials_finish_then_completes() -> None:
    commands = step(snap(t(0, "running"), t(1, "queued"), stop_requested=True), CountingSampler())
    assert commands == [CancelQueued((1,), "sweep ended before the trial started")]
    assert step(snap(t(0, "completed"), t(1, "canceled"), stop_requested=True), CountingSampler()) == [
        FinishSweep("completed", "stopped by user")
    ]


def test_a_policy_stop_ignored_while_the_sweep_winds_down_gently_is_still_revoked() -> None:
    stubborn = t(0, "running", stop_reason="stopped", stop_requested_at=50.0)
    assert step(snap(stubborn, stop_requested=True), CountingSampler()) == [Revoke((0,))]
    assert step(snap(stubborn, best_value=1.0, target=0.5), CountingSampler()) == [Revoke((0,))]


# -- outcomes: a sweep with no successful trial ends failed; trials failing in a row stop the sweep -------------

TRACEBACK = "Traceback (most recent call last):\n  File \"train.py\", line 3, in train\nValueError: bad lr 0.5"


def test_a_sweep_whose_every_trial_failed_ends_failed_quoting_the_first_errors() -> None:
    errors = ((0, TRACEBACK), (1, "exit code 2\nusage: train.py [-h]\ntrain.py: error: unrecognized --foo"))
    commands = step(snap(max_total_runs=3, next_number=3, failed=3, failure_errors=errors), CountingSampler())
    assert commands == [FinishSweep(
        "failed",
        "max_total_runs reached; no trial succeeded (3 failed); first errors: #0: ValueError: bad lr 0.5; "
        "#1: exit code 2: train.py: error: unrecognized --foo",
    )]


def test_one_success_among_failures_keeps_the_sweep_completed() -> None:
    commands = step(snap(max_total_runs=3, next_number=3, failed=2, succeeded=1, failure_errors=((0, "x"),)), CountingSampler())
    assert commands == [FinishSweep("completed", "max_total_runs reached")]


def test_a_canceled_sweep_stays_canceled_even_if_its_trials_failed() -> None:
    commands = step(snap(cancel_requested=True, failed=2, failure_errors=((0, "x"),)), CountingSampler())
    assert commands == [FinishSweep("canceled", "canceled by user")]


def test_stopping_or_running_out_of_time_with_only_failures_also_ends_failed() -> None:
    commands = step(snap(stop_requested=True, failed=1, failure_errors=((4, "boom"),)), CountingSampler())
    assert commands == [FinishSweep("failed", "stopped by user; no trial succeeded (1 failed); first errors: #4: boom")]


def test_a_sweep_that_never_started_a_trial_is_not_failed() -> None:
    assert step(snap(stop_requested=True), CountingSampler()) == [FinishSweep("completed", "stopped by user")]


def test_consecutive_failures_stop_scheduling_and_let_running_trials_finish() -> None:
    running = (t(7, "running"), t(8, "queued"))
    errors = ((3, "boom 3"), (4, "boom 4"), (5, "boom 5"))
    kw: dict[str, Any] = {"next_number": 9, "succeeded": 2, "failed": 5, "consecutive_failures": 5,
                          "max_consecutive_failures": 5, "failure_errors": errors}
    commands = step(snap(*running, **kw), CountingSampler())
    assert commands == [CancelQueued((8,), "sweep ended before the trial started")]  # nothing new starts
    done = step(snap(t(7, "failed"), **{**kw, "consecutive_failures": 6}), CountingSampler())
    assert done == [FinishSweep(
        "failed",
        "6 trials failed in a row (limits.max_consecutive_failures = 5); first errors: #3: boom 3; #4: boom 4; #5: boom 5",
    )]


def test_failures_below_the_limit_or_with_the_limit_off_keep_scheduling() -> None:
    below = step(snap(next_number=4, consecutive_failures=4, max_consecutive_failures=5, failed=4), CountingSampler())
    assert below == [StartTrial(4, {"n": 4}), StartTrial(5, {"n": 5}), StartTrial(6, {"n": 6})]
    off = step(snap(next_number=4, consecutive_failures=40, max_consecutive_failures=None, failed=40), CountingSampler())
    assert [type(c) for c in off] == [StartTrial] * 3


def test_error_lines_are_one_short_line() -> None:
    assert error_line(TRACEBACK) == "ValueError: bad lr 0.5"
    assert error_line("exit code 1") == "exit code 1"
    assert error_line("") == "failed (no error recorded)" and error_line(None) == "failed (no error recorded)"
    long = error_line("RuntimeError: " + "x" * 500)
    assert len(long) == 200 and long.endswith("…")


def test_the_inbox_is_paced_only_while_a_sweep_has_a_backlog_of_sent_trials() -> None:
    assert inbox_pace([]) == 0.0  # nothing led
    assert inbox_pace([0, 3]) == 0.0  # every trial end is answered at once: a free worker would wait otherwise
    assert inbox_pace([0, BACKLOG]) == INBOX_PACE_SECONDS > 0
