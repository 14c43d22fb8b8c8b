"""The store: vintaged observations in an embedded DuckDB file. The only module that speaks SQL.

Nothing is overwritten. Every accepted submission is a *vintage* (who sent it, when, the file's
SHA-256, how many rows); reads return, for each key, the value of the latest vintage received at
or before an "as of" moment (now by default). A submission is written in one transaction: a
killed process leaves the store exactly as it was (DuckDB's write-ahead log only replays
committed transactions).

Ingestion stages a file in temporary tables (``_raw``), lets the caller resolve the few distinct
codes in Python (``distinct``), registers the resolved mappings and commits with one
``INSERT … SELECT`` (``commit_staged``). Validation rules live in :mod:`kinhteso.ingest`; this
module only runs the SQL.

>>> from pathlib import Path; import tempfile
>>> with Store.open(Path(tempfile.mkdtemp()) / "k.duckdb", create=True) as s:
...     s.schema_version()
1
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from kinhteso.errors import WorkspaceError

__all__ = ["Store", "StagingError", "VintageInfo", "OBS_KEY", "SCHEMA_VERSION"]

#: The columns that identify one observation. ``price_basis`` is part of the key so that the
#: same GRDP can be stored at current and at constant 2010 prices.
OBS_KEY = ("indicator", "territory", "sector", "period", "price_basis")

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
)
SCHEMA_VERSION = len(_MIGRATIONS)

_LATEST = """
    SELECT o.indicator, o.territory, o.sector, o.period, o.value, o.unit, o.price_basis,
           o.status, o.backcast, o.vintage_id, v.source, v.received_at, v.illustrative
    FROM observations o JOIN vintages v USING (vintage_id)
    WHERE v.received_at <= $as_of {where}
    QUALIFY row_number() OVER (
        PARTITION BY o.indicator, o.territory, o.sector, o.period, o.price_basis
        ORDER BY v.received_at DESC, o.vintage_id DESC) = 1
    ORDER BY o.indicator, o.territory, o.sector, o.period, o.price_basis
"""


class StagingError(Exception):
    """DuckDB could not parse a staged file; the message says where (mapped to CSV_PARSE by ingest)."""


@dataclass(frozen=True)
class VintageInfo:
    """What is recorded of one accepted submission."""

    source: str
    file_name: str
    sha256: str
    illustrative: bool = False
    note: str = ""


class Store:
    """One DuckDB workspace file. Use :meth:`open`; close it (or use ``with``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._con = con
        self.path = path
        self._lock = threading.Lock()
        self._registered: set[str] = set()
        self._raw_kind: str | None = None  # what the staged ``_raw`` is: "TABLE", "VIEW" or nothing

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, create: bool = False, read_only: bool = False) -> Store:
        """Open (or with ``create=True`` create) the store at ``path`` and bring its schema up to date."""
        path = Path(path)
        if not path.exists() and not create:
            raise WorkspaceError(
                "NO_STORE",
                f"Không tìm thấy cơ sở dữ liệu {path}. Hãy chạy `kinhteso init` trước.",
                f"No store at {path}. Run `kinhteso init` first.",
                path=str(path),
            )
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if "lock" in str(exc).lower():
                raise WorkspaceError(
                    "STORE_LOCKED",
                    f"Một tiến trình khác đang dùng không gian làm việc này ({path}); hãy chờ nó xong rồi chạy lại.",
                    f"Another process is using this workspace ({path}); wait for it to finish and run again.",
                    path=str(path), detail=str(exc),
                ) from exc
            raise WorkspaceError(
                "STORE_OPEN",
                f"Không mở được cơ sở dữ liệu {path}: {exc}",
                f"Cannot open the store {path}: {exc}",
                path=str(path),
            ) from exc
        store = cls(con, path)
        if not read_only:
            store._migrate()
        return store

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def configure(self, *, memory_limit: str | None = None, temp_directory: Path | None = None,
                  threads: int | None = None) -> None:
        """Bound DuckDB's memory (it spills to ``temp_directory`` beyond the limit)."""
        if memory_limit:
            self._con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_directory:
            self._con.execute("SET temp_directory = ?", [str(temp_directory)])
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")

    # --- schema --------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()[0]
        if not exists:
            return 0
        row = self._con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise WorkspaceError(
                "SCHEMA_NEWER",
                f"Cơ sở dữ liệu có lược đồ phiên bản {current}, mới hơn phần mềm ({SCHEMA_VERSION}). Hãy cập nhật kinhteso.",
                f"The store's schema version {current} is newer than this software's ({SCHEMA_VERSION}). Upgrade kinhteso.",
            )
        for version in range(current, SCHEMA_VERSION):
            self._con.execute("BEGIN TRANSACTION")
            try:
                self._con.execute(_MIGRATIONS[version])
                self._con.execute(
                    "INSERT INTO schema_version VALUES (?, ?)", [version + 1, _now()]
                )
                self._con.execute("COMMIT")
            except duckdb.Error as exc:
                self._con.execute("ROLLBACK")
                raise WorkspaceError(
                    "MIGRATION", f"Nâng cấp lược đồ thất bại: {exc}", f"Schema migration failed: {exc}"
                ) from exc

    # --- vintages ------------------------------------------------------------------------
    def vintage_by_sha(self, sha256: str) -> int | None:
        row = self._con.execute(
            "SELECT vintage_id FROM vintages WHERE sha256 = ? ORDER BY vintage_id LIMIT 1", [sha256]
        ).fetchone()
        return None if row is None else int(row[0])

    def vintages(self) -> pd.DataFrame:
        """One row per accepted submission, oldest first."""
        return self._con.execute(
            "SELECT vintage_id, source, received_at, file_name, sha256, n_rows, illustrative, note "
            "FROM vintages ORDER BY vintage_id"
        ).df()

    # --- staging a file for ingestion ----------------------------------------------------
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
            raise StagingError(str(exc).splitlines()[0][:300]) from exc
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

    def staged_count(self, *, where: str = "") -> int:
        return int(self._con.execute(f"SELECT count(*) FROM _raw {where}").fetchone()[0])

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

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Make a small data frame (a resolved mapping) queryable as ``name`` (no copy)."""
        self._con.unregister(name)
        self._con.register(name, frame)
        self._registered.add(name)

    def rows_where(self, condition: str, columns: Sequence[str], *, limit: int | None = None,
                   joins: str = "", extra: Sequence[str] = (), table: str = "_raw") -> pd.DataFrame:
        """Staged rows (``_row``, ``columns`` and ``extra`` SQL expressions from the joined
        mapping tables) meeting an SQL condition, in sheet order."""
        cols = ", ".join(["r._row", *(f"r.{_q(c)}" for c in columns), *extra])
        lim = f" LIMIT {int(limit)}" if limit else ""
        return self._con.execute(
            f"SELECT {cols} FROM {table} r {joins} WHERE {condition} ORDER BY r._row{lim}"
        ).df()

    def normalise_staged(self, select_sql: str) -> None:
        """Materialise the normalised rows (``_norm``) from ``_raw`` and the mapping tables, once."""
        self._con.execute("DROP TABLE IF EXISTS _norm")
        # rows are found again by _row: their order need not be kept (faster, less memory)
        self._con.execute("SET preserve_insertion_order = false")
        try:
            self._con.execute(f"CREATE TEMP TABLE _norm AS {select_sql}")
        finally:
            self._con.execute("SET preserve_insertion_order = true")

    def staged_duplicates(self, keys: Sequence[str], limit: int) -> pd.DataFrame:
        """Rows of ``_norm`` whose key appears more than once (``_row`` and the key's ``first_row``).

        A first pass groups on ``_key``, the key packed into one integer (fast); only when it
        finds a repeat do the rows get compared by the key's columns."""
        k = ", ".join(keys)
        n_dup = self._con.execute(
            "SELECT count(*) FROM (SELECT _key FROM _norm GROUP BY _key HAVING count(*) > 1)").fetchone()[0]
        if not n_dup:  # the usual case: one aggregate, no window over the whole file
            return pd.DataFrame({"_row": pd.Series(dtype="int64"), "first_row": pd.Series(dtype="int64")})
        return self._con.execute(
            f"SELECT _row, first_row FROM (SELECT _row, min(_row) OVER (PARTITION BY {k}) AS first_row "
            f"FROM _norm) WHERE _row <> first_row ORDER BY _row LIMIT {int(limit)}"
        ).df()

    def commit_staged(self, info: VintageInfo, select_sql: str, *, received_at: dt.datetime | None = None,
                      before_insert=None) -> tuple[int, int]:
        """Store the staged rows as one new vintage, in one transaction. Returns (vintage_id, n_rows).

        ``select_sql`` yields the observation columns (in ``observations`` order, without
        ``vintage_id``) from the staged tables. ``before_insert`` (a callable) is told when the
        transaction is open, for progress display.
        """
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                vid = self._con.execute(
                    "INSERT INTO vintages (source, received_at, file_name, sha256, n_rows, illustrative, note) "
                    "VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING vintage_id",
                    [info.source, received_at or _now(), info.file_name, info.sha256, info.illustrative, info.note],
                ).fetchone()[0]
                if before_insert is not None:
                    before_insert()
                self._con.execute("SET preserve_insertion_order = false")  # a vintage's rows have no order
                # the INSERT returns its row count: no scan of the (growing) observations table
                n = self._con.execute(
                    "INSERT INTO observations (vintage_id, indicator, territory, sector, period, value, unit, "
                    f"price_basis, status, backcast) SELECT {int(vid)}, * FROM ({select_sql})"
                ).fetchone()[0]
                self._con.execute("SET preserve_insertion_order = true")
                self._con.execute("UPDATE vintages SET n_rows = ? WHERE vintage_id = ?", [n, vid])
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                self._con.execute("SET preserve_insertion_order = true")
                raise
        return int(vid), int(n)

    def staged_backcast_count(self) -> int:
        """Normalised rows flagged as back-casts (before they are written)."""
        return int(self._con.execute("SELECT count(*) FROM _norm WHERE backcast").fetchone()[0])

    def _drop_raw(self) -> None:
        """Drop the staged ``_raw`` (a view over ``_raw_t`` for CSV, a table for XLSX or wide files)."""
        if self._raw_kind is not None:
            self._con.execute(f"DROP {self._raw_kind} IF EXISTS _raw")
            self._raw_kind = None
        self._con.execute("DROP TABLE IF EXISTS _raw_t")

    def drop_staging(self) -> None:
        self._drop_raw()
        for name in ("_long", "_norm"):
            self._con.execute(f"DROP TABLE IF EXISTS {name}")
        for name in self._registered:
            self._con.unregister(name)
        self._registered.clear()

    def add_frame(self, info: VintageInfo, frame: pd.DataFrame, *, received_at: dt.datetime | None = None) -> tuple[int, int]:
        """Store an already-validated long frame (pipeline results, demo data) as one vintage."""
        cols = ["indicator", "territory", "sector", "period", "value", "unit", "price_basis", "status", "backcast"]
        frame = frame.reindex(columns=cols)
        self._con.register("_frame_view", frame)
        try:
            return self.commit_staged(info, "SELECT * FROM _frame_view", received_at=received_at)
        finally:
            self._con.unregister("_frame_view")

    # --- reading -------------------------------------------------------------------------
    def observations(self, *, as_of: dt.datetime | None = None, **filters: Iterable[str] | str | None) -> pd.DataFrame:
        """The latest value of every key (as of a moment), filtered by any of the key columns.

        ``filters`` take a value or a list of values for ``indicator``, ``territory``,
        ``sector``, ``period``, ``price_basis``, ``status`` and the vintage's ``source`` (the
        latest vintage *of that source* then wins).
        """
        where, params = [], {"as_of": as_of or dt.datetime.max}
        for i, (col, val) in enumerate(sorted(filters.items())):
            if val is None:
                continue
            if col not in {"indicator", "territory", "sector", "period", "price_basis", "status", "source"}:
                raise ValueError(f"unknown filter {col!r}")
            vals = [val] if isinstance(val, str) else list(val)
            params[f"p{i}"] = vals
            table = "v" if col == "source" else "o"
            where.append(f"{table}.{col} IN (SELECT unnest(${'p' + str(i)}))")
        sql = _LATEST.format(where="".join(" AND " + w for w in where))
        return self._con.execute(sql, params).df()

    def history(self, *, indicator: str, territory: str, sector: str = "_T") -> pd.DataFrame:
        """Every stored value of a series across all vintages (for revision analysis)."""
        return self._con.execute(
            "SELECT o.period, o.value, o.status, o.vintage_id, v.source, v.received_at, v.illustrative "
            "FROM observations o JOIN vintages v USING (vintage_id) "
            "WHERE o.indicator = ? AND o.territory = ? AND o.sector = ? ORDER BY o.period, v.received_at, o.vintage_id",
            [indicator, territory, sector]).df()

    # --- results of the pipeline -------------------------------------------------------------
    def add_run(self, *, kind: str, code_version: str, parameters: str, provenance: str, illustrative: bool,
                values: pd.DataFrame) -> int:
        """Store one run (parameters and provenance as JSON text) and its long ``values``
        (territory, period, view, measure, sector, value), in one transaction."""
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                rid = self._con.execute(
                    "INSERT INTO runs (kind, created_at, code_version, parameters, provenance, illustrative) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING run_id",
                    [kind, _now(), code_version, parameters, provenance, illustrative]).fetchone()[0]
                frame = values.reindex(columns=["territory", "period", "view", "measure", "sector", "value"])
                self._con.register("_run_view", frame)
                self._con.execute(f"INSERT INTO run_values SELECT {int(rid)}, * FROM _run_view")
                self._con.unregister("_run_view")
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        return int(rid)

    def runs(self, *, kind: str | None = None) -> pd.DataFrame:
        where = "WHERE kind = ?" if kind else ""
        return self._con.execute(
            f"SELECT run_id, kind, created_at, code_version, parameters, illustrative FROM runs {where} ORDER BY run_id",
            [kind] if kind else []).df()

    def run_values(self, *, kind: str, measure: str | None = None, view: str | None = None,
                   territory: str | None = None) -> pd.DataFrame:
        """The values of the latest run of ``kind`` for each (territory, period, view, measure, sector)."""
        cond, params = ["r.kind = ?"], [kind]
        for col, val in (("measure", measure), ("view", view), ("territory", territory)):
            if val is not None:
                cond.append(f"v.{col} = ?")
                params.append(val)
        return self._con.execute(
            "SELECT v.*, r.created_at, r.illustrative FROM run_values v JOIN runs r USING (run_id) "
            f"WHERE {' AND '.join(cond)} QUALIFY row_number() OVER (PARTITION BY v.territory, v.period, v.view, "
            "v.measure, v.sector ORDER BY v.run_id DESC) = 1 ORDER BY v.territory, v.period, v.measure, v.sector",
            params).df()

    def observation_count(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM observations").fetchone()[0])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _now() -> dt.datetime:
    """Local wall-clock time, the clock of "received at" and of ``--as-of``."""
    return dt.datetime.now()
