"""Temporal disaggregation and benchmarking: annual → quarterly/monthly, quarterly → monthly.

Anchor: R package **tempdisagg 1.1.1** (Sax & Steiner 2013, The R Journal 5(2):80–88), whose
methods, names, defaults and conventions are kept here: Chow & Lin (1971), Fernández (1981),
Litterman (1983), Denton (1971), Denton-Cholette (Cholette 1984; Cholette & Dagum 2006),
uniform and OLS. The reference runs in ``../shared/reference/tempdisagg`` are the oracle.

Front doors:

* :func:`td` disaggregates one low-frequency series (numpy arrays in, :class:`TdResult` out);
* :func:`td_batch` disaggregates many series of the same shape at once (e.g. 34 provinces ×
  50 indicators), with every numerical kernel vectorised over the series.

Positioning: the high-frequency arrays (indicator, result) cover ``n`` periods; the first
low-frequency period starts at high-frequency index ``offset`` (tempdisagg's ``n.bc``, the
number of back-cast periods) and the low-frequency span covers ``len(y_low) * fr`` periods.
Periods before it are back-casts, periods after it forecasts (both flagged ``extrapolated``).

>>> import numpy as np
>>> y = np.array([10.0, 12.0, 15.0])
>>> r = td(y, None, method="denton-cholette", fr=4)
>>> np.allclose(r.series.reshape(3, 4).sum(axis=1), y)
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kinhteso.errors import MethodError, UsageError
from kinhteso.methods import _temporal_calc as calc

__all__ = [
    "METHODS",
    "CONVERSIONS",
    "CRITERIA",
    "MethodSpec",
    "TdResult",
    "TdBatchResult",
    "td",
    "td_batch",
    "aggregate_high",
]

#: ρ search interval of tempdisagg ``SubRegressionBased`` (``lower``, ``upper``)
RHO_BOUNDS = (-0.999, 0.999)
CRITERIA = ("proportional", "additive")
#: Longest series (high-frequency periods) the non-negativity safeguard takes: it solves dense
#: n × n systems; beyond, ``SERIES_TOO_LONG``. Every method itself is linear in n for long
#: series (see :data:`kinhteso.methods._temporal_calc.LONG_NL`).
NONNEG_MAX_N = 2000
CONVERSIONS = tuple(calc.CONVERSION_WEIGHTS)
INTERCEPT = "(Intercept)"
BENCHMARKED, EXTRAPOLATED = "benchmarked", "extrapolated"


@dataclass(frozen=True)
class MethodSpec:
    """How one tempdisagg method is computed.

    ``family``: ``regression`` (GLS on the aggregated data, Chow & Lin 1971) or ``denton``
    (quadratic movement preservation, Denton 1971). ``errors``: ``ar1`` (Σ = ρ^|i−j|/(1−ρ²),
    ``CalcQ``) or ``rw-ar1`` (Σ = (D'H'HD)⁻¹, ``CalcQ_Lit``). ``rho``: how ρ is chosen —
    ``maxlog`` (maximise the likelihood), ``minrss`` (minimise the GLS RSS), ``fixed``
    (``fixed_rho``), ``zero``. ``scaled``: the ρ objective uses Q = R/(1−ρ²) (Quilis) rather
    than R (Ecotrim); the final estimate always uses Q, as tempdisagg does."""

    family: str
    errors: str = ""
    rho: str = "zero"
    scaled: bool = True
    cholette: bool = False
    uniform: bool = False
    vi: str = ""
    en: str = ""


#: The one registry of method names (tempdisagg 1.1.1 names).
METHODS: dict[str, MethodSpec] = {
    "chow-lin-maxlog": MethodSpec("regression", "ar1", "maxlog",
                                  vi="Chow-Lin, ρ cực đại hợp lý", en="Chow-Lin, ρ by maximum likelihood"),
    "chow-lin-minrss-ecotrim": MethodSpec("regression", "ar1", "minrss", scaled=False,
                                          vi="Chow-Lin, ρ cực tiểu RSS (Ecotrim)",
                                          en="Chow-Lin, ρ minimising RSS (Ecotrim)"),
    "chow-lin-minrss-quilis": MethodSpec("regression", "ar1", "minrss",
                                         vi="Chow-Lin, ρ cực tiểu RSS (Quilis)",
                                         en="Chow-Lin, ρ minimising RSS (Quilis)"),
    "chow-lin-fixed": MethodSpec("regression", "ar1", "fixed", vi="Chow-Lin, ρ cố định",
                                 en="Chow-Lin, fixed ρ"),
    "fernandez": MethodSpec("regression", "rw-ar1", "zero", vi="Fernández (bước ngẫu nhiên)",
                            en="Fernández (random walk)"),
    "litterman-maxlog": MethodSpec("regression", "rw-ar1", "maxlog", vi="Litterman, ρ cực đại hợp lý",
                                   en="Litterman, ρ by maximum likelihood"),
    "litterman-minrss": MethodSpec("regression", "rw-ar1", "minrss", vi="Litterman, ρ cực tiểu RSS",
                                   en="Litterman, ρ minimising RSS"),
    "litterman-fixed": MethodSpec("regression", "rw-ar1", "fixed", vi="Litterman, ρ cố định",
                                  en="Litterman, fixed ρ"),
    "ols": MethodSpec("regression", "ar1", "zero", vi="Bình phương nhỏ nhất thông thường",
                      en="ordinary least squares"),
    "denton-cholette": MethodSpec("denton", cholette=True, vi="Denton-Cholette", en="Denton-Cholette"),
    # computed as R computes it (explicit inverses), to reproduce R's values: see
    # _temporal_calc.denton_original_r
    "denton": MethodSpec("denton", vi="Denton (nguyên bản)", en="Denton (original)"),
    "uniform": MethodSpec("denton", uniform=True, vi="phân bổ đều", en="uniform"),
}


@dataclass
class TdResult:
    """One temporal disaggregation (the fields of tempdisagg's ``"td"`` object).

    ``series``: the high-frequency result over the indicator's span (``n`` values);
    ``flags``: ``"benchmarked"`` or ``"extrapolated"`` per high-frequency period;
    ``fitted_low`` = C·p and ``residual_low`` = y_l − C·p, with p = X·β the preliminary
    series (p = the indicator for Denton methods). Regression statistics are ``None`` for
    Denton methods."""

    series: np.ndarray
    flags: np.ndarray
    method: str
    conversion: str
    fr: int
    offset: int
    preliminary: np.ndarray
    fitted_low: np.ndarray
    residual_low: np.ndarray
    rho: float | None = None
    truncated: bool = False
    coefficients: dict[str, float] = field(default_factory=dict)
    se: dict[str, float] = field(default_factory=dict)
    logl: float | None = None
    rss: float | None = None
    s_2: float | None = None
    s_2_gls: float | None = None
    tss: float | None = None
    r_squared: float | None = None
    adj_r_squared: float | None = None
    aic: float | None = None
    bic: float | None = None
    rank: int | None = None
    df: int | None = None
    h: int | None = None
    criterion: str | None = None
    nonneg_adjusted: bool = False

    def summary(self) -> dict:
        """The scalars of the fit as a plain dict (what ``SUMMARY.json`` holds)."""
        return {
            "method": self.method, "conversion": self.conversion, "fr": self.fr,
            "rho": self.rho, "truncated": self.truncated,
            "coefficients": dict(self.coefficients), "se": dict(self.se),
            "logl": self.logl, "rss": self.rss, "aic": self.aic, "bic": self.bic,
            "s_2": self.s_2, "s_2_gls": self.s_2_gls, "tss": self.tss,
            "r_squared": self.r_squared, "adj_r_squared": self.adj_r_squared,
            "rank": self.rank, "df": self.df, "h": self.h, "criterion": self.criterion,
            "nonneg_adjusted": self.nonneg_adjusted,
        }


@dataclass
class TdBatchResult:
    """Many disaggregations of the same shape: arrays with the series on axis 0.

    ``coefficients``/``se`` are (S, k) with columns ``names``; regression arrays are ``None``
    for Denton methods. ``result(i)`` gives series ``i`` as a :class:`TdResult`."""

    series: np.ndarray
    flags: np.ndarray
    method: str
    conversion: str
    fr: int
    offset: int
    preliminary: np.ndarray
    fitted_low: np.ndarray
    residual_low: np.ndarray
    names: list[str]
    rho: np.ndarray | None = None
    truncated: np.ndarray | None = None
    coefficients: np.ndarray | None = None
    se: np.ndarray | None = None
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    h: int | None = None
    criterion: str | None = None
    nonneg_adjusted: np.ndarray | None = None

    def __len__(self) -> int:
        return self.series.shape[0]

    def result(self, i: int) -> TdResult:
        r = TdResult(
            series=self.series[i], flags=self.flags, method=self.method, conversion=self.conversion,
            fr=self.fr, offset=self.offset, preliminary=self.preliminary[i],
            fitted_low=self.fitted_low[i], residual_low=self.residual_low[i], h=self.h,
            criterion=self.criterion,
            nonneg_adjusted=bool(self.nonneg_adjusted[i]) if self.nonneg_adjusted is not None else False,
        )
        if self.coefficients is not None:
            r.rho = float(self.rho[i])
            r.truncated = bool(self.truncated[i])
            r.coefficients = {n: float(v) for n, v in zip(self.names, self.coefficients[i])}
            r.se = {n: float(v) for n, v in zip(self.names, self.se[i])}
            for key, arr in self.stats.items():
                value = arr[i]
                setattr(r, key, int(value) if key in ("rank", "df") else float(value))
        return r


# --- validation -------------------------------------------------------------------------

def _usage(code: str, vi: str, en: str, **ctx) -> UsageError:
    return UsageError(code, vi, en, **ctx)


def _check_options(method: str, conversion: str, fr: int, h: int, criterion: str,
                   truncated_rho: float, fixed_rho: float) -> MethodSpec:
    spec = METHODS.get(method)
    if spec is None:
        names = ", ".join(METHODS)
        raise _usage("TD_METHOD", f"Phương pháp '{method}' không tồn tại; chọn một trong: {names}.",
                     f"Unknown method '{method}'; choose one of: {names}.")
    if conversion not in calc.CONVERSION_WEIGHTS:
        names = ", ".join(CONVERSIONS)
        raise _usage("TD_CONVERSION", f"Kiểu chuyển đổi '{conversion}' không hợp lệ; chọn: {names}.",
                     f"Unknown conversion '{conversion}'; choose one of: {names}.")
    if criterion not in CRITERIA:
        raise _usage("TD_CRITERION", f"Tiêu chí '{criterion}' không hợp lệ; chọn proportional hoặc additive.",
                     f"Unknown criterion '{criterion}'; choose proportional or additive.")
    if h not in (0, 1, 2):
        raise _usage("TD_H", f"Bậc sai phân h = {h} không hợp lệ; h phải là 0, 1 hoặc 2.",
                     f"Differencing order h = {h} is not valid; h must be 0, 1 or 2.")
    if int(fr) != fr or fr < 2:
        raise _usage("TD_FR", f"Tỉ lệ tần suất fr = {fr} không hợp lệ; cần số nguyên ≥ 2 (4: năm→quý, 12: năm→tháng, 3: quý→tháng).",
                     f"Frequency ratio fr = {fr} is not valid; an integer ≥ 2 is expected (4: year→quarter, 12: year→month, 3: quarter→month).")
    if not -1.0 <= truncated_rho < 1.0:
        raise _usage("TD_TRUNCATED_RHO", f"truncated.rho = {truncated_rho} phải nằm trong [−1, 1).",
                     f"truncated.rho = {truncated_rho} must lie in [−1, 1).")
    if not -1.0 < fixed_rho < 1.0:
        raise _usage("TD_FIXED_RHO", f"fixed.rho = {fixed_rho} phải nằm trong (−1, 1).",
                     f"fixed.rho = {fixed_rho} must lie in (−1, 1).")
    return spec


def _label(labels: Sequence[str] | None, idx) -> str:
    idx = list(np.atleast_1d(idx))
    shown = [str(labels[i]) if labels is not None else f"#{i + 1}" for i in idx[:8]]
    more = f" (+{len(idx) - 8})" if len(idx) > 8 else ""
    return ", ".join(shown) + more


def _check_data(y: np.ndarray, X: np.ndarray | None, spec: MethodSpec, *, fr: int, offset: int,
                n: int, criterion: str, series_name: str, indicator_names: list[str],
                labels_low, labels_high) -> None:
    """Reject, with a bilingual message naming series and periods, what the method cannot use.
    ``y`` is (S, n_l) and ``X`` (S, n, k_ind) or ``None``."""
    n_l = y.shape[1]
    if n_l < 1:
        raise MethodError("TD_EMPTY", f"Chuỗi tần suất thấp '{series_name}' không có giá trị nào.",
                          f"The low-frequency series '{series_name}' has no values.")
    bad = np.flatnonzero(~np.isfinite(y).all(axis=0)) if not np.isfinite(y).all() else ()
    if len(bad):
        raise MethodError("TD_NA_LOW", f"Chuỗi '{series_name}' thiếu giá trị (NA) ở kỳ: {_label(labels_low, bad)}.",
                          f"Series '{series_name}' has missing (NA) values at: {_label(labels_low, bad)}.")
    if offset < 0 or offset + n_l * fr > n:
        last = offset + n_l * fr - 1
        raise MethodError(
            "TD_SPAN",
            f"Chỉ số tần suất cao ({n} kỳ) không phủ hết chuỗi '{series_name}' ({n_l} kỳ × {fr}): "
            f"cần các kỳ cao {offset + 1}…{last + 1} kể từ đầu chỉ số.",
            f"The high-frequency indicator ({n} periods) does not cover series '{series_name}' "
            f"({n_l} periods × {fr}): periods {offset + 1}…{last + 1} from the indicator's start are needed.")
    if X is None:
        return
    for j, name in enumerate(indicator_names if not np.isfinite(X).all() else ()):
        col = X[..., j]
        bad = np.flatnonzero(~np.isfinite(col).all(axis=0))
        if bad.size:
            raise MethodError("TD_NA_INDICATOR",
                              f"Chỉ số '{name}' thiếu giá trị (NA) ở kỳ: {_label(labels_high, bad)}.",
                              f"Indicator '{name}' has missing (NA) values at: {_label(labels_high, bad)}.")
    if spec.family == "denton":
        if X.shape[-1] != 1:
            raise _usage("TD_DENTON_ONE", f"Phương pháp Denton nhận đúng một chỉ số, nhận được {X.shape[-1]}: {', '.join(indicator_names)}.",
                         f"Denton methods take exactly one indicator, got {X.shape[-1]}: {', '.join(indicator_names)}.")
        if criterion == "proportional" and not spec.uniform and not X[..., 0].all():
            bad = np.flatnonzero((X[..., 0] == 0).any(axis=0))
            if bad.size:
                raise MethodError(
                    "TD_ZERO_INDICATOR",
                    f"Chỉ số '{indicator_names[0]}' bằng 0 ở kỳ {_label(labels_high, bad)}: Denton tỉ lệ chia cho chỉ số; "
                    "dùng --criterion additive hoặc sửa chỉ số.",
                    f"Indicator '{indicator_names[0]}' is zero at {_label(labels_high, bad)}: proportional Denton divides by "
                    "the indicator; use --criterion additive or fix the indicator.")
        return
    constant = (X.max(axis=1) == X.min(axis=1)).any(axis=0)            # per indicator
    for j, name in enumerate(indicator_names):
        if constant[j]:
            raise MethodError(
                "TD_CONSTANT_INDICATOR",
                f"Chỉ số '{name}' là hằng số: nó không mang thông tin cho hồi quy (và trùng với hệ số chặn). "
                "Bỏ chỉ số này, hoặc dùng phương pháp không chỉ số (denton-cholette).",
                f"Indicator '{name}' is constant: it carries no information for the regression (and is collinear with "
                "the intercept). Drop it, or disaggregate without an indicator (denton-cholette).")


def _check_rank(Xl: np.ndarray, names: list[str], series_name: str) -> None:
    S, n_l, k = Xl.shape
    if n_l <= k:
        raise MethodError(
            "TD_TOO_FEW",
            f"Chuỗi '{series_name}' chỉ có {n_l} kỳ cho {k} hệ số ({', '.join(names)}): cần ít nhất {k + 1} kỳ tần suất thấp.",
            f"Series '{series_name}' has only {n_l} periods for {k} coefficients ({', '.join(names)}): "
            f"at least {k + 1} low-frequency periods are needed.")
    if k < 2:
        return
    Xs = Xl / np.maximum(np.abs(Xl).max(axis=1, keepdims=True), 1e-300)
    if k == 2 and S == 1:       # as below, in Python floats (cheaper for one series)
        x1, x2 = Xs[0, :, 0], Xs[0, :, 1]
        r11 = math.sqrt(float(x1 @ x1))
        r12 = float(x1 @ x2) / r11
        r = x2 - (r12 / r11) * x1
        r22 = math.sqrt(float(r @ r))
        f = r11 * r11 + r12 * r12 + r22 * r22
        det = r11 * r22
        cond = np.array([(f + math.sqrt(max(f * f - 4.0 * det * det, 0.0))) / 2.0 / max(det, 1e-300)])
    elif k == 2:
        # the singular values of [x₁ x₂] from R of its QR: σ₁² + σ₂² = ‖R‖², σ₁·σ₂ = |r₁₁·r₂₂|
        x1, x2 = Xs[..., 0], Xs[..., 1]
        r11 = np.sqrt((x1 * x1).sum(axis=1))
        r12 = (x1 * x2).sum(axis=1) / r11
        r = x2 - (r12 / r11)[:, None] * x1
        r22 = np.sqrt((r * r).sum(axis=1))
        f = r11 * r11 + r12 * r12 + r22 * r22
        det = r11 * r22
        s1 = (f + np.sqrt(np.maximum(f * f - 4.0 * det * det, 0.0))) / 2.0       # σ₁²
        cond = s1 / np.maximum(det, 1e-300)
    else:
        sv = np.linalg.svd(Xs, compute_uv=False)
        cond = sv[:, 0] / np.maximum(sv[:, -1], 1e-300)
    if (cond > 1e10).any():
        raise MethodError(
            "TD_COLLINEAR",
            f"Các chỉ số của chuỗi '{series_name}' cộng tuyến ({', '.join(names)}): một chỉ số là tổ hợp tuyến tính "
            "của các chỉ số khác sau khi gộp về tần suất thấp; bỏ bớt một chỉ số.",
            f"The indicators of series '{series_name}' are collinear ({', '.join(names)}): one is a linear combination "
            "of the others once aggregated to the low frequency; drop one of them.")


# --- estimation ---------------------------------------------------------------------------

def _omega(spec: MethodSpec, rhos, *, n_l: int, w: np.ndarray, Ct_rw: np.ndarray | None,
           plan: calc.Ar1Plan | None = None, scaled: bool = True, offset: int = 0, n: int = 0) -> np.ndarray:
    """C·Σ(ρ)·C' for an array of ρ (one matrix per ρ; for a long AR(1) series its Cholesky
    factor, :class:`calc.Ar1Factor`, in O(n_l))."""
    if spec.errors == "ar1":
        if n_l > calc.LONG_NL:
            return calc.ar1_factor(rhos, n_l, w, scaled=scaled)
        return calc.omega_ar1(rhos, n_l, w, scaled=scaled, plan=plan)
    rhos = np.asarray(rhos, dtype=float).reshape(-1)
    if n_l > calc.LONG_NL:
        return calc.kkt_factor(rhos, n_l, w, offset=offset, n=n)
    Gt = calc.ar_filter(np.broadcast_to(Ct_rw, (rhos.size,) + Ct_rw.shape[1:]), rhos, reverse=True)
    return np.swapaxes(Gt, -1, -2) @ Gt


def _objective(spec: MethodSpec, rhos, y, Xl, **kw) -> np.ndarray:
    Om = _omega(spec, rhos, scaled=spec.scaled or spec.rho != "minrss", **kw)
    rss, logl = calc.gls_search(Om, y, Xl)
    return -logl if spec.rho == "maxlog" else rss


def _search_objective(spec: MethodSpec, y: np.ndarray, Xl: np.ndarray, **kw):
    """The ρ objective as a function of an (S, P) array of ρ → (S, P) values: in closed form
    for Chow-Lin (:class:`calc.Ar1Spectral`, every (series, ρ) pair in one evaluation), else
    through Ω (random-walk models, long series)."""
    scaled = spec.scaled or spec.rho != "minrss"
    S, n_l = y.shape
    if spec.errors == "ar1" and n_l <= calc.LONG_NL:
        kernel = calc.Ar1Spectral(y, Xl, kw["w"])
        return lambda R: kernel.objective(R, kind=spec.rho, scaled=scaled)

    def obj(R):
        if S == 1:
            return _objective(spec, R[0], y, Xl, **kw)[None]
        return np.stack([_objective(spec, R[:, j], y, Xl, **kw) for j in range(R.shape[1])], axis=1)
    return obj


def _find_rho(spec: MethodSpec, y: np.ndarray, Xl: np.ndarray, *, truncated_rho: float,
              fixed_rho: float, **kw) -> tuple[np.ndarray, np.ndarray]:
    """ρ per series and whether it was truncated (tempdisagg ``SubRegressionBased``: ``optimize``
    on [−0.999, 0.999], then ρ < truncated.rho is set to truncated.rho), with the two rules of
    :func:`calc.rho_search` on symmetric objectives and admissible ρ."""
    S = y.shape[0]
    if spec.rho == "zero":
        return np.zeros(S), np.zeros(S, dtype=bool)
    if spec.rho == "fixed":
        return np.full(S, float(fixed_rho)), np.zeros(S, dtype=bool)
    w = kw["w"]
    # Chow-Lin with one weight per period (first, last) and an even ratio: Ω depends on ρ^fr only
    even = spec.errors == "ar1" and np.count_nonzero(w) == 1 and len(w) % 2 == 0
    lo, hi = RHO_BOUNDS
    return calc.rho_search(_search_objective(spec, y, Xl, **kw), S, lo, hi, truncated_rho,
                           even=even)


def _fit_regression(spec: MethodSpec, y: np.ndarray, X: np.ndarray, w: np.ndarray, *, offset: int,
                    truncated_rho: float, fixed_rho: float, names: list[str], series_name: str) -> dict:
    S, n, _ = X.shape
    n_l = y.shape[1]
    Xl = calc.aggregate(X, w, offset=offset, n_l=n_l)                          # X_l = C·X
    _check_rank(Xl, names, series_name)
    long = n_l > calc.LONG_NL             # long series: no n × n_l or n_l × n_l matrix is formed
    rw = spec.errors == "rw-ar1"
    Ct = calc.conversion_matrix(n_l, w, offset=offset, n=n).T[None] if rw and not long and spec.rho in ("maxlog", "minrss") else None  # C'
    Ct_rw = calc.cum_filter(Ct, reverse=True) if Ct is not None else None
    kw = {"n_l": n_l, "w": w, "Ct_rw": Ct_rw, "plan": None, "offset": offset, "n": n}
    rho, truncated = _find_rho(spec, y, Xl, truncated_rho=truncated_rho, fixed_rho=fixed_rho, **kw)
    if S == 1 and not long:
        return _fit_regression_one(spec, y[0], X[0], Xl[0], w, float(rho[0]), bool(truncated[0]),
                                   offset=offset)
    # final GLS with Q (never R), as in tempdisagg: Ω = C·Q·C'
    if spec.errors == "ar1":
        Om = calc.ar1_factor(rho, n_l, w) if long else calc.omega_ar1(rho, n_l, w)
    elif long:
        Om = calc.kkt_factor(rho, n_l, w, offset=offset, n=n)
    else:
        Ct = calc.conversion_matrix(n_l, w, offset=offset, n=n).T[None]
        Om = calc.omega_from_factor(np.broadcast_to(Ct, (S, n, n_l)), spec.errors, rho)
    g = calc.gls_final(Om, y, Xl)
    p = (X @ g.coefficients[..., None])[..., 0]                                # p = X·β
    fitted = (Xl @ g.coefficients[..., None])[..., 0]                           # C·p
    # y = p + Σ·C'·Ω⁻¹·u_l  with Σ·C'·v = A·(A'·(C'·v))   (Chow & Lin 1971, Eq. 2.6)
    Ctv = calc.conversion_t_apply(g.omega_inv_u[..., None], w, offset=offset, n=n)
    dist = calc.cov_apply(calc.cov_t_apply(Ctv, spec.errors, rho), spec.errors, rho)[..., 0]
    stats = {"logl": g.logl, "rss": g.rss, "s_2": g.s_2, "s_2_gls": g.s_2_gls, "tss": g.tss,
             "r_squared": g.r_squared, "adj_r_squared": g.adj_r_squared, "aic": g.aic, "bic": g.bic,
             "rank": np.full(S, g.rank), "df": np.full(S, g.df)}
    return {"series": p + dist, "preliminary": p, "fitted_low": fitted, "residual_low": y - fitted,
            "rho": rho, "truncated": truncated, "coefficients": g.coefficients, "se": g.se,
            "stats": stats}


_STATS = ("logl", "rss", "s_2", "s_2_gls", "tss", "r_squared", "adj_r_squared", "aic", "bic", "rank", "df")


def _fit_regression_one(spec: MethodSpec, y: np.ndarray, X: np.ndarray, Xl: np.ndarray, w: np.ndarray,
                        rho: float, truncated: bool, *, offset: int) -> dict:
    """The final GLS and distribution for one series given ρ: Ω⁻¹ through a whitening matrix
    W (W'W = Ω⁻¹) — for Chow-Lin in closed form (:func:`calc.ar1_gls`), for Fernández
    cached per problem shape (:func:`calc.rw_plan`) — and y = p + Σ·C'·Ω⁻¹·u_l."""
    n_l, n = y.size, X.shape[0]
    if spec.errors == "ar1":
        g, P = calc.ar1_gls(rho, y, Xl, w), None
    else:
        W, logdet, P = calc.rw_plan(rho, n_l, w, offset=offset, n=n)
        g = calc.gls_one(W, logdet, y, Xl)
    beta = g["coefficients"]
    p = X @ beta
    fitted = Xl @ beta
    u = y - fitted
    if P is not None:
        dist = P @ u
    else:
        v = np.zeros(n)
        v[offset: offset + n_l * len(w)] = np.outer(g["omega_inv_u"], w).ravel()   # C'·Ω⁻¹u
        dist = calc.ar1_cov_apply(v, rho)
    return {"series": (p + dist)[None], "preliminary": p[None], "fitted_low": fitted[None],
            "residual_low": u[None], "rho": np.array([rho]), "truncated": np.array([truncated]),
            "coefficients": beta[None], "se": g["se"][None],
            "stats": {key: g[key] for key in _STATS}}          # scalars: see _batch_result


def _fit_denton(spec: MethodSpec, y: np.ndarray, x: np.ndarray, w: np.ndarray, *, offset: int,
                h: int, criterion: str) -> dict:
    proportional = criterion == "proportional"
    if spec.uniform:            # tempdisagg: "uniform is a special case of denton"
        h, criterion, proportional = 0, "additive", False
    n_l, n = y.shape[1], x.shape[1]
    if n_l > calc.LONG_NL or (not (spec.cholette or spec.uniform) and n > calc.DENTON_R_MAX_N):
        # long series: the same solution from a sparse system, memory O(n)
        series = calc.denton_solve_sparse(x, y, w, offset=offset, h=h, proportional=proportional,
                                          cholette=spec.cholette)
    elif (spec.cholette or spec.uniform) and y.shape[0] == 1 and h <= 1:
        # one series: the reduced system in one solve (h ≤ 1 needs no iterative refinement:
        # it agrees with the refined solution to ≈ 1e-12)
        series = calc.denton_one(x[0], y[0], w, offset=offset, h=h, proportional=proportional,
                                 cholette=spec.cholette)[None]
    elif spec.cholette or spec.uniform:
        series = calc.denton_solve(x, y, w, offset=offset, h=h, proportional=proportional,
                                   cholette=spec.cholette)
    else:                       # the original Denton: R's own computation, to R's round-off
        series = np.stack([calc.denton_original_r(x[s], y[s], w, offset=offset, h=h,
                                                  proportional=proportional) for s in range(y.shape[0])])
    fitted = calc.aggregate(x[..., None], w, offset=offset, n_l=y.shape[1])[..., 0]
    return {"series": series, "preliminary": x, "fitted_low": fitted, "residual_low": y - fitted,
            "h": h, "criterion": criterion}


def _nonneg(series: np.ndarray, y: np.ndarray, w: np.ndarray, *, offset: int, series_name: str,
            labels_low) -> tuple[np.ndarray, np.ndarray]:
    """Non-negativity safeguard: where a result has negative values, re-solve
    min ‖D₁·(y − ŷ)‖² s.t. C·y = y_l, y_t = 0 on an active set grown from the negative periods
    (a constrained Denton-Cholette, h = 1, around the unconstrained result ŷ)."""
    acted = np.zeros(series.shape[0], dtype=bool)
    out = series.copy()
    n = series.shape[1]
    n_l = y.shape[1]
    if n > NONNEG_MAX_N and (series < 0).any():
        raise MethodError(
            "SERIES_TOO_LONG",
            f"Chuỗi '{series_name}' có {n} kỳ tần suất cao: ràng buộc không âm chỉ chạy đến {NONNEG_MAX_N} kỳ "
            "(nó giải một hệ dày n × n). Bỏ ràng buộc không âm hoặc chia chuỗi thành các đoạn ngắn hơn.",
            f"Series '{series_name}' has {n} high-frequency periods: the non-negativity safeguard runs up to "
            f"{NONNEG_MAX_N} periods (it solves a dense n × n system). Drop the safeguard or split the series.")
    C = calc.conversion_matrix(n_l, w, offset=offset, n=n)
    for s in np.flatnonzero((series < 0).any(axis=1)):
        bad = np.flatnonzero(y[s] < 0)
        if bad.size:
            raise MethodError(
                "TD_NONNEG_INFEASIBLE",
                f"Không thể giữ chuỗi '{series_name}' không âm: giá trị tần suất thấp âm ở kỳ {_label(labels_low, bad)}.",
                f"Series '{series_name}' cannot be kept non-negative: the low-frequency value is negative at "
                f"{_label(labels_low, bad)}.")
        D1 = (np.eye(n) - np.eye(n, k=-1))[1:]
        A = D1.T @ D1
        active = np.zeros(n, dtype=bool)
        yhat = series[s]
        cur = yhat
        for _ in range(n):
            neg = cur < -1e-12 * max(1.0, np.abs(yhat).max())
            if not neg.any():
                break
            active |= neg
            E = np.eye(n)[active]
            Cons = np.vstack([C, E])
            rhs = np.concatenate([np.zeros(n_l), -yhat[active]])
            m = Cons.shape[0]
            K = np.block([[A, Cons.T], [Cons, np.zeros((m, m))]])
            sol = np.linalg.lstsq(K, np.concatenate([np.zeros(n), rhs]), rcond=None)[0]
            cur = yhat + sol[:n]
        out[s] = np.maximum(cur, 0.0) if active.any() else cur
        acted[s] = active.any()
    return out, acted


def _prepare(y_low, X_high, *, fr: int, offset: int, n_high: int | None, indicator_names,
             batch: bool):
    y = np.asarray(y_low, dtype=float)
    y = y.reshape(1, -1) if not batch else np.atleast_2d(y)
    S, n_l = y.shape
    if X_high is None:
        n = n_l * fr + offset if n_high is None else int(n_high)
        return y, None, [], n
    X = np.asarray(X_high, dtype=float)
    if not batch:
        X = X.reshape(X.shape[0], -1)[None]
    else:
        if X.ndim == 1:
            X = X[None, :, None]
        elif X.ndim == 2:
            X = X[..., None] if X.shape[0] == S and S > 1 else X[None]
        X = np.broadcast_to(X, (S,) + X.shape[1:])
    k_ind = X.shape[-1]
    names = list(indicator_names) if indicator_names is not None else [f"x{j + 1}" for j in range(k_ind)]
    if len(names) != k_ind:
        raise _usage("TD_NAMES", f"Có {k_ind} chỉ số nhưng {len(names)} tên.",
                     f"{k_ind} indicators but {len(names)} names.")
    return y, X, names, X.shape[1]


_FLAGS: dict[tuple[int, int, int], np.ndarray] = {}


def _flags(n: int, offset: int, span: int) -> np.ndarray:
    """The flags of a result (a template per shape, copied by the caller)."""
    key = (n, offset, span)
    f = _FLAGS.get(key)
    if f is None:
        if len(_FLAGS) > 256:
            _FLAGS.clear()
        f = _FLAGS[key] = np.full(n, EXTRAPOLATED, dtype=object)
        f[offset: offset + span] = BENCHMARKED
    return f


def _run(y_low, X_high, *, method, conversion, fr, offset, n_high, intercept, truncated_rho,
         fixed_rho, h, criterion, indicator_names, series_name, labels_low, labels_high, nonneg,
         batch) -> dict:
    spec = _check_options(method, conversion, fr, h, criterion, truncated_rho, fixed_rho)
    fr = int(fr)
    y, X, ind_names, n = _prepare(y_low, X_high, fr=fr, offset=offset, n_high=n_high,
                                  indicator_names=indicator_names, batch=batch)
    S, n_l = y.shape
    _check_data(y, X, spec, fr=fr, offset=int(offset), n=n, criterion=criterion, series_name=series_name, indicator_names=ind_names,
                labels_low=labels_low, labels_high=labels_high)
    w = calc.conversion_weights(conversion, fr)
    flags = _flags(n, offset, n_l * fr).copy()
    if spec.family == "denton":
        x = np.ones((S, n)) if X is None else np.ascontiguousarray(X[..., 0])
        out = _fit_denton(spec, y, x, w, offset=offset, h=h, criterion=criterion)
        names: list[str] = []
    else:
        if X is None:
            Xf, names = np.ones((S, n, 1)), [INTERCEPT]       # tempdisagg: y ~ 1
        elif intercept:
            Xf = np.concatenate([np.ones((S, n, 1)), X], axis=-1)
            names = [INTERCEPT] + ind_names
        else:
            Xf, names = np.ascontiguousarray(X), ind_names
        out = _fit_regression(spec, y, Xf, w, offset=offset, truncated_rho=truncated_rho,
                              fixed_rho=fixed_rho, names=names, series_name=series_name)
    out["nonneg_adjusted"] = np.zeros(S, dtype=bool)
    if nonneg:
        out["series"], out["nonneg_adjusted"] = _nonneg(out["series"], y, w, offset=offset,
                                                        series_name=series_name, labels_low=labels_low)
    out.update(flags=flags, names=names, spec=spec, fr=fr)
    return out


def td(
    y_low: Sequence[float] | np.ndarray,
    X_high: Sequence[float] | np.ndarray | None = None,
    *,
    method: str = "chow-lin-maxlog",
    conversion: str = "sum",
    fr: int = 4,
    offset: int = 0,
    n_high: int | None = None,
    intercept: bool = True,
    truncated_rho: float = 0.0,
    fixed_rho: float = 0.5,
    h: int = 1,
    criterion: str = "proportional",
    indicator_names: Sequence[str] | None = None,
    series_name: str = "y",
    labels_low: Sequence[str] | None = None,
    labels_high: Sequence[str] | None = None,
    nonneg: bool = False,
) -> TdResult:
    """Disaggregate one low-frequency series, as R ``tempdisagg::td`` 1.1.1 does.

    **Parameters:**

    * ``y_low`` — the low-frequency series (n_l values, no gaps).
    * ``X_high`` — the indicator(s): n values or an (n, k) array; ``None`` for no indicator
      (a constant, tempdisagg's ``y ~ 1``; the result then spans ``n_high`` periods, by default
      n_l·fr + ``offset``).
    * ``method`` — a key of :data:`METHODS` (default ``"chow-lin-maxlog"``, as in R).
    * ``conversion`` — ``"sum"``, ``"average"``, ``"first"`` or ``"last"``.
    * ``fr`` — high-frequency periods per low-frequency period (4, 12, 3).
    * ``offset`` — index of the first low-frequency period's first high-frequency period in
      ``X_high`` (R's ``n.bc``); periods before it and after ``offset + n_l·fr`` are
      extrapolated (back- and forecasts).
    * ``intercept`` — add a constant to the regression (R's default; ``y ~ 0 + x`` is
      ``intercept=False``). Denton methods use the single indicator as is and ignore it.
    * ``truncated_rho`` — lower bound for ρ (0: no negative ρ; −1: no truncation).
    * ``fixed_rho`` — ρ of ``chow-lin-fixed`` and ``litterman-fixed``.
    * ``h``, ``criterion`` — Denton: order of differencing (0, 1, 2) and ``"proportional"``
      or ``"additive"``.
    * ``indicator_names``, ``series_name``, ``labels_low``, ``labels_high`` — names used in
      the coefficients and in error messages (e.g. period labels such as ``"1975-Q1"``).
    * ``nonneg`` — non-negativity safeguard; ``TdResult.nonneg_adjusted`` says when it acted.

    **Returns:** :class:`TdResult`.

    >>> import numpy as np
    >>> x = np.arange(1.0, 17.0)
    >>> r = td(np.array([10.0, 26.0, 42.0, 58.0]), x, method="chow-lin-fixed", fixed_rho=0.5)
    >>> round(r.coefficients["x1"], 6), round(r.rho, 2)
    (1.0, 0.5)
    """
    out = _run(y_low, X_high, method=method, conversion=conversion, fr=fr, offset=int(offset),
               n_high=n_high, intercept=intercept, truncated_rho=float(truncated_rho),
               fixed_rho=float(fixed_rho), h=int(h), criterion=criterion,
               indicator_names=indicator_names, series_name=series_name, labels_low=labels_low,
               labels_high=labels_high, nonneg=nonneg, batch=False)
    if "coefficients" not in out or not isinstance(out["stats"]["logl"], float):
        return _batch_result(out, method, conversion, int(offset)).result(0)
    # one series through the single-series path: its scalars as they are
    return TdResult(
        series=out["series"][0], flags=out["flags"], method=method, conversion=conversion,
        fr=out["fr"], offset=int(offset), preliminary=out["preliminary"][0],
        fitted_low=out["fitted_low"][0], residual_low=out["residual_low"][0],
        rho=float(out["rho"][0]), truncated=bool(out["truncated"][0]),
        coefficients={k: float(v) for k, v in zip(out["names"], out["coefficients"][0])},
        se={k: float(v) for k, v in zip(out["names"], out["se"][0])},
        nonneg_adjusted=bool(out["nonneg_adjusted"][0]), **out["stats"])


def td_batch(
    Y_low: np.ndarray,
    X_high: np.ndarray | None = None,
    *,
    method: str = "chow-lin-maxlog",
    conversion: str = "sum",
    fr: int = 4,
    offset: int = 0,
    n_high: int | None = None,
    intercept: bool = True,
    truncated_rho: float = 0.0,
    fixed_rho: float = 0.5,
    h: int = 1,
    criterion: str = "proportional",
    indicator_names: Sequence[str] | None = None,
    series_name: str = "Y",
    labels_low: Sequence[str] | None = None,
    labels_high: Sequence[str] | None = None,
    nonneg: bool = False,
) -> TdBatchResult:
    """Disaggregate S series of the same shape in one call (same options as :func:`td`).

    ``Y_low`` is (S, n_l); ``X_high`` is (S, n, k), (S, n) (one indicator per series) or
    (n, k) shared by all series, or ``None``. All series share ``fr``, ``offset`` and ``n``.
    The ρ search evaluates the objective of every series on a shared grid of ρ in one call
    (for Chow-Lin in closed form, :class:`calc.Ar1Spectral`), then refines every series'
    bracket at once (:func:`calc.rho_search`); the final GLS and distribution run once over the
    stacked series. Series ``i`` of the result equals ``td(Y_low[i], X_high[i], ...)`` (to the
    optimiser's tolerance for maxlog/minrss).
    """
    out = _run(Y_low, X_high, method=method, conversion=conversion, fr=fr, offset=int(offset),
               n_high=n_high, intercept=intercept, truncated_rho=float(truncated_rho),
               fixed_rho=float(fixed_rho), h=int(h), criterion=criterion,
               indicator_names=indicator_names, series_name=series_name, labels_low=labels_low,
               labels_high=labels_high, nonneg=nonneg, batch=True)
    return _batch_result(out, method, conversion, int(offset))


def _batch_result(out: dict, method: str, conversion: str, offset: int) -> TdBatchResult:
    r = TdBatchResult(
        series=out["series"], flags=out["flags"], method=method, conversion=conversion,
        fr=out["fr"], offset=offset, preliminary=out["preliminary"], fitted_low=out["fitted_low"],
        residual_low=out["residual_low"], names=out["names"], h=out.get("h"),
        criterion=out.get("criterion"), nonneg_adjusted=out["nonneg_adjusted"],
    )
    if "coefficients" in out:
        r.rho, r.truncated = out["rho"], out["truncated"]
        r.coefficients, r.se = out["coefficients"], out["se"]
        r.stats = {k: np.atleast_1d(np.asarray(v)) for k, v in out["stats"].items()}
    return r


def aggregate_high(x_high: np.ndarray, *, conversion: str = "sum", fr: int = 4, offset: int = 0,
                   n_low: int | None = None) -> np.ndarray:
    """Temporal aggregation C·x (tempdisagg ``ta``): the inverse check of :func:`td`."""
    x = np.asarray(x_high, dtype=float)
    n_low = (x.shape[-1] - offset) // fr if n_low is None else n_low
    w = calc.conversion_weights(conversion, fr)
    return calc.aggregate(x[..., None], w, offset=offset, n_l=n_low)[..., 0]
