"""``kinhteso serve``: the HTTP API (and, later, the dashboard) over one workspace."""

from __future__ import annotations

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
    """Máy chủ API / serve the HTTP API over a workspace (OpenAPI at /openapi.json).

    The server owns the workspace while it runs: other processes' writes wait for it (go through
    the API); its own readers never wait on a write. Stop it with Ctrl+C.
    """
    import uvicorn  # noqa: PLC0415

    from kinhteso.api import create_app  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:  # a clear NO_WORKSPACE / STORE_OPEN before the server starts
        ws.store.schema_version()
    click.echo(tr(f"kinhteso API: http://{host}:{port}/api/v1 (tài liệu: /docs, /openapi.json) — không gian {workspace}",
                  f"kinhteso API: http://{host}:{port}/api/v1 (docs: /docs, /openapi.json) — workspace {workspace}"))
    from kinhteso.api.submissions import stop_ingest_pool  # noqa: PLC0415

    try:
        uvicorn.run(create_app(workspace, private=private), host=host, port=port, log_level="warning")
    finally:
        stop_ingest_pool()  # the worker processes that check submissions


COMMANDS = [serve]
