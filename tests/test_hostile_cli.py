"""Every command, fed hostile input, answers with a bilingual error code and exit code 1 or 2,
never a traceback (issue 11, item 5).

The walk enumerates ``kinhteso.cli.main.commands`` (groups' subcommands included), so a new
command is walked without touching this file. Each case changes one thing from a base command
line (a valid empty workspace, small placeholder files): a broken workspace (missing, its
``.duckdb`` truncated or a text file, bad TOML, a bad setting, a file instead of a folder), a
file argument that is a folder, binary, empty, one byte, an XLSX named ``.txt``, or a path with
quotes and a newline; an output that is a folder or lies under a file; a garbage period; an
out-of-range number; a required text value with quotes, a newline or a formula.
Everything runs in process (CliRunner); the whole walk takes a few seconds.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.cli._common import PeriodParam

#: an error code as kinhteso prints it: ``NO_WORKSPACE: …``, ``  file:2 [value] ENCODING: …``
CODE = re.compile(r"(?:^|\s)([A-Z][A-Z0-9_]{2,}):")
HOSTILE_TEXT = ("a\"b'\nc", "=cmd|' /C calc'!A0")
OUTPUT_PARAMS = {"out", "out_dir", "summary"}
#: cases that may legitimately succeed (exit 0), by id ``command:parameter:label``
ALLOWED_SUCCESS = {
    "ingest:files:xlsx_txt",  # a workbook is read by its content, whatever its name
    # the target registry is the workspace's targets.yaml: the store is not opened
    "target add:workspace:ws_truncated", "target add:workspace:ws_textdb",
    "target list:workspace:ws_truncated", "target list:workspace:ws_textdb",
}


def leaf_commands() -> list[tuple[list[str], click.Command]]:
    """Every runnable command as (words after ``kinhteso``, command), groups walked."""
    out: list[tuple[list[str], click.Command]] = []

    def walk(cmd: click.Command, words: list[str]) -> None:
        if isinstance(cmd, click.Group):
            for name in sorted(cmd.commands):
                walk(cmd.commands[name], [*words, name])
        else:
            out.append((words, cmd))

    for name in sorted(main.commands):
        walk(main.commands[name], [name])
    return out


# --------------------------------------------------------------------------- the hostile files


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Hostile inputs and broken workspaces, built once."""
    from openpyxl import Workbook

    from kinhteso.service.workspace import InitRequest, init

    d = tmp_path_factory.mktemp("hostile")
    f: dict[str, Path] = {}
    init(InitRequest(d / "ws", published=False))
    f["ws"] = d / "ws"
    f["ws_missing"] = d / "no-such-workspace"
    f["ws_quoted"] = d / "no \"such' \n workspace"
    for name, damage in (("ws_truncated", "truncate"), ("ws_textdb", "text"), ("ws_badtoml", "toml"),
                         ("ws_memory", "memory"), ("ws_threads", "threads")):
        shutil.copytree(d / "ws", d / name)
        db, cfg = d / name / "kinhteso.duckdb", d / name / "kinhteso.toml"
        if damage == "truncate":
            db.write_bytes(db.read_bytes()[:3000])
        elif damage == "text":
            db.write_text("this is not a database\n", encoding="utf-8")
        elif damage == "toml":
            cfg.write_text('name = "unterminated\nmemory_limit = \n', encoding="utf-8")
        elif damage == "memory":
            cfg.write_text(cfg.read_text(encoding="utf-8").replace('"1GB"', "\"1GB'; DROP TABLE observations; --\""),
                           encoding="utf-8")
        else:
            cfg.write_text(cfg.read_text(encoding="utf-8").replace("threads = 2", 'threads = "all of them"'),
                           encoding="utf-8")
        f[name] = d / name
    f["ws_is_file"] = d / "ws-is-a-file"
    f["ws_is_file"].write_text("x", encoding="utf-8")
    f["nonempty_dir"] = d / "nonempty"
    f["nonempty_dir"].mkdir()
    (f["nonempty_dir"] / "keep.txt").write_text("mine", encoding="utf-8")
    # --- input files ---
    f["placeholder"] = d / "placeholder.csv"
    f["placeholder"].write_text("code,value\na,1\n", encoding="utf-8")
    f["dir"] = d / "a-folder.csv"
    f["dir"].mkdir()
    f["binary"] = d / "binary.csv"
    f["binary"].write_bytes(bytes(range(256)) * 64 + b"\x00\xff\xfe" * 100)
    f["empty"] = d / "empty.csv"
    f["empty"].write_bytes(b"")
    f["onebyte"] = d / "onebyte.csv"
    f["onebyte"].write_bytes(b"=")
    wb = Workbook()
    ws = wb.active
    ws.append(["indicator", "territory", "basis", "sector", "period", "value", "unit"])
    ws.append(["GRDP_VA", "31", "34", "_T", "2024", 1.5, "VND_BN"])
    f["xlsx_txt"] = d / "workbook.txt"
    wb.save(f["xlsx_txt"])
    f["quoted"] = d / "q\"uo'te\nline.csv"
    f["quoted"].write_text("code,value\n=1+1,-2\n", encoding="utf-8")
    f["quoted_missing"] = d / "no\"such'\nfile.csv"
    f["under_file"] = f["placeholder"] / "out.csv"
    # --- valid inputs, so that each hostile one is what the command trips on ---
    f["Z"] = d / "Z.csv"
    f["Z"].write_text("code,a,b\na,10,20\nb,30,40\n", encoding="utf-8")
    f["x"] = d / "x.csv"
    f["x"].write_text("code,value\na,100\nb,200\n", encoding="utf-8")
    f["low"] = d / "low.csv"
    f["low"].write_text("period,value\n2018,10\n2019,12\n2020,13\n2021,15\n", encoding="utf-8")
    f["high"] = d / "high.csv"
    f["high"].write_text("period,x\n" + "".join(f"{y}-Q{q},{y - 2000 + q}\n" for y in range(2018, 2022)
                                                  for q in range(1, 5)), encoding="utf-8")
    f["idata"] = d / "idata.csv"
    f["idata"].write_text("uCode,a,b\nU,1,4\nV,2,5\nW,3,7\n", encoding="utf-8")
    f["imeta"] = d / "imeta.csv"
    f["imeta"].write_text("Level,iCode,Direction,Weight,Parent,Type\n1,a,1,1,Index,Indicator\n"
                          "1,b,1,1,Index,Indicator\n2,Index,1,1,,Aggregate\n", encoding="utf-8")
    return f


# --------------------------------------------------------------------------- building the cases


#: per command: parameters given in the base command line (file keys of the fixture or values)
BASE = {
    "io": {"z_path": "Z", "x_path": "x", "out_dir": None},
    "composite": {"data": "idata", "meta": "imeta"},
    "uncertainty": {"data": "idata", "meta": "imeta"},
    "disaggregate": {"low": "low", "indicator": "high"},
    "measure": {"territory": ["VN"]},
    "quarterly": {"territory": ["VN"]},
    "retract": {"vintage": ["1"]},
}
#: (command, hostile parameter) → base parameters left out (they cannot go together)
DROP = {("io", "table_path"): {"z_path", "x_path"}}
#: commands that read no workspace as called here (io: only with --write-coef; template: only an
#: optional indicators.yaml; vsic: only an optional vsic2018_2025.csv)
NO_WORKSPACE = {"io", "template", "vsic"}


def _is_output(p: click.Parameter, words: list[str]) -> bool:
    return p.name in OUTPUT_PARAMS or (words == ["init"] and p.name == "directory") or (
        words == ["demo"] and p.name == "workspace")


def _base_value(p: click.Parameter, words: list[str], f: dict[str, Path], out: Path) -> list[str] | None:
    """A value that gets the command past this parameter (``None``: leave the parameter out)."""
    t = p.type
    given = BASE.get(" ".join(words), {})
    if p.name in given and given[p.name] is not None:
        v = given[p.name]
        return v if isinstance(v, list) else [str(f[v])]
    if p.name == "workspace" and not _is_output(p, words):
        return [str(f["ws"])]
    if not p.required and not (words == ["template"] and p.name == "out") and p.name not in given:
        return None
    if _is_output(p, words):
        return [str(out / f"{p.name}{'' if getattr(t, 'file_okay', True) else '_dir'}")]
    if isinstance(t, click.Path):
        return [str(f["placeholder"])]
    if isinstance(t, PeriodParam):
        return ["2024"]
    if isinstance(t, click.Choice):
        return [str(next(iter(t.choices)))]
    if isinstance(t, (click.IntRange, click.FloatRange)):
        lo = t.min if t.min is not None else 1
        return [str(max(lo, 2))]
    if isinstance(t, click.types.IntParamType):
        return ["2030"]
    if isinstance(t, click.types.FloatParamType):
        return ["5.0"]
    return {"indicators": ["GRDP_VA"], "territory": ["VN"], "indicator": ["DE_SHARE"]}.get(p.name, ["x"])


def _hostile_values(p: click.Parameter, words: list[str], f: dict[str, Path]) -> list[tuple[str, str]]:
    """(label, value) pairs that must be refused for this parameter."""
    t = p.type
    if words in (["init"], ["demo"]) and p.name in ("directory", "workspace"):
        return [("is-file", str(f["ws_is_file"])), ("not-empty", str(f["nonempty_dir"])),
                ("truncated-db", str(f["ws_truncated"])), ("text-db", str(f["ws_textdb"]))]
    if p.name == "workspace":
        if " ".join(words) in NO_WORKSPACE:
            return []
        return [(k, str(f[k])) for k in ("ws_missing", "ws_quoted", "ws_truncated", "ws_textdb", "ws_badtoml", "ws_memory",
                                          "ws_threads", "ws_is_file")]
    if _is_output(p, words):
        if not getattr(t, "file_okay", True):  # an output folder
            return [("out-is-file", str(f["placeholder"])), ("out-under-file", str(f["under_file"]))]
        return [("out-is-dir", str(f["dir"])), ("out-under-file", str(f["under_file"]))]
    if isinstance(t, click.Path):
        return [(k, str(f[k])) for k in ("dir", "binary", "empty", "onebyte", "xlsx_txt", "quoted", "quoted_missing")]
    if isinstance(t, PeriodParam):
        return [("period", "2024-Q9"), ("period-sql", "2024'; DROP TABLE observations; --"), ("period-nl", "20\n24")]
    if isinstance(t, click.IntRange):
        return [("below-min", str((t.min if t.min is not None else 0) - 1))] + (
            [("above-max", str(t.max + 1))] if t.max is not None else [])
    if isinstance(t, click.FloatRange):
        return [("below-min", str((t.min if t.min is not None else 0) - 1))]
    if not p.required:
        return []
    if isinstance(t, click.types.IntParamType):
        return [("huge", str(10**12)), ("negative", "-5")]
    if isinstance(t, click.types.FloatParamType):
        return [("nan", "nan"), ("inf", "1e309"), ("negative", "-1e300")]
    if isinstance(t, click.types.StringParamType):
        return [("text-quotes", HOSTILE_TEXT[0]), ("text-formula", HOSTILE_TEXT[1])]
    return []


def cases(f: dict[str, Path], out: Path) -> list[tuple[str, list[str]]]:
    """(id, argv) for every command × parameter × hostile value."""
    result = []
    for words, cmd in leaf_commands():
        base: dict[str, list[str]] = {}
        params = [p for p in cmd.params if p.name not in ("help",)]
        for p in params:
            v = _base_value(p, words, f, out)
            if v is not None:
                base[p.name] = v
        for p in params:
            for label, value in _hostile_values(p, words, f):
                argv = [*words]
                dropped = DROP.get((" ".join(words), p.name), set())
                for q in params:
                    vals = [value] if q is p else base.get(q.name)
                    if vals is None or q.name in dropped:
                        continue
                    if isinstance(q, click.Argument):
                        argv += vals
                    else:
                        argv += [q.opts[0], *vals]
                result.append((f"{' '.join(words)}:{p.name}:{label}", argv))
    return result


def test_every_command_is_walked():
    names = {" ".join(w) for w, _ in leaf_commands()}
    assert {"ingest", "observations", "io", "composite", "disaggregate", "coef revenue", "target add"} <= names


def test_hostile_input_never_gives_a_traceback(files, tmp_path, monkeypatch):
    monkeypatch.setenv("KINHTESO_ERROR_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("KINHTESO_READ_TIMEOUT", "2")
    monkeypatch.delenv("KINHTESO_DEBUG", raising=False)
    runner = CliRunner()
    failures, internal = [], []
    all_cases = cases(files, tmp_path / "out")
    assert len(all_cases) > 100
    started = time.monotonic()
    for i, (case, argv) in enumerate(all_cases):
        lang = ("vi", "en")[i % 2]
        res = runner.invoke(main, ["--lang", lang, *argv])
        text = res.output
        why = []
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            why.append(f"raised {type(res.exception).__name__}: {res.exception}")
        if "Traceback" in text:
            why.append("a traceback")
        if case in ALLOWED_SUCCESS and res.exit_code == 0:
            pass
        elif res.exit_code not in (1, 2):
            why.append(f"exit code {res.exit_code}")
        elif not CODE.search(text):
            why.append("no error code")
        if why:
            failures.append(f"{case} [{lang}] {argv!r}: {', '.join(why)}\n    {text.strip()[:400]}")
        if "INTERNAL_ERROR" in text:
            internal.append(f"{case}: {text.strip()[:300]}")
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} of {len(all_cases)} cases:\n" + "\n".join(failures)
    assert elapsed < 60, f"the walk took {elapsed:.0f} s"
    print(f"{len(all_cases)} hostile cases in {elapsed:.1f} s; {len(internal)} internal errors")
    for line in internal:
        print("  " + line)
