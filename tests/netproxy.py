"""A TCP proxy for network-fault tests and the soak: forward, count, cut, freeze.

`freeze()` makes every connection half-open: sockets stay open but nothing is forwarded, as
when a peer or a NAT box vanishes without a FIN or RST. `thaw()` drops the frozen
connections (they are dead) and forwards new ones again. `cut()` closes every connection at
once (an RST), keeping the listening socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self._listener = socket.create_server((host, 0))
        self.port = self._listener.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self.bytes_up = 0  # client → server
        self.bytes_down = 0  # server → client
        self.connections = 0
        self._frozen = False
        self._closed = False
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="proxy-accept")
        self._thread.start()

    # -- control ---------------------------------------------------------------------------

    def freeze(self) -> None:
        """Stop forwarding; connections stay open (half-open as seen from both ends)."""
        self._frozen = True

    def thaw(self) -> None:
        """Drop the connections that were frozen, then forward new ones."""
        self.cut()
        self._frozen = False

    def cut(self) -> None:
        """Close every open connection now."""
        with self._lock:
            socks, self._socks = self._socks, set()
        for s in socks:
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                s.close()

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()

    # -- forwarding --------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        with self._lock:
            self._socks.add(client)
        while self._frozen and not self._closed:  # a new connection into the void
            time.sleep(0.05)
            with self._lock:
                if client not in self._socks:
                    return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            with contextlib.suppress(OSError):
                client.close()
            return
        with self._lock:
            self._socks.add(upstream)
        threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
        self._pump(upstream, client, False)

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        src.settimeout(0.1)
        try:
            while True:
                if self._frozen:
                    time.sleep(0.05)
                    with self._lock:
                        if src not in self._socks:
                            return
                    continue
                try:
                    data = src.recv(1 << 16)
                except TimeoutError:
                    continue
                if not data:
                    break
                if self._frozen:  # arrived as the path died: lost in the void
                    continue
                dst.sendall(data)
                if up:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            if not up:  # the second pump of a pair closes both sockets
                time.sleep(0.2)
                with self._lock:
                    self._socks.discard(src)
                    self._socks.discard(dst)
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.close()
