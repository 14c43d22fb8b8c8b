"""Outputs safe to open, written atomically and never through a link; settings that cannot run as
SQL; every unexpected error a bilingual ``INTERNAL_ERROR`` (issue 11, items 3, 4 and 5)."""

from __future__ import annotations

import csv
import io
import os
import tomllib
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import write_long_csv

from kinhteso.cli import main
from kinhteso.errors import KinhtesoError, WorkspaceError
from kinhteso.safe_io import safe_cell, safe_frame, write_csv_atomic, write_text_atomic
from kinhteso.workspace import Workspace, check_settings, toml_string


def _run(*args: str):
    return CliRunner().invoke(main, ["--lang", "en", *args])


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


# --- safe_cell / safe_frame ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1:A2)", "\t=1", "\r=1", "=HYPERLINK(\"x\")",
                                  "-cmd|' /C calc'!A0", "-", "+", "-inf"])
def test_text_starting_like_a_formula_gets_a_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-1.5, -1, 0, 2.5e-7, True, None, "-1.5", "+3", "1e-05", "-.5", "Hà Nội",
                                   "GRDP_VA", "34:31", "2024-Q1", "", "a=b"])
def test_numbers_and_ordinary_text_are_kept(value):
    assert safe_cell(value) == value


def test_safe_frame_keeps_numeric_columns_and_neutralises_text_and_headers():
    df = pd.DataFrame({"code": ["=A1", "-x", "ok"], "value": [-1.5, 2.0, float("nan")], "n": [-3, 4, 5],
                       "=head": ["-2", "@x", None]})
    out = safe_frame(df)
    assert out["code"].tolist() == ["'=A1", "'-x", "ok"]
    assert out["value"].tolist()[:2] == [-1.5, 2.0] and out["n"].tolist() == [-3, 4, 5]
    assert out["'=head"].tolist()[:2] == ["-2", "'@x"]
    text = out.to_csv(index=False)
    assert "-1.5" in text and "'-1.5" not in text
    assert df["code"].tolist() == ["=A1", "-x", "ok"]  # the caller's frame is untouched


# --- atomic, never through a link ----------------------------------------------------------------


def test_a_symlink_destination_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    with pytest.raises(KinhtesoError) as err:
        write_csv_atomic(link, pd.DataFrame({"a": [1]}))
    assert err.value.code == "UNSAFE_PATH" and "symlink" in err.value.vi and "symbolic link" in err.value.en
    assert target.read_text(encoding="utf-8") == "keep me" and link.is_symlink()
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".*tmp"))


def test_atomic_write_leaves_no_temporary_file_and_a_normal_mode(tmp_path):
    p = write_text_atomic(tmp_path / "sub" / "a.csv", "x\n")
    assert p.read_text(encoding="utf-8") == "x\n"
    assert sorted(os.listdir(tmp_path / "sub")) == ["a.csv"]
    assert oct(p.stat().st_mode & 0o777) != oct(0o600)


def _good_file(tmp_path: Path, name: str = "good.csv") -> Path:
    return write_long_csv(tmp_path / name, [["GRDP_VA", "31", "63", "26", "2024", "1.5", "VND_BN"],
                                            ["GRDP", "31", "63", "_T", "2024", "571301.2", "VND_BN"]])


@pytest.fixture()
def ws(tmp_path) -> Path:
    from kinhteso.service.workspace import InitRequest, init

    init(InitRequest(tmp_path / "ws", published=False))
    return tmp_path / "ws"


def test_vintages_and_observations_csv_are_safe_to_open(tmp_path, ws):
    evil = "=HYPERLINK(\"http://evil\",\"x\")"
    r = _run("ingest", str(_good_file(tmp_path)), "--source", evil, "--workspace", str(ws))
    assert r.exit_code != 0 and "UNKNOWN_SOURCE" in r.output     # the CLI names registered sources only
    from kinhteso.service.data import IngestRequest, ingest
    from kinhteso.workspace import Workspace

    with Workspace.open(ws) as w:  # a hostile source stored by another way must still be safe to open
        assert all(o.ok for o in ingest(w, IngestRequest(files=(_good_file(tmp_path),), source=evil)))
    v = _run("vintages", "--format", "csv", "--workspace", str(ws))
    assert v.exit_code == 0, v.output
    rows = _rows(v.stdout)
    assert rows[1][rows[0].index("source")] == "'=HYPERLINK(\"http://evil\",\"x\")"
    o = _run("observations", "--format", "csv", "--workspace", str(ws))
    assert o.exit_code == 0, o.output
    rows = _rows(o.stdout)
    assert sorted(row[rows[0].index("value")] for row in rows[1:]) == ["1.5", "571301.2"]


def test_render_frame_csv_keeps_negative_numbers():
    from kinhteso.cli._common import render_frame

    text = render_frame(pd.DataFrame({"territory": ["-VN", "34:31"], "revision": [-1.5, 2.0]}), "csv")
    assert _rows(text) == [["territory", "revision"], ["'-VN", "-1.5"], ["34:31", "2.0"]]


def test_problem_report_is_safe_and_never_written_through_a_planted_link(tmp_path, ws):
    drop = tmp_path / "drop"
    drop.mkdir()
    bad = write_long_csv(drop / "=cmd.csv", [["GRDP_VA", "31", "63", "26", "2024", "=1+1", "VND_BN"]])
    victim = tmp_path / "victim.txt"
    victim.write_text("do not overwrite", encoding="utf-8")
    (drop / "=cmd.csv.problems.csv").symlink_to(victim)
    r = _run("ingest", str(bad), "--workspace", str(ws))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert victim.read_text(encoding="utf-8") == "do not overwrite"
    assert "UNSAFE_PATH" in r.output
    report = ws / "=cmd.csv.problems.csv"  # the next place: the workspace's folder
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = _rows(raw.decode("utf-8"))
    assert rows[0] == ["file", "row", "column", "code", "message_vi", "message_en"]
    for row in rows[1:]:
        assert all(not c or c[0] not in "=+-@\t\r" or c.lstrip("+-").replace(".", "", 1).isdigit() for c in row), row


def test_problem_report_beside_the_file_is_replaced_atomically(tmp_path, ws):
    bad = write_long_csv(tmp_path / "bad.csv", [["GRDP_VA", "31", "63", "26", "2024", "abc", "VND_BN"]])
    old = tmp_path / "bad.csv.problems.csv"
    old.write_text("old report", encoding="utf-8")
    r = _run("ingest", str(bad), "--workspace", str(ws))
    assert r.exit_code == 1
    assert old.read_text(encoding="utf-8-sig").startswith("file,row,column,code")
    assert not list(tmp_path.glob(".bad.csv.problems.csv*"))


def test_composite_scores_are_safe_and_the_output_link_is_refused(tmp_path):
    data = tmp_path / "idata.csv"
    data.write_text("uCode,a,b\n=1+1,1,4\n-U,2,5\n@W,3,7\n", encoding="utf-8")
    meta = tmp_path / "imeta.csv"
    meta.write_text("Level,iCode,Direction,Weight,Parent,Type\n1,a,1,1,Index,Indicator\n"
                    "1,b,-1,1,Index,Indicator\n2,Index,1,1,,Aggregate\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    r = _run("composite", "--data", str(data), "--meta", str(meta), "--out", str(out))
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out, dtype={"uCode": str})
    assert set(t["uCode"]) == {"'=1+1", "'-U", "'@W"}
    assert pd.api.types.is_float_dtype(t["score"])
    victim = tmp_path / "victim.csv"
    victim.write_text("mine", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(victim)
    r = _run("composite", "--data", str(data), "--meta", str(meta), "--out", str(link))
    assert r.exit_code == 1 and "UNSAFE_PATH" in r.output and victim.read_text(encoding="utf-8") == "mine"


def test_io_tables_are_safe_to_open(tmp_path):
    (tmp_path / "Z.csv").write_text("code,=a,-b\n=a,10,20\n-b,30,40\n", encoding="utf-8")
    (tmp_path / "x.csv").write_text("code,value\n=a,100\n-b,200\n", encoding="utf-8")
    r = _run("io", "--Z", str(tmp_path / "Z.csv"), "--x", str(tmp_path / "x.csv"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    a = _rows((tmp_path / "out" / "A.csv").read_text(encoding="utf-8"))
    assert a[0] == ["code", "'=a", "'-b"] and [row[0] for row in a[1:]] == ["'=a", "'-b"]
    assert float(a[1][1]) == pytest.approx(0.1)
    # an output file planted as a link is refused, and nothing is half-moved
    victim = tmp_path / "victim.csv"
    victim.write_text("mine", encoding="utf-8")
    (tmp_path / "out" / "L.csv").unlink()
    (tmp_path / "out" / "L.csv").symlink_to(victim)
    r = _run("io", "--Z", str(tmp_path / "Z.csv"), "--x", str(tmp_path / "x.csv"), "--out", str(tmp_path / "out"))
    assert r.exit_code == 1 and "UNSAFE_PATH" in r.output and victim.read_text(encoding="utf-8") == "mine"


def test_disaggregate_and_template_refuse_a_link_and_create_missing_folders(tmp_path):
    low = tmp_path / "low.csv"
    low.write_text("period,value\n2018,10\n2019,-12\n2020,13\n2021,15\n", encoding="utf-8")
    victim = tmp_path / "victim.csv"
    victim.write_text("mine", encoding="utf-8")
    link = tmp_path / "q.csv"
    link.symlink_to(victim)
    r = _run("disaggregate", "--low", str(low), "--to", "quarterly", "--method", "denton-cholette", "--out", str(link))
    assert r.exit_code == 1 and "UNSAFE_PATH" in r.output and victim.read_text(encoding="utf-8") == "mine"
    out = tmp_path / "new" / "q.csv"
    r = _run("disaggregate", "--low", str(low), "--to", "quarterly", "--method", "denton-cholette", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert any(row[1].startswith("-") for row in _rows(out.read_text(encoding="utf-8"))[1:])  # numbers stay numbers
    r = _run("template", "GRDP_VA", "--out", str(link))
    assert r.exit_code == 1 and "UNSAFE_PATH" in r.output and victim.read_text(encoding="utf-8") == "mine"
    for fmt in ("csv", "xlsx"):
        out = tmp_path / "missing" / f"t.{fmt}"
        r = _run("template", "GRDP_VA", "--format", fmt, "--out", str(out))
        assert r.exit_code == 0 and out.exists(), r.output


def test_template_xlsx_holds_no_formula(tmp_path, monkeypatch):
    """openpyxl stores a text starting with ``=`` as a formula: every cell goes through safe_cell."""
    from openpyxl import load_workbook

    from kinhteso.pipeline import template as T
    from kinhteso.reference.indicators import load_indicators

    monkeypatch.setattr(T, "_indicator_lines", lambda ind: ('=HYPERLINK("http://evil")', "@SUM(A1)"))
    path = T.write_template(tmp_path / "t.xlsx", ["GRDP_VA"], load_indicators(None))
    values = []
    for sheet in load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)
                values.append(c.value)
    assert "'=HYPERLINK(\"http://evil\")" in values and "'@SUM(A1)" in values


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key,value", [("memory_limit", "1GB'; DROP TABLE observations; --"), ("memory_limit", 5),
                                       ("memory_limit", "0GB"), ("memory_limit", "-1GB"), ("memory_limit", "150%"),
                                       ("threads", "4; SELECT 1"), ("threads", 0), ("threads", True),
                                       ("threads", 10**9), ("store", ""), ("store", 3)])
def test_a_bad_setting_is_refused_by_name(key, value):
    settings = {"store": "kinhteso.duckdb", "memory_limit": "1GB", "threads": 2, key: value}
    with pytest.raises(WorkspaceError) as err:
        check_settings(settings)
    assert err.value.code == "BAD_SETTING" and key in err.value.en and key in err.value.vi


@pytest.mark.parametrize("value", ["1GB", "512MB", "1.5 GB", "256MiB", "50%", "2tb"])
def test_good_memory_limits_pass(value):
    check_settings({"store": "kinhteso.duckdb", "memory_limit": value, "threads": 4})


def test_bad_setting_in_the_cli_is_bilingual_and_no_traceback(ws):
    cfg = ws / "kinhteso.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('"1GB"', "\"1GB'; DROP TABLE x; --\""), encoding="utf-8")
    for lang, word in (("en", "Setting memory_limit"), ("vi", "Thiết lập memory_limit")):
        r = CliRunner().invoke(main, ["--lang", lang, "vintages", "--workspace", str(ws)])
        assert r.exit_code == 1 and "BAD_SETTING" in r.output and word in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("name", ['a"b\nc', "tab\there", "Hà Nội ' \"x\"", "=cmd"])
def test_init_writes_the_name_as_a_toml_string(tmp_path, name):
    root = tmp_path / name
    r = _run("init", str(root), "--no-published")
    assert r.exit_code == 0, r.output
    cfg = tomllib.loads((root / "kinhteso.toml").read_text(encoding="utf-8"))
    assert cfg["name"] == name and cfg["memory_limit"] == "1GB" and cfg["threads"] == 2
    with Workspace.open(root) as w:
        assert w.settings["name"] == name


def test_a_backslash_in_the_path_is_refused_before_anything_is_made(tmp_path):
    r = _run("init", str(tmp_path / "back\\slash"), "--no-published")
    assert r.exit_code == 1 and "BAD_PATH" in r.output and not (tmp_path / "back\\slash").exists()


def test_toml_string_escapes_controls():
    for text in ['"', "\\", "\x00\x1f\x7f", "\b\f\r\n\t", "ok"]:
        assert tomllib.loads(f"v = {toml_string(text)}")["v"] == text


# --- internal errors --------------------------------------------------------------------------------


@pytest.fixture()
def boom():
    @click.command("boom-test")
    @click.argument("what", required=False)
    def cmd(what):
        raise ZeroDivisionError("kaboom\nsecond line")

    main.add_command(cmd)
    yield cmd
    main.commands.pop("boom-test", None)


def test_an_unexpected_error_is_internal_error_with_a_report(boom, tmp_path, monkeypatch):
    monkeypatch.setenv("KINHTESO_ERROR_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("KINHTESO_DEBUG", raising=False)
    for lang, word in (("vi", "Lỗi nội bộ"), ("en", "internal error")):
        r = CliRunner().invoke(main, ["--lang", lang, "boom-test", "it's \"here\""])
        assert r.exit_code == 1 and r.exception is None or isinstance(r.exception, SystemExit)
        assert "INTERNAL_ERROR" in r.output and word in r.output and "Traceback" not in r.output
    reports = sorted((tmp_path / "reports").iterdir())
    assert len(reports) == 2
    (shown,) = [p for p in reports if str(p) in r.output]
    text = shown.read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError: kaboom" in text
    assert "kinhteso --lang en boom-test" in text and "duckdb " in text and "kinhteso 0" in text


def test_kinhteso_debug_lets_the_error_raise(boom, monkeypatch):
    monkeypatch.setenv("KINHTESO_DEBUG", "1")
    r = CliRunner().invoke(main, ["boom-test"])
    assert isinstance(r.exception, ZeroDivisionError)


def test_click_usage_errors_carry_a_code():
    r = _run("observations", "--no-such-option")
    assert r.exit_code == 2 and "USAGE_ERROR" in r.output and "observations -h' for help." in r.output
    r = CliRunner().invoke(main, ["--lang", "vi", "no-such-command"])
    assert r.exit_code == 2 and "USAGE_ERROR: Dùng lệnh chưa đúng" in r.output
    r = CliRunner().invoke(main, ["--lang", "xx"])
    assert r.exit_code == 2 and "USAGE_ERROR" in r.output
