"""``POST /api/v1/submissions``: an agency sends a CSV or XLSX file, as ``kinhteso ingest`` takes it.

The upload (multipart, field ``file``) is written to the server's scratch folder under a name of
its own (the client's file name is kept, cleaned, only as the vintage's record: it is never a
path), validated whole by :func:`kinhteso.service.data.ingest`, and only then — once the
indicators and territories it holds are known — checked against the member's ``submit`` grant:
a file with any row outside the grant is refused whole (403), nothing stored. Then:

- ``201`` with the new vintage;
- ``200`` with the vintage already holding the same data (the same file twice);
- ``422`` with every problem, in Vietnamese and English, nothing stored.

``source`` (query or form) defaults to the member's code; naming another source needs an
``admin`` grant. Bodies over :data:`MAX_UPLOAD_BYTES` are refused with 413 before they are read
whole; other API paths take at most :data:`MAX_BODY_BYTES`. Writes go through the store's single
writer, one commit per file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kinhteso.api.app import PREFIX, error_body, language, ws_of
from kinhteso.api.auth import Member, authorize, current_member
from kinhteso.api.routes import ApiError

__all__ = ["install", "MAX_UPLOAD_BYTES", "MAX_BODY_BYTES", "safe_name", "PATH", "ingest_pool", "stop_ingest_pool"]

#: The largest submission accepted (bytes of the whole request): 200 MB.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
#: The largest body of any other API request: 1 MB.
MAX_BODY_BYTES = 1024 * 1024
#: Submissions checked at once, each in a worker process of its own (reading, validating
#: whole and staging a file is CPU work in pandas and DuckDB: in the server's interpreter it
#: would hold the readers' event loop for as long as it lasts; a 200 MB file for tens of
#: seconds). The others wait their turn without holding a thread. The commit itself, short,
#: goes through the store's single writer in the server.
INGEST_SLOTS = 2
PATH = PREFIX + "/submissions"
_SAFE = re.compile(r"[^\w.\- ]+")

_EXAMPLE_201 = {"vintage": 37, "stored": True, "rows": 120, "source": "thue-hai-phong",
                "file": "einvoice_2026-10.csv", "layout": "long", "backcast_rows": 0}
_EXAMPLE_422 = {"code": "REJECTED", "message": "Tệp einvoice.csv bị từ chối toàn bộ: 1 lỗi, không có gì được lưu.",
                "vi": "Tệp einvoice.csv bị từ chối toàn bộ: 1 lỗi, không có gì được lưu.",
                "en": "File einvoice.csv rejected whole: 1 problem(s), nothing was stored.",
                "problems": [{"code": "UNKNOWN_TERRITORY", "vi": "Không nhận ra địa bàn 'Hai Phong City'…",
                              "en": "Unknown territory 'Hai Phong City'…", "file": "einvoice.csv", "row": 3,
                              "column": "territory"}]}


def safe_name(name: str | None) -> str:
    """The client's file name reduced to a plain base name (no folder, no ``..``, no control
    characters, at most 120 characters); ``upload`` when nothing is left. The suffix is kept, so
    that the file's type is judged as ``kinhteso ingest`` judges it."""
    raw = str(name or "")
    base = PureWindowsPath(PurePosixPath(raw.replace("\x00", "")).name).name
    base = _SAFE.sub("_", base).strip(" .")
    if len(base) > 120:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[:100] + dot + suffix[:15]) if dot else base[:120]
    return base or "upload"


class _BodyLimit:
    """Refuse a body beyond the limit with 413 (by its Content-Length, and while it streams in)."""

    def __init__(self, app) -> None:
        self.app = app

    def _limit(self, scope) -> int:
        state = scope["app"].state if "app" in scope else None
        path = scope.get("path", "").rstrip("/")
        if path == PATH:
            return int(getattr(state, "max_upload", MAX_UPLOAD_BYTES))
        other = getattr(state, "path_limits", None) or {}  # other parts' own limits (the dashboard's upload check)
        if path in other:
            return int(other[path])
        return int(getattr(state, "max_body", MAX_BODY_BYTES))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        lang = "en" if headers.get(b"accept-language", b"").lower().startswith(b"en") else "vi"
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(limit, lang)(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def watch_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except _TooLarge:
            if not started:
                await _too_large(limit, lang)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _too_large(limit: int, lang: str) -> JSONResponse:
    mb = f"{limit / 1024 / 1024:g}"
    err = ApiError("TOO_LARGE", f"Nội dung yêu cầu vượt giới hạn {mb} MB; không có gì được lưu.",
                   f"The request body exceeds the {mb} MB limit; nothing was stored.", status=413)
    return JSONResponse(error_body(err, lang), status_code=413)


def _unsupported(content_type: str) -> ApiError:
    return ApiError("UNSUPPORTED_MEDIA_TYPE",
                    "Nộp số liệu bằng multipart/form-data, tệp CSV hoặc XLSX trong trường 'file'.",
                    "Submit as multipart/form-data, the CSV or XLSX file in the field 'file'.", status=415)


def _keys_of(frame) -> tuple[list[str], list[str]]:
    return sorted(set(frame["indicator"])), sorted(set(frame["territory"]))


def install(app: FastAPI) -> None:
    """Add ``POST /api/v1/submissions`` and the body-size limit to ``app``."""
    app.state.max_upload = MAX_UPLOAD_BYTES
    app.state.max_body = MAX_BODY_BYTES
    app.state.ingest_processes = True  # False: check submissions in a thread of the server instead
    app.add_middleware(_BodyLimit)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_):
        if app_.state.ingest_processes:
            ingest_pool(warm=True)  # the workers load pandas and DuckDB while the server starts
        async with inner(app_) as state:
            yield state

    app.router.lifespan_context = lifespan

    @app.post(PATH, tags=["submissions"], status_code=201,
              summary="Submit a CSV or XLSX file (as `kinhteso ingest` takes it): one vintage, or refused whole",
              openapi_extra={
                  "x-kinhteso-action": "submit",
                  "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                      "type": "object", "required": ["file"], "properties": {
                          "file": {"type": "string", "format": "binary",
                                   "description": "the CSV or XLSX file (long or wide layout)"},
                          "source": {"type": "string", "description": "the submitting agency (default: the member)"},
                          "decimal": {"type": "string", "enum": [".", ","], "default": "."},
                          "vsic": {"type": "string", "enum": ["2018", "2025", "auto"]},
                          "adapter": {"type": "string", "description": "an adapter for a record file"}}}}}},
                  "parameters": [
                      {"name": "source", "in": "query", "required": False, "schema": {"type": "string"},
                       "description": "the submitting agency's code (default: the member's; another needs admin)"},
                      {"name": "decimal", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": [".", ","], "default": "."},
                       "description": "the decimal mark: ',' for 1.234,5"},
                      {"name": "adapter", "in": "query", "required": False, "schema": {"type": "string"},
                       "description": "an adapter for a record file in the agency's own layout (e.g. "
                                      "dcsa-equipment-events; `kinhteso adapters`); the member must be of the kind "
                                      "that owns the adapter's dataset"},
                      {"name": "vsic", "in": "query", "required": False,
                       "schema": {"type": "string", "enum": ["2018", "2025", "auto"]},
                       "description": "the VSIC version of the rows without a vsic_version cell (none: VSIC 2018; "
                                      "auto: VSIC 2025 for periods from 2026-01-01)"}]},
              responses={
                  201: {"description": "Stored as a new vintage",
                        "content": {"application/json": {"example": _EXAMPLE_201}}},
                  200: {"description": "The same data were stored already: that vintage, nothing added",
                        "content": {"application/json": {"example": {**_EXAMPLE_201, "stored": False, "rows": 0}}}},
                  403: {"description": "A row outside the member's submit grant: refused whole, nothing stored"},
                  413: {"description": f"Larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB"},
                  415: {"description": "Not multipart/form-data"},
                  422: {"description": "Refused whole: every problem, in Vietnamese and English; nothing stored",
                        "content": {"application/json": {"example": _EXAMPLE_422}}}})
    async def submit(request: Request, member: Member | None = Depends(current_member)) -> Response:
        private = bool(getattr(request.app.state, "private", False))
        authorize(member, "submit", private_server=private)
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            raise _unsupported(ctype)
        try:
            form = await request.form(max_files=1, max_fields=10)
        except _TooLarge:
            raise
        except Exception as exc:  # a multipart body that does not parse
            raise ApiError("BAD_MULTIPART", "Nội dung multipart không đọc được.",
                           "The multipart body cannot be read.", status=400) from exc
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError("NO_FILE", "Thiếu tệp: gửi tệp CSV hoặc XLSX trong trường 'file'.",
                           "No file: send the CSV or XLSX file in the field 'file'.", status=422)
        source = (request.query_params.get("source") or form.get("source") or "").strip()
        decimal = (request.query_params.get("decimal") or form.get("decimal") or ".").strip() or "."
        if decimal not in (".", ","):
            raise ApiError("BAD_DECIMAL", "decimal phải là '.' hoặc ','.", "decimal must be '.' or ','.", status=422)
        adapter = (request.query_params.get("adapter") or form.get("adapter") or "").strip() or None
        vsic = (request.query_params.get("vsic") or form.get("vsic") or "").strip().lower() or None
        if vsic not in (None, "2018", "2025", "auto"):
            raise ApiError("BAD_VSIC_VERSION", "vsic phải là 2018, 2025 hoặc auto.", "vsic must be 2018, 2025 or auto.",
                           status=422)
        own = member.code if member is not None else "unknown"
        if source and source != own:  # speaking for another agency is an administrator's act
            authorize(member, "admin", private_server=private)
        source = source or own
        if len(source) > 100 or not re.fullmatch(r"[\w.\-:/ ]+", source):
            raise ApiError("BAD_SOURCE", "Tên nguồn chỉ gồm chữ, số, '.', '-', ':', '/', khoảng trắng (≤ 100 ký tự).",
                           "A source name is letters, digits, '.', '-', ':', '/', spaces (at most 100 characters).",
                           status=422)
        if source != own:  # another agency: a registered one (reference/data/sources.yaml or a member)
            from kinhteso.service.data import check_source  # noqa: PLC0415

            check_source(ws_of(request), source)
        name = safe_name(upload.filename)
        ws = ws_of(request)
        folder = ws.tmp / f"upload-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        target = folder / name
        try:
            digest = hashlib.sha256()
            with open(target, "wb") as fh:
                while chunk := await upload.read(1 << 20):
                    digest.update(chunk)
                    fh.write(chunk)
            await upload.close()
            async with _slots(request.app):
                if adapter is not None:
                    outcome = await run_in_threadpool(_ingest_records, ws, target, name, source, adapter, member, private)
                else:
                    outcome = await _ingest(request.app, ws, target, digest.hexdigest(), source, decimal, member,
                                            private, vsic=vsic)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if outcome.rejected is not None:
            body = error_body(outcome.rejected, language(request))
            return JSONResponse(_unpath(body, target, name), status_code=422)
        r = outcome.result
        if r.already_stored:  # the same data again: the member must still be granted what it holds
            inds, ters = _keys_of(ws.store.vintage_keys(r.vintage_id))
            authorize(member, "submit", indicators=inds, territories=ters, private_server=private)
        body = {"vintage": int(r.vintage_id), "stored": not r.already_stored, "rows": int(r.n_rows), "source": source,
                "file": name, "layout": r.layout, "backcast_rows": int(r.backcast_rows),
                "notes": [{"vi": vi, "en": en} for vi, en in r.notes]}
        if r.records is not None:  # a record file: what was set aside and recomputed
            body["records"] = r.records
        if not r.already_stored and r.records is None:  # recompute the figures it feeds, in the background
            # (kinhteso.api.changes); a record file's derived indicators are recomputed already
            from kinhteso.api.changes import refresh_later  # noqa: PLC0415

            refresh_later(request, r.vintage_id)
        return JSONResponse(body, status_code=200 if r.already_stored else 201)


def _ingest_records(ws, path: Path, name: str, source: str, adapter: str, member: Member | None, private: bool):
    """A record file through an adapter (:func:`kinhteso.service.data.ingest_records`), checked
    against the member's ``submit`` grant on the indicators it feeds and its territories before
    anything is stored. Records are checked and stored in the server's thread pool."""
    from kinhteso.errors import InputRejected  # noqa: PLC0415
    from kinhteso.service.data import IngestOutcome, IngestRequest, adapter_for, ingest_records  # noqa: PLC0415

    def check(indicators: list[str], territories: list[str]) -> None:
        authorize(member, "submit", indicators=indicators, territories=territories, private_server=private)

    req = IngestRequest(files=(path,), source=source, adapter=adapter)
    try:
        return IngestOutcome(path, result=ingest_records(ws, path, adapter_for(ws, req), req, check=check))
    except InputRejected as exc:
        return IngestOutcome(path, rejected=exc)


def _slots(app: FastAPI) -> asyncio.Semaphore:
    slots = getattr(app.state, "ingest_slots", None)
    if slots is None:
        slots = app.state.ingest_slots = asyncio.Semaphore(INGEST_SLOTS)
    return slots


async def _ingest(app: FastAPI, ws, path: Path, sha256: str, source: str, decimal: str, member: Member | None,
                  private: bool, vsic: str | None = None):
    """Check the file in a worker process (:func:`ingest_pool`), then store it here: the same
    two halves as ``kinhteso ingest`` (:func:`kinhteso.service.data.check_submission`,
    :func:`~kinhteso.service.data.store_checked`). These very bytes stored already: that vintage,
    nothing checked."""
    from kinhteso.errors import InputRejected  # noqa: PLC0415
    from kinhteso.service.data import (  # noqa: PLC0415
        CheckRequest,
        IngestOutcome,
        check_submission,
        store_checked,
        stored_already,
    )

    def check(keys) -> None:
        inds, ters = _keys_of(keys)
        authorize(member, "submit", indicators=inds, territories=ters, private_server=private)

    # with a VSIC version named, the same bytes may be other data: the rows decide (content digest)
    checked = await run_in_threadpool(stored_already, ws, path, sha256, source=source) if vsic is None else None
    if checked is None:
        req = CheckRequest.of(ws, path, decimal=decimal, vsic=vsic)
        try:
            if not getattr(app.state, "ingest_processes", True):
                checked = await run_in_threadpool(check_submission, req)
            else:
                try:
                    checked = await asyncio.get_running_loop().run_in_executor(ingest_pool(), check_submission, req)
                except BrokenProcessPool:  # a worker died (killed, out of memory): new ones, once more
                    checked = await asyncio.get_running_loop().run_in_executor(ingest_pool(renew=True),
                                                                               check_submission, req)
        except InputRejected as exc:
            return IngestOutcome(path, rejected=exc)
    return await run_in_threadpool(store_checked, ws, checked, source=source, check=check)


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def ingest_pool(*, warm: bool = False, renew: bool = False) -> ProcessPoolExecutor:
    """The worker processes that check submissions (:data:`INGEST_SLOTS`), one set per server
    process, started on first use (``warm``: start them now and load what they need, so that the
    first submission does not wait for it; ``renew``: replace a broken set). Spawned, never
    forked: the server has threads."""
    global _POOL
    import multiprocessing  # noqa: PLC0415

    with _POOL_LOCK:
        if renew and _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = None
        if _POOL is None:
            _POOL = ProcessPoolExecutor(max_workers=INGEST_SLOTS, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_watch_parent, initargs=(os.getpid(),))
        pool = _POOL
    if warm:
        for _ in range(INGEST_SLOTS):
            pool.submit(_load_ingestion)
    return pool


def stop_ingest_pool() -> None:
    """Stop the worker processes (a server stopping); a submission after this starts new ones."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


#: How much lower than the server the worker processes run (``nice``): checking a file is batch
#: work, answering a reader is not; on a busy machine the readers get the processor first.
WORKER_NICENESS = 10


def _watch_parent(parent: int) -> None:
    """In a worker: run below the server (:data:`WORKER_NICENESS`), and leave when the server is
    gone (killed: nothing else would stop the worker)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="kinhteso-parent-watch", daemon=True).start()


def _load_ingestion() -> None:
    import kinhteso.ingest.load  # noqa: F401, PLC0415


def _unpath(body: dict, target: Path, name: str) -> dict:
    """The problem list with the server's scratch path replaced by the client's file name."""
    text = json.dumps(body, ensure_ascii=False)
    for p in (str(target), str(target.parent)):
        text = text.replace(json.dumps(p)[1:-1], name).replace(p, name)
    return json.loads(text)
