#!/bin/sh
# report_live.sh - mxtls report over real check reports of every world domain:
# `mxtls check --json` on each (one JSON line per domain, as `mxtls scan`
# writes them), then the page in headless Chromium, its figures checked
# against an independent count of those lines (tests/cli/lib/report_html.py),
# and `mxtls report --json` against the same count (needs root)
set -u
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
W=${MXTLS_WORLD:?MXTLS_WORLD is not set}
"$W" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
eval "$("$W" env)"
BIN=${MXTLS_BIN:?MXTLS_BIN is not set}
SRC=${MXTLS_SOURCE_DIR:?MXTLS_SOURCE_DIR is not set}
T=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-report-live.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Every domain of cases.tsv, four checks at a time; the hostile servers that
# stall are cut by --timeout 10. The swap lock is held shared: the rollover
# test must not change a certificate meanwhile.
exec 9>>"$MXTLS_WORLD_SWAP_LOCK"
flock -s -w 600 9 || { echo "FAIL: the swap lock $MXTLS_WORLD_SWAP_LOCK stays taken"; exit 1; }
grep -v '^#' "$MXTLS_WORLD_CASES" | tail -n +2 | cut -f1 | grep . >"$T/domains"
mkdir "$T/out"
xargs -P 4 -I{} sh -c 'ip netns exec "$MXTLS_WORLD_NS" "$0" check {} --json --timeout 10 \
    --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
    --ca-file "$MXTLS_WORLD_CA" >"$1/out/{}.json" 2>/dev/null; true' "$BIN" "$T" <"$T/domains"
exec 9>&-
cat "$T"/out/*.json >"$T/world.jsonl"
# an input error line as mxtls scan writes one for a malformed domain
echo '{"domain":"bad..test","error":{"message":"empty label"}}' >>"$T/world.jsonl"
n=$(wc -l <"$T/domains")
lines=$(grep -c '^{"schema_version":1,' "$T/world.jsonl")
rc=0
if [ "$lines" != "$n" ]; then
    echo "FAIL: $lines check reports for $n domains"
    rc=1
fi
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# the JSON figures against Python's count
"$BIN" report "$T/world.jsonl" --json --now "$NOW" >"$T/stats.json" || { echo "FAIL: mxtls report --json"; rc=1; }
python3 - "$T/world.jsonl" "$T/stats.json" "$n" <<'PY' || rc=1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
checks = [o for o in lines if "verdict" in o]
s = json.load(open(sys.argv[2]))
want = {
    "domains": len(checks), "errors": len(lines) - len(checks), "rejected_lines": 0,
    "verdicts": {v: sum(o["verdict"] == v for o in checks) for v in ("pass", "fail", "tempfail")},
    "dnssec_secure": sum(o["mx"].get("security") == "secure" for o in checks),
    "null_mx": sum(o["mx"]["null_mx"] for o in checks),
    "levels": {k: [sum(o["matrix"][k]["verdict"] == v for o in checks)
                   for v in ("pass", "fail", "tempfail")] for k in checks[0]["matrix"]},
    "tls": sum(1 for o in checks for a in o["addresses"]
               if a.get("probe") and (a["probe"].get("tls") or {}).get("ok")),
}
got = {
    "domains": s["domains"], "errors": s["errors"], "rejected_lines": s["rejected_lines"],
    "verdicts": s["verdicts"], "dnssec_secure": s["mx"]["dnssec_secure"],
    "null_mx": s["mx"]["null_mx"],
    "levels": {l["level"]: [l["pass"], l["fail"], l["tempfail"]] for l in s["levels"]},
    "tls": s["addresses"]["tls"],
}
bad = [k for k in want if want[k] != got[k]]
for k in bad:
    print(f"FAIL report --json {k}: {got[k]!r}, the JSONL gives {want[k]!r}")
if want["domains"] != int(sys.argv[3]):
    print(f"FAIL {want['domains']} check reports for {sys.argv[3]} domains")
    bad.append("n")
# the expiring world case is among the expiring certificates
exp = [c["domain"] for c in s["certificates"]["listed"] if c["days"] >= 0]
if exp != ["expiring.test"]:
    print(f"FAIL expiring certificates: {exp!r}, want ['expiring.test']")
    bad.append("expiring")
print(f"report --json: {len(want) + 2 - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
PY

# the page in Chromium
python3 "$SRC/tests/cli/lib/report_html.py" "$BIN" "$T/world.jsonl" "$NOW" --hostile || rc=1
exit $rc
