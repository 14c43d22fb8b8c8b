"""Benchmark of the command's start: ``kinhteso --version`` and ``kinhteso --help``.

Each is run as a new process (the venv's ``kinhteso`` console script, else ``python -m
kinhteso``) and timed from start to exit; the figure is the median of 5 runs, after one
warm-up run that fills the file cache. The baseline, measured in the same run, is a bare
interpreter start (``python -c pass``); for scale, the time to import the heavy libraries the
commands use (pandas, numpy, scipy, statsmodels, duckdb) is printed too: it is what every start
paid when the CLI modules imported them at the top. Target: each command within 10× the bare
interpreter start.

    .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 5
TARGET_RATIO = 10.0


def _kinhteso() -> list[str]:
    script = Path(sys.executable).with_name("kinhteso")
    if script.exists():
        return [str(script)]
    found = shutil.which("kinhteso")
    return [found] if found else [sys.executable, "-m", "kinhteso"]


def median_seconds(cmd: list[str]) -> float:
    """Median wall time of ``RUNS`` runs of ``cmd`` (after one warm-up run); each must exit 0."""
    times = []
    for i in range(RUNS + 1):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    k = _kinhteso()
    bare = median_seconds([sys.executable, "-c", "pass"])
    heavy = median_seconds([sys.executable, "-c", "import pandas, numpy, scipy, statsmodels.api, duckdb"])
    version = median_seconds([*k, "--version"])
    help_ = median_seconds([*k, "--help"])
    print(f"command start, median of {RUNS} runs ({' '.join(k)})")
    print(f"cpu_count: {os.cpu_count()}")
    print(f"baseline python -c pass:        {bare * 1000:7.0f} ms")
    print(f"kinhteso --version:             {version * 1000:7.0f} ms  ratio to baseline {version / bare:5.1f}")
    print(f"kinhteso --help:                {help_ * 1000:7.0f} ms  ratio to baseline {help_ / bare:5.1f}")
    print(f"for scale, the heavy imports:  {heavy * 1000:7.0f} ms  ratio to baseline {heavy / bare:5.1f}")
    met = version / bare <= TARGET_RATIO and help_ / bare <= TARGET_RATIO
    print(f"target each <= {TARGET_RATIO:.0f}x baseline: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
