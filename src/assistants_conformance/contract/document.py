"""Finding and parsing spec/assistants.openapi.yaml.

The repository keeps one source file, `spec/assistants.openapi.yaml`. A wheel carries it as
package data (`assistants_conformance/_spec/`, see pyproject's force-include); an editable or
source checkout reads it from the repository. No copy is kept by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistants_conformance.errors import SpecError

SPEC_FILENAME = "assistants.openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

try:  # libyaml is ~10x faster; fall back silently where PyYAML was built without it.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


def spec_path() -> Path:
    """Where the bundled contract lives: in the installed wheel, else in the source tree."""
    packaged = resources.files("assistants_conformance") / "_spec" / SPEC_FILENAME
    if packaged.is_file():
        return Path(str(packaged))
    source = Path(__file__).resolve().parents[3] / "spec" / SPEC_FILENAME
    if source.is_file():
        return source
    raise SpecError(f"the bundled contract {SPEC_FILENAME} is missing from this installation")


def parse_document(path: Path, *, trusted: bool = False) -> dict[str, Any]:
    """Parse one OpenAPI document, turning YAML and I/O failures into SpecError. A document the
    user gives (not `trusted`, as the bundled one is) may not use YAML aliases: a few lines of them
    expand to gigabytes (the billion-laughs document), and no contract needs one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path} is not UTF-8 text: {exc.reason}") from exc
    try:
        if not trusted and any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=_Loader)):
            raise SpecError(f"{path} uses YAML aliases (*name); a contract here may not (write the value out)")
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "openapi" not in doc:
        raise SpecError(f"{path} is not an OpenAPI document (no top-level 'openapi' key)")
    return doc


@functools.cache
def load_document() -> dict[str, Any]:
    """The bundled contract, parsed once per process. Callers must not mutate it."""
    return parse_document(spec_path(), trusted=True)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the contract, as the rest of the package refers to it."""

    operation_id: str
    method: str  # upper case
    path: str  # the template, e.g. /threads/{thread_id}
    tag: str
    streams: bool  # whether a 200 may be text/event-stream

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(doc: dict[str, Any] | None = None) -> tuple[Operation, ...]:
    """Every operation of the document, in document order."""
    doc = load_document() if doc is None else doc
    found: list[Operation] = []
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            ok = op.get("responses", {}).get("200", {})
            if "$ref" in ok:
                ok = resolve_pointer(doc, ok["$ref"])
            found.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    tag=(op.get("tags") or [""])[0],
                    streams="text/event-stream" in ok.get("content", {}),
                )
            )
    return tuple(found)


def iter_properties(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, schema) of every property any schema of the document declares, wherever it stands."""
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                yield from properties.items()
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def resolve_pointer(doc: dict[str, Any], ref: str) -> Any:
    """Follow a local `#/a/b` reference inside the document."""
    if not ref.startswith("#/"):
        raise SpecError(f"only local references are supported, got {ref!r}")
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            node = node[part]
        except (KeyError, TypeError) as exc:
            raise SpecError(f"unresolvable reference {ref!r}") from exc
    return node


# The vendor's document spells one operationId `submitToolOuputsToRun` (sic), and the contract
# keeps it, so that reports name operations as the vendor's tools do; a user may write either.
SPELLINGS = {"submitToolOutputsToRun": "submitToolOuputsToRun"}


def operation_id(name: str) -> str:
    """The contract's operationId for `name`, given as the contract or as spelt correctly."""
    return SPELLINGS.get(name, name)
