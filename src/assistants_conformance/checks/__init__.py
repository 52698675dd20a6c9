"""The check catalogue: stable IDs, one requirement each, with level, category and spec pointer."""

from assistants_conformance.checks.catalogue import CATALOGUE, Check, Level

__all__ = ["CATALOGUE", "Check", "Level"]
