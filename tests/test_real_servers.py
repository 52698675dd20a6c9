"""Trust on real servers: each behaviour met on independent Assistants implementations, as a
miniature (tests/miniatures.py), with the outcome stated in advance: what fails, what must not,
and that nothing the run created is left behind."""

from __future__ import annotations

import io
import json
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.checks.catalogue import TRIGGERS
from assistants_conformance.cli import main
from assistants_conformance.errors import TargetUnusable
from assistants_conformance.lab.faults import FAULTS, Fault, FaultyApp, Req, Res, set_json
from assistants_conformance.lab.faults.registry import json_answer, rewrite_objects
from assistants_conformance.reference import create_app, objects, running_server, store
from assistants_conformance.results import Outcome, RunResult, Verdict
from assistants_conformance.runner import Options, run
from tests import hostile
from tests.miniatures import closes_after_5xx, gateway, mounted_at, single_threaded

KEY = "sk-canary-real-servers-0123456789"
CREATES = re.compile(r"^/v1/(assistants|threads|threads/runs|threads/[^/]+/(messages|runs))$")


def _run(base_url: str, key: str | None = KEY, **options: Any) -> RunResult:
    kw: dict[str, Any] = {"poll_timeout": 3.0, "timeout": 10.0, "max_examples": 0, **options}
    return run(Options(base_url=base_url, api_key=key, **kw))


def by(result: RunResult, outcome: Outcome) -> set[str]:
    return {c.id for c in result.checks if c.outcome is outcome}


def _served(*faults: Fault) -> Any:
    app: Any = create_app(api_key=KEY)
    for fault in faults:
        app = FaultyApp(app, fault)
    return running_server(api_key=KEY, app=app)


def _assert_clean(result: RunResult) -> None:
    """Nothing the run made is left, and the figures say so."""
    assert result.resources["leaked"] == []
    assert result.resources["created"] == result.resources["deleted"] > 0


# ----------------------------------------------------------------------------- a 201 to every create
def test_a_create_answered_201_is_a_created_object_and_only_a_status_finding() -> None:
    """A server answering 201 Created to creates: RESP-STATUS-001 says so once per operation; every
    other scenario still runs on the objects it made (nothing errored, no false "refused with 201"),
    and every one of them is deleted."""

    def created(req: Req, res: Res) -> None:
        if req.method == "POST" and CREATES.match(req.path) and res.status == 200:
            res.status = 201

    with _served(Fault("201 on create", after=created)) as server:
        result = _run(server.base_url)
    assert by(result, Outcome.FAILED) == {"RESP-STATUS-001"}
    assert by(result, Outcome.ERRORED) == set()
    (status,) = [c for c in result.checks if c.id == "RESP-STATUS-001"]
    assert all("answered 201" in f.message for f in status.findings)
    assert len(status.findings) <= 5 < sum(f.count for f in status.findings)  # grouped, not one per request
    _assert_clean(result)


# ----------------------------------------------------------------------------- transport
def test_a_connection_closed_after_a_500_does_not_error_the_next_request() -> None:
    """A server that drops the kept-alive connection after a 500: the 500 is a finding (VALID-004),
    the next request is sent again on a fresh connection, and no check is errored."""
    with (
        running_server(
            api_key=KEY, app=FaultyApp(create_app(api_key=KEY), FAULTS["malformed-json-is-500"].make(KEY))
        ) as server,
        closes_after_5xx(server.root) as front,
    ):
        result = _run(front + "/v1")
    assert by(result, Outcome.FAILED) == {"VALID-004"}
    assert by(result, Outcome.ERRORED) == set()
    _assert_clean(result)


def test_a_single_threaded_http11_server_is_checked_over_one_connection() -> None:
    """A server that serves one connection at a time: the whole run, property phase included, goes
    over one kept-alive connection (one transport), so it never waits on itself."""
    with running_server(api_key=KEY) as server, single_threaded(server.root) as (front, handler):
        began = time.monotonic()
        result = _run(front + "/v1", max_examples=2, timeout=20.0)
        took = time.monotonic() - began
    assert result.verdict is Verdict.CONFORMANT, result.verdict_reason
    assert next(handler.connections) <= 3  # one, reopened only if the server closed it
    assert took < 120  # a stall would be the keep-alive timeout of a second client, many times over


# ----------------------------------------------------------------------------- ties
@pytest.fixture
def same_second(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every object stamped with one second, and ties listed in an order of the server's own
    (random, but stable per object: pagination stays consistent), as a server ordering by id does."""
    frozen = int(time.time())
    monkeypatch.setattr(objects, "now", lambda: frozen)
    rng = random.Random()
    real_insert = store.Store.insert

    def insert(self: store.Store, kind: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        real_insert(self, kind, body, **kw)
        self._db.execute("UPDATE objects SET seq = ? WHERE id = ?", (rng.randrange(1 << 40), body["id"]))
        return body

    monkeypatch.setattr(store.Store, "insert", insert)
    return


@pytest.mark.usefixtures("same_second")
def test_objects_created_in_the_same_second_give_no_ordering_verdict_and_the_same_verdict_twice() -> None:
    """Ties in created_at are the server's to order: the pagination checks follow its own listing,
    PAGE-006 judges only what the timestamps decide (here nothing: it is not exercised, never
    passed), and two runs agree."""
    verdicts = []
    for _ in range(2):
        with running_server(api_key=KEY) as server:
            result = _run(server.base_url)
        verdicts.append((result.verdict, by(result, Outcome.FAILED)))
        assert any("share a created_at" in note for note in result.coverage["notes"])
        (order,) = [c for c in result.checks if c.id == "PAGE-006"]
        assert order.outcome is Outcome.SKIPPED
        assert "sharing one created_at" in order.reason
    assert verdicts[0] == verdicts[1] == (Verdict.INCOMPLETE, set())


# ----------------------------------------------------------------------------- where the API lives
def test_an_api_mounted_without_v1_is_checked_where_it_is() -> None:
    """The base URL is used as given: an API under /openai (no /v1) is found and judged there."""
    with running_server(api_key=KEY, app=mounted_at("/openai", create_app(api_key=KEY))) as server:
        result = _run(server.root + "/openai")
    assert result.target == server.root + "/openai"
    assert result.verdict is Verdict.CONFORMANT, result.verdict_reason


def test_the_v1_below_a_root_url_is_found_and_said() -> None:
    """Given the server's root, the API under /v1 is used, and the report says so."""
    with running_server(api_key=KEY) as server:
        result = _run(server.root)
    assert result.target == server.base_url
    assert any("answers at" in note and "/v1" in note for note in result.coverage["notes"])


def test_a_target_answering_404_to_everything_is_no_api_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An all-404 target is not a non-conformant server: no report is written, exit 3, said plainly."""
    with hostile.serve(hostile.answering("404 Not Found", {"content-type": "text/plain"}, b"nope")) as url:
        code = main(["run", "--base-url", url, "--api-key", KEY, "--report-dir", str(tmp_path)], stdout=io.StringIO())
    assert code == 3
    err = capsys.readouterr().err
    assert "no Assistants API found at" in err
    assert f"{url}/v1" in err
    assert not (tmp_path / "conformance.json").exists()


def test_a_wrong_key_is_the_key_not_the_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A refused key stops the run before any scenario (exit 3) and names the key; no verdict on the server."""
    with running_server(api_key=KEY) as server:
        code = main(
            ["run", "--base-url", server.base_url, "--api-key", "sk-not-the-key", "--report-dir", str(tmp_path)],
            stdout=io.StringIO(),
        )
        with pytest.raises(TargetUnusable, match="no API key was given"):
            _run(server.base_url, key=None)
    assert code == 3
    err = capsys.readouterr().err
    assert "the target refused the API key" in err
    assert "401" in err
    assert "sk-not-the-key" not in err


# ----------------------------------------------------------------------------- gateways
def test_a_gateway_needing_a_query_and_its_own_key_header(tmp_path: Path) -> None:
    """--query and --auth-header apply to every request of every phase (property phase included),
    in the curl reproductions too, and the key stays redacted."""
    app = gateway(create_app(api_key=KEY), key=KEY, header="api-key", query={"api-version": "2024-05-01-preview"})
    with running_server(api_key=KEY, app=app) as server:
        out = io.StringIO()
        code = main(
            [
                "run",
                "--base-url",
                server.base_url,
                "--api-key",
                KEY,
                "--auth-header",
                "api-key",
                "--query",
                "api-version=2024-05-01-preview",
                "--max-examples",
                "2",
                "--report-dir",
                str(tmp_path),
            ],
            stdout=out,
        )
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert code == 0, out.getvalue()
    assert report["verdict"] == "conformant"
    for written in tmp_path.iterdir():
        assert KEY not in written.read_text(encoding="utf-8"), written.name


def test_without_the_gateways_query_the_api_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    app = gateway(create_app(api_key=KEY), key=KEY, header="api-key", query={"api-version": "1"})
    with running_server(api_key=KEY, app=app) as server:
        code = main(["run", "--base-url", server.base_url, "--api-key", KEY, "--auth-header", "api-key"])
    assert code == 3
    assert "no Assistants API found" in capsys.readouterr().err


# ----------------------------------------------------------------------------- one stream operation missing
def test_stream_checks_are_judged_through_create_run_when_thread_and_run_is_missing() -> None:
    """createThreadAndRun answers 404 "Invalid URL", but a streamed createRun works and drops `done`:
    createThreadAndRun is not served (RESP-ROUTE-002), the stream checks are judged on createRun's
    streams (their evidence says so) and STREAM-END-001 fails."""

    def no_thread_and_run(req: Req) -> Res | None:
        if req.path == "/v1/threads/runs":
            from assistants_conformance.lab.faults.middleware import error

            return error(404, "Invalid URL (POST /v1/threads/runs)")
        return None

    with _served(Fault("no createThreadAndRun", before=no_thread_and_run), FAULTS["done-missing"].make(KEY)) as server:
        result = _run(server.base_url)
    assert {"STREAM-END-001", "RESP-ROUTE-002"} <= by(result, Outcome.FAILED)
    judged = {c.id: c.evidence for c in result.checks}
    assert "createRun" in judged["STREAM-SCHEMA-001"]
    assert "createThreadAndRun" not in judged["STREAM-SCHEMA-001"]
    # Every stream rule is judged, but those about `done` and what comes before it, which a stream
    # without `done` cannot show.
    unjudgeable = set(TRIGGERS) | {"STREAM-DONE-001", "STREAM-DONE-002", "STREAM-RUN-003"}
    stream_checks = [c for c in result.checks if c.id.startswith(("STREAM-", "SSE-")) and c.id not in unjudgeable]
    assert all(c.outcome is not Outcome.SKIPPED for c in stream_checks), [
        (c.id, c.reason) for c in stream_checks if c.outcome is Outcome.SKIPPED
    ]


# ----------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("change", "check", "words"),
    [
        (lambda t: float(t), "RESP-SCHEMA-001", "integer written with a fraction"),
        (lambda t: t * 1000, "RESP-TIME-001", "milliseconds"),
    ],
    ids=["float", "milliseconds"],
)
def test_timestamps_that_are_not_integer_seconds_fail(change: Any, check: str, words: str) -> None:
    """`created_at: 1796004006.0` and `created_at` in milliseconds both fail, with the raw value, and
    in a whole run that one check is the only one that fails."""

    def restamp(assistant: dict[str, Any]) -> None:
        if isinstance(assistant.get("created_at"), int):
            assistant["created_at"] = change(assistant["created_at"])

    def stamp(req: Req, res: Res) -> None:  # every assistant it answers, alone or in a list
        rewrite_objects(res, "assistant", restamp)

    with _served(Fault("timestamps", after=stamp)) as server:
        result = _run(server.base_url, only={check})
        whole = _run(server.base_url)
    (found,) = result.checks
    assert found.outcome is Outcome.FAILED
    assert any(words in f.message for f in found.findings), [f.message for f in found.findings]
    assert by(whole, Outcome.FAILED) == {check}
    assert by(whole, Outcome.ERRORED) == set()


# ----------------------------------------------------------------------------- unknown fields
def test_an_undocumented_server_field_changing_on_modify_is_no_failure() -> None:
    """A server that keeps `updated_at` on every object: modifying metadata changes it, which is not
    "changed more than metadata"; the extra field is noted once."""
    ticks = iter(range(10**9))

    def updated(req: Req, res: Res) -> None:
        body = json_answer(res)
        items = body.get("data") if isinstance(body, dict) and body.get("object") == "list" else [body]
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("object") in ("assistant", "thread", "thread.message"):
                item["updated_at"] = int(time.time()) + next(ticks)
        if isinstance(body, dict):
            set_json(res, body)

    with _served(Fault("updated_at", after=updated)) as server:
        result = _run(server.base_url)
    assert result.verdict is Verdict.CONFORMANT, result.verdict_reason
    assert any("updated_at" in note for note in result.coverage["notes"])


# ----------------------------------------------------------------------------- accounting
def test_objects_a_server_wrongly_accepts_without_a_key_are_cleaned_up_and_counted() -> None:
    """AUTH-001 fails on a server that creates threads without a key, and those threads are
    deleted with the rest: the created/deleted figures are read back, not assumed."""
    with _served(FAULTS["missing-auth-accepted"].make(KEY)) as server:
        result = _run(server.base_url, only={"AUTH-001"})
    assert by(result, Outcome.FAILED) == {"AUTH-001"}
    assert result.resources["created"] == result.resources["deleted"] == 2  # the thread, and the control assistant
    assert result.resources["leaked"] == []


def test_an_object_that_survives_its_delete_is_listed_as_leaked_with_why() -> None:
    """A DELETE that answers `deleted: true` but leaves the object: the read-back says so."""
    with _served(FAULTS["delete-is-a-no-op"].make(KEY)) as server:
        result = _run(server.base_url, only={"ASST-CRUD-005"})
    assert result.resources["leaked"]
    assert all("still answers 200 after deleteAssistant" in line for line in result.resources["leaked"])


# ----------------------------------------------------------------------------- findings people can act on
def test_a_badly_broken_server_gives_a_short_report(tmp_path: Path) -> None:
    """Every object of every answer wrong in two ways (a v1 `file_ids`, a number in metadata): over
    hundreds of requests that is one finding per rule and field, each with its count and at most
    three examples; the field is named; the HTML stays under 1 MB."""

    def v1_shapes(req: Req, res: Res) -> None:
        body = json_answer(res)
        if not isinstance(body, dict):
            return
        items = body.get("data") if body.get("object") == "list" else [body]
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("object") in ("assistant", "thread.message"):
                item["file_ids"] = []
                item["metadata"] = {"version": 1}
        set_json(res, body)

    with _served(Fault("v1 shapes everywhere", after=v1_shapes)) as server:
        argv = ["run", "--base-url", server.base_url, "--api-key", KEY, "--max-examples", "5", "--quiet"]
        code = main([*argv, "--report-dir", str(tmp_path)], stdout=io.StringIO())
    assert code == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    schema = next(c for c in report["checks"] if c["id"] == "RESP-SCHEMA-001")
    assert report["coverage"]["requests"] > 400
    assert sum(f["count"] for f in schema["findings"]) > 100
    assert len(schema["findings"]) <= 12, [f["message"] for f in schema["findings"]]
    assert all(len(f["examples"]) <= 3 for f in schema["findings"])
    messages = " ".join(f["message"] for f in schema["findings"])
    assert "metadata" in messages
    assert "file_ids" not in messages  # a v1 field is a warning of its own, not a schema failure
    assert "Field ''" not in messages
    v1 = next(c for c in report["checks"] if c["id"] == "RESP-V1-001")
    assert v1["outcome"] == "warned"
    assert len(v1["findings"]) <= 6  # one per object type and where it was seen (answers, events)
    said = " ".join(f["message"] for f in v1["findings"])
    assert "an assistant carries `file_ids`" in said
    assert "a message carries `file_ids`" in said
    assert any(f["where"].startswith("/data/*/") for f in schema["findings"])
    assert (tmp_path / "conformance.html").stat().st_size < 1_000_000


def test_no_secret_reaches_the_terminal_or_any_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Canary: the key, the URL's user:password and a --header value appear in no byte of the
    terminal or of the four report files, on a run with findings (so exchanges are written); the
    curl lines read the header from the environment and add no key to the keyless probes."""
    password, tenant = "canary-password-4711", "canary-tenant-token-0815"
    app = gateway(
        FaultyApp(create_app(api_key=KEY), FAULTS["missing-auth-accepted"].make(KEY)),
        key=KEY,
        header="api-key",
        query={},
        basic=("ci", password),
    )
    with running_server(api_key=KEY, app=app) as server:
        url = server.base_url.replace("http://", f"http://ci:{password}@")
        out = io.StringIO()
        argv = ["run", "--base-url", url, "--api-key", KEY, "--auth-header", "api-key", "--max-examples", "0"]
        code = main([*argv, "--header", f"X-Tenant-Token: {tenant}", "--report-dir", str(tmp_path)], stdout=out)
    terminal = out.getvalue() + "".join(capsys.readouterr())
    assert code == 1, terminal
    texts = {path.name: path.read_text(encoding="utf-8") for path in tmp_path.iterdir()}
    assert set(texts) == {"conformance.json", "conformance.html", "junit.xml", "summary.md"}
    for secret in (KEY, password, tenant):
        assert secret not in terminal
        for name, text in texts.items():
            assert secret not in text, (secret, name)
    html = texts["conformance.html"]
    assert "X-Tenant-Token: $ASSISTANTS_HEADER_X_TENANT_TOKEN" in html
    assert "$ASSISTANTS_API_KEY" not in html  # the failing requests were the keyless probes: no key added
