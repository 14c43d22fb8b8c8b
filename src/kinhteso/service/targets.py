"""Targets, gaps, plans, scenarios, peers and the target registry: the service behind
``kinhteso gaps``, ``plan``, ``scenario``, ``peers`` and ``target list|add``.

Each function takes an open workspace and a request, resolves the territory (a key, a code or
a name; an ambiguous name is refused), validates, calls :mod:`kinhteso.pipeline.targets` and
returns data. Reads store nothing: gaps, plans, scenarios and peers are computed in memory.
Only :func:`add_target` writes, and only the workspace's ``targets.yaml``.

>>> GapsRequest(territory="34:31").model, PlanRequest("34:31", "DE_SHARE", 2030).source
('loglinear', 'auto')
>>> res = gaps(ws, GapsRequest(territory="Hải Phòng", indicator="DE_SHARE"))   # doctest: +SKIP
>>> [(r["target_year"], r["status"]) for r in res.rows]                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinhteso.errors import ReferenceDataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from kinhteso.pipeline.targets import ScenarioSet
    from kinhteso.progress import Progress
    from kinhteso.reference.targets import Target
    from kinhteso.workspace import Workspace

__all__ = ["territory_key", "GapsRequest", "GapsResult", "gaps", "PlanRequest", "PlanResult", "plan",
           "ScenarioRequest", "ScenarioResult", "parse_sets", "scenario", "PeersRequest", "PeersResult", "peers",
           "TargetListRequest", "TargetListResult", "list_targets", "TargetAddRequest", "TargetAddResult",
           "add_target"]


def territory_key(text: str) -> str:
    """The one territory key ``text`` names (``34:31``, ``31``, ``Hải Phòng``, ``VN``):
    ``UNKNOWN_TERRITORY`` when none, ``AMBIGUOUS_TERRITORY`` when several."""
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415

    keys = resolve_territories([text], basis=None)
    if len(keys) != 1:
        raise UsageError("AMBIGUOUS_TERRITORY", f"'{text}' ứng với nhiều địa bàn ({', '.join(keys)}); dùng khóa, ví dụ 34:31.",
                         f"'{text}' matches several territories ({', '.join(keys)}); use a key such as 34:31.")
    return keys[0]


# --- gaps ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GapsRequest:
    """``territory`` None: every territory with a target; ``indicator`` None: every indicator
    (an indicator finds the targets whose indicator or basis it is).
    ``inherit_national``: a province without its own target is measured against the nation's.
    Each target is measured on its own basis and boundary; ``against``: on that indicator
    instead (needs ``indicator``; every row whose basis differs carries ``BASIS_MISMATCH``);
    ``convert_boundary``: a target carried over across the 2025 merger is measured on the
    territory holding it (``BOUNDARY_CONVERTED``)."""

    territory: str | None = None
    indicator: str | None = None
    inherit_national: bool = False
    source: str = "auto"          #: auto, computed, published (:data:`kinhteso.pipeline.targets.SOURCES`)
    view: str = "gso"
    model: str = "loglinear"
    level: float = 0.90
    against: str | None = None
    convert_boundary: bool = False
    labour: str = "core"          #: DE_LABOUR_SHARE: core, coef (:data:`kinhteso.methods.sectoral.LABOUR_METHODS`)


@dataclass(frozen=True)
class GapsResult:
    """One row per territory × target (fields :data:`kinhteso.pipeline.targets.GAP_FIELDS`;
    rates as fractions, shares in percent), in registry order; a target within sections
    (``DE_SHARE_SECTOR``) gives one row per section, and ``summaries`` count them
    (:func:`kinhteso.pipeline.targets.sector_summaries`)."""

    rows: list[dict]
    territory: str | None = None   #: the resolved key asked for (None: all)
    model: str = "loglinear"
    level: float = 0.90
    summaries: list[dict] = field(default_factory=list)

    @property
    def illustrative(self) -> bool:
        return any(r["illustrative"] for r in self.rows)

    @property
    def sources(self) -> list[str]:
        """The series sources behind the rows, sorted."""
        return sorted({r["source"] for r in self.rows})


def gaps(ws: Workspace, req: GapsRequest, *, progress: Progress | None = None) -> GapsResult:
    """How far each territory is from each of its targets; ``NO_TARGET`` when the territory
    asked for has none (for that indicator). ``progress``: :mod:`kinhteso.progress`."""
    from kinhteso.pipeline import targets as P  # noqa: PLC0415

    key = territory_key(req.territory) if req.territory else None
    rows = P.gaps(ws, territory=key, indicator=req.indicator, source=req.source, view=req.view, model=req.model,
                  level=req.level, inherit_national=req.inherit_national, against=req.against,
                  convert_boundary=req.convert_boundary, labour=req.labour, progress=progress)
    if key and not rows:
        ind = req.indicator
        raise UsageError("NO_TARGET", f"{key} không có mục tiêu nào{' cho ' + ind if ind else ''}; thêm bằng "
                         "`kinhteso target add` hoặc dùng --inherit-national.",
                         f"{key} has no target{' for ' + ind if ind else ''}; add one with `kinhteso target add` "
                         "or use --inherit-national.")
    return GapsResult(rows, key, req.model, req.level, P.sector_summaries(rows))


# --- plan ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanRequest:
    """The plan for ``territory`` × ``indicator`` × ``target_year``. ``value`` replaces the
    registry's target value; ``growth``: the nominal GRDP growth scenario (default: the last
    three years' average)."""

    territory: str
    indicator: str
    target_year: int
    value: float | None = None
    growth: float | None = None
    source: str = "auto"
    view: str = "gso"
    model: str = "loglinear"
    level: float = 0.90
    against: str | None = None     #: measure on this indicator instead of the target's basis (BASIS_MISMATCH)
    convert_boundary: bool = False  #: a carried-over target on the territory holding it (BOUNDARY_CONVERTED)
    sector: str | None = None      #: the section of a within-section indicator (DE_SHARE_SECTOR): required there
    labour: str = "core"           #: DE_LABOUR_SHARE: core, coef


@dataclass(frozen=True)
class PlanResult:
    """The gap row, the quarterly milestones and, for the DE share measured from the accounts,
    each industry's contribution (``sectors``, ranked by leverage) with its summary, the
    core-growth alternative and the GRDP growth scenario used."""

    territory: str
    indicator: str
    target_year: int
    gap: dict
    milestones: list[dict] = field(default_factory=list)
    sectors: list[dict] = field(default_factory=list)
    sector_summary: dict | None = None
    core_alternative: dict | None = None
    growth: dict | None = None
    warnings: list[dict] = field(default_factory=list)

    @property
    def illustrative(self) -> bool:
        return bool(self.gap.get("illustrative"))

    def as_dict(self) -> dict[str, Any]:
        """The plan as ``kinhteso plan --format json`` gives it."""
        return {k: getattr(self, k) for k in ("gap", "milestones", "sectors", "sector_summary", "core_alternative",
                                              "growth", "warnings")}


def plan(ws: Workspace, req: PlanRequest, *, progress: Progress | None = None) -> PlanResult:
    """The plan to close a gap; the gap row's error (no data, a target before the data...) is
    raised as a ``UsageError`` with its code. ``progress``: :mod:`kinhteso.progress`."""
    from kinhteso.pipeline import targets as P  # noqa: PLC0415

    key = territory_key(req.territory)
    out = P.plan(ws, key, req.indicator, req.target_year, target_value=req.value, growth=req.growth,
                 source=req.source, view=req.view, model=req.model, level=req.level, against=req.against,
                 convert_boundary=req.convert_boundary, sector=req.sector, labour=req.labour, progress=progress)
    g = out["gap"]
    if g["error"]:
        raise UsageError(g["error"]["code"], g["error"]["vi"], g["error"]["en"])
    return PlanResult(key, req.indicator, req.target_year, g, out["milestones"], out["sectors"],
                      out["sector_summary"], out["core_alternative"], out["growth"], out["warnings"])


# --- scenario --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioRequest:
    """Recompute the accounts of ``territory`` year by year to ``until`` under ``sets``
    (``DIGITAL_COEF:52=+0.05``, ``GRDP_VA:62=growth:0.15``; see :func:`parse_sets`), from
    ``start`` (default: the latest year with inputs), every other industry growing at
    ``growth`` (default: the last three years' GRDP average)."""

    territory: str
    until: int
    sets: tuple[str, ...] = ()
    start: str | None = None
    growth: float | None = None
    view: str = "gso"


@dataclass(frozen=True)
class ScenarioResult:
    """The share path with and without the changes (``path``: year, de_share, de_va, grdp,
    baseline_share), the changes as parsed, the growth used and the warnings."""

    territory: str
    view: str
    start: str
    until: int
    sets: list[dict]
    grdp_growth: dict
    path: pd.DataFrame
    warnings: list[dict] = field(default_factory=list)
    illustrative: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The scenario as ``kinhteso scenario --format json`` gives it (the path as records)."""
        return {"territory": self.territory, "view": self.view, "start": self.start, "until": self.until,
                "sets": self.sets, "grdp_growth": self.grdp_growth, "warnings": self.warnings,
                "illustrative": self.illustrative, "path": self.path.to_dict(orient="records")}


def parse_sets(texts: Sequence[str]) -> list[ScenarioSet]:
    """Each ``--set`` spelling parsed (``INDICATOR:SECTOR=CHANGE``); a malformed one is a
    ``UsageError`` (``BAD_SET``, ``BAD_SET_INDICATOR``, ``BAD_SET_SECTOR``, ``BAD_SET_CHANGE``)."""
    from kinhteso.pipeline.targets import parse_set  # noqa: PLC0415

    return [parse_set(t) for t in texts]


def scenario(ws: Workspace, req: ScenarioRequest) -> ScenarioResult:
    """The scenario's share path; the changes are checked before anything is read."""
    from kinhteso.pipeline import targets as P  # noqa: PLC0415

    parse_sets(req.sets)
    key = territory_key(req.territory)
    out = P.scenario(ws, key, list(req.sets), until=req.until, start=req.start, view=req.view,
                     grdp_growth=req.growth)
    return ScenarioResult(out["territory"], out["view"], out["start"], out["until"], out["sets"], out["grdp_growth"],
                          out["path"], out["warnings"], bool(out["illustrative"]))


# --- peers -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeersRequest:
    """``territory`` None: all 34 provinces; ``year`` None: the latest with GRDP on the 34 basis."""

    territory: str | None = None
    year: str | None = None
    view: str = "gso"


@dataclass(frozen=True)
class PeersResult:
    """One row per province × indicator: value, percentile among the 34 and in the peer group
    (GRDP per person quartile), strength, weakness, whom to learn from."""

    table: pd.DataFrame
    territory: str | None = None

    @property
    def illustrative(self) -> bool:
        """Whether any row rests on illustrative (demo) data."""
        return bool("illustrative" in self.table.columns and self.table["illustrative"].any())


def peers(ws: Workspace, req: PeersRequest, *, progress: Progress | None = None) -> PeersResult:
    """Percentiles among the 34 provinces and within the peer group (computed in memory).
    ``progress``: :mod:`kinhteso.progress`."""
    from kinhteso.pipeline import targets as P  # noqa: PLC0415

    key = territory_key(req.territory) if req.territory else None
    table = P.peers(ws, year=req.year, view=req.view, progress=progress)
    if key and "territory" in table.columns:  # a year without data gives an empty table without columns
        table = table[table.territory == key]
    return PeersResult(table.reset_index(drop=True), key)


# --- the target registry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetListRequest:
    territory: str | None = None   #: None: every territory


@dataclass(frozen=True)
class TargetListResult:
    """The shipped targets and the workspace's own (``origin``), in registry order."""

    targets: list[Target]

    def records(self) -> list[dict[str, Any]]:
        return [t.as_dict() for t in self.targets]


def list_targets(ws: Workspace, req: TargetListRequest) -> TargetListResult:
    """The targets of the registry (shipped, and the workspace's ``targets.yaml``)."""
    from kinhteso.pipeline import targets as P  # noqa: PLC0415

    ts = P.workspace_targets(ws)
    if req.territory:
        key = territory_key(req.territory)
        ts = [t for t in ts if t.territory == key]
    return TargetListResult(ts)


@dataclass(frozen=True)
class TargetAddRequest:
    """A target for the workspace: ``indicator`` of ``territory`` should be ``comparison value``
    in ``year``; ``unit`` None: the indicator's."""

    territory: str
    indicator: str
    year: int
    value: float
    unit: str | None = None
    comparison: str = ">="
    source: str = "user"
    url: str = "-"
    confidence: str = "medium"
    note: str = ""
    basis: str | None = None      #: the indicator of the series the target was set on (default: ``indicator``)
    boundary: str | None = None   #: the old (63-basis) province it was set for, when carried over to ``territory``
    sector: str | None = None     #: DE_SHARE_SECTOR: ``*`` (each section, default) or a section letter


@dataclass(frozen=True)
class TargetAddResult:
    target: Target
    path: Path    #: the workspace's targets file


def add_target(ws: Workspace, req: TargetAddRequest) -> TargetAddResult:
    """Check the target like the shipped ones (known territory and indicator, the indicator's
    unit, a range the indicator can take) and write it to the workspace's ``targets.yaml``,
    replacing one with the same territory, indicator and year. A refused target writes nothing;
    its ``ReferenceDataError`` comes back as a ``UsageError`` with the same code."""
    from kinhteso.reference import targets as R  # noqa: PLC0415

    key = territory_key(req.territory)
    inds = ws.indicators()
    try:
        units = R.indicator_unit(req.indicator, inds)
    except ReferenceDataError as exc:
        raise UsageError(exc.code, exc.vi, exc.en) from exc
    # an unknown comparison is refused by make_target (TARGET_BAD_COMPARISON)
    direction = R.COMPARISONS[req.comparison][0] if req.comparison in R.COMPARISONS else "higher"
    entry = {"territory": key, "indicator": req.indicator, "year": req.year, "value": req.value,
             "unit": req.unit or units[0], "comparison": req.comparison, "direction": direction,
             "source": req.source, "url": req.url, "confidence": req.confidence}
    if req.note:
        entry["note"] = req.note
    if req.basis:
        entry["basis"] = req.basis
    if req.sector:
        entry["sector"] = req.sector
    if req.boundary:
        boundary = territory_key(req.boundary)
        entry["boundary"] = boundary
        if boundary != key:
            entry["carried_over"] = True  # the carry-over conversion is the only one (docs/targets.md)
    try:
        t = R.make_target(entry, file="--", origin="workspace", indicators=inds)
    except ReferenceDataError as exc:
        raise UsageError(exc.code, exc.vi.replace("Tệp mục tiêu --, mục 1: ", ""),
                         exc.en.replace("Target file --, entry 1: ", "")) from exc
    path = ws.root / R.WORKSPACE_FILE
    R.write_workspace_target(path, t, indicators=inds)
    return TargetAddResult(t, path)
