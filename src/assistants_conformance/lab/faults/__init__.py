"""Deliberately broken servers: the reference server behind one named contract defect.

They prove the suite detects what it claims to (the detection matrix) and let users see what a
failing report looks like (`assistants-conformance serve --fault NAME`). Importing this package
registers every defect (defects/, one module per kind of thing they break).
"""

from assistants_conformance.lab.faults import defects  # noqa: F401 - registers the defects
from assistants_conformance.lab.faults.middleware import (
    CutConnection,
    Fault,
    FaultyApp,
    Req,
    Res,
    answer,
    error,
    set_json,
    set_json_body,
)
from assistants_conformance.lab.faults.registry import FAULTS, FaultSpec

__all__ = [
    "FAULTS",
    "CutConnection",
    "Fault",
    "FaultSpec",
    "FaultyApp",
    "Req",
    "Res",
    "answer",
    "error",
    "set_json",
    "set_json_body",
]
