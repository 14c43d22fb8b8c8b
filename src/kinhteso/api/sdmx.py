"""SDMX REST data queries: ``GET /sdmx/data/{flow}[/{key}]?startPeriod&endPeriod&asOf``.

The answer is SDMX-CSV 2.0 (media type ``application/vnd.sdmx.data+csv;version=2.0.0``, written
by pysdmx through :mod:`kinhteso.sdmx`), or JSON with ``Accept: application/json`` (or
``?format=json``). The flow is the indicator: ``/sdmx/data/GRDP_VA`` (or ``KINHTESO,GRDP_VA`` or
``KINHTESO,GRDP_VA,1.0``) reads the **submissions** (the latest vintage of each key, as of
``asOf``); ``/sdmx/data/KINHTESO_RESULTS,DE_SHARE`` reads kinhteso's **results** (one value per
key: benchmarked › estimated › nowcast, then the latest run). The key is the flow's dimensions
before TIME_PERIOD joined by dots — ``FREQ.TERRITORY.SECTOR.PRICE_BASIS`` for submissions,
``FREQ.TERRITORY.SECTOR.PRICE_BASIS.VIEW`` for results — where an empty position (or ``*``) is
a wildcard and ``+`` joins alternatives: ``A.34_31+34_01._T.current``.

Errors are the API's bilingual JSON body with SDMX REST's statuses: 400 a malformed flow, key,
period or moment; 404 an unknown flow or no data; 406 a format that is not served.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from kinhteso import sdmx
from kinhteso.api.auth import Member, authorize, current_member
from kinhteso.errors import KinhtesoError

__all__ = ["install", "SdmxError", "parse_key", "period_bounds", "EXAMPLE_CSV"]

#: SDMX basis preference of the result flows (the official-figure rule's order for kinhteso's own)
_BASIS_RANK = {"benchmarked": 0, "estimated": 1, "nowcast": 2}

EXAMPLE_CSV = (
    "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,TERRITORY,SECTOR,PRICE_BASIS,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,"
    "OBS_STATUS,VINTAGE,SOURCE,BACKCAST,ILLUSTRATIVE\n"
    "dataflow,KINHTESO:GRDP_VA(1.0),I,A,34_31,62,current,2024,4233.716262,VND_BN,A,3,cuc-thong-ke-hai-phong,"
    "false,false\n"
)
_EXAMPLE_JSON = {
    "structure": "KINHTESO:GRDP_VA(1.0)", "flow": "submissions",
    "dimensions": ["FREQ", "TERRITORY", "SECTOR", "PRICE_BASIS", "TIME_PERIOD"],
    "observations": [{"FREQ": "A", "TERRITORY": "34_31", "SECTOR": "62", "PRICE_BASIS": "current",
                      "TIME_PERIOD": "2024", "OBS_VALUE": 4233.716262, "UNIT_MEASURE": "VND_BN", "OBS_STATUS": "A",
                      "VINTAGE": "3", "SOURCE": "cuc-thong-ke-hai-phong", "BACKCAST": "false",
                      "ILLUSTRATIVE": "false"}],
}
_DESCRIPTION = (
    "SDMX REST data query answering **SDMX-CSV 2.0** (`Accept: application/vnd.sdmx.data+csv;version=2.0.0`, "
    "the default; `text/csv` gives the same text) or JSON (`Accept: application/json` or `?format=json`).\n\n"
    "**Flows** (the dataflow id is the indicator code): `GRDP_VA` = `KINHTESO,GRDP_VA,1.0` reads the "
    "*submissions* (the latest vintage of each key); `KINHTESO_RESULTS,DE_SHARE` reads kinhteso's *results* "
    "(one value per key: benchmarked › estimated › nowcast, then the latest run).\n\n"
    "**Key**: the dimensions before TIME_PERIOD joined by `.` — submissions `FREQ.TERRITORY.SECTOR.PRICE_BASIS`, "
    "results `FREQ.TERRITORY.SECTOR.PRICE_BASIS.VIEW`; an empty position or `*` is a wildcard, `+` joins "
    "alternatives (`A.34_31+VN._T.current`); `all` is every key. **Territory codes** are SDMX-safe: `VN`, "
    "`34_31` (= key `34:31`), `63_01` (= `63:01`); an empty view is `_Z`.\n\n"
    "`startPeriod` / `endPeriod` (inclusive; `2024`, `2024-Q1`, `2024-01` or a date `2024-07-01`): an "
    "observation is returned when its period lies within them. `asOf` (`2026-11-26`, `2026-11-26T10:00`, "
    "`2026-11-26T03:00:00Z`): the data as they were at that moment (a date alone is the end of that day).\n\n"
    "Errors (bilingual JSON `{code, message, vi, en}`): 400 a malformed flow, key, period or moment; 401/403 "
    "access; 404 an unknown flow or no data; 406 a format not served."
)


class SdmxError(KinhtesoError):
    """A refusal of an SDMX query with its HTTP status (400, 404, 406), in Vietnamese and English."""

    def __init__(self, status: int, code: str, vi: str, en: str, **context: Any) -> None:
        super().__init__(code, vi, en, **context)
        self.status = status


# --- parsing the query ------------------------------------------------------------------------
def parse_key(key: str | None, dimensions: tuple[str, ...]) -> list[set[str] | None]:
    """One set of upper-cased wanted codes per dimension (None: any) from an SDMX REST key.

    >>> parse_key("A.34_31+VN..", ("FREQ", "TERRITORY", "SECTOR", "PRICE_BASIS"))
    [{'A'}, {'34_31', 'VN'}, None, None]
    """
    n = len(dimensions)
    if key is None or key.strip() in ("", "all", "*"):
        return [None] * n
    parts = key.split(".")
    if len(parts) != n:
        raise SdmxError(
            400, "SDMX_BAD_KEY",
            f"Khóa '{key}' có {len(parts)} vị trí nhưng luồng dữ liệu có {n}: {'.'.join(dimensions)} "
            "(để trống một vị trí để lấy mọi giá trị).",
            f"The key '{key}' has {len(parts)} positions but the flow has {n}: {'.'.join(dimensions)} "
            "(leave a position empty for every value).", key=key)
    out: list[set[str] | None] = []
    for dim, part in zip(dimensions, parts):
        if part in ("", "*"):
            out.append(None)
            continue
        values = part.split("+")
        for v in values:
            if not sdmx._ID.fullmatch(v):
                hint_vi = " Mã địa bàn SDMX: VN, 34_31 (= 34:31), 63_01." if dim == "TERRITORY" else ""
                hint_en = " SDMX territory codes: VN, 34_31 (= 34:31), 63_01." if dim == "TERRITORY" else ""
                raise SdmxError(
                    400, "SDMX_BAD_KEY",
                    f"Giá trị '{v}' của {dim} trong khóa '{key}' không phải mã SDMX (chữ, số, _ @ $ -).{hint_vi}",
                    f"The value '{v}' of {dim} in the key '{key}' is not an SDMX code (letters, digits, "
                    f"_ @ $ -).{hint_en}", key=key)
        out.append({v.upper() for v in values})
    return out


def period_bounds(start: str | None, end: str | None) -> tuple[dt.date | None, dt.date | None]:
    """The first day of ``startPeriod`` and the last day of ``endPeriod`` (each a TIME_PERIOD
    such as ``2024-Q1`` or an ISO date); 400 ``BAD_PERIOD`` for anything else."""
    from kinhteso.periods import parse_period  # noqa: PLC0415

    def one(text: str | None, name: str, last: bool) -> dt.date | None:
        if text is None or not text.strip():
            return None
        t = text.strip()
        if len(t) == 10 and t[4] == "-" and t[7] == "-":
            try:
                return dt.date.fromisoformat(t)
            except ValueError:
                pass
        p = parse_period(t)
        if p is None:
            raise SdmxError(
                400, "BAD_PERIOD",
                f"{name} '{text}' không phải kỳ SDMX: dùng 2024, 2024-Q1, 2024-01 hoặc ngày 2024-07-01.",
                f"{name} '{text}' is not an SDMX period: use 2024, 2024-Q1, 2024-01 or a date 2024-07-01.")
        return p.end if last else p.start

    lo, hi = one(start, "startPeriod", False), one(end, "endPeriod", True)
    if lo and hi and lo > hi:
        raise SdmxError(400, "BAD_PERIOD", f"startPeriod '{start}' sau endPeriod '{end}'.",
                        f"startPeriod '{start}' is after endPeriod '{end}'.")
    return lo, hi


def _as_of(text: str | None) -> dt.datetime | None:
    """``asOf`` as the store's local time; a moment with a zone (``…Z``, ``+07:00``) is converted."""
    from kinhteso.pipeline.observations import parse_as_of  # noqa: PLC0415

    if text is None or not text.strip():
        return None
    t = text.strip()
    try:
        value = dt.datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith(("Z", "z")) else t)
    except ValueError:
        value = None
    if value is not None and value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)
    try:
        return parse_as_of(t)
    except KinhtesoError as exc:
        raise SdmxError(400, "BAD_AS_OF", f"asOf '{text}' không phải mốc thời gian; dùng 2026-11-26 hoặc "
                                          "2026-11-26T10:00 (hoặc có múi giờ: 2026-11-26T03:00:00Z).",
                        f"asOf '{text}' is not a moment; use 2026-11-26 or 2026-11-26T10:00 (or with a zone: "
                        "2026-11-26T03:00:00Z).") from exc


def _format(request: Request, fmt: str | None) -> str:
    """``csv`` (SDMX-CSV 2.0; ``text`` when the client asked for text/csv) or ``json``; 406 else."""
    if fmt:
        f = fmt.strip().lower()
        if f in ("csv", "sdmx-csv", "csvfile", "sdmx-csv-2.0.0"):
            return "csv"
        if f == "json":
            return "json"
        raise SdmxError(406, "SDMX_NOT_ACCEPTABLE", f"Không có định dạng '{fmt}': dùng csv hoặc json.",
                        f"No format '{fmt}': use csv or json.")
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return "csv"
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if media == "application/vnd.sdmx.data+csv":
            version = params.get("version", "2.0.0").strip().strip('"')
            if version.startswith("2.0"):
                return "csv"
            continue
        if media in ("text/csv", "text/*"):
            return "text"
        if media in ("application/json", "application/*"):
            return "json"
        if media in ("*/*", "application/vnd.sdmx.data+csv*"):
            return "csv"
    raise SdmxError(
        406, "SDMX_NOT_ACCEPTABLE",
        f"Không phục vụ được định dạng '{accept[:200]}': dùng application/vnd.sdmx.data+csv;version=2.0.0, "
        "text/csv hoặc application/json.",
        f"Cannot serve '{accept[:200]}': use application/vnd.sdmx.data+csv;version=2.0.0, text/csv or "
        "application/json.")


# --- reading the data ------------------------------------------------------------------------
def _frame(ws, structure: sdmx.Structure, indicator: str, wanted: list[set[str] | None],
           as_of: dt.datetime | None, viewer=None):
    """The flow's rows as a frame of SDMX columns (before period and key filtering of FREQ/VIEW).
    Results derived from records carry ``OBS_CONF`` under the disclosure rule for ``viewer``
    (:func:`kinhteso.service.sharing.disclose_results`: ``C`` without a value for a member or the
    public)."""
    import pandas as pd  # noqa: PLC0415

    want = dict(zip(structure.dimensions, wanted))
    keys = _named_keys(want["TERRITORY"]) if want["TERRITORY"] else None
    if want["TERRITORY"] and not keys:
        return pd.DataFrame(columns=list(structure.columns))
    if structure is sdmx.SUBMISSIONS:
        from kinhteso.service.data import ObservationsRequest, observations  # noqa: PLC0415

        obs = observations(ws, ObservationsRequest(indicator=(indicator,), territory=tuple(keys) if keys else None,
                                                   as_of=as_of)).frame
        basis = obs["basis"].fillna("").astype(str)
        key = [f"{b}:{t}" if b and ":" not in str(t) else str(t) for b, t in zip(basis, obs["territory"])]
        out = pd.DataFrame({
            "TERRITORY": [sdmx.sdmx_territory(k) for k in key], "SECTOR": obs["sector"].map(sdmx.sdmx_sector),
            "PRICE_BASIS": obs["price_basis"], "TIME_PERIOD": obs["period"], "OBS_VALUE": obs["value"],
            "UNIT_MEASURE": obs["unit"], "OBS_STATUS": obs["status"],
            "VINTAGE": obs["vintage"].astype(str), "SOURCE": obs["source"],
            "BACKCAST": obs["backcast"].map(lambda b: "true" if b else "false"),
            "ILLUSTRATIVE": obs["illustrative"].map(lambda b: "true" if b else "false")})
    else:
        from kinhteso.service.figures import ResultsRequest, results  # noqa: PLC0415

        from kinhteso.service.sharing import PUBLIC, disclose_results  # noqa: PLC0415

        res = results(ws, ResultsRequest(indicator=indicator, sector=None, as_of=as_of))
        if keys:
            res = res[res["territory"].isin(keys)]
        res = res[res["value"].notna()].copy()
        res = disclose_results(ws, res, viewer or PUBLIC)
        res["_rank"] = res["basis"].map(_BASIS_RANK).fillna(9)
        res = res.sort_values(["_rank", "computed_at"], ascending=[True, False])
        res = res.drop_duplicates(["territory", "sector", "price_basis", "view", "period"], keep="first")
        out = pd.DataFrame({
            "TERRITORY": res["territory"].map(sdmx.sdmx_territory), "SECTOR": res["sector"].map(sdmx.sdmx_sector),
            "PRICE_BASIS": res["price_basis"], "VIEW": res["view"].map(lambda v: v or sdmx.NOT_APPLICABLE),
            "TIME_PERIOD": res["period"], "OBS_VALUE": res["value"], "UNIT_MEASURE": res["unit"],
            "OBS_STATUS": res["status"], "RESULT_BASIS": res["basis"], "RUN_ID": res["run_id"],
            "METHOD": res["method"], "COMPUTED_AT": res["computed_at"].map(lambda t: t.isoformat()),
            "ILLUSTRATIVE": res["illustrative"].map(lambda b: "true" if b else "false"),
            "OBS_CONF": res["obs_conf"].map(lambda f: f or "")})
    return out.reset_index(drop=True)


def _named_keys(codes: set[str] | None) -> list[str]:
    """The territory keys of the SDMX codes a key names (codes of no territory left out)."""
    from kinhteso.reference.territories import find_territories  # noqa: PLC0415

    keys = (sdmx.territory_key(c) for c in codes or ())
    return sorted(k for k in keys if k and find_territories(k))


def _select(frame, structure: sdmx.Structure, wanted: list[set[str] | None], lo: dt.date | None,
            hi: dt.date | None):
    """The rows matching the key and the period bounds, with FREQ, in SDMX order."""
    from kinhteso.periods import parse_period  # noqa: PLC0415

    periods = {p: parse_period(p) for p in frame["TIME_PERIOD"].unique()}
    frame = frame.assign(FREQ=frame["TIME_PERIOD"].map(lambda p: periods[p].freq if periods[p] else ""))
    if lo or hi:
        keep = [periods[p] is not None and (lo is None or periods[p].start >= lo) and (hi is None or periods[p].end <= hi)
                for p in frame["TIME_PERIOD"]]
        frame = frame.loc[[bool(k) for k in keep]] if len(frame) else frame
    for dim, values in zip(structure.dimensions, wanted):
        if values is not None:
            frame = frame[frame[dim].astype(str).str.upper().isin(values)]
    order = [d for d in structure.dimensions] + ["TIME_PERIOD"]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def _data(request: Request, flow: str, key: str | None, start_period: str | None, end_period: str | None,
          as_of: str | None, fmt: str | None, member: Member | None) -> Response:
    ref = sdmx.parse_flow_ref(flow)
    if ref is None:
        raise SdmxError(400, "SDMX_BAD_FLOW",
                        f"'{flow[:100]}' không phải mã luồng dữ liệu: dùng GRDP_VA, KINHTESO,GRDP_VA,1.0 hoặc "
                        "KINHTESO_RESULTS,DE_SHARE.",
                        f"'{flow[:100]}' is not a dataflow reference: use GRDP_VA, KINHTESO,GRDP_VA,1.0 or "
                        "KINHTESO_RESULTS,DE_SHARE.")
    agency, indicator = ref
    ws = request.app.state.ws
    structure = {sdmx.AGENCY: sdmx.SUBMISSIONS, sdmx.RESULTS_AGENCY: sdmx.RESULTS}.get(agency)
    if structure is None or (structure is sdmx.SUBMISSIONS and indicator not in ws.indicators()):
        raise SdmxError(404, "SDMX_UNKNOWN_FLOW",
                        f"Không có luồng dữ liệu '{flow[:100]}': luồng là mã chỉ tiêu (số liệu gửi, cơ quan "
                        "KINHTESO) hoặc KINHTESO_RESULTS,MÃ (kết quả).",
                        f"No dataflow '{flow[:100]}': a flow is an indicator code (submissions, agency KINHTESO) "
                        "or KINHTESO_RESULTS,CODE (results).")
    kind = _format(request, fmt)
    wanted = parse_key(key, structure.dimensions)
    lo, hi = period_bounds(start_period, end_period)
    moment = _as_of(as_of)
    named = dict(zip(structure.dimensions, wanted))["TERRITORY"]
    named_keys = _named_keys(named)
    private = bool(getattr(request.app.state, "private", False))
    authorize(member, "read", indicators=[indicator], territories=named_keys, private_server=private)
    from kinhteso.service.sharing import viewer_of  # noqa: PLC0415

    rows = _select(_frame(ws, structure, indicator, wanted, moment, viewer_of(member)), structure, wanted, lo, hi)
    if not len(rows):
        raise SdmxError(404, "SDMX_NO_RESULTS",
                        f"Không có số liệu nào của luồng {flow[:100]} khớp truy vấn (khóa, kỳ, asOf).",
                        f"No data of the flow {flow[:100]} match the query (key, periods, asOf).")
    if named is None:  # an open query: the rows it returns must be within the grant too
        authorize(member, "read", indicators=[indicator],
                  territories=sorted({sdmx.territory_key(t) or t for t in rows["TERRITORY"]}), private_server=private)
    if kind == "json":
        from kinhteso.api.app import _clean  # noqa: PLC0415

        cols = list(structure.columns)
        return JSONResponse(_clean({
            "structure": sdmx.structure_id(structure.agency, indicator),
            "flow": "submissions" if structure is sdmx.SUBMISSIONS else "results",
            "dimensions": [*structure.dimensions, "TIME_PERIOD"],
            "observations": rows[cols].to_dict(orient="records")}))
    text = sdmx.write_csv(structure, indicator, rows)
    media = "text/csv; charset=utf-8" if kind == "text" else sdmx.MEDIA_TYPE
    return Response(text, media_type=media)


# --- the routes ----------------------------------------------------------------------------------
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "SDMX-CSV 2.0 (or JSON)",
          "content": {sdmx.MEDIA_TYPE: {"schema": {"type": "string"}, "example": EXAMPLE_CSV},
                      "text/csv": {"schema": {"type": "string"}, "example": EXAMPLE_CSV},
                      "application/json": {"example": _EXAMPLE_JSON}}},
    400: {"description": "A malformed flow, key, period or asOf (SDMX_BAD_FLOW, SDMX_BAD_KEY, BAD_PERIOD, "
                         "BAD_AS_OF)"},
    404: {"description": "An unknown flow or no data (SDMX_UNKNOWN_FLOW, SDMX_NO_RESULTS)"},
    406: {"description": "A format not served (SDMX_NOT_ACCEPTABLE)"},
}


def install(app: FastAPI) -> None:
    """Add ``GET /sdmx/data/{flow}`` and ``GET /sdmx/data/{flow}/{key}`` to ``app``."""
    flow_doc = "the dataflow: an indicator code (GRDP_VA), KINHTESO,GRDP_VA,1.0, or KINHTESO_RESULTS,DE_SHARE"
    key_doc = ("dimension codes joined by '.': FREQ.TERRITORY.SECTOR.PRICE_BASIS (results: ….VIEW); empty or * = "
               "any, + = or; territories VN, 34_31, 63_01")
    start_doc = "first period, inclusive: 2024, 2024-Q1, 2024-01 or 2024-07-01"
    end_doc = "last period, inclusive: 2025, 2025-Q4, 2025-12 or 2025-12-31"
    as_of_doc = "the data as they were at this moment: 2026-11-26, 2026-11-26T10:00 or 2026-11-26T03:00:00Z"
    fmt_doc = "csv (SDMX-CSV 2.0, the default) or json; overrides Accept"
    extra = {"x-kinhteso-action": "read"}

    @app.get("/sdmx/data/{flow}", tags=["sdmx"], summary="SDMX data of a flow (SDMX-CSV 2.0): every key",
             description=_DESCRIPTION, openapi_extra=extra, responses=_RESPONSES, response_class=Response)
    def sdmx_flow(request: Request, flow: str = Path(..., description=flow_doc, examples=["GRDP_VA"]),
                  startPeriod: str | None = Query(None, description=start_doc),  # noqa: N803 (SDMX REST names)
                  endPeriod: str | None = Query(None, description=end_doc),  # noqa: N803
                  asOf: str | None = Query(None, description=as_of_doc),  # noqa: N803
                  format: str | None = Query(None, description=fmt_doc),  # noqa: A002
                  member: Member | None = Depends(current_member)) -> Response:
        return _data(request, flow, None, startPeriod, endPeriod, asOf, format, member)

    @app.get("/sdmx/data/{flow}/{key}", tags=["sdmx"],
             summary="SDMX data of a flow (SDMX-CSV 2.0): the keys matching a key filter",
             description=_DESCRIPTION, openapi_extra=extra, responses=_RESPONSES, response_class=Response)
    def sdmx_flow_key(request: Request, flow: str = Path(..., description=flow_doc, examples=["GRDP_VA"]),
                      key: str = Path(..., description=key_doc, examples=["A.34_31.."]),
                      startPeriod: str | None = Query(None, description=start_doc),  # noqa: N803
                      endPeriod: str | None = Query(None, description=end_doc),  # noqa: N803
                      asOf: str | None = Query(None, description=as_of_doc),  # noqa: N803
                      format: str | None = Query(None, description=fmt_doc),  # noqa: A002
                      member: Member | None = Depends(current_member)) -> Response:
        return _data(request, flow, key, startPeriod, endPeriod, asOf, format, member)
