"""The ``kinhteso`` command: a thin layer that parses, calls the pipeline and renders.

Each sub-module defines its commands; they are registered here, in the order ``--help`` shows.
Every error that kinhteso raises on purpose is shown in the chosen language with its code, and
sets the exit code: 0 success, 1 input rejected, 2 usage error.
"""

from __future__ import annotations

import os
import sys

import click

from kinhteso import __version__
from kinhteso.errors import InputRejected, KinhtesoError, file_error
from kinhteso.i18n import set_lang

__all__ = ["main"]


class _Group(click.Group):
    """A click group that turns KinhtesoError into a clear message and an exit code."""

    def invoke(self, ctx: click.Context):  # noqa: D401
        try:
            return super().invoke(ctx)
        except InputRejected as exc:
            click.echo(exc.message(), err=True)
            for p in exc.problems[:200]:
                click.echo("  " + p.located(), err=True)
            if len(exc.problems) > 200:
                click.echo(f"  … (+{len(exc.problems) - 200})", err=True)
            ctx.exit(exc.exit_code)
        except KinhtesoError as exc:
            click.echo(f"{exc.code}: {exc.message()}", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a folder that cannot be written, a file that vanished: no traceback
            err = file_error(exc)
            click.echo(f"{err.code}: {err.message()}", err=True)
            ctx.exit(err.exit_code)
        except Exception as exc:
            if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise  # a bug: its traceback is what a developer needs
            err = KinhtesoError("STORE_ERROR", f"Cơ sở dữ liệu báo lỗi: {str(exc).splitlines()[0][:300]}",
                                f"The database reported an error: {str(exc).splitlines()[0][:300]}")
            click.echo(f"{err.code}: {err.message()}", err=True)
            ctx.exit(err.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default=lambda: os.environ.get("KINHTESO_LANG", "vi"),
    show_default="vi, or KINHTESO_LANG",
    help="Ngôn ngữ thông báo / language of messages.",
)
@click.version_option(__version__, prog_name="kinhteso")
def main(lang: str) -> None:
    """kinhteso: đo lường kinh tế số của Việt Nam và các tỉnh, thành phố.

    Measures the digital economy of Viet Nam and its provinces: workspace and ingestion,
    digital-economy accounts, input-output, quarterly figures, composite indices, targets.

    \b
    Bắt đầu / start:
      kinhteso demo                           build the illustrative demo workspace in ./demo-workspace
      kinhteso observations --workspace demo-workspace --indicator GRDP
    """
    if lang not in ("vi", "en"):
        lang = "vi"
    set_lang(lang)


def _register() -> None:
    from kinhteso.cli import accounts, composite, data, figures, index, io, nowcast, quarterly, targets, temporal  # noqa: PLC0415

    for module in (data, accounts, figures, io, composite, index, temporal, quarterly, targets, nowcast):
        for command in module.COMMANDS:
            main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
