/* advice.h - the operator's to-do list of a finished check
 *
 * Pure: the input is the finished report (hosts, addresses, the probe
 * report of each connection, each level's per-address result); no I/O, no
 * clock. The rules (docs/policies.md): a policy-map entry whose protocols=
 * leaves no TLS 1.2 or 1.3; DNSSEC failures of the MX and TLSA RRsets with
 * what the zone's operator should do; TLSA records that DANE senders ignore
 * (an unsigned zone); a null MX mixed with real ones; the advice of the auto
 * level's and verify's results; per connection: bytes injected after the
 * STARTTLS reply, TLS < 1.2, a weak cipher; per address: a certificate that
 * depends on SNI. */
#ifndef MXTLS_ENGINE_ADVICE_H
#define MXTLS_ENGINE_ADVICE_H

#include <openssl/x509.h>

#include "engine/check.h"

/* check_advice - append the advice to rep->advice (unique, in the order
 * above); MXTLS_ERR_NOMEM when out of memory (the list is then incomplete) */
mxtls_status check_advice(check_report *rep);

/* check_leaf - the leaf a finished TLS connection showed, or NULL */
X509 *check_leaf(const check_conn *c);

#endif
