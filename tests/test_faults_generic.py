"""Faults behave like real servers: each rewritten fault misbehaves for inputs the suite never
sends (so a generic detector such as Schemathesis has the same chance to meet it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistants_conformance.faults import FAULTS, FaultyApp
from assistants_conformance.reference import create_app, running_server

KEY = "sk-generic-faults-0123"


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    app = FaultyApp(create_app(api_key=KEY), FAULTS[request.param].make(KEY))
    with (
        running_server(api_key=KEY, app=app) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client,
    ):
        yield client


def _assistant(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = client.post("/assistants", json={"model": "some-model", **fields})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("faulty", ["create-ignores-a-field"], indirect=True)
def test_temperature_is_never_stored_whatever_its_value(faulty: httpx.Client) -> None:
    made = _assistant(faulty, temperature=1.3, name="not the suite's")
    assert made["temperature"] == 1.0
    assert faulty.get(f"/assistants/{made['id']}").json()["temperature"] == 1.0


@pytest.mark.parametrize("faulty", ["list-omits-an-item"], indirect=True)
def test_the_newest_assistant_is_missing_from_the_first_page_whatever_its_name(faulty: httpx.Client) -> None:
    made = _assistant(faulty, name="zz-anything")
    assert made["id"] not in [a["id"] for a in faulty.get("/assistants").json()["data"]]


@pytest.mark.parametrize("faulty", ["unknown-field-accepted"], indirect=True)
@pytest.mark.parametrize("field", ["frobnicate", "file_ids", "x"])
def test_any_unknown_field_is_ignored(faulty: httpx.Client, field: str) -> None:
    assert faulty.post("/assistants", json={"model": "m", field: [1]}).status_code == 200


@pytest.mark.parametrize("faulty", ["limit-out-of-range-accepted"], indirect=True)
@pytest.mark.parametrize("limit", ["500", "-3", "abc", "1000000"])
def test_any_out_of_range_limit_is_served(faulty: httpx.Client, limit: str) -> None:
    assert faulty.get("/assistants", params={"limit": limit}).status_code == 200


@pytest.mark.parametrize("faulty", ["unknown-id-is-400"], indirect=True)
def test_any_unknown_assistant_id_is_400(faulty: httpx.Client) -> None:
    assert faulty.get("/assistants/asst_never_made_by_anyone").status_code == 400
    made = _assistant(faulty)
    faulty.delete(f"/assistants/{made['id']}")
    assert faulty.get(f"/assistants/{made['id']}").status_code == 400


@pytest.mark.parametrize("faulty", ["delete-is-a-no-op"], indirect=True)
def test_any_delete_pretends(faulty: httpx.Client) -> None:
    assert faulty.delete("/assistants/asst_whatever").json()["deleted"] is True
    made = _assistant(faulty)
    assert faulty.delete(f"/assistants/{made['id']}").json()["deleted"] is True
    assert faulty.get(f"/assistants/{made['id']}").status_code == 200


@pytest.mark.parametrize("faulty", ["polled-run-never-finishes"], indirect=True)
def test_any_polled_run_stays_in_progress(faulty: httpx.Client) -> None:
    assistant = _assistant(faulty)
    thread = faulty.post("/threads", json={"messages": [{"role": "user", "content": "hi there"}]}).json()
    run = faulty.post(f"/threads/{thread['id']}/runs", json={"assistant_id": assistant["id"], "tool_choice": "auto"})
    time.sleep(0.5)  # the reference engine has long finished it
    got = faulty.get(f"/threads/{thread['id']}/runs/{run.json()['id']}").json()
    assert got["status"] == "in_progress"
