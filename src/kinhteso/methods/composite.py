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
    "build_checks",
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
    "roll_up",
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

    Whole columns are checked at once; a problem is built only for a row that has one (the issue
    15 profile: building one pandas Series per row took most of a build's time).

    **Raises:** :class:`InputRejected` listing every problem (row numbers are file lines).
    """
    problems: list[Problem] = []
    # columns as arrays (the input is never modified), the clean frame built once at the end
    cols = {str(c).strip(): v.to_numpy(copy=True) for c, v in imeta.items()}
    nrow = len(imeta)
    for col in ("iCode", "Type"):
        if col not in cols:
            problems.append(_p("META_COLUMN", f"Thiếu cột bắt buộc '{col}' trong iMeta.",
                               f"Required column '{col}' is missing from iMeta.", column=col, file=file))
    if problems:
        raise InputRejected(problems, file=file)
    for col in META_COLUMNS:
        if col not in cols:
            cols[col] = np.full(nrow, np.nan)
    cols["iCode"] = np.array([str(v).strip() for v in cols["iCode"]], dtype=object)
    cols["Type"] = np.array([str(v).strip() for v in cols["Type"]], dtype=object)
    cols["Parent"] = _codes_or_none(cols["Parent"])
    cols["Denominator"] = _codes_or_none(cols["Denominator"])
    codes, types, parents = cols["iCode"], cols["Type"], cols["Parent"]
    line = lambda i: int(i) + 2  # noqa: E731  (header is line 1)
    for i in np.flatnonzero(pd.Index(codes).duplicated()):
        problems.append(_p("META_DUPLICATE", f"Mã '{codes[i]}' xuất hiện nhiều lần; mỗi iCode phải duy nhất.",
                           f"Code '{codes[i]}' appears more than once; each iCode must be unique.",
                           column="iCode", row=line(i), file=file))
    num = {col: _numeric(cols[col]) for col in ("Level", "Weight", "Direction", "Target", "Min", "Max")}
    valid = np.array([t in NODE_TYPES for t in types], dtype=bool)
    node = np.array([t in ("Indicator", "Aggregate") for t in types], dtype=bool)
    first_type: dict[str, str] = {}
    for c, t in zip(codes, types):
        first_type.setdefault(c, t)
    found: list[tuple[int, int, Problem]] = []  # (row, order within the row, problem)
    for i in np.flatnonzero(~valid):
        t = types[i]
        found.append((i, 0, _p("META_TYPE", f"Loại '{t}' không hợp lệ; cần một trong {', '.join(NODE_TYPES)}.",
                               f"Type '{t}' is not valid; expected one of {', '.join(NODE_TYPES)}.",
                               column="Type", row=line(i), file=file)))
    for k, col in enumerate(("Weight", "Level"), start=1):
        for i in np.flatnonzero(node & np.isnan(num[col])):
            found.append((i, k, _p(f"META_{col.upper()}",
                                   f"'{codes[i]}': thiếu hoặc sai giá trị {col} (cần một số).",
                                   f"'{codes[i]}': {col} is missing or not a number (a number is expected).",
                                   column=col, row=line(i), file=file)))
    for i in np.flatnonzero((types == "Indicator") & ~np.isin(num["Direction"], (1.0, -1.0))):
        found.append((i, 3, _p("META_DIRECTION", f"'{codes[i]}': Direction phải là 1 hoặc -1.",
                               f"'{codes[i]}': Direction must be 1 or -1.", column="Direction",
                               row=line(i), file=file)))
    for i in np.flatnonzero(node):
        par = parents[i]
        if par is None:
            continue
        if par not in first_type:
            found.append((i, 4, _p("META_PARENT", f"'{codes[i]}': nút cha '{par}' không có trong iMeta.",
                                   f"'{codes[i]}': parent '{par}' is not in iMeta.", column="Parent",
                                   row=line(i), file=file)))
        elif first_type[par] != "Aggregate":
            found.append((i, 4, _p("META_PARENT_TYPE",
                                   f"'{codes[i]}': nút cha '{par}' phải có Type = Aggregate.",
                                   f"'{codes[i]}': parent '{par}' must have Type = Aggregate.",
                                   column="Parent", row=line(i), file=file)))
    problems += [p for _, _, p in sorted(found, key=lambda f: (f[0], f[1]))]
    cols.update(num)
    if not problems and not (types == "Indicator").any():
        problems.append(_p("META_NO_INDICATOR", "iMeta không có chỉ tiêu nào (Type = Indicator).",
                           "iMeta has no indicator (Type = Indicator).", column="Type", file=file))
    if not problems:
        ncodes, nparents = codes[node].tolist(), parents[node].tolist()
        parent = dict(zip(ncodes, nparents))
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
        children = {p for p in nparents if p is not None}
        for code, t in zip(ncodes, types[node]):
            if t == "Aggregate" and code not in children:
                problems.append(_p("META_EMPTY_AGGREGATE", f"Nhóm '{code}' không có thành phần con nào.",
                                   f"Aggregate '{code}' has no children.", column="iCode", file=file))
        problems += _weight_problems(np.flatnonzero(node), codes, parents, num["Weight"], file)
    if problems:
        raise InputRejected(problems, file=file)
    return pd.DataFrame(cols, copy=False)


def _codes_or_none(v: np.ndarray) -> np.ndarray:
    """Codes as stripped text; blank cells (NaN, None, "") as None."""
    return np.array([None if _blank(x) or pd.isna(x) else str(x).strip() for x in v], dtype=object)


def _numeric(v: np.ndarray) -> np.ndarray:
    """A column as float, anything that is not a number as NaN (``pd.to_numeric(errors="coerce")``)."""
    if v.dtype.kind in "fiub":
        return v.astype(float)
    return pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(dtype=float)


def _weight_problems(rows: np.ndarray, codes: np.ndarray, parents: np.ndarray, weights: np.ndarray,
                     file: str) -> list[Problem]:
    """``BAD_WEIGHTS``: a negative weight (a weighted mean is defined for w ≥ 0 only: JRC/OECD
    Handbook, step 6), or an aggregate whose children all weigh 0 (its score would be 0/0).
    A zero weight on some children is allowed: COINr uses it to leave an indicator out."""
    problems: list[Problem] = []
    for i in rows[weights[rows] < 0]:
        problems.append(_p("BAD_WEIGHTS", f"'{codes[i]}': trọng số {weights[i]:g} âm; trọng số phải ≥ 0.",
                           f"'{codes[i]}': weight {weights[i]:g} is negative; weights must be ≥ 0.",
                           column="Weight", row=int(i) + 2, file=file))
    kids: dict[str, list[int]] = {}
    for i in rows:
        if parents[i] is not None:
            kids.setdefault(parents[i], []).append(i)
    for parent in sorted(kids):
        ks = kids[parent]
        if all(weights[i] == 0 for i in ks):
            names = ", ".join(codes[i] for i in ks)
            problems.append(_p("BAD_WEIGHTS",
                               f"Nhóm '{parent}': mọi thành phần ({names}) có trọng số 0; điểm của nhóm "
                               "sẽ là 0/0. Cho ít nhất một thành phần trọng số dương.",
                               f"Aggregate '{parent}': every child ({names}) has weight 0; its score would be "
                               "0/0. Give at least one child a positive weight.", column="Weight", file=file))
    return problems


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def check_idata(idata: pd.DataFrame, imeta: pd.DataFrame, *, file: str = "") -> pd.DataFrame:
    """Validate COINr ``iData`` against a checked ``iMeta``; return it with numeric indicator columns.

    Anchor: COINr 1.1.14 ``check_iData`` (R/new_coin.R): a ``uCode`` column, unique per ``Time``;
    every indicator of ``iMeta`` a numeric column. Empty cells are missing values (NA).
    """
    return _check_idata(idata, imeta, file=file)[0]


def _check_idata(idata: pd.DataFrame, imeta: pd.DataFrame, *, file: str = "") -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """:func:`check_idata`, also returning the indicator columns and their values as one float
    matrix (rows × indicators), which :func:`new_coin` uses as the ``Raw`` dataset."""
    problems: list[Problem] = []
    d = idata.copy()
    names = [str(c).strip() for c in d.columns]
    if names != list(d.columns):
        d.columns = names
    if "uCode" not in d.columns:
        raise InputRejected([_p("DATA_UCODE", "iData thiếu cột 'uCode' (mã đơn vị).",
                                "iData has no 'uCode' column (unit codes).", column="uCode", file=file)], file=file)
    if not isinstance(d.index, pd.RangeIndex) or d.index.start != 0 or d.index.step != 1:
        d = d.reset_index(drop=True)
    u = d["uCode"].to_numpy()
    clean = [str(v).strip() for v in u]
    if u.dtype != object or any(a is not b and a != b for a, b in zip(clean, u)):
        d["uCode"] = clean
    keys = ["uCode", "Time"] if "Time" in d.columns else ["uCode"]
    ucodes = d["uCode"].to_numpy()
    seen: set = set()
    dups = []
    for i, key in enumerate(zip(*(d[k].to_numpy().tolist() for k in keys))):
        if key in seen:
            dups.append(i)
        seen.add(key)
    for i in dups:
        problems.append(_p("DATA_DUPLICATE_UNIT", f"Đơn vị '{ucodes[i]}' xuất hiện nhiều lần (cùng kỳ).",
                           f"Unit '{ucodes[i]}' appears more than once (same period).", column="uCode",
                           row=int(i) + 2, file=file))
    mcodes, mtypes = imeta["iCode"].to_numpy(), imeta["Type"].to_numpy()
    ind = mcodes[mtypes == "Indicator"].tolist()
    weight = dict(zip(mcodes[mtypes == "Indicator"], imeta["Weight"].to_numpy(dtype=float)[mtypes == "Indicator"]))
    for code in ind + mcodes[mtypes == "Group"].tolist():
        if code not in d.columns:
            problems.append(_p("DATA_MISSING_COLUMN", f"iData thiếu cột '{code}' có trong iMeta.",
                               f"iData has no column '{code}', which iMeta lists.", column=code, file=file))
    present = [c for c in ind if c in d.columns]
    dtypes = dict(zip(d.columns, d.dtypes))
    for code in present:
        if dtypes[code] == object:
            col = d[code]
            s = col.map(lambda v: np.nan if _blank(v) else v)
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            for i in bad[bad].index[:20]:
                problems.append(_p("DATA_NOT_NUMERIC", f"Giá trị '{col[i]}' không phải là số.",
                                   f"Value '{col[i]}' is not a number.", column=code, row=int(i) + 2, file=file))
            d[code] = num
        elif not pd.api.types.is_numeric_dtype(dtypes[code]):
            d[code] = pd.to_numeric(d[code], errors="coerce")
    V = d[present].to_numpy(dtype=float) if present else np.empty((len(d), 0))
    if present:
        for j in np.flatnonzero(np.isinf(V).any(axis=0)):
            for i in np.flatnonzero(np.isinf(V[:, j]))[:20]:
                problems.append(_p("DATA_NOT_FINITE", "Giá trị vô hạn; cần một số hữu hạn.",
                                   "Infinite value; a finite number is expected.", column=present[j],
                                   row=int(i) + 2, file=file))
        nan = np.isnan(V)
        if "Time" in d.columns:  # empty in some period
            t, _ = pd.factorize(d["Time"])
            empty = np.zeros(len(present), dtype=bool)
            for g in range(t.max() + 1 if len(t) else 0):
                empty |= nan[t == g].all(axis=0)
        else:
            empty = nan.all(axis=0)
        for j in np.flatnonzero(empty):  # only these are looked at closely
            if weight[present[j]] != 0:
                problems += _all_missing(d, present[j], file)
    if problems:
        raise InputRejected(problems, file=file)
    return d, present, V


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
    types = meta["Type"].to_numpy()
    sel = (types == "Indicator") | (types == "Aggregate")
    codes = meta["iCode"].to_numpy()[sel].tolist()
    parents = meta["Parent"].to_numpy()[sel].tolist()
    levels = meta["Level"].to_numpy()[sel].tolist()
    weights = meta["Weight"].to_numpy()[sel].tolist()
    types = types[sel].tolist()
    kids: dict[str, list[str]] = {c: [] for c in codes}
    for c, p in zip(codes, parents):
        if p is not None:
            kids[p].append(c)
    depth: dict[str, int] = {}

    def height(c: str) -> int:
        if c not in depth:
            depth[c] = 0 if not kids[c] else 1 + max(height(k) for k in kids[c])
        return depth[c]

    order = sorted(range(len(codes)), key=lambda i: (height(codes[i]), levels[i], i))
    return {codes[i]: Node(codes[i], types[i], int(levels[i]), float(weights[i]), parents[i], tuple(kids[codes[i]]))
            for i in order}


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


def _mean_sd(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample s.d. of each column, NAs removed, formed as R forms them: the mean in an
    extended-precision accumulator with R's second pass (``mean(x) = s + Σ(x - s)/n``, ``s = Σx/n``),
    the variance as the extended sum of squared deviations from it, over ``n - 1``.
    Closer to R's ``mean``/``sd`` than a float64 sum (not bit-identical in every case)."""
    ok = ~np.isnan(V)
    n = ok.sum(axis=0)
    Z = np.where(ok, V, 0.0).astype(np.longdouble)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = Z.sum(axis=0) / n
        m = s + np.where(ok, Z - s, 0.0).sum(axis=0) / n
        dev = np.where(ok, Z - m, 0.0)
        var = (dev * dev).sum(axis=0) / (n - 1)
    return m.astype(np.float64), np.sqrt(var.astype(np.float64))


def n_zscore(x: np.ndarray, *, m_sd: Sequence[float] = (0.0, 1.0), **_: Any) -> np.ndarray:
    """z-score with mean ``m`` and s.d. ``sd``: ``(x - mean)/sd(x)·sd + m``, sample s.d. (COINr ``n_zscore``; eq. 4.2)."""
    x = np.asarray(x, dtype=float)
    mean, sd = _mean_sd(x.reshape(len(x), -1))
    if not np.all(sd > 0):
        raise MethodError("NORMALISE_ZERO_SD", "Độ lệch chuẩn bằng 0: không thể tính z-score.",
                          "Standard deviation is zero: z-scores are undefined.")
    return ((x.reshape(len(x), -1) - mean) / sd * float(m_sd[1]) + float(m_sd[0])).reshape(x.shape)


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
    info = {col: i for i, col in enumerate(meta["iCode"].to_numpy().tolist())}
    rows = [info[c] for c in X.columns]
    field_ = {k: meta[k].to_numpy(dtype=float)[rows] for k in ("Direction", "Min", "Max", "Target")}
    problems: list[Problem] = []
    missing = {need: np.isnan(field_[need]) for need in spec.needs}
    for j, col in enumerate(X.columns):
        for need in spec.needs:
            if missing[need][j]:
                problems.append(_p("META_MISSING_" + need.upper(),
                                   f"'{col}': phương pháp '{method}' cần cột {need} trong iMeta.",
                                   f"'{col}': method '{method}' needs column {need} in iMeta.", column=need))
    if problems:
        raise InputRejected(problems)
    V = X.to_numpy(dtype=float)
    dirs = np.where(np.isnan(field_["Direction"]), 1.0, field_["Direction"]).astype(int)
    if method == "minmax" and V.size and not np.isnan(V).all(axis=0).any():
        # the same element-wise operations as n_minmax, on all columns at once
        Vd = V * dirs[None, :]
        mn, mx = Vd.min(axis=0, initial=np.inf, where=~np.isnan(Vd)), Vd.max(axis=0, initial=-np.inf, where=~np.isnan(Vd))
        if not (mn == mx).any():
            lo, hi = (0.0, 100.0) if l_u is None else (float(l_u[0]), float(l_u[1]))
            return pd.DataFrame((Vd - mn) / (mx - mn) * (hi - lo) + lo, index=X.index, columns=X.columns)
    if method == "zscore" and V.size and not np.isnan(V).all(axis=0).any():
        mean, sd = _mean_sd(V * dirs[None, :])  # all columns at once, as n_zscore does for one
        if (sd > 0).all():
            return pd.DataFrame((V * dirs[None, :] - mean) / sd * float(m_sd[1]) + float(m_sd[0]),
                                index=X.index, columns=X.columns)
    out = np.empty_like(V)
    for j, col in enumerate(X.columns):
        try:
            out[:, j] = normalise_vector(V[:, j], method=method, direction=int(dirs[j]), l_u=l_u, m_sd=m_sd,
                                         clip=clip, gposts=(field_["Min"][j], field_["Max"][j]),
                                         target=field_["Target"][j])
        except MethodError as exc:
            raise MethodError(exc.code, f"'{col}': {exc.vi}", f"'{col}': {exc.en}") from exc
    return pd.DataFrame(out, index=X.index, columns=X.columns)


# =============================================================================================
# Primitives: aggregation (COINr R/aggregate.R), rows = units, columns = children
# =============================================================================================

def _rsum(M: np.ndarray) -> np.ndarray:
    """Row sums as R's ``sum`` forms them (R ``summary.c``, ``rsum``): the columns added one by one,
    left to right, in an extended-precision (``long double``) accumulator, rounded to double at the end.

    Forming the sums the same way as COINr makes exact ties in COINr exact ties here too (issue 15:
    a pairwise float64 sum split them by 1 ulp, in either direction, and that changed ranks). Where
    numpy's ``longdouble`` is plain double (Windows, macOS on ARM) the order is still R's but the
    accumulator is not, and a tie can then still split by 1 ulp.
    """
    acc = np.zeros(M.shape[0], dtype=np.longdouble)
    for k in range(M.shape[1]):
        acc += M[:, k]
    return acc.astype(np.float64)


def _avail(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights with the missing children removed (COINr: ``w <- w[!is.na(x)]``)."""
    m = ~np.isnan(X)
    W = np.where(m, w[None, :], 0.0)
    return W, m


def a_amean(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Weighted arithmetic mean over the available ``x`` (COINr ``a_amean``; Handbook eq. 6.1), in
    COINr's order of operations: ``w <- w/sum(w)``, then ``sum(w * x)`` (see :func:`_rsum`)."""
    W, m = _avail(X, w)
    den = _rsum(W)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = np.where(m, (W / den[:, None]) * np.where(m, X, 0.0), 0.0)
        return np.where(den > 0, _rsum(P), np.nan)


def _positive(X: np.ndarray, w: np.ndarray, name: str, strict: bool = True) -> None:
    used = ~np.isnan(X) & (w[None, :] != 0)
    bad = (X <= 0) if strict else (X == 0)
    if np.any(bad & used):
        raise MethodError("AGGREGATE_NONPOSITIVE",
                          f"Trung bình {name} cần giá trị dương; hãy chuẩn hóa để loại số âm/0 (vd. min-max 1-100) hoặc chọn phép tổng hợp khác.",
                          f"The {name} mean needs positive values; normalise to remove zero/negative values (e.g. min-max 1-100) or use another aggregation.")


def a_gmean(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Weighted geometric mean ``exp(sum(w·log x)/sum(w))`` (COINr ``a_gmean``, its order of
    operations; Handbook eq. 6.4). Needs ``x > 0``."""
    _positive(X, w, "nhân (geometric)")
    W, m = _avail(X, w)
    den = _rsum(W)
    with np.errstate(invalid="ignore", divide="ignore"):
        lx = np.where(m & (W != 0), W * np.log(np.where(m, X, 1.0)), 0.0)
        return np.where(den > 0, np.exp(_rsum(lx) / den), np.nan)


def a_hmean(X: np.ndarray, w: np.ndarray, **_: Any) -> np.ndarray:
    """Weighted harmonic mean ``sum(w)/sum(w/x)`` (COINr ``a_hmean``, its order of operations). Needs ``x ≠ 0``."""
    _positive(X, w, "điều hòa (harmonic)", strict=False)
    W, m = _avail(X, w)
    den = _rsum(W)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(m & (W != 0), W / np.where(m, X, 1.0), 0.0)
        return np.where(den > 0, den / _rsum(inv), np.nan)


def a_genmean(X: np.ndarray, w: np.ndarray, *, p: float = 2.0, **_: Any) -> np.ndarray:
    """Weighted generalised (power) mean ``(sum(w·x^p)/sum(w))^(1/p)``; ``p = 0`` is the geometric mean
    (COINr ``a_genmean``). Needs ``x > 0``. Missing children are skipped (COINr returns NA)."""
    if p == 0:
        return a_gmean(X, w)
    _positive(X, w, "lũy thừa (generalised)")
    W, m = _avail(X, w)
    den = _rsum(W)
    with np.errstate(invalid="ignore", divide="ignore"):
        xp = np.where(m, W * np.where(m, X, 1.0) ** p, 0.0)
        return np.where(den > 0, (_rsum(xp) / den) ** (1.0 / p), np.nan)


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
                    weights: Mapping[str, float] | None = None,
                    dat_thresh: float | Mapping[int | str, float] | None = None,
                    p: float = 2.0, tree: Mapping[str, Node] | None = None) -> pd.DataFrame:
    """Aggregate up the whole hierarchy (COINr ``Aggregate.coin``); returns ``X`` plus one column per aggregate.

    ``method`` is one name, or a dict ``{level: name}`` (COINr ``f_ag`` per level, keyed by the
    level of the aggregate; a level not listed is ``arithmetic``). ``weights`` overrides
    ``meta``'s ``Weight`` by iCode. ``dat_thresh``: a unit gets NA when its share of available
    children is below the threshold (COINr ``dat_thresh``); one number, or a dict keyed by level
    (``int``, COINr's per-level vector) and/or by aggregate code (``str``, which wins). ``tree``:
    ``hierarchy(meta)`` when the caller has it already.
    """
    tree = hierarchy(meta) if tree is None else tree
    agg_levels = sorted({n.level for n in tree.values() if n.type == "Aggregate"})
    for name, given in (("--aggregate (method)", method), ("--dat-thresh (dat_thresh)", dat_thresh)):
        if isinstance(given, Mapping):
            bad = [k for k in given if not isinstance(k, str) and k not in agg_levels]
            if bad:
                lv = ", ".join(str(v) for v in agg_levels)
                raise UsageError("AGGREGATE_LEVEL",
                                 f"{name}: cấp {bad[0]} không có nhóm nào để tổng hợp; các cấp có: {lv}.",
                                 f"{name}: level {bad[0]} has no aggregate; the levels with aggregates are {lv}.")
    if isinstance(dat_thresh, Mapping) or dat_thresh is not None:
        for v in (dat_thresh.values() if isinstance(dat_thresh, Mapping) else [dat_thresh]):
            if not 0.0 <= float(v) <= 1.0:
                raise UsageError("BAD_THRESHOLD", f"dat_thresh {v} phải trong [0, 1].",
                                 f"dat_thresh {v} must be in [0, 1].")
    w_all = {c: n.weight for c, n in tree.items()}
    if weights:
        w_all.update({k: float(v) for k, v in weights.items()})
    pos = {c: j for j, c in enumerate(X.columns)}
    aggs = [c for c, n in tree.items() if n.type == "Aggregate"]
    V = np.empty((len(X), len(X.columns) + len(aggs)))
    V[:, :len(X.columns)] = X.to_numpy(dtype=float)
    for j, code in enumerate(aggs, start=len(X.columns)):
        node = tree[code]
        name = method.get(node.level, "arithmetic") if isinstance(method, Mapping) else method
        agg = _aggregator(name)
        kids = [k for k in node.children if k in pos]
        if not kids:
            raise MethodError("AGGREGATE_NO_DATA", f"Nhóm '{code}' không còn thành phần nào có dữ liệu.",
                              f"Aggregate '{code}' has no child with data left.")
        M = V[:, [pos[k] for k in kids]]
        w = np.array([w_all[k] for k in kids], dtype=float)
        try:
            y = agg.func(M, w, p=p)
        except MethodError as exc:
            raise MethodError(exc.code, f"'{code}': {exc.vi}", f"'{code}': {exc.en}") from exc
        if isinstance(dat_thresh, Mapping):
            th = dat_thresh.get(code, dat_thresh.get(node.level))
        else:
            th = dat_thresh
        if th is not None and not agg.by_df:
            # COINr Aggregate.data.frame: sum(!is.na(x))/lx < dat_thresh -> NA
            y = np.where((~np.isnan(M)).sum(axis=1) / M.shape[1] < th, np.nan, y)
        V[:, j] = y
        pos[code] = j
    return pd.DataFrame(V, index=X.index, columns=list(X.columns) + aggs)


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


def effective_weights(meta: pd.DataFrame, weights: Mapping[str, float] | None = None, *,
                      tree: Mapping[str, Node] | None = None) -> pd.DataFrame:
    """Each node's effective weight in its root: the product, up the tree, of its weight share
    among its siblings (COINr ``get_eff_weights``). Columns ``iCode, Type, Level, Parent, Weight,
    share, effective``; the effective weights of the indicators under one root sum to one.
    ``tree``: ``hierarchy(meta)`` when the caller has it already."""
    tree = hierarchy(meta) if tree is None else tree
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
        rows.append((c, n.type, n.level, n.parent, w[c], share[c] if n.parent else 1.0, e))
    return pd.DataFrame(dict(zip(("iCode", "Type", "Level", "Parent", "Weight", "share", "effective"),
                                 (list(v) for v in zip(*rows)))))


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
    _tree: tuple[pd.DataFrame, dict[str, Node]] | None = field(default=None, repr=False, compare=False)

    @property
    def indicators(self) -> list[str]:
        return self.meta.loc[self.meta["Type"] == "Indicator", "iCode"].tolist()

    @property
    def tree(self) -> dict[str, Node]:
        """:func:`hierarchy` of ``meta``, computed once per coin (the metadata never change in place)."""
        if self._tree is None or self._tree[0] is not self.meta:
            self._tree = (self.meta, hierarchy(self.meta))
        return self._tree[1]

    @property
    def aggregates(self) -> list[str]:
        return [c for c, n in self.tree.items() if n.type == "Aggregate"]

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
               analysis=dict(coin.analysis), _tree=coin._tree)
    new.data[dset_name] = df
    return new


def _get(coin: Coin, dset: str) -> pd.DataFrame:
    if dset not in coin.data:
        raise UsageError("UNKNOWN_DSET", f"Không có bộ dữ liệu '{dset}'; hiện có: {', '.join(coin.data)}.",
                         f"No dataset '{dset}'; available: {', '.join(coin.data)}.")
    return coin.data[dset]


def new_coin(idata: pd.DataFrame, imeta: pd.DataFrame, *, data_file: str = "", meta_file: str = "") -> Coin:
    """Build a coin from COINr-format ``iData`` and ``iMeta`` (COINr ``new_coin``); checks both.
    ``data_file``/``meta_file`` name the files they were read from, for the problems listed."""
    meta = check_imeta(imeta, file=meta_file)
    d, ind, V = _check_idata(idata, meta, file=data_file)  # every indicator is present, in iMeta's order
    rid = d["uCode"] if "Time" not in d.columns or d["Time"].nunique() <= 1 else d["uCode"] + "@" + d["Time"].astype(str)
    idx = pd.Index(rid, name="row")
    indset = set(ind)
    units = d.iloc[:, [j for j, c in enumerate(d.columns) if c not in indset]]
    units.index = idx
    raw = pd.DataFrame(V, index=idx, columns=ind)
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
    """Screen units by data availability and zeros (COINr ``Screen``; ``get_data_avail``).

    A unit is kept when its share of available indicators ``Dat_Avail = 1 - N_missing/n`` is ≥
    ``dat_thresh`` and, when ``nonzero_thresh`` is given, its share of non-zero values among its
    *available* ones ``Non_Zero = 1 - N_zero/(n - N_missing)`` is ≥ ``nonzero_thresh``. COINr's
    ``unit_screen`` modes: ``"byNA"`` is ``nonzero_thresh = None``; ``"byNAandzeros"`` both
    thresholds; ``"byzeros"`` is ``dat_thresh = 0`` with ``nonzero_thresh``. The table of every
    unit (``N_missing, N_zero, Dat_Avail, Non_Zero, Included``) goes to ``coin.analysis[write_to]``.
    """
    for name, th in (("dat_thresh", dat_thresh), ("nonzero_thresh", nonzero_thresh)):
        if th is not None and not 0.0 <= float(th) <= 1.0:
            raise UsageError("BAD_THRESHOLD", f"{name} = {th} phải trong [0, 1].",
                             f"{name} = {th} must be in [0, 1].")
    X = _get(coin, dset)
    V = X.to_numpy(dtype=float)
    n = V.shape[1]
    n_missing = np.isnan(V).sum(axis=1)
    n_zero = (V == 0).sum(axis=1)
    avail = 1 - n_missing / n
    with np.errstate(invalid="ignore", divide="ignore"):
        nonzero = 1 - n_zero / (n - n_missing)
    keep = avail >= dat_thresh
    if nonzero_thresh is not None:
        keep &= nonzero >= nonzero_thresh
    new = _with(coin, "screen", {"dset": dset, "dat_thresh": dat_thresh, "nonzero_thresh": nonzero_thresh,
                                 "write_to": write_to}, write_to, X.loc[keep])
    new.analysis[write_to] = pd.DataFrame({"N_missing": n_missing, "N_zero": n_zero, "Dat_Avail": avail,
                                           "Non_Zero": nonzero, "Included": keep}, index=X.index)
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
    if weights == "manual":
        w = {c: n.weight for c, n in coin.tree.items()}  # w_manual, from the tree the coin has already
    elif isinstance(weights, str):
        w = get_weights(coin.meta, method=weights, data=_pca_data(coin, X) if weights == "pca" else None)
    Y = aggregate_frame(X, coin.meta, method=method, weights=w, dat_thresh=dat_thresh, p=p, tree=coin.tree)
    params = {"dset": dset, "method": dict(method) if isinstance(method, Mapping) else method,
              "weights": weights if isinstance(weights, str) else dict(weights),
              "dat_thresh": dict(dat_thresh) if isinstance(dat_thresh, Mapping) else dat_thresh, "p": p,
              "write_to": write_to}
    new = _with(coin, "aggregate", params, write_to, Y)
    new.analysis["Weights"] = effective_weights(coin.meta, w, tree=coin.tree)
    return new


def _pca_data(coin: Coin, X: pd.DataFrame) -> pd.DataFrame:
    # PCA within each aggregate needs the children's scores; lower aggregates from equal weights.
    return aggregate_frame(X, coin.meta, weights=w_equal(coin.meta))


def build_checks(*, treat: str = "none", winmax: int | None = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
                 normalise: str = "minmax", l_u: Sequence[float] | None = None, m_sd: Sequence[float] | None = None,
                 clip: bool | None = None) -> None:
    """The settings of :func:`build` checked against each other before any work: a setting that
    the chosen method does not use is refused (:class:`UsageError`), never silently ignored."""
    if treat not in ("none", "winsorise"):
        raise UsageError("UNKNOWN_TREAT", f"Cách xử lý ngoại lai '{treat}' không có; chọn none hoặc winsorise.",
                         f"Unknown outlier treatment '{treat}'; choose none or winsorise.")
    spec = _normaliser(normalise)
    if l_u is not None and not spec.ranged:  # never silently ignored
        hint_vi = "; trung bình và độ lệch chuẩn của z-score: --m-sd M,SD" if normalise == "zscore" else ""
        hint_en = "; the z-score mean and s.d.: --m-sd M,SD" if normalise == "zscore" else ""
        raise UsageError("RANGE_NOT_USED", f"--range (khoảng đầu ra) chỉ dùng với minmax hoặc goalposts, không với '{normalise}'{hint_vi}.",
                         f"--range (the output range) applies to minmax or goalposts only, not to '{normalise}'{hint_en}.")
    if clip is not None and not spec.clips:
        raise UsageError("CLIP_NOT_USED", f"--clip/--no-clip chỉ dùng với goalposts hoặc dist2targ, không với '{normalise}'.",
                         f"--clip/--no-clip applies to goalposts or dist2targ only, not to '{normalise}'.")
    if m_sd is not None and normalise != "zscore":
        raise UsageError("M_SD_NOT_USED", f"--m-sd (trung bình, độ lệch chuẩn) chỉ dùng với zscore, không với '{normalise}'.",
                         f"--m-sd (mean, s.d.) applies to zscore only, not to '{normalise}'.")
    if m_sd is not None and not float(m_sd[1]) > 0:
        raise UsageError("BAD_M_SD", f"--m-sd: độ lệch chuẩn {m_sd[1]} phải > 0.",
                         f"--m-sd: the s.d. {m_sd[1]} must be > 0.")
    if treat != "winsorise" and (winmax, skew_thresh, kurt_thresh) != (5, 2.0, 3.5):
        raise UsageError("TREAT_PARAMS_NOT_USED",
                         "--winmax, --skew-thresh, --kurt-thresh chỉ dùng với --treat winsorise.",
                         "--winmax, --skew-thresh and --kurt-thresh apply to --treat winsorise only.")


def build(idata: pd.DataFrame, imeta: pd.DataFrame, *, denominate: bool = False, impute: str = "none",
          impute_group: str | None = None, screen_threshold: float | None = None,
          screen_nonzero: float | None = None, treat: str = "none", winmax: int | None = 5,
          skew_thresh: float = 2.0, kurt_thresh: float = 3.5, normalise: str = "minmax",
          l_u: Sequence[float] | None = None, m_sd: Sequence[float] | None = None, clip: bool | None = None,
          aggregate: str | Mapping[int, str] = "arithmetic", dat_thresh: float | Mapping[int | str, float] | None = None,
          weights: str | Mapping[str, float] = "manual", data_file: str = "", meta_file: str = "") -> Coin:
    """Run the Handbook's steps in order (denominate, impute, screen, treat, normalise, aggregate),
    each optional step only when asked; every intermediate dataset is kept in the coin.

    The COINr settings: ``screen_threshold``/``screen_nonzero`` (``Screen``'s ``dat_thresh`` and
    ``nonzero_thresh``; screening runs when either is given), ``winmax``/``skew_thresh``/
    ``kurt_thresh`` (``Treat``, with ``treat = "winsorise"``), ``m_sd`` (``n_zscore``), ``aggregate``
    one name or ``{level: name}`` and ``dat_thresh`` one number or ``{level: number}``
    (``Aggregate``'s ``f_ag`` and ``dat_thresh`` per level). A setting that the chosen method does
    not use is refused, never ignored. ``data_file``/``meta_file``: see :func:`new_coin`.

    >>> # fw = load_framework("dti2022"); coin = build(idata, fw.meta, **{k: fw.method[k]
    >>> #      for k in ("normalise", "aggregate")})
    """
    build_checks(treat=treat, winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh,
                 normalise=normalise, l_u=l_u, m_sd=m_sd, clip=clip)
    coin = new_coin(idata, imeta, data_file=data_file, meta_file=meta_file)
    dset = "Raw"
    if denominate:
        coin, dset = STEPS["denominate"](coin, dset=dset), "Denominated"
    if impute != "none":
        coin, dset = STEPS["impute"](coin, dset=dset, method=impute, group=impute_group), "Imputed"
    if screen_threshold is not None or screen_nonzero is not None:
        coin, dset = screen(coin, dset=dset, dat_thresh=screen_threshold or 0.0,
                            nonzero_thresh=screen_nonzero), "Screened"
    if treat == "winsorise":
        coin, dset = STEPS["treat"](coin, dset=dset, winmax=winmax, skew_thresh=skew_thresh,
                                    kurt_thresh=kurt_thresh), "Treated"
    coin = STEPS["normalise"](coin, dset=dset, method=normalise, l_u=l_u,
                              m_sd=(0.0, 1.0) if m_sd is None else m_sd, clip=clip)
    return STEPS["aggregate"](coin, dset="Normalised", method=aggregate, weights=weights, dat_thresh=dat_thresh)


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

def _rank_desc(V: np.ndarray) -> np.ndarray:
    """Ranks down each column, 1 = highest, ties share the lower rank, NaN stays NaN (R
    ``rank(-x, ties.method = "min", na.last = "keep")``, as COINr ``rank_df``)."""
    nan = np.isnan(V)
    neg = np.where(nan, np.inf, -V)
    order = np.argsort(neg, axis=0, kind="stable")
    srt = np.take_along_axis(neg, order, axis=0)
    n = V.shape[0]
    new_run = np.ones(srt.shape, dtype=bool)
    new_run[1:] = srt[1:] != srt[:-1]
    first = np.maximum.accumulate(np.where(new_run, np.arange(n)[:, None], 0), axis=0)  # start of each run of ties
    out = np.empty(V.shape)
    np.put_along_axis(out, order, first + 1.0, axis=0)
    out[nan] = np.nan
    return out


def rank_scores(scores: pd.Series | pd.DataFrame, *, by: pd.Series | None = None) -> pd.Series | pd.DataFrame:
    """Ranks, 1 = highest score, ties share the lower rank (R ``rank(-x, ties.method = "min")``);
    NaN stays NaN. ``by`` (aligned) ranks within groups, e.g. within each period."""
    if by is not None:
        if isinstance(scores, pd.DataFrame):
            return scores.apply(lambda s: rank_scores(s, by=by))
        return scores.groupby(by.loc[scores.index]).rank(ascending=False, method="min")
    if isinstance(scores, pd.DataFrame):
        return pd.DataFrame(_rank_desc(scores.to_numpy(dtype=float)), index=scores.index, columns=scores.columns)
    return pd.Series(_rank_desc(scores.to_numpy(dtype=float)[:, None])[:, 0], index=scores.index, name=scores.name)


def scores_long(coin: Coin, *, dset: str = "Aggregated") -> pd.DataFrame:
    """The long results table ``uCode, [Time,] iCode, Level, score, rank`` for every aggregate
    (COINr ``get_results``, long form), index last-level first."""
    X = _get(coin, dset)
    tree = coin.tree
    aggs = coin.aggregates
    codes = sorted(aggs, key=lambda c: (-tree[c].level, aggs.index(c)))
    S = X.to_numpy(dtype=float)[:, X.columns.get_indexer(codes)]
    units = coin.units if coin.units.index.equals(X.index) else coin.units.loc[X.index]
    panel = coin.panel
    if panel:
        R = rank_scores(X[codes], by=units["Time"]).to_numpy(dtype=float)
    else:
        R = _rank_desc(S)
    n, k = S.shape
    cols: dict[str, Any] = {"uCode": np.tile(units["uCode"].to_numpy(), k)}
    if panel:
        cols["Time"] = np.tile(units["Time"].to_numpy(), k)
    cols["iCode"] = np.repeat(np.array(codes, dtype=object), n)
    cols["Level"] = np.repeat(np.array([tree[c].level for c in codes]), n)
    cols["score"] = S.T.ravel()
    r = R.T.ravel()
    miss = np.isnan(r)
    cols["rank"] = pd.arrays.IntegerArray(np.where(miss, 0, r).astype(np.int64), miss)
    return pd.DataFrame(cols)


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


# =============================================================================================
# Scores at two levels: components rolled up to their aggregate where a unit has them all
# =============================================================================================

def roll_up(given: pd.DataFrame, lower: pd.DataFrame, meta: pd.DataFrame, codes: Sequence[str], *,
            aggregate: str = "arithmetic") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores of the aggregates ``codes`` (the DTI's main indices) for every unit, from their
    components where the unit has them, else as ``given``.

    For each code, its components are the indicators below it in ``meta``. A unit that has every
    component of positive weight (columns of ``lower``) gets the code's score by the aggregation
    ``aggregate`` (an :data:`AGGREGATORS` name) with the weights of ``meta`` (DTI: points, so the
    main index is Σ points·score / Σ points); otherwise it keeps its ``given`` score (a column of
    ``given``), or NaN when it has neither. A code without components is taken from ``given``.

    Returns ``(scores, how)``: units × codes, and beside each score where it came from:
    ``"components"``, ``"given"`` or ``""`` (missing). Units are those of ``given`` and ``lower``.

    >>> meta = pd.DataFrame({"Level": [1, 1, 2, 1, 3], "iCode": ["a1", "a2", "A", "B", "I"],
    ...     "Direction": 1, "Weight": [3, 1, 1, 1, 1], "Parent": ["A", "A", "I", "I", None],
    ...     "Type": ["Indicator", "Indicator", "Aggregate", "Indicator", "Aggregate"]})
    >>> given = pd.DataFrame({"A": [0.5, 0.5], "B": [0.2, 0.3]}, index=["X", "Y"])
    >>> lower = pd.DataFrame({"a1": [1.0, 1.0], "a2": [0.6, None]}, index=["X", "Y"])
    >>> s, how = roll_up(given, lower, check_imeta(meta), ["A", "B"])
    >>> s["A"].tolist(), how["A"].tolist()
    ([0.9, 0.5], ['components', 'given'])
    """
    tree = hierarchy(meta)
    units = given.index.union(lower.index, sort=False)
    G = given.reindex(index=units)
    L = lower.reindex(index=units)
    scores: dict[str, np.ndarray] = {}
    how: dict[str, np.ndarray] = {}
    for code in codes:
        if code not in tree:
            raise UsageError("ROLL_UP_UNKNOWN", f"'{code}' không có trong khung.", f"'{code}' is not in the framework.")
        below, stack = [], list(tree[code].children)
        while stack:
            c = stack.pop()
            below.append(c)
            stack.extend(tree[c].children)
        g = G[code].to_numpy(dtype=float) if code in G.columns else np.full(len(units), np.nan)
        leaves = [c for c in below if tree[c].type == "Indicator"]
        if not leaves:
            scores[code], how[code] = g, np.where(np.isnan(g), "", "given")
            continue
        sub = meta[meta["iCode"].isin([code, *below])].copy()
        sub.loc[sub["iCode"] == code, "Parent"] = None
        X = pd.DataFrame({c: L[c].to_numpy(dtype=float) if c in L.columns else np.nan for c in leaves}, index=units)
        agg = aggregate_frame(X, sub, method=aggregate)[code].to_numpy(dtype=float)
        needed = [c for c in leaves if tree[c].weight > 0]
        complete = ~np.isnan(X[needed].to_numpy(dtype=float)).any(axis=1)
        scores[code] = np.where(complete, agg, g)
        how[code] = np.where(complete, "components", np.where(np.isnan(g), "", "given"))
    return (pd.DataFrame(scores, index=units, columns=list(codes)),
            pd.DataFrame(how, index=units, columns=list(codes)))
