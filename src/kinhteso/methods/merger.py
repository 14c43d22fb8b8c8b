"""Re-expressing 63-province series on the 34-province basis (Resolution 202/2025/QH15).

Anchor: the GSO rule for additive series (value added, counts, population): a new province's
value is the sum of its old provinces' values. Shares are recomputed from their additive parts,
never averaged; index scores follow their publisher's rule (the DTI 2024 rule: the arithmetic
mean of the old provinces' main indices, see :func:`mean_of_predecessors`).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["to_basis34", "mean_of_predecessors", "STATUS_SEVERITY"]

#: SDMX OBS_STATUS, least to most uncertain: an aggregate takes its least certain part's status.
STATUS_SEVERITY = {"A": 0, "P": 1, "I": 2, "E": 3, "F": 4}
_KEY = ["indicator", "sector", "period", "price_basis", "unit"]


def _combine(obs: pd.DataFrame, mapping: pd.DataFrame, how: str) -> pd.DataFrame:
    """Aggregate 63-basis rows to their 34-basis successors where every predecessor is present."""
    if obs.empty:
        return obs.assign(derived_from=pd.Series(dtype="string"))
    needed = mapping.groupby("new_key")["old_key"].nunique().rename("n_needed")
    rows = obs.merge(mapping, left_on="territory", right_on="old_key", how="inner")
    rows["_sev"] = rows["status"].map(STATUS_SEVERITY).fillna(max(STATUS_SEVERITY.values()))
    if "source" in rows.columns:  # integer codes: string min/max would fall back to slow Python
        codes, uniques = pd.factorize(rows["source"].fillna(""), sort=True)
        rows["_src"] = codes
    grouped = rows.groupby(["new_key", *_KEY], dropna=False, sort=True)
    aggs = dict(value=("value", how), n=("old_key", "nunique"), _sev=("_sev", "max"))
    for col in ("illustrative", "vintage_id", "backcast"):  # carried when present: a demo part keeps its label
        if col in rows.columns:
            aggs[col] = (col, "max")
    if "source" in rows.columns:  # one source, or the first and last of several
        aggs["_src_min"] = ("_src", "min")
        aggs["_src_max"] = ("_src", "max")
    out = grouped.agg(**aggs).reset_index()
    if "_src_min" in out.columns:
        lo = pd.Series(uniques[out["_src_min"].to_numpy()], index=out.index)
        hi = pd.Series(uniques[out["_src_max"].to_numpy()], index=out.index)
        out["source"] = lo.where(lo == hi, lo + "+" + hi)
        out = out.drop(columns=["_src_min", "_src_max"])
    preds = mapping.groupby("new_key")["old_key"].apply(lambda s: "+".join(sorted(s)))
    out["derived_from"] = out["new_key"].map(preds)
    out = out.merge(needed, left_on="new_key", right_index=True)
    out = out[out["n"] == out["n_needed"]]
    inverse = {v: k for k, v in STATUS_SEVERITY.items()}
    out["status"] = out["_sev"].astype(int).map(inverse)
    out = out.rename(columns={"new_key": "territory"}).drop(columns=["n", "n_needed", "_sev"])
    return out


def to_basis34(obs: pd.DataFrame, mapping: pd.DataFrame, *, additive: dict[str, bool]) -> tuple[pd.DataFrame, list[str]]:
    """Observations on the 34 basis: 34-basis and national rows as stored, plus 63-basis
    additive series summed over the old provinces of each new one.

    **Parameters:** ``obs`` has columns ``indicator, territory, sector, period, price_basis,
    unit, value, status`` (territory keys ``63:xx``, ``34:xx`` or ``VN``); ``mapping`` has
    ``old_key, new_key``; ``additive`` maps an indicator code to whether it may be summed.

    **Returns:** the frame (with ``derived_from`` naming the summed provinces, empty for
    stored rows) and the sorted list of non-additive indicators whose 63-basis rows were left
    out. A new province is derived only when all its old provinces have a value for that key;
    a value reported directly on the 34 basis wins over a derived one.

    >>> obs = pd.DataFrame({"indicator": ["GRDP"] * 2, "territory": ["63:30", "63:31"],
    ...     "sector": "_T", "period": "2024", "price_basis": "current", "unit": "VND_BN",
    ...     "value": [1.0, 2.0], "status": "A"})
    >>> m = pd.DataFrame({"old_key": ["63:30", "63:31"], "new_key": ["34:31", "34:31"]})
    >>> to_basis34(obs, m, additive={"GRDP": True})[0][["territory", "value", "derived_from"]].values.tolist()
    [['34:31', 3.0, '63:30+63:31']]
    """
    is63 = obs["territory"].str.startswith("63:")
    keep = obs[~is63].assign(derived_from="")
    old = obs[is63]
    flags = old["indicator"].map(lambda c: bool(additive.get(c, False)))
    dropped = sorted(old.loc[~flags, "indicator"].unique().tolist())
    derived = _combine(old[flags], mapping, "sum")
    if len(derived):
        have = keep.set_index(["territory", *_KEY]).index
        derived = derived[~derived.set_index(["territory", *_KEY]).index.isin(have)]
    parts = [f for f in (keep, derived) if len(f)]
    out = pd.concat(parts, ignore_index=True, sort=False) if parts else keep
    return out.sort_values(["indicator", "territory", "sector", "period"], kind="stable").reset_index(drop=True), dropped


def mean_of_predecessors(obs: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    """Index scores on the 34 basis by the DTI 2024 rule: the arithmetic mean of the old
    provinces' scores (Ministry of Science and Technology, DTI 2024 results)."""
    return _combine(obs[obs["territory"].str.startswith("63:")], mapping, "mean")
