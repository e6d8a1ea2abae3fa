"""policyd_live.py - `mxtls policyd` against the test world: the socketmap
protocol with exact replies, malformed, oversize, slow and idle clients, many
clients at once, the inet listener, the policy cache (a changed TXT id, a
refetch before expiry, a failed refetch that keeps the cached policy, two
daemons sharing one cache file), SIGHUP reload, SIGTERM stop, a restart that
warms from the cache, and configuration errors.

The daemons run in the world's namespace (`ip netns exec`, so their PID is
ours to signal); clients talk to their unix sockets from here (a unix socket
is a file, not part of the network namespace) and to the inet listener
through `world exec`.
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from worldlib import BASE, W, check, finish  # noqa: E402

BIN = os.environ["MXTLS_BIN"]
NS = W["MXTLS_WORLD_NS"]
DIR = os.path.join(W["MXTLS_WORLD_DIR"], f"policyd-live.{os.getpid()}")
CACHE = os.path.join(DIR, "cache.sqlite")
PORT = 10027
DAEMONS = []


def ns(s):
    b = s.encode() if isinstance(s, str) else s
    return str(len(b)).encode() + b":" + b + b","


PENDING = {}


def read_reply(sock):
    """one netstring reply as text, or None when the server closed; bytes
    beyond it are kept for the next call on the same socket"""
    buf = PENDING.pop(sock.fileno(), b"")
    while True:
        if b":" in buf:
            head, _, rest = buf.partition(b":")
            n = int(head)
            if len(rest) >= n + 1:
                if rest[n + 1:]:
                    PENDING[sock.fileno()] = rest[n + 1:]
                return (head + b":" + rest[:n + 1]).decode()
        chunk = sock.recv(65536)
        if not chunk:
            return None if not buf else buf.decode(errors="replace")
        buf += chunk


def connect(path, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking, as Postfix's client: waits while the backlog is full
    s.settimeout(timeout)
    return s


def query(path, key, name="mxtls"):
    with connect(path) as s:
        s.sendall(ns(f"{name} {key}"))
        return read_reply(s)


class Daemon:
    def __init__(self, tag, extra):
        self.tag = tag
        self.sock = os.path.join(DIR, f"{tag}.sock")
        self.log = os.path.join(DIR, f"{tag}.log")
        self.cmd = ["ip", "netns", "exec", NS, BIN, "policyd", "--listen", f"unix:{self.sock}",
                    *extra, *BASE]
        self.proc = None

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=self.logf)
        DAEMONS.append(self)
        for _ in range(100):
            if os.path.exists(self.sock) or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return self

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_log(self, needle, secs=20):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if needle in self.text():
                return True
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, secs=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(secs)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None


def cleanup():
    for d in DAEMONS:
        if d.proc and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
    shutil.rmtree(DIR, ignore_errors=True)


OK_ALL = "44:OK secure match=hostname servername=hostname,"
NOTFOUND = "9:NOTFOUND ,"


def rows():
    c = sqlite3.connect(CACHE)
    r = {d: (t, f) for d, t, f in c.execute("SELECT domain, txt_id, fetched_at FROM policy")}
    c.close()
    return r


def put_row(domain, txt_id, mode, mx, max_age, fetched_at):
    policy = f"version: STSv1\nmode: {mode}\n" + "".join(f"mx: {m}\n" for m in mx) + \
        f"max_age: {max_age}\n"
    c = sqlite3.connect(CACHE, timeout=10)
    c.execute("INSERT OR REPLACE INTO policy VALUES (?,?,?,?,?,?,?,?)",
              (domain, policy, txt_id, mode, max_age, "\n".join(mx), fetched_at,
               fetched_at + max_age))
    c.commit()
    c.close()


def main():
    os.makedirs(DIR, mode=0o755)
    os.chmod(DIR, 0o755)
    conf = os.path.join(DIR, "a.conf")
    with open(conf, "w") as f:
        f.write("# policyd_live.py\nrequest_timeout = 2\nidle_timeout = 3\n"
                "listen = unix:/nonexistent/ignored.sock  # the command line's --listen wins\n")

    # ---- configuration errors ----
    bad = os.path.join(DIR, "bad.conf")
    with open(bad, "w") as f:
        f.write("cache = /x\n\nfoo = 1\n")
    p = subprocess.run([BIN, "policyd", "--listen", "unix:/x", "--config", bad,
                        "--check-config"], capture_output=True, text=True)
    check(p.returncode == 2 and p.stderr == f"mxtls policyd: {bad}:3: unknown setting \"foo\"\n",
          f"bad config: {p.returncode} {p.stderr!r}")
    p = subprocess.run([BIN, "policyd", "--check-config"], capture_output=True, text=True)
    check(p.returncode == 2 and "--listen unix:PATH or inet:HOST:PORT is required" in p.stderr,
          f"no listen: {p.returncode} {p.stderr!r}")
    p = subprocess.run([BIN, "policyd", "--listen", "unix:x", "--map-name", "a b",
                        "--check-config"], capture_output=True, text=True)
    check(p.returncode == 2 and "map-name: the map name must be 1-64 characters" in p.stderr,
          f"bad map name: {p.returncode} {p.stderr!r}")
    p = subprocess.run([BIN, "policyd", "--listen", f"unix:{DIR}/x.sock", "--cache", CACHE,
                        "--config", conf, "--check-config", *BASE], capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout == f"mxtls policyd: configuration OK: map mxtls, "
          f"1 listener, cache {CACHE}\n", f"check-config: {p.returncode} {p.stdout!r} {p.stderr!r}")

    a = Daemon("a", ["--listen", f"inet:127.0.0.1:{PORT}", "--cache", CACHE, "--config",
                     conf]).start()
    check(a.wait_log("starting mxtls"), "a started")
    # the cache file exists now (schema made at start): rows of the cache tests
    now = int(time.time())
    put_row("sts.test", "old1", "enforce", ["other.sts.test"], 86400, now)          # id changed
    put_row("sts-404.test", "1", "enforce", ["mx.sts.test"], 86400, now)             # current
    put_row("sts-html.test", "1", "enforce", ["mx.sts.test"], 86400, now - 86400 + 600)  # near expiry, refetch fails
    put_row("sts-wild.test", "1", "enforce", ["*.sts.test", "*.wild2.test"], 86400,
            now - 86400 + 600)                                                       # near expiry, refetch works

    # ---- exact replies ----
    want = {
        "sts.test": OK_ALL,
        "STS.Test.": OK_ALL,
        "sts-wild.test": "47:OK secure match=mx.sts.test servername=hostname,",
        "dane-ee.test": "7:OK dane,",
        "sts-testing.test": NOTFOUND,
        "sts-none.test": NOTFOUND,
        "good.test": NOTFOUND,
        "nonexistent.test": NOTFOUND,
        "[mx.sts.test]:25": NOTFOUND,
        "sts-404.test": OK_ALL,
        "sts-html.test": OK_ALL,
        "sts-uncovered.test": "103:TEMP 4.7.5 MTA-STS policy of sts-uncovered.test (mode enforce) "
                              "covers none of its MX hosts: mx.sts.test,",
    }
    for key, w in want.items():
        got = query(a.sock, key)
        check(got == w, f"{key}: want {w!r} got {got!r}")
    got = query(a.sock, "sts.test", name="other")
    check(got == '58:PERM unknown map name "other": this server answers "mxtls",',
          f"wrong map name: {got!r}")
    # pipelined: two requests in one write, two replies in order
    with connect(a.sock) as s:
        s.sendall(ns("mxtls good.test") + ns("mxtls sts.test"))
        r1, r2 = read_reply(s), read_reply(s)
    check((r1, r2) == (NOTFOUND, OK_ALL), f"pipelined: {r1!r} {r2!r}")

    # ---- the cache ----
    r = rows()
    check(r.get("sts.test", ("",))[0] == "20250101T000000",
          f"changed TXT id: the policy was refetched and stored under the new id: {r.get('sts.test')}")
    check(r.get("sts-404.test") == ("1", now), f"current entry untouched: {r.get('sts-404.test')}")
    check(r.get("sts-html.test") == ("1", now - 86400 + 600),
          f"failed refetch keeps the cached entry: {r.get('sts-html.test')}")
    check(r.get("sts-wild.test", ("", 0))[1] >= now,
          f"refetched before expiry: {r.get('sts-wild.test')}")
    log = a.text()
    for line in ["sts.test: OK secure match=hostname servername=hostname (MTA-STS enforce "
                 "(fetched), every MX host covered)",
                 "sts-404.test: OK secure match=hostname servername=hostname (MTA-STS enforce "
                 "(cached), every MX host covered)",
                 "sts-html.test: OK secure match=hostname servername=hostname (MTA-STS enforce "
                 "(cached), every MX host covered)",
                 "sts-wild.test: OK secure match=mx.sts.test servername=hostname (MTA-STS enforce "
                 "(fetched), 1 of 2 MX hosts allowed (1 covered, 0 under DANE))",
                 "warning: unix client"]:
        check(line in log, f"a's log has: {line}")

    # two daemons, one cache file: b finds what a fetched
    b = Daemon("b", ["--cache", CACHE]).start()
    check(b.wait_log("starting mxtls"), "b started")
    got = query(b.sock, "sts-testing.test")
    check(got == NOTFOUND, f"b: {got!r}")
    check(b.wait_log("sts-testing.test: NOTFOUND (MTA-STS policy (cached) in mode testing"),
          "b answered from the policy a cached")
    # a second daemon on a live socket is refused
    p = subprocess.run(["ip", "netns", "exec", NS, BIN, "policyd", "--listen", f"unix:{a.sock}",
                        *BASE], capture_output=True, text=True, timeout=30)
    check(p.returncode == 4 and f"{a.sock}: another server is listening there" in p.stderr,
          f"live socket: {p.returncode} {p.stderr!r}")

    # ---- bad clients, each cut off without harming the others ----
    keep = connect(a.sock)
    with connect(a.sock) as s:
        s.sendall(b"abc")
        check(read_reply(s) is None, "malformed: connection closed")
    check(a.wait_log("bad request: a netstring begins with its length at byte 0; connection "
                     "closed"), "malformed: logged")
    with connect(a.sock) as s:
        s.sendall(b"20000:" + b"x" * 100)
        check(read_reply(s) is None, "oversize: connection closed")
    check(a.wait_log("bad request: request longer than the limit at byte 0"), "oversize: logged")
    with connect(a.sock) as s:
        t0 = time.monotonic()
        s.sendall(b"17:mxtls sts")
        gone = read_reply(s) is None
        secs = time.monotonic() - t0
        check(gone and 1.5 <= secs <= 5, f"slow request cut off after ~2 s: {gone} {secs:.1f}")
    check(a.wait_log("request not complete within 2s; connection closed"), "slow: logged")
    with connect(a.sock) as s:
        t0 = time.monotonic()
        gone = read_reply(s) is None
        secs = time.monotonic() - t0
        check(gone and 2.5 <= secs <= 6, f"idle client closed after ~3 s: {gone} {secs:.1f}")
    # keep was opened before all that; it idles too (3 s), so ask on a new one
    keep.close()
    check(query(a.sock, "sts.test") == OK_ALL, "still answering after the bad clients")

    # ---- many clients at once ----
    n = 300
    socks = [connect(a.sock) for _ in range(n)]
    for s in socks:
        s.sendall(ns("mxtls sts.test"))
    answers = [read_reply(s) for s in socks]
    for s in socks:
        s.close()
    check(answers.count(OK_ALL) == n, f"{n} clients at once: {answers.count(OK_ALL)} exact")

    # ---- the inet listener (in the namespace) ----
    code = ("import socket;s=socket.create_connection(('127.0.0.1',%d),10);"
            "s.sendall(b'18:mxtls dane-ee.test,');print(s.recv(100).decode())" % PORT)
    p = subprocess.run([W["MXTLS_WORLD_EXEC"].split()[0], *W["MXTLS_WORLD_EXEC"].split()[1:],
                        "python3", "-c", code], capture_output=True, text=True, timeout=30)
    check(p.stdout == "7:OK dane,\n", f"inet: {p.stdout!r} {p.stderr!r}")

    # ---- SIGHUP: the config file again ----
    with open(conf, "a") as f:
        f.write("map_name = other2\n")
    a.proc.send_signal(signal.SIGHUP)
    check(a.wait_log("reload: settings re-read from"), "reload logged")
    got = query(a.sock, "sts.test", name="other2")
    check(got == OK_ALL, f"after reload, the new map name: {got!r}")
    got = query(a.sock, "sts.test")
    check(got == '59:PERM unknown map name "mxtls": this server answers "other2",',
          f"after reload, the old map name: {got!r}")

    # ---- SIGTERM: clean stop, the cache intact ----
    rc = a.stop()
    check(rc == 0, f"a stopped by SIGTERM: exit {rc}")
    check(not os.path.exists(a.sock), "a removed its socket")
    check("terminating on signal 15" in a.text() and "stopped: " in a.text(), "stop logged")
    c = sqlite3.connect(CACHE)
    ic = c.execute("PRAGMA integrity_check").fetchone()[0]
    c.close()
    check(ic == "ok", f"integrity_check after SIGTERM: {ic}")

    # ---- restart: warms from the cache ----
    a2 = Daemon("a2", ["--cache", CACHE]).start()
    check(a2.wait_log("warming 8 cached domains"), "a2 warms the cached domains")
    got = query(a2.sock, "sts-404.test")
    check(got == OK_ALL, f"a2 answers from the cache: {got!r}")
    check(b.stop() == 0 and a2.stop() == 0, "b and a2 stop cleanly")


try:
    main()
finally:
    cleanup()
finish()
