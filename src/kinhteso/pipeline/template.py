"""Blank, annotated submission templates (XLSX or CSV) that ingest cleanly once filled.

XLSX: the sheet ``data`` has the long-format header (a bilingual comment on every header cell,
drop-down lists for basis, unit, price basis and status); ``huong_dan`` (guide) explains every
column and lists the requested indicators with their units, ranges and frequencies; ``dia_ban``
lists the territory codes of both bases. CSV: the same header, preceded by ``#`` note lines that
ingestion skips.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kinhteso.errors import UsageError
from kinhteso.ingest.load import LONG_OPTIONAL, LONG_REQUIRED, STATUSES
from kinhteso.reference import territories as terr
from kinhteso.reference.indicators import Indicator
from kinhteso.safe_io import safe_cell, save_workbook_atomic, write_text_atomic

__all__ = ["write_template", "COLUMN_NOTES"]

#: column → (Vietnamese note, English note)
COLUMN_NOTES: dict[str, tuple[str, str]] = {
    "indicator": ("Mã chỉ tiêu, ví dụ GRDP_VA (xem trang huong_dan).", "Indicator code, e.g. GRDP_VA (see sheet huong_dan)."),
    "territory": ("Mã tỉnh GSO (01, 31, 79…) hoặc tên tỉnh; VN cho cả nước.", "GSO province code (01, 31, 79…) or its name; VN for the nation."),
    "basis": ("63 (trước 01/7/2025) hoặc 34 (ranh giới mới); để trống cho VN.", "63 (before 2025-07-01) or 34 (new boundaries); empty for VN."),
    "sector": ("Mã ngành VSIC 2018 (C, 26, 4651…) hoặc VSIC 2025 (theo cột vsic_version); _T là tổng.",
               "VSIC 2018 code (C, 26, 4651…) or VSIC 2025 (as the vsic_version column says); _T for the total."),
    "period": ("Kỳ: 2024 (năm), 2024-Q1 (quý), 2024-01 (tháng).", "Period: 2024 (year), 2024-Q1 (quarter), 2024-01 (month)."),
    "value": ("Giá trị số, dấu chấm thập phân (hoặc nạp với --decimal ,).", "Numeric value, decimal point (or ingest with --decimal ,)."),
    "unit": ("Đơn vị: VND_BN (tỷ đồng), PCT (%), RATIO (0–1), COUNT, PERSONS, TEU, INDEX01 (điểm 0–1), "
             "INDEX (chỉ số, năm gốc = 100).",
             "Unit: VND_BN (billion đồng), PCT (%), RATIO (0–1), COUNT, PERSONS, TEU, INDEX01 (score 0–1), "
             "INDEX (index, base year = 100)."),
    "price_basis": ("current (giá hiện hành, mặc định) hoặc constant_2010 (giá so sánh 2010).",
                    "current (default) or constant_2010 (constant 2010 prices)."),
    "status": ("A chính thức (mặc định), P sơ bộ, E ước tính, F dự báo, I ước lượng bù.",
               "A normal (default), P provisional, E estimated, F forecast, I imputed."),
    "note": ("Ghi chú tự do (không lưu vào số liệu).", "Free note (not stored with the value)."),
    "vsic_version": ("Phiên bản VSIC của mã ngành: 2018 (mặc định) hoặc 2025 (QĐ 36/2025/QĐ-TTg).",
                     "VSIC version of the sector code: 2018 (default) or 2025 (Decision 36/2025/QĐ-TTg)."),
}
_COLUMNS = [*LONG_REQUIRED, *LONG_OPTIONAL]


def _check(codes: list[str], registry: dict[str, Indicator]) -> list[Indicator]:
    unknown = [c for c in codes if c not in registry]
    if unknown:
        raise UsageError(
            "UNKNOWN_INDICATOR",
            f"Chỉ tiêu không có trong danh mục: {', '.join(unknown)}. Có: {', '.join(sorted(registry))}.",
            f"Unknown indicator(s): {', '.join(unknown)}. Known: {', '.join(sorted(registry))}.",
        )
    return [registry[c] for c in codes]


def _one_line(text: str) -> str:
    """A note kept on its ``#`` line (a name from a workspace's indicators.yaml may hold a newline)."""
    return " ".join(text.split())


def _indicator_lines(ind: Indicator) -> tuple[str, str]:
    rng = f"[{'' if ind.min is None else f'{ind.min:g}'}; {'' if ind.max is None else f'{ind.max:g}'}]"
    vi = (f"{ind.code}: {ind.name_vi}. Đơn vị: {', '.join(ind.units)}; khoảng {rng}; tần suất {', '.join(ind.frequencies)}; "
          f"ngành: {ind.sector_kind}.")
    en = (f"{ind.code}: {ind.name_en}. Units: {', '.join(ind.units)}; range {rng}; frequencies {', '.join(ind.frequencies)}; "
          f"sector: {ind.sector_kind}.")
    return vi, en


def write_template(path: Path, codes: list[str], registry: dict[str, Indicator], *, fmt: str = "xlsx") -> Path:
    """Write a blank template for ``codes`` to ``path`` (``fmt`` ``xlsx`` or ``csv``)."""
    inds = _check(codes, registry)
    path = Path(path)
    if fmt == "csv":
        lines = ["# kinhteso — mẫu nộp số liệu (định dạng dài) / submission template (long format)",
                 "# Dòng bắt đầu bằng # là ghi chú, được bỏ qua khi nạp / lines starting with # are notes, skipped on ingestion"]
        for col in _COLUMNS:
            vi, en = COLUMN_NOTES[col]
            lines.append(f"# {col}: {vi} / {en}")
        for ind in inds:
            vi, en = _indicator_lines(ind)
            lines += [f"# {_one_line(vi)}", f"# {_one_line(en)}"]
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator="\n").writerow([safe_cell(c) for c in _COLUMNS])
        write_text_atomic(path, "\n".join(lines) + "\n" + buf.getvalue())
        return path
    if fmt != "xlsx":
        raise UsageError("BAD_FORMAT", f"Định dạng '{fmt}' không hỗ trợ; dùng xlsx hoặc csv.",
                         f"Format '{fmt}' is not supported; use xlsx or csv.")
    _write_xlsx(path, inds)
    return path


def _write_xlsx(path: Path, inds: list[Indicator]) -> None:
    from openpyxl import Workbook  # noqa: PLC0415
    from openpyxl.comments import Comment  # noqa: PLC0415
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415
    from openpyxl.worksheet.datavalidation import DataValidation  # noqa: PLC0415

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, col in enumerate(_COLUMNS, start=1):
        c = ws.cell(row=1, column=j, value=col)
        c.font, c.fill = bold, fill
        vi, en = COLUMN_NOTES[col]
        c.comment = Comment(f"{vi}\n—\n{en}", "kinhteso", width=320, height=120)
        ws.column_dimensions[c.column_letter].width = max(12, len(col) + 4)
    ws.freeze_panes = "A2"
    letters = {col: ws.cell(row=1, column=j).column_letter for j, col in enumerate(_COLUMNS, start=1)}
    lists = {
        "indicator": [i.code for i in inds],
        "basis": ["63", "34"],
        "unit": sorted({u for i in inds for u in i.units}),
        "price_basis": ["current", "constant_2010"],
        "status": list(STATUSES),
    }
    for col, values in lists.items():
        # a list formula is one quoted string: a quote inside is doubled, as Excel escapes it
        dv = DataValidation(type="list", formula1='"' + ",".join(v.replace('"', '""') for v in values) + '"',
                            allow_blank=True)
        dv.error = "Giá trị không hợp lệ / invalid value"
        ws.add_data_validation(dv)
        dv.add(f"{letters[col]}2:{letters[col]}100000")
    # Periods and codes stay text so Excel does not turn 2024-01 into a date or 01 into 1.
    for col in ("territory", "basis", "sector", "period"):
        for row in range(2, 1002):
            ws[f"{letters[col]}{row}"].number_format = "@"
    guide = wb.create_sheet("huong_dan")
    guide.append(["cột / column", "hướng dẫn", "guide"])
    for col in _COLUMNS:
        guide.append([safe_cell(v) for v in (col, *COLUMN_NOTES[col])])
    guide.append([])
    guide.append(["chỉ tiêu / indicator", "mô tả", "description"])
    for ind in inds:
        guide.append([safe_cell(v) for v in (ind.code, *_indicator_lines(ind))])
    for row in guide.iter_rows(min_row=1, max_row=1):
        for c in row:
            c.font = bold
    for letter, width in (("A", 22), ("B", 80), ("C", 80)):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows():
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    places = wb.create_sheet("dia_ban")
    places.append(["basis", "territory", "tên / name (vi)", "name (en)", "hiệu lực / valid"])
    for t in terr.territories():
        valid = f"{t.valid_from or ''} – {t.valid_to or ''}"
        places.append([safe_cell(v) for v in ("" if t.basis is None else str(t.basis), t.code, t.name_vi, t.name_en, valid)])
    for letter, width in (("A", 8), ("B", 10), ("C", 28), ("D", 28), ("E", 26)):
        places.column_dimensions[letter].width = width
    save_workbook_atomic(wb, path)
