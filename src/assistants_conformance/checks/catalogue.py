"""Every check the suite can report, by stable ID.

MUST failures make a run non-conformant; SHOULD failures are warnings; MAY checks run only
when the target's profile declares the capability. Validator rules (RESP-*, SSE-*, STREAM-*)
and scenario checks share this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from assistants_conformance.validate.stream_rules import RULES as STREAM_RULES


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    level: Level
    category: str
    requirement: str
    spec: str  # what in the contract it enforces (operationId, schema pointer, note)
    doc: str  # the documentation clause behind it
    # Non-empty for a check that judges a behaviour only when the server shows it (a 429, an
    # `error` event): what has to happen. Such a check reports "not triggered", never "passed",
    # when it did not happen, and does not hold the verdict back. Every other check needs evidence.
    trigger: str = ""


_S = "#/components/schemas"
_RAW: list[tuple[str, Level, str, str, str, str]] = [
    # ---------------------------------------------------------------- responses
    (
        "RESP-ROUTE-001",
        Level.MUST,
        "response",
        "Requests the suite sends reach documented operations.",
        "#/paths",
        "API reference: endpoint list",
    ),
    (
        "RESP-STATUS-001",
        Level.MUST,
        "response",
        "Every status code answered is one the operation declares.",
        "#/paths/*/*/responses",
        "API reference: responses; error codes guide",
    ),
    (
        "RESP-MEDIA-001",
        Level.MUST,
        "response",
        "The Content-Type is declared for that status.",
        "#/paths/*/*/responses/*/content",
        "API reference: responses are JSON, streams are text/event-stream",
    ),
    (
        "RESP-HEADER-001",
        Level.MUST,
        "response",
        "Declared required headers are present (Retry-After on 429).",
        "#/components/headers/RetryAfter",
        "Rate limits guide",
    ),
    (
        "RESP-JSON-001",
        Level.MUST,
        "response",
        "A JSON response body parses as JSON.",
        "#/paths/*/*/responses",
        "API reference",
    ),
    (
        "RESP-SCHEMA-001",
        Level.MUST,
        "response",
        "The body matches the schema declared for its status.",
        f"{_S}",
        "API reference: object definitions",
    ),
    (
        "RESP-TIME-001",
        Level.MUST,
        "response",
        "Unix timestamps are whole seconds near the run's clock (not milliseconds, not years away).",
        "#/components/schemas/UnixTime",
        "API reference: `created_at` … the Unix timestamp (in seconds)",
    ),
    (
        "RESP-IDENTITY-001",
        Level.MUST,
        "response",
        "What never changes of an object is the same in every answer that shows it (create, get, list, "
        "modify, cancel, submit): its `object`, `created_at` and the ids of its thread, assistant and run; "
        "a run's creation settings (model, instructions, tools, sampling, limits); a message's role, "
        "attachments and, once completed, its content; a step's type.",
        "#/components/schemas",
        "API reference: the object's fields",
    ),
    # ---------------------------------------------------------------- framing (SSE)
    (
        "RESP-ID-001",
        Level.MUST,
        "response",
        "The ids in an answer agree with how it was reached: the object asked for by id is that object, "
        "what a thread or run holds names that thread or run, a run's steps and the messages its assistant "
        "wrote name the run's assistant, and an id a list gives reads back.",
        "#/paths",
        "API reference: every object's `id`, `thread_id`, `run_id`, `assistant_id`",
    ),
    (
        "SSE-UTF8-001",
        Level.MUST,
        "framing",
        "The event stream is UTF-8.",
        "#/components/responses/RunOrStream",
        "WHATWG HTML: server-sent events",
    ),
    (
        "SSE-EOF-001",
        Level.MUST,
        "framing",
        "The stream ends on a frame boundary.",
        "#/components/responses/RunOrStream",
        "WHATWG HTML: server-sent events",
    ),
    (
        "SSE-FRAME-001",
        Level.MUST,
        "framing",
        "Frames are separated by a blank line (one event field per frame).",
        "#/components/responses/RunOrStream",
        "WHATWG HTML: server-sent events",
    ),
    (
        "SSE-FIELD-001",
        Level.SHOULD,
        "framing",
        "Only the standard SSE fields are used, with valid values.",
        "#/components/responses/RunOrStream",
        "WHATWG HTML: server-sent events",
    ),
    (
        "SSE-FIELD-002",
        Level.MUST,
        "framing",
        "Every named frame carries data (frames without data are dropped).",
        "#/components/responses/RunOrStream",
        "WHATWG HTML: server-sent events",
    ),
    (
        "SSE-LINE-001",
        Level.MUST,
        "framing",
        "No line is absurdly long (over 16 MiB).",
        "#/components/responses/RunOrStream",
        "robustness",
    ),
    # ---------------------------------------------------------------- CRUD lifecycle
    (
        "ASST-CRUD-001",
        Level.MUST,
        "lifecycle",
        "createAssistant returns the assistant with every field as sent.",
        "createAssistant",
        "Assistants reference: create",
    ),
    (
        "ASST-CRUD-002",
        Level.MUST,
        "lifecycle",
        "getAssistant returns exactly what create, or the latest modify, returned.",
        "getAssistant",
        "Assistants reference: retrieve",
    ),
    (
        "ASST-CRUD-003",
        Level.MUST,
        "lifecycle",
        "modifyAssistant is a partial update: unsent fields keep their values.",
        "modifyAssistant",
        "Assistants reference: modify",
    ),
    (
        "ASST-CRUD-004",
        Level.MUST,
        "lifecycle",
        "listAssistants includes a newly created assistant, as its latest answer shows it.",
        "listAssistants",
        "Assistants reference: list",
    ),
    (
        "ASST-CRUD-005",
        Level.MUST,
        "lifecycle",
        "After deleteAssistant (deleted: true) the assistant answers 404.",
        "deleteAssistant",
        "Assistants reference: delete",
    ),
    (
        "ASST-CRUD-006",
        Level.MUST,
        "lifecycle",
        "Deleting an assistant twice answers 404 the second time.",
        "deleteAssistant",
        "Assistants reference: delete",
    ),
    (
        "ASST-CRUD-007",
        Level.MUST,
        "lifecycle",
        "An unknown id answers 404 with the error envelope.",
        "getAssistant",
        "Error codes guide",
    ),
    (
        "THREAD-001",
        Level.MUST,
        "lifecycle",
        "Threads and messages: create, get, modify, list and delete behave as "
        "documented; deleting a thread removes its messages.",
        "createThread",
        "Threads and Messages reference",
    ),
    (
        "MSG-001",
        Level.MUST,
        "lifecycle",
        "listMessages with run_id returns exactly that run's messages.",
        "listMessages",
        "Messages reference: list, run_id",
    ),
    # ---------------------------------------------------------------- pagination
    (
        "PAGE-001",
        Level.MUST,
        "pagination",
        "Walking pages with `after` gives every item exactly once, in order.",
        f"{_S}/ListPage",
        "Pagination: after cursor",
    ),
    (
        "PAGE-002",
        Level.MUST,
        "pagination",
        "first_id and last_id are the ids of the page's first and last items.",
        f"{_S}/ListPage",
        "Pagination",
    ),
    (
        "PAGE-003",
        Level.MUST,
        "pagination",
        "has_more is true exactly when a further page exists.",
        f"{_S}/ListPage",
        "Pagination",
    ),
    (
        "PAGE-004",
        Level.SHOULD,
        "pagination",
        "`before` walks back to the previous page.",
        f"{_S}/ListPage",
        "Pagination: before cursor",
    ),
    (
        "PAGE-005",
        Level.MUST,
        "pagination",
        "limit 0 and 101 are rejected with 400.",
        "#/components/parameters/Limit",
        "Pagination: limit 1..100",
    ),
    (
        "PAGE-006",
        Level.MUST,
        "pagination",
        "`order` sorts by creation, asc or desc (default desc).",
        "#/components/parameters/Order",
        "Pagination: order",
    ),
    # ---------------------------------------------------------------- validation
    (
        "VALID-001",
        Level.MUST,
        "validation",
        "Each documented limit accepts its boundary value.",
        f"{_S}/CreateAssistantRequest",
        "Assistants reference: field limits",
    ),
    (
        "VALID-ECHO-001",
        Level.MUST,
        "validation",
        "A value at its documented limit (256-character name, 512-character description and metadata "
        "values, 256,000 characters of instructions, 16 metadata pairs, 64-character keys, 128 tools) "
        "comes back exactly as sent, arrays in the order sent, from create, from modify and on read-back.",
        f"{_S}/CreateAssistantRequest",
        "Assistants reference: create, modify, retrieve",
    ),
    (
        "VALID-002",
        Level.MUST,
        "validation",
        "One past each documented limit is rejected with 400 and the envelope.",
        f"{_S}/CreateAssistantRequest",
        "Assistants reference: field limits",
    ),
    (
        "VALID-003",
        Level.SHOULD,
        "validation",
        "A 400 for a bad field names it in error.param.",
        f"{_S}/Error",
        "Error codes guide",
    ),
    (
        "VALID-004",
        Level.MUST,
        "validation",
        "A malformed JSON body is a 400, not a 5xx.",
        f"{_S}/ErrorResponse",
        "Error codes guide",
    ),
    (
        "VALID-005",
        Level.MUST,
        "validation",
        "Unknown request fields are rejected with 400.",
        f"{_S}/CreateAssistantRequest",
        "Request bodies are closed",
    ),
    # ---------------------------------------------------------------- auth
    (
        "AUTH-001",
        Level.MUST,
        "auth",
        "A request without an API key is refused with 401 and the envelope.",
        "#/components/securitySchemes/bearerAuth",
        "Authentication",
    ),
    (
        "AUTH-002",
        Level.MUST,
        "auth",
        "A request with a wrong API key is refused with 401 and the envelope.",
        "#/components/securitySchemes/bearerAuth",
        "Authentication",
    ),
    # ---------------------------------------------------------------- runs
    (
        "RUN-STREAM-001",
        Level.MUST,
        "runs",
        "`stream: true` answers text/event-stream.",
        "createRun",
        "Runs reference: stream",
    ),
    (
        "RUN-SNAP-001",
        Level.MUST,
        "runs",
        "The final streamed run, messages and steps equal what GET returns after.",
        "getRun",
        "Streaming guide",
    ),
    (
        "RUN-POLL-001",
        Level.MUST,
        "runs",
        "A non-streamed run can be polled to a terminal status.",
        "getRun",
        "Runs reference: lifecycle",
    ),
    (
        "RUN-TOOL-001",
        Level.MUST,
        "runs",
        "tool_choice naming a function pauses the run in requires_action asking for it.",
        "createRun",
        "Function calling guide",
    ),
    (
        "RUN-TOOL-002",
        Level.MUST,
        "runs",
        "submit_tool_outputs resumes the run to completion, streamed or not.",
        "submitToolOuputsToRun",
        "Function calling guide",
    ),
    (
        "RUN-TOOL-003",
        Level.MUST,
        "runs",
        "A tool call's `output` in its run step is null until the outputs are submitted, then the output "
        "submitted for it (polled steps and streamed step snapshots).",
        "#/components/schemas/FunctionCall",
        "Run steps reference: function.output",
    ),
    (
        "RUN-SETTINGS-001",
        Level.MUST,
        "runs",
        "A run uses the assistant's model, instructions and tools unless the request sends its own, which then "
        "take their place; the run shows what it used.",
        "#/components/schemas/CreateRunRequest",
        "Runs reference: createRun model, instructions, tools",
    ),
    (
        "RUN-MODIFY-001",
        Level.MUST,
        "runs",
        "modifyRun sets a run's metadata and changes nothing else of it; a read-back agrees.",
        "modifyRun",
        "Runs reference: modify",
    ),
    (
        "RUN-CANCEL-001",
        Level.MUST,
        "runs",
        "cancelRun moves an active run through cancelling to cancelled.",
        "cancelRun",
        "Runs reference: cancel",
    ),
    (
        "RUN-CANCEL-002",
        Level.SHOULD,
        "runs",
        "A run cancelled while it streams ends cancelled: its stream's last run event is "
        "thread.run.cancelled, and getRun agrees.",
        "cancelRun; #/components/schemas/RunCancelledEvent",
        "Runs reference: cancel; Assistants streaming events: thread.run.cancelled",
    ),
    (
        "PROP-5XX-001",
        Level.MUST,
        "properties",
        "No generated request, valid or invalid, is answered with a 5xx.",
        "#/paths",
        "Error codes guide: 5xx means the server failed",
    ),
    (
        "PROP-NEG-001",
        Level.MUST,
        "properties",
        "Requests that break the contract in body, query or path are rejected with 4xx.",
        "#/paths/*/*/requestBody",
        "Request validation",
    ),
    (
        "PROP-POS-001",
        Level.SHOULD,
        "properties",
        "Valid generated requests to operations without ids are accepted.",
        "#/paths",
        "API reference",
    ),
    (
        "PROP-GONE-001",
        Level.MUST,
        "properties",
        "Once a DELETE of an object succeeded, the operations the links lead to answer 404 for it.",
        "#/components/links",
        "Objects reference: delete (Schemathesis use_after_free, in the stateful phase)",
    ),
    (
        "RUN-BUSY-001",
        Level.MUST,
        "runs",
        "A second run on a thread with an active run is rejected with 400.",
        "createRun",
        "Runs reference",
    ),
]

_STREAM_CATEGORY = {"SSE": "framing", "STREAM": "stream"}
_SHOULD = {"STREAM-UNKNOWN-001", "STREAM-ERROR-001"}

# The checks that can only judge what the server chooses to show, and what that is.
TRIGGERS: dict[str, str] = {
    "RESP-HEADER-001": "the target never answered a status with a required header (429)",
    "SSE-LINE-001": "no stream carried a line over 16 MiB",
    "STREAM-ERROR-001": "no stream carried an `error` event",
    "STREAM-ITEM-003": "no stream carried deltas of two messages",
    "RUN-CANCEL-002": "no cancel landed while a run still streamed (the notes say why)",
}

CATALOGUE: dict[str, Check] = {row[0]: Check(*row, trigger=TRIGGERS.get(row[0], "")) for row in _RAW}
for _id, _text in STREAM_RULES.items():
    CATALOGUE.setdefault(
        _id,
        Check(
            _id,
            Level.SHOULD if _id in _SHOULD else Level.MUST,
            _STREAM_CATEGORY[_id.split("-")[0]],
            _text,
            "#/components/schemas/AssistantStreamEvent",
            "Assistants streaming events",
            TRIGGERS.get(_id, ""),
        ),
    )

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
