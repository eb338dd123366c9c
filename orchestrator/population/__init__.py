"""Population policies (pure), one per module, and the registry that builds one from a spec's `population` section.

How a sweep with a population runs (the adapters are the evaluator and the scheduler):
- the spec's sampler draws the first `size` members, which run at once (the sweep's concurrency is `size`);
- at each member's report that the policy considers, the evaluator decides from its metrics table (each live
  member's latest value); for an exploit it records the explored parameters and the donor's output directory in
  the sweep's population hash (keys.population) and stops the member by the ordinary stop flag;
- the scheduler starts the replacement as a new trial in the freed slot: it copies the donor's output directory
  at that moment into the new trial's (`<artifact_root>/<sweep>/trial-<n>`, so the donor keeps writing its own)
  and hands it over as `resume_from`; the trial record keeps its lineage (parent, step, parameters before and
  after), and `Sweep.best_trial()` returns the best member with the chain of its ancestors' parameters.

A spec section rather than a sampling method, because it composes with any sampler (which draws the first
members) and replaces early termination (see section.py). Cost: a considered report ranks the members still in the
table, O(members the sweep has had), which stays small for populations (size plus one per exploit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.population.base import Exploit, Goal, PopulationPolicy, rank
from orchestrator.population.pbt import Pbt, perturb
from orchestrator.population.section import PbtSection, refusal

POPULATIONS: dict[str, Callable[[Any, Goal], PopulationPolicy]] = {
    "pbt": lambda p, goal: Pbt(goal, p.perturbation_interval, p.quantile_fraction, p.resample_probability, p.seed),
}


def create_population(section: Any, goal: Goal) -> PopulationPolicy | None:
    """The policy of a spec's population section (None when the sweep has none)."""
    return None if section is None else POPULATIONS[section.policy](section, goal)


__all__ = [
    "POPULATIONS", "Exploit", "Pbt", "PbtSection", "PopulationPolicy", "create_population", "perturb", "rank", "refusal",
]
