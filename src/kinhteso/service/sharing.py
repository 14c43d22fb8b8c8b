"""Shared back: what each reader sees of the values derived from agencies' records.

The publication rule (``docs/sharing.md``), applied by every interface that publishes to someone
other than the workspace's own analyst — the HTTP API's result and figure reads, the SDMX result
flows, the aggregates of records and the dashboard:

- a value derived from records carries the number of **reporting units** it rests on (the
  results' ``units``); a cell from fewer than :data:`~kinhteso.methods.disclosure.MIN_UNITS`
  units is **suppressed** for a member or the public: its value removed, its flag ``obs_conf``
  ``C`` (:mod:`kinhteso.methods.disclosure`: the threshold rule; Law on Statistics 2015 art. 57);
  a published one carries ``F``; a value not from records (``units`` NULL) is untouched;
- a member whose own records are **all** the records of a suppressed cell sees its value (it
  discloses nothing of another agency); a member that is one of several contributors sees its
  own contribution (:func:`contributions`), never the others' values;
- an **admin** member (a grant of role ``admin``: the workspace owner's own staff, bound by the
  same confidentiality) sees the values unsuppressed, with the flag, within its grant; so does
  the workspace's own analyst on the local command line (``kinhteso results`` shows ``units``);
- another member's **records** are read only under an explicit read grant naming the dataset
  (``records:<dataset>``, on the territories it covers; ``*`` does not name it); the counts of
  records (:func:`aggregates`) are published under the rule, with secondary suppression when
  broken down by a code.

>>> viewer_of(None).suppress, Viewer("admin", "HP_STATS").suppress, ANALYST.suppress
(True, False, False)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.methods.disclosure import CONFIDENTIAL, MIN_UNITS, RULE, apply_threshold

if TYPE_CHECKING:
    import pandas as pd

    from kinhteso.workspace import Workspace

__all__ = ["Viewer", "ANALYST", "PUBLIC", "viewer_of", "RECORDS_GRANT", "records_grant", "dataset_of",
           "time_field", "disclose_results", "disclose_figure", "run_contributors", "contributions",
           "records", "aggregates", "fed_by", "RecordsRequest", "AggregatesRequest", "RULE", "MIN_UNITS"]

#: What a read grant names to cover another member's records of a dataset: ``records:<dataset>``
#: (upper-cased like every indicator of a grant: ``RECORDS:CONTAINER_EVENTS``).
RECORDS_GRANT = "RECORDS:"
#: The most records one page of ``GET /records`` holds.
MAX_RECORDS = 10000


class RecordsForbidden(KinhtesoError):
    """403: another member's records without a grant naming them (the API answers its status)."""

    status = 403


# --- who reads -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Viewer:
    """Who a value is shown to: ``analyst`` (the workspace's own, on the local command line),
    ``admin`` (a member with an admin grant), ``member`` (any other member), ``public`` (no token:
    the dashboard, the open reads)."""

    kind: str
    member: str | None = None

    @property
    def suppress(self) -> bool:
        """Whether confidential cells are suppressed for this viewer."""
        return self.kind in ("member", "public")


ANALYST = Viewer("analyst")
PUBLIC = Viewer("public")


def viewer_of(member: Any) -> Viewer:
    """The viewer of an API caller (a :class:`kinhteso.api.auth.Member` or None)."""
    if member is None:
        return PUBLIC
    if any(g.role == "admin" for g in member.grants):
        return Viewer("admin", member.code)
    return Viewer("member", member.code)


def records_grant(dataset: str) -> str:
    """The grant item naming ``dataset``'s records (``RECORDS:CONTAINER_EVENTS``)."""
    return RECORDS_GRANT + str(dataset).upper()


# --- datasets and their indicators -----------------------------------------------------------------
def _dataset(code: str):
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    found = datasets()
    if code not in found:
        raise UsageError("UNKNOWN_DATASET", f"Không có bộ dữ liệu '{code}'; có: {', '.join(sorted(found))}.",
                         f"There is no dataset '{code}'; known: {', '.join(sorted(found))}.", dataset=str(code)[:64])
    return found[code]


def dataset_of(indicator: str) -> str | None:
    """The dataset an indicator is derived from (None: not derived from records)."""
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    for ds in datasets().values():
        if any(d.code == indicator for d in ds.derived):
            return ds.code
    return None


def time_field(ds) -> str | None:
    """The field whose quarter a dataset's record counts in: its ``period_field``; else the later
    time of its last ordered pair (a vessel call's departure); else its first time field (an
    equipment event's time)."""
    if ds.period_field:
        return ds.period_field
    if ds.order:
        return ds.order[-1][1]
    return next((f.name for f in ds.fields if f.type in ("timestamp", "month")), None)


def _counts(ws: Workspace, ds, territories=None, code_field: str | None = None) -> pd.DataFrame:
    tf = time_field(ds)
    if tf is None:
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(columns=["territory", "period", "code", "unit", "source", "vintage_id", "records"])
    return ws.store.record_counts(ds.code, tf, ds.key, unit_field=ds.unit_field, code_field=code_field,
                                  territories=territories)


# --- results and figures ------------------------------------------------------------------------------
def _sole_cells(ws: Workspace, member: str, cells: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Of the (indicator, territory, period) cells, those whose records are all ``member``'s own."""
    from kinhteso.methods.disclosure import cell_summary  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    out: set[tuple[str, str, str]] = set()
    by_ds: dict[str, list[tuple[str, str, str]]] = {}
    for cell in cells:
        ds = dataset_of(cell[0])
        if ds is not None:
            by_ds.setdefault(ds, []).append(cell)
    for code, wanted in by_ds.items():
        counts = _counts(ws, datasets()[code], sorted({t for _, t, _ in wanted}))
        summary = cell_summary(counts, ["territory", "period"], own=member)
        sole = {(r.territory, r.period) for r in summary.itertuples(index=False)
                if r.records > 0 and r.own_records == r.records}
        out |= {c for c in wanted if (c[1], c[2]) in sole}
    return out


def disclose_results(ws: Workspace, frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """Stored results as ``viewer`` may see them: the column ``obs_conf`` added (``C``, ``F`` or
    None); for a member or the public, the value of every ``C`` row removed — except, for a
    member, the cells resting on its own records alone."""
    if "units" not in frame.columns:
        frame = frame.assign(units=None)
    flagged = apply_threshold(frame, suppress=False)
    if not viewer.suppress or not len(flagged):
        return flagged
    exempt = None
    conf = flagged[flagged["obs_conf"] == CONFIDENTIAL]
    if viewer.member and len(conf):
        own = _sole_cells(ws, viewer.member, zip(conf["indicator"], conf["territory"], conf["period"]))
        exempt = flagged.apply(lambda r: (r["indicator"], r["territory"], r["period"]) in own, axis=1)
    return apply_threshold(frame, exempt=exempt)


def disclose_figure(ws: Workspace, fig, viewer: Viewer) -> dict:
    """The official figure's JSON as ``viewer`` may see it (see :func:`disclose_results`), with
    ``obs_conf``: a suppressed figure keeps its basis and run but no value; the alternatives
    passed over are shown under the same rule."""
    from kinhteso.methods.disclosure import conf_flag  # noqa: PLC0415

    body = fig.as_json()
    flag = conf_flag(fig.units, fig.value)
    alts = []
    for a in fig.alternatives:
        f = conf_flag(a.get("units"), a.get("value"))
        alts.append({**a, "obs_conf": f, **({"value": None} if viewer.suppress and f == CONFIDENTIAL else {})})
    body.update(alternatives=alts, obs_conf=flag)
    if viewer.suppress and flag == CONFIDENTIAL:
        own = viewer.member and _sole_cells(ws, viewer.member, [(fig.indicator, fig.territory, fig.period)])
        if not own:
            body["value"] = None
    return body


# --- the changes feed ---------------------------------------------------------------------------------
def run_contributors(store, run_ids: Iterable[str], *, depth: int = 3) -> dict[str, list[str]]:
    """run_id → the sources of the vintages it read, directly or through the runs it read (up to
    ``depth`` levels), sorted."""
    ids = list(dict.fromkeys(str(r) for r in run_ids))
    vint: dict[str, set[int]] = {r: set() for r in ids}
    frontier = {r: {r} for r in ids}  # run read → the asked runs it counts for
    for _ in range(max(1, depth)):
        inputs = store.run_inputs(frontier)
        nxt: dict[str, set[str]] = {}
        for rid, text in inputs.items():
            try:
                got = json.loads(text) if isinstance(text, str) else (text or {})
            except ValueError:
                continue
            for top in frontier[rid]:
                vint[top] |= {int(v) for v in got.get("vintages", []) or [] if str(v).lstrip("-").isdigit()}
            for sub in got.get("runs", []) or []:
                nxt.setdefault(str(sub), set()).update(frontier[rid])
        if not nxt:
            break
        frontier = nxt
    sources = store.vintage_sources({v for vs in vint.values() for v in vs})
    return {r: sorted({sources[v] for v in vint[r] if v in sources}) for r in ids}


# --- a member's contributions ---------------------------------------------------------------------------
def _words(lang: str):
    return lambda vi, en: vi if lang == "vi" else en


def _count(n: int, lang: str) -> str:
    from kinhteso.i18n import fmt_number  # noqa: PLC0415

    text = fmt_number(float(n), 0, lang=lang)
    return text.replace(",", " ") if lang == "en" else text.replace(".", " ")


def contributions(ws: Workspace, member: str) -> dict:
    """What ``member`` gave and what it fed: each of its standing vintages — record vintages with,
    per territory and quarter its records are in, its records there, all records of the cell (or
    ``C`` when the cell rests on fewer than the rule's units and is not all its own), the derived
    indicators of the dataset with their latest result there (value under the rule, the run); and
    long-template vintages with the result runs that read them. Each fed cell is named in words
    (``text``: ``{"vi", "en"}``)."""
    from kinhteso.methods.disclosure import cell_summary, conf_flag  # noqa: PLC0415

    store = ws.store
    allv = store.vintages()
    if "retracted_at" in allv.columns:
        allv = allv[allv["retracted_at"].isna()]
    mine = allv[allv["source"] == member]
    recv = store.record_vintages()
    recv = recv[recv["source"] == member]
    by_vintage = {int(v): d for v, d in zip(recv["vintage_id"], recv["dataset"])}
    out_vintages: list[dict] = []
    runs_reading = _runs_reading(ws, [int(v) for v in mine["vintage_id"] if int(v) not in by_vintage])
    cells_cache: dict[str, tuple] = {}
    for v in mine.itertuples(index=False):
        vid = int(v.vintage_id)
        entry: dict[str, Any] = {"vintage_id": vid, "received_at": v.received_at, "file_name": v.file_name,
                                 "rows": int(v.n_rows), "illustrative": bool(v.illustrative)}
        if vid not in by_vintage:
            scope = store.vintage_scope(vid)
            entry.update(kind="observations", indicators=sorted(set(scope["indicator"])),
                         territories=sorted(set(scope["territory"])), periods=sorted(set(scope["period"])),
                         runs=runs_reading.get(vid, []))
            out_vintages.append(entry)
            continue
        code = by_vintage[vid]
        ds = _dataset(code)
        if code not in cells_cache:
            counts = _counts(ws, ds)
            cells_cache[code] = (counts, cell_summary(counts, ["territory", "period"], own=member))
        counts, summary = cells_cache[code]
        per_v = counts[counts["vintage_id"].astype(int) == vid] if len(counts) else counts
        derived = [d.code for d in ds.derived]
        res = store.results(indicator=derived or [""], territory=sorted(set(per_v["territory"])) or [""])
        latest = {(r.indicator, r.territory, r.period): r for r in res.itertuples(index=False)}
        fed = []
        for (terr, per), part in per_v.groupby(["territory", "period"], sort=True):
            cell = summary[(summary["territory"] == terr) & (summary["period"] == per)].iloc[0]
            sole = int(cell["own_records"]) == int(cell["records"])
            flag = conf_flag(int(cell["units"]) if ds.unit_field else None, 0.0)
            hidden = flag == CONFIDENTIAL and not sole
            n_here, n_own, n_all = int(part["records"].sum()), int(cell["own_records"]), int(cell["records"])
            indicators = []
            for ind in derived:
                r = latest.get((ind, terr, per))
                if r is None:
                    continue
                rflag = conf_flag(getattr(r, "units", None), r.value)
                shown = None if (r.value != r.value) or (rflag == CONFIDENTIAL and not sole) else float(r.value)
                indicators.append({"indicator": ind, "value": shown, "unit": r.unit, "obs_conf": rflag,
                                   "run_id": r.run_id, "method": r.method, "computed_at": r.computed_at})
            names = ", ".join(i["indicator"] for i in indicators) or "–"
            text = {}
            for lang in ("vi", "en"):
                w = _words(lang)
                of = "C" if hidden else _count(n_all, lang)
                what = w(f"bản ghi {ds.name_vi.lower()}", f"{ds.name_en[0].lower() + ds.name_en[1:]} records")
                text[lang] = w(f"{_count(n_own, lang)}/{of} {what} của quý vị ở {terr} {per} đã dùng để tính {names}",
                               f"your {_count(n_own, lang)} of {of} {what} in {terr} {per} fed {names}")
            fed.append({"territory": terr, "period": per, "records": n_here, "own_records": n_own,
                        "cell_records": None if hidden else n_all,
                        "own_share": None if hidden else round(100.0 * n_own / n_all, 2) if n_all else None,
                        "units": int(cell["units"]) if ds.unit_field else None, "obs_conf": flag,
                        "indicators": indicators, "text": text})
        entry.update(kind="records", dataset=code, indicators=derived, fed=fed)
        out_vintages.append(entry)
    return {"member": member, "vintages": out_vintages, "rule": dict(RULE), "min_units": MIN_UNITS}


def _runs_reading(ws: Workspace, vintage_ids: list[int]) -> dict[int, list[dict]]:
    """vintage → the result runs whose inputs name it (kind, method, run, when, what they hold)."""
    if not vintage_ids:
        return {}
    wanted = set(vintage_ids)
    runs = ws.store.result_runs()
    out: dict[int, list[dict]] = {}
    hits: dict[str, tuple] = {}
    for r in runs.itertuples(index=False):
        try:
            got = json.loads(r.inputs) if isinstance(r.inputs, str) else (r.inputs or {})
        except ValueError:
            continue
        for v in set(int(x) for x in got.get("vintages", []) or [] if str(x).isdigit()) & wanted:
            hits[r.run_id] = (r.kind, r.method, r.computed_at)
            out.setdefault(v, []).append({"run_id": r.run_id, "kind": r.kind, "method": r.method,
                                          "computed_at": r.computed_at})
    if hits:
        res = ws.store.results(run_id=sorted(hits), latest=False)
        what = {rid: (sorted(set(g["indicator"])), sorted(set(g["territory"]))) for rid, g in res.groupby("run_id")}
        for lst in out.values():
            for item in lst:
                inds, terrs = what.get(item["run_id"], ([], []))
                item.update(indicators=inds, territories=terrs)
    return out


# --- records and their aggregates ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordsRequest:
    dataset: str
    source: str | None = None        #: whose records: None the caller's own; a member's code; ``*`` all it may read
    territory: str | None = None
    limit: int = 1000
    offset: int = 0


def _granted_territories(member: Any, dataset: str) -> set[str] | None:
    """The territories whose ``dataset`` records a member may read of others (``{'*'}`` all;
    None: no grant names the dataset). Read and admin grants count; ``*`` indicators do not."""
    item = records_grant(dataset)
    found: set[str] = set()
    hit = False
    for g in member.grants:
        if g.role in ("reader", "admin") and item in g.indicators:
            hit = True
            found |= set(g.territories)
    return found if hit else None


def records(ws: Workspace, member: Any, req: RecordsRequest) -> list[dict]:
    """A page of a dataset's records: the caller's own; another member's (or ``*``: every
    source's) only under a read grant naming ``records:<dataset>`` on the territories asked —
    else 403 ``FORBIDDEN``, in Vietnamese and English."""
    from kinhteso.service.figures import keys_of  # noqa: PLC0415

    ds = _dataset(req.dataset)
    if not 1 <= int(req.limit) <= MAX_RECORDS or int(req.offset) < 0:
        raise UsageError("BAD_LIMIT", f"limit phải từ 1 đến {MAX_RECORDS}, offset không âm.",
                         f"limit must be 1 to {MAX_RECORDS} and offset not negative.")
    terr = keys_of([req.territory]) if req.territory else None
    source = (req.source or member.code).strip()
    if source == member.code:
        sources, terrs = [member.code], terr
    else:
        granted = _granted_territories(member, ds.code)
        if granted is None or (terr and "*" not in granted and not set(terr) <= granted):
            raise RecordsForbidden(
                "FORBIDDEN",
                f"Thành viên '{member.code}' chỉ đọc được bản ghi của chính mình; đọc bản ghi {ds.code} của "
                f"'{source}' cần quyền đọc ghi rõ records:{ds.code} (`kinhteso grant --role reader --indicators "
                f"records:{ds.code}`). Mặc định chỉ công bố số tổng hợp (GET /api/v1/aggregates/{ds.code}).",
                f"Member '{member.code}' may read its own records only; reading '{source}''s {ds.code} records needs "
                f"a read grant naming records:{ds.code} (`kinhteso grant --role reader --indicators "
                f"records:{ds.code}`). By default only aggregates are published (GET /api/v1/aggregates/{ds.code}).",
                member=member.code, dataset=ds.code)
        sources = None if source == "*" else [source]
        terrs = terr if terr else (None if "*" in granted else sorted(granted))
    df = ws.store.dataset_records(ds.code, sources=sources, territories=terrs, limit=int(req.limit),
                                  offset=int(req.offset))
    return df.to_dict(orient="records")


@dataclass(frozen=True)
class AggregatesRequest:
    dataset: str
    by: str | None = None            #: a code field of the dataset to break the counts down by
    territory: str | None = None


def aggregates(ws: Workspace, viewer: Viewer, req: AggregatesRequest) -> list[dict]:
    """Record counts by territory × quarter (× ``by``, a code field), each with its reporting
    units and ``obs_conf``: for a member or the public a cell from fewer than the rule's units
    has no count (``C``); broken down by a code, a group with one such cell has its next
    smallest suppressed too (``D``, secondary), so that no count is found by subtraction from
    the published total."""
    from kinhteso.methods.disclosure import cell_summary, secondary_suppression  # noqa: PLC0415
    from kinhteso.service.figures import keys_of  # noqa: PLC0415

    ds = _dataset(req.dataset)
    if req.by is not None:
        codes = [f.name for f in ds.fields if f.type in ("code", "locode") and f.name != ds.unit_field]
        if req.by not in codes:
            raise UsageError("BAD_BREAKDOWN",
                             f"Chỉ chia theo một trường mã của {ds.code}: {', '.join(codes) or '–'}.",
                             f"Break {ds.code} down by one of its code fields only: {', '.join(codes) or '–'}.",
                             by=str(req.by)[:64])
    terr = keys_of([req.territory]) if req.territory else None
    counts = _counts(ws, ds, terr, code_field=req.by)
    by = ["territory", "period"] + (["code"] if req.by else [])
    cells = cell_summary(counts, by)
    if not ds.unit_field:
        cells["units"] = None
    flagged = apply_threshold(cells.rename(columns={"records": "value"}), suppress=viewer.suppress)
    if req.by:
        flagged = secondary_suppression(flagged, ["territory", "period"], suppress=viewer.suppress)
    out = []
    for r in flagged.itertuples(index=False):
        row = {"dataset": ds.code, "territory": r.territory, "period": r.period}
        if req.by:
            row[req.by] = r.code
        row.update(records=None if r.value != r.value else int(r.value),
                   units=None if r.units is None or r.units != r.units else int(r.units), obs_conf=r.obs_conf)
        out.append(row)
    return out


# --- the dashboard: who fed what ------------------------------------------------------------------------------
def fed_by(ws: Workspace, territory: str) -> list[dict]:
    """For each dataset with standing records in ``territory``: its derived indicators, the
    sources whose records fed them (code and name) and the quarters. Names only — no count."""
    from kinhteso.reference.datasets import datasets, sources  # noqa: PLC0415

    known = {s.code: (s.vi, s.en) for s in sources().values()}
    members = ws.store.members()
    known.update({m.code: (m.name, m.name) for m in members.itertuples(index=False)})
    out = []
    for ds in datasets().values():
        counts = _counts(ws, ds, [territory])
        if not len(counts):
            continue
        srcs = sorted(set(counts["source"]))
        out.append({"dataset": ds.code, "name": (ds.name_vi, ds.name_en), "indicators": [d.code for d in ds.derived],
                    "sources": [(s, known.get(s, (s, s))) for s in srcs],
                    "periods": sorted({str(p) for p in counts["period"] if p is not None})})
    return out
