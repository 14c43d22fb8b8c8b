"""Results that change when a submission arrives: the quarterly figures a vintage feeds are
recomputed and stored, so that the changes feed (``GET /api/v1/changes``) reports them.

A vintage feeds the accounts when it holds one of their inputs (``GRDP``, ``GRDP_VA``,
``DIGITAL_COEF``, ``ALLOC_RATIO``, ``PLATFORM_VA``). The territories it affects are those it
holds, a 63-basis province's 34-basis successor (its history is summed into it), and, when it
holds the nation's ``DIGITAL_COEF`` or ``ALLOC_RATIO`` (which provinces borrow where they have
none of their own), every territory whose quarterly figures are stored. For each, the quarterly
figures are recomputed with the default settings and with every other set of settings stored for
it (:func:`kinhteso.pipeline.quarterly.quarterly_many`, one read of the store) and stored in one
write (:func:`~kinhteso.pipeline.quarterly.save_many`): unchanged inputs give the run stored
already (nothing new in the feed), changed ones a new run. Failures (too few years, missing
quarters, an error of the store) are reported in the outcome and logged, never raised.

:class:`Refresher` does this in a background thread for a server: a submission is answered at
once, refreshes queued meanwhile are merged into one, and closing waits for the refresh under
way (dropping, and logging, what is still queued after a time-out).

>>> ACCOUNT_INPUTS
('GRDP', 'GRDP_VA', 'DIGITAL_COEF', 'ALLOC_RATIO', 'PLATFORM_VA')
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from kinhteso.workspace import Workspace

__all__ = ["ACCOUNT_INPUTS", "BACKGROUND_SHARE", "RefreshOutcome", "affected_territories", "refresh", "refresh_after", "Refresher"]

log = logging.getLogger("kinhteso.refresh")

#: the submitted indicators the accounts (and so the quarterly figures) read
ACCOUNT_INPUTS = ("GRDP", "GRDP_VA", "DIGITAL_COEF", "ALLOC_RATIO", "PLATFORM_VA")
#: the nation's inputs provinces borrow where they have none of their own
_BORROWED = ("DIGITAL_COEF", "ALLOC_RATIO")
#: the quarterly settings always recomputed: (indicator set, method, view)
_DEFAULT = ("gdp", None, "gso")
#: The share of its time a server's background work (this refresh, the API's recomputation of
#: stale figures) spends computing: after each computation it rests (1/share − 1) times as long
#: as the computation took, so that a stream of submissions never takes the processor from the
#: readers; the cost is a longer lag of the refreshed figures behind the submissions.
BACKGROUND_SHARE = 0.1


@dataclass
class RefreshOutcome:
    """What a refresh did."""

    vintages: list[int]
    territories: list[str] = field(default_factory=list)   #: recomputed
    periods: list[str] = field(default_factory=list)       #: the periods the vintages hold
    runs: list[str] = field(default_factory=list)          #: the runs of the recomputed figures
    failed: list[dict] = field(default_factory=list)       #: {territory, code, vi, en}

    def as_json(self) -> dict:
        return {"vintages": self.vintages, "territories": self.territories, "periods": self.periods,
                "runs": self.runs, "failed": self.failed}


def _stored_settings(ws: Workspace) -> dict[str, set[tuple]]:
    """territory → the (indicator set, method, view) of its stored quarterly runs computed with
    the ordinary settings (all years, latest coefficients, default core, no ``as_of``)."""
    out: dict[str, set[tuple]] = {}
    runs = ws.store.result_runs(kind="quarterly")
    for method, params in zip(runs["method"], runs["parameters"]):
        p = json.loads(params) if isinstance(params, str) else dict(params or {})
        if p.get("last_year") is not None or p.get("as_of") is not None or p.get("core", "default") != "default" \
                or p.get("coef_source", "latest") != "latest" or not p.get("territory"):
            continue
        out.setdefault(p["territory"], set()).add((p.get("indicator_set", "gdp"), method, p.get("view", "gso")))
    return out


def affected_territories(ws: Workspace, vintage_ids: Iterable[int]) -> tuple[list[str], list[str], dict]:
    """(territories whose quarterly figures the vintages feed, the periods they hold, the stored
    settings by territory); no territory when they hold no input of the accounts."""
    from kinhteso.reference import territories as terr  # noqa: PLC0415

    scope = [ws.store.vintage_scope(int(v)) for v in vintage_ids]
    keys = [f for f in scope if len(f)]
    if not keys:
        return [], [], {}
    import pandas as pd  # noqa: PLC0415

    rows = pd.concat(keys, ignore_index=True)
    rows = rows[rows.indicator.isin(ACCOUNT_INPUTS)]
    if rows.empty:
        return [], [], {}
    stored = _stored_settings(ws)
    successor = dict(zip(terr.merger_map().old_key, terr.merger_map().new_key))
    out: list[str] = []
    for t in dict.fromkeys(rows.territory):
        if t == "VN" or t.startswith("34:"):
            out.append(t)
        elif t in successor:
            out.append(successor[t])
            if t in stored:  # a 63-basis province's own quarterly figures, when they were computed
                out.append(t)
    national = rows[(rows.territory == "VN") & rows.indicator.isin(_BORROWED)]
    if len(national):
        out.extend(sorted(stored))
    return list(dict.fromkeys(out)), sorted(set(rows.period)), stored


def refresh(ws: Workspace, vintage_ids: Iterable[int]) -> RefreshOutcome:
    """Recompute and store the quarterly figures the vintages feed (see the module's text).
    Never raises: what failed is in ``failed`` (and logged)."""
    from kinhteso.errors import KinhtesoError  # noqa: PLC0415

    vids = sorted({int(v) for v in vintage_ids})
    out = RefreshOutcome(vids)
    try:
        territories, periods, stored = affected_territories(ws, vids)
        out.periods = periods
        if not territories:
            return out
        from kinhteso.pipeline import quarterly as Q  # noqa: PLC0415

        plans: dict[tuple, list[str]] = {}
        for t in territories:
            default = (_DEFAULT[0], Q.INDICATOR_SETS[_DEFAULT[0]], _DEFAULT[2])
            settings = {default} | set(stored.get(t, ()))
            for s in settings:
                plans.setdefault(s, []).append(t)
        for (indicator_set, method, view), keys in plans.items():
            try:
                done, failed = Q.quarterly_many(ws, keys, indicator=indicator_set, method=method, view=view)
                if done:
                    out.runs.extend(Q.save_many(ws, done))
            except KinhtesoError as exc:
                failed = [(k, exc) for k in keys]
            for k, exc in failed:
                out.failed.append({"territory": k, "code": exc.code, "vi": exc.vi, "en": exc.en})
        out.territories = territories
    except Exception as exc:  # noqa: BLE001 — a refresh reports, it never breaks the submission
        code = getattr(exc, "code", "INTERNAL_ERROR")
        out.failed.append({"territory": None, "code": code, "vi": getattr(exc, "vi", str(exc)),
                           "en": getattr(exc, "en", str(exc))})
        log.exception("refresh after vintages %s failed", vids)
    out.runs = list(dict.fromkeys(out.runs))
    for f in out.failed:
        log.warning("refresh after vintages %s: %s %s: %s", vids, f["territory"], f["code"], f["en"])
    return out


def refresh_after(ws: Workspace, vintage_id: int) -> list[str]:
    """Recompute and store the quarterly figures vintage ``vintage_id`` feeds; the run ids of
    the recomputed figures (a new run where a result changed). Failures are logged, not raised
    (use :func:`refresh` for them)."""
    return refresh(ws, [vintage_id]).runs


class Refresher:
    """Refreshes in one background thread (the server's): :meth:`submit` returns at once;
    vintages queued while a refresh runs, and during the rest after it (``pause`` seconds, or
    longer so that refreshing takes at most ``share`` of the time), are refreshed together next
    (many submissions at once cost a few refreshes, and readers keep the processor meanwhile). :meth:`close` waits for the queue to drain up to ``timeout``
    seconds, then drops what is still queued (logged) and waits for the refresh under way, so
    the workspace can be closed after it."""

    def __init__(self, ws: Workspace, *, keep: int = 100, pause: float = 1.0,
                 share: float = BACKGROUND_SHARE) -> None:
        self._ws = ws
        self.pause = pause
        self.share = share
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._busy = False
        self._closed = False
        self._cancel = False
        self._thread: threading.Thread | None = None
        self.outcomes: deque[RefreshOutcome] = deque(maxlen=keep)  #: the latest refreshes

    def submit(self, vintage_id: int) -> bool:
        """Queue a refresh after vintage ``vintage_id``; False once closing."""
        with self._cond:
            if self._closed:
                return False
            self._pending.append(int(vintage_id))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kinhteso-refresh", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending or self._cancel:
                    if self._pending:
                        log.warning("server closing: refresh after vintages %s dropped", sorted(set(self._pending)))
                        self._pending.clear()
                    self._cond.notify_all()
                    return
                batch, self._pending = self._pending, []
                self._busy = True
            started = time.monotonic()
            try:
                self.outcomes.append(refresh(self._ws, batch))
            finally:
                took = time.monotonic() - started
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
                    # let submissions gather, and rest in proportion (closing ends the rest)
                    rest = max(self.pause, took * (1 / self.share - 1)) if self.pause > 0 else 0.0
                    if rest > 0 and not self._closed:
                        self._cond.wait_for(lambda: self._closed, rest)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or running; False on time-out."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            with self._cond:
                self._cancel = True
                self._cond.notify_all()
            thread.join()
