"""``kinhteso io``: Leontief analysis of an input-output table given as four CSV files.

Reads ``Z.csv``, ``x.csv`` (and optional final demand and factor vectors), computes
coefficients, the Leontief inverse, output and type-I factor multipliers, linkages and, with
``--digital``, the ADB (2021) value-flow estimate of digital GDP; writes the results into one
directory. Everything is computed first and written last (into a temporary directory, then
moved), so a rejected input leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import click
import pandas as pd

from kinhteso.cli._common import to_json
from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.i18n import tr
from kinhteso.ingest.iotables import IOTable, read_concordance, read_four_files, read_vector
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

__all__ = ["COMMANDS", "io_command", "parse_factors", "run_io"]

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
@click.option("--Z", "z_path", required=True, type=_FILE, help="Ma trận luồng trung gian Z.csv / intermediate flows (square, first column code).")
@click.option("--x", "x_path", required=True, type=_FILE, help="Tổng đầu ra x.csv (code,value) / total output.")
@click.option("--y", "y_path", type=_FILE, default=None, help="Cầu cuối cùng y.csv (code,value) / final demand; default x − Z·1.")
@click.option("--factor", "factor_specs", multiple=True, metavar="NAME=FILE", help="Nhân tố (GTTT, thù lao, lao động) / a factor vector (code,value); repeatable.")
@click.option("--digital", default=None, metavar="CODES", help="Mã sản phẩm số của bảng (phân cách bằng dấu phẩy), hoặc 'adb' với --concordance / the table's digital product codes, comma-separated, or 'adb' (ADB core via --concordance).")
@click.option("--concordance", "conc_path", type=_FILE, default=None, help="Bảng chuyển mã code,vsic / concordance of the table's codes to VSIC (for --digital adb and the ICT-input intensity).")
@click.option("--va", "va_factor", default="gva", show_default=True, help="Nhân tố là giá trị tăng thêm (cho --digital) / factor holding value added.")
@click.option("--digital-investment", "inv_path", type=_FILE, default=None, help="Đầu tư TSCĐ của ngành số theo sản phẩm (code,value) / fixed investment by digital industries, by product.")
@click.option("--double-count", type=click.Choice(sorted(ADB_DOUBLE_COUNT_RULES)), default="block", show_default=True, help="Cách trừ trùng ADB / ADB double-count rule.")
@click.option("--forward", type=click.Choice(sorted(FORWARD_LINKAGES)), default="ghosh", show_default=True, help="Liên kết xuôi / forward-linkage measure.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Thư mục kết quả / output directory.")
def io_command(
    z_path: Path,
    x_path: Path,
    y_path: Path | None,
    factor_specs: tuple[str, ...],
    digital: str | None,
    conc_path: Path | None,
    va_factor: str,
    inv_path: Path | None,
    double_count: str,
    forward: str,
    out_dir: Path,
) -> None:
    """Phân tích vào-ra: hệ số, nghịch đảo Leontief, số nhân, liên kết, ước tính ADB.

    Input-output analysis: coefficients A, Leontief inverse L, output and type-I factor
    multipliers, Rasmussen–Hirschman linkages and, with --digital, the ADB (2021) value-flow
    estimate of digital GDP. Writes A.csv, L.csv, multipliers.csv, linkages.csv and
    digital.json into --out; nothing is written if any input is rejected.
    """
    factors = parse_factors(factor_specs)
    codes = None
    if digital is not None:
        codes = [c.strip() for c in digital.split(",") if c.strip()]
    table = read_four_files(z_path, x_path, y=y_path, factors=factors)
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
    files, result = run_io(
        table,
        digital=codes,
        va_factor=va_factor,
        digital_investment=investment,
        double_count=double_count,
        forward=forward,
        concordance=concordance,
    )
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
