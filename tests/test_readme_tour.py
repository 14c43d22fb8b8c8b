"""The README's "A short tour" runs as written, on the sample files of `examples/`.

The tour's ```sh block is parsed (no shell: variables `K` and `W` are expanded by hand, quotes as
a POSIX shell reads them) and every command is run, in order, in a temporary directory holding a
copy of `examples/` and a demo workspace built there (`kinhteso demo --workspace
demo-workspace`). Every command must exit 0, except a command whose comment says `exit 1`: it must
exit 1 and write the problems file its comment names. No command is skipped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
SHELL_OPERATORS = {"|", "||", "&", "&&", ";", ">", ">>", "<", "2>", "2>&1"}


def _make_examples():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_examples  # noqa: PLC0415
    finally:
        sys.path.pop(0)
    return make_examples


def tour_block(text: str) -> str:
    """The ```sh block right under the heading "A short tour"."""
    m = re.search(r"^## A short tour[^\n]*\n+```sh\n(.*?)^```", text, re.S | re.M)
    assert m, 'README.md has no ```sh block under "## A short tour"'
    return m.group(1)


def tour_steps(block: str, k: list[str]) -> list[tuple[list[str], str]]:
    """(argv, comment) of every command of the tour, `$K` replaced by ``k``."""
    env: dict[str, list[str]] = {}
    steps: list[tuple[list[str], str]] = []
    for lineno, line in enumerate(block.splitlines(), 1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        comment = line.split("#", 1)[1] if "#" in line and not line.lstrip().startswith("#") else ""
        if len(words) == 1 and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, value = words[0].split("=", 1)
            env[name] = k if name == "K" else shlex.split(value)
            continue
        argv: list[str] = []
        for w in words:
            if w in SHELL_OPERATORS:
                raise AssertionError(f"tour line {lineno}: {w!r} needs a shell; keep the tour to plain commands")
            var = re.fullmatch(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", w)
            if var:
                assert var.group(1) in env, f"tour line {lineno}: ${var.group(1)} is not set above it"
                argv += env[var.group(1)]
            else:
                assert "$" not in w, f"tour line {lineno}: {w!r} needs a shell to expand"
                argv.append(w)
        assert argv[: len(k)] == k, f"tour line {lineno} does not start with $K: {line!r}"
        steps.append((argv, comment))
    return steps


def _kinhteso() -> list[str]:
    exe = Path(sys.executable).with_name("kinhteso")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kinhteso"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINHTESO_")}
    env["KINHTESO_LANG"] = "en"
    return env


# ----------------------------------------------------------------------------------- fast checks

def test_examples_are_what_the_script_writes():
    files = _make_examples().build()
    for rel, text in files.items():
        assert (EXAMPLES / rel).read_text(encoding="utf-8") == text, (
            f"examples/{rel} differs from scripts/make_examples.py's: run .venv/bin/python scripts/make_examples.py")
    shipped = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*")
               if p.is_file() and not p.name.endswith(".problems.csv")}  # the tour's bad.csv writes one here
    assert shipped == set(files) | {"README.md"}, shipped ^ (set(files) | {"README.md"})


def test_examples_are_labelled_illustrative():
    doc = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert "illustrative" in doc.lower() and "minh họa" in doc.lower()
    for rel in _make_examples().build():
        assert f"`{rel}`" in doc, f"examples/README.md does not describe {rel}"
    for sub in ("va_hai_phong.csv", "bad.csv", "va2026.csv"):  # submissions: a note where the format has one
        text = (EXAMPLES / sub).read_text(encoding="utf-8")
        assert text.startswith("# SỐ LIỆU MINH HỌA") and "ILLUSTRATIVE" in text, sub


def test_the_tour_uses_the_examples_and_parses():
    block = tour_block(README.read_text(encoding="utf-8"))
    steps = tour_steps(block, ["kinhteso"])
    assert len(steps) >= 20
    used = {part for argv, _ in steps for word in argv for part in word.split("=") if part.startswith("examples/")}
    for rel in _make_examples().build():
        assert f"examples/{rel}" in used, f"the tour uses no examples/{rel}"
    for w in used:
        assert (ROOT / w).exists(), f"the tour names {w}, which is not shipped"
    failing = [c for _, c in steps if "exit 1" in c]
    assert len(failing) == 1 and re.search(r"problems in \S+\.problems\.csv", failing[0])


def test_tour_parser_expands_variables_and_refuses_shell():
    steps = tour_steps('K=x\nW="--workspace d"\n$K a "b c" $W  # note\n# only a comment\n', ["k"])
    assert steps == [(["k", "a", "b c", "--workspace", "d"], " note")]
    with pytest.raises(AssertionError):
        tour_steps("K=x\n$K a | head\n", ["k"])
    with pytest.raises(AssertionError):
        tour_steps("K=x\n$K a $UNSET\n", ["k"])


# ------------------------------------------------------------------------------- the tour itself

@pytest.fixture(scope="module")
def tour_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tour")
    shutil.copytree(EXAMPLES, d / "examples")
    r = subprocess.run([*_kinhteso(), "demo", "--workspace", "demo-workspace"], cwd=d, env=_env(),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"kinhteso demo failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return d


@pytest.mark.slow
def test_every_tour_command_runs_as_written(tour_dir):
    k = _kinhteso()
    steps = tour_steps(tour_block(README.read_text(encoding="utf-8")), k)
    failures = []
    for argv, comment in steps:
        shown = "$K " + shlex.join(argv[len(k):])
        r = subprocess.run(argv, cwd=tour_dir, env=_env(), capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
        expected = 1 if "exit 1" in comment else 0
        if r.returncode != expected:
            failures.append(f"{shown}: exit {r.returncode}, expected {expected}\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
            continue
        if "retract" in argv and "va2026.csv" in comment:  # the vintage number the tour gives is that file's
            if "va2026.csv" not in r.stdout + r.stderr:
                failures.append(f"{shown}: did not withdraw va2026.csv, as the tour says\n{r.stdout[-800:]}")
        if expected == 1:
            problems = re.search(r"problems in (\S+\.problems\.csv)", comment)
            assert problems, f"{shown}: say where its problems are written"
            path = tour_dir / problems.group(1)
            if not path.is_file() or len(path.read_text(encoding="utf-8-sig").splitlines()) < 3:
                failures.append(f"{shown}: no problems file {problems.group(1)}")
    assert not failures, "README tour commands failed:\n\n" + "\n\n".join(failures)
