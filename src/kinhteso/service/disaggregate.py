"""Temporal disaggregation of an analyst's own CSV series: the service behind ``kinhteso disaggregate``.

:func:`run_disaggregate` reads ``LOW.csv`` (``period,value``) and optionally ``HIGH.csv``
(``period`` and one column per indicator), checks that the periods line up, runs
:func:`kinhteso.methods.temporal.td` (R tempdisagg 1.1.1 conventions) and returns the
high-frequency series and the summary of the fit. Bad input is refused whole, with every
problem named (file, row, series, periods). It prints nothing and writes no file.

>>> res = run_disaggregate(DisaggregateRequest(low=Path("sales_a.csv"),        # doctest: +SKIP
...                                            indicator=Path("exports_q.csv")))
>>> res.series.head(), res.summary["rho"]                                      # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kinhteso.errors import InputRejected, Problem, UsageError
from kinhteso.methods.temporal import td
from kinhteso.periods import BAD_PERIOD_EN, BAD_PERIOD_VI, FORMS, FREQUENCIES, Period, match_period

__all__ = ["TARGET_FREQUENCIES", "DisaggregateRequest", "DisaggregateResult", "PeriodSeries", "period_label",
           "read_series", "run_disaggregate"]

#: period style (the name of a form of kinhteso.periods) -> the form; a file keeps to one style
_STYLES = {f.name: f for f in FORMS}
#: the period a style is shown with (1975, 1975-Q1, 1975Q1, 1975-01...), as in R tempdisagg's examples
_STYLE_EXAMPLE = {"A": Period.of("A", 1975), "Q": Period.of("Q", 1975, 1), "M": Period.of("M", 1975, 1)}
#: ``to`` → periods per year of the target frequency
TARGET_FREQUENCIES = {"quarterly": 4, "monthly": 12}
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
    """(style, index) of a period written in any form of :mod:`kinhteso.periods`; the index
    counts periods of its frequency (``year × frequency + sub-period − 1``)."""
    found = match_period(text)
    return (found[0].name, found[1].ordinal) if found else None


def _style_label(style: str) -> str:
    form = _STYLES[style]
    return _STYLE_EXAMPLE[form.freq].format(form.template)


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
            problems.append(_p("PERIOD_FORMAT", BAD_PERIOD_VI.format(value=text), BAD_PERIOD_EN.format(value=text),
                               file, i + 2, "period"))
            continue
        styles.append((parsed[0], i))
        idx.append(parsed[1])
    if problems:
        raise InputRejected(problems, file=file)
    used = sorted({s for s, _ in styles})
    if len(used) > 1:
        examples = [f"{_style_label(s)} (dòng/row {next(i for t, i in styles if t == s) + 2})" for s in used]
        raise InputRejected([_p(
            "PERIOD_MIXED", f"Tệp trộn nhiều định dạng kỳ: {', '.join(examples)}; dùng một định dạng duy nhất.",
            f"The file mixes period formats: {', '.join(examples)}; use a single format.", file, None, "period")],
            file=file)
    freq = FREQUENCIES[_STYLES[used[0]].freq]
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


@dataclass(frozen=True, kw_only=True)
class DisaggregateRequest:
    """One temporal disaggregation (defaults as in R tempdisagg): the low-frequency file
    ``low``, the indicator file ``indicator`` (``None``: none, then ``to`` names the target
    frequency, ``quarterly`` or ``monthly``), the ``method``, the aggregation constraint
    ``conversion``, ρ of the ``*-fixed`` methods, the lower bound of ρ, Denton's differencing
    order ``h`` and ``criterion``, and whether the regression has an ``intercept``."""

    low: Path
    indicator: Path | None = None
    to: str | None = None
    method: str = "chow-lin-maxlog"
    conversion: str = "sum"
    fixed_rho: float = 0.5
    truncated_rho: float = 0.0
    h: int = 1
    criterion: str = "proportional"
    intercept: bool = True


@dataclass(frozen=True)
class DisaggregateResult:
    """``series``: the high-frequency series (``period``, ``value``); ``summary``: the fit
    (method, rho, coefficients, se, logl, rss, aic, bic…), the spans, the extrapolated periods
    and the low-frequency fit."""

    series: pd.DataFrame
    summary: dict


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
        f = TARGET_FREQUENCIES[to]
        if f <= low.freq:
            raise UsageError("TD_TO", f"--to {to} không cao hơn tần suất của chuỗi ({_FREQ_NAME[low.freq][0]}).",
                             f"--to {to} is not higher than the series' frequency ({_FREQ_NAME[low.freq][1]}).")
        fr = f // low.freq
        return fr, 0, low.n * fr
    f = high.freq
    if to is not None and TARGET_FREQUENCIES[to] != f:
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


def run_disaggregate(req: DisaggregateRequest) -> DisaggregateResult:
    """Read and check both files, line them up and disaggregate (:func:`kinhteso.methods.temporal.td`);
    raises ``InputRejected`` (every problem of a file) or ``UsageError``."""
    low = read_series(req.low, kind="low")
    high = read_series(req.indicator, kind="high") if req.indicator is not None else None
    fr, offset, n = _align(low, high, req.to)
    hf_start = low.start * fr - offset
    hf_freq = low.freq * fr
    labels_high = [period_label(hf_freq, hf_start + i) for i in range(n)]
    X = np.column_stack(list(high.columns.values())) if high is not None else None
    res = td(low.columns["value"], X, method=req.method, conversion=req.conversion, fr=fr, offset=offset,
             n_high=n, intercept=req.intercept, truncated_rho=req.truncated_rho, fixed_rho=req.fixed_rho,
             h=req.h, criterion=req.criterion,
             indicator_names=list(high.columns) if high is not None else None,
             series_name=Path(req.low).name, labels_low=low.labels(), labels_high=labels_high)
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
    return DisaggregateResult(series=frame, summary=summary)
