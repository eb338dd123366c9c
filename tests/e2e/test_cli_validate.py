"""`sweepq validate` as a user runs it: a summary and exit 0, or every problem with its path and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SWEEPQ = str(Path(sys.executable).parent / "sweepq")


def sweepq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SWEEPQ, *args], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_example_configs_validate(config: str) -> None:
    out = sweepq("validate", f"configs/{config}")
    assert out.returncode == 0, out.stderr
    assert "valid" in out.stdout and "parameters" in out.stdout and "early termination" in out.stdout


def test_grid_summary_gives_the_exact_number_of_points() -> None:
    out = sweepq("validate", "configs/digits-grid.yaml")
    assert out.returncode == 0
    assert any(line.split()[:2] == ["grid", "points"] and line.split()[-1] == "12" for line in out.stdout.splitlines())


def test_invalid_spec_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\n"
        "trial: {function: 'examples.digits:train'}\n"
        "parameters:\n  lr: {uniform: [1, 0.5]}\n  s: {normal: [0, -1]}\n"
        "sampling: {method: grid}\n"
        "metric: {name: acc, goal: maximize}\n"
        "early_termination: {policy: bandit, slack_factor: 0.1, slack_amount: 0.2}\n"
        "colour: red\n"
    )
    out = sweepq("validate", str(bad))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    for path in ("parameters.lr.uniform", "parameters.s.normal.sigma", "early_termination.bandit", "colour"):
        assert path in out.stderr


def test_missing_file_is_a_clear_error() -> None:
    out = sweepq("validate", "configs/does-not-exist.yaml")
    assert out.returncode == 2 and "no such file" in out.stderr and "Traceback" not in out.stderr


def test_help_is_useful() -> None:
    top = sweepq("--help")
    assert top.returncode == 0 and "validate" in top.stdout and "sweep" in top.stdout.lower()
    sub = sweepq("validate", "--help")
    assert sub.returncode == 0 and "exit" in sub.stdout.lower()
