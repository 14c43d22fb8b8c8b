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
view named, its components and the contributions of the VSIC sections), the quarterly trend with
the nowcast, targets and gaps (each target on its own basis, its warnings named) with the
trajectory against the target, strengths and weaknesses (percentiles among the 34 provinces, the
DTI pillars against the provinces' median and best), the plan's milestones, and the
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
from kinhteso.i18n import (
    DEMO_LABEL,
    FIGURE_BASIS,
    LANGS,
    TARGET_BASIS,
    TARGET_STATUS,
    fmt_number,
)

if TYPE_CHECKING:
    from kinhteso.workspace import Workspace

__all__ = ["ReportRequest", "ReportContent", "Section", "Table", "Column", "Chart", "Line", "build_report",
           "default_file_name", "FORMATS", "Words", "chart_x", "territory_of", "formal_name"]

#: The formats ``kinhteso report`` writes.
FORMATS = ("pdf", "xlsx", "html")
#: How many years of quarters the trend shows, up to the period's year (and the estimates after it).
TREND_YEARS = 4
#: How many targets get a trajectory chart.
MAX_TRAJECTORIES = 2
#: How many VSIC sections the sector-contributions table names (the rest summed in one row).
TOP_SECTIONS = 10


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
    xlsx_only: bool = False  #: codes for programs and analysts: in the XLSX only, never the PDF or HTML

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
    """A chart: ``note`` (words, may be empty) is shown under it."""

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
    ``view`` (gso, mic, oecd) and ``lang`` (vi, en). ``public``: the briefing is published to
    readers other than the workspace's own analyst (the dashboard): values derived from the
    records of fewer than 3 reporting units are shown as ``C`` (:mod:`kinhteso.service.sharing`)."""

    territory: str
    period: str
    view: str = "gso"
    lang: str = "vi"
    public: bool = False


def default_file_name(territory: str, period: str, fmt: str) -> str:
    """``bao-cao-34_31-2025.pdf``: the file ``kinhteso report`` writes without ``--out``.

    >>> default_file_name("34:31", "2025-Q3", "xlsx")
    'bao-cao-34_31-2025-Q3.xlsx'
    """
    return f"bao-cao-{territory.replace(':', '_')}-{period}.{fmt}"


# --- helpers -----------------------------------------------------------------------------------
class Words:
    """The report's words in one language: every code a reader would see (indicators, territory
    keys, bases, run kinds and methods, message codes) goes through here and comes out in words."""

    _KEY = re.compile(r"\b(?:63|34):\d{2}\b(?:\s*\(([^()]*)\))?|\bVN\b")
    _CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
    _SECTIONS = re.compile(r"\b[A-U](?:, [A-U]){4,}\b")
    _OPTION = re.compile(r"\s*\(--[a-z][\w-]*[^()]*\)")
    _STATUS = re.compile(r"'(" + "|".join(TARGET_STATUS) + r")'")

    def __init__(self, lang: str, indicators: dict | None = None) -> None:
        self.lang = lang
        self.indicators = indicators

    def __call__(self, vi: str, en: str) -> str:
        return vi if self.lang == "vi" else en

    def num(self, x: float | None, digits: int = 2) -> str:
        return fmt_number(x, digits, lang=self.lang)

    def msg(self, d: dict | KinhtesoError) -> str:
        """A message in words: its code (``OLD_BOUNDARY``) is left to JSON and logs."""
        text = d.message(self.lang) if isinstance(d, KinhtesoError) else (d.get(self.lang) or d.get("en") or "")
        return self.plain(text)

    def status(self, s: str | None) -> str:
        return TARGET_STATUS[s][self.lang != "vi"] if s in TARGET_STATUS else self("không rõ", "unknown")

    def basis(self, b: str | None) -> str:
        return FIGURE_BASIS[b][self.lang != "vi"] if b in FIGURE_BASIS else self("không rõ", "unknown")

    def term(self, code: str | None) -> str:
        """A run's kind or method in words (:data:`kinhteso.labels.TERMS`, shared with the CLI)."""
        from kinhteso.labels import term_words  # noqa: PLC0415

        return term_words(str(code), self.lang) if code else self("không ghi", "not recorded")

    def ind(self, code: str) -> str:
        """An indicator's name (registry or derived)."""
        from kinhteso.reference.targets import indicator_name  # noqa: PLC0415

        return indicator_name(code, self.lang, self.indicators)

    def comparison(self, op: str | None) -> str:
        from kinhteso.reference.targets import COMPARISONS  # noqa: PLC0415

        return COMPARISONS[op][1 if self.lang == "vi" else 2] if op in COMPARISONS else str(op or "")

    def _territory(self, key: str) -> tuple[str, str, str] | None:
        from kinhteso.reference.territories import get_territory  # noqa: PLC0415

        try:
            t = get_territory(key)
        except KinhtesoError:
            return None
        return re.sub(r"^TP\.?\s+", "", t.name_vi), t.name_en, key.split(":")[0] if t.basis is not None else ""

    def place(self, key: str) -> str:
        """A territory in words: ``Hải Phòng``, ``Hải Phòng cũ`` (63-province key), ``Việt Nam``."""
        t = self._territory(str(key))
        if t is None:
            return str(key)
        vi, en, basis = t
        return self(f"{vi} cũ", f"former {en}") if basis == "63" else self(vi, en)

    def boundary(self, key: str) -> str:
        """The boundary of a territory's series: ``địa giới 63 tỉnh (Hải Phòng cũ)``."""
        t = self._territory(str(key))
        if t is None:
            return str(key)
        vi, en, basis = t
        if not basis:
            return self("cả nước", "the whole country")
        if basis == "63":
            return self(f"địa giới 63 tỉnh ({vi} cũ)", f"on the 63-province boundary (former {en})")
        return self(f"địa giới 34 tỉnh ({vi})", f"on the 34-province boundary ({en})")

    def series_basis(self, code: str, own: str | None = None) -> str:
        """What a target's basis is, short: ``tỷ trọng theo cách tính của Bộ TT&TT (MIC)``; the
        target's ``own`` indicator, when it is its own basis, "the indicator itself"."""
        if code in TARGET_BASIS:
            return TARGET_BASIS[code][self.lang != "vi"]
        return self("chính chỉ tiêu này", "the indicator itself") if code == own else self.ind(code)

    def series(self, indicator: str, territory: str, own: str | None = None) -> str:
        """The series a target is measured on (``DE_SHARE_MIC@63:31``) in words."""
        return f"{self.series_basis(indicator, own)}, {self.boundary(territory)}"

    def source(self, s: str | None) -> str:
        """A figure's source: an agency as it is (``NSO``), kinhteso's runs in words."""
        if not s:
            return self("không rõ", "unknown")
        if s.startswith("kinhteso:"):
            return f"kinhteso ({self.term(s.split(':', 1)[1])})"
        return s

    def plain(self, text: str) -> str:
        """``text`` (a message written for analysts) with its codes in words: territory keys,
        indicator codes, status codes, long lists of VSIC sections; command-line hints dropped."""
        def key(m: re.Match[str]) -> str:
            k = m.group(0).split("(")[0].strip()
            named = self.place(k)
            t = self._territory(k)
            if m.group(1) is not None and not (t and m.group(1).strip() in t[:2]):
                return f"{named} ({m.group(1)})"
            return named

        def code(m: re.Match[str]) -> str:
            c = m.group(0)
            name = self.ind(c)
            if name == c:
                return c
            before = text[:m.start()].rstrip().lower()
            head = " ".join(name.lower().split()[:2])  # "hệ số số hóa DIGITAL_COEF": the words are there already
            return "\x00" if head and head in before[-40:] else name

        text = self._OPTION.sub("", text)
        text = re.sub(r"\s*\(\x00\)|\s?\x00", "", self._CODE.sub(code, text))
        text = self._KEY.sub(key, text)
        text = self._STATUS.sub(lambda m: f"'{self.status(m.group(1))}'", text)
        return self._SECTIONS.sub(lambda m: self(f"{m.group(0).count(',') + 1} ngành cấp 1",
                                                  f"{m.group(0).count(',') + 1} industry sections"), text)


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


def chart_x(period: str) -> float:
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
    key = territory_of(req.territory, p.code)
    w = Words(req.lang, ws.indicators())
    name = formal_name(key, req.lang)
    view_label = VIEW_LABELS[req.view][req.lang != "vi"]
    src = _Sources()
    flags: list[bool] = []
    ind_name = w.ind

    ctx = {"ws": ws, "key": key, "p": p, "view": req.view, "w": w, "src": src, "flags": flags,
           "ind_name": ind_name, "view_label": view_label, "public": req.public}
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
    where = (w("cả nước", "the whole country") if key == "VN" else
             w("địa giới 34 tỉnh, từ 1/7/2025", "the 34-province boundary, from 1 July 2025") if key.startswith("34:") else
             w("địa giới 63 tỉnh, trước 1/7/2025", "the 63-province boundary, before 1 July 2025"))
    subtitle = w(f"Địa bàn: {name} ({where}); {view_label}; quy tắc số chính thức: ",
                 f"Territory: {name} ({where}); {view_label}; official-figure rule: ")
    from kinhteso.service.figures import RULE  # noqa: PLC0415

    subtitle += RULE[req.lang]
    return ReportContent(key, name, p.code, req.view, req.lang, title, subtitle, sections, illustrative,
                         DEMO_LABEL[req.lang] if illustrative else "",
                         dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def territory_of(text: str, period: str) -> str:
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
        where = (w(f"lần nộp {fig.vintage}", f"vintage {fig.vintage}") if fig.vintage is not None
                 else w(f"lần chạy {fig.run_id[:12]}", f"run {fig.run_id[:12]}") if fig.run_id
                 else w("tính cho báo cáo này, không lưu", "computed for this briefing, not stored"))
        used = w("số chính", "headline")
        src.vintage(fig.vintage, used)
        src.run(fig.run_id, used, kind=(fig.source or "").replace("kinhteso:", ""), method=fig.method)
        rows.append([c["ind_name"](ind), fig.value, unit, w.basis(fig.basis), w.source(fig.source), where])
        if ind == "DE_SHARE":
            sec.paragraphs.append(w(
                f"Số chính thức: tỷ trọng kinh tế số {w.num(fig.value)}% GRDP kỳ {p.code}, cơ sở {w.basis(fig.basis)} "
                f"(nguồn {w.source(fig.source)}; {where}).",
                f"Official figure: digital economy {w.num(fig.value)}% of GRDP in {p.code}, basis {w.basis(fig.basis)} "
                f"(source {w.source(fig.source)}; {where})."))
            for a in fig.alternatives[:3]:
                sec.paragraphs.append(w(f"Số khác đã bỏ qua theo quy tắc: {w.num(a['value'])} ({w.basis(a['basis'])}, {w.source(a['source'])}).",
                                        f"Passed over by the rule: {w.num(a['value'])} ({w.basis(a['basis'])}, {w.source(a['source'])})."))
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
    comp = [[names.get(k) or w.term(k), _f(v["va"]), _f(v["share"])] for k, v in r.components.items()]
    comp.append([w("Tổng kinh tế số", "Digital economy total"), _f(r.de_va), _f(r.de_share)])
    sec.tables.append(Table("components", w(f"Thành phần ({c['view_label']})", f"Components ({c['view_label']})"),
                            [Column("component", w("Thành phần", "Component")),
                             Column("va", w("Giá trị tăng thêm", "Value added"), w("tỷ đồng", "VND bn"), 0),
                             Column("share", w("Tỷ trọng GRDP", "Share of GRDP"), "%", 2)], comp))
    _sectors(sec, r, c)
    for wn in m.warnings:
        sec.warnings.append(w.msg(wn))
    return sec, has


def _sectors(sec: Section, r: Any, c: dict) -> None:
    """The contributions of the VSIC sections to the share (the accounts' ``by_section``, largest
    digital-economy value added first): the first :data:`TOP_SECTIONS`, the rest summed in one row
    so that the contributions still add up to the share, and a sentence naming the top three."""
    from kinhteso.reference.targets import section_name  # noqa: PLC0415

    w = c["w"]
    bs = getattr(r, "by_section", None)
    if bs is None or not len(bs) or not {"section", "va", "de_va", "contribution_pp"} <= set(bs.columns):
        return

    def name(code: Any) -> str:
        try:
            return section_name(str(code), w.lang)
        except KinhtesoError:
            return w(f"Ngành {code}", f"Section {code}")

    top, rest = bs.iloc[:TOP_SECTIONS], bs.iloc[TOP_SECTIONS:]
    rows = [[name(x.section), _f(x.va), _f(x.de_va), _f(x.contribution_pp), str(x.section)]
            for x in top.itertuples(index=False)]
    if len(rest):
        rows.append([w(f"Các ngành khác ({len(rest)} ngành cấp 1)", f"Other sections ({len(rest)})"),
                     _f(rest["va"].sum()), _f(rest["de_va"].sum()), _f(rest["contribution_pp"].sum()),
                     ", ".join(str(x) for x in rest["section"])])
    bn = w("tỷ đồng", "VND bn")
    sec.tables.append(Table("sectors", w(f"Đóng góp theo ngành cấp 1 ({c['view_label']})",
                                         f"Contributions by industry section ({c['view_label']})"), [
        Column("section", w("Ngành cấp 1", "Industry section")),
        Column("va", w("Giá trị tăng thêm của ngành", "Value added of the section"), bn, 0),
        Column("de_va", w("Giá trị tăng thêm kinh tế số", "Digital-economy value added"), bn, 0),
        Column("contribution_pp", w("Đóng góp vào tỷ trọng", "Contribution to the share"), w("điểm %", "pp"), 2),
        Column("vsic", w("Mã ngành VSIC (cho phân tích viên)", "VSIC section code (for analysts)"), xlsx_only=True)],
        rows))
    lead = [f"{name(x.section)} ({w.num(x.contribution_pp)} {w('điểm %', 'pp')})"
            for x in top.head(3).itertuples(index=False) if (_f(x.contribution_pp) or 0) > 0]
    if lead:
        listed = lead[0] if len(lead) == 1 else ", ".join(lead[:-1]) + w(" và ", " and ") + lead[-1]
        sec.paragraphs.append(w(f"Ngành đóng góp nhiều nhất vào tỷ trọng kinh tế số: {listed}.",
                                f"The sections contributing most to the digital-economy share: {listed}."))


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
        rows.append([r.period, _f(r.value), w.basis(r.basis), w.term(r.method)])
    lines = []
    for basis, style in (("benchmarked", "solid"), ("estimated", "dashed")):
        part = q[q.basis == basis] if len(q) else q
        if len(part):
            lines.append(Line(w(f"Tỷ trọng quý ({w.basis(basis)})", f"Quarterly share ({w.basis(basis)})"),
                              [chart_x(x) for x in part.period], [float(v) for v in part.value], style))
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
            how = w.term(mid.method) + (w(", khoảng hiệu chỉnh theo kinh nghiệm", ", empirically calibrated interval")
                                        if ((mid.parameters or {}).get("calibration") or {}).get("method") in
                                        ("scaled", "absolute") else "")
            lines.append(Line(w(f"Dự báo tức thời ({how}, khoảng {level:.0%})", f"Nowcast ({how}, {level:.0%} interval)"),
                              [chart_x(mid.period)], [float(mid.value)], "points",
                              [float(lo.value)] if lo is not None else None, [float(hi.value)] if hi is not None else None))
            rows.append([mid.period, _f(mid.value), w.basis("nowcast"), how])
            sec.paragraphs.append(w(
                f"Dự báo tức thời {mid.period} ({how}): {w.num(mid.value)}%"
                + (f", khoảng {level:.0%} {w.num(lo.value)}–{w.num(hi.value)}%" if lo is not None and hi is not None else "") + ".",
                f"Nowcast for {mid.period} ({how}): {w.num(mid.value)}%"
                + (f", {level:.0%} interval {w.num(lo.value)}–{w.num(hi.value)}%" if lo is not None and hi is not None else "") + "."))
    _records_tables(c, sec, year)
    if not rows:
        sec.warnings.append(w(f"Chưa có số quý nào được tính cho {w.place(key)} (bộ phận phân tích chạy `kinhteso quarterly` "
                              "và `kinhteso nowcast` cho địa bàn này).",
                              f"No quarterly figures computed for {w.place(key)} yet (the analysts run `kinhteso quarterly` "
                              "and `kinhteso nowcast` for it)."))
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


#: The titles of the tables of indicators derived from records, by the owner kind of their
#: datasets (``reference/data/datasets*.yaml``); a kind not listed is titled by its code.
RECORD_KIND_TITLES = {
    "port": ("Cảng biển", "Seaports"), "customs": ("Hải quan", "Customs"), "tax": ("Thuế", "Tax"),
    "transport": ("Giao thông vận tải", "Transport"), "health": ("Y tế", "Health"),
    "education": ("Giáo dục", "Education"), "construction": ("Xây dựng", "Construction"),
    "environment": ("Tài nguyên và môi trường", "Natural resources and environment"),
}
#: Short column labels of the port indicators (any other indicator is named by the registry).
_SHORT_LABELS = {
    "PORT_IMPORT_DWELL_H": ("Lưu bãi nhập khẩu, trung vị", "Import dwell, median"),
    "PORT_IMPORT_DWELL_P90_H": ("Lưu bãi nhập khẩu, phân vị 90", "Import dwell, 90th percentile"),
    "PORT_IMPORT_CONTAINERS": ("Container nhập khẩu ra cổng", "Import containers gated out"),
    "PORT_NSW_SHARE": ("Lượt tàu qua Một cửa quốc gia", "Vessel calls through the National Single Window"),
    "PORT_VESSEL_HOURS": ("Thời gian tàu ở cảng, trung vị", "Vessel time in port, median"),
    "PORT_TEU_PER_BERTH_HOUR": ("TEU mỗi giờ nằm cầu", "TEU per berth hour"),
    "PORT_EDO_SHARE": ("Lệnh giao hàng điện tử", "Electronic delivery orders"),
    "PORT_EPAYMENT_SHARE": ("Thanh toán cước phí không tiền mặt", "Cashless port payments"),
    "CUSTOMS_E_DECLARATION_SHARE": ("Tờ khai hải quan điện tử", "Electronic customs declarations"),
    "CUSTOMS_GREEN_SHARE": ("Tờ khai luồng xanh", "Green-channel declarations"),
}


def _records_tables(c: dict, sec: Section, year: int) -> None:
    """The indicators derived from the records of every dataset of the registry
    (:func:`kinhteso.reference.datasets.datasets`: the port, customs and priority-sector
    datasets alike), by quarter of the last years up to the period's: one table per owner kind
    of the datasets with stored values (``port``, ``customs``, ``health``…), then a table naming
    the agencies whose records fed them. For a public briefing (``public``: the dashboard), a
    value resting on the records of fewer than 3 reporting units is shown as ``C`` with the rule
    (:mod:`kinhteso.service.sharing`)."""
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415
    from kinhteso.service.figures import ResultsRequest, results  # noqa: PLC0415
    from kinhteso.service.sharing import ANALYST, PUBLIC, RULE, disclose_results, fed_by  # noqa: PLC0415

    ws, key, w, src, flags = c["ws"], c["key"], c["w"], c["src"], c["flags"]
    groups: dict[str, list] = {}
    for ds in datasets().values():
        if ds.derived:
            groups.setdefault(ds.owner_kind, []).append(ds)
    derived = {d.code for dss in groups.values() for ds in dss for d in ds.derived}
    r = results(ws, ResultsRequest(territory=key))
    r = r[r["indicator"].isin(derived)] if len(r) else r
    if not len(r):
        return
    years = r["period"].str[:4].astype(int)
    r = r[r["value"].notna() & r["period"].str.contains("-Q") & (years > year - TREND_YEARS) & (years <= year)]
    if not len(r):
        return
    r = disclose_results(ws, r, PUBLIC if c.get("public") else ANALYST)
    used = w("chỉ tiêu từ bản ghi", "indicators from records")
    for x in r.itertuples(index=False):
        flags.append(bool(x.illustrative))
        src.run(x.run_id, used, kind=x.kind, method=x.method, computed_at=str(x.computed_at)[:19])
        src.inputs(x.inputs, used)
    hidden = False
    for kind, dss in groups.items():
        codes = [d.code for ds in dss for d in ds.derived]
        part = r[r["indicator"].isin(codes)]
        if not len(part):
            continue
        cols = [code for code in codes if code in set(part["indicator"])]
        cell = {(x.period, x.indicator): ("C" if x.obs_conf == "C" and x.value != x.value else _f(x.value))
                for x in part.itertuples(index=False)}
        hidden |= any(v == "C" for v in cell.values())
        periods = sorted(set(part["period"]))
        rows = [[per, *[cell.get((per, code)) for code in cols]] for per in periods]
        columns = [Column("period", w("Kỳ", "Period"))]
        for code in cols:
            label = _SHORT_LABELS.get(code)
            unit = next(iter(part.loc[part["indicator"] == code, "unit"]), None)
            columns.append(Column(code.lower(), w(*label) if label else w.ind(code), _record_unit(unit, w),
                                  0 if unit == "COUNT" else 1))
        vi_kind, en_kind = RECORD_KIND_TITLES.get(kind, (kind, kind))
        names = w(", ".join(ds.name_vi for ds in dss), ", ".join(ds.name_en for ds in dss))
        notes = [w(f"Tính từ bản ghi của các cơ quan: {names}; docs/logistics.md, docs/sectors.md.",
                   f"Derived from the agencies' records: {names}; docs/logistics.md, docs/sectors.md.")]
        if kind == "port":
            notes = [w("Tính từ sự kiện container của cảng (DCSA; lưu bãi từ khi dỡ khỏi tàu đến khi ra cổng, "
                       "theo quý ra cổng) và lượt tàu của cảng vụ (theo quý rời cảng); docs/logistics.md.",
                       "From the port's container events (DCSA; dwell from discharge to gate-out, by the quarter "
                       "of the gate-out) and the port authority's vessel calls (by the quarter of departure); "
                       "docs/logistics.md.")]
        if c.get("public"):
            notes.append(RULE[w.lang])
        sec.tables.append(Table(kind, w(f"{vi_kind}: các chỉ tiêu theo quý", f"{en_kind}: indicators by quarter"),
                                columns, rows, notes=notes))
    if hidden:
        sec.paragraphs.append(RULE[w.lang])
    fed = fed_by(ws, key)
    if fed:
        sec.tables.append(Table("record_sources", w("Cơ quan có bản ghi đã dùng cho từng chỉ tiêu",
                                                    "The agencies whose records fed each indicator"), [
            Column("dataset", w("Bộ dữ liệu", "Dataset")), Column("indicators", w("Chỉ tiêu", "Indicators")),
            Column("agencies", w("Cơ quan gửi bản ghi", "Agencies that sent the records")),
            Column("quarters", w("Các quý có bản ghi", "Quarters with records"), detail=True),
            Column("agency_codes", w("Mã cơ quan (cho phân tích viên)", "Agency codes (for analysts)"), xlsx_only=True),
            Column("indicator_codes", w("Mã chỉ tiêu (cho phân tích viên)", "Indicator codes (for analysts)"),
                   xlsx_only=True)],
            [[w(*f["name"]), "; ".join(w.ind(i) for i in f["indicators"]),
              "; ".join(w(*names) for _, names in f["sources"]), ", ".join(f["periods"]),
              ", ".join(code for code, _ in f["sources"]), ", ".join(f["indicators"])]
             for f in fed],
            notes=[w("Chỉ nêu tên cơ quan, không nêu số liệu của từng cơ quan; mỗi thành viên xem phần đóng góp "
                     "của chính mình qua GET /api/v1/contributions (docs/sharing.md).",
                     "Names only, never an agency's own figures; each member sees its own contribution "
                     "through GET /api/v1/contributions (docs/sharing.md).")]))


def _record_unit(unit: str | None, w: Words) -> str | None:
    """A record-derived indicator's unit in a column header (None for a count)."""
    from kinhteso.reference.indicators import UNITS  # noqa: PLC0415

    if unit in (None, "COUNT"):
        return None
    if unit == "PCT":
        return "%"
    if unit == "HOURS":
        return w("giờ", "hours")
    return UNITS[unit][w.lang != "vi"] if unit in UNITS else unit


def _targets(c: dict) -> tuple[Section, list[dict]]:
    from kinhteso.reference.targets import section_name  # noqa: PLC0415
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
        sec.paragraphs.append(w(f"{w.place(key)} chưa có mục tiêu riêng: so với mục tiêu quốc gia.",
                                f"{w.place(key)} has no target of its own: measured against the national targets."))
    rows = [r for r in res.rows if r.get("sections_total") is None]
    flags.append(res.illustrative)
    table, seen = [], set()
    for r in rows:
        flags.append(bool(r["illustrative"]))
        table.append([c["ind_name"](r["indicator"]), w.series(r["series_indicator"], r["series_territory"], r["indicator"]),
                      w.series_basis(r["basis"], r["indicator"]), _f(r["latest_value"]), r["latest_period"],
                      w.comparison(r["comparison"]), _f(r["target_value"]), r["target_year"], _f(r["gap"]),
                      None if r["required_cagr"] is None else _f(r["required_cagr"]) * 100,
                      None if r["trend_cagr"] is None else _f(r["trend_cagr"]) * 100,
                      None if r["probability"] is None else _f(r["probability"]) * 100, w.status(r["status"]),
                      f"{r['series_indicator']}@{r['series_territory']}", r["source"]])
        for wn in [*r["warnings"], *([r["error"]] if r["error"] else [])]:
            k = (r["indicator"], r["target_year"], wn.get("code"))
            if k not in seen:
                seen.add(k)
                sec.warnings.append(f"{c['ind_name'](r['indicator'])} ({r['target_year']}) — {w.msg(wn)}")
    by_section: dict[tuple, tuple[dict, list[str]]] = {}  # a section target's warnings: once, with the sections
    for r in res.rows:
        if r.get("sections_total") is not None:
            for wn in [*r["warnings"], *([r["error"]] if r["error"] else [])]:
                by_section.setdefault((r["indicator"], r["target_year"], wn.get("code")), (wn, []))[1].append(str(r["sector"]))
    for (ind, year, _), (wn, secs) in by_section.items():
        which = (w(f"{len(secs)} ngành cấp 1", f"{len(secs)} industry sections") if len(secs) > 3
                 else "; ".join(section_name(x, w.lang) for x in secs))
        sec.warnings.append(f"{c['ind_name'](ind)} ({year}; {which}) — {w.msg(wn)}")
    for m in res.summaries:
        table.append([c["ind_name"](m["indicator"]), w.series(m["indicator"], m["series_territory"], m["indicator"]),
                      w.series_basis(m["indicator"], m["indicator"]), None, None,
                      w.comparison(m["comparison"]), _f(m["target_value"]), m["target_year"], None, None, None, None,
                      w(f"{m['achieved']}/{m['sections_total']} ngành đạt", f"{m['achieved']}/{m['sections_total']} sections meet it"),
                      f"{m['indicator']}@{m['series_territory']}", "computed"])
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
        Column("series_code", w("Mã chuỗi (cho phân tích viên)", "Series code (for analysts)"), xlsx_only=True),
        Column("source", w("Nguồn chuỗi (cho phân tích viên)", "Series source (for analysts)"), xlsx_only=True)], table))
    # trajectory against the target: the required path (the plan's milestones) and the trend's projection
    shown = sorted([r for r in rows if not r["error"] and r["latest_value"] is not None],
                   key=lambda r: (r["indicator"] != "DE_SHARE", -int(r["target_year"])))
    for i, r in enumerate(shown[:MAX_TRAJECTORIES], start=1):
        lines = [Line(w("Mới nhất", "Latest"), [chart_x(str(r["latest_period"]))], [float(r["latest_value"])], "points")]
        try:
            pl = plan(ws, PlanRequest(key, r["indicator"], int(r["target_year"]), view=c["view"]))
            ms = pl.milestones
        except KinhtesoError:
            ms = []
        if ms:
            lines.append(Line(w("Lộ trình cần đi", "Required path"), [chart_x(str(r["latest_period"]))] + [chart_x(m["period"]) for m in ms],
                              [float(r["latest_value"])] + [float(m["value"]) for m in ms], "solid"))
        if r["projected_value"] is not None:
            lo, hi = _f(r["projected_low"]), _f(r["projected_high"])
            lines.append(Line(w("Dự báo theo xu hướng", "Trend projection"), [chart_x(str(r["latest_period"])), chart_x(str(r["target_year"]))],
                              [float(r["latest_value"]), float(r["projected_value"])], "dashed",
                              [float(r["latest_value"]), lo] if lo is not None else None,
                              [float(r["latest_value"]), hi] if hi is not None else None))
        lines.append(Line(w(f"Mục tiêu {r['target_year']}", f"Target {r['target_year']}"), [chart_x(f"{r['target_year']}-Q4")],
                          [float(r["target_value"])], "points"))
        sec.charts.append(Chart(f"trajectory_{i}_{r['target_year']}",
                                w(f"{c['ind_name'](r['indicator'])}: lộ trình so với mục tiêu {r['target_year']}",
                                  f"{c['ind_name'](r['indicator'])}: trajectory against the {r['target_year']} target"),
                                _unit_words(r["series_indicator"], w), lines,
                                w("Đo trên: ", "Measured on: ") + w.series(r["series_indicator"], r["series_territory"])))
    return sec, rows


def _unit_words(indicator: str, w: Words) -> str:
    """The unit of ``indicator`` in words, for a chart's axis (``phần trăm (%)``)."""
    from kinhteso.reference.indicators import UNITS  # noqa: PLC0415
    from kinhteso.reference.targets import indicator_unit  # noqa: PLC0415

    try:
        unit = indicator_unit(indicator, w.indicators)[0]
    except (KinhtesoError, IndexError):
        unit = None
    if unit == "PER_1000":
        return w("trên 1.000 dân", "per 1,000 people")
    return UNITS[unit][w.lang != "vi"] if unit in UNITS else w("giá trị", "value")


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

    def group(g: Any) -> str:  # G1 … G4: the quartiles of GRDP per person, G1 the lowest
        m = re.fullmatch(r"G([1-4])", str(g))
        if not m:
            return str(g)
        n = int(m.group(1))
        extra = {1: w(" (thấp nhất)", " (lowest)"), 4: w(" (cao nhất)", " (highest)")}.get(n, "")
        return w(f"nhóm {n}/4", f"group {n} of 4") + extra

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
                [[c["ind_name"](r.indicator), _f(r.value), _f(r.percentile), group(r.group), _f(r.group_percentile),
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
    _dti(sec, idx, key, w, year)
    fw_id = getattr(idx.framework, "id", None)
    for vi, en in idx.notes[:2]:
        note = w(vi, en)
        if fw_id:
            note = note.replace(f"'{fw_id}'", f"«{fw}»")
        sec.warnings.append(w.plain(note))
    return sec


def _dti(sec: Section, idx: Any, key: str, w: Words, year: str) -> None:
    """The DTI pillars against the provinces: for each main index of the framework, the
    territory's score, the median and the best score of the provinces scored, and the best one,
    all read from the scoring's ``Aggregated`` dataset (COINr: every indicator and aggregate)."""
    coin = idx.coin
    agg = coin.data.get("Aggregated") if coin is not None else None
    if agg is None or not len(agg):
        return
    try:
        keys = coin.units.loc[agg.index, "uCode"].astype(str).to_numpy()
    except KeyError:  # rows the units do not name: nothing to show by territory
        return
    scores = agg.set_axis(keys)
    scores = scores[~scores.index.duplicated(keep="last") & scores.index.isin(list(idx.table.territory))]
    if key not in scores.index:
        return
    meta = idx.framework.meta.drop_duplicates("iCode").set_index("iCode")

    def pname(code: str) -> str:
        for col in (("iName",) if w.lang == "vi" else ("iName_en", "iName")):
            v = meta[col].get(code) if col in meta.columns else None
            if isinstance(v, str) and v.strip():
                return v
        return code

    rows = []
    for code in idx.framework.main_indices:
        if code not in scores.columns:
            continue
        col = scores[code].dropna()
        own = _f(scores.at[key, code])
        if own is None or not len(col):
            continue
        best = col[col == col.max()]
        rows.append([pname(code), own, _f(col.median()), _f(col.max()), ", ".join(w.place(k) for k in best.index), code])
    if not rows:
        return
    n = len(scores)
    sec.tables.append(Table("dti", w(f"Các trụ cột DTI năm {year}: {w.place(key)} so với {n} tỉnh",
                                     f"DTI pillars, {year}: {w.place(key)} against the {n} provinces"), [
        Column("pillar", w("Trụ cột", "Pillar")),
        Column("score", w(f"Điểm của {w.place(key)}", f"{w.place(key)}'s score"), digits=4),
        Column("median", w(f"Trung vị {n} tỉnh", f"Median of the {n}"), digits=4),
        Column("best_score", w("Điểm cao nhất", "Best score"), digits=4),
        Column("best", w("Tỉnh cao nhất", "Best province")),
        Column("code", w("Mã trụ cột (cho phân tích viên)", "Pillar code (for analysts)"), xlsx_only=True)],
        rows))


def _plan(c: dict, rows: list[dict]) -> Section:
    from kinhteso.reference.targets import section_name  # noqa: PLC0415
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
        f"{c['ind_name'](r['indicator'])}: {w.num(g['latest_value'])} ({g['latest_period']}) → {w.comparison(g['comparison'])} "
        f"{w.num(g['target_value'])} ({pl.target_year}), đo trên {w.series(g['series_indicator'], g['series_territory'])}; "
        f"trạng thái {w.status(g['status'])}. Mốc quý 4 mỗi năm theo lộ trình hình học:",
        f"{c['ind_name'](r['indicator'])}: {w.num(g['latest_value'])} ({g['latest_period']}) → {w.comparison(g['comparison'])} "
        f"{w.num(g['target_value'])} ({pl.target_year}), measured on {w.series(g['series_indicator'], g['series_territory'])}; "
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
        code = next((k for k in ("sector", "code") if k in top[0]), None)

        def industry(x: dict, k: str | None) -> str:  # a VSIC code by its name
            if not k or x.get(k) in (None, ""):
                return "–"
            if k == code and x.get("name"):
                return str(x["name"])
            try:
                return section_name(str(x[k]), w.lang)
            except KinhtesoError:
                return str(x[k])

        sec.tables.append(Table("plan_sectors", w("Đóng góp cần có theo ngành", "Contributions needed by industry"), [
            Column("industry", w("Ngành", "Industry")), Column("section", w("Ngành cấp 1", "Section")),
            Column("contribution_pp", w("Đóng góp", "Contribution"), w("điểm %", "pp"), 2),
            Column("vsic", w("Mã VSIC", "VSIC code"), xlsx_only=True)],
            [[industry(x, code), industry(x, "section" if "section" in x else None), _f(x.get("contribution_pp")),
              str(x.get(code) or x.get("section") or "")] for x in top]))
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
        w("Mục tiêu: mỗi mục tiêu đo trên cơ sở và ranh giới nó được đặt; có cảnh báo khi so với chuỗi khác cơ sở "
          "hoặc khi đo trên ranh giới trước sáp nhập. So sánh ngang hàng: phân vị trong 34 tỉnh và trong nhóm tứ phân vị "
          "GRDP/người; mạnh ≥ 75, yếu ≤ 25.",
          "Targets: each is measured on the basis and boundary it was set on, with a warning when compared with another "
          "basis or measured on the pre-merger boundary. Peers: percentiles among the 34 provinces and "
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
        # a run met only as another run's input (the coefficients behind the accounts) carries no
        # kind or method in that provenance: its own record has them
        stored = {str(x.run_id): x for x in ws.store.result_runs().itertuples(index=False)}

        def info(rid: str, r: dict, k: str) -> Any:
            rec = stored.get(rid)
            v = getattr(rec, k, None) if rec is not None else None
            return v if v is not None and str(v) not in ("", "NaT", "nan") else r.get(k)

        rows = []
        for rid, r in sorted(src.runs.items()):
            when = info(rid, r, "computed_at")
            rows.append([rid[:12], w.term(info(rid, r, "kind")) if info(rid, r, "kind") else w("lần chạy kinhteso", "kinhteso run"),
                         w.term(info(rid, r, "method")), str(when)[:19] if when else w("không ghi", "not recorded"),
                         ", ".join(sorted(r["used"])), info(rid, r, "kind") or "", info(rid, r, "method") or ""])
        sec.tables.append(Table("runs", w("Các lần chạy của kinhteso đã dùng", "kinhteso runs used"), [
            Column("run", w("Lần chạy", "Run")), Column("kind", w("Loại", "Kind")), Column("method", w("Phương pháp", "Method")),
            Column("computed_at", w("Tính lúc", "Computed")), Column("used", w("Dùng cho", "Used for")),
            Column("kind_code", w("Mã loại (cho phân tích viên)", "Kind code (for analysts)"), xlsx_only=True),
            Column("method_code", w("Mã phương pháp (cho phân tích viên)", "Method code (for analysts)"), xlsx_only=True)],
            rows))
    return sec
