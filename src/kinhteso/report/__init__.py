"""Renderers of a briefing (:class:`kinhteso.service.report.ReportContent`): PDF, XLSX, HTML.

They lay out what the service gathered and compute nothing: :mod:`.charts` draws each chart
once with matplotlib (Agg backend, in memory), :mod:`.pdf` writes the PDF with fpdf2 and the
DejaVu Sans fonts shipped by matplotlib (embedded, full Vietnamese), :mod:`.xlsx` one sheet per
table with openpyxl, :mod:`.html` one self-contained page. Each writes through
:mod:`kinhteso.safe_io`.

>>> from kinhteso.report import render                                   # doctest: +SKIP
>>> render(content, "pdf", Path("bao-cao-34_31-2025.pdf"))               # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinhteso.service.report import ReportContent

__all__ = ["render"]


def render(content: ReportContent, fmt: str, path: Path) -> Path:
    """Write ``content`` as ``fmt`` (pdf, xlsx, html) to ``path``; returns the path written."""
    if fmt == "pdf":
        from kinhteso.report.pdf import write_pdf  # noqa: PLC0415

        return write_pdf(content, path)
    if fmt == "xlsx":
        from kinhteso.report.xlsx import write_xlsx  # noqa: PLC0415

        return write_xlsx(content, path)
    if fmt == "html":
        from kinhteso.report.html import write_html  # noqa: PLC0415

        return write_html(content, path)
    raise ValueError(f"unknown report format {fmt!r}")
