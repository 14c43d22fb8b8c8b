"""Benchmark: e-invoice records (Parquet, by month) → the monthly aggregate (issue 17, "Performance").

Targets: within 1.3× of hand-written DuckDB SQL on the same files, peak memory under 8 GB (DuckDB's
``memory_limit`` set so that it spills), the incremental update of the last month under 10 % of the
full run; the Spark engine's time printed.

Each side runs in a process of its own (its peak RSS, DuckDB's memory included, is the child's
``ru_maxrss`` from ``os.wait4``), on the same files, in the same run:

1. kinhteso: the service's ``aggregate`` on DuckDB (counts, quarantine file, cells, disclosure
   control, CSV written); ``memory_limit`` given to the service (``aggregate --memory-limit``);
2. hand-written DuckDB SQL doing the same work: the same rules (malformed, duplicates by id in file
   order, cancelled, replaced), the quarantine written, the counts, the cells with distinct sellers
   and the largest seller, then the same disclosure adapter and CSV; in two forms, three queries on
   the files and one classification materialised and read three times; the faster is the baseline,
   and its CSV, counts and quarantine size must equal kinhteso's before any ratio is printed;
3. the incremental update (:mod:`kinhteso.microdata.incremental`): the state built on every month
   but the last (timed apart), then the last month added, the CSV and quarantine written; checked
   equal to the full run;
4. ``--spark-records M``: the service's ``aggregate`` with ``engine="spark"`` (local mode) on M
   records, and kinhteso on DuckDB on the same M records.

The data are generated once (``kinhteso.microdata.generate``, illustrative) under ``--keep DIR``
(reused when the same ``--records`` and ``--seed`` were generated there) or a temporary folder.

    .venv/bin/python benchmarks/microdata.py --records 20000000 --keep /work/bench-microdata
    .venv/bin/python benchmarks/microdata.py --records 200000000 --keep DIR --spark-records 20000000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.3
TARGET_RSS_GB = 8.0
TARGET_INCREMENTAL = 0.10
MEMORY_LIMIT = "4GB"
PASS_COLS = ("invoice_id", "seller_tax_code", "seller_territory", "seller_vsic", "buyer_type", "channel",
             "issued_at", "amount_vnd", "status", "replaces")


# --------------------------------------------------------------------------- the hand-written SQL


def _sql_classified(keys: dict[str, str], divisions: list[str]) -> str:
    """Every record with its typed fields and reason (the typed columns the generator writes)."""
    def lit(xs):
        return ", ".join("'" + x.replace("'", "''") + "'" for x in xs)

    moved = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in sorted(keys.items()) if k != v)
    return f"""
WITH r AS (
    SELECT *, trim(invoice_id) AS _inv, trim(seller_tax_code) AS _seller, trim(seller_territory) AS _terr,
           trim(seller_vsic) AS vsic, trim(buyer_type) AS _buyer, trim(channel) AS _channel, trim(status) AS _status,
           trim(replaces) AS _replaces
    FROM read_parquet($files, hive_partitioning = true, hive_types_autocast = false, union_by_name = true,
                      filename = true, file_row_number = true)
), m AS (
    SELECT *, CASE
        WHEN NOT coalesce(length(_inv) > 0, false) THEN 'MISSING_ID'
        WHEN NOT coalesce(length(_seller) > 0, false) THEN 'MISSING_SELLER'
        WHEN NOT coalesce(_terr IN ({lit(keys)}), false) THEN 'UNKNOWN_TERRITORY'
        WHEN NOT coalesce(regexp_matches(vsic, '^[0-9]{{4}}$') AND substr(vsic, 1, 2) IN ({lit(divisions)}), false)
            THEN 'UNKNOWN_VSIC'
        WHEN NOT coalesce(_buyer IN ('B2B', 'B2C', 'B2G'), false) THEN 'BAD_BUYER_TYPE'
        WHEN NOT coalesce(_channel IN ('online', 'offline'), false) THEN 'BAD_CHANNEL'
        WHEN NOT coalesce(_status IN ('issued', 'cancelled', 'replaced'), false) THEN 'BAD_STATUS'
        WHEN amount_vnd IS NULL THEN 'BAD_AMOUNT'
        WHEN amount_vnd < 0 THEN 'NEGATIVE_AMOUNT'
        WHEN issued_at IS NULL THEN 'BAD_TIME'
    END AS _malformed
    FROM r
), d AS (
    SELECT *, CASE WHEN _malformed IS NULL AND row_number() OVER (PARTITION BY _inv, _malformed IS NULL
                                                                  ORDER BY filename, file_row_number) > 1
                   THEN 'DUPLICATE_INVOICE' ELSE _malformed END AS _early
    FROM m
)
SELECT *, coalesce(_early, CASE WHEN _status = 'cancelled' THEN 'CANCELLED'
                                WHEN _status = 'replaced' OR _inv IN (SELECT _replaces FROM d WHERE _early IS NULL
                                                                      AND length(_replaces) > 0) THEN 'REPLACED' END)
          AS reason,
       CASE _terr {moved} ELSE _terr END AS territory,
       strftime(CAST(issued_at AS TIMESTAMP) + INTERVAL 7 HOUR, '%Y-%m') AS period
FROM d
"""


def _sql_outputs(src: str) -> tuple[str, str, str]:
    """(counts, quarantine, cells) queries over ``src`` (the classified records)."""
    counts = f"SELECT reason, count(*) AS records FROM ({src}) GROUP BY reason"
    quarantine = (f"SELECT reason, {', '.join(PASS_COLS)}, month, replace(filename, $base, '') AS source_file, "
                  f"file_row_number AS source_row FROM ({src}) WHERE reason IS NOT NULL")
    cells = f"""
WITH s AS (SELECT territory, vsic, period, _channel AS channel, _buyer AS buyer_type, _seller, sum(amount_vnd) AS v,
                  count(*) AS n
           FROM ({src}) WHERE reason IS NULL GROUP BY ALL)
SELECT territory, vsic, period, channel, buyer_type, sum(v)::BIGINT AS value_vnd, sum(n)::BIGINT AS invoices,
       count(*) AS sellers, max(v)::BIGINT AS top1_vnd
FROM s GROUP BY ALL ORDER BY territory, vsic, period, channel, buyer_type"""
    return counts, quarantine, cells


def _settings() -> tuple[dict[str, str], list[str]]:
    from kinhteso.microdata.engine import reference_codes

    return reference_codes()


def _files(data: Path) -> list[Path]:
    return sorted(p for p in data.rglob("*.parquet") if p.is_file() and not p.name.startswith((".", "_")))


def _publish(cells, counts, out: Path) -> dict:
    from kinhteso.microdata import publish
    from kinhteso.safe_io import csv_text

    out.write_text(csv_text(publish.publish_frame(publish.apply_disclosure_control(cells))), encoding="utf-8")
    return {(r if isinstance(r, str) else "kept"): int(n) for r, n in zip(counts["reason"], counts["records"])}


# --------------------------------------------------------------------------- the sides (child processes)


def side_kinhteso(data: Path, work: Path, limit: str, engine_name: str = "duckdb") -> dict:
    from kinhteso.service.microdata import AggregateRequest, aggregate

    t0 = time.perf_counter()
    res = aggregate(AggregateRequest(input=data, out=work / "cells.csv", engine=engine_name,
                                     memory_limit=limit if engine_name == "duckdb" else None))
    seconds = time.perf_counter() - t0
    import pyarrow.parquet as pq

    return {"seconds": seconds, "counts": {**res.set_aside, "kept": res.kept}, "csv": str(res.out),
            "quarantine": pq.read_metadata(res.quarantine).num_rows}


def side_sql(data: Path, work: Path, limit: str, mode: str) -> dict:
    import duckdb

    keys, divisions = _settings()
    t0 = time.perf_counter()
    con = duckdb.connect(config={"memory_limit": limit, "temp_directory": str(work / "spill")})
    con.execute("SET TimeZone = 'UTC'")
    params = {"files": [str(p) for p in _files(data)], "base": str(data) + "/"}
    classified = _sql_classified(keys, divisions)
    if mode == "materialised":
        con.execute(f"CREATE TEMP TABLE c AS {classified}", {"files": params["files"]})
        counts_q, quarantine_q, cells_q = _sql_outputs("SELECT * FROM c")
    else:
        counts_q, quarantine_q, cells_q = _sql_outputs(classified)

    def bind(q):
        return {k: v for k, v in params.items() if f"${k}" in q}

    counts = con.execute(counts_q, bind(counts_q)).df()
    q = work / "quarantine.parquet"
    con.execute(f"COPY ({quarantine_q}) TO '{q}' (FORMAT parquet)", bind(quarantine_q))
    cells = con.execute(cells_q, bind(cells_q)).df()
    con.close()
    out = _publish(cells, counts, work / "cells.csv")
    import pyarrow.parquet as pq

    return {"seconds": time.perf_counter() - t0, "counts": out, "csv": str(work / "cells.csv"),
            "quarantine": pq.read_metadata(q).num_rows}


def _last_months(data: Path) -> list[str]:
    """The month added by the update: the last full month (and the few spill-over rows after it)."""
    import pyarrow.parquet as pq

    from kinhteso.microdata.incremental import months_of

    by = months_of(_files(data))
    rows = {m: sum(pq.read_metadata(f).num_rows for f in fs) for m, fs in by.items()}
    total = sum(rows.values())
    months = sorted(by)
    last = max(m for m in months if rows[m] >= 0.02 * total)
    return [m for m in months if m >= last]


def side_incremental(data: Path, work: Path, limit: str, phase: str) -> dict:
    from kinhteso.microdata import engine, incremental

    keys, divisions = _settings()
    by = incremental.months_of(_files(data))
    if phase == "state":
        new = set(_last_months(data))
        by = {m: fs for m, fs in by.items() if m not in new}
    t0 = time.perf_counter()
    con = engine.connect_duckdb(temp_directory=str(work / "spill"), memory_limit=limit)
    up = incremental.update(con, by, work / "state", territories=keys, divisions=divisions, base=str(data.resolve()))
    q = work / f"{phase}.quarantine.parquet"
    incremental.write_quarantine(con, up.quarantine, q)
    con.disconnect()
    out = _publish(up.cells, up.counts, work / f"{phase}.csv")
    import pyarrow.parquet as pq

    return {"seconds": time.perf_counter() - t0, "counts": out, "csv": str(work / f"{phase}.csv"),
            "quarantine": pq.read_metadata(q).num_rows, "recomputed": up.recomputed}


def side_generate(data: Path, records: int, seed: int) -> dict:
    from kinhteso.service.microdata import GenerateRequest, generate

    t0 = time.perf_counter()
    res = generate(GenerateRequest(records=records, seed=seed, out=data))
    return {"seconds": time.perf_counter() - t0, "rows": res.rows}


# --------------------------------------------------------------------------- the parent


def _child(args: list[str]) -> tuple[dict, float, float]:
    """Run one side in a child process: (its answer, wall seconds, peak RSS in GB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"side {args[0]} failed (exit {os.waitstatus_to_exitcode(status)})")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024 / 1024


def _dataset(keep: Path, records: int, seed: int) -> tuple[Path, float | None, int]:
    from kinhteso.microdata.generate import is_generated

    data = keep / f"records-{records}-seed-{seed}"
    readme = data / "_README.txt"
    if is_generated(data) and f"records (invoices drawn) = {records}; seed = {seed};" in readme.read_text("utf-8"):
        return data, None, sum(_rows(f) for f in _files(data))
    ans, _, _ = _child(["generate", str(data), str(records), str(seed)])
    return data, ans["seconds"], ans["rows"]


def _rows(f: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(f).num_rows


def _same(a: dict, b: dict, what: str) -> None:
    if Path(a["csv"]).read_bytes() != Path(b["csv"]).read_bytes():
        raise SystemExit(f"{what}: the cells differ from kinhteso's ({a['csv']} vs {b['csv']})")
    if a["counts"] != b["counts"] or a["quarantine"] != b["quarantine"]:
        raise SystemExit(f"{what}: counts or quarantine differ: {a['counts']} / {a['quarantine']} vs "
                         f"{b['counts']} / {b['quarantine']}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "generate":
            ans = side_generate(Path(rest[0]), int(rest[1]), int(rest[2]))
        elif kind == "kinhteso":
            ans = side_kinhteso(Path(rest[0]), Path(rest[1]), rest[2], rest[3])
        elif kind == "sql":
            ans = side_sql(Path(rest[0]), Path(rest[1]), rest[2], rest[3])
        else:
            ans = side_incremental(Path(rest[0]), Path(rest[1]), rest[2], rest[3])
        print(json.dumps(ans), flush=True)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--spark-records", type=int, default=0, help="also time the Spark engine on this many records")
    ap.add_argument("--keep", type=Path, default=None, help="folder keeping the generated data between runs")
    ap.add_argument("--memory-limit", default=MEMORY_LIMIT, help="DuckDB's memory_limit on every side")
    ap.add_argument("--sql", choices=["both", "three-pass", "materialised"], default="both")
    args = ap.parse_args()
    keep = args.keep or Path(tempfile.mkdtemp(prefix="kts-microdata-"))
    keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kts-microdata-work-", dir=keep))
    try:
        data, gen_s, rows = _dataset(keep, args.records, args.seed)
        size = sum(f.stat().st_size for f in _files(data)) / 1e9
        print(f"data: {rows:,} rows ({args.records:,} invoices drawn, seed {args.seed}), {len(_files(data))} files, "
              f"{size * 1000:.0f} MB; " + (f"generated in {gen_s:.0f} s (not timed)" if gen_s else "reused"), flush=True)
        print(f"DuckDB memory_limit = {args.memory_limit} on every side; {os.cpu_count()} cores", flush=True)

        print(f"\n{'side':58s} {'seconds':>8s} {'records/s':>11s} {'peak RSS GB':>12s}", flush=True)

        def line(name: str, seconds: float, rss: float, n: int | None = rows) -> None:
            rate = f"{n / seconds:11,.0f}" if n and not math.isnan(seconds) else f"{'':11s}"
            print(f"{name:58s} {seconds:8.1f} {rate} {rss:12.2f}", flush=True)

        kts, _, kts_rss = _child(["kinhteso", str(data), str(_dir(work, "kts")), args.memory_limit, "duckdb"])
        line("kinhteso aggregate (service, DuckDB)", kts["seconds"], kts_rss)
        sql = {}
        for mode in (["three-pass", "materialised"] if args.sql == "both" else [args.sql]):
            ans, _, rss = _child(["sql", str(data), str(_dir(work, f"sql-{mode}")), args.memory_limit, mode])
            _same(ans, kts, f"hand-written SQL ({mode})")
            sql[mode] = (ans, rss)
            line(f"hand-written DuckDB SQL ({mode})", ans["seconds"], rss)
        state, _, state_rss = _child(["incremental", str(data), str(_dir(work, "inc")), args.memory_limit, "state"])
        line(f"incremental: state built on {len(state['recomputed'])} months", state["seconds"], state_rss, None)
        inc, _, inc_rss = _child(["incremental", str(data), str(work / "inc"), args.memory_limit, "update"])
        _same(inc, kts, "incremental update")
        line(f"incremental: update with {', '.join(inc['recomputed'])}", inc["seconds"], inc_rss, None)
        if args.spark_records:
            sdata, _, srows = _dataset(keep, args.spark_records, args.seed)
            try:
                sp, _, sp_rss = _child(["kinhteso", str(sdata), str(_dir(work, "spark")), args.memory_limit, "spark"])
                dk, _, dk_rss = _child(["kinhteso", str(sdata), str(_dir(work, "spark-duckdb")), args.memory_limit,
                                        "duckdb"])
                _same(sp, dk, "Spark engine")
                line(f"Spark local mode ({srows:,} rows; RSS: driver, not the JVM)", sp["seconds"], sp_rss, srows)
                line(f"kinhteso DuckDB on the same {srows:,} rows", dk["seconds"], dk_rss, srows)
            except SystemExit as exc:
                print(f"Spark local mode: not run ({exc})", flush=True)

        base_mode = min(sql, key=lambda m: sql[m][0]["seconds"])
        base = sql[base_mode][0]["seconds"]
        ratio = kts["seconds"] / base
        print(f"\nratio kinhteso / hand-written SQL ({base_mode}): {ratio:.2f}× "
              f"({'meets' if ratio <= TARGET_RATIO else 'MISSES'} the ≤ {TARGET_RATIO}× target)")
        print(f"peak RSS: kinhteso {kts_rss:.2f} GB, SQL {max(r for _, r in sql.values()):.2f} GB "
              f"({'meets' if kts_rss < TARGET_RSS_GB else 'MISSES'} the < {TARGET_RSS_GB:g} GB target)")
        share = inc["seconds"] / kts["seconds"]
        print(f"incremental update / full run: {share:.1%} ({'meets' if share < TARGET_INCREMENTAL else 'MISSES'} "
              f"the < {TARGET_INCREMENTAL:.0%} target)")
        scale = 200_000_000 / rows
        print(f"linear estimate at 200 million rows: kinhteso ≈ {kts['seconds'] * scale / 60:.0f} min"
              + (f", generation ≈ {gen_s * scale / 60:.0f} min" if gen_s else ""))
        print("cells, counts and quarantine size equal on every side; the machine's other load is not controlled")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(keep, ignore_errors=True)


def _dir(work: Path, name: str) -> Path:
    (work / name).mkdir(parents=True, exist_ok=True)
    return work / name


if __name__ == "__main__":
    main()
