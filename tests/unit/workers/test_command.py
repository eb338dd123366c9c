"""Command trials' pure parts: macro expansion and stdout metric lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.spec import CommandTrial
from workers.runners.command import MacroError, expand, parse_metric_line

KNOWN = {"loss", "accuracy", "step_time"}.__contains__


def trial(*command: str, program: str | None = None) -> CommandTrial:
    return CommandTrial(command=command, program=program)


def test_args_macros_expand_to_one_item_per_parameter(tmp_path: Path) -> None:
    params = {"lr": 0.01, "opt.kind": "adam", "layers": 3}
    argv = expand(trial("run", "${args}", "--", "${args_no_hyphens}"), params, tmp_path, {})
    assert argv == ["run", "--lr=0.01", "--opt.kind=adam", "--layers=3", "--", "lr=0.01", "opt.kind=adam", "layers=3"]


def test_a_value_with_shell_characters_stays_one_argument(tmp_path: Path) -> None:
    argv = expand(trial("run", "${args}"), {"name": "a b; rm -rf / $(x)"}, tmp_path, {})
    assert argv == ["run", "--name=a b; rm -rf / $(x)"]


def test_json_macros_carry_nested_parameters(tmp_path: Path) -> None:
    params = {"x": 1.5, "opt.lr": 0.1}
    argv = expand(trial("run", "${args_json}", "${args_json_file}"), params, tmp_path, {})
    assert json.loads(argv[1]) == {"x": 1.5, "opt": {"lr": 0.1}}
    assert json.loads(Path(argv[2]).read_text()) == {"x": 1.5, "opt": {"lr": 0.1}}


def test_program_envvar_and_output_dir_substitute_inside_items(tmp_path: Path) -> None:
    argv = expand(trial("${program}", "--token=${envvar:TOKEN}", "--out=${output_dir}", program="train.py"), {}, tmp_path, {"TOKEN": "t0"})
    assert argv == ["train.py", "--token=t0", f"--out={tmp_path}"]


def test_boolean_flags_macro_drops_false_and_bare_true(tmp_path: Path) -> None:
    argv = expand(trial("${args_no_boolean_flags}"), {"amp": True, "ema": False, "lr": 0.1}, tmp_path, {})
    assert argv == ["--amp", "--lr=0.1"]


def test_an_unset_envvar_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MacroError, match="MISSING is not set"):
        expand(trial("${envvar:MISSING}"), {}, tmp_path, {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("epoch=3 accuracy=0.912", ({"accuracy": 0.912}, 3)),
        ("loss=1e-3", ({"loss": 0.001}, None)),
        ("step=2 loss=0.5 step_time=0.01 lr=0.1", ({"loss": 0.5, "step_time": 0.01}, 2)),
        ("loss=nan", ({"loss": float("nan")}, None)),
    ],
)
def test_metric_lines_give_known_metrics_and_the_step(line: str, expected: tuple[dict[str, float], int | None]) -> None:
    parsed = parse_metric_line(line, KNOWN)
    assert parsed is not None
    metrics, step = parsed
    assert step == expected[1]
    assert metrics.keys() == expected[0].keys()
    for name, value in expected[0].items():
        assert metrics[name] == value or (value != value and metrics[name] != metrics[name])


@pytest.mark.parametrize(
    "line",
    ["Epoch 3: loss=0.5", "loss=oops", "lr=0.1 momentum=0.9", "", "loss = 0.5", "loss=0.5, accuracy=0.9"],
)
def test_other_lines_are_not_reports(line: str) -> None:
    assert parse_metric_line(line, KNOWN) is None


def test_args_split_passes_name_and_value_as_two_arguments_like_hyperdrive(tmp_path: Path) -> None:
    argv = expand(trial("train.py", "${args_split}"), {"learning_rate": 0.01, "momentum": 0.9}, tmp_path, {})
    assert argv == ["train.py", "--learning_rate", "0.01", "--momentum", "0.9"]


def test_an_explicit_sweepq_line_reports_any_name() -> None:
    assert parse_metric_line("sweepq: val_loss=0.25 epoch=2", KNOWN) == ({"val_loss": 0.25}, 2)
    assert parse_metric_line("val_loss=0.25", KNOWN) is None
