"""Work done ahead in a forked copy of this process, while this process does other work.

Rendering the output sheets is Python string building: it holds the interpreter, so threads
cannot share it, but a forked copy of the process can take some of the sheets on the second core.
The copy starts with everything this process holds (nothing is pickled on the way in), runs its
jobs in order, and sends back each result pickled through a temporary file; the caller takes the
ones it can use and works out the rest itself, so a copy that fails, or never answers, costs time
and nothing else.

Linux only: macOS's system libraries are not safe to use in a forked copy, and Windows cannot fork.
Elsewhere (and with INV_SHEETS_NO_FORK set) `Forked.start` returns None and the caller does all the
work itself.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import tempfile
import time
from typing import Any, Callable, Sequence

AVAILABLE = sys.platform.startswith("linux") and hasattr(os, "fork")
_POLL = 0.002  # seconds between looks at a copy that has not finished


def wanted() -> bool:
    """Whether a copy would be made here: on Linux, unless INV_SHEETS_NO_FORK is set."""
    return AVAILABLE and not os.environ.get("INV_SHEETS_NO_FORK")


class Forked:
    """A forked copy of this process running `jobs` in order; `results` collects what it found."""

    def __init__(self, pid: int, out) -> None:
        self._pid = pid
        self._out = out
        self._results: dict[int, Any] | None = None

    @classmethod
    def start(cls, jobs: Sequence[Callable[[], Any]]) -> Forked | None:
        """Fork a copy that runs each job and keeps its result (None for a job that raised), or
        None when this platform cannot."""
        if not wanted() or not jobs:
            return None
        try:
            out = tempfile.TemporaryFile()
        except OSError:  # no room or no right to write in the temp folder: do the work here
            return None
        try:
            pid = os.fork()
        except OSError:  # no memory or process slots left: do the work here
            out.close()
            return None
        if pid == 0:
            _run_child(jobs, out)  # never returns
        return cls(pid, out)

    def results(self, patience: float) -> dict[int, Any]:
        """The jobs' results by index, waiting at most `patience` seconds for the copy to finish;
        one that has not finished by then is stopped, and its results are lost."""
        if self._results is None:
            self._results = self._collect(patience)
        return self._results

    def stop(self) -> None:
        """Stop the copy if it still runs (its results are not wanted) and wait for it to end."""
        if self._results is None:
            self._results = {}
            self._end()

    def _end(self) -> None:
        """Stop the copy, wait for it (no process is left behind) and drop what it wrote."""
        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:  # it has just finished
            pass
        os.waitpid(self._pid, 0)
        self._out.close()

    def _collect(self, patience: float) -> dict[int, Any]:
        deadline = time.monotonic() + patience
        while True:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self._end()
                return {}
            time.sleep(_POLL)
        results: dict[int, Any] = {}
        with self._out as out:
            if os.waitstatus_to_exitcode(status) == 0:
                out.seek(0)
                try:
                    results = pickle.load(out)
                except (EOFError, pickle.UnpicklingError):
                    results = {}
        return results


def _run_child(jobs: Sequence[Callable[[], Any]], out) -> None:
    """The copy's whole life: run the jobs, write their results, leave without running any of the
    parent's clean-up (atexit handlers, open files' buffers, temp files it owns)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C stops the copy along with the parent
        results = {}
        for i, job in enumerate(jobs):
            try:
                results[i] = job()
            except Exception:  # noqa: BLE001 - the parent does this one itself
                results[i] = None
        pickle.dump(results, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        code = 0
    finally:
        os._exit(code)
