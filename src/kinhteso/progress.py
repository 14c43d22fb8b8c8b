"""Progress of long work: one protocol for every service, pipeline and method function.

A function whose work can take longer than a couple of seconds takes an optional keyword
``progress``: a callable ``progress(done, total, label)`` that it calls from where the work
happens, with ``0 <= done <= total`` increasing and ending at ``done == total``; ``label`` says
what is being done: a text in the current language (:func:`kinhteso.i18n.tr`, from the service
and pipeline), or a ``(vietnamese, english)`` pair from ``methods/``, which read no language
setting; whoever shows a label turns it into text with :func:`label_text`. The function never
prints: the caller decides what to do with the calls (the command line draws a bar on stderr,
:mod:`kinhteso.cli._progress`; tests record them; the default, :func:`null_progress`, drops
them). This module imports nothing heavy.

>>> seen = []
>>> p = span(lambda d, t, label: seen.append((d, t, label)), before=1, after=2)
>>> p(1, 3, "x")
>>> seen
[(2, 6, 'x')]
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "Label", "label_text", "null_progress", "or_null", "span"]

#: A step's label: a text, or a (Vietnamese, English) pair chosen by whoever shows it.
Label = str | tuple[str, str]


def label_text(label: Label) -> str:
    """The text of a label in the current language (a pair is resolved by :mod:`kinhteso.i18n`).

    >>> label_text("x"), label_text(("Bước", "Step")) in ("Bước", "Step")
    ('x', True)
    """
    if isinstance(label, tuple):
        from kinhteso.i18n import tr  # noqa: PLC0415

        return tr(*label)
    return label


class Progress(Protocol):
    """``progress(done, total, label)``: ``done`` of ``total`` steps are finished; ``label``
    names the step now under way."""

    def __call__(self, done: int, total: int, label: Label) -> None: ...


def null_progress(done: int, total: int, label: Label) -> None:  # noqa: ARG001 - the protocol's shape
    """The progress that nobody watches."""


def or_null(progress: Progress | None) -> Progress:
    """``progress``, or :func:`null_progress` when it is ``None``."""
    return progress if progress is not None else null_progress


class span:  # noqa: N801 - used as a function
    """``progress`` for one part of a larger piece of work, with ``before`` steps finished ahead
    of it and ``after`` steps still to come: the part's ``(done, total, label)`` is reported as
    ``(before + done, before + total + after, prefix + label)``. :attr:`end` is where the whole
    stands once the part is done (``before`` + the part's total as it last reported it), so the
    steps that follow can be numbered from there."""

    def __init__(self, progress: Progress | None, *, before: int = 0, after: int = 0, prefix: str = "") -> None:
        self.outer, self.before, self.after, self.prefix = or_null(progress), before, after, prefix
        self.total = 0

    def __call__(self, done: int, total: int, label: Label) -> None:
        self.total = total
        text = (self.prefix + label[0], self.prefix + label[1]) if isinstance(label, tuple) else self.prefix + label
        self.outer(self.before + done, self.before + total + self.after, text)

    @property
    def end(self) -> int:
        return self.before + self.total
