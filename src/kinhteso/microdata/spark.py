"""The Spark engine of the e-invoice expressions (issue 17, item 1): the session and the reader.

The rules and the aggregation are :mod:`kinhteso.microdata.engine`'s Ibis expressions; this module
only gives them a PySpark session (:func:`session`, :func:`connect`) and reads the Parquet files
into an Ibis table with the same columns, types and meaning as DuckDB's reader
(:func:`read_records`):

- ``_file`` is the file's absolute path, as DuckDB's reader gives it (Spark's
  ``_metadata.file_path`` is a percent-encoded URI, mapped back), ``_row`` the 0-based row in the
  file (``_metadata.row_index``, Spark ≥ 3.5);
- Hive partitions (``month=YYYY-MM``) are read as text, as DuckDB reads them here;
- a Parquet timestamp adjusted to UTC (Spark ``TimestampType``) is an instant: given the zone UTC
  in Ibis, like DuckDB's ``TIMESTAMPTZ``; one not adjusted to UTC (``TimestampNTZType``, DuckDB's
  ``TIMESTAMP``) stays a local time without zone (``TIME_WITHOUT_ZONE``). The session's time zone
  is UTC.

Nothing here writes SQL text: Ibis compiles the expressions for Spark.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from kinhteso.errors import KinhtesoError, UsageError

__all__ = ["DEFAULT_MASTER", "check_master", "check_memory", "session", "connect", "read_records", "arrow_batches",
           "errors"]

#: Spark's master when none is given: every core of this machine.
DEFAULT_MASTER = "local[*]"
_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(,\s*[1-9][0-9]*)?\])?|spark://[^\s/]+(:[0-9]+)?(,[^\s/]+(:[0-9]+)?)*"
                     r"|yarn|k8s://https?://\S+")
_MEMORY = re.compile(r"[1-9][0-9]*[kmgt]?", re.IGNORECASE)
_GLOB = re.compile(r"([\\{}\[\]*?])")
_LOG4J = ("rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
          "logger.repl.name = org.apache.spark.api.python.PythonGatewayServer\nlogger.repl.level = error\n"
          "appender.console.type = Console\nappender.console.name = console\nappender.console.target = SYSTEM_ERR\n"
          "appender.console.layout.type = PatternLayout\nappender.console.layout.pattern = %d %p %c: %m%n\n")


def check_master(master: str) -> str:
    """``master`` when it is a Spark master URL (``local[*]``, ``local[N]``, ``spark://host:port``,
    ``yarn``, ``k8s://https://…``); else ``MICRODATA_BAD_MASTER``."""
    m = str(master).strip()
    if not _MASTER.fullmatch(m):
        raise UsageError("MICRODATA_BAD_MASTER",
                         f"'{master}' không phải địa chỉ Spark master (local[*], local[4], spark://máy:7077, yarn, "
                         "k8s://https://…).",
                         f"'{master}' is not a Spark master URL (local[*], local[4], spark://host:7077, yarn, "
                         "k8s://https://…).", master=str(master))
    return m


def check_memory(memory: str) -> str:
    """``memory`` when it is a JVM size (``4g``, ``512m``); else ``MICRODATA_BAD_MEMORY``."""
    if not _MEMORY.fullmatch(str(memory).strip()):
        raise UsageError("MICRODATA_BAD_MEMORY", f"'{memory}' không phải dung lượng bộ nhớ (như 4g, 512m).",
                         f"'{memory}' is not a memory size (such as 4g, 512m).", memory=str(memory))
    return str(memory).strip().lower()


def _unavailable(detail: str) -> KinhtesoError:
    first = (detail.strip().splitlines() or [""])[0][:300]
    return KinhtesoError("MICRODATA_SPARK_UNAVAILABLE",
                         f"Không khởi động được Spark: {first} (cần pyspark và Java 17 hoặc 21: JAVA_HOME hoặc "
                         "lệnh java trong PATH).",
                         f"Spark could not start: {first} (it needs pyspark and Java 17 or 21: JAVA_HOME or java "
                         "on PATH).")


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = Path(home) / "bin" / "java"
        return str(exe) if exe.is_file() and os.access(exe, os.X_OK) else None
    return shutil.which("java")


@contextmanager
def session(*, master: str = DEFAULT_MASTER, driver_memory: str | None = None,
            tmpdir: str | None = None) -> Iterator[Any]:
    """A Spark session for one command, stopped at the end: UI off, logs at ERROR, time zone UTC,
    its scratch folders (spill, warehouse, JVM temp) under ``tmpdir`` (a temporary folder removed
    afterwards when not given). A session already active in this process is used, not stopped
    (``MICRODATA_SPARK_SESSION`` when its master differs)."""
    master = check_master(master)
    if driver_memory is not None:
        driver_memory = check_memory(driver_memory)
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError as exc:
        raise _unavailable(str(exc)) from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        if active.sparkContext.master != master:
            raise KinhtesoError("MICRODATA_SPARK_SESSION",
                                f"Một phiên Spark khác ({active.sparkContext.master}) đang chạy trong tiến trình này; "
                                f"không mở phiên {master}.",
                                f"Another Spark session ({active.sparkContext.master}) is running in this process; "
                                f"not starting one on {master}.")
        yield active
        return
    if _java() is None:
        raise _unavailable("Java not found / không tìm thấy Java")
    own = tmpdir is None
    root = Path(tmpdir) if tmpdir is not None else Path(tempfile.mkdtemp(prefix="kinhteso-spark-"))
    for sub in ("local", "warehouse", "java"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "log4j2.properties").write_text(_LOG4J, encoding="utf-8")
    java_opts = f"-Djava.io.tmpdir={root / 'java'} -Dlog4j2.configurationFile=file:{root / 'log4j2.properties'}"
    builder = (SparkSession.builder.master(master).appName("kinhteso-microdata")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.catalogImplementation", "in-memory")
               .config("spark.local.dir", str(root / "local"))
               .config("spark.sql.warehouse.dir", str(root / "warehouse"))
               .config("spark.driver.extraJavaOptions", java_opts)
               .config("spark.executor.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{root / 'log4j2.properties'}")
               .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    spark = None
    try:
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start, or the master refused us
            raise _unavailable(str(exc)) from exc
        spark.sparkContext.setLogLevel("ERROR")
        yield spark
    finally:
        if spark is not None:
            spark.stop()
        if own:
            shutil.rmtree(root, ignore_errors=True)


def connect(spark: Any) -> Any:
    """An Ibis backend on the Spark session ``spark``."""
    import ibis  # noqa: PLC0415

    return ibis.pyspark.connect(spark)


def errors() -> tuple[type[BaseException], ...]:
    """The exceptions a Spark job raises on input it cannot read or compute."""
    from py4j.protocol import Py4JError  # noqa: PLC0415
    from pyspark.errors import PySparkException  # noqa: PLC0415

    return (PySparkException, Py4JError)


def _base(paths: list[str]) -> str:
    """The folder Hive partitions are read below: the files' common folder above any ``k=v`` folder."""
    base = os.path.commonpath([os.path.dirname(p) for p in paths])
    while "=" in os.path.basename(base) and os.path.dirname(base) != base:
        base = os.path.dirname(base)
    return base


def read_records(con: Any, paths: Iterable[Path]) -> Any:
    """The Parquet files ``paths`` as one lazy Ibis table on Spark, as DuckDB's reader gives it
    (Hive partitions as text; ``_file`` the absolute path, ``_row`` the row in the file; a
    UTC-adjusted timestamp given its zone)."""
    import ibis.expr.datatypes as dt  # noqa: PLC0415
    import pyspark.sql.functions as F  # noqa: PLC0415
    import pyspark.sql.types as T  # noqa: PLC0415

    spark = con._session
    absolute = [os.path.abspath(str(p)) for p in paths]  # as Ibis gives them to DuckDB
    df = (spark.read.option("basePath", _base(absolute)).option("mergeSchema", "true")
          .parquet(*[_GLOB.sub(r"\\\1", p) for p in absolute]))
    by_path = {os.path.normpath(a): a for a in absolute}
    uris = {}
    for uri in df.inputFiles():  # file:///a%20b; the metadata column says file:/a%20b
        u = urlparse(uri)
        local = os.path.normpath(unquote(u.path))
        short = f"{u.scheme}:{'//' + u.netloc if u.netloc else ''}{u.path}"
        uris[uri] = uris[short] = by_path.get(local, local)
    mapping = F.create_map(*[F.lit(x) for kv in sorted(uris.items()) for x in kv])
    uri = F.col("_metadata.file_path")
    df = df.select("*", F.coalesce(F.element_at(mapping, uri), uri).alias("_file"),
                   F.col("_metadata.row_index").alias("_row"))
    view = f"kinhteso_records_{uuid.uuid4().hex}"
    df.createOrReplaceTempView(view)
    t = con.table(view)
    zoned = {f.name: dt.Timestamp(timezone="UTC") for f in df.schema.fields if isinstance(f.dataType, T.TimestampType)}
    return t.cast(zoned) if zoned else t


def arrow_batches(con: Any, expr: Any) -> Iterator[Any]:
    """The rows of ``expr`` as Arrow record batches, gathered in the driver (in the plan's order)."""
    df = con._session.sql(con.compile(expr))
    yield from df.toArrow().to_batches()
