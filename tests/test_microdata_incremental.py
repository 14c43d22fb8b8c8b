"""The incremental month update of the e-invoice aggregate (issue 17, item 1): equal to a full run,
the rules across months worked by hand, changed, unchanged, removed and refused months."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kinhteso.errors import KinhtesoError
from kinhteso.microdata import engine, incremental, publish
from kinhteso.microdata.rules import COLUMNS
from kinhteso.safe_io import csv_text
from kinhteso.service.microdata import (
    AggregateRequest,
    GenerateRequest,
    aggregate,
    generate,
)

KEYS, DIVISIONS = engine.reference_codes()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))


def _update(folder: Path, state: Path, **kw) -> incremental.Update:
    con = engine.connect_duckdb()
    try:
        return incremental.update(con, incremental.months_of(_files(folder)), state, territories=KEYS,
                                  divisions=kw.pop("divisions", DIVISIONS), base=str(folder.resolve()), **kw)
    finally:
        con.disconnect()


def _full(folder: Path) -> tuple[pd.DataFrame, dict]:
    """The full run's cells and counts (the engine on every file at once)."""
    con = engine.connect_duckdb()
    try:
        c = engine.classify(engine.read_records(con, _files(folder)), territories=KEYS, divisions=DIVISIONS)
        counts = con.to_pandas(engine.reason_counts(c))
        return con.to_pandas(engine.cells(c)), _counts(counts)
    finally:
        con.disconnect()


def _counts(counts: pd.DataFrame) -> dict:
    return {(r if isinstance(r, str) else "kept"): int(n) for r, n in zip(counts["reason"], counts["records"])}


def _quarantine(parts: list[Path], tmp: Path) -> pd.DataFrame:
    con = engine.connect_duckdb()
    try:
        incremental.write_quarantine(con, parts, tmp / "q.parquet")
    finally:
        con.disconnect()
    return _sorted(pq.read_table(tmp / "q.parquet").to_pandas())


def _sorted(q: pd.DataFrame) -> pd.DataFrame:
    return q.sort_values(["source_file", "source_row"])[sorted(q.columns)].reset_index(drop=True)


def _state_files(state: Path) -> dict[str, bytes]:
    return {str(p.relative_to(state)): p.read_bytes() for p in sorted(state.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- equal to a full run


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("inc") / "gen"
    generate(GenerateRequest(records=12_000, seed=5, out=out))
    return out


def test_a_new_month_equals_the_full_run(year, tmp_path):
    """Eleven months in the state, the rest added: cells CSV, counts and quarantine equal a full run on
    all the months (the service's aggregate, disclosure control applied after on the whole table)."""
    data, state = tmp_path / "data", tmp_path / "state"
    months = sorted(p.name for p in year.iterdir() if p.is_dir())
    assert months[:12] == [f"month=2025-{m:02d}" for m in range(1, 13)]
    for m in months[:11]:
        shutil.copytree(year / m, data / m)
    first = _update(data, state)
    assert first.recomputed == [f"2025-{m:02d}" for m in range(1, 12)] and first.unchanged == []
    for m in months[11:]:
        shutil.copytree(year / m, data / m)
    up = _update(data, state)
    assert up.recomputed == [m[len("month="):] for m in months[11:]] and len(up.unchanged) == 11
    # December's replacements reach back into November: its cells were corrected without recomputing it
    assert list((state / "months").glob("2025-12.*/effects-contrib-2025-11.parquet"))

    res = aggregate(AggregateRequest(input=data, out=tmp_path / "cells.csv"))
    full_cells, full_counts = _full(data)
    pd.testing.assert_frame_equal(up.cells, full_cells)
    published = csv_text(publish.publish_frame(publish.apply_disclosure_control(up.cells)))
    assert published == (tmp_path / "cells.csv").read_text(encoding="utf-8")
    assert _counts(up.counts) == full_counts == {**res.set_aside, "kept": res.kept}
    assert full_counts["REPLACED"] > 0 and full_counts["DUPLICATE_INVOICE"] > 0
    q = _quarantine(up.quarantine, tmp_path)
    pd.testing.assert_frame_equal(q, _sorted(pq.read_table(res.quarantine).to_pandas()))

    # the same input again: nothing recomputed, nothing written
    before = {p: p.stat().st_mtime_ns for p in state.rglob("*")}
    again = _update(data, state)
    assert again.recomputed == [] and len(again.unchanged) == len(months)
    assert {p: p.stat().st_mtime_ns for p in state.rglob("*")} == before
    pd.testing.assert_frame_equal(again.cells, full_cells)


# --------------------------------------------------------------------------- the rules across months, by hand


def _row(i, seller, amount, month, **kw) -> dict:
    row = {"invoice_id": i, "seller_tax_code": seller, "seller_territory": "34:31", "seller_vsic": "6201",
           "buyer_type": "B2B", "channel": "online", "issued_at": f"{month}-10T10:00:00+07:00",
           "amount_vnd": str(int(amount * 1e9)), "status": "issued", "replaces": None}
    row.update(kw)
    return row


def _write(folder: Path, month: str, rows: list[dict]) -> None:
    d = folder / f"month={month}"
    d.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in COLUMNS])),
                   d / "part-00000.parquet")


JAN = [_row("A1", "S1", 1, "2025-01"), _row("A2", "S2", 2, "2025-01"), _row("A3", "S3", 3, "2025-01"),
       _row("X1", "S1", 4, "2025-01"),                                   # replaced by February's R1
       _row("C1", "S1", 9, "2025-01", status="cancelled"),               # named by C2: stays CANCELLED
       _row("Y1", "S2", 5, "2025-01"),                                   # named only by a duplicate: kept
       _row("N1", "S3", 0.5, "2025-01", replaces="B9"),                  # names a February invoice
       _row("M1", "S2", 1, "2025-01", buyer_type="B2X")]                 # malformed
FEB = [_row("B1", "S1", 1, "2025-02"), _row("B2", "S2", 1, "2025-02"), _row("B3", "S3", 1, "2025-02"),
       _row("R1", "S1", 1.5, "2025-02", replaces="X1"),
       _row("A2", "S2", 8, "2025-02", replaces="Y1"),                    # DUPLICATE of January's A2: names nothing
       _row("B9", "S2", 0.7, "2025-02"),                                 # REPLACED (named by January's N1)
       _row("C2", "S1", 0.2, "2025-02", replaces="C1"),
       _row("A3", "S3", 1, "2025-02", channel="mobile"),                 # BAD_CHANNEL, not a duplicate
       _row("M1", "S2", 0.3, "2025-02")]                                 # kept: January's M1 was malformed
MAR = [_row("D1", "S1", 2, "2025-03", replaces="R1"),                    # R1 (February) REPLACED
       _row("E1", "S2", 1, "2025-03", replaces="X1"),                    # X1 replaced already: nothing more
       _row("F1", "S3", 1, "2025-03")]


def _cell(cells: pd.DataFrame, month: str) -> tuple:
    r = cells[cells["period"] == month].iloc[0]
    return (r.value_vnd / 1e9, int(r.invoices), int(r.sellers), r.top1_vnd / 1e9)


def test_rules_across_months_by_hand(tmp_path):
    data, state = tmp_path / "data", tmp_path / "state"
    _write(data, "2025-01", JAN)
    up = _update(data, state)
    # January alone: S1 1 + 4 (X1), S2 2 + 5, S3 3 + 0.5 → 15.5 bn, 6 invoices, largest 7 bn
    assert _cell(up.cells, "2025-01") == pytest.approx((15.5, 6, 3, 7.0))
    _write(data, "2025-02", FEB)
    up = _update(data, state)
    assert up.recomputed == ["2025-02"] and up.unchanged == ["2025-01"]
    # January: X1 out → S1 1, S2 7, S3 3.5 = 11.5 bn, 5 invoices, largest 7
    assert _cell(up.cells, "2025-01") == pytest.approx((11.5, 5, 3, 7.0))
    # February: S1 1 + 1.5 + 0.2, S2 1 + 0.3, S3 1 = 5.0 bn, 6 invoices, largest 2.7
    assert _cell(up.cells, "2025-02") == pytest.approx((5.0, 6, 3, 2.7))
    assert _counts(up.counts) == {"kept": 11, "REPLACED": 2, "CANCELLED": 1, "DUPLICATE_INVOICE": 1,
                                  "BAD_BUYER_TYPE": 1, "BAD_CHANNEL": 1}
    q = _quarantine(up.quarantine, tmp_path)
    assert q.loc[q["invoice_id"] == "X1", ["reason", "source_file", "source_row"]].values.tolist() == [
        ["REPLACED", "month=2025-01/part-00000.parquet", 3]]
    assert q.loc[q["reason"] == "DUPLICATE_INVOICE", "amount_vnd"].tolist() == ["8000000000"]
    full_cells, full_counts = _full(data)
    pd.testing.assert_frame_equal(up.cells, full_cells)
    assert _counts(up.counts) == full_counts

    _write(data, "2025-03", MAR)
    up = _update(data, state)
    assert up.recomputed == ["2025-03"]
    # February: R1 out → S1 1.2, S2 1.3, S3 1 = 3.5 bn, 5 invoices; March: 2 + 1 + 1 = 4 bn
    assert _cell(up.cells, "2025-02") == pytest.approx((3.5, 5, 3, 1.3))
    assert _cell(up.cells, "2025-03") == pytest.approx((4.0, 3, 3, 2.0))
    assert _counts(up.counts)["REPLACED"] == 3 and _counts(up.counts)["kept"] == 13
    full_cells, full_counts = _full(data)
    pd.testing.assert_frame_equal(up.cells, full_cells)
    assert _counts(up.counts) == full_counts
    pd.testing.assert_frame_equal(_quarantine(up.quarantine, tmp_path),
                                  _full_quarantine(data, tmp_path))


def _full_quarantine(folder: Path, tmp: Path) -> pd.DataFrame:
    con = engine.connect_duckdb()
    try:
        c = engine.classify(engine.read_records(con, _files(folder)), territories=KEYS, divisions=DIVISIONS)
        con.to_parquet(engine.set_aside(c, base=str(folder.resolve())), tmp / "fq.parquet")
    finally:
        con.disconnect()
    return _sorted(pq.read_table(tmp / "fq.parquet").to_pandas())


def test_a_changed_month_is_recomputed_with_the_months_after_it(tmp_path):
    data, state = tmp_path / "data", tmp_path / "state"
    for m, rows in (("2025-01", JAN), ("2025-02", FEB), ("2025-03", MAR)):
        _write(data, m, rows)
    _update(data, state)
    _write(data, "2025-02", [r for r in FEB if r["invoice_id"] != "R1"])  # R1 withdrawn from February
    up = _update(data, state)
    assert up.recomputed == ["2025-02", "2025-03"] and up.unchanged == ["2025-01"]
    full_cells, full_counts = _full(data)
    pd.testing.assert_frame_equal(up.cells, full_cells)
    assert _counts(up.counts) == full_counts
    # X1 is still replaced, now by March's E1; January was not read again as a whole
    assert _cell(up.cells, "2025-01") == pytest.approx((11.5, 5, 3, 7.0))
    assert len(list((state / "months").iterdir())) == 3  # the replaced months' folders are gone
    # other settings (the divisions) recompute every month
    up = _update(data, state, divisions=[d for d in DIVISIONS if d != "62"])
    assert up.recomputed == ["2025-01", "2025-02", "2025-03"] and up.cells.empty


def test_a_removed_month_is_refused_unless_asked(tmp_path):
    data, state = tmp_path / "data", tmp_path / "state"
    for m, rows in (("2025-01", JAN), ("2025-02", FEB), ("2025-03", MAR)):
        _write(data, m, rows)
    _update(data, state)
    before = _state_files(state)
    shutil.rmtree(data / "month=2025-02")
    with pytest.raises(KinhtesoError) as e:
        _update(data, state)
    assert e.value.code == "MICRODATA_STATE_MONTH_MISSING" and "2025-02" in e.value.en and e.value.vi != e.value.en
    assert _state_files(state) == before  # nothing stored is lost
    up = _update(data, state, remove_missing=True)
    assert up.recomputed == ["2025-03"] and up.unchanged == ["2025-01"]
    full_cells, full_counts = _full(data)
    pd.testing.assert_frame_equal(up.cells, full_cells)
    assert _counts(up.counts) == full_counts


def test_a_bad_month_is_refused_whole(tmp_path):
    data, state = tmp_path / "data", tmp_path / "state"
    _write(data, "2025-01", JAN)
    _update(data, state)
    before = _state_files(state)
    _write(data, "2025-02", FEB)
    (data / "month=2025-03").mkdir()
    pq.write_table(pa.table({"invoice_id": ["Z"]}), data / "month=2025-03" / "part-00000.parquet")
    with pytest.raises(KinhtesoError) as e:
        _update(data, state)
    assert e.value.code == "MICRODATA_MISSING_COLUMN" and "2025-03" in e.value.en
    assert _state_files(state) == before  # February not stored either: the request is refused whole


def test_state_folder_and_layout_are_checked(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x", encoding="utf-8")
    _write(tmp_path / "data", "2025-01", JAN)
    with pytest.raises(KinhtesoError) as e:
        _update(tmp_path / "data", foreign)
    assert e.value.code == "MICRODATA_STATE_BAD" and (foreign / "notes.txt").exists()
    with pytest.raises(KinhtesoError) as e:
        incremental.months_of([tmp_path / "flat.parquet"])
    assert e.value.code == "MICRODATA_NO_MONTH"
    con = engine.connect_duckdb()
    interleaved = {"2025-01": [tmp_path / "b/month=2025-01/p.parquet"], "2025-02": [tmp_path / "a/month=2025-02/p.parquet"]}
    with pytest.raises(KinhtesoError) as e:
        incremental.update(con, interleaved, tmp_path / "s", territories=KEYS, divisions=DIVISIONS)
    assert e.value.code == "MICRODATA_MONTHS_OUT_OF_ORDER"


# --------------------------------------------------------------------------- the command: aggregate --incremental


def test_the_command_updates_month_by_month_and_equals_the_full_run(year, tmp_path):
    """``kinhteso microdata aggregate --incremental``: the state beside the CSV, the months recomputed
    named, the CSV and the sellers' yearly sums (what ``--workspace`` stores) equal to a full run."""
    from click.testing import CliRunner

    from kinhteso.cli import main

    data = tmp_path / "data"
    months = sorted(p.name for p in year.iterdir() if p.is_dir())
    for m in months[:10]:
        shutil.copytree(year / m, data / m)
    args = ["--lang", "en", "microdata", "aggregate", "--input", str(data), "--out", str(tmp_path / "inc.csv"),
            "--incremental", "--memory-limit", "2GB"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "Months recomputed: 2025-01, " in r.output and (tmp_path / "inc.state").is_dir()
    for m in months[10:]:
        shutil.copytree(year / m, data / m)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "taken from the state: 10" in r.output
    full = aggregate(AggregateRequest(input=data, out=tmp_path / "full.csv"))
    assert (tmp_path / "inc.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert _sorted(pq.read_table(tmp_path / "inc.quarantine.parquet").to_pandas()).equals(
        _sorted(pq.read_table(full.quarantine).to_pandas()))
    # the sellers' sums by year, rebuilt from the state, equal the full run's
    up = _update(data, tmp_path / "inc.state", with_sellers=True)
    assert up.recomputed == []
    con = engine.connect_duckdb()
    try:
        c = engine.classify(engine.read_records(con, _files(data)), territories=KEYS, divisions=DIVISIONS)
        want = con.to_pandas(engine.seller_sums(c, by=("territory", "vsic", "year")))
    finally:
        con.disconnect()
    got = up.sellers
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want[got.columns].reset_index(drop=True),
                                  check_dtype=False)


def test_incremental_options_are_checked_before_any_work(tmp_path):
    from kinhteso.errors import UsageError

    base = {"input": tmp_path, "out": tmp_path / "c.csv"}
    for kw, code in (({"incremental": True, "engine": "spark"}, "MICRODATA_INCREMENTAL_DUCKDB"),
                     ({"state": tmp_path / "s"}, "MICRODATA_INCREMENTAL_ONLY"),
                     ({"remove_missing": True}, "MICRODATA_INCREMENTAL_ONLY"),
                     ({"memory_limit": "lots"}, "MICRODATA_BAD_MEMORY"),
                     ({"memory_limit": "4GB", "engine": "spark"}, "MICRODATA_DUCKDB_ONLY")):
        with pytest.raises(UsageError) as e:
            aggregate(AggregateRequest(**base, **kw))
        assert e.value.code == code and e.value.vi != e.value.en
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "s").exists()
