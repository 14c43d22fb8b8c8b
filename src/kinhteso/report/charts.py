"""The briefing's charts, drawn with matplotlib's Agg backend into PNG bytes in memory.

Each :class:`~kinhteso.service.report.Chart` is drawn once; the PDF and the HTML page embed the
same image. The text uses DejaVu Sans, the font shipped by matplotlib (full Vietnamese).
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinhteso.service.report import Chart

__all__ = ["png"]

_COLOURS = ("#1f5f99", "#c0392b", "#2e8b57", "#7d3c98", "#d35400")


def png(chart: Chart, *, label: str = "", width: float = 7.0, height: float = 3.0, dpi: int = 150) -> bytes:
    """``chart`` as a PNG image; ``label`` (the illustrative-data label) is written on it."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415  (no pyplot: no global state)

    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    xs: list[float] = []
    for i, line in enumerate(chart.lines):
        colour = _COLOURS[i % len(_COLOURS)]
        xs += line.x
        if line.style == "points":
            if line.lower is not None and line.upper is not None:
                err = [[y - lo for y, lo in zip(line.y, line.lower)], [hi - y for y, hi in zip(line.y, line.upper)]]
                ax.errorbar(line.x, line.y, yerr=err, fmt="o", color=colour, capsize=4, label=line.label)
            else:
                ax.plot(line.x, line.y, "o", color=colour, label=line.label, markersize=6)
            continue
        ax.plot(line.x, line.y, "--" if line.style == "dashed" else "-", color=colour, label=line.label, linewidth=1.6)
        if line.lower is not None and line.upper is not None:
            pts = [(x, lo, hi) for x, lo, hi in zip(line.x, line.lower, line.upper) if lo is not None and hi is not None]
            if pts:
                ax.errorbar([p[0] for p in pts[-1:]], [line.y[-1]], yerr=[[line.y[-1] - pts[-1][1]], [pts[-1][2] - line.y[-1]]],
                            fmt="none", ecolor=colour, capsize=4)
    if xs:
        lo, hi = math.floor(min(xs)), math.ceil(max(xs))
        ax.set_xticks(range(lo, hi + 1))
        ax.set_xlim(lo - 0.05, hi + 0.05)
    ax.set_ylabel(chart.y_label)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(chart.title if len(chart.title) < 90 else chart.title[:87] + "…", fontsize=8)
    if label:
        fig.text(0.99, 0.01, label, ha="right", va="bottom", fontsize=6, color="#b03a2e")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
