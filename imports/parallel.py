"""A second process for the import's CPU-bound part (reading 100,000 rows of cells into
records): CPython runs Python code on one core per process, and while the rows are parsed
the database has nothing to do, so the second core waited.

``Helper.start(work, items)`` forks; the child runs ``work(items)``, sends the result back
pickled through a pipe and exits. The parent works on its own part meanwhile, then takes
the child's result with ``Helper.result()``. A child that fails (an error, a kill, no
memory) gives None: the caller does that part itself, so a result never depends on the
helper. ``Helper.stop()`` kills it (a cancelled import).

Forking is safe here because the child only computes on objects the parent already holds
and writes nothing but the pipe. The parent's database connections are never used nor
closed in the child: Django forgets them there (a query made by mistake would open a
connection of its own) while the child keeps them referenced until it leaves with
``os._exit`` (closing one would end the parent's session). It is
only done where a fork is plain: on a system with ``fork``, with more than one process
allowed (``IMPORT_PROCESSES``), from a process running one thread (a Celery prefork worker,
the management command — not a threaded development server, where the work stays in one
process).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
from collections.abc import Callable

from django.conf import settings

log = logging.getLogger(__name__)


def can_fork() -> bool:
    return (hasattr(os, "fork") and settings.IMPORT_PROCESSES > 1
            and threading.active_count() == 1)


def _forget_connections() -> list:
    """In the child: Django's connections, inherited from the parent, taken off Django and
    returned (to be kept referenced: nothing may close them)."""
    from django.db import connections

    held = []
    for conn in connections.all(initialized_only=True):
        held.append(conn.connection)
        conn.connection = None
    return held


class Helper:
    """A forked child working on ``items``."""

    def __init__(self, pid: int, pipe: int):
        self.pid, self.pipe = pid, pipe

    @classmethod
    def start(cls, work: Callable, items: list) -> Helper | None:
        """The child working on ``work(items)``; None when no child could be started
        (the caller does the work)."""
        if not can_fork():
            return None
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            log.warning("import: no second process (fork failed)", exc_info=True)
            return None
        if pid == 0:  # the child: work, send, leave without running any cleanup
            code = 1
            try:
                os.close(read_end)
                held = _forget_connections()  # noqa: F841 - referenced until the exit
                data = pickle.dumps(work(items), protocol=pickle.HIGHEST_PROTOCOL)
                with open(write_end, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        return cls(pid, read_end)

    def result(self):
        """The child's result, once it has finished; None when it failed."""
        with open(self.pipe, "rb") as pipe:
            data = pipe.read()
        _pid, status = os.waitpid(self.pid, 0)
        if status != 0 or not data:
            log.warning("import: the second process failed (status %s): its part is done "
                        "again in the first", status)
            return None
        return pickle.loads(data)  # noqa: S301 - written by our own child, through a pipe

    def stop(self) -> None:
        """Kill the child (the caller stops: a cancel, an error)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(self.pipe)
        os.waitpid(self.pid, 0)
