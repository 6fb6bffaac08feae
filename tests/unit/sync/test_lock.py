"""The run lock, exercised by real processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from linesight.errors import AlreadyRunningError
from linesight.lock import LOCK_NAME, RunLock

HOLDER = """
import sys, time
from pathlib import Path
from linesight.lock import RunLock

with RunLock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until told to go (or killed)
print("released", flush=True)
"""


@contextmanager
def holder(state: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


def test_a_second_process_is_refused_with_the_holders_details(tmp_path: Path) -> None:
    with holder(tmp_path) as child:
        with pytest.raises(AlreadyRunningError) as caught:
            RunLock(tmp_path).acquire()
        message = str(caught.value)
        assert message.startswith(f"another linesight run (pid {child.pid}, started ")
        assert re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", message)
        assert f"holds {tmp_path / LOCK_NAME}" in message
        assert "wait for it to finish" in message


def test_the_lock_is_free_again_after_a_clean_release(tmp_path: Path) -> None:
    with holder(tmp_path) as child:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
        with RunLock(tmp_path) as lock:
            assert lock.held
    assert not lock.held
    assert (tmp_path / LOCK_NAME).exists()  # never deleted: see lock.py


def test_a_sigkilled_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    with holder(tmp_path) as child:
        with pytest.raises(AlreadyRunningError):
            RunLock(tmp_path).acquire()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        with RunLock(tmp_path) as lock:  # taken over at once
            assert lock.held
            details = (tmp_path / LOCK_NAME).read_text()
            assert f'"pid": {os.getpid()}' in details  # the new holder's, not the dead one's


def test_two_locks_in_one_process_also_exclude_each_other(tmp_path: Path) -> None:
    with RunLock(tmp_path), pytest.raises(AlreadyRunningError, match=rf"pid {os.getpid()}"):
        RunLock(tmp_path).acquire()
    with RunLock(tmp_path / "nested" / "state") as fresh:  # creates the folder
        assert fresh.held


def test_release_is_idempotent_and_reacquire_refused_while_held(tmp_path: Path) -> None:
    lock = RunLock(tmp_path)
    lock.acquire()
    with pytest.raises(RuntimeError, match="already held"):
        lock.acquire()
    lock.release()
    lock.release()
    assert not lock.held
