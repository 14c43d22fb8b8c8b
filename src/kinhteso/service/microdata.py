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
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.progress import Progress, or_null

__all__ = ["GenerateRequest", "GenerateResult", "generate", "AggregateRequest", "AggregateResult", "aggregate",
           "ENGINES", "BUILT_ENGINES", "MAX_RECORDS"]

#: The engines ``--engine`` names, and those built so far.
ENGINES = ("duckdb", "spark")
BUILT_ENGINES = ("duckdb",)
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
    ``quarantine`` (a Parquet file; default ``out`` with ``.quarantine.parquet``)."""

    input: Path
    out: Path
    engine: str = "duckdb"
    quarantine: Path | None = None


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


def _quarantine_path(req: AggregateRequest) -> Path:
    if req.quarantine is not None:
        return Path(req.quarantine)
    out = Path(req.out)
    stem = out.name[:-4] if out.name.lower().endswith(".csv") else out.name
    return out.with_name(stem + ".quarantine.parquet")


def aggregate(req: AggregateRequest) -> AggregateResult:
    """Validate the records (quarantine), aggregate the kept ones by cell, apply disclosure control
    and write the CSV (:mod:`kinhteso.microdata`)."""
    from kinhteso.safe_io import check_destination  # noqa: PLC0415

    if req.engine not in ENGINES:
        raise UsageError("MICRODATA_BAD_ENGINE", f"Bộ máy '{req.engine}' không có; dùng {', '.join(ENGINES)}.",
                         f"Unknown engine '{req.engine}'; use {', '.join(ENGINES)}.")
    if req.engine not in BUILT_ENGINES:
        raise UsageError("MICRODATA_ENGINE_NOT_BUILT",
                         f"Bộ máy '{req.engine}' chưa được xây dựng (dự kiến); hiện dùng --engine duckdb.",
                         f"The '{req.engine}' engine is not built yet (planned); use --engine duckdb for now.")
    source, out, qpath = Path(req.input), check_destination(Path(req.out)), check_destination(_quarantine_path(req))
    for p in (out, qpath):
        if p.parent.exists() and not p.parent.is_dir():
            raise KinhtesoError("FILE_ERROR", f"Lỗi tệp {p}: {p.parent} không phải là thư mục.",
                                f"File error {p}: {p.parent} is not a folder.", path=str(p))
    files = _parquet_files(source)
    if not files:
        raise KinhtesoError("MICRODATA_NO_FILES", f"{source} không có tệp Parquet nào (*.parquet).",
                            f"{source} holds no Parquet file (*.parquet).", path=str(source))
    tmpdir = tempfile.mkdtemp(prefix="kinhteso-microdata-")
    try:
        return _run_duckdb(req, source, files, out, qpath, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _bad_input(source: Path, detail: str) -> KinhtesoError:
    first = (detail.splitlines() or [""])[0][:300]
    return KinhtesoError("MICRODATA_BAD_INPUT", f"Không đọc được {source} như tệp Parquet hóa đơn: {first}",
                         f"Cannot read {source} as Parquet e-invoice files: {first}", path=str(source))


def _run_duckdb(req: AggregateRequest, source: Path, files: list[Path], out: Path, qpath: Path,
                tmpdir: str) -> AggregateResult:
    import duckdb  # noqa: PLC0415

    from kinhteso.microdata import engine, publish  # noqa: PLC0415
    from kinhteso.reference import territories as terr  # noqa: PLC0415
    from kinhteso.reference import vsic  # noqa: PLC0415
    from kinhteso.safe_io import check_destination, csv_text, write_files_atomic  # noqa: PLC0415

    keys = {t.key: t.key for t in terr.territories() if t.basis == 34}
    keys.update({old: new for old, new in terr.merger_map().itertuples(index=False)})
    divisions = [s.code for s in vsic.sectors(2018) if s.level == "division"]
    con = engine.connect_duckdb(temp_directory=os.path.join(tmpdir, "spill"))
    try:
        try:
            t = engine.read_records(con, files)
            illustrative = _illustrative(files, source)
        except (duckdb.Error, OSError, ValueError) as exc:
            raise _bad_input(source, str(exc)) from exc
        except Exception as exc:  # pyarrow's and Ibis's own errors on a file that is not Parquet
            if type(exc).__module__.split(".")[0] in ("pyarrow", "ibis"):
                raise _bad_input(source, str(exc)) from exc
            raise
        missing = engine.missing_columns(t)
        if missing:
            raise KinhtesoError("MICRODATA_MISSING_COLUMN",
                                f"{source} thiếu cột: {', '.join(missing)}.", f"{source} lacks the columns: "
                                f"{', '.join(missing)}.", path=str(source), columns=missing)
        c = engine.classify(t, territories=keys, divisions=divisions)
        qpath.parent.mkdir(parents=True, exist_ok=True)
        tmp_q = qpath.with_name(f".{qpath.name}.{os.getpid()}.tmp")
        try:
            counts = con.to_pandas(engine.reason_counts(c))
            con.to_parquet(engine.set_aside(c, base=str(source.resolve()) if source.is_dir() else ""), tmp_q)
            cells = con.to_pandas(engine.cells(c))
        except duckdb.Error as exc:
            tmp_q.unlink(missing_ok=True)
            raise _bad_input(source, str(exc)) from exc
    finally:
        con.disconnect()
    guarded = publish.apply_disclosure_control(cells)
    frame = publish.publish_frame(guarded)
    set_aside = {str(r): int(n) for r, n in zip(counts["reason"], counts["records"]) if r is not None and r == r}
    kept = int(counts.loc[counts["reason"].isna(), "records"].sum())
    readme = _readme(req, source, illustrative, kept, set_aside, len(frame), int((frame["flag"] == "C").sum()))
    try:
        write_files_atomic([(out, csv_text(frame)), (out.with_name(out.name + ".README.txt"), readme)])
        check_destination(qpath)  # the quarantine, written beside its place, renamed into it
        os.replace(tmp_q, qpath)
    finally:
        tmp_q.unlink(missing_ok=True)
    notes = [("SỐ LIỆU MINH HỌA: hóa đơn giả lập, không phải số liệu thống kê chính thức.",
              "ILLUSTRATIVE: synthetic invoices, not official statistics.")] if illustrative else []
    return AggregateResult(out=out, quarantine=qpath, engine=req.engine, records_read=kept + sum(set_aside.values()),
                           kept=kept, set_aside=set_aside, cells=len(frame), suppressed=int((frame["flag"] == "C").sum()),
                           illustrative=illustrative, rule=publish.DISCLOSURE_RULE, notes=notes)


def _readme(req: AggregateRequest, source: Path, illustrative: bool, kept: int, set_aside: dict[str, int],
            cells: int, suppressed: int) -> str:
    from kinhteso.microdata.publish import DISCLOSURE_RULE  # noqa: PLC0415
    from kinhteso.microdata.rules import SOURCES  # noqa: PLC0415

    lines = []
    if illustrative:
        lines += ["SỐ LIỆU MINH HỌA: tổng hợp từ hóa đơn giả lập, không phải số liệu thống kê chính thức.",
                  "ILLUSTRATIVE: aggregated from synthetic invoices, not official statistics.", ""]
    lines += [f"source: {source}", f"engine: {req.engine} (Ibis expressions)",
              "cells: territory × vsic (VSIC 2018 class) × period (month, Viet Nam time) × channel × buyer_type",
              "value: VND billion (tỷ đồng) of the kept invoices; sellers: distinct sellers; flag C: suppressed",
              f"disclosure control: {DISCLOSURE_RULE}",
              f"records kept: {kept}; set aside: " + (", ".join(f"{k} {v}" for k, v in sorted(set_aside.items())) or "none"),
              f"cells: {cells}; suppressed (C): {suppressed}",
              "rules: " + "; ".join(SOURCES.values()), ""]
    return "\n".join(lines)
