"""The composite-index engine against published results.

- COINr 1.1.14 on the ASEM data (../shared/reference/coinr): the simple index (min-max 0-100,
  arithmetic), the geometric variant (min-max 1-100), the z-score variant, and COINr's full
  example (denominate → group-mean impute → screen 0.9 → winsorise → min-max → arithmetic) with
  every intermediate dataset and the treatment details. Scores to 1e-9, ranks equal.
- DESI 2022 (European Commission workbook, ../shared/reference/desi), all six years, from the
  completed data: fixed goalposts, not clipped; every sub-dimension, dimension and DESI score to 1e-9.
- DTI 2022 (dti.gov.vn, ../shared/facts/dti_2022.csv): the shipped framework reproduces the five
  published PDTI to 1e-4.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinhteso.methods import composite as C
from kinhteso.reference.frameworks import load_framework
from tests.conftest import shared_path

COINR = ("reference", "coinr")
DESI = ("reference", "desi")


def _asem() -> C.Coin:
    d = pd.read_csv(shared_path(*COINR, "input_ASEM_iData.csv"))
    m = pd.read_csv(shared_path(*COINR, "input_ASEM_iMeta.csv"))
    return C.new_coin(d, m)


def _ref_dset(prefix: str, dset: str) -> pd.DataFrame:
    return pd.read_csv(shared_path(*COINR, f"{prefix}_dset_{dset}.csv")).set_index("uCode").drop(columns="uName")


def _assert_frame(got: pd.DataFrame, ref: pd.DataFrame, tol: float = 1e-9) -> None:
    g = got.loc[ref.index, ref.columns].to_numpy(dtype=float)
    r = ref.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(g), np.isnan(r)), "missing values differ"
    scale = np.maximum(1.0, np.abs(r))
    assert np.nanmax(np.abs(g - r) / scale) < tol


def _assert_scores_ranks(coin: C.Coin, prefix: str) -> None:
    ref = pd.read_csv(shared_path(*COINR, f"{prefix}_scores_ranks.csv")).set_index("uCode")
    long = C.scores_long(coin)
    assert set(long["uCode"]) == set(ref.index)  # units screened out are not scored
    for code in [c for c in ref.columns if c != "uName" and not c.endswith("_rank")]:
        part = long[long["iCode"] == code].set_index("uCode").loc[ref.index]
        np.testing.assert_allclose(part["score"].to_numpy(dtype=float), ref[code].to_numpy(), rtol=1e-9, atol=1e-9)
        assert (part["rank"].to_numpy(dtype=float) == ref[code + "_rank"].to_numpy(dtype=float)).all(), code


@pytest.mark.parametrize(
    ("prefix", "norm", "agg"),
    [
        ("A_simple_minmax_amean", {"method": "minmax", "l_u": (0, 100)}, "arithmetic"),
        ("A2_minmax1_100_gmean", {"method": "minmax", "l_u": (1, 100)}, "geometric"),
        ("A3_zscore_amean", {"method": "zscore"}, "arithmetic"),
    ],
)
def test_coinr_asem_variants(prefix, norm, agg):
    coin = C.aggregate(C.normalise(_asem(), dset="Raw", **norm), method=agg)
    for dset in ("Normalised", "Aggregated"):
        _assert_frame(coin.data[dset], _ref_dset(prefix, dset))
    _assert_scores_ranks(coin, prefix)


def _full_example() -> C.Coin:
    coin = C.denominate(_asem(), dset="Raw")
    coin = C.impute(coin, dset="Denominated", method="group-mean", group="EurAsia_group")
    coin = C.screen(coin, dset="Imputed", dat_thresh=0.9)
    coin = C.treat(coin, dset="Screened")
    coin = C.normalise(coin, dset="Treated", method="minmax", l_u=(0, 100))
    return C.aggregate(coin, dset="Normalised")


def test_coinr_full_example_every_dataset():
    coin = _full_example()
    for dset in ("Denominated", "Imputed", "Screened", "Treated", "Normalised", "Aggregated"):
        _assert_frame(coin.data[dset], _ref_dset("B_example_coin", dset))
    _assert_scores_ranks(coin, "B_example_coin")


def test_coinr_full_example_treatment_details():
    coin = _full_example()
    got = coin.analysis["Treated"]["Dets_Table"].set_index("iCode")
    ref = pd.read_csv(shared_path(*COINR, "B_example_coin_treat_details.csv")).set_index("iCode")
    got = got.loc[ref.index]
    assert list(got.columns) == list(ref.columns)
    assert (got["check_SkewKurt0.Pass"].astype(bool) == ref["check_SkewKurt0.Pass"]).all()
    treated = ref.index[~ref["check_SkewKurt0.Pass"]]
    assert list(got.index[~got["check_SkewKurt0.Pass"].astype(bool)]) == list(treated)
    np.testing.assert_array_equal(got.loc[treated, "winsorise.nwin"].astype(int), ref.loc[treated, "winsorise.nwin"].astype(int))
    for col in ("check_SkewKurt0.Skew", "check_SkewKurt0.Kurt", "check_SkewKurt1.Skew", "check_SkewKurt1.Kurt"):
        np.testing.assert_allclose(got[col].astype(float), ref[col].astype(float), rtol=1e-9, atol=1e-12)
    # the points moved: as many as nwin in each treated indicator
    pts = coin.analysis["Treated"]["Treated_Points"]
    for code in treated:
        assert (pts[code] != "").sum() == int(ref.loc[code, "winsorise.nwin"])


# --- DESI 2022 -----------------------------------------------------------------------------------

def _desi_meta() -> pd.DataFrame:
    md = pd.read_csv(shared_path(*DESI, "desi2022_indicator_metadata.csv"))
    wt = pd.read_csv(shared_path(*DESI, "desi2022_aggregation_weights.csv"))
    rows = [{"Level": 1, "iCode": r.code, "iName": r.Indicator, "Direction": r.Direction, "Weight": r.Weight,
             "Parent": r.subdimension, "Type": "Indicator", "Min": r.Min, "Max": r.Max} for r in md.itertuples()]
    for r in wt.itertuples():
        code = r.node.split(" ")[0]
        if r.level == "subdimension":
            rows.append({"Level": 2, "iCode": code, "iName": r.node.strip(), "Direction": 1,
                         "Weight": r.weight_in_parent, "Parent": "D" + str(r.parent), "Type": "Aggregate"})
        elif r.level == "dimension":
            rows.append({"Level": 3, "iCode": "D" + code, "iName": r.node.strip(), "Direction": 1,
                         "Weight": r.weight_in_parent, "Parent": "DESI", "Type": "Aggregate"})
    rows.append({"Level": 4, "iCode": "DESI", "iName": "DESI", "Direction": 1, "Weight": 1, "Parent": None,
                 "Type": "Aggregate"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("year", [2017, 2018, 2019, 2020, 2021, 2022])
def test_desi_2022_all_scores(year):
    meta = _desi_meta()
    md = pd.read_csv(shared_path(*DESI, "desi2022_indicator_metadata.csv"))
    comp = pd.read_csv(shared_path(*DESI, "desi2022_workbook_step_completed_wide.csv"))
    scores = pd.read_csv(shared_path(*DESI, "desi2022_workbook_scores_wide.csv"))
    yr = comp[comp["year"] == year]
    data = pd.DataFrame({"uCode": yr["Country"].to_numpy()})
    for r in md.itertuples():
        data[r.code] = yr[r.Indicator].to_numpy()
    coin = C.new_coin(data, meta)
    coin = C.normalise(coin, dset="Raw", method="goalposts", l_u=(0, 100), clip=False)
    coin = C.aggregate(coin, dset="Normalised", method="arithmetic")
    got = coin.data["Aggregated"]
    ycode = comp.loc[comp["year"] == year, "Year"].iloc[0]
    ref = scores[scores["Year"] == ycode].set_index("Country")
    checked = 0
    for col in ref.columns:
        if col[:2] in ("1 ", "2 ", "3 ", "4 "):
            code = "D" + col[0]
        elif len(col) > 2 and col[0] in "1234" and col[1] in "abcd" and col[2] == " ":
            code = col[:2]
        elif col == "DESI":
            code = "DESI"
        else:
            continue
        np.testing.assert_allclose(got.loc[ref.index, code].to_numpy(dtype=float), ref[col].to_numpy(dtype=float),
                                   rtol=0, atol=1e-9, err_msg=f"{year} {code}")
        checked += 1
    assert checked == 4 + 10 + 1


def test_desi_goalposts_are_not_clipped():
    # the Commission's method lets 11 normalised cells fall outside [0, 1]; clipping would change them
    meta = _desi_meta()
    md = pd.read_csv(shared_path(*DESI, "desi2022_indicator_metadata.csv"))
    comp = pd.read_csv(shared_path(*DESI, "desi2022_workbook_step_completed_wide.csv"))
    data = pd.DataFrame({"uCode": comp["Year + country"].to_numpy()})
    for r in md.itertuples():
        data[r.code] = comp[r.Indicator].to_numpy()
    Z = C.normalise(C.new_coin(data, meta), dset="Raw", method="goalposts", l_u=(0, 1), clip=False).data["Normalised"]
    assert int(((Z < 0) | (Z > 1)).sum().sum()) == 11


# --- DTI 2022 ------------------------------------------------------------------------------------

def test_dti_2022_framework_reproduces_published_pdti():
    fw = load_framework("dti2022")
    facts = pd.read_csv(shared_path("facts", "dti_2022.csv")).drop_duplicates("province")
    scored = [c for c in fw.indicators if fw.meta.set_index("iCode").loc[c, "Weight"] > 0]
    full = facts.dropna(subset=scored + ["pdti"])
    assert len(full) >= 5
    data = full[["province"] + scored].rename(columns={"province": "uCode"}).copy()
    for c in fw.indicators:
        if c not in data:
            data[c] = np.nan  # smart city: not scored in 2022 (weight 0)
    coin = C.new_coin(data, fw.meta)
    coin = C.normalise(coin, dset="Raw", method=fw.method["normalise"])
    coin = C.aggregate(coin, dset="Normalised", method=fw.method["aggregate"])
    got = coin.data["Aggregated"][fw.index].to_numpy()
    np.testing.assert_allclose(got, full["pdti"].to_numpy(), rtol=0, atol=1e-4)
    # ranks among these provinces follow the published ranks
    ranks = C.rank_scores(coin.data["Aggregated"][fw.index]).to_numpy()
    assert list(np.argsort(ranks, kind="stable")) == list(np.argsort(full["rank_dti"].to_numpy(), kind="stable"))
