"""The demo's steps: each capability run on the demo workspace, its summary printed.

These are renderers: they call the pipeline as any interface does and print what it returns,
in the language in force, with the illustrative label. :data:`kinhteso.demo.build.CAPABILITIES`
lists them in the order ``kinhteso demo`` runs them; each takes ``(workspace, echo)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from kinhteso.demo import data as demo_data
from kinhteso.demo import io as demo_io
from kinhteso.i18n import DEMO_LABEL, current_lang, fmt_number, tr
from kinhteso.ingest.iotables import read_concordance, read_four_files
from kinhteso.methods import accounts as MA
from kinhteso.methods import targets as MT
from kinhteso.methods.io import adb_value_flow
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import coefficients as PC
from kinhteso.pipeline import index as PI
from kinhteso.pipeline import io_estimates as PIO
from kinhteso.pipeline import nowcast as PN
from kinhteso.pipeline import quarterly as PQ
from kinhteso.pipeline import targets as PT
from kinhteso.pipeline.observations import ObservationQuery, read_observations
from kinhteso.reference import territories as terr
from kinhteso.workspace import Workspace

__all__ = ["foundation_summary", "io_summary", "records_summary", "accounts_summary", "quarterly_summary",
           "nowcast_summary", "index_summary", "targets_summary", "RECORD_FILES", "record_files"]

Echo = Callable[[str], None]


def foundation_summary(ws: Workspace, echo: Echo) -> None:
    """The merger rule at work: 2024 GRDP of the new units summed from their old provinces."""
    res = read_observations(ws, ObservationQuery(indicator=["GRDP"], period=["2024"], basis=34))
    f = res.frame[res.frame.basis == "34"].sort_values("value", ascending=False).head(5)
    echo("")
    echo(tr("Nền tảng — GRDP 2024 theo ranh giới 34 tỉnh (cộng từ 63 tỉnh cũ), 5 địa bàn lớn nhất "
            f"[{DEMO_LABEL['vi']}]:",
            f"Foundation — 2024 GRDP on the 34-province boundaries (summed from the 63 old ones), top 5 "
            f"[{DEMO_LABEL['en']}]:"))
    for row in f.itertuples(index=False):
        echo(f"  34:{row.territory:<3} {fmt_number(row.value, 0):>14} tỷ đồng/VND bn  ← {row.derived_from}")


def io_summary(ws: Workspace, echo: Echo) -> None:
    """Demo capability: the illustrative IO table, the ADB estimate and the IO-based DIGITAL_COEF."""
    va = ws.store.observations(indicator="GRDP_VA", territory="VN", period=demo_io.DEMO_IO_YEAR)
    demo = demo_io.demo_io_table(dict(zip(va.sector, va.value)))
    paths = demo_io.write_demo_io(ws.root / "demo_inputs" / "io", demo)
    # read the files back, as a user's table would be read
    table = read_four_files(paths["Z.csv"], paths["x.csv"], y=paths["y.csv"], factors={"gva": paths["gva.csv"]})
    conc = read_concordance(paths["concordance.csv"], codes=table.codes)
    lang = current_lang()
    echo("")
    echo(tr(f"Vào-ra — bảng I-O minh họa {demo.year}, {len(table.codes)} ngành ({paths['Z.csv'].parent}) "
            f"[{DEMO_LABEL['vi']}]:",
            f"Input-output — illustrative {demo.year} IO table, {len(table.codes)} industries "
            f"({paths['Z.csv'].parent}) [{DEMO_LABEL['en']}]:"))
    est = adb_value_flow(table.Z, table.x, table.factors["gva"], codes=table.codes, digital=demo.digital, y=table.y)
    echo(tr(f"  Ước tính ADB (2021) theo luồng giá trị, sản phẩm số {', '.join(est.digital)}, quy tắc trừ trùng "
            f"'{est.double_count}'; GDP theo giá cơ bản {fmt_number(est.gdp, 0)} tỷ đồng:",
            f"  ADB (2021) value-flow estimate, digital products {', '.join(est.digital)}, double-count rule "
            f"'{est.double_count}'; GDP at basic prices {fmt_number(est.gdp, 0)} bn đồng:"))
    labels = {
        "backward_linkage": ("liên kết ngược", "backward linkage"),
        "forward_linkage": ("liên kết xuôi", "forward linkage"),
        "double_counting": ("trừ trùng (−)", "double counting (−)"),
        "investment_link": ("liên kết đầu tư", "investment link"),
        "total": ("tổng = GDP số", "total = digital GDP"),
    }
    for r in est.terms.itertuples(index=False):
        name = labels[r.term][0 if lang == "vi" else 1]
        extra = ""
        if r.term == "investment_link" and not est.investment_estimated:
            extra = tr("  (không ước tính: bảng không có ma trận đầu tư)", "  (not estimated: no investment matrix)")
        echo(f"    {name:<22} {fmt_number(r.value, 0):>12}  {fmt_number(100 * r.share_of_gdp, 2):>6} %  {r.formula}{extra}")
    before = ws.store.observations(indicator="DIGITAL_COEF", territory="VN", period=demo.year)
    before = {r.sector: (r.value, r.source) for r in before.itertuples(index=False)}
    est = ws.store.results(kind="coef", indicator="DIGITAL_COEF", territory="VN", period=demo.year)
    before |= {r.sector: (r.value, f"kinhteso:{r.method}") for r in est.itertuples(index=False) if r.method != "io"}
    coef = PIO.estimate_digital_coef(
        table, digital=demo.digital, territory="VN", period=demo.year, concordance=conc,
        table_file=paths["Z.csv"], concordance_file=paths["concordance.csv"], illustrative=True,
    )
    vid, n, superseded = PIO.write_digital_coef(ws, coef)
    echo(tr("  DIGITAL_COEF theo vào-ra = đầu vào số / chi phí trung gian, theo ngành của bảng → mã VSIC"
            + ("; cột cuối: giá trị trước đó của mã VSIC (nguồn):" if before else ":"),
            "  IO-based DIGITAL_COEF = digital inputs / intermediate consumption, by table industry → VSIC code"
            + ("; last column: the VSIC code's previous value (source):" if before else ":")))
    for r in PIO.describe(coef, demo.names).itertuples(index=False):
        codes = list(dict.fromkeys(coef.by_industry.vsic[coef.by_industry.code == r.code]))
        prev = " ".join(f"{c} {fmt_number(before[c][0], 3)} ({before[c][1]})" for c in codes if c in before)
        line = f"    {r.code:<8} {r.name[:40]:<40} → {r.vsic[:8]:<8} {fmt_number(r.intensity, 3):>6}"
        echo(f"{line}   {prev}" if before else line)
    merged = coef.by_vsic[coef.by_vsic.industries.str.contains(",")]
    for r in merged.itertuples(index=False):
        echo(tr(f"    {r.vsic}: trung bình có trọng số chi phí trung gian của {r.industries} = {fmt_number(r.value, 3)}",
                f"    {r.vsic}: IC-weighted mean of {r.industries} = {fmt_number(r.value, 3)}"))
    echo(tr(f"  Đã lưu {n} hệ số (lần chạy {vid[:12]}, nguồn {PIO.IO_SOURCE}, trạng thái E, minh họa).",
            f"  Stored {n} coefficients (run {vid[:12]}, source {PIO.IO_SOURCE}, status E, illustrative)."))
    if superseded:
        echo(tr(f"  Chúng là giá trị mới nhất (thay cho giá trị cũ, vẫn đọc được bằng --as-of) của: {', '.join(superseded)}",
                f"  They are now the latest values (the earlier ones stay readable with --as-of) of: "
                f"{', '.join(superseded)}"))


#: The demo's record files, written then ingested in this order through ``kinhteso ingest --adapter``
#: (the service, source ``demo``, illustrative): each a function ``(folder, seed) → [(adapter, source,
#: path)]``. A module not (yet) in the package is skipped. A new dataset's demo files are one more line.
RECORD_FILES: tuple[str, ...] = (
    "kinhteso.demo.logistics:write_demo_files",
    "kinhteso.demo.sectors:write_sector_files",
)
#: The seed of the demo's record files (the same files on every run).
RECORD_SEED = 2025
#: The port indicators the demo prints, in this order (short labels).
_PORT_COLUMNS = (("PORT_NSW_SHARE", "NSW%"), ("PORT_EDO_SHARE", "eDO%"), ("PORT_EPAYMENT_SHARE", "e-pay%"),
                 ("CUSTOMS_E_DECLARATION_SHARE", "e-decl%"), ("PORT_IMPORT_DWELL_H", "dwell h"),
                 ("PORT_IMPORT_DWELL_P90_H", "p90 h"), ("PORT_VESSEL_HOURS", "vessel h"),
                 ("PORT_TEU_PER_BERTH_HOUR", "TEU/berth h"))


def record_files(folder, seed: int = RECORD_SEED) -> list[tuple[str, str, Any]]:
    """Write every record file of :data:`RECORD_FILES` into ``folder``: ``(adapter, source, path)``."""
    import importlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    out = []
    for spec in RECORD_FILES:
        module, func = spec.split(":")
        if importlib.util.find_spec(module) is None:
            continue  # the hook of a dataset whose demo files are not built yet
        out += getattr(importlib.import_module(module), func)(folder, seed)
    return out


def records_summary(ws: Workspace, echo: Echo) -> None:
    """Demo: the agencies' record files (Hải Phòng's and Hồ Chí Minh City's ports, illustrative) through
    the shipped adapters, then the port indicators derived from them, by quarter."""
    from kinhteso.service.data import IngestRequest, ingest  # noqa: PLC0415

    folder = ws.root / "demo_inputs" / "records"
    files = record_files(folder)
    n_read = n_aside = 0
    for adapter, source, path in files:
        (out,) = ingest(ws, IngestRequest(files=(path,), source=source, adapter=adapter, illustrative=True))
        if out.rejected is not None:
            raise out.rejected
        rec = out.result.records or {}
        n_read += int(rec.get("read", 0))
        n_aside += sum((rec.get("aside") or {}).values())
    echo("")
    echo(tr(f"Dữ liệu bản ghi — {len(files)} tệp của các cơ quan (cảng, hải quan, các sở; qua các adapter có sẵn, "
            f"nguồn = demo): {fmt_number(n_read, 0)} bản ghi, {fmt_number(n_aside, 0)} để riêng [{DEMO_LABEL['vi']}].",
            f"Record data — {len(files)} agencies' files (ports, customs, departments; through the shipped adapters, "
            f"source = demo): {fmt_number(n_read, 0)} records, {fmt_number(n_aside, 0)} set aside [{DEMO_LABEL['en']}]."))
    echo(tr("  Chỉ số cảng theo quý (Hải Phòng 34:31, TP. Hồ Chí Minh 34:79):",
            "  Port indicators by quarter (Hai Phong 34:31, Ho Chi Minh City 34:79):"))
    res = ws.store.results(kind="logistics", territory=["34:31", "34:79"])
    res = res[res["period"].str.startswith("2025") & res["value"].notna()]
    table = res.pivot_table(index=["territory", "period"], columns="indicator", values="value", aggfunc="first")
    echo("  " + f"{'':<6} {'':<8}" + "".join(f"{label:>12}" for _, label in _PORT_COLUMNS))
    for (key, per), row in table.iterrows():
        cells = "".join(f"{'–' if pd.isna(row.get(c)) else fmt_number(row.get(c), 1):>12}" for c, _ in _PORT_COLUMNS)
        echo(f"  {key:<6} {per:<8}{cells}")
    echo(tr("  (kinhteso results --indicator PORT_NSW_SHARE --territory 34:31; docs/logistics.md)",
            "  (kinhteso results --indicator PORT_NSW_SHARE --territory 34:31; docs/logistics.md)"))


def _logistics_coefficients(done: list, echo: Echo, year: str) -> None:
    """Print the process-digitalisation coefficients estimated for the provinces with records: section
    H's (logistics) one line a province, each other section's one line."""
    from kinhteso.reference.process_coef import process_sections  # noqa: PLC0415

    specs = process_sections()
    others: dict[str, list[str]] = {}
    for est in done:
        d = est.details or {}
        if est.run_id is None:
            continue
        nat = d.get("national", {})
        vals = ", ".join(f"{c} {fmt_number(nat.get(c), 4)} → {fmt_number(v, 4)}" for c, v in est.coefficients.items())
        if d.get("section", "H") != "H":
            others.setdefault(d["section"], []).append(
                f"{est.territory} {vals} ({fmt_number(d.get('index_pct'), 1)}/{fmt_number(d.get('reference_pct'), 1)})")
            continue
        echo(tr(f"  Hệ số số hóa ngành vận tải, kho bãi (H) của {est.territory} {year} từ dữ liệu logistics: {vals} "
                f"(chỉ số số hóa quy trình {fmt_number(d.get('index_pct'), 1)} so với {fmt_number(d.get('reference_pct'), 1)}"
                f" của các địa bàn có dữ liệu; kinhteso coef logistics).",
                f"  Transport and storage (H) coefficient of {est.territory} {year} from its logistics records: {vals} "
                f"(process-digitalisation index {fmt_number(d.get('index_pct'), 1)} against {fmt_number(d.get('reference_pct'), 1)}"
                f" for the reporting provinces; kinhteso coef logistics)."))
    for sec, lines in others.items():
        spec = specs[sec]
        echo(tr(f"  Hệ số số hóa ngành {spec.vi} ({sec}) {year} từ {spec.records_vi} (hệ số cả nước → của tỉnh; "
                f"chỉ số/tham chiếu): {'; '.join(lines)} (kinhteso coef process --section {sec}).",
                f"  {spec.en.capitalize()} ({sec}) coefficient {year} from {spec.records_en} (national → province's; "
                f"index/reference): {'; '.join(lines)} (kinhteso coef process --section {sec})."))


def accounts_summary(ws: Workspace, echo: Echo) -> None:
    """Demo: calibrate DIGITAL_COEF on the published digitalised shares, then measure the nation
    (three views, against the published figures) and every province in 2025."""
    years = [str(y) for y in range(2019, 2026)]
    for y in years:
        PC.estimate_calibration(ws, period=y, target_pct=demo_data.CALIBRATION[int(y)][1])
    res = PA.measure_many(ws, ["VN"], years, list(MA.VIEWS), store_run=True)
    # the provinces' own coefficients of the declared sections (H from their port records, Q, P, F from
    # their sector departments'), before their accounts use them
    logistics = PC.refresh_process_coefficients(ws, years=["2025"])
    pub = ws.store.observations(indicator=["DE_SHARE", "DE_SHARE_MIC"], territory="VN")
    pub = {(r.indicator, r.period): r.value for r in pub.itertuples()}
    by = {(r.view, r.period): r.result.de_share for r in res if r.result}
    echo("")
    echo(tr(f"Tài khoản kinh tế số — cả nước, % GDP (tính từ dữ liệu minh họa; số công bố là thật) [{DEMO_LABEL['vi']}]:",
            f"Digital-economy accounts — nation, % of GDP (computed from illustrative data; published figures are real) "
            f"[{DEMO_LABEL['en']}]:"))
    echo(tr("  năm    GSO tính  GSO công bố   MIC tính  MIC công bố  OECD tính",
            "  year   GSO calc  GSO publ.     MIC calc  MIC publ.    OECD calc"))
    for y in years:
        cells = [by.get(("gso", y)), pub.get(("DE_SHARE", y)), by.get(("mic", y)), pub.get(("DE_SHARE_MIC", y)),
                 by.get(("oecd", y))]
        echo(f"  {y}  " + "  ".join(f"{fmt_number(c, 2):>10}" for c in cells))
    prov = PA.measure_many(ws, PA.territories_for("2025"), ["2025"], ["gso"], store_run=True)
    ok = sorted((r for r in prov if r.result and r.territory != "VN"), key=lambda r: -r.result.de_share)
    echo(tr("  Các tỉnh/thành 2025 (34 đơn vị), cách đo GSO, % GRDP — cao nhất và thấp nhất:",
            "  Provinces 2025 (34 units), GSO view, % of GRDP — highest and lowest:"))
    pub34 = ws.store.observations(indicator="DE_SHARE", period="2025")
    pub34 = dict(zip(pub34.territory, pub34.value))
    for r in ok[:6] + ok[-3:]:
        t = terr.get_territory(r.territory)
        extra = tr(f" (NSO công bố {fmt_number(pub34[r.territory], 2)})", f" (NSO published {fmt_number(pub34[r.territory], 2)})") \
            if r.territory in pub34 else ""
        echo(f"    {r.territory:<6} {t.name_vi:<18} {fmt_number(r.result.de_share, 2):>7}%{extra}")
    rec = PA.reconcile(prov)
    if rec:
        echo(tr(f"  Cả nước {fmt_number(rec['nation_share'], 2)}% so với tổng các tỉnh {fmt_number(rec['provinces_share'], 2)}% "
                f"(chênh lệch GRDP {fmt_number(rec['discrepancy_grdp'], 0)} tỷ đồng, được báo cáo, không ẩn).",
                f"  Nation {fmt_number(rec['nation_share'], 2)}% vs sum of provinces {fmt_number(rec['provinces_share'], 2)}% "
                f"(GRDP discrepancy {fmt_number(rec['discrepancy_grdp'], 0)} VND bn, reported, not hidden)."))
    _logistics_coefficients(logistics, echo, "2025")
    io_runs = ws.store.results(kind="coef", method="io", indicator="DIGITAL_COEF", territory="VN")
    if len(io_runs):
        p = io_runs.period.iloc[0]
        alt = PA.measure_many(ws, ["VN"], [p], ["gso"], coef_source="kinhteso:io")[0]
        if alt.result:
            echo(tr(f"  Với hệ số từ bảng I-O ({p}): {fmt_number(alt.result.de_share, 2)}% (hiệu chỉnh: {fmt_number(by.get(('gso', p)), 2)}%).",
                    f"  With input-output coefficients ({p}): {fmt_number(alt.result.de_share, 2)}% (calibrated: {fmt_number(by.get(('gso', p)), 2)}%)."))


def quarterly_summary(ws: Workspace, echo: Echo) -> None:
    """Demo: quarterly DE shares for every province that sum to the annual figures, and a revision:
    2025's quarters first extrapolated (annual accounts to 2024), then benchmarked to 2025."""
    keys = PA.territories_for("2025")
    worst = 0.0
    shown = {}
    before, _ = PQ.quarterly_many(ws, ["VN", "34:31", "34:79"], last_year=2024)  # before the 2025 accounts
    PQ.save_many(ws, before)
    done, failed = PQ.quarterly_many(ws, keys)
    if failed:
        raise failed[0][1]
    PQ.save_many(ws, done)
    for r in done:
        k = r.territory
        got = r.frame.assign(year=r.frame.period.str[:4].astype(int)).groupby("year").de_va.sum()
        ann = r.annual.set_index("year").de_va
        worst = max(worst, float((got.reindex(ann.index) / ann - 1).abs().max()))
        shown[k] = r
    echo("")
    echo(tr(f"Số liệu quý — tỷ trọng KTS theo quý, cách đo GSO (Denton–Cholette theo GRDP quý) [{DEMO_LABEL['vi']}]:",
            f"Quarterly figures — DE share by quarter, GSO view (Denton–Cholette on quarterly GRDP) [{DEMO_LABEL['en']}]:"))
    for k in ("VN", "34:31", "34:79"):
        f = shown[k].frame.tail(7)
        cells = "  ".join(f"{p}: {fmt_number(v, 2)}{'' if b else '*'}" for p, v, b in zip(f.period, f.de_share, f.benchmarked))
        echo(f"  {k:<6} {cells}")
    echo(tr(f"  * ước tính (E), sau số liệu năm cuối. {len(keys)} địa bàn; quý cộng lại khớp số năm (sai lệch lớn nhất {worst:.1e}).",
            f"  * estimated (E), after the last annual figure. {len(keys)} territories; quarters sum to the annual figures (largest gap {worst:.1e})."))
    rev = PQ.revisions(ws, "34:31")
    q = rev[rev.period == "2025-Q3"]
    if len(q):
        echo(tr(f"  Hiệu chỉnh 34:31 quý 2025-Q3 khi có số năm 2025: {fmt_number(float(q.revision.iloc[0]), 2)} điểm % "
                f"(kinhteso revisions --territory 34:31 --indicator DE_SHARE).",
                f"  Revision of 34:31 2025-Q3 when the 2025 annual figure arrived: {fmt_number(float(q.revision.iloc[0]), 2)} pp "
                f"(kinhteso revisions --territory 34:31 --indicator DE_SHARE)."))


def nowcast_summary(ws: Workspace, echo: Echo) -> None:
    """Demo: nowcast 2026-Q4 for the nation (default engine, with the DFM beside it and its
    news) and two provinces, then the backtest RMSE table of the nation on the demo data."""
    echo("")
    echo(tr(f"Dự báo tức thời quý hiện tại (DE_VA, tỷ trọng; khoảng {int(PN.LEVEL * 100)}%) [{DEMO_LABEL['vi']}]:",
            f"Nowcast of the current quarter (DE VA, share; {int(PN.LEVEL * 100)}% interval) [{DEMO_LABEL['en']}]:"))
    nation = PN.load_series(ws, "VN")
    dfm_opts = {"maxiter": 30}
    rows = []
    for key, s in (("VN", nation), ("34:01", None), ("34:31", None)):
        s = s or PN.load_series(ws, key)
        out = PN.run_nowcast(ws, key, series=s, with_news=False)
        rows.append(out)
    dfm_out = PN.run_nowcast(ws, "VN", engine="dfm", series=nation, write=False, dfm_options=dfm_opts)
    for o in [*rows, dfm_out]:
        echo(f"  {o.territory:<6} {o.period}  [{o.engine:<6}] DE_VA {fmt_number(o.de_va, 0):>10} "
             f"({fmt_number(o.de_va_interval[0], 0)}–{fmt_number(o.de_va_interval[1], 0)}) tỷ đồng/VND bn;  "
             f"{tr('tỷ trọng', 'share')} {fmt_number(o.de_share, 2)}% "
             f"({fmt_number(o.de_share_interval[0], 2)}–{fmt_number(o.de_share_interval[1], 2)})")
    if dfm_out.news and dfm_out.news["releases"]:
        top = dfm_out.news["releases"][0]
        echo(tr(f"  Tin mới (DFM, VN): {top['variable']} {top['period']} làm dự báo tăng trưởng DE_VA đổi "
                f"{fmt_number(top['impact'], 2)} điểm % (tổng {fmt_number(dfm_out.news['total'], 2)})",
                f"  News (DFM, VN): {top['variable']} {top['period']} moved the DE VA growth nowcast by "
                f"{fmt_number(top['impact'], 2)} pp (total {fmt_number(dfm_out.news['total'], 2)})"))
    bt = PN.run_backtest(nation, origins=6, dfm_options=dfm_opts)
    echo(tr(f"  Kiểm định ngược (VN, tăng trưởng DE_VA, {len(bt.errors.origin.unique())} quý, "
            f"{bt.months_available} tháng đã có): RMSE điểm %",
            f"  Backtest (VN, DE VA growth, {len(bt.errors.origin.unique())} quarters, "
            f"{bt.months_available} month(s) published): RMSE in pp"))
    for r in bt.summary.itertuples(index=False):
        echo(f"    {r.engine:<7} RMSE {fmt_number(r.rmse, 2):>6}  {tr('so với ngây thơ', 'vs naive')} "
             f"{fmt_number(r.rmse_ratio_to_naive, 2)}")
    echo(tr(f"  Phương pháp mặc định: chọn theo kiểm định ngược trên số liệu của từng địa bàn (VN: {rows[0].engine}); "
            f"quy tắc số liệu thật GSO ({PN.default_engine()}) khi lịch sử quá ngắn",
            f"  Default engine: chosen by each territory's own backtest (VN: {rows[0].engine}); the real-data rule "
            f"({PN.default_engine()}) when the history is too short"))


def _rank_interval(r: Any) -> str:
    if pd.isna(r.rank_low):
        return ""
    return f"[{int(r.rank_low)}–{int(r.rank_high)}]"


def index_summary(ws: Workspace, echo: Echo) -> None:
    """The DTI 2024 framework (Decision 405) on the demo provinces: 2024 on the 34 basis (merged
    from the 63 by the DTI rule), top 5 and bottom 3 with rank intervals, strengths and weaknesses;
    the 2025 leaders (stored on the 34 basis; the 2025 framework is not published, so dti2024)."""
    res = PI.score_index(ws, PI.IndexSettings(framework="dti2024", period="2024", basis=34, n=200, seed=0))
    t = res.table
    echo("")
    echo(tr(f"Chỉ số tổng hợp — DTI (khung QĐ 405, trọng số giả định theo QĐ 922) năm 2024 theo 34 tỉnh (trung bình chỉ số chính của tỉnh cũ), "
            f"{len(t)} địa bàn; [khoảng hạng 5–95%, trọng số ±25%, {res.provenance['parameters']['n']} lần]; "
            "+ điểm mạnh, − điểm yếu:",
            f"Composite index — DTI (Decision 405 framework, weights assumed from Decision 922) 2024 on the 34-province basis (mean of the old provinces' "
            f"main indices), {len(t)} units; [rank interval 5–95%, weights ±25%, {res.provenance['parameters']['n']} runs]; "
            "+ strengths, − weaknesses:"))
    shown = pd.concat([t.head(5), t.tail(3)])
    for i, r in enumerate(shown.itertuples(index=False)):
        if i == 5:
            echo("  …")
        echo(f"  {int(r.rank):>2}. {r.territory} {r.name:<18} {fmt_number(r.score, 4):>7} {_rank_interval(r):<8} "
             f"+ {r.strengths}  − {r.weaknesses}")
    r25 = PI.score_index(ws, PI.IndexSettings(framework="dti2024", period="2025", basis=34, n=0)).table.head(3)
    lead = ", ".join(f"{r.name} {fmt_number(r.score, 4)}" for r in r25.itertuples(index=False))
    echo(tr(f"  2025 (số liệu theo 34 tỉnh; khung DTI 2025 chưa công bố, chấm theo khung 2024), dẫn đầu: {lead}",
            f"  2025 (34-basis data; the DTI 2025 framework is not published, scored with the 2024 one), leaders: {lead}"))
    if res.illustrative:
        echo(f"  ⚠ {tr(DEMO_LABEL['vi'], DEMO_LABEL['en'])}")


def targets_summary(ws: Workspace, echo: Echo) -> None:
    """Gaps for every province (one line each) and the plans of Ho Chi Minh City and Hải Phòng."""
    lang = current_lang()
    keys = ["VN"] + [t.key for t in terr.territories() if t.basis == 34]
    inds = ("DE_SHARE", "ECOMMERCE_SHARE", "DIGITAL_FIRMS_PER_1000")
    # the detailed plans first: they compute (and store) the two cities' histories the table then uses
    # the two cities' targets were set on MIC-style estimates of the old cities: the plans measure them on
    # kinhteso's GSO-view series of the merged cities, by an explicit, labelled cross-basis comparison
    plans = {(key, year): PT.plan(ws, key, "DE_SHARE", year, against="DE_SHARE", convert_boundary=True)
             for key, year in (("34:79", 2030), ("34:31", 2030))}
    rows = PT.gaps(ws, territory=keys, source="auto", inherit_national=True)
    by: dict[str, dict[str, dict]] = {}
    for r in rows:
        if r["indicator"] not in inds:
            continue
        cur = by.setdefault(r["territory"], {}).get(r["indicator"])
        # one target per indicator on the line: the territory's own before an inherited one, then the farthest year
        if cur is None or (cur["inherited"], -cur["target_year"]) > (r["inherited"], -r["target_year"]):
            by[r["territory"]][r["indicator"]] = r
    short = {"DE_SHARE": tr("KTS", "DE"), "ECOMMERCE_SHARE": tr("TMĐT", "e-com"), "DIGITAL_FIRMS_PER_1000": tr("DN số/1000", "firms/1000")}
    st_label = {"achieved": tr("đạt", "achieved"), "on_track": tr("đúng hướng", "on track"),
                "at_risk": tr("có nguy cơ", "at risk"), "off_track": tr("chệch hướng", "off track"), None: "–"}
    echo("")
    echo(tr(f"Mục tiêu, khoảng cách và kế hoạch — mỗi tỉnh một dòng: giá trị mới nhất → mục tiêu (năm; * = mục tiêu quốc gia "
            f"áp cho tỉnh), khoảng cách, tốc độ cần/năm, trạng thái (xu hướng log-tuyến tính, khoảng dự báo 90%) [{DEMO_LABEL['vi']}; "
            "mục tiêu là thật; n=1: một quan sát, chưa có xu hướng]:",
            f"Targets, gaps and plans — one line per province: latest → target (year; * = national target applied to the "
            f"province), gap, required growth/yr, status (log-linear trend, 90% prediction interval) [{DEMO_LABEL['en']}; "
            "targets are real; n=1: one observation, no trend yet]:"))
    for k in keys:
        cells = []
        for ind in inds:
            r = by.get(k, {}).get(ind)
            if r is None or r["error"]:
                cells.append(f"{short[ind]} –")
                continue
            star = "*" if r["inherited"] else ""
            req = f"{fmt_number(r['required_cagr'] * 100, 1)}%/{tr('năm', 'yr')}" \
                if r["required_cagr"] is not None and r["status"] != "achieved" else "–"
            few = f" (n={r['n_obs']})" if (r["n_obs"] or 0) < 3 and r["status"] != "achieved" else ""
            digits = 2 if ind == "DIGITAL_FIRMS_PER_1000" else 1
            cells.append(f"{short[ind]} {fmt_number(r['latest_value'], digits)}→{fmt_number(r['target_value'], digits)}"
                         f"({r['target_year']}{star}) {req} {st_label[r['status']]}{few}")
        name = PT._name(k, lang)
        echo(f"  {k:<6} {name[:16]:<16} " + " | ".join(cells))
    counts = pd.Series([r["status"] for r in rows if r["indicator"] in inds and r["status"]]).value_counts()
    echo(tr("  Trạng thái (mọi cặp tỉnh × mục tiêu): ", "  Status (all province × target pairs): ")
         + ", ".join(f"{st_label[s]} {int(counts.get(s, 0))}" for s in MT.STATUSES))
    # --- the published check: HCMC before the merger, on the target's own basis, then across bases ------
    checks = ((PT.gaps(ws, territory="63:79", indicator="DE_SHARE_MIC", source="published"),
               ("ước tính kiểu MIC công bố — cơ sở của mục tiêu, thật", "published MIC-style estimates — the target's basis, real")),
              (PT.gaps(ws, territory="63:79", indicator="DE_SHARE", against="DE_SHARE", source="published"),
               ("số GSO công bố, so khác cơ sở của mục tiêu, thật", "published GSO figures, across the target's basis, real")))
    for pub, (what_vi, what_en) in checks:
        for r in pub:
            if r["error"]:
                continue
            trend = (f", {tr('xu hướng', 'trend')} {fmt_number(r['trend_cagr'] * 100, 1)}%/{tr('năm', 'yr')}"
                     if r.get("trend_cagr") is not None else "")
            echo(tr(f"  TP.HCM (63:79, {what_vi}): {fmt_number(r['latest_value'], 2)}% ({r['latest_period']}) → "
                    f"{fmt_number(r['target_value'], 0)}% ({r['target_year']}): thiếu {fmt_number(r['gap'], 2)} điểm %, cần "
                    f"{fmt_number(r['required_cagr'] * 100, 1)}%/năm{trend} → {st_label[r['status']]}",
                    f"  HCMC (63:79, {what_en}): {fmt_number(r['latest_value'], 2)}% ({r['latest_period']}) → "
                    f"{fmt_number(r['target_value'], 0)}% ({r['target_year']}): gap {fmt_number(r['gap'], 2)} pp, needs "
                    f"{fmt_number(r['required_cagr'] * 100, 1)}%/yr{trend} → {st_label[r['status']]}"))
            for w in r.get("warnings") or ():
                echo(f"    ! {w['code']}: {w[lang]}")
    nat = [r for r in PT.gaps(ws, territory="VN", indicator="DE_SHARE", source="published") if r["target_year"] == 2025]
    for r in nat:
        if not r["error"]:
            echo(tr(f"  Cả nước (NSO công bố): {fmt_number(r['latest_value'], 2)}% năm {r['latest_period']} so với mục tiêu "
                    f"{fmt_number(r['target_value'], 0)}%: hụt {fmt_number(r['gap'], 2)} điểm % → {st_label[r['status']]}",
                    f"  Nation (NSO published): {fmt_number(r['latest_value'], 2)}% in {r['latest_period']} against "
                    f"{fmt_number(r['target_value'], 0)}%: missed by {fmt_number(r['gap'], 2)} pp → {st_label[r['status']]}"))
    # --- plans in detail ------------------------------------------------------------------------------
    for (key, year), p in plans.items():
        g = p["gap"]
        echo(tr(f"  Kế hoạch {PT._name(key, lang)} ({key}), tỷ trọng KTS (tính, cách đo GSO) [{DEMO_LABEL['vi']}]:",
                f"  Plan {PT._name(key, lang)} ({key}), DE share (computed, GSO view) [{DEMO_LABEL['en']}]:"))
        if g["error"]:
            echo(f"    ! {g['error']['code']}: {g['error'][lang]}")
            continue
        for w in [*(g.get("warnings") or ()), *p["warnings"]]:
            echo(f"    ! {w['code']}: {w[lang]}")
        echo(tr(f"    {fmt_number(g['latest_value'], 2)}% ({g['latest_period']}) → {fmt_number(g['target_value'], 0)}% ({year}): "
                f"cần {fmt_number(g['required_cagr'] * 100, 1)}%/năm, xu hướng {fmt_number((g['trend_cagr'] or 0) * 100, 1)}%/năm; "
                f"dự báo {year} {fmt_number(g['projected_value'], 1)}% [{fmt_number(g['projected_low'], 1)}–"
                f"{fmt_number(g['projected_high'], 1)}], xác suất đạt {fmt_number((g['probability'] or 0) * 100, 0)}% → "
                f"{st_label[g['status']]}",
                f"    {fmt_number(g['latest_value'], 2)}% ({g['latest_period']}) → {fmt_number(g['target_value'], 0)}% ({year}): "
                f"needs {fmt_number(g['required_cagr'] * 100, 1)}%/yr, trend {fmt_number((g['trend_cagr'] or 0) * 100, 1)}%/yr; "
                f"projected {year} {fmt_number(g['projected_value'], 1)}% [{fmt_number(g['projected_low'], 1)}–"
                f"{fmt_number(g['projected_high'], 1)}], probability {fmt_number((g['probability'] or 0) * 100, 0)}% → "
                f"{st_label[g['status']]}"))
        ms = p["milestones"]
        if ms:
            q4 = [m for m in ms if m["period"].endswith("Q4")]
            echo(tr("    Mốc (quý 4 mỗi năm): ", "    Milestones (each Q4): ")
                 + ", ".join(f"{m['period']} {fmt_number(m['value'], 1)}%" for m in q4)
                 + tr(f"; bước quý {fmt_number(ms[0]['quarterly_rate'] * 100, 2)}%",
                      f"; quarterly step {fmt_number(ms[0]['quarterly_rate'] * 100, 2)}%"))
        s = p["sector_summary"]
        if s:
            echo(tr(f"    Theo ngành (GRDP tăng {fmt_number(p['growth']['rate'] * 100, 1)}%/năm): cần thêm "
                    f"{fmt_number(s['required_pp'], 2)} điểm %; mỗi ngành khép {fmt_number(s['effort_theta'] * 100, 1)}% khoảng "
                    f"trống số hóa của mình" + ("" if s["reachable"] else " (KHÔNG đủ: cần thêm kinh tế số lõi)") + "; đòn bẩy lớn nhất:",
                    f"    By industry (GRDP growing {fmt_number(p['growth']['rate'] * 100, 1)}%/yr): "
                    f"{fmt_number(s['required_pp'], 2)} pp to add; each industry closes {fmt_number(s['effort_theta'] * 100, 1)}% "
                    f"of its digitalisation room" + ("" if s["reachable"] else " (NOT enough: core growth needed)") + "; top leverage:"))
            for sec in p["sectors"][:5]:
                echo(f"      {sec['code']:<5} ({sec['section']}) VA {fmt_number(sec['va_share'], 1)}%, "
                     f"coef {fmt_number(sec['coef'], 3)} → {fmt_number(sec['new_coef'], 3)}, "
                     f"+{fmt_number(sec['contribution_pp'], 2)} {tr('điểm %', 'pp')}")
            c = p["core_alternative"]
            if c and c.get("core_cagr_needed") is not None:
                echo(tr(f"    Hoặc chỉ bằng KTS lõi: lõi phải tăng {fmt_number(c['core_cagr_needed'] * 100, 1)}%/năm",
                        f"    Or by the core alone: core value added must grow {fmt_number(c['core_cagr_needed'] * 100, 1)}%/yr"))
    # --- peers: strengths, weaknesses and whom to learn from -----------------------------------------
    table = PT.peers(ws, view="gso")
    if len(table):
        names = {"DE_SHARE": short["DE_SHARE"], "ECOMMERCE_SHARE": short["ECOMMERCE_SHARE"],
                 "DIGITAL_FIRMS_PER_1000": short["DIGITAL_FIRMS_PER_1000"],
                 "SME_PLATFORM_SHARE": tr("DNNVV nền tảng", "SME platforms"), "ECONTRACT_SHARE": tr("HĐ điện tử", "e-contracts")}
        echo(tr(f"  So sánh ngang hàng {table.year.iloc[0]} (34 tỉnh; nhóm = tứ phân vị GRDP/người; phân vị, + mạnh ≥ 75, − yếu ≤ 25):",
                f"  Peers {table.year.iloc[0]} (34 provinces; group = GRDP-per-person quartile; percentile, + strength ≥ 75, − weakness ≤ 25):"))
        for key in ("34:79", "34:31"):
            t = table[table.territory == key]
            if t.empty:
                continue
            strong = [f"{names.get(r.indicator, r.indicator)} {fmt_number(r.percentile, 0)}" for r in t.itertuples() if r.strength]
            weak = [f"{names.get(r.indicator, r.indicator)} {fmt_number(r.percentile, 0)} → {tr('học', 'learn from')} "
                    f"{PT._name(r.learn_from, lang)}" for r in t.itertuples() if r.weakness]
            echo(f"    {key} {PT._name(key, lang)} ({t.group.iloc[0]}): + " + ("; ".join(strong) or "–")
                 + "  − " + ("; ".join(weak) or "–"))
    hp = [r for r in rows if r["territory"] == "34:31" and not r["inherited"] and not r["error"]]
    for m in PT.sector_summaries(hp):  # the 15% in each sector: one line, the sections counted
        echo(tr(f"  Hải Phòng KH 106: {m['indicator']} {m['comparison']} {fmt_number(m['target_value'], 0)}% trong mỗi ngành "
                f"({m['target_year']}, đo trên {m['series_territory']}): {m['achieved']}/{m['sections_total']} ngành cấp 1 đạt",
                f"  Hải Phòng Plan 106: {m['indicator']} {m['comparison']} {fmt_number(m['target_value'], 0)}% in each sector "
                f"({m['target_year']}, measured on {m['series_territory']}): {m['achieved']}/{m['sections_total']} sections meet it"))
    for r in hp:
        if r["indicator"] != "DE_SHARE" and r.get("sections_total") is None:
            echo(tr(f"  Hải Phòng KH 106: {r['indicator']} {fmt_number(r['latest_value'], 2)} ({r['latest_period']}) so với "
                    f"{r['comparison']} {fmt_number(r['target_value'], 2)} ({r['target_year']}) → {st_label[r['status']]}",
                    f"  Hải Phòng Plan 106: {r['indicator']} {fmt_number(r['latest_value'], 2)} ({r['latest_period']}) against "
                    f"{r['comparison']} {fmt_number(r['target_value'], 2)} ({r['target_year']}) → {st_label[r['status']]}"))
    # the nation's targets within sectors and for digital-economy labour (Decision 411/QĐ-TTg)
    vn = [r for r in rows if r["territory"] == "VN" and not r["error"]]
    for m in PT.sector_summaries(vn):
        echo(tr(f"  Việt Nam QĐ 411: {m['indicator']} {m['comparison']} {fmt_number(m['target_value'], 0)}% trong mỗi ngành "
                f"({m['target_year']}): {m['achieved']}/{m['sections_total']} ngành cấp 1 đạt",
                f"  Viet Nam Decision 411: {m['indicator']} {m['comparison']} {fmt_number(m['target_value'], 0)}% in each "
                f"sector ({m['target_year']}): {m['achieved']}/{m['sections_total']} sections meet it"))
    for r in vn:
        if r["indicator"] == "DE_LABOUR_SHARE":
            echo(tr(f"  Việt Nam QĐ 411: {r['indicator']} {fmt_number(r['latest_value'], 2)}% ({r['latest_period']}, lao động "
                    f"ngành lõi) so với {r['comparison']} {fmt_number(r['target_value'], 0)}% ({r['target_year']}) → "
                    f"{st_label[r['status']]}",
                    f"  Viet Nam Decision 411: {r['indicator']} {fmt_number(r['latest_value'], 2)}% ({r['latest_period']}, "
                    f"core industries' workers) against {r['comparison']} {fmt_number(r['target_value'], 0)}% "
                    f"({r['target_year']}) → {st_label[r['status']]}"))
