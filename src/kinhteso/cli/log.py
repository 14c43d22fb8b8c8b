"""``kinhteso log verify`` and ``kinhteso log export``: the tamper-evident exchange log of the API."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import to_json, workspace_option
from kinhteso.i18n import tr


@click.group("log")
def log_group() -> None:
    """Nhật ký trao đổi / the exchange log: every API request and response, chained by hashes."""


@log_group.command("verify")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Định dạng đầu ra / output format.")
@workspace_option
def log_verify(fmt: str, workspace: Path) -> None:
    """Kiểm tra chuỗi băm / check the chain of the exchange log (exit 0 intact, 1 broken).

    Each entry's hash covers its fields and the previous entry's hash; an entry changed,
    deleted or inserted breaks the chain from there, and the first broken entry is named
    (LOG_BROKEN, exit 1). Entries cut from the end leave a shorter chain that is intact: note the
    head printed (entries, last id, last hash) and compare it the next time. Run it while no
    server holds the workspace.
    """
    from kinhteso.errors import KinhtesoError  # noqa: PLC0415
    from kinhteso.service.exchange_log import verify_log  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    with Workspace.open(workspace) as ws:
        check = verify_log(ws)
    if fmt == "json":
        click.echo(to_json(check.as_dict()))
    b = check.broken
    if b is not None:
        raise KinhtesoError("LOG_BROKEN",
                            f"Nhật ký trao đổi đã bị can thiệp. {b.vi}",
                            f"The exchange log was tampered with. {b.en}", entry=b.entry_id, reason=b.reason)
    if fmt == "text":
        click.echo(tr(f"✓ Nhật ký trao đổi nguyên vẹn: {check.entries} mục, mục cuối {check.last_entry_id}, "
                      f"mã băm cuối {check.head}.",
                      f"✓ The exchange log is intact: {check.entries} entries, the last {check.last_entry_id}, "
                      f"its hash {check.head}."))


@log_group.command("export")
@click.option("--since", "since", metavar="D", default=None,
              help="Từ ngày / from this date or moment on (2026-11-26, 2026-11-26T10:00); all when omitted.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp CSV / CSV file to write (atomically); standard output when omitted.")
@workspace_option
def log_export(since: str | None, out: Path | None, workspace: Path) -> None:
    """Xuất nhật ký ra CSV / export the exchange log as CSV for an auditor.

    One row per entry, oldest first: entry_id, logged_at, member, method, endpoint, status,
    request_sha256, response_sha256, outcome, prev_hash, entry_hash (enough to check the chain
    again). Text cells that a spreadsheet would run as a formula are neutralised.
    """
    from kinhteso.safe_io import csv_text, write_csv_atomic  # noqa: PLC0415
    from kinhteso.service.exchange_log import log_entries, parse_since  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    moment = parse_since(since)
    with Workspace.open(workspace) as ws:
        frame = log_entries(ws, moment)
    if out is None:
        click.echo(csv_text(frame), nl=False)
        return
    write_csv_atomic(out, frame)
    click.echo(tr(f"✓ Đã ghi {len(frame)} mục nhật ký vào {out}.", f"✓ Wrote {len(frame)} log entries to {out}."),
               err=True)


COMMANDS = [log_group]
