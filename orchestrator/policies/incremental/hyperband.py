"""W&B's hyperband from the index: the threshold at a band is the top of a two-heap split of the values there.

hyperband.py is the reference; this reads the same numbers from the index and words the decision the same way.
"""

from __future__ import annotations

from orchestrator.policies.base import Decision, finite_or_none
from orchestrator.policies.hyperband import Hyperband
from orchestrator.policies.incremental.index import CurveIndex


def rank_of(policy: Hyperband, count: int) -> int:
    """The threshold's rank, best first, among `count` values: W&B's arithmetic, as in Hyperband.decide."""
    return int((1.0 / policy.eta) * count)


def decide(policy: Hyperband, index: CurveIndex, trial: int, interval: int) -> Decision:
    """Hyperband.decide on the indexed table, in O(log trials) (+ O(bands) to find the band)."""
    band = max(b for b in policy.bands if b <= interval)
    sign = 1.0 if policy.goal == "minimize" else -1.0  # W&B works in "lower is better"
    maximize = policy.goal == "maximize"
    values = index.ranked_at(
        f"hyperband/{policy.eta}", band, lambda n: n - rank_of(policy, n) if maximize else rank_of(policy, n) + 1
    )
    if rank_of(policy, len(values)) >= len(values):
        raise IndexError("hyperband threshold rank past the values at the band (eta <= 1)")
    threshold = sign * values.low_top()  # the value at ascending position rank (minimize) or n - 1 - rank (maximize)
    seen = min(interval, len(index.curves[trial]))
    mine = sign * (index.value(trial, band) if policy.strict else index.best(trial, seen))
    stop = mine > threshold
    kind = "value at band" if policy.strict else "best so far"
    verdict = "worse than" if stop else "within"
    reason = f"band {band}: {kind} {sign * mine:.6g} {verdict} the top 1/{policy.eta:g} threshold {sign * threshold:.6g}"
    return Decision(trial, interval, stop, finite_or_none(sign * mine), finite_or_none(sign * threshold), reason)
