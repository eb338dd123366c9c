// sweepq's dashboard and report pages. Every user-supplied string is set with textContent, never as HTML.
(function () {
  "use strict";
  const CHARTS = ["metrics", "parallel", "scatter2d", "scatter3d", "importance"];
  const config = { responsive: true, displaylogo: false };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(5);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function duration(s) {
    if (!s && s !== 0) return "";
    const m = Math.floor(s / 60), sec = Math.round(s % 60);
    return m ? `${m} min ${sec} s` : `${sec} s`;
  }
  function done(counts) {
    return ["completed", "failed", "stopped", "canceled"].reduce((n, k) => n + (counts[k] || 0), 0);
  }
  function fillBody(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows.map((cells) => {
      const tr = el("tr");
      cells.forEach(([text, cls]) => {
        if (text instanceof Node) { const td = el("td", "", cls); td.appendChild(text); tr.appendChild(td); }
        else tr.appendChild(el("td", text, cls));
      });
      return tr;
    }));
  }

  function renderHeader(p) {
    const s = p.status, counts = s.counts || {};
    document.getElementById("name").textContent = `${s.name} (${s.id})`;
    document.getElementById("summary").textContent =
      `${s.status}${s.reason ? " — " + s.reason : ""} · ${p.has_metric ? `${p.metric} (${p.goal})` : "no metric"}` +
      ` · policy ${p.policy}`;
    const known = p.population ? p.best : s.best;  // a population's best is ranked as best_trial() ranks it
    const best = !p.has_metric ? "no metric" : known ? `${fmt(known.value)} (#${known.number})` : "—";
    document.getElementById("progress").textContent =
      `${done(counts)} / ${s.total || "?"} trials done · running ${counts.running || 0} · queued ${counts.queued || 0}` +
      ` · stopped ${counts.stopped || 0} · failed ${counts.failed || 0} · best ${best} · elapsed ${duration(p.elapsed)}`;
  }

  // A poll that found nothing new ("unchanged") only refreshes the header; otherwise the charts are drawn again
  // (they come downsampled) and the shown page of the trials table is fetched again.
  function render(p, opts) {
    if (p.unchanged && opts.last) {
      opts.last = Object.assign({}, opts.last, { status: p.status, elapsed: p.elapsed });
      renderHeader(opts.last);
      return;
    }
    opts.last = p;
    opts.version = p.version;
    renderHeader(p);
    renderBest(p);
    renderLineage(p);
    for (const key of CHARTS) {
      const fig = p.charts[key];
      Plotly.react(document.getElementById("chart-" + key), fig.data, fig.layout, config);
    }
    loadTrials(p, opts);
    fillBody(document.getElementById("decisions"), p.decisions.map((d) => [
      [d.trial], [d.interval], [fmt(d.value)], [fmt(d.threshold)],
      [d.stop ? "stop" : "continue", d.stop ? "status-stopped" : ""], [d.policy], [d.reason],
    ]));
    const more = document.getElementById("decisions-note"), tot = p.decision_totals || {};
    const counted = (tot.continue || 0) - (tot.continue_listed || 0);
    if (more) more.textContent = [
      p.decision_count > p.decisions.length ?
        `the latest ${p.decisions.length} of ${p.decision_count} kept decisions (all of them: sweepq decisions)` : "",
      tot.stop !== undefined ? `${tot.stop} stop, ${tot.continue} continue decisions` +
        (counted ? `; ${counted} continues counted, not listed (SWEEPQ_KEEP_CONTINUE_DECISIONS=true keeps them)` : "") : "",
    ].filter(Boolean).join(" · ");
    if (opts.live) renderAxes(p, opts);
  }

  function localPage(rows, q) {  // the report's embedded rows, paged and sorted as the dashboard's API does
    const key = q.sort, has = (r) => ["number", "string"].includes(typeof r[key]);
    const valued = rows.filter(has).sort((a, b) => {
      const ta = typeof a[key] === "string", tb = typeof b[key] === "string";
      const c = ta !== tb ? (ta ? 1 : -1) : (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.number - b.number);
      return q.desc ? -c : c;
    });
    const ordered = valued.concat(rows.filter((r) => !has(r)));
    return { total: ordered.length, rows: ordered.slice(q.offset, q.offset + q.limit) };
  }

  async function loadTrials(p, opts) {
    const q = opts.table;
    let page;
    if (p.trials) page = localPage(p.trials, q);
    else {
      const params = new URLSearchParams({ offset: q.offset, limit: q.limit, sort: q.sort, desc: q.desc ? "1" : "0" });
      const response = await fetch(opts.api + "/trials?" + params.toString());
      if (!response.ok) return;
      page = await response.json();
    }
    renderTrials(p, page, opts);
  }

  function renderBest(p) {
    const box = document.getElementById("best");
    if (!p.has_metric) { box.replaceChildren(el("p", "no metric: this sweep has no best trial", "muted")); return; }
    if (!p.best) { box.replaceChildren(el("p", "no finished trial with a metric yet", "muted")); return; }
    const text = JSON.stringify(p.best.params, null, 2);
    const pre = el("pre", text);
    pre.id = "best-params";
    const button = el("button", "Copy parameters");
    button.addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(text));
    box.replaceChildren(el("p", `#${p.best.number}: ${p.metric} = ${fmt(p.best.value)}`), pre, button);
  }

  // A population sweep's lineage (the tree of the best members' ancestry) and the best member's parameter schedule.
  function renderLineage(p) {
    const box = document.getElementById("lineage-section"), lin = p.lineage;
    if (!box) return;
    box.hidden = !lin;
    if (!lin) return;
    Plotly.react(document.getElementById("chart-lineage"), lin.tree.data, lin.tree.layout, config);
    Plotly.react(document.getElementById("chart-schedule"), lin.schedule_chart.data, lin.schedule_chart.layout, config);
    const steps = lin.schedule.slice(-12).map((e) => `#${e.trial} from step ${e.from_step === null ? "?" : e.from_step}`);
    const cut = lin.schedule_length > steps.length ? "… → " : "";
    document.getElementById("lineage-note").textContent = lin.best === null ? "no finished member yet" :
      `best member #${lin.best}, ${lin.schedule_length} segments: ${cut}${steps.join(" → ")}`;
  }

  function lineageCells(p, t) {  // the feasible and lineage columns, where the sweep has them
    const cells = [];
    if (p.constrained) {
      cells.push(t.feasible === false ? ["infeasible", "status-failed"] : [t.feasible === true ? "yes" : ""]);
    }
    if (p.population) cells.push([t.lineage || ""]);
    return cells;
  }

  function renderTrials(p, page, opts) {
    const table = document.getElementById("trials"), q = opts.table;
    const head = el("tr");
    const images = location.protocol.startsWith("http") && page.rows.some((t) => (t.images || []).length);
    const columns = [["#", "number"], ["status", "status"], [p.metric, "value"], ["best", "best"],
      ...(p.constrained ? [["feasible", "feasible"]] : []), ...(p.population ? [["lineage", null]] : []),
      ...p.params.map((n) => [n, null]), ["reports", "reports"], ["seconds", "seconds"], ["worker", "worker"],
      ["error", null], ...(images ? [["images", null]] : [])];
    columns.forEach(([label, key]) => {
      const th = el("th", label + (key && key === q.sort ? (q.desc ? " ▼" : " ▲") : ""));
      if (key) {
        th.style.cursor = "pointer";
        th.addEventListener("click", () => {
          q.desc = q.sort === key ? !q.desc : false; q.sort = key; q.offset = 0; loadTrials(opts.last, opts);
        });
      }
      head.appendChild(th);
    });
    table.tHead.replaceChildren(head);
    fillBody(table, page.rows.map((t) => [
      [t.number], [t.status, "status-" + t.status], [fmt(t.value)], [fmt(t.best)], ...lineageCells(p, t),
      ...p.params.map((n) => [fmt(t.params[n])]),
      [t.reports], [t.seconds === null ? "" : t.seconds.toFixed(1)], [t.worker], [(t.error || "").split("\n").pop()],
      ...(images ? [[trialImages(p, t)]] : []),
    ]));
    renderPager(page, opts);
  }

  function renderPager(page, opts) {
    const box = document.getElementById("trials-pager"), q = opts.table;
    if (!box) return;
    const last = Math.min(q.offset + q.limit, page.total);
    const prev = el("button", "« previous"), next = el("button", "next »");
    prev.disabled = q.offset === 0; next.disabled = last >= page.total;
    prev.addEventListener("click", () => { q.offset = Math.max(0, q.offset - q.limit); loadTrials(opts.last, opts); });
    next.addEventListener("click", () => { q.offset += q.limit; loadTrials(opts.last, opts); });
    box.replaceChildren(prev, el("span", ` trials ${page.total ? q.offset + 1 : 0}–${last} of ${page.total} `), next);
  }

  function trialImages(p, t) {  // the images a trial logged (Run.log_image), served by the live dashboard
    const box = el("span");
    (t.images || []).forEach((path) => {
      const href = `/sweeps/${encodeURIComponent(p.status.id)}/trials/${t.number}/images/` +
        encodeURIComponent(path.split("/").pop());
      const a = el("a"); a.href = href; a.target = "_blank";
      const img = el("img"); img.src = href; img.alt = path; img.style.height = "48px";
      a.appendChild(img); box.appendChild(a);
    });
    return box;
  }

  function renderAxes(p, opts) {
    [["axes2", 2], ["axes3", 3]].forEach(([id, n]) => {
      const box = document.getElementById(id);
      if (!box || box.childElementCount || p.params.length < 2) return;
      const chosen = p[id];
      for (let i = 0; i < Math.min(n, p.params.length); i++) {
        const select = el("select");
        p.params.forEach((name) => { const o = el("option", name); o.value = name; select.appendChild(o); });
        select.value = chosen[i] || p.params[i];
        select.addEventListener("change", () => {
          opts[id] = Array.from(box.querySelectorAll("select")).map((s) => s.value);
          opts.version = null;  // other axes: the charts are built again
          refresh(opts);
        });
        box.appendChild(select);
      }
    });
  }

  async function refresh(opts) {
    const q = new URLSearchParams();
    if (opts.version) q.set("since", opts.version);
    if (opts.axes2) q.set("axes2", opts.axes2.join(","));
    if (opts.axes3) q.set("axes3", opts.axes3.join(","));
    const response = await fetch(opts.api + "?" + q.toString());
    if (response.ok) render(await response.json(), opts);
  }

  function sweepPage(payload, opts) {
    opts.table = { offset: 0, limit: 50, sort: "number", desc: false };
    render(payload, opts);
    if (opts.allowCancel) {
      document.getElementById("cancel").addEventListener("click", async () => {
        if (!confirm("Cancel this sweep? Running trials are stopped.")) return;
        await fetch(opts.api + "/cancel", { method: "POST", headers: { "X-Sweepq": "1" } });
        refresh(opts);
      });
    }
    if (opts.live) setInterval(() => refresh(opts).catch(() => {}), 2000);
  }

  function listPage(table, root) {
    async function load() {
      const response = await fetch(root + "api/sweeps");
      if (!response.ok) return;
      const sweeps = await response.json();
      table.tBodies[0].replaceChildren(...sweeps.map((s) => {
        const tr = el("tr"), link = el("a", s.id);
        link.href = root + "sweeps/" + encodeURIComponent(s.id);
        const first = el("td"); first.appendChild(link); tr.appendChild(first);
        const counts = s.counts || {};
        [[s.name], [s.status, "status-" + s.status], [`${done(counts)} / ${s.total || "?"}`], [counts.running || 0],
         [!s.metric ? "no metric" : s.best ? fmt(s.best.value) : ""], [duration(s.elapsed)]]
          .forEach(([text, cls]) => tr.appendChild(el("td", text, cls)));
        return tr;
      }));
    }
    load();
    setInterval(() => load().catch(() => {}), 2000);
  }

  window.sweepq = { sweepPage, listPage };
})();
