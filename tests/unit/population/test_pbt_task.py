"""The PBT example's tasks (examples/pbt_digits.py): train, validation and test splits that do not overlap, and a
resumed model that trains with the learning rate it is given, not the one it was created with."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from examples.pbt_digits import fit_epoch, new_model, score, set_rates, splits


@pytest.mark.parametrize(("data", "n", "classes"), [("digits", 1797, 10), ("noisy", 20_000, 4)])
def test_splits_are_a_60_20_20_partition_with_every_class(data: str, n: int, classes: int) -> None:
    parts = splits(data)
    sizes = {k: len(y) for k, (_, y) in parts.items()}
    assert sum(sizes.values()) == n
    assert sizes["train"] == pytest.approx(0.6 * n, abs=1) and sizes["val"] == pytest.approx(0.2 * n, abs=1)
    assert all(len(np.unique(y)) == classes for _, y in parts.values())
    rows = {k: {tuple(row) for row in x} for k, (x, _) in parts.items()}
    assert not rows["train"] & rows["val"] and not rows["train"] & rows["test"] and not rows["val"] & rows["test"]


def test_fit_epoch_reports_validation_accuracy_and_a_copy_takes_its_own_learning_rate() -> None:
    model = new_model(0.1, 0.0, 8, 64, 0)
    assert fit_epoch(model) == score(model, "digits", "val")
    copy = pickle.loads(pickle.dumps(model))
    set_rates(copy, 0.0, 0.0)  # a zero learning rate: the copy's weights must not move
    before = [w.copy() for w in copy.coefs_]
    fit_epoch(copy)
    assert all(np.array_equal(a, b) for a, b in zip(before, copy.coefs_, strict=True))
