"""Linear-algebra helpers of temporal disaggregation (private; see :mod:`kinhteso.methods.temporal`).

Anchor: R package tempdisagg 1.1.1 (Sax & Steiner 2013), files ``R/td.calc.R`` (``CalcC``,
``CalcQ``, ``CalcQ_Lit``, ``CalcGLS``) and ``R/td.sub.R`` (``SubRegressionBased``,
``SubDenton``). The same quantities are computed here without ever forming the n×n matrices:

* every error covariance is written as Σ = A·A' with A a product of two *filters*
  (a first-order recursion and/or a cumulative sum), so C·Σ·C' = G·G' with G' = A'·C', and
  Σ·C'·v = A·(A'·(C'·v)) — O(n·n_l) instead of O(n²·n_l);
* for Chow-Lin the aggregated covariance C·Σ·C' has a closed form in ρ (see
  :func:`omega_ar1`), evaluated for many ρ values at once in the likelihood search;
* every function takes a leading batch axis (series, or ρ values), so that many series are
  disaggregated with one call of each numpy kernel;
* for long series (more than :data:`LONG_NL` low-frequency values) not even the n_l × n_l
  and n × n_l matrices are formed: Chow-Lin's Ω through its tridiagonal transform
  (:class:`Ar1Factor`), the random-walk models and Denton through sparse saddle-point systems
  (:class:`KktFactor`, :func:`denton_solve_sparse`), so memory and time grow linearly with n.

Notation (tempdisagg's): n_l low-frequency values, n high-frequency periods, fr = n / n_l
high-frequency periods per low-frequency period (without extrapolation), ``offset`` = n.bc,
the number of high-frequency periods before the first low-frequency period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cholesky, solve_triangular
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter
from scipy.sparse.linalg import splu

__all__ = [
    "CONVERSION_WEIGHTS",
    "conversion_weights",
    "conversion_matrix",
    "aggregate",
    "ar_filter",
    "cum_filter",
    "cov_t_apply",
    "cov_apply",
    "Ar1Plan",
    "omega_ar1",
    "omega_from_factor",
    "LONG_NL",
    "DENTON_R_MAX_N",
    "Ar1Factor",
    "ar1_factor",
    "ar1_moments",
    "conversion_t_apply",
    "conversion_sparse",
    "KktFactor",
    "kkt_factor",
    "denton_solve_sparse",
    "GlsStats",
    "gls_search",
    "gls_final",
    "golden_minimize",
    "grid_brent_minimize",
    "gls_search_one",
    "denton_solve",
]


# --- conversion (CalcC) -----------------------------------------------------------------

def _w_sum(fr: int) -> np.ndarray:
    return np.ones(fr)


def _w_average(fr: int) -> np.ndarray:
    return np.full(fr, 1.0 / fr)


def _w_first(fr: int) -> np.ndarray:
    w = np.zeros(fr)
    w[0] = 1.0
    return w


def _w_last(fr: int) -> np.ndarray:
    w = np.zeros(fr)
    w[-1] = 1.0
    return w


#: conversion name -> weights of one low-frequency period (tempdisagg ``CalcC``)
CONVERSION_WEIGHTS = {"sum": _w_sum, "average": _w_average, "first": _w_first, "last": _w_last}


def conversion_weights(conversion: str, fr: int) -> np.ndarray:
    """Weights w of one low-frequency period: C = I_{n_l} ⊗ w' (tempdisagg ``CalcC``)."""
    return CONVERSION_WEIGHTS[conversion](fr)


def conversion_matrix(n_l: int, w: np.ndarray, *, offset: int = 0, n: int | None = None) -> np.ndarray:
    """Dense C (n_l × n): ``kronecker(diag(n_l), t(w))`` with ``offset`` zero columns before
    (backcast) and zero columns after (forecast) — tempdisagg ``CalcC(n.bc, n.fc)``."""
    fr = len(w)
    n = offset + n_l * fr if n is None else n
    C = np.zeros((n_l, n))
    for i in range(n_l):
        C[i, offset + i * fr: offset + (i + 1) * fr] = w
    return C


def aggregate(x: np.ndarray, w: np.ndarray, *, offset: int, n_l: int) -> np.ndarray:
    """C·x along axis -2 of ``x`` (shape (..., n, k)) → (..., n_l, k); extrapolated periods
    (outside ``offset … offset + n_l·fr``) get weight 0."""
    fr = len(w)
    block = x[..., offset: offset + n_l * fr, :]
    block = block.reshape(*x.shape[:-2], n_l, fr, x.shape[-1])
    return np.einsum("...ifk,f->...ik", block, w)


# --- covariance factors: Σ = A·A' ----------------------------------------------------------

def ar_filter(x: np.ndarray, rho, *, reverse: bool = False) -> np.ndarray:
    """z_t = x_t + ρ·z_{t∓1} along axis 1 of ``x`` (shape (S, n, r)): z = H⁻¹x (forward) or
    z = H'⁻¹x (reverse), with H the quasi-difference matrix (1 on the diagonal, −ρ below it),
    as ``H`` in tempdisagg ``CalcQ_Lit``. ``rho`` is a scalar or one value per series."""
    rho = np.asarray(rho, dtype=float)
    if rho.ndim == 0 or np.all(rho == rho.flat[0]):
        r = float(rho.flat[0])
        if r == 0.0:
            return x
        if reverse:
            return lfilter([1.0], [1.0, -r], x[:, ::-1], axis=1)[:, ::-1]
        return lfilter([1.0], [1.0, -r], x, axis=1)
    z = np.array(x, dtype=float, copy=True)
    rr = rho.reshape(-1, *([1] * (x.ndim - 2)))
    n = x.shape[1]
    if reverse:
        for t in range(n - 2, -1, -1):
            z[:, t] += rr * z[:, t + 1]
    else:
        for t in range(1, n):
            z[:, t] += rr * z[:, t - 1]
    return z


def cum_filter(x: np.ndarray, *, reverse: bool = False, times: int = 1) -> np.ndarray:
    """D⁻¹x (cumulative sum) or D'⁻¹x (reverse cumulative sum) along axis 1, ``times`` times;
    D is the first-difference matrix with D[0,0] = 1 (tempdisagg ``CalcQ_Lit``, ``SubDenton``)."""
    for _ in range(times):
        x = np.cumsum(x[:, ::-1], axis=1)[:, ::-1] if reverse else np.cumsum(x, axis=1)
    return x


def _ar1_scale(rho: np.ndarray) -> np.ndarray:
    return 1.0 / np.sqrt(1.0 - np.asarray(rho, dtype=float) ** 2)


def cov_t_apply(M: np.ndarray, model: str, rho) -> np.ndarray:
    """A'·M for the error model's factor A (Σ = A·A'); ``M`` has shape (S, n, r).

    * ``ar1`` (Chow-Lin; Chow & Lin 1971): u_1 = ε_1/√(1−ρ²), u_t = ρ·u_{t−1} + ε_t, so
      A = H⁻¹·diag(1/√(1−ρ²), 1, …, 1) and Σ = ρ^|i−j| / (1−ρ²) (tempdisagg ``CalcQ``).
    * ``rw-ar1`` (Fernández 1981 for ρ = 0, Litterman 1983): D·u = e, H·e = ε from zero
      initial values, so A = D⁻¹·H⁻¹ and Σ = (D'H'HD)⁻¹ (tempdisagg ``CalcQ_Lit``).
    """
    if model == "ar1":
        z = ar_filter(M, rho, reverse=True)
        s = _ar1_scale(rho).reshape(-1, *([1] * (M.ndim - 2)))
        z = np.array(z, copy=True)
        z[:, 0] *= s
        return z
    return ar_filter(cum_filter(M, reverse=True), rho, reverse=True)


def cov_apply(M: np.ndarray, model: str, rho) -> np.ndarray:
    """A·M (see :func:`cov_t_apply`)."""
    if model == "ar1":
        s = _ar1_scale(rho).reshape(-1, *([1] * (M.ndim - 2)))
        z = np.array(M, dtype=float, copy=True)
        z[:, 0] *= s
        return ar_filter(z, rho)
    return cum_filter(ar_filter(M, rho))


def omega_from_factor(Ct: np.ndarray, model: str, rho) -> np.ndarray:
    """C·Σ·C' = G·G' with G' = A'·C' (``Ct`` = C', shape (S or 1, n, n_l)) → (S, n_l, n_l)."""
    Gt = cov_t_apply(Ct, model, rho)
    return np.swapaxes(Gt, -1, -2) @ Gt


@dataclass(frozen=True)
class Ar1Plan:
    """Index arrays of :func:`omega_ar1` for one (n_l, w), computed once per fit."""

    w: np.ndarray
    p: np.ndarray          # 0 … fr−1
    lag: np.ndarray        # |p − q|, fr × fr
    steps: np.ndarray      # 0 … n_l−2
    gap: np.ndarray        # max(|i − i'| − 1, 0), n_l × n_l
    diag: np.ndarray       # 0 … n_l−1

    @classmethod
    def make(cls, n_l: int, w: np.ndarray) -> "Ar1Plan":
        p = np.arange(len(w))
        d = np.abs(np.arange(n_l)[:, None] - np.arange(n_l)[None, :])
        return cls(w, p, np.abs(p[:, None] - p[None, :]), np.arange(max(n_l - 1, 1)),
                   np.maximum(d - 1, 0), np.arange(n_l))


def omega_ar1(rhos: np.ndarray, n_l: int, w: np.ndarray, *, scaled: bool = True,
              plan: Ar1Plan | None = None) -> np.ndarray:
    """Closed-form C·R·C' (``scaled=False``) or C·Q·C' = C·R·C'/(1−ρ²) for AR(1) errors,
    for an array of ρ values → shape (len(rhos), n_l, n_l).

    With R = ρ^|i−j| (tempdisagg ``CalcR``) and block i = hf periods i·fr … i·fr+fr−1:
    diagonal Ω_ii = Σ_{p,q} w_p w_q ρ^|p−q|; off-diagonal (d = |i−i'| ≥ 1)
    Ω_ii' = ρ^{(d−1)·fr} · (Σ_p w_p ρ^{fr−p}) · (Σ_q w_q ρ^q), because every period of the
    earlier block precedes every period of the later one. Extrapolated periods do not enter.
    """
    P = plan if plan is not None else Ar1Plan.make(n_l, w)
    rhos = np.asarray(rhos, dtype=float).reshape(-1)
    fr = len(P.w)
    r = rhos[:, None]
    f = (P.w * r ** P.p).sum(axis=1)                       # Σ_q w_q ρ^q
    b = (P.w * r ** (fr - P.p)).sum(axis=1)                # Σ_p w_p ρ^{fr−p}
    diag = ((P.w[:, None] * P.w[None, :]) * rhos[:, None, None] ** P.lag).sum(axis=(1, 2))
    pw = (rhos[:, None] ** fr) ** P.steps[None, :]         # ρ^{(d−1)·fr}, d = 1 … n_l−1
    Om = pw[:, P.gap] * (b * f)[:, None, None]
    Om[:, P.diag, P.diag] = diag[:, None]
    if scaled:
        Om /= (1.0 - rhos ** 2)[:, None, None]
    return Om


# --- long series: the AR(1) Ω in O(n_l) ------------------------------------------------------
#
# For n_l above :data:`LONG_NL` the n_l × n_l matrices are never formed. The aggregated AR(1)
# covariance has γ(d) = γ₁·φ^{d−1} for d ≥ 1 (φ = ρ^fr; see :func:`omega_ar1`), the
# autocovariance of an ARMA(1, 1). With H the quasi-difference matrix of φ (1 on the diagonal,
# −φ below it, first row e₁'), T = H·Ω·H' is tridiagonal:
#   T₁₁ = γ₀,  T_tt = (1 + φ²)·γ₀ − 2φ·γ₁ (t ≥ 2),  T_{t,t+1} = γ₁ − φ·γ₀.
# With T = L_T·L_T' (bidiagonal Cholesky), L = H⁻¹·L_T is lower triangular with a positive
# diagonal and L·L' = Ω: it *is* the Cholesky factor of Ω, so L⁻¹·B = L_T⁻¹·(H·B) whitens
# exactly as the dense factor does, and log|Ω| = 2·Σ log diag(L_T) (|H| = 1).

#: Above this many low-frequency values, Chow-Lin's Ω is handled through :class:`Ar1Factor`
#: (memory and time linear in the series' length) instead of dense n_l × n_l matrices.
LONG_NL = 300
#: The original Denton reproduces R's own floating-point operations (explicit inverses, see
#: :func:`denton_original_r`), O(n³) in time and O(n²) in memory, up to this many
#: high-frequency periods; beyond, it is the exact solution of :func:`denton_solve_sparse`.
DENTON_R_MAX_N = 600


def ar1_moments(rhos, w: np.ndarray, *, scaled: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(γ₀, γ₁, φ) of the aggregated AR(1) covariance for each ρ: Ω_ii = γ₀,
    Ω_ii' = γ₁·φ^{|i−i'|−1} (see :func:`omega_ar1`)."""
    rhos = np.asarray(rhos, dtype=float).reshape(-1)
    fr = len(w)
    p = np.arange(fr)
    r = rhos[:, None]
    f = (w * r ** p).sum(axis=1)
    b = (w * r ** (fr - p)).sum(axis=1)
    lag = np.abs(p[:, None] - p[None, :])
    g0 = ((w[:, None] * w[None, :]) * rhos[:, None, None] ** lag).sum(axis=(1, 2))
    g1 = b * f
    if scaled:
        s = 1.0 - rhos ** 2
        g0, g1 = g0 / s, g1 / s
    return g0, g1, rhos ** fr


@dataclass(frozen=True)
class Ar1Factor:
    """The Cholesky factor L = H⁻¹·L_T of the aggregated AR(1) covariance, one per ρ (axis 0),
    kept as the diagonal ``l`` (P, n_l) and sub-diagonal ``m`` (P, n_l − 1) of L_T and ``phi``."""

    phi: np.ndarray
    l: np.ndarray
    m: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        n_l = self.l.shape[1]
        return (self.l.shape[0], n_l, n_l)

    @property
    def logdet(self) -> np.ndarray:
        return 2.0 * np.log(self.l).sum(axis=1)

    def solve(self, B: np.ndarray) -> np.ndarray:
        """L⁻¹·B = L_T⁻¹·(H·B); ``B`` (S, n_l, r), S broadcasting with P."""
        B = np.broadcast_to(B, (max(B.shape[0], self.l.shape[0]),) + B.shape[1:])
        c = B.astype(float, copy=True)
        c[:, 1:] -= self.phi[:, None, None] * B[:, :-1]
        l, m = self.l[:, :, None], self.m[:, :, None]
        c[:, 0] /= l[:, 0]
        for t in range(1, c.shape[1]):
            c[:, t] = (c[:, t] - m[:, t - 1] * c[:, t - 1]) / l[:, t]
        return c

    def solve_t(self, B: np.ndarray) -> np.ndarray:
        """L'⁻¹·B = H'·(L_T'⁻¹·B)."""
        z = np.broadcast_to(B, (max(B.shape[0], self.l.shape[0]),) + B.shape[1:]).astype(float, copy=True)
        l, m = self.l[:, :, None], self.m[:, :, None]
        n = z.shape[1]
        z[:, n - 1] /= l[:, n - 1]
        for t in range(n - 2, -1, -1):
            z[:, t] = (z[:, t] - m[:, t] * z[:, t + 1]) / l[:, t]
        out = z.copy()
        out[:, :-1] -= self.phi[:, None, None] * z[:, 1:]
        return out


def ar1_factor(rhos, n_l: int, w: np.ndarray, *, scaled: bool = True) -> Ar1Factor:
    """:class:`Ar1Factor` of C·Q·C' (``scaled``) or C·R·C' for an array of ρ, in O(n_l) memory."""
    g0, g1, phi = ar1_moments(rhos, w, scaled=scaled)
    a = (1.0 + phi ** 2) * g0 - 2.0 * phi * g1        # T_tt, t ≥ 2
    e = g1 - phi * g0                                  # T_{t,t+1}
    P = g0.size
    l = np.empty((P, n_l))
    m = np.empty((P, max(n_l - 1, 0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        l[:, 0] = np.sqrt(g0)
        for t in range(1, n_l):
            m[:, t - 1] = e / l[:, t - 1]
            l[:, t] = np.sqrt(a - m[:, t - 1] ** 2)
    return Ar1Factor(phi, l, m)


def conversion_t_apply(v: np.ndarray, w: np.ndarray, *, offset: int, n: int) -> np.ndarray:
    """C'·v without forming C: ``v`` (S, n_l, r) → (S, n, r); zero outside the
    low-frequency span (extrapolated periods)."""
    S, n_l, r = v.shape
    fr = len(w)
    out = np.zeros((S, n, r))
    out[:, offset: offset + n_l * fr] = (v[:, :, None, :] * w[None, None, :, None]).reshape(S, n_l * fr, r)
    return out


def conversion_sparse(n_l: int, w: np.ndarray, *, offset: int, n: int) -> sp.csr_matrix:
    """C (n_l × n) as a sparse matrix: n_l·fr stored entries instead of n_l·n."""
    fr = len(w)
    rows = np.repeat(np.arange(n_l), fr)
    cols = offset + np.arange(n_l * fr)
    return sp.csr_matrix((np.tile(np.asarray(w, dtype=float), n_l), (rows, cols)), shape=(n_l, n))


def _diff_sparse(n: int, rho: float = 1.0) -> sp.csr_matrix:
    """The quasi-difference matrix (1 on the diagonal, −ρ below it); ρ = 1 gives D."""
    return sp.csr_matrix(sp.eye(n) - rho * sp.eye(n, k=-1))


@dataclass(frozen=True)
class KktFactor:
    """Ω = C·Σ·C' of a long series for a random-walk model (Fernández, Litterman), never
    formed: with Σ⁻¹ = M'·M banded (M = H·D, tempdisagg ``CalcQ_Lit``), the sparse saddle-point
    matrix K = [[M'M, C'], [C, 0]] gives Ω⁻¹·b = −λ from K·[a; λ] = [0; b], and
    log|Ω| = log|det K| (|M| = 1). One sparse LU per ρ (axis 0); memory O(n).
    :meth:`solve` returns a small Z̃ with Z̃'·Z̃ = B'·Ω⁻¹·B, which is all the GLS statistics use."""

    lus: tuple
    n: int
    n_l: int
    logdet: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.lus), self.n_l, self.n_l)

    def omega_inv(self, B: np.ndarray) -> np.ndarray:
        """Ω⁻¹·B, ``B`` (S, n_l, r) broadcasting with the ρ axis."""
        P = len(self.lus)
        N = max(P, B.shape[0])
        B = np.broadcast_to(B, (N,) + B.shape[1:])
        out = np.empty(B.shape)
        for i in range(N):
            lu = self.lus[i if P > 1 else 0]
            rhs = np.zeros((self.n + self.n_l, B.shape[2]))
            rhs[self.n:] = B[i]
            out[i] = -lu.solve(rhs)[self.n:]
        return out

    def solve(self, B: np.ndarray) -> np.ndarray:
        W = self.omega_inv(B)
        G = np.swapaxes(np.broadcast_to(B, W.shape), -1, -2) @ W
        lam, V = np.linalg.eigh((G + np.swapaxes(G, -1, -2)) / 2)   # G may be singular ([y, 1, 1])
        return np.sqrt(np.clip(lam, 0.0, None))[..., :, None] * np.swapaxes(V, -1, -2)


def kkt_factor(rhos, n_l: int, w: np.ndarray, *, offset: int, n: int) -> KktFactor:
    """:class:`KktFactor` of C·Σ·C' for Σ = (D'H'HD)⁻¹ and an array of ρ."""
    C = conversion_sparse(n_l, w, offset=offset, n=n)
    D = _diff_sparse(n)
    lus, logdet = [], []
    for r in np.asarray(rhos, dtype=float).reshape(-1):
        M = _diff_sparse(n, r) @ D
        K = sp.bmat([[M.T @ M, C.T], [C, None]], format="csc")
        lu = splu(K)
        lus.append(lu)
        logdet.append(float(np.log(np.abs(lu.U.diagonal())).sum()))
    return KktFactor(tuple(lus), n, n_l, np.array(logdet))


def denton_solve_sparse(x: np.ndarray, y_l: np.ndarray, w: np.ndarray, *, offset: int, h: int,
                        proportional: bool, cholette: bool, refine: int = 2) -> np.ndarray:
    """:func:`denton_solve` for long series: the same problem, min ‖D₁·z‖² s.t. C̃·z = u,
    solved as the sparse saddle-point system [[D₁'D₁, C̃'], [C̃, 0]]·[z; λ] = [0; u] (one sparse
    LU per series, memory O(n)), with ``refine`` steps of iterative refinement."""
    S, n = x.shape
    n_l = y_l.shape[1]
    C = conversion_sparse(n_l, w, offset=offset, n=n)
    D = _diff_sparse(n)
    Dh = sp.identity(n, format="csr")
    for _ in range(h):
        Dh = D @ Dh
    D1 = Dh[(h if cholette else 0):]
    A = (D1.T @ D1).tocsr()
    out = np.empty_like(x, dtype=float)
    for s in range(S):
        xs = x[s] / x[s].mean() if proportional else np.ones(n)
        Ct = C @ sp.diags(xs)
        K = sp.bmat([[A, Ct.T], [Ct, None]], format="csc")
        lu = splu(K)
        rhs = np.concatenate([np.zeros(n), y_l[s] - C @ x[s]])
        sol = lu.solve(rhs)
        for _ in range(refine):
            sol = sol + lu.solve(rhs - K @ sol)
        out[s] = x[s] + xs * sol[:n]
    return out


# --- GLS (CalcGLS) ------------------------------------------------------------------------

def _whiten(Om, B: np.ndarray):
    if isinstance(Om, (Ar1Factor, KktFactor)):
        return Om, Om.solve(B)
    L = np.linalg.cholesky(Om)
    return L, np.linalg.solve(L, B)


def _logdet(L) -> np.ndarray:
    if isinstance(L, (Ar1Factor, KktFactor)):
        return L.logdet
    return 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)


def gls_search(Om: np.ndarray, y: np.ndarray, Xl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Generalised RSS and log-likelihood for a stack of covariances (used in the ρ search).

    ``Om`` (P, n_l, n_l), ``y`` (P, n_l), ``Xl`` (P, n_l, k); arrays broadcast on axis 0.
    logL = −n_l/2 − n_l/2·log 2π − n_l/2·log(RSS/n_l) − ½·log|Ω| (tempdisagg ``CalcGLS``).
    """
    B = np.concatenate([y[..., None], Xl], axis=-1)
    B = np.broadcast_to(B, (max(Om.shape[0], B.shape[0]),) + B.shape[1:])
    L, Z = _whiten(Om, B)
    zy, ZX = Z[..., 0], Z[..., 1:]
    G = np.swapaxes(ZX, -1, -2) @ ZX
    beta = np.linalg.solve(G, (np.swapaxes(ZX, -1, -2) @ zy[..., None]))[..., 0]
    res = zy - (ZX @ beta[..., None])[..., 0]
    rss = (res ** 2).sum(axis=-1)
    m = y.shape[-1]
    logdet = _logdet(L)
    logl = -m / 2 - m * np.log(2 * np.pi) / 2 - m * np.log(rss / m) / 2 - logdet / 2
    return rss, logl


def gls_search_one(Om: np.ndarray, y: np.ndarray, Xl: np.ndarray) -> tuple[float, float]:
    """:func:`gls_search` for one Ω (n_l × n_l), one y and X_l, through LAPACK directly."""
    if isinstance(Om, (Ar1Factor, KktFactor)):
        rss, logl = gls_search(Om, y[None], Xl[None])
        return float(rss[0]), float(logl[0])
    L = cholesky(Om, lower=True, check_finite=False)
    Z = solve_triangular(L, np.column_stack([y, Xl]), lower=True, check_finite=False)
    ZX = Z[:, 1:]
    beta = np.linalg.solve(ZX.T @ ZX, ZX.T @ Z[:, 0])
    res = Z[:, 0] - ZX @ beta
    rss = float(res @ res)
    m = y.size
    logdet = 2.0 * float(np.log(np.diag(L)).sum())
    logl = -m / 2 - m * np.log(2 * np.pi) / 2 - m * np.log(rss / m) / 2 - logdet / 2
    return rss, logl


@dataclass
class GlsStats:
    """Result of the final GLS step on the aggregated data (tempdisagg ``CalcGLS``), batched."""

    coefficients: np.ndarray   # (S, k)
    se: np.ndarray             # (S, k)
    rss: np.ndarray            # (S,)
    s_2: np.ndarray
    s_2_gls: np.ndarray
    logl: np.ndarray
    tss: np.ndarray
    r_squared: np.ndarray
    adj_r_squared: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    rank: int
    df: int
    omega_inv_u: np.ndarray    # (S, n_l): Ω⁻¹·(y_l − C·X·β), used for the distribution


def gls_final(Om: np.ndarray, y: np.ndarray, Xl: np.ndarray) -> GlsStats:
    """GLS of y on X_l with covariance Ω (all batched on axis 0), with every statistic of
    tempdisagg ``CalcGLS``: β = (X'Ω⁻¹X)⁻¹X'Ω⁻¹y via Cholesky whitening and QR;
    s² = RSS/n_l; s²_gls = RSS/(n_l−k); se = √diag(s²_gls·(X'Ω⁻¹X)⁻¹);
    AIC = log(RSS/n_l) + 2k/n_l; BIC = log(RSS/n_l) + log(n_l)·k/n_l; TSS around the GLS mean."""
    S, m = y.shape
    k = Xl.shape[-1]
    ones = np.ones((S, m, 1))
    B = np.concatenate([y[..., None], Xl, ones], axis=-1)
    L, Z = _whiten(Om if isinstance(Om, (Ar1Factor, KktFactor)) else np.broadcast_to(Om, (S, m, m)), B)
    zy, ZX, ze = Z[..., 0], Z[..., 1:1 + k], Z[..., 1 + k]
    Q, R = np.linalg.qr(ZX)
    beta = np.linalg.solve(R, (np.swapaxes(Q, -1, -2) @ zy[..., None]))[..., 0]
    res = zy - (ZX @ beta[..., None])[..., 0]
    rss = (res ** 2).sum(axis=-1)
    s_2 = rss / m
    s_2_gls = rss / (m - k)
    Rinv = np.linalg.solve(R, np.broadcast_to(np.eye(k), R.shape))
    se = np.sqrt(s_2_gls[:, None] * (Rinv ** 2).sum(axis=-1))
    logdet = _logdet(L)
    logl = -m / 2 - m * np.log(2 * np.pi) / 2 - m * np.log(s_2) / 2 - logdet / 2
    ybar = (ze * zy).sum(-1) / (ze * ze).sum(-1)
    tss = ((zy - ybar[:, None] * ze) ** 2).sum(-1)
    r2 = 1 - rss / tss
    adj = 1 - (rss * (m - 1)) / (tss * (m - k))
    aic = np.log(rss / m) + 2 * (k / m)
    bic = np.log(rss / m) + np.log(m) * (k / m)
    u = y - (Xl @ beta[..., None])[..., 0]
    # Ω⁻¹u = L'⁻¹ L⁻¹ u
    if isinstance(L, Ar1Factor):
        om_inv_u = L.solve_t(L.solve(u[..., None]))[..., 0]
    elif isinstance(L, KktFactor):
        om_inv_u = L.omega_inv(u[..., None])[..., 0]
    else:
        Linv_u = np.linalg.solve(L, u[..., None])
        om_inv_u = np.linalg.solve(np.swapaxes(L, -1, -2), Linv_u)[..., 0]
    return GlsStats(beta, se, rss, s_2, s_2_gls, logl, tss, r2, adj, aic, bic, k, m - k, om_inv_u)


# --- one-dimensional minimisers, vectorised ---------------------------------------------------

_GOLD = (np.sqrt(5.0) - 1.0) / 2.0


def grid_brent_minimize(f_many, f_one, lo: float, hi: float, *, n_grid: int = 33,
                        xtol: float = 1e-10) -> float:
    """Minimise a function of ρ on [lo, hi]: ``f_many`` on a grid of ``n_grid`` points (one
    batched evaluation) finds the basin of the global minimum; Brent's method (``f_one``, as
    R's ``optimize``, which is Brent's ``fmin``) then refines within [x_{j−1}, x_{j+1}] to
    ``xtol``. (R's ``optimize`` with ``tol = 1e-16`` reaches the same minimum to about 1e-8.)"""
    x = np.linspace(lo, hi, n_grid)
    v = f_many(x)
    j = int(np.nanargmin(v))
    a, b = x[max(j - 1, 0)], x[min(j + 1, n_grid - 1)]
    r = minimize_scalar(f_one, bounds=(a, b), method="bounded", options={"xatol": xtol})
    return float(r.x) if r.fun <= v[j] else float(x[j])


def golden_minimize(f, a: np.ndarray, b: np.ndarray, *, xtol: float = 1e-10) -> np.ndarray:
    """Golden-section search on brackets [a_s, b_s], one per series, all at once: ``f`` maps an
    array of ρ (one per series) to an array of objective values."""
    a = a.astype(float).copy()
    b = b.astype(float).copy()
    c = b - _GOLD * (b - a)
    d = a + _GOLD * (b - a)
    fc, fd = f(c), f(d)
    while np.max(b - a) > xtol:
        left = fc < fd                       # minimum in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c = np.where(left, b - _GOLD * (b - a), d)
        new_d = np.where(left, c, a + _GOLD * (b - a))
        x_new = np.where(left, new_c, new_d)
        f_new = f(x_new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
        c, d = new_c, new_d
    return np.where(fc < fd, c, d)


# --- Denton (SubDenton) -----------------------------------------------------------------------

def _diff(z: np.ndarray, times: int) -> np.ndarray:
    """Dʰ·z along axis 1 (D: first differences with D[0,0] = 1)."""
    for _ in range(times):
        z = np.concatenate([z[:, :1], np.diff(z, axis=1)], axis=1)
    return z


def _diff_t(v: np.ndarray, times: int) -> np.ndarray:
    """D'ʰ·v along axis 1."""
    for _ in range(times):
        v = np.concatenate([v[:, :-1] - v[:, 1:], v[:, -1:]], axis=1)
    return v


def _denton_kkt(Gt: np.ndarray, h_free: int, h: int, r1: np.ndarray, r2: np.ndarray):
    """Solve A·z + C̃'·λ = r1, C̃·z = r2 (A = Dʰ'·P·Dʰ, P = diag(0_{h_free}, I)) through
    z = D⁻ʰ·e: with g = D'⁻ʰ·r1, e₁ = g₁ − G₁'λ and [[G₁G₁', −G₀], [G₀', 0]]·[λ; e₀] =
    [G₁·g₁ − r2; g₀] — a system of size n_l + h_free instead of n + n_l."""
    S, n, n_l = Gt.shape
    g = cum_filter(r1[..., None], reverse=True, times=h)[..., 0]
    G0t, G1t = Gt[:, :h_free], Gt[:, h_free:]
    g0, g1 = g[:, :h_free], g[:, h_free:]
    K = np.zeros((S, n_l + h_free, n_l + h_free))
    K[:, :n_l, :n_l] = np.swapaxes(G1t, 1, 2) @ G1t
    K[:, :n_l, n_l:] = -np.swapaxes(G0t, 1, 2)
    K[:, n_l:, :n_l] = G0t
    rhs = np.concatenate([(np.swapaxes(G1t, 1, 2) @ g1[..., None])[..., 0] - r2, g0], axis=1)
    sol = np.linalg.solve(K, rhs[..., None])[..., 0]
    lam, e0 = sol[:, :n_l], sol[:, n_l:]
    e = np.concatenate([e0, g1 - (G1t @ lam[..., None])[..., 0]], axis=1)
    return cum_filter(e[..., None], times=h)[..., 0], lam


def denton_solve(x: np.ndarray, y_l: np.ndarray, w: np.ndarray, *, offset: int, h: int,
                 proportional: bool, cholette: bool, refine: int = 2) -> np.ndarray:
    """Denton (1971) and Denton-Cholette (Cholette 1984) benchmarking, batched on axis 0.

    ``x`` (S, n) indicator, ``y_l`` (S, n_l). Minimise ‖D₁·z‖² subject to C·y = y_l, where
    z = y − x (additive) or z = (y − x)/(x/mean x) (proportional), and D₁ = Dʰ (``denton``,
    Eq. (2.2) of Denton 1971) or Dʰ without its first h rows (``denton-cholette``, Eq. (6.8) of
    Cholette & Dagum 2006). With z = D⁻ʰ·e the penalty is ‖e‖² (denton) or ‖e_{h:}‖²
    (Cholette: e_0 … e_{h−1} are free), and the constraint reads G·e = u_l with
    G = C·X̃·D⁻ʰ, u_l = y_l − C·x (see :func:`_denton_kkt`). ``refine`` steps of iterative
    refinement on the full KKT residual bring the accuracy to that of a direct solve of the
    (n + n_l) system, as tempdisagg ``SubDenton`` does, at a fraction of its cost.
    """
    S, n = x.shape
    n_l = y_l.shape[1]
    xs = x / x.mean(axis=1, keepdims=True) if proportional else np.ones_like(x)
    C = conversion_matrix(n_l, w, offset=offset, n=n)
    Ctil_t = xs[..., None] * C.T[None]                       # C̃' = X̃·C'
    u = y_l - aggregate(x[..., None], w, offset=offset, n_l=n_l)[..., 0]
    Gt = cum_filter(Ctil_t, reverse=True, times=h)          # G' = D'⁻ʰ·C̃'
    h_free = h if cholette else 0
    z, lam = _denton_kkt(Gt, h_free, h, np.zeros((S, n)), u)
    for _ in range(refine):
        Pz = _diff(z, h)
        Pz[:, :h_free] = 0.0
        res1 = -(_diff_t(Pz, h) + (Ctil_t @ lam[..., None])[..., 0])
        res2 = u - aggregate((xs * z)[..., None], w, offset=offset, n_l=n_l)[..., 0]
        dz, dlam = _denton_kkt(Gt, h_free, h, res1, res2)
        z, lam = z + dz, lam + dlam
    return x + xs * z


# --- the original Denton, computed as R computes it ------------------------------------------
#
# R's ``SubDenton`` computes the original Denton through two explicit inverses,
# Q = (D₁'D₁)⁻¹ and (C·Q·C')⁻¹. For h = 2 the first has a condition number near 1e10, so R's
# published values carry round-off of up to ≈ 1e-5 (absolute) against the exact solution.
# To reproduce R's numbers, and not only the exact solution, the helpers below perform the
# same floating-point operations in the same order as R with its reference BLAS/LAPACK:
# ``dgemm``/``dgemv`` accumulate Σ_l a_il·b_lj in ascending l, and ``dgesv`` is an LU with
# partial pivoting (multipliers scaled by the pivot's reciprocal, right-looking updates in
# ascending k) followed by two triangular solves. Additive runs then agree with R to 1e-13.

def _ref_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A·B with reference-BLAS ``dgemm`` accumulation order (ascending inner index)."""
    Z = np.zeros((A.shape[0], B.shape[1]))
    for k in range(A.shape[1]):
        a, b = A[:, k], B[k, :]
        if a.any() and b.any():               # a zero term adds nothing (as in dgemm)
            Z += np.outer(a, b)
    return Z


def _ref_inverse(A: np.ndarray) -> np.ndarray:
    """``solve(A)`` in R: LAPACK ``dgesv`` (``dgetrf`` + ``dgetrs``) on the identity."""
    A = np.array(A, dtype=float, copy=True)
    n = A.shape[0]
    perm = np.arange(n)
    for k in range(n):                        # dgetrf: partial pivoting, reciprocal scaling
        p = k + int(np.argmax(np.abs(A[k:, k])))
        if p != k:
            A[[k, p]] = A[[p, k]]
            perm[[k, p]] = perm[[p, k]]
        A[k + 1:, k] *= 1.0 / A[k, k]
        A[k + 1:, k + 1:] -= np.outer(A[k + 1:, k], A[k, k + 1:])
    B = np.eye(n)[perm]
    for k in range(n):                        # dtrsm: unit lower, ascending k
        B[k + 1:] -= np.outer(A[k + 1:, k], B[k])
    for k in range(n - 1, -1, -1):            # dtrsm: upper, descending k
        B[k] = B[k] / A[k, k]
        B[:k] -= np.outer(A[:k, k], B[k])
    return B


def _r_mean(x: np.ndarray) -> float:
    """R's ``mean()``: a long-double sum, then a long-double correction pass."""
    s = np.longdouble(0)
    for v in x:
        s += np.longdouble(v)
    s /= len(x)
    t = np.longdouble(0)
    for v in x:
        t += np.longdouble(v) - s
    return float(s + t / len(x))


def denton_original_r(x: np.ndarray, y_l: np.ndarray, w: np.ndarray, *, offset: int, h: int,
                      proportional: bool) -> np.ndarray:
    """Original Denton (1971), for one series, exactly as tempdisagg ``SubDenton`` computes it:
    D₀ = Dʰ (·X̃⁻¹ if proportional), Q = (D₀'D₀)⁻¹ ("Denton (1971), in the text below
    Eq. (2.2)"), y = x + Q·C'·(C·Q·C')⁻¹·(y_l − C·x)."""
    n, n_l = x.size, y_l.size
    C = conversion_matrix(n_l, w, offset=offset, n=n)
    D = np.eye(n) - np.eye(n, k=-1)
    D0 = np.eye(n)
    for _ in range(h):
        D0 = _ref_matmul(D, D0)
    if proportional:
        D0 = D0 * (1.0 / (x / _r_mean(x)))[None, :]     # D₀·diag(1/(x/mean x)): one product per entry
    u = y_l[:, None] - _ref_matmul(C, x[:, None])
    Q = _ref_inverse(_ref_matmul(D0.T, D0))
    QCt = _ref_matmul(Q, C.T)
    dist = _ref_matmul(QCt, _ref_inverse(_ref_matmul(_ref_matmul(C, Q), C.T)))
    return x + _ref_matmul(dist, u)[:, 0]
