"""``kinhteso retract``: withdraw a vintage's values; nothing is deleted, the history is kept."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import workspace_option
from kinhteso.errors import UsageError
from kinhteso.i18n import tr


def _vintage_id(text: str) -> int:
    try:
        vid = int(str(text).strip())
    except ValueError:
        vid = 0
    if vid <= 0:
        raise UsageError("BAD_VINTAGE", f"--vintage cần số hiệu phiên bản (số nguyên dương, xem `kinhteso vintages`), "
                                        f"không phải '{text}'.",
                         f"--vintage takes a vintage id (a positive integer, see `kinhteso vintages`), not '{text}'.",
                         vintage=text)
    return vid


@click.command("retract")
@click.option("--vintage", "vintage", required=True, metavar="ID",
              help="Số hiệu phiên bản cần rút / the vintage to retract (see `kinhteso vintages`).")
@click.option("--reason", default="", help="Lý do, được ghi lại / why, recorded with the retraction.")
@click.option("--yes", "-y", "yes", is_flag=True, default=False,
              help="Đồng ý không cần hỏi lại / consent without the interactive question.")
@workspace_option
def retract(vintage: str, reason: str, yes: bool, workspace: Path) -> None:
    """Rút một phiên bản số liệu / retract a vintage: withdraw its values, keep the history.

    Nothing is deleted: the retraction itself is recorded (when, why). From then on reads
    (`observations`, `figure`, the pipeline) no longer see the vintage's values, and for each
    key the previous vintage's value is the latest again; `--as-of` a moment before the
    retraction still sees them; `vintages` shows the retraction. Asks for confirmation unless
    --yes (CONFIRMATION_REQUIRED, exit 2, when there is no one to ask). An unknown vintage is
    UNKNOWN_VINTAGE (exit 2); retracting a retracted vintage changes nothing.
    """
    from kinhteso.service.data import RetractRequest, retract as run, vintage as describe  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    vid = _vintage_id(vintage)
    with Workspace.open(workspace) as ws:  # closed while the question waits: readers hold no lock
        rec = describe(ws, vid)
    retracted = rec.get("retracted_at")
    if retracted is not None and retracted == retracted:  # not NaT
        click.echo(tr(f"= Phiên bản {vid} đã được rút lúc {retracted}; không thay đổi gì.",
                      f"= Vintage {vid} was retracted at {retracted} already; nothing changed."))
        return
    if not yes:
        click.echo(tr(f"Phiên bản {vid}: nguồn {rec['source']}, tệp {rec['file_name']}, nhận lúc {rec['received_at']}, "
                      f"{rec['n_rows']} quan sát. Rút phiên bản này thì các giá trị của nó không còn được đọc "
                      "(không xóa gì; vẫn xem được với --as-of trước lúc rút).",
                      f"Vintage {vid}: source {rec['source']}, file {rec['file_name']}, received {rec['received_at']}, "
                      f"{rec['n_rows']} observations. Retracting it withdraws its values from reads "
                      "(nothing is deleted; --as-of a moment before still sees them)."), err=True)
        try:
            ok = click.confirm(tr("Rút phiên bản này?", "Retract this vintage?"), default=False, err=True)
        except click.Abort:
            click.echo("", err=True)
            ok = None
        if not ok:
            if ok is None:
                raise UsageError("CONFIRMATION_REQUIRED",
                                 "Cần xác nhận để rút phiên bản: trả lời 'y' hoặc thêm --yes. Không thay đổi gì.",
                                 "Retracting needs consent: answer 'y' or add --yes. Nothing changed.", vintage=vid)
            click.echo(tr("Không rút; không thay đổi gì.", "Not retracted; nothing changed."))
            return
    with Workspace.open(workspace) as ws:
        out = run(ws, RetractRequest(vid, reason))
    if not out.retracted_now:
        click.echo(tr(f"= Phiên bản {vid} đã được rút lúc {out.retracted_at}; không thay đổi gì.",
                      f"= Vintage {vid} was retracted at {out.retracted_at} already; nothing changed."))
        return
    click.echo(tr(f"✓ Đã rút phiên bản {vid} ({rec['source']}, {rec['file_name']}) lúc {out.retracted_at}; "
                  "không xóa gì.",
                  f"✓ Vintage {vid} ({rec['source']}, {rec['file_name']}) retracted at {out.retracted_at}; "
                  "nothing deleted."))


COMMANDS = [retract]
