#!/bin/bash
# scan_bench.sh [N] - surveying many domains at 50 ms round trip: `mxtls scan`
# against what people script today, in one run, as one table
#
#   MXTLS_WORLD_NS=mxtls-bench bench/scan_bench.sh          # N = 5000
#
# Brings the test world and the population up (bench/population.sh: N signed
# domains over MX mail hosts, heavy-tailed, TLSA and MTA-STS, every name
# server, MX listener and policy host behind mxtls-relay at +50 ms round
# trip), then measures, each as a fresh process inside the world's namespace
# under /usr/bin/time -v (wall time, user + system CPU, peak RSS):
#
#   mxtls scan, all N domains, --concurrency 100 and 1000 (figures from
#       --stats-json too: probes/s = probes.connections / elapsed; RSS per
#       in-flight probe = (peak RSS - RSS of a one-domain scan) /
#       probes.peak_connections); and the first SMALL domains (default 1000)
#       at 1000, over the same MX addresses: time should grow with the number
#       of distinct MX addresses, not of domains.
#       Skipped, with "scan: not built", when this mxtls has no scan command.
#   a loop of `mxtls check DOMAIN --json` over the first SAMPLE domains
#       (default 30), one after the other;
#   a loop of posttls-finger (Postfix's, what surveys script today) over the
#       same SAMPLE domains: `posttls-finger -c -l secure -F CA DOMAIN`, the
#       world's validating resolver (it answers from its cache after the first
#       pass, so it is timed on a second pass: its best case);
#   the same scan over SMALL domains behind the five busiest MX hosts, and
#       over SMALL domains spread over every MX host (time against distinct
#       MX addresses, domains fixed); with --jobs (every core) when built;
#   mxtls scan of the population's MTA-STS domains with a trust store of
#       Debian's roots and the world's CA (a real trust store's size);
#   the same scan at --concurrency 1000 with --lookup-order parallel (every
#       lookup of a domain at once, as `mxtls check` asks), against the
#       scan's default mx-first;
#   bench/dns_floor: every domain's lookups alone through the scanner's own
#       validating resolver, one process and one per core: the floor under
#       the scan's rate; and the CPU the world's servers (name servers,
#       relay, Postfix, nginx) used per domain during the --jobs scans;
#   the DNSSEC signatures verified, and their CPU, in the one-process scans
#       and dns_floor (bench/sigcost.so, preloaded: libunbound verifies
#       through nettle on Debian), beside OpenSSL's P-256 verify time from
#       `openssl speed` in the same run;
#   bench/probe_mem: heap and RSS per probe in flight, 1,000 at once, in
#       whole dialogues and held with TLS up (hostile tls-ehlo-silent);
#   testssl.sh --starttls smtp on the first MX host of each of the first
#       TESTSSL domains (default 1: one takes minutes), its default checks.
#
# Environment: MXTLS_BIN (default build/mxtls), MXTLS_RELAY_BIN,
# POP_MX (default 120), SAMPLE, TESTSSL, SMALL, KEEP=1 (leave the world and
# population up). CPU and RSS are the measured tool's own (the world's
# servers run on the same 2 cores and are not counted).
set -eu -o pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
N=${1:-5000}
NMX=${POP_MX:-120}
SAMPLE=${SAMPLE:-30}
TESTSSL_N=${TESTSSL:-1}
SMALL=${SMALL:-1000}
MXTLS=$REPO/${MXTLS_BIN:-build/mxtls}
case ${MXTLS_BIN:-} in /*) MXTLS=$MXTLS_BIN ;; esac
WORLD=$REPO/tests/world/world
[ "$(id -u)" = 0 ] || { echo "scan_bench: needs root (the test world is a network namespace)" >&2; exit 2; }
[ -x "$MXTLS" ] || { echo "scan_bench: build mxtls first (sh scripts/build.sh)" >&2; exit 2; }
[ "$SMALL" -le "$N" ] || SMALL=$N
started=""
if ! "$WORLD" status >/dev/null 2>&1; then
    "$WORLD" up >/dev/null
    started=1
fi
OUT=$(mktemp -d /tmp/scan_bench.XXXXXX)
cleanup() {
    if [ -n "$started" ] && [ -z "${KEEP:-}" ]; then "$WORLD" down >/dev/null 2>&1 || true; fi
    rm -rf "$OUT"
}
trap cleanup EXIT INT TERM
bench/population.sh up "$N" "$NMX"
eval "$("$WORLD" env)"
eval "$(bench/population.sh env)"
IN="ip netns exec $MXTLS_WORLD_NS"
OPTS=(--root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" --ca-file "$MXTLS_WORLD_CA")
# posttls-finger reads main.cf for its defaults; an empty one gives Postfix's
: > "$OUT/main.cf"
head -n "$SAMPLE" "$MXTLS_POP_DOMAINS" > "$OUT/sample.txt"
head -n "$SMALL" "$MXTLS_POP_DOMAINS" > "$OUT/small.txt"
nmx_used() { # FILE - distinct MX hosts of those domains
    sed "s|.*|$MXTLS_POP_DIR/zones/&.unsigned|" "$1" | xargs awk '$3 == "MX" { print $5 }' | sort -u | wc -l
}
first_mx() { awk '$3 == "MX" { sub(/\.$/, "", $5); print $5; exit }' "$MXTLS_POP_DIR/zones/$1.unsigned"; }

# world_cpu - CPU seconds (user + system, with waited-for children) of
# every process in the world's namespace: its name servers, relay, Postfix
# and nginx, which share the cores with the tool measured
world_cpu() {
    local hz pid t=0
    hz=$(getconf CLK_TCK)
    for pid in $(ip netns pids "$MXTLS_WORLD_NS"); do
        t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    awk -v t="$t" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}
declare -A world_ms

# timed NAME CMD... - run under /usr/bin/time -v in the namespace; leaves
# NAME.wall (s), NAME.cpu (s), NAME.rss (KiB)
timed() {
    local name=$1
    shift
    $IN /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || true
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s }
        /User time/ { cpu += $2 } /System time/ { cpu += $2 } /Maximum resident/ { rss = $2 }
        END { printf "%.2f %.2f %d\n", wall, cpu, rss }' "$OUT/$name.time" > "$OUT/$name.fig"
}
# sig NAME - "env LD_PRELOAD=sigcost.so MXTLS_SIGCOST_OUT=..." for timed's
# command line (nothing when sigcost.so is not built); sigfig NAME KEY:
# verifies or cpu_s of that run (empty when no signature went through nettle)
SIGCOST=$REPO/build/bench/sigcost.so
sig() { [ -f "$SIGCOST" ] && echo "env LD_PRELOAD=$SIGCOST MXTLS_SIGCOST_OUT=$OUT/$1.sig"; }
sigfig() { [ -s "$OUT/$1.sig" ] && awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) s += $(i + 1) } END { print s }' "$OUT/$1.sig"; }
fig() { awk -v k="$2" '{ print (k == "wall") ? $1 : (k == "cpu") ? $2 : $3 }' "$OUT/$1.fig"; }
# statj FILE KEY.PATH - a number from a --stats-json file
statj() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }

rows=()
row() { # label domains wall cpu rss probes/s rss/probe
    rows+=("$(printf '%-40s %8s %8s %10s %9s %11s %10s %12s' "$1" "$2" "$3" \
        "$(awk -v n="$2" -v w="$3" 'BEGIN { printf "%.3g", (w > 0) ? n / w : 0 }')" "$6" \
        "$(awk -v n="$2" -v c="$4" 'BEGIN { printf "%.1f", (n > 0) ? 1000 * c / n : 0 }')" \
        "$(awk -v r="$5" 'BEGIN { printf "%.1f", r / 1024 }')" "$7")")
}
rate() { awk -v n="$1" -v w="$2" 'BEGIN { print (w > 0) ? n / w : 0 }'; }

echo "population: $N domains over $NMX MX addresses ($(nmx_used "$MXTLS_POP_DOMAINS") used), +$((2 * ${RELAY_DELAY_MS:-25})) ms round trip (mxtls-relay)"

scan_rate=""
if "$MXTLS" scan --help >/dev/null 2>&1; then
    head -n 1 "$MXTLS_POP_DOMAINS" > "$OUT/one.txt"
    timed scan1 "$MXTLS" scan "$OUT/one.txt" --output "$OUT/scan1.jsonl" "${OPTS[@]}"
    base_rss=$(fig scan1 rss)
    for c in 100 1000; do
        # shellcheck disable=SC2046
        timed "scan$c" $(sig "scan$c") "$MXTLS" scan "$MXTLS_POP_DOMAINS" --output "$OUT/scan$c.jsonl" \
            --concurrency "$c" --stats-json "$OUT/scan$c.json" "${OPTS[@]}"
        lines=$(wc -l < "$OUT/scan$c.jsonl")
        conns=$(statj "$OUT/scan$c.json" probes.connections)
        peak=$(statj "$OUT/scan$c.json" probes.peak_connections)
        pps=$(awk -v p="$conns" -v w="$(fig "scan$c" wall)" 'BEGIN { printf "%.1f", (w > 0) ? p / w : 0 }')
        rpp=$(awk -v r="$(fig "scan$c" rss)" -v b="$base_rss" -v p="$peak" 'BEGIN { printf "%.1f", (p > 0) ? (r - b) / p : 0 }')
        row "mxtls scan --concurrency $c" "$lines" "$(fig "scan$c" wall)" "$(fig "scan$c" cpu)" "$(fig "scan$c" rss)" "$pps" "$rpp"
        echo "scan --concurrency $c: $lines lines, $conns connections (peak $peak at once), $(statj "$OUT/scan$c.json" probes.reused) probe results reused, peak RSS above a one-domain scan per domain in flight $(awk -v r="$(fig "scan$c" rss)" -v b="$base_rss" -v c="$c" 'BEGIN { printf "%.1f", (r - b) / c }') KiB, $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("verdicts", j["verdicts"], "failures", j["failures_by_class"])' "$OUT/scan$c.json")"
    done
    scan_rate=$(rate "$(wc -l < "$OUT/scan1000.jsonl")" "$(fig scan1000 wall)")
    if "$MXTLS" scan --help 2>&1 | grep -q -- '--lookup-order'; then
        # shellcheck disable=SC2046
        timed scanpar $(sig scanpar) "$MXTLS" scan "$MXTLS_POP_DOMAINS" --output "$OUT/scanpar.jsonl" \
            --concurrency 1000 --lookup-order parallel "${OPTS[@]}"
        row "mxtls scan --concurrency 1000, parallel" "$(wc -l < "$OUT/scanpar.jsonl")" "$(fig scanpar wall)" \
            "$(fig scanpar cpu)" "$(fig scanpar rss)" "-" "-"
    fi
    timed scansmall "$MXTLS" scan "$OUT/small.txt" --output "$OUT/scansmall.jsonl" --concurrency 1000 \
        --stats-json "$OUT/scansmall.json" "${OPTS[@]}"
    row "mxtls scan, first $SMALL, --concurrency 1000" "$(wc -l < "$OUT/scansmall.jsonl")" "$(fig scansmall wall)" \
        "$(fig scansmall cpu)" "$(fig scansmall rss)" \
        "$(awk -v p="$(statj "$OUT/scansmall.json" probes.connections)" -v w="$(fig scansmall wall)" 'BEGIN { printf "%.1f", (w > 0) ? p / w : 0 }')" "-"
    # Time against distinct MX addresses with the number of domains fixed:
    # SMALL domains behind the five busiest MX hosts, then SMALL domains
    # spread over every MX host (one domain per host in turn).
    python3 - "$MXTLS_POP_DIR/zones" "$MXTLS_POP_DOMAINS" "$SMALL" "$OUT/fewmx.txt" "$OUT/manymx.txt" <<'PY'
import collections, os, sys
zones, domains, n, few_out, many_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
mx = {}
for d in open(domains).read().split():
    with open(os.path.join(zones, d + ".unsigned")) as z:
        mx[d] = {f[4].rstrip(".").lower() for f in (l.split() for l in z) if len(f) >= 5 and f[2] == "MX"}
busiest = {h for h, _ in collections.Counter(h for hs in mx.values() for h in hs).most_common(5)}
few = [d for d in mx if mx[d] and mx[d] <= busiest][:n]
by_host = collections.defaultdict(list)
for d in mx:
    if mx[d]:
        by_host[min(mx[d])].append(d)
many, i = [], 0
while len(many) < n and any(i < len(v) for v in by_host.values()):
    for h in sorted(by_host):
        if i < len(by_host[h]) and len(many) < n:
            many.append(by_host[h][i])
    i += 1
open(few_out, "w").write("\n".join(few) + "\n")
open(many_out, "w").write("\n".join(many) + "\n")
PY
    for set in fewmx manymx; do
        timed "scan$set" "$MXTLS" scan "$OUT/$set.txt" --output "$OUT/scan$set.jsonl" --concurrency 1000 \
            --stats-json "$OUT/scan$set.json" "${OPTS[@]}"
        row "mxtls scan, $(wc -l < "$OUT/$set.txt") domains, $(nmx_used "$OUT/$set.txt") MX hosts" \
            "$(wc -l < "$OUT/scan$set.jsonl")" "$(fig "scan$set" wall)" "$(fig "scan$set" cpu)" "$(fig "scan$set" rss)" \
            "$(awk -v p="$(statj "$OUT/scan$set.json" probes.connections)" -v w="$(fig "scan$set" wall)" 'BEGIN { printf "%.1f", (w > 0) ? p / w : 0 }')" "-"
    done
    # The MTA-STS domains with a trust store the size of a real one
    # (Debian's roots and the world's CA): every policy fetch is verified
    # against it
    ls "$MXTLS_POP_DIR/www" | sed -n 's/^mta-sts\.//p' > "$OUT/sts.txt"
    cat /etc/ssl/certs/ca-certificates.crt "$MXTLS_WORLD_CA" > "$OUT/roots.pem"
    timed scansts "$MXTLS" scan "$OUT/sts.txt" --output "$OUT/scansts.jsonl" --concurrency 1000 \
        --stats-json "$OUT/scansts.json" --root-hints "$MXTLS_WORLD_ROOT_HINTS" \
        --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" --ca-file "$OUT/roots.pem"
    row "mxtls scan, MTA-STS domains, $(grep -c BEGIN "$OUT/roots.pem") roots" "$(wc -l < "$OUT/scansts.jsonl")" \
        "$(fig scansts wall)" "$(fig scansts cpu)" "$(fig scansts rss)" \
        "$(awk -v p="$(statj "$OUT/scansts.json" probes.connections)" -v w="$(fig scansts wall)" 'BEGIN { printf "%.1f", (w > 0) ? p / w : 0 }')" "-"
    echo "scan of the MTA-STS domains with $(grep -c BEGIN "$OUT/roots.pem") roots: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("verdicts", j["verdicts"], "failures", j["failures_by_class"])' "$OUT/scansts.json")"
    # Every core: the workers of --jobs (when this mxtls has it)
    if "$MXTLS" scan --help 2>&1 | grep -q -- '--jobs'; then
        for c in 100 1000; do
            world0=$(world_cpu)
            timed "scanj$c" "$MXTLS" scan "$MXTLS_POP_DOMAINS" --output "$OUT/scanj$c.jsonl" --concurrency "$c" \
                --jobs 0 --stats-json "$OUT/scanj$c.json" "${OPTS[@]}"
            row "mxtls scan --concurrency $c --jobs $(nproc)" "$(wc -l < "$OUT/scanj$c.jsonl")" "$(fig "scanj$c" wall)" \
                "$(fig "scanj$c" cpu)" "$(fig "scanj$c" rss)" \
                "$(awk -v p="$(statj "$OUT/scanj$c.json" probes.connections)" -v w="$(fig "scanj$c" wall)" 'BEGIN { printf "%.1f", (w > 0) ? p / w : 0 }')" "-"
            world_ms[$c]=$(awk -v a="$world0" -v b="$(world_cpu)" -v n="$N" 'BEGIN { printf "%.2f", 1000 * (b - a) / n }')
            rate_j=$(rate "$(wc -l < "$OUT/scanj$c.jsonl")" "$(fig "scanj$c" wall)")
            if awk -v a="$rate_j" -v b="${scan_rate_best:-0}" 'BEGIN { exit !(a > b) }'; then scan_rate_best=$rate_j; fi
        done
    fi
else
    echo "scan: not built (this mxtls has no scan command); the mxtls figure is the check loop's"
fi

# The floor under a scan's rate: every domain's lookups alone (MX, the two
# TXT, its MX hosts' A, AAAA and TLSA) through the scanner's own validating
# resolver (bench/dns_floor), 1000 domains in flight; one process, then one
# per core over a share of the domains each
DNS_FLOOR=$REPO/build/bench/dns_floor
if [ -x "$DNS_FLOOR" ]; then
    FLOOR_ARGS=("$MXTLS_WORLD_ROOT_HINTS" "$MXTLS_WORLD_TRUST_ANCHOR")
    # shellcheck disable=SC2046
    timed dnsfloor $(sig dnsfloor) "$DNS_FLOOR" "$MXTLS_POP_DOMAINS" "${FLOOR_ARGS[@]}" 1000
    row "DNS lookups alone (dns_floor)" "$(awk '{ print $2 }' "$OUT/dnsfloor.out")" "$(fig dnsfloor wall)" \
        "$(fig dnsfloor cpu)" "$(fig dnsfloor rss)" "-" "-"
    split -n "l/$(nproc)" "$MXTLS_POP_DOMAINS" "$OUT/floor-part."
    cat > "$OUT/floor-jobs.sh" <<EOF
for f in "\$@"; do "$DNS_FLOOR" "\$f" "${FLOOR_ARGS[0]}" "${FLOOR_ARGS[1]}" $((1000 / $(nproc))) & done; wait
EOF
    timed dnsfloorj sh "$OUT/floor-jobs.sh" "$OUT"/floor-part.*
    row "DNS lookups alone, $(nproc) processes" "$(awk '{ n += $2 } END { print n }' "$OUT/dnsfloorj.out")" \
        "$(fig dnsfloorj wall)" "$(fig dnsfloorj cpu)" "$(fig dnsfloorj rss)" "-" "-"
    floor_rate=$(rate "$(awk '{ n += $2 } END { print n }' "$OUT/dnsfloorj.out")" "$(fig dnsfloorj wall)")
    mapfile -t floor_lines < <(sed 's/^/one process: /' "$OUT/dnsfloor.out"; sed "s/^/one of $(nproc): /" "$OUT/dnsfloorj.out")
else
    floor_rate=""
    floor_lines=("dns_floor: not built (sh scripts/build.sh)")
fi

# Memory per probe in flight: the scanner's own probe (bench/probe_mem),
# 1,000 at once, (a) whole dialogues with the population's MX listeners
# behind the relay, (b) held with TLS up, waiting for an EHLO reply that the
# world's hostile server (mode tls-ehlo-silent) never sends
PROBE_MEM=$REPO/build/bench/probe_mem
HOSTILE=""
for b in "$REPO/build/tests/world/hostile" "$REPO/build/world-hostile/hostile"; do
    if [ -x "$b" ] && "$b" --list 2>/dev/null | grep -q '^tls-ehlo-silent'; then HOSTILE=$b; break; fi
done
probe_mem_lines=()
if [ -x "$PROBE_MEM" ]; then
    pop_mx=$(awk '$6 == "yes" { print $3 }' "$MXTLS_POP_DIR/mx.tsv" | paste -sd, -)
    probe_mem_lines+=("whole dialogues, population MX behind the relay: $($IN "$PROBE_MEM" 1000 "$pop_mx" | tr '\n' ' ')")
    if [ -n "$HOSTILE" ]; then
        hpids=() haddrs=()
        for i in $(seq 1 16); do
            $IN "$HOSTILE" tls-ehlo-silent "127.0.30.$i" 25 "$MXTLS_WORLD_PKI/inject-chain.pem" \
                "$MXTLS_WORLD_PKI/inject.key" > /dev/null 2>&1 &
            hpids+=($!) haddrs+=("127.0.30.$i")
        done
        sleep 1
        probe_mem_lines+=("held with TLS up (hostile tls-ehlo-silent): $($IN "$PROBE_MEM" 1000 "$(IFS=,; echo "${haddrs[*]}")" 25 3000 | tr '\n' ' ')")
        kill "${hpids[@]}" 2>/dev/null || true
        wait "${hpids[@]}" 2>/dev/null || true
    else
        probe_mem_lines+=("held with TLS up: skipped (no hostile server with mode tls-ehlo-silent; sh scripts/build.sh)")
    fi
else
    probe_mem_lines+=("probe_mem: not built (sh scripts/build.sh)")
fi

# one `mxtls check` process per domain, one after the other
cat > "$OUT/check-loop.sh" <<EOF
while read -r d; do "$MXTLS" check "\$d" --json ${OPTS[*]} > "$OUT/check-\$d.json" || true; done < "$OUT/sample.txt"
EOF
timed checkloop sh "$OUT/check-loop.sh"
row "mxtls check loop (one process each)" "$SAMPLE" "$(fig checkloop wall)" "$(fig checkloop cpu)" "$(fig checkloop rss)" "-" "-"
check_rate=$(rate "$SAMPLE" "$(fig checkloop wall)")

# posttls-finger, as surveys script it: the world's resolver (validating,
# caching); one warm-up pass, the second pass timed
cat > "$OUT/pf-loop.sh" <<EOF
while read -r d; do MAIL_CONFIG="$OUT" posttls-finger -c -l secure -F "$MXTLS_WORLD_CA" "\$d" > "$OUT/pf-\$d.txt" 2>&1 || true; done < "$OUT/sample.txt"
EOF
$IN sh "$OUT/pf-loop.sh" || true
timed pfloop sh "$OUT/pf-loop.sh"
row "posttls-finger loop (warm resolver)" "$SAMPLE" "$(fig pfloop wall)" "$(fig pfloop cpu)" "$(fig pfloop rss)" "-" "-"
pf_rate=$(rate "$SAMPLE" "$(fig pfloop wall)")
pf_tls=$(cat "$OUT"/pf-*.txt | grep -c 'TLS connection established' || true)

# testssl.sh, its default run of every check, per domain's MX
if command -v testssl >/dev/null 2>&1; then
    head -n "$TESTSSL_N" "$MXTLS_POP_DOMAINS" | while read -r d; do echo "$d $(first_mx "$d")"; done > "$OUT/testssl.txt"
    cat > "$OUT/testssl-loop.sh" <<EOF
while read -r d h; do testssl --quiet --color 0 --warnings off --ip one --starttls smtp "\$h:25" > "$OUT/testssl-\$d.txt" 2>&1 || true; done < "$OUT/testssl.txt"
EOF
    timed testssl env ADDTL_CA_FILES="$MXTLS_WORLD_CA" sh "$OUT/testssl-loop.sh"
    row "testssl.sh --starttls smtp MX:25 loop" "$TESTSSL_N" "$(fig testssl wall)" "$(fig testssl cpu)" "$(fig testssl rss)" "-" "-"
    ts_rate=$(rate "$TESTSSL_N" "$(fig testssl wall)")
else
    ts_rate=""
    echo "testssl.sh: not installed (apt-get install testssl.sh)"
fi

echo
printf '%-40s %8s %8s %10s %9s %11s %10s %12s\n' "" domains "wall s" "domains/s" "probes/s" "CPU ms/dom" "peak RSS" "RSS KiB/"
printf '%-40s %8s %8s %10s %9s %11s %10s %12s\n' "" "" "" "" "" "" "MiB" "probe"
printf '%s\n' "${rows[@]}"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.3g", a / b }'; }
echo "memory per probe in flight (bench/probe_mem, 1000 probes at once):"
printf '  %s\n' "${probe_mem_lines[@]}"
if [ -n "$scan_rate" ]; then
    echo "ratios (domains/s): scan c1000 / posttls-finger loop $(ratio "$scan_rate" "$pf_rate"); scan c1000 / testssl.sh $(ratio "$scan_rate" "$ts_rate")"
    [ -n "${scan_rate_best:-}" ] && echo "ratios (domains/s): scan --jobs $(nproc), best concurrency / posttls-finger loop $(ratio "$scan_rate_best" "$pf_rate")"
    for c in "${!world_ms[@]}"; do
        echo "the world's servers during scan --concurrency $c --jobs $(nproc): ${world_ms[$c]} ms CPU per domain (on the same cores)"
    done
    if [ -n "$floor_rate" ]; then
        echo "DNS alone (bench/dns_floor), $(nproc) processes: $(printf '%.0f' "$floor_rate") domains/s; scan --jobs $(nproc), best concurrency, is $(ratio "${scan_rate_best:-$scan_rate}" "$floor_rate") of it"
        printf '  %s\n' "${floor_lines[@]}"
    fi
    # DNSSEC signature checks: count, CPU, and OpenSSL's time for the same
    # verification (ECDSA P-256, the population's algorithm) measured now
    ossl_us=$(openssl speed -seconds 1 ecdsap256 2>/dev/null |
        awk '/ecdsa \(nistp256\)/ { if ($NF > 0) printf "%.1f", 1e6 / $NF }')
    for r in scan1000:"scan --concurrency 1000" scanpar:"scan --concurrency 1000, parallel" dnsfloor:"dns_floor"; do
        n=$(sigfig "${r%%:*}" verifies) cs=$(sigfig "${r%%:*}" cpu_s)
        if [ -n "$n" ] && [ -s "$OUT/${r%%:*}.fig" ]; then
            echo "DNSSEC signatures verified (libunbound through nettle), ${r#*:}: $(awk -v n="$n" -v d="$N" 'BEGIN { printf "%.2f", n / d }') per domain, $(awk -v c="$cs" -v d="$N" 'BEGIN { printf "%.2f", 1000 * c / d }') ms CPU per domain, $(awk -v c="$cs" -v t="$(fig "${r%%:*}" cpu)" 'BEGIN { printf "%.0f", (t > 0) ? 100 * c / t : 0 }')% of its CPU, $(awk -v c="$cs" -v n="$n" 'BEGIN { printf "%.0f", 1e6 * c / n }') us each"
        elif [ -s "$OUT/${r%%:*}.fig" ]; then
            echo "DNSSEC signatures, ${r#*:}: none verified through nettle (libunbound built with another library, or sigcost.so not built)"
        fi
    done
    [ -n "$ossl_us" ] && echo "OpenSSL's ECDSA P-256 verify on this machine (openssl speed ecdsap256): $ossl_us us"
    echo "time vs distinct MX addresses, $SMALL domains each: $(nmx_used "$OUT/fewmx.txt") MX hosts $(fig scanfewmx wall) s, $(nmx_used "$OUT/manymx.txt") MX hosts $(fig scanmanymx wall) s"
    echo "time vs distinct MX addresses: $SMALL domains ($(nmx_used "$OUT/small.txt") MX hosts) $(fig scansmall wall) s, $N domains ($(nmx_used "$MXTLS_POP_DOMAINS") MX hosts) $(fig scan1000 wall) s: $(ratio "$(fig scan1000 wall)" "$(fig scansmall wall)")x the time for $(ratio "$N" "$SMALL")x the domains"
fi
echo "ratios (domains/s): check loop / posttls-finger loop $(ratio "$check_rate" "$pf_rate"); check loop / testssl.sh $(ratio "$check_rate" "$ts_rate"); posttls-finger loop / testssl.sh $(ratio "$pf_rate" "$ts_rate")"
echo "posttls-finger: TLS established in $pf_tls of $SAMPLE runs; mxtls check: $(cat "$OUT"/check-*.json | grep -c '"domain"' || true) of $SAMPLE reports"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
