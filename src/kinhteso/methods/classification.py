"""Conversion of VSIC 2018-coded series to VSIC 2025, for comparison across the change of
classification (Quyết định 36/2025/QĐ-TTg; ISIC Rev.4 → Rev.5).

Anchor: the United Nations' ISIC Rev.4 ↔ Rev.5 correspondence, applied the way statistical
offices convert a series through a correspondence table with weights (UNSD, *ISIC Rev.5*,
Statistical Papers Series M No. 4/Rev.5, 2024, Part Two on correspondences): each 2018 item's
value is shared among its 2025 counterparts in proportion to its weights, which sum to 1, so the
total is preserved.

A series may be reported at any VSIC level. As in the accounts
(:mod:`kinhteso.methods.accounts`), a reported code whose descendants are also reported
contributes its *remainder* (its value less that of its reported descendants), so nothing is
counted twice; each remainder (a *piece*) goes through the correspondence; the converted value
of a 2025 code is the sum of the amounts that land on it or below it. ``_T`` is the same in
both versions and is kept as it is.

Pure: data frames and mappings in, data frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods.accounts import Hierarchy, _pieces, hierarchy_from

__all__ = ["Conversion", "convert_2018_to_2025", "TOTAL"]

TOTAL = "_T"


@dataclass
class Conversion:
    """A converted series. ``values``: by VSIC 2025 code; ``pieces``: every piece and where it
    went (``code_2018, piece, code_2025, weight, amount``); ``warnings``: the splits converted
    with a counterpart of weight 0 (``VSIC_SPLIT_DEFAULT``)."""

    values: pd.Series
    pieces: pd.DataFrame
    warnings: list[dict] = field(default_factory=list)


def convert_2018_to_2025(values: pd.Series, corr: pd.DataFrame, tree_2018: Mapping[str, str | None],
                         tree_2025: Mapping[str, str | None], *, label: str = "") -> Conversion:
    """Convert a VSIC 2018-coded additive series (value added, employment…) to VSIC 2025.

    ``values``: by VSIC 2018 code (any level, ``_T`` allowed); ``corr``: the correspondence
    (``code_2018, code_2025, weight[, link]``; the weights of one 2018 code sum to 1);
    ``tree_2018``/``tree_2025``: each code's parent (``_T`` for a section).

    Returns a :class:`Conversion`. The sum of the converted top-level codes equals that of the
    reported top-level 2018 codes (totals are preserved). A reported code without a row in the
    correspondence is a :class:`~kinhteso.errors.MethodError` ``NO_CORRESPONDENCE``.

    >>> t18 = {"J": "_T", "61": "J", "62": "J", "C": "_T"}
    >>> t25 = {"K": "_T", "J": "_T", "61": "K", "62": "K", "C": "_T"}
    >>> corr = pd.DataFrame({"code_2018": ["J", "J", "61", "62", "C"], "code_2025": ["K", "J", "61", "62", "C"],
    ...                      "weight": [0.75, 0.25, 1, 1, 1]})
    >>> c = convert_2018_to_2025(pd.Series({"J": 100.0, "61": 40.0, "C": 50.0}), corr, t18, t25)
    >>> c.values.to_dict()
    {'C': 50.0, 'J': 15.0, 'K': 85.0, '61': 40.0}
    >>> float(c.values[["C", "J", "K"]].sum())
    150.0
    """
    label = label or "?"
    v = {str(k): float(x) for k, x in values.items() if not pd.isna(x)}
    total = v.pop(TOTAL, None)
    h18 = _tree(tree_2018)
    h25 = _tree(tree_2025)
    pieces = _pieces(v, h18, label) if v else {}
    by_code: dict[str, list[tuple[str, float, str]]] = {}
    for r in corr.itertuples(index=False):
        by_code.setdefault(str(r.code_2018), []).append(
            (str(r.code_2025), float(r.weight), str(getattr(r, "link", "") or "")))
    missing = sorted(c for c in pieces if c not in by_code)
    if missing:
        raise MethodError(
            "NO_CORRESPONDENCE",
            f"{label}: không có dòng nào trong bảng chuyển đổi VSIC 2018 → 2025 cho {', '.join(missing)}.",
            f"{label}: the VSIC 2018 → 2025 correspondence has no row for {', '.join(missing)}.",
            sectors=missing)
    rows, split = [], []
    for c, piece in sorted(pieces.items()):
        links = by_code[c]
        if piece > 0 and any(w == 0 and link == "part" for _, w, link in links):
            split.append(f"{c} → {', '.join(t for t, w, link in links if w == 0 and link == 'part')}")
        for target, w, _link in links:
            if w > 0:
                rows.append((c, piece, target, w, piece * w))
    table = pd.DataFrame(rows, columns=["code_2018", "piece", "code_2025", "weight", "amount"])
    landed: dict[str, float] = {}
    for t, a in zip(table.code_2025, table.amount):
        landed[t] = landed.get(t, 0.0) + a
    out: dict[str, float] = {}
    for t in landed:
        out[t] = sum(a for u, a in landed.items() if u == t or t in h25.ancestors(u))
    order = sorted(out, key=lambda c: (len(c) if c[0].isdigit() else 0, c))
    series = pd.Series({c: out[c] for c in order}, dtype=float)
    if total is not None:
        series = pd.concat([pd.Series({TOTAL: total}), series])
    warnings = []
    if split:
        warnings.append({
            "code": "VSIC_SPLIT_DEFAULT",
            "vi": (f"{label}: ngành VSIC 2018 tách sang nhiều ngành VSIC 2025 nhưng không có trọng số, toàn bộ giá trị "
                   f"được gán cho ngành chính: {'; '.join(split)} (cho trọng số trong tệp vsic2018_2025.csv "
                   f"của không gian làm việc)."),
            "en": (f"{label}: VSIC 2018 items split over several VSIC 2025 items without weights; the whole value goes "
                   f"to the main counterpart: {'; '.join(split)} (give weights in the workspace's "
                   f"vsic2018_2025.csv)."),
            "splits": split})
    return Conversion(series, table, warnings)


def _tree(parent: Mapping[str, str | None]) -> Hierarchy:
    return hierarchy_from((c, p, "") for c, p in parent.items())
