"""What a client sends, against the same contract: the body an operation takes, its query
parameters, the version header. The proxy and validate-har report these as the client's findings,
apart from the server's and never counted against it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator

from assistants_conformance.contract import get_contract
from assistants_conformance.validate.http import Route, Router
from assistants_conformance.validate.schemas import FastSchemas, default_schemas
from assistants_conformance.validate.violations import Severity, Violation

BETA = "assistants=v2"


class RequestValidator:
    """The client's side of each operation, compiled on first use."""

    def __init__(self, schemas: FastSchemas | None = None) -> None:
        self.schemas = schemas or default_schemas()
        self.contract = self.schemas.contract
        self.router = Router(self.contract)

    def validate(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        judged: set[str] | None = None,
        route: Route | None = None,
    ) -> list[Violation]:
        """Every way this request breaks the contract; [] for a request to no operation of it (a
        client may use other APIs through the same server). `judged` receives the rules it gave
        evidence on."""
        seen: set[str] = judged if judged is not None else set()
        route = route or self.router.match(method, url)
        if route is None:
            return []
        op = route.operation.operation_id
        found: list[Violation] = []
        lowered = {k.lower(): v for k, v in headers.items()}
        seen.add("CLIENT-BETA-001")
        if lowered.get("openai-beta", "").replace(" ", "") != BETA:
            given = lowered.get("openai-beta")
            found.append(
                Violation(
                    "CLIENT-BETA-001",
                    f"{op}: the request carries "
                    + (f"OpenAI-Beta {given[:60]!r}" if given is not None else "no OpenAI-Beta header")
                    + f"; the vendor's server wants `OpenAI-Beta: {BETA}`",
                    spec="#/components/parameters/OpenAIBeta",
                    severity=Severity.WARNING,
                )
            )
        found += self._query(op, url, seen)
        pointer = self.contract.request_body_pointer(op)
        if pointer is None or (not body.strip() and not _body_required(op)):
            return found
        seen.add("CLIENT-JSON-001")
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            shown = body[:60].decode("utf-8", "replace")
            return [*found, Violation("CLIENT-JSON-001", f"{op}: the request body is not JSON ({exc}): {shown!r}")]
        seen.add("CLIENT-BODY-001")
        return found + [
            Violation(v.check, f"{op}: {v.message}", v.where, v.spec, v.severity)
            for v in self.schemas.check("CLIENT-BODY-001", pointer, value)
        ]

    def _query(self, op: str, url: str, seen: set[str]) -> list[Violation]:
        given = parse_qs(urlsplit(url).query, keep_blank_values=True)
        declared = _query_parameters(op)
        found = []
        for name, values in given.items():
            if name not in declared:
                continue  # a gateway's own parameter (api-version) is not the contract's to judge
            seen.add("CLIENT-QUERY-001")
            schema, validator = declared[name]
            value: Any = values if schema.get("type") == "array" else values[-1]
            if not validator.is_valid(_coerced(value, schema)):
                found.append(
                    Violation(
                        "CLIENT-QUERY-001",
                        f"{op}: the query parameter {name}={str(value)[:60]!r} is not {_expected(schema)}",
                        where=name,
                        spec=f"#/components/parameters (the {name} parameter of {op})",
                    )
                )
        return found


@cache
def _query_parameters(op: str) -> dict[str, tuple[dict[str, Any], Draft202012Validator]]:
    return {
        p["name"]: (p["schema"], Draft202012Validator(p["schema"]))
        for p in get_contract().parameters(op)
        if p["in"] == "query"
    }


@cache
def _body_required(op: str) -> bool:
    return bool(get_contract().operation_object(op).get("requestBody", {}).get("required"))


def _coerced(value: Any, schema: dict[str, Any]) -> Any:
    """A query string as the type its schema names (what a server parses it into)."""
    if schema.get("type") == "integer" and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _expected(schema: dict[str, Any]) -> str:
    if schema.get("type") == "integer":
        return f"an integer from {schema.get('minimum')} to {schema.get('maximum')}"
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    return f"a valid {schema.get('type', 'value')}"


_DEFAULT: RequestValidator | None = None


def validate_request(
    method: str, url: str, headers: Mapping[str, str], body: bytes, judged: set[str] | None = None
) -> list[Violation]:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = RequestValidator()
    return _DEFAULT.validate(method, url, headers, body, judged)
