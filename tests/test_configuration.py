"""A run's configuration: read once at the edge into one frozen value; what the run finds out
(where the API answers) is returned, never written back into it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistants_conformance.cli import build_parser
from assistants_conformance.commands.run import options_of
from assistants_conformance.errors import UsageError
from assistants_conformance.profile import Profile
from assistants_conformance.reference import running_server
from assistants_conformance.runner import DEFAULT_MODEL, Options, preflight
from assistants_conformance.stopping import Stop
from assistants_conformance.target import BaseURL, Target

KEY = "sk-configuration-test"


def _args(*argv: str) -> Options:
    return options_of(build_parser().parse_args(["run", *argv]))


def test_options_cannot_be_changed_once_made() -> None:
    options = Options(base_url="http://h.test/v1", api_key=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.budget_requests = 12  # type: ignore[misc]
    with pytest.raises(TypeError):
        options.headers["X-Late"] = "1"  # type: ignore[index]


def test_loose_values_are_read_into_their_one_form() -> None:
    options = Options(base_url="http://user:pw@h.test/v1/?q=1", api_key=None, only={"AUTH-001"}, transport=["x"])
    assert options.base_url == BaseURL("http://h.test/v1", ("user", "pw"))
    assert "pw" not in repr(options.base_url)
    assert options.only == frozenset({"AUTH-001"})
    assert options.transport == ("x",)


def test_a_url_that_is_not_http_is_a_usage_error_where_options_are_made() -> None:
    with pytest.raises(UsageError, match="must be an http"):
        Options(base_url="ftp://h.test", api_key=None)
    with pytest.raises(UsageError, match="must be an http"):
        _args("--base-url", "http://h.test:port/v1")


def test_the_model_is_the_command_lines_then_the_profiles_then_the_default(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[run]\nmodel = "from-profile"\n', encoding="utf-8")
    assert _args("--base-url", "http://h.test/v1").model == DEFAULT_MODEL
    assert _args("--base-url", "http://h.test/v1", "--profile", str(profile)).model == "from-profile"
    assert _args("--base-url", "http://h.test/v1", "--profile", str(profile), "--model", "m").model == "m"
    assert Options(base_url="http://h.test", api_key=None, profile=Profile(model="p")).model == "p"


def test_the_command_line_is_read_once_into_the_runs_options() -> None:
    options = _args(
        "--base-url", "http://h.test/v1/", "--api-key", KEY, "--header", "X-Team: blue", "--only", "AUTH-001"
    )
    assert options.base_url.root == "http://h.test/v1"
    assert options.api_key == KEY
    assert dict(options.headers) == {"X-Team": "blue"}
    assert options.only == frozenset({"AUTH-001"})


def test_preflight_returns_where_the_api_answers_and_changes_nothing() -> None:
    """Given the server's root, the API is found under /v1: preflight says so in what it returns,
    the options still hold the URL the user gave."""
    with running_server(api_key=KEY) as server:
        options = Options(base_url=server.root, api_key=KEY)
        found = preflight(options, Stop())
    assert found.base_url.root == server.base_url
    assert found.status == 200
    assert found.requests == 2  # the root's 404, then /v1's answer
    assert found.notes == (f"the API answers at {server.base_url} (not at {server.root}); checking that",)
    assert options.base_url.root == server.root


def test_a_target_is_interrupted_and_resumed_only_through_its_methods() -> None:
    target = Target("http://127.0.0.1:9", None, budget_requests=1)
    target.interrupt()
    assert target.interrupted
    with pytest.raises(AttributeError):
        target.interrupted = False  # type: ignore[misc]
    target.resume_for_cleanup(requests=3, seconds=5)
    assert not target.interrupted
    target.close()
