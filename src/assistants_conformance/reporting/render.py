"""Renderers are pure functions of the saved report (a dict in the shape report.schema.json fixes).

So any `conformance.json` can be re-rendered later without re-running anything.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jsonschema import Draft202012Validator
from markupsafe import Markup

from assistants_conformance.errors import UsageError
from assistants_conformance.reporting.causes import shared_causes
from assistants_conformance.results import ANSWER_ID, REDACTED, REDACTED_HEADER, REDACTED_KEY

Report = dict[str, Any]
KEY_PLACEHOLDER = "$ASSISTANTS_API_KEY"
_SECRET_HEADERS = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "content-length",
    "host",
    "accept-encoding",
    "connection",
    "user-agent",
}


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath("report.schema.json").read_text(encoding="utf-8")
    )
    return loaded


def problems(report: Any) -> list[str]:
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(report)'}: {e.message[:200]}" for e in validator.iter_errors(report)
    ]


def load_report(path: Path) -> Report:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not a JSON report: {str(exc)[:120]}") from exc
    except RecursionError:
        raise UsageError(f"{path} is not a report: its JSON nests deeper than any report does") from None
    found = problems(report) or dangling(report)
    if found:
        raise UsageError(f"{path} is not a valid assistants-conformance report: {found[0]}")
    valid: Report = report
    return valid


def dangling(report: Report) -> list[str]:
    """Findings that point at exchanges the report does not hold (the schema cannot say so)."""
    held = len(report["exchanges"])
    return [
        f"checks/{check['id']}: finding {n} points at exchange {index}, but the report holds {held}"
        for check in report["checks"]
        for n, finding in enumerate(check["findings"])
        for index in (finding.get("exchange"), *finding.get("examples", ()))
        if index is not None and index >= held
    ] + [
        f"exchanges/{n}: needs exchange {index}, but the report holds {held}"
        for n, exchange in enumerate(report["exchanges"])
        for index in exchange.get("needs", ())
        if index >= n
    ]


def header_variable(name: str) -> str:
    """Where a reproduction reads a --header value from: X-Tenant-Token → ASSISTANTS_HEADER_X_TENANT_TOKEN."""
    return "ASSISTANTS_HEADER_" + "".join(c if c.isalnum() else "_" for c in name.upper())


def _quoted(text: str, names: dict[str, str]) -> str:
    """`text` as one shell word, each id the run created replaced by the variable that holds the
    id the replay's own create answered."""
    if not names:
        return shlex.quote(text)
    pattern = re.compile("|".join(re.escape(old) for old in sorted(names, key=len, reverse=True)))
    pieces: list[str] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            pieces.append(shlex.quote(text[at : match.start()]))
        pieces.append(f'"${names[match.group()]}"')
        at = match.end()
    if at < len(text):
        pieces.append(shlex.quote(text[at:]))
    return "".join(pieces) or "''"


# Prints the K-th distinct "id" of an answer (JSON, or a stream's events), as the run's create did.
_PICK = (
    "python3 -c 'import re,sys;q=chr(34);"
    r'ids=list(dict.fromkeys(re.findall(q+"id"+q+r"\s*:\s*"+q+"([^"+q+"]+)"+q,sys.stdin.read())));'
    "print(ids[{k}])'"
)
_OWNERS = ("assistant", "thread")  # deleting these deletes everything a replay makes under them


def _made(exchange: dict[str, Any]) -> list[str]:
    """The ids an answer gives as `"id"`, in order, but those its request named."""
    return [i for i in dict.fromkeys(ANSWER_ID.findall(exchange["response_body"])) if i not in exchange["url"]]


def _owner_kind(exchange: dict[str, Any], made: str) -> str | None:
    found = re.search(rf'"id"\s*:\s*"{re.escape(made)}"\s*,\s*"object"\s*:\s*"([a-z.]+)"', exchange["response_body"])
    return found.group(1) if found and found.group(1) in _OWNERS else None


def reproduction(exchanges: list[dict[str, Any]], index: int) -> str:
    """The request as a self-contained script: what it needs first (the run deleted what that
    made), each new id caught in a variable from its one answer, then the request itself with
    those ids, then deletes of the assistants and threads the script made."""
    exchange = exchanges[index]
    steps = [exchanges[j] for j in exchange.get("needs", ()) if j < index]
    if not steps and not any(_owner_kind(exchange, i) for i in _made(exchange)):
        return curl(exchange)
    names: dict[str, str] = {}
    owners: list[tuple[str, str, dict[str, Any]]] = []  # (kind, id, the exchange that made it)
    lines = ["# what the request needs, made afresh (the run deleted its own), then the request"] if steps else []
    for step in [*steps, exchange]:
        later = " ".join(e["url"] + e["request_body"] for e in [*steps, exchange] if e is not step)
        every = list(dict.fromkeys(ANSWER_ID.findall(step["response_body"])))  # as the picker counts them
        caught = [
            (every.index(old), old)
            for old in _made(step)
            if old not in names and (old in later or _owner_kind(step, old) is not None)
        ]
        command = curl(step, names)
        if not caught:
            lines.append(command)
            continue
        lines.append(f"ANSWER=$({command})")
        if step is exchange:
            lines.append("printf '%s\\n' \"$ANSWER\"")
        for k, old in caught:
            names[old] = f"ID{len(names) + 1}"
            lines.append(f"{names[old]}=$(printf '%s' \"$ANSWER\" | {_PICK.format(k=k)})   # the run's {old}")
            kind = _owner_kind(step, old)
            if kind is not None:
                owners.append((kind, old, step))
    deletes = []
    for kind, old, step in reversed(owners):
        at = re.search(r"/(assistants|threads)(/|$|\?)", step["url"])
        if at is None:
            continue
        gone = {**exchange, "method": "DELETE", "url": f"{step['url'][: at.start()]}/{kind}s/{old}", "request_body": ""}
        gone["request_headers"] = {
            k: v for k, v in exchange["request_headers"].items() if k.lower() not in ("content-type", "accept")
        }
        deletes.append(curl(gone, names) + " > /dev/null")
    if deletes:
        lines += ["# clean up what this made", *deletes]
    return "\n".join(lines)


def curl(exchange: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """A command that repeats the request as it was sent: the key is read from the environment,
    never written, and only where the request carried it (in the header it was sent in: a
    keyless probe has none, a gateway's `api-key` stays `api-key`); a visible value (the suite's
    deliberately wrong key) is repeated as it was. `names`: ids to send as shell variables."""
    names = names or {}
    parts = ["curl", "-sS", "-X", exchange["method"], _quoted(exchange["url"], names)]
    for name, value in exchange["request_headers"].items():
        if value == REDACTED_KEY:
            # Double quotes, so the shell expands the variable at run time.
            bearer = "Bearer " if name.lower() == "authorization" else ""
            parts += ["-H", f'"{name}: {bearer}{KEY_PLACEHOLDER}"']
        elif value == REDACTED_HEADER:
            parts += ["-H", f'"{name}: ${header_variable(name)}"']
        elif value != REDACTED and (name.lower() not in _SECRET_HEADERS or name.lower() == "authorization"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if exchange["request_body"]:
        parts += ["--data-raw", _quoted(exchange["request_body"], names)]
    return " ".join(parts)


def _failing(report: Report) -> list[dict[str, Any]]:
    return [c for c in report["checks"] if c["outcome"] in ("failed", "errored", "warned")]


def accepted_only(check: dict[str, Any]) -> str | None:
    """The baseline's reasons when a failed check fails only with findings the baseline accepts."""
    errors = [f for f in check["findings"] if f["severity"] == "error"]
    if check["outcome"] != "failed" or not errors or any(f.get("accepted") is None for f in errors):
        return None
    return "; ".join(dict.fromkeys(f["accepted"] for f in errors))


# ---------------------------------------------------------------- JUnit
def render_junit(report: Report) -> str:
    counts = Counter(c["outcome"] for c in report["checks"])
    accepted = {c["id"]: why for c in report["checks"] if (why := accepted_only(c)) is not None}
    # The run's verdict is a testcase of its own, so that a CI reading only JUnit goes red on an
    # incomplete run too (no check failed, but the run cannot be called conformant). With a
    # baseline it is the gate's: green when the gate passed, whatever it accepted.
    gate = report.get("baseline")
    if gate:
        verdict_failed = not gate["passed"] or report["verdict"] == "incomplete"
        verdict_name = f"gate: {'passed' if gate['passed'] else 'failed'} (verdict: {report['verdict']})"
        verdict_message = f"{gate.get('headline', '')}; {report['verdict']}: {report['verdict_reason']}"
    else:
        verdict_failed = report["verdict"] != "conformant"
        verdict_name = f"verdict: {report['verdict']}"
        verdict_message = f"{report['verdict']}: {report['verdict_reason']}"
    suite = ET.Element(
        "testsuite",
        {
            "name": "assistants-conformance",
            "tests": str(len(report["checks"]) + 1),
            "failures": str(counts["failed"] - len(accepted) + verdict_failed),
            "errors": str(counts["errored"]),
            "skipped": str(counts["skipped"] + len(accepted)),
            "time": f"{report['duration_s']:.3f}",
            "timestamp": report["started_at"],
        },
    )
    props = ET.SubElement(suite, "properties")
    for name in ("target", "verdict", "verdict_reason", "tool_version", "spec_sha256", "seed"):
        ET.SubElement(props, "property", {"name": name, "value": str(report[name])})
    verdict = ET.SubElement(suite, "testcase", {"classname": "conformance", "name": verdict_name})
    if verdict_failed:
        new = "\n".join(f"new: {line}" for line in (gate or {}).get("new_failures", []))
        ET.SubElement(
            verdict, "failure", {"message": verdict_message[:500], "type": "verdict"}
        ).text = f"{new}\n{report['verdict_reason']}".strip()
    for check in report["checks"]:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"conformance.{check['category']}", "name": f"{check['id']}: {check['requirement']}"},
        )
        detail = "\n".join(f"{f['message']}" + (f" [{f['where']}]" if f["where"] else "") for f in check["findings"])
        if check["id"] in accepted:
            ET.SubElement(case, "skipped", {"message": f"accepted by the baseline: {accepted[check['id']]}"[:500]})
        elif check["outcome"] == "failed":
            first = check["findings"][0]
            again = ""
            if first.get("exchange") is not None:
                again = "\n\nreproduce (the key is read from $ASSISTANTS_API_KEY):\n" + reproduction(
                    report["exchanges"], first["exchange"]
                )
            ET.SubElement(case, "failure", {"message": first["message"][:500], "type": check["level"]}).text = (
                detail + again
            )
        elif check["outcome"] == "errored":
            ET.SubElement(case, "error", {"message": check["reason"][:500]}).text = check["reason"]
        elif check["outcome"] == "skipped":
            ET.SubElement(case, "skipped", {"message": check["reason"][:500]})
        elif check["outcome"] == "warned":
            ET.SubElement(case, "system-out").text = f"WARNING ({check['level']}): {detail}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


# ---------------------------------------------------------------- Markdown
_PUNCTUATION = re.compile(r"([\\`*_\[\]()!~#|{}+])")


def _cell(text: str) -> str:
    """Inert Markdown text, table-safe: GitHub renders inline HTML, links, images and autolinks,
    so what a target sent is HTML-escaped, its Markdown punctuation backslash-escaped, its URLs
    broken (no live link or tracking image), its lines joined."""
    text = _PUNCTUATION.sub(r"\\\1", html.escape(text, quote=False))
    return text.replace("://", "&#58;//").replace("www.", "www&#46;").replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    """Text in code font that stays inert: a backtick span cannot hold backticks and decodes
    nothing, so it is <code> with the text escaped as any other."""
    return f"<code>{_cell(text)}</code>"


def render_markdown(report: Report) -> str:
    counts = Counter(c["outcome"] for c in report["checks"])
    icon = {"conformant": "✅", "non-conformant": "❌", "incomplete": "⚠️"}[report["verdict"]]
    gate = report.get("baseline")
    if gate:  # the gate's decision leads: it is what the CI step's colour says
        mark = "✅" if gate["passed"] else "❌"
        headline = gate.get("headline") or f"gate {'passed' if gate['passed'] else 'failed'}"
        lines = [
            f"## {mark} {_cell(headline[:1].upper() + headline[1:])} — {_code(report['target'])}",
            "",
            *[f"- **new:** {_cell(line[:300])}" for line in gate["new_failures"][:20]],
            *[
                f"- **fixed** (remove it from {_code(gate['file'])}): {_cell(line[:300])}"
                for line in gate["stale"][:20]
            ],
            *([""] if gate["new_failures"] or gate["stale"] else []),
            f"{icon} {report['verdict'].upper()}"
            + (" only where the baseline accepts it" if gate["passed"] and report["verdict"] != "conformant" else "")
            + f": {_cell(report['verdict_reason'])}",
            "",
        ]
    else:
        lines = [
            f"## {icon} {report['verdict'].upper()}"
            + (" (as far as observed)" if report.get("scope") == "observed" else "")
            + f": {_code(report['target'])}",
            "",
            f"{_cell(report['verdict_reason'])}",
            "",
        ]
    lines += [f"> **{_cell(line)}**" for line in report["profile"].get("transport", [])]
    lines += [""] if report["profile"].get("transport") else []
    lines += [
        "| passed | failed | warned | skipped | errored | requests | time |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {counts['passed']} | {counts['failed']} | {counts['warned']} | {counts['skipped']} | {counts['errored']} "
        f"| {report['coverage']['requests']} | {report['duration_s']:.1f} s |",
        "",
    ]
    failing = _failing(report)
    if failing:
        for cause in shared_causes(report):
            lines += [
                f"**One fix, {len(cause.checks)} checks:** {_cell(cause.text)} ({', '.join(map(_code, cause.checks))})",
                "",
            ]
        lines += ["| check | level | outcome | first finding |", "|---|---|---|---|"]
        for check in failing:
            first = check["findings"][0]["message"] if check["findings"] else check["reason"]
            outcome = "accepted" if accepted_only(check) is not None else check["outcome"]
            lines.append(f"| {_code(check['id'])} | {check['level']} | {outcome} | {_cell(first[:200])} |")
        lines.append("")
    broken = [c for c in report.get("client") or [] if c["outcome"] in ("failed", "warned")]
    if broken:
        lines += ["**The client's requests** (not counted against the server):", ""]
        lines += ["| rule | level | outcome | first finding |", "|---|---|---|---|"]
        for check in broken:
            first = check["findings"][0]["message"] if check["findings"] else check["reason"]
            lines.append(f"| {_code(check['id'])} | {check['level']} | {check['outcome']} | {_cell(first[:200])} |")
        lines.append("")
    leaked = report["resources"].get("leaked") or []
    if leaked:
        lines += [
            f"**{len(leaked)} resource(s) could not be deleted:** " + ", ".join(_code(p) for p in leaked[:10]),
            "",
        ]
    lines.append(
        f"<sub>assistants-conformance {_cell(report['tool_version'])}, contract {_cell(report['spec_sha256'][:12])}, "
        f"seed {report['seed']}</sub>"
    )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTML
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("assistants_conformance.reporting", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
)
_ENV.filters["curl"] = curl
_ENV.filters["reproduction"] = reproduction


_ORDER = {"failed": 0, "errored": 1, "warned": 2, "skipped": 3, "passed": 4}


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})  # raw HTML in a text is shown, never rendered


def inline_markdown(text: str) -> Markup:
    """A requirement's Markdown (`code`, *emphasis*) as HTML; anything else in it is escaped."""
    return Markup(_markdown().renderInline(text))


_ENV.filters["md"] = inline_markdown


def to_fix(report: Report) -> list[dict[str, Any]]:
    """One line per check to act on, most serious first: failed MUSTs, then other failures, errors
    (the tool could not judge), then warnings; each with how often and the first example."""
    rank = {"MUST": 0, "SHOULD": 1, "MAY": 2}
    lines = []
    for check in sorted(
        _failing(report),
        key=lambda c: (accepted_only(c) is not None, _ORDER[c["outcome"]], rank.get(c["level"], 3)),
    ):
        pending = [f for f in check["findings"] if f["severity"] == "error" and f.get("accepted") is None]
        first = (pending or check["findings"] or [None])[0]
        exchange = report["exchanges"][first["exchange"]] if first and first.get("exchange") is not None else None
        lines.append(
            {
                "check": check,
                "count": sum(f.get("count", 1) for f in check["findings"]),
                "first": first["message"] if first else check["reason"],
                "exchange": exchange,
                "accepted": accepted_only(check),
            }
        )
    return lines


def render_html(report: Report) -> str:
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for check in sorted(report["checks"], key=lambda c: _ORDER[c["outcome"]]):  # stable: catalogue order within
        by_category[check["category"]].append(check)
    statuses = sorted({s for per_op in report["coverage"]["operations"].values() for s in per_op})
    return _ENV.get_template("report.html.j2").render(
        report=report,
        counts=Counter(c["outcome"] for c in report["checks"]),
        by_category={
            category: by_category[category] for category in dict.fromkeys(c["category"] for c in report["checks"])
        },
        statuses=statuses,
        exchanges=report["exchanges"],
        to_fix=to_fix(report),
        causes=shared_causes(report),
    )
