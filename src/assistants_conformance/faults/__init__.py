"""Deliberately broken servers: the reference server behind one named contract defect.

They prove the suite detects what it claims to (the detection matrix) and let users see what a
failing report looks like (`assistants-conformance serve --fault NAME`).
"""

from assistants_conformance.faults.catalogue import FAULTS, FaultSpec
from assistants_conformance.faults.middleware import (
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
