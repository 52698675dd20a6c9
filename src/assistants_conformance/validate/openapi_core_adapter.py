"""A small private adapter so openapi-core can judge responses we hold (it ships none for httpx).

Used as an independent cross-check of our router and response validator in the tests, and as
the naive baseline in `make bench`. openapi-core matches request URLs only against the
document's `servers`, so the target's base URL is written into a copy of the document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None = None
    content_type: str = "application/json"
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class _Response:
    status_code: int
    headers: Headers
    content_type: str
    data: bytes


def openapi_for(document: dict[str, Any], base_url: str) -> OpenAPI:
    doc = copy.deepcopy(document)
    doc["servers"] = [{"url": base_url.rstrip("/")}]
    return OpenAPI.from_dict(doc)


def request(method: str, url: str, headers: Mapping[str, str] | None = None) -> _Request:
    parts = urlsplit(url)
    query = ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True))
    return _Request(
        host_url=f"{parts.scheme}://{parts.netloc}",
        path=parts.path,
        method=method.lower(),
        parameters=RequestParameters(query=query, header=Headers(list((headers or {}).items()))),
    )


def response(status: int, headers: Mapping[str, str], body: bytes | Any) -> _Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    lowered = {k.lower(): v for k, v in headers.items()}
    return _Response(status, Headers(list(headers.items())), lowered.get("content-type", ""), data)


def problems(
    api: OpenAPI, method: str, url: str, status: int, headers: Mapping[str, str], body: bytes | Any
) -> list[str]:
    """openapi-core's verdict on one exchange, as messages ([] when it finds nothing)."""
    return [str(error) for error in api.iter_response_errors(request(method, url), response(status, headers, body))]
