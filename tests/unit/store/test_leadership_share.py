"""The fair-share rule by which schedulers and evaluators split the sweeps (pure)."""

from __future__ import annotations

from orchestrator.store.leadership import share


def test_a_lone_process_claims_every_free_sweep() -> None:
    assert share(total=5, live=1, mine=0, free=["a", "b", "c", "d", "e"]).claim == ["a", "b", "c", "d", "e"]


def test_claims_stop_at_the_ceiling_of_the_fair_share() -> None:
    plan = share(total=7, live=3, mine=1, free=["a", "b", "c", "d"])
    assert plan.claim == ["a", "b"] and plan.give_back == 0  # ceil(7 / 3) = 3, one already held


def test_a_process_over_its_share_gives_one_back_and_claims_nothing() -> None:
    plan = share(total=6, live=3, mine=4, free=["a"])
    assert plan.claim == [] and plan.give_back == 1


def test_at_its_share_a_process_neither_claims_nor_gives_back() -> None:
    assert share(total=4, live=2, mine=2, free=["a"]) == share(total=4, live=2, mine=2, free=[])
    assert share(total=4, live=2, mine=2, free=["a"]).claim == []


def test_no_live_process_counted_yet_still_gives_a_share() -> None:
    assert share(total=2, live=0, mine=0, free=["a", "b"]).claim == ["a", "b"]
