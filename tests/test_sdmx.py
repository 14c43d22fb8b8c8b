"""SDMX (issue 12, item 6): ``GET /sdmx/data/{flow}[/{key}]`` answers SDMX-CSV 2.0, and
``kinhteso ingest`` takes SDMX-CSV 2.0 files.

- pysdmx (the writer) reproduces the SDMX-CSV 2.0 standard's own examples, byte for byte;
- the API's output parses with pysdmx and gives back the stored values exactly;
- key filters (wildcards, ``+``), ``startPeriod``/``endPeriod``, ``asOf``, the media type, JSON, 406;
- territory codes made SDMX-safe and back (``34:31`` ↔ ``34_31``, ``VN`` ↔ ``VN``) for every key;
- an SDMX-CSV file ingests (``;`` separator, ``STRUCTURE[;]``, ``labels=both``); an export of the
  API ingests back to the same observations, and to the same vintage from the same source;
- refusals: bad flows and keys (400), unknown flows and no data (404), ``D`` actions, result
  flows and non-SDMX territory codes in a file (whole file refused, bilingual).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest

from kinhteso import sdmx
from kinhteso.errors import InputRejected
from kinhteso.ingest.load import ingest_file
from kinhteso.workspace import Workspace

pysdmx = pytest.importorskip("pysdmx")
from pysdmx.io.csv.sdmx20.reader import read as read_sdmx_csv  # noqa: E402

CSV_TYPE = "application/vnd.sdmx.data+csv;version=2.0.0"
T1 = dt.datetime(2025, 1, 10, 9, 0)
T2 = dt.datetime(2026, 2, 10, 9, 0)

LONG_V1 = [
    ("GRDP_VA", "31", "34", "26", "2023", "100.5", "VND_BN", "current", "A"),
    ("GRDP_VA", "31", "34", "26", "2024", "110.25", "VND_BN", "current", "P"),
    ("GRDP_VA", "31", "34", "62", "2024", "0.1", "VND_BN", "current", "A"),
    ("GRDP_VA", "31", "34", "26", "2024-Q1", "27.5", "VND_BN", "current", "A"),
    ("GRDP_VA", "31", "34", "26", "2024-Q2", "28.75", "VND_BN", "current", "A"),
    ("GRDP_VA", "01", "34", "26", "2024", "1234567.891", "VND_BN", "current", "A"),
    ("GRDP_VA", "VN", "", "26", "2024", "9999999.5", "VND_BN", "current", "A"),
    ("GRDP_VA", "31", "34", "26", "2024", "95.125", "VND_BN", "constant_2010", "E"),
]
HEADER = ["indicator", "territory", "basis", "sector", "period", "value", "unit", "price_basis", "status"]


def _write_long(path: Path, rows) -> Path:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _ingest(ws: Workspace, path: Path, *, source: str = "cuc-thong-ke", received_at=None):
    return ingest_file(ws.store, path, source=source, indicators=ws.indicators(), workdir=ws.tmp,
                       received_at=received_at)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A workspace with two vintages of GRDP_VA (a revision at T2), results of DE_SHARE, a reader
    on everything and a reader of 34:31 only; yields (client, workspace root, headers)."""
    from fastapi.testclient import TestClient

    from kinhteso.api.app import create_app
    from kinhteso.service.members import (GrantRequest, MemberAddRequest, TokenCreateRequest, add_member,
                                          create_token, grant)
    from kinhteso.store import RunRecord

    root = tmp_path_factory.mktemp("sdmx") / "ws"
    ws = Workspace.init(root)
    v1 = _ingest(ws, _write_long(root / "v1.csv", LONG_V1), received_at=T1)
    revised = [("GRDP_VA", "31", "34", "26", "2024", "111.75", "VND_BN", "current", "A")]
    v2 = _ingest(ws, _write_long(root / "v2.csv", revised), received_at=T2)
    assert (v1.vintage_id, v2.vintage_id) == (1, 2)
    values = pd.DataFrame([
        {"indicator": "DE_SHARE", "territory": "34:31", "sector": "_T", "period": "2024", "view": "gso",
         "value": 21.875, "unit": "PCT", "price_basis": "current", "status": "E", "basis": "estimated"},
        {"indicator": "DE_SHARE", "territory": "34:31", "sector": "_T", "period": "2025-Q1", "view": "gso",
         "value": 22.5, "unit": "PCT", "price_basis": "current", "status": "E", "basis": "benchmarked"},
        {"indicator": "DE_SHARE", "territory": "34:01", "sector": "_T", "period": "2024", "view": "",
         "value": 30.0, "unit": "PCT", "price_basis": "current", "status": "E", "basis": "estimated"},
    ])
    ws.store.add_results(RunRecord("quarterly", "denton-cholette", {"t": 1}, {"vintages": [1]}, "test"), values)
    nowcast = pd.DataFrame([
        {"indicator": "DE_SHARE", "territory": "34:31", "sector": "_T", "period": "2025-Q1", "view": "gso",
         "value": 99.0, "unit": "PCT", "price_basis": "current", "status": "F", "basis": "nowcast"}])
    ws.store.add_results(RunRecord("nowcast", "bridge", {"t": 2}, {"vintages": [1]}, "test"), nowcast)
    add_member(ws, MemberAddRequest(code="gso", name="GSO"))
    grant(ws, GrantRequest(member="gso", role="reader"))
    add_member(ws, MemberAddRequest(code="hp", name="Hải Phòng", kind="province"))
    grant(ws, GrantRequest(member="hp", role="reader", territories=("34:31",)))
    tokens = {m: create_token(ws, TokenCreateRequest(member=m)).token for m in ("gso", "hp")}
    ws.close()
    with TestClient(create_app(root)) as client:
        yield client, root, {m: {"Authorization": f"Bearer {t}", "Accept-Language": "en"} for m, t in tokens.items()}


def _get(served, url: str, member: str = "gso", **headers):
    client, _root, auth = served
    return client.get(url, headers={**auth[member], **headers})


def _parsed(text: str) -> pd.DataFrame:
    """The data of an SDMX-CSV 2.0 text as pysdmx reads it (one dataset expected)."""
    datasets = read_sdmx_csv(text)
    assert len(datasets) == 1
    return datasets[0].data


# --- the library reproduces the standard --------------------------------------------------------
def _schema(agency: str, fid: str, version: str, dims, measures, attrs, context: str = "dataflow"):
    from pysdmx.model import Component, Components, Concept, DataType, Role, Schema

    def comp(cid, role, dtype=DataType.STRING):
        return Component(id=cid, required=role != Role.ATTRIBUTE, role=role, concept=Concept(id=cid, dtype=dtype),
                         attachment_level="O" if role == Role.ATTRIBUTE else None)

    comps = [comp(d, Role.DIMENSION) for d in dims] + [comp(m, Role.MEASURE, DataType.DOUBLE) for m in measures]
    comps += [comp(a, Role.ATTRIBUTE) for a in attrs]
    return Schema(context=context, agency=agency, id=fid, version=version, components=Components(comps))


def test_pysdmx_reproduces_the_sdmx_csv_2_0_examples():
    """The field guide's "Ordinary case" (with a custom column), "Varying actions" and data for a
    data structure definition (https://github.com/sdmx-twg/sdmx-csv, data message field guide)."""
    from pysdmx.io.csv.sdmx20.writer import write
    from pysdmx.io.pd import PandasDataset
    from pysdmx.model.dataset import ActionType

    ordinary = (
        "STRUCTURE,STRUCTURE_ID,ACTION,DIM_1,DIM_2,DIM_3,OBS_VALUE,ATTR_2,ATTR_3,ATTR_1,UPDATED\n"
        'dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,2014-01,12.4,Y,"Normal, special and other values",N,2021-01-22T13:15:41Z\n'
        'dataflow,ESTAT:NA_MAIN(1.6.0),I,A,B,2014-02,10.8,Y,"Normal, special and other values",Y,2021-01-22T13:15:41Z\n')
    s = _schema("ESTAT", "NA_MAIN", "1.6.0", ["DIM_1", "DIM_2", "DIM_3"], ["OBS_VALUE"], ["ATTR_2", "ATTR_3", "ATTR_1"])
    df = pd.DataFrame({"DIM_1": ["A", "A"], "DIM_2": ["B", "B"], "DIM_3": ["2014-01", "2014-02"],
                       "OBS_VALUE": [12.4, 10.8], "ATTR_2": ["Y", "Y"],
                       "ATTR_3": ["Normal, special and other values"] * 2, "ATTR_1": ["N", "Y"],
                       "UPDATED": ["2021-01-22T13:15:41Z"] * 2})
    assert write([PandasDataset(structure=s, data=df, action=ActionType.Information)]) == ordinary

    actions = ("STRUCTURE,STRUCTURE_ID,ACTION,DIM_1,DIM_2,DIM_3,OBS_VALUE,ATTR_1\n"
               "dataflow,ESTAT:NA_MAIN(1.6.0),A,A,B,2014-01,12.4,X\n"
               "dataflow,ESTAT:NA_MAIN(1.6.0),R,A,B,2014-02,10.8,Y\n")
    s = _schema("ESTAT", "NA_MAIN", "1.6.0", ["DIM_1", "DIM_2", "DIM_3"], ["OBS_VALUE"], ["ATTR_1"])
    rows = [({"DIM_1": "A", "DIM_2": "B", "DIM_3": "2014-01", "OBS_VALUE": 12.4, "ATTR_1": "X"}, ActionType.Append),
            ({"DIM_1": "A", "DIM_2": "B", "DIM_3": "2014-02", "OBS_VALUE": 10.8, "ATTR_1": "Y"}, ActionType.Replace)]
    assert write([PandasDataset(structure=s, data=pd.DataFrame([r]), action=a) for r, a in rows]) == actions

    dsd = ("STRUCTURE,STRUCTURE_ID,ACTION,DIM_1,DIM_2,DIM_3,OBS_VALUE,ATTR_1\n"
           "datastructure,AGENCY:DF_ID(1.0.0),I,A,B,2014-01,12.4,N\n"
           "datastructure,AGENCY:DF_ID(1.0.0),I,A,B,2014-02,10.8,Y\n")
    s = _schema("AGENCY", "DF_ID", "1.0.0", ["DIM_1", "DIM_2", "DIM_3"], ["OBS_VALUE"], ["ATTR_1"],
                context="datastructure")
    df = pd.DataFrame({"DIM_1": ["A", "A"], "DIM_2": ["B", "B"], "DIM_3": ["2014-01", "2014-02"],
                       "OBS_VALUE": [12.4, 10.8], "ATTR_1": ["N", "Y"]})
    assert write([PandasDataset(structure=s, data=df)]) == dsd
    # and pysdmx reads the examples back
    assert read_sdmx_csv(ordinary)[0].data["OBS_VALUE"].astype(float).tolist() == [12.4, 10.8]


# --- codes -----------------------------------------------------------------------------------------
def test_territory_codes_both_ways_for_every_territory():
    from kinhteso.reference.territories import territories

    keys = [t.key for t in territories()]
    assert len(keys) > 90  # VN, 63 and 34 provinces
    codes = [sdmx.sdmx_territory(k) for k in keys]
    assert len(set(codes)) == len(keys)
    for key, code in zip(keys, codes):
        assert sdmx._ID.fullmatch(code), code
        assert sdmx.territory_key(code) == key
    assert (sdmx.sdmx_territory("34:31"), sdmx.sdmx_territory("63:01"), sdmx.sdmx_territory("VN")) == \
        ("34_31", "63_01", "VN")
    assert sdmx.territory_key("31") is None and sdmx.territory_key("P34_31") is None


def test_flow_refs():
    assert sdmx.parse_flow_ref("GRDP_VA") == ("KINHTESO", "GRDP_VA")
    assert sdmx.parse_flow_ref("kinhteso,grdp_va,1.0") == ("KINHTESO", "GRDP_VA")
    assert sdmx.parse_flow_ref("KINHTESO_RESULTS,DE_SHARE,latest") == ("KINHTESO_RESULTS", "DE_SHARE")
    for bad in ("GRDP VA", "A,B,2.0", "A,B,C,D", "../x", ""):
        assert sdmx.parse_flow_ref(bad) is None


# --- the API ---------------------------------------------------------------------------------------
def test_output_parses_with_pysdmx_and_reproduces_the_values(served):
    r = _get(served, "/sdmx/data/GRDP_VA")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == CSV_TYPE
    assert r.text.startswith("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,TERRITORY,SECTOR,PRICE_BASIS,TIME_PERIOD,"
                             "OBS_VALUE,UNIT_MEASURE,OBS_STATUS,")
    data = _parsed(r.text)
    got = {(row.TERRITORY, row.SECTOR, row.PRICE_BASIS, row.TIME_PERIOD): (float(row.OBS_VALUE), row.OBS_STATUS,
                                                                           row.UNIT_MEASURE, row.FREQ, row.VINTAGE)
           for row in data.itertuples()}
    ws = Workspace.open(served[1])
    try:
        obs = ws.store.observations(indicator="GRDP_VA")
    finally:
        ws.close()
    want = {(sdmx.sdmx_territory(o.territory), o.sector, o.price_basis, o.period):
            (o.value, o.status, o.unit, "Q" if "-Q" in o.period else "A", str(o.vintage_id)) for o in obs.itertuples()}
    assert got == want
    assert got[("34_31", "26", "current", "2024")][0] == 111.75  # the revision (vintage 2) is the latest
    assert got[("34_01", "26", "current", "2024")][0] == 1234567.891
    assert read_sdmx_csv(r.text)[0].short_urn == "Dataflow=KINHTESO:GRDP_VA(1.0)"


def test_key_filters(served):
    def keys(url):
        r = _get(served, url)
        assert r.status_code == 200, (url, r.text)
        d = _parsed(r.text)
        return sorted(zip(d["TERRITORY"], d["SECTOR"], d["PRICE_BASIS"], d["TIME_PERIOD"]))

    everything = keys("/sdmx/data/GRDP_VA")
    assert keys("/sdmx/data/GRDP_VA/all") == everything == keys("/sdmx/data/GRDP_VA/...")
    assert keys("/sdmx/data/GRDP_VA/Q...") == [("34_31", "26", "current", "2024-Q1"),
                                             ("34_31", "26", "current", "2024-Q2")]
    assert keys("/sdmx/data/GRDP_VA/A.34_01+VN.26.current") == [("34_01", "26", "current", "2024"),
                                                              ("VN", "26", "current", "2024")]
    assert keys("/sdmx/data/GRDP_VA/*.34_31.62.*") == [("34_31", "62", "current", "2024")]
    assert keys("/sdmx/data/GRDP_VA/..26.constant_2010") == [("34_31", "26", "constant_2010", "2024")]
    assert keys("/sdmx/data/KINHTESO,GRDP_VA,1.0/A.VN..") == [("VN", "26", "current", "2024")]


def test_start_and_end_period(served):
    def periods(url):
        r = _get(served, url)
        assert r.status_code == 200, (url, r.text)
        return sorted(set(_parsed(r.text)["TIME_PERIOD"]))

    assert periods("/sdmx/data/GRDP_VA/.34_31.26.current?startPeriod=2024") == ["2024", "2024-Q1", "2024-Q2"]
    assert periods("/sdmx/data/GRDP_VA/.34_31.26.current?endPeriod=2023") == ["2023"]
    assert periods("/sdmx/data/GRDP_VA/.34_31.26.current?startPeriod=2024-Q2&endPeriod=2024-Q4") == ["2024-Q2"]
    assert periods("/sdmx/data/GRDP_VA/.34_31.26.current?startPeriod=2024-01-01&endPeriod=2024-06-30") == \
        ["2024-Q1", "2024-Q2"]
    r = _get(served, "/sdmx/data/GRDP_VA?startPeriod=2030")
    assert r.status_code == 404 and r.json()["code"] == "SDMX_NO_RESULTS"
    for bad in ("startPeriod=2024-Q5", "endPeriod=soon", "startPeriod=2025&endPeriod=2024"):
        r = _get(served, f"/sdmx/data/GRDP_VA?{bad}")
        assert r.status_code == 400 and r.json()["code"] == "BAD_PERIOD", bad


def test_as_of(served):
    def value(as_of):
        r = _get(served, f"/sdmx/data/GRDP_VA/A.34_31.26.current?endPeriod=2024&startPeriod=2024&asOf={as_of}")
        assert r.status_code == 200, r.text
        return float(_parsed(r.text)["OBS_VALUE"].iloc[0])

    assert value("2025-06-01") == 110.25            # before the revision
    assert value("2026-03-01T00:00:00") == 111.75   # after it
    assert value("2025-06-01T00:00:00Z") == 110.25  # a moment with a zone
    r = _get(served, "/sdmx/data/GRDP_VA?asOf=2020-01-01")  # before anything was received
    assert r.status_code == 404
    r = _get(served, "/sdmx/data/GRDP_VA?asOf=yesterday")
    assert r.status_code == 400 and r.json()["code"] == "BAD_AS_OF"


def test_media_types(served):
    r = _get(served, "/sdmx/data/GRDP_VA/A.VN..", Accept="application/vnd.sdmx.data+csv; version=2.0.0")
    assert r.status_code == 200 and r.headers["content-type"] == CSV_TYPE
    r = _get(served, "/sdmx/data/GRDP_VA/A.VN..", Accept="text/csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("STRUCTURE,STRUCTURE_ID,ACTION,")
    r = _get(served, "/sdmx/data/GRDP_VA/A.VN..", Accept="application/json")
    body = r.json()
    assert body["structure"] == "KINHTESO:GRDP_VA(1.0)"
    assert body["observations"] == [{"FREQ": "A", "TERRITORY": "VN", "SECTOR": "26", "PRICE_BASIS": "current",
                                     "TIME_PERIOD": "2024", "OBS_VALUE": 9999999.5, "UNIT_MEASURE": "VND_BN",
                                     "OBS_STATUS": "A", "VINTAGE": "1", "SOURCE": "cuc-thong-ke",
                                     "BACKCAST": "false", "ILLUSTRATIVE": "false"}]
    assert _get(served, "/sdmx/data/GRDP_VA/A.VN..?format=json").json() == body
    for accept in ("application/xml", "application/vnd.sdmx.data+csv;version=1.0.0"):
        r = _get(served, "/sdmx/data/GRDP_VA", Accept=accept)
        assert r.status_code == 406 and r.json()["code"] == "SDMX_NOT_ACCEPTABLE"
        assert r.json()["vi"] and r.json()["en"]


def test_results_flow(served):
    r = _get(served, "/sdmx/data/KINHTESO_RESULTS,DE_SHARE")
    assert r.status_code == 200, r.text
    assert r.text.startswith("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,TERRITORY,SECTOR,PRICE_BASIS,VIEW,TIME_PERIOD,"
                             "OBS_VALUE,UNIT_MEASURE,OBS_STATUS,RESULT_BASIS,RUN_ID,")
    d = _parsed(r.text)
    got = {(t, v, p): (float(x), b) for t, v, p, x, b in
           zip(d["TERRITORY"], d["VIEW"], d["TIME_PERIOD"], d["OBS_VALUE"], d["RESULT_BASIS"])}
    # one value per key: the benchmarked quarter wins over the nowcast of the same key
    assert got == {("34_31", "gso", "2024"): (21.875, "estimated"), ("34_31", "gso", "2025-Q1"): (22.5, "benchmarked"),
                   ("34_01", "_Z", "2024"): (30.0, "estimated")}
    r = _get(served, "/sdmx/data/KINHTESO_RESULTS,DE_SHARE/A.34_01..._Z")
    assert _parsed(r.text)["OBS_VALUE"].astype(float).tolist() == [30.0]
    r = _get(served, "/sdmx/data/KINHTESO_RESULTS,DE_SHARE/A.34_01..")  # results keys have five positions
    assert r.status_code == 400 and r.json()["code"] == "SDMX_BAD_KEY"


def test_bad_requests(served):
    cases = {
        "/sdmx/data/GRDP_VA/A.34:31..": (400, "SDMX_BAD_KEY"),
        "/sdmx/data/GRDP_VA/A.34_31": (400, "SDMX_BAD_KEY"),
        "/sdmx/data/GRDP_VA/A.34_31.26.current.x": (400, "SDMX_BAD_KEY"),
        "/sdmx/data/GRDP VA": (400, "SDMX_BAD_FLOW"),
        "/sdmx/data/KINHTESO,GRDP_VA,9.9": (400, "SDMX_BAD_FLOW"),
        "/sdmx/data/NO_SUCH_INDICATOR": (404, "SDMX_UNKNOWN_FLOW"),
        "/sdmx/data/ESTAT,GRDP_VA": (404, "SDMX_UNKNOWN_FLOW"),
        "/sdmx/data/GRDP_VA/A.63_31..": (404, "SDMX_NO_RESULTS"),
        "/sdmx/data/GRDP_VA/M...": (404, "SDMX_NO_RESULTS"),
        "/sdmx/data/GRDP_VA/A.34_99..": (404, "SDMX_NO_RESULTS"),
        "/sdmx/data/GRDP_VA/A.99_99..": (404, "SDMX_NO_RESULTS"),
    }
    for url, (status, code) in cases.items():
        r = _get(served, url)
        assert (r.status_code, r.json()["code"]) == (status, code), url
        body = r.json()
        assert body["message"] == body["en"] and body["vi"] != body["en"]
    r = _get(served, "/sdmx/data/GRDP_VA/A.34:31..", **{"Accept-Language": "vi"})
    assert r.json()["message"] == r.json()["vi"]


def test_authorisation(served):
    client = served[0]
    assert client.get("/sdmx/data/GRDP_VA/A.34_31..").status_code == 401
    assert _get(served, "/sdmx/data/GRDP_VA/A.34_31..", member="hp").status_code == 200
    assert _get(served, "/sdmx/data/GRDP_VA/A.34_01..", member="hp").status_code == 403
    assert _get(served, "/sdmx/data/GRDP_VA", member="hp").status_code == 403  # an open query reaching 34:01
    routes = [r for r in client.app.routes if getattr(r, "path", "").startswith("/sdmx/")]
    assert len(routes) == 2 and all(r.openapi_extra == {"x-kinhteso-action": "read"} for r in routes)


# --- ingestion ---------------------------------------------------------------------------------------
@pytest.fixture
def ws(tmp_path):
    w = Workspace.init(tmp_path / "ws")
    yield w
    w.close()


def test_ingest_an_sdmx_csv_file(ws, tmp_path):
    f = tmp_path / "grdp.csv"
    f.write_text(
        "STRUCTURE[|];STRUCTURE_ID: Name;ACTION;FREQ: Frequency;TERRITORY: Territory;SECTOR;PRICE_BASIS;"
        "TIME_PERIOD;OBS_VALUE;UNIT_MEASURE;OBS_STATUS\n"
        "dataflow;KINHTESO:GRDP_VA(1.0): Value added;I;A: Annual;34_31: Hải Phòng;26;current;2024;123456.7;VND_BN;A\n"
        "dataflow;KINHTESO:GRDP_VA(1.0): Value added;A;Q;34_31;26;;2024-Q1;30000;VND_BN;P\n"
        "dataflow;KINHTESO:GRDP_VA(1.0): Value added;;A;VN;_T;;2024;11500000;VND_BN;\n",
        encoding="utf-8")
    r = _ingest(ws, f)
    assert (r.n_rows, r.layout, r.already_stored) == (3, "sdmx", False)
    obs = ws.store.observations(indicator="GRDP_VA").set_index(["territory", "sector", "period"])
    assert obs.loc[("34:31", "26", "2024"), "value"] == 123456.7
    assert obs.loc[("34:31", "26", "2024-Q1"), ["value", "status"]].tolist() == [30000.0, "P"]
    assert obs.loc[("VN", "_T", "2024"), ["price_basis", "status"]].tolist() == ["current", "A"]
    assert ws.store.vintage(r.vintage_id)["sha256"] == __import__("hashlib").sha256(f.read_bytes()).hexdigest()


def test_round_trip_api_export_ingests_back(served, ws, tmp_path):
    r = _get(served, "/sdmx/data/GRDP_VA")
    export = tmp_path / "export.csv"
    export.write_text(r.text, encoding="utf-8")
    first = _ingest(ws, export, source="gso")
    assert first.n_rows == len(_parsed(r.text))
    back = ws.store.observations(indicator="GRDP_VA")
    src = Workspace.open(served[1])
    try:
        orig = src.store.observations(indicator="GRDP_VA")
    finally:
        src.close()
    cols = ["indicator", "territory", "sector", "period", "value", "unit", "price_basis", "status"]
    assert back[cols].sort_values(cols).reset_index(drop=True).equals(orig[cols].sort_values(cols).reset_index(drop=True))
    # the same rows again (re-exported from this workspace: other bytes) are the same vintage
    from fastapi.testclient import TestClient

    from kinhteso.api.app import create_app
    from kinhteso.service.members import GrantRequest, MemberAddRequest, TokenCreateRequest, add_member, create_token, grant

    add_member(ws, MemberAddRequest(code="gso", name="GSO"))
    grant(ws, GrantRequest(member="gso", role="reader"))
    token = create_token(ws, TokenCreateRequest(member="gso")).token
    root = ws.root
    ws.close()
    with TestClient(create_app(root)) as client:
        again = client.get("/sdmx/data/GRDP_VA", headers={"Authorization": f"Bearer {token}"}).text
    assert again != r.text  # VINTAGE and SOURCE differ
    (tmp_path / "again.csv").write_text(again, encoding="utf-8")
    w2 = Workspace.open(root)
    try:
        second = _ingest(w2, tmp_path / "again.csv", source="gso")
        assert (second.already_stored, second.vintage_id) == (True, first.vintage_id)
        assert len(w2.store.vintages()) == 1
    finally:
        w2.close()


def test_a_results_export_is_never_ingested_as_a_submission(served, ws, tmp_path):
    f = tmp_path / "results.csv"
    f.write_text(_get(served, "/sdmx/data/KINHTESO_RESULTS,DE_SHARE").text, encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        _ingest(ws, f)
    assert {(p.code, p.column) for p in info.value.problems} == {("SDMX_STRUCTURE", "STRUCTURE_ID")}
    assert len(info.value.problems) == 3 and "never stored as submissions" in info.value.problems[0].en
    assert ws.store.observation_count() == 0


def test_ingest_refuses_what_cannot_be_a_submission(ws, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(
        "STRUCTURE,STRUCTURE_ID,ACTION,TERRITORY,SECTOR,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),D,34_31,26,2024,-,VND_BN\n"
        "dataflow,KINHTESO_RESULTS:GRDP_VA(1.0),I,34_31,26,2023,5,VND_BN\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),I,Hai Phong,26,2022,5,VND_BN\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),I,34_31,26,2021,x,VND_BN\n"
        "dataflow,KINHTESO:GRDP_VAA(1.0),I,34_99,26,2021,1,VND_BN\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),I,34_31,26,2020,1,VND_BN\n",
        encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        _ingest(ws, f)
    found = [(p.row, p.column, p.code) for p in info.value.problems]
    assert (2, "ACTION", "SDMX_ACTION") in found
    assert (3, "STRUCTURE_ID", "SDMX_STRUCTURE") in found
    assert (4, "TERRITORY", "UNKNOWN_TERRITORY") in found
    assert (5, "OBS_VALUE", "BAD_VALUE") in found
    assert (6, "STRUCTURE_ID", "UNKNOWN_INDICATOR") in found and (6, "TERRITORY", "UNKNOWN_TERRITORY") in found
    assert not any(row == 7 for row, _c, _code in found)
    delete = next(p for p in info.value.problems if p.code == "SDMX_ACTION")
    assert "kinhteso retract" in delete.en and "kinhteso retract" in delete.vi
    assert ws.store.observation_count() == 0
    # a header without what a submission needs is refused at once
    g = tmp_path / "header.csv"
    g.write_text("STRUCTURE,STRUCTURE_ID,ACTION,DIM_1,OBS_VALUE\ndataflow,KINHTESO:GRDP_VA(1.0),I,A,1\n",
                 encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        _ingest(ws, g)
    codes = {(p.code, p.column) for p in info.value.problems}
    assert ("MISSING_COLUMN", "TERRITORY") in codes and ("UNKNOWN_COLUMN", "DIM_1") in codes
    # every row refused: the reasons, not "no data rows"
    h = tmp_path / "delete.csv"
    h.write_text("STRUCTURE,STRUCTURE_ID,ACTION,TERRITORY,SECTOR,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE\n"
                 "dataflow,KINHTESO:GRDP_VA(1.0),D,34_31,26,2024,,VND_BN\n", encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        _ingest(ws, h)
    assert [p.code for p in info.value.problems] == ["SDMX_ACTION"]


def test_formula_like_text_is_neutralised_in_the_output():
    frame = pd.DataFrame([{"TERRITORY": "VN", "SECTOR": "_T", "PRICE_BASIS": "current", "TIME_PERIOD": "2024",
                           "FREQ": "A", "OBS_VALUE": -1.5, "UNIT_MEASURE": "PCT", "OBS_STATUS": "A",
                           "VINTAGE": "1", "SOURCE": "=HYPERLINK(\"x\")", "BACKCAST": "false",
                           "ILLUSTRATIVE": "false"}])
    text = sdmx.write_csv(sdmx.SUBMISSIONS, "DE_SHARE", frame)
    row = next(iter(pd.read_csv(io.StringIO(text), dtype=str).itertuples()))
    assert row.SOURCE.startswith("'=") and row.OBS_VALUE == "-1.5"


def test_vsic_2025_sector_codes_are_sdmx_safe_both_ways(ws, tmp_path):
    """A VSIC 2025 key (``v2025:K``) leaves as the SDMX code ``v2025_K`` and comes back as itself."""
    from kinhteso import sdmx

    assert [sdmx.sdmx_sector(k) for k in ("v2025:K", "v2025:582", "26", "_T")] == ["v2025_K", "v2025_582", "26", "_T"]
    assert all(sdmx._ID.fullmatch(sdmx.sdmx_sector(k)) for k in ("v2025:K", "v2025:6310"))
    f = tmp_path / "k.csv"
    f.write_text(
        "STRUCTURE,STRUCTURE_ID,ACTION,TERRITORY,SECTOR,PRICE_BASIS,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),I,VN,v2025_K,current,2026,50,VND_BN\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),I,VN,V2025_k,current,2026-Q1,55,VND_BN\n"
        "dataflow,KINHTESO:GRDP_VA(1.0),I,VN,K,current,2024,40,VND_BN\n", encoding="utf-8")
    r = _ingest(ws, f)
    assert r.n_rows == 3
    obs = ws.store.observations(indicator="GRDP_VA").set_index("period")["sector"].to_dict()
    assert obs == {"2026": "v2025:K", "2026-Q1": "v2025:K", "2024": "K"}
