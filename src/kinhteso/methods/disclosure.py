"""Disclosure control of what is shared back: the threshold (minimum frequency) rule.

A value kinhteso derives from agencies' records (a port's median dwell time, a share of hospitals
with electronic records) rests on a number of **reporting units** — the terminals, hospitals,
schools or offices whose records fed it (a dataset's ``unit_field``). A cell resting on fewer
than :data:`MIN_UNITS` units could reveal one unit's own figures to whoever knows the other
(or is the other), so it is **suppressed** before it is published: its value is removed and it
carries the flag ``C`` (confidential), the SDMX code list ``CL_CONF_STATUS``'s code for the
``OBS_CONF`` attribute; a published cell from records carries ``F`` (free).

Anchors:

- the *threshold rule* (minimum frequency) of primary cell suppression: Eurostat and the ESSnet
  on Statistical Disclosure Control, *Handbook on Statistical Disclosure Control* (Hundepool et
  al., 2010), §4.2 "Sensitivity rules: the threshold rule", as implemented by τ-Argus ("minimum
  frequency rule"); the usual minimum is 3 contributors, the value used here;
- Viet Nam's Law on Statistics 2015 (Luật Thống kê số 89/2015/QH13), Article 57: information of
  an individual organisation or person collected for statistics is kept confidential and may be
  published only as aggregates that do not identify it;
- SDMX cross-domain code list ``CL_CONF_STATUS`` (``C`` confidential, ``F`` free) for
  ``OBS_CONF``.

The rule reads only counts: a cell whose ``units`` is missing (NULL) was not derived from records
(an agency's aggregate, kinhteso's accounts) and is untouched; exactly :data:`MIN_UNITS` units
is published. A cell with no value (withdrawn) has nothing to suppress and keeps no flag.
Pure functions: no files, no database, no clock.

Tables of magnitudes built from microdata (e-invoice revenue by territory × VSIC × month × channel
× buyer type: issue 17) need more than the threshold: the dominance and p% rules and secondary
suppression across the table's totals. :mod:`kinhteso.methods.sdc` does that and reads the
threshold rule (:data:`MIN_UNITS`, :func:`below_threshold`) and the flags from here.

>>> import pandas as pd
>>> f = pd.DataFrame({"value": [54.0, 72.0, 10.0, None], "units": [3, 1, None, 0]})
>>> apply_threshold(f)[["value", "obs_conf"]].values.tolist()
[[54.0, 'F'], [nan, 'C'], [10.0, None], [nan, None]]
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = [
    "CONFIDENTIAL",
    "FREE",
    "MIN_UNITS",
    "RULE",
    "SECONDARY",
    "apply_threshold",
    "below_threshold",
    "cell_summary",
    "conf_flag",
    "is_confidential",
    "secondary_suppression",
]

#: The fewest reporting units a published cell may rest on (the threshold rule's n).
MIN_UNITS = 3
#: SDMX OBS_CONF codes (CL_CONF_STATUS): confidential (primary), secondary confidentiality, free.
CONFIDENTIAL = "C"
SECONDARY = "D"
FREE = "F"
#: The rule in words, as every interface states it beside a suppressed cell.
RULE = {
    "vi": (f"Quy tắc ngưỡng: ô số liệu tính từ bản ghi của ít hơn {MIN_UNITS} đơn vị báo cáo (bến, bệnh viện, "
           "trường, cơ quan) không được công bố, ghi 'C' (bí mật; Luật Thống kê 2015, Điều 57; quy tắc tần suất "
           "tối thiểu của Eurostat/τ-Argus)."),
    "en": (f"Threshold rule: a cell derived from the records of fewer than {MIN_UNITS} reporting units (terminals, "
           "hospitals, schools, offices) is not published and shows 'C' (confidential; Viet Nam's Law on "
           "Statistics 2015, art. 57; the minimum-frequency rule of Eurostat/τ-Argus)."),
}


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def is_confidential(units: Any, value: Any = 0.0) -> bool:
    """Whether a cell of ``units`` reporting units must be suppressed: ``units`` known and below
    :data:`MIN_UNITS`, and a value to suppress.

    >>> is_confidential(2), is_confidential(3), is_confidential(None), is_confidential(1, None)
    (True, False, False, False)
    """
    return not _missing(units) and int(units) < MIN_UNITS and not _missing(value)


def below_threshold(units: pd.Series, values: pd.Series | None = None, *, min_units: int = MIN_UNITS) -> pd.Series:
    """:func:`is_confidential` for a whole column at once (the threshold rule, vectorised): True
    where ``units`` is known and below ``min_units`` (default :data:`MIN_UNITS`) and, when
    ``values`` is given, the value is not missing. The magnitude tables of
    :mod:`kinhteso.methods.sdc` read the rule from here.

    >>> below_threshold(pd.Series([2, 3, None, 0]), pd.Series([1.0, 1.0, 1.0, None])).tolist()
    [True, False, False, False]
    """
    u = pd.to_numeric(units, errors="coerce")
    out = u.notna() & (u < min_units)
    if values is not None:
        out &= ~pd.isna(pd.Series(values).to_numpy())
    return out.astype(bool)


def conf_flag(units: Any, value: Any = 0.0) -> str | None:
    """The cell's OBS_CONF: ``C`` suppressed, ``F`` published from records, None when the rule
    does not apply (no units: not from records; or no value).

    >>> conf_flag(2), conf_flag(5), conf_flag(None)
    ('C', 'F', None)
    """
    if _missing(units) or _missing(value):
        return None
    return CONFIDENTIAL if int(units) < MIN_UNITS else FREE


def apply_threshold(frame: pd.DataFrame, *, value: str = "value", units: str = "units", flag: str = "obs_conf",
                    suppress: bool = True, exempt: pd.Series | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with the column ``flag`` (:func:`conf_flag` of each row) and, when
    ``suppress``, the value of every confidential row removed (NaN). ``exempt``: a boolean
    series (aligned on the frame's index) of rows shown unsuppressed although flagged ``C`` —
    those a reader may see in full (e.g. a cell resting only on the reader's own records).
    ``suppress=False`` flags without removing (what the workspace's own analyst sees)."""
    out = frame.copy()
    if not len(out):
        out[flag] = pd.Series(dtype=object)
        return out
    u = out[units] if units in out.columns else pd.Series([None] * len(out), index=out.index)
    flags = [conf_flag(n, v) for n, v in zip(u, out[value])]
    out[flag] = pd.Series(flags, index=out.index, dtype=object)
    if suppress:
        hide = out[flag] == CONFIDENTIAL
        if exempt is not None:
            hide &= ~exempt.reindex(out.index).fillna(False).astype(bool)
        if hide.any():
            out[value] = out[value].astype("float64")
            out.loc[hide, value] = float("nan")
    return out


def secondary_suppression(frame: pd.DataFrame, group: list[str], *, value: str = "value", flag: str = "obs_conf",
                          unit_sets: str = "unit_set", suppress: bool = True) -> pd.DataFrame:
    """Secondary suppression of additive cells (counts) broken down within ``group``: the group's
    total is published elsewhere, so the suppressed cells of a group are known together by
    subtraction; while the units behind them together (the union of their ``unit_sets``) are
    fewer than :data:`MIN_UNITS` and published cells remain, the smallest published cell is
    suppressed too, flagged ``D`` (CL_CONF_STATUS: secondary confidentiality). The Handbook on
    Statistical Disclosure Control (Hundepool et al. 2010), §4.3 "secondary cell suppression";
    the smallest cell loses the least information. ``frame`` is the output of
    :func:`apply_threshold` (values of ``C`` rows removed when ``suppress``); ``suppress=False``
    flags without removing.

    >>> f = pd.DataFrame({"t": ["a"] * 3, "value": [9.0, 4.0, 1.0], "units": [3, 3, 1],
    ...                   "unit_set": [("x", "y", "z"), ("x", "y", "w"), ("x",)]})
    >>> secondary_suppression(apply_threshold(f), ["t"])[["value", "obs_conf"]].values.tolist()
    [[9.0, 'F'], [nan, 'D'], [nan, 'C']]
    """
    out = frame.copy()
    if not len(out):
        return out
    keys = [out[g].fillna("") for g in group]
    for _, idx in out.groupby(keys, sort=False).groups.items():
        part = out.loc[idx]
        hidden = part[flag] == CONFIDENTIAL
        if not hidden.any():
            continue
        seen = {u for us in part.loc[hidden, unit_sets] for u in us}
        free = part[~hidden & part[value].notna()].sort_values(value, kind="stable")
        for pick, row in free.iterrows():
            if len(seen) >= MIN_UNITS:
                break
            out.loc[pick, flag] = SECONDARY
            seen |= set(row[unit_sets])
            if suppress:
                out[value] = out[value].astype("float64")
                out.loc[pick, value] = float("nan")
    return out


def cell_summary(counts: pd.DataFrame, by: list[str], *, own: str | None = None) -> pd.DataFrame:
    """Cells from record counts: ``counts`` has one row per (the ``by`` columns, ``unit``,
    ``source``) with ``records``; the answer has, per ``by`` cell, ``records`` (the sum),
    ``units`` (distinct non-missing ``unit`` values), ``sources`` (distinct sources, sorted and
    comma-joined), ``unit_set`` (the units, a sorted tuple: :func:`secondary_suppression`) and,
    with ``own`` (a source code), ``own_records`` (that source's records).

    >>> c = pd.DataFrame({"territory": ["34:31"] * 3, "unit": ["HICT", "TVT", "HICT"],
    ...                   "source": ["a", "b", "a"], "records": [5, 2, 1]})
    >>> cell_summary(c, ["territory"], own="a").to_dict(orient="records")
    [{'territory': '34:31', 'records': 8, 'units': 2, 'sources': 'a,b', 'unit_set': ('HICT', 'TVT'), 'own_records': 6}]
    """
    cols = [*by, "records", "units", "sources", "unit_set"] + (["own_records"] if own is not None else [])
    if not len(counts):
        return pd.DataFrame(columns=cols)
    c = counts.copy()
    c["records"] = c["records"].astype("int64")
    keys = [c[b].fillna("") for b in by]
    g = c.groupby(keys, sort=True, dropna=False)
    out = g["records"].sum().rename("records").to_frame()
    out["units"] = g["unit"].nunique(dropna=True)
    out["sources"] = g["source"].agg(lambda s: ",".join(sorted({str(x) for x in s if not _missing(x)})))
    out["unit_set"] = g["unit"].agg(lambda s: tuple(sorted({str(x) for x in s if not _missing(x)})))
    if own is not None:
        out["own_records"] = c["records"].where(c["source"] == own, 0).groupby(keys, sort=True, dropna=False).sum()
    out = out.reset_index()
    out.columns = cols
    out["units"] = out["units"].astype("int64")
    return out
