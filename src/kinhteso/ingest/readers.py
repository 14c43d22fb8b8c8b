"""Readers: turn a submitted file into a clean UTF-8 CSV the store can stage, or refuse it.

Accepted: CSV in UTF-8 (with or without BOM) or UTF-16 with a BOM (as Excel writes "Unicode
text"), comma, semicolon or tab separated; XLSX (the sheet named ``data``/``du_lieu``, else the
first). Everything is streamed: a 2 GB CSV is checked and staged without being read whole.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from kinhteso.errors import InputRejected
from kinhteso.ingest.rules import problem

__all__ = ["PreparedFile", "prepare", "read_header", "sha256_of"]

_CHUNK = 1 << 22  # 4 MiB
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_DATA_SHEETS = ("data", "du_lieu", "dữ liệu", "du lieu")


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


def prepare(path: Path, *, workdir: Path) -> PreparedFile:
    """Check the file's type and encoding and return a :class:`PreparedFile` (or raise InputRejected)."""
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
        return _prepare_xlsx(path, workdir)
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
    return prepared


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
_REF = re.compile(r'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _prepare_xlsx(path: Path, workdir: Path) -> PreparedFile:
    import openpyxl  # noqa: PLC0415 (heavy; only for XLSX)

    name = str(path)
    sha = sha256_of(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputRejected([problem("XLSX_CORRUPT", file=name, detail=str(exc)[:200])], file=name) from None
    try:
        sheet_name = next((s for s in wb.sheetnames if s.strip().lower() in _DATA_SHEETS), wb.sheetnames[0])
        merged = _merged_header_cells(path, wb.sheetnames.index(sheet_name))
        if merged:
            raise InputRejected([problem("MERGED_HEADER", file=name, row=1, detail=", ".join(merged[:5]))], file=name)
        ws = wb[sheet_name]
        out = workdir / (path.name + ".csv")
        n_rows = 0
        with open(out, "w", encoding="utf-8", newline="") as dst:
            writer = csv.writer(dst)
            header: list[str] | None = None
            for idx, row in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in row]
                if header is None:
                    while cells and cells[-1] == "":
                        cells.pop()
                    if not cells:
                        continue
                    header = cells
                    writer.writerow(["_row", *header])
                    continue
                cells = (cells + [""] * len(header))[: len(header)] if len(cells) != len(header) else cells
                if any(c != "" for c in cells):
                    writer.writerow([idx, *cells])
                    n_rows += 1
        if header is None:
            out.unlink(missing_ok=True)
            raise InputRejected([problem("FILE_EMPTY", file=name)], file=name)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise InputRejected([problem("XLSX_CORRUPT", file=name, detail=str(exc)[:200])], file=name) from None
    finally:
        wb.close()
    return PreparedFile(path, out, ",", True, sha, [out])


def _merged_header_cells(path: Path, sheet_index: int) -> list[str]:
    """Merged ranges touching row 1 of the sheet, read from the sheet's XML (streamed)."""
    found: list[str] = []
    with zipfile.ZipFile(path) as zf:
        names = sorted(
            (n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
            key=lambda n: int(re.search(r"(\d+)", n.rsplit("/", 1)[1]).group(1)),
        )
        if sheet_index >= len(names):
            return found
        tail = b""
        with zf.open(names[sheet_index]) as fh:
            while chunk := fh.read(_CHUNK):
                text = (tail + chunk).decode("utf-8", errors="ignore")
                for m in _REF.finditer(text):
                    r1 = int(m.group(2))
                    r2 = int(m.group(4) or r1)
                    if r1 <= 1 <= r2:
                        ref = f"{m.group(1)}{m.group(2)}" + (f":{m.group(3)}{m.group(4)}" if m.group(3) else "")
                        if ref not in found:
                            found.append(ref)
                tail = chunk[-200:]
    return found


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
