"""Shared back with disclosure control (issue 16, item 5; docs/sharing.md).

Two terminal operators send their container events (DCSA) for Hải Phòng (34:31):

- PORT_A: 2025-Q3 pairs at HICT (48 h) and NDV (24 h); 2025-Q4 at HICT (24 h); 2026-Q1 at HICT (48 h);
- PORT_B: 2025-Q3 at TVT (72 h); 2025-Q4 at TVT (48 h).

So 2025-Q3 rests on 3 terminals (published: median 48 h), 2025-Q4 on 2 (suppressed for a member
or the public: median 36 h, flag C) and 2026-Q1 on 1, all PORT_A's own (PORT_A sees it, nobody
else does). The local command line (the workspace's own analyst) sees every value with its units.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

HEADER = "equipmentReference,equipmentEventTypeCode,eventClassifierCode,eventDateTime,UNLocationCode,facilityCode\n"
A_EVENTS = [("AAAU0000001", "2025-07-01T08:00:00+07:00", "2025-07-03T08:00:00+07:00", "HICT"),
            ("AAAU0000002", "2025-08-01T08:00:00+07:00", "2025-08-02T08:00:00+07:00", "NDV"),
            ("AAAU0000003", "2025-10-05T08:00:00+07:00", "2025-10-06T08:00:00+07:00", "HICT"),
            ("AAAU0000004", "2026-01-05T08:00:00+07:00", "2026-01-07T08:00:00+07:00", "HICT")]
B_EVENTS = [("BBBU0000001", "2025-07-10T08:00:00+07:00", "2025-07-13T08:00:00+07:00", "TVT"),
            ("BBBU0000002", "2025-11-01T08:00:00+07:00", "2025-11-03T08:00:00+07:00", "TVT")]
DWELL = "PORT_IMPORT_DWELL_H"


def _csv(events) -> str:
    rows = [f"{eq},DISC,ACT,{disc},VNHPH,{fac}\n{eq},GTOT,ACT,{gtot},VNHPH,{fac}\n" for eq, disc, gtot, fac in events]
    return HEADER + "".join(rows)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A workspace with the two operators' events, members and their tokens (by role)."""
    from kinhteso.service import members as M
    from kinhteso.service.data import IngestRequest, ingest
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    tmp = tmp_path_factory.mktemp("sharing")
    root = tmp / "ws"
    init(InitRequest(root, published=False))
    tokens = {}
    with Workspace.open(root) as ws:
        for code, kind in (("PORT_A", "port"), ("PORT_B", "port"), ("READER", "province"), ("CITY_ADMIN", "statistics"),
                           ("GRANTED", "province"), ("STAR", "province"), ("NOGRANT", "enterprise")):
            M.add_member(ws, M.MemberAddRequest(code, f"Member {code}", kind))
            tokens[code] = M.create_token(ws, M.TokenCreateRequest(code)).token
        for code in ("PORT_A", "PORT_B", "READER", "GRANTED"):
            M.grant(ws, M.GrantRequest(code, "reader", None, "34:31"))
        M.grant(ws, M.GrantRequest("CITY_ADMIN", "admin"))
        M.grant(ws, M.GrantRequest("GRANTED", "reader", "records:container_events", "34:31"))
        M.grant(ws, M.GrantRequest("STAR", "reader", "*", "*"))   # '*' does not name anyone's records
        for code, events in (("PORT_A", A_EVENTS), ("PORT_B", B_EVENTS)):
            path = tmp / f"{code}.csv"
            path.write_text(_csv(events), encoding="utf-8")
            [out] = ingest(ws, IngestRequest(files=(path,), source=code, adapter="dcsa-equipment-events"))
            assert out.rejected is None, out.rejected
    return root, tokens


@pytest.fixture(scope="module")
def client(shared):
    from fastapi.testclient import TestClient

    from kinhteso.api import create_app

    root, _ = shared
    with TestClient(create_app(root)) as c:
        yield c


def _h(shared, code: str | None, lang: str = "en") -> dict:
    out = {"Accept-Language": lang}
    if code:
        out["Authorization"] = f"Bearer {shared[1][code]}"
    return out


def _by_period(rows: list[dict]) -> dict[str, dict]:
    return {r["period"]: r for r in rows}


# --- the rule itself (pure) -------------------------------------------------------------------------------------
def test_the_threshold_rule_and_its_edges():
    from kinhteso.methods.disclosure import MIN_UNITS, apply_threshold, conf_flag, is_confidential

    assert MIN_UNITS == 3
    f = pd.DataFrame({"value": [1.0, 2.0, 3.0, 4.0, float("nan"), 5.0],
                      "units": [2, 3, None, 0, 1, 1]})
    out = apply_threshold(f)
    assert out["obs_conf"].tolist() == ["C", "F", None, "C", None, "C"]
    assert math.isnan(out["value"][0])       # 2 units: suppressed
    assert out["value"][1] == 2.0            # exactly 3 units: published
    assert out["value"][2] == 3.0            # units NULL: not from records, untouched
    assert math.isnan(out["value"][3])       # 0 units with a value: suppressed
    assert f["value"][0] == 1.0              # the input is not changed
    kept = apply_threshold(f, suppress=False)  # the analyst: flagged, not removed
    assert kept["value"].tolist()[:4] == [1.0, 2.0, 3.0, 4.0] and kept["obs_conf"][0] == "C"
    exempt = apply_threshold(f, exempt=pd.Series([True, False, False, False, False, False]))
    assert exempt["value"][0] == 1.0 and exempt["obs_conf"][0] == "C"
    assert (is_confidential(2), is_confidential(3), is_confidential(None), conf_flag(2, None)) == (True, False, False, None)


def test_secondary_suppression_hides_what_subtraction_would_give():
    from kinhteso.methods.disclosure import apply_threshold, secondary_suppression

    f = pd.DataFrame({"g": ["x"] * 3 + ["y"] * 2, "value": [10.0, 5.0, 2.0, 7.0, 8.0], "units": [4, 3, 1, 3, 3],
                      "unit_set": [("a", "b", "c", "d"), ("a", "b", "e"), ("a",), ("a", "b", "c"), ("b", "c", "d")]})
    out = secondary_suppression(apply_threshold(f), ["g"])
    # x: the C cell (unit a) + the smallest published (a, b, e) → 3 units together; y untouched
    assert out["obs_conf"].tolist() == ["F", "D", "C", "F", "F"]
    assert out["value"].isna().tolist() == [False, True, True, False, False]


# --- results, figures and SDMX: member, public, admin, the local CLI ----------------------------------------------------
def test_a_cell_from_two_units_is_suppressed_for_members_and_the_public(client, shared):
    public = client.get("/api/v1/figure", params={"indicator": DWELL, "territory": "34:31", "period": "2025-Q4"})
    assert public.status_code == 200, public.text
    body = public.json()
    assert body["value"] is None and body["obs_conf"] == "C" and body["units"] == 2 and body["run_id"]
    three = client.get("/api/v1/figure", params={"indicator": DWELL, "territory": "34:31", "period": "2025-Q3"}).json()
    assert three["value"] == pytest.approx(48.0) and three["obs_conf"] == "F" and three["units"] == 3
    for who in ("READER", "PORT_B", "PORT_A"):  # PORT_A and PORT_B both fed 2025-Q4: neither sees the other's
        r = client.get("/api/v1/results", params={"indicator": DWELL, "territory": "34:31"}, headers=_h(shared, who))
        assert r.status_code == 200, r.text
        rows = _by_period(r.json())
        assert rows["2025-Q3"]["value"] == pytest.approx(48.0) and rows["2025-Q3"]["obs_conf"] == "F"
        assert rows["2025-Q4"]["value"] is None and rows["2025-Q4"]["obs_conf"] == "C", who
    csv_text = client.get("/api/v1/results", params={"indicator": DWELL, "territory": "34:31"},
                          headers={**_h(shared, "READER"), "Accept": "text/csv"}).text
    import io

    frame = pd.read_csv(io.StringIO(csv_text)).set_index("period")
    assert math.isnan(frame.at["2025-Q4", "value"]) and frame.at["2025-Q4", "obs_conf"] == "C"


def test_a_cell_of_one_member_s_records_alone_is_shown_to_that_member_only(client, shared):
    rows = {who: _by_period(client.get("/api/v1/results", params={"indicator": DWELL, "territory": "34:31"},
                                       headers=_h(shared, who)).json())["2026-Q1"] for who in ("PORT_A", "PORT_B")}
    assert rows["PORT_A"]["value"] == pytest.approx(48.0) and rows["PORT_A"]["obs_conf"] == "C"
    assert rows["PORT_B"]["value"] is None
    fig = client.get("/api/v1/figure", params={"indicator": DWELL, "territory": "34:31", "period": "2026-Q1"},
                     headers=_h(shared, "PORT_A")).json()
    assert fig["value"] == pytest.approx(48.0)


def test_an_admin_sees_the_values_with_their_flag(client, shared):
    rows = _by_period(client.get("/api/v1/results", params={"indicator": DWELL, "territory": "34:31"},
                                 headers=_h(shared, "CITY_ADMIN")).json())
    assert rows["2025-Q4"]["value"] == pytest.approx(36.0) and rows["2025-Q4"]["obs_conf"] == "C"


def test_the_sdmx_results_flow_publishes_c_without_a_value(client, shared):
    """A member's read of the results flow (SDMX-CSV and JSON): OBS_CONF C, no OBS_VALUE."""
    r = client.get(f"/sdmx/data/KINHTESO_RESULTS,{DWELL}/Q.34_31...", params={"format": "json"},
                   headers=_h(shared, "READER"))
    assert r.status_code == 200, r.text
    obs = {o["TIME_PERIOD"]: o for o in r.json()["observations"]}
    assert obs["2025-Q4"]["OBS_VALUE"] is None and obs["2025-Q4"]["OBS_CONF"] == "C"
    assert obs["2025-Q3"]["OBS_VALUE"] == pytest.approx(48.0) and obs["2025-Q3"]["OBS_CONF"] == "F"
    text = client.get(f"/sdmx/data/KINHTESO_RESULTS,{DWELL}/Q.34_31...", headers=_h(shared, "READER")).text
    assert text.splitlines()[0].endswith(",OBS_CONF") and ",36.0," not in text
    admin = client.get(f"/sdmx/data/KINHTESO_RESULTS,{DWELL}", params={"format": "json"},
                       headers=_h(shared, "CITY_ADMIN")).json()
    assert {o["TIME_PERIOD"]: o["OBS_VALUE"] for o in admin["observations"]}["2025-Q4"] == pytest.approx(36.0)


def test_the_local_cli_keeps_every_value_and_shows_its_units(shared, client):
    from kinhteso.cli import main

    import shutil  # the server owns the store: the command line reads a copy

    root, _ = shared
    copy = root.parent / "cli-copy"
    if not copy.exists():
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.lock", "tmp"))
    r = CliRunner().invoke(main, ["results", "--indicator", DWELL, "--territory", "34:31", "--format", "json",
                                  "--workspace", str(copy)])
    assert r.exit_code == 0, r.output
    rows = _by_period(json.loads(r.stdout))
    assert rows["2025-Q4"]["value"] == pytest.approx(36.0) and rows["2025-Q4"]["units"] == 2
    assert rows["2025-Q3"]["units"] == 3


# --- contributions and the changes feed ---------------------------------------------------------------------------
def test_each_member_sees_its_own_contribution_named(client, shared):
    r = client.get("/api/v1/contributions", headers=_h(shared, "PORT_A"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["member"] == "PORT_A" and body["min_units"] == 3
    [v] = body["vintages"]
    assert v["kind"] == "records" and v["dataset"] == "container_events" and DWELL in v["indicators"]
    fed = _by_period(v["fed"])
    q3 = fed["2025-Q3"]
    assert (q3["own_records"], q3["cell_records"], q3["units"], q3["obs_conf"]) == (4, 6, 3, "F")
    assert q3["text"]["en"].startswith("your 4 of 6 container events") and "34:31 2025-Q3 fed " + DWELL in q3["text"]["en"]
    assert q3["text"]["vi"].startswith("4/6 bản ghi")
    dwell = {i["indicator"]: i for i in q3["indicators"]}[DWELL]
    assert dwell["value"] == pytest.approx(48.0) and dwell["run_id"]
    q4 = fed["2025-Q4"]  # 2 units, PORT_B's records too: its own count, not the cell's
    assert q4["own_records"] == 2 and q4["cell_records"] is None and q4["obs_conf"] == "C"
    assert "your 2 of C" in q4["text"]["en"]
    assert {i["indicator"]: i for i in q4["indicators"]}[DWELL]["value"] is None
    q1 = fed["2026-Q1"]  # all its own
    assert q1["cell_records"] == 2 and {i["indicator"]: i for i in q1["indicators"]}[DWELL]["value"] == pytest.approx(48.0)
    other = client.get("/api/v1/contributions", headers=_h(shared, "NOGRANT")).json()
    assert other["vintages"] == []
    anonymous = client.get("/api/v1/contributions")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHENTICATED"


def test_the_changes_feed_names_the_contributors_of_each_run(client, shared):
    items = client.get("/api/v1/changes", params={"since": 0}, headers=_h(shared, "PORT_A")).json()["items"]
    runs = [i for i in items if i["kind"] == "run" and DWELL in i["indicators"]]
    assert runs and runs[-1]["contributors"] == ["PORT_A", "PORT_B"] and runs[-1]["yours"] is True
    vints = [i for i in items if i["kind"] == "vintage"]
    assert [i["yours"] for i in vints] == [True, False]
    seen = client.get("/api/v1/changes", params={"since": 0}, headers=_h(shared, "READER")).json()["items"]
    last = [i for i in seen if i["kind"] == "run" and DWELL in i["indicators"]][-1]
    assert last["contributors"] == ["PORT_A", "PORT_B"] and last["yours"] is False


# --- records under a grant, aggregates for everyone -------------------------------------------------------------------------
def test_records_are_the_caller_s_own_and_another_s_only_under_a_grant(client, shared):
    own = client.get("/api/v1/records/container_events", headers=_h(shared, "PORT_B"))
    assert own.status_code == 200, own.text
    assert len(own.json()) == 4 and {r["source"] for r in own.json()} == {"PORT_B"}
    for who in ("PORT_B", "STAR"):  # a member's own grant, or '*' on every indicator: not a grant naming records
        r = client.get("/api/v1/records/container_events", params={"source": "PORT_A"}, headers=_h(shared, who))
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN", r.text
        assert "records:container_events" in r.json()["en"] and r.json()["vi"] != r.json()["en"]
    vi = client.get("/api/v1/records/container_events", params={"source": "PORT_A"}, headers=_h(shared, "PORT_B", "vi"))
    assert vi.json()["message"].startswith("Thành viên 'PORT_B' chỉ đọc được bản ghi của chính mình")
    granted = client.get("/api/v1/records/container_events", params={"source": "PORT_A"}, headers=_h(shared, "GRANTED"))
    assert granted.status_code == 200 and len(granted.json()) == 8 and {r["source"] for r in granted.json()} == {"PORT_A"}
    every = client.get("/api/v1/records/container_events", params={"source": "*", "limit": 5}, headers=_h(shared, "GRANTED"))
    assert every.status_code == 200 and len(every.json()) == 5
    outside = client.get("/api/v1/records/container_events", params={"source": "PORT_A", "territory": "34:79"},
                         headers=_h(shared, "GRANTED"))
    assert outside.status_code == 403
    assert client.get("/api/v1/records/nothing_here", headers=_h(shared, "PORT_B")).status_code == 404
    assert client.get("/api/v1/records/container_events").status_code == 401


def test_a_grant_names_a_dataset_s_records_or_is_refused(shared, tmp_path):
    from kinhteso.errors import UsageError
    from kinhteso.service import members as M
    from kinhteso.service.workspace import InitRequest, init
    from kinhteso.workspace import Workspace

    init(InitRequest(tmp_path / "ws", published=False))
    with Workspace.open(tmp_path / "ws") as ws:
        M.add_member(ws, M.MemberAddRequest("X", "x"))
        assert M.grant(ws, M.GrantRequest("X", "reader", "records:vessel_calls")).indicators == ("RECORDS:VESSEL_CALLS",)
        with pytest.raises(UsageError) as e:
            M.grant(ws, M.GrantRequest("X", "reader", "records:no_such_dataset"))
        assert e.value.code == "UNKNOWN_INDICATOR"


def test_aggregates_are_published_under_the_rule(client, shared):
    r = client.get("/api/v1/aggregates/container_events")
    assert r.status_code == 200, r.text
    cells = _by_period(r.json())
    assert (cells["2025-Q3"]["records"], cells["2025-Q3"]["units"], cells["2025-Q3"]["obs_conf"]) == (6, 3, "F")
    assert cells["2025-Q4"]["records"] is None and cells["2025-Q4"]["obs_conf"] == "C"
    by = client.get("/api/v1/aggregates/container_events", params={"by": "event_type", "territory": "34:31"}).json()
    q3 = {c["event_type"]: c for c in by if c["period"] == "2025-Q3"}
    assert q3["DISC"]["records"] == 3 and q3["GTOT"]["records"] == 3
    admin = _by_period(client.get("/api/v1/aggregates/container_events", headers=_h(shared, "CITY_ADMIN")).json())
    assert admin["2025-Q4"]["records"] == 4 and admin["2025-Q4"]["obs_conf"] == "C"
    bad = client.get("/api/v1/aggregates/container_events", params={"by": "equipment"})
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_BREAKDOWN"


# --- the dashboard ---------------------------------------------------------------------------------------------------------
def test_the_dashboard_shows_c_with_the_rule_and_names_the_agencies(client):
    page = client.get("/province/34_31", params={"period": "2025", "lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert 'id="table-port"' in html and 'class="conf"' in html and "Threshold rule" in html
    assert 'id="table-record_sources"' in html and "Member PORT_A" in html and "Member PORT_B" in html
    sources = client.get("/download/province/record_sources.csv", params={"territory": "34_31", "period": "2025",
                                                                          "lang": "en"}).content.decode("utf-8-sig")
    assert "PORT_A, PORT_B" in sources  # the codes, for analysts, in the downloads
    csv_text = client.get("/download/province/port.csv", params={"territory": "34_31", "period": "2025",
                                                                  "lang": "en"}).content.decode("utf-8-sig")
    lines = [x for x in csv_text.splitlines() if x.startswith("2025-Q")]
    assert lines[0].startswith("2025-Q3,48.0") and lines[1].startswith("2025-Q4,C,C,C")
    sdmx = client.get("/download/province/port.sdmx.csv", params={"territory": "34_31", "period": "2025"}).text
    assert "2025-Q3" in sdmx and "2025-Q4" not in sdmx  # a suppressed cell is not published


def test_the_briefing_of_the_workspace_s_own_analyst_keeps_the_values(client):
    from kinhteso.service.report import ReportRequest, build_report

    ws = client.app.state.ws
    port = next(t for t in build_report(ws, ReportRequest("34:31", "2025", lang="en")).tables() if t.key == "port")
    assert port.rows[1][:2] == ["2025-Q4", pytest.approx(36.0)]
