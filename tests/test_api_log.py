"""The tamper-evident exchange log: every request under /api/v1 and /sdmx and its response is an
entry chained to the previous one's hash; `kinhteso log verify` names the first broken entry after
a row is edited or deleted in the DuckDB file; the log survives a restart; `log export` writes CSV."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import Request  # at module level: the test routes' annotations are resolved here

from tests.conftest import write_long_csv

ROWS = [["GRDP_VA", "34:31", "34", "62", "2025", "4321.5", "VND_BN"],
        ["GRDP_VA", "34:31", "34", "61", "2025", "1200", "VND_BN"]]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


EMPTY = sha(b"")


def _app(root: Path):
    """The API app of ``root``, with three routes of the test's own: an echo of a streamed body,
    a streamed response, and a route that fails."""
    from fastapi.responses import PlainTextResponse, StreamingResponse

    from kinhteso.api import PREFIX, create_app

    app = create_app(root)

    async def echo(request: Request):
        body = b""
        async for chunk in request.stream():
            body += chunk
        return PlainTextResponse(sha(body))

    async def stream():
        async def parts():
            for i in range(5):
                yield f"part {i};".encode()
        return StreamingResponse(parts(), media_type="text/plain")

    async def boom():
        raise RuntimeError("boom")

    app.add_api_route(PREFIX + "/_test/echo", echo, methods=["POST"])
    app.add_api_route(PREFIX + "/_test/stream", stream, methods=["GET"])
    app.add_api_route(PREFIX + "/_test/boom", boom, methods=["GET"])
    return app


def _client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)


def _log(root: Path):
    """Every entry of the log (the workspace closed), oldest first, as dicts."""
    from kinhteso.workspace import Workspace

    with Workspace.open(root) as ws:
        return ws.store.log_entries().to_dict("records")


def _cli(*args: str):
    from kinhteso.cli import main

    return CliRunner().invoke(main, ["--lang", "en", "log", *args])


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A workspace with a submitter and a reader, after a series of exchanges through the API:
    (root, tokens, [(what, response, request body) in order])."""
    from kinhteso.service import members as M
    from kinhteso.workspace import Workspace

    base = tmp_path_factory.mktemp("log")
    root = base / "ws"
    Workspace.init(root).close()
    tokens = {}
    with Workspace.open(root) as ws:
        for code, role, inds, terrs in [("HP_STAT", "submitter", "GRDP_VA", "34:31"), ("READER", "reader", "*", "*")]:
            M.add_member(ws, M.MemberAddRequest(code, f"Member {code}"))
            M.grant(ws, M.GrantRequest(code, role, inds, terrs))
            tokens[code] = M.create_token(ws, M.TokenCreateRequest(code)).token
    good = write_long_csv(base / "good.csv", ROWS).read_bytes()
    outside = write_long_csv(base / "outside.csv", [["GRDP_VA", "34:01", "34", "62", "2025", "1", "VND_BN"]]).read_bytes()
    bad = write_long_csv(base / "bad.csv", [["GRDP_VA", "34:31", "34", "62", "2025", "=1+1", "VND_BN"]]).read_bytes()
    sub = {"Authorization": f"Bearer {tokens['HP_STAT']}"}
    done = []
    app = _app(root)
    with _client(app) as c:
        app.state.max_upload = 2000  # a small limit, for a 413

        def go(what, method, url, **kw):
            req = c.build_request(method, url, **kw)
            body = req.read()
            done.append((what, c.send(req), body))

        go("public read", "GET", "/api/v1/territories?basis=34")
        go("unknown endpoint", "GET", "/api/v1/nope")
        go("bad token", "GET", "/api/v1/territories", headers={"Authorization": "Bearer kts_not-a-token"})
        go("submission", "POST", "/api/v1/submissions", headers=sub, files={"file": ("good.csv", good, "text/csv")})
        go("outside grant", "POST", "/api/v1/submissions", headers=sub, files={"file": ("o.csv", outside, "text/csv")})
        go("refused file", "POST", "/api/v1/submissions", headers=sub, files={"file": ("bad.csv", bad, "text/csv")})
        go("too large", "POST", "/api/v1/submissions", headers=sub,
           files={"file": ("big.csv", good + b"\n" * 5000, "text/csv")})
        go("streamed request", "POST", "/api/v1/_test/echo", content=iter([b"abc", b"def" * 1000, b"!"]))
        go("streamed response", "GET", "/api/v1/_test/stream")
        go("failure", "GET", "/api/v1/_test/boom")
        go("reader", "GET", "/api/v1/territories?basis=63", headers={"Authorization": f"Bearer {tokens['READER']}"})
        go("sdmx", "GET", "/sdmx/data/NOPE_NOT_A_FLOW")
        c.get("/openapi.json")  # not under /api/v1 or /sdmx: not logged
    return root, tokens, done


def test_every_exchange_is_logged_with_the_hashes_of_both_bodies(logged):
    root, _, done = logged
    log = _log(root)
    assert [e["entry_id"] for e in log] == list(range(1, len(done) + 1))  # one entry each, /openapi.json none
    statuses = {what: r.status_code for what, r, _ in done}
    assert statuses["public read"] == 200 and statuses["submission"] == 201
    assert statuses["unknown endpoint"] == 404 and statuses["bad token"] == 401
    assert statuses["outside grant"] == 403 and statuses["refused file"] == 422 and statuses["too large"] == 413
    assert statuses["failure"] == 500
    for (what, r, body), e in zip(done, log):
        assert e["method"] == r.request.method, what
        assert e["endpoint"] == r.request.url.raw_path.decode(), what
        assert e["status"] == r.status_code, what
        assert e["response_sha256"] == sha(r.content), what
        if what != "too large":  # refused by its Content-Length before a byte was read
            assert e["request_sha256"] == sha(body), what
        expected = "ok" if r.status_code < 400 else "refused" if r.status_code < 500 else "error"
        assert e["outcome"].split(";")[0] == expected, what
    by = {what: e for (what, _, _), e in zip(done, log)}
    assert by["submission"]["request_sha256"] != EMPTY  # the multipart body, hashed as it streamed in
    assert by["streamed request"]["request_sha256"] == sha(b"abc" + b"def" * 1000 + b"!")
    assert by["streamed response"]["response_sha256"] == sha(b"".join(f"part {i};".encode() for i in range(5)))
    assert by["too large"]["request_sha256"] == EMPTY
    assert "request body read in part (0 bytes)" in by["too large"]["outcome"]
    assert by["public read"]["endpoint"] == "/api/v1/territories?basis=34"


def test_the_member_is_logged_when_the_request_is_authenticated(logged):
    root, _, done = logged
    by = {what: e for (what, _, _), e in zip(done, _log(root))}
    for what in ("submission", "outside grant", "refused file"):
        assert by[what]["member"] == "HP_STAT", what
    assert by["reader"]["member"] == "READER"
    for what in ("public read", "unknown endpoint", "bad token", "failure"):
        assert by[what]["member"] is None, what


def test_the_chain_verifies(logged):
    from kinhteso.store import LOG_GENESIS, log_entry_hash

    root, _, done = logged
    log = _log(root)
    prev = LOG_GENESIS
    for e in log:  # recomputed here from the fields alone
        assert e["prev_hash"] == prev
        fields = [e[k] for k in ("entry_id", "logged_at", "member", "method", "endpoint", "status",
                                 "request_sha256", "response_sha256", "outcome")]
        fields[1] = fields[1].to_pydatetime()
        assert log_entry_hash(prev, fields) == e["entry_hash"]
        prev = e["entry_hash"]
    r = _cli("verify", "--workspace", str(root))
    assert r.exit_code == 0, r.output
    assert f"intact: {len(done)} entries" in r.output and prev in r.output


@pytest.fixture
def copy(logged, tmp_path):
    """A copy of the logged workspace, to tamper with."""
    root = tmp_path / "ws"
    shutil.copytree(logged[0], root)
    return root


def _sql(root: Path, sql: str, params=()):
    import duckdb

    con = duckdb.connect(str(root / "kinhteso.duckdb"))
    try:
        con.execute(sql, list(params))
    finally:
        con.close()


@pytest.mark.parametrize("column, value", [("status", 200), ("member", "READER"), ("response_sha256", "0" * 64),
                                           ("logged_at", dt.datetime(2020, 1, 1)), ("outcome", "ok")])
def test_editing_one_field_of_one_row_is_named(copy, column, value):
    _sql(copy, f"UPDATE exchange_log SET {column} = ? WHERE entry_id = 3", [value])
    r = _cli("verify", "--workspace", str(copy))
    assert r.exit_code == 1, r.output
    assert "LOG_BROKEN" in r.stderr and "Entry 3:" in r.stderr and "a field was changed" in r.stderr
    vi = CliRunner().invoke(__import__("kinhteso.cli", fromlist=["main"]).main,
                            ["--lang", "vi", "log", "verify", "--workspace", str(copy)])
    assert vi.exit_code == 1 and "Mục 3:" in vi.stderr


def test_a_row_rewritten_with_its_own_hash_recomputed_is_found_at_the_next_link(copy):
    from kinhteso.store import log_entry_hash

    import duckdb

    con = duckdb.connect(str(copy / "kinhteso.duckdb"))
    row = con.execute("SELECT entry_id, logged_at, member, method, endpoint, status, request_sha256, "
                      "response_sha256, outcome, prev_hash FROM exchange_log WHERE entry_id = 4").fetchone()
    forged = list(row[:9])
    forged[5] = 200  # the refused submission made to look accepted, with a hash that matches
    con.execute("UPDATE exchange_log SET status = 200, entry_hash = ? WHERE entry_id = 4",
                [log_entry_hash(row[9], forged)])
    con.close()
    r = _cli("verify", "--workspace", str(copy), "--format", "json")
    assert r.exit_code == 1
    assert '"entry_id": 5' in r.stdout and '"reason": "link"' in r.stdout
    assert "Entry 5:" in r.stderr and "entry 4" in r.stderr


def test_deleting_a_row_names_the_gap(copy):
    _sql(copy, "DELETE FROM exchange_log WHERE entry_id = 2")
    r = _cli("verify", "--workspace", str(copy))
    assert r.exit_code == 1
    assert "Entry 3: entry 2 before it is missing" in r.stderr
    _sql(copy, "DELETE FROM exchange_log WHERE entry_id = 1")
    r = _cli("verify", "--workspace", str(copy))
    assert r.exit_code == 1 and "Entry 3: entry 1–2 before it is missing" in r.stderr


def test_the_log_survives_a_restart_and_continues_the_chain(copy):
    from kinhteso.workspace import Workspace

    before = _log(copy)
    with _client(_app(copy)) as c:
        assert c.get("/api/v1/territories").status_code == 200
    after = _log(copy)
    assert after[:len(before)] == before
    assert after[-1]["entry_id"] == before[-1]["entry_id"] + 1
    assert after[-1]["prev_hash"] == before[-1]["entry_hash"]
    with Workspace.open(copy) as ws:
        assert ws.store.verify_log() is None


def test_concurrent_requests_never_fork_the_chain(copy):
    before = len(_log(copy))
    app = _app(copy)
    errors = []
    with _client(app) as c:
        def reader(i):
            for _ in range(10):
                r = c.post("/api/v1/_test/echo", content=f"request {i}".encode())
                if r.text != sha(f"request {i}".encode()):
                    errors.append(r.text)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    log = _log(copy)
    assert len(log) == before + 80
    assert [e["entry_id"] for e in log] == list(range(1, len(log) + 1))
    assert _cli("verify", "--workspace", str(copy)).exit_code == 0


def test_store_appends_from_many_threads_chain_one_after_another(tmp_path):
    from kinhteso.store import Store

    store = Store.open(tmp_path / "k.duckdb", create=True, owner=True)
    entry = {"member": None, "method": "GET", "endpoint": "/api/v1/x", "status": 200,
             "request_sha256": EMPTY, "response_sha256": EMPTY, "outcome": "ok"}
    try:
        threads = [threading.Thread(target=lambda: [store.append_log([entry, entry]) for _ in range(20)])
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.verify_log() is None
        assert store.log_head()[:2] == (240, 240)
    finally:
        store.close()


def test_export_writes_csv_for_an_auditor(logged, tmp_path):
    from kinhteso.store import LOG_GENESIS, log_entry_hash

    root, _, done = logged
    out = tmp_path / "audit" / "log.csv"
    r = _cli("export", "--since", dt.date.today().isoformat(), "--out", str(out), "--workspace", str(root))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len(done)
    assert list(rows[0]) == ["entry_id", "logged_at", "member", "method", "endpoint", "status", "request_sha256",
                             "response_sha256", "outcome", "prev_hash", "entry_hash"]
    prev = LOG_GENESIS  # the chain checked again from the CSV alone
    for row in rows:
        fields = [int(row["entry_id"]), dt.datetime.fromisoformat(row["logged_at"]), row["member"] or None,
                  row["method"], row["endpoint"], int(row["status"]), row["request_sha256"],
                  row["response_sha256"], row["outcome"]]
        assert row["prev_hash"] == prev and log_entry_hash(prev, fields) == row["entry_hash"]
        prev = row["entry_hash"]
    # to standard output; a moment after the last entry gives the header alone
    r = _cli("export", "--workspace", str(root))
    assert r.exit_code == 0 and len(list(csv.reader(io.StringIO(r.stdout)))) == len(done) + 1
    r = _cli("export", "--since", "2999-01-01", "--workspace", str(root))
    assert r.exit_code == 0 and r.stdout.strip().count("\n") == 0
    r = _cli("export", "--since", "yesterday", "--workspace", str(root))
    assert r.exit_code == 2 and "BAD_SINCE" in r.stderr


def test_a_failed_append_leaves_the_chain_whole(tmp_path, monkeypatch):
    import kinhteso.store as S

    store = S.Store.open(tmp_path / "k.duckdb", create=True, owner=True)
    entry = {"member": "HP_STAT", "method": "POST", "endpoint": "/api/v1/submissions", "status": 201,
             "request_sha256": EMPTY, "response_sha256": EMPTY, "outcome": "ok"}
    real, calls = S.log_entry_hash, []

    def failing_second(prev, fields):
        calls.append(fields)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return real(prev, fields)

    try:
        assert store.append_log([entry]) == [1]
        monkeypatch.setattr(S, "log_entry_hash", failing_second)
        with pytest.raises(RuntimeError):
            store.append_log([entry, entry])  # the batch's second entry fails: none of it is kept
        monkeypatch.setattr(S, "log_entry_hash", real)
        assert store.append_log([entry]) == [2]
        assert store.verify_log() is None and store.log_head()[:2] == (2, 2)
    finally:
        store.close()
