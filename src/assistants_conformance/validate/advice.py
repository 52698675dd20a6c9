"""The contract's SHOULD rules (`x-conformance-should` beside a schema): warnings, never schema failures.

Each rule names its check, `when` (which objects it judges), `expect` (what they should satisfy)
and `says` (why it matters). They apply to the objects an answer shows (alone, or the items of a
list page) and to the objects a stream's events carry, recognised by their `object` tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from assistants_conformance.contract import get_contract
from assistants_conformance.validate.violations import Severity, Violation


@dataclass(frozen=True, slots=True)
class Rule:
    check: str
    when: Draft202012Validator
    expect: Draft202012Validator
    says: str
    spec: str


@cache
def rules() -> dict[str, tuple[Rule, ...]]:
    """`object` tag (assistant, thread.run …) → the SHOULD rules for objects of that kind."""
    schemas = get_contract().document["components"]["schemas"]
    out: dict[str, tuple[Rule, ...]] = {}
    for name, schema in schemas.items():
        listed = schema.get("x-conformance-should") if isinstance(schema, dict) else None
        tag = (schema.get("properties", {}).get("object") or {}).get("const") if listed else None
        if not listed or not isinstance(tag, str):
            continue
        out[tag] = tuple(
            Rule(
                rule["check"],
                Draft202012Validator(rule["when"]),
                Draft202012Validator(rule["expect"]),
                " ".join(str(rule["says"]).split()),
                f"#/components/schemas/{name}/x-conformance-should/{n}",
            )
            for n, rule in enumerate(listed)
        )
    return out


def advise(value: Any, judged: set[str]) -> list[Violation]:
    """Warnings for the objects `value` shows: one object, or the items of a list page."""
    items = value.get("data") if isinstance(value, dict) and value.get("object") == "list" else [value]
    found: list[Violation] = []
    for item in items if isinstance(items, list) else ():
        found += advise_object(item, judged)
    return found


def advise_object(item: Any, judged: set[str]) -> list[Violation]:
    if not isinstance(item, dict):
        return []
    found = []
    for rule in rules().get(str(item.get("object")), ()):
        if not rule.when.is_valid(item):
            continue
        judged.add(rule.check)
        if not rule.expect.is_valid(item):
            found.append(Violation(rule.check, rule.says, spec=rule.spec, severity=Severity.WARNING))
    return found
