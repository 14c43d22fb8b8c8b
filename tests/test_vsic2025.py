"""VSIC 2025 beside VSIC 2018: the code list, the correspondence, conversion with totals kept,
ingestion with --vsic and a vsic_version column, the accounts on 2025-coded data, the command."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ingest_rows, write_long_csv
from kinhteso.cli import main
from kinhteso.errors import InputRejected, MethodError, ReferenceDataError, UsageError
from kinhteso.methods import accounts as A
from kinhteso.methods.classification import convert_2018_to_2025
from kinhteso.pipeline import accounts as P
from kinhteso.reference import vsic
from kinhteso.workspace import Workspace

HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit"]


@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def tree(version):
    return {s.code: s.parent for s in vsic.sectors(version)}


# --- the code list ----------------------------------------------------------------------------
def test_vsic2025_has_22_sections_a_to_v_87_divisions_258_groups():
    t = vsic.sector_table(2025)
    assert list(t[t.level == "section"].code) == list("ABCDEFGHIJKLMNOPQRSTUV")
    assert (t.level == "division").sum() == 87 and "45" not in set(t.code)
    assert (t.level == "group").sum() == 258
    assert vsic.section_of("62", 2025) == "K" and vsic.section_of("58", 2025) == "J"
    assert vsic.section_of("64", 2025) == "L" and vsic.section_of("99", 2025) == "V"
    assert vsic.children("261", 2025) == ("2611", "2619")
    # VSIC 2018 keeps its meaning by default
    assert vsic.section_of("62") == "J" and len([s for s in vsic.sectors() if s.level == "section"]) == 21


def test_every_division_group_and_class_has_a_parent_one_level_up():
    by_code = {s.code: s for s in vsic.sectors(2025)}
    up = {"section": "total", "division": "section", "group": "division", "class": "group"}
    for s in by_code.values():
        if s.level == "total":
            continue
        assert by_code[s.parent].level == up[s.level], s.code
        assert s.name_vi_source in ("vsic2018", "kinhteso"), s.code


def test_sector_2025_level_patterns_and_versioned_keys():
    assert vsic.LEVELS["section"][0] == "[A-U]" and vsic.LEVELS_BY_VERSION[2025]["section"][0] == "[A-V]"
    assert vsic.get_sector("v2025:V").level == "section"
    with pytest.raises(ReferenceDataError) as e:
        vsic.get_sector("V")  # no section V in VSIC 2018
    assert "VSIC 2018" in e.value.en
    with pytest.raises(ReferenceDataError):
        vsic.get_sector("4791", 2025)
    assert vsic.key("_T", 2025) == "_T" and vsic.split_key("K") == (2018, "K")
    with pytest.raises(UsageError) as e:
        vsic.parse_version("2019")
    assert e.value.code == "BAD_VSIC_VERSION"


# --- the correspondence -------------------------------------------------------------------------
def test_correspondence_covers_every_shipped_2018_code_with_weights_summing_to_one():
    corr = vsic.correspondence()
    codes18 = {s.code for s in vsic.sectors(2018)}
    assert set(corr.code_2018) == codes18
    assert set(corr.code_2025) <= {s.code for s in vsic.sectors(2025)}
    sums = corr.groupby("code_2018").weight.sum()
    assert ((sums - 1).abs() < 1e-12).all()
    assert set(corr.link) <= {"one-to-one", "main", "part"}
    j = corr[corr.code_2018 == "J"].set_index("code_2025").weight.to_dict()
    assert j == {"K": 1.0, "J": 0.0}


def test_a_workspace_overrides_weights_and_bad_weights_are_refused(tmp_path):
    f = tmp_path / vsic.CORRESPONDENCE_FILE
    f.write_text("code_2018,code_2025,weight,link,note\nJ,K,0.8,main,x\nJ,J,0.2,part,y\n", encoding="utf-8")
    corr = vsic.correspondence(f)
    assert corr[corr.code_2018 == "J"].weight.tolist() == [0.8, 0.2]
    assert corr[corr.code_2018 == "K"].code_2025.tolist() == ["L"]  # the other codes keep the shipped rows
    f.write_text("code_2018,code_2025,weight,link,note\nJ,K,0.8,main,x\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError) as e:
        vsic.correspondence(f)
    assert e.value.code == "BAD_CORRESPONDENCE" and "sum" in e.value.en
    f.write_text("code_2018,code_2025,weight,link,note\nJ,W,1,main,x\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError) as e:
        vsic.correspondence(f)
    assert "row 2" in e.value.en


# --- conversion ---------------------------------------------------------------------------------
ECONOMY_2018 = {"A": 120.0, "C": 300.0, "26": 100.0, "G": 200.0, "45": 20.0, "4651": 10.0, "J": 50.0, "61": 20.0,
                "62": 15.0, "631": 4.0, "6312": 1.5, "K": 80.0, "L": 70.0, "S": 12.0, "95": 3.0, "9511": 1.0}


def top_level_sum(values: pd.Series, parent: dict) -> float:
    codes = set(values.index) - {"_T"}

    def has_reported_ancestor(c):
        p = parent.get(c)
        while p is not None and p != "_T":
            if p in codes:
                return True
            p = parent.get(p)
        return False

    return float(sum(values[c] for c in codes if not has_reported_ancestor(c)))


def test_a_2018_series_converted_to_2025_keeps_its_total():
    s18 = pd.Series(ECONOMY_2018)
    conv = convert_2018_to_2025(s18, vsic.correspondence(), tree(2018), tree(2025), label="VN 2024")
    v = conv.values
    assert top_level_sum(v, tree(2025)) == pytest.approx(top_level_sum(s18, tree(2018)))
    # finance K → L, real estate L → M; J's information part becomes K; 45 lands in 47 under G
    assert v["L"] == 80.0 and v["M"] == 70.0 and v["K"] == pytest.approx(50.0) and "J" not in v.index
    assert v["61"] == 20.0 and v["631"] == pytest.approx(2.5) and v["6390"] == 1.5
    assert v["G"] == 200.0 and v["47"] == 20.0 and v["9510"] == 1.0 and v["T"] == 12.0
    assert conv.warnings and conv.warnings[0]["code"] == "VSIC_SPLIT_DEFAULT" and "J → J" in conv.warnings[0]["en"]


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(c for c in {s.code for s in vsic.sectors(2018)} if len(c) <= 2)),
                       st.floats(0, 1e6), min_size=1, max_size=30))
def test_conversion_preserves_totals_for_any_sections_and_divisions(data):
    # only sections and divisions; a division reported under its section must not exceed it
    values = dict(data)
    parent = tree(2018)
    for c in list(values):
        p = parent[c]
        if p in values:
            values[p] = values[p] + values[c]
    s18 = pd.Series(values)
    conv = convert_2018_to_2025(s18, vsic.correspondence(), parent, tree(2025))
    assert top_level_sum(conv.values, tree(2025)) == pytest.approx(top_level_sum(s18, parent), rel=1e-9, abs=1e-6)


def test_conversion_with_workspace_weights_splits_section_j(tmp_path):
    f = tmp_path / vsic.CORRESPONDENCE_FILE
    f.write_text("code_2018,code_2025,weight,link,note\nJ,K,0.75,main,\nJ,J,0.25,part,\n", encoding="utf-8")
    conv = convert_2018_to_2025(pd.Series({"J": 100.0, "C": 10.0}), vsic.correspondence(f), tree(2018), tree(2025))
    assert conv.values.to_dict() == {"C": 10.0, "J": 25.0, "K": 75.0} and not conv.warnings


def test_conversion_refuses_a_code_without_correspondence():
    corr = vsic.correspondence()
    with pytest.raises(MethodError) as e:
        convert_2018_to_2025(pd.Series({"C": 1.0}), corr[corr.code_2018 != "C"], tree(2018), tree(2025))
    assert e.value.code == "NO_CORRESPONDENCE"


# --- ingestion ----------------------------------------------------------------------------------
ROWS_2025 = [["GRDP_VA", "VN", "", "K", "2026-Q1", "50", "VND_BN"],
             ["GRDP_VA", "VN", "", "61", "2026-Q1", "20", "VND_BN"],
             ["GRDP_VA", "VN", "", "V", "2026-Q1", "1", "VND_BN"],
             ["GRDP", "VN", "", "_T", "2026-Q1", "800", "VND_BN"]]


def stored_sectors(ws):
    return sorted(ws.store.observations(indicator=["GRDP_VA", "GRDP"]).sector)


def test_ingest_with_vsic_2025_stores_codes_with_their_version(ws, tmp_path):
    r = ingest_rows(ws, tmp_path / "q.csv", ROWS_2025, vsic="2025")
    assert r.n_rows == 4 and not r.notes
    assert stored_sectors(ws) == ["_T", "v2025:61", "v2025:K", "v2025:V"]


def test_a_vsic_version_column_sets_the_version_row_by_row(ws, tmp_path):
    rows = [["GRDP_VA", "VN", "", "K", "2024", "80", "VND_BN", "2018"],
            ["GRDP_VA", "VN", "", "K", "2026-Q1", "50", "VND_BN", "VSIC 2025"],
            ["GRDP_VA", "VN", "", "4791", "2024", "3", "VND_BN", ""]]
    path = write_long_csv(tmp_path / "m.csv", rows, HEADER + ["vsic_version"])
    from kinhteso.ingest.load import ingest_file

    ingest_file(ws.store, path, source="t", indicators=ws.indicators(), workdir=ws.tmp)
    assert sorted(ws.store.observations(indicator="GRDP_VA").sector) == ["4791", "K", "v2025:K"]


def test_an_export_with_prefixed_keys_is_ingested_again(ws, tmp_path):
    ingest_rows(ws, tmp_path / "q.csv", ROWS_2025, vsic="2025")
    r = CliRunner().invoke(main, ["observations", "--format", "csv", "--workspace", str(ws.root)])
    export = tmp_path / "export.csv"
    export.write_text(r.stdout, encoding="utf-8")
    with Workspace.init(tmp_path / "ws2") as w2:
        from kinhteso.ingest.load import ingest_file

        ingest_file(w2.store, export, source="t", indicators=w2.indicators(), workdir=w2.tmp)
        assert stored_sectors(w2) == stored_sectors(ws)


def test_a_2018_only_code_in_a_2025_file_is_refused_whole(ws, tmp_path):
    rows = ROWS_2025 + [["GRDP_VA", "VN", "", "4791", "2026-Q1", "3", "VND_BN"]]
    with pytest.raises(InputRejected) as e:
        ingest_rows(ws, tmp_path / "bad.csv", rows, vsic="2025")
    (p,) = e.value.problems
    assert (p.code, p.row, p.column) == ("UNKNOWN_SECTOR", 6, "sector")
    assert "VSIC 2025" in p.en and "VSIC 2018" in p.en and "4790" in p.en and "VSIC 2025" in p.vi
    assert ws.store.observation_count() == 0  # nothing of the file is stored


def test_a_bad_vsic_version_cell_is_named_by_row_and_column(ws, tmp_path):
    rows = [["GRDP_VA", "VN", "", "K", "2024", "80", "VND_BN", "2019"]]
    path = write_long_csv(tmp_path / "v.csv", rows, HEADER + ["vsic_version"])
    from kinhteso.ingest.load import ingest_file

    with pytest.raises(InputRejected) as e:
        ingest_file(ws.store, path, source="t", indicators=ws.indicators(), workdir=ws.tmp)
    assert [(p.code, p.row, p.column) for p in e.value.problems] == [("BAD_VSIC_VERSION", 2, "vsic_version")]


def test_default_is_2018_with_a_note_for_2026_and_auto_goes_by_period(ws, tmp_path):
    rows = [["GRDP_VA", "VN", "", "K", "2025", "80", "VND_BN"],
            ["GRDP_VA", "VN", "", "K", "2026-Q1", "50", "VND_BN"]]
    r = ingest_rows(ws, tmp_path / "d.csv", rows)
    assert sorted(ws.store.observations(indicator="GRDP_VA").sector) == ["K", "K"]
    assert len(r.notes) == 1 and "--vsic 2025" in r.notes[0][1] and "2026-Q1" in r.notes[0][1]
    again = ingest_rows(ws, tmp_path / "d.csv", rows, vsic="2025")  # the same bytes, read as VSIC 2025: new data
    assert not again.already_stored and again.n_rows == 2
    assert ingest_rows(ws, tmp_path / "d.csv", rows, vsic="2025").already_stored  # and that, once
    r2 = ingest_rows(ws, tmp_path / "a.csv", rows, source="auto", vsic="auto")
    got = ws.store.observations(indicator="GRDP_VA", source="auto")
    assert dict(zip(got.period, got.sector)) == {"2025": "K", "2026-Q1": "v2025:K"} and not r2.notes


def test_cli_ingest_vsic_option(ws, tmp_path):
    path = write_long_csv(tmp_path / "c.csv", ROWS_2025)
    r = CliRunner().invoke(main, ["--lang", "en", "ingest", str(path), "--vsic", "2025", "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["ingest", str(path), "--vsic", "2019", "--workspace", str(ws.root)])
    assert r.exit_code == 2


# --- the accounts on VSIC 2025-coded data ------------------------------------------------------
ECON = {2018: {"C": 300, "26": 100, "G": 200, "4651": 10, "J": 50, "61": 20, "62": 15, "K": 80, "L": 70},
        2025: {"C": 300, "26": 100, "G": 200, "4651": 10, "J": 15, "K": 35, "61": 20, "62": 15, "L": 80, "M": 70}}
COEF = {2018: {"C": 0.05, "G": 0.1, "J": 0.2, "K": 0.1, "L": 0.02},
        2025: {"C": 0.05, "G": 0.1, "J": 0.2, "K": 0.2, "L": 0.1, "M": 0.02}}


def economy_rows(version):
    rows = [["GRDP_VA", "VN", "", c, "2024", str(v), "VND_BN"] for c, v in ECON[version].items()]
    rows += [["DIGITAL_COEF", "VN", "", c, "2024", str(v), "RATIO"] for c, v in COEF[version].items()]
    return rows + [["GRDP", "VN", "", "_T", "2024", "800", "VND_BN"]]


@pytest.mark.parametrize("view", ["gso", "oecd", "mic"])
def test_measure_on_2025_coded_data_gives_the_2018_share(tmp_path, view):
    shares = {}
    for version in (2018, 2025):
        with Workspace.init(tmp_path / f"w{version}-{view}") as w:
            ingest_rows(w, tmp_path / f"e{version}.csv", economy_rows(version), vsic=str(version))
            res = P.measure(w, "VN", "2024", view=view)
            assert res.error is None, res.error
            assert res.provenance["vsic_version"] == version
            shares[version] = (res.result.de_share, res.result.components)
            if version == 2025:
                assert all(c.startswith("v2025:") for c in res.provenance["core"])
                assert set(res.result.by_section.section) <= {vsic.key(s, 2025) for s in "CGJKLM"}
    assert shares[2025][0] == pytest.approx(shares[2018][0], abs=1e-9)


def test_a_territory_period_in_both_versions_uses_one_and_warns(ws, tmp_path):
    ingest_rows(ws, tmp_path / "e18.csv", economy_rows(2018), vsic="2018")
    one = P.measure(ws, "VN", "2024").result.de_share
    ingest_rows(ws, tmp_path / "e25.csv", economy_rows(2025), vsic="2025", source="later")
    res = P.measure(ws, "VN", "2024")
    assert res.provenance["vsic_version"] == 2025  # the latest vintage's version
    assert "VSIC_MIXED" in [w["code"] for w in res.warnings]
    assert res.result.de_share == pytest.approx(one)  # never both: no double count


def test_core_lists_in_both_versions_are_codes_of_their_version():
    for version, views in A.CORE_BY_VERSION.items():
        known = {s.code for s in vsic.sectors(version)}
        for view, core in views.items():
            assert set(core) <= known, (version, view)
    assert A.CORE_BY_VERSION[2018]["gso"] == A.GSO_CORE and "6312" not in A.OECD_ICT_2025


# --- reading converted, and the command --------------------------------------------------------
def test_observations_vsic_2025_converts_2018_rows_on_read(ws, tmp_path):
    ingest_rows(ws, tmp_path / "e18.csv", economy_rows(2018))
    r = CliRunner().invoke(main, ["--lang", "en", "observations", "--indicator", "GRDP_VA", "--vsic", "2025",
                                  "--format", "json", "--workspace", str(ws.root)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    got = {x["sector"]: x["value"] for x in rows}
    assert got["v2025:L"] == 80 and got["v2025:M"] == 70 and got["v2025:K"] == 50
    assert all(x["derived_from"].startswith("VSIC 2018") for x in rows)
    assert "converted to VSIC 2025" in r.stderr
    # DIGITAL_COEF (a ratio) coded in 2018 cannot be converted: left out, said so
    r = CliRunner().invoke(main, ["--lang", "en", "observations", "--indicator", "DIGITAL_COEF", "--vsic", "2025",
                                  "--format", "json", "--workspace", str(ws.root)])
    assert json.loads(r.stdout) == [] and "cannot be converted" in r.stderr


def test_vsic_command_json_lists_and_maps():
    r = CliRunner().invoke(main, ["vsic", "--version", "2025", "--level", "section", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["code"] for x in rows] == list("ABCDEFGHIJKLMNOPQRSTUV") and rows[-1]["key"] == "v2025:V"
    r = CliRunner().invoke(main, ["vsic", "--format", "json"])
    assert len([x for x in json.loads(r.stdout) if x["level"] == "section"]) == 21
    r = CliRunner().invoke(main, ["vsic", "--map", "2018:2025", "--code", "J", "--level", "section", "--format", "json"])
    assert [(x["code_2025"], x["weight"]) for x in json.loads(r.stdout)] == [("K", 1.0), ("J", 0.0)]
    r = CliRunner().invoke(main, ["vsic", "--version", "2025", "--code", "4791"])
    assert r.exit_code != 0 and "UNKNOWN_SECTOR" in r.output


def test_api_submission_takes_the_vsic_option(tmp_path):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app
    from kinhteso.service import members as M

    root = tmp_path / "api"
    with Workspace.init(root) as w:
        M.add_member(w, M.MemberAddRequest("NSO", "NSO"))
        M.grant(w, M.GrantRequest("NSO", "submitter", "*", "*"))
        token = M.create_token(w, M.TokenCreateRequest("NSO")).token
    auth = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    good = write_long_csv(tmp_path / "g.csv", ROWS_2025).read_bytes()
    bad = write_long_csv(tmp_path / "b.csv", [*ROWS_2025, ["GRDP_VA", "VN", "", "45", "2026-Q1", "3", "VND_BN"]])
    with TestClient(create_app(root)) as c:
        r = c.post("/api/v1/submissions", headers=auth, params={"vsic": "2019"}, files={"file": ("g.csv", good)})
        assert r.status_code == 422 and r.json()["code"] == "BAD_VSIC_VERSION"
        r = c.post("/api/v1/submissions", headers=auth, params={"vsic": "2025"},
                   files={"file": ("b.csv", bad.read_bytes())})
        assert r.status_code == 422 and [p["code"] for p in r.json()["problems"]] == ["UNKNOWN_SECTOR"]
        r = c.post("/api/v1/submissions", headers=auth, data={"vsic": "2025"}, files={"file": ("g.csv", good)})
        assert r.status_code == 201, r.text
        assert r.json()["notes"] == []
    with Workspace.open(root) as w:
        assert sorted(w.store.observations(indicator="GRDP_VA").sector) == ["v2025:61", "v2025:K", "v2025:V"]


def test_2025_value_added_with_only_2018_coefficients_says_so(ws, tmp_path):
    ingest_rows(ws, tmp_path / "va.csv", [r for r in economy_rows(2025) if r[0] != "DIGITAL_COEF"], vsic="2025")
    ingest_rows(ws, tmp_path / "co.csv", [r for r in economy_rows(2018) if r[0] == "DIGITAL_COEF"])
    res = P.measure(ws, "VN", "2024")
    codes = [w["code"] for w in res.warnings]
    assert "VSIC_VERSION_INPUTS" in codes and "NO_COEFFICIENT" in codes
    assert res.result.components["digitalised"]["va"] == 0.0


def test_a_wide_file_takes_the_vsic_version_column(ws, tmp_path):
    rows = [["GRDP_VA", "VN", "", "K", "VND_BN", "2025", "10", "11"],
            ["GRDP_VA", "VN", "", "K", "VND_BN", "2018", "20", "21"]]
    header = ["indicator", "territory", "basis", "sector", "unit", "vsic_version", "2024", "2025"]
    path = write_long_csv(tmp_path / "w.csv", rows, header)
    from kinhteso.ingest.load import ingest_file

    r = ingest_file(ws.store, path, source="t", indicators=ws.indicators(), workdir=ws.tmp)
    assert r.layout == "wide" and r.n_rows == 4
    got = ws.store.observations(indicator="GRDP_VA")
    assert sorted(zip(got.sector, got.period, got.value)) == [
        ("K", "2024", 20.0), ("K", "2025", 21.0), ("v2025:K", "2024", 10.0), ("v2025:K", "2025", 11.0)]
