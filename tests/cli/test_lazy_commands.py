"""``shipyard``'s command table and its command modules agree.

The root group lists its commands from ``COMMANDS`` (name, module, first paragraph of the
help) and imports a module only when one of its commands runs; these tests load every
entry and hold the table to what the modules define.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import shipyard.cli
from shipyard.cli._lazy import build_command, resolve
from shipyard.cli._main import COMMANDS, app


def _first_paragraph(command: Any) -> str:
    return inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]


def _help(command: Any, capsys: pytest.CaptureFixture[str], name: str = "shipyard") -> str:
    assert command.main(["--help"], prog_name=name, standalone_mode=False) == 0
    return capsys.readouterr().out


def _built_by_typer(name: str, target: typer.Typer, extra: tuple[tuple[str, str], ...]) -> Any:
    """The group as Typer builds it at once, every command of it."""
    holder = typer.Typer(add_completion=False)
    holder.add_typer(target, name=name)
    group: Any = typer.main.get_command(holder)
    for extra_name, function in extra:
        single = typer.Typer(add_completion=False)
        single.command(extra_name)(resolve(function))
        group.commands[name].add_command(typer.main.get_command(single))
    return group.commands[name]


def _typers_within(typer_app: typer.Typer) -> list[typer.Typer]:
    found = [typer_app]
    for info in typer_app.registered_groups:
        assert info.typer_instance is not None
        found += _typers_within(info.typer_instance)
    return found


def test_the_root_help_from_the_table_is_the_help_of_the_loaded_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    group: Any = typer.main.get_command(app)
    from_table = _help(group, capsys)
    assert group.commands.loaded == {}  # listing imported nothing
    for name in COMMANDS:
        command = group.get_command(None, name)
        assert command.name == name
        assert _first_paragraph(command) == COMMANDS[name].help, name
        assert not command.hidden and not command.deprecated and not command.rich_help_panel
    assert _help(group, capsys) == from_table  # now rendered from the real commands
    assert list(COMMANDS)[:2] == ["init", "server"] and "audit" in from_table


def test_every_command_group_of_the_modules_is_in_the_table() -> None:
    reachable: list[typer.Typer] = []
    for entry in COMMANDS.values():
        target = resolve(entry.target)
        if isinstance(target, typer.Typer):
            reachable += _typers_within(target)
        else:
            assert inspect.isfunction(target), entry.target
        for _, extra in entry.extra:
            assert inspect.isfunction(resolve(extra)), extra
    for module_info in pkgutil.iter_modules(shipyard.cli.__path__):
        module = importlib.import_module(f"shipyard.cli.{module_info.name}")
        for attribute, value in vars(module).items():
            if isinstance(value, typer.Typer) and module.__name__ != "shipyard.cli._main":
                assert any(value is r for r in reachable), f"{module.__name__}.{attribute}"


def _leaves(group: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = []
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        assert command is not None, (*path, name)
        found += _leaves(command, (*path, name)) if hasattr(command, "commands") else []
        found.append((*path, name))
    return found


def test_a_group_builds_its_commands_as_typer_does(capsys: pytest.CaptureFixture[str]) -> None:
    for name, entry in COMMANDS.items():
        target = resolve(entry.target)
        if isinstance(target, typer.Typer):
            lazy, eager = build_command(name, entry), _built_by_typer(name, target, entry.extra)
            subgroups = {info.name for info in target.registered_groups}
            assert set(lazy.commands.loaded) == subgroups  # its commands: built when used
            assert _help(lazy, capsys, name) == _help(eager, capsys, name)
            assert list(lazy.commands) == list(eager.commands)


def test_every_command_is_reachable_and_shows_its_help() -> None:
    commands = _leaves(typer.main.get_command(app), ())
    assert ("endpoints", "recommend") in commands  # added to the group from _cost
    assert ("models", "gate", "set") in commands
    assert len(commands) >= 130
    runner = CliRunner()
    for name in COMMANDS:
        shown = runner.invoke(app, [name, "--help"], terminal_width=100)
        assert shown.exit_code == 0, (name, shown.output)
        assert f"shipyard {name} [OPTIONS]" in " ".join(shown.output.split()), name
