"""The incremental month update of the e-invoice aggregate (issue 17, item 1): a new month updates
the aggregates without recomputing history, and the result is **exactly** that of a full run on all
the months (:mod:`kinhteso.microdata.engine` on every file at once).

A state folder keeps, for each month (the ``month=YYYY-MM`` folder of its files), what a later month
needs, so that the month's raw files are not read again unless a later month replaces one of its
invoices:

- ``contrib.parquet``: the kept records' contribution by cell keys × seller (``seller_vnd``, ``n``),
  from which the cells, their distinct sellers and their largest seller are rebuilt;
- ``ids.parquet``: the ids of the month's well-formed records that are not duplicates (the first, in
  file order, of each id), for the duplicate rule across months;
- ``names.parquet``: the ids named in ``replaces`` by the month's well-formed, non-duplicate records;
- ``counts.parquet`` (records by reason), ``quarantine.parquet`` (the set-aside records, as
  :func:`~kinhteso.microdata.engine.set_aside` writes them);
- ``effects-*.parquet``: the invoices of earlier months this month replaced (their contribution,
  negated, and their quarantine rows); kept with the month that caused them, so that recomputing a
  month undoes them;
- ``manifest.json`` lists the months in order with the fingerprint of their files (relative names,
  sizes, modification times) and of the settings (territories, divisions, base, code version).

:func:`update` compares the input with the manifest: the months from the first one that is new,
changed or out of place are (re)computed in order, each against the months before it (a month's
records can only be duplicates of earlier months'; a record naming an invoice of an earlier month in
``replaces`` takes that invoice out of its own month's cells, read back from that month's files,
only the rows named); the months before it are taken from the state. A month of the state missing
from the input is refused (``MICRODATA_STATE_MONTH_MISSING``) unless ``remove_missing``. Nothing in
the state changes until every month is computed: the new manifest is then written atomically and the
folders it no longer lists removed.

>>> sorted(months_of([Path("d/month=2025-02/p.parquet"), Path("d/month=2025-01/p.parquet")]))
['2025-01', '2025-02']
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from kinhteso.errors import KinhtesoError
from kinhteso.microdata import engine
from kinhteso.microdata.rules import REASONS

__all__ = ["STATE_VERSION", "Update", "months_of", "update", "write_quarantine"]

#: The layout of the state folder (a state of another version is recomputed).
STATE_VERSION = 1
_MARKER = "_STATE.txt"
_MANIFEST = "manifest.json"
_MONTH = re.compile(r"^month=(\d{4}-\d{2})$")
_MALFORMED = [r.code for r in REASONS if r.kind == "malformed"]
_EARLY = [*_MALFORMED, "DUPLICATE_INVOICE"]
_NULL = ibis.null().cast("string")
#: Sums of đồng as stored: exact (DuckDB would write a 128-bit sum to Parquet as a double).
_SUM = "decimal(38, 0)"


@dataclass
class Update:
    """What :func:`update` gives: ``cells`` (as :func:`kinhteso.microdata.engine.cells`), ``counts``
    (``reason``, NULL for kept, ``records``), the Parquet parts of the quarantine, the months
    (re)computed and those taken from the state unchanged."""

    cells: pd.DataFrame
    counts: pd.DataFrame
    quarantine: list[Path]
    recomputed: list[str]
    unchanged: list[str]
    sellers: pd.DataFrame | None = None   #: with ``with_sellers``: :func:`~kinhteso.microdata.engine.seller_sums` by year


def months_of(files: Iterable[Path]) -> dict[str, list[Path]]:
    """The files by month, from their ``month=YYYY-MM`` folder (``MICRODATA_NO_MONTH`` otherwise)."""
    out: dict[str, list[Path]] = {}
    for f in files:
        m = _MONTH.match(Path(f).parent.name)
        if m is None:
            raise KinhtesoError("MICRODATA_NO_MONTH",
                                f"{f} không nằm trong thư mục tháng month=YYYY-MM: cập nhật theo tháng cần dữ liệu "
                                "phân theo tháng.",
                                f"{f} is not under a month=YYYY-MM folder: the monthly update needs data partitioned "
                                "by month.", path=str(f))
        out.setdefault(m.group(1), []).append(Path(f))
    return {k: sorted(v, key=str) for k, v in sorted(out.items())}


def _fingerprint(files: list[Path], base: str) -> str:
    rows = []
    for f in files:
        st = f.stat()
        name = str(f.resolve())
        if base and name.startswith(base.rstrip("/") + "/"):
            name = name[len(base.rstrip("/")) + 1:]
        rows.append([name, st.st_size, st.st_mtime_ns])
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _settings(territories: dict[str, str], divisions: Iterable[str], base: str) -> str:
    from kinhteso import __version__  # noqa: PLC0415

    spec = [STATE_VERSION, __version__, sorted(territories.items()), sorted(set(divisions)), base]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()


@contextlib.contextmanager
def _locked(state: Path) -> Iterator[None]:
    import fcntl  # noqa: PLC0415

    fd = os.open(state / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KinhtesoError("MICRODATA_STATE_BUSY", f"Thư mục trạng thái {state} đang được một tiến trình khác "
                                "cập nhật; thử lại sau.", f"The state folder {state} is being updated by another "
                                "process; try again later.", path=str(state)) from None
        yield
    finally:
        os.close(fd)


def _claim(state: Path) -> None:
    """Make ``state`` a state folder (new, empty, or one already), else refuse it."""
    if state.is_symlink() or (state.exists() and not state.is_dir()):
        raise KinhtesoError("MICRODATA_STATE_BAD", f"{state} không phải là thư mục trạng thái.",
                            f"{state} is not a state folder.", path=str(state))
    if state.is_dir() and any(state.iterdir()) and not (state / _MARKER).is_file():
        raise KinhtesoError("MICRODATA_STATE_BAD", f"Thư mục {state} có tệp không do kinhteso ghi; không dùng làm "
                            "thư mục trạng thái. Chọn một thư mục mới.", f"The folder {state} holds files kinhteso "
                            "did not write; not using it as a state folder. Choose a new folder.", path=str(state))
    (state / "months").mkdir(parents=True, exist_ok=True)
    if not (state / _MARKER).is_file():
        (state / _MARKER).write_text("kinhteso microdata state: trạng thái cập nhật theo tháng / monthly update "
                                     "state. Do not edit.\n", encoding="utf-8")


def _manifest(state: Path) -> dict[str, Any]:
    """The manifest of ``state`` (an empty one when none was written yet)."""
    try:
        manifest = json.loads((state / _MANIFEST).read_text(encoding="utf-8"))
        assert manifest["version"] == STATE_VERSION and isinstance(manifest["months"], list)
        return manifest
    except FileNotFoundError:
        return {"version": STATE_VERSION, "settings": "", "months": []}
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        raise KinhtesoError("MICRODATA_STATE_BAD", f"Tệp {state / _MANIFEST} hỏng; xóa thư mục trạng thái để tính lại "
                            "từ đầu.", f"{state / _MANIFEST} is damaged; remove the state folder to compute from "
                            "scratch.", path=str(state)) from exc


def _parts(folders: list[Path], pattern: str) -> list[str]:
    return [str(p) for d in folders for p in sorted(d.glob(pattern))]


def _read(con: Any, paths: list[str]) -> ibis.Table:
    return con.read_parquet(paths, union_by_name=True)


def update(con: Any, files_by_month: dict[str, list[Path]], state_dir: Path, *, territories: dict[str, str],
           divisions: Iterable[str], base: str = "", remove_missing: bool = False,
           with_sellers: bool = False) -> Update:
    """Bring the state ``state_dir`` up to the input ``files_by_month`` (:func:`months_of`) and return
    the aggregate of all the months, equal to a full run. ``territories``, ``divisions``: as
    :func:`~kinhteso.microdata.engine.classify`; ``base``: the input folder (quarantine file names
    relative to it); ``remove_missing``: drop the state's months absent from the input rather than
    refuse; ``with_sellers``: also each seller's sums by territory × class × year (``Update.sellers``),
    rebuilt from the state as the full run's ``seller_sums`` gives them."""
    state = Path(state_dir)
    months = sorted(m for m in files_by_month if files_by_month[m])
    if not months:
        raise KinhtesoError("MICRODATA_NO_FILES", "Không có tệp Parquet nào để cập nhật.",
                            "No Parquet file to update from.")
    files = {m: sorted((Path(f) for f in files_by_month[m]), key=str) for m in months}
    for a, b in itertools.pairwise(months):
        if str(files[a][-1]) >= str(files[b][0]):
            raise KinhtesoError("MICRODATA_MONTHS_OUT_OF_ORDER",
                                f"Tệp của tháng {a} và {b} xen kẽ theo thứ tự tên: quy tắc trùng lặp (theo thứ tự tệp) "
                                "không tách được theo tháng.",
                                f"The files of months {a} and {b} interleave in name order: the duplicate rule (file "
                                "order) cannot be applied month by month.", months=[a, b])
    divisions = sorted(set(divisions))
    settings = _settings(territories, divisions, base)
    fps = {m: _fingerprint(files[m], base) for m in months}
    _claim(state)
    with _locked(state):
        manifest = _manifest(state)
        old = manifest["months"] if manifest.get("settings") == settings else []
        missing = [e["month"] for e in old if e["month"] not in fps]
        if missing and not remove_missing:
            raise KinhtesoError("MICRODATA_STATE_MONTH_MISSING",
                                f"Trạng thái có tháng không còn trong dữ liệu vào: {', '.join(missing)}. Đưa lại các tệp "
                                "đó, hoặc yêu cầu bỏ các tháng này khỏi kết quả.",
                                f"The state holds months absent from the input: {', '.join(missing)}. Give their "
                                "files again, or ask for these months to be removed from the result.", months=missing)
        keep = 0
        while keep < min(len(old), len(months)) and old[keep]["month"] == months[keep] \
                and old[keep]["fingerprint"] == fps[months[keep]]:
            keep += 1
        todo = months[keep:]
        tables = {m: _checked(con, m, files[m]) for m in todo}  # refused whole before anything is written
        entries = list(old[:keep])
        made: list[Path] = []
        try:
            for m in todo:
                folder = state / "months" / f"{m}.{uuid.uuid4().hex[:12]}"
                folder.mkdir()
                made.append(folder)
                prior = [state / "months" / e["dir"] for e in entries]
                _month(con, tables[m], m, folder, prior, files, territories=territories,
                       divisions=divisions, base=base)
                entries.append({"month": m, "fingerprint": fps[m], "dir": folder.name})
            folders = [state / "months" / e["dir"] for e in entries]
            # the cells of the months before are kept (cells.*.parquet): when months were only added,
            # only the periods the new months touch (their records and their effects) are rebuilt
            appended = manifest.get("settings") == settings and keep == len(old)
            cached = state / manifest["cells"] if appended and manifest.get("cells") else None
            cached = cached if cached is not None and cached.is_file() else None
            cells, counts, sellers = _assemble(con, folders, with_sellers=with_sellers, cached=cached,
                                               periods=_periods(con, made) if cached is not None else None)
            name = cached.name if cached is not None and not todo else None
            if todo or len(entries) != len(old) or manifest.get("settings") != settings or name is None:
                from kinhteso.safe_io import write_text_atomic  # noqa: PLC0415

                if name is None:
                    name = f"cells.{uuid.uuid4().hex[:12]}.parquet"
                    cells.to_parquet(state / name, index=False)
                    made.append(state / name)
                write_text_atomic(state / _MANIFEST, json.dumps(
                    {"version": STATE_VERSION, "settings": settings, "months": entries, "cells": name}, indent=1))
        except BaseException:
            for d in made:
                if d.is_dir():
                    shutil.rmtree(d, ignore_errors=True)
                else:
                    d.unlink(missing_ok=True)
            raise
        listed = {e["dir"] for e in entries}
        for d in (state / "months").iterdir():
            if d.name not in listed:
                shutil.rmtree(d, ignore_errors=True)
        for f in state.glob("cells.*.parquet"):
            if f.name != name:
                f.unlink(missing_ok=True)
        return Update(cells=cells, counts=counts, sellers=sellers,
                      quarantine=[Path(p) for p in _parts(folders, "quarantine*.parquet")
                                  + _parts(folders, "effects-quarantine-*.parquet")],
                      recomputed=todo, unchanged=months[:keep])


def _checked(con: Any, month: str, paths: list[Path]) -> ibis.Table:
    """The month's records as a lazy table, its files opened and their columns checked."""
    return engine.open_records(con, paths, what_vi=f"tệp Parquet hóa đơn của tháng {month}",
                               what_en=f"the Parquet e-invoice files of month {month}", month=month)


def _month(con: Any, t: ibis.Table, month: str, folder: Path, prior: list[Path],
           files: dict[str, list[Path]], *, territories: dict[str, str], divisions: list[str], base: str) -> None:
    """Classify one month against the months before it (``prior``) and write its part of the state."""
    c = engine.classify(t, territories=territories, divisions=divisions)
    prior_ids = _read(con, _parts(prior, "ids.parquet")) if prior else None
    prior_names = _read(con, _parts(prior, "names.parquet")) if prior else None
    if prior_ids is not None:
        # the rules again, across months: a well-formed record whose id an earlier month holds is a
        # duplicate; then only the well-formed, non-duplicate records name, with the earlier months' names
        early = ibis.ifelse(c.reason.isin(_EARLY).fill_null(False), c.reason, _NULL)
        # the earlier months' ids that this month repeats or names, found in one scan of the (large)
        # history probed with this month's ids and names (the hash table is built on the month)
        probe = t.select(id=t.invoice_id.cast("string").strip())
        if "replaces" in t.columns:
            probe = probe.union(t.select(id=t.replaces.cast("string").strip()))
        found = con.to_pandas(prior_ids.filter(prior_ids.id.isin(probe.distinct().id)))
        seen = ibis.memtable(found[["id"]].drop_duplicates(), schema={"id": "string"})
        dup = early.isnull() & c._inv.isin(seen.id)
        c = c.mutate(_early=ibis.coalesce(early, ibis.ifelse(dup, "DUPLICATE_INVOICE", _NULL)))
        named = c.filter(c._early.isnull() & c._replaces.notnull() & (c._replaces.length() > 0))._replaces
        rule = ibis.cases((c._status == "cancelled", "CANCELLED"),
                          ((c._status == "replaced") | c._inv.isin(named) | c._inv.isin(prior_names.id), "REPLACED"),
                          else_=_NULL)
        c = c.mutate(reason=ibis.coalesce(c._early, rule)).drop("_early")
    scratch = folder / ".classified.parquet"
    con.to_parquet(c, scratch)  # classified once; every output below reads it
    m = _read(con, [str(scratch)])
    try:
        con.to_parquet(_contrib(m), folder / "contrib.parquet")
        con.to_parquet(engine.reason_counts(m), folder / "counts.parquet")
        con.to_parquet(engine.set_aside(m, base=base), folder / "quarantine.parquet")
        first = m.reason.isnull() | ~m.reason.isin(_EARLY).fill_null(False)
        con.to_parquet(m.filter(first).select(id=m._inv, month=ibis.literal(month)), folder / "ids.parquet")
        names = m.filter(first & m._replaces.notnull() & (m._replaces.length() > 0)).select(id=m._replaces).distinct()
        con.to_parquet(names, folder / "names.parquet")
        if prior_ids is None:
            return
        names = _read(con, [str(folder / "names.parquet")])
        new = con.to_pandas(names.filter(~names.id.isin(prior_names.id)))
        hits = found[found["id"].isin(set(new["id"]))]
    finally:
        scratch.unlink(missing_ok=True)
    for target, ids in hits.groupby("month")["id"]:
        _replace_earlier(con, files[str(target)], sorted(ids), folder, str(target), territories=territories,
                         divisions=divisions, base=base)


def _replace_earlier(con: Any, paths: list[Path], ids: list[str], folder: Path, target: str, *,
                     territories: dict[str, str], divisions: list[str], base: str) -> None:
    """The invoices ``ids`` of the earlier month ``target`` that were kept, set aside as ``REPLACED``:
    their negated contribution and quarantine rows written beside the month that named them."""
    t = engine.read_records(con, paths)
    wanted = ibis.memtable(pd.DataFrame({"id": ids}))
    t = t.filter(t.invoice_id.cast("string").strip().isin(wanted.id))
    c = engine.classify(t, territories=territories, divisions=divisions)
    # the first well-formed record of each id (it held the id in the state), if it was issued: it was
    # kept (not cancelled, not replaced by status, not named before: only new names are looked for)
    hit = c.filter(~c.reason.isin(_EARLY).fill_null(False) & (c._status == "issued"))
    scratch = folder / f".hit-{target}.parquet"
    con.to_parquet(hit, scratch)  # the earlier month's files read once for both outputs
    try:
        hit = _read(con, [str(scratch)])
        con.to_parquet(_contrib(hit.mutate(reason=_NULL), sign=-1), folder / f"effects-contrib-{target}.parquet")
        con.to_parquet(engine.set_aside(hit.mutate(reason=ibis.literal("REPLACED")), base=base),
                       folder / f"effects-quarantine-{target}.parquet")
    finally:
        scratch.unlink(missing_ok=True)


def _contrib(c: ibis.Table, sign: int = 1) -> ibis.Table:
    """The kept records of ``c`` by cell keys × seller (:func:`~kinhteso.microdata.engine.seller_sums`):
    ``seller_vnd`` (exact) and ``n``, times ``sign``."""
    s = engine.seller_sums(c, by=engine.CELL_KEYS)
    return s.select(*engine.CELL_KEYS, s.seller, seller_vnd=s.total_vnd.cast(_SUM) * sign, n=s.invoices * sign)


def _periods(con: Any, folders: list[Path]) -> list[str]:
    """The periods the contributions and effects written in ``folders`` touch."""
    parts = _parts(folders, "contrib.parquet") + _parts(folders, "effects-contrib-*.parquet")
    if not parts:
        return []
    x = _read(con, parts)
    return sorted(con.to_pandas(x.select("period").distinct())["period"].dropna())


def _assemble(con: Any, folders: list[Path], *, with_sellers: bool = False, cached: Path | None = None,
              periods: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The cells and counts of the months in ``folders``, their effects applied (and, with
    ``with_sellers``, each seller's sums by territory × class × year). With ``cached`` (the cells of
    an earlier update) and ``periods``, only those periods' cells are rebuilt, the others read back."""
    contrib = _parts(folders, "contrib.parquet") + _parts(folders, "effects-contrib-*.parquet")
    counts = con.to_pandas(_read(con, _parts(folders, "counts.parquet")))
    replaced = sum(_rows(p) for p in _parts(folders, "effects-quarantine-*.parquet"))
    if replaced:
        counts = pd.concat([counts, pd.DataFrame({"reason": ["REPLACED", None], "records": [replaced, -replaced]})])
    counts = counts.groupby("reason", dropna=False, as_index=False)["records"].sum()
    counts = counts[counts["records"] > 0].reset_index(drop=True)
    x = _read(con, contrib)
    s = x.group_by([*engine.CELL_KEYS, "seller"]).aggregate(seller_vnd=x.seller_vnd.sum(), n=x.n.sum())
    s = s.filter(s.n > 0)
    rebuilt = s if cached is None else s.filter(s.period.isin(list(periods or [])))
    cells = rebuilt.group_by(list(engine.CELL_KEYS)).aggregate(
        value_vnd=rebuilt.seller_vnd.sum().cast("int64"), invoices=rebuilt.n.sum(), sellers=rebuilt.count(),
        top1_vnd=rebuilt.seller_vnd.max().cast("int64"),
    ).order_by(list(engine.CELL_KEYS))
    sellers = None
    if with_sellers:
        y = s.mutate(year=s.period.substr(0, 4))
        by = ["territory", "vsic", "year", "seller"]
        sellers = con.to_pandas(y.group_by(by).aggregate(
            total_vnd=y.seller_vnd.sum().cast("int64"),
            online_vnd=ibis.ifelse(y.channel == "online", y.seller_vnd, 0).sum().cast("int64"),
            invoices=y.n.sum()).order_by(by))
    cells = con.to_pandas(cells)
    if cached is not None:
        keep = pd.read_parquet(cached)
        keep = keep[~keep["period"].isin(list(periods or []))]
        cells = (pd.concat([keep, cells.astype(keep.dtypes.to_dict())], ignore_index=True)
                 .sort_values(list(engine.CELL_KEYS), kind="stable").reset_index(drop=True))
    return cells, counts, sellers


def _rows(path: str) -> int:
    """Rows of a Parquet file (its metadata)."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    return pq.read_metadata(path).num_rows


def write_quarantine(con: Any, parts: list[Path], dest: Path) -> None:
    """The quarantine parts of :class:`Update` written as one Parquet file ``dest``, in the order of
    files and rows (as the full run writes it)."""
    t = _read(con, [str(p) for p in parts])
    con.to_parquet(t.order_by([t.source_file, t.source_row]), dest)
