"""The briefing of ``kinhteso report``: what a leader reads about one territory and period.

:func:`build_report` gathers a :class:`ReportContent` by calling the other service functions only
(:func:`~kinhteso.service.figures.figure`, :func:`~kinhteso.service.figures.measure`,
:func:`~kinhteso.service.figures.results`, :func:`~kinhteso.service.targets.gaps`,
:func:`~kinhteso.service.targets.plan`, :func:`~kinhteso.service.targets.peers`,
:func:`~kinhteso.service.index.score_index`, :func:`~kinhteso.service.data.vintages`): it
computes nothing of its own and stores nothing. The content is typed (sections of paragraphs,
tables with their units, and chart series) and already in the language asked for; the renderers
of :mod:`kinhteso.report` (PDF, XLSX, HTML) only lay it out.

Sections, in order: the headline (the official figure and its basis, kinhteso's estimate in the
view named, its components), the quarterly trend with the nowcast, targets and gaps (each
target on its own basis, its warnings named) with the trajectory against the target, strengths
and weaknesses (percentiles among the 34 provinces, DTI pillars), the plan's milestones, and the
method notes with the sources and vintages behind the figures.

>>> ReportRequest("34:31", "2025").view, ReportRequest("34:31", "2025").lang
('gso', 'vi')
>>> content = build_report(ws, ReportRequest("Hải Phòng", "2025", lang="en"))      # doctest: +SKIP
>>> [s.key for s in content.sections]                                          # doctest: +SKIP
['headline', 'quarterly', 'targets', 'peers', 'plan', 'method']
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.i18n import DEMO_LABEL, FIGURE_BASIS, LANGS, TARGET_STATUS, fmt_number

if TYPE_CHECKING:
    from kinhteso.workspace import Workspace

__all__ = ["ReportRequest", "ReportContent", "Section", "Table", "Column", "Chart", "Line", "build_report",
           "default_file_name", "FORMATS"]

#: The formats ``kinhteso report`` writes.
FORMATS = ("pdf", "xlsx", "html")
#: How many years of quarters the trend shows, up to the period's year (and the estimates after it).
TREND_YEARS = 4
#: How many targets get a trajectory chart.
MAX_TRAJECTORIES = 2


# --- the content -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A table column: ``label`` in the report's language, ``unit`` (words, or None), ``digits``
    for numbers shown with decimals (None: text, or a whole number shown as it is, such as a year)."""

    code: str
    label: str
    unit: str | None = None
    digits: int | None = None
    detail: bool = False  #: a long text a page too narrow may leave out (the XLSX and HTML keep it)

    @property
    def header(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass
class Table:
    """One table: ``rows`` hold raw values (numbers as numbers, None when missing)."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Line:
    """One series of a chart: ``x`` in decimal years (a quarter at its middle, a year at
    mid-year), ``style`` ``solid``, ``dashed`` or ``points``; ``lower``/``upper`` an interval."""

    label: str
    x: list[float]
    y: list[float]
    style: str = "solid"
    lower: list[float] | None = None
    upper: list[float] | None = None


@dataclass
class Chart:
    key: str
    title: str
    y_label: str
    lines: list[Line]
    note: str = ""


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReportContent:
    """Everything a briefing shows, in ``lang``; ``label`` is the illustrative-data label when
    any figure shown comes from illustrative data (then every page carries it), else ``""``."""

    territory: str
    name: str
    period: str
    view: str
    lang: str
    title: str
    subtitle: str
    sections: list[Section]
    illustrative: bool
    label: str
    generated_at: str

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]


@dataclass(frozen=True)
class ReportRequest:
    """A briefing on ``territory`` (a key, code or name) for ``period`` (a year or a quarter), in
    ``view`` (gso, mic, oecd) and ``lang`` (vi, en)."""

    territory: str
    period: str
    view: str = "gso"
    lang: str = "vi"


def default_file_name(territory: str, period: str, fmt: str) -> str:
    """``bao-cao-34_31-2025.pdf``: the file ``kinhteso report`` writes without ``--out``.

    >>> default_file_name("34:31", "2025-Q3", "xlsx")
    'bao-cao-34_31-2025-Q3.xlsx'
    """
    return f"bao-cao-{territory.replace(':', '_')}-{period}.{fmt}"


# --- helpers -----------------------------------------------------------------------------------
class _Words:
    """The report's words in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, vi: str, en: str) -> str:
        return vi if self.lang == "vi" else en

    def num(self, x: float | None, digits: int = 2) -> str:
        return fmt_number(x, digits, lang=self.lang)

    def msg(self, d: dict | KinhtesoError) -> str:
        if isinstance(d, KinhtesoError):
            return f"{d.code}: {d.message(self.lang)}"
        return f"{d.get('code', '')}: {d.get(self.lang) or d.get('en') or ''}".strip(": ")

    def status(self, s: str | None) -> str:
        return TARGET_STATUS[s][self.lang != "vi"] if s in TARGET_STATUS else "–"

    def basis(self, b: str | None) -> str:
        return FIGURE_BASIS[b][self.lang != "vi"] if b in FIGURE_BASIS else "–"


def formal_name(key: str, lang: str) -> str:
    """The territory's name as a heading gives it: ``Thành phố Hồ Chí Minh``, ``Tỉnh Gia Lai``,
    ``Việt Nam`` (``Ho Chi Minh City``, ``Gia Lai``, ``Viet Nam`` in English)."""
    from kinhteso.reference.territories import get_territory  # noqa: PLC0415

    t = get_territory(key)
    if lang != "vi":
        return t.name_en
    if t.basis is None:
        return t.name_vi
    bare = re.sub(r"^TP\.?\s+", "", t.name_vi)
    return f"Thành phố {bare}" if t.type == "city" else f"Tỉnh {bare}"


def _x(period: str) -> float:
    """A period on the charts' axis: a quarter at its middle, a year at mid-year."""
    m = re.fullmatch(r"(\d{4})-Q([1-4])", period)
    if m:
        return int(m.group(1)) + (int(m.group(2)) - 0.5) / 4
    return int(period[:4]) + 0.5


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


class _Sources:
    """The vintages and runs the figures came from, and what each fed."""

    def __init__(self) -> None:
        self.vintages: dict[int, set[str]] = {}
        self.runs: dict[str, dict] = {}

    def vintage(self, v: Any, used: str) -> None:
        if v is not None and _f(v) is not None:
            self.vintages.setdefault(int(v), set()).add(used)

    def run(self, run_id: str | None, used: str, **info: Any) -> None:
        if run_id:
            r = self.runs.setdefault(str(run_id), {"used": set()})
            r["used"].add(used)
            r.update({k: v for k, v in info.items() if v is not None})

    def inputs(self, inputs: Any, used: str) -> None:
        if isinstance(inputs, dict):
            for v in inputs.get("vintages", []) or []:
                self.vintage(v, used)
            for r in inputs.get("runs", []) or []:
                self.run(r, used)


# --- the report --------------------------------------------------------------------------------
def build_report(ws: Workspace, req: ReportRequest) -> ReportContent:
    """The briefing's content. An unknown territory or period is refused
    (``UNKNOWN_TERRITORY``, ``AMBIGUOUS_TERRITORY``, ``BAD_PERIOD``, ``BAD_LANG``,
    ``UNKNOWN_VIEW``); a territory with no figure at all for the period is ``REPORT_NO_DATA``.
    A section whose data are missing says so in its own words; the others are still given."""
    from kinhteso.methods.accounts import VIEW_LABELS, VIEWS  # noqa: PLC0415
    from kinhteso.periods import period as parse_strict  # noqa: PLC0415
    if req.lang not in LANGS:
        raise UsageError("BAD_LANG", f"Ngôn ngữ '{req.lang}' không có; dùng vi hoặc en.",
                         f"Unknown language '{req.lang}'; use vi or en.")
    if req.view not in VIEWS:
        raise UsageError("UNKNOWN_VIEW", f"Cách đo '{req.view}' không có; dùng {', '.join(VIEWS)}.",
                         f"Unknown view '{req.view}'; use {', '.join(VIEWS)}.")
    p = parse_strict(req.period.strip())
    key = _territory(req.territory, p.code)
    w = _Words(req.lang)
    name = formal_name(key, req.lang)
    view_label = VIEW_LABELS[req.view][req.lang != "vi"]
    src = _Sources()
    flags: list[bool] = []
    indicators = ws.indicators()

    def ind_name(code: str) -> str:
        ind = indicators.get(code)
        return (ind.name_vi if req.lang == "vi" else ind.name_en) if ind else code

    ctx = {"ws": ws, "key": key, "p": p, "view": req.view, "w": w, "src": src, "flags": flags,
           "ind_name": ind_name, "view_label": view_label}
    headline, has_data = _headline(ctx)
    sections = [headline, _quarterly(ctx)]
    targets, gap_rows = _targets(ctx)
    sections += [targets, _peers(ctx), _plan(ctx, gap_rows)]
    measured = any(r["latest_value"] is not None for r in gap_rows)
    if not (has_data or measured or sections[1].tables or sections[3].tables):
        raise UsageError("REPORT_NO_DATA",
                         f"{name} ({key}) không có số liệu nào cho kỳ {p.code}: không có số công bố, không tính được "
                         "tài khoản, không có số quý, mục tiêu hay so sánh. Nạp số liệu (`kinhteso ingest`) hoặc chọn kỳ khác.",
                         f"{name} ({key}) has no data for {p.code}: no published figure, no accounts, no quarters, "
                         "targets or comparisons. Load data (`kinhteso ingest`) or choose another period.")
    sections.append(_method(ctx))
    illustrative = any(flags)
    title = w(f"Báo cáo kinh tế số — {name}, {p.code}", f"Digital economy briefing — {name}, {p.code}")
    subtitle = w(f"Địa bàn {key}; {view_label}; quy tắc số chính thức: ", f"Territory {key}; {view_label}; official-figure rule: ")
    from kinhteso.service.figures import RULE  # noqa: PLC0415

    subtitle += RULE[req.lang]
    return ReportContent(key, name, p.code, req.view, req.lang, title, subtitle, sections, illustrative,
                         DEMO_LABEL[req.lang] if illustrative else "",
                         dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def _territory(text: str, period: str) -> str:
    """The key ``text`` names; a name shared across the 2025 merger (``Hải Phòng``: 63:31 and
    34:31) is the territory of the period's boundaries (the 34 provinces from 2025)."""
    from kinhteso.pipeline.accounts import territories_for  # noqa: PLC0415
    from kinhteso.service.targets import territory_key  # noqa: PLC0415

    try:
        return territory_key(text)
    except UsageError as exc:
        if exc.code != "AMBIGUOUS_TERRITORY":
            raise
        from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415

        valid = set(territories_for(period))
        keys = [k for k in resolve_territories([text], basis=None) if k in valid]
        if len(keys) != 1:
            raise
        return keys[0]


def _headline(c: dict) -> tuple[Section, bool]:
    from kinhteso.service.figures import FigureRequest, MeasureRequest, figure, measure  # noqa: PLC0415

    ws, key, p, w, src, flags = c["ws"], c["key"], c["p"], c["w"], c["src"], c["flags"]
    sec = Section("headline", w("1. Số chính: tỷ trọng và giá trị tăng thêm kinh tế số", "1. Headline: digital-economy share and value added"))
    rows, has = [], False
    for ind, unit in (("DE_SHARE", "%"), ("DE_VA", w("tỷ đồng", "VND bn"))):
        fig = figure(ws, FigureRequest(key, p.code, indicator=ind, view=c["view"]))
        if fig.value is None:
            rows.append([c["ind_name"](ind), None, unit, "–", "–", "–"])
            continue
        has = True
        flags.append(fig.illustrative)
        where = f"vintage {fig.vintage}" if fig.vintage is not None else f"run {(fig.run_id or '-')[:12]}"
        used = w("số chính", "headline")
        src.vintage(fig.vintage, used)
        src.run(fig.run_id, used, kind=(fig.source or "").replace("kinhteso:", ""), method=fig.method)
        rows.append([c["ind_name"](ind), fig.value, unit, w.basis(fig.basis), fig.source or "–", where])
        if ind == "DE_SHARE":
            sec.paragraphs.append(w(
                f"Số chính thức: tỷ trọng kinh tế số {w.num(fig.value)}% GRDP kỳ {p.code}, cơ sở {w.basis(fig.basis)} "
                f"(nguồn {fig.source}; {where}).",
                f"Official figure: digital economy {w.num(fig.value)}% of GRDP in {p.code}, basis {w.basis(fig.basis)} "
                f"(source {fig.source}; {where})."))
            for a in fig.alternatives[:3]:
                sec.paragraphs.append(w(f"Số khác đã bỏ qua theo quy tắc: {w.num(a['value'])} ({w.basis(a['basis'])}, {a['source']}).",
                                        f"Passed over by the rule: {w.num(a['value'])} ({w.basis(a['basis'])}, {a['source']})."))
    sec.tables.append(Table("official", w("Số chính thức và cơ sở của nó", "The official figure and its basis"),
                            [Column("indicator", w("Chỉ tiêu", "Indicator")), Column("value", w("Giá trị", "Value"), digits=2),
                             Column("unit", w("Đơn vị", "Unit")), Column("basis", w("Cơ sở", "Basis")),
                             Column("source", w("Nguồn", "Source")), Column("provenance", w("Lần nộp / lần chạy", "Vintage / run"))],
                            rows))
    try:
        m = measure(ws, MeasureRequest(p.code, (key,), view=c["view"])).results[0]
    except KinhtesoError as exc:
        sec.warnings.append(w.msg(exc))
        return sec, has
    if m.result is None:
        if m.error:
            sec.warnings.append(w.msg(m.error))
        return sec, has
    has = True
    r, prov = m.result, m.provenance
    flags.append(bool(prov.get("illustrative")))
    used = w("ước tính của kinhteso", "kinhteso estimate")
    for v in prov.get("input_vintages", []) or []:
        src.vintage(v, used)
    for run in prov.get("input_runs", []) or []:
        src.run(run, used)
    sec.paragraphs.append(w(
        f"Ước tính của kinhteso ({c['view_label']}): {w.num(r.de_share)}% GRDP, giá trị tăng thêm {w.num(r.de_va, 0)} tỷ đồng "
        f"trên GRDP {w.num(r.grdp, 0)} tỷ đồng (cơ sở {w.basis(prov.get('basis', 'estimated'))}).",
        f"kinhteso estimate ({c['view_label']}): {w.num(r.de_share)}% of GRDP, value added {w.num(r.de_va, 0)} VND bn "
        f"of a GRDP of {w.num(r.grdp, 0)} VND bn (basis {w.basis(prov.get('basis', 'estimated'))})."))
    if m.change:
        ch = m.change
        sec.paragraphs.append(w(
            f"So với {ch['from']}: {w.num(ch['total'])} điểm % (số hóa {w.num(float(ch['digitalisation']))}, cơ cấu "
            f"{w.num(float(ch['structure']))}, mẫu số {w.num(float(ch['denominator']))}).",
            f"Change since {ch['from']}: {w.num(ch['total'])} pp (digitalisation {w.num(float(ch['digitalisation']))}, "
            f"structure {w.num(float(ch['structure']))}, denominator {w.num(float(ch['denominator']))})."))
    names = {"core": w("Kinh tế số lõi", "Core digital economy"), "digitalised": w("Số hóa các ngành khác", "Digitalisation of other industries"),
             "ict": w("ICT", "ICT"), "platform": w("Nền tảng số", "Platforms"), "sectoral": w("Số hóa ngành", "Sectoral digitalisation")}
    comp = [[names.get(k, k), _f(v["va"]), _f(v["share"])] for k, v in r.components.items()]
    comp.append([w("Tổng kinh tế số", "Digital economy total"), _f(r.de_va), _f(r.de_share)])
    sec.tables.append(Table("components", w(f"Thành phần ({c['view_label']})", f"Components ({c['view_label']})"),
                            [Column("component", w("Thành phần", "Component")),
                             Column("va", w("Giá trị tăng thêm", "Value added"), w("tỷ đồng", "VND bn"), 0),
                             Column("share", w("Tỷ trọng GRDP", "Share of GRDP"), "%", 2)], comp))
    for wn in m.warnings:
        sec.warnings.append(w.msg(wn))
    return sec, has


def _quarterly(c: dict) -> Section:
    from kinhteso.service.figures import ResultsRequest, results  # noqa: PLC0415

    ws, key, p, w, src, flags = c["ws"], c["key"], c["p"], c["w"], c["src"], c["flags"]
    sec = Section("quarterly", w("2. Xu hướng theo quý và dự báo tức thời", "2. Quarterly trend and nowcast"))
    year = int(p.code[:4])
    q = results(ws, ResultsRequest(indicator="DE_SHARE", territory=key, kind="quarterly", view=c["view"]))
    if len(q):  # the quarters of the last years up to the period's, and the estimates after the last annual figure
        y = q.period.str[:4].astype(int)
        q = q[q.period.str.contains("-Q") & (y > year - TREND_YEARS) & ((y <= year) | (q.basis == "estimated"))]
    q = q.sort_values("period") if len(q) else q
    nc = results(ws, ResultsRequest(territory=key, kind="nowcast"))
    rows: list[list[Any]] = []
    used = w("xu hướng quý", "quarterly trend")
    for r in q.itertuples(index=False):
        flags.append(bool(r.illustrative))
        src.run(r.run_id, used, kind=r.kind, method=r.method, computed_at=str(r.computed_at)[:19])
        src.inputs(r.inputs, used)
        rows.append([r.period, _f(r.value), w.basis(r.basis), r.method])
    lines = []
    for basis, style in (("benchmarked", "solid"), ("estimated", "dashed")):
        part = q[q.basis == basis] if len(q) else q
        if len(part):
            lines.append(Line(w(f"Tỷ trọng quý ({w.basis(basis)})", f"Quarterly share ({basis})"),
                              [_x(x) for x in part.period], [float(v) for v in part.value], style))
    if len(nc):
        nc = nc[nc.computed_at == nc.computed_at.max()]
        val = {r.indicator: r for r in nc.itertuples(index=False)}
        if "DE_SHARE" in val:
            mid = val["DE_SHARE"]
            lo, hi = val.get("DE_SHARE_LOWER"), val.get("DE_SHARE_UPPER")
            flags.append(bool(mid.illustrative))
            src.run(mid.run_id, w("dự báo tức thời", "nowcast"), kind="nowcast", method=mid.method,
                    computed_at=str(mid.computed_at)[:19])
            src.inputs(mid.inputs, w("dự báo tức thời", "nowcast"))
            level = (mid.parameters or {}).get("level", 0.9)
            lines.append(Line(w(f"Dự báo tức thời ({mid.method}, khoảng {level:.0%})", f"Nowcast ({mid.method}, {level:.0%} interval)"),
                              [_x(mid.period)], [float(mid.value)], "points",
                              [float(lo.value)] if lo is not None else None, [float(hi.value)] if hi is not None else None))
            rows.append([mid.period, _f(mid.value), w.basis("nowcast"), mid.method])
            sec.paragraphs.append(w(
                f"Dự báo tức thời {mid.period} ({mid.method}): {w.num(mid.value)}%"
                + (f", khoảng {level:.0%} {w.num(lo.value)}–{w.num(hi.value)}%" if lo is not None and hi is not None else "") + ".",
                f"Nowcast for {mid.period} ({mid.method}): {w.num(mid.value)}%"
                + (f", {level:.0%} interval {w.num(lo.value)}–{w.num(hi.value)}%" if lo is not None and hi is not None else "") + "."))
    if not rows:
        sec.warnings.append(w(f"Chưa có số quý nào được tính cho {key} (chạy `kinhteso quarterly --territory {key}` và "
                              f"`kinhteso nowcast --territory {key}`).",
                              f"No quarterly figures computed for {key} yet (run `kinhteso quarterly --territory {key}` and "
                              f"`kinhteso nowcast --territory {key}`)."))
        return sec
    sec.paragraphs.insert(0, w(
        "Tỷ trọng kinh tế số theo quý (% GRDP quý): quý đã khớp số năm là nét liền, quý ước tính sau số năm cuối là nét đứt.",
        "Quarterly digital-economy share (% of quarterly GRDP): benchmarked quarters solid, quarters estimated after the "
        "last annual figure dashed."))
    sec.charts.append(Chart("quarterly", w("Tỷ trọng kinh tế số theo quý", "Digital-economy share by quarter"), "% GRDP", lines))
    sec.tables.append(Table("quarterly", w("Số quý và dự báo tức thời", "Quarters and the nowcast"),
                            [Column("period", w("Kỳ", "Period")), Column("de_share", w("Tỷ trọng", "Share"), "% GRDP", 2),
                             Column("basis", w("Cơ sở", "Basis")), Column("method", w("Phương pháp", "Method"))], rows))
    return sec


def _targets(c: dict) -> tuple[Section, list[dict]]:
    from kinhteso.service.targets import GapsRequest, PlanRequest, gaps, plan  # noqa: PLC0415

    ws, key, w, flags = c["ws"], c["key"], c["w"], c["flags"]
    sec = Section("targets", w("3. Mục tiêu, khoảng cách và trạng thái", "3. Targets, gaps and status"))
    try:
        res = gaps(ws, GapsRequest(key, view=c["view"]))
    except UsageError as exc:
        if exc.code != "NO_TARGET":
            raise
        try:
            res = gaps(ws, GapsRequest(key, view=c["view"], inherit_national=True))
        except UsageError as exc2:
            sec.warnings.append(w.msg(exc2))
            return sec, []
        sec.paragraphs.append(w(f"{c['key']} chưa có mục tiêu riêng: so với mục tiêu quốc gia.",
                                f"{c['key']} has no target of its own: measured against the national targets."))
    rows = [r for r in res.rows if r.get("sections_total") is None]
    flags.append(res.illustrative)
    table, seen = [], set()
    for r in rows:
        flags.append(bool(r["illustrative"]))
        meas = f"{r['series_indicator']}@{r['series_territory']}"
        table.append([c["ind_name"](r["indicator"]), meas, r["basis"], _f(r["latest_value"]), r["latest_period"],
                      r["comparison"], _f(r["target_value"]), r["target_year"], _f(r["gap"]),
                      None if r["required_cagr"] is None else _f(r["required_cagr"]) * 100,
                      None if r["trend_cagr"] is None else _f(r["trend_cagr"]) * 100,
                      None if r["probability"] is None else _f(r["probability"]) * 100, w.status(r["status"]),
                      r["source"]])
        for wn in [*r["warnings"], *([r["error"]] if r["error"] else [])]:
            k = (r["indicator"], r["target_year"], wn.get("code"))
            if k not in seen:
                seen.add(k)
                sec.warnings.append(f"{r['indicator']} {r['target_year']} — {w.msg(wn)}")
    by_section: dict[tuple, tuple[dict, list[str]]] = {}  # a section target's warnings: once, with the sections
    for r in res.rows:
        if r.get("sections_total") is not None:
            for wn in [*r["warnings"], *([r["error"]] if r["error"] else [])]:
                by_section.setdefault((r["indicator"], r["target_year"], wn.get("code")), (wn, []))[1].append(str(r["sector"]))
    for (ind, year, _), (wn, secs) in by_section.items():
        sec.warnings.append(f"{ind} {year} [{', '.join(secs)}] — {w.msg(wn)}")
    for m in res.summaries:
        table.append([c["ind_name"](m["indicator"]), f"{m['indicator']}@{m['series_territory']}", m["indicator"], None, None,
                      m["comparison"], _f(m["target_value"]), m["target_year"], None, None, None, None,
                      w(f"{m['achieved']}/{m['sections_total']} ngành đạt", f"{m['achieved']}/{m['sections_total']} sections meet it"),
                      "computed"])
    sec.paragraphs.append(w(
        "Mỗi mục tiêu được đo trên chuỗi nó được đặt (cơ sở, ranh giới); cột 'đo trên' ghi chuỗi đó. Xu hướng log-tuyến tính "
        f"trên 3–5 năm cuối, khoảng dự báo {res.level:.0%}.",
        "Each target is measured on the series it was set on (basis, boundary), named in 'measured on'. Log-linear trend on "
        f"the last 3–5 years, {res.level:.0%} prediction interval."))
    sec.tables.append(Table("targets", w("Mục tiêu và khoảng cách", "Targets and gaps"), [
        Column("indicator", w("Chỉ tiêu", "Indicator")), Column("measured_on", w("Đo trên", "Measured on")),
        Column("basis", w("Cơ sở mục tiêu", "Target basis")), Column("latest", w("Mới nhất", "Latest"), digits=2),
        Column("latest_period", w("Năm", "Year")), Column("comparison", w("So sánh", "Comparison")),
        Column("target", w("Mục tiêu", "Target"), digits=2),
        Column("target_year", w("Năm mục tiêu", "Target year")),
        Column("gap", w("Khoảng cách", "Gap"), digits=2), Column("required", w("Tốc độ cần", "Required"), "%/năm" if w.lang == "vi" else "%/yr", 1),
        Column("trend", w("Xu hướng", "Trend"), "%/năm" if w.lang == "vi" else "%/yr", 1),
        Column("probability", w("Xác suất đạt", "Probability"), "%", 0), Column("status", w("Trạng thái", "Status")),
        Column("source", w("Nguồn chuỗi", "Series source"), detail=True)], table))
    # trajectory against the target: the required path (the plan's milestones) and the trend's projection
    shown = sorted([r for r in rows if not r["error"] and r["latest_value"] is not None],
                   key=lambda r: (r["indicator"] != "DE_SHARE", -int(r["target_year"])))
    for r in shown[:MAX_TRAJECTORIES]:
        lines = [Line(w("Mới nhất", "Latest"), [_x(str(r["latest_period"]))], [float(r["latest_value"])], "points")]
        try:
            pl = plan(ws, PlanRequest(key, r["indicator"], int(r["target_year"]), view=c["view"]))
            ms = pl.milestones
        except KinhtesoError:
            ms = []
        if ms:
            lines.append(Line(w("Lộ trình cần đi", "Required path"), [_x(str(r["latest_period"]))] + [_x(m["period"]) for m in ms],
                              [float(r["latest_value"])] + [float(m["value"]) for m in ms], "solid"))
        if r["projected_value"] is not None:
            lo, hi = _f(r["projected_low"]), _f(r["projected_high"])
            lines.append(Line(w("Dự báo theo xu hướng", "Trend projection"), [_x(str(r["latest_period"])), _x(str(r["target_year"]))],
                              [float(r["latest_value"]), float(r["projected_value"])], "dashed",
                              [float(r["latest_value"]), lo] if lo is not None else None,
                              [float(r["latest_value"]), hi] if hi is not None else None))
        lines.append(Line(w(f"Mục tiêu {r['target_year']}", f"Target {r['target_year']}"), [_x(f"{r['target_year']}-Q4")],
                          [float(r["target_value"])], "points"))
        sec.charts.append(Chart(f"trajectory_{r['indicator']}_{r['target_year']}",
                                w(f"{r['indicator']}: lộ trình so với mục tiêu {r['target_year']} (đo trên {r['series_indicator']}@{r['series_territory']})",
                                  f"{r['indicator']}: trajectory against the {r['target_year']} target (measured on {r['series_indicator']}@{r['series_territory']})"),
                                r["series_indicator"], lines))
    return sec, rows


def _peers(c: dict) -> Section:
    from kinhteso.reference.territories import get_territory  # noqa: PLC0415
    from kinhteso.service.index import IndexRequest, score_index  # noqa: PLC0415
    from kinhteso.service.targets import PeersRequest, peers  # noqa: PLC0415

    ws, key, p, w, flags = c["ws"], c["key"], c["p"], c["w"], c["flags"]
    sec = Section("peers", w("4. Điểm mạnh và điểm yếu", "4. Strengths and weaknesses"))
    year = p.code[:4]

    def tname(k: Any) -> str:
        try:
            t = get_territory(str(k))
        except KinhtesoError:
            return str(k)
        return t.name_vi if w.lang == "vi" else t.name_en

    if not key.startswith("34:"):
        sec.paragraphs.append(w("So sánh ngang hàng chỉ có cho 34 tỉnh, thành phố (ranh giới từ 1/7/2025).",
                                "Peer comparison is for the 34 provinces (boundaries from 1 July 2025) only."))
    else:
        try:
            tab = peers(ws, PeersRequest(key, year=year, view=c["view"])).table
        except KinhtesoError as exc:
            tab = None
            sec.warnings.append(w.msg(exc))
        if tab is not None and len(tab):
            strong = [f"{c['ind_name'](r.indicator)} ({w('phân vị', 'percentile')} {w.num(r.percentile, 0)})"
                      for r in tab.itertuples() if r.strength]
            weak = [f"{c['ind_name'](r.indicator)} ({w('phân vị', 'percentile')} {w.num(r.percentile, 0)}; "
                    f"{w('học hỏi', 'learn from')} {tname(r.learn_from)})" for r in tab.itertuples() if r.weakness]
            sec.paragraphs.append(w("Điểm mạnh (nhóm 25% cao nhất trong 34 tỉnh): ", "Strengths (top quarter of the 34): ")
                                  + ("; ".join(strong) or w("không có", "none")) + ".")
            sec.paragraphs.append(w("Điểm yếu (nhóm 25% thấp nhất): ", "Weaknesses (bottom quarter): ")
                                  + ("; ".join(weak) or w("không có", "none")) + ".")
            sec.tables.append(Table("peers", w(f"So sánh với 34 tỉnh, năm {year}", f"Compared with the 34 provinces, {year}"), [
                Column("indicator", w("Chỉ tiêu", "Indicator")), Column("value", w("Giá trị", "Value"), digits=2),
                Column("percentile", w("Phân vị trong 34 tỉnh", "Percentile among the 34"), digits=0),
                Column("group", w("Nhóm (GRDP/người)", "Group (GRDP per person)")),
                Column("group_percentile", w("Phân vị trong nhóm", "Percentile in the group"), digits=0),
                Column("best", w("Dẫn đầu", "Best overall")), Column("learn_from", w("Học hỏi", "Learn from"))],
                [[c["ind_name"](r.indicator), _f(r.value), _f(r.percentile), r.group, _f(r.group_percentile),
                  tname(r.best_overall), tname(r.learn_from)] for r in tab.itertuples()]))
        elif tab is not None:
            sec.warnings.append(w(f"Không có số liệu so sánh cho năm {year}.", f"No comparison data for {year}."))
    if key == "VN":
        return sec
    try:
        idx = score_index(ws, IndexRequest(year, basis=int(key.split(":")[0]), n=0))
    except KinhtesoError as exc:
        sec.warnings.append(w.msg(exc))
        return sec
    row = idx.table[idx.table.territory == key]
    if not len(row):
        return sec
    r = row.iloc[0]
    flags.append(bool(r["illustrative"]))
    meta = idx.framework.meta.set_index("iCode")
    col = "iName" if w.lang == "vi" else "iName_en"

    def pillars(text: str) -> str:
        codes = [x.strip() for x in str(text or "").split(";") if x.strip()]
        return ", ".join(str(meta[col].get(x) or x) if x in meta.index else x for x in codes) or w("không có", "none")

    src = c["src"]
    for v in idx.provenance.get("input_vintages", []) or []:
        src.vintage(v.get("vintage") if isinstance(v, dict) else v, "DTI")
    fw = idx.framework.name[w.lang]
    sec.paragraphs.append(w(
        f"{fw}, năm {year}: điểm {w.num(float(r['score']), 4)}, hạng {r['rank']}/{len(idx.table)}. Trụ cột mạnh: "
        f"{pillars(r['strengths'])}; trụ cột yếu: {pillars(r['weaknesses'])}.",
        f"{fw}, {year}: score {w.num(float(r['score']), 4)}, rank {r['rank']} of {len(idx.table)}. Strongest pillars: "
        f"{pillars(r['strengths'])}; weakest: {pillars(r['weaknesses'])}."))
    for vi, en in idx.notes[:2]:
        sec.warnings.append(w(vi, en))
    return sec


def _plan(c: dict, rows: list[dict]) -> Section:
    from kinhteso.service.targets import PlanRequest, plan  # noqa: PLC0415

    ws, key, w = c["ws"], c["key"], c["w"]
    sec = Section("plan", w("5. Kế hoạch: các mốc cần đạt", "5. The plan: milestones"))
    open_rows = [r for r in rows if not r["error"] and r["status"] not in (None, "achieved")]
    open_rows.sort(key=lambda r: (r["indicator"] != "DE_SHARE", -int(r["target_year"])))
    if not open_rows:
        sec.paragraphs.append(w("Không có mục tiêu nào còn phải đuổi kịp (hoặc chưa có mục tiêu).",
                                "No target left to catch up with (or no target)."))
        return sec
    r = open_rows[0]
    try:
        pl = plan(ws, PlanRequest(key, r["indicator"], int(r["target_year"]), view=c["view"]))
    except KinhtesoError as exc:
        sec.warnings.append(w.msg(exc))
        return sec
    g = pl.gap
    sec.paragraphs.append(w(
        f"{c['ind_name'](r['indicator'])}: {w.num(g['latest_value'])} ({g['latest_period']}) → {g['comparison']} "
        f"{w.num(g['target_value'])} ({pl.target_year}), đo trên {g['series_indicator']}@{g['series_territory']}; "
        f"trạng thái {w.status(g['status'])}. Mốc quý 4 mỗi năm theo lộ trình hình học:",
        f"{c['ind_name'](r['indicator'])}: {w.num(g['latest_value'])} ({g['latest_period']}) → {g['comparison']} "
        f"{w.num(g['target_value'])} ({pl.target_year}), measured on {g['series_indicator']}@{g['series_territory']}; "
        f"status {w.status(g['status'])}. Fourth-quarter milestones of the geometric path:"))
    ms = [m for m in pl.milestones if str(m["period"]).endswith("Q4")]
    sec.tables.append(Table("plan", w("Các mốc của kế hoạch", "The plan's milestones"), [
        Column("period", w("Quý", "Quarter")), Column("value", w("Giá trị cần đạt", "Value to reach"), digits=2),
        Column("change", w("Tăng mỗi quý", "Change per quarter"), digits=2)],
        [[m["period"], _f(m["value"]), _f(m["change"])] for m in ms]))
    if pl.sectors and pl.sector_summary:
        s = pl.sector_summary
        sec.paragraphs.append(w(
            f"Theo ngành (GRDP tăng {w.num(pl.growth['rate'] * 100, 1)}%/năm): cần thêm {w.num(s['required_pp'])} điểm %; "
            "các ngành có đòn bẩy lớn nhất:",
            f"By industry (GRDP growing {w.num(pl.growth['rate'] * 100, 1)}%/yr): {w.num(s['required_pp'])} pp to add; "
            "the industries with the most leverage:"))
        top = pl.sectors[:5]
        cols = [k for k in ("sector", "section", "name", "contribution_pp") if k in top[0]]
        sec.tables.append(Table("plan_sectors", w("Đóng góp cần có theo ngành", "Contributions needed by industry"),
                                [Column(k, {"sector": w("Ngành", "Industry"), "section": w("Ngành cấp 1", "Section"),
                                            "name": w("Tên", "Name"),
                                            "contribution_pp": w("Đóng góp", "Contribution")}[k],
                                        w("điểm %", "pp") if k == "contribution_pp" else None,
                                        2 if k == "contribution_pp" else None) for k in cols],
                                [[_f(x[k]) if k == "contribution_pp" else x[k] for k in cols] for x in top]))
    for wn in [*pl.warnings, *g["warnings"]]:
        sec.warnings.append(w.msg(wn))
    return sec


def _method(c: dict) -> Section:
    from kinhteso.service.data import vintages  # noqa: PLC0415

    ws, w, src = c["ws"], c["w"], c["src"]
    sec = Section("method", w("6. Ghi chú phương pháp và nguồn số liệu", "6. Method notes and sources"))
    sec.paragraphs += [
        w(f"Cách đo: {c['view_label']}. Số chính thức theo một quy tắc: số công bố/được gửi › số quý đã khớp số năm › "
          "số ước tính › dự báo tức thời; số kinhteso tính không bao giờ được ghi thành số được gửi.",
          f"View: {c['view_label']}. The official figure follows one rule: published/submitted › benchmarked quarter › "
          "estimate › nowcast; a figure kinhteso computes is never shown as a submission."),
        w("Số quý: phân bổ theo thời gian (Denton–Cholette theo GRDP quý), các quý cộng lại bằng số năm; quý sau số năm cuối "
          "là ước tính. Dự báo tức thời: quý hiện tại từ các chỉ tiêu tháng đã công bố, có khoảng tin cậy.",
          "Quarters: temporal disaggregation (Denton–Cholette on quarterly GRDP), the quarters sum to the year; quarters after "
          "the last annual figure are estimates. Nowcast: the current quarter from the monthly indicators published so far, "
          "with an interval."),
        w("Mục tiêu: mỗi mục tiêu đo trên cơ sở và ranh giới nó được đặt; BASIS_MISMATCH khi so với chuỗi khác cơ sở, "
          "OLD_BOUNDARY khi đo trên ranh giới trước sáp nhập. So sánh ngang hàng: phân vị trong 34 tỉnh và trong nhóm tứ phân vị "
          "GRDP/người; mạnh ≥ 75, yếu ≤ 25.",
          "Targets: each is measured on the basis and boundary it was set on; BASIS_MISMATCH when compared with another "
          "basis, OLD_BOUNDARY when measured on the pre-merger boundary. Peers: percentiles among the 34 provinces and "
          "within the GRDP-per-person quartile; strength ≥ 75, weakness ≤ 25."),
    ]
    if src.vintages:
        allv = vintages(ws)
        allv = allv[allv.vintage_id.isin(list(src.vintages))]
        sec.tables.append(Table("sources", w("Nguồn: các lần nộp số liệu (vintage) đã dùng", "Sources: the vintages used"), [
            Column("vintage", w("Lần nộp", "Vintage")), Column("source", w("Nguồn", "Source")),
            Column("received_at", w("Nhận lúc", "Received")), Column("file", w("Tệp", "File")),
            Column("rows", w("Số dòng", "Rows"), digits=0), Column("illustrative", w("Minh họa", "Illustrative")),
            Column("used", w("Dùng cho", "Used for"))],
            [[int(r.vintage_id), r.source, str(r.received_at)[:19], r.file_name, int(r.n_rows),
              w("có", "yes") if r.illustrative else w("không", "no"), ", ".join(sorted(src.vintages[int(r.vintage_id)]))]
             for r in allv.itertuples()]))
        c["flags"].append(bool(allv.illustrative.any()))
    if src.runs:
        sec.tables.append(Table("runs", w("Các lần chạy của kinhteso đã dùng", "kinhteso runs used"), [
            Column("run", w("Lần chạy", "Run")), Column("kind", w("Loại", "Kind")), Column("method", w("Phương pháp", "Method")),
            Column("computed_at", w("Tính lúc", "Computed")), Column("used", w("Dùng cho", "Used for"))],
            [[rid[:12], r.get("kind") or "–", r.get("method") or "–", r.get("computed_at") or "–", ", ".join(sorted(r["used"]))]
             for rid, r in sorted(src.runs.items())]))
    return sec
