"""What a `sweepq` command, a worker and a trial's own process import: neither Optuna nor SciPy (nor numpy), which
cost over a second per process; only the scheduler's samplers and a policy that wraps an Optuna pruner need them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("optuna", "scipy", "numpy")


@pytest.mark.parametrize(
    "module",
    ["orchestrator.cli", "orchestrator.hyperdrive", "orchestrator.wandb", "workers.app", "workers.tasks"],
)
def test_the_cli_workers_and_trial_apis_start_without_optuna_or_scipy(module: str) -> None:
    probe = f"import json, sys, {module}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []


def test_a_spec_still_gives_optuna_its_distributions_on_first_use() -> None:
    probe = (
        "import sys; from orchestrator.space import Uniform, LogUniform;"
        "assert 'optuna' not in sys.modules;"
        "u = Uniform(type='uniform', low=0, high=1).optuna().distribution;"
        "l = LogUniform(type='loguniform', low=-2, high=0).optuna().distribution;"
        "print(type(u).__module__, u.low, u.high, l.log)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["optuna.distributions", "0.0", "1.0", "True"]
