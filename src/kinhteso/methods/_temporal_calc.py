"""Linear-algebra helpers of temporal disaggregation (private; see :mod:`kinhteso.methods.temporal`).

Anchor: R package tempdisagg 1.1.1 (Sax & Steiner 2013), files ``R/td.calc.R`` (``CalcC``,
``CalcQ``, ``CalcQ_Lit``, ``CalcGLS``) and ``R/td.sub.R`` (``SubRegressionBased``,
``SubDenton``). The same quantities are computed here without ever forming the n×n matrices:

* every error covariance is written as Σ = A·A' with A a product of two *filters*
  (a first-order recursion and/or a cumulative sum), so C·Σ·C' = G·G' with G' = A'·C', and
  Σ·C'·v = A·(A'·(C'·v)) — O(n·n_l) instead of O(n²·n_l);
* for Chow-Lin the aggregated covariance C·Σ·C' has a closed form in ρ (see
  :func:`omega_ar1`), and so has the profiled likelihood through the discrete sine transform
  (:class:`Ar1Spectral`), evaluated for many ρ values at once in the ρ search
  (:func:`rho_search`), with no factorisation per ρ;
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

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cholesky, solve_triangular
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
    "dst_basis",
    "ar1_moments_nd",
    "Ar1Spectral",
    "ar1_whitener",
    "ar1_gls",
    "ar1_cov_apply",
    "rw_plan",
    "gls_one",
    "refine_min",
    "rho_search",
    "denton_one",
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


def denton_one(x: np.ndarray, y_l: np.ndarray, w: np.ndarray, *, offset: int, h: int,
               proportional: bool, cholette: bool) -> np.ndarray:
    """:func:`denton_solve` for one series (``x`` (n,), ``y_l`` (n_l,)), without iterative
    refinement: the reduced system of :func:`_denton_kkt` (size n_l + h), one dense solve."""
    n, n_l = x.size, y_l.size
    fr = len(w)
    Ct = _cached(("Ct", n_l, fr, w.tobytes(), offset, n),
                 lambda: conversion_matrix(n_l, w, offset=offset, n=n).T.copy())
    u = y_l - x[offset: offset + n_l * fr].reshape(n_l, fr) @ w
    if proportional:
        xs = x * (n / x.sum())
        Gt = xs[:, None] * Ct
    else:
        xs, Gt = None, Ct
    for _ in range(h):
        Gt = np.cumsum(Gt[::-1], axis=0)[::-1]                 # G' = D'⁻ʰ·C̃'
    h_free = h if cholette else 0
    G0t, G1t = Gt[:h_free], Gt[h_free:]
    K = np.zeros((n_l + h_free, n_l + h_free))
    K[:n_l, :n_l] = G1t.T @ G1t
    K[:n_l, n_l:] = -G0t.T
    K[n_l:, :n_l] = G0t
    rhs = np.zeros(n_l + h_free)
    rhs[:n_l] = -u
    sol = np.linalg.solve(K, rhs)
    z = np.empty(n)
    z[:h_free] = sol[n_l:]
    z[h_free:] = -(G1t @ sol[:n_l])
    for _ in range(h):
        z = np.cumsum(z)
    return x + (xs * z if proportional else z)


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


# --- Chow-Lin in closed form: the likelihood profiled in ρ, for many ρ at once -------------
#
# With φ = ρ^fr and H the quasi-difference matrix of φ, T = H·Ω·H' is tridiagonal (see
# :class:`Ar1Factor`): T = T₀ + δ·e₁e₁', where T₀ is the symmetric tridiagonal *Toeplitz*
# matrix with diagonal a = (1 + φ²)·γ₀ − 2φ·γ₁ and off-diagonal e = γ₁ − φ·γ₀, and δ = γ₀ − a.
# T₀ is diagonalised by the discrete sine transform, whatever ρ:
#   T₀ = V·diag(λ)·V',  V_jt = √(2/(n_l+1))·sin(π·(j+1)(t+1)/(n_l+1)),  λ_j = a + 2e·cos(π(j+1)/(n_l+1)),
# so, by Sherman-Morrison, for any B (n_l × m)
#   B'·Ω⁻¹·B = U'Λ⁻¹U − c·(U'Λ⁻¹v)(U'Λ⁻¹v)',  U = V'·H·B = V'B − φ·V'(S·B),  v = V'e₁,
#   c = δ/(1 + δ·s),  s = v'Λ⁻¹v,  log|Ω| = Σ log λ_j + log(1 + δ·s),
# with V'B and V'(S·B) (S: the shift down by one) computed once per series. Every quantity of
# the GLS likelihood is then a small array expression in (a, e, δ, φ): one evaluation of the
# objective for a whole grid of ρ values costs a few array operations, with no Python loop over
# ρ and no n_l × n_l factorisation.

_CACHE: dict = {}


def _cached(key, make):
    v = _CACHE.get(key)
    if v is None:
        if len(_CACHE) > 256:
            _CACHE.clear()
        v = _CACHE[key] = make()
    return v


def dst_basis(n_l: int) -> tuple[np.ndarray, np.ndarray]:
    """(V, cos θ) of the symmetric tridiagonal Toeplitz matrices of size n_l (V = V' = V⁻¹)."""
    def make():
        j = np.arange(1, n_l + 1)
        V = np.sqrt(2.0 / (n_l + 1)) * np.sin(np.pi * np.outer(j, j) / (n_l + 1))
        return V, np.cos(np.pi * j / (n_l + 1))
    return _cached(("dst", n_l), make)


def _ar1_weights(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the moments of :func:`ar1_moments_nd`: (w, w reversed and shifted, c) with
    c_l = Σ_{|p−q| = l} w_p·w_q."""
    fr = len(w)

    def make():
        lag = np.abs(np.arange(fr)[:, None] - np.arange(fr)[None, :])
        c = np.bincount(lag.ravel(), weights=np.outer(w, w).ravel(), minlength=fr)
        return np.ascontiguousarray(w[::-1]), c, np.arange(fr + 1.0)
    wr, c, powers = _cached(("ar1w", fr, w.tobytes()), make)
    return w, wr, c, powers


def ar1_moments_nd(R: np.ndarray, w: np.ndarray, *, scaled: bool = True, weights=None):
    """(γ₀, γ₁, φ) of :func:`ar1_moments` for a ρ array of any shape (same shape out)."""
    w, wr, c, powers = weights if weights is not None else _ar1_weights(w)
    fr = len(w)
    Rp = R[..., None] ** powers                           # ρ⁰ … ρ^fr
    low = Rp[..., :fr]
    f = low @ w                                           # Σ_q w_q ρ^q
    b = Rp[..., 1:] @ wr                                  # Σ_p w_p ρ^{fr−p}
    g0 = low @ c
    g1 = b * f
    if scaled:
        s = 1.0 / (1.0 - R * R)
        g0, g1 = g0 * s, g1 * s
    return g0, g1, Rp[..., fr]


def _ar1_tridiag(R: np.ndarray, w: np.ndarray, scaled: bool, weights=None):
    g0, g1, phi = ar1_moments_nd(R, w, scaled=scaled, weights=weights)
    a = (1.0 + phi * phi) * g0 - 2.0 * phi * g1
    return a, g1 - phi * g0, g0 - a, phi


def _ar1_poly(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(powers 0 … 3·fr, coefficients (3·fr + 1, 3)): (1−ρ²)·(a, e, δ) of
    :func:`_ar1_tridiag` as polynomials in ρ, so that the three are one product with the
    powers of ρ (γ₀·(1−ρ²) = Σ_l c_l ρ^l, γ₁·(1−ρ²) = (Σ_q w_q ρ^q)·(Σ_p w_p ρ^{fr−p}))."""
    fr = len(w)

    def make():
        _, wr, c, _ = _ar1_weights(w)
        deg = 3 * fr + 1
        g0 = np.zeros(deg)
        g0[:fr] = c
        f = np.zeros(fr + 1)
        f[:fr] = w
        b = np.zeros(fr + 1)
        b[1:] = wr
        g1 = np.zeros(deg)
        g1[:2 * fr + 1] = np.convolve(f, b)
        shift = lambda v, k: np.concatenate([np.zeros(k), v[:deg - k]])   # noqa: E731 (·ρ^k)
        a = g0 + shift(g0, 2 * fr) - 2.0 * shift(g1, fr)
        e = g1 - shift(g0, fr)
        return np.arange(float(deg)), np.column_stack([a, e, g0 - a])
    return _cached(("ar1poly", fr, w.tobytes()), make)


class Ar1Spectral:
    """The Chow-Lin ρ objective of S series, evaluated for an (S, P) array of ρ in one go.

    ``y`` (S, n_l), ``Xl`` (S, n_l, k). The regressors are replaced, once, by an orthonormal
    basis Q of their span and y by its residual y − Q·Q'·y: GLS RSS and likelihood are
    unchanged (same column space), and the profiled RSS below, computed from small Gram
    matrices, loses little accuracy to cancellation when the fit is close.

    With B = [y, Q], U = V'·H·B = V'·ΔB + ψ·V'·(S·B) (ΔB = B − S·B, ψ = 1 − φ: no cancellation
    as φ → 1), every Gram matrix the likelihood needs is a sum over j of (1/λ_j)·(products of
    rows j of V'ΔB, V'SB and v), all precomputed: one (P × n_l)·(n_l × ·) product per series
    gives them for P values of ρ."""

    def __init__(self, y: np.ndarray, Xl: np.ndarray, w: np.ndarray):
        S, n_l, k = Xl.shape
        B = _mgs(np.concatenate([Xl, y[..., None]], axis=2))[:, :, ::-1]  # [y residual, Q]
        V, cos = dst_basis(n_l)
        m = k + 1
        SB = np.zeros_like(B)
        SB[:, 1:] = B[:, :-1]
        D, E = V @ (B - SB), V @ SB                                        # V'ΔB, V'(S·B)
        v = V[0][None, :, None]
        DD = (D[..., :, None] * D[..., None, :]).reshape(S, n_l, m * m)
        DE = D[..., :, None] * E[..., None, :]
        DE = (DE + np.swapaxes(DE, -1, -2)).reshape(S, n_l, m * m)
        EE = (E[..., :, None] * E[..., None, :]).reshape(S, n_l, m * m)
        self.K = np.concatenate([DD, DE, EE, v * D, v * E, np.broadcast_to(v * v, (S, n_l, 1))], axis=2)
        self.w, self.k, self.m, self.n_l = w, k, m, n_l
        self.cos2, self.cos_max = 2.0 * cos, float(cos[0])
        self.powers, self.poly = _ar1_poly(w)
        self.fr = len(w)

    def evaluate(self, R: np.ndarray, *, scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(RSS, log|Ω|), each (S, P), for the ρ values R (S, P); NaN where Ω is not
        positive definite in floating point."""
        Rp = R[..., None] ** self.powers
        aed = Rp @ self.poly                                                # (1−ρ²)·(a, e, δ)
        if scaled:
            aed = aed / (1.0 - R * R)[..., None]
        d = aed[..., 2]
        lam = aed[..., :1] + aed[..., 1:2] * self.cos2                      # (S, P, n_l)
        m, mm = self.m, self.m * self.m
        with np.errstate(invalid="ignore", divide="ignore"):
            T = (1.0 / lam) @ self.K                                        # (S, P, ·)
            psi = 1.0 - Rp[..., self.fr:self.fr + 1]                        # 1 − φ
            G = (T[..., :mm] + psi * (T[..., mm:2 * mm] + psi * T[..., 2 * mm:3 * mm])).reshape(*R.shape, m, m)
            q = T[..., 3 * mm:3 * mm + m] + psi * T[..., 3 * mm + m:3 * mm + 2 * m]
            ds = d * T[..., -1]
            M = G - (d / (1.0 + ds))[..., None, None] * (q[..., :, None] * q[..., None, :])
            rss = M[..., 0, 0] - _quad_inv(M[..., 1:, 1:], M[..., 1:, 0], self.k)
            # λ_min ≤ 0: Ω is not positive definite (in floating point); log gives NaN
            logdet = np.log(lam).sum(axis=-1) + np.log1p(ds)
            rss = np.where(rss > 0, rss, np.nan) + 0.0 * logdet
        return rss, logdet

    #: largest (series × ρ values × n_l) evaluated at once; beyond, series are taken in chunks
    CHUNK = 2_000_000

    def objective(self, R: np.ndarray, *, kind: str, scaled: bool = True) -> np.ndarray:
        """−log-likelihood (``kind = "maxlog"``) or RSS (``"minrss"``), (S, P); NaN where Ω is
        not positive definite in floating point."""
        S, P = R.shape
        step = max(1, self.CHUNK // (P * self.n_l))
        if S > step:
            K = self.K
            out = []
            try:
                for i in range(0, S, step):
                    self.K = K[i:i + step]
                    out.append(self.objective(R[i:i + step], kind=kind, scaled=scaled))
            finally:
                self.K = K
            return np.concatenate(out)
        rss, logdet = self.evaluate(R, scaled=scaled)
        if kind != "maxlog":
            return rss
        m = self.n_l
        return m / 2 + m * np.log(2 * np.pi) / 2 + m * np.log(rss / m) / 2 + logdet / 2


def _mgs(A: np.ndarray) -> np.ndarray:
    """Modified Gram-Schmidt along the last axis of a stack (S, n, r): each column made
    orthogonal to the previous ones and, except the last, of unit norm (the last column is
    the residual of its projection on the others)."""
    A = A.copy()
    r = A.shape[-1]
    for j in range(r - 1):
        q = A[..., j] / np.sqrt((A[..., j] * A[..., j]).sum(axis=-1, keepdims=True))
        A[..., j] = q
        A[..., j + 1:] -= q[..., None] * (q[..., None, :] @ A[..., j + 1:])
    return A


def _quad_inv(A: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """b'·A⁻¹·b for stacks of small symmetric A (…, k, k) and b (…, k)."""
    if k == 1:
        return b[..., 0] ** 2 / A[..., 0, 0]
    if k == 2:
        a11, a12, a22 = A[..., 0, 0], A[..., 0, 1], A[..., 1, 1]
        b1, b2 = b[..., 0], b[..., 1]
        return (a22 * b1 * b1 - 2.0 * a12 * b1 * b2 + a11 * b2 * b2) / (a11 * a22 - a12 * a12)
    return (b[..., None, :] @ np.linalg.solve(A, b[..., None]))[..., 0, 0]


def ar1_whitener(rho: float, n_l: int, w: np.ndarray) -> tuple[np.ndarray, float]:
    """(W, log|Ω|) for Ω = C·Q·C' of AR(1) errors: W (n_l × n_l) with W'·W = Ω⁻¹, from the
    spectral form above: W = (I − κ·ŵŵ')·Λ^{-1/2}·V'·H, ŵ = Λ^{-1/2}v/√s, κ = 1 − 1/√(1 + δs)."""
    V, cos = dst_basis(n_l)
    a, e, d, phi = (float(z) for z in _ar1_tridiag(np.array(rho, dtype=float), w, True))
    isl = 1.0 / np.sqrt(a + 2.0 * e * cos)
    VH = V.copy()
    VH[:, :-1] -= phi * V[:, 1:]                                          # V'·H
    W = isl[:, None] * VH
    wv = isl * V[0]
    s = float(wv @ wv)
    kappa = 1.0 - 1.0 / np.sqrt(1.0 + d * s)
    W -= (kappa / s) * np.outer(wv, wv @ W)
    return W, -2.0 * float(np.log(isl).sum()) + float(np.log1p(d * s))


def ar1_cov_apply(v: np.ndarray, rho: float) -> np.ndarray:
    """Σ·v for Σ = ρ^|i−j|/(1−ρ²) (``v`` 1-d): forward and backward first-order recursions."""
    if rho == 0.0:
        return v.copy()
    f = lfilter([1.0], [1.0, -rho], v)
    b = lfilter([1.0], [1.0, -rho], v[::-1])[::-1]
    return (f + b - v) / (1.0 - rho * rho)


def rw_plan(rho: float, n_l: int, w: np.ndarray, *, offset: int, n: int):
    """(W, log|Ω|, P) for the random-walk models (Fernández: ρ = 0; Litterman), one series:
    W'·W = Ω⁻¹ (W = L⁻¹, L the Cholesky factor of Ω = C·Σ·C') and P = Σ·C'·Ω⁻¹ (n × n_l),
    so that the distribution is P·u_l. Cached for Fernández, where it depends only on the
    shape of the problem."""
    def make():
        Ct = conversion_matrix(n_l, w, offset=offset, n=n).T[None]
        Gt = cov_t_apply(Ct, "rw-ar1", rho)                   # A'·C'
        Om = Gt[0].T @ Gt[0]
        L = cholesky(Om, lower=True, check_finite=False)
        W = solve_triangular(L, np.eye(n_l), lower=True, check_finite=False)
        P = cov_apply(Gt, "rw-ar1", rho)[0] @ (W.T @ W)
        return W, 2.0 * float(np.log(np.diag(L)).sum()), P
    if rho == 0.0:
        return _cached(("rw", n_l, len(w), w.tobytes(), offset, n), make)
    return make()


def _gls_whitened(Z: np.ndarray, k: int, logdet: float) -> dict:
    """Every statistic of tempdisagg ``CalcGLS`` from whitened data Z = W·[y, X_l, 1] (any W
    with W'·W = Ω⁻¹: the statistics are invariant) and log|Ω|. Least squares by modified
    Gram-Schmidt on [Z_X, z_y] (the augmented form, backward stable); ``res`` is the whitened
    residual z_y − Z_X·β."""
    m = Z.shape[0]
    A = Z[:, 1:1 + k].copy()
    res = Z[:, 0].copy()
    ze = Z[:, 1 + k]
    R = [[0.0] * k for _ in range(k)]
    ry = [0.0] * k
    for j in range(k):
        c = A[:, j]
        nrm = math.sqrt(float(c @ c))
        q = c / nrm
        R[j][j] = nrm
        if j + 1 < k:
            r = q @ A[:, j + 1:]
            A[:, j + 1:] -= np.outer(q, r)
            R[j][j + 1:] = [float(v) for v in r]
        ry[j] = float(q @ res)
        res -= ry[j] * q
    beta = [0.0] * k
    Rinv = [[0.0] * k for _ in range(k)]
    for i in range(k - 1, -1, -1):          # back substitution: R·β = r_y and R·R⁻¹ = I
        beta[i] = (ry[i] - sum(R[i][j] * beta[j] for j in range(i + 1, k))) / R[i][i]
        Rinv[i][i] = 1.0 / R[i][i]
        for c in range(i + 1, k):
            Rinv[i][c] = -sum(R[i][j] * Rinv[j][c] for j in range(i + 1, c + 1)) / R[i][i]
    rss = float(res @ res)
    s_2, s_2_gls = rss / m, rss / (m - k)
    zy = Z[:, 0]
    ybar = float(ze @ zy) / float(ze @ ze)
    dev = zy - ybar * ze
    tss = float(dev @ dev)
    lr = math.log(s_2)
    se = [math.sqrt(s_2_gls * sum(v * v for v in row)) for row in Rinv]
    return {
        "coefficients": np.array(beta), "se": np.array(se), "rss": rss, "s_2": s_2, "s_2_gls": s_2_gls,
        "logl": -m / 2 - m * math.log(2 * math.pi) / 2 - m * lr / 2 - logdet / 2,
        "tss": tss, "r_squared": 1 - rss / tss, "adj_r_squared": 1 - (rss * (m - 1)) / (tss * (m - k)),
        "aic": lr + 2 * (k / m), "bic": lr + math.log(m) * (k / m), "rank": k, "df": m - k, "res": res,
    }


def gls_one(W: np.ndarray, logdet: float, y: np.ndarray, Xl: np.ndarray) -> dict:
    """:func:`_gls_whitened` for one series given a whitening matrix W (W'·W = Ω⁻¹) and
    log|Ω|; also Ω⁻¹·u_l = W'·(whitened residual)."""
    m, k = Xl.shape
    g = _gls_whitened(W @ np.column_stack([y, Xl, np.ones(m)]), k, logdet)
    g["omega_inv_u"] = W.T @ g.pop("res")
    return g


def ar1_gls(rho: float, y: np.ndarray, Xl: np.ndarray, w: np.ndarray) -> dict:
    """:func:`gls_one` for Chow-Lin (Ω = C·Q·C', AR(1) errors) with the whitening of
    :func:`ar1_whitener` applied without forming it: Z = (I − κŵŵ')·Λ^{-1/2}·V'·H·B."""
    n_l, k = Xl.shape
    V, cos = dst_basis(n_l)
    a, e, d, phi = (float(z) for z in _ar1_tridiag(np.array(rho, dtype=float), w, True))
    lam = a + 2.0 * e * cos
    isl = 1.0 / np.sqrt(lam)
    B = np.column_stack([y, Xl, np.ones(n_l)])
    HB = B.copy()
    HB[1:] -= phi * B[:-1]
    Z = isl[:, None] * (V @ HB)
    wv = isl * V[0]
    s = float(wv @ wv)
    kap = (1.0 - 1.0 / math.sqrt(1.0 + d * s)) / s
    Z -= kap * np.outer(wv, wv @ Z)
    g = _gls_whitened(Z, k, float(np.log(lam).sum()) + math.log1p(d * s))
    res = g.pop("res")
    t = V @ (isl * (res - (kap * float(wv @ res)) * wv))                    # V·Λ^{-1/2}·(I − κŵŵ')·res
    t[:-1] -= phi * t[1:]                                                  # H'·t
    g["omega_inv_u"] = t
    return g


# --- the ρ search -------------------------------------------------------------------------------

def _vertex(a, x, b, fa, fx, fb):
    """Abscissa of the parabola through (a, fa), (x, fx), (b, fb); NaN where degenerate."""
    p = (x - a) ** 2 * (fx - fb) - (x - b) ** 2 * (fx - fa)
    q = (x - a) * (fx - fb) - (x - b) * (fx - fa)
    with np.errstate(invalid="ignore", divide="ignore"):
        return x - 0.5 * p / q


#: objective values closer than this (relative) are equal for the ρ search: the round-off of
#: the objective itself, in R as here. Among equal values the ρ closest to 0 is taken (on the
#: grid), and a minimum at an end of a bracket is kept.
TIE = 1e-12
#: fractions of the bracket, towards its end, tried when the best point is at an end
_EDGE = np.array([0.5, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10])


def refine_min(obj, a, x, b, fa, fx, fb, *, xtol: float = 1e-10, ftol: float = 1e-14,
               max_rounds: int = 40):
    """Shrink brackets a ≤ x ≤ b (f(x) ≤ f(a), f(b); one per row) around a minimum; every
    round evaluates 8 points per row, all rows in one call of ``obj`` ((rows, 8) array of ρ):

    * x inside the bracket: the vertex v of the parabola through (a, x, b) with two close
      neighbours v ± dv, and 5 equally spaced points (so that the bracket shrinks at least
      threefold even where the parabola is off);
    * x at an end of the bracket (a minimum at the end of the search interval, or a bracket
      not yet resolved): points at geometrically decreasing distances from x, so that a
      minimum at the end is confirmed in one round.

    The new bracket is the best point evaluated so far and its nearest neighbours. A row stops
    when its bracket is narrower than ``xtol`` or the objective is flat across it (relative
    differences below ``ftol``: the objective's own round-off). Returns (x, f(x)); f(x) is never
    above any value evaluated inside the bracket."""
    if a.shape[0] == 1:
        xo, fo = _refine_one(obj, float(a[0]), float(x[0]), float(b[0]), float(fa[0]), float(fx[0]),
                             float(fb[0]), xtol=xtol, ftol=ftol, max_rounds=max_rounds)
        return np.array([xo]), np.array([fo])
    u = np.arange(1, 6) / 6.0
    fx_prev = fx
    for _ in range(max_rounds):
        width = b - a
        flat = np.maximum(fa, fb) - fx <= ftol * np.maximum(1.0, np.abs(fx))
        if not ((width > xtol) & ~flat).any():
            break
        at_a, at_b = x <= a, x >= b
        edge = at_a | at_b
        v = _vertex(a, x, b, fa, fx, fb)
        ok = np.isfinite(v) & (v > a) & (v < b)
        v = np.where(ok, v, np.where(x - a > b - x, (a + x) / 2, (x + b) / 2))
        dv = np.maximum(np.minimum(np.abs(v - x), width) * 0.1, xtol * 0.25)
        inner = np.concatenate([a[:, None] + width[:, None] * u,
                                np.stack([v - dv, v, v + dv], axis=1)], axis=1)
        toward = np.where(at_a, 1.0, -1.0)[:, None] * width[:, None] * _EDGE
        pts = np.where(edge[:, None], x[:, None] + toward, inner)
        pts = np.clip(pts, a[:, None], b[:, None])
        fp = obj(pts)
        fp = np.where(np.isnan(fp), np.inf, fp)
        xs = np.concatenate([np.stack([a, x, b], axis=1), pts], axis=1)
        fs = np.concatenate([np.stack([fa, fx, fb], axis=1), fp], axis=1)
        order = np.argsort(xs, axis=1, kind="stable")
        xs = np.take_along_axis(xs, order, axis=1)
        fs = np.take_along_axis(fs, order, axis=1)
        j = np.argmin(fs, axis=1)
        r = np.arange(xs.shape[0])
        xj = xs[r, j][:, None]
        # neighbours: the nearest evaluated points strictly below and above x (points repeat)
        ja = np.maximum((xs < xj).sum(axis=1) - 1, 0)
        jb = np.minimum((xs <= xj).sum(axis=1), xs.shape[1] - 1)
        # a minimum at an end of the bracket stays there unless beaten by more than round-off
        keep = edge & (fs[r, j] >= fx - TIE * np.maximum(1.0, np.abs(fx)))
        x0 = x
        a, x, b = xs[r, ja], xs[r, j], xs[r, jb]
        fa, fx, fb = fs[r, ja], fs[r, j], fs[r, jb]
        if keep.any():
            x = np.where(keep, x0, x)
            fx = np.where(keep, fx_prev, fx)
            a = np.where(keep, x0, a)
            b = np.where(keep, x0, b)
        fx_prev = fx
    return x, fx


def _refine_one(obj, a, x, b, fa, fx, fb, *, xtol, ftol, max_rounds, xstep=2e-8):
    """:func:`refine_min` for one row, the bookkeeping in Python floats (same rounds, same
    points): for one series the array bookkeeping would cost more than the evaluations."""
    for _ in range(max_rounds):
        width = b - a
        if width <= xtol or max(fa, fb) - fx <= ftol * max(1.0, abs(fx)):
            break
        if x <= a or x >= b:
            sign = 1.0 if x <= a else -1.0
            pts = [x + sign * width * f for f in _EDGE_LIST]
        else:
            p = (x - a) ** 2 * (fx - fb) - (x - b) ** 2 * (fx - fa)
            q = (x - a) * (fx - fb) - (x - b) * (fx - fa)
            v = x - 0.5 * p / q if q != 0.0 else math.nan
            if a < v < b and width <= 1e-3 and abs(v - x) <= xstep * max(1.0, abs(x)):
                break             # the parabola puts the minimum at x: converged (as Brent's)
            if not (a < v < b):
                v = (a + x) / 2 if x - a > b - x else (x + b) / 2
            dv = max(min(abs(v - x), width) * 0.1, xtol * 0.25)
            pts = [a + width * f for f in _UNIFORM_LIST] + [v - dv, v, v + dv]
        pts = [min(max(t, a), b) for t in pts]
        fp = obj(np.array([pts]))[0]
        cand = sorted(zip([a, x, b] + pts, [fa, fx, fb] + [math.inf if math.isnan(f) else float(f) for f in fp]))
        j = min(range(len(cand)), key=lambda i: cand[i][1])
        if (x <= a or x >= b) and cand[j][1] >= fx - TIE * max(1.0, abs(fx)):
            break     # a minimum at an end of the bracket, not beaten by more than round-off
        xj = cand[j][0]
        lo_ = [c for c in cand if c[0] < xj]
        hi_ = [c for c in cand if c[0] > xj]
        a, fa = lo_[-1] if lo_ else cand[j]
        b, fb = hi_[0] if hi_ else cand[j]
        x, fx = cand[j]
    return x, fx


_EDGE_LIST = [float(f) for f in _EDGE]
_UNIFORM_LIST = [i / 6.0 for i in range(1, 6)]


def rho_search(obj, S: int, lo: float, hi: float, truncated_rho: float, *, even: bool = False,
               n_grid: int = 41, xtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """ρ minimising ``obj`` (an (S, P) array of ρ → (S, P) objective values) on [lo, hi], then
    truncated at ``truncated_rho`` as tempdisagg ``SubRegressionBased`` does — with two rules R
    does not have (see docs/temporal.md, "ρ on symmetric objectives"):

    * ``even``: the objective is even in ρ (Chow-Lin, conversion first/last, even frequency
      ratio): ρ and −ρ fit equally well, and the non-negative twin is taken, *before*
      truncation (the search runs on [0, hi]);
    * the returned ρ is never worse, by the objective, than an admissible ρ (≥ truncated_rho)
      the search evaluated: when the unconstrained minimum lies below ``truncated_rho`` but an
      admissible ρ evaluated on the grid does better than ``truncated_rho`` itself, the best
      admissible ρ is refined and returned instead of ``truncated_rho``.

    Returns (ρ, truncated), each (S,); ``truncated`` is True where ρ was set to
    ``truncated_rho``. The grid (one batched evaluation) locates the global minimum; brackets
    are then refined by :func:`refine_min`."""
    left = max(lo, 0.0) if even else lo
    grid = np.linspace(left, hi, n_grid)
    if left < truncated_rho < hi:
        grid = np.unique(np.append(grid, truncated_rho))
    G = grid.size
    F = obj(np.broadcast_to(grid, (S, G)))
    F = np.where(np.isnan(F), np.inf, F)
    r = np.arange(S)

    def bracket(j):
        ja, jb = np.maximum(j - 1, 0), np.minimum(j + 1, G - 1)
        return grid[ja], grid[j], grid[jb], F[r, ja], F[r, j], F[r, jb]

    fmin = F.min(axis=1, keepdims=True)
    ties = F <= fmin + TIE * np.maximum(1.0, np.abs(fmin))
    j = np.argmin(np.where(ties, np.abs(grid), np.inf), axis=1)     # equal values: ρ closest to 0
    if S == 1 and grid[min(int(j[0]) + 1, G - 1)] < truncated_rho:
        # the bracket of the minimum lies below truncated_rho: so does the minimum, which is
        # truncated whatever its exact value (no refinement needed)
        rho = grid[j]
    else:
        rho = refine_min(obj, *bracket(j), xtol=xtol)[0]
    below = rho < truncated_rho
    if not below.any():
        return rho, below
    admissible = grid >= truncated_rho
    out = np.where(below, truncated_rho, rho)
    truncated = below.copy()
    if admissible.any():
        Fa = np.where(admissible, F, np.inf)
        fa_min = Fa.min(axis=1, keepdims=True)
        ja = np.argmax(Fa <= fa_min + TIE * np.maximum(1.0, np.abs(fa_min)), axis=1)  # ties: nearest t
        at_t = grid[ja] <= truncated_rho
        todo = below & ~at_t
        if todo.any():
            # the best admissible grid point beats truncated_rho: refine it within [t, hi]
            jl = np.maximum(ja - 1, 0)
            a = np.where(todo, np.maximum(grid[jl], truncated_rho), grid[ja])
            fa = np.where(todo, F[r, jl], F[r, ja])
            b, x = grid[np.minimum(ja + 1, G - 1)], grid[ja]
            fb, fx = F[r, np.minimum(ja + 1, G - 1)], F[r, ja]
            ra, fra = refine_min(obj, a, x, b, fa, fx, fb, xtol=xtol)
            t_idx = int(np.searchsorted(grid, truncated_rho))
            f_t = F[r, min(t_idx, G - 1)] if grid[min(t_idx, G - 1)] == truncated_rho else np.full(S, np.inf)
            better = todo & (fra < f_t - TIE * np.maximum(1.0, np.abs(f_t))) & (ra > truncated_rho)
            out = np.where(better, ra, out)
            truncated = truncated & ~better
    return out, truncated
