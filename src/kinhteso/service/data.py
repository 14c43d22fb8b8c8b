"""Submissions: ingest files, read observations and vintages.

>>> IngestRequest(files=("a.csv",), source="cuc-thong-ke").decimal
'.'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kinhteso.errors import InputRejected, UsageError
from kinhteso.i18n import tr
from kinhteso.progress import Progress, or_null, span
from kinhteso.workspace import Workspace

__all__ = ["IngestRequest", "IngestOutcome", "ingest", "CheckRequest", "stored_already", "check_submission", "validate", "store_checked", "ingest_records", "adapter_for", "check_source", "registered_members", "refresh_derived", "quarantine",
           "ObservationsRequest", "observations", "vintages", "vintage", "RetractRequest", "RetractOutcome",
           "retract"]


@dataclass(frozen=True)
class IngestRequest:
    """Files to validate and store, each as one vintage of ``source``.

    A file whose normalised rows are those of a vintage of the same ``source`` (whatever its
    bytes, row order, line ends, BOM or format) is that vintage: nothing is added. Under the
    unnamed source ``unknown`` a file is the vintage of *any* source with the same rows, so a
    copy never becomes the latest provenance of data an agency submitted."""

    files: tuple[str | Path, ...]
    source: str
    decimal: str = "."
    received_at: dt.datetime | None = None
    #: the VSIC version of the rows without a ``vsic_version`` cell: ``2018``, ``2025`` or ``auto``
    #: (by period: from 2026-01-01 VSIC 2025); None: VSIC 2018, with a note for periods from 2026
    vsic: str | None = None
    #: illustrative data (not official statistics): the vintage is flagged and every read labels it
    illustrative: bool = False
    #: an adapter (kinhteso.reference.datasets) for record files in an agency's own layout; the
    #: source must then be registered and own the adapter's dataset
    adapter: str | None = None


@dataclass
class IngestOutcome:
    """What happened to one file: stored (``result``) or refused whole (``rejected``)."""

    file: Path
    result: object | None = None          #: kinhteso.ingest.load.IngestResult
    rejected: InputRejected | None = None

    @property
    def ok(self) -> bool:
        return self.rejected is None


def ingest(ws: Workspace, req: IngestRequest, *,
           progress: Progress | None = None,
           check: Callable[[object], None] | None = None) -> list[IngestOutcome]:
    """Validate and store every file; a file with any problem is refused whole (its outcome
    holds every problem) and the others go on. Each file is staged and checked in a scratch
    database; the store is held for writing only for its commit. ``check`` (see
    :func:`kinhteso.ingest.load.ingest_file`) sees each valid file's ``indicator, territory``
    pairs before it is stored; what it raises propagates (nothing of that file is stored).
    ``progress`` (:mod:`kinhteso.progress`): each file's steps, labelled with its name."""
    from kinhteso.ingest.load import INGEST_STEPS, ingest_file  # noqa: PLC0415

    indicators = ws.indicators()
    out = []
    files = list(map(Path, req.files))
    adapter = adapter_for(ws, req) if req.adapter else None
    for i, f in enumerate(files):
        say = span(progress, before=INGEST_STEPS * i, after=INGEST_STEPS * (len(files) - 1 - i), prefix=f"{f.name}: ")
        if adapter is not None:
            try:
                out.append(IngestOutcome(f, result=ingest_records(ws, f, adapter, req)))
            except InputRejected as exc:
                out.append(IngestOutcome(f, rejected=exc))
            continue
        try:
            r = ingest_file(ws.store, f, source=req.source, indicators=indicators, workdir=ws.tmp,
                            decimal=req.decimal, received_at=req.received_at, progress=say, check=check,
                            vsic=req.vsic, illustrative=req.illustrative)
        except InputRejected as exc:
            out.append(IngestOutcome(f, rejected=exc))
            continue
        out.append(IngestOutcome(f, result=r))
    n = INGEST_STEPS * len(files)
    or_null(progress)(n, n, tr("Nạp tệp", "Ingest"))
    return out


def registered_members(ws: Workspace) -> dict[str, str]:
    """The workspace's standing members, code → kind (each is a registered source)."""
    listed = ws.store.members()
    return {r.code: r.kind for r in listed[listed["revoked_at"].isna()].itertuples(index=False)}


def check_source(ws: Workspace, source: str) -> str:
    """``source`` when it names a registered source (``reference/data/sources.yaml`` or a member of
    the workspace), or the unnamed ``unknown``; ``UNKNOWN_SOURCE`` otherwise. The interfaces call it
    on the source a person or an agency names."""
    from kinhteso.reference.datasets import registered_source  # noqa: PLC0415

    return source if source == "unknown" else registered_source(source, registered_members(ws))


def adapter_for(ws: Workspace, req: IngestRequest):
    """The adapter named by ``req`` and the check that its source is registered and owns the
    adapter's dataset (``UNKNOWN_ADAPTER``, ``UNKNOWN_SOURCE``, ``SOURCE_NOT_OWNER``)."""
    from kinhteso.reference.datasets import datasets, get_adapter, registered_source, sources  # noqa: PLC0415

    adapter = get_adapter(req.adapter, ws.root)
    members = registered_members(ws)
    registered_source(req.source, members)
    kind = members.get(req.source) or sources()[req.source].kind
    ds = datasets()[adapter.dataset]
    if kind not in (ds.owner_kind, "illustrative"):
        raise UsageError("SOURCE_NOT_OWNER",
                         f"Nguồn '{req.source}' (loại {kind}) không phải chủ của tập dữ liệu {ds.name_vi} "
                         f"(thuộc loại {ds.owner_kind}): mỗi tập dữ liệu do cơ quan sở hữu nó gửi.",
                         f"The source '{req.source}' (a {kind}) does not own the dataset {ds.name_en} (owned by a "
                         f"{ds.owner_kind}): each dataset is submitted by the agency that owns it.",
                         source=req.source, dataset=ds.code)
    return adapter


def ingest_records(ws: Workspace, file: Path, adapter, req: IngestRequest,
                   check: Callable[[list[str], list[str]], None] | None = None):
    """One record file through ``adapter``: checked whole (:func:`kinhteso.ingest.records.check_records`),
    stored with the records set aside as one vintage of ``req.source`` (the same records again:
    that vintage, nothing added), then the indicators derived from the dataset recomputed for the
    file's territories. An ``IngestResult`` whose ``records`` says what was read, set aside,
    stored already and recomputed. ``check(indicators, territories)``, when given, sees what the
    file feeds before anything is stored (the API's grant); what it raises refuses the file."""
    from kinhteso.ingest.load import IngestResult  # noqa: PLC0415
    from kinhteso.ingest.records import check_records  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415
    from kinhteso.store import Stage, VintageInfo  # noqa: PLC0415

    checked = check_records(Path(file), adapter, workdir=ws.tmp, settings=ws.store.settings)
    try:
        ds = datasets()[checked.dataset]
        details = {"dataset": ds.code, "adapter": adapter.name, "read": checked.rows_read, "kept": checked.kept,
                   "aside": checked.aside_counts, "territories": checked.territories}
        if check is not None:
            check([d.code for d in ds.derived], checked.territories)
        same = ws.store.matching_vintage(checked.content_sha256, source=req.source)
        if same is not None:
            return IngestResult(str(file), same, 0, already_stored=True, layout="records", records=details)
        info = VintageInfo(req.source, checked.original_name, checked.sha256, illustrative=req.illustrative,
                           note=f"records: {ds.code} via {adapter.name}", content_sha256=checked.content_sha256)
        vid, n, known = ws.store.commit_records(info, ds.code, adapter.name, Stage.sealed(checked.stage_path), key=ds.key,
                                                indicators=[d.code for d in ds.derived], received_at=req.received_at)
    finally:
        checked.discard()
    details["stored_already"] = known
    details["recomputed"] = refresh_derived(ws, ds.code, checked.territories)
    return IngestResult(str(file), vid, n, layout="records", records=details)


def refresh_derived(ws: Workspace, dataset: str, territories) -> list[dict]:
    """Recompute the indicators derived from ``dataset`` for ``territories`` (stored as runs), and,
    when the dataset feeds a section's process-digitalisation index (``process_coefficients.yaml``:
    the logistics datasets section H, the health facilities' reports Q, the schools' P, the building
    permits F, the transport fares H), every province's coefficient of each section it feeds (their
    reference is pooled over the provinces with records: docs/logistics.md)."""
    from kinhteso.pipeline.logistics import refresh_dataset  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415
    from kinhteso.reference.process_coef import sections_fed_by  # noqa: PLC0415

    out = refresh_dataset(ws, dataset, list(territories))
    sections = sections_fed_by(d.code for d in datasets()[dataset].derived)
    if sections:
        from kinhteso.pipeline.coefficients import refresh_process_coefficients  # noqa: PLC0415

        refresh_process_coefficients(ws, sections)
    return out


def quarantine(ws: Workspace, vintage_id: int | None = None):
    """The records set aside (all, or one vintage's): ``vintage_id, dataset, line, reason, record``."""
    if vintage_id is not None:
        ws.store.vintage(int(vintage_id), required=True)
    return ws.store.quarantine(vintage_id)


@dataclass(frozen=True)
class CheckRequest:
    """One file to read, validate whole and stage, without the store (so a server can do it in a
    worker process): the workspace's indicator registry, scratch folder and DuckDB limits come
    with the request (:meth:`of`)."""

    file: Path
    indicators: dict
    workdir: Path
    decimal: str = "."
    settings: dict = field(default_factory=dict)
    vsic: str | None = None  #: as :attr:`IngestRequest.vsic`

    @classmethod
    def of(cls, ws: Workspace, file: Path, *, decimal: str = ".", vsic: str | None = None) -> CheckRequest:
        return cls(Path(file), ws.indicators(), ws.tmp, decimal, ws.store.settings, vsic)


def stored_already(ws: Workspace, file: Path, sha256: str, *, source: str):
    """These very bytes (``sha256``) stored already from ``source`` (any source when it is
    unnamed): a ``CheckedFile`` naming that vintage, ready for :func:`store_checked` without a
    check; else None."""
    from kinhteso.ingest.load import CheckedFile  # noqa: PLC0415

    known = ws.store.vintage_by_sha(sha256, source=source)
    if known is None:
        return None
    return CheckedFile(file=str(file), original_name=Path(file).name, sha256=sha256, known_vintage=known)


def check_submission(req: CheckRequest):
    """The first half of :func:`ingest` for one file: a ``kinhteso.ingest.load.CheckedFile``
    ready for :func:`store_checked`, or :class:`InputRejected` with every problem. Touches no
    store: it runs in a worker process of a server."""
    from kinhteso.ingest.load import check_file  # noqa: PLC0415

    return check_file(req.file, indicators=req.indicators, workdir=req.workdir, decimal=req.decimal,
                      settings=req.settings, vsic=req.vsic)


def validate(ws: Workspace, file: Path, *, decimal: str = ".", vsic: str | None = None) -> dict:
    """Check ``file`` whole as :func:`ingest` would and store nothing (the dashboard's data page):
    a summary (``rows``, ``layout``, ``indicators``, ``territories``, ``notes`` as (vi, en) pairs,
    ``empty_cells_skipped``, ``backcast_rows``), or :class:`InputRejected` with every problem."""
    from kinhteso.store import Stage  # noqa: PLC0415

    checked = check_submission(CheckRequest.of(ws, file, decimal=decimal, vsic=vsic))
    try:
        rows = Stage.sealed_rows(checked.stage_path) if checked.stage_path is not None else 0
        keys = checked.keys if checked.keys is not None else None
        return {"rows": rows, "layout": checked.layout,
                "indicators": sorted(set(keys["indicator"])) if keys is not None else [],
                "territories": sorted(set(keys["territory"])) if keys is not None else [],
                "notes": list(checked.notes), "empty_cells_skipped": int(checked.empty_cells_skipped),
                "backcast_rows": int(checked.backcast_rows)}
    finally:
        checked.discard()


def store_checked(ws: Workspace, checked, *, source: str, received_at: dt.datetime | None = None,
                  check: Callable[[object], None] | None = None) -> IngestOutcome:
    """The second half: ``check`` the file's keys and store it as one vintage of ``source`` (or
    name the vintage holding the same data); the staged rows are removed in every case."""
    from kinhteso.ingest.load import commit_checked  # noqa: PLC0415

    return IngestOutcome(Path(checked.file), result=commit_checked(ws.store, checked, source=source,
                                                                  received_at=received_at, check=check))


@dataclass(frozen=True)
class ObservationsRequest:
    indicator: tuple[str, ...] | None = None
    territory: tuple[str, ...] | None = None
    sector: tuple[str, ...] | None = None
    period: tuple[str, ...] | None = None
    as_of: dt.datetime | None = None
    basis: int | None = None
    notes: list = field(default_factory=list, compare=False)
    #: 2025: read VSIC 2018-coded additive series converted to VSIC 2025 (totals preserved)
    vsic: int | None = None


def observations(ws: Workspace, req: ObservationsRequest):
    """What agencies and publishers submitted (never kinhteso's results): the latest vintage of
    each key as of a moment, optionally summed to the 34 basis. Returns an ObservationResult
    (``frame``, ``notes``, ``illustrative``)."""
    from kinhteso.pipeline.observations import ObservationQuery, read_observations  # noqa: PLC0415

    q = ObservationQuery(indicator=[c.upper() for c in req.indicator] if req.indicator else None,
                         territory=list(req.territory) if req.territory else None,
                         sector=list(req.sector) if req.sector else None,
                         period=list(req.period) if req.period else None, as_of=req.as_of, basis=req.basis,
                         vsic=req.vsic)
    return read_observations(ws, q)


def vintages(ws: Workspace):
    """One row per accepted submission (who, when, the file's SHA-256, rows), oldest first."""
    return ws.store.vintages()


def vintage(ws: Workspace, vintage_id: int) -> dict:
    """One vintage's record (who, when, file, rows, content digest, retraction), or the usage
    error ``UNKNOWN_VINTAGE``."""
    return ws.store.vintage(int(vintage_id), required=True)


@dataclass(frozen=True)
class RetractRequest:
    """Withdraw one vintage's values (nothing is deleted: the retraction is recorded).

    >>> RetractRequest(vintage_id=3, reason="sai đơn vị / wrong unit").reason
    'sai đơn vị / wrong unit'
    """

    vintage_id: int
    reason: str = ""
    at: dt.datetime | None = None


@dataclass(frozen=True)
class RetractOutcome:
    vintage_id: int
    retracted_at: dt.datetime
    retracted_now: bool          #: False when it had been retracted already (its first retraction stands)
    vintage: dict                #: the vintage's record before this retraction


def retract(ws: Workspace, req: RetractRequest) -> RetractOutcome:
    """Withdraw a vintage: from its retraction on, reads no longer see its values and, for each
    key, the previous vintage's value is the latest again; a read ``as_of`` an earlier moment
    still sees them, and ``vintages`` lists the retraction. An unknown vintage is the usage
    error ``UNKNOWN_VINTAGE``. Consent is the interface's to ask."""
    rec = vintage(ws, req.vintage_id)
    when, now = ws.store.retract(int(req.vintage_id), reason=req.reason.strip(), at=req.at)
    held = ws.store.record_vintage(int(req.vintage_id))
    if now and held is not None:  # the indicators derived from the records, recomputed without them
        refresh_derived(ws, held["dataset"], ws.store.record_territories(int(req.vintage_id)))
    return RetractOutcome(int(req.vintage_id), when, now, rec)
