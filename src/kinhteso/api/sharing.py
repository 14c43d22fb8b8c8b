"""Shared back (``/api/v1/contributions``, ``/api/v1/records/{dataset}``, ``/api/v1/aggregates/{dataset}``).

Routes over :mod:`kinhteso.service.sharing` (the rule, who sees what: ``docs/sharing.md``):

- ``GET /contributions``: the caller's own vintages and, for each, the derived indicators,
  territories and quarters its records fed, with its own contribution named (its records / all
  records of the cell, the result run). Any member (its own only); 401 without a token;
- ``GET /records/{dataset}``: the caller's own records; another member's (``source=CODE``, or
  ``*`` for every source) only under a read grant naming ``records:<dataset>`` — else 403
  ``FORBIDDEN`` in Vietnamese and English;
- ``GET /aggregates/{dataset}``: record counts by territory × quarter (``by``: and a code field),
  published under the disclosure rule (a cell from fewer than 3 reporting units has no count,
  ``obs_conf`` ``C``; ``D`` a secondary suppression): open as the official figures are
  (``public``), a read grant on the dataset's indicators under ``--private``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response

from kinhteso.api.app import PREFIX, render, ws_of
from kinhteso.api.auth import ApiAuthError, Member, authorize, current_member, require_member

__all__ = ["install", "EXAMPLES"]

EXAMPLES: dict[str, Any] = {
    "contributions": {"member": "cang-hai-phong", "min_units": 3, "rule": {"vi": "Quy tắc ngưỡng: …", "en": "Threshold rule: …"},
                      "vintages": [{"vintage_id": 12, "kind": "records", "dataset": "container_events",
                                    "received_at": "2026-11-28T09:30:00", "file_name": "events_2025Q3.csv", "rows": 5000,
                                    "illustrative": False,
                                    "indicators": ["PORT_IMPORT_DWELL_H", "PORT_IMPORT_DWELL_P90_H", "PORT_IMPORT_CONTAINERS"],
                                    "fed": [{"territory": "34:31", "period": "2025-Q3", "records": 1234, "own_records": 1234,
                                             "cell_records": 5000, "own_share": 24.68, "units": 4, "obs_conf": "F",
                                             "indicators": [{"indicator": "PORT_IMPORT_DWELL_H", "value": 71.5,
                                                             "unit": "HOURS", "obs_conf": "F",
                                                             "run_id": "3be1c0a9d2f4…", "method": "dcsa-import-dwell",
                                                             "computed_at": "2026-11-28T09:30:02"}],
                                             "text": {"vi": "1 234/5 000 bản ghi sự kiện container … của quý vị ở 34:31 2025-Q3 đã dùng để tính PORT_IMPORT_DWELL_H, …",
                                                      "en": "your 1 234 of 5 000 container events … records in 34:31 2025-Q3 fed PORT_IMPORT_DWELL_H, …"}}]},
                                   {"vintage_id": 7, "kind": "observations", "received_at": "2026-11-20T08:00:00",
                                    "file_name": "teu_2025.csv", "rows": 4, "illustrative": False,
                                    "indicators": ["PORT_TEU"], "territories": ["34:31"], "periods": ["2025"],
                                    "runs": []}]},
    "records": [{"vintage_id": 12, "source": "cang-hai-phong", "territory": "34:31", "equipment": "MSKU1234565",
                 "event_type": "DISC", "classifier": "ACT", "event_at": "2025-07-01T01:00:00", "locode": "VNHPH",
                 "facility": "HICT"}],
    "aggregates": [{"dataset": "container_events", "territory": "34:31", "period": "2025-Q3", "records": 5000,
                    "units": 4, "obs_conf": "F"},
                   {"dataset": "container_events", "territory": "34:31", "period": "2025-Q4", "records": None,
                    "units": 1, "obs_conf": "C"}],
}


def _example(example: Any, csv: bool = True) -> dict:
    content: dict[str, Any] = {"application/json": {"example": example}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {200: {"description": "OK", "content": content}}


def _private(request: Request) -> bool:
    return bool(getattr(request.app.state, "private", False))


def _own_only(request: Request, member: Member | None) -> Member:
    """The caller, who may always read its own things: 401 without a token. ``authorize`` is
    asked (a read grant is not needed for one's own; its 403 only says the caller reads nothing
    of others')."""
    try:
        authorize(member, "read", private_server=_private(request))
    except ApiAuthError as exc:
        if member is None or exc.status != 403:
            raise
    return require_member(member)


def _dataset_indicators(dataset: str) -> list[str]:
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    ds = datasets().get(dataset)
    return [d.code for d in ds.derived] if ds is not None else []


def install(app: FastAPI) -> None:
    """Add the sharing-back routes to ``app``."""
    tags = ["sharing"]
    dataset_doc = "a dataset of the registry (`kinhteso adapters`; docs/logistics.md, docs/sectors.md)"

    @app.get(PREFIX + "/contributions", tags=tags,
             summary="The caller's own vintages and the indicators, territories and quarters its records fed",
             openapi_extra={"x-kinhteso-action": "read"}, responses=_example(EXAMPLES["contributions"], csv=False))
    def contributions(request: Request, member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.sharing import contributions as run  # noqa: PLC0415

        me = _own_only(request, member)
        return render(request, run(ws_of(request), me.code))

    @app.get(PREFIX + "/records/{dataset}", tags=tags,
             summary="A dataset's records: the caller's own; another member's only under a grant naming them",
             openapi_extra={"x-kinhteso-action": "read"}, responses=_example(EXAMPLES["records"]))
    def records(request: Request, dataset: str = Path(..., description=dataset_doc, examples=["container_events"]),
                source: str | None = Query(None, description="whose records: the caller's own (default), a member's "
                                                             "code, or * (every source the grant covers)"),
                territory: str | None = Query(None, description="34:31, a code or a name"),
                limit: int = Query(1000, ge=1, le=10000), offset: int = Query(0, ge=0),
                member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.service.sharing import RecordsRequest, records as run  # noqa: PLC0415

        me = _own_only(request, member)
        rows = run(ws_of(request), me, RecordsRequest(dataset=dataset.strip().lower(), source=source,
                                                      territory=territory, limit=limit, offset=offset))
        return render(request, rows)

    @app.get(PREFIX + "/aggregates/{dataset}", tags=tags,
             summary="Record counts by territory and quarter, published under the disclosure rule (≥ 3 units)",
             openapi_extra={"x-kinhteso-action": "public"}, responses=_example(EXAMPLES["aggregates"]))
    def aggregates(request: Request, dataset: str = Path(..., description=dataset_doc, examples=["container_events"]),
                   by: str | None = Query(None, description="a code field to break the counts down by "
                                                           "(e.g. event_type)"),
                   territory: str | None = Query(None, description="34:31, a code or a name (default: every one)"),
                   member: Member | None = Depends(current_member)) -> Response:
        from kinhteso.api.routes import _keys  # noqa: PLC0415
        from kinhteso.service.sharing import AggregatesRequest, aggregates as run, viewer_of  # noqa: PLC0415

        code = dataset.strip().lower()
        keys = _keys([territory]) if territory else []
        authorize(member, "read", indicators=_dataset_indicators(code), territories=keys, public=True,
                  private_server=_private(request))
        rows = run(ws_of(request), viewer_of(member), AggregatesRequest(code, by=by, territory=territory))
        if not territory and _private(request):  # an open query: the rows must be within the grant too
            authorize(member, "read", indicators=_dataset_indicators(code),
                      territories=sorted({r["territory"] for r in rows}), public=True, private_server=True)
        return render(request, rows)
