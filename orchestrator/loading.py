"""Load a sweep spec from a YAML/JSON file, a plain dict or a spec, and turn refusals into readable problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from orchestrator.spec import SweepSpec

# Union tags that pydantic puts into error locations but that mean nothing to a spec's author.
_SILENT_LOC_PARTS = {"expression", "group", "python", "command", "[key]"}


@dataclass(frozen=True)
class Problem:
    """One reason a spec is refused: the field path and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """A spec was refused; problems holds every reason, each with its field path."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"invalid sweep spec{f' {source}' if source else ''}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in problems))


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part not in _SILENT_LOC_PARTS and not str(part).startswith(("function-", "tagged-union")):
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def problems_of(exc: ValidationError) -> list[Problem]:
    """Every error of a pydantic refusal, as (field path, reason), duplicates dropped."""
    seen: dict[tuple[str, str], Problem] = {}
    for err in exc.errors(include_url=False):
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the spec format)"
        problem = Problem(_path(tuple(err["loc"])), msg)
        seen.setdefault((problem.path, problem.message), problem)
    return list(seen.values())


def read_document(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) spec file into a dict, refusing anything that is not a mapping."""
    p = Path(path)
    if not p.is_file():
        raise SpecError([Problem("", f"no such file: {p}")], str(p))
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", f"not valid YAML: {exc}")], str(p)) from None
    if not isinstance(doc, dict):
        raise SpecError([Problem("", "the file must hold a mapping (key: value pairs) at its top level")], str(p))
    return doc


def load_spec(source: str | Path | Mapping[str, Any] | SweepSpec, dialect: str = "auto") -> SweepSpec:
    """A validated SweepSpec from a file path, a dict or a spec; raises SpecError with every problem.

    dialect: "native", "wandb" (a W&B sweep config as it is), or "auto" to tell them apart by their keys.
    """
    if isinstance(source, SweepSpec):
        return source
    origin = "" if isinstance(source, Mapping) else str(source)
    doc = dict(source) if isinstance(source, Mapping) else read_document(source)
    from orchestrator.dialects import DIALECTS, detect

    chosen = detect(doc) if dialect == "auto" else dialect
    if chosen in DIALECTS:
        try:
            doc = DIALECTS[chosen](doc)
        except SpecError as exc:
            raise SpecError(exc.problems, origin or exc.source) from None
    elif chosen != "native":
        raise SpecError([Problem("", f"unknown dialect {dialect!r} (native, wandb or auto)")], origin)
    try:
        return SweepSpec.model_validate(doc)
    except ValidationError as exc:
        raise SpecError(problems_of(exc), origin) from None
