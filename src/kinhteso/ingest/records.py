"""Record-level files read through an adapter (``kinhteso ingest FILE --adapter NAME``).

An agency's own layout (its columns, its words, a title above the header, times in local time) is
mapped onto a dataset of :mod:`kinhteso.reference.datasets` by the adapter's YAML, then:

1. **refused whole** when the file cannot be read as the adapter says or any record is malformed:
   a column the adapter names is missing (``MISSING_COLUMN``), a required value is empty
   (``MISSING_VALUE``), a code is not one of the dataset's (``UNKNOWN_CODE``), a time has no UTC
   offset and the adapter declares none (``TIME_WITHOUT_ZONE``), a time cannot be read
   (``BAD_TIME``), a port is not a known UN/LOCODE (``UNKNOWN_LOCODE``), a number is not one
   (``BAD_NUMBER``) or is negative (``NEGATIVE_NUMBER``) — every problem listed, nothing stored;
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


def check_records(path: Path, adapter, *, workdir: Path, settings: dict | None = None) -> CheckedRecords:
    """Read ``path`` with ``adapter`` (:class:`kinhteso.reference.datasets.Adapter`) and check it
    (see the module); :class:`InputRejected` with every problem when it is refused."""
    from kinhteso.ingest.readers import prepare, read_header  # noqa: PLC0415
    from kinhteso.reference.datasets import datasets, locodes  # noqa: PLC0415
    from kinhteso.store import RECORD_TABLES, Stage, StagingError  # noqa: PLC0415

    path = Path(path)
    name = str(path)
    ds = datasets()[adapter.dataset]
    workdir.mkdir(parents=True, exist_ok=True)
    prepared = prepare(path, workdir=workdir)
    try:
        if prepared.pending:
            prepared.verify()
        prepared.skip_lines += max(0, adapter.header_row - 1)
        header = [h.strip().lstrip("\ufeff") for h in read_header(prepared)]
        present = set(header)
        missing = [_problem("MISSING_COLUMN", name, adapter.header_row, f, col)
                   for f, col in adapter.columns.items() if col not in present and ds.field(f).required]
        if missing:
            raise InputRejected(missing, file=name)
        stage_path = workdir / f"records-{hashlib.sha256(name.encode()).hexdigest()[:12]}-{id(prepared)}.duckdb"
        stage = Stage(stage_path, settings=settings)
        try:
            try:
                stage.stage_csv(prepared.csv_path, delimiter=prepared.delimiter, columns=header,
                                has_row_column=prepared.has_row_column, skip=prepared.skip_lines)
            except StagingError as exc:
                raise InputRejected([Problem("CSV_PARSE", f"Không đọc được tệp CSV: {exc}",
                                             f"The CSV file cannot be read: {exc}", file=name)], file=name) from None
            fields = [{"name": f.name, "column": adapter.columns.get(f.name) if adapter.columns.get(f.name) in present
                       else None, "type": f.type, "required": f.required, "codes": list(f.codes)} for f in ds.fields]
            found, total = stage.check_records(fields, values=adapter.values, locodes=locodes(),
                                               timezone=adapter.timezone, limit=MAX_PROBLEMS)
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
