"""The `outreach` command line: what officials and operators type.

Each command is registered here by name and imported only when it runs, so that start-up costs
what the command uses rather than every command's libraries (outreach/cli/lazy.py). A new command:
a function or a Typer app in a module of its own, and a line below; its help is its docstring (or
the app's `help=`), as anywhere in Typer. tests/outreach/cli/test_lazy.py runs each command's
start-up in a fresh interpreter and fails on a library it does not use.
"""

from __future__ import annotations

import typer

from outreach.cli.lazy import LazyGroup

COMMANDS = {
    "serve": "outreach.cli.serve:serve",
    "dispatch": "outreach.cli.dispatch:dispatch",
    "work": "outreach.cli.work:work",
    "demo": "outreach.cli.demo:demo",
    "db": "outreach.cli.db:db_app",
    "residents": "outreach.cli.residents:residents_app",
    "resident": "outreach.cli.resident:resident_app",
    "retention": "outreach.cli.retention:retention_app",
    "margins": "outreach.cli.margins:margins_app",
    "campaign": "outreach.cli.campaign:campaign_app",
    "results": "outreach.cli.results:results",
    "export": "outreach.cli.export:export",
    "enrol-link": "outreach.cli.enrol_link:enrol_link",
    "webhooks": "outreach.cli.webhooks:print_webhooks",
    "token": "outreach.cli.tokens:tokens_app",
    "subscribers": "outreach.cli.subscribers:subscribers_app",
    "official": "outreach.cli.officials:officials_app",
    "coverage": "outreach.cli.participation:coverage",
    "participation": "outreach.cli.participation:participation",
    "audit": "outreach.cli.audit:audit",
    "keys": "outreach.cli.keys:keys_app",
}


class OutreachCommands(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    cls=OutreachCommands,
    no_args_is_help=True,
    add_completion=False,
    help="Ask residents short questions; collect answers.",
)


@app.callback()
def outreach() -> None:
    # A callback makes Typer build a group although no command is registered with it eagerly.
    pass


def main() -> None:
    app()


if __name__ == "__main__":
    main()
