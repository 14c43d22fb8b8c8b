"""The record rules and the aggregation of e-invoices as **Ibis** expressions (issue 17, item 1).

The expressions are built once, on an Ibis table read lazily from the Parquet data set (Hive
partitions ``month=YYYY-MM``), and run by the engine they are bound to: embedded DuckDB now
(:func:`connect_duckdb`); the same expressions are meant for PySpark (planned). No SQL text is
written in kinhteso for them: Ibis compiles each expression to the engine's dialect, so this module
is not a second place that speaks SQL (the store, :mod:`kinhteso.store`, stays the only one).

The steps, each a function of a table:

1. :func:`read_records` — the files as an Ibis table with ``_file`` and ``_row`` (where each
   record is; their order decides which of two duplicates is first);
2. :func:`classify` — each record typed (``territory`` on the 34 basis, a 63-basis key given its
   successor, Resolution 202/2025/QH15; ``vsic``; ``amount`` in whole đồng; ``period``, the month
   of ``issued_at`` in Viet Nam time) with its ``reason`` (:data:`kinhteso.microdata.rules.REASONS`;
   NULL for a kept record): malformed first, then duplicates among the well-formed (a window over
   ``invoice_id`` in the order of files and rows: the first kept), then ``CANCELLED`` and
   ``REPLACED`` (the status, or the id named in a well-formed record's ``replaces``);
3. :func:`reason_counts`, :func:`set_aside` (the quarantine: every record not kept, as read, with
   its reason) and :func:`cells` (the kept records by territory × VSIC class × period × channel ×
   buyer type: ``value_vnd`` the sum, ``sellers`` distinct sellers, ``top1_vnd`` the largest
   seller's part, for a dominance rule).

Nothing is loaded into pandas but the reason counts and the cells (small: one row per cell).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from kinhteso.microdata.rules import BUYER_TYPES, CHANNELS, COLUMNS, STATUSES, VN_OFFSET_HOURS

__all__ = ["connect_duckdb", "read_records", "missing_columns", "classify", "kept", "set_aside", "reason_counts",
           "cells", "CELL_KEYS"]

#: The keys of one aggregate cell.
CELL_KEYS = ("territory", "vsic", "period", "channel", "buyer_type")
_ZONE = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


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


def read_records(con: Any, paths: Iterable[Path]) -> ibis.Table:
    """The Parquet files ``paths`` as one lazy table (Hive partitions read; ``_file``, ``_row``)."""
    t = con.read_parquet([str(p) for p in paths], hive_partitioning=True, union_by_name=True, filename=True,
                         file_row_number=True)
    return t.rename(_file="filename", _row="file_row_number")


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
    """(the instant as a UTC timestamp or NULL, whether the text carries a zone)."""
    t = col.type()
    if t.is_timestamp() and t.timezone is not None:
        return col, ibis.literal(True)
    if t.is_timestamp() or t.is_date():
        return ibis.null().cast(dt.Timestamp(timezone="UTC")), col.isnull()
    if t.is_string():
        s = col.strip()
        zoned = s.re_search(_ZONE).fill_null(False)
        ts = ibis.ifelse(zoned, s.try_cast(dt.Timestamp(timezone="UTC")), ibis.null().cast(dt.Timestamp(timezone="UTC")))
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
    territory = terr_raw.cases(*((k, v) for k, v in territories.items() if k != v), else_=terr_raw)
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
    (relative to ``base`` when under it) and ``source_row`` (0-based row within the file)."""
    q = c.filter(c.reason.notnull())
    src = q._file
    if base:
        prefix = base.rstrip("/") + "/"
        src = ibis.ifelse(src.startswith(prefix), src.substr(len(prefix)), src)
    cols = [q[col] for col in c.columns if not col.startswith("_") and col in (*COLUMNS, "month")]
    return q.select(q.reason, *cols, source_file=src, source_row=q._row)


def reason_counts(c: ibis.Table) -> ibis.Table:
    """Records by ``reason`` (NULL: kept), with ``records``."""
    return c.group_by("reason").aggregate(records=c.count())


def cells(c: ibis.Table) -> ibis.Table:
    """The kept records by :data:`CELL_KEYS`: ``value_vnd`` (sum of amounts, đồng), ``invoices``,
    ``sellers`` (distinct sellers) and ``top1_vnd`` (the largest seller's sum, for a dominance rule)."""
    k = kept(c)
    by_seller = k.group_by([*CELL_KEYS, "_seller"]).aggregate(seller_vnd=k.amount.sum(), n=k.count())
    return by_seller.group_by(list(CELL_KEYS)).aggregate(
        value_vnd=by_seller.seller_vnd.sum(), invoices=by_seller.n.sum(), sellers=by_seller.count(),
        top1_vnd=by_seller.seller_vnd.max(),
    ).order_by(list(CELL_KEYS))
