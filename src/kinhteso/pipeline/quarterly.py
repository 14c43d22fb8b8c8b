"""Quarterly digital-economy figures from the annual accounts, and their revisions.

For a territory: the annual digital-economy value added and GRDP (GSO view, from the accounts)
(in any view) are disaggregated to quarters with :func:`kinhteso.methods.temporal.td`:

- indicator ``gdp`` (default): the quarterly DE value added computed the same way from
  quarterly GRDP by industry (annual coefficients), benchmarked to the annual figure with the
  proportional Denton–Cholette method (IMF *Quarterly National Accounts Manual* 2017, ch. 6:
  the indicator is the same concept, so its movement is kept and its level benchmarked);
- indicator ``monthly``: quarterly sums of monthly high-frequency indicators (e-invoice revenue,
  cashless payments, e-commerce and retail sales) as regressors of a Chow–Lin regression
  (maximum likelihood ρ), for territories without quarterly GRDP by industry.

Quarters of a year with an annual figure sum to it exactly; quarters after the last annual
figure are extrapolated and are benchmarked, as a new run, when the annual figure
arrives. The share is DE_q / GRDP_q × 100 with GRDP_q disaggregated the same way. The results
``DE_VA``, ``DE_SHARE`` and ``GRDP`` (sector ``_T``) are stored as one run of kind ``quarterly``
(status E; basis ``benchmarked`` for the quarters of a year with an annual figure, ``estimated``
after it); re-running on unchanged inputs adds nothing (the run's id is its inputs' address).

:func:`measure_quarter` is the one path by which a quarter's figure is computed: ``kinhteso
measure --period 2025-Q3`` gives the benchmarked quarter of this module, its breakdown (components,
sectors) the quarter's own accounts scaled pro rata to the benchmarked totals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kinhteso import __version__
from kinhteso.errors import MethodError, UsageError
from kinhteso.i18n import tr
from kinhteso.methods import temporal as T
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline.observations import ObservationQuery, read_observations
from kinhteso.progress import Progress, or_null, span
from kinhteso.store import RunRecord
from kinhteso.workspace import Workspace

__all__ = ["QuarterlyResult", "quarterly_de", "quarterly_many", "measure_quarter", "measure_quarters", "revisions", "save", "save_many", "INDICATOR_SETS",
           "KIND"]

KIND = "quarterly"
MONTHLY_INDICATORS = ("EINVOICE_REVENUE", "CASHLESS_PAYMENTS", "ECOMMERCE_RETAIL", "RETAIL_SALES")
#: indicator set → default temporal-disaggregation method
INDICATOR_SETS = {"gdp": "denton-cholette", "monthly": "chow-lin-maxlog"}


@dataclass
class QuarterlyResult:
    territory: str
    frame: pd.DataFrame                      #: period, de_va, grdp, de_share, status, benchmarked
    annual: pd.DataFrame                     #: year, de_va, grdp, de_share
    method: str
    indicator: str
    run_id: str | None = None                #: the stored run (None until saved)
    warnings: list[dict] = field(default_factory=list)
    illustrative: bool = False
    details: dict = field(default_factory=dict)
    view: str = "gso"
    quarter_results: dict = field(default_factory=dict)  #: period → the quarter's own MeasureResult
    run: RunRecord | None = None

    def basis(self, period: str) -> str:
        """``benchmarked`` (its year's quarters sum to the annual figure) or ``estimated``."""
        row = self.frame[self.frame.period == period]
        return "benchmarked" if len(row) and bool(row.benchmarked.iloc[0]) else "estimated"


def _quarters(first_year: int, last: str) -> list[str]:
    out, y, q = [], first_year, 1
    while f"{y}-Q{q}" <= last:
        out.append(f"{y}-Q{q}")
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    return out


def _stored_periods(ws: Workspace, keys: Sequence[str]) -> dict[str, tuple[list[int], list[str]]]:
    """Each territory's years and quarters with GRDP (34-basis keys with their old provinces'
    history summed), in two reads whatever the number of territories."""
    out: dict[str, tuple[list[int], list[str]]] = {k: ([], []) for k in keys}
    for basis in ({None, 34} if any(k.startswith("34:") for k in keys) else {None}):
        f = read_observations(ws, ObservationQuery(indicator=["GRDP"], basis=basis)).frame
        if f.empty:
            continue
        key = [t if not b else f"{b}:{t}" for b, t in zip(f.basis.fillna(""), f.territory)]
        f = f.assign(key=key)
        for k, g in f[f.key.isin(keys)].groupby("key"):
            if (basis == 34) != k.startswith("34:"):
                continue
            periods = set(g.period)
            out[k] = (sorted(int(p) for p in periods if len(p) == 4), sorted(p for p in periods if len(p) == 7))
    return out


def _monthly_regressors(ws: Workspace, key: str, quarters: list[str]) -> np.ndarray:
    res = read_observations(ws, ObservationQuery(indicator=list(MONTHLY_INDICATORS), territory=[key], sector=["_T"],
                                                 basis=34 if key.startswith("34:") else None)).frame
    res = res[res.period.str.len() == 7]
    res = res.assign(quarter=[f"{p[:4]}-Q{(int(p[5:7]) - 1) // 3 + 1}" for p in res.period])
    counts = res.groupby(["indicator", "quarter"]).period.nunique().unstack(0)
    sums = res.groupby(["indicator", "quarter"]).value.sum().unstack(0)
    full = counts.eq(3)
    sums = sums.where(full)
    X = sums.reindex(index=quarters, columns=list(MONTHLY_INDICATORS))
    if X.isna().any().any():
        bad = X.index[X.isna().any(axis=1)].tolist()
        raise MethodError("QUARTERLY_MONTHS_MISSING",
                          f"{key}: thiếu số liệu tháng cho các quý {', '.join(bad[:8])}.",
                          f"{key}: monthly indicators are incomplete for quarters {', '.join(bad[:8])}.")
    return X.to_numpy(dtype=float)


def quarterly_de(ws: Workspace, territory: str, *, indicator: str = "gdp", method: str | None = None,
                 last_year: int | None = None, write: bool = True, view: str = "gso",
                 core: Sequence[str] | None = None, as_of=None, coef_source: str | None = None,
                 progress: Progress | None = None) -> QuarterlyResult:
    """Quarterly DE value added and share for ``territory``; ``last_year`` pretends the annual
    accounts end there (the later years' quarters are then extrapolated). ``write`` stores the
    run (once for the same inputs). ``progress``: :mod:`kinhteso.progress`."""
    done, failed = quarterly_many(ws, [territory], indicator=indicator, method=method, last_year=last_year,
                                  view=view, core=core, as_of=as_of, coef_source=coef_source, progress=progress)
    if failed:
        raise failed[0][1]
    if write:
        save_many(ws, done)
    return done[0]


def quarterly_many(ws: Workspace, territories: Sequence[str], *, indicator: str = "gdp", method: str | None = None,
                   last_year: int | None = None, view: str = "gso", core: Sequence[str] | None = None, as_of=None,
                   coef_source: str | None = None, progress: Progress | None = None,
                   ) -> tuple[list[QuarterlyResult], list[tuple[str, MethodError]]]:
    """:func:`quarterly_de` for several territories with one read of the store and one run of
    the accounts for all of them. Nothing is stored. Returns (results, [(territory, error)]).
    ``progress`` (:mod:`kinhteso.progress`): one step for the accounts, one per territory."""
    if indicator not in INDICATOR_SETS:
        raise UsageError("UNKNOWN_INDICATOR_SET", f"Bộ chỉ báo '{indicator}' không có; dùng {', '.join(INDICATOR_SETS)}.",
                         f"Unknown indicator set '{indicator}'; use {', '.join(INDICATOR_SETS)}.")
    method = method or INDICATOR_SETS[indicator]
    stored = _stored_periods(ws, territories)
    plans: dict[str, tuple[list[int], list[str]]] = {}
    failed: list[tuple[str, MethodError]] = []
    for k in territories:
        years, q_stored = stored[k]
        years = [y for y in years if last_year is None or y <= last_year]
        if len(years) < 3:
            failed.append((k, MethodError("TOO_FEW_YEARS", f"{k}: cần ít nhất 3 năm số liệu năm, có {len(years)}.",
                                          f"{k}: at least 3 annual figures are needed, found {len(years)}.")))
        elif not q_stored:
            failed.append((k, MethodError("NO_QUARTERLY_DATA", f"{k}: không có GRDP theo quý.",
                                          f"{k}: no quarterly GRDP.")))
        else:
            plans[k] = (years, _quarters(years[0], q_stored[-1]))
    done: list[QuarterlyResult] = []
    say, accounts = or_null(progress), span(progress, after=len(plans))
    if plans:
        periods = sorted({str(y) for ys, _ in plans.values() for y in ys} | {q for _, qs in plans.values() for q in qs})
        measured = PA.measure_many(ws, list(plans), periods, [view], core=core, as_of=as_of, coef_source=coef_source,
                                   progress=accounts)
        by = {(r.territory, r.period): r for r in measured}
        for i, (k, (years, quarters)) in enumerate(plans.items()):
            say(accounts.end + i, accounts.end + len(plans), tr(f"Tách quý: {k}", f"Quarterly path: {k}"))
            try:
                done.append(_quarterly_one(ws, k, years, quarters, by, indicator=indicator, method=method,
                                           last_year=last_year, view=view, core=core, as_of=as_of,
                                           coef_source=coef_source))
            except MethodError as exc:
                failed.append((k, exc))
    say(accounts.end + len(plans), accounts.end + len(plans), tr("Số quý", "Quarterly figures"))
    order = {k: i for i, k in enumerate(territories)}
    done.sort(key=lambda r: order[r.territory])
    failed.sort(key=lambda x: order[x[0]])
    return done, failed


def _quarterly_one(ws: Workspace, territory: str, years: list[int], quarters: list[str], by: dict, *, indicator: str,
                   method: str, last_year, view: str, core, as_of, coef_source) -> QuarterlyResult:
    annual = [by[(territory, str(y))] for y in years]
    bad = [r for r in annual if r.result is None]
    if bad:
        raise MethodError("ANNUAL_ACCOUNTS_FAILED", f"{territory}: không tính được tài khoản năm {bad[0].period}: {bad[0].error['vi']}",
                          f"{territory}: the annual accounts of {bad[0].period} failed: {bad[0].error['en']}")
    y_de = np.array([r.result.de_va for r in annual])
    y_gdp = np.array([r.result.grdp for r in annual])
    illustrative = any(r.provenance.get("illustrative") for r in annual)
    qres = [by[(territory, q)] for q in quarters]
    x_de = np.array([r.result.de_va if r.result else np.nan for r in qres])
    x_gdp = np.array([r.result.grdp if r.result else np.nan for r in qres])
    if np.isnan(x_de).any():
        missing = [q for q, v in zip(quarters, x_de) if np.isnan(v)]
        raise MethodError("QUARTERS_MISSING", f"{territory}: thiếu GRDP_VA quý {', '.join(missing[:8])}.",
                          f"{territory}: quarterly GRDP_VA missing for {', '.join(missing[:8])}.")
    if indicator == "monthly":
        X = _monthly_regressors(ws, territory, quarters)
        names = list(MONTHLY_INDICATORS)
    else:
        X, names = x_de, ["quarterly_de_va"]
    labels_low = [str(y) for y in years]
    de = T.td(y_de, X, method=method, conversion="sum", fr=4, offset=0, indicator_names=names,
              series_name=f"DE_VA {territory}", labels_low=labels_low, labels_high=quarters)
    gdp = T.td(y_gdp, x_gdp, method="denton-cholette", conversion="sum", fr=4, offset=0,
               indicator_names=["quarterly_grdp"], series_name=f"GRDP {territory}", labels_low=labels_low,
               labels_high=quarters)
    frame = pd.DataFrame({"period": quarters, "de_va": de.series, "grdp": gdp.series})
    frame["de_share"] = frame.de_va / frame.grdp * 100.0
    frame["benchmarked"] = de.flags == "benchmarked"
    frame["status"] = "E"  # kinhteso's estimate, never A; `benchmarked` says whether its year is benchmarked
    ann = pd.DataFrame({"year": years, "de_va": y_de, "grdp": y_gdp, "de_share": y_de / y_gdp * 100})
    vintages = sorted({int(v) for r in [*annual, *qres] for v in r.provenance.get("input_vintages", [])})
    out = QuarterlyResult(territory, frame, ann, method, indicator, illustrative=illustrative, view=view,
                          details={"rho": de.rho, "coefficients": de.coefficients, "annual_vintages":
                                   sorted({v for r in annual for v in r.provenance.get("input_vintages", [])})},
                          quarter_results={r.period: r for r in qres})
    coef_runs = sorted({x for r in [*annual, *qres] for x in r.provenance.get("input_runs", [])})
    out.run = RunRecord(
        kind=KIND, method=method,
        parameters={"territory": territory, "indicator_set": indicator, "view": view, "last_year": last_year,
                    "core": list(core) if core else "default", "coef_source": coef_source or "latest",
                    "as_of": as_of.isoformat() if as_of else None},
        inputs={"vintages": vintages, "runs": coef_runs}, code_version=__version__, illustrative=illustrative,
        provenance={"rho": de.rho, "annual_years": [int(years[0]), int(years[-1])]})
    return out


def save(ws: Workspace, r: QuarterlyResult) -> str:
    """Store the quarterly figures as one run (nothing new when the same run is stored already)."""
    return save_many(ws, [r])[0]


def save_many(ws: Workspace, results: Sequence[QuarterlyResult]) -> list[str]:
    """Store several territories' quarterly figures in one write (one run each)."""
    batch = []
    for r in results:
        rows = []
        for x in r.frame.itertuples(index=False):
            basis = "benchmarked" if x.benchmarked else "estimated"
            for ind, val, unit in (("DE_VA", x.de_va, "VND_BN"), ("DE_SHARE", x.de_share, "PCT"),
                                   ("GRDP", x.grdp, "VND_BN")):
                rows.append({"indicator": ind, "territory": r.territory, "sector": "_T", "period": x.period,
                             "view": r.view, "value": float(val), "unit": unit, "price_basis": "current",
                             "status": "E", "basis": basis})
        batch.append((r.run, pd.DataFrame(rows)))
    ids = [rid for rid, _ in ws.store.add_results_many(batch)]
    for r, rid in zip(results, ids):
        r.run_id = rid
    return ids


def measure_quarter(ws: Workspace, territory: str, period: str, *, view: str = "gso",
                    core: Sequence[str] | None = None, as_of=None, coef_source: str | None = None,
                    with_change: bool = True) -> PA.MeasureResult:
    """A quarter's accounts on the one quarterly path: the totals are the quarterly figures of
    :func:`quarterly_de` (benchmarked to the annual accounts, or extrapolated after the last
    annual figure); components and sectors are the quarter's own accounts scaled pro rata to
    those totals. Where the quarterly path cannot run (fewer than three annual figures, missing
    quarters) the quarter's own accounts are returned with a ``QUARTER_NOT_BENCHMARKED`` warning.
    """
    return measure_quarters(ws, [territory], period, view=view, core=core, as_of=as_of, coef_source=coef_source,
                            with_change=with_change)[0]


def measure_quarters(ws: Workspace, territories: Sequence[str], period: str, *, view: str = "gso",
                     core: Sequence[str] | None = None, as_of=None, coef_source: str | None = None,
                     with_change: bool = False, progress: Progress | None = None) -> list[PA.MeasureResult]:
    """:func:`measure_quarter` for several territories, with one read for all of them.
    ``progress`` (:mod:`kinhteso.progress`): the quarter's own accounts, then the quarterly path."""
    opts = {"core": core, "as_of": as_of, "coef_source": coef_source}
    own = span(progress, after=1)
    owns = PA.measure_many(ws, list(territories), [period], [view], with_change=with_change, progress=own, **opts)
    done, failed = quarterly_many(ws, [o.territory for o in owns if o.result is not None], view=view,
                                  progress=span(progress, before=own.end), **opts)
    qs = {q.territory: q for q in done}
    errors = dict(failed)
    return [_benchmarked(own, qs.get(own.territory), errors.get(own.territory), period) for own in owns]


def _benchmarked(own: PA.MeasureResult, q: QuarterlyResult | None, exc: MethodError | None,
                 period: str) -> PA.MeasureResult:
    """The quarter's own accounts scaled pro rata to its quarterly figure (or said why not)."""
    territory = own.territory
    if own.result is None:
        return own
    if q is None:
        code, vi, en = (exc.code, exc.vi, exc.en) if exc else ("NO_QUARTERLY", "", "")
        own.warnings.append({"code": "QUARTER_NOT_BENCHMARKED",
                             "vi": f"{territory} {period}: chưa khớp được với số năm ({code}: {vi}); "
                                   "đây là số quý tự tính, chưa hiệu chỉnh.",
                             "en": f"{territory} {period}: not benchmarked to the annual accounts ({code}: "
                                   f"{en}); this is the quarter's own unbenchmarked figure."})
        own.provenance.update({"basis": "estimated", "benchmarked": False})
        return own
    row = q.frame[q.frame.period == period]
    if row.empty:
        own.provenance.update({"basis": "estimated", "benchmarked": False})
        return own
    de_va, grdp = float(row.de_va.iloc[0]), float(row.grdp.iloc[0])
    res = own.result
    k = de_va / res.de_va if res.de_va else 1.0
    g = grdp / res.grdp if res.grdp else 1.0
    comps = {name: {**c, "va": c["va"] * k, "share": c["va"] * k / grdp * 100.0} for name, c in res.components.items()}
    by_sector = res.by_sector.copy()
    by_sector["de_va"] = by_sector["de_va"] * k
    by_sector["contribution_pp"] = by_sector["de_va"] / grdp * 100.0
    if "va" in by_sector:
        by_sector["va"] = by_sector["va"] * g
    scaled = dataclasses.replace(res, grdp=grdp, de_va=de_va, de_share=de_va / grdp * 100.0, components=comps,
                                 by_sector=by_sector)
    basis = q.basis(period)
    own.provenance.update({
        "basis": basis, "benchmarked": basis == "benchmarked", "quarterly_method": q.method,
        "quarterly_run": q.run.run_id, "unbenchmarked": {"de_va": res.de_va, "grdp": res.grdp,
                                                           "de_share": res.de_share},
        "input_vintages": sorted(set(own.provenance.get("input_vintages", [])) | set(q.run.inputs["vintages"])),
        "illustrative": own.provenance.get("illustrative") or q.illustrative})
    own.result = scaled
    if own.growth is not None:  # growth on the same quarter a year earlier, on the same path
        prev = q.frame[q.frame.period == PA.previous_period(period)]
        if len(prev):
            own.growth = de_va / float(prev.de_va.iloc[0]) - 1.0
    return own


def revisions(ws: Workspace, territory: str, *, indicator: str = "DE_SHARE", sector: str = "_T") -> pd.DataFrame:
    """How each period's figure of one series (``indicator``, ``territory``, ``sector``) moved:
    one row per period, one column per submitted vintage and per stored quarterly run (labelled
    by its time; a retracted vintage's column is marked ``[retracted]``), plus the total
    revision (latest − first, over the values that stand: retracted vintages left out)."""
    hist = ws.store.history(indicator=indicator, territory=territory, sector=sector)
    mark = hist.retracted_at.notna().map({True: " [retracted]", False: ""}) if len(hist) else ""
    hist = hist.assign(order=pd.to_datetime(hist.received_at),
                       vintage=hist.vintage_id.astype(str) + " " + hist.source + " " +
                       pd.to_datetime(hist.received_at).dt.strftime("%Y-%m-%d %H:%M:%S") + mark)
    res = ws.store.results(indicator=indicator, territory=territory, sector=sector, kind=KIND, latest=False)
    if len(res):
        res = res.assign(order=pd.to_datetime(res.computed_at),
                         vintage="run " + res.run_id.str[:8] + " kinhteso:" + res.kind + " " +
                         pd.to_datetime(res.computed_at).dt.strftime("%Y-%m-%d %H:%M:%S"))
    both = pd.concat([hist[["period", "value", "order", "vintage"]], res[["period", "value", "order", "vintage"]]
                      if len(res) else None], ignore_index=True)
    if both.empty:
        raise UsageError("NO_HISTORY", f"Không có {indicator} cho {territory}, ngành {sector}.",
                         f"No {indicator} for {territory}, sector {sector}.")
    order = both.sort_values(["order", "vintage"]).vintage.drop_duplicates().tolist()
    wide = both.pivot_table(index="period", columns="vintage", values="value", aggfunc="last")
    wide = wide[[c for c in order if c in wide.columns]]
    standing = wide[[c for c in wide.columns if not c.endswith(" [retracted]")]]
    if standing.shape[1]:
        wide["revision"] = standing.ffill(axis=1).iloc[:, -1] - standing.bfill(axis=1).iloc[:, 0]
    else:
        wide["revision"] = np.nan
    return wide.reset_index()
