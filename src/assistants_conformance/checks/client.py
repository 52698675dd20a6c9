"""The client's side of the contract: what a request must be. Judged only on watched traffic (the
proxy, validate-har) and reported apart, as the client's findings: useful to a client's authors,
never counted against the server, never part of the server's verdict."""

from __future__ import annotations

from assistants_conformance.checks.check import Check, Level

TRAFFIC = "traffic"

CHECKS: tuple[Check, ...] = (
    Check(
        id="CLIENT-JSON-001",
        level=Level.MUST,
        category="client",
        requirement="A request body is JSON.",
        spec="#/paths (requestBody, application/json)",
        doc="API reference: every request body is a JSON object",
        evidence="a request to an operation that takes a body, with one",
        judged_by=(TRAFFIC,),
        traffic="every request body the client sent to an operation that takes one",
    ),
    Check(
        id="CLIENT-BODY-001",
        level=Level.MUST,
        category="client",
        requirement="A request body matches the operation's request schema: known fields, types, limits.",
        spec="#/paths (requestBody schemas)",
        doc="API reference: the request body of each operation",
        evidence="a JSON request body the client sent",
        judged_by=(TRAFFIC,),
        traffic="every JSON request body the client sent",
    ),
    Check(
        id="CLIENT-QUERY-001",
        level=Level.MUST,
        category="client",
        requirement="Declared query parameters carry valid values (limit 1 to 100, order asc or desc, …).",
        spec="#/components/parameters",
        doc="API reference: list parameters",
        evidence="a request with a query parameter the operation declares",
        judged_by=(TRAFFIC,),
        traffic="every declared query parameter the client sent",
    ),
    Check(
        id="CLIENT-BETA-001",
        level=Level.SHOULD,
        category="client",
        requirement="Requests carry `OpenAI-Beta: assistants=v2` (the vendor's server requires it).",
        spec="#/components/parameters/OpenAIBeta",
        doc="Assistants reference: every example request sends `OpenAI-Beta: assistants=v2`",
        evidence="a request to an operation of the contract",
        judged_by=(TRAFFIC,),
        traffic="every request to an operation of the contract",
    ),
)

CLIENT: dict[str, Check] = {check.id: check for check in CHECKS}
