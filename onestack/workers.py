"""Several API worker processes on one listening socket: a small pre-fork supervisor.

The parent binds the socket, forks the workers (each builds its own app, database engine and
caches after the fork, so nothing stateful is shared) and the agent processes, and then only
supervises: a worker or agent that dies is replaced (the replacement takes over the dead one's
work at its start, `common.ownership`), and SIGTERM or SIGINT stops them all gracefully. The
kernel hands each new connection to one worker; what workers must agree on (revocations,
writes) lives in the database, which is what makes several workers safe.

Workers share the supervisor's memory copy-on-write: everything imported before the fork stays
shared, and the objects that exist then are frozen out of the garbage collector, whose passes
would otherwise write to every object's header and so copy each page into every worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence

log = logging.getLogger("onestack.workers")

# A worker that dies sooner than this after its start is failing, not unlucky: stop everything
# rather than fork it again and again.
MIN_WORKER_LIFE_S = 2.0
PR_SET_PDEATHSIG = 1


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048, reuse_port=False)
    # Accepted connections inherit this; uvicorn sets it itself only on sockets it binds, and
    # without it keep-alive answers wait out the client's 40 ms delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.set_inheritable(True)
    return sock


def supervise(
    count: int,
    run_worker: Callable[[], None],
    on_ready: Callable[[], None],
    agents: Sequence[Callable[[], None]] = (),
) -> int:
    """Run `count` workers and one process per `agents` entry until a stop signal; returns
    the exit status for the command."""
    started: dict[int, tuple[float, Callable[[], None]]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in started:
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    gc.collect()
    gc.freeze()
    for child in [run_worker] * count + list(agents):
        started[_fork(child)] = (time.monotonic(), child)
    on_ready()
    status = 0
    while started:
        pid, code = os.wait()
        found = started.pop(pid, None)
        if found is None or stopping:
            continue
        began, child = found
        log.warning("worker exited", extra={"pid": pid, "status": code})
        if time.monotonic() - began < MIN_WORKER_LIFE_S:
            status = 1
            stop()
            continue
        started[_fork(child)] = (time.monotonic(), child)
    return status


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (a process with no server of its own, like an agent)."""
    stop = threading.Event()
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
    accept_stop_signals()
    while not stop.wait(1.0):
        pass


def run_in_child(work: Callable[[], object]) -> None:
    """Run `work` in a forked child and wait for it; its failure stops this command too."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            work()
        except SystemExit as exc:  # as the interpreter would: a message goes to stderr
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(code)


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _fork(run_worker: Callable[[], None]) -> int:
    # A worker starts with the stop signals blocked, so one sent while it is still starting
    # waits for its server to take it (`accept_stop_signals()`) instead of reaching the
    # supervisor's handler it inherited, which would leave the worker running.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        return pid
    code = 0
    try:
        _die_with_parent()
        run_worker()
    except BaseException:  # a worker must never return into the supervisor's loop
        log.exception("worker failed")
        code = 1
    finally:
        os._exit(code)


def accept_stop_signals() -> None:
    """Deliver the stop signals a starting worker held back; call once they are handled."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _die_with_parent() -> None:
    """Ask Linux to stop this worker if the supervisor is killed outright (SIGKILL)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
