"""The watched session as a HAR 1.2 file, written entry by entry (memory holds none of it),
redacted as the reports are, so that `validate-har` on it judges what the proxy judged."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from assistants_conformance import __version__


class HarWriter:
    """Opened on a path, closed to a whole file; each entry is flushed as it is written, so a
    session killed outright leaves every entry before it (`validate-har` then says the file ends
    early)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._file.write(
            '{"log": {"version": "1.2", "creator": '
            + json.dumps({"name": "assistants-conformance proxy", "version": __version__})
            + ', "entries": [\n'
        )
        self._first = True
        self.entries = 0

    def write(
        self,
        *,
        started: datetime,
        method: str,
        url: str,
        request_headers: Mapping[str, str],
        request_body: bytes,
        status: int | None,
        response_headers: Mapping[str, str],
        body: bytes,
        elapsed_s: float,
        cut: str | None,
        scrub: Callable[[str], str],
    ) -> None:
        """One exchange; headers already redacted, every text scrubbed of the session's secrets."""
        entry = {
            "startedDateTime": started.isoformat(timespec="milliseconds"),
            "time": round(elapsed_s * 1000, 3),
            "request": {
                "method": method,
                "url": scrub(url),
                "httpVersion": "HTTP/1.1",
                "headers": _pairs(request_headers),
                "queryString": [],
                "cookies": [],
                "headersSize": -1,
                "bodySize": len(request_body),
                **(
                    {"postData": {"mimeType": _media(request_headers), "text": scrub(_text(request_body))}}
                    if request_body
                    else {}
                ),
            },
            "response": {
                "status": status if status is not None else 0,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "headers": _pairs(response_headers),
                "cookies": [],
                "content": _content(body, _media(response_headers), scrub),
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": len(body),
            },
            "cache": {},
            "timings": {"send": 0, "wait": round(elapsed_s * 1000, 3), "receive": 0},
        }
        if cut is not None:
            entry["_cut"] = scrub(cut)  # HAR's custom fields start with `_`: why the answer broke off
        self._file.write(("" if self._first else ",\n") + json.dumps(entry, ensure_ascii=False))
        self._file.flush()
        self._first = False
        self.entries += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.write("\n]}}\n")
            self._file.close()


def _pairs(headers: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _media(headers: Mapping[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), "")


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _content(body: bytes, media: str, scrub: Callable[[str], str]) -> dict[str, object]:
    try:
        return {"size": len(body), "mimeType": media, "text": scrub(body.decode("utf-8"))}
    except UnicodeDecodeError:  # bytes that are not UTF-8 travel as they were
        return {"size": len(body), "mimeType": media, "text": base64.b64encode(body).decode(), "encoding": "base64"}


def wall_clock(monotonic_began: float, monotonic_now: float) -> datetime:
    """The wall-clock time of a monotonic instant (HAR dates entries in wall time)."""
    return datetime.now(UTC) - timedelta(seconds=monotonic_now - monotonic_began)
