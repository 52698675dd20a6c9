"""Which checks a user means by `--only`/`--skip` (and the pytest plugin's `-k`): exact IDs, glob
patterns over IDs (`STREAM-*`, `*-ROUTE-*`) and category names (`stream`, `pagination`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from assistants_conformance.checks.catalogue import CATALOGUE


def categories() -> list[str]:
    return sorted({check.category for check in CATALOGUE.values()})


def resolve(text: str, flag: str = "--only") -> frozenset[str]:
    """The check IDs `text` (comma-separated words) names. A word that names nothing is an error
    (ValueError, saying what words are understood): a typo must not quietly select nothing."""
    return resolve_words((part.strip() for part in text.split(",")), flag)


def resolve_words(words: Iterable[str], flag: str = "--only") -> frozenset[str]:
    chosen: set[str] = set()
    unknown: list[str] = []
    by_category = {name: {i for i, c in CATALOGUE.items() if c.category == name} for name in categories()}
    for word in words:
        if not word:
            continue
        upper = word.upper()
        if upper in CATALOGUE:
            chosen.add(upper)
            continue
        if any(ch in word for ch in "*?["):
            matched = {i for i in CATALOGUE if fnmatch.fnmatchcase(i, upper)}
        else:
            lower = word.lower()
            matched = by_category.get(lower) or by_category.get(lower.removesuffix("s")) or set()
        if matched:
            chosen |= matched
        else:
            unknown.append(word)
    if unknown:
        raise ValueError(
            f"{flag}: {', '.join(repr(u) for u in unknown)} names no check: give check IDs, glob patterns "
            f"such as 'STREAM-*', or a category ({', '.join(categories())}); `assistants-conformance checks` "
            "lists them"
        )
    return frozenset(chosen)
