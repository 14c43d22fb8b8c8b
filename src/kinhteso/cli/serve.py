"""``kinhteso serve``: the dashboard and the HTTP API over one workspace."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from kinhteso.cli._common import workspace_option
from kinhteso.i18n import tr


@click.command("serve")
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe / address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Cổng / port.")
@click.option("--private", is_flag=True, default=False,
              help="Kết quả công bố cũng cần quyền đọc / published results need a read grant too.")
def serve(workspace: Path, host: str, port: int, private: bool) -> None:
    """Bảng điều khiển và API / serve the dashboard (at /) and the HTTP API (at /api/v1, OpenAPI at /openapi.json).

    The server owns the workspace while it runs: other processes' writes wait for it (go through
    the API); its own readers never wait on a write. Stop it with Ctrl+C.
    """
    import uvicorn  # noqa: PLC0415

    from kinhteso.api import create_app  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:  # a clear NO_WORKSPACE / STORE_OPEN before the server starts
        ws.store.schema_version()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(tr(f"Bảng điều khiển / dashboard: http://{shown}:{port}/   (Ctrl+C để dừng)",
                  f"Dashboard: http://{shown}:{port}/   (Ctrl+C to stop)"))
    click.echo(tr(f"kinhteso API: http://{shown}:{port}/api/v1 (tài liệu: /docs, /openapi.json) — không gian {workspace}",
                  f"kinhteso API: http://{shown}:{port}/api/v1 (docs: /docs, /openapi.json) — workspace {workspace}"))
    from kinhteso.api.submissions import stop_ingest_pool  # noqa: PLC0415

    server = uvicorn.Server(uvicorn.Config(create_app(workspace, private=private), host=host, port=port,
                                           log_level="warning"))
    if not private:
        threading.Thread(target=_warm, args=(server, f"http://{shown}:{port}"), daemon=True).start()
    try:
        server.run()
    finally:
        stop_ingest_pool()  # the worker processes that check submissions


#: The pages computed as soon as the server is up, so that the first reader does not wait for them.
WARM_PAGES = ("/", "/?lang=en")


def _warm(server, base: str) -> None:
    """Request :data:`WARM_PAGES` once the server listens (their content is then cached)."""
    import time  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    for _ in range(600):
        if server.started or server.should_exit:
            break
        time.sleep(0.1)
    for path in WARM_PAGES:
        if server.should_exit:
            return
        try:
            with urllib.request.urlopen(base + path, timeout=600) as r:  # noqa: S310 - our own loopback address
                r.read()
        except OSError:
            return


COMMANDS = [serve]
