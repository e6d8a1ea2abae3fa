#!/bin/bash
# population.sh up [N [MX]] | down | env - many signed mail domains, 50 ms away,
# added to a running test world (tests/world/world) on demand
#
#   MXTLS_WORLD_NS=... tests/world/world up
#   MXTLS_WORLD_NS=... bench/population.sh up 5000 120
#
# N domains popNNNNN.test (default 5000) over MX mail hosts (default 120,
# at most 254) mxKKK.provPP.test in 12 provider zones, heavy-tailed (a few
# hosts serve most domains; bench/population.py), every zone DNSSEC-signed
# and delegated from the world's test. zone with its DS, some MX hosts with
# TLSA 3 1 1, one domain in ten with an MTA-STS policy (enforce). Behind
# mxtls-relay (RELAY_DELAY_MS each way, default 25: 50 ms round trip):
#
#   address               what clients see              relayed to
#   127.0.20.1:53 (udp,tcp) ns1.popdns.test             NSD 127.0.21.1 (every population zone)
#   127.0.22.K:25         mxKKK.provPP.test             Postfix 127.0.23.K:25
#   127.0.24.1:443        mta-sts.popNNNNN.test         nginx 127.0.25.1:443
#
# The daemons (pop-nsd, pop-postfix, pop-nginx, pop-relay) are recorded in the
# world's run dir, so `world status` watches them and `world down` stops them;
# their files are under <state>/population, their logs <state>/log/pop-*.
# `down` stops them and puts test. back as the world made it. The relay's
# control file is <state>/population/relay.control (SIGHUP the pid in
# <state>/run/pop-relay.pid). Needs root and a built mxtls-relay
# (MXTLS_RELAY_BIN, default build/bench/mxtls-relay).
set -eu -o pipefail
export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C
umask 022
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
WORLD=$REPO/tests/world/world
CMD=${1:-}
N=${2:-5000}
NMX=${3:-120}
DELAY_MS=${RELAY_DELAY_MS:-25}
RELAY_BIN=${MXTLS_RELAY_BIN:-$REPO/build/bench/mxtls-relay}

log() { printf 'population: %s\n' "$*" >&2; }
die() { printf 'population: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { log "needs root (the test world)"; exit 77; }

eval "$("$WORLD" env)"
NS=$MXTLS_WORLD_NS
STATE=$MXTLS_WORLD_DIR
RUN=$STATE/run
LOG=$STATE/log
P=$STATE/population
DNS=$STATE/dns
nsx() { ip netns exec "$NS" "$@"; }

pop_pid_alive() {
    local f=$RUN/$1.pid pid
    [ -f "$f" ] || return 1
    pid=$(tr -dc 0-9 < "$f")
    [ -n "$pid" ] && [ -d "/proc/$pid" ]
}

stop_one() {
    local name=$1 f=$RUN/$1.pid pid i
    [ -f "$f" ] || return 0
    pid=$(tr -dc 0-9 < "$f")
    if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            [ -d "/proc/$pid" ] || break
            sleep 0.1
        done
        if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$f"
}

cmd_down() {
    local name
    for name in pop-relay pop-postfix pop-nginx pop-nsd; do stop_one "$name"; done
    # test. as the world made it
    if [ -f "$P/test.unsigned.world" ]; then
        cp "$P/test.unsigned.world" "$DNS/test.unsigned"
        sign_test
    fi
    rm -rf "${P:?}"
    log "down"
}

# sign_test - sign test. from $DNS/test.unsigned with the world's keys and
# the world's validity window (tests/world/world zone_make), reload its NSD
sign_test() {
    local keys=$DNS/keys now
    now=$(date +%s)
    ldns-signzone -i $((now - 86400)) -e $((now + 30 * 86400)) -o test. -f "$DNS/test.zone" "$DNS/test.unsigned" \
        "$keys/$(cat "$keys/test.zsk")" "$keys/$(cat "$keys/test.ksk")" > "$P/sign-test.log" 2>&1 ||
        { cat "$P/sign-test.log" >&2; die "signing test. failed"; }
    # NSD re-reads zone files whose mtime changed on SIGHUP
    kill -HUP "$(tr -dc 0-9 < "$RUN/nsd-tld.pid")"
}

# issue NAME SANS CN - a leaf of the world's intermediate, as the world issues
# them (tests/pki/pki.sh, validity now-1d .. now+1y, OCSP and CRL URLs)
issue() {
    (
        # shellcheck disable=SC2034 # read by pki.sh
        PKI_DIR=$STATE/pki
        # shellcheck source=/dev/null
        . "$REPO/tests/pki/pki.sh"
        PKI_START=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ) PKI_END=$(date -u -d '+1 year' +%Y%m%d%H%M%SZ) \
            PKI_AIA=http://ocsp.pki.test:8888/ PKI_CRLDP=http://crl.pki.test/inter.crl \
            pki_leaf "$1" inter "$2" "$3"
    ) >> "$P/pki.log" 2>&1 || { cat "$P/pki.log" >&2; die "issuing $1 failed"; }
    cat "$STATE/pki/$1.crt" "$STATE/pki/inter.crt" > "$STATE/pki/$1-chain.pem"
}

wait_for() { # WHAT TENTHS CMD... - until CMD succeeds
    local what=$1 n=$2 i
    shift 2
    for ((i = 0; i < n; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "$what did not come up (see $LOG/pop-*.log)"
}

record_pidfile() { # NAME FILE
    wait_for "$1" 300 test -s "$2"
    tr -dc 0-9 < "$2" > "$RUN/$1.pid"
}

count_listeners() { # PREFIX - TCP listeners on addresses starting so
    nsx ss -Hltn | awk -v p="$1" '$4 ~ "^" p { n++ } END { print n + 0 }'
}

# start_relay - mxtls-relay in front of the population's listeners (a new
# one: `up` restarts just the relay when only it is gone, e.g. after a rebuild)
start_relay() {
    local host relay real
    local maps=(--map udp:127.0.20.1:53=127.0.21.1:53 --map tcp:127.0.20.1:53=127.0.21.1:53
        --map tcp:127.0.24.1:443=127.0.25.1:443)
    while IFS=$'\t' read -r _ host relay real _; do
        maps+=(--map "tcp:$relay:25=$real:25")
    done < "$P/mx.tsv"
    rm -f "$P/relay.pid"
    echo "delay $DELAY_MS" > "$P/relay.control"
    (cd / && exec ip netns exec "$NS" setsid "$RELAY_BIN" "${maps[@]}" --delay-ms "$DELAY_MS" \
        --control "$P/relay.control" --pidfile "$P/relay.pid" </dev/null >>"$LOG/pop-relay.log" 2>&1) &
    record_pidfile pop-relay "$P/relay.pid"

    wait_for "the relay's listeners" 100 test "$(count_listeners 127.0.22.)" -ge "$NMX"
}

cmd_up() {
    local name
    # a dead population daemon is restarted below, not a reason to call the world down
    for name in pop-relay pop-nsd pop-postfix pop-nginx; do
        pop_pid_alive "$name" || rm -f "$RUN/$name.pid"
    done
    "$WORLD" status >/dev/null 2>&1 || die "the world is not up (MXTLS_WORLD_NS=$NS tests/world/world up)"
    [ -x "$RELAY_BIN" ] || die "no relay at $RELAY_BIN (build the project first)"
    if [ -f "$P/ready" ] && [ "$(cat "$P/ready")" = "$N $NMX $DELAY_MS" ] &&
        pop_pid_alive pop-relay && pop_pid_alive pop-nsd && pop_pid_alive pop-postfix && pop_pid_alive pop-nginx; then
        log "up already ($N domains, $NMX MX hosts, $DELAY_MS ms each way)"
        return 0
    fi
    if [ -f "$P/ready" ] && [ "$(cat "$P/ready")" = "$N $NMX $DELAY_MS" ] &&
        pop_pid_alive pop-nsd && pop_pid_alive pop-postfix && pop_pid_alive pop-nginx; then
        stop_one pop-relay
        start_relay
        log "up already; relay restarted ($N domains, $NMX MX hosts, $DELAY_MS ms each way)"
        return 0
    fi
    [ -d "$P" ] && cmd_down
    local t0
    t0=$(date +%s)
    mkdir -p "$P/keys" "$P/nsd" "$P/nginx/tmp"
    cp "$DNS/test.unsigned" "$P/test.unsigned.world"

    # certificates: one per provider (its MX names), one for the mta-sts names
    local p sans
    for ((p = 1; p <= 12; p++)); do
        sans=$(awk -v p="$p" -v n="$NMX" 'BEGIN { per = int(n / 12); s = ""
            for (k = 1; k <= n; k++) { q = int((k - 1) / per) + 1; if (q > 12) q = 12
                if (q == p) s = s (s == "" ? "" : ",") sprintf("DNS:mx%03d.prov%02d.test", k, p) }
            print s }')
        issue "pop-prov$(printf %02d "$p")" "$sans" "prov$(printf %02d "$p").test"
    done
    # TLSA 3 1 1 for providers 1-3 (the SHA-256 of the key, tests/world/world tlsa_rdata)
    : > "$P/tlsa.tsv"
    for p in 1 2 3; do
        printf '%s %s\n' "$p" "$(openssl x509 -in "$STATE/pki/pop-prov0$p.crt" -pubkey -noout |
            openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | awk '{ print $1 }')" >> "$P/tlsa.tsv"
    done

    # zones, signed with one shared key pair (bench/population.py)
    local ksk zsk now
    ksk=$(cd "$P/keys" && ldns-keygen -a ECDSAP256SHA256 -k popdns.test.)
    zsk=$(cd "$P/keys" && ldns-keygen -a ECDSAP256SHA256 popdns.test.)
    now=$(date +%s)
    python3 "$HERE/population.py" "$P" "$N" "$NMX" "$P/keys/$ksk.key" "$P/keys/$zsk.key" \
        $((now - 86400)) $((now + 30 * 86400))
    xargs -P "$(nproc)" -L 1 ldns-signzone < "$P/sign.jobs" > "$P/sign.log" 2>&1 ||
        { tail "$P/sign.log" >&2; die "signing the population zones failed"; }
    issue pop-sts "$(sed 's/^/DNS:/' "$P/sts-names.txt" | paste -sd,)" "mta-sts.population.test"
    log "$(wc -l < "$P/zones.list") zones signed, certificates issued ($(($(date +%s) - t0)) s)"

    # the population's name server
    {
        cat <<EOF
server:
    ip-address: 127.0.21.1
    port: 53
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$P/zones"
    database: ""
    zonelistfile: "$P/nsd/zone.list"
    xfrdfile: "$P/nsd/xfrd.state"
    xfrdir: "$P/nsd"
    pidfile: "$P/nsd/nsd.pid"
    logfile: "$LOG/pop-nsd.log"
    verbosity: 1
    hide-version: yes
    reuseport: no
    rrl-ratelimit: 0
    tcp-count: 1000
remote-control:
    control-enable: no
EOF
        awk '{ printf "zone:\n    name: \"%s\"\n    zonefile: \"%s.zone\"\n", $1, $1 }' "$P/zones.list"
    } > "$P/nsd/nsd.conf"
    nsd-checkconf "$P/nsd/nsd.conf" || die "the population's nsd.conf is invalid"
    (cd / && nsx timeout 120 nsd -c "$P/nsd/nsd.conf" </dev/null >>"$LOG/pop-nsd.log" 2>&1) ||
        { tail "$LOG/pop-nsd.log" >&2; die "the population's nsd failed to start"; }
    record_pidfile pop-nsd "$P/nsd/nsd.pid"

    # test. delegates every population zone (NS + DS)
    cat "$P/test.unsigned.world" "$P/test.additions" > "$DNS/test.unsigned"
    sign_test

    # Postfix: one instance, one smtpd service per MX address
    local pf=$P/postfix
    mkdir -p "$pf/conf" "$pf/data" "$pf/queue"
    chown postfix "$pf/data"
    sed -e "s|^queue_directory = .*|queue_directory = $pf/queue|" \
        -e "s|^data_directory = .*|data_directory = $pf/data|" \
        -e "s|^maillog_file = .*|maillog_file = $LOG/pop-postfix.log|" \
        -e "/^smtpd_tls_loglevel = /d" \
        "$STATE/postfix/conf/main.cf" > "$pf/conf/main.cf"
    # Every Postfix process logs through postlogd's datagram socket. A
    # warning at process start (a main.cf entry given twice) is logged by
    # postlogd too, into its own socket: with the socket's queue full of
    # smtpd lines (net.unix.max_dgram_qlen is 10 in a new namespace) it
    # blocks on itself and every smtpd behind it stops (seen with 1,000
    # connections at once). Hence no duplicate entry above, and a longer queue.
    nsx sysctl -q -w net.unix.max_dgram_qlen=512
    cat >> "$pf/conf/main.cf" <<'EOF'
# the benchmark population: many listeners, many connections at once
smtpd_peername_lookup = no
smtpd_tls_loglevel = 0
default_process_limit = 1000
EOF
    {
        sed -n '/^# service type/,/^postlog/p' "$STATE/postfix/conf/master.cf"
        local host relay real prov tls
        while IFS=$'\t' read -r _ host relay real prov tls _; do
            printf '%s:25 inet n - n - 4 smtpd\n  -o myhostname=%s\n' "$real" "$host"
            if [ "$tls" = yes ]; then
                printf '  -o smtpd_tls_chain_files=%s,%s\n' "$STATE/pki/pop-$prov.key" "$STATE/pki/pop-$prov-chain.pem"
            else
                printf '  -o smtpd_tls_security_level=none\n'
            fi
        done < "$P/mx.tsv"
    } > "$pf/conf/master.cf"
    (cd / && MAIL_CONFIG=$pf/conf nsx timeout 60 postfix -c "$pf/conf" start </dev/null >>"$LOG/pop-postfix-start.log" 2>&1) ||
        { tail "$LOG/pop-postfix-start.log" "$LOG/pop-postfix.log" >&2 2>/dev/null; die "the population's postfix failed to start"; }
    record_pidfile pop-postfix "$pf/queue/pid/master.pid"

    # nginx for the MTA-STS policies (its own instance: many connections at once)
    chmod -R a+rX "$P/www"
    cat > "$P/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $P/nginx/nginx.pid;
error_log $LOG/pop-nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $P/nginx/tmp/body;
    proxy_temp_path $P/nginx/tmp/proxy;
    fastcgi_temp_path $P/nginx/tmp/fastcgi;
    uwsgi_temp_path $P/nginx/tmp/uwsgi;
    scgi_temp_path $P/nginx/tmp/scgi;
    types { text/plain txt; }
    default_type application/octet-stream;
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 127.0.25.1:443 ssl;
        server_name _;
        ssl_certificate $STATE/pki/pop-sts-chain.pem;
        ssl_certificate_key $STATE/pki/pop-sts.key;
        root $P/www/\$host;
    }
}
EOF
    (cd / && nsx timeout 60 nginx -c "$P/nginx/nginx.conf" -p "$P/nginx" -e "$LOG/pop-nginx-error.log" \
        </dev/null >>"$LOG/pop-nginx-start.log" 2>&1) ||
        { tail "$LOG/pop-nginx-start.log" "$LOG/pop-nginx-error.log" >&2; die "the population's nginx failed to start"; }
    record_pidfile pop-nginx "$P/nginx/nginx.pid"

    start_relay

    # ready: every listener, and a population domain validates through the world's resolver
    wait_for "the population's smtpd listeners" 300 test "$(count_listeners 127.0.23.)" -ge "$NMX"
    wait_for "pop00001.test MX (validated)" 300 sh -c \
        "ip netns exec '$NS' dig +time=2 +tries=1 +dnssec @$MXTLS_WORLD_RESOLVER pop00001.test MX | grep -q 'flags:.* ad[ ;]'"
    echo "$N $NMX $DELAY_MS" > "$P/ready"
    log "up: $N domains, $NMX MX hosts, +$((2 * DELAY_MS)) ms round trip ($(($(date +%s) - t0)) s); domains in $P/domains.txt"
}

case $CMD in
up) cmd_up ;;
down) if [ -d "$P" ]; then cmd_down; else log "no population"; fi ;;
env) printf "export MXTLS_POP_DIR='%s'\nexport MXTLS_POP_DOMAINS='%s'\n" "$P" "$P/domains.txt" ;;
*) echo "usage: population.sh up [N [MX]] | down | env" >&2; exit 2 ;;
esac
