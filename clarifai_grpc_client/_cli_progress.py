"""Progress of long command-line jobs on stderr: a live bar on a terminal, plain lines elsewhere.

On a terminal the bar (drawn by ``rich``) shows the count, the total when it is known, the rate
and the time left. Anywhere else (a pipe, a log file) nothing is redrawn: a plain line such as
``upload: 1,200/5,000 inputs (24%), 310/s, about 12s left`` is written at most once every
``interval`` seconds, so logs get no carriage returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as _RichProgress
from rich.text import Text

_REDRAW = 0.1  # seconds between updates handed to the live bar


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_line(what: str, unit: str, done: int, total: int | None, elapsed: float, failed: int = 0) -> str:
    """One plain progress line: count, share of the total when known, rate, and time left."""
    text = f"{what}: {done:,}/{total:,} {unit}" if total is not None else f"{what}: {done:,} {unit}"
    if total:
        text += f" ({100 * done // total}%)"
    if failed:
        text += f", {failed:,} failed"
    if elapsed > 0 and done:
        rate = done / elapsed
        text += f", {rate:,.0f}/s"
        if total is not None and total > done:
            text += f", about {_duration((total - done) / rate)} left"
    return text


class _Rate(ProgressColumn):
    """Items per second (rich's own speed column counts bytes); the average until rich has a recent rate."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed
        speed = task.finished_speed or task.speed or (task.completed / elapsed if elapsed else None)
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="progress.data.speed")


class Progress:
    """Counts one job for the person watching ``stream`` (see the module docstring)."""

    def __init__(self, what: str, unit: str, total: int | None, stream: TextIO, *, interval: float = 10.0,
                 enabled: bool = True, terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.unit, self.total, self.stream = what, unit, total, stream
        self.interval, self.enabled, self.clock = interval, enabled, clock
        self.terminal = stream.isatty() if terminal is None else terminal
        self.done = self.failed = 0
        self.started = clock()
        self._last = self.started
        self._bar: _RichProgress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Progress:
        if self.enabled and self.terminal:
            columns: list[ProgressColumn | str] = [TextColumn("{task.description}")]
            if self.total is not None:
                columns += [BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} " + self.unit)]
            else:
                columns += [TextColumn("{task.completed:,.0f} " + self.unit)]
            columns += [_Rate(self.unit), TimeElapsedColumn()]
            if self.total is not None:
                columns += [TextColumn("left"), TimeRemainingColumn()]
            # stdout stays untouched: it carries the command's data (JSON lines, reports)
            self._bar = _RichProgress(*columns, console=Console(file=self.stream), transient=False,
                                      redirect_stdout=False, redirect_stderr=False)
            self._bar.start()
            self._task = self._bar.add_task(self.what, total=self.total)
        return self

    def update(self, done: int, failed: int = 0) -> None:
        """Record the count so far; redraws or writes a line only when it is time to."""
        self.done, self.failed = done, failed
        if not self.enabled:
            return
        now = self.clock()
        if self._bar is not None and self._task is not None:
            if now - self._last >= _REDRAW:
                self._last = now
                self._bar.update(self._task, completed=done)
        elif now - self._last >= self.interval:
            self._last = now
            self.stream.write(progress_line(self.what, self.unit, done, self.total, now - self.started, failed) + "\n")
            self.stream.flush()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done)
            self._bar.stop()
            self._bar = None

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def summary(self) -> str:
        """The closing line: the final count (of the total, when known), rate and time taken."""
        elapsed = self.elapsed
        line = progress_line(self.what, self.unit, self.done, self.total, elapsed, self.failed)
        return f"{line} in {elapsed:.1f}s"
