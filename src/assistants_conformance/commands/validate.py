"""`validate-stream` and `validate-har`: offline checks of captured traffic."""

from __future__ import annotations

import base64
import binascii
import json
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


def _print_violations(violations: list[Violation], out: TextIO, indent: str = "") -> None:
    for violation in violations[:SHOWN]:
        print(indent + printable(violation.render()), file=out)
    if len(violations) > SHOWN:
        counts = Counter(v.check for v in violations[SHOWN:])
        more = ", ".join(f"{check} x{n}" for check, n in counts.most_common())
        print(f"{indent}… and {len(violations) - SHOWN} more: {more}", file=out)


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
    _print_violations(report.violations, out)
    failed = [v for v in report.violations if v.severity is Severity.ERROR]
    warned = len(report.violations) - len(failed)
    verdict = "conforms" if not failed else "does not conform"
    print(f"{name}: {report.frames} events, {len(failed)} violation(s), {warned} warning(s): {verdict}", file=out)
    return 1 if failed else 0


def _har_body(content: dict[str, Any]) -> bytes:
    text = content.get("text") or ""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return text.encode()
    return text.encode("utf-8", "surrogatepass")


def run_validate_har(path: str, out: TextIO) -> int:
    handle = _open(path)
    try:
        raw = handle.read()
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    try:
        har = json.loads(raw)
        entries = har["log"]["entries"]
        if not isinstance(entries, list):
            raise TypeError
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not a HAR file: not JSON ({str(exc)[:100]})") from exc
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a HAR file: no log.entries list") from exc
    validator = ResponseValidator()
    checked = skipped = failing = 0
    for number, entry in enumerate(entries, 1):
        try:
            request, response = entry["request"], entry["response"]
            method, url, status = request["method"], request["url"], int(response["status"])
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
