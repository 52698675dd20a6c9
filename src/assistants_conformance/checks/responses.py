"""The checks every answer is judged by: status, media type, body, identity, and SSE framing."""

from __future__ import annotations

from assistants_conformance.checks.check import Check, Level

_S = "#/components/schemas"
_SSE = "#/components/responses/RunOrStream"
_WHATWG = "WHATWG HTML: server-sent events"

CHECKS: tuple[Check, ...] = (
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
)
