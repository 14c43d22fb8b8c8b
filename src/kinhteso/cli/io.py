"""``kinhteso io``: Leontief analysis of an input-output table given as four CSV files.

Thin: parses the options into an :class:`~kinhteso.service.io.IORequest` and calls
:func:`kinhteso.service.io.run_io`, which reads ``Z.csv``, ``x.csv`` (and optional final demand
and factor vectors), computes coefficients, the Leontief inverse, output and type-I factor
multipliers, linkages and, with ``--digital``, the ADB (2021) value-flow estimate of digital
GDP and, with ``--write-coef``, stores the IO estimate of ``DIGITAL_COEF`` (ICT-input intensity
by VSIC code) in a workspace as one result run (never a submission). This module then writes the results into one
directory (``--out``). Everything is computed first and written last (the workspace in one
transaction, then the files into a temporary directory, then moved), so a rejected input
leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kinhteso.cli._common import PERIOD, to_json, workspace_option
from kinhteso.cli._lazy import LazyChoice
from kinhteso.i18n import fmt_number, tr

if TYPE_CHECKING:
    from kinhteso.service.io import IOResult

__all__ = ["COMMANDS", "io_command"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _files(res: IOResult) -> dict[str, str]:
    """Every output file's text (name → content), in the order they are listed; the CSV files
    are safe to open in a spreadsheet (:func:`kinhteso.safe_io.csv_text`)."""
    from kinhteso.safe_io import csv_text  # noqa: PLC0415

    files = {f"{name}.csv": csv_text(frame, na_rep="") for name, frame in res.tables.items()}
    if res.digital is not None:
        files["digital.json"] = to_json(res.digital) + "\n"
    return files


def _write_all(out_dir: Path, files: dict[str, str]) -> None:
    """Write every file into a temporary directory beside ``out_dir``, then move them in.

    A new ``out_dir`` is the temporary directory renamed; into an existing one each file is
    renamed over its old version. A destination (or ``out_dir``) that is a symbolic link is
    refused before anything is written (``UNSAFE_PATH``, :mod:`kinhteso.safe_io`)."""
    from kinhteso.safe_io import check_destination, dir_mode  # noqa: PLC0415

    if out_dir.is_symlink() and not out_dir.exists():
        check_destination(out_dir)  # a dangling link: refused, never followed
    if out_dir.exists():
        for name in files:
            check_destination(out_dir / name)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kinhteso-io-", dir=parent))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if not out_dir.exists() and not out_dir.is_symlink():
            tmp.chmod(dir_mode())  # mkdtemp's folder is private; the output folder is not
            os.replace(tmp, out_dir)
            return
        for name in files:
            check_destination(out_dir / name)
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
@click.option("--double-count", type=LazyChoice.of("kinhteso.methods.io", "ADB_DOUBLE_COUNT_RULES", sort=True), default="block", show_default=True, help="Cách trừ trùng ADB / ADB double-count rule.")
@click.option("--forward", type=LazyChoice.of("kinhteso.methods.io", "FORWARD_LINKAGES", sort=True), default="ghosh", show_default=True, help="Liên kết xuôi / forward-linkage measure.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path), help="Thư mục kết quả / output directory (needed unless --write-coef).")
@click.option("--write-coef", is_flag=True, default=False, help="Ghi DIGITAL_COEF ước tính từ bảng vào-ra vào không gian làm việc / store the IO estimate of DIGITAL_COEF in --workspace (needs --digital, --territory, --period).")
@workspace_option
@click.option("--territory", default=None, metavar="KEY", help="Địa bàn của bảng (VN, 34:31) / territory the table describes, for --write-coef.")
@click.option("--period", type=PERIOD, default=None, metavar="PERIOD", help="Kỳ của bảng (2022, 2022-Q1) / period the table describes, for --write-coef.")
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
    from kinhteso.pipeline.io_estimates import IO_SOURCE  # noqa: PLC0415
    from kinhteso.service import io as S  # noqa: PLC0415

    factors = S.parse_factors(factor_specs)
    S.check_layout(z_path=z_path, x_path=x_path, table_path=table_path, factor_rows=bool(factor_rows))
    rows = S.parse_factor_rows(factor_rows)
    codes = None
    if digital is not None:
        codes = [c.strip() for c in digital.split(",") if c.strip()]
    req = S.IORequest(z_path=z_path, x_path=x_path, table_path=table_path, layout=layout, output_row=output_row,
                      geo=geo, time=time_, unit=unit, factor_rows=rows, y_path=y_path, factors=factors,
                      digital=codes, concordance_path=conc_path, va_factor=va_factor, investment_path=inv_path,
                      double_count=double_count, forward=forward, tables=out_dir is not None,
                      coef_workspace=workspace if write_coef else None, territory=territory, period=period)
    res = S.run_io(req)
    for w in res.warnings:
        click.echo(f"! {w['code']}: {tr(w['vi'], w['en'])}", err=True)
    # --- everything computed and the workspace written: report it, then write the files ---
    coef = res.coef
    if coef is not None:
        click.echo(tr(
            f"Đã lưu {res.coef_rows} giá trị DIGITAL_COEF (kết quả, trạng thái E, nguồn {IO_SOURCE}, lần chạy {res.coef_run}) "
            f"cho {coef.territory} {coef.period} vào {res.workspace_root}; sản phẩm số: {', '.join(coef.digital)}.",
            f"Stored {res.coef_rows} DIGITAL_COEF values (a result, status E, source {IO_SOURCE}, run {res.coef_run}) for "
            f"{coef.territory} {coef.period} in {res.workspace_root}; digital products: {', '.join(coef.digital)}.",
        ))
        for r in coef.by_vsic.itertuples(index=False):
            click.echo(f"  {r.vsic:<4} {fmt_number(r.value, 4):>8}  ← {r.industries}")
        for what, (vi, en) in {"unmapped": ("không có trong bảng chuyển đổi", "not in the concordance"),
                               "no_intermediate_consumption": ("không có chi phí trung gian",
                                                               "no intermediate consumption")}.items():
            if coef.skipped.get(what):
                click.echo(tr(f"Bỏ qua ({vi}): {', '.join(coef.skipped[what])}",
                              f"Skipped ({en}): {', '.join(coef.skipped[what])}"), err=True)
        if res.superseded:
            click.echo(tr(f"Ước tính mới được dùng thay giá trị đã có (nguồn khác, vẫn giữ nguyên) của: {', '.join(res.superseded)}",
                          f"The new estimate is used instead of existing values (other sources, kept as they are) of: "
                          f"{', '.join(res.superseded)}"),
                       err=True)
    if out_dir is None:
        return
    files = _files(res)
    _write_all(out_dir, files)
    click.echo(tr(f"Đã ghi {', '.join(files)} vào {out_dir} ({len(res.codes)} sản phẩm).",
                  f"Wrote {', '.join(files)} to {out_dir} ({len(res.codes)} products)."))
    if res.zero_output:
        click.echo(
            tr(
                f"Sản phẩm có đầu ra bằng 0 (hệ số bằng 0, số nhân nhân tố để trống): {', '.join(res.zero_output)}",
                f"Products with zero output (zero coefficients, factor multipliers left empty): {', '.join(res.zero_output)}",
            ),
            err=True,
        )


COMMANDS = [io_command]
