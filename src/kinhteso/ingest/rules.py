"""The validation codes of ingestion, with their messages in Vietnamese and English.

One table drives the messages, ``docs/data-formats.md`` (a test checks every code is documented)
and the tests. Messages are templates filled with the problem's details.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kinhteso.errors import Problem
from kinhteso.i18n import current_lang, fmt_number
from kinhteso.periods import BAD_PERIOD_EN, BAD_PERIOD_VI

__all__ = ["RULES", "problem", "ProblemGroup", "group_problems"]

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
        "Mã ngành '{value}' không có trong VSIC {version} (dùng _T cho tổng){hint}.",
        "Sector '{value}' is not a VSIC {version} code (use _T for the total){hint}.",
    ),
    "BAD_VSIC_VERSION": (
        "Phiên bản VSIC '{value}' không có; dùng 2018 hoặc 2025 (để trống: theo --vsic).",
        "VSIC version '{value}' is unknown; use 2018 or 2025 (empty: as --vsic says).",
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
        "Giá trị {value} của {indicator} nằm ngoài khoảng cho phép: {range}.",
        "Value {value} of {indicator} is outside the allowed range: {range}.",
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
    # --- values exactly as meant (issue 11)
    "AMBIGUOUS_NUMBER": (
        "Giá trị '{value}' không rõ nghĩa: {why}. Cần: {expected}.",
        "Value '{value}' is ambiguous: {why}. Expected: {expected}.",
    ),
    "PERCENT_UNIT": (
        ("Giá trị '{value}' là phần trăm nhưng đơn vị của dòng là {unit}: chỉ đơn vị PCT nhận giá trị phần trăm "
         "(15,3% được lưu là 15,3). Hãy ghi giá trị theo {unit}, không có dấu %, hoặc dùng đơn vị PCT nếu chỉ tiêu cho phép."),
        ("Value '{value}' is a percentage but the row's unit is {unit}: only unit PCT takes percentages "
         "(15.3% is stored as 15.3). Write the value in {unit} without a % sign, or use unit PCT if the indicator allows it."),
    ),
    "FUTURE_PERIOD": (
        ("Kỳ '{value}' bắt đầu ngày {start}, sau hôm nay ({today}): chưa thể có số liệu chính thức (status A) cho kỳ "
         "tương lai. Nếu là dự báo hãy ghi status F, ước tính ghi E; nếu gõ nhầm kỳ hãy sửa kỳ."),
        ("Period '{value}' starts on {start}, after today ({today}): an actual value (status A) cannot exist yet for a "
         "future period. For a forecast set status F, for an estimate E; if the period is a typo, correct it."),
    ),
    "BASIS_MISMATCH": (
        ("Mã địa bàn '{value}' thuộc cơ sở {key_basis} nhưng cột basis ghi '{basis}'. Hãy sửa basis thành {key_basis}, "
         "hoặc ghi mã không kèm cơ sở ('{short}') nếu đúng là cơ sở {basis}."),
        ("Territory key '{value}' is on basis {key_basis} but the basis column says '{basis}'. Set basis to {key_basis}, "
         "or write the code without its basis ('{short}') if basis {basis} is meant."),
    ),
    # --- SDMX-CSV 2.0 files (issue 12; kinhteso.sdmx)
    "SDMX_STRUCTURE": (
        "Dòng SDMX-CSV có STRUCTURE/STRUCTURE_ID '{value}' không nạp được: {detail_vi}.",
        "An SDMX-CSV row with STRUCTURE/STRUCTURE_ID '{value}' cannot be ingested: {detail_en}.",
    ),
    "SDMX_ACTION": (
        "ACTION '{value}' không được nhận: kinhteso nhận I, A, M, R (lưu thành một lần gửi mới; lần gửi mới nhất "
        "của mỗi khóa có hiệu lực). Muốn xóa (D), hãy rút lần gửi bằng `kinhteso retract`.",
        "ACTION '{value}' is not accepted: kinhteso takes I, A, M, R (stored as a new vintage; the latest vintage "
        "of each key wins). To delete (D), withdraw the vintage with `kinhteso retract`.",
    ),
    # --- XLSX read safely (issue 11): bounds are readers.XLSX_MAX_*, listed in docs/data-formats.md
    "FILE_TOO_LARGE": (
        "Tệp vượt giới hạn mà kinhteso đọc: {detail_vi}. Hãy chia tệp thành nhiều tệp nhỏ hơn hoặc lưu thành CSV UTF-8.",
        "The file exceeds what kinhteso reads: {detail_en}. Split it into smaller files or save it as CSV UTF-8.",
    ),
    "XLSX_UNSAFE": (
        "Tệp Excel bị từ chối vì lý do an toàn: {detail_vi}. Hãy mở tệp bằng Excel và lưu lại thành .xlsx (hoặc CSV UTF-8).",
        "The Excel file is refused for safety: {detail_en}. Open it in Excel and save it again as .xlsx (or CSV UTF-8).",
    ),
    "XLSX_WHICH_SHEET": (
        (
            "Không xác định được trang tính chứa số liệu: {detail_vi}. Các trang trong tệp: {sheets}. Hãy đặt tên trang "
            "số liệu là 'data' (hoặc 'số liệu'), hoặc để lại một trang duy nhất có dòng tiêu đề (indicator, territory, …) ở dòng đầu."
        ),
        (
            "Cannot tell which sheet holds the data: {detail_en}. Sheets in the file: {sheets}. Name the data sheet 'data' "
            "(or 'số liệu'), or leave only one sheet whose first row is the header (indicator, territory, …)."
        ),
    ),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:  # a template field the caller did not give
        return ""


def problem(code: str, *, file: str = "", row: int | None = None, column: str = "", **details: object) -> Problem:
    """Build the :class:`Problem` for ``code`` with its messages filled from ``details``.

    A detail ``X_vi`` / ``X_en`` fills the template field ``{X}`` of that language only (e.g.
    ``hint_vi``/``hint_en`` fill ``{hint}``), for details whose words differ between languages.

    >>> problem("OUT_OF_RANGE", value="-5", indicator="GRDP_VA", range_vi="≥ 0", range_en="≥ 0").en
    'Value -5 of GRDP_VA is outside the allowed range: ≥ 0.'
    """
    vi, en = RULES[code]
    fields = {k: ("" if v is None else v) for k, v in details.items()}

    def for_lang(lang: str) -> _Blank:
        suffix = "_" + lang
        return _Blank({**fields, **{k[: -len(suffix)]: v for k, v in fields.items() if k.endswith(suffix)}})

    return Problem(
        code=code,
        vi=vi.format_map(for_lang("vi")),
        en=en.format_map(for_lang("en")),
        file=file,
        row=row,
        column=column,
    )


# --- problems grouped by cause, for the screen ----------------------------------------------
@dataclass(frozen=True)
class ProblemGroup:
    """Problems of one file that share one cause (code, column and message), or, past
    ``group_problems``' ``per_code`` groups of a code and column, the rest of them merged.

    ``count`` rows, the first at ``first_row``; ``rows`` holds the first few rows; ``distinct``
    is how many different messages the group merges (1 for one exact cause)."""

    code: str
    vi: str
    en: str
    file: str
    column: str
    count: int
    first_row: int | None
    rows: tuple[int, ...]
    distinct: int = 1

    def message(self, lang: str | None = None) -> str:
        return self.vi if (lang or current_lang()) == "vi" else self.en

    def located(self, lang: str | None = None) -> str:
        """The line shown on screen: as :meth:`Problem.located` for a single problem, else
        ``file:first [column] CODE: message × 12,000 rows (first at row 2)``."""
        lang = lang or current_lang()
        where = self.file or "-"
        if self.first_row is not None:
            where += f":{self.first_row}"
        if self.column:
            where += f" [{self.column}]"
        if self.count == 1:
            return f"{where} {self.code}: {self.message(lang)}"
        n = fmt_number(self.count, 0, lang=lang)
        first = "" if self.first_row is None else str(self.first_row)
        if self.distinct > 1:
            others = fmt_number(self.distinct, 0, lang=lang)
            if lang == "vi":
                tail = f"… thêm {n} dòng cùng lỗi với {others} giá trị khác (dòng đầu: {first}); mọi dòng có trong tệp .problems.csv"
            else:
                tail = f"… {n} more rows with {others} other values (first at row {first}); every row is in the .problems.csv file"
            return f"{where} {self.code}: {tail}"
        if lang == "vi":
            count = f" × {n} dòng" + (f" (dòng đầu: {first})" if first else "")
        else:
            count = f" × {n} rows" + (f" (first at row {first})" if first else "")
        return f"{where} {self.code}: {self.message(lang)}{count}"


def group_problems(problems: Iterable[Problem], *, per_code: int = 5, sample_rows: int = 5) -> list[ProblemGroup]:
    """One :class:`ProblemGroup` per distinct cause, in order of first appearance, with counts.

    Problems with the same file, code, column and message (both languages) form one group:
    12,000 rows naming the same unknown territory are one line. Beyond ``per_code`` groups of
    the same file, code and column (e.g. 12,000 different out-of-range values), the rest are
    merged into one last group for that code. Every problem is still in ``FILE.problems.csv``:
    this is for the screen.

    >>> from kinhteso.errors import Problem
    >>> ps = [Problem("UNKNOWN_TERRITORY", "x vi", "x en", "f.csv", r, "territory") for r in range(2, 12002)]
    >>> (g,) = group_problems(ps)
    >>> g.count, g.first_row, g.located("en")
    (12000, 2, 'f.csv:2 [territory] UNKNOWN_TERRITORY: x en × 12,000 rows (first at row 2)')
    """
    exact: dict[tuple, list] = {}
    for p in problems:
        key = (p.file, p.code, p.column, p.vi, p.en)
        g = exact.get(key)
        if g is None:
            exact[key] = [p, 1, [p.row] if p.row is not None else []]
        else:
            g[1] += 1
            if len(g[2]) < sample_rows and p.row is not None:
                g[2].append(p.row)
    out: list[ProblemGroup] = []
    merged: dict[tuple, ProblemGroup] = {}
    seen: dict[tuple, int] = {}
    for (file, code, column, vi, en), (p, n, rows) in exact.items():
        kind = (file, code, column)
        seen[kind] = seen.get(kind, 0) + 1
        first = min(rows) if rows else None
        if seen[kind] <= per_code:
            out.append(ProblemGroup(code, vi, en, file, column, n, first, tuple(sorted(rows))))
            continue
        m = merged.get(kind)
        if m is None:
            merged[kind] = ProblemGroup(code, vi, en, file, column, n, first, tuple(sorted(rows)), distinct=1)
        else:
            firsts = [r for r in (m.first_row, first) if r is not None]
            merged[kind] = ProblemGroup(code, m.vi, m.en, file, column, m.count + n, min(firsts) if firsts else None,
                                        tuple(sorted({*m.rows, *rows}))[:sample_rows], distinct=m.distinct + 1)
    out.extend(merged.values())
    # file-level problems first, then in sheet order (the order problems are listed in)
    return sorted(out, key=lambda g: (g.first_row is not None, g.first_row or 0))
