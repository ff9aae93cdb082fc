"""A TCP proxy for fault tests: every connection to 127.0.0.1:<port> is relayed to an upstream address, and
the tests break it in the ways real networks and servers do (subclasses decide: drop a reply, cut every
connection, refuse new ones)."""
from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def refuse(self) -> bool:
        """True: close a new connection at once (the server is unreachable)."""
        return False

    def forward(self, data: bytes, reply: bool) -> bool:
        """False: stop relaying on this connection (and close it) instead of passing `data` on; `reply` is
        True for data coming back from the upstream."""
        return True

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refuse():
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.conns += [client, server]
            threading.Thread(target=self.pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self.pump, args=(server, client, True), daemon=True).start()

    def pump(self, src, dst, reply: bool):
        try:
            while data := src.recv(65536):
                if not self.forward(data, reply):
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> int:
        """Close every connection open now; returns how many there were."""
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        return len(conns) // 2

    def close(self):
        self.listener.close()
        self.cut()
