"""Named, deterministic scenarios; each exercises a set of catalogue checks against the target."""

from assistants_conformance.scenarios.registry import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Scenario"]
