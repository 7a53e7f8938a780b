"""Parts that go away on purpose: a TCP proxy in front of PostgreSQL that can turn into a
black hole (connections accepted, never answered, as when a database host drops off the
network), and an SQLite file held under an exclusive lock."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    """127.0.0.1:<port> forwarding to `upstream` while up. `down()` cuts every open
    connection and holds new ones silent until `up()`."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        self._up = True
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url_for(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by this proxy's."""
        parts = urlsplit(database_url)
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{self.port}"))

    def down(self) -> None:
        with self._lock:
            self._up = False
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def up(self) -> None:
        with self._lock:
            self._up = True
            for sock in self._held:
                _close(sock)
            self._held.clear()

    def close(self) -> None:
        self._closed = True
        self.down()
        self.up()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if not self._up:
                    self._held.append(client)  # accepted, never answered
                    continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class SqliteLock:
    """Hold an SQLite database under an exclusive write lock (another process's long
    transaction): writers wait for their busy timeout, then fail."""

    def __init__(self, database_url: str):
        self.path = database_url.split("///", 1)[-1]
        self._conn: sqlite3.Connection | None = None

    def down(self) -> None:
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._conn.execute("BEGIN EXCLUSIVE")

    def up(self) -> None:
        if self._conn is not None:
            self._conn.execute("ROLLBACK")
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self.up()
