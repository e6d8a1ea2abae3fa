#!/usr/bin/env python3
"""smtp_counter.py - a plain SMTP server for the scan tests that counts, on the
server's side, how the client connects: connections, most at a time, and when
each was accepted.

    smtp_counter.py ADDR PORT MODE STATEFILE

MODE  hold=SECONDS   greet with 220 after SECONDS, then a minimal dialogue
                     (EHLO: 250 without STARTTLS; QUIT: 221)
      busy=K         the first K connections get "421 4.7.0 busy" and are closed;
                     the others as hold=0
Writes STATEFILE.ready once listening; on SIGTERM writes STATEFILE (JSON:
connections, peak, accepts = seconds since start of each accept) and exits.
Every connection is bounded (10 s), the server by its caller's SIGTERM and a
300 s cap of its own.
"""
import json
import signal
import socket
import sys
import threading
import time

addr, port, mode, state = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
kind, _, arg = mode.partition("=")
lock = threading.Lock()
t0 = time.monotonic()
stats = {"connections": 0, "peak": 0, "accepts": []}
active = [0]


def dialogue(conn, n):
    """the session counts as over before its last reply is sent: the client
    may connect again as soon as it has that reply"""
    ended = [False]

    def end():
        if not ended[0]:
            ended[0] = True
            with lock:
                active[0] -= 1

    conn.settimeout(10)
    try:
        if kind == "busy" and n <= int(arg):
            end()
            conn.sendall(b"421 4.7.0 busy, try again later\r\n")
            return
        if kind == "hold":
            time.sleep(float(arg))
        conn.sendall(b"220 counter.test ESMTP\r\n")
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 counter.test\r\n")
                elif verb == b"QUIT":
                    end()
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 5.5.2 no\r\n")
    except OSError:
        pass
    finally:
        end()
        conn.close()


def finish(*_):
    with lock:
        with open(state, "w") as f:
            json.dump(stats, f)
    sys.exit(0)


signal.signal(signal.SIGTERM, finish)
signal.signal(signal.SIGALRM, finish)
signal.alarm(300)
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port))
srv.listen(128)
open(state + ".ready", "w").close()
while True:
    conn, _ = srv.accept()
    with lock:
        stats["connections"] += 1
        n = stats["connections"]
        stats["accepts"].append(round(time.monotonic() - t0, 4))
        active[0] += 1
        stats["peak"] = max(stats["peak"], active[0])
    threading.Thread(target=dialogue, args=(conn, n), daemon=True).start()
