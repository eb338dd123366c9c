"""A population sweep's lineage as the page shows it (pure: no I/O): each member's segment over steps, an edge from
parent to child at each exploit, and the best member's parameter schedule as a step chart.

The schedule comes from `orchestrator.lineage.chain`, the rule `Sweep.best_trial()` follows, so the two agree. The tree
is bounded however long the sweep ran: the ancestry of the LINEAGE_BEST best members, at most LINEAGE_TRIALS
trials in all; the schedule chart draws at most SCHEDULE_PARAMS parameters (those that change first).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from orchestrator.dashboard.figures import LAYOUT, MARGIN, Figure, _axis, _title, metric_value
from orchestrator.lineage import Record, chain

LINEAGE_BEST = 10  # the tree draws the ancestry of this many best members
LINEAGE_TRIALS = 200  # and at most this many trials in all
SCHEDULE_PARAMS = 8  # parameters the schedule chart draws
SCHEDULE_ENTRIES = 500  # the schedule's latest entries the page gets (a chain is as long as exploits are deep)


def described(lineage: Any) -> str | None:
    """A member's lineage in a few words ("from #3 @ step 8, replaces #5"); None for a sampled member."""
    if not isinstance(lineage, Mapping) or lineage.get("parent") is None:
        return None
    text = f"from #{lineage['parent']}"
    if lineage.get("step") is not None:
        text += f" @ step {lineage['step']}"
    return text + (f", replaces #{lineage['replaces']}" if lineage.get("replaces") is not None else "")


def _fmt(value: Any) -> str:
    """A value for hover text (plotly reads markup there, so it is escaped)."""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return html.escape(text, quote=False)


def _parent(row: Record) -> int | None:
    parent = (row.get("lineage") or {}).get("parent")
    return None if parent is None else int(parent)


def shown_members(rows: Mapping[int, Record], goal: str, best: int | None) -> list[int]:
    """The trials the tree draws, by number: the best trial, then the other members by their value (infeasible and
    valueless last), each with its ancestors, until LINEAGE_BEST members or LINEAGE_TRIALS trials."""
    sign = -1.0 if goal == "maximize" else 1.0

    def key(t: Record) -> tuple[bool, float, int]:
        value = metric_value(t, goal)
        return (t.get("feasible") is False, math.inf if value is None else sign * value, int(t["number"]))

    order = [int(t["number"]) for t in sorted(rows.values(), key=key)]
    if best is not None and best in rows:
        order = [best, *(n for n in order if n != best)]
    drawn: set[int] = set()
    for members, n in enumerate(order):
        if members >= LINEAGE_BEST or len(drawn) >= LINEAGE_TRIALS:
            break
        current: int | None = n
        while current is not None and current in rows and current not in drawn and len(drawn) < LINEAGE_TRIALS:
            drawn.add(current)
            current = _parent(rows[current])
    return sorted(drawn)


def _exploit_text(n: int, row: Record) -> str:
    """Hover text of a member's start: where it came from and each parameter before -> after the exploit."""
    lineage = row.get("lineage") or {}
    before, after = lineage.get("params_before") or {}, lineage.get("params_after") or row.get("params") or {}
    lines = [f"#{n} {described(lineage) or ''}"]
    for name in after:
        old, new = before.get(name), after[name]
        lines.append(f"{html.escape(str(name), quote=False)}: {_fmt(old)} → {_fmt(new)}" if old != new else
                     f"{html.escape(str(name), quote=False)}: {_fmt(new)}")
    return "<br>".join(lines)


def _span(n: int, row: Record, first: Mapping[int, int], last: Mapping[int, int]) -> tuple[float, float] | None:
    """Where a member's segment starts and ends (its first and last step; an unstarted member sits at its exploit)."""
    start = first.get(n, last.get(n))
    if start is None:
        step = (row.get("lineage") or {}).get("step")
        return None if step is None else (float(step), float(step))
    return float(start), float(last.get(n, start))


class _Traces:
    """The tree's columns: segments (the best chain's apart), exploit edges and exploit markers."""

    def __init__(self) -> None:
        self.segments: dict[bool, tuple[list[Any], list[Any], list[Any]]] = {False: ([], [], []), True: ([], [], [])}
        self.edges: tuple[list[Any], list[Any]] = ([], [])
        self.starts: tuple[list[float], list[int], list[str]] = ([], [], [])

    def add(self, n: int, row: Record, span: tuple[float, float], place: Mapping[int, int], bold: bool, end: str) -> None:
        xs, ys, texts = self.segments[bold]
        xs += [span[0], span[1], None]
        ys += [place[n], place[n], None]
        texts += [f"#{n} from step {span[0]:g}", end, None]
        parent = _parent(row)
        if parent is None:
            return
        if parent in place:  # from the parent's checkpoint (one step before the child's first) to the child
            self.edges[0].extend([span[0] - 1, span[0], None])
            self.edges[1].extend([place[parent], place[n], None])
        self.starts[0].append(span[0])
        self.starts[1].append(place[n])
        self.starts[2].append(_exploit_text(n, row))

    def data(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"type": "scatter", "mode": "lines", "name": "exploit", "x": self.edges[0], "y": self.edges[1],
             "hoverinfo": "skip", "line": {"color": "#9aa5b1", "dash": "dot", "width": 1}},
        ]
        for bold, (xs, ys, texts) in self.segments.items():
            out.append({"type": "scatter", "mode": "lines+markers", "name": "best member's chain" if bold else "member",
                        "x": xs, "y": ys, "hovertext": texts, "hoverinfo": "text", "marker": {"size": 5},
                        "line": {"color": "#1c64f2" if bold else "#7b8794", "width": 4 if bold else 2}})
        out.append({"type": "scatter", "mode": "markers", "name": "params after exploit", "x": self.starts[0],
                    "y": self.starts[1], "hovertext": self.starts[2], "hoverinfo": "text",
                    "marker": {"symbol": "triangle-right", "size": 9, "color": "#b45309"}})
        return out


def lineage_chart(
    rows: Mapping[int, Record], first: Mapping[int, int], last: Mapping[int, int], drawn: Sequence[int],
    best_chain: Iterable[int], goal: str,
) -> Figure:
    """The tree over steps: one row per drawn trial with its segment (first to last step), an edge from the parent's
    checkpoint to the child's first step at each exploit, the best member's chain drawn bold."""
    place, bold, traces = {n: i for i, n in enumerate(drawn)}, set(best_chain), _Traces()
    for n in drawn:
        row, span = rows[n], _span(n, rows[n], first, last)
        if span is not None:
            value = metric_value(row, goal)
            end = f"#{n} {row.get('status')} at step {span[1]:g}" + ("" if value is None else f", value {_fmt(value)}")
            traces.add(n, row, span, place, n in bold, end)
    yaxis = {"title": {"text": "trial"}, "tickvals": list(range(len(drawn))), "ticktext": [f"#{n}" for n in drawn],
             "autorange": "reversed"}
    exploits = sum(1 for r in rows.values() if r.get("lineage"))
    shown = f"all {len(drawn)} trials" if len(drawn) == len(rows) else \
        f"{len(drawn)} of {len(rows)} trials: the best {LINEAGE_BEST} members' ancestry"
    title = f"lineage ({shown}; {exploits} exploits)"
    layout = {**LAYOUT, "title": _title(title), "height": max(300, 120 + 18 * len(drawn)), "hovermode": "closest",
              "xaxis": {"title": {"text": "step"}}, "yaxis": yaxis}
    return {"data": traces.data(), "layout": layout}


def _changing_first(schedule: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The parameters of a schedule, those whose value changes along it first, at most SCHEDULE_PARAMS; and the
    constant ones left out."""
    names: list[str] = []
    for entry in schedule:
        names += [k for k in entry.get("params") or {} if k not in names]
    values = {n: [(e.get("params") or {}).get(n) for e in schedule] for n in names}
    changing = [n for n in names if len({repr(v) for v in values[n]}) > 1]
    constant = [n for n in names if n not in changing]
    shown = (changing or constant)[:SCHEDULE_PARAMS]
    return shown, [n for n in constant if n not in shown]


def schedule_chart(schedule: Sequence[Mapping[str, Any]], end_step: int | None) -> Figure:
    """Each parameter of the best member's schedule against step, as a step chart (one panel per parameter, a
    shared step axis): the value each ancestor ran with from its first step, held until the member's last step."""
    entries = [e for e in schedule if e.get("from_step") is not None]
    shown, constant = _changing_first(entries)
    count = max(1, len(shown))
    data, layout = [], {**LAYOUT, "height": max(300, 90 + 140 * count), "showlegend": False}
    for i, name in enumerate(shown):
        ys, ticks = _axis([(e.get("params") or {}).get(name) for e in entries], markup=True)
        xs = [e["from_step"] for e in entries]
        if end_step is not None and xs and end_step > xs[-1]:
            xs, ys = [*xs, end_step], [*ys, ys[-1]]
        axis = "" if i == 0 else str(i + 1)
        data.append({"type": "scatter", "mode": "lines+markers", "name": html.escape(name, quote=False), "x": xs, "y": ys,
                     "line": {"shape": "hv"}, "xaxis": "x", "yaxis": f"y{axis}",
                     "text": [f"#{e['trial']}" for e in entries] + ([""] * (len(xs) - len(entries)))})
        top, gap = 1 - i / count, 0.06 if count > 1 else 0.0
        layout[f"yaxis{axis}"] = {"title": {"text": html.escape(name, quote=False)}, **ticks,
                                  "domain": [max(0.0, top - 1 / count + gap), top], "anchor": "x"}
    layout["xaxis"] = {"title": {"text": "step"}, "anchor": f"y{'' if count == 1 else count}"}
    note = f" (constant: {', '.join(constant)})" if constant else ""
    title = "best member's parameter schedule" + note if entries else "parameter schedule (no finished member yet)"
    layout["title"] = _title(html.escape(title, quote=False))
    layout["margin"] = {**MARGIN, "l": 90}
    return {"data": data, "layout": layout}


def view(
    rows: Mapping[int, Record], first: Mapping[int, int], last: Mapping[int, int], best: int | None, goal: str,
) -> dict[str, Any]:
    """The page's lineage section: the tree, the best member's schedule (as `best_trial()` builds it; its latest
    SCHEDULE_ENTRIES entries, `schedule_length` says how many it has) and its chart."""
    full = [] if best is None or best not in rows else chain(best, rows.get, first.get)
    schedule = full[-SCHEDULE_ENTRIES:]
    drawn = shown_members(rows, goal, best)
    return {
        "best": best, "schedule": schedule, "schedule_length": len(full),
        "members": sum(1 for r in rows.values() if r.get("lineage")),
        "drawn": len(drawn), "tree": lineage_chart(rows, first, last, drawn, [e["trial"] for e in schedule], goal),
        "schedule_chart": schedule_chart(schedule, None if best is None else last.get(best)),
    }
