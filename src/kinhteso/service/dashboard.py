"""What the dashboard's pages show: the overview, a province, a comparison, the data page.

Each function gathers a :class:`Page` by calling the other service functions only
(:func:`~kinhteso.service.figures.figures`, :func:`~kinhteso.service.figures.results`,
:func:`~kinhteso.service.targets.gaps`, :func:`~kinhteso.service.report.build_report`…): it
computes no figure of its own and stores nothing. A page is typed content already in the
language asked for — sections of paragraphs, tables (:class:`~kinhteso.service.report.Table`,
numbers as numbers, units in the columns) and charts (:class:`~kinhteso.service.report.Chart`)
— which the web interface (:mod:`kinhteso.web`) lays out, and whose tables it serves as CSV,
XLSX and SDMX-CSV (:func:`table_frame`, :func:`table_sdmx`).

- :func:`overview`: the 34 provinces' official digital-economy share for a year (the map and the
  ranking, each figure with its basis), and the nation's quarterly trend and targets;
- :func:`province`: one territory's briefing (the content of ``kinhteso report``);
- :func:`compare`: two to four territories side by side (official figure, kinhteso's
  components, targets, the quarterly path);
- :func:`templates`: the indicators a submission template can be written for.

>>> OverviewRequest().view, CompareRequest(("34:31", "34:79")).lang
('gso', 'vi')
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.i18n import DEMO_LABEL, FIGURE_BASIS, LANGS, fmt_number
from kinhteso.service.report import Chart, Column, Line, Section, Table

if TYPE_CHECKING:
    import pandas as pd

    from kinhteso.workspace import Workspace

__all__ = ["Page", "Tile", "OverviewRequest", "ProvinceRequest", "CompareRequest", "overview", "province", "compare",
           "table_frame", "table_sdmx", "VIEW_NAMES", "MAX_COMPARE", "tile_layout", "years", "templates",
           "template_file"]

#: The short name of each view, shown beside every share.
VIEW_NAMES = {"gso": ("GSO/NSO", "GSO/NSO"), "mic": ("kiểu MIC", "MIC-style"), "oecd": ("kiểu OECD", "OECD-style")}
#: How many territories the compare page takes at most (and at least two).
MAX_COMPARE = 4
#: How many years of quarters the compare page draws.
COMPARE_YEARS = 4


# --- the content ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tile:
    """One province on the tile map: its place on the grid and its figure."""

    key: str
    name: str
    short: str
    row: int
    col: int
    value: float | None
    basis: str | None      #: the figure's basis in words
    text: str              #: the value as shown (``22,28%``; ``–`` when there is none)


@dataclass
class Page:
    """One page of the dashboard in ``lang``; ``label`` is the illustrative-data label when any
    figure shown comes from illustrative data, else ``""``."""

    kind: str
    lang: str
    title: str
    view: str
    period: str | None
    sections: list[Section]
    illustrative: bool = False
    label: str = ""
    subtitle: str = ""
    territory: str | None = None
    territories: tuple[str, ...] = ()
    tiles: list[Tile] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)   #: the periods the page can show (its selector)
    scale: tuple[float, float] | None = None             #: the map's colour scale (low, high)

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def table(self, key: str) -> Table:
        """The table named ``key`` (``UNKNOWN_TABLE`` otherwise)."""
        for t in self.tables():
            if t.key == key:
                return t
        have = ", ".join(t.key for t in self.tables()) or "–"
        raise UsageError("UNKNOWN_TABLE", f"Trang này không có bảng '{key}'; các bảng: {have}.",
                         f"This page has no table '{key}'; its tables: {have}.")


def _w(lang: str):
    if lang not in LANGS:
        raise UsageError("BAD_LANG", f"Ngôn ngữ '{lang}' không có; dùng vi hoặc en.",
                         f"Unknown language '{lang}'; use vi or en.")
    return lambda vi, en: vi if lang == "vi" else en


def _view(view: str) -> str:
    from kinhteso.methods.accounts import VIEWS  # noqa: PLC0415

    if view not in VIEWS:
        raise UsageError("UNKNOWN_VIEW", f"Cách đo '{view}' không có; dùng {', '.join(VIEWS)}.",
                         f"Unknown view '{view}'; use {', '.join(VIEWS)}.")
    return view


def _name(key: str, lang: str) -> str:
    from kinhteso.reference.territories import get_territory  # noqa: PLC0415

    t = get_territory(key)
    return t.name_vi if lang == "vi" else t.name_en


def _basis(b: str | None, lang: str) -> str:
    return FIGURE_BASIS[b][lang != "vi"] if b in FIGURE_BASIS else "–"


# --- the tile map ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def tile_layout() -> dict[str, tuple[int, int, str]]:
    """The 34 provinces' places on the tile map: key → (row, column, short name), from
    ``reference/data/province_tiles.csv`` (kinhteso's own schematic layout, north at the top)."""
    from importlib import resources  # noqa: PLC0415

    text = resources.files("kinhteso.reference").joinpath("data/province_tiles.csv").read_text(encoding="utf-8")
    return {r["key"]: (int(r["row"]), int(r["col"]), r["short"]) for r in csv.DictReader(io.StringIO(text))}


def years(ws: Workspace) -> list[str]:
    """The years with a digital-economy share for some province of the 34 (submitted or computed),
    newest first; the current year's nowcast is not a year's figure."""
    obs = ws.store.observations(indicator="DE_SHARE", sector="_T")
    res = ws.store.results(indicator="DE_SHARE", sector="_T", kind=["accounts", "quarterly"])
    found = {str(p)[:4] for p in [*obs.period, *res.period] if str(p)}
    return sorted(found, reverse=True)


# --- the overview ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OverviewRequest:
    period: str | None = None   #: a year (default: the latest year with figures for most provinces)
    view: str = "gso"
    lang: str = "vi"


def overview(ws: Workspace, req: OverviewRequest) -> Page:
    """The 34 provinces' official digital-economy share for a year (each with its basis), ranked
    and on the tile map, and the nation's quarterly trend against its targets."""
    from kinhteso.periods import period as parse_strict  # noqa: PLC0415
    from kinhteso.service.figures import FigureRequest, figures  # noqa: PLC0415
    from kinhteso.service.report import ReportRequest, build_report  # noqa: PLC0415

    w = _w(req.lang)
    view = _view(req.view)
    layout = tile_layout()
    keys = list(layout)
    available = years(ws)
    if req.period:
        p = parse_strict(req.period.strip())
        if p.freq != "A":
            raise UsageError("BAD_PERIOD", f"Trang tổng quan hiển thị theo năm: '{req.period}' không phải một năm.",
                             f"The overview shows a year: '{req.period}' is not one.")
        year = p.code
        found = figures(ws, keys, FigureRequest("VN", year, view=view))
    else:
        year, found = _latest_year(ws, view, available)
    flags = [f.illustrative for f in found.values() if f.value is not None]
    tiles = [Tile(k, _name(k, req.lang), layout[k][2], layout[k][0], layout[k][1], found[k].value,
                  _basis(found[k].basis, req.lang),
                  "–" if found[k].value is None else fmt_number(found[k].value, 2, lang=req.lang) + "%")
             for k in keys]
    vname = VIEW_NAMES[view][req.lang != "vi"]
    ranked = sorted((t for t in tiles if t.value is not None), key=lambda t: -t.value)
    rows = [[i + 1, t.name, t.value, t.basis, vname if found[t.key].view or found[t.key].basis != "published" else
             w("số công bố", "published figure"), _source(found[t.key], req.lang), bool(found[t.key].illustrative)]
            for i, t in enumerate(ranked)]
    rows += [[None, t.name, None, "–", vname, "–", False] for t in tiles if t.value is None]
    ranking = Table("ranking", w(f"Xếp hạng 34 tỉnh, thành phố theo tỷ trọng kinh tế số, năm {year}",
                                 f"The 34 provinces ranked by digital-economy share, {year}"),
                    [Column("rank", w("Hạng", "Rank")), Column("territory", w("Tỉnh, thành phố", "Province")),
                     Column("share", w("Tỷ trọng kinh tế số", "Digital-economy share"), "% GRDP", 2),
                     Column("basis", w("Cơ sở của số", "Basis of the figure")), Column("view", w("Cách đo", "View")),
                     Column("source", w("Nguồn", "Source"), detail=True),
                     Column("illustrative", w("Minh họa", "Illustrative"))], rows)
    ranking.notes.append(w("Số chính thức theo quy tắc: số công bố/được gửi › số quý đã khớp số năm › số ước tính › "
                           "dự báo tức thời. Cách đo ghi bên mỗi tỷ trọng.",
                           "The official figure by the rule: published/submitted › benchmarked quarter › estimate › "
                           "nowcast. The view is named beside every share."))
    have = [t.value for t in tiles if t.value is not None]
    sec_map = Section("map", w(f"Bản đồ 34 tỉnh, thành phố — tỷ trọng kinh tế số năm {year} ({vname})",
                               f"The 34 provinces — digital-economy share, {year} ({vname})"))
    sec_map.paragraphs.append(w(
        f"{len(have)}/34 tỉnh, thành phố có số năm {year}. Bản đồ ô: mỗi ô là một tỉnh, đặt gần vị trí địa lý; "
        "chọn một ô để mở trang của tỉnh.",
        f"{len(have)} of the 34 provinces have a figure for {year}. Tile map: one tile per province, placed near its "
        "location; choose a tile to open the province's page."))
    sec_map.tables.append(ranking)
    sections = [sec_map]
    try:  # the nation: its quarterly trend and its targets, as its briefing gives them
        nation = build_report(ws, ReportRequest("VN", year, view=view, lang=req.lang))
    except KinhtesoError as exc:
        sec_map.warnings.append(f"{exc.code}: {exc.message(req.lang)}")
    else:
        flags.append(nation.illustrative)
        for s in nation.sections:
            if s.key in ("quarterly", "targets"):
                sections.append(Section(f"national_{s.key}", w("Cả nước: ", "Viet Nam: ") + s.title.split(". ", 1)[-1],
                                        s.paragraphs, [_renamed(t, f"national_{t.key}") for t in s.tables],
                                        s.charts, s.warnings))
    illustrative = any(flags)
    return Page("overview", req.lang, w("Kinh tế số Việt Nam và 34 tỉnh, thành phố", "Viet Nam's digital economy: the 34 provinces"),
                view, year, sections, illustrative, DEMO_LABEL[req.lang] if illustrative else "",
                subtitle=w(f"Năm {year}; {vname}", f"{year}; {vname}"), tiles=tiles, periods=available,
                scale=(min(have), max(have)) if have else None)


def _latest_year(ws: Workspace, view: str, available: list[str] | None = None) -> tuple[str, dict]:
    """The latest year at least half of the 34 provinces have an official figure for (the
    default year of every page), and those figures."""
    from kinhteso.service.figures import FigureRequest, figures  # noqa: PLC0415

    keys = list(tile_layout())
    year, found = None, {}
    for y in available if available is not None else years(ws):
        found = figures(ws, keys, FigureRequest("VN", y, view=view))
        year = y
        if sum(f.value is not None for f in found.values()) * 2 >= len(keys):
            break
    if year is None:
        raise UsageError("REPORT_NO_DATA", "Chưa có số liệu tỷ trọng kinh tế số nào: nạp số liệu (`kinhteso ingest`).",
                         "No digital-economy share yet: load data (`kinhteso ingest`).")
    return year, found


def _source(f, lang: str) -> str:
    """Where an official figure comes from, in words: the submitting agency, or kinhteso's computation."""
    src = f.source or ""
    if not src.startswith("kinhteso:"):
        return src or "–"
    kind = src.split(":", 1)[1]
    words = {"accounts": ("kinhteso tính (tài khoản năm)", "computed by kinhteso (annual accounts)"),
             "quarterly": ("kinhteso tính (số quý)", "computed by kinhteso (quarters)"),
             "nowcast": ("kinhteso dự báo tức thời", "kinhteso nowcast")}
    return words.get(kind, (f"kinhteso ({kind})", f"kinhteso ({kind})"))[lang != "vi"]


def _renamed(t: Table, key: str) -> Table:
    return Table(key, t.title, t.columns, t.rows, t.notes)


# --- a province ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProvinceRequest:
    territory: str
    period: str | None = None   #: a year or a quarter (default: the overview's latest year)
    view: str = "gso"
    lang: str = "vi"


def province(ws: Workspace, req: ProvinceRequest) -> Page:
    """One territory's page: the content of its briefing (:func:`kinhteso.service.report.build_report`)
    for the period — official figure and basis, components, quarters and nowcast, the indicators
    derived from the records of every dataset of the registry (under the disclosure rule: ``C``
    for a value from fewer than 3 reporting units) and the agencies whose records fed them,
    targets and gaps, strengths and weaknesses, the plan, the sources."""
    from kinhteso.service.report import ReportRequest, build_report  # noqa: PLC0415

    _w(req.lang)
    available = years(ws)
    period = req.period or _latest_year(ws, _view(req.view), available)[0]
    # the dashboard publishes to whoever asks: values from the records of fewer than 3 reporting
    # units are shown as C (kinhteso.service.sharing, docs/sharing.md)
    c = build_report(ws, ReportRequest(req.territory, period, view=_view(req.view), lang=req.lang, public=True))
    return Page("province", req.lang, c.name, c.view, c.period, c.sections, c.illustrative, c.label,
                subtitle=c.subtitle, territory=c.territory, periods=available)


# --- compare ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompareRequest:
    territories: tuple[str, ...]
    period: str | None = None   #: a year (default: the latest year with figures)
    view: str = "gso"
    lang: str = "vi"


def compare(ws: Workspace, req: CompareRequest) -> Page:
    """Two to four territories side by side: the official figure and its basis, kinhteso's
    components in the view, each target's gap and status, and the quarterly path."""
    from kinhteso.periods import period as parse_strict  # noqa: PLC0415
    from kinhteso.service.figures import FigureRequest, MeasureRequest, ResultsRequest, figures, measure, results  # noqa: PLC0415
    from kinhteso.service.report import Words, chart_x, formal_name, territory_of  # noqa: PLC0415
    from kinhteso.service.targets import GapsRequest, gaps  # noqa: PLC0415

    w = _w(req.lang)
    view = _view(req.view)
    available = years(ws)
    year = parse_strict(req.period.strip()).code if req.period else _latest_year(ws, view, available)[0]
    keys = list(dict.fromkeys(territory_of(str(t).strip(), year) for t in req.territories if str(t).strip()))
    if not 2 <= len(keys) <= MAX_COMPARE:
        raise UsageError("COMPARE_COUNT", f"Chọn từ 2 đến {MAX_COMPARE} tỉnh, thành phố khác nhau để so sánh (đã chọn {len(keys)}).",
                         f"Choose 2 to {MAX_COMPARE} different territories to compare ({len(keys)} chosen).")
    names = {k: formal_name(k, req.lang) for k in keys}
    vname = VIEW_NAMES[view][req.lang != "vi"]
    flags: list[bool] = []
    head = Section("headline", w(f"Số chính năm {year}", f"Headline figures, {year}"))
    found = figures(ws, keys, FigureRequest("VN", year, view=view))
    try:
        measured = {r.territory: r for r in measure(ws, MeasureRequest(year, tuple(keys), view=view, intervals=False)).results}
    except KinhtesoError as exc:
        measured = {}
        head.warnings.append(f"{exc.code}: {exc.message(req.lang)}")
    rows = []
    for k in keys:
        f, m = found[k], measured.get(k)
        flags.append(bool(f.illustrative) if f.value is not None else False)
        r = m.result if m is not None else None
        if m is not None:
            flags.append(bool(m.provenance.get("illustrative")))
        comp = r.components if r is not None else {}
        first, second = (list(comp.values()) + [None, None])[:2]
        rows.append([names[k], f.value, _basis(f.basis, req.lang), None if r is None else float(r.de_share),
                     None if first is None else float(first["share"]), None if second is None else float(second["share"]),
                     None if r is None else float(r.de_va), None if r is None else float(r.grdp)])
        if m is not None and m.result is None and m.error:
            head.warnings.append(f"{names[k]}: {m.error.get(req.lang) if isinstance(m.error, dict) else m.error}")
    comp_names = w("lõi / số hóa", "core / digitalised") if view == "gso" else w("thành phần 1 / 2", "component 1 / 2")
    head.paragraphs.append(w(
        f"Số chính thức theo quy tắc số chính thức (cột cơ sở); ước tính và thành phần của kinhteso theo {vname} ({comp_names}).",
        f"The official figure by the official-figure rule (its basis in a column); kinhteso's estimate and components in the "
        f"{vname} view ({comp_names})."))
    first_label, second_label = ((w("Kinh tế số lõi", "Core digital economy"), w("Số hóa các ngành khác", "Digitalisation of other industries"))
                                 if view == "gso" else (w("Thành phần thứ nhất", "First component"), w("Thành phần thứ hai", "Second component")))
    head.tables.append(Table("headline", w(f"So sánh số chính, năm {year}", f"Headline figures compared, {year}"), [
        Column("territory", w("Tỉnh, thành phố", "Territory")),
        Column("official", w("Tỷ trọng chính thức", "Official share"), "% GRDP", 2),
        Column("basis", w("Cơ sở", "Basis")),
        Column("estimate", w(f"Ước tính kinhteso ({vname})", f"kinhteso estimate ({vname})"), "% GRDP", 2),
        Column("component_1", first_label, "% GRDP", 2), Column("component_2", second_label, "% GRDP", 2),
        Column("de_va", w("Giá trị tăng thêm kinh tế số", "Digital-economy value added"), w("tỷ đồng", "VND bn"), 0),
        Column("grdp", "GRDP", w("tỷ đồng", "VND bn"), 0)], rows))
    # targets: each on its own basis
    tgt = Section("targets", w("Mục tiêu, khoảng cách và trạng thái", "Targets, gaps and status"))
    trows = []
    words = Words(req.lang, ws.indicators())
    for k in keys:
        try:
            res = gaps(ws, GapsRequest(k, view=view, inherit_national=True))
        except KinhtesoError as exc:
            tgt.warnings.append(f"{names[k]}: {words.msg(exc)}")
            continue
        flags.append(res.illustrative)
        for r in res.rows:
            if r.get("sections_total") is not None:
                continue
            why = [*r["warnings"], *([r["error"]] if r["error"] else [])]
            trows.append([names[k], words.ind(r["indicator"]), words.series(r["series_indicator"], r["series_territory"],
                                                                            r["indicator"]),
                          r["target_year"], words.comparison(r["comparison"]), _num(r["target_value"]),
                          _num(r["latest_value"]), r["latest_period"], _num(r["gap"]), words.status(r["status"]),
                          "; ".join(words.msg(x) for x in why[:2]) or None])
    tgt.tables.append(Table("targets", w("Mục tiêu của từng địa bàn", "Each territory's targets"), [
        Column("territory", w("Tỉnh, thành phố", "Territory")), Column("indicator", w("Chỉ tiêu", "Indicator")),
        Column("measured_on", w("Đo trên", "Measured on")),
        Column("target_year", w("Năm mục tiêu", "Target year")), Column("comparison", w("So sánh", "Comparison")),
        Column("target", w("Mục tiêu", "Target"), digits=2), Column("latest", w("Mới nhất", "Latest"), digits=2),
        Column("latest_period", w("Năm", "Year")), Column("gap", w("Khoảng cách", "Gap"), digits=2),
        Column("status", w("Trạng thái", "Status")), Column("notes", w("Ghi chú", "Notes"), detail=True)], trows))
    tgt.paragraphs.append(w("Mỗi mục tiêu được đo trên chuỗi nó được đặt; địa bàn chưa có mục tiêu riêng so với mục tiêu quốc gia.",
                            "Each target is measured on the series it was set on; a territory without targets of its own "
                            "is measured against the national ones."))
    # the quarterly path
    path = Section("quarterly", w("Tỷ trọng theo quý", "Share by quarter"))
    q = results(ws, ResultsRequest(indicator="DE_SHARE", territory=None, kind="quarterly", view=view))
    q = q[q.territory.isin(keys) & q.period.str.contains("-Q")]
    lines, qrows = [], []
    if len(q):
        y = q.period.str[:4].astype(int)
        q = q[(y > int(year[:4]) - COMPARE_YEARS) & ((y <= int(year[:4])) | (q.basis == "estimated"))].sort_values("period")
        for k in keys:
            part = q[q.territory == k]
            if len(part):
                flags.append(bool(part.illustrative.any()))
                lines.append(Line(names[k], [chart_x(p) for p in part.period], [float(v) for v in part.value], "solid"))
                qrows += [[names[k], r.period, float(r.value), _basis(r.basis, req.lang)] for r in part.itertuples()]
    if lines:
        path.charts.append(Chart("quarterly", w(f"Tỷ trọng kinh tế số theo quý ({vname})", f"Digital-economy share by quarter ({vname})"),
                                 "% GRDP", lines))
        path.tables.append(Table("quarterly", w("Số quý", "Quarters"), [
            Column("territory", w("Tỉnh, thành phố", "Territory")), Column("period", w("Kỳ", "Period")),
            Column("share", w("Tỷ trọng", "Share"), "% GRDP", 2), Column("basis", w("Cơ sở", "Basis"))], qrows))
    else:
        path.warnings.append(w("Chưa có số quý nào được tính cho các địa bàn này (`kinhteso quarterly`).",
                               "No quarterly figures computed for these territories yet (`kinhteso quarterly`)."))
    illustrative = any(flags)
    return Page("compare", req.lang, w("So sánh: ", "Compare: ") + ", ".join(names.values()), view, year,
                [head, tgt, path], illustrative, DEMO_LABEL[req.lang] if illustrative else "",
                subtitle=w(f"Năm {year}; {vname}", f"{year}; {vname}"), territories=tuple(keys), periods=available)


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


# --- the data page ----------------------------------------------------------------------------------
def templates(ws: Workspace, lang: str = "vi") -> list[dict]:
    """The indicators a submission template can be written for: code, name, unit, frequencies."""
    _w(lang)
    out = []
    for code, ind in sorted(ws.indicators().items()):
        out.append({"code": code, "name": ind.name_vi if lang == "vi" else ind.name_en,
                    "units": ", ".join(ind.units), "frequencies": ", ".join(ind.frequencies)})
    return out


def template_file(ws: Workspace, codes: list[str], fmt: str, folder) -> Any:
    """Write a blank, annotated submission template for ``codes`` in ``folder`` (``xlsx`` or
    ``csv``); the path written (``UNKNOWN_INDICATOR`` for a code the registry lacks)."""
    from pathlib import Path  # noqa: PLC0415

    from kinhteso.pipeline.template import write_template  # noqa: PLC0415

    if fmt not in ("xlsx", "csv"):
        raise UsageError("BAD_FORMAT", f"Định dạng mẫu '{fmt}' không có; dùng xlsx hoặc csv.",
                         f"No template format '{fmt}'; use xlsx or csv.")
    codes = [c.strip().upper() for c in codes if c.strip()]
    out = Path(folder) / f"template_{'_'.join(codes)}.{fmt}"
    return write_template(out, codes, ws.indicators(), fmt=fmt)


# --- tables as files -----------------------------------------------------------------------------------
#: How a suppressed cell is shown in a table (the SDMX OBS_CONF codes: kinhteso.methods.disclosure).
_SUPPRESSED = ("C", "D")


def table_frame(page: Page, key: str) -> pd.DataFrame:
    """A table of the page as a data frame for CSV and XLSX: headers with their units, numbers as
    numbers, and the page's territory, period, view and ``illustrative`` flag on every row."""
    import pandas as pd  # noqa: PLC0415

    t = page.table(key)
    frame = pd.DataFrame([list(r) for r in t.rows], columns=[c.header for c in t.columns])
    w = _w(page.lang)
    extra = {w("Địa bàn", "Territory"): page.territory or ",".join(page.territories) or "34",
             w("Kỳ", "Period"): page.period, w("Cách đo", "View"): VIEW_NAMES[page.view][page.lang != "vi"],
             w("Minh họa", "Illustrative"): page.illustrative}
    for col, val in extra.items():
        if col not in frame.columns:
            frame[col] = val
    return frame


def table_sdmx(page: Page, key: str) -> str:
    """A table of the page as SDMX-CSV 2.0 (written by pysdmx): one observation per row and
    numeric column, in the dataflow ``KINHTESO_DASHBOARD:<PAGE>_<TABLE>(1.0)`` whose dimensions are
    the table's text columns, ``MEASURE`` (the numeric column's code) and ``TIME_PERIOD`` (the
    page's period), with ``UNIT_MEASURE`` and ``ILLUSTRATIVE`` attributes."""
    import re  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    from kinhteso import sdmx  # noqa: PLC0415

    t = page.table(key)
    numeric = [i for i, c in enumerate(t.columns) if c.digits is not None and all(
        v is None or v in _SUPPRESSED or isinstance(v, int | float) and not isinstance(v, bool)
        for v in (r[i] for r in t.rows))]
    text = [i for i in range(len(t.columns)) if i not in numeric]
    ids = [re.sub(r"[^A-Za-z0-9_]", "_", t.columns[i].code).upper() for i in range(len(t.columns))]
    reserved = {"MEASURE", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE", "ILLUSTRATIVE", "STRUCTURE", "STRUCTURE_ID", "ACTION"}
    ids = [f"COL_{x}" if x in reserved else x for x in ids]  # a column named like a component of the structure
    has_period = any(ids[i] == "PERIOD" for i in text)
    dims = tuple(ids[i] for i in text if ids[i] != "PERIOD") + ("MEASURE",)
    structure = sdmx.Structure("KINHTESO_DASHBOARD", dims, ("UNIT_MEASURE", "ILLUSTRATIVE"))
    out = []
    for row in t.rows:
        for i in numeric:
            if row[i] is None or row[i] in _SUPPRESSED:  # a suppressed cell is not published
                continue
            rec = {ids[j]: "" if row[j] is None else str(row[j]) for j in text}
            rec.update({"MEASURE": ids[i], "OBS_VALUE": float(row[i]), "UNIT_MEASURE": t.columns[i].unit or "",
                        "ILLUSTRATIVE": "true" if page.illustrative else "false",
                        "TIME_PERIOD": rec.pop("PERIOD", None) if has_period else (page.period or "")})
            out.append(rec)
    frame = pd.DataFrame(out, columns=list(structure.columns))
    return sdmx.write_csv(structure, f"{page.kind}_{key}".upper(), frame)
