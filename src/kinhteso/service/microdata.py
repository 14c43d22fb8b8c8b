"""E-invoice microdata: ``kinhteso microdata generate`` and ``kinhteso microdata aggregate`` (issue 17).

>>> import tempfile
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> g = generate(GenerateRequest(records=3000, seed=1, out=d / "inv"))
>>> g.illustrative, g.months[0]
(True, '2025-01')
>>> a = aggregate(AggregateRequest(input=d / "inv", out=d / "cells.csv"))
>>> a.kept + sum(a.set_aside.values()) == a.records_read
True
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.progress import Progress, or_null

__all__ = ["GenerateRequest", "GenerateResult", "generate", "AggregateRequest", "AggregateResult", "aggregate",
           "ENGINES", "BUILT_ENGINES", "MAX_RECORDS"]

#: The engines ``--engine`` names (all built).
ENGINES = ("duckdb", "spark")
BUILT_ENGINES = ENGINES
#: The most records one ``generate`` draws (ten billion).
MAX_RECORDS = 10_000_000_000


@dataclass(frozen=True)
class GenerateRequest:
    """``records`` synthetic invoices of ``year`` from ``seed``, written under the folder ``out``
    (new, empty, or a data set generated before, which is replaced)."""

    records: int
    out: Path
    seed: int = 0
    year: int = 2025


@dataclass
class GenerateResult:
    out: Path
    rows: int                 #: rows written (the invoices with replacements, faults and duplicates)
    files: int
    months: list[str]
    illustrative: bool = True


def generate(req: GenerateRequest, *, progress: Progress | None = None) -> GenerateResult:
    """Write the synthetic e-invoices the request asks for (:mod:`kinhteso.microdata.generate`)."""
    from kinhteso.microdata import generate as gen  # noqa: PLC0415

    if not 1 <= int(req.records) <= MAX_RECORDS:
        raise UsageError("MICRODATA_BAD_RECORDS", f"Số bản ghi phải từ 1 đến {MAX_RECORDS}: {req.records}.",
                         f"The number of records must be 1 to {MAX_RECORDS}: {req.records}.")
    if req.year not in gen.TET:
        raise UsageError("MICRODATA_BAD_YEAR", f"Năm {req.year} chưa có lịch Tết trong bộ tạo số liệu: {sorted(gen.TET)}.",
                         f"Year {req.year} has no Tết date in the generator: {sorted(gen.TET)}.")
    out = Path(req.out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise KinhtesoError("MICRODATA_OUT_NOT_FOLDER",
                            f"{out} không phải là thư mục (hoặc là liên kết): cần một thư mục để ghi hóa đơn.",
                            f"{out} is not a folder (or is a link): a folder is needed for the invoices.", path=str(out))
    if out.is_dir() and any(out.iterdir()) and not gen.is_generated(out):
        raise KinhtesoError("MICRODATA_OUT_NOT_EMPTY",
                            f"Thư mục {out} đã có tệp không do kinhteso microdata generate tạo ra; không ghi đè. "
                            "Chọn một thư mục mới hoặc trống.",
                            f"The folder {out} holds files that kinhteso microdata generate did not write; not "
                            "overwriting it. Choose a new or empty folder.", path=str(out))
    done = gen.write_dataset(out, int(req.records), seed=int(req.seed), year=int(req.year), progress=or_null(progress))
    return GenerateResult(out=out, rows=int(done["rows"]), files=int(done["files"]), months=list(done["months"]))


@dataclass(frozen=True)
class AggregateRequest:
    """Aggregate the e-invoices under ``input`` (a folder of Parquet files, partitioned by month, or
    one Parquet file) with ``engine`` into the CSV ``out``; the set-aside records go to
    ``quarantine`` (a Parquet file; default ``out`` with ``.quarantine.parquet``). Spark only:
    ``master`` (default ``local[*]``) and ``driver_memory`` (``4g``). With ``workspace``, the
    cells and the sellers' sums are stored there (:mod:`kinhteso.pipeline.einvoice`) as a
    submission of ``source`` (a registered tax authority; illustrative data: any short label,
    default the input folder's name)."""

    input: Path
    out: Path
    engine: str = "duckdb"
    quarantine: Path | None = None
    master: str | None = None
    driver_memory: str | None = None
    workspace: Path | None = None
    source: str | None = None
    incremental: bool = False       #: update from the state folder (DuckDB): only new or changed months are read
    state: Path | None = None       #: the state folder (default ``OUT.state`` beside the output)
    remove_missing: bool = False    #: drop the state's months absent from the input (else refused)
    memory_limit: str | None = None  #: DuckDB's memory limit (e.g. ``4GB``); it spills beyond it


@dataclass
class AggregateResult:
    out: Path
    quarantine: Path
    engine: str
    records_read: int
    kept: int
    set_aside: dict[str, int]                   #: reason code → records (only reasons found)
    cells: int
    suppressed: int
    illustrative: bool
    rule: str
    notes: list[tuple[str, str]] = field(default_factory=list)   #: (vi, en)
    stored: dict | None = None                  #: what storing in the workspace said (``store_aggregates``)
    seconds: float = 0.0                        #: the engine's time (connect, read, compute; not the files)
    months_recomputed: list[str] | None = None  #: with ``incremental``: the months read and computed
    months_from_state: list[str] | None = None  #: with ``incremental``: the months taken from the state


def _parquet_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if source.is_dir():
        return sorted(p for p in source.rglob("*.parquet") if p.is_file() and not p.name.startswith((".", "_")))
    raise KinhtesoError("MICRODATA_NO_INPUT", f"Không tìm thấy {source}.", f"{source} was not found.", path=str(source))


def _illustrative(files: list[Path], source: Path) -> bool:
    import pyarrow.parquet as pq  # noqa: PLC0415

    from kinhteso.microdata.generate import is_generated  # noqa: PLC0415

    if source.is_dir() and is_generated(source):
        return True
    meta = pq.read_schema(files[0]).metadata or {}
    return meta.get(b"kinhteso.illustrative") == b"true"


def _beside(out: Path, suffix: str) -> Path:
    """``out`` without its ``.csv``, with ``suffix``: the files kept beside the CSV."""
    out = Path(out)
    stem = out.name[:-4] if out.name.lower().endswith(".csv") else out.name
    return out.with_name(stem + suffix)


def _quarantine_path(req: AggregateRequest) -> Path:
    return Path(req.quarantine) if req.quarantine is not None else _beside(req.out, ".quarantine.parquet")


def aggregate(req: AggregateRequest) -> AggregateResult:
    """Validate the records (quarantine), aggregate the kept ones by cell, apply disclosure control
    and write the CSV (:mod:`kinhteso.microdata`), on DuckDB or Spark."""
    from kinhteso.safe_io import check_destination  # noqa: PLC0415

    if req.engine not in ENGINES:
        raise UsageError("MICRODATA_BAD_ENGINE", f"Bộ máy '{req.engine}' không có; dùng {', '.join(ENGINES)}.",
                         f"Unknown engine '{req.engine}'; use {', '.join(ENGINES)}.")
    if req.engine != "spark" and (req.master is not None or req.driver_memory is not None):
        raise UsageError("MICRODATA_SPARK_ONLY", "--master và --driver-memory chỉ dùng với --engine spark.",
                         "--master and --driver-memory apply to --engine spark only.")
    if (req.state is not None or req.remove_missing) and not req.incremental:
        raise UsageError("MICRODATA_INCREMENTAL_ONLY", "--state và --remove-missing-months chỉ dùng với --incremental.",
                         "--state and --remove-missing-months apply with --incremental only.")
    if req.incremental and req.engine != "duckdb":
        raise UsageError("MICRODATA_INCREMENTAL_DUCKDB", "Cập nhật theo tháng (--incremental) chỉ chạy trên --engine duckdb.",
                         "The incremental update (--incremental) runs on --engine duckdb only.")
    if req.memory_limit is not None and req.engine != "duckdb":
        raise UsageError("MICRODATA_DUCKDB_ONLY", "--memory-limit chỉ dùng với --engine duckdb (Spark: --driver-memory).",
                         "--memory-limit applies to --engine duckdb only (Spark: --driver-memory).")
    if req.memory_limit is not None and not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)",
                                                         req.memory_limit.strip(), re.IGNORECASE):
        raise UsageError("MICRODATA_BAD_MEMORY", f"Giới hạn bộ nhớ '{req.memory_limit}' không hợp lệ (ví dụ 4GB, 512MB).",
                         f"The memory limit '{req.memory_limit}' is not valid (e.g. 4GB, 512MB).")
    if req.source is not None and req.workspace is None:
        raise UsageError("MICRODATA_SOURCE_WITHOUT_WORKSPACE", "--source chỉ dùng với --workspace (nơi lưu lần nộp).",
                         "--source applies with --workspace only (where the submission is stored).")
    if req.engine == "spark":
        from kinhteso.microdata import spark  # noqa: PLC0415

        spark.check_master(req.master or spark.DEFAULT_MASTER)
        if req.driver_memory is not None:
            spark.check_memory(req.driver_memory)
    source, out, qpath = Path(req.input), check_destination(Path(req.out)), check_destination(_quarantine_path(req))
    for p in (out, qpath):
        if p.parent.exists() and not p.parent.is_dir():
            raise KinhtesoError("FILE_ERROR", f"Lỗi tệp {p}: {p.parent} không phải là thư mục.",
                                f"File error {p}: {p.parent} is not a folder.", path=str(p))
    files = _parquet_files(source)
    if not files:
        raise KinhtesoError("MICRODATA_NO_FILES", f"{source} không có tệp Parquet nào (*.parquet).",
                            f"{source} holds no Parquet file (*.parquet).", path=str(source))
    ws = None
    if req.workspace is not None:
        from kinhteso.workspace import Workspace  # noqa: PLC0415

        ws = Workspace.open(Path(req.workspace))
        try:  # a source that cannot be stored is refused before the records are read
            from kinhteso.pipeline.einvoice import check_source  # noqa: PLC0415

            check_source(ws, _source_name(req, source), _illustrative(files, source))
        except BaseException:
            ws.close()
            raise
    tmpdir = tempfile.mkdtemp(prefix="kinhteso-microdata-")
    try:
        with _engine(req, tmpdir) as con:
            return _run(req, con, source, files, out, qpath, ws, Path(tmpdir))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        if ws is not None:
            ws.close()


@contextmanager
def _engine(req: AggregateRequest, tmpdir: str) -> Iterator[Any]:
    """The Ibis backend of ``req.engine``, closed (its session stopped) at the end."""
    from kinhteso.microdata import engine  # noqa: PLC0415

    if req.engine == "spark":
        from kinhteso.microdata import spark  # noqa: PLC0415

        with spark.session(master=req.master or spark.DEFAULT_MASTER, driver_memory=req.driver_memory,
                           tmpdir=os.path.join(tmpdir, "spark")) as session:
            yield spark.connect(session)
        return
    con = engine.connect_duckdb(temp_directory=os.path.join(tmpdir, "spill"), memory_limit=req.memory_limit)
    try:
        yield con
    finally:
        con.disconnect()


def _state_path(req: AggregateRequest) -> Path:
    """The incremental state folder: ``req.state``, else ``OUT.state`` beside the output."""
    return Path(req.state) if req.state is not None else _beside(req.out, ".state")


def _source_name(req: AggregateRequest, source: Path) -> str:
    """The submission's source: ``req.source``, else the input folder's (or file's stem's) name."""
    return req.source or (source.resolve().name if source.is_dir() else source.stem)


def _bad_input(source: Path, detail: str) -> KinhtesoError:
    from kinhteso.microdata.engine import bad_input  # noqa: PLC0415

    return bad_input(f"{source} như tệp Parquet hóa đơn", f"{source} as Parquet e-invoice files", detail,
                     path=str(source))


#: Rows per row group of the quarantine file (fixed, whatever batches the engine gives).
QUARANTINE_ROW_GROUP = 131_072


def _write_parquet(batches: Iterable[Any], schema: Any, path: Path) -> None:
    """The Arrow ``batches`` as one Parquet file cast to ``schema``, in row groups of
    :data:`QUARANTINE_ROW_GROUP` rows, each written from one contiguous chunk (one writer for every
    engine, whatever batches it gives: the same rows give the same file)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    held: list[Any] = []
    with pq.ParquetWriter(path, schema) as w:
        for b in batches:
            held.append(pa.Table.from_batches([b]).select(schema.names).cast(schema))
            while sum(t.num_rows for t in held) >= QUARANTINE_ROW_GROUP:
                whole = pa.concat_tables(held)
                w.write_table(whole.slice(0, QUARANTINE_ROW_GROUP).combine_chunks(),
                              row_group_size=QUARANTINE_ROW_GROUP)
                held = [whole.slice(QUARANTINE_ROW_GROUP)]
        rest = pa.concat_tables(held) if held else schema.empty_table()
        if rest.num_rows:
            w.write_table(rest.combine_chunks(), row_group_size=QUARANTINE_ROW_GROUP)


def _run(req: AggregateRequest, con: Any, source: Path, files: list[Path], out: Path, qpath: Path,
         ws: Any, scratch: Path) -> AggregateResult:
    """The one pipeline of every engine: read → classify → counts, quarantine, cells (→ store) → files.
    On DuckDB the classified records are written once to ``scratch`` (a Parquet file, removed with it)
    and the counts, quarantine and cells read from there: the input is read and classified once."""
    import time  # noqa: PLC0415

    from kinhteso.microdata import engine, publish  # noqa: PLC0415
    from kinhteso.safe_io import check_destination, csv_text, write_files_atomic  # noqa: PLC0415

    started = time.perf_counter()
    keys, divisions = engine.reference_codes()
    failures = engine.engine_errors(con)
    t = engine.open_records(con, files, what_vi=f"{source} như tệp Parquet hóa đơn",
                            what_en=f"{source} as Parquet e-invoice files", path=str(source))
    illustrative = _illustrative(files, source)
    c = engine.classify(t, territories=keys, divisions=divisions)
    if req.engine == "duckdb" and not req.incremental:
        try:
            con.to_parquet(c, scratch / "classified.parquet")
        except failures as exc:
            raise _bad_input(source, str(exc)) from exc
        c = con.read_parquet(scratch / "classified.parquet")
    qpath.parent.mkdir(parents=True, exist_ok=True)
    tmp_q = qpath.with_name(f".{qpath.name}.{os.getpid()}.tmp")
    try:
        try:
            base = str(source.resolve()) if source.is_dir() else ""
            if req.incremental:
                from kinhteso.microdata import incremental  # noqa: PLC0415

                up = incremental.update(con, incremental.months_of(files), _state_path(req), territories=keys,
                                        divisions=divisions, base=base, remove_missing=req.remove_missing,
                                        with_sellers=ws is not None)
                counts, cells, sellers, months = up.counts, up.cells, up.sellers, (up.recomputed, up.unchanged)
                incremental.write_quarantine(con, up.quarantine, tmp_q)
            else:
                counts = con.to_pandas(engine.reason_counts(c))
                quarantine = engine.set_aside(c, base=base)
                _write_parquet(engine.arrow_batches(con, quarantine), quarantine.schema().to_pyarrow(), tmp_q)
                cells = con.to_pandas(engine.cells(c))
                sellers = (con.to_pandas(engine.seller_sums(c, by=("territory", "vsic", "year")))
                           if ws is not None else None)
                months = None
        except failures as exc:
            raise _bad_input(source, str(exc)) from exc
        seconds = time.perf_counter() - started
        frame = publish.publish_frame(publish.apply_disclosure_control(cells))
        set_aside = {str(r): int(n) for r, n in zip(counts["reason"], counts["records"]) if r is not None and r == r}
        kept = int(counts.loc[counts["reason"].isna(), "records"].sum())
        readme = _readme(req, source, illustrative, kept, set_aside, len(frame), int((frame["flag"] == "C").sum()))
        stored = None
        if ws is not None:
            from kinhteso.pipeline.einvoice import store_aggregates  # noqa: PLC0415

            stored = store_aggregates(ws, cells=cells, sellers=sellers, source=_source_name(req, source),
                                      illustrative=illustrative, engine=req.engine)
        write_files_atomic([(out, csv_text(frame)), (out.with_name(out.name + ".README.txt"), readme)])
        check_destination(qpath)  # the quarantine, written beside its place, renamed into it
        os.replace(tmp_q, qpath)
    finally:
        tmp_q.unlink(missing_ok=True)
    notes = [("SỐ LIỆU MINH HỌA: hóa đơn giả lập, không phải số liệu thống kê chính thức.",
              "ILLUSTRATIVE: synthetic invoices, not official statistics.")] if illustrative else []
    return AggregateResult(out=out, quarantine=qpath, engine=req.engine, records_read=kept + sum(set_aside.values()),
                           kept=kept, set_aside=set_aside, cells=len(frame), suppressed=int((frame["flag"] == "C").sum()),
                           illustrative=illustrative, rule=publish.DISCLOSURE_RULE, notes=notes, stored=stored,
                           seconds=seconds, months_recomputed=months[0] if months else None,
                           months_from_state=months[1] if months else None)


def _readme(req: AggregateRequest, source: Path, illustrative: bool, kept: int, set_aside: dict[str, int],
            cells: int, suppressed: int) -> str:
    from kinhteso.microdata.publish import DISCLOSURE_RULE  # noqa: PLC0415
    from kinhteso.microdata.rules import SOURCES  # noqa: PLC0415

    lines = []
    if illustrative:
        lines += ["SỐ LIỆU MINH HỌA: tổng hợp từ hóa đơn giả lập, không phải số liệu thống kê chính thức.",
                  "ILLUSTRATIVE: aggregated from synthetic invoices, not official statistics.", ""]
    where = f"; master {req.master or 'local[*]'}" if req.engine == "spark" else ""
    lines += [f"source: {source}", f"engine: {req.engine} (Ibis expressions{where})",
              "cells: territory × vsic (VSIC 2018 class) × period (month, Viet Nam time) × channel × buyer_type",
              "value: VND billion (tỷ đồng) of the kept invoices; sellers: distinct sellers; flag C: suppressed",
              f"disclosure control: {DISCLOSURE_RULE}",
              f"records kept: {kept}; set aside: " + (", ".join(f"{k} {v}" for k, v in sorted(set_aside.items())) or "none"),
              f"cells: {cells}; suppressed (C): {suppressed}",
              "rules: " + "; ".join(SOURCES.values()), ""]
    return "\n".join(lines)
