"""One results model, frozen values; JSON (`to_dict`) is its canonical form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote, urlsplit

# What stands in a report where a secret was: part of the report format, so that renderers can
# put the key (or a --header value) back from the environment in a reproduction.
REDACTED = "[redacted]"
REDACTED_KEY = "[redacted: API key]"
REDACTED_HEADER = "[redacted: --header]"
# The ids an answer gives as `"id"` (a JSON object, or each event of a stream), in the order they
# appear: what an exchange created, for the report's `needs` and for the reproductions built on it.
ANSWER_ID = re.compile(r'"id"\s*:\s*"([^"\\]{1,200})"')


def secrets_of(base_url: str, api_key: str | None, header_values: Iterable[str]) -> list[str]:
    """Every secret a run is given (the key, `user:password@` in the URL, --header values), and
    the forms a target may echo it in (JSON-escaped, percent-encoded), longest first so that none
    is left half-replaced; values under four characters are not scrubbed."""
    parts = urlsplit(base_url)
    found = {api_key or "", *(unquote(v) for v in (parts.username, parts.password) if v), *header_values}
    forms = {form for secret in found for form in (secret, json.dumps(secret)[1:-1], quote(secret, safe=""))}
    return sorted((s for s in forms if len(s) >= 4), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"
    SKIPPED = "skipped"
    ERRORED = "errored"


class Verdict(StrEnum):
    CONFORMANT = "conformant"
    NON_CONFORMANT = "non-conformant"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, secrets redacted, large bodies truncated with their size."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    response_size: int
    elapsed_ms: float
    error: str | None = None
    # The earlier exchanges (indexes into the same list) that created the objects this one names,
    # in order: what a reproduction must send first, since the run deleted them at clean-up.
    needs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    message: str
    where: str = ""
    spec: str = ""
    severity: str = "error"
    exchange: int | None = None  # index into RunResult.exchanges (the first example)
    frame: int | None = None
    # The same finding (check, rule, normalised place) seen `count` times; up to three exchanges shown.
    count: int = 1
    examples: tuple[int, ...] = ()
    # Every operation whose answers showed it, and its rule and place with ids and numbers
    # normalised: together with the check and `where`, what a baseline entry matches (baseline.py).
    operations: tuple[str, ...] = ()
    kind: str = ""
    accepted: str | None = None  # the baseline entry's reason, when the gate accepts this finding


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str
    level: str
    category: str
    requirement: str
    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    # operationId → how many answers of it this check judged; empty means nothing was judged.
    evidence: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    tool_version: str
    spec_sha256: str
    target: str
    seed: int
    started_at: str
    finished_at: str
    duration_s: float
    verdict: Verdict
    verdict_reason: str
    checks: tuple[CheckResult, ...]
    exchanges: tuple[Exchange, ...]
    coverage: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    # "run": the suite drove the server; "observed": a client's traffic was watched (the proxy,
    # validate-har), and the verdict holds as far as that traffic went.
    scope: str = "run"
    # Observed traffic only: the client's requests judged against the contract, never counted
    # against the server (checks/client.py).
    client: tuple[CheckResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form (lists, strings, numbers only), as written to conformance.json."""
        canonical: dict[str, Any] = json.loads(
            json.dumps({"format": "assistants-conformance/report/1", **asdict(self)})
        )
        return canonical

    def counts(self) -> dict[str, int]:
        out = {o.value: 0 for o in Outcome}
        for check in self.checks:
            out[check.outcome.value] += 1
        return out
