/* policyd.h - the socketmap server of `mxtls policyd`: MTA-STS for Postfix
 *
 * One process, one libevent loop shared with the engine (include/mxtls.h):
 * Postfix's smtp(8) asks "NAME DOMAIN" (core/sockmap.h) and gets the TLS
 * policy translated from the domain's MTA-STS policy, its MX hosts and their
 * DANE state (sockmap_translate). Answers are kept in memory per domain and
 * recomputed in the background once older than refresh_s; a lookup runs
 * the engine's check in lookups_only mode (MX, addresses, TLSA, the
 * _mta-sts TXT record and the policy fetch through the SQLite cache of
 * io/stscache.h). docs/policyd.md describes the behaviour and the limits.
 *
 *   policyd *d = policyd_new(base, eng, &settings, &err);
 *   policyd_listen(d, "unix:/run/mxtls/policyd.sock", &err);
 *   policyd_warm(d);                 // answers for the cached domains
 *   event_base_dispatch(base);       // until policyd_shutdown()
 *   policyd_free(d);
 */
#ifndef MXTLS_ENGINE_POLICYD_H
#define MXTLS_ENGINE_POLICYD_H

#include <stddef.h>

#include "mxtls.h"

/* Defaults and limits (docs/policyd.md, "Limits"). */
#define POLICYD_DEFAULT_MAP_NAME "mxtls"
#define POLICYD_DEFAULT_REFRESH_S 60         /* an answer older is recomputed in the background */
#define POLICYD_DEFAULT_STALE_S 3600         /* a failed refresh keeps an answer this old at most */
#define POLICYD_TRANSIENT_S 5                /* an answer of an incomplete lookup is reused this long */
#define POLICYD_DEFAULT_IDLE_S 60            /* a client with no request open is closed */
#define POLICYD_DEFAULT_REQUEST_S 10         /* a started request must be complete within */
#define POLICYD_DEFAULT_MAX_CLIENTS 4096u
#define POLICYD_DEFAULT_MAX_ANSWERS 100000u  /* domains kept in memory */
#define POLICYD_MAX_BACKGROUND 64u           /* background refreshes running at once */
#define POLICYD_WARM_MAX 100000u             /* cached domains warmed at start */

/* policyd_log_fn - one log line; prio is a syslog priority (LOG_INFO,
 * LOG_WARNING, LOG_ERR) */
typedef void (*policyd_log_fn)(void *arg, int prio, const char *msg);

typedef struct policyd_settings {
    const char *map_name;        /* the socketmap name answered; others get PERM */
    const char *cache_path;      /* the MTA-STS policy cache (SQLite), or NULL */
    int refresh_s, stale_s, idle_s, request_s;
    size_t max_clients, max_answers;
    int verbose;                 /* log every request, not only computed answers */
    policyd_log_fn log;
    void *log_arg;
} policyd_settings;

/* policyd_settings_default - the defaults above, no cache, no log */
void policyd_settings_default(policyd_settings *s);

typedef struct policyd policyd;
struct event_base;

/* policyd_new - a server on base using eng for its lookups (both borrowed,
 * they must outlive it); strings of s are copied. NULL with err set. */
policyd *policyd_new(struct event_base *base, mxtls_engine *eng, const policyd_settings *s,
                     mxtls_error *err);
/* policyd_listen - accept clients at "unix:PATH" (a stale socket file is
 * replaced; a live one is an error; mode 0666: the answers are public
 * data, the directory decides who may connect) or "inet:HOST:PORT" (HOST a
 * numeric address, IPv6 in brackets). MXTLS_OK or an error in err. */
mxtls_status policyd_listen(policyd *d, const char *spec, mxtls_error *err);
/* policyd_warm - start background lookups for the domains in the cache */
void policyd_warm(policyd *d);
/* policyd_reload - new settings (map name, timeouts, limits, log; the cache
 * path stays), and every answer is recomputed before it is used again */
mxtls_status policyd_reload(policyd *d, const policyd_settings *s, mxtls_error *err);

typedef struct policyd_stats {
    size_t clients, answers, running;
    unsigned long long requests, computed, errors;
} policyd_stats;
void policyd_get_stats(const policyd *d, policyd_stats *st);

/* policyd_free - close the listeners (removing unix socket files made by
 * this process) and the clients, cancel lookups. */
void policyd_free(policyd *d);

#endif
