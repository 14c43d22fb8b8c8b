"""Reading: latest and as-of values, the 63 → 34 conversion, templates, the demo workspace."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_long_csv
from kinhteso.cli import main
from kinhteso.ingest.load import ingest_file
from kinhteso.methods.merger import mean_of_predecessors, to_basis34
from kinhteso.reference import territories as terr
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]


def write(path, rows, header=HEADER):
    return write_long_csv(path, rows, header)


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    rows = [
        ["GRDP", "31", "63", "_T", "2024", "365000", "VND_BN"],
        ["GRDP", "30", "63", "_T", "2024", "160000", "VND_BN"],
        ["GRDP", "24", "63", "_T", "2024", "170000", "VND_BN"],
        ["GRDP", "27", "63", "_T", "2024", "235000", "VND_BN"],
        ["GRDP", "74", "63", "_T", "2024", "460000", "VND_BN"],  # HCMC lacks 77 and 79: not derivable
        ["GRDP", "31", "34", "_T", "2025-Q3", "150000", "VND_BN"],
        ["DE_SHARE", "31", "63", "_T", "2024", "20", "PCT"],
    ]
    ingest_file(w.store, write(tmp_path / "a.csv", rows), source="cuc-thong-ke", indicators=w.indicators(),
                workdir=w.tmp, received_at=dt.datetime(2025, 2, 1))
    yield w
    w.close()


def run(*args):
    return CliRunner().invoke(main, ["--lang", "en", *map(str, args)])


def test_new_hai_phong_is_hai_phong_plus_hai_duong(ws):
    r = run("observations", "--indicator", "GRDP", "--basis", "34", "--format", "json", "--workspace", ws.root)
    assert r.exit_code == 0, r.output
    recs = {(x["territory"], x["period"]): x for x in json.loads(r.stdout)}
    assert recs[("31", "2024")]["value"] == 365000 + 160000
    assert recs[("31", "2024")]["derived_from"] == "63:30+63:31"
    assert recs[("24", "2024")]["value"] == 170000 + 235000  # new Bắc Ninh = Bắc Giang + Bắc Ninh
    assert ("79", "2024") not in recs  # an incomplete set of old provinces is not summed
    assert recs[("31", "2025-Q3")]["value"] == 150000 and recs[("31", "2025-Q3")]["derived_from"] == ""
    assert all(x["basis"] == "34" for x in recs.values())


def test_non_additive_indicator_is_refused_on_the_34_basis(ws):
    r = run("observations", "--indicator", "DE_SHARE", "--basis", "34", "--workspace", ws.root)
    assert r.exit_code == 2
    assert "NOT_ADDITIVE" in r.output and "not additive" in r.output
    r = run("observations", "--basis", "34", "--workspace", ws.root)  # not asked for: left out, said so
    assert r.exit_code == 0 and "Left out the 63-basis values of non-additive indicators: DE_SHARE" in r.output


def test_as_of_cli(ws, tmp_path):
    ingest_file(ws.store, write(tmp_path / "rev.csv", [["GRDP", "31", "63", "_T", "2024", "370000", "VND_BN"]]),
                source="cuc-thong-ke", indicators=ws.indicators(), workdir=ws.tmp, received_at=dt.datetime(2025, 6, 1))
    now = run("observations", "--indicator", "GRDP", "--territory", "63:31", "--format", "csv", "--workspace", ws.root)
    old = run("observations", "--indicator", "GRDP", "--territory", "63:31", "--as-of", "2025-03-01",
              "--format", "csv", "--workspace", ws.root)
    assert pd.read_csv(__import__("io").StringIO(now.stdout)).value.tolist() == [370000]
    assert pd.read_csv(__import__("io").StringIO(old.stdout)).value.tolist() == [365000]
    bad = run("observations", "--as-of", "yesterday", "--workspace", ws.root)
    assert bad.exit_code == 2 and "BAD_AS_OF" in bad.output


def test_territory_by_name(ws):
    r = run("observations", "--territory", "Hải Phòng", "--format", "json", "--workspace", ws.root)
    terrs = {(x["basis"], x["territory"]) for x in json.loads(r.stdout)}
    assert terrs == {("63", "31"), ("34", "31")}


def test_vintages_lists_one_record_per_submission(ws):
    r = run("vintages", "--format", "json", "--workspace", ws.root)
    (v,) = json.loads(r.stdout)
    assert v["source"] == "cuc-thong-ke" and v["n_rows"] == 7 and len(v["sha256"]) == 64


def test_export_can_be_ingested_again(ws, tmp_path):
    r = run("observations", "--indicator", "GRDP", "--format", "csv", "--workspace", ws.root)
    (tmp_path / "export.csv").write_text(r.stdout, encoding="utf-8")
    other = Workspace.init(tmp_path / "ws2")
    res = ingest_file(other.store, tmp_path / "export.csv", source="copy", indicators=other.indicators(), workdir=other.tmp)
    assert res.n_rows == 6
    other.close()


def test_workspace_errors(tmp_path):
    r = run("observations", "--workspace", tmp_path / "none")
    assert r.exit_code == 1 and "NO_WORKSPACE" in r.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    r = run("init", tmp_path / "full")
    assert r.exit_code == 1 and "DIR_NOT_EMPTY" in r.output


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_filled_template_round_trip(tmp_path, fmt):
    w = Workspace.init(tmp_path / "ws")
    out = tmp_path / f"t.{fmt}"
    r = run("template", "GRDP_VA", "EINVOICE_REVENUE", "--format", fmt, "--out", out, "--workspace", w.root)
    assert r.exit_code == 0, r.output
    rows = [["GRDP_VA", "31", "34", "62", "2025-Q3", "1234.5", "VND_BN", "current", "P", "ước tính nhanh", "2018"],
            ["EINVOICE_REVENUE", "Hải Phòng", "34", "_T", "2025-09", "4567", "VND_BN", "", "", "", ""]]
    if fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(out)
        assert wb.sheetnames[:3] == ["data", "huong_dan", "dia_ban"]
        sheet = wb["data"]
        assert sheet["A1"].comment is not None and "Indicator code" in sheet["A1"].comment.text
        for i, row in enumerate(rows, start=2):
            for j, v in enumerate(row, start=1):
                sheet.cell(row=i, column=j, value=v)
        wb.save(out)
    else:
        text = out.read_text(encoding="utf-8")
        assert text.startswith("#") and "EINVOICE_REVENUE" in text
        with open(out, "a", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    r = run("ingest", out, "--workspace", w.root)
    assert r.exit_code == 0, r.output
    obs = w.store.observations()
    assert sorted(obs.indicator) == ["EINVOICE_REVENUE", "GRDP_VA"]
    assert obs.set_index("indicator").loc["GRDP_VA", "status"] == "P"
    w.close()


def test_template_refuses_unknown_indicator(tmp_path):
    r = run("template", "NOPE", "--out", tmp_path / "x.xlsx", "--workspace", tmp_path)
    assert r.exit_code == 2 and "NOPE" in r.output


# --- the merger rule as a property -----------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=63, max_size=63))
def test_sum_over_34_equals_sum_over_63(values):
    olds = [t.key for t in terr.territories() if t.basis == 63]
    obs = pd.DataFrame({"indicator": "GRDP", "territory": olds, "sector": "_T", "period": "2024",
                        "price_basis": "current", "unit": "VND_BN", "value": values, "status": "A"})
    out, dropped = to_basis34(obs, terr.merger_map(), additive={"GRDP": True})
    assert not dropped and len(out) == 34
    assert out.value.sum() == pytest.approx(sum(values), rel=1e-12, abs=1e-6)


def test_index_scores_follow_the_mean_rule():
    obs = pd.DataFrame({"indicator": "DTI_MAIN_INDEX", "territory": ["63:30", "63:31"], "sector": "the_che_so",
                        "period": "2024", "price_basis": "current", "unit": "INDEX01", "value": [0.6, 0.8], "status": "A"})
    out = mean_of_predecessors(obs, terr.merger_map())
    assert out.territory.tolist() == ["34:31"] and out.value.tolist() == [pytest.approx(0.7)]


def test_status_of_a_sum_is_its_least_certain_part():
    obs = pd.DataFrame({"indicator": "GRDP", "territory": ["63:30", "63:31"], "sector": "_T", "period": "2024",
                        "price_basis": "current", "unit": "VND_BN", "value": [1.0, 2.0], "status": ["A", "E"]})
    out, _ = to_basis34(obs, terr.merger_map(), additive={"GRDP": True})
    assert out.status.tolist() == ["E"]


def test_demo_workspace_is_labelled_and_holds_published_figures(demo_run):
    root, r = demo_run
    assert r.exit_code == 0, r.output
    assert "ILLUSTRATIVE" in r.output and str(root) in r.output
    with Workspace.open(root) as w:
        v = w.store.vintages()
        assert (v[v.source == "demo"].illustrative).all()
        # published figures are real; estimates computed from demo data are illustrative too
        published = v[v.source.isin(["GSO", "NSO", "MIC", "HCMC"])]
        assert len(published) and not published.illustrative.any()
        assert not v.source.str.startswith("kinhteso:").any()  # kinhteso's figures are results
        assert w.store.result_runs().illustrative.all()
        share = w.store.observations(indicator="DE_SHARE", territory="VN", period="2025")
        assert share.value.tolist() == [14.02] and share.source.tolist() == ["NSO"]
        grdp = w.store.observations(indicator="GRDP_VA", territory="34:31", period="2025-Q3")
        assert len(grdp) == 88 and grdp.illustrative.all()
        # 63-basis quarters end with 2025-Q2, 34-basis ones begin with 2025-Q3
        q63 = w.store.observations(indicator="GRDP", territory="63:31")
        assert q63.period.max() == "2025-Q2"


def test_a_workspace_owned_by_a_server_is_refused_clearly_after_waiting(tmp_path, monkeypatch):
    """A reader waits for a writer; one that holds the workspace for good (a server) makes it
    give up, with a bilingual STORE_LOCKED, after the read time-out. A reading process blocks nobody."""
    import subprocess
    import sys
    import time

    from kinhteso import store
    from kinhteso.errors import WorkspaceError

    Workspace.init(tmp_path / "ws").close()
    code = ("import sys, time\nfrom kinhteso.workspace import Workspace\n"
            f"w = Workspace.open({str(tmp_path / 'ws')!r}, owner=bool(int(sys.argv[1]))); w.store.vintages(); w.tmp\n"
            "print('ready', flush=True)\ntime.sleep(30)")
    reader = subprocess.Popen([sys.executable, "-c", code, "0"], stdout=subprocess.PIPE)
    try:
        assert reader.stdout.readline().strip() == b"ready"
        with Workspace.open(tmp_path / "ws") as w:  # another reader reads at once
            assert w.store.vintages().empty
    finally:
        reader.kill()
        reader.wait()
    owner = subprocess.Popen([sys.executable, "-c", code, "1"], stdout=subprocess.PIPE)
    monkeypatch.setattr(store, "READ_TIMEOUT", 0.5)
    try:
        assert owner.stdout.readline().strip() == b"ready"
        w = Workspace.open(tmp_path / "ws")
        t0 = time.monotonic()
        with pytest.raises(WorkspaceError) as exc:
            w.store.vintages()
        assert time.monotonic() - t0 >= 0.5  # it waited before giving up
        assert exc.value.code == "STORE_LOCKED" and "busy" in exc.value.en and "bận" in exc.value.vi
        w.close()
        assert any((tmp_path / "ws" / "tmp").iterdir())  # the other process's scratch folder is left alone
    finally:
        owner.kill()
        owner.wait()
    time.sleep(0.1)


def test_ingest_illustrative_flags_the_vintage_and_every_read_labels_it(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    rows = [["GRDP", "31", "34", "_T", "2024", "500000", "VND_BN"]]
    f = write_long_csv(tmp_path / "ex.csv", rows, ["indicator", "territory", "basis", "sector", "period", "value", "unit"])
    r = run("--lang", "en", "ingest", f, "--illustrative", "--source", "minh-hoa", "--workspace", w.root)
    assert r.exit_code == 0, r.output
    assert bool(w.store.vintages().illustrative.iloc[-1]) is True
    from kinhteso.i18n import DEMO_LABEL

    r = run("--lang", "en", "observations", "--indicator", "GRDP", "--territory", "34:31", "--workspace", w.root)
    assert r.exit_code == 0 and DEMO_LABEL["en"] in r.output
    # without the flag the same kind of file is not labelled
    f2 = write_long_csv(tmp_path / "real.csv", [["GRDP", "01", "34", "_T", "2024", "1", "VND_BN"]],
                        ["indicator", "territory", "basis", "sector", "period", "value", "unit"])
    assert run("ingest", f2, "--source", "cuc-thong-ke", "--workspace", w.root).exit_code == 0
    r = run("--lang", "en", "observations", "--indicator", "GRDP", "--territory", "34:01", "--workspace", w.root)
    assert r.exit_code == 0 and DEMO_LABEL["en"] not in r.output
