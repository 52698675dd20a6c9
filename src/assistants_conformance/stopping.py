"""How a run ends when it is told to: Ctrl-C (SIGINT), what CI runners and `timeout` send
(SIGTERM), a closed terminal (SIGHUP) all end it the same way. The first signal stops new work
(in-flight requests give up within a fraction of a second, see deadline.py) and the run cleans up
and reports as interrupted (exit 3); a second signal, during that clean-up, stops it, and the report
lists what is left. A first signal that comes once the run is cleaning up lets it finish. The
report is always written.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stop:
    """Installed around a run (and its reports) in the main thread; elsewhere it only records.

    `attach(target)` names what to interrupt: anything with an `interrupt()` method."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.cleaning = False  # set once the run cleans up: then a second signal stops that, never the report
        self.stopped_cleaning = False
        self._targets: list[Any] = []
        self._old: dict[int, Any] = {}

    @property
    def name(self) -> str:
        return self.received[0] if self.received else ""

    def clean_up(self) -> None:
        """The run is cleaning up: a first signal from now on lets it finish."""
        self.cleaning = True

    def attach(self, target: Any) -> None:
        self._targets.append(target)
        if self.received:
            target.interrupt()

    def __enter__(self) -> Stop:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = not self.received
        self.received.append(signal.Signals(signum).name)
        if self.cleaning and first:
            return  # the run had finished: its clean-up goes on; a second signal would stop it
        if self.cleaning:
            self.stopped_cleaning = True
        for target in self._targets:
            target.interrupt()
        if first:
            raise KeyboardInterrupt(self.received[0])
