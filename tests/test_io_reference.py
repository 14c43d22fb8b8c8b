"""The input-output engine against published results (../shared/reference/io).

UK 2010: ONS analytical input-output tables (A, L, output, GVA and employment-cost multipliers
and effects). Netherlands 2000 and Germany 1995 (Eurostat Manual of Supply, Use and
Input-Output Tables, 2008, Beutel's examples, as shipped by the R package iotables): numbers
published in the reference README. pymrio's test MRIO: A, L and x as pymrio computes them.
The ADB (2021) value-flow estimate is computed on the UK table, each term checked against the
explicit value-flow matrix M = v̂·L·ŷ.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kinhteso.errors import MethodError
from kinhteso.ingest.iotables import read_eurostat_long, read_wide
from kinhteso.methods import io
from tests.conftest import shared_path

IOT = ("reference", "io", "iotables")

#: The UK digital products closest to the ADB core (ISIC 2620, 2680, 5820, 61, 62, 6311, 6312):
#: CPA 26 (computer, electronic and optical products), 58 (publishing), 61, 62, 63 (information
#: services). The UK table's 127 products are coarser than ISIC 4-digit, so this is broader.
UK_DIGITAL = ["26", "58", "61", "62", "63"]


def _readme_numbers(after: str) -> list[float]:
    """Numbers published in the reference README on the line naming ``after``."""
    text = shared_path("reference", "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if after in ln)
    return [float(v) for v in re.findall(r"\d+\.\d+", line.split(after, 1)[1])]


@pytest.fixture(scope="module")
def uk():
    table = read_wide(shared_path(*IOT, "uk_2010_siot_domestic_pxp_wide.csv"))
    f = table.factors
    gva = f["Compensation of employees"] + f["Gross Operating Surplus"] + f["Taxes less subsidies on production"]
    result = io.analyse(
        table.Z, table.x, codes=table.codes, factors={"gva": gva, "coe": f["Compensation of employees"]}
    )
    return table, gva, result


@pytest.fixture(scope="module")
def ons():
    """ONS multipliers, keyed by product code through the row-label file."""
    labels = pd.read_csv(shared_path(*IOT, "uk_2010_row_labels.csv"), dtype=str, keep_default_na=False)
    pub = pd.read_csv(shared_path(*IOT, "uk_2010_published_multipliers_ONS.csv"))
    code_of = dict(zip(labels["uk_row_lab"], labels["uk_row"]))
    pub["code"] = pub["uk_row_label"].map(code_of)
    assert pub["code"].notna().all()
    return pub.set_index("code")


def _published_wide(name: str) -> pd.DataFrame:
    return pd.read_csv(shared_path(*IOT, name), dtype={"uk_row": str}).set_index("uk_row")


def test_uk_reader_keeps_codes_as_text(uk):
    table, _, _ = uk
    assert len(table.codes) == 127
    assert table.codes[:5] == ("01", "02", "03", "05", "06-07")


def test_uk_coefficients_match_ons(uk):
    table, _, result = uk
    pub = _published_wide("uk_2010_published_coefficients_A_wide.csv")
    codes = list(table.codes)
    np.testing.assert_allclose(result.A.loc[codes, codes].to_numpy(), pub.loc[codes, codes].to_numpy(), rtol=0, atol=1e-9)


def test_uk_leontief_inverse_matches_ons(uk):
    table, _, result = uk
    pub = _published_wide("uk_2010_published_leontief_L_wide.csv")
    codes = list(table.codes)
    np.testing.assert_allclose(result.L.loc[codes, codes].to_numpy(), pub.loc[codes, codes].to_numpy(), rtol=0, atol=1e-9)
    # the published "Total" row of L is the output multiplier
    np.testing.assert_allclose(result.multipliers["output_multiplier"], pub.loc["Total", codes].to_numpy(), atol=1e-9)


def test_uk_output_multipliers_match_ons(uk, ons):
    table, _, result = uk
    got = result.multipliers.set_index("code")
    np.testing.assert_allclose(got["output_multiplier"], ons.loc[list(table.codes), "Output multiplier"], rtol=0, atol=1e-9)
    # solved from (I − A)ᵀ m = 1, not from L: the same numbers
    np.testing.assert_allclose(io.output_multipliers(result.A.to_numpy()), got["output_multiplier"], atol=1e-12)


def test_uk_gva_multipliers_and_effects_match_ons(uk, ons):
    table, _, result = uk
    got = result.multipliers.set_index("code").loc[list(table.codes)]
    pub = ons.loc[list(table.codes)]
    np.testing.assert_allclose(got["gva_effect"], pub["GVA effects"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["gva_multiplier"], pub["GVA multiplier"], rtol=0, atol=1e-9)


def test_uk_employment_cost_effects_and_multipliers_match_ons(uk, ons):
    table, _, result = uk
    got = result.multipliers.set_index("code").loc[list(table.codes)]
    pub = ons.loc[list(table.codes)]
    np.testing.assert_allclose(got["coe_effect"], pub["Employment cost effects"], rtol=0, atol=1e-9)
    zero = got["coe_coefficient"] == 0
    # 68-2IMP (imputed rent) pays no compensation: ONS prints 0, we leave the multiplier empty
    assert list(got.index[zero]) == ["68-2IMP"]
    assert got.loc[zero, "coe_multiplier"].isna().all()
    assert (pub.loc[zero, "Employment cost multiplier"] == 0).all()
    np.testing.assert_allclose(
        got.loc[~zero, "coe_multiplier"], pub.loc[~zero, "Employment cost multiplier"], rtol=0, atol=1e-9
    )


def test_netherlands_type_i_compensation_multipliers():
    published = _readme_numbers("type-I compensation-of-employees multipliers =")
    assert len(published) == 6
    table = read_wide(shared_path(*IOT, "netherlands_2000_siot.csv"))
    assert table.codes == (
        "agriculture_group", "mining_group", "manufacturing_group",
        "utilities_group", "construction_group", "services_group",
    )
    result = io.analyse(table.Z, table.x, codes=table.codes, factors={"coe": table.factors["compensation_employees"]})
    np.testing.assert_allclose(result.multipliers["coe_multiplier"].round(3), published, rtol=0, atol=1e-12)


def test_germany_1995_leontief_diagonal():
    published = _readme_numbers("diag(L) =")
    assert len(published) >= 3
    table = read_eurostat_long(shared_path(*IOT, "germany_1995_long.csv"))
    assert table.codes == ("CPA_A", "CPA_B-E", "CPA_F", "CPA_G-I", "CPA_J-N", "CPA_O-T")
    L = io.leontief_inverse(io.technical_coefficients(table.Z, table.x))
    np.testing.assert_allclose(np.diag(L)[: len(published)].round(4), published, rtol=0, atol=1e-12)
    # the long reader takes every complete primary-input row as a factor
    assert {"D1", "B1G", "EMP"} <= set(table.factors)


def test_croatia_2010_reads_and_its_singular_product_is_reported():
    """Croatia's product U has output equal to its own use (A_UU = 1): no Leontief inverse."""
    table = read_wide(shared_path(*IOT, "croatia_2010_1700_siot_wide.csv"))
    assert table.codes[0] == "A01" and "J61" in table.codes and "U" in table.codes
    with pytest.raises(MethodError) as err:
        io.analyse(table.Z, table.x, codes=table.codes)
    assert err.value.code == "IO_SINGULAR"
    keep = [i for i, c in enumerate(table.codes) if c != "U"]
    result = io.analyse(table.Z[np.ix_(keep, keep)], table.x[keep], codes=[table.codes[i] for i in keep])
    assert np.isfinite(result.L.to_numpy()).all()


# --------------------------------------------------------------------------- pymrio


def _mrio_txt(name: str) -> pd.DataFrame:
    path = shared_path("reference", "io", "pymrio_test_mrio", "mrio_data", name)
    return pd.read_csv(path, sep="\t", header=[0, 1], index_col=[0, 1, 2])


def _mrio_ref(name: str, *, cols: int = 2) -> pd.DataFrame:
    path = shared_path("reference", "io", "pymrio_test_mrio", "ref", name)
    return pd.read_csv(path, header=list(range(cols)), index_col=[0, 1])


def test_pymrio_test_mrio_read_as_one_table():
    Z = _mrio_txt("trade_flows_Z.txt")
    Y = _mrio_txt("finald_demand_Y.txt")
    Z.index = Z.index.droplevel(2)
    Y.index = Y.index.droplevel(2)
    assert list(Z.index) == list(Z.columns)
    codes = [f"{r}/{s}" for r, s in Z.index]
    x = io.total_output(Z.to_numpy(), Y.loc[Z.index].to_numpy())
    ref_x = pd.read_csv(shared_path("reference", "io", "pymrio_test_mrio", "ref", "x.csv"), index_col=[0, 1])
    np.testing.assert_allclose(x, ref_x.loc[Z.index, "indout"].to_numpy(), rtol=1e-12)
    result = io.analyse(Z.to_numpy(), x, codes=codes)
    ref_A = _mrio_ref("A.csv").loc[Z.index, Z.columns].to_numpy()
    ref_L = _mrio_ref("L.csv").loc[Z.index, Z.columns].to_numpy()
    np.testing.assert_allclose(result.A.to_numpy(), ref_A, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(result.L.to_numpy(), ref_L, rtol=1e-9, atol=1e-13)


# --------------------------------------------------------------------------- ADB on the UK table


def test_adb_value_flow_on_uk_2010_every_term(uk):
    table, gva, _ = uk
    est = io.adb_value_flow(table.Z, table.x, gva, codes=table.codes, digital=UK_DIGITAL)
    terms = est.terms.set_index("term")
    assert list(terms.index) == ["backward_linkage", "forward_linkage", "double_counting", "investment_link", "total"]
    # the explicit value-flow matrix M = v̂ L ŷ (ADB 2021), with y = x − Z·1
    A = io.technical_coefficients(table.Z, table.x)
    L = io.leontief_inverse(A)
    v = gva / table.x
    y = table.x - table.Z.sum(axis=1)
    M = v[:, None] * L * y[None, :]
    d = np.isin(table.codes, UK_DIGITAL)
    assert M.sum() == pytest.approx(gva.sum(), rel=1e-12)  # 1ᵀ M 1 = GDP at basic prices
    assert est.gdp == pytest.approx(gva.sum(), rel=1e-15)
    assert terms.loc["backward_linkage", "value"] == pytest.approx(M[:, d].sum(), rel=1e-12)
    assert terms.loc["forward_linkage", "value"] == pytest.approx(M[d, :].sum(), rel=1e-12)
    assert terms.loc["double_counting", "value"] == pytest.approx(M[np.ix_(d, d)].sum(), rel=1e-12)
    assert terms.loc["investment_link", "value"] == 0.0 and not est.investment_estimated
    # identity: backward + forward − double count = value added in rows or columns of D
    union = M.sum() - M[np.ix_(~d, ~d)].sum()
    assert terms.loc["total", "value"] == pytest.approx(union, rel=1e-12)
    # the forward term is the digital industries' own value added
    assert terms.loc["forward_linkage", "value"] == pytest.approx(gva[d].sum(), rel=1e-12)
    np.testing.assert_allclose(terms["share_of_gdp"], terms["value"] / gva.sum(), rtol=1e-15)
    assert 0 < est.share < 1
    # the rule printed by ADB, diag(M)ᵀ ε₁, removes less when there are several digital products
    diag = io.adb_value_flow(table.Z, table.x, gva, codes=table.codes, digital=UK_DIGITAL, double_count="diagonal")
    assert diag.terms.set_index("term").loc["double_counting", "value"] == pytest.approx(np.diag(M)[d].sum(), rel=1e-12)
    assert diag.total > est.total


def test_adb_investment_link_on_uk_2010(uk):
    table, gva, _ = uk
    # an illustrative investment vector: digital industries buy 1% of each product's GFCF
    raw = pd.read_csv(shared_path(*IOT, "uk_2010_siot_domestic_pxp_wide.csv"), dtype={"uk_row": str}).set_index("uk_row")
    gfcf = raw.loc[list(table.codes), "Gross fixed capital formation"].to_numpy(float)
    k = 0.01 * gfcf
    est = io.adb_value_flow(table.Z, table.x, gva, codes=table.codes, digital=UK_DIGITAL, digital_investment=k)
    d = np.isin(table.codes, UK_DIGITAL)
    L = io.leontief_inverse(io.technical_coefficients(table.Z, table.x))
    v = gva / table.x
    expected = ((~d) * v) @ L @ (k * ~d)
    assert est.investment_estimated
    assert est.terms.set_index("term").loc["investment_link", "value"] == pytest.approx(expected, rel=1e-12)


def test_ict_input_intensity_on_uk_2010(uk):
    table, _, _ = uk
    frame = io.ict_input_intensity(table.Z, codes=table.codes, digital=UK_DIGITAL)
    assert frame["intensity"].between(0, 1).all()
    assert frame["intensity"].notna().all()
    j = list(table.codes).index("62")
    d = np.isin(table.codes, UK_DIGITAL)
    row = frame.set_index("code").loc["62"]
    assert row["intensity"] == pytest.approx(table.Z[d, j].sum() / table.Z[:, j].sum(), rel=1e-15)
    # every product without intermediate consumption is listed, none silently dropped
    assert len(frame) + len(frame.attrs["no_intermediate_consumption"]) == len(table.codes)


def test_cli_reads_a_whole_published_table_from_one_file(tmp_path):
    """`kinhteso io --table` (wide layout) gives the ONS output and GVA multipliers from the
    published single-sheet table, GVA summed from its three rows."""
    from click.testing import CliRunner

    from kinhteso.cli import main

    src = shared_path(*IOT, "uk_2010_siot_domestic_pxp_wide.csv")
    pub = pd.read_csv(shared_path(*IOT, "uk_2010_published_multipliers_ONS.csv"))
    r = CliRunner().invoke(main, ["io", "--table", str(src), "--output-row", "Total output", "--factor-row",
                                  "gva=Compensation of employees+Gross Operating Surplus+Taxes less subsidies on production",
                                  "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(tmp_path / "out" / "multipliers.csv", dtype={"code": str})
    np.testing.assert_allclose(got["output_multiplier"].to_numpy(), pub["Output multiplier"].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(got["gva_effect"].to_numpy(), pub["GVA effects"].to_numpy(), atol=1e-9)
    bad = CliRunner().invoke(main, ["--lang", "en", "io", "--table", str(src), "--factor-row", "gva=No such row",
                                    "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 1 and "IO_FACTOR_ROW" in bad.output and not (tmp_path / "bad").exists()
    both = CliRunner().invoke(main, ["--lang", "en", "io", "--table", str(src), "--Z", str(src), "--out", str(tmp_path / "x")])
    assert both.exit_code == 2 and "IO_INPUT" in both.output


def test_cli_reads_the_eurostat_long_layout(tmp_path):
    from click.testing import CliRunner

    from kinhteso.cli import main

    r = CliRunner().invoke(main, ["io", "--table", str(shared_path(*IOT, "germany_1995_long.csv")), "--layout", "eurostat",
                                  "--out", str(tmp_path / "de")])
    assert r.exit_code == 0, r.output
    L = pd.read_csv(tmp_path / "de" / "L.csv", dtype={"code": str}).set_index("code")
    want = _readme_numbers("diag(L) =")[:3]
    np.testing.assert_allclose(np.diag(L.to_numpy())[:3], want, atol=6e-5)
