"""Values exactly as meant, and messages that help (issue 11, items 2 and 7).

One test per rule: the code, the row, the column and the message in both languages, and that
nothing of a refused file is stored."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from conftest import write_long_csv
from kinhteso.errors import InputRejected, Problem
from kinhteso.ingest import load
from kinhteso.ingest.load import ingest_file
from kinhteso.ingest.rules import group_problems
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]
OK = ["GRDP_VA", "31", "63", "26", "2024", "100", "VND_BN"]
TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "_today", lambda: TODAY)
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def ingest(ws, path, **kw):
    return ingest_file(ws.store, path, source=kw.pop("source", "test"), indicators=ws.indicators(),
                       workdir=ws.tmp, **kw)


def refused(ws, path, **kw) -> list[Problem]:
    """The problems of a refused file, after checking that nothing of it was stored."""
    before = (ws.store.observation_count(), len(ws.store.vintages()))
    with pytest.raises(InputRejected) as exc:
        ingest(ws, path, **kw)
    assert (ws.store.observation_count(), len(ws.store.vintages())) == before
    problems = exc.value.problems
    assert all(p.vi and p.en and p.vi != p.en for p in problems)
    return problems


def only(problems: list[Problem], code: str) -> list[Problem]:
    return [p for p in problems if p.code == code]


def csv_file(tmp_path, rows, header=HEADER, name="f.csv", delimiter=","):
    return write_long_csv(tmp_path / name, rows, header, delimiter=delimiter)


# --- AMBIGUOUS_NUMBER ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1.5", "12.34", "1.23.456", "1,234.5"])
def test_decimal_comma_needs_dots_between_thousands(ws, tmp_path, value):
    rows = [["GRDP_VA", "31", "63", "26", "2024", "1.234.567,5", "VND_BN"],
            ["GRDP_VA", "30", "63", "26", "2024", value, "VND_BN"]]
    (p,) = refused(ws, csv_file(tmp_path, rows, delimiter=";"), decimal=",")
    assert (p.code, p.row, p.column) == ("AMBIGUOUS_NUMBER", 3, "value")
    assert f"'{value}'" in p.vi and f"'{value}'" in p.en
    assert "1.234.567,5" in p.vi and "nhóm 3 chữ số" in p.vi  # what was expected
    assert "groups of exactly 3 digits" in p.en and "Expected: a number such as 1.234.567,5" in p.en


def test_decimal_comma_thousands_groups_are_stored_exactly(ws, tmp_path):
    rows = [["GRDP_VA", "31", "63", "26", "2024", "1.234.567,5", "VND_BN"],
            ["GRDP_VA", "30", "63", "26", "2024", "1.234", "VND_BN"],
            ["DE_SHARE", "30", "63", "_T", "2024", "15,3", "PCT"]]
    assert ingest(ws, csv_file(tmp_path, rows, delimiter=";"), decimal=",").n_rows == 3
    obs = ws.store.observations().set_index(["indicator", "territory"]).value
    assert obs[("GRDP_VA", "63:31")] == 1234567.5 and obs[("GRDP_VA", "63:30")] == 1234.0
    assert obs[("DE_SHARE", "63:30")] == 15.3


def test_decimal_point_flags_a_single_dot_group_beside_dotted_thousands(ws, tmp_path):
    rows = [["GRDP_VA", "31", "63", "26", "2024", "1.234.567", "VND_BN"],
            ["GRDP_VA", "30", "63", "26", "2024", "1.234", "VND_BN"],
            ["GRDP_VA", "01", "63", "26", "2024", "12.5", "VND_BN"]]
    problems = refused(ws, csv_file(tmp_path, rows))
    bad, amb = only(problems, "BAD_VALUE"), only(problems, "AMBIGUOUS_NUMBER")
    assert [(p.row, p.column) for p in bad] == [(2, "value")] and "--decimal ," in bad[0].en
    assert [(p.row, p.column) for p in amb] == [(3, "value")]  # 12.5 is no thousands group
    (p,) = amb
    assert "'1.234'" in p.en and "'1.234.567' at row 2" in p.en and "1234" in p.en and "--decimal ," in p.en
    assert "'1.234.567' ở dòng 2" in p.vi and "--decimal ," in p.vi


def test_decimal_point_alone_reads_a_dot_as_the_decimal_mark(ws, tmp_path):
    rows = [["GRDP_VA", "31", "63", "26", "2024", "1.234", "VND_BN"]]
    assert ingest(ws, csv_file(tmp_path, rows)).n_rows == 1
    assert ws.store.observations().value.tolist() == [1.234]


# --- percentages ---------------------------------------------------------------------------------
def test_a_percent_is_read_as_shown_for_pct(ws, tmp_path):
    rows = [["DE_SHARE", "31", "63", "_T", "2024", "15,3%", "PCT"], ["DE_SHARE", "30", "63", "_T", "2024", "7%", "PCT"]]
    assert ingest(ws, csv_file(tmp_path, rows, delimiter=";"), decimal=",").n_rows == 2
    assert sorted(ws.store.observations().value) == [7.0, 15.3]


def test_a_percent_for_another_unit_is_refused(ws, tmp_path):
    rows = [OK, ["GRDP_VA", "30", "63", "26", "2024", "15.3%", "VND_BN"]]
    (p,) = refused(ws, csv_file(tmp_path, rows))
    assert (p.code, p.row, p.column) == ("PERCENT_UNIT", 3, "value")
    assert "'15.3%'" in p.en and "VND_BN" in p.en and "only unit PCT" in p.en
    assert "'15.3%'" in p.vi and "chỉ đơn vị PCT" in p.vi


def _xlsx(path: Path, rows, formats: dict[int, str]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet.title = "data"
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    for row in sheet.iter_rows(min_row=2):
        for col, fmt in formats.items():
            row[col].number_format = fmt
    wb.save(path)
    return path


def test_an_excel_percent_cell_is_the_percent_shown_never_a_ratio(ws, tmp_path):
    rows = [["DE_SHARE", "31", "63", "_T", "2024", 0.153, "PCT"], ["DE_SHARE", "30", "63", "_T", "2024", 0.07, "PCT"]]
    assert ingest(ws, _xlsx(tmp_path / "p.xlsx", rows, {5: "0.0%"})).n_rows == 2
    assert sorted(ws.store.observations().value) == [7.0, 15.3]


def test_an_excel_percent_cell_for_another_unit_is_refused(ws, tmp_path):
    rows = [["GRDP_VA", "31", "63", "26", "2024", 0.153, "VND_BN"]]
    (p,) = refused(ws, _xlsx(tmp_path / "p.xlsx", rows, {5: "0%"}))
    assert (p.code, p.row, p.column) == ("PERCENT_UNIT", 2, "value") and "'15.3%'" in p.en


def test_excel_number_cells_ignore_decimal_comma(ws, tmp_path):
    """An XLSX number cell is a number: --decimal , (for CSV text) must not turn 123456.7 into 1234567."""
    rows = [["GRDP_VA", "31", "63", "26", "2024", 123456.7, "VND_BN"]]
    assert ingest(ws, _xlsx(tmp_path / "n.xlsx", rows, {5: "#,##0.0"}), decimal=",").n_rows == 1
    assert ws.store.observations().value.tolist() == [123456.7]


# --- codes of a closed list ----------------------------------------------------------------------
def test_dti_main_index_takes_only_the_frameworks_main_indices(ws, tmp_path):
    rows = [["DTI_MAIN_INDEX", "48", "63", "nhan_thuc_so", "2022", "0.9", "INDEX01"],
            ["DTI_MAIN_INDEX", "48", "63", "made_up_1", "2022", "0.5", "INDEX01"]]
    (p,) = refused(ws, csv_file(tmp_path, rows))
    assert (p.code, p.row, p.column) == ("SECTOR_NOT_ALLOWED", 3, "sector")
    assert "'made_up_1'" in p.en and "nhan_thuc_so" in p.en and "hd_kinh_te_so" in p.en
    assert "'made_up_1'" in p.vi and "chỉ nhận một trong" in p.vi


def test_five_thousand_made_up_dti_codes_store_nothing(ws, tmp_path):
    rows = [["DTI_MAIN_INDEX", "48", "63", f"x{i}", "2022", "0.5", "INDEX01"] for i in range(5000)]
    problems = refused(ws, csv_file(tmp_path, rows))
    assert len(problems) == 5000 and {p.code for p in problems} == {"SECTOR_NOT_ALLOWED"}


def test_dti_main_index_codes_ignore_case_and_are_stored_canonically(ws, tmp_path):
    rows = [["DTI_MAIN_INDEX", "48", "63", "NHAN_THUC_SO", "2022", "0.9", "INDEX01"]]
    assert ingest(ws, csv_file(tmp_path, rows)).n_rows == 1
    assert ws.store.observations().sector.tolist() == ["nhan_thuc_so"]


# --- FUTURE_PERIOD -------------------------------------------------------------------------------
def test_an_actual_value_for_a_future_period_is_refused(ws, tmp_path):
    rows = [OK, ["GRDP_VA", "31", "34", "26", "2099", "1", "VND_BN"],
            ["EINVOICE_REVENUE", "31", "34", "26", "2026-12", "1", "VND_BN"]]
    problems = refused(ws, csv_file(tmp_path, rows))
    assert [(p.code, p.row, p.column) for p in problems] == [("FUTURE_PERIOD", 3, "period"), ("FUTURE_PERIOD", 4, "period")]
    assert "'2099' starts on 2099-01-01, after today (2026-11-28)" in problems[0].en and "status F" in problems[0].en
    assert "'2026-12' bắt đầu ngày 01/12/2026, sau hôm nay (28/11/2026)" in problems[1].vi


def test_forecasts_and_periods_already_begun_are_accepted(ws, tmp_path):
    header = HEADER + ["status"]
    rows = [["GRDP_VA", "31", "34", "26", "2099", "1", "VND_BN", "F"],
            ["GRDP_VA", "31", "34", "26", "2026-Q4", "1", "VND_BN", "A"],  # began on 2026-10-01
            ["EINVOICE_REVENUE", "31", "34", "26", "2026-11", "1", "VND_BN", ""]]
    assert ingest(ws, csv_file(tmp_path, rows, header)).n_rows == 3
    header_refused = refused(ws, csv_file(tmp_path, [["GRDP_VA", "31", "34", "26", "2027", "1", "VND_BN", "a"]],
                                          header, name="g.csv"))
    assert [(p.code, p.row) for p in header_refused] == [("FUTURE_PERIOD", 2)]


def test_future_is_judged_by_todays_clock(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "_today", lambda: dt.date(2100, 1, 1))
    with Workspace.init(tmp_path / "ws") as w:
        r = ingest(w, csv_file(tmp_path, [["GRDP_VA", "31", "34", "26", "2099", "1", "VND_BN"]]))
        assert r.n_rows == 1


# --- BASIS_MISMATCH ------------------------------------------------------------------------------
def test_a_keys_basis_must_agree_with_the_basis_column(ws, tmp_path):
    rows = [OK, ["GRDP_VA", "34:31", "63", "26", "2024", "1", "VND_BN"]]
    (p,) = refused(ws, csv_file(tmp_path, rows))
    assert (p.code, p.row, p.column) == ("BASIS_MISMATCH", 3, "territory")
    assert "'34:31' is on basis 34 but the basis column says '63'" in p.en and "'31'" in p.en
    assert "'34:31' thuộc cơ sở 34 nhưng cột basis ghi '63'" in p.vi


def test_a_key_with_its_own_basis_or_an_empty_basis_is_accepted(ws, tmp_path):
    rows = [["GRDP_VA", "34:31", "34", "26", "2024", "1", "VND_BN"], ["GRDP_VA", "63:30", "", "26", "2024", "1", "VND_BN"]]
    assert ingest(ws, csv_file(tmp_path, rows)).n_rows == 2
    assert set(ws.store.observations().territory) == {"34:31", "63:30"}


# --- CSV_PARSE -----------------------------------------------------------------------------------
def _raw(tmp_path, text: str) -> Path:
    p = tmp_path / "r.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_parse_too_many_cells_names_row_column_text_and_fix(ws, tmp_path):
    p = _raw(tmp_path, ",".join(HEADER) + "\nGRDP_VA,31,63,26,2024,1,VND_BN\nGRDP_VA,30,63,26,2024,1,5,VND_BN\n")
    (pr,) = refused(ws, p)
    assert (pr.code, pr.row, pr.column) == ("CSV_PARSE", 3, "H")
    assert "row 3: 8 cells but the header has 7 columns" in pr.en
    assert "'GRDP_VA,30,63,26,2024,1,5,VND_BN'" in pr.en and "Fix:" in pr.en and 'double quotes ("1,5")' in pr.en
    assert "dòng 3 có 8 ô nhưng tiêu đề có 7 cột" in pr.vi and "Cách sửa" in pr.vi
    assert "Expected Number" not in pr.vi and "Invalid Input" not in pr.vi  # no DuckDB English in Vietnamese


def test_csv_parse_too_few_cells_names_the_missing_column(ws, tmp_path):
    p = _raw(tmp_path, ",".join(HEADER) + "\nGRDP_VA,31,63,26,2024,1,VND_BN\nGRDP_VA,30,63,26,2024\n")
    (pr,) = refused(ws, p)
    assert (pr.code, pr.row, pr.column) == ("CSV_PARSE", 3, "value")
    assert "row 3: only 5 cells but the header has 7 columns (missing: value, unit)" in pr.en
    assert "dòng 3 chỉ có 5 ô" in pr.vi and "thiếu: value, unit" in pr.vi


def test_csv_parse_counts_every_extra_cell(ws, tmp_path):
    p = _raw(tmp_path, ",".join(HEADER) + "\nGRDP_VA,31,63,26,2024,1,VND_BN,extra,cells\n")
    (pr,) = refused(ws, p)
    assert (pr.row, pr.column) == (2, "H") and "9 cells but the header has 7 columns" in pr.en


def test_csv_parse_unterminated_quote(ws, tmp_path):
    p = _raw(tmp_path, ",".join(HEADER) + '\nGRDP_VA,31,63,26,2024,1,VND_BN\nGRDP_VA,"Hải Phòng,63,26,2024,1,VND_BN\n')
    (pr,) = refused(ws, p)
    assert (pr.code, pr.row, pr.column) == ("CSV_PARSE", 3, "territory")
    assert "double quote" in pr.en and "not closed" in pr.en and "dấu ngoặc kép" in pr.vi


def test_csv_parse_another_delimiter_on_a_row(ws, tmp_path):
    p = _raw(tmp_path, ",".join(HEADER) + "\nGRDP_VA,31,63,26,2024,1,VND_BN\nGRDP_VA;30;63;26;2024;1;VND_BN\n")
    (pr,) = refused(ws, p)
    assert (pr.code, pr.row) == ("CSV_PARSE", 3)
    assert "row 3: separated by ';' while the header uses ','" in pr.en and "dòng 3 dùng dấu phân cách ';'" in pr.vi


# --- grouping, duplicates of unresolved keys, capped hints, ranges --------------------------------
def test_thousands_of_rows_with_one_cause_are_one_line_with_a_count(ws, tmp_path):
    rows = [["GRDP_VA", "Hai Phong x", "63", "26", "2024", "1", "VND_BN"]] * 12_000
    problems = refused(ws, csv_file(tmp_path, rows))
    assert len(problems) == 12_000  # every row is kept (for FILE.problems.csv)
    (g,) = group_problems(problems)
    assert (g.code, g.count, g.first_row, g.column) == ("UNKNOWN_TERRITORY", 12_000, 2, "territory")
    assert "'Hai Phong x'" in g.located("en") and g.located("en").endswith("× 12,000 rows (first at row 2)")
    assert g.located("vi").endswith("× 12.000 dòng (dòng đầu: 2)")


def test_many_distinct_causes_of_one_code_are_capped_on_screen():
    ps = [Problem("OUT_OF_RANGE", f"v {i}", f"value {i}", "f.csv", i + 2, "value") for i in range(1000)]
    groups = group_problems(ps, per_code=5)
    assert len(groups) == 6 and sum(g.count for g in groups) == 1000
    last = groups[-1]
    assert (last.count, last.distinct, last.first_row) == (995, 995, 7)
    assert "995 more rows with 995 other values (first at row 7)" in last.located("en")
    assert "thêm 995 dòng" in last.located("vi")


def test_rows_whose_key_did_not_resolve_are_not_duplicates(ws, tmp_path):
    rows = [["GRDP_VA", "Nowhere", "63", "26", "2024", "1", "VND_BN"] for _ in range(20_000)]
    problems = refused(ws, csv_file(tmp_path, rows))
    assert {p.code for p in problems} == {"UNKNOWN_TERRITORY"} and len(problems) == 20_000


def test_resolved_duplicates_are_still_found(ws, tmp_path):
    rows = [OK, ["GRDP_VA", "Nowhere", "63", "26", "2024", "1", "VND_BN"], ["GRDP_VA", "Hải Phòng", "63", "26", "2024", "2", "VND_BN"]]
    problems = refused(ws, csv_file(tmp_path, rows))
    assert [(p.code, p.row) for p in problems] == [("UNKNOWN_TERRITORY", 3), ("DUPLICATE_KEY", 4)]


def test_closest_name_hints_are_capped(ws, tmp_path):
    n = 20_000
    rows = [["GRDP_VA", f"Hai Phong {i}", "63", "26", "2024", "1", "VND_BN"] for i in range(n)]
    t0 = time.perf_counter()
    problems = refused(ws, csv_file(tmp_path, rows))
    assert time.perf_counter() - t0 < 30
    hinted = [p for p in problems if "closest" in p.en]
    assert len(hinted) == load.MAX_HINTS and all("gần nhất" in p.vi for p in hinted)
    assert len(problems) == n


@pytest.mark.parametrize(
    ("row", "vi", "en"),
    [(["GRDP_VA", "31", "63", "26", "2024", "-5", "VND_BN"], "cho phép: ≥ 0.", "allowed range: ≥ 0."),
     (["DE_SHARE", "31", "63", "_T", "2024", "101", "PCT"], "cho phép: [0; 100].", "allowed range: [0, 100]."),
     (["DIGITAL_COEF", "31", "63", "26", "2024", "1.5", "RATIO"], "cho phép: [0; 1].", "allowed range: [0, 1].")],
)
def test_ranges_print_as_bounds_not_infinity(ws, tmp_path, row, vi, en):
    (p,) = refused(ws, csv_file(tmp_path, [row]))
    assert (p.code, p.row) == ("OUT_OF_RANGE", 2)
    assert p.vi.endswith(vi) and p.en.endswith(en) and "∞" not in p.vi + p.en


def test_range_wording_for_each_kind_of_bound():
    assert load._fmt_range(None, 100.0, "en") == "≤ 100"
    assert load._fmt_range(0.0, None, "vi") == "≥ 0"
    assert load._fmt_range(0.0, 0.5, "vi") == "[0; 0,5]" and load._fmt_range(0.0, 0.5, "en") == "[0, 0.5]"
    assert load._fmt_range(None, None, "en") == "unbounded"
