"""The HyperDrive document's tuning snippet, ported by changing its imports (run: python examples/hyperdrive/tune.py).

Needs a scheduler and workers on the configured Redis (`sweepq scheduler`, `sweepq worker`), as HyperDrive
needs a compute target. Each child run writes its model to its own ./outputs (`<artifact_root>/<sweep>/trial-<n>`).
"""

from __future__ import annotations

import os

from orchestrator.hyperdrive import (  # was: azureml.core / azureml.train.hyperdrive
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)


def build_config(max_total_runs: int = 100, max_concurrent_runs: int = 4, num_epochs: int = 25) -> HyperDriveConfig:
    script_run_config = ScriptRunConfig(
        source_directory=os.path.dirname(os.path.abspath(__file__)),
        script="train.py",
        arguments=["--num_epochs", num_epochs, "--output_dir", "./outputs"],
    )
    param_sampling = RandomParameterSampling({
        "learning_rate": uniform(0.0005, 0.005),
        "momentum": uniform(0.9, 0.99),
    })
    early_termination_policy = BanditPolicy(slack_factor=0.15, evaluation_interval=1, delay_evaluation=10)
    return HyperDriveConfig(run_config=script_run_config,
                            hyperparameter_sampling=param_sampling,
                            policy=early_termination_policy,
                            primary_metric_name="accuracy",
                            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                            max_total_runs=max_total_runs,
                            max_concurrent_runs=max_concurrent_runs)


def main() -> None:
    workspace = Workspace.from_config()
    experiment = Experiment(workspace, "pytorch-hyperdrive")
    hyperdrive_run = experiment.submit(build_config())
    hyperdrive_run.wait_for_completion(show_output=True)
    best_run = hyperdrive_run.get_best_run_by_primary_metric()
    assert best_run is not None
    best_run_metrics = best_run.get_metrics()
    parameter_values = best_run.get_details()["runDefinition"]["Arguments"]
    print("Best Run Id: ", best_run.id)
    print("\n Accuracy:", best_run_metrics["accuracy"])
    print("\n learning rate:", parameter_values[5])  # after the script's own --num_epochs and --output_dir
    print("\n momentum:", parameter_values[7])


if __name__ == "__main__":
    main()
