"""A Python-function trial that uses HyperDrive's run context in process."""

from __future__ import annotations

from orchestrator.hyperdrive import Run


def train(x: float) -> None:
    run = Run.get_context()
    run.log("optimizer", "sgd")
    for step in range(2):
        run.log("score", x + step)
