"""Defects in authentication: keys not asked for, or any key taken."""

from __future__ import annotations

from assistants_conformance.lab.faults.middleware import Fault, Req
from assistants_conformance.lab.faults.registry import (
    fault,
)


# ----------------------------------------------------------------------------- auth
@fault("missing-auth-accepted", "Requests without an API key are served as if authenticated.", "auth", {"AUTH-001"})
def _missing_auth(key: str) -> Fault:
    def inject(req: Req) -> None:
        req.headers.setdefault("authorization", f"Bearer {key}")

    return Fault("", before=inject)


@fault("any-key-accepted", "Any bearer key is accepted, not only the configured one.", "auth", {"AUTH-002"})
def _any_key(key: str) -> Fault:
    def replace(req: Req) -> None:
        if req.headers.get("authorization", "").startswith("Bearer "):
            req.headers["authorization"] = f"Bearer {key}"

    return Fault("", before=replace)
