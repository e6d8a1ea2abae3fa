#!/usr/bin/env python3
"""scan.py - `mxtls scan` against the test world.

1. A scan of every world domain (tests/world/cases.tsv) equals `mxtls check
   DOMAIN --json` run alone for each, object for object, except the fields
   that differ from one connection to the next (IGNORED below).
2. Malformed input lines: exact error objects, line numbers, no stop.
3. --shard I/N: the shards partition the input exactly, by FNV-1a 64 mod N.
4. Killed mid-run (SIGKILL) and a partial last line, then --resume: every
   domain exactly once, no partial line.
5. Politeness, counted by the server (tests/live/smtp_counter.py): at most
   --per-ip connections at a time, --ip-rate spacing between accepts.
6. Probe sharing: many domains behind one server address, one connection.
7. Retries with back-off on a 421 greeting, bounded; check alone never retries.
8. Out of file descriptors: the domains this machine could not check get no
   line (named on standard error, exit 4); --resume then checks exactly those.
9. --jobs 2 (two loops in two threads): the world scan equals check too;
   kill and --resume leave every domain once; the bounds, split between
   the workers, hold as the server counts them.
10. --lookup-order: the scan's default, mx-first, is what test 1 holds equal
   to check (which asks in parallel); here both orders scan the same domains
   one at a time in fresh processes, give equal reports, and, counted by
   bench/sigcost.so where libunbound verifies through nettle, mx-first
   verifies fewer DNSSEC signatures: a signed domain's DNSKEY set once, not
   once per lookup.
"""
import concurrent.futures
import fcntl
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worldlib  # noqa: E402
from worldlib import W, BASE, check, finish  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ["MXTLS_SOURCE_DIR"]
WORLD = os.environ["MXTLS_WORLD"]
BIN = os.environ["MXTLS_BIN"]
TMP = tempfile.mkdtemp(prefix="mxtls-scan-test.")
COUNTER_ADDR = "127.0.77.1"   # nothing of the world's listens in 127.0.77.0/24

# What legitimately differs between two connections to the same server, and
# nothing else: timings, byte counts (TLS session tickets vary in size), the
# OCSP responder's "this update" times, how much of a trickled greeting had
# arrived when the phase timer fired, and the order of an RRset's records
# (TXT, TLSA: normal() sorts every "records" list). A server that closes or
# resets right after its 220 to STARTTLS is not here: whether that reaches the
# client before or after its ClientHello left is timing, and the probe reports
# both alike (the same error, the same SNI), so the comparison holds it to that.
IGNORED_KEYS = {"elapsed_ms", "bytes_in", "bytes_out"}
IGNORED_RES = [(re.compile(r"\(this update [^)]*\)"), "(this update ...)"),
               # libunbound words a bogus answer differently once an earlier
               # query of the same zone (a warm cache) found the key bogus
               (re.compile(r"key for validation \S+ is marked as invalid because of a previous "
                           r"validation failure <[^>]*>: "), ""),
               (re.compile(r"\d+ bytes into it \(\"[^\"]*\"\)"), "N bytes into it (...)")]


def normal(v):
    if isinstance(v, dict):
        # an RRset's records (TXT, TLSA) come in the order the server shuffled them
        return {k: sorted((normal(i) for i in x), key=lambda i: json.dumps(i, sort_keys=True))
                if k == "records" and isinstance(x, list) else normal(x)
                for k, x in v.items() if k not in IGNORED_KEYS}
    if isinstance(v, list):
        return [normal(x) for x in v]
    if isinstance(v, str):
        for rx, repl in IGNORED_RES:
            v = rx.sub(repl, v)
    return v


def first_diff(a, b, path=""):
    if type(a) is not type(b):
        return f"{path}: {str(a)[:120]} != {str(b)[:120]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            d = first_diff(a.get(k), b.get(k), f"{path}.{k}")
            if d:
                return d
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}[{i}]")
            if d:
                return d
    elif a != b:
        return f"{path}: {str(a)[:120]} != {str(b)[:120]}"
    return None


def world_domains():
    out = []
    with open(os.path.join(SRC, "tests/world/cases.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            d = line.split("\t")[0]
            if d != "domain":
                out.append(d)
    return out


def scan(args, input_text=None, timeout=300, nofile=None):
    """mxtls scan ARGS in the world: (exit code, stdout, stderr); nofile: ulimit -n"""
    cmd = [WORLD, "exec", BIN, "scan", *args, *BASE]
    limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
    p = subprocess.run(cmd, input=input_text, capture_output=True, text=True, timeout=timeout,
                       preexec_fn=limit)
    return p.returncode, p.stdout, p.stderr


def lines_of(text):
    return [json.loads(x) for x in text.splitlines()]


def fnv1a64(s):
    h = 14695981039346656037
    for b in s.encode():
        h ^= b
        h = (h * 1099511628211) % (1 << 64)
    return h


class Counter:
    """smtp_counter.py on COUNTER_ADDR:PORT in the world's namespace"""

    def __init__(self, port, mode):
        self.state = os.path.join(TMP, f"counter-{port}.json")
        self.p = subprocess.Popen([WORLD, "exec", sys.executable,
                                   os.path.join(HERE, "smtp_counter.py"), COUNTER_ADDR,
                                   str(port), mode, self.state])
        for _ in range(100):
            if os.path.exists(self.state + ".ready"):
                return
            time.sleep(0.05)
        raise RuntimeError("smtp_counter did not start")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)  # `world exec` execs: this is the server's pid
        self.p.wait(timeout=10)
        with open(self.state) as f:
            return json.load(f)


def routed(port, *extra):
    return ["--route", COUNTER_ADDR, "--port", str(port), *extra]


def test_equals_check():
    domains = world_domains()
    check(len(domains) >= 80, f"world domains: {len(domains)}")
    listing = "# every world domain\n\n" + "\n".join(domains) + "\n"
    stats = os.path.join(TMP, "stats-all.json")
    with open(W["MXTLS_WORLD_SWAP_LOCK"], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # dane-rollover.test's certificate stays put
        rc, out, err = scan(["-", "--stats-json", stats], listing)
        check(rc == 0, f"scan of the world: exit {rc}: {err[-300:]}")
        got = {o["domain"]: o for o in lines_of(out)}
        check(sorted(got) == sorted(domains), f"scan answered {len(got)} of {len(domains)}")

        def alone(d):
            return d, worldlib.mxtls("check", d, "--json")

        wants = {}
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            for d, (crc, cout, cerr, _) in ex.map(alone, domains):
                try:
                    want = wants[d] = json.loads(cout)
                except json.JSONDecodeError:
                    check(False, f"check {d}: no JSON (exit {crc}): {cerr[:200]}")
                    continue
                diff = first_diff(normal(got.get(d)), normal(want))
                check(diff is None, f"scan != check for {d}: {diff}")
        # The same with two workers (--per-ip 4: 2 each, as the scan above),
        # after the checks (run beside them, the world's DNS answered some
        # late), without the domains that wait out a phase timeout (10-30 s)
        quick = [d for d in domains
                 if d not in ("stall.test", "trickle.test", "handshake-silent.test")]
        stats2 = os.path.join(TMP, "stats-jobs2.json")
        rc, out2, err = scan(["-", "--jobs", "2", "--per-ip", "4", "--stats-json", stats2],
                             "\n".join(quick) + "\n")
    check(rc == 0, f"scan --jobs 2 of the world: exit {rc}: {err[-300:]}")
    got2 = {o["domain"]: o for o in lines_of(out2)}
    check(len(out2.splitlines()) == len(quick) and sorted(got2) == sorted(quick),
          f"scan --jobs 2 answered {len(got2)} of {len(quick)} in {len(out2.splitlines())} lines")
    for d in quick:
        want = wants.get(d)
        diff = first_diff(normal(got2.get(d)), normal(want))
        check(diff is None, f"scan --jobs 2 != check for {d}: {diff}")
    with open(stats2) as f:
        st2 = json.load(f)
    check(st2["jobs"] == 2 and st2["lines"] == len(quick),
          f"--jobs 2 stats: jobs {st2['jobs']}, lines {st2['lines']}")
    check(st2["probes"]["peak_connections_per_ip"] <= 4,
          f"--jobs 2 --per-ip 4: summed peak {st2['probes']['peak_connections_per_ip']}")
    with open(stats) as f:
        st = json.load(f)
    check(st["lines"] == len(domains) and st["domains_checked"] == len(domains),
          f"stats lines: {st['lines']}, checked {st['domains_checked']}")
    check(st["probes"]["peak_connections_per_ip"] <= 2,
          f"default --per-ip 2: peak {st['probes']['peak_connections_per_ip']}")
    # The survey figures of --stats-json are what `mxtls report` computes
    # from the output file at the same "now"
    sv = st.get("survey") or {}
    check(sv.get("domains") == len(domains) and sv.get("rejected_lines") == 0,
          f"stats survey: {sv.get('domains')} domains, {sv.get('rejected_lines')} rejected")
    jsonl = os.path.join(TMP, "all.jsonl")
    with open(jsonl, "w") as f:
        f.write(out)
    p = subprocess.run([BIN, "report", jsonl, "--json", "--now", sv.get("now", "")],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"report of the scan: exit {p.returncode}: {p.stderr[-300:]}")
    if p.returncode == 0:
        diff = first_diff(sv, json.loads(p.stdout))
        check(diff is None, f"scan --stats-json survey != mxtls report --json: {diff}")
    # One DNS query at a time: slower, the same verdicts
    quick = [d for d in domains if d not in ("stall.test", "trickle.test")][:40]
    stats1 = os.path.join(TMP, "stats-dns1.json")
    with open(W["MXTLS_WORLD_SWAP_LOCK"], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        rc, out, err = scan(["-", "--max-dns", "1", "--stats-json", stats1], "\n".join(quick) + "\n")
    one = {o["domain"]: o for o in lines_of(out)}
    check(rc == 0 and sorted(one) == sorted(quick), f"--max-dns 1: exit {rc}, {len(one)} lines")
    for d in quick:
        check(normal(one.get(d, {}).get("matrix")) == normal(got[d]["matrix"]),
              f"--max-dns 1: verdicts of {d} differ")
    with open(stats1) as f:
        check(json.load(f)["peak_dns_queries"] == 1, "--max-dns 1: peak DNS queries")


def sigcost_scan(order, domains):
    """scan DOMAINS with --lookup-order ORDER under bench/sigcost.so: (exit,
    stdout, stderr, signatures verified or None when none went through nettle)"""
    out = os.path.join(TMP, f"sigcost-{order}.txt")
    if os.path.exists(out):
        os.unlink(out)
    env = dict(os.environ, LD_PRELOAD=os.environ["MXTLS_SIGCOST"], MXTLS_SIGCOST_OUT=out,
               # an ASan build: its runtime is not first when a module is preloaded
               ASAN_OPTIONS=":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                   "verify_asan_link_order=0"])))
    # One domain at a time: with many in flight on the world's loopback, whether
    # a lookup still waits for a zone's keys or finds them validated depends on
    # which answer the loop takes first, and the counts of both orders vary
    # from run to run (CI once saw them equal); one at a time, they do not.
    p = subprocess.run([WORLD, "exec", BIN, "scan", "-", "--lookup-order", order,
                        "--concurrency", "1", *BASE],
                       input="\n".join(domains) + "\n", capture_output=True, text=True,
                       timeout=300, env=env)
    verifies = None
    if os.path.exists(out):
        with open(out) as f:
            m = re.fullmatch(r"sigcost pid \d+ verifies (\d+) cpu_s [0-9.]+\n", f.read())
        check(m is not None, f"--lookup-order {order}: sigcost line malformed")
        verifies = int(m.group(1)) if m else None
    return p.returncode, p.stdout, p.stderr, verifies


def test_lookup_order():
    domains = [d for d in world_domains()
               if d not in ("stall.test", "trickle.test", "handshake-silent.test")]
    rc, out, err = scan(["-", "--lookup-order", "sideways"], "good.test\n")
    check(rc == 2 and "--lookup-order 'sideways' is not mx-first or parallel" in err,
          f"--lookup-order sideways: exit {rc}: {err.strip()[:200]}")
    with open(W["MXTLS_WORLD_SWAP_LOCK"], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # dane-rollover.test's certificate stays put
        rc_p, out_p, err_p, n_p = sigcost_scan("parallel", domains)
        rc_m, out_m, err_m, n_m = sigcost_scan("mx-first", domains)
    check(rc_p == 0 and rc_m == 0, f"--lookup-order: exit {rc_p} (parallel), {rc_m} (mx-first): "
          f"{(err_p + err_m)[-300:]}")
    par = {o["domain"]: o for o in lines_of(out_p)}
    mxf = {o["domain"]: o for o in lines_of(out_m)}
    check(sorted(par) == sorted(domains) and sorted(mxf) == sorted(domains),
          f"--lookup-order: {len(par)} and {len(mxf)} lines for {len(domains)} domains")
    for d in domains:
        diff = first_diff(normal(mxf.get(d)), normal(par.get(d)))
        check(diff is None, f"--lookup-order mx-first != parallel for {d}: {diff}")
    if n_p is None and n_m is None:
        print("--lookup-order: libunbound verifies without nettle here; signatures not counted")
        return
    # dozens of signed zones: each saves at least one verification of its keys
    check(n_p is not None and n_m is not None and n_m + 20 <= n_p,
          f"--lookup-order: {n_m} signatures verified with mx-first, {n_p} in parallel")
    print(f"--lookup-order: {n_m} signatures verified with mx-first, {n_p} in parallel")


def test_malformed():
    text = ("# survey\n"
            "\n"
            "good.test   # the world's good domain\n"
            "two words.test\n"
            "127.0.2.1\n"
            "-bad.test\n"
            "   \t\n"
            "a..test\n"
            "GOOD.test.\n")
    rc, out, err = scan(["-", "--timeout", "20"], text)
    check(rc == 0, f"malformed input: exit {rc}: {err[-300:]}")
    got = lines_of(out)
    errors = sorted([(o["line"], o["input"], o["error"]["code"], o["error"]["where"],
                      o["error"]["message"]) for o in got if "error" in o])
    check(errors == [
        (4, "two words.test", "invalid", "input", "more than one word: one domain per line"),
        (5, "127.0.2.1", "invalid", "input", "an IP address, not a mail domain"),
        (6, "-bad.test", "invalid", "input",
         "name \"-bad.test\": a label may not start or end with '-'"),
        (8, "a..test", "invalid", "input", "name \"a..test\" has an empty label"),
    ], f"error lines: {errors}")
    checks = [o for o in got if "error" not in o]
    # GOOD.test. is good.test again: one line per domain
    check([o["domain"] for o in checks] == ["good.test"], f"checked: {[o.get('domain') for o in checks]}")
    check(checks and checks[0]["verdict"] == "pass", "good.test passes")
    check(all(set(o) == {"schema_version", "input", "line", "error"} for o in got if "error" in o),
          "error objects: schema_version, input, line, error only")


def test_shard(port):
    domains = [f"s{i}.test" for i in range(30)]
    listing = "\n".join(domains + ["bad word", "-x.test"]) + "\n"
    path = os.path.join(TMP, "shard-input.txt")
    with open(path, "w") as f:
        f.write(listing)
    c = Counter(port, "hold=0")
    seen = {}
    try:
        for i in range(3):
            rc, out, err = scan([path, "--shard", f"{i}/3", *routed(port)])
            check(rc == 0, f"shard {i}/3: exit {rc}: {err[-200:]}")
            for o in lines_of(out):
                key = o.get("domain") or o.get("input")
                check(key not in seen, f"{key} in shards {seen.get(key)} and {i}")
                seen[key] = i
    finally:
        c.stop()
    want = set(domains) | {"bad word", "-x.test"}
    check(set(seen) == want, f"shards' union: missing {want - set(seen)}, extra {set(seen) - want}")
    wrong = [k for k, i in seen.items() if fnv1a64(k) % 3 != i]
    check(not wrong, f"not in shard FNV-1a-64 mod 3: {wrong}")
    rc, _, err = scan([path, "--shard", "3/3"])
    check(rc == 2 and "--shard needs I/N" in err, f"--shard 3/3: exit {rc}: {err.strip()}")


def test_resume(port, jobs=1):
    domains = [f"r{i}.test" for i in range(40)]
    path = os.path.join(TMP, "resume-input.txt")
    with open(path, "w") as f:
        f.write("\n".join(domains) + "\n")
    out = os.path.join(TMP, f"resume-{jobs}.jsonl")
    c = Counter(port, "hold=0.3")
    try:
        p = subprocess.Popen([WORLD, "exec", BIN, "scan", path, "--output", out, "--no-share",
                              "--jobs", str(jobs),
                              "--per-ip", "2", "--ip-rate", "0", *routed(port), *BASE],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(out) and open(out).read().count("\n") >= 8:
                break
            time.sleep(0.05)
        p.kill()  # SIGKILL: no chance to tidy up
        p.wait(timeout=10)
        with open(out) as f:
            text = f.read()
        check(text.endswith("\n"), "killed run: the file ends with a whole line")
        before = text.count("\n")
        check(8 <= before < 40, f"killed run: {before} lines")
        # What a write cut short by a crash would leave
        partial = '{"schema_version":1,"domain":"r39.test","port":2'
        with open(out, "a") as f:
            f.write(partial)
        rc, _, err = scan([path, "--output", out, "--resume", "--no-share", "--per-ip", "2",
                           "--ip-rate", "0", "--jobs", str(jobs), *routed(port)])
        check(rc == 0, f"--resume: exit {rc}: {err[-300:]}")
        check(f"partial last line ({len(partial)} bytes) removed" in err,
              f"--resume stderr: {err.strip()}")
    finally:
        c.stop()
    with open(out) as f:
        text = f.read()
    check(text.endswith("\n"), "resumed file ends with a whole line")
    got = [json.loads(x)["domain"] for x in text.splitlines()]
    check(sorted(got) == sorted(domains), f"resumed: {len(got)} lines, {len(set(got))} distinct")
    check(len(got) == len(set(got)), "resumed: no duplicates")
    # a second resume has nothing to do
    rc, _, err = scan([path, "--output", out, "--resume", "--stats", "--jobs", str(jobs),
                       *routed(port)])
    check(rc == 0 and "0 lines (0 checked" in err and "40 already in the output" in err,
          f"second --resume: exit {rc}: {err.strip()[:300]}")


def test_politeness(port):
    domains = "\n".join(f"p{i}.test" for i in range(8)) + "\n"
    for per_ip in (2, 1):
        c = Counter(port, "hold=0.3")
        try:
            rc, out, err = scan(["-", "--no-share", "--per-ip", str(per_ip), "--ip-rate", "0",
                                 "--concurrency", "8", *routed(port)], domains)
        finally:
            st = c.stop()
        check(rc == 0 and len(lines_of(out)) == 8, f"--per-ip {per_ip}: exit {rc}: {err[-200:]}")
        check(st["connections"] == 8, f"--per-ip {per_ip}: {st['connections']} connections")
        check(st["peak"] == per_ip, f"--per-ip {per_ip}: the server saw {st['peak']} at a time")
    # --ip-rate 5: accepts at least 200 ms apart (less the scheduler's jitter)
    c = Counter(port, "hold=0")
    try:
        rc, out, err = scan(["-", "--no-share", "--per-ip", "8", "--ip-rate", "5",
                             "--concurrency", "8", *routed(port)], domains)
    finally:
        st = c.stop()
    acc = st["accepts"]
    gaps = [b - a for a, b in zip(acc, acc[1:])]
    check(rc == 0 and st["connections"] == 8, f"--ip-rate: exit {rc}, {st['connections']} connections")
    check(gaps and min(gaps) >= 0.18, f"--ip-rate 5: gaps between accepts {gaps}")


def test_politeness_jobs(port):
    """--jobs 2: the bounds are split (--per-ip 2: one each; --ip-rate 5:
    2.5/s each), so the server sees no more than the user asked for"""
    domains = "\n".join(f"j{i}.test" for i in range(8)) + "\n"
    c = Counter(port, "hold=0.3")
    try:
        rc, out, err = scan(["-", "--jobs", "2", "--no-share", "--per-ip", "2", "--ip-rate", "0",
                             "--concurrency", "8", *routed(port)], domains)
    finally:
        st = c.stop()
    check(rc == 0 and len(lines_of(out)) == 8, f"--jobs 2 --per-ip 2: exit {rc}: {err[-200:]}")
    check(st["connections"] == 8, f"--jobs 2 --per-ip 2: {st['connections']} connections")
    check(st["peak"] == 2, f"--jobs 2 --per-ip 2: the server saw {st['peak']} at a time")
    # --ip-rate 5 over two workers: each starts at least 400 ms apart, so of
    # any three accepts in a row two are one worker's: 400 ms or more apart
    c = Counter(port, "hold=0")
    try:
        rc, out, err = scan(["-", "--jobs", "2", "--no-share", "--per-ip", "8", "--ip-rate", "5",
                             "--concurrency", "8", *routed(port)], domains)
    finally:
        st = c.stop()
    acc = st["accepts"]
    spans = [c - a for a, c in zip(acc, acc[2:])]
    check(rc == 0 and st["connections"] == 8,
          f"--jobs 2 --ip-rate 5: exit {rc}, {st['connections']} connections")
    check(spans and min(spans) >= 0.38, f"--jobs 2 --ip-rate 5: accepts {acc}")
    # a bound that cannot be split: refused before anything is asked
    rc, out, err = scan(["-", "--jobs", "2", "--per-ip", "1"], "j0.test\n")
    check(rc == 2 and out == "" and "--per-ip 1 cannot be split between --jobs 2" in err,
          f"--jobs 2 --per-ip 1: exit {rc}: {err.strip()}")


def test_sharing(port):
    domains = "\n".join(f"h{i}.test" for i in range(8)) + "\n"
    stats = os.path.join(TMP, "stats-share.json")
    c = Counter(port, "hold=0.3")
    try:
        rc, out, err = scan(["-", "--stats-json", stats, *routed(port)], domains)
    finally:
        st = c.stop()
    got = lines_of(out)
    check(rc == 0 and len(got) == 8, f"sharing: exit {rc}, {len(got)} lines: {err[-200:]}")
    check(st["connections"] == 1, f"sharing: the server saw {st['connections']} connections")
    check(all(o["verdict"] == "pass" and o["reason"]["code"] == "no-starttls" for o in got),
          "sharing: every domain gets the shared result")
    with open(stats) as f:
        s = json.load(f)["probes"]
    check(s["connections"] == 1 and s["reused"] == 7, f"sharing stats: {s}")


def test_retries(port):
    # 421 once, then a greeting: one retry after the delay, and the domain passes
    c = Counter(port, "busy=1")
    try:
        rc, out, err = scan(["-", "--retries", "1", "--retry-delay", "300", *routed(port)],
                            "b1.test\n")
    finally:
        st = c.stop()
    got = lines_of(out)
    check(rc == 0 and st["connections"] == 2, f"busy=1: exit {rc}, {st['connections']} connections")
    check(st["accepts"][1] - st["accepts"][0] >= 0.29, f"busy=1: retry after {st['accepts']}")
    check(got and got[0]["verdict"] == "pass", f"busy=1: {got and got[0]['reason']}")
    # 421 always: 1 + 2 retries, 200 ms then 400 ms apart; the 421 is the answer
    c = Counter(port + 1, "busy=99")
    stats = os.path.join(TMP, "stats-retry.json")
    try:
        rc, out, err = scan(["-", "--retries", "2", "--retry-delay", "200", "--stats-json", stats,
                             *routed(port + 1)], "b2.test\n")
    finally:
        st = c.stop()
    got = lines_of(out)
    acc = st["accepts"]
    check(st["connections"] == 3, f"busy=99: {st['connections']} connections")
    check(len(acc) == 3 and acc[1] - acc[0] >= 0.19 and acc[2] - acc[1] >= 0.39,
          f"busy=99: back-off {acc}")
    check(got and got[0]["verdict"] == "tempfail" and got[0]["reason"]["code"] == "banner-rejected",
          f"busy=99: {got and got[0]['reason']}")
    with open(stats) as f:
        s = json.load(f)["probes"]
    check(s["connections"] == 3 and s["retries"] == 2, f"busy=99 stats: {s}")
    # check alone: no limits, no retries
    c = Counter(port + 2, "busy=99")
    try:
        crc, _, _, _ = worldlib.mxtls("check", "b3.test", *routed(port + 2))
    finally:
        st = c.stop()
    check(crc == 3 and st["connections"] == 1, f"check: exit {crc}, {st['connections']} connections")


def test_local_failure(port):
    domains = [f"f{i}.test" for i in range(30)]
    path = os.path.join(TMP, "fd-input.txt")
    with open(path, "w") as f:
        f.write("\n".join(domains) + "\n")
    out = os.path.join(TMP, "fd.jsonl")
    # 30 connections at once (no bound, no sharing) with 20 descriptors
    args = [path, "--output", out, "--no-share", "--per-ip", "0", "--ip-rate", "0",
            "--max-connections", "0", *routed(port)]
    c = Counter(port, "hold=1")
    try:
        rc, _, err = scan(args, nofile=20)
        with open(out) as f:
            first = [json.loads(x)["domain"] for x in f]
        failed = re.findall(r"^mxtls scan: (\S+): probe: out of file descriptors \(ulimit -n\) "
                            r"\(no line written: --resume checks it again\)$", err, re.M)
        check(rc == 4, f"out of descriptors: exit {rc}")
        check(failed and first, f"out of descriptors: {len(first)} lines, {len(failed)} failed")
        check(sorted(first + failed) == sorted(domains) and not set(first) & set(failed),
              f"out of descriptors: lines {sorted(first)}, failed {sorted(failed)}")
        rc, _, err = scan([*args, "--resume", "--stats"])
        check(rc == 0 and f"{len(failed)} lines ({len(failed)} checked" in err,
              f"--resume after out of descriptors: exit {rc}: {err.strip()[:200]}")
    finally:
        c.stop()
    with open(out) as f:
        got = [json.loads(x)["domain"] for x in f]
    check(sorted(got) == sorted(domains), f"resumed after out of descriptors: {len(got)} lines")


if __name__ == "__main__":
    test_malformed()
    test_shard(2601)
    test_resume(2602)
    test_resume(2609, jobs=2)
    test_politeness(2603)
    test_politeness_jobs(2610)
    test_sharing(2604)
    test_retries(2605)
    test_local_failure(2608)
    test_equals_check()
    test_lookup_order()
    finish()
