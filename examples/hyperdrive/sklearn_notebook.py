"""Azure's notebook train-hyperparameter-tune-deploy-with-sklearn, its code cells in order, imports changed.

Changes besides the imports: the compute cluster is a sweepq queue (ComputeTarget names it; workers serve it, so
the provisioning cell is gone), the environment is the worker's own Python, and the last cell's
`register_model` (Azure's model registry) is replaced by downloading the model file. The sweep's size is an
argument so the test suite can run it small. Run: `python -m examples.hyperdrive.sklearn_notebook` against a
scheduler and workers on the queue `hd-cluster` (`sweepq worker --queues hd-cluster`).
"""

from __future__ import annotations

import os
import shutil
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
    Workspace,
    choice,
)

HERE = os.path.dirname(os.path.abspath(__file__))


def notebook(ws: Workspace, workdir: str, max_total_runs: int = 12, max_concurrent_runs: int = 4) -> dict[str, Any]:
    """Every code cell of the notebook; returns what the notebook shows, for the test suite to check."""
    print("Workspace name: " + ws.name, "Azure region: " + ws.location, "Subscription id: " + ws.subscription_id,
          "Resource group: " + ws.resource_group, sep="\n")

    # choose a name for your cluster
    cluster_name = "hd-cluster"
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)

    project_folder = os.path.join(workdir, "sklearn-iris")
    os.makedirs(project_folder, exist_ok=True)
    shutil.copy(os.path.join(HERE, "sklearn_iris", "train_iris.py"), project_folder)

    experiment_name = "train_iris"
    experiment = Experiment(ws, name=experiment_name)

    sklearn_env = Environment.get(ws, name="azureml-sklearn-1.5")

    src = ScriptRunConfig(source_directory=project_folder,
                          script="train_iris.py",
                          arguments=["--kernel", "linear", "--penalty", 1.0],
                          compute_target=compute_target,
                          environment=sklearn_env)
    run = experiment.submit(src)
    RunDetails(run).show()
    run.wait_for_completion(show_output=True)

    param_sampling = RandomParameterSampling({
        "--kernel": choice("linear", "rbf", "poly", "sigmoid"),
        "--penalty": choice(0.5, 1, 1.5),
    })
    hyperdrive_config = HyperDriveConfig(run_config=src,
                                         hyperparameter_sampling=param_sampling,
                                         primary_metric_name="Accuracy",
                                         primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                         max_total_runs=max_total_runs,
                                         max_concurrent_runs=max_concurrent_runs)
    # start the HyperDrive run
    hyperdrive_run = experiment.submit(hyperdrive_config)
    RunDetails(hyperdrive_run).show()
    hyperdrive_run.wait_for_completion(show_output=True)
    assert hyperdrive_run.get_status() == "Completed"

    best_run = hyperdrive_run.get_best_run_by_primary_metric()
    assert best_run is not None
    print(best_run.get_details()["runDefinition"]["arguments"])
    print(best_run.get_file_names())
    # was: model = best_run.register_model(model_name='sklearn-iris', model_path='outputs/model.joblib')
    best_run.download_file("outputs/model.joblib", os.path.join(workdir, "model.joblib"))
    return {"run": run, "hyperdrive_run": hyperdrive_run, "best_run": best_run}


if __name__ == "__main__":
    notebook(Workspace.from_config(), tempfile.mkdtemp(prefix="sklearn-iris-"))
