"""Our router and response validator agree with openapi-core on every exchange we can produce."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from assistants_conformance.contract import Contract
from assistants_conformance.reference import RunningServer
from assistants_conformance.validate import validate_response
from assistants_conformance.validate.openapi_core_adapter import openapi_for, problems
from tests import samples

CT = {"Content-Type": "application/json"}
BASE = "http://127.0.0.1:9/v1"


@pytest.fixture(scope="module")
def api(contract: Contract) -> Any:
    return openapi_for(contract.document, BASE)


BROKEN: list[tuple[str, str, int, dict[str, str], Any]] = [
    ("GET", "/assistants/a", 200, CT, {**samples.ASSISTANT, "object": "bot"}),
    ("GET", "/assistants/a", 200, CT, {**samples.ASSISTANT, "created_at": "soon"}),
    ("GET", "/assistants/a", 429, CT, samples.ERROR),
    ("GET", "/assistants/a", 404, CT, {"detail": "Not Found"}),
    ("GET", "/assistants/a", 418, CT, samples.ERROR),
    ("GET", "/threads/t/runs/r", 200, CT, {**samples.run("failed"), "status": "done"}),
    ("GET", "/files", 200, CT, {}),
]
GOOD: list[tuple[str, str, int, dict[str, str], Any]] = [
    ("GET", "/assistants/a", 200, CT, samples.ASSISTANT),
    ("GET", "/assistants", 200, CT, samples.page(samples.ASSISTANT)),
    ("GET", "/threads/t/messages/m", 200, CT, samples.MESSAGE_ASSISTANT),
    ("POST", "/threads/runs", 200, CT, samples.run("queued")),
    ("GET", "/threads/t/runs/r/steps", 200, CT, samples.page(samples.STEP_TOOLS)),
    ("GET", "/assistants/a", 429, {**CT, "Retry-After": "1"}, samples.ERROR),
]


@pytest.mark.parametrize(("method", "path", "status", "headers", "body"), GOOD + BROKEN)
def test_same_verdict_as_openapi_core(
    api: Any, method: str, path: str, status: int, headers: dict[str, str], body: Any
) -> None:
    """Both pass what conforms and both fail what does not."""
    ours = validate_response(method, BASE + path, status, headers, body)
    theirs = problems(api, method, BASE + path, status, headers, body)
    assert bool(ours) == bool(theirs), (ours, theirs)


def test_live_reference_responses_agree(server: RunningServer, contract: Contract) -> None:
    """Real answers of the reference server, on every JSON operation family, pass both validators."""
    api = openapi_for(contract.document, server.base_url)
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}) as c:
        asst = c.post("/assistants", json={"model": "gpt-4o"})
        thread = c.post("/threads", json={"messages": [{"role": "user", "content": "x"}]})
        tid = thread.json()["id"]
        exchanges = [
            asst,
            thread,
            c.get("/assistants"),
            c.get(f"/threads/{tid}/messages"),
            c.get(f"/assistants/{asst.json()['id']}"),
            c.get("/assistants/none"),
            c.get("/assistants?limit=0"),
        ]
    for response in exchanges:
        url = str(response.url)
        ours = validate_response(response.request.method, url, response.status_code, response.headers, response.content)
        theirs = problems(
            api, response.request.method, url, response.status_code, dict(response.headers), response.content
        )
        assert ours == []
        assert theirs == []
