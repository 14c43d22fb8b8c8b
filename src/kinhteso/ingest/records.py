"""Record-level files read through an adapter (``kinhteso ingest FILE --adapter NAME``).

An agency's own layout (its columns, its words, a title above the header, times in local time) is
mapped onto a dataset of :mod:`kinhteso.reference.datasets` by the adapter's YAML, then:

1. **refused whole** when the file cannot be read as the adapter says or any record is malformed:
   a column the adapter names is missing (``MISSING_COLUMN``), a required value is empty
   (``MISSING_VALUE``), a code is not one of the dataset's (``UNKNOWN_CODE``), a time has no UTC
   offset and the adapter declares none (``TIME_WITHOUT_ZONE``), a time cannot be read
   (``BAD_TIME``), a port is not a known UN/LOCODE (``UNKNOWN_LOCODE``), a number is not one
   (``BAD_NUMBER``) or is negative (``NEGATIVE_NUMBER``), a province or a month cannot be read
   (``UNKNOWN_TERRITORY``, ``BAD_MONTH``), the part of a declared ratio exceeds its whole
   (``PART_EXCEEDS_WHOLE``: electronic tickets above all tickets), months across columns have no
   month column (``WIDE_NO_MONTHS``) — every problem listed, nothing stored;
2. **set aside** (quarantined, stored with the vintage, counted and reported, never dropped): a
   record repeating an earlier one's key (``DUPLICATE_EVENT``), a gate-out dated before the same
   container's discharge at the same port (``OUT_OF_ORDER``), a record whose own times are out of
   order, such as a vessel leaving before it arrived (``TIMES_OUT_OF_ORDER``).

The typing and the checks run in DuckDB (:meth:`kinhteso.store.Stage.check_records`): a file of
millions of events never becomes Python objects row by row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from kinhteso.errors import InputRejected, Problem

__all__ = ["CheckedRecords", "check_records", "REASONS", "PROBLEMS"]

#: Why a record is set aside: (Vietnamese, English).
REASONS = {
    "DUPLICATE_EVENT": ("trùng một bản ghi trước đó trong tệp (cùng khóa)", "repeats an earlier record of the file (same key)"),
    "OUT_OF_ORDER": ("ra cổng trước thời điểm dỡ khỏi tàu của cùng container", "gate-out dated before the same container's discharge"),
    "TIMES_OUT_OF_ORDER": ("các thời điểm của bản ghi sai thứ tự (ví dụ rời cảng trước khi đến)",
                           "the record's times are out of order (e.g. departure before arrival)"),
}
#: Why a file is refused: (Vietnamese, English) templates with {field} and {raw}.
PROBLEMS = {
    "MISSING_COLUMN": ("thiếu cột '{raw}' (trường {field}) mà bộ chuyển đổi cần",
                       "the column '{raw}' (field {field}) the adapter needs is missing"),
    "MISSING_VALUE": ("trường {field} bắt buộc nhưng để trống", "the required field {field} is empty"),
    "UNKNOWN_CODE": ("giá trị '{raw}' của {field} không phải mã hợp lệ ({codes})",
                     "'{raw}' is not a valid {field} code ({codes})"),
    "TIME_WITHOUT_ZONE": ("thời điểm '{raw}' không có múi giờ (ghi dạng 2025-07-01T08:00:00+07:00, hoặc khai báo "
                          "timezone trong bộ chuyển đổi)",
                          "the time '{raw}' has no UTC offset (write 2025-07-01T08:00:00+07:00, or declare the "
                          "adapter's timezone)"),
    "BAD_TIME": ("không đọc được thời điểm '{raw}' (ISO 8601)", "the time '{raw}' cannot be read (ISO 8601)"),
    "BAD_NUMBER": ("'{raw}' của {field} không phải là số", "'{raw}' in {field} is not a number"),
    "NEGATIVE_NUMBER": ("{field} không được âm ('{raw}')", "{field} cannot be negative ('{raw}')"),
    "UNKNOWN_LOCODE": ("mã cảng '{raw}' không có trong danh mục UN/LOCODE của kinhteso (reference/data/locodes.csv)",
                       "the port code '{raw}' is not in kinhteso's UN/LOCODE list (reference/data/locodes.csv)"),
    "UNKNOWN_TERRITORY": ("'{raw}' không phải tên hay mã một tỉnh, thành phố (ví dụ Hải Phòng, 31, 34:31)",
                          "'{raw}' names no province (e.g. Hải Phòng, 31, 34:31)"),
    "BAD_MONTH": ("'{raw}' của {field} không phải một tháng (ví dụ 2025-07, 07/2025, T7/2025, Tháng 7/2025)",
                  "'{raw}' in {field} is not a month (e.g. 2025-07, 07/2025, T7/2025, Tháng 7/2025)"),
    "PART_EXCEEDS_WHOLE": ("{field} lớn hơn tổng của nó ({raw}): một phần không thể lớn hơn toàn bộ",
                           "{field} exceeds its whole ({raw}): a part cannot be larger than the whole"),
    "WIDE_NO_MONTHS": ("không có cột tháng nào: bộ chuyển đổi đọc các tháng theo cột (ví dụ 'Tháng 7/2025'{raw})",
                       "no month column: the adapter reads months across columns (e.g. 'Tháng 7/2025'{raw})"),
}
#: How many problems a refused file lists.
MAX_PROBLEMS = 1000


@dataclass
class CheckedRecords:
    """A record file read and checked: the records kept and set aside wait in a sealed stage
    (``stage_path``) for :meth:`kinhteso.store.Store.commit_records`; :meth:`discard` removes it."""

    file: str
    original_name: str
    sha256: str
    dataset: str
    adapter: str
    stage_path: Path | None
    content_sha256: str
    rows_read: int
    kept: int
    aside_counts: dict[str, int] = field(default_factory=dict)
    territories: list[str] = field(default_factory=list)

    def discard(self) -> None:
        if self.stage_path is not None:
            from kinhteso.store import Stage  # noqa: PLC0415

            Stage.sealed(self.stage_path).close()
            self.stage_path = None


def _problem(code: str, name: str, row: int | None, fld: str, raw: str, codes: str = "") -> Problem:
    vi, en = PROBLEMS[code]
    fill = {"field": fld, "raw": raw, "codes": codes}
    return Problem(code, vi.format(**fill), en.format(**fill), file=name, row=row, column=fld)


def _header_rows(prepared, n: int) -> list[list[str]]:
    """The ``n`` header rows (after the lines skipped), cells stripped."""
    import csv  # noqa: PLC0415

    with open(prepared.csv_path, newline="", encoding="utf-8-sig") as fh:
        for _ in range(prepared.skip_lines):
            fh.readline()
        rows = []
        for row in csv.reader(fh, delimiter=prepared.delimiter):
            rows.append([h.strip().lstrip("\ufeff") for h in row])
            if len(rows) == n:
                break
    return rows


def column_names(rows: list[list[str]], lead: int = 0) -> tuple[list[str], list[str], list[str]]:
    """The names of a file's columns from its header rows (one or two), and each column's upper and
    lower header. With two rows, an upper cell over sub-headers (its own lower cell written) carries
    right over the empty upper cells after it, as a cell merged across those columns does; a column
    is named ``upper | lower``, or by whichever of the two is written. ``lead`` columns (a workbook's
    ``_row``) are left as they are.

    >>> column_names([["Bệnh viện", "Tháng 7/2025", "", "Tháng 8/2025", ""], ["", "Tổng", "Điện tử", "Tổng", "Điện tử"]])[0]
    ['Bệnh viện', 'Tháng 7/2025 | Tổng', 'Tháng 7/2025 | Điện tử', 'Tháng 8/2025 | Tổng', 'Tháng 8/2025 | Điện tử']
    """
    if len(rows) < 2:
        names = list(rows[0]) if rows else []
        return names, names, names
    width = max(len(r) for r in rows)
    upper = rows[0] + [""] * (width - len(rows[0]))
    lower = rows[1] + [""] * (width - len(rows[1]))
    carried, carry = list(upper), ""
    for i in range(lead, width):
        if upper[i]:
            carry = upper[i] if lower[i] else ""
        elif lower[i] and carry:
            carried[i] = carry
        else:
            carry = ""
    names = [(f"{u} | {lo}" if u and lo else (u or lo)) if i >= lead else upper[i]
             for i, (u, lo) in enumerate(zip(carried, lower))]
    return names, carried, lower


def _find(names: list[str], lower: list[str], upper: list[str], wanted: str) -> int | None:
    """The column an adapter names: by its full name, else by its lower or upper header when only
    one column has it."""
    for heads in (names, lower, upper):
        hits = [i for i, h in enumerate(heads) if h == wanted]
        if len(hits) == 1 or (hits and heads is names):
            return hits[0]
    return None


def check_records(path: Path, adapter, *, workdir: Path, settings: dict | None = None) -> CheckedRecords:
    """Read ``path`` with ``adapter`` (:class:`kinhteso.reference.datasets.Adapter`) and check it
    (see the module); :class:`InputRejected` with every problem when it is refused."""
    from kinhteso.ingest.readers import prepare  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets, locodes, month_code, territory_codes  # noqa: PLC0415
    from kinhteso.store import RECORD_TABLES, Stage, StagingError  # noqa: PLC0415

    path = Path(path)
    name = str(path)
    ds = datasets()[adapter.dataset]
    workdir.mkdir(parents=True, exist_ok=True)
    prepared = prepare(path, workdir=workdir, head_rows=adapter.header_row - 1 + adapter.header_rows,
                       merged_header=adapter.header_rows > 1)
    try:
        if prepared.pending:
            prepared.verify()
        prepared.skip_lines += max(0, adapter.header_row - 1)
        lead = 1 if prepared.has_row_column else 0
        names, upper, lower = column_names(_header_rows(prepared, adapter.header_rows), lead)
        # staged under positional names: a header may repeat, be empty or hold any character
        staged = ["_row" if i < lead else f"c{i}" for i in range(len(names))]
        where: dict[str, str | None] = {}
        missing = []
        for f, col in adapter.columns.items():
            i = _find(names, lower, upper, col)
            where[f] = None if i is None else staged[i]
            if i is None and ds.field(f).required:
                missing.append(_problem("MISSING_COLUMN", name, adapter.header_row, f, col))
        groups: list[tuple[str, dict[str, str]]] = []
        if adapter.wide is not None:
            wide = adapter.wide
            months: dict[str, dict[str, str]] = {}
            for i in range(lead, len(names)):
                if wide.columns:
                    month = month_code(upper[i]) if upper[i] else None
                    fld = next((f for f, h in wide.columns.items() if h == lower[i]), None)
                else:
                    month, fld = month_code(names[i]), wide.value
                if month and fld:
                    months.setdefault(month, {})[fld] = staged[i]
            groups = sorted(months.items())
            if not groups:
                hint = (", " + ", ".join(f"'{h}'" for h in wide.columns.values())) if wide.columns else ""
                missing.append(_problem("WIDE_NO_MONTHS", name, adapter.header_row, wide.field, hint))
        if missing:
            raise InputRejected(missing, file=name)
        stage_path = workdir / f"records-{hashlib.sha256(name.encode()).hexdigest()[:12]}-{id(prepared)}.duckdb"
        stage = Stage(stage_path, settings=settings)
        try:
            try:
                stage.stage_csv(prepared.csv_path, delimiter=prepared.delimiter, columns=staged,
                                has_row_column=prepared.has_row_column,
                                skip=prepared.skip_lines + adapter.header_rows - 1)
            except StagingError as exc:
                raise InputRejected([Problem("CSV_PARSE", f"Không đọc được tệp CSV: {exc}",
                                             f"The CSV file cannot be read: {exc}", file=name)], file=name) from None
            if groups:
                wide = adapter.wide
                ids = sorted({c for c in where.values() if c is not None})
                where.update(stage.widen_records(ids, groups, wide.field, wide.measures()))
            fields = [{"name": f.name, "column": where.get(f.name), "constant": adapter.constants.get(f.name),
                       "type": f.type, "required": f.required, "codes": list(f.codes)} for f in ds.fields]
            found, total = stage.check_records(fields, values=adapter.values, locodes=locodes(),
                                               timezone=adapter.timezone, limit=MAX_PROBLEMS,
                                               resolve={"territory": territory_codes,
                                                        "month": lambda texts: {t: m for t in texts
                                                                                if (m := month_code(t))}},
                                               parts=[d.ratio for d in ds.derived if d.ratio])
            if total:
                codes = {f.name: ", ".join(f.codes) for f in ds.fields}
                problems = [_problem(r.code, name, int(r.line) if r.line == r.line else None, r.field,
                                     "" if r.raw is None else str(r.raw), codes.get(r.field, ""))
                            for r in found.itertuples(index=False)]
                exc = InputRejected(problems, file=name)
                exc.total = total  # type: ignore[attr-defined]
                raise exc
            seq = ("event_at", "event_type", "DISC", "GTOT") if ds.code == "container_events" else None
            stage.set_aside_records(ds.key, sequence=seq, order=ds.order)
            _, cols = RECORD_TABLES[ds.code]
            kept, terrs = stage.kept_summary()
            counts = stage.aside_counts()
            digest = stage.records_digest(cols)
            stage.drop_raw()
            stage.seal()
        except BaseException:
            stage.close()
            raise
    finally:
        prepared.cleanup()
    return CheckedRecords(name, path.name, prepared.sha256, ds.code, adapter.name, stage_path, digest,
                          kept + sum(counts.values()), kept, counts, terrs)
