"""Azure's notebook train-hyperparameter-tune-deploy-with-pytorch, its training cells in order, imports changed.

A single run (printed, its details, RunDetails), then a random sweep with a Bandit policy over the learning
rate and momentum, and the best run's metrics. Changes besides the imports: the data download cell is gone (the
script loads its data itself), the cluster is a sweepq queue, `register_model` (Azure's registry) becomes a
download, and the sweep's size is an argument so the test suite can run it small; the deployment half (ACI) is
not ported. Run: `python -m examples.hyperdrive.pytorch_notebook` with workers on the queue `gpu-cluster`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from orchestrator.hyperdrive import (  # was: azureml.core, azureml.widgets, azureml.train.hyperdrive
    BanditPolicy,
    ComputeTarget,
    Environment,
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    RunDetails,
    ScriptRunConfig,
    Workspace,
    uniform,
)

HERE = os.path.dirname(os.path.abspath(__file__))


def notebook(ws: Workspace, workdir: str, max_total_runs: int = 8, max_concurrent_runs: int = 4) -> dict[str, Any]:
    """Every training cell of the notebook; returns its runs for the test suite to check."""
    cluster_name = "gpu-cluster"
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)

    project_folder = os.path.join(workdir, "pytorch-birds")
    os.makedirs(project_folder, exist_ok=True)
    shutil.copy(os.path.join(HERE, "pytorch_birds", "pytorch_train.py"), project_folder)

    experiment_name = "pytorch-birds"
    experiment = Experiment(ws, name=experiment_name)

    with open(os.path.join(workdir, "conda_dependencies.yml"), "w") as f:  # was: %%writefile conda_dependencies.yml
        f.write("channels:\n- conda-forge\ndependencies:\n- python=3.6.2\n- pip:\n  - azureml-defaults\n")
    pytorch_env = Environment.from_conda_specification(name="pytorch-1.6-gpu",
                                                       file_path=os.path.join(workdir, "conda_dependencies.yml"))
    # Specify a GPU base image
    pytorch_env.docker.enabled = True
    pytorch_env.docker.base_image = "mcr.microsoft.com/azureml/openmpi3.1.2-cuda10.1-cudnn7-ubuntu18.04"

    src = ScriptRunConfig(source_directory=project_folder,
                          script="pytorch_train.py",
                          arguments=["--num_epochs", 30, "--output_dir", "./outputs"],
                          compute_target=compute_target,
                          environment=pytorch_env)
    run = experiment.submit(src)
    print(run)
    # to get more details of your run
    print(run.get_details())
    RunDetails(run).show()
    run.wait_for_completion(show_output=True)

    param_sampling = RandomParameterSampling({
        "learning_rate": uniform(0.0005, 0.005),
        "momentum": uniform(0.9, 0.99),
    })
    early_termination_policy = BanditPolicy(slack_factor=0.15, evaluation_interval=1, delay_evaluation=10)
    hyperdrive_config = HyperDriveConfig(run_config=src,
                                         hyperparameter_sampling=param_sampling,
                                         policy=early_termination_policy,
                                         primary_metric_name="best_val_acc",
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
    best_run_metrics = best_run.get_metrics()
    print(best_run)
    print("Best Run is:\n  Validation accuracy: {0:.5f} \n  Learning rate: {1:.5f} \n  Momentum: {2:.5f}".format(  # noqa: UP030
        best_run_metrics["best_val_acc"][-1],
        best_run_metrics["lr"],
        best_run_metrics["momentum"])
    )
    # was: model = best_run.register_model(model_name = 'pytorch-birds', model_path = 'outputs/model.pt')
    best_run.download_file("outputs/model.pt", os.path.join(workdir, "model.pt"))
    return {"run": run, "hyperdrive_run": hyperdrive_run, "best_run": best_run, "best_run_metrics": best_run_metrics}


if __name__ == "__main__":
    notebook(Workspace.from_config(), tempfile.mkdtemp(prefix="pytorch-birds-"))
