"""Composite-index commands: ``composite`` (build an index from COINr iData/iMeta CSVs) and
``uncertainty`` (rank intervals, Sobol indices and the design matrix).

Thin: parse the options into a request of :mod:`kinhteso.service.composite`, call it (it reads
and checks the CSVs and runs :mod:`kinhteso.methods.composite` /
:mod:`kinhteso.methods.uncertainty`), write the outputs only after everything succeeded (temp
file, then rename).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from kinhteso.cli._lazy import LazyChoice, LazyOption
from kinhteso.i18n import tr

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMANDS", "composite", "uncertainty"]


def _impute_metavar() -> str:
    from kinhteso.service.composite import IMPUTE_CHOICES  # noqa: PLC0415

    return "|".join(IMPUTE_CHOICES)


def _normalise_choices() -> tuple[str, ...]:
    from kinhteso.service.composite import NORMALISE_CHOICES  # noqa: PLC0415

    return NORMALISE_CHOICES


def _aggregate_choices() -> tuple[str, ...]:
    from kinhteso.service.composite import AGGREGATE_CHOICES  # noqa: PLC0415

    return AGGREGATE_CHOICES


def _write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` atomically, safe to open in a spreadsheet (:mod:`kinhteso.safe_io`)."""
    from kinhteso.safe_io import write_csv_atomic  # noqa: PLC0415

    write_csv_atomic(path, df)


_path = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("composite")
@click.option("--data", "data", type=_path, required=True, help="iData CSV (định dạng COINr / COINr format).")
@click.option("--meta", "meta", type=_path, required=True, help="iMeta CSV (+ cột Min, Max tùy chọn / optional Min, Max).")
@click.option("--denominate", is_flag=True, help="Chia cho mẫu số trong iMeta / divide by the iMeta denominators.")
@click.option("--impute", "impute", default="none", show_default=True, cls=LazyOption, lazy_metavar=_impute_metavar,
              help="Quy nạp giá trị thiếu / imputation.")
@click.option("--screen-threshold", "screen_threshold", type=click.FloatRange(0, 1), default=None,
              help="Giữ đơn vị có tỷ lệ dữ liệu ≥ F / keep units with data availability ≥ F.")
@click.option("--treat", "treat", type=click.Choice(["none", "winsorise"]), default="none", show_default=True,
              help="Xử lý ngoại lai (quy tắc COINr) / outlier treatment (COINr rule).")
@click.option("--normalise", "normalise", type=LazyChoice(_normalise_choices), default="minmax", show_default=True,
              help="Chuẩn hóa / normalisation.")
@click.option("--range", "range_", default=None, metavar="LO,HI",
              help="Khoảng đầu ra của minmax/goalposts (mặc định 0,100) / output range of minmax/goalposts (default 0,100).")
@click.option("--clip/--no-clip", "clip", default=None,
              help="Cắt về [cận dưới, cận trên] (goalposts, mặc định có) / truncate to the goalposts (default on).")
@click.option("--aggregate", "aggregate", type=LazyChoice(_aggregate_choices), default="arithmetic",
              show_default=True, help="Phép tổng hợp / aggregation.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV kết quả: uCode, iCode, Level, score, rank / output CSV.")
def composite(data: Path, meta: Path, denominate: bool, impute: str, screen_threshold: float | None,
              treat: str, normalise: str, range_: str | None, clip: bool | None, aggregate: str, out: Path) -> None:
    """Tính chỉ số tổng hợp theo các bước của Sổ tay JRC/OECD (COINr).

    Builds a composite index from COINr-format iData/iMeta CSVs: denominate, impute, screen,
    treat, normalise, aggregate; writes every aggregate's score and rank (1 = best, ties share
    the lower rank).
    """
    from kinhteso.service import composite as S  # noqa: PLC0415

    method, group = S.parse_impute(impute)
    l_u = S.parse_range(range_)
    req = S.CompositeRequest(data=data, meta=meta, denominate=denominate, impute=method, impute_group=group,
                             screen_threshold=screen_threshold, treat=treat, normalise=normalise, l_u=l_u, clip=clip,
                             aggregate=aggregate)
    res = S.run_composite(req)
    table = res.scores
    _write_csv_atomic(table, out)
    click.echo(tr(f"Đã ghi {len(table)} dòng ({res.n_units} đơn vị, {res.n_aggregates} chỉ số tổng hợp) vào {out}",
                  f"Wrote {len(table)} rows ({res.n_units} units, {res.n_aggregates} aggregates) to {out}"))


@click.command("uncertainty")
@click.option("--data", "data", type=_path, required=True, help="iData CSV (định dạng COINr / COINr format).")
@click.option("--meta", "meta", type=_path, required=True, help="iMeta CSV.")
@click.option("--n", "n", type=click.IntRange(min=2), required=True,
              help="Cỡ mẫu cơ sở N (thiết kế Sobol: N·(D+2) lần chạy) / base sample size N (Sobol design: N·(D+2) runs).")
@click.option("--vary", "vary", default="weights:0.25,normalise,aggregate", show_default=True,
              help="Yếu tố bất định: weights:F, normalise, aggregate, impute, exclude / uncertain inputs.")
@click.option("--seed", "seed", type=int, default=0, show_default=True, help="Hạt giống ngẫu nhiên / random seed.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Thư mục kết quả / output directory (rank_intervals.csv, sobol.csv, design.csv).")
def uncertainty(data: Path, meta: Path, n: int, vary: str, seed: int, out: Path) -> None:
    """Phân tích bất định và độ nhạy (Monte Carlo, chỉ số Sobol).

    Uncertainty and sensitivity analysis: rank intervals (5th-95th percentile), Sobol first-order
    and total indices, and the full design matrix.
    """
    from kinhteso.service import composite as S  # noqa: PLC0415

    req = S.UncertaintyRequest(data=data, meta=meta, n=n, seed=seed, **S.parse_vary(vary))
    res = S.run_uncertainty(req)
    from kinhteso.safe_io import csv_text, write_files_atomic  # noqa: PLC0415

    tables = {"rank_intervals.csv": res.rank_intervals, "sobol.csv": res.sobol, "design.csv": res.design}
    write_files_atomic([(out / name, csv_text(df)) for name, df in tables.items()])
    click.echo(tr(f"Đã chạy {res.runs} lần; kết quả trong {out}",
                  f"Ran {res.runs} replications; results in {out}"))
    click.echo(res.sobol.to_string(index=False))


COMMANDS = [composite, uncertainty]
