"""The fault proxy against a real echo server and a real HTTP server, all on loopback."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from netfault import FaultProxy, http_messages

KB64 = 64 * 1024
GUARD = 10.0  # only guards against a hang; nothing here is a speed check


def eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + GUARD
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        received = 0
        try:
            while data := self.request.recv(65536):
                received += len(data)
                self.request.sendall(data)
        except OSError as error:
            self.server.errors.append(error)  # type: ignore[attr-defined]
        finally:
            self.server.received.append(received)  # type: ignore[attr-defined]


class EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), EchoHandler)
        self.received: list[int] = []
        self.errors: list[OSError] = []


class ByteHandler(BaseHTTPRequestHandler):
    """GET /bytes/<n> answers n bytes; POST answers how many body bytes arrived."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        self._answer(b"x" * int(self.path.rsplit("/", 1)[-1]))

    def do_POST(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(str(len(body)).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ByteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ByteHandler)
        self.hits = 0

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the proxy resets connections on purpose


def serving(server: socketserver.BaseServer) -> Iterator[socketserver.BaseServer]:
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    yield from serving(EchoServer())  # type: ignore[misc]


@pytest.fixture
def web() -> Iterator[ByteServer]:
    yield from serving(ByteServer())  # type: ignore[misc]


@pytest.fixture
def echo_proxy(echo: EchoServer) -> Iterator[FaultProxy]:
    with FaultProxy(echo.server_address[1]) as proxy:
        yield proxy


@pytest.fixture
def web_proxy(web: ByteServer) -> Iterator[FaultProxy]:
    with FaultProxy(web.server_address[1]) as proxy:
        yield proxy


def echo_round(proxy: FaultProxy, payload: bytes) -> bytes:
    with socket.create_connection(proxy.address, timeout=GUARD) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        return read_to_end(sock)


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    return b"".join(chunks)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.20", "localhost", "example.org", "0.0.0.0"])
def test_forwards_only_to_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(8080, host)


def test_echo_passes_through_and_is_counted(echo_proxy: FaultProxy) -> None:
    payload = bytes(range(256)) * 80

    assert echo_round(echo_proxy, payload) == payload
    assert (echo_proxy.bytes_up, echo_proxy.bytes_down, echo_proxy.connections) == (len(payload), len(payload), 1)


def test_http_passes_through(web: ByteServer, web_proxy: FaultProxy) -> None:
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        got = client.get("/bytes/5000")
        sent = client.post("/upload", content=b"y" * 3000)

    assert got.content == b"x" * 5000 and sent.text == "3000"
    assert web_proxy.bytes_down > 5000 and web_proxy.bytes_up > 3000
    assert web_proxy.connections == 1 and web.hits == 2
    assert web_proxy.url == f"http://127.0.0.1:{web_proxy.port}"


def test_cut_up_forwards_exactly_n_bytes_then_resets_both_sides(echo: EchoServer, echo_proxy: FaultProxy) -> None:
    echo_proxy.cut_after(1000, "up")

    with pytest.raises(OSError) as failure:  # reset, or not connected any more, by the time it writes
        echo_round(echo_proxy, b"z" * 20_000)
    assert not isinstance(failure.value, TimeoutError)

    assert eventually(lambda: len(echo.received) == 1)
    assert echo_proxy.bytes_up == 1000 and echo.received == [1000]
    assert isinstance(echo.errors[0], ConnectionResetError)  # the target was reset too, not closed
    assert echo_round(echo_proxy, b"again") == b"again"  # one-shot


def test_cut_up_fails_an_upload_and_the_next_one_passes(web: ByteServer, web_proxy: FaultProxy) -> None:
    web_proxy.cut_after(1000, "up")

    with pytest.raises(httpx.TransportError):
        httpx.post(web_proxy.url + "/upload", content=b"y" * KB64, timeout=GUARD)
    assert web_proxy.bytes_up == 1000

    assert httpx.post(web_proxy.url + "/upload", content=b"y" * KB64, timeout=GUARD).text == str(KB64)


def test_cut_down_counts_from_when_it_is_set_and_can_repeat(web_proxy: FaultProxy) -> None:
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        client.get("/bytes/3000")
        before = web_proxy.bytes_down
        web_proxy.cut_after(100, "down", repeat=True)
        with pytest.raises(httpx.TransportError):
            client.get("/bytes/3000")  # on the same kept-alive connection
        assert web_proxy.bytes_down == before + 100
        with pytest.raises(httpx.TransportError):
            client.get("/bytes/3000")
        assert web_proxy.bytes_down == before + 200
        web_proxy.clear()
        assert client.get("/bytes/3000").content == b"x" * 3000


@pytest.mark.parametrize("direction", ["up", "down"])
def test_bandwidth_slows_a_64_kb_transfer(web_proxy: FaultProxy, direction: str) -> None:
    bits_per_second = 1_000_000
    web_proxy.bandwidth(bits_per_second)

    started = time.monotonic()
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        if direction == "up":
            assert client.post("/upload", content=b"y" * KB64).text == str(KB64)
        else:
            assert len(client.get(f"/bytes/{KB64}").content) == KB64
    elapsed = time.monotonic() - started

    theory = KB64 * 8 / bits_per_second
    assert elapsed > 0.5 * theory  # a lower bound only: the limit can make it slower, never faster


def test_bandwidth_can_be_lifted_during_a_transfer(web_proxy: FaultProxy) -> None:
    web_proxy.bandwidth(8000)  # 1000 bytes/s: 64 KB would take a minute
    result: list[bytes] = []
    download = threading.Thread(target=lambda: result.append(httpx.get(web_proxy.url + f"/bytes/{KB64}").content))
    download.start()

    assert eventually(lambda: web_proxy.bytes_down > 0)
    web_proxy.bandwidth(None)
    download.join(GUARD)

    assert result == [b"x" * KB64]


def test_delay_holds_every_chunk(echo_proxy: FaultProxy) -> None:
    echo_proxy.delay(0.1)

    started = time.monotonic()
    assert echo_round(echo_proxy, b"ping") == b"ping"

    assert time.monotonic() - started >= 0.2  # one chunk up and one down, each held 0.1 s


def test_reset_next_resets_one_connection(web: ByteServer, web_proxy: FaultProxy) -> None:
    web_proxy.reset_next()

    # the reset shows on connect if it comes back first, else on reading
    with pytest.raises(ConnectionResetError), socket.create_connection(web_proxy.address, timeout=GUARD) as sock:
        sock.recv(1)
    web_proxy.reset_next()
    with pytest.raises(httpx.TransportError):
        httpx.get(web_proxy.url + "/bytes/10", timeout=GUARD)

    assert httpx.get(web_proxy.url + "/bytes/10", timeout=GUARD).content == b"x" * 10
    assert web_proxy.connections == 3 and web.hits == 1


def test_blackhole_swallows_new_connections(web: ByteServer, web_proxy: FaultProxy) -> None:
    web_proxy.blackhole(True)

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(web_proxy.url + "/bytes/10", timeout=0.3)
    web_proxy.blackhole(False)

    assert httpx.get(web_proxy.url + "/bytes/10", timeout=GUARD).content == b"x" * 10
    assert web_proxy.connections == 2 and web.hits == 1  # the swallowed request never arrived


def test_blackhole_stalls_an_open_connection_until_lifted(web: ByteServer, web_proxy: FaultProxy) -> None:
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        client.get("/bytes/10")
        web_proxy.blackhole(True)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/bytes/10", timeout=0.3)
        assert web_proxy.connections == 1 and web.hits == 1

    web_proxy.blackhole(False)
    assert eventually(lambda: web.hits == 2)  # the held request is delivered late, as after a link outage


def test_refuse_then_accept_again_on_the_same_port(web_proxy: FaultProxy) -> None:
    url = web_proxy.url
    web_proxy.refuse(True)

    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/bytes/10", timeout=GUARD)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(web_proxy.address, timeout=GUARD)
    web_proxy.refuse(False)

    assert web_proxy.url == url
    assert httpx.get(url + "/bytes/10", timeout=GUARD).content == b"x" * 10


def test_clear_removes_every_fault(web_proxy: FaultProxy) -> None:
    web_proxy.delay(5)
    web_proxy.bandwidth(8)
    web_proxy.cut_after(0, "down", repeat=True)
    web_proxy.reset_next()
    web_proxy.blackhole(True)
    web_proxy.refuse(True)

    web_proxy.clear()

    assert httpx.get(web_proxy.url + f"/bytes/{KB64}", timeout=GUARD).content == b"x" * KB64


def test_target_down_resets_the_client() -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    with FaultProxy(closed_port) as proxy, pytest.raises(httpx.TransportError):
        httpx.get(proxy.url, timeout=GUARD)


def test_stop_closes_the_port(echo: EchoServer) -> None:
    with FaultProxy(echo.server_address[1]) as proxy:
        assert echo_round(proxy, b"hello") == b"hello"

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=GUARD)


def test_forwards_to_ipv6_loopback() -> None:
    try:
        server = EchoServer("::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    for _ in serving(server):
        with FaultProxy(server.server_address[1], "::1") as proxy:
            assert echo_round(proxy, b"over ::1") == b"over ::1"


def test_capture_records_each_connection_both_ways_and_splits_into_messages(web: ByteServer,
                                                                            web_proxy: FaultProxy) -> None:
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        client.get("/bytes/10")  # before capturing: not recorded
    web_proxy.capture()
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        client.get("/bytes/300")
        client.post("/upload", content=b"y" * 700)

    [up], [down] = web_proxy.captured("up"), web_proxy.captured("down")
    requests, answers = http_messages(up), http_messages(down)
    assert [request.split(b" ", 2)[:2] for request in requests] == [[b"GET", b"/bytes/300"], [b"POST", b"/upload"]]
    assert requests[1].endswith(b"y" * 700)
    assert answers[0].endswith(b"x" * 300) and answers[1].endswith(b"\r\n\r\n700")
    assert http_messages(down[:-1], complete_only=True) == answers[:1]


def test_a_captured_request_sent_raw_reaches_the_target_again(web: ByteServer, web_proxy: FaultProxy) -> None:
    web_proxy.capture()
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        client.post("/upload", content=b"z" * 1234)
    [request] = http_messages(web_proxy.captured("up")[0])

    answer = web_proxy.send_raw(request)

    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"1234") and web.hits == 2


def test_answer_next_with_hands_the_next_connection_an_old_answer(web: ByteServer, web_proxy: FaultProxy) -> None:
    web_proxy.capture()
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        client.get("/bytes/5")
    old = http_messages(web_proxy.captured("down")[0])[0]
    web_proxy.answer_next_with(old)
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:
        replayed = client.get("/bytes/50")
    with httpx.Client(base_url=web_proxy.url, timeout=GUARD) as client:  # the canned answer closed its connection
        honest = client.get("/bytes/60")

    assert replayed.content == b"x" * 5, "the target answered 50 bytes; the client got the old answer"
    assert honest.content == b"x" * 60 and web.hits == 3
