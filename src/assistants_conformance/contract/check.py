"""Self-check of a contract document: valid OpenAPI 3.1, every schema compiles, every event mapped.

`assistants-conformance spec --check` runs this, on the bundled document or on a user's copy,
so a broken edit is caught before any run depends on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from openapi_spec_validator import OpenAPIV31SpecValidator

from assistants_conformance.contract.document import resolve_pointer
from assistants_conformance.contract.schemas import Contract
from assistants_conformance.errors import SpecError


def iter_problems(doc: dict[str, Any]) -> Iterator[str]:
    """Every reason the document cannot serve as the contract, one sentence each."""
    if not str(doc.get("openapi", "")).startswith("3.1"):
        yield f"openapi must be 3.1.x, found {doc.get('openapi')!r}"
        return
    dangling = list(_dangling_refs(doc, doc, "#"))
    yield from dangling
    if dangling:  # the OpenAPI validator cannot walk a document with holes in it
        return
    for error in OpenAPIV31SpecValidator(doc).iter_errors():
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        yield f"OpenAPI 3.1: at {where}: {error.message}"
    schemas = doc.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            yield f"components/schemas/{name} is not a valid JSON Schema: {exc.message}"
    contract = Contract(doc)
    try:
        table = contract.event_schemas
    except (SpecError, KeyError, TypeError) as exc:
        yield f"the stream event table cannot be read: {exc}"
        return
    for event, entry in table.items():
        if entry.data_schema is None and entry.literal is None:
            yield f"event {event!r} declares neither a contentSchema nor a literal data value"


def _dangling_refs(doc: dict[str, Any], node: Any, where: str) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                resolve_pointer(doc, ref)
            except SpecError:
                yield f"{where}: $ref {ref!r} does not resolve"
        for key, value in node.items():
            yield from _dangling_refs(doc, value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _dangling_refs(doc, value, f"{where}/{index}")
