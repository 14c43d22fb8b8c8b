r"""Statistical disclosure control of published magnitude tables (issue 17, item 4).

A table of magnitudes built from microdata — e-invoice revenue by ``territory × vsic × period ×
channel × buyer_type`` — is published only after three steps, each a pure function (frames in,
frames out; no files, no database, no clock):

1. :func:`cells_from_contributions` (optional): the cells of the table, totals included, from one
   row per contribution (an invoice, or a seller's subtotal): per cell its value
   :math:`T=\sum_i x_i`, its number of contributors (distinct units: sellers) and the largest
   contributions :math:`x_{(1)}\ge x_{(2)}\ge\dots` (``top1``, ``top2``…), each unit's
   contributions to the cell summed first.
2. :func:`primary_suppression`: which cells are *sensitive*, and the protection each needs:

   - **threshold rule** (minimum frequency): fewer than :data:`~kinhteso.methods.disclosure.MIN_UNITS`
     (3) contributors — the rule of :mod:`kinhteso.methods.disclosure`, read from there
     (:func:`~kinhteso.methods.disclosure.below_threshold`); an *empty* cell (no contributor,
     value 0) is not sensitive;
   - **(n, k) dominance**: the ``n`` largest contributors hold more than ``k`` % of the total,
     :math:`100\sum_{j\le n}x_{(j)} > k\,T`; default ``[(1, 85)]``, any list of rules;
   - **p% rule** (optional): the second largest contributor could estimate the largest within
     ``p`` %, :math:`T-x_{(1)}-x_{(2)} < \tfrac{p}{100}x_{(1)}`.

   Required (upper) protection of a sensitive cell, the amount by which a reader's upper bound
   must exceed the true value (Hundepool et al. 2012, §4.2.2–4.2.3; τ-Argus manual,
   "protection levels"): dominance :math:`P=\tfrac{100}{k}\sum_{j\le n}x_{(j)}-T`; p%
   :math:`P=\tfrac{p}{100}x_{(1)}-(T-x_{(1)}-x_{(2)})`; threshold :math:`P=\tfrac{s}{100}T` with
   the safety range ``s`` (default 10 %); the largest applies.
3. :func:`secondary_suppression` (or everything at once: :func:`protect`): more cells suppressed
   so that the table's additive relations (a total equals the sum of its parts, along each
   hierarchy: channel ``online + offline = _T``, buyer types, VSIC classes within a division,
   months within a quarter) do not give a sensitive cell back. See that function for the
   heuristic and what it guarantees; :func:`find_disclosures` and :func:`audit_intervals` check
   a pattern (the tests run them on every table they protect).

Flags are SDMX ``OBS_CONF`` (``CL_CONF_STATUS``): ``C`` primary, ``D`` secondary (``secondary_flag``:
the ``microdata aggregate`` CSV, whose contract knows only ``C``, passes ``secondary_flag="C"``),
``F`` free.

Why our own code and not a package (checked on PyPI, 2026): ``piargus`` (Statistics Netherlands)
only drives the τ-Argus Windows executable, which cannot be installed from a registry here;
``acro`` (research-output checking) applies the threshold, (n, k) and p% rules to a crosstab but
does no secondary suppression; ``sdcMicro``/``sdcTable`` are R packages. So the rules are written
here from their published definitions and the secondary step is a documented heuristic checked by
an exact audit, not a reproduction of τ-Argus's optimisers (``docs/microdata.md``).

Sources: A. Hundepool, J. Domingo-Ferrer, L. Franconi, S. Giessing, E. Schulte Nordholt,
K. Spicer, P.-P. de Wolf, *Statistical Disclosure Control*, Wiley 2012, ch. 4 (magnitude tables:
sensitivity rules §4.2, secondary cell suppression and the hypercube method §4.3–4.4, audit);
the τ-Argus manual (version 4.2, Statistics Netherlands: dominance, p% and frequency rules,
protection levels, the hypercube/GHMITER method of R. Repsilber); Eurostat / ESSnet SDC,
*Handbook on Statistical Disclosure Control* (2010), ch. 4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods.disclosure import (
    CONFIDENTIAL,
    FREE,
    MIN_UNITS,
    SECONDARY,
    below_threshold,
)

__all__ = [
    "DEFAULT_DOMINANCE",
    "SAFETY_RANGE",
    "TOTAL",
    "Hierarchies",
    "audit_intervals",
    "cells_from_contributions",
    "find_disclosures",
    "period_hierarchy",
    "primary_suppression",
    "protect",
    "relations",
    "secondary_suppression",
]

#: The (n, k) dominance rules applied by default: the largest contributor over 85 %.
DEFAULT_DOMINANCE: tuple[tuple[int, float], ...] = ((1, 85.0),)
#: Required protection of a cell sensitive by the threshold rule, in % of its value.
SAFETY_RANGE = 10.0
#: The code of a total in a dimension (SDMX's ``_T``), as :func:`period_hierarchy` and the docs use it.
TOTAL = "_T"
#: ``{dimension: {parent code: [child codes]}}``: a tree per additive dimension.
Hierarchies = Mapping[str, Mapping[str, Sequence[str]]]

_TOP = re.compile(r"^top(\d+)$")
_TOL = 1e-9


# --- helpers --------------------------------------------------------------------------------------------------
def _need_columns(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise MethodError("SDC_COLUMNS", f"{what}: thiếu cột {', '.join(missing)}.",
                          f"{what}: missing column(s) {', '.join(missing)}.", columns=missing)


def _check_hierarchies(dims: Sequence[str], hierarchies: Hierarchies | None) -> dict[str, dict[str, str]]:
    """``{dimension: {child: parent}}``, after checking each hierarchy is a tree on a known dimension."""
    out: dict[str, dict[str, str]] = {}
    for d, tree in (hierarchies or {}).items():
        if d not in dims:
            raise MethodError("SDC_HIERARCHY", f"Phân cấp cho '{d}' nhưng bảng không có chiều này ({', '.join(dims)}).",
                              f"A hierarchy is given for '{d}', which is not a dimension of the table "
                              f"({', '.join(dims)}).", dimension=d)
        parent_of: dict[str, str] = {}
        for p, children in tree.items():
            for c in children:
                c, p = str(c), str(p)
                if c == p or parent_of.get(c, p) != p:
                    raise MethodError("SDC_HIERARCHY",
                                      f"Chiều '{d}': mã {c} có hai mã cha ({parent_of.get(c, c)}, {p}); cần một cây.",
                                      f"Dimension '{d}': code {c} has two parents ({parent_of.get(c, c)}, {p}); "
                                      "a hierarchy must be a tree.", dimension=d, item=c)
                parent_of[c] = p
        for c in parent_of:  # no cycle
            seen, x = {c}, c
            while x in parent_of:
                x = parent_of[x]
                if x in seen:
                    raise MethodError("SDC_HIERARCHY", f"Chiều '{d}': phân cấp có vòng lặp qua mã {c}.",
                                      f"Dimension '{d}': the hierarchy loops through code {c}.", dimension=d, item=c)
                seen.add(x)
        out[d] = parent_of
    return out


def _keys(frame: pd.DataFrame, dims: Sequence[str]) -> list[tuple[str, ...]]:
    if not dims:
        return [()] * len(frame)
    return list(zip(*[frame[d].astype(str).tolist() for d in dims]))


def period_hierarchy(months: Sequence[str], *, year: bool = True) -> dict[str, list[str]]:
    """The additive hierarchy of periods: months ``YYYY-MM`` within quarters ``YYYY-Qq`` and, with
    ``year``, quarters within the year ``YYYY`` — for the ``period`` dimension of
    :func:`secondary_suppression` when quarterly or annual totals are published too.

    >>> period_hierarchy(["2025-01", "2025-02", "2025-04"])
    {'2025-Q1': ['2025-01', '2025-02'], '2025-Q2': ['2025-04'], '2025': ['2025-Q1', '2025-Q2']}
    """
    tree: dict[str, list[str]] = {}
    for m in sorted({str(x) for x in months}):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m):
            raise MethodError("SDC_PERIOD", f"Kỳ '{m}' không phải tháng YYYY-MM.", f"Period '{m}' is not a month YYYY-MM.",
                              period=m)
        q = f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}"
        tree.setdefault(q, []).append(m)
    if year:
        for q in sorted(k for k in tree if "-Q" in k):
            tree.setdefault(q[:4], []).append(q)
    return tree


# --- 1. cells from contributions ------------------------------------------------------------------------------
def cells_from_contributions(records: pd.DataFrame, dims: Sequence[str], *, unit: str, value: str = "value",
                             hierarchies: Hierarchies | None = None, top_n: int = 2,
                             units: str = "n_units") -> pd.DataFrame:
    """The cells of a magnitude table, totals included, from its contributions.

    ``records``: one row per contribution with the ``dims`` columns, the contributing ``unit``
    (e.g. ``seller_tax_code``) and ``value``. A unit's contributions to a cell are summed first
    (:math:`x_i`: the unit's total in the cell — dominance is about respondents, not invoices);
    then per cell: ``value`` :math:`T=\\sum_i x_i`, ``units`` (distinct units) and ``top1`` …
    ``top{top_n}`` (the largest :math:`x_i`, 0 where the cell has fewer units). With
    ``hierarchies``, every contribution also counts in each ancestor of its code (the totals
    ``_T``, the division of a class, the quarter of a month), so a total's contributors and its
    largest contributions are those of the microdata, not sums of the cells'. Hierarchy dimensions
    are returned as text. The reference semantics for the aggregation engines (DuckDB, Spark),
    which may compute the same columns in SQL.

    >>> r = pd.DataFrame({"channel": ["online", "online", "offline"], "seller": ["a", "a", "b"],
    ...                   "value": [2.0, 3.0, 4.0]})
    >>> cells_from_contributions(r, ["channel"], unit="seller", hierarchies={"channel": {"_T": ["online", "offline"]}}
    ...                          ).to_dict(orient="records")  # doctest: +NORMALIZE_WHITESPACE
    [{'channel': '_T', 'value': 9.0, 'n_units': 2, 'top1': 5.0, 'top2': 4.0},
     {'channel': 'offline', 'value': 4.0, 'n_units': 1, 'top1': 4.0, 'top2': 0.0},
     {'channel': 'online', 'value': 5.0, 'n_units': 1, 'top1': 5.0, 'top2': 0.0}]
    """
    dims = list(dims)
    _need_columns(records, [*dims, unit, value], "cells_from_contributions")
    if top_n < 0:
        raise MethodError("SDC_RULE", f"top_n phải ≥ 0 (nhận {top_n}).", f"top_n must be ≥ 0 (got {top_n}).")
    tops = [f"top{j}" for j in range(1, top_n + 1)]
    cols = [*dims, value, units, *tops]
    parents = _check_hierarchies(dims, hierarchies)
    df = records[[*dims, unit, value]].copy()
    df = df[df[unit].notna()]
    if not len(df):
        return pd.DataFrame(columns=cols)
    df[value] = pd.to_numeric(df[value], errors="raise").astype("float64")
    for d, parent_of in parents.items():
        def chain(code: Any, parent_of: dict[str, str] = parent_of) -> list[str]:
            out = [str(code)]
            while out[-1] in parent_of:
                out.append(parent_of[out[-1]])
            return out
        df[d] = df[d].map(chain)
        df = df.explode(d, ignore_index=True)
    per_unit = df.groupby([*dims, unit], sort=True, dropna=False)[value].sum().reset_index()
    g = per_unit.groupby(dims, sort=True, dropna=False)
    cells = g[value].sum().rename(value).to_frame()
    cells[units] = g[unit].nunique().astype("int64")
    if tops:
        ranked = per_unit.sort_values([*dims, value], ascending=[True] * len(dims) + [False], kind="stable")
        ranked["_rank"] = ranked.groupby(dims, sort=False, dropna=False).cumcount() + 1
        ranked = ranked[ranked["_rank"] <= top_n]
        wide = ranked.pivot_table(index=dims, columns="_rank", values=value, aggfunc="sum")
        wide = wide.reindex(columns=range(1, top_n + 1))
        wide.columns = tops
        cells = cells.join(wide).fillna({t: 0.0 for t in tops})
    out = cells.reset_index()
    return out[cols]


# --- 2. primary suppression -----------------------------------------------------------------------------------
def _check_rules(dominance: Sequence[tuple[int, float]], p: float | None, min_units: int, safety_range: float) -> None:
    for rule in dominance:
        n, k = rule
        if int(n) != n or n < 1 or not (0 < k <= 100):
            raise MethodError("SDC_RULE", f"Quy tắc trội (n, k) = {rule} không hợp lệ: cần n ≥ 1 nguyên, 0 < k ≤ 100.",
                              f"Dominance rule (n, k) = {rule} is invalid: n must be an integer ≥ 1 and 0 < k ≤ 100.",
                              rule=str(rule))
    if p is not None and not (0 < p <= 100):
        raise MethodError("SDC_RULE", f"Quy tắc p% cần 0 < p ≤ 100 (nhận {p}).", f"The p% rule needs 0 < p ≤ 100 (got {p}).")
    if int(min_units) != min_units or min_units < 1:
        raise MethodError("SDC_RULE", f"Ngưỡng số đơn vị phải là số nguyên ≥ 1 (nhận {min_units}).",
                          f"The threshold must be an integer ≥ 1 (got {min_units}).")
    if not (0 <= safety_range <= 100):
        raise MethodError("SDC_RULE", f"Khoảng an toàn phải trong 0–100 % (nhận {safety_range}).",
                          f"The safety range must be within 0–100 % (got {safety_range}).")


def _top_sum(frame: pd.DataFrame, n: int, tops: list[str]) -> pd.Series:
    """:math:`\\sum_{j\\le n} x_{(j)}`: the column ``top{n}_sum`` if given, else ``top1`` + … + ``top{n}``."""
    if f"top{n}_sum" in frame.columns:
        return pd.to_numeric(frame[f"top{n}_sum"], errors="raise").astype("float64").fillna(0.0)
    if len(tops) < n:
        raise MethodError("SDC_TOP_MISSING",
                          f"Quy tắc cần {n} đóng góp lớn nhất mỗi ô (cột top1…top{n} hoặc top{n}_sum); bảng chỉ có "
                          f"{len(tops)}.",
                          f"The rule needs the {n} largest contributions of each cell (columns top1…top{n} or "
                          f"top{n}_sum); the table has {len(tops)}.", n=n)
    return frame[tops[:n]].astype("float64").fillna(0.0).sum(axis=1)


def primary_suppression(cells: pd.DataFrame, *, value: str = "value", units: str = "n_units",
                        top: Sequence[str] | None = None,
                        dominance: Sequence[tuple[int, float]] | None = DEFAULT_DOMINANCE,
                        p: float | None = None, min_units: int = MIN_UNITS,
                        safety_range: float = SAFETY_RANGE) -> pd.DataFrame:
    """The sensitive cells of a magnitude table: a copy of ``cells`` with ``sensitive`` (bool),
    ``sdc_rule`` (the rules that fire, ``;``-joined: ``threshold``, ``dominance(n,k)``, ``p%(p)``;
    empty when none) and ``protection`` (the required upper protection, 0 when not sensitive).

    ``cells``: one row per cell with ``value`` (:math:`T\\ge 0`), ``units`` (contributors) and the
    largest contributions ``top`` (default: the columns ``top1``, ``top2``… found in the frame,
    largest first; a precomputed ``top{n}_sum`` serves the (n, k) rule for that n).

    - threshold: ``units < min_units`` (:func:`~kinhteso.methods.disclosure.below_threshold`), except
      an empty cell (no unit, value 0); protection :math:`\\tfrac{s}{100}T`, ``s = safety_range``;
    - each (n, k) of ``dominance`` (``None`` or ``[]``: none): :math:`100\\sum_{j\\le n}x_{(j)} > kT`
      with :math:`T>0`; protection :math:`\\tfrac{100}{k}\\sum_{j\\le n}x_{(j)}-T` (Hundepool et al.
      2012, §4.2.2; τ-Argus manual: dominance rule);
    - ``p`` (the p% rule, off by default): :math:`100(T-x_{(1)}-x_{(2)}) < p\\,x_{(1)}` with
      :math:`T>0`; protection :math:`\\tfrac{p}{100}x_{(1)}-(T-x_{(1)}-x_{(2)})` (Hundepool et al.
      2012, §4.2.3; τ-Argus manual: p% rule).

    Values are not removed here (:func:`secondary_suppression` needs them). Negative values or
    contributions raise ``SDC_NEGATIVE`` (the rules are defined for non-negative magnitudes);
    contributions larger than the cell, or not in decreasing order, ``SDC_TOP_INCONSISTENT``.

    >>> c = pd.DataFrame({"value": [100.0, 100.0, 100.0, 0.0], "n_units": [2, 5, 5, 0],
    ...                   "top1": [60.0, 90.0, 40.0, 0.0]})
    >>> primary_suppression(c)[["sensitive", "sdc_rule", "protection"]].values.tolist()
    [[True, 'threshold', 10.0], [True, 'dominance(1,85)', 5.882352941176478], [False, '', 0.0], [False, '', 0.0]]
    """
    dominance = list(dominance or [])
    _check_rules(dominance, p, min_units, safety_range)
    _need_columns(cells, [value, units], "primary_suppression")
    out = cells.copy()
    if top is None:
        found = sorted((int(m.group(1)), c) for c in out.columns if (m := _TOP.match(str(c))))
        tops = [c for j, c in found if j == found.index((j, c)) + 1]  # top1, top2… without gaps
    else:
        _need_columns(out, list(top), "primary_suppression")
        tops = list(top)
    if not len(out):
        out["sensitive"] = pd.Series(dtype=bool)
        out["sdc_rule"] = pd.Series(dtype=object)
        out["protection"] = pd.Series(dtype="float64")
        return out
    v = pd.to_numeric(out[value], errors="coerce").astype("float64")
    n = pd.to_numeric(out[units], errors="coerce")
    contrib = out[tops].apply(pd.to_numeric, errors="coerce").astype("float64") if tops else pd.DataFrame(index=out.index)
    if (v < 0).any() or (contrib < 0).any().any():
        raise MethodError("SDC_NEGATIVE",
                          "Giá trị hoặc đóng góp âm: các quy tắc trội/p% chỉ áp dụng cho đại lượng không âm "
                          "(tách phần âm, ví dụ hóa đơn điều chỉnh giảm, thành bảng riêng).",
                          "A negative value or contribution: the dominance and p% rules are defined for non-negative "
                          "magnitudes (tabulate negative parts, e.g. adjustment invoices, separately).")
    if tops:
        c = contrib.fillna(0.0)
        slack = _TOL * np.maximum(1.0, v.abs().fillna(0.0))
        if (c.sum(axis=1) > v.fillna(0.0) + slack).any() or (c.diff(axis=1).iloc[:, 1:] > slack.values[:, None]).any().any():
            raise MethodError("SDC_TOP_INCONSISTENT",
                              f"Các đóng góp lớn nhất ({', '.join(tops)}) phải giảm dần và tổng không vượt giá trị ô.",
                              f"The largest contributions ({', '.join(tops)}) must be in decreasing order and add up to "
                              "no more than the cell's value.")
    rules: list[list[str]] = [[] for _ in range(len(out))]
    prot = np.zeros(len(out))

    def fire(mask: pd.Series, name: str, need: pd.Series) -> None:
        m = mask.to_numpy(dtype=bool)
        for i in np.flatnonzero(m):
            rules[i].append(name)
        prot[m] = np.maximum(prot[m], need.clip(lower=0.0).fillna(0.0).to_numpy()[m])

    empty = (n.fillna(0) == 0) & (v.fillna(0.0) == 0.0)
    fire(below_threshold(n, v, min_units=min_units) & ~empty, "threshold", safety_range / 100.0 * v)
    positive = v.fillna(0.0) > 0
    for nk, k in dominance:
        s = _top_sum(out, int(nk), tops)
        fire(positive & (100.0 * s > k * v), f"dominance({int(nk)},{k:g})", 100.0 / k * s - v)
    if p is not None:
        x1, x2 = _top_sum(out, 1, tops), _top_sum(out, 2, tops) - _top_sum(out, 1, tops)
        rest = v - x1 - x2
        fire(positive & (100.0 * rest < p * x1), f"p%({p:g})", p / 100.0 * x1 - rest)
    out["sensitive"] = np.array([bool(r) for r in rules], dtype=bool)
    out["sdc_rule"] = pd.Series([";".join(r) for r in rules], index=out.index, dtype=object)
    out["protection"] = prot
    return out


# --- 3. the additive relations ----------------------------------------------------------------------------------
def relations(cells: pd.DataFrame, dims: Sequence[str], hierarchies: Hierarchies | None, *,
              value: str | None = None) -> list[tuple[int, tuple[int, ...], str]]:
    """The additive relations of a table: ``(total, parts, dimension)`` in row positions of
    ``cells``, one for each total cell present and each hierarchy parent of its code along one
    dimension, the other dimensions fixed: :math:`x_{\\text{total}}=\\sum x_{\\text{parts}}`. A part
    absent from the table is an empty cell (0, known to everyone); a total absent from the table
    is not published and gives no relation. With ``value``, every relation is checked to add up
    (``SDC_NOT_ADDITIVE``: a hierarchy that misses a code, or totals computed apart).

    >>> c = pd.DataFrame({"ch": ["_T", "on", "off"], "value": [5.0, 2.0, 3.0]})
    >>> relations(c, ["ch"], {"ch": {"_T": ["on", "off"]}}, value="value")
    [(0, (1, 2), 'ch')]
    """
    dims = list(dims)
    parents = _check_hierarchies(dims, hierarchies)
    _need_columns(cells, dims, "relations")
    keys = _keys(cells, dims)
    index: dict[tuple[str, ...], int] = {}
    for i, k in enumerate(keys):
        if k in index:
            raise MethodError("SDC_DUPLICATE_CELL", f"Ô lặp lại trong bảng: {dict(zip(dims, k))}.",
                              f"A cell appears twice in the table: {dict(zip(dims, k))}.", cell=str(k))
        index[k] = i
    out: list[tuple[int, tuple[int, ...], str]] = []
    for d, parent_of in parents.items():
        pos = dims.index(d)
        groups: dict[int, list[int]] = {}
        for i, k in enumerate(keys):
            par = parent_of.get(k[pos])
            if par is not None:
                j = index.get(k[:pos] + (par,) + k[pos + 1:])
                if j is not None:
                    groups.setdefault(j, []).append(i)
        codes_with_children = set(parent_of.values())
        for i, k in enumerate(keys):  # a total none of whose parts is in the table: all parts empty
            if k[pos] in codes_with_children and i not in groups:
                groups[i] = []
        out.extend((j, tuple(sorted(parts)), d) for j, parts in sorted(groups.items()))
    if value is not None and out:
        v = pd.to_numeric(cells[value], errors="coerce").astype("float64").fillna(0.0).to_numpy()
        for j, parts, d in out:
            s = float(v[list(parts)].sum()) if parts else 0.0
            if abs(v[j] - s) > 1e-6 * max(1.0, abs(v[j]), abs(s)):
                k = dict(zip(dims, keys[j]))
                raise MethodError("SDC_NOT_ADDITIVE",
                                  f"Tổng {k} = {v[j]:g} khác tổng các thành phần theo chiều '{d}' ({s:g}): phân cấp "
                                  "thiếu mã hoặc tổng không tính từ cùng dữ liệu.",
                                  f"The total {k} = {v[j]:g} differs from the sum of its parts along '{d}' ({s:g}): the "
                                  "hierarchy misses a code, or the totals were not computed from the same data.",
                                  cell=str(keys[j]), dimension=d)
    return out


# --- 4. secondary suppression ---------------------------------------------------------------------------------
class _Pattern:
    """The suppression pattern and the relations, with the per-relation and the exact checks."""

    def __init__(self, v: np.ndarray, sensitive: np.ndarray, prot: np.ndarray, usable: np.ndarray,
                 rels: list[tuple[int, tuple[int, ...], str]]) -> None:
        self.v, self.sensitive, self.prot, self.usable = v, sensitive, prot, usable
        self.supp = sensitive.copy()
        self.rels = rels
        self.members = [(j, *parts) for j, parts, _ in rels]
        self.of_cell: list[list[int]] = [[] for _ in range(len(v))]
        for r, m in enumerate(self.members):
            for i in m:
                self.of_cell[i].append(r)
        self.unresolved: set[int] = set()

    # the rule on one relation: 0 or ≥ 2 suppressed cells; every sensitive one covered by the others
    def deficit(self, r: int) -> tuple[bool, float]:
        m = self.members[r]
        z = [i for i in m if self.supp[i]]
        if not z:
            return False, 0.0
        if len(z) == 1:
            i = z[0]
            return True, (max(self.prot[i], _TOL) if self.sensitive[i] and self.v[i] > 0 else 0.0)
        total = float(self.v[z].sum())
        need, bad = 0.0, False
        if m[0] not in z and total <= 0.0:  # parts only, summing to 0: all read as 0 (values are ≥ 0)
            bad, need = True, _TOL
        for i in z:
            if self.sensitive[i]:
                others = total - self.v[i]
                req = max(self.prot[i], _TOL if self.v[i] > 0 else 0.0)
                if others + _TOL * max(1.0, self.v[i]) < req:
                    bad, need = True, max(need, req - others)
        return bad, need

    def pick(self, r: int, need: float) -> int | None:
        cands = [i for i in self.members[r] if not self.supp[i] and self.usable[i]]
        if not cands:
            return None
        cands.sort(key=lambda i: (self.v[i] <= 0, self.v[i], i))
        if need > 0:
            enough = [i for i in cands if self.v[i] > 0 and self.v[i] >= need]
            if enough:
                return enough[0]
            positive = [i for i in cands if self.v[i] > 0]
            if positive:
                return max(positive, key=lambda i: (self.v[i], -i))
        return cands[0]

    def settle(self) -> None:
        """Fix relation after relation until no relation is broken (or none can be fixed)."""
        queue = list(range(len(self.members)))
        queued = set(queue)
        while queue:
            r = queue.pop(0)
            queued.discard(r)
            while True:
                bad, need = self.deficit(r)
                if not bad:
                    self.unresolved.discard(r)
                    break
                i = self.pick(r, need)
                if i is None:
                    self.unresolved.add(r)
                    break
                self.supp[i] = True
                for q in self.of_cell[i]:
                    if q != r and q not in queued:
                        queue.append(q)
                        queued.add(q)

    def components(self) -> list[list[int]]:
        """Suppressed cells linked by the relations they share (union–find)."""
        parent = {i: i for i in np.flatnonzero(self.supp).tolist()}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x
        for m in self.members:
            z = [i for i in m if self.supp[i]]
            for a in z[1:]:
                ra, rb = find(z[0]), find(a)
                if ra != rb:
                    parent[rb] = ra
        comps: dict[int, list[int]] = {}
        for i in parent:
            comps.setdefault(find(i), []).append(i)
        return [sorted(c) for c in comps.values()]

    def determined(self, limit: int) -> tuple[dict[int, list[int]], list[int]]:
        """Suppressed cells the published cells and the relations give back exactly (linear
        algebra: the unit vector :math:`e_i` lies in the row space of the relations restricted to
        the suppressed cells, :math:`e_i = w^\\top A`), each with the relations of such a combination
        :math:`w` (least norm, then every relation of its group); and the cells of the groups larger
        than ``limit`` (not audited)."""
        found: dict[int, list[int]] = {}
        skipped: list[int] = []
        for comp in self.components():
            if len(comp) > limit:
                skipped.extend(comp)
                continue
            col = {c: j for j, c in enumerate(comp)}
            rows, rel_ids = [], []
            for r in sorted({r for c in comp for r in self.of_cell[c]}):
                row = np.zeros(len(comp))
                for pos, i in enumerate(self.members[r]):
                    if i in col:
                        row[col[i]] += 1.0 if pos == 0 else -1.0
                if row.any():
                    rows.append(row)
                    rel_ids.append(r)
            if not rows:
                continue
            a = np.vstack(rows)
            _, s, vt = np.linalg.svd(a, full_matrices=True)
            rank = int((s > 1e-9 * max(1.0, s.max() if s.size else 0.0)).sum())
            null = vt[rank:]
            free = np.abs(null).max(axis=0) if null.size else np.zeros(len(comp))
            for c, f in zip(comp, free):
                if f < 1e-8:
                    e = np.zeros(len(comp))
                    e[col[c]] = 1.0
                    w = np.linalg.lstsq(a.T, e, rcond=None)[0]
                    used = [r for r, x in zip(rel_ids, w) if abs(x) > 1e-9]
                    found[c] = used + [r for r in rel_ids if r not in used]
        return found, skipped


def secondary_suppression(cells: pd.DataFrame, dims: Sequence[str], hierarchies: Hierarchies | None, *,
                          value: str = "value", units: str = "n_units", sensitive: str = "sensitive",
                          protection: str = "protection", flag: str = "flag",
                          secondary_flag: str = SECONDARY, audit_limit: int = 2000,
                          max_rounds: int = 50) -> pd.DataFrame:
    """Secondary cell suppression of an additive table: a copy of ``cells`` (the output of
    :func:`primary_suppression`, totals included as rows) with ``suppressed`` (bool) and ``flag``
    (``C`` sensitive, ``secondary_flag`` — default ``D`` — suppressed to protect one, ``F`` free).
    Values are not removed (:func:`protect` does); ``.attrs["sdc"]`` tells what was done.

    The relations (:func:`relations`): along each dimension of ``hierarchies``, each total equals
    the sum of its parts, the other dimensions fixed — a 2-D table channel × buyer type with its
    margins has one relation per row and per column. The heuristic, a simplified form of the
    hypercube idea of τ-Argus (GHMITER; Hundepool et al. 2012, §4.4.1; Repsilber 2002):

    1. *relation by relation*, until none changes: in a relation with suppressed cells, at least
       two must be suppressed (one alone is its total minus the published parts), the suppressed
       parts must not sum to 0 while the total is published (values are ≥ 0, so each would read
       0), and for each sensitive cell :math:`i` the other suppressed cells of the relation must
       add up to its required protection, :math:`\\sum_{j\\ne i} x_j\\ge P_i` (the widest a
       reader's upper bound can be from that relation alone); else the **smallest** published
       usable cell (the smallest that covers the shortfall when one does, else the largest) of
       the relation — a part or the total — is suppressed too and its other relations are
       revisited; empty cells (no unit, value 0) are never used;
    2. *an exact audit*: the suppressed cells are grouped by the relations they share; for each
       group of at most ``audit_limit`` cells a cell is given back exactly when the unit vector of
       its cell lies in the row space of the relations restricted to the suppressed cells (a
       combination of relations isolates it: e.g. a suppressed cell that links two otherwise
       separate rectangles of suppressions); such a cell gets the smallest usable published
       partner in one of its relations and step 1 runs again, up to ``max_rounds``.

    Guarantees, when ``.attrs["sdc"]`` reports nothing ``unresolved`` nor ``unaudited``: no
    suppressed cell is recovered by subtraction from one relation, nor exactly by any linear
    combination of the published relations; each sensitive cell keeps, in each relation alone,
    at least its required protection. Not guaranteed: the interval protection against a reader
    who combines several relations with the bounds :math:`x\\ge 0` (an LP; :func:`audit_intervals`
    measures it on a small table), nor the fewest or cheapest suppressions (τ-Argus's optimal and
    modular methods solve mixed-integer programs); relations outside the table (another
    publication of the same data) are not seen — every published total must be a row of ``cells``.
    """
    dims = list(dims)
    _need_columns(cells, [*dims, value, units, sensitive, protection], "secondary_suppression")
    if audit_limit < 0 or max_rounds < 1:
        raise MethodError("SDC_RULE", "audit_limit phải ≥ 0 và max_rounds ≥ 1.", "audit_limit must be ≥ 0 and max_rounds ≥ 1.")
    out = cells.copy()
    info = {"primary": 0, "secondary": 0, "relations": 0, "rounds": 0, "unresolved": [], "unaudited": 0}
    if not len(out):
        out["suppressed"] = pd.Series(dtype=bool)
        out[flag] = pd.Series(dtype=object)
        out.attrs["sdc"] = info
        return out
    v = pd.to_numeric(out[value], errors="coerce").astype("float64").fillna(0.0).to_numpy()
    if (v < 0).any():
        raise MethodError("SDC_NEGATIVE", "Giá trị âm: bảng cần đại lượng không âm.",
                          "A negative value: the table must hold non-negative magnitudes.")
    n = pd.to_numeric(out[units], errors="coerce").fillna(0).to_numpy()
    sens = out[sensitive].fillna(False).astype(bool).to_numpy()
    prot = pd.to_numeric(out[protection], errors="coerce").fillna(0.0).astype("float64").to_numpy()
    usable = ~((n == 0) & (v == 0.0))
    rels = relations(out, dims, hierarchies, value=value)
    pat = _Pattern(v, sens, prot, usable, rels)
    pat.settle()
    rounds, skipped = 0, []
    for rounds in range(1, max_rounds + 1):
        found, skipped = pat.determined(audit_limit)
        if not found:
            break
        added = False
        touched: set[int] = set()
        for rels_used in found.values():
            if touched & set(rels_used):  # a partner was just added in that combination: audit again first
                continue
            picks = [i for r in rels_used if (i := pat.pick(r, 0.0)) is not None]
            if picks:  # the smallest usable published cell of a relation that gives the cell back
                i = min(picks, key=lambda i: (v[i] <= 0, v[i], i))
                pat.supp[i] = True
                touched |= set(rels_used) | set(pat.of_cell[i])
                added = True
        pat.settle()
        if not added:
            info["unresolved"] = sorted(set(info["unresolved"]) | {f"exact:{c}" for c in found})
            break
    out["suppressed"] = pat.supp
    out[flag] = np.where(sens, CONFIDENTIAL, np.where(pat.supp, secondary_flag, FREE))
    info.update(primary=int(sens.sum()), secondary=int((pat.supp & ~sens).sum()), relations=len(rels), rounds=rounds,
                unaudited=len(skipped))
    info["unresolved"] = sorted(set(info["unresolved"]) | {f"relation:{r}" for r in pat.unresolved})
    out.attrs["sdc"] = info
    return out


def protect(cells: pd.DataFrame, dims: Sequence[str], hierarchies: Hierarchies | None = None, *,
            value: str = "value", units: str = "n_units", top: Sequence[str] | None = None,
            dominance: Sequence[tuple[int, float]] | None = DEFAULT_DOMINANCE, p: float | None = None,
            min_units: int = MIN_UNITS, safety_range: float = SAFETY_RANGE, flag: str = "flag",
            secondary_flag: str = SECONDARY, blank: bool = True, keep_detail: bool = False,
            audit_limit: int = 2000) -> pd.DataFrame:
    """Primary then secondary suppression (:func:`primary_suppression`,
    :func:`secondary_suppression`): ``cells`` with ``flag`` (``C`` / ``secondary_flag`` / ``F``)
    and, with ``blank``, the ``value`` and ``units`` of every suppressed cell removed (NaN).
    Unless ``keep_detail``, the columns that would themselves disclose (``top1``…, ``top{n}_sum``,
    ``protection``, ``sdc_rule``, ``sensitive``, ``suppressed``) are dropped, so the answer can be
    written as it is. ``.attrs["sdc"]``: counts, ``unresolved``, ``unaudited``.

    >>> c = pd.DataFrame({"ch": ["_T", "on", "off"], "value": [10.0, 6.0, 4.0], "n_units": [6, 4, 2],
    ...                   "top1": [3.0, 2.0, 3.0]})
    >>> protect(c, ["ch"], {"ch": {"_T": ["on", "off"]}}).values.tolist()
    [['_T', 10.0, 6.0, 'F'], ['on', nan, nan, 'D'], ['off', nan, nan, 'C']]
    """
    prim = primary_suppression(cells, value=value, units=units, top=top, dominance=dominance, p=p,
                               min_units=min_units, safety_range=safety_range)
    out = secondary_suppression(prim, dims, hierarchies, value=value, units=units, flag=flag,
                                secondary_flag=secondary_flag, audit_limit=audit_limit)
    info = out.attrs.get("sdc", {})
    if blank and len(out):
        hide = out["suppressed"].to_numpy(dtype=bool)
        out[value] = pd.to_numeric(out[value], errors="coerce").astype("float64")
        out.loc[hide, value] = np.nan
        out[units] = pd.to_numeric(out[units], errors="coerce").astype("float64")
        out.loc[hide, units] = np.nan
    if not keep_detail:
        detail = [c for c in out.columns if _TOP.match(str(c)) or re.fullmatch(r"top\d+_sum", str(c))]
        detail += ["protection", "sdc_rule", "sensitive", "suppressed"]
        if top:
            detail += list(top)
        out = out.drop(columns=[c for c in dict.fromkeys(detail) if c in out.columns and c not in (*dims, value, units, flag)])
    out.attrs["sdc"] = info
    return out


# --- 5. audits ------------------------------------------------------------------------------------------------
def find_disclosures(cells: pd.DataFrame, dims: Sequence[str], hierarchies: Hierarchies | None, *,
                     value: str = "value", suppressed: str = "suppressed", sensitive: str | None = "sensitive",
                     protection: str | None = "protection", audit_limit: int = 2000) -> pd.DataFrame:
    """Every way a suppression pattern gives a cell away, one row per finding (none: safe):
    ``cell`` (row position), ``kind`` and ``dimension``. ``cells`` holds the true values and a
    boolean ``suppressed`` (the output of :func:`secondary_suppression`).

    Kinds: ``subtraction`` (the only suppressed cell of a relation: total minus published parts),
    ``zero_sum`` (suppressed parts of a published total summing to 0), ``interval`` (a sensitive
    cell whose other suppressed cells in one relation add up to less than its ``protection``),
    ``linear`` (given back exactly by a combination of relations), ``unaudited`` (in a group of
    suppressed cells larger than ``audit_limit``: not checked).
    """
    _need_columns(cells, [*dims, value, suppressed], "find_disclosures")
    cols = ["cell", "kind", "dimension"]
    if not len(cells):
        return pd.DataFrame(columns=cols)
    v = pd.to_numeric(cells[value], errors="coerce").astype("float64").fillna(0.0).to_numpy()
    sens = (cells[sensitive].fillna(False).astype(bool).to_numpy() if sensitive and sensitive in cells.columns
            else np.zeros(len(cells), dtype=bool))
    prot = (pd.to_numeric(cells[protection], errors="coerce").fillna(0.0).to_numpy()
            if protection and protection in cells.columns else np.zeros(len(cells)))
    rels = relations(cells, dims, hierarchies)
    pat = _Pattern(v, sens, prot, np.ones(len(cells), dtype=bool), rels)
    pat.supp = cells[suppressed].fillna(False).astype(bool).to_numpy()
    rows: list[tuple[int, str, str]] = []
    for (j, parts, d), m in zip(rels, pat.members):
        z = [i for i in m if pat.supp[i]]
        if len(z) == 1:
            rows.append((z[0], "subtraction", d))
            continue
        if z and j not in z and float(v[z].sum()) <= 0.0:
            rows.extend((i, "zero_sum", d) for i in z)
        total = float(v[z].sum())
        for i in z:
            if sens[i] and v[i] > 0 and total - v[i] + _TOL * max(1.0, v[i]) < max(prot[i], _TOL):
                rows.append((i, "interval", d))
    found, skipped = pat.determined(audit_limit)
    rows.extend((i, "linear", "") for i in sorted(found))
    rows.extend((i, "unaudited", "") for i in skipped)
    return pd.DataFrame(rows, columns=cols).drop_duplicates().reset_index(drop=True)


def audit_intervals(cells: pd.DataFrame, dims: Sequence[str], hierarchies: Hierarchies | None, *,
                    value: str = "value", suppressed: str = "suppressed") -> pd.DataFrame:
    """What a reader can infer of each suppressed cell: a copy of the suppressed rows with
    ``lower`` and ``upper``, the smallest and largest values the cell can take given every
    published value, every relation and :math:`x\\ge 0` — two linear programs per cell
    (``scipy.optimize.linprog``, HiGHS): the "audit" of Hundepool et al. 2012, §4.3, and of
    τ-Argus. ``upper - value`` is the upper protection a cell actually has (compare it with its
    required ``protection``). Meant for small tables (tests, a province's sub-table): the cost
    grows with the square of the suppressed cells.
    """
    from scipy.optimize import linprog

    _need_columns(cells, [*dims, value, suppressed], "audit_intervals")
    out = cells[cells[suppressed].fillna(False).astype(bool)].copy()
    out["lower"] = pd.Series(dtype="float64")
    out["upper"] = pd.Series(dtype="float64")
    if not len(out):
        return out
    v = pd.to_numeric(cells[value], errors="coerce").astype("float64").fillna(0.0).to_numpy()
    supp = cells[suppressed].fillna(False).astype(bool).to_numpy()
    rels = relations(cells, dims, hierarchies)
    col = {int(i): j for j, i in enumerate(np.flatnonzero(supp))}
    a_eq, b_eq = [], []
    for j, parts, _ in rels:
        row = np.zeros(len(col))
        rhs = 0.0
        for pos, i in enumerate((j, *parts)):
            sign = 1.0 if pos == 0 else -1.0
            if i in col:
                row[col[i]] += sign
            else:
                rhs -= sign * v[i]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    a = np.vstack(a_eq) if a_eq else None
    b = np.array(b_eq) if b_eq else None
    lo, hi = [], []
    for i in np.flatnonzero(supp):
        c = np.zeros(len(col))
        c[col[int(i)]] = 1.0
        bounds = [(0, None)] * len(col)
        mn = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        mx = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        lo.append(mn.fun if mn.status == 0 else np.nan)
        hi.append(-mx.fun if mx.status == 0 else (np.inf if mx.status == 3 else np.nan))
    out["lower"] = lo
    out["upper"] = hi
    return out
