"""Input-output analysis: Leontief and Ghosh models, multipliers, linkages, ADB value-flow.

Pure numerics: numpy arrays and pandas frames in, numpy arrays and pandas frames out. The
notation follows Miller & Blair (2009), *Input-Output Analysis: Foundations and Extensions*,
2nd ed., Cambridge University Press (M&B), and the Eurostat *Manual of Supply, Use and
Input-Output Tables* (2008), chapter 15:

    Z   n×n intermediate flows, Z[i, j] = sales of product i to product (industry) j
    x   n   total output
    y   n   final demand (when not given, y = x − Z·1, M&B eq. 2.2)
    A   = Z·x̂⁻¹                       technical coefficients         (M&B eq. 2.4)
    L   = (I − A)⁻¹                    Leontief inverse               (M&B eq. 2.11)
    B   = x̂⁻¹·Z                       allocation coefficients        (M&B eq. 12.1)
    G   = (I − B)⁻¹                    Ghosh inverse                  (M&B eq. 12.4)

A product whose output is zero has, in a consistent table, no intermediate sales or purchases:
its column of A and its row of B are set to zero (no division by zero), it is listed in
``zero_output`` of every result, and a factor multiplier whose direct coefficient is zero is
missing (``NaN``, written empty), never infinite.

Everything that needs only a product with L (multipliers, effects, x = L·y, the ADB terms) is
solved from one LU factorisation of I − A instead of forming the inverse.

The three layers: :func:`analyse` (front door, frames with codes) → :func:`leontief_inverse`,
:func:`output_multipliers`, :func:`factor_effects`, :func:`linkages` … (arrays) → the LU helpers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla

from kinhteso.errors import MethodError, UsageError

__all__ = [
    "ADB_CORE_ISIC",
    "ADB_DOUBLE_COUNT_RULES",
    "COND_MAX",
    "FORWARD_LINKAGES",
    "AdbEstimate",
    "IOResult",
    "adb_value_flow",
    "allocation_coefficients",
    "analyse",
    "condition_number",
    "digital_mask",
    "factor_effects",
    "factor_multipliers",
    "ghosh_inverse",
    "ict_input_intensity",
    "leontief_inverse",
    "leontief_output",
    "linkages",
    "output_multipliers",
    "select_digital",
    "technical_coefficients",
    "total_output",
    "value_added_warnings",
    "zero_output",
]

#: ADB (2021) "Capturing the Digital Economy", core digital products (ISIC Rev. 4): hardware
#: 2620, 2680; software publishing 5820; telecommunications 61; programming, consultancy 62;
#: data processing, hosting 6311; web portals 6312.
ADB_CORE_ISIC: tuple[str, ...] = ("2620", "2680", "5820", "61", "62", "6311", "6312")

_TOL = 1e-12

#: Largest accepted condition number of I − A (or I − B), in the 1-norm, estimated by LAPACK
#: ``dgecon`` from the LU factors: beyond it L carries entries of order 1e10 and more, every
#: multiplier is dominated by round-off, and the table is refused as ``IO_SINGULAR``. A
#: consistent table (column sums of A well below 1) has a condition number of order 1–100.
COND_MAX = 1e10


# --------------------------------------------------------------------------- validation


def _as_square(Z: np.ndarray) -> np.ndarray:
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or Z.shape[0] != Z.shape[1]:
        raise MethodError(
            "IO_NOT_SQUARE",
            f"Ma trận luồng trung gian Z phải vuông (n×n), nhận được kích thước {Z.shape}.",
            f"The intermediate-flow matrix Z must be square (n×n); got shape {Z.shape}.",
        )
    if not np.all(np.isfinite(Z)):
        raise MethodError(
            "IO_NOT_FINITE",
            "Ma trận Z có ô rỗng hoặc không hữu hạn; mọi ô phải là số.",
            "Z has empty or non-finite cells; every cell must be a number.",
        )
    return Z


def _as_vector(v: np.ndarray | Sequence[float], n: int, name: str) -> np.ndarray:
    v = np.asarray(v, dtype=float).reshape(-1)
    if v.shape != (n,):
        raise MethodError(
            "IO_LENGTH",
            f"Véc-tơ {name} phải có {n} phần tử (bằng số sản phẩm của Z), nhận được {v.size}.",
            f"Vector {name} must have {n} elements (the number of products in Z); got {v.size}.",
        )
    if not np.all(np.isfinite(v)):
        raise MethodError(
            "IO_NOT_FINITE",
            f"Véc-tơ {name} có giá trị rỗng hoặc không hữu hạn.",
            f"Vector {name} has empty or non-finite values.",
        )
    return v


def _check_output(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Validate x against Z; return the boolean mask of zero-output products."""
    if np.any(x < 0):
        bad = np.flatnonzero(x < 0).tolist()
        raise MethodError(
            "IO_NEGATIVE_OUTPUT",
            f"Tổng đầu ra x âm ở vị trí {bad}; đầu ra phải ≥ 0.",
            f"Total output x is negative at positions {bad}; output must be ≥ 0.",
        )
    zero = x == 0
    if zero.any():
        flows = np.abs(Z[zero, :]).sum(axis=1) + np.abs(Z[:, zero]).sum(axis=0)
        if np.any(flows > 0):
            bad = np.flatnonzero(zero)[flows > 0].tolist()
            raise MethodError(
                "IO_ZERO_OUTPUT_FLOWS",
                f"Sản phẩm ở vị trí {bad} có đầu ra bằng 0 nhưng có luồng trung gian; "
                "bảng không nhất quán (sản phẩm không sản xuất thì không mua, không bán trung gian).",
                f"Products at positions {bad} have zero output but non-zero intermediate flows; "
                "the table is inconsistent (a product not produced neither buys nor sells).",
            )
    return zero


def zero_output(x: np.ndarray | Sequence[float]) -> np.ndarray:
    """Positions of products whose total output is zero (reported by every result).

    Miller & Blair (2009) section 2.2 assume x_j > 0 when forming A = Z·x̂⁻¹; a product with
    zero output is kept, isolated, with zero coefficients instead of a division by zero.
    """
    return np.flatnonzero(np.asarray(x, dtype=float) == 0)


def _safe_inverse(x: np.ndarray) -> np.ndarray:
    """1/x where x ≠ 0, and 0 where x = 0 (a zero-output product's column of A is zero)."""
    inv = np.zeros_like(x, dtype=float)
    nz = x != 0
    inv[nz] = 1.0 / x[nz]
    return inv


# --------------------------------------------------------------------------- coefficients


def total_output(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x = Z·1 + y: output as intermediate plus final use (M&B eq. 2.2; pymrio ``calc_x``).

    ``y`` may be a vector or a matrix of final-demand categories (summed across columns).
    """
    Z = _as_square(Z)
    y = np.asarray(y, dtype=float)
    y = y.sum(axis=1) if y.ndim == 2 else y
    return Z.sum(axis=1) + _as_vector(y, Z.shape[0], "y")


def technical_coefficients(Z: np.ndarray, x: np.ndarray | Sequence[float]) -> np.ndarray:
    """A = Z·x̂⁻¹ (M&B eq. 2.4; Eurostat Manual eq. 15.4); zero-output columns are zero.

    >>> technical_coefficients(np.array([[150., 500.], [200., 100.]]), [1000., 2000.])
    array([[0.15, 0.25],
           [0.2 , 0.05]])
    """
    Z = _as_square(Z)
    x = _as_vector(x, Z.shape[0], "x")
    _check_output(Z, x)
    return Z * _safe_inverse(x)[None, :]


def allocation_coefficients(Z: np.ndarray, x: np.ndarray | Sequence[float]) -> np.ndarray:
    """B = x̂⁻¹·Z, the Ghosh allocation (output) coefficients (M&B eq. 12.1)."""
    Z = _as_square(Z)
    x = _as_vector(x, Z.shape[0], "x")
    _check_output(Z, x)
    return _safe_inverse(x)[:, None] * Z


def _lu(M: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """LU factors of I − A (or I − B); a singular system is a MethodError."""
    n = M.shape[0]
    ImM = np.eye(n) - M
    try:
        with warnings.catch_warnings():
            # an exactly singular pivot is reported below as a MethodError, not a warning
            warnings.simplefilter("ignore", sla.LinAlgWarning)
            lu = sla.lu_factor(ImM, check_finite=False)
    except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
        raise _singular(what) from exc
    diag = np.abs(np.diag(lu[0]))
    if diag.size and (diag.min() <= np.finfo(float).eps * max(diag.max(), 1.0) * n):
        raise _singular(what)
    cond = condition_number(ImM, lu)
    if not cond <= COND_MAX:
        raise _singular(what, cond)
    return lu


def condition_number(M: np.ndarray, lu: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """κ₁(M) = ‖M‖₁·‖M⁻¹‖₁, estimated by LAPACK ``dgecon`` from the LU factors in O(n²)
    (Higham's estimator; exact to a small factor, enough to compare with :data:`COND_MAX`)."""
    if M.size == 0:
        return 1.0
    if lu is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sla.LinAlgWarning)
            lu = sla.lu_factor(M, check_finite=False)
    anorm = float(np.abs(M).sum(axis=0).max())
    rcond, info = sla.lapack.dgecon(lu[0], anorm, norm="1")
    return float("inf") if info != 0 or rcond <= 0 else 1.0 / float(rcond)


def _singular(what: str, cond: float | None = None) -> MethodError:
    if cond is None:
        return MethodError(
            "IO_SINGULAR",
            f"Ma trận I − {what} suy biến: không có nghịch đảo Leontief/Ghosh. Kiểm tra tổng cột "
            "của hệ số (phải < 1) và đầu ra x.",
            f"I − {what} is singular: no Leontief/Ghosh inverse exists. Check that coefficient "
            "column sums are below 1 and the output vector x.",
        )
    return MethodError(
        "IO_SINGULAR",
        f"Ma trận I − {what} gần suy biến: số điều kiện ≈ {cond:.3g}, vượt ngưỡng {COND_MAX:.0e}; "
        "nghịch đảo Leontief/Ghosh chỉ còn là sai số làm tròn. Kiểm tra tổng cột của hệ số "
        "(phải < 1 rõ rệt) và đầu ra x.",
        f"I − {what} is nearly singular: condition number ≈ {cond:.3g}, above the bound "
        f"{COND_MAX:.0e}; the Leontief/Ghosh inverse would be round-off. Check that coefficient "
        "column sums are clearly below 1 and the output vector x.",
        condition_number=cond,
    )


def value_added_warnings(Z: np.ndarray, x: np.ndarray | Sequence[float], *, codes: Sequence[str] | None = None,
                         value_added: np.ndarray | Sequence[float] | None = None,
                         name: str = "gva") -> list[dict]:
    """Warnings (``{code, vi, en, products}``) for negative value added, which M&B's
    accounting identity x_j = Σ_i Z_ij + va_j does not forbid but is almost always an error:
    ``IO_NEGATIVE_VA`` where the factor ``name`` is negative, ``IO_INPUTS_EXCEED_OUTPUT``
    where output is below the column sum of Z (value added implied by the table < 0)."""
    Z = _as_square(Z)
    n = Z.shape[0]
    x = _as_vector(x, n, "x")
    labels = np.asarray(_codes(codes, n), dtype=object)
    out: list[dict] = []

    def show(mask: np.ndarray) -> str:
        bad = labels[mask].tolist()
        return ", ".join(bad[:20]) + (f" (+{len(bad) - 20})" if len(bad) > 20 else "")

    if value_added is not None:
        va = _as_vector(value_added, n, f"factor {name}")
        neg = va < 0
        if neg.any():
            out.append({"code": "IO_NEGATIVE_VA", "products": labels[neg].tolist(),
                        "vi": f"Giá trị tăng thêm ({name}) âm ở sản phẩm: {show(neg)}; kiểm tra dấu và đơn vị.",
                        "en": f"Value added ({name}) is negative for products: {show(neg)}; check signs and units."})
    implied = x - Z.sum(axis=0)
    short = implied < -1e-9 * np.maximum(np.abs(x), 1.0)
    if short.any():
        out.append({"code": "IO_INPUTS_EXCEED_OUTPUT", "products": labels[short].tolist(),
                    "vi": f"Tổng đầu ra x nhỏ hơn tổng cột của Z (chi phí trung gian) ở sản phẩm: {show(short)}; "
                          "giá trị tăng thêm suy ra từ bảng âm.",
                    "en": f"Output x is below the column sum of Z (intermediate consumption) for products: "
                          f"{show(short)}; the value added implied by the table is negative."})
    return out


def leontief_inverse(A: np.ndarray) -> np.ndarray:
    """L = (I − A)⁻¹ (M&B eq. 2.11), by LU solve of (I − A)·L = I.

    >>> A = np.array([[0.15, 0.25], [0.2, 0.05]])
    >>> np.round(leontief_inverse(A), 4)
    array([[1.2541, 0.33  ],
           [0.264 , 1.1221]])
    """
    A = _as_square(A)
    lu = _lu(A, "A")
    return sla.lu_solve(lu, np.eye(A.shape[0]), check_finite=False)


def ghosh_inverse(B: np.ndarray) -> np.ndarray:
    """G = (I − B)⁻¹, the Ghosh inverse (M&B eq. 12.4)."""
    B = _as_square(B)
    lu = _lu(B, "B")
    return sla.lu_solve(lu, np.eye(B.shape[0]), check_finite=False)


def leontief_output(A: np.ndarray, y: np.ndarray | Sequence[float]) -> np.ndarray:
    """x = L·y, solved from (I − A)·x = y without forming L (M&B eq. 2.10)."""
    A = _as_square(A)
    y = _as_vector(y, A.shape[0], "y")
    return sla.lu_solve(_lu(A, "A"), y, check_finite=False)


def output_multipliers(A: np.ndarray) -> np.ndarray:
    """Simple output multipliers m = 1ᵀ·L (M&B eq. 6.1), solved from (I − A)ᵀ·m = 1.

    The ONS "output multiplier" of its analytical tables.
    """
    A = _as_square(A)
    return sla.lu_solve(_lu(A, "A"), np.ones(A.shape[0]), trans=1, check_finite=False)


def factor_effects(A: np.ndarray, coefficients: np.ndarray | Sequence[float]) -> np.ndarray:
    """Total (direct + indirect) factor requirement per unit of final demand: e = fᵀ·L.

    ``coefficients`` are direct factor coefficients f = factor / x (value added, compensation of
    employees, or employment per unit of output). M&B eq. 6.14 ("total … multipliers"); the ONS
    analytical tables call e the "effects" (GVA effects, employment cost effects).
    """
    A = _as_square(A)
    f = _as_vector(coefficients, A.shape[0], "f")
    return sla.lu_solve(_lu(A, "A"), f, trans=1, check_finite=False)


def factor_multipliers(
    effects: np.ndarray | Sequence[float], coefficients: np.ndarray | Sequence[float]
) -> np.ndarray:
    """Type-I multipliers e_j / f_j (M&B eq. 6.16); NaN where the direct coefficient is zero."""
    e = np.asarray(effects, dtype=float)
    f = np.asarray(coefficients, dtype=float)
    out = np.full_like(e, np.nan)
    nz = f != 0
    out[nz] = e[nz] / f[nz]
    return out


# --------------------------------------------------------------------------- linkages


def _forward_ghosh(L: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Row sums of G. With B = x̂⁻¹·A·x̂, G = x̂⁻¹·L·x̂ (M&B eq. 12.9), so G·1 = x̂⁻¹·L·x.

    A zero-output product is isolated (its row and column of A are zero): its row sum is 1.
    """
    rows = np.ones_like(x)
    nz = x != 0
    rows[nz] = (L @ x)[nz] / x[nz]
    return rows


def _forward_leontief(L: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Row sums of L: Rasmussen's (1956) index of sensitivity of dispersion."""
    return L.sum(axis=1)


#: Forward-linkage measures by name (M&B section 12.2): ``ghosh`` (row sums of G, the measure
#: Miller & Blair recommend) or ``leontief`` (row sums of L, Rasmussen 1956).
FORWARD_LINKAGES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "ghosh": _forward_ghosh,
    "leontief": _forward_leontief,
}


def linkages(
    L: np.ndarray,
    x: np.ndarray | Sequence[float],
    *,
    forward: Literal["ghosh", "leontief"] = "ghosh",
) -> dict[str, np.ndarray]:
    """Rasmussen (1956) and Hirschman (1958) backward and forward linkages, normalised.

    backward_j = (1ᵀL)_j / (1ᵀL1 / n)                           (M&B eq. 12.15)
    forward_i  = (G1)_i  / (1ᵀG1 / n)   (``forward="ghosh"``,   M&B eq. 12.17)
                 (L1)_i  / (1ᵀL1 / n)   (``forward="leontief"``, Rasmussen 1956)
    key sector: backward > 1 and forward > 1 (Hirschman 1958; M&B section 12.2.4).

    Returns ``backward_raw``, ``forward_raw``, ``backward``, ``forward`` and ``key_sector``.
    """
    if forward not in FORWARD_LINKAGES:
        raise UsageError(
            "IO_FORWARD",
            f"Cách đo liên kết xuôi không hợp lệ: {forward!r}; chọn một trong {sorted(FORWARD_LINKAGES)}.",
            f"Unknown forward-linkage measure {forward!r}; choose one of {sorted(FORWARD_LINKAGES)}.",
        )
    L = np.asarray(L, dtype=float)
    x = _as_vector(x, L.shape[0], "x")
    back_raw = L.sum(axis=0)
    fwd_raw = FORWARD_LINKAGES[forward](L, x)
    back = back_raw / back_raw.mean()
    fwd = fwd_raw / fwd_raw.mean()
    return {
        "backward_raw": back_raw,
        "forward_raw": fwd_raw,
        "backward": back,
        "forward": fwd,
        "key_sector": (back > 1.0) & (fwd > 1.0),
    }


# --------------------------------------------------------------------------- front door


@dataclass(frozen=True)
class IOResult:
    """Every table of an input-output analysis, labelled by product code.

    ``A`` and ``L`` are square frames indexed by code; ``multipliers`` has ``code``,
    ``output_multiplier`` and, per factor, ``NAME_coefficient``, ``NAME_effect`` and
    ``NAME_multiplier`` (NaN where the direct coefficient is zero); ``linkages`` has ``code``,
    ``backward``, ``forward``, raw sums and ``key_sector``; ``zero_output`` lists codes whose
    output is zero.
    """

    A: pd.DataFrame
    L: pd.DataFrame
    multipliers: pd.DataFrame
    linkages: pd.DataFrame
    zero_output: tuple[str, ...] = field(default_factory=tuple)
    forward: str = "ghosh"


def _codes(codes: Sequence[str] | None, n: int) -> list[str]:
    if codes is None:
        return [str(i + 1) for i in range(n)]
    codes = [str(c) for c in codes]
    if len(codes) != n:
        raise MethodError(
            "IO_CODES",
            f"Số mã sản phẩm ({len(codes)}) khác kích thước của Z ({n}).",
            f"The number of product codes ({len(codes)}) differs from the size of Z ({n}).",
        )
    if len(set(codes)) != n:
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise MethodError(
            "IO_DUPLICATE_CODE",
            f"Mã sản phẩm bị trùng: {dup}.",
            f"Duplicate product codes: {dup}.",
        )
    return codes


def analyse(
    Z: np.ndarray,
    x: np.ndarray | Sequence[float],
    *,
    codes: Sequence[str] | None = None,
    factors: Mapping[str, np.ndarray | Sequence[float]] | None = None,
    forward: Literal["ghosh", "leontief"] = "ghosh",
) -> IOResult:
    """A, L, output and type-I factor multipliers and effects, linkages, for one table.

    Anchors: Miller & Blair (2009) chapters 2, 6 and 12; ONS *Input-output analytical tables*
    (2010 edition: output multipliers = 1ᵀL, GVA and employment-cost effects = fᵀL and
    multipliers = fᵀL / f); Rasmussen (1956), Hirschman (1958).

    **Parameters:** ``Z`` n×n flows; ``x`` output; ``codes`` product codes (text);
    ``factors`` name → factor totals per product (value added, compensation, jobs…); the
    direct coefficient is factor / x.

    >>> r = analyse(np.array([[150., 500.], [200., 100.]]), [1000., 2000.],
    ...             codes=["01", "02"], factors={"va": [650., 1400.]})
    >>> r.multipliers.round(4).to_dict("records")[0]["output_multiplier"]
    1.5182
    """
    Z = _as_square(Z)
    n = Z.shape[0]
    x = _as_vector(x, n, "x")
    labels = _codes(codes, n)
    zero = _check_output(Z, x)
    A = Z * _safe_inverse(x)[None, :]  # M&B eq. 2.4
    lu = _lu(A, "A")
    L = sla.lu_solve(lu, np.eye(n), check_finite=False)  # M&B eq. 2.11
    mult = pd.DataFrame({"code": labels, "output_multiplier": L.sum(axis=0)})  # M&B eq. 6.1
    for name, values in (factors or {}).items():
        total = _as_vector(values, n, f"factor {name}")
        f = total * _safe_inverse(x)  # direct coefficient, M&B eq. 6.13
        e = f @ L  # effects fᵀL, M&B eq. 6.14
        mult[f"{name}_coefficient"] = f
        mult[f"{name}_effect"] = e
        mult[f"{name}_multiplier"] = factor_multipliers(e, f)  # type I, M&B eq. 6.16
    link = linkages(L, x, forward=forward)
    link_frame = pd.DataFrame({"code": labels, **link, "zero_output": zero})
    idx = pd.Index(labels, name="code")
    return IOResult(
        A=pd.DataFrame(A, index=idx, columns=labels),
        L=pd.DataFrame(L, index=idx, columns=labels),
        multipliers=mult,
        linkages=link_frame,
        zero_output=tuple(np.asarray(labels)[zero].tolist()),
        forward=forward,
    )


# --------------------------------------------------------------------------- digital products


def digital_mask(codes: Sequence[str], digital: Sequence[str]) -> np.ndarray:
    """Boolean mask of the table's codes that are digital products: ε₁ of ADB (2021).

    ``digital`` must be codes of the table itself (map ISIC/VSIC to the table's codes first,
    e.g. ADB core ISIC 61 → a table's product ``61``). Unknown codes are a UsageError.
    """
    codes = [str(c) for c in codes]
    wanted = [str(d).strip() for d in digital if str(d).strip()]
    unknown = [d for d in wanted if d not in codes]
    if unknown or not wanted:
        raise UsageError(
            "IO_DIGITAL_CODES",
            f"Mã sản phẩm số không có trong bảng: {unknown or '(trống)'}. Dùng mã của chính bảng "
            f"(ví dụ {codes[:3]}), phân cách bằng dấu phẩy.",
            f"Digital product codes not in the table: {unknown or '(none given)'}. Use the "
            f"table's own codes (e.g. {codes[:3]}), separated by commas.",
        )
    return np.isin(np.asarray(codes, dtype=object), wanted)


def select_digital(
    concordance: pd.DataFrame,
    *,
    core: Sequence[str] = ADB_CORE_ISIC,
    column: str = "vsic",
) -> pd.DataFrame:
    """Which of a table's products are digital: its concordance matched to a core list.

    ``concordance`` maps the table's ``code`` to classification codes in ``column`` (ISIC Rev. 4
    or VSIC 2018, whose divisions follow ISIC Rev. 4). A mapped class ``k`` is digital when it
    lies within a core code ``c`` (``k`` starts with ``c``: ``6110`` within ``61``) — an exact
    match — or when it contains one (``c`` starts with ``k``: the table's ``26`` contains ADB's
    ``2620``) — a partial match, since the table's product is broader than the core.

    Returns ``code``, ``class``, ``core``, ``exact`` (one row per matching pair), so that the
    approximation is shown beside the result (ADB 2021, "Capturing the Digital Economy",
    core digital products; ``core`` defaults to :data:`ADB_CORE_ISIC`).
    """
    missing = {"code", column} - set(concordance.columns)
    if missing:
        raise UsageError(
            "IO_CONCORDANCE",
            f"Bảng chuyển đổi mã thiếu cột {sorted(missing)}; cần cột code, {column}.",
            f"The concordance lacks columns {sorted(missing)}; it needs columns code, {column}.",
        )
    rows = []
    for code, klass in zip(concordance["code"].astype(str), concordance[column].astype(str)):
        k = klass.strip()
        for c in core:
            if k.startswith(c):
                rows.append((code, k, c, True))
            elif c.startswith(k):
                rows.append((code, k, c, False))
    return pd.DataFrame(rows, columns=["code", "class", "core", "exact"])


@dataclass(frozen=True)
class _OverlapRule:
    """How one double-count rule picks its overlap, and the formula it prints."""

    formula: str
    pick: Callable[[dict[str, float]], float]


#: How the double count between the backward and forward terms is removed.
#: ``block``: ε₁ᵀ·M·ε₁, the value added of digital industries induced by final demand for
#: digital products (exact inclusion–exclusion for any number of digital products);
#: ``diagonal``: diag(M)ᵀ·ε₁ as printed in ADB (2021), which equals ``block`` when the digital
#: products form one aggregated sector.
ADB_DOUBLE_COUNT_RULES: dict[str, _OverlapRule] = {
    "block": _OverlapRule("ε₁ᵀ·v̂·L·ŷ·ε₁", lambda parts: parts["block"]),
    "diagonal": _OverlapRule("diag(v̂·L·ŷ)ᵀ·ε₁", lambda parts: parts["diagonal"]),
}


@dataclass(frozen=True)
class AdbEstimate:
    """The ADB (2021) value-flow estimate of digital GDP, term by term.

    ``terms`` has one row per term (``backward_linkage``, ``forward_linkage``,
    ``double_counting`` (subtracted), ``investment_link``, ``total``) with ``value`` (the
    table's currency) and ``share_of_gdp`` (0–1), and ``formula``.
    """

    terms: pd.DataFrame
    gdp: float
    digital: tuple[str, ...]
    double_count: str
    investment_estimated: bool
    zero_output: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        return float(self.terms.set_index("term").loc["total", "value"])

    @property
    def share(self) -> float:
        return float(self.terms.set_index("term").loc["total", "share_of_gdp"])

    def as_dict(self) -> dict:
        return {
            "method": "ADB 2021 value-flow (Leontief)",
            "digital_products": list(self.digital),
            "double_count_rule": self.double_count,
            "investment_link_estimated": self.investment_estimated,
            "gdp": self.gdp,
            "zero_output": list(self.zero_output),
            "terms": {
                r.term: {"value": float(r.value), "share_of_gdp": float(r.share_of_gdp), "formula": r.formula}
                for r in self.terms.itertuples()
            },
            "total": self.total,
            "share_of_gdp": self.share,
        }


def adb_value_flow(
    Z: np.ndarray,
    x: np.ndarray | Sequence[float],
    value_added: np.ndarray | Sequence[float],
    *,
    codes: Sequence[str],
    digital: Sequence[str],
    y: np.ndarray | Sequence[float] | None = None,
    digital_investment: np.ndarray | Sequence[float] | None = None,
    gdp: float | None = None,
    double_count: Literal["block", "diagonal"] = "block",
) -> AdbEstimate:
    """Digital GDP by the ADB (2021) Leontief value-flow, "Capturing the Digital Economy".

    With v̂ = diag(VA/x), L = (I − A)⁻¹, ŷ = diag(y) and M = v̂·L·ŷ (M[i, j] = value added
    of industry i induced by final demand for product j; 1ᵀ·M·1 = GDP):

        backward linkage  = 1ᵀ·M·ε₁          value added everywhere, induced by digital final demand
        forward linkage   = ε₁ᵀ·M·1          value added of digital industries, all final demand
        double counting   = ε₁ᵀ·M·ε₁         (``block``) or diag(M)ᵀ·ε₁ (``diagonal``, as printed)
        investment link   = (1 − ε₁)ᵀ·v̂·L·(k ∘ ε₂)
                            k = fixed investment by digital industries in each product, ε₂ = 1 − ε₁
                            (digital fixed assets are already in the backward term); 0 when k
                            is not given (reported as not estimated)
        digital GDP       = backward + forward − double counting + investment link

    ``y`` defaults to x − Z·1 (all final demand, M&B eq. 2.2). ``gdp`` defaults to the sum of
    ``value_added`` (GDP at basic prices of the table). Shares are of ``gdp``.
    Every product with L is solved from one LU factorisation; L is never formed.
    """
    Z = _as_square(Z)
    n = Z.shape[0]
    labels = _codes(codes, n)
    x = _as_vector(x, n, "x")
    zero = _check_output(Z, x)
    va = _as_vector(value_added, n, "value_added")
    if double_count not in ADB_DOUBLE_COUNT_RULES:
        raise UsageError(
            "IO_DOUBLE_COUNT",
            f"Quy tắc trừ trùng không hợp lệ: {double_count!r}; chọn {sorted(ADB_DOUBLE_COUNT_RULES)}.",
            f"Unknown double-count rule {double_count!r}; choose {sorted(ADB_DOUBLE_COUNT_RULES)}.",
        )
    if np.any(va[zero] != 0):
        raise MethodError(
            "IO_ZERO_OUTPUT_VA",
            "Sản phẩm có đầu ra bằng 0 nhưng giá trị tăng thêm khác 0.",
            "A product with zero output has non-zero value added.",
        )
    e1 = digital_mask(labels, digital).astype(float)
    yv = x - Z.sum(axis=1) if y is None else _as_vector(y, n, "y")
    v = va * _safe_inverse(x)
    A = Z * _safe_inverse(x)[None, :]
    lu = _lu(A, "A")
    # backward: 1ᵀ v̂ L ŷ ε₁ = vᵀ L (y ∘ ε₁)
    x_digital_fd = sla.lu_solve(lu, yv * e1, check_finite=False)  # L·(y∘ε₁)
    backward = float(v @ x_digital_fd)
    # forward: ε₁ᵀ v̂ L y
    x_all = sla.lu_solve(lu, yv, check_finite=False)
    forward_ = float((e1 * v) @ x_all)
    # overlaps: ε₁ᵀ M ε₁, and diag(M)ᵀ ε₁ = Σ_{j∈D} v_j L_jj y_j
    block = float((e1 * v) @ x_digital_fd)
    d_idx = np.flatnonzero(e1)
    unit = np.zeros((n, d_idx.size))
    unit[d_idx, np.arange(d_idx.size)] = 1.0
    L_cols = sla.lu_solve(lu, unit, check_finite=False)
    diagonal = float(np.sum(v[d_idx] * L_cols[d_idx, np.arange(d_idx.size)] * yv[d_idx]))
    rule = ADB_DOUBLE_COUNT_RULES[double_count]
    overlap = rule.pick({"block": block, "diagonal": diagonal})
    # investment link: (1 − ε₁)ᵀ v̂ L (k ∘ ε₂), ε₂ = 1 − ε₁
    if digital_investment is None:
        investment, estimated = 0.0, False
    else:
        k = _as_vector(digital_investment, n, "digital_investment")
        induced = sla.lu_solve(lu, k * (1.0 - e1), check_finite=False)
        investment, estimated = float(((1.0 - e1) * v) @ induced), True
    total = backward + forward_ - overlap + investment
    denom = float(va.sum()) if gdp is None else float(gdp)
    if not np.isfinite(denom) or denom <= 0:
        raise MethodError(
            "IO_GDP",
            f"GDP dùng làm mẫu số phải dương, nhận được {denom}.",
            f"GDP used as the denominator must be positive; got {denom}.",
        )
    rows = [
        ("backward_linkage", backward, "1ᵀ·v̂·L·ŷ·ε₁"),
        ("forward_linkage", forward_, "1ᵀ·(v̂·L·ŷ)ᵀ·ε₁"),
        ("double_counting", overlap, rule.formula),
        ("investment_link", investment, "(1 − ε₁)ᵀ·v̂·L·ŷ·r̂·ε₂"),
        ("total", total, "backward + forward − double counting + investment"),
    ]
    terms = pd.DataFrame(rows, columns=["term", "value", "formula"])
    terms["share_of_gdp"] = terms["value"] / denom
    return AdbEstimate(
        terms=terms[["term", "value", "share_of_gdp", "formula"]],
        gdp=denom,
        digital=tuple(np.asarray(labels)[e1 > 0].tolist()),
        double_count=double_count,
        investment_estimated=estimated,
        zero_output=tuple(np.asarray(labels)[zero].tolist()),
    )


def ict_input_intensity(
    Z: np.ndarray,
    *,
    codes: Sequence[str],
    digital: Sequence[str],
    concordance: pd.DataFrame | None = None,
    intermediate_consumption: np.ndarray | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Share of digital products in each industry's intermediate consumption (0–1).

    intensity_j = Σ_{i∈D} Z[i, j] / IC_j, with IC_j = Σ_i Z[i, j] (or the given
    ``intermediate_consumption``, e.g. including imports). The input side of the ADB (2021)
    "digitally dependent industries" layer and of the OECD digital-intensity taxonomy (ICT
    intermediates); used as the IO estimator of ``DIGITAL_COEF`` (status E, method ``io``).

    ``concordance`` maps the table's codes to VSIC: columns ``code`` and ``vsic`` (text; a code
    may map to several VSIC codes, one row each). Without it ``vsic`` is empty.

    Returns columns ``code``, ``vsic``, ``digital_inputs``, ``intermediate_consumption``,
    ``intensity``. Industries with zero intermediate consumption have no intensity: they are
    left out and listed in ``frame.attrs["no_intermediate_consumption"]``; codes absent from the
    concordance keep an empty ``vsic`` and are listed in ``frame.attrs["unmapped"]``.
    """
    Z = _as_square(Z)
    n = Z.shape[0]
    labels = _codes(codes, n)
    e1 = digital_mask(labels, digital)
    if np.any(Z < 0):
        raise MethodError(
            "IO_NEGATIVE_FLOWS",
            "Ma trận Z có luồng âm; tỷ trọng đầu vào số chỉ xác định khi mọi luồng ≥ 0.",
            "Z has negative flows; the digital-input share is defined only for flows ≥ 0.",
        )
    ic = Z.sum(axis=0) if intermediate_consumption is None else _as_vector(
        intermediate_consumption, n, "intermediate_consumption"
    )
    dig = Z[e1, :].sum(axis=0)
    if np.any(dig > ic * (1 + 1e-12)):
        bad = np.asarray(labels)[dig > ic * (1 + 1e-12)].tolist()
        raise MethodError(
            "IO_IC_TOO_SMALL",
            f"Chi phí trung gian nhỏ hơn đầu vào số ở ngành {bad}.",
            f"Intermediate consumption is smaller than digital inputs for industries {bad}.",
        )
    ok = ic > 0
    frame = pd.DataFrame(
        {
            "code": np.asarray(labels, dtype=object)[ok],
            "digital_inputs": dig[ok],
            "intermediate_consumption": ic[ok],
            "intensity": dig[ok] / ic[ok],
        }
    )
    if concordance is None:
        frame.insert(1, "vsic", pd.NA)
    else:
        missing = {"code", "vsic"} - set(concordance.columns)
        if missing:
            raise UsageError(
                "IO_CONCORDANCE",
                f"Bảng chuyển đổi mã thiếu cột {sorted(missing)}; cần cột code, vsic.",
                f"The concordance lacks columns {sorted(missing)}; it needs columns code, vsic.",
            )
        conc = concordance[["code", "vsic"]].astype(str)
        frame = frame.merge(conc, on="code", how="left")
        frame = frame[["code", "vsic", "digital_inputs", "intermediate_consumption", "intensity"]]
        frame.attrs["unmapped"] = frame.loc[frame["vsic"].isna(), "code"].tolist()
    frame.attrs["no_intermediate_consumption"] = np.asarray(labels)[~ok].tolist()
    return frame.reset_index(drop=True)
