"""Write docs/cli.md from the commands' own help (so the CLI reference stays true to the code).

    .venv/bin/python scripts/gen_cli_docs.py          # rewrite docs/cli.md
    .venv/bin/python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kinhteso.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], [*path, name])


def render() -> str:
    out = [
        "# CLI reference / Tham chiếu dòng lệnh",
        "",
        "Generated from the commands' own `--help` by `scripts/gen_cli_docs.py` (a test checks it is",
        "current). Global options go before the command: `kinhteso --lang en COMMAND …`. Exit codes:",
        "0 success, 1 input rejected (nothing stored or written), 2 usage error.",
        "",
    ]
    for path, cmd in _walk(main, ["kinhteso"]):
        ctx = click.Context(cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100)
        title = " ".join(path)
        out += [f"## `{title}`", "", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if DOC.exists() and DOC.read_text(encoding="utf-8") == text else 1)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
