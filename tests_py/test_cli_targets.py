"""`--target` is accepted in the same places by every command that touches a target (issue 27
point 2): after the command, after each subcommand, and at the end, walking the CLI's own
parser tree, so a command added later is covered (or must be listed below as target-less)."""

from __future__ import annotations

import argparse

import pytest

from privacy_insights import targets
from privacy_insights.cli import build_parser

# Commands that use no target, and why; every other command must take --target.
TARGETLESS = {
    "setup": "installs the DuckDB extension and writes profiles.yml",
    "postgres install": "objects of the PostgreSQL database libpq's variables name",
    "postgres retention": "attribution landing rows of the PostgreSQL database libpq's variables name",
    "postgres bi-tenant add": "logins of the PostgreSQL database libpq's variables name; they read production only",
    "postgres bi-tenant list": "logins of the PostgreSQL database libpq's variables name",
    "postgres bi-tenant remove": "logins of the PostgreSQL database libpq's variables name",
    "privacy-table": "prints the configured privacy parameters",
    "benchmark": "builds its own scratch warehouses",
    "utility-report": "builds its own scratch warehouses (or reads --from-target)",
    "seeds city-map": "rewrites a seed file",
}


def leaves(parser: argparse.ArgumentParser, names: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], list]]:
    """(command names, the parsers from the top one to the command) of every runnable command."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += [((name, *n), [parser, *chain]) for n, chain in leaves(sub)] or [((name,), [parser, sub])]
    return out


LEAVES = {" ".join(names): chain for names, chain in leaves(build_parser())}


def target_option(parser: argparse.ArgumentParser) -> argparse.Action | None:
    return next((a for a in parser._actions if "--target" in a.option_strings), None)


def _accepts(convert, value: str) -> bool:
    try:
        convert(value)
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        return False
    return True


def required_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """Plausible values for the command's required options and positionals."""
    argv = []
    for action in parser._actions:
        if not (action.required or not action.option_strings) or isinstance(action, argparse._SubParsersAction):
            continue
        if action.choices:
            value = str(next(iter(action.choices)))
        elif action.type is int:
            value = "1"
        elif action.type not in (None, str) and _accepts(action.type, "2026-10-05"):
            value = "2026-10-05"  # a day, whichever parser the option uses
        elif action.type not in (None, str) and _accepts(action.type, "2026-10-05T00:00:00Z"):
            value = "2026-10-05T00:00:00Z"  # a UTC instant (landing mark --through)
        else:
            value = "acme"
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    return argv


def parse(argv: list[str]) -> argparse.Namespace:
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"`privacy-insights {' '.join(argv)}` is refused by the parser") from exc


def test_every_command_is_classified():
    for command, chain in LEAVES.items():
        declared = [target_option(p) for p in chain[1:] if target_option(p)]
        assert bool(declared) != (command in TARGETLESS), (
            f"{command}: takes --target but is listed as target-less"
            if declared
            else f"{command}: no --target; add the shared option or list it in TARGETLESS with the reason"
        )
    assert set(TARGETLESS) <= set(LEAVES), "a target-less command that no longer exists"


@pytest.mark.parametrize("command", sorted(set(LEAVES) - set(TARGETLESS)))
def test_target_is_accepted_after_each_command_word_and_at_the_end(command: str):
    """Regression: `buyers add acme --target prod` failed with "unrecognized arguments"; only
    `buyers --target prod add acme` worked."""
    names, chain = command.split(), LEAVES[command]
    rest = required_arguments(chain[-1])
    placements = [[*names[:k], "--target", "prod", *names[k:], *rest] for k in range(1, len(names) + 1)]
    placements.append([*names, *rest, "--target", "prod"])
    for argv in placements:
        assert parse(argv).target == "prod", argv
    assert parse([*names, *rest]).target == "dev"
    if len(names) > 1:  # given twice, the last one counts, as for any repeated option
        assert parse([names[0], "--target", "ci", *names[1:], *rest, "--target", "prod"]).target == "prod"
    for parser in chain[1:]:  # the one shared option (cli._target_option): same choices and help everywhere
        option = target_option(parser)
        assert option is not None, f"{command}: a parser on the way has no --target"
        assert tuple(option.choices) == targets.TARGETS and "default: dev" in option.help
