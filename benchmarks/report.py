"""Benchmark of ``kinhteso report --format pdf`` on the demo workspace (target: under 5 s).

Each command runs as a new process (the venv's ``kinhteso`` console script) and is timed from
start to exit; the figure is the median of ``--repeat`` runs after one warm-up run. The
baseline, measured in the same run, is the data gathering alone as a user would do it: the time
of ``kinhteso measure`` plus ``kinhteso gaps`` for the same territory and period (two processes:
two starts, two workspace openings). The report does more (the official figure, the quarterly
results, peers, the DTI index, the plan, three charts, the PDF with embedded fonts) in one
process; the ratio says what the briefing costs over those two reads. The HTML and XLSX formats
are timed too.

    .venv/bin/python benchmarks/report.py [--workspace DIR] [--territory 34:31] [--period 2025]
    (builds the demo workspace if absent)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 5.0


def _kinhteso() -> list[str]:
    script = Path(sys.executable).with_name("kinhteso")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kinhteso"]


def timed(cmds: list[list[str]], repeat: int, cwd: Path) -> float:
    """Median wall time of running ``cmds`` one after the other (after one warm-up); each must exit 0."""
    times = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        for cmd in cmds:
            res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-2000:]}")
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=None)
    ap.add_argument("--territory", default="34:31")
    ap.add_argument("--period", default="2025")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = args.workspace
    if root is None or not (root / "kinhteso.toml").exists():
        from kinhteso.demo.build import run_demo

        root = Path(tmp.name) / "demo"
        t0 = time.perf_counter()
        run_demo(root, echo=lambda *_: None)
        print(f"demo workspace built in {time.perf_counter() - t0:.1f} s (not timed below)")
    k, ws = _kinhteso(), ["--workspace", str(Path(root).resolve())]
    where = ["--territory", args.territory]
    out = Path(tmp.name)
    base = timed([[*k, "measure", *where, "--period", args.period, *ws], [*k, "gaps", *where, *ws]], args.repeat, out)
    figures = {}
    for fmt in ("pdf", "html", "xlsx"):
        figures[fmt] = timed([[*k, "report", *where, "--period", args.period, "--format", fmt,
                               "--out", str(out / f"r.{fmt}"), *ws]], args.repeat, out)
    size = (out / "r.pdf").stat().st_size
    print(f"cores: {os.cpu_count()}")
    print(f"baseline, kinhteso measure + gaps ({args.territory} {args.period}, two processes): {base:.2f} s "
          f"(median of {args.repeat})")
    for fmt, t in figures.items():
        print(f"kinhteso report --format {fmt}: {t:.2f} s; ratio to the baseline {t / base:.2f}×")
    print(f"PDF size: {size / 1024:.0f} KiB")
    t = figures["pdf"]
    print(f"target: report --format pdf under {TARGET_SECONDS:.0f} s [{'met' if t < TARGET_SECONDS else 'NOT met'}]")
    tmp.cleanup()


if __name__ == "__main__":
    main()
