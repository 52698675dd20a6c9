"""The stream validator's rules by ID, as a plain table: the check catalogue (and `checks`) reads
them without loading the validator and the compiled contract behind it."""

from __future__ import annotations

RULES: dict[str, str] = {
    "SSE-EVENT-001": "Every frame names its event in an `event:` field.",
    "SSE-JSON-001": "Every event's data (except done) is one JSON value.",
    "STREAM-SCHEMA-001": "Each event's data is valid against the schema for its event name.",
    "STREAM-UNKNOWN-001": "Event names are the documented ones (unknown names are tolerated, reported as warnings).",
    "STREAM-ERROR-001": "The server reported an `error` event (a warning: the stream may end early).",
    "STREAM-DONE-001": "`done` appears exactly once, with data `[DONE]`.",
    "STREAM-DONE-002": "Nothing follows `done`.",
    "STREAM-THREAD-001": "`thread.created` comes first in a thread-and-run stream, and only there.",
    "STREAM-RUN-001": (
        "A run's first event is `thread.run.created`, and only its first (or, when resuming, it leaves "
        "requires_action)."
    ),
    "STREAM-RUN-002": "Run statuses follow the documented transitions.",
    "STREAM-RUN-003": "Every run reaches exactly one terminal event (or pauses in requires_action) before `done`.",
    "STREAM-RUN-005": "A run's messages and steps appear while it runs (after in_progress) and end before it ends.",
    "STREAM-STATUS-001": "The event name agrees with the `status` in its data.",
    "STREAM-ITEM-001": "Messages and steps go created → in_progress → delta… → ended, with nothing after the end.",
    "STREAM-ITEM-002": "A delta or update refers to an id created earlier in the stream.",
    "STREAM-ITEM-003": "Deltas of two messages are not interleaved.",
    "STREAM-ITEM-004": "A message_creation step names a message created in the stream.",
    "STREAM-FOLD-001": "Text deltas folded by content index equal the message's final content.",
    "STREAM-FOLD-002": "Tool-call argument deltas equal the step's and required_action's arguments.",
    "STREAM-IDS-001": "thread_id, run_id and assistant_id agree across the events of a stream.",
    "STREAM-ACTION-001": "A run in requires_action asks for every tool call its open step made.",
}
