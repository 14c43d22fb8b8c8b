"""Progress of long work (kinhteso.progress, kinhteso.cli._progress): the services call
``progress(done, total, label)`` from where the work happens, ``done`` never going back and ending
at ``total``; the command line draws a bar (rich) on stderr only, never on stdout, and only when
stderr is a terminal (``KINHTESO_PROGRESS=1`` writes plain lines instead when it is not), never
with ``--quiet`` or ``KINHTESO_QUIET=1``; ``--help`` does not import rich."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import write_long_csv
from kinhteso.cli import main
from kinhteso.i18n import use_lang
from kinhteso.ingest.load import ingest_file
from kinhteso.progress import null_progress, span
from kinhteso.workspace import Workspace
from test_quarterly import _rows as quarterly_rows

#: What shown progress leaves on stderr: a finished "done/total".
BAR = re.compile(r"\b(\d+)/\1\b")


from kinhteso.progress import label_text  # noqa: E402


class Recorder:
    """A progress that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, str]] = []

    def __call__(self, done: int, total: int, label) -> None:
        # a label is a text or, from methods/, a (vi, en) pair: shown in the current language
        assert isinstance(label, str) or (isinstance(label, tuple) and len(label) == 2), label
        self.calls.append((done, total, label_text(label)))

    def check(self) -> None:
        """Every call well formed, ``done`` never going back, the last call complete."""
        assert self.calls, "progress was never called"
        for done, total, label in self.calls:
            assert 0 <= done <= total and isinstance(label, str) and label
        dones = [d for d, _, _ in self.calls]
        assert dones == sorted(dones), dones
        last_done, last_total, _ = self.calls[-1]
        assert last_done == last_total > 0

    @property
    def labels(self) -> list[str]:
        return [label for _, _, label in self.calls]


@pytest.fixture(scope="module")
def ws_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress") / "ws"
    with Workspace.init(root) as w:
        # VN's accounts: quarters to 2024-Q2, annual figures 2018-2022 (the later quarters extrapolated)
        ingest_file(w.store, write_long_csv(root.parent / "vn.csv", quarterly_rows(range(2018, 2023), "2024-Q2")),
                    source="cuc-thong-ke", indicators=w.indicators(), workdir=w.tmp)
    return root


@pytest.fixture
def files(tmp_path):
    (tmp_path / "meta.csv").write_text("iCode,Level,Weight,Direction,Parent,Type\na,1,1,1,Index,Indicator\n"
                                       "b,1,1,1,Index,Indicator\nc,1,2,-1,Index,Indicator\n"
                                       "Index,2,1,1,,Aggregate\n", encoding="utf-8")
    (tmp_path / "data.csv").write_text("uCode,a,b,c\nX,1,2,5\nY,3,4,1\nZ,2,1,3\nW,5,3,2\n", encoding="utf-8")
    return tmp_path


# --- the protocol --------------------------------------------------------------------------------
def test_span_numbers_a_part_within_the_whole():
    rec = Recorder()
    first = span(rec, after=2, prefix="a: ")
    first(0, 3, "x")
    first(3, 3, "y")
    assert first.end == 3
    second = span(rec, before=first.end)
    second(1, 2, "z")
    assert rec.calls == [(0, 5, "a: x"), (3, 5, "a: y"), (4, 5, "z")]
    assert span(None)(1, 1, "nobody watches") is None and null_progress(0, 1, "x") is None


# --- where the work happens ----------------------------------------------------------------------
def test_quarterly_all_reports_every_step_up_to_the_total(ws_root):
    from kinhteso.service.figures import QuarterlyRequest, quarterly

    rec = Recorder()
    with use_lang("en"), Workspace.open(ws_root) as ws:
        out = quarterly(ws, QuarterlyRequest(None), progress=rec)
    assert [r.territory for r in out.results] == ["VN"] and out.errors  # the provinces have no data
    rec.check()
    labels = rec.labels
    assert labels[0] == "Reading the data" and "Quarterly path: VN" in labels
    assert labels.index("Storing the results") > labels.index("Quarterly path: VN")
    assert labels[-1] == "Quarterly figures"
    with use_lang("vi"), Workspace.open(ws_root) as ws:
        rec_vi = Recorder()
        quarterly(ws, QuarterlyRequest(("VN",)), progress=rec_vi)
    rec_vi.check()
    assert "Tách quý: VN" in rec_vi.labels and rec_vi.labels[-1] == "Số quý"


@pytest.mark.parametrize("period", ["2022", "2023-Q1"])
def test_measure_all_reports_the_read_and_each_territory(ws_root, period):
    from kinhteso.service.figures import MeasureRequest, measure

    rec = Recorder()
    with use_lang("en"), Workspace.open(ws_root) as ws:
        out = measure(ws, MeasureRequest(period, None), progress=rec)
    n = len(out.results)
    assert n > 30  # the nation and every province of the period's basis
    rec.check()
    assert rec.calls[-1][1] == 1 + n if "-Q" not in period else rec.calls[-1][1] > 1 + n  # the read + each
    assert rec.labels[0] == "Reading the data" and f"Accounts {period}" in rec.labels
    if "-Q" in period:  # a quarter goes through the quarterly path after its own accounts
        assert rec.labels.index("Quarterly path: VN") > rec.labels.index(f"Accounts {period}")


def test_uncertainty_reports_its_phases(files):
    from kinhteso.service import UncertaintyRequest, run_uncertainty

    rec = Recorder()
    with use_lang("en"):
        res = run_uncertainty(UncertaintyRequest(data=files / "data.csv", meta=files / "meta.csv", n=8,
                                                 weight_noise=0.25), progress=rec)
    assert res.sobol is not None
    rec.check()
    assert rec.labels[0] == "Reading the files"
    assert any(lab.startswith("Computing") and "replications" in lab for lab in rec.labels)
    assert "Sobol indices" in rec.labels and rec.calls[-1][1] == 6  # reading + five phases


def test_ingest_reports_each_files_steps_under_its_name(tmp_path):
    from kinhteso.service.data import IngestRequest, ingest

    good = write_long_csv(tmp_path / "good.csv", [["GRDP", "VN", "", "_T", "2017", "100", "VND_BN"]])
    bad = write_long_csv(tmp_path / "bad.csv", [["GRDP", "VN", "", "_T", "2017", "abc", "VND_BN"]])
    rec = Recorder()
    with use_lang("en"), Workspace.init(tmp_path / "ws") as ws:
        out = ingest(ws, IngestRequest(files=[bad, good], source="progress-test"), progress=rec)
    assert [o.ok for o in out] == [False, True]
    rec.check()
    assert rec.calls[-1][:2] == (8, 8)
    assert "bad.csv: validating" in rec.labels and "good.csv: writing" in rec.labels
    assert not any(lab.startswith("bad.csv: writing") for lab in rec.labels)  # refused whole


def test_demo_reports_its_steps(tmp_path, monkeypatch):
    from kinhteso.demo import build

    def tiny(ws, echo, progress=None):
        progress = progress or null_progress
        progress(0, 1, "tiny data")
        progress(1, 1, "tiny data")

    seen = []
    monkeypatch.setattr(build, "_ingest_demo", tiny)
    monkeypatch.setattr(build, "CAPABILITIES", ("kinhteso.demo.summaries:foundation_summary",))
    rec = Recorder()
    with use_lang("en"):
        build.run_demo(tmp_path / "demo", echo=seen.append, progress=rec)
    rec.check()
    assert rec.labels == ["tiny data", "tiny data", "Published figures",
                          "Foundation: GRDP on the 34-province basis", "Demo"]
    assert rec.calls[-1][:2] == (3, 3)


# --- the command line ----------------------------------------------------------------------------
def _invoke(args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env or {})


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(ws_root):
    r = _invoke(["--lang", "en", "quarterly", "--all", "--format", "json", "--workspace", ws_root],
                env={"KINHTESO_PROGRESS": None, "KINHTESO_QUIET": None})
    assert r.exit_code == 0, r.output
    assert [x["territory"] for x in json.loads(r.stdout)][:1] == ["VN"]
    assert not BAR.search(r.stderr) and "Quarterly figures" not in r.stderr
    assert "TOO_FEW_YEARS" in r.stderr  # the territories without data are still told


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_forced_progress_goes_to_stderr_as_lines_and_stdout_stays_clean(ws_root, fmt):
    r = _invoke(["--lang", "en", "quarterly", "--all", "--format", fmt, "--workspace", ws_root],
                env={"KINHTESO_PROGRESS": "1", "KINHTESO_QUIET": None})
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stderr.splitlines() if re.search(r" \d+/\d+$", x)]
    assert lines[0].startswith("Reading the data 0/") and "Quarterly path: VN" in r.stderr
    assert re.fullmatch(r"Quarterly figures (\d+)/\1", lines[-1])
    assert "\x1b" not in r.stderr and "/" not in r.stdout.splitlines()[0]
    if fmt == "json":
        assert json.loads(r.stdout)[0]["territory"] == "VN"
    else:
        recs = list(csv.DictReader(io.StringIO(r.stdout)))
        assert recs and recs[0]["territory"] == "VN"


def test_on_a_terminal_rich_draws_the_bar_on_stderr(ws_root, monkeypatch):
    from kinhteso.cli import _progress

    monkeypatch.setattr(_progress, "_isatty", lambda stream=None: stream is None)  # stderr only
    r = _invoke(["--lang", "en", "quarterly", "--all", "--format", "csv", "--workspace", ws_root],
                env={"KINHTESO_PROGRESS": None, "KINHTESO_QUIET": None, "TTY_COMPATIBLE": "1"})
    assert r.exit_code == 0, r.output
    assert "━" in r.stderr and "\x1b[" in r.stderr and "Quarterly figures" in r.stderr
    assert BAR.search(re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", r.stderr))  # the bar ends complete
    assert "━" not in r.stdout and "\x1b" not in r.stdout
    assert list(csv.DictReader(io.StringIO(r.stdout)))[0]["territory"] == "VN"
    r = _invoke(["--quiet", "--lang", "en", "quarterly", "--territory", "VN", "--format", "csv",
                 "--workspace", ws_root], env={"KINHTESO_PROGRESS": None, "TTY_COMPATIBLE": "1"})
    assert r.exit_code == 0 and r.stderr == ""


def test_the_bar_speaks_the_language_of_the_command(ws_root):
    r = _invoke(["--lang", "vi", "quarterly", "--territory", "VN", "--format", "csv", "--workspace", ws_root],
                env={"KINHTESO_PROGRESS": "1", "KINHTESO_QUIET": None})
    assert r.exit_code == 0, r.output
    assert "Số quý" in r.stderr and "Quarterly figures" not in r.stderr


@pytest.mark.parametrize("how", ["--quiet", "-q", "env"])
def test_quiet_silences_even_a_forced_bar(ws_root, how):
    env = {"KINHTESO_PROGRESS": "1", "KINHTESO_QUIET": "1" if how == "env" else None}
    lead = [] if how == "env" else [how]
    r = _invoke([*lead, "--lang", "en", "quarterly", "--territory", "VN", "--format", "json", "--workspace", ws_root],
                env=env)
    assert r.exit_code == 0, r.output
    assert r.stderr == "" and json.loads(r.stdout)[0]["territory"] == "VN"


def test_uncertainty_command_draws_on_stderr_only(files, tmp_path):
    out = tmp_path / "ua"
    r = _invoke(["--lang", "en", "uncertainty", "--data", files / "data.csv", "--meta", files / "meta.csv",
                 "--n", "8", "--out", out], env={"KINHTESO_PROGRESS": "1", "KINHTESO_QUIET": None})
    assert r.exit_code == 0, r.output
    assert "Sobol indices" in r.stderr and re.search(r"^Uncertainty analysis 6/6$", r.stderr, re.M)
    assert r.stdout.startswith("Ran ") and "/6" not in r.stdout
    assert (out / "sobol.csv").is_file()


def test_help_does_not_import_rich():
    code = ("import sys\nfrom kinhteso.cli import main\nimport kinhteso.cli._progress\n"
            "try:\n    main.main(['--help'], prog_name='kinhteso', standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
    assert "--quiet" in r.stdout
