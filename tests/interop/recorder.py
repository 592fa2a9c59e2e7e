"""A loopback HTTP endpoint that records raw requests (to compare what two clients send).

Each request is answered ``404 {"message": "recorded"}`` with ``Connection: close``, which every
bittensor-10 client maps to a plain failure status, so a client's whole request can be captured
without a real axon behind it.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

_ANSWER_BODY = b'{"message": "recorded"}'
_ANSWER = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
    + b"content-length: "
    + str(len(_ANSWER_BODY)).encode()
    + b"\r\nconnection: close\r\n\r\n"
    + _ANSWER_BODY
)
_MAX_REQUEST_BYTES = 1 << 20
_SOCKET_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived: request line, ordered (name, value) headers, body bytes."""

    request_line: str
    headers: list[tuple[str, str]]
    body: bytes


def _read_request(connection: socket.socket) -> RecordedRequest:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("client closed before the end of the headers")
        data += chunk
        if len(data) > _MAX_REQUEST_BYTES:
            raise ValueError("request headers too large")
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    if length > _MAX_REQUEST_BYTES:
        raise ValueError("request body too large")
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("client closed before the end of the body")
        body += chunk
    return RecordedRequest(lines[0], [(k, v) for k, v in headers], body[:length])


class RequestRecorder:
    """Listens on 127.0.0.1 (free port) in a thread; ``requests`` lists what arrived, in order."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(_SOCKET_TIMEOUT_S)
                try:
                    self.requests.append(_read_request(connection))
                    connection.sendall(_ANSWER)
                except (OSError, ValueError) as exc:
                    self.errors.append(repr(exc))

    def close(self) -> None:
        """Stop listening and wait for the thread."""
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RequestRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
