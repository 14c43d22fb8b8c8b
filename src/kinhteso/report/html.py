"""The briefing as one self-contained HTML file: inline CSS, charts as base64 PNG images, no
script, no font and no resource fetched from anywhere; ``lang`` set on the page; the
illustrative label at the top and beside every chart and table."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

from kinhteso.report._format import cell_text

if TYPE_CHECKING:
    from kinhteso.service.report import ReportContent, Table

__all__ = ["write_html", "html_text"]

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:980px;margin:1.5em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;background:#e6eef6;padding:.3em .5em;margin-top:1.6em}
h3{font-size:1em}.sub{color:#444;font-size:.9em}.demo{color:#fff;background:#b03a2e;padding:.4em .6em;font-weight:bold}
.demo-inline{color:#b03a2e;font-size:.8em;font-weight:bold}.warn{color:#7a4a00;font-size:.85em}
table{border-collapse:collapse;font-size:.82em;margin:.5em 0 1em}th,td{border:1px solid #bbb;padding:.25em .45em}
th{background:#f0f0f0;position:sticky;top:0}td.n{text-align:right;white-space:nowrap}img{max-width:100%;height:auto}
.wrap{overflow-x:auto}footer{color:#666;font-size:.8em;margin-top:2em}
"""


_NUM = ' class="n"'


def _table(table: Table, lang: str, label: str) -> str:
    e = html.escape
    keep = [i for i, c in enumerate(table.columns) if not c.xlsx_only]  # codes stay in the XLSX
    head = "".join(f"<th scope=\"col\">{e(table.columns[i].header)}</th>" for i in keep)
    body = "".join(
        "<tr>" + "".join(f"<td{_NUM if table.columns[i].digits is not None else ''}>"
                         f"{e(cell_text(row[i], table.columns[i].digits, lang))}</td>" for i in keep) + "</tr>"
        for row in table.rows)
    tag = f' <span class="demo-inline">{e(label)}</span>' if label else ""
    return (f"<h3>{e(table.title)}{tag}</h3><div class=\"wrap\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def html_text(content: ReportContent) -> str:
    """The page of ``content``."""
    from kinhteso.report.charts import png  # noqa: PLC0415

    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"{content.lang}\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             f"<title>{e(content.title)}</title><style>{_CSS}</style></head><body>"]
    if content.label:
        parts.append(f"<p class=\"demo\" role=\"note\">⚠ {e(content.label)}</p>")
    parts.append(f"<h1>{e(content.name)}</h1><p><strong>{e(content.title)}</strong></p><p class=\"sub\">{e(content.subtitle)}</p>")
    for sec in content.sections:
        parts.append(f"<section id=\"{e(sec.key)}\"><h2>{e(sec.title)}</h2>")
        parts += [f"<p>{e(p)}</p>" for p in sec.paragraphs]
        for chart in sec.charts:
            data = base64.b64encode(png(chart, label=content.label)).decode("ascii")
            parts.append(f"<figure><img alt=\"{e(chart.title)}\" src=\"data:image/png;base64,{data}\">"
                         f"<figcaption class=\"sub\">{e(chart.title)}{'. ' + e(chart.note) if chart.note else ''}"
                         "</figcaption></figure>")
        parts += [_table(t, content.lang, content.label) for t in sec.tables if t.rows]
        if sec.warnings:
            parts.append("<ul class=\"warn\">" + "".join(f"<li>{e(w)}</li>" for w in sec.warnings) + "</ul>")
        parts.append("</section>")
    foot = e(content.label) + " — " if content.label else ""
    parts.append(f"<footer>{foot}kinhteso — {e(content.generated_at)}</footer></body></html>\n")
    return "".join(parts)


def write_html(content: ReportContent, path: Path) -> Path:
    """Write the page of ``content`` to ``path`` atomically."""
    from kinhteso.safe_io import write_text_atomic  # noqa: PLC0415

    return write_text_atomic(Path(path), html_text(content))
