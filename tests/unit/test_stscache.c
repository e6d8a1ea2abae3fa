/* test_stscache - the MTA-STS policy cache on a real SQLite file in a
 * temporary directory: round trip, expiry edges, size cap, schema versions
 * (new, older, newer, another application's database), corrupt files, a writer
 * and readers in separate processes at once; and the pure refetch and
 * which-policy-applies decisions at their edges */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "io/stscache.h"

#define POLICY "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n"
#define T0 1780272000LL /* 2026-06-01T00:00:00Z */

static char tmpdir[256];
static char dbpath[300];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/mxtls-stscache.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/sts.db", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* fresh_path - a new database file name for one test */
static const char *fresh_path(const char *name)
{
    snprintf(dbpath, sizeof dbpath, "%s/%s", tmpdir, name);
    return dbpath;
}

/* sql - run SQL on the file directly (another connection) */
static void sql(const char *path, const char *stmt)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, stmt, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", stmt, err ? err : "?");
    sqlite3_close(db);
}

/* sql_text - the first column of the first row as text (static buffer) */
static const char *sql_text(const char *path, const char *stmt)
{
    static char out[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, stmt, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static stscache *open_ok(const char *path)
{
    stscache *c = NULL;
    err_rec e;
    err_clear(&e);
    if (stscache_open(path, &c, &e) != MXTLS_OK)
        fail_msg("open %s: %s: %s", path, e.where, e.message);
    assert_non_null(c);
    return c;
}

/* open_fails - the open is refused with code and a message containing text */
static void open_fails(const char *path, mxtls_status code, const char *text)
{
    stscache *c = NULL;
    err_rec e;
    err_clear(&e);
    mxtls_status st = stscache_open(path, &c, &e);
    assert_null(c);
    if (st != code || !strstr(e.message, text))
        fail_msg("open %s: %d \"%s\", expected %d with \"%s\"", path, st, e.message, code, text);
    assert_string_equal(e.where, path);
}

static void put_ok(stscache *c, const char *domain, const char *policy, const char *id, long long at)
{
    err_rec e;
    err_clear(&e);
    if (stscache_put(c, domain, policy, strlen(policy), id, at, &e) != MXTLS_OK)
        fail_msg("put %s: %s", domain, e.message);
}

static void test_open_new(void **state)
{
    (void)state;
    const char *p = fresh_path("new.db");
    stscache *c = open_ok(p);
    assert_int_equal(stscache_schema_version(c), STSCACHE_SCHEMA_VERSION);
    stscache_close(c);
    assert_string_equal(sql_text(p, "SELECT value FROM meta WHERE key='schema_version'"), "1");
    assert_string_equal(sql_text(p, "PRAGMA journal_mode"), "wal");
    /* opening again changes nothing */
    c = open_ok(p);
    assert_int_equal(stscache_schema_version(c), 1);
    stscache_close(c);
    assert_string_equal(sql_text(p, "SELECT count(*) FROM meta"), "1");
}

static void test_roundtrip(void **state)
{
    (void)state;
    stscache *c = open_ok(fresh_path("rt.db"));
    err_rec e;
    stscache_entry en;
    stscache_state st;
    assert_int_equal(stscache_get(c, "example.com", T0, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_MISS);
    stscache_entry_free(&en);

    put_ok(c, "Example.COM.", POLICY, "20260601", T0);
    assert_int_equal(stscache_get(c, "example.com", T0, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_FRESH);
    assert_string_equal(en.domain, "example.com");
    assert_string_equal(en.policy, POLICY);
    assert_int_equal(en.policy_len, strlen(POLICY));
    assert_string_equal(en.txt_id, "20260601");
    assert_int_equal(en.mode, MTASTS_MODE_ENFORCE);
    assert_int_equal(en.max_age, 86400);
    assert_int_equal(en.mx.n, 2);
    assert_string_equal(en.mx.v[0], "mx1.example.com");
    assert_string_equal(en.mx.v[1], "*.example.net");
    assert_int_equal(en.fetched_at, T0);
    assert_int_equal(en.expires_at, T0 + 86400);
    stscache_entry_free(&en);
    /* expiry edge: fresh one second before expires_at, expired at it */
    assert_int_equal(stscache_get(c, "EXAMPLE.com.", T0 + 86399, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_FRESH);
    stscache_entry_free(&en);
    assert_int_equal(stscache_get(c, "example.com", T0 + 86400, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_EXPIRED);
    assert_string_equal(en.txt_id, "20260601"); /* still there */
    stscache_entry_free(&en);

    /* a new put replaces the entry */
    put_ok(c, "example.com", "version: STSv1\nmode: none\nmax_age: 60\n", "v2", T0 + 10);
    assert_int_equal(stscache_get(c, "example.com", T0 + 10, &en, &st, &e), MXTLS_OK);
    assert_int_equal(en.mode, MTASTS_MODE_NONE);
    assert_int_equal(en.mx.n, 0);
    assert_int_equal(en.expires_at, T0 + 70);
    assert_string_equal(en.txt_id, "v2");
    stscache_entry_free(&en);
    assert_int_equal(stscache_count(c, &e), 1);

    /* refused: invalid policy, id, domain */
    err_clear(&e);
    assert_int_equal(stscache_put(c, "example.org", "version: STSv1\nmode: enforce\nmax_age: 1\n",
                                  39, "x", T0, &e), MXTLS_ERR_INVALID);
    assert_non_null(strstr(e.message, "policy-mx-missing"));
    assert_int_equal(stscache_put(c, "example.org", POLICY, strlen(POLICY), "a-b", T0, &e),
                     MXTLS_ERR_INVALID);
    assert_int_equal(stscache_put(c, "example.org", POLICY, strlen(POLICY), "", T0, &e),
                     MXTLS_ERR_INVALID);
    assert_int_equal(stscache_put(c, "*.example.org", POLICY, strlen(POLICY), "x", T0, &e),
                     MXTLS_ERR_INVALID);
    assert_int_equal(stscache_put(c, "", POLICY, strlen(POLICY), "x", T0, &e), MXTLS_ERR_INVALID);
    assert_int_equal(stscache_get(c, "a..b", T0, &en, &st, &e), MXTLS_ERR_INVALID);
    stscache_entry_free(&en);
    assert_int_equal(stscache_count(c, &e), 1);

    assert_int_equal(stscache_delete(c, "example.com.", &e), MXTLS_OK);
    assert_int_equal(stscache_delete(c, "example.com", &e), MXTLS_OK);
    assert_int_equal(stscache_count(c, &e), 0);
    stscache_close(c);
}

static void test_size_cap(void **state)
{
    (void)state;
    stscache *c = open_ok(fresh_path("cap.db"));
    stscache_set_max_entries(c, 3);
    err_rec e;
    put_ok(c, "a.example", POLICY, "1", T0 + 40); /* expires last */
    put_ok(c, "b.example", POLICY, "1", T0 + 10); /* expires first */
    put_ok(c, "c.example", POLICY, "1", T0 + 30);
    assert_int_equal(stscache_count(c, &e), 3);
    put_ok(c, "d.example", POLICY, "1", T0); /* the soonest-expiring, but just written: stays */
    assert_int_equal(stscache_count(c, &e), 3);
    stscache_entry en;
    stscache_state st;
    assert_int_equal(stscache_get(c, "b.example", T0, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_MISS);
    stscache_entry_free(&en);
    assert_int_equal(stscache_get(c, "d.example", T0, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_FRESH);
    stscache_entry_free(&en);
    put_ok(c, "e.example", POLICY, "1", T0 + 50); /* now d.example goes */
    assert_int_equal(stscache_get(c, "d.example", T0, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_MISS);
    stscache_entry_free(&en);
    /* replacing an entry at the cap evicts nothing */
    put_ok(c, "a.example", POLICY, "2", T0 + 60);
    assert_int_equal(stscache_count(c, &e), 3);
    stscache_close(c);
}

static void test_schema_versions(void **state)
{
    (void)state;
    /* newer: refused, and the file is left alone */
    const char *p = fresh_path("newer.db");
    stscache_close(open_ok(p));
    sql(p, "UPDATE meta SET value='2' WHERE key='schema_version'");
    open_fails(p, MXTLS_ERR_INVALID, "schema version 2, newer than this mxtls knows (1)");
    assert_string_equal(sql_text(p, "SELECT value FROM meta WHERE key='schema_version'"), "2");
    /* older: version 0 is a database without tables (an empty file, or one
     * SQLite created but nothing was written to): migrated */
    p = fresh_path("empty.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    stscache *c = open_ok(p);
    assert_int_equal(stscache_schema_version(c), 1);
    put_ok(c, "example.com", POLICY, "1", T0);
    stscache_close(c);
    p = fresh_path("zero.db");
    sql(p, "PRAGMA user_version=7; CREATE TABLE t(x); DROP TABLE t");
    c = open_ok(p);
    assert_int_equal(stscache_schema_version(c), 1);
    stscache_close(c);
    assert_string_equal(sql_text(p, "SELECT value FROM meta WHERE key='schema_version'"), "1");
    /* a meta table without a usable version */
    p = fresh_path("badmeta.db");
    stscache_close(open_ok(p));
    sql(p, "DELETE FROM meta");
    open_fails(p, MXTLS_ERR_PARSE, "no valid schema_version");
    /* another application's database: never touched */
    p = fresh_path("other.db");
    sql(p, "CREATE TABLE mail (id INTEGER)");
    open_fails(p, MXTLS_ERR_PARSE, "another application");
    assert_string_equal(sql_text(p, "SELECT count(*) FROM sqlite_master WHERE name='policy'"), "0");
}

static void test_corrupt(void **state)
{
    (void)state;
    /* not a database at all */
    const char *p = fresh_path("garbage.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database\n", f);
    fclose(f);
    open_fails(p, MXTLS_ERR_PARSE, "not an SQLite database");
    /* a real cache with its pages overwritten: the first use reports it */
    p = fresh_path("corrupt.db");
    stscache *c = open_ok(p);
    char dom[64];
    for (int i = 0; i < 300; i++) {
        snprintf(dom, sizeof dom, "d%d.example", i);
        put_ok(c, dom, POLICY, "1", T0 + i);
    }
    stscache_close(c);
    f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 4096, SEEK_SET), 0);
    for (int i = 0; i < 4 * 4096; i++)
        fputc(0xa5, f);
    fclose(f);
    err_rec e;
    err_clear(&e);
    mxtls_status st = stscache_open(p, &c, &e);
    if (st == MXTLS_OK) {
        /* the schema page survived: a read must fail, clearly */
        int failed = 0;
        for (int i = 0; i < 300 && !failed; i++) {
            stscache_entry en;
            stscache_state s;
            snprintf(dom, sizeof dom, "d%d.example", i);
            failed = stscache_get(c, dom, T0, &en, &s, &e) != MXTLS_OK;
            stscache_entry_free(&en);
        }
        if (!failed)
            failed = stscache_count(c, &e) < 0;
        stscache_close(c);
        assert_true(failed);
    }
    print_message("corrupt cache: %s\n", e.message);
    if (!strstr(e.message, "corrupt") && !strstr(e.message, "not an SQLite database"))
        fail_msg("unclear error: %s", e.message);
    assert_string_equal(e.where, p);
}

/* ---- several processes at once ----------------------------------------- */

#define CONC_DOMAINS 150

/* child_writer - put CONC_DOMAINS entries named PREFIX<i>.example; exit 0 */
static void child_writer(const char *path, const char *prefix)
{
    alarm(60);
    stscache *c = NULL;
    err_rec e;
    if (stscache_open(path, &c, &e) != MXTLS_OK) {
        fprintf(stderr, "writer open: %s\n", e.message);
        _exit(1);
    }
    char dom[64];
    for (int i = 0; i < CONC_DOMAINS; i++) {
        snprintf(dom, sizeof dom, "%s%d.example", prefix, i);
        if (stscache_put(c, dom, POLICY, strlen(POLICY), "id1", T0, &e) != MXTLS_OK) {
            fprintf(stderr, "writer put %s: %s\n", dom, e.message);
            _exit(1);
        }
    }
    stscache_close(c);
    _exit(0);
}

/* child_reader - read until the writers' last entries appear (bounded);
 * every entry seen must be whole; exit 0 */
static void child_reader(const char *path)
{
    alarm(60);
    stscache *c = NULL;
    err_rec e;
    if (stscache_open(path, &c, &e) != MXTLS_OK) {
        fprintf(stderr, "reader open: %s\n", e.message);
        _exit(1);
    }
    char dom[64];
    int done = 0;
    for (int round = 0; round < 20000 && !done; round++) {
        int i = round % CONC_DOMAINS;
        snprintf(dom, sizeof dom, "%s%d.example", round & 1 ? "w" : "v", i);
        stscache_entry en;
        stscache_state st;
        if (stscache_get(c, dom, T0, &en, &st, &e) != MXTLS_OK) {
            fprintf(stderr, "reader get %s: %s\n", dom, e.message);
            _exit(1);
        }
        if (st != STSCACHE_MISS && (st != STSCACHE_FRESH || en.mx.n != 2 || strcmp(en.policy, POLICY)))
            _exit(2);
        stscache_entry_free(&en);
        if (round % 50 == 0)
            done = stscache_count(c, &e) == 2 * CONC_DOMAINS;
    }
    stscache_close(c);
    _exit(0);
}

static void test_processes(void **state)
{
    (void)state;
    const char *p = fresh_path("conc.db");
    char path[300];
    snprintf(path, sizeof path, "%s", p);
    stscache_close(open_ok(path)); /* created before the race */
    pid_t pids[4];
    pids[0] = fork();
    if (pids[0] == 0)
        child_writer(path, "v");
    pids[1] = fork();
    if (pids[1] == 0)
        child_writer(path, "w");
    pids[2] = fork();
    if (pids[2] == 0)
        child_reader(path);
    pids[3] = fork();
    if (pids[3] == 0)
        child_reader(path);
    for (int i = 0; i < 4; i++) {
        assert_true(pids[i] > 0);
        int status = 0;
        /* bounded: each child has an alarm of 60 s */
        while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d ended with status 0x%x", i, status);
    }
    stscache *c = open_ok(path);
    err_rec e;
    assert_int_equal(stscache_count(c, &e), 2 * CONC_DOMAINS);
    stscache_entry en;
    stscache_state st;
    assert_int_equal(stscache_get(c, "w149.example", T0, &en, &st, &e), MXTLS_OK);
    assert_int_equal(st, STSCACHE_FRESH);
    stscache_entry_free(&en);
    stscache_close(c);
}

/* ---- pure decisions ----------------------------------------------------- */

static stscache_entry entry(const char *id, long long fetched, long long max_age)
{
    stscache_entry en;
    memset(&en, 0, sizeof en);
    snprintf(en.txt_id, sizeof en.txt_id, "%s", id);
    en.mode = MTASTS_MODE_ENFORCE;
    en.max_age = max_age;
    en.fetched_at = fetched;
    en.expires_at = fetched + max_age;
    return en;
}

static void test_refetch(void **state)
{
    (void)state;
    assert_int_equal(stscache_refresh_margin(604800), 86400);
    assert_int_equal(stscache_refresh_margin(31557600), 86400);
    assert_int_equal(stscache_refresh_margin(345600), 86400); /* 4 days: exactly a day */
    assert_int_equal(stscache_refresh_margin(86400), 21600);
    assert_int_equal(stscache_refresh_margin(3), 0);
    assert_int_equal(stscache_refresh_margin(0), 0);

    assert_int_equal(stscache_needs_refetch(NULL, "id1", T0), STS_REFETCH_NOT_CACHED);
    assert_int_equal(stscache_needs_refetch(NULL, NULL, T0), STS_REFETCH_NO);
    stscache_entry en = entry("id1", T0, 604800); /* margin 86400 */
    assert_int_equal(stscache_needs_refetch(&en, "id1", T0), STS_REFETCH_NO);
    assert_int_equal(stscache_needs_refetch(&en, "id2", T0), STS_REFETCH_ID_CHANGED);
    assert_int_equal(stscache_needs_refetch(&en, "ID1", T0), STS_REFETCH_ID_CHANGED);
    assert_int_equal(stscache_needs_refetch(&en, "id1", T0 + 604800 - 86401), STS_REFETCH_NO);
    assert_int_equal(stscache_needs_refetch(&en, "id1", T0 + 604800 - 86400), STS_REFETCH_NEAR_EXPIRY);
    assert_int_equal(stscache_needs_refetch(&en, "id1", T0 + 604799), STS_REFETCH_NEAR_EXPIRY);
    assert_int_equal(stscache_needs_refetch(&en, "id1", T0 + 604800), STS_REFETCH_EXPIRED);
    /* no TXT record now: the cached policy is kept, renewed only near expiry */
    assert_int_equal(stscache_needs_refetch(&en, NULL, T0), STS_REFETCH_NO);
    assert_int_equal(stscache_needs_refetch(&en, NULL, T0 + 604800 - 86400), STS_REFETCH_NEAR_EXPIRY);
    assert_int_equal(stscache_needs_refetch(&en, NULL, T0 + 604800), STS_REFETCH_EXPIRED);
    /* max_age 0: expired at once */
    en = entry("id1", T0, 0);
    assert_int_equal(stscache_needs_refetch(&en, "id1", T0), STS_REFETCH_EXPIRED);
    assert_string_equal(sts_refetch_name(STS_REFETCH_NEAR_EXPIRY), "near-expiry");
    assert_string_equal(sts_refetch_name(STS_REFETCH_ID_CHANGED), "id-changed");
}

static void test_decide(void **state)
{
    (void)state;
    stscache_entry en = entry("id1", T0, 3600);
    assert_int_equal(stscache_decide(NULL, STS_FETCH_OK, T0), STS_APPLY_FETCHED);
    assert_int_equal(stscache_decide(&en, STS_FETCH_OK, T0), STS_APPLY_FETCHED);
    assert_int_equal(stscache_decide(NULL, STS_FETCH_FAILED, T0), STS_APPLY_NONE);
    assert_int_equal(stscache_decide(NULL, STS_FETCH_NOT_TRIED, T0), STS_APPLY_NONE);
    /* a failed refetch keeps the unexpired policy in force, to its last second */
    assert_int_equal(stscache_decide(&en, STS_FETCH_FAILED, T0 + 3599), STS_APPLY_CACHED);
    assert_int_equal(stscache_decide(&en, STS_FETCH_NOT_TRIED, T0 + 10), STS_APPLY_CACHED);
    assert_int_equal(stscache_decide(&en, STS_FETCH_FAILED, T0 + 3600), STS_APPLY_NONE);
    assert_int_equal(stscache_decide(&en, STS_FETCH_NOT_TRIED, T0 + 3600), STS_APPLY_NONE);
    assert_string_equal(sts_apply_name(STS_APPLY_CACHED), "cached");
    assert_string_equal(sts_apply_name(STS_APPLY_NONE), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_new),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_schema_versions),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_processes),
        cmocka_unit_test(test_refetch),
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
