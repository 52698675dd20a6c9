"""Driving wrk (Debian's `wrk`), a C load generator, for request-rate figures.

A Python client tops out far below what the server does on this 2-core machine, so request
rates are measured with wrk; `make bench` installs it when it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

CRUD_SCRIPT = """
local ids = {%(ids)s}
local n = 0
local h = {["Authorization"]="Bearer %(key)s", ["Content-Type"]="application/json"}
request = function()
  n = n + 1
  local k = n %% 5
  if k == 0 then return wrk.format("POST", "/v1/assistants", h, '{"model":"gpt-4o","name":"bench"}') end
  if k == 4 then return wrk.format("GET", "/v1/assistants?limit=20", h) end
  return wrk.format("GET", "/v1/assistants/" .. ids[(n %% #ids) + 1], h)
end
"""


@dataclass(frozen=True)
class WrkResult:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.rate:>9.0f} req/s   p50 {self.p50_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms"
            f"   errors {self.errors}"
        )


def available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def crud_mix(root: str, key: str, ids: list[str], *, seconds: int = 5, connections: int = 16) -> WrkResult:
    script = CRUD_SCRIPT % {"ids": ",".join(f'"{i}"' for i in ids), "key": key}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name, root],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkResult(rate, p50, p99, int(bad.group(1)) if bad else 0)
