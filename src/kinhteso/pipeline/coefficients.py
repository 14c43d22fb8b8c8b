"""Estimating ``DIGITAL_COEF`` and storing it as a result (status E) with its method.

- ``revenue``: the online share of each industry's revenue (BEA's assumption), from
  ``ONLINE_REVENUE`` and ``EINVOICE_REVENUE`` (or any two revenue indicators) in the workspace;
  source ``kinhteso:revenue-share``.
- ``calibration``: a profile (the revenue shares above, or a file) scaled so that the national
  digitalised share equals a published figure; source ``kinhteso:calibration``.
- ``io``: the input-output estimator (``kinhteso io … --write-coef``; source ``kinhteso:io``).

Each estimate is one run of kind ``coef`` (its method: ``revenue-share``, ``calibration``, ``io``),
with its parameters and the vintages it read; the accounts read it as the source
``kinhteso:<method>``. An estimate is never stored as a submission.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kinhteso.errors import MethodError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.pipeline import accounts as PA
from kinhteso.reference import territories as terr
from kinhteso import __version__
from kinhteso.store import RunRecord
from kinhteso.workspace import Workspace

__all__ = ["CoefEstimate", "estimate_revenue", "estimate_calibration", "write_coefficients", "section_revenue_profile"]


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
                     parameters={"territory": est.territory, "period": est.period, "note": est.note},
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
