"""The briefing as an XLSX workbook (openpyxl): a first sheet with the title, the paragraphs and
the warnings, then one sheet per table and one per chart's series. Row 1 names the sheet (and
carries the illustrative label), row 2 the columns with their units; both stay frozen. Numbers
are written as numbers; text goes through :func:`kinhteso.safe_io.safe_cell`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinhteso.service.report import ReportContent

__all__ = ["write_xlsx", "workbook"]


def _sheet_name(text: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", text)[:28] or "sheet"
    name, i = base, 2
    while name.lower() in used:
        name, i = f"{base[:26]}_{i}", i + 1
    used.add(name.lower())
    return name


def workbook(content: ReportContent) -> Any:
    """The openpyxl workbook of ``content``."""
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    from kinhteso.safe_io import safe_cell  # noqa: PLC0415

    vi = content.lang == "vi"
    bold, red = Font(bold=True), Font(bold=True, color="B03A2E")
    wb = Workbook()
    about = wb.active
    about.title = "Bao_cao" if vi else "Report"
    used = {about.title.lower()}
    about.append([safe_cell(content.title)])
    about["A1"].font = bold
    if content.label:
        about.append([safe_cell(content.label)])
        about["A2"].font = red
    about.append([safe_cell(content.subtitle)])
    for sec in content.sections:
        about.append([])
        about.append([safe_cell(sec.title)])
        about.cell(about.max_row, 1).font = bold
        for p in sec.paragraphs:
            about.append([safe_cell(p)])
        for wn in sec.warnings:
            about.append([safe_cell("! " + wn)])
    about.column_dimensions["A"].width = 120

    def head(ws: Any, title: str, headers: list[str]) -> None:
        ws.append([safe_cell(title + (f" — {content.label}" if content.label else ""))])
        ws["A1"].font = red if content.label else bold
        ws.append([safe_cell(h) for h in headers])
        for cell in ws[2]:
            cell.font = bold
        ws.freeze_panes = "A3"

    for table in content.tables():
        ws = wb.create_sheet(_sheet_name(table.key, used))
        head(ws, table.title, [c.header for c in table.columns])
        for row in table.rows:
            ws.append([v if isinstance(v, (int, float)) and not isinstance(v, bool) else safe_cell(v) for v in row])
        for i, c in enumerate(table.columns, start=1):
            ws.column_dimensions[ws.cell(2, i).column_letter].width = max(10, min(50, len(c.header) + 2))
            if c.digits is not None:  # shown with the column's decimals; the value keeps its precision
                fmt = "#,##0" + ("." + "0" * c.digits if c.digits else "")
                for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                    cell.number_format = fmt
    for chart in content.charts():
        ws = wb.create_sheet(_sheet_name("chart_" + chart.key, used))
        head(ws, chart.title + (f" — {chart.note}" if chart.note else ""),
             ["series" if not vi else "chuỗi", "year (decimal)" if not vi else "năm (số thập phân)", chart.y_label,
              "lower" if not vi else "cận dưới", "upper" if not vi else "cận trên"])
        for line in chart.lines:
            for i, (x, y) in enumerate(zip(line.x, line.y)):
                lo = line.lower[i] if line.lower is not None else None
                hi = line.upper[i] if line.upper is not None else None
                ws.append([safe_cell(line.label), float(x), float(y), lo, hi])
    return wb


def write_xlsx(content: ReportContent, path: Path) -> Path:
    """Write the workbook of ``content`` to ``path`` atomically."""
    from kinhteso.safe_io import save_workbook_atomic  # noqa: PLC0415

    return save_workbook_atomic(workbook(content), Path(path))
