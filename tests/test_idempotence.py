"""Idempotence by content, retraction and revisions by sector (issue 11, item 6).

The same rows (after normalisation) from the same source are the same vintage whatever the
bytes: row order, line ends, a BOM, CSV or XLSX. A retraction withdraws a vintage's values from
the reads after it, deletes nothing, and is itself recorded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.ingest.load import ingest_file
from kinhteso.service.data import RetractRequest, retract
from kinhteso.store import SCHEMA_VERSION, Store
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]
ROWS = [
    ["GRDP_VA", "31", "63", "26", "2024", "123456.7", "VND_BN"],
    ["GRDP_VA", "Hải Dương", "63", "26", "2024", "45000", "VND_BN"],
    ["GRDP", "31", "63", "_T", "2024", "571301.2", "VND_BN"],
    ["GRDP", "VN", "", "_T", "2024", "11500000", "VND_BN"],
    ["DIGITAL_COEF", "VN", "", "G", "2024", "0.12", "RATIO"],
]
T0 = dt.datetime(2026, 1, 10, 9, 0)
T1 = dt.datetime(2026, 2, 10, 9, 0)


def write(path: Path, rows, *, newline: str = "\n", bom: bool = False, header=HEADER) -> Path:
    text = newline.join(",".join(r) for r in [header, *rows]) + newline
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def write_xlsx(path: Path, rows, header=HEADER) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    sh = wb.active
    sh.title = "data"
    sh.append(header)
    for r in rows:
        sh.append([float(c) if i == 5 else c for i, c in enumerate(r)])  # the value as a number cell
    wb.save(path)
    return path


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def ingest(ws, path, *, source="cuc-thong-ke", **kw):
    return ingest_file(ws.store, path, source=source, indicators=ws.indicators(), workdir=ws.tmp, **kw)


def cli(*args, input=None):
    return CliRunner().invoke(main, ["--lang", "en", *map(str, args)], input=input)


# --- the same content is the same vintage -----------------------------------------------------
def test_same_rows_in_any_order_line_end_bom_or_format_are_one_vintage(ws, tmp_path):
    first = ingest(ws, write(tmp_path / "a.csv", ROWS))
    assert not first.already_stored and first.n_rows == len(ROWS)
    variants = {
        "reordered": write(tmp_path / "b.csv", ROWS[::-1]),
        "crlf": write(tmp_path / "c.csv", ROWS, newline="\r\n"),
        "bom": write(tmp_path / "d.csv", [ROWS[2], ROWS[0], *ROWS[3:], ROWS[1]], bom=True, newline="\r\n"),
        "names and spacing": write(tmp_path / "e.csv", [["grdp_va", "Hải Phòng", "63", "26", "2024", "123456.70", "vnd_bn"],
                                                        *ROWS[1:]]),
        "xlsx": write_xlsx(tmp_path / "f.xlsx", ROWS[::-1]),
    }
    for what, path in variants.items():
        again = ingest(ws, path)
        assert again.already_stored, what
        assert again.vintage_id == first.vintage_id, what
    v = ws.store.vintages()
    assert len(v) == 1 and v.content_sha256.iloc[0] and len(v.content_sha256.iloc[0]) == 64


def test_a_changed_value_is_a_new_vintage(ws, tmp_path):
    first = ingest(ws, write(tmp_path / "a.csv", ROWS), received_at=T0)
    changed = [*ROWS[:-1], ["DIGITAL_COEF", "VN", "", "G", "2024", "0.13", "RATIO"]]
    second = ingest(ws, write(tmp_path / "b.csv", changed[::-1]), received_at=T1)
    assert not second.already_stored and second.vintage_id != first.vintage_id
    fewer = ingest(ws, write(tmp_path / "c.csv", ROWS[:-1]))  # a row less: other content
    assert not fewer.already_stored
    v = ws.store.vintages()
    assert v.content_sha256.nunique() == 3
    assert ws.store.observations(indicator="DIGITAL_COEF").value.tolist() == [0.13]


def test_the_same_content_from_another_source_is_its_own_vintage(ws, tmp_path):
    a = ingest(ws, write(tmp_path / "a.csv", ROWS), source="cuc-thong-ke")
    b = ingest(ws, write(tmp_path / "b.csv", ROWS[::-1]), source="thue")
    assert not b.already_stored and b.vintage_id != a.vintage_id
    # the very same bytes from a third source: the byte fast path is per source too
    c = ingest(ws, tmp_path / "a.csv", source="hai-quan")
    assert not c.already_stored


def test_an_unnamed_copy_never_becomes_the_latest_provenance(ws, tmp_path):
    agency = ingest(ws, write(tmp_path / "a.csv", ROWS), source="cuc-thong-ke", received_at=T0)
    copy = ingest(ws, write(tmp_path / "copy.csv", ROWS[::-1], newline="\r\n"), source="unknown")
    assert copy.already_stored and copy.vintage_id == agency.vintage_id
    same_bytes = ingest(ws, tmp_path / "a.csv", source="unknown")
    assert same_bytes.already_stored and same_bytes.vintage_id == agency.vintage_id
    assert set(ws.store.observations().source) == {"cuc-thong-ke"}
    assert len(ws.store.vintages()) == 1


def test_two_writers_of_the_same_content_store_it_once(ws, tmp_path, monkeypatch):
    first = ingest(ws, write(tmp_path / "a.csv", ROWS))
    # the other writer committed between this one's check and its commit: the commit checks again
    monkeypatch.setattr(type(ws.store), "matching_vintage", lambda self, digest, source="unknown": None)
    again = ingest(ws, write(tmp_path / "b.csv", ROWS[::-1]))
    assert again.already_stored and again.vintage_id == first.vintage_id
    assert len(ws.store.vintages()) == 1 and ws.store.observation_count() == len(ROWS)


def test_cli_reports_an_identical_resubmission(tmp_path):
    Workspace.init(tmp_path / "ws").close()
    a, b = write(tmp_path / "a.csv", ROWS), write_xlsx(tmp_path / "b.xlsx", ROWS)
    r1 = cli("ingest", a, "--source", "cuc-thong-ke", "--workspace", tmp_path / "ws")
    r2 = cli("ingest", b, "--source", "cuc-thong-ke", "--workspace", tmp_path / "ws")
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert "already ingested (vintage 1)" in r2.output


# --- retraction --------------------------------------------------------------------------------
def _two_vintages(ws, tmp_path):
    v1 = ingest(ws, write(tmp_path / "v1.csv", ROWS), received_at=T0).vintage_id
    revised = [["GRDP", "VN", "", "_T", "2024", "11600000", "VND_BN"]]
    v2 = ingest(ws, write(tmp_path / "v2.csv", revised), received_at=T1).vintage_id
    return v1, v2


def _vn_grdp(ws, **kw):
    return ws.store.observations(indicator="GRDP", territory="VN", **kw)


def test_retract_hides_the_values_from_latest_reads_and_keeps_them_as_of(ws, tmp_path):
    v1, v2 = _two_vintages(ws, tmp_path)
    assert _vn_grdp(ws).value.tolist() == [11_600_000]
    at = dt.datetime(2026, 3, 1, 12, 0)
    out = retract(ws, RetractRequest(v2, reason="wrong unit", at=at))
    assert out.retracted_now and out.retracted_at == at
    latest = _vn_grdp(ws)
    assert (latest.value.tolist(), latest.vintage_id.tolist()) == ([11_500_000], [v1])  # the previous value is back
    assert _vn_grdp(ws, as_of=dt.datetime(2026, 2, 20)).value.tolist() == [11_600_000]  # before the retraction
    assert _vn_grdp(ws, as_of=dt.datetime(2026, 3, 2)).value.tolist() == [11_500_000]
    # nothing deleted; the retraction is recorded and listed
    assert ws.store.observation_count() == len(ROWS) + 1
    v = ws.store.vintages().set_index("vintage_id")
    assert v.loc[v2, "retraction_reason"] == "wrong unit" and v.loc[v2, "retracted_at"] == at
    assert v.loc[v1, "retracted_at"] is None or v.loc[v1, "retracted_at"] != v.loc[v1, "retracted_at"]
    # retracting again changes nothing: the first retraction stands
    again = retract(ws, RetractRequest(v2, reason="other"))
    assert not again.retracted_now and again.retracted_at == at
    # the retracted content sent again is a new vintage (the agency sends it back)
    back = ingest(ws, tmp_path / "v2.csv")
    assert not back.already_stored and _vn_grdp(ws).vintage_id.tolist() == [back.vintage_id]


def test_retract_of_a_vintage_alone_withdraws_its_keys(ws, tmp_path):
    v1 = ingest(ws, write(tmp_path / "v1.csv", ROWS), received_at=T0).vintage_id
    retract(ws, RetractRequest(v1, at=T1))
    assert ws.store.observations().empty
    assert len(ws.store.observations(as_of=T0)) == len(ROWS)


def test_retract_unknown_vintage_is_refused(ws, tmp_path):
    from kinhteso.errors import UsageError

    with pytest.raises(UsageError) as exc:
        retract(ws, RetractRequest(42))
    assert exc.value.code == "UNKNOWN_VINTAGE" and "42" in exc.value.vi and "42" in exc.value.en


def test_cli_retract_needs_consent_and_a_known_vintage(tmp_path):
    root = tmp_path / "ws"
    with Workspace.init(root) as w:
        v1, v2 = _two_vintages(w, tmp_path)
    r = cli("retract", "--vintage", 99, "--yes", "--workspace", root)
    assert r.exit_code == 2 and "UNKNOWN_VINTAGE" in r.output
    r = cli("retract", "--vintage", "abc", "--yes", "--workspace", root)
    assert r.exit_code == 2 and "BAD_VINTAGE" in r.output
    r = CliRunner().invoke(main, ["--lang", "vi", "retract", "--vintage", "99", "--yes", "--workspace", str(root)])
    assert r.exit_code == 2 and "UNKNOWN_VINTAGE" in r.output and "Không có phiên bản 99" in r.output
    r = cli("retract", "--vintage", v2, "--workspace", root)  # nobody to ask
    assert r.exit_code == 2 and "CONFIRMATION_REQUIRED" in r.output
    r = cli("retract", "--vintage", v2, "--workspace", root, input="n\n")
    assert r.exit_code == 0 and "nothing changed" in r.output
    with Workspace.open(root) as w:
        assert w.store.vintages().retracted_at.isna().all()
    r = cli("retract", "--vintage", v2, "--reason", "sai đơn vị", "--workspace", root, input="y\n")
    assert r.exit_code == 0 and f"Vintage {v2}" in r.output and "retracted" in r.output, r.output
    r = cli("vintages", "--format", "json", "--workspace", root)
    rows = {x["vintage_id"]: x for x in json.loads(r.output)}
    assert rows[v2]["retraction_reason"] == "sai đơn vị" and rows[v2]["retracted_at"]
    assert not rows[v1]["retracted_at"]
    r = cli("observations", "--indicator", "GRDP", "--territory", "VN", "--format", "json", "--workspace", root)
    assert [x["value"] for x in json.loads(r.output)] == [11_500_000]
    r = cli("retract", "--vintage", v2, "--yes", "--workspace", root)
    assert r.exit_code == 0 and "already" in r.output


# --- revisions by sector -------------------------------------------------------------------------
def test_revisions_of_a_sector(tmp_path):
    root = tmp_path / "ws"
    with Workspace.init(root) as w:
        ingest(w, write(tmp_path / "v1.csv", ROWS), received_at=T0)
        ingest(w, write(tmp_path / "v2.csv", [["GRDP_VA", "31", "63", "26", "2024", "130000", "VND_BN"]]),
               received_at=T1)
        v3 = ingest(w, write(tmp_path / "v3.csv", [["GRDP_VA", "31", "63", "26", "2024", "999999", "VND_BN"]])).vintage_id
        retract(w, RetractRequest(v3))
    r = cli("revisions", "--territory", "63:31", "--indicator", "GRDP_VA", "--sector", "26", "--format", "json",
            "--workspace", root)
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.output)
    assert row["period"] == "2024" and row["revision"] == pytest.approx(130000 - 123456.7)
    cols = [c for c in row if c not in ("period", "revision")]
    assert len(cols) == 3 and cols[-1].endswith("[retracted]") and row[cols[-1]] == 999999
    r = cli("revisions", "--territory", "63:31", "--indicator", "GRDP_VA", "--sector", "C", "--workspace", root)
    assert r.exit_code == 2 and "NO_HISTORY" in r.output


# --- the schema: version 4 and its migration -----------------------------------------------------
def test_migration_computes_the_digest_of_stored_vintages(tmp_path):
    root = tmp_path / "ws"
    with Workspace.init(root) as w:
        ingest(w, write(tmp_path / "a.csv", ROWS))
        path, digest = w.store.path, w.store.vintages().content_sha256.iloc[0]
    # back to version 3: no digest column, no retractions
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE vintages DROP COLUMN content_sha256; DROP TABLE retractions; "
                "DELETE FROM schema_version WHERE version >= 4")
    from kinhteso.store import RECORD_TABLES

    con.execute("ALTER TABLE results DROP COLUMN units")  # version 7's column
    for table in ("members", "grants", "tokens", "exchange_log", "changes", "subscriptions", "deliveries",
                  "record_vintages", "quarantine", *(t for t, _ in RECORD_TABLES.values())):
        con.execute(f"DROP TABLE IF EXISTS {table}")  # and the later versions' tables (a dataset's own when created)
    for seq in ("grant_seq", "log_seq", "change_seq", "subscription_seq"):
        con.execute(f"DROP SEQUENCE {seq}")
    con.close()
    with Store.open(path) as s:
        assert s.schema_version() == SCHEMA_VERSION >= 4
        assert s.vintages().content_sha256.tolist() == [digest]
        assert s.matching_vintage(digest, source="cuc-thong-ke") == 1


def test_published_and_demo_vintages_carry_their_digest(tmp_path):
    import pandas as pd

    from kinhteso.store import VintageInfo

    frame = pd.DataFrame({"indicator": ["GRDP"], "territory": ["VN"], "sector": ["_T"], "period": ["2024"],
                          "value": [11_500_000.0], "unit": ["VND_BN"], "price_basis": ["current"], "status": ["A"],
                          "backcast": [False]})
    with Workspace.init(tmp_path / "ws") as w:
        w.store.add_frame(VintageInfo("gso", "frame", "-"), frame)
        ingest(w, write(tmp_path / "a.csv", [ROWS[3]]), source="gso")
        v = w.store.vintages()
    assert len(v) == 1  # the file holds exactly the published rows: the same vintage


# --- the property: any permutation, line end and BOM is the same vintage ----------------------------
def test_property_any_order_line_end_and_bom_is_one_vintage(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    root = tmp_path / "ws"
    with Workspace.init(root) as w:
        first = ingest(w, write(tmp_path / "a.csv", ROWS)).vintage_id
    counter = iter(range(10**6))

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(order=st.permutations(ROWS), newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
    def same(order, newline, bom):
        with Workspace.open(root) as w:
            r = ingest(w, write(tmp_path / f"x{next(counter)}.csv", order, newline=newline, bom=bom))
            assert r.already_stored and r.vintage_id == first
            assert len(w.store.vintages()) == 1

    same()
