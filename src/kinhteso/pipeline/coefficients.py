"""Estimating ``DIGITAL_COEF`` and storing it as a result (status E) with its method.

- ``revenue``: the online share of each industry's revenue (BEA's assumption), from
  ``ONLINE_REVENUE`` and ``EINVOICE_REVENUE`` (or any two revenue indicators) in the workspace;
  source ``kinhteso:revenue-share``.
- ``calibration``: a profile (the revenue shares above, or a file) scaled so that the national
  digitalised share equals a published figure; source ``kinhteso:calibration``.
- ``io``: the input-output estimator (``kinhteso io … --write-coef``; source ``kinhteso:io``).
- ``logistics``: a province's coefficient of transport and storage (VSIC section ``H``) from its own
  logistics records (:mod:`kinhteso.methods.logistics_coef`): the national coefficient scaled by
  the province's process-digitalisation index against the reporting ports' (method
  ``logistics-process``; read by the accounts as a supplement to the province's own coefficients,
  never in place of a submitted one: :func:`kinhteso.pipeline.accounts.territory_inputs`).

Each estimate is one run of kind ``coef`` (its method: ``revenue-share``, ``calibration``, ``io``),
with its parameters and the vintages it read; the accounts read it as the source
``kinhteso:<method>``. An estimate is never stored as a submission.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from kinhteso.errors import MethodError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.periods import period as strict_period
from kinhteso.pipeline import accounts as PA
from kinhteso.reference import territories as terr
from kinhteso import __version__
from kinhteso.store import RunRecord
from kinhteso.workspace import Workspace

__all__ = ["CoefEstimate", "estimate_revenue", "estimate_calibration", "write_coefficients", "section_revenue_profile",
           "estimate_logistics", "refresh_logistics_coefficients", "logistics_counts", "LOGISTICS_METHOD",
           "LOGISTICS_SECTIONS"]


@dataclass
class CoefEstimate:
    territory: str
    period: str
    method: str
    coefficients: pd.Series
    note: str
    run_id: str | None = None
    k: float | None = None
    inputs: dict | None = None  #: {"vintages": [...]} read by the estimate
    details: dict | None = None  #: the estimator's own parameters and intermediate figures, stored with the run
    note_vi: str | None = None   #: the note in Vietnamese (``note`` is English)


def write_coefficients(ws: Workspace, est: CoefEstimate, *, illustrative: bool) -> str:
    """Store an estimate as one run of kind ``coef`` (idempotent: the same estimate twice adds nothing)."""
    run_id, _ = ws.store.add_results(coef_run(est, illustrative=illustrative), coef_rows(est))
    return run_id


def coef_rows(est: CoefEstimate) -> pd.DataFrame:
    """The long result rows of an estimate (checked within 0–1)."""
    c = est.coefficients.dropna()
    if ((c < 0) | (c > 1)).any():
        raise MethodError("COEF_RANGE", "Hệ số ước tính ngoài khoảng 0–1.", "Estimated coefficients outside 0–1.")
    return pd.DataFrame({"indicator": "DIGITAL_COEF", "territory": est.territory, "sector": c.index,
                         "period": est.period, "view": "", "value": c.values, "unit": "RATIO",
                         "price_basis": "current", "status": "E", "basis": "estimated"})


def coef_run(est: CoefEstimate, *, illustrative: bool) -> RunRecord:
    return RunRecord(kind="coef", method=est.method,
                     parameters={"territory": est.territory, "period": est.period, "note": est.note,
                                 **(est.details or {})},
                     inputs=est.inputs or {"vintages": []}, code_version=__version__, illustrative=illustrative,
                     provenance={"k": est.k})


def section_revenue_profile(ws: Workspace, territory: str, period: str, *, online: str = "ONLINE_REVENUE",
                            total: str = "EINVOICE_REVENUE") -> tuple[pd.DataFrame, bool]:
    """Online revenue share by VSIC section (sums over the section's industries)."""
    obs = ws.store.observations(indicator=[online, total], territory=territory, period=period)
    if obs.empty:
        raise UsageError(
            "NO_REVENUE_DATA",
            f"Không có {online}/{total} cho {territory} kỳ {period}.",
            f"No {online}/{total} for {territory} in {period}.",
        )
    h = PA.hierarchy()
    obs = obs.assign(section=[h.section(s) for s in obs.sector])
    by = obs.groupby(["indicator", "section"]).value.sum().unstack(0)
    if online not in by or total not in by:
        raise UsageError("NO_REVENUE_DATA", f"Thiếu {online} hoặc {total}.", f"{online} or {total} is missing.")
    return A.coef_from_revenue_share(by[online], by[total]), bool(obs.illustrative.any())


def estimate_revenue(ws: Workspace, *, territory: str, period: str, online: str = "ONLINE_REVENUE",
                     total: str = "EINVOICE_REVENUE", write: bool = True) -> CoefEstimate:
    """DIGITAL_COEF by section = online revenue / revenue (BEA assumption), written for ``territory``."""
    prof, illustrative = section_revenue_profile(ws, territory, period, online=online, total=total)
    vintages = sorted(int(v) for v in ws.store.observations(
        indicator=[online, total], territory=territory, period=period).vintage_id.unique())
    est = CoefEstimate(territory, period, "revenue-share", prof.set_index("sector").coefficient,
                       note=f"method=revenue-share (BEA); online={online}; total={total}",
                       inputs={"vintages": vintages})
    if write:
        est.run_id = write_coefficients(ws, est, illustrative=illustrative)
    return est


def estimate_calibration(ws: Workspace, *, period: str, target_pct: float, profile: pd.Series | None = None,
                         territory: str = "VN", write: bool = True) -> CoefEstimate:
    """Scale a profile so that the digitalised share of ``territory`` (the nation by default)
    in ``period`` equals ``target_pct`` percent of GDP; the profile is the online revenue share
    by section unless one is given (sector → relative digitalisation)."""
    if territory != "VN":
        terr.get_territory(territory)
    inp, prov, _ = PA.load_inputs(ws, territory, period)
    h = PA.hierarchy()
    sections = sorted({h.section(c) for c in inp.va.index})
    inp.coef_own, inp.coef_nat = pd.Series(dtype=float), pd.Series(1.0, index=sections)
    res = A.measure(inp, h)  # coefficients of 1 give each industry's non-core value added
    other = res.pieces.groupby("section").other.sum()
    illustrative = bool(prov.get("illustrative"))
    if profile is None:
        prof, ill = section_revenue_profile(ws, territory, period)
        profile = prof.set_index("sector").coefficient
        source = "online revenue share (ONLINE_REVENUE / EINVOICE_REVENUE)"
        illustrative = illustrative or ill
        profile_vintages = [int(v) for v in ws.store.observations(
            indicator=["ONLINE_REVENUE", "EINVOICE_REVENUE"], territory=territory, period=period).vintage_id.unique()]
    else:
        source = "user profile"
        profile_vintages = []
        note_profile = ";".join(f"{k}={float(v):.12g}" for k, v in sorted(profile.items()))
        source = f"user profile ({note_profile})"
    profile = profile.reindex(other.index).fillna(0.0)
    coef, k = A.calibrate_coefficients(other, profile, denominator=res.grdp, target_pct=target_pct)
    va_vintages = sorted(int(v) for v in ws.store.observations(
        indicator=["GRDP_VA", "GRDP", "ALLOC_RATIO"], territory=territory, period=period).vintage_id.unique())
    est = CoefEstimate(territory, period, "calibration", coef, k=k,
                       note=f"method=calibration; target={target_pct}% of GDP; profile={source}; k={k:.6g}; "
                            f"value-added vintages={va_vintages}",
                       inputs={"vintages": sorted(set(va_vintages) | set(profile_vintages))})
    if write:
        est.run_id = write_coefficients(ws, est, illustrative=illustrative)
    return est


# --- the logistics sector's coefficient from a province's own records ---------------------------
#: The run's method (``kinhteso:logistics-process`` where sources are listed).
LOGISTICS_METHOD = "logistics-process"
#: Transport and storage in VSIC 2018 and VSIC 2025 (store keys): the codes the estimate scales are the
#: national coefficient's codes at or under these.
LOGISTICS_SECTIONS = ("H", "v2025:H")


def in_logistics_section(code: str, h=None) -> bool:
    """Whether a store sector key is transport and storage (section H of either VSIC version) or under it."""
    h = h or PA.hierarchy()
    return code in LOGISTICS_SECTIONS or h.section(code) in LOGISTICS_SECTIONS


def logistics_counts(ws: Workspace) -> tuple[pd.DataFrame, list[int], bool]:
    """The records behind each component of the process-digitalisation index
    (:data:`kinhteso.methods.logistics_coef.COMPONENTS`), per territory and year (Viet Nam time):
    ``territory, year, component, digital, records``; the standing record vintages read; whether any
    is illustrative. The share of a component is the dataset's own derived share (``datasets.yaml``:
    its field and values; the NSW share: vessel calls with ``nsw = Y``), counted over the year's
    records (a record sent again in a later vintage counted once, as the latest)."""
    from kinhteso.methods.logistics_coef import COMPONENTS  # noqa: PLC0415
    from kinhteso.pipeline.logistics import LOCAL_OFFSET_HOURS  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415
    from kinhteso.store import RECORD_TABLES  # noqa: PLC0415

    store = ws.store
    parts, used = [], set()

    def add(frame: pd.DataFrame, component: str, is_digital: pd.Series, dataset: str) -> None:
        used.add(dataset)
        if not len(frame):
            return
        f = pd.DataFrame({"territory": frame["territory"].to_numpy(), "year": frame["period"].str[:4].to_numpy(),
                          "digital": is_digital.to_numpy().astype(int), "records": 1})
        parts.append(f.groupby(["territory", "year"], as_index=False)[["digital", "records"]].sum()
                     .assign(component=component))

    if "PORT_NSW_SHARE" in COMPONENTS and "vessel_calls" in RECORD_TABLES:
        calls = store.vessel_calls(None, offset_hours=LOCAL_OFFSET_HOURS)
        add(calls, "PORT_NSW_SHARE", calls["nsw"] == "Y" if len(calls) else pd.Series(dtype=bool), "vessel_calls")
    for ds in datasets().values():
        if ds.code not in RECORD_TABLES or ds.period_field is None:
            continue
        for d in ds.derived:
            if d.code in COMPONENTS and d.share_field:
                recs = store.records_by_quarter(ds.code, ds.period_field, [d.share_field], ds.key,
                                                offset_hours=LOCAL_OFFSET_HOURS)
                add(recs, d.code, recs[d.share_field].isin(d.share_values) if len(recs) else pd.Series(dtype=bool),
                    ds.code)
    cols = ["territory", "year", "component", "digital", "records"]
    counts = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    vint = store.record_vintages()
    vint = vint[vint["dataset"].isin(used)]
    return counts, sorted(int(v) for v in vint["vintage_id"]), bool(vint["illustrative"].any()) if len(vint) else False


def _national_logistics(ws: Workspace, year: str) -> tuple[pd.Series, str | None, list, bool]:
    """The nation's DIGITAL_COEF at or under section H, chosen as the accounts choose it (one source,
    the period's or the latest earlier year's): (coefficients, their period, vintages and runs, illustrative)."""
    obs = PA.read_inputs(ws, [year], territories=["VN"])
    nation = PA.Rows(obs[obs.territory == "VN"])
    s, p, ids = PA._coef(nation, "DIGITAL_COEF", year, [], f"VN {year}", "national")  # noqa: SLF001
    h = PA.hierarchy()
    s = s[[in_logistics_section(str(c), h) for c in s.index]]
    return s, p, ids, nation.illustrative


def estimate_logistics(ws: Workspace, *, territory: str, period: str, reference: float | None = None,
                       elasticity: float | None = None, min_records: int | None = None, write: bool = True,
                       counts: tuple[pd.DataFrame, list[int], bool] | None = None) -> CoefEstimate:
    """DIGITAL_COEF of transport and storage (section H) for ``territory`` in the year ``period``
    from its logistics records (:func:`kinhteso.methods.logistics_coef.logistics_coefficient`):
    the nation's coefficient of H × (1 + η·(I − R)/R), bounded to 0–1. ``reference`` (percent):
    the reference index R; None pools every reporting territory's records. Stored as one run of kind
    ``coef``, method ``logistics-process`` (its parameters: the index, the reference, the factor, each
    component; its inputs: the record vintages and the national coefficient's vintages or runs).

    A province without enough records (or none) keeps the national coefficient: the estimate then
    says so and stores nothing. ``NO_NATIONAL_COEF`` when the nation has no coefficient of H to scale."""
    from kinhteso.methods import logistics_coef as M  # noqa: PLC0415

    p = strict_period(period)
    if p.freq != "A":
        raise UsageError("COEF_ANNUAL", f"Hệ số số hóa ước tính theo năm, không theo kỳ {p.code}.",
                         f"Digitalisation coefficients are estimated for a year, not for {p.code}.")
    if territory == "VN":
        raise UsageError("LOGISTICS_PROVINCE",
                         "Hệ số logistics là hệ số riêng của một tỉnh (so với mức tham chiếu); hãy chọn một tỉnh.",
                         "The logistics coefficient is a province's own (against the reference); name a province.")
    terr.get_territory(territory)
    year = p.code
    eta = M.DEFAULT_ELASTICITY if elasticity is None else float(elasticity)
    n_min = M.MIN_RECORDS if min_records is None else int(min_records)
    if not (math.isfinite(eta) and eta >= 0):
        raise UsageError("BAD_ELASTICITY", f"Độ co giãn η = {elasticity} phải là một số hữu hạn, không âm.",
                         f"The elasticity η = {elasticity} must be a finite, non-negative number.")
    if reference is not None and not 0 < float(reference) <= 100:
        raise UsageError("REFERENCE_RANGE", f"Chỉ số tham chiếu {reference} phải trong (0, 100] (%).",
                         f"The reference index {reference} must be in (0, 100] (percent).")
    national, nat_period, nat_ids, nat_ill = _national_logistics(ws, year)
    if national.empty:
        raise UsageError("NO_NATIONAL_COEF",
                         f"Cả nước chưa có DIGITAL_COEF của ngành H (vận tải, kho bãi) cho {year}: không có gì để điều chỉnh.",
                         f"The nation has no DIGITAL_COEF of section H (transport and storage) for {year}: nothing to scale.")
    all_counts, vintages, rec_ill = counts if counts is not None else logistics_counts(ws)
    year_counts = all_counts[all_counts["year"] == year]
    own = year_counts[year_counts["territory"] == territory]
    ref = year_counts if reference is None else float(reference) / 100.0
    res = M.logistics_coefficient(own, national, reference=ref, elasticity=eta, min_records=n_min)
    nat_text = ", ".join(f"{c}={v:.4g}" for c, v in national.items())
    if res is None:
        return CoefEstimate(territory, year, LOGISTICS_METHOD, national, run_id=None,
                            note=f"no logistics records of {territory} in {year} with at least {n_min} records per "
                                 f"component: the national coefficient applies ({nat_text})",
                            note_vi=f"{territory} chưa có dữ liệu logistics năm {year} (mỗi thành phần ít nhất {n_min} "
                                    f"bản ghi): dùng hệ số cả nước ({nat_text})")
    pooled = sorted(set(year_counts["territory"])) if reference is None else []
    comps = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
             for row in res.components.to_dict(orient="records")]
    details = {"index_pct": round(res.index * 100, 10), "reference_pct": round(res.reference * 100, 10),
               "reference": "pooled" if reference is None else "given", "reference_territories": pooled,
               "factor": res.factor, "elasticity": eta, "min_records": n_min, "components": comps,
               "national": {str(c): float(v) for c, v in national.items()}, "national_period": nat_period,
               "capped": res.capped}
    ref_en = (f"the reporting territories' pooled index {res.reference * 100:.1f} ({', '.join(pooled)})"
              if reference is None else f"the given reference {res.reference * 100:.1f}")
    ref_vi = (f"chỉ số gộp của các địa bàn có dữ liệu {res.reference * 100:.1f} ({', '.join(pooled)})"
              if reference is None else f"mức tham chiếu đã cho {res.reference * 100:.1f}")
    used = ", ".join(c["component"] for c in comps if c["used"])
    est = CoefEstimate(
        territory, year, LOGISTICS_METHOD, res.coefficients, k=res.factor,
        note=f"method=logistics-process; process-digitalisation index {res.index * 100:.1f} ({used}) against "
             f"{ref_en}; factor 1 + {eta:g}×(I − R)/R = {res.factor:.4f} on the national coefficient ({nat_text}, "
             f"{nat_period})",
        note_vi=f"phương pháp logistics-process; chỉ số số hóa quy trình {res.index * 100:.1f} ({used}) so với "
                f"{ref_vi}; hệ số nhân 1 + {eta:g}×(I − R)/R = {res.factor:.4f} trên hệ số cả nước ({nat_text}, "
                f"{nat_period})",
        inputs={"vintages": sorted({*vintages, *(i for i in nat_ids if isinstance(i, int))}),
                "runs": sorted(str(i) for i in nat_ids if isinstance(i, str))},
        details=details)
    if write:
        est.run_id = write_coefficients(ws, est, illustrative=rec_ill or nat_ill)
    return est


def refresh_logistics_coefficients(ws: Workspace, territories: list[str] | None = None,
                                   years: list[str] | None = None) -> list[CoefEstimate]:
    """Estimate and store the logistics coefficient of every territory (or of ``territories``) for
    every year its records cover (or ``years``), where the nation has a coefficient of H; the
    estimates made (a province without enough records keeps the national coefficient, nothing stored)."""
    counts = logistics_counts(ws)
    frame = counts[0]
    out = []
    for year in sorted(set(frame["year"]) if years is None else years):
        keys = sorted(set(frame.loc[frame["year"] == year, "territory"]))
        for key in keys if territories is None else [t for t in territories if t in keys]:
            try:
                out.append(estimate_logistics(ws, territory=key, period=year, counts=counts))
            except UsageError as exc:
                if exc.code != "NO_NATIONAL_COEF":
                    raise
    return out
