"""The server under test: one httpx client with auth, deadlines, 429 handling, budget and redaction.

Every exchange is recorded (secrets redacted, bodies truncated) so that findings can point at
their evidence. The API key is sent only to the target's own origin: redirects are not
followed, so a redirect to another host can never receive it.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from assistants_conformance import deadline
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.results import REDACTED, REDACTED_HEADER, REDACTED_KEY, Exchange, scrub, secrets_of

EXCERPT = 4096
# The key the AUTH checks send to prove a wrong key is refused: public, so shown in reports.
WRONG_KEY = "sk-conformance-wrong-key"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"})


class _Dropped(Exception):
    """A connection failed before any answer arrived (a kept-alive connection the server had closed)."""

    def __init__(self, error: httpx.HTTPError) -> None:
        super().__init__(str(error))
        self.error = error


class BudgetExhausted(Exception):
    """The run used its request budget or its time; what is left is not checked."""


class RateLimited(TargetUnreachable):
    """The target still answered 429 after the bounded retries; the check cannot be judged."""


# Headers that frame a message: the HTTP client sets them per request, and refuses to send one
# given from outside (which must never read as a target that did not answer).
FRAMING_HEADERS = frozenset({"transfer-encoding", "content-length"})
MAX_RATE_LIMITED = 5  # requests that stay 429 after retries before the whole run gives up


@dataclass(frozen=True)
class BaseURL:
    """The API root, read once from what the user gave: `root` without a trailing slash, query,
    fragment or `user:password@`; the userinfo is kept apart (sent as Basic auth, never shown).
    Whether the API lives at the root or under `/v1` below it is found out by asking (runner's
    preflight), which answers with another BaseURL, never by changing this one."""

    root: str
    userinfo: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> BaseURL:
        """The URL as a BaseURL, or a ValueError that never repeats its userinfo."""
        parts = urlsplit(url)
        try:
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"--base-url must be an http(s) URL, got {redact_userinfo(url)!r}")
        host = parts.netloc.rpartition("@")[2]
        userinfo = (unquote(parts.username or ""), unquote(parts.password or "")) if parts.username else None
        return cls(f"{parts.scheme}://{host}{parts.path.rstrip('/')}", userinfo)

    def below(self, path: str) -> BaseURL:
        return BaseURL(self.root + path, self.userinfo)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(part for part in self.userinfo or () if part)

    def __str__(self) -> str:
        return self.root


def normalise_base_url(url: str) -> str:
    """The API root of a URL the user gave (BaseURL.parse's root)."""
    return BaseURL.parse(url).root


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def environment_proxy(url: str) -> tuple[str, str] | None:
    """The proxy the environment names for `url` and the variable that named it (HTTPS_PROXY,
    HTTP_PROXY, ALL_PROXY; NO_PROXY honoured), as curl and the SDKs would use it; None for none."""
    import urllib.request

    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass_environment(parts.hostname):  # type: ignore[attr-defined]
        return None
    found = urllib.request.getproxies_environment()
    for key in (parts.scheme, "all"):
        if found.get(key):
            return found[key], f"{key.upper()}_PROXY"
    return None


def check_proxy(proxy: str, source: str) -> str:
    """A proxy URL fit to send through, or a ValueError saying what is wrong with it (and where
    it came from); its `user:password@` is never shown."""
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 host
        raise ValueError(f"{source} is not a proxy URL ({exc})") from None
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise ValueError(
            f"{source} is not a proxy URL ({redact_userinfo(proxy)!r}): expected {', '.join(PROXY_SCHEMES)}://host:port"
        )
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError(f"{source} has a port that is not a number: {redact_userinfo(proxy)!r}") from None
    return parts.geturl()


def redact_userinfo(url: str) -> str:
    """The URL with any `user:password@` replaced, for messages about a URL the user gave."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "[redacted]@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def excerpt(body: bytes, scrub: Callable[[str], str], *, tail: bool = False, size: int | None = None) -> str:
    """The first EXCERPT characters; with `tail` (an answer that broke off, a stream kept by its
    ends) its beginning and its end. Secrets are scrubbed from the whole text first: a cut never
    leaves part of one behind. `size`: the bytes there were in all, when `body` is not all of them."""
    text = scrub(body.decode("utf-8", "replace"))
    size = len(body) if size is None else size
    if len(text) <= EXCERPT and size == len(body):
        return text
    if tail:
        head, end = text[: EXCERPT // 4], text[-(EXCERPT - EXCERPT // 4) :]
        left_out = max(0, len(text) - len(head) - len(end)) + (size - len(body))
        return f"{head}\n… [{left_out:,} characters left out; {size:,} bytes arrived in all] …\n{end}"
    return text[:EXCERPT] + f"\n… [truncated: {size:,} bytes in all]"


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    content: bytes
    exchange: int  # index of the recorded exchange
    # Why the body is incomplete, when the answer began but did not end (the connection dropped,
    # the chunked body broke off, the deadline passed): what arrived is here, and judged as such.
    cut: str | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than can be read
            return None

    @property
    def ok(self) -> bool:
        """Any 2xx: the request was accepted (whether the exact status is right is RESP-STATUS-001's)."""
        return 200 <= self.status < 300

    def object(self) -> dict[str, Any]:
        """The body when it is a JSON object, else {}: a scenario reads fields without trusting shapes."""
        body = self.json()
        return body if isinstance(body, dict) else {}

    def items(self) -> list[dict[str, Any]]:
        """The objects of a list answer's `data` (none when it is missing or not a list)."""
        data = self.object().get("data")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def ids(self) -> list[Any]:
        return [item.get("id") for item in self.items()]


class Target:
    def __init__(
        self,
        base_url: BaseURL | str,
        api_key: str | None,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        auth_header: str | None = None,
        timeout: float = 30.0,
        budget_requests: int = 2000,
        deadline_s: float = 600.0,
        max_body: int = 8 << 20,
        retries_429: int = 3,
        on_exchange: Callable[[str, int, bytes, httpx.Headers, str], None] | None = None,
        proxy: str | None = None,
        verify: ssl.SSLContext | bool = True,
        used: int = 0,
    ) -> None:
        """`proxy`: the one proxy to send through (None: none; the environment is never read
        here, the caller resolves it and says so). `verify`: a TLS context (--ca-cert), True, or
        False (--insecure). `used`: requests already spent from the budget (preflight's)."""
        self.base = base_url if isinstance(base_url, BaseURL) else BaseURL.parse(base_url)
        self.api_key = api_key or ""
        userinfo = self.base.userinfo
        # Everything secret this run knows, scrubbed from every recorded text.
        self.secrets = secrets_of("", self.api_key, (*(headers or {}).values(), *self.base.secrets))
        self.user_headers = {name.lower() for name in headers or {}}
        self.timeout = timeout
        self._budget = budget_requests
        self.used = used
        self._deadline = time.monotonic() + deadline_s
        self.max_body = max_body
        self.retries_429 = retries_429
        self.exchanges: list[Exchange] = []
        self.rate_limited = 0
        # 429 answers that were retried: the caller still owes them a contract check (Retry-After).
        self.retried: list[tuple[str, str, int, httpx.Headers, bytes, int]] = []
        self._interrupted = False
        self.on_exchange = on_exchange
        self._headers = {"OpenAI-Beta": "assistants=v2", **(headers or {})}
        # Gateways that want the key in a header of their own (`api-key: KEY`) get it there, bare.
        self.auth_header = auth_header or "Authorization"
        self.secret_headers = SECRET_HEADERS | {self.auth_header.lower()}
        if self.api_key:
            self._headers[self.auth_header] = self.credential(self.api_key)
        # Sent with every request of every phase (for gateways that need e.g. `api-version`).
        self.query = dict(query or {})
        self.proxy = proxy
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            auth=httpx.BasicAuth(*userinfo) if userinfo else None,
            trust_env=False,
            proxy=proxy,
            verify=verify,
        )
        # Every connect, write and read of a request ends by its deadline, and at an interrupt.
        for transport in (self.client._transport, *self.client._mounts.values()):
            if transport is not None:
                deadline.install(transport)

    def close(self) -> None:
        self.client.close()

    @property
    def base_url(self) -> str:
        return self.base.root

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def interrupt(self) -> None:
        """Send nothing more: in-flight requests give up within a fraction of a second
        (deadline.py), and every later one raises BudgetExhausted."""
        self._interrupted = True

    def resume_for_cleanup(self, requests: int, seconds: float) -> None:
        """Clean-up is always allowed, after an interrupt or a spent budget: `requests` more
        requests within `seconds` from now."""
        self._interrupted = False
        self._budget = self.used + requests
        self._deadline = time.monotonic() + seconds

    def credential(self, key: str) -> str:
        """The value of the auth header for `key`: a bearer token, or the bare key in a custom header."""
        return f"Bearer {key}" if self.auth_header.lower() == "authorization" else key

    def auth(self, key: str | None) -> dict[str, str]:
        """Headers that send `key` (none when it is None) the way this target expects."""
        return {self.auth_header: self.credential(key)} if key else {}

    # ---------------------------------------------------------------- recording
    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)

    def _redact(self, headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
        """Secret headers are redacted; the one carrying our key says so (the report's curl line
        puts the key back from the environment there), and the suite's deliberately wrong key
        stays visible, so that a wrong-key finding reproduces as it was sent."""
        out = {}
        for name, value in headers.items():
            lowered = name.lower()
            if lowered == self.auth_header.lower() and value == self.credential(WRONG_KEY):
                out[name] = value
            elif lowered == self.auth_header.lower() and self.api_key and value == self.credential(self.api_key):
                out[name] = REDACTED_KEY
            elif lowered in self.user_headers:
                out[name] = REDACTED_HEADER  # the report's curl line reads it from the environment
            elif lowered in self.secret_headers:
                out[name] = REDACTED
            else:
                out[name] = self.scrub(value)
        return out

    def _excerpt(self, body: bytes, *, tail: bool = False) -> str:
        return excerpt(body, self.scrub, tail=tail)

    def _record(
        self,
        method: str,
        url: str,
        sent: dict[str, str],
        body: bytes,
        status: int | None,
        headers: httpx.Headers | None,
        content: bytes,
        began: float,
        error: str | None = None,
    ) -> int:
        self.exchanges.append(
            Exchange(
                method=method,
                url=self.scrub(url),
                request_headers=self._redact(sent),
                request_body=self._excerpt(body),
                status=status,
                response_headers=self._redact(headers or {}),
                response_body=self._excerpt(content, tail=error is not None),
                response_size=len(content),
                elapsed_ms=round((time.monotonic() - began) * 1000, 1),
                error=error,
            )
        )
        return len(self.exchanges) - 1

    # ---------------------------------------------------------------- sending
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        stream: bool = False,
        url: str | None = None,
        on_chunk: Callable[[bytes], None] | None = None,
    ) -> Response:
        """Send one request (reading at most max_body bytes within the total deadline). `url`, when
        given, is the full URL (the property phase's generated paths), else base URL + `path`.
        `on_chunk` sees each piece of the answer as it arrives (a scenario acting mid-stream)."""
        if self.interrupted:
            raise BudgetExhausted("the run was interrupted")
        if self.used >= self._budget:
            raise BudgetExhausted(f"the request budget ({self._budget}) is used up")
        if time.monotonic() > self._deadline:
            raise BudgetExhausted("the run's time limit was reached")
        sent = dict(self._headers)
        if not auth:
            sent.pop(self.auth_header, None)
        sent.update(headers or {})
        params = {**self.query, **(params or {})} if self.query else params
        body = raw if raw is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        if body:
            sent.setdefault("Content-Type", "application/json")
        if stream:
            sent["Accept"] = "text/event-stream"
        url = url or self.base_url + path
        for attempt in range(self.retries_429 + 1):
            self.used += 1
            began = time.monotonic()
            try:
                with deadline.bounded(min(began + self.timeout, self._deadline), lambda: self._interrupted):
                    status, got, content, cut = self._send_twice_if_dropped(
                        _Outgoing(method, url, sent, body, params, on_chunk)
                    )
            except httpx.HTTPError as exc:
                if self.interrupted:
                    raise BudgetExhausted("the run was interrupted") from None
                message = f"{exc.__class__.__name__}: {self.scrub(str(exc)) or 'no detail'}"
                if isinstance(exc, httpx.TimeoutException):
                    message = f"no answer within {min(self.timeout, max(0.0, self._deadline - began)):g} s ({message})"
                if self.proxy is not None and isinstance(exc, httpx.ProxyError | httpx.ConnectError):
                    message = f"through the proxy {redact_userinfo(self.proxy)}: {message}"
                self._record(method, url, sent, body, None, None, b"", began, error=message)
                raise TargetUnreachable(f"{method} {self.scrub(url)}: {message}") from exc
            if cut is not None and self.interrupted:
                raise BudgetExhausted("the run was interrupted")
            index = self._record(
                method, str(httpx.URL(url, params=params)), sent, body, status, got, content, began, error=cut
            )
            if self.on_exchange is not None:
                self.on_exchange(method, status, content, got, url)
            if status == 429 and attempt < self.retries_429:
                self.retried.append((method, url, status, got, content, index))
                time.sleep(min(_retry_after(got.get("retry-after")), 10.0))
                continue
            if status == 429:
                self.rate_limited += 1
                if self.rate_limited >= MAX_RATE_LIMITED:
                    raise BudgetExhausted(f"the target kept answering 429 ({self.rate_limited} requests gave up)")
                raise RateLimited(f"{method} {self.scrub(url)} stayed rate limited after {self.retries_429} retries")
            return Response(status, got, content, index, cut)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_twice_if_dropped(self, out: _Outgoing) -> tuple[int, httpx.Headers, bytes, str | None]:
        """A connection the server closed as we reused it fails before any byte of an answer: that
        is no answer, so the request is sent once more, on a fresh connection. A second such
        failure is the target's, raised as the httpx error it was."""
        try:
            return self._send(out)
        except _Dropped:
            pass
        try:
            return self._send(out)
        except _Dropped as dropped:
            raise dropped.error from None

    def _send(self, out: _Outgoing) -> tuple[int, httpx.Headers, bytes, str | None]:
        """Status, headers, the body, and why the body is incomplete (None when it ended as it
        should). Once an answer has begun, whatever ends it early is the answer's: its bytes so
        far are returned with the reason, never turned into "no answer"."""
        began = time.monotonic()
        deadline = began + self.timeout
        with contextlib.ExitStack() as stack:
            try:
                response = stack.enter_context(
                    self.client.stream(
                        out.method, out.url, headers=out.headers, content=out.body or None, params=out.params
                    )
                )
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise _Dropped(exc) from exc
            chunks: list[bytes] = []
            size = 0
            cut: str | None = None
            try:
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_body:
                        cut = f"the answer exceeded {self.max_body:,} bytes, the most this tool reads of one answer"
                        break
                    if out.on_chunk is not None:
                        out.on_chunk(chunk)
                    if time.monotonic() > deadline:
                        cut = f"the answer did not finish within {self.timeout:g} s (--timeout)"
                        break
            except httpx.TimeoutException:
                cut = f"the answer did not finish within {self.timeout:g} s (--timeout)"
            except (httpx.TransportError, httpx.DecodingError) as exc:
                cut = f"{exc.__class__.__name__}: {self.scrub(str(exc)) or 'the connection broke'}"
            if cut is not None:
                cut += f"; reading stopped after {size:,} bytes and {time.monotonic() - began:.1f} s"
            return response.status_code, response.headers, b"".join(chunks), cut


@dataclass(frozen=True)
class _Outgoing:
    """One request as sent (again, when its connection was dropped)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any] | None
    on_chunk: Callable[[bytes], None] | None = None


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 1.0
    except ValueError:
        return 1.0
