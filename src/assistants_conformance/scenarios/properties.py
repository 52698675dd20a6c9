"""The property phase's entry point, kept light on purpose: Schemathesis and Hypothesis cost about
0.3 s of imports, paid only when the phase runs (not for `--help`, `checks`, `serve`, or a run
with `--max-examples 0`). The phase itself is in `property_phase`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistants_conformance.checks.catalogue import judged_in

if TYPE_CHECKING:
    from assistants_conformance.context import Context

CHECKS = judged_in("properties")


def run(ctx: Context) -> None:
    if ctx.max_examples <= 0:  # --max-examples 0 turns the phase off; its checks are then skipped
        return
    from assistants_conformance.scenarios import property_phase

    property_phase.run(ctx)
