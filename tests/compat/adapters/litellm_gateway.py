"""LiteLLM's proxy as an Assistants gateway: its own /v1/assistants, /v1/threads… routes
forwarding to an OpenAI-compatible Assistants API, here the bundled reference server.

Run with LiteLLM's venv: `python litellm_gateway.py PORT CONFORMANCE WORKDIR`. It starts the
reference server (`CONFORMANCE serve`) on a free loopback port as the upstream, writes LiteLLM's
config (assistant_settings pointing there, a master key), then becomes `litellm`. Both are in
the process group the compat harness stops. It adds nothing of its own to what LiteLLM does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

MASTER_KEY = "sk-compat-litellm"  # the key clients give LiteLLM (the harness's [key] value)
UPSTREAM_KEY = "sk-compat-upstream"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    port, conformance, workdir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    upstream = free_port()
    subprocess.Popen(
        [conformance, "serve", "--host", "127.0.0.1", "--port", str(upstream), "--api-key", UPSTREAM_KEY],
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{upstream}/v1"
    for _ in range(200):
        try:
            httpx.get(base + "/assistants", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    config = workdir / "litellm.yaml"
    config.write_text(
        "assistant_settings:\n"
        "  custom_llm_provider: openai\n"
        "  litellm_params:\n"
        f"    api_key: {UPSTREAM_KEY}\n"
        f"    api_base: {base}\n"
        "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n",
        encoding="utf-8",
    )
    litellm = str(Path(sys.executable).with_name("litellm"))
    os.execv(litellm, [litellm, "--config", str(config), "--host", "127.0.0.1", "--port", port])


if __name__ == "__main__":
    main()
