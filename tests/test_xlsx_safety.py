"""XLSX read safely and fast (issue 11): hostile and careless workbooks are refused in seconds,
with a bilingual reason, and never exhaust the machine; the data sheet is found through the
workbook's relationships and chosen by name or by its header.

A small generator below writes each workbook part by part into a ZIP of its own making, so that
a member can expand hugely from a few kilobytes (repeated deflate segments), or declare a size
it does not have. Each hostile file is ingested in a child process: the expected code, under
60 s and 2 GB of peak memory (the child's own high-water mark, ``VmHWM``, and its children's), nothing stored, no traceback.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from kinhteso.errors import InputRejected
from kinhteso.ingest import readers
from kinhteso.ingest.load import ingest_file
from kinhteso.ingest.readers import prepare
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]
ROW = ["GRDP_VA", "31", "63", "26", "2024", "123456.7", "VND_BN"]
GIB = 1 << 30
MAX_SECONDS = 60
MAX_RSS_BYTES = 2 * GIB

# --- a small XLSX generator -------------------------------------------------------------------
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


class Part:
    """A ZIP member as it will be written: raw deflate bytes, the size and CRC its headers
    declare (which may lie) and its flag bits."""

    def __init__(self, data: bytes, *, declared: int | None = None, crc: int | None = None, flags: int = 0):
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.compressed = comp.compress(data) + comp.flush()
        self.size = len(data) if declared is None else declared
        self.crc = zlib.crc32(data) if crc is None else crc
        self.flags = flags

    @classmethod
    def expanding(cls, prefix: bytes, unit: bytes, count: int, suffix: bytes, *, declared: int | None = None,
                  exact_crc: bool = False) -> Part:
        """``prefix + unit * count + suffix`` compressed without ever being built: one deflate
        segment of repeated units, ended by a full flush, is the same bytes wherever it falls
        in the stream, so it is written many times over. The CRC is computed only when asked
        (a reader must refuse a hostile member long before checking it)."""
        per = max(1, (1 << 24) // len(unit))
        block, rest = unit * per, unit * (count % per)
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
        segment = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
        tail = comp.compress(rest) + comp.flush(zlib.Z_FULL_FLUSH) + comp.compress(suffix) + comp.flush()
        part = cls.__new__(cls)
        part.compressed = head + segment * (count // per) + tail
        part.size = len(prefix) + len(unit) * count + len(suffix) if declared is None else declared
        part.crc, part.flags = 0, 0
        if exact_crc:
            crc = zlib.crc32(prefix)
            for _ in range(count // per):
                crc = zlib.crc32(block, crc)
            part.crc = zlib.crc32(suffix, zlib.crc32(rest, crc))
        return part


def write_zip(path: Path, parts: dict[str, Part | bytes]) -> Path:
    """A ZIP archive (deflate, no ZIP64) holding ``parts`` exactly as given."""
    central, offset = [], 0
    with open(path, "wb") as fh:
        for name, part in parts.items():
            p = part if isinstance(part, Part) else Part(part)
            raw = name.encode()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, p.flags, 8, 0, 0x21, p.crc, len(p.compressed),
                                 p.size, len(raw), 0) + raw)
            fh.write(p.compressed)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, p.flags, 8, 0, 0x21, p.crc,
                                       len(p.compressed), p.size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
            offset += 30 + len(raw) + len(p.compressed)
        directory = b"".join(central)
        fh.write(directory)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))
    return path


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def rows_xml(rows: list[list], first_row: int = 1) -> str:
    """``<row>`` elements from ``first_row`` on: text as inline strings, numbers as numbers."""
    out = []
    for i, row in enumerate(rows, start=first_row):
        out.append(f'<row r="{i}">')
        for j, v in enumerate(row, start=1):
            if v is None or v == "":
                continue
            if isinstance(v, int | float):
                out.append(f'<c r="{_col(j)}{i}"><v>{v}</v></c>')
            else:
                out.append(f'<c r="{_col(j)}{i}" t="inlineStr"><is><t>{_esc(str(v))}</t></is></c>')
        out.append("</row>")
    return "".join(out)


def sheet_xml(rows: list[list], *, merge: str | None = None, dimension: str | None = None, first_row: int = 1,
              extra: str = "") -> bytes:
    """A worksheet: ``rows`` from ``first_row`` on, then ``extra`` inside ``<sheetData>`` (more
    rows, written as XML)."""
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">']
    if dimension:
        out.append(f'<dimension ref="{dimension}"/>')
    out.append("<sheetData>")
    out.append(rows_xml(rows, first_row))
    out.append(extra)
    out.append("</sheetData>")
    if merge:
        out.append(f'<mergeCells count="1"><mergeCell ref="{merge}"/></mergeCells>')
    out.append("</worksheet>")
    return "".join(out).encode()


def workbook(path: Path, sheets: list[tuple[str, str, Part | bytes]], *, shared: Part | bytes | None = None,
             workbook_xml: bytes | None = None, extra: dict[str, Part | bytes] | None = None) -> Path:
    """An XLSX whose tabs are ``sheets`` = (tab name, part path under ``xl/``, content), in that
    order; the relationships say which part each tab is."""
    rels = [f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="{target}"/>'
            for i, (_name, target, _xml) in enumerate(sheets, start=1)]
    if shared is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    tabs = "".join(f'<sheet name="{_esc(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _t, _x) in enumerate(sheets, start=1))
    parts: dict[str, Part | bytes] = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": (f'<?xml version="1.0"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
                        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode(),
        "xl/workbook.xml": workbook_xml or (f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
                                            f"<sheets>{tabs}</sheets></workbook>").encode(),
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{_PKG}">{"".join(rels)}</Relationships>'.encode(),
    }
    for _name, target, xml in sheets:
        parts["xl/" + target] = xml
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared
    parts.update(extra or {})
    return write_zip(path, parts)


def one_sheet(path: Path, xml: Part | bytes, **kw) -> Path:
    return workbook(path, [("data", "worksheets/sheet1.xml", xml)], **kw)


def _shared(strings: str) -> bytes:
    return f'<?xml version="1.0"?><sst xmlns="{_MAIN}">{strings}</sst>'.encode()


_SHEET_HEAD = f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData>'.encode()
_SHEET_END = b"</sheetData></worksheet>"
_GOOD_ROWS = rows_xml([HEADER, ROW]).encode() + _SHEET_END
_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
           + f']><worksheet xmlns="{_MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
           + "</sheetData></worksheet>").encode()
_XXE = (f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sst xmlns="{_MAIN}">'
        "<si><t>&xxe;</t></si></sst>").encode()


def _sheet_with(extra: str) -> bytes:
    return sheet_xml([HEADER, ROW], extra=extra)


#: id → (builder of the file in a folder, the expected refusal code; None: accepted in time)
HOSTILE = {
    # the declared dimension claims the whole grid; one real cell on the last row, beyond the header
    "dimension_whole_grid": (lambda d: one_sheet(d / "dim.xlsx", sheet_xml(
        [HEADER], dimension="A1:XFD1048576", extra='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')), "NO_DATA_ROWS"),
    # a 1 GiB shared string from a 1 MB member
    "shared_string_1gib": (lambda d: one_sheet(d / "sst.xlsx", sheet_xml([HEADER, ROW]), shared=Part.expanding(
        _shared("")[:-6] + b"<si><t>", b"a", GIB, b"</t></si></sst>")), "FILE_TOO_LARGE"),
    # the same, its header claiming 8 MB: the text is beyond Excel's 32,767 characters per cell
    # within the first megabyte (read to the end, its CRC would fail: XLSX_CORRUPT)
    "shared_string_header_lies": (lambda d: one_sheet(d / "sst-lie.xlsx", sheet_xml([HEADER, ROW]), shared=Part.expanding(
        _shared("")[:-6] + b"<si><t>", b"a", GIB, b"</t></si></sst>", declared=8 << 20)), "XLSX_UNSAFE"),
    # 105 million characters of shared strings, 30,000 each
    "shared_strings_total": (lambda d: one_sheet(d / "sst-total.xlsx", sheet_xml([HEADER, ROW]), shared=Part.expanding(
        _shared("")[:-6], b"<si><t>" + b"b" * 30_000 + b"</t></si>", 3_500, b"</sst>")), "FILE_TOO_LARGE"),
    # 2 GiB of whitespace in <sheetData>
    "whitespace_2gib": (lambda d: one_sheet(d / "ws.xlsx", Part.expanding(
        _SHEET_HEAD, b" ", 2 * GIB, _GOOD_ROWS)), "FILE_TOO_LARGE"),
    # the same, its header claiming 100 MB: read up to what it declares, then its CRC fails
    "whitespace_header_lies": (lambda d: one_sheet(d / "ws-lie.xlsx", Part.expanding(
        _SHEET_HEAD, b" ", 2 * GIB, _GOOD_ROWS, declared=100 << 20)), "XLSX_CORRUPT"),
    # 300 MB of whitespace, under the bound: read through in seconds, and the file is valid
    "whitespace_under_bound": (lambda d: one_sheet(d / "ws-ok.xlsx", Part.expanding(
        _SHEET_HEAD + rows_xml([HEADER, ROW]).encode(), b" ", 300 << 20, _SHEET_END, exact_crc=True)), None),
    # one tag of 100 MB (an attribute), one comment of 300 MB
    "giant_attribute": (lambda d: one_sheet(d / "attr.xlsx", Part.expanding(
        _SHEET_HEAD + b'<row r="1" x="', b"a", 100 << 20, b'"/></sheetData></worksheet>')), "XLSX_UNSAFE"),
    "giant_comment": (lambda d: one_sheet(d / "comment.xlsx", Part.expanding(
        _SHEET_HEAD + b"<!--", b"z", 300 << 20, b"-->" + _GOOD_ROWS)), "XLSX_UNSAFE"),
    # entities: billion laughs in a sheet, an external entity in the shared strings, a DTD in the workbook
    "billion_laughs": (lambda d: one_sheet(d / "lol.xlsx", _LAUGHS), "XLSX_UNSAFE"),
    "external_entity": (lambda d: one_sheet(d / "xxe.xlsx", sheet_xml([HEADER, ROW]), shared=_XXE), "XLSX_UNSAFE"),
    "doctype_in_workbook": (lambda d: one_sheet(d / "dtd.xlsx", sheet_xml([HEADER, ROW]), workbook_xml=(
        f'<?xml version="1.0"?><!DOCTYPE workbook><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>').encode()), "XLSX_UNSAFE"),
    "undeclared_entity": (lambda d: one_sheet(d / "ent.xlsx", _sheet_with(
        '<row r="3"><c r="A3" t="inlineStr"><is><t>&nbsp;</t></is></c></row>')), "XLSX_CORRUPT"),
    # malformed XML, a cell outside the grid, a text over Excel's limit, a shared string that does not exist
    "malformed_sheet": (lambda d: one_sheet(d / "bad.xlsx", sheet_xml([HEADER, ROW])[:-40] + b"<row <<"), "XLSX_CORRUPT"),
    "row_beyond_grid": (lambda d: one_sheet(d / "row.xlsx", _sheet_with(
        '<row r="2000000"><c r="A2000000"><v>1</v></c></row>')), "XLSX_UNSAFE"),
    "column_beyond_grid": (lambda d: one_sheet(d / "col.xlsx", _sheet_with(
        '<row r="3"><c r="XFE3"><v>1</v></c></row>')), "XLSX_UNSAFE"),
    "cell_100k_characters": (lambda d: one_sheet(d / "long.xlsx", sheet_xml([HEADER, ["x" * 100_000]])), "XLSX_UNSAFE"),
    "missing_shared_string": (lambda d: one_sheet(d / "sidx.xlsx", _sheet_with(
        '<row r="3"><c r="A3" t="s"><v>99</v></c></row>'), shared=_shared("<si><t>a</t></si>")), "XLSX_CORRUPT"),
    # the archive: 10,001 members; a ZIP with no workbook; a member flagged as encrypted
    "many_members": (lambda d: one_sheet(d / "many.xlsx", sheet_xml([HEADER, ROW]),
                                         extra={f"x/{i}.bin": b"" for i in range(10_001)}), "XLSX_UNSAFE"),
    "many_sheets_listed": (lambda d: one_sheet(d / "tabs.xlsx", sheet_xml([HEADER, ROW]), workbook_xml=(
        f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + '<sheet name="s" sheetId="1" r:id="rId1"/>' * 10_001 + "</sheets></workbook>").encode()), "XLSX_UNSAFE"),
    "zip_without_workbook": (lambda d: write_zip(d / "nowb.xlsx", {"data.csv": b"indicator\n"}), "XLSX_CORRUPT"),
    "encrypted_member": (lambda d: write_zip(d / "enc.xlsx", {"xl/workbook.xml": Part(b"<workbook/>", flags=1)}),
                         "XLSX_ENCRYPTED"),
}

_CHILD = r"""
import json, sys, time
from pathlib import Path
from kinhteso.errors import InputRejected
from kinhteso.ingest.load import ingest_file
from kinhteso.workspace import Workspace

path, root = Path(sys.argv[1]), Path(sys.argv[2])
with Workspace.open(root) as ws:
    before = [ws.store.observation_count(), len(ws.store.vintages())]
    try:
        r = ingest_file(ws.store, path, source="test", indicators=ws.indicators(), workdir=ws.tmp)
        out = {"stored": r.n_rows, "problems": []}
    except InputRejected as exc:
        out = {"stored": 0, "problems": [[p.code, p.vi, p.en] for p in exc.problems]}
    out["stored_before_after"] = [before, [ws.store.observation_count(), len(ws.store.vintages())]]
    out["left_over"] = sorted(p.name for p in ws.tmp.iterdir() if p.name.startswith(path.name))
# this process's own peak (VmHWM of its memory since exec) and its children's: ru_maxrss would also
# carry the parent's high-water mark, which Linux keeps across vfork + exec
import resource
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
out["peak_rss"] = max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
print(json.dumps(out))
"""


def run_child(path: Path, root: Path) -> tuple[dict, float, int]:
    """Ingest ``path`` into the workspace ``root`` in a child process: (its report, the seconds
    it took, its peak resident memory in bytes). Killed past the time limit."""
    out_file = path.with_suffix(".out")
    err_file = path.with_suffix(".err")
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), str(root)], stdout=out, stderr=err,
                                env=dict(os.environ, KINHTESO_LANG="en"))
        timer = threading.Timer(MAX_SECONDS + 30, lambda: os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _pid, status, _usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
    stderr = err_file.read_text(errors="replace")
    assert proc.returncode == 0, f"the child failed ({proc.returncode}):\n{stderr[-3000:]}"
    assert "Traceback" not in stderr, stderr[-3000:]
    report = json.loads(out_file.read_text().strip().splitlines()[-1])
    return report, seconds, report["peak_rss"]


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlsx-safety") / "ws"
    Workspace.init(root).close()
    return root


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_workbook_is_refused_in_time_and_memory(case, shared_ws, tmp_path):
    build, expected = HOSTILE[case]
    t0 = time.monotonic()
    path = build(tmp_path)
    assert time.monotonic() - t0 < 10 and path.stat().st_size < 20_000_000  # generation stays small and fast
    report, seconds, rss = run_child(path, shared_ws)
    assert seconds < MAX_SECONDS, f"{case} took {seconds:.1f} s"
    assert rss < MAX_RSS_BYTES, f"{case} peaked at {rss / GIB:.2f} GiB"
    assert report["left_over"] == []  # the conversion is removed
    if expected is None:
        assert report["problems"] == [] and report["stored"] == 1
        return
    codes = [code for code, _vi, _en in report["problems"]]
    assert codes == [expected], report["problems"]
    before, after = report["stored_before_after"]
    assert after == before  # nothing stored
    (_code, vi, en), = report["problems"]
    assert vi and en and vi != en


# --- bounds name themselves and their limit -------------------------------------------------------
def _refusal(path: Path, tmp_path: Path):
    with pytest.raises(InputRejected) as exc:
        prepare(path, workdir=tmp_path)
    (p,) = exc.value.problems
    return p


def test_a_too_large_part_names_the_bound_and_the_limit(tmp_path):
    path = one_sheet(tmp_path / "ws.xlsx", Part.expanding(_SHEET_HEAD, b" ", GIB, _GOOD_ROWS))
    p = _refusal(path, tmp_path)
    assert p.code == "FILE_TOO_LARGE"
    assert "xl/worksheets/sheet1.xml" in p.en and "536,870,912 bytes" in p.en
    assert "536.870.912 byte" in p.vi and "Hãy chia" in p.vi


def test_the_time_and_memory_budgets_refuse_with_their_limit(tmp_path, monkeypatch):
    path = one_sheet(tmp_path / "a.xlsx", sheet_xml([HEADER, ROW]))
    monkeypatch.setattr(readers, "XLSX_MAX_SECONDS", -1.0)
    p = _refusal(path, tmp_path)
    assert p.code == "FILE_TOO_LARGE" and "seconds" in p.en and "giây" in p.vi
    monkeypatch.setattr(readers, "XLSX_MAX_SECONDS", 60.0)
    monkeypatch.setattr(readers, "XLSX_MAX_MEMORY_BYTES", -1)
    if readers._rss() is not None:
        p = _refusal(path, tmp_path)
        assert p.code == "FILE_TOO_LARGE" and "memory" in p.en and "bộ nhớ" in p.vi


def test_the_shared_string_count_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "XLSX_MAX_SHARED_STRINGS", 10)
    path = one_sheet(tmp_path / "s.xlsx", sheet_xml([HEADER, ROW]), shared=_shared("<si><t>a</t></si>" * 11))
    p = _refusal(path, tmp_path)
    assert p.code == "FILE_TOO_LARGE" and "shared strings" in p.en and "10 strings" in p.en
    assert not list(tmp_path.glob("*.csv"))


def test_entities_are_refused_naming_the_part(tmp_path):
    p = _refusal(one_sheet(tmp_path / "lol.xlsx", _LAUGHS), tmp_path)
    assert p.code == "XLSX_UNSAFE" and "xl/worksheets/sheet1.xml" in p.en and "DTD" in p.en and "DTD" in p.vi


# --- which sheet ------------------------------------------------------------------------------------
@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def ingest(ws, path):
    return ingest_file(ws.store, path, source="test", indicators=ws.indicators(), workdir=ws.tmp)


_COVER = sheet_xml([["Báo cáo kinh tế số tỉnh Hải Phòng"], [], ["Cục Thống kê"]], merge="A1:G1")


def test_a_data_sheet_behind_a_cover_sheet_is_read(ws, tmp_path):
    # tab order: the cover first; its part is sheet2.xml, the data's sheet1.xml (Excel renumbers
    # nothing when tabs move): the sheet is found through the relationships, not by position
    path = workbook(tmp_path / "cover.xlsx", [("Bìa", "worksheets/sheet2.xml", _COVER),
                                              ("data", "worksheets/sheet1.xml", sheet_xml([HEADER, ROW]))])
    assert ingest(ws, path).n_rows == 1


def test_a_merged_header_on_the_second_sheet_is_found(ws, tmp_path):
    path = workbook(tmp_path / "merged.xlsx", [("Ghi chú", "worksheets/sheet1.xml", sheet_xml([["ghi chú"]])),
                                               ("Số liệu", "worksheets/sheet2.xml", sheet_xml([HEADER, ROW], merge="A1:B1"))])
    with pytest.raises(InputRejected) as exc:
        ingest(ws, path)
    assert [p.code for p in exc.value.problems] == ["MERGED_HEADER"] and "A1:B1" in exc.value.problems[0].en
    # the reverse: the data sheet first, pointing at sheet2.xml, with its merged header
    path = workbook(tmp_path / "merged2.xlsx", [("data", "worksheets/sheet2.xml", sheet_xml([HEADER, ROW], merge="A1:C1")),
                                                ("Ghi chú", "worksheets/sheet1.xml", sheet_xml([["ghi chú"]]))])
    with pytest.raises(InputRejected) as exc:
        ingest(ws, path)
    assert [p.code for p in exc.value.problems] == ["MERGED_HEADER"] and "A1:C1" in exc.value.problems[0].en


@pytest.mark.parametrize("name", ["data", "DATA", "Số liệu", "SO LIEU", "so_lieu", " Số Liệu ", "du_lieu", "Dữ liệu"])
def test_the_data_sheet_is_chosen_by_name(tmp_path, name):
    # both sheets hold the header; the name decides
    other = sheet_xml([HEADER, ["GRDP", "VN", "", "_T", "2024", "1", "VND_BN"]])
    path = workbook(tmp_path / "n.xlsx", [("Năm trước", "worksheets/sheet1.xml", other),
                                          (name, "worksheets/sheet2.xml", sheet_xml([HEADER, ROW]))])
    prepared = prepare(path, workdir=tmp_path)
    with open(prepared.csv_path, encoding="utf-8") as fh:
        assert list(csv.reader(fh))[1] == ["2", *ROW]


def test_the_only_sheet_with_the_header_is_chosen(ws, tmp_path):
    path = workbook(tmp_path / "h.xlsx", [("Bìa", "worksheets/sheet1.xml", _COVER),
                                          ("Sheet2", "worksheets/sheet2.xml", sheet_xml([HEADER, ROW], first_row=3))])
    assert ingest(ws, path).n_rows == 1


def test_no_sheet_or_several_with_the_header_is_refused_naming_the_sheets(tmp_path):
    two = [("Quý 1", "worksheets/sheet1.xml", sheet_xml([HEADER, ROW])), ("Quý 2", "worksheets/sheet2.xml", sheet_xml([HEADER, ROW]))]
    p = _refusal(workbook(tmp_path / "two.xlsx", two), tmp_path)
    assert p.code == "XLSX_WHICH_SHEET" and "'Quý 1', 'Quý 2'" in p.en and "several sheets have the header" in p.en
    none = [("Bìa", "worksheets/sheet1.xml", _COVER), ("Trống", "worksheets/sheet2.xml", sheet_xml([]))]
    p = _refusal(workbook(tmp_path / "none.xlsx", none), tmp_path)
    assert p.code == "XLSX_WHICH_SHEET" and "'Bìa', 'Trống'" in p.vi and "không trang nào" in p.vi
    named = [("data", "worksheets/sheet1.xml", sheet_xml([HEADER])), ("Số liệu", "worksheets/sheet2.xml", sheet_xml([HEADER]))]
    p = _refusal(workbook(tmp_path / "named.xlsx", named), tmp_path)
    assert p.code == "XLSX_WHICH_SHEET" and "several sheets are named" in p.en


# --- careless files, and values read as openpyxl reads them --------------------------------------
def test_a_valid_xlsx_named_txt_is_read_as_xlsx(ws, tmp_path):
    path = one_sheet(tmp_path / "export.txt", sheet_xml([HEADER, ROW]))
    assert ingest(ws, path).n_rows == 1


def test_a_prefixed_main_namespace_is_read(tmp_path):
    import re

    xml = sheet_xml([HEADER, ROW], merge="A1:B1").decode()
    xml = re.sub(r"<(/?)(worksheet|sheetData|row|c|is|t|v|mergeCells|mergeCell)\b", r"<\1x:\2", xml).replace('xmlns="', 'xmlns:x="')
    p = _refusal(one_sheet(tmp_path / "x.xlsx", xml.encode()), tmp_path)
    assert p.code == "MERGED_HEADER" and "A1:B1" in p.en
    xml = xml.replace('<x:mergeCells count="1"><x:mergeCell ref="A1:B1"/></x:mergeCells>', "")
    prepared = prepare(one_sheet(tmp_path / "y.xlsx", xml.encode()), workdir=tmp_path)
    with open(prepared.csv_path, encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [["_row", *HEADER], ["2", *ROW]]


def test_rich_shared_strings_are_joined_without_phonetic_runs(tmp_path):
    shared = _shared('<si><t>GRDP_VA</t></si><si><r><t>Hải </t></r><r><rPr><b/></rPr><t>Phòng</t></r>'
                     "<rPh sb=\"0\" eb=\"1\"><t>ハイ</t></rPh></si>")
    cells = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    prepared = prepare(one_sheet(tmp_path / "rich.xlsx", sheet_xml([HEADER], extra=cells), shared=shared), workdir=tmp_path)
    with open(prepared.csv_path, encoding="utf-8") as fh:
        assert list(csv.reader(fh))[1][:3] == ["2", "GRDP_VA", "Hải Phòng"]


def test_a_declared_dimension_is_ignored(ws, tmp_path):
    path = one_sheet(tmp_path / "dim.xlsx", sheet_xml([HEADER, ROW], dimension="A1:XFD1048576",
                                                      extra='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))
    t0 = time.monotonic()
    assert ingest(ws, path).n_rows == 1
    assert time.monotonic() - t0 < 10


def test_cells_read_as_before_percent_cells_as_shown(tmp_path):
    """Excel's types as openpyxl read them: shared strings, numbers, booleans, dates, a formula
    without a cached value; a percent-formatted cell is written as Excel shows it (the loader
    decides what a percent means for the indicator)."""
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    cover = wb.active
    cover.title = "Bìa"
    cover["A1"] = "cover"
    sheet = wb.create_sheet("data")
    sheet.append(HEADER + ["note"])
    sheet.append(["DE_SHARE", 31, 63, "_T", dt.datetime(2024, 3, 1), 0.153, "PCT", True])
    sheet.append(["GRDP_VA", "01", 63.0, "26", dt.datetime(2024, 3, 15), 1e20, "VND_BN", "=1+1"])  # no cached value
    sheet.append([None] * 8)
    sheet.append(["GRDP_VA", " Hà Nội ", 63, "26", 2024, 12345678901, "VND_BN", None])
    sheet["F2"].number_format = "0.0%"
    sheet["F3"].number_format = "#,##0.0"
    path = tmp_path / "types.xlsx"
    wb.save(path)
    prepared = prepare(path, workdir=tmp_path)
    with open(prepared.csv_path, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["_row", *HEADER, "note"],
        ["2", "DE_SHARE", "31", "63", "_T", "2024-03", "15.3%", "PCT", "True"],
        ["3", "GRDP_VA", "01", "63", "26", "2024-03-15", "1e+20", "VND_BN", ""],
        ["5", "GRDP_VA", "Hà Nội", "63", "26", "2024", "12345678901", "VND_BN", ""],
    ]


def test_a_large_normal_workbook_reads_fast(tmp_path):
    n = 100_000
    rows = [["EINVOICE_REVENUE", "31", 63, "26", f"{1900 + i // 12 % 200}-{i % 12 + 1:02d}", i * 1.5, "VND_BN"]
            for i in range(n)]
    path = one_sheet(tmp_path / "big.xlsx", sheet_xml([HEADER, *rows]))
    t0 = time.process_time()
    prepared = prepare(path, workdir=tmp_path)
    seconds = time.process_time() - t0
    with open(prepared.csv_path, encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == n + 1
    assert seconds < 10, f"{n} rows took {seconds:.1f} s of processor time"
