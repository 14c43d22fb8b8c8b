"""The ``kinhteso`` command: a thin layer that parses, calls the pipeline and renders.

Each sub-module defines its commands; they are registered here, in the order ``--help`` shows.
Every error that kinhteso raises on purpose is shown in the chosen language with its code, and
sets the exit code: 0 success, 1 input rejected, 2 usage error. Anything unexpected is shown as
``INTERNAL_ERROR`` with the path of a short report file (traceback, command line, versions),
never as a traceback; ``KINHTESO_DEBUG=1`` lets it raise for developers.
"""

from __future__ import annotations

import os
import sys

import click

from kinhteso import __version__
from kinhteso.errors import InputRejected, KinhtesoError, file_error
from kinhteso.i18n import set_lang, tr

__all__ = ["main"]


#: Set to 1 to let an unexpected error raise with its traceback (for developers).
DEBUG_ENV = "KINHTESO_DEBUG"


def _versions() -> list[str]:
    import platform  # noqa: PLC0415
    from importlib import metadata  # noqa: PLC0415

    lines = [f"kinhteso {__version__}", f"python {platform.python_version()} ({platform.platform()})"]
    for dist in ("click", "duckdb", "pandas", "numpy", "scipy", "openpyxl"):
        try:
            lines.append(f"{dist} {metadata.version(dist)}")
        except Exception:  # noqa: BLE001 - a missing package is itself worth reporting
            lines.append(f"{dist} -")
    return lines


def write_error_report(exc: BaseException, argv: list[str]) -> str | None:
    """Write a short report of an unexpected error (traceback, command line, versions) to a new
    file in the temporary folder (``KINHTESO_ERROR_DIR`` to choose another), atomically;
    returns its path, or ``None`` if it could not be written."""
    import datetime as dt  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    import traceback  # noqa: PLC0415
    import uuid  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from kinhteso.safe_io import write_text_atomic  # noqa: PLC0415

    now = dt.datetime.now(dt.timezone.utc)
    text = "\n".join([
        "kinhteso internal error report / báo cáo lỗi nội bộ",
        f"time: {now.isoformat(timespec='seconds')}",
        "command: kinhteso " + " ".join(repr(a) if not a or any(c in a for c in " \t\n'\"") else a for a in argv),
        f"cwd: {os.getcwd()}",
        *_versions(),
        "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ])
    folder = Path(os.environ.get("KINHTESO_ERROR_DIR") or tempfile.gettempdir())
    name = f"kinhteso-error-{now.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}.txt"
    try:
        return str(write_text_atomic(folder / name, text + "\n"))
    except Exception:  # noqa: BLE001 - the report is a courtesy; the message is shown anyway
        return None


def internal_error(exc: BaseException, argv: list[str]) -> KinhtesoError:
    """An unexpected error as the bilingual ``INTERNAL_ERROR``, with the report file named."""
    where = write_error_report(exc, argv)
    what = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")
    vi_where = f" Báo cáo lỗi (gửi cho nhóm phát triển): {where}" if where else ""
    en_where = f" Error report (send it to the developers): {where}" if where else ""
    return KinhtesoError(
        "INTERNAL_ERROR",
        f"Lỗi nội bộ của kinhteso ({what}).{vi_where}",
        f"kinhteso internal error ({what}).{en_where}",
        report=where,
    )


def _usage_error(exc: click.ClickException) -> KinhtesoError:
    """click's own usage errors (an unknown option, a value of the wrong type, a missing file) with
    a code and a Vietnamese lead; click's detail is kept as it names the option."""
    detail = exc.format_message()
    if isinstance(exc, click.UsageError):
        return KinhtesoError("USAGE_ERROR", f"Dùng lệnh chưa đúng: {detail}", f"Wrong usage: {detail}")
    return KinhtesoError("FILE_ERROR", f"Lỗi: {detail}", f"Error: {detail}")


def _show_usage(exc: click.ClickException) -> None:
    err = _usage_error(exc)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and isinstance(exc, click.UsageError):
        click.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            hint = f"'{ctx.command_path} {ctx.help_option_names[0]}'"
            click.echo(tr(f"Xem hướng dẫn: {hint}", f"Try {hint} for help."), err=True)
    click.echo(f"{err.code}: {err.message()}", err=True)


class _Group(click.Group):
    """A click group that turns every error into a clear bilingual message with a code and an
    exit code (1 input rejected, 2 usage), never a traceback: kinhteso's own errors
    (KinhtesoError), click's usage errors (``USAGE_ERROR``), file-system errors (``FILE_ERROR``),
    DuckDB's (``STORE_ERROR``), and anything unexpected (``INTERNAL_ERROR``, with a report file;
    ``KINHTESO_DEBUG=1`` lets it raise instead)."""

    def make_context(self, info_name, args, parent=None, **extra):  # noqa: ANN001, D102
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:  # the group's own options (--lang xx)
            _show_usage(exc)
            raise click.exceptions.Exit(exc.exit_code) from None
        ctx.meta["kinhteso.argv"] = argv  # for the report of an unexpected error
        return ctx

    def invoke(self, ctx: click.Context):  # noqa: D401
        argv = ctx.meta.get("kinhteso.argv", [])
        if ctx.params.get("lang") in ("vi", "en"):  # before the callback: an unknown command is told in it too
            set_lang(ctx.params["lang"])
        try:
            return super().invoke(ctx)
        except InputRejected as exc:
            from kinhteso.ingest.rules import group_problems  # noqa: PLC0415

            click.echo(exc.message(), err=True)
            groups = group_problems(exc.problems)  # one line per cause, with its count
            for g in groups[:200]:
                click.echo("  " + g.located(), err=True)
            if len(groups) > 200:
                click.echo(f"  … (+{len(groups) - 200})", err=True)
            ctx.exit(exc.exit_code)
        except KinhtesoError as exc:
            click.echo(f"{exc.code}: {exc.message()}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as exc:
            _show_usage(exc)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a folder that cannot be written, a file that vanished: no traceback
            err = file_error(exc)
            click.echo(f"{err.code}: {err.message()}", err=True)
            ctx.exit(err.exit_code)
        except Exception as exc:
            if type(exc).__module__.startswith(("duckdb", "_duckdb")):
                first = (str(exc).splitlines() or [""])[0][:300]
                err = KinhtesoError("STORE_ERROR", f"Cơ sở dữ liệu báo lỗi: {first}",
                                    f"The database reported an error: {first}")
            elif os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                raise  # a developer asked for the traceback
            else:
                err = internal_error(exc, argv)
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
@click.option("--quiet", "-q", is_flag=True, default=False,
              help="Không hiện tiến độ / show no progress (also KINHTESO_QUIET=1; none when stderr is not a terminal).")
@click.version_option(__version__, prog_name="kinhteso")
def main(lang: str, quiet: bool) -> None:  # noqa: ARG001 - read by kinhteso.cli._progress
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
    from kinhteso.cli import accounts, composite, data, figures, index, io, nowcast, quarterly, retract, serve, targets, temporal  # noqa: PLC0415
    from kinhteso.cli import members  # noqa: PLC0415
    from kinhteso.cli import log as log_cli  # noqa: PLC0415
    from kinhteso.cli import indicators as indicators_cli  # noqa: PLC0415
    from kinhteso.cli import vsic as vsic_cli  # noqa: PLC0415
    from kinhteso.cli import report as report_cli  # noqa: PLC0415
    from kinhteso.cli import microdata as microdata_cli  # noqa: PLC0415

    for module in (data, retract, accounts, figures, io, composite, index, temporal, quarterly, targets, nowcast, serve, members, log_cli, indicators_cli, vsic_cli, report_cli, microdata_cli):
        for command in module.COMMANDS:
            main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
