"""Flower's revoke and the Optuna export, against real processes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import optuna
import pytest

from tests.integration.conftest import ROOT, SWEEPQ, Cluster, wait_until
from workers.app import create_app

pytestmark = pytest.mark.integration


def test_a_plain_revoke_as_flower_sends_cancels_the_trial_and_frees_its_slot(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=1)
    spec = cluster.spec(trial={"function": "tests.integration.trials:endless"}, limits={"max_total_runs": 2, "max_concurrent_runs": 1})
    sweep = cluster.client.submit(spec)
    running = wait_until(lambda: [t for t in sweep.trials() if t["status"] == "running"], 60, "a running trial")[0]
    app = create_app(cluster.settings)
    app.control.revoke(running["task_id"])  # Flower's "Revoke" button: no terminate
    wait_until(lambda: sweep.trials()[0]["status"] == "canceled", 15, "the revoked trial to end canceled")
    second = wait_until(lambda: [t for t in sweep.trials() if t["number"] == 1 and t["status"] == "running"], 30,
                        "the next trial to start in the freed slot")[0]
    app.control.revoke(second["task_id"], terminate=True, signal="SIGKILL")  # Flower's "Terminate"
    final = sweep.wait(timeout=30, progress=False)
    assert final["status"] == "completed"
    assert [t["status"] for t in sweep.trials()] == ["canceled", "canceled"]


def test_export_writes_the_sweep_into_an_optuna_storage(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    spec = cluster.spec(
        trial={"function": "tests.integration.trials:curve_up"},
        parameters={"x": {"choice": [1.0, 0.5, 0.9, 0.2, 0.6]}, "pause": {"choice": [0.05]}},
        sampling={"method": "grid"},
        early_termination={"policy": "median"},
        limits={"max_concurrent_runs": 1},
    )
    sweep = cluster.client.submit(spec)
    sweep.wait(timeout=60, progress=False)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    out = subprocess.run([*SWEEPQ, "export", sweep.id, "--optuna", storage], env=cluster.env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(study_name=sweep.id, storage=storage)
    ours = {t["number"]: t for t in sweep.trials()}
    assert len(study.trials) == 5 and study.direction == optuna.study.StudyDirection.MAXIMIZE
    for frozen in study.trials:
        mine = ours[frozen.user_attrs["sweepq_trial"]]
        assert frozen.params["x"] == mine["params"]["x"]
        expected_state = {"completed": "COMPLETE", "stopped": "PRUNED"}[mine["status"]]
        assert frozen.state.name == expected_state
        assert list(frozen.intermediate_values.values()) == [mine["params"]["x"] * k for k in range(1, len(frozen.intermediate_values) + 1)]
    assert study.best_trial.params["x"] == 1.0
    optuna.visualization.plot_intermediate_values(study)  # the optuna.visualization plots accept it
    optuna.visualization.plot_optimization_history(study)
    again = subprocess.run([*SWEEPQ, "export", sweep.id, "--optuna", storage], env=cluster.env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_flower_starts_on_the_broker_with_basic_auth(cluster: Cluster) -> None:
    import base64
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster.worker(concurrency=1, queue=None)
    cluster.spawn("flower", "--port", str(port), "--basic-auth", "ada:s3cret", log="flower.log")
    url = f"http://127.0.0.1:{port}/api/workers?refresh=1"

    def status(auth: str | None) -> int:
        request = urllib.request.Request(url)
        if auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    assert wait_until(lambda: status(None) == 401, 30, "Flower to answer (401 without credentials)")
    assert status("ada:wrong") == 401
    assert status("ada:s3cret") == 200


def test_show_renders_the_report_for_jupyter(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker(concurrency=2)
    sweep = cluster.client.submit(cluster.spec(name="shown <b>", trial={"function": "tests.integration.trials:quick"}))
    sweep.wait(timeout=60, progress=False)
    html = sweep.show()._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "&amp;lt;b&amp;gt;" in html and "Plotly" in html  # escaped twice: page, then attribute
    assert "<b>" not in html


def test_the_live_dashboard_reads_only_what_changed_and_trials_page(cluster: Cluster) -> None:
    """On a real Redis: a poll that finds nothing new answers "unchanged"; new reports, a new trial and a trial that
    ended show in the next one; trials() pages and iter_trials() batches read back every trial."""
    import json as json_

    from orchestrator.dashboard.live import LiveSweeps
    from orchestrator.store.codec import dumps

    sweep = cluster.client.submit(cluster.spec(limits={"max_total_runs": 50, "max_concurrent_runs": 4}))
    ledger, keys = cluster.client.ledger, cluster.client.ledger.keys

    def trial(n: int, status: str) -> dict[str, object]:
        return {"number": n, "status": status, "params": {"x": n / 10}, "attempt": 1, "value": None, "best": None}

    def report(n: int, step: int, value: float) -> None:
        ledger.r.xadd(keys.metrics(sweep.id), {"trial": n, "attempt": 1, "step": step,
                                               "values": dumps({"score": value}), "t": "0", "seq": step})

    ledger.create_trials(sweep.id, [trial(n, "completed" if n < 5 else "running") for n in range(7)], 7)
    for n in range(7):
        report(n, 1, n / 10)
    view = LiveSweeps(cluster.client).get(sweep.id)
    first = view.poll()
    assert first["trial_count"] == 7 and view.trials(0, 50, "number", False)["total"] == 7
    # importances are computed in the background: once they are in, a poll with the version held finds nothing new
    settled = wait_until(lambda: view.poll(view.version).get("unchanged") and view.version, 20, "importances")
    first = view.poll()
    assert first["version"] == settled and view.poll(settled)["unchanged"] is True

    report(5, 2, 0.9)
    ledger.update_trial(sweep.id, 6, {"status": "completed", "value": 0.6, "best": 0.6})
    ledger.create_trials(sweep.id, [trial(7, "running")], 8)
    second = view.poll(first["version"])
    assert "unchanged" not in second and second["version"] != first["version"] and second["trial_count"] == 8
    lines = {d["name"]: d["y"] for d in second["charts"]["metrics"]["data"]}
    assert lines["#5"] == [0.5, 0.9]
    page = view.trials(0, 3, "value", True)
    assert page["rows"][0]["number"] == 6 and page["total"] == 8
    assert json_.dumps(page)  # strict JSON for the API

    assert [t["number"] for t in sweep.trials(offset=2, limit=3)] == [2, 3, 4]
    assert [t["number"] for t in sweep.iter_trials(batch=3)] == list(range(8))
    assert sweep.trials() == list(sweep.iter_trials(batch=2))


def test_sweepq_trials_streams_every_trial_of_a_sweep_bigger_than_a_batch(cluster: Cluster) -> None:
    """json and csv are written batch by batch (1,000 trials a batch): all 2,345 trials come out, in order, once."""
    import csv
    import io
    import json as json_

    sweep = cluster.client.submit(cluster.spec(limits={"max_total_runs": 3000, "max_concurrent_runs": 4}))
    rows = [{"number": n, "status": "completed", "params": {"x": n / 3000}, "attempt": 1, "value": n % 7, "best": n % 7}
            for n in range(2345)]
    for start in range(0, len(rows), 500):
        cluster.client.ledger.create_trials(sweep.id, rows[start: start + 500], start + 500)

    def sweepq(*args: str) -> str:
        out = subprocess.run([*SWEEPQ, *args], env=cluster.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                             check=False)
        assert out.returncode == 0, out.stderr
        return out.stdout

    as_json = json_.loads(sweepq("trials", sweep.id, "--format", "json"))
    assert as_json == sweep.trials() and [t["number"] for t in as_json] == list(range(2345))
    as_csv = list(csv.DictReader(io.StringIO(sweepq("trials", sweep.id, "--format", "csv"))))
    assert [(int(r["number"]), float(r["x"])) for r in as_csv] == [(n, n / 3000) for n in range(2345)]
