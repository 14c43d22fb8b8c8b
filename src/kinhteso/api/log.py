"""The tamper-evident exchange log: every request under ``/api/v1`` and ``/sdmx`` and its response.

Each exchange (refused ones too: 401, 403, 404, 413, 422, and errors) becomes one entry of the
store's ``exchange_log``: the member (when the request was authenticated,
:func:`kinhteso.api.auth.current_member` leaves its code in ``request.state.member``), method,
endpoint (the path as sent, with its query), status, the SHA-256 of the request body and of the
response body, and the outcome. Each entry is chained to the previous one's hash
(:meth:`kinhteso.store.Store.append_log`); ``kinhteso log verify`` checks the chain.

How, and what it costs:

- A pure ASGI wrapper, outside every other middleware (so that a 413 of the body limit or a 500
  is logged as the client gets it): the request body is hashed as it streams in, the response
  body as it goes out; nothing is buffered twice.
- The entry is committed *before* the last chunk of the response goes out: a client never holds
  a complete response whose exchange is not logged. If the log cannot be written the response
  is cut off (the server reports the error), never completed unlogged.
- Entries are written by one thread through the store's single write path, many in one
  transaction (group commit): under load, one commit serves every request waiting, and no
  request holds a worker thread while it waits.
- ``outcome``: ``ok`` (status below 400), ``refused`` (4xx), ``error`` (5xx or an exception),
  ``aborted`` (the client left before the response was complete); ``; request body read in
  part (N bytes)`` is added when the server answered before reading the whole body (a 413, a
  refusal before the upload was read): the request hash then covers the bytes read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
import threading
from typing import Any

from kinhteso.api.app import PREFIX

__all__ = ["install", "ExchangeLog", "LogWriter", "LOGGED_PREFIXES", "outcome_of"]

#: The paths whose exchanges are logged (the API and SDMX; not the docs or /openapi.json).
LOGGED_PREFIXES = (PREFIX, "/sdmx")
_MAX_ENDPOINT = 4096
_BATCH = 500


_LOGGED_STARTS = tuple(p + "/" for p in LOGGED_PREFIXES)


def _logged(path: str) -> bool:
    return path.startswith(_LOGGED_STARTS) or path in LOGGED_PREFIXES


def outcome_of(status: int, *, complete: bool = True) -> str:
    """``ok``, ``refused``, ``error``, or ``aborted`` for a response that was not completed."""
    if not complete:
        return "aborted"
    return "ok" if status < 400 else "refused" if status < 500 else "error"


def _endpoint(scope: dict) -> str:
    """The path as the client sent it (still percent-encoded) and its query, at most 4096 characters."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes | bytearray) else str(scope.get("path", ""))
    query = scope.get("query_string") or b""
    text = path + ("?" + query.decode("latin-1") if query else "")
    return text if len(text) <= _MAX_ENDPOINT else text[:_MAX_ENDPOINT - 1] + "…"


def _has_body(scope: dict) -> bool:
    """Whether the request announces a body (a Content-Length above 0, or chunked)."""
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def _member_of(scope: dict) -> str | None:
    member = (scope.get("state") or {}).get("member")
    code = getattr(member, "code", member)
    return str(code) if code not in (None, "") else None


class LogWriter:
    """Appends entries to the store's exchange log from one thread, many per transaction.

    :meth:`append` queues an entry and waits until it is committed (returning its id); the
    thread takes every entry waiting, appends them in one transaction
    (:meth:`kinhteso.store.Store.append_log`, which chains them) and wakes their requests."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def append(self, store: Any, entry: dict) -> int:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self._thread is None:
            self._start()
        # queued, the entry is written even if this request is cancelled while it waits
        self._queue.put((store, entry, loop, future))
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kinhteso-exchange-log", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then stop the thread (before the store closes)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch, stop = [item], False
            while len(batch) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    @staticmethod
    def _write(batch: list) -> None:
        by_store: dict[int, list] = {}
        for item in batch:
            by_store.setdefault(id(item[0]), []).append(item)
        for items in by_store.values():
            try:
                ids: list[Any] = items[0][0].append_log([it[1] for it in items])
            except BaseException as exc:  # noqa: BLE001 - handed to each waiting request
                ids = [exc] * len(items)
            by_loop: dict[int, list] = {}
            for (_, _, loop, future), result in zip(items, ids):
                by_loop.setdefault(id(loop), [loop]).append((future, result))
            for loop, *settled in by_loop.values():  # one wake-up of each event loop per batch
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list) -> None:
    for future, result in settled:
        if future.done():  # its request was cancelled
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


class ExchangeLog:
    """ASGI wrapper logging each exchange under :data:`LOGGED_PREFIXES` (see the module)."""

    def __init__(self, app: Any, writer: LogWriter) -> None:
        self.app = app
        self.writer = writer

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not _logged(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # shared with the request, where current_member leaves the member
        request_hash, response_hash = hashlib.sha256(), hashlib.sha256()
        seen = {"read": 0, "whole": not _has_body(scope), "left": False, "status": None, "logged": False}

        async def hashing_receive():
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                request_hash.update(body)
                seen["read"] += len(body)
                if not message.get("more_body", False):
                    seen["whole"] = True
            elif message["type"] == "http.disconnect":
                seen["left"] = True
            return message

        async def log(status: int, outcome: str) -> None:
            seen["logged"] = True
            ws = getattr(scope["app"].state, "ws", None) if "app" in scope else None
            if ws is None:  # the app is not serving a workspace (its lifespan did not run)
                return
            if not seen["whole"]:
                outcome += f"; request body read in part ({seen['read']} bytes)"
            entry = {"member": _member_of(scope), "method": scope.get("method", ""), "endpoint": _endpoint(scope),
                     "status": status, "request_sha256": request_hash.hexdigest(),
                     "response_sha256": response_hash.hexdigest(), "outcome": outcome}
            await self.writer.append(ws.store, entry)

        async def hashing_send(message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                response_hash.update(message.get("body", b""))
                if not message.get("more_body", False) and not seen["logged"]:
                    status = seen["status"] or 500
                    await log(status, outcome_of(status))  # committed before the response is complete
            await send(message)

        try:
            await self.app(scope, hashing_receive, hashing_send)
        except BaseException:
            if not seen["logged"]:
                with contextlib.suppress(Exception):
                    await log(seen["status"] or 500, "aborted" if seen["left"] else "error")
            raise
        if not seen["logged"]:  # the app returned without completing a response
            await log(seen["status"] or 500, outcome_of(seen["status"] or 500, complete=False))


def install(app) -> None:
    """Log every exchange of ``app`` under ``/api/v1`` and ``/sdmx``: the wrapper goes outside the
    whole middleware stack (built when the app first runs, after every part added its own), and
    the writer thread stops before the workspace closes."""
    writer = LogWriter()
    app.state.exchange_log = writer
    build = app.build_middleware_stack

    def build_logged():
        return ExchangeLog(build(), writer)

    app.build_middleware_stack = build_logged
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_):
        async with inner(app_) as state:
            try:
                yield state
            finally:
                await asyncio.get_running_loop().run_in_executor(None, writer.stop)

    app.router.lifespan_context = lifespan
