"""The agent runtime: long work run to its end outside the API, and resumed after a crash.

An API queues work as a row in the database (`Ownership.enqueue`, in the transaction that
records the request) and casts `wake` to the agent's topic; the row, not the message, is the
work, so nothing is lost when a message is (or when no bus reaches the agent: it also polls).
The agent takes one piece at a time with a compare-and-set (`Ownership.take`), from the queue or
from an agent that is gone, and hands it to the handler registered for its kind; the handler
persists its steps (`Ownership.step`) and resumes from the last one. The heartbeat that keeps
the agent's lease runs in the same loop. Services give handlers; the runtime knows none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from onestack.common.ownership import Ownership, Work
from onestack.common.rpc import BusUnavailable, Rpc, RpcServerHandle

log = logging.getLogger("onestack.agent")

Handler = Callable[[Work], None]
AGENT_KIND = "agent:"


def agent_kind(name: str) -> str:
    """The owner kind an agent registers as (`onestack status` lists these)."""
    return f"{AGENT_KIND}{name}"


class Endpoints:
    """What the bus may ask of an agent: nothing but to look for work now."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def wake(self) -> None:
        self._wake()


class Agent:
    """Runs the work of `handlers`' kinds on `threads` threads until `stop()`."""

    def __init__(
        self,
        name: str,
        ownership: Ownership,
        handlers: dict[str, Handler],
        poll_s: float = 1.0,
        threads: int = 2,
    ) -> None:
        self.name = name
        self.ownership = ownership
        self.handlers = handlers
        self.poll_s = poll_s
        self._free = threading.Semaphore(threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=f"agent-{name}")
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._loop = threading.Thread(target=self._run_loop, name=f"agent-{name}", daemon=True)
        self._server: RpcServerHandle | None = None
        self._busy = 0  # pieces of work running; changed under _count
        self._count = threading.Lock()

    def start(self, rpc: Rpc | None = None) -> None:
        """Serve `wake` on the agent's topic (when a bus is given), register, start taking."""
        if rpc is not None:
            try:
                self._server = rpc.serve(self.name, Endpoints(self.wake))
            except BusUnavailable:  # the queue is in the database: polling finds the work
                log.warning("agent %s polls for work: the bus is not reachable", self.name)
        # Registered (and so listed by `onestack status`) only once a wake can reach it.
        self.ownership.register()
        self._loop.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Take no more work. Work still running is left to finish or, if this process ends
        first, to the next agent (this owner is gone then); an idle agent retires at once."""
        self._stopping.set()
        self._wake.set()
        if self._server is not None:
            self._server.stop()
        self._loop.join(timeout=5)
        self._pool.shutdown(wait=False)
        if self._busy == 0:
            self.ownership.retire()

    def _run_loop(self) -> None:
        next_beat = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_beat:
                    self.ownership.renew()
                    next_beat = time.monotonic() + self.ownership.lease_s / 3
                if self._take_one():
                    continue
            except Exception:  # the database may be away for a moment: try again soon
                log.exception("agent %s could not look for work", self.name)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _take_one(self) -> bool:
        """Start one piece of work if a thread is free and work waits; whether it did."""
        if not self._free.acquire(blocking=False):
            return False
        work = self.ownership.take(self.handlers)
        if work is None:
            self._free.release()
            return False
        with self._count:
            self._busy += 1
        self._pool.submit(self._run, work)
        return True

    def _run(self, work: Work) -> None:
        log.info("agent %s runs %s (attempt %d)", self.name, work.work_id, work.attempts)
        try:
            self.handlers[work.kind](work)
        except Exception:  # a handler must end its work itself; this is the last guard
            log.exception("agent %s: %s failed", self.name, work.work_id)
        finally:
            self.ownership.release(work.work_id)
            with self._count:
                self._busy -= 1
            self._free.release()
            self._wake.set()
