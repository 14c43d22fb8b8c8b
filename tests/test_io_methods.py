"""The input-output engine on hand-computed tables, bad files, and invariants (hypothesis)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kinhteso.cli import main
from kinhteso.errors import InputRejected, MethodError, UsageError
from kinhteso.ingest.iotables import read_four_files, read_wide
from kinhteso.methods import io

# Miller & Blair (2009) table 2.3: two sectors, Z and x.
Z2 = np.array([[150.0, 500.0], [200.0, 100.0]])
X2 = np.array([1000.0, 2000.0])
DET = 0.85 * 0.95 - 0.25 * 0.20  # |I − A| = 0.7575


# --------------------------------------------------------------------------- hand-computed


def test_coefficients_and_leontief_inverse_by_hand():
    A = io.technical_coefficients(Z2, X2)
    np.testing.assert_allclose(A, [[0.15, 0.25], [0.20, 0.05]], rtol=1e-15)
    L = io.leontief_inverse(A)
    np.testing.assert_allclose(L, np.array([[0.95, 0.25], [0.20, 0.85]]) / DET, rtol=1e-14)
    np.testing.assert_allclose(io.output_multipliers(A), [1.15 / DET, 1.10 / DET], rtol=1e-14)
    # x = L·y reproduces output from final demand y = x − Z·1 = (350, 1700)
    np.testing.assert_allclose(io.leontief_output(A, [350.0, 1700.0]), X2, rtol=1e-14)


def test_ghosh_model_by_hand():
    B = io.allocation_coefficients(Z2, X2)
    np.testing.assert_allclose(B, [[0.15, 0.50], [0.10, 0.05]], rtol=1e-15)
    G = io.ghosh_inverse(B)
    # |I − B| = 0.85·0.95 − 0.5·0.1 = 0.7575; G = adj(I − B) / |I − B|
    np.testing.assert_allclose(G, np.array([[0.95, 0.50], [0.10, 0.85]]) / DET, rtol=1e-14)
    # G = x̂⁻¹ L x̂ (M&B eq. 12.9), used by the forward linkage
    L = io.leontief_inverse(io.technical_coefficients(Z2, X2))
    np.testing.assert_allclose(G, np.diag(1 / X2) @ L @ np.diag(X2), rtol=1e-14)


def test_factor_effects_and_type_i_multipliers_by_hand():
    A = io.technical_coefficients(Z2, X2)
    f = np.array([0.3, 0.1])  # e.g. jobs per unit of output
    e = io.factor_effects(A, f)
    np.testing.assert_allclose(e, [(0.3 * 0.95 + 0.1 * 0.2) / DET, (0.3 * 0.25 + 0.1 * 0.85) / DET], rtol=1e-14)
    np.testing.assert_allclose(io.factor_multipliers(e, f), e / f, rtol=1e-15)
    m = io.factor_multipliers([1.0, 2.0], [0.5, 0.0])
    assert m[0] == 2.0 and np.isnan(m[1])


def test_linkages_and_key_sectors_by_hand():
    L = io.leontief_inverse(io.technical_coefficients(Z2, X2))
    link = io.linkages(L, X2, forward="leontief")
    col = np.array([1.15, 1.10]) / DET
    row = np.array([1.20, 1.05]) / DET
    np.testing.assert_allclose(link["backward"], col / col.mean(), rtol=1e-14)
    np.testing.assert_allclose(link["forward"], row / row.mean(), rtol=1e-14)
    assert link["key_sector"].tolist() == [True, False]
    ghosh = io.linkages(L, X2, forward="ghosh")
    g = io.ghosh_inverse(io.allocation_coefficients(Z2, X2)).sum(axis=1)
    np.testing.assert_allclose(ghosh["forward"], g / g.mean(), rtol=1e-14)
    with pytest.raises(UsageError):
        io.linkages(L, X2, forward="nope")  # type: ignore[arg-type]


def test_zero_output_product_is_reported_not_nan():
    Z = np.array([[10.0, 0.0, 20.0], [0.0, 0.0, 0.0], [30.0, 0.0, 5.0]])
    x = np.array([100.0, 0.0, 80.0])
    r = io.analyse(Z, x, codes=["01", "02", "03"], factors={"va": [60.0, 0.0, 55.0]})
    assert r.zero_output == ("02",)
    assert np.isfinite(r.A.to_numpy()).all() and (r.A["02"] == 0).all()
    assert np.isfinite(r.L.to_numpy()).all()
    m = r.multipliers.set_index("code")
    assert m.loc["02", "output_multiplier"] == 1.0
    assert np.isnan(m.loc["02", "va_multiplier"])  # empty, never infinite
    assert m.drop(columns="va_multiplier").notna().all().all()
    assert m.loc[["01", "03"], "va_multiplier"].notna().all()
    lk = r.linkages.set_index("code")
    assert bool(lk.loc["02", "zero_output"]) and np.isfinite(lk[["backward", "forward"]].to_numpy()).all()
    B = io.allocation_coefficients(Z, x)
    assert (B[1] == 0).all()


def test_zero_output_with_flows_is_refused():
    Z = np.array([[10.0, 5.0], [0.0, 0.0]])
    with pytest.raises(MethodError) as err:
        io.analyse(Z, [100.0, 0.0])
    assert err.value.code == "IO_ZERO_OUTPUT_FLOWS"
    assert "đầu ra" in err.value.vi and "zero output" in err.value.en


def test_method_input_errors():
    with pytest.raises(MethodError, match="IO_NOT_SQUARE"):
        io.technical_coefficients(np.zeros((2, 3)), [1.0, 1.0])
    with pytest.raises(MethodError, match="IO_NEGATIVE_OUTPUT"):
        io.technical_coefficients(Z2, [-1.0, 2000.0])
    with pytest.raises(MethodError, match="IO_LENGTH"):
        io.technical_coefficients(Z2, [1.0])
    with pytest.raises(MethodError, match="IO_SINGULAR"):
        io.leontief_inverse(np.array([[1.0, 0.0], [0.0, 0.5]]))
    with pytest.raises(MethodError, match="IO_DUPLICATE_CODE"):
        io.analyse(Z2, X2, codes=["a", "a"])


# --------------------------------------------------------------------------- ADB and ICT intensity


def test_adb_single_digital_sector_by_hand():
    va = np.array([650.0, 1400.0])  # x − column sums of Z
    est = io.adb_value_flow(Z2, X2, va, codes=["dig", "oth"], digital=["dig"])
    L = np.array([[0.95, 0.25], [0.20, 0.85]]) / DET
    v = va / X2
    y = np.array([350.0, 1700.0])
    M = v[:, None] * L * y[None, :]
    t = est.terms.set_index("term")["value"]
    assert t["backward_linkage"] == pytest.approx(M[:, 0].sum(), rel=1e-14)
    assert t["forward_linkage"] == pytest.approx(M[0, :].sum(), rel=1e-14)
    assert t["double_counting"] == pytest.approx(M[0, 0], rel=1e-14)
    assert t["total"] == pytest.approx(M.sum() - M[1, 1], rel=1e-14)
    # with one digital sector the ADB's printed diag(M)ᵀε₁ equals the block overlap
    diag = io.adb_value_flow(Z2, X2, va, codes=["dig", "oth"], digital=["dig"], double_count="diagonal")
    assert diag.total == pytest.approx(est.total, rel=1e-15)
    assert est.gdp == 2050.0 and est.share == pytest.approx(est.total / 2050.0)
    # investment link: digital industries invest 100 in product oth
    inv = io.adb_value_flow(Z2, X2, va, codes=["dig", "oth"], digital=["dig"], digital_investment=[40.0, 100.0])
    ti = inv.terms.set_index("term")["value"]
    assert ti["investment_link"] == pytest.approx(v[1] * L[1, 1] * 100.0, rel=1e-14)
    assert inv.total == pytest.approx(est.total + ti["investment_link"], rel=1e-14)
    doc = inv.as_dict()
    assert set(doc["terms"]) == {"backward_linkage", "forward_linkage", "double_counting", "investment_link", "total"}


def test_adb_rejects_unknown_digital_codes():
    with pytest.raises(UsageError) as err:
        io.adb_value_flow(Z2, X2, [650.0, 1400.0], codes=["a", "b"], digital=["2620"])
    assert "2620" in err.value.en and "2620" in err.value.vi


def test_ict_input_intensity_with_concordance():
    Z = np.array([[1.0, 4.0, 0.0], [3.0, 4.0, 0.0], [0.0, 2.0, 0.0]])
    conc = pd.DataFrame({"code": ["a", "a", "b"], "vsic": ["01", "02", "61"]})
    f = io.ict_input_intensity(Z, codes=["a", "b", "c"], digital=["b"], concordance=conc)
    assert f.columns.tolist() == ["code", "vsic", "digital_inputs", "intermediate_consumption", "intensity"]
    assert f["vsic"].tolist() == ["01", "02", "61"]
    np.testing.assert_allclose(f["intensity"], [0.75, 0.75, 0.4])
    assert f.attrs["no_intermediate_consumption"] == ["c"]
    g = io.ict_input_intensity(Z, codes=["a", "b", "c"], digital=["b"], intermediate_consumption=[8.0, 20.0, 0.0])
    np.testing.assert_allclose(g["intensity"], [3 / 8, 4 / 20])
    with pytest.raises(UsageError, match="IO_CONCORDANCE"):
        io.ict_input_intensity(Z, codes=["a", "b", "c"], digital=["b"], concordance=pd.DataFrame({"code": ["a"]}))


# --------------------------------------------------------------------------- readers


def _write_table(d, codes=("01", "06-07", "62"), Z=None, x=None, cols=None):
    Z = np.array([[10, 20, 5], [4, 30, 6], [8, 2, 40]], float) if Z is None else Z
    x = [100, 200, 150] if x is None else x
    cols = list(codes) if cols is None else cols
    lines = ["code," + ",".join(cols)]
    for c, row in zip(codes, Z):
        lines.append(c + "," + ",".join(str(v) for v in row))
    (d / "Z.csv").write_text("\n".join(lines) + "\n")
    (d / "x.csv").write_text("code,value\n" + "".join(f"{c},{v}\n" for c, v in zip(codes, x)))
    (d / "gva.csv").write_text("code,value\n" + "".join(f"{c},{v * 0.4}\n" for c, v in zip(codes, x)))
    return d / "Z.csv", d / "x.csv"


def test_four_files_keep_codes_as_text_and_reorder_columns(tmp_path):
    Z = np.array([[10, 20, 5], [4, 30, 6], [8, 2, 40]], float)
    # header in another order than the rows: columns are matched by code
    cols = ["62", "01", "06-07"]
    zf, xf = _write_table(tmp_path, Z=Z[:, [2, 0, 1]], cols=cols)
    t = read_four_files(zf, xf, factors={"gva": tmp_path / "gva.csv"})
    assert t.codes == ("01", "06-07", "62")
    np.testing.assert_array_equal(t.Z, Z)
    np.testing.assert_array_equal(t.x, [100, 200, 150])
    np.testing.assert_allclose(t.factors["gva"], [40, 80, 60])


def _rejected(fn) -> list:
    with pytest.raises(InputRejected) as err:
        fn()
    return err.value.problems


def test_four_files_reject_mismatched_codes(tmp_path):
    zf, xf = _write_table(tmp_path)
    xf.write_text("code,value\n1,100\n06-07,200\n62,150\n")  # "1" is not "01"
    problems = _rejected(lambda: read_four_files(zf, xf))
    assert {p.code for p in problems} == {"IO_CODE_MISMATCH"}
    text = " ".join(p.en for p in problems)
    assert "'01'" in text and "'1'" in text
    assert all(p.vi and p.en and p.file == str(xf) for p in problems)


def test_four_files_reject_non_square_and_bad_cells(tmp_path):
    (tmp_path / "Z.csv").write_text("code,a,b\na,1,2\n")
    (tmp_path / "x.csv").write_text("code,value\na,1\n")
    assert "IO_NOT_SQUARE" in {p.code for p in _rejected(lambda: read_four_files(tmp_path / "Z.csv", tmp_path / "x.csv"))}
    zf, xf = _write_table(tmp_path)
    zf.write_text("code,01,06-07,62\n01,10,abc,5\n06-07,4,30,6\n62,8,,40\n")
    problems = _rejected(lambda: read_four_files(zf, xf))
    assert [(p.code, p.row, p.column) for p in problems] == [("IO_NOT_NUMBER", 2, "06-07"), ("IO_NOT_NUMBER", 4, "06-07")]
    assert "abc" in problems[0].en and "abc" in problems[0].vi


def test_four_files_reject_negative_output_and_bad_columns(tmp_path):
    zf, xf = _write_table(tmp_path, x=[100, -5, 150])
    problems = _rejected(lambda: read_four_files(zf, xf))
    assert [(p.code, p.row) for p in problems] == [("IO_NEGATIVE_OUTPUT", 3)]
    xf.write_text("product,amount\n01,1\n")
    assert "IO_COLUMNS" in {p.code for p in _rejected(lambda: read_four_files(zf, xf))}


def test_wide_reader_names_its_rows(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "row,01,02,TOTAL,hh\n01,10,20,30,70\n02,5,15,20,80\nTOTAL,15,35,50,\n"
        "Compensation,40,90,,\nTotal output,100,100,,\n"
    )
    t = read_wide(p)
    assert t.codes == ("01", "02")
    np.testing.assert_array_equal(t.x, [100, 100])
    assert list(t.factors) == ["Compensation"]
    np.testing.assert_array_equal(t.y, [70, 80])
    p.write_text("row,01,02\n01,1,2\n02,3,4\n")
    assert "IO_NO_OUTPUT_ROW" in {pr.code for pr in _rejected(lambda: read_wide(p))}


# --------------------------------------------------------------------------- CLI


def _invoke(args):
    return CliRunner().invoke(main, ["--lang", "en", "io", *args])


def test_cli_writes_every_file(tmp_path):
    zf, xf = _write_table(tmp_path)
    (tmp_path / "jobs.csv").write_text("code,value\n01,0\n06-07,3\n62,2\n")
    out = tmp_path / "out"
    r = _invoke(["--Z", str(zf), "--x", str(xf), "--factor", f"gva={tmp_path / 'gva.csv'}",
                 "--factor", f"jobs={tmp_path / 'jobs.csv'}", "--digital", "62", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["A.csv", "L.csv", "digital.json", "linkages.csv", "multipliers.csv"]
    A = pd.read_csv(out / "A.csv", dtype={"code": str})
    assert A["code"].tolist() == ["01", "06-07", "62"] and A.columns.tolist() == ["code", "01", "06-07", "62"]
    m = pd.read_csv(out / "multipliers.csv", dtype={"code": str}, keep_default_na=False)
    assert m.columns.tolist() == ["code", "output_multiplier", "gva_effect", "gva_multiplier", "jobs_effect", "jobs_multiplier"]
    assert m.loc[0, "jobs_multiplier"] == ""  # zero direct coefficient: empty, not inf
    assert float(m.loc[1, "jobs_multiplier"]) > 1
    doc = json.loads((out / "digital.json").read_text())
    assert doc["digital_products"] == ["62"] and 0 < doc["share_of_gdp"] < 1
    assert {"backward_linkage", "forward_linkage", "double_counting", "investment_link", "total"} == set(doc["terms"])
    lk = pd.read_csv(out / "linkages.csv", dtype={"code": str})
    assert lk.columns.tolist()[:3] == ["code", "backward", "forward"]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: (d / "x.csv").write_text("code,value\n01,100\n06-07,200\n"),  # code set differs
        lambda d: (d / "Z.csv").write_text("code,01,06-07\n01,1,2\n06-07,3,4\n62,5,6\n"),  # not square
        lambda d: (d / "x.csv").write_text("code,value\n01,100\n06-07,-1\n62,150\n"),  # negative output
        lambda d: (d / "Z.csv").write_text("code,01,06-07,62\n01,1,x,2\n06-07,3,4,5\n62,1,1,1\n"),  # not a number
    ],
)
def test_cli_bad_files_exit_1_and_write_nothing(tmp_path, breakage):
    zf, xf = _write_table(tmp_path)
    breakage(tmp_path)
    out = tmp_path / "out"
    r = _invoke(["--Z", str(zf), "--x", str(xf), "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "rejected" in r.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kinhteso-io-")]


@pytest.mark.parametrize(
    "extra",
    [
        ["--factor", "gva"],  # no file
        ["--factor", "1bad=gva.csv"],  # bad name
        ["--digital", "99"],  # not a code of the table
        ["--digital", "62", "--va", "missing"],  # no value-added factor
    ],
)
def test_cli_usage_errors_exit_2_and_write_nothing(tmp_path, extra, monkeypatch):
    monkeypatch.chdir(tmp_path)
    zf, xf = _write_table(tmp_path)
    out = tmp_path / "out"
    r = _invoke(["--Z", str(zf), "--x", str(xf), "--factor", "gva=gva.csv", *extra, "--out", str(out)]
                if extra[0] != "--factor" else ["--Z", str(zf), "--x", str(xf), *extra, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert not out.exists()


def test_cli_singular_table_exit_1(tmp_path):
    zf, xf = _write_table(tmp_path, Z=np.array([[100, 0, 0], [0, 1, 0], [0, 0, 1]], float))
    out = tmp_path / "out"
    r = _invoke(["--Z", str(zf), "--x", str(xf), "--out", str(out)])
    assert r.exit_code == 1 and "IO_SINGULAR" in r.output
    assert not out.exists()


# --------------------------------------------------------------------------- properties


@st.composite
def tables(draw):
    """A productive table: coefficients with column sums at most 0.9, positive final demand."""
    n = draw(st.integers(2, 7))
    raw = draw(arrays(np.float64, (n, n), elements=st.floats(0, 1, allow_nan=False)))
    share = draw(arrays(np.float64, n, elements=st.floats(0, 0.9, allow_nan=False)))
    A = raw / np.maximum(raw.sum(axis=0), 1e-12) * share[None, :]
    y = draw(arrays(np.float64, n, elements=st.floats(1, 500, allow_nan=False)))
    f = draw(arrays(np.float64, n, elements=st.floats(0, 50, allow_nan=False)))
    x = np.linalg.solve(np.eye(n) - A, y)
    return A * x[None, :], x, f


@settings(max_examples=60, deadline=None)
@given(tables())
def test_leontief_identities(table):
    Z, x, f = table
    A = io.technical_coefficients(Z, x)
    L = io.leontief_inverse(A)
    n = len(x)
    np.testing.assert_allclose(L @ (np.eye(n) - A), np.eye(n), atol=1e-9)
    y = x - Z.sum(axis=1)
    np.testing.assert_allclose(L @ y, x, rtol=1e-9)
    np.testing.assert_allclose(io.leontief_output(A, y), x, rtol=1e-9)
    m = io.output_multipliers(A)
    assert (m >= 1 - 1e-12).all()
    np.testing.assert_allclose(m, L.sum(axis=0), rtol=1e-10)
    # total factor content of final demand equals the factor total: (fᵀL)·y = fᵀx
    c = f / x
    assert io.factor_effects(A, c) @ y == pytest.approx(f.sum(), rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(tables(), st.data())
def test_adb_terms_partition_value_added(table, data):
    Z, x, f = table
    n = len(x)
    k = data.draw(st.integers(1, n))
    codes = [f"p{i}" for i in range(n)]
    va = x - Z.sum(axis=0)  # value added closes each column
    est = io.adb_value_flow(Z, x, va, codes=codes, digital=codes[:k])
    t = est.terms.set_index("term")["value"]
    assert t["total"] == pytest.approx(t["backward_linkage"] + t["forward_linkage"] - t["double_counting"])
    assert -1e-9 <= t["double_counting"] <= min(t["backward_linkage"], t["forward_linkage"]) + 1e-9
    assert t["total"] <= est.gdp * (1 + 1e-9)
    if k == n:
        assert est.share == pytest.approx(1.0, rel=1e-9)


# --------------------------------------------------------------------------- concordance and ADB core


def test_select_digital_marks_exact_and_partial_matches():
    conc = pd.DataFrame({"code": ["C26", "J61", "J62_63", "G46"], "vsic": ["26", "6110", "62", "4651"]})
    m = io.select_digital(conc)
    assert m[["code", "core", "exact"]].values.tolist() == [
        ["C26", "2620", False], ["C26", "2680", False], ["J61", "61", True], ["J62_63", "62", True],
    ]
    # a user's core list (e.g. one including wholesale of computers 4651) is taken as given
    assert io.select_digital(conc, core=("4651",))["code"].tolist() == ["G46"]


def test_read_concordance_checks_codes(tmp_path):
    from kinhteso.ingest.iotables import read_concordance

    p = tmp_path / "c.csv"
    p.write_text("code,vsic\n01,01\n06-07,06\n06-07,07\n62,62\n")
    c = read_concordance(p, codes=["01", "06-07", "62"])
    assert c.values.tolist() == [["01", "01"], ["06-07", "06"], ["06-07", "07"], ["62", "62"]]
    p.write_text("code,vsic\n01,1\n99,62\n")
    problems = _rejected(lambda: read_concordance(p, codes=["01", "62"]))
    assert [(pr.code, pr.row, pr.column) for pr in problems] == [("IO_VSIC_CODE", 2, "vsic"), ("IO_CODE_MISMATCH", 3, "code")]


def test_cli_digital_adb_through_concordance(tmp_path):
    zf, xf = _write_table(tmp_path)
    conc = tmp_path / "conc.csv"
    conc.write_text("code,vsic\n01,01\n06-07,06\n62,6201\n")
    out = tmp_path / "out"
    args = ["--Z", str(zf), "--x", str(xf), "--factor", f"gva={tmp_path / 'gva.csv'}", "--digital", "adb"]
    r = _invoke([*args, "--out", str(out)])
    assert r.exit_code == 2 and "--concordance" in r.output and not out.exists()
    r = _invoke([*args, "--concordance", str(conc), "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "digital.json").read_text())
    assert doc["digital_products"] == ["62"]
    assert doc["adb_core_matches"] == [{"code": "62", "class": "6201", "core": "62", "exact": True}]
    assert [row["vsic"] for row in doc["ict_input_intensity"]] == ["01", "06", "6201"]


def test_wide_reader_reads_xlsx_with_text_codes(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["row", "01", "06-07"], ["01", 10, 20], ["06-07", 5, 15], ["Total output", 100, 80], ["gva", 60, 40]):
        ws.append(row)
    p = tmp_path / "t.xlsx"
    wb.save(p)
    t = read_wide(p)
    assert t.codes == ("01", "06-07")
    np.testing.assert_array_equal(t.Z, [[10, 20], [5, 15]])
    np.testing.assert_array_equal(t.factors["gva"], [60, 40])
