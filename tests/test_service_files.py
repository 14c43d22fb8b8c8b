"""The service behind the file commands (io, composite, uncertainty, disaggregate): typed
requests in, data out; no click, no printing, no file written; the same bilingual errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kinhteso.errors import InputRejected, UsageError
from kinhteso.service import (
    CompositeRequest,
    DisaggregateRequest,
    IORequest,
    UncertaintyRequest,
    run_composite,
    run_disaggregate,
    run_io,
    run_uncertainty,
)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "Z.csv").write_text("code,ict,m1,m2\nict,4,6,2\nm1,10,20,8\nm2,6,4,10\n", encoding="utf-8")
    (tmp_path / "x.csv").write_text("code,value\nict,40\nm1,60\nm2,50\n", encoding="utf-8")
    (tmp_path / "gva.csv").write_text("code,value\nict,16\nm1,30\nm2,30\n", encoding="utf-8")
    (tmp_path / "meta.csv").write_text("iCode,Level,Weight,Direction,Parent,Type\na,1,1,1,Index,Indicator\n"
                                       "b,1,1,1,Index,Indicator\nIndex,2,1,1,,Aggregate\n", encoding="utf-8")
    (tmp_path / "data.csv").write_text("uCode,a,b\nX,1,2\nY,3,4\nZ,2,1\n", encoding="utf-8")
    (tmp_path / "low.csv").write_text("period,value\n2020,10\n2021,12\n", encoding="utf-8")
    return tmp_path


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_io_returns_the_tables_and_the_adb_estimate(files):
    before = _listing(files)
    res = run_io(IORequest(z_path=files / "Z.csv", x_path=files / "x.csv", factors={"gva": files / "gva.csv"},
                           digital=["ict"]))
    assert res.codes == ("ict", "m1", "m2") and list(res.tables) == ["A", "L", "multipliers", "linkages"]
    assert list(res.tables["multipliers"].columns) == ["code", "output_multiplier", "gva_effect", "gva_multiplier"]
    assert res.digital["value_added_factor"] == "gva" and res.coef is None and res.zero_output == ()
    assert _listing(files) == before


def test_io_request_is_checked_before_anything_is_read(files):
    with pytest.raises(UsageError, match="IO_INPUT"):
        run_io(IORequest(z_path=files / "Z.csv", table_path=files / "Z.csv"))
    with pytest.raises(UsageError, match="IO_NO_TARGET"):
        run_io(IORequest(z_path=files / "Z.csv", x_path=files / "x.csv", tables=False))
    with pytest.raises(UsageError, match="IO_COEF_OPTIONS"):
        run_io(IORequest(z_path=files / "Z.csv", x_path=files / "x.csv", coef_workspace=files / "ws"))


def test_composite_and_uncertainty_return_frames(files):
    res = run_composite(CompositeRequest(data=files / "data.csv", meta=files / "meta.csv"))
    assert res.scores.set_index("uCode")["rank"].to_dict() == {"Y": 1, "Z": 2, "X": 3}
    assert (res.n_units, res.n_aggregates) == (3, 1)
    ua = run_uncertainty(UncertaintyRequest(data=files / "data.csv", meta=files / "meta.csv", n=4, weight_noise=0.25))
    assert ua.runs == len(ua.design) and set(ua.rank_intervals["uCode"]) == {"X", "Y", "Z"}


def test_disaggregate_returns_the_series_and_rejects_bad_files(files):
    res = run_disaggregate(DisaggregateRequest(low=files / "low.csv", to="quarterly", method="denton-cholette"))
    assert res.series["period"].tolist()[:2] == ["2020-Q1", "2020-Q2"]
    assert res.series["value"].sum() == pytest.approx(22.0) and res.summary["method"] == "denton-cholette"
    (files / "bad.csv").write_text("period,value\n2020,1\n2020,x\n", encoding="utf-8")
    with pytest.raises(InputRejected) as err:
        run_disaggregate(DisaggregateRequest(low=files / "bad.csv", to="quarterly"))
    assert {p.code for p in err.value.problems} == {"PERIOD_DUPLICATE"}


def test_services_do_not_import_click():
    code = ("import sys, kinhteso.service.io, kinhteso.service.composite, kinhteso.service.disaggregate\n"
            "print('click' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
