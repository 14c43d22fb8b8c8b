"""``kinhteso nowcast``: the current quarter's digital-economy value added and share of a
territory, from the months already published, with an interval and the engine named.

The nowcast is written to the workspace as ``DE_VA`` and ``DE_SHARE`` (status F, source
``kinhteso:nowcast``) only after everything succeeded (``--dry-run`` writes nothing). Thin:
parse the options into a :class:`~kinhteso.service.nowcast.NowcastRequest`, call
:func:`kinhteso.service.nowcast.run_nowcast`, render.
"""

from __future__ import annotations

from pathlib import Path

import click

from kinhteso.cli._common import output_options, render_frame, to_json, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.cli._progress import progress_bar
from kinhteso.i18n import DEMO_LABEL, current_lang, fmt_number, tr

__all__ = ["COMMANDS", "nowcast"]


@click.command("nowcast")
@click.option("--territory", required=True, help="Địa bàn / territory: VN, 34:31 or a name.")
@click.option("--engine", type=LazyChoice.of("kinhteso.methods.nowcast", "ENGINES"), default=None,
              help="Phương pháp / engine (mặc định theo kiểm định ngược trên số liệu thật / default: "
                   "by the real-data backtest).")
@click.option("--backtest", is_flag=True,
              help="Kèm kiểm định ngược trên số liệu của không gian làm việc / add a pseudo-real-time backtest "
                   "on the workspace's data.")
@click.option("--origins", type=click.IntRange(4, 40), default=8, show_default=True,
              help="Số quý kiểm định ngược / quarters in the backtest.")
@click.option("--dry-run", is_flag=True, help="Không ghi vào kho / write nothing to the store.")
@output_options("table", "json")
@workspace_option
def nowcast(territory: str, engine: str | None, backtest: bool, origins: int, dry_run: bool, fmt: str,
            workspace: Path) -> None:
    """Dự báo tức thời / nowcast the current quarter's digital-economy value added and share.

    The current quarter is the first after the last quarter with GRDP_VA; the monthly
    indicators EINVOICE_REVENUE, CASHLESS_PAYMENTS, ECOMMERCE_RETAIL and RETAIL_SALES published
    so far enter (ragged edge). Engines: bridge, dfm (with the news of the latest releases),
    naive. The default engine is one that beats the naive forecast on real GSO data.
    """
    import pandas as pd  # noqa: PLC0415

    from kinhteso.service.nowcast import NowcastRequest, run_nowcast  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    req = NowcastRequest(territory=territory, engine=engine, backtest=backtest, origins=origins, save=not dry_run)
    with Workspace.open(workspace) as ws, progress_bar(tr("Dự báo tức thời", "Nowcast")) as progress:
        out = run_nowcast(ws, req, progress=progress)
    if fmt == "json":
        click.echo(to_json(out.as_json()))
        return
    if fmt == "xlsx":
        lo, hi = out.de_va_interval
        slo, shi = out.de_share_interval
        rows = [{"indicator": "DE_VA", "value": out.de_va, "low": lo, "high": hi, "unit": "VND_BN"},
                {"indicator": "DE_SHARE", "value": out.de_share, "low": slo, "high": shi, "unit": "PCT"}]
        meta = {"territory": out.territory, "period": out.period, "illustrative": bool(out.illustrative)}
        click.echo(render_frame(pd.DataFrame(rows).assign(engine=out.engine, level=out.level), fmt, meta=meta,
                                sheet=tr("du_bao", "nowcast")))
        if out.backtest:
            click.echo(render_frame(pd.DataFrame(out.backtest), fmt, meta=meta, sheet=tr("kiem_dinh", "backtest")))
        return
    if out.illustrative:
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    lvl = int(out.level * 100)
    click.echo(tr(
        f"{out.territory} {out.period} — dự báo tức thời, phương pháp {out.engine} ({out.engine_label['vi']}):",
        f"{out.territory} {out.period} — nowcast, engine {out.engine} ({out.engine_label['en']}):"))
    click.echo(tr(
        f"  Giá trị tăng thêm kinh tế số {fmt_number(out.de_va, 0)} tỷ đồng, khoảng {lvl}% "
        f"{fmt_number(out.de_va_interval[0], 0)}–{fmt_number(out.de_va_interval[1], 0)}",
        f"  Digital-economy value added {fmt_number(out.de_va, 0)} VND bn, {lvl}% interval "
        f"{fmt_number(out.de_va_interval[0], 0)}–{fmt_number(out.de_va_interval[1], 0)}"))
    click.echo(tr(
        f"  Tỷ trọng trong GRDP {fmt_number(out.de_share, 2)}%, khoảng {lvl}% "
        f"{fmt_number(out.de_share_interval[0], 2)}–{fmt_number(out.de_share_interval[1], 2)}",
        f"  Share of GRDP {fmt_number(out.de_share, 2)}%, {lvl}% interval "
        f"{fmt_number(out.de_share_interval[0], 2)}–{fmt_number(out.de_share_interval[1], 2)}"))
    g = out.growth["DE_VA"]
    click.echo(tr(f"  Tăng trưởng so với cùng kỳ (log): {fmt_number(g['point_pct'], 2)}%",
                  f"  Year-on-year growth (log): {fmt_number(g['point_pct'], 2)}%"))
    pub = ", ".join(f"{k} {'/'.join(v) or '–'}" for k, v in out.months_published.items())
    click.echo(tr(f"  Tháng đã có của quý: {pub}", f"  Months of the quarter published: {pub}"))
    fill = g["details"].get("ragged_edge")
    if fill:
        filled = ", ".join(f"{k} {v['months_ar_filled']} (AR({v['ar_order']}))" for k, v in fill.items()
                           if v["months_ar_filled"])
        if filled:
            click.echo(tr(f"  Tháng chưa có, dự báo bằng AR(p) (OLS, p theo BIC): {filled}",
                          f"  Months not yet published, filled by AR(p) forecasts (OLS, p by BIC): {filled}"))
    if out.news:
        click.echo(tr("  Tin mới (đóng góp vào thay đổi dự báo tăng trưởng DE_VA, điểm %):",
                      "  News (contribution to the change of the DE VA growth nowcast, pp):"))
        for r in out.news["releases"][:8]:
            click.echo(f"    {r['variable']:<20} {r['period']}  {fmt_number(r['impact'], 3):>8}")
        click.echo(f"    {tr('tổng', 'total'):<20} {'':7}  {fmt_number(out.news['total'], 3):>8}")
    if out.backtest:
        click.echo(tr("  Kiểm định ngược (tăng trưởng DE_VA):", "  Backtest (DE VA growth):"))
        click.echo(render_frame(pd.DataFrame(out.backtest), "table", digits=3))
    for w in out.warnings:
        click.echo(f"  ! {w.get('code')}: {w.get('vi') if current_lang() == 'vi' else w.get('en')}")
    if out.run_id is not None:
        click.echo(tr(f"  Đã lưu DE_VA, DE_SHARE (kết quả, trạng thái F, nguồn {out.source}), lần chạy {out.run_id}",
                      f"  Stored DE_VA, DE_SHARE (a result, status F, source {out.source}), run {out.run_id}"))


COMMANDS = [nowcast]
