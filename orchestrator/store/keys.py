"""Every Redis key sweepq uses, in one place, under a configurable prefix and namespaced by sweep id.

Celery's own keys (queues, kombu bindings, results) are Celery's; everything else is named here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key names for one deployment (one prefix); pure string building, no connection."""

    prefix: str = "sweepq"

    @property
    def sweeps(self) -> str:
        """Sorted set of every sweep id, scored by creation time."""
        return f"{self.prefix}:sweeps"

    @property
    def inbox(self) -> str:
        """List of new-sweep announcements, which any scheduler may take (trial and control messages go to each
        sweep's own inbox; messages of older versions found here are forwarded there)."""
        return f"{self.prefix}:scheduler:inbox"

    def sweep_inbox(self, sweep_id: str) -> str:
        """List the sweep's leading scheduler blocks on: trial state changes, exploits, pause/stop/resume."""
        return f"{self.prefix}:sweep:{sweep_id}:inbox"

    def sweep_lead(self, sweep_id: str, role: str) -> str:
        """String with a TTL: which scheduler (or evaluator, by `role`) leads the sweep."""
        return f"{self.prefix}:sweep:{sweep_id}:lead:{role}"

    def members(self, role: str) -> str:
        """Sorted set of the live processes of a role, scored by when their registration runs out (ms)."""
        return f"{self.prefix}:{role}:members"

    @property
    def draining(self) -> str:
        """Set of ended sweeps whose last reports an evaluator has still to apply."""
        return f"{self.prefix}:sweeps:draining"

    @property
    def active(self) -> str:
        """Set of the unfinished sweeps (pending or running): what schedulers and evaluators share out."""
        return f"{self.prefix}:sweeps:active"

    def sweep(self, sweep_id: str) -> str:
        """Hash: spec, status, times and counters of one sweep (each field a JSON value)."""
        return f"{self.prefix}:sweep:{sweep_id}"

    def trial_numbers(self, sweep_id: str) -> str:
        """Sorted set of a sweep's trial numbers (score = number): the trials that exist."""
        return f"{self.prefix}:sweep:{sweep_id}:trials"

    def trial(self, sweep_id: str, number: int) -> str:
        """Hash: one trial's ledger record (each field a JSON value)."""
        return f"{self.prefix}:sweep:{sweep_id}:trial:{number}"

    def lease(self, sweep_id: str, number: int) -> str:
        """String with a TTL: which attempt/worker owns a running trial; its expiry means the worker is gone."""
        return f"{self.prefix}:sweep:{sweep_id}:lease:{number}"

    def stop(self, sweep_id: str, number: int) -> str:
        """String: set when a trial must stop; its value is the reason (stopped|canceled). Seen by report()."""
        return f"{self.prefix}:sweep:{sweep_id}:stop:{number}"

    def metrics(self, sweep_id: str) -> str:
        """Stream of every intermediate report of a sweep's trials (one stream per sweep)."""
        return f"{self.prefix}:sweep:{sweep_id}:metrics"

    def curve(self, sweep_id: str, number: int) -> str:
        """List: one trial's reports compacted out of the metric stream once the evaluator applied them (every
        attempt, in stream order; each element `id|attempt|seq|step|time|values JSON`)."""
        return f"{self.prefix}:sweep:{sweep_id}:curve:{number}"

    def decisions(self, sweep_id: str) -> str:
        """Hash of a sweep's early-termination decisions, one per trial:attempt:interval (JSON documents): every
        stop, and continues only when the evaluator runs with keep_continue_decisions."""
        return f"{self.prefix}:sweep:{sweep_id}:decisions"

    def continues(self, sweep_id: str) -> str:
        """String counter: a sweep's continue decisions that were counted, not listed in `decisions`."""
        return f"{self.prefix}:sweep:{sweep_id}:continues"

    def population(self, sweep_id: str) -> str:
        """Hash of a population sweep's exploits, one per victim:attempt:interval (JSON: donor, parameters before and
        after, the donor's output directory, and the member that replaced the victim once started)."""
        return f"{self.prefix}:sweep:{sweep_id}:population"

    def sweep_pattern(self, sweep_id: str) -> str:
        """Glob matching every key of one sweep (for deletion)."""
        return f"{self.prefix}:sweep:{sweep_id}*"
