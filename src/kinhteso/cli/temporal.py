"""``kinhteso disaggregate``: temporal disaggregation of an analyst's own CSV series.

Reads ``LOW.csv`` (``period,value``) and optionally ``HIGH.csv`` (``period`` and one column
per indicator), checks that the periods line up, runs :func:`kinhteso.methods.temporal.td`
(R tempdisagg 1.1.1 conventions) and writes ``OUT.csv`` (``period,value``) and, if asked,
``SUMMARY.json``. Bad input is refused whole, with every problem named (file, row, series,
periods), exit code 1; nothing is written unless everything succeeded.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pandas as pd

from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.methods.temporal import CONVERSIONS, CRITERIA, METHODS, td

__all__ = ["COMMANDS", "disaggregate", "DisaggregateSettings", "PeriodSeries", "read_series",
           "run_disaggregate"]

#: period style -> (frequency per year, regex, label of the style)
_STYLES = {
    "year": (1, re.compile(r"^(\d{4})$"), "1975"),
    "quarter-dash": (4, re.compile(r"^(\d{4})-Q([1-4])$"), "1975-Q1"),
    "quarter": (4, re.compile(r"^(\d{4})Q([1-4])$"), "1975Q1"),
    "month": (12, re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "1975-01"),
}
_TO = {"quarterly": 4, "monthly": 12}
_FREQ_NAME = {1: ("năm", "annual"), 4: ("quý", "quarterly"), 12: ("tháng", "monthly")}
_NA = {"", "na", "nan", "n/a", "null", "#n/a", "."}


def period_label(freq: int, index: int) -> str:
    """SDMX TIME_PERIOD label of a period index (``1975``, ``1975-Q1``, ``1975-01``)."""
    if freq == 1:
        return str(index)
    if freq == 4:
        return f"{index // 4}-Q{index % 4 + 1}"
    return f"{index // 12}-{index % 12 + 1:02d}"


def _parse_period(text: str) -> tuple[str, int] | None:
    for style, (freq, rx, _) in _STYLES.items():
        m = rx.match(text)
        if m:
            year = int(m.group(1))
            sub = int(m.group(2)) - 1 if freq > 1 else 0
            return style, year * freq + sub
    return None


@dataclass
class PeriodSeries:
    """Columns of numbers on consecutive periods of one frequency."""

    file: str
    freq: int
    start: int
    columns: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(next(iter(self.columns.values())))

    def labels(self) -> list[str]:
        return [period_label(self.freq, self.start + i) for i in range(self.n)]


def _p(code: str, vi: str, en: str, file: str, row: int | None = None, column: str = "") -> Problem:
    return Problem(code, vi, en, file=file, row=row, column=column)


def _short(items: list[str], k: int = 8) -> str:
    return ", ".join(items[:k]) + (f" (+{len(items) - k})" if len(items) > k else "")


def read_series(path: Path, *, kind: str) -> PeriodSeries:
    """Read ``LOW.csv`` (``kind='low'``: ``period,value``) or ``HIGH.csv`` (``kind='high'``:
    ``period`` + indicator columns), checking periods and values; raises InputRejected."""
    file = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputRejected([_p("CSV_UNREADABLE", f"Không đọc được tệp CSV: {exc}",
                                f"The CSV file cannot be read: {exc}", file)], file=file) from exc
    df.columns = [c.strip() for c in df.columns]
    problems: list[Problem] = []
    if "period" not in df.columns:
        problems.append(_p("CSV_NO_PERIOD", "Thiếu cột 'period' (kỳ: 1975, 1975-Q1 hoặc 1975-01).",
                           "Column 'period' is missing (periods such as 1975, 1975-Q1 or 1975-01).", file))
    value_cols = ["value"] if kind == "low" else [c for c in df.columns if c != "period"]
    if kind == "low" and "value" not in df.columns:
        problems.append(_p("CSV_NO_VALUE", "Thiếu cột 'value'; tệp tần suất thấp có dạng period,value.",
                           "Column 'value' is missing; the low-frequency file is period,value.", file))
    if kind == "high" and not value_cols:
        problems.append(_p("CSV_NO_INDICATOR", "Không có cột chỉ số nào ngoài 'period'.",
                           "No indicator column besides 'period'.", file))
    if problems:
        raise InputRejected(problems, file=file)
    if len(df) == 0:
        raise InputRejected([_p("CSV_EMPTY", "Tệp không có dòng dữ liệu nào.", "The file has no data rows.", file)],
                            file=file)
    # --- periods -------------------------------------------------------------------------
    styles, idx = [], []
    for i, text in enumerate(df["period"].str.strip()):
        parsed = _parse_period(text)
        if parsed is None:
            problems.append(_p("PERIOD_FORMAT", f"Kỳ '{text}' không hợp lệ; dùng 1975, 1975-Q1 (hoặc 1975Q1) hay 1975-01.",
                               f"Period '{text}' is not valid; use 1975, 1975-Q1 (or 1975Q1) or 1975-01.",
                               file, i + 2, "period"))
            continue
        styles.append((parsed[0], i))
        idx.append(parsed[1])
    if problems:
        raise InputRejected(problems, file=file)
    used = sorted({s for s, _ in styles})
    if len(used) > 1:
        examples = [f"{_STYLES[s][2]} (dòng/row {next(i for t, i in styles if t == s) + 2})" for s in used]
        raise InputRejected([_p(
            "PERIOD_MIXED", f"Tệp trộn nhiều định dạng kỳ: {', '.join(examples)}; dùng một định dạng duy nhất.",
            f"The file mixes period formats: {', '.join(examples)}; use a single format.", file, None, "period")],
            file=file)
    freq = _STYLES[used[0]][0]
    idx_arr = np.array(idx)
    labels = [period_label(freq, k) for k in idx_arr]
    seen: dict[int, int] = {}
    for row, k in enumerate(idx_arr):
        if k in seen:
            problems.append(_p("PERIOD_DUPLICATE", f"Kỳ {labels[row]} lặp lại (đã có ở dòng {seen[k] + 2}).",
                               f"Period {labels[row]} appears twice (already on row {seen[k] + 2}).",
                               file, row + 2, "period"))
        seen.setdefault(k, row)
    if problems:
        raise InputRejected(problems, file=file)
    if np.any(np.diff(idx_arr) < 0):
        order = np.argsort(idx_arr, kind="stable")
        df, idx_arr = df.iloc[order].reset_index(drop=True), idx_arr[order]
    missing = sorted(set(range(idx_arr[0], idx_arr[-1] + 1)) - set(idx_arr.tolist()))
    if missing:
        names = _short([period_label(freq, k) for k in missing])
        problems.append(_p("PERIOD_GAP", f"Thiếu kỳ ở giữa chuỗi: {names}; các kỳ phải liên tục.",
                           f"Periods are missing in the middle of the series: {names}; periods must be consecutive.",
                           file, None, "period"))
    # --- values ---------------------------------------------------------------------------
    columns: dict[str, np.ndarray] = {}
    for col in value_cols:
        raw = df[col].str.strip()
        vals = np.full(len(raw), np.nan)
        na_periods, bad = [], []
        for i, text in enumerate(raw):
            if text.lower() in _NA:
                na_periods.append(period_label(freq, idx_arr[i]))
                continue
            try:
                v = float(text)
            except ValueError:
                bad.append(i)
                problems.append(_p("VALUE_NOT_NUMBER", f"Giá trị '{text}' không phải là số.",
                                   f"Value '{text}' is not a number.", file, i + 2, col))
                continue
            if not math.isfinite(v):
                na_periods.append(period_label(freq, idx_arr[i]))
                continue
            vals[i] = v
        if na_periods:
            series = "value" if kind == "low" else col
            problems.append(_p(
                "VALUE_NA", f"Chuỗi '{series}' thiếu giá trị (NA) ở kỳ: {_short(na_periods)}.",
                f"Series '{series}' has missing (NA) values at: {_short(na_periods)}.", file, None, col))
        columns[col] = vals
    if problems:
        raise InputRejected(problems, file=file)
    return PeriodSeries(file, freq, int(idx_arr[0]), columns)


@dataclass
class DisaggregateSettings:
    """The options of ``kinhteso disaggregate`` (defaults as in R tempdisagg)."""

    low: Path
    out: Path
    indicator: Path | None = None
    to: str | None = None
    method: str = "chow-lin-maxlog"
    conversion: str = "sum"
    fixed_rho: float = 0.5
    truncated_rho: float = 0.0
    h: int = 1
    criterion: str = "proportional"
    intercept: bool = True
    summary: Path | None = None


def _align(low: PeriodSeries, high: PeriodSeries | None, to: str | None) -> tuple[int, int, int]:
    """(fr, offset, n) of the high-frequency span relative to the low series; rejects what
    does not line up."""
    if low.freq == 12:
        raise InputRejected([_p("LOW_FREQUENCY", "Chuỗi tần suất thấp phải là năm hoặc quý, không phải tháng.",
                                "The low-frequency series must be annual or quarterly, not monthly.",
                                low.file, None, "period")], file=low.file)
    if high is None:
        if to is None:
            raise UsageError("TD_TO_REQUIRED", "Không có chỉ số (--indicator): cần --to quarterly hoặc --to monthly.",
                             "No indicator (--indicator): --to quarterly or --to monthly is required.")
        f = _TO[to]
        if f <= low.freq:
            raise UsageError("TD_TO", f"--to {to} không cao hơn tần suất của chuỗi ({_FREQ_NAME[low.freq][0]}).",
                             f"--to {to} is not higher than the series' frequency ({_FREQ_NAME[low.freq][1]}).")
        fr = f // low.freq
        return fr, 0, low.n * fr
    f = high.freq
    if to is not None and _TO[to] != f:
        raise UsageError("TD_TO", f"--to {to} không khớp với chỉ số ({_FREQ_NAME[f][0]}).",
                         f"--to {to} does not match the indicator, which is {_FREQ_NAME[f][1]}.")
    if f <= low.freq:
        raise InputRejected([_p(
            "FREQUENCY", f"Chỉ số ({_FREQ_NAME[f][0]}) phải có tần suất cao hơn chuỗi ({_FREQ_NAME[low.freq][0]}).",
            f"The indicator ({_FREQ_NAME[f][1]}) must have a higher frequency than the series ({_FREQ_NAME[low.freq][1]}).",
            high.file, None, "period")], file=high.file)
    fr = f // low.freq
    offset = low.start * fr - high.start
    lab = low.labels()
    uncovered = [lab[i] for i in range(low.n)
                 if offset + i * fr < 0 or offset + (i + 1) * fr > high.n]
    if uncovered:
        hl = high.labels()
        raise InputRejected([_p(
            "SPAN",
            f"Chỉ số chỉ có từ {hl[0]} đến {hl[-1]}, không phủ các kỳ của chuỗi tần suất thấp: {_short(uncovered)}. "
            "Cắt chuỗi tần suất thấp hoặc bổ sung chỉ số.",
            f"The indicator runs from {hl[0]} to {hl[-1]} only and does not cover these low-frequency periods: "
            f"{_short(uncovered)}. Shorten the low-frequency series or extend the indicator.",
            high.file, None, "period")], file=high.file)
    return fr, offset, high.n


def run_disaggregate(s: DisaggregateSettings) -> tuple[pd.DataFrame, dict]:
    """Read, check and disaggregate; returns the output frame and the summary (writes nothing)."""
    low = read_series(s.low, kind="low")
    high = read_series(s.indicator, kind="high") if s.indicator is not None else None
    fr, offset, n = _align(low, high, s.to)
    hf_start = low.start * fr - offset
    hf_freq = low.freq * fr
    labels_high = [period_label(hf_freq, hf_start + i) for i in range(n)]
    X = np.column_stack(list(high.columns.values())) if high is not None else None
    res = td(low.columns["value"], X, method=s.method, conversion=s.conversion, fr=fr, offset=offset,
             n_high=n, intercept=s.intercept, truncated_rho=s.truncated_rho, fixed_rho=s.fixed_rho,
             h=s.h, criterion=s.criterion,
             indicator_names=list(high.columns) if high is not None else None,
             series_name=Path(s.low).name, labels_low=low.labels(), labels_high=labels_high)
    frame = pd.DataFrame({"period": labels_high, "value": res.series})
    summary = res.summary()
    summary.update({
        "from": _FREQ_NAME[low.freq][1], "to": _FREQ_NAME[hf_freq][1],
        "low_span": [low.labels()[0], low.labels()[-1]],
        "high_span": [labels_high[0], labels_high[-1]],
        "extrapolated": [p for p, f in zip(labels_high, res.flags) if f == "extrapolated"],
        "low_fit": [{"period": p, "actual": float(a), "fitted": float(f), "residual": float(r)}
                    for p, a, f, r in zip(low.labels(), low.columns["value"], res.fitted_low,
                                          res.residual_low)],
    })
    return frame, summary


def _write_atomically(outputs: list[tuple[Path, str]]) -> None:
    """Write every file to a temporary sibling first, then rename them all into place."""
    temps = []
    try:
        for path, text in outputs:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _json_value(o):
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
@click.option("--to", type=click.Choice(list(_TO)), default=None,
              help="Tần suất đích khi không có chỉ số / target frequency without an indicator.")
@click.option("--method", type=click.Choice(list(METHODS)), default="chow-lin-maxlog", show_default=True,
              help="Phương pháp (R tempdisagg) / method.")
@click.option("--conversion", type=click.Choice(list(CONVERSIONS)), default="sum", show_default=True,
              help="Ràng buộc gộp / aggregation constraint.")
@click.option("--fixed-rho", type=float, default=0.5, show_default=True,
              help="ρ cho *-fixed / ρ of chow-lin-fixed, litterman-fixed.")
@click.option("--truncated-rho", type=float, default=0.0, show_default=True,
              help="Cận dưới của ρ (−1: không cắt) / lower bound of ρ (−1: no truncation).")
@click.option("--h", "h", type=click.IntRange(0, 2), default=1, show_default=True,
              help="Bậc sai phân Denton / Denton differencing order.")
@click.option("--criterion", type=click.Choice(list(CRITERIA)), default="proportional", show_default=True,
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
    settings = DisaggregateSettings(
        low=low, out=out, indicator=indicator, to=to, method=method, conversion=conversion,
        fixed_rho=fixed_rho, truncated_rho=truncated_rho, h=h, criterion=criterion,
        intercept=not no_intercept, summary=summary)
    frame, summ = run_disaggregate(settings)
    csv_text = "period,value\n" + "".join(f"{p},{v!r}\n" for p, v in zip(frame["period"].tolist(), frame["value"].astype(float).tolist()))
    outputs = [(out, csv_text)]
    if summary is not None:
        outputs.append((summary, json.dumps(summ, ensure_ascii=False, indent=2, default=_json_value) + "\n"))
    _write_atomically(outputs)
    click.echo(f"{out}: {len(frame)} periods ({summ['method']}"
               + (f", rho = {summ['rho']:.6f}" if summ["rho"] is not None else "") + ")")


COMMANDS = [disaggregate]
