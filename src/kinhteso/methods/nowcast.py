"""Nowcasting the current quarter from the months already published (the ragged edge).

Pure numerics: a quarterly target ``y`` (a ``pd.Series`` on a quarterly ``PeriodIndex``, usually
a year-on-year growth rate in percent) and monthly indicators ``x`` (a ``pd.DataFrame`` on a
monthly ``PeriodIndex``, NaN or absent where a month is not yet published) go in; a
:class:`Nowcast` (point, interval, details) comes out. Three engines, one registry
(:data:`ENGINES`):

``bridge``
    Bridge equation (IMF *Quarterly National Accounts Manual* 2017, the chapter on flash
    estimates and indicator-based extrapolation; Baffigi, Golinelli & Parigi 2004,
    *Int. J. Forecasting* 20(3)). The months missing in the target quarter are filled by an
    AR(p) forecast of each indicator (OLS, p by BIC in 1..4); the monthly indicators are averaged
    to quarters; ``y`` is regressed on them by OLS; the interval is the OLS prediction interval.
``dfm``
    Mixed-frequency dynamic factor model fitted by EM (Bańbura & Modugno 2014, *J. Applied
    Econometrics* 29(1); statsmodels 0.14.6 ``DynamicFactorMQ``), the quarterly target linked to
    the monthly factor by the Mariano–Murasawa (2003) aggregator. The Kalman smoother fills the
    ragged edge itself; :func:`dfm_news` splits a revision of the nowcast into the contributions
    of each new release (Bańbura, Giannone, Modugno & Reichlin 2013, *Handbook of Economic
    Forecasting* vol. 2A, ch. 4, the news decomposition).
``naive``
    Random walk in the target (year-on-year) growth: the nowcast of quarter T is the growth of
    the last published quarter.

:func:`backtest` is the pseudo-real-time evaluation: an expanding window, at each origin only
the quarters before it and the months of the origin quarter that would have been published
(``months_available``), every engine re-estimated, RMSE of each engine and its ratio to the
naive forecast's RMSE.

:func:`calibrate` makes the reported interval empirical (split-conformal prediction, Vovk,
Gammerman & Shafer 2005; Lei, G'Sell, Rinaldo, Tibshirani & Wasserman 2018): the half-width is
the finite-sample quantile (:func:`conformal_quantile`) of the errors of earlier origins, scaled
by the model's standard error (``scaled``) or not (``absolute``). In :func:`backtest` the
interval at origin t uses only the errors of the origins before t.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kinhteso.errors import MethodError, UsageError
from kinhteso.progress import Progress, or_null

__all__ = [
    "Nowcast",
    "Engine",
    "ENGINES",
    "NewsResult",
    "BacktestResult",
    "ar_fill",
    "quarter_means",
    "bridge",
    "dfm",
    "naive",
    "dfm_news",
    "nowcast",
    "backtest",
    "information_set",
    "feasible_origins",
    "Calibration",
    "CALIBRATIONS",
    "min_calibration",
    "conformal_quantile",
    "calibrate",
    "choose_engine",
    "yoy_log_growth",
    "log_growth_from_pct",
    "vn_reference_series",
]


@dataclass(frozen=True)
class Nowcast:
    """One nowcast: the engine, the target quarter, the point, the interval at ``level``."""

    engine: str
    target: str
    point: float
    lower: float
    upper: float
    level: float
    se: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Engine:
    """A nowcasting engine: its function ``(y, x, target, *, level, **options) -> Nowcast``."""

    name: str
    fn: Callable[..., Nowcast]
    label_vi: str
    label_en: str
    anchor: str


# --- checks -------------------------------------------------------------------------------

def _check(y: pd.Series, x: pd.DataFrame, target: pd.Period) -> None:
    if not isinstance(y.index, pd.PeriodIndex) or y.index.freqstr[0] != "Q":
        raise UsageError("NOWCAST_Y_INDEX", "Chuỗi mục tiêu phải theo quý (PeriodIndex quý).",
                         "The target series must be quarterly (a quarterly PeriodIndex).")
    if not isinstance(x.index, pd.PeriodIndex) or x.index.freqstr[0] != "M":
        raise UsageError("NOWCAST_X_INDEX", "Các chỉ báo phải theo tháng (PeriodIndex tháng).",
                         "The indicators must be monthly (a monthly PeriodIndex).")
    n = int(y[y.index < target].notna().sum())
    if n < 8:
        raise MethodError("NOWCAST_TOO_SHORT",
                          f"Chỉ có {n} quý số liệu mục tiêu trước {target}; cần ít nhất 8 quý.",
                          f"Only {n} quarters of the target before {target}; at least 8 are needed.")


def _quantile(level: float, df: float | None = None) -> float:
    if not 0 < level < 1:
        raise UsageError("NOWCAST_LEVEL", f"Mức tin cậy {level} phải nằm trong (0, 1).",
                         f"Confidence level {level} must lie in (0, 1).")
    a = 0.5 + level / 2
    return float(stats.t.ppf(a, df) if df else stats.norm.ppf(a))


def _months(q: pd.Period) -> pd.PeriodIndex:
    return pd.period_range(q.asfreq("M", "s"), q.asfreq("M", "e"), freq="M")


# --- helpers ------------------------------------------------------------------------------

def yoy_log_growth(s: pd.Series, *, lag: int) -> pd.Series:
    """Year-on-year growth in percent as 100·ln(v_t / v_{t−lag}) (``lag`` 4 quarters, 12 months);
    non-positive values give NaN. The stationary transformation of levels usual in nowcasting
    (Bańbura et al. 2013: growth rates of non-stationary series); year-on-year, so that
    seasonality drops out without a seasonal adjustment."""
    v = s.astype(float).where(s > 0)
    full = v.reindex(pd.period_range(v.index.min(), v.index.max(), freq=v.index.freq))
    return (100.0 * np.log(full / full.shift(lag))).reindex(s.index)


def log_growth_from_pct(s: pd.Series) -> pd.Series:
    """A growth rate published in percent (v = 100·(x_t/x_{t−12} − 1), e.g. GSO's industrial
    production index over the same month of the previous year) as log growth 100·ln(1 + v/100),
    the scale of :func:`yoy_log_growth`; v ≤ −100 gives NaN."""
    v = s.astype(float)
    return 100.0 * np.log((1.0 + v / 100.0).where(v > -100.0))


def ar_fill(s: pd.Series, end: pd.Period, *, max_lag: int = 4) -> tuple[pd.Series, int, int]:
    """Extend a monthly series to ``end`` with iterated AR(p) forecasts.

    x_t = c + Σ_{i=1..p} φ_i x_{t−i} + e_t, fitted by OLS on the observed span (trailing NaN
    dropped); p minimises BIC = n·ln(RSS/n) + (p+1)·ln n over 1..``max_lag`` on a common sample
    (Box & Jenkins; the usual ragged-edge fill of bridge equations, Baffigi et al. 2004).
    Returns (series through ``end``, number of months filled, p).
    """
    obs = s.astype(float)
    last = obs.last_valid_index()
    if last is None:
        raise MethodError("NOWCAST_EMPTY_INDICATOR", f"Chỉ báo {s.name} không có số liệu.",
                          f"Indicator {s.name} has no data.")
    obs = obs.loc[:last]
    first = obs.first_valid_index()
    obs = obs.loc[first:]
    if obs.isna().any():
        gaps = [str(p) for p in obs.index[obs.isna()][:5]]
        raise MethodError("NOWCAST_GAP", f"Chỉ báo {s.name} thiếu tháng ở giữa chuỗi: {', '.join(gaps)}.",
                          f"Indicator {s.name} has months missing inside the series: {', '.join(gaps)}.")
    h = (end - last).n if end > last else 0
    if h == 0:
        return obs, 0, 0
    v = obs.to_numpy()
    beta, p, _ = _fit_ar(v, max_lag, name=str(s.name))
    hist = list(v)
    for _ in range(h):  # iterated one-step forecasts
        hist.append(float(beta[0] + sum(beta[i] * hist[-i] for i in range(1, p + 1))))
    idx = pd.period_range(obs.index[0], end, freq="M")
    return pd.Series(hist, index=idx, name=s.name), h, p


def _fit_ar(v: np.ndarray, max_lag: int, *, name: str) -> tuple[np.ndarray, int, np.ndarray]:
    """OLS AR(p) with p by BIC on a common sample (see :func:`ar_fill`): (c, φ_1..φ_p), p, and
    the residuals e_p..e_{n−1} (aligned with the last n − p observations)."""
    n_all = len(v)
    if n_all < max_lag + 8:
        raise MethodError("NOWCAST_AR_SHORT", f"Chỉ báo {name} quá ngắn ({n_all} tháng) để dự báo AR.",
                          f"Indicator {name} is too short ({n_all} months) for an AR forecast.")
    best = None
    for p in range(1, max_lag + 1):
        # common sample: t = max_lag .. n−1 for every p, so BIC values compare
        Y = v[max_lag:]
        X = np.column_stack([np.ones(len(Y))] + [v[max_lag - i:n_all - i] for i in range(1, p + 1)])
        beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
        rss = float(np.sum((Y - X @ beta) ** 2))
        bic = len(Y) * np.log(max(rss, 1e-300) / len(Y)) + (p + 1) * np.log(len(Y))
        if best is None or bic < best[0]:
            best = (bic, p)
    p = best[1]
    Y = v[p:]
    X = np.column_stack([np.ones(len(Y))] + [v[p - i:n_all - i] for i in range(1, p + 1)])
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    return beta, p, Y - X @ beta


def ar_fill_errors(s: pd.Series, target: pd.Period, *, max_lag: int = 4) -> tuple[pd.Series, pd.Series]:
    """How the AR(p) fill of :func:`ar_fill` errs in the target quarter's sum: the weights c and
    the one-step residuals (indexed by month), so that the error of the quarter's sum is
    Σ_i c_i ε_{T+i}. With ψ_j the MA(∞) weights of the AR(p) and the quarter's missing months
    at horizons h ∈ H after the last observation, c_i = Σ_{h∈H, h≥i} ψ_{h−i} (Box & Jenkins:
    the forecast error of an AR process). c is indexed by the month of ε_{T+i}; it is empty when
    the quarter is fully published."""
    obs = s.astype(float)
    last = obs.last_valid_index()
    months = pd.period_range(target.asfreq("M", "s"), target.asfreq("M", "e"), freq="M")
    horizons = [(m - last).n for m in months if m > last]
    if not horizons:
        return pd.Series(dtype=float), pd.Series(dtype=float)
    obs = obs.loc[obs.first_valid_index():last]
    beta, p, resid = _fit_ar(obs.to_numpy(), max_lag, name=str(s.name))
    phi = beta[1:]
    H = max(horizons)
    psi = np.zeros(H)
    psi[0] = 1.0
    for j in range(1, H):  # ψ_j = Σ_{i=1..min(j,p)} φ_i ψ_{j−i}
        psi[j] = sum(phi[i - 1] * psi[j - i] for i in range(1, min(j, p) + 1))
    c = [sum(psi[h - i] for h in horizons if h >= i) for i in range(1, H + 1)]
    return (pd.Series(c, index=pd.period_range(last + 1, periods=H, freq="M")),
            pd.Series(resid, index=obs.index[len(obs) - len(resid):]))


def fill_error_variance(beta: dict[str, float], errors: dict[str, tuple[pd.Series, pd.Series]]) -> float:
    """Var(Σ_k β_k x̄_{k,T}) from the fill errors of several indicators: β'Ωβ with
    Ω_kl = Σ_m c_m^k c_m^l σ_kl / 9 over the innovation months m, σ_kl the covariance of the
    indicators' one-step residuals over their common months (correlated fills of co-moving
    indicators partly cancel)."""
    keys = [k for k, (c, _) in errors.items() if len(c)]
    if not keys:
        return 0.0
    resid = pd.concat({k: errors[k][1] for k in keys}, axis=1, join="inner")
    sigma = np.atleast_2d(np.cov(resid.to_numpy(), rowvar=False, ddof=1))
    C = pd.concat({k: errors[k][0] for k in keys}, axis=1).fillna(0.0)[keys].to_numpy().T  # (k, months)
    omega = (C @ C.T) * sigma / 9.0
    b = np.array([beta[k] for k in keys])
    return float(max(b @ omega @ b, 0.0))


def quarter_means(x: pd.DataFrame) -> pd.DataFrame:
    """Quarterly means of monthly columns, x̄_{q} = (x_{m1} + x_{m2} + x_{m3}) / 3, for quarters
    whose three months are all present (the quarterly aggregate of a monthly growth rate; the
    bridge-equation aggregation of Baffigi, Golinelli & Parigi 2004)."""
    q = x.index.asfreq("Q")
    g = x.groupby(q)
    return g.mean().where(g.count() == 3)


# --- engines ------------------------------------------------------------------------------

def naive(y: pd.Series, x: pd.DataFrame, target: pd.Period, *, level: float = 0.9) -> Nowcast:
    """Random walk in growth: ŷ_T = y_{T−1}, the last published quarter's growth.

    Interval: ŷ ± z·σ̂·√h with σ̂² = mean((Δy)²) over the sample, h quarters from the last
    published one (the usual benchmark of the nowcasting literature, Bańbura et al. 2013; ``x`` is not used).
    """
    _check(y, x, target)
    hist = y[y.index < target].dropna()
    last = hist.index[-1]
    h = (target - last).n
    d = hist.diff().dropna().to_numpy()
    sigma = float(np.sqrt(np.mean(d ** 2)))
    se = sigma * np.sqrt(h)
    z = _quantile(level)
    point = float(hist.iloc[-1])
    return Nowcast("naive", str(target), point, point - z * se, point + z * se, level, se,
                   {"last_quarter": str(last), "horizon_quarters": h})


def bridge(y: pd.Series, x: pd.DataFrame, target: pd.Period, *, level: float = 0.9, max_ar_lag: int = 4) -> Nowcast:
    """Bridge equation: y_t = α + Σ_k β_k x̄_{k,t} + ε_t, estimated by OLS on the quarters with
    ``y`` and three published months; the target quarter's missing months filled by
    :func:`ar_fill` (ragged edge). Prediction interval (OLS, Student t with n−k df):
    ŷ_T ± t·s·√(1 + x_T'(X'X)⁻¹x_T). Anchor: IMF QNA Manual 2017 (flash estimates); Baffigi,
    Golinelli & Parigi (2004), the bridge equation. The months filled by AR forecasts add
    their error to the interval: se² = s²(1 + x_T'(X'X)⁻¹x_T) + β'Ωβ, Ω the covariance of the
    fill errors of the quarter's means (:func:`fill_error_variance`).
    """
    _check(y, x, target)
    cols = [c for c in x.columns if x[c].notna().any()]
    if not cols:
        raise MethodError("NOWCAST_NO_INDICATOR", "Không có chỉ báo tháng nào có số liệu.",
                          "No monthly indicator has data.")
    end = target.asfreq("M", "e")
    filled, fill_info = {}, {}
    for c in cols:
        s, n_filled, p = ar_fill(x[c].loc[:end], end, max_lag=max_ar_lag)
        filled[c] = s
        published = int(x[c].loc[_months(target)[0]:end].notna().sum())
        fill_info[c] = {"months_published": published, "months_ar_filled": n_filled, "ar_order": p}
    xf = pd.DataFrame(filled)
    xq = quarter_means(xf)  # x̄_{k,q}: mean of the quarter's three months
    train = pd.concat([y.rename("__y"), xq], axis=1, join="inner")
    train = train[train.index < target].dropna()
    n, k = len(train), len(cols) + 1
    if n < k + 4:
        raise MethodError("NOWCAST_TOO_SHORT",
                          f"Chỉ có {n} quý chung giữa mục tiêu và chỉ báo; cần ít nhất {k + 4}.",
                          f"Only {n} quarters shared by the target and the indicators; at least {k + 4} needed.")
    if target not in xq.index or xq.loc[target].isna().any():
        raise MethodError("NOWCAST_NO_TARGET_ROW", f"Không dựng được chỉ báo quý cho {target}.",
                          f"Could not build the quarterly indicators for {target}.")
    X = np.column_stack([np.ones(n), train[cols].to_numpy()])
    Y = train["__y"].to_numpy()
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)  # β̂ = (X'X)⁻¹X'y (least squares; min-norm if collinear)
    resid = Y - X @ beta
    s2 = float(resid @ resid) / (n - k)  # s² = e'e / (n − k)
    XtX_inv = np.linalg.pinv(X.T @ X)
    x0 = np.concatenate([[1.0], xq.loc[target, cols].to_numpy(dtype=float)])
    point = float(x0 @ beta)  # ŷ_T = x_T'β̂
    errors = {c: ar_fill_errors(x[c].loc[:end], target, max_lag=max_ar_lag) for c in cols}
    extra = fill_error_variance(dict(zip(cols, beta[1:])), errors)  # β'Ωβ
    se = float(np.sqrt(s2 * (1.0 + x0 @ XtX_inv @ x0) + extra))
    t = _quantile(level, n - k)
    coef = {"(Intercept)": float(beta[0]), **{c: float(b) for c, b in zip(cols, beta[1:])}}
    return Nowcast("bridge", str(target), point, point - t * se, point + t * se, level, se,
                   {"coefficients": coef, "n_quarters": n, "sigma": float(np.sqrt(s2)),
                    "ragged_edge": fill_info, "ragged_edge_fill": "AR(p) by OLS, p by BIC in 1..%d" % max_ar_lag,
                    "fill_error_variance": extra})


def _dfm_data(y: pd.Series, x: pd.DataFrame, target: pd.Period) -> tuple[pd.DataFrame, pd.DataFrame, pd.Period]:
    """The monthly panel through the target quarter's last month (NaN where unpublished) and
    the quarterly target through the target quarter (NaN at the target)."""
    end = target.asfreq("M", "e")
    cols = [c for c in x.columns if x[c].notna().any()]
    xm = x[cols].loc[:end]
    start = xm.apply(lambda s: s.first_valid_index()).min()
    start = max(start, y.dropna().index[0].asfreq("M", "s"))
    midx = pd.period_range(start.asfreq("Q").asfreq("M", "s"), end, freq="M")
    xm = xm.reindex(midx).astype(float)
    qidx = pd.period_range(midx[0].asfreq("Q"), target, freq="Q")
    yq = y.reindex(qidx).astype(float).copy()
    yq.loc[yq.index >= target] = np.nan
    return xm, yq.to_frame(y.name or "y"), end


def _dfm_fit(xm: pd.DataFrame, yq: pd.DataFrame, *, factor_orders: int, maxiter: int, tolerance: float):
    from statsmodels.tsa.statespace.dynamic_factor_mq import DynamicFactorMQ  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = DynamicFactorMQ(xm, endog_quarterly=yq, factors=1, factor_orders=factor_orders,
                              idiosyncratic_ar1=True, standardize=True)
        return mod.fit(disp=False, maxiter=maxiter, tolerance=tolerance)


def dfm(y: pd.Series, x: pd.DataFrame, target: pd.Period, *, level: float = 0.9, factor_orders: int = 1,
        maxiter: int = 200, tolerance: float = 1e-6) -> Nowcast:
    """Mixed-frequency DFM (Bańbura & Modugno 2014; statsmodels 0.14.6 ``DynamicFactorMQ``).

    x_t = Λ f_t + e_t (monthly), f_t = A_1 f_{t−1} + … + A_p f_{t−p} + u_t, e_{i,t} AR(1);
    the quarterly target loads on f_t + 2f_{t−1} + 3f_{t−2} + 2f_{t−3} + f_{t−4} (the
    Mariano & Murasawa 2003 approximation, as in BM 2014). One factor, fitted by EM
    (``maxiter``, ``tolerance``); the nowcast is the smoothed quarterly variable at the target
    quarter's last month, the interval its prediction interval (parameter uncertainty not
    included).
    """
    _check(y, x, target)
    xm, yq, end = _dfm_data(y, x, target)
    res = _dfm_fit(xm, yq, factor_orders=factor_orders, maxiter=maxiter, tolerance=tolerance)
    name = yq.columns[0]
    pred = res.get_prediction(start=end, end=end)
    point = float(pred.predicted_mean[name].iloc[0])
    ci = pred.conf_int(alpha=1 - level)
    lower, upper = float(ci[f"lower {name}"].iloc[0]), float(ci[f"upper {name}"].iloc[0])
    z = _quantile(level)
    return Nowcast("dfm", str(target), point, lower, upper, level, (upper - lower) / (2 * z),
                   {"factors": 1, "factor_orders": factor_orders, "em_iterations": int(res.mle_retvals.get("iter", -1))
                    if isinstance(getattr(res, "mle_retvals", None), dict) else None,
                    "loglike": float(res.llf), "n_months": len(xm), "maxiter": maxiter})


# --- news ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewsResult:
    """How the DFM nowcast moved between two information sets, release by release."""

    target: str
    previous: float
    new: float
    revision_impact: float
    releases: pd.DataFrame  # variable, period, observed, expected, news, weight, impact

    @property
    def total(self) -> float:
        return self.new - self.previous


def dfm_news(y_old: pd.Series, x_old: pd.DataFrame, y_new: pd.Series, x_new: pd.DataFrame, target: pd.Period, *,
             factor_orders: int = 1, maxiter: int = 200, tolerance: float = 1e-6) -> NewsResult:
    """The news decomposition (Bańbura, Giannone, Modugno & Reichlin 2013; Bańbura & Modugno 2014):
    with the parameters of the model fitted on the new information set,
    ŷ_new − ŷ_old = Σ_j w_j (x_j − E[x_j | Ω_old]) + (effect of revised data),
    one term per new release j. statsmodels ``DynamicFactorMQResults.news``.
    """
    _check(y_new, x_new, target)
    xm_new, yq_new, end = _dfm_data(y_new, x_new, target)
    xm_old = x_old.reindex(xm_new.index).reindex(columns=xm_new.columns).astype(float)
    yq_old = y_old.reindex(yq_new.index).astype(float).to_frame(yq_new.columns[0])
    yq_old.loc[yq_old.index >= target] = np.nan
    res_new = _dfm_fit(xm_new, yq_new, factor_orders=factor_orders, maxiter=maxiter, tolerance=tolerance)
    name = yq_new.columns[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res_old = res_new.apply(xm_old, endog_quarterly=yq_old)
        news = res_new.news(res_old, impact_date=end, impacted_variable=name, comparison_type="previous")
    prev = float(res_old.get_prediction(start=end, end=end).predicted_mean[name].iloc[0])
    new = float(res_new.get_prediction(start=end, end=end).predicted_mean[name].iloc[0])
    det = news.details_by_impact
    if len(det):
        det = det.reset_index()
        rel = pd.DataFrame({"variable": det["updated variable"].astype(str),
                            "period": det["update date"].astype(str),
                            "observed": det["observed"].astype(float),
                            "expected": det["forecast (prev)"].astype(float),
                            "news": det["news"].astype(float),
                            "weight": det["weight"].astype(float),
                            "impact": det["impact"].astype(float)})
    else:
        rel = pd.DataFrame(columns=["variable", "period", "observed", "expected", "news", "weight", "impact"])
    # releases whose value the old information set predicted exactly get no row from statsmodels:
    # list them with impact 0, so that every new release is named
    fresh = xm_new.notna() & xm_old.isna()
    seen = set(zip(rel["variable"], rel["period"]))
    extra = [{"variable": str(c), "period": str(p), "observed": float(xm_new.loc[p, c]), "expected": np.nan,
              "news": 0.0, "weight": np.nan, "impact": 0.0}
             for c in fresh.columns for p in fresh.index[fresh[c].to_numpy()] if (str(c), str(p)) not in seen]
    if extra:
        rel = pd.concat([rel, pd.DataFrame(extra)], ignore_index=True) if len(rel) else pd.DataFrame(extra)
    rev = news.revision_impacts
    rev_total = float(np.nansum(np.asarray(rev, dtype=float))) if rev is not None else 0.0
    return NewsResult(str(target), prev, new, rev_total, rel)


# --- registry and front door --------------------------------------------------------------

ENGINES: dict[str, Engine] = {
    "bridge": Engine("bridge", bridge, "Phương trình cầu (bridge), tháng thiếu dự báo bằng AR(p)",
                     "Bridge equation, missing months filled by AR(p)",
                     "IMF QNA Manual 2017 (flash estimates); Baffigi, Golinelli & Parigi 2004"),
    "dfm": Engine("dfm", dfm, "Mô hình nhân tố động tần suất hỗn hợp (DynamicFactorMQ)",
                  "Mixed-frequency dynamic factor model (DynamicFactorMQ)",
                  "Bańbura & Modugno 2014; Bańbura, Giannone, Modugno & Reichlin 2013; statsmodels 0.14.6"),
    "naive": Engine("naive", naive, "Dự báo ngây thơ: tăng trưởng quý trước (bước ngẫu nhiên)",
                    "Naive: random walk in year-on-year growth",
                    "Bańbura et al. 2013 (benchmark)"),
}


def nowcast(y: pd.Series, x: pd.DataFrame, target: pd.Period, *, engine: str = "bridge", level: float = 0.9,
            options: Mapping[str, Any] | None = None) -> Nowcast:
    """Nowcast ``target`` with the engine named ``engine`` (a key of :data:`ENGINES`); the
    anchors are the engines' (see the module docstring). Example::

        nc = nowcast(y, x, pd.Period("2026Q4", "Q"), engine="bridge", level=0.9)
        nc.point, (nc.lower, nc.upper)
    """
    if engine not in ENGINES:
        raise UsageError("UNKNOWN_ENGINE", f"Không có phương pháp dự báo '{engine}'; dùng {', '.join(ENGINES)}.",
                         f"Unknown nowcast engine '{engine}'; use one of {', '.join(ENGINES)}.")
    return ENGINES[engine].fn(y, x, target, level=level, **dict(options or {}))


# --- calibration --------------------------------------------------------------------------

#: How :func:`calibrate` scores a past error: ``scaled`` |e|/se, the error over the model's own
#: standard error at that origin (normalised scores, Papadopoulos et al. 2002; Lei et al. 2018,
#: the interval stays proportional to the model's uncertainty at the origin), or ``absolute`` |e|.
CALIBRATIONS = ("scaled", "absolute")


def min_calibration(level: float) -> int:
    """The fewest past errors for which :func:`conformal_quantile` is finite: the smallest n
    with ⌈(n+1)·level⌉ ≤ n (9 at 90 %, 19 at 95 %)."""
    _quantile(level)
    n = 1
    while math.ceil((n + 1) * level - 1e-9) > n:
        n += 1
    return n


def conformal_quantile(scores: Sequence[float] | np.ndarray, level: float) -> float:
    """The split-conformal quantile: the k-th smallest of the n scores, k = ⌈(n+1)·level⌉
    (Vovk, Gammerman & Shafer 2005; Lei et al. 2018: with exchangeable scores the next one lies
    below it with probability ≥ level); ``inf`` when k > n. NaN scores are left out."""
    _quantile(level)
    a = np.sort(np.asarray(scores, dtype=float))
    a = a[~np.isnan(a)]
    k = math.ceil((len(a) + 1) * level - 1e-9)
    return float(a[k - 1]) if 1 <= k <= len(a) else math.inf


@dataclass(frozen=True)
class Calibration:
    """An interval made from past errors: its bounds, the ``method`` (``scaled``, ``absolute``,
    or ``model`` when too few past errors existed and the model's interval is kept:
    ``fallback``), how many past errors ``n``, and the conformal quantile."""

    lower: float
    upper: float
    method: str
    n: int
    quantile: float | None
    fallback: bool

    def as_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, "method": self.method, "n_errors": self.n,
                "quantile": self.quantile, "fallback": self.fallback}


def calibrate(point: float, se: float, model: tuple[float, float], past_errors: Sequence[float] | np.ndarray,
              past_se: Sequence[float] | np.ndarray | None = None, *, level: float = 0.9,
              method: str = "scaled") -> Calibration:
    """The calibrated interval around ``point``: point ± q·se (``scaled``, q the
    :func:`conformal_quantile` of |e_i|/se_i) or point ± q (``absolute``, q of |e_i|), from the
    errors e_i of earlier nowcasts (and their standard errors se_i). With fewer than
    :func:`min_calibration` usable errors the model interval ``model`` is returned, flagged
    ``fallback``."""
    if method not in CALIBRATIONS:
        raise UsageError("NOWCAST_CALIBRATION", f"Không có cách hiệu chỉnh '{method}'; dùng {', '.join(CALIBRATIONS)}.",
                         f"Unknown calibration '{method}'; use one of {', '.join(CALIBRATIONS)}.")
    e = np.abs(np.asarray(past_errors, dtype=float))
    if method == "scaled":
        s = np.asarray(past_se if past_se is not None else np.full(len(e), np.nan), dtype=float)
        ok = np.isfinite(e) & np.isfinite(s) & (s > 0)
        scores = e[ok] / s[ok]
        usable = bool(np.isfinite(se) and se > 0)
    else:
        scores = e[np.isfinite(e)]
        usable = True
    n = len(scores)
    if n < min_calibration(level) or not usable:
        return Calibration(float(model[0]), float(model[1]), "model", n, None, True)
    q = conformal_quantile(scores, level)
    half = q * se if method == "scaled" else q
    return Calibration(point - half, point + half, method, n, q, False)


# --- backtest -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BacktestResult:
    """Pseudo-real-time backtest: one row per (origin, engine), and the summary per engine
    (over the evaluated origins; warm-up origins only feed the calibration)."""

    errors: pd.DataFrame  # origin, engine, nowcast, actual, error, lower, upper, se, cal_lower, cal_upper, cal_n, cal_method, warmup
    summary: pd.DataFrame  # engine, n, rmse, mae, rmse_ratio_to_naive, coverage, coverage_calibrated, …
    months_available: int
    level: float
    calibration: str = "scaled"


def information_set(y: pd.Series, x: pd.DataFrame, origin: pd.Period, *,
                    months_available: int) -> tuple[pd.Series, pd.DataFrame]:
    """What was known when ``origin`` was nowcast: quarters before it, and months up to its
    ``months_available``-th month (0 = none of its months; all monthly series assumed published
    together, the final figures standing in for the unrecorded first releases — the
    *pseudo* real-time design of Bańbura et al. 2013 and Giannone, Reichlin & Small 2008)."""
    last_month = origin.asfreq("M", "s") + (months_available - 1)
    return y[y.index < origin], x[x.index <= last_month]


def feasible_origins(y: pd.Series, x: pd.DataFrame, candidates: Sequence[pd.Period], *, months_available: int,
                     max_ar_lag: int = 4) -> list[pd.Period]:
    """The candidate origins at which the most demanding engine (``bridge``) has its data in the
    :func:`information_set`: the target published at the origin, ≥ 8 quarters of it before,
    ≥ ``max_ar_lag`` + 8 months of every indicator, and ≥ k + 4 quarters with the target and
    all three months of the k indicators."""
    out = []
    for o in candidates:
        if o not in y.index or pd.isna(y.loc[o]):
            continue
        yi, xi = information_set(y, x, o, months_available=months_available)
        if int(yi.notna().sum()) < 8:
            continue
        cols = [c for c in xi.columns if xi[c].notna().any()]
        if not cols or any(len(xi[c].loc[xi[c].first_valid_index():]) < max_ar_lag + 8 for c in cols):
            continue
        both = pd.concat([yi.rename("__y"), quarter_means(xi[cols])], axis=1, join="inner").dropna()
        if len(both) >= len(cols) + 1 + 4:
            out.append(o)
    return out


def backtest(y: pd.Series, x: pd.DataFrame, origins: Sequence[pd.Period], *, engines: Sequence[str] = ("bridge", "dfm"),
             months_available: int = 1, level: float = 0.9,
             options: Mapping[str, Mapping[str, Any]] | None = None, warmup: Sequence[pd.Period] = (),
             calibration: str = "scaled", progress: Progress | None = None) -> BacktestResult:
    """Expanding-window pseudo-real-time backtest (Bańbura et al. 2013): for each origin T,
    every engine is re-estimated on :func:`information_set` and its nowcast compared with y_T.
    RMSE = √(mean e²), e = ŷ_T − y_T; the ratio RMSE(engine)/RMSE(naive) < 1 means the engine
    beats the naive forecast. The naive engine is always included. Each origin also gets the
    calibrated interval of :func:`calibrate` from the errors of the origins before it
    (``warmup`` origins, earlier, only feed it); the summary gives the coverage of the model
    interval (``coverage``) and of the calibrated ones (``coverage_calibrated``, over the
    ``n_calibrated`` origins with enough earlier errors). ``progress``: one step per origin."""
    if not 0 <= months_available <= 3:
        raise UsageError("NOWCAST_MONTHS", f"Số tháng đã công bố {months_available} phải trong 0–3.",
                         f"months_available {months_available} must lie in 0–3.")
    names = list(dict.fromkeys([*engines, "naive"]))
    for e in names:
        if e not in ENGINES:
            raise UsageError("UNKNOWN_ENGINE", f"Không có phương pháp dự báo '{e}'; dùng {', '.join(ENGINES)}.",
                             f"Unknown nowcast engine '{e}'; use one of {', '.join(ENGINES)}.")
    if calibration not in CALIBRATIONS:
        raise UsageError("NOWCAST_CALIBRATION", f"Không có cách hiệu chỉnh '{calibration}'; dùng {', '.join(CALIBRATIONS)}.",
                         f"Unknown calibration '{calibration}'; use one of {', '.join(CALIBRATIONS)}.")
    opts = options or {}
    warm = set(warmup)
    todo = sorted(set(warmup) | set(origins))
    rows = []
    say = or_null(progress)
    for i, origin in enumerate(todo):
        say(i, len(todo), (f"Kiểm định ngược: {origin}", f"Backtest: {origin}"))
        if origin not in y.index or pd.isna(y.loc[origin]):
            continue
        yi, xi = information_set(y, x, origin, months_available=months_available)
        for e in names:
            nc = ENGINES[e].fn(yi, xi, origin, level=level, **dict(opts.get(e, {})))
            actual = float(y.loc[origin])
            rows.append({"origin": str(origin), "engine": e, "nowcast": nc.point, "actual": actual,
                         "error": nc.point - actual, "lower": nc.lower, "upper": nc.upper, "se": nc.se,
                         "warmup": origin in warm})
    say(len(todo), len(todo), ("Kiểm định ngược", "Backtest"))
    cols = ["origin", "engine", "nowcast", "actual", "error", "lower", "upper", "se", "warmup"]
    err = pd.DataFrame(rows, columns=cols)
    if err.empty or err.warmup.all():
        raise MethodError("NOWCAST_NO_ORIGIN", "Không có quý nào để kiểm định ngược.",
                          "No quarter to backtest on.")
    err = _calibrated_columns(err, level)
    for m in CALIBRATIONS:  # the chosen calibration's interval is the reported one
        if m == calibration:
            err["cal_lower"], err["cal_upper"] = err[f"{m}_lower"], err[f"{m}_upper"]
            err["cal_n"], err["cal_method"] = err[f"{m}_n"], err[f"{m}_method"]
    ev = err[~err.warmup]
    g = ev.groupby("engine", sort=False)

    def cover(lo: str, hi: str, how: str | None = None):
        """Share of outcomes inside [lo, hi]; with ``how``, over the origins calibrated that way only."""
        def f(d: pd.DataFrame) -> float:
            d = d if how is None else d[d[how] != "model"]
            return float(np.mean((d.actual >= d[lo]) & (d.actual <= d[hi]))) if len(d) else np.nan
        return g.apply(f, include_groups=False)

    summ = pd.DataFrame({
        "n": g.size(),
        "rmse": g["error"].apply(lambda e: float(np.sqrt(np.mean(e ** 2)))),
        "mae": g["error"].apply(lambda e: float(np.mean(np.abs(e)))),
        "coverage": cover("lower", "upper"),
        "coverage_calibrated": cover("cal_lower", "cal_upper", "cal_method"),
        "n_calibrated": g["cal_method"].apply(lambda m: int((m != "model").sum())),
        **{f"coverage_{m}": cover(f"{m}_lower", f"{m}_upper", f"{m}_method") for m in CALIBRATIONS},
    }).reset_index()
    naive_rmse = float(summ.loc[summ.engine == "naive", "rmse"].iloc[0])
    summ["rmse_ratio_to_naive"] = summ["rmse"] / naive_rmse if naive_rmse > 0 else np.nan
    summ = summ[["engine", "n", "rmse", "mae", "rmse_ratio_to_naive", "coverage", "coverage_calibrated",
                 "n_calibrated", *[f"coverage_{m}" for m in CALIBRATIONS]]]
    keep = [*cols, "cal_lower", "cal_upper", "cal_n", "cal_method"]
    return BacktestResult(err[keep + [c for c in err.columns if c not in keep]], summ, months_available, level,
                          calibration)


def _calibrated_columns(err: pd.DataFrame, level: float) -> pd.DataFrame:
    """For every row, the interval of each calibration from the same engine's errors at
    earlier origins only (``{method}_lower``, ``_upper``, ``_n``, ``_method``)."""
    err = err.copy()
    per = pd.PeriodIndex(err.origin, freq="Q")
    for m in CALIBRATIONS:
        out = []
        for i, r in enumerate(err.itertuples(index=False)):
            past = (err.engine.to_numpy() == r.engine) & (per < per[i])
            c = calibrate(r.nowcast, r.se, (r.lower, r.upper), err.error.to_numpy()[past], err.se.to_numpy()[past],
                          level=level, method=m)
            out.append((c.lower, c.upper, c.n, c.method))
        err[[f"{m}_lower", f"{m}_upper", f"{m}_n", f"{m}_method"]] = pd.DataFrame(out, index=err.index)
    return err


def choose_engine(summary: pd.DataFrame) -> str:
    """The engine with the lowest RMSE among those that beat the naive forecast
    (``rmse_ratio_to_naive`` < 1) in a backtest summary; ``naive`` when none does."""
    s = summary[(summary.engine != "naive") & (summary.rmse_ratio_to_naive < 1.0)]
    return str(s.sort_values(["rmse", "engine"]).engine.iloc[0]) if len(s) else "naive"


# --- the Vietnamese reference data --------------------------------------------------------

def vn_reference_series(gdp: pd.DataFrame, iip: pd.DataFrame, *, sector_en: str = "TOTAL") -> tuple[pd.Series, pd.DataFrame]:
    """Target and indicators from GSO's quarterly GDP by VSIC section and monthly IIP growth.

    Target: year-on-year growth (%) of the sector's quarterly value added at constant 2010
    prices, across the three regimes of ``basis``:
    - quarterly bases (2018Q3 on: ``quarter_const2010_pre2021`` and the ~25 % higher
      ``quarter_const2010_revised_scale_2021on``): GSO's published ``yoy_pct``, which compares
      like with like — this is how the 2021 level break is bridged (a growth rate computed from
      levels across 2020Q4→2021Q1 scales would be ~+25 % wrong);
    - year-to-date cumulative basis (2014Q1–2018Q2), where ``yoy_pct`` is year-to-date growth
      g^ytd_t: the quarter's growth is q_t / p_t − 1 with q_t = C_t − C_{t−1} (the difference of
      cumulative levels within the year, ``value_quarter_derived``) and p_t = C_t/(1+g^ytd_t) −
      C_{t−1}/(1+g^ytd_{t−1}) last year's quarter as GSO compared it. Only same-year levels and
      GSO's own growth enter, so the 2014 reports' different sector layout (manufacturing 2014
      on another basis than 2015) does not leak into growth rates computed across years.
    Indicators: the monthly year-on-year IIP growth (``YOY``, %) of each top-level industry
    group, one column per ``sector_vi``; a month missing inside the file is interpolated
    linearly between its neighbours (the file lacks 2017-05).
    """
    need_g = {"quarter", "sector_en", "yoy_pct", "basis", "value_bn_vnd_const2010"}
    need_i = {"sector_vi", "Month", "YOY"}
    if not need_g <= set(gdp.columns) or not need_i <= set(iip.columns):
        raise UsageError("VN_REFERENCE_COLUMNS", "Tệp GDP quý hoặc IIP tháng thiếu cột cần thiết.",
                         f"The quarterly GDP or monthly IIP file lacks columns: {sorted(need_g - set(gdp.columns))} "
                         f"{sorted(need_i - set(iip.columns))}.")
    g = gdp[gdp.sector_en == sector_en].copy()
    if g.empty:
        raise UsageError("VN_REFERENCE_SECTOR", f"Không có ngành '{sector_en}' trong tệp GDP quý.",
                         f"No sector '{sector_en}' in the quarterly GDP file.")
    g.index = pd.PeriodIndex(g.quarter.str.replace("Q", "-Q"), freq="Q")
    g = g.sort_index()
    ytd = g.basis.str.startswith("ytd").to_numpy()
    cum = g.value_bn_vnd_const2010.astype(float)
    gr = g.yoy_pct.astype(float) / 100.0
    # YTD regime: last year's cumulative level as GSO compared it, C_{t}/(1 + g^ytd_t); the
    # quarter is the difference of cumulative levels within the year (Q1: the level itself)
    prev_cum = cum / (1.0 + gr)
    first_q = (g.index.quarter == 1)
    same_year = pd.Series(g.index.year, index=g.index).diff().eq(0).to_numpy()
    if ytd.any() and not all(first_q[i] or (same_year[i] and ytd[i - 1]) for i in np.flatnonzero(ytd)):
        raise UsageError("VN_REFERENCE_YTD", f"Chuỗi cộng dồn của {sector_en} thiếu quý trong năm.",
                         f"The year-to-date series of {sector_en} lacks a quarter inside a year.")
    q_now = np.where(first_q, cum, cum - cum.shift(1))
    q_prev = np.where(first_q, prev_cum, prev_cum - prev_cum.shift(1))
    growth = pd.Series(np.where(ytd, 100.0 * (q_now / q_prev - 1.0), 100.0 * gr), index=g.index,
                       name=f"gdp_{sector_en}")
    m = iip.copy()
    m["period"] = pd.PeriodIndex(m.Month, freq="M")
    x = m.pivot_table(index="period", columns="sector_vi", values="YOY", aggfunc="first").sort_index()
    x = x.reindex(pd.period_range(x.index.min(), x.index.max(), freq="M"))
    x.columns = [str(c) for c in x.columns]
    # a month missing inside the file (2017-05) is interpolated linearly between its neighbours
    x = x.interpolate(method="linear", limit_area="inside")
    return growth.dropna(), x
