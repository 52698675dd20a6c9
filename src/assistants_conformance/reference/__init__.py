"""The bundled reference server: a real Assistants v2 server over SQLite with a scripted model.

It is the default target of `make conformance` and the known-good implementation the tests
use. It imports the contract (to validate requests) and nothing of the checks or the runner.
"""

from assistants_conformance.reference.app import create_app
from assistants_conformance.reference.testing import RunningServer, running_server

__all__ = ["RunningServer", "create_app", "running_server"]
