"""Members, grants, tokens and authorisation of the HTTP API (issue 12, item 2).

- tokens: shown once, stored only as their SHA-256, refused once revoked (or their member is);
- the CLI: ``member add|list|revoke``, ``grant``, ``token create|revoke``;
- 401 and 403 in Vietnamese and English (``Accept-Language``);
- THE MATRIX: every route of ``create_app(...)`` under ``/api/v1`` and ``/sdmx`` that declares
  ``x-kinhteso-action`` × every role (submitter, reader, admin, a member without grants,
  anonymous) × in and out of its grant, on a public server and on a ``--private`` one. The routes
  are enumerated from the app when the test runs, so a route added later is covered without
  touching this file: its sample parameters come from :data:`SAMPLES`, or else from its OpenAPI
  parameters (known names in :data:`GENERIC`, then the schema's example); a route that gets no
  sample either way fails the test, named.

The workspace is a copy of the demo (the session fixture ``demo_run``, shared with other tests),
so that every route has data to answer from and "allowed" can be asserted as a 2xx.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from kinhteso.api.auth import ACTIONS, ROLES, ApiAuthError, Grant, Member, authorize
from kinhteso.cli import main

PREFIXES = ("/api/v1", "/sdmx")
ACCOUNTS = ("DE_SHARE", "DE_VA", "GRDP")
NOWCAST = ("DE_SHARE", "DE_VA")
ALL = ("*",)


def _submission_csv() -> bytes:
    return (b"indicator,territory,basis,sector,period,value,unit\n"
            b"PORT_TEU,31,34,_T,2024,1234567,TEU\n")


def _subscription(client, headers: dict, tag: str) -> dict:
    """A subscription of the caller, for the routes that act on one (an id nobody has when the
    caller may not subscribe: it is refused before the id is looked up)."""
    r = client.post("/api/v1/subscriptions", json={"url": f"http://127.0.0.1:9/kinhteso/{tag}"}, headers=headers)
    if r.status_code in (200, 201):
        return {"subscription_id": r.json()["subscription_id"]}
    return {"subscription_id": 999999}


#: (method, path) → a valid request: ``params`` (query), ``path`` (path parameters), ``json`` or
#: ``files`` (body), ``setup`` (a callable giving path parameters for the caller), and ``scope``:
#: the (indicators, territories) the request touches, which the "in" grant gives and the "out"
#: grant does not (``*``: the route needs a grant on all of them); no ``scope``: the route touches
#: nothing in particular (it lists what the caller's grant covers), so any grant of the role
#: will do. ``own``: any member may call it, seeing only its own things (e.g. its submissions).
SAMPLES: dict[tuple[str, str], dict] = {
    ("GET", "/api/v1/territories"): {"params": {"basis": 34}},
    ("GET", "/api/v1/indicators"): {},
    ("GET", "/api/v1/observations"): {"params": {"indicator": "GRDP_VA", "territory": "34:31"},
                                      "scope": (("GRDP_VA",), ("34:31",))},
    ("GET", "/api/v1/vintages"): {"scope": (ALL, ALL), "own": True},
    ("GET", "/api/v1/results"): {"params": {"indicator": "DE_SHARE", "territory": "34:31"},
                                 "scope": (("DE_SHARE",), ("34:31",))},
    ("GET", "/api/v1/figure"): {"params": {"territory": "Hải Phòng", "period": "2024", "indicator": "DE_SHARE"},
                                "scope": (("DE_SHARE",), ("34:31",))},
    ("GET", "/api/v1/accounts"): {"params": {"period": "2024", "territory": "34:31"}, "scope": (ACCOUNTS, ("34:31",))},
    ("GET", "/api/v1/quarterly"): {"params": {"territory": "34:31", "year": 2024}, "scope": (ACCOUNTS, ("34:31",))},
    ("GET", "/api/v1/nowcast"): {"params": {"territory": "34:31"}, "scope": (NOWCAST, ("34:31",))},
    ("POST", "/api/v1/nowcast"): {"params": {"territory": "34:31"}, "scope": (NOWCAST, ("34:31",))},
    ("GET", "/api/v1/index"): {"params": {"period": "2024", "n": 0}, "scope": (ALL, ALL)},
    ("GET", "/api/v1/gaps"): {"params": {"territory": "34:31", "indicator": "DE_SHARE"},
                              "scope": (("DE_SHARE",), ("34:31",))},
    ("GET", "/api/v1/plan"): {"params": {"territory": "34:31", "indicator": "DE_SHARE", "target_year": 2030},
                              "scope": (("DE_SHARE",), ("34:31",))},
    ("POST", "/api/v1/submissions"): {"files": {"file": ("port.csv", _submission_csv(), "text/csv")},
                                      "scope": (("PORT_TEU",), ("34:31",))},
    ("GET", "/api/v1/changes"): {"params": {"since": 0}},
    ("POST", "/api/v1/subscriptions"): {"json": {"url": "http://127.0.0.1:9/kinhteso/matrix"}},
    ("GET", "/api/v1/subscriptions"): {},
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): {"setup": _subscription},
    ("GET", "/api/v1/subscriptions/{subscription_id}/deliveries"): {"setup": _subscription},
    # shared back (docs/sharing.md): a member's own contributions and records; aggregates under the rule
    ("GET", "/api/v1/contributions"): {"scope": (ALL, ALL), "own": True},
    ("GET", "/api/v1/records/{dataset}"): {"path": {"dataset": "container_events"}, "scope": (ALL, ALL), "own": True},
    ("GET", "/api/v1/aggregates/{dataset}"): {"path": {"dataset": "container_events"}, "params": {"territory": "34:31"},
                                              "scope": (("PORT_IMPORT_DWELL_H", "PORT_IMPORT_DWELL_P90_H",
                                                         "PORT_IMPORT_CONTAINERS"), ("34:31",))},
    # an open SDMX query is checked against the territories of the rows it returns: a flow of few rows
    ("GET", "/sdmx/data/{flow}"): {"path": {"flow": "DE_SHARE"}, "scope": (("DE_SHARE",), ALL)},
    ("GET", "/sdmx/data/{flow}/{key}"): {"path": {"flow": "GRDP_VA", "key": "A.34_31.."},
                                          "scope": (("GRDP_VA",), ("34:31",))},
}
#: values for parameters of a path not in SAMPLES, by name (the indicator and territory ones scope it)
GENERIC = {"indicator": "GRDP_VA", "flow": "GRDP_VA", "territory": "34:31", "period": "2024", "year": 2024,
           "since": 0, "target_year": 2030, "startPeriod": "2020", "endPeriod": "2024"}
_INDICATOR_NAMES, _TERRITORY_NAMES = ("indicator", "indicators", "flow"), ("territory", "territories")


# --------------------------------------------------------------------------- tokens and the store


@pytest.fixture
def ws(tmp_path):
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    init(InitRequest(tmp_path / "ws", published=False))
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def test_a_token_is_shown_once_and_stored_only_as_its_hash(ws):
    from kinhteso.api.auth import member_from_token
    from kinhteso.service.members import (
        GrantRequest,
        MemberAddRequest,
        TokenCreateRequest,
        add_member,
        create_token,
        grant,
        list_members,
    )

    add_member(ws, MemberAddRequest("HP_TAX", "Cục Thuế Hải Phòng", "tax"))
    grant(ws, GrantRequest("HP_TAX", "submitter", "GRDP_VA,einvoice_revenue", "Hải Phòng,VN"))
    one, two = create_token(ws, TokenCreateRequest("HP_TAX")), create_token(ws, TokenCreateRequest("HP_TAX"))
    assert one.token != two.token and len(one.token) >= 32
    stored = ws.store._read("SELECT * FROM tokens")
    assert len(stored) == 2
    text = stored.to_csv()
    assert one.token not in text and two.token not in text  # never at rest
    assert hashlib.sha256(one.token.encode()).hexdigest() in set(stored.token_sha256)
    assert one.token not in repr([m.as_dict() for m in list_members(ws)])  # never shown again
    m = member_from_token(ws.store, one.token)
    assert m == Member("HP_TAX", "Cục Thuế Hải Phòng", "tax",
                       (Grant("submitter", ("EINVOICE_REVENUE", "GRDP_VA"), ("34:31", "VN")),))
    assert member_from_token(ws.store, one.token + "x") is None


def test_revoked_tokens_and_revoked_members_stop_working(ws):
    from kinhteso.api.auth import member_from_token
    from kinhteso.errors import UsageError
    from kinhteso.service.members import (
        MemberAddRequest,
        TokenCreateRequest,
        TokenRevokeRequest,
        add_member,
        create_token,
        revoke_member,
        revoke_tokens,
    )

    add_member(ws, MemberAddRequest("A", "Agency A"))
    t1, t2, t3 = (create_token(ws, TokenCreateRequest("A")).token for _ in range(3))
    assert revoke_tokens(ws, TokenRevokeRequest(token=t1)).revoked == 1
    assert member_from_token(ws.store, t1) is None and member_from_token(ws.store, t2) is not None
    with pytest.raises(UsageError) as e:
        revoke_tokens(ws, TokenRevokeRequest(token=t1))
    assert e.value.code == "UNKNOWN_TOKEN"
    assert revoke_tokens(ws, TokenRevokeRequest(member="A")).revoked == 2
    assert member_from_token(ws.store, t2) is None and member_from_token(ws.store, t3) is None
    t4 = create_token(ws, TokenCreateRequest("A")).token
    assert member_from_token(ws.store, t4) is not None
    assert revoke_member(ws, "A") is True and revoke_member(ws, "A") is False
    assert member_from_token(ws.store, t4) is None  # a revoked member's tokens stop working
    with pytest.raises(UsageError) as e:
        create_token(ws, TokenCreateRequest("A"))
    assert e.value.code == "MEMBER_REVOKED"


@pytest.mark.parametrize(("call", "code"), [
    (lambda s: s.add_member(s.ws, s.MemberAddRequest("HP_TAX", "again")), "DUPLICATE_MEMBER"),
    (lambda s: s.add_member(s.ws, s.MemberAddRequest("bad code!", "x")), "BAD_MEMBER_CODE"),
    (lambda s: s.add_member(s.ws, s.MemberAddRequest("OK", "=cmd|' /C calc'!A0")), "BAD_MEMBER_NAME"),
    (lambda s: s.add_member(s.ws, s.MemberAddRequest("OK", "x", "bank")), "BAD_MEMBER_KIND"),
    (lambda s: s.grant(s.ws, s.GrantRequest("NOBODY", "reader")), "UNKNOWN_MEMBER"),
    (lambda s: s.grant(s.ws, s.GrantRequest("HP_TAX", "owner")), "BAD_ROLE"),
    (lambda s: s.grant(s.ws, s.GrantRequest("HP_TAX", "reader", "GRDP_VA,NOPE")), "UNKNOWN_INDICATOR"),
    (lambda s: s.grant(s.ws, s.GrantRequest("HP_TAX", "reader", "*", "34:31,Atlantis")), "UNKNOWN_TERRITORY"),
    (lambda s: s.create_token(s.ws, s.TokenCreateRequest("NOBODY")), "UNKNOWN_MEMBER"),
    (lambda s: s.revoke_tokens(s.ws, s.TokenRevokeRequest()), "TOKEN_REVOKE_TARGET"),
])
def test_bad_requests_are_refused_with_a_code_and_nothing_stored(ws, call, code):
    import types

    from kinhteso.errors import KinhtesoError
    from kinhteso.service import members as S

    S.add_member(ws, S.MemberAddRequest("HP_TAX", "Cục Thuế Hải Phòng", "tax"))
    before = (len(ws.store.members()), len(ws.store.grants()), len(ws.store._read("SELECT * FROM tokens")))
    with pytest.raises(KinhtesoError) as e:
        call(types.SimpleNamespace(ws=ws, **{n: getattr(S, n) for n in S.__all__}))
    assert e.value.code == code and e.value.vi and e.value.en and e.value.vi != e.value.en
    assert (len(ws.store.members()), len(ws.store.grants()), len(ws.store._read("SELECT * FROM tokens"))) == before


# --------------------------------------------------------------------------- the CLI


def test_the_cli_adds_members_grants_and_tokens(tmp_path):
    import json

    from kinhteso.service.workspace import InitRequest, init

    init(InitRequest(tmp_path / "ws", published=False))
    w = ["--workspace", str(tmp_path / "ws")]
    run = CliRunner().invoke
    r = run(main, ["--lang", "en", "member", "add", "--code", "HP_PORT", "--name", "Cảng Hải Phòng", "--kind", "port", *w])
    assert r.exit_code == 0 and "HP_PORT" in r.output, r.output
    r = run(main, ["--lang", "en", "member", "add", "--code", "HP_PORT", "--name", "again", *w])
    assert r.exit_code == 2 and "DUPLICATE_MEMBER" in r.output
    r = run(main, ["--lang", "en", "grant", "--member", "HP_PORT", "--role", "submitter", "--indicators", "port_teu",
                   "--territories", "31,VN", *w])
    assert r.exit_code == 0 and "PORT_TEU" in r.output and "34:31,VN" in r.output, r.output
    r = run(main, ["grant", "--member", "HP_PORT", "--role", "reader", "--indicators", "NOPE", *w])
    assert r.exit_code == 2 and "UNKNOWN_INDICATOR" in r.output and "Chỉ tiêu" in r.output
    r = run(main, ["grant", "--member", "HP_PORT", "--role", "god", *w])
    assert r.exit_code == 2 and "USAGE_ERROR" in r.output
    r = run(main, ["token", "create", "--member", "HP_PORT", "--format", "json", *w])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert set(body) == {"member", "token"} and body["member"] == "HP_PORT"
    r = run(main, ["token", "create", "--member", "HP_PORT", *w])
    token2 = r.stdout.strip().splitlines()[0]
    assert r.exit_code == 0 and token2.startswith("kts_") and token2 != body["token"]
    r = run(main, ["--lang", "en", "member", "list", *w])
    assert r.exit_code == 0 and "HP_PORT" in r.output and "2 token(s)" in r.output and "PORT_TEU" in r.output
    assert body["token"] not in r.output and token2 not in r.output
    r = run(main, ["member", "list", "--format", "json", *w])
    listed = json.loads(r.stdout)
    assert listed[0]["grants"][0]["territories"] == ["34:31", "VN"] and listed[0]["tokens"] == 2
    r = run(main, ["--lang", "en", "token", "revoke", "--token", body["token"], *w])
    assert r.exit_code == 0 and "1 token" in r.output
    r = run(main, ["--lang", "en", "token", "revoke", "--member", "HP_PORT", *w])
    assert r.exit_code == 0 and "1 token" in r.output
    r = run(main, ["token", "revoke", *w])
    assert r.exit_code == 2 and "TOKEN_REVOKE_TARGET" in r.output
    r = run(main, ["--lang", "en", "member", "revoke", "--code", "HP_PORT", *w])
    assert r.exit_code == 0 and "revoked" in r.output
    r = run(main, ["token", "create", "--member", "HP_PORT", *w])
    assert r.exit_code == 2 and "MEMBER_REVOKED" in r.output


# --------------------------------------------------------------------------- authorize itself


def test_authorize_needs_every_pair_covered_and_reads_territories_as_keys():
    m = Member("HP", grants=(Grant("reader", ("GRDP_VA",), ("34:31",)), Grant("reader", ("PORT_TEU",), ("34:31", "VN"))))
    authorize(m, "read", indicators=["GRDP_VA", "PORT_TEU"], territories=["Hải Phòng"])  # two grants, one pair each
    authorize(m, "read", indicators=["PORT_TEU"], territories=["31", "VN", "34_31"])  # a code, the nation, SDMX-safe
    with pytest.raises(ApiAuthError) as e:
        authorize(m, "read", indicators=["GRDP_VA"], territories=["VN"])  # GRDP_VA/VN: no grant has the pair
    assert e.value.status == 403 and e.value.code == "FORBIDDEN" and "GRDP_VA/VN" in e.value.en
    with pytest.raises(ApiAuthError) as e:
        authorize(m, "read", indicators=["GRDP_VA"], territories=["63:31"])  # another basis, another key
    assert e.value.status == 403 and "63:31" in e.value.en
    with pytest.raises(ApiAuthError) as e:
        authorize(m, "submit", indicators=["GRDP_VA"], territories=["34:31"])  # a reader may not submit
    assert e.value.status == 403 and "submitter or admin" in e.value.en
    with pytest.raises(ApiAuthError) as e:
        authorize(m, "read", indicators=["*"], territories=["*"])  # all of them needs a grant on all
    assert e.value.status == 403
    authorize(Member("A", grants=(Grant("admin"),)), "read", indicators=["*"], territories=["*"])
    authorize(None, "read", indicators=["GRDP_VA"], public=True)  # the official figures: open
    for member in (None, Member("X")):
        with pytest.raises(ApiAuthError) as e:
            authorize(member, "read", indicators=["GRDP_VA"], public=True, private_server=True)
        assert e.value.status == (401 if member is None else 403)
    assert set(ACTIONS) == {"submit", "read", "admin"} and set(ROLES) == {"submitter", "reader", "admin"}


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Caller:
    role: str | None      #: submitter, reader, admin; None: a member without grants, or anonymous
    where: str            #: in, out (its grant covers the request, or not), none, anonymous
    scope: tuple | None   #: the request's scope it was made for

    @property
    def label(self) -> str:
        return f"{self.role or '-'}/{self.where}"


def _out_of(scope) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A grant that does not cover ``scope`` (``None``: any narrow grant)."""
    if scope is None:
        return ("POPULATION",), ("34:01",)
    inds, ters = scope
    if inds == ALL and ters == ALL:
        return ("POPULATION",), ("34:01",)
    out_i = ALL if inds == ALL else (next(i for i in ("POPULATION", "RETAIL_SALES") if i not in inds),)
    out_t = ALL if ters == ALL else (next(t for t in ("34:01", "34:79") if t not in ters),)
    return out_i, out_t


def _expected(action: str, caller: Caller, scope, *, private: bool, own: bool) -> str:
    """``ok`` (a 2xx), ``401`` or ``403``, by the rule of issue 12."""
    public = action == "public"
    if public and not private:
        return "ok"
    if caller.where == "anonymous":
        return "401"
    if own:
        return "ok"
    allowed = ACTIONS["read" if public else action]
    if caller.where == "none" or caller.role not in allowed:
        return "403"
    if caller.where == "out" and scope is not None:
        return "403"
    return "ok"


def _action_routes(app) -> list[tuple[str, str, str]]:
    from fastapi.routing import APIRoute

    seen, out = set(), []
    for r in app.routes:
        if not isinstance(r, APIRoute) or not r.path.startswith(PREFIXES):
            continue
        action = (r.openapi_extra or {}).get("x-kinhteso-action")
        if action is None:
            continue
        for method in sorted(r.methods - {"HEAD", "OPTIONS"}):
            if (method, r.path) not in seen:  # the first route of a path is the one that answers
                seen.add((method, r.path))
                out.append((method, r.path, action))
    return out


def _example(p: dict):
    for holder in (p, p.get("schema", {})):
        if "example" in holder:
            return holder["example"]
        if holder.get("examples"):
            ex = holder["examples"]
            first = ex[0] if isinstance(ex, list) else next(iter(ex.values()))
            return first.get("value") if isinstance(first, dict) and "value" in first else first
    return None


def _sample(openapi: dict, method: str, path: str) -> tuple[dict | None, str]:
    """The sample request of a route (SAMPLES, or built from its OpenAPI description), or None
    and why not."""
    if (method, path) in SAMPLES:
        return SAMPLES[(method, path)], ""
    op = openapi["paths"].get(path, {}).get(method.lower(), {})
    sample: dict = {"params": {}, "path": {}}
    inds, ters, missing = [], [], []
    for p in op.get("parameters", []):
        name, required = p["name"], p.get("required", False) or p.get("in") == "path"
        value = GENERIC.get(name)
        if value is None:
            value = _example(p)
        if value is None:
            if required:
                missing.append(name)
            continue
        if not required and name not in (*_INDICATOR_NAMES, *_TERRITORY_NAMES):
            continue
        sample["path" if p.get("in") == "path" else "params"][name] = value
        (inds if name in _INDICATOR_NAMES else ters if name in _TERRITORY_NAMES else []).append(str(value))
    body = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in body:
        sample["files"] = {"file": ("sample.csv", _submission_csv(), "text/csv")}
        inds, ters = ["PORT_TEU"], ["34:31"]
    elif "application/json" in body:
        ex = body["application/json"].get("example")
        if ex is None:
            missing.append("a JSON body example")
        sample["json"] = ex
    if missing:
        return None, f"{method} {path}: no sample for {', '.join(missing)} (add it to SAMPLES in {Path(__file__).name})"
    if inds or ters:
        sample["scope"] = (tuple(inds) or ALL, tuple(ters) or ALL)
    return sample, ""


@pytest.fixture(scope="module")
def matrix_ws(demo_run, tmp_path_factory):
    """A copy of the demo workspace (members are added by each test)."""
    src, result = demo_run
    assert result.exit_code == 0, result.output
    root = tmp_path_factory.mktemp("matrix") / "ws"
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("tmp", "*.lock"))
    return root


def _callers(store, scopes) -> dict[Caller, str]:
    """One member per (scope, role, in/out), a member without grants, and the anonymous caller,
    with their tokens (written straight to the store: the service's checks are tested above)."""
    tokens: dict[Caller, str] = {}
    n = 0
    for scope in scopes:
        for role in ROLES:
            for where in ("in", "out"):
                n += 1
                code = f"M{n}_{role}_{where}"
                store.add_member(code, f"member {n}", "statistics")
                # for a route that touches nothing in particular, any grant is "in"
                inds, ters = scope if (where == "in" and scope is not None) else _out_of(scope)
                store.add_grant(code, role, inds, ters)
                tokens[Caller(role, where, scope)] = store.create_token(code)
    store.add_member("NOGRANT", "a member without grants", "enterprise")
    tokens[Caller(None, "none", None)] = store.create_token("NOGRANT")
    tokens[Caller(None, "anonymous", None)] = ""
    return tokens


def test_every_route_under_the_api_declares_what_it_needs(tmp_path):
    from fastapi.routing import APIRoute

    from kinhteso.api import create_app

    app = create_app(tmp_path)  # the workspace is opened only when the app starts
    bad = [f"{sorted(r.methods)} {r.path}" for r in app.routes if isinstance(r, APIRoute)
           and r.path.startswith(PREFIXES) and (r.openapi_extra or {}).get("x-kinhteso-action")
           not in ("public", *ACTIONS)]
    assert not bad, f"routes without a valid x-kinhteso-action: {bad}"


def test_a_route_without_a_sample_is_named_and_one_with_a_described_query_gets_one():
    openapi = {"paths": {
        "/api/v1/new/{thing}": {"get": {"parameters": [
            {"name": "thing", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        "/api/v1/other": {"get": {"parameters": [
            {"name": "territory", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "mode", "in": "query", "required": True, "schema": {"type": "string", "examples": ["fast"]}},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}}]}}}}
    sample, why = _sample(openapi, "GET", "/api/v1/new/{thing}")
    assert sample is None and "/api/v1/new/{thing}" in why and "thing" in why and "SAMPLES" in why
    sample, why = _sample(openapi, "GET", "/api/v1/other")
    assert why == "" and sample["params"] == {"territory": "34:31", "mode": "fast"}
    assert sample["scope"] == (ALL, ("34:31",))


def test_the_role_endpoint_grant_matrix(matrix_ws):
    """Every action route × every caller × public and private server: 2xx, 401 or 403 as the rule says."""
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.workspace import Workspace

    app = create_app(matrix_ws)
    routes = _action_routes(app)
    assert len(routes) >= 10, routes
    openapi = app.openapi()
    samples, lacking = {}, []
    for method, path, _ in routes:
        s, why = _sample(openapi, method, path)
        (lacking.append(why) if s is None else samples.__setitem__((method, path), s))
    assert not lacking, "routes without a sample request:\n" + "\n".join(lacking)
    scopes = sorted({s.get("scope") for s in samples.values()} - {None}, key=repr) + [None]
    with Workspace.open(matrix_ws) as ws:
        callers = _callers(ws.store, scopes)

    failures, n, spent = [], 0, {}
    for private in (False, True):
        with TestClient(create_app(matrix_ws, private=private)) as client:
            for method, path, action in routes:
                s = samples[(method, path)]
                scope = s.get("scope")
                for caller, token in callers.items():
                    if caller.where in ("in", "out") and caller.scope != scope:
                        continue
                    headers = {"Accept-Language": "en"}
                    if token:
                        headers["Authorization"] = f"Bearer {token}"
                    params = dict(s.get("path", {}))
                    if s.get("setup"):
                        params.update(s["setup"](client, headers, f"{caller.label}-{private}".replace("/", "-")))
                    url = path.format(**params)
                    files = {k: (v[0], io.BytesIO(v[1]), v[2]) for k, v in s.get("files", {}).items()} or None
                    t0 = time.monotonic()
                    r = client.request(method, url, params=s.get("params"), json=s.get("json"), files=files,
                                       headers=headers)
                    n += 1
                    spent[(method, path)] = spent.get((method, path), 0.0) + time.monotonic() - t0
                    want = _expected(action, caller, scope, private=private, own=s.get("own", False))
                    got = "ok" if 200 <= r.status_code < 300 else str(r.status_code)
                    if got != want:
                        failures.append(f"{'private' if private else 'public '} {method} {path} [{action}] "
                                        f"{caller.label}: want {want}, got {r.status_code} {r.text[:200]}")
                    elif want in ("401", "403"):
                        body = r.json()
                        if body.get("code") not in ("UNAUTHENTICATED", "FORBIDDEN") or not body.get("vi"):
                            failures.append(f"{method} {path} {caller.label}: {want} without a bilingual code: {body}")
    slowest = sorted(spent.items(), key=lambda kv: -kv[1])[:5]
    print(f"{n} cases; slowest routes: " + ", ".join(f"{m} {p} {t:.1f} s" for (m, p), t in slowest))
    assert not failures, f"{len(failures)} of {n} cases:\n" + "\n".join(failures)
    assert n > 100


# --------------------------------------------------------------------------- 401 and 403, in vi and en


def test_401_and_403_speak_vietnamese_and_english(matrix_ws):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.service.members import (
        GrantRequest,
        MemberAddRequest,
        TokenCreateRequest,
        TokenRevokeRequest,
        add_member,
        create_token,
        grant,
        revoke_member,
        revoke_tokens,
    )
    from kinhteso.workspace import Workspace

    with Workspace.open(matrix_ws) as ws:
        add_member(ws, MemberAddRequest("LANG_R", "reader of Hải Phòng", "province"))
        grant(ws, GrantRequest("LANG_R", "reader", "GRDP_VA", "Hải Phòng"))
        good = create_token(ws, TokenCreateRequest("LANG_R")).token
        revoked = create_token(ws, TokenCreateRequest("LANG_R")).token
        revoke_tokens(ws, TokenRevokeRequest(token=revoked))
        add_member(ws, MemberAddRequest("LANG_GONE", "revoked member"))
        gone = create_token(ws, TokenCreateRequest("LANG_GONE")).token
        revoke_member(ws, "LANG_GONE")
    url = "/api/v1/observations"
    q = {"indicator": "GRDP_VA", "territory": "34:31"}
    with TestClient(create_app(matrix_ws)) as c:
        assert c.get(url, params=q, headers={"Authorization": f"Bearer {good}"}).status_code == 200
        cases = [({}, 401, "Cần mã truy cập", "A token is needed"),
                 ({"Authorization": "Basic dXNlcjpwdw=="}, 401, "không đúng dạng", "Malformed Authorization"),
                 ({"Authorization": "Bearer"}, 401, "không đúng dạng", "Malformed Authorization"),
                 ({"Authorization": "Bearer kts_" + "x" * 40}, 401, "không hợp lệ", "unknown or revoked"),
                 ({"Authorization": f"Bearer {revoked}"}, 401, "không hợp lệ", "unknown or revoked"),
                 ({"Authorization": f"Bearer {gone}"}, 401, "thu hồi", "revoked")]
        for headers, status, vi, en in cases:
            for lang, text in (("vi", vi), ("en", en)):
                r = c.get(url, params=q, headers={**headers, "Accept-Language": lang})
                body = r.json()
                assert r.status_code == status and body["code"] == "UNAUTHENTICATED", (headers, r.text)
                assert text in body["message"] and body["vi"] != body["en"], (lang, body)
                assert r.headers.get("www-authenticate", "").startswith("Bearer")
        r = c.get(url, params={"indicator": "PORT_TEU", "territory": "VN"},
                  headers={"Authorization": f"Bearer {good}", "Accept-Language": "en-GB,en;q=0.8"})
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
        assert "PORT_TEU/VN" in r.json()["message"] and "LANG_R" in r.json()["message"]
        r = c.get(url, params={"indicator": "PORT_TEU", "territory": "VN"}, headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 403 and r.json()["message"].startswith("Quyền của thành viên 'LANG_R'")


def test_a_target_s_own_basis_is_within_its_grant_and_another_series_needs_one(matrix_ws, tmp_path):
    """A grant on Hải Phòng's DE_SHARE covers the gap of its target measured on the series the
    target was set on (63:31's MIC-style figures); comparing across bases (``against``) reads
    another indicator, which needs a grant of its own."""
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.service.members import GrantRequest, MemberAddRequest, TokenCreateRequest, add_member, create_token, grant
    from kinhteso.workspace import Workspace

    root = tmp_path / "ws"
    shutil.copytree(matrix_ws, root, ignore=shutil.ignore_patterns("tmp", "*.lock"))
    with Workspace.open(root) as ws:
        add_member(ws, MemberAddRequest("HP_READ", "Hải Phòng reader", "province"))
        grant(ws, GrantRequest("HP_READ", "reader", "DE_SHARE", "Hải Phòng"))
        token = create_token(ws, TokenCreateRequest("HP_READ")).token
    h = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    q = {"territory": "34:31", "indicator": "DE_SHARE"}
    with TestClient(create_app(root)) as c:
        own = c.get("/api/v1/gaps", params=q, headers=h)
        assert own.status_code == 200, own.text
        assert {r["series_territory"] for r in own.json()} <= {"34:31", "63:31"}
        assert c.get("/api/v1/gaps", params={**q, "against": "DE_SHARE"}, headers=h).status_code == 200
        other = c.get("/api/v1/gaps", params={**q, "against": "DE_SHARE_MIC"}, headers=h)
        assert other.status_code == 403 and "DE_SHARE_MIC" in other.json()["en"]
