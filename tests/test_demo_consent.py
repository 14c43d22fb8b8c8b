"""`kinhteso demo` never destroys a user's data: it builds only in an absent or empty directory or
over a demo workspace (one it built, marked by DEMO.toml, holding only its own or illustrative
vintages); anything else is refused with WORKSPACE_NOT_DEMO (exit 1) unless --force.

The full demo is built once, by the session fixture ``demo_run``; the other builds here are cut
short (a two-row illustrative submission instead of the generated data, the real published
figures, no capability step), which is all the consent rule looks at.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ingest_rows
from kinhteso.cli import main
from kinhteso.demo import build, consent
from kinhteso.errors import WorkspaceError
from kinhteso.workspace import Workspace

AGENCY = "cuc-thong-ke-hai-phong"
ROWS = [["GRDP", "31", "34", "_T", "2025", "123456.7", "VND_BN"],
        ["GRDP_VA", "31", "34", "62", "2025", "2345.6", "VND_BN"]]


def run(*args):
    return CliRunner().invoke(main, ["--lang", "en", *[str(a) for a in args]])


def _tiny_demo(ws, echo, progress=None):
    """A stand-in for the generated demo data: one illustrative submission, source demo."""
    ingest_rows(ws, ws.root / "demo_tiny.csv", [["GRDP", "01", "34", "_T", "2025", "1.0", "VND_BN"]],
                source=build.DEMO_SOURCE, illustrative=True)


@pytest.fixture
def short_build(monkeypatch):
    monkeypatch.setattr(build, "_ingest_demo", _tiny_demo)
    monkeypatch.setattr(build, "CAPABILITIES", ())


def agency_workspace(root: Path) -> Path:
    with Workspace.init(root) as ws:
        ingest_rows(ws, root.parent / "grdp_hai_phong.csv", ROWS, source=AGENCY)
    return root


def snapshot(root: Path):
    with Workspace.open(root) as ws:
        return ws.store.vintages(), ws.store.observations()


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- refusals -------------------------------------------------------------------------------------
def test_a_workspace_with_an_agency_submission_is_refused_and_kept(tmp_path):
    root = agency_workspace(tmp_path / "ws")
    vintages, rows = snapshot(root)
    files = tree(root)
    for extra in ([], ["--keep"]):
        r = run("demo", "--workspace", root, *extra)
        assert r.exit_code == 1, r.output
        assert "WORKSPACE_NOT_DEMO" in r.output and str(root) in r.output
        assert f"1 non-demo vintage(s), from: {AGENCY} (1)" in r.output and "--force" in r.output
    r = CliRunner().invoke(main, ["--lang", "vi", "demo", "--workspace", str(root)])
    assert r.exit_code == 1 and "không phải không gian làm việc demo" in r.output and f"nguồn: {AGENCY} (1)" in r.output
    after_v, after_rows = snapshot(root)
    pd.testing.assert_frame_equal(after_v, vintages)
    pd.testing.assert_frame_equal(after_rows, rows)
    assert len(after_rows) == 2 and set(after_v.source) == {AGENCY}
    assert tree(root) == files and not (root / consent.MARKER).exists()


def test_a_directory_that_is_not_a_workspace_is_refused_and_kept(tmp_path):
    root = tmp_path / "papers"
    (root / "sub").mkdir(parents=True)
    (root / "notes.txt").write_text("mine", encoding="utf-8")
    (root / "sub" / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    files = tree(root)
    r = run("demo", "--workspace", root)
    assert r.exit_code == 1 and "WORKSPACE_NOT_DEMO" in r.output
    assert "not a kinhteso workspace" in r.output and "notes.txt" in r.output and str(root) in r.output
    assert tree(root) == files


def test_an_empty_workspace_the_demo_did_not_build_is_refused(tmp_path):
    Workspace.init(tmp_path / "ws").close()  # `kinhteso init`: no vintage, but the user's
    with pytest.raises(WorkspaceError) as exc:
        consent.check_target(tmp_path / "ws")
    assert exc.value.code == "WORKSPACE_NOT_DEMO" and "did not build" in exc.value.en


def test_force_never_deletes_the_current_directory_or_a_parent(tmp_path, monkeypatch):
    root = agency_workspace(tmp_path / "ws")
    monkeypatch.chdir(root)
    for target in (Path("."), root, tmp_path):
        with pytest.raises(WorkspaceError) as exc:
            consent.check_target(target, force=True)
        assert exc.value.code == "WORKSPACE_UNSAFE"
    assert snapshot(root)[0].source.tolist() == [AGENCY]


def test_the_default_demo_workspace_is_not_the_default_workspace():
    opt = next(p for p in main.commands["demo"].params if p.name == "workspace")
    assert opt.default == "demo-workspace"


# --- what is a demo workspace ---------------------------------------------------------------------
def test_the_full_demo_is_a_demo_workspace(demo_run):
    """Everything the demo loads is demo data, the published figures (real sources) included."""
    root, result = demo_run
    assert result.exit_code == 0, result.output
    target = consent.inspect_target(root)
    assert target.kind == "demo" and target.marked and target.foreign.empty
    with Workspace.open(root) as ws:
        v = ws.store.vintages()
    listed = consent.demo_vintage_ids(root)
    published = v[~v.illustrative.astype(bool)]
    assert len(published) and set(published.vintage_id) <= listed
    assert (v.source == build.DEMO_SOURCE).any() and not set(published.source) & {build.DEMO_SOURCE}


def test_demo_rebuilds_over_a_previous_demo(tmp_path, short_build):
    root = tmp_path / "demo"
    build.run_demo(root, echo=lambda *_: None)
    first = snapshot(root)[0]
    assert consent.inspect_target(root).kind == "demo"
    assert set(first.vintage_id) == consent.demo_vintage_ids(root)
    assert (~first.illustrative.astype(bool)).any()  # the published figures: real, yet the demo's
    with Workspace.open(root) as ws:  # an illustrative vintage added later (computed from demo data)
        ingest_rows(ws, tmp_path / "later.csv", [["GRDP", "01", "34", "_T", "2024", "2.0", "VND_BN"]],
                    source="demo", illustrative=True)
    r = run("demo", "--workspace", root)
    assert r.exit_code == 0, r.output
    assert "--force" not in r.output
    again = snapshot(root)[0]
    assert len(again) == len(first)


def test_an_agency_file_ingested_later_makes_a_demo_workspace_non_demo(tmp_path, short_build):
    root = tmp_path / "demo"
    build.run_demo(root, echo=lambda *_: None)
    with Workspace.open(root) as ws:
        ingest_rows(ws, tmp_path / "grdp_hai_phong.csv", ROWS, source=AGENCY)
    target = consent.inspect_target(root)
    assert target.kind == "workspace" and target.marked and target.foreign.source.tolist() == [AGENCY]
    r = run("demo", "--workspace", root)
    assert r.exit_code == 1 and "WORKSPACE_NOT_DEMO" in r.output and "other data were loaded" in r.output
    assert AGENCY in set(snapshot(root)[0].source)


def test_force_replaces_and_says_what(tmp_path, short_build):
    root = agency_workspace(tmp_path / "ws")
    r = run("demo", "--workspace", root, "--force")
    assert r.exit_code == 0, r.output
    assert f"--force: replacing {root}" in r.output and f"{AGENCY} (1)" in r.output
    v = snapshot(root)[0]
    assert AGENCY not in set(v.source) and build.DEMO_SOURCE in set(v.source)
    assert consent.inspect_target(root).kind == "demo"


def test_an_interrupted_build_still_marks_what_it_created(tmp_path, monkeypatch, short_build):
    def broken(ws, echo):
        raise KeyboardInterrupt

    monkeypatch.setitem(globals(), "_broken", broken)
    monkeypatch.setattr(build, "CAPABILITIES", (f"{__name__}:_broken",))
    root = tmp_path / "demo"
    with pytest.raises(KeyboardInterrupt):
        build.run_demo(root, echo=lambda *_: None)
    assert consent.inspect_target(root).kind == "demo"
    monkeypatch.setattr(build, "CAPABILITIES", ())
    build.run_demo(root, echo=lambda *_: None)
