from __future__ import annotations

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
