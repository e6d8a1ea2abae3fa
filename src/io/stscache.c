/* stscache.c - the MTA-STS policy cache on SQLite (docs/mta-sts.md) */
#include "io/stscache.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct stscache {
    sqlite3 *db;
    char *path;
    int version;
    size_t max_entries;
};

/* Schema migrations: migrations[i] takes a file from version i to i + 1, in
 * one transaction with the meta update. Version 0 is a file without tables
 * (new, or emptied). A schema change appends a step and raises
 * STSCACHE_SCHEMA_VERSION; steps are never edited once released. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE policy ("
    "  domain TEXT PRIMARY KEY,"      /* lower case, A-labels, no trailing dot */
    "  policy TEXT NOT NULL,"         /* the body as fetched */
    "  txt_id TEXT NOT NULL,"         /* id of the TXT record it was fetched for */
    "  mode TEXT NOT NULL,"           /* enforce | testing | none */
    "  max_age INTEGER NOT NULL,"
    "  mx TEXT NOT NULL,"             /* patterns, one per line */
    "  fetched_at INTEGER NOT NULL,"  /* seconds since the epoch */
    "  expires_at INTEGER NOT NULL"   /* fetched_at + max_age */
    ");"
    "CREATE INDEX policy_expires ON policy (expires_at);",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == STSCACHE_SCHEMA_VERSION,
               "one migration step per schema version");

/* db_error - the SQLite error in plain words, into e */
static mxtls_status db_error(stscache *c, sqlite3 *db, const char *what, int rc, err_rec *e)
{
    const char *path = c ? c->path : "cache";
    int prim = rc & 0xff;
    if (prim == SQLITE_NOTADB)
        return err_set(e, MXTLS_ERR_PARSE, path,
                       "not an SQLite database (%s); remove it or choose another cache file", what);
    if (prim == SQLITE_CORRUPT)
        return err_set(e, MXTLS_ERR_PARSE, path,
                       "the cache file is corrupt (%s: %s); remove it, it is rebuilt from fetches",
                       what, sqlite3_errstr(rc));
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return err_set(e, MXTLS_ERR_IO, path,
                       "the cache is locked by another process for more than %d ms (%s)",
                       STSCACHE_BUSY_TIMEOUT_MS, what);
    if (prim == SQLITE_NOMEM)
        return err_set(e, MXTLS_ERR_NOMEM, path, "out of memory (%s)", what);
    return err_set(e, MXTLS_ERR_IO, path, "%s: %s", what,
                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* db_exec - run SQL without results */
static mxtls_status db_exec(stscache *c, const char *sql, const char *what, err_rec *e)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_error(c, c->db, what, rc, e);
    return MXTLS_OK;
}

/* db_int - the first column of the first row of sql as an integer; -1 if no row */
static mxtls_status db_int(stscache *c, const char *sql, long long *out, err_rec *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(c, c->db, "reading the schema", rc, e);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *out = -1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(c, c->db, "reading the schema", rc, e);
    return MXTLS_OK;
}

/* cache_version - the file's schema version: 0 for a file without tables;
 * -1 (error set) for a database of something else */
static mxtls_status cache_version(stscache *c, int *version, err_rec *e)
{
    long long has_meta = 0, tables = 0, v = -1;
    mxtls_status st;
    if ((st = db_int(c, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                     &has_meta, e)) != MXTLS_OK ||
        (st = db_int(c, "SELECT count(*) FROM sqlite_master WHERE type='table'", &tables, e)) !=
            MXTLS_OK)
        return st;
    if (!has_meta) {
        if (tables > 0)
            return err_set(e, MXTLS_ERR_PARSE, c->path,
                           "an SQLite database of another application (no meta table); "
                           "choose another cache file");
        *version = 0;
        return MXTLS_OK;
    }
    if ((st = db_int(c, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='schema_version'", &v,
                     e)) != MXTLS_OK)
        return st;
    if (v < 1)
        return err_set(e, MXTLS_ERR_PARSE, c->path,
                       "the meta table has no valid schema_version; remove the file");
    *version = v > 1000000 ? 1000000 : (int)v;
    return MXTLS_OK;
}

/* cache_migrate - bring the file to STSCACHE_SCHEMA_VERSION (one writer at a
 * time: BEGIN IMMEDIATE, and the version is read again inside) */
static mxtls_status cache_migrate(stscache *c, err_rec *e)
{
    mxtls_status st = db_exec(c, "BEGIN IMMEDIATE", "locking the cache for the schema update", e);
    if (st != MXTLS_OK)
        return st;
    int v = 0;
    if ((st = cache_version(c, &v, e)) != MXTLS_OK)
        goto rollback;
    if (v > STSCACHE_SCHEMA_VERSION) {
        st = err_set(e, MXTLS_ERR_INVALID, c->path,
                     "the cache has schema version %d, newer than this mxtls knows (%d); use a "
                     "newer mxtls or another cache file", v, STSCACHE_SCHEMA_VERSION);
        goto rollback;
    }
    for (; v < STSCACHE_SCHEMA_VERSION; v++) {
        char sql[96];
        if ((st = db_exec(c, migrations[v], "updating the cache schema", e)) != MXTLS_OK)
            goto rollback;
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '%d')", v + 1);
        if ((st = db_exec(c, sql, "updating the cache schema", e)) != MXTLS_OK)
            goto rollback;
    }
    if ((st = db_exec(c, "COMMIT", "updating the cache schema", e)) != MXTLS_OK)
        goto rollback;
    c->version = v;
    return MXTLS_OK;
rollback:
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

mxtls_status stscache_open(const char *path, stscache **out, err_rec *e)
{
    *out = NULL;
    if (!path || !*path)
        return err_set(e, MXTLS_ERR_INVALID, "cache", "no cache file given");
    stscache *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return err_set(e, MXTLS_ERR_NOMEM, path, "out of memory");
    }
    c->max_entries = STSCACHE_MAX_ENTRIES;
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    mxtls_status st;
    if (rc != SQLITE_OK) {
        st = db_error(c, c->db, "opening", rc, e);
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, STSCACHE_BUSY_TIMEOUT_MS);
    /* WAL: readers never block the writer nor each other, across processes
     * (https://sqlite.org/wal.html); the mode is stored in the file. */
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(stmt, 0);
        if (!mode || strcmp(mode, "wal") != 0) {
            sqlite3_finalize(stmt);
            st = err_set(e, MXTLS_ERR_IO, path, "cannot switch the cache to WAL mode (it is in %s)",
                         mode ? mode : "an unknown mode");
            goto fail;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) {
        st = db_error(c, c->db, "opening", rc, e);
        goto fail;
    }
    /* NORMAL is durable enough in WAL mode: a crash can lose the last
     * fetches, never corrupt the file; a lost entry is fetched again. */
    if ((st = db_exec(c, "PRAGMA synchronous=NORMAL", "opening", e)) != MXTLS_OK)
        goto fail;
    int v = 0;
    if ((st = cache_version(c, &v, e)) != MXTLS_OK)
        goto fail;
    if (v > STSCACHE_SCHEMA_VERSION) {
        st = err_set(e, MXTLS_ERR_INVALID, path,
                     "the cache has schema version %d, newer than this mxtls knows (%d); use a "
                     "newer mxtls or another cache file", v, STSCACHE_SCHEMA_VERSION);
        goto fail;
    }
    c->version = v;
    if (v < STSCACHE_SCHEMA_VERSION && (st = cache_migrate(c, e)) != MXTLS_OK)
        goto fail;
    *out = c;
    return MXTLS_OK;
fail:
    stscache_close(c);
    return st;
}

void stscache_close(stscache *c)
{
    if (!c)
        return;
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}

int stscache_schema_version(const stscache *c)
{
    return c ? c->version : 0;
}

void stscache_set_max_entries(stscache *c, size_t n)
{
    c->max_entries = n ? n : STSCACHE_MAX_ENTRIES;
}

void stscache_entry_free(stscache_entry *en)
{
    if (!en)
        return;
    free(en->policy);
    en->policy = NULL;
    strlist_free(&en->mx);
}

/* cache_key - the domain as a key: lower case, one trailing dot removed, a
 * host name; 0 or -1 with the error set */
static int cache_key(const char *domain, char out[MXTLS_MAX_NAME + 1], err_rec *e)
{
    char why[96];
    size_t n = domain ? strnlen(domain, MXTLS_MAX_NAME + 2) : 0;
    if (n > 0 && domain[n - 1] == '.')
        n--;
    if (n == 0 || n > MXTLS_MAX_NAME || domain[0] == '*' ||
        mtasts_mx_pattern_valid(domain, n, why, sizeof why) != 0) {
        err_set(e, MXTLS_ERR_INVALID, "cache", "not a domain name: %s",
                n == 0 ? "empty" : n > MXTLS_MAX_NAME ? "too long" : domain[0] == '*' ? "\"*\"" : why);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)domain[i]);
    out[n] = '\0';
    return 0;
}

mxtls_status stscache_get(stscache *c, const char *domain, long long now, stscache_entry *out,
                          stscache_state *state, err_rec *e)
{
    memset(out, 0, sizeof *out);
    *state = STSCACHE_MISS;
    char key[MXTLS_MAX_NAME + 1];
    if (cache_key(domain, key, e) != 0)
        return MXTLS_ERR_INVALID;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT policy, txt_id, mode, max_age, mx, fetched_at, expires_at "
                                "FROM policy WHERE domain = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(c, c->db, "reading", rc, e);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return MXTLS_OK;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_error(c, c->db, "reading", rc, e);
    }
    mxtls_status ret = MXTLS_OK;
    const char *pol = (const char *)sqlite3_column_blob(st, 0);
    int plen = sqlite3_column_bytes(st, 0);
    const char *id = (const char *)sqlite3_column_text(st, 1);
    const char *mode = (const char *)sqlite3_column_text(st, 2);
    const char *mx = (const char *)sqlite3_column_text(st, 4);
    memcpy(out->domain, key, strlen(key) + 1);
    out->policy = malloc((size_t)plen + 1);
    if (!out->policy) {
        ret = err_set(e, MXTLS_ERR_NOMEM, c->path, "out of memory");
        goto done;
    }
    if (plen)
        memcpy(out->policy, pol, (size_t)plen);
    out->policy[plen] = '\0';
    out->policy_len = (size_t)plen;
    snprintf(out->txt_id, sizeof out->txt_id, "%s", id ? id : "");
    out->mode = mtasts_mode_parse(mode);
    out->max_age = sqlite3_column_int64(st, 3);
    out->fetched_at = sqlite3_column_int64(st, 5);
    out->expires_at = sqlite3_column_int64(st, 6);
    for (const char *p = mx ? mx : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && strlist_addn(&out->mx, p, n) != MXTLS_OK) {
            ret = err_set(e, MXTLS_ERR_NOMEM, c->path, "out of memory");
            goto done;
        }
        p += n + (nl ? 1 : 0);
    }
    if (out->mode == MTASTS_MODE_UNSET) {
        ret = err_set(e, MXTLS_ERR_PARSE, c->path, "the entry for %s has an invalid mode", key);
        goto done;
    }
    *state = now < out->expires_at ? STSCACHE_FRESH : STSCACHE_EXPIRED;
done:
    sqlite3_finalize(st);
    if (ret != MXTLS_OK) {
        stscache_entry_free(out);
        memset(out, 0, sizeof *out);
    }
    return ret;
}

mxtls_status stscache_put(stscache *c, const char *domain, const char *policy, size_t len,
                          const char *txt_id, long long fetched_at, err_rec *e)
{
    char key[MXTLS_MAX_NAME + 1];
    if (cache_key(domain, key, e) != 0)
        return MXTLS_ERR_INVALID;
    size_t idn = txt_id ? strnlen(txt_id, MTASTS_ID_MAX + 1) : 0;
    int idok = idn >= 1 && idn <= MTASTS_ID_MAX;
    for (size_t i = 0; idok && i < idn; i++)
        idok = isalnum((unsigned char)txt_id[i]) != 0;
    if (!idok)
        return err_set(e, MXTLS_ERR_INVALID, "cache", "the TXT id must be 1 to 32 letters or digits");
    mtasts_policy pol;
    if (mtasts_policy_parse(policy, len, &pol) != MXTLS_OK) {
        mtasts_policy_free(&pol);
        return err_set(e, MXTLS_ERR_NOMEM, "cache", "out of memory");
    }
    if (!pol.valid) {
        const recerr *r = pol.errors.n ? &pol.errors.v[0] : NULL;
        err_set(e, MXTLS_ERR_INVALID, "cache", "only a valid policy is cached (line %zu: %s: %s)",
                r ? r->line : 0, r ? r->rule : "?", r ? r->message : "?");
        mtasts_policy_free(&pol);
        return MXTLS_ERR_INVALID;
    }
    strbuf mx;
    sb_init(&mx, MTASTS_POLICY_MAX + 1);
    mxtls_status ret = MXTLS_OK;
    for (size_t i = 0; i < pol.mx.n && ret == MXTLS_OK; i++)
        ret = sb_printf(&mx, "%s%s", i ? "\n" : "", pol.mx.v[i]);
    if (ret != MXTLS_OK) {
        sb_free(&mx);
        mtasts_policy_free(&pol);
        return err_set(e, ret, "cache", "out of memory");
    }
    sqlite3_stmt *st = NULL;
    int rc;
    if ((ret = db_exec(c, "BEGIN IMMEDIATE", "writing", e)) != MXTLS_OK)
        goto out;
    rc = sqlite3_prepare_v2(c->db,
                            "INSERT OR REPLACE INTO policy (domain, policy, txt_id, mode, max_age, "
                            "mx, fetched_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, policy, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, txt_id, (int)idn, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, mtasts_mode_name(pol.mode), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, pol.max_age);
        sqlite3_bind_text(st, 6, mx.s ? mx.s : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, fetched_at);
        sqlite3_bind_int64(st, 8, fetched_at + pol.max_age);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        ret = db_error(c, c->db, "writing", rc, e);
        goto rollback;
    }
    /* The size cap: the entries that expire soonest go first, never the one
     * just written. */
    rc = sqlite3_prepare_v2(c->db,
                            "DELETE FROM policy WHERE domain IN (SELECT domain FROM policy "
                            "WHERE domain <> ?1 ORDER BY expires_at, domain LIMIT "
                            "max(0, (SELECT count(*) FROM policy) - ?2))",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (long long)c->max_entries);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        ret = db_error(c, c->db, "writing", rc, e);
        goto rollback;
    }
    if ((ret = db_exec(c, "COMMIT", "writing", e)) != MXTLS_OK)
        goto rollback;
    goto out;
rollback:
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
out:
    sb_free(&mx);
    mtasts_policy_free(&pol);
    return ret;
}

mxtls_status stscache_delete(stscache *c, const char *domain, err_rec *e)
{
    char key[MXTLS_MAX_NAME + 1];
    if (cache_key(domain, key, e) != 0)
        return MXTLS_ERR_INVALID;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "DELETE FROM policy WHERE domain = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return db_error(c, c->db, "deleting", rc, e);
    return MXTLS_OK;
}

mxtls_status stscache_domains(stscache *c, size_t max, strlist *out, err_rec *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT domain FROM policy ORDER BY expires_at LIMIT ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        const unsigned char *d = sqlite3_column_text(st, 0);
        if (d && strlist_add(out, (const char *)d) != MXTLS_OK) {
            sqlite3_finalize(st);
            return err_set(e, MXTLS_ERR_NOMEM, "sts-cache", "out of memory");
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(c, c->db, "listing", rc, e);
    return MXTLS_OK;
}

long long stscache_count(stscache *c, err_rec *e)
{
    long long n = -1;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "SELECT count(*) FROM policy", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        db_error(c, c->db, "counting", rc, e);
        return -1;
    }
    return n;
}

/* ---- pure decisions ------------------------------------------------- */

const char *sts_refetch_name(sts_refetch r)
{
    switch (r) {
    case STS_REFETCH_NO: return "no";
    case STS_REFETCH_NOT_CACHED: return "not-cached";
    case STS_REFETCH_ID_CHANGED: return "id-changed";
    case STS_REFETCH_EXPIRED: return "expired";
    case STS_REFETCH_NEAR_EXPIRY: return "near-expiry";
    }
    return "?";
}

const char *sts_apply_name(sts_apply a)
{
    switch (a) {
    case STS_APPLY_NONE: return "none";
    case STS_APPLY_FETCHED: return "fetched";
    case STS_APPLY_CACHED: return "cached";
    }
    return "?";
}

long long stscache_refresh_margin(long long max_age)
{
    if (max_age <= 0)
        return 0;
    long long quarter = max_age / 4;
    return quarter < STSCACHE_REFRESH_MARGIN ? quarter : STSCACHE_REFRESH_MARGIN;
}

sts_refetch stscache_needs_refetch(const stscache_entry *cached, const char *txt_id, long long now)
{
    if (!cached)
        return txt_id ? STS_REFETCH_NOT_CACHED : STS_REFETCH_NO;
    /* A new id announces a new policy (RFC 8461 §3.1, §5.1). */
    if (txt_id && strcmp(txt_id, cached->txt_id) != 0)
        return STS_REFETCH_ID_CHANGED;
    if (now >= cached->expires_at)
        return STS_REFETCH_EXPIRED;
    if (cached->expires_at - now <= stscache_refresh_margin(cached->max_age))
        return STS_REFETCH_NEAR_EXPIRY;
    return STS_REFETCH_NO;
}

sts_apply stscache_decide(const stscache_entry *cached, sts_fetch fetch, long long now)
{
    if (fetch == STS_FETCH_OK)
        return STS_APPLY_FETCHED;
    /* RFC 8461 §5.1: a policy that cannot be refreshed stays in force until
     * it expires; only then does the domain count as having none. */
    if (cached && now < cached->expires_at)
        return STS_APPLY_CACHED;
    return STS_APPLY_NONE;
}
