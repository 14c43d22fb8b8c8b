"""The figures a province reports: measure, quarterly, the stored results, and the official figure.

Typed requests in, typed results out; every interface (CLI, HTTP API, dashboard, reports)
calls these functions and only renders what they return.

**The official-figure rule** (:func:`figure`). For a territory, an indicator and a period, the
figure to report is, in this order:

1. ``published``: a submitted figure (an agency's or a publisher's vintage) for that territory
   key, on its own basis (``34:31`` is not ``63:31``), the latest vintage as of the moment asked;
2. ``benchmarked``: kinhteso's quarterly figure whose year has an annual figure (the quarters sum
   to it);
3. ``estimated``: kinhteso's annual accounts, or a quarter extrapolated after the last annual
   figure;
4. ``nowcast``: the nowcast of the current quarter.

Kinhteso's own figures are the stored results (the latest run as of the moment asked); where
none is stored, the accounts and the quarterly path are computed for the answer and nothing is
stored (``stored: false``). The answer names its basis, source, vintage or run, and the
alternatives it passed over.

>>> BASIS_ORDER
('published', 'benchmarked', 'estimated', 'nowcast')
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from kinhteso.errors import MethodError, UsageError
from kinhteso.i18n import tr
from kinhteso.periods import period as parse_strict
from kinhteso.progress import Progress, or_null, span
from kinhteso.workspace import Workspace

__all__ = ["BASIS_ORDER", "MeasureRequest", "MeasureResponse", "measure", "PRICES", "BREAKDOWNS", "QuarterlyRequest", "QuarterlyResponse",
           "quarterly", "ResultsRequest", "results", "FigureRequest", "Figure", "figure", "figures", "RULE",
           "record_figures"]

#: The official-figure rule's order of preference.
BASIS_ORDER = ("published", "benchmarked", "estimated", "nowcast")
RULE = {"vi": "số công bố/được gửi › số quý đã khớp số năm › số ước tính › dự báo tức thời (nowcast)",
        "en": "published/submitted › benchmarked quarter › estimate › nowcast"}
#: Indicators kinhteso itself computes (others can only be published).
COMPUTED = ("DE_SHARE", "DE_VA", "GRDP")


def _key(territory: str) -> str:
    from kinhteso.pipeline.observations import resolve_territories  # noqa: PLC0415

    return resolve_territories([territory], basis=None)[0]


# --- measure ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasureRequest:
    """``territories`` None means the nation and every province valid for the period (with
    ``breakdown="region"``: every region; else region keys or names). ``prices``: ``current``
    or ``constant`` (constant 2010 prices, with real growth). ``breakdown``: None,
    ``ownership`` (each result's ownership breakdown) or ``region`` (the six socio-economic
    regions as sums of their provinces, on ``region_basis``: 63 or 34 provinces; None: the
    period's own, 63 before the merger and 34 after)."""

    period: str
    territories: tuple[str, ...] | None = None
    view: str = "gso"
    core: tuple[str, ...] | None = None
    as_of: dt.datetime | None = None
    coef_source: str | None = None
    save: bool = False
    prices: str = "current"
    breakdown: str | None = None
    region_basis: int | None = None
    intervals: bool = True   #: a year's e-invoice bootstrap interval (about a second per province that has one)


#: ``MeasureRequest.prices`` values; ``MeasureRequest.breakdown`` values.
PRICES = ("current", "constant")
BREAKDOWNS = ("ownership", "region")


@dataclass
class MeasureResponse:
    results: list            #: kinhteso.pipeline.accounts.MeasureResult, one per territory
    period: str
    view: str
    run_id: str | None = None
    reconciliation: dict | None = None
    regions: list | None = None  #: with ``breakdown="region"``: one dict per region (pipeline.breakdowns.regions)
    price_basis: str = "current"
    #: for one province: the indicators derived from agencies' records for the period (logistics, the
    #: priority sectors), by the official-figure rule (:func:`record_figures`)
    from_records: list | None = None

    @property
    def illustrative(self) -> bool:
        return any(r.provenance.get("illustrative") for r in self.results)


def measure(ws: Workspace, req: MeasureRequest, *, progress: Progress | None = None) -> MeasureResponse:
    """The accounts for a period. A quarter goes through the one quarterly path
    (:func:`kinhteso.pipeline.quarterly.measure_quarter`), so ``measure --period 2025-Q3`` and
    ``quarterly`` give the same number. Nothing is stored unless ``save``. ``progress``:
    :mod:`kinhteso.progress`.

    >>> MeasureRequest("2025-Q3", ("34:31",)).save
    False
    """
    from kinhteso.pipeline import accounts as PA  # noqa: PLC0415
    from kinhteso.pipeline import quarterly as Q  # noqa: PLC0415

    p = parse_strict(req.period)
    _check_options(req, p.freq)
    only = None
    if req.breakdown == "region":
        from kinhteso.reference.territories import region_of  # noqa: PLC0415

        only = _regions(req.territories)
        keys = [k for k in _region_provinces(p.code, req.region_basis) if only is None or region_of(k) in only]
    else:
        keys = [_key(t) for t in req.territories] if req.territories else PA.territories_for(p.code)
    single = len(keys) == 1
    opts = {"core": req.core, "as_of": req.as_of, "coef_source": req.coef_source}
    if p.freq == "Q":
        res = Q.measure_quarters(ws, keys, p.code, view=req.view, with_change=single, progress=progress, **opts)
    else:
        res = PA.measure_many(ws, keys, [p.code], [req.view], with_change=single, prices=req.prices,
                              breakdown=req.breakdown if req.breakdown == "ownership" else None, progress=progress,
                              intervals=req.intervals, **opts)
        for r in res:
            r.provenance.setdefault("basis", "estimated")
    out = MeasureResponse(res, p.code, req.view, reconciliation=None if single else PA.reconcile(res),
                          price_basis=PA.CONSTANT_BASIS if req.prices == "constant" else "current")
    if req.breakdown == "region":
        from kinhteso.pipeline.breakdowns import regions  # noqa: PLC0415

        out.regions = regions(res, int(keys[0].split(":")[0]), p.code, view=req.view, price_basis=out.price_basis,
                              only=only)
    if single and keys[0] != "VN" and req.breakdown is None:
        out.from_records = record_figures(ws, keys[0], p.code, as_of=req.as_of)
    if req.save:
        out.run_id = PA.save(ws, res, core=req.core, coef_source=req.coef_source, as_of=req.as_of)
    return out


def record_figures(ws: Workspace, territory: str, period: str, *, as_of: dt.datetime | None = None) -> list[dict]:
    """The indicators kinhteso derives from agencies' records (every dataset of the registry: the
    logistics chain, the priority sectors) for ``territory`` and ``period`` (a quarter, or a year from
    the year's records), each by the official-figure rule (a submitted figure first, else the derived
    result; :func:`kinhteso.pipeline.derived.official_values`): ``dataset, indicator`` (and their
    names, ``dataset_vi/en``, ``name_vi/en``), ``value, unit, units, source, run_id, illustrative``,
    by dataset. The process digitalisation beside the accounts:
    the logistics shares scale the coefficient of transport and storage (docs/logistics.md)."""
    from kinhteso.pipeline.derived import official_values, record_indicators  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415
    found = official_values(ws, sorted(record_indicators()), period, territories=[territory], as_of=as_of)
    if found.empty:
        return []
    of = {d.code: ds.code for ds in datasets().values() for d in ds.derived}
    order = list(datasets())
    units = {}
    runs = [r for r in found["run_id"] if isinstance(r, str) and "," not in r]
    if runs:
        res = ws.store.results(run_id=runs, territory=territory, period=period)
        units = {(i, r): _units(x) for i, r, x in zip(res["indicator"], res["run_id"], res.itertuples(index=False))}
    reg = ws.indicators()
    ds_of = datasets()
    rows = [{"dataset": of.get(r.indicator, ""), "indicator": r.indicator,
             "dataset_vi": ds_of[of[r.indicator]].name_vi if r.indicator in of else "",
             "dataset_en": ds_of[of[r.indicator]].name_en if r.indicator in of else "",
             "name_vi": reg[r.indicator].name_vi if r.indicator in reg else r.indicator,
             "name_en": reg[r.indicator].name_en if r.indicator in reg else r.indicator, "value": float(r.value),
             "unit": reg[r.indicator].units[0] if r.indicator in reg and reg[r.indicator].units else "", "units": units.get((r.indicator, r.run_id)),
             "source": r.source, "run_id": r.run_id if isinstance(r.run_id, str) else None,
             "illustrative": bool(r.illustrative)} for r in found.itertuples(index=False)]
    return sorted(rows, key=lambda x: (order.index(x["dataset"]) if x["dataset"] in order else len(order), x["indicator"]))


def _check_options(req: MeasureRequest, freq: str) -> None:
    if req.prices not in PRICES:
        raise UsageError("BAD_PRICES", f"Giá '{req.prices}' không có; dùng {' hoặc '.join(PRICES)}.",
                         f"Unknown prices '{req.prices}'; use {' or '.join(PRICES)}.")
    if req.region_basis not in (None, 63, 34):
        raise UsageError("REGION_BASIS", f"Hệ tỉnh '{req.region_basis}' không có; dùng 63 hoặc 34.",
                         f"Unknown province basis '{req.region_basis}'; use 63 or 34.")
    if req.breakdown is not None and req.breakdown not in BREAKDOWNS:
        raise UsageError("BAD_BREAKDOWN", f"Phân tổ '{req.breakdown}' không có; dùng {', '.join(BREAKDOWNS)}.",
                         f"Unknown breakdown '{req.breakdown}'; use {', '.join(BREAKDOWNS)}.")
    if freq != "A" and (req.prices == "constant" or req.breakdown == "ownership"):
        raise UsageError(
            "ANNUAL_ONLY",
            "Giá so sánh và phân tổ theo loại hình kinh tế chỉ tính cho năm (chỉ số giảm phát và GRDP theo loại hình là số năm).",
            "Constant prices and the ownership breakdown are annual only (deflators and GRDP by ownership are annual).")


def _region_provinces(period: str, basis: int | None) -> list[str]:
    """The provinces regions are summed from: the period's own basis, or ``basis`` (34 for any
    period: before the merger from the old provinces' sums; 63 only before the merger)."""
    from kinhteso.pipeline import accounts as PA  # noqa: PLC0415
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    own = [k for k in PA.territories_for(period) if k != "VN"]
    if basis is None or f"{basis}:" == own[0][:3]:
        return own
    if basis == 34:
        return [t.key for t in terr.territories() if t.basis == 34]
    raise UsageError("REGION_BASIS", f"Kỳ {period} sau sáp nhập: không có 63 tỉnh; vùng chỉ tính trên 34 tỉnh.",
                     f"Period {period} is after the merger: there are no 63 provinces; regions are summed from the 34.")


def _regions(texts: Sequence[str] | None) -> list[str] | None:
    """Region keys from keys or names (None: every region); UNKNOWN_REGION lists the keys."""
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    if not texts:
        return None
    out = []
    for t in texts:
        reg = terr.find_region(t)
        if reg is None:
            keys = ", ".join(f"{r.key} ({r.name_vi})" for r in terr.regions())
            raise UsageError("UNKNOWN_REGION", f"Không có vùng '{t}'; các vùng: {keys}.",
                             f"No region '{t}'; the regions are: {keys}.")
        out.append(reg.key)
    return out


# --- quarterly ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuarterlyRequest:
    territories: tuple[str, ...] | None = None   #: None: the nation and the 34 provinces
    indicator_set: str = "gdp"
    method: str | None = None
    view: str = "gso"
    year: int | None = None
    save: bool = True


@dataclass
class QuarterlyResponse:
    results: list                          #: kinhteso.pipeline.quarterly.QuarterlyResult
    errors: list[tuple[str, MethodError]] = field(default_factory=list)

    @property
    def illustrative(self) -> bool:
        return any(r.illustrative for r in self.results)

    def frame(self, year: int | None = None):
        import pandas as pd  # noqa: PLC0415

        frames = []
        for r in self.results:
            f = r.frame.assign(territory=r.territory, method=r.method, view=r.view, run_id=r.run_id,
                               basis=["benchmarked" if b else "estimated" for b in r.frame.benchmarked])
            if year:
                f = f[f.period.str.startswith(str(year))]
            frames.append(f)
        cols = ["territory", "period", "de_va", "grdp", "de_share", "status", "basis", "method", "view", "run_id"]
        return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def quarterly(ws: Workspace, req: QuarterlyRequest, *, progress: Progress | None = None) -> QuarterlyResponse:
    """Quarterly figures for each territory; stored as runs (once per set of inputs) unless ``save=False``.
    ``progress`` (:mod:`kinhteso.progress`): the accounts, each territory, then storing."""
    from kinhteso.pipeline import accounts as PA  # noqa: PLC0415
    from kinhteso.pipeline import quarterly as Q  # noqa: PLC0415

    say, computing = or_null(progress), span(progress, after=1)  # one more step: storing
    keys = [_key(t) for t in req.territories] if req.territories else PA.territories_for("2025")
    done, failed = Q.quarterly_many(ws, keys, indicator=req.indicator_set, method=req.method, view=req.view,
                                    progress=computing)
    out = QuarterlyResponse(done, failed)
    if req.save and out.results:
        say(computing.end, computing.end + 1, tr("Lưu kết quả", "Storing the results"))
        Q.save_many(ws, out.results)  # one write for every territory
    say(computing.end + 1, computing.end + 1, tr("Số quý", "Quarterly figures"))
    return out


# --- stored results -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultsRequest:
    indicator: str | None = None
    territory: str | None = None
    period: str | None = None
    kind: str | None = None
    view: str | None = None
    sector: str | None = "_T"
    as_of: dt.datetime | None = None
    all_runs: bool = False


def results(ws: Workspace, req: ResultsRequest):
    """What kinhteso computed and stored (never a submission): one row per result with ``value,
    status, basis, run_id, kind, method, computed_at, inputs`` (the vintages and runs it read)."""
    key = _key(req.territory) if req.territory else None
    per = parse_strict(req.period).code if req.period else None
    df = ws.store.results(indicator=req.indicator.upper() if req.indicator else None, territory=key, period=per,
                          kind=req.kind, view=req.view, sector=req.sector, as_of=req.as_of,
                          latest=not req.all_runs)
    df = df.assign(inputs=[json.loads(x) for x in df["inputs"]], parameters=[json.loads(x) for x in df["parameters"]])
    return df


# --- the official figure ------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureRequest:
    territory: str
    period: str
    indicator: str = "DE_SHARE"
    view: str = "gso"
    as_of: dt.datetime | None = None
    compute: bool = True   #: compute kinhteso's figure where none is stored (nothing is stored)


@dataclass
class Figure:
    """The figure to report and how it was chosen."""

    territory: str
    indicator: str
    period: str
    value: float | None
    unit: str | None
    basis: str | None            #: published, benchmarked, estimated, nowcast (None: nothing)
    status: str | None
    source: str | None
    vintage: int | None = None
    run_id: str | None = None
    method: str | None = None
    view: str | None = None
    stored: bool = True
    illustrative: bool = False
    alternatives: list[dict] = field(default_factory=list)
    rule: dict = field(default_factory=lambda: dict(RULE))
    #: how many reporting units a figure derived from records rests on (None: not from records);
    #: the disclosure rule of what is shared back reads it (kinhteso.service.sharing)
    units: int | None = None

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in ("territory", "indicator", "period", "value", "unit", "basis", "status",
                                              "source", "vintage", "run_id", "method", "view", "stored",
                                              "illustrative", "units", "alternatives", "rule")}


def _desc(text: str) -> str:
    """A key that sorts ISO timestamps newest first."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


def _candidate(**kw) -> dict:
    return {"value": None, "unit": None, "basis": None, "status": None, "source": None, "vintage": None,
            "run_id": None, "method": None, "view": None, "stored": True, "illustrative": False, **kw}


def figure(ws: Workspace, req: FigureRequest) -> Figure:
    """The one figure to report for ``territory``, ``indicator`` and ``period`` (see the module's rule)."""
    return figures(ws, [req.territory], req)[_key(req.territory)]


def figures(ws: Workspace, territories: Sequence[str], req: FigureRequest) -> dict[str, Figure]:
    """The official figure of each of ``territories`` (keys, codes or names) for the indicator,
    period and view of ``req`` (its ``territory`` is not used): the same rule as :func:`figure`,
    read from the store once for all of them, and kinhteso's figure computed in one pass for
    those with no stored one. Keyed by territory key, in the order asked."""
    keys = list(dict.fromkeys(_key(t) for t in territories))
    p = parse_strict(req.period)
    ind = req.indicator.upper()
    cands: dict[str, list[dict]] = {k: [] for k in keys}
    sub = ws.store.observations(indicator=ind, territory=keys, period=p.code, sector="_T", as_of=req.as_of)
    sub = sub.sort_values("price_basis", key=lambda s: s != "current", kind="stable")  # current prices first
    for r in sub.itertuples(index=False):
        cands[r.territory].append(_candidate(value=float(r.value), unit=r.unit, basis="published", status=r.status,
                                             source=r.source, vintage=int(r.vintage_id),
                                             illustrative=bool(r.illustrative), price_basis=r.price_basis))
    res = ws.store.results(indicator=ind, territory=keys, period=p.code, sector="_T", as_of=req.as_of)
    if ind in COMPUTED:
        res = res[(res["view"] == req.view) | (res["kind"] == "nowcast")]
    for r in res.itertuples(index=False):
        if r.value is None or r.value != r.value:  # a result withdrawn (its inputs retracted): no figure
            continue
        cands[r.territory].append(_candidate(value=float(r.value), unit=r.unit, basis=r.basis, status=r.status,
                                             source=f"kinhteso:{r.kind}", run_id=r.run_id, method=r.method,
                                             view=r.view or None, illustrative=bool(r.illustrative),
                                             computed_at=r.computed_at.isoformat(), units=_units(r)))
    if req.compute and ind in COMPUTED:
        missing = [k for k in keys if not {c["basis"] for c in cands[k]} & {"benchmarked", "estimated"}]
        for k, computed in _computed(ws, missing, p, ind, req).items():
            cands[k] += computed
    out: dict[str, Figure] = {}
    for k in keys:
        found = cands[k]
        # within a basis: current prices first, the default nowcast engine first, the latest run first
        found.sort(key=lambda c: (BASIS_ORDER.index(c["basis"]), c.get("price_basis", "current") != "current",
                                  c["basis"] == "nowcast" and c["view"] != "bridge",
                                  "~" if c.get("computed_at") is None else _desc(c["computed_at"])))
        if not found:
            out[k] = Figure(k, ind, p.code, None, None, None, None, None)
            continue
        best, rest = found[0], found[1:]
        keep = {f: best[f] for f in ("value", "unit", "basis", "status", "source", "vintage", "run_id", "method",
                                     "view", "stored", "illustrative")}
        keep["units"] = best.get("units")
        out[k] = Figure(k, ind, p.code, alternatives=rest, **keep)
    return out


def _units(row) -> int | None:
    """A stored result's reporting units (None: not derived from records, or a store without them)."""
    n = getattr(row, "units", None)
    import pandas as pd  # noqa: PLC0415

    return None if n is None or pd.isna(n) else int(n)


def _computed(ws: Workspace, keys: Sequence[str], p, ind: str, req: FigureRequest) -> dict[str, list[dict]]:
    """Kinhteso's own figure of each of ``keys``, computed for the answer in one pass (nothing stored)."""
    if not keys:
        return {}
    try:
        found = measure(ws, MeasureRequest(p.code, tuple(keys), view=req.view, as_of=req.as_of,
                                           intervals=False)).results
    except (MethodError, UsageError):
        if len(keys) == 1:
            return {}
        out: dict[str, list[dict]] = {}  # one territory the method refuses must not hide the others
        for k in keys:
            out.update(_computed(ws, [k], p, ind, req))
        return out
    out = {}
    for r in found:
        if r.result is None or r.territory not in keys:
            continue
        value = {"DE_SHARE": r.result.de_share, "DE_VA": r.result.de_va, "GRDP": r.result.grdp}[ind]
        basis = r.provenance.get("basis", "estimated")
        method = r.provenance.get("quarterly_method") or "kinhteso.methods.accounts.measure"
        out[r.territory] = [_candidate(value=float(value), unit="PCT" if ind == "DE_SHARE" else "VND_BN", basis=basis,
                                       status="E", source="kinhteso:quarterly" if p.freq == "Q" else "kinhteso:accounts",
                                       method=method, view=req.view, stored=False,
                                       illustrative=bool(r.provenance.get("illustrative")))]
    return out


def keys_of(values: Sequence[str]) -> list[str]:
    """Territory keys from keys, codes or names."""
    return [_key(v) for v in values]
