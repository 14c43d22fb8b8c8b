"""The HTTP API's read routes and submissions: a real uvicorn server on a loopback port for a few
round trips (JSON, CSV, a submission 201/422/200), TestClient for the rest; bad input refused
with a clear status, a bilingual body and nothing stored."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_long_csv

ROWS = [["GRDP_VA", "34:31", "34", "62", "2025", "4321.5", "VND_BN"],
        ["GRDP_VA", "34:31", "34", "61", "2025", "1200", "VND_BN"]]


def _members(ws) -> dict[str, str]:
    from kinhteso.service import members as M

    tokens = {}
    for code, role, inds, terrs in [("HP_STAT", "submitter", "GRDP_VA", "34:31"), ("READER", "reader", "*", "*"),
                                    ("NARROW", "reader", "GRDP_VA", "34:01"), ("ADMIN", "admin", "*", "*")]:
        M.add_member(ws, M.MemberAddRequest(code, f"Member {code}"))
        M.grant(ws, M.GrantRequest(code, role, inds, terrs))
        tokens[code] = M.create_token(ws, M.TokenCreateRequest(code)).token
    return tokens


@pytest.fixture(scope="module")
def api_ws(tmp_path_factory):
    """A workspace with the published figures and four members; their tokens."""
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    root = tmp_path_factory.mktemp("api") / "ws"
    init(InitRequest(root))
    with Workspace.open(root) as ws:
        tokens = _members(ws)
    return root, tokens


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(api_ws):
    """A real server (uvicorn in a thread) on a free loopback port; stopped after the module."""
    import uvicorn

    from kinhteso.api import create_app

    root, tokens = api_ws
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(root), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", tokens
    srv.should_exit = True
    t.join(10)


@pytest.fixture
def client(api_ws):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app

    root, tokens = api_ws
    with TestClient(create_app(root)) as c:
        c.tokens = tokens
        yield c


def _auth(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


def _vintage_count(base: str, token: str) -> int:
    return len(httpx.get(f"{base}/api/v1/vintages", headers=_auth(token)).json())


# --- a real server ------------------------------------------------------------------------------
def test_real_server_json_csv_and_a_submission(server, tmp_path):
    base, tokens = server
    r = httpx.get(f"{base}/api/v1/territories", params={"basis": 34})
    assert r.status_code == 200 and any(t["key"] == "34:31" for t in r.json())
    r = httpx.get(f"{base}/api/v1/territories", headers={"Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv") and r.text.startswith("key,basis,code")
    before = _vintage_count(base, tokens["ADMIN"])

    good = write_long_csv(tmp_path / "grdp.csv", ROWS)
    files = {"file": ("grdp.csv", good.read_bytes(), "text/csv")}
    r = httpx.post(f"{base}/api/v1/submissions", files=files, headers=_auth(tokens["HP_STAT"]))
    assert r.status_code == 201, r.text
    vid = r.json()["vintage"]
    assert r.json()["stored"] and r.json()["rows"] == 2 and r.json()["source"] == "HP_STAT"
    r2 = httpx.post(f"{base}/api/v1/submissions", files=files, headers=_auth(tokens["HP_STAT"]))
    assert r2.status_code == 200 and r2.json()["vintage"] == vid and not r2.json()["stored"]

    bad = write_long_csv(tmp_path / "bad.csv", [ROWS[0], ["GRDP_VA", "Atlantis", "34", "62", "2025", "x", "VND_BN"]])
    r3 = httpx.post(f"{base}/api/v1/submissions", headers=_auth(tokens["HP_STAT"], **{"Accept-Language": "en"}),
                    files={"file": ("bad.csv", bad.read_bytes(), "text/csv")})
    assert r3.status_code == 422
    body = r3.json()
    assert body["code"] == "REJECTED" and body["message"] == body["en"] and body["vi"]
    assert {p["code"] for p in body["problems"]} and all(p["file"] == "bad.csv" for p in body["problems"])
    assert str(tmp_path) not in r3.text and "upload-" not in r3.text  # no server path leaks
    assert _vintage_count(base, tokens["ADMIN"]) == before + 1

    r = httpx.get(f"{base}/api/v1/observations", params={"indicator": "GRDP_VA", "territory": "34:31"},
                  headers=_auth(tokens["READER"]))
    assert r.status_code == 200 and {row["value"] for row in r.json()} >= {4321.5, 1200.0}
    r = httpx.get(f"{base}/api/v1/observations", params={"indicator": "GRDP_VA", "territory": "34:31"},
                  headers=_auth(tokens["READER"], Accept="text/csv"))
    assert r.status_code == 200 and "4321.5" in r.text


# --- submissions: grants, bad input --------------------------------------------------------------
def _post(client, token, name, data: bytes, ctype="text/csv", **params):
    return client.post("/api/v1/submissions", headers=_auth(token), params=params, files={"file": (name, data, ctype)})


def test_a_submission_outside_the_grant_is_refused_whole(client, tmp_path):
    n = len(client.get("/api/v1/vintages", headers=_auth(client.tokens["ADMIN"])).json())
    mixed = write_long_csv(tmp_path / "m.csv", [ROWS[0], ["GRDP_VA", "34:01", "34", "62", "2025", "9", "VND_BN"]])
    r = _post(client, client.tokens["HP_STAT"], "m.csv", mixed.read_bytes())
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN" and "34:01" in r.json()["en"]
    r = _post(client, client.tokens["READER"], "m.csv", mixed.read_bytes())  # a reader may not submit
    assert r.status_code == 403
    r = client.post("/api/v1/submissions", files={"file": ("m.csv", mixed.read_bytes(), "text/csv")})
    assert r.status_code == 401
    # another agency's name needs an admin grant
    good = write_long_csv(tmp_path / "g.csv", [ROWS[0]])
    assert _post(client, client.tokens["HP_STAT"], "g.csv", good.read_bytes(), source="OTHER").status_code == 403
    assert len(client.get("/api/v1/vintages", headers=_auth(client.tokens["ADMIN"])).json()) == n


def test_the_same_file_again_is_checked_against_the_grant_too(client, tmp_path):
    data = write_long_csv(tmp_path / "hn.csv", [["GRDP_VA", "34:01", "34", "62", "2025", "77", "VND_BN"]]).read_bytes()
    r = _post(client, client.tokens["ADMIN"], "hn.csv", data, source="HP_STAT")
    assert r.status_code == 201
    assert _post(client, client.tokens["HP_STAT"], "hn.csv", data).status_code == 403


def test_bad_uploads(client, tmp_path):
    tok = client.tokens["HP_STAT"]
    n = len(client.get("/api/v1/vintages", headers=_auth(client.tokens["ADMIN"])).json())
    r = _post(client, tok, "../../etc/passwd.exe", b"MZ\x90\x00binary", "application/octet-stream")
    assert r.status_code == 422 and r.json()["problems"][0]["code"] in ("FILE_TYPE", "ENCODING")
    assert "/etc" not in r.text and ".." not in r.json()["problems"][0]["file"]
    r = client.post("/api/v1/submissions", headers=_auth(tok, **{"Content-Type": "application/json"}),
                    content=b'{"rows": []}')
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = client.post("/api/v1/submissions", headers=_auth(tok), data={"source": "HP_STAT"},
                    files={"other": ("x.csv", b"a,b\n", "text/csv")})
    assert r.status_code == 422 and r.json()["code"] == "NO_FILE"
    client.app.state.max_upload = 1000
    try:
        r = _post(client, tok, "big.csv", b"indicator,territory\n" + b"x" * 5000)
        assert r.status_code == 413 and r.json()["code"] == "TOO_LARGE" and r.json()["vi"]
    finally:
        client.app.state.max_upload = 200 * 1024 * 1024
    r = _post(client, tok, "fx.csv", b"indicator,territory,basis,sector,period,value,unit\n"
                                     b"=HYPERLINK(\"http://x\"),34:31,34,62,2025,1,VND_BN\n")
    assert r.status_code == 422
    assert len(client.get("/api/v1/vintages", headers=_auth(client.tokens["ADMIN"])).json()) == n


def test_safe_name_never_leaves_the_folder():
    from kinhteso.api.submissions import safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Windows\\evil.csv") == "evil.csv"
    assert safe_name("..") == "upload" and safe_name(None) == "upload"
    assert "/" not in safe_name("a/b\x00c\r\n.csv") and "\n" not in safe_name("a\r\nb.csv")


# --- reads -------------------------------------------------------------------------------------
def test_public_and_read_routes(client):
    assert client.get("/api/v1/indicators").status_code == 200
    fig = client.get("/api/v1/figure", params={"territory": "VN", "period": "2024"})
    assert fig.status_code == 200 and fig.json()["territory"] == "VN"
    assert client.get("/api/v1/observations").status_code == 401
    rd = _auth(client.tokens["READER"])
    for path in ("/api/v1/observations", "/api/v1/vintages", "/api/v1/results", "/api/v1/nowcast"):
        assert client.get(path, headers=rd).status_code == 200, path
    # a narrow reader: within its grant, yes; an open query reaching outside it, no
    nr = _auth(client.tokens["NARROW"])
    assert client.get("/api/v1/observations", params={"indicator": "GRDP_VA", "territory": "34:01"},
                      headers=nr).status_code == 200
    assert client.get("/api/v1/observations", params={"indicator": "GRDP_VA", "territory": "34:31"},
                      headers=nr).status_code == 403
    assert client.get("/api/v1/observations", headers=nr).status_code == 403
    # vintages: a member without a grant on everything sees only its own submissions
    own = client.get("/api/v1/vintages", headers=_auth(client.tokens["HP_STAT"]))
    assert own.status_code == 200 and {v["source"] for v in own.json()} <= {"HP_STAT"}
    assert client.post("/api/v1/nowcast", params={"territory": "34:31"}, headers=rd).status_code == 403


def test_csv_output_is_neutralised(client, tmp_path):
    data = write_long_csv(tmp_path / "n.csv", [ROWS[0]]).read_bytes()
    assert _post(client, client.tokens["ADMIN"], "n.csv", data, source="=cmd|'/c calc'!A1").status_code == 422
    r = client.get("/api/v1/indicators", headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert all(not line.startswith(("=", "+", "@")) for line in r.text.splitlines())


def test_http_errors_are_bilingual(client):
    r = client.get("/api/v1/nope", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND" and r.json()["message"] == r.json()["en"]
    r = client.delete("/api/v1/territories")
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED" and r.json()["vi"]
    r = client.get("/api/v1/index", params={"period": "2024", "n": "lots"}, headers=_auth(client.tokens["READER"]))
    assert r.status_code == 422 and r.json()["code"] == "BAD_REQUEST" and r.json()["problems"]
    r = client.get("/api/v1/accounts", params={"period": "2024", "territory": "Atlantis"},
                   headers=_auth(client.tokens["READER"]))
    assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_TERRITORY"
    evil = "x\r\nSet-Cookie: a=b"
    r = client.get("/api/v1/figure", params={"territory": evil, "period": "2024"})
    assert "set-cookie" not in {k.lower() for k in r.headers} and r.status_code in (400, 404, 422)
    r = client.get("/api/v1/territories", headers={"Content-Length": "99999999"})
    assert r.status_code == 413


def test_every_route_declares_its_action_and_has_an_example(client):
    spec = client.get("/openapi.json").json()
    ours = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/v1/")}
    assert {"/api/v1/territories", "/api/v1/indicators", "/api/v1/observations", "/api/v1/vintages",
            "/api/v1/results", "/api/v1/figure", "/api/v1/accounts", "/api/v1/quarterly", "/api/v1/nowcast",
            "/api/v1/index", "/api/v1/gaps", "/api/v1/plan", "/api/v1/submissions"} <= set(ours)
    for path, ops in ours.items():
        for method, op in ops.items():
            assert op.get("x-kinhteso-action") in ("read", "submit", "admin", "public"), (method, path)
            assert "example" in str(op.get("responses", {})), (method, path)


def test_api_reference_is_current():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "scripts" / "gen_api_docs.py"), "--check"], capture_output=True)
    assert r.returncode == 0, "docs/api.md is out of date: run .venv/bin/python scripts/gen_api_docs.py"
