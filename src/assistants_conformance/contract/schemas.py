"""Compiled JSON Schema validators over the contract's components, built once and cached.

The document is registered once in a `referencing` registry; a validator for any pointer
into it (a component schema, a request body, an event's data) is compiled on first use and
kept. Nothing is re-parsed or re-compiled per request, response or event.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from assistants_conformance.contract.document import (
    Operation,
    load_document,
    operations,
    resolve_pointer,
)
from assistants_conformance.errors import SpecError

BASE_URI = "urn:assistants-conformance:contract"


@dataclass(frozen=True, slots=True)
class EventSchema:
    """How to validate the `data` of one stream event."""

    event: str
    branch: str  # pointer to the event's branch component
    data_schema: str | None  # pointer to the decoded data's schema; None: a literal
    literal: str | None  # the exact data required (for `done`)


@dataclass(eq=False)
class Contract:
    """The parsed contract plus its validator cache."""

    document: dict[str, Any]
    registry: Registry = field(init=False)
    _validators: dict[str, Validator] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(BASE_URI, resource)

    def validator(self, pointer: str) -> Validator:
        """The compiled validator for a local pointer such as `#/components/schemas/Run`."""
        found = self._validators.get(pointer)
        if found is None:
            resolve_pointer(self.document, pointer)  # fail early on a typo
            found = Draft202012Validator(
                {"$ref": BASE_URI + pointer},
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[pointer] = found
        return found

    def schema_validator(self, name: str) -> Validator:
        """The compiled validator for a component schema, by name."""
        return self.validator(f"#/components/schemas/{name}")

    @functools.cached_property
    def operations(self) -> tuple[Operation, ...]:
        return operations(self.document)

    @functools.cached_property
    def operations_by_id(self) -> dict[str, Operation]:
        return {op.operation_id: op for op in self.operations}

    def operation_object(self, operation_id: str) -> dict[str, Any]:
        op = self.operations_by_id[operation_id]
        found: dict[str, Any] = self.document["paths"][op.path][op.method.lower()]
        return found

    def request_body_pointer(self, operation_id: str) -> str | None:
        """Pointer to the JSON request body schema of an operation, if it takes one."""
        op = self.operations_by_id[operation_id]
        body = self.operation_object(operation_id).get("requestBody")
        if body is None:
            return None
        path = op.path.replace("~", "~0").replace("/", "~1")
        media = body["content"]["application/json"]["schema"]
        if "$ref" in media:
            return str(media["$ref"])
        return f"#/paths/{path}/{op.method.lower()}/requestBody/content/application~1json/schema"

    def parameters(self, operation_id: str) -> list[dict[str, Any]]:
        """The operation's parameters (path-level and operation-level), references resolved."""
        op = self.operations_by_id[operation_id]
        item = self.document["paths"][op.path]
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*item.get("parameters", []), *self.operation_object(operation_id).get("parameters", [])]:
            param = resolve_pointer(self.document, raw["$ref"]) if "$ref" in raw else raw
            merged[(param["name"], param["in"])] = param
        return list(merged.values())

    @functools.cached_property
    def event_schemas(self) -> dict[str, EventSchema]:
        """Event name → how to validate its data, read from the union's discriminator mapping."""
        union = self.document["components"]["schemas"]["AssistantStreamEvent"]
        mapping = union.get("discriminator", {}).get("mapping")
        if not mapping:
            raise SpecError("AssistantStreamEvent has no discriminator mapping")
        table: dict[str, EventSchema] = {}
        for event, branch in mapping.items():
            data = resolve_pointer(self.document, branch)["properties"]["data"]
            content = data.get("contentSchema")
            table[event] = EventSchema(
                event=event,
                branch=branch,
                data_schema=content["$ref"] if content else None,
                literal=data.get("const"),
            )
        return table


@functools.cache
def get_contract() -> Contract:
    """The process-wide contract over the bundled document."""
    return Contract(load_document())
