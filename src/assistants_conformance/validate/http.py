"""The response contract: route a request to its operation, then check status, media type,
declared headers and body.

Routing uses a table compiled once from the contract (path templates as regular
expressions, literal paths first), accepting a full URL or a path with any prefix such as
`/v1`. openapi-core routes the same way (see openapi_core_adapter, used as a cross-check in
the tests) but costs over a millisecond per call; this router costs microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from assistants_conformance.contract import Contract, Operation
from assistants_conformance.contract.document import resolve_pointer
from assistants_conformance.validate.advice import advise
from assistants_conformance.validate.numbers import explain, loads_exact, timestamps
from assistants_conformance.validate.schemas import FastSchemas, default_schemas
from assistants_conformance.validate.transcript import StreamReport, validate_stream_bytes
from assistants_conformance.validate.violations import Violation

EVENT_STREAM = "text/event-stream"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Route:
    operation: Operation
    params: dict[str, str]


class Router:
    def __init__(self, contract: Contract) -> None:
        self._table: list[tuple[re.Pattern[str], str, Operation]] = []
        ordered = sorted(contract.operations, key=lambda op: (op.path.count("{"), -len(op.path)))
        for op in ordered:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
            self._table.append((re.compile(f"^(?:/.*)?{pattern}/?$"), op.method, op))

    def match(self, method: str, url_or_path: str) -> Route | None:
        path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]
        method = method.upper()
        for pattern, op_method, op in self._table:
            if op_method != method:
                continue
            found = pattern.match(path)
            if found:
                return Route(op, found.groupdict())
        return None


class ResponseValidator:
    """validate_response over one contract; everything is compiled in __init__ or on first use."""

    def __init__(self, schemas: FastSchemas | None = None) -> None:
        self.schemas = schemas or default_schemas()
        self.contract = self.schemas.contract
        self.router = Router(self.contract)

    def _declared(self, op: Operation, status: int) -> tuple[str, dict[str, Any]] | None:
        responses = self.contract.operation_object(op.operation_id)["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                entry = responses[key]
                pointer = f"#/paths/{op.path.replace('/', '~1')}/{op.method.lower()}/responses/{key}"
                if "$ref" in entry:
                    pointer = entry["$ref"]
                    entry = resolve_pointer(self.contract.document, pointer)
                return pointer, entry
        return None

    def validate(
        self,
        method: str,
        url_or_path: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes | str | Any,
        judged: set[str] | None = None,
        cut: str | None = None,
        stream: StreamReport | None = None,
    ) -> list[Violation]:
        """`judged`, when given, receives the IDs of the rules this response gave evidence on: a rule
        that had nothing to look at (no declared header, a body that never parsed) is not judged.
        `cut` says why the body broke off before its end: a stream is judged on what arrived; a JSON
        body is only that finding (a truncated body would fail every other rule for the same cause).
        `stream`: an event stream's report made as it arrived (the proxy); the body is then not read."""
        seen: set[str] = judged if judged is not None else set()
        seen.add("RESP-ROUTE-001")
        route = self.router.match(method, url_or_path)
        if route is None:
            return [Violation("RESP-ROUTE-001", f"{method.upper()} {url_or_path} is not an operation of the contract")]
        op = route.operation
        seen.add("RESP-STATUS-001")
        declared = self._declared(op, status)
        if declared is None:
            statuses = ", ".join(self.contract.operation_object(op.operation_id)["responses"])
            return [
                Violation(
                    "RESP-STATUS-001",
                    f"{op.operation_id} answered {status}; the contract declares {statuses}",
                    spec=f"#/paths/{op.path.replace('/', '~1')}/{op.method.lower()}/responses",
                )
            ]
        pointer, response = declared
        found: list[Violation] = []
        lowered = {k.lower(): ", ".join(v) if isinstance(v, list | tuple) else v for k, v in headers.items()}
        seen.add("RESP-MEDIA-001")
        for name, header in (response.get("headers") or {}).items():
            if "$ref" in header:
                header = resolve_pointer(self.contract.document, header["$ref"])
            if header.get("required"):
                seen.add("RESP-HEADER-001")
            if header.get("required") and name.lower() not in lowered:
                found.append(
                    Violation(
                        "RESP-HEADER-001", f"{status} must carry the {name} header", spec=f"{pointer}/headers/{name}"
                    )
                )
        content = response.get("content") or {}
        media = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in content:
            found.append(
                Violation(
                    "RESP-MEDIA-001",
                    f"Content-Type {media or '(none)'!r} is not declared for {status}; expected {' or '.join(content)}",
                    spec=f"{pointer}/content",
                )
            )
            return found
        if media == EVENT_STREAM:
            report = stream
            if report is None:
                raw = body if isinstance(body, bytes) else str(body).encode()
                report = validate_stream_bytes(raw, operation=op.operation_id, schemas=self.schemas, cut=cut)
            seen.update(report.judged)
            return found + report.violations
        seen.add("RESP-WHOLE-001")
        if cut is not None:
            return [
                *found,
                Violation("RESP-WHOLE-001", f"{op.operation_id} answered {status}, then the body broke off: {cut}"),
            ]
        seen.add("RESP-JSON-001")
        value = body
        tokens: dict[str, str] = {}
        if isinstance(body, bytes | str):
            try:
                value, tokens = loads_exact(body)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                text = body[:60] if isinstance(body, str) else body[:60].decode("utf-8", "replace")
                found.append(Violation("RESP-JSON-001", f"the body is not JSON ({exc}): {text!r}"))
                return found
        schema = content[media]["schema"]["$ref"]
        seen.add("RESP-SCHEMA-001")
        had_time, wrong_time = timestamps(value)
        if had_time:
            seen.add("RESP-TIME-001")
        if 200 <= status < 300:
            found += advise(value, seen)
        return found + explain(self.schemas.check("RESP-SCHEMA-001", schema, value), tokens) + wrong_time


_DEFAULT: ResponseValidator | None = None


def validate_response(
    method: str,
    url_or_path: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes | str | Any,
    judged: set[str] | None = None,
    cut: str | None = None,
    stream: StreamReport | None = None,
) -> list[Violation]:
    """Every way this response breaks the contract ([] when it conforms); see ResponseValidator.validate."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ResponseValidator()
    return _DEFAULT.validate(method, url_or_path, status, headers, body, judged, cut, stream)
