"""The network around a webhook delivery, for tests: a DNS that gives the answers a test sets, a record
of every TCP connect to the ports a test watches, and raw endpoints on 127.0.0.1."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading


class FakeNetwork:
    """`answer(name, [...], [...])` makes `socket.getaddrinfo(name)` return the first list, then the
    next one (the last repeats); other names resolve as usual. Connects to a watched port are recorded
    in `connects`; to anything but 127.0.0.1 they fail at once (there is no network here)."""

    def __init__(self, monkeypatch) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []
        self.ports: set[int] = set()
        real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
        network = self

        def getaddrinfo(host, port, *args, **kwargs):
            key = host.decode() if isinstance(host, bytes) else host
            if key not in network.answers:
                return real_getaddrinfo(host, port, *args, **kwargs)
            network.lookups.append(key)
            answers = network.answers[key]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            port = int(port or 0)
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in addresses
            ]

        def connect(sock, address):
            if isinstance(address, tuple) and address[1] in network.ports:
                network.connects.append((address[0], address[1]))
                if address[0] != "127.0.0.1":
                    raise ConnectionRefusedError(f"no route to {address[0]} in tests")
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)

    def answer(self, name: str, *answers: list[str]) -> None:
        for addresses in answers:
            for address in addresses:
                ipaddress.ip_address(address)
        self.answers[name] = [list(addresses) for addresses in answers]

    def watch(self, port: int) -> int:
        self.ports.add(port)
        return port


class _Endpoint:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()
        self.thread.join(timeout=10)


class CountingListener(_Endpoint):
    """A TCP port on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.accepted = 0
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        self.accepted += 1


class HugeAnswerEndpoint(_Endpoint):
    """Answers any request with 200 and a body of `body_bytes` (64 MB), counting what it managed to
    send before the client went away."""

    def __init__(self, body_bytes: int = 64 * 1024 * 1024) -> None:
        self.body_bytes = body_bytes
        self.sent = 0
        self.requests = 0
        self.done = threading.Event()
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % self.body_bytes)
            chunk = b"x" * 65536
            while self.sent < self.body_bytes:
                conn.sendall(chunk)
                self.sent += len(chunk)
        except OSError:
            pass
        finally:
            self.done.set()
