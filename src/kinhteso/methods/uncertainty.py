"""Uncertainty and sensitivity analysis of a composite index.

Anchors:
- OECD/JRC (2008) *Handbook on Constructing Composite Indicators*, step 7 (uncertainty and
  sensitivity analysis): each uncertain choice is an input; the index is re-computed for a
  sample of input combinations; ranks are reported with their intervals.
- COINr 1.1.14 ``get_sensitivity`` (R/sensitivity.R): weights perturbed by uniform noise
  (``get_noisy_weights``: each weight times U(1 - noise, 1 + noise)), alternatives for
  normalisation/aggregation/imputation, indicator exclusion; the scalar output for the Sobol
  indices is the mean absolute rank change against the nominal index.
- Saltelli et al. (2010), "Variance based sensitivity analysis of model output. Design and
  estimator for the total sensitivity index", *Comput. Phys. Commun.* 181, 259-270: the design
  (A, B and A_B^i matrices) and the first-order and total-effect estimators, as implemented by
  SALib 1.5.2 (``SALib.sample.sobol``, ``SALib.analyze.sobol``; Herman & Usher 2017, Iwanaga et al. 2022).

The fast path: every discrete choice (imputation × normalisation) gives one normalised matrix,
computed once; the weighted aggregation of all replications sharing an aggregation method is
then done at once with matrix products (replications × units per node), instead of re-running
the pipeline per replication (:func:`evaluate_loop`, the reference it is tested against).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinhteso.errors import MethodError, UsageError
from kinhteso.methods import composite as C

__all__ = [
    "UAProblem",
    "UncertaintyResult",
    "TRANSFORMS",
    "build_problem",
    "sample_design",
    "nominal_design",
    "evaluate",
    "evaluate_loop",
    "rank_matrix",
    "rank_intervals",
    "sobol_indices",
    "uncertainty",
]

#: Aggregation as transform → weighted mean → inverse (quasi-arithmetic means, Handbook §6.1):
#: arithmetic ``Σwx/Σw``; geometric ``exp(Σw·log x/Σw)``; harmonic ``Σw/Σ(w/x)``.
TRANSFORMS: dict[str, tuple[Any, Any]] = {
    "arithmetic": (lambda v: v, lambda num, den: num / den),
    "geometric": (np.log, lambda num, den: np.exp(num / den)),
    "harmonic": (lambda v: 1.0 / v, lambda num, den: den / num),
}


@dataclass
class UAProblem:
    """Everything fixed across replications: data, hierarchy, choices and the weight pool."""

    X: pd.DataFrame  # rows × indicators, before imputation and normalisation
    meta: pd.DataFrame
    index: str  # the root whose ranks are analysed
    nodes: list[str]  # indicators and aggregates, bottom-up
    base_w: np.ndarray  # nominal weights, aligned with nodes
    indicators: list[str]
    normalise: list[dict[str, Any]]
    aggregate: list[str]
    impute: list[str]
    exclude: bool
    weight_noise: float
    weight_pool: np.ndarray  # P × len(nodes) multipliers
    groups: pd.Series | None = None
    inputs: list[str] = field(default_factory=list)  # the uncertain inputs, in design-column order
    normalised: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    @property
    def n_levels(self) -> dict[str, int]:
        return {"weights": len(self.weight_pool), "normalise": len(self.normalise),
                "aggregate": len(self.aggregate), "impute": len(self.impute),
                "exclude": len(self.indicators) + 1}


def build_problem(X: pd.DataFrame, meta: pd.DataFrame, *, weight_noise: float | None = 0.25,
                  normalise: Sequence[Mapping[str, Any]] = ({"method": "minmax", "l_u": (0.0, 100.0)},),
                  aggregate: Sequence[str] = ("arithmetic",), impute: Sequence[str] = ("none",),
                  exclude: bool = False, groups: pd.Series | None = None, index: str | None = None,
                  pool_size: int = 1024, seed: int = 0) -> UAProblem:
    """Set up an analysis (COINr ``SA_specs``). The first entry of each list is the nominal choice.

    Varied inputs, in this order: ``weights`` (when ``weight_noise`` > 0: a pool of ``pool_size``
    noisy weight sets, every weight at every level times U(1 - noise, 1 + noise)), ``normalise``,
    ``aggregate``, ``impute`` (when they list more than one choice) and ``exclude`` (drop none or
    one indicator). The normalised matrix of every (imputation, normalisation) pair is computed here.
    """
    meta = C.check_imeta(meta)
    tree = C.hierarchy(meta)
    roots = [c for c, n in tree.items() if n.parent is None and n.type == "Aggregate"]
    if index is None:
        index = max(roots, key=lambda c: tree[c].level) if roots else None
    if index not in roots:
        raise UsageError("UA_INDEX", f"'{index}' không phải là chỉ số gốc; chọn một trong {', '.join(roots)}.",
                         f"'{index}' is not a root index; choose one of {', '.join(roots)}.")
    for a in aggregate:
        if a not in TRANSFORMS:
            raise UsageError("UA_AGGREGATE", f"Phép tổng hợp '{a}' không dùng được trong phân tích bất định; chọn một trong {', '.join(TRANSFORMS)}.",
                             f"Aggregation '{a}' is not available in uncertainty analysis; choose one of {', '.join(TRANSFORMS)}.")
    if not normalise or not aggregate or not impute:
        raise UsageError("UA_EMPTY_CHOICE", "Mỗi lựa chọn cần ít nhất một phương án.",
                         "Each choice needs at least one alternative.")
    noise = float(weight_noise or 0.0)
    if not 0.0 <= noise < 1.0:
        raise UsageError("UA_NOISE", "Mức nhiễu trọng số phải trong [0, 1).",
                         "The weight noise must be in [0, 1).")
    nodes = list(tree)
    ind = [c for c in nodes if tree[c].type == "Indicator"]
    rng = np.random.default_rng(seed)
    pool = rng.uniform(1 - noise, 1 + noise, size=(pool_size if noise > 0 else 1, len(nodes)))
    inputs = ([("weights", noise > 0), ("normalise", len(normalise) > 1), ("aggregate", len(aggregate) > 1),
               ("impute", len(impute) > 1), ("exclude", exclude)])
    prob = UAProblem(X=X[ind].astype(float), meta=meta, index=index, nodes=nodes,
                     base_w=np.array([tree[c].weight for c in nodes], dtype=float), indicators=ind,
                     normalise=[dict(s) for s in normalise], aggregate=list(aggregate), impute=list(impute),
                     exclude=exclude, weight_noise=noise, weight_pool=pool, groups=groups,
                     inputs=[n for n, on in inputs if on])
    if not prob.inputs:
        raise UsageError("UA_NOTHING_VARIED", "Không có yếu tố bất định nào được chọn để thay đổi.",
                         "No uncertain input is varied.")
    for i, imp in enumerate(prob.impute):
        Xi = C.impute_frame(prob.X, method=imp, groups=groups) if imp != "none" else prob.X
        for j, spec in enumerate(prob.normalise):
            Z = C.normalise_frame(Xi, meta, **spec).to_numpy(dtype=float)
            prob.normalised[(i, j)] = Z
            for a in prob.aggregate:
                if a in ("geometric", "harmonic") and np.any(Z[~np.isnan(Z)] <= 0):
                    raise MethodError("UA_NONPOSITIVE",
                                      f"Chuẩn hóa {spec} cho giá trị ≤ 0, không dùng được với trung bình '{a}'; hãy chọn khoảng dương (vd. minmax 1-100).",
                                      f"Normalisation {spec} gives values ≤ 0, which the '{a}' mean cannot take; use a positive range (e.g. minmax 1-100).")
    return prob


def nominal_design(prob: UAProblem) -> pd.DataFrame:
    """The unperturbed replication: nominal weights (pool index -1), first choices, nothing excluded."""
    return pd.DataFrame({"weights": [-1], "normalise": [0], "aggregate": [0], "impute": [0], "exclude": [-1]})


def decode(prob: UAProblem, U: np.ndarray) -> pd.DataFrame:
    """Map unit-hypercube samples (one column per varied input) to integer choices."""
    n = len(U)
    out = nominal_design(prob).loc[[0] * n].reset_index(drop=True)
    for k, name in enumerate(prob.inputs):
        levels = prob.n_levels[name]
        idx = np.minimum((U[:, k] * levels).astype(int), levels - 1)
        out[name] = idx - 1 if name == "exclude" else idx
    return out


def sample_design(prob: UAProblem, *, n: int, method: str = "sobol", seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """The design: ``method = "sobol"``: SALib's Saltelli design with ``n`` base samples
    (``n·(D + 2)`` rows, first-order and total indices); ``"random"``: ``n`` plain Monte Carlo rows.
    Returns the unit-hypercube sample and the decoded integer choices."""
    D = len(prob.inputs)
    if n < 1:
        raise UsageError("UA_N", "Số lần lặp phải ≥ 1.", "The number of replications must be ≥ 1.")
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample  # noqa: PLC0415

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            U = sobol_sample.sample(_salib_problem(prob), n, calc_second_order=False, seed=seed)
    elif method == "random":
        U = np.random.default_rng(seed).uniform(size=(n, D))
    else:
        raise UsageError("UA_DESIGN", f"Kiểu thiết kế '{method}' không có; chọn sobol hoặc random.",
                         f"Unknown design '{method}'; choose sobol or random.")
    return U, decode(prob, U)


def _salib_problem(prob: UAProblem) -> dict[str, Any]:
    return {"num_vars": len(prob.inputs), "names": list(prob.inputs), "bounds": [[0.0, 1.0]] * len(prob.inputs)}


def replication_weights(prob: UAProblem, design: pd.DataFrame) -> np.ndarray:
    """Weights of every node in every replication (R × nodes): noise, then the exclusion as weight 0."""
    wi = design["weights"].to_numpy()
    mult = np.where(wi[:, None] >= 0, prob.weight_pool[np.maximum(wi, 0)], 1.0)
    W = prob.base_w[None, :] * mult
    ex = design["exclude"].to_numpy()
    rows = np.flatnonzero(ex >= 0)
    pos = {c: i for i, c in enumerate(prob.nodes)}
    cols = np.array([pos[prob.indicators[e]] for e in ex[rows]], dtype=int)
    W[rows, cols] = 0.0
    return W


def evaluate(prob: UAProblem, design: pd.DataFrame) -> np.ndarray:
    """Index scores for every replication (R × units), the fast path.

    For each aggregate, ``num = Σ_k w_rk · T(x_uk)`` and ``den = Σ_k w_rk · 1[x_uk available]``
    over its children (a matrix product ``W_children · T(Z_children)ᵀ`` for indicator children),
    then the inverse transform of ``num/den`` (NaN-skipping with renormalised weights, as
    :func:`kinhteso.methods.composite.a_amean`).
    """
    W = replication_weights(prob, design)
    R, U = len(design), len(prob.X)
    out = np.full((R, U), np.nan)
    na, nn = len(prob.aggregate), len(prob.normalise)
    key = (design["impute"].to_numpy() * nn + design["normalise"].to_numpy()) * na + design["aggregate"].to_numpy()
    ukeys, inv = np.unique(key, return_inverse=True)
    combos = [(k // (nn * na), (k // na) % nn, k % na) for k in ukeys]
    tree = C.hierarchy(prob.meta)
    pos = {c: i for i, c in enumerate(prob.nodes)}
    ind_pos = {c: i for i, c in enumerate(prob.indicators)}
    for g, (imp, nrm, agg) in enumerate(combos):
        rows = np.flatnonzero(inv.ravel() == g)
        Z = prob.normalised[(int(imp), int(nrm))]
        f, finv = TRANSFORMS[prob.aggregate[int(agg)]]
        with np.errstate(invalid="ignore", divide="ignore"):
            TZ = np.where(np.isnan(Z), 0.0, f(np.where(np.isnan(Z), 1.0, Z)))
        MZ = (~np.isnan(Z)).astype(float)
        Wg = W[rows]
        vals: dict[str, np.ndarray] = {}
        for code, node in tree.items():
            if node.type != "Aggregate":
                continue
            ik = [k for k in node.children if tree[k].type == "Indicator"]
            num = np.zeros((len(rows), U))
            den = np.zeros((len(rows), U))
            if ik:
                cw = Wg[:, [pos[k] for k in ik]]
                ci = [ind_pos[k] for k in ik]
                num += cw @ TZ[:, ci].T
                den += cw @ MZ[:, ci].T
            for k in node.children:
                if tree[k].type == "Aggregate":
                    v = vals[k]
                    ok = ~np.isnan(v)
                    wk = Wg[:, pos[k]][:, None]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        num += wk * np.where(ok, f(np.where(ok, v, 1.0)), 0.0)
                    den += wk * ok
            with np.errstate(invalid="ignore", divide="ignore"):
                vals[code] = np.where(den > 0, finv(num, den), np.nan)
        out[rows] = vals[prob.index]
    return out


def evaluate_loop(prob: UAProblem, design: pd.DataFrame) -> np.ndarray:
    """The reference: one full pipeline (impute → normalise → aggregate) per replication, with
    :mod:`kinhteso.methods.composite`'s plain functions. Slow; used to test :func:`evaluate`."""
    W = replication_weights(prob, design)
    out = np.full((len(design), len(prob.X)), np.nan)
    for r, row in enumerate(design.itertuples(index=False)):
        imp = prob.impute[row.impute]
        Xi = C.impute_frame(prob.X, method=imp, groups=prob.groups) if imp != "none" else prob.X
        Z = C.normalise_frame(Xi, prob.meta, **prob.normalise[row.normalise])
        A = C.aggregate_frame(Z, prob.meta, method=prob.aggregate[row.aggregate], weights=dict(zip(prob.nodes, W[r])))
        out[r] = A[prob.index].to_numpy()
    return out


def rank_matrix(S: np.ndarray) -> np.ndarray:
    """Ranks within each row (1 = highest, ties share the lower rank; NaN stays NaN), vectorised:
    sort each row, give every run of equal values the position of its first element, scatter back."""
    S = np.atleast_2d(S)
    neg = np.where(np.isnan(S), np.inf, -S)
    order = np.argsort(neg, axis=1, kind="stable")
    srt = np.take_along_axis(neg, order, axis=1)
    n = S.shape[1]
    new_run = np.ones(srt.shape, dtype=bool)
    new_run[:, 1:] = srt[:, 1:] != srt[:, :-1]
    first = np.maximum.accumulate(np.where(new_run, np.arange(n)[None, :], 0), axis=1)
    out = np.empty(S.shape)
    np.put_along_axis(out, order, first + 1.0, axis=1)
    out[np.isnan(S)] = np.nan
    return out


def rank_intervals(ranks: np.ndarray, nominal: np.ndarray, units: Sequence[str], scores: np.ndarray) -> pd.DataFrame:
    """Per unit: nominal rank, median rank, the 5th-95th percentile rank interval, and score percentiles
    (COINr ``get_sensitivity`` ``RankStats``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanpercentile(ranks, [5, 50, 95], axis=0)
        s = np.nanpercentile(scores, [5, 50, 95], axis=0)
    return pd.DataFrame({"uCode": list(units), "rank_nominal": nominal, "rank_q05": q[0], "rank_median": q[1],
                         "rank_q95": q[2], "rank_mean": np.nanmean(ranks, axis=0), "score_q05": s[0],
                         "score_median": s[1], "score_q95": s[2]})


def sobol_indices(prob: UAProblem, Y: np.ndarray, *, seed: int = 0) -> pd.DataFrame:
    """First-order ``S1`` and total-effect ``ST`` Sobol indices with 95% bootstrap intervals
    (Saltelli et al. 2010 estimators, SALib ``analyze.sobol``, ``calc_second_order = False``)."""
    from SALib.analyze import sobol as sobol_analyze  # noqa: PLC0415

    Y = np.asarray(Y, dtype=float)
    if np.var(Y) == 0:
        S = {"S1": np.zeros(len(prob.inputs)), "ST": np.zeros(len(prob.inputs)),
             "S1_conf": np.zeros(len(prob.inputs)), "ST_conf": np.zeros(len(prob.inputs))}
    else:
        S = sobol_analyze.analyze(_salib_problem(prob), Y, calc_second_order=False, seed=seed)
    return pd.DataFrame({"input": prob.inputs, "S1": S["S1"], "S1_conf": S["S1_conf"],
                         "ST": S["ST"], "ST_conf": S["ST_conf"]})


@dataclass
class UncertaintyResult:
    """The full result: design (unit hypercube and decoded), weights, scores, ranks and summaries."""

    problem: UAProblem
    design_u: np.ndarray
    design: pd.DataFrame
    scores: np.ndarray  # R × units
    ranks: np.ndarray
    nominal_scores: np.ndarray
    nominal_ranks: np.ndarray
    output: np.ndarray  # mean absolute rank change per replication (the Sobol output)
    rank_intervals: pd.DataFrame
    sobol: pd.DataFrame | None

    def design_table(self) -> pd.DataFrame:
        """The design matrix with the choices by name: one row per replication."""
        p = self.problem
        d = pd.DataFrame(self.design_u, columns=[f"u_{n}" for n in p.inputs])
        d.insert(0, "replication", np.arange(len(self.design)))
        dec = self.design
        d["weight_set"] = dec["weights"].to_numpy()
        d["normalise"] = [_label(p.normalise[i]) for i in dec["normalise"]]
        d["aggregate"] = [p.aggregate[i] for i in dec["aggregate"]]
        d["impute"] = [p.impute[i] for i in dec["impute"]]
        d["excluded"] = ["" if e < 0 else p.indicators[e] for e in dec["exclude"]]
        d["mean_abs_rank_change"] = self.output
        return d


def _label(spec: Mapping[str, Any]) -> str:
    extra = ",".join(f"{k}={v}" for k, v in spec.items() if k != "method")
    return spec.get("method", "?") + (f"({extra})" if extra else "")


def uncertainty(X: pd.DataFrame, meta: pd.DataFrame, *, n: int, weight_noise: float | None = 0.25,
                normalise: Sequence[Mapping[str, Any]] = ({"method": "minmax", "l_u": (0.0, 100.0)},),
                aggregate: Sequence[str] = ("arithmetic",), impute: Sequence[str] = ("none",),
                exclude: bool = False, groups: pd.Series | None = None, index: str | None = None,
                design: str = "sobol", seed: int = 0) -> UncertaintyResult:
    """Monte Carlo uncertainty and Sobol sensitivity analysis of ``index`` (COINr ``get_sensitivity``).

    **Parameters:** ``X`` rows × indicators (before imputation and normalisation); ``meta`` the
    iMeta; ``n`` the base sample size (``design = "sobol"``: ``n·(D + 2)`` replications, Sobol
    indices computed; ``"random"``: ``n`` replications, no Sobol indices); the choices as in
    :func:`build_problem`.

    >>> # res = uncertainty(X, meta, n=256, normalise=[{"method": "minmax", "l_u": (1, 100)},
    >>> #                   {"method": "zscore", "m_sd": (10, 2)}], aggregate=["arithmetic", "geometric"])
    >>> # res.rank_intervals, res.sobol, res.design_table()
    """
    prob = build_problem(X, meta, weight_noise=weight_noise, normalise=normalise, aggregate=aggregate,
                         impute=impute, exclude=exclude, groups=groups, index=index,
                         pool_size=max(1, n), seed=seed)
    U, dec = sample_design(prob, n=n, method=design, seed=seed)
    nom = evaluate(prob, nominal_design(prob))
    S = evaluate(prob, dec)
    Rk = rank_matrix(S)
    nr = rank_matrix(nom)[0]
    Y = np.nanmean(np.abs(Rk - nr[None, :]), axis=1)
    units = [str(u).split("@")[0] for u in X.index]
    ri = rank_intervals(Rk, nr, units, S)
    sob = sobol_indices(prob, Y, seed=seed) if design == "sobol" else None
    return UncertaintyResult(problem=prob, design_u=U, design=dec, scores=S, ranks=Rk, nominal_scores=nom[0],
                             nominal_ranks=nr, output=Y, rank_intervals=ri, sobol=sob)
