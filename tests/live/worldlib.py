"""worldlib.py - what the Python live tests share: the world's environment,
running mxtls inside the world's namespace with its DNS and trust settings,
and counting checks.

Import it from a test in tests/live/ (the directory is on sys.path when the
script runs from there). Every assertion is on an exact value; check() only
counts and collects what failed, finish() prints and exits.
"""
import json
import os
import subprocess
import sys
import time

FAILS = []
COUNT = [0]


def world_env():
    """the world's `env` output as a dict (MXTLS_WORLD_*)"""
    out = subprocess.run([os.environ["MXTLS_WORLD"], "env"], capture_output=True, text=True,
                         check=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'")
    return env


W = world_env()
BASE = ["--root-hints", W["MXTLS_WORLD_ROOT_HINTS"], "--trust-anchor",
        W["MXTLS_WORLD_TRUST_ANCHOR"], "--ca-file", W["MXTLS_WORLD_CA"]]


def mxtls(*args, dns=True, timeout=120):
    """run mxtls in the world's namespace: (exit code, stdout, stderr, seconds)"""
    cmd = [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], *args]
    if dns:
        cmd += BASE
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def check(cond, what):
    COUNT[0] += 1
    if not cond:
        FAILS.append(what)


def js(*args, timeout=120):
    """mxtls ... --json: (exit code, the document or None, seconds)"""
    rc, out, err, secs = mxtls(*args, "--json", timeout=timeout)
    try:
        return rc, json.loads(out), secs
    except json.JSONDecodeError:
        FAILS.append(f"{args}: no JSON (exit {rc}): {err.strip()[:300]}")
        return rc, None, secs


def finish():
    for f in FAILS:
        print("FAIL", f)
    print(f"{COUNT[0] - len(FAILS)} passed, {len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)
