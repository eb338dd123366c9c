"""The live dashboard: a small Starlette app over the ledger in Redis; read-only unless started with a flag."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from orchestrator.client import SweepClient
from orchestrator.dashboard.auth import BasicAuth
from orchestrator.dashboard.live import LiveSweep, LiveSweeps
from orchestrator.dashboard.render import finite, index_page, plotly_js_path, script_js, sweep_page


def _axes(request: Request, name: str) -> list[str]:
    raw = request.query_params.get(name, "")
    return [a for a in raw.split(",") if a]


def create_dashboard(
    client: SweepClient, *, allow_cancel: bool = False, where: str = "", auth: tuple[str, str] | None = None
) -> Starlette:
    """The ASGI app; `allow_cancel` adds the cancel button and its endpoint (POST with an X-Sweepq header);
    `auth` (user, password) puts every page and endpoint behind HTTP basic auth."""

    live = LiveSweeps(client)

    def sweep_or_404(sweep_id: str) -> Any:
        try:
            return client.sweep(sweep_id)
        except KeyError:
            return None

    def live_or_404(sweep_id: str) -> LiveSweep | None:
        try:
            return live.get(sweep_id)
        except KeyError:
            return None

    async def index(request: Request) -> Response:
        return HTMLResponse(index_page(where))

    async def sweeps(request: Request) -> Response:
        rows = client.sweeps()
        for s in rows:
            start = s.get("started") or s.get("created") or time.time()
            s["elapsed"] = (s.get("ended") or time.time()) - start
        return JSONResponse(finite(list(reversed(rows))))

    async def sweep_html(request: Request) -> Response:
        view = live_or_404(request.path_params["sweep_id"])
        if view is None:
            return HTMLResponse("no such sweep", status_code=404)
        return HTMLResponse(sweep_page(view.poll(), live=True, allow_cancel=allow_cancel))

    async def sweep_json(request: Request) -> Response:
        """The page's data; with ?since=<version> only "unchanged" and the status when nothing moved since."""
        view = live_or_404(request.path_params["sweep_id"])
        if view is None:
            return JSONResponse({"error": "no such sweep"}, status_code=404)
        since = request.query_params.get("since", "")
        return JSONResponse(finite(view.poll(since, _axes(request, "axes2"), _axes(request, "axes3"))))

    async def trials_json(request: Request) -> Response:
        """One page of the trials table: ?offset=&limit=&sort=<column>&desc=1."""
        view = live_or_404(request.path_params["sweep_id"])
        if view is None:
            return JSONResponse({"error": "no such sweep"}, status_code=404)
        q = request.query_params
        try:
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "50"))
        except ValueError:
            return JSONResponse({"error": "offset and limit are whole numbers"}, status_code=400)
        page = view.trials(offset, limit, q.get("sort", "number"), q.get("desc", "0") in ("1", "true"))
        return JSONResponse(finite(page))

    async def cancel(request: Request) -> Response:
        if not allow_cancel:
            return JSONResponse({"error": "read-only dashboard (start it with --allow-cancel)"}, status_code=403)
        if request.headers.get("x-sweepq") != "1":
            return JSONResponse({"error": "missing X-Sweepq header"}, status_code=400)
        sweep = sweep_or_404(request.path_params["sweep_id"])
        if sweep is None:
            return JSONResponse({"error": "no such sweep"}, status_code=404)
        sweep.cancel()
        return JSONResponse({"ok": True})

    async def trial_image(request: Request) -> Response:
        """An image a trial logged (Run.log_image), from its folder's images/; nothing else is served."""
        record = client.ledger.trial(request.path_params["sweep_id"], int(request.path_params["number"])) or {}
        folder = Path(str(record.get("output_dir") or "")) / "images"
        target = (folder / request.path_params["name"]).resolve()
        if not record.get("output_dir") or target.parent != folder.resolve() or not target.is_file():
            return JSONResponse({"error": "no such image"}, status_code=404)
        return FileResponse(target)

    async def plotly_js(request: Request) -> Response:
        return FileResponse(plotly_js_path(), media_type="text/javascript")

    async def page_js(request: Request) -> Response:
        return Response(script_js(), media_type="text/javascript")

    routes = [
        Route("/", index),
        Route("/api/sweeps", sweeps),
        Route("/api/sweeps/{sweep_id}", sweep_json),
        Route("/api/sweeps/{sweep_id}/trials", trials_json),
        Route("/api/sweeps/{sweep_id}/cancel", cancel, methods=["POST"]),
        Route("/sweeps/{sweep_id}", sweep_html),
        Route("/sweeps/{sweep_id}/trials/{number:int}/images/{name}", trial_image),
        Route("/static/plotly.min.js", plotly_js),
        Route("/static/sweepq.js", page_js),
    ]
    middleware = [Middleware(BasicAuth, user=auth[0], password=auth[1])] if auth else []
    return Starlette(routes=routes, middleware=middleware)
