"""Options whose choices, metavar or help come from a registry that is imported on first use.

The method registries (``kinhteso.methods.temporal.METHODS``, ``...io.FORWARD_LINKAGES``...) live
in modules that import numpy and pandas. Reading them when the CLI modules are imported would
make ``kinhteso --version`` and ``kinhteso --help`` pay for those imports; these wrappers read
them only when a command's options are shown or checked, so the registry stays the one list::

    @click.option("--method", type=LazyChoice.of("kinhteso.methods.temporal", "METHODS"), default="chow-lin-maxlog")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

__all__ = ["LazyChoice", "LazyOption"]


class LazyChoice(click.Choice):
    """A :class:`click.Choice` whose choices are ``load()``, called on first use."""

    def __init__(self, load: Callable[[], Iterable[str]], case_sensitive: bool = True) -> None:
        self._load: Callable[[], Iterable[str]] | None = load
        self._choices: tuple[str, ...] = ()
        self.case_sensitive = case_sensitive

    @classmethod
    def of(cls, module: str, name: str, *, sort: bool = False, case_sensitive: bool = True) -> LazyChoice:
        """The keys of registry ``module.name`` (a dict or a sequence), read on first use:
        ``LazyChoice.of("kinhteso.methods.temporal", "METHODS")``."""
        def load() -> list[str]:
            import importlib  # noqa: PLC0415

            values = list(getattr(importlib.import_module(module), name))
            return sorted(values) if sort else values

        return cls(load, case_sensitive=case_sensitive)

    @property
    def choices(self) -> Sequence[str]:  # type: ignore[override]
        if self._load is not None:
            self._choices, self._load = tuple(self._load()), None
        return self._choices


class LazyOption(click.Option):
    """A :class:`click.Option` whose help text (``lazy_help``) or metavar (``lazy_metavar``) is
    built on first use: ``@click.option("--x", cls=LazyOption, lazy_help=lambda: ...)``."""

    def __init__(self, *args: Any, lazy_help: Callable[[], str] | None = None,
                 lazy_metavar: Callable[[], str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy_help, self._lazy_metavar = lazy_help, lazy_metavar

    def _resolve(self) -> None:
        if self._lazy_help is not None:
            self.help, self._lazy_help = self._lazy_help(), None
        if self._lazy_metavar is not None:
            self.metavar, self._lazy_metavar = self._lazy_metavar(), None

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self._resolve()
        return super().get_help_record(ctx)

    def make_metavar(self, ctx: click.Context) -> str:
        self._resolve()
        return super().make_metavar(ctx)

    def to_info_dict(self) -> dict[str, Any]:
        self._resolve()
        return super().to_info_dict()
