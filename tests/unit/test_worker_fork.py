"""A forked worker must not run the supervisor's stop handler (regression: it did, so a
SIGTERM reaching a starting worker signalled its siblings and left the worker running)."""

from __future__ import annotations

import os
import signal

from onestack.workers import _fork


def test_a_forked_worker_starts_with_default_stop_handlers() -> None:
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    read_end, write_end = os.pipe()
    try:

        def report() -> None:
            handlers = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)]
            os.write(write_end, b"default" if handlers == [signal.SIG_DFL] * 2 else b"inherited")

        pid = _fork(report)
        os.close(write_end)
        seen = os.read(read_end, 64)
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
        os.close(read_end)
    assert seen == b"default"
    assert os.waitstatus_to_exitcode(status) == 0
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the supervisor blocks nothing
