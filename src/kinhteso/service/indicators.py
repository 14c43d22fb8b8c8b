"""Indicator sheets: show one, list them (or the Decision 1354 list), export all as XLSX or Markdown.

``kinhteso indicator show|list|export`` and ``GET /api/v1/indicators/{code}`` call these; the
sheets are reference data (:mod:`kinhteso.reference.indicator_sheets`), so no workspace is read.
:func:`sheets_markdown` is the one Markdown rendering: ``indicator export --format md`` writes it
and ``docs/indicators.md`` is it (``scripts/gen_indicator_docs.py``; a test checks it is current).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinhteso.errors import UsageError, near_hint
from kinhteso.reference.indicator_sheets import (
    LEVELS,
    Sheet,
    decision_1354,
    decision_1354_levels,
    documents,
    load_sheets,
)

if TYPE_CHECKING:
    from kinhteso.workspace import Workspace

__all__ = ["FIELD_LABELS", "EXPORT_FORMATS", "IndicatorShowRequest", "show_indicator", "IndicatorListRequest",
           "IndicatorListResult", "list_indicators", "IndicatorExportRequest", "IndicatorExportResult",
           "export_indicators", "sheets_markdown", "sheet_rows"]

#: Field → (vi, en) label, in the order a sheet is shown.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "name": ("Tên chỉ tiêu", "Name"),
    "unit": ("Đơn vị tính", "Unit"),
    "definition": ("Khái niệm", "Definition"),
    "formula": ("Phương pháp tính", "Formula"),
    "kinhteso_formula": ("Công thức kinhteso", "kinhteso formula"),
    "breakdowns": ("Phân tổ chủ yếu", "Main breakdowns"),
    "periodicity": ("Kỳ công bố", "Periodicity"),
    "source_agency": ("Cơ quan công bố", "Source agency"),
    "responsible_unit": ("Cơ quan chịu trách nhiệm thu thập, tổng hợp", "Responsible unit"),
    "release_calendar": ("Lịch công bố", "Release calendar"),
    "legal_basis": ("Căn cứ pháp lý", "Legal basis"),
    "data_sources": ("Nguồn số liệu", "Data sources"),
    "notes": ("Ghi chú", "Notes"),
    "decision_1354": ("Bộ chỉ tiêu QĐ 1354/QĐ-BTTTT", "Decision 1354/QĐ-BTTTT list"),
    "sources": ("Nguồn của phiếu", "Sources of the sheet"),
}
EXPORT_FORMATS = ("xlsx", "md")
_NOT_COMPUTED = ("kinhteso không tính chỉ tiêu này (nhận số được gửi)", "not computed by kinhteso (figures are submitted)")
_NO_DOC = ("không có văn bản", "no document")
_MISSING = ("chưa có trong phiếu", "not yet in the sheet")


def _lang_index(lang: str) -> int:
    return 0 if lang == "vi" else 1


def _unknown(code: str, known: list[str]) -> UsageError:
    near = difflib.get_close_matches(str(code).strip().upper(), known, n=3, cutoff=0.5)
    hint_vi, hint_en = near_hint(near)
    return UsageError(
        "UNKNOWN_INDICATOR",
        f"Không có phiếu chỉ tiêu cho mã {code!r} (chỉ tiêu trong danh mục và chỉ tiêu dẫn xuất; xem "
        f"'kinhteso indicator list').{hint_vi}",
        f"No indicator sheet for the code {code!r} (registry and derived indicators; see "
        f"'kinhteso indicator list').{hint_en}",
        indicator=str(code), suggestions=near)


# --- show -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorShowRequest:
    code: str


def show_indicator(req: IndicatorShowRequest, ws: Workspace | None = None) -> Sheet:
    """The sheet of one indicator (the code is read in upper case); ``UNKNOWN_INDICATOR`` with the
    nearest codes when there is none. With a workspace, its own indicators (``indicators.yaml``)
    are known too: their sheets hold the name and unit and list every other field as missing."""
    sheets = load_sheets(ws.indicators() if ws is not None else None)
    key = str(req.code).strip().upper()
    if key not in sheets:
        raise _unknown(req.code, list(sheets))
    return sheets[key]


# --- list -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorListRequest:
    level: str | None = None   #: None: every indicator; a level: the Decision 1354 list at that level


@dataclass(frozen=True)
class IndicatorListResult:
    level: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)


def _places(sheet: Sheet, lang: str) -> str:
    names = decision_1354_levels()
    return "; ".join(f"{names[e.level][1].get(lang)} {e.no}" for e in sheet.decision_1354)


def list_indicators(req: IndicatorListRequest) -> IndicatorListResult:
    """Every indicator with its sheet's headline fields (both languages), or, with ``level``, the
    Decision 1354/QĐ-BTTTT list at that level: number, name, kinhteso indicator, status."""
    if req.level is not None and req.level not in LEVELS:
        raise UsageError("UNKNOWN_LEVEL", f"Cấp '{req.level}' không có; dùng một trong {', '.join(LEVELS)}.",
                         f"No level '{req.level}'; use one of {', '.join(LEVELS)}.")
    if req.level is not None:
        rows = [{"level": e.level, "no": e.no, "name_vi": e.name.vi, "name_en": e.name.en,
                 "indicator": e.indicator or "", "status": e.status} for e in decision_1354(req.level)]
        return IndicatorListResult(req.level, rows)
    rows = []
    for s in load_sheets().values():
        rows.append({"code": s.code, "kind": s.kind, "name_vi": s.name.vi, "name_en": s.name.en,
                     "unit": ",".join(c for c, _ in s.units), "periodicity_vi": s.periodicity.vi,
                     "periodicity_en": s.periodicity.en, "source_agency_vi": s.source_agency.vi,
                     "source_agency_en": s.source_agency.en, "decision_1354_vi": _places(s, "vi"),
                     "decision_1354_en": _places(s, "en"), "complete": s.complete})
    return IndicatorListResult(None, rows)


# --- rendering a sheet as rows ---------------------------------------------------------------------


def _legal_lines(sheet: Sheet, lang: str) -> list[str]:
    i = _lang_index(lang)
    out = []
    for r in sheet.legal_basis:
        head = (f"{r.doc.label()} {r.doc.title.get(lang)}" if r.doc else _NO_DOC[i])
        out.append(f"{head}: {r.applies.get(lang)}")
    return out


def sheet_rows(sheet: Sheet, lang: str) -> list[tuple[str, str]]:
    """(label, text) for every field of a sheet in ``lang``; a field the sheet lacks says so; the
    legal basis is one line per document, joined by newlines."""
    i = _lang_index(lang)
    miss = _MISSING[i]

    def text(f: str) -> str:
        return miss if f in sheet.missing else getattr(sheet, f).get(lang)

    rows = [
        ("name", sheet.name.get(lang)),
        ("unit", sheet.unit_text(lang)),
        ("definition", text("definition")),
        ("formula", text("formula")),
        ("kinhteso_formula", sheet.kinhteso_formula or _NOT_COMPUTED[i]),
        ("breakdowns", miss if "breakdowns" in sheet.missing else sheet.breakdown_text(lang)),
        *[(f, text(f)) for f in ("periodicity", "source_agency", "responsible_unit", "release_calendar")],
        ("legal_basis", miss if "legal_basis" in sheet.missing else "\n".join(_legal_lines(sheet, lang))),
        ("data_sources", text("data_sources")),
        ("notes", text("notes")),
        ("decision_1354", _places(sheet, lang) or "—"),
        ("sources", miss if "sources" in sheet.missing else "; ".join(sheet.sources)),
    ]
    return [(FIELD_LABELS[f][i], v) for f, v in rows]


# --- Markdown ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def sheets_markdown() -> str:
    """Every sheet, the Decision 1354 list and the legal documents as one Markdown document, in
    Vietnamese and English side by side (deterministic: the same data give the same text)."""
    sheets = load_sheets()
    names = decision_1354_levels()
    out = [
        "# Phiếu chỉ tiêu / Indicator sheets",
        "",
        "Generated by `kinhteso indicator export --format md` (`scripts/gen_indicator_docs.py`; a test checks",
        "that it is current) from `src/kinhteso/reference/data/indicator_sheets.yaml`, the registry",
        "(`indicators.yaml`) and the derived indicators. Each sheet holds the content Decree 94/2022/NĐ-CP",
        "(Article 2) asks of a statistical indicator: concept and method, main breakdowns, periodicity, data",
        "sources and the responsible agency; plus the publishing agency, the release calendar, the legal",
        "basis (numbers and dates), kinhteso's own formula where it computes the indicator, and the sources",
        "of the sheet. What the sources do not say is written as such.",
        "",
        "## Danh mục / Contents",
        "",
        "| Mã / code | Tên / name (vi) | Name (en) | Đơn vị / unit | QĐ 1354 |",
        "|---|---|---|---|---|",
    ]
    for s in sheets.values():
        flag = "" if s.complete else " ⚠"
        out.append(f"| [`{s.code}`](#{s.code.lower()}){flag} | {_cell(s.name.vi)} | {_cell(s.name.en)} | "
                   f"{_cell(', '.join(c for c, _ in s.units))} | {_cell(_places(s, 'en') or '—')} |")
    out += ["", "## Bộ chỉ tiêu QĐ 1354/QĐ-BTTTT / The Decision 1354/QĐ-BTTTT list", "",
            "23 indicators in three levels (6 national, 5 ministry/sector, 12 provincial); entries the sources",
            "do not name are marked `not_retrievable`, not guessed.", ""]
    for level in LEVELS:
        count, label = names[level]
        out += [f"### {label.vi} / {label.en} ({count})", "", "| # | Tên (vi) | Name (en) | kinhteso | status |",
                "|---|---|---|---|---|"]
        for e in decision_1354(level):
            ind = f"`{e.indicator}`" if e.indicator else "—"
            out.append(f"| {e.no} | {_cell(e.name.vi)} | {_cell(e.name.en)} | {ind} | {e.status} |")
        out.append("")
    out += ["## Văn bản pháp lý / Legal documents", "",
            ("| id | Số / number | Ngày / date | Cơ quan / issuer | Tên (vi) | Title (en) | Nguồn / source |"),
            "|---|---|---|---|---|---|---|"]
    for d in documents().values():
        out.append(f"| `{d.id}` | {_cell(d.number)} | {d.date} | {_cell(d.issuer.vi)} / {_cell(d.issuer.en)} | "
                   f"{_cell(d.title.vi)} | {_cell(d.title.en)} | {_cell(d.url)} |")
    out.append("")
    for s in sheets.values():
        kind = "chỉ tiêu dẫn xuất / derived indicator" if s.kind == "derived" else "danh mục / registry"
        out += [f"## {s.code}", "", f"**{_cell(s.name.vi)}** / **{_cell(s.name.en)}** ({kind})", ""]
        if not s.complete:
            out += [f"⚠ Phiếu chưa đủ / incomplete sheet: {', '.join(s.missing)}", ""]
        out += ["| | Tiếng Việt | English |", "|---|---|---|"]
        for (label_vi, vi), (label_en, en) in zip(sheet_rows(s, "vi"), sheet_rows(s, "en")):
            out.append(f"| {_cell(label_vi)} / {_cell(label_en)} | {_cell(vi)} | {_cell(en)} |")
        out.append("")
    return "\n".join(out)


# --- XLSX -------------------------------------------------------------------------------------------


def _workbook():
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    from kinhteso.safe_io import safe_cell  # noqa: PLC0415

    wrap, bold = Alignment(wrap_text=True, vertical="top"), Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")

    def table(ws, header: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        ws.append([safe_cell(h) for h in header])
        for row in rows:
            ws.append([safe_cell(v) for v in row])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
        for row in ws.iter_rows():
            for cell in row:
                cell.alignment = wrap
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = w
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions

    wb = Workbook()
    ws = wb.active
    ws.title = "Phiếu - Sheets"
    fields = [f for f in FIELD_LABELS if f != "name"]
    header = ["Mã / code", "Loại / kind", "Tên chỉ tiêu (vi)", "Name (en)"]
    for f in fields:
        vi, en = FIELD_LABELS[f]
        header += [f"{vi} (vi)", f"{en} (en)"] if f != "kinhteso_formula" else [f"{vi} / {en}"]
    header.append("Phiếu đủ / complete")
    rows = []
    for s in load_sheets().values():
        vi, en = dict(sheet_rows(s, "vi")), dict(sheet_rows(s, "en"))
        row: list[Any] = [s.code, s.kind, s.name.vi, s.name.en]
        for f in fields:
            lv, le = FIELD_LABELS[f]
            row += [vi[lv], en[le]] if f != "kinhteso_formula" else [s.kinhteso_formula or "—"]
        row.append("yes" if s.complete else "no: " + ", ".join(s.missing))
        rows.append(row)
    widths = [24, 10, 36, 36] + [(40 if f != "kinhteso_formula" else 50) for f in fields for _ in
                                 ((0,) if f == "kinhteso_formula" else (0, 1))] + [14]
    table(ws, header, rows, widths)

    names = decision_1354_levels()
    ws2 = wb.create_sheet("QĐ 1354")
    table(ws2, ["Cấp / level", "Số / no", "Tên chỉ tiêu (vi)", "Name (en)", "Mã kinhteso / code", "Trạng thái / status"],
          [[f"{names[e.level][1].vi} / {names[e.level][1].en}", e.no, e.name.vi, e.name.en, e.indicator or "—",
            e.status] for e in decision_1354()], [26, 8, 60, 60, 26, 16])

    ws3 = wb.create_sheet("Văn bản - Documents")
    table(ws3, ["id", "Số / number", "Ngày / date", "Cơ quan (vi)", "Issuer (en)", "Tên (vi)", "Title (en)",
                "Nguồn / source"],
          [[d.id, d.number, d.date, d.issuer.vi, d.issuer.en, d.title.vi, d.title.en, d.url]
           for d in documents().values()], [14, 20, 12, 30, 30, 60, 60, 60])
    return wb


@dataclass(frozen=True)
class IndicatorExportRequest:
    fmt: str     #: xlsx or md
    out: Path


@dataclass(frozen=True)
class IndicatorExportResult:
    path: Path
    fmt: str
    sheets: int


def export_indicators(req: IndicatorExportRequest) -> IndicatorExportResult:
    """Write every sheet to ``req.out`` (atomically): an XLSX workbook (one row per indicator, both
    languages, frozen header, wrapped text; the Decision 1354 list and the legal documents on their
    own sheets) or the Markdown document of :func:`sheets_markdown`."""
    from kinhteso.safe_io import save_workbook_atomic, write_text_atomic  # noqa: PLC0415

    if req.fmt not in EXPORT_FORMATS:
        raise UsageError("BAD_FORMAT", f"Định dạng '{req.fmt}' không có; dùng {', '.join(EXPORT_FORMATS)}.",
                         f"No format '{req.fmt}'; use {', '.join(EXPORT_FORMATS)}.")
    n = len(load_sheets())
    if req.fmt == "md":
        path = write_text_atomic(Path(req.out), sheets_markdown() + "\n")
    else:
        path = save_workbook_atomic(_workbook(), Path(req.out))
    return IndicatorExportResult(Path(path), req.fmt, n)
