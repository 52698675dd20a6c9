"""What a run may keep between runs, under the user's cache directory: only values that are the
same computation again when their key matches (the key names everything they depend on).

`$XDG_CACHE_HOME/assistants-conformance` (default `~/.cache/...`); `ASSISTANTS_CONFORMANCE_NO_CACHE=1`
turns it off. A cache that cannot be read or written costs time, never a result.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

OFF = "ASSISTANTS_CONFORMANCE_NO_CACHE"


def directory(kind: str) -> Path:
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "assistants-conformance" / kind


def enabled() -> bool:
    return os.environ.get(OFF, "").strip().lower() in ("", "0", "false", "no")


def key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def load(kind: str, name: str) -> Any:
    """The kept value, or None when absent, unreadable, or the cache is off."""
    if not enabled():
        return None
    try:
        return json.loads((directory(kind) / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store(kind: str, name: str, value: Any, *, keep: int | None = None) -> None:
    """Write atomically: several processes (the lab's workers) may store the same name at once.
    With `keep`, only that many of the kind stay, the most recently written (say, one per seed a
    user tried: a new seed per CI run must not fill the disk)."""
    if not enabled():
        return
    folder = directory(kind)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(value), encoding="utf-8")
        temporary.replace(folder / f"{name}.json")
        if keep is not None:
            kept = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
            for old in kept[keep:]:
                old.unlink(missing_ok=True)
    except OSError:
        pass
