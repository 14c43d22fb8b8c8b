"""Results flow back (issue 12, item 4): a submission through the API changes a quarterly result
that ``GET /api/v1/changes`` reports to the member whose grant covers it and not to another;
webhooks receive the same items, a failing one is retried with back-off and every attempt logged."""

from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from conftest import ingest_rows, write_long_csv
from kinhteso.api.app import create_app
from kinhteso.api.changes import webhook_allowed
from kinhteso.service.refresh import refresh, refresh_after
from kinhteso.workspace import Workspace

A, B = "thue-hai-phong", "so-tc-hcm"
WEBHOOK = {"interval": 0.05, "attempts": 3, "backoff": 0.1, "timeout": 2.0}


def _rows(code: str, scale: float) -> list[list[str]]:
    """A 34-basis province: GRDP and GRDP_VA (software 62, food 10) by quarter 2019-Q1…2025-Q2,
    annual accounts 2019–2023 and a digitalisation coefficient."""
    out = []
    for y in range(2019, 2026):
        a62 = a10 = 0.0
        for q in range(1, 5):
            per = f"{y}-Q{q}"
            if per > "2025-Q2":
                break
            s62 = scale * 10 * 1.1 ** (y - 2019) * (1 + 0.05 * q)
            s10 = scale * 90 * 1.05 ** (y - 2019) * (1 + 0.02 * q)
            a62, a10 = a62 + s62, a10 + s10
            out += [["GRDP_VA", code, "34", "62", per, f"{s62:.6f}", "VND_BN"],
                    ["GRDP_VA", code, "34", "10", per, f"{s10:.6f}", "VND_BN"],
                    ["GRDP", code, "34", "_T", per, f"{(s62 + s10) * 1.1:.6f}", "VND_BN"]]
        if y <= 2023:
            out += [["GRDP_VA", code, "34", "62", str(y), f"{a62 * 1.02:.6f}", "VND_BN"],
                    ["GRDP_VA", code, "34", "10", str(y), f"{a10 * 0.99:.6f}", "VND_BN"],
                    ["GRDP", code, "34", "_T", str(y), f"{(a62 * 1.02 + a10 * 0.99) * 1.1:.6f}", "VND_BN"],
                    ["DIGITAL_COEF", code, "34", "C", str(y), "0.1", "RATIO"]]
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Hải Phòng (34:31) and Hồ Chí Minh City (34:79) with their quarterly figures stored; A may
    submit and read 34:31, B read 34:79 only; C submits without a read grant."""
    d = tmp_path_factory.mktemp("changes")
    ws = Workspace.init(d / "ws")
    r = ingest_rows(ws, d / "a.csv", _rows("31", 1.0) + _rows("79", 2.0), source="cuc-thong-ke")
    out = refresh(ws, [r.vintage_id])
    assert out.territories == ["34:31", "34:79"] and len(out.runs) == 2 and not out.failed
    tokens = {}
    for code, grants in ((A, [("submitter", "34:31"), ("reader", "34:31")]), (B, [("reader", "34:79")]),
                         ("cuc-hq", [("submitter", "34:31")])):
        ws.store.add_member(code, code, "tax")
        for role, terr in grants:
            ws.store.add_grant(code, role, ["*"], [terr])
        tokens[code] = ws.store.create_token(code)
    ws.close()
    return d / "ws", tokens


@pytest.fixture
def server(base, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(base[0], root)
    app = create_app(root)
    app.state.webhook_settings = dict(WEBHOOK)
    with TestClient(app) as client:
        yield client, app, base[1]


def _h(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}", "Accept-Language": "en"}


def _quarter(app, territory, period="2025-Q2"):
    df = app.state.ws.store.results(kind="quarterly", indicator="DE_VA", territory=territory, period=period)
    return float(df.value.iloc[0]), str(df.run_id.iloc[0])


def _submit(client, app, tokens, tmp_path, value="99") -> int:
    """A revises GRDP_VA of 34:31 (software, 2025-Q2) through the API; the refresh that follows
    is awaited."""
    f = write_long_csv(tmp_path / "revision.csv", [["GRDP_VA", "31", "34", "62", "2025-Q2", value, "VND_BN"]])
    with open(f, "rb") as fh:
        r = client.post("/api/v1/submissions", headers=_h(tokens, A), files={"file": ("revision.csv", fh, "text/csv")})
    assert r.status_code == 201, r.text
    assert app.state.refresher.wait_idle(60)
    return int(r.json()["vintage"])


def test_a_submission_changes_a_result_that_changes_reports_to_its_grant_only(server, tmp_path):
    client, app, tokens = server
    before, run0 = _quarter(app, "34:31")
    other = _quarter(app, "34:79")
    start = {who: client.get("/api/v1/changes?since=0", headers=_h(tokens, who)).json() for who in (A, B)}
    # from the beginning: each member sees the first vintage (it touches both) and its own run only
    assert {i["kind"] for i in start[A]["items"]} == {"vintage", "run"}
    assert all("34:79" not in i["territories"] for i in start[A]["items"] if i["kind"] == "run")
    assert all("34:31" not in i["territories"] for i in start[B]["items"] if i["kind"] == "run")

    vid = _submit(client, app, tokens, tmp_path)
    after, run1 = _quarter(app, "34:31")
    assert run1 != run0 and after != pytest.approx(before)     # the figure it fed changed
    assert _quarter(app, "34:79") == other                     # the other province's did not

    got = client.get(f"/api/v1/changes?since={start[A]['next']}", headers=_h(tokens, A))
    assert got.status_code == 200, got.text
    items = got.json()["items"]
    assert [(i["kind"], i.get("vintage_id") or i.get("run_id")) for i in items] == [("vintage", vid), ("run", run1)]
    assert items[0]["indicators"] == ["GRDP_VA"] and items[0]["territories"] == ["34:31"]
    assert set(items[1]["indicators"]) == {"DE_VA", "DE_SHARE", "GRDP"} and items[1]["territories"] == ["34:31"]
    assert items[0]["cursor"] < items[1]["cursor"] == got.json()["next"]
    # nothing new after it
    again = client.get(f"/api/v1/changes?since={got.json()['next']}", headers=_h(tokens, A)).json()
    assert again["items"] == [] and again["next"] == got.json()["next"]

    hidden = client.get(f"/api/v1/changes?since={start[B]['next']}", headers=_h(tokens, B)).json()
    assert hidden["items"] == [] and hidden["next"] >= got.json()["next"]
    every = client.get("/api/v1/changes?since=0&limit=1000", headers=_h(tokens, B)).json()["items"]
    assert not any(i.get("vintage_id") == vid or i.get("run_id") == run1 for i in every)

    # paging: limit 1 walks the same items one by one
    page = client.get(f"/api/v1/changes?since={start[A]['next']}&limit=1", headers=_h(tokens, A)).json()
    assert [i["cursor"] for i in page["items"]] == [items[0]["cursor"]] and page["more"] is True
    csv = client.get(f"/api/v1/changes?since={start[A]['next']}", headers={**_h(tokens, A), "Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.headers["x-kinhteso-next"] == str(items[1]["cursor"])
    assert csv.text.splitlines()[0].startswith("cursor,")


def test_changes_needs_a_read_grant_and_a_good_cursor(server):
    client, _, tokens = server
    r = client.get("/api/v1/changes?since=0", headers={"Accept-Language": "en"})
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"
    r = client.get("/api/v1/changes?since=0", headers=_h(tokens, "cuc-hq"))  # a submitter, no read grant
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN" and r.json()["vi"]
    for bad in ("-1", "abc", "1e9999"):
        r = client.get(f"/api/v1/changes?since={bad}", headers=_h(tokens, A))
        assert r.status_code == 422 and r.json()["code"] == "BAD_REQUEST"
    assert client.get("/api/v1/changes?since=0&limit=0", headers=_h(tokens, A)).status_code == 422
    assert client.post("/api/v1/subscriptions", json={"url": "http://127.0.0.1:9/x"},
                       headers=_h(tokens, "cuc-hq")).status_code == 403


def test_the_routes_declare_their_action():
    app = create_app("unused")
    spec = app.openapi()
    for path in ("/api/v1/changes", "/api/v1/subscriptions", "/api/v1/subscriptions/{subscription_id}",
                 "/api/v1/subscriptions/{subscription_id}/deliveries"):
        for op in spec["paths"][path].values():
            assert op["x-kinhteso-action"] == "read"
            assert any("example" in c for resp in op["responses"].values() for c in resp.get("content", {}).values())


def test_the_service_refresh_without_the_api(base, tmp_path):
    """``refresh_after`` alone: a vintage without inputs of the accounts recomputes nothing; a
    63-basis province's revision reaches its 34-basis successor."""
    root = tmp_path / "ws"
    shutil.copytree(base[0], root)
    ws = Workspace.open(root)
    try:
        v = ingest_rows(ws, tmp_path / "x.csv", [["RETAIL_SALES", "31", "34", "_T", "2025-05", "5", "VND_BN"]])
        assert refresh_after(ws, v.vintage_id) == []
        v = ingest_rows(ws, tmp_path / "y.csv", [["GRDP_VA", "30", "63", "62", "2024-Q4", "7", "VND_BN"]])
        out = refresh(ws, [v.vintage_id])
        assert out.territories == ["34:31"] and len(out.runs) == 1 and not out.failed
        v = ingest_rows(ws, tmp_path / "z.csv", [["GRDP_VA", "VN", "", "62", "2024", "7", "VND_BN"]])
        out = refresh(ws, [v.vintage_id])  # the nation has too few years: reported, not raised
        assert out.territories == ["VN"] and out.runs == [] and out.failed[0]["code"] == "TOO_FEW_YEARS"
    finally:
        ws.close()


# --- webhooks ---------------------------------------------------------------------------------------
class _Hook:
    """A loopback HTTP server recording each POST; it answers ``fail`` times with 503 first
    (``fail=None``: always)."""

    def __init__(self, fail: int | None = 0) -> None:
        self.bodies: list[dict] = []
        self.times: list[float] = []
        self.fail = fail
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.times.append(time.monotonic())
                failing = hook.fail is None or len(hook.times) <= hook.fail
                if not failing:
                    hook.bodies.append(body)
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def items(self) -> list[dict]:
        return [i for b in self.bodies for i in b["items"]]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hooks():
    made: list[_Hook] = []

    def make(fail: int | None = 0) -> _Hook:
        made.append(_Hook(fail))
        return made[-1]

    yield make
    for h in made:
        h.close()


def _until(check, seconds: float = 20.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_webhooks_receive_the_items_of_their_grant(server, hooks, tmp_path):
    client, app, tokens = server
    good, other = hooks(), hooks()
    r = client.post("/api/v1/subscriptions", json={"url": good.url}, headers=_h(tokens, A))
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["member"] == A and sub["url"] == good.url and sub["revoked_at"] is None
    assert client.post("/api/v1/subscriptions", json={"url": good.url}, headers=_h(tokens, A)).status_code == 200
    assert client.post("/api/v1/subscriptions", json={"url": other.url}, headers=_h(tokens, B)).status_code == 201
    vid = _submit(client, app, tokens, tmp_path)
    _, run1 = _quarter(app, "34:31")
    assert _until(lambda: {i.get("vintage_id") or i.get("run_id") for i in good.items()} >= {vid, run1})
    feed = client.get(f"/api/v1/changes?since={sub['cursor']}", headers=_h(tokens, A)).json()
    assert good.items() == feed["items"]  # the same items as the feed, only the new ones
    assert good.bodies[-1]["next"] == feed["next"] and good.bodies[-1]["subscription"] == sub["subscription_id"]
    app.state.delivery_worker.wake()
    time.sleep(0.3)
    assert other.items() == []  # B's grant does not cover 34:31
    log = client.get(f"/api/v1/subscriptions/{sub['subscription_id']}/deliveries", headers=_h(tokens, A)).json()
    assert log and all(d["status"] == 200 and d["error"] is None for d in log)
    assert log[-1]["change_id"] == feed["next"]
    listed = client.get("/api/v1/subscriptions", headers=_h(tokens, A)).json()
    assert [s["subscription_id"] for s in listed] == [sub["subscription_id"]] and listed[0]["cursor"] == feed["next"]
    # B cannot see or revoke A's subscription; A revokes it
    assert client.delete(f"/api/v1/subscriptions/{sub['subscription_id']}", headers=_h(tokens, B)).status_code == 404
    gone = client.delete(f"/api/v1/subscriptions/{sub['subscription_id']}", headers=_h(tokens, A))
    assert gone.status_code == 200 and gone.json()["revoked_at"]
    assert client.get("/api/v1/subscriptions", headers=_h(tokens, A)).json() == []


def test_a_failing_webhook_is_retried_with_back_off_and_logged(server, hooks, tmp_path):
    client, app, tokens = server
    flaky, dead = hooks(fail=2), hooks(fail=None)
    s1 = client.post("/api/v1/subscriptions", json={"url": flaky.url}, headers=_h(tokens, A)).json()
    s2 = client.post("/api/v1/subscriptions", json={"url": dead.url}, headers=_h(tokens, A)).json()
    _submit(client, app, tokens, tmp_path)
    store = app.state.ws.store
    last = store.latest_change_id()

    def given_up() -> bool:
        log = store.deliveries(s2["subscription_id"])
        return bool(len(log)) and int(log.change_id.max()) == last and log.error.iloc[-1].startswith("gave up")

    assert _until(lambda: flaky.bodies and flaky.bodies[-1]["next"] == last and given_up())
    log1 = store.deliveries(s1["subscription_id"])
    assert list(log1.attempt[:3]) == [1, 2, 3] and list(log1.status[:3]) == [503, 503, 200]
    assert log1.error[0] == "HTTP 503" and log1.error[2] is None
    # exponential back-off: 0.1 s before the second attempt, 0.2 s before the third
    gaps = [b - a for a, b in zip(flaky.times, flaky.times[1:])]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19
    time.sleep(0.5)  # given up: not tried again
    log2 = store.deliveries(s2["subscription_id"])
    assert len(dead.times) == len(log2)
    # each delivery (a retry sends what is pending then: the run may join the vintage) is tried
    # three times, then given up
    assert len(log2) % 3 == 0 and list(log2.attempt) == [1, 2, 3] * (len(log2) // 3)
    assert set(log2.status) == {503}
    assert all(str(e).startswith("gave up after 3 attempts: HTTP 503") for e in log2.error[2::3])
    assert all(e == "HTTP 503" for i, e in enumerate(log2.error) if i % 3 != 2)
    via_api = client.get(f"/api/v1/subscriptions/{s2['subscription_id']}/deliveries", headers=_h(tokens, A)).json()
    assert [d["attempt"] for d in via_api][:3] == [1, 2, 3] and via_api[0]["status"] == 503


@pytest.mark.parametrize("url", ["http://example.com/hook", "ftp://127.0.0.1/x", "file:///etc/passwd",
                                 "http://user:pw@127.0.0.1/x", "http://127.0.0.1/a\r\nX-Evil: 1", "http:///nohost",
                                 "javascript:alert(1)", "http://10.0.0.1/x", "http://127.0.0.1:99999/x"])
def test_a_webhook_url_off_loopback_or_malformed_is_refused(server, url):
    client, app, tokens = server
    r = client.post("/api/v1/subscriptions", json={"url": url}, headers=_h(tokens, A))
    assert r.status_code == 422 and r.json()["code"] == "BAD_WEBHOOK_URL" and r.json()["vi"] and r.json()["en"]
    assert app.state.ws.store.subscriptions().empty  # nothing stored


def test_webhook_hosts_can_be_configured():
    assert webhook_allowed("https://hooks.haiphong.gov.vn/x", {"hooks.haiphong.gov.vn"})[0]
    assert not webhook_allowed("https://evil.example/x", {"hooks.haiphong.gov.vn"})[0]
    assert webhook_allowed("http://[::1]:8080/x", set())[0] and webhook_allowed("http://localhost/x", set())[0]


def test_subscription_body_must_be_json(server):
    client, _, tokens = server
    r = client.post("/api/v1/subscriptions", content=b"{not json", headers={**_h(tokens, A),
                                                                            "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "BAD_JSON"
    r = client.post("/api/v1/subscriptions", json={"link": "http://127.0.0.1/x"}, headers=_h(tokens, A))
    assert r.status_code == 422 and r.json()["code"] == "BAD_REQUEST"


def test_the_refresher_merges_queued_refreshes_and_closes_cleanly(monkeypatch):
    import kinhteso.service.refresh as R

    batches, started = [], threading.Event()

    def slow(ws, vids):
        started.set()
        time.sleep(0.2)
        batches.append(sorted(vids))
        return R.RefreshOutcome(sorted(vids))

    monkeypatch.setattr(R, "refresh", slow)
    r = R.Refresher(None, pause=0.05)
    assert r.submit(1) and started.wait(5)
    assert r.submit(2) and r.submit(3)  # queued while the first runs: refreshed together
    assert r.wait_idle(5) and batches == [[1], [2, 3]] and len(r.outcomes) == 2
    started.clear()
    r.submit(4)
    assert started.wait(5)
    r.submit(5)
    r.close(timeout=0.01)  # the refresh under way is awaited, the queued one dropped
    assert batches == [[1], [2, 3], [4]] and not r.submit(6)
