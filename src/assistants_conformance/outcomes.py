"""From what a run or a watched session observed to each check's outcome and the one verdict:
the policy every front end (terminal, reports, JUnit, pytest, the proxy) reads."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from assistants_conformance.checks import CATALOGUE, Check, Level
from assistants_conformance.findings import Group, normalise
from assistants_conformance.observations import Observations
from assistants_conformance.profile import Profile
from assistants_conformance.results import ANSWER_ID, CheckResult, Exchange, Finding, Outcome, Verdict


def listed(ids: list[str], most: int = 8) -> str:
    """`A, B, C and 4 more`: every one when they are few, the first ones and a count otherwise."""
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def outcomes(
    seen: Observations,
    wanted: Iterable[str],
    profile: Profile,
    *,
    not_here: Mapping[str, str] | None = None,
    table: Mapping[str, Check] = CATALOGUE,
) -> tuple[CheckResult, ...]:
    """Each wanted check's result, in the table's order (the catalogue's, or the client rules').
    `not_here`: checks this mode cannot exercise, and why (the proxy's). Run evidence_only over
    every result a report carries before it is written."""
    unserved = seen.not_served() if table is CATALOGUE else {}
    found = _without_unserved(seen.findings, unserved)  # built once: each check's grouped findings
    evidence = {check: dict(ops) for check, ops in seen.evidence.items()}
    if table is CATALOGUE:
        route_findings, served = _unserved(seen, unserved)
        found["RESP-ROUTE-002"] = [*found.get("RESP-ROUTE-002", []), *route_findings]
        evidence["RESP-ROUTE-002"] = {**evidence.get("RESP-ROUTE-002", {}), **served}
    wanted = set(wanted)
    return tuple(
        _result(seen, table[check_id], profile, found, evidence, unserved, (not_here or {}).get(check_id))
        for check_id in table
        if check_id in wanted
    )


def _unserved(seen: Observations, unserved: dict[str, Any]) -> tuple[list[Finding], dict[str, int]]:
    """RESP-ROUTE-002: one finding per operation the server does not serve, with an example; its
    evidence is every operation that answered as served. Made afresh from the answers each time
    (the proxy reports every few seconds), never added to them."""
    served = {operation: answers.served for operation, answers in seen.answers.items() if answers.served}
    findings = []
    for operation, answers in unserved.items():
        statuses = ", ".join(
            f"{status} ({count} time{'s' if count > 1 else ''})" for status, count in sorted(answers.statuses.items())
        )
        message = f"the server does not serve {operation}: it answered {statuses}, and no answer showed it served"
        group = Group(Finding(seen.scrub(message), normalise(operation), "#/paths", "error", answers.example))
        group.add(answers.example, None, operation, None)
        findings.append(group.finding())
    return findings, served


def _without_unserved(found: dict[str, list[Finding]], unserved: dict[str, Any]) -> dict[str, list[Finding]]:
    """A finding seen only in answers of operations the server does not serve is that one fact
    (RESP-ROUTE-002), not a failure of every check that met those answers."""
    if not unserved:
        return found
    return {
        check: [
            f
            for f in findings
            if check == "RESP-ROUTE-002" or not (f.operations and set(f.operations) <= set(unserved))
        ]
        for check, findings in found.items()
    }


NOT_EXERCISED = "not exercised: "
NOT_TRIGGERED = "not triggered: "


def evidence_only(
    checks: tuple[CheckResult, ...], exchange: Callable[[int], Exchange | None], *, replayable: bool = True
) -> tuple[tuple[CheckResult, ...], tuple[Exchange, ...]]:
    """Keep the exchanges findings point at (renumbered in order), and with `replayable` those
    they need (a run keeps every exchange; a watched session only those findings point at, so
    it has none to add); the rest are counted in coverage, not shipped: a 900-request run
    against a broken server stays a readable report."""
    pointed = {i for c in checks for f in c.findings for i in (f.exchange, *f.examples) if i is not None}
    kept = {i: shown for i in pointed if (shown := exchange(i)) is not None}
    needs = _needs(kept, exchange) if replayable else {}
    for i in {j for wanted in needs.values() for j in wanted} - set(kept):
        if (shown := exchange(i)) is not None:
            kept[i] = shown
    used = sorted(kept)
    index = {old: new for new, old in enumerate(used)}
    shipped = tuple(
        dataclasses.replace(kept[i], needs=tuple(index[j] for j in needs.get(i, ()) if j in index))
        if needs.get(i)
        else kept[i]
        for i in used
    )

    def renumber(finding: Finding) -> Finding:
        return dataclasses.replace(
            finding,
            exchange=index.get(finding.exchange) if finding.exchange is not None else None,
            examples=tuple(index[i] for i in finding.examples if i in index),
        )

    renumbered = tuple(
        dataclasses.replace(c, findings=tuple(renumber(f) for f in c.findings)) if c.findings else c for c in checks
    )
    return renumbered, shipped


_WORD = re.compile(r"[^/?&=\"'\s,:{}\[\]]+")


def _needs(pointed: Mapping[int, Exchange], exchange: Callable[[int], Exchange | None]) -> dict[int, tuple[int, ...]]:
    """For each pointed exchange, the earlier ones a reproduction must send first, oldest first
    (the run deleted what they made): those that created the objects it names (a POST answered
    2xx whose answer, JSON or a stream's events, gives the id as `"id"`), theirs in turn, and what
    was done to those objects in between (a modify, a first read a cache keeps), repeats once."""
    if not pointed:
        return {}
    created: dict[str, int] = {}
    touched: dict[str, list[int]] = {}
    words_of: dict[int, set[str]] = {}
    for j in range(max(pointed) + 1):
        seen = exchange(j)
        if seen is None:
            continue
        words = set(_WORD.findall(seen.url.split("://", 1)[-1])) | set(_WORD.findall(seen.request_body))
        words_of[j] = words
        for word in words & created.keys():
            touched.setdefault(word, []).append(j)
        if seen.method == "POST" and seen.status and 200 <= seen.status < 300:
            for found in ANSWER_ID.findall(seen.response_body):
                if found not in words and found not in created:
                    created[found] = j

    memo: dict[int, set[int]] = {}

    def creators(i: int) -> set[int]:
        if i not in memo:
            memo[i] = set()  # a guard: ids point back in time, but a cycle must never recurse
            found = {created[w] for w in words_of.get(i, set()) & created.keys() if created[w] < i}
            for j in list(found):
                found |= creators(j)
            memo[i] = found
        return memo[i]

    needs: dict[int, tuple[int, ...]] = {}
    for i in pointed:
        made = creators(i)
        if not made:
            continue
        ids = {w for w, j in created.items() if j in made}
        steps = set(made) | {j for w in ids for j in touched.get(w, ()) if j < i}
        ordered: list[int] = []
        for j in sorted(steps):
            if ordered and _sent(exchange(j)) == _sent(exchange(ordered[-1])):
                continue  # a poll asked again: once is enough to replay
            ordered.append(j)
        if len(ordered) > MAX_STEPS:  # keep every create, and the steps nearest the request
            ordered = sorted(made | set(ordered[-max(0, MAX_STEPS - len(made)) :]))
        needs[i] = tuple(ordered)
    return needs


MAX_STEPS = 40  # a reproduction longer than this keeps its creates and the steps nearest the request


def _sent(shown: Exchange | None) -> tuple[str, str, str] | None:
    return None if shown is None else (shown.method, shown.url, shown.request_body)


def _result(
    ctx: Observations,
    check: Check,
    profile: Profile,
    found: dict[str, list[Finding]],
    evidences: dict[str, dict[str, int]],
    unserved: dict[str, Any],
    not_here: str | None = None,
) -> CheckResult:
    """The outcome of one check, from what the run recorded. Findings decide first: a check that
    failed stays failed whatever else went wrong (a tool error is then its reason). Evidence from
    answers of operations the server does not serve counts for nothing, and a check that needs such
    an operation is not exercised, with that reason."""
    check_id = check.id
    findings = tuple(found.get(check_id, ()))
    judged = evidences.get(check_id, {})
    evidence = dict(sorted((op, n) for op, n in judged.items() if check_id == "RESP-ROUTE-002" or op not in unserved))

    def result(outcome: Outcome, reason: str = "", shown: tuple[Finding, ...] = ()) -> CheckResult:
        return CheckResult(
            check.id, check.level.value, check.category, check.requirement, outcome, shown, reason, evidence
        )

    if not profile.allows(check_id) and not findings:
        return result(Outcome.SKIPPED, profile.missing(check_id))
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        outcome = Outcome.FAILED if check.level is Level.MUST else Outcome.WARNED
        return result(outcome, ctx.errored.get(check_id, ""), findings)
    if check_id in ctx.errored:
        return result(Outcome.ERRORED, ctx.errored[check_id], findings)
    missing = [op for op in check.needs if op in unserved]
    if missing:
        return result(Outcome.SKIPPED, NOT_EXERCISED + f"the server does not serve {listed(missing, 3)}")
    if findings:
        return result(Outcome.WARNED, "", findings)
    if evidence:
        return result(Outcome.PASSED)
    if not_here is not None:
        return result(Outcome.SKIPPED, NOT_EXERCISED + not_here)
    if check.trigger:
        return result(Outcome.SKIPPED, NOT_TRIGGERED + check.trigger)
    why = ctx.unexercised.get(check_id, ctx.nothing_judged)
    return result(Outcome.SKIPPED, NOT_EXERCISED + why)


def owed(check: CheckResult) -> bool:
    """A MUST check the run was asked to decide and never could: the run cannot be called conformant."""
    return (
        check.level == Level.MUST.value and check.outcome is Outcome.SKIPPED and check.reason.startswith(NOT_EXERCISED)
    )


def verdict_of(checks: tuple[CheckResult, ...], incomplete: list[str]) -> tuple[Verdict, str]:
    """The one verdict policy: every front end (terminal, reports, JUnit, pytest) reads what this decides."""
    failed = [c.id for c in checks if c.outcome is Outcome.FAILED]
    errored = [c.id for c in checks if c.outcome is Outcome.ERRORED]
    unexercised = [c.id for c in checks if owed(c)]
    if failed:
        extra = f"; the run was also incomplete ({'; '.join(incomplete)})" if incomplete else ""
        return Verdict.NON_CONFORMANT, f"{len(failed)} MUST check(s) failed: {listed(failed)}{extra}"
    if incomplete or errored or unexercised:
        why = list(incomplete)
        if errored:
            why.append(f"{len(errored)} check(s) could not run: {listed(errored)}")
        if unexercised:
            why.append(f"{len(unexercised)} MUST check(s) never exercised: {listed(unexercised)}")
        return Verdict.INCOMPLETE, "; ".join(why)
    return Verdict.CONFORMANT, "every selected MUST check passed on evidence"


def observed_verdict(checks: tuple[CheckResult, ...], exchanges: int, operations: int) -> tuple[Verdict, str]:
    """The verdict on watched traffic, as far as it went: what it failed, or what it showed
    passing. Checks the traffic never exercised do not hold it back (no client can be made to
    exercise them); traffic that judged nothing is not a pass."""
    failed = [c.id for c in checks if c.outcome is Outcome.FAILED]
    errored = [c.id for c in checks if c.outcome is Outcome.ERRORED]
    passed = [c.id for c in checks if c.outcome is Outcome.PASSED]
    seen = f"{exchanges} exchange(s) over {operations} operation(s)"
    if failed:
        return (
            Verdict.NON_CONFORMANT,
            f"as far as observed ({seen}), {len(failed)} MUST check(s) failed: {listed(failed)}",
        )
    if errored:
        return (
            Verdict.INCOMPLETE,
            f"as far as observed ({seen}), {len(errored)} check(s) could not run: {listed(errored)}",
        )
    if not passed:
        return Verdict.INCOMPLETE, f"nothing observed could be judged ({seen}): no check has evidence"
    return Verdict.CONFORMANT, (
        f"as far as observed ({seen}): {len(passed)} check(s) passed on evidence, none failed; the checks this "
        "traffic did not exercise are not decided"
    )
