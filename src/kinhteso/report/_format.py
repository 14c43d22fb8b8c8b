"""How a cell of a briefing's table is shown as text (PDF, HTML): numbers in the language's format."""

from __future__ import annotations

from typing import Any

from kinhteso.i18n import fmt_number

__all__ = ["cell_text"]


def cell_text(value: Any, digits: int | None, lang: str) -> str:
    """``value`` as text: a number with ``digits`` decimals in ``lang``'s format, ``–`` when missing."""
    if value is None:
        return "–"
    if digits is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_number(float(value), digits, lang=lang)
    return str(value)
