"""COINr settings of issue 15 against oracle cases made with COINr 1.1.14.

The cases were made by ``scripts/oracle/composite_coinr.R`` on COINr's own ASEM example and are
stored in ``tests/oracle/composite/`` (numbers with 17 significant digits, read back exactly);
these tests need no R. One case per setting: exact ties (percentile ranks), z-score mean and
s.d., winsorisation parameters, aggregation and data threshold per level, screening by zeros,
and uncertainty with noise on one level under a random design of N replications. Each is
checked through the Python API and, where the CLI has the setting, through ``kinhteso composite``
or ``kinhteso uncertainty``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.methods import composite as C
from kinhteso.methods import uncertainty as UA

ORACLE = Path(__file__).resolve().parent / "oracle" / "composite"
AGGS = ["Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social", "SusEcFin", "Conn", "Sust", "Index"]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(ORACLE / name, float_precision="round_trip")


def _coin() -> C.Coin:
    return C.new_coin(_read("asem_iData.csv"), _read("asem_iMeta.csv"))


def _ref(name: str) -> pd.DataFrame:
    return _read(name).set_index("uCode")


def _assert_close(got: pd.DataFrame, ref: pd.DataFrame, tol: float = 1e-9) -> None:
    """Same missing cells; elsewhere equal to ``tol`` relative to max(1, |ref|)."""
    g = got.loc[ref.index, ref.columns].to_numpy(dtype=float)
    r = ref.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(g), np.isnan(r)), "missing values differ"
    assert np.nanmax(np.abs(g - r) / np.maximum(1.0, np.abs(r))) < tol


def _assert_ranks(aggregated: pd.DataFrame, ranks_file: str) -> None:
    ref = _ref(ranks_file)[AGGS]
    got = C.rank_scores(aggregated.loc[ref.index, AGGS])
    assert np.array_equal(got.to_numpy(), ref.to_numpy(dtype=float), equal_nan=True)


def _cli(tmp_path: Path, *args: str) -> pd.DataFrame:
    out = tmp_path / "scores.csv"
    r = CliRunner().invoke(main, ["--lang", "en", "composite", "--data", str(ORACLE / "asem_iData.csv"),
                                  "--meta", str(ORACLE / "asem_iMeta.csv"), *args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    long = pd.read_csv(out, float_precision="round_trip")
    return long.pivot(index="uCode", columns="iCode", values="score"), long.pivot(index="uCode", columns="iCode", values="rank")


# --- ties (issue 15, build item 2) -------------------------------------------------------------

def test_exact_ties_resolve_as_coinr():
    """Percentile ranks give many units the same multiset of values: COINr's aggregates have exact
    ties. Aggregating in COINr's order (w/sum(w), then sum(w*x), R's extended-precision sum) gives
    the same doubles, so the same ties and the same ranks."""
    coin = C.aggregate(C.normalise(_coin(), dset="Raw", method="prank"), dset="Normalised")
    ref = _ref("ties_prank_aggregated.csv")
    got = coin.data["Aggregated"].loc[ref.index, AGGS]
    np.testing.assert_array_equal(got.to_numpy(), ref[AGGS].to_numpy())  # bit for bit
    _assert_ranks(coin.data["Aggregated"], "ties_prank_ranks.csv")
    # the case does test ties: COINr has exact ties, and a plain float64 sum splits some of them
    tied = sum(int(ref[c].duplicated().sum()) for c in AGGS)
    assert tied > 0
    Z = coin.data["Normalised"]
    naive = {}
    for code, node in coin.tree.items():
        if node.type == "Aggregate":
            M = np.column_stack([Z[k] if k in Z else naive[k] for k in node.children])
            naive[code] = np.nansum(M, axis=1) / (~np.isnan(M)).sum(axis=1)
    split = [c for c in AGGS if not np.array_equal(C.rank_scores(pd.Series(naive[c], index=Z.index)).loc[ref.index],
                                                   _ref("ties_prank_ranks.csv")[c].to_numpy(dtype=float))]
    assert split, "a plain sum reproduces COINr's ranks here: the case would not detect the tie problem"


def test_exact_ties_through_the_cli(tmp_path):
    scores, ranks = _cli(tmp_path, "--normalise", "prank")
    ref = _ref("ties_prank_aggregated.csv")
    np.testing.assert_array_equal(scores.loc[ref.index, AGGS].to_numpy(), ref[AGGS].to_numpy())
    np.testing.assert_array_equal(ranks.loc[ref.index, AGGS].to_numpy(dtype=float),
                                  _ref("ties_prank_ranks.csv")[AGGS].to_numpy(dtype=float))


# --- z-score mean and s.d. ----------------------------------------------------------------------

def test_zscore_mean_and_sd_match_coinr():
    coin = C.aggregate(C.normalise(_coin(), dset="Raw", method="zscore", m_sd=(10, 2)), dset="Normalised")
    ref = _ref("zscore_m_sd_normalised.csv")
    _assert_close(coin.data["Normalised"], ref, tol=1e-13)
    _assert_close(coin.data["Aggregated"], _ref("zscore_m_sd_aggregated.csv"))
    _assert_ranks(coin.data["Aggregated"], "zscore_m_sd_ranks.csv")
    assert abs(np.nanmean(coin.data["Normalised"].to_numpy()) - 10) < 1e-9


def test_zscore_mean_and_sd_through_the_cli(tmp_path):
    scores, ranks = _cli(tmp_path, "--normalise", "zscore", "--m-sd", "10,2")
    _assert_close(scores, _ref("zscore_m_sd_aggregated.csv"))
    np.testing.assert_array_equal(ranks.loc[:, AGGS].loc[_ref("zscore_m_sd_ranks.csv").index].to_numpy(dtype=float),
                                  _ref("zscore_m_sd_ranks.csv")[AGGS].to_numpy(dtype=float))


@pytest.mark.parametrize(("args", "needle"), [
    (["--normalise", "zscore", "--range", "10,2"], "--m-sd M,SD"),
    (["--normalise", "minmax", "--m-sd", "10,2"], "applies to zscore only"),
    (["--normalise", "zscore", "--m-sd", "10,0"], "must be > 0"),
    (["--normalise", "zscore", "--m-sd", "10"], "expected M,SD"),
])
def test_zscore_mean_and_sd_refusals(tmp_path, args, needle):
    out = tmp_path / "o.csv"
    r = CliRunner().invoke(main, ["--lang", "en", "composite", "--data", str(ORACLE / "asem_iData.csv"),
                                  "--meta", str(ORACLE / "asem_iMeta.csv"), *args, "--out", str(out)])
    assert r.exit_code == 2 and needle in r.output and not out.exists()


# --- winsorisation parameters -------------------------------------------------------------------

def test_winsorisation_parameters_match_coinr():
    coin = C.treat(_coin(), dset="Raw", winmax=3, skew_thresh=1.5, kurt_thresh=2.5)
    _assert_close(coin.data["Treated"], _ref("winsorise_params_treated.csv"))
    got = coin.analysis["Treated"]["Dets_Table"].set_index("iCode")
    ref = _read("winsorise_params_details.csv").set_index("iCode")
    got = got.loc[ref.index]
    assert (got["check_SkewKurt0.Pass"].astype(bool) == ref["check_SkewKurt0.Pass"]).all()
    treated = ref.index[~ref["check_SkewKurt0.Pass"]]
    assert len(treated) > 0
    np.testing.assert_array_equal(got.loc[treated, "winsorise.nwin"].astype(int), ref.loc[treated, "winsorise.nwin"].astype(int))
    assert ref.loc[treated, "winsorise.nwin"].max() <= 3 + 1  # COINr counts the tied extremes moved last
    logged = ref.index[ref["check_SkewKurt2.Pass"].notna()]  # winsorising failed: log_CT
    assert list(got.index[got["check_SkewKurt2.Pass"].notna()]) == list(logged)
    for col in ("check_SkewKurt1.Skew", "check_SkewKurt1.Kurt", "check_SkewKurt2.Skew", "check_SkewKurt2.Kurt"):
        np.testing.assert_allclose(got[col].astype(float), ref[col].astype(float), rtol=1e-9, atol=1e-12)
    coin = C.aggregate(C.normalise(coin, dset="Treated"), dset="Normalised")
    _assert_close(coin.data["Aggregated"], _ref("winsorise_params_aggregated.csv"))
    _assert_ranks(coin.data["Aggregated"], "winsorise_params_ranks.csv")


def test_winsorisation_parameters_through_the_cli(tmp_path):
    scores, _ = _cli(tmp_path, "--treat", "winsorise", "--winmax", "3", "--skew-thresh", "1.5", "--kurt-thresh", "2.5")
    _assert_close(scores, _ref("winsorise_params_aggregated.csv"))
    default, _ = _cli(tmp_path, "--treat", "winsorise")
    assert not np.allclose(default.loc[scores.index, "Index"], scores["Index"])  # the parameters are used


def test_winsorisation_parameters_need_winsorise(tmp_path):
    r = CliRunner().invoke(main, ["--lang", "en", "composite", "--data", str(ORACLE / "asem_iData.csv"),
                                  "--meta", str(ORACLE / "asem_iMeta.csv"), "--winmax", "3", "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and "--treat winsorise only" in r.output


# --- aggregation and data threshold per level ---------------------------------------------------

def test_aggregation_and_dat_thresh_per_level_match_coinr():
    coin = C.normalise(_coin(), dset="Raw", method="minmax", l_u=(1, 100))
    coin = C.aggregate(coin, dset="Normalised", method={2: "geometric", 3: "arithmetic", 4: "harmonic"},
                       dat_thresh={2: 0.9, 3: 0.5, 4: 0.0})
    ref = _ref("per_level_aggregated.csv")
    assert ref.isna().to_numpy().sum() > 0  # the threshold bites
    _assert_close(coin.data["Aggregated"], ref)
    _assert_ranks(coin.data["Aggregated"], "per_level_ranks.csv")


def test_aggregation_and_dat_thresh_per_level_through_the_cli(tmp_path):
    scores, _ = _cli(tmp_path, "--range", "1,100", "--aggregate", "2:geometric,3:arithmetic,4:harmonic",
                     "--dat-thresh", "2:0.9,3:0.5,4:0")
    ref = _ref("per_level_aggregated.csv")
    _assert_close(scores.reindex(ref.index), ref)


@pytest.mark.parametrize(("args", "needle"), [
    (["--aggregate", "7:geometric"], "level 7 has no aggregate"),
    (["--aggregate", "2:median"], "Unknown aggregation 'median'"),
    (["--dat-thresh", "2:x"], "expected one value, or LEVEL:VALUE"),
    (["--dat-thresh", "1.5"], "must be in [0, 1]"),
])
def test_per_level_refusals(tmp_path, args, needle):
    r = CliRunner().invoke(main, ["--lang", "en", "composite", "--data", str(ORACLE / "asem_iData.csv"),
                                  "--meta", str(ORACLE / "asem_iMeta.csv"), *args, "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and needle in r.output, r.output


# --- screening by zeros ------------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "dat_thresh", "args"), [
    ("byzeros", 0.0, ["--screen-nonzero", "0.95"]),
    ("byNAandzeros", 0.9, ["--screen-threshold", "0.9", "--screen-nonzero", "0.95"]),
])
def test_screening_by_zeros_matches_coinr(tmp_path, mode, dat_thresh, args):
    coin = C.screen(_coin(), dset="Raw", dat_thresh=dat_thresh, nonzero_thresh=0.95)
    summ = coin.analysis["Screened"]
    ref = _ref(f"screen_{mode}_summary.csv")
    got = summ.loc[ref.index]
    for col in ("N_missing", "N_zero", "Dat_Avail", "Non_Zero"):
        np.testing.assert_array_equal(got[col].to_numpy(dtype=float), ref[col].to_numpy(dtype=float), err_msg=col)
    np.testing.assert_array_equal(got["Included"].to_numpy(), ref["Included"].to_numpy())
    assert 0 < (~ref["Included"]).sum() < len(ref)
    coin = C.aggregate(C.normalise(coin, dset="Screened"), dset="Normalised")
    agg = _ref(f"screen_{mode}_aggregated.csv")
    assert sorted(coin.data["Aggregated"].index) == sorted(agg.index)
    _assert_close(coin.data["Aggregated"], agg)
    _assert_ranks(coin.data["Aggregated"], f"screen_{mode}_ranks.csv")
    scores, _ = _cli(tmp_path, *args)
    assert sorted(scores.index) == sorted(agg.index)
    _assert_close(scores, agg)


# --- uncertainty: noise on one level, random design of N -----------------------------------------

NORMS = [{"method": "minmax", "l_u": (1.0, 100.0)}, {"method": "zscore", "m_sd": (10.0, 2.0)}]


def _ua_problem() -> UA.UAProblem:
    coin = _coin()
    return UA.build_problem(coin.data["Raw"], coin.meta, weight_noise={2: 0.25}, normalise=NORMS, pool_size=64)


def _coinr_weight_sets(nodes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COINr's noisy weight sets (sets × nodes, in ``nodes`` order), the nominal weights, the levels."""
    ws = _read("ua_level2_weight_sets.csv")
    wide = ws.pivot(index="weight_set", columns="iCode", values="Weight")[nodes]
    nom = _read("ua_level2_weights_nominal.csv").set_index("iCode")
    return wide.to_numpy(dtype=float), nom.loc[nodes, "Weight"].to_numpy(dtype=float), nom.loc[nodes, "Level"].to_numpy()


def test_noise_on_one_level_has_coinr_structure():
    """COINr get_noisy_weights with noise_specs Level = 2, NoiseFactor = 0.25: only level-2
    weights move, each within ±25% of its nominal value; kinhteso's pool for {2: 0.25} likewise."""
    prob = _ua_problem()
    sets, nominal, level = _coinr_weight_sets(prob.nodes)
    ratio = sets / nominal[None, :]
    at2 = level == 2
    assert np.all(ratio[:, ~at2] == 1.0)
    assert np.all(np.abs(ratio[:, at2] - 1) <= 0.25) and np.any(ratio[:, at2] != 1.0)
    ours_level = np.array([prob.meta.set_index("iCode").loc[c, "Level"] for c in prob.nodes])
    assert np.array_equal(ours_level, level)
    pool = prob.weight_pool
    assert np.all(pool[:, ~at2] == 1.0)
    assert np.all(np.abs(pool[:, at2] - 1) <= 0.25) and np.all(pool[:, at2] != 1.0)
    assert prob.inputs == ["weights", "normalise"]


def test_noise_on_one_level_replications_match_coinr():
    """The 20 replications of COINr's run (its weight sets and normalisation choices, passed to
    both) give the same index scores, the same ranks and the same rank statistics."""
    prob = _ua_problem()
    sets, _, _ = _coinr_weight_sets(prob.nodes)
    prob.weight_pool = sets / prob.base_w[None, :]
    d = _read("ua_level2_design.csv")
    design = pd.DataFrame({"weights": d["weight_set"].to_numpy() - 1, "normalise": d["normalise"].to_numpy() - 1,
                           "aggregate": 0, "impute": 0, "exclude": -1})
    S = UA.evaluate(prob, design)
    ref = _ref("ua_level2_scores.csv")
    units = list(prob.X.index)
    R = ref.loc[units, [f"r_{i}" for i in range(1, len(design) + 1)]].to_numpy(dtype=float).T
    assert np.max(np.abs(S - R) / np.maximum(1, np.abs(R))) < 1e-9
    nominal_scores = UA.evaluate(prob, UA.nominal_design(prob))[0]
    np.testing.assert_allclose(nominal_scores, ref.loc[units, "Nominal"].to_numpy(dtype=float), rtol=1e-12)
    ranks = UA.rank_matrix(S)
    np.testing.assert_array_equal(ranks, UA.rank_matrix(R))
    stats = UA.rank_intervals(ranks, UA.rank_matrix(nominal_scores)[0], units, S).set_index("uCode")
    rs = _ref("ua_level2_rankstats.csv").loc[units]
    for ours, theirs in (("rank_nominal", "Nominal"), ("rank_mean", "Mean"), ("rank_median", "Median"),
                         ("rank_q05", "Q5"), ("rank_q95", "Q95")):
        np.testing.assert_allclose(stats[ours].to_numpy(), rs[theirs].to_numpy(dtype=float), rtol=1e-12, err_msg=ours)


def test_random_design_of_n_replications():
    """COINr SA_type = "UA" with N = 20 runs 20 replications (its Scores: r_1 ... r_20); so does
    design = "random" with n = 20, each varying only the level-2 weights and the normalisation."""
    n_coinr = len([c for c in _read("ua_level2_scores.csv").columns if c.startswith("r_")])
    coin = _coin()
    res = UA.uncertainty(coin.data["Raw"], coin.meta, n=n_coinr, weight_noise={2: 0.25}, normalise=NORMS,
                         design="random", seed=3)
    assert len(res.design) == n_coinr == 20 and res.scores.shape == (20, 51) and res.sobol is None
    W = UA.replication_weights(res.problem, res.design)
    level = np.array([res.problem.meta.set_index("iCode").loc[c, "Level"] for c in res.problem.nodes])
    assert np.all(W[:, level != 2] == res.problem.base_w[level != 2])
    assert set(res.design["normalise"]) == {0, 1}


def test_random_design_and_level_noise_through_the_cli(tmp_path):
    out = tmp_path / "ua"
    r = CliRunner().invoke(main, ["--lang", "en", "uncertainty", "--data", str(ORACLE / "asem_iData.csv"),
                                  "--meta", str(ORACLE / "asem_iMeta.csv"), "--n", "20", "--design", "random",
                                  "--vary", "weights:0.25@2,normalise", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} == {"rank_intervals.csv", "design.csv"}
    design = pd.read_csv(out / "design.csv")
    assert len(design) == 20 and list(design.columns[:3]) == ["replication", "u_weights", "u_normalise"]
    bad = CliRunner().invoke(main, ["--lang", "en", "uncertainty", "--data", str(ORACLE / "asem_iData.csv"),
                                    "--meta", str(ORACLE / "asem_iMeta.csv"), "--n", "20",
                                    "--vary", "weights:0.25@9", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "no level 9" in bad.output


# --- the options' text forms ----------------------------------------------------------------------

def test_parse_vary_noise_per_level():
    from kinhteso.errors import UsageError
    from kinhteso.service.composite import parse_vary

    assert parse_vary("weights:0.25@2,weights:0.1@3,normalise") == {
        "weight_noise": {2: 0.25, 3: 0.1}, "exclude": False, "normalise": True}
    assert parse_vary("weights:0.2")["weight_noise"] == 0.2
    for bad, needle in (("weights:0.25,weights:0.1@2", "cannot be combined"), ("weights:0.2@2,weights:0.3@2", "twice"),
                        ("weights:0.2@x", "weights:F@LEVEL")):
        with pytest.raises(UsageError, match=needle):
            parse_vary(bad)


def test_parse_levels_one_value_or_per_level():
    from kinhteso.errors import UsageError
    from kinhteso.service.composite import parse_levels, parse_m_sd

    assert parse_levels("geometric", "--aggregate") == "geometric"
    assert parse_levels("2:geometric, 3:arithmetic", "--aggregate") == {2: "geometric", 3: "arithmetic"}
    assert parse_levels("2:0.5,4:0", "--dat-thresh", float) == {2: 0.5, 4: 0.0}
    assert parse_m_sd("10,2") == (10.0, 2.0)
    with pytest.raises(UsageError, match="LEVEL:VALUE"):
        parse_levels("2:0.5,2:0.6", "--dat-thresh", float)


def test_quantiles_are_r_type_7():
    # R: quantile(c(1, 2, 4, 7, NA, 11), c(0.05, 0.5, 0.95), na.rm = TRUE) -> 1.2, 4, 10.2
    q = UA.quantiles(np.array([[1.0], [2], [4], [7], [np.nan], [11]]), [0.05, 0.5, 0.95])[:, 0]
    np.testing.assert_allclose(q, [1.2, 4.0, 10.2], rtol=1e-15)


def test_uncertainty_nominal_is_coinr_index_bit_for_bit():
    """The nominal replication is formed as the index is (COINr's order of operations), so its
    scores are COINr's to the last bit and its ranks are the index's ranks (the replications
    themselves come from matrix products, equal to 1e-12)."""
    coin = _coin()
    res = UA.uncertainty(coin.data["Raw"], coin.meta, n=8, weight_noise=0.25, normalise=[{"method": "prank"}],
                         design="random")
    units = [str(u) for u in coin.data["Raw"].index]
    ref = _ref("ties_prank_aggregated.csv")["Index"]
    np.testing.assert_array_equal(pd.Series(res.nominal_scores, index=units).loc[ref.index].to_numpy(), ref.to_numpy())
    ranks = _ref("ties_prank_ranks.csv")["Index"]
    np.testing.assert_array_equal(pd.Series(res.nominal_ranks, index=units).loc[ranks.index].to_numpy(),
                                  ranks.to_numpy(dtype=float))
