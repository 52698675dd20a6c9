"""Fast schema checks: a compiled jsonschema-rs `is_valid` first, explanations only on failure.

Measured here: loading and validating a message delta runs at ~230,000/s with jsonschema-rs
and ~5,000/s with the pure-Python validator, so the pure-Python one (whose error objects
explain unions well) only runs for the rare instance that fails.
"""

from __future__ import annotations

from typing import Any

from assistants_conformance.contract import Contract, get_contract
from assistants_conformance.contract.compiled import Compiled
from assistants_conformance.contract.document import iter_properties
from assistants_conformance.contract.explain import describe, field_path, json_pointer, leaf_errors, spec_pointer
from assistants_conformance.validate.violations import Violation

_MAX_REPORTED = 20


class FastSchemas(Compiled):
    """The contract's compiled validators (contract/compiled.py), and violations explained by the
    pure-Python validator when an instance fails."""

    def __init__(self, contract: Contract) -> None:
        super().__init__(contract)
        self._forbidden: frozenset[str] | None = None

    def _forbidden_field(self, instance: Any, error: Any) -> str | None:
        """jsonschema reports a property whose schema is `false` at its parent object, without the
        property's name (its path is not extended); find the name: a key of that object holding
        exactly the offending value, among the properties the contract forbids."""
        parent: Any = instance
        for part in error.absolute_path:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return None
        if not isinstance(parent, dict):
            return None
        keys = [k for k, v in parent.items() if v is error.instance and k in self._false_fields]
        return keys[0] if len(keys) == 1 else None

    @property
    def _false_fields(self) -> frozenset[str]:
        if self._forbidden is None:
            self._forbidden = frozenset(
                name for name, schema in iter_properties(self.contract.document) if schema is False
            )
        return self._forbidden

    def check(
        self,
        check_id: str,
        pointer: str,
        instance: Any,
        *,
        where: str = "",
        frame: int | None = None,
        line: int | None = None,
    ) -> list[Violation]:
        """Violations of the schema at `pointer`; [] when valid (the common, fast case)."""
        if self.is_valid(pointer, instance):
            return []
        doc = self.contract.document
        found: list[Violation] = []
        seen: set[tuple[str, str]] = set()
        for error in self.contract.validator(pointer).iter_errors(instance):
            for leaf in leaf_errors(doc, error):
                message, _ = describe(leaf)
                path = list(leaf.absolute_path)
                named = self._forbidden_field(instance, leaf) if leaf.schema is False else None
                if named is not None:
                    path.append(named)
                    message = f"Field '{field_path(path)}' is not allowed here."
                at = where + json_pointer(path)
                if (at, message) in seen:
                    continue
                seen.add((at, message))
                found.append(Violation(check_id, message, at, spec_pointer(doc, pointer, leaf), frame=frame, line=line))
                if len(found) >= _MAX_REPORTED:
                    return found
        return found or [Violation(check_id, f"does not match {pointer}", where, pointer, frame=frame, line=line)]


_DEFAULT: FastSchemas | None = None


def default_schemas() -> FastSchemas:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = FastSchemas(get_contract())
    return _DEFAULT
