"""W&B's notebook flow on real Redis: wandb.sweep + wandb.agent run trials of a function defined in the script.

Each agent is a real Python process running a script as a user would (the function exists only in that script);
the agent also runs the scheduler and the evaluator in its threads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import orchestrator.wandb as wandb
from tests.integration.conftest import ROOT, Cluster, wait_until

pytestmark = pytest.mark.integration

SCRIPT = '''
import json, os, sys, time
import orchestrator.wandb as wandb

LOG = sys.argv[2]

def train():
    run = wandb.init(project="itest", config={"pause": 0.0})
    x = wandb.config.x
    with open(LOG, "a") as out:
        out.write(json.dumps({"pid": os.getpid(), "x": x, "trial": run.id}) + "\\n")
    if x == 0.2 and os.environ.get("FAIL_AT_02"):
        raise RuntimeError("boom at x=0.2")
    if os.environ.get("SPAWN"):  # a child with a grandchild, left running when the function returns
        import subprocess
        code = "import subprocess, sys, time; print(subprocess.Popen(['sleep', '61']).pid, flush=True); time.sleep(60)"
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        with open(LOG, "a") as out:
            out.write(json.dumps({"spawned": [child.pid, int(child.stdout.readline())]}) + "\\n")
    if os.environ.get("SILENT"):  # never logs, so only the agent's watchdog can end it
        while True:
            time.sleep(0.05)
    try:
        for epoch in range(int(os.environ.get("EPOCHS", "3"))):
            # a dip, then the last value: W&B ranks by the last (summary) value, not the best one
            loss = [1.0, x, 1.0 - x][epoch] if epoch < 3 else 1.0 - x
            wandb.log({"loss": loss, "epoch": epoch})
            time.sleep(wandb.config.pause)
    finally:
        with open(LOG, "a") as out:
            out.write(json.dumps({"left": x, "why": repr(sys.exc_info()[1])}) + "\\n")
    if x == 0.5:
        run.summary["loss"] = 2.0  # set by the script: this, not the last logged value, is what W&B ranks by
    run.finish()

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "create":
        config = json.loads(os.environ["CONFIG"])
        sweep_id = wandb.sweep(config, project="itest")
        print(sweep_id, flush=True)
        count = os.environ.get("COUNT")
        wandb.agent(sweep_id, function=train, count=int(count) if count else None)
    else:
        wandb.agent(mode, function=train)
'''


def grid(xs: list[float], **extra: Any) -> dict[str, Any]:
    return {"method": "grid", "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"x": {"values": xs}, "pause": {"value": extra.pop("pause", 0.0)}}, **extra}


def run_script(cluster: Cluster, mode: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    script = cluster.tmp / "notebook.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), mode, str(cluster.tmp / "calls.jsonl")], env={**cluster.env, **env},
                          cwd=cluster.tmp, capture_output=True, text=True, timeout=timeout)


def calls(cluster: Cluster) -> list[dict[str, Any]]:
    path = cluster.tmp / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_notebook_flow_runs_count_trials_in_the_script_and_ranks_them_as_wandb(cluster: Cluster) -> None:
    xs = [0.1, 0.2, 0.3, 0.4, 0.5]
    done = run_script(cluster, "create", {"CONFIG": json.dumps(grid(xs)), "COUNT": "5"})
    assert done.returncode == 0, done.stderr
    sweep = cluster.client.sweep(done.stdout.split()[0])
    trials = sweep.trials()
    assert sorted(t["params"]["x"] for t in trials) == xs
    assert [t["status"] for t in trials] == ["completed"] * 5, [t["error"] for t in trials]
    assert all(str(t["worker"]).startswith("agent-") for t in trials)
    assert {c["pid"] for c in calls(cluster) if "pid" in c} == {int(trials[0]["worker"].split("-")[1].split("@")[0])}
    for t in trials:  # the final value is the run's summary: the last logged value unless the script set it
        x = t["params"]["x"]
        assert t["value"] == pytest.approx(2.0 if x == 0.5 else 1.0 - x)
        assert [r["values"]["loss"] for r in sweep.metrics(t["number"])] == pytest.approx([1.0, x, 1.0 - x])
    best = sweep.best_trial()
    # W&B's choice: the lowest summary value (x=0.4: 0.6); not the lowest value ever logged (x=0.1: 0.1), nor the
    # lowest last log (x=0.5: 0.5, overridden by its summary)
    assert best is not None and best["params"]["x"] == 0.4
    assert sweep.status()["status"] == "completed"


def test_an_exception_fails_its_trial_and_the_agent_goes_on(cluster: Cluster) -> None:
    done = run_script(cluster, "create", {"CONFIG": json.dumps(grid([0.1, 0.2, 0.3])), "FAIL_AT_02": "1"})
    assert done.returncode == 0, done.stderr
    trials = {t["params"]["x"]: t for t in cluster.client.sweep(done.stdout.split()[0]).trials()}
    assert {x: t["status"] for x, t in trials.items()} == {0.1: "completed", 0.2: "failed", 0.3: "completed"}
    assert "RuntimeError: boom at x=0.2" in trials[0.2]["error"]


def test_two_agents_share_one_sweep_and_never_run_a_trial_twice(cluster: Cluster) -> None:
    xs = [round(0.05 * i, 2) for i in range(1, 11)]
    sweep_id = wandb.sweep(grid(xs, pause=0.3), settings=cluster.settings)
    script = cluster.tmp / "notebook.py"
    script.write_text(SCRIPT)
    agents = [
        subprocess.Popen([sys.executable, str(script), sweep_id, str(cluster.tmp / "calls.jsonl")], env=cluster.env,
                         cwd=cluster.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [a.communicate(timeout=120)[0] for a in agents]
    assert [a.returncode for a in agents] == [0, 0], outputs
    started = [c for c in calls(cluster) if "pid" in c]
    assert sorted(c["x"] for c in started) == xs  # every trial ran once, none twice
    assert {c["pid"] for c in started} == {a.pid for a in agents}  # and both agents took some
    trials = cluster.client.sweep(sweep_id).trials()
    assert [t["status"] for t in trials] == ["completed"] * len(xs)


def test_a_stop_request_ends_the_trial_at_its_next_wandb_log(cluster: Cluster) -> None:
    sweep_id = wandb.sweep(grid([0.1], pause=0.2), settings=cluster.settings)
    script = cluster.tmp / "notebook.py"
    script.write_text(SCRIPT)
    agent = subprocess.Popen([sys.executable, str(script), sweep_id, str(cluster.tmp / "calls.jsonl")],
                             env={**cluster.env, "EPOCHS": "1000"}, cwd=cluster.tmp, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    sweep = cluster.client.sweep(sweep_id)
    wait_until(lambda: len(sweep.metrics(0)) >= 3, 60, "the trial's first reports")
    sweep.cancel()
    output = agent.communicate(timeout=60)[0]
    assert agent.returncode == 0, output
    trial = sweep.trials()[0]
    assert trial["status"] == "canceled" and trial["error"] is None  # ended by itself, not killed
    assert trial["reports"] < 1000
    left = [c for c in calls(cluster) if "left" in c]
    assert len(left) == 1 and "TrialStopped" in left[0]["why"]  # raised out of wandb.log into the function


def test_a_function_that_ignores_a_stop_request_is_interrupted_after_the_grace_period(cluster: Cluster) -> None:
    sweep_id = wandb.sweep(grid([0.1, 0.2]), settings=cluster.settings)
    script = cluster.tmp / "notebook.py"
    script.write_text(SCRIPT)
    agent = subprocess.Popen([sys.executable, str(script), sweep_id, str(cluster.tmp / "calls.jsonl")],
                             env={**cluster.env, "SILENT": "1"}, cwd=cluster.tmp, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    sweep = cluster.client.sweep(sweep_id)
    wait_until(lambda: calls(cluster), 60, "the first trial to start")
    sweep.cancel()
    output = agent.communicate(timeout=60)[0]
    assert agent.returncode == 0, output
    trials = sweep.trials()
    assert trials[0]["status"] == "canceled" and "still running 2 s after the stop request" in trials[0]["error"]
    assert len([c for c in calls(cluster) if "pid" in c]) == 1  # the other trial was canceled before it started
    assert sweep.status()["status"] == "canceled"


def test_processes_a_function_trial_started_end_with_it(cluster: Cluster) -> None:
    done = run_script(cluster, "create", {"CONFIG": json.dumps(grid([0.1])), "SPAWN": "1"})
    assert done.returncode == 0, done.stderr
    spawned = next(c["spawned"] for c in calls(cluster) if "spawned" in c)
    alive = [pid for pid in spawned if Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"]
    for pid in alive:  # leave nothing behind if the assertion fails
        os.kill(pid, signal.SIGKILL)
    assert alive == []


def test_sweep_refuses_a_bad_config_before_creating_anything(cluster: Cluster) -> None:
    from orchestrator.loading import SpecError

    with pytest.raises(SpecError, match="method"):
        wandb.sweep({"method": "gird", "parameters": {"x": {"values": [1]}}}, settings=cluster.settings)
    assert cluster.client.sweeps() == []


def test_the_shim_in_a_command_trial_reports_each_step_and_its_summary_last(cluster: Cluster, tmp_path: Path) -> None:
    program = tmp_path / "train.py"
    program.write_text(textwrap.dedent('''
        import wandb
        with wandb.init(config={"epochs": 3}) as run:
            for epoch in range(wandb.config.epochs):
                wandb.log({"acc": wandb.config.x * epoch}, commit=False)
                wandb.log({"epoch": epoch + 1})
            run.summary["acc"] = -1.0
            saved = run.save(__file__)
            print("saved", saved, run.id, run.sweep_id, run.get_sweep_url())
    '''))
    config = {"method": "grid", "program": str(program), "metric": {"name": "acc", "goal": "maximize"},
              "parameters": {"x": {"values": [2.0]}}}
    sweep_id = wandb.sweep(config, settings=cluster.settings)
    sweepq = str(Path(sys.executable).parent / "sweepq")  # the console script, as a user types it
    done = subprocess.run([sweepq, "agent", sweep_id, "--count", "1"], env=cluster.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sweep = cluster.client.sweep(sweep_id)
    trial = sweep.trials()[0]
    assert trial["status"] == "completed", trial["error"]
    assert [(r["step"], r["values"]["acc"]) for r in sweep.metrics(0)] == [(1, 0.0), (2, 2.0), (3, 4.0), (4, -1.0)]
    assert trial["value"] == -1.0  # the summary the script set is the final value
    out_dir = cluster.tmp / "artifacts" / sweep_id / "trial-0"
    assert (out_dir / "files" / "train.py").read_text() == program.read_text()
    assert f"{sweep_id}/0 {sweep_id} http://127.0.0.1:8000/sweeps/{sweep_id}" in (out_dir / "output.log").read_text()


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("source", ["readme", "example"])
def test_the_readme_flow_and_the_example_script_run_as_shown(cluster: Cluster, source: str) -> None:
    script = cluster.tmp / "flow.py"
    if source == "readme":
        script.write_text(readme_block("### W&B's Python API and agents") + "print(sweep_id)\n")
        argv, expected = [sys.executable, str(script)], 3
    else:
        argv, expected = [sys.executable, str(ROOT / "examples/wandb_notebook.py"), "2"], 2
    done = subprocess.run(argv, env=cluster.env, cwd=cluster.tmp, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    trials = cluster.client.sweep(done.stdout.split()[-1]).trials()
    assert [t["status"] for t in trials].count("completed") == expected
    assert all(t["value"] is not None for t in trials if t["status"] == "completed")
