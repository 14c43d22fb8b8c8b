"""Benchmark: uncertainty analysis of a composite index, fast path versus one pipeline per replication.

10,000 replications on COINr's ASEM framework (51 units, 49 indicators, 4 levels), varying every
weight at every level (±25%, uniform), the normalisation (min-max 1-100 or z-score mean 10 sd 2)
and the aggregation (arithmetic or geometric). Target: ≤ 50 µs per replication (COINr 1.1.14
takes a median 35 ms per replication on this machine class).

    .venv/bin/python benchmarks/composite.py

Reads the ASEM files from ../shared/reference/coinr (or $KINHTESO_SHARED/reference/coinr) at
run time; prints a message and exits 0 when they are absent.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kinhteso.methods import composite as C
from kinhteso.methods import uncertainty as UA

N_REP = 10_000
N_BASELINE = 100
REPEATS = 5
NORMS = [{"method": "minmax", "l_u": (1.0, 100.0)}, {"method": "zscore", "m_sd": (10.0, 2.0)}]
AGGS = ["arithmetic", "geometric"]


def main() -> int:
    shared = Path(os.environ.get("KINHTESO_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    coinr = shared / "reference" / "coinr"
    if not (coinr / "input_ASEM_iData.csv").exists():
        print(f"ASEM reference data not found at {coinr}: ../shared is absent, benchmark skipped.")
        return 0
    idata = pd.read_csv(coinr / "input_ASEM_iData.csv")
    imeta = pd.read_csv(coinr / "input_ASEM_iMeta.csv")
    coin = C.new_coin(idata, imeta)
    X = coin.data["Raw"]

    # --- fast path: normalised matrices once per choice, all replications aggregated at once ---
    # run 3 times (the machine is shared): report the best and the median end-to-end time
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        prob = UA.build_problem(X, coin.meta, weight_noise=0.25, normalise=NORMS, aggregate=AGGS,
                                pool_size=N_REP, seed=42)
        _, design = UA.sample_design(prob, n=N_REP - 1, method="random", seed=42)
        design = pd.concat([UA.nominal_design(prob), design], ignore_index=True)  # replication 0 = unperturbed
        t1 = time.perf_counter()
        scores = UA.evaluate(prob, design)
        t2 = time.perf_counter()
        ranks = UA.rank_matrix(scores)
        t3 = time.perf_counter()
        runs.append((t3 - t0, t1 - t0, t2 - t1, t3 - t2))
    runs.sort()
    best, med = runs[0], runs[len(runs) // 2]
    us_fast = best[0] / N_REP * 1e6
    us_med = med[0] / N_REP * 1e6

    # --- the unperturbed replication equals the plain index ---
    plain = C.aggregate(C.normalise(coin, dset="Raw", method="minmax", l_u=(1.0, 100.0)), method="arithmetic")
    err = float(np.max(np.abs(scores[0] - plain.data["Aggregated"]["Index"].to_numpy())))
    assert err <= 1e-12, f"unperturbed replication differs from the plain index by {err:.3g}"
    assert np.array_equal(ranks[0], C.rank_scores(plain.data["Aggregated"]["Index"]).to_numpy())

    # --- baseline: one pipeline (normalise + aggregate) per replication, same design ---
    b0 = time.perf_counter()
    base = UA.evaluate_loop(prob, design.iloc[:N_BASELINE])
    b1 = time.perf_counter()
    us_loop = (b1 - b0) / N_BASELINE * 1e6
    diff = float(np.nanmax(np.abs(base - scores[:N_BASELINE])))

    print("composite uncertainty benchmark (ASEM: 51 units, 49 indicators, 4 levels)")
    print(f"  cores (os.cpu_count)            : {os.cpu_count()}")
    print(f"  replications                    : {N_REP:,} (weights at every level ±25%, "
          f"normalise {len(NORMS)}, aggregate {len(AGGS)})")
    print(f"  set-up (normalised matrices, design): {best[1] * 1e3:8.1f} ms")
    print(f"  aggregation, all replications   : {best[2] * 1e3:8.1f} ms")
    print(f"  ranks, all replications         : {best[3] * 1e3:8.1f} ms")
    print(f"  fast path, end to end (best of {REPEATS}): {best[0] * 1e3:8.1f} ms = {us_fast:.1f} µs/replication "
          f"(target ≤ 50 µs: {'met' if us_fast <= 50 else 'NOT met'}); median {us_med:.1f} µs/replication")
    print(f"  loop baseline ({N_BASELINE} replications)  : {us_loop:,.0f} µs/replication")
    print(f"  speed-up vs loop baseline       : {us_loop / us_fast:,.0f}×")
    print(f"  fast vs loop, max |Δscore|      : {diff:.2e}")
    print(f"  unperturbed vs plain index      : {err:.2e} (≤ 1e-12)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
