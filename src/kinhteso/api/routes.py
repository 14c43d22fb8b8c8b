"""The read routes of the API (``/api/v1``): reference lists, submissions read back, results.

Every route parses its query into a service request, calls :mod:`kinhteso.service` (never the
pipeline), checks the caller with :func:`kinhteso.api.auth.authorize` on the indicators and
territories it touches, and renders JSON (or CSV with ``Accept: text/csv``, cells neutralised).

What each route needs (``x-kinhteso-action`` in the OpenAPI document):

- ``public``: the reference lists (``territories``, ``indicators``) and the official figure
  (``figure``): open to all, unless the server runs ``--private`` (then a read grant);
- ``read``: submissions read back (``observations``, ``vintages``) and kinhteso's results
  (``results``, ``accounts``, ``quarterly``, ``nowcast``, ``index``, ``gaps``, ``plan``), within
  the reader's grant. A query that leaves indicators or territories open is checked against
  those of the rows it returns; ``vintages`` lists every submission for a grant on everything
  (``*``), and only the member's own submissions otherwise;
- ``admin``: ``POST nowcast`` computes and stores a nowcast run.

Values kinhteso derives from agencies' records are shown under the disclosure rule
(:mod:`kinhteso.service.sharing`, ``docs/sharing.md``): ``results`` and ``figure`` give each such
value its ``units`` and ``obs_conf`` (``C``: from fewer than 3 reporting units, its value removed
for a member or the public; ``F``: published); an admin sees the values with their flag.

GET routes never write: ``accounts`` and ``quarterly`` compute in memory (nothing stored);
``nowcast`` reads the stored nowcast runs.

Reads are cached per query (:class:`_ReadCache`) and per
:meth:`~kinhteso.store.Store.data_version` (any submission, retraction or stored run makes a new
version). Submissions read back (``observations``) are always those of the latest version.
Kinhteso's computed figures (``accounts``, ``quarterly``, ``index``, ``gaps``, ``plan``) are
served from the last answer while one background worker recomputes them after a change, so
readers never wait on a recomputation: such an answer lags a submission by at most
:data:`REFRESH_SECONDS` (2 s) plus its turn in the worker, which spends at most
:data:`~kinhteso.service.refresh.BACKGROUND_SHARE` of its time computing so that a stream of
submissions never takes the processor from the readers (``Cache-Control: no-cache`` waits for
the up-to-date one). An answer at hand is served on the event loop, encoded once per format;
only a computation, or a wait for one, goes to a worker thread.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response

from kinhteso.api.app import PREFIX, render, ws_of
from kinhteso.api.auth import ApiAuthError, Member, authorize, current_member
from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.service.refresh import BACKGROUND_SHARE

__all__ = ["install", "ApiError", "EXAMPLES", "READ_CACHE_SIZE", "REFRESH_SECONDS"]

#: How many answers the read cache keeps (least recently used dropped first).
READ_CACHE_SIZE = 512
#: A computed figure is recomputed after a change at most this often (seconds): under a stream
#: of submissions, readers get the answer of at most this long ago plus its turn in the
#: background worker (:data:`kinhteso.service.refresh.BACKGROUND_SHARE` of its time computing).
REFRESH_SECONDS = 2.0
_LABOUR_HELP = ("DE_LABOUR_SHARE: core (workers of the core industries, the default) or coef (plus other "
                "industries' workers × DIGITAL_COEF, a kinhteso assumption named on each row)")


class ApiError(KinhtesoError):
    """A refusal of the HTTP layer with its status (413, 415, 404…), in Vietnamese and English."""

    def __init__(self, code: str, vi: str, en: str, *, status: int = 400, **context: Any) -> None:
        super().__init__(code, vi, en, **context)
        self.status = status


# --- helpers --------------------------------------------------------------------------------------
def _split(values: Iterable[str] | None) -> tuple[str, ...] | None:
    """Repeated and comma-separated query values as one tuple (None when none)."""
    out = tuple(v.strip() for item in (values or ()) for v in str(item).split(",") if v.strip())
    return out or None


def _auth(request: Request, member: Member | None, action: str, *, indicators=(), territories=(),
          public: bool = False) -> None:
    authorize(member, action, indicators=[str(i).upper() for i in indicators], territories=list(territories),
              public=public, private_server=bool(getattr(request.app.state, "private", False)))


def _keys(values: Iterable[str] | None) -> list[str]:
    """Territory keys from keys, codes or names (``UNKNOWN_TERRITORY`` for none)."""
    from kinhteso.service.figures import keys_of  # noqa: PLC0415

    return keys_of(list(values)) if values else []


def _as_of(text: str | None):
    from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415

    return parse_as_of(text)


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def _records(frame) -> list[dict]:
    return frame.to_dict(orient="records")


class _Entry:
    """One cached answer: the data version it was computed on, the value, when, and its
    rendered bodies by format (so that a hot answer is encoded once, not once per reader)."""

    __slots__ = ("version", "value", "at", "bodies")

    def __init__(self, version: tuple, value: Any) -> None:
        self.version, self.value, self.at = version, value, time.monotonic()
        self.bodies: dict[str, Response] = {}


class _ReadCache:
    """Answers by (route, query), each with the data version it was computed on; thread-safe.

    - one computation per key at a time: concurrent readers of the same key wait for it;
    - ``fresh`` answers (submissions read back) are recomputed when the data version moved, and
      the reader waits for that;
    - computed figures (``fresh=False``: accounts, quarterly, index, gaps, plan) are served from
      the last answer while the background worker recomputes it for the new version (one key at
      a time, resting between them: :data:`~kinhteso.service.refresh.BACKGROUND_SHARE`), so a
      reader never waits on a recomputation once an answer exists; a key is queued at most
      every :data:`REFRESH_SECONDS`. ``Cache-Control: no-cache`` waits for the fresh one (and
      computes it at once when it is still queued).

    :meth:`fetch` (the routes' way in) answers on the event loop when the answer is at hand and
    goes to a worker thread only to compute or wait (:meth:`get`).
    """

    def __init__(self, size: int = READ_CACHE_SIZE) -> None:
        self._data: OrderedDict[tuple, _Entry] = OrderedDict()
        self._busy: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self._size = size
        #: stale figures waiting for the background worker, oldest first: key → (version, compute)
        self._queue: OrderedDict[tuple, tuple[Callable[[], tuple], Callable[[], Any]]] = OrderedDict()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None

    def _enqueue(self, key: tuple, version_of: Callable[[], tuple], compute: Callable[[], Any]) -> None:
        """Queue ``key`` for the background worker (caller holds the lock and marked it busy)."""
        self._queue[key] = (version_of, compute)
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="kinhteso-read-cache", daemon=True)
            self._worker.start()
        self._wake.notify()

    def _work(self) -> None:
        """Recompute queued figures one at a time, resting between them (:data:`BACKGROUND_SHARE`)."""
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                key, (version_of, compute) = self._queue.popitem(last=False)
                done = self._busy.get(key)
            if done is None:  # taken over by a reader who needed it at once
                continue
            started = time.monotonic()
            try:
                self._compute(key, version_of(), compute, done)
            except Exception:  # noqa: BLE001 - the next reader computes it again and gets the error
                logging.getLogger("kinhteso.api").exception("background recomputation of %s failed", key[0])
            time.sleep((time.monotonic() - started) * (1 / BACKGROUND_SHARE - 1))

    def _store(self, key: tuple, version: tuple, value: Any) -> _Entry:
        entry = _Entry(version, value)
        with self._lock:
            old = self._data.get(key)
            if old is None or old.version <= version:
                self._data[key] = entry
                self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return entry

    def _compute(self, key: tuple, version: tuple, compute: Callable[[], Any], done: threading.Event) -> _Entry:
        try:
            return self._store(key, version, compute())
        finally:
            with self._lock:
                self._busy.pop(key, None)
            done.set()

    @staticmethod
    def _fresh(request: Request, fresh: bool) -> bool:
        return fresh or "no-cache" in request.headers.get("cache-control", "")

    def _at_hand(self, key: tuple, version: tuple, fresh: bool) -> _Entry | None:
        """The answer that may be served without computing or waiting, if any."""
        with self._lock:
            held = self._data.get(key)
            if held is None:
                return None
            if held.version >= version:
                self._data.move_to_end(key)
                return held
            if not fresh and (key in self._busy or time.monotonic() - held.at < REFRESH_SECONDS):
                return held  # being recomputed, or recomputed a moment ago
        return None

    async def fetch(self, request: Request, key: tuple, compute: Callable[[], Any], *, fresh: bool = True,
                    scope: tuple | None = None) -> _Entry:
        """The cached answer for ``key`` (see the class); computing runs in a worker thread.
        ``scope``: the (indicators, territories) the answer depends on, whose own data version
        it is kept by (:meth:`kinhteso.store.Store.data_version`); the whole store's otherwise."""
        from starlette.concurrency import run_in_threadpool  # noqa: PLC0415

        fresh = self._fresh(request, fresh)
        entry = self._at_hand(key, _version_of(request, scope)(), fresh)
        if entry is not None:
            return entry
        return await run_in_threadpool(self.get_entry, request, key, compute, fresh=fresh, scope=scope)

    def get_entry(self, request: Request, key: tuple, compute: Callable[[], Any], *, fresh: bool = True,
                  scope: tuple | None = None) -> _Entry:
        """The cached answer for ``key``, computing it or waiting for it in this thread."""
        fresh = self._fresh(request, fresh)
        version_of = _version_of(request, scope)
        while True:
            version = version_of()
            with self._lock:
                held = self._data.get(key)
                if held is not None and held.version >= version:
                    self._data.move_to_end(key)
                    return held
                running = self._busy.get(key)
                if running is None:
                    running = self._busy[key] = threading.Event()
                    mine = True
                elif fresh and self._queue.pop(key, None) is not None:
                    mine = True  # queued for the background worker, not started: computed here, now
                else:
                    mine = False
                if mine and held is not None and not fresh:
                    if time.monotonic() - held.at < REFRESH_SECONDS:  # refreshed a moment ago: later
                        self._busy.pop(key, None)
                        running.set()
                    else:
                        self._enqueue(key, version_of, compute)
                    return held
            if mine:
                return self._compute(key, version, compute, running)
            if held is not None and not fresh:
                return held
            running.wait(120)  # another reader computes this key: take its answer


def _version_of(request: Request, scope: tuple | None) -> Callable[[], tuple]:
    store = ws_of(request).store
    return store.data_version if scope is None else (lambda: store.data_version(*scope))


def _scope(indicators: Iterable[str] | None, territories: Iterable[str] | None, *,
           nation: bool = False) -> tuple | None:
    """The (indicators, territory keys) a read depends on: the keys asked for, the 63-basis
    provinces merged into a 34-basis one, and the nation (``nation``: provinces borrow its
    coefficients); None (the whole store) when the query leaves either open."""
    if not indicators or not territories:
        return None
    return _scope_of(tuple(indicators), tuple(territories), nation)


@functools.lru_cache(maxsize=1024)
def _scope_of(indicators: tuple, territories: tuple, nation: bool) -> tuple:
    from kinhteso.reference.territories import with_predecessors  # noqa: PLC0415

    keys = with_predecessors(territories) | ({"VN"} if nation else set())
    return tuple(sorted({str(i).upper() for i in indicators})), tuple(sorted(keys))


def _render_once(request: Request, entry: _Entry, make: Callable[[], list[dict] | dict], form: str = "") -> Response:
    """``render(request, make())`` for a cached answer, encoded once per format and language.
    ``make`` must depend only on the entry's value and the format (``form`` names a variant)."""
    kind = ("csv" if _wants_csv(request) else "json") + form
    body = entry.bodies.get(kind)
    if body is None:
        body = entry.bodies[kind] = render(request, make())
    return Response(body.body, status_code=body.status_code, media_type=body.media_type)


def _cache(request: Request) -> _ReadCache:
    return request.app.state.read_cache


def _territory_key(row: dict) -> str:
    """The store's territory key of an exported observation row (``VN``, ``34:31``)."""
    basis, code = str(row.get("basis") or ""), str(row["territory"])
    return f"{basis}:{code}" if basis and ":" not in code else code


def _action(name: str) -> dict:
    return {"x-kinhteso-action": name}


def _example(example: Any, csv: bool = True) -> dict:
    content: dict[str, Any] = {"application/json": {"example": example}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {200: {"description": "OK", "content": content}}


# --- examples (the OpenAPI document shows one for every endpoint) --------------------------------
EXAMPLES: dict[str, Any] = {
    "territories": [{"key": "34:31", "basis": 34, "code": "31", "name_vi": "Hải Phòng", "name_en": "Hai Phong",
                     "valid_from": "2025-07-01", "valid_to": None}],
    "indicators": [{"code": "GRDP_VA", "name_vi": "Giá trị tăng thêm theo ngành kinh tế",
                    "name_en": "Value added by industry", "units": ["VND_BN"], "additive": True, "min": 0.0,
                    "max": None, "frequencies": ["A", "Q"], "sector_kind": "vsic",
                    "description_vi": "Giá trị tăng thêm theo giá hiện hành…",
                    "description_en": "Value added at current or constant prices…",
                    "source": "Cục Thống kê (GSO/NSO)"}],
    "observations": [{"indicator": "GRDP_VA", "territory": "31", "basis": "34", "sector": "62", "period": "2024",
                      "value": 4233.716262, "unit": "VND_BN", "price_basis": "current", "status": "A",
                      "vintage": 3, "source": "cuc-thong-ke-hai-phong", "illustrative": False, "backcast": False,
                      "derived_from": ""}],
    "vintages": [{"vintage_id": 37, "source": "thue-hai-phong", "received_at": "2026-11-28T09:30:00",
                  "file_name": "einvoice_2026-10.csv", "sha256": "8fd1ad51…", "n_rows": 120,
                  "illustrative": False, "note": "", "content_sha256": "b0005ceb…", "retracted_at": None,
                  "retraction_reason": None}],
    "results": [{"indicator": "DE_SHARE", "territory": "34:31", "sector": "_T", "period": "2026-Q4",
                 "view": "bridge", "value": 23.92, "unit": "PCT", "price_basis": "current", "status": "F",
                 "basis": "nowcast", "run_id": "ee8b768c3cec2334d0852e98", "kind": "nowcast", "method": "bridge",
                 "computed_at": "2026-11-28T03:01:00.933995", "inputs": {"vintages": [7, 8, 9]},
                 "parameters": {"level": 0.9, "period": "2026-Q4", "territory": "34:31"},
                 "code_version": "0.1.0", "illustrative": False, "units": None, "obs_conf": None}],
    "figure": {"territory": "34:31", "indicator": "DE_SHARE", "period": "2024", "value": 21.9, "unit": "PCT",
               "basis": "estimated", "status": "E", "source": "kinhteso:accounts", "vintage": None,
               "run_id": "4f0c…", "method": "kinhteso.methods.accounts.measure", "view": "gso", "stored": True,
               "illustrative": False, "alternatives": [],
               "rule": {"vi": "số công bố/được gửi › số quý đã khớp số năm › số ước tính › dự báo tức thời (nowcast)",
                        "en": "published/submitted › benchmarked quarter › estimate › nowcast"}},
    "accounts": {"period": "2024", "view": "gso", "reconciliation": None, "results": [
        {"territory": "34:31", "period": "2024", "view": "gso", "basis": "estimated", "grdp": 571277.74,
         "de_va": 125106.61, "de_share": 21.90,
         "components": {"core": {"va": 99595.71, "share": 17.43}, "digitalised": {"va": 25510.90, "share": 4.47}},
         "by_sector": [{"sector": "26", "de_va": 88067.17, "contribution_pp": 15.42}], "warnings": []}]},
    "quarterly": [{"territory": "34:31", "period": "2026-Q3", "de_va": 40962.88, "grdp": 175138.20,
                   "de_share": 23.39, "status": "E", "basis": "estimated", "method": "denton-cholette",
                   "view": "gso", "run_id": None}],
    "nowcast": [{"indicator": "DE_SHARE", "territory": "34:31", "period": "2026-Q4", "view": "bridge",
                 "value": 23.92, "unit": "PCT", "status": "F", "basis": "nowcast",
                 "run_id": "ee8b768c3cec2334d0852e98", "method": "bridge", "computed_at": "2026-11-28T03:01:00"}],
    "nowcast_post": {"territory": "34:31", "period": "2026-Q4", "engine": "bridge", "level": 0.9, "de_va": 41200.5,
                     "de_va_interval": [39800.1, 42650.7], "de_share": 23.92, "de_share_interval": [23.1, 24.7],
                     "run_id": "ee8b768c3cec2334d0852e98", "warnings": []},
    "index": {"provenance": {"framework": "dti2024", "period": "2024", "basis": 63, "illustrative": False},
              "scores": [{"territory": "63:31", "name": "Hải Phòng", "score": 0.61, "rank": 9, "rank_low": 6,
                          "rank_high": 13, "rank_median": 9, "strengths": "…", "weaknesses": "…",
                          "illustrative": False, "derived_from": ""}]},
    "gaps": [{"indicator": "DE_SHARE", "territory": "34:31", "name": "Hải Phòng", "latest_value": 22.85,
              "latest_period": "2025", "target_value": 35.0, "target_year": 2025, "comparison": ">=",
              "gap": 12.15, "status": "off_track", "source": "computed (kinhteso accounts, GSO view)",
              "basis": "DE_SHARE_MIC", "boundary": "63:31", "series_indicator": "DE_SHARE", "series_territory": "34:31",
              "basis_mismatch": True, "boundary_converted": True,
              "warnings": [{"code": "BASIS_MISMATCH", "vi": "Mục tiêu đặt trên ước tính kiểu MIC…",
                            "en": "The target was set on MIC-style estimates…"}]}],
    "plan": {"gap": {"indicator": "DE_SHARE", "territory": "34:31", "target_value": 35.0, "target_year": 2030},
             "milestones": [{"period": "2027-Q1", "value": 24.1}], "sectors": [], "sector_summary": None,
             "core_alternative": None, "growth": {"rate": 0.09}, "warnings": []},
}


#: The example of ``GET /indicators/{code}`` (abridged; ``kinhteso indicator show DE_SHARE --format json``).
_SHEET_EXAMPLE: dict[str, Any] = {
    "code": "DE_SHARE", "kind": "registry",
    "name": {"vi": "Tỷ trọng giá trị tăng thêm của kinh tế số trong GDP/GRDP (số công bố)",
             "en": "Digital economy share of GDP/GRDP (published figure)"},
    "unit": [{"code": "PCT", "vi": "phần trăm (%)", "en": "percent (%)"}],
    "definition": {"vi": "Tỷ trọng giá trị tăng thêm của kinh tế số trong tổng sản phẩm…", "en": "The digital-economy share…"},
    "formula": {"vi": "… = Giá trị tăng thêm của kinh tế số / GDP (GRDP) × 100.",
                "en": "… = digital-economy value added / GDP (GRDP) × 100."},
    "kinhteso_formula": "DE_SHARE = 100 × DE_VA / GRDP, …",
    "breakdowns": [{"code": "industry", "vi": "ngành kinh tế (VSIC)", "en": "industry (VSIC)"}],
    "periodicity": {"vi": "Năm.", "en": "Annual."},
    "source_agency": {"vi": "Cục Thống kê (Bộ Tài chính)…", "en": "Statistics office…"},
    "responsible_unit": {"vi": "…", "en": "…"}, "release_calendar": {"vi": "Hằng năm…", "en": "Annually…"},
    "legal_basis": [{"document": {"id": "ND94_2022", "number": "94/2022/NĐ-CP", "date": "2022-11-07",
                                  "issuer": {"vi": "Chính phủ", "en": "Government"},
                                  "title": {"vi": "Nghị định…", "en": "Decree…"}, "url": "https://…"},
                     "applies": {"vi": "Nội dung chỉ tiêu…", "en": "The indicator's content…"}}],
    "data_sources": {"vi": "Tổng điều tra kinh tế; …", "en": "Economic census; …"}, "notes": {"vi": "…", "en": "…"},
    "decision_1354": [{"level": "national", "no": 1, "name": {"vi": "…", "en": "…"}}],
    "sources": ["…"], "complete": True, "missing": [],
}


# --- the routes -----------------------------------------------------------------------------------
def install(app: FastAPI) -> None:
    """Add the read routes (and the read cache) to ``app``."""
    app.state.read_cache = _ReadCache()
    tags_ref, tags_sub, tags_res = ["reference"], ["submissions"], ["results"]

    @app.get(PREFIX + "/territories", tags=tags_ref, summary="Territories (the nation, 63 and 34 provinces)",
             openapi_extra=_action("public"), responses=_example(EXAMPLES["territories"]))
    def territories(request: Request, basis: int | None = Query(None, description="63 or 34 (default: all)"),
                    member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.reference import territories as terr  # noqa: PLC0415

        _auth(request, member, "read", public=True)
        rows = [{"key": t.key, "basis": t.basis, "code": t.code, "name_vi": t.name_vi, "name_en": t.name_en,
                 "valid_from": t.valid_from, "valid_to": t.valid_to}
                for t in terr.territories() if basis is None or t.basis == basis]
        return render(request, rows)

    @app.get(PREFIX + "/indicators", tags=tags_ref, summary="The indicator registry, with metadata",
             openapi_extra=_action("public"), responses=_example(EXAMPLES["indicators"]))
    def indicators(request: Request, member: Member | None = Depends(current_member)) -> Response:
        import dataclasses  # noqa: PLC0415

        _auth(request, member, "read", public=True)
        rows = [dataclasses.asdict(i) for i in ws_of(request).indicators().values()]
        if _wants_csv(request):
            rows = [{k: ",".join(v) if isinstance(v, tuple) else v for k, v in r.items()} for r in rows]
        return render(request, rows)

    from fastapi import Path as PathParam  # noqa: PLC0415

    @app.get(PREFIX + "/indicators/{code}", tags=tags_ref,
             summary="The sheet of one indicator (definition, formula, breakdowns, periodicity, agencies, legal basis)",
             openapi_extra=_action("public"), responses=_example(_SHEET_EXAMPLE, csv=False))
    def indicator_sheet(request: Request, code: str = PathParam(..., examples=["DE_SHARE"]),
                        member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.indicators import IndicatorShowRequest, show_indicator  # noqa: PLC0415

        _auth(request, member, "read", public=True)
        try:
            sheet = show_indicator(IndicatorShowRequest(code=code), ws_of(request))
        except UsageError as exc:  # an unknown code: 404, with the nearest codes
            raise ApiError(exc.code, exc.vi, exc.en, status=404, **exc.context) from exc
        return render(request, sheet.as_dict())

    @app.get(PREFIX + "/observations", tags=tags_sub,
             summary="What agencies submitted: the latest vintage of each key (as of a moment)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["observations"]))
    async def observations(request: Request,
                     indicator: list[str] | None = Query(None, description="indicator code(s), e.g. GRDP_VA"),
                     territory: list[str] | None = Query(None, description="VN, 34:31, 63:30 or a name"),
                     sector: list[str] | None = Query(None, description="VSIC code(s), _T for the total"),
                     period: list[str] | None = Query(None, description="2024, 2024-Q1, 2024-01"),
                     as_of: str | None = Query(None, description="state as of a moment, 2026-11-26T10:00"),
                     basis: int | None = Query(None, description="63, or 34 (additive 63-basis series summed)"),
                     member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.data import ObservationsRequest, observations as run  # noqa: PLC0415

        ind, ter = _split(indicator), _split(territory)
        if basis not in (None, 34, 63):
            raise UsageError("BAD_BASIS", "basis phải là 63 hoặc 34.", "basis must be 63 or 34.")
        _auth(request, member, "read", indicators=ind or (), territories=_keys(ter))
        req = ObservationsRequest(indicator=ind, territory=ter, sector=_split(sector), period=_split(period),
                                  as_of=_as_of(as_of), basis=basis)
        key = ("observations", ind, ter, req.sector, req.period, req.as_of, basis)
        entry = await _cache(request).fetch(request, key, lambda: _records(run(ws_of(request), req).frame),
                                            scope=_scope(ind, _keys(ter) if ter else None))
        rows = entry.value
        if not (ind and ter):  # an open query: the rows it returns must be within the grant too
            _auth(request, member, "read", indicators=sorted({r["indicator"] for r in rows}),
                  territories=sorted({_territory_key(r) for r in rows}))
        return _render_once(request, entry, lambda: rows)

    @app.get(PREFIX + "/vintages", tags=tags_sub, summary="Every accepted submission (who, when, file, rows)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["vintages"]))
    def vintages(request: Request, member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.data import vintages as run  # noqa: PLC0415

        own_only = False
        try:
            _auth(request, member, "read", indicators=["*"], territories=["*"])
        except ApiAuthError as exc:
            if member is None or exc.status != 403:
                raise
            own_only = True  # a member without a grant on everything sees its own submissions
        df = run(ws_of(request))
        if own_only:
            df = df[df["source"] == member.code]
        return render(request, _records(df))

    @app.get(PREFIX + "/results", tags=tags_res, summary="What kinhteso computed and stored (never a submission)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["results"]))
    def results(request: Request, indicator: str | None = None, territory: str | None = None,
                period: str | None = None,
                kind: str | None = Query(None, description="accounts, quarterly, nowcast, coef"),
                view: str | None = Query(None, description="gso, mic (MIC-style: a kinhteso estimate), oecd, or a nowcast engine"),
                sector: str = Query("_T", description="'*' for every sector"),
                as_of: str | None = None, all_runs: bool = False,
                member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.figures import ResultsRequest, results as run  # noqa: PLC0415

        _auth(request, member, "read", indicators=[indicator] if indicator else (),
              territories=_keys([territory]) if territory else ())
        req = ResultsRequest(indicator=indicator, territory=territory, period=period, kind=kind, view=view,
                             sector=None if sector == "*" else sector, as_of=_as_of(as_of), all_runs=all_runs)
        from kinhteso.service.sharing import disclose_results, viewer_of  # noqa: PLC0415

        # values derived from records under the disclosure rule (docs/sharing.md): obs_conf C, no value
        rows = _records(disclose_results(ws_of(request), run(ws_of(request), req), viewer_of(member)))
        if not (indicator and territory):
            _auth(request, member, "read", indicators=sorted({r["indicator"] for r in rows}),
                  territories=sorted({r["territory"] for r in rows}))
        return render(request, rows)

    @app.get(PREFIX + "/figure", tags=tags_res, summary="The official figure, by one documented rule",
             openapi_extra=_action("public"), responses=_example(EXAMPLES["figure"], csv=False))
    def figure(request: Request, territory: str, period: str, indicator: str = "DE_SHARE", view: str = "gso",
               as_of: str | None = None, member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.figures import FigureRequest, figure as run  # noqa: PLC0415

        _auth(request, member, "read", indicators=[indicator], territories=_keys([territory]), public=True)
        from kinhteso.service.sharing import disclose_figure, viewer_of  # noqa: PLC0415

        fig = run(ws_of(request), FigureRequest(territory=territory, period=period, indicator=indicator, view=view,
                                                as_of=_as_of(as_of)))
        return render(request, disclose_figure(ws_of(request), fig, viewer_of(member)))

    @app.get(PREFIX + "/accounts", tags=tags_res,
             summary="The digital economy's value added and share of GRDP (computed, nothing stored)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["accounts"]))
    async def accounts(request: Request, period: str,
                 territory: list[str] | None = Query(None, description="VN, 34:31 or a name (default: every one)"),
                 view: str = Query("gso", description="gso, mic (MIC-style: a kinhteso estimate), oecd"), as_of: str | None = None,
                 prices: str = Query("current", description="current, or constant (constant 2010 prices, with real growth)"),
                 by: str | None = Query(None, description="ownership (state, non-state, FDI) or region (the six "
                                                          "socio-economic regions; territory = region keys or names)"),
                 region_basis: int | None = Query(None, description="with by=region: 63 or 34 provinces (default: "
                                                                     "the period's own)"),
                 member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.figures import MeasureRequest, measure  # noqa: PLC0415

        ter = _split(territory)
        keys = tuple(ter) if by == "region" and ter else (tuple(_keys(ter)) if ter else None)
        _auth(request, member, "read", indicators=("DE_VA", "DE_SHARE", "GRDP"),
              territories=(keys if by != "region" else None) or ("*",))
        req = MeasureRequest(period, keys, view=view, as_of=_as_of(as_of), prices=prices, breakdown=by,
                             region_basis=region_basis)

        def compute() -> dict:
            out = measure(ws_of(request), req)
            body = {"period": out.period, "view": out.view, "price_basis": out.price_basis,
                    "reconciliation": out.reconciliation, "results": [r.as_json() for r in out.results]}
            if out.regions is not None:
                body["regions"] = out.regions
            return body

        entry = await _cache(request).fetch(request, ("accounts", req), compute, fresh=False,
                                            scope=_scope(_account_inputs(), keys if by != "region" else None, nation=True))

        def shown():
            body = entry.value
            if not _wants_csv(request):
                return body
            if body.get("regions") is not None:
                return [{k: g.get(k) for k in ("region", "name_vi", "name_en", "basis", "period", "view", "price_basis",
                                               "grdp", "de_va", "de_share")} | {"missing": len(g["missing"])}
                        for g in body["regions"]]
            return [{"territory": r["territory"], "period": r.get("period"), "view": r.get("view"),
                     "price_basis": r.get("price_basis"),
                     "basis": r.get("basis"), "grdp": r.get("grdp"), "de_va": r.get("de_va"),
                     "de_share": r.get("de_share"), "illustrative": (r.get("provenance") or {}).get("illustrative"),
                     "error": (r.get("error") or {}).get("code")} for r in body["results"]]

        return _render_once(request, entry, shown)

    @app.get(PREFIX + "/quarterly", tags=tags_res,
             summary="Quarterly DE value added and share, benchmarked to the annual accounts (nothing stored)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["quarterly"]))
    async def quarterly(request: Request, territory: list[str] | None = Query(None, description="default: the nation "
                                                                                         "and the 34 provinces"),
                  year: int | None = None, indicator_set: str = Query("gdp", description="gdp or monthly"),
                  method: str | None = None, view: str = "gso",
                  member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.figures import QuarterlyRequest, quarterly as run  # noqa: PLC0415

        ter = _split(territory)
        keys = tuple(_keys(ter)) if ter else None
        _auth(request, member, "read", indicators=("DE_VA", "DE_SHARE", "GRDP"), territories=keys or ("*",))
        req = QuarterlyRequest(keys, indicator_set=indicator_set, method=method, view=view, save=False)

        def compute() -> list[dict]:
            out = run(ws_of(request), req)
            if not out.results and out.errors:
                raise out.errors[0][1]
            return _records(out.frame(year))

        entry = await _cache(request).fetch(request, ("quarterly", req, year), compute, fresh=False)
        return _render_once(request, entry, lambda: entry.value)

    @app.get(PREFIX + "/nowcast", tags=tags_res, summary="The stored nowcasts (computed with POST)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["nowcast"]))
    def nowcast(request: Request, territory: str | None = None, period: str | None = None,
                indicator: str | None = Query(None, description="DE_VA or DE_SHARE (default: both)"),
                member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.figures import ResultsRequest, results as run  # noqa: PLC0415

        keys = _keys([territory]) if territory else ["*"]
        _auth(request, member, "read", indicators=[indicator] if indicator else ("DE_VA", "DE_SHARE"),
              territories=keys)
        df = run(ws_of(request), ResultsRequest(indicator=indicator, territory=territory, period=period,
                                                kind="nowcast"))
        cols = ["indicator", "territory", "period", "view", "value", "unit", "status", "basis", "run_id", "method",
                "computed_at", "illustrative"]
        return render(request, _records(df[cols]))

    @app.post(PREFIX + "/nowcast", tags=tags_res, summary="Compute and store the nowcast of the current quarter",
              openapi_extra=_action("admin"), responses=_example(EXAMPLES["nowcast_post"], csv=False))
    def nowcast_run(request: Request, territory: str, engine: str | None = None,
                    indicators: str | None = Query(None, description="CODE[:SECTOR],… overriding the territory's "
                                                   "indicator set (reference/data/nowcast_indicators.yaml)"),
                    member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.nowcast import NowcastRequest, run_nowcast  # noqa: PLC0415

        _auth(request, member, "admin", indicators=("DE_VA", "DE_SHARE"), territories=_keys([territory]))
        chosen = tuple(x.strip() for x in indicators.split(",") if x.strip()) if indicators else None
        out = run_nowcast(ws_of(request), NowcastRequest(territory=territory, engine=engine, save=True,
                                                         indicators=chosen))
        return render(request, out.as_json())

    @app.get(PREFIX + "/index", tags=tags_res, summary="Composite-index scores with rank intervals (nothing stored)",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["index"]))
    async def index(request: Request, period: str, framework: str | None = None,
              basis: int | None = Query(None, description="63 or 34 (default: 34 when the period has 34-basis data)"),
              n: int = Query(100, ge=0, le=2000, description="uncertainty replications (0: no rank intervals)"),
              seed: int = 0, as_of: str | None = None,
              member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.index import IndexRequest, score_index  # noqa: PLC0415

        _auth(request, member, "read", indicators=_framework_indicators(framework), territories=("*",))
        req = IndexRequest(period, framework=framework, basis=basis, n=n, seed=seed, as_of=as_of)

        def compute() -> dict:
            return score_index(ws_of(request), req).as_json()

        entry = await _cache(request).fetch(request, ("index", req), compute, fresh=False)
        return _render_once(request, entry, lambda: entry.value["scores"] if _wants_csv(request) else entry.value)

    @app.get(PREFIX + "/gaps", tags=tags_res, summary="How far each territory is from its targets",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["gaps"]))
    async def gaps(request: Request, territory: str | None = None, indicator: str | None = None,
             inherit_national: bool = False, source: str = Query("auto", description="auto, computed, published"),
             view: str = "gso", model: str = "loglinear", level: float = Query(0.90, gt=0, lt=1),
             against: str | None = Query(None, description="measure on this indicator instead of each target's "
                                                            "basis (needs indicator; BASIS_MISMATCH on every row)"),
             convert_boundary: bool = Query(False, description="a target set before the 2025 merger, measured on "
                                                               "the unit holding it (BOUNDARY_CONVERTED)"),
             labour: str = Query("core", description=_LABOUR_HELP),
             member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.targets import GapsRequest, gaps as run  # noqa: PLC0415

        _auth(request, member, "read", indicators=[i for i in (indicator, against) if i],
              territories=_keys([territory]) if territory else ())
        req = GapsRequest(territory=territory, indicator=indicator, inherit_national=inherit_national, source=source,
                          view=view, model=model, level=level, against=against, convert_boundary=convert_boundary,
                          labour=labour)
        entry = await _cache(request).fetch(request, ("gaps", req), lambda: run(ws_of(request), req).rows,
                                            fresh=False)
        rows = entry.value
        # every row must be within the grant. A target's basis and boundary are part of the target (the
        # series it was set on: 34:31's Plan 106 target is measured on 63:31's MIC-style figures), so a
        # grant on the target covers them; another series (``against``) needs its own grant, above
        if not (indicator and territory):
            _auth(request, member, "read", indicators=sorted({r["indicator"] for r in rows}),
                  territories=sorted({r["territory"] for r in rows}))
        return _render_once(request, entry, lambda: rows)

    @app.get(PREFIX + "/plan", tags=tags_res, summary="The plan to close a gap: milestones, sectors, growth",
             openapi_extra=_action("read"), responses=_example(EXAMPLES["plan"], csv=False))
    async def plan(request: Request, territory: str, indicator: str, target_year: int, value: float | None = None,
             growth: float | None = None, source: str = "auto", view: str = "gso",
             against: str | None = Query(None, description="measure on this indicator instead of the target's basis"),
             convert_boundary: bool = Query(False, description="a target set before the 2025 merger, on the unit "
                                                               "holding it"),
             sector: str | None = Query(None, description="the VSIC section of a DE_SHARE_SECTOR plan (required there)"),
             labour: str = Query("core", description=_LABOUR_HELP),
             member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.targets import PlanRequest, plan as run  # noqa: PLC0415

        _auth(request, member, "read", indicators=[i for i in (indicator, against) if i],
              territories=_keys([territory]))
        req = PlanRequest(territory, indicator, target_year, value=value, growth=growth, source=source, view=view,
                          against=against, convert_boundary=convert_boundary, sector=sector, labour=labour)
        entry = await _cache(request).fetch(request, ("plan", req), lambda: run(ws_of(request), req).as_dict(),
                                            fresh=False)
        return _render_once(request, entry, lambda: entry.value)


def _account_inputs() -> tuple[str, ...]:
    """What the accounts read: the submitted inputs and kinhteso's estimated coefficients."""
    from kinhteso.pipeline.accounts import INPUT_INDICATORS  # noqa: PLC0415

    return tuple(INPUT_INDICATORS)


def _framework_indicators(framework: str | None) -> list[str]:
    """The stored indicators a composite-index framework reads (what a reader's grant must cover;
    no framework: those of every framework the period could default to)."""
    from kinhteso.pipeline.index import framework_indicators  # noqa: PLC0415

    return framework_indicators(framework)
