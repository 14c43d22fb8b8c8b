"""The VSIC code lists and their correspondence: kinhteso vsic."""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import format_option, render_frame, workspace_option
from kinhteso.i18n import tr


@click.command("vsic")
@click.option("--version", "version", type=click.Choice(["2018", "2025"]), default="2018", show_default=True,
              help="Phiên bản VSIC / VSIC version: 2018 (QĐ 27/2018/QĐ-TTg) or 2025 (QĐ 36/2025/QĐ-TTg).")
@click.option("--level", type=click.Choice(["section", "division", "group", "class"]), default=None,
              help="Chỉ một cấp / only one level (default: every level shipped).")
@click.option("--map", "mapping", type=click.Choice(["2018:2025"]), default=None,
              help="Bảng chuyển đổi thay cho danh mục / the correspondence instead of a list (with weights).")
@click.option("--code", default=None,
              help="Chỉ mã này và các mã con / only this code and the codes under it (with --map: a 2018 code).")
@format_option
@workspace_option
def vsic(version: str, level: str | None, mapping: str | None, code: str | None, fmt: str, workspace: Path) -> None:
    """Danh mục ngành VSIC / the VSIC code lists (2018, 2025) and the 2018 → 2025 correspondence.

    `--map 2018:2025` prints the correspondence (code_2018, code_2025, weight, link, note); a
    workspace's own vsic2018_2025.csv, when there, replaces the weights of the 2018 codes it lists.
    """
    from kinhteso.reference.vsic import CORRESPONDENCE_FILE  # noqa: PLC0415
    from kinhteso.service.vsic import VsicRequest, vsic_codes  # noqa: PLC0415

    res = vsic_codes(VsicRequest(version=int(version), level=level, mapping=mapping, code=code,
                                 override=Path(workspace) / CORRESPONDENCE_FILE))
    if fmt == "table":
        for vi, en in res.notes:
            click.echo(tr(vi, en), err=True)
    click.echo(render_frame(res.frame, fmt, sheet="vsic"))


COMMANDS = [vsic]
