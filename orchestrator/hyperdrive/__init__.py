"""HyperDrive's Python API on sweepq: a HyperDrive notebook and its training script port by changing imports.

    from orchestrator.hyperdrive import (RandomParameterSampling, BanditPolicy, HyperDriveConfig, PrimaryMetricGoal,
                                         ScriptRunConfig, Experiment, Workspace, Run, RunDetails, uniform, choice)

Class names, argument names and defaults follow `azureml.train.hyperdrive` and `azureml.core` (SDK v1). The
training script runs as a command trial in its own folder (`<artifact_root>/<sweep>/trial-<n>`, overlaying
`source_directory`, with its own `./outputs`) and receives `--name value` arguments, as HyperDrive passes them.
"""

from __future__ import annotations

from orchestrator.hyperdrive.config import (
    BanditPolicy,
    BayesianParameterSampling,
    ComputeTarget,
    Environment,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    TruncationSelectionPolicy,
)
from orchestrator.hyperdrive.errors import ActivityFailedException, NotInSweepq, RunEnvironmentException
from orchestrator.hyperdrive.expressions import (
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from orchestrator.hyperdrive.runs import Run
from orchestrator.hyperdrive.sweep_run import HyperDriveRun
from orchestrator.hyperdrive.widgets import RunDetails
from orchestrator.hyperdrive.workspace import Experiment, ScriptRun, Workspace

ChildRun = Run  # sweepq's earlier name for a child run

__all__ = [
    "ActivityFailedException", "BanditPolicy", "BayesianParameterSampling", "ChildRun", "ComputeTarget", "Environment",
    "Experiment", "GridParameterSampling", "HyperDriveConfig", "HyperDriveRun", "MedianStoppingPolicy",
    "NoTerminationPolicy", "NotInSweepq", "PrimaryMetricGoal", "RandomParameterSampling", "Run", "RunDetails",
    "RunEnvironmentException", "ScriptRun", "ScriptRunConfig", "TruncationSelectionPolicy", "Workspace", "choice",
    "lognormal", "loguniform", "normal", "qlognormal", "qloguniform", "qnormal", "quniform", "randint", "uniform",
]
