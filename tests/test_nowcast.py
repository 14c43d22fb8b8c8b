"""Nowcast: bridge on a synthetic series with known coefficients, the ragged edge, the DFM news
identity, the backtest on real Vietnamese data (../shared), and the CLI on a demo workspace."""

from __future__ import annotations

import json
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from kinhteso.cli import main  # noqa: E402
from kinhteso.errors import MethodError, UsageError  # noqa: E402
from kinhteso.methods import nowcast as N  # noqa: E402
from kinhteso.pipeline import nowcast as P  # noqa: E402

from conftest import shared_path  # noqa: E402


# --- synthetic data ---------------------------------------------------------------------------

def _synthetic(seed: int = 1, n_months: int = 120, noise: float = 0.05):
    """Two AR(1) monthly indicators and y_q = 1 + 2·x̄1 − 0.5·x̄2 + ε (ε ~ N(0, noise²))."""
    rng = np.random.default_rng(seed)
    idx = pd.period_range("2015-01", periods=n_months, freq="M")
    x = np.zeros((n_months, 2))
    for t in range(1, n_months):
        x[t] = [0.3, -0.2] + np.array([0.7, 0.5]) * x[t - 1] + rng.normal(size=2)
    X = pd.DataFrame(x, index=idx, columns=["a", "b"])
    xq = N.quarter_means(X)
    y = (1.0 + 2.0 * xq["a"] - 0.5 * xq["b"] + rng.normal(scale=noise, size=len(xq))).rename("y")
    return y, X


def test_bridge_recovers_known_coefficients():
    y, X = _synthetic()
    target = y.index[-1]
    nc = N.bridge(y, X, target)  # every month of the target quarter published: no fill
    coef = nc.details["coefficients"]
    assert coef["(Intercept)"] == pytest.approx(1.0, abs=0.05)
    assert coef["a"] == pytest.approx(2.0, abs=0.03)
    assert coef["b"] == pytest.approx(-0.5, abs=0.03)
    assert nc.point == pytest.approx(y.iloc[-1], abs=0.2)
    assert nc.lower < nc.point < nc.upper
    assert all(v["months_ar_filled"] == 0 for v in nc.details["ragged_edge"].values())


def test_bridge_interval_is_the_ols_prediction_interval():
    import statsmodels.api as sm

    y, X = _synthetic(seed=5, noise=0.5)
    target = y.index[-1]
    nc = N.bridge(y[:-1], X, target, level=0.8)
    xq = N.quarter_means(X)
    train = pd.concat([y[:-1], xq], axis=1).dropna()
    fit = sm.OLS(train["y"], sm.add_constant(train[["a", "b"]])).fit()
    pred = fit.get_prediction(np.array([[1.0, *xq.loc[target, ["a", "b"]]]])).summary_frame(alpha=0.2)
    assert nc.point == pytest.approx(pred["mean"].iloc[0], rel=1e-10)
    assert nc.lower == pytest.approx(pred["obs_ci_lower"].iloc[0], rel=1e-10)
    assert nc.upper == pytest.approx(pred["obs_ci_upper"].iloc[0], rel=1e-10)


def test_ar_fill_continues_a_noiseless_ar1_exactly():
    idx = pd.period_range("2018-01", periods=60, freq="M")
    v = [10.0]
    for _ in range(59 + 5):
        v.append(0.3 + 0.9 * v[-1])
    s = pd.Series(v[:60], index=idx, name="s")
    filled, h, p = N.ar_fill(s, idx[-1] + 5)
    assert h == 5 and len(filled) == 65
    np.testing.assert_allclose(filled.iloc[:60], s)  # published months untouched
    np.testing.assert_allclose(filled.iloc[60:], v[60:65], rtol=1e-8)


def test_ragged_edge_information_set_and_fill():
    y, X = _synthetic()
    target = y.index[-1]
    yi, xi = N.information_set(y, X, target, months_available=1)
    assert yi.index.max() == target - 1
    assert xi.index.max() == target.asfreq("M", "s")
    nc = N.bridge(yi, xi, target)
    info = nc.details["ragged_edge"]
    assert {k: (v["months_published"], v["months_ar_filled"]) for k, v in info.items()} == {"a": (1, 2), "b": (1, 2)}
    # the filled months are forecasts, not the data: with the whole quarter published the point moves
    full = N.bridge(yi, X[X.index <= target.asfreq("M", "e")], target)
    assert full.point != pytest.approx(nc.point)
    # a month missing inside an indicator is refused, naming it
    gap = xi.copy()
    gap.iloc[50, 0] = np.nan
    with pytest.raises(MethodError, match="a has months missing"):
        N.bridge(yi, gap, target)


def test_naive_is_random_walk_in_growth_and_engines_registry():
    y, X = _synthetic()
    target = y.index[-1]
    nc = N.nowcast(y[:-1], X, target, engine="naive")
    assert nc.point == y.iloc[-2]
    assert set(N.ENGINES) == {"bridge", "dfm", "naive"}
    with pytest.raises(UsageError, match="Unknown nowcast engine"):
        N.nowcast(y, X, target, engine="lstm")
    with pytest.raises(MethodError, match="at least 8"):
        N.nowcast(y[:5], X, y.index[5], engine="bridge")


def test_news_sums_to_nowcast_revision():
    y, X = _synthetic(seed=3, noise=0.3)
    target = y.index[-1]
    y_known = y.copy()
    x_new = X[X.index <= target.asfreq("M", "s") + 1]  # two months of the target quarter
    x_old = X[X.index <= target.asfreq("M", "s")]  # one month
    nr = N.dfm_news(y_known, x_old, y_known, x_new, target, maxiter=50)
    assert set(zip(nr.releases.variable, nr.releases.period)) == {("a", str(target.asfreq("M", "s") + 1)),
                                                                   ("b", str(target.asfreq("M", "s") + 1))}
    assert nr.previous + nr.releases.impact.sum() + nr.revision_impact == pytest.approx(nr.new, abs=1e-8)
    assert abs(nr.total) > 1e-6
    # the new nowcast is the DFM engine's nowcast on the new information set
    assert N.dfm(y_known, x_new, target, maxiter=50).point == pytest.approx(nr.new, rel=1e-8)


def test_backtest_rmse_and_ratio():
    y, X = _synthetic(noise=0.2)
    origins = list(y.index[-8:])
    bt = N.backtest(y, X, origins, engines=("bridge",), months_available=2)
    s = bt.summary.set_index("engine")
    e = bt.errors[bt.errors.engine == "bridge"].error
    assert s.loc["bridge", "rmse"] == pytest.approx(float(np.sqrt(np.mean(e ** 2))))
    assert s.loc["bridge", "rmse_ratio_to_naive"] == pytest.approx(s.loc["bridge", "rmse"] / s.loc["naive", "rmse"])
    assert s.loc["bridge", "rmse_ratio_to_naive"] < 1  # the indicators carry the signal here


# --- real Vietnamese data ------------------------------------------------------------------------

def _vn():
    base = shared_path("reference", "vietnam")
    gdp = pd.read_csv(base / "vn_gso_quarterly_gdp_by_sector_2014q1_2024q4.csv")
    iip = pd.read_csv(base / "vn_gso_monthly_iip_growth_toplevel_2014_2025.csv")
    return base, gdp, iip


def test_vn_target_bridges_the_three_regimes():
    _, gdp, iip = _vn()
    y, x = N.vn_reference_series(gdp, iip, sector_en="TOTAL")
    tot = gdp[gdp.sector_en == "TOTAL"].set_index("quarter")
    q = tot.basis.str.startswith("quarter")
    # quarterly regimes: GSO's own growth, which bridges the 2021 rescaling ...
    for lab in tot.index[q]:
        assert y[pd.Period(lab.replace("Q", "-Q"), "Q")] == pytest.approx(tot.loc[lab, "yoy_pct"])
    # ... where growth from levels would jump by the scale break
    lv = tot.value_quarter_derived
    assert lv["2021Q1"] / lv["2020Q1"] - 1 > 0.15 and abs(y[pd.Period("2021Q1", "Q")]) < 10
    # YTD regime: quarter growth agrees with growth from the differenced levels where the
    # sector layout is stable (2016–2018)
    for lab in ["2016Q2", "2017Q3", "2018Q2"]:
        prev = f"{int(lab[:4]) - 1}{lab[4:]}"
        assert y[pd.Period(lab.replace("Q", "-Q"), "Q")] == pytest.approx(100 * (lv[lab] / lv[prev] - 1), abs=0.3)
    for c in x.columns:  # months missing inside the file are interpolated, none left inside a span
        s = x[c]
        assert s.loc[s.first_valid_index():s.last_valid_index()].notna().all()


def test_real_data_backtest_matches_shipped_verdict():
    base, _, _ = _vn()
    out = P.real_data_backtest(base, sectors=("TOTAL",), months=(1,))
    got = pd.DataFrame(out["results"]).set_index("engine")
    shipped = pd.DataFrame(P.REAL_DATA_BACKTEST["results"])
    shipped = shipped[(shipped.sector == "TOTAL") & (shipped.months_available == 1)].set_index("engine")
    for e in ("bridge", "dfm", "naive"):
        assert got.loc[e, "n"] == shipped.loc[e, "n"] == 24
        assert got.loc[e, "rmse"] == pytest.approx(shipped.loc[e, "rmse"], abs=2e-4)
        assert got.loc[e, "rmse_ratio_to_naive"] == pytest.approx(shipped.loc[e, "rmse_ratio_to_naive"], abs=2e-4)
        # the 90 % intervals: the model's and the calibrated one (from earlier origins' errors only)
        for col in ("coverage", "coverage_calibrated", "coverage_absolute"):
            assert got.loc[e, col] == pytest.approx(shipped.loc[e, col], abs=2e-4), (e, col)
        assert got.loc[e, "n_calibrated"] == 24
    # honest RMSEs: positive, finite, errors against the actual published growth
    assert (got.rmse > 0).all() and np.isfinite(got.rmse).all()
    # the rule of issue 5: the default engine beats the naive forecast on the real data
    d = P.default_engine()
    assert d != "naive"
    rows = pd.DataFrame(P.REAL_DATA_BACKTEST["results"])
    assert (rows[rows.engine == d].rmse_ratio_to_naive < 1).all()


def test_default_engine_rule():
    rows = [{"sector": "T", "months_available": 1, "engine": "bridge", "rmse_ratio_to_naive": 1.2},
            {"sector": "T", "months_available": 1, "engine": "dfm", "rmse_ratio_to_naive": 0.9},
            {"sector": "T", "months_available": 2, "engine": "dfm", "rmse_ratio_to_naive": 1.01}]
    assert P.default_engine({"results": rows}) == "naive"
    rows[-1]["rmse_ratio_to_naive"] = 0.8
    assert P.default_engine({"results": rows}) == "dfm"


# --- pipeline and CLI on the demo workspace ------------------------------------------------------

@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    """A workspace holding the demo's generated submissions only (about 5 s; the full
    ``run_demo`` runs every capability and takes far longer)."""
    from kinhteso.demo import build as demo
    from kinhteso.demo.summaries import nowcast_summary
    from kinhteso.workspace import Workspace

    root = tmp_path_factory.mktemp("nowcast") / "ws"
    lines: list[str] = []
    with Workspace.init(root, name="nowcast-test") as ws:
        demo._ingest_demo(ws, lines.append)
        nowcast_summary(ws, lines.append)
    return root, lines


def _nowcast_vintages(root):
    """The stored nowcast runs (a nowcast is a result, never a submission)."""
    from kinhteso.workspace import Workspace

    with Workspace.open(root) as ws:
        assert not ws.store.vintages().source.str.startswith("kinhteso:").any()
        return ws.store.result_runs(kind=P.KIND)


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_demo_prints_nowcast_and_backtest(demo_ws):
    _, lines = demo_ws
    text = "\n".join(lines)
    assert "2026-Q4" in text and "RMSE" in text and "naive" in text


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_cli_nowcast_writes_forecast_observations(demo_ws):
    root, _ = demo_ws
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "34:31", "--engine", "bridge",
                                  "--format", "json", "--workspace", str(root)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["period"] == "2026-Q4" and data["engine"] == "bridge"
    lo, hi = data["de_va_interval"]
    assert lo < data["de_va"] < hi
    lo, hi = data["de_share_interval"]
    assert 0 < lo < data["de_share"] < hi < 100
    assert data["months_published"]["ONLINE_REVENUE"] == ["2026-10"]  # Hải Phòng's own set
    assert data["indicators"]["declared_for"] == "34:31" and not data["indicators"]["missing"]
    assert data["indicators"]["used"] == ["ONLINE_REVENUE", "IIP_YOY:26", "EXPORTS:26", "PORT_TEU"]
    # the reported interval is the calibrated one; the model's is kept beside it
    cal = data["calibration"]
    assert cal["method"] == "scaled" and cal["DE_VA"]["n_errors"] >= cal["min_errors"] == 9
    g = data["growth"]["DE_VA"]
    assert (g["lower_pct"], g["upper_pct"]) == pytest.approx((cal["DE_VA"]["lower"], cal["DE_VA"]["upper"]))
    assert (g["upper_pct"] - g["point_pct"]) == pytest.approx(cal["DE_VA"]["quantile"] * g["se"])
    assert data["model_interval"]["DE_VA"] != data["de_va_interval"]
    assert data["provenance"]["illustrative"] is True and data["provenance"]["input_vintages"]
    from kinhteso.workspace import Workspace

    with Workspace.open(root) as ws:
        obs = ws.store.results(territory="34:31", period="2026-Q4", kind=P.KIND)
    assert {"DE_VA", "DE_SHARE", "DE_VA_LOWER", "DE_SHARE_UPPER"} <= set(obs.indicator)
    obs = obs[obs.indicator.isin(["DE_VA", "DE_SHARE", "DE_VA_LOWER", "DE_VA_UPPER"])]
    assert set(obs.status) == {"F"} and set(obs.basis) == {"nowcast"}
    assert data["run_id"] in set(obs.run_id)
    v = obs[obs.run_id == data["run_id"]].set_index("indicator")["value"]
    assert v["DE_VA"] == pytest.approx(data["de_va"])
    assert (v["DE_VA_LOWER"], v["DE_VA_UPPER"]) == pytest.approx(tuple(data["de_va_interval"]))
    with Workspace.open(root) as ws:  # the stored run keeps its parameters: indicator set, calibration
        runs = ws.store.result_runs(kind=P.KIND)
    par = runs.set_index("run_id").loc[data["run_id"], "parameters"]
    par = json.loads(par) if isinstance(par, str) else par
    assert par["indicators"] == data["indicators"]["used"] and par["indicator_set"] == "34:31"
    assert par["calibration"]["method"] == "scaled" and par["engine_choice"]["rule"] == "named"


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_cli_dfm_table_names_news(demo_ws):
    root, _ = demo_ws
    before = len(_nowcast_vintages(root))
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "VN", "--engine", "dfm", "--dry-run",
                                  "--workspace", str(root)])
    assert r.exit_code == 0, r.output
    assert "News" in r.output and "RETAIL_SALES" in r.output and "2026-10" in r.output
    assert len(_nowcast_vintages(root)) == before  # --dry-run wrote nothing


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_cli_bad_input_writes_nothing(demo_ws):
    root, _ = demo_ws
    before = len(_nowcast_vintages(root))
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "Atlantis", "--workspace", str(root)])
    assert r.exit_code == 2 and "UNKNOWN_TERRITORY" in r.output
    r = CliRunner().invoke(main, ["nowcast", "--territory", "VN", "--engine", "lstm", "--workspace", str(root)])
    assert r.exit_code == 2
    assert len(_nowcast_vintages(root)) == before


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_cli_default_engine_table_says_which_months_are_filled(demo_ws):
    root, _ = demo_ws
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "Hải Phòng", "--dry-run", "--engine",
                                  "bridge", "--workspace", str(root)])
    assert r.exit_code == 0, r.output
    assert "engine bridge" in r.output and "34:31 2026-Q4" in r.output
    assert "filled by AR(p)" in r.output and "ONLINE_REVENUE 2 (AR(" in r.output
    assert "Indicators (shipped set, set 34:31): ONLINE_REVENUE, IIP_YOY:26, EXPORTS:26, PORT_TEU" in r.output
    assert "Empirically calibrated 90% interval" in r.output and "The model's 90% interval" in r.output


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_engine_chosen_by_the_workspace_backtest_and_explained(demo_ws):
    """Without --engine: the workspace backtest's lowest RMSE among the engines beating naive,
    and the sentence why, in JSON and in the table; the same backtest run apart agrees."""
    from kinhteso.workspace import Workspace

    root, _ = demo_ws
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "34:31", "--dry-run", "--format", "json",
                                  "--workspace", str(root)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    ch = data["choice"]
    assert ch["rule"] == "workspace-backtest" and ch["engine"] == data["engine"] and ch["n_origins"] >= 4
    with Workspace.open(root) as ws:
        s = P.load_series(ws, "34:31")
    bt = P.workspace_backtest(s, s.y_va)
    summ = bt.summary.set_index("engine")
    beating = summ[(summ.index != "naive") & (summ.rmse_ratio_to_naive < 1)]
    expect = beating.rmse.idxmin() if len(beating) else "naive"
    assert data["engine"] == expect
    for e, row in summ.iterrows():
        assert ch["engines"][e]["rmse"] == pytest.approx(row.rmse)
        assert ch["engines"][e]["rmse_ratio_to_naive"] == pytest.approx(row.rmse_ratio_to_naive)
    assert (f"{expect} chosen" in ch["en"]) if expect != "naive" else ("No engine beat the naive" in ch["en"])
    assert ch["vi"] and f"{ch['n_origins']} backtest quarters" in ch["en"]
    cov = data["calibration"]["coverage"]["DE_VA"]
    assert cov["model"] == pytest.approx(summ.loc[expect, "coverage"]) and cov["n"] == ch["n_origins"]
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "34:31", "--dry-run",
                                  "--workspace", str(root)])
    assert r.exit_code == 0 and "Engine: " in r.output and "Coverage in the backtest" in r.output
    assert "coverage_calibrated" in r.output  # the backtest table


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_short_history_falls_back_to_the_real_data_rule(demo_ws):
    from kinhteso.workspace import Workspace

    root, _ = demo_ws
    with Workspace.open(root) as ws:
        s = P.load_series(ws, "VN", since="2023-Q1")
        out = P.run_nowcast(ws, "VN", series=s, write=False)
    assert out.choice["rule"] == "real-data" and out.choice["fallback"] and out.engine == P.default_engine()
    assert "fewer than 4 backtest quarters" in out.choice["en"]
    assert out.calibration["method"] == "model"  # no backtest errors: the model interval, said so
    assert out.de_va_interval == pytest.approx(out.model_interval["DE_VA"])
    assert any(w["code"] == "NOWCAST_MODEL_INTERVAL" for w in out.warnings)


@pytest.mark.slow  # the demo workspace fixture: about 30 s alone, minutes on a loaded machine
def test_missing_indicators_reported_and_none_refused(demo_ws):
    root, _ = demo_ws
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "VN", "--dry-run", "--engine", "naive",
                                  "--indicators", "EINVOICE_REVENUE,PORT_TEU,IIP_YOY:26", "--format", "json",
                                  "--workspace", str(root)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["indicators"]["used"] == ["EINVOICE_REVENUE"] and data["indicators"]["origin"] == "option"
    miss = {m["indicator"]: m["code"] for m in data["indicators"]["missing"]}
    assert miss == {"PORT_TEU": "NOT_IN_WORKSPACE", "IIP_YOY:26": "NOT_IN_WORKSPACE"}
    w = [x for x in data["warnings"] if x["code"] == "NOWCAST_INDICATORS_MISSING"]
    assert w and "2 of the set's 3 indicators left out" in w[0]["en"] and "PORT_TEU" in w[0]["vi"]
    before = len(_nowcast_vintages(root))
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "VN", "--indicators", "PORT_TEU,IIP_YOY:26",
                                  "--workspace", str(root)])
    assert r.exit_code == 1 and "NOWCAST_NO_MONTHS" in r.output and "PORT_TEU" in r.output
    r = CliRunner().invoke(main, ["--lang", "en", "nowcast", "--territory", "VN", "--indicators", "NOPE",
                                  "--workspace", str(root)])
    assert r.exit_code == 2 and "NOWCAST_BAD_INDICATORS" in r.output
    assert len(_nowcast_vintages(root)) == before


def test_a_63_basis_territory_cannot_be_nowcast_after_the_merger(demo_run):
    from click.testing import CliRunner as _Runner

    from kinhteso.cli import main as _main

    root, _ = demo_run
    r = _Runner().invoke(_main, ["--lang", "en", "nowcast", "--territory", "63:31", "--workspace", str(root)])
    assert r.exit_code == 2 and "TERRITORY_PERIOD" in r.output and "34:31" in r.output


def test_ar_fill_error_weights_and_variance():
    """AR(1) with the quarter's 2nd and 3rd months missing: c = (1 + φ, 1) and, for one
    indicator, Var(β·x̄_T) = β²·σ²·((1 + φ)² + 1)/9."""
    from kinhteso.methods import nowcast as NC

    rng = np.random.default_rng(3)
    phi, n = 0.6, 402  # 1990-01 .. 2023-06: the last quarter ends the series
    v = np.zeros(n)
    for t in range(1, n):
        v[t] = 0.5 + phi * v[t - 1] + rng.standard_normal()
    idx = pd.period_range("1990-01", periods=n, freq="M")
    s = pd.Series(v, index=idx, name="x")
    target = idx[-1].asfreq("Q")
    last_full = s.loc[:target.asfreq("M", "s")]  # only the quarter's first month published
    c, resid = NC.ar_fill_errors(last_full, target)
    _, p, _ = NC._fit_ar(last_full.to_numpy(), 4, name="x")
    assert p == 1
    beta, _, _ = NC._fit_ar(last_full.to_numpy(), 4, name="x")
    assert c.index.tolist() == [target.asfreq("M", "s") + 1, target.asfreq("M", "s") + 2]
    assert c.to_numpy() == pytest.approx([1 + beta[1], 1.0])
    var = NC.fill_error_variance({"x": 2.0}, {"x": (c, resid)})
    assert var == pytest.approx(4.0 * resid.var(ddof=1) * ((1 + beta[1]) ** 2 + 1) / 9)
    full = s.loc[:target.asfreq("M", "e")]
    assert len(NC.ar_fill_errors(full, target)[0]) == 0
    assert NC.fill_error_variance({"x": 2.0}, {"x": NC.ar_fill_errors(full, target)}) == 0.0
