"""Write the table of every error code kinhteso raises into docs/data-formats.md (between the
markers ``<!-- error-codes:begin -->`` and ``<!-- error-codes:end -->``), from the code itself:
each ``...Error("CODE", vi, en)``, ``KinhtesoError(...)`` and ``problem("CODE", ...)`` call, with
the module that raises it and its English message (placeholders shown as ``{…}``). Validation
codes of ingestion (``ingest/rules.py``) are documented in their own table above it.

    .venv/bin/python scripts/gen_error_codes.py          # rewrite the section
    .venv/bin/python scripts/gen_error_codes.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "kinhteso"
DOC = ROOT / "docs" / "data-formats.md"
BEGIN, END = "<!-- error-codes:begin -->", "<!-- error-codes:end -->"
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{3,}$")


def _text(node: ast.AST | None) -> str:
    """A message argument as text: a constant, or an f-string with its fields shown as {…}."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left) + _text(node.right)
    return ""


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def codes() -> dict[str, tuple[set[str], str]]:
    """code → (modules that raise it, an English message)."""
    out: dict[str, tuple[set[str], str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = path.relative_to(SRC.parent).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = _name(node.func)
            if not (name.endswith("Error") or name in ("problem", "_locked")):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and _CODE.match(first.value)):
                continue
            en = _text(node.args[2]) if len(node.args) > 2 else ""
            mods, msg = out.setdefault(first.value, (set(), ""))
            mods.add(module)
            if en and not msg:
                out[first.value] = (mods, " ".join(en.split()))
    return out


def render() -> str:
    from kinhteso.ingest.rules import RULES  # noqa: PLC0415

    rows = [BEGIN, "", "| code | raised by | message (English; `{…}` is filled in) |", "|---|---|---|"]
    for code, (mods, msg) in sorted(codes().items()):
        if code in RULES:
            continue  # in the validation table above
        cell = msg.replace("|", "\\|") or "(see the module)"
        rows.append(f"| `{code}` | {', '.join(f'`{m}`' for m in sorted(mods))} | {cell} |")
    rows += ["", END]
    return "\n".join(rows)


def main() -> int:
    doc = DOC.read_text(encoding="utf-8")
    if BEGIN not in doc or END not in doc:
        print(f"{DOC}: the markers {BEGIN} … {END} are missing", file=sys.stderr)
        return 1
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + render() + tail
    if "--check" in sys.argv:
        return 0 if new == doc else 1
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
