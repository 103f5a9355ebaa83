"""The `mcpwarden` command: one Typer app; every expected error becomes one line and exit code 2."""

from __future__ import annotations

import os
import sys

import typer

from mcpwarden import __version__
from mcpwarden.cli import approvals, audit, detect, pin, policy, quarantine, redteam, scan
from mcpwarden.cli import gateway as gateway_cli
from mcpwarden.errors import WardenError

app = typer.Typer(
    name="mcpwarden",
    help="Security for the Model Context Protocol: find, test and control the MCP servers your agents use.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(name="scan", epilog=scan.EPILOG)(scan.scan)
app.command(name="detect", epilog=detect.EPILOG)(detect.detect)
gateway_cli.register(app)
app.add_typer(pin.app, name="pin")
app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(approvals.app, name="approvals")
app.add_typer(quarantine.app, name="quarantine")
app.add_typer(redteam.app, name="redteam")


@app.command(epilog="Examples:\n\n  mcpwarden version")
def version() -> None:
    """Print the mcpwarden version."""
    typer.echo(f"mcpwarden {__version__}")


def main() -> None:
    """Console-script entry point: run the app, turning expected errors into one clear line."""
    try:
        app()
    except WardenError as exc:
        typer.echo(f"mcpwarden: error: {exc.one_line()}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("mcpwarden: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a traceback unless asked for
        if os.environ.get("MCPWARDEN_DEBUG"):
            raise
        typer.echo(
            f"mcpwarden: internal error: {type(exc).__name__}: {exc} (set MCPWARDEN_DEBUG=1 for a traceback)",
            err=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
