"""Composite indices from COINr iData/iMeta files: the service behind ``kinhteso composite``
and ``kinhteso uncertainty``.

:func:`run_composite` reads and checks the two CSV files, runs the JRC/OECD handbook's steps
(denominate, impute, screen, treat, normalise, aggregate; :mod:`kinhteso.methods.composite`)
and returns every aggregate's score and rank. :func:`run_uncertainty` runs the Monte Carlo
uncertainty and Sobol sensitivity analysis (:mod:`kinhteso.methods.uncertainty`). Both print
nothing and write no file. The parsers of the options' text forms (``--range 0,100``,
``--m-sd 10,2``, ``--impute group-mean:COL``, ``--aggregate 2:geometric,3:arithmetic``,
``--dat-thresh 2:0.9``, ``--vary weights:0.25@2,normalise``) are here too, so that every
interface reads them the same way.

>>> res = run_composite(CompositeRequest(data=Path("iData.csv"), meta=Path("iMeta.csv"),  # doctest: +SKIP
...                                      normalise="minmax", aggregate="geometric"))
>>> res.scores.head()                                                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.i18n import tr
from kinhteso.methods import composite as C
from kinhteso.methods import uncertainty as UA
from kinhteso.progress import Progress, or_null, span

__all__ = [
    "AGGREGATE_CHOICES",
    "IMPUTE_CHOICES",
    "NORMALISE_CHOICES",
    "VARY_ALTERNATIVES",
    "CompositeRequest",
    "CompositeResult",
    "UncertaintyRequest",
    "UncertaintyResult",
    "parse_impute",
    "parse_levels",
    "parse_m_sd",
    "parse_range",
    "parse_vary",
    "run_composite",
    "run_uncertainty",
]

#: Choices of ``--impute``, from the registry (a ``:COL`` suffix names the group column).
IMPUTE_CHOICES = tuple(f"{k}:COL" if v.over == "group" else k for k, v in C.IMPUTERS.items())
#: Choices of ``--normalise``: every registered normaliser.
NORMALISE_CHOICES = tuple(C.NORMALISERS)
#: Choices of ``--aggregate``: the weighted means (the same set the uncertainty fast path takes).
AGGREGATE_CHOICES = tuple(UA.TRANSFORMS)
#: Alternatives tried for each ``--vary`` token (the first is the nominal choice).
VARY_ALTERNATIVES = {
    "normalise": ({"method": "minmax", "l_u": (1.0, 100.0)}, {"method": "zscore", "m_sd": (10.0, 2.0)}),
    "aggregate": ("arithmetic", "geometric"),
    "impute": ("mean", "median"),
}


# --------------------------------------------------------------------------- requests and results


@dataclass(frozen=True, kw_only=True)
class CompositeRequest:
    """One composite index: the iData and iMeta files and the choices, in the handbook's order.

    ``l_u`` is the output range of ``minmax``/``goalposts`` (default ``(0, 100)``); ``m_sd`` the
    z-score mean and s.d. (default ``(0, 1)``); ``clip`` truncates to the goalposts (``None``: the
    method's default). ``screen_threshold``/``screen_nonzero``: COINr ``Screen``'s ``dat_thresh``
    and ``nonzero_thresh``. ``winmax``, ``skew_thresh``, ``kurt_thresh``: COINr ``winsorise``
    (``treat = "winsorise"``). ``aggregate``: one name or ``{level: name}``; ``dat_thresh``: one
    number or ``{level: number}`` (COINr ``Aggregate``'s ``f_ag`` and ``dat_thresh``).
    """

    data: Path
    meta: Path
    denominate: bool = False
    impute: str = "none"
    impute_group: str | None = None
    screen_threshold: float | None = None
    screen_nonzero: float | None = None
    treat: str = "none"
    winmax: int | None = 5
    skew_thresh: float = 2.0
    kurt_thresh: float = 3.5
    normalise: str = "minmax"
    l_u: tuple[float, float] | None = None
    m_sd: tuple[float, float] | None = None
    clip: bool | None = None
    aggregate: str | Mapping[int, str] = "arithmetic"
    dat_thresh: float | Mapping[int, float] | None = None


@dataclass(frozen=True)
class CompositeResult:
    """The built coin (every intermediate dataset) and ``scores``: ``uCode, [Time,] iCode,
    Level, score, rank`` for every aggregate (1 = best, ties share the lower rank)."""

    coin: C.Coin
    scores: pd.DataFrame

    @property
    def n_units(self) -> int:
        return int(self.scores["uCode"].nunique())

    @property
    def n_aggregates(self) -> int:
        return int(self.scores["iCode"].nunique())


@dataclass(frozen=True, kw_only=True)
class UncertaintyRequest:
    """One uncertainty and sensitivity analysis: the files, ``n`` and the ``design`` (``sobol``:
    Saltelli design of base size ``n``, ``n·(D + 2)`` runs, with Sobol indices; ``random``: ``n``
    plain Monte Carlo runs, COINr ``SA_type = "UA"``), the ``seed``, and what varies: the weights
    (noise ``weight_noise``, 0 = fixed; ``{level: noise}`` perturbs those levels only, COINr
    ``noise_specs``), the normalisation, aggregation and imputation (each between the
    alternatives of :data:`VARY_ALTERNATIVES`), and excluding one indicator at a time."""

    data: Path
    meta: Path
    n: int
    seed: int = 0
    design: str = "sobol"
    weight_noise: float | Mapping[int, float] = 0.0
    normalise: bool = False
    aggregate: bool = False
    impute: bool = False
    exclude: bool = False


@dataclass(frozen=True)
class UncertaintyResult:
    """``rank_intervals`` (5th–95th percentile of each unit's rank), ``sobol`` (first-order and
    total indices), ``design`` (the full design matrix with each run's results) and ``runs``,
    the number of replications."""

    rank_intervals: pd.DataFrame
    sobol: pd.DataFrame | None  # None for the random design
    design: pd.DataFrame
    runs: int


# --------------------------------------------------------------------------- parsing the options


def parse_range(text: str | None, *, normalise: str | None = None) -> tuple[float, float] | None:
    """``"LO,HI"`` → ``(LO, HI)`` with LO < HI. With ``normalise``, a method that takes no output
    range is refused first (``--range 10,2`` with zscore names ``--m-sd``)."""
    if text is None:
        return None
    if normalise in C.NORMALISERS and not C.NORMALISERS[normalise].ranged:
        C.build_checks(normalise=normalise, l_u=(0.0, 1.0))
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError("BAD_RANGE", f"--range '{text}' không hợp lệ; cần dạng LO,HI (vd. 0,100).",
                         f"--range '{text}' is not valid; expected LO,HI (e.g. 0,100).") from None
    if not lo < hi:
        raise UsageError("BAD_RANGE", f"--range: cận dưới {lo} phải nhỏ hơn cận trên {hi}.",
                         f"--range: the lower bound {lo} must be below the upper bound {hi}.")
    return (lo, hi)


def parse_m_sd(text: str | None) -> tuple[float, float] | None:
    """``"M,SD"`` → ``(M, SD)`` with SD > 0 (the z-score mean and standard deviation, COINr ``m_sd``)."""
    if text is None:
        return None
    try:
        m, sd = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError("BAD_M_SD", f"--m-sd '{text}' không hợp lệ; cần dạng M,SD (vd. 10,2).",
                         f"--m-sd '{text}' is not valid; expected M,SD (e.g. 10,2).") from None
    if not sd > 0:
        raise UsageError("BAD_M_SD", f"--m-sd: độ lệch chuẩn {sd:g} phải > 0.",
                         f"--m-sd: the s.d. {sd:g} must be > 0.")
    return (m, sd)


def parse_levels(text: str | None, option: str, value: type = str) -> object:
    """One value for every level, or ``LEVEL:VALUE`` pairs: ``"geometric"`` → ``"geometric"``;
    ``"2:geometric,3:arithmetic"`` → ``{2: "geometric", 3: "arithmetic"}`` (COINr's per-level
    vectors, keyed by the level of the aggregates computed). ``value`` converts each value."""
    if text is None:
        return None
    parts = [t.strip() for t in text.split(",") if t.strip()]
    try:
        if len(parts) == 1 and ":" not in parts[0]:
            return value(parts[0])
        out: dict[int, object] = {}
        for tok in parts:
            lv, sep, val = tok.partition(":")
            if not sep or int(lv) in out:
                raise ValueError(tok)
            out[int(lv)] = value(val.strip())
        return out
    except ValueError:
        raise UsageError("BAD_LEVELS", f"{option} '{text}' không hợp lệ; cần một giá trị, hoặc CẤP:GIÁ_TRỊ,... (vd. 2:0.5,3:0.8).",
                         f"{option} '{text}' is not valid; expected one value, or LEVEL:VALUE,... (e.g. 2:0.5,3:0.8).") from None


def parse_impute(text: str) -> tuple[str, str | None]:
    """``"group-mean:COL"`` → ``("group-mean", "COL")``; ``"mean"`` → ``("mean", None)``."""
    method, _, col = text.partition(":")
    if method not in C.IMPUTERS:
        raise UsageError("BAD_IMPUTE", f"--impute '{text}' không hợp lệ; chọn một trong {', '.join(IMPUTE_CHOICES)}.",
                         f"--impute '{text}' is not valid; choose one of {', '.join(IMPUTE_CHOICES)}.")
    group = C.IMPUTERS[method].over == "group"
    if group and not col:
        raise UsageError("BAD_IMPUTE", f"--impute {method} cần tên cột nhóm: {method}:COL.",
                         f"--impute {method} needs the group column: {method}:COL.")
    if col and not group:
        raise UsageError("BAD_IMPUTE", f"--impute {method} không nhận cột nhóm.",
                         f"--impute {method} takes no group column.")
    return method, (col or None)


def parse_vary(text: str) -> dict[str, object]:
    """``"weights:0.25,normalise,aggregate"`` → the fields of :class:`UncertaintyRequest`
    (``weight_noise``, ``normalise``, ``aggregate``, ``impute``, ``exclude``) that it sets.
    ``weights:F@L`` perturbs the weights of level ``L`` only (COINr ``noise_specs``); several
    ``weights:F@L`` tokens give one noise per level; ``weights:F`` (every level) cannot be mixed with them."""
    out: dict[str, object] = {"weight_noise": 0.0, "exclude": False}
    by_level: dict[int, float] = {}
    every = False
    for tok in [t.strip() for t in text.split(",") if t.strip()]:
        name, _, val = tok.partition(":")
        if name == "weights":
            noise, at, level = val.partition("@")
            try:
                f = float(noise) if noise else 0.25
                lv = int(level) if at else None
            except ValueError:
                raise UsageError("BAD_VARY", f"--vary weights:{val}: mức nhiễu phải là số, dạng weights:F hoặc weights:F@CẤP (vd. 0.25@2).",
                                 f"--vary weights:{val}: the noise must be a number, as weights:F or weights:F@LEVEL (e.g. 0.25@2).") from None
            if lv is None:
                every = True
                out["weight_noise"] = f
            elif lv in by_level:
                raise UsageError("BAD_VARY", f"--vary: cấp {lv} được cho hai lần.",
                                 f"--vary: level {lv} is given twice.")
            else:
                by_level[lv] = f
            if every and by_level:
                raise UsageError("BAD_VARY", "--vary: weights:F (mọi cấp) không đi cùng weights:F@CẤP.",
                                 "--vary: weights:F (every level) cannot be combined with weights:F@LEVEL.")
        elif name in VARY_ALTERNATIVES and not val:
            out[name] = True
        elif name == "exclude" and not val:
            out["exclude"] = True
        else:
            allowed = "weights:F, weights:F@LEVEL, normalise, aggregate, impute, exclude"
            raise UsageError("BAD_VARY", f"--vary: '{tok}' không hợp lệ; dùng {allowed}.",
                             f"--vary: '{tok}' is not valid; use {allowed}.")
    if by_level:
        out["weight_noise"] = by_level
    return out


# --------------------------------------------------------------------------- reading


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        # numbers are read exactly (round trip), so values equal in the file are equal here, as in R
        df = pd.read_csv(path, encoding="utf-8-sig", float_precision="round_trip")
        # codes stay text: a province code "01" must not become the number 1 (read again as text
        # only when a code column came out as numbers; asking for text up front costs every file)
        codes = [c for c in ("uCode", "iCode", "Parent") if c in df.columns and df[c].dtype != object]
        if codes:
            text = pd.read_csv(path, encoding="utf-8-sig", usecols=codes, dtype=str)
            for c in codes:
                df[c] = text[c]
        return df
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputRejected([Problem("CSV_UNREADABLE", f"Không đọc được tệp {what} CSV: {exc}",
                                     f"Cannot read the {what} CSV file: {exc}", file=str(path))], file=str(path)) from exc


def _read_inputs(data: Path, meta: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """iData and iMeta as read; :func:`kinhteso.methods.composite.new_coin` checks them (COINr
    ``check_iData``/``check_iMeta``), naming the files in the problems it lists."""
    return _read_csv(data, "iData"), _read_csv(meta, "iMeta")


# --------------------------------------------------------------------------- capabilities


def run_composite(req: CompositeRequest) -> CompositeResult:
    """Read and check the files, then run the steps in the handbook's order: denominate,
    impute, screen, treat, normalise, aggregate."""
    l_u = req.l_u
    if req.normalise in C.NORMALISERS and C.NORMALISERS[req.normalise].ranged and l_u is None:
        l_u = (0.0, 100.0)
    aggregate = dict(req.aggregate) if isinstance(req.aggregate, Mapping) else req.aggregate
    for name in ([aggregate] if isinstance(aggregate, str) else aggregate.values()):
        if name not in AGGREGATE_CHOICES:
            raise UsageError("UNKNOWN_AGGREGATE", f"Phép tổng hợp '{name}' không có; chọn một trong {', '.join(AGGREGATE_CHOICES)}.",
                             f"Unknown aggregation '{name}'; choose one of {', '.join(AGGREGATE_CHOICES)}.")
    idata, imeta = _read_inputs(req.data, req.meta)
    coin = C.build(idata, imeta, data_file=str(req.data), meta_file=str(req.meta), denominate=req.denominate, impute=req.impute, impute_group=req.impute_group,
                   screen_threshold=req.screen_threshold, screen_nonzero=req.screen_nonzero, treat=req.treat,
                   winmax=req.winmax, skew_thresh=req.skew_thresh, kurt_thresh=req.kurt_thresh,
                   normalise=req.normalise, l_u=l_u, m_sd=req.m_sd, clip=req.clip, aggregate=aggregate,
                   dat_thresh=dict(req.dat_thresh) if isinstance(req.dat_thresh, Mapping) else req.dat_thresh)
    return CompositeResult(coin=coin, scores=C.scores_long(coin))


def run_uncertainty(req: UncertaintyRequest, *, progress: Progress | None = None) -> UncertaintyResult:
    """Read and check the files (one period only), then run the Monte Carlo uncertainty and
    Sobol sensitivity analysis (COINr ``get_sensitivity``). ``progress``: :mod:`kinhteso.progress`."""
    or_null(progress)(0, 1, tr("Đọc tệp", "Reading the files"))
    idata, imeta = _read_inputs(req.data, req.meta)
    coin = C.new_coin(idata, imeta, data_file=str(req.data), meta_file=str(req.meta))
    if coin.panel:
        raise UsageError("UA_PANEL", "Phân tích bất định chạy trên một kỳ; hãy lọc iData theo một giá trị Time.",
                         "Uncertainty analysis runs on one period; filter iData to one Time value.")
    varied = {name: alternatives for name, alternatives in VARY_ALTERNATIVES.items() if getattr(req, name)}
    res = UA.uncertainty(coin.data["Raw"], coin.meta, n=req.n, seed=req.seed, weight_noise=req.weight_noise,
                         exclude=req.exclude, design=req.design, progress=span(progress, before=1), **varied)
    return UncertaintyResult(rank_intervals=res.rank_intervals, sobol=res.sobol, design=res.design_table(),
                             runs=len(res.design))
