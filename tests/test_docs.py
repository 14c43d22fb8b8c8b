"""The documentation stays true to the code: the CLI reference is generated from the commands'
own help, every command is documented, every document the README names exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"], capture_output=True)
    assert r.returncode == 0, "docs/cli.md is out of date: run .venv/bin/python scripts/gen_cli_docs.py"


def test_every_command_is_in_the_reference():
    from kinhteso.cli import main

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in main.commands if f"## `kinhteso {name}`" not in doc]
    assert not missing, f"commands missing from docs/cli.md: {missing}"


def test_readme_links_resolve_and_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    for rel in re.findall(r"`(docs/[\w\-./]+\.md)`", readme):
        assert (ROOT / rel).exists(), rel
