"""Composite indicators: the JRC/OECD Handbook's steps as a replayable pipeline.

Anchors:
- OECD/JRC (2008), *Handbook on Constructing Composite Indicators: Methodology and User Guide*
  (Nardo, Saisana, Saltelli, Tarantola, Hoffman, Giovannini), steps 3-8.
- COINr 1.1.14 (Becker, Caperna, Del Sorbo, Norlén, Papadimitriou, Saisana 2022, "COINr: An R
  package for developing composite indicators", JOSS 7(78), 4567). Names, defaults and
  conventions follow COINr's R sources (``R/denominate.R``, ``R/impute.R``, ``R/screen_units.R``,
  ``R/treat.R``, ``R/normalise.R``, ``R/aggregate.R``), so a statistician can check line by line.

The layers (cf. COINr's ``.numeric`` / ``.data.frame`` / ``.coin`` methods):

1. primitives on one vector or one matrix (``n_minmax``, ``a_amean`` ...), each in a registry
   dict (``NORMALISERS``, ``AGGREGATORS``, ``IMPUTERS``);
2. frame functions (``normalise_frame``, ``aggregate_frame`` ...), pandas in, pandas out;
3. the :class:`Coin` steps (``new_coin`` -> ``denominate`` -> ``impute`` -> ``screen`` ->
   ``treat`` -> ``normalise`` -> ``aggregate``), each keeping its dataset under its name and
   appending its *explicit* parameters to ``coin.log``; :func:`regen` replays the log.

Datasets are data frames indexed by row id (``uCode``, or ``uCode@Time`` for panel data) with
one column per indicator (and, in ``Aggregated``, per aggregate).

>>> import pandas as pd
>>> meta = pd.DataFrame({"Level": [1, 1, 2], "iCode": ["a", "b", "I"], "Direction": [1, 1, 1],
...     "Weight": [1, 1, 1], "Parent": ["I", "I", None],
...     "Type": ["Indicator", "Indicator", "Aggregate"]})
>>> data = pd.DataFrame({"uCode": ["X", "Y", "Z"], "a": [1.0, 2, 3], "b": [3.0, 2, 1.5]})
>>> coin = aggregate(normalise(new_coin(data, meta), dset="Raw"), dset="Normalised")
>>> [round(v, 4) for v in coin.data["Aggregated"]["I"]]
[50.0, 41.6667, 50.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinhteso.errors import InputRejected, MethodError, Problem, UsageError

__all__ = [
    "META_COLUMNS",
    "NODE_TYPES",
    "Coin",
    "NORMALISERS",
    "AGGREGATORS",
    "IMPUTERS",
    "WEIGHTINGS",
    "STEPS",
    "check_imeta",
    "check_idata",
    "hierarchy",
    "new_coin",
    "denominate",
    "impute",
    "screen",
    "treat",
    "normalise",
    "aggregate",
    "regen",
    "build",
    "normalise_vector",
    "normalise_frame",
    "aggregate_frame",
    "impute_frame",
    "treat_frame",
    "winsorise",
    "log_ct",
    "check_skew_kurt",
    "skew",
    "kurt",
    "get_weights",
    "effective_weights",
    "rank_scores",
    "scores_long",
    "get_corr",
    "cronbach_alpha",
    "strengths_weaknesses",
    "unit_profile",
    "compare_coins",
    "MERGE_RULES",
    "merge_units",
]

#: Columns of COINr's ``iMeta`` (plus optional ``Min``, ``Max`` goalposts).
META_COLUMNS = ("Level", "iCode", "iName", "Direction", "Weight", "Unit", "Target",
                "Denominator", "Parent", "Type", "Min", "Max")
#: Row types of ``iMeta`` (COINr ``check_iMeta``), plus ``Other`` for label columns.
NODE_TYPES = ("Indicator", "Aggregate", "Group", "Denominator", "Other")
_RESERVED = ("uCode", "uName", "Time")


# =============================================================================================
# Validation (COINr check_iMeta / check_iData), every problem listed before refusing
# =============================================================================================

def _p(code: str, vi: str, en: str, *, column: str = "", row: int | None = None, file: str = "") -> Problem:
    return Problem(code=code, vi=vi, en=en, column=column, row=row, file=file)


def check_imeta(imeta: pd.DataFrame, *, file: str = "") -> pd.DataFrame:
    """Validate a COINr ``iMeta`` table and return it cleaned (typed columns, one row per iCode).

    Anchor: COINr 1.1.14 ``check_iMeta`` (R/new_coin.R): required columns ``iCode, Level, Weight,
    Direction, Parent, Type``; types Indicator, Aggregate, Group, Denominator; parents must be
    aggregates. Added here: the hierarchy must be acyclic, weights and directions present.

    **Raises:** :class:`InputRejected` listing every problem (row numbers are file lines).
    """
    problems: list[Problem] = []
    m = imeta.copy()
    m.columns = [str(c).strip() for c in m.columns]
    for col in ("iCode", "Type"):
        if col not in m.columns:
            problems.append(_p("META_COLUMN", f"Thiếu cột bắt buộc '{col}' trong iMeta.",
                               f"Required column '{col}' is missing from iMeta.", column=col, file=file))
    if problems:
        raise InputRejected(problems, file=file)
    for col in META_COLUMNS:
        if col not in m.columns:
            m[col] = np.nan
    m["iCode"] = m["iCode"].astype(str).str.strip()
    m["Type"] = m["Type"].astype(str).str.strip()
    m["Parent"] = m["Parent"].map(lambda v: None if _blank(v) else str(v).strip())
    m["Denominator"] = m["Denominator"].map(lambda v: None if _blank(v) else str(v).strip())
    line = lambda i: int(i) + 2  # noqa: E731  (header is line 1)
    dup = m["iCode"][m["iCode"].duplicated()]
    for i, code in dup.items():
        problems.append(_p("META_DUPLICATE", f"Mã '{code}' xuất hiện nhiều lần; mỗi iCode phải duy nhất.",
                           f"Code '{code}' appears more than once; each iCode must be unique.",
                           column="iCode", row=line(i), file=file))
    for i, r in m.iterrows():
        t = r["Type"]
        if t not in NODE_TYPES:
            problems.append(_p("META_TYPE", f"Loại '{t}' không hợp lệ; cần một trong {', '.join(NODE_TYPES)}.",
                               f"Type '{t}' is not valid; expected one of {', '.join(NODE_TYPES)}.",
                               column="Type", row=line(i), file=file))
            continue
        if t not in ("Indicator", "Aggregate"):
            continue
        for col in ("Weight", "Level"):
            v = pd.to_numeric(pd.Series([r[col]]), errors="coerce").iloc[0]
            if pd.isna(v):
                problems.append(_p(f"META_{col.upper()}",
                                   f"'{r['iCode']}': thiếu hoặc sai giá trị {col} (cần một số).",
                                   f"'{r['iCode']}': {col} is missing or not a number (a number is expected).",
                                   column=col, row=line(i), file=file))
        d = pd.to_numeric(pd.Series([r["Direction"]]), errors="coerce").iloc[0]
        if t == "Indicator" and d not in (1, -1):
            problems.append(_p("META_DIRECTION", f"'{r['iCode']}': Direction phải là 1 hoặc -1.",
                               f"'{r['iCode']}': Direction must be 1 or -1.", column="Direction",
                               row=line(i), file=file))
        par = r["Parent"]
        if par is not None:
            ptype = m.loc[m["iCode"] == par, "Type"]
            if ptype.empty:
                problems.append(_p("META_PARENT", f"'{r['iCode']}': nút cha '{par}' không có trong iMeta.",
                                   f"'{r['iCode']}': parent '{par}' is not in iMeta.", column="Parent",
                                   row=line(i), file=file))
            elif ptype.iloc[0] != "Aggregate":
                problems.append(_p("META_PARENT_TYPE",
                                   f"'{r['iCode']}': nút cha '{par}' phải có Type = Aggregate.",
                                   f"'{r['iCode']}': parent '{par}' must have Type = Aggregate.",
                                   column="Parent", row=line(i), file=file))
    for col in ("Level", "Weight", "Direction", "Target", "Min", "Max"):
        m[col] = pd.to_numeric(m[col], errors="coerce").astype(float)
    nodes = m[m["Type"].isin(["Indicator", "Aggregate"])]
    if not problems and not (nodes["Type"] == "Indicator").any():
        problems.append(_p("META_NO_INDICATOR", "iMeta không có chỉ tiêu nào (Type = Indicator).",
                           "iMeta has no indicator (Type = Indicator).", column="Type", file=file))
    if not problems:
        parent = dict(zip(nodes["iCode"], nodes["Parent"]))
        for start in parent:
            seen, cur = [], start
            while cur is not None and cur not in seen:
                seen.append(cur)
                cur = parent.get(cur)
            if cur is not None:
                cyc = " -> ".join(seen[seen.index(cur):] + [cur])
                problems.append(_p("META_CYCLE", f"Cấu trúc phân cấp có vòng lặp: {cyc}.",
                                   f"The hierarchy has a cycle: {cyc}.", column="Parent", file=file))
                break
        children = set(nodes["Parent"].dropna())
        for code in nodes.loc[nodes["Type"] == "Aggregate", "iCode"]:
            if code not in children:
                problems.append(_p("META_EMPTY_AGGREGATE", f"Nhóm '{code}' không có thành phần con nào.",
                                   f"Aggregate '{code}' has no children.", column="iCode", file=file))
        problems += _weight_problems(m, nodes, file)
    if problems:
        raise InputRejected(problems, file=file)
    return m.reset_index(drop=True)


def _weight_problems(m: pd.DataFrame, nodes: pd.DataFrame, file: str) -> list[Problem]:
    """``BAD_WEIGHTS``: a negative weight (a weighted mean is defined for w ≥ 0 only: JRC/OECD
    Handbook, step 6), or an aggregate whose children all weigh 0 (its score would be 0/0).
    A zero weight on some children is allowed: COINr uses it to leave an indicator out."""
    problems: list[Problem] = []
    for i in nodes.index[nodes["Weight"] < 0]:
        code, w = nodes.at[i, "iCode"], nodes.at[i, "Weight"]
        problems.append(_p("BAD_WEIGHTS", f"'{code}': trọng số {w:g} âm; trọng số phải ≥ 0.",
                           f"'{code}': weight {w:g} is negative; weights must be ≥ 0.",
                           column="Weight", row=int(i) + 2, file=file))
    for parent, kids in nodes.groupby("Parent")["Weight"]:
        if len(kids) and (kids == 0).all():
            codes = ", ".join(nodes.loc[kids.index, "iCode"])
            problems.append(_p("BAD_WEIGHTS",
                               f"Nhóm '{parent}': mọi thành phần ({codes}) có trọng số 0; điểm của nhóm "
                               "sẽ là 0/0. Cho ít nhất một thành phần trọng số dương.",
                               f"Aggregate '{parent}': every child ({codes}) has weight 0; its score would be "
                               "0/0. Give at least one child a positive weight.", column="Weight", file=file))
    return problems


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def check_idata(idata: pd.DataFrame, imeta: pd.DataFrame, *, file: str = "") -> pd.DataFrame:
    """Validate COINr ``iData`` against a checked ``iMeta``; return it with numeric indicator columns.

    Anchor: COINr 1.1.14 ``check_iData`` (R/new_coin.R): a ``uCode`` column, unique per ``Time``;
    every indicator of ``iMeta`` a numeric column. Empty cells are missing values (NA).
    """
    problems: list[Problem] = []
    d = idata.copy()
    d.columns = [str(c).strip() for c in d.columns]
    if "uCode" not in d.columns:
        raise InputRejected([_p("DATA_UCODE", "iData thiếu cột 'uCode' (mã đơn vị).",
                                "iData has no 'uCode' column (unit codes).", column="uCode", file=file)], file=file)
    d["uCode"] = d["uCode"].astype(str).str.strip()
    keys = ["uCode", "Time"] if "Time" in d.columns else ["uCode"]
    dup = d[d.duplicated(keys)]
    for i, r in dup.iterrows():
        problems.append(_p("DATA_DUPLICATE_UNIT", f"Đơn vị '{r['uCode']}' xuất hiện nhiều lần (cùng kỳ).",
                           f"Unit '{r['uCode']}' appears more than once (same period).", column="uCode",
                           row=int(i) + 2, file=file))
    ind = imeta.loc[imeta["Type"] == "Indicator", "iCode"].tolist()
    needed = ind + imeta.loc[imeta["Type"] == "Group", "iCode"].tolist()
    for code in needed:
        if code not in d.columns:
            problems.append(_p("DATA_MISSING_COLUMN", f"iData thiếu cột '{code}' có trong iMeta.",
                               f"iData has no column '{code}', which iMeta lists.", column=code, file=file))
    for code in ind:
        if code not in d.columns:
            continue
        col = d[code]
        if col.dtype == object:
            s = col.map(lambda v: np.nan if _blank(v) else v)
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            for i in bad[bad].index[:20]:
                problems.append(_p("DATA_NOT_NUMERIC", f"Giá trị '{col[i]}' không phải là số.",
                                   f"Value '{col[i]}' is not a number.", column=code, row=int(i) + 2, file=file))
            d[code] = num
        else:
            d[code] = pd.to_numeric(col, errors="coerce")
        inf = np.isinf(d[code].to_numpy(dtype=float))
        for i in np.flatnonzero(inf)[:20]:
            problems.append(_p("DATA_NOT_FINITE", "Giá trị vô hạn; cần một số hữu hạn.",
                               "Infinite value; a finite number is expected.", column=code, row=int(i) + 2, file=file))
        if float(imeta.loc[imeta["iCode"] == code, "Weight"].iloc[0]) != 0:
            problems += _all_missing(d, code, file)
    if problems:
        raise InputRejected(problems, file=file)
    return d.reset_index(drop=True)


def _all_missing(d: pd.DataFrame, code: str, file: str) -> list[Problem]:
    """``DATA_ALL_MISSING``: an indicator with no value at all (in a panel, in some ``Time``).
    COINr would carry it through as an all-NA column: every normaliser returns NA (min and max
    of nothing), no imputation can fill it, and the aggregates quietly reweight to the other
    children, so the index changes meaning without a word. Remove it from iMeta (or its
    column's Time) instead. An indicator of weight 0 is left out of every aggregate and may be
    empty (DTI 2022 lists the smart-city pillar with weight 0 and no data)."""
    if not pd.api.types.is_numeric_dtype(d[code]):
        return []
    na = d[code].isna()
    if "Time" in d.columns:
        empty = [t for t, g in na.groupby(d["Time"]) if g.all()]
        if not empty or len(empty) == d["Time"].nunique():
            where_vi = where_en = ""
        else:
            shown = ", ".join(str(t) for t in empty[:8])
            where_vi, where_en = f" ở kỳ (Time) {shown}", f" in Time {shown}"
        if not empty:
            return []
    elif not na.all() or not len(na):
        return []
    else:
        where_vi = where_en = ""
    return [_p("DATA_ALL_MISSING",
               f"Chỉ tiêu '{code}' không có giá trị nào{where_vi}: không thể chuẩn hoá hay tổng hợp. "
               "Bỏ chỉ tiêu khỏi iMeta hoặc bổ sung số liệu.",
               f"Indicator '{code}' has no value at all{where_en}: it cannot be normalised or aggregated. "
               "Remove it from iMeta or supply its data.", column=code, file=file)]


@dataclass(frozen=True)
class Node:
    """One node of the framework: an indicator or an aggregate."""

    code: str
    type: str
    level: int
    weight: float
    parent: str | None
    children: tuple[str, ...]


def hierarchy(meta: pd.DataFrame) -> dict[str, Node]:
    """The framework tree from a checked ``iMeta``: nodes in bottom-up (aggregation) order.

    Any depth is allowed; aggregates come after all their children (a topological order, ties
    broken by ``Level`` then by the order of ``iMeta``), the same order COINr's level-by-level
    loop uses when levels are strict.
    """
    nodes = meta[meta["Type"].isin(["Indicator", "Aggregate"])]
    kids: dict[str, list[str]] = {c: [] for c in nodes["iCode"]}
    for c, p in zip(nodes["iCode"], nodes["Parent"]):
        if p is not None:
            kids[p].append(c)
    depth: dict[str, int] = {}

    def height(c: str) -> int:
        if c not in depth:
            depth[c] = 0 if not kids[c] else 1 + max(height(k) for k in kids[c])
        return depth[c]

    rows = list(nodes.itertuples(index=False))
    order = sorted(range(len(rows)), key=lambda i: (height(rows[i].iCode), rows[i].Level, i))
    out: dict[str, Node] = {}
    for i in order:
        r = rows[i]
        out[r.iCode] = Node(r.iCode, r.Type, int(r.Level), float(r.Weight), r.Parent, tuple(kids[r.iCode]))
    return out


# =============================================================================================
# Primitives: normalisation (COINr R/normalise.R), one vector, direction already applied
# =============================================================================================

def n_minmax(x: np.ndarray, *, l_u: Sequence[float] = (0.0, 100.0), **_: Any) -> np.ndarray:
    """Min-max onto ``[l, u]``: ``(x - min)/(max - min)·(u - l) + l`` (COINr ``n_minmax``; Handbook eq. 4.3)."""
    lo, hi = float(l_u[0]), float(l_u[1])
    mn, mx = np.nanmin(x), np.nanmax(x)
    if mn == mx:
        raise MethodError("NORMALISE_ZERO_RANGE", "Chỉ tiêu có giá trị không đổi: không thể chuẩn hóa min-max.",
                          "The indicator is constant: min-max normalisation is undefined.")
    return (x - mn) / (mx - mn) * (hi - lo) + lo


def n_zscore(x: np.ndarray, *, m_sd: Sequence[float] = (0.0, 1.0), **_: Any) -> np.ndarray:
    """z-score with mean ``m`` and s.d. ``sd``: ``(x - mean)/sd(x)·sd + m``, sample s.d. (COINr ``n_zscore``; eq. 4.2)."""
    sd = np.nanstd(x, ddof=1)
    if not sd > 0:
        raise MethodError("NORMALISE_ZERO_SD", "Độ lệch chuẩn bằng 0: không thể tính z-score.",
                          "Standard deviation is zero: z-scores are undefined.")
    return (x - np.nanmean(x)) / sd * float(m_sd[1]) + float(m_sd[0])


def n_goalposts(x: np.ndarray, *, gposts: Sequence[float], direction: int = 1, trunc2posts: bool = True,
                l_u: Sequence[float] = (0.0, 1.0), **_: Any) -> np.ndarray:
    """Goalposts (fixed bounds) ``(x - L)/(U - L)``, optionally clipped to [0, 1], then onto ``[l, u]``.

    COINr ``n_goalposts``: ``x`` arrives multiplied by ``direction``, so for ``direction = -1`` the
    goalposts are negated and the formula reversed, i.e. ``(U - x)/(U - L)`` on the original scale.
    DESI 2022 uses ``(x - Min)/(Max - Min)`` with fixed bounds, not clipped (×100).
    """
    g = np.asarray(gposts[:2], dtype=float)
    if direction == -1:
        g = -g
        y = (x - g[1]) / (g[0] - g[1])
    else:
        y = (x - g[0]) / (g[1] - g[0])
    if trunc2posts:
        y = np.where(y > 1, 1.0, np.where(y < 0, 0.0, y))
    return y * (float(l_u[1]) - float(l_u[0])) + float(l_u[0])


def _rank_min(x: np.ndarray) -> np.ndarray:
    """R ``rank(x, ties.method = "min", na.last = "keep")``: ascending, ties share the lower rank."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    v = x[ok]
    s = np.sort(v)
    out[ok] = np.searchsorted(s, v, side="left") + 1
    return out


def n_rank(x: np.ndarray, **_: Any) -> np.ndarray:
    """Ranks, higher value = higher rank, ties ``min`` (COINr ``n_rank``)."""
    return _rank_min(x)


def n_prank(x: np.ndarray, **_: Any) -> np.ndarray:
    """Percentile ranks ``(rank - 1)/(n - 1)`` (COINr ``n_prank``)."""
    return (_rank_min(x) - 1) / (np.sum(~np.isnan(x)) - 1)


def n_borda(x: np.ndarray, **_: Any) -> np.ndarray:
    """Borda scores ``rank - 1`` (COINr ``n_borda``)."""
    return _rank_min(x) - 1


def n_dist2max(x: np.ndarray, **_: Any) -> np.ndarray:
    """Distance to the maximum ``1 - (max - x)/(max - min)`` (COINr ``n_dist2max``)."""
    mn, mx = np.nanmin(x), np.nanmax(x)
    if mn == mx:
        raise MethodError("NORMALISE_ZERO_RANGE", "Chỉ tiêu có giá trị không đổi: không thể tính khoảng cách tới max.",
                          "The indicator is constant: distance to maximum is undefined.")
    return 1 - (mx - x) / (mx - mn)


def n_dist2targ(x: np.ndarray, *, targ: float, cap_max: bool = False, direction: int = 1, **_: Any) -> np.ndarray:
    """Distance to target ``1 - (targ - x)/(targ - min)``, capped at 1 if ``cap_max`` (COINr ``n_dist2targ``).

    The target is on the indicator's original scale; like ``x`` it is multiplied by ``direction``.
    """
    if targ is None or not np.isfinite(targ):
        raise MethodError("NORMALISE_NO_TARGET", "Thiếu giá trị mục tiêu (cột Target) cho chỉ tiêu.",
                          "The indicator has no target (Target column).")
    t = float(targ) * direction
    mn = np.nanmin(x)
    y = 1 - (t - x) / (t - mn)
    if cap_max:
        y = np.where(y > 1, 1.0, y)
    return y


def n_none(x: np.ndarray, **_: Any) -> np.ndarray:
    """No normalisation (COINr ``f_n = "none"``): the data, times the direction."""
    return x


@dataclass(frozen=True)
class Normaliser:
    """A normalisation method: the function and which per-indicator metadata it needs."""

    func: Callable[..., np.ndarray]
    needs: tuple[str, ...] = ()
    ranged: bool = False  # takes l_u (output range)
    clips: bool = False  # takes the clip flag


#: Normalisation methods by name (COINr ``n_*`` functions).
NORMALISERS: dict[str, Normaliser] = {
    "none": Normaliser(n_none),
    "minmax": Normaliser(n_minmax, ranged=True),
    "zscore": Normaliser(n_zscore),
    "goalposts": Normaliser(n_goalposts, needs=("Min", "Max"), ranged=True, clips=True),
    "rank": Normaliser(n_rank),
    "prank": Normaliser(n_prank),
    "dist2max": Normaliser(n_dist2max),
    "dist2targ": Normaliser(n_dist2targ, needs=("Target",), clips=True),
    "borda": Normaliser(n_borda),
}


def normalise_vector(x: np.ndarray, *, method: str = "minmax", direction: int = 1,
                     l_u: Sequence[float] | None = None, m_sd: Sequence[float] = (0.0, 1.0),
                     clip: bool | None = None, gposts: Sequence[float] | None = None,
                     target: float | None = None) -> np.ndarray:
    """Normalise one indicator (COINr ``Normalise.numeric``): ``x·direction`` then the method.

    **Parameters:** ``method`` a key of :data:`NORMALISERS`; ``l_u`` output range (minmax default
    0-100, goalposts default 0-1); ``m_sd`` z-score mean and s.d.; ``clip`` goalposts truncation
    (default True) or distance-to-target cap (default False); ``gposts`` (Min, Max) fixed bounds;
    ``target`` the target of ``dist2targ``.
    """
    spec = _normaliser(method)
    x = np.asarray(x, dtype=float) * direction
    if np.all(np.isnan(x)):
        return x.copy()
    kw: dict[str, Any] = {"direction": direction, "m_sd": m_sd}
    if spec.ranged:
        kw["l_u"] = l_u if l_u is not None else ((0.0, 100.0) if method == "minmax" else (0.0, 1.0))
    if method == "goalposts":
        if gposts is None or any(v is None or not np.isfinite(v) for v in gposts):
            raise MethodError("NORMALISE_NO_GOALPOSTS", "Thiếu cận dưới/cận trên (cột Min, Max) cho chỉ tiêu.",
                              "The indicator has no goalposts (Min, Max columns).")
        kw["gposts"] = gposts
        kw["trunc2posts"] = True if clip is None else clip
    if method == "dist2targ":
        kw["targ"] = target
        kw["cap_max"] = False if clip is None else clip
    y = spec.func(x, **kw)
    if y.shape != x.shape:  # COINr: "length of normalised vector not equal to length of x"
        raise MethodError("NORMALISE_LENGTH", "Kết quả chuẩn hóa có độ dài khác dữ liệu vào.",
                          "The normalised vector's length differs from the input's.")
    return y


def _normaliser(method: str) -> Normaliser:
    if method not in NORMALISERS:
        raise UsageError("UNKNOWN_NORMALISE", f"Phương pháp chuẩn hóa '{method}' không có; chọn một trong {', '.join(NORMALISERS)}.",
                         f"Unknown normalisation '{method}'; choose one of {', '.join(NORMALISERS)}.")
    return NORMALISERS[method]


def normalise_frame(X: pd.DataFrame, meta: pd.DataFrame, *, method: str = "minmax",
                    l_u: Sequence[float] | None = None, m_sd: Sequence[float] = (0.0, 1.0),
                    clip: bool | None = None) -> pd.DataFrame:
    """Normalise every indicator column of ``X`` with its ``Direction`` (and ``Min``/``Max``,
    ``Target`` where the method needs them) from ``meta`` (COINr ``Normalise.data.frame``)."""
    spec = _normaliser(method)
    info = meta.set_index("iCode")
    out = {}
    problems: list[Problem] = []
    for col in X.columns:
        r = info.loc[col]
        for need in spec.needs:
            if pd.isna(r[need]):
                problems.append(_p("META_MISSING_" + need.upper(),
                                   f"'{col}': phương pháp '{method}' cần cột {need} trong iMeta.",
                                   f"'{col}': method '{method}' needs column {need} in iMeta.", column=need))
        if problems:
            continue
        d = int(r["Direction"]) if not pd.isna(r["Direction"]) else 1
        try:
            out[col] = normalise_vector(X[col].to_numpy(dtype=float), method=method, direction=d, l_u=l_u,
                                        m_sd=m_sd, clip=clip, gposts=(r["Min"], r["Max"]), target=r["Target"])
        except MethodError as exc:
            raise MethodError(exc.code, f"'{col}': {exc.vi}", f"'{col}': {exc.en}") from exc
    if problems:
        raise InputRejected(problems)
    return pd.DataFrame(out, index=X.index)


# =============================================================================================
# Primitives: aggregation (COINr R/aggregate.R), rows = units, columns = children
# =============================================================================================

def _avail(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights with the missing children removed (COINr: ``w <- w[!is.na(x)]``)."""
    m = ~np.isnan(X)
    W = np.where(m, w[None, :], 0.0)
    return W, m


def a_amean(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Weighted arithmetic mean ``Σ w x / Σ w`` over the available ``x`` (COINr ``a_amean``; Handbook eq. 6.1)."""
    W, m = _avail(X, w)
    den = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (W * np.where(m, X, 0.0)).sum(axis=1) / den, np.nan)


def _positive(X: np.ndarray, w: np.ndarray, name: str, strict: bool = True) -> None:
    used = ~np.isnan(X) & (w[None, :] != 0)
    bad = (X <= 0) if strict else (X == 0)
    if np.any(bad & used):
        raise MethodError("AGGREGATE_NONPOSITIVE",
                          f"Trung bình {name} cần giá trị dương; hãy chuẩn hóa để loại số âm/0 (vd. min-max 1-100) hoặc chọn phép tổng hợp khác.",
                          f"The {name} mean needs positive values; normalise to remove zero/negative values (e.g. min-max 1-100) or use another aggregation.")


def a_gmean(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Weighted geometric mean ``exp(Σ w log x / Σ w)`` (COINr ``a_gmean``; Handbook eq. 6.4). Needs ``x > 0``."""
    _positive(X, w, "nhân (geometric)")
    W, m = _avail(X, w)
    den = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lx = np.where(m & (W != 0), np.log(np.where(m, X, 1.0)), 0.0)
        return np.where(den > 0, np.exp((W * lx).sum(axis=1) / den), np.nan)


def a_hmean(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Weighted harmonic mean ``Σ w / Σ (w/x)`` (COINr ``a_hmean``). Needs ``x ≠ 0``."""
    _positive(X, w, "điều hòa (harmonic)", strict=False)
    W, m = _avail(X, w)
    den = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(m & (W != 0), 1.0 / np.where(m, X, 1.0), 0.0)
        return np.where(den > 0, den / (W * inv).sum(axis=1), np.nan)


def a_genmean(X: np.ndarray, w: np.ndarray, *, p: float = 2.0, **_: Any) -> np.ndarray:
    """Weighted generalised (power) mean ``(Σ w x^p / Σ w)^(1/p)``; ``p = 0`` is the geometric mean
    (COINr ``a_genmean``). Needs ``x > 0``."""
    if p == 0:
        return a_gmean(X, w)
    _positive(X, w, "lũy thừa (generalised)")
    W, m = _avail(X, w)
    den = W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xp = np.where(m, np.where(m, X, 1.0) ** p, 0.0)
        return np.where(den > 0, ((W * xp).sum(axis=1) / den) ** (1.0 / p), np.nan)


def outrank_matrix(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Outranking matrix: ``O[i, j]`` = Σ weights where unit i beats j, plus half the ties (COINr ``outrankMatrix``)."""
    w = w / np.nansum(w)
    gt = (X[:, None, :] > X[None, :, :]).astype(float)
    eq = (X[:, None, :] == X[None, :, :]).astype(float)
    O = (gt * w).sum(axis=2) + (eq * w).sum(axis=2) / 2
    np.fill_diagonal(O, 0.0)
    return O


def a_copeland(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Copeland scores: the row sums of the outranking matrix (COINr ``a_copeland``; Handbook §6.1.3).

    Works on the whole matrix (COINr ``by_df = TRUE``); the data-availability threshold does not apply.
    """
    return outrank_matrix(X, w).sum(axis=1)


@dataclass(frozen=True)
class Aggregator:
    """An aggregation method; ``by_df`` methods see all units at once (COINr ``by_df``)."""

    func: Callable[..., np.ndarray]
    by_df: bool = False


#: Aggregation methods by name (COINr ``a_*`` functions).
AGGREGATORS: dict[str, Aggregator] = {
    "arithmetic": Aggregator(a_amean),
    "geometric": Aggregator(a_gmean),
    "harmonic": Aggregator(a_hmean),
    "generalised": Aggregator(a_genmean),
    "copeland": Aggregator(a_copeland, by_df=True),
}


def _aggregator(method: str) -> Aggregator:
    if method not in AGGREGATORS:
        raise UsageError("UNKNOWN_AGGREGATE", f"Phép tổng hợp '{method}' không có; chọn một trong {', '.join(AGGREGATORS)}.",
                         f"Unknown aggregation '{method}'; choose one of {', '.join(AGGREGATORS)}.")
    return AGGREGATORS[method]


def aggregate_frame(X: pd.DataFrame, meta: pd.DataFrame, *, method: str | Mapping[int, str] = "arithmetic",
                    weights: Mapping[str, float] | None = None, dat_thresh: float | Mapping[str, float] | None = None,
                    p: float = 2.0) -> pd.DataFrame:
    """Aggregate up the whole hierarchy (COINr ``Aggregate.coin``); returns ``X`` plus one column per aggregate.

    ``method`` is one name, or a dict ``{level: name}`` (COINr ``f_ag`` per level, keyed by the
    level of the aggregate). ``weights`` overrides ``meta``'s ``Weight`` by iCode. ``dat_thresh``
    (a number or ``{aggregate: number}``): a unit gets NA when its share of available children is
    below the threshold (COINr ``dat_thresh``).
    """
    tree = hierarchy(meta)
    w_all = {c: n.weight for c, n in tree.items()}
    if weights:
        w_all.update({k: float(v) for k, v in weights.items()})
    vals = {c: X[c].to_numpy(dtype=float) for c in X.columns}
    out = X.copy()
    for code, node in tree.items():
        if node.type != "Aggregate":
            continue
        name = method.get(node.level, "arithmetic") if isinstance(method, Mapping) else method
        agg = _aggregator(name)
        kids = [k for k in node.children if k in vals]
        if not kids:
            raise MethodError("AGGREGATE_NO_DATA", f"Nhóm '{code}' không còn thành phần nào có dữ liệu.",
                              f"Aggregate '{code}' has no child with data left.")
        M = np.column_stack([vals[k] for k in kids])
        w = np.array([w_all[k] for k in kids], dtype=float)
        try:
            y = agg.func(M, w, p=p)
        except MethodError as exc:
            raise MethodError(exc.code, f"'{code}': {exc.vi}", f"'{code}': {exc.en}") from exc
        th = dat_thresh.get(code) if isinstance(dat_thresh, Mapping) else dat_thresh
        if th is not None and not agg.by_df:
            y = np.where((~np.isnan(M)).mean(axis=1) < th, np.nan, y)
        vals[code] = y
        out[code] = y
    return out


# =============================================================================================
# Denominate, impute, screen (COINr R/denominate.R, R/impute.R, R/screen_units.R)
# =============================================================================================

def i_mean(x: np.ndarray, **_: Any) -> np.ndarray:
    """Replace NAs by the mean of the available values (COINr ``i_mean``)."""
    return np.where(np.isnan(x), np.nanmean(x) if np.any(~np.isnan(x)) else np.nan, x)


def i_median(x: np.ndarray, **_: Any) -> np.ndarray:
    """Replace NAs by the median (COINr ``i_median``)."""
    return np.where(np.isnan(x), np.nanmedian(x) if np.any(~np.isnan(x)) else np.nan, x)


def _by_group(x: np.ndarray, f: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    out = x.copy()
    for g in pd.unique(f):
        sel = f == g
        out[sel] = fn(x[sel])
    return out


def i_mean_grp(x: np.ndarray, *, f: np.ndarray, **_: Any) -> np.ndarray:
    """Replace NAs by the mean of the unit's group (COINr ``i_mean_grp``); NA stays when the group has no data."""
    return _by_group(x, f, i_mean)


def i_median_grp(x: np.ndarray, *, f: np.ndarray, **_: Any) -> np.ndarray:
    """Replace NAs by the median of the unit's group (COINr ``i_median_grp``)."""
    return _by_group(x, f, i_median)


def i_locf(x: np.ndarray, *, t: np.ndarray, **_: Any) -> np.ndarray:
    """Last observation carried forward along time ``t`` within one unit (COINr ``impute_panel``, ``imp_type = "latest"``)."""
    o = np.argsort(t, kind="stable")
    s = pd.Series(x[o]).ffill().to_numpy()
    out = np.empty_like(x)
    out[o] = s
    return out


def i_linear(x: np.ndarray, *, t: np.ndarray, **_: Any) -> np.ndarray:
    """Linear interpolation over time within one unit; no extrapolation beyond the first/last
    observation (COINr ``impute_panel``, ``imp_type = "linear"``, with ``stats::approx`` ``rule = 1``)."""
    out = x.copy()
    ok = ~np.isnan(x)
    if ok.sum() >= 2:
        tt = np.asarray(t, dtype=float)
        inside = ~ok & (tt > tt[ok].min()) & (tt < tt[ok].max())
        o = np.argsort(tt[ok])
        out[inside] = np.interp(tt[inside], tt[ok][o], x[ok][o])
    return out


@dataclass(frozen=True)
class Imputer:
    """An imputation method; ``over`` = what it runs within: all units, a group column, or a unit's time series."""

    func: Callable[..., np.ndarray]
    over: str = "all"  # "all" | "group" | "time"


#: Imputation methods by name (COINr ``i_*`` functions and ``impute_panel``).
IMPUTERS: dict[str, Imputer] = {
    "none": Imputer(lambda x, **_: x),
    "mean": Imputer(i_mean),
    "median": Imputer(i_median),
    "group-mean": Imputer(i_mean_grp, over="group"),
    "group-median": Imputer(i_median_grp, over="group"),
    "locf": Imputer(i_locf, over="time"),
    "linear": Imputer(i_linear, over="time"),
}


def impute_frame(X: pd.DataFrame, *, method: str = "mean", groups: pd.Series | None = None,
                 units: pd.Series | None = None, times: pd.Series | None = None) -> pd.DataFrame:
    """Impute each column of ``X`` (COINr ``Impute.data.frame`` with ``impute_by = "column"``).

    ``groups`` (aligned with ``X``) for the group methods; ``units`` and ``times`` for the time
    methods, which run within each unit's time series.
    """
    if method not in IMPUTERS:
        raise UsageError("UNKNOWN_IMPUTE", f"Phương pháp quy nạp '{method}' không có; chọn một trong {', '.join(IMPUTERS)}.",
                         f"Unknown imputation '{method}'; choose one of {', '.join(IMPUTERS)}.")
    imp = IMPUTERS[method]
    out = X.copy()
    for col in X.columns:
        x = X[col].to_numpy(dtype=float)
        if imp.over == "group":
            if groups is None:
                raise UsageError("IMPUTE_NO_GROUP", "Quy nạp theo nhóm cần một cột nhóm.",
                                 "Group imputation needs a group column.")
            y = imp.func(x, f=groups.astype(str).to_numpy())
        elif imp.over == "time":
            if units is None or times is None:
                raise UsageError("IMPUTE_NO_TIME", "Quy nạp theo thời gian cần dữ liệu bảng có cột Time.",
                                 "Imputation over time needs panel data with a Time column.")
            y = x.copy()
            u = units.to_numpy()
            t = times.to_numpy(dtype=float)
            for code in pd.unique(u):
                sel = u == code
                y[sel] = imp.func(x[sel], t=t[sel])
        else:
            y = imp.func(x)
        out[col] = y
    return out


# =============================================================================================
# Treat (COINr R/treat.R): skew/kurtosis check, winsorisation, log fallback
# =============================================================================================

def skew(x: np.ndarray) -> float:
    """Sample skewness, e1071 type 2 (= Excel SKEW), NAs removed (COINr ``skew``)."""
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 3:
        return float("nan")
    d = x - x.mean()
    y = math.sqrt(n) * np.sum(d**3) / (np.sum(d**2) ** 1.5)
    return float(y * math.sqrt(n * (n - 1)) / (n - 2))


def kurt(x: np.ndarray) -> float:
    """Sample excess kurtosis, e1071 type 2 (= Excel KURT), NAs removed (COINr ``kurt``)."""
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 4:
        return float("nan")
    d = x - x.mean()
    r = n * np.sum(d**4) / (np.sum(d**2) ** 2)
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def check_skew_kurt(x: np.ndarray, *, skew_thresh: float = 2.0, kurt_thresh: float = 3.5) -> dict[str, Any]:
    """COINr ``check_SkewKurt``: passes when ``|skew| < skew_thresh`` OR ``kurt < kurt_thresh``."""
    sk, kt = skew(x), kurt(x)
    ok = None if (math.isnan(sk) or math.isnan(kt)) else bool(abs(sk) < skew_thresh or kt < kurt_thresh)
    return {"Pass": ok, "Skew": sk, "Kurt": kt}


def winsorise(x: np.ndarray, *, winmax: int | None = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
              force_win: bool = False) -> dict[str, Any]:
    """COINr ``winsorise``: while the check fails and fewer than ``winmax`` points are winsorised,
    reassign the highest (skew ≥ 0) or lowest (skew < 0) value(s) to the next value inside.

    The count follows COINr exactly: ``nwin = length(imax) + length(imin)``, where ``imax``/``imin``
    are the positions of the current extreme, which include every point already moved to it.
    """
    x = np.asarray(x, dtype=float).copy()
    passing = check_skew_kurt(x, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh)["Pass"]
    nwin = 0
    imax = np.array([], dtype=int)
    imin = np.array([], dtype=int)
    below = lambda: winmax is None or nwin < winmax  # noqa: E731
    if (not passing) or force_win:
        while ((not passing) or force_win) and below():
            if skew(x) >= 0:
                imax = np.flatnonzero(x == np.nanmax(x))
                rest = np.delete(x, imax)
                x[imax] = np.nanmax(rest)
            else:
                imin = np.flatnonzero(x == np.nanmin(x))
                rest = np.delete(x, imin)
                x[imin] = np.nanmin(rest)
            nwin = len(imax) + len(imin)
            passing = check_skew_kurt(x, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh)["Pass"]
    treated = np.full(len(x), "", dtype=object)
    treated[imax] = "winhi"
    treated[imin] = "winlo"
    return {"x": x, "nwin": nwin, "treated": treated}


def log_ct(x: np.ndarray) -> dict[str, Any]:
    """COINr ``log_CT``: ``log(x - min(x) + 0.01·(max(x) - min(x)))``."""
    mn, mx = np.nanmin(x), np.nanmax(x)
    return {"x": np.log(x - mn + 0.01 * (mx - mn)), "treated": np.full(len(x), "log_CT", dtype=object)}


def treat_vector(x: np.ndarray, *, winmax: int | None = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
                 log_fallback: bool = True) -> dict[str, Any]:
    """COINr ``Treat.numeric`` with its defaults: check; if it fails, winsorise; check again; if it
    still fails, ``log_CT`` of the *original* ``x`` (``combine_treat = FALSE``) and check a third time.

    Returns ``x``, ``details`` (the Dets_Table row: ``check_SkewKurt0.Pass`` ...) and ``treated``.
    """
    x = np.asarray(x, dtype=float)
    det: dict[str, Any] = {}
    c0 = check_skew_kurt(x, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh)
    det.update({f"check_SkewKurt0.{k}": v for k, v in c0.items()})
    treated = np.full(len(x), "", dtype=object)
    if c0["Pass"] is None or c0["Pass"]:
        return {"x": x.copy(), "details": det, "treated": treated}
    w = winsorise(x, winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh)
    det["winsorise.nwin"] = w["nwin"]
    treated = w["treated"]
    c1 = check_skew_kurt(w["x"], skew_thresh=skew_thresh, kurt_thresh=kurt_thresh)
    det.update({f"check_SkewKurt1.{k}": v for k, v in c1.items()})
    if c1["Pass"] or not log_fallback:
        return {"x": w["x"], "details": det, "treated": treated}
    lg = log_ct(x)
    c2 = check_skew_kurt(lg["x"], skew_thresh=skew_thresh, kurt_thresh=kurt_thresh)
    det.update({f"check_SkewKurt2.{k}": v for k, v in c2.items()})
    return {"x": lg["x"], "details": det, "treated": lg["treated"]}


def treat_frame(X: pd.DataFrame, *, winmax: int | None = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
                log_fallback: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Treat every column (COINr ``Treat.data.frame``): (treated data, Dets_Table, Treated_Points)."""
    out, rows, pts = X.copy(), [], {}
    for col in X.columns:
        r = treat_vector(X[col].to_numpy(dtype=float), winmax=winmax, skew_thresh=skew_thresh,
                         kurt_thresh=kurt_thresh, log_fallback=log_fallback)
        out[col] = r["x"]
        rows.append({"iCode": col, **r["details"]})
        pts[col] = r["treated"]
    return out, pd.DataFrame(rows), pd.DataFrame(pts, index=X.index)


# =============================================================================================
# Weights (Handbook step 6): manual, equal, PCA; effective weights
# =============================================================================================

def w_manual(meta: pd.DataFrame, data: pd.DataFrame | None = None) -> dict[str, float]:
    """The weights of ``iMeta`` (COINr ``w = NULL``: ``coin$Meta$Ind$Weight``)."""
    return {c: n.weight for c, n in hierarchy(meta).items()}


def w_equal(meta: pd.DataFrame, data: pd.DataFrame | None = None) -> dict[str, float]:
    """Equal weights within every aggregate (COINr ``get_eq_weights``)."""
    return {c: 1.0 for c in hierarchy(meta)}


def w_pca(meta: pd.DataFrame, data: pd.DataFrame | None = None) -> dict[str, float]:
    """PCA weights: within each aggregate, the squared loadings of the first principal component
    of its (standardised, complete-case) children, scaled to sum to one (Handbook §6.1, Nicoletti
    et al. 2000; COINr ``get_PCA``, ``weights_to_vector``). Needs the children's scores in ``data``
    (normalised indicators and lower aggregates)."""
    if data is None:
        raise UsageError("PCA_NO_DATA", "Trọng số PCA cần dữ liệu đã chuẩn hóa và tổng hợp.",
                         "PCA weights need the normalised and aggregated data.")
    tree = hierarchy(meta)
    w = {c: n.weight for c, n in tree.items()}
    for code, node in tree.items():
        if node.type != "Aggregate" or len(node.children) < 2:
            continue
        M = data[list(node.children)].dropna().to_numpy(dtype=float)
        if len(M) < 3:
            raise MethodError("PCA_TOO_FEW", f"'{code}': quá ít đơn vị đủ dữ liệu để tính PCA.",
                              f"'{code}': too few complete units for PCA.")
        Z = (M - M.mean(axis=0)) / M.std(axis=0, ddof=1)
        _, vecs = np.linalg.eigh(np.cov(Z, rowvar=False))
        load = vecs[:, -1] ** 2
        for k, v in zip(node.children, load / load.sum()):
            w[k] = float(v)
    return w


#: Weighting methods by name.
WEIGHTINGS: dict[str, Callable[..., dict[str, float]]] = {"manual": w_manual, "equal": w_equal, "pca": w_pca}


def get_weights(meta: pd.DataFrame, *, method: str = "manual", data: pd.DataFrame | None = None) -> dict[str, float]:
    """Weights by method name (:data:`WEIGHTINGS`), as ``{iCode: weight}``."""
    if method not in WEIGHTINGS:
        raise UsageError("UNKNOWN_WEIGHTS", f"Cách tính trọng số '{method}' không có; chọn một trong {', '.join(WEIGHTINGS)}.",
                         f"Unknown weighting '{method}'; choose one of {', '.join(WEIGHTINGS)}.")
    return WEIGHTINGS[method](meta, data)


def effective_weights(meta: pd.DataFrame, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Each node's effective weight in its root: the product, up the tree, of its weight share
    among its siblings (COINr ``get_eff_weights``). Columns ``iCode, Type, Level, Parent, Weight,
    share, effective``; the effective weights of the indicators under one root sum to one."""
    tree = hierarchy(meta)
    w = {c: n.weight for c, n in tree.items()}
    if weights:
        w.update(weights)
    share = {}
    for c, n in tree.items():
        sib = tree[n.parent].children if n.parent else (c,)
        tot = sum(w[s] for s in sib)
        share[c] = w[c] / tot if tot else float("nan")
    rows = []
    for c, n in tree.items():
        e, cur = 1.0, c
        while cur is not None and tree[cur].parent is not None:
            e *= share[cur]
            cur = tree[cur].parent
        rows.append({"iCode": c, "Type": n.type, "Level": n.level, "Parent": n.parent, "Weight": w[c],
                     "share": share[c] if n.parent else 1.0, "effective": e})
    return pd.DataFrame(rows)


# =============================================================================================
# The coin: named datasets + metadata + ordered log; steps named after the Handbook's steps
# =============================================================================================

@dataclass
class Coin:
    """A composite indicator under construction (COINr's ``coin``).

    ``data``: named datasets (``Raw``, ``Denominated``, ``Imputed``, ``Screened``, ``Treated``,
    ``Normalised``, ``Aggregated``), each indexed by row id; ``units``: one row per row id of
    ``Raw`` (``uCode``, ``uName``, ``Time``, groups, denominators); ``meta``: the checked
    ``iMeta``; ``log``: the steps run, each ``(name, explicit parameters)``; ``analysis``:
    by-products of steps (treatment details, screening results...).
    """

    meta: pd.DataFrame
    units: pd.DataFrame
    data: dict[str, pd.DataFrame] = field(default_factory=dict)
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)

    @property
    def indicators(self) -> list[str]:
        return self.meta.loc[self.meta["Type"] == "Indicator", "iCode"].tolist()

    @property
    def aggregates(self) -> list[str]:
        return [c for c, n in hierarchy(self.meta).items() if n.type == "Aggregate"]

    @property
    def panel(self) -> bool:
        return "Time" in self.units.columns and self.units["Time"].nunique() > 1

    def __repr__(self) -> str:
        return (f"<Coin {len(self.units)} rows, {len(self.indicators)} indicators, "
                f"{len(self.aggregates)} aggregates; datasets {list(self.data)}>")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Coin) or list(self.data) != list(other.data) or not _same_log(self.log, other.log):
            return False
        return all(self.data[k].equals(other.data[k]) for k in self.data) and self.meta.equals(other.meta)


def _same_log(a: list, b: list) -> bool:
    def same(x: Any, y: Any) -> bool:
        if isinstance(x, pd.DataFrame) or isinstance(y, pd.DataFrame):
            return isinstance(x, pd.DataFrame) and isinstance(y, pd.DataFrame) and x.equals(y)
        return bool(x == y)
    return len(a) == len(b) and all(
        n1 == n2 and p1.keys() == p2.keys() and all(same(p1[k], p2[k]) for k in p1)
        for (n1, p1), (n2, p2) in zip(a, b))


def _with(coin: Coin, step: str, params: dict[str, Any], dset_name: str, df: pd.DataFrame) -> Coin:
    new = Coin(meta=coin.meta, units=coin.units, data=dict(coin.data), log=list(coin.log) + [(step, params)],
               analysis=dict(coin.analysis))
    new.data[dset_name] = df
    return new


def _get(coin: Coin, dset: str) -> pd.DataFrame:
    if dset not in coin.data:
        raise UsageError("UNKNOWN_DSET", f"Không có bộ dữ liệu '{dset}'; hiện có: {', '.join(coin.data)}.",
                         f"No dataset '{dset}'; available: {', '.join(coin.data)}.")
    return coin.data[dset]


def new_coin(idata: pd.DataFrame, imeta: pd.DataFrame) -> Coin:
    """Build a coin from COINr-format ``iData`` and ``iMeta`` (COINr ``new_coin``); checks both."""
    meta = check_imeta(imeta)
    d = check_idata(idata, meta)
    ind = meta.loc[meta["Type"] == "Indicator", "iCode"].tolist()
    rid = d["uCode"] if "Time" not in d.columns or d["Time"].nunique() <= 1 else d["uCode"] + "@" + d["Time"].astype(str)
    units = d.drop(columns=ind).set_index(pd.Index(rid, name="row"))
    raw = d[ind].set_index(pd.Index(rid, name="row")).astype(float)
    coin = Coin(meta=meta, units=units, data={"Raw": raw})
    coin.log.append(("new_coin", {"idata": idata.copy(), "imeta": imeta.copy()}))
    return coin


def denominate(coin: Coin, *, dset: str = "Raw", denominators: Mapping[str, str] | None = None,
               write_to: str = "Denominated") -> Coin:
    """Divide indicators by their denominators (COINr ``Denominate``; Handbook step 3): ``x / d``.

    ``denominators`` maps iCode → denominator column of ``iData``; default the ``Denominator``
    column of ``iMeta``.
    """
    X = _get(coin, dset).copy()
    if denominators is None:
        m = coin.meta[(coin.meta["Type"] == "Indicator") & coin.meta["Denominator"].notna()]
        denominators = dict(zip(m["iCode"], m["Denominator"]))
    problems = []
    for ic, dn in denominators.items():
        if dn not in coin.units.columns:
            problems.append(_p("DENOMINATOR_MISSING", f"'{ic}': không có cột mẫu số '{dn}' trong iData.",
                               f"'{ic}': denominator column '{dn}' is not in iData.", column=dn))
            continue
        den = pd.to_numeric(coin.units.loc[X.index, dn], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            X[ic] = X[ic].to_numpy(dtype=float) / np.where(den == 0, np.nan, den)
    if problems:
        raise InputRejected(problems)
    return _with(coin, "denominate", {"dset": dset, "denominators": dict(denominators), "write_to": write_to},
                 write_to, X)


def impute(coin: Coin, *, dset: str = "Raw", method: str = "mean", group: str | None = None,
           write_to: str = "Imputed") -> Coin:
    """Impute missing values (COINr ``Impute``; Handbook step 3) with a method of :data:`IMPUTERS`.

    ``group`` names the ``iData`` group column for ``group-mean``/``group-median`` (COINr ``use_group``).
    """
    X = _get(coin, dset)
    groups = None
    if group is not None:
        if group not in coin.units.columns:
            raise UsageError("IMPUTE_GROUP_COLUMN", f"Không có cột nhóm '{group}' trong iData.",
                             f"Group column '{group}' is not in iData.")
        groups = coin.units.loc[X.index, group]
    times = coin.units.loc[X.index, "Time"] if "Time" in coin.units.columns else None
    Y = impute_frame(X, method=method, groups=groups, units=coin.units.loc[X.index, "uCode"], times=times)
    return _with(coin, "impute", {"dset": dset, "method": method, "group": group, "write_to": write_to}, write_to, Y)


def screen(coin: Coin, *, dset: str = "Raw", dat_thresh: float = 0.0, nonzero_thresh: float | None = None,
           write_to: str = "Screened") -> Coin:
    """Screen units by data availability (COINr ``Screen``, ``unit_screen = "byNA"``): keep a unit
    when its share of available indicators is ≥ ``dat_thresh`` (and, optionally, its share of
    non-zero values ≥ ``nonzero_thresh``, ``"byNAandZeros"``)."""
    X = _get(coin, dset)
    avail = X.notna().mean(axis=1)
    keep = avail >= dat_thresh
    if nonzero_thresh is not None:
        keep &= ((X != 0) & X.notna()).sum(axis=1) / X.shape[1] >= nonzero_thresh
    new = _with(coin, "screen", {"dset": dset, "dat_thresh": dat_thresh, "nonzero_thresh": nonzero_thresh,
                                 "write_to": write_to}, write_to, X.loc[keep])
    new.analysis[write_to] = pd.DataFrame({"Dat_Avail": avail, "Included": keep})
    return new


def treat(coin: Coin, *, dset: str = "Raw", winmax: int | None = 5, skew_thresh: float = 2.0,
          kurt_thresh: float = 3.5, log_fallback: bool = True, write_to: str = "Treated") -> Coin:
    """Treat outliers (COINr ``Treat`` with its default specs; Handbook step 3): winsorise up to
    ``winmax`` points while ``|skew| > 2`` and ``kurtosis > 3.5``; where that fails, ``log_CT``.
    Details go to ``coin.analysis[write_to]`` (``Dets_Table``, ``Treated_Points``)."""
    Y, det, pts = treat_frame(_get(coin, dset), winmax=winmax, skew_thresh=skew_thresh,
                              kurt_thresh=kurt_thresh, log_fallback=log_fallback)
    new = _with(coin, "treat", {"dset": dset, "winmax": winmax, "skew_thresh": skew_thresh,
                                "kurt_thresh": kurt_thresh, "log_fallback": log_fallback, "write_to": write_to},
                write_to, Y)
    new.analysis[write_to] = {"Dets_Table": det, "Treated_Points": pts}
    return new


def normalise(coin: Coin, *, dset: str = "Raw", method: str = "minmax", l_u: Sequence[float] | None = None,
              m_sd: Sequence[float] = (0.0, 1.0), clip: bool | None = None, write_to: str = "Normalised") -> Coin:
    """Normalise (COINr ``Normalise``; Handbook step 5) with a method of :data:`NORMALISERS`,
    directions from ``iMeta``. Panel data are normalised over all periods together (COINr
    ``Normalise.purse`` with ``global = TRUE``), so scores compare over time."""
    Y = normalise_frame(_get(coin, dset), coin.meta, method=method, l_u=l_u, m_sd=m_sd, clip=clip)
    params = {"dset": dset, "method": method, "l_u": None if l_u is None else tuple(l_u), "m_sd": tuple(m_sd),
              "clip": clip, "write_to": write_to}
    return _with(coin, "normalise", params, write_to, Y)


def aggregate(coin: Coin, *, dset: str = "Normalised", method: str | Mapping[int, str] = "arithmetic",
              weights: str | Mapping[str, float] = "manual", dat_thresh: float | Mapping[str, float] | None = None,
              p: float = 2.0, write_to: str = "Aggregated") -> Coin:
    """Aggregate up the hierarchy (COINr ``Aggregate``; Handbook steps 6-7).

    ``weights``: a :data:`WEIGHTINGS` name (``manual``, ``equal``, ``pca``) or ``{iCode: weight}``.
    The weights used are kept in ``coin.analysis["Weights"]`` with the effective weights.
    """
    X = _get(coin, dset)
    w = weights
    if isinstance(weights, str):
        w = get_weights(coin.meta, method=weights, data=_pca_data(coin, X) if weights == "pca" else None)
    Y = aggregate_frame(X, coin.meta, method=method, weights=w, dat_thresh=dat_thresh, p=p)
    params = {"dset": dset, "method": dict(method) if isinstance(method, Mapping) else method,
              "weights": weights if isinstance(weights, str) else dict(weights),
              "dat_thresh": dict(dat_thresh) if isinstance(dat_thresh, Mapping) else dat_thresh, "p": p,
              "write_to": write_to}
    new = _with(coin, "aggregate", params, write_to, Y)
    new.analysis["Weights"] = effective_weights(coin.meta, w)
    return new


def _pca_data(coin: Coin, X: pd.DataFrame) -> pd.DataFrame:
    # PCA within each aggregate needs the children's scores; lower aggregates from equal weights.
    return aggregate_frame(X, coin.meta, weights=w_equal(coin.meta))


def build(idata: pd.DataFrame, imeta: pd.DataFrame, *, denominate: bool = False, impute: str = "none",
          impute_group: str | None = None, screen_threshold: float | None = None, treat: str = "none",
          normalise: str = "minmax", l_u: Sequence[float] | None = None, m_sd: Sequence[float] = (0.0, 1.0),
          clip: bool | None = None, aggregate: str = "arithmetic",
          weights: str | Mapping[str, float] = "manual") -> Coin:
    """Run the Handbook's steps in order (denominate, impute, screen, treat, normalise, aggregate),
    each optional step only when asked; every intermediate dataset is kept in the coin.

    >>> # fw = load_framework("dti2022"); coin = build(idata, fw.meta, **{k: fw.method[k]
    >>> #      for k in ("normalise", "aggregate")})
    """
    if treat not in ("none", "winsorise"):
        raise UsageError("UNKNOWN_TREAT", f"Cách xử lý ngoại lai '{treat}' không có; chọn none hoặc winsorise.",
                         f"Unknown outlier treatment '{treat}'; choose none or winsorise.")
    spec = _normaliser(normalise)
    if l_u is not None and not spec.ranged:  # never silently ignored
        raise UsageError("RANGE_NOT_USED", f"--range (khoảng đầu ra) chỉ dùng với minmax hoặc goalposts, không với '{normalise}'.",
                         f"--range (the output range) applies to minmax or goalposts only, not to '{normalise}'.")
    if clip is not None and not spec.clips:
        raise UsageError("CLIP_NOT_USED", f"--clip/--no-clip chỉ dùng với goalposts hoặc dist2targ, không với '{normalise}'.",
                         f"--clip/--no-clip applies to goalposts or dist2targ only, not to '{normalise}'.")
    coin = new_coin(idata, imeta)
    dset = "Raw"
    if denominate:
        coin, dset = STEPS["denominate"](coin, dset=dset), "Denominated"
    if impute != "none":
        coin, dset = STEPS["impute"](coin, dset=dset, method=impute, group=impute_group), "Imputed"
    if screen_threshold is not None:
        coin, dset = screen(coin, dset=dset, dat_thresh=screen_threshold), "Screened"
    if treat == "winsorise":
        coin, dset = STEPS["treat"](coin, dset=dset), "Treated"
    coin = STEPS["normalise"](coin, dset=dset, method=normalise, l_u=l_u, m_sd=m_sd, clip=clip)
    return STEPS["aggregate"](coin, dset="Normalised", method=aggregate, weights=weights)


#: Steps by name, for :func:`regen`.
STEPS: dict[str, Callable[..., Coin]] = {
    "denominate": denominate,
    "impute": impute,
    "screen": screen,
    "treat": treat,
    "normalise": normalise,
    "aggregate": aggregate,
}


def regen(coin: Coin, *, changes: Mapping[str, Mapping[str, Any]] | None = None) -> Coin:
    """Rebuild a coin by replaying its log (COINr ``Regen``); ``changes`` edits a step's parameters
    first, e.g. ``{"normalise": {"method": "zscore"}}`` (the COINr sensitivity idiom)."""
    (_, p0), rest = coin.log[0], coin.log[1:]  # the first entry is new_coin itself
    out = new_coin(p0["idata"], p0["imeta"])
    for name, params in rest:
        kw = dict(params)
        if changes and name in changes:
            kw.update(changes[name])
        out = STEPS[name](out, **kw)
    return out


# =============================================================================================
# Results and analysis (Handbook steps 7-8; COINr get_results, get_corr, get_cronbach,
# get_str_weak, get_unit_summary, compare_coins)
# =============================================================================================

def rank_scores(scores: pd.Series | pd.DataFrame, *, by: pd.Series | None = None) -> pd.Series | pd.DataFrame:
    """Ranks, 1 = highest score, ties share the lower rank (R ``rank(-x, ties.method = "min")``);
    NaN stays NaN. ``by`` (aligned) ranks within groups, e.g. within each period."""
    if isinstance(scores, pd.DataFrame):
        return scores.apply(lambda s: rank_scores(s, by=by))
    if by is None:
        return scores.rank(ascending=False, method="min")
    return scores.groupby(by.loc[scores.index]).rank(ascending=False, method="min")


def scores_long(coin: Coin, *, dset: str = "Aggregated") -> pd.DataFrame:
    """The long results table ``uCode, [Time,] iCode, Level, score, rank`` for every aggregate
    (COINr ``get_results``, long form), index last-level first."""
    X = _get(coin, dset)
    tree = hierarchy(coin.meta)
    codes = sorted(coin.aggregates, key=lambda c: (-tree[c].level, coin.aggregates.index(c)))
    by = coin.units.loc[X.index, "Time"] if coin.panel else None
    R = rank_scores(X[codes], by=by)
    frames = []
    for c in codes:
        f = pd.DataFrame({"uCode": coin.units.loc[X.index, "uCode"].to_numpy()})
        if coin.panel:
            f["Time"] = coin.units.loc[X.index, "Time"].to_numpy()
        f["iCode"] = c
        f["Level"] = tree[c].level
        f["score"] = X[c].to_numpy()
        f["rank"] = R[c].to_numpy()
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out["rank"] = out["rank"].astype("Int64")
    return out


def get_corr(coin: Coin, *, dset: str = "Aggregated", method: str = "pearson") -> pd.DataFrame:
    """Correlation of each node with its parent (COINr ``get_corr`` with ``withparent``): ``iCode,
    Parent, r``. Pairwise complete observations."""
    X = _get(coin, dset)
    rows = []
    for c, n in hierarchy(coin.meta).items():
        if n.parent is not None and c in X and n.parent in X:
            rows.append({"iCode": c, "Parent": n.parent, "r": X[c].corr(X[n.parent], method=method)})
    return pd.DataFrame(rows)


def cronbach_alpha(X: pd.DataFrame) -> float:
    """Cronbach's alpha ``k/(k-1)·(1 - Σ var_i / var(Σ x_i))`` on complete rows (COINr ``get_cronbach``; Handbook §4.3)."""
    M = X.dropna().to_numpy(dtype=float)
    k = M.shape[1]
    if k < 2 or len(M) < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - M.var(axis=0, ddof=1).sum() / M.sum(axis=1).var(ddof=1)))


def cronbach_by_aggregate(coin: Coin, *, dset: str = "Aggregated") -> pd.DataFrame:
    """Cronbach's alpha of each aggregate's children: ``iCode, k, alpha``."""
    X = _get(coin, dset)
    rows = []
    for c, n in hierarchy(coin.meta).items():
        if n.type == "Aggregate":
            kids = [k for k in n.children if k in X]
            rows.append({"iCode": c, "k": len(kids), "alpha": cronbach_alpha(X[kids])})
    return pd.DataFrame(rows)


def strengths_weaknesses(coin: Coin, usel: str, *, dset: str = "Aggregated", topN: int = 5) -> dict[str, pd.DataFrame]:
    """A unit's strengths and weaknesses: its ``topN`` best- and worst-ranked indicators among all
    units (COINr ``get_str_weak``). Returns ``{"strengths": ..., "weaknesses": ...}`` with
    ``iCode, score, rank``."""
    X = _get(coin, dset)
    ind = [c for c in coin.indicators if c in X]
    R = rank_scores(X[ind])
    rows = X.index[coin.units.loc[X.index, "uCode"] == usel]
    if len(rows) == 0:
        raise UsageError("UNKNOWN_UNIT", f"Không có đơn vị '{usel}'.", f"No unit '{usel}'.")
    r = rows[-1]
    t = pd.DataFrame({"iCode": ind, "score": X.loc[r, ind].to_numpy(), "rank": R.loc[r, ind].to_numpy()}).dropna()
    t = t.sort_values(["rank", "iCode"], kind="stable")
    return {"strengths": t.head(topN).reset_index(drop=True),
            "weaknesses": t.iloc[::-1].head(topN).reset_index(drop=True)}


def unit_profile(coin: Coin, usel: str, *, dset: str = "Aggregated") -> pd.DataFrame:
    """A unit's scores and ranks at every node (COINr ``get_unit_summary``): ``iCode, Type, Level, score, rank``."""
    X = _get(coin, dset)
    R = rank_scores(X)
    rows = X.index[coin.units.loc[X.index, "uCode"] == usel]
    if len(rows) == 0:
        raise UsageError("UNKNOWN_UNIT", f"Không có đơn vị '{usel}'.", f"No unit '{usel}'.")
    r = rows[-1]
    tree = hierarchy(coin.meta)
    order = sorted(tree, key=lambda c: -tree[c].level)
    return pd.DataFrame({"iCode": order, "Type": [tree[c].type for c in order], "Level": [tree[c].level for c in order],
                         "score": [X.loc[r, c] for c in order], "rank": [R.loc[r, c] for c in order]})


def compare_coins(a: Coin, b: Coin, *, icode: str, dset: str = "Aggregated") -> pd.DataFrame:
    """Rank shifts of ``icode`` between two versions of an index (COINr ``compare_coins``):
    ``uCode, rank_a, rank_b, shift`` (positive = moved up), sorted by ``|shift|``."""
    ra = rank_scores(_get(a, dset)[icode])
    rb = rank_scores(_get(b, dset)[icode])
    df = pd.DataFrame({"rank_a": ra, "rank_b": rb})
    df.insert(0, "uCode", df.index.map(lambda r: r.split("@")[0]))
    df["shift"] = df["rank_a"] - df["rank_b"]
    return df.reindex(df["shift"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)




# =============================================================================================
# Merged units (the 2025 province merger): the publisher's rule, named by the framework
# =============================================================================================

def merge_mean_of_main_indices(X: pd.DataFrame, members: Sequence[str]) -> pd.Series:
    """DTI 2024 rule (MOST, 21/10/2025): a new province's main indices are the arithmetic means of
    its pre-merger provinces' main indices (missing values skipped); the index is then recomputed
    from them by the framework's aggregation."""
    return X.loc[list(members)].mean(axis=0, skipna=True)


#: Merger rules by the name a framework records (``merger_rule.rule``).
MERGE_RULES: dict[str, Callable[[pd.DataFrame, Sequence[str]], pd.Series]] = {
    "mean_of_main_indices": merge_mean_of_main_indices,
}


def merge_units(X: pd.DataFrame, mapping: Mapping[str, Sequence[str]], *, rule: str = "mean_of_main_indices") -> pd.DataFrame:
    """Scores of merged units: ``mapping`` new code → old codes (rows of ``X``), by a rule of
    :data:`MERGE_RULES`. Returns one row per new code."""
    if rule not in MERGE_RULES:
        raise UsageError("UNKNOWN_MERGE_RULE", f"Quy tắc sáp nhập '{rule}' không có; chọn một trong {', '.join(MERGE_RULES)}.",
                         f"Unknown merger rule '{rule}'; choose one of {', '.join(MERGE_RULES)}.")
    missing = sorted({o for olds in mapping.values() for o in olds} - set(X.index))
    if missing:
        raise InputRejected([_p("MERGE_UNKNOWN_UNIT", f"Đơn vị cũ '{o}' không có trong dữ liệu.",
                                f"Old unit '{o}' is not in the data.", column="uCode") for o in missing])
    return pd.DataFrame({new: MERGE_RULES[rule](X, olds) for new, olds in mapping.items()}).T
