"""The scenario table: name and the function that runs it; the checks each decides are the
catalogue's (`Check.judged_by`), so a check names its scenario in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistants_conformance.checks.catalogue import judged_in
from assistants_conformance.context import Context
from assistants_conformance.scenarios import assistants, auth, pagination, properties, runs, threads, validation


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    run: Callable[[Context], None]

    @property
    def checks(self) -> tuple[str, ...]:
        return judged_in(self.name)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("auth", auth.run),
    Scenario("assistants-crud", assistants.run),
    Scenario("pagination", pagination.run),
    Scenario("validation", validation.run),
    Scenario("threads-messages", threads.run),
    Scenario("runs", runs.run),  # also walks the run and step lists it made
    Scenario("properties", properties.run),
)
