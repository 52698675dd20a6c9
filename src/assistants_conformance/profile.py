"""What a target claims to support (`--profile FILE`, TOML or YAML), so undeclared capabilities
are skipped with a reason and declared-but-broken ones fail.

    [capabilities]          # all default to true: they are part of the Assistants v2 contract
    streaming = true
    function_tools = true
    code_interpreter = false
    file_search = false
    [run]
    model = "gpt-4o-mini"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistants_conformance.errors import UsageError

CAPABILITIES = ("streaming", "function_tools", "code_interpreter", "file_search")

# Checks that can only be decided when the target claims the capability.
REQUIRES: dict[str, str] = {
    "RUN-STREAM-001": "streaming",
    "RUN-SNAP-001": "streaming",
    "RUN-TOOL-001": "function_tools",
    "RUN-TOOL-002": "function_tools",
    "RUN-BUSY-001": "function_tools",
    "RUN-CANCEL-001": "function_tools",
}


@dataclass(frozen=True)
class Profile:
    capabilities: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CAPABILITIES, True))
    model: str | None = None
    source: str = "default (every capability of the contract)"

    def allows(self, check_id: str) -> bool:
        needed = REQUIRES.get(check_id) or ("streaming" if check_id.startswith(("STREAM-", "SSE-")) else None)
        return needed is None or self.capabilities.get(needed, False)

    def missing(self, check_id: str) -> str:
        needed = REQUIRES.get(check_id) or "streaming"
        return f"the profile ({self.source}) does not declare the `{needed}` capability"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "capabilities": dict(self.capabilities), "model": self.model}


def load_profile(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--profile {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"--profile {path} cannot be parsed: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"--profile {path} must be a table/mapping with [capabilities] and [run]")
    declared = data.get("capabilities") or {}
    unknown = sorted(set(declared) - set(CAPABILITIES))
    if unknown or not all(isinstance(v, bool) for v in declared.values()):
        raise UsageError(
            f"--profile {path}: capabilities are {', '.join(CAPABILITIES)} (true/false); "
            f"got {', '.join(unknown) or 'a non-boolean value'}"
        )
    capabilities = {name: bool(declared.get(name, True)) for name in CAPABILITIES}
    model = (data.get("run") or {}).get("model")
    return Profile(capabilities, str(model) if model else None, str(path))
