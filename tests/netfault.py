"""A loopback TCP proxy that makes network faults for the sync tests and benchmarks.

Imported as `netfault`: pytest puts tests/ on the path through tests/conftest.py (as it does for
`core_support`); a benchmark adds the folder itself::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from netfault import FaultProxy

    with FaultProxy(server_port) as proxy:
        proxy.bandwidth(256_000)        # 256 kbit/s each way
        proxy.cut_after(100_000, "up")  # reset once 100,000 more bytes went up on a connection
        httpx.post(proxy.url + "/upload", content=package)

To capture and replay traffic, as an eavesdropper on the wire would::

    proxy.capture()                       # record every byte forwarded, per connection
    requests = http_messages(proxy.captured("up")[0])
    answer = proxy.send_raw(requests[0])  # the same bytes again, on a new connection
    proxy.answer_next_with(old_answer)    # the next connection gets this instead of the target's answer

It listens on 127.0.0.1 on a free port and forwards every connection to one target on loopback.
Faults can be changed at any time from any thread; they act on the next chunk of every connection.
The proxy runs an asyncio loop in a daemon thread and uses nothing outside the standard library.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, Self

LOOPBACK = frozenset({"127.0.0.1", "::1"})
LISTEN_HOST = "127.0.0.1"
CHUNK = 64 * 1024
POLL = 0.02  # how often a held stream or an empty bucket looks at the faults again
FLUSH_GUARD = 1.0  # a cut waits at most this long for the bytes before it to reach the kernel
CALL_TIMEOUT = 10.0
DIRECTIONS = ("up", "down")

Direction = Literal["up", "down"]


@dataclass(frozen=True, eq=False)
class _Cut:
    """Reset a connection once `limit` bytes went one way after the fault was set."""

    limit: int
    repeat: bool


class _Bucket:
    """A token bucket for one direction, shared by all connections; no rate means no limit."""

    def __init__(self) -> None:
        self.rate: float | None = None  # bytes per second
        self._tokens = 0.0
        self._stamp = time.monotonic()

    def set_bits_per_second(self, bits: float | None) -> None:
        self.rate = None if bits is None else bits / 8

    def pieces(self, data: bytes) -> list[bytes]:
        """`data` in pieces no bigger than the bucket, so a big chunk cannot pass as one burst."""
        rate = self.rate
        if rate is None:
            return [data]
        size = _capacity(rate)
        return [data[i : i + size] for i in range(0, len(data), size)]

    async def take(self, count: int) -> None:
        """Wait until `count` bytes may go; a rate changed meanwhile applies within POLL seconds."""
        while (rate := self.rate) is not None:
            now = time.monotonic()
            capacity = _capacity(rate)
            self._tokens = min(capacity, self._tokens + (now - self._stamp) * rate)
            self._stamp = now
            if self._tokens >= min(count, capacity):
                self._tokens -= count  # may go negative: the next taker pays the debt
                return
            await asyncio.sleep(min(POLL, (min(count, capacity) - self._tokens) / rate))


def _capacity(rate: float) -> int:
    """Bucket size in bytes: 20 ms of traffic, at least 256 bytes."""
    return max(256, int(rate / 50))


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream, with the bytes each direction carried."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    carried: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    cut_marks: dict[str, tuple[_Cut, int]] = field(default_factory=dict)
    dead: bool = False
    recorded: dict[str, bytearray] | None = None  # what went each way, while capturing
    canned: bytes | None = None  # handed to the client instead of the target's answer

    def reset(self) -> None:
        self.dead = True
        _reset(self.client)
        _reset(self.upstream)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close abruptly: SO_LINGER 0 makes the close send a RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class FaultProxy:
    """A TCP proxy from 127.0.0.1:<free port> to a loopback target, with switchable faults.

    Counters: `bytes_up` (client to target) and `bytes_down` (target to client) count bytes
    forwarded; `connections` counts accepted connections, reset and swallowed ones included.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        if target_host not in LOOPBACK:
            raise ValueError(f"FaultProxy forwards only to loopback (127.0.0.1 or ::1), not {target_host!r}")
        self.target = (target_host, target_port)
        self.port = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self._delay = 0.0
        self._buckets = {direction: _Bucket() for direction in DIRECTIONS}
        self._cuts: dict[str, _Cut | None] = {direction: None for direction in DIRECTIONS}
        self._resets = 0
        self._blackhole = False
        self._capturing = False
        self._captures: list[dict[str, bytearray]] = []
        self._canned: list[bytes] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Start listening; `port` and `url` are valid from here on."""
        if self._loop is not None:
            raise RuntimeError("FaultProxy already started")
        self._closing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="netfault", daemon=True)
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        """Stop listening, drop every connection and end the proxy's thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._closing = True
        try:
            self._call(self._shutdown())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CALL_TIMEOUT)
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return (LISTEN_HOST, self.port)

    @property
    def url(self) -> str:
        return f"http://{LISTEN_HOST}:{self.port}"

    # -- faults ---------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        """Hold every chunk this long before forwarding it, both ways (0 for none)."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self._delay = float(seconds)

    def bandwidth(self, bits_per_second: float | None) -> None:
        """Limit each direction to this many bits per second, shared by all connections (None: no limit)."""
        if bits_per_second is not None and bits_per_second <= 0:
            raise ValueError("bandwidth must be > 0 bits per second, or None")
        for bucket in self._buckets.values():
            bucket.set_bits_per_second(bits_per_second)

    def cut_after(self, n_bytes: int, direction: Direction = "up", repeat: bool = False) -> None:
        """Reset a connection (both sides) once `n_bytes` went `direction` on it from now on.

        Exactly `n_bytes` are forwarded, then the client and the target both get a RST. One-shot:
        the first connection to reach the limit uses the fault up, unless `repeat` keeps it for all.
        """
        if n_bytes < 0:
            raise ValueError("n_bytes must be >= 0")
        with self._lock:
            self._cuts[_checked(direction)] = _Cut(n_bytes, repeat)

    def reset_next(self) -> None:
        """Accept the next connection and reset it at once (SO_LINGER 0); each call resets one more."""
        with self._lock:
            self._resets += 1

    def blackhole(self, on: bool = True) -> None:
        """A dead link: new connections are accepted and swallowed (never forwarded, never answered,
        even after the fault is lifted); open connections stall, nothing goes either way until it is
        lifted, then what they held is delivered, as TCP would after the link came back."""
        self._blackhole = on

    def refuse(self, on: bool = True) -> None:
        """Close the listening socket so connections are refused; reopen on the same port when off."""
        self._call(self._close_listener() if on else self._listen())

    # -- capture and replay -------------------------------------------------------------

    def capture(self, on: bool = True) -> None:
        """Record every byte forwarded on connections accepted from now on (both ways, per connection)."""
        self._capturing = on

    def captured(self, direction: Direction) -> list[bytes]:
        """What each captured connection carried `direction`, one bytes per connection, in accept order."""
        with self._lock:
            return [bytes(streams[_checked(direction)]) for streams in self._captures]

    def answer_next_with(self, response: bytes) -> None:
        """The next connection's request goes to the target as usual, but when the target answers the client
        gets `response` instead and the connection closes: an old answer replayed to a new request."""
        with self._lock:
            self._canned.append(response)

    def send_raw(self, data: bytes, timeout: float = CALL_TIMEOUT) -> bytes:
        """Send `data` (a captured request) on a new connection through the proxy; the one HTTP answer read back."""
        with socket.create_connection(self.address, timeout=timeout) as sock:
            sock.sendall(data)
            received = b""
            while not (answers := http_messages(received, complete_only=True)):
                chunk = sock.recv(CHUNK)
                if not chunk:
                    break
                received += chunk
        return answers[0] if answers else received

    def clear(self) -> None:
        """Remove every fault (and listen again if refusing)."""
        self.delay(0)
        self.bandwidth(None)
        with self._lock:
            self._cuts = {direction: None for direction in DIRECTIONS}
            self._resets = 0
        self.blackhole(False)
        self.refuse(False)

    # -- the loop thread ------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._loop is None:
            coro.close()
            raise RuntimeError("FaultProxy is not running")
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._handle, LISTEN_HOST, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()  # the listening socket closes now; open connections are left alone

    async def _shutdown(self) -> None:
        await self._close_listener()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            pass  # stopped; ending quietly spares 3.11's stream callback a logged CancelledError
        finally:
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._take_reset():
            _reset(writer)
            return
        if self._blackhole:
            await _swallow(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)  # the target refused: the client sees its connection reset
            return
        link = _Link(client=writer, upstream=up_writer)
        with self._lock:
            if self._capturing:
                link.recorded = {direction: bytearray() for direction in DIRECTIONS}
                self._captures.append(link.recorded)
            if self._canned:
                link.canned = self._canned.pop(0)
        try:
            await asyncio.gather(self._pump(link, "up", reader, up_writer), self._pump(link, "down", up_reader, writer))
        finally:
            for side in (writer, up_writer):
                if not side.transport.is_closing():
                    side.close()

    def _take_reset(self) -> bool:
        with self._lock:
            if self._resets <= 0:
                return False
            self._resets -= 1
            return True

    async def _pump(
        self, link: _Link, direction: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Forward one direction chunk by chunk, applying the faults; a reset on one side resets both."""
        try:
            while not link.dead:
                data = await reader.read(CHUNK)
                if not data:
                    if writer.can_write_eof() and not writer.transport.is_closing():
                        writer.write_eof()
                    return
                await self._hold_while_blackholed()
                if direction == "down" and link.canned is not None:
                    await self._answer_canned(link, writer)
                    return
                if self._delay:
                    await asyncio.sleep(self._delay)
                data, cut = self._apply_cut(link, direction, data)
                await self._send(link, direction, data, writer)
                if cut:
                    await _flushed(writer)
                    link.reset()
        except OSError:  # ConnectionResetError, BrokenPipeError and the like from either side
            link.reset()

    async def _answer_canned(self, link: _Link, writer: asyncio.StreamWriter) -> None:
        """The target began to answer: hand the client the canned answer instead, then close both sides."""
        canned, link.canned = link.canned or b"", None
        await self._send(link, "down", canned, writer)
        await _flushed(writer)
        link.dead = True
        _reset(link.upstream)
        writer.close()

    async def _hold_while_blackholed(self) -> None:
        while self._blackhole and not self._closing:
            await asyncio.sleep(POLL)

    def _apply_cut(self, link: _Link, direction: str, data: bytes) -> tuple[bytes, bool]:
        """The part of `data` to forward, and whether the connection is cut after it."""
        with self._lock:
            fault = self._cuts[direction]
            if fault is None:
                return data, False
            mark = link.cut_marks.get(direction)
            if mark is None or mark[0] is not fault:  # count from when this fault was set
                mark = link.cut_marks[direction] = (fault, link.carried[direction])
            left = fault.limit - (link.carried[direction] - mark[1])
            if len(data) < left:
                return data, False
            if not fault.repeat:
                self._cuts[direction] = None
            return data[:left], True

    async def _send(self, link: _Link, direction: str, data: bytes, writer: asyncio.StreamWriter) -> None:
        bucket = self._buckets[direction]
        for piece in bucket.pieces(data):
            await bucket.take(len(piece))
            if link.dead:
                return
            link.carried[direction] += len(piece)
            if link.recorded is not None:
                link.recorded[direction] += piece
            if direction == "up":  # counted first: whoever has read the bytes sees them counted
                self.bytes_up += len(piece)
            else:
                self.bytes_down += len(piece)
            writer.write(piece)
            await writer.drain()


def _checked(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    return direction


async def _swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read and drop everything until the client gives up; never answer."""
    try:
        while await reader.read(CHUNK):
            pass
    except OSError:
        pass
    finally:
        writer.close()


async def _flushed(writer: asyncio.StreamWriter) -> None:
    """Wait until what was written has left asyncio's buffer for the kernel (bounded)."""
    deadline = time.monotonic() + FLUSH_GUARD
    while writer.transport.get_write_buffer_size() and time.monotonic() < deadline:
        await asyncio.sleep(0.002)


def http_messages(data: bytes, *, complete_only: bool = False) -> list[bytes]:
    """Split a captured stream into its HTTP/1.1 messages (each head and Content-Length body).

    A trailing partial message is returned as it is, unless `complete_only`. Chunked bodies are
    not read (the services here always send a length).
    """
    messages: list[bytes] = []
    at = 0
    while at < len(data):
        head_end = data.find(b"\r\n\r\n", at)
        if head_end < 0:
            break
        length = 0
        for line in data[at:head_end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        end = head_end + 4 + length
        if end > len(data):
            break
        messages.append(data[at:end])
        at = end
    if at < len(data) and not complete_only:
        messages.append(data[at:])
    return messages
