"""Benchmark of the input-output engine: a 1,000 × 1,000 table.

Times kinhteso's ``analyse`` (coefficients A, Leontief inverse L by one LU factorisation,
output multipliers, three factors' effects and type-I multipliers, Rasmussen–Hirschman
linkages with the Ghosh forward measure from L) against a baseline written the usual way with
``numpy.linalg.inv`` (L = inv(I − A), G = inv(I − B) inverted separately, the same products),
in the same run. Both results are compared before timing. Target: under 3 s on 2 cores.

    .venv/bin/python benchmarks/io.py [n]
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from kinhteso.methods import io

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
REPEAT = 5


def make_table(n: int, seed: int = 20240101) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A random productive table: coefficient column sums in [0.3, 0.8], positive final demand."""
    rng = np.random.default_rng(seed)
    raw = rng.gamma(0.3, size=(n, n))
    A = raw / raw.sum(axis=0) * rng.uniform(0.3, 0.8, size=n)
    y = rng.uniform(10, 1000, size=n)
    x = np.linalg.solve(np.eye(n) - A, y)
    Z = A * x[None, :]
    factors = {name: x * rng.uniform(0.05, 0.6, size=n) for name in ("gva", "coe", "jobs")}
    return Z, x, factors


def baseline(Z: np.ndarray, x: np.ndarray, factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same results with numpy.linalg.inv, as they are often written."""
    n = len(x)
    A = Z / x[None, :]
    L = np.linalg.inv(np.eye(n) - A)
    out = {"L": L, "output_multiplier": L.sum(axis=0)}
    for name, total in factors.items():
        f = total / x
        e = f @ L
        out[f"{name}_effect"] = e
        out[f"{name}_multiplier"] = e / f
    B = Z / x[:, None]
    G = np.linalg.inv(np.eye(n) - B)
    back, fwd = L.sum(axis=0), G.sum(axis=1)
    out["backward"] = back / back.mean()
    out["forward"] = fwd / fwd.mean()
    return out


def best_of(fn, *args) -> tuple[float, object]:
    times, result = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> int:
    Z, x, factors = make_table(N)
    t_ours, ours = best_of(lambda: io.analyse(Z, x, factors=factors))
    t_base, base = best_of(baseline, Z, x, factors)
    np.testing.assert_allclose(ours.L.to_numpy(), base["L"], rtol=1e-8, atol=1e-12)
    m = ours.multipliers
    for col in ("output_multiplier", "gva_effect", "gva_multiplier", "jobs_multiplier"):
        np.testing.assert_allclose(m[col].to_numpy(), base[col], rtol=1e-8)
    np.testing.assert_allclose(ours.linkages["forward"].to_numpy(), base["forward"], rtol=1e-8)
    np.testing.assert_allclose(ours.linkages["backward"].to_numpy(), base["backward"], rtol=1e-8)
    print(f"input-output engine, {N} x {N} table, best of {REPEAT}")
    print(f"cpu_count: {os.cpu_count()}")
    print(f"kinhteso analyse (LU solve):  {t_ours:.3f} s")
    print(f"baseline numpy.linalg.inv:    {t_base:.3f} s")
    print(f"ratio baseline / kinhteso:    {t_base / t_ours:.2f}")
    target = 3.0
    print(f"target < {target:.1f} s: {'met' if t_ours < target else 'NOT met'}")
    return 0 if t_ours < target else 1


if __name__ == "__main__":
    sys.exit(main())
