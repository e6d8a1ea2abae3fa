/* revshare.h - revocation results shared by the checks of one engine
 *
 * With probe sharing (probeshare.h) many checks receive the same chain at
 * the same moment; each would ask the same OCSP responder or fetch the same
 * CRL. Here the revocation check of a chain (the certificates' DER, the
 * stapled response, the validation time) runs once, on the engine's own
 * HTTPS client, so that a check that stops early does not cancel it for the
 * others; checks asking meanwhile join it, later ones get the kept result.
 * A result without an answer (MXTLS_REVOCATION_UNAVAILABLE) is handed to the
 * checks waiting for it but not kept: the next check asks again, as a check
 * of its own would. At most REVSHARE_MAX_ENTRIES results are kept, the oldest
 * dropped first. */
#ifndef MXTLS_ENGINE_REVSHARE_H
#define MXTLS_ENGINE_REVSHARE_H

#include <time.h>

#include <openssl/x509.h>

#include "core/base.h"
#include "io/revocation.h"

struct event_base;

#define REVSHARE_MAX_ENTRIES 16384

typedef struct revshare revshare;
typedef struct revshare_wait revshare_wait;

/* revshare_new - NULL when out of memory */
revshare *revshare_new(struct event_base *base);
/* revshare_free - stops every fetch; no callback runs afterwards */
void revshare_free(revshare *rs);

/* revshare_get - the revocation status of CHAIN (leaf first) with its
 * stapled response: kept, joined or started (revocation_check's arguments).
 * CB runs once, from the loop, never inside this call, with a result of the
 * waiter's own (revocation_cb's rules). NULL with the error in e. */
revshare_wait *revshare_get(revshare *rs, STACK_OF(X509) *chain, X509_STORE *store,
                            const unsigned char *staple, size_t staple_len, time_t at,
                            int timeout_ms, revocation_cb cb, void *arg, err_rec *e);
/* revshare_cancel - this waiter no longer wants the result (no callback);
 * the fetch goes on for the others and for the kept result */
void revshare_cancel(revshare_wait *w);

/* revshare_stats - fetches made, and results handed out without a fetch */
void revshare_stats(const revshare *rs, unsigned long *fetches, unsigned long *reused);

#endif
