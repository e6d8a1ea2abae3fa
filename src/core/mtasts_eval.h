/* mtasts_eval.h - the level mta-sts: one MX host judged as an MTA-STS sender
 * does (RFC 8461 §4, §5), with DANE first (§2)
 *
 * Pure: the evidence (chain, TLSA state, the policy in force given with
 * mxtls_evidence_set_sts_policy) in, a result out. mxtls_evaluate() comes
 * here for MXTLS_LEVEL_MTA_STS. The rules, in order:
 *  1. DANE applies to the host (DNSSEC-secure usable TLSA records reached
 *     through a secure MX RRset): the dane level's verdict, MTA-STS does not
 *     apply (RFC 8461 §2) - info reason sts-dane-precedence.
 *  2. No policy, or mode none: the may level's verdict - info reason
 *     sts-no-policy or sts-mode-none.
 *  3. enforce: fail unless the MX host is covered by an mx pattern (§4.1,
 *     sts-mx-not-covered), TLS is established (sts-no-tls), the chain
 *     validates (PKIX code) and a DNS subjectAltName matches the MX host
 *     (§4.2, no CN fallback: sts-name-mismatch). Pass: sts-verified.
 *  4. testing: the may level's verdict; each failure of 3 is a warning
 *     (§5: "report the failure, deliver anyway"), info reason sts-testing.
 */
#ifndef MXTLS_CORE_MTASTS_EVAL_H
#define MXTLS_CORE_MTASTS_EVAL_H

#include "mxtls.h"

mxtls_result *mtasts_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev);

/* requiretls_evaluate - the level requiretls: a message sent with the
 * REQUIRETLS MAIL FROM option (RFC 8689 §4.2) is delivered only when the
 * connection is TLS authenticated by DANE (the dane level passes with
 * security dane) or by an MTA-STS policy in mode enforce (the mta-sts level
 * passes with sts-verified), and the server lists REQUIRETLS in its EHLO
 * reply over TLS. Otherwise it is not delivered: fail
 * requiretls-not-authenticated or requiretls-not-advertised (the message is
 * returned); a temporary failure of DANE or the session stays tempfail. */
mxtls_result *requiretls_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev);

#endif
