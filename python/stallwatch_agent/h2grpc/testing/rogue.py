"""A raw HTTP/2 server for one connection, scripted by the test: it says what real servers
would not. Loopback, kernel-chosen port, every socket operation under a timeout."""

import socket
import struct
import threading
import time
from typing import Callable, List, Optional

from .. import frames as fr
from .. import hpack

Script = Callable[["RogueConnection"], None]


class RogueConnection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = fr.FrameReader(1 << 24)
        self.received: List[fr.Frame] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def frame(self, type_: int, flags: int, stream_id: int, payload: bytes = b"") -> None:
        self.send(fr.pack(type_, flags, stream_id, payload))

    def next_frame(self, timeout_s: float = 5.0) -> Optional[fr.Frame]:
        """The client's next frame, or None at EOF."""
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self.reader.next_frame()
            if frame is not None:
                self.received.append(frame)
                return frame
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            data = self.sock.recv(65536)
            if not data:
                return None
            self.reader.feed(data)

    def handshake(self, *settings: "tuple[int, int]") -> None:
        """Read the client preface and its HEADERS; send our SETTINGS."""
        self.sock.settimeout(5.0)
        preface = b""
        while len(preface) < len(fr.PREFACE):
            chunk = self.sock.recv(len(fr.PREFACE) - len(preface))
            assert chunk, "client closed before its preface"
            preface += chunk
        assert preface == fr.PREFACE
        self.frame(fr.SETTINGS, 0, 0, fr.settings_payload(*settings))
        while True:
            frame = self.next_frame()
            assert frame is not None
            if frame.type == fr.HEADERS:
                return

    def response_headers(self, end_stream: bool = False, extra: bytes = b"") -> None:
        block = hpack.encode([(":status", "200"), ("content-type", "application/grpc")]) + extra
        self.frame(fr.HEADERS, fr.END_HEADERS | (fr.END_STREAM if end_stream else 0), 1, block)

    def trailers(self, status: int, message: str = "") -> None:
        block = hpack.encode([("grpc-status", str(status)), ("grpc-message", message)])
        self.frame(fr.HEADERS, fr.END_HEADERS | fr.END_STREAM, 1, block)

    def message(self, payload: bytes, flags: int = 0) -> None:
        self.frame(fr.DATA, flags, 1, struct.pack(">BI", 0, len(payload)) + payload)

    def drain(self, timeout_s: float = 5.0) -> None:
        """Read the client's frames until it closes (or timeout_s), keeping them."""
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self.next_frame(deadline - time.monotonic()) is None:
                    return
        except (OSError, fr.H2Error):
            return


class RogueServer:
    """Accepts one connection on 127.0.0.1:0 and runs the script on it in a thread."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(10.0)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.connection: Optional[RogueConnection] = None
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._serve, name="rogue-h2-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except OSError as e:
            self.error = e
            return
        with sock:
            self.connection = RogueConnection(sock)
            try:
                self._script(self.connection)
            except (OSError, AssertionError) as e:
                self.error = e

    def close(self, timeout_s: float = 10.0) -> None:
        self._listener.close()
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "rogue server script did not finish"

    def frames_of_type(self, type_: int) -> List[fr.Frame]:
        assert self.connection is not None
        return [f for f in self.connection.received if f.type == type_]

    def __enter__(self) -> "RogueServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
