"""Help that answers questions: every option of every command says what it does."""

from __future__ import annotations

import argparse

import pytest

from assistants_conformance.cli import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_help(name: str) -> None:
    missing = [
        action.option_strings
        for action in _commands()[name]._actions
        if action.option_strings and not action.help and action.help is not argparse.SUPPRESS
    ]
    assert missing == []


def test_run_help_ends_with_exit_codes_and_examples() -> None:
    text = _commands()["run"].format_help()
    assert "exit codes:" in text
    for code in ("0  conformant", "1  non-conformant", "2  usage error", "3  target unreachable", "4  internal error"):
        assert code in text
    assert text.count("assistants-conformance run --") >= 3
