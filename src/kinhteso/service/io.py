"""Input-output analysis of a table given as files: the service behind ``kinhteso io``.

:func:`run_io` reads the table (:mod:`kinhteso.ingest.iotables`: four CSV files, one wide
sheet or Eurostat ``naio_10_cp1700`` long form), validates the request and the files, computes
coefficients, the Leontief inverse, output and type-I factor multipliers, linkages and, with
``digital``, the ADB (2021) value-flow estimate of digital GDP (:mod:`kinhteso.methods.io`).
With ``coef_workspace`` it also stores the IO estimate of ``DIGITAL_COEF`` in that workspace
(:mod:`kinhteso.pipeline.io_estimates`), in one transaction, after everything else has been
computed, so a rejected input stores nothing. It prints nothing and writes no file: the
result tables are returned for the caller to render.

>>> res = run_io(IORequest(z_path=Path("Z.csv"), x_path=Path("x.csv"),     # doctest: +SKIP
...                        factors={"gva": Path("gva.csv")}, digital=["ict"]))
>>> res.tables["multipliers"], res.digital["share_of_gdp"]                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.ingest.iotables import (
    IOTable,
    read_concordance,
    read_eurostat_long,
    read_four_files,
    read_vector,
    read_wide,
)
from kinhteso.methods import io as M
from kinhteso.pipeline.io_estimates import CoefEstimate, estimate_digital_coef, write_digital_coef
from kinhteso.workspace import Workspace

__all__ = ["FACTOR_NAME", "IORequest", "IOResult", "check_layout", "check_request", "parse_factor_rows",
           "parse_factors", "run_io"]

#: A factor's name: letters, digits, underscore, starting with a letter.
FACTOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class IORequest:
    """One input-output analysis: the table's files, the choices, what to produce.

    The table is either ``z_path`` + ``x_path`` (+ ``y_path`` and ``factors``, one
    ``code,value`` file each), or ``table_path`` in ``layout`` ``"wide"`` (``output_row``
    names the total-output row) or ``"eurostat"`` (sliced by ``geo``, ``time``, ``unit``), with
    ``factor_rows`` naming the table's rows that make each factor (several rows are summed).
    ``digital`` lists the table's digital product codes, or is ``["adb"]`` (the ADB core
    products found through ``concordance_path``). ``tables`` asks for the result tables;
    ``coef_workspace`` (with ``digital``, ``territory`` and ``period``) stores the IO estimate
    of ``DIGITAL_COEF`` in that workspace.
    """

    z_path: Path | None = None
    x_path: Path | None = None
    table_path: Path | None = None
    layout: Literal["wide", "eurostat"] = "wide"
    output_row: str | None = None
    geo: str | None = None
    time: str | None = None
    unit: str | None = None
    factor_rows: Mapping[str, Sequence[str]] = field(default_factory=dict)
    y_path: Path | None = None
    factors: Mapping[str, Path] = field(default_factory=dict)
    digital: Sequence[str] | None = None
    concordance_path: Path | None = None
    va_factor: str = "gva"
    investment_path: Path | None = None
    double_count: str = "block"
    forward: str = "ghosh"
    tables: bool = True
    coef_workspace: Path | None = None
    territory: str | None = None
    period: str | None = None


@dataclass(frozen=True)
class IOResult:
    """What :func:`run_io` computed (and stored).

    ``codes``: the table's products; ``analysis``: the full
    :class:`kinhteso.methods.io.IOResult` (``None`` unless ``tables`` was asked);
    ``tables``: ``A``, ``L``, ``multipliers``, ``linkages`` as the output tables (a ``code``
    column first); ``digital``: the ADB value-flow estimate with its ICT-input intensity (the
    ``digital.json`` document), ``None`` without ``digital``; ``coef``: the ``DIGITAL_COEF``
    estimate stored as run ``coef_run`` (``coef_rows`` values) in ``workspace_root``, where it
    supersedes the values of other sources for the sectors ``superseded``. ``warnings``: what
    the table allows but is almost always an error (``{code, vi, en, products}``: negative value
    added, ``IO_NEGATIVE_VA``; output below intermediate consumption, ``IO_INPUTS_EXCEED_OUTPUT``).
    """

    codes: tuple[str, ...]
    analysis: M.IOResult | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    digital: dict | None = None
    coef: CoefEstimate | None = None
    coef_run: str | None = None
    coef_rows: int = 0
    superseded: tuple[str, ...] = ()
    workspace_root: Path | None = None
    warnings: list[dict] = field(default_factory=list)

    @property
    def zero_output(self) -> tuple[str, ...]:
        """Products with zero output (zero coefficients, factor multipliers left empty)."""
        return tuple(self.analysis.zero_output) if self.analysis is not None else ()


# --------------------------------------------------------------------------- validation


def parse_factors(specs: Sequence[str]) -> dict[str, Path]:
    """``NAME=FILE`` pairs → {name: path}; a malformed or repeated name, or a missing file, is a
    UsageError."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        name = name.strip()
        if not sep or not FACTOR_NAME.match(name) or not path:
            raise UsageError(
                "IO_FACTOR_SPEC",
                f"--factor cần dạng TÊN=TỆP (tên: chữ, số, gạch dưới; bắt đầu bằng chữ), nhận được {spec!r}.",
                f"--factor takes NAME=FILE (name: letters, digits, underscore; starting with a letter); got {spec!r}.",
            )
        if name in out:
            raise UsageError(
                "IO_FACTOR_SPEC",
                f"Tên nhân tố {name!r} được cho hai lần.",
                f"Factor name {name!r} is given twice.",
            )
        if not Path(path).is_file():
            raise UsageError(
                "IO_FACTOR_FILE",
                f"Không tìm thấy tệp nhân tố {path!r} (cho {name}).",
                f"Factor file {path!r} (for {name}) not found.",
            )
        out[name] = Path(path)
    return out


def parse_factor_rows(specs: Sequence[str]) -> dict[str, list[str]]:
    """``NAME=ROW[+ROW…]`` → {name: [row labels]} (the rows are summed); malformed is a UsageError."""
    rows: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, labels = spec.partition("=")
        if not sep or not FACTOR_NAME.match(name.strip()) or not labels.strip():
            raise UsageError("IO_FACTOR_SPEC", f"--factor-row cần dạng TÊN=DÒNG[+DÒNG…], nhận được {spec!r}.",
                             f"--factor-row takes NAME=ROW[+ROW…]; got {spec!r}.")
        rows[name.strip()] = [p.strip() for p in labels.split("+") if p.strip()]
    return rows


def check_layout(*, z_path: Path | None, x_path: Path | None, table_path: Path | None,
                 factor_rows: bool) -> None:
    """The table comes from ``z_path`` + ``x_path`` or from ``table_path``, never both;
    ``factor_rows`` (given or not) only with ``table_path``."""
    if (table_path is None) == (z_path is None or x_path is None) or (table_path and (z_path or x_path)):
        raise UsageError(
            "IO_INPUT",
            "Cần --Z và --x (bốn tệp), hoặc --table (một tệp); không dùng cả hai.",
            "Give --Z and --x (the four-file layout) or --table (one file), not both.",
        )
    if factor_rows and table_path is None:
        raise UsageError("IO_FACTOR_ROW_NEEDS_TABLE", "--factor-row chỉ dùng với --table.", "--factor-row goes with --table.")


def check_request(req: IORequest) -> None:
    """The usage checks of a request, before any file is read."""
    check_layout(z_path=req.z_path, x_path=req.x_path, table_path=req.table_path, factor_rows=bool(req.factor_rows))
    if not req.tables and req.coef_workspace is None:
        raise UsageError(
            "IO_NO_TARGET",
            "Cần --out THƯ_MỤC (ghi các bảng kết quả) hoặc --write-coef (ghi DIGITAL_COEF vào không gian làm việc).",
            "Give --out DIR (write the result tables) or --write-coef (store DIGITAL_COEF in the workspace).",
        )
    if req.coef_workspace is None:
        return
    missing = [name for name, v in (("--digital", req.digital), ("--territory", req.territory),
                                    ("--period", req.period)) if not v]
    if missing:
        raise UsageError(
            "IO_COEF_OPTIONS",
            f"--write-coef cần {', '.join(missing)} (sản phẩm số của bảng, địa bàn như VN hoặc 34:31, kỳ như 2022).",
            f"--write-coef needs {', '.join(missing)} (the table's digital products, a territory such as VN or "
            "34:31, a period such as 2022).",
        )


# --------------------------------------------------------------------------- reading


def _read_table(req: IORequest) -> IOTable:
    """The table from the four-file layout, or from one file (wide sheet or Eurostat long form)
    with the factors named by ``factor_rows`` (several rows summed, e.g. GVA)."""
    if req.table_path is None:
        return read_four_files(req.z_path, req.x_path, y=req.y_path, factors=dict(req.factors))
    if req.layout == "wide":
        table = read_wide(req.table_path, output_row=req.output_row)
    else:
        table = read_eurostat_long(req.table_path, geo=req.geo, time=req.time, unit=req.unit)
    factors = {}
    problems = []
    for name, labels in req.factor_rows.items():
        missing = [lab for lab in labels if lab not in table.factors]
        if missing:
            problems.append(Problem(
                code="IO_FACTOR_ROW",
                vi=f"Không có dòng {missing} trong bảng; các dòng có thể dùng: {sorted(table.factors)}.",
                en=f"No row {missing} in the table; rows available: {sorted(table.factors)}.",
                file=str(req.table_path)))
            continue
        factors[name] = sum(table.factors[lab] for lab in labels)
    if problems:
        raise InputRejected(problems, file=str(req.table_path))
    return IOTable(codes=table.codes, Z=table.Z, x=table.x, y=table.y, factors=factors, source=table.source)


def _read_investment(path: Path, codes: Sequence[str]) -> dict[str, float]:
    """Fixed investment by digital industries, by product (``code,value``); codes must be the table's."""
    vec, problems = read_vector(path)
    unknown = [c for c in vec if c not in set(codes)]
    if unknown:
        problems.append(
            Problem(
                code="IO_CODE_MISMATCH",
                vi=f"Mã sản phẩm không có trong Z: {unknown[:20]} (mã vắng mặt được coi là 0).",
                en=f"Product codes not in Z: {unknown[:20]} (absent codes count as 0).",
                file=str(path),
            )
        )
    if problems:
        raise InputRejected(problems, file=str(path))
    return vec


# --------------------------------------------------------------------------- computing


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.index.name = "code"
    return out.reset_index()


def _multipliers(result: M.IOResult, factors: list[str]) -> pd.DataFrame:
    cols = ["code", "output_multiplier"]
    for name in factors:
        cols += [f"{name}_effect", f"{name}_multiplier"]
    return result.multipliers[cols]


def _analyse(
    table: IOTable,
    *,
    digital: list[str] | None,
    va_factor: str,
    digital_investment: dict[str, float] | None,
    double_count: str,
    forward: str,
    concordance: pd.DataFrame | None = None,
) -> tuple[dict[str, pd.DataFrame], dict | None, M.IOResult]:
    """The result tables, the ADB estimate (``None`` without ``digital``) and the analysis."""
    result = M.analyse(table.Z, table.x, codes=table.codes, factors=table.factors, forward=forward)
    tables = {
        "A": _wide(result.A),
        "L": _wide(result.L),
        "multipliers": _multipliers(result, list(table.factors)),
        "linkages": result.linkages[
            ["code", "backward", "forward", "backward_raw", "forward_raw", "key_sector", "zero_output"]
        ],
    }
    matches = None
    if digital == ["adb"]:
        if concordance is None:
            raise UsageError(
                "IO_DIGITAL_ADB",
                "--digital adb cần --concordance (mã sản phẩm của bảng → VSIC/ISIC) để nhận ra các "
                f"sản phẩm số lõi của ADB {list(M.ADB_CORE_ISIC)}.",
                "--digital adb needs --concordance (the table's product codes → VSIC/ISIC) to find "
                f"the ADB core digital products {list(M.ADB_CORE_ISIC)}.",
            )
        matches = M.select_digital(concordance)
        digital = list(dict.fromkeys(matches["code"]))
    if digital is None:
        return tables, None, result
    if va_factor not in table.factors:
        raise UsageError(
            "IO_VA_FACTOR",
            f"--digital cần giá trị tăng thêm: cho --factor {va_factor}=TỆP (hoặc chọn tên khác "
            f"bằng --va); các nhân tố đã cho: {sorted(table.factors) or 'không có'}.",
            f"--digital needs value added: give --factor {va_factor}=FILE (or name another factor "
            f"with --va); factors given: {sorted(table.factors) or 'none'}.",
        )
    k = None
    if digital_investment is not None:
        k = [digital_investment.get(c, 0.0) for c in table.codes]
    est = M.adb_value_flow(
        table.Z,
        table.x,
        table.factors[va_factor],
        codes=table.codes,
        digital=digital,
        y=table.y,
        digital_investment=k,
        double_count=double_count,  # type: ignore[arg-type]
    )
    intensity = M.ict_input_intensity(table.Z, codes=table.codes, digital=digital, concordance=concordance)
    doc = est.as_dict()
    if matches is not None:
        doc["adb_core_matches"] = matches.to_dict("records")
    doc["value_added_factor"] = va_factor
    doc["final_demand"] = "y.csv" if table.y is not None else "x − Z·1"
    doc["ict_input_intensity"] = json.loads(
        intensity[["code", "vsic", "digital_inputs", "intermediate_consumption", "intensity"]].to_json(
            orient="records", force_ascii=False
        )
    )
    doc["no_intermediate_consumption"] = intensity.attrs.get("no_intermediate_consumption", [])
    return tables, doc, result


def _estimate_coef(req: IORequest, table: IOTable, concordance: pd.DataFrame | None) -> CoefEstimate:
    digital = list(req.digital or ())
    if digital == ["adb"]:
        if concordance is None:
            raise UsageError(
                "IO_DIGITAL_ADB",
                "--digital adb cần --concordance (mã sản phẩm của bảng → VSIC/ISIC).",
                "--digital adb needs --concordance (the table's product codes → VSIC/ISIC).",
            )
        digital = list(dict.fromkeys(M.select_digital(concordance)["code"]))
    return estimate_digital_coef(table, digital=digital, territory=str(req.territory), period=str(req.period),
                                 concordance=concordance, table_file=req.z_path,
                                 concordance_file=req.concordance_path)


def run_io(req: IORequest) -> IOResult:
    """Read, validate and compute everything; then, if asked, store ``DIGITAL_COEF`` (one
    transaction). Raises ``UsageError`` or ``InputRejected`` (every problem of a file) before
    anything is stored.
    """
    check_request(req)
    ws = Workspace.open(req.coef_workspace) if req.coef_workspace is not None else None
    try:
        table = _read_table(req)
        warns = M.value_added_warnings(table.Z, table.x, codes=table.codes,
                                       value_added=table.factors.get(req.va_factor), name=req.va_factor)
        concordance = (read_concordance(req.concordance_path, codes=table.codes)
                       if req.concordance_path is not None else None)
        investment = _read_investment(req.investment_path, table.codes) if req.investment_path is not None else None
        coef = _estimate_coef(req, table, concordance) if ws is not None else None
        tables: dict[str, pd.DataFrame] = {}
        doc = analysis = None
        if req.tables:
            tables, doc, analysis = _analyse(
                table,
                digital=list(req.digital) if req.digital is not None else None,
                va_factor=req.va_factor,
                digital_investment=investment,
                double_count=req.double_count,
                forward=req.forward,
                concordance=concordance,
            )
        # --- everything computed: store the estimate (one transaction) ---
        if coef is None:
            return IOResult(codes=tuple(table.codes), analysis=analysis, tables=tables, digital=doc, warnings=warns)
        run_id, n, superseded = write_digital_coef(ws, coef)
        return IOResult(codes=tuple(table.codes), analysis=analysis, tables=tables, digital=doc, coef=coef,
                        coef_run=run_id, coef_rows=n, superseded=tuple(superseded), workspace_root=ws.root,
                        warnings=warns)
    finally:
        if ws is not None:
            ws.close()
