"""Write docs/indicators.md: every indicator sheet, the Decision 1354 list and the legal documents,
as ``kinhteso indicator export --format md`` writes them (one rendering:
:func:`kinhteso.service.indicators.sheets_markdown`).

    .venv/bin/python scripts/gen_indicator_docs.py          # rewrite docs/indicators.md
    .venv/bin/python scripts/gen_indicator_docs.py --check  # exit 1 if docs/indicators.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from kinhteso.service.indicators import sheets_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "indicators.md"


def render() -> str:
    return sheets_markdown() + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if DOC.exists() and DOC.read_text(encoding="utf-8") == text else 1)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
