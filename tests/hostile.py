"""Hostile targets: raw loopback TCP servers that misbehave at the socket level, in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.contextmanager
def serve(handler: Handler) -> Iterator[str]:
    """Run `handler` for every connection on a free loopback port; yields the root URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        server = await asyncio.start_server(_guard(handler), "127.0.0.1", 0)
        holder["server"] = server
        holder["port"] = server.sockets[0].getsockname()[1]
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield f"http://127.0.0.1:{holder['port']}"
    finally:

        def stop() -> None:
            holder["server"].close()  # type: ignore[attr-defined]
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.stop()  # main() then lets the cancelled tasks finish

        loop.call_soon_threadsafe(stop)
        thread.join(5)


def _guard(handler: Handler) -> Handler:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await handler(reader, writer)
        with contextlib.suppress(Exception):
            writer.close()

    return run


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length:
        await reader.readexactly(length)
    return lines[0], headers


def response(status: str, headers: dict[str, str], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body


def answering(status: str, headers: dict[str, str], body: bytes, seen: list[dict[str, str]] | None = None) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            _, request_headers = await read_request(reader)
            if seen is not None:
                seen.append(request_headers)
            writer.write(response(status, headers, body))
            await writer.drain()

    return handler
