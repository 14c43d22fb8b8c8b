"""``kinhteso report``: a briefing for a leader (PDF, XLSX or HTML) on one territory and period.

Thin: the options become a :class:`~kinhteso.service.report.ReportRequest`, the service gathers
the content (:func:`kinhteso.service.report.build_report`), a renderer of :mod:`kinhteso.report`
writes it.
"""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import PERIOD, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.i18n import DEMO_LABEL, current_lang, tr

__all__ = ["COMMANDS", "report"]


@click.command("report")
@click.option("--territory", required=True, help="Địa bàn / territory: VN, 34:31 or a name.")
@click.option("--period", type=PERIOD, required=True, help="Kỳ / period: 2025, 2025-Q3.")
@click.option("--view", type=LazyChoice.of("kinhteso.methods.accounts", "VIEWS"), default="gso", show_default=True,
              help="Cách đo cho số kinhteso tính / view of kinhteso's own figures (gso, mic, oecd).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx", "html"]), default="pdf", show_default=True,
              help="Định dạng / format: pdf (2–6 trang / pages), xlsx (một bảng mỗi trang tính / one sheet per "
                   "table), html (một tệp tự chứa / one self-contained file).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp ghi ra / output file; mặc định / default: ./bao-cao-<territory>-<period>.<format>.")
@workspace_option
def report(territory: str, period: str, view: str, fmt: str, out: Path | None, workspace: Path) -> None:
    """Báo cáo cho lãnh đạo / a briefing for a leader, in the language of --lang.

    Sections: the headline (the official figure and its basis, kinhteso's estimate and its
    components in the view named); the quarterly trend with the nowcast; targets, gaps and
    status, each on its own basis (warnings such as BASIS_MISMATCH named), with the trajectory
    against the target; strengths and weaknesses (percentiles among the 34 provinces, DTI
    pillars); the plan's milestones; method notes and the vintages and runs behind the figures.
    Illustrative demo data are labelled on every page. Nothing is stored.
    """
    from kinhteso.report import render  # noqa: PLC0415
    from kinhteso.service.report import ReportRequest, build_report, default_file_name  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    lang = current_lang()
    with Workspace.open(workspace) as ws:
        content = build_report(ws, ReportRequest(territory=territory, period=period, view=view, lang=lang))
    path = render(content, fmt, out if out is not None else Path(default_file_name(content.territory, content.period, fmt)))
    if content.illustrative:
        click.echo(f"⚠ {DEMO_LABEL[lang]}")
    click.echo(tr(f"Đã ghi báo cáo {content.name} ({content.territory}) {content.period}: {path}",
                  f"Wrote the briefing on {content.name} ({content.territory}) {content.period}: {path}"))


COMMANDS = [report]
