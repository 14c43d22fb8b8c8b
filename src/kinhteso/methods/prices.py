"""Digital-economy accounts at constant prices: deflating value added, real growth, chain-linking.

Anchor: the statistics office compiles GDP/GRDP at current prices and at constant 2010 prices
("giá so sánh 2010"); its real growth rates (e.g. digital-economy value added +11.8% in 2025
against +14.6% nominal, NSO release of January 2026) are growth at constant 2010 prices. The
chain-linked alternative follows the 2008 SNA (§15.44–15.54) and the IMF *Quarterly National
Accounts Manual* (2017, ch. 8): volumes at the previous year's prices, linked year to year.

Formulas (``P_s,t``: the deflator of industry piece s in year t, 2010 = 100):

- value added at constant 2010 prices: ``VA_s,t(2010) = VA_s,t / (P_s,t / 100)``;
- real growth at constant 2010 prices: ``g_t = DE_t(2010) / DE_t-1(2010) − 1``;
- volume at previous-year prices: ``VA_s,t(t−1) = VA_s,t / (P_s,t / P_s,t−1)``; chain-linked
  volume growth ``c_t = Σ_s DE_s,t(t−1) / Σ_s DE_s,t−1 − 1`` (both sides in the prices of
  t − 1); chain-linked volume index ``L_t = L_t−1 × (1 + c_t)``, ``L_ref = 100``. Chain-linked
  levels are not additive across industries or provinces; growth rates are what it reports.

A piece is deflated by the deflator of its own code, else of its nearest ancestor (a section
deflator serves every division, group and class in it). Reported codes are rebuilt from their
deflated pieces, so a parent is never below its deflated children. All functions are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from kinhteso.errors import MethodError
from kinhteso.methods.accounts import Hierarchy, _pieces

__all__ = ["deflator_for", "deflate", "implied_deflators", "relative_deflators", "growth"]


def deflator_for(code: str, h: Hierarchy, deflators: Mapping[str, float]) -> tuple[float, str] | None:
    """The deflator of ``code``: its own, else its nearest ancestor's (code of the one used)."""
    for c in (code, *h.ancestors(code)):
        if c in deflators:
            return float(deflators[c]), c
    return None


def deflate(va: pd.Series, h: Hierarchy, deflators: Mapping[str, float], *, label: str = "?",
            base: float = 100.0) -> tuple[pd.Series, dict[str, str]]:
    """Value added by reported code at constant prices: each piece (a code's remainder after its
    reported sub-industries) divided by ``deflator / base``; a reported code is the sum of the
    deflated pieces it holds. Returns (the series, piece code → the deflator's code used).
    Raises ``NO_DEFLATOR`` naming the sections without a deflator, ``DEFLATOR_NOT_POSITIVE``.

    >>> h = Hierarchy({"C": "_T", "26": "C", "J": "_T"}, {"C": "section", "26": "division", "J": "section"})
    >>> s, used = deflate(pd.Series({"C": 300.0, "26": 100.0, "J": 50.0}), h, {"C": 150.0, "J": 100.0})
    >>> s.round(4).to_dict(), used["26"]
    ({'C': 200.0, '26': 66.6667, 'J': 50.0}, 'C')
    """
    values = {str(k): float(v) for k, v in va.items()}
    pieces = _pieces(values, h, label)
    bad = sorted(c for c, v in deflators.items() if not v > 0)
    if bad:
        raise MethodError("DEFLATOR_NOT_POSITIVE", f"{label}: chỉ số giảm phát không dương ở {', '.join(bad)}.",
                          f"{label}: non-positive deflator for {', '.join(bad)}.")
    out_piece: dict[str, float] = {}
    used: dict[str, str] = {}
    missing: set[str] = set()
    for c, v in pieces.items():
        found = deflator_for(c, h, deflators)
        if found is None:
            if v > 0:
                missing.add(h.section(c))
            continue
        out_piece[c] = v / (found[0] / base)
        used[c] = found[1]
    if missing:
        secs = ", ".join(sorted(missing))
        raise MethodError(
            "NO_DEFLATOR",
            f"{label}: không có chỉ số giảm phát (VA_DEFLATOR) hay GRDP_VA giá so sánh cho khu vực {secs}; "
            f"không tính được giá so sánh.",
            f"{label}: no deflator (VA_DEFLATOR) or constant-price GRDP_VA for section(s) {secs}; "
            f"constant prices cannot be computed.", sections=sorted(missing))
    codes = list(values)
    rebuilt = {c: sum(out_piece.get(d, 0.0) for d in codes if d == c or c in h.ancestors(d)) for c in codes}
    return pd.Series(rebuilt, dtype=float).reindex(codes), used


def implied_deflators(current: pd.Series, constant: pd.Series, *, base: float = 100.0) -> dict[str, float]:
    """Deflators implied by a submitted constant-price table: current / constant × base for each
    code in both (with a positive constant value)."""
    both = pd.concat({"cur": current.astype(float), "const": constant.astype(float)}, axis=1).dropna()
    both = both[both.const > 0]
    return {str(k): float(r.cur / r.const * base) for k, r in both.iterrows()}


def relative_deflators(codes: Iterable[str], h: Hierarchy, now: Mapping[str, float], before: Mapping[str, float], *,
                       base: float = 100.0) -> dict[str, float]:
    """Deflators of year t on the prices of t − 1 (``P_t / P_t−1 × base``) for each of ``codes``,
    each year's deflator found as :func:`deflator_for` finds it (the code's own, else its nearest
    ancestor's: the two years may hold them at different levels); codes without both are left out.

    >>> h = Hierarchy({"C": "_T", "10": "C"}, {"C": "section", "10": "division"})
    >>> relative_deflators(["10"], h, {"10": 126.0}, {"C": 120.0})
    {'10': 105.0}
    """
    out = {}
    for c in codes:
        a, b = deflator_for(c, h, now), deflator_for(c, h, before)
        if a is not None and b is not None and b[0] > 0:
            out[c] = a[0] / b[0] * base
    return out


def growth(now: float | None, before: float | None) -> float | None:
    """``now / before − 1``; None where either is missing or ``before`` is not positive."""
    if now is None or before is None or not before > 0:
        return None
    return now / before - 1.0

