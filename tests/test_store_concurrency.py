"""Many readers while one writes: threads of one process, and separate processes.

The store's rule (kinhteso.store): one writer at a time, many readers. A reader never fails
because a writer is committing; it waits (with back-off) and reads. Nothing here is timed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest

from conftest import ingest_rows
from kinhteso.ingest.load import ingest_file
from kinhteso.workspace import Workspace

GRDP = [["GRDP", "VN", "", "_T", str(y), str(1000.0 + y), "VND_BN"] for y in range(2015, 2025)]


def _big_csv(path: Path, n: int, *, offset: int = 0) -> Path:
    """``n`` distinct monthly rows (EINVOICE_REVENUE by VSIC division, ten territories; at most
    about 2.1 million), written by DuckDB."""
    from kinhteso.reference import vsic

    divisions = [s.code for s in vsic.sectors() if s.level == "division"]
    con = duckdb.connect()
    con.execute("CREATE TABLE d AS SELECT unnest(?) AS sector", [divisions])
    con.execute(
        "COPY (SELECT 'EINVOICE_REVENUE' AS indicator, t.code AS territory, t.basis, d.sector, "
        "  (1900 + (m // 12))::VARCHAR || '-' || lpad(((m % 12) + 1)::VARCHAR, 2, '0') AS period, "
        "  round(((m * 7 + length(d.sector)) % 9973) * 1.25 + ?, 2) AS value, 'VND_BN' AS unit, "
        "  'E' AS status "
        " FROM (VALUES ('01', '34'), ('04', '34'), ('08', '34'), ('11', '34'), ('12', '34'), ('14', '34'), "
        "              ('24', '34'), ('31', '34'), ('79', '34'), ('48', '34')) t(code, basis), d, "
        "      range(0, 2412) r(m) LIMIT ?) TO ? (HEADER, DELIMITER ',')",
        [float(offset), n, str(path)])
    con.close()
    return path


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    ingest_rows(w, tmp_path / "grdp.csv", GRDP, source="cuc-thong-ke")
    yield w
    w.close()


@pytest.mark.parametrize("owner", [False, True], ids=["cli", "server"])
def test_eight_threads_read_while_one_ingests(tmp_path, owner):
    w = Workspace.init(tmp_path / "ws")
    ingest_rows(w, tmp_path / "grdp.csv", GRDP, source="cuc-thong-ke")
    w.close()
    ws = Workspace.open(tmp_path / "ws", owner=owner)
    big = _big_csv(tmp_path / "big.csv", 200_000)
    errors: list[BaseException] = []
    reads = [0] * 8
    done = threading.Event()

    def reader(i: int) -> None:
        while not done.is_set():
            try:
                got = ws.store.observations(indicator="GRDP", territory="VN")
                assert len(got) == len(GRDP)
                ws.store.vintages()
                reads[i] += 1
            except BaseException as exc:  # noqa: BLE001 - every failure is collected and reported
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        r = ingest_file(ws.store, big, source="thue", indicators=ws.indicators(), workdir=ws.tmp)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert r.n_rows == 200_000 and all(n > 0 for n in reads)
    assert ws.store.observation_count() == 200_000 + len(GRDP)
    ws.close()


_READER = textwrap.dedent(r"""
    import sys, time
    from pathlib import Path
    from click.testing import CliRunner
    from kinhteso.cli import main
    ws, stop = sys.argv[1], Path(sys.argv[2])
    runner, n, bad = CliRunner(), 0, []
    while not stop.exists() or n < 3:
        r = runner.invoke(main, ["--lang", "en", "observations", "--indicator", "GRDP", "--format", "csv",
                                 "--workspace", ws])
        if r.exit_code != 0 or "STORE_LOCKED" in r.output:
            bad.append(r.output[-400:])
        n += 1
    print(f"reads={n} errors={len(bad)}")
    for b in bad[:3]:
        print(b)
    sys.exit(1 if bad else 0)
""")


@pytest.mark.slow
def test_four_reader_processes_while_another_ingests_two_million_rows(ws, tmp_path):
    big = _big_csv(tmp_path / "big.csv", 2_000_000)
    root = str(ws.root)
    ws.close()
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", _READER, root, str(stop)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    try:
        writer = subprocess.run([sys.executable, "-m", "kinhteso", "--lang", "en", "ingest", str(big), "--source",
                                 "thue-hai-phong", "--workspace", root], capture_output=True, text=True, timeout=600)
    finally:
        stop.touch()
    outs = [p.communicate(timeout=300)[0] for p in readers]
    assert writer.returncode == 0, writer.stdout + writer.stderr
    assert "STORE_LOCKED" not in writer.stderr
    for p, out in zip(readers, outs):
        assert p.returncode == 0, out
    with Workspace.open(Path(root)) as w:
        assert w.store.observation_count() == 2_000_000 + len(GRDP)


# --- a server (the owner) remembers small answers until its next write ----------------------------
def test_a_server_forgets_a_token_s_member_at_its_next_write(tmp_path):
    from kinhteso.store import token_sha256

    Workspace.init(tmp_path / "ws").close()
    ws = Workspace.open(tmp_path / "ws", owner=True)
    try:
        store = ws.store
        store.add_member("TAX", "Thuế", "tax")
        token = store.create_token("TAX")
        sha = token_sha256(token)
        assert store.member_by_token(sha) == (("TAX", "Thuế", "tax"), ())
        store.add_grant("TAX", "reader", ["GRDP"], ["34:31"])
        assert store.member_by_token(sha)[1] == (("reader", "GRDP", "34:31"),)
        before = store.data_version()
        ingest_rows(ws, tmp_path / "grdp.csv", GRDP, source="cuc-thong-ke")
        assert store.data_version()[0] == before[0] + 1
        store.revoke_tokens(token_sha=sha)
        assert store.member_by_token(sha) is None
    finally:
        ws.close()


def test_a_server_logs_an_exchange_while_a_submission_s_transaction_is_open(tmp_path):
    """The exchange log has its own transaction in a server: a response's entry is committed
    while a long submission holds the single write path (it does not wait for its commit)."""
    Workspace.init(tmp_path / "ws").close()
    ws = Workspace.open(tmp_path / "ws", owner=True)
    opened, release, appended = threading.Event(), threading.Event(), []
    entry = {"member": None, "method": "GET", "endpoint": "/api/v1/territories", "status": 200,
             "request_sha256": "0" * 64, "response_sha256": "1" * 64, "outcome": "ok"}

    def submission():
        with ws.store._transaction() as con:
            con.execute("INSERT INTO members VALUES ('SLOW', 'slow', 'tax', now(), NULL)")
            opened.set()
            release.wait(30)

    writer = threading.Thread(target=submission)
    writer.start()
    try:
        assert opened.wait(30)
        logger = threading.Thread(target=lambda: appended.append(ws.store.append_log([entry, entry])))
        logger.start()
        logger.join(20)
        assert appended == [[1, 2]], "the log append waited for the open submission"
    finally:
        release.set()
        writer.join(30)
    try:
        assert ws.store.member("SLOW") is not None
        assert ws.store.verify_log() is None and ws.store.log_head()[:2] == (2, 2)
    finally:
        ws.close()
