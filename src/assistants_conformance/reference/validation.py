"""Request validation from the contract: the same compiled schemas the suite checks with.

Bodies and query parameters are validated against the operation's schemas in
spec/assistants.openapi.yaml; the first (most relevant) violation becomes a 400 whose `param`
names the offending field in the vendor's `tools[0].function.name` notation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from assistants_conformance.contract import Contract
from assistants_conformance.contract.compiled import Compiled
from assistants_conformance.contract.explain import describe
from assistants_conformance.contract.explain import short as _short
from assistants_conformance.reference.errors import ApiError


class RequestValidator:
    """Validates one operation's body and query string; validators compiled once at start-up.

    A body is judged by the compiled (jsonschema-rs) validator first, the one the suite's response
    checks use; the pure-Python one runs only to explain a refusal, and has the last word then.
    Measured under plain Schemathesis, judging bodies was about 45 % of the server's CPU time."""

    def __init__(self, contract: Contract) -> None:
        self._contract = contract
        self._fast = Compiled(contract)
        self._pointers: dict[str, str | None] = {}
        self._bodies: dict[str, Validator | None] = {}
        self._queries: dict[str, dict[str, tuple[dict[str, Any], Validator]]] = {}
        for op in contract.operations:
            pointer = contract.request_body_pointer(op.operation_id)
            self._pointers[op.operation_id] = pointer
            self._bodies[op.operation_id] = contract.validator(pointer) if pointer else None
            self._queries[op.operation_id] = {
                p["name"]: (p["schema"], Draft202012Validator(p["schema"]))
                for p in contract.parameters(op.operation_id)
                if p["in"] == "query"
            }

    def body(self, operation_id: str, raw: bytes) -> dict[str, Any]:
        """The parsed body, or ApiError 400 naming the first violation."""
        validator = self._bodies[operation_id]
        if not raw.strip():
            if validator is None or not self._body_required(operation_id):
                return {}
            raise ApiError(400, "A request body is required for this operation.")
        try:
            body = json.loads(raw, parse_float=_number, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400, f"We could not parse the JSON body of your request. ({exc.__class__.__name__}: {str(exc)[:120]})"
            ) from exc
        except RecursionError as exc:
            raise ApiError(400, TOO_DEEP) from exc
        _storable(body)
        if validator is None:
            return body if isinstance(body, dict) else {}
        accepted: dict[str, Any] = body
        if self._fast_valid(operation_id, body):
            return accepted
        error = best_match(validator.iter_errors(body))
        if error is None:  # the compiled validator alone refused it: the explaining one decides
            return accepted
        message, param = describe(error)
        raise ApiError(400, message, param=param)

    def _fast_valid(self, operation_id: str, body: Any) -> bool:
        pointer = self._pointers[operation_id]
        try:
            return pointer is not None and self._fast.is_valid(pointer, body)
        except (ValueError, TypeError, OverflowError):  # a value it cannot take (e.g. inf): explain instead
            return False

    def _body_required(self, operation_id: str) -> bool:
        body = self._contract.operation_object(operation_id).get("requestBody", {})
        return bool(body.get("required"))

    def query(self, operation_id: str, params: Mapping[str, str], multi: Mapping[str, list[str]]) -> dict[str, Any]:
        """Declared query parameters, coerced to their schema type and validated, defaults filled."""
        values: dict[str, Any] = {}
        for name, (schema, validator) in self._queries[operation_id].items():
            if name not in params:
                if "default" in schema:
                    values[name] = schema["default"]
                continue
            raw: Any = multi[name] if schema.get("type") == "array" else params[name]
            value = _coerce(raw, schema)
            if value is _INVALID or not validator.is_valid(value):
                expected = (
                    f"an integer from {schema.get('minimum')} to {schema.get('maximum')}"
                    if schema.get("type") == "integer"
                    else json.dumps(schema.get("enum") or schema.get("items"))
                )
                raise ApiError(
                    400, f"Invalid value for query parameter '{name}': {_short(raw)}; expected {expected}.", param=name
                )
            values[name] = value
        return values


_INVALID = object()


def _coerce(raw: Any, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        try:
            return int(raw, 10)
        except ValueError:
            return _INVALID
    return raw


def _number(token: str) -> int | float:
    """A request may write an integer as `12.0` (JSON Schema counts it as one); what the server
    stores and echoes is the integer, written as one (`12`), so typed clients read it back."""
    value = float(token)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


MAX_DEPTH = 64  # levels of arrays/objects; the deepest legitimate body (a tool's JSON Schema) is far below
TOO_DEEP = f"The JSON body nests deeper than {MAX_DEPTH} levels."


def _no_constant(name: str) -> float:
    """NaN, Infinity and -Infinity are not JSON (RFC 8259); Python's json accepts them by default."""
    raise ValueError(f"{name} is not a JSON value")


def _storable(body: Any) -> None:
    """What the server stores must read back: no lone surrogate (not encodable as UTF-8), no nesting
    past MAX_DEPTH. Checked before anything is stored, so one bad request cannot poison a list."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ApiError(400, "The JSON body has a lone surrogate (\\ud800-\\udfff) in a string.") from exc
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ApiError(400, TOO_DEEP)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((item, depth + 1))
