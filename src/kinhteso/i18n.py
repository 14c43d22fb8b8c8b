"""Language of messages and number formatting (Vietnamese first, English second).

The language is chosen once per command (``--lang`` or ``KINHTESO_LANG``, default ``vi``) and
read by whatever renders text. Pure methods never depend on it.

>>> with use_lang("en"):
...     tr("Xin chào", "Hello")
'Hello'
>>> fmt_number(1234.5, 1, lang="vi")
'1.234,5'
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections.abc import Iterator

__all__ = ["LANGS", "current_lang", "set_lang", "use_lang", "tr", "fmt_number", "DEMO_LABEL", "TARGET_STATUS",
           "FIGURE_BASIS", "TARGET_BASIS"]

LANGS = ("vi", "en")
_lang: contextvars.ContextVar[str | None] = contextvars.ContextVar("kinhteso_lang", default=None)

#: Shown beside every illustrative number.
DEMO_LABEL = {
    "vi": "SỐ LIỆU MINH HỌA (demo), không phải số liệu thống kê chính thức",
    "en": "ILLUSTRATIVE DEMO DATA, not official statistics",
}

#: A target's status (:data:`kinhteso.methods.targets.STATUSES`) → (Vietnamese, English) words.
TARGET_STATUS = {"achieved": ("đạt", "achieved"), "on_track": ("đúng hướng", "on track"),
                 "at_risk": ("có nguy cơ", "at risk"), "off_track": ("chệch hướng", "off track")}

#: The basis of a reported figure (:data:`kinhteso.service.figures.BASIS_ORDER`) → (Vietnamese, English).
FIGURE_BASIS = {"published": ("công bố/được gửi", "published/submitted"), "benchmarked": ("đã khớp số năm", "benchmarked"),
                "estimated": ("ước tính", "estimated"), "nowcast": ("dự báo tức thời", "nowcast")}

#: The series a target was set on, short (:data:`kinhteso.reference.targets.BASIS_LABELS` has the
#: long form) → (Vietnamese, English).
TARGET_BASIS = {"DE_SHARE": ("tỷ trọng theo số thống kê chính thức (GSO/NSO)", "official-statistics share (GSO/NSO)"),
                "DE_SHARE_MIC": ("tỷ trọng theo cách tính của Bộ TT&TT (MIC)", "MIC-style share")}


def current_lang() -> str:
    """The language in force: the one set for this command, else ``KINHTESO_LANG``, else ``vi``."""
    lang = _lang.get() or os.environ.get("KINHTESO_LANG", "vi")
    return lang if lang in LANGS else "vi"


def set_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, got {lang!r}")
    _lang.set(lang)


@contextlib.contextmanager
def use_lang(lang: str) -> Iterator[None]:
    token = _lang.set(lang)
    try:
        yield
    finally:
        _lang.reset(token)


def tr(vi: str, en: str) -> str:
    """Pick the text for the language in force."""
    return vi if current_lang() == "vi" else en


def fmt_number(x: float | None, digits: int = 2, *, lang: str | None = None) -> str:
    """Format a number: ``1.234,5`` in Vietnamese, ``1,234.5`` in English; ``–`` for missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    s = f"{x:,.{digits}f}"
    if (lang or current_lang()) == "vi":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s
