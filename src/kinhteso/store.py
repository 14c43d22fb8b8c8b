"""The store: submissions and results in an embedded DuckDB file. The only module that speaks SQL.

Two kinds of data, never mixed:

- **submissions**: what agencies and publishers gave. Every accepted file is a *vintage* (who
  sent it, when, the file's SHA-256, the digest of its normalised content, how many rows) of
  ``observations``; nothing is overwritten or deleted, and a read returns, for each key, the
  value of the latest vintage received at or before an "as of" moment (now by default) and not
  retracted by then (``retractions``: a withdrawal is itself recorded).
- **results**: what kinhteso computed. Each belongs to a run (``result_runs``: kind, method,
  parameters, the vintages and runs it read, code version). A run's id is the SHA-256 of those,
  so the same inputs and parameters give the same run, stored once. A result is never status A
  and never appears among the submissions.

Who may write: one writer at a time, many readers (see :class:`_Database`). Across processes,
read-only work opens the file read-only under a shared lock and waits (with back-off) while a
writer commits; a writer stages its data elsewhere (:class:`Stage`, a scratch DuckDB file) and
holds the write connection only for the commit. Within a process, readers use their own cursor
and a write is serialised by a lock. A server opens its store as the *owner*: it keeps the write
connection, and its readers never wait on a write.

>>> from pathlib import Path; import tempfile
>>> with Store.open(Path(tempfile.mkdtemp()) / "k.duckdb", create=True) as s:
...     s.schema_version()
5
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kinhteso.errors import KinhtesoError, MethodError, UsageError, WorkspaceError

__all__ = ["Store", "Stage", "StagingError", "AlreadyStored", "VintageInfo", "ANY_SOURCE", "RunRecord", "OBS_KEY", "RESULT_KEY",
           "SCHEMA_VERSION", "RECORD_TABLES", "LOG_GENESIS", "LOG_FIELDS", "LogBreak", "log_entry_hash", "token_sha256", "RESULT_STATUSES", "RESULT_BASES", "READ_TIMEOUT", "WRITE_TIMEOUT"]

#: The columns that identify one observation. ``price_basis`` is part of the key so that the
#: same GRDP can be stored at current and at constant 2010 prices.
OBS_KEY = ("indicator", "territory", "sector", "period", "price_basis")
#: The columns that identify one result of a run (``view``: gso/mic/oecd, a nowcast engine, or '').
RESULT_KEY = ("indicator", "territory", "sector", "period", "view", "price_basis")
#: A result is estimated (E) or a forecast (F); never A (normal), which only a publisher gives.
RESULT_STATUSES = ("E", "F")
#: What a result is, for the official-figure rule: benchmarked to an annual figure, estimated, nowcast.
RESULT_BASES = ("benchmarked", "estimated", "nowcast")
#: Seconds a reader waits for a writer's commit, and a writer for readers and other writers,
#: before giving up with STORE_LOCKED.
READ_TIMEOUT = float(os.environ.get("KINHTESO_READ_TIMEOUT", "60"))
WRITE_TIMEOUT = float(os.environ.get("KINHTESO_WRITE_TIMEOUT", "300"))
_SETTINGS = {"memory_limit", "threads", "temp_directory"}

#: The source a submission has when nobody named it (``kinhteso ingest`` without ``--source``):
#: its content matches a vintage of *any* source (see :meth:`Store.matching_vintage`).
ANY_SOURCE = "unknown"


# --- content digest ----------------------------------------------------------------------------
#: Part of every content digest: a change of its definition never matches an old digest.
_CONTENT_VERSION = "kinhteso-content-v1"


def _content_digest_sql(relation: str, *, by: str | None = None) -> str:
    """SQL for the order-independent digest of the observations in ``relation`` (``by``: one
    digest per value of that column, as ``(by, digest)``; else one row, one column).

    Each row is written canonically — ``indicator, territory, sector, period, unit,
    price_basis, status`` and the value as ``printf('%.17g')`` (exact for a DOUBLE; ``-0`` as
    ``0``), joined by U+001F — and hashed with SHA-256; the first two 64-bit words of the row
    hashes are summed (exactly, as HUGEINT: a multiset hash, so row order does not matter and a
    repeated row counts twice). The digest is the SHA-256 of the version, the row count and the
    two sums. One parallel scan; no sort, nothing held per row."""
    row = ("concat_ws(chr(31), indicator, territory, sector, period, unit, price_basis, status, "
           "printf('%.17g', value + 0.0))")
    lane = "coalesce(sum(('0x' || substr(h, {0}, 16))::UBIGINT::HUGEINT), 0)::VARCHAR"
    digest = (f"sha256('{_CONTENT_VERSION}:' || count(*) || ':' || {lane.format(1)} || ':' || "
              f"{lane.format(17)})")
    if by is None:
        return f"SELECT {digest} FROM (SELECT sha256({row}) AS h FROM {relation})"
    return (f"SELECT {by}, {digest} AS digest FROM (SELECT {by}, sha256({row}) AS h FROM {relation}) "
            f"GROUP BY {by}")


# --- schema and migrations -------------------------------------------------------------------
# Each migration moves the schema from version i to i + 1; never edit a released one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL);
    CREATE SEQUENCE vintage_seq START 1;
    CREATE TABLE vintages (
        vintage_id   INTEGER PRIMARY KEY DEFAULT nextval('vintage_seq'),
        source       VARCHAR NOT NULL,
        received_at  TIMESTAMP NOT NULL,
        file_name    VARCHAR NOT NULL,
        sha256       VARCHAR NOT NULL,
        n_rows       BIGINT NOT NULL,
        illustrative BOOLEAN NOT NULL DEFAULT FALSE,
        note         VARCHAR
    );
    CREATE TABLE observations (
        vintage_id  INTEGER NOT NULL,
        indicator   VARCHAR NOT NULL,
        territory   VARCHAR NOT NULL,
        sector      VARCHAR NOT NULL,
        period      VARCHAR NOT NULL,
        value       DOUBLE NOT NULL,
        unit        VARCHAR NOT NULL,
        price_basis VARCHAR NOT NULL,
        status      VARCHAR NOT NULL,
        backcast    BOOLEAN NOT NULL DEFAULT FALSE
    );
    """,
    # 2: results of the pipeline, each run with its parameters and provenance
    """
    CREATE SEQUENCE run_seq START 1;
    CREATE TABLE runs (
        run_id       INTEGER PRIMARY KEY DEFAULT nextval('run_seq'),
        kind         VARCHAR NOT NULL,
        created_at   TIMESTAMP NOT NULL,
        code_version VARCHAR NOT NULL,
        parameters   VARCHAR NOT NULL,
        provenance   VARCHAR NOT NULL,
        illustrative BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE run_values (
        run_id    INTEGER NOT NULL,
        territory VARCHAR NOT NULL,
        period    VARCHAR NOT NULL,
        view      VARCHAR NOT NULL,
        measure   VARCHAR NOT NULL,
        sector    VARCHAR NOT NULL,
        value     DOUBLE
    );
    """,
    # 3: submissions and results apart. Results get their own content-addressed runs; what
    # earlier versions stored as observations of a ``kinhteso:*`` source (quarterly figures,
    # nowcasts, estimated coefficients) moves to the results, and so do the old runs.
    """
    CREATE TABLE result_runs (
        run_id       VARCHAR PRIMARY KEY,
        kind         VARCHAR NOT NULL,
        method       VARCHAR NOT NULL,
        parameters   VARCHAR NOT NULL,
        inputs       VARCHAR NOT NULL,
        code_version VARCHAR NOT NULL,
        computed_at  TIMESTAMP NOT NULL,
        illustrative BOOLEAN NOT NULL DEFAULT FALSE,
        provenance   VARCHAR NOT NULL
    );
    CREATE TABLE results (
        run_id      VARCHAR NOT NULL,
        indicator   VARCHAR NOT NULL,
        territory   VARCHAR NOT NULL,
        sector      VARCHAR NOT NULL,
        period      VARCHAR NOT NULL,
        view        VARCHAR NOT NULL,
        value       DOUBLE,
        unit        VARCHAR NOT NULL,
        price_basis VARCHAR NOT NULL,
        status      VARCHAR NOT NULL CHECK (status IN ('E', 'F')),
        basis       VARCHAR NOT NULL CHECK (basis IN ('benchmarked', 'estimated', 'nowcast'))
    );
    INSERT INTO result_runs
        SELECT 'legacy-v' || vintage_id,
               CASE WHEN split_part(source, ':', 2) IN ('calibration', 'io', 'revenue-share') THEN 'coef'
                    ELSE split_part(source, ':', 2) END,
               split_part(source, ':', 2), '{}', '{}', '', received_at, illustrative,
               to_json({'note': note, 'file_name': file_name, 'migrated_from': 'vintage ' || vintage_id})::VARCHAR
        FROM vintages WHERE source LIKE 'kinhteso:%';
    INSERT INTO results
        SELECT 'legacy-v' || o.vintage_id, o.indicator, o.territory, o.sector, o.period,
               CASE WHEN o.indicator IN ('DE_VA', 'DE_SHARE') THEN 'gso' ELSE '' END,
               o.value, o.unit, o.price_basis, CASE WHEN o.status = 'F' THEN 'F' ELSE 'E' END,
               CASE WHEN v.source = 'kinhteso:nowcast' THEN 'nowcast'
                    WHEN v.source = 'kinhteso:quarterly' AND o.status = 'A' THEN 'benchmarked'
                    ELSE 'estimated' END
        FROM observations o JOIN vintages v USING (vintage_id) WHERE v.source LIKE 'kinhteso:%';
    DELETE FROM observations WHERE vintage_id IN (SELECT vintage_id FROM vintages WHERE source LIKE 'kinhteso:%');
    DELETE FROM vintages WHERE source LIKE 'kinhteso:%';
    INSERT INTO result_runs
        SELECT 'legacy-r' || run_id, kind, kind, parameters, '{}', code_version, created_at, illustrative, provenance
        FROM runs;
    INSERT INTO results
        SELECT 'legacy-r' || v.run_id, upper(v.measure), v.territory, v.sector, v.period, v.view, v.value,
               CASE WHEN v.measure LIKE '%share%' THEN 'PCT' ELSE 'VND_BN' END, 'current',
               CASE WHEN r.kind = 'nowcast' THEN 'F' ELSE 'E' END,
               CASE WHEN r.kind = 'nowcast' THEN 'nowcast' ELSE 'estimated' END
        FROM run_values v JOIN runs r USING (run_id);
    DROP TABLE run_values;
    DROP TABLE runs;
    DROP SEQUENCE run_seq;
    """,
    # 4: idempotence by content and retractions. ``content_sha256`` is the digest of the
    # vintage's normalised rows (_content_digest_sql), computed here for the vintages already
    # stored (NULL only for a vintage without rows); a retraction withdraws a vintage's values
    # from the reads as of its time, and deletes nothing.
    """
    ALTER TABLE vintages ADD COLUMN content_sha256 VARCHAR;
    CREATE TABLE retractions (
        vintage_id   INTEGER PRIMARY KEY,
        retracted_at TIMESTAMP NOT NULL,
        reason       VARCHAR NOT NULL DEFAULT ''
    );
    UPDATE vintages SET content_sha256 = d.digest
    FROM (""" + _content_digest_sql("observations", by="vintage_id") + """) d
    WHERE vintages.vintage_id = d.vintage_id;
    """,
    # 5: the exchange with agencies (HTTP API): members and their grants and tokens (stored as
    # SHA-256), the tamper-evident exchange log (each entry chained to the previous one's hash),
    # the changes feed (one entry per new vintage or result run, with the indicators and
    # territories it touches) and webhook subscriptions with their deliveries.
    """
    CREATE TABLE members (
        code       VARCHAR PRIMARY KEY,
        name       VARCHAR NOT NULL,
        kind       VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP
    );
    CREATE SEQUENCE grant_seq START 1;
    CREATE TABLE grants (
        grant_id    INTEGER PRIMARY KEY DEFAULT nextval('grant_seq'),
        member      VARCHAR NOT NULL,
        role        VARCHAR NOT NULL,
        indicators  VARCHAR NOT NULL,
        territories VARCHAR NOT NULL,
        created_at  TIMESTAMP NOT NULL,
        revoked_at  TIMESTAMP
    );
    CREATE TABLE tokens (
        token_sha256 VARCHAR PRIMARY KEY,
        member       VARCHAR NOT NULL,
        created_at   TIMESTAMP NOT NULL,
        revoked_at   TIMESTAMP
    );
    CREATE SEQUENCE log_seq START 1;
    CREATE TABLE exchange_log (
        entry_id        BIGINT PRIMARY KEY DEFAULT nextval('log_seq'),
        logged_at       TIMESTAMP NOT NULL,
        member          VARCHAR,
        method          VARCHAR NOT NULL,
        endpoint        VARCHAR NOT NULL,
        status          INTEGER NOT NULL,
        request_sha256  VARCHAR NOT NULL,
        response_sha256 VARCHAR NOT NULL,
        outcome         VARCHAR NOT NULL,
        prev_hash       VARCHAR NOT NULL,
        entry_hash      VARCHAR NOT NULL
    );
    CREATE SEQUENCE change_seq START 1;
    CREATE TABLE changes (
        change_id   BIGINT PRIMARY KEY DEFAULT nextval('change_seq'),
        changed_at  TIMESTAMP NOT NULL,
        kind        VARCHAR NOT NULL,
        ref         VARCHAR NOT NULL,
        indicators  VARCHAR NOT NULL,
        territories VARCHAR NOT NULL
    );
    CREATE SEQUENCE subscription_seq START 1;
    CREATE TABLE subscriptions (
        subscription_id INTEGER PRIMARY KEY DEFAULT nextval('subscription_seq'),
        member          VARCHAR NOT NULL,
        url             VARCHAR NOT NULL,
        created_at      TIMESTAMP NOT NULL,
        revoked_at      TIMESTAMP
    );
    CREATE TABLE deliveries (
        subscription_id INTEGER NOT NULL,
        change_id       BIGINT NOT NULL,
        attempt         INTEGER NOT NULL,
        delivered_at    TIMESTAMP NOT NULL,
        status          INTEGER,
        error           VARCHAR
    );
    INSERT INTO changes (changed_at, kind, ref, indicators, territories)
        SELECT v.received_at, 'vintage', v.vintage_id::VARCHAR,
               coalesce(string_agg(DISTINCT o.indicator, ',' ORDER BY o.indicator), ''),
               coalesce(string_agg(DISTINCT o.territory, ',' ORDER BY o.territory), '')
        FROM vintages v LEFT JOIN observations o USING (vintage_id)
        GROUP BY v.vintage_id, v.received_at ORDER BY v.received_at, v.vintage_id;
    INSERT INTO changes (changed_at, kind, ref, indicators, territories)
        SELECT r.computed_at, 'run', r.run_id,
               coalesce(string_agg(DISTINCT x.indicator, ',' ORDER BY x.indicator), ''),
               coalesce(string_agg(DISTINCT x.territory, ',' ORDER BY x.territory), '')
        FROM result_runs r LEFT JOIN results x USING (run_id)
        GROUP BY r.run_id, r.computed_at ORDER BY r.computed_at, r.run_id;
    """,
    # 6: record-level datasets (kinhteso.reference.datasets): a vintage may hold records of one
    # dataset instead of observations (``record_vintages`` names it and the adapter that read
    # it); container events (DCSA equipment events) and vessel calls (times in UTC); the records
    # a file held that were set aside (``quarantine``: the reason and the record as read), never
    # dropped silently.
    """
    CREATE TABLE record_vintages (
        vintage_id INTEGER PRIMARY KEY,
        dataset    VARCHAR NOT NULL,
        adapter    VARCHAR NOT NULL
    );
    CREATE TABLE rec_container_events (
        vintage_id INTEGER NOT NULL,
        territory  VARCHAR NOT NULL,
        equipment  VARCHAR NOT NULL,
        event_type VARCHAR NOT NULL,
        classifier VARCHAR NOT NULL,
        event_at   TIMESTAMP NOT NULL,
        locode     VARCHAR NOT NULL,
        facility   VARCHAR
    );
    CREATE TABLE rec_vessel_calls (
        vintage_id    INTEGER NOT NULL,
        territory     VARCHAR NOT NULL,
        call_id       VARCHAR NOT NULL,
        locode        VARCHAR NOT NULL,
        facility      VARCHAR,
        vessel        VARCHAR NOT NULL,
        arrival_at    TIMESTAMP NOT NULL,
        berth_at      TIMESTAMP,
        departure_at  TIMESTAMP NOT NULL,
        gross_tonnage DOUBLE,
        teu           DOUBLE,
        nsw           VARCHAR NOT NULL
    );
    CREATE TABLE rec_customs_declarations (
        vintage_id     INTEGER NOT NULL,
        territory      VARCHAR NOT NULL,
        declaration_id VARCHAR NOT NULL,
        locode         VARCHAR NOT NULL,
        lodged_at      TIMESTAMP NOT NULL,
        flow           VARCHAR NOT NULL,
        channel        VARCHAR NOT NULL,
        electronic     VARCHAR NOT NULL
    );
    CREATE TABLE rec_delivery_orders (
        vintage_id INTEGER NOT NULL,
        territory  VARCHAR NOT NULL,
        order_id   VARCHAR NOT NULL,
        locode     VARCHAR NOT NULL,
        issued_at  TIMESTAMP NOT NULL,
        form       VARCHAR NOT NULL
    );
    CREATE TABLE rec_port_payments (
        vintage_id INTEGER NOT NULL,
        territory  VARCHAR NOT NULL,
        payment_id VARCHAR NOT NULL,
        locode     VARCHAR NOT NULL,
        paid_at    TIMESTAMP NOT NULL,
        method     VARCHAR NOT NULL,
        amount     DOUBLE
    );
    CREATE TABLE quarantine (
        vintage_id INTEGER NOT NULL,
        dataset    VARCHAR NOT NULL,
        line       BIGINT,
        reason     VARCHAR NOT NULL,
        record     VARCHAR NOT NULL
    );
    """,
    # 7: how many distinct reporting units (terminals, hospitals, schools, offices: a dataset's
    # ``unit_field``) a value derived from records rests on, for the disclosure rule of what is
    # shared back (no published cell from fewer than 3 units); NULL for every other result.
    """
    ALTER TABLE results ADD COLUMN units INTEGER;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)
class _RecordTables(Mapping):
    """The table of each record-level dataset of the registry (:func:`kinhteso.reference.datasets.datasets`)
    and its columns after ``vintage_id``, in order: ``rec_<dataset>``, ``territory`` (the province the
    record is in) then the dataset's fields. Migration 6 created the first five; a dataset added to the
    registry later gets its table when its first records are stored (:func:`_record_table_ddl`), so a
    new dataset needs no migration (a changed schema of a dataset with records would)."""

    def __getitem__(self, dataset: str) -> tuple[str, tuple[str, ...]]:
        from kinhteso.reference.datasets import datasets  # noqa: PLC0415

        ds = datasets()[dataset]
        return f"rec_{ds.code}", ("territory", *(f.name for f in ds.fields if f.name != "territory"))

    def __iter__(self) -> Iterator[str]:
        from kinhteso.reference.datasets import datasets  # noqa: PLC0415

        return iter(datasets())

    def __len__(self) -> int:
        from kinhteso.reference.datasets import datasets  # noqa: PLC0415

        return len(datasets())


RECORD_TABLES: Mapping[str, tuple[str, tuple[str, ...]]] = _RecordTables()
_SQL_TYPES = {"timestamp": "TIMESTAMP", "number": "DOUBLE", "integer": "BIGINT"}


def _record_table_ddl(dataset: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a dataset's records (timestamps in UTC; required fields NOT NULL)."""
    from kinhteso.reference.datasets import datasets  # noqa: PLC0415

    table, _ = RECORD_TABLES[dataset]
    fields = [f for f in datasets()[dataset].fields if f.name != "territory"]
    cols = ", ".join(f"{_q(f.name)} {_SQL_TYPES.get(f.type, 'VARCHAR')}{' NOT NULL' if f.required else ''}" for f in fields)
    return (f"CREATE TABLE IF NOT EXISTS {table} (vintage_id INTEGER NOT NULL, territory VARCHAR NOT NULL, {cols})")


_LATEST = """
    SELECT o.indicator, o.territory, o.sector, o.period, o.value, o.unit, o.price_basis,
           o.status, o.backcast, o.vintage_id, v.source, v.received_at, v.illustrative
    FROM observations o JOIN vintages v USING (vintage_id)
    WHERE v.received_at <= $as_of
      AND v.vintage_id NOT IN (SELECT vintage_id FROM retractions WHERE retracted_at <= $as_of) {where}
    QUALIFY row_number() OVER (
        PARTITION BY o.indicator, o.territory, o.sector, o.period, o.price_basis
        ORDER BY v.received_at DESC, o.vintage_id DESC) = 1
    ORDER BY o.indicator, o.territory, o.sector, o.period, o.price_basis
"""

_RESULTS = """
    SELECT x.indicator, x.territory, x.sector, x.period, x.view, x.value, x.unit, x.price_basis,
           x.status, x.basis, x.run_id, r.kind, r.method, r.computed_at, r.inputs, r.parameters,
           r.code_version, r.illustrative, x.units
    FROM results x JOIN result_runs r USING (run_id)
    WHERE r.computed_at <= $as_of {where}
    {qualify}
    ORDER BY x.indicator, x.territory, x.sector, x.period, x.view, r.computed_at, x.run_id
"""
_RESULT_COLUMNS = ("indicator", "territory", "sector", "period", "view", "value", "unit", "price_basis",
                   "status", "basis", "units")


class StagingError(KinhtesoError):
    """DuckDB could not parse a staged file; ``str()`` is DuckDB's own words (where), which
    ingestion reports as the file's ``CSV_PARSE`` problem.

    What DuckDB said, taken apart (:func:`_csv_error`): ``line`` (the record's number in the
    file, counting the header and any skipped note lines: the sheet row), ``found_text`` (the
    record as written), ``cause`` (``"columns"``: a record with ``found_columns`` cells where the
    header has ``expected_columns``; ``"quote"``: a quote opened and not closed, or text after a
    closing quote; ``"other"``)."""

    def __init__(self, detail: str, *, line: int | None = None, found_text: str = "", cause: str = "other",
                 expected_columns: int | None = None, found_columns: int | None = None) -> None:
        super().__init__("CSV_PARSE", f"Không đọc được tệp: {detail}", f"The file could not be parsed: {detail}",
                         detail=detail)
        self.detail = detail
        self.line = line
        self.found_text = found_text
        self.cause = cause
        self.expected_columns = expected_columns
        self.found_columns = found_columns

    def __str__(self) -> str:
        return self.detail


class AlreadyStored(Exception):
    """:meth:`Store.commit_stage` found, inside its transaction, a vintage with the same content
    (committed meanwhile by another writer): nothing was added; ``vintage_id`` is that vintage."""

    def __init__(self, vintage_id: int) -> None:
        super().__init__(f"already stored as vintage {vintage_id}")
        self.vintage_id = vintage_id


@dataclass(frozen=True)
class VintageInfo:
    """What is recorded of one accepted submission. ``content_sha256``: the digest of its
    normalised rows (computed from the rows when not given)."""

    source: str
    file_name: str
    sha256: str
    illustrative: bool = False
    note: str = ""
    content_sha256: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """What is recorded of one computation: its identity is the SHA-256 of ``kind``, ``method``,
    ``parameters``, ``inputs`` and ``code_version`` (see :attr:`run_id`).

    ``inputs``: ``{"vintages": [ids of the submissions read], "runs": [ids of results read]}``.
    ``provenance``: everything else worth keeping (warnings, notes); not part of the identity.

    >>> a = RunRecord("quarterly", "denton-cholette", {"a": 1}, {"vintages": [2, 1]}, "0.1")
    >>> a.run_id == RunRecord("quarterly", "denton-cholette", {"a": 1}, {"vintages": [1, 2]}, "0.1").run_id
    True
    """

    kind: str
    method: str
    parameters: dict
    inputs: dict
    code_version: str
    illustrative: bool = False
    provenance: dict = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        ident = {"kind": self.kind, "method": self.method, "parameters": self.parameters,
                 "inputs": {k: sorted(v) if isinstance(v, list | tuple | set) else v for k, v in self.inputs.items()},
                 "code_version": self.code_version}
        text = json.dumps(ident, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


# --- locking between processes and threads ----------------------------------------------------
def _locked(path: Path, seconds: float) -> WorkspaceError:
    return WorkspaceError(
        "STORE_LOCKED",
        f"Không gian làm việc ({path}) đang bận ghi quá {seconds:g} giây (một tiến trình khác hoặc máy chủ "
        "`kinhteso serve` đang giữ nó); hãy chờ nó xong rồi chạy lại, hoặc gửi qua máy chủ.",
        f"The workspace ({path}) has been busy for more than {seconds:g} s (another process, or a "
        "`kinhteso serve` server, holds it); wait for it to finish and run again, or go through the server.",
        path=str(path))


class _FileLock:
    """An advisory ``flock`` on a file beside the store, taken with back-off up to a timeout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, exclusive: bool, timeout: float, store: Path) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline, pause = time.monotonic() + timeout, 0.002
        while True:
            try:
                fcntl.flock(fd, mode)
                self._fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise _locked(store, timeout) from None
                time.sleep(pause)
                pause = min(pause * 1.5, 0.05)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class _RWLock:
    """Many readers or one writer, within a process; a waiting writer stops new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@contextlib.contextmanager
def _cursor(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of ``con`` of its own, closed after use."""
    cur = con.cursor()
    try:
        yield cur
    finally:
        cur.close()


class _Database:
    """The process's one handle on a store file, shared by every :class:`Store` opened on it.

    Modes:

    - ``shared`` (the CLI): reads go through a read-only connection held under a shared lock
      (``FILE.lock``); a write closes it, takes the exclusive lock (announcing itself on
      ``FILE.intent`` first so that new readers queue behind it), opens the file read-write
      only for the commit, and closes it again.
    - ``owner`` (a server): the read-write connection and the exclusive lock are kept for the
      process's life; readers use a cursor each and never wait on a write.
    """

    _all: dict[Path, _Database] = {}
    _all_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.settings: dict[str, object] = {}
        self.owner = False
        self.users = 0
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_rw = False
        self._rw = _RWLock()
        self._write_mutex = threading.RLock()
        self._open_mutex = threading.Lock()
        self._lock = _FileLock(Path(str(path) + ".lock"))
        self._intent = _FileLock(Path(str(path) + ".intent"))
        self._held: str | None = None  # "shared" / "exclusive"
        #: Bumped by every transaction of the write path (the exchange log's appends excepted):
        #: in owner mode no other process can write, so an answer read at one generation holds
        #: until the next (see :meth:`Store._memo`).
        self.generation = 0
        #: Bumped by every change of members, grants and tokens (what a token's member depends on).
        self.auth_generation = 0
        self._memo: dict[tuple, tuple[int, object]] = {}
        self._memo_lock = threading.Lock()
        #: The exchange log's own append path in owner mode (see :meth:`Store.append_log`).
        self._log_mutex = threading.Lock()

    @classmethod
    def get(cls, path: Path) -> _Database:
        key = path.resolve()
        with cls._all_lock:
            db = cls._all.get(key)
            if db is None:
                db = cls._all[key] = cls(key)
            db.users += 1
            return db

    def release_user(self) -> None:
        with _Database._all_lock:
            self.users -= 1
            if self.users > 0:
                return
            _Database._all.pop(self.path, None)
        with self._rw.write():
            self._disconnect()
            self.owner = False

    # --- connections -----------------------------------------------------------------------
    def _connect(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        config = {k: str(v) for k, v in self.settings.items() if k in _SETTINGS and v not in (None, "")}
        deadline, pause = time.monotonic() + (READ_TIMEOUT if read_only else WRITE_TIMEOUT), 0.005
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=config)
            except duckdb.Error as exc:
                text = str(exc).lower()
                if "lock" in text and time.monotonic() < deadline:  # a process that does not use our locks
                    time.sleep(pause)
                    pause = min(pause * 1.5, 0.1)
                    continue
                if "lock" in text:
                    raise _locked(self.path, READ_TIMEOUT if read_only else WRITE_TIMEOUT) from exc
                if "memory_limit" in text or "threads" in text or "config" in text:
                    raise WorkspaceError(
                        "BAD_SETTING", f"Thiết lập DuckDB không hợp lệ trong kinhteso.toml: {exc}",
                        f"Invalid DuckDB setting in kinhteso.toml: {exc}", path=str(self.path)) from exc
                raise WorkspaceError(
                    "STORE_OPEN", f"Không mở được cơ sở dữ liệu {self.path}: {exc}",
                    f"Cannot open the store {self.path}: {exc}", path=str(self.path)) from exc

    def _disconnect(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        self._lock.release()
        self._held = None

    def _ensure_read(self) -> duckdb.DuckDBPyConnection:
        """A connection to read from (caller holds the in-process read lock)."""
        with self._open_mutex:
            if self._con is None:
                self._open(exclusive=False)
            return self._con

    def become_owner(self) -> None:
        """Keep the write connection and the exclusive lock for this process's life (a server)."""
        with self._rw.write():
            if not self.owner:
                self._disconnect()
                self._open(exclusive=True)
                self.owner = True

    def _open(self, *, exclusive: bool) -> None:
        """Take the lock (through the intent turnstile, so that a waiting writer goes before new
        readers), then open the file read-only (shared) or read-write (exclusive)."""
        timeout = WRITE_TIMEOUT if exclusive else READ_TIMEOUT
        self._intent.acquire(exclusive=exclusive, timeout=timeout, store=self.path)
        try:
            self._lock.acquire(exclusive=exclusive, timeout=timeout, store=self.path)
        finally:
            self._intent.release()
        self._held = "exclusive" if exclusive else "shared"
        try:
            self._con = self._connect(read_only=not exclusive)
        except BaseException:
            self._lock.release()
            self._held = None
            raise
        self._con_rw = exclusive

    @contextlib.contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one read."""
        if self.owner:
            with _cursor(self._con) as cur:
                yield cur
            return
        with self._rw.read(), _cursor(self._ensure_read()) as cur:
            yield cur

    @contextlib.contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The write connection, for one transaction (the caller begins and commits it)."""
        with self._write_mutex:
            try:
                if self.owner:
                    with _cursor(self._con) as cur:
                        yield cur
                    return
                with self._rw.write():
                    self._disconnect()
                    self._open(exclusive=True)
                    try:
                        yield self._con
                    finally:
                        self._disconnect()
            finally:
                self.generation += 1


class Store:
    """One DuckDB workspace file. Use :meth:`open`; close it (or use ``with``).

    Every read takes a cursor of its own; every write is one transaction through the single
    write path (:meth:`_transaction`)."""

    def __init__(self, db: _Database, path: Path) -> None:
        self._db = db
        self.path = path
        self._closed = False

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, create: bool = False, owner: bool = False,
             settings: dict[str, object] | None = None) -> Store:
        """Open (or with ``create=True`` create) the store at ``path``; an older schema is
        brought up to date. ``owner=True`` keeps the write connection (a server)."""
        path = Path(path)
        if not path.exists() and not create:
            raise WorkspaceError(
                "NO_STORE",
                f"Không tìm thấy cơ sở dữ liệu {path}. Hãy chạy `kinhteso init` trước.",
                f"No store at {path}. Run `kinhteso init` first.",
                path=str(path),
            )
        db = _Database.get(path)
        if settings:
            db.settings.update({k: v for k, v in settings.items() if k in _SETTINGS})
        store = cls(db, path)
        try:
            if owner:
                db.become_owner()
            if not path.exists() or store.schema_version() < SCHEMA_VERSION:
                store._migrate()
            elif store.schema_version() > SCHEMA_VERSION:
                store._migrate()  # raises SCHEMA_NEWER
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.release_user()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def configure(self, *, memory_limit: str | None = None, temp_directory: Path | None = None,
                  threads: int | None = None) -> None:
        """Bound DuckDB's memory (it spills to ``temp_directory`` beyond the limit); applied to
        the connections opened from now on and to :class:`Stage`."""
        for k, v in (("memory_limit", memory_limit), ("temp_directory", temp_directory), ("threads", threads)):
            if v:
                self._db.settings[k] = str(v)

    # --- the two paths -------------------------------------------------------------------
    def _memo(self, key: tuple, compute: Callable[[], object], *, auth: bool = False) -> object:
        """``compute()``, remembered until the next write when this process owns the store (a
        server: no other process can write, and every write of this one bumps the generation;
        ``auth``: until the next change of members, grants or tokens); computed afresh every
        time otherwise. For small answers read on every request (the data version, a token's
        member), never for data frames a caller might change."""
        db = self._db
        if not db.owner:
            return compute()
        generation = db.auth_generation if auth else db.generation
        with db._memo_lock:
            hit = db._memo.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = compute()
        with db._memo_lock:
            if len(db._memo) > 4096:
                db._memo.clear()
            db._memo[key] = (generation, value)
        return value

    def _read(self, sql: str, params=None) -> pd.DataFrame:
        try:
            with self._db.reading() as cur:
                return cur.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from exc

    def _read_one(self, sql: str, params=None):
        try:
            with self._db.reading() as cur:
                return cur.execute(sql, params or []).fetchone()
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single write path: one transaction on the write connection."""
        with self._db.writing() as con, self._begun(con):
            yield con

    @contextlib.contextmanager
    def _begun(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """One transaction on ``con``: committed when the block ends, rolled back if it raises
        (a DuckDB error as the store's error)."""
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise _store_error(self.path, exc) from exc
            raise

    @contextlib.contextmanager
    def _auth_transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction changing members, grants or tokens: a server forgets every token's
        member before it and after it (a look-up while it runs is not kept)."""
        self._db.auth_generation += 1
        try:
            with self._transaction() as con:
                yield con
        finally:
            self._db.auth_generation += 1

    # --- schema --------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.path.exists():
            return 0
        exists = self._read_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")[0]
        if not exists:
            return 0
        row = self._read_one("SELECT max(version) FROM schema_version")
        return int(row[0] or 0)

    def _migrate(self) -> None:
        with self._db.writing() as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'").fetchone()[0]
            current = int(con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0) if exists else 0
            if current > SCHEMA_VERSION:
                raise WorkspaceError(
                    "SCHEMA_NEWER",
                    f"Cơ sở dữ liệu có lược đồ phiên bản {current}, mới hơn phần mềm ({SCHEMA_VERSION}). Hãy cập nhật kinhteso.",
                    f"The store's schema version {current} is newer than this software's ({SCHEMA_VERSION}). Upgrade kinhteso.",
                )
            for version in range(current, SCHEMA_VERSION):
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(_MIGRATIONS[version])
                    con.execute("INSERT INTO schema_version VALUES (?, ?)", [version + 1, _now()])
                    con.execute("COMMIT")
                except duckdb.Error as exc:
                    con.execute("ROLLBACK")
                    raise WorkspaceError(
                        "MIGRATION", f"Nâng cấp lược đồ thất bại: {exc}", f"Schema migration failed: {exc}"
                    ) from exc

    # --- submissions: vintages -----------------------------------------------------------
    #: the vintages a new submission may be the same as: not retracted, and of its source (any
    #: source for :data:`ANY_SOURCE`); ``{column}`` is ``sha256`` or ``content_sha256``
    _MATCH = ("SELECT vintage_id FROM vintages WHERE {column} = $digest "
              "AND ($source = '" + ANY_SOURCE + "' OR source = $source) "
              "AND vintage_id NOT IN (SELECT vintage_id FROM retractions) ORDER BY vintage_id LIMIT 1")

    def vintage_by_sha(self, sha256: str, *, source: str = ANY_SOURCE) -> int | None:
        """The first vintage, not retracted, of a file with these bytes from ``source`` (any
        source for :data:`ANY_SOURCE`), or None."""
        row = self._read_one(self._MATCH.format(column="sha256"), {"digest": sha256, "source": source})
        return None if row is None else int(row[0])

    def matching_vintage(self, content_sha256: str, *, source: str = ANY_SOURCE) -> int | None:
        """The first vintage, not retracted, whose normalised rows have this digest and whose
        source is ``source`` (any source for :data:`ANY_SOURCE`: an unnamed copy of data already
        submitted is that submission, never a newer provenance of it), or None."""
        row = self._read_one(self._MATCH.format(column="content_sha256"),
                             {"digest": content_sha256, "source": source})
        return None if row is None else int(row[0])

    def vintages(self) -> pd.DataFrame:
        """One row per accepted submission, oldest first, with its retraction (if any)."""
        return self._read(
            "SELECT v.vintage_id, v.source, v.received_at, v.file_name, v.sha256, v.n_rows, v.illustrative, v.note, "
            "v.content_sha256, r.retracted_at, r.reason AS retraction_reason "
            "FROM vintages v LEFT JOIN retractions r USING (vintage_id) ORDER BY v.vintage_id")

    def vintage(self, vintage_id: int, *, required: bool = False) -> dict | None:
        """One vintage's record (as :meth:`vintages` has it); when there is none, None, or with
        ``required`` the usage error ``UNKNOWN_VINTAGE``."""
        df = self._read(
            "SELECT v.vintage_id, v.source, v.received_at, v.file_name, v.sha256, v.n_rows, v.illustrative, v.note, "
            "v.content_sha256, r.retracted_at, r.reason AS retraction_reason "
            "FROM vintages v LEFT JOIN retractions r USING (vintage_id) WHERE v.vintage_id = ?", [int(vintage_id)])
        if df.empty and required:
            raise _unknown_vintage(int(vintage_id))
        return None if df.empty else df.iloc[0].to_dict()

    def retract(self, vintage_id: int, *, reason: str = "", at: dt.datetime | None = None) -> tuple[dt.datetime, bool]:
        """Withdraw a vintage's values from every read as of ``at`` (now) on: the retraction is
        recorded (``retractions``), nothing is deleted; a read as of an earlier moment still sees
        them, and for each key the previous vintage's value is the latest again. Returns
        (retracted_at, retracted now); a vintage retracted already keeps its first retraction.
        An unknown vintage is ``UNKNOWN_VINTAGE``."""
        vid = int(vintage_id)
        with self._transaction() as con:
            row = con.execute("SELECT received_at FROM vintages WHERE vintage_id = ?", [vid]).fetchone()
            if row is None:
                raise _unknown_vintage(vid)
            done = con.execute("SELECT retracted_at FROM retractions WHERE vintage_id = ?", [vid]).fetchone()
            if done is not None:
                return done[0], False
            when = at or _now()
            if when < row[0]:
                raise UsageError("RETRACT_BEFORE_RECEIVED",
                                 f"Không rút được phiên bản {vid} vào {when}: nó được nhận lúc {row[0]}.",
                                 f"Vintage {vid} cannot be retracted at {when}: it was received at {row[0]}.",
                                 vintage=vid)
            con.execute("INSERT INTO retractions VALUES (?, ?, ?)", [vid, when, reason or ""])
        return when, True

    # --- submissions: writing --------------------------------------------------------------
    @property
    def settings(self) -> dict[str, object]:
        """The DuckDB limits of this store (memory, threads, spill folder), for a scratch stage."""
        return dict(self._db.settings)

    @contextlib.contextmanager
    def _with_stage(self, stage: Stage) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
        """The write connection in a transaction with ``stage`` sealed and attached read-only under
        the alias yielded; committed when the block ends, rolled back when it raises."""
        path = stage.seal()
        alias = f"stage_{uuid.uuid4().hex[:12]}"
        with self._db.writing() as con:
            try:
                con.execute(f"ATTACH {_lit(str(path))} AS {alias} (READ_ONLY)")  # not inside a transaction
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con, alias
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                finally:
                    con.execute(f"DETACH {alias}")
            except duckdb.Error as exc:
                raise _store_error(self.path, exc) from exc

    def commit_stage(self, info: VintageInfo, stage: Stage, *, received_at: dt.datetime | None = None,
                     before_insert: Callable[[], None] | None = None) -> tuple[int, int]:
        """Store the staged, normalised rows (``stage``'s ``_norm``) as one new vintage, in one
        transaction; the write connection is held only for this. Returns (vintage_id, n_rows).

        When a vintage of the same content (``info.content_sha256``, computed from ``_norm`` when
        not given) and source (any source for :data:`ANY_SOURCE`) is stored, not retracted —
        checked inside the transaction, so two writers of the same data store it once — nothing
        is added and :class:`AlreadyStored` names it."""
        with self._with_stage(stage) as (con, alias):
            if info.content_sha256 is None:
                digest = con.execute(_content_digest_sql(f"{alias}._norm")).fetchone()[0]
                info = dataclasses.replace(info, content_sha256=digest)
            same = con.execute(self._MATCH.format(column="content_sha256"),
                               {"digest": info.content_sha256, "source": info.source}).fetchone()
            if same is not None:
                raise AlreadyStored(int(same[0]))
            vid = self._insert_vintage(con, info, received_at)
            if before_insert is not None:
                before_insert()
            n = self._insert_rows(con, vid, "SELECT indicator, territory, sector, period, value, unit, "
                                            f"price_basis, status, backcast FROM {alias}._norm")
            self._record_vintage_change(con, vid)
        return vid, n

    def add_frame(self, info: VintageInfo, frame: pd.DataFrame, *, received_at: dt.datetime | None = None) -> tuple[int, int]:
        """Store an already-validated long frame (published figures, demo data) as one vintage."""
        cols = ["indicator", "territory", "sector", "period", "value", "unit", "price_basis", "status", "backcast"]
        frame = frame.reindex(columns=cols)
        with self._transaction() as con:
            con.register("_frame_view", frame)
            try:
                vid = self._insert_vintage(con, info, received_at)
                n = self._insert_rows(con, vid, "SELECT * FROM _frame_view")
            finally:
                con.unregister("_frame_view")
            self._record_vintage_change(con, vid)
            if info.content_sha256 is None:  # the digest of the rows as stored
                con.execute("UPDATE vintages SET content_sha256 = (" + _content_digest_sql(
                    f"(SELECT * FROM observations WHERE vintage_id = {int(vid)})") + ") WHERE vintage_id = ?", [vid])
        return vid, n

    # --- record-level datasets ---------------------------------------------------------------
    def commit_records(self, info: VintageInfo, dataset: str, adapter: str, stage: Stage, *, key: Sequence[str] = (),
                       indicators: Sequence[str] = (), received_at: dt.datetime | None = None) -> tuple[int, int, int]:
        """Store the records a stage kept (``_rec`` less ``_aside``; :meth:`Stage.check_records`) as one
        vintage of ``dataset``, with the records set aside (``quarantine``: line, reason, the record
        as JSON), in one transaction, straight from the stage file (the records never pass through
        Python); the change names the ``indicators`` the dataset feeds and the records'
        territories. Returns (vintage, rows, how many of the rows a standing vintage held already,
        by ``key``)."""
        table, cols = RECORD_TABLES[dataset]
        col_list = ", ".join(_q(c) for c in cols)
        with self._with_stage(stage) as (con, alias):
            con.execute(_record_table_ddl(dataset))
            kept = f"(SELECT {col_list} FROM {alias}._rec WHERE _row NOT IN (SELECT _row FROM {alias}._aside))"
            known = 0
            if key:
                on = " AND ".join(f"f.{_q(k)} IS NOT DISTINCT FROM r.{_q(k)}" for k in key)
                known = int(con.execute(
                    f"SELECT count(*) FROM {kept} f WHERE EXISTS (SELECT 1 FROM {table} r WHERE {on} "
                    "AND r.vintage_id NOT IN (SELECT vintage_id FROM retractions))").fetchone()[0])
            vid = self._insert_vintage(con, info, received_at)
            con.execute("INSERT INTO record_vintages VALUES (?, ?, ?)", [vid, dataset, adapter])
            con.execute("SET preserve_insertion_order = false")
            try:
                n = int(con.execute(f"INSERT INTO {table} (vintage_id, {col_list}) "
                                    f"SELECT {int(vid)}, {col_list} FROM {kept}").fetchone()[0])
            finally:
                con.execute("SET preserve_insertion_order = true")
            fields = ", ".join(f"{_lit(c)}: r.{_q(c)}::VARCHAR" for c in cols if c != "territory")
            con.execute(f"INSERT INTO quarantine SELECT {int(vid)}, {_lit(dataset)}, a._row, a.reason, "
                        f"to_json({{{fields}}})::VARCHAR FROM {alias}._aside a JOIN {alias}._rec r USING (_row) "
                        "ORDER BY a._row")
            con.execute("UPDATE vintages SET n_rows = ? WHERE vintage_id = ?", [n, vid])
            inds = ", ".join(f"({_lit(i)})" for i in indicators) or "('')"
            self._record_change(con, "vintage", str(vid),
                                f"(SELECT i.indicator, t.territory FROM (VALUES {inds}) i(indicator), "
                                f"(SELECT DISTINCT territory FROM {table} WHERE vintage_id = {int(vid)}) t)")
        return vid, n, known

    def record_vintage(self, vintage_id: int) -> dict | None:
        """The dataset and adapter of a vintage holding records (None for observations)."""
        row = self._read_one("SELECT dataset, adapter FROM record_vintages WHERE vintage_id = ?", [int(vintage_id)])
        return None if row is None else {"dataset": row[0], "adapter": row[1]}

    def quarantine(self, vintage_id: int | None = None) -> pd.DataFrame:
        """The records set aside (``vintage_id, dataset, line, reason, record``), by vintage and line."""
        where = "" if vintage_id is None else f"WHERE vintage_id = {int(vintage_id)}"
        return self._read(f"SELECT vintage_id, dataset, line, reason, record FROM quarantine {where} "
                          "ORDER BY vintage_id, line")

    def import_dwell(self, territories: Sequence[str] | None = None, *, as_of: dt.datetime | None = None,
                     offset_hours: int = 7) -> pd.DataFrame:
        """Import containers' dwell: each actual gate-out (``GTOT``, ``ACT``) paired with the same
        container's last actual discharge (``DISC``, ``ACT``) before it at the same UN/LOCODE, with no
        other gate-out between (``territory, locode, equipment, facility, disc_at, gtot_at, hours, period``,
        ``facility`` the gate-out's, ``period`` its quarter in local time, UTC + ``offset_hours``). Events are read from
        the standing vintages as of ``as_of``, an event stored in several vintages once."""
        params: dict[str, object] = {"as_of": as_of or dt.datetime.max, "off": int(offset_hours)}
        where = ""
        if territories is not None:
            params["terrs"] = [str(t) for t in territories] or [""]
            where = "AND e.territory IN (SELECT unnest($terrs))"
        sql = f"""
            WITH ev AS (
                SELECT e.territory, e.locode, e.equipment, e.event_type, e.event_at, min(e.facility) AS facility
                FROM rec_container_events e JOIN vintages v USING (vintage_id)
                WHERE e.classifier = 'ACT' AND e.event_type IN ('DISC', 'GTOT') {where}
                  AND v.received_at <= $as_of
                  AND e.vintage_id NOT IN (SELECT vintage_id FROM retractions WHERE retracted_at <= $as_of)
                GROUP BY ALL
            ), seq AS (
                SELECT *, lag(event_type) OVER w AS prev_type, lag(event_at) OVER w AS prev_at
                FROM ev WINDOW w AS (PARTITION BY locode, equipment ORDER BY event_at, event_type)
            )
            SELECT territory, locode, equipment, facility, prev_at AS disc_at, event_at AS gtot_at,
                   epoch(event_at - prev_at) / 3600.0 AS hours,
                   strftime(event_at + to_hours($off), '%Y') || '-Q' ||
                       quarter(event_at + to_hours($off))::VARCHAR AS period
            FROM seq WHERE event_type = 'GTOT' AND prev_type = 'DISC'
            ORDER BY territory, period"""
        return self._read(sql, params)

    def vessel_calls(self, territories: Sequence[str] | None = None, *, as_of: dt.datetime | None = None,
                     offset_hours: int = 7) -> pd.DataFrame:
        """Vessel calls from the standing vintages as of ``as_of`` (a call sent again — the same port
        and call identifier — in a later vintage replaces the earlier record): ``territory, period``
        (the quarter of the departure in local time, UTC + ``offset_hours``), ``facility``, ``nsw``, ``hours``
        (arrival → departure), ``berth_hours`` (berthing → departure, when berthing is known), ``teu``."""
        params: dict[str, object] = {"as_of": as_of or dt.datetime.max, "off": int(offset_hours)}
        where = ""
        if territories is not None:
            params["terrs"] = [str(t) for t in territories] or [""]
            where = "AND c.territory IN (SELECT unnest($terrs))"
        return self._read(f"""
            SELECT territory, strftime(departure_at + to_hours($off), '%Y') || '-Q' ||
                       quarter(departure_at + to_hours($off))::VARCHAR AS period,
                   facility, nsw, epoch(departure_at - arrival_at) / 3600.0 AS hours,
                   epoch(departure_at - berth_at) / 3600.0 AS berth_hours, teu
            FROM rec_vessel_calls c JOIN vintages v USING (vintage_id)
            WHERE v.received_at <= $as_of {where}
              AND c.vintage_id NOT IN (SELECT vintage_id FROM retractions WHERE retracted_at <= $as_of)
            QUALIFY row_number() OVER (PARTITION BY c.locode, c.call_id ORDER BY c.vintage_id DESC) = 1
            ORDER BY territory, period""", params)

    def records_by_quarter(self, dataset: str, time_field: str, fields: Sequence[str], key: Sequence[str],
                           territories: Sequence[str] | None = None, *, as_of: dt.datetime | None = None,
                           offset_hours: int = 7) -> pd.DataFrame:
        """A dataset's records from the standing vintages as of ``as_of`` (a record sent again — the
        same ``key`` — in a later vintage replaces the earlier one): ``territory, period`` (the quarter
        of ``time_field``: a timestamp's in local time, UTC + ``offset_hours``, or a month's) and
        ``fields``. A dataset with no records stored yet (its table not created) gives no rows."""
        table, cols = RECORD_TABLES[dataset]
        if time_field not in cols or not set(fields) <= set(cols) or not set(key) <= set(cols):
            raise ValueError(f"{dataset}: unknown fields")
        if not self._has_table(table):
            return pd.DataFrame(columns=["territory", "period", *fields])
        params: dict[str, object] = {"as_of": as_of or dt.datetime.max, "off": int(offset_hours)}
        where = ""
        if territories is not None:
            params["terrs"] = [str(t) for t in territories] or [""]
            where = "AND c.territory IN (SELECT unnest($terrs))"
        quarter = self._quarter_sql(dataset, time_field)
        if "$off" not in quarter:  # a month field's quarter needs no offset
            del params["off"]
        return self._read(f"""
            SELECT territory, {quarter} AS period, {', '.join(_q(f) for f in fields)}
            FROM {table} c JOIN vintages v USING (vintage_id)
            WHERE v.received_at <= $as_of {where}
              AND c.vintage_id NOT IN (SELECT vintage_id FROM retractions WHERE retracted_at <= $as_of)
            QUALIFY row_number() OVER (PARTITION BY {', '.join('c.' + _q(k) for k in key)} ORDER BY c.vintage_id DESC) = 1
            ORDER BY territory, period""", params)

    def _has_table(self, table: str) -> bool:
        return bool(len(self._read("SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [table])))

    def record_territories(self, vintage_id: int) -> list[str]:
        """The territories a record vintage's rows are in."""
        held = self.record_vintage(vintage_id)
        if held is None:
            return []
        table, _ = RECORD_TABLES[held["dataset"]]
        if not self._has_table(table):
            return []
        return [str(t) for t in self._read(f"SELECT DISTINCT territory FROM {table} WHERE vintage_id = ? "
                                           "ORDER BY territory", [int(vintage_id)]).territory]

    def record_vintages(self, dataset: str | None = None) -> pd.DataFrame:
        """The standing vintages holding records (``vintage_id, dataset, adapter, source, illustrative``)."""
        where = "" if dataset is None else f"AND d.dataset = {_lit(dataset)}"
        return self._read("SELECT d.vintage_id, d.dataset, d.adapter, v.source, v.illustrative FROM record_vintages d "
                          "JOIN vintages v USING (vintage_id) WHERE d.vintage_id NOT IN "
                          f"(SELECT vintage_id FROM retractions) {where} ORDER BY d.vintage_id")

    @staticmethod
    def _insert_vintage(con, info: VintageInfo, received_at) -> int:
        return int(con.execute(
            "INSERT INTO vintages (source, received_at, file_name, sha256, n_rows, illustrative, note, content_sha256) "
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?) RETURNING vintage_id",
            [info.source, received_at or _now(), info.file_name, info.sha256, info.illustrative, info.note,
             info.content_sha256],
        ).fetchone()[0])

    @staticmethod
    def _insert_rows(con, vid: int, select_sql: str) -> int:
        # the INSERT returns its row count: no scan of the (growing) observations table
        con.execute("SET preserve_insertion_order = false")  # a vintage's rows have no order
        try:
            n = int(con.execute(
                "INSERT INTO observations (vintage_id, indicator, territory, sector, period, value, unit, "
                f"price_basis, status, backcast) SELECT {int(vid)}, * FROM ({select_sql})").fetchone()[0])
        finally:
            con.execute("SET preserve_insertion_order = true")
        con.execute("UPDATE vintages SET n_rows = ? WHERE vintage_id = ?", [n, vid])
        return n

    # --- submissions: reading --------------------------------------------------------------
    def observations(self, *, as_of: dt.datetime | None = None, **filters: Iterable[str] | str | None) -> pd.DataFrame:
        """The latest submitted value of every key (as of a moment), filtered by any of the key columns.

        ``filters`` take a value or a list of values for ``indicator``, ``territory``,
        ``sector``, ``period``, ``price_basis``, ``status`` and the vintage's ``source`` (the
        latest vintage *of that source* then wins).
        """
        where, params = _filters(filters, {"indicator", "territory", "sector", "period", "price_basis", "status",
                                           "source"}, {"source": "v"}, "o")
        params["as_of"] = as_of or dt.datetime.max
        return self._read(_LATEST.format(where=where), params)

    def history(self, *, indicator: str, territory: str, sector: str = "_T") -> pd.DataFrame:
        """Every submitted value of a series across all vintages (for revision analysis), with
        each vintage's ``retracted_at`` (NaT when it stands)."""
        return self._read(
            "SELECT o.period, o.value, o.status, o.vintage_id, v.source, v.received_at, v.illustrative, "
            "r.retracted_at FROM observations o JOIN vintages v USING (vintage_id) "
            "LEFT JOIN retractions r USING (vintage_id) "
            "WHERE o.indicator = ? AND o.territory = ? AND o.sector = ? ORDER BY o.period, v.received_at, o.vintage_id",
            [indicator, territory, sector])

    def observation_count(self) -> int:
        return int(self._read_one("SELECT count(*) FROM observations")[0])

    # --- results ---------------------------------------------------------------------------
    def add_results(self, run: RunRecord, values: pd.DataFrame) -> tuple[str, bool]:
        """Store a run and its values (columns :data:`RESULT_KEY` + value, unit, status, basis),
        unless a run with the same identity is stored already. Returns (run_id, stored now)."""
        return self.add_results_many([(run, values)])[0]

    def add_results_many(self, runs: Sequence[tuple[RunRecord, pd.DataFrame]]) -> list[tuple[str, bool]]:
        """Several runs in one transaction (one write for a batch, e.g. every province's quarters)."""
        prepared = []
        for run, values in runs:
            frame = values.reindex(columns=list(_RESULT_COLUMNS)).copy()
            frame["view"] = frame["view"].fillna("")
            frame["price_basis"] = frame["price_basis"].fillna("current")
            frame["units"] = pd.to_numeric(frame["units"], errors="raise").astype("Int64")
            bad = set(frame["status"]) - set(RESULT_STATUSES)
            if bad:
                raise MethodError("RESULT_STATUS",
                                  f"Kết quả của kinhteso chỉ có trạng thái {', '.join(RESULT_STATUSES)}, không phải {sorted(bad)}.",
                                  f"A result of kinhteso has status {', '.join(RESULT_STATUSES)} only, not {sorted(bad)}.")
            prepared.append((run, run.run_id, frame))
        ids = [rid for _, rid, _ in prepared]
        known = set(self._read("SELECT run_id FROM result_runs WHERE run_id IN (SELECT unnest($ids))",
                               {"ids": ids or [""]}).run_id) if ids else set()
        todo = [p for p in prepared if p[1] not in known]
        stored: set[str] = set()
        if todo:
            with self._transaction() as con:
                for run, rid, frame in todo:
                    if rid in stored or con.execute("SELECT 1 FROM result_runs WHERE run_id = ?", [rid]).fetchone():
                        continue  # the same run twice in the batch, or stored meanwhile by another writer
                    con.execute(
                        "INSERT INTO result_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [rid, run.kind, run.method, _json(run.parameters), _json(run.inputs), run.code_version, _now(),
                         run.illustrative, _json(run.provenance)])
                    con.register("_result_view", frame)
                    try:
                        con.execute(f"INSERT INTO results SELECT {_lit(rid)}, * FROM _result_view")
                        self._record_change(con, "run", rid, "_result_view")
                    finally:
                        con.unregister("_result_view")
                    stored.add(rid)
        return [(rid, rid in stored) for _, rid, _ in prepared]

    def results(self, *, as_of: dt.datetime | None = None, latest: bool = True,
                **filters: Iterable[str] | str | None) -> pd.DataFrame:
        """Stored results, filtered by any of ``indicator, territory, sector, period, view,
        price_basis, status, basis`` and the run's ``kind``, ``method`` or ``run_id``. With
        ``latest`` (default) only the most recent run's value of each key (per kind)."""
        where, params = _filters(filters, {"indicator", "territory", "sector", "period", "view", "price_basis",
                                           "status", "basis", "kind", "method", "run_id"},
                                 {"kind": "r", "method": "r", "run_id": "x"}, "x")
        params["as_of"] = as_of or dt.datetime.max
        qualify = ("QUALIFY row_number() OVER (PARTITION BY r.kind, x.indicator, x.territory, x.sector, x.period, "
                   "x.view, x.price_basis ORDER BY r.computed_at DESC, x.run_id DESC) = 1") if latest else ""
        return self._read(_RESULTS.format(where=where, qualify=qualify), params)

    def result_runs(self, *, kind: str | None = None) -> pd.DataFrame:
        """One row per stored run, oldest first."""
        where = "WHERE kind = ?" if kind else ""
        return self._read(
            "SELECT run_id, kind, method, parameters, inputs, code_version, computed_at, illustrative, provenance "
            f"FROM result_runs {where} ORDER BY computed_at, run_id", [kind] if kind else [])

    # --- exchange: members, grants, tokens ---------------------------------------------------
    # Members are the agencies that call the API; each has grants (a role on indicators and
    # territories, ``*`` for all, stored comma-joined) and tokens, stored only as their SHA-256.
    # A revoked member, grant or token is kept (with ``revoked_at``) and stops counting.
    def add_member(self, code: str, name: str, kind: str) -> bool:
        """Add a member; False (and nothing changed) when a member with this code exists."""
        with self._auth_transaction() as con:
            if con.execute("SELECT 1 FROM members WHERE code = ?", [code]).fetchone():
                return False
            con.execute("INSERT INTO members VALUES (?, ?, ?, ?, NULL)", [code, name, kind, _now()])
        return True

    def members(self) -> pd.DataFrame:
        """Every member, with how many grants and tokens stand (not revoked), by code."""
        return self._read(
            "SELECT m.code, m.name, m.kind, m.created_at, m.revoked_at, "
            "(SELECT count(*) FROM grants g WHERE g.member = m.code AND g.revoked_at IS NULL) AS grants, "
            "(SELECT count(*) FROM tokens t WHERE t.member = m.code AND t.revoked_at IS NULL) AS tokens "
            "FROM members m ORDER BY m.code")

    def member(self, code: str) -> dict | None:
        """One member's record (code, name, kind, created_at, revoked_at), or None."""
        df = self._read("SELECT code, name, kind, created_at, revoked_at FROM members WHERE code = ?", [code])
        return None if df.empty else df.iloc[0].to_dict()

    def revoke_member(self, code: str) -> bool:
        """Revoke a member (its tokens stop working at once); False when it was revoked already."""
        with self._auth_transaction() as con:
            n = con.execute("UPDATE members SET revoked_at = ? WHERE code = ? AND revoked_at IS NULL RETURNING code",
                            [_now(), code]).fetchall()
        return bool(n)

    def add_grant(self, member: str, role: str, indicators: Sequence[str], territories: Sequence[str]) -> int:
        """Grant ``role`` on these indicators and territories (``("*",)`` for all); returns its id."""
        with self._auth_transaction() as con:
            return int(con.execute(
                "INSERT INTO grants (member, role, indicators, territories, created_at) VALUES (?, ?, ?, ?, ?) "
                "RETURNING grant_id", [member, role, ",".join(indicators), ",".join(territories), _now()]).fetchone()[0])

    def revoke_grant(self, grant_id: int) -> bool:
        with self._auth_transaction() as con:
            n = con.execute("UPDATE grants SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL "
                            "RETURNING grant_id", [_now(), int(grant_id)]).fetchall()
        return bool(n)

    def grants(self, member: str | None = None, *, standing: bool = True) -> pd.DataFrame:
        """Grants (of one member), oldest first; ``standing``: only those not revoked."""
        where = ["member = $member"] if member is not None else []
        if standing:
            where.append("revoked_at IS NULL")
        sql = ("SELECT grant_id, member, role, indicators, territories, created_at, revoked_at FROM grants"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY grant_id")
        return self._read(sql, {"member": member} if member is not None else {})

    def create_token(self, member: str) -> str:
        """A new token for ``member``: returned once, stored only as its SHA-256."""
        import secrets  # noqa: PLC0415

        token = "kts_" + secrets.token_urlsafe(32)
        with self._auth_transaction() as con:
            con.execute("INSERT INTO tokens VALUES (?, ?, ?, NULL)", [token_sha256(token), member, _now()])
        return token

    def revoke_tokens(self, *, member: str | None = None, token_sha: str | None = None) -> list[str]:
        """Revoke every standing token of ``member``, or the one token with this SHA-256; returns
        the members whose tokens were revoked (one entry per token)."""
        if (member is None) == (token_sha is None):
            raise ValueError("name a member or a token")
        column, value = ("member", member) if member is not None else ("token_sha256", token_sha)
        with self._auth_transaction() as con:
            rows = con.execute(f"UPDATE tokens SET revoked_at = ? WHERE {column} = ? AND revoked_at IS NULL "
                               "RETURNING member", [_now(), value]).fetchall()
        return [r[0] for r in rows]

    def member_by_token(self, token_sha: str) -> tuple[tuple[str, str, str], tuple[tuple[str, str, str], ...]] | None:
        """The member whose standing token has this SHA-256, as ``(code, name, kind)``, with its
        standing grants as ``(role, indicators, territories)`` (comma-joined, oldest first); None
        for an unknown or revoked token or a revoked member. Asked on every API request: a server
        remembers the answer until its next write."""
        def lookup():
            try:
                with self._db.reading() as cur:
                    row = cur.execute(
                        "SELECT m.code, m.name, m.kind FROM tokens t JOIN members m ON m.code = t.member "
                        "WHERE t.token_sha256 = ? AND t.revoked_at IS NULL AND m.revoked_at IS NULL",
                        [token_sha]).fetchone()
                    if row is None:
                        return None
                    grants = cur.execute("SELECT role, indicators, territories FROM grants WHERE member = ? "
                                         "AND revoked_at IS NULL ORDER BY grant_id", [row[0]]).fetchall()
            except duckdb.Error as exc:
                raise _store_error(self.path, exc) from exc
            return tuple(row), tuple(tuple(g) for g in grants)

        return self._memo(("member_by_token", token_sha), lookup, auth=True)


    # --- exchange: changes -------------------------------------------------------------------
    # The changes feed: one row per new vintage (kind ``vintage``, ref its id) and per new result
    # run (kind ``run``, ref its run id), written in the transaction that stores it, with the
    # distinct indicators and territories it touches (comma-separated). ``change_id`` is the
    # cursor of ``GET /changes?since=``. Webhook subscriptions and each delivery attempt.
    @staticmethod
    def _record_change(con, kind: str, ref: str, relation: str) -> None:
        """One ``changes`` row for the rows of ``relation`` (a table, view or sub-query with
        ``indicator`` and ``territory``), inside the caller's transaction."""
        con.execute(
            "INSERT INTO changes (changed_at, kind, ref, indicators, territories) "
            "SELECT ?, ?, ?, coalesce(string_agg(DISTINCT indicator, ',' ORDER BY indicator), ''), "
            "coalesce(string_agg(DISTINCT territory, ',' ORDER BY territory), '') FROM " + relation,
            [_now(), kind, str(ref)])

    def _record_vintage_change(self, con, vid: int) -> None:
        self._record_change(con, "vintage", str(int(vid)),
                            f"(SELECT indicator, territory FROM observations WHERE vintage_id = {int(vid)})")

    def changes_since(self, cursor: int = 0, *, indicators: Iterable[str] | None = None,
                      territories: Iterable[str] | None = None,
                      scopes: Iterable[tuple[Iterable[str] | None, Iterable[str] | None]] | None = None,
                      limit: int | None = None) -> pd.DataFrame:
        """The changes after ``cursor`` (a ``change_id``; 0: from the beginning), oldest first:
        ``change_id, changed_at, kind, ref, indicators, territories``.

        ``indicators``/``territories`` keep the changes touching any of them (None: any).
        ``scopes`` — a member's grants, each ``(indicators, territories)`` with None for any —
        keeps the changes that some scope intersects on both; an empty ``scopes`` keeps none."""
        if scopes is None:
            scopes = [(indicators, territories)]
        conds, params = [], {"cursor": int(cursor)}
        for n, (inds, terrs) in enumerate(scopes):
            parts = []
            for col, vals in (("indicators", inds), ("territories", terrs)):
                if vals is None:
                    continue
                vals = sorted({str(v) for v in vals})
                if not vals:
                    parts = None
                    break
                params[f"{col[0]}{n}"] = vals
                parts.append(f"list_has_any(string_split({col}, ','), ${col[0]}{n}::VARCHAR[])")
            if parts is None:
                continue
            conds.append("(" + " AND ".join(parts) + ")" if parts else "TRUE")
        if not conds:
            return pd.DataFrame(columns=["change_id", "changed_at", "kind", "ref", "indicators", "territories"])
        lim = f" LIMIT {int(limit)}" if limit is not None else ""
        return self._read(
            "SELECT change_id, changed_at, kind, ref, indicators, territories FROM changes "
            f"WHERE change_id > $cursor AND ({' OR '.join(conds)}) ORDER BY change_id{lim}", params)

    def latest_change_id(self) -> int:
        """The cursor of the latest change (0 when there is none)."""
        return int(self._read_one("SELECT coalesce(max(change_id), 0) FROM changes")[0])

    def vintage_scope(self, vintage_id: int) -> pd.DataFrame:
        """The distinct ``indicator, territory, period`` of a vintage's rows (what it changes)."""
        return self._read("SELECT DISTINCT indicator, territory, period FROM observations WHERE vintage_id = ? "
                          "ORDER BY indicator, territory, period", [int(vintage_id)])

    _SUBSCRIPTION = "SELECT subscription_id, member, url, created_at, revoked_at FROM subscriptions"

    def add_subscription(self, member: str, url: str) -> tuple[dict, bool]:
        """Register a webhook ``url`` for ``member``; the same member and url, not revoked, is the
        subscription already stored. Returns (subscription, created now)."""
        with self._transaction() as con:
            row = con.execute(self._SUBSCRIPTION + " WHERE member = ? AND url = ? AND revoked_at IS NULL "
                              "ORDER BY subscription_id LIMIT 1", [member, url]).fetchone()
            if row is not None:
                created = False
            else:
                row = con.execute("INSERT INTO subscriptions (member, url, created_at) VALUES (?, ?, ?) "
                                  "RETURNING subscription_id, member, url, created_at, revoked_at",
                                  [member, url, _now()]).fetchone()
                created = True
        return dict(zip(("subscription_id", "member", "url", "created_at", "revoked_at"), row)), created

    def subscriptions(self, *, member: str | None = None, active: bool = True) -> pd.DataFrame:
        """Subscriptions (of ``member``; only those not revoked unless ``active=False``), oldest first."""
        where, params = [], []
        if member is not None:
            where.append("member = ?")
            params.append(member)
        if active:
            where.append("revoked_at IS NULL")
        sql = self._SUBSCRIPTION + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY subscription_id"
        return self._read(sql, params)

    def revoke_subscription(self, subscription_id: int, *, member: str | None = None) -> dict | None:
        """Revoke a subscription (of ``member`` when given); None when there is no such
        subscription. A subscription revoked already keeps its first revocation."""
        with self._transaction() as con:
            cond, params = "subscription_id = ?", [int(subscription_id)]
            if member is not None:
                cond += " AND member = ?"
                params.append(member)
            row = con.execute(self._SUBSCRIPTION + " WHERE " + cond, params).fetchone()
            if row is None:
                return None
            if row[4] is None:
                row = con.execute("UPDATE subscriptions SET revoked_at = ? WHERE subscription_id = ? "
                                  "RETURNING subscription_id, member, url, created_at, revoked_at",
                                  [_now(), int(subscription_id)]).fetchone()
        return dict(zip(("subscription_id", "member", "url", "created_at", "revoked_at"), row))

    def log_delivery(self, subscription_id: int, change_id: int, attempt: int, *, status: int | None = None,
                     error: str | None = None) -> None:
        """Record one delivery attempt of the changes up to ``change_id`` to a subscription
        (``status``: the HTTP status received, None when none was; ``error``: why it failed)."""
        with self._transaction() as con:
            con.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
                        [int(subscription_id), int(change_id), int(attempt), _now(), status, error])

    def deliveries(self, subscription_id: int | None = None) -> pd.DataFrame:
        """Delivery attempts, in the order they were made."""
        where = "WHERE subscription_id = ?" if subscription_id is not None else ""
        return self._read("SELECT subscription_id, change_id, attempt, delivered_at, status, error FROM deliveries "
                          f"{where} ORDER BY delivered_at, subscription_id, change_id, attempt",
                          [int(subscription_id)] if subscription_id is not None else [])

    #: the error text that closes a delivery given up after its last attempt
    GAVE_UP = "gave up"

    def delivery_cursor(self, subscription_id: int) -> int:
        """The cursor a subscription's deliveries have reached: the highest ``change_id``
        delivered (2xx) or given up, else the last change recorded before it was created."""
        row = self._read_one(
            "SELECT coalesce((SELECT max(change_id) FROM deliveries WHERE subscription_id = $s AND "
            "((status BETWEEN 200 AND 299) OR starts_with(coalesce(error, ''), $gave_up))), "
            "(SELECT max(c.change_id) FROM changes c, subscriptions s WHERE s.subscription_id = $s "
            "AND c.changed_at < s.created_at), 0)", {"s": int(subscription_id), "gave_up": self.GAVE_UP})
        return int(row[0])

    # --- api: submissions and reads (issue 12, the read routes and submissions) -------------
    def vintage_keys(self, vintage_id: int) -> pd.DataFrame:
        """The distinct ``indicator, territory`` pairs of one vintage's rows (what a submission
        of the same file again is authorised against)."""
        return self._read("SELECT DISTINCT indicator, territory FROM observations WHERE vintage_id = ? "
                          "ORDER BY indicator, territory", [int(vintage_id)])

    def data_version(self, indicators: Iterable[str] | None = None,
                     territories: Iterable[str] | None = None) -> tuple[int, int, int]:
        """A cheap fingerprint of what reads can see: (the last vintage, retractions, result runs).
        Any submission, retraction or stored run changes it (the API's read cache is keyed on it).

        With ``indicators`` and ``territories`` (store keys), the fingerprint of that part only:
        (the last change — a vintage or a result run — holding one of these indicators for one of
        these territories, retractions, 0); a submission elsewhere leaves it as it was. The
        caller names every territory the read depends on (a 34-basis unit's 63-basis
        predecessors, the nation whose coefficients provinces borrow)."""
        if indicators is None or territories is None:
            def read() -> tuple[int, int, int]:
                row = self._read_one("SELECT (SELECT coalesce(max(vintage_id), 0) FROM vintages), "
                                     "(SELECT count(*) FROM retractions), (SELECT count(*) FROM result_runs)")
                return int(row[0]), int(row[1]), int(row[2])

            return self._memo(("data_version",), read)
        inds, terrs = sorted({str(i) for i in indicators}), sorted({str(t) for t in territories})
        if self._db.owner:  # a server: from its index of the changes, read once per write
            index = self._memo(("change_index",), self._change_index)
            last = index.pairs
            return max((last.get((i, t), 0) for i in inds for t in terrs), default=0), index.retractions, 0
        row = self._read_one(
            "SELECT (SELECT coalesce(max(change_id), 0) FROM changes "
            "        WHERE list_has_any(string_split(indicators, ','), $inds) "
            "          AND list_has_any(string_split(territories, ','), $terrs)), "
            "(SELECT count(*) FROM retractions)", {"inds": inds, "terrs": terrs})
        return int(row[0]), int(row[1]), 0

    def _change_index(self) -> _ChangeIndex:
        """The last change of every (indicator, territory) pair and the number of retractions,
        brought up to date from the index of the last write (only the changes since are read)."""
        old = _CHANGE_INDEXES.get(self._db)
        index = _ChangeIndex(dict(old.pairs) if old else {}, old.last if old else 0, 0)
        try:
            with self._db.reading() as cur:
                rows = cur.execute("SELECT change_id, indicators, territories FROM changes WHERE change_id > ? "
                                   "ORDER BY change_id", [index.last]).fetchall()
                index.retractions = int(cur.execute("SELECT count(*) FROM retractions").fetchone()[0])
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from exc
        for change_id, inds, terrs in rows:
            for i in inds.split(","):
                for t in terrs.split(","):
                    index.pairs[(i, t)] = int(change_id)
            index.last = int(change_id)
        _CHANGE_INDEXES[self._db] = index
        return index

    # --- exchange: log -----------------------------------------------------------------------
    # The tamper-evident exchange log: one entry per HTTP request and its response (member,
    # method, endpoint, status, the SHA-256 of both bodies, outcome), each chained to the one
    # before: entry_hash = SHA-256(prev_hash || canonical text of the entry's fields), see
    # :func:`log_entry_hash`. Ids run 1, 2, 3... without a gap. Entries are only appended.
    def append_log(self, entries: Iterable[dict]) -> list[int]:
        """Append entries (dicts with ``member`` (None when anonymous), ``method``, ``endpoint``,
        ``status``, ``request_sha256``, ``response_sha256``, ``outcome``) in one transaction of the
        single write path; returns their ids. The last entry's hash is read inside the
        transaction, so that concurrent appends never fork the chain."""
        todo = [(None if e.get("member") in (None, "") else str(e["member"]), str(e["method"]), str(e["endpoint"]),
                 int(e["status"]), str(e["request_sha256"]), str(e["response_sha256"]), str(e["outcome"]))
                for e in entries]
        if not todo:
            return []
        # A server (the owner: no other process can write) appends on a path of its own: a cursor
        # and a transaction of their own under the log's mutex, so that a response never waits
        # behind a submission's commit (DuckDB runs the two transactions side by side; they touch
        # different tables), and it keeps the head it committed last instead of looking it up in
        # a log that grows with every request. The head changes only with the commit that makes
        # it true, and is forgotten when a commit fails. Elsewhere (the CLI) an append is one
        # transaction of the single write path.
        owner = self._db.owner
        with self._db._log_mutex if owner else self._db._write_mutex:
            head = _LOG_HEADS.get(self._db) if owner else None
            try:
                with self._log_transaction() if owner else self._transaction() as con:
                    if head is None:
                        last = con.execute("SELECT entry_id, entry_hash FROM exchange_log "
                                           "WHERE entry_id = (SELECT max(entry_id) FROM exchange_log)").fetchone()
                        head = (int(last[0]), last[1]) if last else (0, LOG_GENESIS)
                    entry_id, prev = head
                    now, rows = _now(), []
                    for fields in todo:
                        entry_id += 1
                        entry = (entry_id, now, *fields)
                        digest = log_entry_hash(prev, entry)
                        rows.append([*entry, prev, digest])
                        prev = digest
                    for i in range(0, len(rows), 200):  # one statement of many rows (executemany is slow)
                        chunk = rows[i:i + 200]
                        con.execute(f"INSERT INTO exchange_log ({', '.join(LOG_FIELDS)}, prev_hash, entry_hash) "
                                    "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk)),
                                    [v for r in chunk for v in r])
            except BaseException:
                _LOG_HEADS.pop(self._db, None)
                raise
            if owner:
                _LOG_HEADS[self._db] = (entry_id, prev)
        return [r[0] for r in rows]

    @contextlib.contextmanager
    def _log_transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The exchange log's own transaction in owner mode (caller holds the log mutex): it
        changes nothing that reads see, so the write generation stays."""
        with _cursor(self._db._con) as con, self._begun(con):
            yield con

    def verify_log(self) -> LogBreak | None:
        """Check the whole chain, oldest first: None when intact, else the first broken entry
        and why (``gap``: ids missing before it; ``link``: its prev_hash is not the previous
        entry's hash; ``changed``: its fields do not give its hash)."""
        prev_id, prev_hash = 0, LOG_GENESIS
        try:
            with self._db.reading() as cur:
                cur.execute(f"SELECT {', '.join(LOG_FIELDS)}, prev_hash, entry_hash FROM exchange_log ORDER BY entry_id")
                while rows := cur.fetchmany(10_000):
                    for row in rows:
                        entry_id = int(row[0])
                        if entry_id != prev_id + 1:
                            return LogBreak.gap(entry_id, prev_id)
                        if row[9] != prev_hash:
                            return LogBreak.link(entry_id, prev_id)
                        if log_entry_hash(row[9], row[:9]) != row[10]:
                            return LogBreak.changed(entry_id)
                        prev_id, prev_hash = entry_id, row[10]
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from exc
        return None

    def log_entries(self, since: dt.datetime | None = None, *, until: dt.datetime | None = None) -> pd.DataFrame:
        """Entries logged at or after ``since`` (and before ``until``), oldest first, with every
        column (the hashes too, so that an auditor can check the chain again)."""
        return self._read(
            f"SELECT {', '.join(LOG_FIELDS)}, prev_hash, entry_hash FROM exchange_log "
            "WHERE logged_at >= $since AND logged_at < $until ORDER BY entry_id",
            {"since": since or dt.datetime.min, "until": until or dt.datetime.max})

    def log_head(self) -> tuple[int, int, str]:
        """(number of entries, last id, last hash): what an auditor notes to detect, later, entries
        removed from the end (the chain alone cannot show a cut tail)."""
        n, last = self._read_one("SELECT count(*), max(entry_id) FROM exchange_log")
        if not last:
            return 0, 0, LOG_GENESIS
        return int(n), int(last), self._read_one("SELECT entry_hash FROM exchange_log WHERE entry_id = ?", [last])[0]

    # =========================================================================================
    # --- sharing back (issue 16, item 5: kinhteso.service.sharing) ---------------------------
    # Added at the end of the class by the sharing work (the lead may move or merge them): the
    # standing records of a dataset counted per cell (territory × quarter [× a code field] ×
    # reporting unit × source × vintage) for the disclosure rule and a member's contribution; a
    # page of a dataset's records with their source; the inputs of result runs; vintages' sources.
    # =========================================================================================
    @staticmethod
    def _quarter_sql(dataset: str, time_field: str) -> str:
        """The quarter of ``time_field`` as SQL (a timestamp's in local time, UTC + ``$off``
        hours; a month field's ``YYYY-MM``), as :meth:`records_by_quarter` reads it."""
        from kinhteso.reference.datasets import datasets  # noqa: PLC0415

        t = _q(time_field)
        if datasets()[dataset].field(time_field).type == "month":
            return f"substr({t}, 1, 4) || '-Q' || ((CAST(substr({t}, 6, 2) AS INTEGER) + 2) // 3)::VARCHAR"
        return f"strftime({t} + to_hours($off), '%Y') || '-Q' || quarter({t} + to_hours($off))::VARCHAR"

    def record_counts(self, dataset: str, time_field: str, key: Sequence[str], *, unit_field: str | None = None,
                      code_field: str | None = None, territories: Sequence[str] | None = None,
                      as_of: dt.datetime | None = None, offset_hours: int = 7) -> pd.DataFrame:
        """A dataset's standing records counted per ``territory, period`` (the quarter of
        ``time_field``), ``code`` (``code_field``'s value; None when not asked), ``unit``
        (``unit_field``'s value: the reporting unit; None when the dataset has none), ``source``
        and ``vintage_id``: column ``records``. A record sent again (the same ``key``) counts once,
        in its latest vintage, as the indicators read it. No table yet: no rows."""
        table, cols = RECORD_TABLES[dataset]
        named = [f for f in (time_field, unit_field, code_field, *key) if f is not None]
        if not set(named) <= set(cols):
            raise ValueError(f"{dataset}: unknown fields")
        out_cols = ["territory", "period", "code", "unit", "source", "vintage_id", "records"]
        if not self._has_table(table):
            return pd.DataFrame(columns=out_cols)
        params: dict[str, object] = {"as_of": as_of or dt.datetime.max, "off": int(offset_hours)}
        where = ""
        if territories is not None:
            params["terrs"] = [str(t) for t in territories] or [""]
            where = "AND c.territory IN (SELECT unnest($terrs))"
        partition = ", ".join("c." + _q(k) for k in key) or "c.vintage_id, c.rowid"
        code = f"{_q(code_field)}::VARCHAR" if code_field else "NULL::VARCHAR"
        unit = f"{_q(unit_field)}::VARCHAR" if unit_field else "NULL::VARCHAR"
        quarter = self._quarter_sql(dataset, time_field)
        if "$off" not in quarter:  # a month field: no offset (DuckDB refuses a parameter not used)
            params.pop("off")
        return self._read(f"""
            WITH r AS (
                SELECT c.*, v.source FROM {table} c JOIN vintages v USING (vintage_id)
                WHERE v.received_at <= $as_of {where}
                  AND c.vintage_id NOT IN (SELECT vintage_id FROM retractions WHERE retracted_at <= $as_of)
                QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY c.vintage_id DESC) = 1)
            SELECT territory, {quarter} AS period, {code} AS code, {unit} AS unit,
                   source, vintage_id, count(*)::BIGINT AS records
            FROM r GROUP BY ALL ORDER BY territory, period, code, unit, source, vintage_id""", params)

    def dataset_records(self, dataset: str, *, sources: Sequence[str] | None = None,
                        territories: Sequence[str] | None = None, limit: int = 1000, offset: int = 0) -> pd.DataFrame:
        """A page of a dataset's records in the standing vintages (every vintage's rows as stored,
        a record sent again appearing in each of its vintages), with ``vintage_id`` and the
        vintage's ``source``, ordered by vintage and insertion; filtered by sources and
        territories (None: all)."""
        table, cols = RECORD_TABLES[dataset]
        if not self._has_table(table):
            return pd.DataFrame(columns=["vintage_id", "source", *cols])
        params: dict[str, object] = {"lim": int(limit), "off": int(offset)}
        where = ""
        if sources is not None:
            params["srcs"] = [str(s) for s in sources] or [""]
            where += " AND v.source IN (SELECT unnest($srcs))"
        if territories is not None:
            params["terrs"] = [str(t) for t in territories] or [""]
            where += " AND c.territory IN (SELECT unnest($terrs))"
        return self._read(f"""
            SELECT c.vintage_id, v.source, {', '.join('c.' + _q(c) for c in cols)}
            FROM {table} c JOIN vintages v USING (vintage_id)
            WHERE c.vintage_id NOT IN (SELECT vintage_id FROM retractions) {where}
            ORDER BY c.vintage_id, c.rowid LIMIT $lim OFFSET $off""", params)

    def run_inputs(self, run_ids: Iterable[str]) -> dict[str, str]:
        """run_id → its ``inputs`` (JSON text), for the runs stored among ``run_ids``."""
        ids = sorted({str(r) for r in run_ids})
        if not ids:
            return {}
        df = self._read("SELECT run_id, inputs FROM result_runs WHERE run_id IN (SELECT unnest($ids))", {"ids": ids})
        return dict(zip(df["run_id"], df["inputs"]))

    def vintage_sources(self, vintage_ids: Iterable[int]) -> dict[int, str]:
        """vintage_id → its source, for the vintages stored among ``vintage_ids``."""
        ids = sorted({int(v) for v in vintage_ids})
        if not ids:
            return {}
        df = self._read("SELECT vintage_id, source FROM vintages WHERE vintage_id IN (SELECT unnest($ids))",
                        {"ids": ids})
        return {int(v): str(s) for v, s in zip(df["vintage_id"], df["source"])}


@dataclass
class _ChangeIndex:
    """A server's index of the changes feed: the last change of each (indicator, territory)."""

    pairs: dict[tuple[str, str], int]
    last: int
    retractions: int


#: The change index of each open database in owner mode (see Store.data_version).
_CHANGE_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# --- exchange: log (the chain) ------------------------------------------------------------------
#: The prev_hash of the first entry of the exchange log.
LOG_GENESIS = "0" * 64
#: The head (last id, last hash) a server committed last, per open database (see Store.append_log).
_LOG_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: The fields of a log entry that its hash covers, in the order of the canonical text.
LOG_FIELDS = ("entry_id", "logged_at", "member", "method", "endpoint", "status", "request_sha256",
              "response_sha256", "outcome")


def log_entry_hash(prev_hash: str, entry: Sequence) -> str:
    """SHA-256 (hex) of ``prev_hash`` followed by the canonical text of the entry's fields
    (:data:`LOG_FIELDS`, in order): a compact JSON array, ``logged_at`` as ISO text to the
    microsecond, ``member`` null when anonymous, non-ASCII kept as UTF-8.

    >>> import datetime as dt
    >>> log_entry_hash(LOG_GENESIS, (1, dt.datetime(2026, 1, 2, 3, 4, 5), None, "GET", "/api/v1/x", 200,
    ...                              "a" * 64, "b" * 64, "ok"))[:16]
    '4b8dc611e985c726'
    """
    entry_id, logged_at, member, method, endpoint, status, request_sha, response_sha, outcome = entry
    text = json.dumps([int(entry_id), logged_at.isoformat(timespec="microseconds"), member, method, endpoint,
                       int(status), request_sha, response_sha, outcome], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LogBreak:
    """The first broken entry of the exchange log: its id, why (``gap``, ``link``, ``changed``)
    and a message in Vietnamese and English."""

    entry_id: int
    reason: str
    vi: str
    en: str

    def message(self, lang: str | None = None) -> str:
        from kinhteso.i18n import current_lang  # noqa: PLC0415

        return self.en if (lang or current_lang()) == "en" else self.vi

    @classmethod
    def gap(cls, entry_id: int, prev_id: int) -> LogBreak:
        missing = f"{prev_id + 1}" if entry_id == prev_id + 2 else f"{prev_id + 1}–{entry_id - 1}"
        if entry_id <= prev_id:
            return cls(entry_id, "gap", f"Mục {entry_id}: số thứ tự không tăng sau mục {prev_id} (nhật ký bị sửa).",
                       f"Entry {entry_id}: its id does not follow entry {prev_id} (the log was altered).")
        return cls(entry_id, "gap", f"Mục {entry_id}: thiếu mục {missing} trước nó (đã bị xóa).",
                   f"Entry {entry_id}: entry {missing} before it is missing (deleted).")

    @classmethod
    def link(cls, entry_id: int, prev_id: int) -> LogBreak:
        before = f"mục {prev_id}" if prev_id else "điểm khởi đầu"
        before_en = f"entry {prev_id}" if prev_id else "the genesis value"
        return cls(entry_id, "link",
                   f"Mục {entry_id}: prev_hash không khớp với mã băm của {before} ({before} hoặc mục {entry_id} đã bị sửa).",
                   f"Entry {entry_id}: its prev_hash does not match the hash of {before_en} "
                   f"({before_en} or entry {entry_id} was altered).")

    @classmethod
    def changed(cls, entry_id: int) -> LogBreak:
        return cls(entry_id, "changed",
                   f"Mục {entry_id}: nội dung không khớp với mã băm của nó (một trường đã bị sửa).",
                   f"Entry {entry_id}: its fields do not match its hash (a field was changed).")


# --- staging ---------------------------------------------------------------------------------
class Stage:
    """A scratch DuckDB file where one submission is staged, checked and normalised before
    :meth:`Store.commit_stage` copies it into the store. Nothing here touches the store.

    Ingestion hands a stage data, never SQL: the file's column names, the resolved mappings as
    small data frames (:meth:`register_mapping`), which mapping to list the problems of, the
    decimal mark, the merger date, limits. Every statement is written here.

    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "f.csv").write_text("indicator,value\\nGDP,1\\nGPD,2\\n", encoding="utf-8")
    >>> with Stage(d / "s.duckdb") as st:
    ...     st.stage_csv(d / "f.csv", delimiter=",", columns=["indicator", "value"], has_row_column=False)
    ...     st.register_mapping("indicator", pd.DataFrame({"raw_indicator": ["GDP", "GPD"],
    ...                                                     "code": [None, "UNKNOWN"],
    ...                                                     "vi": [None, "sai"], "en": [None, "wrong"]}))
    ...     st.problem_rows("indicator", {"indicator", "value"}).values.tolist()
    [[3, 'UNKNOWN', 'sai', 'wrong']]
    """

    def __init__(self, path: Path, *, settings: dict[str, object] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        config = {k: str(v) for k, v in (settings or {}).items() if k in _SETTINGS and v not in (None, "")}
        try:
            self._con = duckdb.connect(str(self.path), config=config)
        except duckdb.Error as exc:
            raise _store_error(self.path, exc) from exc
        self._mappings: dict[str, tuple[str, ...]] = {}  # name → the staged columns it is keyed on
        self._raw_kind: str | None = None  # what the staged ``_raw`` is: "TABLE", "VIEW" or nothing

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        for p in (self.path, Path(str(self.path) + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    @classmethod
    def sealed(cls, path: Path) -> Stage:
        """A stage sealed elsewhere (another process checked the file): nothing is opened;
        :meth:`Store.commit_stage` attaches the file, :meth:`close` removes it."""
        stage = cls.__new__(cls)
        stage.path, stage._con, stage._mappings, stage._raw_kind = Path(path), None, {}, None
        return stage

    @staticmethod
    def sealed_rows(path: Path) -> int:
        """How many normalised rows a sealed stage holds (read only; the file is left as it is)."""
        con = duckdb.connect(str(path), read_only=True)
        try:
            return int(con.execute("SELECT count(*) FROM _norm").fetchone()[0])
        finally:
            con.close()

    def seal(self) -> Path:
        """Close the scratch connection (its ``_norm`` written to the file) for the store to attach."""
        if self._con is not None:
            self._con.execute("CHECKPOINT")
            self._con.close()
            self._con = None
        return self.path

    # --- reading a file into the stage --------------------------------------------------------
    def stage_csv(self, path: Path, *, delimiter: str, columns: Sequence[str], has_row_column: bool,
                  skip: int = 0) -> None:
        """Read a UTF-8 CSV as text into the temporary table ``_raw`` under the given column names
        (the header line is skipped), with the sheet row number in ``_row``. Streams: the file is
        never read whole into Python."""
        self.drop_staging()
        # The sheet row comes from the temporary table's rowid (insertion order = file order):
        # cheaper than a row_number() window, which would read the file on one thread.
        target = "_raw" if has_row_column else "_raw_t"
        try:
            self._con.execute(
                f"CREATE TEMP TABLE {target} AS SELECT * FROM read_csv(?, all_varchar = true, "
                f"header = true, skip = {int(skip)}, delim = ?, quote = '\"', escape = '\"', auto_detect = false, "
                "strict_mode = true, null_padding = false, columns = ?)",
                [str(path), delimiter, {c: "VARCHAR" for c in columns}],
            )
        except duckdb.Error as exc:
            raise _csv_error(str(exc)) from exc
        self._raw_kind = "TABLE"
        if not has_row_column:
            self._con.execute(f"CREATE TEMP VIEW _raw AS SELECT rowid + {2 + int(skip)} AS _row, * FROM _raw_t")
            self._raw_kind = "VIEW"

    def unpivot_staged(self, key_columns: Sequence[str], period_columns: Sequence[str]) -> None:
        """Turn a wide ``_raw`` (one column per period) into the long layout, dropping empty cells."""
        cols = ", ".join(_q(c) for c in period_columns)
        keys = ", ".join(["_row", *(_q(c) for c in key_columns)])
        self._con.execute(
            f"CREATE TEMP TABLE _long AS SELECT {keys}, period, value FROM "
            f"(UNPIVOT _raw ON {cols} INTO NAME period VALUE value) "
            "WHERE value IS NOT NULL AND trim(value) <> ''"
        )
        self._drop_raw()
        self._con.execute("ALTER TABLE _long RENAME TO _raw")
        self._raw_kind = "TABLE"

    def staged_count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM _raw").fetchone()[0])

    def count_empty_wide_cells(self, key_columns: Sequence[str], period_columns: Sequence[str]) -> int:
        """Empty cells of a wide ``_raw`` (before :meth:`unpivot_staged`)."""
        parts = " + ".join(
            f"(CASE WHEN {_q(c)} IS NULL OR trim({_q(c)}) = '' THEN 1 ELSE 0 END)" for c in period_columns
        )
        return int(self._con.execute(f"SELECT coalesce(sum({parts}), 0) FROM _raw").fetchone()[0])

    def distinct(self, columns: Sequence[str]) -> pd.DataFrame:
        """The distinct combinations of staged text columns (few, even for millions of rows)."""
        cols = ", ".join(_q(c) for c in columns)
        return self._con.execute(f"SELECT DISTINCT {cols} FROM _raw").df()

    def distinct_sets(self, sets: Sequence[Sequence[str]]) -> list[pd.DataFrame]:
        """The distinct combinations of several sets of staged columns, in one scan (GROUPING SETS)."""
        cols = list(dict.fromkeys(c for group in sets for c in group))
        if not cols:
            return [pd.DataFrame() for _ in sets]
        gsets = ", ".join("(" + ", ".join(_q(c) for c in group) + ")" for group in sets)
        df = self._con.execute(
            f"SELECT {', '.join(_q(c) for c in cols)}, GROUPING_ID({', '.join(_q(c) for c in cols)}) AS _g "
            f"FROM _raw GROUP BY GROUPING SETS ({gsets})").df()
        out = []
        for group in sets:
            # GROUPING_ID sets bit (n-1-i) for each column i *not* grouped
            gid = sum(1 << (len(cols) - 1 - i) for i, c in enumerate(cols) if c not in group)
            out.append(df.loc[df["_g"] == gid, list(group)].reset_index(drop=True))
        return out

    # --- checking and normalising: the mappings come as data, the SQL is written here ----------
    def register_mapping(self, name: str, frame: pd.DataFrame) -> None:
        """Make a resolved mapping (a small data frame) available to the checks as ``name`` (no copy).

        A mapping is keyed on its ``raw_<column>`` columns: each is matched with the staged text
        of ``<column>`` (``''`` for an empty cell or a column the file does not have). Where a raw
        value is bad, the mapping's ``code``, ``vi`` and ``en`` say why (:meth:`problem_rows`).
        :meth:`normalise` reads the mappings it names, with the columns it lists."""
        keys = tuple(c[len("raw_"):] for c in frame.columns if c.startswith("raw_"))
        if not keys:
            raise ValueError(f"mapping {name!r} has no raw_<column> column to join the staged rows on")
        table = _mapping_table(name)
        self._con.unregister(table)
        self._con.register(table, frame)
        self._mappings[name] = keys

    def problem_rows(self, mapping: str, present: Iterable[str], limit: int | None = None) -> pd.DataFrame:
        """The staged rows whose raw values ``mapping`` marks as bad (a ``code``), in sheet order:
        ``_row``, ``code``, ``vi``, ``en``; at most ``limit`` rows. ``present`` names the columns
        the file has (the others read as empty)."""
        on = self._mapping_on(mapping, "m", "r", present)
        return self._con.execute(
            f"SELECT r._row, m.code, m.vi, m.en FROM _raw r JOIN {_mapping_table(mapping)} m ON {on} "
            f"WHERE m.code IS NOT NULL ORDER BY r._row{_limit_sql(limit)}"
        ).df()

    def normalise(self, present: Iterable[str], decimal: str, merger_date: dt.date) -> None:
        """Materialise the normalised rows (``_norm``, a table of the scratch file that the store
        attaches to commit) from ``_raw`` and the mappings, in one join, once.

        The mappings read (``kid``: a small integer per normalised value, 1, 2, …):
        ``indicator`` (→ indicator, kid), ``territory`` (→ territory, basis, kid), ``period``
        (→ period, start, kid), ``sector`` (→ sector, kid), ``unit`` (→ unit, lo, hi) and, when the
        file has the column (``present``), ``price_basis`` (→ price_basis, kid) and ``status``
        (→ status); without them a row is ``current`` and ``A``. Each row gets:

        - ``value``: the cell read as a number (:func:`_value_sql`); spaces and no-break spaces are
          ignored; with ``decimal`` ``","`` the comma is the decimal mark and a dot may only
          separate groups of three digits (``1.234.567,5``; ``1.5`` reads as no number); a
          percentage (``15,3%``, or an Excel percent cell, written ``15.3%`` by the reader) is
          read as its number for unit ``PCT`` only (15.3), and as no number otherwise;
        - ``backcast``: a 34-basis territory for a period that starts before ``merger_date``;
        - ``_bad``: the value is empty, not a finite number, or outside the unit's ``lo``–``hi``;
        - ``_key``: the observation key packed into one integer (:meth:`duplicate_rows`)."""
        present = frozenset(present)
        v = _value_sql(decimal, "r.value", "u.unit")
        joins = "".join(
            f" JOIN {_mapping_table(m)} {a} ON {self._mapping_on(m, a, 'r', present)}"
            for m, a in _NORMALISE_JOINS.items() if m not in _NORMALISE_OPTIONAL or m in present)
        pb = "pb.price_basis" if "price_basis" in present else "'current'"
        pb_kid = "pb.kid" if "price_basis" in present else "1"
        st = "st.status" if "status" in present else "'A'"
        merger = merger_date.strftime("%Y-%m-%d")
        # _key packs the five key ids (each < 2^12 distinct values in one file; periods < 2^16,
        # price bases < 2^4) into one BIGINT; equal keys always pack equal, and a repeat of a
        # packed key is confirmed on the key's columns (duplicate_rows)
        select = (
            "SELECT r._row, i.indicator, t.territory, s.sector, p.period, "
            f"{v} AS value, u.unit, {pb} AS price_basis, {st} AS status, "
            f"coalesce(t.basis = 34 AND p.start < DATE '{merger}', FALSE) AS backcast, "
            f"({v} IS NULL OR NOT isfinite({v}) OR coalesce({v} < u.lo, FALSE) OR coalesce({v} > u.hi, FALSE)) AS _bad, "
            f"((((i.kid::BIGINT * 4096 + t.kid) * 4096 + s.kid) * 65536 + p.kid) * 16 + {pb_kid}) AS _key "
            f"FROM _raw r{joins}"
        )
        self._con.execute("DROP TABLE IF EXISTS _norm")
        # rows are found again by _row: their order need not be kept (faster, less memory)
        self._con.execute("SET preserve_insertion_order = false")
        try:
            self._con.execute(f"CREATE TABLE _norm AS {select}")
        finally:
            self._con.execute("SET preserve_insertion_order = true")

    def value_problem_rows(self, limit: int | None = None) -> pd.DataFrame:
        """The normalised rows whose value is bad (``_bad``, see :meth:`normalise`), in sheet order,
        with what a message needs: ``_row``, ``value`` (the number read, or NaN), ``indicator``,
        ``unit``, ``raw_value`` (the cell as written), ``lo`` and ``hi`` (the bounds of the row's
        ``unit`` mapping); at most ``limit`` rows. One scan of the flag; the rest only for the rows
        at fault."""
        on = self._mapping_on("unit", "u", "x", self._mappings.get("unit", ()))
        return self._con.execute(
            "SELECT r._row, r.value, r.indicator, r.unit, x.value AS raw_value, u.lo, u.hi FROM _norm r "
            f"JOIN _raw x ON x._row = r._row JOIN {_mapping_table('unit')} u ON {on} "
            f"WHERE r._bad ORDER BY r._row{_limit_sql(limit)}"
        ).df()

    def duplicate_rows(self, limit: int | None = None) -> pd.DataFrame:
        """Normalised rows whose observation key (indicator, territory, sector, period, price
        basis) appeared on an earlier row: ``_row`` and the key's ``first_row``, in sheet order.

        A row with a key part that did not resolve (NULL: a problem already reported for that
        cell) is no duplicate of anything: rows whose bad codes all resolve to NULL are not
        reported again as duplicates of each other. A mapping's ``kid`` is NULL where its
        normalised value is, so ``_key`` is NULL for such a row.

        A first pass groups on ``_key``, the key packed into one integer (fast); only when it
        finds a repeat do the rows get compared by the key's columns."""
        n_dup = self._con.execute(
            "SELECT count(*) FROM (SELECT _key FROM _norm WHERE _key IS NOT NULL GROUP BY _key "
            "HAVING count(*) > 1)").fetchone()[0]
        if not n_dup:  # the usual case: one aggregate, no window over the whole file
            return pd.DataFrame({"_row": pd.Series(dtype="int64"), "first_row": pd.Series(dtype="int64")})
        k = ", ".join(_q(c) for c in _OBSERVATION_KEY)
        resolved = " AND ".join(f"{_q(c)} IS NOT NULL" for c in _OBSERVATION_KEY)
        return self._con.execute(
            f"SELECT _row, first_row FROM (SELECT _row, min(_row) OVER (PARTITION BY {k}) AS first_row "
            f"FROM _norm WHERE _key IS NOT NULL AND {resolved}) WHERE _row <> first_row ORDER BY _row{_limit_sql(limit)}"
        ).df()

    def dotted_thousand_rows(self, limit: int | None = None) -> pd.DataFrame:
        """Staged rows whose value cell is digits, one dot and exactly three digits (``1.234``,
        ``-12.500``): with a decimal point a small number, but in a file whose other values use
        the dot between thousands (``1.234.567``) most likely 1234. ``_row``, ``raw_value``, in
        sheet order; at most ``limit`` rows. A scan of the file, made only when such other
        values were found."""
        return self._con.execute(
            f"SELECT _row, value AS raw_value FROM _raw WHERE regexp_full_match({_value_text_sql('value')}, "
            f"'{_SINGLE_THOUSANDS}') ORDER BY _row{_limit_sql(limit)}"
        ).df()

    def _mapping_on(self, mapping: str, alias: str, raw: str, present: Iterable[str]) -> str:
        """The join condition of a registered mapping (as ``alias``) with staged rows (as ``raw``)."""
        try:
            keys = self._mappings[mapping]
        except KeyError:
            raise ValueError(f"no mapping {mapping!r} is registered on this stage") from None
        present = frozenset(present)
        return " AND ".join(
            f"{alias}.{_q('raw_' + c)} = " + (f"coalesce({raw}.{_q(c)}, '')" if c in present else "''")
            for c in keys)

    def staged_backcast_count(self) -> int:
        """Normalised rows flagged as back-casts (before they are written)."""
        return int(self._con.execute("SELECT count(*) FROM _norm WHERE backcast").fetchone()[0])

    def _drop_raw(self) -> None:
        """Drop the staged ``_raw`` (a view over ``_raw_t`` for CSV, a table for XLSX or wide files)."""
        if self._raw_kind is not None:
            self._con.execute(f"DROP {self._raw_kind} IF EXISTS _raw")
            self._raw_kind = None
        self._con.execute("DROP TABLE IF EXISTS _raw_t")

    # --- record-level datasets (kinhteso.ingest.records): fields, words and codes come as data --
    def widen_records(self, id_columns: Sequence[str], groups: Sequence[tuple[str, dict[str, str]]],
                      month_field: str, measures: Sequence[str]) -> dict[str, str]:
        """Months across columns into records: ``_raw`` becomes one row per staged row and month of
        ``groups`` (month → {field: the staged column under it}), with the ``id_columns``, the month
        and each of ``measures``; a month whose cells are all empty is no record (the unit did not
        report it). Returns field → the column now holding it."""
        con = self._con
        out = {month_field: "__month", **{m: f"__w_{m}" for m in measures}}
        parts = []
        for month, cols in groups:
            sel = ["_row", *(_q(c) for c in id_columns), f"{_lit(month)} AS __month",
                   *(f"{_q(cols[m]) if m in cols else 'NULL::VARCHAR'} AS {_q(out[m])}" for m in measures)]
            given = " OR ".join(f"nullif(trim({_q(c)}), '') IS NOT NULL" for c in cols.values())
            parts.append(f"SELECT {', '.join(sel)} FROM _raw WHERE {given}")
        con.execute("DROP TABLE IF EXISTS _wide")
        con.execute(f"CREATE TEMP TABLE _wide AS SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY _row, __month")
        self._drop_raw()
        con.execute("ALTER TABLE _wide RENAME TO _raw")
        self._raw_kind = "TABLE"
        return out

    def check_records(self, fields: Sequence[dict], *, values: dict[str, dict[str, str]], locodes: dict[str, str],
                      timezone: str | None, limit: int = 1000,
                      resolve: dict[str, Callable[[list[str]], dict[str, str]]] | None = None,
                      parts: Sequence[tuple[str, str]] = ()) -> tuple[pd.DataFrame, int]:
        """Type the staged ``_raw`` rows into ``_rec`` (one column per field, timestamps in UTC,
        ``territory`` from the ``territory`` field, else from the ``locode`` field's port) and return
        the problem rows (``line, field, raw, code``; codes ``MISSING_VALUE``, ``UNKNOWN_CODE``,
        ``TIME_WITHOUT_ZONE``, ``BAD_TIME``, ``UNKNOWN_LOCODE``, ``UNKNOWN_TERRITORY``, ``BAD_MONTH``,
        ``BAD_NUMBER``, ``NEGATIVE_NUMBER``: the datasets' numbers are counts and tonnages), at most
        ``limit``, with their total.

        ``fields``: dicts with ``name``, ``column`` (the file's header, None when absent), ``constant``
        (a value for every record, instead of a column), ``type``, ``required``, ``codes``;
        ``values``: field → {the file's word: code}; ``timezone``: the offset (``+07:00``) of times
        written without one (None: refused); ``resolve``: field type (``territory``, ``month``) →
        a function giving the code of each distinct text it can read; ``parts``: (part, whole) number
        fields of one record, a part larger than its whole being ``PART_EXCEEDS_WHOLE``.

        One pass types every record (each time parsed once); the text of a value is read again only
        for the records whose typed value is missing (an empty cell, or a problem), to say why."""
        con = self._con
        con.execute("SET TimeZone = 'UTC'")
        resolve = resolve or {}
        joins, text = [], ["_raw._row AS _row"]
        for i, f in enumerate(fields):
            name, col = f["name"], f.get("column")
            if f.get("constant") is not None:
                raw = f"nullif(trim({_lit(str(f['constant']))}), '')"
            else:
                raw = f"nullif(trim(_raw.{_q(col)}), '')" if col else "NULL::VARCHAR"
            if values.get(name):
                t = f"_words_{i}"
                con.unregister(t)
                con.register(t, pd.DataFrame({"word": list(values[name]), "code": list(values[name].values())}))
                joins.append(f"LEFT JOIN {t} ON {t}.word = {raw}")
                raw = f"coalesce({t}.code, {raw})"
            text.append(f"{raw} AS {_q(name)}")
        src = f"(SELECT {', '.join(text)} FROM _raw {' '.join(joins)})"  # each field's text, words mapped
        con.unregister("_locodes")
        con.register("_locodes", pd.DataFrame({"locode": list(locodes), "territory": list(locodes.values())}))
        mapped: dict[str, str] = {}  # field → the table of its texts' codes (territory, month)
        for i, f in enumerate(fields):
            if f["type"] in ("territory", "month"):
                name = _q(f["name"])
                found = [str(t) for (t,) in con.execute(f"SELECT DISTINCT {name} FROM {src} s WHERE {name} IS NOT NULL").fetchall()]
                codes = resolve[f["type"]](found) if found else {}
                t = f"_codes_{i}"
                con.unregister(t)
                con.register(t, pd.DataFrame({"text": list(codes), "code": list(codes.values())}, dtype=object))
                mapped[f["name"]] = t
        typed, tjoins = [], []
        for f in fields:
            name = "s." + _q(f["name"])
            if f["name"] in mapped:
                t = mapped[f["name"]]
                tjoins.append(f"LEFT JOIN {t} ON {t}.text = {name}")
                typed.append(f"{t}.code AS {_q(f['name'])}")
            elif f["type"] == "timestamp":
                zoned = _zoned(name) if timezone is None else "TRUE"
                # the instant in UTC, from its microseconds since the epoch (cheaper than AT TIME ZONE)
                typed.append(f"make_timestamp(epoch_us(CASE WHEN {zoned} THEN TRY_CAST({_zone_text(name, timezone)} "
                             f"AS TIMESTAMPTZ) END)) AS {_q(f['name'])}")
            elif f["type"] in ("number", "integer"):
                typed.append(f"TRY_CAST({name} AS {'DOUBLE' if f['type'] == 'number' else 'BIGINT'}) AS {_q(f['name'])}")
            else:
                typed.append(f"{name} AS {_q(f['name'])}")
        loc = next((f["name"] for f in fields if f["type"] == "locode"), None)
        place = next((f["name"] for f in fields if f["type"] == "territory"), None)
        if place is not None:
            terr = "" if place == "territory" else f", {mapped[place]}.code AS territory"
        elif loc:
            terr = ", _locodes.territory AS territory"
            tjoins.append(f"LEFT JOIN _locodes ON _locodes.locode = s.{_q(loc)}")
        else:
            terr = ", NULL::VARCHAR AS territory"
        con.execute("DROP TABLE IF EXISTS _rec")
        con.execute(f"CREATE TABLE _rec AS SELECT s._row AS _row, {', '.join(typed)}{terr} FROM {src} s {' '.join(tjoins)}")

        # --- the problems: from the typed records; the text again only where a typed value is missing
        probs = []
        for f in fields:
            name, lit = _q(f["name"]), _lit(f["name"])
            if f["type"] in ("text", "code", "locode"):
                if f.get("required"):
                    probs.append(f"SELECT _row, {lit}, '', 'MISSING_VALUE' FROM _rec WHERE {name} IS NULL")
                if f["type"] == "code" and f.get("codes"):
                    codes = ", ".join(_lit(c) for c in f["codes"])
                    probs.append(f"SELECT _row, {lit}, {name}, 'UNKNOWN_CODE' FROM _rec "
                                 f"WHERE {name} IS NOT NULL AND {name} NOT IN ({codes})")
                if f["type"] == "locode":
                    probs.append(f"SELECT _row, {lit}, {name}, 'UNKNOWN_LOCODE' FROM _rec "
                                 f"WHERE {name} IS NOT NULL AND {name} NOT IN (SELECT l.locode FROM _locodes l)")
                continue
            if f["type"] in ("number", "integer"):
                probs.append(f"SELECT _row, {lit}, {name}::VARCHAR, 'NEGATIVE_NUMBER' FROM _rec WHERE {name} < 0")
            if f["type"] == "timestamp":
                why = (f"CASE WHEN NOT {_zoned('s.' + name)} THEN 'TIME_WITHOUT_ZONE' ELSE 'BAD_TIME' END"
                       if timezone is None else "'BAD_TIME'")
            else:
                why = {"number": "'BAD_NUMBER'", "integer": "'BAD_NUMBER'", "territory": "'UNKNOWN_TERRITORY'",
                       "month": "'BAD_MONTH'"}[f["type"]]
            if int(con.execute(f"SELECT count(*) FROM _rec WHERE {name} IS NULL").fetchone()[0]):
                missing = "'MISSING_VALUE'" if f.get("required") else "NULL"
                probs.append(f"SELECT * FROM (SELECT s._row, {lit}, coalesce(s.{name}, ''), "
                             f"CASE WHEN s.{name} IS NULL THEN {missing} ELSE {why} END AS code FROM {src} s "
                             f"WHERE s._row IN (SELECT _row FROM _rec WHERE {name} IS NULL)) WHERE code IS NOT NULL")
        for part, whole in parts:
            probs.append(f"SELECT _row, {_lit(part)}, {_q(part)}::VARCHAR || ' > ' || {_q(whole)}::VARCHAR, "
                         f"'PART_EXCEEDS_WHOLE' FROM _rec WHERE {_q(part)} > {_q(whole)} AND {_q(whole)} >= 0")  # (a negative: said already)
        union = " UNION ALL ".join(probs) or "SELECT NULL, NULL, NULL, NULL WHERE FALSE"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _problems AS SELECT * FROM ({union}) p(line, field, raw, code)")
        total = int(con.execute("SELECT count(*) FROM _problems").fetchone()[0])
        found = con.execute(f"SELECT * FROM _problems ORDER BY line, field LIMIT {int(limit) if total else 0}").df()
        return found, total

    def set_aside_records(self, key: Sequence[str], *, sequence: tuple[str, str, str, str] | None = None,
                          order: Sequence[tuple[str, str]] = ()) -> None:
        """Mark the typed ``_rec`` rows to set aside, in ``_aside`` (``_row, reason``): a record whose
        ``key`` repeats an earlier row's (``DUPLICATE_EVENT``; the first is kept), and, with
        ``sequence`` = (the time field, the event-type field, the earlier type, the later type), a
        later-type event (a gate-out) dated before the earlier-type one (a discharge) it belongs
        to (``OUT_OF_ORDER``): listed after a discharge of the same container and place but dated
        before it, or the container's first event there, its only gate-out, followed by a
        discharge (an inverted pair). Only actual events (``classifier = 'ACT'``, when the field
        exists) are put in sequence. ``order``: (earlier, later) time fields of one record; a record
        whose later time comes before its earlier one is ``TIMES_OUT_OF_ORDER``."""
        con = self._con
        cols = [c for c in con.execute("SELECT * FROM _rec LIMIT 0").df().columns]
        part = ", ".join(_q(k) for k in key)
        # a key seen more than once (an aggregate, not a sort), then every row of it after the first
        same = " AND ".join(f"r.{_q(k)} IS NOT DISTINCT FROM d.{_q(k)}" for k in key)
        parts = [f"SELECT r._row, 'DUPLICATE_EVENT' AS reason FROM _rec r JOIN (SELECT {part}, min(_row) AS first "
                 f"FROM _rec GROUP BY {part} HAVING count(*) > 1) d ON {same} WHERE r._row > d.first"]
        for earlier, later in order:  # a later time before an earlier one (a departure before the arrival)
            parts.append(f"SELECT _row, 'TIMES_OUT_OF_ORDER' FROM _rec WHERE {_q(later)} < {_q(earlier)}")
        if sequence is not None:
            at, typ, first, then = sequence
            group = [k for k in key if k not in (at, typ, "classifier")]
            # listed after an earlier-type event of the same group dated later (one window, no join)
            is_act = "classifier = 'ACT'" if "classifier" in cols else "TRUE"
            # (only the actual events of the two types take part: the others neither flag nor are flagged)
            parts.append(f"SELECT _row, 'OUT_OF_ORDER' FROM (SELECT _row, {_q(typ)} AS t, {_q(at)} AS ts, "
                         f"max(CASE WHEN {_q(typ)} = {_lit(first)} THEN {_q(at)} END) OVER "
                         f"(PARTITION BY {', '.join(_q(k) for k in group)} ORDER BY _row "
                         "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS first_before FROM _rec "
                         f"WHERE {is_act} AND {_q(typ)} IN ({_lit(first)}, {_lit(then)})) "
                         f"WHERE t = {_lit(then)} AND first_before > ts")
            # the inverted pair: the container's first event at the place is its only later-type
            # event, and the next one is an earlier-type event (a gate-out, then its discharge)
            grp = ", ".join(_q(k) for k in group)
            only_act = "WHERE classifier = 'ACT'" if "classifier" in cols else ""
            parts.append(f"SELECT _row, 'OUT_OF_ORDER' FROM (SELECT _row, {_q(typ)} AS t, "
                         f"row_number() OVER w AS k, lead({_q(typ)}) OVER w AS next_t, "
                         f"count(*) FILTER (WHERE {_q(typ)} = {_lit(then)}) OVER (PARTITION BY {grp}) AS n_then "
                         f"FROM _rec {only_act} WINDOW w AS (PARTITION BY {grp} ORDER BY {_q(at)}, _row)) "
                         f"WHERE k = 1 AND t = {_lit(then)} AND next_t = {_lit(first)} AND n_then = 1")
        con.execute("DROP TABLE IF EXISTS _aside")
        con.execute(f"CREATE TABLE _aside AS SELECT _row, min(reason) AS reason FROM ({' UNION ALL '.join(parts)}) "
                    "GROUP BY _row")

    def kept_summary(self) -> tuple[int, list[str]]:
        """How many typed records are kept (not set aside), and their territories."""
        n = int(self._con.execute("SELECT count(*) FROM _rec WHERE _row NOT IN (SELECT _row FROM _aside)").fetchone()[0])
        terrs = [str(t) for (t,) in self._con.execute(
            "SELECT DISTINCT territory FROM _rec WHERE territory IS NOT NULL ORDER BY territory").fetchall()]
        return n, terrs

    def aside_counts(self) -> dict[str, int]:
        """How many records were set aside, by reason."""
        return {str(r): int(n) for r, n in self._con.execute(
            "SELECT reason, count(*) FROM _aside GROUP BY reason ORDER BY reason").fetchall()}

    def drop_raw(self) -> None:
        """Drop the raw staged text (the typed ``_rec`` stays for the commit)."""
        self._drop_raw()

    def records_digest(self, columns: Sequence[str]) -> str:
        """An order-free fingerprint of the records kept (``columns``): the same records in any
        order, line ends or layout give the same digest (the idempotence of record vintages)."""
        cols = ", ".join(_q(c) for c in columns)
        row = self._con.execute(f"SELECT count(*), sum(hash({cols})::HUGEINT), bit_xor(hash({cols})) FROM _rec "
                                "WHERE _row NOT IN (SELECT _row FROM _aside)").fetchone()
        return hashlib.sha256(f"records:{row[0]}:{row[1]}:{row[2]}".encode()).hexdigest()

    def drop_staging(self) -> None:
        if self._con is None:
            return
        self._drop_raw()
        for name in ("_long", "_norm"):
            self._con.execute(f"DROP TABLE IF EXISTS {name}")
        for name in self._mappings:
            self._con.unregister(_mapping_table(name))
        self._mappings.clear()

    # --- api: the keys a submission holds (issue 12, submissions) ------------------------------
    def normalised_keys(self) -> pd.DataFrame:
        """The distinct ``indicator, territory`` pairs of the normalised rows (``_norm``), for
        an authorisation check before the stage is committed."""
        return self._con.execute("SELECT DISTINCT indicator, territory FROM _norm ORDER BY indicator, territory").df()

    def content_digest(self) -> str:
        """The order-independent digest of the normalised rows (``_norm``), as the store records
        it on a vintage (``content_sha256``; defined in ``_content_digest_sql``)."""
        return str(self._con.execute(_content_digest_sql("_norm")).fetchone()[0])


#: The mappings :meth:`Stage.normalise` joins, with their aliases, in join order; the optional
#: ones only when the file has the column.
_NORMALISE_JOINS = {"indicator": "i", "territory": "t", "period": "p", "sector": "s", "unit": "u",
                    "price_basis": "pb", "status": "st"}
_NORMALISE_OPTIONAL = frozenset({"price_basis", "status"})
#: The columns of an observation's key within one file (the vintage is the same for all rows).
_OBSERVATION_KEY = ("indicator", "territory", "sector", "period", "price_basis")


def _mapping_table(name: str) -> str:
    """The view name under which a stage holds the mapping ``name``."""
    if not name.isidentifier():
        raise ValueError(f"a mapping name is an identifier, not {name!r}")
    return f"_m_{name}"


#: With a decimal comma, a value with a dot must be dot-separated groups of three digits
#: (``1.234.567,5``); anything else with a dot (``1.5``, ``12.34``) reads as no number.
_THOUSANDS_GROUPS = r"[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?%?"
#: One dot followed by one group of three digits (``1.234``): see :meth:`Stage.dotted_thousand_rows`.
_SINGLE_THOUSANDS = r"[+-]?[0-9]{1,3}\.[0-9]{3}"


def _value_text_sql(column: str) -> str:
    """A staged value cell without spaces and no-break spaces."""
    return f"replace(trim(replace({column}, chr(160), '')), ' ', '')"


def _value_sql(decimal: str, column: str, unit: str | None = None) -> str:
    """A staged value cell read as a DOUBLE (NULL when it is not a number): spaces and no-break
    spaces are ignored; with ``decimal`` ``","`` the comma is the decimal mark and dots may only
    separate groups of three digits (else NULL: an ambiguous number). When ``unit`` (an SQL
    expression) is ``PCT``, a trailing ``%`` is allowed: ``15,3%`` is 15.3. The percent reading
    is tried only for the cells that are not plain numbers (COALESCE evaluates its second
    argument for those rows only)."""
    text = _value_text_sql(column)

    def number(t: str) -> str:
        if decimal == ",":
            return (f"CASE WHEN NOT contains({t}, '.') OR regexp_full_match({t}, '{_THOUSANDS_GROUPS}') "
                    f"THEN TRY_CAST(replace(replace({t}, '.', ''), ',', '.') AS DOUBLE) END")
        return f"TRY_CAST({t} AS DOUBLE)"

    if unit is None:
        return number(text)
    percent = f"CASE WHEN {unit} = 'PCT' AND suffix({text}, '%') THEN {number(f'left({text}, -1)')} END"
    return f"coalesce({number(text)}, {percent})"


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _csv_error(text: str) -> StagingError:
    """DuckDB's CSV error taken apart: the line, the record as written and the cause."""
    lines = text.splitlines()
    line = _CSV_LINE.search(text)
    # the record's first line (a quoted value left open runs on over the next lines)
    found = next((ln[len("Original Line: "):] for ln in lines if ln.startswith("Original Line: ")), "")
    cols = _CSV_COLUMNS.search(text)
    cause = "columns" if cols else "quote" if "unterminated quote" in text.lower() else "other"
    return StagingError(lines[0][:300] if lines else text[:300], line=int(line.group(1)) if line else None,
                        found_text=found, cause=cause,
                        expected_columns=int(cols.group(1)) if cols else None,
                        found_columns=int(cols.group(2)) if cols else None)


def _limit_sql(limit: int | None) -> str:
    return f" LIMIT {int(limit)}" if limit else ""


# --- helpers ---------------------------------------------------------------------------------
def _filters(filters: dict, allowed: set[str], tables: dict[str, str], default: str) -> tuple[str, dict]:
    """``AND col IN (...)`` conditions, one parameter per filter (values are never formatted into SQL)."""
    where, params = [], {}
    for i, (col, val) in enumerate(sorted(filters.items())):
        if val is None:
            continue
        if col not in allowed:
            raise UsageError("UNKNOWN_FILTER", f"Không lọc được theo '{col}'; dùng {', '.join(sorted(allowed))}.",
                             f"Cannot filter by '{col}'; use {', '.join(sorted(allowed))}.")
        params[f"p{i}"] = [val] if isinstance(val, str) else [str(v) for v in val]
        where.append(f" AND {tables.get(col, default)}.{col} IN (SELECT unnest($p{i}))")
    return "".join(where), params


def _unknown_vintage(vid: int) -> UsageError:
    return UsageError("UNKNOWN_VINTAGE",
                      f"Không có phiên bản {vid} trong không gian làm việc (xem `kinhteso vintages`).",
                      f"There is no vintage {vid} in the workspace (see `kinhteso vintages`).", vintage=vid)


def _store_error(path: Path, exc: duckdb.Error) -> WorkspaceError:
    """A DuckDB failure as a bilingual error with a code."""
    text = str(exc).splitlines()[0][:300]
    if isinstance(exc, duckdb.IOException) or "i/o" in text.lower() or "no space" in text.lower():
        return WorkspaceError("STORE_IO", f"Lỗi đọc/ghi cơ sở dữ liệu {path}: {text}",
                              f"The store {path} could not be read or written: {text}", path=str(path))
    return WorkspaceError("STORE_ERROR", f"Cơ sở dữ liệu {path} báo lỗi: {text}",
                          f"The store {path} reported an error: {text}", path=str(path))


def token_sha256(token: str) -> str:
    """The SHA-256 (hex) of an API token, the only form in which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

def _zoned(col: str) -> str:
    """SQL: whether the text of ``col`` ends with a UTC offset (``Z``, ``+07``, ``+07:00``, ``-0530``)."""
    return f"regexp_matches({col}, '(Z|z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')"


def _zone_text(col: str, timezone: str | None) -> str:
    """SQL: the time text of ``col`` with ``timezone`` appended where it has no offset of its own."""
    return f"CASE WHEN {_zoned(col)} THEN {col} ELSE {col} || {_lit(timezone or '+00:00')} END"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)


def _now() -> dt.datetime:
    """Local wall-clock time, the clock of "received at" and of ``--as-of``."""
    return dt.datetime.now()
