"""The validation codes of ingestion, with their messages in Vietnamese and English.

One table drives the messages, ``docs/data-formats.md`` (a test checks every code is documented)
and the tests. Messages are templates filled with the problem's details.
"""

from __future__ import annotations

from kinhteso.errors import Problem
from kinhteso.periods import BAD_PERIOD_EN, BAD_PERIOD_VI

__all__ = ["RULES", "problem"]

#: code → (Vietnamese template, English template)
RULES: dict[str, tuple[str, str]] = {
    # --- the file as a whole
    "FILE_NOT_FOUND": ("Không tìm thấy tệp {path}.", "File {path} does not exist."),
    "FILE_TYPE": (
        "Tệp không phải CSV hoặc XLSX ({detail}). Hãy lưu dưới dạng CSV UTF-8 hoặc Excel .xlsx.",
        "The file is not CSV or XLSX ({detail}). Save it as CSV UTF-8 or Excel .xlsx.",
    ),
    "FILE_EMPTY": ("Tệp rỗng: không có dòng tiêu đề.", "The file is empty: there is no header row."),
    "NO_DATA_ROWS": ("Tệp có tiêu đề nhưng không có dòng dữ liệu nào.", "The file has a header but no data rows."),
    "ENCODING": (
        "Mã hóa ký tự không hợp lệ: {detail}. Hãy lưu tệp dưới dạng 'CSV UTF-8' (Excel: Lưu thành → CSV UTF-8).",
        "Invalid character encoding: {detail}. Save the file as 'CSV UTF-8' (Excel: Save As → CSV UTF-8).",
    ),
    "XLSX_ENCRYPTED": (
        "Tệp Excel được bảo vệ bằng mật khẩu hoặc là định dạng .xls cũ; hãy bỏ mật khẩu và lưu lại thành .xlsx.",
        "The Excel file is password-protected or in the old .xls format; remove the password and save it as .xlsx.",
    ),
    "XLSX_CORRUPT": ("Tệp Excel bị hỏng, không đọc được: {detail}.", "The Excel file is corrupt and cannot be read: {detail}."),
    "MERGED_HEADER": (
        "Dòng tiêu đề có ô gộp ({detail}); mỗi cột phải có tiêu đề riêng trong một ô.",
        "The header row has merged cells ({detail}); every column needs its own header in one cell.",
    ),
    "CSV_PARSE": ("Không phân tích được CSV: {detail}.", "The CSV cannot be parsed: {detail}."),
    # --- columns
    "DUPLICATE_COLUMN": ("Cột '{name}' xuất hiện nhiều lần trong tiêu đề.", "Column '{name}' appears more than once in the header."),
    "MISSING_COLUMN": (
        "Thiếu cột bắt buộc '{name}'. Các cột cần có: {expected}.",
        "Required column '{name}' is missing. Expected columns: {expected}.",
    ),
    "UNKNOWN_COLUMN": (
        "Cột '{name}' không thuộc định dạng dài hay rộng; cột hợp lệ: {expected}, hoặc các cột kỳ (2024, 2024-Q1, 2024-01).",
        "Column '{name}' belongs to neither the long nor the wide format; valid columns: {expected}, or period columns (2024, 2024-Q1, 2024-01).",
    ),
    # --- codes
    "UNKNOWN_INDICATOR": (
        "Chỉ tiêu '{value}' không có trong danh mục{hint}.",
        "Indicator '{value}' is not in the registry{hint}.",
    ),
    "UNKNOWN_TERRITORY": (
        "Không nhận ra địa bàn '{value}' trên cơ sở {basis}{hint}.",
        "Territory '{value}' is not known on basis {basis}{hint}.",
    ),
    "BAD_BASIS": (
        "Cột basis phải là 63 hoặc 34 cho tỉnh/thành phố và để trống cho VN; nhận được '{value}'.",
        "Column basis must be 63 or 34 for a province and empty for VN; got '{value}'.",
    ),
    "UNKNOWN_SECTOR": (
        "Mã ngành '{value}' không có trong VSIC 2018 (dùng _T cho tổng){hint}.",
        "Sector '{value}' is not a VSIC 2018 code (use _T for the total){hint}.",
    ),
    "SECTOR_NOT_ALLOWED": (
        "Chỉ tiêu {indicator} không nhận mã ngành '{value}': {expected}.",
        "Indicator {indicator} does not take sector '{value}': {expected}.",
    ),
    # the same message as a bad --period option: one list of the accepted forms (kinhteso.periods)
    "BAD_PERIOD": (BAD_PERIOD_VI, BAD_PERIOD_EN),
    "FREQUENCY_NOT_ALLOWED": (
        "Chỉ tiêu {indicator} không có số liệu theo tần suất của kỳ '{value}' (cho phép: {expected}).",
        "Indicator {indicator} is not collected at the frequency of period '{value}' (allowed: {expected}).",
    ),
    "TERRITORY_PERIOD": (
        "Địa bàn {territory} (cơ sở 63 tỉnh) không còn tồn tại từ 01/7/2025; kỳ '{value}' phải dùng mã trên cơ sở 34 ({successor}).",
        "Territory {territory} (63-province basis) no longer exists from 2025-07-01; period '{value}' must use the 34 basis ({successor}).",
    ),
    # --- values
    "EMPTY_VALUE": ("Ô giá trị để trống.", "The value cell is empty."),
    "BAD_VALUE": ("Giá trị '{value}' không phải là số{hint}.", "Value '{value}' is not a number{hint}."),
    "OUT_OF_RANGE": (
        "Giá trị {value} của {indicator} nằm ngoài khoảng cho phép [{lo}; {hi}].",
        "Value {value} of {indicator} is outside the allowed range [{lo}, {hi}].",
    ),
    "BAD_UNIT": (
        "Đơn vị '{value}' không dùng cho {indicator}; đơn vị cho phép: {expected}.",
        "Unit '{value}' is not allowed for {indicator}; allowed units: {expected}.",
    ),
    "BAD_PRICE_BASIS": (
        "Loại giá '{value}' không hợp lệ; dùng current (giá hiện hành) hoặc constant_2010 (giá so sánh 2010).",
        "Price basis '{value}' is not valid; use current or constant_2010.",
    ),
    "BAD_STATUS": (
        "Trạng thái '{value}' không hợp lệ; dùng A (chính thức), P (sơ bộ), E (ước tính), F (dự báo), I (ước lượng bù).",
        "Status '{value}' is not valid; use A (normal), P (provisional), E (estimated), F (forecast), I (imputed).",
    ),
    "DUPLICATE_KEY": (
        "Trùng khóa với dòng {first}: cùng chỉ tiêu, địa bàn, ngành, kỳ và loại giá.",
        "Duplicate key of row {first}: same indicator, territory, sector, period and price basis.",
    ),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:  # a template field the caller did not give
        return ""


def problem(code: str, *, file: str = "", row: int | None = None, column: str = "", **details: object) -> Problem:
    """Build the :class:`Problem` for ``code`` with its messages filled from ``details``."""
    vi, en = RULES[code]
    fields = _Blank({k: ("" if v is None else v) for k, v in details.items()})
    vi_hint = fields.get("hint_vi", "")
    en_hint = fields.get("hint_en", "")
    return Problem(
        code=code,
        vi=vi.format_map(_Blank({**fields, "hint": vi_hint})),
        en=en.format_map(_Blank({**fields, "hint": en_hint})),
        file=file,
        row=row,
        column=column,
    )
