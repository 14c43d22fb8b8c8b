"""``kinhteso index``: score the provinces in a workspace with a composite-index framework.

Thin: parse the options into a :class:`~kinhteso.service.index.IndexRequest`, call
:func:`kinhteso.service.index.score_index`, render (table, CSV or JSON with provenance).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kinhteso.cli._common import PERIOD, TABULAR, format_option, render_frame, to_json, workspace_option
from kinhteso.cli._lazy import LazyOption
from kinhteso.cli._progress import progress_bar
from kinhteso.i18n import DEMO_LABEL, current_lang, tr

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMANDS", "index"]


def _framework_help() -> str:
    from kinhteso.pipeline.index import FRAMEWORK_INPUTS  # noqa: PLC0415

    return (f"Khung chỉ số / framework: {', '.join(sorted(FRAMEWORK_INPUTS))}. Mặc định: khung đang áp dụng cho "
            "năm của kỳ (dti2022 trước 2024, dti2024 từ 2024) / default: the framework in force for the period's "
            "year (dti2022 before 2024, dti2024 from 2024).")


def _table_view(table: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """The table shown on screen: the interval as one ``low–high`` column; the main indices named
    in strengths and weaknesses by ``names`` (code → name; Vietnamese output) when given."""
    import pandas as pd  # noqa: PLC0415

    shown = table.copy()
    if names:
        for col in ("strengths", "weaknesses"):
            shown[col] = ["; ".join(names.get(c.strip(), c.strip()) for c in str(v).split(";")) if isinstance(v, str) else v
                          for v in shown[col]]
    shown.insert(shown.columns.get_loc("rank_low"), "interval",
                 ["" if pd.isna(r.rank_low) else f"{r.rank_low}–{r.rank_high}"
                  for r in shown.itertuples(index=False)])
    shown = shown.drop(columns=["rank_low", "rank_high", "rank_median"])
    if not shown["derived_from"].astype(bool).any():
        shown = shown.drop(columns=["derived_from"])
    if not shown["illustrative"].any():
        shown = shown.drop(columns=["illustrative"])
    return shown


@click.command("index")
@click.option("--framework", "framework", default=None, cls=LazyOption,
              lazy_help=_framework_help)
@click.option("--period", "period", type=PERIOD, required=True, help="Kỳ đánh giá / period, e.g. 2024.")
@click.option("--basis", type=click.Choice(["63", "34"]), default=None,
              help="Hệ địa bàn (mặc định: 34 nếu kỳ có số liệu 34 tỉnh, không thì 63); 34 với số liệu 63 tỉnh: "
                   "theo quy tắc sáp nhập của khung / territorial basis (default: 34 when the period has "
                   "34-basis data, else 63); 34 from 63-basis data applies the framework's merger rule.")
@click.option("--n", "n", type=click.IntRange(min=0), default=200, show_default=True,
              help="Số lần lặp phân tích bất định (0: không tính khoảng hạng) / uncertainty replications "
                   "(0: no rank intervals).")
@click.option("--seed", "seed", type=int, default=0, show_default=True, help="Hạt giống ngẫu nhiên / random seed.")
@click.option("--as-of", "as_of", default=None,
              help="Số liệu tại thời điểm / inputs as of a past moment (2026-11-26T10:00).")
@format_option
@workspace_option
def index(framework: str | None, period: str, basis: str | None, n: int, seed: int, as_of: str | None, fmt: str,
          workspace: Path) -> None:
    """Chấm điểm các tỉnh theo khung chỉ số (DTI...) / score the provinces with a framework.

    One row per province: score, rank (1 = best, ties share the lower rank), the 5th–95th
    percentile rank interval (weights ±25%), strengths and weaknesses (best/worst-ranked
    indicators).
    """
    from kinhteso.service.index import IndexRequest, score_index  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = IndexRequest(period=period, framework=framework, basis=int(basis) if basis else None, n=n, seed=seed,
                       as_of=as_of)
    with Workspace.open(workspace) as ws, progress_bar(tr("Chấm điểm", "Scoring")) as progress:
        res = score_index(ws, req, progress=progress)
    for vi, en in res.notes:
        click.echo(tr(vi, en), err=True)
    if fmt == "json":
        click.echo(to_json(res.as_json()))
        return
    if fmt in TABULAR:
        click.echo(render_frame(res.table, fmt, sheet=tr("chi_so", "index"),
                                meta={"period": res.provenance.get("period"), "illustrative": bool(res.illustrative)}))
        return
    p = res.provenance
    if res.illustrative:
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    m = p["method"]
    merged = tr(f"; sáp nhập: {m['merger_rule']}", f"; merger: {m['merger_rule']}") if m["merger_rule"] else ""
    click.echo(f"{res.framework.name[current_lang()]} — {p['period']}, "
               + tr(f"hệ {p['basis']} tỉnh", f"{p['basis']}-province basis") + f" ({p['units']})")
    click.echo(tr(f"Chuẩn hóa: {m['normalise']['method']}; tổng hợp: {m['aggregate']}{merged}; "
                  f"khoảng hạng 5–95%: {p['parameters']['n']} lần, trọng số ±{p['parameters']['weight_noise']:.0%}; "
                  f"phiên bản số liệu: {', '.join(str(v['vintage']) for v in p['input_vintages'])}",
                  f"Normalisation: {m['normalise']['method']}; aggregation: {m['aggregate']}{merged}; "
                  f"rank interval 5–95%: {p['parameters']['n']} runs, weights ±{p['parameters']['weight_noise']:.0%}; "
                  f"input vintages: {', '.join(str(v['vintage']) for v in p['input_vintages'])}"))
    meta = res.framework.meta
    names = dict(zip(meta["iCode"], meta["iName"])) if current_lang() == "vi" and "iName" in meta else None
    click.echo(render_frame(_table_view(res.table, names), "table", digits=4))


COMMANDS = [index]
