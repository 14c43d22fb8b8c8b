"""E-invoice microdata (issue 17, items 1–2 and 6): the synthetic generator, validation with
quarantine by reason, the cancellation and replacement rules, and the aggregate with disclosure
control (Ibis on DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.microdata.rules import COLUMNS, REASONS
from kinhteso.service.microdata import AggregateRequest, GenerateRequest, aggregate, generate


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "invoices"
    generate(GenerateRequest(records=20_000, seed=1, out=out))
    return out


def _table(folder: Path) -> pa.Table:
    t = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    return t.sort_by([("invoice_id", "ascending"), ("issued_at", "ascending")])


# --------------------------------------------------------------------------- the generator


def test_layout_columns_and_label(generated):
    months = sorted(p.name for p in generated.iterdir() if p.is_dir())
    assert months[:12] == [f"month=2025-{m:02d}" for m in range(1, 13)]
    assert all(p.name.startswith("month=") for p in generated.iterdir() if p.is_dir())
    readme = (generated / "_README.txt").read_text(encoding="utf-8")
    assert "ILLUSTRATIVE" in readme and "MINH HỌA" in readme and "seed = 1" in readme
    f = next(generated.glob("month=2025-03/*.parquet"))
    schema = pq.read_schema(f)
    assert tuple(schema.names) == COLUMNS
    assert schema.metadata[b"kinhteso.illustrative"] == b"true"
    assert schema.field("issued_at").type == pa.timestamp("us", tz="Asia/Ho_Chi_Minh")
    assert schema.field("amount_vnd").type == pa.int64()
    t = pq.read_table(f).to_pandas()
    # every record of the folder is in its month, in Viet Nam time
    local = t["issued_at"].dt.tz_convert("Asia/Ho_Chi_Minh").dt.strftime("%Y-%m")
    assert (local == "2025-03").all()
    ok = t[t["seller_territory"].str.fullmatch(r"34:\d\d", na=False)]
    assert ok["seller_vsic"].str.fullmatch(r"\d{4}", na=False).mean() > 0.99


def test_realistic_skew(generated):
    t = _table(generated).to_pandas()
    assert 20_000 < len(t) < 21_000
    status = t["status"].value_counts(normalize=True)
    assert 0.008 < status["cancelled"] < 0.025 and 0.004 < status["replaced"] < 0.02
    replacements, replaced = t["replaces"].notna().sum(), (t["status"] == "replaced").sum()
    assert abs(replacements - replaced) <= 0.1 * replaced  # one replacement per replaced invoice (faults aside)
    assert t["invoice_id"].duplicated().sum() > 0  # duplicates for validation to find
    by_seller = t.groupby("seller_tax_code")["amount_vnd"].count().sort_values(ascending=False)
    assert by_seller.head(len(by_seller) // 5).sum() / by_seller.sum() > 0.5  # Pareto: a fifth issue most
    month = t["issued_at"].dt.tz_convert("Asia/Ho_Chi_Minh").dt.strftime("%m")
    per_day = month.value_counts()
    assert per_day["02"] < per_day["03"]  # Tết (29 January 2025) slows early February
    assert t["seller_territory"].value_counts().index[0] == "34:79"


def test_same_seed_same_files(tmp_path, generated):
    again = tmp_path / "again"
    generate(GenerateRequest(records=20_000, seed=1, out=again))
    assert _table(again).equals(_table(generated))
    for f in generated.rglob("*.parquet"):
        assert (again / f.relative_to(generated)).read_bytes() == f.read_bytes()
    other = tmp_path / "other"
    generate(GenerateRequest(records=20_000, seed=2, out=other))
    assert not _table(other).equals(_table(generated))


def test_generate_refuses_a_foreign_folder_and_replaces_its_own(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(KinhtesoError) as e:
        generate(GenerateRequest(records=10, seed=1, out=mine))
    assert e.value.code == "MICRODATA_OUT_NOT_EMPTY"
    assert (mine / "keep.txt").exists()
    out = tmp_path / "gen"
    generate(GenerateRequest(records=500, seed=1, out=out))
    res = generate(GenerateRequest(records=300, seed=3, out=out))  # its own folder: replaced
    assert sum(pq.read_metadata(f).num_rows for f in out.rglob("*.parquet")) == res.rows


# --------------------------------------------------------------------------- validation


def _good(i: str, **kw) -> dict:
    row = {"invoice_id": i, "seller_tax_code": "0100000001", "seller_territory": "34:31", "seller_vsic": "6201",
           "buyer_type": "B2B", "channel": "online", "issued_at": "2025-03-05T10:00:00+07:00",
           "amount_vnd": "1000000000", "status": "issued", "replaces": None}
    row.update(kw)
    return row


#: one record of each fault, as an agency's text export would give them (every column text)
FAULTS = [
    _good("G1"),
    _good(None),                                                # MISSING_ID
    _good("F2", seller_tax_code=" "),                           # MISSING_SELLER
    _good("F3", seller_territory="34:99"),                      # UNKNOWN_TERRITORY
    _good("F4", seller_vsic="0000"),                            # UNKNOWN_VSIC
    _good("F5", buyer_type="B2X"),                              # BAD_BUYER_TYPE
    _good("F6", channel="mobile"),                              # BAD_CHANNEL
    _good("F7", status="draft"),                                # BAD_STATUS
    _good("F8", amount_vnd="một tỷ"),                           # BAD_AMOUNT
    _good("F9", amount_vnd="-5"),                               # NEGATIVE_AMOUNT
    _good("F10", issued_at="2025-03-05 10:00:00"),              # TIME_WITHOUT_ZONE
    _good("F11", issued_at="hôm qua+07:00"),                    # BAD_TIME
    _good("G1", amount_vnd="7"),                                # DUPLICATE_INVOICE (the first G1 kept)
    _good("C1", status="cancelled", amount_vnd="9000000000"),   # CANCELLED
    _good("R1", status="replaced", amount_vnd="7000000000"),    # REPLACED (by status)
    _good("R2", replaces="R1", amount_vnd="1500000000"),        # the replacement: kept
    _good("R3", amount_vnd="3000000000"),                       # REPLACED (named by R4)
    _good("R4", replaces="R3", amount_vnd="2000000000"),        # kept
    _good("H1", seller_territory="63:30", issued_at="2025-03-31T18:00:00Z"),  # Hải Dương → 34:31; 2025-04 in VN time
]


def _write(folder: Path, rows: list[dict], month: str = "2025-03") -> Path:
    d = folder / f"month={month}"
    d.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in COLUMNS])),
                   d / "part-00000.parquet")
    return folder


def test_validation_counts_every_reason(tmp_path):
    src = _write(tmp_path / "in", FAULTS)
    res = aggregate(AggregateRequest(input=src, out=tmp_path / "cells.csv"))
    expected = {r.code: 1 for r in REASONS}
    expected["REPLACED"] = 2
    assert res.set_aside == expected
    assert res.kept == 4 and res.records_read == len(FAULTS)
    q = pq.read_table(res.quarantine).to_pandas()
    assert len(q) == sum(expected.values())  # never silently dropped
    assert set(q["reason"]) == set(expected)
    assert q.loc[q["reason"] == "DUPLICATE_INVOICE", "amount_vnd"].tolist() == ["7"]  # the later G1
    assert sorted(q.loc[q["reason"] == "REPLACED", "invoice_id"]) == ["R1", "R3"]
    assert set(q["source_file"]) == {"month=2025-03/part-00000.parquet"}
    cells = pd.read_csv(tmp_path / "cells.csv", dtype={"vsic": str, "flag": str}, keep_default_na=False)
    assert set(cells["period"]) == {"2025-03", "2025-04"}  # H1: 18:00 UTC on 31 March is 1 April in Viet Nam
    assert (cells["territory"] == "34:31").all()


def test_cancellation_and_replacement_by_hand(tmp_path):
    """Cell (34:31, 6201, 2025-03, online, B2B): sellers S1 1 bn + 1 bn, S2 2 bn, S3 0.5 bn; S1's
    cancelled 9 bn excluded; S3's 7 bn replaced by its 1.5 bn replacement → 6.0 bn, 3 sellers.
    Cell (…, B2C): two sellers → suppressed (C), value empty."""
    rows = [
        _good("A1", seller_tax_code="S1"), _good("A2", seller_tax_code="S1"),
        _good("A3", seller_tax_code="S2", amount_vnd="2000000000"),
        _good("A4", seller_tax_code="S3", amount_vnd="500000000"),
        _good("A5", seller_tax_code="S1", status="cancelled", amount_vnd="9000000000"),
        _good("A6", seller_tax_code="S3", status="replaced", amount_vnd="7000000000"),
        _good("A7", seller_tax_code="S3", replaces="A6", amount_vnd="1500000000"),
        _good("B1", seller_tax_code="S1", buyer_type="B2C", amount_vnd="100000000"),
        _good("B2", seller_tax_code="S2", buyer_type="B2C", amount_vnd="200000000"),
    ]
    src = _write(tmp_path / "in", rows)
    res = aggregate(AggregateRequest(input=src, out=tmp_path / "cells.csv"))
    cells = pd.read_csv(tmp_path / "cells.csv", dtype={"vsic": str, "flag": str}, keep_default_na=False)
    assert list(cells.columns) == ["territory", "vsic", "period", "channel", "buyer_type", "value", "sellers", "flag"]
    b2b = cells[cells.buyer_type == "B2B"].iloc[0]
    assert (b2b.territory, b2b.vsic, b2b.period, b2b.channel) == ("34:31", "6201", "2025-03", "online")
    assert float(b2b.value) == pytest.approx(6.0) and int(b2b.sellers) == 3 and b2b.flag == ""
    b2c = cells[cells.buyer_type == "B2C"].iloc[0]
    assert b2c.value == "" and b2c.sellers == "" and b2c.flag == "C"  # fewer than 3 sellers: suppressed
    assert res.set_aside == {"CANCELLED": 1, "REPLACED": 1} and res.suppressed == 1


# --------------------------------------------------------------------------- the aggregate


def test_aggregate_of_generated_data(generated, tmp_path):
    res = aggregate(AggregateRequest(input=generated, out=tmp_path / "cells.csv"))
    rows = sum(pq.read_metadata(f).num_rows for f in generated.rglob("*.parquet"))
    assert res.records_read == rows and res.kept + sum(res.set_aside.values()) == rows
    assert {"CANCELLED", "REPLACED", "DUPLICATE_INVOICE"} <= set(res.set_aside)
    assert res.illustrative
    assert pq.read_metadata(res.quarantine).num_rows == sum(res.set_aside.values())
    cells = pd.read_csv(tmp_path / "cells.csv", dtype={"vsic": str, "flag": str}, keep_default_na=False)
    published = cells[cells.flag == ""]
    assert len(published) and (pd.to_numeric(published.sellers) >= 3).all()  # every published cell: ≥ 3 sellers
    assert (cells.loc[cells.flag == "C", "value"] == "").all()
    assert set(cells.flag) <= {"", "C"}
    assert not cells.duplicated(["territory", "vsic", "period", "channel", "buyer_type"]).any()
    assert "ILLUSTRATIVE" in (tmp_path / "cells.csv.README.txt").read_text(encoding="utf-8")


def test_errors_are_bilingual(tmp_path):
    with pytest.raises(UsageError) as e:
        aggregate(AggregateRequest(input=tmp_path, out=tmp_path / "c.csv", engine="polars"))
    assert e.value.code == "MICRODATA_BAD_ENGINE" and e.value.vi != e.value.en
    with pytest.raises(UsageError) as e:
        aggregate(AggregateRequest(input=tmp_path, out=tmp_path / "c.csv", source="cuc-thue"))
    assert e.value.code == "MICRODATA_SOURCE_WITHOUT_WORKSPACE" and e.value.vi != e.value.en
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(KinhtesoError) as e:
        aggregate(AggregateRequest(input=empty, out=tmp_path / "c.csv"))
    assert e.value.code == "MICRODATA_NO_FILES"
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(KinhtesoError) as e:
        aggregate(AggregateRequest(input=tmp_path / "x.csv", out=tmp_path / "c.csv"))
    assert e.value.code == "MICRODATA_BAD_INPUT"
    bad = tmp_path / "nocols"
    bad.mkdir()
    pq.write_table(pa.table({"invoice_id": ["a"]}), bad / "p.parquet")
    with pytest.raises(KinhtesoError) as e:
        aggregate(AggregateRequest(input=bad, out=tmp_path / "c.csv"))
    assert e.value.code == "MICRODATA_MISSING_COLUMN" and "seller_vsic" in e.value.en


def test_cli(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["--lang", "en", "microdata", "generate", "--records", "3000", "--seed", "4",
                             "--out", str(tmp_path / "inv")])
    assert r.exit_code == 0, r.output
    assert "ILLUSTRATIVE" in r.output
    r = runner.invoke(main, ["--lang", "en", "microdata", "aggregate", "--input", str(tmp_path / "inv"),
                             "--engine", "duckdb", "--out", str(tmp_path / "cells.csv")])
    assert r.exit_code == 0, r.output
    assert "CANCELLED" in r.output and "suppressed (C)" in r.output
    assert (tmp_path / "cells.quarantine.parquet").exists()
    r = runner.invoke(main, ["--lang", "vi", "microdata", "aggregate", "--input", str(tmp_path / "inv"),
                             "--engine", "spark", "--master", "nowhere", "--out", str(tmp_path / "c2.csv")])
    assert r.exit_code == 2 and "MICRODATA_BAD_MASTER" in r.output
    assert not (tmp_path / "c2.csv").exists()
