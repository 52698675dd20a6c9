from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import httpx
import pytest

from assistants_conformance.contract import Contract, get_contract
from assistants_conformance.reference import RunningServer, running_server


@pytest.fixture(scope="session")
def contract() -> Contract:
    return get_contract()


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    """One reference server on a real loopback socket for the whole session."""
    with running_server() as srv:
        yield srv


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url,
        timeout=10,
        headers={"Authorization": f"Bearer {server.api_key}", "OpenAI-Beta": "assistants=v2"},
    ) as c:
        yield c


def pytest_configure(config: pytest.Config) -> None:
    """The tool's caches (drawn cases, detection cells) go to a folder of this test session, shared
    by its worker processes and removed at its end: tests neither read a user's cache nor fill it."""
    if "PYTEST_XDIST_WORKER" not in os.environ and "ASSISTANTS_CONFORMANCE_TEST_CACHE" not in os.environ:
        os.environ["ASSISTANTS_CONFORMANCE_TEST_CACHE"] = tempfile.mkdtemp(prefix="assistants-conformance-tests-")
    os.environ["XDG_CACHE_HOME"] = os.environ["ASSISTANTS_CONFORMANCE_TEST_CACHE"]


def pytest_unconfigure(config: pytest.Config) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        shutil.rmtree(os.environ.pop("ASSISTANTS_CONFORMANCE_TEST_CACHE", ""), ignore_errors=True)
