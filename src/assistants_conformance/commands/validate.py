"""`validate-stream` and `validate-har`: offline checks of captured traffic."""

from __future__ import annotations

import base64
import binascii
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from assistants_conformance.contract.document import operation_id
from assistants_conformance.errors import UsageError
from assistants_conformance.terminal import printable
from assistants_conformance.validate import Severity, Violation, validate_stream_chunks

if TYPE_CHECKING:
    from assistants_conformance.traffic import Seen

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
    operation = operation_id(operation) if operation is not None else None
    if operation is not None and operation not in STREAM_OPERATIONS:
        raise UsageError(
            f"--operation must be one of {', '.join(STREAM_OPERATIONS)} (submitToolOutputsToRun is accepted too)"
        )
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


def run_validate_har(path: str, out: TextIO, report_dir: Path | None = None) -> int:
    if report_dir is not None:
        from assistants_conformance.commands.run import writable

        writable(report_dir)
    handle = _open(path)
    try:
        return _validate_har(_har_entries(handle, path), path, out, report_dir)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _parsed(entry: Any, number: int) -> tuple[Seen, str]:
    """The entry as a watched exchange, and the URL as shown; ValueError/TypeError/KeyError when
    it is not a well-formed HAR entry."""
    import httpx

    request, response = entry["request"], entry["response"]
    method, url = request["method"], request["url"]
    status: int | None = int(response["status"])
    cut = entry.get("_cut")  # the proxy's own field: why the answer broke off, or why none came
    if status == 0 and isinstance(cut, str):
        status = None  # no answer at all (the proxy's HAR says why)
    elif status is None or not 100 <= status <= 599:
        raise ValueError(status)
    headers = {h["name"]: h["value"] for h in response.get("headers") or []}
    sent = {h["name"]: h["value"] for h in request.get("headers") or []}
    content = response.get("content")
    content = {} if content is None else content
    posted = request.get("postData") or {}
    if not (isinstance(method, str) and isinstance(url, str) and isinstance(content, dict)):
        raise TypeError
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in (*headers.items(), *sent.items())):
        raise TypeError
    if not isinstance(content.get("text", ""), str) or not isinstance(content.get("mimeType", ""), str):
        raise TypeError
    if not isinstance(posted, dict) or not isinstance(posted.get("text", ""), str):
        raise TypeError
    if not any(k.lower() == "content-type" for k in headers) and content.get("mimeType"):
        headers["Content-Type"] = content["mimeType"]
    began = _when(entry.get("startedDateTime"), number)
    took = entry.get("time")
    ended = began + (float(took) / 1000 if isinstance(took, int | float) and 0 <= took < 1e9 else 0.001)
    body = _har_body(content)
    from assistants_conformance.traffic import Seen

    seen = Seen(
        method,
        url,
        sent,
        posted.get("text", "").encode("utf-8", "surrogatepass"),
        status,
        httpx.Headers(headers),
        body,
        len(body),
        began,
        ended,
        cut=cut if isinstance(cut, str) and status is not None else None,
        error=cut if status is None else None,
    )
    return seen, url


def _when(started: Any, number: int) -> float:
    """When an entry began, in seconds; its place in the file when the HAR does not say."""
    if isinstance(started, str):
        try:
            return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return float(number)


class _Heard:
    """What the judge said about the entry in hand, to print it under the entry."""

    def __init__(self) -> None:
        self.server: list[Violation] = []
        self.client: list[Violation] = []

    def __call__(self, side: str, violation: Violation) -> None:
        (self.server if side == "server" else self.client).append(violation)


def _validate_har(entries: Iterator[Any], path: str, out: TextIO, report_dir: Path | None = None) -> int:
    """Every Assistants exchange judged as the proxy judges watched traffic (traffic.py), in the
    file's order: the validators' rules, what several answers show, and the client's requests."""
    from assistants_conformance.traffic import Traffic

    traffic = Traffic()
    heard = _Heard()
    traffic.listener = heard
    checked = skipped = failing = 0
    for number, entry in enumerate(entries, 1):
        try:
            seen, url = _parsed(entry, number)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            print(f"entry {number}: malformed HAR entry, skipped", file=out)
            skipped += 1
            continue
        if traffic.router.match(seen.method, url) is None:
            skipped += 1
            continue
        checked += 1
        heard.server.clear()
        heard.client.clear()
        traffic.judge(seen)
        errors = [v for v in heard.server if v.severity is Severity.ERROR]
        failing += bool(errors)
        mark = "ok" if not errors else f"{len(errors)} violation(s)"
        answered = seen.status if seen.status is not None else f"no answer ({seen.error})"
        print(printable(f"entry {number}: {seen.method} {url} → {answered}: {mark}"), file=out)
        _print_violations(heard.server, out, indent="    ")
        _print_violations(heard.client, out, indent="    client: ")
    print(
        f"{path}: {checked} Assistants exchange(s) checked, {failing} failing, {skipped} other entr(y/ies) skipped",
        file=out,
    )
    if report_dir is not None and checked:
        from assistants_conformance.commands.run import write_json

        written = write_json(traffic.result(f"HAR file {Path(path).name}"), report_dir, secrets=traffic.secrets())
        print(f"reports: {written} (+ the views beside it)", file=out)
    if checked == 0:
        # Nothing was judged: that is not a pass (exit 3, like an incomplete run).
        print("no Assistants API exchanges found in this HAR file: nothing was checked", file=out)
        return 3
    return 1 if failing else 0
