"""The conformance run: green on the reference server; each scenario check red on a server broken for it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.checks.catalogue import TRIGGERS
from assistants_conformance.cli import main
from assistants_conformance.lab.faults import FAULTS, Fault, FaultyApp, Req, Res, set_json
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.results import Outcome, RunResult, Verdict
from assistants_conformance.runner import Options, run

KEY = "sk-canary-0123456789abcdefXYZ"
ASSISTANT = re.compile(r"^/v1/assistants/([^/]+)$")
THREAD = re.compile(r"^/v1/threads/([^/]+)$")
RUN_GET = re.compile(r"^/v1/threads/[^/]+/runs/[^/]+$")


def run_against(fault: Fault | None, max_examples: int = 0) -> RunResult:
    """One run; the property phase is off unless asked for (its own tests below exercise it)."""
    app = create_app(api_key=KEY)
    with running_server(api_key=KEY, app=FaultyApp(app, fault) if fault else app) as server:
        return run(
            Options(base_url=server.root, api_key=KEY, poll_timeout=3.0, timeout=10.0, max_examples=max_examples)
        )


def _why(report: dict[str, Any]) -> str:
    """What a failing assertion on a run should show: the verdict's reason and every check not passed."""
    odd = [
        (c["id"], c["outcome"], c.get("reason")) for c in report["checks"] if c["outcome"] not in ("passed", "skipped")
    ]
    return f"{report['verdict']}: {report['verdict_reason']}; {odd}"


def outcomes(result: RunResult, outcome: Outcome) -> set[str]:
    return {c.id for c in result.checks if c.outcome is outcome}


def test_reference_server_is_conformant() -> None:
    """The clean reference server, property phase included: no failure, nothing errored, all deleted."""
    result = run_against(None, max_examples=10)
    assert outcomes(result, Outcome.FAILED) == set()
    assert outcomes(result, Outcome.ERRORED) == set()
    assert outcomes(result, Outcome.WARNED) == set()
    assert result.verdict is Verdict.CONFORMANT
    assert result.resources["leaked"] == []
    assert result.resources["created"] == result.resources["deleted"] > 10
    # Only the checks that wait for a behaviour the reference server never shows (a 429, an
    # `error` event…) are not passed, and they say "not triggered", never "passed". It does pace a
    # run's events on request, so a cancel lands mid-stream there.
    assert outcomes(result, Outcome.SKIPPED) == set(TRIGGERS) - {"RUN-CANCEL-002"}
    assert "RUN-CANCEL-002" in outcomes(result, Outcome.PASSED)
    assert all(c.reason.startswith("not triggered: ") for c in result.checks if c.outcome is Outcome.SKIPPED)
    assert all(c.evidence for c in result.checks if c.outcome is Outcome.PASSED)


@pytest.mark.parametrize(
    ("fault", "outcome", "said"),
    [
        # A gateway that holds each stream and sends it whole: the run has ended before the client
        # sees it, so nothing can be cancelled mid-stream, and the server is not blamed.
        (Fault("streams-held-whole", after=lambda req, res: None), Outcome.SKIPPED, "not triggered"),
        # A server that refuses to cancel a run it is still streaming.
        (FAULTS["cancel-refused"].make(KEY), Outcome.WARNED, "while the run's stream was still going"),
        # One that says `cancelling` and lets the run complete.
        (FAULTS["cancel-acknowledged-not-carried-out"].make(KEY), Outcome.WARNED, "showed 'completed'"),
    ],
    ids=["stream-held-whole", "cancel-refused", "cancel-not-carried-out"],
)
def test_a_cancel_mid_stream_is_judged_only_when_it_landed_while_the_run_streamed(
    fault: Fault, outcome: Outcome, said: str
) -> None:
    result = run_against(fault)
    (check,) = [c for c in result.checks if c.id == "RUN-CANCEL-002"]
    assert check.outcome is outcome, check
    assert said in (check.reason + " ".join(f.message for f in check.findings))


def _refuses_to_cancel_while_streaming() -> Fault:
    """A server that cannot interrupt a generation: cancelRun on a run whose stream is still open is
    refused; every other run (a polled one waiting for tool outputs) cancels as it should."""
    from assistants_conformance.lab.faults import sse
    from assistants_conformance.lab.faults.middleware import error

    streaming: set[str] = set()

    class Watch:
        run: str | None = None

        def feed(self, raw: bytes) -> bytes:
            for frame in sse.parse(raw):
                if frame.event == "thread.run.created" and self.run is None:
                    self.run = str((frame.json() or {}).get("id"))
                    streaming.add(self.run)
            return raw

        def end(self) -> bytes:
            streaming.discard(str(self.run))
            return b""

    def refuse(req: Req) -> Res | None:
        found = re.match(r"^/v1/threads/[^/]+/runs/([^/]+)/cancel$", req.path)
        if req.method == "POST" and found and found.group(1) in streaming:
            return error(400, "This run is being generated and cannot be cancelled.")
        return None

    return Fault("refuses-to-cancel-while-streaming", before=refuse, frames=lambda req: Watch())


def test_a_server_that_cannot_cancel_a_streaming_run_fails_that_check_alone() -> None:
    result = run_against(_refuses_to_cancel_while_streaming())
    assert {c.id for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED)} == {"RUN-CANCEL-002"}


def test_cli_run_exit_codes_and_a_canary_key_never_leaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0 on the clean server, 1 on a faulty one; the key appears in no output or report byte."""
    app = create_app(api_key=KEY)
    faulty = FaultyApp(create_app(api_key=KEY), FAULTS["missing-auth-accepted"].make(KEY))
    for target_app, code in ((app, 0), (faulty, 1)):
        with running_server(api_key=KEY, app=target_app) as server:
            out = io.StringIO()
            got = main(["run", "--base-url", server.root, "--api-key", KEY, "--report-dir", str(tmp_path)], stdout=out)
        report = (tmp_path / "conformance.json").read_text()
        assert got == code, _why(json.loads(report))
        assert KEY not in out.getvalue() + capsys.readouterr().err + report
        assert json.loads(report)["verdict"] == ("conformant" if code == 0 else "non-conformant")
        sent = [e["request_headers"].get("Authorization") for e in json.loads(report)["exchanges"]]
        assert set(sent) <= {"[redacted: API key]", "Bearer sk-conformance-wrong-key", None}


def test_unreachable_target_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Nothing listening: one readable line, exit 3, no traceback."""
    code = main(
        ["run", "--base-url", "http://127.0.0.1:9", "--report-dir", str(tmp_path), "--timeout", "2"],
        stdout=io.StringIO(),
    )
    err = capsys.readouterr().err
    assert code == 3
    assert "ConnectError" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--base-url", "ftp://x"], "must be an http(s) URL"),
        (["run", "--reference", "--only", "NOPE-001"], "names no check"),
        (["run", "--reference", "--header", "no colon"], "--header must look like"),
    ],
)
def test_bad_run_arguments_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    """Usage errors are one line and exit 2."""
    assert main(argv, stdout=io.StringIO()) == 2
    assert message in capsys.readouterr().err


def test_exhausted_budget_makes_the_run_incomplete(tmp_path: Path) -> None:
    """A request budget too small for the run: verdict incomplete, exit 3, and still everything cleaned up."""
    out = io.StringIO()
    code = main(
        [
            "run",
            "--reference",
            "--budget-requests",
            "40",
            "--max-examples",
            "0",
            "--quiet",
            "--report-dir",
            str(tmp_path),
        ],
        stdout=out,
    )
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert code == 3, out.getvalue()
    assert report["verdict"] == "incomplete"
    assert "budget" in report["verdict_reason"]
    assert report["resources"]["leaked"] == []


def test_checks_command_lists_the_catalogue() -> None:
    """`checks` prints every check with its level, as Markdown or JSON: server checks and client rules."""
    from assistants_conformance.checks import CATALOGUE
    from assistants_conformance.checks.client import CLIENT

    out = io.StringIO()
    assert main(["checks", "--format", "json"], stdout=out) == 0
    listed = json.loads(out.getvalue())
    assert {c["id"] for c in listed} == set(CATALOGUE) | set(CLIENT)
    assert all(c["level"] in ("MUST", "SHOULD", "MAY") and c["requirement"] and c["spec"] for c in listed)
    assert {c["id"] for c in listed if c["observable"]} >= set(CLIENT)
    markdown = io.StringIO()
    main(["checks"], stdout=markdown)
    rows = markdown.getvalue().count("\n| ")
    assert rows == len(CATALOGUE) + len(CLIENT)  # one row per check after the header


def test_stateful_phase_reaches_objects_only_links_lead_to() -> None:
    """A crash on modifying an existing assistant is reachable only by following links (random ids 404)."""

    def crash_on_existing_message(req: Req, res: Res) -> None:
        if ASSISTANT.match(req.path) and res.status == 200:
            res.status = 500
            set_json(res, {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}})

    fault = Fault("500 on an existing assistant", after=crash_on_existing_message)
    with running_server(api_key=KEY, app=FaultyApp(create_app(api_key=KEY), fault)) as server:
        result = run(Options(base_url=server.root, api_key=KEY, only={"PROP-5XX-001"}, max_examples=15))
    (check,) = result.checks
    assert check.outcome is Outcome.FAILED, check.reason
    assert any("/assistants/{assistant_id} answered 500" in f.message for f in check.findings)
    shown = [result.exchanges[f.exchange].url for f in check.findings if f.exchange is not None]
    assert any("/assistants/asst_" in url for url in shown)


def test_only_sweep_deletes_what_other_runs_left_and_only_when_old(tmp_path: Path) -> None:
    """Without --sweep nothing the run did not create is deleted (a user's object carrying our tag,
    another run's live objects). With it, only tagged assistants older than --sweep-age go."""
    import time

    import httpx

    old_tag = f"conf_{int(time.time()) - 7200}_dead"
    young_tag = f"conf_{int(time.time()) - 60}_live"
    with running_server(api_key=KEY) as server:
        auth = {"Authorization": f"Bearer {KEY}"}

        def make(tag: str) -> str:
            body = {"model": "m", "metadata": {"conformance_run": tag}}
            return str(httpx.post(f"{server.base_url}/assistants", headers=auth, json=body).json()["id"])

        def alive(assistant: str) -> bool:
            return httpx.get(f"{server.base_url}/assistants/{assistant}", headers=auth).status_code == 200

        users, old, young = make("mine, not the tool's"), make(old_tag), make(young_tag)
        plain = run(Options(base_url=server.base_url, api_key=KEY, only={"AUTH-001"}))
        assert plain.resources["swept"] == []
        assert alive(users)
        assert alive(old)
        assert alive(young)
        swept = run(Options(base_url=server.base_url, api_key=KEY, only={"AUTH-001"}, sweep=True, sweep_age=3600))
        assert swept.resources["swept"] == [f"{old} (tag {old_tag}): deleted"]
        assert alive(users)
        assert not alive(old)
        assert alive(young)


def test_a_generated_streamed_create_is_judged_and_its_thread_cleaned_up() -> None:
    """Regression: a generated createThreadAndRun with `stream: true` answers an event stream, which
    once raised in the property phase (an errored PROP check, an incomplete run). It is judged like
    any answer, and the thread its stream announced is deleted at the end."""
    import schemathesis

    from assistants_conformance.cleanup import clean_up
    from assistants_conformance.context import Context
    from assistants_conformance.scenarios import property_phase as properties
    from assistants_conformance.target import Target

    with running_server(api_key=KEY) as server:
        target = Target(server.base_url, KEY)
        ctx = Context(target, "conf_streamed", "gpt-4o", 5.0, seed=0, max_examples=1)
        assistant = target.request("POST", "/assistants", json_body={"model": "m"}).json()
        operation = schemathesis.openapi.from_dict(properties._contract_for_generation())["/threads/runs"]["POST"]
        case = properties.Generated.of(operation.Case(body={"assistant_id": assistant["id"], "stream": True}))
        response = properties.send(ctx, case)
        assert response.headers["content-type"].startswith("text/event-stream")
        properties._judge(ctx, case, response)
        (created,) = ctx.created
        assert created[1].startswith("/threads/thread_")
        assert clean_up(ctx)["leaked"] == []
        assert target.request("GET", created[1]).status == 404


def test_generated_requests_are_drawn_once_and_sent_alike_to_every_target() -> None:
    """The stateless phase's cases depend on contract, seed and budget only, so they are drawn once
    per process and replayed: a second target gets the very requests the first got, and drawing
    them is not paid again (it is most of a run's CPU time)."""
    from assistants_conformance import target as transport
    from assistants_conformance.scenarios import property_phase

    def sent() -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        original = transport.Target.request

        def request(self: Any, method: str, path: str, **kw: Any) -> Any:
            url = str(kw.get("url") or self.base_url + path)
            raw = kw.get("raw")  # the run's own tag, added to valid creates, is the same in both
            raw = re.sub(rb"conf_\d+_[0-9a-f]{8}", b"conf_RUN", raw) if isinstance(raw, bytes) else raw
            seen.append((method, url.removeprefix(self.base_url), kw.get("params"), raw))
            return original(self, method, path, **kw)

        transport.Target.request = request  # type: ignore[method-assign]
        try:
            with running_server(api_key=KEY) as server:
                run(Options(base_url=server.root, api_key=KEY, seed=11, max_examples=2, only={"PROP-NEG-001"}))
        finally:
            transport.Target.request = original  # type: ignore[method-assign]
        return seen

    property_phase._drawn.cache_clear()
    first = sent()
    drawn = property_phase._drawn.cache_info()
    second = sent()
    assert property_phase._drawn.cache_info().misses == drawn.misses == 1
    assert property_phase._drawn.cache_info().hits == drawn.hits + 1
    tag = {"conformance_run": "conf_RUN"}
    cases = [
        (c.method, c.url, c.params, property_phase.tagged(c, tag))
        for _, group in property_phase._drawn(11, 2)
        for c in group
    ]
    assert len(cases) >= 40
    for found in (first, second):  # all of them, one after the other, in the order drawn
        assert any(found[i : i + len(cases)] == cases for i in range(len(found)))


def test_drawn_requests_are_kept_between_runs_and_read_back_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later run (another process) reads the cases from the user's cache instead of drawing them:
    the very same requests, bytes and all; a damaged file is drawn again; with the cache off
    nothing is written."""
    from assistants_conformance.scenarios import property_phase

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    property_phase._drawn.cache_clear()
    drawn = property_phase._drawn(5, 2)
    (kept,) = (tmp_path / "assistants-conformance" / "cases").glob("*.json")
    assert any(case.raw for _, cases in drawn for case in cases)

    def no_drawing(*_: Any) -> Any:
        raise AssertionError("drawn again although kept")

    property_phase._drawn.cache_clear()
    with monkeypatch.context() as patched:
        patched.setattr(property_phase, "_draw", no_drawing)
        assert property_phase._drawn(5, 2) == drawn
    assert property_phase._drawn(6, 2) != drawn  # another seed: other cases, another file
    assert len(list(kept.parent.glob("*.json"))) == 2

    kept.write_text('{"not": "cases"}')
    property_phase._drawn.cache_clear()
    assert property_phase._drawn(5, 2) == drawn
    assert json.loads(kept.read_text())[0][0] == drawn[0][0]  # rewritten whole

    monkeypatch.setattr(property_phase, "KEPT_DRAWS", 2)  # a third seed: the oldest draw goes
    property_phase._drawn(8, 2)
    assert len(list(kept.parent.glob("*.json"))) == 2

    monkeypatch.setenv("ASSISTANTS_CONFORMANCE_NO_CACHE", "1")
    property_phase._drawn.cache_clear()
    property_phase._drawn(7, 2)
    assert len(list(kept.parent.glob("*.json"))) == 2
    property_phase._drawn.cache_clear()


@pytest.mark.parametrize(("generated", "sent"), [("../..", "/"), ("a/../b", "/assistants/b"), ("x", "/assistants/x")])
def test_a_generated_id_never_takes_a_request_out_of_the_api(generated: str, sent: str) -> None:
    """Schemathesis leaves `/` and dot segments in path parameters; resolved below the target's
    base URL they could address whatever the host serves above it (`/v1/assistants/../..` is `/`).
    Drawn below no base path, the request stays below the target's."""
    import schemathesis

    from assistants_conformance.scenarios.property_phase import Generated, _contract_for_generation

    operation = schemathesis.openapi.from_dict(_contract_for_generation())["/assistants/{assistant_id}"]["GET"]
    assert Generated.of(operation.Case(path_parameters={"assistant_id": generated})).url == sent


@pytest.mark.parametrize("base", ["http://127.0.0.1:9", "http://127.0.0.1:9/v1", "https://gw.example/openai/v1/"])
def test_a_drawn_request_goes_where_schemathesis_would_send_it(base: str) -> None:
    """Drawn without a target, a case's URL joins the target's base URL later: the same URL, query,
    headers and body as Schemathesis itself prepares for that base URL (unless a generated `..`
    climbs out of it: then ours stays below it)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from assistants_conformance.scenarios.property_phase import Generated, _contract_for_generation

    root = base.rstrip("/")
    schema = schemathesis.openapi.from_dict(_contract_for_generation())
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=3, database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        def same(case: Any) -> None:
            drawn, theirs = Generated.of(case), case.as_transport_kwargs(base_url=root)
            assert drawn.url.startswith("/")
            if theirs["url"].startswith(root + "/"):  # else a `..` took theirs out of the API
                assert root + drawn.url == theirs["url"]
            assert (drawn.method, drawn.params) == (theirs["method"], theirs.get("params") or None)
            if "json" in theirs:
                assert drawn.raw == json.dumps(theirs["json"]).encode()

        same()


def test_the_property_phase_is_reproducible_with_its_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same seed, same requests: the stateless and the stateful (link-following) phase alike. Each
    run draws its cases afresh (no cache in the process or on disk), so the seed alone decides."""
    from assistants_conformance.scenarios import property_phase

    monkeypatch.setenv("ASSISTANTS_CONFORMANCE_NO_CACHE", "1")

    from assistants_conformance import target as transport

    original = transport.Target.request

    def sent(seed: int) -> list[tuple[Any, ...]]:
        property_phase._drawn.cache_clear()
        seen: list[tuple[Any, ...]] = []

        def request(self: Any, method: str, path: str, **kw: Any) -> Any:
            if kw.get("url"):  # a generated request (scenarios name a path)
                # The server's ids and the run's tag differ from run to run; what was drawn may not.
                raw = kw.get("raw")
                raw = re.sub(rb"conf_\d+_[0-9a-f]{8}", b"conf_RUN", raw) if isinstance(raw, bytes) else raw
                raw = re.sub(rb"(asst|thread|msg|run|step|call)_[0-9a-f]{24}", rb"\1_ID", raw or b"")
                url = re.sub(r"(asst|thread|msg|run|step|call)_[0-9a-f]{24}", r"\1_ID", str(kw["url"]))
                seen.append((method, url.split("/v1", 1)[-1], kw.get("params"), raw))
            return original(self, method, path, **kw)

        monkeypatch.setattr(transport.Target, "request", request)
        with running_server(api_key=KEY) as server:
            run(Options(base_url=server.root, api_key=KEY, seed=seed, max_examples=5, only={"PROP-5XX-001"}))
        assert property_phase._drawn.cache_info().misses == 1  # drawn, not replayed
        return seen

    first = sent(3)
    assert len(first) > 100
    assert first == sent(3)


def test_every_schemathesis_built_in_check_is_mapped_or_declined() -> None:
    """Each built-in check names the catalogue check enforcing its rule, or why there is none, so a
    new Schemathesis check (after an upgrade) fails here until it is placed."""
    from schemathesis.checks import CHECKS, load_all_checks

    from assistants_conformance.checks import CATALOGUE
    from assistants_conformance.checks.catalogue import SCHEMATHESIS_EQUIVALENTS, SCHEMATHESIS_NOT_ADOPTED

    load_all_checks()
    assert set(CHECKS.get_all_names()) == set(SCHEMATHESIS_EQUIVALENTS) | set(SCHEMATHESIS_NOT_ADOPTED)
    assert set(SCHEMATHESIS_EQUIVALENTS.values()) <= set(CATALOGUE)
    out = io.StringIO()
    main(["checks", "--format", "json"], stdout=out)
    assert {c["id"]: c["schemathesis"] for c in json.loads(out.getvalue())}["PROP-GONE-001"] == ["use_after_free"]


def test_a_delete_that_changes_nothing_fails_exactly_the_use_after_free_check() -> None:
    """PROP-GONE-001 alone: the stateful phase reads an object after its DELETE and gets it back."""

    def failed(app: Any) -> set[str]:
        with running_server(api_key=KEY, app=app) as server:
            options = Options(base_url=server.root, api_key=KEY, seed=0, max_examples=10, only={"PROP-GONE-001"})
            result = run(options)
        return {c.id for c in result.checks if c.outcome is Outcome.FAILED}

    assert failed(FaultyApp(create_app(api_key=KEY), FAULTS["delete-is-a-no-op"].make(KEY))) == {"PROP-GONE-001"}
    assert failed(create_app(api_key=KEY)) == set()
