"""Benchmark of temporal disaggregation against R tempdisagg — a plain script, not a test.

1. swisspharma (36 annual values → 144 quarters, indicator exports.q 1975Q1–2010Q4, as in
   tempdisagg's own examples): per-fit time of chow-lin-maxlog, fernandez and denton-cholette
   (the issue's three, target 20× R), and of chow-lin-maxlog with ``truncated.rho = -1`` (the
   full ρ search: by default the optimum, −0.307, is truncated to 0 as soon as the grid shows it),
   R ``td()`` and kinhteso ``td()`` timed *in the same run*, in interleaved rounds: in each
   round one persistent ``Rscript`` process times a loop of fits in process (start-up
   excluded), then kinhteso times a loop of the same fits. Medians over the rounds, and the
   ratio R / kinhteso, are printed. Both sides run single-threaded BLAS
   (``OPENBLAS_NUM_THREADS=1``; R 4.2 with OpenBLAS is the baseline an R user has).
2. a batch of 1,700 synthetic series (34 provinces × 50 series, 20 years → 80 quarters) with
   ``td_batch()`` in one call per method, against ``td()`` in a loop (kinhteso only: R has no
   batch mode; its per-fit figures are those of part 1).

Without R (no ``Rscript`` on the PATH, or tempdisagg not installed) the script says so and
prints kinhteso's figures only. Part 1 needs ../shared/reference/tempdisagg (the swisspharma
data); set ``KINHTESO_SHARED`` to point elsewhere.

Run: ``.venv/bin/python benchmarks/temporal.py [--rounds 7]``.
"""

from __future__ import annotations

import os

# Small matrices (36×36, 20×20): BLAS threads only add overhead, and on a shared 2-core
# machine they make every call wait for a busy core. One thread per process, on both sides,
# set before numpy loads OpenBLAS.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from kinhteso.methods.temporal import td, td_batch  # noqa: E402

METHODS = ("chow-lin-maxlog", "fernandez", "denton-cholette")
#: the runs timed: label -> (method, truncated.rho); the issue's three, and chow-lin-maxlog
#: without truncation (its optimum, ρ = −0.307, is then searched to the end instead of being
#: truncated to 0: the full cost of the ρ search)
RUNS = {"chow-lin-maxlog": ("chow-lin-maxlog", 0.0), "fernandez": ("fernandez", 0.0),
        "denton-cholette": ("denton-cholette", 0.0), "  truncated.rho=-1": ("chow-lin-maxlog", -1.0)}
#: fits per round and run: (R, kinhteso), each loop lasting a few tenths of a second
FITS = {"chow-lin-maxlog": (30, 300), "fernandez": (100, 1000), "denton-cholette": (100, 1000),
        "  truncated.rho=-1": (30, 300)}
TARGET = 20.0
SHARED = Path(os.environ.get("KINHTESO_SHARED", Path(__file__).resolve().parents[2] / "shared"))

# One R process for the whole run: it reads "<method> <fits>" lines on stdin and answers, for
# each, the mean time per fit in ms of a loop of td() calls (timed in process, start-up excluded).
R_SERVER = r"""
suppressMessages(library(tempdisagg))
ref <- commandArgs(TRUE)[1]
ya <- read.csv(file.path(ref, "input_sales_a.csv"))
q <- read.csv(file.path(ref, "input_exports_imports_q.csv"))
sales.a <- ts(ya$sales_a, start = 1975, frequency = 1)
exports.q <- ts(q$exports_q[q$year >= 1975 & q$year <= 2010], start = 1975, frequency = 4)
fit <- function(m, t) {
  if (m == "denton-cholette") td(sales.a ~ 0 + exports.q, method = m)
  else td(sales.a ~ exports.q, method = m, truncated.rho = t)
}
cat(sprintf("ready %s %s\n", R.version.string, packageVersion("tempdisagg"))); flush(stdout())
con <- file("stdin"); open(con)
repeat {
  line <- readLines(con, n = 1)
  if (length(line) == 0 || line == "quit") break
  p <- strsplit(line, " ")[[1]]
  m <- p[1]; t <- as.numeric(p[2]); n <- as.integer(p[3])
  fit(m, t)
  t0 <- as.numeric(Sys.time())
  for (i in seq_len(n)) fit(m, t)
  cat(sprintf("%s %.6f %.8f\n", m, (as.numeric(Sys.time()) - t0) / n * 1000, fit(m, t)$values[1]))
  flush(stdout())
}
"""


def _r_available() -> tuple[bool, str]:
    if shutil.which("Rscript") is None:
        return False, "Rscript is not on the PATH"
    probe = subprocess.run(["Rscript", "-e", "suppressMessages(library(tempdisagg))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return False, "the R package tempdisagg is not installed"
    return True, ""


class RServer:
    """A persistent Rscript process timing td() fits on request."""

    def __init__(self, ref: Path):
        self.proc = subprocess.Popen(["Rscript", "-e", R_SERVER, str(ref)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=os.environ.copy())
        self.version = self.proc.stdout.readline().strip().removeprefix("ready ")

    def per_fit_ms(self, method: str, truncated_rho: float, fits: int) -> tuple[float, float]:
        self.proc.stdin.write(f"{method} {truncated_rho} {fits}\n")
        self.proc.stdin.flush()
        _, ms, first = self.proc.stdout.readline().split()
        return float(ms), float(first)

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _ours_per_fit_ms(y, x, method: str, truncated_rho: float, fits: int) -> float:
    kw = {"method": method, "intercept": method != "denton-cholette", "truncated_rho": truncated_rho}
    td(y, x, **kw)
    t = time.perf_counter()
    for _ in range(fits):
        td(y, x, **kw)
    return (time.perf_counter() - t) / fits * 1e3


def swisspharma(rounds: int, with_r: bool) -> None:
    import pandas as pd  # noqa: PLC0415 (data loading only, outside the timed loops)

    ref = SHARED / "reference" / "tempdisagg"
    if not ref.exists():
        print(f"(swisspharma skipped: {ref} not found)")
        return
    y = pd.read_csv(ref / "input_sales_a.csv")["sales_a"].to_numpy(float)
    q = pd.read_csv(ref / "input_exports_imports_q.csv")
    x = q.loc[(q["year"] >= 1975) & (q["year"] <= 2010), "exports_q"].to_numpy(float)
    server = RServer(ref) if with_r else None
    print(f"1) swisspharma: 36 years -> 144 quarters, td() per fit, {rounds} interleaved rounds, medians")
    if server is not None:
        print(f"   R: {server.version}, in process (Rscript start-up excluded)")
    r_ms: dict[str, list[float]] = {k: [] for k in RUNS}
    our_ms: dict[str, list[float]] = {k: [] for k in RUNS}
    agree: dict[str, float] = {}
    try:
        for _ in range(rounds):
            for label, (method, t) in RUNS.items():
                n_r, n_ours = FITS[label]
                if server is not None:
                    ms, first = server.per_fit_ms(method, t, n_r)
                    r_ms[label].append(ms)
                    ours = td(y, x, method=method, intercept=method != "denton-cholette",
                              truncated_rho=t).series[0]
                    agree[label] = abs(ours - first) / abs(first)
                our_ms[label].append(_ours_per_fit_ms(y, x, method, t, n_ours))
    finally:
        if server is not None:
            server.close()
    head = f"   {'method':18s} {'kinhteso ms':>12s} {'fits/s':>8s}"
    if server is not None:
        head += f" {'R ms':>8s} {'x R':>7s} {'target':>7s}  rounds (R / kinhteso, ms)"
    print(head)
    for label, (method, _) in RUNS.items():
        ours = statistics.median(our_ms[label])
        line = f"   {label:18s} {ours:12.3f} {1e3 / ours:8.0f}"
        if server is not None:
            r = statistics.median(r_ms[label])
            ok = ("ok" if r / ours >= TARGET else "MISSED") if label in METHODS else "-"
            line += (f" {r:8.2f} {r / ours:6.1f}x {ok:>7s}  "
                     + " ".join(f"{a:.1f}/{b:.2f}" for a, b in zip(r_ms[label], our_ms[label]))
                     + f"   (first value agrees with R to {agree[label]:.0e})")
        print(line)


def batch() -> None:
    rng = np.random.default_rng(2026)
    S, n_l, fr = 34 * 50, 20, 4
    n = n_l * fr
    X = 100 * np.exp(np.cumsum(rng.normal(0.01, 0.03, (S, n)), axis=1))
    err = np.cumsum(rng.normal(0, 0.5, (S, n)), axis=1)
    Y = (3 + 0.5 * X + err).reshape(S, n_l, fr).sum(axis=2)
    print(f"2) batch: {S} series (34 provinces x 50), {n_l} years -> {n} quarters (kinhteso only)")
    print(f"   {'method':18s} {'td_batch s':>10s} {'ms/fit':>7s} {'fits/s':>8s} {'td() loop ms/fit':>17s}")
    sub = 60
    for method in METHODS:
        kw = {"method": method, "intercept": method != "denton-cholette"}
        t = time.perf_counter()
        res = td_batch(Y, X, **kw)
        dt = time.perf_counter() - t
        t = time.perf_counter()
        loop = [td(Y[i], X[i], **kw).series for i in range(sub)]
        loop_ms = (time.perf_counter() - t) / sub * 1e3
        worst = max(np.max(np.abs(res.series[i] - loop[i]) / np.abs(loop[i])) for i in range(sub))
        print(f"   {method:18s} {dt:10.3f} {dt / S * 1e3:7.3f} {S / dt:8.0f} {loop_ms:17.3f}"
              f"   (batch = loop to {worst:.0e})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    with_r, why = _r_available()
    print(f"kinhteso temporal benchmark: os.cpu_count() = {os.cpu_count()}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"load average {os.getloadavg()[0]:.2f}")
    if with_r:
        print(f"baseline: R tempdisagg timed in this run; target: kinhteso per fit >= {TARGET:.0f}x R")
    else:
        print(f"R is not available ({why}): kinhteso's figures only, no ratio to R")
    swisspharma(args.rounds, with_r)
    batch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
