"""Errors a person can act on, in Vietnamese and English.

Every error carries a stable ``code``, a Vietnamese and an English message and, where it
applies, the context (file, row, column, territory, period...). The tree::

    KinhtesoError                  base; exit code 1 in the CLI
    ├── InputRejected              a file or request refused whole; holds a list of Problem
    ├── UsageError                 a command used wrongly (bad option value); exit code 2
    ├── ReferenceDataError         an unknown code or a broken reference file
    ├── WorkspaceError             no workspace, a damaged one, or a store failure (STORE_LOCKED,
    │                              STORE_IO, STORE_ERROR: every DuckDB error is mapped ``from`` it)
    ├── MethodError                a method cannot run on these numbers (too few points...)
    └── StagingError               (kinhteso.store) DuckDB could not parse a staged file: CSV_PARSE

A file-system error that reaches the CLI (a folder that cannot be written, a file that vanished)
is shown as ``FILE_ERROR`` with its path, in both languages, never as a traceback; click's own
usage errors as ``USAGE_ERROR``; anything unexpected as ``INTERNAL_ERROR`` with a report file
(``kinhteso.cli._Group``). An output whose destination is a symbolic link is ``UNSAFE_PATH``
(:mod:`kinhteso.safe_io`).

``Problem`` is one finding of validation: it is a value, not an exception, so that all the
problems of a file are listed together before the file is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kinhteso.i18n import current_lang

__all__ = [
    "KinhtesoError",
    "InputRejected",
    "UsageError",
    "ReferenceDataError",
    "WorkspaceError",
    "MethodError",
    "Problem",
    "file_error",
    "near_hint",
]


@dataclass(frozen=True)
class Problem:
    """One validation finding: where, which rule (``code``), and what is wrong, in vi and en."""

    code: str
    vi: str
    en: str
    file: str = ""
    row: int | None = None
    column: str = ""

    def message(self, lang: str | None = None) -> str:
        return self.vi if (lang or current_lang()) == "vi" else self.en

    def located(self, lang: str | None = None) -> str:
        """``file:row [column] CODE: message``, the line shown on screen."""
        where = self.file or "-"
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where} {self.code}: {self.message(lang)}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class KinhtesoError(Exception):
    """Base of every error kinhteso raises on purpose."""

    exit_code = 1

    def __init__(self, code: str, vi: str, en: str, **context: Any) -> None:
        self.code = code
        self.vi = vi
        self.en = en
        self.context = context
        super().__init__(f"{code}: {en}")

    def message(self, lang: str | None = None) -> str:
        return self.vi if (lang or current_lang()) == "vi" else self.en

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.en!r})"

    def __reduce__(self):
        # picklable whatever a subclass's __init__ takes (an error crosses from a worker process)
        return _restore_error, (type(self), self.args, self.__dict__)


def _restore_error(cls: type, args: tuple, state: dict) -> KinhtesoError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InputRejected(KinhtesoError):
    """A file or request was refused whole; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem], *, file: str = "") -> None:
        self.problems = list(problems)
        n = len(self.problems)
        super().__init__(
            "REJECTED",
            f"Tệp {file or ''} bị từ chối toàn bộ: {n} lỗi, không có gì được lưu.".replace("  ", " "),
            f"File {file or ''} rejected whole: {n} problem(s), nothing was stored.".replace("  ", " "),
            file=file,
        )


class UsageError(KinhtesoError):
    """A command or function was called with an option value it cannot take."""

    exit_code = 2


class ReferenceDataError(KinhtesoError):
    """An unknown code, or a reference file that does not hold together."""


class WorkspaceError(KinhtesoError):
    """No workspace where one is expected, or the store failed."""


class MethodError(KinhtesoError):
    """A method cannot run on the numbers it was given."""


def near_hint(near: list[str], vi: str = "Mã gần nhất", en: str = "Nearest codes") -> tuple[str, str]:
    """The (Vietnamese, English) sentence naming the closest known codes of an unknown one, to end
    its message; empty strings when there are none.

    >>> near_hint(["26", "261"])
    (' Mã gần nhất: 26, 261.', ' Nearest codes: 26, 261.')
    """
    if not near:
        return "", ""
    return f" {vi}: {', '.join(near)}.", f" {en}: {', '.join(near)}."


def file_error(exc: OSError) -> KinhtesoError:
    """A file-system error as a bilingual error with a code (``FILE_ERROR``) and its path."""
    where = exc.filename or ""
    why = exc.strerror or str(exc)
    return KinhtesoError("FILE_ERROR", f"Lỗi tệp {where}: {why}.", f"File error {where}: {why}.", path=str(where))
