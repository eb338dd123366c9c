"""A population sweep's lineage on the page: the schedule chain, the bounded tree, the step chart and the table's
lineage and feasible columns (pure)."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.dashboard import lineage
from orchestrator.dashboard.payload import SweepData, build, table_page, table_row
from orchestrator.loading import load_spec

BASE: dict[str, Any] = {
    "name": "pbt", "trial": {"function": "tests.integration.trials:sleepy"},
    "parameters": {"lr": {"uniform": [0, 1]}, "m": {"uniform": [0, 1]}}, "metric": {"name": "acc", "goal": "maximize"},
    "limits": {"max_total_runs": 10},
}
PBT = load_spec({**BASE, "population": {"policy": "pbt", "size": 2, "perturbation_interval": 2}})
PLAIN = load_spec(BASE)
CONSTRAINED = load_spec({**BASE, "constraints": [{"metric": "lat", "max": 5}]})


def exploit(parent: int, replaces: int, step: int, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {"parent": parent, "replaces": replaces, "interval": 2, "step": step, "params_before": before,
            "params_after": after, "parent_params": {}}


# #0 and #1 sampled; #1 exploited at step 4 and replaced by #2, a copy of #0 with lr explored; #2 runs on to step 9
ROWS = [
    {"number": 0, "status": "completed", "params": {"lr": 0.1, "m": 0.5}, "best": 0.9, "value": 0.9, "attempt": 1},
    {"number": 1, "status": "stopped", "params": {"lr": 0.2, "m": 0.5}, "best": 0.3, "value": None, "attempt": 1},
    {"number": 2, "status": "completed", "params": {"lr": 0.12, "m": 0.5}, "best": 0.95, "value": 0.95, "attempt": 1,
     "lineage": exploit(0, 1, 4, {"lr": 0.2, "m": 0.5}, {"lr": 0.12, "m": 0.5})},
]
STEPS = {0: range(1, 10), 1: range(1, 5), 2: range(4, 10)}  # #2 continues from #0's checkpoint at step 3


def population(spec: Any = PBT) -> SweepData:
    d = SweepData(status={"id": "s", "name": "pbt", "best": {"number": 2, "value": 0.95}}, spec=spec)
    d.set_rows(dict(r) for r in ROWS)
    for trial, steps in STEPS.items():
        for step in steps:
            d.add_raw_report(trial, 1, json.dumps({"acc": step / 10}).encode(), str(step).encode())
    return d


def test_the_schedule_chain_follows_parents_back_to_a_sampled_member_oldest_first() -> None:
    d = population()
    chain = lineage.chain(2, d.rows.get, d.first_steps.get)
    assert chain == [{"trial": 0, "params": {"lr": 0.1, "m": 0.5}, "from_step": 1},
                     {"trial": 2, "params": {"lr": 0.12, "m": 0.5}, "from_step": 4}]
    assert lineage.chain(1, d.rows.get, d.first_steps.get) == [{"trial": 1, "params": ROWS[1]["params"], "from_step": 1}]


def test_steps_are_kept_for_population_sweeps_only_from_reports_curves_and_decoded_values() -> None:
    d = population()
    assert d.first_steps == {0: 1, 1: 1, 2: 4} and d.last_steps == {0: 9, 1: 4, 2: 9}
    d.add_report(2, 2, {"acc": 1.0}, 11)  # a retry continues: the segment grows, its start stays attempt 1's
    d.add_curve(5, [b"1-0|1||6|0.0|{}", b"2-0|1||7|0.0|{}"])
    assert (d.first_steps[2], d.last_steps[2]) == (4, 11) and (d.first_steps[5], d.last_steps[5]) == (6, 7)
    plain = SweepData(status={"id": "s"}, spec=PLAIN)
    plain.add_raw_report(0, 1, b'{"acc": 1}', b"3")
    assert plain.first_steps == {} and plain.last_steps == {}


def test_a_member_s_lineage_reads_as_words_in_the_table() -> None:
    assert lineage.described(ROWS[2]["lineage"]) == "from #0 @ step 4, replaces #1"
    assert lineage.described(None) is None and lineage.described({"parent": None}) is None
    assert table_row(ROWS[2])["lineage"] == "from #0 @ step 4, replaces #1"
    assert table_row(ROWS[0])["lineage"] is None


def test_the_page_has_a_lineage_section_for_population_sweeps_only() -> None:
    page = build(population())
    assert page["population"] is True and page["constrained"] is False
    section = page["lineage"]
    assert section["best"] == 2 and [e["trial"] for e in section["schedule"]] == [0, 2]
    assert section["schedule_length"] == 2 and section["members"] == 1 and section["drawn"] == 3
    assert build(SweepData(status={"id": "s"}, spec=PLAIN))["lineage"] is None
    json.dumps(page, allow_nan=False)  # strict JSON


def test_a_population_s_best_is_ranked_as_best_trial_ranks_it_the_first_by_number_on_ties() -> None:
    d = population()
    d.rows[0] |= {"best": 0.95, "value": 0.95}  # #2 continued #0's checkpoint and ended on the same value
    assert d.status["best"]["number"] == 2  # the scheduler keeps the first to finish
    page = build(d)
    assert page["best"]["number"] == 0 and page["lineage"]["best"] == 0
    assert [e["trial"] for e in page["lineage"]["schedule"]] == [0]


def test_the_tree_draws_segments_an_edge_at_each_exploit_and_hover_shows_params_before_and_after() -> None:
    tree = build(population())["lineage"]["tree"]
    traces = {t["name"]: t for t in tree["data"]}
    edge = traces["exploit"]
    assert edge["x"] == [3, 4, None] and edge["y"] == [0, 2, None]  # #0's checkpoint at step 3 -> #2's first step
    best = traces["best member's chain"]
    assert best["x"] == [1, 9, None, 4, 9, None] and best["y"] == [0, 0, None, 2, 2, None]  # #0 then #2
    assert traces["member"]["x"] == [1, 4, None]  # #1 until it was exploited
    hover = traces["params after exploit"]["hovertext"][0]
    assert "from #0 @ step 4" in hover and "lr: 0.2 → 0.12" in hover and "m: 0.5" in hover
    assert tree["layout"]["yaxis"]["ticktext"] == ["#0", "#1", "#2"]


def test_the_schedule_chart_steps_each_changing_parameter_to_the_member_s_last_step() -> None:
    chart = build(population())["lineage"]["schedule_chart"]
    (lr,) = chart["data"]
    assert lr["name"] == "lr" and lr["line"]["shape"] == "hv"
    assert lr["x"] == [1, 4, 9] and lr["y"] == [0.1, 0.12, 0.12]
    assert "constant: m" in chart["layout"]["title"]["text"]


def test_hover_text_and_axis_titles_escape_parameter_markup() -> None:
    rows = {0: {"number": 0, "status": "completed", "params": {"<b>": "<i>x</i>"}, "best": 1.0},
            1: {"number": 1, "status": "running", "params": {"<b>": "<i>y</i>"}, "best": 0.5,
                "lineage": exploit(0, 9, 2, {"<b>": "<i>x</i>"}, {"<b>": "<i>y</i>"})}}
    view = lineage.view(rows, {0: 1, 1: 3}, {0: 4, 1: 5}, 1, "maximize")
    hover = json.dumps(view["tree"]["data"]) + json.dumps(view["schedule_chart"])
    assert "<b>" not in hover and "<i>" not in hover and "&lt;b&gt;" in hover


def test_the_tree_is_bounded_to_the_best_members_ancestry() -> None:
    rows: dict[int, dict[str, Any]] = {}
    for n in range(600):  # a long sweep: every member a child of the one before (one deep chain) plus loose ones
        parent = n - 1 if n % 2 and n > 1 else None
        rows[n] = {"number": n, "status": "stopped", "params": {"lr": n}, "best": float(n % 97),
                   "lineage": None if parent is None else exploit(parent, n, n, {}, {"lr": n})}
    drawn = lineage.shown_members(rows, "maximize", best=599)
    assert len(drawn) <= lineage.LINEAGE_TRIALS and 599 in drawn and 598 in drawn  # the best one and its parent
    view = lineage.view(rows, {n: n for n in rows}, {n: n + 1 for n in rows}, 599, "maximize")
    assert view["drawn"] == len(drawn) and len(view["tree"]["layout"]["yaxis"]["ticktext"]) == len(drawn)
    assert len(view["schedule"]) <= lineage.SCHEDULE_ENTRIES


def test_infeasible_trials_are_marked_in_the_table_and_never_the_best() -> None:
    d = SweepData(status={"id": "s"}, spec=CONSTRAINED)
    d.set_rows([{"number": 0, "status": "completed", "params": {"lr": 0.1}, "best": 0.99, "value": 0.99,
                 "feasible": False},
                {"number": 1, "status": "completed", "params": {"lr": 0.2}, "best": 0.5, "value": 0.5,
                 "feasible": True, "final_metrics": {"lat": 3.0}}])
    page = build(d)
    assert page["constrained"] is True and page["population"] is False and page["lineage"] is None
    assert [r["feasible"] for r in page["trials"]] == [False, True]
    assert page["best"]["number"] == 1
    assert [r["number"] for r in table_page(d.rows.values(), sort="feasible")["rows"]] == [0, 1]
    assert "#0 (infeasible)" in page["charts"]["scatter2d"]["data"][0]["text"]


def test_the_page_says_how_many_continues_were_only_counted() -> None:
    d = SweepData(status={"id": "s"}, spec=PLAIN)
    d.set_decisions([{"trial": 1, "stop": True}, {"trial": 2, "stop": False}, {"trial": 3, "stop": True}], counted=40)
    assert build(d)["decision_totals"] == {"stop": 2, "continue": 41, "continue_listed": 1}
