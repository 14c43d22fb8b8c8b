"""Ingest one file: read → validate → normalise → store as one vintage, or refuse it whole.

The file is staged in DuckDB as text (:class:`kinhteso.store.Stage`). The few *distinct* codes
of each key column are resolved here, in Python, against the reference data (territory names and
codes on both bases, VSIC, the indicator registry, periods); the resolved mappings go back to the
stage as small data frames, which finds the rows of every problem and normalises the rows, and
when there is none the store copies them in as one vintage, in one transaction. So a
million-row file is validated at DuckDB's speed and every problem still names its row and
column. This module hands the stage data (column names, mappings, the decimal mark, the merger
date, limits) and writes no SQL: the store is the only code that speaks it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from concurrent.futures import ThreadPoolExecutor
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kinhteso.domain import MERGER_DATE, OBS_STATUSES
from kinhteso.errors import InputRejected, Problem
from kinhteso.ingest.readers import prepare, read_header
from kinhteso.ingest.rules import problem
from kinhteso.periods import parse_period
from kinhteso.reference import territories as terr
from kinhteso.reference import vsic
from kinhteso.reference.indicators import Indicator
from kinhteso.store import Stage, StagingError, Store, VintageInfo

__all__ = [
    "IngestResult",
    "ingest_file",
    "parse_period",
    "LONG_REQUIRED",
    "LONG_OPTIONAL",
    "MERGER_DATE",
    "MAX_PROBLEMS",
]

LONG_REQUIRED = ("indicator", "territory", "basis", "sector", "period", "value", "unit")
LONG_OPTIONAL = ("price_basis", "status", "note")
#: Columns that kinhteso's own exports carry: accepted and not stored, so an export can be ingested again.
EXPORT_ONLY = ("vintage", "source", "illustrative", "backcast", "derived_from")
WIDE_REQUIRED = ("indicator", "territory", "basis", "sector", "unit")
PRICE_BASES = {"current": "current", "constant_2010": "constant_2010", "": "current",
               "hien_hanh": "current", "ss2010": "constant_2010", "constant": "constant_2010"}
STATUSES = OBS_STATUSES
# MERGER_DATE (kinhteso.domain) and parse_period (kinhteso.periods) stay importable from here.
#: At most this many problems are listed for one file (the count of the rest is reported).
MAX_PROBLEMS = 100_000

@dataclass
class IngestResult:
    """What one ingestion did."""

    file: str
    vintage_id: int
    n_rows: int
    already_stored: bool = False
    layout: str = "long"
    empty_cells_skipped: int = 0
    backcast_rows: int = 0
    notes: list[str] = field(default_factory=list)


def _norm_column(name: str) -> str:
    n = name.strip().lower().replace(" ", "_")
    p = parse_period(name)
    return p.code if p else n


def ingest_file(
    store: Store,
    path: Path,
    *,
    source: str,
    indicators: dict[str, Indicator],
    workdir: Path,
    decimal: str = ".",
    illustrative: bool = False,
    received_at: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Validate ``path`` and store it as one vintage, or raise :class:`InputRejected` listing every problem."""
    say = progress or (lambda _msg: None)
    prepared = prepare(Path(path), workdir=workdir)
    name = str(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the file's hash is computed while DuckDB stages (and checks) the file, in a scratch
        # database: the store itself is opened for writing only to commit
        pending = pool.submit(prepared.verify)
        stage = store.stage(workdir)
        try:
            return _ingest(store, stage, prepared, pending, name=name, source=source, indicators=indicators,
                           workdir=workdir, decimal=decimal, illustrative=illustrative,
                           received_at=received_at, say=say)
        finally:
            stage.close()
            try:
                pending.result()
            except InputRejected:
                pass
            prepared.cleanup()


def _ingest(store: Store, stage: Stage, prepared, pending, *, name: str, source: str, indicators: dict[str, Indicator],
            workdir: Path, decimal: str, illustrative: bool, received_at, say) -> IngestResult:
    try:
        header = read_header(prepared)
    except UnicodeDecodeError:
        prepared.check_encoding()  # raises the ENCODING problem with its byte and line
        raise
    job = _Job(stage, name, indicators, decimal)
    layout = job.check_header(header, has_row=prepared.has_row_column)

    def stage_file() -> None:
        stage.stage_csv(prepared.csv_path, delimiter=prepared.delimiter, columns=job.columns,
                        has_row_column=prepared.has_row_column, skip=prepared.skip_lines)

    try:
        stage_file()
    except StagingError as exc:
        if not prepared.has_row_column:
            prepared.check_encoding()  # an encoding problem explains a parse failure best
        if not prepared.mixed_newlines:
            raise InputRejected([problem("CSV_PARSE", file=name, detail=str(exc))], file=name) from None
        prepared.normalise_newlines(workdir)
        try:
            stage_file()
        except StagingError as exc2:
            raise InputRejected([problem("CSV_PARSE", file=name, detail=str(exc2))], file=name) from None
    pending.result()
    existing = store.vintage_by_sha(prepared.sha256)
    if existing is not None:
        return IngestResult(name, existing, 0, already_stored=True)
    empty = 0
    if layout == "wide":
        empty = stage.count_empty_wide_cells(job.key_columns, job.period_columns)
        stage.unpivot_staged(job.key_columns, job.period_columns)
    if stage.staged_count() == 0:
        raise InputRejected([problem("NO_DATA_ROWS", file=name)], file=name)
    say("validate")
    job.resolve()
    problems = job.find_problems()
    if problems:
        raise InputRejected(problems, file=name)
    say("write")
    backcast = stage.staged_backcast_count()
    info = VintageInfo(source=source, file_name=prepared.original.name, sha256=prepared.sha256,
                       illustrative=illustrative)
    vid, n = store.commit_stage(info, stage, received_at=received_at, before_insert=lambda: say("writing"))
    return IngestResult(name, vid, n, layout=layout, empty_cells_skipped=empty, backcast_rows=backcast)


def _fmt_bound(x: float) -> str:
    return "–∞" if x is None or x != x else f"{x:g}"


def _norm_sector(raw: str) -> str:
    """``_t`` → ``_T``, ``c`` → ``C``, a one-digit division ``1`` → ``01`` (Excel drops the zero)."""
    s = raw.strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    if s.upper() == "_T":
        return "_T"
    if s.isalpha():
        return s.upper()
    if s.isdigit() and len(s) == 1:
        return "0" + s
    return s


class _Job:
    """The state of one validation: normalised columns and the resolved code mappings."""

    def __init__(self, stage: Stage, name: str, indicators: dict[str, Indicator], decimal: str) -> None:
        self.stage = stage
        self.name = name
        self.indicators = indicators
        self.decimal = decimal
        self.columns: list[str] = []
        self.key_columns: list[str] = []
        self.period_columns: list[str] = []
        self.problems: list[Problem] = []
        self.truncated = 0
        self.bad_mappings: set[str] = set()

    # --- header ------------------------------------------------------------------------
    def check_header(self, header: list[str], *, has_row: bool) -> str:
        name = self.name
        cells = header[1:] if has_row else header
        if not any(c.strip() for c in cells):
            raise InputRejected([problem("FILE_EMPTY", file=name)], file=name)
        norm = [_norm_column(c) for c in cells]
        problems = []
        seen: set[str] = set()
        for raw, n in zip(cells, norm):
            if n in seen:
                problems.append(problem("DUPLICATE_COLUMN", file=name, row=1, column=raw, name=raw))
            seen.add(n)
        long_cols = set(LONG_REQUIRED) | set(LONG_OPTIONAL) | set(EXPORT_ONLY)
        periods = [n for n in norm if parse_period(n)]
        layout = "long" if ("period" in seen or "value" in seen or not periods) else "wide"
        required = LONG_REQUIRED if layout == "long" else WIDE_REQUIRED
        allowed = long_cols if layout == "long" else (long_cols - {"period", "value"}) | set(periods)
        expected = ", ".join(required)
        for col in required:
            if col not in seen:
                problems.append(problem("MISSING_COLUMN", file=name, row=1, column=col, name=col, expected=expected))
        for raw, n in zip(cells, norm):
            if n not in allowed:
                problems.append(problem("UNKNOWN_COLUMN", file=name, row=1, column=raw, name=raw, expected=expected))
        if problems:
            raise InputRejected(problems, file=name)
        self.columns = (["_row"] if has_row else []) + norm
        self.period_columns = periods if layout == "wide" else []
        self.key_columns = [n for n in norm if n not in self.period_columns]
        self.present = set(norm) | ({"period", "value"} if layout == "wide" else set())
        return layout

    # --- resolution of distinct codes -------------------------------------------------------
    def resolve(self) -> None:
        self._resolve_indicators()
        self._resolve_territories()
        self._resolve_periods()
        self._resolve_sectors()
        self._resolve_units()
        self._resolve_enums()

    #: the mappings whose normalised column (of the same name) is part of the observation key
    _KEYED = ("indicator", "territory", "period", "sector", "price_basis")

    def _register(self, name: str, rows: list[dict], columns: list[str]) -> pd.DataFrame:
        """Hand the stage one resolved mapping: ``raw_<column>`` columns key it to the staged
        text; ``code``, ``vi``, ``en`` are set where the raw value is bad."""
        frame = pd.DataFrame(rows, columns=columns)
        if name in self._KEYED:
            # a small integer per normalised value, so the duplicate-key check groups integers
            values = frame[name]
            ids = {v: i for i, v in enumerate(sorted({str(v) for v in values}), start=1)}
            frame["kid"] = [ids[str(v)] for v in values]
        for c in columns:
            if c == "basis":
                frame[c] = pd.array(frame[c], dtype="Int64")
            elif c == "start":
                frame[c] = pd.to_datetime(frame[c])
            elif c == "kid":
                continue
            elif c in ("lo", "hi"):
                frame[c] = pd.to_numeric(frame[c]).astype("float64")
            else:
                frame[c] = frame[c].astype("string")
        self.stage.register_mapping(name, frame)
        if "code" in frame.columns and frame["code"].notna().any():
            self.bad_mappings.add(name)
        return frame

    _SETS = (("indicator",), ("territory", "basis"), ("period",), ("indicator", "period"),
             ("territory", "basis", "period"), ("indicator", "sector"), ("indicator", "unit"), ("price_basis",),
             ("status",))

    def _distinct(self, *cols: str) -> pd.DataFrame:
        present = [c for c in cols if c in self.present]
        if not hasattr(self, "_sets"):  # every set this job needs, in one scan of the staged file
            groups = [tuple(c for c in g if c in self.present) for g in self._SETS]
            wanted = [g for g in dict.fromkeys(groups) if g]
            self._sets = dict(zip(wanted, self.stage.distinct_sets(wanted)))
        key = tuple(present)
        d = self._sets[key].copy() if key in self._sets else (self.stage.distinct(present) if present else pd.DataFrame([{}]))
        for c in cols:
            if c not in present:
                d[c] = ""
        return d[list(cols)].fillna("").drop_duplicates()

    def _resolve_indicators(self) -> None:
        rows = []
        codes = sorted(self.indicators)
        for raw in self._distinct("indicator")["indicator"]:
            code = raw.strip().upper()
            if code in self.indicators:
                rows.append({"raw_indicator": raw, "indicator": code, "code": None, "vi": None, "en": None})
            else:
                close = difflib.get_close_matches(code, codes, n=1)
                p = problem("UNKNOWN_INDICATOR", value=raw,
                            hint_vi=f"; có phải '{close[0]}'?" if close else "",
                            hint_en=f"; did you mean '{close[0]}'?" if close else "")
                rows.append({"raw_indicator": raw, "indicator": None, "code": p.code, "vi": p.vi, "en": p.en})
        self._register("indicator", rows, ["raw_indicator", "indicator", "code", "vi", "en"])
        self.ind_map = {r["raw_indicator"]: r["indicator"] for r in rows}

    def _resolve_territories(self) -> None:
        keys = {t.key: t for t in terr.territories()}
        rows = []
        for raw_t, raw_b in self._distinct("territory", "basis").itertuples(index=False):
            t, b = raw_t.strip(), raw_b.strip()
            b = b[:-2] if b.endswith(".0") else b
            key = p = None
            full = terr.find_territories(t) if (t.upper() == terr.nation_key or ":" in t) else ()
            if full:
                key = full[0]
            elif b not in ("63", "34"):
                p = problem("BAD_BASIS", value=raw_b)
            else:
                found = terr.find_territories(t, int(b))
                key = found[0] if found else None
                if key is None:
                    near = terr.closest_alias(t, int(b))
                    hint = f"{near[0]} → {near[1]}" if near else ""
                    p = problem("UNKNOWN_TERRITORY", value=raw_t, basis=b,
                                hint_vi=f"; gần nhất: {hint}" if hint else "", hint_en=f"; closest: {hint}" if hint else "")
            basis = keys[key].basis if key else None
            rows.append({"raw_territory": raw_t, "raw_basis": raw_b, "territory": key,
                         "basis": basis, "code": p.code if p else None,
                         "vi": p.vi if p else None, "en": p.en if p else None})
        self.ter_map = {(r["raw_territory"], r["raw_basis"]): r["territory"] for r in rows}
        self._register("territory", rows, ["raw_territory", "raw_basis", "territory", "basis", "code", "vi", "en"])

    def _resolve_periods(self) -> None:
        rows = []
        for raw in self._distinct("period")["period"]:
            parsed = parse_period(raw)
            if parsed:
                rows.append({"raw_period": raw, "period": parsed.code, "freq": parsed.freq,
                             "start": parsed.start, "code": None, "vi": None, "en": None})
            else:
                p = problem("BAD_PERIOD", value=raw)
                rows.append({"raw_period": raw, "period": None, "freq": None, "start": None,
                             "code": p.code, "vi": p.vi, "en": p.en})
        self._register("period", rows, ["raw_period", "period", "freq", "start", "code", "vi", "en"])
        # frequency allowed for the indicator
        rows = []
        per = {r[0]: parse_period(r[0]) for r in self._distinct("period").itertuples(index=False)}
        for raw_i, raw_p in self._distinct("indicator", "period").itertuples(index=False):
            ind = self.indicators.get(self.ind_map.get(raw_i) or "")
            parsed = per.get(raw_p)
            if ind is None or parsed is None or parsed.freq in ind.frequencies:
                continue
            p = problem("FREQUENCY_NOT_ALLOWED", indicator=ind.code, value=raw_p, expected=", ".join(ind.frequencies))
            rows.append({"raw_indicator": raw_i, "raw_period": raw_p, "code": p.code, "vi": p.vi, "en": p.en})
        self._register("frequency", rows, ["raw_indicator", "raw_period", "code", "vi", "en"])
        # a 63-basis territory for a period after the merger
        rows = []
        valid = {t.key: t for t in terr.territories()}
        for raw_t, raw_b, raw_p in self._distinct("territory", "basis", "period").itertuples(index=False):
            key = self.ter_map.get((raw_t, raw_b))
            parsed = per.get(raw_p)
            if not key or not parsed or key == terr.nation_key:
                continue
            t = valid[key]
            if t.valid_to is not None and parsed.start > t.valid_to:
                p = problem("TERRITORY_PERIOD", territory=f"{key} {t.name_vi}", value=raw_p,
                            successor=terr.successors_of(key))
                rows.append({"raw_territory": raw_t, "raw_basis": raw_b, "raw_period": raw_p,
                             "code": p.code, "vi": p.vi, "en": p.en})
        self._register("territory_period", rows, ["raw_territory", "raw_basis", "raw_period", "code", "vi", "en"])

    def _resolve_sectors(self) -> None:
        known = {s.code for s in vsic.sectors()}
        rows = []
        for raw_i, raw_s in self._distinct("indicator", "sector").itertuples(index=False):
            s = _norm_sector(raw_s)
            ind = self.indicators.get(self.ind_map.get(raw_i) or "")
            kind = ind.sector_kind if ind else "vsic"
            p = None
            if kind == "vsic" and s not in known:
                close = difflib.get_close_matches(s, sorted(known), n=1)
                p = problem("UNKNOWN_SECTOR", value=raw_s,
                            hint_vi=f"; có phải '{close[0]}'?" if close else "",
                            hint_en=f"; did you mean '{close[0]}'?" if close else "")
            elif kind == "total" and s != "_T":
                p = problem("SECTOR_NOT_ALLOWED", indicator=ind.code, value=raw_s,
                            expected="chỉ _T (tổng) / only _T (total)")
            elif kind not in ("vsic", "total") and not re.fullmatch(r"[A-Za-z0-9_.\-]+", s):
                p = problem("SECTOR_NOT_ALLOWED", indicator=ind.code, value=raw_s,
                            expected=f"mã {kind} / a {kind} code")
            if kind not in ("vsic", "total"):
                s = raw_s.strip()
            rows.append({"raw_indicator": raw_i, "raw_sector": raw_s, "sector": None if p else s,
                         "code": p.code if p else None, "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("sector", rows, ["raw_indicator", "raw_sector", "sector", "code", "vi", "en"])

    def _resolve_units(self) -> None:
        rows = []
        for raw_i, raw_u in self._distinct("indicator", "unit").itertuples(index=False):
            ind = self.indicators.get(self.ind_map.get(raw_i) or "")
            u = raw_u.strip().upper()
            p = None
            if ind is not None and u not in ind.units:
                p = problem("BAD_UNIT", value=raw_u, indicator=ind.code, expected=", ".join(ind.units))
            lo = ind.min if ind else None
            hi = ind.max if ind else None
            rows.append({"raw_indicator": raw_i, "raw_unit": raw_u, "unit": u, "lo": lo, "hi": hi,
                         "code": p.code if p else None, "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("unit", rows, ["raw_indicator", "raw_unit", "unit", "lo", "hi", "code", "vi", "en"])

    def _resolve_enums(self) -> None:
        rows = []
        for raw in self._distinct("price_basis")["price_basis"]:
            key = raw.strip().lower().replace(" ", "_")
            pb = PRICE_BASES.get(key)
            p = None if pb else problem("BAD_PRICE_BASIS", value=raw)
            rows.append({"raw_price_basis": raw, "price_basis": pb, "code": p.code if p else None,
                         "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("price_basis", rows, ["raw_price_basis", "price_basis", "code", "vi", "en"])
        rows = []
        for raw in self._distinct("status")["status"]:
            st = raw.strip().upper() or "A"
            p = None if st in STATUSES else problem("BAD_STATUS", value=raw)
            rows.append({"raw_status": raw, "status": None if p else st, "code": p.code if p else None,
                         "vi": p.vi if p else None, "en": p.en if p else None})
        self._register("status", rows, ["raw_status", "status", "code", "vi", "en"])

    # --- finding the rows of each problem ---------------------------------------------------
    #: mapping → the file's column a problem of it names, in the order problems are listed
    _PROBLEM_COLUMN = {"indicator": "indicator", "territory": "territory", "period": "period",
                       "sector": "sector", "unit": "unit", "price_basis": "price_basis", "status": "status",
                       "frequency": "period", "territory_period": "period"}

    def _add(self, frame: pd.DataFrame, column: str) -> None:
        for row, code, vi, en in frame[["_row", "code", "vi", "en"]].itertuples(index=False):
            if len(self.problems) >= MAX_PROBLEMS:
                self.truncated += 1
                continue
            self.problems.append(Problem(code=code, vi=vi, en=en, file=self.name, row=int(row), column=column))

    def find_problems(self) -> list[Problem]:
        # Row-level scans only for the mappings that hold a problem: a clean file costs none.
        for mapping, column in self._PROBLEM_COLUMN.items():
            if mapping in self.bad_mappings:
                self._add(self.stage.problem_rows(mapping, self.present, MAX_PROBLEMS), column)
        self.stage.normalise(self.present, self.decimal, MERGER_DATE)
        self._value_problems()
        self._duplicate_problems()
        self.problems.sort(key=lambda p: (p.row or 0, p.column))
        if self.truncated:
            self.problems.append(Problem(
                code="TOO_MANY_PROBLEMS",
                vi=f"… và {self.truncated} lỗi khác không được liệt kê.",
                en=f"… and {self.truncated} more problems not listed.", file=self.name))
        return self.problems

    def _value_problems(self) -> None:
        # one scan of the normalised rows' flag; the raw text and bounds only for the rows at fault
        df = self.stage.value_problem_rows(MAX_PROBLEMS)
        hint_vi = "; nếu dùng dấu phẩy thập phân (1.234,5) hãy thêm --decimal ," if self.decimal == "." else ""
        hint_en = "; for a decimal comma (1.234,5) add --decimal ," if self.decimal == "." else ""
        for row, raw, value, ind, lo, hi in df[["_row", "raw_value", "value", "indicator", "lo", "hi"]].itertuples(index=False):
            if raw is None or (isinstance(raw, float) and raw != raw) or str(raw).strip() == "":
                p = problem("EMPTY_VALUE", file=self.name, row=int(row), column="value")
            elif value is None or value != value or value in (float("inf"), float("-inf")):
                comma = "," in str(raw)
                p = problem("BAD_VALUE", file=self.name, row=int(row), column="value", value=raw,
                            hint_vi=hint_vi if comma else "", hint_en=hint_en if comma else "")
            else:
                p = problem("OUT_OF_RANGE", file=self.name, row=int(row), column="value", value=raw,
                            indicator=ind, lo=_fmt_bound(lo), hi=_fmt_bound(hi))
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(p)
            else:
                self.truncated += 1

    def _duplicate_problems(self) -> None:
        dup = self.stage.duplicate_rows(MAX_PROBLEMS)
        for row, first in dup[["_row", "first_row"]].itertuples(index=False):
            self.problems.append(problem("DUPLICATE_KEY", file=self.name, row=int(row), column="", first=int(first)))
