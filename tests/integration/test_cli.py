"""The cluster commands as a user types them: submit, status, trials, best, cancel, against real processes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ROOT, SWEEPQ, Cluster

pytestmark = pytest.mark.integration


def sweepq(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWEEPQ, *args], env=cluster.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_submit_wait_then_query_a_sweep(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(trial={"function": "tests.integration.trials:quick"}, limits={"max_total_runs": 4, "max_concurrent_runs": 2})
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = sweepq(cluster, "submit", str(path), "--wait")
    assert out.returncode == 0, out.stderr
    sweep_id = out.stdout.split()[0]
    assert "completed" in out.stdout

    status = sweepq(cluster, "status", sweep_id)
    assert status.returncode == 0 and sweep_id in status.stdout and "4/4" in status.stdout

    as_json = json.loads(sweepq(cluster, "trials", sweep_id, "--format", "json").stdout)
    assert [t["number"] for t in as_json] == [0, 1, 2, 3] and {t["status"] for t in as_json} == {"completed"}
    rows = list(csv.DictReader(io.StringIO(sweepq(cluster, "trials", sweep_id, "--format", "csv").stdout)))
    assert [float(r["x"]) for r in rows] == [t["params"]["x"] for t in as_json]

    best = json.loads(sweepq(cluster, "best", sweep_id, "--json").stdout)
    assert best["value"] == max(t["value"] for t in as_json)
    text = sweepq(cluster, "best", sweep_id).stdout
    assert f"best trial #{best['number']}" in text and "x = " in text


def test_bad_input_is_refused_without_creating_anything(cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cluster.spec(limits={"max_concurrent_runs": 0})))
    out = sweepq(cluster, "submit", str(path))
    assert out.returncode == 2 and "limits.max_concurrent_runs" in out.stderr
    assert cluster.client.sweeps() == []
    unknown = sweepq(cluster, "cancel", "no-such-sweep")
    assert unknown.returncode == 1 and "no sweep" in unknown.stderr
    fmt = sweepq(cluster, "trials", "no-such-sweep", "--format", "xml")
    assert fmt.returncode == 1
