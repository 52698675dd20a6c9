"""The contract: the bundled OpenAPI document, loaded once, with compiled validators.

Everything else in the package (reference server, validators, runner) reads the contract
through this facade, so the document is parsed once per process and each schema is compiled
once.
"""

from assistants_conformance.contract.document import (
    SPEC_FILENAME,
    Operation,
    load_document,
    operation_id,
    operations,
    spec_path,
)
from assistants_conformance.contract.schemas import Contract, get_contract

__all__ = [
    "SPEC_FILENAME",
    "Contract",
    "Operation",
    "get_contract",
    "load_document",
    "operation_id",
    "operations",
    "spec_path",
]
