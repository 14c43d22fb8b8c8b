"""Results flow back: the changes feed and webhooks (``/api/v1/changes``, ``/api/v1/subscriptions``).

Every new vintage and every new result run is a change, recorded by the store in the
transaction that stores it (:meth:`kinhteso.store.Store.changes_since`), with the indicators and
territories it touches and a cursor (``change_id``, increasing). ``GET /changes?since=CURSOR``
lists the changes after the cursor (``since=0``: from the beginning) that the caller's read
grants intersect — some grant (``reader`` or ``admin``) covers one of the change's indicators and
one of its territories — with the cursor to ask from next (``next``). A result run's item names
the sources whose vintages it read (``contributors``) and says ``yours: true`` when the caller is
one of them; a vintage's item says ``yours`` when the caller sent it (``docs/sharing.md``).

A submission accepted through the API is followed by a refresh (:func:`refresh_later`, in a
background thread: the 201 is not delayed) that recomputes the quarterly figures it feeds
(:mod:`kinhteso.service.refresh`); a figure that changed is a new run, hence a change.

``POST /subscriptions`` registers a webhook URL (``http`` or ``https``; a loopback host only,
unless the host is listed in ``KINHTESO_WEBHOOK_HOSTS``, comma-separated, or ``*`` for any). A
delivery worker (a background thread started with the server, stopped at its shutdown) POSTs
each subscription's new changes, filtered by its member's grants as they stand at delivery, as
JSON ``{"subscription", "items", "next"}``; a failed delivery is retried with exponential
back-off (``backoff`` × 2^(attempt−1) seconds, up to ``attempts`` attempts, then given up: the
changes stay readable from ``GET /changes``); a retry sends the changes pending at its time
(those of the failed attempt and any recorded since); each attempt is logged in the store
(``deliveries``: the highest cursor it carried, the attempt, the HTTP status, the error) and
listed by ``GET /subscriptions/{id}/deliveries``. Webhook calls are never redirected.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kinhteso import __version__
from kinhteso.api.app import PREFIX, dumps, render, ws_of
from kinhteso.api.auth import ACTIONS, Grant, Member, authorize, current_member, require_member
from kinhteso.errors import KinhtesoError

__all__ = ["install", "refresh_later", "scopes_of", "member_by_code", "webhook_allowed", "DeliveryWorker",
           "EXAMPLES", "MAX_LIMIT"]

log = logging.getLogger("kinhteso.changes")

#: the most changes one page (or one delivery) holds
MAX_LIMIT = 1000


class ChangesError(KinhtesoError):
    """A refusal of the changes feed or of a subscription, with its HTTP status."""

    def __init__(self, code: str, vi: str, en: str, *, status: int = 400, **context: Any) -> None:
        super().__init__(code, vi, en, **context)
        self.status = status


# --- who sees what --------------------------------------------------------------------------------
def scopes_of(member: Member | None) -> list[tuple[tuple[str, ...] | None, tuple[str, ...] | None]]:
    """The (indicators, territories) a member may read, one per read grant (None: all)."""
    if member is None:
        return []
    return [(None if "*" in g.indicators else tuple(g.indicators), None if "*" in g.territories else tuple(g.territories))
            for g in member.grants if g.role in ACTIONS["read"]]


def member_by_code(store, code: str) -> Member | None:
    """A member with its standing grants; None when unknown or revoked."""
    rec = store.member(code)
    if rec is None or not _missing(rec.get("revoked_at")):
        return None
    grants = store.grants(code)
    return Member(rec["code"], rec["name"], rec["kind"], tuple(
        Grant(g.role, tuple(g.indicators.split(",")), tuple(g.territories.split(","))) for g in grants.itertuples()))


def _missing(value: Any) -> bool:
    """None, NaT or NA (a timestamp or number the store does not hold)."""
    return value is None or str(value) in ("NaT", "<NA>", "nan", "None")


def _items(frame, store=None, member: Member | None = None) -> list[dict]:
    """The feed's items. With the ``store``, a result run's item names the sources of the
    vintages it read (``contributors``, :func:`kinhteso.service.sharing.run_contributors`) and
    says ``yours: true`` when one of them is the caller (``member``); a vintage's item says
    ``yours`` when the caller sent it."""
    out = []
    runs = [r.ref for r in frame.itertuples(index=False) if r.kind != "vintage"]
    contributors: dict[str, list[str]] = {}
    own: set[int] = set()
    if store is not None and len(frame):
        from kinhteso.service.sharing import run_contributors  # noqa: PLC0415

        contributors = run_contributors(store, runs) if runs else {}
        if member is not None:
            vids = [int(r.ref) for r in frame.itertuples(index=False) if r.kind == "vintage"]
            own = {v for v, s in store.vintage_sources(vids).items() if s == member.code}
    for r in frame.itertuples(index=False):
        item: dict[str, Any] = {"cursor": int(r.change_id), "changed_at": r.changed_at, "kind": r.kind,
                                "indicators": [x for x in r.indicators.split(",") if x],
                                "territories": [x for x in r.territories.split(",") if x]}
        if r.kind == "vintage":
            item["vintage_id"] = int(r.ref)
            if store is not None:
                item["yours"] = int(r.ref) in own
        else:
            item["run_id"] = r.ref
            if store is not None:
                item["contributors"] = contributors.get(r.ref, [])
                item["yours"] = member is not None and member.code in item["contributors"]
        out.append(item)
    return out


def _page(store, since: int, member: Member | None, limit: int) -> tuple[list[dict], int, bool]:
    """(items, next cursor, more may follow). With nothing visible the next cursor is the latest
    change read *before* the query (a change committed meanwhile has a higher cursor)."""
    latest = store.latest_change_id()
    items = _items(store.changes_since(since, scopes=scopes_of(member), limit=limit), store, member)
    nxt = items[-1]["cursor"] if items else max(int(since), latest)
    return items, nxt, len(items) == limit


# --- refresh after a submission -------------------------------------------------------------------
def refresh_later(app_or_request, vintage_id: int) -> bool:
    """Queue the refresh of the figures vintage ``vintage_id`` feeds (the submissions route
    calls it after a 201); returns at once. False when the server is not running or closing."""
    app = getattr(app_or_request, "app", app_or_request)
    refresher = getattr(app.state, "refresher", None)
    return bool(refresher is not None and refresher.submit(int(vintage_id)))


# --- webhooks -------------------------------------------------------------------------------------
def _allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in os.environ.get("KINHTESO_WEBHOOK_HOSTS", "").split(",") if h.strip()}


def webhook_allowed(url: str, allowed: set[str] | None = None) -> tuple[bool, str]:
    """(allowed, why not): ``http``/``https``, a host, no credentials and no control
    characters; a loopback host (127.0.0.0/8, ::1, ``localhost``) unless the host is in
    ``allowed`` (default: ``KINHTESO_WEBHOOK_HOSTS``) or that holds ``*``."""
    allowed = _allowed_hosts() if allowed is None else allowed
    if not isinstance(url, str) or len(url) > 2048 or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return False, "characters"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # noqa: F841 — a bad port raises
    except ValueError:
        return False, "syntax"
    if parts.scheme not in ("http", "https"):
        return False, "scheme"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return False, "host"
    host = parts.hostname.lower()
    if "*" in allowed or host in allowed:
        return True, ""
    if host == "localhost":
        return True, ""
    try:
        return (True, "") if ipaddress.ip_address(host).is_loopback else (False, "loopback")
    except ValueError:
        return False, "loopback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a webhook is called where it was registered, never elsewhere
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: dict, *, timeout: float, subscription_id: int) -> tuple[int | None, str | None]:
    """POST the JSON body; (HTTP status, error text) — the status None when none was received."""
    data = dumps(body).encode("utf-8")  # as the API renders it (timestamps as ISO text)
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": f"kinhteso/{__version__}",
        "X-Kinhteso-Subscription": str(int(subscription_id))})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read(65536)
            return int(resp.status), None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # refused, timed out, unreachable, bad URL
        return None, f"{type(exc).__name__}: {exc}"[:500]


class DeliveryWorker:
    """Delivers each subscription's new changes from a background thread (see the module's
    text). ``interval``: how often it looks for new changes (seconds); ``attempts``: the most
    attempts of one delivery; ``backoff``: the first retry's delay, doubled at each retry;
    ``timeout``: of one HTTP call; ``batch``: the most changes per delivery."""

    def __init__(self, ws, *, interval: float = 1.0, attempts: int = 5, backoff: float = 1.0, timeout: float = 10.0,
                 batch: int = 100) -> None:
        self._ws = ws
        self.interval, self.attempts, self.backoff, self.timeout, self.batch = interval, attempts, backoff, timeout, batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry: dict[int, tuple[int, float]] = {}  #: subscription → (attempts made, when the next is due)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kinhteso-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look for new changes now."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.tick()
            except Exception:  # noqa: BLE001 — the worker outlives one bad round (a busy store…)
                log.exception("webhook delivery round failed")
                wait = self.interval
            self._wake.wait(wait)
            self._wake.clear()

    def tick(self) -> float:
        """One round over the subscriptions; the seconds until the next round is due."""
        store = self._ws.store
        now = time.monotonic()
        wait = self.interval
        subs = store.subscriptions()
        for sid in set(self._retry) - {int(s) for s in subs.subscription_id}:
            self._retry.pop(sid, None)  # revoked meanwhile
        for sub in subs.itertuples(index=False):
            if self._stop.is_set():
                break
            sid = int(sub.subscription_id)
            made, due = self._retry.get(sid, (0, 0.0))
            if due > now:
                wait = min(wait, due - now)
                continue
            member = member_by_code(store, sub.member)
            scopes = scopes_of(member)
            if not scopes:
                continue
            cursor = store.delivery_cursor(sid)
            frame = store.changes_since(cursor, scopes=scopes, limit=self.batch)
            if frame.empty:
                continue
            items = _items(frame, store, member)
            last = items[-1]["cursor"]
            ok, why = webhook_allowed(sub.url)
            if ok:
                status, error = _post(sub.url, {"subscription": sid, "items": items, "next": last},
                                      timeout=self.timeout, subscription_id=sid)
            else:
                status, error, made = None, f"URL no longer allowed ({why})", self.attempts - 1
            attempt = made + 1
            if error is None:
                store.log_delivery(sid, last, attempt, status=status)
                self._retry.pop(sid, None)
                wait = 0.0 if len(items) == self.batch else wait  # more to deliver
            elif attempt >= self.attempts:
                store.log_delivery(sid, last, attempt, status=status,
                                   error=f"{store.GAVE_UP} after {attempt} attempts: {error}")
                self._retry.pop(sid, None)
                log.warning("webhook %s (subscription %s): gave up after %s attempts: %s", sub.url, sid, attempt, error)
            else:
                store.log_delivery(sid, last, attempt, status=status, error=error)
                delay = self.backoff * 2 ** (attempt - 1)
                self._retry[sid] = (attempt, time.monotonic() + delay)
                wait = min(wait, delay)
        return max(wait, 0.0)


# --- examples -------------------------------------------------------------------------------------
EXAMPLES: dict[str, Any] = {
    "changes": {"items": [
        {"cursor": 41, "changed_at": "2026-11-28T09:30:00.120000", "kind": "vintage", "vintage_id": 37,
         "indicators": ["GRDP_VA"], "territories": ["34:31"], "yours": True},
        {"cursor": 42, "changed_at": "2026-11-28T09:30:02.480000", "kind": "run", "run_id": "df808dbc15e12f5d7fe8a96f",
         "indicators": ["DE_SHARE", "DE_VA", "GRDP"], "territories": ["34:31"],
         "contributors": ["cuc-thong-ke-hai-phong", "thue-hai-phong"], "yours": True}],
        "next": 42, "more": False},
    "subscription": {"subscription_id": 3, "member": "thue-hai-phong", "url": "http://127.0.0.1:9000/kinhteso",
                     "created_at": "2026-11-28T09:00:00", "revoked_at": None, "cursor": 40},
    "deliveries": [{"subscription_id": 3, "change_id": 42, "attempt": 1, "delivered_at": "2026-11-28T09:30:03",
                    "status": 503, "error": "HTTP 503"},
                   {"subscription_id": 3, "change_id": 42, "attempt": 2, "delivered_at": "2026-11-28T09:30:04",
                    "status": 200, "error": None}],
}


def _action(name: str) -> dict:
    return {"x-kinhteso-action": name}


def _example(example: Any, *, status: int = 200, csv: bool = False) -> dict:
    content: dict[str, Any] = {"application/json": {"example": example}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {status: {"description": "OK" if status == 200 else "Created", "content": content}}


class SubscriptionIn(BaseModel):
    """A webhook to call with new changes."""

    url: str = Field(..., max_length=2048, examples=["http://127.0.0.1:9000/kinhteso"])


def _subscription(store, row: dict) -> dict:
    out = {k: row[k] for k in ("subscription_id", "member", "url", "created_at", "revoked_at")}
    out["revoked_at"] = None if _missing(out["revoked_at"]) else out["revoked_at"]
    out["cursor"] = store.delivery_cursor(int(row["subscription_id"]))
    return out


def _own_subscription(store, member: Member, subscription_id: int) -> dict:
    subs = store.subscriptions(member=member.code, active=False)
    subs = subs[subs.subscription_id == int(subscription_id)]
    if subs.empty:
        raise ChangesError("UNKNOWN_SUBSCRIPTION", f"Không có đăng ký webhook {subscription_id} của thành viên này.",
                           f"This member has no webhook subscription {subscription_id}.", status=404,
                           subscription=int(subscription_id))
    return subs.iloc[0].to_dict()


# --- the routes -----------------------------------------------------------------------------------
def install(app: FastAPI) -> None:
    """Add the changes feed and the subscriptions routes; start the refresher and the delivery
    worker with the server and stop them (before the workspace closes) at its shutdown."""
    app.state.webhook_settings = {"interval": 1.0, "attempts": 5, "backoff": 1.0, "timeout": 10.0}
    app.state.refresh_settings = {"pause": 1.0}
    _wrap_lifespan(app)
    tags = ["changes"]

    @app.get(PREFIX + "/changes", tags=tags, summary="New vintages and changed results, after a cursor",
             description="The changes after `since` (0: from the beginning) that the caller's read grants "
                         "intersect, oldest first, at most `limit`; ask again with `since=next`.",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["changes"], csv=True))
    def changes(request: Request, since: int = Query(0, ge=0, description="the cursor: 0 from the beginning"),
                limit: int = Query(100, ge=1, le=MAX_LIMIT, description="the most changes to list"),
                member: Member | None = Depends(current_member)) -> Response:
        authorize(member, "read", private_server=bool(getattr(request.app.state, "private", False)))
        items, nxt, more = _page(ws_of(request).store, since, member, limit)
        if "text/csv" in request.headers.get("accept", ""):
            rows = [{**i, "indicators": ",".join(i["indicators"]), "territories": ",".join(i["territories"])}
                    for i in items]
            resp = render(request, rows)
            resp.headers["X-Kinhteso-Next"] = str(nxt)
            return resp
        return render(request, {"items": items, "next": nxt, "more": more})

    @app.post(PREFIX + "/subscriptions", tags=tags, summary="Register a webhook called with new changes",
              status_code=201, openapi_extra=_action("read"),
              responses={**_example(EXAMPLES["subscription"], status=201), **_example(EXAMPLES["subscription"])})
    def subscribe(request: Request, body: SubscriptionIn, member: Member | None = Depends(current_member)) -> Response:
        authorize(member, "read", private_server=bool(getattr(request.app.state, "private", False)))
        member = require_member(member)
        ok, why = webhook_allowed(body.url)
        if not ok:
            raise ChangesError(
                "BAD_WEBHOOK_URL",
                "Địa chỉ webhook không được nhận: cần http:// hoặc https://, có tên máy, không kèm tên/mật khẩu; "
                "máy phải là loopback (127.0.0.1, ::1, localhost) trừ khi có trong KINHTESO_WEBHOOK_HOSTS.",
                "The webhook URL is refused: it needs http:// or https://, a host and no user or password; the "
                "host must be loopback (127.0.0.1, ::1, localhost) unless listed in KINHTESO_WEBHOOK_HOSTS.",
                status=422, reason=why)
        store = ws_of(request).store
        row, created = store.add_subscription(member.code, body.url)
        worker = getattr(request.app.state, "delivery_worker", None)
        if worker is not None:
            worker.wake()
        return render(request, _subscription(store, row), status=201 if created else 200)

    @app.get(PREFIX + "/subscriptions", tags=tags, summary="The caller's webhook subscriptions",
             openapi_extra=_action("read"), responses=_example([EXAMPLES["subscription"]], csv=True))
    def subscriptions(request: Request, member: Member | None = Depends(current_member)) -> Response:
        authorize(member, "read", private_server=bool(getattr(request.app.state, "private", False)))
        member = require_member(member)
        store = ws_of(request).store
        subs = store.subscriptions(member=member.code)
        return render(request, [_subscription(store, r) for r in subs.to_dict(orient="records")])

    @app.delete(PREFIX + "/subscriptions/{subscription_id}", tags=tags, summary="Revoke a webhook subscription",
                openapi_extra=_action("read"),
                responses=_example({**EXAMPLES["subscription"], "revoked_at": "2026-11-29T08:00:00"}))
    def unsubscribe(request: Request, subscription_id: int, member: Member | None = Depends(current_member)) -> Response:
        authorize(member, "read", private_server=bool(getattr(request.app.state, "private", False)))
        member = require_member(member)
        store = ws_of(request).store
        _own_subscription(store, member, subscription_id)
        row = store.revoke_subscription(subscription_id, member=member.code)
        return render(request, _subscription(store, row))

    @app.get(PREFIX + "/subscriptions/{subscription_id}/deliveries", tags=tags,
             summary="Every delivery attempt of a webhook subscription", openapi_extra=_action("read"),
             responses=_example(EXAMPLES["deliveries"], csv=True))
    def deliveries(request: Request, subscription_id: int, member: Member | None = Depends(current_member)) -> Response:
        authorize(member, "read", private_server=bool(getattr(request.app.state, "private", False)))
        member = require_member(member)
        store = ws_of(request).store
        _own_subscription(store, member, subscription_id)
        rows = store.deliveries(subscription_id).to_dict(orient="records")
        for r in rows:
            r["status"] = None if _missing(r["status"]) else int(r["status"])
        return render(request, rows)


def _wrap_lifespan(app: FastAPI) -> None:
    """Start the refresher and the delivery worker once the workspace is open; stop them before
    it closes (the refresh under way is awaited, see :class:`~kinhteso.service.refresh.Refresher`)."""
    import contextlib  # noqa: PLC0415

    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI):
        from starlette.concurrency import run_in_threadpool  # noqa: PLC0415

        from kinhteso.service.refresh import Refresher  # noqa: PLC0415

        async with inner(app_) as state:
            ws = app_.state.ws
            app_.state.refresher = Refresher(ws, **app_.state.refresh_settings)
            worker = DeliveryWorker(ws, **app_.state.webhook_settings)
            app_.state.delivery_worker = worker
            worker.start()
            try:
                yield state
            finally:
                await run_in_threadpool(app_.state.refresher.close)
                await run_in_threadpool(worker.stop)

    app.router.lifespan_context = lifespan

