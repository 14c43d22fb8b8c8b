"""Quarterly digital-economy figures from the annual accounts, and their revisions.

For a territory: the annual digital-economy value added and GRDP (GSO view, from the accounts)
are disaggregated to quarters with :func:`kinhteso.methods.temporal.td`:

- indicator ``gdp`` (default): the quarterly DE value added computed the same way from
  quarterly GRDP by industry (annual coefficients), benchmarked to the annual figure with the
  proportional Denton–Cholette method (IMF *Quarterly National Accounts Manual* 2017, ch. 6:
  the indicator is the same concept, so its movement is kept and its level benchmarked);
- indicator ``monthly``: quarterly sums of monthly high-frequency indicators (e-invoice revenue,
  cashless payments, e-commerce and retail sales) as regressors of a Chow–Lin regression
  (maximum likelihood ρ), for territories without quarterly GRDP by industry.

Quarters of a year with an annual figure sum to it exactly; quarters after the last annual
figure are extrapolated (status E) and are benchmarked, as a new vintage, when the annual figure
arrives. The share is DE_q / GRDP_q × 100 with GRDP_q disaggregated the same way. The results
are written as observations ``DE_VA`` and ``DE_SHARE`` (sector ``_T``) with source
``kinhteso:quarterly``; re-running on unchanged inputs adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kinhteso import __version__
from kinhteso.errors import MethodError, UsageError
from kinhteso.ingest.load import MERGER_DATE, parse_period
from kinhteso.methods import temporal as T
from kinhteso.pipeline import accounts as PA
from kinhteso.pipeline.observations import ObservationQuery, read_observations
from kinhteso.store import VintageInfo
from kinhteso.workspace import Workspace

__all__ = ["QuarterlyResult", "quarterly_de", "revisions", "INDICATOR_SETS", "SOURCE"]

SOURCE = "kinhteso:quarterly"
MONTHLY_INDICATORS = ("EINVOICE_REVENUE", "CASHLESS_PAYMENTS", "ECOMMERCE_RETAIL", "RETAIL_SALES")
#: indicator set → default temporal-disaggregation method
INDICATOR_SETS = {"gdp": "denton-cholette", "monthly": "chow-lin-maxlog"}


@dataclass
class QuarterlyResult:
    territory: str
    frame: pd.DataFrame                      #: period, de_va, grdp, de_share, status, benchmarked
    annual: pd.DataFrame                     #: year, de_va, grdp, de_share
    method: str
    indicator: str
    vintage_id: int | None = None
    warnings: list[dict] = field(default_factory=list)
    illustrative: bool = False
    details: dict = field(default_factory=dict)


def _quarters(first_year: int, last: str) -> list[str]:
    out, y, q = [], first_year, 1
    while f"{y}-Q{q}" <= last:
        out.append(f"{y}-Q{q}")
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    return out


def _stored_periods(ws: Workspace, key: str, freq: str) -> list[str]:
    obs = read_observations(ws, ObservationQuery(indicator=["GRDP"], territory=[key],
                                                 basis=34 if key.startswith("34:") else None)).frame
    return sorted(p for p in obs.period.unique() if (len(p) == 4) == (freq == "A"))


def _monthly_regressors(ws: Workspace, key: str, quarters: list[str]) -> np.ndarray:
    res = read_observations(ws, ObservationQuery(indicator=list(MONTHLY_INDICATORS), territory=[key], sector=["_T"],
                                                 basis=34 if key.startswith("34:") else None)).frame
    res = res[res.period.str.len() == 7]
    res = res.assign(quarter=[f"{p[:4]}-Q{(int(p[5:7]) - 1) // 3 + 1}" for p in res.period])
    counts = res.groupby(["indicator", "quarter"]).period.nunique().unstack(0)
    sums = res.groupby(["indicator", "quarter"]).value.sum().unstack(0)
    full = counts.eq(3)
    sums = sums.where(full)
    X = sums.reindex(index=quarters, columns=list(MONTHLY_INDICATORS))
    if X.isna().any().any():
        bad = X.index[X.isna().any(axis=1)].tolist()
        raise MethodError("QUARTERLY_MONTHS_MISSING",
                          f"{key}: thiếu số liệu tháng cho các quý {', '.join(bad[:8])}.",
                          f"{key}: monthly indicators are incomplete for quarters {', '.join(bad[:8])}.")
    return X.to_numpy(dtype=float)


def quarterly_de(ws: Workspace, territory: str, *, indicator: str = "gdp", method: str | None = None,
                 last_year: int | None = None, write: bool = True,
                 progress: Callable[[str], None] | None = None) -> QuarterlyResult:
    """Quarterly DE value added and share for ``territory``; ``last_year`` pretends the annual
    accounts end there (the later years' quarters are then extrapolated)."""
    if indicator not in INDICATOR_SETS:
        raise UsageError("UNKNOWN_INDICATOR_SET", f"Bộ chỉ báo '{indicator}' không có; dùng {', '.join(INDICATOR_SETS)}.",
                         f"Unknown indicator set '{indicator}'; use {', '.join(INDICATOR_SETS)}.")
    method = method or INDICATOR_SETS[indicator]
    years = [int(y) for y in _stored_periods(ws, territory, "A")]
    if last_year is not None:
        years = [y for y in years if y <= last_year]
    if len(years) < 3:
        raise MethodError("TOO_FEW_YEARS", f"{territory}: cần ít nhất 3 năm số liệu năm, có {len(years)}.",
                          f"{territory}: at least 3 annual figures are needed, found {len(years)}.")
    q_stored = _stored_periods(ws, territory, "Q")
    if not q_stored:
        raise MethodError("NO_QUARTERLY_DATA", f"{territory}: không có GRDP theo quý.", f"{territory}: no quarterly GRDP.")
    quarters = _quarters(years[0], q_stored[-1])
    annual = PA.measure_many(ws, [territory], [str(y) for y in years], ["gso"], store_run=False)
    bad = [r for r in annual if r.result is None]
    if bad:
        raise MethodError("ANNUAL_ACCOUNTS_FAILED", f"{territory}: không tính được tài khoản năm {bad[0].period}: {bad[0].error['vi']}",
                          f"{territory}: the annual accounts of {bad[0].period} failed: {bad[0].error['en']}")
    y_de = np.array([r.result.de_va for r in annual])
    y_gdp = np.array([r.result.grdp for r in annual])
    illustrative = any(r.provenance.get("illustrative") for r in annual)
    qres = PA.measure_many(ws, [territory], quarters, ["gso"], store_run=False)
    x_de = np.array([r.result.de_va if r.result else np.nan for r in qres])
    x_gdp = np.array([r.result.grdp if r.result else np.nan for r in qres])
    if np.isnan(x_de).any():
        missing = [q for q, v in zip(quarters, x_de) if np.isnan(v)]
        raise MethodError("QUARTERS_MISSING", f"{territory}: thiếu GRDP_VA quý {', '.join(missing[:8])}.",
                          f"{territory}: quarterly GRDP_VA missing for {', '.join(missing[:8])}.")
    if indicator == "monthly":
        X = _monthly_regressors(ws, territory, quarters)
        names = list(MONTHLY_INDICATORS)
    else:
        X, names = x_de, ["quarterly_de_va"]
    labels_low = [str(y) for y in years]
    de = T.td(y_de, X, method=method, conversion="sum", fr=4, offset=0, indicator_names=names,
              series_name=f"DE_VA {territory}", labels_low=labels_low, labels_high=quarters)
    gdp = T.td(y_gdp, x_gdp, method="denton-cholette", conversion="sum", fr=4, offset=0,
               indicator_names=["quarterly_grdp"], series_name=f"GRDP {territory}", labels_low=labels_low,
               labels_high=quarters)
    frame = pd.DataFrame({"period": quarters, "de_va": de.series, "grdp": gdp.series})
    frame["de_share"] = frame.de_va / frame.grdp * 100.0
    frame["benchmarked"] = de.flags == "benchmarked"
    frame["status"] = np.where(frame.benchmarked, "A", "E")
    ann = pd.DataFrame({"year": years, "de_va": y_de, "grdp": y_gdp, "de_share": y_de / y_gdp * 100})
    out = QuarterlyResult(territory, frame, ann, method, indicator, illustrative=illustrative,
                          details={"rho": de.rho, "coefficients": de.coefficients, "annual_vintages":
                                   sorted({v for r in annual for v in r.provenance.get("input_vintages", [])})})
    if write:
        out.vintage_id = _write(ws, out)
    return out


def _write(ws: Workspace, r: QuarterlyResult) -> int:
    rows = []
    for x in r.frame.itertuples(index=False):
        start = parse_period(x.period)[2]
        backcast = r.territory.startswith("34:") and start < MERGER_DATE
        for ind, val, unit in (("DE_VA", x.de_va, "VND_BN"), ("DE_SHARE", x.de_share, "PCT")):
            rows.append({"indicator": ind, "territory": r.territory, "sector": "_T", "period": x.period,
                         "value": float(val), "unit": unit, "price_basis": "current", "status": x.status,
                         "backcast": backcast})
    frame = pd.DataFrame(rows)
    note = (f"method={r.method}; indicator={r.indicator}; annual years {r.annual.year.min()}–{r.annual.year.max()}; "
            f"code {__version__}")
    frame["value"] = frame["value"].round(6)
    sha = hashlib.sha256((frame.to_csv(index=False) + note).encode()).hexdigest()
    existing = ws.store.vintage_by_sha(sha)
    if existing is not None:
        return existing
    info = VintageInfo(source=SOURCE, file_name=f"(quarterly {r.territory})", sha256=sha, illustrative=r.illustrative,
                       note=note)
    vid, _ = ws.store.add_frame(info, frame)
    return vid


def revisions(ws: Workspace, territory: str, *, indicator: str = "DE_SHARE") -> pd.DataFrame:
    """How each period's figure moved across vintages: one row per period, one column per vintage
    (labelled by its received time), plus the total revision (latest − first)."""
    hist = ws.store.history(indicator=indicator, territory=territory)
    if hist.empty:
        raise UsageError("NO_HISTORY", f"Không có {indicator} cho {territory}.", f"No {indicator} for {territory}.")
    hist = hist.assign(vintage=hist.vintage_id.astype(str) + " " + hist.source + " " +
                       pd.to_datetime(hist.received_at).dt.strftime("%Y-%m-%d %H:%M:%S"))
    wide = hist.pivot_table(index="period", columns="vintage", values="value", aggfunc="last")
    wide = wide[sorted(wide.columns, key=lambda c: int(c.split()[0]))]
    first = wide.apply(lambda r: r.dropna().iloc[0], axis=1)
    last = wide.apply(lambda r: r.dropna().iloc[-1], axis=1)
    wide["revision"] = last - first
    return wide.reset_index()


def demo_summary(ws: Workspace, echo) -> None:
    """Demo: quarterly DE shares for every province that sum to the annual figures, and a revision:
    2025's quarters first extrapolated (annual accounts to 2024), then benchmarked to 2025."""
    from kinhteso.i18n import DEMO_LABEL, fmt_number, tr  # noqa: PLC0415

    keys = PA.territories_for("2025")
    worst = 0.0
    shown = {}
    for k in keys:
        if k in ("VN", "34:31", "34:79"):
            quarterly_de(ws, k, last_year=2024)  # as it stood before the 2025 accounts
        r = quarterly_de(ws, k)
        got = r.frame.assign(year=r.frame.period.str[:4].astype(int)).groupby("year").de_va.sum()
        ann = r.annual.set_index("year").de_va
        worst = max(worst, float((got.reindex(ann.index) / ann - 1).abs().max()))
        shown[k] = r
    echo("")
    echo(tr(f"Số liệu quý — tỷ trọng KTS theo quý, cách đo GSO (Denton–Cholette theo GRDP quý) [{DEMO_LABEL['vi']}]:",
            f"Quarterly figures — DE share by quarter, GSO view (Denton–Cholette on quarterly GRDP) [{DEMO_LABEL['en']}]:"))
    for k in ("VN", "34:31", "34:79"):
        f = shown[k].frame.tail(7)
        cells = "  ".join(f"{p}: {fmt_number(v, 2)}{'' if s == 'A' else '*'}" for p, v, s in zip(f.period, f.de_share, f.status))
        echo(f"  {k:<6} {cells}")
    echo(tr(f"  * ước tính (E), sau số liệu năm cuối. {len(keys)} địa bàn; quý cộng lại khớp số năm (sai lệch lớn nhất {worst:.1e}).",
            f"  * estimated (E), after the last annual figure. {len(keys)} territories; quarters sum to the annual figures (largest gap {worst:.1e})."))
    rev = revisions(ws, "34:31")
    q = rev[rev.period == "2025-Q3"]
    if len(q):
        echo(tr(f"  Hiệu chỉnh 34:31 quý 2025-Q3 khi có số năm 2025: {fmt_number(float(q.revision.iloc[0]), 2)} điểm % "
                f"(kinhteso revisions --territory 34:31 --indicator DE_SHARE).",
                f"  Revision of 34:31 2025-Q3 when the 2025 annual figure arrived: {fmt_number(float(q.revision.iloc[0]), 2)} pp "
                f"(kinhteso revisions --territory 34:31 --indicator DE_SHARE)."))
