"""HTTP API benchmark (loopback): 20 submitting members × 10 files each while 100 readers query
accounts and observations, on the demo workspace served by ``kinhteso serve``.

Members, grants and tokens are made with the CLI (``kinhteso member add``, ``grant``, ``token
create``). Each submitter sends its 10 files spread over the run (each a new vintage of
``GRDP_VA`` for Hải Phòng); each reader loops, alternating ``/accounts`` and ``/observations``
for a province of its own, for ``--seconds`` (after one unmeasured warm-up pass over the queries). Printed: requests per second, read p50/p99, errors
(any status other than the one expected, or a failed connection), submissions stored (vintages
counted before and after: none lost). Target: 0 errors, 0 lost, read p99 under 300 ms.

    .venv/bin/python benchmarks/serve.py [--seconds 60] [--readers 100] [--submitters 20] [--files 10]
                                         [--think 0] [--workspace DIR [--reuse]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from urllib.parse import urlencode

import httpx

PY = sys.executable
#: Provinces the readers ask about (each reader keeps to one).
PROVINCES = ["34:31", "34:01", "34:79", "34:48", "34:92", "34:22", "VN"]


def kinhteso(*args: str) -> str:
    out = subprocess.run([PY, "-m", "kinhteso", "--lang", "en", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"kinhteso {' '.join(args)} failed ({out.returncode}): {out.stderr or out.stdout}")
    return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_members(ws: Path, submitters: int, *, reuse: bool = False) -> tuple[dict[str, str], str]:
    """Submitters BENCH_S01… (GRDP_VA for 34:31 only) and one reader (everything): their tokens
    (``reuse``: the members exist from an earlier run; only new tokens are made)."""
    tokens = {}
    for i in range(1, submitters + 1):
        code = f"BENCH_S{i:02d}"
        if not reuse:
            kinhteso("member", "add", "--code", code, "--name", f"Benchmark agency {i}", "--kind", "enterprise",
                     "--workspace", str(ws))
            kinhteso("grant", "--member", code, "--role", "submitter", "--indicators", "GRDP_VA",
                     "--territories", "34:31", "--workspace", str(ws))
        tokens[code] = json.loads(kinhteso("token", "create", "--member", code, "--format", "json",
                                           "--workspace", str(ws)))["token"]
    if not reuse:
        kinhteso("member", "add", "--code", "BENCH_READER", "--name", "Benchmark reader", "--kind", "ministry",
                 "--workspace", str(ws))
        kinhteso("grant", "--member", "BENCH_READER", "--role", "reader", "--workspace", str(ws))
    reader = json.loads(kinhteso("token", "create", "--member", "BENCH_READER", "--format", "json",
                                 "--workspace", str(ws)))["token"]
    return tokens, reader


class Reader:
    """One reader's keep-alive HTTP/1.1 connection for GET requests, one request at a time.

    The load generator must cost little next to the server it measures: on this 2-core machine
    httpx's client spends about 2.8 ms of CPU per request (more than the server spends
    answering it), so 100 httpx readers would measure mostly the client. This client writes
    the request line and reads the status, headers and body (Content-Length or chunked) over
    asyncio streams: about 0.25 ms per request. Submissions (multipart) still go through httpx."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def get(self, path: str, params: dict) -> tuple[int, bytes]:
        """(status, body); a connection the server closed meanwhile is opened again once."""
        request = f"GET {path}?{urlencode(params, doseq=True)} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n"
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(request.encode())
                await self.writer.drain()
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
                continue
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in headers:
                body = await self.reader.readexactly(int(headers["content-length"]))
            else:  # chunked
                parts = []
                while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    parts.append((await self.reader.readexactly(size + 2))[:-2])
                await self.reader.readuntil(b"\r\n")
                body = b"".join(parts)
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status, body
        raise ConnectionError("unreachable")


#: Makes this run's files differ from an earlier run's (--reuse), so that each is a new vintage.
RUN_SALT = round(time.time() % 1e5, 3)


def submission(member: int, j: int) -> bytes:
    """A small long-format file, distinct for each (member, file) and run: a new vintage each."""
    rows = ["indicator,territory,basis,sector,period,value,unit"]
    for k, sector in enumerate(("62", "61", "63", "58")):
        value = round(1000 + member * 37.5 + j * 1.25 + k + RUN_SALT, 3)
        rows.append(f"GRDP_VA,34:31,34,{sector},2025-Q{1 + j % 4},{value},VND_BN")
    return ("\n".join(rows) + "\n").encode()


async def run(base: str, tokens: dict[str, str], reader: str, *, seconds: float, readers: int, files: int,
              think: float) -> dict:
    limits = httpx.Limits(max_connections=readers + len(tokens) + 10, max_keepalive_connections=readers + len(tokens))
    read_lat: list[float] = []
    errors: list[str] = []
    stored: list[int] = []
    same: list[int] = []
    retried: list[str] = []
    stop = time.perf_counter() + seconds
    rh = {"Authorization": f"Bearer {reader}"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        host, port = base.removeprefix("http://").rsplit(":", 1)

        async def read_loop(i: int) -> None:
            rng = random.Random(i)
            key = PROVINCES[i % len(PROVINCES)]
            conn = Reader(host, int(port), rh)
            n = 0
            try:
                while time.perf_counter() < stop:
                    if n % 2 == 0:
                        url, params = "/api/v1/accounts", {"period": rng.choice(["2024", "2025"]), "territory": key}
                    else:
                        url, params = "/api/v1/observations", {"indicator": "GRDP_VA", "territory": key,
                                                               "period": "2025"}
                    n += 1
                    t0 = time.perf_counter()
                    try:
                        status, body = await conn.get(url, params)
                        if status != 200:
                            errors.append(f"read {url} {status} {body[:200]!r}")
                    except (OSError, asyncio.IncompleteReadError) as exc:
                        errors.append(f"read {url} {type(exc).__name__}")
                    read_lat.append(time.perf_counter() - t0)
                    if think:
                        await asyncio.sleep(think)
            finally:
                conn.close()

        async def submit_loop(m: int, code: str, token: str) -> None:
            pause = seconds / (files + 1)
            await asyncio.sleep(pause * random.Random(m).random())
            for j in range(files):
                for attempt in range(3):  # a submission is idempotent: sent again, it is the same vintage
                    try:
                        r = await client.post("/api/v1/submissions", headers={"Authorization": f"Bearer {token}"},
                                              files={"file": (f"{code}_{j}.csv", submission(m, j), "text/csv")})
                        if r.status_code in (200, 201):
                            stored.append(r.json()["vintage"])
                            if r.status_code == 200:
                                same.append(r.json()["vintage"])
                        else:
                            errors.append(f"submit {code} {j} {r.status_code} {r.text[:200]}")
                        break
                    except httpx.TransportError as exc:
                        if attempt == 2:
                            errors.append(f"submit {code} {j} {type(exc).__name__}")
                        else:
                            retried.append("submit")
                await asyncio.sleep(pause)

        # warm-up (not measured): each query once, so that the first computations (imports,
        # reference data, the accounts of each province) are not counted as reads under load
        for key in PROVINCES:
            for period in ("2024", "2025"):
                await client.get("/api/v1/accounts", params={"period": period, "territory": key}, headers=rh)
            await client.get("/api/v1/observations", params={"indicator": "GRDP_VA", "territory": key,
                                                              "period": "2025"}, headers=rh)
        stop = time.perf_counter() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(read_loop(i) for i in range(readers)),
                             *(submit_loop(m, c, t) for m, (c, t) in enumerate(tokens.items(), start=1)))
        elapsed = time.perf_counter() - t0
    return {"read_lat": read_lat, "errors": errors, "stored": stored, "same": same, "retried": retried,
            "elapsed": elapsed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--readers", type=int, default=100)
    ap.add_argument("--submitters", type=int, default=20)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--think", type=float, default=0.0, help="each reader's pause between requests (s)")
    ap.add_argument("--workspace", type=Path, default=None, help="a copy of the demo workspace is built here")
    ap.add_argument("--reuse", action="store_true",
                    help="use the --workspace of an earlier run as it is (its members too; new tokens only)")
    a = ap.parse_args()
    if a.reuse and a.workspace is None:
        ap.error("--reuse needs --workspace")

    tmp = tempfile.TemporaryDirectory(prefix="kinhteso-serve-bench-")
    ws = a.workspace or Path(tmp.name) / "demo"
    t = time.perf_counter()
    if not a.reuse:
        kinhteso("demo", "--workspace", str(ws))
        print(f"demo workspace built in {time.perf_counter() - t:.0f} s: {ws}")
    t = time.perf_counter()
    tokens, reader = make_members(ws, a.submitters, reuse=a.reuse)
    print(f"{a.submitters} submitting members and 1 reader made with the CLI in {time.perf_counter() - t:.0f} s")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([PY, "-m", "kinhteso", "serve", "--workspace", str(ws), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/v1/territories", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: {server.stderr.read().decode()}")
            time.sleep(0.1)
        rh = {"Authorization": f"Bearer {reader}"}
        before = len(httpx.get(base + "/api/v1/vintages", headers=rh, timeout=30).json())
        out = asyncio.run(run(base, tokens, reader, seconds=a.seconds, readers=a.readers, files=a.files,
                              think=a.think))
        listed = httpx.get(base + "/api/v1/vintages", headers=rh, timeout=30).json()
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    after = len(listed)
    ids = {v["vintage_id"] for v in listed}
    expected = a.submitters * a.files
    lost = expected - len(set(out["stored"]) & ids)
    lat = sorted(out["read_lat"])
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else float("nan")
    total = len(lat) + len(out["stored"])
    print(f"{a.readers} readers, {a.submitters} submitters × {a.files} files, {out['elapsed']:.1f} s (loopback)")
    print(f"  requests: {total} ({total / out['elapsed']:.0f}/s); reads {len(lat)} ({len(lat) / out['elapsed']:.0f}/s)")
    print(f"  read latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p99 < 300 ms)")
    print(f"  errors: {len(out['errors'])} (submissions sent again after a closed connection: "
          f"{len(out['retried'])})")
    for e in out["errors"][:10]:
        print(f"    {e}")
    print(f"  submissions: {len(set(out['stored']))} vintages for {expected} files sent "
          f"({len(out['same'])} answered 200 after a retry); vintages {before} → {after} "
          f"(+{after - before}); lost: {lost}")
    ok = not out["errors"] and lost == 0 and after - before == expected and p99 < 300
    print("  target met" if ok else "  TARGET NOT MET")
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
