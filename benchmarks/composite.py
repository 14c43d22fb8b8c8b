"""Benchmark: kinhteso's composite pipeline and uncertainty analysis beside COINr's, in one run.

A plain script, not a test. On COINr's ASEM example (51 units, 49 indicators, 4 levels; the
copy in tests/oracle/composite/, written by scripts/oracle/composite_coinr.R) it times:

1. **build**: a full COINr-equivalent build in process — checks (``new_coin``), min-max
   normalisation, arithmetic aggregation, the ranks of every aggregate (COINr ``new_coin`` +
   ``Normalise`` + ``Aggregate`` + ``get_results(use = "ranks")``; kinhteso ``new_coin`` +
   ``normalise`` + ``aggregate`` + ``scores_long``). Median of 20 builds per round.
2. **uncertainty**: COINr's own N = 100 with its random design (``get_sensitivity``,
   ``SA_type = "UA"``: 100 replications) varying every weight ±25% (``get_noisy_weights``, all
   levels), the normalisation (min-max 1-100 / z-score 10, 2) and the aggregation (arithmetic /
   geometric); kinhteso ``uncertainty(n = 100, design = "random")`` with the same inputs, end to
   end from the raw dataset (normalisations, design, every replication, ranks, rank intervals).
   Time per replication.
3. **CLI against API** (kinhteso only): ``kinhteso uncertainty`` run in process after a first
   run (imports done: "once the process has started") against the Python API that does the
   same work from the same files (``service.composite.run_uncertainty``: read, check, analyse,
   return the tables), for the random design of 100 and the Sobol design of base 100 (500
   runs); the methods call on a coin already built is printed too.

R and kinhteso are timed in interleaved rounds (5 by default), single thread on both sides
(``OPENBLAS_NUM_THREADS=1``), and medians are printed with the ratio R / kinhteso. R is timed
inside Rscript (``Sys.time`` around each call), not its start-up. Without Rscript or COINr the
script says so and prints kinhteso's figures only.

    .venv/bin/python benchmarks/composite.py [--rounds 5]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kinhteso.methods import composite as C  # noqa: E402
from kinhteso.methods import uncertainty as UA  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "tests" / "oracle" / "composite"
DATA, META = ORACLE / "asem_iData.csv", ORACLE / "asem_iMeta.csv"
N_BUILD = 20
N_UA = 100
NORMS = [{"method": "minmax", "l_u": (1.0, 100.0)}, {"method": "zscore", "m_sd": (10.0, 2.0)}]
AGGS = ["arithmetic", "geometric"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(COINr))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], na.strings = c("", "NA"), stringsAsFactors = FALSE)
m <- read.csv(args[2], na.strings = c("", "NA"), stringsAsFactors = FALSE)
n_build <- as.integer(args[3]); n_ua <- as.integer(args[4])
build <- function() suppressMessages({
  coin <- new_coin(d, m, quietly = TRUE)
  coin <- Normalise(coin, dset = "Raw")
  coin <- Aggregate(coin, dset = "Normalised")
  get_results(coin, dset = "Aggregated", tab_type = "Aggs", use = "ranks")
})
invisible(build())
tb <- sapply(seq_len(n_build), function(i) { t0 <- Sys.time(); build(); as.numeric(Sys.time() - t0, units = "secs") })
cat("build_ms", median(tb) * 1e3, "\n")
if (n_ua > 0) {
  coin <- suppressMessages(Aggregate(Normalise(new_coin(d, m, quietly = TRUE), dset = "Raw",
            global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100)))), dset = "Normalised"))
  w0 <- coin$Meta$Weights$Original
  levs <- sort(unique(w0$Level))
  specs <- list(
    weights = list(Address = "$Log$Aggregate$w", Type = "discrete",
                   Distribution = get_noisy_weights(w0, data.frame(Level = levs, NoiseFactor = 0.25), n_ua)),
    normalise = list(Address = "$Log$Normalise$global_specs", Type = "discrete",
                     Distribution = list(list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100))),
                                         list(f_n = "n_zscore", f_n_para = list(m_sd = c(10, 2))))),
    aggregate = list(Address = "$Log$Aggregate$f_ag", Type = "discrete", Distribution = c("a_amean", "a_gmean")))
  t0 <- Sys.time()
  sa <- suppressMessages(get_sensitivity(coin, SA_specs = specs, N = n_ua, SA_type = "UA",
                                         dset = "Aggregated", iCode = "Index", quietly = TRUE))
  tu <- as.numeric(Sys.time() - t0, units = "secs")
  cat("ua_ms_per_rep", tu * 1e3 / (ncol(sa$Scores) - 2), "\n")
}
"""


def r_available() -> tuple[bool, str]:
    """Whether Rscript and COINr can be used, and why not."""
    if shutil.which("Rscript") is None:
        return False, "Rscript is not on PATH"
    p = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(COINr))"],
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        return False, "the R package COINr is not installed"
    return True, ""


def r_round(script: Path, n_ua: int) -> dict[str, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    p = subprocess.run(["Rscript", str(script), str(DATA), str(META), str(N_BUILD), str(n_ua)],
                       capture_output=True, text=True, env=env, check=True)
    return {k: float(v) for k, v in (line.split() for line in p.stdout.splitlines() if line.strip())}


def _median_ms(fn, k: int) -> float:
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def k_round(idata: pd.DataFrame, imeta: pd.DataFrame) -> dict[str, float]:
    def build() -> pd.DataFrame:
        coin = C.aggregate(C.normalise(C.new_coin(idata, imeta), dset="Raw"), dset="Normalised")
        return C.scores_long(coin)

    coin = C.new_coin(idata, imeta)

    def ua() -> UA.UncertaintyResult:
        return UA.uncertainty(coin.data["Raw"], coin.meta, n=N_UA, weight_noise=0.25, normalise=NORMS,
                              aggregate=AGGS, design="random")

    build()
    res = ua()
    return {"build_ms": _median_ms(build, N_BUILD), "ua_ms_per_rep": _median_ms(ua, 5) / len(res.design)}


def cli_vs_api(tmp: Path, mem: Path | None) -> list[tuple[str, float, float, float, float, float]]:
    """(design, methods-API ms, service-API ms, CLI ms writing to memory, CLI ms writing to disk,
    runs), the CLI run in this process after a first run. The service API
    (``kinhteso.service.composite.run_uncertainty``) is the Python call that does the command's
    work: it reads and checks the two files and returns the three tables; the CLI adds parsing the
    options and writing the tables (atomically, spreadsheet-safe, each file flushed to the device
    with ``fsync``). The flush of a file on a shared disk waits for the other users of the disk
    (0.2 ms to 10 ms here), so the CLI is timed writing to a memory file system (``mem``,
    /dev/shm) for the target, and writing to the disk's temp folder for information. The methods
    API (``uncertainty`` on a coin already built) is shown for reference."""
    import contextlib
    import io

    from kinhteso.cli import main
    from kinhteso.service import composite as S

    assert S.VARY_ALTERNATIVES["normalise"] == tuple(NORMS) and S.VARY_ALTERNATIVES["aggregate"] == tuple(AGGS)
    coin = C.new_coin(pd.read_csv(DATA, float_precision="round_trip"), pd.read_csv(META, float_precision="round_trip"))
    rows = []
    for design in ("random", "sobol"):
        def methods_api(design: str = design) -> UA.UncertaintyResult:
            return UA.uncertainty(coin.data["Raw"], coin.meta, n=N_UA, weight_noise=0.25, normalise=NORMS,
                                  aggregate=AGGS, design=design)

        req = S.UncertaintyRequest(data=DATA, meta=META, n=N_UA, design=design,
                                   **S.parse_vary("weights:0.25,normalise,aggregate"))
        def cli_to(where: Path, design: str = design) -> None:
            args = ["--lang", "en", "uncertainty", "--data", str(DATA), "--meta", str(META), "--n", str(N_UA),
                    "--design", design, "--vary", "weights:0.25,normalise,aggregate", "--out", str(where / design)]
            with contextlib.redirect_stdout(io.StringIO()):
                main.main(args=args, prog_name="kinhteso", standalone_mode=False)

        cli_to(tmp)  # the first run pays the imports
        runs = len(methods_api().design)
        t_m, t_s, t_mem, t_disk = [], [], [], []
        for _ in range(7):  # interleaved
            t_m.append(_median_ms(methods_api, 1))
            t_s.append(_median_ms(lambda req=req: S.run_uncertainty(req), 1))
            t_mem.append(_median_ms(lambda: cli_to(mem if mem is not None else tmp), 1))
            t_disk.append(_median_ms(lambda: cli_to(tmp), 1))
        rows.append((design, statistics.median(t_m), statistics.median(t_s), statistics.median(t_mem),
                     statistics.median(t_disk), runs))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-r", action="store_true", help="time kinhteso only")
    opts = ap.parse_args()
    idata, imeta = pd.read_csv(DATA, float_precision="round_trip"), pd.read_csv(META, float_precision="round_trip")
    have_r, why = (False, "--no-r given") if opts.no_r else r_available()
    print(f"composite benchmark: ASEM ({len(idata)} units, {int((imeta['Type'] == 'Indicator').sum())} indicators), "
          f"{opts.rounds} interleaved rounds, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"{os.cpu_count()} cores")
    if not have_r:
        print(f"R not available ({why}): kinhteso's figures only, no ratio.")
    r_rows: list[dict[str, float]] = []
    k_rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as td:
        script = Path(td) / "coinr_bench.R"
        script.write_text(R_SCRIPT, encoding="utf-8")
        for i in range(opts.rounds):
            if have_r:
                r_rows.append(r_round(script, N_UA))
            k_rows.append(k_round(idata, imeta))
            done = f"R {r_rows[-1]['build_ms']:.1f} ms, " if have_r else ""
            print(f"  round {i + 1}: build {done}kinhteso {k_rows[-1]['build_ms']:.2f} ms", flush=True)
        shm = Path("/dev/shm")
        if shm.is_dir() and os.access(shm, os.W_OK):
            with tempfile.TemporaryDirectory(dir=shm) as mem:
                api_cli = cli_vs_api(Path(td), Path(mem))
        else:
            print("no /dev/shm: the CLI is timed writing to disk only")
            api_cli = cli_vs_api(Path(td), None)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print()
    print(f"{'work':58s} {'COINr':>10s} {'kinhteso':>10s} {'ratio':>8s}")
    for key, label, unit in (("build_ms", "build: new_coin + normalise + aggregate + ranks", "ms"),
                             ("ua_ms_per_rep", f"uncertainty N = {N_UA} (random design), per replication", "ms")):
        k = med(k_rows, key)
        if have_r:
            r = med(r_rows, key)
            print(f"{label:58s} {r:8.3f}{unit} {k:8.4f}{unit} {r / k:7.1f}×")
        else:
            print(f"{label:58s} {'—':>10s} {k:8.4f}{unit} {'—':>8s}")
    target = {"build_ms": 5, "ua_ms_per_rep": 500}
    if have_r:
        for key, want in target.items():
            got = med(r_rows, key) / med(k_rows, key)
            print(f"  target {key}: ≥ {want}× — {'met' if got >= want else 'NOT met'} ({got:.1f}×)")
    print()
    print(f"{'CLI against API (kinhteso, in process, medians of 7)':44s} {'methods':>8s} {'service':>8s} "
          f"{'CLI(mem)':>9s} {'CLI(disk)':>9s} {'CLI/service':>11s}")
    for design, t_m, t_s, t_mem, t_disk, runs in api_cli:
        print(f"{f'uncertainty --n {N_UA} --design {design} ({runs} runs)':44s} {t_m:6.1f}ms {t_s:6.1f}ms "
              f"{t_mem:7.1f}ms {t_disk:7.1f}ms {t_mem / t_s:10.2f}×")
    print("  target: the CLI (writing to memory) within 2× of the API (the service call from the same files) — " +
          ("met" if all(m / s_ <= 2 for _, _, s_, m, _, _ in api_cli) else "NOT met"))
    # the fast path's unperturbed replication is the plain index (a guard, not a timing)
    coin = C.new_coin(idata, imeta)
    prob = UA.build_problem(coin.data["Raw"], coin.meta, weight_noise=0.25, normalise=NORMS, aggregate=AGGS)
    plain = C.aggregate(C.normalise(coin, dset="Raw", method="minmax", l_u=(1.0, 100.0)))
    err = float(np.max(np.abs(UA.evaluate(prob, UA.nominal_design(prob))[0] - plain.data["Aggregated"]["Index"].to_numpy())))
    print(f"\nunperturbed replication against the plain index: max |Δ| = {err:.1e} (≤ 1e-12: {'yes' if err <= 1e-12 else 'NO'})")
    return 0 if err <= 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
