"""Per-trial working directories on a real filesystem: an overlay of the source, each with its own ./outputs."""

from __future__ import annotations

from pathlib import Path

from orchestrator.hyperdrive.files import own_files
from workers.runners import workdir


def test_each_trial_overlays_the_source_and_owns_its_outputs(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "data").mkdir(parents=True)
    (source / "train.py").write_text("print('hi')\n")
    (source / "data" / "x.csv").write_text("1\n")
    (source / "outputs").mkdir()
    (source / "outputs" / "stale.pkl").write_text("old")  # the source's own outputs are not the trial's
    trials = [workdir.prepare(tmp_path / f"trial-{n}", source) for n in (0, 1)]
    for n, cwd in enumerate(trials):
        assert (cwd / "train.py").read_text() == "print('hi')\n" and (cwd / "data" / "x.csv").is_file()
        assert (cwd / "outputs").is_dir() and not (cwd / "outputs").is_symlink()
        (cwd / "outputs" / "model.pkl").write_text(str(n))
    assert [(c / "outputs" / "model.pkl").read_text() for c in trials] == ["0", "1"]
    assert not (source / "outputs" / "model.pkl").exists()
    assert workdir.prepare(trials[0], source) == trials[0]  # a retried attempt finds it ready
    (trials[0] / "output.log").write_text("log\n")
    assert own_files(trials[0]) == ["output.log", "outputs/model.pkl"]
    assert workdir.checkpoint(str(trials[0])) == str(trials[0] / "outputs")
    assert workdir.checkpoint(str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")
