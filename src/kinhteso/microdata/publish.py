"""The aggregate as published: disclosure control of the cells and the output layout.

:func:`apply_disclosure_control` is the one adapter between the cells and the disclosure methods: it
calls :func:`kinhteso.methods.sdc.protect` (threshold: fewer than 3 distinct sellers; (1, 85 %)
dominance on the largest seller's part ``top1_vnd``; secondary suppression along the table's
additive relations — none while the CSV publishes no totals), every suppressed cell flagged ``C``
(the CSV's contract knows only ``C``) with its value and its count of sellers removed. The
threshold rule alone (:func:`threshold_only`, :mod:`kinhteso.methods.disclosure`) is kept as the
fallback it was before the full treatment existed.

>>> import pandas as pd
>>> c = pd.DataFrame({"territory": ["34:31"] * 2, "vsic": ["6201"] * 2, "period": ["2025-01"] * 2,
...                   "channel": ["online"] * 2, "buyer_type": ["B2B", "B2C"], "value_vnd": [5e9, 1e9],
...                   "sellers": [3, 2], "invoices": [9, 4], "top1_vnd": [3e9, 6e8]})
>>> publish_frame(apply_disclosure_control(c))[["value", "sellers", "flag"]].values.tolist()
[[5.0, 3, ''], [nan, <NA>, 'C']]
"""

from __future__ import annotations

import pandas as pd

__all__ = ["OUTPUT_COLUMNS", "DISCLOSURE_RULE", "apply_disclosure_control", "threshold_only", "publish_frame"]

#: The columns of ``kinhteso microdata aggregate``'s CSV.
OUTPUT_COLUMNS = ["territory", "vsic", "period", "channel", "buyer_type", "value", "sellers", "flag"]
#: The rule applied, as reports name it.
DISCLOSURE_RULE = ("kinhteso.methods.sdc.protect: threshold (fewer than 3 distinct sellers), dominance (1, 85%) on "
                   "the largest seller, secondary suppression along published totals (none in this CSV) → C")
#: The cell keys (the table's dimensions).
_DIMS = ["territory", "vsic", "period", "channel", "buyer_type"]


def apply_disclosure_control(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` (one row per cell: ``value_vnd``, ``sellers``, ``top1_vnd``…) with ``flag``: ``C``
    where the cell is suppressed (its ``value_vnd`` and ``sellers`` then NaN), empty where published."""
    from kinhteso.methods import sdc  # noqa: PLC0415

    out = sdc.protect(cells, _DIMS, None, value="value_vnd", units="sellers", top=["top1_vnd"], secondary_flag="C")
    out["flag"] = out["flag"].map(lambda f: "C" if f in ("C", "D") else "").astype(object)
    return out


def threshold_only(cells: pd.DataFrame) -> pd.DataFrame:
    """The threshold rule alone (:func:`kinhteso.methods.disclosure.apply_threshold`), the same
    layout as :func:`apply_disclosure_control`."""
    from kinhteso.methods import disclosure  # noqa: PLC0415

    out = disclosure.apply_threshold(cells, value="value_vnd", units="sellers", flag="flag")
    out["flag"] = out["flag"].map(lambda f: "" if f in (None, disclosure.FREE) else str(f)).astype(object)
    return out


def publish_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells in the output layout (:data:`OUTPUT_COLUMNS`): ``value`` in billion đồng (VND bn,
    rounded to the million đồng), empty where suppressed."""
    out = cells.copy()
    out["value"] = (out["value_vnd"].astype("float64") / 1e9).round(3)
    out["sellers"] = pd.to_numeric(out["sellers"]).round().astype("Int64")
    return out[OUTPUT_COLUMNS].reset_index(drop=True)
