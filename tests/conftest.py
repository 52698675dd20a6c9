from __future__ import annotations

import pytest

from assistants_conformance.contract import Contract, get_contract


@pytest.fixture(scope="session")
def contract() -> Contract:
    return get_contract()
