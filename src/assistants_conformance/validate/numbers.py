"""Numbers as written on the wire, and Unix timestamps that are really seconds.

JSON Schema counts `1.0` as an integer (it is one, mathematically), and `json.loads` hands the
validator the same float either way, so `created_at: 1796004006.0` would pass a field the
contract declares `integer`. A client in a typed language parses that token as a float and
fails. `loads_exact` keeps the difference: an integral number written with a fraction or an
exponent is parsed one step towards zero (so `integer` rejects it while `number` bounds still
hold), and `explain` puts the raw token back into the findings.

`created_at` in milliseconds is an integer too; `timestamps` judges every field the contract
declares as a Unix time against the run's own clock.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from assistants_conformance.contract import get_contract
from assistants_conformance.contract.document import iter_properties
from assistants_conformance.validate.violations import Violation

# An integral number written as a float: `12.0`, `1e3`, `12.0E2`; a quick pre-scan for stream data.
INTEGRAL_FLOAT = re.compile(r"\d(?:\.0+(?:[eE][+-]?\d+)?|[eE]\+?\d+)(?=\s*[,}\]])")
EARLIEST = 946_684_800  # 2000-01-01: no Assistants object is older
LATEST_AHEAD = 366 * 86_400  # expires_at lies minutes ahead; a year ahead is not a Unix time in seconds


def loads_exact(text: bytes | str) -> tuple[Any, dict[str, str]]:
    """json.loads, but integral floats become distinguishable; returns the value and, for the
    explanation, each altered value's repr → the token as sent."""
    tokens: dict[str, str] = {}

    def parse_float(token: str) -> float:
        value = float(token)
        if math.isinf(value):  # 1e400: no client reads it as a number, as no event parser does
            raise ValueError(f"the number {token[:40]} is out of the range of a 64-bit float")
        if value != 0 and math.isfinite(value) and value.is_integer():
            nudged = math.nextafter(value, 0.0)
            tokens[json.dumps(nudged)] = token
            return nudged
        return value

    return json.loads(text, parse_float=parse_float), tokens


# Why `1796597063.0` fails a field declared `integer` (the contract's NOTE-INTEGER-TOKENS).
WHY_INTEGER_TOKENS = (
    "an integer written with a fraction or exponent; strictly typed clients refuse it for an integer field: "
    "Go's encoding/json into an int64, serde into a u64"
)


def explain(found: list[Violation], tokens: dict[str, str]) -> list[Violation]:
    """Findings that mention a nudged value show the token the server sent instead, and say why
    that token is wrong only where the rule broken is an integer type (never for a `number`)."""
    if not tokens:
        return found
    out = []
    for violation in found:
        message = violation.message
        about_integers = "expected integer" in message
        for shown, token in tokens.items():
            if shown in message:
                message = message.replace(shown, f"{token} ({WHY_INTEGER_TOKENS})" if about_integers else token)
        out.append(dataclasses.replace(violation, message=message))
    return out


@cache
def unix_time_fields() -> frozenset[str]:
    """Property names the contract declares as a Unix time (a $ref to UnixTime, maybe nullable)."""
    target = "#/components/schemas/UnixTime"

    def refers(schema: Any) -> bool:
        if not isinstance(schema, dict):
            return False
        if schema.get("$ref") == target:
            return True
        return any(refers(branch) for key in ("anyOf", "oneOf", "allOf") for branch in schema.get(key, []))

    return frozenset(name for name, schema in iter_properties(get_contract().document) if refers(schema))


def _walk(value: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield where, str(key), item
            if isinstance(item, dict | list):
                yield from _walk(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from _walk(item, f"{where}/{index}")


def timestamps(value: Any, *, where: str = "", now: float | None = None) -> tuple[bool, list[Violation]]:
    """RESP-TIME-001 over every Unix-time field in `value`: whether there was one to judge, and
    each that is not plausibly seconds (before 2000, or over a year past the run's clock)."""
    fields = unix_time_fields()
    clock = time.time() if now is None else now
    judged = False
    found: list[Violation] = []
    for parent, key, item in _walk(value, where):
        if key not in fields or not isinstance(item, int | float) or isinstance(item, bool):
            continue
        judged = True
        if EARLIEST <= item <= clock + LATEST_AHEAD:
            continue
        unit = (
            " (that is milliseconds, not seconds)" if EARLIEST * 1000 <= item <= (clock + LATEST_AHEAD) * 1000 else ""
        )
        found.append(
            Violation(
                "RESP-TIME-001",
                f"'{key}' is {item}{unit}; a Unix time in seconds lies between {EARLIEST} (2000) and a year "
                f"after the run's clock ({int(clock)})",
                f"{parent}/{key}",
                "#/components/schemas/UnixTime",
            )
        )
    return judged, found
