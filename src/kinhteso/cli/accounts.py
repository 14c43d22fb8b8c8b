"""``kinhteso measure``: the digital economy's value added and share of GRDP."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kinhteso.cli._common import PERIOD, TABULAR, output_options, render_frame, to_json, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.cli._progress import progress_bar
from kinhteso.errors import UsageError
from kinhteso.i18n import DEMO_LABEL, current_lang, fmt_number, tr

if TYPE_CHECKING:
    from kinhteso.pipeline import accounts as P


def _name(key: str) -> str:
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    t = terr.get_territory(key)
    return t.name_vi if current_lang() == "vi" else t.name_en


_BASIS_VI = {"published": "công bố", "benchmarked": "đã khớp số năm", "estimated": "ước tính", "nowcast": "dự báo tức thời"}


def _msg(d: dict) -> str:
    return d.get("vi") if current_lang() == "vi" else d.get("en")


@click.command("measure")
@click.option("--territory", default=None, help="Địa bàn / territory: VN, 34:31, 63:79 or a name.")
@click.option("--all", "all_", is_flag=True, help="Mọi tỉnh và cả nước / every province and the nation.")
@click.option("--period", type=PERIOD, required=True, help="Kỳ / period: 2024, 2025-Q3.")
@click.option("--view", type=LazyChoice.of("kinhteso.methods.accounts", "VIEWS"), default="gso", show_default=True,
              help="gso: chính thức (lõi + số hóa); mic: kiểu MIC (ICT + nền tảng + số hóa ngành), ước tính của kinhteso, không phải số của Bộ; oecd: ngành ICT của OECD / gso: official (core + digitalised); mic: MIC-style (ICT + platforms + sectoral digitalisation), a kinhteso estimate, not the ministry's figure; oecd: OECD ICT sector.")
@click.option("--by", "by", type=click.Choice(["component", "sector", "ownership", "region"]), default="component",
              show_default=True,
              help="Phân tổ / breakdown: component, sector, ownership (Nhà nước, ngoài Nhà nước, FDI / state, non-state, "
                   "FDI; cần / needs GRDP_VA_STATE, GRDP_VA_NONSTATE, GRDP_VA_FDI), region (6 vùng kinh tế - xã hội / the "
                   "six socio-economic regions: với / with --all, or --territory RRD or a region's name).")
@click.option("--region-basis", type=click.Choice(["63", "34"]), default=None,
              help="Với --by region: cộng vùng từ 63 tỉnh (trước sáp nhập) hay 34 tỉnh / with --by region: sum the regions "
                   "from the 63 provinces (before the merger) or the 34 (default: the period's own).")
@click.option("--prices", type=click.Choice(["current", "constant"]), default="current", show_default=True,
              help="Giá / prices: current (giá hiện hành / current prices) or constant (giá so sánh 2010, với tăng trưởng "
                   "thực / constant 2010 prices, with real growth; cần / needs VA_DEFLATOR or GRDP_VA at constant_2010).")
@click.option("--core", default=None, help="Danh sách ngành lõi thay mặc định / core VSIC codes replacing the default, comma-separated.")
@click.option("--as-of", "as_of", default=None, help="Dùng số liệu tại thời điểm / inputs as of a past moment.")
@click.option("--coef-source", default=None,
              help="Chỉ dùng DIGITAL_COEF của nguồn này / use only DIGITAL_COEF from this source (e.g. kinhteso:io, kinhteso:calibration, demo).")
@output_options("table", "json", "csv")
@click.option("--save", is_flag=True, default=False,
              help="Lưu kết quả thành một lần chạy / store the result as a run (once for the same inputs).")
@workspace_option
def measure(territory, all_, period, view, by, region_basis, prices, core, as_of, coef_source, fmt, save,
            workspace: Path) -> None:
    """Đo kinh tế số / measure the digital economy's value added and share of GRDP.

    Shares are in percent of GRDP; every figure names its view and its basis. A quarter is the
    quarterly figure (benchmarked to the annual accounts, as `kinhteso quarterly` gives it).
    Nothing is stored unless --save (then one run with its inputs' vintages and parameters).
    --prices constant gives the accounts at constant 2010 prices and the real growth of digital
    value added (at constant 2010 prices and chain-linked); every line names its price basis.
    --by ownership splits the digital economy by ownership type; --by region sums the provinces
    into the six socio-economic regions (shares recomputed from the sums).
    """
    from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415
    from kinhteso.service.figures import MeasureRequest, measure as run  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    if bool(territory) == bool(all_):
        raise UsageError("TERRITORY_OR_ALL", "Cần đúng một trong --territory hoặc --all.",
                         "Give exactly one of --territory or --all.")
    core_list = tuple(c.strip() for c in core.split(",") if c.strip()) if core else None
    req = MeasureRequest(period, None if all_ else (territory,), view=view, core=core_list,
                         as_of=parse_as_of(as_of), coef_source=coef_source, save=save, prices=prices,
                         breakdown=by if by in ("ownership", "region") else None,
                         region_basis=int(region_basis) if region_basis else None)
    with Workspace.open(workspace) as ws, progress_bar(tr("Đo kinh tế số", "Measuring")) as progress:
        out = run(ws, req, progress=progress)
    if out.regions is not None:
        _render_regions(out.regions, fmt, view, out.period, out.price_basis)
    elif all_:
        _render_all(out.results, fmt, view, out.period, out.reconciliation, by=by)
    else:
        _render_one(out.results[0], fmt, by, out.from_records or [])
    if out.run_id and fmt == "table":
        click.echo(tr(f"Đã lưu lần chạy {out.run_id}.", f"Stored as run {out.run_id}."))


def _records_frame(found: list[dict]):
    """The indicators derived from agencies' records, as a table in the language in force."""
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame([{"dataset": tr(x["dataset_vi"], x["dataset_en"]), "indicator": tr(x["name_vi"], x["name_en"]),
                          "value": x["value"], "unit": x["unit"], "units": "" if x["units"] is None else x["units"],
                          "source": x["source"], "code": x["indicator"]} for x in found])


def _render_one(r: P.MeasureResult, fmt: str, by: str, found: list[dict] | None = None) -> None:
    import pandas as pd  # noqa: PLC0415

    found = found or []
    if r.result is None:
        err = r.error or {}
        raise UsageError(err.get("code", "NO_RESULT"), err.get("vi", ""), err.get("en", ""))
    data = r.as_json()
    if fmt == "json":
        click.echo(to_json({**data, "from_records": found} if found else data))
        return
    res = r.result
    pb = r.price_basis
    if fmt in TABULAR:
        meta = {"territory": r.territory, "period": r.period, "view": r.view,
                "illustrative": bool(r.provenance.get("illustrative"))}
        rows = [{"component": k, "va": v["va"], "share": v["share"]} for k, v in res.components.items()]
        rows.append({"component": "total", "va": res.de_va, "share": res.de_share, **_interval_cells(r)})
        components = pd.DataFrame(rows).assign(price_basis=pb)
        sections = res.by_section.rename(columns={"section": "sector"}).assign(section=lambda d: d.sector, level="section")
        divisions = res.by_sector.assign(level="division")
        both = pd.concat([sections, divisions], ignore_index=True)
        sectors = both[["level", "sector", "section", "va", "de_va", "contribution_pp"]].assign(price_basis=pb)
        if fmt == "xlsx":  # every table, one sheet each
            click.echo(render_frame(components, fmt, meta=meta, sheet=tr("thanh_phan", "components")))
            click.echo(render_frame(sectors, fmt, meta=meta, sheet=tr("nganh", "sectors")))
            if found:
                click.echo(render_frame(_records_frame(found), fmt, meta=meta, sheet=tr("tu_ban_ghi", "from_records")))
            if by == "ownership":
                click.echo(render_frame(_ownership_frame(r), fmt, meta=meta, sheet=tr("so_huu", "ownership")))
        elif by == "ownership":
            click.echo(render_frame(_ownership_frame(r), fmt, meta=meta))
        else:
            click.echo(render_frame(sectors if by == "sector" else components, fmt, meta=meta))
        return
    if r.provenance.get("illustrative"):
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    click.echo(tr(
        f"{_name(r.territory)} ({r.territory}), {r.period} — cách đo {r.view.upper()}, {_prices(pb)}: kinh tế số "
        f"{fmt_number(res.de_va, 0)} tỷ đồng = {fmt_number(res.de_share, 2)}% GRDP ({fmt_number(res.grdp, 0)} tỷ đồng)",
        f"{_name(r.territory)} ({r.territory}), {r.period} — {r.view.upper()} view, {_prices(pb)}: digital economy "
        f"{fmt_number(res.de_va, 0)} VND bn = {fmt_number(res.de_share, 2)}% of GRDP ({fmt_number(res.grdp, 0)} VND bn)"))
    if r.interval is not None:
        click.echo("  " + _interval_line(r))
    if pb != "current":
        click.echo("  " + tr("(tỷ trọng theo giá so sánh 2010, không phải tỷ trọng chính thức tính theo giá hiện hành)",
                             "(share at constant 2010 prices, not the official share, which is at current prices)"))
    basis = r.provenance.get("basis", "estimated")
    if r.period[4:5] == "-" and r.period[5:6] == "Q":
        how = tr(f"cơ sở: {_BASIS_VI.get(basis, basis)} ({r.provenance.get('quarterly_method', 'chưa khớp số năm')})",
                 f"basis: {basis} ({r.provenance.get('quarterly_method', 'not benchmarked')})")
    else:
        how = tr(f"cơ sở: {_BASIS_VI.get(basis, basis)} (kinhteso tính; `kinhteso figure` cho số chính thức)",
                 f"basis: {basis} (computed by kinhteso; `kinhteso figure` gives the official figure)")
    click.echo("  " + how)
    if by == "ownership":
        _render_ownership(r)
    elif by == "component":
        from kinhteso.labels import term  # noqa: PLC0415

        lang = current_lang()
        for k, v in res.components.items():
            click.echo(f"  {term(k, lang):<12} {fmt_number(v['va'], 0):>14}  {fmt_number(v['share'], 2):>7}%")
        if getattr(res, "bridge", None):
            click.echo(tr("  Cầu nối GSO → MIC:", "  Bridge GSO → MIC:"))
            for b in res.bridge:
                click.echo(f"    {term(b['item'], lang):<40} {fmt_number(b['value'], 0):>14}")
    else:
        click.echo(render_frame(res.by_section[["section", "va", "de_va", "contribution_pp"]], "table",
                                title=tr("Theo khu vực VSIC (cấp 1):", "By VSIC section:")))
        top = res.by_sector.head(15)[["sector", "section", "va", "de_va", "contribution_pp"]]
        click.echo(render_frame(top, "table", title=tr("Theo ngành cấp 2, 15 ngành đóng góp lớn nhất:",
                                                        "By division, the 15 largest contributions:")))
    if found and by != "ownership":
        click.echo(render_frame(_records_frame(found).drop(columns=["code"]), "table", digits=2, title=tr(
            f"Số hóa quy trình theo dữ liệu của các cơ quan, {r.period} (chỉ tiêu tính từ bản ghi; số đơn vị báo cáo; "
            "docs/logistics.md, docs/sectors.md):",
            f"Process digitalisation from agencies' records, {r.period} (indicators derived from records; reporting "
            "units; docs/logistics.md, docs/sectors.md):")))
    if r.real is not None:
        g, c = r.real.get("real_growth"), r.real.get("real_growth_chained")
        cur = r.real["current"]
        click.echo(tr(
            f"  Giá hiện hành: kinh tế số {fmt_number(cur['de_va'], 0)} tỷ đồng = {fmt_number(cur['de_share'], 2)}% GRDP; "
            f"tăng trưởng danh nghĩa so với {r.real['real_growth_from']}: {_pct(r.real.get('nominal_growth'))}",
            f"  Current prices: digital economy {fmt_number(cur['de_va'], 0)} VND bn = {fmt_number(cur['de_share'], 2)}% of "
            f"GRDP; nominal growth on {r.real['real_growth_from']}: {_pct(r.real.get('nominal_growth'))}"))
        click.echo(tr(
            f"  Tăng trưởng thực (giá so sánh 2010): {_pct(g)}; liên kết chuỗi (giá năm trước): {_pct(c)}",
            f"  Real growth (constant 2010 prices): {_pct(g)}; chain-linked (previous-year prices): {_pct(c)}"))
    elif r.growth is not None:
        ch = r.change
        click.echo(tr(
            f"  Tăng trưởng danh nghĩa so với {ch['from']}: {fmt_number(r.growth * 100, 1)}%; thay đổi tỷ trọng "
            f"{fmt_number(ch['total'], 2)} điểm % = số hóa {fmt_number(ch['digitalisation'], 2)} + cơ cấu "
            f"{fmt_number(ch['structure'], 2)} + mẫu số {fmt_number(ch['denominator'], 2)}",
            f"  Nominal growth on {ch['from']}: {fmt_number(r.growth * 100, 1)}%; change in share "
            f"{fmt_number(ch['total'], 2)} pp = digitalisation {fmt_number(ch['digitalisation'], 2)} + structure "
            f"{fmt_number(ch['structure'], 2)} + denominator {fmt_number(ch['denominator'], 2)}"))
    for w in r.warnings:
        click.echo(f"  ! {w.get('code')}: {_msg(w)}")


def _interval_cells(r: P.MeasureResult) -> dict:
    """The e-invoice interval's bounds as table cells (none without an interval)."""
    i = r.interval
    if i is None:
        return {}
    return {"share_lower": i["de_share"][0], "share_upper": i["de_share"][1], "va_lower": i["de_va"][0],
            "va_upper": i["de_va"][1], "interval_level": i["level"]}


def _interval_line(r: P.MeasureResult) -> str:
    """The DE share with its interval, as ``measure`` prints it."""
    i, res = r.interval, r.result
    lvl = fmt_number(i["level"] * 100, 0)
    lo, hi = fmt_number(i["de_share"][0], 1), fmt_number(i["de_share"][1], 1)
    va_lo, va_hi = fmt_number(i["de_va"][0], 0), fmt_number(i["de_va"][1], 0)
    return tr(f"Tỷ trọng kinh tế số {fmt_number(res.de_share, 1)}% (khoảng {lvl}% {lo}–{hi}; giá trị {va_lo}–{va_hi} "
              f"tỷ đồng; bootstrap theo doanh nghiệp trên hóa đơn điện tử, {i['replicates']} lần lặp)",
              f"DE share {fmt_number(res.de_share, 1)}% ({lvl}% interval {lo}–{hi}; value {va_lo}–{va_hi} VND bn; "
              f"e-invoice bootstrap over firms, {i['replicates']} replicates)")


def _prices(pb: str) -> str:
    return tr("giá so sánh 2010", "constant 2010 prices") if pb != "current" else tr("giá hiện hành", "current prices")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{fmt_number(x * 100, 1)}%"


def _ownership_frame(r: P.MeasureResult):
    import pandas as pd  # noqa: PLC0415

    from kinhteso.methods.breakdowns import OWNERSHIP_TYPES  # noqa: PLC0415

    own = r.ownership or {}
    rows = [{"ownership": o["ownership"],
             "label": tr(*OWNERSHIP_TYPES.get(o["ownership"], ("chưa phân loại", "unassigned"))),
             "va": o["va"], "de_va": o["de_va"], **{f"{k}_va": v for k, v in o["components"].items()},
             "share_of_grdp": o["share_of_grdp"], "share_of_de": o["share_of_de"], "price_basis": r.price_basis}
            for o in own.get("rows", [])]
    return pd.DataFrame(rows, columns=["ownership", "label", "va", "de_va", "share_of_grdp", "share_of_de", "price_basis"]
                        if not rows else None)


def _render_ownership(r: P.MeasureResult) -> None:
    own = r.ownership or {}
    if own.get("error"):
        click.echo(f"  ! {own['error']['code']}: {_msg(own['error'])}")
    df = _ownership_frame(r)
    if len(df):
        click.echo(render_frame(df.drop(columns=["ownership", "price_basis"]), "table",
                                title=tr(f"Theo loại hình kinh tế ({_prices(r.price_basis)}; tỷ trọng % GRDP và % kinh tế số):",
                                         f"By ownership type ({_prices(r.price_basis)}; shares % of GRDP and % of the digital economy):")))


def _render_regions(regions: list[dict], fmt: str, view: str, period: str, pb: str) -> None:
    import pandas as pd  # noqa: PLC0415

    if fmt == "json":
        click.echo(to_json(regions))
        return
    name = "name_vi" if current_lang() == "vi" else "name_en"
    df = pd.DataFrame([{"region": g["region"], "name": g[name], "basis": g["basis"], "provinces": len(g["provinces"]),
                        "missing": len(g["missing"]), "grdp": g["grdp"], "de_va": g["de_va"], "de_share": g["de_share"],
                        "price_basis": g["price_basis"]} for g in regions])
    if fmt in TABULAR:
        click.echo(render_frame(df.assign(view=view, period=period), fmt, sheet=tr("vung", "regions"),
                                meta={"illustrative": any(bool(g.get("illustrative")) for g in regions)}))
        return
    if any(g.get("illustrative") for g in regions):
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    click.echo(render_frame(df.drop(columns=["price_basis"]), "table",
                            title=tr(f"Kinh tế số {period} theo vùng kinh tế - xã hội, cách đo {view.upper()}, {_prices(pb)} "
                                     f"(tổng các tỉnh; % GRDP của vùng)",
                                     f"Digital economy {period} by socio-economic region, {view.upper()} view, {_prices(pb)} "
                                     f"(sums of the provinces; % of the region's GRDP)")))
    for g in regions:
        click.echo(f"  {g['region']}: {', '.join(g['provinces'])}")
        for w in g["warnings"]:
            click.echo(f"  ! {w.get('code')}: {_msg(w)}")


def _render_all(results: list[P.MeasureResult], fmt: str, view: str, period: str, rec: dict | None,
                by: str = "component") -> None:
    import pandas as pd  # noqa: PLC0415

    from kinhteso.methods.accounts import VIEWS  # noqa: PLC0415

    rows = []
    for r in results:
        res = r.result
        row = {"territory": r.territory, "name": _name(r.territory), "view": view, "period": period,
               "price_basis": r.price_basis, "grdp": res.grdp if res else None, "de_va": res.de_va if res else None,
               "de_share": res.de_share if res else None}
        for k in VIEWS[view][1]:
            row[f"{k}_share"] = res.components[k]["share"] if res else None
        if by == "ownership":
            parts = {o["ownership"]: o["share_of_de"] for o in (r.ownership or {}).get("rows", [])}
            for o in ("state", "nonstate", "fdi"):
                row[f"{o}_pct_of_de"] = parts.get(o)
        if any(x.interval is not None for x in results):
            row["de_share_lower"] = r.interval["de_share"][0] if r.interval else None
            row["de_share_upper"] = r.interval["de_share"][1] if r.interval else None
        row["warnings"] = len(r.warnings) + (1 if r.error else 0)
        rows.append(row)
    df = pd.DataFrame(rows)
    if fmt == "json":
        click.echo(to_json([r.as_json() for r in results]))
        return
    if fmt in TABULAR:
        click.echo(render_frame(df, fmt, sheet=tr("dia_ban", "territories"),
                                meta={"illustrative": any(bool(r.provenance.get("illustrative")) for r in results)}))
        return
    if any(r.provenance.get("illustrative") for r in results):
        click.echo(f"⚠ {DEMO_LABEL[current_lang()]}")
    pb = results[0].price_basis if results else "current"
    click.echo(render_frame(df.drop(columns=["view", "period", "price_basis"]), "table",
                            title=tr(f"Kinh tế số {period}, cách đo {view.upper()}, {_prices(pb)} (% GRDP)",
                                     f"Digital economy {period}, {view.upper()} view, {_prices(pb)} (% of GRDP)")))
    if rec:
        click.echo(tr(
            f"Cả nước so với tổng các tỉnh: KTS {fmt_number(rec['nation_de_va'], 0)} / {fmt_number(rec['provinces_de_va'], 0)} "
            f"tỷ đồng (chênh {fmt_number(rec['discrepancy_de_va'], 0)}); tỷ trọng {fmt_number(rec['nation_share'], 2)}% / "
            f"{fmt_number(rec['provinces_share'], 2)}%",
            f"Nation vs sum of provinces: DE {fmt_number(rec['nation_de_va'], 0)} / {fmt_number(rec['provinces_de_va'], 0)} "
            f"VND bn (discrepancy {fmt_number(rec['discrepancy_de_va'], 0)}); share {fmt_number(rec['nation_share'], 2)}% / "
            f"{fmt_number(rec['provinces_share'], 2)}%"))
    for r in results:
        if r.error:
            click.echo(f"  ! {r.territory} {r.error['code']}: {_msg(r.error)}")


@click.group("coef")
def coef() -> None:
    """Ước tính hệ số số hóa DIGITAL_COEF / estimate digitalisation coefficients (status E)."""


@coef.command("revenue")
@click.option("--territory", required=True, help="Địa bàn / territory.")
@click.option("--period", type=PERIOD, required=True, help="Kỳ / period (2024).")
@click.option("--online", default="ONLINE_REVENUE", show_default=True, help="Doanh thu trực tuyến / online revenue indicator.")
@click.option("--total", default="EINVOICE_REVENUE", show_default=True, help="Tổng doanh thu / total revenue indicator.")
@click.option("--dry-run", is_flag=True, help="Chỉ tính, không ghi / compute, do not store.")
@workspace_option
def coef_revenue(territory, period, online, total, dry_run, workspace: Path) -> None:
    """Hệ số = doanh thu trực tuyến / doanh thu (giả định của BEA) / coefficient = online revenue share (BEA assumption), by section."""
    from kinhteso.pipeline.coefficients import estimate_revenue  # noqa: PLC0415
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    (key,) = resolve_territories([territory], basis=None)[:1]
    with Workspace.open(workspace) as ws:
        est = estimate_revenue(ws, territory=key, period=period, online=online.upper(), total=total.upper(),
                               write=not dry_run)
    _render_coef(est)


@coef.command("calibrate")
@click.option("--period", type=PERIOD, required=True, help="Năm / year (2025).")
@click.option("--target", "target_pct", type=float, default=None,
              help="Tỷ trọng phần số hóa, % GDP, thay số công bố / the digitalised share, % of GDP, replacing the "
                   "published one (e.g. 4.91; needed for a year without published figures).")
@click.option("--constraints", "constraints", default="published", show_default=True,
              help="Ràng buộc / constraints: published (số công bố của năm: tỷ trọng số hóa, điểm % theo khu vực, cơ cấu / "
                   "the year's published figures: digitalised share, sector points, composition), published:YEAR (cơ cấu "
                   "của năm YEAR / YEAR's composition shares), total (chỉ tỷ trọng số hóa / the digitalised share alone), "
                   "or a YAML/CSV file (id,kind,target,cover,sense,tolerance,weight,precision,source,url,note).")
@click.option("--territory", default="VN", show_default=True, help="Địa bàn / territory (the nation by default).")
@click.option("--profile", "profile_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp CSV sector,weight thay cho tỷ lệ doanh thu trực tuyến / CSV sector,weight replacing the online revenue share.")
@click.option("--dry-run", is_flag=True, help="Chỉ tính, không ghi / compute, do not store.")
@output_options("table", "json", "csv")
@workspace_option
def coef_calibrate(period, target_pct, constraints, territory, profile_file, dry_run, fmt, workspace: Path) -> None:
    """Hiệu chỉnh hệ số số hóa theo mọi số công bố / calibrate coefficients on every published constraint.

    Coefficients in 0–1 closest (chi-square distance, Deville & Särndal 1992) to the profile scaled to the
    digitalised share, meeting the published digitalised share, sector split and composition exactly when they
    are consistent with the accounts, else their weighted least-squares compromise (warned). Prints each
    constraint's target, achieved value and residual (docs/methodology.md §1.9).
    """
    import pandas as pd  # noqa: PLC0415

    from kinhteso.pipeline.coefficients import estimate_calibration  # noqa: PLC0415
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    profile = None
    if profile_file is not None:
        try:
            f = pd.read_csv(profile_file, dtype={"sector": str})
            profile = f.set_index("sector")["weight"].astype(float)
        except (OSError, KeyError, ValueError) as exc:
            raise UsageError("BAD_PROFILE", f"Tệp hồ sơ {profile_file} phải có cột sector,weight: {exc}",
                             f"Profile file {profile_file} must have columns sector,weight: {exc}") from None
    spec = constraints.strip()
    if spec not in ("published", "total") and not spec.startswith("published:"):
        spec = Path(spec)
    (key,) = resolve_territories([territory], basis=None)[:1]
    with Workspace.open(workspace) as ws:
        est = estimate_calibration(ws, period=period, target_pct=target_pct, profile=profile, territory=key,
                                   write=not dry_run, constraints=spec)
    _render_calibration(est, fmt)


#: The calibration table's columns in Vietnamese (the English table keeps the codes).
_CALIBRATION_VI = {"id": "Ràng buộc", "kind": "Loại", "cover": "Phạm vi", "sense": "Dấu", "target": "Mục tiêu",
                   "achieved": "Đạt được", "residual": "Sai lệch", "unit": "Đơn vị", "met": "Thỏa mãn",
                   "within_rounding": "Trong sai số làm tròn", "source": "Nguồn"}


def _render_calibration(est, fmt: str) -> None:
    import pandas as pd  # noqa: PLC0415

    d = est.details or {}
    table = pd.DataFrame(d.get("constraints") or [])
    if fmt == "json":
        click.echo(to_json({"territory": est.territory, "period": est.period, "method": est.method, "k": est.k,
                            "run_id": est.run_id, "feasible": d.get("feasible"),
                            "constraint_set": d.get("constraint_set"),
                            "coefficients": {str(s): float(v) for s, v in est.coefficients.items()},
                            "constraints": d.get("constraints"), "warnings": d.get("warnings"),
                            "note": est.note, "note_vi": est.note_vi}))
        return
    if fmt in TABULAR:
        click.echo(render_frame(table.assign(territory=est.territory, period=est.period), fmt,
                                sheet=tr("rang_buoc", "constraints")))
        return
    _render_coef(est)
    cols = ["id", "kind", "cover", "sense", "target", "achieved", "residual", "unit", "met", "within_rounding", "source"]
    shown = table[[c for c in cols if c in table.columns]]
    if current_lang() == "vi":
        shown = shown.rename(columns=_CALIBRATION_VI)
    click.echo(render_frame(shown, "table", digits=4,
                            title=tr("Ràng buộc hiệu chỉnh (PCT_GDP: điểm % GDP; PCT_DE: % giá trị tăng thêm kinh tế số):",
                                     "Calibration constraints (PCT_GDP: points of GDP; PCT_DE: % of the digital value added):")))
    for w in d.get("warnings") or []:
        click.echo(f"  ! {w.get('code')}: {_msg(w)}")


def _process_options(records: str):
    """The options of a process-digitalisation coefficient (``coef logistics``, ``coef process``)."""
    def apply(f):
        for opt in reversed([
                click.option("--territory", required=True, help="Tỉnh / province (34:31, Hải Phòng)."),
                click.option("--period", type=PERIOD, required=True, help="Năm / year (2025)."),
                click.option("--reference", type=float, default=None,
                             help="Chỉ số tham chiếu, % / the reference index, percent (default: pooled over every "
                                  f"territory with {records})."),
                click.option("--elasticity", type=float, default=None,
                             help="Độ co giãn η của hệ số theo chỉ số (mặc định 1: tỷ lệ thuận) / the coefficient's "
                                  "elasticity η with respect to the index (default 1: proportional; 0: the national "
                                  "coefficient)."),
                click.option("--dry-run", is_flag=True, help="Chỉ tính, không ghi / compute, do not store."),
                workspace_option]):
            f = opt(f)
        return f
    return apply


@coef.command("logistics")
@_process_options("logistics records")
def coef_logistics(territory, period, reference, elasticity, dry_run, workspace: Path) -> None:
    """Hệ số số hóa ngành vận tải, kho bãi (H) từ dữ liệu logistics của tỉnh / the transport and storage (H)
    coefficient from the province's logistics records.

    The national DIGITAL_COEF of section H × (1 + η·(I − R)/R), bounded to 0–1: I is the province's
    process-digitalisation index (the mean of its NSW, eDO, e-payment, e-declaration and electronic
    ticket shares in the year), R the reference (docs/logistics.md). Without enough records the national coefficient
    stands and nothing is stored. A DIGITAL_COEF the province submitted is never replaced by it.
    """
    from kinhteso.pipeline.coefficients import estimate_logistics  # noqa: PLC0415
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    (key,) = resolve_territories([territory], basis=None)[:1]
    with Workspace.open(workspace) as ws:
        est = estimate_logistics(ws, territory=key, period=period, reference=reference, elasticity=elasticity,
                                 write=not dry_run)
    _render_process(est)


@coef.command("process")
@click.option("--section", required=True,
              help="Ngành VSIC 2018 có thành phần khai báo (H, Q, P, F; hoặc khóa VSIC 2025 v2025:R) / a VSIC 2018 "
                   "section with declared components (H, Q, P, F; or its VSIC 2025 key v2025:R).")
@_process_options("the section's records")
def coef_process(section, territory, period, reference, elasticity, dry_run, workspace: Path) -> None:
    """Hệ số số hóa của một ngành từ dữ liệu của tỉnh / a section's coefficient from the province's records.

    The national DIGITAL_COEF of the section × (1 + η·(I − R)/R), bounded to 0–1: I is the province's
    process-digitalisation index (the mean of the section's component shares in the year, declared in
    reference/data/process_coefficients.yaml: H logistics and transport fares, Q health facilities,
    P schools, F building permits), R the reference (docs/logistics.md). Without enough records the
    national coefficient stands and nothing is stored. A DIGITAL_COEF the province submitted is never
    replaced by it.
    """
    from kinhteso.pipeline.coefficients import estimate_process  # noqa: PLC0415
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415
    from kinhteso.reference.process_coef import process_section  # noqa: PLC0415
    from kinhteso.workspace import Workspace  # noqa: PLC0415

    spec = process_section(section)  # NO_PROCESS_COMPONENTS before the workspace is opened
    (key,) = resolve_territories([territory], basis=None)[:1]
    with Workspace.open(workspace) as ws:
        est = estimate_process(ws, section=spec.section, territory=key, period=period, reference=reference,
                               elasticity=elasticity, write=not dry_run)
    _render_process(est)


def _render_process(est) -> None:
    _render_coef(est)
    for c in (est.details or {}).get("components", []):
        share = "–" if c["share"] is None else fmt_number(c["share"] * 100, 1)
        ref = "–" if c["reference_share"] is None else fmt_number(c["reference_share"] * 100, 1)
        units = "" if c.get("units") is None else tr(f", {c['units']} đơn vị", f", {c['units']} units")
        click.echo(f"    {c['component']:<28} {share:>6}% ({fmt_number(c['records'], 0)}{units}) "
                   f"{tr('tham chiếu', 'reference')} {ref:>6}%{'' if c['used'] else tr('  (không dùng)', '  (not used)')}")


def _render_coef(est) -> None:
    click.echo(tr(f"DIGITAL_COEF {est.territory} {est.period}, phương pháp {est.method}:",
                  f"DIGITAL_COEF {est.territory} {est.period}, method {est.method}:"))
    for sector, v in est.coefficients.items():
        click.echo(f"  {sector:<4} {fmt_number(v, 4)}")
    click.echo(f"  {est.note_vi if current_lang() == 'vi' and getattr(est, 'note_vi', None) else est.note}")
    if est.run_id is not None:
        click.echo(tr(f"  Đã lưu: lần chạy {est.run_id}, nguồn kinhteso:{est.method} (kết quả, không phải số được gửi), trạng thái E.",
                      f"  Stored: run {est.run_id}, source kinhteso:{est.method} (a result, not a submission), status E."))


COMMANDS = [measure, coef]
