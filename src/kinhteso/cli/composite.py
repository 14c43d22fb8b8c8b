"""Composite-index commands: ``composite`` (build an index from COINr iData/iMeta CSVs) and
``uncertainty`` (rank intervals, Sobol indices and the design matrix).

Thin: parse the options into a settings object, read the CSVs, call
:mod:`kinhteso.methods.composite` / :mod:`kinhteso.methods.uncertainty`, write the outputs only
after everything succeeded (temp file, then rename).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.i18n import tr
from kinhteso.methods import composite as C
from kinhteso.methods import uncertainty as UA

__all__ = ["COMMANDS", "CompositeSettings", "build_index", "parse_impute", "parse_range", "parse_vary"]

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


@dataclass(frozen=True)
class CompositeSettings:
    """The choices of one ``kinhteso composite`` run, in the handbook's order."""

    denominate: bool = False
    impute: str = "none"
    impute_group: str | None = None
    screen_threshold: float | None = None
    treat: str = "none"
    normalise: str = "minmax"
    l_u: tuple[float, float] | None = None
    clip: bool | None = None
    aggregate: str = "arithmetic"


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


def parse_vary(text: str) -> dict[str, object]:
    """``"weights:0.25,normalise,aggregate"`` → the keyword arguments of :func:`uncertainty`."""
    out: dict[str, object] = {"weight_noise": 0.0, "exclude": False}
    for tok in [t.strip() for t in text.split(",") if t.strip()]:
        name, _, val = tok.partition(":")
        if name == "weights":
            try:
                out["weight_noise"] = float(val) if val else 0.25
            except ValueError:
                raise UsageError("BAD_VARY", f"--vary weights:{val}: mức nhiễu phải là số (vd. 0.25).",
                                 f"--vary weights:{val}: the noise must be a number (e.g. 0.25).") from None
        elif name in VARY_ALTERNATIVES and not val:
            out[name] = VARY_ALTERNATIVES[name]
        elif name == "exclude" and not val:
            out["exclude"] = True
        else:
            allowed = "weights:F, normalise, aggregate, impute, exclude"
            raise UsageError("BAD_VARY", f"--vary: '{tok}' không hợp lệ; dùng {allowed}.",
                             f"--vary: '{tok}' is not valid; use {allowed}.")
    return out


def build_index(idata: pd.DataFrame, imeta: pd.DataFrame, s: CompositeSettings) -> C.Coin:
    """Run the steps in the handbook's order: denominate, impute, screen, treat, normalise, aggregate."""
    return C.build(idata, imeta, denominate=s.denominate, impute=s.impute, impute_group=s.impute_group,
                   screen_threshold=s.screen_threshold, treat=s.treat, normalise=s.normalise, l_u=s.l_u,
                   clip=s.clip, aggregate=s.aggregate)


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        # codes stay text: a province code "01" must not become the number 1
        return pd.read_csv(path, encoding="utf-8-sig", dtype={"uCode": str, "iCode": str, "Parent": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputRejected([Problem("CSV_UNREADABLE", f"Không đọc được tệp {what} CSV: {exc}",
                                     f"Cannot read the {what} CSV file: {exc}", file=str(path))], file=str(path)) from exc


def _read_inputs(data: Path, meta: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    idata, imeta = _read_csv(data, "iData"), _read_csv(meta, "iMeta")
    imeta = C.check_imeta(imeta, file=str(meta))
    C.check_idata(idata, imeta, file=str(data))
    return idata, imeta


def _write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".csv", dir=path.parent)
    os.close(fd)
    try:
        df.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


_path = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("composite")
@click.option("--data", "data", type=_path, required=True, help="iData CSV (định dạng COINr / COINr format).")
@click.option("--meta", "meta", type=_path, required=True, help="iMeta CSV (+ cột Min, Max tùy chọn / optional Min, Max).")
@click.option("--denominate", is_flag=True, help="Chia cho mẫu số trong iMeta / divide by the iMeta denominators.")
@click.option("--impute", "impute", default="none", show_default=True, metavar="|".join(IMPUTE_CHOICES),
              help="Quy nạp giá trị thiếu / imputation.")
@click.option("--screen-threshold", "screen_threshold", type=click.FloatRange(0, 1), default=None,
              help="Giữ đơn vị có tỷ lệ dữ liệu ≥ F / keep units with data availability ≥ F.")
@click.option("--treat", "treat", type=click.Choice(["none", "winsorise"]), default="none", show_default=True,
              help="Xử lý ngoại lai (quy tắc COINr) / outlier treatment (COINr rule).")
@click.option("--normalise", "normalise", type=click.Choice(NORMALISE_CHOICES), default="minmax", show_default=True,
              help="Chuẩn hóa / normalisation.")
@click.option("--range", "range_", default=None, metavar="LO,HI",
              help="Khoảng đầu ra của minmax/goalposts (mặc định 0,100) / output range of minmax/goalposts (default 0,100).")
@click.option("--clip/--no-clip", "clip", default=None,
              help="Cắt về [cận dưới, cận trên] (goalposts, mặc định có) / truncate to the goalposts (default on).")
@click.option("--aggregate", "aggregate", type=click.Choice(AGGREGATE_CHOICES), default="arithmetic",
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
    method, group = parse_impute(impute)
    l_u = parse_range(range_)
    if C.NORMALISERS[normalise].ranged and l_u is None:
        l_u = (0.0, 100.0)
    settings = CompositeSettings(denominate=denominate, impute=method, impute_group=group,
                                 screen_threshold=screen_threshold, treat=treat, normalise=normalise,
                                 l_u=l_u, clip=clip, aggregate=aggregate)
    idata, imeta = _read_inputs(data, meta)
    coin = build_index(idata, imeta, settings)
    table = C.scores_long(coin)
    _write_csv_atomic(table, out)
    n_units = table["uCode"].nunique()
    click.echo(tr(f"Đã ghi {len(table)} dòng ({n_units} đơn vị, {table['iCode'].nunique()} chỉ số tổng hợp) vào {out}",
                  f"Wrote {len(table)} rows ({n_units} units, {table['iCode'].nunique()} aggregates) to {out}"))


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
    kw = parse_vary(vary)
    idata, imeta = _read_inputs(data, meta)
    coin = C.new_coin(idata, imeta)
    if coin.panel:
        raise UsageError("UA_PANEL", "Phân tích bất định chạy trên một kỳ; hãy lọc iData theo một giá trị Time.",
                         "Uncertainty analysis runs on one period; filter iData to one Time value.")
    res = UA.uncertainty(coin.data["Raw"], coin.meta, n=n, seed=seed, **kw)
    tables = {"rank_intervals.csv": res.rank_intervals, "sobol.csv": res.sobol, "design.csv": res.design_table()}
    for name, df in tables.items():
        _write_csv_atomic(df, out / name)
    click.echo(tr(f"Đã chạy {len(res.design)} lần; kết quả trong {out}",
                  f"Ran {len(res.design)} replications; results in {out}"))
    click.echo(res.sobol.to_string(index=False))


COMMANDS = [composite, uncertainty]
