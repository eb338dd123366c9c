"""The sweep specification: frozen pydantic models that refuse bad input with the field and the reason.

The native YAML form mirrors HyperDrive's concepts (see the README's spec reference). This module is pure.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orchestrator.population.section import PbtSection
from orchestrator.population.section import refusal as population_refusal
from orchestrator.space import GridError, SearchSpace
from orchestrator.space_parse import coerce_expression, computable
from orchestrator.space_wandb import AnyExpression as Expression
from orchestrator.spec_base import Frozen as _Frozen
from orchestrator.spec_policies import (
    EarlyTermination,
    NoPolicy,
)
from orchestrator.spec_sampling import (
    METRIC_SAMPLERS,
    GridSampling,
    RandomSampling,
    Sampling,
)

NAME_RE = r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$"  # a dotted name is a nested parameter, as W&B allows
MACRO_RE = re.compile(r"\$\{([^}]*)\}")
# Macros a command template may use; each is documented in the README.
PLAIN_MACROS = frozenset(
    {
        "args",
        "args_no_hyphens",
        "args_json",
        "args_json_file",
        "args_no_boolean_flags",
        "args_split",
        "program",
        "interpreter",
        "env",
        "output_dir",
    }
)




# ---------------------------------------------------------------- trial


class PythonTrial(_Frozen):
    """A Python callable, called with the parameters as keyword arguments (or as one dict)."""

    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description='"package.module:function"')
    call: Literal["kwargs", "dict"] = "kwargs"


class CommandTrial(_Frozen):
    """An argv template run as a subprocess without a shell; macros expand into separate arguments."""

    command: tuple[str, ...] = Field(min_length=1)
    program: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    wandb_shim: bool = Field(default=False, description="put sweepq's `wandb` drop-in first on the trial's PYTHONPATH")
    per_trial_workdir: bool = Field(
        default=False, description="run in the trial's own folder overlaying cwd, with its own ./outputs (HyperDrive's)"
    )

    @model_validator(mode="after")
    def _known_macros(self) -> CommandTrial:
        for arg in self.command:
            for macro in MACRO_RE.findall(arg):
                if macro.startswith("envvar:") and re.fullmatch(r"envvar:[A-Za-z_]\w*", macro):
                    continue
                if macro not in PLAIN_MACROS:
                    known = ", ".join(f"${{{m}}}" for m in sorted(PLAIN_MACROS))
                    raise ValueError(f"unknown macro ${{{macro}}} in {arg!r}; known: {known}, ${{envvar:NAME}}")
                if macro == "program" and not self.program:
                    raise ValueError("${program} is used but trial.program is not set")
        return self


def _trial_kind(v: Any) -> str | None:
    if isinstance(v, dict):
        return "python" if "function" in v else "command" if "command" in v else None
    return "python" if isinstance(v, PythonTrial) else "command" if isinstance(v, CommandTrial) else None


TrialSpec = Annotated[
    Annotated[PythonTrial, Tag("python")] | Annotated[CommandTrial, Tag("command")],
    Discriminator(
        _trial_kind,
        custom_error_type="trial_kind",
        custom_error_message="a trial is {function: 'pkg.mod:fn'} or {command: [argv, ...]}",
    ),
]

# ---------------------------------------------------------------- parameters


def _check_name(name: str) -> str:
    if not re.match(NAME_RE, name):
        raise ValueError(
            f"parameter name {name!r} must start with a letter or _ and hold letters, digits, _ and - (parts joined by .)"
        )
    return name


ParamName = Annotated[str, AfterValidator(_check_name)]


class ParameterGroup(_Frozen):
    """Nested parameters, handed to the trial as a nested dict."""

    parameters: dict[ParamName, ParamNode] = Field(min_length=1)



def _param_kind(v: Any) -> str:
    if isinstance(v, ParameterGroup) or (isinstance(v, dict) and set(v) == {"parameters"}):
        return "group"
    return "expression"


ParamNode = Annotated[
    Annotated[Annotated[Expression, BeforeValidator(coerce_expression), AfterValidator(computable)], Tag("expression")]
    | Annotated[ParameterGroup, Tag("group")],
    Discriminator(_param_kind),
]
ParameterGroup.model_rebuild()




def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted names to expressions, in declaration order; ValueError when two of them meet (a.b beside a group a
    holding b, or beside a parameter a), since trials get them nested."""
    out: dict[str, Any] = {}
    for name, node in params.items():
        path = f"{prefix}{name}"
        inner = flatten(node.parameters, f"{path}.") if isinstance(node, ParameterGroup) else {path: node}
        for path, expr in inner.items():
            clash = path in out or any(p.startswith(f"{path}.") or path.startswith(f"{p}.") for p in out)
            if clash:
                raise ValueError(f"parameter {path!r} clashes with another name once dotted names are nested")
            out[path] = expr
    return out


# ---------------------------------------------------------------- metric


def _goal(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip().lower()
        return {"max": "maximize", "min": "minimize"}.get(v, v)
    return v


class Objective(_Frozen):
    name: str = Field(pattern=r"^[A-Za-z_][\w.\-/]*$")
    goal: Annotated[Literal["maximize", "minimize"], BeforeValidator(_goal)]


class Constraint(_Frozen):
    """A bound on a reported metric's final value: trials outside it are infeasible (never the best)."""

    metric: str = Field(pattern=r"^[A-Za-z_][\w.\-/]*$")
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounded(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError(f"constraint on {self.metric!r} needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"constraint on {self.metric!r}: min ({self.min}) is above max ({self.max})")
        return self


def _constraints(data: Any) -> Any:
    """Top-level `constraints` are copied into the metric (so rankings see them) and their metrics recorded."""
    if not isinstance(data, dict) or not data.get("constraints"):
        return data
    metric = data.get("metric")
    if metric is None:
        raise ValueError("constraints bound reported metrics of a sweep with a metric: give metric {name, goal}")
    metric = metric.model_dump() if isinstance(metric, BaseModel) else dict(metric) if isinstance(metric, dict) else metric
    if not isinstance(metric, dict):
        return data  # the metric's own validation refuses it
    constraints = data["constraints"]
    try:
        for c in constraints:
            Constraint.model_validate(c)
    except (ValueError, TypeError):
        return data  # the constraints field reports what is wrong, once
    stored = metric.get("constraints") or ()
    if stored and list(stored) != list(constraints):
        raise ValueError("give constraints at the top level only (metric.constraints is derived from them)")
    names = [c.get("metric") if isinstance(c, dict) else getattr(c, "metric", None) for c in constraints]
    known = [metric.get("name"), *(metric.get("extra") or ())]
    extra = [*(metric.get("extra") or ()), *dict.fromkeys(n for n in names if isinstance(n, str) and n not in known)]
    return {**data, "metric": {**metric, "constraints": constraints, "extra": extra}}


class Metric(Objective):
    """The primary metric. `summary` says which value ranks a trial: its best report (HyperDrive) or its final
    value, i.e. the value it returned or else its last report (W&B's run summary)."""

    target: float | None = Field(default=None, description="the sweep ends once a trial reaches it")
    extra: tuple[str, ...] = Field(default=(), description="further metrics to record beside the primary one")
    summary: Literal["best", "last"] = Field(default="best", description="rank trials by their best or last value")
    constraints: tuple[Constraint, ...] = Field(
        default=(), description="the sweep's top-level constraints, copied here so whatever ranks trials sees them"
    )


def _objectives(data: Any) -> Any:
    """`metrics: [{name, goal}, ...]` (multi-objective): the first is also `metric`, the others are recorded."""
    if not isinstance(data, dict) or not data.get("metrics"):
        return data
    metrics = data["metrics"]
    if "metric" in data:
        first = metrics[0] if isinstance(metrics, list) and metrics and isinstance(metrics[0], dict) else {}
        stored = data["metric"] if isinstance(data["metric"], dict) else {}
        if stored.get("name") == first.get("name") and stored.get("goal") == first.get("goal"):
            return data  # a stored spec: metric was derived from metrics already
        raise ValueError("give metric (one objective) or metrics (several), not both")
    if not isinstance(metrics, list) or len(metrics) < 2 or not all(isinstance(m, dict) for m in metrics):
        raise ValueError("metrics lists two or more objectives, each {name, goal} (use metric for one)")
    names = [m.get("name") for m in metrics]
    if len(set(names)) != len(names):
        raise ValueError(f"metrics must have distinct names, got {names}")
    first = metrics[0]
    return {**data, "metric": {"name": first.get("name"), "goal": first.get("goal"), "extra": names[1:]}}


# ---------------------------------------------------------------- limits and resources


class Limits(_Frozen):
    max_total_runs: int | None = Field(default=None, ge=1)
    max_concurrent_runs: int | None = Field(default=None, ge=1, le=1000)
    max_duration_minutes: float | None = Field(default=None, gt=0)
    trial_timeout_minutes: float | None = Field(default=None, gt=0)
    max_retries: int = Field(default=0, ge=0, le=100)
    max_consecutive_failures: int | None = Field(
        default=None, ge=0, description="failed trials in a row that end the sweep; None: max(5, 2 x concurrency); 0: never"
    )


class Resources(_Frozen):
    queue: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+$")
    gpus_per_trial: int = Field(default=0, ge=0, le=16)

    @property
    def effective_queue(self) -> str:
        """The queue trials go to: the one named, else gpu when trials need GPUs, else cpu."""
        return self.queue or ("gpu" if self.gpus_per_trial else "cpu")


# ---------------------------------------------------------------- the sweep


class SweepSpec(_Frozen):
    """One sweep: what to run, over which space, how to sample, what to optimize and when to stop."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    trial: TrialSpec
    parameters: dict[ParamName, ParamNode] = Field(min_length=1)
    sampling: Sampling = Field(default_factory=RandomSampling)
    metric: Metric | None = Field(
        default=None, validate_default=True, description="needed by bayesian/nsga2 sampling and early termination"
    )
    metrics: tuple[Objective, ...] = Field(default=(), description="several objectives: a Pareto front is sought")
    constraints: tuple[Constraint, ...] = Field(default=(), description="bounds on reported metrics; others infeasible")
    early_termination: EarlyTermination = Field(default_factory=lambda: NoPolicy(policy="none"))
    population: PbtSection | None = Field(default=None, description="population-based training (see README)")
    limits: Limits = Field(default_factory=Limits)
    resources: Resources = Field(default_factory=Resources)
    resume_from: tuple[str, ...] = Field(default=(), description="earlier sweeps to warm-start from")
    resume_child_runs: tuple[Annotated[str, Field(pattern=r"^[^/\s]+/\d+$")], ...] = Field(
        default=(), description='earlier trials ("<sweep id>/<number>") to run again from their checkpoints'
    )

    @field_validator("name")
    @classmethod
    def _printable(cls, v: str) -> str:
        if any(ord(c) < 32 for c in v):
            raise ValueError("name must not hold control characters")
        return v


    @field_validator("parameters")
    @classmethod
    def _distinct_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        flatten(v)
        return v

    @field_validator("sampling")
    @classmethod
    def _grid_is_discrete(cls, v: Any, info: ValidationInfo) -> Any:
        params = info.data.get("parameters")
        if isinstance(v, GridSampling) and params is not None:
            try:
                SearchSpace(flatten(params)).grid_size()
            except GridError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("limits")
    @classmethod
    def _bounded(cls, v: Limits, info: ValidationInfo) -> Limits:
        sampling = info.data.get("sampling")
        unbounded = v.max_total_runs is None and v.max_duration_minutes is None and info.data.get("population") is None
        if sampling is not None and not isinstance(sampling, GridSampling) and unbounded:
            raise ValueError(f"{sampling.method} sampling needs max_total_runs or max_duration_minutes")
        return v

    @model_validator(mode="before")
    @classmethod
    def _multi(cls, data: Any) -> Any:
        return _constraints(_objectives(data))

    @field_validator("metric")
    @classmethod
    def _metric_for_sampling(cls, v: Metric | None, info: ValidationInfo) -> Metric | None:
        sampling = info.data.get("sampling")
        if v is None and sampling is not None and sampling.method in METRIC_SAMPLERS:
            raise ValueError(f"{sampling.method} sampling learns from a metric: give metric {{name, goal}}")
        return v

    @field_validator("early_termination")
    @classmethod
    def _metric_for_policy(cls, v: Any, info: ValidationInfo) -> Any:
        if "metric" in info.data and info.data["metric"] is None and v.policy != "none":
            raise ValueError(f"{v.policy} early termination compares a metric: give metric {{name, goal}}")
        return v

    @model_validator(mode="after")
    def _sampler_fits(self) -> SweepSpec:
        from orchestrator.samplers.auto import refusal  # here: the samplers package imports this module

        reason = refusal(self) or population_refusal(self)
        if reason:
            raise ValueError(reason)
        return self

    @property
    def objectives(self) -> list[Objective]:
        """What the sweep optimizes: every entry of metrics, the one metric, or nothing (a sweep without a metric)."""
        if self.metric is None:
            return []
        return list(self.metrics) or [Objective(name=self.metric.name, goal=self.metric.goal)]

    @property
    def space(self) -> SearchSpace:
        return SearchSpace(flatten(self.parameters))

    @property
    def total_runs(self) -> int | None:
        """The most trials this sweep will start: max_total_runs, capped by the grid size for grid sampling."""
        if isinstance(self.sampling, GridSampling):
            size = self.space.grid_size()
            return min(size, self.limits.max_total_runs or size)
        return self.limits.max_total_runs

    def with_resolved_seed(self) -> SweepSpec:
        """A copy whose seed is fixed, so that a restarted scheduler samples the same points."""
        if getattr(self.sampling, "seed", "n/a") is None:
            sampling = self.sampling.model_copy(update={"seed": secrets.randbelow(2**31)})
            return self.model_copy(update={"sampling": sampling})
        return self
