#!/bin/sh
# report.sh - mxtls report: survey figures of check JSON Lines as text, JSON
# and a self-contained HTML page (rendered in headless Chromium by
# lib/report_html.py, which checks the figures it shows against its own
# count of the JSON Lines), rejected lines with their numbers, usage errors
#
# Needs MXTLS_BIN and MXTLS_SOURCE_DIR; Chromium (scripts/deps.sh installs it).
set -eu
. "$(dirname "$0")/lib/assert.sh"
FIX=${MXTLS_SOURCE_DIR:?MXTLS_SOURCE_DIR is not set}/tests/data/report/world.jsonl
NOW=2026-12-05T20:00:00Z
cd "$T"

# ---- text: the whole output for the fixture (13 world domains)
run 0 report "$FIX" --now "$NOW"
exactly out <<'TEXT'
domains: 13 checked, 0 input errors, 0 lines rejected
verdicts: pass 9 (69.2%), fail 2 (15.4%), tempfail 2 (15.4%)
DNSSEC: MX secure for 11 domains (84.6%) [secure 11, bogus 1, insecure 1]
MX: null MX 1, no MX (implicit MX) 1; lookup data 11, nodata 1, servfail 1
STARTTLS (domains): on every server 9 (69.2%), some 0, none 2, unreachable 0, no address 2
addresses: 11, connected 11, STARTTLS 9, TLS 9
TLS versions (addresses): TLSv1.3 9 (100.0%)
pass rates per level:
  level                            pass     fail tempfail   pass%
  verify                              8        3        2   61.5%
  dane                                9        2        2   69.2%
  mta-sts                             9        2        2   69.2%
  requiretls                          1       10        2    7.7%
  none                               10        1        2   76.9%
  may                                10        1        2   76.9%
  encrypt                             9        2        2   69.2%
  fingerprint                         0        2       11    0.0%
  secure                              7        4        2   53.8%
  dane-only                           1       10        2    7.7%
  esa-preferred                      10        1        2   76.9%
  esa-required                        9        2        2   69.2%
  esa-preferred-verify               10        1        2   76.9%
  esa-required-verify                 8        3        2   61.5%
  esa-required-verify-hosted          8        3        2   61.5%
top failure reasons (domains not passing):
         1  banner-rejected
         1  dns-bogus
         1  null-mx
         1  tlsa-mismatch
certificates: 1 expiring within 30 days of 2026-12-05T20:00:00Z, 1 expired
  expiring.test mx.expiring.test [127.0.7.1] not after 2026-12-25T19:25:15Z (19 days)
  expired.test mx.expired.test [127.0.2.3] not after 2025-12-05T19:25:13Z (-366 days)
worst domains (13 shown; 13 domains do not pass every level):
  nullmx.test: fail at may (null-mx: the domain publishes a null MX (RFC 7505): it accepts no mail); 15 levels not passing
  dane-mismatch.test: fail at dane (tlsa-mismatch: no usable TLSA record of mx.dane-mismatch.test matches the certificate chain the server presented); 5 levels not passing
  banner-421.test: tempfail at may (banner-rejected: the greeting refused the session: 421 4.3.2 mx.banner-421.test hostile: service not available); 15 levels not passing
  bogus-expired.test: tempfail at may (dns-bogus: validation failure <bogus-expired.test. MX IN>: signature expired from 127.0.1.3 for key bogus-expired.test. while building chain of trust); 15 levels not passing
  plain.test: pass at may (no-starttls: the server does not offer STARTTLS; level may delivers in plaintext); 9 levels not passing
  expired.test: pass at may (encrypted: TLS is established; level may does not authenticate the server); 7 levels not passing
  sts-404.test: pass at may (encrypted: TLS is established; level may does not authenticate the server); 4 levels not passing
  expiring.test: pass at may (encrypted: TLS is established; level may does not authenticate the server); 3 levels not passing
  good.test: pass at may (encrypted: TLS is established; level may does not authenticate the server); 3 levels not passing
  implicit.test: pass at may (encrypted: TLS is established; level may does not authenticate the server); 3 levels not passing
  insecure.test: pass at may (encrypted: TLS is established; level may does not authenticate the server); 3 levels not passing
  sts.test: pass at mta-sts (sts-verified: the MTA-STS policy (fetched, mode enforce) covers mx.sts.test (mx mx.sts.test) and the certificate is valid for it (subjectAltName mx.sts.test)); 3 levels not passing
  requiretls.test: pass at dane (dane-verified: the DANE-EE record "3 1 1" of mx.requiretls.test matches the certificate at depth 0); 1 level not passing
TEXT
empty err
# standard input gives the same
"$BIN" report - --now "$NOW" <"$FIX" >stdin.out
checks=$((checks + 1))
cmp -s stdin.out "$T/out" || fail "report - differs from report FILE"

# ---- lines that are not check reports: skipped, counted, listed by number
{ head -n 1 "$FIX"; echo; echo garbage; echo '{"domain":"bad..test","error":{"message":"empty label"}}'
  echo '{"schema_version":1}'; printf '[1]'; } >mixed.jsonl
run 0 report mixed.jsonl --now "$NOW"
first out "domains: 1 checked, 1 input errors, 3 lines rejected"
line out "input errors and rejected lines:"
line out "  line 3: not JSON: '[' or '{' expected near 'garbage' (column 7)"
line out "  bad..test: empty label"
line out "  line 5: not a check object: 'domain' is missing or not a string"
line out "  line 6: not a JSON object"
empty err

# ---- JSON
run 0 report mixed.jsonl --now "$NOW" --json
python3 - "$T/out" <<'PY' >py.out 2>&1 || true
import json, sys
d = json.load(open(sys.argv[1]))
print(d["schema_version"], d["now"], d["domains"], d["errors"], d["rejected_lines"],
      d["verdicts"], [(e["line"], e["input"]) for e in d["error_lines"]])
PY
exactly py.out <<'PY'
1 2026-12-05T20:00:00Z 1 1 3 {'pass': 1, 'fail': 0, 'tempfail': 0} [(3, None), (None, 'bad..test'), (5, None), (6, None)]
PY
count out . 1

# ---- --html writes the page and still prints the text
run 0 report "$FIX" --now "$NOW" --html page.html
first out "domains: 13 checked, 0 input errors, 0 lines rejected"
checks=$((checks + 1))
[ -s page.html ] || fail "no page written"
first page.html "<!DOCTYPE html>"
frag page.html "<title>mxtls survey: 13 domains</title>"

# ---- usage and input errors
run 2 report
line err "mxtls report: FILE.jsonl (or - for standard input) is required"
run 2 report nonexistent.jsonl
line err "mxtls report: nonexistent.jsonl: No such file or directory"
run 2 report "$FIX" --now yesterday
line err "mxtls report: --now needs an RFC 3339 UTC time such as 2026-06-01T00:00:00Z"
run 2 report "$FIX" --expiry-days 0
line err "mxtls report: --expiry-days needs a number of days, 1 to 3650"
run 2 report "$FIX" --bogus
line err "mxtls report: unknown option '--bogus'"
run 4 report "$FIX" --html "$T/no/such/dir/page.html"
line err "mxtls report: $T/no/such/dir/page.html: No such file or directory"
empty out

# ---- the page in Chromium: figures, charts, worst domains, the filter, and
# a hostile check object shown as text only
checks=$((checks + 1))
if ! command -v chromium >/dev/null 2>&1; then
    fail "chromium is not installed: run scripts/deps.sh"
elif ! python3 "$(dirname "$0")/lib/report_html.py" "$BIN" "$FIX" "$NOW" --hostile >html.out 2>&1; then
    fail "the page in Chromium: $(cat html.out)"
fi

finish
