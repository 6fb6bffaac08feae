"""The run lock: one linesight run per state folder at a time.

``<state_dir>/linesight.lock`` is locked exclusively with ``flock`` (``msvcrt.locking`` on
Windows). The operating system drops the lock when the holding process ends, however it ends, so
a run killed with SIGKILL or by a reboot leaves no stale lock: the next run simply takes it. The
holder writes its pid, host and start time into the file, only so that a second run can say who
is in the way::

    with RunLock(settings.state_dir):
        ...  # sync, analyse, write back

The file is never deleted: removing a lock file while another process waits on it would let two
runs hold "the" lock on two different files.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from linesight.errors import AlreadyRunningError, StoreError

__all__ = ["LOCK_NAME", "RunLock"]

LOCK_NAME = "linesight.lock"
_HOLDER_OFFSET = 1  # Windows locks byte 0; the holder's details live after it


class RunLock:
    """An exclusive, non-blocking lock on a state folder, held for one run.

    Raises :class:`~linesight.errors.AlreadyRunningError` on entry when another process holds it.
    """

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock now, or raise :class:`AlreadyRunningError` naming the holder."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the run lock: {exc.strerror}") from None
        if not _try_lock(fd):
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise AlreadyRunningError(
                f"another linesight run ({holder}) holds {self.path}; wait for it to finish, "
                "or stop that process: the lock is freed as soon as it ends"
            )
        self._fd = fd
        _write_holder(fd)

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # clear the holder's details but keep the file; failing only leaves a stale hint behind
        with contextlib.suppress(OSError):
            os.ftruncate(fd, _HOLDER_OFFSET)
        _unlock(fd)
        os.close(fd)

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _write_holder(fd: int) -> None:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    details = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
    data = b"\n" + json.dumps(details).encode() + b"\n"
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)
        os.fsync(fd)
    except OSError:
        pass  # the details are a courtesy for the next run's message; the lock is what counts


def _read_holder(fd: int) -> dict[str, object]:
    try:
        os.lseek(fd, _HOLDER_OFFSET, os.SEEK_SET)
        raw = os.read(fd, 4096)
        details = json.loads(raw.decode("utf-8", "replace"))
    except (OSError, ValueError):
        return {}
    return details if isinstance(details, dict) else {}


def _describe(holder: dict[str, object]) -> str:
    parts = []
    if "pid" in holder:
        parts.append(f"pid {holder['pid']}")
    if holder.get("host") and holder.get("host") != socket.gethostname():
        parts.append(f"on {holder['host']}")
    started = holder.get("started")
    if isinstance(started, str):
        try:
            moment = datetime.fromisoformat(started).astimezone(UTC)
            parts.append(f"started {moment:%Y-%m-%d %H:%M} UTC")
        except ValueError:
            pass
    return ", ".join(parts) or "details unknown"


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
