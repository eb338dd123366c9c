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
