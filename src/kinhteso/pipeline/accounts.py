"""The accounts pipeline: choose inputs from the store, run :mod:`kinhteso.methods.accounts`,
record provenance, store the run.

Inputs for a territory and period: ``GRDP_VA`` (current prices) and ``GRDP``; for a 34-basis
territory and a period reported on the 63 basis, both are summed over the old provinces (shares
are recomputed from these sums, never averaged). ``DIGITAL_COEF`` and ``ALLOC_RATIO``: the
territory's own for the period, else for the period's year; the nation's likewise; a coefficient
of an earlier year is carried forward only with a warning. ``PLATFORM_VA`` for the MIC-style view (a kinhteso estimate).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from kinhteso import __version__
from kinhteso.domain import FIRST_YEAR, MERGER_DATE, MERGER_YEAR
from kinhteso.errors import MethodError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.methods.merger import to_basis34
from kinhteso.i18n import tr
from kinhteso.periods import period as strict_period
from kinhteso.progress import Progress, or_null
from kinhteso.reference import territories as terr
from kinhteso.reference import vsic
from kinhteso.store import RunRecord
from kinhteso.workspace import Workspace

__all__ = ["MeasureResult", "measure", "measure_many", "load_inputs", "hierarchy", "reconcile", "territories_for",
           "INPUT_INDICATORS", "previous_period", "save", "run_record", "result_rows",
           # the accounts' own choice of inputs, shared by the pipelines that must choose them the
           # same way (breakdowns by ownership and at constant prices, digital-economy labour)
           "read_inputs", "territory_frames", "Rows", "input_series", "territory_inputs",
           "note_national_fallback", "default_core"]

_BASE_INPUTS = ("GRDP_VA", "GRDP", "DIGITAL_COEF", "ALLOC_RATIO", "PLATFORM_VA")
#: value added by ownership type (``measure --by ownership``; :mod:`kinhteso.pipeline.breakdowns`)
OWNERSHIP_INDICATORS = {"state": "GRDP_VA_STATE", "nonstate": "GRDP_VA_NONSTATE", "fdi": "GRDP_VA_FDI"}
#: the constant-price inputs (``measure --prices constant``): deflators, and GRDP_VA and GRDP
#: submitted at constant 2010 prices, read as ``<indicator>@constant_2010``
CONSTANT_BASIS = "constant_2010"
INPUT_INDICATORS = (*_BASE_INPUTS, *OWNERSHIP_INDICATORS.values(), "VA_DEFLATOR")
#: how a share at constant prices is labelled wherever it is shown
CONSTANT_SHARE_LABEL = {"vi": "tỷ trọng theo giá so sánh 2010 (không phải tỷ trọng chính thức, tính theo giá hiện hành)",
                        "en": "share at constant 2010 prices (not the official share, which is at current prices)"}
_ADDITIVE = {"GRDP_VA": True, "GRDP": True, "PLATFORM_VA": True, **{i: True for i in OWNERSHIP_INDICATORS.values()},
             f"GRDP_VA@{CONSTANT_BASIS}": True, f"GRDP@{CONSTANT_BASIS}": True}


@dataclass
class MeasureResult:
    territory: str
    period: str
    view: str
    result: A.AccountResult | None
    warnings: list[dict] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    growth: float | None = None
    change: dict | None = None
    error: dict | None = None
    price_basis: str = "current"      #: of ``result``: current, or constant_2010 (``measure --prices constant``)
    real: dict | None = None          #: real growth and the current-price figures (constant prices only)
    ownership: dict | None = None     #: the ownership breakdown (``measure --by ownership``)
    #: the DE share's and value added's interval from the e-invoice bootstrap (:func:`_einvoice_interval`)
    interval: dict | None = None

    def as_json(self) -> dict:
        r = self.result
        out = {"territory": self.territory, "period": self.period, "view": self.view,
               "basis": self.provenance.get("basis", "estimated"), "price_basis": self.price_basis,
               "grdp": r.grdp if r else None, "de_va": r.de_va if r else None, "de_share": r.de_share if r else None,
               "components": r.components if r else {},
               "by_sector": (r.by_sector[["sector", "de_va", "contribution_pp"]].to_dict(orient="records") if r else []),
               "by_section": (r.by_section[["section", "de_va", "contribution_pp"]].to_dict(orient="records") if r else []),
               "nominal_growth": self.growth, "change": self.change,
               "warnings": self.warnings, "provenance": self.provenance}
        if r is not None and getattr(r, "bridge", None):
            out["bridge"] = r.bridge
        if r is not None and self.interval is not None:
            out["de_share_interval"] = self.interval["de_share"]
            out["de_va_interval"] = self.interval["de_va"]
            out["interval"] = {k: v for k, v in self.interval.items() if k not in ("de_share", "de_va")}
        if self.price_basis != "current":
            out["de_share_label"] = CONSTANT_SHARE_LABEL
        if self.real is not None:
            out.update(self.real)
        if self.ownership is not None:
            out["ownership"] = self.ownership
        if self.error:
            out["error"] = self.error
        return out


def hierarchy() -> A.Hierarchy:
    """The VSIC tree of the accounts: VSIC 2018 codes as they are and VSIC 2025 codes under
    their store prefix (``v2025:K``), one tree below the shared ``_T``."""
    return A.hierarchy_from(
        (vsic.key(s.code, v), None if s.parent is None else vsic.key(s.parent, v), s.level)
        for v in vsic.VERSIONS for s in vsic.sectors(v))


def _other_version_inputs(version: int, inputs: dict[str, tuple[pd.Series, ...]], warnings: list, label: str) -> None:
    """``VSIC_VERSION_INPUTS``: coefficients coded only in the other VSIC version than the value
    added's (they are looked up by code, so they do not apply)."""
    for name, series in inputs.items():
        codes = [c for s in series if s is not None for c in s.index if c != vsic.TOTAL]
        if codes and all(vsic.version_of(c) != version for c in codes):
            warnings.append({
                "code": "VSIC_VERSION_INPUTS",
                "vi": f"{label}: giá trị tăng thêm mã VSIC {version} nhưng {name} chỉ có mã của phiên bản VSIC khác; "
                      f"hệ số đó không được dùng (hãy nộp {name} mã VSIC {version}).",
                "en": f"{label}: value added is coded in VSIC {version} but {name} only in the other VSIC version; "
                      f"it is not used (submit {name} coded in VSIC {version})."})


def default_core(view: str, version: int) -> list[str]:
    """The view's core list in the VSIC version of the data, as store keys."""
    return [vsic.key(c, version) for c in A.CORE_BY_VERSION[version][view]]


def _vsic_choice(rows: Rows, period: str, series: dict[str, pd.Series], warnings: list,
                 label: str) -> tuple[dict[str, pd.Series], int]:
    """One VSIC version for a territory-period: that of its value added; when both versions are
    there, the version of the latest vintage (warning ``VSIC_MIXED``), never both (no double
    count). ``series`` (value added, platform value added) keep that version's codes and ``_T``."""
    versions = sorted({vsic.version_of(c) for c in series["va"].index} - {None})
    version = versions[0] if versions else vsic.DEFAULT_VERSION
    if len(versions) > 1:
        f = rows.get("GRDP_VA", period)
        f = f[f.sector != vsic.TOTAL]
        order = [c for c in ("received_at", "vintage_id") if c in f]
        version = vsic.version_of(f.sort_values(order).sector.iloc[-1]) if order else max(vsic.VERSIONS)
        warnings.append({
            "code": "VSIC_MIXED",
            "vi": f"{label}: giá trị tăng thêm có cả mã VSIC 2018 và VSIC 2025; chỉ dùng VSIC {version} (phiên bản "
                  f"nộp sau cùng), không cộng hai hệ thống ngành.",
            "en": f"{label}: value added is coded in both VSIC 2018 and VSIC 2025; only VSIC {version} (the latest "
                  f"vintage) is used, the two classifications are never added up."})
    keep = {k: s[[vsic.version_of(c) in (None, version) for c in s.index]] if len(s) else s for k, s in series.items()}
    return keep, version


def previous_period(period: str) -> str:
    """The same period a year earlier: ``2024`` → ``2023``, ``2024-Q3`` → ``2023-Q3``."""
    return f"{int(period[:4]) - 1}{period[4:]}"


def _year(period: str) -> str:
    return period[:4]


def read_inputs(ws: Workspace, periods: Sequence[str], as_of=None, coef_source: str | None = None,
          territories: Sequence[str] | None = None, *, prices: str = "current", ownership: bool = False) -> pd.DataFrame:
    """One read of every input: the submissions, and the coefficients kinhteso estimated
    (results of kind ``coef``, named ``kinhteso:<method>`` as their source). ``coef_source``
    keeps only DIGITAL_COEF of that source (an estimator: ``kinhteso:io``,
    ``kinhteso:calibration``; an agency; ``demo``). ``territories``: only these keys' rows
    (all when None). ``prices="constant"`` adds the deflators and the inputs submitted at
    constant 2010 prices (as ``GRDP_VA@constant_2010``, ``GRDP@constant_2010``); ``ownership``
    adds the value added by ownership type."""
    years = sorted({_year(p) for p in periods})
    all_years = [str(y) for y in range(FIRST_YEAR, int(max(years)) + 1)]
    wanted = sorted(set(periods) | set(all_years))
    where = {"territory": list(territories)} if territories is not None else {}
    indicators = [*_BASE_INPUTS, *(OWNERSHIP_INDICATORS.values() if ownership else ()),
                  *(("VA_DEFLATOR",) if prices == "constant" else ())]
    obs = ws.store.observations(indicator=indicators, period=wanted, price_basis="current", as_of=as_of, **where)
    if prices == "constant":
        const = ws.store.observations(indicator=["GRDP_VA", "GRDP"], period=wanted, price_basis=CONSTANT_BASIS,
                                      as_of=as_of, **where)
        if len(const):
            obs = pd.concat([obs, const.assign(indicator=const.indicator + f"@{CONSTANT_BASIS}")], ignore_index=True)
    est = ws.store.results(kind="coef", indicator=["DIGITAL_COEF", "ALLOC_RATIO", EINVOICE_SHARE], period=wanted,
                           price_basis="current", as_of=as_of, **where)
    if len(est):
        # ALLOC_RATIO and the online shares among the results: the e-invoice estimates' only (method
        # einvoice-share; a share row of each section tells a province's run apart even with no coefficient)
        est = est[(est["indicator"] == "DIGITAL_COEF") | ((est["method"] == EINVOICE_METHOD) & (
            (est["indicator"] == "ALLOC_RATIO") | est["sector"].isin(_SECTIONS)))]
    if len(est):
        est = est.assign(source="kinhteso:" + est["method"], received_at=est["computed_at"], vintage_id=pd.NA,
                         backcast=False)
        # a province's process-digitalisation coefficients (section H's from its logistics records,
        # the other declared sections' from theirs) and its e-invoice estimates supplement its own
        # coefficients and ratios, read apart (territory_inputs): they never compete with them for the
        # latest source
        est["indicator"] = _supplement_indicators(est)
        est = est[[*obs.columns, "run_id", "parameters"]] if len(obs.columns) else est
        obs = pd.concat([obs, est], ignore_index=True) if len(obs) else est
    if coef_source:
        coef = obs[(obs.indicator == "DIGITAL_COEF") & (obs.source == coef_source)]
        if coef.empty:
            raise UsageError(
                "NO_COEF_SOURCE",
                f"Không có hệ số DIGITAL_COEF nào từ nguồn '{coef_source}'.",
                f"No DIGITAL_COEF from source '{coef_source}'.",
            )
        # only that source's coefficients: without the process-digitalisation supplements
        obs = pd.concat([obs[~obs.indicator.str.startswith("DIGITAL_COEF")], coef], ignore_index=True)
    return obs


def territory_frames(obs: pd.DataFrame, keys: Sequence[str], mapping: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each territory's rows; 34-basis keys get their old provinces' additive sums where needed
    (one conversion for all of them)."""
    keys = list(dict.fromkeys(keys))
    new = [k for k in keys if k.startswith("34:")]
    out = {}
    if new:
        m = mapping[mapping.new_key.isin(new)]
        part = obs[obs.territory.isin(new) | obs.territory.isin(m.old_key)]
        conv, _ = to_basis34(part, m, additive=_ADDITIVE)
        for k, g in conv[conv.territory.isin(new)].groupby("territory"):
            out[k] = g
    for k in keys:
        if k not in out:
            out[k] = obs[obs.territory == k] if not k.startswith("34:") else obs.iloc[0:0]
    return out


class Rows:
    """One territory's observations, grouped once by (indicator, period) for fast look-ups."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.groups = {k: g for k, g in frame.groupby(["indicator", "period"], sort=False)} if len(frame) else {}
        self.illustrative = bool(frame["illustrative"].fillna(False).any()) if "illustrative" in frame else False
        self.derived = sorted({d for d in frame.get("derived_from", pd.Series(dtype=str)).dropna() if d})

    def get(self, indicator: str, period: str) -> pd.DataFrame | None:
        return self.groups.get((indicator, period))

    def annual_periods(self, indicator: str) -> list[str]:
        return sorted(p for (i, p) in self.groups if i == indicator and len(p) == 4)


_EMPTY = Rows(pd.DataFrame())


def input_series(rows: Rows, indicator: str, period: str, *, one_source: bool = False) -> tuple[pd.Series, list[int]]:
    """Values by sector. With ``one_source`` (coefficients) only the rows of the source of the
    most recent vintage are kept: an estimate set is used whole, never mixed with another's."""
    f = rows.get(indicator, period)
    if f is None:
        return pd.Series(dtype=float), []
    if one_source and "source" in f and f.source.nunique() > 1:
        latest = f.sort_values(["received_at", "vintage_id"]).source.iloc[-1]
        f = f[f.source == latest]
    vids: list = [int(v) for v in f.vintage_id.dropna().unique()] if "vintage_id" in f else []
    if "run_id" in f:
        vids += sorted(str(r) for r in f.run_id.dropna().unique())
    return pd.Series(f["value"].to_numpy(dtype=float), index=f["sector"].to_numpy()), vids


def _coef(rows: Rows, indicator: str, period: str, warnings: list, label: str, who: str) -> tuple[pd.Series, str | None, list[int]]:
    """Coefficients for the period, else its year, else the latest earlier year (with a warning)."""
    for p in dict.fromkeys([period, _year(period)]):
        s, vids = input_series(rows, indicator, p, one_source=True)
        if len(s):
            return s, p, vids
    earlier = [p for p in rows.annual_periods(indicator) if p < _year(period)]
    if earlier:
        latest = earlier[-1]
        s, vids = input_series(rows, indicator, latest, one_source=True)
        warnings.append({
            "code": "COEF_CARRIED_FORWARD",
            "vi": f"{label}: {indicator} ({who}) của {latest} được dùng cho {period} (chưa có số liệu mới hơn).",
            "en": f"{label}: {indicator} ({who}) of {latest} is used for {period} (nothing more recent).",
        })
        return s, latest, vids
    return pd.Series(dtype=float), None, []


def territory_inputs(rows: Rows, nation: Rows, key: str, period: str, warnings: list) -> tuple[A.AccountInputs, dict]:
    label = f"{key} {period}"
    va, v1 = input_series(rows, "GRDP_VA", period)
    grdp_s, v2 = input_series(rows, "GRDP", period)
    grdp = float(grdp_s.get("_T")) if "_T" in grdp_s.index else None
    own = rows if key != "VN" else _EMPTY
    coef_own, p_co, v3 = _coef(own, "DIGITAL_COEF", period, warnings, label, "own")
    coef_nat, p_cn, v4 = _coef(nation, "DIGITAL_COEF", period, warnings, label, "national")
    alloc_own, p_ao, v5 = _coef(own, "ALLOC_RATIO", period, warnings, label, "own")
    alloc_nat, p_an, v6 = _coef(nation, "ALLOC_RATIO", period, warnings, label, "national")
    # precedence: the province's own submitted figures › its e-invoice estimates › its process records' › the nation's
    coef_own, alloc_own, einvoice, v10 = _einvoice_supplement(own, coef_own, coef_nat, alloc_own, period, warnings,
                                                              label)
    estimated = {c: "einvoice" for c in (einvoice or {}).get("coefficients", {})}
    supplements, v9 = {}, list(v10)
    for spec in _process_sections().values():
        coef_own, info, ids = _process_supplement(own, coef_own, coef_nat, spec, period, warnings, label,
                                                  estimated=estimated)
        if info is not None:
            supplements[spec.section] = info
            v9 += ids
    platform, v7 = input_series(rows, "PLATFORM_VA", period)
    chosen, vsic_version = _vsic_choice(rows, period, {"va": va, "platform": platform}, warnings, label)
    va, platform = chosen["va"], chosen["platform"]
    _other_version_inputs(vsic_version, {"DIGITAL_COEF": (coef_own, coef_nat), "ALLOC_RATIO": (alloc_own, alloc_nat)},
                          warnings, label)
    # the nation's value added by industry: a chained allocation's step without a ratio borrows its structure
    va_nat, v8 = input_series(nation, "GRDP_VA", period) if key != "VN" else (va, [])
    inp = A.AccountInputs(va=va, grdp=grdp, coef_own=coef_own, coef_nat=coef_nat, alloc_own=alloc_own,
                          alloc_nat=alloc_nat, platform=platform, label=label, va_nat=va_nat)
    ids = {*v1, *v2, *v3, *v4, *v5, *v6, *v7, *v8, *v9}
    prov = {
        "input_vintages": sorted(i for i in ids if isinstance(i, int)),
        "input_runs": sorted(i for i in ids if isinstance(i, str)),
        "coefficient_periods": {"own": p_co, "national": p_cn},
        "allocation_periods": {"own": p_ao, "national": p_an},
        "summed_from_63_basis": rows.derived,
        "illustrative": rows.illustrative or nation.illustrative,
        "vsic_version": vsic_version,
    }
    if supplements:
        prov["process_coefs"] = supplements
    if einvoice is not None:
        prov["einvoice"] = einvoice
    if "H" in supplements:
        prov["logistics_coef"] = supplements["H"]
    return inp, prov


#: How the accounts name a province's logistics coefficient (section H) among their inputs (read
#: apart from its own DIGITAL_COEF; :mod:`kinhteso.pipeline.coefficients`, method ``logistics-process``);
#: each declared section's is ``DIGITAL_COEF@<name>`` (``reference/data/process_coefficients.yaml``).
LOGISTICS_COEF = "DIGITAL_COEF@logistics"
LOGISTICS_METHOD = "logistics-process"
#: A province's e-invoice estimates (:mod:`kinhteso.pipeline.einvoice`, method ``einvoice-share``):
#: read as ``DIGITAL_COEF@einvoice`` and ``ALLOC_RATIO@einvoice``, apart from its own.
EINVOICE_METHOD = "einvoice-share"
EINVOICE_SUFFIX = "@einvoice"
EINVOICE_SHARE = "EINVOICE_ONLINE_SHARE"
_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRSTU")


def _process_sections() -> dict:
    from kinhteso.reference.process_coef import process_sections  # noqa: PLC0415

    return process_sections()


def _supplement_indicators(est: pd.DataFrame) -> pd.Series:
    """The accounts' name of each estimated coefficient row: ``DIGITAL_COEF`` for an estimate of the
    province's (or the nation's) coefficients, ``DIGITAL_COEF@<name>`` for a run of a declared
    section's process-digitalisation method (its section found from the row's code)."""
    specs = _process_sections()
    methods = {s.method for s in specs.values()}
    hit = est["method"].isin(methods)
    einv = est["method"] == EINVOICE_METHOD
    out = est["indicator"].copy()
    if einv.any():
        out.loc[einv] = out.loc[einv] + EINVOICE_SUFFIX
    if not hit.any():
        return out
    h = _tree()
    by_key = {k: s.input_name for s in specs.values() for k in s.keys}
    names = [by_key.get(h.section(str(c)), "DIGITAL_COEF@process") for c in est.loc[hit, "sector"]]
    out.loc[hit] = names
    return out


@functools.cache
def _tree() -> A.Hierarchy:
    return hierarchy()


def _process_supplement(own: Rows, coef_own: pd.Series, coef_nat: pd.Series, spec, period: str,
                        warnings: list, label: str, estimated: dict | None = None) -> tuple[pd.Series, dict | None, list]:
    """The province's process-digitalisation coefficient of one declared section (``spec``: H from its
    logistics records, Q, P, F from its sector departments' records), where it has one: the stored
    run's factor m (:func:`kinhteso.methods.logistics_coef.process_coefficient`) applied to the
    national coefficients in force at or under the section (its VSIC 2018 and VSIC 2025 keys),
    min(max(d_nat·m, 0), 1), added to the province's own coefficients only at the codes none of its
    own covers (at the code or above it): a coefficient the province submitted, or another estimate
    of its own, is never shadowed. Returns (the province's coefficients, what was done for the note,
    the run read); a note (``spec.note``: ``LOGISTICS_COEF`` for H, ``PROCESS_COEF`` for the others,
    vi/en, naming the section) says which coefficient the section uses and why."""
    name = spec.input_name
    if own is _EMPTY or own.get(name, period) is None and not own.annual_periods(name):
        return coef_own, None, []
    sec = spec.section
    est, p_est, ids = _coef(own, name, period, warnings, label, spec.name)
    if not len(est):
        return coef_own, None, []
    f = own.get(name, p_est)
    params = f["parameters"].iloc[-1] if "parameters" in f else None
    params = json.loads(params) if isinstance(params, str) else (params or {})
    factor = float(params.get("factor", 1.0))
    h = _tree()
    section = spec.keys
    nat = {str(c): float(v) for c, v in coef_nat.items() if str(c) in section or h.section(str(c)) in section}
    mine = {str(c) for c in coef_own.index}
    covered = {c for c in nat if c in mine or mine.intersection(h.ancestors(c))}
    mine_h = sorted(c for c in mine if c in section or h.section(c) in section)
    added = {c: min(max(v * factor, 0.0), 1.0) for c, v in nat.items() if c not in covered}
    run = str(f["run_id"].iloc[-1]) if "run_id" in f else None
    info = {"section": sec, "source": spec.name, "run_id": run, "period": p_est, "factor": factor,
            "index_pct": params.get("index_pct"), "reference_pct": params.get("reference_pct"),
            "reference": params.get("reference"), "elasticity": params.get("elasticity"), "coefficients": added,
            "national": nat, "own_kept": mine_h, "stored": {str(c): float(v) for c, v in est.items()}}
    idx, ref = params.get("index_pct"), params.get("reference_pct")
    why_en = (f"process-digitalisation index {idx:.1f} against the reference {ref:.1f}" if idx is not None and
              ref is not None else f"the province's {spec.records_en}")
    why_vi = (f"chỉ số số hóa quy trình {idx:.1f} so với mức tham chiếu {ref:.1f}" if idx is not None and
              ref is not None else f"{spec.records_vi} của tỉnh")
    if added:
        coef_own = pd.concat([coef_own, pd.Series(added, dtype=float)]) if len(coef_own) else pd.Series(added,
                                                                                                            dtype=float)
        vals = "; ".join(f"{c} = {nat[c]:.4f} × {factor:.4f} = {v:.4f}" for c, v in added.items())
        kept_en = f"; the province's own DIGITAL_COEF of {', '.join(mine_h)} is kept" if mine_h else ""
        kept_vi = f"; giữ DIGITAL_COEF riêng của tỉnh cho {', '.join(mine_h)}" if mine_h else ""
        warnings.append({
            "code": spec.note,
            "vi": f"{label}: ngành {spec.vi} ({sec}) dùng hệ số số hóa ước tính từ {spec.records_vi} của tỉnh "
                  f"(hệ số cả nước × hệ số nhân, {why_vi}; lần chạy {run}): {vals}{kept_vi}.",
            "en": f"{label}: {spec.en} ({sec}) uses a digitalisation coefficient estimated from the "
                  f"province's {spec.records_en} (national coefficient × factor, {why_en}; run {run}): {vals}{kept_en}.",
            "sectors": sorted(added), "run_id": run, "section": sec})
    elif nat and set(mine_h) <= set(estimated or {}):
        src = sorted({(estimated or {})[c] for c in mine_h})
        warnings.append({
            "code": f"{spec.note}_NOT_USED",
            "vi": f"{label}: ngành {sec} dùng hệ số ước tính từ hóa đơn điện tử của tỉnh ({', '.join(mine_h)}), ưu tiên "
                  f"hơn hệ số ước tính từ {spec.records_vi} (lần chạy {run}).",
            "en": f"{label}: section {sec} uses the province's e-invoice estimate ({', '.join(mine_h)}), which takes "
                  f"precedence over the estimate from its {spec.records_en} (run {run}).",
            "sectors": mine_h, "run_id": run, "section": sec, "kept": src})
    elif nat:
        warnings.append({
            "code": f"{spec.note}_NOT_USED",
            "vi": f"{label}: tỉnh đã có DIGITAL_COEF riêng của ngành {sec} ({', '.join(mine_h)}); hệ số ước tính từ "
                  f"{spec.records_vi} (lần chạy {run}) không thay thế số đó.",
            "en": f"{label}: the province has its own DIGITAL_COEF of section {sec} ({', '.join(mine_h)}); the estimate "
                  f"from its {spec.records_en} (run {run}) does not replace it.",
            "sectors": mine_h, "run_id": run, "section": sec})
    return coef_own, info, ids


def _logistics_supplement(own: Rows, coef_own: pd.Series, coef_nat: pd.Series, key: str, period: str,
                          warnings: list, label: str) -> tuple[pd.Series, dict | None, list]:
    """:func:`_process_supplement` of section H (transport and storage; note ``LOGISTICS_COEF``)."""
    return _process_supplement(own, coef_own, coef_nat, _process_sections()["H"], period, warnings, label)


def _einvoice_supplement(own: Rows, coef_own: pd.Series, coef_nat: pd.Series, alloc_own: pd.Series, period: str,
                         warnings: list, label: str) -> tuple[pd.Series, pd.Series, dict | None, list]:
    """The province's e-invoice estimates (:mod:`kinhteso.pipeline.einvoice`) where it has them: each
    section's stored factor m (its online share / the pooled share) applied to the national
    coefficients in force at or under the section (VSIC 2018 keys), min(max(d_nat·m, 0), 1), added to
    the province's own coefficients at the codes none of its own covers; its ``ALLOC_RATIO`` estimates
    added at the codes it has no ratio of its own. Notes ``EINVOICE_COEF`` (vi/en: each section's share,
    interval, sellers and factor), ``EINVOICE_FALLBACK`` (the sections under the minimum of sellers,
    each with its count: the national coefficient, or the process estimate, applies),
    ``EINVOICE_ALLOC``. Returns (coefficients, ratios, what was done, the run read)."""
    name = EINVOICE_SHARE + EINVOICE_SUFFIX  # every e-invoice run holds its sections' shares
    if own is _EMPTY or (own.get(name, period) is None and not own.annual_periods(name)):
        return coef_own, alloc_own, None, []
    _, p_est, ids = _coef(own, name, period, warnings, label, "e-invoice")
    f = own.get(name, p_est) if p_est else None
    if f is None or "parameters" not in f:
        return coef_own, alloc_own, None, []
    params = f["parameters"].iloc[-1]
    params = json.loads(params) if isinstance(params, str) else (params or {})
    run = str(f["run_id"].iloc[-1])
    h = _tree()
    mine = {str(c) for c in coef_own.index}
    added, used = {}, {}
    for sec, info in (params.get("sections") or {}).items():
        nat = {str(c): float(v) for c, v in coef_nat.items() if ":" not in str(c) and
               (str(c) == sec or h.section(str(c)) == sec)}
        free = {c: v for c, v in nat.items() if c not in mine and not mine.intersection(h.ancestors(c))}
        if not free:
            continue
        m = float(info["factor"])
        vals = {c: min(max(v * m, 0.0), 1.0) for c, v in free.items()}
        added.update(vals)
        used[sec] = {**info, "codes": free, "coefficients": vals}
    own_ratios = {str(c) for c in alloc_own.index}
    ratios = {k: float(v["ratio"]) for k, v in (params.get("ratios") or {}).items() if k not in own_ratios
              and v.get("ratio") is not None}
    if added:
        coef_own = pd.concat([coef_own, pd.Series(added, dtype=float)]) if len(coef_own) else pd.Series(added, dtype=float)
        lvl = f"{float(params.get('level') or 0.9) * 100:g}%"
        pct_en = "; ".join(f"{sec} {u['share'] * 100:.1f}% ({lvl} {u['lower'] * 100:.1f}–{u['upper'] * 100:.1f}; "
                           f"{u['sellers']} sellers) against {u['pooled'] * 100:.1f}%, ×{u['factor']:.3f}"
                           for sec, u in used.items())
        pct_vi = "; ".join(f"{sec} {u['share'] * 100:.1f}% ({lvl} {u['lower'] * 100:.1f}–{u['upper'] * 100:.1f}; "
                           f"{u['sellers']} người bán) so với {u['pooled'] * 100:.1f}%, ×{u['factor']:.3f}"
                           for sec, u in used.items())
        warnings.append({
            "code": "EINVOICE_COEF",
            "vi": f"{label}: hệ số số hóa của ngành {', '.join(used)} ước tính từ hóa đơn điện tử của tỉnh (hệ số cả nước × "
                  f"tỷ lệ doanh thu trực tuyến của tỉnh / tỷ lệ gộp các tỉnh; khoảng bootstrap theo doanh nghiệp; lần "
                  f"chạy {run}): {pct_vi}.",
            "en": f"{label}: the digitalisation coefficient of section {', '.join(used)} is estimated from the province's "
                  f"e-invoices (national coefficient × the province's online revenue share / the provinces' pooled "
                  f"share; bootstrap interval over firms; run {run}): {pct_en}.",
            "sectors": sorted(added), "run_id": run})
    fb = params.get("fallbacks") or {}
    if fb:
        n_min = params.get("min_firms")
        parts = [(sec, x.get("sellers"), x.get("reason")) for sec, x in sorted(fb.items())]
        warnings.append({
            "code": "EINVOICE_FALLBACK",
            "vi": f"{label}: hóa đơn điện tử không đủ cho ngành " + "; ".join(
                f"{sec} ({n} người bán < {n_min})" if why == "sellers" else f"{sec} (cả nước chưa có hệ số)"
                for sec, n, why in parts) + ": dùng hệ số ước tính từ bản ghi quy trình nếu có, nếu không thì hệ số "
                "cả nước.",
            "en": f"{label}: not enough e-invoices for section " + "; ".join(
                f"{sec} ({n} sellers < {n_min})" if why == "sellers" else f"{sec} (no national coefficient)"
                for sec, n, why in parts) + ": the process-records estimate applies where there is one, else the "
                "national coefficient.",
            "sections": {sec: n for sec, n, _ in parts}, "run_id": run})
    if ratios:
        alloc_own = pd.concat([alloc_own, pd.Series(ratios, dtype=float)]) if len(alloc_own) else pd.Series(
            ratios, dtype=float)
    info = {"run_id": run, "period": p_est, "level": params.get("level"), "min_firms": params.get("min_firms"),
            "sections": used, "coefficients": added, "ratios": ratios, "fallbacks": fb,
            "ratio_intervals": {k: params["ratios"][k] for k in ratios}}
    return coef_own, alloc_own, info, sorted(ids)


def _einvoice_interval(inp: A.AccountInputs, h: A.Hierarchy, view: str, core, info: dict,
                       reps: dict | None) -> dict | None:
    """The DE share's and DE value added's percentile interval from the e-invoice bootstrap: the pure
    accounts recomputed for each replicate's coefficients (national × the replicate's factor, bounded)
    and allocation ratios, everything else held. None without replicates."""
    import dataclasses  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from kinhteso.methods.einvoice import percentile_interval  # noqa: PLC0415

    if not reps or not (info.get("sections") or info.get("ratios")):
        return None
    fac, rat = reps.get("factor") or {}, reps.get("ratio") or {}
    lists = [fac[s] for s in info["sections"] if s in fac] + [rat[k] for k in info["ratios"] if k in rat]
    if not lists:
        return None
    b_n = min(len(x) for x in lists)
    shares, vas, failed = [], [], 0
    for b in range(b_n):
        coef, alloc = inp.coef_own.copy(), inp.alloc_own.copy()
        ok = True
        for sec, u in info["sections"].items():
            m = fac.get(sec, [None] * b_n)[b]
            if m is None:
                ok = False
                break
            for c, v in u["codes"].items():
                coef[c] = min(max(v * m, 0.0), 1.0)
        for k in info["ratios"]:
            r = rat.get(k, [None] * b_n)[b]
            if r is None:
                ok = False
                break
            alloc[k] = r
        if not ok:
            failed += 1
            continue
        try:
            res = A.measure(dataclasses.replace(inp, coef_own=coef, alloc_own=alloc), h, view=view, core=core)
        except MethodError:
            failed += 1
            continue
        shares.append(res.de_share)
        vas.append(res.de_va)
    if not shares:
        return None
    level = float(info.get("level") or 0.9)
    return {"level": level, "de_share": list(percentile_interval(np.array(shares), level)),
            "de_va": list(percentile_interval(np.array(vas), level)), "replicates": len(shares), "failed": failed,
            "run_id": info["run_id"],
            "method": "e-invoice bootstrap over firms: the accounts recomputed for each replicate's coefficients and "
                      "allocation ratios (percentile interval)",
            "method_vi": "bootstrap theo doanh nghiệp trên hóa đơn điện tử: tính lại tài khoản cho từng lần lặp của hệ "
                         "số và tỷ lệ phân bổ (khoảng phân vị)"}


def _einvoice_replicates(ws: Workspace, obs: pd.DataFrame) -> dict[str, dict]:
    """run_id → the bootstrap replicates stored with each e-invoice run among the inputs read."""
    if "run_id" not in obs or not len(obs):
        return {}
    ids = set(obs.loc[obs["indicator"].str.endswith(EINVOICE_SUFFIX), "run_id"].dropna().astype(str))
    if not ids:
        return {}
    runs = ws.store.result_runs(kind="coef")
    runs = runs[runs["run_id"].isin(ids)]
    out = {}
    for rid, prov in zip(runs["run_id"], runs["provenance"]):
        p = json.loads(prov) if isinstance(prov, str) else (prov or {})
        out[str(rid)] = p.get("replicates") or {}
    return out


def _one(frame: Rows, nation: Rows, h: A.Hierarchy, key: str, period: str, view: str,
         core: Sequence[str] | None, with_change: bool, cache: dict | None = None,
         replicates: dict | None = None) -> MeasureResult:
    cached = cache.get((key, period)) if cache is not None else None
    if cached is None:
        warnings0: list[dict] = []
        inp, prov0 = territory_inputs(frame, nation, key, period, warnings0)
        cached = (inp, prov0, warnings0)
        if cache is not None:
            cache[(key, period)] = cached
    inp, prov, warnings = cached[0], dict(cached[1]), list(cached[2])
    if inp.va.empty and inp.grdp is None:
        return MeasureResult(key, period, view, None, warnings, prov, error={
            "code": "NO_DATA", "vi": f"{key} {period}: không có GRDP hay GRDP_VA.",
            "en": f"{key} {period}: no GRDP or GRDP_VA."})
    try:
        res = A.measure(inp, h, view=view, core=core or default_core(view, prov["vsic_version"]))
    except MethodError as exc:
        return MeasureResult(key, period, view, None, warnings, prov,
                             error={"code": exc.code, "vi": exc.vi, "en": exc.en})
    warnings.extend(res.warnings)
    einvoice = prov.get("einvoice")
    if einvoice and einvoice.get("ratios"):
        _label_einvoice_steps(res, einvoice["ratios"], einvoice.get("ratio_intervals") or {}, key, period, warnings)
    if key != "VN":
        note_national_fallback(res, key, period, warnings)
    supplements = dict(prov.get("process_coefs") or {})
    if einvoice and einvoice.get("coefficients"):
        supplements["einvoice"] = {"source": "einvoice", "coefficients": einvoice["coefficients"]}
    prov.update({"view": view, "core": list(res.core), "allocations": res.allocations,
                 "coefficient_sources": _sources(res, supplements),
                 "denominator": "sum of value added" if res.grdp_is_sum_of_va else "GRDP",
                 "code_version": __version__, "method": f"kinhteso.methods.accounts.measure (view={view})"})
    out = MeasureResult(key, period, view, res, warnings, prov)
    if einvoice and replicates is not None and len(period) == 4:
        out.interval = _einvoice_interval(inp, h, view, core or default_core(view, prov["vsic_version"]), einvoice,
                                          replicates.get(einvoice["run_id"]))
    if with_change:
        prev = previous_period(period)
        pin, pprov = territory_inputs(frame, nation, key, prev, [])
        if not pin.va.empty:
            try:
                pres = A.measure(pin, h, view=view, core=core or default_core(view, pprov["vsic_version"]))
            except MethodError:
                pres = None
            if pres is not None and pres.de_va > 0:
                out.growth = res.de_va / pres.de_va - 1.0
                out.change = {"from": prev, **A.shift_share(pres, res)}
    return out


def _label_einvoice_steps(res: A.AccountResult, ratios: dict, intervals: dict, key: str, period: str,
                          warnings: list) -> None:
    """An allocation step whose ratio is the province's e-invoice estimate says so (``einvoice``, not
    ``own``); the note ``EINVOICE_ALLOC`` names each with its interval and sellers."""
    used = {}
    for a in res.allocations:
        for st in a.get("steps", ()):
            if st["source"] == "own" and st["sector"] in ratios:
                st["source"] = "einvoice"
                used[st["sector"]] = st["parent"]
        sources = list(dict.fromkeys(st["source"] for st in a.get("steps", ())))
        if sources:
            a["source"] = sources[0] if len(sources) == 1 else "+".join(sources)
    if not used:
        return

    def one(k: str) -> str:
        i = intervals.get(k, {})
        band = f" ({i['lower'] * 100:.1f}–{i['upper'] * 100:.1f})" if i.get("lower") is not None else ""
        return f"{k}/{used[k]} {ratios[k] * 100:.1f}%{band}, {i.get('sellers', '?')}"

    text = "; ".join(one(k) for k in sorted(used))
    warnings.append({
        "code": "EINVOICE_ALLOC",
        "vi": f"{key} {period}: tỷ lệ phân bổ ALLOC_RATIO từ hóa đơn điện tử của tỉnh (doanh thu của ngành / của ngành "
              f"cha theo mã ngành của người bán; khoảng 90%, số người bán của ngành cha): {text}.",
        "en": f"{key} {period}: allocation ratios ALLOC_RATIO from the province's e-invoices (the industry's revenue / "
              f"its parent's, by the sellers' own activity codes; 90% interval, the parent's sellers): {text}.",
        "sectors": sorted(used)})


def _sources(res: A.AccountResult, supplements: dict | None) -> dict:
    """Each piece's coefficient source; ``<name>:<code>`` where a section's process-digitalisation
    coefficient served (``logistics:H``, ``health:Q``...; it is held among the province's own).
    ``supplements``: section → what :func:`_process_supplement` did (or, as before, the logistics
    supplement alone)."""
    if supplements and "coefficients" in supplements:  # one supplement (the logistics one), as it was passed
        supplements = {"H": {"source": "logistics", **supplements}}
    added = {c: info.get("source", "logistics") for info in (supplements or {}).values()
             for c in info.get("coefficients", {})}

    def name(s) -> str:
        code = str(s).split(":", 1)[1] if str(s).startswith("own:") else None
        return f"{added[code]}:{code}" if code in added else s

    return {c: name(s) for c, s in zip(res.pieces.code, res.pieces.coef_source)}


def note_national_fallback(res: A.AccountResult, key: str, period: str, warnings: list[dict]) -> None:
    """Name each figure a province borrowed from the nation (coefficients, allocation ratios)."""
    coefs = sorted({str(src).split(":", 1)[1] for src in res.pieces.coef_source if str(src).startswith("national:")})
    # each borrowed step of an allocation: the nation's ALLOC_RATIO, or its value-added structure
    steps = {(f"{st['sector']}/{st['parent']}", st["source"]) for a in res.allocations for st in a.get("steps", ())
             if st["source"] in ("national", "national structure")}
    allocs = sorted(step for step, src in steps if src == "national")
    structure = sorted(step for step, src in steps if src == "national structure")
    if not coefs and not allocs and not structure:
        return
    parts_vi, parts_en = [], []
    if coefs:
        parts_vi.append(f"hệ số số hóa DIGITAL_COEF của {', '.join(coefs)}")
        parts_en.append(f"DIGITAL_COEF of {', '.join(coefs)}")
    if allocs:
        parts_vi.append(f"tỷ lệ phân bổ ALLOC_RATIO của {', '.join(allocs)}")
        parts_en.append(f"ALLOC_RATIO of {', '.join(allocs)}")
    if structure:
        parts_vi.append(f"cơ cấu giá trị tăng thêm cả nước cho tỷ lệ {', '.join(structure)}")
        parts_en.append(f"the nation's value-added structure for the ratio of {', '.join(structure)}")
    warnings.append({
        "code": "NATIONAL_FALLBACK",
        "vi": f"{key} {period}: dùng số của cả nước vì tỉnh chưa có số riêng: {'; '.join(parts_vi)}.",
        "en": f"{key} {period}: national figures used where the province has none of its own: {'; '.join(parts_en)}.",
        "coefficients": coefs, "allocations": allocs + structure})


def load_inputs(ws: Workspace, territory: str, period: str, *, as_of=None,
                coef_source: str | None = None) -> tuple[A.AccountInputs, dict, list[dict]]:
    """The inputs of :func:`kinhteso.methods.accounts.measure` for one territory and period, as
    the pipeline chooses them (for scenarios that change them before measuring): (inputs,
    provenance, warnings)."""
    obs = read_inputs(ws, [period], as_of=as_of, coef_source=coef_source)
    frame = Rows(territory_frames(obs, [territory], terr.merger_map())[territory])
    warnings: list[dict] = []
    inp, prov = territory_inputs(frame, Rows(obs[obs.territory == "VN"]), territory, period, warnings)
    return inp, prov, warnings


def territories_for(period: str) -> list[str]:
    """The nation and the provinces valid for a period: the 63 before 2025-07, else the 34."""
    parsed = strict_period(period)  # BAD_PERIOD when malformed
    # the accounts of the year 2025 are compiled on the new boundaries; quarters and months
    # follow the date of the merger
    old = parsed.year < MERGER_YEAR if parsed.freq == "A" else parsed.start < MERGER_DATE
    basis = 63 if old else 34
    return ["VN"] + [t.key for t in terr.territories() if t.basis == basis]


def measure_many(ws: Workspace, keys: Sequence[str], periods: Sequence[str], views: Sequence[str], *,
                 core: Sequence[str] | None = None, with_change: bool = False, store_run: bool = False,
                 as_of=None, coef_source: str | None = None, prices: str = "current",
                 breakdown: str | None = None, progress: Progress | None = None,
                 intervals: bool = False) -> list[MeasureResult]:
    """Measure every (territory, period, view) with one read of the store. Nothing is stored
    unless ``store_run`` (then one run, see :func:`save`). ``intervals``: a year's DE share and
    value added of a province with an e-invoice estimate get the bootstrap's interval (the accounts
    recomputed for each replicate: about a second per province, so only where it is shown). ``prices="constant"``: the accounts at
    constant 2010 prices with real growth; ``breakdown="ownership"``: each result carries its
    ownership breakdown (both in :mod:`kinhteso.pipeline.breakdowns`). ``progress``
    (:mod:`kinhteso.progress`): one step for the read, one per (period, territory), one to store."""
    for v in views:
        if v not in A.VIEWS:
            raise UsageError("UNKNOWN_VIEW", f"Cách đo '{v}' không có; dùng {', '.join(A.VIEWS)}.",
                             f"Unknown view '{v}'; use one of {', '.join(A.VIEWS)}.")
    wanted = set(periods) | ({previous_period(p) for p in periods} if with_change or prices == "constant" else set())
    say, total = or_null(progress), 1 + len(periods) * len(keys) + bool(store_run)
    say(0, total, tr("Đọc số liệu", "Reading the data"))
    mapping = terr.merger_map()
    # what these territories read: their own rows, a 34-basis unit's 63-basis predecessors, the nation
    needed = terr.with_predecessors(keys) | {"VN"}
    obs = read_inputs(ws, sorted(wanted), as_of=as_of, coef_source=coef_source, territories=sorted(needed), prices=prices,
                ownership=breakdown == "ownership")
    h = hierarchy()
    nation = Rows(obs[obs.territory == "VN"])
    frames = {k: Rows(f) for k, f in territory_frames(obs, keys, mapping).items()}
    cache: dict = {}  # the inputs of a territory and period serve every view
    reps = _einvoice_replicates(ws, obs) if intervals else None
    results = []
    for i, (p, k) in enumerate((p, k) for p in periods for k in keys):
        say(1 + i, total, tr(f"Tài khoản {p}", f"Accounts {p}"))
        results.extend(_one(frames[k], nation, h, k, p, v, core, with_change, cache, reps) for v in views)
    if prices == "constant" or breakdown == "ownership":
        from kinhteso.pipeline import breakdowns as PB  # noqa: PLC0415

        PB.extend(results, frames, nation, h, cache, core=core, prices=prices, ownership=breakdown == "ownership")
    if store_run:
        say(total - 1, total, tr("Lưu kết quả", "Storing the results"))
        save(ws, results, core=core, coef_source=coef_source, as_of=as_of)
    say(total, total, tr("Tài khoản kinh tế số", "Digital-economy accounts"))
    return results


def measure(ws: Workspace, territory: str, period: str, *, view: str = "gso", core: Sequence[str] | None = None,
            as_of=None, coef_source: str | None = None) -> MeasureResult:
    """One territory and period, with growth and the shift-share change from a year earlier."""
    return measure_many(ws, [territory], [period], [view], core=core, with_change=True, as_of=as_of,
                        coef_source=coef_source)[0]


def run_record(results: list[MeasureResult], *, core=None, coef_source: str | None = None, as_of=None) -> RunRecord:
    """The identity of an accounts run: its parameters and the vintages and runs it read."""
    params = {"views": sorted({r.view for r in results}), "core": list(core) if core else "default",
              "coef_source": coef_source or "latest vintage", "periods": sorted({r.period for r in results}),
              "territories": sorted({r.territory for r in results}),
              "as_of": as_of.isoformat() if hasattr(as_of, "isoformat") else as_of}
    if any(r.price_basis != "current" for r in results):
        params["price_basis"] = sorted({r.price_basis for r in results})
    prov = {f"{r.territory}|{r.period}|{r.view}": {"warnings": [w.get("code") for w in r.warnings],
                                                   "basis": r.provenance.get("basis", "estimated")}
            for r in results}
    return RunRecord(
        kind="accounts", method="kinhteso.methods.accounts.measure", parameters=params,
        inputs={"vintages": sorted({int(v) for r in results for v in r.provenance.get("input_vintages", [])}),
                "runs": sorted({str(v) for r in results for v in r.provenance.get("input_runs", [])})},
        code_version=__version__, illustrative=any(r.provenance.get("illustrative") for r in results),
        provenance=prov)


def result_rows(results: list[MeasureResult]) -> pd.DataFrame:
    """The long rows of accounts results: DE_SHARE, DE_VA, GRDP, the e-invoice interval's bounds
    (``DE_SHARE_LOWER``/``_UPPER``, ``DE_VA_LOWER``/``_UPPER``) where there is one, each component's VA,
    DE_VA by sector."""
    rows = []
    for r in results:
        if r.result is None:
            continue
        res = r.result
        basis = r.provenance.get("basis", "estimated")
        base = {"territory": r.territory, "period": r.period, "view": r.view, "price_basis": r.price_basis,
                "status": "E", "basis": basis}
        rows += [{**base, "indicator": "DE_SHARE", "sector": "_T", "value": res.de_share, "unit": "PCT"},
                 {**base, "indicator": "DE_VA", "sector": "_T", "value": res.de_va, "unit": "VND_BN"},
                 {**base, "indicator": "GRDP", "sector": "_T", "value": res.grdp, "unit": "VND_BN"}]
        if r.interval is not None:  # the e-invoice bootstrap's interval (indicators DE_SHARE_LOWER… in the registry)
            for ind, (lo, hi), unit in (("DE_SHARE", r.interval["de_share"], "PCT"), ("DE_VA", r.interval["de_va"], "VND_BN")):
                rows += [{**base, "indicator": f"{ind}_LOWER", "sector": "_T", "value": lo, "unit": unit},
                         {**base, "indicator": f"{ind}_UPPER", "sector": "_T", "value": hi, "unit": unit}]
        for name, c in res.components.items():
            rows.append({**base, "indicator": f"{name.upper()}_VA", "sector": "_T", "value": c["va"], "unit": "VND_BN"})
        for s in res.by_sector.itertuples(index=False):
            rows.append({**base, "indicator": "DE_VA", "sector": s.sector, "value": s.de_va, "unit": "VND_BN"})
    return pd.DataFrame(rows)


def save(ws: Workspace, results: list[MeasureResult], *, core=None, coef_source: str | None = None,
         as_of=None) -> str | None:
    """Store accounts results as one run (the same inputs and parameters: stored once). Returns the run id."""
    rows = result_rows(results)
    if rows.empty:
        return None
    run_id, _ = ws.store.add_results(run_record(results, core=core, coef_source=coef_source, as_of=as_of), rows)
    return run_id


def reconcile(results: list[MeasureResult]) -> dict | None:
    """The nation against the sum of its provinces (same period and view): DE VA, GRDP, share."""
    nat = next((r for r in results if r.territory == "VN" and r.result), None)
    provs = [r for r in results if r.territory != "VN" and r.result]
    if nat is None or not provs:
        return None
    de = sum(r.result.de_va for r in provs)
    g = sum(r.result.grdp for r in provs)
    return {"nation_de_va": nat.result.de_va, "provinces_de_va": de, "nation_grdp": nat.result.grdp,
            "provinces_grdp": g, "nation_share": nat.result.de_share, "provinces_share": de / g * 100,
            "discrepancy_de_va": nat.result.de_va - de, "discrepancy_grdp": nat.result.grdp - g,
            "missing_provinces": [r.territory for r in results if r.territory != "VN" and r.result is None]}
