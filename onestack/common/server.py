"""uvicorn's httptools protocol with a response's header block and body sent in one write.

uvicorn writes the status line and headers on `http.response.start` and the body on the
next message, so a small JSON answer cost two send syscalls and two TCP segments, the largest
single cost of token validation. Here a small write that finds nothing held is held until the
end of the current event-loop iteration; a write that comes before then goes out together with
it, and the response's end, close(), write_eof() and set_protocol() send it first. Nothing
waits beyond the iteration (100-continue and streaming headers included), nothing is reordered.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Bigger writes are bodies worth no copy: they go out at once, after anything held.
HOLD_MAX_BYTES = 16 * 1024


class CoalescingTransport(asyncio.Transport):
    """A transport proxy that holds one small write until the loop iteration ends or
    another write joins it; every other call goes to the real transport."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held = b""
        self._flush_scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._held:
            held, self._held = self._held, b""
            if len(data) <= HOLD_MAX_BYTES:
                self._transport.write(held + data)
                return
            self._transport.write(held)
            self._transport.write(data)
        elif len(data) <= HOLD_MAX_BYTES:
            self._held = bytes(data)  # a bytearray could change under us before the flush
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self._loop.call_soon(self._flush_at_iteration_end)
        else:
            self._transport.write(data)

    def _flush_at_iteration_end(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def flush(self) -> None:
        held, self._held = self._held, b""
        # A transport already closing (the peer reset it, or it was lost) takes no more
        # bytes, and uvloop raises on a write to a closed one; our own close() flushes first.
        if held and not self._transport.is_closing():
            self._transport.write(held)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = b""  # abort discards whatever is still buffered, ours included
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()  # what was written so far belongs to the old protocol's stream
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a CoalescingTransport.

    Pinned to uvicorn 0.54's HttpToolsProtocol: connection_made() keeps the transport it is
    given as `self.transport` and hands that same object to FlowControl and to every
    RequestResponseCycle, so all of uvicorn's writes and closes pass through the proxy; and
    every finished response calls on_response_complete().
    """

    transport: CoalescingTransport

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))

    def on_response_complete(self) -> None:
        # A finished response with nothing to join (HEAD, 204, 304) goes out now, not after
        # the rest of the request's task (logging, metrics) has run.
        self.transport.flush()
        super().on_response_complete()
