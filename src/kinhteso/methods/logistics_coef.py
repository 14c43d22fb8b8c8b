"""Process-digitalisation coefficients: a province's ``DIGITAL_COEF`` of a VSIC section from its own
records — transport and storage (``H``) from its logistics records, and every section declared in
``reference/data/process_coefficients.yaml`` (health ``Q``, education ``P``, construction ``F``) from
its sector departments' records. Pure functions: counts in, numbers out; which components feed which
section is the caller's (the registry's) to say (``components``). Written first for section H
(hence the module's name and :func:`logistics_coefficient`, the same estimator as
:func:`process_coefficient`); the logistics case is the example below.

**Counts.** Each component's ``digital`` and ``records`` are additive: records for a declared share
(records whose field is one of the values / all records), the sum of the weight for a weighted
share, the sum of the numerator and of the denominator for a ratio (visits, transactions, fees:
``basis = "sum"``); ``units`` the reporting units they rest on. A component counts when ``records``
reaches ``min_records`` and, for a ``sum`` basis with units known, ``units`` reaches ``min_units``.

**Process-digitalisation index.** For a province *p* and year *t*, each component *k* is the share of
the year's records of one process (section H's below; the other sections' in the registry) that
went through the digital channel, recomputed from its additive parts (never an average of quarterly
shares):

- ``PORT_NSW_SHARE``: vessel calls whose procedures went through the National Single Window;
- ``PORT_EDO_SHARE``: delivery orders issued electronically (eDO);
- ``PORT_EPAYMENT_SHARE``: port charges paid cashless (transfer, ePort);
- ``CUSTOMS_E_DECLARATION_SHARE``: goods declarations lodged electronically;
- ``TRANSPORT_E_TICKET_SHARE``: bus, toll and ferry transactions made electronically (a ratio:
  transactions summed, not records),

    s_k = n_k(digital) / n_k(records),

and the index is their weighted mean over the components K available both for the province and for
the reference (each with at least ``min_records`` records in the year):

    I = Σ_{k∈K} w_k · s_k / Σ_{k∈K} w_k           (0 ≤ I ≤ 1; equal weights w_k = 1 by default)

The reference R is the same index over the same components and weights, either pooled over every
reporting territory's records (the default: s_k = Σ_p n_pk(digital) / Σ_p n_pk(records), the
reporting ports as the nation's stand-in) or a value given by the user (a national survey's figure).

**Coefficient.** The national coefficient of each code c at or under section H, scaled:

    m = 1 + η · (I − R) / R
    d_c(p) = min(max(d_c(nation) · m, 0), 1)

η (``elasticity``) is the elasticity of the section's coefficient with respect to the process index
at the reference point: η = 1 makes the coefficient proportional to the index (m = I / R, the
assumption of the calibration estimator, which makes coefficients proportional to an indicator
profile); η = 0 gives back the national coefficient. The bounds keep it a coefficient (0–1).

Assumptions (stated where the coefficient is shown, ``docs/logistics.md``): the reporting ports'
pooled index stands for the national level that the national coefficient of H reflects; the
processes measured (port clearance, release, payment, customs) move with the digitalisation of the
whole section; equal weights (the JRC/OECD *Handbook on Constructing Composite Indicators* default
when nothing supports others). Dwell time, vessel hours and berth productivity are outcomes, not
shares of digital processes, and are not in the index. Sources of the notions: World Bank, *LPI 2023*
(tracking indicators of port and border processes); OECD, *Handbook on Compiling Digital Supply and
Use Tables* (2023: digitally ordered / digitally delivered transactions — eDO and ePort payments are
digitally ordered services); ADB, *Capturing the Digital Economy* (2021: digital intensity by
industry). Worked example (tested, ``tests/test_logistics_coef.py``):

>>> prov = pd.DataFrame({"component": ["PORT_NSW_SHARE", "PORT_EDO_SHARE", "PORT_EPAYMENT_SHARE",
...                                    "CUSTOMS_E_DECLARATION_SHARE"],
...                      "digital": [90, 60, 150, 99], "records": [100, 100, 200, 100]})
>>> ref = prov.assign(digital=[150, 100, 250, 198], records=[200, 200, 400, 200])
>>> r = logistics_coefficient(prov, pd.Series({"H": 0.05}), reference=ref, min_records=30)
>>> round(r.index, 6), round(r.reference, 6), round(r.factor, 6), round(float(r.coefficients["H"]), 6)
(0.81, 0.71625, 1.13089, 0.056545)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from kinhteso.errors import MethodError

__all__ = ["COMPONENTS", "ProcessIndex", "LogisticsCoefficient", "ProcessCoefficient", "process_index",
           "scale_factor", "scaled_coefficients", "logistics_coefficient", "process_coefficient",
           "DEFAULT_ELASTICITY", "MIN_RECORDS", "MIN_UNITS"]

#: The default components of :func:`logistics_coefficient`: section H's in the registry
#: (``reference/data/process_coefficients.yaml``, which the pipeline reads; a test keeps the two
#: equal), with their weights (equal).
COMPONENTS: dict[str, float] = {"PORT_NSW_SHARE": 1.0, "PORT_EDO_SHARE": 1.0, "PORT_EPAYMENT_SHARE": 1.0,
                                "CUSTOMS_E_DECLARATION_SHARE": 1.0, "TRANSPORT_E_TICKET_SHARE": 1.0}
DEFAULT_ELASTICITY = 1.0
#: A component counts only with at least this many records in the year (a share from 30 records has
#: a standard error of at most √(0.25/30) ≈ 0.09) — for a weighted share or a ratio, this much of the
#: summed weight or denominator (visits, transactions: not records).
MIN_RECORDS = 30
#: ... and, for a weighted share or a ratio, at least this many reporting units (where known): a sum
#: of visits or fees says nothing of how many units it rests on (3: the disclosure rule's number).
MIN_UNITS = 3


@dataclass(frozen=True)
class ProcessIndex:
    """An index value (0–1) and the component shares (0–1) it averaged."""

    value: float
    shares: dict[str, float]
    records: dict[str, float]


@dataclass
class ProcessCoefficient:
    """What :func:`process_coefficient` gives: the index, its reference, the factor and the
    coefficients (by the national coefficient's codes), with every component that has counts in the
    province or the reference shown."""

    index: float
    reference: float
    factor: float
    elasticity: float
    coefficients: pd.Series
    components: pd.DataFrame   #: component, weight, basis, share, records, units, reference_share, reference_records, used
    capped: list[str] = field(default_factory=list)  #: codes whose scaled coefficient was bounded to 0 or 1


#: The name the estimator was first given (section H).
LogisticsCoefficient = ProcessCoefficient


def _shares(counts: pd.DataFrame) -> pd.DataFrame:
    need = {"component", "digital", "records"}
    if not need <= set(counts.columns):
        raise MethodError("LOGISTICS_COUNTS", "Bảng đếm cần các cột component, digital, records.",
                          "The counts need columns component, digital, records.")
    g = counts.groupby("component")[["digital", "records"]].sum()
    # units (None where the dataset names no reporting unit) and the basis: "records" or "sum"
    g["units"] = (counts.groupby("component")["units"].sum(min_count=1) if "units" in counts
                  else pd.Series(float("nan"), index=g.index))
    g["basis"] = counts.groupby("component")["basis"].first() if "basis" in counts else "records"
    bad = g[(g.digital < 0) | (g.digital > g.records)]
    if len(bad):
        raise MethodError("LOGISTICS_COUNTS", f"Số bản ghi số hóa âm hoặc lớn hơn tổng ở {', '.join(bad.index)}.",
                          f"Digital records negative or above the records in {', '.join(bad.index)}.")
    return g


def _enough(g: pd.DataFrame, k: str, min_records: float, min_units: int) -> bool:
    """Whether component ``k`` has enough behind it: ``min_records`` records (or summed weight or
    denominator), and for a summed basis with units known, ``min_units`` reporting units."""
    if k not in g.index or not g.at[k, "records"] >= min_records:
        return False
    units = g.at[k, "units"]
    return g.at[k, "basis"] != "sum" or pd.isna(units) or units >= min_units


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


def process_index(counts: pd.DataFrame, *, components: Mapping[str, float] | None = None,
                  only: set[str] | None = None, min_records: float = MIN_RECORDS,
                  min_units: int = MIN_UNITS) -> ProcessIndex | None:
    """I = Σ w_k·s_k / Σ w_k over the components with at least ``min_records`` records (summed
    weight or denominator for a ``sum`` basis, with ``min_units`` units where known; and in ``only``
    when given); None when no component qualifies.

    >>> c = pd.DataFrame({"component": ["PORT_EDO_SHARE", "PORT_NSW_SHARE"], "digital": [30, 40], "records": [60, 40]})
    >>> process_index(c).value
    0.75
    """
    weights = dict(COMPONENTS if components is None else components)
    g = _shares(counts)
    use = [k for k in weights if _enough(g, k, min_records, min_units) and (only is None or k in only)]
    if not use:
        return None
    shares = {k: float(g.at[k, "digital"]) / float(g.at[k, "records"]) for k in use}
    total_w = sum(weights[k] for k in use)
    if total_w <= 0:
        raise MethodError("LOGISTICS_WEIGHTS", "Tổng trọng số các thành phần phải dương.",
                          "The components' weights must sum to a positive number.")
    return ProcessIndex(sum(weights[k] * shares[k] for k in use) / total_w, shares,
                        {k: _num(g.at[k, "records"]) for k in use})


def scale_factor(index: float, reference: float, elasticity: float = DEFAULT_ELASTICITY) -> float:
    """m = 1 + η·(I − R)/R; ``REFERENCE_NOT_POSITIVE`` when R ≤ 0 (no reference to scale from).

    >>> scale_factor(0.9, 0.75), scale_factor(0.9, 0.75, 0.0), round(scale_factor(0.6, 0.75, 0.5), 6)
    (1.2, 1.0, 0.9)
    """
    if not reference > 0:
        raise MethodError("REFERENCE_NOT_POSITIVE",
                          "Chỉ số tham chiếu số hóa quy trình phải dương (không có gì để so sánh).",
                          "The reference process-digitalisation index must be positive (nothing to compare with).")
    if not 0 <= index <= 1:
        raise MethodError("INDEX_RANGE", f"Chỉ số số hóa quy trình {index} ngoài khoảng 0–1.",
                          f"The process-digitalisation index {index} is outside 0–1.")
    return 1.0 + float(elasticity) * (float(index) - float(reference)) / float(reference)


def scaled_coefficients(national: pd.Series, factor: float) -> tuple[pd.Series, list[str]]:
    """d_c = min(max(d_c(nation)·m, 0), 1) for each code; and the codes the bounds changed.

    >>> c, capped = scaled_coefficients(pd.Series({"H": 0.5, "52": 0.8}), 1.5)
    >>> c.to_dict(), capped
    ({'H': 0.75, '52': 1.0}, ['52'])
    """
    raw = national.astype(float) * float(factor)
    out = raw.clip(lower=0.0, upper=1.0)
    return out, [str(k) for k in raw.index[(raw != out).to_numpy()]]


def process_coefficient(counts: pd.DataFrame, national: pd.Series, *, reference: pd.DataFrame | float,
                        components: Mapping[str, float], elasticity: float = DEFAULT_ELASTICITY,
                        min_records: float = MIN_RECORDS, min_units: int = MIN_UNITS) -> ProcessCoefficient | None:
    """The province's coefficients of the codes of ``national`` (the nation's coefficients at or
    under the section) from its records' ``counts`` (``component, digital, records``, optionally
    ``units`` and ``basis``) of ``components`` (indicator → weight) against ``reference``: counts
    pooled over the reporting territories, or an index value (0–1). None when no component has
    enough behind it in both (the national coefficient then stands).

    A ratio-based section, by hand: EHR visits 600 of 1 000 (4 facilities) and cashless fees 300 of
    500 (million đồng) against a pooled 1 000 of 2 000 and 500 of 1 000 → I = (0.6 + 0.6)/2 = 0.6,
    R = 0.5, m = 1.2:

    >>> c = pd.DataFrame({"component": ["HEALTH_EHR_SHARE", "HEALTH_CASHLESS_SHARE"], "digital": [600, 300],
    ...                   "records": [1000, 500], "units": [4, 4], "basis": "sum"})
    >>> ref = c.assign(digital=[1000, 500], records=[2000, 1000], units=[9, 9])
    >>> r = process_coefficient(c, pd.Series({"Q": 0.1}), reference=ref,
    ...                         components={"HEALTH_EHR_SHARE": 1, "HEALTH_CASHLESS_SHARE": 1})
    >>> round(r.index, 6), round(r.reference, 6), round(r.factor, 6), round(float(r.coefficients["Q"]), 6)
    (0.6, 0.5, 1.2, 0.12)
    >>> process_coefficient(c.assign(units=2), pd.Series({"Q": 0.1}), reference=ref,
    ...                     components={"HEALTH_EHR_SHARE": 1}) is None  # 2 facilities < 3
    True
    """
    weights = dict(components)
    if isinstance(reference, pd.DataFrame):
        ref_g = _shares(reference)
        common = {k for k in weights if _enough(ref_g, k, min_records, min_units)}
        prov = process_index(counts, components=weights, only=common, min_records=min_records, min_units=min_units)
        if prov is None:
            return None
        ref = process_index(reference, components=weights, only=set(prov.shares), min_records=min_records,
                            min_units=min_units)
        ref_value, ref_shares, ref_records = ref.value, ref.shares, ref.records
        present = set(ref_g.index)
    else:
        prov = process_index(counts, components=weights, min_records=min_records, min_units=min_units)
        if prov is None:
            return None
        ref_value, ref_shares, ref_records = float(reference), {}, {}
        present = set()
        if not 0 < ref_value <= 1:
            raise MethodError("REFERENCE_RANGE", f"Chỉ số tham chiếu {ref_value} phải trong (0, 1].",
                              f"The reference index {ref_value} must be in (0, 1].")
    m = scale_factor(prov.value, ref_value, elasticity)
    coefs, capped = scaled_coefficients(national, m)
    g = _shares(counts)
    present |= set(g.index)

    def units(k):
        u = g.at[k, "units"] if k in g.index else None
        return None if u is None or pd.isna(u) else int(u)

    rows = [{"component": k, "weight": weights[k],
             "basis": str(g.at[k, "basis"]) if k in g.index else str(ref_g.at[k, "basis"]) if isinstance(
                 reference, pd.DataFrame) and k in ref_g.index else "records",
             "share": float(g.at[k, "digital"]) / float(g.at[k, "records"]) if k in g.index and g.at[k, "records"] else None,
             "records": _num(g.at[k, "records"]) if k in g.index else 0, "units": units(k),
             "reference_share": ref_shares.get(k), "reference_records": ref_records.get(k),
             "used": k in prov.shares} for k in weights if k in present]
    return ProcessCoefficient(prov.value, ref_value, m, float(elasticity), coefs, pd.DataFrame(rows), capped)


def logistics_coefficient(counts: pd.DataFrame, national: pd.Series, *, reference: pd.DataFrame | float,
                          elasticity: float = DEFAULT_ELASTICITY, components: Mapping[str, float] | None = None,
                          min_records: float = MIN_RECORDS, min_units: int = MIN_UNITS) -> ProcessCoefficient | None:
    """:func:`process_coefficient` for section H (transport and storage): ``components`` default to
    :data:`COMPONENTS`."""
    return process_coefficient(counts, national, reference=reference, elasticity=elasticity,
                               components=COMPONENTS if components is None else components,
                               min_records=min_records, min_units=min_units)
