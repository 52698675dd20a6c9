"""The property phase's entry point, kept light on purpose: Schemathesis and Hypothesis cost about
0.3 s of imports, paid only when the phase runs (not for `--help`, `checks`, `serve`, or a run
with `--max-examples 0`). The phase itself is in `property_phase`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistants_conformance.context import Context

CHECKS = ("PROP-5XX-001", "PROP-NEG-001", "PROP-POS-001", "PROP-GONE-001")


def run(ctx: Context) -> None:
    if ctx.max_examples <= 0:  # --max-examples 0 turns the phase off; its checks are then skipped
        return
    from assistants_conformance.scenarios import property_phase

    property_phase.run(ctx)
