"""`validate-stream` and `validate-har`: offline checks of captured traffic."""

from __future__ import annotations

import base64
import binascii
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from assistants_conformance.errors import UsageError
from assistants_conformance.terminal import printable
from assistants_conformance.validate import Severity, Violation, validate_stream_chunks
from assistants_conformance.validate.http import ResponseValidator

CHUNK = 1 << 20
SHOWN = 50
STREAM_OPERATIONS = ("createRun", "createThreadAndRun", "submitToolOuputsToRun")


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    target = Path(path)
    if not target.exists():
        raise UsageError(f"{path}: no such file")
    if target.is_dir():
        raise UsageError(f"{path} is a directory, not a stream transcript")
    try:
        return target.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _print_violations(
    violations: list[Violation], out: TextIO, indent: str = "", dropped: dict[tuple[str, Severity], int] | None = None
) -> None:
    for violation in violations[:SHOWN]:
        print(indent + printable(violation.render()), file=out)
    counts = Counter(v.check for v in violations[SHOWN:])
    for (check, _), n in (dropped or {}).items():
        counts[check] += n
    if counts:
        more = ", ".join(f"{check} x{n}" for check, n in counts.most_common())
        print(f"{indent}… and {sum(counts.values())} more: {more}", file=out)


def run_validate_stream(path: str, operation: str | None, out: TextIO) -> int:
    if operation is not None and operation not in STREAM_OPERATIONS:
        raise UsageError(f"--operation must be one of {', '.join(STREAM_OPERATIONS)}")
    handle = _open(path)
    try:
        report = validate_stream_chunks(_chunks(handle), operation=operation)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    name = "standard input" if path == "-" else path
    if report.frames == 0 and not any(v.check.startswith("SSE-") for v in report.violations):
        print(f"{name}: no events at all (an empty stream is not a conforming Assistants stream)", file=out)
    _print_violations(report.violations, out, dropped=report.dropped)
    failed = sum(v.severity is Severity.ERROR for v in report.violations)
    failed += sum(n for (_, severity), n in report.dropped.items() if severity is Severity.ERROR)
    warned = len(report.violations) + sum(report.dropped.values()) - failed
    verdict = "conforms" if not failed else "does not conform"
    print(f"{name}: {report.frames} events, {failed} violation(s), {warned} warning(s): {verdict}", file=out)
    return 1 if failed else 0


def _har_body(content: dict[str, Any]) -> bytes:
    text = content.get("text") or ""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return text.encode()
    return text.encode("utf-8", "surrogatepass")


MAX_HAR_DEPTH = 64  # a HAR nests a dozen levels; far deeper is not a HAR, and costs memory to build
_STARTS, _ENDS = ("start_map", "start_array"), ("end_map", "end_array")


def _har_entries(handle: Any, path: str) -> Iterator[Any]:
    """The entries of a HAR, one at a time as they are read (memory holds one entry, not the
    file); a UsageError when it is not JSON, nests deeper than a HAR, or has no `log.entries` list.
    ijson's basic events carry no path (its prefixed ones grow with the depth): the path is kept here."""
    import ijson

    found = False
    events = ijson.basic_parse(handle)  # numbers as Decimal: 1e400 is refused as a status, not a parse error
    keys: list[str] = []
    try:
        for event, value in events:
            if event == "map_key":
                keys[-1] = value
                continue
            here = ".".join(keys)
            if event in _STARTS:
                if len(keys) >= MAX_HAR_DEPTH:
                    raise UsageError(f"{path} is not a HAR file: its JSON nests deeper than {MAX_HAR_DEPTH} levels")
                if here == "log.entries.item":
                    yield _built(events, event, value, len(keys), path)
                    continue
                found = found or (here == "log.entries" and event == "start_array")
                keys.append("" if event == "start_map" else "item")
            elif event in _ENDS:
                keys.pop()
            elif here == "log.entries.item":
                yield value  # not an entry: skipped as malformed by the caller
    except ijson.JSONError as exc:
        raise UsageError(f"{path} is not a HAR file: not JSON ({str(exc)[:100]})") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not a HAR file: not UTF-8 ({str(exc)[:100]})") from None
    if not found:
        raise UsageError(f"{path} is not a HAR file: no log.entries list")


def _built(events: Iterator[tuple[str, Any]], event: str, value: Any, depth: int, path: str) -> Any:
    """One entry, from its opening event to the matching close."""
    import ijson

    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    level = 1
    for inner, inner_value in events:
        builder.event(inner, inner_value)
        if inner in _STARTS:
            level += 1
            if depth + level > MAX_HAR_DEPTH:
                raise UsageError(f"{path} is not a HAR file: its JSON nests deeper than {MAX_HAR_DEPTH} levels")
        elif inner in _ENDS:
            level -= 1
            if level == 0:
                break
    return builder.value


def run_validate_har(path: str, out: TextIO) -> int:
    handle = _open(path)
    try:
        return _validate_har(_har_entries(handle, path), path, out)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _validate_har(entries: Iterator[Any], path: str, out: TextIO) -> int:
    validator = ResponseValidator()
    checked = skipped = failing = 0
    for number, entry in enumerate(entries, 1):
        try:
            request, response = entry["request"], entry["response"]
            method, url, status = request["method"], request["url"], int(response["status"])
            if not 100 <= status <= 599:
                raise ValueError(status)
            headers = {h["name"]: h["value"] for h in response.get("headers") or []}
            content = response.get("content")
            content = {} if content is None else content
            if not (isinstance(method, str) and isinstance(url, str) and isinstance(content, dict)):
                raise TypeError
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
                raise TypeError
            if not isinstance(content.get("text", ""), str) or not isinstance(content.get("mimeType", ""), str):
                raise TypeError
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            print(f"entry {number}: malformed HAR entry, skipped", file=out)
            skipped += 1
            continue
        if validator.router.match(method, url) is None:
            skipped += 1
            continue
        if not any(k.lower() == "content-type" for k in headers) and content.get("mimeType"):
            headers["Content-Type"] = content["mimeType"]
        checked += 1
        violations = validator.validate(method, url, status, headers, _har_body(content))
        errors = [v for v in violations if v.severity is Severity.ERROR]
        failing += bool(errors)
        mark = "ok" if not errors else f"{len(errors)} violation(s)"
        print(printable(f"entry {number}: {method} {url} → {status}: {mark}"), file=out)
        _print_violations(violations, out, indent="    ")
    print(
        f"{path}: {checked} Assistants exchange(s) checked, {failing} failing, {skipped} other entr(y/ies) skipped",
        file=out,
    )
    if checked == 0:
        # Nothing was judged: that is not a pass (exit 3, like an incomplete run).
        print("no Assistants API exchanges found in this HAR file: nothing was checked", file=out)
        return 3
    return 1 if failing else 0
