"""A SIGTERM that reaches a worker still starting waits for the worker's server to take it
(regression: it reached the supervisor's handler the worker inherited, or the quiet handler
`cloud.serve` installs before uvicorn's, and the worker kept running)."""

from __future__ import annotations

import os
import signal

from onestack.workers import _fork, accept_stop_signals


def test_a_stop_signal_sent_while_a_worker_starts_waits_for_its_server() -> None:
    read_end, write_end = os.pipe()
    previous = signal.signal(signal.SIGTERM, lambda *_: os.write(write_end, b"supervisor;"))
    try:

        def worker() -> None:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives while the worker is starting
            signal.signal(signal.SIGTERM, lambda *_: os.write(write_end, b"server;"))
            os.write(write_end, b"started;")
            accept_stop_signals()  # the server's handler is in place

        pid = _fork(worker)
        _, status = os.waitpid(pid, 0)
        os.close(write_end)
        seen = os.read(read_end, 256)
    finally:
        signal.signal(signal.SIGTERM, previous)
        os.close(read_end)
    assert seen == b"started;server;"
    assert os.waitstatus_to_exitcode(status) == 0
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the supervisor holds nothing
