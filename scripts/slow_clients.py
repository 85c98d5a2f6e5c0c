#!/usr/bin/env python3
"""Holds slow clients against a running hookbus and prints how many are still open over time:
200 connections that send headers and one byte of a 100 KB body, and 3000 that send nothing.

    hookbus serve --config hookbus.toml      # a source `gh`; server.listen = "127.0.0.1:18931"
    python3 scripts/slow_clients.py [HOST:PORT]

With the default [server] limits (header_timeout_secs = 10, body_timeout_secs = 15) every connection
is closed within about 15 s of opening. Loopback only; bounded to 20 s.
"""
import socket, sys, time
host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:18931").partition(":")
ADDR = (host, int(port))
assert host in ("127.0.0.1", "localhost", "::1"), "loopback only"
slow, idle = [], []
for _ in range(200):
    s = socket.create_connection(ADDR); s.sendall(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"); slow.append(s)
refused = 0
for _ in range(3000):
    try:
        idle.append(socket.create_connection(ADDR))
    except OSError:
        refused += 1
start = time.time()
def still_open(socks):
    n = 0
    for s in socks:
        # A closed connection reads EOF (or a reset); an open one has nothing to read yet. A 408
        # answer is followed by the close, so it counts as closed once read.
        try:
            data = s.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            if data and not data.startswith(b"HTTP/1.1 408"):
                n += 1
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n
for t in (1, 5, 9, 12, 17, 20):
    time.sleep(max(0, start + t - time.time()))
    print(f"t={t:>2}s slow bodies open: {still_open(slow):>4}/200  idle open: {still_open(idle):>4}/{len(idle)} (connect refused: {refused})", flush=True)
