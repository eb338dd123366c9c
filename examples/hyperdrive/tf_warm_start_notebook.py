"""Azure's notebook hyperparameter-tune-and-warm-start-with-tensorflow, its code cells in order, imports changed.

A single run, a random sweep with truncation selection, the best run and its files, a warm-started sweep
(`resume_from`), and a sweep resuming the first sweep's canceled child runs (`resume_child_runs`: each gets
`--resume-from` its earlier ./outputs). Changes besides the imports: no dataset to mount (`--data-folder` is
gone: the script loads its data itself), the cluster is a sweepq queue, `register_model` (Azure's registry) is
replaced by listing and downloading the model's files, and the sweeps' sizes are arguments so the test suite can
run them small. Run: `python -m examples.hyperdrive.tf_warm_start_notebook` against a scheduler and workers on
the queue `gpu-cluster`.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from orchestrator.hyperdrive import (  # was: azureml.core, azureml.widgets, azureml.train.hyperdrive
    ComputeTarget,
    Environment,
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    RunDetails,
    ScriptRunConfig,
    TruncationSelectionPolicy,
    Workspace,
    choice,
    loguniform,
)

script_folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_warm_start")


def notebook(ws: Workspace, workdir: str, runs: tuple[int, int, int] = (15, 20, 10), concurrent: int = 4) -> dict[str, Any]:
    """Every code cell of the notebook; returns its runs for the test suite to check."""
    exp = Experiment(workspace=ws, name="tf-mnist")
    compute_target = ComputeTarget(workspace=ws, name="gpu-cluster")
    tf_env = Environment.get(ws, name="AzureML-TensorFlow-2.0-GPU")

    args = ["--batch-size", 64, "--first-layer-neurons", 256, "--second-layer-neurons", 128, "--learning-rate", 0.01]
    src = ScriptRunConfig(source_directory=script_folder, script="tf_mnist.py", arguments=args,
                          compute_target=compute_target, environment=tf_env)
    run = exp.submit(src)
    RunDetails(run).show()
    run.wait_for_completion(show_output=False)

    ps = RandomParameterSampling(
        {
            "--batch-size": choice(32, 64, 128),
            "--first-layer-neurons": choice(16, 64, 128, 256, 512),
            "--second-layer-neurons": choice(16, 64, 256, 512),
            "--learning-rate": loguniform(-6, -1),
        }
    )
    src = ScriptRunConfig(source_directory=script_folder, script="tf_mnist.py", arguments=[],
                          compute_target=compute_target, environment=tf_env)
    policy = TruncationSelectionPolicy(evaluation_interval=2, truncation_percentage=25)
    htc = HyperDriveConfig(run_config=src, hyperparameter_sampling=ps, policy=policy,
                           primary_metric_name="validation_acc", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                           max_total_runs=runs[0], max_concurrent_runs=concurrent)
    htr = exp.submit(config=htc)
    RunDetails(htr).show()
    htr.wait_for_completion(show_output=True)
    assert htr.get_status() == "Completed"

    best_run = htr.get_best_run_by_primary_metric()
    assert best_run is not None
    print(best_run.get_file_names())
    # was: model = best_run.register_model(model_name='tf-dnn-mnist', model_path='outputs/model')
    best_run.download_files(prefix="outputs/model", output_directory=os.path.join(workdir, "tf-dnn-mnist"))

    warm_start_parents_to_resume_from = [htr]
    warm_start_htc = HyperDriveConfig(run_config=src, hyperparameter_sampling=ps, policy=policy,
                                      resume_from=warm_start_parents_to_resume_from,
                                      primary_metric_name="validation_acc",
                                      primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                      max_total_runs=runs[1], max_concurrent_runs=concurrent)
    warm_start_htr = exp.submit(config=warm_start_htc)
    RunDetails(warm_start_htr).show()
    warm_start_htr.wait_for_completion(show_output=True)
    best_warm_start_run = warm_start_htr.get_best_run_by_primary_metric()
    assert best_warm_start_run is not None
    # was: best_warm_start_run.register_model(model_name='tf-dnn-mnist-warm-start', model_path='outputs/model')
    print(best_warm_start_run.get_file_names())

    cancelled_child_runs = []
    for child_run in htr.get_children():
        if child_run.status == "Canceled":
            cancelled_child_runs.append(child_run)
    child_runs_to_resume = [cancelled_child_runs[0]] if len(cancelled_child_runs) != 0 else []

    resume_child_runs_htc = HyperDriveConfig(run_config=src, hyperparameter_sampling=ps, policy=policy,
                                             resume_child_runs=child_runs_to_resume,
                                             primary_metric_name="validation_acc",
                                             primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                             max_total_runs=runs[2], max_concurrent_runs=concurrent)
    resume_child_runs_htr = exp.submit(config=resume_child_runs_htc)
    RunDetails(resume_child_runs_htr).show()
    resume_child_runs_htr.wait_for_completion(show_output=True)
    best_resume_child_run = resume_child_runs_htr.get_best_run_by_primary_metric()
    # was: best_resume_child_run.register_model(model_name='tf-dnn-mnist-resumed', model_path='outputs/model')
    return {"run": run, "htr": htr, "best_run": best_run, "warm_start_htr": warm_start_htr,
            "best_warm_start_run": best_warm_start_run, "resumed": child_runs_to_resume,
            "resume_child_runs_htr": resume_child_runs_htr, "best_resume_child_run": best_resume_child_run}


if __name__ == "__main__":
    notebook(Workspace.from_config(), tempfile.mkdtemp(prefix="tf-mnist-"))
