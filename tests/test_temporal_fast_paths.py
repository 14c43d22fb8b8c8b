"""The closed-form and single-series kernels of temporal disaggregation against the plain
computations they replace (issue 15, item 3): the Chow-Lin objective through the discrete sine
transform against C·Σ·C' formed and factorised, the final GLS for one series against the
batched one, the reduced Denton-Cholette system against the refined one, and td() against
td_batch(). Results must agree to round-off, so that the speed costs nothing in fidelity."""

from __future__ import annotations

import numpy as np
import pytest

from kinhteso.methods import _temporal_calc as calc
from kinhteso.methods.temporal import METHODS, _objective, td, td_batch


def _data(seed: int, n_l: int, fr: int, k: int, offset: int = 0, extra: int = 0):
    rng = np.random.default_rng(seed)
    n = offset + n_l * fr + extra
    cols = [np.ones(n)] + [100 + np.cumsum(rng.normal(0.5, 2, n)) for _ in range(k - 1)]
    X = np.column_stack(cols)
    y_high = X @ rng.uniform(0.5, 1.5, k) + np.cumsum(rng.normal(0, 1, n))
    return X, y_high, n


@pytest.mark.parametrize("conversion", ["sum", "average", "first", "last"])
@pytest.mark.parametrize(("n_l", "fr", "k"), [(36, 4, 2), (12, 12, 1), (25, 3, 3)])
def test_the_spectral_objective_is_the_dense_one(conversion, n_l, fr, k):
    X, y_high, n = _data(n_l + fr, n_l, fr, k, offset=2, extra=3)
    w = calc.conversion_weights(conversion, fr)
    Xl = calc.aggregate(X[None], w, offset=2, n_l=n_l)
    y = calc.aggregate(y_high[None, :, None], w, offset=2, n_l=n_l)[..., 0]
    kernel = calc.Ar1Spectral(y, Xl, w)
    rhos = np.array([-0.999, -0.9, -0.4, 0.0, 0.3, 0.8, 0.99, 0.999])
    kw = {"n_l": n_l, "w": w, "Ct_rw": None, "plan": None, "offset": 2, "n": n}
    for method in ("chow-lin-maxlog", "chow-lin-minrss-ecotrim", "chow-lin-minrss-quilis"):
        spec = METHODS[method]
        dense = _objective(spec, rhos, y, Xl, **kw)
        fast = kernel.objective(rhos[None], kind=spec.rho, scaled=spec.scaled)[0]
        np.testing.assert_allclose(fast, dense, rtol=1e-10)


@pytest.mark.parametrize("conversion", ["sum", "first", "last"])
@pytest.mark.parametrize("rho", [-0.8, 0.0, 0.5, 0.97])
def test_the_closed_form_gls_is_the_dense_one(conversion, rho):
    n_l, fr = 30, 4
    X, y_high, n = _data(7, n_l, fr, 3)
    w = calc.conversion_weights(conversion, fr)
    Xl = calc.aggregate(X[None], w, offset=0, n_l=n_l)[0]
    y = calc.aggregate(y_high[None, :, None], w, offset=0, n_l=n_l)[0, :, 0]
    Om = calc.omega_ar1(np.array([rho]), n_l, w)
    want = calc.gls_final(Om, y[None], Xl[None])
    got = calc.ar1_gls(rho, y, Xl, w)
    for key in ("coefficients", "se", "rss", "logl", "tss", "r_squared", "aic", "omega_inv_u"):
        np.testing.assert_allclose(got[key], getattr(want, key)[0], rtol=1e-9, atol=1e-12, err_msg=key)
    W, logdet = calc.ar1_whitener(rho, n_l, w)
    np.testing.assert_allclose(W.T @ W @ Om[0], np.eye(n_l), atol=1e-9)
    assert logdet == pytest.approx(np.linalg.slogdet(Om[0])[1], rel=1e-12)


@pytest.mark.parametrize("h", [0, 1])
@pytest.mark.parametrize("criterion", ["proportional", "additive"])
@pytest.mark.parametrize("offset", [0, 3])
def test_the_one_series_denton_is_the_refined_one(h, criterion, offset):
    n_l, fr = 20, 4
    X, y_high, n = _data(3, n_l, fr, 2, offset=offset, extra=2)
    x = X[:, 1]
    w = np.ones(fr)
    y = calc.aggregate(y_high[None, :, None], w, offset=offset, n_l=n_l)[0, :, 0]
    for cholette in (True, False):
        kw = {"offset": offset, "h": h, "proportional": criterion == "proportional", "cholette": cholette}
        want = calc.denton_solve(x[None], y[None], w, **kw)[0]
        np.testing.assert_allclose(calc.denton_one(x, y, w, **kw), want, rtol=1e-11)


@pytest.mark.parametrize("method", ["chow-lin-maxlog", "chow-lin-minrss-quilis", "chow-lin-fixed", "fernandez",
                                    "litterman-fixed", "ols", "denton-cholette", "uniform"])
def test_one_series_is_one_row_of_the_batch(method):
    n_l, fr, S = 16, 4, 5
    rng = np.random.default_rng(11)
    Xs, Ys = [], []
    for s in range(S):
        X, y_high, n = _data(20 + s, n_l, fr, 2)
        Xs.append(X[:, 1])
        Ys.append(y_high.reshape(n_l, fr).sum(axis=1) * (1 + rng.normal(0, 0.01, n_l)))
    Y, X = np.stack(Ys), np.stack(Xs)
    kw = {"method": method, "fr": fr, "fixed_rho": 0.6}
    batch = td_batch(Y, X, **kw)
    for i in range(S):
        one = td(Y[i], X[i], **kw)
        tol = 1e-6 if METHODS[method].rho in ("maxlog", "minrss") else 1e-10
        np.testing.assert_allclose(one.series, batch.series[i], rtol=tol)
        if batch.coefficients is not None:
            np.testing.assert_allclose(list(one.coefficients.values()), batch.coefficients[i], rtol=tol)
            assert one.logl == pytest.approx(batch.stats["logl"][i], rel=tol)


def test_a_large_batch_is_evaluated_in_chunks(monkeypatch):
    n_l, fr, S = 12, 4, 7
    Xs, Ys = [], []
    for s in range(S):
        X, y_high, _ = _data(40 + s, n_l, fr, 2)
        Xs.append(X[:, 1])
        Ys.append(y_high.reshape(n_l, fr).sum(axis=1))
    Y, X = np.stack(Ys), np.stack(Xs)
    whole = td_batch(Y, X, fr=fr)
    monkeypatch.setattr(calc.Ar1Spectral, "CHUNK", 100)       # one or two series per chunk
    chunked = td_batch(Y, X, fr=fr)
    np.testing.assert_array_equal(chunked.rho, whole.rho)
    np.testing.assert_allclose(chunked.series, whole.series, rtol=1e-12)
