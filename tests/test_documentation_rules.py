"""spec/documentation-rules.md lists the documentation's prose rules and how each is judged; it
may only name checks that exist and contract places that exist, and every row says one or the other
or why the rule is not judged."""

from __future__ import annotations

import re
from pathlib import Path

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.contract import load_document
from assistants_conformance.contract.document import resolve_pointer

RULES = Path(__file__).resolve().parents[1] / "spec" / "documentation-rules.md"
CHECK_ID = re.compile(r"`([A-Z]+(?:-[A-Z0-9]+)*-\d{3})`")
POINTER = re.compile(r"`(#/components/schemas/[A-Za-z]+)`")


def _rows() -> list[list[str]]:
    rows = []
    for line in RULES.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) == 3 and not set(cells[0]) <= {"-"} and cells[0] != "The documentation says":
            rows.append(cells)
    return rows


def test_every_rule_names_a_check_or_why_it_is_not_judged() -> None:
    rows = _rows()
    assert len(rows) >= 40
    for said, where, judged in rows:
        assert said, where
        assert where, said
        assert CHECK_ID.search(judged) or judged.startswith("**Not judged**"), said


def test_every_check_named_is_in_the_catalogue() -> None:
    named = {match for row in _rows() for match in CHECK_ID.findall(row[2])}
    assert named
    assert named <= set(CATALOGUE), named - set(CATALOGUE)


def test_every_contract_place_named_exists() -> None:
    document = load_document()
    places = set(POINTER.findall(RULES.read_text()))
    assert places
    for place in places:
        assert resolve_pointer(document, place) is not None, place


def test_every_status_rule_of_the_contract_is_listed() -> None:
    """A schema whose rules say what a status implies is listed here by its place."""
    schemas = load_document()["components"]["schemas"]
    with_rules = {name for name, schema in schemas.items() if any("if" in part for part in schema.get("allOf", []))}
    listed = {place.rsplit("/", 1)[1] for place in POINTER.findall(RULES.read_text())}
    assert {"Run", "RunStep", "Message"} <= with_rules
    assert with_rules <= listed, with_rules - listed
