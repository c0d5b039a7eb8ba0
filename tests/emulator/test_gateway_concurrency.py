"""The gateway serves many simultaneous connections: 200 connect at once, are answered, and stay usable together."""

from __future__ import annotations

import errno
import http.client
import json
import selectors
import socket
import time

from clarifai_grpc_client.emulator import Emulator

from .conftest import KEY, SC

CONNECTIONS = 200


def _connect_all(port: int, n: int, timeout: float) -> list[socket.socket]:
    """Start ``n`` connects at the same moment; the sockets whose connect completed within ``timeout``."""
    pending: dict[int, socket.socket] = {}
    for _ in range(n):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        rc = sock.connect_ex(("127.0.0.1", port))
        assert rc in (0, errno.EINPROGRESS), rc
        pending[sock.fileno()] = sock
    done: list[socket.socket] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for sock in pending.values():
            selector.register(sock, selectors.EVENT_WRITE)
        while pending and time.monotonic() < deadline:
            for key, _ in selector.select(max(0.0, deadline - time.monotonic())):
                sock = pending.pop(key.fd)
                selector.unregister(sock)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    done.append(sock)
                else:
                    sock.close()
    for sock in pending.values():
        sock.close()
    return done


def _ask(sock: socket.socket) -> int:
    sock.sendall(f"GET /v2/inputs HTTP/1.1\r\nHost: emulator\r\nAuthorization: Key {KEY}\r\n\r\n".encode())
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    body = json.loads(resp.read())
    assert body["status"]["code"] == SC.SUCCESS
    return resp.status


def test_200_simultaneous_connections_are_all_served_and_held(emu: Emulator) -> None:
    socks = _connect_all(emu.http_port, CONNECTIONS, timeout=5.0)
    try:
        assert len(socks) == CONNECTIONS  # none waits in vain for the listen queue
        for sock in socks:
            sock.setblocking(True)
            sock.settimeout(20)
        for sock in socks:  # every request is sent before any answer is read: all are open at once
            sock.sendall(f"GET /v2/inputs HTTP/1.1\r\nHost: emulator\r\nAuthorization: Key {KEY}\r\n\r\n".encode())
        statuses = []
        for sock in socks:
            resp = http.client.HTTPResponse(sock)
            resp.begin()
            resp.read()
            statuses.append(resp.status)
        assert statuses == [200] * CONNECTIONS
        assert [_ask(sock) for sock in socks] == [200] * CONNECTIONS  # each connection is still alive
    finally:
        for sock in socks:
            sock.close()
