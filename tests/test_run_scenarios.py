"""The conformance run: green on the reference server; each scenario check red on a server broken for it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.cli import main
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.results import Outcome, RunResult, Verdict
from assistants_conformance.runner import Options, run
from tests.faults import Fault, FaultyApp, Req, Res, answer, error, set_json, set_json_body

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
    assert outcomes(result, Outcome.SKIPPED) == {"RESP-HEADER-001"}  # the reference server never rate-limits


# ----------------------------------------------------------------------------- faults
def _inject_auth(req: Req) -> None:
    if "authorization" not in req.headers:
        req.headers["authorization"] = f"Bearer {KEY}"


def _any_key(req: Req) -> None:
    if req.headers.get("authorization", "").startswith("Bearer "):
        req.headers["authorization"] = f"Bearer {KEY}"


def _drop_half_temperature(req: Req) -> None:
    body = req.json()
    if (
        req.method == "POST"
        and req.path == "/v1/assistants"
        and isinstance(body, dict)
        and body.get("temperature") == 0.5
    ):
        body.pop("temperature")
        set_json_body(req, body)


def _stale_get(req: Req, res: Res) -> None:
    if req.method == "GET" and ASSISTANT.match(req.path) and res.status == 200:
        body = res.json()
        body["description"] = "stale cached copy"
        set_json(res, body)


def _modify_replaces(req: Req) -> None:
    if req.method == "POST" and ASSISTANT.match(req.path):
        set_json_body(
            req,
            {
                "name": None,
                "instructions": None,
                "tools": [],
                "temperature": None,
                "top_p": None,
                "response_format": None,
                **(req.json() or {}),
            },
        )


def _list_hides_newest(req: Req, res: Res) -> None:
    if req.method == "GET" and req.path == "/v1/assistants" and res.status == 200:
        body = res.json()
        body["data"] = [a for a in body["data"] if not str(a.get("name")).startswith("conformance: every")]
        body["first_id"] = body["data"][0]["id"] if body["data"] else None
        body["last_id"] = body["data"][-1]["id"] if body["data"] else None
        set_json(res, body)


def _soft_delete(fault: Fault) -> tuple[Any, Any]:
    deleted: dict[str, Any] = fault.state.setdefault("deleted", {})

    def before(req: Req) -> Res | None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "GET" and found.group(1) in deleted:
            return answer(200, deleted[found.group(1)])
        return None

    def after(req: Req, res: Res) -> None:
        found = ASSISTANT.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            fault.state.setdefault("seen", {})[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200:
            deleted[found.group(1)] = fault.state.get("seen", {}).get(found.group(1))

    return before, after


def _make_soft_delete() -> Fault:
    fault = Fault("delete leaves the assistant retrievable")
    fault.before, fault.after = _soft_delete(fault)
    return fault


def _idempotent_delete(req: Req, res: Res) -> None:
    found = ASSISTANT.match(req.path)
    if found and req.method == "DELETE" and res.status == 404:
        res.status = 200
        set_json(res, {"id": found.group(1), "object": "assistant.deleted", "deleted": True})


def _unknown_is_400(req: Req) -> Res | None:
    if req.path.endswith("/assistants/asst_conformance_does_not_exist"):
        return error(400, "invalid id")
    return None


def _thread_survives_delete(fault: Fault) -> Fault:
    def before(req: Req) -> Res | None:
        found = THREAD.match(req.path)
        if found and req.method == "GET" and found.group(1) in fault.state:
            return answer(200, fault.state[found.group(1)])
        return None

    def after(req: Req, res: Res) -> None:
        found = THREAD.match(req.path)
        if found and req.method == "GET" and res.status == 200:
            fault.state.setdefault("_seen", {})[found.group(1)] = res.json()
        if found and req.method == "DELETE" and res.status == 200:
            fault.state[found.group(1)] = fault.state.get("_seen", {}).get(found.group(1))

    fault.before, fault.after = before, after
    return fault


def _strip_query(name: str, when: Any = lambda v: True) -> Any:
    def before(req: Req) -> None:
        if name in req.query and when(req.query[name]):
            del req.query[name]

    return before


def _default_asc(req: Req) -> None:
    if req.method == "GET" and req.path.endswith("/messages"):
        req.query.setdefault("order", "asc")


def _swap_cursors_asc(req: Req, res: Res) -> None:
    body = res.json()
    if req.query.get("order") == "asc" and isinstance(body, dict) and len(body.get("data") or []) > 1:
        body["first_id"], body["last_id"] = body["last_id"], body["first_id"]
        set_json(res, body)


def _has_more_if_full(req: Req, res: Res) -> None:
    body = res.json()
    if req.method == "GET" and isinstance(body, dict) and body.get("object") == "list" and body["data"]:
        body["has_more"] = len(body["data"]) == int(req.query.get("limit", 20))
        set_json(res, body)


def _after_ignored_asc(req: Req) -> None:
    """`after` ignored in ascending order: every page starts from the beginning again."""
    if req.method == "GET" and req.path.endswith("/messages") and req.query.get("order") == "asc":
        req.query.pop("after", None)


def _off_by_one_name(req: Req) -> Res | None:
    body = req.json()
    if (
        req.method == "POST"
        and req.path == "/v1/assistants"
        and isinstance(body, dict)
        and len(str(body.get("name") or "")) == 256
    ):
        return error(400, "name too long", "name")
    return None


def _truncate_name(req: Req) -> None:
    body = req.json()
    if req.method == "POST" and isinstance(body, dict) and len(str(body.get("name") or "")) > 256:
        body["name"] = body["name"][:256]
        set_json_body(req, body)


def _no_param(req: Req, res: Res) -> None:
    body = res.json()
    if res.status == 400 and isinstance(body, dict) and "error" in body:
        body["error"]["param"] = None
        set_json(res, body)


def _malformed_500(req: Req) -> Res | None:
    if req.method == "POST" and req.body and req.json() is None:
        return answer(500, {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}})
    return None


def _drop_unknown_field(req: Req) -> None:
    body = req.json()
    if isinstance(body, dict) and "conformance_unknown_field" in body:
        body.pop("conformance_unknown_field")
        set_json_body(req, body)


def _run_get_drifts(req: Req, res: Res) -> None:
    if req.method == "GET" and RUN_GET.match(req.path) and res.status == 200:
        body = res.json()
        body["metadata"] = {**body["metadata"], "drift": "yes"}
        set_json(res, body)


def _ignore_tool_choice(req: Req) -> None:
    body = req.json()
    if req.method == "POST" and req.path.endswith("/runs") and isinstance(body, dict) and "tool_choice" in body:
        body.pop("tool_choice")
        set_json_body(req, body)


def _submit_refused(req: Req) -> Res | None:
    if req.path.endswith("/submit_tool_outputs"):
        return error(400, "tool outputs are not supported")
    return None


def _cancel_refused(req: Req) -> Res | None:
    if req.path.endswith("/cancel"):
        return error(400, "runs cannot be cancelled")
    return None


def _polled_never_finishes(req: Req, res: Res) -> None:
    body = res.json()
    if req.method == "GET" and RUN_GET.match(req.path) and isinstance(body, dict) and body.get("tool_choice") == "none":
        body.update(status="in_progress", completed_at=None, usage=None, expires_at=body["created_at"] + 600)
        set_json(res, body)


def _busy_thread_accepts_runs(req: Req, res: Res) -> None:
    """A server without the one-active-run rule: it pretends to start the second run."""
    body = res.json()
    if res.status == 400 and isinstance(body, dict) and body["error"].get("code") == "thread_busy":
        from tests import samples

        res.status = 200
        set_json(res, {**samples.run("queued"), "id": "run_second", "thread_id": req.path.split("/")[3]})


FAULTS: list[tuple[Fault, set[str]]] = [
    (Fault("missing auth accepted", before=lambda r: _inject_auth(r)), {"AUTH-001"}),
    (Fault("any key accepted", before=lambda r: _any_key(r)), {"AUTH-002"}),
    (Fault("create ignores a field", before=lambda r: _drop_half_temperature(r)), {"ASST-CRUD-001"}),
    (Fault("get answers a stale copy", after=_stale_get), {"ASST-CRUD-002"}),
    (Fault("modify replaces the whole object", before=lambda r: _modify_replaces(r)), {"ASST-CRUD-003"}),
    (Fault("list omits an item", after=_list_hides_newest), {"ASST-CRUD-004"}),
    (_make_soft_delete(), {"ASST-CRUD-005"}),
    (Fault("delete twice answers 200", after=_idempotent_delete), {"ASST-CRUD-006"}),
    (Fault("unknown id is a 400", before=_unknown_is_400), {"ASST-CRUD-007"}),
    (_thread_survives_delete(Fault("thread survives delete")), {"THREAD-001"}),
    (Fault("run_id filter ignored", before=lambda r: _strip_query("run_id")(r)), {"MSG-001"}),
    (
        Fault("limit out of range accepted", before=lambda r: _strip_query("limit", lambda v: v in ("0", "101"))(r)),
        {"PAGE-005"},
    ),
    (Fault("default order is asc", before=lambda r: _default_asc(r)), {"PAGE-006"}),
    (Fault("first_id/last_id swapped", after=_swap_cursors_asc), {"PAGE-002"}),
    (Fault("has_more when the page is full", after=_has_more_if_full), {"PAGE-003"}),
    (Fault("after ignored (ascending)", before=lambda r: _after_ignored_asc(r)), {"PAGE-001"}),
    (Fault("boundary name refused", before=_off_by_one_name), {"VALID-001"}),
    (Fault("too-long name accepted", before=lambda r: _truncate_name(r)), {"VALID-002"}),
    (Fault("malformed JSON is a 500", before=_malformed_500), {"VALID-004"}),
    (Fault("unknown field accepted", before=lambda r: _drop_unknown_field(r)), {"VALID-005"}),
    (Fault("GET run drifts from the stream", after=_run_get_drifts), {"RUN-SNAP-001"}),
    (Fault("tool_choice ignored", before=lambda r: _ignore_tool_choice(r)), {"RUN-TOOL-001"}),
    (Fault("submit_tool_outputs refused", before=_submit_refused), {"RUN-TOOL-002", "RUN-STREAM-001"}),
    (Fault("cancel refused", before=_cancel_refused), {"RUN-CANCEL-001"}),
    (Fault("second run on a busy thread accepted", after=_busy_thread_accepts_runs), {"RUN-BUSY-001"}),
    (Fault("polled run never finishes", after=_polled_never_finishes), {"RUN-POLL-001", "RUN-SNAP-001"}),
]


@pytest.mark.parametrize(("fault", "expected"), FAULTS, ids=[f.name for f, _ in FAULTS])
def test_each_scenario_check_fails_on_its_faulty_server(fault: Fault, expected: set[str]) -> None:
    """The run is non-conformant, and exactly the named checks fail."""
    result = run_against(fault)
    assert outcomes(result, Outcome.FAILED) == expected
    assert outcomes(result, Outcome.ERRORED) == set()
    assert result.verdict is Verdict.NON_CONFORMANT


SHOULD_FAULTS: list[tuple[Fault, set[str]]] = [
    (Fault("no param on 400s", after=_no_param), {"VALID-003"}),
    (Fault("before ignored", before=lambda r: _strip_query("before")(r)), {"PAGE-004"}),
]


@pytest.mark.parametrize(("fault", "expected"), SHOULD_FAULTS, ids=[f.name for f, _ in SHOULD_FAULTS])
def test_should_checks_warn_without_failing_the_run(fault: Fault, expected: set[str]) -> None:
    """A broken SHOULD warns; the run stays conformant."""
    result = run_against(fault)
    assert outcomes(result, Outcome.WARNED) == expected
    assert outcomes(result, Outcome.FAILED) == set()
    assert result.verdict is Verdict.CONFORMANT


def test_cli_run_exit_codes_and_a_canary_key_never_leaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0 on the clean server, 1 on a faulty one; the key appears in no output or report byte."""
    app = create_app(api_key=KEY)
    for target_app, code in ((app, 0), (FaultyApp(create_app(api_key=KEY), FAULTS[0][0]), 1)):
        with running_server(api_key=KEY, app=target_app) as server:
            out = io.StringIO()
            assert (
                main(["run", "--base-url", server.root, "--api-key", KEY, "--report-dir", str(tmp_path)], stdout=out)
                == code
            )
        report = (tmp_path / "conformance.json").read_text()
        assert KEY not in out.getvalue() + capsys.readouterr().err + report
        assert json.loads(report)["verdict"] == ("conformant" if code == 0 else "non-conformant")
        sent = [e["request_headers"].get("Authorization") for e in json.loads(report)["exchanges"]]
        assert set(sent) <= {"[redacted]", None}


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
        (["run", "--reference", "--only", "NOPE-001"], "unknown check ID"),
        (["run", "--reference", "--header", "no colon"], "--header must look like"),
    ],
)
def test_bad_run_arguments_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    """Usage errors are one line and exit 2."""
    assert main(argv, stdout=io.StringIO()) == 2
    assert message in capsys.readouterr().err


# ----------------------------------------------------------------------------- property phase
def _crash_on_bad_body(req: Req) -> Res | None:
    """A server that parses the body without guarding against non-JSON or non-object bodies."""
    if req.method == "POST" and req.path == "/v1/assistants" and not isinstance(req.json(), dict):
        return answer(500, {"error": {"message": "boom", "type": "server_error", "param": None, "code": None}})
    return None


def _accept_anything(req: Req) -> Res | None:
    body = req.json()
    if req.method == "POST" and req.path == "/v1/assistants" and isinstance(body, dict):
        set_json_body(req, {"model": str(body.get("model")) or "m"})
    return None


def _refuse_thread_metadata(req: Req) -> Res | None:
    body = req.json()
    if req.method == "POST" and req.path == "/v1/threads" and isinstance(body, dict) and body.get("metadata"):
        return error(400, "metadata is not supported", "metadata")
    return None


PROPERTY_FAULTS: list[tuple[Fault, str, Outcome]] = [
    (Fault("500 on a body that is not a JSON object", before=_crash_on_bad_body), "PROP-5XX-001", Outcome.FAILED),
    (Fault("invalid assistants accepted", before=_accept_anything), "PROP-NEG-001", Outcome.FAILED),
    (Fault("thread metadata refused", before=_refuse_thread_metadata), "PROP-POS-001", Outcome.WARNED),
]


@pytest.mark.parametrize(("fault", "check", "outcome"), PROPERTY_FAULTS, ids=[f.name for f, _, _ in PROPERTY_FAULTS])
def test_property_phase_finds_its_fault(fault: Fault, check: str, outcome: Outcome) -> None:
    """Generated requests expose the fault; the clean server shows none of them (see the conformant test)."""
    app = create_app(api_key=KEY)
    with running_server(api_key=KEY, app=FaultyApp(app, fault)) as server:
        result = run(Options(base_url=server.root, api_key=KEY, only={check}, max_examples=15, seed=1))
    assert {c.id: c.outcome for c in result.checks} == {check: outcome}
    assert result.resources["leaked"] == []


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
    """`checks` prints every check with its level, as Markdown or JSON."""
    from assistants_conformance.checks import CATALOGUE

    out = io.StringIO()
    assert main(["checks", "--format", "json"], stdout=out) == 0
    listed = json.loads(out.getvalue())
    assert {c["id"] for c in listed} == set(CATALOGUE)
    assert all(c["level"] in ("MUST", "SHOULD", "MAY") and c["requirement"] and c["spec"] for c in listed)
    markdown = io.StringIO()
    main(["checks"], stdout=markdown)
    assert markdown.getvalue().count("\n| ") == len(CATALOGUE)  # one row per check after the header


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
    assert check.outcome is Outcome.FAILED
    assert any("/assistants/asst_" in f.message for f in check.findings)


def test_leftovers_of_an_interrupted_run_are_swept_at_start(tmp_path: Path) -> None:
    """An assistant tagged by an earlier run is deleted and reported at the start of the next."""
    import httpx

    with running_server(api_key=KEY) as server:
        left = httpx.post(
            f"{server.base_url}/assistants",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"model": "m", "metadata": {"conformance_run": "conf_earlier"}},
        ).json()
        result = run(Options(base_url=server.root, api_key=KEY, only={"AUTH-001"}))
        gone = httpx.get(f"{server.base_url}/assistants/{left['id']}", headers={"Authorization": f"Bearer {KEY}"})
    assert result.resources["swept_at_start"] == [f"{left['id']} (conf_earlier): deleted"]
    assert gone.status_code == 404
