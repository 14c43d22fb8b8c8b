"""Benchmark of the dashboard's overview and province pages over loopback (target: p95 < 300 ms).

``kinhteso serve`` runs as its own process on a copy of the demo workspace; a client (httpx, one
connection, as a browser opening pages one after the other) requests each page. The first request
of a page computes its content (the figures of the 34 provinces, the territory's briefing) and is
reported apart as the cold time; the p50 and p95 are over ``--repeat`` requests of each page after
that (the page's content is cached per query and data version, as the API's reads are, and
re-rendered only when the data change). The baseline, measured in the same run against the same
server, is the API's official figure (``GET /api/v1/figure``), the smallest read the server answers:
the ratio says what a whole page costs over it.

    .venv/bin/python benchmarks/dashboard.py [--workspace DIR] [--repeat 60]
    (builds the demo workspace if absent)
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 300.0
PAGES = {"overview": "/", "overview (en)": "/?lang=en", "province 34:31": "/province/34_31",
         "province 34:79 (en)": "/province/34_79?lang=en", "province VN": "/province/VN"}
BASELINE = "/api/v1/figure?territory=34:31&period=2025"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=60)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = args.workspace
    if root is None or not (root / "kinhteso.toml").exists():
        from kinhteso.demo.build import run_demo

        root = Path(tmp.name) / "demo"
        print("building the demo workspace…", flush=True)
        run_demo(root, echo=lambda *a, **k: None)
    copy = Path(tmp.name) / "served"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.lock", "tmp"))
    port = _free_port()
    script = Path(sys.executable).with_name("kinhteso")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "kinhteso"]
    srv = subprocess.Popen([*cmd, "-q", "serve", "--workspace", str(copy), "--port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "KINHTESO_QUIET": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300) as c:
            for _ in range(600):
                try:
                    c.get("/favicon.ico")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit(f"the server did not start:\n{srv.stderr.read().decode()[-2000:]}")
            cold = {}
            for name, path in PAGES.items():
                t0 = time.perf_counter()
                r = c.get(path)
                cold[name] = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {r.status_code}\n{r.text[:500]}")
            c.get(BASELINE)
            times: dict[str, list[float]] = {n: [] for n in [*PAGES, "baseline"]}
            for _ in range(args.repeat):
                for name, path in [*PAGES.items(), ("baseline", BASELINE)]:
                    t0 = time.perf_counter()
                    r = c.get(path)
                    times[name].append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (path, r.status_code)
    finally:
        srv.terminate()
        srv.wait(30)
        tmp.cleanup()
    base_p95 = p95(times["baseline"])
    print(f"dashboard over loopback, {args.repeat} requests per page after the first (cold) one")
    print(f"{'page':24s} {'cold ms':>9s} {'p50 ms':>8s} {'p95 ms':>8s} {'× baseline p95':>15s}  target p95 < {TARGET_MS:.0f} ms")
    worst = 0.0
    for name in PAGES:
        q = p95(times[name])
        worst = max(worst, q)
        print(f"{name:24s} {cold[name]:9.0f} {statistics.median(times[name]):8.1f} {q:8.1f} {q / base_p95:15.1f}  "
              f"{'ok' if q < TARGET_MS else 'MISSED'}")
    print(f"{'baseline: API figure':24s} {'':9s} {statistics.median(times['baseline']):8.1f} {base_p95:8.1f}")
    print(f"worst page p95: {worst:.1f} ms ({'meets' if worst < TARGET_MS else 'MISSES'} the {TARGET_MS:.0f} ms target)")


if __name__ == "__main__":
    main()
