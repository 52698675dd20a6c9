"""The scenario table: name, the checks it can decide, and the function that runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistants_conformance.context import Context
from assistants_conformance.scenarios import assistants, auth, pagination, properties, runs, threads, validation


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    checks: tuple[str, ...]
    run: Callable[[Context], None]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("auth", ("AUTH-001", "AUTH-002"), auth.run),
    Scenario("assistants-crud", tuple(f"ASST-CRUD-00{i}" for i in range(1, 8)), assistants.run),
    Scenario("pagination", pagination.CHECKS, pagination.run),
    Scenario("validation", validation.CHECKS, validation.run),
    Scenario("threads-messages", ("THREAD-001",), threads.run),
    # runs also walks the run and step lists it made
    Scenario("runs", (*runs.CHECKS, "PAGE-001", "PAGE-002", "PAGE-003"), runs.run),
    Scenario("properties", properties.CHECKS, properties.run),
)
