"""A command group whose commands load on first use.

``shipyard --help`` lists every command from a static table (name, module, the first
paragraph of its help) without importing a single command module; ``shipyard datasets
list`` imports the datasets module alone. ``tests/cli/test_lazy_commands.py`` keeps the
table and the modules in agreement.
"""

from __future__ import annotations

import copy
import functools
import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives, and what the group's help says of it."""

    target: str
    """``"module:attribute"``: a ``typer.Typer`` (a group) or a command function."""
    help: str
    """The first paragraph of its help, exactly as its own help begins."""
    extra: tuple[tuple[str, str], ...] = ()
    """Commands another module adds to this group: ``(name, "module:function")``."""


def resolve(target: str) -> Any:
    """The object a ``"module:attribute"`` target names, its module imported now."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def build_command(name: str, entry: LazyCommand) -> Any:
    """The click command (or group) of one entry, as ``command`` or ``add_typer`` would
    have built it; a group's own commands are built when first looked up in turn."""
    target = resolve(entry.target)
    if not isinstance(target, typer.Typer):
        return _single(CommandInfo(name=name, callback=target))
    extra = [CommandInfo(name=n, callback=resolve(t)) for n, t in entry.extra]
    commands = [*target.registered_commands, *extra]
    shell = copy.copy(target)
    shell.registered_commands = []  # the group and its subgroups; commands are added lazily
    holder = typer.Typer(add_completion=False)
    holder.add_typer(shell, name=name)
    group = typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
    subgroups = group.commands
    group.commands = _LazyCommands({_name_of(c): functools.partial(_single, c) for c in commands})
    group.commands.update(subgroups)  # after the commands, where Typer lists them
    return group


def _name_of(info: CommandInfo) -> str:
    assert info.callback is not None
    return info.name or typer.main.get_command_name(info.callback.__name__)


def _single(info: CommandInfo) -> Any:
    """One command, built by Typer alone."""
    holder = typer.Typer(add_completion=False)
    holder.registered_commands.append(info)
    return typer.main.get_command(holder)


class _LazyCommands(MutableMapping[str, Any]):
    """Name -> command, each built when first looked up."""

    def __init__(self, builders: Mapping[str, Callable[[], Any]]) -> None:
        self.builders = builders
        self.loaded: dict[str, Any] = {}
        self._names = list(builders)

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded:
            if name not in self.builders:
                raise KeyError(name)
            self.loaded[name] = self.builders[name]()
        return self.loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._names:
            self._names.append(name)
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        self._names.remove(name)
        self.loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class LazyGroup(TyperGroup):
    """A Typer group over ``lazy_commands`` (set by a subclass); its help lists them from
    the table, and running one imports that one's module."""

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        lazy = _LazyCommands(
            {n: functools.partial(build_command, n, e) for n, e in self.lazy_commands.items()}
        )
        for name, command in self.commands.items():
            lazy[name] = command
        self.commands = lazy
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        assert isinstance(commands, _LazyCommands)
        entry = self.lazy_commands.get(cmd_name)
        if self._listing and entry is not None and cmd_name not in commands.loaded:
            return TyperCommand(cmd_name, help=entry.help, rich_markup_mode=self.rich_markup_mode)
        return commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The help, each command listed by its table entry (no module is imported)."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
