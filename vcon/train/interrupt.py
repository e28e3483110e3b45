"""Stopping a run cleanly: SIGTERM or SIGUSR1 asks for a stop; the loop saves a checkpoint at the
next step boundary and `vcon train` exits with EXIT_INTERRUPTED."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

EXIT_INTERRUPTED = 75  # EX_TEMPFAIL of sysexits.h: temporary failure, run the same command again
SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class Interrupted(Exception):
    """The run stopped on request after saving its checkpoint; rerunning resumes it."""

    def __init__(self, checkpoint: Path, step: int, reason: str) -> None:
        super().__init__(f"interrupted by {reason} at step {step}; checkpoint saved to {checkpoint}; "
                         f"run the same command again to resume")
        self.checkpoint = checkpoint
        self.step = step


class StopRequest:
    """Whether the run should stop at this step boundary. The base class stops on SIGTERM/SIGUSR1
    while `installed()` is active; subclasses may stop for other reasons."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.reason = signal.Signals(number).name

    def requested(self, step: int) -> bool:
        return self.reason is not None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)

    def uninstall(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()


class StopAtStep(StopRequest):
    """Stop at the first boundary at or after `step` (for tests and time-boxed runs)."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def requested(self, step: int) -> bool:
        if step >= self.step:
            self.reason = self.reason or f"request at step {self.step}"
        return super().requested(step)
