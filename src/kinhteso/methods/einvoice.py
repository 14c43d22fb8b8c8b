"""Province-specific digitalisation from e-invoice aggregates (issue 17, item 3): online-revenue
shares and allocation ratios with a **bootstrap over firms**, pure functions on frames.

The unit of the data is the **seller** (one row per territory × VSIC class × year × seller, with
its total and online revenue in đồng). A cell's share is a ratio of sums over its sellers,

    s = Σ_i online_i / Σ_i total_i,

and its sampling-style uncertainty is that of the sellers behind it: B replicates, each drawing the
cell's n sellers n times **with replacement** (the multinomial counts of the nonparametric
bootstrap, Efron & Tibshirani 1993, ch. 6), the ratio of the replicate's sums, and the percentile
interval of the B ratios (ch. 13; 90 % by default). Each cell draws from its own stream, seeded by
``seed`` and the cell's key, so a cell's interval does not depend on the other cells. Cells of
different provinces are drawn independently (a stratified bootstrap, strata = cells), so a pooled
share's replicate is the ratio of the pooled replicate sums.

>>> import pandas as pd
>>> s = pd.DataFrame({"territory": ["34:31"] * 3, "section": ["G"] * 3, "seller": ["a", "b", "c"],
...                   "total_vnd": [100, 300, 600], "online_vnd": [50, 30, 120]})
>>> r = shares(s, ["territory", "section"], replicates=200, seed=1)
>>> round(float(r.table.share[0]), 6), int(r.table.sellers[0])   # (50 + 30 + 120) / 1000
(0.2, 3)
>>> bool(r.table.lower[0] <= 0.2 <= r.table.upper[0])
True
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kinhteso.methods.logistics_coef import scale_factor

__all__ = ["MIN_FIRMS", "REPLICATES", "LEVEL", "cell_rng", "resampled_sums", "percentile_interval", "Shares",
           "shares", "pooled", "section_factors", "allocation_ratios"]

#: A province's own figure replaces the national one only from this many sellers in the cell: below
#: it the bootstrap itself is unreliable (a percentile interval from a handful of firms, one of them
#: holding most of the revenue, says little) and the figure would rest on a few firms' accounts.
MIN_FIRMS = 30
#: Bootstrap replicates (Efron & Tibshirani: 500–1 000 for a percentile interval) and the interval's level.
REPLICATES = 500
LEVEL = 0.90
#: The most multinomial counts held at once (replicates × sellers), to keep memory bounded.
_BLOCK = 2_000_000


def cell_rng(seed: int, key: Sequence[object]) -> np.random.Generator:
    """The random stream of one cell: from ``seed`` and the cell's key (stable across runs and orders)."""
    text = "\x1f".join(str(k) for k in key)
    return np.random.default_rng([int(seed), zlib.crc32(text.encode("utf-8"))])


def resampled_sums(values: np.ndarray, *, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """B × k sums of ``values`` (n sellers × k columns) over n draws of sellers with replacement.

    >>> v = np.array([[1.0, 1.0], [2.0, 0.0]])
    >>> s = resampled_sums(v, replicates=4, rng=np.random.default_rng(0))
    >>> s.shape, bool(((s[:, 0] >= 2) & (s[:, 0] <= 4)).all())
    ((4, 2), True)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n, k = values.shape
    out = np.zeros((int(replicates), k))
    if n == 0:
        return out
    step = max(1, _BLOCK // n)
    p = np.full(n, 1.0 / n)
    for lo in range(0, int(replicates), step):
        b = min(step, int(replicates) - lo)
        out[lo:lo + b] = rng.multinomial(n, p, size=b) @ values
    return out


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of the finite replicates (NaN, NaN when none).

    >>> [round(x, 9) for x in percentile_interval(np.arange(101), 0.9)]
    [5.0, 95.0]
    """
    r = np.asarray(replicates, dtype=float)
    r = r[np.isfinite(r)]
    if not len(r):
        return float("nan"), float("nan")
    a = (1.0 - float(level)) / 2.0
    lo, hi = np.quantile(r, [a, 1.0 - a])
    return float(lo), float(hi)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


@dataclass
class Shares:
    """What :func:`shares` gives: ``table`` (the keys, ``sellers``, ``total_vnd``, ``online_vnd``,
    ``share``, ``lower``, ``upper``) and each cell's B × 2 replicate sums (online, total) by key tuple."""

    table: pd.DataFrame
    replicates: dict[tuple, np.ndarray]
    keys: list[str]


def shares(sellers: pd.DataFrame, keys: Sequence[str], *, replicates: int = REPLICATES, seed: int = 0,
           level: float = LEVEL) -> Shares:
    """Online share of each cell (``keys``) of ``sellers`` (``seller, total_vnd, online_vnd``): the
    ratio of sums and its bootstrap percentile interval over the cell's sellers. A seller listed
    twice in a cell (two rows) counts as one, its rows summed."""
    keys = list(keys)
    g = sellers.groupby([*keys, "seller"], as_index=False, sort=True)[["total_vnd", "online_vnd"]].sum()
    rows, reps = [], {}
    for key, cell in g.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        v = cell[["online_vnd", "total_vnd"]].to_numpy(dtype=float)
        sums = resampled_sums(v, replicates=replicates, rng=cell_rng(seed, key))
        reps[key] = sums
        online, total = float(v[:, 0].sum()), float(v[:, 1].sum())
        share = online / total if total > 0 else float("nan")
        lo, hi = percentile_interval(_ratio(sums[:, 0], sums[:, 1]), level)
        rows.append({**dict(zip(keys, key)), "sellers": len(cell), "total_vnd": total, "online_vnd": online,
                     "share": share, "lower": lo, "upper": hi})
    cols = [*keys, "sellers", "total_vnd", "online_vnd", "share", "lower", "upper"]
    return Shares(pd.DataFrame(rows, columns=cols), reps, keys)


def pooled(result: Shares, key_of: Mapping[tuple, object]) -> dict[object, tuple[float, np.ndarray]]:
    """The pooled share of each group of cells (``key_of``: cell key → group, e.g. the section) and
    its B replicates: Σ online / Σ total over the group's cells, replicate by replicate."""
    acc: dict[object, list] = {}
    sums_of = {tuple(k): (o, t) for k, o, t in zip(result.table[result.keys].itertuples(index=False, name=None),
                                                   result.table["online_vnd"], result.table["total_vnd"])}
    for key, sums in result.replicates.items():
        a = acc.setdefault(key_of[key], [0.0, 0.0, np.zeros(len(sums)), np.zeros(len(sums))])
        online, total = sums_of[key]
        a[0], a[1], a[2], a[3] = a[0] + online, a[1] + total, a[2] + sums[:, 0], a[3] + sums[:, 1]
    return {g: (a[0] / a[1] if a[1] > 0 else float("nan"), _ratio(a[2], a[3])) for g, a in acc.items()}


def section_factors(result: Shares, *, by: str = "section", min_firms: int = MIN_FIRMS,
                    level: float = LEVEL) -> pd.DataFrame:
    """Each province's scale factor of each section from its online share against the pooled share
    of all provinces' sellers in the section: m = s_p / s_pooled, the scale of
    :func:`kinhteso.methods.logistics_coef.scale_factor` with elasticity 1, point and replicates
    (replicate b: m_b = s_p,b / s_pooled,b). ``result``: :func:`shares` by (territory, ``by``).
    Columns: territory, section, sellers, share, lower, upper, pooled, factor, factor_lower,
    factor_upper, enough (≥ ``min_firms`` sellers and a positive pooled share), replicates (B factors;
    None when not enough)."""
    t, keys = result.table, result.keys
    pool = pooled(result, {k: k[1] for k in result.replicates})
    rows = []
    for r in t.itertuples(index=False):
        key = (getattr(r, keys[0]), getattr(r, keys[1]))
        ref, ref_reps = pool[key[1]]
        ok = r.sellers >= min_firms and ref > 0 and np.isfinite(r.share)
        factor, reps, lo, hi = float("nan"), None, float("nan"), float("nan")
        if ok:
            factor = scale_factor(min(max(float(r.share), 0.0), 1.0), ref, 1.0)
            sums = result.replicates[key]
            s_b = _ratio(sums[:, 0], sums[:, 1])
            reps = np.array([scale_factor(min(max(x, 0.0), 1.0), y, 1.0) if np.isfinite(x) and y > 0 else np.nan
                             for x, y in zip(s_b, ref_reps)])
            lo, hi = percentile_interval(reps, level)
        rows.append({"territory": key[0], "section": key[1], "sellers": int(r.sellers), "share": float(r.share),
                     "lower": float(r.lower), "upper": float(r.upper), "pooled": float(ref), "factor": factor,
                     "factor_lower": lo, "factor_upper": hi, "enough": bool(ok), "replicates": reps})
    return pd.DataFrame(rows, columns=["territory", "section", "sellers", "share", "lower", "upper", "pooled", "factor",
                                       "factor_lower", "factor_upper", "enough", "replicates"])


def allocation_ratios(sellers: pd.DataFrame, chains: Mapping[str, Sequence[str]], children: Mapping[str, str], *,
                      min_firms: int = MIN_FIRMS, replicates: int = REPLICATES, seed: int = 0,
                      level: float = LEVEL) -> pd.DataFrame:
    """The share of each child industry's revenue in its parent's, by territory, from the sellers'
    own activity codes: r = Σ_{i in child} total_i / Σ_{i in parent} total_i, with its bootstrap
    interval over the parent's sellers (one resample per territory and parent gives every child's
    replicate, so siblings' ratios never sum above 1). ``sellers``: ``territory, seller, vsic,
    total_vnd``; ``chains``: each seller class → the codes it counts in (itself, its group,
    division, section…); ``children``: child code → parent code to estimate. Columns: territory,
    child, parent, sellers (the parent's), child_sellers, ratio, lower, upper, enough (≥ ``min_firms``
    sellers in the parent), replicates (B ratios)."""
    by_parent: dict[str, list[str]] = {}
    for child, parent in children.items():
        by_parent.setdefault(parent, []).append(child)
    g = sellers.groupby(["territory", "vsic", "seller"], as_index=False, sort=True)["total_vnd"].sum()
    chain = {c: set(chains.get(c, ())) for c in g["vsic"].unique()}
    rows = []
    for terr, tf in g.groupby("territory", sort=True):
        codes = tf["vsic"].to_numpy()
        total = tf["total_vnd"].to_numpy(dtype=float)
        for parent in sorted(by_parent):
            inside = np.array([parent in chain[c] for c in codes], dtype=bool)
            if not inside.any():
                continue
            kids = sorted(by_parent[parent])
            pc, pt = codes[inside], total[inside]
            member = np.array([[k in chain[c] for k in kids] for c in pc], dtype=float)
            v = np.column_stack([pt, member * pt[:, None]])
            sums = resampled_sums(v, replicates=replicates, rng=cell_rng(seed, (terr, parent)))
            n = int(inside.sum())
            for j, k in enumerate(kids):
                n_k = int(member[:, j].sum())
                if not n_k:
                    continue
                ratio = float(v[:, 1 + j].sum() / v[:, 0].sum()) if v[:, 0].sum() > 0 else float("nan")
                reps = _ratio(sums[:, 1 + j], sums[:, 0])
                lo, hi = percentile_interval(reps, level)
                rows.append({"territory": terr, "child": k, "parent": parent, "sellers": n, "child_sellers": n_k,
                             "ratio": ratio, "lower": lo, "upper": hi, "enough": bool(n >= min_firms and
                                                                                     np.isfinite(ratio)),
                             "replicates": reps})
    return pd.DataFrame(rows, columns=["territory", "child", "parent", "sellers", "child_sellers", "ratio", "lower",
                                       "upper", "enough", "replicates"])
