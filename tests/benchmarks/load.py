"""A small concurrent HTTP load generator (asyncio + httpx) with latency percentiles."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

Request = Callable[[httpx.AsyncClient, int], Awaitable[int]]  # returns the number of units done


@dataclass(frozen=True)
class Result:
    units: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.units / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")

    def line(self, label: str, unit: str) -> str:
        return (
            f"{label:<34} {self.rate:>9.0f} {unit}/s   p50 {self.percentile(0.5) * 1000:6.1f} ms   "
            f"p99 {self.percentile(0.99) * 1000:6.1f} ms   errors {self.errors}"
        )


async def _drive(base_url: str, headers: dict[str, str], request: Request, total: int, concurrency: int) -> Result:
    latencies: list[float] = []
    errors = 0
    units = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors, units
            for n in counter:
                start = time.perf_counter()
                try:
                    done = await request(client, n)  # not `units += await ...`: that reads units before awaiting
                except (httpx.HTTPError, AssertionError):
                    errors += 1
                else:
                    units += done
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Result(units, elapsed, latencies, errors)


def drive(base_url: str, headers: dict[str, str], request: Request, *, total: int, concurrency: int) -> Result:
    return asyncio.run(_drive(base_url, headers, request, total, concurrency))


def best_of(runs: list[Result]) -> Result:
    return max(runs, key=lambda r: r.rate)


def median_rate(runs: list[Result]) -> float:
    return statistics.median(r.rate for r in runs)
