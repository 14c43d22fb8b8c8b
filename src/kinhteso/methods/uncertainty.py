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
from kinhteso.progress import Progress, or_null

__all__ = [
    "UAProblem",
    "UncertaintyResult",
    "TRANSFORMS",
    "build_problem",
    "sample_design",
    "nominal_design",
    "nominal_scores",
    "evaluate",
    "evaluate_loop",
    "rank_matrix",
    "rank_intervals",
    "quantiles",
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
    weight_noise: float | dict[int, float]  # one noise for every level, or {level: noise}
    weight_pool: np.ndarray  # P × len(nodes) multipliers
    groups: pd.Series | None = None
    inputs: list[str] = field(default_factory=list)  # the uncertain inputs, in design-column order
    normalised: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    #: the aggregation plan, bottom-up: (aggregate, its node position, node positions of its
    #: indicator children, their columns in ``X``, node positions of its aggregate children)
    plan: list[tuple[str, int, np.ndarray, np.ndarray, list[int]]] = field(default_factory=list, repr=False)
    #: per (imputation, aggregation), for each aggregate of the plan, the indicator children's
    #: ``[T(Z) | 1[available]]`` side by side, every normalisation's units in turn (children ×
    #: 2·normalisations·units): one matrix product gives num and den at once; made on first use
    transformed: dict[tuple[int, int], list[np.ndarray]] = field(default_factory=dict, repr=False)
    tree: dict[str, Any] = field(default_factory=dict, repr=False)  # C.hierarchy(meta)

    @property
    def n_levels(self) -> dict[str, int]:
        return {"weights": len(self.weight_pool), "normalise": len(self.normalise),
                "aggregate": len(self.aggregate), "impute": len(self.impute),
                "exclude": len(self.indicators) + 1}


def build_problem(X: pd.DataFrame, meta: pd.DataFrame, *, weight_noise: float | Mapping[int, float] | None = 0.25,
                  normalise: Sequence[Mapping[str, Any]] = ({"method": "minmax", "l_u": (0.0, 100.0)},),
                  aggregate: Sequence[str] = ("arithmetic",), impute: Sequence[str] = ("none",),
                  exclude: bool = False, groups: pd.Series | None = None, index: str | None = None,
                  pool_size: int = 1024, seed: int = 0) -> UAProblem:
    """Set up an analysis (COINr ``SA_specs``). The first entry of each list is the nominal choice.

    Varied inputs, in this order: ``weights`` (when ``weight_noise`` > 0: a pool of ``pool_size``
    noisy weight sets, every weight at every level times U(1 - noise, 1 + noise); ``weight_noise``
    as ``{level: noise}`` perturbs only the weights of those levels, level 1 being the
    indicators: COINr ``get_noisy_weights`` with ``noise_specs``), ``normalise``,
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
    nodes = list(tree)
    levels = sorted({n.level for n in tree.values()})
    if isinstance(weight_noise, Mapping):
        noise_by_level = {int(k): float(v) for k, v in weight_noise.items()}
        bad = [k for k in noise_by_level if k not in levels]
        if bad:
            lv = ", ".join(str(v) for v in levels)
            raise UsageError("UA_NOISE_LEVEL", f"Không có cấp {bad[0]} trong cấu trúc chỉ số; các cấp: {lv}.",
                             f"The framework has no level {bad[0]}; its levels are {lv}.")
    else:
        noise_by_level = {lv: float(weight_noise or 0.0) for lv in levels}
    for v in noise_by_level.values():
        if not 0.0 <= v < 1.0:
            raise UsageError("UA_NOISE", "Mức nhiễu trọng số phải trong [0, 1).",
                             "The weight noise must be in [0, 1).")
    per_node = np.array([noise_by_level.get(tree[c].level, 0.0) for c in nodes])
    noise = float(per_node.max()) if len(per_node) else 0.0
    ind = [c for c in nodes if tree[c].type == "Indicator"]
    rng = np.random.default_rng(seed)
    # U(1 - noise, 1 + noise) per node; a node of a level without noise keeps multiplier 1
    U = rng.uniform(size=(pool_size if noise > 0 else 1, len(nodes)))
    pool = 1 - per_node[None, :] + 2 * per_node[None, :] * U
    inputs = ([("weights", noise > 0), ("normalise", len(normalise) > 1), ("aggregate", len(aggregate) > 1),
               ("impute", len(impute) > 1), ("exclude", exclude)])
    same = list(X.columns) == ind and all(t == np.float64 for t in X.dtypes)
    prob = UAProblem(X=X if same else X[ind].astype(float), meta=meta, index=index, nodes=nodes,
                     base_w=np.array([tree[c].weight for c in nodes], dtype=float), indicators=ind,
                     normalise=[dict(s) for s in normalise], aggregate=list(aggregate), impute=list(impute),
                     exclude=exclude, weight_pool=pool, groups=groups,
                     weight_noise=dict(noise_by_level) if isinstance(weight_noise, Mapping) else noise,
                     inputs=[n for n, on in inputs if on], tree=tree)
    if not prob.inputs:
        raise UsageError("UA_NOTHING_VARIED", "Không có yếu tố bất định nào được chọn để thay đổi.",
                         "No uncertain input is varied.")
    pos = {c: i for i, c in enumerate(nodes)}
    ind_pos = {c: i for i, c in enumerate(ind)}
    for code, node in tree.items():
        if node.type == "Aggregate":
            ik = [k for k in node.children if tree[k].type == "Indicator"]
            prob.plan.append((code, pos[code], np.array([pos[k] for k in ik], dtype=int),
                              np.array([ind_pos[k] for k in ik], dtype=int),
                              [pos[k] for k in node.children if tree[k].type == "Aggregate"]))
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


_NOMINAL = {"weights": -1, "normalise": 0, "aggregate": 0, "impute": 0, "exclude": -1}


def nominal_design(prob: UAProblem) -> pd.DataFrame:
    """The unperturbed replication: nominal weights (pool index -1), first choices, nothing excluded."""
    return pd.DataFrame({k: [v] for k, v in _NOMINAL.items()})


def decode(prob: UAProblem, U: np.ndarray) -> pd.DataFrame:
    """Map unit-hypercube samples (one column per varied input) to integer choices."""
    n = len(U)
    cols = {k: np.full(n, v, dtype=int) for k, v in _NOMINAL.items()}
    for k, name in enumerate(prob.inputs):
        levels = prob.n_levels[name]
        idx = np.minimum((U[:, k] * levels).astype(int), levels - 1)
        cols[name] = idx - 1 if name == "exclude" else idx
    return pd.DataFrame(cols)


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


def replication_weights(prob: UAProblem, design: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
    """Weights of every node in every replication (R × nodes): noise, then the exclusion as weight 0."""
    wi = np.asarray(design["weights"])
    mult = np.where(wi[:, None] >= 0, prob.weight_pool[np.maximum(wi, 0)], 1.0)
    W = prob.base_w[None, :] * mult
    ex = np.asarray(design["exclude"])
    rows = np.flatnonzero(ex >= 0)
    pos = {c: i for i, c in enumerate(prob.nodes)}
    cols = np.array([pos[prob.indicators[e]] for e in ex[rows]], dtype=int)
    W[rows, cols] = 0.0
    return W


def evaluate(prob: UAProblem, design: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
    """Index scores for every replication (R × units), the fast path.

    For each aggregate, ``num = Σ_k w_rk · T(x_uk)`` and ``den = Σ_k w_rk · 1[x_uk available]``
    over its children (a matrix product ``W_children · T(Z_children)ᵀ`` for indicator children),
    then the inverse transform of ``num/den`` (NaN-skipping with renormalised weights, as
    :func:`kinhteso.methods.composite.a_amean`). Replications that share an imputation and an
    aggregation are done together for every normalisation at once (the normalised matrices side
    by side along the units), each replication then keeping the block of its normalisation.
    """
    W = replication_weights(prob, design)
    R, U = len(W), len(prob.X)
    out = np.full((R, U), np.nan)
    na, nn = len(prob.aggregate), len(prob.normalise)
    nrm = np.asarray(design["normalise"])
    key = np.asarray(design["impute"]) * na + np.asarray(design["aggregate"])
    ukeys, inv = np.unique(key, return_inverse=True)
    inv = inv.ravel()
    NU = nn * U
    for g, k in enumerate(ukeys):
        imp, agg = int(k // na), int(k % na)
        rows = np.flatnonzero(inv == g) if len(ukeys) > 1 else np.arange(R)
        f, finv = TRANSFORMS[prob.aggregate[agg]]
        if (imp, agg) not in prob.transformed:
            Z = np.vstack([prob.normalised[(imp, j)] for j in range(nn)])  # (nn·U) × indicators
            miss = np.isnan(Z)
            with np.errstate(invalid="ignore", divide="ignore"):
                T = np.where(miss, 0.0, f(np.where(miss, 1.0, Z))).T
            M = (~miss).astype(float).T
            prob.transformed[(imp, agg)] = [np.hstack([T[cols], M[cols]]) for _, _, _, cols, _ in prob.plan]
        TMs = prob.transformed[(imp, agg)]
        Wg = W[rows]
        vals: dict[int, np.ndarray] = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for (code, cpos, wpos, cols, agg_kids), TMc in zip(prob.plan, TMs):
                if len(wpos):
                    nd = Wg[:, wpos] @ TMc
                    num, den = nd[:, :NU], nd[:, NU:]
                else:
                    num = np.zeros((len(rows), NU))
                    den = np.zeros((len(rows), NU))
                for kpos in agg_kids:
                    v = vals[kpos]
                    ok = ~np.isnan(v)
                    wk = Wg[:, kpos][:, None]
                    num = num + wk * np.where(ok, f(np.where(ok, v, 1.0)), 0.0)
                    den = den + wk * ok
                # den = 0 only where num = 0 too (no available child of positive weight): 0/0 = NaN
                vals[cpos] = res = finv(num, den)
                if code == prob.index:
                    out[rows] = res.reshape(len(rows), nn, U)[np.arange(len(rows)), nrm[rows]]
    return out


def nominal_scores(prob: UAProblem) -> np.ndarray:
    """The index scores of the unperturbed replication, formed as the plain index is
    (:func:`kinhteso.methods.composite.aggregate_frame`, COINr's order of operations), so that
    units tied in the index are tied here and the nominal ranks are the index's ranks. (The
    replications come from :func:`evaluate`'s matrix products, equal to 1e-12.)"""
    tree = prob.tree or C.hierarchy(prob.meta)
    Z = prob.normalised[(0, 0)]
    col = {c: Z[:, j] for j, c in enumerate(prob.indicators)}
    agg = C.AGGREGATORS[prob.aggregate[0]].func
    for code, node in tree.items():  # bottom-up; children in iMeta's order, as aggregate_frame
        if node.type == "Aggregate":
            M = np.column_stack([col[k] for k in node.children])
            col[code] = agg(M, np.array([tree[k].weight for k in node.children], dtype=float))
    return col[prob.index]


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


def quantiles(M: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Quantiles of each column, NaN skipped, as R's ``quantile(x, probs, na.rm = TRUE)`` (type 7):
    ``index = 1 + (n - 1)·p``, ``(1 - h)·x[lo] + h·x[hi]``; all columns at once (one sort).
    Returns ``len(probs) × columns``; NaN for a column with no value."""
    M = np.atleast_2d(np.asarray(M, dtype=float))
    srt = np.sort(M, axis=0)  # NaN last
    n = (~np.isnan(M)).sum(axis=0)
    cols = np.arange(M.shape[1])
    out = np.full((len(probs), M.shape[1]), np.nan)
    has = n > 0
    for i, p in enumerate(probs):
        index = (np.maximum(n - 1, 0) * float(p))[has]  # 0-based
        lo = np.floor(index).astype(int)
        hi = np.ceil(index).astype(int)
        xlo, xhi = srt[lo, cols[has]], srt[hi, cols[has]]
        h = index - lo
        out[i, has] = np.where((h > 0) & (xhi != xlo), (1 - h) * xlo + h * xhi, xlo)
    return out


def rank_intervals(ranks: np.ndarray, nominal: np.ndarray, units: Sequence[str], scores: np.ndarray) -> pd.DataFrame:
    """Per unit: nominal rank, median rank, the 5th-95th percentile rank interval, and score percentiles
    (COINr ``get_sensitivity`` ``RankStats``: R ``quantile`` type 7, see :func:`quantiles`)."""
    q = quantiles(ranks, [0.05, 0.5, 0.95])
    s = quantiles(scores, [0.05, 0.5, 0.95])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(ranks, axis=0)
    return pd.DataFrame({"uCode": list(units), "rank_nominal": nominal, "rank_q05": q[0], "rank_median": q[1],
                         "rank_q95": q[2], "rank_mean": mean, "score_q05": s[0],
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
        dec = self.design
        def pick(names: Sequence[str], idx: Any) -> np.ndarray:
            return np.array(names, dtype=object)[np.asarray(idx)]

        cols: dict[str, Any] = {"replication": np.arange(len(dec))}
        cols.update({f"u_{n}": self.design_u[:, k] for k, n in enumerate(p.inputs)})
        cols["weight_set"] = dec["weights"].to_numpy()
        cols["normalise"] = pick([_label(s) for s in p.normalise], dec["normalise"])
        cols["aggregate"] = pick(p.aggregate, dec["aggregate"])
        cols["impute"] = pick(p.impute, dec["impute"])
        cols["excluded"] = pick([""] + p.indicators, dec["exclude"].to_numpy() + 1)
        cols["mean_abs_rank_change"] = self.output
        return pd.DataFrame(cols)


def _label(spec: Mapping[str, Any]) -> str:
    extra = ",".join(f"{k}={v}" for k, v in spec.items() if k != "method")
    return spec.get("method", "?") + (f"({extra})" if extra else "")


def uncertainty(X: pd.DataFrame, meta: pd.DataFrame, *, n: int, weight_noise: float | Mapping[int, float] | None = 0.25,
                normalise: Sequence[Mapping[str, Any]] = ({"method": "minmax", "l_u": (0.0, 100.0)},),
                aggregate: Sequence[str] = ("arithmetic",), impute: Sequence[str] = ("none",),
                exclude: bool = False, groups: pd.Series | None = None, index: str | None = None,
                design: str = "sobol", seed: int = 0, progress: Progress | None = None) -> UncertaintyResult:
    """Monte Carlo uncertainty and Sobol sensitivity analysis of ``index`` (COINr ``get_sensitivity``).

    **Parameters:** ``X`` rows × indicators (before imputation and normalisation); ``meta`` the
    iMeta; ``n`` the base sample size (``design = "sobol"``: ``n·(D + 2)`` replications, Sobol
    indices computed; ``"random"``: ``n`` replications, no Sobol indices); the choices as in
    :func:`build_problem`; ``progress`` (:mod:`kinhteso.progress`): one step per phase.

    >>> # res = uncertainty(X, meta, n=256, normalise=[{"method": "minmax", "l_u": (1, 100)},
    >>> #                   {"method": "zscore", "m_sd": (10, 2)}], aggregate=["arithmetic", "geometric"])
    >>> # res.rank_intervals, res.sobol, res.design_table()
    """
    say, total = or_null(progress), 4 + (design == "sobol")
    say(0, total, ("Chuẩn bị các phương án", "Preparing the alternatives"))
    prob = build_problem(X, meta, weight_noise=weight_noise, normalise=normalise, aggregate=aggregate,
                         impute=impute, exclude=exclude, groups=groups, index=index,
                         pool_size=max(1, n), seed=seed)
    say(1, total, (f"Thiết kế mẫu ({design})", f"Sampling the design ({design})"))
    U, dec = sample_design(prob, n=n, method=design, seed=seed)
    say(2, total, (f"Tính {len(dec)} lần chạy", f"Computing {len(dec)} replications"))
    nom = nominal_scores(prob)[None, :]
    S = evaluate(prob, dec)
    say(3, total, ("Khoảng hạng", "Rank intervals"))
    Rk = rank_matrix(S)
    nr = rank_matrix(nom)[0]
    Y = np.nanmean(np.abs(Rk - nr[None, :]), axis=1)
    units = [str(u).split("@")[0] for u in X.index]
    ri = rank_intervals(Rk, nr, units, S)
    if design == "sobol":
        say(4, total, ("Chỉ số Sobol", "Sobol indices"))
    sob = sobol_indices(prob, Y, seed=seed) if design == "sobol" else None
    say(total, total, ("Phân tích bất định", "Uncertainty analysis"))
    return UncertaintyResult(problem=prob, design_u=U, design=dec, scores=S, ranks=Rk, nominal_scores=nom[0],
                             nominal_ranks=nr, output=Y, rank_intervals=ri, sobol=sob)
