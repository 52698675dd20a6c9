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


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_with_a_default_says_what_it_is(name: str) -> None:
    silent = [
        action.option_strings
        for action in _commands()[name]._actions
        if action.option_strings
        and action.help not in (None, argparse.SUPPRESS)
        and action.default not in (None, False, [], argparse.SUPPRESS)
        and "default" not in str(action.help)
    ]
    assert silent == []


def test_version_names_the_contract_it_judges_by(capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    from assistants_conformance import __version__
    from assistants_conformance.contract import spec_path

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"assistants-conformance {__version__}" in out
    assert f"sha256:{hashlib.sha256(spec_path().read_bytes()).hexdigest()}" in out
