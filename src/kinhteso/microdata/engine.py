"""The record rules and the aggregation of e-invoices as **Ibis** expressions (issue 17, item 1).

The expressions are built once, on an Ibis table read lazily from the Parquet data set (Hive
partitions ``month=YYYY-MM``), and run by the engine they are bound to: embedded DuckDB
(:func:`connect_duckdb`) or PySpark (:mod:`kinhteso.microdata.spark`, local or on a cluster); the
same expressions give the same records, reasons and cells on both. No SQL text is written in
kinhteso for them: Ibis compiles each expression to the engine's dialect, so this module is not a
second place that speaks SQL (the store, :mod:`kinhteso.store`, stays the only one).

The steps, each a function of a table:

1. :func:`read_records` — the files as an Ibis table with ``_file`` (the absolute path) and
   ``_row`` (the row in the file; their order decides which of two duplicates is first);
2. :func:`classify` — each record typed (``territory`` on the 34 basis, a 63-basis key given its
   successor, Resolution 202/2025/QH15; ``vsic``; ``amount`` in whole đồng; ``period``, the month
   of ``issued_at`` in Viet Nam time) with its ``reason`` (:data:`kinhteso.microdata.rules.REASONS`;
   NULL for a kept record): malformed first, then duplicates among the well-formed (a window over
   ``invoice_id`` in the order of files and rows: the first kept), then ``CANCELLED`` and
   ``REPLACED`` (the status, or the id named in a well-formed record's ``replaces``);
3. :func:`reason_counts`, :func:`set_aside` (the quarantine: every record not kept, as read, with
   its reason, in the order of files and rows), :func:`cells` (the kept records by territory × VSIC
   class × period × channel × buyer type: ``value_vnd`` the sum, ``sellers`` distinct sellers,
   ``top1_vnd`` the largest seller's part, for a dominance rule) and :func:`seller_sums` (each
   seller's kept sales by territory, class and year, online apart).

Nothing is loaded into pandas but the reason counts and the cells (small: one row per cell).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from kinhteso.microdata.rules import BUYER_TYPES, CHANNELS, COLUMNS, STATUSES, VN_OFFSET_HOURS

__all__ = ["connect_duckdb", "read_records", "open_records", "bad_input", "reference_codes", "missing_columns", "classify", "kept", "set_aside", "reason_counts",
           "cells", "seller_sums", "arrow_batches", "engine_errors", "CELL_KEYS"]

#: The keys of one aggregate cell.
CELL_KEYS = ("territory", "vsic", "period", "channel", "buyer_type")
_ZONE = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: The text times read: ISO 8601 with seconds and an offset of at most 14 hours (the world's
#: widest). DuckDB and Spark read these alike; other forms are BAD_TIME on both (DuckDB alone
#: would read ``10:00+07:00``, ``24:00:00`` or ``+25:00``, Spark alone ``10:00:00 +07:00``).
_ISO_ZONED = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
              r"(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)$")


def connect_duckdb(*, temp_directory: str | None = None, threads: int | None = None,
                   memory_limit: str | None = None) -> Any:
    """An embedded DuckDB engine for the expressions (in memory; spilling to ``temp_directory``)."""
    config: dict[str, Any] = {}
    if temp_directory:
        config["temp_directory"] = temp_directory
    if threads:
        config["threads"] = int(threads)
    if memory_limit:
        config["memory_limit"] = memory_limit
    return ibis.duckdb.connect(**config)


def _is_spark(con: Any) -> bool:
    return getattr(con, "name", "") == "pyspark"


def read_records(con: Any, paths: Iterable[Path]) -> ibis.Table:
    """The Parquet files ``paths`` as one lazy table (Hive partitions read as text; ``_file``, the
    absolute path, and ``_row``, the 0-based row in the file), on DuckDB or Spark."""
    if _is_spark(con):
        from kinhteso.microdata import spark  # noqa: PLC0415

        return spark.read_records(con, paths)
    t = con.read_parquet([str(p) for p in paths], hive_partitioning=True, hive_types_autocast=False,
                         union_by_name=True, filename=True, file_row_number=True)
    return t.rename(_file="filename", _row="file_row_number")


def arrow_batches(con: Any, expr: ibis.Table) -> Iterable[Any]:
    """The rows of ``expr`` as Arrow record batches (streamed by DuckDB; gathered by Spark's driver)."""
    if _is_spark(con):
        from kinhteso.microdata import spark  # noqa: PLC0415

        return spark.arrow_batches(con, expr)
    # Ibis 12's to_pyarrow_batches calls a method DuckDB 2 no longer has: the compiled plan's reader
    return con.con.sql(con.compile(expr)).to_arrow_reader(batch_size=131_072)


def engine_errors(con: Any) -> tuple[type[BaseException], ...]:
    """The exceptions the engine raises on input it cannot read or compute."""
    if _is_spark(con):
        from kinhteso.microdata import spark  # noqa: PLC0415

        return spark.errors()
    import duckdb  # noqa: PLC0415

    return (duckdb.Error,)


def reference_codes() -> tuple[dict[str, str], list[str]]:
    """What :func:`classify` checks against: each accepted territory key → its 34-basis key (a 63-basis
    key given its successor, Resolution 202/2025/QH15) and the VSIC 2018 divisions."""
    from kinhteso.reference import territories as terr  # noqa: PLC0415
    from kinhteso.reference import vsic  # noqa: PLC0415

    keys = {t.key: t.key for t in terr.territories() if t.basis == 34}
    keys.update({old: new for old, new in terr.merger_map().itertuples(index=False)})
    return keys, [s.code for s in vsic.sectors(2018) if s.level == "division"]


def bad_input(what_vi: str, what_en: str, detail: str, **extra: Any) -> Any:
    """``MICRODATA_BAD_INPUT``: ``what`` (the files named in each language) could not be read."""
    from kinhteso.errors import KinhtesoError  # noqa: PLC0415

    first = (str(detail).strip().splitlines() or [""])[0][:300]
    return KinhtesoError("MICRODATA_BAD_INPUT", f"Không đọc được {what_vi}: {first}", f"Cannot read {what_en}: {first}",
                         **extra)


def open_records(con: Any, paths: Iterable[Path], *, what_vi: str, what_en: str, **extra: Any) -> ibis.Table:
    """:func:`read_records` with the engine's, pyarrow's and Ibis's read errors given as
    ``MICRODATA_BAD_INPUT`` and the required columns checked (``MICRODATA_MISSING_COLUMN``);
    ``what_vi``/``what_en`` name the files in the messages, ``extra`` goes into the error."""
    from kinhteso.errors import KinhtesoError  # noqa: PLC0415

    try:
        t = read_records(con, paths)
    except (*engine_errors(con), OSError, ValueError) as exc:
        raise bad_input(what_vi, what_en, str(exc), **extra) from exc
    except Exception as exc:  # pyarrow's and Ibis's own errors on a file that is not Parquet
        if type(exc).__module__.split(".")[0] in ("pyarrow", "ibis"):
            raise bad_input(what_vi, what_en, str(exc), **extra) from exc
        raise
    missing = missing_columns(t)
    if missing:
        raise KinhtesoError("MICRODATA_MISSING_COLUMN", f"{what_vi} thiếu cột: {', '.join(missing)}.",
                            f"{what_en} lack the columns: {', '.join(missing)}.", columns=missing, **extra)
    return t


def missing_columns(t: ibis.Table) -> list[str]:
    """The required columns the table lacks (``replaces`` may be absent)."""
    return [c for c in COLUMNS[:-1] if c not in t.columns]


def _text(col: ibis.Value) -> ibis.Value:
    return col if col.type().is_string() else col.cast("string")


def _amount(col: ibis.Value) -> tuple[ibis.Value, ibis.Value]:
    """(the amount in whole đồng as int64 or NULL, whether it is a number)."""
    t = col.type()
    if t.is_integer():
        return col.cast("int64"), col.notnull()
    num = col.try_cast("float64") if t.is_string() else col.cast("float64")
    return num.round().cast("int64"), num.notnull() & ~num.isnan() & ~num.isinf()


def _time(col: ibis.Value) -> tuple[ibis.Value, ibis.Value]:
    """(the instant as a UTC timestamp or NULL, whether it carries a zone). A timestamp typed with a
    zone (DuckDB's ``TIMESTAMPTZ``; Spark's ``TimestampType``, given UTC by its reader) is an instant;
    one without (a Parquet timestamp not adjusted to UTC) is a local time: ``TIME_WITHOUT_ZONE``."""
    t = col.type()
    if t.is_timestamp() and t.timezone is not None:
        return col, ibis.literal(True)
    if t.is_timestamp() or t.is_date():
        return ibis.null().cast(dt.Timestamp(timezone="UTC")), col.isnull()
    if t.is_string():
        s = col.strip()
        zoned = (s.re_search(_ZONE) & ~s.re_search("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).fill_null(False)  # not a date's -DD
        readable = s.re_search(_ISO_ZONED).fill_null(False)
        ts = ibis.ifelse(readable, s.try_cast(dt.Timestamp(timezone="UTC")), ibis.null().cast(dt.Timestamp(timezone="UTC")))
        return ts, zoned | s.isnull()
    return ibis.null().cast(dt.Timestamp(timezone="UTC")), ibis.literal(False)


def classify(t: ibis.Table, *, territories: dict[str, str], divisions: Iterable[str]) -> ibis.Table:
    """Every record with its typed fields and ``reason`` (NULL: kept). ``territories``: each
    accepted territory key → its 34-basis key; ``divisions``: the VSIC 2018 divisions (2 digits)."""
    replaces = _text(t.replaces) if "replaces" in t.columns else ibis.null().cast("string")
    inv, seller = _text(t.invoice_id).strip(), _text(t.seller_tax_code).strip()
    terr_raw, vsic = _text(t.seller_territory).strip(), _text(t.seller_vsic).strip()
    buyer, channel, status = _text(t.buyer_type).strip(), _text(t.channel).strip(), _text(t.status).strip()
    amount, numeric = _amount(t.amount_vnd)
    ts, zoned = _time(t.issued_at)
    known = list(territories)
    renamed = [(k, v) for k, v in territories.items() if k != v]
    territory = terr_raw.cases(*renamed, else_=terr_raw) if renamed else terr_raw
    divs = sorted(set(divisions))

    def bad(ok: ibis.Value) -> ibis.Value:
        return ~ok.fill_null(False)

    malformed = ibis.cases(
        (bad(inv.length() > 0), "MISSING_ID"),
        (bad(seller.length() > 0), "MISSING_SELLER"),
        (bad(terr_raw.isin(known)), "UNKNOWN_TERRITORY"),
        (bad(vsic.re_search("^[0-9]{4}$") & vsic.substr(0, 2).isin(divs)), "UNKNOWN_VSIC"),
        (bad(buyer.isin(list(BUYER_TYPES))), "BAD_BUYER_TYPE"),
        (bad(channel.isin(list(CHANNELS))), "BAD_CHANNEL"),
        (bad(status.isin(list(STATUSES))), "BAD_STATUS"),
        (bad(numeric), "BAD_AMOUNT"),
        (bad(amount >= 0), "NEGATIVE_AMOUNT"),
        (bad(zoned), "TIME_WITHOUT_ZONE"),
        (ts.isnull(), "BAD_TIME"),
        else_=ibis.null().cast("string"),
    )
    local = ts.cast(dt.Timestamp()) + ibis.interval(hours=VN_OFFSET_HOURS)
    c = t.mutate(_inv=inv, _seller=seller, territory=territory, vsic=vsic, _buyer=buyer, _channel=channel,
                 _status=status, amount=amount, period=local.strftime("%Y-%m"), _replaces=replaces.strip(),
                 _malformed=malformed)
    well = c._malformed.isnull()
    first = ibis.row_number().over(group_by=[c._inv, well], order_by=[c._file, c._row])
    c = c.mutate(_early=ibis.ifelse(well & (first > 0), "DUPLICATE_INVOICE", c._malformed))
    named = c.filter(c._early.isnull() & c._replaces.notnull() & (c._replaces.length() > 0))._replaces
    rule = ibis.cases((c._status == "cancelled", "CANCELLED"),
                      ((c._status == "replaced") | c._inv.isin(named), "REPLACED"),
                      else_=ibis.null().cast("string"))
    return c.mutate(reason=ibis.coalesce(c._early, rule)).drop("_early", "_malformed")


def kept(c: ibis.Table) -> ibis.Table:
    """The records that count."""
    return c.filter(c.reason.isnull())


def set_aside(c: ibis.Table, *, base: str = "") -> ibis.Table:
    """The quarantine: every record not kept, its columns as read, with ``reason``, ``source_file``
    (relative to ``base`` when under it) and ``source_row`` (0-based row within the file), in the
    order of files and rows."""
    q = c.filter(c.reason.notnull())
    q = q.order_by([q._file, q._row])
    src = q._file
    if base:
        prefix = base.rstrip("/") + "/"
        src = ibis.ifelse(src.startswith(prefix), src.substr(len(prefix)), src)
    cols = [q[col] for col in c.columns if not col.startswith("_") and col in (*COLUMNS, "month")]
    return q.select(q.reason, *cols, source_file=src, source_row=q._row)


def reason_counts(c: ibis.Table) -> ibis.Table:
    """Records by ``reason`` (NULL: kept), with ``records``."""
    return c.group_by("reason").aggregate(records=c.count())


def _counted(c: ibis.Table) -> ibis.Table:
    """The kept records with ``channel`` and ``buyer_type`` as checked (stripped) and ``seller``."""
    k = kept(c)
    return k.mutate(channel=k._channel, buyer_type=k._buyer, seller=k._seller)


def cells(c: ibis.Table) -> ibis.Table:
    """The kept records by :data:`CELL_KEYS`: ``value_vnd`` (sum of amounts, đồng), ``invoices``,
    ``sellers`` (distinct sellers) and ``top1_vnd`` (the largest seller's sum, for a dominance rule)."""
    k = _counted(c)
    by_seller = k.group_by([*CELL_KEYS, "seller"]).aggregate(seller_vnd=k.amount.sum(), n=k.count())
    return by_seller.group_by(list(CELL_KEYS)).aggregate(
        value_vnd=by_seller.seller_vnd.sum(), invoices=by_seller.n.sum(), sellers=by_seller.count(),
        top1_vnd=by_seller.seller_vnd.max(),
    ).order_by(list(CELL_KEYS))


def seller_sums(c: ibis.Table, by: Iterable[str] = ("territory", "vsic", "year")) -> ibis.Table:
    """Each seller's kept records by the keys ``by`` (any of :data:`CELL_KEYS` and ``year``, the
    first four characters of ``period``) and ``seller`` (the tax code): ``total_vnd`` (sum of
    amounts), ``online_vnd`` (sum of the online ones) and ``invoices``."""
    k = _counted(c)
    k = k.mutate(year=k.period.substr(0, 4))
    keys = [*by, "seller"]
    return k.group_by(keys).aggregate(
        total_vnd=k.amount.sum(), online_vnd=k.amount.sum(where=k.channel == "online").fill_null(0),
        invoices=k.count(),
    ).order_by(keys)
