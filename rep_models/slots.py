"""One background job at a time per process (the server): Train live's training, the latent map's live layout."""
from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar


class Job(Protocol):
    running: bool

    def start(self): ...


J = TypeVar("J", bound=Job)


class Slot(Generic[J]):
    """:meth:`claim` starts a job unless the slot's last job is still running (then it refuses: False)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.job: J | None = None

    def claim(self, job: J) -> bool:
        """Start ``job`` if no other job is running; False (and nothing started) otherwise."""
        with self._lock:
            if self.job is not None and self.job.running:
                return False
            self.job = job.start()
            return True

    def current(self) -> J | None:
        return self.job
