"""The evaluator's incremental metrics table."""

from __future__ import annotations

import math

from orchestrator.metrics_table import MetricTable


def test_intervals_count_reports_of_the_primary_metric_only() -> None:
    t = MetricTable("acc")
    assert t.add(0, 1, {"acc": 0.5}) == 1
    assert t.add(0, 1, {"loss": 0.1}) is None
    assert t.add(0, 1, {"acc": 0.6, "loss": 0.1}) == 2
    assert t.view()[0].values == [0.5, 0.6]


def test_nan_reports_arrive_as_nan() -> None:
    t = MetricTable("acc")
    t.add(0, 1, {"acc": "nan"})
    assert math.isnan(t.view()[0].values[0])


def test_a_retried_trial_starts_a_new_curve_and_late_old_reports_are_ignored() -> None:
    t = MetricTable("acc")
    t.add(3, 1, {"acc": 0.1})
    t.add(3, 1, {"acc": 0.2})
    assert t.add(3, 2, {"acc": 0.9}) == 1
    assert t.add(3, 1, {"acc": 0.3}) is None
    assert t.view()[3].values == [0.9]


def test_a_stopped_curve_ends_at_its_stop_interval() -> None:
    t = MetricTable("acc")
    for v in (0.1, 0.2, 0.3):
        t.add(1, 1, {"acc": v})
    t.stop(1, 2)
    assert t.add(1, 1, {"acc": 0.4}) is None
    view = t.view()[1]
    assert view.values == [0.1, 0.2] and view.finished


def test_unfinished_is_the_trials_whose_current_attempt_has_not_ended() -> None:
    table = MetricTable("m")
    for trial in (0, 1, 2):
        table.add(trial, 1, {"m": 1.0})
    table.add(3, 1, {"other": 1.0})  # no value of the metric: no curve, nothing to finish
    table.finish(1)
    assert table.unfinished == {0, 2}
    table.add(1, 2, {"m": 0.5})  # a retry opens the trial again
    table.stop(0, 1)
    assert table.unfinished == {0, 1, 2}  # stopped is not ended: the run may still be reporting
    table.finish(0, 2)
    assert table.unfinished == {1}
