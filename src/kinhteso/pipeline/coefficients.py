"""Estimating ``DIGITAL_COEF`` and storing it as a result (status E) with its method.

- ``revenue``: the online share of each industry's revenue (BEA's assumption), from
  ``ONLINE_REVENUE`` and ``EINVOICE_REVENUE`` (or any two revenue indicators) in the workspace;
  source ``kinhteso:revenue-share``.
- ``calibration``: a profile (the revenue shares above, or a file) scaled so that the national
  digitalised share equals a published figure; source ``kinhteso:calibration``.
- ``io``: the input-output estimator (``kinhteso io … --write-coef``; source ``kinhteso:io``).
- ``process``: a province's coefficient of a section declared in
  ``reference/data/process_coefficients.yaml`` from its own records (:mod:`kinhteso.methods.logistics_coef`):
  the national coefficient scaled by the province's process-digitalisation index against the
  reporting provinces' — transport and storage (``H``, method ``logistics-process``) from its
  logistics records, health (``Q``), education (``P``) and construction (``F``) from its sector
  departments' (method ``process-digitalisation``); read by the accounts as a supplement to the
  province's own coefficients, never in place of a submitted one
  (:func:`kinhteso.pipeline.accounts.territory_inputs`).

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
           "LOGISTICS_SECTIONS", "estimate_process", "refresh_process_coefficients", "process_counts", "in_section",
           "in_logistics_section"]


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
    # a key counts once: a class, group or division whose ancestor is also given (e-invoice aggregates
    # carry every level's total) is already in that ancestor's total
    present = {ind: set(g.sector) for ind, g in obs.groupby("indicator")}
    top = [not any(a in present[ind] for a in h.ancestors(sec)) for ind, sec in zip(obs.indicator, obs.sector)]
    obs = obs[top]
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


def _constraint_specs(constraints, period: str, target_pct: float | None, territory: str) -> tuple[list, str, list[dict]]:
    """The constraints of a calibration as specs, what they are (for the note) and warnings:
    ``None`` (the published figures; with ``target_pct`` the digitalised total alone), ``"total"``,
    ``"published"`` or ``"published:YEAR"`` (the period's published figures; YEAR's composition
    shares instead of the period's), a file (YAML/CSV), or a list of specs."""
    from pathlib import Path  # noqa: PLC0415

    from kinhteso.reference import calibration as RC  # noqa: PLC0415

    year = strict_period(period).year
    warnings: list[dict] = []

    def total(t: float) -> RC.ConstraintSpec:
        return RC.ConstraintSpec("digitalised", "digitalised", float(t), source="--target")

    if constraints is None and target_pct is not None:
        return [total(target_pct)], "total", warnings
    name = "published" if constraints is None else constraints
    if isinstance(name, str) and (name in ("total", "published") or name.startswith("published:")):
        if territory != "VN":
            raise UsageError("PUBLISHED_CONSTRAINTS_NATIONAL",
                             "Các ràng buộc công bố là của cả nước; với một tỉnh hãy dùng --target hoặc tệp ràng buộc.",
                             "The published constraints are the nation's; for a province give --target or a constraints file.")
        specs = RC.published_constraints(year)
        if name.startswith("published:"):
            try:
                other_year = int(name.split(":", 1)[1])
            except ValueError:
                raise UsageError("BAD_CONSTRAINTS", f"'{name}': năm không hợp lệ.", f"'{name}': not a year.") from None
            comp = [s for s in RC.published_constraints(other_year) if s.kind == "composition"]
            if not comp:
                raise UsageError("NO_PUBLISHED_CONSTRAINTS", f"Năm {other_year} không có cơ cấu công bố.",
                                 f"No published composition for {other_year}.")
            specs = [s for s in specs if s.kind != "composition"] + comp
            if other_year != year:
                warnings.append({"code": "CONSTRAINTS_OTHER_YEAR",
                                 "vi": f"Dùng cơ cấu kinh tế số công bố cho năm {other_year} cho kỳ {period}.",
                                 "en": f"The digital economy's composition published for {other_year} is applied to {period}."})
        if name == "total":
            specs = [s for s in specs if s.kind == "digitalised"]
        if target_pct is not None:
            specs = [total(target_pct)] + [s for s in specs if s.kind != "digitalised"]
        if not specs:
            raise UsageError("NO_PUBLISHED_CONSTRAINTS",
                             f"Không có số công bố để hiệu chỉnh năm {year}; hãy cho --target hoặc tệp ràng buộc "
                             f"(các năm có số: {', '.join(map(str, RC.published_years()))}).",
                             f"No published figures to calibrate {year} on; give --target or a constraints file "
                             f"(years with figures: {', '.join(map(str, RC.published_years()))}).")
        return specs, name, warnings
    if isinstance(constraints, (str, Path)):
        specs = RC.read_constraints(constraints)
        if target_pct is not None:
            specs = [total(target_pct)] + [s for s in specs if s.kind != "digitalised"]
        return specs, f"file {Path(constraints).name}", warnings
    return list(constraints), "given", warnings


def _method_constraints(specs, version: int) -> tuple[list[A.Constraint], list[dict]]:
    """Specs → the method's constraints on the accounts' VSIC version (a cover without codes of
    that version is left out, ``CONSTRAINT_VSIC_VERSION``)."""
    out, warnings = [], []
    for s in specs:
        keys = s.keys(version)
        if keys is None:
            warnings.append({"code": "CONSTRAINT_VSIC_VERSION",
                             "vi": f"Ràng buộc {s.id}: không có mã VSIC {version} cho {s.cover_label}; bỏ qua.",
                             "en": f"Constraint {s.id}: no VSIC {version} codes for {s.cover_label}; left out.",
                             "constraint": s.id})
            continue
        out.append(A.Constraint(s.id, s.kind, s.target, keys, s.sense, s.tolerance, s.weight, s.precision, s.source))
    return out, warnings


def estimate_calibration(ws: Workspace, *, period: str, target_pct: float | None = None,
                         profile: pd.Series | None = None, territory: str = "VN", write: bool = True,
                         constraints=None) -> CoefEstimate:
    """Coefficients of ``territory`` (the nation by default) in ``period`` closest to a profile
    (the online revenue share by section unless one is given) that meet published constraints
    (:func:`kinhteso.methods.accounts.calibrate_to_constraints`). ``constraints``: None with
    ``target_pct`` (the digitalised share alone: the profile scaled by one k), ``"published"``
    (the year's published figures, ``reference/data/published/calibration_constraints.yaml``;
    ``target_pct`` replaces their total), ``"published:YEAR"``, ``"total"``, a YAML/CSV file or specs.
    The run's details hold every constraint with its source, target, achieved value and residual."""
    if territory != "VN":
        terr.get_territory(territory)
    specs, set_name, warnings = _constraint_specs(constraints, period, target_pct, territory)
    inp, prov, _ = PA.load_inputs(ws, territory, period)
    h = PA.hierarchy()
    version = int(prov.get("vsic_version") or 2018)
    sections = sorted({h.section(c) for c in inp.va.index})
    inp.coef_own, inp.coef_nat = pd.Series(dtype=float), pd.Series(1.0, index=sections)
    res = A.measure(inp, h, core=PA.default_core("gso", version))  # coefficients of 1: each industry's non-core VA
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
        profile_vintages = []
        note_profile = ";".join(f"{k}={float(v):.12g}" for k, v in sorted(profile.items()))
        source = f"user profile ({note_profile})"
    profile = pd.concat([profile.astype(float), pd.Series(0.0, index=other.index.difference(profile.index))])
    cons, more = _method_constraints(specs, version)
    warnings += more
    if not cons:
        raise UsageError("NO_CONSTRAINTS", f"Không ràng buộc nào áp dụng được cho số liệu mã VSIC {version}.",
                         f"No constraint applies to value added coded in VSIC {version}.")
    cal = A.calibrate_to_constraints(res.pieces, profile, cons, denominator=res.grdp)
    warnings += cal.warnings
    by_id = {s.id: s for s in specs}
    table = cal.table.assign(publisher=[by_id[i].publisher for i in cal.table.id],
                             release=[by_id[i].release for i in cal.table.id],
                             url=[by_id[i].url for i in cal.table.id], note=[by_id[i].note for i in cal.table.id])
    va_vintages = sorted(int(v) for v in ws.store.observations(
        indicator=["GRDP_VA", "GRDP", "ALLOC_RATIO"], territory=territory, period=period).vintage_id.unique())
    k = cal.k
    listing = "; ".join(f"{r.id} {r.sense} {r.target:g} → {r.achieved:.6g} (residual {r.residual:.3g})"
                        for r in table.itertuples() if r.applied)
    listing_vi = "; ".join(f"{r.id} {r.sense} {r.target:g} → {r.achieved:.6g} (sai lệch {r.residual:.3g})"
                           for r in table.itertuples() if r.applied)
    k_text = f"k={k:.6g}" if k is not None else "k=none"
    est = CoefEstimate(
        territory, period, "calibration", cal.coefficients, k=k,
        note=f"method=calibration (minimum distance, chi-square); constraints={set_name}: {listing}; profile={source}; "
             f"{k_text}; value-added vintages={va_vintages}",
        note_vi=f"phương pháp=hiệu chỉnh (khoảng cách tối thiểu, chi bình phương); ràng buộc={set_name}: {listing_vi}; "
                f"hồ sơ={source}; {k_text}; vintage giá trị tăng thêm={va_vintages}",
        inputs={"vintages": sorted(set(va_vintages) | set(profile_vintages))},
        details={"constraint_set": set_name, "feasible": cal.feasible, "vsic_version": version,
                 "constraints": _records(table), "warnings": warnings,
                 "cells": _records(cal.cells[["cell", "profile", "prior", "coefficient"]])})
    if write:
        est.run_id = write_coefficients(ws, est, illustrative=illustrative)
    return est


def _records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-safe records (NaN → None, numpy scalars → Python)."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, "item") else v)
                    for k, v in row.items()})
    return out


# --- process-digitalisation coefficients from a province's own records -------------------------
#: The method of section H's runs (``kinhteso:logistics-process`` where sources are listed); the
#: other declared sections' runs are ``process-digitalisation`` (``reference/data/process_coefficients.yaml``).
LOGISTICS_METHOD = "logistics-process"
#: Transport and storage in VSIC 2018 and VSIC 2025 (store keys): the codes the estimate scales are the
#: national coefficient's codes at or under these.
LOGISTICS_SECTIONS = ("H", "v2025:H")


def in_section(code: str, keys: tuple[str, ...], h=None) -> bool:
    """Whether a store sector key is one of the section ``keys`` (its VSIC 2018 and VSIC 2025 store
    keys: ``("Q", "v2025:R")`` for health) or under one."""
    h = h or PA.hierarchy()
    return code in keys or h.section(code) in keys


def in_logistics_section(code: str, h=None) -> bool:
    """Whether a store sector key is transport and storage (section H of either VSIC version) or under it."""
    return in_section(code, LOGISTICS_SECTIONS, h)


_COUNT_COLUMNS = ["territory", "year", "component", "digital", "records", "units", "basis"]


def _floats(values):
    return pd.to_numeric(values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)).to_numpy(
        dtype=float)


def process_counts(ws: Workspace, section: str | None = None) -> tuple[pd.DataFrame, list[int], bool]:
    """The counts behind each component of a section's process-digitalisation index (``section``: a
    VSIC 2018 letter of ``process_coefficients.yaml``; every declared section's components when None),
    per territory and year (Viet Nam time): ``territory, year, component, digital, records, units,
    basis``; the standing record vintages of the datasets read; whether any is illustrative.

    - a declared share (``share: {field, values}``): digital = the records whose field is one of the
      values, records = all the records (``basis`` ``records``);
    - a weighted share (``weight: W``): the sums of W over those records and over all the records
      reporting W (``basis`` ``sum``);
    - a ratio (``ratio: {numerator, denominator}``): the sums of the numerator and of the denominator
      over the records reporting both (visits, transactions, fees: ``basis`` ``sum``);
    - ``PORT_NSW_SHARE``: the vessel calls with ``nsw = Y`` among the calls (the year of departure).

    ``units`` is the number of distinct reporting units (the dataset's ``unit_field``) the counts rest
    on, None where the dataset names none. A record sent again in a later vintage is counted once,
    as the latest; a record's year is its ``period_field``'s."""
    from kinhteso.pipeline.logistics import LOCAL_OFFSET_HOURS  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415
    from kinhteso.reference.process_coef import COUNTED_BY_CODE, process_section, process_sections  # noqa: PLC0415
    from kinhteso.store import RECORD_TABLES  # noqa: PLC0415

    wanted = (set(process_section(section).components) if section is not None
              else {c for s in process_sections().values() for c in s.components})
    store = ws.store
    parts, used = [], set()

    def add(frame: pd.DataFrame, component: str, digital, records, unit: str | None, basis: str, dataset: str) -> None:
        used.add(dataset)
        if not len(frame):
            return
        f = pd.DataFrame({"territory": frame["territory"].to_numpy(), "year": frame["period"].str[:4].to_numpy(),
                          "digital": _floats(digital), "records": _floats(records),
                          "unit": frame[unit].to_numpy() if unit else None})
        g = f.groupby(["territory", "year"], as_index=False).agg(digital=("digital", "sum"), records=("records", "sum"),
                                                                 units=("unit", "nunique"))
        if not unit:
            g["units"] = None
        parts.append(g.assign(component=component, basis=basis))

    if "PORT_NSW_SHARE" in wanted and COUNTED_BY_CODE["PORT_NSW_SHARE"] in RECORD_TABLES:
        calls = store.vessel_calls(None, offset_hours=LOCAL_OFFSET_HOURS)
        add(calls, "PORT_NSW_SHARE", (calls["nsw"] == "Y").astype(int) if len(calls) else [], [1] * len(calls),
            "facility", "records", "vessel_calls")
    for ds in datasets().values():
        if ds.code not in RECORD_TABLES or ds.period_field is None:
            continue
        for d in ds.derived:
            if d.code not in wanted or not d.declared:
                continue
            fields = [d.share_field, d.share_weight] if d.share_field else list(d.ratio)
            fields = [f for f in dict.fromkeys([*fields, ds.unit_field]) if f]
            recs = store.records_by_quarter(ds.code, ds.period_field, fields, ds.key, offset_hours=LOCAL_OFFSET_HOURS)
            if d.share_field and d.share_weight is None:
                hit = recs[d.share_field].isin(d.share_values).astype(int)
                add(recs, d.code, hit, [1] * len(recs), ds.unit_field, "records", ds.code)
            elif d.share_field:
                w = recs[recs[d.share_weight].notna()]
                weight = pd.to_numeric(w[d.share_weight])
                add(w, d.code, weight.where(w[d.share_field].isin(d.share_values), 0.0), weight, ds.unit_field,
                    "sum", ds.code)
            else:
                num, den = d.ratio
                both = recs[recs[num].notna() & recs[den].notna()]
                add(both, d.code, both[num], both[den], ds.unit_field, "sum", ds.code)
    counts = pd.concat(parts, ignore_index=True)[_COUNT_COLUMNS] if parts else pd.DataFrame(columns=_COUNT_COLUMNS)
    vint = store.record_vintages()
    vint = vint[vint["dataset"].isin(used)]
    return counts, sorted(int(v) for v in vint["vintage_id"]), bool(vint["illustrative"].any()) if len(vint) else False


def logistics_counts(ws: Workspace) -> tuple[pd.DataFrame, list[int], bool]:
    """:func:`process_counts` of section H (transport and storage): the vessel calls, delivery orders,
    port payments, customs declarations and transport fares behind its components."""
    return process_counts(ws, "H")


def _national_coefficients(ws: Workspace, year: str) -> tuple[pd.Series, str | None, list, bool]:
    """The nation's DIGITAL_COEF for ``year``, chosen as the accounts choose it (one source, the
    period's or the latest earlier year's): (coefficients, their period, vintages and runs, illustrative)."""
    obs = PA.read_inputs(ws, [year], territories=["VN"])
    nation = PA.Rows(obs[obs.territory == "VN"])
    s, p, ids = PA._coef(nation, "DIGITAL_COEF", year, [], f"VN {year}", "national")  # noqa: SLF001
    return s, p, ids, nation.illustrative


def _national_logistics(ws: Workspace, year: str) -> tuple[pd.Series, str | None, list, bool]:
    """The nation's DIGITAL_COEF at or under section H (see :func:`_national_coefficients`)."""
    s, p, ids, ill = _national_coefficients(ws, year)
    h = PA.hierarchy()
    return s[[in_logistics_section(str(c), h) for c in s.index]], p, ids, ill


def estimate_process(ws: Workspace, *, section: str, territory: str, period: str, reference: float | None = None,
                     elasticity: float | None = None, min_records: float | None = None, min_units: int | None = None,
                     write: bool = True, counts: tuple[pd.DataFrame, list[int], bool] | None = None,
                     national: tuple[pd.Series, str | None, list, bool] | None = None) -> CoefEstimate:
    """DIGITAL_COEF of a declared section (``process_coefficients.yaml``: ``H``, ``Q``, ``P``, ``F``;
    its VSIC 2025 key ``v2025:R`` names the same) for ``territory`` in the year ``period`` from its
    records (:func:`kinhteso.methods.logistics_coef.process_coefficient`): the nation's coefficient of
    the section × (1 + η·(I − R)/R), bounded to 0–1. ``reference`` (percent): the reference index R;
    None pools every reporting territory's counts. Stored as one run of kind ``coef`` per province,
    section and year, with the section's method (``logistics-process`` for H,
    ``process-digitalisation`` for the others; its parameters: the section, the index, the reference,
    the factor, each component; its inputs: the section's record vintages and the national
    coefficient's vintages or runs). ``counts`` (:func:`process_counts` of the section) and
    ``national`` (:func:`_national_coefficients` of the year) may be given to read them once.

    A province without enough records (or none) keeps the national coefficient: the estimate then
    says so and stores nothing. ``NO_NATIONAL_COEF`` when the nation has no coefficient of the section."""
    from kinhteso.methods import logistics_coef as M  # noqa: PLC0415
    from kinhteso.reference.process_coef import process_section, settings  # noqa: PLC0415

    spec = process_section(section)
    sec = spec.section
    p = strict_period(period)
    if p.freq != "A":
        raise UsageError("COEF_ANNUAL", f"Hệ số số hóa ước tính theo năm, không theo kỳ {p.code}.",
                         f"Digitalisation coefficients are estimated for a year, not for {p.code}.")
    if territory == "VN":
        if sec == "H":
            raise UsageError("LOGISTICS_PROVINCE",
                             "Hệ số logistics là hệ số riêng của một tỉnh (so với mức tham chiếu); hãy chọn một tỉnh.",
                             "The logistics coefficient is a province's own (against the reference); name a province.")
        raise UsageError("PROCESS_COEF_PROVINCE",
                         f"Hệ số số hóa quy trình của ngành {sec} là hệ số riêng của một tỉnh (so với mức tham chiếu); "
                         "hãy chọn một tỉnh.",
                         f"The process-digitalisation coefficient of section {sec} is a province's own (against the "
                         "reference); name a province.")
    terr.get_territory(territory)
    year = p.code
    eta = M.DEFAULT_ELASTICITY if elasticity is None else float(elasticity)
    declared_records, declared_units = settings()
    n_min = declared_records if min_records is None else min_records
    u_min = declared_units if min_units is None else int(min_units)
    if not (math.isfinite(eta) and eta >= 0):
        raise UsageError("BAD_ELASTICITY", f"Độ co giãn η = {elasticity} phải là một số hữu hạn, không âm.",
                         f"The elasticity η = {elasticity} must be a finite, non-negative number.")
    if reference is not None and not 0 < float(reference) <= 100:
        raise UsageError("REFERENCE_RANGE", f"Chỉ số tham chiếu {reference} phải trong (0, 100] (%).",
                         f"The reference index {reference} must be in (0, 100] (percent).")
    nat_all, nat_period, nat_ids, nat_ill = national if national is not None else _national_coefficients(ws, year)
    h = PA.hierarchy()
    nat = nat_all[[in_section(str(c), spec.keys, h) for c in nat_all.index]]
    if nat.empty:
        raise UsageError("NO_NATIONAL_COEF",
                         f"Cả nước chưa có DIGITAL_COEF của ngành {sec} ({spec.vi}) cho {year}: không có gì để điều chỉnh.",
                         f"The nation has no DIGITAL_COEF of section {sec} ({spec.en}) for {year}: nothing to scale.")
    all_counts, vintages, rec_ill = counts if counts is not None else process_counts(ws, sec)
    year_counts = all_counts[(all_counts["year"] == year) & all_counts["component"].isin(list(spec.components))]
    own = year_counts[year_counts["territory"] == territory]
    ref = year_counts if reference is None else float(reference) / 100.0
    res = M.process_coefficient(own, nat, reference=ref, components=spec.components, elasticity=eta,
                                min_records=n_min, min_units=u_min)
    nat_text = ", ".join(f"{c}={v:.4g}" for c, v in nat.items())
    if res is None:
        return CoefEstimate(territory, year, spec.method, nat, run_id=None,
                            note=f"no {spec.records_en} of {territory} in {year} with at least {n_min} records per "
                                 f"component (for a ratio or weighted share: {n_min} of its denominator, from at least "
                                 f"{u_min} reporting units): the national coefficient applies to section {sec} "
                                 f"({nat_text})",
                            note_vi=f"{territory} chưa có {spec.records_vi} năm {year} (mỗi thành phần ít nhất {n_min} "
                                    f"bản ghi; với tỷ số hay tỷ lệ có trọng số: tổng mẫu số ít nhất {n_min}, từ ít nhất "
                                    f"{u_min} đơn vị báo cáo): ngành {sec} dùng hệ số cả nước ({nat_text})",
                            details={"section": sec})
    pooled = sorted(set(year_counts["territory"])) if reference is None else []
    comps = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
             for row in res.components.to_dict(orient="records")]
    details = {"section": sec, "section_keys": list(spec.keys),
               "index_pct": round(res.index * 100, 10), "reference_pct": round(res.reference * 100, 10),
               "reference": "pooled" if reference is None else "given", "reference_territories": pooled,
               "factor": res.factor, "elasticity": eta, "min_records": n_min, "min_units": u_min, "components": comps,
               "national": {str(c): float(v) for c, v in nat.items()}, "national_period": nat_period,
               "capped": res.capped}
    ref_en = (f"the reporting territories' pooled index {res.reference * 100:.1f} ({', '.join(pooled)})"
              if reference is None else f"the given reference {res.reference * 100:.1f}")
    ref_vi = (f"chỉ số gộp của các địa bàn có dữ liệu {res.reference * 100:.1f} ({', '.join(pooled)})"
              if reference is None else f"mức tham chiếu đã cho {res.reference * 100:.1f}")
    used = ", ".join(c["component"] for c in comps if c["used"])
    est = CoefEstimate(
        territory, year, spec.method, res.coefficients, k=res.factor,
        note=f"method={spec.method}; section {sec} ({spec.en}); process-digitalisation index {res.index * 100:.1f} "
             f"({used}) against {ref_en}; factor 1 + {eta:g}×(I − R)/R = {res.factor:.4f} on the national coefficient "
             f"({nat_text}, {nat_period})",
        note_vi=f"phương pháp {spec.method}; ngành {sec} ({spec.vi}); chỉ số số hóa quy trình {res.index * 100:.1f} "
                f"({used}) so với {ref_vi}; hệ số nhân 1 + {eta:g}×(I − R)/R = {res.factor:.4f} trên hệ số cả nước "
                f"({nat_text}, {nat_period})",
        inputs={"vintages": sorted({*vintages, *(i for i in nat_ids if isinstance(i, int))}),
                "runs": sorted(str(i) for i in nat_ids if isinstance(i, str))},
        details=details)
    if write:
        est.run_id = write_coefficients(ws, est, illustrative=rec_ill or nat_ill)
    return est


def estimate_logistics(ws: Workspace, *, territory: str, period: str, reference: float | None = None,
                       elasticity: float | None = None, min_records: float | None = None, write: bool = True,
                       counts: tuple[pd.DataFrame, list[int], bool] | None = None,
                       min_units: int | None = None) -> CoefEstimate:
    """:func:`estimate_process` of section H (transport and storage) from the province's logistics
    records: method ``logistics-process``."""
    return estimate_process(ws, section="H", territory=territory, period=period, reference=reference,
                            elasticity=elasticity, min_records=min_records, min_units=min_units, write=write,
                            counts=counts)


def refresh_process_coefficients(ws: Workspace, sections: list[str] | None = None,
                                 territories: list[str] | None = None,
                                 years: list[str] | None = None) -> list[CoefEstimate]:
    """Estimate and store the coefficient of every declared section (or of ``sections``) for every
    territory (or ``territories``) and every year its records cover (or ``years``), where the nation
    has a coefficient of the section; the estimates made (a province without enough records keeps
    the national coefficient, nothing stored; a province whose counts do not hold together — a
    ratio's numerator above its denominator — gets none, ``LOGISTICS_COUNTS``, and the others go on)."""
    from kinhteso.errors import MethodError  # noqa: PLC0415
    from kinhteso.reference.process_coef import process_section, process_sections  # noqa: PLC0415

    out, national = [], {}
    for sec in (list(process_sections()) if sections is None else [process_section(s).section for s in sections]):
        counts = process_counts(ws, sec)
        frame = counts[0]
        for year in sorted(set(frame["year"]) if years is None else years):
            keys = sorted(set(frame.loc[frame["year"] == year, "territory"]))
            for key in keys if territories is None else [t for t in territories if t in keys]:
                if year not in national:
                    national[year] = _national_coefficients(ws, year)
                try:
                    out.append(estimate_process(ws, section=sec, territory=key, period=year, counts=counts,
                                                national=national[year]))
                except UsageError as exc:
                    if exc.code != "NO_NATIONAL_COEF":
                        raise
                except MethodError as exc:
                    if exc.code != "LOGISTICS_COUNTS":
                        raise
    return out


def refresh_logistics_coefficients(ws: Workspace, territories: list[str] | None = None,
                                   years: list[str] | None = None) -> list[CoefEstimate]:
    """:func:`refresh_process_coefficients` of section H (transport and storage) alone."""
    return refresh_process_coefficients(ws, ["H"], territories, years)
