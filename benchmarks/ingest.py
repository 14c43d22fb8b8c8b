"""Ingestion benchmark: a 1,000,000-row long CSV, validated and stored, against DuckDB's own
``read_csv`` + ``INSERT`` of the same file measured in the same run.

Targets (2-core machine): ≥ 150,000 rows/s, peak memory < 1.5 GB, ≤ 3× DuckDB's raw time.
Each side runs in its own process so that its peak memory (ru_maxrss) is its own.

    .venv/bin/python benchmarks/ingest.py [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, csv_path, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if mode == "kinhteso":
    from kinhteso.ingest.load import ingest_file
    from kinhteso.workspace import Workspace
    ws = Workspace.init(work / "ws")
    indicators = ws.indicators()
    store = ws.store
    t0 = time.perf_counter()
    r = ingest_file(store, csv_path, source="bench", indicators=indicators, workdir=ws.tmp)
    elapsed = time.perf_counter() - t0
    n = r.n_rows
    ws.close()
else:
    import duckdb
    con = duckdb.connect(str(work / "raw.duckdb"))
    con.execute("CREATE TABLE observations (indicator VARCHAR, territory VARCHAR, basis VARCHAR, sector VARCHAR, "
                "period VARCHAR, value DOUBLE, unit VARCHAR)")
    t0 = time.perf_counter()
    con.execute("INSERT INTO observations SELECT * FROM read_csv(?, header = true)", [str(csv_path)])
    elapsed = time.perf_counter() - t0
    n = con.execute("SELECT count(*) FROM observations").fetchone()[0]
    con.close()
print(json.dumps({"seconds": elapsed, "rows": n, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_csv(path: Path, n_rows: int) -> int:
    """Distinct keys: monthly e-invoice revenue by VSIC division for several territories."""
    from kinhteso.reference import vsic

    divisions = [s.code for s in vsic.sectors() if s.level == "division"]
    # past periods only: actual (status A) values for a future period are refused (FUTURE_PERIOD)
    months = [f"{y}-{m:02d}" for y in range(1900, 2026) for m in range(1, 13)]
    places = [("VN", ""), ("01", "34"), ("24", "34"), ("31", "34"), ("79", "34"), ("48", "34"), ("04", "34"),
              ("08", "34"), ("11", "34")]
    i = 0
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["indicator", "territory", "basis", "sector", "period", "value", "unit"])
        for code, basis in places:
            for d in divisions:
                for per in months:
                    if i == n_rows:
                        return i
                    w.writerow(["EINVOICE_REVENUE", code, basis, d, per, f"{(i % 9973) * 1.25:.2f}", "VND_BN"])
                    i += 1
    return i


def run(mode: str, csv_path: Path) -> dict:
    with tempfile.TemporaryDirectory() as work:
        out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(csv_path), work],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.csv"
        t0 = time.perf_counter()
        n = write_csv(path, args.rows)
        print(f"generated {n:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s; "
              f"cores: {os.cpu_count()}")
        ours = [run("kinhteso", path) for _ in range(args.repeat)]
        raw = [run("duckdb", path) for _ in range(args.repeat)]
    best = min(ours, key=lambda r: r["seconds"])
    base = min(raw, key=lambda r: r["seconds"])
    rate = best["rows"] / best["seconds"]
    ratio = best["seconds"] / base["seconds"]
    print(f"kinhteso ingest (validate + store, one vintage): {best['seconds']:.2f} s, {rate:,.0f} rows/s, "
          f"peak {best['peak_mb']:.0f} MB  (best of {args.repeat})")
    print(f"DuckDB read_csv + INSERT (no validation):        {base['seconds']:.2f} s, "
          f"{base['rows'] / base['seconds']:,.0f} rows/s, peak {base['peak_mb']:.0f} MB")
    print(f"ratio kinhteso / DuckDB raw: {ratio:.2f}×")
    print(f"targets: ≥150,000 rows/s [{'met' if rate >= 150_000 else 'NOT met'}], "
          f"peak < 1,500 MB [{'met' if best['peak_mb'] < 1500 else 'NOT met'}], "
          f"≤ 3× DuckDB raw [{'met' if ratio <= 3 else 'NOT met'}]")


if __name__ == "__main__":
    main()
