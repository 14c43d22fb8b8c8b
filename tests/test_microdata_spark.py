"""The Spark engine of ``kinhteso microdata aggregate`` (issue 17, item 1): the same Ibis expressions
on PySpark (local mode) give the same CSV, reason counts and quarantine file as on DuckDB; the
reader's file names, rows and time zones; ``seller_sums``; the refusals (bad master, no Java, not
Parquet); the ``--workspace`` plumbing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.errors import KinhtesoError, UsageError
from kinhteso.microdata import engine
from kinhteso.microdata import spark as spark_engine
from kinhteso.microdata.rules import COLUMNS
from kinhteso.service.microdata import AggregateRequest, GenerateRequest, aggregate, generate


@pytest.fixture(scope="module")
def session():
    """One Spark session (local[*]) for the module; the service uses it and leaves it running."""
    with spark_engine.session() as s:
        yield s


def _both(src: Path, tmp: Path, **kw):
    """Aggregate ``src`` on DuckDB and on Spark; assert the files and counts are the same."""
    t0 = time.perf_counter()
    d = aggregate(AggregateRequest(input=src, out=tmp / "duck.csv", **kw))
    t1 = time.perf_counter()
    s = aggregate(AggregateRequest(input=src, out=tmp / "spark.csv", engine="spark", **kw))
    t2 = time.perf_counter()
    print(f"\n{src.name}: {d.records_read} records; duckdb {t1 - t0:.1f} s, spark {t2 - t1:.1f} s")
    assert (d.records_read, d.kept, d.set_aside, d.cells, d.suppressed) == \
        (s.records_read, s.kept, s.set_aside, s.cells, s.suppressed)
    assert (tmp / "duck.csv").read_bytes() == (tmp / "spark.csv").read_bytes()
    qd, qs = pq.read_table(d.quarantine), pq.read_table(s.quarantine)
    assert qd.schema == qs.schema and qd.equals(qs)
    assert d.quarantine.read_bytes() == s.quarantine.read_bytes()
    return d, s


def _row(i: str, **kw) -> dict:
    row = {"invoice_id": i, "seller_tax_code": "S1", "seller_territory": "34:31", "seller_vsic": "6201",
           "buyer_type": "B2B", "channel": "online", "issued_at": "2025-03-05T10:00:00+07:00",
           "amount_vnd": "1000000000", "status": "issued", "replaces": None}
    row.update(kw)
    return row


def _write(folder: Path, rows: list[dict], name: str = "part-00000.parquet", month: str = "2025-03",
           schema: pa.Schema | None = None) -> Path:
    d = folder / f"month={month}"
    d.mkdir(parents=True, exist_ok=True)
    schema = schema or pa.schema([(c, pa.string()) for c in COLUMNS])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), d / name)
    return folder


# --------------------------------------------------------------------------- equality


def test_same_results_on_a_generated_sample(session, tmp_path):
    src = tmp_path / "inv"
    generate(GenerateRequest(records=50_000, seed=3, out=src))
    _, s = _both(src, tmp_path)
    assert {"CANCELLED", "REPLACED", "DUPLICATE_INVOICE"} <= set(s.set_aside) and s.illustrative
    q = pq.read_table(s.quarantine).to_pandas()
    assert q["source_file"].str.fullmatch(r"month=\d{4}-\d{2}/part-\d{5}\.parquet").all()
    assert list(zip(q.source_file, q.source_row)) == sorted(zip(q.source_file, q.source_row))  # files, rows
    assert "master local[*]" in (tmp_path / "spark.csv.README.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_same_results_on_five_million_records(tmp_path):
    """The issue's sample: 5 million records, each engine in a process of its own (as a user runs the
    command; the test process does not grow by DuckDB's or Spark's memory)."""
    src = tmp_path / "inv"
    cli = [sys.executable, "-m", "kinhteso", "--lang", "en", "microdata"]
    subprocess.run([*cli, "generate", "--records", "5000000", "--seed", "5", "--out", str(src)], check=True,
                   capture_output=True)
    out = {}
    for eng in ("duckdb", "spark"):
        t0 = time.perf_counter()
        r = subprocess.run([*cli, "aggregate", "--input", str(src), "--engine", eng, "--out", str(tmp_path / f"{eng}.csv"),
                            *(["--memory-limit", "2GB"] if eng == "duckdb" else [])], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        out[eng] = r.stdout
        print(f"\n5 M records: {eng} {time.perf_counter() - t0:.1f} s")
    assert out["duckdb"] == out["spark"].replace("spark.csv", "duckdb.csv").replace("spark.quarantine", "duckdb.quarantine")
    assert "Read 5" in out["duckdb"] and "CANCELLED" in out["duckdb"]
    assert (tmp_path / "duckdb.csv").read_bytes() == (tmp_path / "spark.csv").read_bytes()
    qd, qs = pq.read_table(tmp_path / "duckdb.quarantine.parquet"), pq.read_table(tmp_path / "spark.quarantine.parquet")
    assert qd.num_rows > 100_000 and qd.schema == qs.schema and qd.equals(qs)
    assert (tmp_path / "duckdb.quarantine.parquet").read_bytes() == (tmp_path / "spark.quarantine.parquet").read_bytes()


def test_rules_by_hand_on_spark(session, tmp_path):
    """Cell (34:31, 6201, 2025-03, online, B2B): S1 1 bn + 1 bn, S2 2 bn, S3 0.5 bn; S1's cancelled
    9 bn out; S3's 7 bn replaced by its 1.5 bn replacement → 6.0 bn, 3 sellers. Duplicates: the
    first in file order kept (the file of March before that of April). Padded codes count as their
    stripped value; a 63-basis key (63:30) goes to its 34-basis successor."""
    src = tmp_path / "in"
    _write(src, [_row("A1"), _row("A2", channel=" online\t"),
                 _row("A3", seller_tax_code="S2", amount_vnd="2000000000"),
                 _row("A4", seller_tax_code="S3", amount_vnd="500000000", seller_territory="63:30"),
                 _row("A5", status="cancelled", amount_vnd="9000000000"),
                 _row("A6", seller_tax_code="S3", status="replaced", amount_vnd="7000000000"),
                 _row("A7", seller_tax_code="S3", replaces="A6", amount_vnd="1500000000")])
    _write(src, [_row("A1", amount_vnd="5")], month="2025-04")
    _, s = _both(src, tmp_path)
    cells = pd.read_csv(tmp_path / "spark.csv", dtype={"vsic": str, "flag": str}, keep_default_na=False)
    assert cells[["territory", "vsic", "period", "channel", "buyer_type"]].values.tolist() == \
        [["34:31", "6201", "2025-03", "online", "B2B"]]
    assert float(cells.value[0]) == pytest.approx(6.0) and int(cells.sellers[0]) == 3
    assert s.set_aside == {"CANCELLED": 1, "REPLACED": 1, "DUPLICATE_INVOICE": 1}
    q = pq.read_table(s.quarantine).to_pandas()
    dup = q[q.reason == "DUPLICATE_INVOICE"].iloc[0]
    assert (dup.source_file, dup.source_row, dup.amount_vnd) == ("month=2025-04/part-00000.parquet", 0, "5")


def test_text_times_same_reasons(session, tmp_path):
    """Every form of a text time gets the same reason on both engines, as worked out here."""
    expected = {
        "2025-03-05T10:00:00+07:00": None, "2025-03-05 10:00:00+07": None, "2025-03-05T10:00:00+0700": None,
        "2025-03-31T18:00:00Z": None, "2025-03-05T10:00:00.250+07:00": None, " 2025-03-05T10:00:00-05:00 ": None,
        "2025-03-31T20:00:00-05:00": None,
        "2025-03-05 10:00:00": "TIME_WITHOUT_ZONE", "2025-03-05": "TIME_WITHOUT_ZONE",
        "2025-03-05T10:00:00+7": "TIME_WITHOUT_ZONE", "2025-03-05T10:00:00UTC": "TIME_WITHOUT_ZONE",
        "hôm qua+07:00": "BAD_TIME", None: "BAD_TIME", "2025-02-30T10:00:00+07:00": "BAD_TIME",
        "2025-03-05T10:00+07:00": "BAD_TIME", "2025-03-05T10:00:00 +07:00": "BAD_TIME",
        "2025-03-05T24:00:00+07:00": "BAD_TIME", "2025-03-05T10:00:00+25:00": "BAD_TIME",
        "2025-03-05T10:00:00+07:60": "BAD_TIME", "2025-03-05T10:00:00.1234567+07:00": "BAD_TIME",
        "2025-03-05T10:00:00z": "BAD_TIME",
    }
    rows = [_row(f"T{i}{s}", seller_tax_code=s, issued_at=v, amount_vnd="1000")
            for i, v in enumerate(expected) for s in ("S1", "S2", "S3")]
    _, s = _both(_write(tmp_path / "in", rows), tmp_path)
    q = pq.read_table(s.quarantine).to_pandas()
    got = {v: None for v in expected} | dict(zip(q.issued_at.where(q.issued_at.notna(), None), q.reason))
    assert got == expected
    cells = pd.read_csv(tmp_path / "spark.csv", dtype=str, keep_default_na=False)
    assert cells.period.tolist() == ["2025-03", "2025-04"]  # 18:00Z and 20:00-05:00 on 31 March: April in VN
    assert cells.value.astype(float).tolist() == [0.0, 0.0] and cells.sellers.tolist() == ["3", "3"]


def test_typed_timestamps_same_reasons(session, tmp_path):
    """A Parquet timestamp adjusted to UTC is an instant; one not adjusted is a local time: set
    aside (TIME_WITHOUT_ZONE) on both engines, never guessed."""
    for tz, reason in (("UTC", None), ("Asia/Ho_Chi_Minh", None), (None, "TIME_WITHOUT_ZONE")):
        schema = pa.schema([(c, pa.timestamp("us", tz=tz) if c == "issued_at" else pa.string()) for c in COLUMNS])
        when = pd.Timestamp("2025-03-31T18:30:00Z") if tz else pd.Timestamp("2025-03-31T18:30:00")
        rows = [_row(f"I{s}", seller_tax_code=s, issued_at=when) for s in ("S1", "S2", "S3")]
        folder = tmp_path / f"in-{tz}".replace("/", "_")
        _, s = _both(_write(folder, rows, schema=schema), tmp_path)
        assert s.set_aside == ({} if reason is None else {reason: 3})
        if reason is None:  # 18:30 UTC on 31 March is 1 April, 01:30, in Viet Nam
            assert pd.read_csv(tmp_path / "spark.csv", dtype=str).period.tolist() == ["2025-04"]
            assert pq.read_schema(s.quarantine).field("issued_at").type == pa.timestamp("us", tz="UTC")


def test_file_names_with_spaces_and_accents(session, tmp_path):
    """Spark's file URI is given back as the path DuckDB gives (space, accents, %, +, brackets)."""
    src = tmp_path / "hóa đơn 100%+[x]"
    _write(src, [_row("B1"), _row("B2", status="cancelled")], name="a b+ç.parquet")
    _, s = _both(src, tmp_path)
    q = pq.read_table(s.quarantine).to_pandas()
    assert q[["source_file", "source_row"]].values.tolist() == [["month=2025-03/a b+ç.parquet", 1]]


# --------------------------------------------------------------------------- seller_sums


def test_seller_sums_by_hand_on_both(session, tmp_path):
    """S1: 1 bn online + 2 bn offline in 2025, 0.5 bn online at 20:00Z on 31 December 2025 (2026 in
    Viet Nam); S2: 3 bn offline (and a cancelled 9 bn, out); S3 in 6202: 4 bn online."""
    src = _write(tmp_path / "in", [
        _row("C1"), _row("C2", channel="offline", amount_vnd="2000000000"),
        _row("C3", amount_vnd="500000000", issued_at="2025-12-31T20:00:00Z"),
        _row("C4", seller_tax_code="S2", channel="offline", amount_vnd="3000000000"),
        _row("C5", seller_tax_code="S2", status="cancelled", amount_vnd="9000000000"),
        _row("C6", seller_tax_code="S3", seller_vsic="6202", amount_vnd="4000000000")])
    expected = [["34:31", "6201", "2025", "S1", 3e9, 1e9, 2], ["34:31", "6201", "2025", "S2", 3e9, 0.0, 1],
                ["34:31", "6201", "2026", "S1", 5e8, 5e8, 1], ["34:31", "6202", "2025", "S3", 4e9, 4e9, 1]]
    from kinhteso.reference import territories as terr
    from kinhteso.reference import vsic

    keys = {t.key: t.key for t in terr.territories() if t.basis == 34}
    divisions = [x.code for x in vsic.sectors(2018) if x.level == "division"]
    files = sorted(src.rglob("*.parquet"))
    cols = ["territory", "vsic", "year", "seller", "total_vnd", "online_vnd", "invoices"]
    duck = engine.connect_duckdb()
    for con in (duck, spark_engine.connect(session)):
        c = engine.classify(engine.read_records(con, files), territories=keys, divisions=divisions)
        got = con.to_pandas(engine.seller_sums(c, by=("territory", "vsic", "year")))
        assert list(got.columns) == cols
        assert [[*r[:4], float(r[4]), float(r[5]), int(r[6])] for r in got.values.tolist()] == expected
        by_period = con.to_pandas(engine.seller_sums(c, by=("period",)))
        assert by_period[["period", "seller"]].values.tolist() == [["2025-03", "S1"], ["2025-03", "S2"],
                                                                    ["2025-03", "S3"], ["2026-01", "S1"]]
    duck.disconnect()


# --------------------------------------------------------------------------- refusals


def test_bad_master_and_options_refused(tmp_path):
    src = _write(tmp_path / "in", [_row("D1")])
    r = CliRunner().invoke(main, ["--lang", "en", "microdata", "aggregate", "--input", str(src), "--engine", "spark",
                                  "--master", "nonsense://x", "--out", str(tmp_path / "c.csv")])
    assert r.exit_code == 2 and "MICRODATA_BAD_MASTER" in r.output and "not a Spark master URL" in r.output
    with pytest.raises(UsageError) as e:
        aggregate(AggregateRequest(input=src, out=tmp_path / "c.csv", engine="spark", master="local[0]"))
    assert e.value.code == "MICRODATA_BAD_MASTER" and "Spark master" in e.value.vi
    with pytest.raises(UsageError) as e:
        aggregate(AggregateRequest(input=src, out=tmp_path / "c.csv", engine="spark", driver_memory="lots"))
    assert e.value.code == "MICRODATA_BAD_MEMORY"
    with pytest.raises(UsageError) as e:
        aggregate(AggregateRequest(input=src, out=tmp_path / "c.csv", master="local[2]"))
    assert e.value.code == "MICRODATA_SPARK_ONLY"
    for m in ("local", "local[*]", "local[4]", "local[2,3]", "spark://h1:7077,h2:7077", "yarn", "k8s://https://k:6443"):
        assert spark_engine.check_master(m) == m
    assert not list(tmp_path.glob("c*"))  # nothing written


def test_missing_java_is_a_clear_refusal(tmp_path):
    """In a process without Java (JAVA_HOME pointing nowhere, no java on PATH): vi/en, no traceback."""
    src = _write(tmp_path / "in", [_row("E1")])
    bindir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_SUBMIT_ARGS",)}
    env.update(JAVA_HOME=str(tmp_path / "no-java"), PATH=str(bindir), KINHTESO_LANG="vi")
    for lang, words in (("vi", "Không khởi động được Spark"), ("en", "Spark could not start")):
        r = subprocess.run([str(bindir / "kinhteso"), "--lang", lang, "microdata", "aggregate", "--input", str(src),
                            "--engine", "spark", "--out", str(tmp_path / "c.csv")],
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 1, r.stderr
        assert "MICRODATA_SPARK_UNAVAILABLE" in r.stderr + r.stdout and words in r.stderr + r.stdout
        assert "Traceback" not in r.stderr
    assert not list(tmp_path.glob("c*"))


def test_not_parquet_on_spark_is_refused(session, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "x.parquet").write_text("invoice_id,amount\nA,1\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["--lang", "en", "microdata", "aggregate", "--input", str(src), "--engine", "spark",
                                  "--out", str(tmp_path / "c.csv")])
    assert r.exit_code == 1 and "MICRODATA_BAD_INPUT" in r.output and "Cannot read" in r.output
    with pytest.raises(KinhtesoError) as e:
        aggregate(AggregateRequest(input=src, out=tmp_path / "c.csv", engine="spark"))
    assert e.value.code == "MICRODATA_BAD_INPUT" and e.value.vi.startswith("Không đọc được")
    bad = _write(tmp_path / "nocols", [{"invoice_id": "a"}], schema=pa.schema([("invoice_id", pa.string())]))
    with pytest.raises(KinhtesoError) as e:
        aggregate(AggregateRequest(input=bad, out=tmp_path / "c.csv", engine="spark"))
    assert e.value.code == "MICRODATA_MISSING_COLUMN" and "seller_vsic" in e.value.en
    assert not list(tmp_path.glob("c*"))  # nothing written


# --------------------------------------------------------------------------- --workspace


def test_workspace_is_given_the_cells_and_sellers(session, tmp_path, monkeypatch):
    """With --workspace, ``pipeline.einvoice.store_aggregates`` gets the unsuppressed cells and the
    sellers' sums (a stand-in module records the call); without it, nothing is called."""
    from kinhteso.workspace import Workspace

    Workspace.init(tmp_path / "ws").close()
    calls = []

    def store_aggregates(ws, *, cells, sellers, source, illustrative, engine):
        calls.append(dict(ws=ws, cells=cells, sellers=sellers, source=source, illustrative=illustrative,
                          engine=engine))
        return {"vintage": 7, "message_vi": "Đã lưu 1 ô.", "message_en": "Stored 1 cell."}

    monkeypatch.setitem(sys.modules, "kinhteso.pipeline.einvoice",
                        types.SimpleNamespace(store_aggregates=store_aggregates,
                                              check_source=lambda ws, source, illustrative: None))
    src = _write(tmp_path / "hóa đơn", [_row("W1"), _row("W2", seller_tax_code="S2", channel="offline")])
    aggregate(AggregateRequest(input=src, out=tmp_path / "none.csv"))
    assert calls == []
    for eng in ("duckdb", "spark"):
        r = CliRunner().invoke(main, ["--lang", "en", "microdata", "aggregate", "--input", str(src), "--engine", eng,
                                      "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / f"{eng}.csv")])
        assert r.exit_code == 0, r.output
        assert "Stored 1 cell." in r.output
        call = calls.pop()
        assert (call["source"], call["illustrative"], call["engine"]) == ("hóa đơn", False, eng)
        assert call["cells"][["channel", "value_vnd", "sellers"]].values.tolist() == [["offline", 1e9, 1],
                                                                                     ["online", 1e9, 1]]
        assert {"territory", "vsic", "period", "buyer_type", "invoices", "top1_vnd"} <= set(call["cells"].columns)
        assert call["sellers"][["year", "seller", "total_vnd", "online_vnd"]].values.tolist() == \
            [["2025", "S1", 1e9, 1e9], ["2025", "S2", 1e9, 0]]
    res = aggregate(AggregateRequest(input=src, out=tmp_path / "x.csv", workspace=tmp_path / "ws"))
    assert res.stored == {"vintage": 7, "message_vi": "Đã lưu 1 ô.", "message_en": "Stored 1 cell."}
    with pytest.raises(KinhtesoError) as e:  # not a workspace: refused before anything is computed or written
        aggregate(AggregateRequest(input=src, out=tmp_path / "y.csv", workspace=tmp_path / "nows"))
    assert e.value.code == "NO_WORKSPACE" and not (tmp_path / "y.csv").exists()
