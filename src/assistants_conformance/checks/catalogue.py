"""Every check the suite can report, by stable ID.

MUST failures make a run non-conformant; SHOULD failures are warnings; MAY checks run only
when the target's profile declares the capability. Each check is declared once, with named
fields (check.py), in one of three tables by where it is judged: every answer (responses.py),
the scenarios and property phase (behaviour.py), every event stream (streams.py). The scenarios,
the validators and the lab refer to checks by these IDs; an ID used anywhere that is not declared
fails a test (tests/test_house_rules.py), and `declared()` fails at import.
"""

from __future__ import annotations

from assistants_conformance.checks import behaviour, responses, streams
from assistants_conformance.checks.check import ANSWERS, Check, Level

__all__ = ["ANSWERS", "CATALOGUE", "TRIGGERS", "Check", "Level", "declared", "judged_in"]

# Report order: the answers' rules, then the behaviours, then the streams' grammar.
_CHECKS: tuple[Check, ...] = (*responses.CHECKS, *behaviour.CHECKS, *streams.CHECKS)

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
