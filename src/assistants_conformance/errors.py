"""Tool errors: the suite could not do its job. Contract violations are values, not these.

ConformanceToolError
├── SpecError          the contract document is missing, unreadable or invalid
├── UsageError         a bad command-line argument or option value
└── TargetUnreachable  the server under test cannot be reached at all
    └── TargetUnusable  it answers, but not as an Assistants API with this key (no route, key refused)
"""


class ConformanceToolError(Exception):
    """Base of every error this tool raises on purpose; the CLI prints its message."""

    exit_code = 2


class SpecError(ConformanceToolError):
    """The contract document cannot be used."""


class UsageError(ConformanceToolError):
    """The user asked for something that cannot be done as asked."""


class TargetUnreachable(ConformanceToolError):
    """The target server did not answer at all."""

    exit_code = 3


class TargetUnusable(TargetUnreachable):
    """The target answers, but the run cannot judge it: no Assistants API at that URL, or the key
    is refused. Never the server's non-conformance: the URL or the key is wrong."""
