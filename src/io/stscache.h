/* stscache.h - the MTA-STS policy cache (RFC 8461 §5.1) on SQLite
 *
 * One SQLite file shared by every process that checks domains: WAL mode and a
 * busy timeout make several readers and one writer at a time safe, across
 * processes. One stscache handle per thread. The schema is versioned (table
 * meta, key schema_version): a file of a newer schema is refused, an older one
 * migrated in place. docs/mta-sts.md describes the schema and the semantics.
 *
 * The decisions (when to refetch, which policy applies) are pure functions at
 * the end of this header: they take a cache entry, a time and an outcome and
 * do no I/O.
 *
 *   stscache *c; err_rec e;
 *   if (stscache_open("/var/cache/mxtls/sts.db", &c, &e)) -> e.message
 *   stscache_entry en; stscache_state st;
 *   stscache_get(c, "example.com", now, &en, &st, &e);
 *   switch (stscache_needs_refetch(st == STSCACHE_MISS ? NULL : &en, txt.id, now)) ...
 *   ... fetch ... stscache_put(c, "example.com", body, len, txt.id, now, &e);
 *   stscache_decide(st == STSCACHE_MISS ? NULL : &en, outcome, now) -> which policy
 *   stscache_entry_free(&en); stscache_close(c);
 */
#ifndef MXTLS_IO_STSCACHE_H
#define MXTLS_IO_STSCACHE_H

#include "core/base.h"
#include "core/mtasts.h"

#define STSCACHE_SCHEMA_VERSION 1      /* what this code writes */
#define STSCACHE_BUSY_TIMEOUT_MS 5000  /* wait this long for another process's lock */
#define STSCACHE_REFRESH_MARGIN 86400LL /* refetch up to a day before expiry ... */
#define STSCACHE_MAX_ENTRIES 100000u   /* beyond this, the soonest-expiring entries go */

typedef struct stscache stscache;

typedef enum stscache_state {
    STSCACHE_MISS = 0, /* no entry for the domain */
    STSCACHE_FRESH,    /* now < expires_at: the policy applies */
    STSCACHE_EXPIRED   /* now >= expires_at: kept, but no longer applies */
} stscache_state;

/* A cached policy. Strings are owned by the entry (stscache_entry_free). */
typedef struct stscache_entry {
    char domain[MXTLS_MAX_NAME + 1]; /* the key: lower case, no trailing dot */
    char *policy;                    /* the policy text as fetched */
    size_t policy_len;
    char txt_id[MTASTS_ID_MAX + 1];  /* the _mta-sts TXT id it was fetched for */
    mtasts_mode mode;
    long long max_age;
    strlist mx;                      /* mx patterns, in order */
    long long fetched_at;            /* seconds since the epoch */
    long long expires_at;            /* fetched_at + max_age */
} stscache_entry;

/* stscache_open - open or create the cache file at path (its directory must
 * be writable: WAL mode keeps PATH-wal and PATH-shm beside it). Refuses a
 * file that is not an SQLite database, a database of another application,
 * and a schema newer than STSCACHE_SCHEMA_VERSION; migrates an older one.
 * *out is the handle (stscache_close) or NULL with the error in e. */
mxtls_status stscache_open(const char *path, stscache **out, err_rec *e);
void stscache_close(stscache *c);
/* stscache_schema_version - the schema version of the open file */
int stscache_schema_version(const stscache *c);
/* stscache_set_max_entries - lower the size cap (tests; 0 = default) */
void stscache_set_max_entries(stscache *c, size_t n);

/* stscache_get - the entry for domain and its state at now. On a miss *state
 * is STSCACHE_MISS and out is empty (safe to free). MXTLS_OK, or an error
 * (busy beyond the timeout, corrupt file) in e. */
mxtls_status stscache_get(stscache *c, const char *domain, long long now, stscache_entry *out,
                          stscache_state *state, err_rec *e);

/* stscache_put - store the policy text fetched for domain under TXT id
 * txt_id at fetched_at, replacing any entry. The text is parsed here
 * (mtasts_policy_parse): only a valid policy is cached (MXTLS_ERR_INVALID
 * otherwise), and its mode, max_age and mx patterns are stored beside it;
 * expires_at = fetched_at + max_age. */
mxtls_status stscache_put(stscache *c, const char *domain, const char *policy, size_t len,
                          const char *txt_id, long long fetched_at, err_rec *e);

/* stscache_delete - remove domain's entry (none is fine) */
mxtls_status stscache_delete(stscache *c, const char *domain, err_rec *e);

/* stscache_count - number of entries (-1 on error, in e) */
long long stscache_count(stscache *c, err_rec *e);

/* stscache_domains - up to max domains of the cache, the soonest-expiring
 * first, added to out (`mxtls policyd` warms its answers from them at
 * start). MXTLS_OK or an error in e. */
mxtls_status stscache_domains(stscache *c, size_t max, strlist *out, err_rec *e);

void stscache_entry_free(stscache_entry *en);

/* ---- pure decisions ------------------------------------------------- */

typedef enum sts_refetch {
    STS_REFETCH_NO = 0,      /* the cached policy is current */
    STS_REFETCH_NOT_CACHED,  /* a TXT record exists and nothing is cached */
    STS_REFETCH_ID_CHANGED,  /* the TXT id differs from the cached one (§3.1) */
    STS_REFETCH_EXPIRED,     /* the cached policy has expired */
    STS_REFETCH_NEAR_EXPIRY  /* it expires within stscache_refresh_margin() */
} sts_refetch;

/* sts_refetch_name - "no", "not-cached", "id-changed", "expired", "near-expiry" */
const char *sts_refetch_name(sts_refetch r);

/* stscache_refresh_margin - how long before expiry a policy is refetched:
 * min(STSCACHE_REFRESH_MARGIN, max_age / 4), so a long-lived policy is
 * renewed a day ahead and a short one at three quarters of its life. */
long long stscache_refresh_margin(long long max_age);

/* stscache_needs_refetch - should the policy be fetched (again)? cached is
 * NULL on a miss; txt_id the id of the valid _mta-sts TXT record now, or NULL
 * when there is none (then a miss needs no fetch, and a cached policy is
 * refetched only as it nears expiry: the TXT record's absence does not end a
 * cached policy, RFC 8461 §5.1). */
sts_refetch stscache_needs_refetch(const stscache_entry *cached, const char *txt_id, long long now);

typedef enum sts_fetch {
    STS_FETCH_NOT_TRIED = 0, /* no fetch was made (none needed, or no TXT record) */
    STS_FETCH_OK,            /* a valid policy was fetched */
    STS_FETCH_FAILED         /* HTTPS failed, or the body was no valid policy */
} sts_fetch;

typedef enum sts_apply {
    STS_APPLY_NONE = 0, /* no policy: deliver as if the domain had no MTA-STS */
    STS_APPLY_FETCHED,  /* the policy just fetched */
    STS_APPLY_CACHED    /* the unexpired cached policy */
} sts_apply;

/* sts_apply_name - "none", "fetched", "cached" */
const char *sts_apply_name(sts_apply a);

/* stscache_decide - which policy applies (RFC 8461 §5.1): a policy fetched
 * now; else an unexpired cached one, even when the refetch failed or the TXT
 * record is gone; else none. */
sts_apply stscache_decide(const stscache_entry *cached, sts_fetch fetch, long long now);

#endif
