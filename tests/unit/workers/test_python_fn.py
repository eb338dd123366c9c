"""How a trial function's return value becomes the final metric."""

from __future__ import annotations

import pytest

from workers.reporting import split_step
from workers.runners.python_fn import interpret_result, load_callable


def test_a_number_is_the_final_metric() -> None:
    assert interpret_result(0.9, "accuracy", last=0.5) == (0.9, {})
    assert interpret_result(3, "accuracy", last=None) == (3.0, {})


def test_a_dict_gives_the_primary_metric_and_keeps_numeric_extras() -> None:
    assert interpret_result({"accuracy": 0.9, "loss": 0.2, "note": "x"}, "accuracy", last=0.5) == (0.9, {"loss": 0.2})


def test_none_or_a_dict_without_the_metric_falls_back_to_the_last_report() -> None:
    assert interpret_result(None, "accuracy", last=0.7) == (0.7, {})
    assert interpret_result({"loss": 0.2}, "accuracy", last=0.7) == (0.7, {"loss": 0.2})


def test_anything_else_is_refused() -> None:
    with pytest.raises(TypeError, match="not str"):
        interpret_result("0.9", "accuracy", last=None)


def test_load_callable_names_what_is_missing() -> None:
    assert load_callable("json:dumps")([1]) == "[1]"
    with pytest.raises(AttributeError, match="no callable 'nope'"):
        load_callable("json:nope")
    with pytest.raises(ModuleNotFoundError):
        load_callable("no_such_module_xyz:f")


def test_report_takes_step_from_step_epoch_or_iteration_and_checks_numbers() -> None:
    assert split_step({"accuracy": 0.9, "epoch": 3}) == ({"accuracy": 0.9}, 3)
    assert split_step({"loss": 1}) == ({"loss": 1.0}, None)
    with pytest.raises(TypeError, match="needs a number"):
        split_step({"loss": "high"})
    with pytest.raises(TypeError, match="needs a number"):
        split_step({"ok": True})
