"""The command line's progress bar: draws :class:`kinhteso.progress.Progress` calls on stderr.

A long command wraps its service call in :func:`progress_bar` and passes what it yields as the
service's ``progress``. The bar (``rich``) is drawn on **stderr** only, never on stdout (which
carries the tables, CSV and JSON that are piped), and only when someone watches: nothing is
drawn when stderr is not a terminal (pipes, tests, cron), with the global ``--quiet``
(``kinhteso --quiet quarterly …``) or with ``KINHTESO_QUIET=1``. ``KINHTESO_PROGRESS=1`` shows
progress even when stderr is not a terminal, as plain lines (``label done/total``, one each time
the step's label changes: for logs, and for tests that wait for a step); ``--quiet`` and
``KINHTESO_QUIET`` still win. ``rich`` is imported only when a bar is drawn (fast ``--help``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import click

from kinhteso.progress import Label, Progress, label_text, null_progress

__all__ = ["progress_bar", "shown", "QUIET_ENV", "FORCE_ENV"]

#: Set to 1 to draw no progress (as ``--quiet``).
QUIET_ENV = "KINHTESO_QUIET"
#: Set to 1 to draw progress even when stderr is not a terminal.
FORCE_ENV = "KINHTESO_PROGRESS"


def _on(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _forced() -> bool:
    return _on(FORCE_ENV)


def shown() -> bool:
    """Whether a progress bar is drawn now: not ``--quiet``, not ``KINHTESO_QUIET``, and stderr a
    terminal (or ``KINHTESO_PROGRESS=1``)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("quiet"):
        return False
    if _on(QUIET_ENV):
        return False
    return _forced() or _isatty()


def _isatty(stream=None) -> bool:
    try:
        return bool((stream or sys.stderr).isatty())
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def _lines() -> Progress:
    """Progress as plain lines on stderr, one each time the label changes, and one at the end."""
    last: list = [None]

    def update(done: int, total: int, step: Label) -> None:
        step = label_text(step)
        key = (step, done == total)
        if key != last[0]:
            last[0] = key
            click.echo(f"{step} {done}/{total}", err=True)
            sys.stderr.flush()

    return update


@contextlib.contextmanager
def progress_bar(label: str = "") -> Iterator[Progress]:
    """Yield a :class:`~kinhteso.progress.Progress` that draws a bar on stderr (see the module),
    or :func:`~kinhteso.progress.null_progress` when nothing is to be drawn. ``label`` is shown
    until the first call names a step. The bar stays on screen, complete, when the work ends."""
    if not shown():
        yield null_progress
        return
    if not _isatty():
        yield _lines()
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, TextColumn, TimeElapsedColumn,
    )

    console = Console(file=sys.stderr, highlight=False)
    # when stdout is the same terminal, rich prints what the command says above the bar
    redirect = _isatty(sys.stdout)
    bar = RichProgress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                       MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False,
                       redirect_stdout=redirect, redirect_stderr=False)
    task = bar.add_task(label, total=None)

    def update(done: int, total: int, step: Label) -> None:
        bar.update(task, completed=done, total=total, description=label_text(step) or label)

    with bar:
        yield update
