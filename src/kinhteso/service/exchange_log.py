"""The tamper-evident exchange log of the HTTP API: check its chain, export it for an auditor.

Every request to the API and its response is an entry of the store's ``exchange_log`` (see
:mod:`kinhteso.api.log`), chained to the previous entry's hash
(:func:`kinhteso.store.log_entry_hash`). :func:`verify_log` walks the chain and names the first
broken entry; :func:`log_entries` gives the entries since a moment, every column, so that an
auditor can check the chain again from the export alone.

What the chain shows and what it cannot: a changed field, a changed hash, an entry deleted or
inserted in the middle are each found. Entries cut from the *end* leave a shorter chain that is
intact; :class:`LogCheck` therefore reports the head (the number of entries, the last id and
its hash), which an auditor notes and compares the next time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kinhteso.errors import UsageError
from kinhteso.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from kinhteso.store import LogBreak

__all__ = ["LogCheck", "verify_log", "log_entries", "parse_since"]


@dataclass(frozen=True)
class LogCheck:
    """The chain checked: how many entries, the last one's id and hash, and the first broken
    entry (None when the chain is intact)."""

    entries: int
    last_entry_id: int
    head: str
    broken: LogBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict:
        b = self.broken
        return {"intact": self.intact, "entries": self.entries, "last_entry_id": self.last_entry_id,
                "head": self.head,
                "broken": None if b is None else {"entry_id": b.entry_id, "reason": b.reason, "vi": b.vi, "en": b.en}}


def verify_log(ws: Workspace) -> LogCheck:
    """Check the whole exchange log of ``ws``."""
    store = ws.store
    broken = store.verify_log()
    n, last, head = store.log_head()
    return LogCheck(entries=n, last_entry_id=last, head=head, broken=broken)


def parse_since(text: str | None) -> dt.datetime | None:
    """``2026-11-26`` (from the start of that day), ``2026-11-26T10:00`` or ``2026-11-26 10:00:00``
    (local time, the clock of ``logged_at``); ``BAD_SINCE`` otherwise."""
    if text is None or not str(text).strip():
        return None
    try:
        return dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError("BAD_SINCE",
                         f"--since '{text}' không phải ngày hoặc mốc thời gian; dùng 2026-11-26 hoặc 2026-11-26T10:00.",
                         f"--since '{text}' is not a date or a timestamp; use 2026-11-26 or 2026-11-26T10:00.",
                         since=str(text)) from None


def log_entries(ws: Workspace, since: dt.datetime | None = None) -> pd.DataFrame:
    """Entries logged at or after ``since`` (all when None), oldest first: every column, with
    ``logged_at`` as ISO text to the microsecond (the text the entry's hash covers) and an
    anonymous ``member`` as empty text."""
    frame = ws.store.log_entries(since)
    frame["logged_at"] = [t.isoformat(timespec="microseconds") for t in frame["logged_at"]]
    frame["member"] = frame["member"].fillna("")
    return frame
