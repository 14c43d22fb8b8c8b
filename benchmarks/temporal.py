"""Benchmark of temporal disaggregation (kinhteso.methods.temporal) — a plain script, not a test.

1. swisspharma (36 annual values → 144 quarters, indicator exports.q 1975Q1–2010Q4): 300 fits
   each of chow-lin-maxlog, fernandez and denton-cholette with ``td()``, one call per fit.
2. a batch of 1,700 synthetic series (34 provinces × 50 series, 20 years → 80 quarters) with
   ``td_batch()`` in one call per method, and with ``td()`` in a loop.

Each figure is compared with a *baseline measured in the same run*: a straightforward numpy
port of R tempdisagg's code path (Σ built as an n×n matrix, C·Σ·C' by matrix products at
every likelihood evaluation, ρ by Brent's method as R's ``optimize``; Denton-Cholette by the
dense (n + n_l) KKT solve). The external reference is R tempdisagg 1.1.1 on this machine
class (issue 5): medians of 39 ms (chow-lin-maxlog), 12 ms (fernandez) and 15 ms
(denton-cholette) per fit, 300 fits in one R process.

Run: ``.venv/bin/python benchmarks/temporal.py`` (needs ../shared/reference/tempdisagg for
part 1; part 2 is synthetic).
"""

from __future__ import annotations

import os

# Small matrices (36×36, 20×20): BLAS threads only add overhead, and on a shared 2-core
# machine they make every call wait for a busy core. One thread per process, set before numpy
# loads OpenBLAS (an explicit OPENBLAS_NUM_THREADS in the environment wins).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402

from kinhteso.methods.temporal import td, td_batch  # noqa: E402

R_MEDIAN_MS = {"chow-lin-maxlog": 39.0, "fernandez": 12.0, "denton-cholette": 15.0}
METHODS = list(R_MEDIAN_MS)
SHARED = Path(os.environ.get("KINHTESO_SHARED", Path(__file__).resolve().parents[2] / "shared"))


# --- baseline: a direct port of tempdisagg's dense computation --------------------------------

def _C(n_l: int, fr: int, n: int, offset: int) -> np.ndarray:
    C = np.zeros((n_l, n))
    for i in range(n_l):
        C[i, offset + i * fr: offset + (i + 1) * fr] = 1.0
    return C


def _gls(y, Xl, Om):
    L = np.linalg.cholesky(Om)
    Z = np.linalg.solve(L, np.column_stack([y, Xl]))
    beta = np.linalg.lstsq(Z[:, 1:], Z[:, 0], rcond=None)[0]
    r = Z[:, 0] - Z[:, 1:] @ beta
    rss = r @ r
    m = y.size
    logl = -m / 2 - m * np.log(2 * np.pi) / 2 - m * np.log(rss / m) / 2 - np.log(np.diag(L)).sum()
    return beta, rss, logl


def baseline(y: np.ndarray, x: np.ndarray, method: str) -> np.ndarray:
    n_l, n = y.size, x.size
    fr = n // n_l
    C = _C(n_l, fr, n, 0)
    if method == "denton-cholette":           # h = 1, proportional, dense KKT (SubDenton)
        D = np.eye(n) - np.eye(n, k=-1)
        D1 = (D @ np.diag(1 / (x / x.mean())))[1:]
        A = D1.T @ D1
        K = np.block([[A, C.T], [C, np.zeros((n_l, n_l))]])
        return np.linalg.solve(K, np.concatenate([A @ x, y]))[:n]
    X = np.column_stack([np.ones(n), x])
    Xl = C @ X
    if method == "fernandez":
        D = np.eye(n) - np.eye(n, k=-1)
        Q = np.linalg.inv(D.T @ D)
    else:
        pm = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])

        def objective(rho):
            Q = rho ** pm / (1 - rho ** 2)
            return -_gls(y, Xl, C @ Q @ C.T)[2]

        rho = minimize_scalar(objective, bounds=(-0.999, 0.999), method="bounded",
                              options={"xatol": 1e-10}).x
        rho = max(rho, 0.0)
        Q = rho ** pm / (1 - rho ** 2)
    Om = C @ Q @ C.T
    beta = _gls(y, Xl, Om)[0]
    p = X @ beta
    return p + Q @ C.T @ np.linalg.solve(Om, y - C @ p)


# --- timing helpers ------------------------------------------------------------------------

def _per_fit_ms(fn, reps: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), times


def swisspharma() -> None:
    ref = SHARED / "reference" / "tempdisagg"
    if not ref.exists():
        print(f"(swisspharma skipped: {ref} not found)")
        return
    y = pd.read_csv(ref / "input_sales_a.csv")["sales_a"].to_numpy(float)
    q = pd.read_csv(ref / "input_exports_imports_q.csv")
    x = q.loc[(q["year"] >= 1975) & (q["year"] <= 2010), "exports_q"].to_numpy(float)
    print("1) swisspharma: 36 years -> 144 quarters, 300 fits per method, td() one call per fit")
    print(f"   {'method':18s} {'median ms':>10s} {'mean ms':>9s} {'fits/s':>8s} {'baseline ms':>12s}"
          f" {'x baseline':>11s} {'R ms':>6s} {'x R':>6s}")
    for method in METHODS:
        kw = {"method": method} if method != "denton-cholette" else {"method": method, "intercept": False}
        ours = td(y, x, **kw).series
        base = baseline(y, x, method)
        agree = np.max(np.abs(ours - base) / np.abs(base))
        td(y, x, **kw)
        med, times = _per_fit_ms(lambda: td(y, x, **kw), 300)
        reps = 20 if method == "chow-lin-maxlog" else 100
        bmed, _ = _per_fit_ms(lambda: baseline(y, x, method), reps)
        mean = statistics.fmean(times)
        print(f"   {method:18s} {med:10.3f} {mean:9.3f} {1e3 / mean:8.0f} {bmed:12.2f}"
              f" {bmed / med:10.1f}x {R_MEDIAN_MS[method]:6.0f} {R_MEDIAN_MS[method] / med:5.1f}x"
              f"   (agrees with baseline to {agree:.0e})")


def batch() -> None:
    rng = np.random.default_rng(2026)
    S, n_l, fr = 34 * 50, 20, 4
    n = n_l * fr
    X = 100 * np.exp(np.cumsum(rng.normal(0.01, 0.03, (S, n)), axis=1))
    err = np.cumsum(rng.normal(0, 0.5, (S, n)), axis=1)
    Y = (3 + 0.5 * X + err).reshape(S, n_l, fr).sum(axis=2)
    print(f"2) batch: {S} series (34 provinces x 50), {n_l} years -> {n} quarters")
    print(f"   {'method':18s} {'td_batch s':>10s} {'ms/fit':>7s} {'fits/s':>8s} {'td() loop ms/fit':>17s}"
          f" {'baseline ms/fit':>16s} {'x baseline':>11s} {'x R':>6s}")
    sub = 60
    for method in METHODS:
        kw = {"method": method} if method != "denton-cholette" else {"method": method, "intercept": False}
        t = time.perf_counter()
        res = td_batch(Y, X, **kw)
        dt = time.perf_counter() - t
        ms = dt / S * 1e3
        t = time.perf_counter()
        loop = [td(Y[i], X[i], **kw).series for i in range(sub)]
        loop_ms = (time.perf_counter() - t) / sub * 1e3
        worst = max(np.max(np.abs(res.series[i] - loop[i]) / np.abs(loop[i])) for i in range(sub))
        reps = 10 if method == "chow-lin-maxlog" else sub
        t = time.perf_counter()
        for i in range(reps):
            baseline(Y[i], X[i], method)
        base_ms = (time.perf_counter() - t) / reps * 1e3
        print(f"   {method:18s} {dt:10.3f} {ms:7.3f} {S / dt:8.0f} {loop_ms:17.3f} {base_ms:16.2f}"
              f" {base_ms / ms:10.1f}x {R_MEDIAN_MS[method] / ms:5.0f}x   (batch = loop to {worst:.0e})")


def main() -> int:
    print(f"kinhteso temporal benchmark: os.cpu_count() = {os.cpu_count()}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("external reference: R tempdisagg 1.1.1 medians 39 ms (chow-lin-maxlog), 12 ms (fernandez), "
          "15 ms (denton-cholette) per fit; target <= 2 / 0.6 / 0.75 ms (20x R)")
    swisspharma()
    batch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
