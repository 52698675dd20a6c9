"""Turning jsonschema errors into one precise sentence, a field path and a spec pointer.

Unions are explained by dispatching on their tag first (`type`, `event`, `object`, or null vs
non-null): the errors reported are the matching branch's, never "not valid under any of the
given schemas" alone. Shared by the validators and the reference server's 400 messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from assistants_conformance.contract.document import resolve_pointer

_MAX_SHOWN = 80
_JSON_TYPES = {"null": type(None), "boolean": bool, "string": str, "array": list, "object": dict}


def field_path(parts: Iterable[str | int]) -> str:
    """['tools', 3, 'function', 'name'] → 'tools[3].function.name' (the vendor's notation)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def json_pointer(parts: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_SHOWN else f"{text[:_MAX_SHOWN]}… ({len(text)} characters)"


def _is_type(instance: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(instance, int) and not isinstance(instance, bool)
    if name == "number":
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    expected = _JSON_TYPES.get(name)
    if expected is bool:
        return isinstance(instance, bool)
    return expected is not None and isinstance(instance, expected) and not isinstance(instance, bool)


def pick_branch(doc: dict[str, Any], branches: list[Any], instance: Any) -> int | None:
    """The branch of a union the instance is meant to be, judged by its tag, or None."""
    resolved = [resolve_pointer(doc, b["$ref"]) if isinstance(b, dict) and "$ref" in b else b for b in branches]
    if isinstance(instance, dict):
        for index, branch in enumerate(resolved):
            consts = {
                k: v["const"] for k, v in branch.get("properties", {}).items() if isinstance(v, dict) and "const" in v
            }
            if consts and all(instance.get(k) == v for k, v in consts.items()):
                return index
    if instance is not None:  # a nullable union: the non-null branch is meant
        non_null = [i for i, b in enumerate(resolved) if not (isinstance(b, dict) and b.get("type") == "null")]
        if len(non_null) == 1:
            return non_null[0]
    typed = []
    for index, branch in enumerate(resolved):
        declared = branch.get("type")
        names = declared if isinstance(declared, list) else [declared] if declared else []
        if ("const" in branch and type(instance) is type(branch["const"])) or any(_is_type(instance, n) for n in names):
            typed.append(index)
    return typed[0] if len(typed) == 1 else None


def _value(error: ValidationError) -> Any:
    """The keyword's value in the schema (typed as maybe unset by the stubs; set on every error here)."""
    return error.validator_value


def leaf_errors(doc: dict[str, Any], error: ValidationError) -> Iterator[ValidationError]:
    """The errors that explain `error`, descending into the tag-matching branch of unions."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        index = pick_branch(doc, list(_value(error)), error.instance)
        if index is not None:
            inside = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == index]
            if inside:
                for sub in inside:
                    yield from leaf_errors(doc, sub)
                return
        tagged = _tag_error(doc, error)
        yield tagged if tagged is not None else best_match([error])
        return
    yield error


def spec_pointer(doc: dict[str, Any], root: str, error: ValidationError) -> str:
    """Where in the document the failing keyword lives, following $refs (e.g. …/UnixTime/type).

    jsonschema leaves `$ref` hops out of `absolute_schema_path`, so a step that is not in the
    current node means the node is a reference to follow first.
    """
    pointer, node = root, resolve_pointer(doc, root)
    for part in error.absolute_schema_path:
        if part == "$ref":
            continue
        while isinstance(node, dict) and part not in node and isinstance(node.get("$ref"), str):
            pointer = "#" + node["$ref"].split("#", 1)[-1]
            node = resolve_pointer(doc, pointer)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        pointer += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return pointer


def _tag_error(doc: dict[str, Any], error: ValidationError) -> ValidationError | None:
    """For a tagged union whose tag matches no branch: 'expected type one of …; got …'."""
    if not isinstance(error.instance, dict):
        return None
    tags: dict[str, list[Any]] = {}
    for branch in _value(error):
        resolved = resolve_pointer(doc, branch["$ref"]) if isinstance(branch, dict) and "$ref" in branch else branch
        for name, prop in (resolved.get("properties") or {}).items() if isinstance(resolved, dict) else ():
            if isinstance(prop, dict) and "const" in prop:
                tags.setdefault(name, []).append(prop["const"])
    for name, values in tags.items():
        if len(values) > 1 and error.instance.get(name) not in values:
            return ValidationError(
                f"{error.instance.get(name)!r} is not one of {values}",
                validator="enum",
                validator_value=values,
                instance=error.instance.get(name),
                schema={},
                path=[*error.absolute_path, name],
                schema_path=list(error.absolute_schema_path),
            )
    return None


def describe(error: ValidationError) -> tuple[str, str | None]:
    """One readable sentence (expected vs actual) and the field (dotted path) it concerns."""
    path = list(error.absolute_path)
    kind = error.validator
    limit: Any = _value(error)
    instance: Any = error.instance
    if kind == "additionalProperties" and isinstance(instance, dict):
        schema: Any = error.schema
        allowed = set(schema.get("properties", {}))
        extra = sorted(set(instance) - allowed)
        param = field_path([*path, extra[0]]) if extra else field_path(path)
        return f"Unrecognized argument(s): {', '.join(extra)}.", param
    if kind == "required" and isinstance(instance, dict):
        missing = [name for name in limit if name not in instance]
        param = field_path([*path, missing[0]]) if missing else field_path(path)
        return f"Missing required field '{param}'.", param
    if kind == "false" or (kind is None and error.schema is False):
        param = field_path(path)
        return f"Field '{param}' is not allowed here.", param
    named = field_path(path) or None
    where = f"'{named}'" if named else "the value"
    sentences = {
        "maxLength": lambda: f"string too long; expected at most {limit} characters, got {len(instance)}",
        "minLength": lambda: f"string too short; expected at least {limit} characters, got {len(instance)}",
        "maxItems": lambda: f"array too long; expected at most {limit} items, got {len(instance)}",
        "minItems": lambda: f"array too short; expected at least {limit} items, got {len(instance)}",
        "maxProperties": lambda: f"too many keys; expected at most {limit}, got {len(instance)}",
        "maximum": lambda: f"number too large; expected at most {limit}, got {instance}",
        "minimum": lambda: f"number too small; expected at least {limit}, got {instance}",
        "enum": lambda: f"expected one of {', '.join(map(str, limit))}; got {short(instance)}",
        "const": lambda: f"expected {short(limit)}; got {short(instance)}",
        "type": lambda: f"expected {limit if isinstance(limit, str) else ' or '.join(limit)}; got {short(instance)}",
        "pattern": lambda: f"does not match the pattern {limit}; got {short(instance)}",
        "format": lambda: f"expected a valid {limit}; got {short(instance)}",
    }
    detail = sentences.get(str(kind), lambda: error.message[:300])()
    return f"Invalid value for {where}: {detail}.", named
