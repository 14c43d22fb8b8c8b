"""The briefing as a PDF (fpdf2), with DejaVu Sans embedded: the TrueType fonts shipped by
matplotlib (``matplotlib/mpl-data/fonts/ttf``), which cover Vietnamese. Every page carries the
title and, for illustrative data, the label; charts are PNG images drawn by :mod:`.charts`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from kinhteso.report._format import cell_text

if TYPE_CHECKING:
    from kinhteso.service.report import ReportContent, Table

__all__ = ["write_pdf", "pdf_bytes", "font_files"]

_FONT = "DejaVu"
#: tables the PDF leaves to the XLSX and HTML (the chart shows them)
_CHART_ONLY = ("quarterly",)


def font_files() -> dict[str, Path]:
    """The regular and bold DejaVu Sans files shipped with matplotlib."""
    import matplotlib  # noqa: PLC0415

    root = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": root / "DejaVuSans.ttf", "B": root / "DejaVuSans-Bold.ttf"}


def pdf_bytes(content: ReportContent) -> bytes:
    """The PDF document of ``content``."""
    from fpdf import FPDF  # noqa: PLC0415
    from fpdf.fonts import FontFace  # noqa: PLC0415

    from kinhteso.report.charts import png  # noqa: PLC0415

    class _Doc(FPDF):
        def header(self) -> None:
            self.set_font(_FONT, "", 7)
            self.set_text_color(90, 90, 90)
            self.cell(0, 4, content.title, new_x="LMARGIN", new_y="NEXT")
            if content.label:
                self.set_font(_FONT, "B", 8)
                self.set_text_color(176, 58, 46)
                self.cell(0, 5, "⚠ " + content.label, new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(_FONT, "", 7)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, f"kinhteso — {content.generated_at} — {self.page_no()}/{{nb}}", align="C")

    doc = _Doc(orientation="P", unit="mm", format="A4")
    doc.set_title(content.title)
    doc.set_lang(content.lang)
    doc.set_creator("kinhteso")
    for style, path in font_files().items():
        doc.add_font(_FONT, style, str(path))
    doc.set_auto_page_break(True, margin=15)
    doc.set_margins(14, 12, 14)
    doc.add_page()
    doc.set_font(_FONT, "B", 15)
    doc.multi_cell(0, 7, content.name, new_x="LMARGIN", new_y="NEXT")
    doc.set_font(_FONT, "B", 11)
    doc.multi_cell(0, 6, content.title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font(_FONT, "", 8)
    doc.multi_cell(0, 4, content.subtitle, new_x="LMARGIN", new_y="NEXT")
    doc.ln(2)
    for sec in content.sections:
        if doc.get_y() > doc.h - 60:
            doc.add_page()
        doc.set_font(_FONT, "B", 11)
        doc.set_fill_color(230, 238, 246)
        doc.multi_cell(0, 6, sec.title, fill=True, new_x="LMARGIN", new_y="NEXT")
        doc.ln(1)
        doc.set_font(_FONT, "", 8.5)
        for p in sec.paragraphs:
            doc.multi_cell(0, 4.3, p, new_x="LMARGIN", new_y="NEXT")
            doc.ln(0.8)
        for chart in sec.charts:
            img = png(chart, label=content.label)
            if doc.get_y() > doc.h - 85:
                doc.add_page()
            doc.image(io.BytesIO(img), w=doc.epw * 0.92)
            if chart.note:
                doc.set_font(_FONT, "", 7.5)
                doc.multi_cell(0, 3.6, chart.note, new_x="LMARGIN", new_y="NEXT")
                doc.set_font(_FONT, "", 8.5)
            doc.ln(1)
        for table in sec.tables:
            if table.key in _CHART_ONLY and sec.charts:
                continue
            _table(doc, table, content.lang, FontFace)
        if sec.warnings:
            doc.set_font(_FONT, "", 7)
            doc.set_text_color(120, 60, 0)
            for wn in sec.warnings:
                doc.multi_cell(0, 3.4, "! " + wn, new_x="LMARGIN", new_y="NEXT")
            doc.set_text_color(0, 0, 0)
        doc.ln(2)
    return bytes(doc.output())


def _table(doc, table: Table, lang: str, FontFace) -> None:  # noqa: ANN001, N803
    if not table.rows:
        return
    doc.set_font(_FONT, "B", 8.5)
    doc.multi_cell(0, 5, table.title, new_x="LMARGIN", new_y="NEXT")
    shown = [c for c in table.columns if not c.xlsx_only]  # codes stay in the XLSX
    keep = [i for i, c in enumerate(table.columns) if not c.xlsx_only and not (c.detail and len(shown) > 8)]
    cols = [table.columns[i] for i in keep]
    size = 7 if len(cols) <= 7 else 6
    doc.set_font(_FONT, "", size)
    # the appendix's columns sized to what they hold, so that a time or an id does not wrap
    fixed = {"vintage": 0.8, "illustrative": 0.9, "rows": 1.0, "run": 1.6, "received_at": 2.3, "computed_at": 2.3,
             "file": 3.4}
    weights = [fixed[c.code] if c.code in fixed
               else 3 if c.code in ("indicator", "component", "used", "source", "method")
               else 2.2 if c.code in ("measured_on", "basis", "value") else 1.4 if c.digits is None else 1.1 for c in cols]
    with doc.table(col_widths=weights, text_align=["LEFT" if c.digits is None else "RIGHT" for c in cols],
                   line_height=size * 0.5, headings_style=FontFace(emphasis="BOLD", fill_color=(240, 240, 240)),
                   first_row_as_headings=True) as t:
        row = t.row()
        for c in cols:
            row.cell(c.header)
        for values in table.rows:
            row = t.row()
            for i, c in zip(keep, cols):
                row.cell(cell_text(values[i], c.digits, lang))
    doc.ln(2)


def write_pdf(content: ReportContent, path: Path) -> Path:
    """Write the PDF of ``content`` to ``path`` atomically."""
    from kinhteso.safe_io import write_files_atomic  # noqa: PLC0415

    return write_files_atomic([(Path(path), pdf_bytes(content))])[0]
