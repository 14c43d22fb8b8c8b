"""``kinhteso nowcast``: the current quarter's digital-economy value added and share of a
territory, from the months already published, with an interval and the engine named.

The nowcast is written to the workspace as ``DE_VA`` and ``DE_SHARE`` with their calibrated
bounds (status F, source ``kinhteso:nowcast``) only after everything succeeded (``--dry-run``
writes nothing). Thin:
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
              help="Phương pháp / engine (mặc định: chọn theo kiểm định ngược trên số liệu của không gian làm việc / "
                   "default: chosen by the backtest on the workspace's own data).")
@click.option("--indicators", default=None, metavar="CODE[:SECTOR][,…]",
              help="Chỉ báo tháng thay cho bộ của địa bàn / monthly indicators instead of the territory's set "
                   "(e.g. ONLINE_REVENUE,IIP_YOY:26,PORT_TEU).")
@click.option("--backtest", is_flag=True,
              help="Kiểm định ngược mọi phương pháp kể cả khi đã chọn --engine / backtest every engine even with "
                   "--engine.")
@click.option("--origins", type=click.IntRange(4, 40), default=12, show_default=True,
              help="Số quý kiểm định ngược (chọn phương pháp, hiệu chỉnh khoảng) / quarters of the backtest that "
                   "chooses the engine and calibrates the interval.")
@click.option("--dry-run", is_flag=True, help="Không ghi vào kho / write nothing to the store.")
@output_options("table", "json")
@workspace_option
def nowcast(territory: str, engine: str | None, indicators: str | None, backtest: bool, origins: int,
            dry_run: bool, fmt: str, workspace: Path) -> None:
    """Dự báo tức thời / nowcast the current quarter's digital-economy value added and share.

    The current quarter is the first after the last quarter with GRDP_VA; the monthly
    indicators of the territory's set (reference/data/nowcast_indicators.yaml: a default set,
    Hải Phòng's and Ho Chi Minh City's; a workspace's [nowcast.indicators]; --indicators)
    published so far enter (ragged edge); those missing are reported. Engines: bridge, dfm (with
    the news of the latest releases), naive; without --engine, the one the backtest on the
    workspace's data chooses (lowest RMSE among those beating naive). The 90% interval is
    calibrated from that backtest's errors (split-conformal); the model's is shown beside it.
    """
    import pandas as pd  # noqa: PLC0415

    from kinhteso.service.nowcast import NowcastRequest, run_nowcast  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    names = tuple(c.strip() for c in indicators.split(",") if c.strip()) if indicators is not None else None
    req = NowcastRequest(territory=territory, engine=engine, backtest=backtest, origins=origins, save=not dry_run,
                         indicators=names if names is not None else None)
    with Workspace.open(workspace) as ws, progress_bar(tr("Dự báo tức thời", "Nowcast")) as progress:
        out = run_nowcast(ws, req, progress=progress)
    if fmt == "json":
        click.echo(to_json(out.as_json()))
        return
    if fmt == "xlsx":
        lo, hi = out.de_va_interval
        slo, shi = out.de_share_interval
        mva, msh = out.model_interval.get("DE_VA", (None, None)), out.model_interval.get("DE_SHARE", (None, None))
        rows = [{"indicator": "DE_VA", "value": out.de_va, "low": lo, "high": hi, "model_low": mva[0],
                 "model_high": mva[1], "unit": "VND_BN"},
                {"indicator": "DE_SHARE", "value": out.de_share, "low": slo, "high": shi, "model_low": msh[0],
                 "model_high": msh[1], "unit": "PCT"}]
        meta = {"territory": out.territory, "period": out.period, "illustrative": bool(out.illustrative)}
        click.echo(render_frame(pd.DataFrame(rows).assign(engine=out.engine, level=out.level,
                                                          calibration=out.calibration.get("method")), fmt, meta=meta,
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
    mva, msh = out.model_interval.get("DE_VA"), out.model_interval.get("DE_SHARE")
    if mva and msh:
        click.echo(tr(
            f"  Khoảng {lvl}% của mô hình (tham khảo): {fmt_number(mva[0], 0)}–{fmt_number(mva[1], 0)} tỷ đồng; "
            f"{fmt_number(msh[0], 2)}–{fmt_number(msh[1], 2)}%",
            f"  The model's {lvl}% interval (for reference): {fmt_number(mva[0], 0)}–{fmt_number(mva[1], 0)} VND bn; "
            f"{fmt_number(msh[0], 2)}–{fmt_number(msh[1], 2)}%"))
    cal = out.calibration
    if cal:
        click.echo(f"  {tr('Khoảng', 'Interval')}: {cal.get(current_lang(), '')}")
        cov = (cal.get("coverage") or {}).get("DE_VA")
        if cov:
            c = cov["calibrated"]
            click.echo(tr(
                f"  Độ phủ trong kiểm định ngược (DE_VA, {cov['n']} quý): khoảng mô hình {fmt_number(cov['model'], 2)}, "
                f"khoảng hiệu chỉnh {fmt_number(c, 2) if c is not None else '–'} trên {cov['n_calibrated']} quý có đủ "
                f"{cal.get('min_errors')} sai số trước đó",
                f"  Coverage in the backtest (DE VA, {cov['n']} quarters): model interval {fmt_number(cov['model'], 2)}, "
                f"calibrated {fmt_number(c, 2) if c is not None else '–'} over the {cov['n_calibrated']} quarters with "
                f"{cal.get('min_errors')} earlier errors"))
    if out.choice:
        click.echo(f"  {tr('Phương pháp', 'Engine')}: {out.choice.get(current_lang(), '')}")
    ind = out.indicators
    if ind:
        src = {"shipped": tr("bộ đi kèm", "shipped set"), "workspace": "kinhteso.toml",
               "option": "--indicators"}.get(ind.get("origin"), "")
        click.echo(tr(f"  Chỉ báo ({src}, bộ {ind.get('declared_for')}): {', '.join(ind.get('used', []))}",
                      f"  Indicators ({src}, set {ind.get('declared_for')}): {', '.join(ind.get('used', []))}"))
        why = (ind.get("why") or {}).get(current_lang())
        if why:
            click.echo(f"    {why}")
        for i in ind.get("indicators", []):
            if i.get("label") in ind.get("used", []) and i.get("why"):
                click.echo(f"    {i['label']}: {i['why'].get(current_lang(), '')}")
        for m in ind.get("missing", []):
            click.echo(f"    ✗ {m['code']}: {m.get(current_lang()) or m.get('en')}")
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
        cols = ["engine", "n", "rmse", "mae", "rmse_ratio_to_naive", "coverage", "coverage_calibrated", "n_calibrated"]
        click.echo(render_frame(pd.DataFrame(out.backtest)[cols], "table", digits=3))
    for w in out.warnings:
        click.echo(f"  ! {w.get('code')}: {w.get('vi') if current_lang() == 'vi' else w.get('en')}")
    if out.run_id is not None:
        click.echo(tr(f"  Đã lưu DE_VA, DE_SHARE (kết quả, trạng thái F, nguồn {out.source}), lần chạy {out.run_id}",
                      f"  Stored DE_VA, DE_SHARE (a result, status F, source {out.source}), run {out.run_id}"))


COMMANDS = [nowcast]
