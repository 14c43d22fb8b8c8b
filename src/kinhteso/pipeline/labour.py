"""Digital-economy employment from the store: ``EMPLOYMENT`` by VSIC (labour-force survey) with
the accounts' own coefficients and allocation ratios (:mod:`kinhteso.pipeline.accounts`), run
through :func:`kinhteso.methods.sectoral.de_employment`. Nothing is stored.

For a territory and year: its ``EMPLOYMENT`` by industry and total (``_T``; for a 34-basis key
and a year reported on the 63 basis, the sums of its old provinces); ``DIGITAL_COEF`` and
``ALLOC_RATIO`` chosen exactly as the accounts choose them (the territory's own, else the
nation's, a carried-forward year said so); the nation's employment structure for a chained
allocation step without a ratio.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods import sectoral as S
from kinhteso.methods.merger import to_basis34
from kinhteso.pipeline import accounts as PA
from kinhteso.reference import territories as terr
from kinhteso.workspace import Workspace

__all__ = ["INDICATOR", "labour_shares", "no_employment"]

INDICATOR = "EMPLOYMENT"
#: Warnings that repeat the same assumption year after year: kept for the latest year only.
_ONCE = ("VA_RATIO_ON_EMPLOYMENT", "NATIONAL_FALLBACK")


def no_employment(key: str) -> dict:
    """The row error of a territory without employment by industry."""
    return {"code": "NO_EMPLOYMENT_DATA",
            "vi": f"{key}: chưa có số lao động theo ngành (EMPLOYMENT, từ Điều tra lao động việc làm) để tính tỷ lệ lao "
                  "động kinh tế số; hãy gửi EMPLOYMENT theo mã VSIC kèm tổng số '_T' (người).",
            "en": f"{key}: no employment by industry (EMPLOYMENT, from the labour-force survey) to compute the "
                  "digital-economy labour share; submit EMPLOYMENT by VSIC code with the total '_T' (persons)."}


def _employment(ws: Workspace, keys: Sequence[str]) -> pd.DataFrame:
    """Annual EMPLOYMENT of ``keys`` (34-basis keys summed from their old provinces where they
    have none of their own) and of the nation."""
    needed = sorted(terr.with_predecessors(keys) | {"VN"})
    obs = ws.store.observations(indicator=INDICATOR, territory=needed)
    obs = obs[obs.period.str.len() == 4]
    if obs.empty:
        return obs
    if any(k.startswith("34:") for k in keys):
        obs, _ = to_basis34(obs, terr.merger_map(), additive={INDICATOR: True})
    return obs[obs.territory.isin([*keys, "VN"])]


def labour_shares(ws: Workspace, keys: Sequence[str], *, view: str = "gso", method: str = "core",
                  years: int = 5) -> tuple[pd.DataFrame, dict[str, list[dict]]]:
    """``DE_LABOUR_SHARE`` of each key for its last ``years`` years with ``EMPLOYMENT``:
    (frame ``territory, period, sector, value, de_employment, employment, core, digitalised,
    illustrative``; each key's warnings, a year that cannot be computed named in them)."""
    keys = list(dict.fromkeys(keys))
    emp = _employment(ws, keys)
    cols = ["territory", "period", "sector", "value", "de_employment", "employment", "core", "digitalised",
            "illustrative"]
    warnings: dict[str, list[dict]] = {k: [] for k in keys}
    if emp.empty:
        return pd.DataFrame(columns=cols), warnings
    todo = {k: sorted(set(emp[emp.territory == k].period))[-years:] for k in keys}
    periods = sorted({p for ps in todo.values() for p in ps})
    if not periods:
        return pd.DataFrame(columns=cols), warnings
    h = PA.hierarchy()
    # the accounts' own choice of coefficients and allocation ratios (one read)
    obs = PA.read_inputs(ws, periods, territories=sorted(terr.with_predecessors(keys) | {"VN"}))
    nation = PA.Rows(obs[obs.territory == "VN"])
    frames = {k: PA.Rows(f) for k, f in PA.territory_frames(obs, keys, terr.merger_map()).items()}
    nat_emp = emp[emp.territory == "VN"]
    rows = []
    for k in keys:
        for p in todo[k]:
            e = emp[(emp.territory == k) & (emp.period == p)]
            w: list[dict] = []
            inp, prov = PA.territory_inputs(frames[k], nation, k, p, w)
            if method == "core":  # coefficients are not used: their carry-forward is no news
                w = [x for x in w if "DIGITAL_COEF" not in x.get("en", "")]
            ne = nat_emp[nat_emp.period == p] if k != "VN" else e.iloc[0:0]
            try:
                r = S.de_employment(pd.Series(e.value.to_numpy(dtype=float), index=e.sector.to_numpy()), h,
                                    method=method, view=view, coef_own=inp.coef_own, coef_nat=inp.coef_nat,
                                    alloc_own=inp.alloc_own, alloc_nat=inp.alloc_nat,
                                    emp_nat=pd.Series(ne.value.to_numpy(dtype=float), index=ne.sector.to_numpy()),
                                    label=f"{k} {p}")
            except MethodError as exc:
                warnings[k].append({"code": exc.code, "vi": exc.vi, "en": exc.en})
                continue
            w += r.warnings
            if k != "VN":
                PA.note_national_fallback(r.account, k, p, w)
            warnings[k] += w
            rows.append({"territory": k, "period": p, "sector": "_T", "value": r.share,
                         "de_employment": r.de_employment, "employment": r.total, "core": r.core,
                         "digitalised": r.digitalised,
                         "illustrative": bool(e.illustrative.any()) or bool(prov.get("illustrative"))})
    for k, ws_ in warnings.items():  # the same assumption every year: said once, for the latest year
        last = {w["code"]: i for i, w in enumerate(ws_) if w["code"] in _ONCE}
        warnings[k] = [w for i, w in enumerate(ws_) if w["code"] not in _ONCE or last[w["code"]] == i]
    return pd.DataFrame(rows, columns=cols), warnings
