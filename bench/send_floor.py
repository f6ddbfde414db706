#!/usr/bin/env python3
"""The kernel's floor for fan-out on this machine: CPU per small TCP send over loopback.

A push server writes each event to every subscriber's socket: one send() per subscriber per event
(unless several events for the same subscriber are written together). This measures what one
such send costs the sending process, and what receiving it costs the reader, with nothing else
in the way: N loopback connections, the sender writes a 70-byte message to each of them per
round, a second process reads them all with epoll.

Usage: python3 bench/send_floor.py [--connections 1000] [--rounds 200] [--gap-ms 10]
  --gap-ms 10: the sender pauses between rounds (like 1,000 subscribers at a moderate event rate,
               readers asleep when a round starts); --gap-ms 0: back-to-back rounds (max rate).
Prints CPU microseconds per send (sender) and per delivered message (reader), user+system.
"""
import argparse
import os
import resource
import select
import socket
import time

p = argparse.ArgumentParser()
p.add_argument("--connections", type=int, default=1000)
p.add_argument("--rounds", type=int, default=200)
p.add_argument("--gap-ms", type=float, default=10.0)
p.add_argument("--size", type=int, default=70)
a = p.parse_args()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(4096)
port = srv.getsockname()[1]
rpipe, wpipe = os.pipe()

pid = os.fork()
if pid == 0:
    # The reader: every message must arrive (bounded by a 60 s deadline).
    # From 127.0.0.2: an ephemeral port taken on 127.0.0.1 could be a bench server's fixed port,
    # and its TIME_WAIT would keep that server from binding for a minute.
    conns = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
             for _ in range(a.connections)]
    ep = select.epoll()
    by_fd = {}
    for c in conns:
        c.setblocking(False)
        ep.register(c.fileno(), select.EPOLLIN)
        by_fd[c.fileno()] = c
    need = a.connections * a.rounds * a.size
    got = 0
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    deadline = time.time() + 60
    while got < need and time.time() < deadline:
        for fd, _ in ep.poll(1.0):
            try:
                got += len(by_fd[fd].recv(65536))
            except BlockingIOError:
                pass
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    os.write(wpipe, f"{cpu} {got}".encode())
    os._exit(0)

socks = []
for _ in range(a.connections):
    s, _ = srv.accept()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    socks.append(s)
time.sleep(0.5)
msg = b"x" * a.size
r0 = resource.getrusage(resource.RUSAGE_SELF)
for _ in range(a.rounds):
    for s in socks:
        s.send(msg)
    if a.gap_ms > 0:
        time.sleep(a.gap_ms / 1000)
r1 = resource.getrusage(resource.RUSAGE_SELF)
os.waitpid(pid, 0)
reader_cpu, got = os.read(rpipe, 100).decode().split()
sends = a.connections * a.rounds
send_cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(
    f"{a.connections} connections x {a.rounds} rounds, gap {a.gap_ms} ms, {a.size} B: "
    f"sender {send_cpu / sends * 1e6:.2f} us CPU per send "
    f"(-> at most {sends / send_cpu:,.0f} sends per sender-CPU-second), "
    f"reader {float(reader_cpu) / sends * 1e6:.2f} us CPU per message; "
    f"{int(got) // a.size} / {sends} messages arrived; load {os.getloadavg()[0]:.2f}"
)
