"""assistants-conformance: a contract validator and conformance suite for Assistants API v2 servers."""

__version__ = "0.1.0"

__all__ = ["__version__"]
