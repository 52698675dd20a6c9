"""Event streams as editable frames, so a fault can rewrite a stream the way a buggy server would send it.

The reference server writes one `event:` and one `data:` line per frame, LF line ends, a blank
line between frames; that is the only shape parsed here (this is a fault injector, not a client).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Frame:
    event: str | None
    data: str

    def json(self) -> Any:
        try:
            return json.loads(self.data)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.data = json.dumps(value, separators=(",", ":"))


def parse(body: bytes) -> list[Frame]:
    frames = []
    for block in body.decode("utf-8", "replace").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
        frames.append(Frame(event, "\n".join(data)))
    return frames


def serialise(frames: list[Frame]) -> bytes:
    return "".join(_frame(f) for f in frames).encode()


def _frame(frame: Frame) -> str:
    head = f"event: {frame.event}\n" if frame.event is not None else ""
    return head + "".join(f"data: {line}\n" for line in frame.data.split("\n")) + "\n"


def index(frames: list[Frame], event: str, nth: int = 0) -> int | None:
    """Position of the nth frame named `event`, or None."""
    found = [i for i, f in enumerate(frames) if f.event == event]
    return found[nth] if len(found) > nth else None
