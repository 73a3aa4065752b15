"""Commands registered by name and imported when run: `outreach --help` lists every command without
importing one, and `outreach export` imports the export and what it uses, not the web service, the
provider SDKs or numpy.

A command is named as "module:attribute", the attribute being a function (one command) or a Typer
app (a command group). Its help in the list is read from the module's source (the function's
docstring, or the app's `help=`), so a command's help is written once, beside the command.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

import typer
from typer import _click as click  # Typer's own copy of click, which its commands are made of
from typer.core import TyperCommand, TyperGroup


def load_command(name: str, target: str) -> click.Command:
    module, _, attribute = target.partition(":")
    found: Any = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command: click.Command = typer.main.get_group(found)  # a group even with a single command
    else:
        single = typer.Typer()
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


def source_help(target: str) -> str | None:
    """The help a command's module gives it, read without importing the module: the function's
    docstring, or the `help=` text of the Typer app assigned to that name (None if neither is there)."""
    module, _, attribute = target.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == attribute:
            return ast.get_docstring(node)
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(name, ast.Name) and name.id == attribute for name in node.targets)
            and isinstance(node.value, ast.Call)
        ):
            for keyword in node.value.keywords:
                if keyword.arg == "help" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


class LazyGroup(TyperGroup):
    """A Typer group whose commands in `lazy` (name -> "module:attribute") are imported on first use.
    Commands added the eager way (`app.add_typer`, `app.command`) work as before, and are imported
    with the main module."""

    lazy: Mapping[str, str] = {}

    def __init__(self, **attributes: Any) -> None:
        super().__init__(**attributes)
        self._listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        target = self.lazy[cmd_name]
        if self._listing:  # the help lists it by name and help text: nothing to import
            text = source_help(target)
            if text is not None:
                return TyperCommand(name=cmd_name, help=text)
        command = self.commands[cmd_name] = load_command(cmd_name, target)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
