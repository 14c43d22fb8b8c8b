"""Benchmark: a year of a large port's container events (about 10 million, DCSA CSV) → the quarterly
port indicators (target: under 30 s, within 2× a hand-written DuckDB query on the same file).

kinhteso's side is ``kinhteso ingest FILE --adapter dcsa-equipment-events`` through the service
(the file checked whole — every field typed, codes, offsets, UN/LOCODEs — duplicates and
out-of-order events set aside, the records stored as one vintage, the indicators computed and
stored as a run). The baseline, timed in the same run on the same file, is one hand-written DuckDB
query that reads the CSV and computes the quarterly median and 90th percentile of the import dwell
with the same pairing rule, checking and storing nothing. Both answers are compared.

    .venv/bin/python benchmarks/logistics.py [--events 10000000] [--seed 1]
    (the synthetic file of kinhteso.demo.logistics is written once, not timed)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 30.0
TARGET_RATIO = 2.0
EVENTS_PER_CONTAINER = 2.16  # what kinhteso.demo.logistics writes on average

BASELINE_SQL = """
WITH ev AS (
    SELECT DISTINCT UNLocationCode AS locode, equipmentReference AS equipment, equipmentEventTypeCode AS t,
           CAST(eventDateTime AS TIMESTAMPTZ) AS ts
    FROM read_csv(?, header = true, all_varchar = true)
    WHERE eventClassifierCode = 'ACT' AND equipmentEventTypeCode IN ('DISC', 'GTOT')
), seq AS (
    SELECT *, lag(t) OVER w AS pt, lag(ts) OVER w AS pts FROM ev
    WINDOW w AS (PARTITION BY locode, equipment ORDER BY ts, t)
)
SELECT strftime((ts AT TIME ZONE 'UTC') + INTERVAL 7 HOUR, '%Y') || '-Q' ||
           quarter((ts AT TIME ZONE 'UTC') + INTERVAL 7 HOUR)::VARCHAR AS period,
       quantile_cont(epoch(ts - pts) / 3600.0, 0.5) AS median_h,
       quantile_cont(epoch(ts - pts) / 3600.0, 0.9) AS p90_h, count(*) AS n
FROM seq WHERE t = 'GTOT' AND pt = 'DISC' GROUP BY 1 ORDER BY 1
"""


def main() -> None:
    import duckdb

    from kinhteso.demo.logistics import write_events
    from kinhteso.service.data import IngestRequest, ingest
    from kinhteso.service.figures import ResultsRequest, results
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kts-logistics-"))
    try:
        csv = tmp / "events.csv"
        t0 = time.perf_counter()
        n = write_events(csv, int(args.events / EVENTS_PER_CONTAINER), seed=args.seed)
        print(f"synthetic file: {n:,} events, {csv.stat().st_size / 1e6:.0f} MB (written in "
              f"{time.perf_counter() - t0:.0f} s, not timed)", flush=True)

        con = duckdb.connect()
        t0 = time.perf_counter()
        con.execute("SET TimeZone = 'UTC'")
        base = con.execute(BASELINE_SQL, [str(csv)]).df()
        t_base = time.perf_counter() - t0
        con.close()

        init(InitRequest(tmp / "ws"))
        with Workspace.open(tmp / "ws") as ws:
            t0 = time.perf_counter()
            [out] = ingest(ws, IngestRequest(files=(csv,), source="cang-hai-phong", adapter="dcsa-equipment-events",
                                             illustrative=True))
            t_kts = time.perf_counter() - t0
            if out.rejected is not None:
                raise SystemExit(f"refused: {out.rejected}")
            res = results(ws, ResultsRequest(indicator="PORT_IMPORT_DWELL_H", territory="34:31"))
        got = dict(zip(res["period"], res["value"]))
        worst = max(abs(got.get(p, float("nan")) - m) for p, m in zip(base["period"], base["median_h"]))
        print(f"{'side':44s} {'seconds':>8s}")
        print(f"{'kinhteso ingest --adapter (check, store, compute)':44s} {t_kts:8.1f}")
        print(f"{'baseline: one hand-written DuckDB query':44s} {t_base:8.1f}")
        print(f"ratio {t_kts / t_base:.2f}× (target ≤ {TARGET_RATIO:g}×); {t_kts:.1f} s "
              f"({'meets' if t_kts < TARGET_SECONDS else 'MISSES'} the {TARGET_SECONDS:.0f} s target); "
              f"largest difference in the quarterly medians: {worst:.2e} h")
        print(f"records stored: {out.result.n_rows:,}; set aside: {out.result.records['aside']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
