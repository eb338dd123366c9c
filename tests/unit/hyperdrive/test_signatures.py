"""Every public HyperDrive class and call sweepq offers takes HyperDrive's arguments: same names, same order, same
defaults. The table is restated from azureml-train-core 1.62.0 and azureml-core 1.61.0 (their source, read with
`ast`; azureml-widgets for RunDetails): not installed, as they pull the whole Azure SDK.

Rule: HyperDrive's parameters are a prefix of sweepq's (so every HyperDrive call works); parameters sweepq adds
come after them and have defaults. DEVIATIONS lists the documented differences.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from orchestrator import hyperdrive as hd
from orchestrator.hyperdrive.context import _OfflineRun, _TrialRun

REQUIRED = object()

HYPERDRIVE: dict[str, str] = {
    "HyperDriveConfig": "hyperparameter_sampling, primary_metric_name, primary_metric_goal, max_total_runs, "
    "max_concurrent_runs=None, max_duration_minutes=10080, policy=None, estimator=None, run_config=None, "
    "resume_from=None, resume_child_runs=None, pipeline=None, debug_flag=None, custom_run_id=None",
    "BanditPolicy": "evaluation_interval=1, slack_factor=None, slack_amount=None, delay_evaluation=0",
    "MedianStoppingPolicy": "evaluation_interval=1, delay_evaluation=0",
    "TruncationSelectionPolicy": "truncation_percentage, evaluation_interval=1, delay_evaluation=0",
    "NoTerminationPolicy": "",
    "RandomParameterSampling": "parameter_space, properties=None",
    "GridParameterSampling": "parameter_space, properties=None",
    "BayesianParameterSampling": "parameter_space, properties=None",
    "ScriptRunConfig": "source_directory, script=None, arguments=None, run_config=None, _telemetry_values=None, "
    "compute_target=None, environment=None, distributed_job_config=None, resume_from=None, "
    "max_run_duration_seconds=2592000, command=None, docker_runtime_config=None",
    "Experiment": "workspace, name, _skip_name_validation=False, _id=None, _archived_time=None, "
    "_create_in_cloud=True, _experiment_dto=None, **kwargs",
    "Experiment.submit": "config, tags=None, **kwargs",
    "Workspace": "subscription_id, resource_group, workspace_name, auth=None, _location=None, "
    "_disable_service_check=False, _workspace_id=None, sku='basic', tags=None, _cloud='AzureCloud'",
    "Workspace.from_config": "path=None, auth=None, _logger=None, _file_name=None",
    "RunDetails": "run_instance",
    "HyperDriveRun": "experiment, run_id, hyperdrive_config=None, **kwargs",
    "HyperDriveRun.get_best_run_by_primary_metric": "include_failed=True, include_canceled=True, "
    "include_resume_from_runs=True",
    "HyperDriveRun.get_children_sorted_by_primary_metric": "top=0, reverse=False, discard_no_metric=False",
    "HyperDriveRun.get_hyperparameters": "",
    "HyperDriveRun.get_metrics": "",
    "HyperDriveRun.cancel": "",
    "Run": "experiment, run_id, outputs=None, **kwargs",
    "Run.get_context": "allow_offline=True, used_for_context_manager=False, **kwargs",
    "Run.wait_for_completion": "show_output=False, wait_post_processing=False, raise_on_error=True",
    "Run.get_status": "",
    "Run.get_details": "",
    "Run.get_children": "recursive=False, tags=None, properties=None, type=None, status=None, _rehydrate_runs=True",
    "Run.get_metrics": "name=None, recursive=False, run_type=None, populate=False",
    "Run.get_file_names": "",
    "Run.download_file": "name, output_file_path=None, _validate_checksum=False",
    "Run.download_files": "prefix=None, output_directory=None, output_paths=None, batch_size=100, "
    "append_prefix=True, timeout_seconds=None",
    "Run.register_model": "model_name, model_path=None, tags=None, properties=None, model_framework=None, "
    "model_framework_version=None, description=None, datasets=None, sample_input_dataset=None, "
    "sample_output_dataset=None, resource_configuration=None, **kwargs",
    "Run.tag": "key, value=None",
    "Run.set_tags": "tags",
    "Run.add_properties": "properties",
    "Run.cancel": "",
    "Run.log": "name, value, description='', step=None",
    "Run.log_list": "name, value, description=''",
    "Run.log_row": "name, description=None, **kwargs",
    "Run.log_table": "name, value, description=''",
    "Run.complete": "_set_status=True",
    "_TrialRun.log_image": "name, path=None, plot=None, description=''",
    "_TrialRun.upload_file": "name, path_or_stream, datastore_name=None",
    "_TrialRun.upload_files": "names, paths, return_artifacts=False, timeout_seconds=None, datastore_name=None",
    "_TrialRun.upload_folder": "name, path, datastore_name=None",
    "_TrialRun.fail": "error_details=None, error_code=None, _set_status=True",
    "_OfflineRun.log": "name, value, description=''",
    "_OfflineRun.log_image": "name, path=None, plot=None, description=''",
    "_OfflineRun.upload_file": "name, path_or_stream, datastore_name=None",
    "choice": "*options",
    "randint": "upper",
    "uniform": "min_value, max_value",
    "quniform": "min_value, max_value, q",
    "loguniform": "min_value, max_value",
    "qloguniform": "min_value, max_value, q",
    "normal": "mu, sigma",
    "qnormal": "mu, sigma, q",
    "lognormal": "mu, sigma",
    "qlognormal": "mu, sigma, q",
}
# Documented differences (README, "Porting a HyperDrive script"): Azure's workspace identifiers are optional
# (sweepq's workspace is the configured Redis).
DEVIATIONS = {("Workspace", "subscription_id"), ("Workspace", "resource_group"), ("Workspace", "workspace_name")}
OWNERS: dict[str, Any] = {"_TrialRun": _TrialRun, "_OfflineRun": _OfflineRun}


def parse(params: str) -> list[tuple[str, Any]]:
    """'a, b=1, *c, **d' as [(name, default or REQUIRED)], names keeping their * or **."""
    if not params:
        return []
    args = ast.parse(f"def f({params}): pass").body[0].args  # type: ignore[attr-defined]
    out: list[tuple[str, Any]] = []
    defaults = [REQUIRED] * (len(args.args) - len(args.defaults)) + [ast.literal_eval(d) for d in args.defaults]
    out += [(a.arg, d) for a, d in zip(args.args, defaults, strict=True)]
    out += [(f"*{args.vararg.arg}", REQUIRED)] if args.vararg else []
    out += [(f"**{args.kwarg.arg}", REQUIRED)] if args.kwarg else []
    return out


def ours(path: str) -> list[tuple[str, Any, inspect._ParameterKind]]:
    head, _, method = path.partition(".")
    owner = OWNERS.get(head) or getattr(hd, head)
    target: Callable[..., Any] = getattr(owner, method) if method else owner
    signature = inspect.signature(target)
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [(stars.get(p.kind, "") + p.name, REQUIRED if p.default is p.empty else p.default, p.kind)
            for p in signature.parameters.values() if p.name not in ("self", "cls")]


@pytest.mark.parametrize("path", sorted(HYPERDRIVE))
def test_hyperdrive_arguments_are_a_prefix_of_sweepqs(path: str) -> None:
    theirs = parse(HYPERDRIVE[path])
    mine = ours(path)
    head = path.partition(".")[0]
    positional = [p for p in mine if not p[0].startswith("**")]
    expected = [t for t in theirs if not t[0].startswith("**")]
    assert len(positional) >= len(expected), f"{path} takes {[p[0] for p in positional]}, HyperDrive {expected}"
    for i, (name, default) in enumerate(expected):
        assert positional[i][0] == name, f"{path}: argument {i} is {positional[i][0]!r}, HyperDrive's is {name!r}"
        if (head, name) not in DEVIATIONS:
            assert positional[i][1] == default, f"{path}({name}=...): default {positional[i][1]!r}, HyperDrive's {default!r}"
    if any(n.startswith("**") for n, _ in theirs):
        assert any(n.startswith("**") for n, *_ in mine), f"{path} must take **kwargs as HyperDrive does"
    extra = positional[len(expected):]
    assert all(d is not REQUIRED or n.startswith("*") for n, d, _ in extra), f"{path}: sweepq's extras need defaults"


def test_the_goal_enum_and_the_defaults_hyperdrive_documents() -> None:
    assert [g.value for g in hd.PrimaryMetricGoal] == ["MAXIMIZE", "MINIMIZE"]
    assert issubclass(hd.NotInSweepq, NotImplementedError)
