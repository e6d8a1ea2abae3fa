/* probeshare.h - probe results shared by the checks of one engine, and
 * politeness towards the servers they connect to
 *
 * A survey checks many domains whose MX hosts are few: one provider's MX
 * serves thousands of them. With sharing on, a probe's result is kept for the
 * engine's life under its key (MX host name, address, port, implicit TLS,
 * EHLO name, ClientHello: SNI, protocol and cipher limits, security level,
 * OCSP request); a second check asking for the same key gets the result
 * (a reference to the same read-only probe_report), or joins the probe while
 * it still runs. Each key is probed once per run.
 *
 * Politeness holds for every connection the engine makes, shared or not:
 * at most per_ip connections at a time and ip_rate new connections per second
 * to one server address, at most max_connections in all; a probe that would
 * exceed a bound waits in a queue (first come, first served). A 421 or 450
 * greeting or a refused connection is retried up to `retries` times, after
 * retry_delay_ms, doubled for each further retry (RFC 5321 §4.5.4.1: a
 * sender retries a temporary failure later, not at once).
 *
 * Memory: an entry holds its key, the probe's configuration strings and the
 * finished report (the chain as sent, the dialogue's observations); at most
 * PROBESHARE_MAX_ENTRIES finished entries are kept, the oldest dropped first. */
#ifndef MXTLS_ENGINE_PROBESHARE_H
#define MXTLS_ENGINE_PROBESHARE_H

#include "core/base.h"
#include "io/probe.h"

struct event_base;

#define PROBESHARE_MAX_ENTRIES 16384   /* finished results kept */
#define PROBESHARE_MAX_RETRIES 5
#define PROBESHARE_MAX_RETRY_DELAY_MS 60000
#define PROBESHARE_BUCKETS 4096

typedef struct probeshare_limits {
    int share;                 /* keep and reuse results per key */
    unsigned per_ip;           /* connections at a time per address; 0: no bound */
    double ip_rate;            /* new connections per second per address; 0: no bound */
    unsigned max_connections;  /* connections at a time in all; 0: no bound */
    unsigned retries;          /* attempts after the first on 421/450 or refused */
    int retry_delay_ms;        /* before the first retry (0: 1000) */
} probeshare_limits;

typedef struct probeshare_stats {
    unsigned long probes;          /* connections started (retries included) */
    unsigned long reused;          /* results handed out without a connection of their own */
    unsigned long joined;          /* ... of which joined a probe still running */
    unsigned long retries;         /* connections that were retries */
    unsigned long queued;          /* probes that waited for a politeness bound */
    unsigned long peak_connections; /* most connections at a time */
    unsigned long peak_per_ip;     /* most connections at a time to one address */
} probeshare_stats;

typedef struct probeshare probeshare;
typedef struct probeshare_wait probeshare_wait;

/* probeshare_new - NULL when out of memory */
probeshare *probeshare_new(struct event_base *base, const probeshare_limits *lim);
/* probeshare_free - stops every probe; no callback runs afterwards */
void probeshare_free(probeshare *ps);

/* probeshare_get - a probe result for HOST (the MX host name, part of the key)
 * and PC: a kept one, a running one joined, or a new probe (queued while a
 * politeness bound is reached). CB runs once, never inside this call, with a
 * report the callee owns (probe_report_free drops its hold; the report is
 * read-only when shared). Returns the waiter (for probeshare_cancel and
 * probeshare_stop), or NULL with the error in e. */
probeshare_wait *probeshare_get(probeshare *ps, SSL_CTX *ssl, const char *host,
                                const probe_config *pc, probe_cb cb, void *arg, err_rec *e);
/* probeshare_cancel - this waiter no longer wants the result; its callback is
 * not called. A probe nobody waits for any more runs on when sharing (its
 * result is kept), else it is cancelled. */
void probeshare_cancel(probeshare_wait *w);
/* probeshare_stop - the waiter's deadline passed: like probe_stop, what the
 * probe saw so far (caller owns it), when this waiter was the only one of a
 * running probe; else NULL (the probe goes on for the others). The callback
 * is not called. */
probe_report *probeshare_stop(probeshare_wait *w, const char *why);

void probeshare_get_stats(const probeshare *ps, probeshare_stats *out);

#endif
