"""Readers: turn a submitted file into a clean UTF-8 CSV the store can stage, or refuse it.

Accepted: CSV in UTF-8 (with or without BOM) or UTF-16 with a BOM (as Excel writes "Unicode
text"), comma, semicolon or tab separated; XLSX (the sheet named ``data``/``số liệu``, else the
only sheet, else the only sheet whose first row is the header), read with zipfile and expat
within the bounds ``XLSX_MAX_*``. Everything is streamed: a 2 GB CSV is checked and staged
without being read whole.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import os
import posixpath
import re
import struct
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote
from xml.parsers import expat

from kinhteso.errors import InputRejected
from kinhteso.ingest.rules import problem

__all__ = [
    "XLSX_MAX_CELL_CHARS",
    "XLSX_MAX_COLUMNS",
    "XLSX_MAX_MEMORY_BYTES",
    "XLSX_MAX_PARTS",
    "XLSX_MAX_PART_BYTES",
    "XLSX_MAX_ROWS",
    "XLSX_MAX_SECONDS",
    "XLSX_MAX_SHARED_CHARS",
    "XLSX_MAX_SHARED_STRINGS",
    "XLSX_MAX_STYLES",
    "XLSX_MAX_TOKEN_BYTES",
    "PreparedFile",
    "prepare",
    "read_header",
    "sha256_of",
]

_CHUNK = 1 << 22  # 4 MiB
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class PreparedFile:
    """A submission ready for staging: ``csv_path`` is UTF-8, ``has_row_column`` when it carries
    the original sheet row in a leading ``_row`` column (XLSX)."""

    original: Path
    csv_path: Path
    delimiter: str
    has_row_column: bool
    sha256: str
    temporary: list[Path] = field(default_factory=list)
    #: Leading lines starting with ``#`` (a template's bilingual notes), skipped before the header.
    skip_lines: int = 0
    #: For a UTF-8 CSV the full-file pass (SHA-256, strict UTF-8 check, line endings) is left to
    #: :meth:`verify`, so that it can run while DuckDB stages the file.
    pending: bool = False
    mixed_newlines: bool = False
    #: ``"sdmx"`` for an SDMX-CSV 2.0 file, converted to the long layout (:mod:`kinhteso.sdmx`)
    layout: str = ""
    #: problems found while converting (SDMX-level: structure, action, territory code), by row
    problems: list = field(default_factory=list)

    def verify(self) -> None:
        """The file's SHA-256 (hashlib releases the GIL: this runs beside DuckDB's staging).
        UTF-8 itself is checked by DuckDB while it stages; :meth:`check_encoding` names the
        problem when staging fails."""
        if self.pending:
            self.sha256 = sha256_of(self.original)
            self.pending = False

    def check_encoding(self) -> None:
        """Strict UTF-8 check naming the first bad byte and line (raises InputRejected); notes
        mixed line endings."""
        crlf, lf = _check_utf8(self.original, hashlib.sha256())
        self.mixed_newlines = 0 < crlf < lf

    def normalise_newlines(self, workdir: Path) -> None:
        """Rewrite a file with mixed line endings (edited by two programs) with one kind."""
        out = workdir / (self.original.name + ".lf.csv")
        _normalise_newlines(self.original, out)
        self.csv_path = out
        self.temporary.append(out)

    def cleanup(self) -> None:
        for p in self.temporary:
            p.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def prepare(path: Path, *, workdir: Path, head_rows: int = 1, merged_header: bool = False) -> PreparedFile:
    """Check the file's type and encoding and return a :class:`PreparedFile` (or raise InputRejected).

    For a workbook, ``head_rows``: how many non-empty rows at the top (a title, header rows) set the
    sheet's width, each written with ``_row`` as its first cell; ``merged_header``: cells merged across
    those rows are accepted (an adapter's two header rows), else refused (``MERGED_HEADER``)."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputRejected([problem("FILE_NOT_FOUND", file=name, path=name)], file=name)
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        raise InputRejected([problem("XLSX_ENCRYPTED", file=name)], file=name)
    if suffix in _XLSX_SUFFIXES or head.startswith(_ZIP_MAGIC):
        if not head.startswith(_ZIP_MAGIC):
            raise InputRejected([problem("XLSX_CORRUPT", file=name, detail="not a ZIP container / không phải tệp ZIP")], file=name)
        return _prepare_xlsx(path, workdir, head_rows, merged_header)
    if suffix == ".xls":
        raise InputRejected([problem("XLSX_ENCRYPTED", file=name)], file=name)
    if suffix not in _CSV_SUFFIXES:
        raise InputRejected([problem("FILE_TYPE", file=name, detail=f"'{suffix or path.name}'")], file=name)
    return _prepare_csv(path, workdir)


# --- CSV -------------------------------------------------------------------------------------
def _prepare_csv(path: Path, workdir: Path) -> PreparedFile:
    name = str(path)
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        first = fh.read(_CHUNK)
    if not first.strip(b"\xef\xbb\xbf\xff\xfe \r\n\t\x00"):
        raise InputRejected([problem("FILE_EMPTY", file=name)], file=name)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        out = workdir / (path.name + ".utf8.csv")
        _transcode_utf16(path, out, digest)
        prepared = PreparedFile(path, out, "", False, digest.hexdigest(), [out])
    else:
        if b"\x00" in first:  # UTF-16 without a BOM, or a binary file: refuse before anything else
            at = first.index(b"\x00")
            raise InputRejected([problem(
                "ENCODING", file=name,
                detail=f"byte NUL at {at} (UTF-16 without BOM or a binary file) / byte NUL ở vị trí {at}",
            )], file=name)
        prepared = PreparedFile(path, path, "", False, "", pending=True)
    prepared.skip_lines = _leading_comments(prepared.csv_path)
    prepared.delimiter = _sniff_delimiter(prepared.csv_path, prepared.skip_lines)
    if not prepared.skip_lines:
        _prepare_sdmx(prepared, workdir)
    return prepared


# --- SDMX-CSV 2.0 ----------------------------------------------------------------------------
#: the first header field of SDMX-CSV (``STRUCTURE``, or ``STRUCTURE[;]`` with a sub-field
#: separator) and the field separator that follows it
_SDMX_HEAD = re.compile(r"^\ufeff?STRUCTURE(\[[^\]]?\])?([,;\t|])")


def _prepare_sdmx(prepared: PreparedFile, workdir: Path) -> None:
    """An SDMX-CSV 2.0 file (header ``STRUCTURE,STRUCTURE_ID,ACTION,…``) is converted, streamed,
    into the long layout (:func:`kinhteso.sdmx.to_long_csv`); any other file is left as it is."""
    with open(prepared.csv_path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        line = fh.readline()
    m = _SDMX_HEAD.match(line)
    if not m:
        return
    from kinhteso import sdmx  # noqa: PLC0415

    delimiter = m.group(2)
    if not sdmx.is_sdmx_header(next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])):
        return
    name = str(prepared.original)
    out = workdir / (prepared.original.name + ".sdmx.csv")
    try:
        _n, problems = sdmx.to_long_csv(prepared.csv_path, out, delimiter=delimiter, name=name)
    except UnicodeDecodeError:
        out.unlink(missing_ok=True)
        _check_utf8(prepared.original, hashlib.sha256())  # raises ENCODING naming the byte and line
        raise
    except csv.Error as exc:
        out.unlink(missing_ok=True)
        raise InputRejected([problem("CSV_PARSE", file=name, detail=f"{exc}")], file=name) from None
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    prepared.csv_path = out
    prepared.delimiter = ","
    prepared.has_row_column = True
    prepared.layout = "sdmx"
    prepared.problems = problems
    prepared.temporary.append(out)


def _leading_comments(path: Path) -> int:
    n = 0
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            n += 1
    return n


def read_header(prepared: PreparedFile) -> list[str]:
    """The header row (after any leading ``#`` notes)."""
    with open(prepared.csv_path, newline="", encoding="utf-8-sig") as fh:
        for _ in range(prepared.skip_lines):
            fh.readline()
        for row in csv.reader(fh, delimiter=prepared.delimiter):
            return row
    return []


def _normalise_newlines(src: Path, dst: Path) -> None:
    with open(src, "rb") as fh, open(dst, "wb") as out:
        carry = b""
        while chunk := fh.read(_CHUNK):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            if carry:
                chunk = chunk[:-1]
            out.write(chunk.replace(b"\r\n", b"\n"))
        out.write(carry)


def _check_utf8(path: Path, digest) -> tuple[int, int]:
    """Stream the file through a strict UTF-8 decoder; name the first bad byte and its line.
    Returns the counts of CRLF and of all line feeds."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = lines = crlf = 0
    prev_cr = False
    name = str(path)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if b"\x00" in chunk:
                at = offset + chunk.index(b"\x00")
                raise InputRejected([problem(
                    "ENCODING", file=name,
                    detail=f"byte NUL at {at} (UTF-16 without BOM or a binary file) / byte NUL ở vị trí {at}",
                )], file=name)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                line = lines + chunk[: exc.start].count(b"\n") + 1
                bad = chunk[exc.start: exc.start + 4].hex(" ")
                raise InputRejected([problem(
                    "ENCODING", file=name, row=line,
                    detail=(f"byte {at} (line {line}: {bad}) is not UTF-8; the file looks like Windows-1258, "
                            f"TCVN3 or ANSI / byte {at} (dòng {line}) không phải UTF-8, có lẽ tệp dùng mã Windows-1258, TCVN3 hoặc ANSI"),
                )], file=name) from None
            lines += chunk.count(b"\n")
            crlf += chunk.count(b"\r\n") + (1 if prev_cr and chunk.startswith(b"\n") else 0)
            prev_cr = chunk.endswith(b"\r")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputRejected([problem("ENCODING", file=name, detail="truncated UTF-8 sequence at the end / ký tự UTF-8 bị cắt ở cuối tệp")], file=name) from None
    return crlf, lines


def _transcode_utf16(path: Path, out: Path, digest) -> None:
    name = str(path)
    with open(path, "rb") as fh:
        raw = fh.read(2)
        digest.update(raw)
        codec = "utf-16-le" if raw == codecs.BOM_UTF16_LE else "utf-16-be"
        decoder = codecs.getincrementaldecoder(codec)("strict")
        with open(out, "w", encoding="utf-8", newline="") as dst:
            offset = 2
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                try:
                    dst.write(decoder.decode(chunk))
                except UnicodeDecodeError as exc:
                    out.unlink(missing_ok=True)
                    raise InputRejected([problem(
                        "ENCODING", file=name,
                        detail=f"invalid UTF-16 at byte {offset + exc.start} / UTF-16 không hợp lệ ở byte {offset + exc.start}",
                    )], file=name) from None
                offset += len(chunk)
            dst.write(decoder.decode(b"", final=True))


def _sniff_delimiter(path: Path, skip: int = 0) -> str:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for _ in range(skip):
            fh.readline()
        line = fh.readline()
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


# --- XLSX ------------------------------------------------------------------------------------
# A workbook is a ZIP archive of XML parts. It is read here with the standard library alone
# (zipfile and expat), streamed, within the bounds below, so that a small hostile workbook is
# refused in seconds instead of exhausting the machine (issue 11):
# - only the cells actually present are read; the sheet's declared <dimension> is ignored (a 5 KB
#   workbook declaring A1:XFD1048576 made openpyxl pad a grid of 17 billion cells);
# - every part's decompressed size is bounded, by its ZIP header and again by counting the bytes
#   streamed (a header can lie);
# - no DTD is accepted, so no entity is ever declared or expanded (billion laughs, external
#   entities); expat loads nothing from outside;
# - the sheet is found through the workbook's relationships (xl/workbook.xml and its .rels),
#   never by its position, and chosen by name or by its header (:func:`_choose_sheet`).

#: Bounds of one XLSX read (listed in docs/data-formats.md). Beyond a size or budget the file is
#: refused as FILE_TOO_LARGE; beyond what Excel itself can write, as XLSX_UNSAFE.
XLSX_MAX_PART_BYTES = 512 * 1024 * 1024  # decompressed bytes of one part (Excel's 1,048,576 rows × 7 cells: 250–400 MB)
XLSX_MAX_PARTS = 10_000  # members of the ZIP archive (a workbook has a few dozen)
XLSX_MAX_SHARED_STRINGS = 4_000_000  # distinct texts in the shared-string table
XLSX_MAX_SHARED_CHARS = 100_000_000  # characters of all shared strings together
XLSX_MAX_CELL_CHARS = 32_767  # characters of one cell: Excel's own limit
XLSX_MAX_ROWS = 1_048_576  # Excel's grid: rows
XLSX_MAX_COLUMNS = 16_384  # Excel's grid: columns (XFD)
XLSX_MAX_STYLES = 65_536  # cell formats (Excel allows 64,000)
XLSX_MAX_TOKEN_BYTES = 16 * 1024 * 1024  # one XML token (a tag with its attributes, a comment) held whole by expat
XLSX_MAX_SECONDS = 60.0  # wall-clock budget for reading one workbook
XLSX_MAX_MEMORY_BYTES = 1024 * 1024 * 1024  # growth of the process's resident memory while reading
# The time and memory budgets are a last guard: the bounds above already keep a read to about
# 30 s and a few hundred MB. Memory is the whole process's (Linux /proc/self/statm), checked
# between chunks; where it cannot be read, only the time budget applies.

_XML_CHUNK = 1 << 20  # 1 MiB of decompressed XML fed to expat at a time
_DATA_SHEET_NAMES = frozenset({"data", "so lieu", "du lieu"})  # after _fold_name
_HEADER_MARKS = ("indicator", "territory")  # columns both layouts require
_MERGE_REF = re.compile(r"([A-Za-z]{1,3})(\d+)(?::([A-Za-z]{1,3})(\d+))?")
_REL_WORKSHEET = "worksheet"
_REL_OFFICE_DOCUMENT = "officeDocument"


class _Stop(Exception):
    """Raised by a handler to end a parse early (the first row of a sheet has been read)."""


def _fmt_int(n: int, lang: str) -> str:
    return f"{n:,}".replace(",", "." if lang == "vi" else ",")


def _refusal(code: str, name: str, vi: str, en: str, **fields: object) -> InputRejected:
    return InputRejected([problem(code, file=name, detail_vi=vi, detail_en=en, **fields)], file=name)


def _too_large(name: str, what_vi: str, what_en: str, found: int | None, limit: int, unit_vi: str, unit_en: str) -> InputRejected:
    """FILE_TOO_LARGE naming the bound, what was found (when known) and the limit."""
    if found is None:
        vi = f"{what_vi} vượt giới hạn {_fmt_int(limit, 'vi')} {unit_vi}"
        en = f"{what_en} exceeds the limit of {_fmt_int(limit, 'en')} {unit_en}"
    else:
        vi = f"{what_vi}: {_fmt_int(found, 'vi')} {unit_vi}, vượt giới hạn {_fmt_int(limit, 'vi')} {unit_vi}"
        en = f"{what_en}: {_fmt_int(found, 'en')} {unit_en}, above the limit of {_fmt_int(limit, 'en')} {unit_en}"
    return _refusal("FILE_TOO_LARGE", name, vi, en)


def _unsafe(name: str, vi: str, en: str) -> InputRejected:
    return _refusal("XLSX_UNSAFE", name, vi, en)


def _rss() -> int | None:
    """The process's resident memory in bytes (Linux), or None where it cannot be read cheaply."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):  # pragma: no cover (not POSIX)
    _PAGE = 4096


class _Budget:
    """The wall-clock and memory budget of one workbook, checked between chunks of XML."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.deadline = time.monotonic() + XLSX_MAX_SECONDS
        self.rss0 = _rss()

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _too_large(self.name, "thời gian đọc tệp Excel", "the time to read the Excel file",
                             None, int(XLSX_MAX_SECONDS), "giây", "seconds")
        if self.rss0 is not None:
            rss = _rss()
            if rss is not None and rss - self.rss0 > XLSX_MAX_MEMORY_BYTES:
                mib = 1024 * 1024
                raise _too_large(self.name, "bộ nhớ dùng để đọc tệp Excel", "the memory used to read the Excel file",
                                 (rss - self.rss0) // mib, XLSX_MAX_MEMORY_BYTES // mib, "MiB", "MiB")


def _local(tag: str) -> str:
    return tag.rpartition(":")[2]


def _expat(name: str, part: str):
    """An expat parser that refuses any DTD: no entity can be declared, so none is expanded, and
    nothing is loaded from outside the file."""

    def refuse(*_args: object) -> None:
        raise _unsafe(name, f"phần {part} khai báo DTD/thực thể XML (<!DOCTYPE>, <!ENTITY>), điều mà Excel không bao giờ viết",
                      f"part {part} declares an XML DTD or entity (<!DOCTYPE>, <!ENTITY>), which Excel never writes")

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    return parser


class _Workbook:
    """The parts of one XLSX archive, read within the bounds above."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.name = str(path)
        self.zf = zf
        self.budget = _Budget(self.name)
        self.members = {i.filename.replace("\\", "/").lstrip("/").lower(): i for i in zf.infolist()}
        self.shared: list[str] = []
        self.date_styles: frozenset[str] = frozenset()
        self.percent_styles: frozenset[str] = frozenset()
        self.epoch = None

    # --- parts ---------------------------------------------------------------------------
    def member(self, part: str) -> zipfile.ZipInfo | None:
        return self.members.get(part.lower())

    def parse(self, part: str, start, end=None, chars=None) -> None:
        """Stream ``part`` through a hardened expat parser with these handlers."""
        info = self.member(part)
        if info is None:
            raise _corrupt(self.name, f"part {part} is missing / thiếu phần {part}")
        if info.file_size > XLSX_MAX_PART_BYTES:
            raise _too_large(self.name, f"phần {part} khi giải nén", f"part {part} decompressed",
                             info.file_size, XLSX_MAX_PART_BYTES, "byte", "bytes")
        parser = _expat(self.name, part)
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        if chars is not None:
            parser.CharacterDataHandler = chars
        seen = 0
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(_XML_CHUNK):
                    seen += len(chunk)
                    if seen > info.file_size or seen > XLSX_MAX_PART_BYTES:
                        raise _unsafe(self.name, f"phần {part} giải nén ra nhiều hơn kích thước khai báo ({_fmt_int(info.file_size, 'vi')} byte)",
                                      f"part {part} decompresses to more than its declared size ({_fmt_int(info.file_size, 'en')} bytes)")
                    parser.Parse(chunk, False)
                    if seen - parser.CurrentByteIndex > XLSX_MAX_TOKEN_BYTES:  # bytes expat holds for one token
                        raise _unsafe(self.name, f"phần {part} có một thẻ hoặc chú thích XML dài hơn {_fmt_int(XLSX_MAX_TOKEN_BYTES, 'vi')} byte",
                                      f"part {part} holds an XML tag or comment longer than {_fmt_int(XLSX_MAX_TOKEN_BYTES, 'en')} bytes")
                    self.budget.check()
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise _corrupt(self.name, f"part {part}: {expat.ErrorString(exc.code)} (line {exc.lineno}, column {exc.offset}) "
                                      f"/ phần {part}: XML sai cú pháp (dòng {exc.lineno}, cột {exc.offset})") from None

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """``Id`` → (type, resolved target part) of ``part``'s relationships (OPC, ECMA-376 part 2)."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        found: dict[str, tuple[str, str]] = {}
        if self.member(rels) is None:
            return found

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship" and attrs.get("TargetMode", "Internal") != "External":
                target = unquote(attrs.get("Target", "").replace("\\", "/"))
                resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], resolved)
                if len(found) > XLSX_MAX_PARTS:
                    raise _too_many_parts(self.name, f"{rels}: > {XLSX_MAX_PARTS}")

        self.parse(rels, start)
        return found

    # --- workbook, shared strings, styles ------------------------------------------------
    def sheets(self) -> list[tuple[str, str]]:
        """(name, part) of each worksheet, in the workbook's order, found through its
        relationships; the shared strings and the cell formats are read on the way."""
        root = self.relationships("")
        book = next((t for kind, t in root.values() if kind == _REL_OFFICE_DOCUMENT), None)
        if book is None:
            book = "xl/workbook.xml" if self.member("xl/workbook.xml") else None
        if book is None:
            raise _corrupt(self.name, "no workbook in the archive (xl/workbook.xml) / không có sổ tính trong tệp nén")
        listed: list[tuple[str, str]] = []
        flags = {"date1904": False}

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == "sheet":
                rid = next((v for k, v in attrs.items() if k != "id" and _local(k) == "id"), attrs.get("id", ""))
                listed.append((attrs.get("name", ""), rid))
                if len(listed) > XLSX_MAX_PARTS:
                    raise _too_many_parts(self.name, f"{book}: > {XLSX_MAX_PARTS}")
            elif local == "workbookPr":
                flags["date1904"] = attrs.get("date1904", "").lower() in ("1", "true")

        self.parse(book, start)
        rels = self.relationships(book)
        sheets: list[tuple[str, str]] = []
        for sheet_name, rid in listed:
            kind, target = rels.get(rid, ("", ""))
            if kind != _REL_WORKSHEET:  # a chart sheet, a macro sheet…
                continue
            if self.member(target) is None:
                raise _corrupt(self.name, f"sheet '{sheet_name}' points to a missing part {target} / trang '{sheet_name}' trỏ tới phần {target} không có")
            sheets.append((sheet_name, target))
        if not sheets:
            raise _corrupt(self.name, "the workbook has no worksheet / sổ tính không có trang tính nào")
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900  # noqa: PLC0415

        self.epoch = CALENDAR_MAC_1904 if flags["date1904"] else CALENDAR_WINDOWS_1900
        for kind, target in rels.values():
            if kind == "sharedStrings" and self.member(target) is not None:
                self.shared = self._shared_strings(target)
            elif kind == "styles" and self.member(target) is not None:
                self._styles(target)
        return sheets

    def _shared_strings(self, part: str) -> list[str]:
        strings: list[str] = []
        name = self.name
        state = {"collect": False, "rph": 0, "total": 0, "len": 0}
        buf: list[str] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == "t":
                state["collect"] = not state["rph"]
            elif local == "si":
                buf.clear()
                state["len"] = 0
            elif local == "rPh":  # phonetic runs are not part of the text
                state["rph"] += 1

        def end(tag: str) -> None:
            local = _local(tag)
            if local == "t":
                state["collect"] = False
            elif local == "rPh":
                state["rph"] -= 1
            elif local == "si":
                strings.append("".join(buf))
                state["total"] += state["len"]
                if len(strings) > XLSX_MAX_SHARED_STRINGS:
                    raise _too_large(name, "số chuỗi dùng chung (sharedStrings)", "the number of shared strings",
                                     None, XLSX_MAX_SHARED_STRINGS, "chuỗi", "strings")
                if state["total"] > XLSX_MAX_SHARED_CHARS:
                    raise _too_large(name, "tổng độ dài chuỗi dùng chung (sharedStrings)", "the total length of the shared strings",
                                     None, XLSX_MAX_SHARED_CHARS, "ký tự", "characters")

        def chars(data: str) -> None:
            if state["collect"]:
                buf.append(data)
                state["len"] += len(data)
                if state["len"] > XLSX_MAX_CELL_CHARS:
                    raise _cell_too_long(name, f"{part} #{len(strings) + 1}")

        self.parse(part, start, end, chars)
        return strings

    def _styles(self, part: str) -> None:
        """Which cell formats (``s`` of a cell) show a date or a percentage."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format  # noqa: PLC0415

        custom: dict[int, str] = {}
        xfs: list[int] = []
        depth = {"cellXfs": 0}
        name = self.name

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == "numFmt":
                try:
                    custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
                except ValueError:
                    pass
                if len(custom) > XLSX_MAX_STYLES:
                    raise _unsafe(name, f"hơn {_fmt_int(XLSX_MAX_STYLES, 'vi')} định dạng số",
                                  f"more than {_fmt_int(XLSX_MAX_STYLES, 'en')} number formats")
            elif local == "cellXfs":
                depth["cellXfs"] += 1
            elif local == "xf" and depth["cellXfs"]:
                try:
                    xfs.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)
                if len(xfs) > XLSX_MAX_STYLES:
                    raise _unsafe(name, f"hơn {_fmt_int(XLSX_MAX_STYLES, 'vi')} định dạng ô",
                                  f"more than {_fmt_int(XLSX_MAX_STYLES, 'en')} cell formats")

        def end(tag: str) -> None:
            if _local(tag) == "cellXfs":
                depth["cellXfs"] -= 1

        self.parse(part, start, end)
        dates, percents = set(), set()
        for i, fmt_id in enumerate(xfs):
            code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, "General"))
            if is_date_format(code):
                dates.add(str(i))
            elif "%" in re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code):
                percents.add(str(i))
        self.date_styles, self.percent_styles = frozenset(dates), frozenset(percents)

    # --- sheets --------------------------------------------------------------------------
    def first_row(self, part: str) -> list[str] | None:
        """The first non-empty row of a sheet (read up to that row only), or None."""
        reader = _SheetReader(self, part, writer=None)
        try:
            self.parse(part, reader.start, reader.end, reader.chars)
        except _Stop:
            pass
        return reader.header


def _too_many_parts(name: str, found: str) -> InputRejected:
    return _unsafe(name, f"quá nhiều phần, trang hoặc quan hệ ({found}), vượt giới hạn {_fmt_int(XLSX_MAX_PARTS, 'vi')}",
                   f"too many parts, sheets or relationships ({found}), above the limit of {_fmt_int(XLSX_MAX_PARTS, 'en')}")


def _corrupt(name: str, detail: str) -> InputRejected:
    return InputRejected([problem("XLSX_CORRUPT", file=name, detail=detail[:300])], file=name)


def _cell_too_long(name: str, where: str) -> InputRejected:
    return _unsafe(name, f"một ô ({where}) dài hơn {_fmt_int(XLSX_MAX_CELL_CHARS, 'vi')} ký tự, giới hạn của chính Excel",
                   f"a cell ({where}) holds more than {_fmt_int(XLSX_MAX_CELL_CHARS, 'en')} characters, Excel's own limit")


def _column_index(ref: str) -> int:
    """``AB12`` → 28 (1-based); 0 when the reference has no letters."""
    n = 0
    for ch in ref:
        o = ord(ch) - 64
        if 1 <= o <= 26:
            n = n * 26 + o
        elif 33 <= o <= 58:  # lower case
            n = n * 26 + o - 32
        else:
            break
        if n > XLSX_MAX_COLUMNS:
            break
    return n


class _SheetReader:
    """The expat handlers that read one worksheet's cells, row by row, into CSV rows.

    Only the cells present are read (the <dimension> element is ignored); a row or column
    beyond Excel's grid is refused. The first non-empty row is the header; later cells beyond
    the header's width are skipped unread. With ``writer`` None the parse stops after the header.
    """

    def __init__(self, book: _Workbook, part: str, writer, *, head_rows: int = 1) -> None:
        self.book = book
        self.part = part
        self.writer = writer
        self.head_rows = max(1, int(head_rows))
        self.head: list[list[str]] = []
        self.shared = book.shared
        self.header: list[str] | None = None
        self.header_row = 0
        self.width = XLSX_MAX_COLUMNS
        self.n_rows = 0
        self.merged: list[tuple[str, int, int]] = []
        self.row = 0
        self.col = 0
        self.cells: dict[int, str] = {}
        self.ctype = "n"
        self.style: str | None = None
        self.collect = False
        self.inline = False
        self.rph = 0
        self.skip = False
        self.buf: list[str] = []
        self.buf_len = 0
        self.columns: dict[str, int] = {}  # column letters → index, as met
        self.span = range(1, self.width + 1)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = self.columns.get(letters)
                if col is None:
                    col = _column_index(letters)
                    if len(self.columns) < 20_000:  # a hostile sheet cannot grow the cache
                        self.columns[letters] = col
                if col == 0:
                    col = self.col + 1
            else:
                col = self.col + 1
            if col > XLSX_MAX_COLUMNS:
                raise self._beyond_grid(f"ô {ref or col}", f"cell {ref or col}")
            self.col = col
            self.skip = col > self.width
            self.ctype = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.buf = []
            self.buf_len = 0
        elif tag == "v":
            self.collect = not self.skip
        elif tag == "row":
            ref = attrs.get("r")
            try:
                row = int(ref) if ref else self.row + 1
            except ValueError:
                raise _corrupt(self.book.name, f"{self.part}: row number '{ref[:20]}' / số dòng '{ref[:20]}'") from None
            if not 1 <= row <= XLSX_MAX_ROWS:
                raise self._beyond_grid(f"dòng {row}", f"row {row}")
            self.row = row
            self.col = 0
            self.cells = {}
        elif tag == "t":
            self.collect = self.inline and not self.rph and not self.skip
        elif tag == "is":
            self.inline = True
        elif tag == "rPh":
            self.rph += 1
        elif tag == "mergeCell":
            self._merge(attrs.get("ref", ""))
        elif ":" in tag:  # a writer that prefixes the main namespace (x:c, x:row…)
            self.start(_local(tag), attrs)

    def end(self, tag: str) -> None:
        if tag == "c":
            self.collect = False
            if not self.skip and self.buf:
                text = self._value("".join(self.buf))
                if text:
                    self.cells[self.col] = text
        elif tag == "row":
            self._row_done()
        elif tag in ("v", "t"):
            self.collect = False
        elif tag == "is":
            self.inline = False
        elif tag == "rPh":
            self.rph -= 1
        elif ":" in tag:
            self.end(_local(tag))

    def chars(self, data: str) -> None:
        if self.collect:
            self.buf.append(data)
            self.buf_len += len(data)
            if self.buf_len > XLSX_MAX_CELL_CHARS:
                raise _cell_too_long(self.book.name, f"{self.part}, row {self.row}")

    # --- values --------------------------------------------------------------------------
    def _value(self, raw: str) -> str:
        t = self.ctype
        if t == "n":
            return self._number(raw.strip())
        if t == "s":
            try:
                return self.shared[int(raw)].strip()
            except (ValueError, IndexError):
                raise _corrupt(self.book.name, f"{self.part}, row {self.row}: shared string '{raw[:20]}' does not exist "
                                               f"/ dòng {self.row}: chuỗi dùng chung '{raw[:20]}' không có") from None
        if t == "b":
            return "True" if raw.strip() in ("1", "true") else "False"
        if t == "d":  # an ISO 8601 date cell
            try:
                return _cell_text(dt.datetime.fromisoformat(raw.strip()))
            except ValueError:
                return raw.strip()
        return raw.strip()  # str, inlineStr, e (an error such as #N/A)

    def _number(self, raw: str) -> str:
        # as openpyxl reads a number: a float when it has a point or an exponent, else an int
        try:
            number: int | float = float(raw) if ("." in raw or "e" in raw or "E" in raw) else int(raw)
        except ValueError:
            return raw
        style = self.style
        if style is not None:
            if style in self.book.date_styles:
                from openpyxl.utils.datetime import from_excel  # noqa: PLC0415

                try:
                    return _cell_text(from_excel(number, self.book.epoch))
                except (ValueError, OverflowError, TypeError):
                    return raw
            if style in self.book.percent_styles:
                # What Excel displays, in full precision ("15.3%" for 0.153): the loader decides
                # what a percent means for the indicator; it is never silently a ratio.
                try:
                    # Excel keeps 15 significant digits (it writes 0.07 as 7.0000000000000007E-2)
                    shown = format((Decimal(format(Decimal(raw), ".15g")) * 100).normalize(), "f")
                except InvalidOperation:
                    return raw
                return f"{shown}%"
        return _cell_text(number)

    # --- rows ----------------------------------------------------------------------------
    def _row_done(self) -> None:
        cells = self.cells
        if not cells:
            return
        if self.header is None:
            # the first ``head_rows`` non-empty rows (a title above the header, two header rows)
            # set the width; each is written with ``_row`` as its first cell
            self.head.append([cells.get(i, "") for i in range(1, max(cells) + 1)])
            if len(self.head) == 1:
                self.header_row = self.row
            if len(self.head) < self.head_rows:
                return
            self._head_done()
            if self.writer is None:
                raise _Stop
            return
        get = cells.get
        self.writer.writerow([self.row, *[get(i, "") for i in self.span]])
        self.n_rows += 1

    def _merge(self, ref: str) -> None:
        m = _MERGE_REF.fullmatch(ref.strip())
        if m:
            r1 = int(m.group(2))
            r2 = int(m.group(4) or r1)
            self.merged.append((ref.strip().upper(), min(r1, r2), max(r1, r2)))

    def _head_done(self) -> None:
        width = max(len(r) for r in self.head)
        self.header = self.head[0] + [""] * (width - len(self.head[0]))
        self.width = width
        self.span = range(1, width + 1)
        if self.writer is not None:
            for r in self.head:
                self.writer.writerow(["_row", *r, *[""] * (width - len(r))])

    def merged_header(self) -> list[str]:
        """Merged ranges touching the header row."""
        found: list[str] = []
        for ref, r1, r2 in self.merged:
            if r1 <= self.header_row <= r2 and ref not in found:
                found.append(ref)
        return found

    def _beyond_grid(self, where_vi: str, where_en: str) -> InputRejected:
        return _unsafe(self.book.name,
                       f"{self.part}: {where_vi} nằm ngoài lưới của Excel ({_fmt_int(XLSX_MAX_ROWS, 'vi')} dòng × {_fmt_int(XLSX_MAX_COLUMNS, 'vi')} cột)",
                       f"{self.part}: {where_en} lies outside Excel's grid ({_fmt_int(XLSX_MAX_ROWS, 'en')} rows × {_fmt_int(XLSX_MAX_COLUMNS, 'en')} columns)")


def _fold_name(name: str) -> str:
    """A sheet name without case, accents, underscores or repeated spaces: ``Số_Liệu`` → ``so lieu``."""
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(text.replace("_", " ").replace("-", " ").split())


def _holds_header(row: list[str] | None) -> bool:
    if not row:
        return False
    cells = {c.strip().lower().replace(" ", "_") for c in row}
    return all(mark in cells for mark in _HEADER_MARKS)


def _choose_sheet(book: _Workbook, sheets: list[tuple[str, str]]) -> tuple[str, str]:
    """The data sheet: the one named ``data``/``số liệu`` (any case or accents), else the only
    sheet, else the only sheet whose first row holds the header; otherwise XLSX_WHICH_SHEET."""
    listed = ", ".join(f"'{s}'" for s, _ in sheets)
    named = [s for s in sheets if _fold_name(s[0]) in _DATA_SHEET_NAMES]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        several = ", ".join(f"'{s}'" for s, _ in named)
        raise _refusal("XLSX_WHICH_SHEET", book.name, f"nhiều trang mang tên số liệu ({several})",
                       f"several sheets are named as the data sheet ({several})", sheets=listed)
    if len(sheets) == 1:
        return sheets[0]
    with_header = [s for s in sheets if _holds_header(book.first_row(s[1]))]
    if len(with_header) == 1:
        return with_header[0]
    if with_header:
        several = ", ".join(f"'{s}'" for s, _ in with_header)
        raise _refusal("XLSX_WHICH_SHEET", book.name, f"nhiều trang có dòng tiêu đề ({several})",
                       f"several sheets have the header ({several})", sheets=listed)
    raise _refusal("XLSX_WHICH_SHEET", book.name, "không trang nào có dòng tiêu đề (indicator, territory, …) ở dòng đầu",
                   "no sheet has the header (indicator, territory, …) in its first row", sheets=listed)


def _zip_entries(path: Path) -> int | None:
    """The number of members the ZIP's end-of-central-directory record declares, read before
    zipfile loads the whole directory into memory; None when the record is not found."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        tail_len = min(size, 22 + 65535)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return None
        (entries,) = struct.unpack("<H", tail[at + 10: at + 12])
        if entries != 0xFFFF or at < 20 or tail[at - 20: at - 16] != b"PK\x06\x07":
            return entries
        (z64_offset,) = struct.unpack("<Q", tail[at - 12: at - 4])  # the ZIP64 locator
        if z64_offset + 56 > size:
            return None
        fh.seek(z64_offset)
        record = fh.read(56)
        if record[:4] != b"PK\x06\x06":
            return None
        (entries64,) = struct.unpack("<Q", record[32:40])
        return entries64


def _prepare_xlsx(path: Path, workdir: Path, head_rows: int = 1, merged_header: bool = False) -> PreparedFile:
    name = str(path)
    sha = sha256_of(path)
    out = workdir / (path.name + ".csv")
    try:
        prepared = _read_xlsx(path, out, sha, head_rows, merged_header)
    except InputRejected:
        out.unlink(missing_ok=True)
        raise
    except MemoryError:
        out.unlink(missing_ok=True)
        raise _too_large(name, "bộ nhớ dùng để đọc tệp Excel", "the memory used to read the Excel file",
                         None, XLSX_MAX_MEMORY_BYTES // (1024 * 1024), "MiB", "MiB") from None
    except OSError as exc:
        out.unlink(missing_ok=True)
        if exc.filename and Path(exc.filename) == out:
            raise  # the work folder, not the workbook
        raise _corrupt(name, f"{type(exc).__name__}: {exc} / không đọc được tệp nén") from None
    except Exception as exc:  # noqa: BLE001 (anything a damaged or hostile archive provokes in zipfile, zlib, expat)
        out.unlink(missing_ok=True)
        raise _corrupt(name, f"{type(exc).__name__}: {exc} / tệp nén hỏng") from None
    return prepared


def _read_xlsx(path: Path, out: Path, sha: str, head_rows: int = 1, merged_header: bool = False) -> PreparedFile:
    name = str(path)
    entries = _zip_entries(path)
    if entries is not None and entries > XLSX_MAX_PARTS:
        raise _too_many_parts(name, f"ZIP: {entries}")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > XLSX_MAX_PARTS:
            raise _too_many_parts(name, f"ZIP: {len(infos)}")
        if any(i.flag_bits & 0x1 for i in infos):
            raise InputRejected([problem("XLSX_ENCRYPTED", file=name)], file=name)
        book = _Workbook(path, zf)
        _sheet, part = _choose_sheet(book, book.sheets())
        with open(out, "w", encoding="utf-8", newline="") as dst:
            reader = _SheetReader(book, part, csv.writer(dst), head_rows=head_rows)
            book.parse(part, reader.start, reader.end, reader.chars)
            if reader.header is None and reader.head:  # fewer rows than head_rows: all of them head
                reader._head_done()
    if reader.header is None:
        raise InputRejected([problem("FILE_EMPTY", file=name)], file=name)
    merged = [] if merged_header else reader.merged_header()
    if merged:
        raise InputRejected([problem("MERGED_HEADER", file=name, row=reader.header_row,
                                     detail=", ".join(merged[:5]))], file=name)
    return PreparedFile(path, out, ",", True, sha, [out])


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime | dt.date):
        # A period typed as a date in Excel: the first of a month is that month.
        return f"{v.year}-{v.month:02d}" if v.day == 1 else v.isoformat()[:10]
    return str(v).strip()
