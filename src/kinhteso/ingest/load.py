"""Ingest one file: read → validate → normalise → store as one vintage, or refuse it whole.

The file is staged in DuckDB as text (:class:`kinhteso.store.Stage`). The few *distinct* codes
of each key column are resolved here, in Python, against the reference data (territory names and
codes on both bases, VSIC, the indicator registry, periods); the resolved mappings go back to the
stage as small data frames, which finds the rows of every problem and normalises the rows, and
when there is none the store copies them in as one vintage, in one transaction. So a
million-row file is validated at DuckDB's speed and every problem still names its row and
column. This module hands the stage data (column names, mappings, the decimal mark, the merger
date, limits) and writes no SQL: the store is the only code that speaks it.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
from concurrent.futures import ThreadPoolExecutor
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kinhteso.domain import MERGER_DATE, OBS_STATUSES, VSIC2025_FROM
from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.ingest.readers import prepare, read_header
from kinhteso.ingest.rules import problem
from kinhteso.i18n import tr
from kinhteso.periods import parse_period
from kinhteso.progress import Progress, or_null
from kinhteso.reference import territories as terr
from kinhteso.reference import vsic
from kinhteso.reference.indicators import Indicator, sector_codes
from kinhteso.store import AlreadyStored, Stage, StagingError, Store, VintageInfo

__all__ = [
    "CheckedFile",
    "IngestResult",
    "check_file",
    "commit_checked",
    "ingest_file",
    "parse_period",
    "LONG_REQUIRED",
    "LONG_OPTIONAL",
    "MERGER_DATE",
    "MAX_PROBLEMS",
]

LONG_REQUIRED = ("indicator", "territory", "basis", "sector", "period", "value", "unit")
LONG_OPTIONAL = ("price_basis", "status", "note", "vsic_version")
#: ``--vsic`` values: a VSIC version for the rows without ``vsic_version``, or ``auto`` (by period,
#: :data:`~kinhteso.domain.VSIC2025_FROM`); none: VSIC 2018, with a note for later periods.
VSIC_CHOICES = ("2018", "2025", "auto")
#: The steps of one file's ingestion, for ``progress``: reading, validating, checked, writing.
INGEST_STEPS = 4
#: Columns that kinhteso's own exports carry: accepted and not stored, so an export can be ingested again.
EXPORT_ONLY = ("vintage", "source", "illustrative", "backcast", "derived_from")
WIDE_REQUIRED = ("indicator", "territory", "basis", "sector", "unit")
PRICE_BASES = {"current": "current", "constant_2010": "constant_2010", "": "current",
               "hien_hanh": "current", "ss2010": "constant_2010", "constant": "constant_2010"}
STATUSES = OBS_STATUSES
# MERGER_DATE (kinhteso.domain) and parse_period (kinhteso.periods) stay importable from here.
#: At most this many problems are listed for one file (the count of the rest is reported).
MAX_PROBLEMS = 100_000
#: "Did you mean" hints are computed for at most this many distinct unknown values of a column
#: (the closest-name search costs a few milliseconds each; 100,000 made-up names would take
#: minutes); the values beyond get their problem without a hint.
MAX_HINTS = 200

@dataclass
class IngestResult:
    """What one ingestion did."""

    file: str
    vintage_id: int
    n_rows: int
    already_stored: bool = False
    layout: str = "long"
    empty_cells_skipped: int = 0
    backcast_rows: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)  #: (vi, en) remarks on how the file was read
    #: a record file read through an adapter (``ingest --adapter``): dataset, adapter, records read,
    #: set aside by reason, stored already, and the indicators recomputed from it
    records: dict | None = None


def _norm_column(name: str) -> str:
    n = name.strip().lower().replace(" ", "_")
    p = parse_period(name)
    return p.code if p else n


@dataclass
class CheckedFile:
    """A file validated whole and staged, ready for :func:`commit_checked` (the two halves of
    :func:`ingest_file`). Picklable: a server checks files in worker processes
    (:func:`check_file` needs no store) and commits them in its own.

    ``known_vintage``: the same bytes are stored already (nothing staged, ``stage_path`` None).
    ``keys``: the distinct normalised ``indicator, territory`` pairs the file holds."""

    file: str
    original_name: str
    sha256: str
    stage_path: Path | None = None
    content_sha256: str = ""
    layout: str = "long"
    empty_cells_skipped: int = 0
    backcast_rows: int = 0
    keys: pd.DataFrame | None = None
    known_vintage: int | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    def discard(self) -> None:
        """Remove the staged rows (after a commit, or when the file is not committed)."""
        if self.stage_path is not None:
            Stage.sealed(self.stage_path).close()
            self.stage_path = None


def ingest_file(
    store: Store,
    path: Path,
    *,
    source: str,
    indicators: dict[str, Indicator],
    workdir: Path,
    decimal: str = ".",
    illustrative: bool = False,
    received_at: dt.datetime | None = None,
    progress: Progress | None = None,
    check: Callable[[pd.DataFrame], None] | None = None,
    vsic: str | None = None,
) -> IngestResult:
    """Validate ``path`` and store it as one vintage, or raise :class:`InputRejected` listing every problem.

    ``check``, when given, is called once the file is valid and before anything is stored, with
    the distinct normalised ``indicator, territory`` pairs the file holds; whatever it raises
    (the HTTP API's 403 for a row outside the member's grant) refuses the file, nothing stored.
    ``vsic``: the VSIC version of the rows without a ``vsic_version`` (:data:`VSIC_CHOICES`).
    ``progress`` (:mod:`kinhteso.progress`): :data:`INGEST_STEPS` steps, reading to stored."""
    checked = check_file(path, indicators=indicators, workdir=workdir, decimal=decimal,
                         settings=store.settings, progress=progress, vsic=vsic,
                         known=lambda sha: store.vintage_by_sha(sha, source=source))
    return commit_checked(store, checked, source=source, illustrative=illustrative, received_at=received_at,
                          progress=progress, check=check)


def check_file(
    path: Path,
    *,
    indicators: dict[str, Indicator],
    workdir: Path,
    decimal: str = ".",
    settings: dict[str, object] | None = None,
    progress: Progress | None = None,
    known: Callable[[str], int | None] | None = None,
    vsic: str | None = None,
) -> CheckedFile:
    """The first half of :func:`ingest_file`: read, validate whole and normalise ``path`` in a
    scratch database of ``workdir`` (``settings``: its DuckDB limits), without the store; raise
    :class:`InputRejected` listing every problem. ``known(sha256)``, when given, names a vintage
    already holding these very bytes: then nothing is validated or staged."""
    say = or_null(progress)
    say(0, INGEST_STEPS, tr("đọc tệp", "reading"))
    if vsic is not None:
        # the same bytes read in another VSIC version are other data: the rows decide (content digest)
        known = None
    prepared = prepare(Path(path), workdir=workdir)
    name = str(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the file's hash is computed while DuckDB stages (and checks) the file, in a scratch
        # database: the store itself is opened for writing only to commit
        pending = pool.submit(prepared.verify)
        stage = Stage(Path(workdir) / f"stage-{uuid.uuid4().hex}.duckdb", settings=settings)
        sealed = False
        try:
            checked = _check(stage, prepared, pending, name=name, indicators=indicators, workdir=workdir,
                             decimal=decimal, say=say, known=known, vsic=vsic)
            if checked.known_vintage is None:
                checked.stage_path = stage.seal()
                sealed = True
            return checked
        finally:
            if not sealed:
                stage.close()
            try:
                pending.result()
            except InputRejected:
                pass
            prepared.cleanup()


def _check(stage: Stage, prepared, pending, *, name: str, indicators: dict[str, Indicator], workdir: Path,
           decimal: str, say, known, vsic: str | None = None) -> CheckedFile:
    try:
        header = read_header(prepared)
    except UnicodeDecodeError:
        prepared.check_encoding()  # raises the ENCODING problem with its byte and line
        raise
    job = _Job(stage, name, indicators, decimal, xlsx=prepared.has_row_column and prepared.layout != "sdmx",
               vsic=vsic)
    layout = job.check_header(header, has_row=prepared.has_row_column)

    def stage_file() -> None:
        stage.stage_csv(prepared.csv_path, delimiter=prepared.delimiter, columns=job.columns,
                        has_row_column=prepared.has_row_column, skip=prepared.skip_lines)

    try:
        stage_file()
    except StagingError as exc:
        if not prepared.has_row_column:
            prepared.check_encoding()  # an encoding problem explains a parse failure best
        if not prepared.mixed_newlines:
            raise InputRejected([_csv_parse_problem(name, exc, job.columns, prepared.delimiter)], file=name) from None
        prepared.normalise_newlines(workdir)
        try:
            stage_file()
        except StagingError as exc2:
            raise InputRejected([_csv_parse_problem(name, exc2, job.columns, prepared.delimiter)], file=name) from None
    pending.result()
    out = CheckedFile(file=name, original_name=prepared.original.name, sha256=prepared.sha256,
                      layout=prepared.layout or layout)
    # the fast path: these very bytes from this source (any source when it is unnamed)
    out.known_vintage = known(prepared.sha256) if known is not None else None
    if out.known_vintage is not None:
        return out
    if layout == "wide":
        out.empty_cells_skipped = stage.count_empty_wide_cells(job.key_columns, job.period_columns)
        stage.unpivot_staged(job.key_columns, job.period_columns)
    if stage.staged_count() == 0:
        # an SDMX-CSV file whose every row was refused while converting (kinhteso.sdmx) says why
        raise InputRejected(prepared.problems or [problem("NO_DATA_ROWS", file=name)], file=name)
    say(1, INGEST_STEPS, tr("kiểm tra", "validating"))
    job.resolve()
    problems = job.find_problems()
    if prepared.layout == "sdmx":  # name the SDMX-CSV file's own columns
        from dataclasses import replace  # noqa: PLC0415

        from kinhteso.sdmx import SDMX_COLUMN_OF  # noqa: PLC0415

        problems = sorted(prepared.problems + [replace(p, column=SDMX_COLUMN_OF.get(p.column, p.column))
                                               for p in problems], key=lambda p: (p.row or 0, p.column))
    if problems:
        raise InputRejected(problems, file=name)
    out.keys = stage.normalised_keys()
    # the same rows after normalisation are the same vintage, whatever the bytes, row order,
    # line ends, BOM or format (see commit_checked)
    out.content_sha256 = stage.content_digest()
    out.backcast_rows = stage.staged_backcast_count()
    out.notes = list(job.notes)
    return out


def commit_checked(store: Store, checked: CheckedFile, *, source: str, illustrative: bool = False,
                   received_at: dt.datetime | None = None, progress: Progress | None = None,
                   check: Callable[[pd.DataFrame], None] | None = None) -> IngestResult:
    """The second half of :func:`ingest_file`: ``check`` the file's keys, then store its staged
    rows as one vintage — unless a vintage of the same rows after normalisation from the same
    source (any source when it is unnamed) is stored: then that one. The staged rows are removed
    in every case."""
    say = or_null(progress)
    name = checked.file
    try:
        if checked.known_vintage is not None:
            return IngestResult(name, checked.known_vintage, 0, already_stored=True, layout=checked.layout)
        if check is not None:  # e.g. the submitting member's grant, before anything is stored
            check(checked.keys)
        say(2, INGEST_STEPS, tr("kiểm tra xong, không có lỗi", "checked, no problems"))
        # the same bytes were looked for before the check (``known``); the same rows are looked for here
        existing = store.matching_vintage(checked.content_sha256, source=source)
        if existing is not None:
            return IngestResult(name, existing, 0, already_stored=True, layout=checked.layout)
        info = VintageInfo(source=source, file_name=checked.original_name, sha256=checked.sha256,
                           illustrative=illustrative, content_sha256=checked.content_sha256)
        try:
            vid, n = store.commit_stage(info, Stage.sealed(checked.stage_path), received_at=received_at,
                                        before_insert=lambda: say(3, INGEST_STEPS, tr("đang ghi", "writing")))
        except AlreadyStored as same:  # stored meanwhile by another writer
            return IngestResult(name, same.vintage_id, 0, already_stored=True, layout=checked.layout)
        say(INGEST_STEPS, INGEST_STEPS, tr("đã lưu", "stored"))
        return IngestResult(name, vid, n, layout=checked.layout, empty_cells_skipped=checked.empty_cells_skipped,
                            backcast_rows=checked.backcast_rows, notes=list(checked.notes))
    finally:
        checked.discard()


def _today() -> dt.date:
    """Today, for :func:`FUTURE_PERIOD <_Job._resolve_future>` (the clock belongs in ingestion,
    never in ``methods/``; tests replace this function)."""
    return dt.date.today()


def _fmt_num(x: float, lang: str) -> str:
    s = f"{x:g}"
    return s.replace(".", ",") if lang == "vi" else s


def _fmt_range(lo: float | None, hi: float | None, lang: str) -> str:
    """The allowed range in words: ``≥ 0``, ``≤ 100``, ``[0; 100]`` (vi) / ``[0, 100]`` (en)."""
    lo = None if lo is None or lo != lo else lo
    hi = None if hi is None or hi != hi else hi
    if lo is not None and hi is not None:
        sep = "; " if lang == "vi" else ", "
        return f"[{_fmt_num(lo, lang)}{sep}{_fmt_num(hi, lang)}]"
    if lo is not None:
        return f"≥ {_fmt_num(lo, lang)}"
    if hi is not None:
        return f"≤ {_fmt_num(hi, lang)}"
    return "không giới hạn" if lang == "vi" else "unbounded"


def _fmt_date(d: dt.date, lang: str) -> str:
    return d.strftime("%d/%m/%Y") if lang == "vi" else d.isoformat()


def _column_letter(n: int) -> str:
    """The spreadsheet letter of the ``n``-th column (1 → A, 27 → AA)."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _quote_column(text: str, delimiter: str) -> int | None:
    """The (1-based) cell of a CSV record where a quote goes wrong: opened and not closed, or
    followed by text before the next delimiter (``"5"x``)."""
    cell, i, n = 1, 0, len(text)
    at_start = True
    while i < n:
        ch = text[i]
        if at_start and ch == '"':
            i += 1
            while True:
                j = text.find('"', i)
                if j < 0:
                    return cell  # never closed
                if text.startswith('""', j):
                    i = j + 2
                    continue
                i = j + 1
                break
            if i < n and text[i] != delimiter and text[i] not in "\r\n":
                return cell  # text after the closing quote
            at_start = False
            continue
        if ch == '"':
            return cell  # a quote inside an unquoted value
        if ch == delimiter:
            cell += 1
            at_start = True
        else:
            at_start = False
        i += 1
    return None


def _csv_parse_problem(name: str, exc: StagingError, columns: list[str], delimiter: str) -> Problem:
    """``CSV_PARSE`` with the row, the column, the text found and the fix, in both languages,
    from what DuckDB said (:class:`~kinhteso.store.StagingError`)."""
    header = [c for c in columns if c != "_row"]
    delimiter = delimiter or ","
    found = exc.found_text.replace("\r", "")
    shown = found if len(found) <= 120 else found[:117] + "…"
    row = exc.line
    column = ""
    delim_name = {",": "','", ";": "';'", "\t": "tab"}
    joiner_vi = ": "  # "dòng 3: …", or "dòng 3 có 9 ô …"
    if exc.cause == "columns" and exc.expected_columns and exc.found_columns is not None:
        lead = len(columns) - len(header)  # an XLSX's leading _row column is no column of the sheet
        exp, got = exc.expected_columns - lead, max(exc.found_columns - lead, 0)
        joiner_vi = " "
        if found and "\n" not in found:  # DuckDB stops counting at the first extra cell
            got = len(next(csv.reader([found], delimiter=delimiter), [])) - lead
        others = [d for d in (",", ";", "\t") if d != delimiter and found.count(d) >= max(exp - 1, 1)]
        if got < exp and others:
            other = others[0]
            column = header[0] if header else ""
            vi = (f"dùng dấu phân cách {delim_name[other]} trong khi tiêu đề dùng {delim_name[delimiter]}; "
                  f"nội dung: '{shown}'. Cách sửa: dùng cùng một dấu phân cách cho mọi dòng (lưu lại tệp từ Excel "
                  f"dưới dạng CSV UTF-8)")
            en = (f"separated by {delim_name[other]} while the header uses {delim_name[delimiter]}; "
                  f"found: '{shown}'. Fix: use one delimiter on every row (save the file again from Excel as CSV UTF-8)")
        elif got > exp:
            column = _column_letter(exp + 1)
            vi = (f"có {got} ô nhưng tiêu đề có {exp} cột (ô thứ {exp + 1}, cột {column}, trở đi không có tiêu đề); "
                  f"nội dung: '{shown}'. Cách sửa: xóa các ô thừa, hoặc đặt giá trị có dấu "
                  f"{delim_name[delimiter]} trong dấu ngoặc kép (\"1,5\")")
            en = (f"{got} cells but the header has {exp} columns (cell {exp + 1}, column {column}, onwards "
                  f"has no header); found: '{shown}'. Fix: remove the extra cells, or put a value that contains "
                  f"{delim_name[delimiter]} in double quotes (\"1,5\")")
        else:
            column = header[got] if got < len(header) else _column_letter(got + 1)
            missing = ", ".join(header[got:]) if got < len(header) else column
            vi = (f"chỉ có {got} ô nhưng tiêu đề có {exp} cột (thiếu: {missing}); nội dung: '{shown}'. "
                  f"Cách sửa: thêm các ô còn thiếu (để trống nếu không có giá trị)")
            en = (f"only {got} cells but the header has {exp} columns (missing: {missing}); "
                  f"found: '{shown}'. Fix: add the missing cells (leave them empty where there is no value)")
    elif exc.cause == "quote":
        cell = _quote_column(found, delimiter)
        if cell is not None:
            column = header[cell - 1] if cell <= len(header) else _column_letter(cell)
        vi = (f"dấu ngoặc kép (\") mở mà không đóng, hoặc có chữ ngay sau dấu đóng; nội dung: '{shown}'. "
              f"Cách sửa: đóng dấu ngoặc kép, hoặc viết dấu ngoặc kép nằm trong giá trị thành hai dấu (\"\")")
        en = (f"a double quote (\") is opened and not closed, or text follows a closing quote; found: '{shown}'. "
              f"Fix: close the quote, or write a quote inside a value as two quotes (\"\")")
    else:
        vi = (f"cấu trúc CSV không hợp lệ{f'; nội dung: {shown!r}' if shown else ''}. Cách sửa: mở tệp bằng Excel "
              f"và lưu lại dưới dạng CSV UTF-8 (chi tiết kỹ thuật của DuckDB: {exc.detail})")
        en = (f"the CSV structure is invalid{f'; found: {shown!r}' if shown else ''}. Fix: open the file in Excel "
              f"and save it again as CSV UTF-8 (DuckDB's technical detail: {exc.detail})")
    where_vi = f"dòng {row}{joiner_vi}" if row is not None else ""
    where_en = f"row {row}: " if row is not None else ""
    return problem("CSV_PARSE", file=name, row=row, column=column,
                   detail_vi=where_vi + vi, detail_en=where_en + en)


#: A value with dots between groups of three digits (as ``--decimal ,`` needs them).
_GROUPED = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d*)?%?")
#: A value that can only be read with dots between thousands: two or more dot groups, or dot
#: groups before a decimal comma (``1.234.567``, ``1.234,5``).
_DOT_THOUSANDS = re.compile(r"[+-]?\d{1,3}(\.\d{3}){2,}(,\d*)?%?|[+-]?\d{1,3}(\.\d{3})+,\d*%?")


def _value_text(raw: str) -> str:
    """A value cell as the stage reads it: without spaces and no-break spaces."""
    return raw.replace("\u00a0", "").strip().replace(" ", "")


def _as_number(text: str, decimal: str) -> float | None:
    if decimal == ",":
        if "." in text and not _GROUPED.fullmatch(text):
            return None
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _norm_sector(raw: str) -> str:
    """``_t`` → ``_T``, ``c`` → ``C``, a one-digit division ``1`` → ``01`` (Excel drops the zero)."""
    s = raw.strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    if s.upper() == "_T":
        return "_T"
    if s.isalpha():
        return s.upper()
    if s.isdigit() and len(s) == 1:
        return "0" + s
    return s


def _vsic_option(value: object) -> str | None:
    """``--vsic`` checked: ``None``, ``"2018"``, ``"2025"`` or ``"auto"``; anything else is the
    usage error ``BAD_VSIC_VERSION``."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    return text if text in VSIC_CHOICES else str(vsic.parse_version(value))


def _other_version_hint(code: str, other: int) -> tuple[str, str]:
    """The hint of a code of the other VSIC version: where a VSIC 2018 code went in VSIC 2025."""
    if other == 2018:
        corr = vsic.correspondence()
        to = list(dict.fromkeys(corr.loc[corr.code_2018 == code, "code_2025"]))
        where_vi = f"; trong VSIC 2025 tương ứng: {', '.join(to)}" if to else ""
        where_en = f"; its VSIC 2025 counterparts: {', '.join(to)}" if to else ""
        return (f" — '{code}' là mã VSIC 2018{where_vi} (hoặc ghi vsic_version 2018 cho dòng này)",
                f" — '{code}' is a VSIC 2018 code{where_en} (or give the row vsic_version 2018)")
    return (f" — '{code}' là mã VSIC {other} (ghi vsic_version {other} hoặc --vsic {other})",
            f" — '{code}' is a VSIC {other} code (give vsic_version {other} or --vsic {other})")


class _Job:
    """The state of one validation: normalised columns and the resolved code mappings."""

    def __init__(self, stage: Stage, name: str, indicators: dict[str, Indicator], decimal: str, *,
                 xlsx: bool = False, vsic: str | None = None) -> None:
        self.vsic = _vsic_option(vsic)
        self.notes: list[tuple[str, str]] = []
        self.stage = stage
        self.name = name
        self.indicators = indicators
        # An XLSX number cell is a number already, written with a decimal point by the reader (a
        # percent cell as "15.3%"): --decimal applies to CSV text only.
        self.decimal = "." if xlsx else decimal
        self.xlsx = xlsx
        self.columns: list[str] = []
        self.key_columns: list[str] = []
        self.period_columns: list[str] = []
        self.problems: list[Problem] = []
        self.truncated = 0
        self.bad_mappings: set[str] = set()
        self._hints_left: dict[str, int] = {}

    # --- header ------------------------------------------------------------------------
    def check_header(self, header: list[str], *, has_row: bool) -> str:
        name = self.name
        cells = header[1:] if has_row else header
        if not any(c.strip() for c in cells):
            raise InputRejected([problem("FILE_EMPTY", file=name)], file=name)
        norm = [_norm_column(c) for c in cells]
        problems = []
        seen: set[str] = set()
        for raw, n in zip(cells, norm):
            if n in seen:
                problems.append(problem("DUPLICATE_COLUMN", file=name, row=1, column=raw, name=raw))
            seen.add(n)
        long_cols = set(LONG_REQUIRED) | set(LONG_OPTIONAL) | set(EXPORT_ONLY)
        periods = [n for n in norm if parse_period(n)]
        layout = "long" if ("period" in seen or "value" in seen or not periods) else "wide"
        required = LONG_REQUIRED if layout == "long" else WIDE_REQUIRED
        allowed = long_cols if layout == "long" else (long_cols - {"period", "value"}) | set(periods)
        expected = ", ".join(required)
        for col in required:
            if col not in seen:
                problems.append(problem("MISSING_COLUMN", file=name, row=1, column=col, name=col, expected=expected))
        for raw, n in zip(cells, norm):
            if n not in allowed:
                problems.append(problem("UNKNOWN_COLUMN", file=name, row=1, column=raw, name=raw, expected=expected))
        if problems:
            raise InputRejected(problems, file=name)
        self.columns = (["_row"] if has_row else []) + norm
        self.period_columns = periods if layout == "wide" else []
        self.key_columns = [n for n in norm if n not in self.period_columns]
        self.present = set(norm) | ({"period", "value"} if layout == "wide" else set())
        return layout

    # --- resolution of distinct codes -------------------------------------------------------
    def resolve(self) -> None:
        self._resolve_indicators()
        self._resolve_territories()
        self._resolve_periods()
        self._resolve_sectors()
        self._resolve_units()
        self._resolve_enums()
        self._resolve_future()

    #: the mappings whose normalised column (of the same name) is part of the observation key
    _KEYED = ("indicator", "territory", "period", "sector", "price_basis")

    def _register(self, name: str, rows: list[dict], columns: list[str]) -> pd.DataFrame:
        """Hand the stage one resolved mapping: ``raw_<column>`` columns key it to the staged
        text; ``code``, ``vi``, ``en`` are set where the raw value is bad."""
        frame = pd.DataFrame(rows, columns=columns)
        if name in self._KEYED:
            # a small integer per normalised value, so the duplicate-key check groups integers;
            # NULL where the value did not resolve (its row is no duplicate of anything)
            values = [None if v is None or v != v else str(v) for v in frame[name]]
            ids = {v: i for i, v in enumerate(sorted({v for v in values if v is not None}), start=1)}
            frame["kid"] = pd.array([None if v is None else ids[v] for v in values], dtype="Int64")
        for c in columns:
            if c == "basis":
                frame[c] = pd.array(frame[c], dtype="Int64")
            elif c == "start":
                frame[c] = pd.to_datetime(frame[c])
            elif c == "kid":
                continue
            elif c in ("lo", "hi"):
                frame[c] = pd.to_numeric(frame[c]).astype("float64")
            else:
                frame[c] = frame[c].astype("string")
        self.stage.register_mapping(name, frame)
        if "code" in frame.columns and frame["code"].notna().any():
            self.bad_mappings.add(name)
        return frame

    _SETS = (("indicator",), ("territory", "basis"), ("period",), ("indicator", "period"),
             ("territory", "basis", "period"), ("indicator", "sector", "vsic_version"),
             ("indicator", "vsic_version", "period"), ("indicator", "unit"), ("price_basis",),
             ("status",), ("period", "status"))

    def _hint(self, column: str) -> bool:
        """Whether one more closest-name hint may be computed for ``column`` (:data:`MAX_HINTS`)."""
        left = self._hints_left.get(column, MAX_HINTS)
        self._hints_left[column] = left - 1
        return left > 0

    def _distinct(self, *cols: str) -> pd.DataFrame:
        present = [c for c in cols if c in self.present]
        if not hasattr(self, "_sets"):  # every set this job needs, in one scan of the staged file
            groups = [tuple(c for c in g if c in self.present) for g in self._SETS]
            wanted = [g for g in dict.fromkeys(groups) if g]
            self._sets = dict(zip(wanted, self.stage.distinct_sets(wanted)))
        key = tuple(present)
        d = self._sets[key].copy() if key in self._sets else (self.stage.distinct(present) if present else pd.DataFrame([{}]))
        for c in cols:
            if c not in present:
                d[c] = ""
        return d[list(cols)].fillna("").drop_duplicates()

    def _resolve_indicators(self) -> None:
        rows = []
        codes = sorted(self.indicators)
        for raw in self._distinct("indicator")["indicator"]:
            code = raw.strip().upper()
            if code in self.indicators:
                rows.append({"raw_indicator": raw, "indicator": code, "code": None, "vi": None, "en": None})
            else:
                close = difflib.get_close_matches(code, codes, n=1) if self._hint("indicator") else []
                p = problem("UNKNOWN_INDICATOR", value=raw,
                            hint_vi=f"; có phải '{close[0]}'?" if close else "",
                            hint_en=f"; did you mean '{close[0]}'?" if close else "")
                rows.append({"raw_indicator": raw, "indicator": None, "code": p.code, "vi": p.vi, "en": p.en})
        self._register("indicator", rows, ["raw_indicator", "indicator", "code", "vi", "en"])
        self.ind_map = {r["raw_indicator"]: r["indicator"] for r in rows}

    def _resolve_territories(self) -> None:
        keys = {t.key: t for t in terr.territories()}
        rows = []
        for raw_t, raw_b in self._distinct("territory", "basis").itertuples(index=False):
            t, b = raw_t.strip(), raw_b.strip()
            b = b[:-2] if b.endswith(".0") else b
            key = p = None
            full = terr.find_territories(t) if (t.upper() == terr.nation_key or ":" in t) else ()
            if full:
                key = full[0]
                kb = keys[key].basis
                if kb is not None and b != "" and b != str(kb):
                    # a full key carries its basis: the basis column must say the same
                    p = problem("BASIS_MISMATCH", value=raw_t, basis=raw_b, key_basis=kb, short=keys[key].code)
                    key = None
            elif b not in ("63", "34"):
                p = problem("BAD_BASIS", value=raw_b)
            else:
                found = terr.find_territories(t, int(b))
                key = found[0] if found else None
                if key is None:
                    near = terr.closest_alias(t, int(b)) if self._hint("territory") else None
                    hint = f"{near[0]} → {near[1]}" if near else ""
                    p = problem("UNKNOWN_TERRITORY", value=raw_t, basis=b,
                                hint_vi=f"; gần nhất: {hint}" if hint else "", hint_en=f"; closest: {hint}" if hint else "")
            basis = keys[key].basis if key else None
            rows.append({"raw_territory": raw_t, "raw_basis": raw_b, "territory": key,
                         "basis": basis, "code": p.code if p else None,
                         "vi": p.vi if p else None, "en": p.en if p else None})
        self.ter_map = {(r["raw_territory"], r["raw_basis"]): r["territory"] for r in rows}
        self._register("territory", rows, ["raw_territory", "raw_basis", "territory", "basis", "code", "vi", "en"])

    def _resolve_periods(self) -> None:
        rows = []
        for raw in self._distinct("period")["period"]:
            parsed = parse_period(raw)
            if parsed:
                rows.append({"raw_period": raw, "period": parsed.code, "freq": parsed.freq,
                             "start": parsed.start, "code": None, "vi": None, "en": None})
            else:
                p = problem("BAD_PERIOD", value=raw)
                rows.append({"raw_period": raw, "period": None, "freq": None, "start": None,
                             "code": p.code, "vi": p.vi, "en": p.en})
        self._register("period", rows, ["raw_period", "period", "freq", "start", "code", "vi", "en"])
        # frequency allowed for the indicator
        rows = []
        per = {r[0]: parse_period(r[0]) for r in self._distinct("period").itertuples(index=False)}
        for raw_i, raw_p in self._distinct("indicator", "period").itertuples(index=False):
            ind = self.indicators.get(self.ind_map.get(raw_i) or "")
            parsed = per.get(raw_p)
            if ind is None or parsed is None or parsed.freq in ind.frequencies:
                continue
            p = problem("FREQUENCY_NOT_ALLOWED", indicator=ind.code, value=raw_p, expected=", ".join(ind.frequencies))
            rows.append({"raw_indicator": raw_i, "raw_period": raw_p, "code": p.code, "vi": p.vi, "en": p.en})
        self._register("frequency", rows, ["raw_indicator", "raw_period", "code", "vi", "en"])
        # a 63-basis territory for a period after the merger
        rows = []
        valid = {t.key: t for t in terr.territories()}
        for raw_t, raw_b, raw_p in self._distinct("territory", "basis", "period").itertuples(index=False):
            key = self.ter_map.get((raw_t, raw_b))
            parsed = per.get(raw_p)
            if not key or not parsed or key == terr.nation_key:
                continue
            t = valid[key]
            if t.valid_to is not None and parsed.start > t.valid_to:
                p = problem("TERRITORY_PERIOD", territory=f"{key} {t.name_vi}", value=raw_p,
                            successor=terr.successors_of(key))
                rows.append({"raw_territory": raw_t, "raw_basis": raw_b, "raw_period": raw_p,
                             "code": p.code, "vi": p.vi, "en": p.en})
        self._register("territory_period", rows, ["raw_territory", "raw_basis", "raw_period", "code", "vi", "en"])

    def _resolve_sectors(self) -> None:
        """Sectors, in the VSIC version of each row: its ``vsic_version`` cell, else ``--vsic``
        (``auto``: by the period's start, :data:`~kinhteso.domain.VSIC2025_FROM`), else VSIC 2018.
        A VSIC 2025 code is stored with its version prefix (``v2025:K``); VSIC 2018 codes and
        ``_T`` as they are (:func:`kinhteso.reference.vsic.key`)."""
        known = {v: {s.code for s in vsic.sectors(v)} for v in vsic.VERSIONS}
        known_sorted = {v: sorted(c) for v, c in known.items()}
        by_period = self.vsic == "auto"
        versions, seen, late = [], {}, set()
        # by period (--vsic auto) the sectors are resolved per period: one more scan, only then
        combos = (self._distinct("indicator", "sector", "vsic_version", "period") if by_period
                  else self._distinct("indicator", "sector", "vsic_version").assign(period=""))
        for raw_v in combos["vsic_version"].unique():
            p = None
            if raw_v.strip():
                try:
                    vsic.parse_version(raw_v)
                except UsageError:  # the version of a row: its problem, with its row
                    p = problem("BAD_VSIC_VERSION", value=raw_v)
            versions.append({"raw_vsic_version": raw_v, "code": p.code if p else None,
                             "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("vsic_version", versions, ["raw_vsic_version", "code", "vi", "en"])
        bad_versions = {r["raw_vsic_version"] for r in versions if r["code"]}
        for raw_i, raw_s, raw_v, raw_p in combos.itertuples(index=False):
            ind = self.indicators.get(self.ind_map.get(raw_i) or "")
            kind = ind.sector_kind if ind else "vsic"
            start = None
            if by_period and kind == "vsic" and not raw_v.strip():
                parsed = parse_period(raw_p)
                start = parsed.start if parsed else None
            mkey = (raw_i, raw_s, raw_v, raw_p)
            if raw_v in bad_versions:
                version = None
            elif raw_v.strip():
                version = vsic.parse_version(raw_v)
            elif self.vsic in ("2018", "2025"):
                version = int(self.vsic)
            elif by_period and start is not None and start >= VSIC2025_FROM:
                version = 2025
            else:
                version = vsic.DEFAULT_VERSION
            code_text = raw_s
            prefixed = re.fullmatch(r"\s*v(\d{4}):(.+)", raw_s)
            if prefixed and kind == "vsic" and int(prefixed.group(1)) in vsic.VERSIONS:
                # a store key as kinhteso exports it (v2025:K): its prefix is its version
                version, code_text = int(prefixed.group(1)), prefixed.group(2)
            s, p = self._sector(code_text, ind, kind, version, known, known_sorted)
            seen[mkey] = {"raw_indicator": raw_i, "raw_sector": raw_s, "raw_vsic_version": raw_v,
                          "raw_period": raw_p, "sector": None if p else s, "code": p.code if p else None,
                          "vi": p.vi if p else None, "en": p.en if p else None}
        rows = list(seen.values())
        if self.vsic is None:  # read as VSIC 2018 by default: say so for the periods of VSIC 2025
            for raw_i, raw_v, raw_p in self._distinct("indicator", "vsic_version", "period").itertuples(index=False):
                ind = self.indicators.get(self.ind_map.get(raw_i) or "")
                parsed = parse_period(raw_p)
                if ((ind.sector_kind if ind else "vsic") == "vsic" and not raw_v.strip() and parsed is not None
                        and parsed.start >= VSIC2025_FROM):
                    late.add(raw_p)
        columns = ["raw_indicator", "raw_sector", "raw_vsic_version"] + (["raw_period"] if by_period else [])
        self._register("sector", rows, columns + ["sector", "code", "vi", "en"])
        if late:
            first = min(late)
            self.notes.append((
                f"Các kỳ từ {_fmt_date(VSIC2025_FROM, 'vi')} (ví dụ {first}) được đọc theo VSIC 2018 vì tệp không nói "
                f"phiên bản (không có --vsic, không có cột vsic_version). VSIC 2025 có hiệu lực từ 15/11/2025: nếu tệp "
                f"dùng mã VSIC 2025, hãy nạp lại với --vsic 2025 (hoặc --vsic auto).",
                f"Periods from {_fmt_date(VSIC2025_FROM, 'en')} (e.g. {first}) were read as VSIC 2018 because the file "
                f"does not say its version (no --vsic, no vsic_version column). VSIC 2025 is in force from 2025-11-15: "
                f"if the file uses VSIC 2025 codes, ingest it again with --vsic 2025 (or --vsic auto)."))

    def _sector(self, raw_s: str, ind: Indicator | None, kind: str, version: int | None,
                known: dict[int, set[str]], known_sorted: dict[int, list[str]]) -> tuple[str | None, Problem | None]:
        """One sector cell resolved in ``version``: (the stored code, None) or (None, the problem)."""
        s = _norm_sector(raw_s)
        listed = sector_codes(kind)
        p = None
        if version is None:  # a bad vsic_version: its own problem names the row
            return None, None
        if kind == "vsic" and s not in known[version]:
            other = [v for v in vsic.VERSIONS if v != version and s in known[v]]
            if other:
                hint_vi, hint_en = _other_version_hint(s, other[0])
            else:
                close = difflib.get_close_matches(s, known_sorted[version], n=1) if self._hint("sector") else []
                hint_vi = f"; có phải '{close[0]}'?" if close else ""
                hint_en = f"; did you mean '{close[0]}'?" if close else ""
            p = problem("UNKNOWN_SECTOR", value=raw_s, version=version, hint_vi=hint_vi, hint_en=hint_en)
        elif kind == "vsic":
            s = vsic.key(s, version)
        elif kind == "total" and s != "_T":
            p = problem("SECTOR_NOT_ALLOWED", indicator=ind.code, value=raw_s,
                        expected="chỉ _T (tổng) / only _T (total)")
        elif listed is not None:
            # a closed list (the DTI main indices): only its codes, matched ignoring case
            canon = {c.lower(): c for c in listed}
            s = canon.get(raw_s.strip().lower())
            if s is None:
                p = problem("SECTOR_NOT_ALLOWED", indicator=ind.code, value=raw_s,
                            expected=f"chỉ nhận một trong / only one of: {', '.join(listed)}")
        elif kind not in ("vsic", "total"):
            s = raw_s.strip()
            if not re.fullmatch(r"[A-Za-z0-9_.\-]+", s):
                p = problem("SECTOR_NOT_ALLOWED", indicator=ind.code, value=raw_s,
                            expected=f"mã {kind} / a {kind} code")
        return (None, p) if p else (s, None)

    def _resolve_units(self) -> None:
        rows = []
        for raw_i, raw_u in self._distinct("indicator", "unit").itertuples(index=False):
            ind = self.indicators.get(self.ind_map.get(raw_i) or "")
            u = raw_u.strip().upper()
            p = None
            if ind is not None and u not in ind.units:
                p = problem("BAD_UNIT", value=raw_u, indicator=ind.code, expected=", ".join(ind.units))
            lo = ind.min if ind else None
            hi = ind.max if ind else None
            rows.append({"raw_indicator": raw_i, "raw_unit": raw_u, "unit": u, "lo": lo, "hi": hi,
                         "code": p.code if p else None, "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("unit", rows, ["raw_indicator", "raw_unit", "unit", "lo", "hi", "code", "vi", "en"])

    def _resolve_enums(self) -> None:
        rows = []
        for raw in self._distinct("price_basis")["price_basis"]:
            key = raw.strip().lower().replace(" ", "_")
            pb = PRICE_BASES.get(key)
            p = None if pb else problem("BAD_PRICE_BASIS", value=raw)
            rows.append({"raw_price_basis": raw, "price_basis": pb, "code": p.code if p else None,
                         "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("price_basis", rows, ["raw_price_basis", "price_basis", "code", "vi", "en"])
        rows = []
        for raw in self._distinct("status")["status"]:
            st = raw.strip().upper() or "A"
            p = None if st in STATUSES else problem("BAD_STATUS", value=raw)
            rows.append({"raw_status": raw, "status": None if p else st, "code": p.code if p else None,
                         "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("status", rows, ["raw_status", "status", "code", "vi", "en"])

    def _resolve_future(self) -> None:
        """An actual value (status A, the default) for a period that starts after today
        (:func:`_today`) cannot exist yet: ``FUTURE_PERIOD``. Forecasts (F), estimates (E),
        provisional (P) and imputed (I) values may be for any period."""
        today = _today()
        rows = []
        for raw_p, raw_s in self._distinct("period", "status").itertuples(index=False):
            parsed = parse_period(raw_p)
            if parsed is None or (raw_s.strip().upper() or "A") != "A" or parsed.start <= today:
                continue
            p = problem("FUTURE_PERIOD", value=raw_p, start_vi=_fmt_date(parsed.start, "vi"),
                        start_en=_fmt_date(parsed.start, "en"), today_vi=_fmt_date(today, "vi"),
                        today_en=_fmt_date(today, "en"))
            rows.append({"raw_period": raw_p, "raw_status": raw_s, "code": p.code, "vi": p.vi, "en": p.en})
        self._register("future_period", rows, ["raw_period", "raw_status", "code", "vi", "en"])

    # --- finding the rows of each problem ---------------------------------------------------
    #: mapping → the file's column a problem of it names, in the order problems are listed
    _PROBLEM_COLUMN = {"indicator": "indicator", "territory": "territory", "period": "period",
                       "vsic_version": "vsic_version", "sector": "sector", "unit": "unit", "price_basis": "price_basis", "status": "status",
                       "frequency": "period", "territory_period": "period", "future_period": "period"}

    def _add(self, frame: pd.DataFrame, column: str) -> None:
        for row, code, vi, en in frame[["_row", "code", "vi", "en"]].itertuples(index=False):
            if len(self.problems) >= MAX_PROBLEMS:
                self.truncated += 1
                continue
            self.problems.append(Problem(code=code, vi=vi, en=en, file=self.name, row=int(row), column=column))

    def find_problems(self) -> list[Problem]:
        # Row-level scans only for the mappings that hold a problem: a clean file costs none.
        for mapping, column in self._PROBLEM_COLUMN.items():
            if mapping in self.bad_mappings:
                self._add(self.stage.problem_rows(mapping, self.present, MAX_PROBLEMS), column)
        self.stage.normalise(self.present, self.decimal, MERGER_DATE)
        self._value_problems()
        self._duplicate_problems()
        self.problems.sort(key=lambda p: (p.row or 0, p.column))
        if self.truncated:
            self.problems.append(Problem(
                code="TOO_MANY_PROBLEMS",
                vi=f"… và {self.truncated} lỗi khác không được liệt kê.",
                en=f"… and {self.truncated} more problems not listed.", file=self.name))
        return self.problems

    def _value_problems(self) -> None:
        """``EMPTY_VALUE``, ``BAD_VALUE``, ``AMBIGUOUS_NUMBER``, ``PERCENT_UNIT``, ``OUT_OF_RANGE``:
        one scan of the normalised rows' flag; the raw text and bounds only for the rows at fault.

        The dot in numbers (``AMBIGUOUS_NUMBER``):

        - with ``--decimal ,`` a dot may only separate thousands: the digits before the comma are
          1–3 digits then groups of exactly three (``1.234.567,5``); ``1.5``, ``12.34``,
          ``1,234.5`` are refused (the stage reads them as no number);
        - with the decimal point (the default), when some value of the file uses dots between
          thousands (two or more dot groups, ``1.234.567``, or dot groups before a comma,
          ``1.234,5``: those are ``BAD_VALUE``), every value written as 1–3 digits, one dot and
          exactly three digits (``1.234``, ``-12.500``) is refused too: it most likely means 1234.
        """
        df = self.stage.value_problem_rows(MAX_PROBLEMS)
        comma_hint = self.decimal == "." and not self.xlsx
        dotted: tuple[int, str] | None = None  # (row, text) of a value with dots between thousands
        reported: set[int] = set()
        for row, raw, value, ind, unit, lo, hi in df[
                ["_row", "raw_value", "value", "indicator", "unit", "lo", "hi"]].itertuples(index=False):
            row = int(row)
            text = "" if raw is None or (isinstance(raw, float) and raw != raw) else _value_text(str(raw))
            if text == "":
                p = problem("EMPTY_VALUE", file=self.name, row=row, column="value")
            elif value is None or value != value or value in (float("inf"), float("-inf")):
                if self.decimal == "," and "." in text and not _GROUPED.fullmatch(text):
                    p = problem("AMBIGUOUS_NUMBER", file=self.name, row=row, column="value", value=raw,
                                why_vi=(f"với --decimal , dấu chấm chỉ dùng để tách hàng nghìn (nhóm đủ 3 chữ số), "
                                        f"nên không rõ '{text}' là số thập phân hay số hàng nghìn"),
                                why_en=(f"with --decimal , a dot only separates thousands (groups of exactly 3 "
                                        f"digits), so '{text}' could be a decimal or a number of thousands"),
                                expected_vi=("số dạng 1.234.567,5 hoặc 1234567,5: dấu phẩy thập phân, dấu chấm chỉ "
                                             "giữa các nhóm 3 chữ số (một rưỡi viết 1,5)"),
                                expected_en=("a number such as 1.234.567,5 or 1234567,5: a decimal comma, dots only "
                                             "between groups of 3 digits (one and a half is 1,5)"))
                elif text.endswith("%") and unit != "PCT" and _as_number(text[:-1], self.decimal) is not None:
                    p = problem("PERCENT_UNIT", file=self.name, row=row, column="value", value=raw, unit=unit)
                else:
                    comma = "," in text
                    thousands = self.decimal == "." and _DOT_THOUSANDS.fullmatch(text) is not None
                    if thousands and dotted is None:
                        dotted = (row, text)
                    hint = comma_hint and (comma or thousands)
                    if self.xlsx and (comma or thousands):
                        hint_vi = "; ô này là chữ, không phải số: hãy nhập lại thành số trong Excel"
                        hint_en = "; this cell is text, not a number: enter it as a number in Excel"
                    else:
                        hint_vi = "; nếu dùng dấu phẩy thập phân (1.234,5) hãy thêm --decimal ," if hint else ""
                        hint_en = "; for a decimal comma (1.234,5) add --decimal ," if hint else ""
                    p = problem("BAD_VALUE", file=self.name, row=row, column="value", value=raw,
                                hint_vi=hint_vi, hint_en=hint_en)
            else:
                p = problem("OUT_OF_RANGE", file=self.name, row=row, column="value", value=raw, indicator=ind,
                            range_vi=_fmt_range(lo, hi, "vi"), range_en=_fmt_range(lo, hi, "en"))
            reported.add(row)
            self._append(p)
        if dotted is not None and not self.xlsx:  # an XLSX number cell "1.234" is a number, not text
            ex_row, ex = dotted
            for row, raw in self.stage.dotted_thousand_rows(MAX_PROBLEMS).itertuples(index=False):
                if int(row) in reported:
                    continue
                text = _value_text(str(raw))
                whole = text.replace(".", "")
                self._append(problem(
                    "AMBIGUOUS_NUMBER", file=self.name, row=int(row), column="value", value=raw,
                    why_vi=(f"tệp có giá trị dùng dấu chấm để tách hàng nghìn ('{ex}' ở dòng {ex_row}), nên '{text}' "
                            f"có thể là {whole} chứ không phải {text.replace('.', ',')}"),
                    why_en=(f"the file has values with dots between thousands ('{ex}' at row {ex_row}), so '{text}' "
                            f"may mean {whole}, not {text}"),
                    expected_vi=("nếu tệp dùng định dạng Việt Nam (1.234.567,5) hãy thêm --decimal ,; nếu không, "
                                 "viết số không có dấu tách hàng nghìn (1234567.5)"),
                    expected_en=("if the file uses the Vietnamese format (1.234.567,5) add --decimal ,; otherwise "
                                 "write numbers without thousands separators (1234567.5)")))

    def _append(self, p: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(p)
        else:
            self.truncated += 1

    def _duplicate_problems(self) -> None:
        dup = self.stage.duplicate_rows(MAX_PROBLEMS)
        for row, first in dup[["_row", "first_row"]].itertuples(index=False):
            self.problems.append(problem("DUPLICATE_KEY", file=self.name, row=int(row), column="", first=int(first)))
