"""Every check the suite can report, by stable ID, each declared once with everything about it.

MUST failures make a run non-conformant; SHOULD failures are warnings; MAY checks run only
when the target's profile declares the capability. Validator rules (RESP-*, SSE-*, STREAM-*)
and scenario checks share this one table; the scenarios, the validators and the lab refer to
checks by these IDs, and an ID used anywhere that is not declared here fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


# `judged_by` for the rules the validators apply to every answer and stream of every phase.
ANSWERS = "answers"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    level: Level
    category: str
    requirement: str
    spec: str  # what in the contract it enforces (operationId, schema pointer, note)
    doc: str  # the documentation clause behind it
    # What has to have happened for a pass: without it the check is "not exercised", never passed.
    evidence: str
    # Where it is judged: scenario names (scenarios/registry.py), or ANSWERS for the validators.
    judged_by: tuple[str, ...] = (ANSWERS,)
    # The operations it cannot be judged without: when the server does not serve one of them
    # (RESP-ROUTE-002), the check is not exercised, with that reason, unless it failed elsewhere.
    needs: tuple[str, ...] = ()
    # Non-empty for a check that judges a behaviour only when the server shows it (a 429, an
    # `error` event): what has to happen. Such a check reports "not triggered", never "passed",
    # when it did not happen, and does not hold the verdict back.
    trigger: str = ""


_S = "#/components/schemas"
_STREAM = "#/components/schemas/AssistantStreamEvent"
_EVENTS = "Assistants streaming events"
_SSE = "#/components/responses/RunOrStream"
_WHATWG = "WHATWG HTML: server-sent events"
_A_STREAM = "a stream with at least one named event"
_ASSISTANT = ("createAssistant",)
_RUNS = ("runs",)

_CHECKS: tuple[Check, ...] = (
    # ---------------------------------------------------------------- responses
    Check(
        id="RESP-ROUTE-001",
        level=Level.MUST,
        category="response",
        requirement="Requests the suite sends reach documented operations.",
        spec="#/paths",
        doc="API reference: endpoint list",
        evidence="a request routed to an operation the server serves",
    ),
    Check(
        id="RESP-ROUTE-002",
        level=Level.MUST,
        category="response",
        requirement="Every operation of the contract the run calls is served: none answers 405 or 501, or 404 "
        "for its route rather than for an object (a 404 to a path without ids, or naming objects that exist).",
        spec="#/paths",
        doc="API reference: endpoint list",
        evidence="an answer of a served operation (any status but 404, 405 and 501)",
    ),
    Check(
        id="RESP-WHOLE-001",
        level=Level.MUST,
        category="response",
        requirement="Every request is answered whole within the deadline: a status, headers and the complete body; "
        "the connection is neither closed nor stalled before the answer ends.",
        spec="#/paths",
        doc="HTTP/1.1 message framing (RFC 9112)",
        evidence="a JSON answer read to its end",
    ),
    Check(
        id="RESP-STATUS-001",
        level=Level.MUST,
        category="response",
        requirement="Every status code answered is one the operation declares.",
        spec="#/paths/*/*/responses",
        doc="API reference: responses; error codes guide",
        evidence="an answer of a served operation",
    ),
    Check(
        id="RESP-MEDIA-001",
        level=Level.MUST,
        category="response",
        requirement="The Content-Type is declared for that status.",
        spec="#/paths/*/*/responses/*/content",
        doc="API reference: responses are JSON, streams are text/event-stream",
        evidence="an answer with a declared status",
    ),
    Check(
        id="RESP-HEADER-001",
        level=Level.MUST,
        category="response",
        requirement="Declared required headers are present (Retry-After on 429).",
        spec="#/components/headers/RetryAfter",
        doc="Rate limits guide",
        evidence="an answer whose status declares a required header (a 429)",
        trigger="the target never answered a status with a required header (429)",
    ),
    Check(
        id="RESP-JSON-001",
        level=Level.MUST,
        category="response",
        requirement="A JSON response body parses as JSON.",
        spec="#/paths/*/*/responses",
        doc="API reference",
        evidence="a whole answer declared application/json",
    ),
    Check(
        id="RESP-SCHEMA-001",
        level=Level.MUST,
        category="response",
        requirement="The body matches the schema declared for its status.",
        spec=_S,
        doc="API reference: object definitions",
        evidence="a JSON body of a declared status and media type",
    ),
    Check(
        id="RESP-TIME-001",
        level=Level.MUST,
        category="response",
        requirement="Unix timestamps are whole seconds near the run's clock (not milliseconds, not years away).",
        spec="#/components/schemas/UnixTime",
        doc="API reference: `created_at` … the Unix timestamp (in seconds)",
        evidence="an answer or event carrying a Unix time",
    ),
    Check(
        id="RESP-IDENTITY-001",
        level=Level.MUST,
        category="response",
        requirement="What never changes of an object is the same in every answer that shows it (create, get, list, "
        "modify, cancel, submit): its `object`, `created_at` and the ids of its thread, assistant and run; "
        "a run's creation settings (model, instructions, tools, sampling, limits); a message's role, "
        "attachments and, once completed, its content; a step's type.",
        spec=_S,
        doc="API reference: the object's fields",
        evidence="an object with an id in a successful answer",
    ),
    Check(
        id="RESP-ID-001",
        level=Level.MUST,
        category="response",
        requirement="The ids in an answer agree with how it was reached: the object asked for by id is that object, "
        "what a thread or run holds names that thread or run, a run's steps and the messages its assistant "
        "wrote name the run's assistant, and an id a list gives reads back.",
        spec="#/paths",
        doc="API reference: every object's `id`, `thread_id`, `run_id`, `assistant_id`",
        evidence="a successful answer reached through ids in its path",
    ),
    Check(
        id="RESP-V1-001",
        level=Level.SHOULD,
        category="response",
        requirement="Answers carry no Assistants v1 fields (`file_ids` on assistants and messages): v2 replaced them "
        "with `tool_resources` and `attachments`, and v2 clients ignore them.",
        spec="#/components/schemas/Assistant/x-conformance-should",
        doc="Assistants migration guide (v1 to v2)",
        evidence="an assistant or message in a successful answer",
    ),
    Check(
        id="RUN-USAGE-001",
        level=Level.SHOULD,
        category="runs",
        requirement="A run or run step in a terminal status reports its token `usage` (null only until then): a "
        "client that meters tokens gets nothing from a null.",
        spec="#/components/schemas/Run/x-conformance-should",
        doc="Runs reference: usage (null if the run is not in a terminal state)",
        evidence="a run or step in a terminal status, in an answer or an event",
    ),
    # ---------------------------------------------------------------- framing (SSE)
    Check(
        id="SSE-UTF8-001",
        level=Level.MUST,
        category="framing",
        requirement="The event stream is UTF-8.",
        spec=_SSE,
        doc=_WHATWG,
        evidence="an event stream",
    ),
    Check(
        id="SSE-EOF-001",
        level=Level.MUST,
        category="framing",
        requirement="The stream ends on a frame boundary.",
        spec=_SSE,
        doc=_WHATWG,
        evidence="an event stream read to its end",
    ),
    Check(
        id="SSE-FRAME-001",
        level=Level.MUST,
        category="framing",
        requirement="Frames are separated by a blank line (one event field per frame).",
        spec=_SSE,
        doc=_WHATWG,
        evidence="an event stream",
    ),
    Check(
        id="SSE-FIELD-001",
        level=Level.SHOULD,
        category="framing",
        requirement="Only the standard SSE fields are used, with valid values.",
        spec=_SSE,
        doc=_WHATWG,
        evidence="an event stream",
    ),
    Check(
        id="SSE-FIELD-002",
        level=Level.MUST,
        category="framing",
        requirement="Every named frame carries data (frames without data are dropped).",
        spec=_SSE,
        doc=_WHATWG,
        evidence="a named frame",
    ),
    Check(
        id="SSE-LINE-001",
        level=Level.MUST,
        category="framing",
        requirement="No line is absurdly long (over 16 MiB).",
        spec=_SSE,
        doc="robustness",
        evidence="a line over 16 MiB",
        trigger="no stream carried a line over 16 MiB",
    ),
    # ---------------------------------------------------------------- CRUD lifecycle
    Check(
        id="ASST-CRUD-001",
        level=Level.MUST,
        category="lifecycle",
        requirement="createAssistant returns the assistant with every field as sent.",
        spec="createAssistant",
        doc="Assistants reference: create",
        evidence="a createAssistant answered 2xx",
        judged_by=("assistants-crud",),
        needs=_ASSISTANT,
    ),
    Check(
        id="ASST-CRUD-002",
        level=Level.MUST,
        category="lifecycle",
        requirement="getAssistant returns exactly what create, or the latest modify, returned.",
        spec="getAssistant",
        doc="Assistants reference: retrieve",
        evidence="a getAssistant of an assistant the run created",
        judged_by=("assistants-crud",),
        needs=(*_ASSISTANT, "getAssistant"),
    ),
    Check(
        id="ASST-CRUD-003",
        level=Level.MUST,
        category="lifecycle",
        requirement="modifyAssistant is a partial update: unsent fields keep their values.",
        spec="modifyAssistant",
        doc="Assistants reference: modify",
        evidence="a modifyAssistant of an assistant the run created",
        judged_by=("assistants-crud",),
        needs=(*_ASSISTANT, "modifyAssistant"),
    ),
    Check(
        id="ASST-CRUD-004",
        level=Level.MUST,
        category="lifecycle",
        requirement="listAssistants includes a newly created assistant, as its latest answer shows it.",
        spec="listAssistants",
        doc="Assistants reference: list",
        evidence="a listAssistants after a createAssistant answered 2xx",
        judged_by=("assistants-crud",),
        needs=(*_ASSISTANT, "listAssistants"),
    ),
    Check(
        id="ASST-CRUD-005",
        level=Level.MUST,
        category="lifecycle",
        requirement="After deleteAssistant (deleted: true) the assistant answers 404.",
        spec="deleteAssistant",
        doc="Assistants reference: delete",
        evidence="a deleteAssistant and a getAssistant after it, of an assistant the run created",
        judged_by=("assistants-crud",),
        needs=(*_ASSISTANT, "deleteAssistant", "getAssistant"),
    ),
    Check(
        id="ASST-CRUD-006",
        level=Level.MUST,
        category="lifecycle",
        requirement="Deleting an assistant twice answers 404 the second time.",
        spec="deleteAssistant",
        doc="Assistants reference: delete",
        evidence="a second deleteAssistant of an assistant the run created",
        judged_by=("assistants-crud",),
        needs=(*_ASSISTANT, "deleteAssistant"),
    ),
    Check(
        id="ASST-CRUD-007",
        level=Level.MUST,
        category="lifecycle",
        requirement="An unknown id answers 404 with the error envelope.",
        spec="getAssistant",
        doc="Error codes guide",
        evidence="a getAssistant of an id no object has, where getAssistant is served",
        judged_by=("assistants-crud",),
        needs=("getAssistant",),
    ),
    Check(
        id="THREAD-001",
        level=Level.MUST,
        category="lifecycle",
        requirement="Threads and messages: create, get, modify, list and delete behave as "
        "documented; deleting a thread removes its messages.",
        spec="createThread",
        doc="Threads and Messages reference",
        evidence="a thread and a message the run created, read, modified, listed and deleted",
        judged_by=("threads-messages",),
        needs=(
            "createThread",
            "getThread",
            "modifyThread",
            "deleteThread",
            "createMessage",
            "getMessage",
            "modifyMessage",
            "listMessages",
            "deleteMessage",
        ),
    ),
    Check(
        id="MSG-001",
        level=Level.MUST,
        category="lifecycle",
        requirement="listMessages with run_id returns exactly that run's messages.",
        spec="listMessages",
        doc="Messages reference: list, run_id",
        evidence="a listMessages with run_id of a run the run made",
        judged_by=_RUNS,
        needs=("listMessages",),
    ),
    # ---------------------------------------------------------------- pagination
    Check(
        id="PAGE-001",
        level=Level.MUST,
        category="pagination",
        requirement="Walking pages with `after` gives every item exactly once, in order.",
        spec=f"{_S}/ListPage",
        doc="Pagination: after cursor",
        evidence="a walk with `after` over a list of at least two items at a page size below its length",
        judged_by=("pagination", "runs"),
        needs=("createThread", "listMessages"),
    ),
    Check(
        id="PAGE-002",
        level=Level.MUST,
        category="pagination",
        requirement="first_id and last_id are the ids of the page's first and last items.",
        spec=f"{_S}/ListPage",
        doc="Pagination",
        evidence="a page of at least one item",
        judged_by=("pagination", "runs"),
        needs=("createThread", "listMessages"),
    ),
    Check(
        id="PAGE-003",
        level=Level.MUST,
        category="pagination",
        requirement="has_more is true exactly when a further page exists.",
        spec=f"{_S}/ListPage",
        doc="Pagination",
        evidence="a list of at least two items walked at a page size below its length (a next page exists)",
        judged_by=("pagination", "runs"),
        needs=("createThread", "listMessages"),
    ),
    Check(
        id="PAGE-004",
        level=Level.SHOULD,
        category="pagination",
        requirement="`before` walks back to the previous page.",
        spec=f"{_S}/ListPage",
        doc="Pagination: before cursor",
        evidence="a third page of a list of at least four items, walked back with `before`",
        judged_by=("pagination",),
        needs=("createThread", "listMessages"),
    ),
    Check(
        id="PAGE-005",
        level=Level.MUST,
        category="pagination",
        requirement="limit 0 and 101 are rejected with 400.",
        spec="#/components/parameters/Limit",
        doc="Pagination: limit 1..100",
        evidence="listMessages of a thread the run created, with limit 0 and 101",
        judged_by=("pagination",),
        needs=("createThread", "listMessages"),
    ),
    Check(
        id="PAGE-006",
        level=Level.MUST,
        category="pagination",
        requirement="`order` sorts by creation, asc or desc (default desc).",
        spec="#/components/parameters/Order",
        doc="Pagination: order",
        evidence="a listing of at least two items whose created_at differ",
        judged_by=("pagination",),
        needs=("createThread", "listMessages"),
    ),
    # ---------------------------------------------------------------- validation
    Check(
        id="VALID-001",
        level=Level.MUST,
        category="validation",
        requirement="Each documented limit accepts its boundary value.",
        spec=f"{_S}/CreateAssistantRequest",
        doc="Assistants reference: field limits",
        evidence="a create at ordinary values (the control) accepted, then one at each boundary",
        judged_by=("validation",),
        needs=_ASSISTANT,
    ),
    Check(
        id="VALID-ECHO-001",
        level=Level.MUST,
        category="validation",
        requirement="A value at its documented limit (256-character name, 512-character description and metadata "
        "values, 256,000 characters of instructions, 16 metadata pairs, 64-character keys, 128 tools) "
        "comes back exactly as sent, arrays in the order sent, from create, from modify and on read-back.",
        spec=f"{_S}/CreateAssistantRequest",
        doc="Assistants reference: create, modify, retrieve",
        evidence="a create at a limit accepted, then modified and read back",
        judged_by=("validation",),
        needs=(*_ASSISTANT, "modifyAssistant", "getAssistant"),
    ),
    Check(
        id="VALID-002",
        level=Level.MUST,
        category="validation",
        requirement="One past each documented limit is rejected with 400 and the envelope.",
        spec=f"{_S}/CreateAssistantRequest",
        doc="Assistants reference: field limits",
        evidence="a create at ordinary values (the control) accepted, then one past a limit",
        judged_by=("validation",),
        needs=_ASSISTANT,
    ),
    Check(
        id="VALID-003",
        level=Level.SHOULD,
        category="validation",
        requirement="A 400 for a bad field names it in error.param.",
        spec=f"{_S}/Error",
        doc="Error codes guide",
        evidence="a create past a limit refused with 400 and the envelope, its control accepted",
        judged_by=("validation",),
        needs=_ASSISTANT,
    ),
    Check(
        id="VALID-004",
        level=Level.MUST,
        category="validation",
        requirement="A malformed JSON body is a 400, not a 5xx.",
        spec=f"{_S}/ErrorResponse",
        doc="Error codes guide",
        evidence="a create at ordinary values (the control) accepted, then a malformed one",
        judged_by=("validation",),
        needs=_ASSISTANT,
    ),
    Check(
        id="VALID-005",
        level=Level.MUST,
        category="validation",
        requirement="Unknown request fields are rejected with 400.",
        spec=f"{_S}/CreateAssistantRequest",
        doc="Request bodies are closed",
        evidence="a create at ordinary values (the control) accepted, then the same with an unknown field",
        judged_by=("validation",),
        needs=_ASSISTANT,
    ),
    # ---------------------------------------------------------------- auth
    Check(
        id="AUTH-001",
        level=Level.MUST,
        category="auth",
        requirement="A request without an API key is refused with 401 and the envelope.",
        spec="#/components/securitySchemes/bearerAuth",
        doc="Authentication",
        evidence="a request without a key",
        judged_by=("auth",),
    ),
    Check(
        id="AUTH-002",
        level=Level.MUST,
        category="auth",
        requirement="A request with a wrong API key is refused with 401 and the envelope.",
        spec="#/components/securitySchemes/bearerAuth",
        doc="Authentication",
        evidence="a request with a wrong key",
        judged_by=("auth",),
    ),
    # ---------------------------------------------------------------- runs
    Check(
        id="RUN-STREAM-001",
        level=Level.MUST,
        category="runs",
        requirement="`stream: true` answers text/event-stream.",
        spec="createRun",
        doc="Runs reference: stream",
        evidence="a run started with `stream: true` for an assistant the run created",
        judged_by=_RUNS,
        needs=_ASSISTANT,
    ),
    Check(
        id="RUN-SNAP-001",
        level=Level.MUST,
        category="runs",
        requirement="The final streamed run, messages and steps equal what GET returns after.",
        spec="getRun",
        doc="Streaming guide",
        evidence="a stream that ended cleanly, and a GET of what it showed",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "getRun"),
    ),
    Check(
        id="RUN-POLL-001",
        level=Level.MUST,
        category="runs",
        requirement="A non-streamed run can be polled to a terminal status.",
        spec="getRun",
        doc="Runs reference: lifecycle",
        evidence="a run started without a stream, polled with getRun",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "createRun", "getRun"),
    ),
    Check(
        id="RUN-TOOL-001",
        level=Level.MUST,
        category="runs",
        requirement="tool_choice naming a function pauses the run in requires_action asking for it.",
        spec="createRun",
        doc="Function calling guide",
        evidence="a run started with tool_choice naming a function",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "createRun"),
    ),
    Check(
        id="RUN-TOOL-002",
        level=Level.MUST,
        category="runs",
        requirement="submit_tool_outputs resumes the run to completion, streamed or not.",
        spec="submitToolOuputsToRun",
        doc="Function calling guide",
        evidence="tool outputs submitted to a run paused in requires_action",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "submitToolOuputsToRun"),
    ),
    Check(
        id="RUN-TOOL-003",
        level=Level.MUST,
        category="runs",
        requirement="A tool call's `output` in its run step is null until the outputs are submitted, then the output "
        "submitted for it (polled steps and streamed step snapshots).",
        spec="#/components/schemas/FunctionCall",
        doc="Run steps reference: function.output",
        evidence="the steps of a run paused in requires_action, before and after its outputs",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "createRun"),
    ),
    Check(
        id="RUN-SETTINGS-001",
        level=Level.MUST,
        category="runs",
        requirement="A run uses the assistant's model, instructions and tools unless the request sends its own, "
        "which then take their place; the run shows what it used.",
        spec="#/components/schemas/CreateRunRequest",
        doc="Runs reference: createRun model, instructions, tools",
        evidence="a run created with and without settings of its own",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "createRun"),
    ),
    Check(
        id="RUN-MODIFY-001",
        level=Level.MUST,
        category="runs",
        requirement="modifyRun sets a run's metadata and changes nothing else of it; a read-back agrees.",
        spec="modifyRun",
        doc="Runs reference: modify",
        evidence="a modifyRun of a finished run, and a getRun after it",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "modifyRun", "getRun"),
    ),
    Check(
        id="RUN-CANCEL-001",
        level=Level.MUST,
        category="runs",
        requirement="cancelRun moves an active run through cancelling to cancelled.",
        spec="cancelRun",
        doc="Runs reference: cancel",
        evidence="a cancelRun of a run paused in requires_action, then polled",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "cancelRun", "getRun"),
    ),
    Check(
        id="RUN-CANCEL-002",
        level=Level.SHOULD,
        category="runs",
        requirement="A run cancelled while it streams ends cancelled: its stream's last run event is "
        "thread.run.cancelled, and getRun agrees.",
        spec="cancelRun; #/components/schemas/RunCancelledEvent",
        doc="Runs reference: cancel; Assistants streaming events: thread.run.cancelled",
        evidence="a cancel answered while the run's stream was still going",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "cancelRun"),
        trigger="no cancel landed while a run still streamed (the notes say why)",
    ),
    Check(
        id="PROP-5XX-001",
        level=Level.MUST,
        category="properties",
        requirement="No generated request, valid or invalid, is answered with a 5xx.",
        spec="#/paths",
        doc="Error codes guide: 5xx means the server failed",
        evidence="a generated request answered",
        judged_by=("properties",),
    ),
    Check(
        id="PROP-NEG-001",
        level=Level.MUST,
        category="properties",
        requirement="Requests that break the contract in body, query or path are rejected with 4xx.",
        spec="#/paths/*/*/requestBody",
        doc="Request validation",
        evidence="a generated request that breaks the contract, answered by a served operation",
        judged_by=("properties",),
    ),
    Check(
        id="PROP-POS-001",
        level=Level.SHOULD,
        category="properties",
        requirement="Valid generated requests to operations without ids are accepted.",
        spec="#/paths",
        doc="API reference",
        evidence="a valid generated request to a served operation without ids",
        judged_by=("properties",),
    ),
    Check(
        id="PROP-GONE-001",
        level=Level.MUST,
        category="properties",
        requirement="Once a DELETE of an object succeeded, the operations the links lead to answer 404 for it.",
        spec="#/components/links",
        doc="Objects reference: delete (Schemathesis use_after_free, in the stateful phase)",
        evidence="a read answered 404 after a DELETE of the same object answered 2xx",
        judged_by=("properties",),
    ),
    Check(
        id="RUN-BUSY-001",
        level=Level.MUST,
        category="runs",
        requirement="A second run on a thread with an active run is rejected with 400.",
        spec="createRun",
        doc="Runs reference",
        evidence="a second createRun on a thread whose run waits in requires_action",
        judged_by=_RUNS,
        needs=(*_ASSISTANT, "createRun"),
    ),
    # ---------------------------------------------------------------- streams (the validators' rules)
    Check(
        id="SSE-EVENT-001",
        level=Level.MUST,
        category="framing",
        requirement="Every frame names its event in an `event:` field.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a frame of an event stream",
    ),
    Check(
        id="SSE-JSON-001",
        level=Level.MUST,
        category="framing",
        requirement="Every event's data (except done) is one JSON value.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a named event other than done",
    ),
    Check(
        id="STREAM-SCHEMA-001",
        level=Level.MUST,
        category="stream",
        requirement="Each event's data is valid against the schema for its event name.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a documented event with JSON data",
    ),
    Check(
        id="STREAM-UNKNOWN-001",
        level=Level.SHOULD,
        category="stream",
        requirement="Event names are the documented ones (unknown names are tolerated, reported as warnings).",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a named event",
    ),
    Check(
        id="STREAM-ERROR-001",
        level=Level.SHOULD,
        category="stream",
        requirement="The server reported an `error` event (a warning: the stream may end early).",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="an `error` event",
        trigger="no stream carried an `error` event",
    ),
    Check(
        id="STREAM-END-001",
        level=Level.MUST,
        category="stream",
        requirement="A stream ends cleanly: `done` comes after its runs' last events, and only then does the "
        "server close it; a stream closed before `done`, cut by a dropped connection or a broken chunked body, "
        "or stalled past the deadline fails.",
        spec=_STREAM,
        doc=f"{_EVENTS}: done",
        evidence=_A_STREAM,
    ),
    Check(
        id="STREAM-DONE-001",
        level=Level.MUST,
        category="stream",
        requirement="`done` appears exactly once, with data `[DONE]`.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a `done` event",
    ),
    Check(
        id="STREAM-DONE-002",
        level=Level.MUST,
        category="stream",
        requirement="Nothing follows `done`.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a stream with a `done` event",
    ),
    Check(
        id="STREAM-THREAD-001",
        level=Level.MUST,
        category="stream",
        requirement="`thread.created` comes first in a thread-and-run stream, and only there.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence=f"{_A_STREAM} from an operation known by name",
    ),
    Check(
        id="STREAM-RUN-001",
        level=Level.MUST,
        category="stream",
        requirement="A run's first event is `thread.run.created`, and only its first (or, when resuming, it leaves "
        "requires_action).",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a run event",
    ),
    Check(
        id="STREAM-RUN-002",
        level=Level.MUST,
        category="stream",
        requirement="Run statuses follow the documented transitions.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a second event of one run",
    ),
    Check(
        id="STREAM-RUN-003",
        level=Level.MUST,
        category="stream",
        requirement="Every run reaches exactly one terminal event (or pauses in requires_action) before `done`.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a stream with a run that reached `done`",
    ),
    Check(
        id="STREAM-RUN-005",
        level=Level.MUST,
        category="stream",
        requirement="A run's messages and steps appear while it runs (after in_progress) and end before it ends.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a run that ended in the stream",
    ),
    Check(
        id="STREAM-STATUS-001",
        level=Level.MUST,
        category="stream",
        requirement="The event name agrees with the `status` in its data.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a run, message or step event with a status",
    ),
    Check(
        id="STREAM-ITEM-001",
        level=Level.MUST,
        category="stream",
        requirement="Messages and steps go created → in_progress → delta… → ended, with nothing after the end.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a message or step event after its creation",
    ),
    Check(
        id="STREAM-ITEM-002",
        level=Level.MUST,
        category="stream",
        requirement="A delta or update refers to an id created earlier in the stream.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a delta or update of a message or step",
    ),
    Check(
        id="STREAM-ITEM-003",
        level=Level.MUST,
        category="stream",
        requirement="Deltas of two messages are not interleaved.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="deltas of two messages in one stream",
        trigger="no stream carried deltas of two messages",
    ),
    Check(
        id="STREAM-ITEM-004",
        level=Level.MUST,
        category="stream",
        requirement="A message_creation step names a message created in the stream.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a completed message_creation step",
    ),
    Check(
        id="STREAM-FOLD-001",
        level=Level.MUST,
        category="stream",
        requirement="Text deltas folded by content index equal the message's final content.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a message that ended in the stream",
    ),
    Check(
        id="STREAM-FOLD-002",
        level=Level.MUST,
        category="stream",
        requirement="Tool-call argument deltas equal the step's and required_action's arguments.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a tool call whose arguments were streamed as deltas",
    ),
    Check(
        id="STREAM-IDS-001",
        level=Level.MUST,
        category="stream",
        requirement="thread_id, run_id and assistant_id agree across the events of a stream.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a second event naming the stream's thread",
    ),
    Check(
        id="STREAM-ACTION-001",
        level=Level.MUST,
        category="stream",
        requirement="A run in requires_action asks for every tool call its open step made.",
        spec=_STREAM,
        doc=_EVENTS,
        evidence="a run that paused in requires_action in the stream",
    ),
)

CATALOGUE: dict[str, Check] = {check.id: check for check in _CHECKS}
assert len(CATALOGUE) == len(_CHECKS), "a check ID is declared twice"

# The checks that can only judge what the server chooses to show, and what that is.
TRIGGERS: dict[str, str] = {check.id: check.trigger for check in _CHECKS if check.trigger}


def declared(*ids: str) -> tuple[str, ...]:
    """The IDs, each proven declared: a mistyped ID in a scenario or a fault fails at import."""
    unknown = [i for i in ids if i not in CATALOGUE]
    if unknown:
        raise KeyError(f"undeclared check ID(s): {', '.join(unknown)}")
    return ids


def judged_in(scenario: str) -> tuple[str, ...]:
    """The checks a scenario decides, in catalogue order."""
    return tuple(check.id for check in _CHECKS if scenario in check.judged_by)


# Schemathesis' built-in checks (4.32) and the catalogue check that enforces the same rule here.
# Only use_after_free is run as Schemathesis' own code (in the stateful phase: it needs the
# sequence); the others are enforced by our validators and scenarios under these IDs, which are
# stricter (streams included) and explain failures through the contract's pointers.
SCHEMATHESIS_EQUIVALENTS: dict[str, str] = {
    "not_a_server_error": "PROP-5XX-001",
    "status_code_conformance": "RESP-STATUS-001",
    "content_type_conformance": "RESP-MEDIA-001",
    "response_headers_conformance": "RESP-HEADER-001",
    "response_schema_conformance": "RESP-SCHEMA-001",
    "negative_data_rejection": "PROP-NEG-001",
    "positive_data_acceptance": "PROP-POS-001",
    "use_after_free": "PROP-GONE-001",
    "ignored_auth": "AUTH-002",
}
# Built-ins with no counterpart, and why (measured against the reference server and the docs).
SCHEMATHESIS_NOT_ADOPTED: dict[str, str] = {
    "unsupported_method": "405 for an undeclared method is HTTP etiquette, not the Assistants contract "
    "(the vendor answers 404 `Invalid URL`); the reference server does answer 405 with Allow",
    "allow_header_conformance": "the same rule as unsupported_method, for the Allow header",
    "missing_required_header": "the one required header parameter is OpenAI-Beta, which every client "
    "(and this suite) sends; a missing API key is AUTH-001",
    "ensure_resource_availability": "no fault could make it fire within the example budget: the "
    "link-following phase rarely pairs a create with a read, and the scenarios check availability",
    "object_level_authorization": "the Assistants API has one key per project: there is no second "
    "principal whose objects a request could reach",
}
