"""``kinhteso disaggregate``: temporal disaggregation of an analyst's own CSV series.

Thin: parses the options into a :class:`~kinhteso.service.disaggregate.DisaggregateRequest`
and calls :func:`kinhteso.service.disaggregate.run_disaggregate`, which reads ``LOW.csv``
(``period,value``) and optionally ``HIGH.csv`` (``period`` and one column per indicator),
checks that the periods line up and runs :func:`kinhteso.methods.temporal.td` (R tempdisagg
1.1.1 conventions); then writes ``OUT.csv`` (``period,value``) and, if asked,
``SUMMARY.json``. Bad input is refused whole, with every problem named (file, row, series,
periods), exit code 1; nothing is written unless everything succeeded.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from kinhteso.cli._lazy import LazyChoice

__all__ = ["COMMANDS", "disaggregate"]


def _write_atomically(outputs: list[tuple[Path, str]]) -> None:
    """Write every file to a temporary sibling first, then rename them all into place
    (:func:`kinhteso.safe_io.write_files_atomic`: never through a symbolic link)."""
    from kinhteso.safe_io import write_files_atomic  # noqa: PLC0415

    write_files_atomic(outputs)


def _json_value(o):
    # the summary holds numpy numbers, so numpy is loaded by the time this runs
    import numpy as np  # noqa: PLC0415

    if isinstance(o, (np.floating, float)):
        return None if not math.isfinite(float(o)) else float(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    return str(o)


@click.command("disaggregate")
@click.option("--low", "low", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="LOW.csv: period,value (năm hoặc quý / annual or quarterly).")
@click.option("--indicator", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HIGH.csv: period + một cột mỗi chỉ số / one column per indicator.")
@click.option("--to", type=LazyChoice.of("kinhteso.service.disaggregate", "TARGET_FREQUENCIES"), default=None,
              help="Tần suất đích khi không có chỉ số / target frequency without an indicator.")
@click.option("--method", type=LazyChoice.of("kinhteso.methods.temporal", "METHODS"), default="chow-lin-maxlog", show_default=True,
              help="Phương pháp (R tempdisagg) / method.")
@click.option("--conversion", type=LazyChoice.of("kinhteso.methods.temporal", "CONVERSIONS"), default="sum", show_default=True,
              help="Ràng buộc gộp / aggregation constraint.")
@click.option("--fixed-rho", type=float, default=0.5, show_default=True,
              help="ρ cho *-fixed / ρ of chow-lin-fixed, litterman-fixed.")
@click.option("--truncated-rho", type=float, default=0.0, show_default=True,
              help="Cận dưới của ρ (−1: không cắt) / lower bound of ρ (−1: no truncation).")
@click.option("--h", "h", type=click.IntRange(0, 2), default=1, show_default=True,
              help="Bậc sai phân Denton / Denton differencing order.")
@click.option("--criterion", type=LazyChoice.of("kinhteso.methods.temporal", "CRITERIA"), default="proportional", show_default=True,
              help="Tiêu chí Denton / Denton criterion.")
@click.option("--no-intercept", is_flag=True, default=False,
              help="Hồi quy không có hệ số chặn / regression without an intercept.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OUT.csv: period,value.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SUMMARY.json: method, rho, coefficients, se, logl, rss, aic, bic…")
def disaggregate(low, indicator, to, method, conversion, fixed_rho, truncated_rho, h, criterion,
                 no_intercept, out, summary):
    """Chia nhỏ chuỗi năm/quý thành quý/tháng (R tempdisagg).

    Temporal disaggregation of an annual or quarterly series to quarters or months with an
    indicator (Chow-Lin, Fernández, Litterman, OLS) or without (Denton-Cholette, uniform),
    as R tempdisagg 1.1.1 computes it.

    \b
    kinhteso disaggregate --low sales_a.csv --indicator exports_q.csv --out sales_q.csv
    kinhteso disaggregate --low sales_a.csv --to quarterly --method denton-cholette --out q.csv
    """
    from kinhteso.service.disaggregate import DisaggregateRequest, run_disaggregate  # noqa: PLC0415

    req = DisaggregateRequest(
        low=low, indicator=indicator, to=to, method=method, conversion=conversion,
        fixed_rho=fixed_rho, truncated_rho=truncated_rho, h=h, criterion=criterion,
        intercept=not no_intercept)
    res = run_disaggregate(req)
    frame, summ = res.series, res.summary
    from kinhteso.safe_io import safe_cell  # noqa: PLC0415

    # the values keep repr's 17 significant digits; the period labels are neutralised like any text
    csv_text = "period,value\n" + "".join(f"{safe_cell(p)},{v!r}\n" for p, v in zip(frame["period"].tolist(), frame["value"].astype(float).tolist()))
    outputs = [(out, csv_text)]
    if summary is not None:
        outputs.append((summary, json.dumps(summ, ensure_ascii=False, indent=2, default=_json_value) + "\n"))
    _write_atomically(outputs)
    click.echo(f"{out}: {len(frame)} periods ({summ['method']}"
               + (f", rho = {summ['rho']:.6f}" if summ["rho"] is not None else "") + ")")


COMMANDS = [disaggregate]
