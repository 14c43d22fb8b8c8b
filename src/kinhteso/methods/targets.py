"""Targets, gaps, trajectories and plans: pure numerics (numbers and data frames in and out).

Anchors:

- **EU Digital Decade monitoring** (Decision (EU) 2022/2481, Digital Decade Policy Programme
  2030; Commission Communication C(2023) 7500 establishing the Union-level projected
  trajectories; JRC 2023, *Methodology to project Digital Decade trajectories towards 2030*):
  each key performance indicator is compared with its 2030 target through a *baseline
  trajectory* estimated from its history (the outcome on current trends) and a *target
  trajectory* (the path that reaches the target); progress is reported as the growth rate
  required against the growth rate observed. Here: the trend is an OLS regression on the last
  3–5 observations (``loglinear``: log y = a + b·t, a constant growth rate, the default, as
  shares grow by compounding; or ``linear``: y = a + b·t); the target trajectory is geometric.
- **OLS prediction interval** (e.g. Wooldridge, *Introductory Econometrics*, §6.4;
  Montgomery, Peck & Vining, *Introduction to Linear Regression Analysis*, eq. 2.45):
  ŷ₀ ± t_{n−2, 1−α/2} · s · √(1 + 1/n + (t₀ − t̄)² / Sₜₜ), and the probability of reaching the
  target P(Y₀ ≥ y*) = 1 − F_{t, n−2}((y* − ŷ₀) / se₀) under the same model (on the log scale
  for ``loglinear``).
- **Sector decomposition** of the GSO-view share (GSO/NSO method, see
  :mod:`kinhteso.methods.accounts`): share = (core + Σₛ otherₛ · cₛ) / GRDP × 100; the rise
  needed is split over industries in proportion to their *leverage*
  Lₛ = otherₛ / GRDP × (1 − cₛ) (value-added weight × room to digitalise), so that every
  industry closes the same fraction θ of its room: Δcₛ = θ · (1 − cₛ), θ = ΔS / (100 · Σ Lₛ);
  the contributions 100 · θ · Lₛ add up exactly to ΔS.

Status rule (documented in docs/targets.md): ``achieved`` when the latest value meets the
target; otherwise, when the target year has come (no year left), ``off_track`` (missed);
otherwise by the prediction interval at the target year: ``on_track`` when its unfavourable
bound meets the target, ``off_track`` when its favourable bound does not, ``at_risk`` in
between (the interval contains the target). "Lower is better" targets mirror every comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from kinhteso.errors import MethodError

__all__ = [
    "TREND_MODELS",
    "STATUSES",
    "Trend",
    "Projection",
    "GapResult",
    "meets",
    "gap",
    "required_cagr",
    "fit_trend",
    "project",
    "probability",
    "status",
    "years_behind",
    "assess",
    "milestone_path",
    "quarter_index",
    "quarter_label",
    "sector_plan",
    "core_alternative",
    "percentiles",
    "peer_summary",
]

STATUSES = ("achieved", "on_track", "at_risk", "off_track")
_MIN_POINTS = 3
_MAX_POINTS = 5


@dataclass(frozen=True)
class Trend:
    """An OLS trend fitted on (t, y) — on log y for ``loglinear``."""

    model: str
    intercept: float
    slope: float
    n: int
    s: float          #: residual standard error (on the model's scale)
    t_mean: float
    stt: float        #: Σ (t − t̄)²
    t_last: float
    cagr: float       #: implied annual growth rate (loglinear: e^b − 1; linear: b / ŷ(t_last))

    @property
    def df(self) -> int:
        return self.n - 2


@dataclass(frozen=True)
class Projection:
    t: float
    value: float
    low: float
    high: float
    se: float         #: standard error of the forecast on the model's scale
    level: float


@dataclass
class GapResult:
    latest_value: float
    latest_t: float
    target_value: float
    target_t: float
    direction: str
    gap: float
    relative_gap: float
    required_cagr: float | None
    trend: Trend | None
    projection: Projection | None
    probability: float | None
    status: str
    years_behind: float | None
    warnings: list[dict] = field(default_factory=list)


def _err(code: str, vi: str, en: str, **ctx) -> MethodError:
    return MethodError(code, vi, en, **ctx)


# --- comparisons and gaps ---------------------------------------------------------------------
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda v, t: v >= t - 1e-12, ">": lambda v, t: v > t, "<=": lambda v, t: v <= t + 1e-12, "<": lambda v, t: v < t,
}


def meets(value: float, target: float, comparison: str) -> bool:
    """Whether ``value`` meets the target under ``comparison`` (``>=``, ``>``, ``<=``, ``<``)."""
    if comparison not in _COMPARE:
        raise _err("BAD_COMPARISON", f"Phép so sánh '{comparison}' không có; dùng {list(_COMPARE)}.",
                   f"Unknown comparison '{comparison}'; use one of {list(_COMPARE)}.")
    return _COMPARE[comparison](value, target)


def gap(latest: float, target: float, *, direction: str = "higher") -> tuple[float, float]:
    """(absolute, relative) distance still to go: target − latest when higher is better, latest −
    target when lower is better (positive = not there yet); relative = absolute / |target|.
    Anchor: the Digital Decade reports' "distance to target" (Commission, State of the Digital
    Decade 2023, KPI tables).

    >>> gap(14.65, 25.0)
    (10.35, 0.414)
    """
    if direction not in ("higher", "lower"):
        raise _err("BAD_DIRECTION", f"Hướng '{direction}' không có; dùng higher hoặc lower.",
                   f"Unknown direction '{direction}'; use higher or lower.")
    absolute = (target - latest) if direction == "higher" else (latest - target)
    absolute = round(absolute, 12)
    rel = absolute / abs(target) if target != 0 else math.inf
    return absolute, round(rel, 12)


def required_cagr(latest: float, target: float, years: float) -> float:
    """Annual growth rate that takes ``latest`` to ``target`` in ``years``: (target/latest)^(1/years) − 1.

    Anchor: the "required CAGR" of the State of the Digital Decade reports (against the
    baseline CAGR of the indicator's history).

    >>> round(required_cagr(14.65, 25, 2), 4)
    0.3063
    """
    if years <= 0:
        raise _err("TARGET_YEAR_PASSED", f"Không còn năm nào tới mục tiêu ({years:g} năm); không tính được tốc độ cần đạt.",
                   f"No time left to the target ({years:g} years); a required growth rate is undefined.")
    if latest <= 0 or target <= 0:
        raise _err("CAGR_NOT_POSITIVE", "Tốc độ tăng bình quân cần giá trị hiện tại và mục tiêu dương.",
                   "A compound growth rate needs a positive latest value and target.")
    return (target / latest) ** (1.0 / years) - 1.0  # CAGR definition


# --- trend --------------------------------------------------------------------------------------
def _fit_loglinear(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
    if (y <= 0).any():
        raise _err("TREND_NOT_POSITIVE", "Xu hướng log-tuyến tính cần mọi giá trị dương; dùng model linear.",
                   "A log-linear trend needs all values positive; use the linear model.")
    return np.log(y), "log"


def _fit_linear(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
    return y.astype(float), "level"


#: Trend models by name: (transform of y, inverse transform). The default is ``loglinear``.
TREND_MODELS: dict[str, tuple[Callable, Callable[[float], float], Callable[[float], float]]] = {
    "loglinear": (_fit_loglinear, math.exp, math.log),
    "linear": (_fit_linear, lambda x: x, lambda x: x),
}


def _model(name: str):
    if name not in TREND_MODELS:
        raise _err("UNKNOWN_TREND_MODEL", f"Mô hình xu hướng '{name}' không có; dùng {list(TREND_MODELS)}.",
                   f"Unknown trend model '{name}'; use one of {list(TREND_MODELS)}.")
    return TREND_MODELS[name]


def fit_trend(t: np.ndarray, y: np.ndarray, *, model: str = "loglinear", max_points: int = _MAX_POINTS) -> Trend:
    """OLS trend on the last ``max_points`` (3–5) observations; ``t`` in years (fractional for quarters).

    Raises ``TOO_FEW_POINTS`` with fewer than 3 observations (a trend and its interval need at
    least one residual degree of freedom). Anchor: OLS (Wooldridge, *Introductory Econometrics*,
    eq. 2.19 and 2.61 for s²); the baseline trajectory of JRC 2023.

    >>> tr = fit_trend(np.array([2020, 2021, 2022.]), np.array([10, 11, 12.1]))
    >>> round(tr.cagr, 6), tr.n
    (0.1, 3)
    """
    transform, inverse, _ = _model(model)
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    order = np.argsort(t)
    t, y = t[order][-max_points:], y[order][-max_points:]
    if len(t) < _MIN_POINTS:
        raise _err("TOO_FEW_POINTS", f"Cần ít nhất {_MIN_POINTS} quan sát để ước lượng xu hướng, chỉ có {len(t)}.",
                   f"A trend needs at least {_MIN_POINTS} observations; there are {len(t)}.", n=len(t))
    z, _ = transform(t, y)
    tm = float(t.mean())
    stt = float(((t - tm) ** 2).sum())
    if stt <= 0:
        raise _err("TREND_ONE_PERIOD", "Các quan sát cùng một thời điểm; không có xu hướng.",
                   "All observations are at the same time; there is no trend.")
    b = float(((t - tm) * (z - z.mean())).sum() / stt)  # OLS slope
    a = float(z.mean() - b * tm)
    resid = z - (a + b * t)
    n = len(t)
    s = math.sqrt(float((resid ** 2).sum()) / (n - 2)) if n > 2 else 0.0  # s² = RSS / (n − 2)
    last = float(t[-1])
    if model == "loglinear":
        cagr = math.exp(b) - 1.0
    else:
        level = a + b * last
        cagr = b / level if level > 0 else math.nan
    return Trend(model=model, intercept=a, slope=b, n=n, s=s, t_mean=tm, stt=stt, t_last=last, cagr=cagr)


def project(trend: Trend, t0: float, *, level: float = 0.90) -> Projection:
    """The trend's value at ``t0`` with its OLS prediction interval at ``level``.

    se₀ = s · √(1 + 1/n + (t₀ − t̄)²/Sₜₜ); bounds ŷ₀ ± t_{n−2,(1+level)/2} · se₀, back-transformed
    (exp for ``loglinear``: the median forecast and its interval). Anchor: Montgomery, Peck &
    Vining, *Introduction to Linear Regression Analysis*, eq. 2.45; Wooldridge §6.4."""
    _, inverse, _ = _model(trend.model)
    z0 = trend.intercept + trend.slope * t0
    se = trend.s * math.sqrt(1.0 + 1.0 / trend.n + (t0 - trend.t_mean) ** 2 / trend.stt)
    q = float(stats.t.ppf((1.0 + level) / 2.0, trend.df))
    return Projection(t=t0, value=inverse(z0), low=inverse(z0 - q * se), high=inverse(z0 + q * se), se=se, level=level)


def probability(trend: Trend, proj: Projection, target: float, *, direction: str = "higher") -> float:
    """P(the value at the target year is on the target's side) under the trend model:
    1 − F_t((g(target) − ĝ₀)/se₀) for higher is better (F_t with n − 2 df, g = log for loglinear).
    Anchor: the Student-t predictive distribution of a new OLS observation (Wooldridge §6.4)."""
    _, _, forward = _model(trend.model)
    if trend.model == "loglinear" and target <= 0:
        return 1.0 if direction == "higher" else 0.0
    z0 = trend.intercept + trend.slope * proj.t
    if proj.se == 0:
        above = z0 >= forward(target)
        return float(above if direction == "higher" else not above)
    p_below = float(stats.t.cdf((forward(target) - z0) / proj.se, trend.df))
    return 1.0 - p_below if direction == "higher" else p_below


def status(*, latest: float, target: float, comparison: str, years_left: float,
           projection: Projection | None) -> str:
    """The status rule (module docstring): achieved / on_track / at_risk / off_track.

    Anchor: the Digital Decade reports' comparison of the projected outcome with the target;
    here on the prediction interval rather than the point projection (docs/targets.md)."""
    if meets(latest, target, comparison):
        return "achieved"
    if years_left <= 0:
        return "off_track"  # the target year has come and the target is missed
    if projection is None:
        raise _err("NO_PROJECTION", "Cần một dự báo để xếp trạng thái khi mục tiêu chưa đạt.",
                   "A projection is needed to classify a target not yet met.")
    higher = comparison in (">=", ">")
    worst, best = (projection.low, projection.high) if higher else (projection.high, projection.low)
    if meets(worst, target, comparison):
        return "on_track"
    if not meets(best, target, comparison):
        return "off_track"
    return "at_risk"


def years_behind(trend: Trend, target: float, target_t: float, *, direction: str = "higher") -> float | None:
    """Years after the target year when the trend reaches the target (negative: ahead of
    schedule); ``None`` when the trend never reaches it (flat, or moving away from it).
    Anchor: the baseline trajectory's crossing of the target (JRC 2023): g(v*) = a + b·t*."""
    _, _, forward = _model(trend.model)
    if trend.model == "loglinear" and target <= 0:
        return None
    if (direction == "higher" and trend.slope <= 0) or (direction == "lower" and trend.slope >= 0):
        return None
    t_star = (forward(target) - trend.intercept) / trend.slope  # solve a + b·t* = g(target)
    return float(t_star - target_t)


def assess(t: np.ndarray, y: np.ndarray, *, target: float, target_t: float, comparison: str = ">=",
           model: str = "loglinear", level: float = 0.90, max_points: int = _MAX_POINTS) -> GapResult:
    """The whole gap analysis of one series against one target (the Digital Decade monitoring
    steps of the module docstring, in order: gap, required CAGR, baseline trend, projection,
    probability, status, years behind).

    **Parameters:** ``t`` (years, fractional for quarters: 2024.75 for 2024-Q4), ``y`` (values),
    ``target`` and ``target_t`` (the target's value and time, e.g. 2025.0 for "in 2025" measured
    on annual data), ``comparison`` (``>=``, ``>``, ``<=``, ``<``), ``model`` (a key of
    :data:`TREND_MODELS`), ``level`` (of the prediction interval).

    **Returns:** :class:`GapResult`. Errors: ``TARGET_BEFORE_DATA`` when the target time is
    before the latest observation. With fewer than 3 observations the trend, projection and
    probability are ``None``, a ``TOO_FEW_POINTS`` warning says so, and the status needs the
    target year to have come or the latest value to meet the target; otherwise the status is
    decided on the required rate alone and flagged (see warnings).

    >>> r = assess(np.array([2020, 2021, 2022, 2023.]), np.array([12.62, 13.84, 13.51, 14.65]), target=25, target_t=2025)
    >>> round(r.gap, 2), round(r.required_cagr, 3), r.status
    (10.35, 0.306, 'off_track')
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(t) == 0:
        raise _err("NO_OBSERVATIONS", "Không có quan sát nào.", "There are no observations.")
    if len(t) != len(y) or np.isnan(y).any():
        raise _err("BAD_SERIES", "Chuỗi số liệu có giá trị thiếu hoặc độ dài không khớp.",
                   "The series has missing values or mismatched lengths.")
    direction = "higher" if comparison in (">=", ">") else "lower"
    order = np.argsort(t)
    t, y = t[order], y[order]
    latest, latest_t = float(y[-1]), float(t[-1])
    if target_t < latest_t - 1e-9:
        raise _err("TARGET_BEFORE_DATA",
                   f"Năm mục tiêu ({target_t:g}) trước số liệu mới nhất ({latest_t:g}); hãy xem mục tiêu đó bằng số liệu của "
                   "năm mục tiêu hoặc đặt mục tiêu mới.",
                   f"The target time ({target_t:g}) is before the latest data ({latest_t:g}); judge that target on the "
                   "target year's data or set a new one.", target_t=target_t, latest_t=latest_t)
    warnings: list[dict] = []
    g_abs, g_rel = gap(latest, target, direction=direction)
    years_left = target_t - latest_t
    req = required_cagr(latest, target, years_left) if years_left > 1e-9 and latest > 0 and target > 0 else None
    trend = proj = prob = behind = None
    try:
        trend = fit_trend(t, y, model=model, max_points=max_points)
    except MethodError as exc:
        if exc.code not in ("TOO_FEW_POINTS", "TREND_NOT_POSITIVE"):
            raise
        warnings.append({"code": exc.code, "vi": exc.vi, "en": exc.en})
    if trend is not None:
        proj = project(trend, target_t, level=level)
        prob = probability(trend, proj, target, direction=direction)
        behind = years_behind(trend, target, target_t, direction=direction)
    if meets(latest, target, comparison) or years_left <= 1e-9 or proj is not None:
        st = status(latest=latest, target=target, comparison=comparison, years_left=years_left, projection=proj)
    else:
        # no trend: a point forecast is impossible; classify as at_risk and say why
        st = "at_risk"
        warnings.append({"code": "STATUS_WITHOUT_TREND",
                         "vi": "Không đủ số liệu cho xu hướng; trạng thái 'at_risk' chỉ dựa trên khoảng cách còn lại.",
                         "en": "Too little data for a trend; the status 'at_risk' rests on the remaining gap alone."})
    if direction == "lower":
        warnings.append({"code": "LOWER_IS_BETTER",
                         "vi": "Chỉ tiêu 'càng thấp càng tốt': khoảng cách = hiện tại − mục tiêu; tốc độ cần đạt âm là giảm.",
                         "en": "A 'lower is better' indicator: gap = latest − target; a negative required rate is a fall."})
    return GapResult(latest_value=latest, latest_t=latest_t, target_value=float(target), target_t=float(target_t),
                     direction=direction, gap=g_abs, relative_gap=g_rel, required_cagr=req, trend=trend, projection=proj,
                     probability=prob, status=st, years_behind=behind, warnings=warnings)


# --- plans: the milestone path ------------------------------------------------------------------
def quarter_index(period: str) -> int:
    """``2024-Q3`` → 4·2024 + 2; an annual ``2024`` counts as its fourth quarter."""
    if len(period) == 4:
        return int(period) * 4 + 3
    if len(period) == 7 and period[4:6] == "-Q" and period[6] in "1234":
        return int(period[:4]) * 4 + int(period[6]) - 1
    raise _err("BAD_PERIOD", f"Kỳ '{period}' không phải năm hay quý (2024, 2024-Q3).",
               f"Period '{period}' is neither a year nor a quarter (2024, 2024-Q3).")


def quarter_label(index: int) -> str:
    return f"{index // 4}-Q{index % 4 + 1}"


def milestone_path(latest: float, latest_period: str, target: float, target_year: int) -> pd.DataFrame:
    """Quarter-by-quarter milestones from the latest quarter to the fourth quarter of the
    target year, on the geometric path v_k = v₀ · (v*/v₀)^(k/K), k = 1…K (a constant quarterly
    rate r = (v*/v₀)^(1/K) − 1), as a Digital Decade target trajectory.

    Returns period, value, change (from the previous quarter), quarterly_rate. An annual latest
    value stands for its fourth quarter.

    >>> p = milestone_path(14.65, "2023", 25.0, 2025)
    >>> list(p.period)[:2], len(p), round(float(p.value.iloc[-1]), 10)
    (['2024-Q1', '2024-Q2'], 8, 25.0)
    """
    if latest <= 0 or target <= 0:
        raise _err("PATH_NOT_POSITIVE", "Lộ trình hình học cần giá trị hiện tại và mục tiêu dương.",
                   "A geometric path needs a positive latest value and target.")
    q0 = quarter_index(latest_period)
    q1 = target_year * 4 + 3
    k_total = q1 - q0
    if k_total <= 0:
        raise _err("TARGET_BEFORE_DATA", f"Năm mục tiêu {target_year} không sau kỳ mới nhất {latest_period}; không còn quý nào để lập lộ trình.",
                   f"The target year {target_year} is not after the latest period {latest_period}; no quarter is left for a path.")
    ratio = target / latest
    k = np.arange(1, k_total + 1)
    values = latest * ratio ** (k / k_total)  # v_k = v0 (v*/v0)^(k/K)
    rate = ratio ** (1.0 / k_total) - 1.0
    prev = np.concatenate([[latest], values[:-1]])
    return pd.DataFrame({"period": [quarter_label(q0 + int(i)) for i in k], "value": values,
                         "change": values - prev, "quarterly_rate": rate})


# --- plans: what each sector must contribute ----------------------------------------------------
def _grow(pieces: pd.DataFrame, grdp: float, years: float, growth: float | Mapping[str, float]) -> tuple[pd.DataFrame, float]:
    """Value added after ``years`` of growth: a uniform rate, or a rate per piece code / division /
    section (others at ``growth['*']``, default 0); GRDP moves with total value added (taxes
    keep their ratio to value added)."""
    p = pieces.copy()
    if isinstance(growth, Mapping):
        default = float(growth.get("*", 0.0))

        def rate(row) -> float:
            for key in (row.code, row.get("division"), row.get("section")):
                if key in growth:
                    return float(growth[key])
            return default
        rates = np.array([rate(r) for _, r in p.iterrows()], dtype=float)
    else:
        rates = np.full(len(p), float(growth))
    factor = (1.0 + rates) ** years
    total0 = float(p.va.sum())
    for col in ("va", "core", "other"):
        p[col] = p[col].astype(float) * factor
    grdp1 = grdp * (float(p.va.sum()) / total0) if total0 > 0 else grdp
    return p, grdp1


def sector_plan(pieces: pd.DataFrame, grdp: float, target_share: float, *, years: float = 0.0,
                growth: float | Mapping[str, float] = 0.0) -> tuple[pd.DataFrame, dict]:
    """The rise in each industry's digitalisation coefficient that takes the GSO-view share to
    ``target_share`` (percent) after ``years`` of value-added growth at ``growth``.

    ``pieces`` is :attr:`kinhteso.methods.accounts.AccountResult.pieces` (code, va, core, other,
    coef, section, division); a missing coefficient counts as 0 (all room left).

    Method (equal relative effort): the baseline share after growth S₀ = (Σ core + Σ otherₛcₛ)
    / GRDP₁ × 100; the required rise ΔS = S* − S₀; leverage Lₛ = otherₛ/GRDP₁ · (1 − cₛ) (weight
    × room); θ = ΔS / (100 Σ Lₛ); Δcₛ = θ(1 − cₛ); contributionₛ = 100 θ Lₛ, Σ = ΔS exactly.
    θ > 1 means digitalisation of the other industries alone cannot reach the target.

    Returns (table by piece ranked by leverage: code, section, va_share, coef, room, leverage,
    coef_rise, new_coef, contribution_pp, rank; summary dict: baseline_share, target_share,
    required_pp, effort_theta, reachable, grdp, years).
    """
    need = {"code", "va", "core", "other", "coef"}
    if not need.issubset(pieces.columns):
        raise _err("BAD_PIECES", f"Bảng ngành cần các cột {sorted(need)}.", f"The pieces table needs columns {sorted(need)}.")
    if not 0 < target_share < 100:
        raise _err("BAD_TARGET_SHARE", f"Tỷ trọng mục tiêu {target_share:g}% phải nằm trong (0, 100).",
                   f"The target share {target_share:g}% must be inside (0, 100).")
    if years < 0:
        raise _err("TARGET_BEFORE_DATA", "Số năm tới mục tiêu âm.", "The number of years to the target is negative.")
    p, grdp1 = _grow(pieces, grdp, years, growth)
    coef = p.coef.astype(float).fillna(0.0).clip(0.0, 1.0)
    other = p.other.astype(float).clip(lower=0.0)
    base = (float(p.core.sum()) + float((other * coef).sum())) / grdp1 * 100.0
    required = target_share - base
    leverage = other / grdp1 * (1.0 - coef)              # Lₛ = wₛ (1 − cₛ)
    total_lev = float(leverage.sum())
    if total_lev <= 0:
        raise _err("NO_ROOM", "Không còn ngành nào để số hóa thêm (mọi hệ số bằng 1).",
                   "No industry has room left to digitalise (every coefficient is 1).")
    theta = required / (100.0 * total_lev)                # θ = ΔS / (100 Σ L)
    rise = theta * (1.0 - coef)                           # Δcₛ = θ (1 − cₛ)
    contrib = 100.0 * theta * leverage                    # Σ contrib = ΔS
    table = pd.DataFrame({"code": p.code.values, "section": p.get("section", p.code).values,
                          "va_share": (p.va / grdp1 * 100.0).values, "coef": coef.values, "room": (1.0 - coef).values,
                          "leverage": (leverage * 100.0).values, "coef_rise": rise.values,
                          "new_coef": (coef + rise).values, "contribution_pp": contrib.values})
    table = table[table.leverage > 0].sort_values("leverage", ascending=False, kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    summary = {"baseline_share": base, "target_share": float(target_share), "required_pp": required,
               "effort_theta": theta, "reachable": bool(theta <= 1.0 + 1e-12), "grdp": grdp1, "years": float(years),
               "max_share_by_digitalisation": base + 100.0 * total_lev}
    return table, summary


def core_alternative(pieces: pd.DataFrame, grdp: float, target_share: float, *, years: float,
                     growth: float | Mapping[str, float] = 0.0) -> dict:
    """The other lever (GSO arithmetic, :mod:`kinhteso.methods.accounts`): extra core value
    added X that meets the target with coefficients unchanged. (C + X + D)/(G + X) = S*/100 ⇒ X = (S*·G − 100(C + D)) / (100 − S*); with the
    implied annual growth of core value added over ``years`` (beyond the scenario's)."""
    p, grdp1 = _grow(pieces, grdp, years, growth)
    coef = p.coef.astype(float).fillna(0.0).clip(0.0, 1.0)
    core = float(p.core.sum())
    dig = float((p.other.clip(lower=0.0) * coef).sum())
    x = (target_share * grdp1 - 100.0 * (core + dig)) / (100.0 - target_share)
    core0 = float(pieces.core.sum())
    out = {"extra_core_va": x, "core_va_needed": core + x, "core_va_now": core0}
    out["core_cagr_needed"] = ((core + x) / core0) ** (1.0 / years) - 1.0 if years > 0 and core0 > 0 and core + x > 0 else None
    return out


# --- peers ---------------------------------------------------------------------------------------
def percentiles(values: pd.Series, *, direction: str = "higher") -> pd.Series:
    """Percentile rank (0–100, ties averaged: (rank − 0.5)/n × 100 with average ranks) where a
    higher percentile is always better (for "lower is better" the order is reversed).
    Anchor: the mid-rank percentile (Hazen plotting position); DESI/Digital Decade country
    comparisons rank member states the same way per indicator."""
    v = values.astype(float).dropna()
    if v.empty:
        return v
    ranks = (v if direction == "higher" else -v).rank(method="average")
    return (ranks - 0.5) / len(v) * 100.0


def peer_summary(frame: pd.DataFrame, groups: pd.Series, directions: Mapping[str, str], *,
                 top: float = 75.0, bottom: float = 25.0) -> pd.DataFrame:
    """Each territory × indicator: percentile among all, percentile within its peer group, and
    flags strength (overall percentile ≥ ``top``) / weakness (≤ ``bottom``), with the best
    performer of its peer group (else of all) to learn from.

    ``frame``: territory, indicator, value (one value per pair); ``groups``: territory → group.
    Anchor: benchmarking against a peer group of similar income (JRC/OECD *Handbook on
    Constructing Composite Indicators*, 2008, §1.6 "benchmarking")."""
    rows = []
    for ind, part in frame.groupby("indicator", sort=True):
        d = directions.get(ind, "higher")
        s = part.set_index("territory").value.astype(float)
        pct = percentiles(s, direction=d)
        g = groups.reindex(s.index)
        for grp, members in s.groupby(g):
            gp = percentiles(members, direction=d)
            best_g = members.idxmax() if d == "higher" else members.idxmin()
            for terr_key in members.index:
                rows.append({"territory": terr_key, "indicator": ind, "value": float(s[terr_key]),
                             "percentile": float(pct[terr_key]), "group": grp, "group_percentile": float(gp[terr_key]),
                             "best_in_group": best_g, "best_in_group_value": float(members[best_g])})
        best = s.idxmax() if d == "higher" else s.idxmin()
        for r in rows:
            if r["indicator"] == ind:
                r["best_overall"] = best
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["strength"] = out.percentile >= top
    out["weakness"] = out.percentile <= bottom
    out["learn_from"] = np.where(out.best_in_group != out.territory, out.best_in_group, out.best_overall)
    return out.sort_values(["territory", "indicator"]).reset_index(drop=True)
