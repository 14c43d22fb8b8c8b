"""Periods: one parser for every command and every file.

A period is stored as an SDMX TIME_PERIOD: ``2025`` (a year), ``2025-Q3`` (a quarter),
``2025-07`` (a month). People write periods in many other ways (``2025Q3``, ``Q3/2025``,
``Quý 3/2025``, ``Tháng 7 năm 2025``, ``07/2025``...); :data:`FORMS` lists every form that is
read, and :func:`parse_period` (lenient: ``None`` when malformed, for ingestion) and
:func:`period` (strict: raises ``UsageError`` ``BAD_PERIOD``, for command options) read them.
Matching ignores case, surrounding and doubled spaces and Vietnamese diacritics (``Quy 3/2025``
is ``Quý 3/2025``); quarters may be Roman numerals (``Quý III/2025``). Years run 1900–2100,
quarters 1–4, months 1–12; a two-digit year (``Q3/25``) is not read.

Standard library only: the CLI imports this module on start.

>>> parse_period("Quý 3/2025")
Period(code='2025-Q3', freq='Q', start=datetime.date(2025, 7, 1))
>>> period("07/2025").code, period("Năm 2025").code
('2025-07', '2025')
>>> parse_period("2025-Q5") is None
True
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from kinhteso.errors import UsageError

__all__ = [
    "Period",
    "PeriodForm",
    "FORMS",
    "FREQUENCIES",
    "MIN_YEAR",
    "MAX_YEAR",
    "ACCEPTED_FORMS_VI",
    "ACCEPTED_FORMS_EN",
    "BAD_PERIOD_VI",
    "BAD_PERIOD_EN",
    "parse_period",
    "period",
    "match_period",
]

#: The years a period may fall in.
MIN_YEAR, MAX_YEAR = 1900, 2100
#: Frequency code (SDMX FREQ) → periods per year.
FREQUENCIES = {"A": 1, "Q": 4, "M": 12}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_ROMAN_OUT = {v: k.upper() for k, v in _ROMAN.items()}


@dataclass(frozen=True)
class Period:
    """One period: its SDMX TIME_PERIOD ``code``, its frequency ``freq`` (``A``, ``Q`` or ``M``)
    and the date it starts.

    >>> p = Period.of("Q", 2025, 3)
    >>> p.code, p.year, p.quarter, p.end
    ('2025-Q3', 2025, 3, datetime.date(2025, 9, 30))
    >>> Period.from_ordinal("M", p.ordinal * 3 + 1).code   # the quarter's second month
    '2025-08'
    """

    code: str
    freq: str
    start: dt.date

    @classmethod
    def of(cls, freq: str, year: int, sub: int = 1) -> Period:
        """The period of frequency ``freq`` in ``year``; ``sub`` is the quarter or the month (1-based).

        Raises ``ValueError`` for a frequency, year or sub-period out of range.
        """
        n = FREQUENCIES.get(freq)
        if n is None:
            raise ValueError(f"frequency must be one of {tuple(FREQUENCIES)}, got {freq!r}")
        if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= sub <= n:
            raise ValueError(f"no period {year} {freq}{sub}: years {MIN_YEAR}–{MAX_YEAR}, sub-periods 1–{n}")
        if freq == "A":
            return cls(f"{year}", "A", dt.date(year, 1, 1))
        if freq == "Q":
            return cls(f"{year}-Q{sub}", "Q", dt.date(year, 3 * sub - 2, 1))
        return cls(f"{year}-{sub:02d}", "M", dt.date(year, sub, 1))

    @classmethod
    def from_ordinal(cls, freq: str, ordinal: int) -> Period:
        """The inverse of :attr:`ordinal`: the ``ordinal``-th period of frequency ``freq``."""
        year, k = divmod(ordinal, FREQUENCIES[freq])
        return cls.of(freq, year, k + 1)

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def per_year(self) -> int:
        """Periods per year at this frequency: 1, 4 or 12."""
        return FREQUENCIES[self.freq]

    @property
    def sub(self) -> int:
        """The quarter (``Q``) or the month (``M``) within the year; 1 for a year."""
        return {"A": 1, "Q": (self.start.month + 2) // 3, "M": self.start.month}[self.freq]

    @property
    def quarter(self) -> int | None:
        """The quarter of a quarter or a month; None for a year."""
        return None if self.freq == "A" else (self.start.month + 2) // 3

    @property
    def month(self) -> int | None:
        """The month of a month; None for a year or a quarter."""
        return self.start.month if self.freq == "M" else None

    @property
    def ordinal(self) -> int:
        """Consecutive periods of one frequency have consecutive ordinals (``year × per_year + sub − 1``)."""
        return self.year * self.per_year + self.sub - 1

    @property
    def end(self) -> dt.date:
        """The last day of the period."""
        last_month = self.start.month + 12 // self.per_year - 1
        return dt.date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def format(self, template: str) -> str:
        """The period written with a template of :data:`FORMS`: fields ``{y}`` (year), ``{q}``
        (quarter), ``{r}`` (quarter in Roman numerals), ``{m}`` (month) and ``{mm}`` (month, two digits).

        >>> Period.of("Q", 2025, 3).format("Quý {r} năm {y}")
        'Quý III năm 2025'
        """
        q = self.quarter or 1
        m = self.month or 1
        return template.format(y=self.year, q=q, r=_ROMAN_OUT[q], m=m, mm=f"{m:02d}")

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class PeriodForm:
    """One way of writing a period: its ``name`` (a notation such as ``Qn/YYYY``), frequency,
    the ``template`` that writes a period in it (see :meth:`Period.format`), other spellings
    listed beside it in messages (``variants``), and the pattern it is read with (over the text
    lower-cased, without diacritics and with single spaces)."""

    name: str
    freq: str
    template: str
    pattern: re.Pattern[str]
    variants: tuple[str, ...] = ()
    canonical: bool = False


def _form(name: str, freq: str, template: str, pattern: str, *variants: str, canonical: bool = False) -> PeriodForm:
    return PeriodForm(name, freq, template, re.compile(pattern), tuple(variants), canonical)


_Y, _Q, _QR, _M = r"(?P<y>\d{4})", r"(?P<q>\d)", r"(?P<q>\d|[ivx]+)", r"(?P<m>\d{1,2})"

#: Every form a period is read in; the first of each frequency is the SDMX TIME_PERIOD.
FORMS: tuple[PeriodForm, ...] = (
    _form("YYYY", "A", "{y}", _Y, canonical=True),
    _form("Năm YYYY", "A", "Năm {y}", rf"nam ?{_Y}"),
    _form("YYYY-Qn", "Q", "{y}-Q{q}", rf"{_Y} ?- ?q{_Q}", canonical=True),
    _form("YYYYQn", "Q", "{y}Q{q}", rf"{_Y}q{_Q}"),
    _form("YYYY Qn", "Q", "{y} Q{q}", rf"{_Y} q{_Q}"),
    _form("Qn/YYYY", "Q", "Q{q}/{y}", rf"q{_Q} ?/ ?{_Y}"),
    _form("Qn-YYYY", "Q", "Q{q}-{y}", rf"q{_Q} ?- ?{_Y}"),
    _form("Quý n/YYYY", "Q", "Quý {q}/{y}", rf"quy ?{_QR} ?[/-] ?{_Y}", "Quý {r}/{y}"),
    _form("Quý n năm YYYY", "Q", "Quý {q} năm {y}", rf"quy ?{_QR} nam {_Y}"),
    _form("YYYY-MM", "M", "{y}-{mm}", rf"{_Y} ?- ?{_M}", "{y}-{m}", canonical=True),
    _form("YYYYMmm", "M", "{y}M{mm}", rf"{_Y} ?m ?{_M}"),
    _form("YYYY/MM", "M", "{y}/{mm}", rf"{_Y} ?/ ?{_M}"),
    _form("MM/YYYY", "M", "{mm}/{y}", rf"{_M} ?/ ?{_Y}", "{m}/{y}"),
    _form("Tháng MM/YYYY", "M", "Tháng {m}/{y}", rf"thang ?{_M} ?[/-] ?{_Y}"),
    _form("Tháng MM năm YYYY", "M", "Tháng {m} năm {y}", rf"thang ?{_M} nam {_Y}"),
)

_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})


def _fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), ASCII dashes, single spaces."""
    t = unicodedata.normalize("NFD", text.strip().lower()).replace("đ", "d").translate(_DASHES)
    t = "".join(c for c in t if not unicodedata.combining(c))
    return " ".join(t.split())


@lru_cache(maxsize=4096)
def _match(text: str) -> tuple[PeriodForm, Period] | None:
    folded = _fold(text)
    for form in FORMS:
        m = form.pattern.fullmatch(folded)
        if m is None:
            continue
        g = m.groupdict()
        year = int(g["y"])
        if form.freq == "A":
            sub = 1
        elif form.freq == "Q":
            sub = _ROMAN.get(g["q"]) or (int(g["q"]) if g["q"].isdigit() else 0)
        else:
            sub = int(g["m"])
        if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= sub <= FREQUENCIES[form.freq]:
            return None
        return form, Period.of(form.freq, year, sub)
    return None


def match_period(text: object) -> tuple[PeriodForm, Period] | None:
    """The form ``text`` is written in and the period it names, or None when it is no period.

    >>> form, p = match_period("2025q3")
    >>> form.name, p.code
    ('YYYYQn', '2025-Q3')
    """
    if text is None:
        return None
    if isinstance(text, Period):
        return next(f for f in FORMS if f.canonical and f.freq == text.freq), text
    return _match(str(text))


def parse_period(text: object) -> Period | None:
    """The period ``text`` names, in any of :data:`FORMS`; None when it is malformed (lenient,
    for reading files, where every problem is collected before the file is refused).

    >>> parse_period(" tháng 7 năm 2025 ").code
    '2025-07'
    """
    found = match_period(text)
    return found[1] if found else None


def period(text: object) -> Period:
    """The period ``text`` names; raises ``UsageError`` ``BAD_PERIOD`` (strict, for options and
    requests), whose message names what was given and lists the accepted forms.

    >>> period("Q3/2025").code
    '2025-Q3'
    """
    p = parse_period(text)
    if p is None:
        raise UsageError("BAD_PERIOD", BAD_PERIOD_VI.format(value=text), BAD_PERIOD_EN.format(value=text),
                         value=text)
    return p


def _accepted(lang: str) -> str:
    example = {"A": Period.of("A", 2025), "Q": Period.of("Q", 2025, 3), "M": Period.of("M", 2025, 7)}
    vi = lang == "vi"
    label = {"A": ("năm", "a year"), "Q": ("quý", "a quarter"), "M": ("tháng", "a month")}
    parts = []
    for freq in FREQUENCIES:
        written = [example[freq].format(t) for f in FORMS if f.freq == freq for t in (f.template, *f.variants)]
        canonical, others = written[0], list(dict.fromkeys(written[1:]))
        also = ("hoặc " if vi else "or ") + ", ".join(others)
        parts.append(f"{label[freq][0 if vi else 1]} {canonical} ({also})")
    if vi:
        return f"{parts[0]}, {parts[1]} hoặc {parts[2]}; năm {MIN_YEAR}–{MAX_YEAR}, quý 1–4, tháng 1–12"
    return f"{parts[0]}, {parts[1]} or {parts[2]}; years {MIN_YEAR}–{MAX_YEAR}, quarters 1–4, months 1–12"


#: The accepted forms, as listed in messages (Vietnamese, English).
ACCEPTED_FORMS_VI = _accepted("vi")
ACCEPTED_FORMS_EN = _accepted("en")
#: The message of ``BAD_PERIOD`` (a template with ``{value}``), for options and for files alike.
BAD_PERIOD_VI = "Kỳ '{value}' không đúng dạng; dùng " + ACCEPTED_FORMS_VI + "."
BAD_PERIOD_EN = "Period '{value}' is malformed; use " + ACCEPTED_FORMS_EN + "."
