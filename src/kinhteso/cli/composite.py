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
from kinhteso.cli._progress import progress_bar
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


def _aggregate_metavar() -> str:
    from kinhteso.service.composite import AGGREGATE_CHOICES  # noqa: PLC0415

    return "|".join(AGGREGATE_CHOICES) + "|LEVEL:NAME,..."


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
@click.option("--screen-nonzero", "screen_nonzero", type=click.FloatRange(0, 1), default=None,
              help="Giữ đơn vị có tỷ lệ giá trị khác 0 (trong số có dữ liệu) ≥ F (COINr nonzero_thresh) / "
                   "keep units whose share of non-zero values among the available ones is ≥ F (COINr nonzero_thresh).")
@click.option("--treat", "treat", type=click.Choice(["none", "winsorise"]), default="none", show_default=True,
              help="Xử lý ngoại lai (quy tắc COINr) / outlier treatment (COINr rule).")
@click.option("--winmax", "winmax", type=click.IntRange(min=0), default=5, show_default=True,
              help="Số điểm tối đa được winsorise mỗi chỉ tiêu / most points winsorised per indicator.")
@click.option("--skew-thresh", "skew_thresh", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Ngưỡng |độ lệch| / absolute skewness threshold.")
@click.option("--kurt-thresh", "kurt_thresh", type=float, default=3.5, show_default=True,
              help="Ngưỡng độ nhọn / kurtosis threshold.")
@click.option("--normalise", "normalise", type=LazyChoice(_normalise_choices), default="minmax", show_default=True,
              help="Chuẩn hóa / normalisation.")
@click.option("--range", "range_", default=None, metavar="LO,HI",
              help="Khoảng đầu ra của minmax/goalposts (mặc định 0,100) / output range of minmax/goalposts (default 0,100).")
@click.option("--m-sd", "m_sd", default=None, metavar="M,SD",
              help="Trung bình và độ lệch chuẩn của zscore (mặc định 0,1) / mean and s.d. of zscore (default 0,1).")
@click.option("--clip/--no-clip", "clip", default=None,
              help="Cắt về [cận dưới, cận trên] (goalposts, mặc định có) / truncate to the goalposts (default on).")
@click.option("--aggregate", "aggregate", default="arithmetic", show_default=True, cls=LazyOption,
              lazy_metavar=_aggregate_metavar,
              help="Phép tổng hợp, một cho mọi cấp hoặc theo cấp (vd. 2:geometric,3:arithmetic) / "
                   "aggregation, one for every level or per level (e.g. 2:geometric,3:arithmetic).")
@click.option("--dat-thresh", "dat_thresh", default=None, metavar="F|LEVEL:F,...",
              help="Điểm nhóm là NA khi tỷ lệ thành phần có dữ liệu < F, một cho mọi cấp hoặc theo cấp / "
                   "an aggregate is NA when its share of available children is < F, one for every level or per level.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV kết quả: uCode, iCode, Level, score, rank / output CSV.")
def composite(data: Path, meta: Path, denominate: bool, impute: str, screen_threshold: float | None,
              screen_nonzero: float | None, treat: str, winmax: int, skew_thresh: float, kurt_thresh: float,
              normalise: str, range_: str | None, m_sd: str | None, clip: bool | None, aggregate: str,
              dat_thresh: str | None, out: Path) -> None:
    """Tính chỉ số tổng hợp theo các bước của Sổ tay JRC/OECD (COINr).

    Builds a composite index from COINr-format iData/iMeta CSVs: denominate, impute, screen,
    treat, normalise, aggregate; writes every aggregate's score and rank (1 = best, ties share
    the lower rank).
    """
    from kinhteso.service import composite as S  # noqa: PLC0415

    method, group = S.parse_impute(impute)
    req = S.CompositeRequest(data=data, meta=meta, denominate=denominate, impute=method, impute_group=group,
                             screen_threshold=screen_threshold, screen_nonzero=screen_nonzero, treat=treat,
                             winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh, normalise=normalise,
                             l_u=S.parse_range(range_, normalise=normalise), m_sd=S.parse_m_sd(m_sd), clip=clip,
                             aggregate=S.parse_levels(aggregate, "--aggregate"),
                             dat_thresh=S.parse_levels(dat_thresh, "--dat-thresh", float))
    res = S.run_composite(req)
    table = res.scores
    _write_csv_atomic(table, out)
    click.echo(tr(f"Đã ghi {len(table)} dòng ({res.n_units} đơn vị, {res.n_aggregates} chỉ số tổng hợp) vào {out}",
                  f"Wrote {len(table)} rows ({res.n_units} units, {res.n_aggregates} aggregates) to {out}"))


@click.command("uncertainty")
@click.option("--data", "data", type=_path, required=True, help="iData CSV (định dạng COINr / COINr format).")
@click.option("--meta", "meta", type=_path, required=True, help="iMeta CSV.")
@click.option("--n", "n", type=click.IntRange(min=2), required=True,
              help="Cỡ mẫu N (thiết kế Sobol: N·(D+2) lần chạy; ngẫu nhiên: N lần) / sample size N "
                   "(Sobol design: N·(D+2) runs; random: N runs).")
@click.option("--design", "design", type=click.Choice(["sobol", "random"]), default="sobol", show_default=True,
              help="sobol: thiết kế Saltelli và chỉ số Sobol; random: N lần Monte Carlo (COINr SA_type = \"UA\") / "
                   "sobol: Saltelli design and Sobol indices; random: N Monte Carlo runs (COINr SA_type = \"UA\").")
@click.option("--vary", "vary", default="weights:0.25,normalise,aggregate", show_default=True,
              help="Yếu tố bất định: weights:F (mọi cấp) hoặc weights:F@CẤP (một cấp), normalise, aggregate, impute, "
                   "exclude / uncertain inputs: weights:F (every level) or weights:F@LEVEL (one level), normalise, "
                   "aggregate, impute, exclude.")
@click.option("--seed", "seed", type=int, default=0, show_default=True, help="Hạt giống ngẫu nhiên / random seed.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Thư mục kết quả (rank_intervals.csv, design.csv; sobol.csv khi --design sobol) / output directory "
                   "(rank_intervals.csv, design.csv; sobol.csv with --design sobol).")
def uncertainty(data: Path, meta: Path, n: int, design: str, vary: str, seed: int, out: Path) -> None:
    """Phân tích bất định và độ nhạy (Monte Carlo, chỉ số Sobol).

    Uncertainty and sensitivity analysis: rank intervals (5th-95th percentile), Sobol first-order
    and total indices, and the full design matrix.
    """
    from kinhteso.service import composite as S  # noqa: PLC0415

    req = S.UncertaintyRequest(data=data, meta=meta, n=n, seed=seed, design=design, **S.parse_vary(vary))
    with progress_bar(tr("Phân tích bất định", "Uncertainty analysis")) as progress:
        res = S.run_uncertainty(req, progress=progress)
    from kinhteso.safe_io import csv_text, write_files_atomic  # noqa: PLC0415

    tables = {"rank_intervals.csv": res.rank_intervals, "design.csv": res.design}
    if res.sobol is not None:
        tables["sobol.csv"] = res.sobol
    write_files_atomic([(out / name, csv_text(df)) for name, df in tables.items()])
    click.echo(tr(f"Đã chạy {res.runs} lần; kết quả trong {out}",
                  f"Ran {res.runs} replications; results in {out}"))
    if res.sobol is not None:
        click.echo(_sobol_text(res.sobol))


def _sobol_text(sobol: pd.DataFrame) -> str:
    """The Sobol table as aligned text (a few rows; ``DataFrame.to_string`` costs more than the
    analysis of a small index)."""
    cols = list(sobol.columns)
    cells = [cols] + [[str(r[0])] + [f"{v:.6f}" for v in r[1:]] for r in sobol.itertuples(index=False)]
    width = [max(len(row[j]) for row in cells) for j in range(len(cols))]
    return "\n".join(" ".join(c.rjust(w) for c, w in zip(row, width)) for row in cells)


COMMANDS = [composite, uncertainty]
