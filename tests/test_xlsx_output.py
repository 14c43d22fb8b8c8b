"""``--format xlsx --out FILE`` on every command with ``--format`` (one render layer:
kinhteso.cli._common), CSV files with a BOM, rounded, and carrying the metadata columns, and
Vietnamese tables naming their columns in words (issue 13, item 3).

A small illustrative accounts workspace (one province, five years) is built once per module."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.cli.index import _table_view
from kinhteso.labels import COLUMNS, column_header, column_name, term
from kinhteso.i18n import DEMO_LABEL
from kinhteso.reference.indicators import UNIT_PRECISION, UNITS, unit_precision
from kinhteso.workspace import Workspace
from conftest import accounts_rows, ingest_rows


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xlsx")
    w = Workspace.init(tmp / "ws")
    rows = accounts_rows()
    ingest_rows(w, tmp / "in.csv", rows, source="demo", illustrative=True)
    (w.root / "targets.yaml").write_text(
        "targets:\n  - {territory: '63:31', indicator: DE_SHARE, year: 2027, value: 20, unit: PCT, comparison: '>=',"
        " direction: higher, source: test plan, url: '-', confidence: low}\n", encoding="utf-8")
    w.close()
    return w.root


def run(lang, *args):
    return CliRunner().invoke(main, ["--lang", lang, *args])


def _book(path):
    from openpyxl import load_workbook  # noqa: PLC0415

    return load_workbook(path)


def _sheet_rows(ws):
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], rows[1:]


MEASURE = ("measure", "--territory", "63:31", "--period", "2024")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_measure_xlsx_sheets_typed_numbers_units_frozen_and_about(ws, tmp_path, lang):
    out = tmp_path / "m.xlsx"
    r = run(lang, *MEASURE, "--format", "xlsx", "--out", str(out), "--workspace", str(ws))
    assert r.exit_code == 0, r.output
    assert r.stdout == ""  # the file holds the output; the note goes to stderr
    wb = _book(out)
    names = wb.sheetnames
    expect = ["thanh_phan", "nganh", "chu_giai", "thong_tin"] if lang == "vi" else ["components", "sectors", "legend", "about"]
    assert names == expect
    comp = wb[names[0]]
    assert comp.freeze_panes == "A2"
    header, rows = _sheet_rows(comp)
    unit = "tỷ đồng" if lang == "vi" else "billion đồng"
    assert column_header("va", lang) in header and f"({unit})" in column_header("va", lang)
    va = header.index(column_header("va", lang))
    share = header.index(column_header("share", lang))
    assert all(isinstance(row[va], float) for row in rows) and all(isinstance(row[share], float) for row in rows)
    assert all(c.data_type == "n" for c in comp[2][va:va + 1])
    total = [row for row in rows if row[0] == "total"][0]
    # the components add up to the total (rounded to the unit's 1 decimal)
    assert sum(row[va] for row in rows if row[0] != "total") == pytest.approx(total[va], abs=0.2)
    assert total[va] == round(total[va], 1) and total[share] == round(total[share], 2)
    ill = header.index(column_header("illustrative", lang))
    assert all(row[ill] is True for row in rows)
    sectors_header, sector_rows = _sheet_rows(wb[names[1]])
    assert column_header("de_va", lang) in sectors_header and len(sector_rows) >= 3
    _, legend = _sheet_rows(wb[names[2]])
    codes = {row[1] for row in legend}
    assert {"va", "share", "de_va", "contribution_pp", "illustrative"} <= codes
    assert all(row[2] for row in legend if row[1] in COLUMNS)  # every listed column explained
    about = dict(_sheet_rows(wb[names[3]])[1])
    text = "\n".join(f"{k}: {v}" for k, v in about.items())
    assert "measure" in text and str(ws) in text and lang in about.values() and "gso" in about.values()
    assert DEMO_LABEL[lang] in about.values()


@pytest.mark.parametrize("cmd", [
    ("gaps", "--territory", "63:31"),
    ("plan", "--territory", "63:31", "--indicator", "DE_SHARE", "--target-year", "2027", "--growth", "0.05"),
    ("scenario", "--territory", "63:31", "--set", "DIGITAL_COEF:C=+0.05", "--until", "2026"),
    ("observations", "--indicator", "GRDP"),
    ("vintages",),
    ("target", "list", "--territory", "63:31"),
    ("measure", "--all", "--period", "2024", "--region-basis", "63"),
])
def test_other_commands_write_xlsx(ws, tmp_path, cmd):
    out = tmp_path / "o.xlsx"
    r = run("en", *cmd, "--format", "xlsx", "--out", str(out), "--workspace", str(ws))
    assert r.exit_code == 0, r.output
    wb = _book(out)
    assert wb.sheetnames[-2:] == ["legend", "about"]
    data = wb.worksheets[0]
    header, rows = _sheet_rows(data)
    assert data.freeze_panes == "A2" and len(rows) >= 1
    numbers = [v for row in rows for v in row if isinstance(v, (int, float)) and not isinstance(v, bool)]
    assert numbers  # typed numbers, not text
    assert not any(isinstance(v, str) and v.replace(".", "", 1).replace("-", "", 1).isdigit() and "." in v
                   for row in rows for v in row)  # no decimal number written as text
    if cmd[0] == "plan":
        assert wb.sheetnames[:2] == ["milestones", "sectors"]  # one sheet per table


def test_xlsx_without_out_is_a_usage_error(ws):
    for lang, word in (("vi", "cần --out"), ("en", "needs --out")):
        r = run(lang, *MEASURE, "--format", "xlsx", "--workspace", str(ws))
        assert r.exit_code == 2 and word in r.output
    r = run("en", "vintages", "--format", "xlsx", "--workspace", str(ws))
    assert r.exit_code == 2
    r = run("en", *MEASURE, "--out", "x.csv", "--workspace", str(ws))  # table output is for the terminal
    assert r.exit_code == 2 and "--out" in r.output


def test_csv_out_has_a_bom_metadata_and_precision_stdout_has_no_bom(ws, tmp_path):
    out = tmp_path / "m.csv"
    r = run("en", *MEASURE, "--format", "csv", "--out", str(out), "--workspace", str(ws))
    assert r.exit_code == 0, r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {"territory", "period", "view", "illustrative"} <= set(rows[0])
    assert all(r["territory"] == "63:31" and r["period"] == "2024" and r["view"] == "gso" and r["illustrative"] == "True"
               for r in rows)
    for row in rows:  # VND_BN 1 decimal, PCT 2
        assert len(row["va"].partition(".")[2]) <= 1 and len(row["share"].partition(".")[2]) <= 2
    printed = run("en", *MEASURE, "--format", "csv", "--workspace", str(ws))
    assert printed.exit_code == 0 and not printed.stdout.startswith("\ufeff")
    assert printed.stdout.strip().splitlines() == raw.decode("utf-8-sig").strip().splitlines()
    obs = tmp_path / "o.csv"
    r = run("en", "observations", "--indicator", "GRDP", "--format", "csv", "--out", str(obs), "--workspace", str(ws))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(obs.read_text(encoding="utf-8-sig"))))
    assert {"territory", "period", "unit", "illustrative"} <= set(rows[0]) and rows[0]["unit"] == "VND_BN"
    assert all(len(r["value"].partition(".")[2]) <= 1 for r in rows)
    js = tmp_path / "o.json"
    r = run("en", "vintages", "--format", "json", "--out", str(js), "--workspace", str(ws))
    assert r.exit_code == 0 and json.loads(js.read_text(encoding="utf-8"))[0]["illustrative"] is True


def test_precision_table():
    assert set(UNIT_PRECISION) == set(UNITS)
    assert (unit_precision("PCT"), unit_precision("VND_BN"), unit_precision("RATIO"), unit_precision("COUNT")) == (2, 1, 4, 0)


def test_vietnamese_tables_name_columns_in_words_json_keeps_codes(ws):
    r = run("vi", *MEASURE, "--by", "sector", "--workspace", str(ws))
    assert r.exit_code == 0, r.output
    assert column_name("de_va", "vi") in r.output and "de_va" not in r.output
    assert "contribution_pp" not in r.output
    r = run("vi", "gaps", "--territory", "63:31", "--workspace", str(ws))
    assert r.exit_code == 0, r.output
    for code in ("years_behind", "prob_%", "required_%"):
        assert code not in r.output and column_name(code, "vi") in r.output
    r = run("en", "gaps", "--territory", "63:31", "--workspace", str(ws))
    assert "years_behind" in r.output  # English keeps the codes
    r = run("vi", "gaps", "--territory", "63:31", "--format", "json", "--workspace", str(ws))
    assert "years_behind" in json.loads(r.stdout)[0]


def test_platform_bridge_and_dti_names_in_vietnamese():
    assert term("plus_platform_va", "vi") != "plus_platform_va" and term("plus_platform_va", "en") == "plus_platform_va"
    t = pd.DataFrame([{"territory": "63:01", "name": "x", "score": 0.5, "rank": 1, "rank_low": 1, "rank_high": 2,
                       "rank_median": 1.0, "strengths": "ha_tang_so; the_che_so", "weaknesses": "nhan_luc_so",
                       "illustrative": True, "derived_from": ""}])
    shown = _table_view(t, {"ha_tang_so": "Hạ tầng số", "the_che_so": "Thể chế số", "nhan_luc_so": "Nhân lực số"})
    assert shown.strengths[0] == "Hạ tầng số; Thể chế số" and shown.weaknesses[0] == "Nhân lực số"


def test_formula_text_is_neutralised_in_xlsx(tmp_path):
    """A file name starting with '=' (a vintage's file_name) is written as text, not run as a formula."""
    w = Workspace.init(tmp_path / "w")
    ingest_rows(w, tmp_path / "=HYPERLINK(1).csv", [["GRDP", "31", "63", "_T", "2024", "460", "VND_BN"]])
    w.close()
    out = tmp_path / "v.xlsx"
    r = run("en", "vintages", "--format", "xlsx", "--out", str(out), "--workspace", str(w.root))
    assert r.exit_code == 0, r.output
    header, rows = _sheet_rows(_book(out).worksheets[0])
    assert rows[0][header.index("file_name")] == "'=HYPERLINK(1).csv"
    assert rows[0][header.index(column_header("n_rows", "en"))] == 1
