"""Properties of temporal disaggregation: aggregation constraints, batch = single, bad input.

The invariant of every method (tempdisagg tests/test-all.R): the high-frequency result
aggregates back to the low-frequency series, for every conversion, with or without
extrapolated periods. Bad input is refused with a stable code and a vi/en message naming the
series and periods; the ``disaggregate`` command then exits 1 (2 for usage) and writes nothing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinhteso.cli import main
from kinhteso.errors import MethodError, UsageError
from kinhteso.methods.temporal import CONVERSIONS, METHODS, aggregate_high, td, td_batch

REGRESSION = [m for m, s in METHODS.items() if s.family == "regression"]
DENTON = [m for m, s in METHODS.items() if s.family == "denton"]


def _problem(seed: int, n_l: int, fr: int, n_bc: int, n_fc: int, k: int = 1):
    rng = np.random.default_rng(seed)
    n = n_bc + n_l * fr + n_fc
    X = 50 + np.cumsum(rng.normal(1.0, 3.0, (n, k)), axis=0) + 20 * rng.random((n, k))
    X = np.abs(X) + 5.0
    y_high = 2.0 + X @ rng.uniform(0.2, 1.0, k) + np.cumsum(rng.normal(0, 1.0, n))
    y_low = aggregate_high(y_high, conversion="sum", fr=fr, offset=n_bc, n_low=n_l)
    return y_low, X, n


# --- aggregation constraint ----------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(list(METHODS)),
    conversion=st.sampled_from(list(CONVERSIONS)),
    fr=st.sampled_from([3, 4, 12]),
    n_l=st.integers(5, 10),
    n_bc=st.integers(0, 5),
    n_fc=st.integers(0, 5),
    h=st.sampled_from([0, 1, 2]),
    criterion=st.sampled_from(["proportional", "additive"]),
    seed=st.integers(0, 10_000),
)
def test_result_aggregates_back_to_low_frequency(method, conversion, fr, n_l, n_bc, n_fc, h,
                                                 criterion, seed):
    y_low, X, n = _problem(seed, n_l, fr, n_bc, n_fc)
    res = td(y_low, X, method=method, conversion=conversion, fr=fr, offset=n_bc, h=h,
             criterion=criterion, truncated_rho=-1.0)
    assert res.series.shape == (n,)
    agg = aggregate_high(res.series, conversion=conversion, fr=fr, offset=n_bc, n_low=n_l)
    # the original denton replays R's explicit inverses: R's precision (tempdisagg allows 1e-7)
    tol = 1e-7 if method == "denton" else 1e-8
    np.testing.assert_allclose(agg, y_low, rtol=tol, atol=tol * np.abs(y_low).max())
    assert list(res.flags).count("extrapolated") == n_bc + n_fc
    assert all(f == "benchmarked" for f in res.flags[n_bc: n_bc + n_l * fr])
    np.testing.assert_allclose(res.fitted_low + res.residual_low, y_low, rtol=1e-10)
    if METHODS[method].rho in ("maxlog", "minrss"):
        assert -0.999 <= res.rho <= 0.999


@settings(max_examples=25, deadline=None)
@given(conversion=st.sampled_from(list(CONVERSIONS)), fr=st.sampled_from([4, 12]),
       n_l=st.integers(3, 12), method=st.sampled_from(DENTON + ["chow-lin-maxlog", "fernandez"]),
       seed=st.integers(0, 1000))
def test_no_indicator_aggregates_back(conversion, fr, n_l, method, seed):
    y_low = np.random.default_rng(seed).uniform(10, 100, n_l)
    res = td(y_low, None, method=method, conversion=conversion, fr=fr)
    np.testing.assert_allclose(aggregate_high(res.series, conversion=conversion, fr=fr), y_low,
                               rtol=1e-9)
    if method != "uniform":
        assert (res.flags == "benchmarked").all()


@pytest.mark.parametrize("method", ["chow-lin-maxlog", "chow-lin-minrss-quilis", "litterman-maxlog",
                                    "fernandez", "ols", "denton-cholette", "denton"])
def test_batch_equals_one_by_one(method):
    rng = np.random.default_rng(7)
    S, n_l, fr = 12, 8, 4
    X = 100 + np.cumsum(rng.normal(1, 3, (S, n_l * fr + 3)), axis=1)
    Y = np.stack([aggregate_high(X[s] * 0.4 + 3 + np.cumsum(rng.normal(0, 1, X.shape[1])), fr=fr,
                                 offset=1, n_low=n_l) for s in range(S)])
    kw = {"method": method, "fr": fr, "offset": 1}
    if METHODS[method].family == "denton":
        kw["intercept"] = False
    batch = td_batch(Y, X, **kw)
    for s in range(S):
        one = td(Y[s], X[s], **kw)
        np.testing.assert_allclose(batch.series[s], one.series, rtol=1e-7)
        r = batch.result(s)
        if one.rho is not None:
            assert r.rho == pytest.approx(one.rho, abs=1e-6)
            assert r.coefficients.keys() == one.coefficients.keys()


def test_two_indicators_name_the_coefficients():
    y_low, X, _ = _problem(3, 12, 4, 0, 0, k=2)
    res = td(y_low, X, method="chow-lin-fixed", fixed_rho=0.3, indicator_names=["exports", "imports"])
    assert list(res.coefficients) == ["(Intercept)", "exports", "imports"]
    assert list(res.se) == list(res.coefficients)
    res0 = td(y_low, X, method="fernandez", intercept=False, indicator_names=["exports", "imports"])
    assert list(res0.coefficients) == ["exports", "imports"]


def test_nonnegativity_safeguard_keeps_values_positive_and_says_so():
    # an additive Denton of a swinging indicator onto small annual totals goes negative
    x = np.tile([10.0, 200.0, 10.0, 200.0], 6)
    y_low = np.array([40.0, 35.0, 30.0, 60.0, 45.0, 50.0])
    plain = td(y_low, x, method="denton-cholette", criterion="additive", h=1)
    assert (plain.series < 0).any() and not plain.nonneg_adjusted
    safe = td(y_low, x, method="denton-cholette", criterion="additive", h=1, nonneg=True)
    assert safe.nonneg_adjusted
    assert (safe.series >= 0).all()
    np.testing.assert_allclose(aggregate_high(safe.series), y_low, rtol=1e-9)
    untouched = td(y_low, x, method="denton-cholette", nonneg=True)     # proportional: positive
    assert not untouched.nonneg_adjusted


# --- bad input in the method layer ---------------------------------------------------------

def _raises(exc, code, fn):
    with pytest.raises(exc) as info:
        fn()
    err = info.value
    assert err.code == code
    assert err.vi and err.en and err.vi != err.en
    return err


def test_bad_options_are_usage_errors():
    y, X, _ = _problem(1, 8, 4, 0, 0)
    _raises(UsageError, "TD_METHOD", lambda: td(y, X, method="chow-lin"))
    _raises(UsageError, "TD_CONVERSION", lambda: td(y, X, conversion="mean"))
    _raises(UsageError, "TD_H", lambda: td(y, X, method="denton", h=3))
    _raises(UsageError, "TD_CRITERION", lambda: td(y, X, method="denton", criterion="ratio"))
    _raises(UsageError, "TD_FIXED_RHO", lambda: td(y, X, method="chow-lin-fixed", fixed_rho=1.0))
    _raises(UsageError, "TD_DENTON_ONE", lambda: td(y, np.column_stack([X, X * 2]), method="denton"))


def test_bad_data_are_method_errors_naming_series_and_periods():
    y, X, n = _problem(2, 8, 4, 0, 0)
    labels = [f"2000-Q{i % 4 + 1}" for i in range(n)]
    Xna = X.copy()
    Xna[5, 0] = np.nan
    err = _raises(MethodError, "TD_NA_INDICATOR",
                  lambda: td(y, Xna, indicator_names=["exports"], labels_high=labels))
    assert "exports" in err.en and labels[5] in err.en and labels[5] in err.vi
    _raises(MethodError, "TD_SPAN", lambda: td(y, X[:-2]))
    _raises(MethodError, "TD_SPAN", lambda: td(y, X, offset=2))
    _raises(MethodError, "TD_TOO_FEW", lambda: td(y[:2], X[:8]))
    _raises(MethodError, "TD_CONSTANT_INDICATOR", lambda: td(y, np.full(n, 3.0)))
    twins = np.column_stack([X[:, 0], 2 * X[:, 0]])
    _raises(MethodError, "TD_COLLINEAR", lambda: td(y, twins))
    Xz = X.copy()
    Xz[3, 0] = 0.0
    err = _raises(MethodError, "TD_ZERO_INDICATOR",
                  lambda: td(y, Xz, method="denton-cholette", labels_high=labels))
    assert labels[3] in err.en
    td(y, Xz, method="denton-cholette", criterion="additive")          # additive takes zeros


# --- the disaggregate command --------------------------------------------------------------

def _write(path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.fixture
def files(tmp_path):
    y_low, X, n = _problem(11, 10, 4, 2, 3, k=2)
    quarters = [f"{1999 + (i + 2) // 4}-Q{(i + 2) % 4 + 1}" for i in range(n)]   # 1999-Q3 …
    low = _write(tmp_path / "low.csv", ["period", "value"], [(2000 + i, v) for i, v in enumerate(y_low)])
    high = _write(tmp_path / "high.csv", ["period", "exports", "imports"],
                  [(q, a, b) for q, (a, b) in zip(quarters, X)])
    return {"dir": tmp_path, "low": low, "high": high, "quarters": quarters, "X": X, "y": y_low}


def _invoke(args, lang="en"):
    return CliRunner().invoke(main, ["--lang", lang, "disaggregate", *map(str, args)])


def test_cli_writes_series_and_summary(files):
    out, summ = files["dir"] / "out.csv", files["dir"] / "summary.json"
    r = _invoke(["--low", files["low"], "--indicator", files["high"], "--out", out, "--summary", summ])
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert lines[0] == "period,value"
    assert [ln.split(",")[0] for ln in lines[1:]] == files["quarters"]
    values = np.array([float(ln.split(",")[1]) for ln in lines[1:]])
    np.testing.assert_allclose(aggregate_high(values, offset=2, n_low=10), files["y"], rtol=1e-9)
    s = json.loads(summ.read_text())
    for key in ("method", "rho", "truncated", "coefficients", "se", "logl", "rss", "aic", "bic"):
        assert key in s
    assert s["method"] == "chow-lin-maxlog"
    assert list(s["coefficients"]) == ["(Intercept)", "exports", "imports"]
    assert s["extrapolated"] == files["quarters"][:2] + files["quarters"][-3:]
    direct = td(files["y"], files["X"], offset=2, indicator_names=["exports", "imports"])
    np.testing.assert_allclose(values, direct.series, rtol=1e-12)


def test_cli_without_indicator_needs_to(files):
    out = files["dir"] / "out.csv"
    r = _invoke(["--low", files["low"], "--method", "denton-cholette", "--out", out])
    assert r.exit_code == 2 and "--to" in r.output and not out.exists()
    r = _invoke(["--low", files["low"], "--to", "monthly", "--method", "denton-cholette",
                 "--conversion", "average", "--out", out])
    assert r.exit_code == 0, r.output
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 120 and rows[0].startswith("2000-01,")


def _bad_high(files, edit):
    rows = [ln.split(",") for ln in files["high"].read_text().splitlines()]
    rows = edit(rows)
    return _write(files["dir"] / "bad_high.csv", rows[0], rows[1:])


@pytest.mark.parametrize(("case", "edit", "needle"), [
    ("gap", lambda r: r[:8] + r[9:], "2001-Q2"),
    ("na", lambda r: [row if i != 6 else [row[0], "NA", row[2]] for i, row in enumerate(r)], "exports"),
    ("short", lambda r: r[:-10], "2008"),
    ("mixed", lambda r: [row if i != 4 else [row[0].replace("-", ""), *row[1:]] for i, row in enumerate(r)],
     "1975Q1"),
    ("constant", lambda r: [r[0]] + [[row[0], "5", row[2]] for row in r[1:]], "exports"),
    ("collinear", lambda r: [r[0]] + [[row[0], row[1], str(2 * float(row[1]))] for row in r[1:]], "collinear"),
    ("duplicate", lambda r: r[:5] + [r[4]] + r[5:], "twice"),
    ("not-a-number", lambda r: [row if i != 3 else [row[0], "abc", row[2]] for i, row in enumerate(r)], "abc"),
])
def test_cli_rejects_bad_indicator_and_writes_nothing(files, case, edit, needle):
    high = _bad_high(files, edit)
    out, summ = files["dir"] / f"out_{case}.csv", files["dir"] / f"s_{case}.json"
    r = _invoke(["--low", files["low"], "--indicator", high, "--out", out, "--summary", summ])
    assert r.exit_code == 1, r.output
    assert needle in r.output
    assert not out.exists() and not summ.exists()
    assert not [p for p in files["dir"].iterdir() if p.name.startswith(".out")]


def test_cli_rejects_zeros_in_proportional_denton_in_both_languages(files):
    high = _bad_high(files, lambda r: [r[0][:2]] + [[row[0], "0" if i == 7 else row[1]] for i, row in enumerate(r[1:], 1)])
    out = files["dir"] / "out.csv"
    args = ["--low", files["low"], "--indicator", high, "--method", "denton-cholette", "--out", out]
    r_en = _invoke(args, "en")
    assert r_en.exit_code == 1 and "zero" in r_en.output and files["quarters"][6] in r_en.output
    r_vi = _invoke(args, "vi")
    assert r_vi.exit_code == 1 and "bằng 0" in r_vi.output
    assert not out.exists()


def test_cli_rejects_too_few_low_frequency_values(files):
    low = _write(files["dir"] / "low2.csv", ["period", "value"], [(2000, 10.0), (2001, 12.0)])
    out = files["dir"] / "out.csv"
    r = _invoke(["--low", low, "--indicator", files["high"], "--out", out])
    assert r.exit_code == 1 and "TD_TOO_FEW" in r.output and not out.exists()


def test_cli_usage_errors_exit_2(files):
    out = files["dir"] / "out.csv"
    for extra in (["--method", "chow-lin"], ["--h", "3"], ["--conversion", "mean"]):
        r = _invoke(["--low", files["low"], "--indicator", files["high"], "--out", out, *extra])
        assert r.exit_code == 2, (extra, r.output)
    r = _invoke(["--low", files["low"], "--indicator", files["high"], "--to", "monthly", "--out", out])
    assert r.exit_code == 2 and not out.exists()
