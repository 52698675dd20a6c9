"""Reading the small files a user hands the tool (--profile, --baseline) as untrusted input:
bounded in size, UTF-8, parsed without YAML aliases (a few hundred bytes of nested aliases
expand to gigabytes), and any parse failure is a usage error naming the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

from assistants_conformance.errors import UsageError

MAX_BYTES = 1 << 20


class _NoAliases(yaml.SafeLoader):
    """SafeLoader that refuses aliases (`*name`): no config here needs one, and they are the
    vector of the billion-laughs expansion."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted here", event.start_mark
            )
        return super().compose_node(parent, index)


def load(path: Path, flag: str) -> Any:
    """The parsed content of a TOML (by suffix) or YAML file, or UsageError saying what is wrong."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise UsageError(f"{flag} {path}: larger than {MAX_BYTES // 1024} KiB; this is not a config file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{flag} {path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        return yaml.load(text, Loader=_NoAliases)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, ValueError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise UsageError(f"{flag} {path} cannot be parsed: {first[:200]}") from exc
