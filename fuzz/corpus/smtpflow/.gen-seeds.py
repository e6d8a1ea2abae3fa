#!/usr/bin/env python3
"""Seeds for fuzz_smtpflow, made from the SMTP replay transcripts.

Usage: python3 fuzz/corpus/smtpflow/.gen-seeds.py  (from the repository root)

Each tests/replay/*.txt dialogue becomes seeds in the layout fuzz_smtpflow.c
documents: config byte, events byte, schedule length, schedule, then the
server's bytes with "<TLS>" where the handshake happens. Every transcript is
written with three schedules: whole reads, small odd chunks (reads split
inside lines and across CRLF), and chunks that split the 220 reply to
STARTTLS from what follows it. Repeated S*N lines are capped so that seeds
stay small."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
REPLAY = os.path.join(ROOT, "..", "..", "..", "tests", "replay")


def unescape(text):
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "r":
                out += b"\r"; i += 2; continue
            if n == "n":
                out += b"\n"; i += 2; continue
            if n == "t":
                out += b"\t"; i += 2; continue
            if n == "\\":
                out += b"\\"; i += 2; continue
            if n == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                out.append(int(text[i + 2:i + 4], 16)); i += 4; continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def convert(path):
    config = 0
    events = 0
    streams = [bytearray(), bytearray()]
    cur = 0
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("CONFIG "):
            for kv in line[7:].split():
                k, _, v = kv.partition("=")
                if k == "implicit_tls" and v == "yes":
                    config |= 1
                elif k == "starttls" and v == "no":
                    config |= 2
                elif k in ("max_reply", "max_line", "max_lines"):
                    config |= 4
        elif line.startswith("S: "):
            streams[cur] += unescape(line[3:])
        elif line.startswith("S*"):
            m = re.match(r"S\*(\d+): (.*)", line)
            streams[cur] += unescape(m.group(2)) * min(int(m.group(1)), 60)
        elif line.startswith("TLS: "):
            if line[5:] == "fail":
                events |= 1
            cur = 1
    body = bytes(streams[0])
    if cur == 1:
        body += b"<TLS>" + bytes(streams[1])
    return config, events, body


def seed(config, events, sched, body):
    return bytes([config, events, len(sched)]) + bytes(sched) + body


def main():
    n = 0
    for name in sorted(os.listdir(REPLAY)):
        if not name.endswith(".txt"):
            continue
        config, events, body = convert(os.path.join(REPLAY, name))
        base = name[:-4]
        variants = {
            "whole": (events, []),
            "chunks": (events | 2, [1, 3, 7, 2, 5, 11]),
            # split right after "220 " and inside the CRLF, then large reads
            "split": (events, [4, 1, 200, 2, 29, 1]),
        }
        for suffix, (ev, sched) in variants.items():
            with open(os.path.join(ROOT, f"{base}-{suffix}"), "wb") as f:
                f.write(seed(config, ev, sched, body))
            n += 1
    # Hand-made: implicit TLS with bytes before the handshake; injection in
    # a separate read; a zero-length-heavy schedule; timeout ending.
    extra = {
        "implicit-early-bytes": seed(1, 0, [3], b"220 early\r\n<TLS>220 mx ESMTP\r\n"
                                     b"250-mx\r\n250 SIZE 10\r\n221 bye\r\n"),
        "injection-own-read": seed(0, 0, [0], b"220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n"
                                   b"220 go\r\n250 fake\r\n<TLS>250 mx\r\n221 bye\r\n"),
        "timeout-mid-reply": seed(8, 0, [2, 0], b"220 mx ESMTP\r\n250-mx\r\n250-STA"),
        "tls-fail-then-bytes": seed(0, 1, [5], b"220 mx\r\n250-mx\r\n250 STARTTLS\r\n"
                                    b"220 go\r\n<TLS>250 too late\r\n"),
        "tiny-limits-chunks": seed(4 | 0x30, 2, [1, 2], b"220 a\r\n250-bbbbbbbbbbbbbbbbbbbbbbbbb\r\n"
                                   b"250 c\r\n"),
    }
    for name, data in extra.items():
        with open(os.path.join(ROOT, name), "wb") as f:
            f.write(data)
        n += 1
    print(f"{n} seeds written to {ROOT}", file=sys.stderr)


if __name__ == "__main__":
    main()
