"""Load a sweep spec from a YAML/JSON file, a plain dict or a spec, and turn refusals into readable problems."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from orchestrator.spec import SweepSpec

# Union tags that pydantic puts into error locations but that mean nothing to a spec's author.
_SILENT_LOC_PARTS = {"expression", "group", "python", "command", "[key]"}

# Documented limits of a spec document (README, "Validating a spec"): each is far beyond any real sweep, and
# together they keep `sweepq validate` under a second on anything it is handed.
MAX_SPEC_BYTES = 1_000_000
MAX_DEPTH = 50  # nested mappings and lists
MAX_VALUES = 200_000  # values in the document, YAML aliases counted each time they are used
MAX_INT = 2**63  # integers beyond 64 bits are refused (seeds, counts and choices all fit)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def _text(p: Path) -> str:
    """The file's text: at most MAX_SPEC_BYTES of UTF-8 (a byte-order mark is allowed)."""
    if not p.is_file():
        raise SpecError([Problem("", f"no such file: {p}")], str(p))
    if p.stat().st_size > MAX_SPEC_BYTES:
        raise SpecError([Problem("", f"the file is larger than {MAX_SPEC_BYTES:,} bytes; a spec is a few KB")], str(p))
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} (save the file as UTF-8)"
        raise SpecError([Problem("", problem)], str(p)) from None


def _parse_yaml(text: str) -> Any:
    """YAML (or JSON) to Python, refusing nesting deeper than MAX_DEPTH before any recursive step sees it."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = f" (line {event.start_mark.line + 1})" if event.start_mark else ""
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels{line}")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.load(text, Loader=_LOADER)  # a safe loader (libyaml's when installed)


def read_document(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) spec file into a dict, refusing anything that is not a sane mapping."""
    p = Path(path)
    text = _text(p)
    try:
        doc = _parse_yaml(text)
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", f"not valid YAML: {exc}")], str(p)) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. a date 2024-13-45
        raise SpecError([Problem("", f"not a usable YAML document: {exc}")], str(p)) from None
    if not isinstance(doc, dict):
        raise SpecError([Problem("", "the file must hold a mapping (key: value pairs) at its top level")], str(p))
    return doc


def _number_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not -MAX_INT < value < MAX_INT:
        return f"the integer {str(value)[:12]}... ({len(str(abs(value)))} digits) is beyond 64 bits"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number (.inf and .nan are not allowed in a spec)"
    return None


# A non-finite float is refused everywhere except as one of a choice's values: W&B's grid takes NaN as a value
# (it equals NaN for grid coverage, and the trial receives the float NaN).
_CHOICE_VALUE = re.compile(r"(?:\.values|\.choice(?:\.values)?|^values|^choice)\[\d+\]$|\.value$")


def document_problems(doc: Mapping[str, Any]) -> list[Problem]:
    """Refusals of the document as a whole: nesting beyond MAX_DEPTH, more than MAX_VALUES values, huge or
    non-finite numbers. Iterative and bounded, so cyclic or alias-bomb documents end quickly too."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any, int]] = [("", doc, 0)]
    seen = 0
    while stack and len(problems) < 20:
        path, value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            return [*problems, Problem("", f"the spec holds more than {MAX_VALUES:,} values")]
        if depth > MAX_DEPTH:
            problems.append(Problem(path[:60] + "...", f"nested deeper than {MAX_DEPTH} levels"))
            continue
        if isinstance(value, Mapping):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            reason = _number_problem(value)
            if reason and not (_CHOICE_VALUE.search(path) and isinstance(value, float)):
                problems.append(Problem(path, reason))
            continue
        stack.extend((p, v, depth + 1) for p, v in reversed(items))
    return problems


def load_spec(source: str | Path | Mapping[str, Any] | SweepSpec, dialect: str = "auto") -> SweepSpec:
    """A validated SweepSpec from a file path, a dict or a spec; raises SpecError with every problem.

    dialect: "native", "wandb" (a W&B sweep config as it is), or "auto" to tell them apart by their keys.
    """
    if isinstance(source, SweepSpec):
        return source
    origin = "" if isinstance(source, Mapping) else str(source)
    doc = dict(source) if isinstance(source, Mapping) else read_document(source)
    problems = document_problems(doc)
    if problems:
        raise SpecError(problems, origin)
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
