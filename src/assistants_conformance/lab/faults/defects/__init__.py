"""The named defects, one module per kind of thing they break; importing this registers them all."""

from assistants_conformance.lab.faults.defects import (  # noqa: F401 - each registers its defects
    assistants,
    auth,
    pagination,
    properties,
    runs,
    shapes,
    streams,
    threads,
    validation,
)
