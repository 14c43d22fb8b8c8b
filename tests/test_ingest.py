"""Ingestion: every validation code with realistic files, encodings, XLSX, idempotency, atomicity."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_long_csv as _write_long
from kinhteso.cli import main
from kinhteso.errors import InputRejected
from kinhteso.ingest.load import ingest_file, parse_period
from kinhteso.ingest.rules import RULES
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]
GOOD = [
    ["GRDP_VA", "31", "63", "26", "2024", "123456.7", "VND_BN"],
    ["GRDP_VA", "Hải Dương", "63", "26", "2024", "45000", "VND_BN"],
    ["GRDP", "31", "63", "_T", "2024", "571301.2", "VND_BN"],
    ["GRDP", "30", "63", "_T", "2024", "200000", "VND_BN"],
    ["GRDP", "VN", "", "_T", "2024", "11500000", "VND_BN"],
    ["DIGITAL_COEF", "VN", "", "G", "2024", "0.12", "RATIO"],
]


def write_big_csv(path: Path, n_rows: int) -> Path:
    """A valid long CSV of ``n_rows`` distinct keys (monthly e-invoice revenue by division)."""
    from kinhteso.reference import vsic

    divisions = [s.code for s in vsic.sectors() if s.level == "division"]
    # past periods only: an actual (status A) value for a future period is FUTURE_PERIOD
    months = [f"{y}-{m:02d}" for y in range(1900, 2026) for m in range(1, 13)]
    places = [("VN", ""), ("31", "63"), ("30", "63"), ("24", "34"), ("79", "34"), ("01", "34"), ("48", "34")]
    with open(path, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(HEADER)
        i = 0
        for code, basis in places:
            for d in divisions:
                for per in months:
                    if i == n_rows:
                        return path
                    if basis == "63" and per >= "2025-07":
                        continue
                    wr.writerow(["EINVOICE_REVENUE", code, basis, d, per, f"{(i % 9973) * 1.5:.1f}", "VND_BN"])
                    i += 1
    return path


def write_csv(path: Path, rows, header=HEADER, *, encoding="utf-8", delimiter=","):
    return _write_long(path, rows, header, encoding=encoding, delimiter=delimiter)


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def ingest(ws, path, **kw):
    return ingest_file(ws.store, path, source=kw.pop("source", "test"), indicators=ws.indicators(),
                       workdir=ws.tmp, **kw)


def codes_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.code for p in exc.value.problems]


def test_valid_long_csv_stores_one_vintage(ws, tmp_path):
    r = ingest(ws, write_csv(tmp_path / "a.csv", GOOD))
    assert (r.n_rows, r.layout, r.already_stored) == (6, "long", False)
    obs = ws.store.observations(indicator="GRDP_VA")
    assert sorted(obs.territory) == ["63:30", "63:31"]  # the name "Hải Dương" became its key
    assert ws.store.vintages().n_rows.tolist() == [6]


def test_same_file_twice_adds_no_vintage(ws, tmp_path):
    p = write_csv(tmp_path / "a.csv", GOOD)
    first = ingest(ws, p)
    again = ingest(ws, p)
    assert again.already_stored and again.vintage_id == first.vintage_id
    assert len(ws.store.vintages()) == 1


def test_a_revision_is_a_new_vintage_and_wins_but_as_of_sees_the_old(ws, tmp_path):
    import datetime as dt

    ingest(ws, write_csv(tmp_path / "a.csv", GOOD), received_at=dt.datetime(2025, 1, 10))
    revised = [r[:] for r in GOOD[:1]]
    revised[0][5] = "130000"
    ingest(ws, write_csv(tmp_path / "b.csv", revised), received_at=dt.datetime(2025, 3, 1))
    now = ws.store.observations(indicator="GRDP_VA", territory="63:31")
    assert now.value.tolist() == [130000.0]
    then = ws.store.observations(indicator="GRDP_VA", territory="63:31", as_of=dt.datetime(2025, 2, 1))
    assert then.value.tolist() == [123456.7]
    assert len(ws.store.observations(indicator="GRDP_VA")) == 2  # the other key is untouched


@pytest.mark.parametrize(
    ("row", "code", "column"),
    [
        (["GRDP_VAA", "31", "63", "26", "2024", "1", "VND_BN"], "UNKNOWN_INDICATOR", "indicator"),
        (["GRDP_VA", "99", "63", "26", "2024", "1", "VND_BN"], "UNKNOWN_TERRITORY", "territory"),
        (["GRDP_VA", "Hà Tây", "63", "26", "2024", "1", "VND_BN"], "UNKNOWN_TERRITORY", "territory"),
        (["GRDP_VA", "31", "64", "26", "2024", "1", "VND_BN"], "BAD_BASIS", "territory"),
        (["GRDP_VA", "31", "63", "9999", "2024", "1", "VND_BN"], "UNKNOWN_SECTOR", "sector"),
        (["GRDP", "31", "63", "26", "2024", "1", "VND_BN"], "SECTOR_NOT_ALLOWED", "sector"),
        (["GRDP_VA", "31", "63", "26", "2024-13", "1", "VND_BN"], "BAD_PERIOD", "period"),
        (["GRDP_VA", "31", "63", "26", "Q5/2024", "1", "VND_BN"], "BAD_PERIOD", "period"),
        (["GRDP_VA", "31", "63", "26", "2024-05", "1", "VND_BN"], "FREQUENCY_NOT_ALLOWED", "period"),
        (["GRDP_VA", "31", "63", "26", "2025-Q3", "1", "VND_BN"], "TERRITORY_PERIOD", "period"),
        (["GRDP_VA", "31", "63", "26", "2024", "", "VND_BN"], "EMPTY_VALUE", "value"),
        (["GRDP_VA", "31", "63", "26", "2024", "mười", "VND_BN"], "BAD_VALUE", "value"),
        (["GRDP_VA", "31", "63", "26", "2024", "1,5", "VND_BN"], "BAD_VALUE", "value"),
        (["GRDP_VA", "31", "63", "26", "2024", "-5", "VND_BN"], "OUT_OF_RANGE", "value"),
        (["DE_SHARE", "31", "63", "_T", "2024", "101", "PCT"], "OUT_OF_RANGE", "value"),
        (["GRDP_VA", "31", "63", "26", "2024", "1", "PCT"], "BAD_UNIT", "unit"),
    ],
)
def test_each_row_problem_refuses_the_whole_file(ws, tmp_path, row, code, column):
    p = write_csv(tmp_path / "bad.csv", [GOOD[0], row])
    with pytest.raises(InputRejected) as exc:
        ingest(ws, p)
    found = [(pr.code, pr.row, pr.column) for pr in exc.value.problems]
    assert (code, 3, column) in found
    assert ws.store.observation_count() == 0 and len(ws.store.vintages()) == 0
    # every message exists in both languages
    assert all(pr.vi and pr.en and pr.vi != pr.en for pr in exc.value.problems)


def test_unknown_territory_suggests_the_closest(ws, tmp_path):
    p = write_csv(tmp_path / "bad.csv", [["GRDP_VA", "Hai Phong", "34", "26", "2025-Q3", "1", "VND_BN"],
                                         ["GRDP_VA", "Hải Phònh", "34", "26", "2025-Q4", "1", "VND_BN"]])
    with pytest.raises(InputRejected) as exc:
        ingest(ws, p)
    (prob,) = exc.value.problems
    assert prob.code == "UNKNOWN_TERRITORY" and "34:31" in prob.en


def test_price_basis_and_status_are_checked(ws, tmp_path):
    header = HEADER + ["price_basis", "status"]
    rows = [GOOD[0] + ["current", "P"], GOOD[2] + ["giá cũ", "A"], GOOD[3] + ["constant_2010", "Z"]]
    with pytest.raises(InputRejected) as exc:
        ingest(ws, write_csv(tmp_path / "x.csv", rows, header))
    assert sorted(codes_of(exc)) == ["BAD_PRICE_BASIS", "BAD_STATUS"]


def test_duplicate_key_names_the_first_row(ws, tmp_path):
    rows = [GOOD[0], GOOD[1], ["GRDP_VA", "Hải Phòng", "63", "26", "2024", "5", "VND_BN"]]
    with pytest.raises(InputRejected) as exc:
        ingest(ws, write_csv(tmp_path / "d.csv", rows))
    (p,) = exc.value.problems
    assert p.code == "DUPLICATE_KEY" and p.row == 4 and "2" in p.en


def test_same_key_at_two_price_bases_is_not_a_duplicate(ws, tmp_path):
    header = HEADER + ["price_basis"]
    rows = [GOOD[0] + ["current"], GOOD[0][:5] + ["98000", "VND_BN", "constant_2010"]]
    assert ingest(ws, write_csv(tmp_path / "p.csv", rows, header)).n_rows == 2


def test_missing_and_unknown_and_duplicate_columns(ws, tmp_path):
    with pytest.raises(InputRejected) as exc:
        ingest(ws, write_csv(tmp_path / "m.csv", [r[:6] for r in GOOD], HEADER[:6]))
    assert codes_of(exc) == ["MISSING_COLUMN"] and exc.value.problems[0].column == "unit"
    with pytest.raises(InputRejected) as exc:
        ingest(ws, write_csv(tmp_path / "u.csv", [r + ["x"] for r in GOOD], HEADER + ["ghi_chu_khac"]))
    assert codes_of(exc) == ["UNKNOWN_COLUMN"]
    with pytest.raises(InputRejected) as exc:
        ingest(ws, write_csv(tmp_path / "dup.csv", [r + ["1"] for r in GOOD], HEADER + ["Value"]))
    assert codes_of(exc) == ["DUPLICATE_COLUMN"]


def test_empty_file_and_header_only(ws, tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(InputRejected) as exc:
        ingest(ws, tmp_path / "e.csv")
    assert codes_of(exc) == ["FILE_EMPTY"]
    with pytest.raises(InputRejected) as exc:
        ingest(ws, write_csv(tmp_path / "h.csv", []))
    assert codes_of(exc) == ["NO_DATA_ROWS"]


def test_utf8_bom_and_utf16_as_excel_writes_them(ws, tmp_path):
    assert ingest(ws, write_csv(tmp_path / "bom.csv", GOOD[:2], encoding="utf-8-sig")).n_rows == 2
    # Excel's "Unicode text": UTF-16 LE with BOM, tab separated
    p = write_csv(tmp_path / "u16.txt", GOOD[2:], encoding="utf-16", delimiter="\t")
    assert p.read_bytes()[:2] == b"\xff\xfe"
    assert ingest(ws, p).n_rows == 4
    assert sorted(ws.store.observations(indicator="GRDP_VA").territory) == ["63:30", "63:31"]


def test_windows_1258_is_refused_naming_the_encoding(ws, tmp_path):
    p = tmp_path / "ansi.csv"
    text = "\n".join([",".join(HEADER), "GRDP_VA,Hà Giang,63,26,2024,1,VND_BN"]) + "\n"
    p.write_bytes(text.encode("cp1258"))  # "à" is the single byte 0xE0 in Windows-1258
    with pytest.raises(InputRejected) as exc:
        ingest(ws, p)
    (prob,) = exc.value.problems
    assert prob.code == "ENCODING" and prob.row == 2 and "UTF-8" in prob.en


def test_decimal_comma_with_semicolons(ws, tmp_path):
    rows = [["GRDP_VA", "31", "63", "26", "2024", "1.234.567,5", "VND_BN"]]
    p = write_csv(tmp_path / "vn.csv", rows, delimiter=";")
    with pytest.raises(InputRejected) as exc:
        ingest(ws, p)
    assert codes_of(exc) == ["BAD_VALUE"] and "--decimal" in exc.value.problems[0].en
    r = ingest(ws, p, decimal=",")
    assert r.n_rows == 1
    assert ws.store.observations(indicator="GRDP_VA").value.tolist() == [1234567.5]


def test_wide_format_skips_and_reports_empty_cells(ws, tmp_path):
    header = ["indicator", "territory", "basis", "sector", "unit", "2022", "2023", "2024Q1"]
    rows = [["GRDP_VA", "31", "63", "26", "VND_BN", "100", "", "30"],
            ["GRDP_VA", "Bắc Ninh", "34", "26", "VND_BN", "300", "320", "80"]]
    r = ingest(ws, write_csv(tmp_path / "w.csv", rows, header))
    assert (r.layout, r.n_rows, r.empty_cells_skipped) == ("wide", 5, 1)
    assert r.backcast_rows == 3  # 34-basis values before 2025-07-01 are back-casts
    obs = ws.store.observations(territory="34:24")
    assert obs.period.tolist() == ["2022", "2023", "2024-Q1"] and obs.backcast.all()


def test_34_basis_is_valid_for_every_period_63_only_before_the_merger(ws, tmp_path):
    rows = [["GRDP_VA", "24", "34", "26", "2019", "1", "VND_BN"], ["GRDP_VA", "24", "63", "26", "2025", "1", "VND_BN"],
            ["GRDP_VA", "24", "63", "26", "2025-Q2", "1", "VND_BN"]]
    assert ingest(ws, write_csv(tmp_path / "v.csv", rows)).n_rows == 3
    # 63:24 is Bắc Giang and 34:24 the new Bắc Ninh: two territories
    assert sorted(ws.store.observations().territory.unique()) == ["34:24", "63:24"]


def test_not_csv_or_xlsx_and_missing_path(ws, tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(InputRejected) as exc:
        ingest(ws, tmp_path / "x.pdf")
    assert codes_of(exc) == ["FILE_TYPE"]
    with pytest.raises(InputRejected) as exc:
        ingest(ws, tmp_path / "nope.csv")
    assert codes_of(exc) == ["FILE_NOT_FOUND"]
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(InputRejected) as exc:
        ingest(ws, tmp_path / "bin.csv")
    assert codes_of(exc) == ["ENCODING"]


def test_mixed_line_endings_are_accepted(ws, tmp_path):
    p = tmp_path / "mixed.csv"
    lines = [",".join(HEADER)] + [",".join(r) for r in GOOD]
    p.write_bytes(("\r\n".join(lines[:3]) + "\n" + "\n".join(lines[3:]) + "\n").encode())
    assert ingest(ws, p).n_rows == 6


def test_ragged_csv_is_a_parse_problem(ws, tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(",".join(HEADER) + "\nGRDP_VA,31,63,26,2024,1,VND_BN,extra,cells\n", encoding="utf-8")
    with pytest.raises(InputRejected) as exc:
        ingest(ws, p)
    assert codes_of(exc) == ["CSV_PARSE"]


# --- XLSX -------------------------------------------------------------------------------------
def _xlsx(path: Path, rows, header=HEADER, *, merge: str | None = None, sheet="Sheet1"):
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for c in ws[1]:
        c.font, c.fill = Font(bold=True), PatternFill("solid", fgColor="FFFF00")
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):  # Excel-style number formats
        row[5].number_format = "#,##0.0"
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def test_xlsx_written_by_openpyxl_with_excel_formatting(ws, tmp_path):
    rows = [["GRDP_VA", 31, 63, 26, 2024, 123456.7, "VND_BN"], ["GRDP_VA", "Hải Dương", 63, "26", "2024", 45000, "VND_BN"],
            [None] * 7, ["POPULATION", 1, 63, "_T", 2024, 8_500_000, "PERSONS"]]
    r = ingest(ws, _xlsx(tmp_path / "a.xlsx", rows))
    assert r.n_rows == 3
    obs = ws.store.observations()
    assert set(obs.territory) == {"63:31", "63:30", "63:01"}  # numeric 1 → 01
    assert set(obs.period) == {"2024"}


def test_xlsx_problem_rows_are_sheet_rows(ws, tmp_path):
    rows = [["GRDP_VA", 31, 63, 26, 2024, 1, "VND_BN"], [None] * 7, ["GRDP_VA", 31, 63, 26, 2023, "n/a", "VND_BN"]]
    with pytest.raises(InputRejected) as exc:
        ingest(ws, _xlsx(tmp_path / "b.xlsx", rows))
    assert [(p.code, p.row) for p in exc.value.problems] == [("BAD_VALUE", 4)]


def test_xlsx_merged_header_is_refused(ws, tmp_path):
    with pytest.raises(InputRejected) as exc:
        ingest(ws, _xlsx(tmp_path / "m.xlsx", [GOOD[0]], merge="A1:B1"))
    assert codes_of(exc) == ["MERGED_HEADER"] and "A1:B1" in exc.value.problems[0].en


def test_corrupt_and_password_protected_xlsx(ws, tmp_path):
    good = _xlsx(tmp_path / "g.xlsx", [GOOD[0]])
    (tmp_path / "c.xlsx").write_bytes(good.read_bytes()[:300])
    with pytest.raises(InputRejected) as exc:
        ingest(ws, tmp_path / "c.xlsx")
    assert codes_of(exc) == ["XLSX_CORRUPT"]
    # An encrypted workbook is an OLE2 compound file, not a ZIP
    (tmp_path / "p.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(InputRejected) as exc:
        ingest(ws, tmp_path / "p.xlsx")
    assert codes_of(exc) == ["XLSX_ENCRYPTED"]


# --- CLI ----------------------------------------------------------------------------------------
def test_cli_rejects_writes_problems_csv_and_exits_1(ws, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [GOOD[0], ["GRDP_VA", "31", "63", "62", "2024", "-1", "VND_BN"]])
    r = CliRunner().invoke(main, ["--lang", "en", "ingest", str(bad), "--workspace", str(ws.root)])
    assert r.exit_code == 1
    assert "OUT_OF_RANGE" in r.output and "rejected whole" in r.output
    with open(tmp_path / "bad.csv.problems.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["code"] == "OUT_OF_RANGE" and rows[0]["row"] == "3" and rows[0]["message_vi"]


def test_cli_ingest_then_observations_json(ws, tmp_path):
    good = write_csv(tmp_path / "good.csv", GOOD)
    r = CliRunner().invoke(main, ["ingest", str(good), "--source", "cuc-thong-ke", "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["observations", "--indicator", "GRDP", "--territory", "VN", "--format", "json",
                                  "--workspace", str(ws.root)])
    import json

    (rec,) = json.loads(r.output)
    assert (rec["territory"], rec["basis"], rec["value"], rec["source"]) == ("VN", "", 11500000.0, "cuc-thong-ke")


def test_every_rule_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-formats.md").read_text(encoding="utf-8")
    missing = [code for code in RULES if f"`{code}`" not in doc]
    assert not missing, f"undocumented validation codes: {missing}"


def test_parse_period():
    # the one parser of kinhteso.periods (tests/test_periods.py has every form)
    p = parse_period("2024")
    assert (p.code, p.freq, p.start.isoformat()) == ("2024", "A", "2024-01-01")
    assert parse_period("2024q2").code == "2024-Q2"
    assert parse_period("2024-1").code == "2024-01"
    assert parse_period("2024-00") is None and parse_period("24") is None


# --- atomicity ----------------------------------------------------------------------------------
def test_sigkill_during_a_load_leaves_the_store_as_before(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    ingest(w, write_csv(tmp_path / "first.csv", GOOD))
    before = (w.store.observation_count(), len(w.store.vintages()))
    w.close()
    big = write_big_csv(tmp_path / "big.csv", 700_000)
    env = dict(os.environ, KINHTESO_LANG="en", KINHTESO_PROGRESS="1")  # progress as lines on the pipe
    killed = False
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "kinhteso", "ingest", str(big), "--workspace", str(tmp_path / "ws")],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
        for line in proc.stderr:
            if b"writing" in line:
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            killed = True
            break
    assert killed, "the load finished before it could be killed"
    time.sleep(0.2)
    with Workspace.open(tmp_path / "ws") as w2:
        assert (w2.store.observation_count(), len(w2.store.vintages())) == before


def test_a_file_larger_than_the_memory_limit_is_streamed(tmp_path):
    """DuckDB reads the file in chunks and spills to WORKSPACE/tmp beyond its memory limit, so a
    file much larger than the limit still loads (the design that takes 2 GB files)."""
    w = Workspace.init(tmp_path / "ws")
    cfg = w.root / "kinhteso.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('memory_limit = "1GB"', 'memory_limit = "48MB"'), encoding="utf-8")
    w.close()
    with Workspace.open(tmp_path / "ws") as w:
        big = write_big_csv(tmp_path / "big.csv", 300_000)
        r = ingest(w, big)
        assert r.n_rows == 300_000 and w.store.observation_count() == 300_000


def test_ingestion_hands_the_store_data_not_sql():
    """The store is the only code that speaks SQL: ingest/load.py passes the stage column names,
    mappings as data frames, the decimal mark, the merger date and limits, never SQL text."""
    import kinhteso.ingest.load as load

    source = Path(load.__file__).read_text(encoding="utf-8")
    for keyword in ("SELECT", "JOIN", "WHERE", "coalesce(", "TRY_CAST"):
        assert keyword not in source, f"ingest/load.py contains SQL ({keyword!r}); move it into store.Stage"
