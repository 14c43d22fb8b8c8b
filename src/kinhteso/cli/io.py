"""``kinhteso io``: Leontief analysis of an input-output table given as four CSV files.

Reads ``Z.csv``, ``x.csv`` (and optional final demand and factor vectors), computes
coefficients, the Leontief inverse, output and type-I factor multipliers, linkages and, with
``--digital``, the ADB (2021) value-flow estimate of digital GDP; writes the results into one
directory (``--out``). With ``--write-coef`` it also (or only) stores the IO estimate of
``DIGITAL_COEF`` (ICT-input intensity by VSIC code, :mod:`kinhteso.pipeline.io_estimates`) in a
workspace as one vintage. Everything is computed first and written last (the workspace in one
transaction, then the files into a temporary directory, then moved), so a rejected input
leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

from kinhteso.cli._common import to_json, workspace_option
from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.i18n import fmt_number, tr
from kinhteso.ingest.iotables import (
    IOTable,
    read_concordance,
    read_eurostat_long,
    read_four_files,
    read_vector,
    read_wide,
)
from kinhteso.methods.io import (
    ADB_CORE_ISIC,
    ADB_DOUBLE_COUNT_RULES,
    FORWARD_LINKAGES,
    IOResult,
    adb_value_flow,
    analyse,
    ict_input_intensity,
    select_digital,
)
from kinhteso.pipeline.io_estimates import IO_SOURCE, estimate_digital_coef, write_digital_coef
from kinhteso.workspace import Workspace

__all__ = ["COMMANDS", "IoRequest", "io_command", "parse_factors", "run_io"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def parse_factors(specs: tuple[str, ...]) -> dict[str, Path]:
    """``NAME=FILE`` pairs → {name: path}; a malformed or repeated name is a UsageError."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name) or not path:
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


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.index.name = "code"
    return out.reset_index()


def _multipliers_csv(result: IOResult, factors: list[str]) -> pd.DataFrame:
    cols = ["code", "output_multiplier"]
    for name in factors:
        cols += [f"{name}_effect", f"{name}_multiplier"]
    return result.multipliers[cols]


def run_io(
    table: IOTable,
    *,
    digital: list[str] | None,
    va_factor: str,
    digital_investment: dict[str, float] | None,
    double_count: str,
    forward: str,
    concordance: pd.DataFrame | None = None,
) -> tuple[dict[str, str], IOResult]:
    """Compute every output file's text (name → content); raises before anything is written."""
    result = analyse(table.Z, table.x, codes=table.codes, factors=table.factors, forward=forward)
    files = {
        "A.csv": _wide(result.A).to_csv(index=False, na_rep=""),
        "L.csv": _wide(result.L).to_csv(index=False, na_rep=""),
        "multipliers.csv": _multipliers_csv(result, list(table.factors)).to_csv(index=False, na_rep=""),
        "linkages.csv": result.linkages[
            ["code", "backward", "forward", "backward_raw", "forward_raw", "key_sector", "zero_output"]
        ].to_csv(index=False, na_rep=""),
    }
    matches = None
    if digital == ["adb"]:
        if concordance is None:
            raise UsageError(
                "IO_DIGITAL_ADB",
                "--digital adb cần --concordance (mã sản phẩm của bảng → VSIC/ISIC) để nhận ra các "
                f"sản phẩm số lõi của ADB {list(ADB_CORE_ISIC)}.",
                "--digital adb needs --concordance (the table's product codes → VSIC/ISIC) to find "
                f"the ADB core digital products {list(ADB_CORE_ISIC)}.",
            )
        matches = select_digital(concordance)
        digital = list(dict.fromkeys(matches["code"]))
    if digital is not None:
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
        est = adb_value_flow(
            table.Z,
            table.x,
            table.factors[va_factor],
            codes=table.codes,
            digital=digital,
            y=table.y,
            digital_investment=k,
            double_count=double_count,  # type: ignore[arg-type]
        )
        intensity = ict_input_intensity(table.Z, codes=table.codes, digital=digital, concordance=concordance)
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
        files["digital.json"] = to_json(doc) + "\n"
    return files, result


def _write_all(out_dir: Path, files: dict[str, str]) -> None:
    """Write every file into a temporary directory beside ``out_dir``, then move them in."""
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kinhteso-io-", dir=parent))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if not out_dir.exists():
            os.replace(tmp, out_dir)
            return
        for name in files:
            os.replace(tmp / name, out_dir / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@click.command("io")
@click.option("--Z", "z_path", default=None, type=_FILE, help="Ma trận luồng trung gian Z.csv / intermediate flows (square, first column code).")
@click.option("--x", "x_path", default=None, type=_FILE, help="Tổng đầu ra x.csv (code,value) / total output.")
@click.option("--table", "table_path", default=None, type=_FILE,
              help="Thay --Z/--x: một bảng trong một tệp / instead of --Z/--x: the whole table in one file (see --layout).")
@click.option("--layout", type=click.Choice(["wide", "eurostat"]), default="wide", show_default=True,
              help="wide: một trang CSV/XLSX có dòng tổng đầu ra; eurostat: dạng dài naio_10_cp1700 / wide sheet with a total-output row, or Eurostat naio_10_cp1700 long form.")
@click.option("--output-row", default=None, help="Tên dòng tổng đầu ra (wide) / label of the total-output row (wide layout).")
@click.option("--geo", default=None, help="Lát cắt Eurostat / Eurostat slice: geo.")
@click.option("--time", "time_", default=None, help="Lát cắt Eurostat / Eurostat slice: time.")
@click.option("--unit", default=None, help="Lát cắt Eurostat / Eurostat slice: unit.")
@click.option("--factor-row", "factor_rows", multiple=True, metavar="NAME=ROW[+ROW…]",
              help="Nhân tố từ dòng của bảng (--table), cộng nhiều dòng bằng + / a factor from the table's rows (with --table), rows summed with +; repeatable.")
@click.option("--y", "y_path", type=_FILE, default=None, help="Cầu cuối cùng y.csv (code,value) / final demand; default x − Z·1.")
@click.option("--factor", "factor_specs", multiple=True, metavar="NAME=FILE", help="Nhân tố (GTTT, thù lao, lao động) / a factor vector (code,value); repeatable.")
@click.option("--digital", default=None, metavar="CODES", help="Mã sản phẩm số của bảng (phân cách bằng dấu phẩy), hoặc 'adb' với --concordance / the table's digital product codes, comma-separated, or 'adb' (ADB core via --concordance).")
@click.option("--concordance", "conc_path", type=_FILE, default=None, help="Bảng chuyển mã code,vsic / concordance of the table's codes to VSIC (for --digital adb and the ICT-input intensity).")
@click.option("--va", "va_factor", default="gva", show_default=True, help="Nhân tố là giá trị tăng thêm (cho --digital) / factor holding value added.")
@click.option("--digital-investment", "inv_path", type=_FILE, default=None, help="Đầu tư TSCĐ của ngành số theo sản phẩm (code,value) / fixed investment by digital industries, by product.")
@click.option("--double-count", type=click.Choice(sorted(ADB_DOUBLE_COUNT_RULES)), default="block", show_default=True, help="Cách trừ trùng ADB / ADB double-count rule.")
@click.option("--forward", type=click.Choice(sorted(FORWARD_LINKAGES)), default="ghosh", show_default=True, help="Liên kết xuôi / forward-linkage measure.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path), help="Thư mục kết quả / output directory (needed unless --write-coef).")
@click.option("--write-coef", is_flag=True, default=False, help="Ghi DIGITAL_COEF ước tính từ bảng vào-ra vào không gian làm việc / store the IO estimate of DIGITAL_COEF in --workspace (needs --digital, --territory, --period).")
@workspace_option
@click.option("--territory", default=None, metavar="KEY", help="Địa bàn của bảng (VN, 34:31) / territory the table describes, for --write-coef.")
@click.option("--period", default=None, metavar="PERIOD", help="Kỳ của bảng (2022, 2022-Q1) / period the table describes, for --write-coef.")
def io_command(
    z_path: Path | None,
    x_path: Path | None,
    table_path: Path | None,
    layout: str,
    output_row: str | None,
    geo: str | None,
    time_: str | None,
    unit: str | None,
    factor_rows: tuple[str, ...],
    y_path: Path | None,
    factor_specs: tuple[str, ...],
    digital: str | None,
    conc_path: Path | None,
    va_factor: str,
    inv_path: Path | None,
    double_count: str,
    forward: str,
    out_dir: Path | None,
    write_coef: bool,
    workspace: Path,
    territory: str | None,
    period: str | None,
) -> None:
    """Phân tích vào-ra: hệ số, nghịch đảo Leontief, số nhân, liên kết, ước tính ADB.

    Input-output analysis: coefficients A, Leontief inverse L, output and type-I factor
    multipliers, Rasmussen–Hirschman linkages and, with --digital, the ADB (2021) value-flow
    estimate of digital GDP. Writes A.csv, L.csv, multipliers.csv, linkages.csv and
    digital.json into --out. With --write-coef, stores each industry's share of digital
    products in its intermediate consumption as DIGITAL_COEF (status E, source kinhteso:io) in
    --workspace, by VSIC code through --concordance (or the table's own codes when they are
    VSIC codes). Nothing is written if any input is rejected.
    """
    factors = parse_factors(factor_specs)
    if (table_path is None) == (z_path is None or x_path is None) or (table_path and (z_path or x_path)):
        raise UsageError(
            "IO_INPUT",
            "Cần --Z và --x (bốn tệp), hoặc --table (một tệp); không dùng cả hai.",
            "Give --Z and --x (the four-file layout) or --table (one file), not both.",
        )
    if factor_rows and table_path is None:
        raise UsageError("IO_FACTOR_ROW_NEEDS_TABLE", "--factor-row chỉ dùng với --table.", "--factor-row goes with --table.")
    rows: dict[str, list[str]] = {}
    for spec in factor_rows:
        name, sep, labels = spec.partition("=")
        if not sep or not _NAME.match(name.strip()) or not labels.strip():
            raise UsageError("IO_FACTOR_SPEC", f"--factor-row cần dạng TÊN=DÒNG[+DÒNG…], nhận được {spec!r}.",
                             f"--factor-row takes NAME=ROW[+ROW…]; got {spec!r}.")
        rows[name.strip()] = [p.strip() for p in labels.split("+") if p.strip()]
    codes = None
    if digital is not None:
        codes = [c.strip() for c in digital.split(",") if c.strip()]
    _check_targets(out_dir, write_coef, codes, territory, period)
    req = IoRequest(z_path=z_path, x_path=x_path, table_path=table_path, layout=layout, output_row=output_row,
                    slice=(geo, time_, unit), factor_rows=rows, y_path=y_path, factors=factors, digital=codes,
                    conc_path=conc_path, va_factor=va_factor, inv_path=inv_path, double_count=double_count,
                    forward=forward, out_dir=out_dir, territory=territory, period=period)
    ws = Workspace.open(workspace) if write_coef else None
    try:
        _io(req, ws)
    finally:
        if ws is not None:
            ws.close()


def _check_targets(out_dir: Path | None, write_coef: bool, codes: list[str] | None, territory: str | None,
                   period: str | None) -> None:
    """Usage checks of --out / --write-coef, before any file is read."""
    if out_dir is None and not write_coef:
        raise UsageError(
            "IO_NO_TARGET",
            "Cần --out THƯ_MỤC (ghi các bảng kết quả) hoặc --write-coef (ghi DIGITAL_COEF vào không gian làm việc).",
            "Give --out DIR (write the result tables) or --write-coef (store DIGITAL_COEF in the workspace).",
        )
    if not write_coef:
        return
    missing = [name for name, v in (("--digital", codes), ("--territory", territory), ("--period", period)) if not v]
    if missing:
        raise UsageError(
            "IO_COEF_OPTIONS",
            f"--write-coef cần {', '.join(missing)} (sản phẩm số của bảng, địa bàn như VN hoặc 34:31, kỳ như 2022).",
            f"--write-coef needs {', '.join(missing)} (the table's digital products, a territory such as VN or "
            "34:31, a period such as 2022).",
        )


@dataclass(frozen=True)
class IoRequest:
    """The parsed options of one ``kinhteso io`` run."""

    z_path: Path | None
    x_path: Path | None
    table_path: Path | None
    layout: str
    output_row: str | None
    slice: tuple[str | None, str | None, str | None]
    factor_rows: dict[str, list[str]]
    y_path: Path | None
    factors: dict[str, Path]
    digital: list[str] | None
    conc_path: Path | None
    va_factor: str
    inv_path: Path | None
    double_count: str
    forward: str
    out_dir: Path | None
    territory: str | None
    period: str | None


def _read_table(req: IoRequest) -> IOTable:
    """The table from the four-file layout, or from one file (wide sheet or Eurostat long form)
    with the factors named by ``--factor-row`` (several rows summed, e.g. GVA)."""
    if req.table_path is None:
        return read_four_files(req.z_path, req.x_path, y=req.y_path, factors=req.factors)
    if req.layout == "wide":
        table = read_wide(req.table_path, output_row=req.output_row)
    else:
        geo, time_, unit = req.slice
        table = read_eurostat_long(req.table_path, geo=geo, time=time_, unit=unit)
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


def _io(req: IoRequest, ws: Workspace | None) -> None:
    """Read, compute everything, then write (the workspace first, in one transaction; then the files)."""
    codes, conc_path, inv_path, out_dir = req.digital, req.conc_path, req.inv_path, req.out_dir
    table = _read_table(req)
    concordance = read_concordance(conc_path, codes=table.codes) if conc_path is not None else None
    investment = None
    if inv_path is not None:
        vec, problems = read_vector(inv_path)
        unknown = [c for c in vec if c not in set(table.codes)]
        if unknown:
            problems.append(
                Problem(
                    code="IO_CODE_MISMATCH",
                    vi=f"Mã sản phẩm không có trong Z: {unknown[:20]} (mã vắng mặt được coi là 0).",
                    en=f"Product codes not in Z: {unknown[:20]} (absent codes count as 0).",
                    file=str(inv_path),
                )
            )
        if problems:
            raise InputRejected(problems, file=str(inv_path))
        investment = vec
    coef = None
    if ws is not None:
        dig = codes
        if codes == ["adb"]:
            if concordance is None:
                raise UsageError(
                    "IO_DIGITAL_ADB",
                    "--digital adb cần --concordance (mã sản phẩm của bảng → VSIC/ISIC).",
                    "--digital adb needs --concordance (the table's product codes → VSIC/ISIC).",
                )
            dig = list(dict.fromkeys(select_digital(concordance)["code"]))
        coef = estimate_digital_coef(table, digital=dig, territory=str(req.territory), period=str(req.period),
                                     concordance=concordance, table_file=req.z_path, concordance_file=conc_path)
    files: dict[str, str] = {}
    result = None
    if out_dir is not None:
        files, result = run_io(
            table,
            digital=codes,
            va_factor=req.va_factor,
            digital_investment=investment,
            double_count=req.double_count,
            forward=req.forward,
            concordance=concordance,
        )
    # --- everything computed: write (the workspace in one transaction, then the files) ---
    if coef is not None:
        vid, n, superseded = write_digital_coef(ws, coef)
        click.echo(tr(
            f"Đã ghi {n} giá trị DIGITAL_COEF (trạng thái E, nguồn {IO_SOURCE}, phiên bản {vid}) cho {coef.territory} "
            f"{coef.period} vào {ws.root}; sản phẩm số: {', '.join(coef.digital)}.",
            f"Stored {n} DIGITAL_COEF values (status E, source {IO_SOURCE}, vintage {vid}) for {coef.territory} "
            f"{coef.period} in {ws.root}; digital products: {', '.join(coef.digital)}.",
        ))
        for r in coef.by_vsic.itertuples(index=False):
            click.echo(f"  {r.vsic:<4} {fmt_number(r.value, 4):>8}  ← {r.industries}")
        for what, (vi, en) in {"unmapped": ("không có trong bảng chuyển đổi", "not in the concordance"),
                               "no_intermediate_consumption": ("không có chi phí trung gian",
                                                               "no intermediate consumption")}.items():
            if coef.skipped.get(what):
                click.echo(tr(f"Bỏ qua ({vi}): {', '.join(coef.skipped[what])}",
                              f"Skipped ({en}): {', '.join(coef.skipped[what])}"), err=True)
        if superseded:
            click.echo(tr(f"Phiên bản mới thay cho giá trị đã có (nguồn khác) của: {', '.join(superseded)}",
                          f"The new vintage supersedes existing values (other sources) of: {', '.join(superseded)}"),
                       err=True)
    if out_dir is None:
        return
    _write_all(out_dir, files)
    click.echo(tr(f"Đã ghi {', '.join(files)} vào {out_dir} ({len(table.codes)} sản phẩm).",
                  f"Wrote {', '.join(files)} to {out_dir} ({len(table.codes)} products)."))
    if result.zero_output:
        click.echo(
            tr(
                f"Sản phẩm có đầu ra bằng 0 (hệ số bằng 0, số nhân nhân tố để trống): {', '.join(result.zero_output)}",
                f"Products with zero output (zero coefficients, factor multipliers left empty): {', '.join(result.zero_output)}",
            ),
            err=True,
        )


COMMANDS = [io_command]
