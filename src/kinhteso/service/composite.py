"""Composite indices from COINr iData/iMeta files: the service behind ``kinhteso composite``
and ``kinhteso uncertainty``.

:func:`run_composite` reads and checks the two CSV files, runs the JRC/OECD handbook's steps
(denominate, impute, screen, treat, normalise, aggregate; :mod:`kinhteso.methods.composite`)
and returns every aggregate's score and rank. :func:`run_uncertainty` runs the Monte Carlo
uncertainty and Sobol sensitivity analysis (:mod:`kinhteso.methods.uncertainty`). Both print
nothing and write no file. The parsers of the options' text forms (``--range 0,100``,
``--impute group-mean:COL``, ``--vary weights:0.25,normalise``) are here too, so that every
interface reads them the same way.

>>> res = run_composite(CompositeRequest(data=Path("iData.csv"), meta=Path("iMeta.csv"),  # doctest: +SKIP
...                                      normalise="minmax", aggregate="geometric"))
>>> res.scores.head()                                                                   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.methods import composite as C
from kinhteso.methods import uncertainty as UA

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

    ``l_u`` is the output range of ``minmax``/``goalposts`` (default ``(0, 100)``); ``clip``
    truncates to the goalposts (``None``: the method's default).
    """

    data: Path
    meta: Path
    denominate: bool = False
    impute: str = "none"
    impute_group: str | None = None
    screen_threshold: float | None = None
    treat: str = "none"
    normalise: str = "minmax"
    l_u: tuple[float, float] | None = None
    clip: bool | None = None
    aggregate: str = "arithmetic"


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
    """One uncertainty and sensitivity analysis: the files, the base sample size ``n`` (Sobol
    design: ``n·(D + 2)`` runs), the ``seed``, and what varies: the weights (noise
    ``weight_noise``, 0 = fixed), the normalisation, aggregation and imputation (each between
    the alternatives of :data:`VARY_ALTERNATIVES`), and excluding one indicator at a time."""

    data: Path
    meta: Path
    n: int
    seed: int = 0
    weight_noise: float = 0.0
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
    sobol: pd.DataFrame
    design: pd.DataFrame
    runs: int


# --------------------------------------------------------------------------- parsing the options


def parse_range(text: str | None) -> tuple[float, float] | None:
    """``"LO,HI"`` → ``(LO, HI)`` with LO < HI."""
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError("BAD_RANGE", f"--range '{text}' không hợp lệ; cần dạng LO,HI (vd. 0,100).",
                         f"--range '{text}' is not valid; expected LO,HI (e.g. 0,100).") from None
    if not lo < hi:
        raise UsageError("BAD_RANGE", f"--range: cận dưới {lo} phải nhỏ hơn cận trên {hi}.",
                         f"--range: the lower bound {lo} must be below the upper bound {hi}.")
    return (lo, hi)


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


def parse_vary(text: str) -> dict[str, float | bool]:
    """``"weights:0.25,normalise,aggregate"`` → the fields of :class:`UncertaintyRequest`
    (``weight_noise``, ``normalise``, ``aggregate``, ``impute``, ``exclude``) that it sets."""
    out: dict[str, float | bool] = {"weight_noise": 0.0, "exclude": False}
    for tok in [t.strip() for t in text.split(",") if t.strip()]:
        name, _, val = tok.partition(":")
        if name == "weights":
            try:
                out["weight_noise"] = float(val) if val else 0.25
            except ValueError:
                raise UsageError("BAD_VARY", f"--vary weights:{val}: mức nhiễu phải là số (vd. 0.25).",
                                 f"--vary weights:{val}: the noise must be a number (e.g. 0.25).") from None
        elif name in VARY_ALTERNATIVES and not val:
            out[name] = True
        elif name == "exclude" and not val:
            out["exclude"] = True
        else:
            allowed = "weights:F, normalise, aggregate, impute, exclude"
            raise UsageError("BAD_VARY", f"--vary: '{tok}' không hợp lệ; dùng {allowed}.",
                             f"--vary: '{tok}' is not valid; use {allowed}.")
    return out


# --------------------------------------------------------------------------- reading


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        # codes stay text: a province code "01" must not become the number 1
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"uCode": str, "iCode": str, "Parent": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputRejected([Problem("CSV_UNREADABLE", f"Không đọc được tệp {what} CSV: {exc}",
                                     f"Cannot read the {what} CSV file: {exc}", file=str(path))], file=str(path)) from exc


def _read_inputs(data: Path, meta: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """iData and iMeta, checked as COINr ``check_iData``/``check_iMeta`` do; raises InputRejected."""
    idata, imeta = _read_csv(data, "iData"), _read_csv(meta, "iMeta")
    imeta = C.check_imeta(imeta, file=str(meta))
    C.check_idata(idata, imeta, file=str(data))
    return idata, imeta


# --------------------------------------------------------------------------- capabilities


def run_composite(req: CompositeRequest) -> CompositeResult:
    """Read and check the files, then run the steps in the handbook's order: denominate,
    impute, screen, treat, normalise, aggregate."""
    l_u = req.l_u
    if req.normalise in C.NORMALISERS and C.NORMALISERS[req.normalise].ranged and l_u is None:
        l_u = (0.0, 100.0)
    idata, imeta = _read_inputs(req.data, req.meta)
    coin = C.build(idata, imeta, denominate=req.denominate, impute=req.impute, impute_group=req.impute_group,
                   screen_threshold=req.screen_threshold, treat=req.treat, normalise=req.normalise, l_u=l_u,
                   clip=req.clip, aggregate=req.aggregate)
    return CompositeResult(coin=coin, scores=C.scores_long(coin))


def run_uncertainty(req: UncertaintyRequest) -> UncertaintyResult:
    """Read and check the files (one period only), then run the Monte Carlo uncertainty and
    Sobol sensitivity analysis (COINr ``get_sensitivity``)."""
    idata, imeta = _read_inputs(req.data, req.meta)
    coin = C.new_coin(idata, imeta)
    if coin.panel:
        raise UsageError("UA_PANEL", "Phân tích bất định chạy trên một kỳ; hãy lọc iData theo một giá trị Time.",
                         "Uncertainty analysis runs on one period; filter iData to one Time value.")
    varied = {name: alternatives for name, alternatives in VARY_ALTERNATIVES.items() if getattr(req, name)}
    res = UA.uncertainty(coin.data["Raw"], coin.meta, n=req.n, seed=req.seed, weight_noise=req.weight_noise,
                         exclude=req.exclude, **varied)
    return UncertaintyResult(rank_intervals=res.rank_intervals, sobol=res.sobol, design=res.design_table(),
                             runs=len(res.design))
