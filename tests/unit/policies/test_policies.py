"""Each policy on hand-computed tables, both goals, NaN as the worst value (DESIGN §4, HyperDrive's examples)."""

from __future__ import annotations

import math

import pytest

from orchestrator.policies import (
    Asha,
    Bandit,
    Curve,
    Hyperband,
    Median,
    NoTermination,
    OptunaPruner,
    Schedule,
    Truncation,
    bands,
    create_policy,
)
from orchestrator.spec import SweepSpec

NAN = math.nan


def table(*curves: list[float], finished: tuple[int, ...] = ()) -> dict[int, Curve]:
    return {i: Curve(c, i in finished) for i, c in enumerate(curves)}


# ---------------------------------------------------------------- schedule


def test_schedule_evaluates_multiples_of_the_interval_from_the_delay_on() -> None:
    s = Schedule(every=2, delay=3)
    assert [n for n in range(1, 10) if s.applies(n)] == [4, 6, 8]
    assert [n for n in range(0, 4) if Schedule().applies(n)] == [1, 2, 3]


# ---------------------------------------------------------------- bandit


def test_bandit_hyperdrive_example_best_08_slack_factor_02_stops_below_0667() -> None:
    policy = Bandit("maximize", slack_factor=0.2)
    stopped = policy.decide(table([0.5, 0.8], [0.6, 0.66]), trial=1, interval=2)
    assert stopped.stop and stopped.threshold == pytest.approx(0.8 / 1.2) and stopped.value == 0.66
    kept = policy.decide(table([0.5, 0.8], [0.6, 0.67]), trial=1, interval=2)
    assert not kept.stop


def test_bandit_slack_factor_01_keeps_runs_within_91_percent_of_the_best() -> None:
    policy = Bandit("maximize", slack_factor=0.1)
    decision = policy.decide(table([0.8], [0.72]), trial=1, interval=1)
    assert decision.threshold == pytest.approx(0.7273, abs=1e-4) and decision.threshold / 0.8 == pytest.approx(1 / 1.1)
    assert decision.stop
    assert not policy.decide(table([0.8], [0.73]), trial=1, interval=1).stop


def test_bandit_slack_amount_both_goals() -> None:
    maximize = Bandit("maximize", slack_amount=0.1)
    assert maximize.decide(table([0.9], [0.79]), 1, 1).stop
    assert not maximize.decide(table([0.9], [0.81]), 1, 1).stop
    minimize = Bandit("minimize", slack_amount=0.1)
    assert minimize.decide(table([0.2], [0.31]), 1, 1).stop
    assert not minimize.decide(table([0.2], [0.29]), 1, 1).stop


def test_bandit_minimize_with_slack_factor() -> None:
    policy = Bandit("minimize", slack_factor=0.5)
    decision = policy.decide(table([0.4, 0.2], [0.5, 0.35]), trial=1, interval=2)
    assert decision.threshold == pytest.approx(0.3) and decision.stop
    assert not policy.decide(table([0.4, 0.2], [0.5, 0.25]), trial=1, interval=2).stop


def test_bandit_compares_with_the_best_within_the_first_n_intervals_only() -> None:
    policy = Bandit("maximize", slack_factor=0.2)
    t = table([0.5, 0.6, 0.9], [0.5, 0.55])
    decision = policy.decide(t, trial=1, interval=2)
    assert decision.threshold == pytest.approx(0.6 / 1.2) and not decision.stop


def test_bandit_nan_reports_are_the_worst_and_never_the_reference() -> None:
    policy = Bandit("maximize", slack_factor=0.2)
    assert policy.decide(table([0.5], [NAN]), trial=1, interval=1).stop
    reference = policy.decide(table([NAN, NAN], [0.5, 0.5]), trial=1, interval=2)
    assert not reference.stop and reference.threshold == pytest.approx(0.5 / 1.2)
    assert Bandit("minimize", slack_factor=0.2).decide(table([0.5], [NAN]), 1, 1).stop


# ---------------------------------------------------------------- median


def test_median_of_running_averages_maximize() -> None:
    policy = Median("maximize")
    keep = policy.decide(table([0.2, 0.4], [0.6, 0.8], [0.3, 0.35]), trial=2, interval=2)
    assert keep.threshold == pytest.approx(0.325) and not keep.stop  # averages 0.3, 0.7, 0.325
    stop = policy.decide(table([0.2, 0.4], [0.6, 0.8], [0.1, 0.25]), trial=2, interval=2)
    assert stop.threshold == pytest.approx(0.3) and stop.stop  # best 0.25 < median 0.3
    equal = policy.decide(table([0.25, 0.75], [0.5, 1.0], [0.0, 0.5]), trial=2, interval=2)
    assert equal.threshold == 0.5 and not equal.stop  # averages 0.5, 0.75, 0.25: best 0.5 is not worse


def test_median_minimize_and_runs_short_of_n_are_left_out() -> None:
    policy = Median("minimize")
    t = table([0.8, 0.6], [0.4, 0.2], [0.9, 0.75], [0.01])
    decision = policy.decide(t, trial=2, interval=2)
    assert decision.threshold == pytest.approx(0.7) and decision.stop  # averages 0.7, 0.3, 0.825; 0.01 has 1 report
    assert not policy.decide(table([0.8, 0.6], [0.4, 0.2], [0.9, 0.65]), trial=2, interval=2).stop


def test_median_with_even_count_takes_the_mean_of_the_middle_two() -> None:
    decision = Median("maximize").decide(table([0.2], [0.4], [0.6], [0.8]), trial=1, interval=1)
    assert decision.threshold == pytest.approx(0.5) and decision.stop


def test_median_counts_a_nan_average_as_the_worst() -> None:
    decision = Median("maximize").decide(table([NAN, 0.9], [0.5, 0.5], [0.6, 0.6]), trial=1, interval=2)
    assert decision.threshold == pytest.approx(0.5) and not decision.stop


# ---------------------------------------------------------------- truncation


def test_truncation_stops_the_worst_x_percent_maximize() -> None:
    t = table([0.1], [0.2], [0.3], [0.4])
    policy = Truncation("maximize", truncation_percentage=50)
    assert [policy.decide(t, n, 1).stop for n in range(4)] == [True, True, False, False]
    assert policy.decide(t, 1, 1).threshold == pytest.approx(0.3)


def test_truncation_minimize_and_rounding_down() -> None:
    t = table([0.1], [0.2], [0.3], [0.4])
    policy = Truncation("minimize", truncation_percentage=30)  # floor(0.3 * 4) = 1
    assert [policy.decide(t, n, 1).stop for n in range(4)] == [False, False, False, True]
    assert not any(Truncation("minimize", 20).decide(t, n, 1).stop for n in range(4))  # floor(0.8) = 0


def test_truncation_ranks_by_best_within_n_and_only_runs_that_reached_n() -> None:
    t = table([0.9, 0.1], [0.5, 0.6], [0.2, 0.3], [0.99])
    policy = Truncation("maximize", truncation_percentage=34)  # three runs reached 2: floor(1.02) = 1
    assert [policy.decide(t, n, 2).stop for n in range(3)] == [False, False, True]


def test_truncation_can_exclude_finished_jobs() -> None:
    t = table([0.9], [0.8], [0.5], [0.4], finished=(0, 1))
    assert Truncation("maximize", 50).decide(t, 2, 1).stop  # with the finished: 0.5 is among the worst 2 of 4
    assert not Truncation("maximize", 50, exclude_finished_jobs=True).decide(t, 2, 1).stop  # worst 1 of 2 is 0.4
    assert Truncation("maximize", 50, exclude_finished_jobs=True).decide(t, 3, 1).stop


def test_truncation_ties_favour_the_run_being_judged() -> None:
    t = table([0.5], [0.5], [0.5], [0.5])
    assert not any(Truncation("maximize", 50).decide(t, n, 1).stop for n in range(4))


def test_truncation_nan_is_the_worst() -> None:
    t = table([0.1], [NAN], [0.3], [0.4])
    assert Truncation("maximize", 25).decide(t, 1, 1).stop
    assert not Truncation("maximize", 25).decide(t, 0, 1).stop


# ---------------------------------------------------------------- hyperband (W&B)


def test_wandb_bands() -> None:
    assert bands(None, 5, 2, 2) == [1, 2]
    assert bands(None, 81, 3, 3) == [3, 9, 27]
    assert bands(None, 10, 5, 3) == [1, 3]  # stops once a band would fall below 1
    assert bands(3, None, None, 3)[:4] == [3, 9, 27, 81]


def test_hyperband_matches_the_wandb_worked_example() -> None:
    t = table([10, 9], [10, 10], [10, 8, 8], [10, 7, 7], [10, 6, 6], finished=(0, 4))
    policy = Hyperband("minimize", tuple(bands(None, 5, 2, 2)), eta=2)
    b = policy.decide(t, 1, 2)
    assert b.stop and b.threshold == 8  # band 2 values 6,7,8,9,10 → index int(5/2) = 2
    assert not policy.decide(t, 2, 3).stop  # best so far 8 is not worse than 8
    assert not policy.decide(t, 3, 3).stop


def test_hyperband_strict_compares_the_value_at_the_band() -> None:
    t = table([10, 6], [10, 7], [5, 9], [10, 8])  # minimize; band 2 values 6, 7, 9, 8 → threshold index 2 = 8
    lenient = Hyperband("minimize", (2,), eta=2)
    strict = Hyperband("minimize", (2,), eta=2, strict=True)
    assert not lenient.decide(t, 2, 2).stop  # best so far is 5
    assert strict.decide(t, 2, 2).stop  # value at band 2 is 9 > 8


def test_hyperband_maximize_and_before_the_first_band() -> None:
    t = table([0.9, 0.95], [0.5, 0.6], [0.7, 0.8])
    policy = Hyperband("maximize", (2,), eta=3)
    assert not policy.applies(1) and policy.applies(2) and policy.applies(3)
    decision = policy.decide(t, 1, 2)  # values at 2: 0.95, 0.8, 0.6 → index int(3/3) = 1 → 0.8
    assert decision.threshold == pytest.approx(0.8) and decision.stop
    assert not policy.decide(t, 2, 2).stop


# ---------------------------------------------------------------- asha


def test_asha_rungs_and_top_fraction() -> None:
    policy = Asha("maximize", min_resource=1, reduction_factor=3)
    assert [n for n in range(1, 30) if policy.applies(n)] == [1, 3, 9, 27]
    t = table([0.5], [0.6], [0.7], [0.2])
    assert [policy.decide(t, n, 1).stop for n in range(4)] == [True, True, False, True]
    six = table([0.1], [0.2], [0.3], [0.4], [0.5], [0.6])  # keep floor(6/3) = 2
    assert [policy.decide(six, n, 1).stop for n in range(6)] == [True, True, True, True, False, False]


def test_asha_minimize_and_early_stopping_rate() -> None:
    policy = Asha("minimize", min_resource=2, reduction_factor=2, min_early_stopping_rate=1)
    assert [n for n in range(1, 20) if policy.applies(n)] == [4, 8, 16]
    t = table([1, 1, 1, 0.3], [1, 1, 1, 0.5], [1, 1, 1, NAN])
    assert [policy.decide(t, n, 4).stop for n in range(3)] == [False, True, True]


# ---------------------------------------------------------------- optuna adapter and none


def test_optuna_median_pruner_on_the_same_table() -> None:
    policy = OptunaPruner("maximize", "median", {"n_startup_trials": 0, "n_warmup_steps": 0})
    t = table([0.9, 0.9], [0.8, 0.8], [0.1, 0.1], finished=(0, 1))
    assert policy.decide(t, 2, 2).stop
    assert not policy.decide(table([0.9, 0.9], [0.8, 0.8], [0.95], finished=(0, 1)), 2, 1).stop


def test_optuna_threshold_and_patient_pruners() -> None:
    threshold = OptunaPruner("maximize", "threshold", {"lower": 0.5})
    assert threshold.decide(table([0.4]), 0, 1).stop and not threshold.decide(table([0.6]), 0, 1).stop
    patient = OptunaPruner("minimize", "patient", {"patience": 1})
    assert patient.decide(table([1.0, 0.9, 0.95, 0.97]), 0, 4).stop  # no improvement for 2 steps
    assert not patient.decide(table([1.0, 0.9, 0.8]), 0, 3).stop


def test_none_never_applies() -> None:
    assert not any(NoTermination().applies(n) for n in range(1, 100))


def test_registry_builds_each_policy_from_a_spec() -> None:
    base = {"name": "s", "trial": {"function": "m:f"}, "parameters": {"x": {"uniform": [0, 1]}},
            "metric": {"name": "acc", "goal": "minimize"}, "limits": {"max_total_runs": 3}}
    cases = {
        "bandit": ({"slack_amount": 0.1}, Bandit),
        "median": ({}, Median),
        "truncation": ({"truncation_percentage": 10}, Truncation),
        "hyperband": ({"min_iter": 2}, Hyperband),
        "asha": ({}, Asha),
        "optuna": ({"pruner": "wilcoxon"}, OptunaPruner),
        "none": ({}, NoTermination),
    }
    for name, (args, cls) in cases.items():
        spec = SweepSpec.model_validate({**base, "early_termination": {"policy": name, "delay_evaluation": 2, **args}})
        policy = create_policy(spec)
        assert isinstance(policy, cls)
        if name != "none":
            assert policy.goal == "minimize" and not policy.applies(1)
