"""The targets pipeline: series from the store, gaps against the target registry, plans, peers
and scenarios (methods in :mod:`kinhteso.methods.targets`, formulas in docs/targets.md).

Where a series comes from (``source``):

- ``computed`` — the digital-economy share (``DE_SHARE``) of the accounts (GSO view by
  default) for the last five years with inputs, measured with
  :func:`kinhteso.pipeline.accounts.measure_many` in memory: a read stores nothing (with
  ``compute=False``, the stored accounts runs are read instead).
- ``published`` — the stored published ``DE_SHARE`` (GSO/NSO; the latest vintage of each year).
- ``auto`` (default) — computed where anything can be computed, else published.

``DE_SHARE_SECTOR`` (the digital share within each VSIC section) is computed from the same
accounts (:func:`kinhteso.methods.sectoral.section_shares`), one series per section; a stored
``DE_SHARE_SECTOR`` by section letter is its published series. ``DE_LABOUR_SHARE`` is computed
from ``EMPLOYMENT`` by industry (:func:`kinhteso.pipeline.labour.labour_shares`, method
``core`` or ``coef``, named in the row's ``source``); a stored one is its published series.
Both follow ``source`` like ``DE_SHARE``.

Other indicators are read from the observations: registry indicators as stored (additive ones
summed from the 63 old provinces for a 34-basis key), annual values, or the sum of the twelve
months / four quarters of a complete year for additive flows; derived indicators
(:data:`kinhteso.reference.targets.DERIVED`) from their parts' annual totals. An indicator kinhteso
derives from agencies' records (the priority sectors' and the port shares) with no submitted annual
figure is read by the official-figure rule (:func:`kinhteso.pipeline.derived.official_values`: the
year derived from the year's records, else the mean of the year's quarters, each submitted or derived;
the row's source names them). ``DE_SHARE_MIC``
(the estimates MIC/MOST published) is such a stored series, never computed: kinhteso's own
MIC-style view is a ``DE_SHARE`` computed with ``view="mic"``.

Which series a target is measured on (docs/targets.md, "Basis and boundary"): by default the
series of its own basis (``Target.basis``) on its own boundary (``Target.boundary``); another
basis only when asked (``against``: every row then carries ``BASIS_MISMATCH``); the territory
that holds a target carried over across the merger only when asked (``convert_boundary``: the
carry-over conversion, ``BOUNDARY_CONVERTED`` on the row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kinhteso.errors import MethodError, ReferenceDataError, UsageError
from kinhteso.i18n import tr
from kinhteso.methods import accounts as A
from kinhteso.methods import sectoral as S
from kinhteso.methods import targets as M
from kinhteso.methods.merger import to_basis34
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline import labour as PL
from kinhteso.progress import Progress, or_null, span
from kinhteso.reference import territories as terr
from kinhteso.reference.targets import (
    BOUNDARY_CONVERSION,
    DERIVED,
    EACH_SECTION,
    SECTORAL,
    WORKSPACE_FILE,
    Target,
    basis_label,
    indicator_bounds,
    indicator_unit,
    load_targets,
    section_name,
)
from kinhteso.workspace import Workspace

__all__ = ["SOURCES", "SeriesResult", "workspace_targets", "series", "gaps", "plan", "peers", "scenario",
           "parse_set", "SCENARIO_OPS", "GAP_FIELDS", "sector_summaries", "COMPUTED"]

SOURCES = ("auto", "computed", "published")
#: The fields of one gap row (``kinhteso gaps --format json``): rates as fractions, shares in percent.
GAP_FIELDS = ("indicator", "territory", "name", "latest_value", "latest_period", "target_value", "target_year",
              "comparison", "direction", "gap", "relative_gap", "required_cagr", "trend_cagr", "trend_model", "n_obs",
              "projected_value", "projected_low", "projected_high", "level", "probability", "status", "years_behind",
              "source", "illustrative", "target_source", "target_url", "confidence", "carried_over", "inherited",
              "basis", "boundary", "series_indicator", "series_territory", "basis_mismatch", "boundary_converted",
              "sector", "sector_name", "sections_met", "sections_total", "warnings", "error")
#: Indicators kinhteso computes (``source`` computed/auto) beside a published series of the same code.
COMPUTED = ("DE_SHARE", "DE_SHARE_SECTOR", "DE_LABOUR_SHARE")
_HISTORY = 5
_PEER_INDICATORS = ("DE_SHARE", "ECOMMERCE_SHARE", "DIGITAL_FIRMS_PER_1000", "SME_PLATFORM_SHARE", "ECONTRACT_SHARE")


@dataclass
class SeriesResult:
    territory: str
    indicator: str
    frame: pd.DataFrame            #: period, value (annual, ascending)
    source: str
    illustrative: bool = False
    warnings: list[dict] = field(default_factory=list)
    empty_error: dict | None = None  #: the row error when ``frame`` is empty (default NO_SERIES)


def workspace_targets(ws: Workspace) -> list[Target]:
    """The shipped targets plus the workspace's ``targets.yaml``."""
    return load_targets(ws.root / WORKSPACE_FILE, indicators=ws.indicators())


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise UsageError("UNKNOWN_SOURCE", f"Nguồn chuỗi '{source}' không có; dùng {', '.join(SOURCES)}.",
                         f"Unknown series source '{source}'; use one of {', '.join(SOURCES)}.")


# --- series --------------------------------------------------------------------------------------
def _annual(frame: pd.DataFrame, period_col: str = "period") -> pd.DataFrame:
    return frame[frame[period_col].str.len() == 4]


def _published_de_share(ws: Workspace, key: str, indicator: str = "DE_SHARE") -> SeriesResult:
    """The stored published series of ``indicator`` (submissions only): the total, or for a
    :data:`SECTORAL` indicator one series per section (``period, sector, value``)."""
    if indicator in SECTORAL:
        obs = ws.store.observations(indicator=indicator, territory=key)
        obs = obs[(obs.sector.str.len() == 1) & obs.sector.str.isalpha()]
        cols = ["period", "sector", "value"]
    else:
        obs = ws.store.observations(indicator=indicator, territory=key, sector="_T")
        cols = ["period", "value"]
    obs = _annual(obs).sort_values("period")
    srcs = sorted(set(obs.source)) if len(obs) else []
    return SeriesResult(key, indicator, obs[cols].reset_index(drop=True),
                        f"published ({', '.join(srcs)})" if srcs else "published",
                        bool(obs.illustrative.any()) if len(obs) else False)


def _input_years(ws: Workspace, key: str) -> list[str]:
    keys = [key, *(terr.predecessors_of(key) if key.startswith("34:") else ())]
    obs = ws.store.observations(indicator="GRDP_VA", territory=keys, price_basis="current")
    return sorted(set(_annual(obs).period))


def _computed_shares(ws: Workspace, keys: Sequence[str], *, view: str, sections: bool = False,
                     progress: Progress | None = None) -> tuple[pd.DataFrame, dict[str, list]]:
    """DE_SHARE of the accounts (``view``), computed in memory (nothing is stored), for the last
    years with inputs of every key: (territory, period, sector, value, illustrative), and each
    key's warnings. ``sections``: the share within each section instead (DE_SHARE_SECTOR, one
    row per section, :func:`kinhteso.methods.sectoral.section_shares`)."""
    preds = {k: [k, *(terr.predecessors_of(k) if k.startswith("34:") else ())] for k in keys}
    obs = ws.store.observations(indicator="GRDP_VA", territory=sorted({x for v in preds.values() for x in v}),
                                price_basis="current", sector="_T")
    if obs.empty:
        obs = ws.store.observations(indicator="GRDP_VA", territory=sorted({x for v in preds.values() for x in v}),
                                    price_basis="current")
    obs = _annual(obs)
    todo: dict[str, list[str]] = {}
    for k, ks in preds.items():
        for y in sorted(set(obs[obs.territory.isin(ks)].period))[-_HISTORY:]:
            todo.setdefault(y, []).append(k)
    rows, warnings = [], {k: [] for k in keys}
    if todo:
        all_keys = sorted({k for v in todo.values() for k in v})
        for r in PA.measure_many(ws, all_keys, sorted(todo), [view], progress=progress):  # one read, nothing stored
            if r.territory not in todo.get(r.period, ()):
                continue
            if r.result is None:
                if r.error:
                    warnings[r.territory].append({"code": r.error["code"], "vi": r.error["vi"], "en": r.error["en"]})
                continue
            illus = bool(r.provenance.get("illustrative"))
            if sections:
                rows += [{"territory": r.territory, "period": r.period, "sector": x.section, "value": x.share,
                          "illustrative": illus} for x in S.section_shares(r.result).itertuples()]
            else:
                rows.append({"territory": r.territory, "period": r.period, "sector": "_T", "value": r.result.de_share,
                             "illustrative": illus})
    frame = pd.DataFrame(rows, columns=["territory", "period", "sector", "value", "illustrative"])
    return frame, warnings


def _stored_shares(ws: Workspace, *, view: str, territory: str | None = None) -> pd.DataFrame:
    """DE_SHARE of the stored accounts runs (the latest run of each key)."""
    return ws.store.results(kind="accounts", indicator="DE_SHARE", view=view, sector="_T", territory=territory)


def _computed_de_share(ws: Workspace, key: str, *, view: str, compute: bool,
                       runs: pd.DataFrame | None = None) -> SeriesResult:
    warnings: list[dict] = []
    if runs is not None:
        rv = runs[runs.territory == key]
    elif compute:
        rv, w = _computed_shares(ws, [key], view=view)
        warnings = w[key]
    else:
        rv = _stored_shares(ws, view=view, territory=key)
    rv = _annual(rv[rv.sector == "_T"]).sort_values("period")
    return SeriesResult(key, "DE_SHARE", rv[["period", "value"]].reset_index(drop=True),
                        f"computed (kinhteso accounts, {A.VIEW_LABELS[view][1] if view in A.VIEW_LABELS else view})",
                        bool(rv.illustrative.any()) if len(rv) else False, warnings)


def _panel(ws: Workspace, indicators: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
    """Annual totals (territory, indicator, period, value, illustrative, source) of registry
    indicators for ``keys``, additive series summed to the 34 basis where needed."""
    reg = ws.indicators()
    obs = ws.store.observations(indicator=list(indicators)) if indicators else pd.DataFrame()
    if obs.empty:
        return _with_derived(ws, pd.DataFrame(columns=["territory", "indicator", "period", "value", "illustrative",
                                                        "source"]), indicators, keys)
    if any(k.startswith("34:") for k in keys):
        obs, _ = to_basis34(obs, terr.merger_map(), additive={c: i.additive for c, i in reg.items()})
    obs = obs[obs.territory.isin(keys)]
    # the total: '_T' where stored, else the sum of the sections (one letter) of that period
    tot = obs[obs.sector == "_T"]
    sec = obs[(obs.sector.str.len() == 1) & obs.sector.str.isalpha()]
    have = set(zip(tot.territory, tot.indicator, tot.period))
    sec = sec[np.array([k not in have for k in zip(sec.territory, sec.indicator, sec.period)], dtype=bool)]
    sec = sec.groupby(["territory", "indicator", "period"], as_index=False).agg(
        value=("value", "sum"), illustrative=("illustrative", "max"), source=("source", "max"))
    obs = pd.concat([tot[["territory", "indicator", "period", "value", "illustrative", "source"]], sec],
                    ignore_index=True)
    obs["year"] = obs.period.str[:4]
    obs["kind"] = obs.period.str.len().map({4: "A", 7: "Q"}).fillna("M")
    obs.loc[(obs.kind == "Q") & ~obs.period.str.contains("-Q"), "kind"] = "M"
    annual = obs[obs.kind == "A"]
    parts = [annual]
    done = set(zip(annual.territory, annual.indicator, annual.year))
    for kind, n_needed in (("Q", 4), ("M", 12)):
        sub = obs[(obs.kind == kind) & obs.indicator.map(lambda c: bool(reg[c].additive) if c in reg else False)]
        if sub.empty:
            continue
        g = sub.groupby(["territory", "indicator", "year"], as_index=False).agg(
            value=("value", "sum"), n=("period", "nunique"), illustrative=("illustrative", "max"), source=("source", "max"))
        g = g[(g.n == n_needed).to_numpy() & np.array([k not in done for k in zip(g.territory, g.indicator, g.year)], dtype=bool)]
        done |= set(zip(g.territory, g.indicator, g.year))
        parts.append(g.assign(period=g.year).drop(columns=["n"]))
    out = pd.concat(parts, ignore_index=True)
    out = _with_derived(ws, out[["territory", "indicator", "period", "value", "illustrative", "source"]], indicators, keys)
    return out.sort_values(["territory", "indicator", "period"]).reset_index(drop=True)


def _with_derived(ws: Workspace, panel: pd.DataFrame, indicators: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
    """``panel`` and, for the indicators derived from records, the years it lacks by the official-figure
    rule (:func:`kinhteso.pipeline.derived.official_values`: the mean of the year's quarters)."""
    from kinhteso.pipeline.derived import (  # noqa: PLC0415
        RECORD_KIND,
        official_values,
        record_indicators,
    )

    inds = sorted(set(indicators) & record_indicators())
    if not inds or not keys:
        return panel
    res = ws.store.results(kind=RECORD_KIND, indicator=inds, territory=list(keys))
    years = sorted({str(p)[:4] for p in res.loc[res["value"].notna(), "period"]}) if len(res) else []
    have = set(zip(panel["territory"], panel["indicator"], panel["period"]))
    parts = [panel]
    for year in years:
        f = official_values(ws, inds, year, territories=keys)
        f = f[[k not in have for k in zip(f["territory"], f["indicator"], f["period"])]]
        if len(f):
            parts.append(f[["territory", "indicator", "period", "value", "illustrative", "source"]])
    return pd.concat([p for p in parts if len(p)], ignore_index=True) if len(parts) > 1 else panel


def _from_panel(panel: pd.DataFrame, key: str, indicator: str) -> SeriesResult:
    if indicator in DERIVED:
        d = DERIVED[indicator]
        num = panel[(panel.territory == key) & (panel.indicator == d.numerator)].set_index("period")
        den = panel[(panel.territory == key) & (panel.indicator == d.denominator)].set_index("period")
        common = sorted(set(num.index) & set(den.index))
        den_v = den.value.reindex(common)
        ok = [p for p in common if den_v[p] > 0]
        frame = pd.DataFrame({"period": ok, "value": [num.value[p] / den.value[p] * d.scale for p in ok]})
        srcs = sorted(set(num.source.reindex(ok).dropna()) | set(den.source.reindex(ok).dropna()))
        illus = bool(num.illustrative.reindex(ok).fillna(False).any() or den.illustrative.reindex(ok).fillna(False).any())
        return SeriesResult(key, indicator, frame, f"derived {d.numerator}/{d.denominator}×{d.scale:g} ({', '.join(srcs)})", illus)
    part = panel[(panel.territory == key) & (panel.indicator == indicator)]
    srcs = sorted(set(part.source))
    what = "published MIC/MOST estimate" if indicator == "DE_SHARE_MIC" else "observations"
    if srcs and all(str(x).startswith("kinhteso:") for x in srcs):  # no submission: kinhteso's figure from records
        what = "derived from records"
    return SeriesResult(key, indicator, part[["period", "value"]].reset_index(drop=True),
                        f"{what} ({', '.join(srcs)})", bool(part.illustrative.any()))


def _panel_indicators(indicators: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i in indicators:
        if i in COMPUTED:
            continue
        out.extend([DERIVED[i].numerator, DERIVED[i].denominator] if i in DERIVED else [i])
    return sorted(set(out))


def _check_labour(labour: str) -> None:
    if labour not in S.LABOUR_METHODS:
        raise UsageError("UNKNOWN_LABOUR_METHOD",
                         f"Cách đếm lao động kinh tế số '{labour}' không có; dùng {', '.join(S.LABOUR_METHODS)}.",
                         f"Unknown digital-economy labour method '{labour}'; use one of {', '.join(S.LABOUR_METHODS)}.")


def _computed_many(ws: Workspace, keys: Sequence[str], indicator: str, *, view: str,
                   labour: str) -> tuple[pd.DataFrame, dict[str, list]]:
    """DE_SHARE_SECTOR or DE_LABOUR_SHARE of many territories at once (one read, in memory)."""
    if indicator in SECTORAL:
        return _computed_shares(ws, keys, view=view, sections=True)
    return PL.labour_shares(ws, keys, view=view, method=labour)


def _computed_other(ws: Workspace, key: str, indicator: str, *, view: str, labour: str,
                    pre: tuple[pd.DataFrame, dict[str, list]] | None = None) -> SeriesResult:
    """DE_SHARE_SECTOR (one series per section) or DE_LABOUR_SHARE, computed in memory (``pre``:
    computed already for many territories, :func:`_computed_many`)."""
    label = A.VIEW_LABELS[view][1] if view in A.VIEW_LABELS else view
    rv, w = pre if pre is not None else _computed_many(ws, [key], indicator, view=view, labour=labour)
    rv, w = rv[rv.territory == key], {key: w.get(key, [])}
    if indicator in SECTORAL:
        rv = _annual(rv).sort_values(["period", "sector"])
        return SeriesResult(key, indicator, rv[["period", "sector", "value"]].reset_index(drop=True),
                            f"computed (kinhteso accounts, within each section, {label})",
                            bool(rv.illustrative.any()) if len(rv) else False, w[key])
    rv = rv.sort_values("period")
    return SeriesResult(key, indicator, rv[["period", "value"]].reset_index(drop=True),
                        f"computed (kinhteso, EMPLOYMENT by industry: {S.LABOUR_METHODS[labour][1]}; core list of the "
                        f"{view.upper()} view)", bool(rv.illustrative.any()) if len(rv) else False, w[key],
                        empty_error=None if w[key] else PL.no_employment(key))


def series(ws: Workspace, territory: str, indicator: str, *, source: str = "auto", view: str = "gso",
           compute: bool = True, panel: pd.DataFrame | None = None, runs: pd.DataFrame | None = None,
           labour: str = "core", pre: tuple[pd.DataFrame, dict[str, list]] | None = None) -> SeriesResult:
    """The annual series of ``indicator`` for ``territory`` (see the module docstring); ``panel``
    and ``runs`` are pre-read observations and accounts run values (for many territories);
    ``labour``: the method of a computed DE_LABOUR_SHARE (:data:`kinhteso.methods.sectoral.LABOUR_METHODS`);
    ``pre``: DE_SHARE_SECTOR or DE_LABOUR_SHARE computed already for many territories."""
    _check_source(source)
    if indicator in COMPUTED and indicator != "DE_SHARE":
        _check_labour(labour)
        if source == "published":
            return _published_de_share(ws, territory, indicator)
        res = _computed_other(ws, territory, indicator, view=view, labour=labour, pre=pre)
        if res.frame.empty and source == "auto":
            pub = _published_de_share(ws, territory, indicator)
            if not pub.frame.empty:
                pub.warnings = res.warnings + [{"code": "PUBLISHED_FALLBACK",
                                                "vi": "Không tính được chuỗi; dùng số công bố.",
                                                "en": "Nothing could be computed; the published series is used."}]
                return pub
        return res
    if indicator == "DE_SHARE":
        if source == "published":
            return _published_de_share(ws, territory)
        res = _computed_de_share(ws, territory, view=view, compute=compute, runs=runs)
        if res.frame.empty and source == "auto":
            pub = _published_de_share(ws, territory)
            pub.warnings = res.warnings + [{"code": "PUBLISHED_FALLBACK",
                                            "vi": "Không tính được chuỗi; dùng số công bố.",
                                            "en": "Nothing could be computed; the published series is used."}]
            return pub
        return res
    if panel is None:
        panel = _panel(ws, _panel_indicators([indicator]), [territory])
    return _from_panel(panel, territory, indicator)


# --- gaps ----------------------------------------------------------------------------------------
def _name(key: str, lang: str = "vi") -> str:
    t = terr.get_territory(key)
    return t.name_vi if lang == "vi" else t.name_en


def measured_on(target: Target, key: str, *, inherited: bool = False, against: str | None = None,
                convert_boundary: bool = False) -> tuple[str, str]:
    """(territory, indicator) of the series ``target`` is measured on when asked about ``key``:
    its own boundary and basis by default; ``key`` for a national target inherited by a
    province; the territory holding a carried-over target with ``convert_boundary``; the
    indicator ``against`` when asked."""
    if inherited:
        where = key
    elif target.converted and convert_boundary:
        where = target.territory
    else:
        where = target.boundary
    return where, (against or target.basis)


def _basis_warnings(target: Target, series_territory: str, series_indicator: str, *, inherited: bool,
                    convert_boundary: bool) -> list[dict]:
    """The warnings that say, on the row itself, when a target is measured on another basis or
    boundary than the one it was set on."""
    out: list[dict] = []
    if series_indicator != target.basis:
        out.append({"code": "BASIS_MISMATCH",
                    "vi": f"Mục tiêu {target.value:g} ({target.year}) được đặt trên {target.basis} "
                          f"({basis_label(target.basis, 'vi')}); ở đây so với {series_indicator} "
                          f"({basis_label(series_indicator, 'vi')}) theo yêu cầu (--against {series_indicator}): hai "
                          "cách đo chênh nhau nhiều điểm phần trăm, khoảng cách này trộn hai phương pháp.",
                    "en": f"The target {target.value:g} ({target.year}) was set on {target.basis} "
                          f"({basis_label(target.basis, 'en')}); it is compared here with {series_indicator} "
                          f"({basis_label(series_indicator, 'en')}) as asked (--against {series_indicator}): the two "
                          "measures differ by several percentage points, so this gap mixes methods."})
    if inherited or not target.converted:
        return out
    old, new = target.boundary, target.territory
    if series_territory == new:
        out.append({"code": "BOUNDARY_CONVERTED",
                    "vi": f"Mục tiêu đặt cho {old} ({_name(old, 'vi')}) trước sáp nhập 2025, đo trên {new} "
                          f"({_name(new, 'vi')}) theo quy đổi '{BOUNDARY_CONVERSION[0]}': {BOUNDARY_CONVERSION[1]}.",
                    "en": f"The target was set for {old} ({_name(old, 'en')}) before the 2025 merger and is measured on "
                          f"{new} ({_name(new, 'en')}) by the '{BOUNDARY_CONVERSION[0]}' conversion: "
                          f"{BOUNDARY_CONVERSION[2]}."})
    elif not convert_boundary:
        out.append({"code": "OLD_BOUNDARY",
                    "vi": f"Mục tiêu đặt cho {old} ({_name(old, 'vi')}) trước sáp nhập 2025 và đo trên chuỗi của ranh "
                          f"giới đó; muốn đo trên {new} thì yêu cầu quy đổi (--convert-boundary).",
                    "en": f"The target was set for {old} ({_name(old, 'en')}) before the 2025 merger and is measured on "
                          f"that boundary's series; to measure it on {new}, ask for the conversion (--convert-boundary)."})
    return out


def _row(target: Target, s: SeriesResult, *, model: str, level: float, inherited: bool,
         territory: str | None = None, convert_boundary: bool = False) -> dict:
    """One gap row: ``target`` measured on the series ``s``; ``territory``: the key the row is
    about (default: the target's own, or the series' for an inherited target)."""
    key = territory or (s.territory if inherited else target.territory)
    row = {k: None for k in GAP_FIELDS}
    row.update(indicator=target.indicator, territory=key, name=_name(key), target_value=target.value,
               target_year=target.year, comparison=target.comparison, direction=target.direction, source=s.source,
               illustrative=s.illustrative, target_source=target.source, target_url=target.url,
               confidence=target.confidence, carried_over=target.carried_over, inherited=inherited,
               basis=target.basis, boundary=target.boundary, series_indicator=s.indicator,
               series_territory=s.territory, basis_mismatch=s.indicator != target.basis,
               boundary_converted=(not inherited and target.converted and s.territory == target.territory),
               trend_model=model, level=level, sector=target.sector)
    row["warnings"] = _basis_warnings(target, s.territory, s.indicator, inherited=inherited,
                                      convert_boundary=convert_boundary) + list(s.warnings)
    f = s.frame
    if f.empty:
        row["error"] = s.empty_error or {"code": "NO_SERIES", "vi": f"Không có số liệu {s.indicator} cho {s.territory}.",
                                         "en": f"No {s.indicator} data for {s.territory}."}
        return row
    t = f.period.astype(int).to_numpy(dtype=float)
    y = f.value.to_numpy(dtype=float)
    if t.max() > target.year:
        # the target year is behind the latest data: judge it on the data up to the target year
        row["warnings"].append({"code": "TARGET_YEAR_PAST",
                                "vi": f"Năm mục tiêu {target.year} đã qua (số liệu đến {int(t.max())}); đánh giá bằng số liệu đến {target.year}.",
                                "en": f"The target year {target.year} has passed (data to {int(t.max())}); judged on data up to {target.year}."})
        keep = t <= target.year
        t, y = t[keep], y[keep]
        if len(t) == 0:
            row["error"] = {"code": "TARGET_BEFORE_DATA",
                            "vi": f"Không có số liệu đến năm mục tiêu {target.year}.",
                            "en": f"No data up to the target year {target.year}."}
            return row
    try:
        r = M.assess(t, y, target=target.value, target_t=float(target.year), comparison=target.comparison,
                     model=model, level=level)
    except MethodError as exc:
        row["error"] = {"code": exc.code, "vi": exc.vi, "en": exc.en}
        return row
    row.update(latest_value=r.latest_value, latest_period=str(int(r.latest_t)), gap=r.gap, relative_gap=r.relative_gap,
               required_cagr=r.required_cagr, trend_cagr=r.trend.cagr if r.trend else None,
               n_obs=r.trend.n if r.trend else int(len(t)),
               projected_value=r.projection.value if r.projection else None,
               projected_low=r.projection.low if r.projection else None,
               projected_high=r.projection.high if r.projection else None,
               probability=r.probability, status=r.status, years_behind=r.years_behind)
    row["warnings"] += r.warnings
    lo, hi = _bounds(s.indicator)
    for k in ("projected_value", "projected_low", "projected_high"):
        v = row[k]
        if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
            row[k] = min(max(v, lo if lo is not None else v), hi if hi is not None else v)
            if not any(w["code"] == "PROJECTION_CLIPPED" for w in row["warnings"]):
                row["warnings"].append({"code": "PROJECTION_CLIPPED",
                                        "vi": f"Dự báo theo xu hướng vượt khoảng [{lo}, {hi}] của chỉ tiêu; được cắt ở biên.",
                                        "en": f"The trend projection leaves the indicator's range [{lo}, {hi}]; cut at the bound."})
    return row


def _bounds(indicator: str) -> tuple[float | None, float | None]:
    try:
        return indicator_bounds(indicator)
    except (KeyError, ReferenceDataError):
        return None, None


def _answers(t: Target, indicator: str | None) -> bool:
    """A target answers ``--indicator I`` when I is its indicator or the basis it was set on."""
    return indicator is None or indicator in (t.indicator, t.basis)


def _applicable(targets: list[Target], key: str, indicator: str | None, inherit_national: bool) -> list[tuple[Target, bool]]:
    """The targets ``key`` holds (whatever boundary they were set on) and, with
    ``inherit_national``, the nation's for the indicators it has none of."""
    own = [t for t in targets if t.territory == key and _answers(t, indicator)]
    if key == terr.nation_key or not inherit_national:
        return [(t, False) for t in own]
    have = {t.indicator for t in own}
    nat = [t for t in targets if t.territory == terr.nation_key and t.indicator not in have and _answers(t, indicator)]
    return [(t, False) for t in own] + [(t, True) for t in nat]


def _check_against(ws: Workspace, against: str | None, indicator: str | None) -> None:
    if against is None:
        return
    if indicator is None:
        raise UsageError("AGAINST_NEEDS_INDICATOR",
                         f"--against {against} so sánh mục tiêu với một chuỗi khác cơ sở của nó; cần chọn chỉ tiêu "
                         "bằng --indicator (ví dụ --indicator DE_SHARE_MIC --against DE_SHARE).",
                         f"--against {against} compares targets with a series of another basis; choose the indicator "
                         "with --indicator (e.g. --indicator DE_SHARE_MIC --against DE_SHARE).")
    try:
        indicator_unit(against, ws.indicators())
    except ReferenceDataError as exc:
        raise UsageError(exc.code, exc.vi, exc.en) from exc


def _section_rows(target: Target, s: SeriesResult, *, model: str, level: float, inherited: bool, territory: str,
                  convert_boundary: bool, sector: str | None = None) -> list[dict]:
    """The rows of a target within sections (:data:`SECTORAL`) measured on the per-section
    series ``s``: one per section (``*``: every section the series has; else the target's, or
    ``sector`` when asked), each with the section's code and name and, on every row, how many
    of the sections meet the target (``sections_met`` of ``sections_total``)."""
    want = sector or target.sector
    secs = sorted(set(s.frame.sector)) if want == EACH_SECTION else [want]
    rows = []
    for sec in secs:
        part = s.frame[s.frame.sector == sec][["period", "value"]].reset_index(drop=True)
        sub = SeriesResult(s.territory, s.indicator, part, s.source, s.illustrative, list(s.warnings),
                           s.empty_error or {"code": "NO_SERIES",
                                             "vi": f"Không có số liệu {s.indicator} cho ngành {sec} của {s.territory}.",
                                             "en": f"No {s.indicator} data for section {sec} of {s.territory}."})
        row = _row(target, sub, model=model, level=level, inherited=inherited, territory=territory,
                   convert_boundary=convert_boundary)
        row.update(sector=sec, sector_name=section_name(sec, "vi") if sec != EACH_SECTION else None)
        rows.append(row)
    if not rows:  # nothing computed: one row that says why
        row = _row(target, SeriesResult(s.territory, s.indicator, s.frame.iloc[0:0][["period", "value"]], s.source,
                                        s.illustrative, list(s.warnings), s.empty_error),
                   model=model, level=level, inherited=inherited, territory=territory, convert_boundary=convert_boundary)
        rows.append(row)
    met = sum(r["status"] == "achieved" for r in rows)
    for r in rows:
        r.update(sections_met=met, sections_total=len(rows))
    return rows


def sector_summaries(rows: Sequence[dict]) -> list[dict]:
    """For each target within sections among ``rows``: how many sections meet it (``achieved``),
    how many are on track, at risk, off track or without data, of how many."""
    out: dict[tuple, dict] = {}
    for r in rows:
        if r.get("sections_total") is None:
            continue
        k = (r["territory"], r["indicator"], r["target_year"], r["basis"], r["series_territory"])
        d = out.setdefault(k, {"territory": r["territory"], "indicator": r["indicator"],
                               "target_year": r["target_year"], "comparison": r["comparison"],
                               "target_value": r["target_value"], "series_territory": r["series_territory"],
                               "sections_total": 0, "achieved": 0, "on_track": 0, "at_risk": 0, "off_track": 0,
                               "no_data": 0})
        d["sections_total"] += 1
        d[r["status"] or "no_data"] += 1
    return list(out.values())


def gaps(ws: Workspace, *, territory: str | Sequence[str] | None = None, indicator: str | None = None,
         source: str = "auto", view: str = "gso", model: str = "loglinear", level: float = 0.90,
         inherit_national: bool = False, compute: bool = True, against: str | None = None,
         convert_boundary: bool = False, labour: str = "core", progress: Progress | None = None) -> list[dict]:
    """One row per territory × target (fields :data:`GAP_FIELDS`), in registry order.
    ``progress`` (:mod:`kinhteso.progress`): reading, the accounts, one step per row.

    ``territory``: a key or keys (default: every territory with a target): the targets each
    holds, whatever boundary they were set on. ``indicator``: the targets whose indicator or basis
    it is. Each target is measured on its own basis and boundary (:func:`measured_on`);
    ``against``: on that indicator instead (needs ``indicator``; ``BASIS_MISMATCH`` on every row
    whose basis differs); ``convert_boundary``: a target carried over across the merger is
    measured on the territory holding it (``BOUNDARY_CONVERTED``). ``inherit_national``: a
    province without its own target for an indicator is measured against the national one (the
    row says ``inherited``). A target within sections (``DE_SHARE_SECTOR``) gives one row per
    section (:func:`sector_summaries` counts them); ``labour``: the method of a computed
    ``DE_LABOUR_SHARE``."""
    _check_source(source)
    _check_labour(labour)
    if model not in M.TREND_MODELS:
        raise UsageError("UNKNOWN_TREND_MODEL", f"Mô hình xu hướng '{model}' không có; dùng {', '.join(M.TREND_MODELS)}.",
                         f"Unknown trend model '{model}'; use one of {', '.join(M.TREND_MODELS)}.")
    if not 0.5 <= level < 1:
        raise UsageError("BAD_LEVEL", f"Mức tin cậy {level} phải trong [0,5; 1).", f"The level {level} must be in [0.5, 1).")
    targets = workspace_targets(ws)
    if indicator is not None and indicator not in {t.indicator for t in targets} | {t.basis for t in targets}:
        raise UsageError("NO_TARGET_FOR_INDICATOR", f"Không có mục tiêu nào cho chỉ tiêu {indicator}.",
                         f"No target exists for the indicator {indicator}.")
    _check_against(ws, against, indicator)
    keys = ([territory] if isinstance(territory, str) else list(territory)) if territory else \
        list(dict.fromkeys(t.territory for t in targets))
    pairs = [(k, t, inh, measured_on(t, k, inherited=inh, against=against, convert_boundary=convert_boundary))
             for k in keys for t, inh in _applicable(targets, k, indicator, inherit_national)]
    where = sorted({m[0] for *_, m in pairs})
    say, accounts = or_null(progress), span(progress, before=1, after=len(pairs))
    say(0, 1 + len(pairs), tr("Đọc mục tiêu và số liệu", "Reading the targets and the data"))
    panel = _panel(ws, _panel_indicators({m[1] for *_, m in pairs}), where) if pairs else None
    runs = None
    de_keys = sorted({m[0] for *_, m in pairs if m[1] == "DE_SHARE"})
    if source != "published" and len(de_keys) > 1:  # many territories: one computation, one read
        runs = _computed_shares(ws, de_keys, view=view, progress=accounts)[0] if compute else \
            _stored_shares(ws, view=view)
        compute = False
    pre = {}
    for ind in COMPUTED[1:]:  # many territories: one computation each
        ks = sorted({m[0] for *_, m in pairs if m[1] == ind})
        if source != "published" and len(ks) > 1:
            pre[ind] = _computed_many(ws, ks, ind, view=view, labour=labour)
    cache: dict[tuple[str, str], SeriesResult] = {}
    rows = []
    for i, (k, t, inh, m) in enumerate(pairs):
        say(accounts.end + i, accounts.end + len(pairs), tr(f"Khoảng cách: {k} {t.indicator}", f"Gap: {k} {t.indicator}"))
        if m not in cache:
            cache[m] = series(ws, m[0], m[1], source=source, view=view, compute=compute, panel=panel, runs=runs,
                              labour=labour, pre=pre.get(m[1]))
        if "sector" in cache[m].frame.columns:
            rows += _section_rows(t, cache[m], model=model, level=level, inherited=inh, territory=k,
                                  convert_boundary=convert_boundary)
            continue
        rows.append(_row(t, cache[m], model=model, level=level, inherited=inh, territory=k,
                         convert_boundary=convert_boundary))
    say(accounts.end + len(pairs), accounts.end + len(pairs), tr("Khoảng cách tới mục tiêu", "Gaps to the targets"))
    return rows


# --- plans ---------------------------------------------------------------------------------------
def _grdp_growth(ws: Workspace, key: str, year: int) -> tuple[float, str]:
    """Average nominal GRDP growth over the last three years to ``year`` (the default scenario)."""
    keys = [key, *(terr.predecessors_of(key) if key.startswith("34:") else ())]
    obs = ws.store.observations(indicator="GRDP", territory=keys, sector="_T", price_basis="current")
    obs = _annual(obs)
    if key.startswith("34:") and len(obs):
        obs, _ = to_basis34(obs, terr.merger_map(), additive={"GRDP": True})
    s = obs[obs.territory == key].set_index("period").value.sort_index()
    s = s[s.index <= str(year)].tail(4)
    if len(s) < 2:
        return 0.0, "none (no GRDP history): 0"
    g = (float(s.iloc[-1]) / float(s.iloc[0])) ** (1.0 / (len(s) - 1)) - 1.0
    return g, f"average nominal GRDP growth {s.index[0]}–{s.index[-1]}"


def _check_sector(indicator: str, sector: str | None) -> str | None:
    """The section a plan addresses: required for a :data:`SECTORAL` indicator (one section
    letter), refused for any other."""
    from kinhteso.reference import vsic  # noqa: PLC0415

    sections = [x.code for x in vsic.sectors() if x.level == "section"]
    if indicator in SECTORAL:
        if sector is None or sector == EACH_SECTION:
            raise UsageError("SECTOR_REQUIRED",
                             f"Kế hoạch cho {indicator} là kế hoạch của một ngành cấp 1: cho --sector, một trong "
                             f"{', '.join(sections)} (gaps --indicator {indicator} cho mọi ngành).",
                             f"A plan for {indicator} is the plan of one section: give --sector, one of "
                             f"{', '.join(sections)} (gaps --indicator {indicator} shows every section).")
        if sector not in sections:
            raise UsageError("BAD_SECTOR", f"--sector {sector}: không phải mã ngành cấp 1 VSIC 2018 ({', '.join(sections)}).",
                             f"--sector {sector}: not a VSIC 2018 section letter ({', '.join(sections)}).")
        return sector
    if sector not in (None, "_T"):
        raise UsageError("SECTOR_NOT_APPLICABLE",
                         f"{indicator} đo trên toàn nền kinh tế; --sector chỉ dùng cho {', '.join(SECTORAL)}.",
                         f"{indicator} is measured on the whole economy; --sector is for {', '.join(SECTORAL)} only.")
    return None


def plan(ws: Workspace, territory: str, indicator: str, target_year: int, *, target_value: float | None = None,
         growth: float | None = None, source: str = "auto", view: str = "gso", model: str = "loglinear",
         level: float = 0.90, against: str | None = None, convert_boundary: bool = False,
         sector: str | None = None, labour: str = "core", progress: Progress | None = None) -> dict:
    """The plan for one territory × indicator × target year: the gap row, the quarterly
    milestone path and, for the digital-economy share measured from the accounts, what each
    industry must contribute under a GRDP growth scenario (``growth``: annual nominal rate;
    default the territory's average over its last three years) and the core-growth alternative.

    The target: the registry's for that year; else ``target_value``; else the latest registry
    target of the territory and indicator, moved to ``target_year`` (a catch-up plan, flagged).
    It is measured like a gap (:func:`measured_on`): on its own basis and boundary unless
    ``against`` or ``convert_boundary`` ask otherwise, and the row says so.

    A within-section indicator (``DE_SHARE_SECTOR``) is planned for one ``sector`` (a section
    letter): the targets for each section (``*``) or for that one; the industry breakdown is
    then within the section (its divisions over the section's value added). ``progress``
    (:mod:`kinhteso.progress`): the series, then the industries' contributions."""
    say = or_null(progress)
    targets = workspace_targets(ws)
    _check_against(ws, against, indicator)
    _check_labour(labour)
    sector = _check_sector(indicator, sector)
    own = [t for t in targets if t.territory == territory and _answers(t, indicator)
           and (sector is None or t.sector in (EACH_SECTION, sector))]
    own.sort(key=lambda t: t.basis != indicator)  # a target on the basis asked for first
    warnings: list[dict] = []
    match = next((t for t in own if t.year == target_year), None)
    if target_value is not None or match is None:
        base = match or (max(own, key=lambda t: t.year) if own else None)
        if base is None and target_value is None:
            raise UsageError("NO_TARGET", f"{territory} không có mục tiêu {indicator}; thêm bằng `kinhteso target add` "
                             "hoặc cho --value.",
                             f"{territory} has no {indicator} target; add one with `kinhteso target add` or give --value.")
        if base is None:
            ind_units = indicator_unit(indicator, ws.indicators())
            base = Target(territory, indicator, target_year, float(target_value), ind_units[0], ">=", "higher",
                          "user (plan --value)", "", "low", origin="cli")
        elif match is None:
            warnings.append({"code": "RETIMED_TARGET",
                             "vi": f"Không có mục tiêu cho {target_year}; dùng mục tiêu {base.value:g} của năm {base.year}, dời tới {target_year}.",
                             "en": f"No target for {target_year}; the {base.year} target {base.value:g} is moved to {target_year}."})
        match = Target(**{**base.as_dict(), "year": int(target_year),
                          "value": float(target_value) if target_value is not None else base.value})
    where, ind = measured_on(match, territory, against=against, convert_boundary=convert_boundary)
    say(0, 2, tr(f"Chuỗi {ind} của {where}", f"The {ind} series of {where}"))
    s = series(ws, where, ind, source=source, view=view, labour=labour)
    say(1, 2, tr("Lộ trình và đóng góp của các ngành", "Milestones and the industries' contributions"))
    if "sector" in s.frame.columns:
        row = _section_rows(match, s, model=model, level=level, inherited=False, territory=territory,
                            convert_boundary=convert_boundary, sector=sector)[0]
        row.update(sections_met=None, sections_total=None)
    else:
        row = _row(match, s, model=model, level=level, inherited=False, convert_boundary=convert_boundary)
    out: dict = {"gap": row, "milestones": [], "sectors": [], "sector_summary": None, "core_alternative": None,
                 "growth": None, "warnings": warnings}
    if row["error"]:
        say(2, 2, tr("Kế hoạch", "Plan"))
        return out
    if row["status"] != "achieved" and int(row["latest_period"]) < target_year:
        path = M.milestone_path(row["latest_value"], row["latest_period"], match.value, target_year)
        out["milestones"] = path.to_dict(orient="records")
    elif row["status"] != "achieved":
        warnings.append({"code": "NO_TIME_LEFT", "vi": "Năm mục tiêu đã tới; không còn quý nào để lập lộ trình.",
                         "en": "The target year has come; no quarter is left for a path."})
    if ind in ("DE_SHARE", *SECTORAL) and s.source.startswith("computed") and row["status"] != "achieved":
        latest = row["latest_period"]
        inp, _, _ = PA.load_inputs(ws, where, latest)
        res = A.measure(inp, PA.hierarchy(), view=view)
        if growth is None:
            growth, how = _grdp_growth(ws, where, int(latest))
        else:
            how = "given"
        years = max(target_year - int(latest), 0)
        pieces, denom = res.pieces, res.grdp
        if ind in SECTORAL:  # within the section: its pieces over the section's value added
            pieces = pieces[pieces.section == sector].reset_index(drop=True)
            denom = float(pieces.va.sum())
        table, summary = M.sector_plan(pieces, denom, match.value, years=years, growth=growth)
        out["sectors"] = table.to_dict(orient="records")
        out["sector_summary"] = summary
        out["core_alternative"] = M.core_alternative(pieces, denom, match.value, years=years, growth=growth)
        out["growth"] = {"rate": growth, "basis": how}
        if view == "mic":
            warnings.append({"code": "PLAN_GSO_ARITHMETIC",
                             "vi": "Phân rã theo ngành dùng số học của cách đo GSO (lõi + số hóa), không phải của cách đo "
                                   "kiểu MIC (ICT + nền tảng + số hóa ngành, ước tính của kinhteso).",
                             "en": "The sector decomposition uses the GSO view's arithmetic (core + digitalised), not that "
                                   "of the MIC-style view (ICT + platforms + sectoral digitalisation, kinhteso estimate)."})
    elif ind in ("DE_SHARE", *SECTORAL) and row["status"] != "achieved":
        warnings.append({"code": "NO_SECTOR_PLAN",
                         "vi": "Chuỗi là số công bố; cần số liệu tài khoản (GRDP_VA theo ngành) để phân rã theo ngành.",
                         "en": "The series is published; the sector decomposition needs the accounts' inputs (GRDP_VA by industry)."})
    say(2, 2, tr("Kế hoạch", "Plan"))
    return out


# --- scenarios -------------------------------------------------------------------------------------
def _op_add(v: float, x: float, year: int) -> float:
    return v + x if year == 1 else v


def _op_set(v: float, x: float, year: int) -> float:
    return x if year == 1 else v


def _op_scale(v: float, x: float, year: int) -> float:
    return v * x if year == 1 else v


def _op_growth(v: float, x: float, year: int) -> float:
    return v * (1.0 + x)


def _op_step(v: float, x: float, year: int) -> float:
    return v + x


#: Scenario operations: spelling → (regex of the value, function(value, x, k-th simulated year)).
#: ``+d``/``-d`` add once (a level shift in the first simulated year), ``=v`` set once, ``*f``
#: scale once, ``growth:r`` compound every year, ``step:d`` add every year.
SCENARIO_OPS: dict[str, tuple[str, Callable[[float, float, int], float]]] = {
    "add": (r"^(?P<x>[+-]\d*\.?\d+(?:e-?\d+)?)$", _op_add),
    "set": (r"^=(?P<x>-?\d*\.?\d+(?:e-?\d+)?)$", _op_set),
    "scale": (r"^\*(?P<x>\d*\.?\d+(?:e-?\d+)?)$", _op_scale),
    "growth": (r"^growth:(?P<x>-?\d*\.?\d+(?:e-?\d+)?)$", _op_growth),
    "step": (r"^step:(?P<x>[+-]?\d*\.?\d+(?:e-?\d+)?)$", _op_step),
}
_SCENARIO_INDICATORS = ("DIGITAL_COEF", "GRDP_VA")


@dataclass(frozen=True)
class ScenarioSet:
    indicator: str
    sector: str
    op: str
    x: float
    text: str


def parse_set(text: str) -> ScenarioSet:
    """``DIGITAL_COEF:52=+0.05`` → ScenarioSet('DIGITAL_COEF', '52', 'add', 0.05); sector ``*``
    means every industry."""
    m = re.fullmatch(r"\s*([A-Z_]+):([0-9A-Z*_]+)=(.+?)\s*", text or "")
    if not m:
        raise UsageError("BAD_SET", f"--set '{text}' không đúng dạng CHỈ_TIÊU:NGÀNH=THAY_ĐỔI (ví dụ DIGITAL_COEF:52=+0.05).",
                         f"--set '{text}' is not INDICATOR:SECTOR=CHANGE (e.g. DIGITAL_COEF:52=+0.05).")
    ind, sector, spec = m.groups()
    if ind not in _SCENARIO_INDICATORS:
        raise UsageError("BAD_SET_INDICATOR", f"--set chỉ đổi được {', '.join(_SCENARIO_INDICATORS)}, không phải {ind}.",
                         f"--set can change {', '.join(_SCENARIO_INDICATORS)} only, not {ind}.")
    if sector not in ("*", "_T"):
        from kinhteso.reference import vsic  # noqa: PLC0415
        if sector not in {s.code for s in vsic.sectors()}:
            raise UsageError("BAD_SET_SECTOR", f"--set '{text}': ngành {sector} không có trong VSIC 2018.",
                             f"--set '{text}': sector {sector} is not in VSIC 2018.")
    for op, (rx, _) in SCENARIO_OPS.items():
        mm = re.fullmatch(rx, spec.strip())
        if mm:
            return ScenarioSet(ind, "*" if sector == "_T" else sector, op, float(mm.group("x")), text)
    raise UsageError("BAD_SET_CHANGE", f"--set '{text}': thay đổi '{spec}' không hiểu; dùng +0.05, -0.02, =0.3, *1.1, "
                     "growth:0.15 hoặc step:0.01.",
                     f"--set '{text}': change '{spec}' not understood; use +0.05, -0.02, =0.3, *1.1, growth:0.15 or step:0.01.")


def _matches(code: str, sector: str, h: A.Hierarchy) -> bool:
    return sector == "*" or code == sector or sector in h.ancestors(code)


def scenario(ws: Workspace, territory: str, sets: Sequence[str], *, until: int, start: str | None = None,
             view: str = "gso", grdp_growth: float | None = None) -> dict:
    """Recompute the accounts year by year from the latest year with inputs (or ``start``) to
    ``until`` under ``sets`` (:func:`parse_set`), with every other industry's value added
    growing at ``grdp_growth`` (default: the territory's average nominal GRDP growth over three
    years) and GRDP moving with total value added. Returns the path of the share with and
    without the changes (``baseline_share``)."""
    parsed = [parse_set(s) for s in sets]
    years = _input_years(ws, territory)
    if start is None:
        if not years:
            raise UsageError("NO_INPUTS", f"{territory}: không có GRDP_VA để mô phỏng.",
                             f"{territory}: no GRDP_VA to simulate from.")
        start = years[-1]
    if int(until) <= int(start):
        raise UsageError("BAD_UNTIL", f"--until {until} phải sau năm gốc {start}.", f"--until {until} must be after the base year {start}.")
    h = PA.hierarchy()
    inp, _, warns = PA.load_inputs(ws, territory, start)
    base = A.measure(inp, h, view=view)
    if grdp_growth is None:
        grdp_growth, how = _grdp_growth(ws, territory, int(start))
    else:
        how = "given"
    warnings = list(warns)
    # effective coefficient of every piece that has a digitalisable part (own > national, as measured)
    coef0 = base.pieces.set_index("code").coef.dropna().astype(float)
    clipped = [False]

    def run(active: Sequence[ScenarioSet]) -> list[dict]:
        va = inp.va.astype(float).copy()
        coef = coef0.copy()
        grdp = float(inp.grdp) if inp.grdp is not None else None
        rows = [{"year": int(start), "de_share": base.de_share, "de_va": base.de_va, "grdp": base.grdp}]
        for k, y in enumerate(range(int(start) + 1, int(until) + 1), start=1):
            prev_total = float(va.sum())
            rates = pd.Series(grdp_growth, index=va.index, dtype=float)
            for s in active:
                if s.indicator == "GRDP_VA" and s.op == "growth":
                    rates[[c for c in va.index if _matches(c, s.sector, h)]] = s.x
            va = va * (1.0 + rates)
            for s in active:
                if s.indicator == "GRDP_VA" and s.op != "growth":
                    sel = [c for c in va.index if _matches(c, s.sector, h)]
                    va[sel] = [SCENARIO_OPS[s.op][1](float(v), s.x, k) for v in va[sel]]
                elif s.indicator == "DIGITAL_COEF":
                    sel = [c for c in coef.index if _matches(c, s.sector, h)]
                    raw = [SCENARIO_OPS[s.op][1](float(v), s.x, k) for v in coef[sel]]
                    clipped[0] = clipped[0] or any(v < 0.0 or v > 1.0 for v in raw)
                    coef[sel] = [min(max(v, 0.0), 1.0) for v in raw]
            va = va.clip(lower=0.0)
            if grdp is not None:
                grdp = grdp * float(va.sum()) / prev_total if prev_total > 0 else grdp
            own = coef if inp.coef_own is None or inp.coef_own.empty else \
                pd.concat([inp.coef_own[~inp.coef_own.index.isin(coef.index)], coef])
            step = A.AccountInputs(va=va, grdp=grdp, coef_own=own, coef_nat=inp.coef_nat, alloc_own=inp.alloc_own,
                                   alloc_nat=inp.alloc_nat, platform=inp.platform, label=f"{territory} {y} (scenario)")
            r = A.measure(step, h, view=view)
            rows.append({"year": y, "de_share": r.de_share, "de_va": r.de_va, "grdp": r.grdp})
        return rows

    path = pd.DataFrame(run(parsed))
    baseline = pd.DataFrame(run([]))
    path["baseline_share"] = baseline.de_share.values
    if clipped[0]:
        warnings.append({"code": "COEF_CLIPPED_0_1", "vi": "Một số hệ số số hóa vượt khoảng 0–1 và được cắt ở biên.",
                         "en": "Some digitalisation coefficients left 0–1 and were cut at the bound."})
    return {"territory": territory, "view": view, "start": str(start), "until": int(until),
            "sets": [s.__dict__ for s in parsed], "grdp_growth": {"rate": grdp_growth, "basis": how},
            "path": path, "warnings": warnings, "illustrative": _illustrative(ws, territory)}


def _illustrative(ws: Workspace, key: str) -> bool:
    keys = [key, *(terr.predecessors_of(key) if key.startswith("34:") else ())]
    obs = ws.store.observations(indicator="GRDP_VA", territory=keys)
    return bool(obs.illustrative.any()) if len(obs) else False


# --- peers ---------------------------------------------------------------------------------------
def peers(ws: Workspace, *, year: str | None = None, view: str = "gso", indicators: Sequence[str] = _PEER_INDICATORS,
          compute: bool = True, progress: Progress | None = None) -> pd.DataFrame:
    """Percentiles of the 34 provinces per indicator (latest ``year`` on the 34 basis, default
    the latest year with GRDP on it), within all and within the peer group (quartile of GRDP per
    person), strengths (top quartile), weaknesses (bottom quartile) and whom to learn from.
    ``progress`` (:mod:`kinhteso.progress`): reading, then one step per indicator."""
    say, total = or_null(progress), 2 + len(indicators)
    say(0, total, tr("Đọc số liệu", "Reading the data"))
    keys = [t.key for t in terr.territories() if t.basis == 34]
    if year is None:
        g = ws.store.observations(indicator="GRDP", territory=keys, sector="_T")
        g = _annual(g)
        if g.empty:
            raise UsageError("NO_34_DATA", "Không có GRDP nào trên ranh giới 34 tỉnh để so sánh.",
                             "No GRDP on the 34-province boundaries to compare.")
        year = g.period.max()
    panel = _panel(ws, sorted({*_panel_indicators(indicators), "GRDP", "POPULATION"}), keys)
    rows = []
    for i, ind in enumerate(indicators):
        say(1 + i, total, tr(f"Chỉ tiêu {ind}", f"Indicator {ind}"))
        if ind == "DE_SHARE":
            rv = _stored_shares(ws, view=view)
            rv = rv[(rv.period == year) & rv.territory.isin(keys) & (rv.sector == "_T")]
            if compute and len(rv) < len(keys):  # computed in memory, nothing stored
                res = PA.measure_many(ws, keys, [year], [view])
                rv = pd.DataFrame([{"territory": r.territory, "value": r.result.de_share} for r in res if r.result],
                                  columns=["territory", "value"])
            rows += [{"territory": r.territory, "indicator": ind, "value": r.value} for r in rv.itertuples()]
            continue
        for k in keys:
            f = _from_panel(panel, k, ind).frame
            f = f[f.period == year]
            if len(f):
                rows.append({"territory": k, "indicator": ind, "value": float(f.value.iloc[0])})
    say(total - 1, total, tr("Phân vị và nhóm ngang hàng", "Percentiles and peer groups"))
    frame = pd.DataFrame(rows, columns=["territory", "indicator", "value"])
    gdp = panel[(panel.indicator == "GRDP") & (panel.period == year)].set_index("territory").value
    pop = panel[(panel.indicator == "POPULATION") & (panel.period == year)].set_index("territory").value
    per = (gdp / pop * 1000.0).dropna()  # million đồng per person (GRDP in billion đồng)
    if len(per) >= 4:
        groups = pd.qcut(per.rank(method="first"), 4, labels=["G1", "G2", "G3", "G4"]).astype(str)
    else:
        groups = pd.Series("all", index=per.index)
    groups = groups.reindex(keys).fillna("all")
    out = M.peer_summary(frame, groups, {i: "higher" for i in indicators})
    if len(out):
        out["grdp_per_person"] = out.territory.map(per)
        out["year"] = year
        # a province's row is illustrative when any of its figures for the year are (demo data)
        demo = panel[panel.period == year].groupby("territory").illustrative.max()
        out["illustrative"] = out.territory.map(demo).fillna(False).astype(bool)
    say(total, total, tr("So sánh ngang hàng", "Peers"))
    return out
