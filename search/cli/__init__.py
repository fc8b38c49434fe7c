"""The ``hwnas`` command line. Each command group lives in its own module of this package.

The commands are thin: they parse options, call one library function and print. Only this layer
turns exceptions into exit codes: a ``ValueError`` or ``OSError`` raised by the library for bad
input becomes one line on stderr and exit status 2, without a traceback. Any other exception is
a bug in hwnas, never the user's mistake: one line says so, with the exception's type and
message, and the status is 70 (EX_SOFTWARE). ``HWNAS_DEBUG=1`` shows the traceback of either.
"""

from __future__ import annotations

import os
import sys

import click
import typer

from search.cli import export_cmd, inspect_cmd, latency_cmd, search_cmd, space_cmd

app = typer.Typer(
    name="hwnas",
    help="Hardware-aware NAS for MobileNet-style CNNs: space, latency tables, search, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"hwnas {version('hwnas')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Hardware-aware NAS for MobileNet-style CNNs: search space, latency tables, search, export."""


app.add_typer(space_cmd.app, name="space")
app.add_typer(latency_cmd.app, name="latency")
search_cmd.register(app)
inspect_cmd.register(app)
export_cmd.register(app)

#: What the library raises for bad input (a bad value, a missing or unreadable file).
USER_ERRORS = (ValueError, OSError)
BUG_STATUS = 70  # EX_SOFTWARE in sysexits.h


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failed check, 2 bad input, 70 a bug)."""
    try:
        app(args=argv, prog_name="hwnas", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("hwnas: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        if os.environ.get("HWNAS_DEBUG"):
            raise
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"hwnas: error: {message}", file=sys.stderr)
        return 2
    except Exception as err:  # everything else is a programming error, reported as one
        if os.environ.get("HWNAS_DEBUG"):
            raise
        message = str(err).splitlines()[0] if str(err) else ""
        print(
            f"hwnas: bug: {type(err).__name__}: {message} (this is a bug in hwnas, not in your "
            "input; set HWNAS_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return BUG_STATUS
    return 0


def entry_point() -> None:
    """Console-script entry point."""
    sys.exit(main())
