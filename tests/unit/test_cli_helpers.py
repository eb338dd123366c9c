"""Pure helpers of the CLI: GPU slots for `sweepq worker --gpus`."""

from __future__ import annotations

import pytest
import typer

from orchestrator.cli_processes import gpu_slot_list


def test_gpus_become_one_slot_each_or_groups() -> None:
    assert gpu_slot_list("0,1,2,3", 1) == ["0", "1", "2", "3"]
    assert gpu_slot_list("0, 1,2,3", 2) == ["0,1", "2,3"]


def test_gpus_that_do_not_divide_into_slots_are_refused() -> None:
    with pytest.raises(typer.BadParameter, match="cannot be split"):
        gpu_slot_list("0,1,2", 2)
    with pytest.raises(typer.BadParameter):
        gpu_slot_list("", 1)
