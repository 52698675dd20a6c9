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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistants_conformance import config_files
from assistants_conformance.errors import UsageError

CAPABILITIES = ("streaming", "function_tools", "code_interpreter", "file_search")

# Checks that can only be decided when the target claims the capability.
REQUIRES: dict[str, str] = {
    "RUN-STREAM-001": "streaming",
    "RUN-SNAP-001": "streaming",
    "RUN-TOOL-001": "function_tools",
    "RUN-TOOL-002": "function_tools",
    "RUN-TOOL-003": "function_tools",
    "RUN-BUSY-001": "function_tools",
    "RUN-CANCEL-001": "function_tools",
    "RUN-CANCEL-002": "streaming",
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
    data = config_files.load(path, "--profile")
    if not isinstance(data, dict):
        raise UsageError(f"--profile {path} must be a table/mapping with [capabilities] and [run]")
    unknown_keys = sorted(map(str, set(data) - {"capabilities", "run"}))
    if unknown_keys:
        raise UsageError(f"--profile {path}: unknown key(s) {', '.join(unknown_keys)}; expected capabilities, run")
    declared = data.get("capabilities") or {}
    if not isinstance(declared, dict):
        raise UsageError(f"--profile {path}: `capabilities` must be a table of name = true/false")
    unknown = sorted(map(str, set(declared) - set(CAPABILITIES)))
    if unknown or not all(isinstance(v, bool) for v in declared.values()):
        raise UsageError(
            f"--profile {path}: capabilities are {', '.join(CAPABILITIES)} (true/false); "
            f"got {', '.join(unknown) or 'a non-boolean value'}"
        )
    capabilities = {name: bool(declared.get(name, True)) for name in CAPABILITIES}
    run = data.get("run") or {}
    if not isinstance(run, dict):
        raise UsageError(f'--profile {path}: `run` must be a table (model = "…")')
    model = run.get("model")
    if model is not None and not (isinstance(model, str) and 0 < len(model) <= 256):
        raise UsageError(f"--profile {path}: run.model must be a model name (a string)")
    return Profile(capabilities, model or None, str(path))
