/* test_replay - replay declarative SMTP transcripts (tests/replay/NAME.txt)
 *
 * In the spirit of curl's test files: a transcript says what the server
 * sends, what the client must send back, how TLS and the connection end, and
 * what the machine must have observed. Format, one directive per line:
 *
 *   # comment                   (and blank lines) ignored
 *   CONFIG key=value ...        optional, before any other directive. Keys:
 *                               ehlo=NAME (default client.mxtls.test),
 *                               starttls=yes|no, implicit_tls=yes|no,
 *                               mail_probe=yes|no,
 *                               max_line=N, max_lines=N, max_reply=N
 *   S: text                     one read: bytes the server sent
 *   S*N: text                   the text repeated N times, as one read
 *   C: text                     the client must now have exactly these bytes to send
 *   TLS: ok|fail                the machine must want the handshake; its result
 *   EOF                         the server closes the connection
 *   TIMEOUT                     the adapter's timer fires
 *   EXPECT key=value            smtp_dump() must contain exactly this line
 *
 * Text is taken verbatim after "S: " / "C: " (one space), with escapes
 * \r \n \t \\ \s (space, for trailing spaces) and \xHH; nothing is added: a
 * line ending is written as \r\n.
 *
 * Every file runs in three modes: each S: as one read; consecutive S: lines
 * merged into one read; and one byte at a time (client output drained one
 * byte at a time too). All modes must produce the same client bytes and the
 * same smtp_dump(). Unless the file has an EXPECT want=... line, the machine
 * must be DONE at the end. Transcripts live in $MXTLS_SOURCE_DIR/tests/replay
 * (CTest sets the variable); each is one cmocka test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp.h"

#define REPLAY_MAX_FILE (1024u * 1024u)
#define REPLAY_MAX_FILES 512

enum dir_kind { D_SERVER, D_CLIENT, D_TLS, D_EOF, D_TIMEOUT };

struct directive {
    enum dir_kind k;
    char *data; /* S/C bytes; TLS: NULL */
    size_t len;
    int ok;     /* TLS result */
    size_t line;
};

struct transcript {
    const char *path;
    smtp_config cfg;
    char ehlo[SMTP_MAX_EHLO_NAME + 1];
    struct directive *d;
    size_t n, cap;
    strlist expect;    /* "key=value" */
    int expects_want;  /* an EXPECT want=... line exists */
};

enum mode { MODE_READ, MODE_TURN, MODE_BYTE };
static const char *const mode_names[] = {"read", "turn", "byte"};

/* unescape - decode one directive's text; -1 on a bad escape */
static int unescape(const char *in, strbuf *out)
{
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 's': c = ' '; break;
            case '\\': c = '\\'; break;
            case 'x': {
                unsigned v;
                if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &v) != 1)
                    return -1;
                c = (char)v;
                p += 2;
                break;
            }
            default:
                return -1;
            }
        }
        if (sb_append(out, &c, 1) != MXTLS_OK)
            return -1;
    }
    return 0;
}

/* add_directive - append to the transcript */
static void add_directive(struct transcript *t, struct directive d)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->d = realloc(t->d, t->cap * sizeof *t->d);
        assert_non_null(t->d);
    }
    t->d[t->n++] = d;
}

/* parse_config - "CONFIG k=v k=v" */
static void parse_config(struct transcript *t, char *rest, size_t lineno)
{
    for (char *tok = strtok(rest, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            fail_msg("%s:%zu: CONFIG wants key=value, got \"%s\"", t->path, lineno, tok);
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(tok, "ehlo") == 0) {
            snprintf(t->ehlo, sizeof t->ehlo, "%s", v);
            t->cfg.ehlo_name = t->ehlo;
        } else if (strcmp(tok, "starttls") == 0)
            t->cfg.no_starttls = strcmp(v, "no") == 0;
        else if (strcmp(tok, "implicit_tls") == 0)
            t->cfg.implicit_tls = strcmp(v, "yes") == 0;
        else if (strcmp(tok, "mail_probe") == 0)
            t->cfg.mail_probe = strcmp(v, "yes") == 0;
        else if (strcmp(tok, "max_line") == 0)
            t->cfg.max_line = strtoul(v, NULL, 10);
        else if (strcmp(tok, "max_lines") == 0)
            t->cfg.max_lines = strtoul(v, NULL, 10);
        else if (strcmp(tok, "max_reply") == 0)
            t->cfg.max_reply = strtoul(v, NULL, 10);
        else
            fail_msg("%s:%zu: unknown CONFIG key \"%s\"", t->path, lineno, tok);
    }
}

/* load_transcript - read and parse one file; fails the test on format errors */
static void load_transcript(struct transcript *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    snprintf(t->ehlo, sizeof t->ehlo, "client.mxtls.test");
    t->cfg.ehlo_name = t->ehlo;

    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: %s", path, strerror(errno));
    char *buf = malloc(REPLAY_MAX_FILE + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, REPLAY_MAX_FILE + 1, f);
    fclose(f);
    if (n > REPLAY_MAX_FILE)
        fail_msg("%s: larger than %u bytes", path, REPLAY_MAX_FILE);
    buf[n] = '\0';

    size_t lineno = 0;
    int seen_directive = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (ll == 0 || line[0] == '#')
            continue;

        struct directive d = {.line = lineno};
        unsigned long repeat = 1;
        const char *text = NULL;
        if (strncmp(line, "CONFIG ", 7) == 0) {
            if (seen_directive)
                fail_msg("%s:%zu: CONFIG must come first", path, lineno);
            parse_config(t, line + 7, lineno);
            continue;
        }
        seen_directive = 1;
        if (strncmp(line, "S: ", 3) == 0 || strcmp(line, "S:") == 0) {
            d.k = D_SERVER;
            text = line[2] ? line + 3 : "";
        } else if (strncmp(line, "S*", 2) == 0) {
            char *end;
            repeat = strtoul(line + 2, &end, 10);
            if (repeat == 0 || repeat > 100000 || strncmp(end, ": ", 2) != 0)
                fail_msg("%s:%zu: bad S*N: directive", path, lineno);
            d.k = D_SERVER;
            text = end + 2;
        } else if (strncmp(line, "C: ", 3) == 0) {
            d.k = D_CLIENT;
            text = line + 3;
        } else if (strcmp(line, "TLS: ok") == 0 || strcmp(line, "TLS: fail") == 0) {
            d.k = D_TLS;
            d.ok = strcmp(line, "TLS: ok") == 0;
        } else if (strcmp(line, "EOF") == 0) {
            d.k = D_EOF;
        } else if (strcmp(line, "TIMEOUT") == 0) {
            d.k = D_TIMEOUT;
        } else if (strncmp(line, "EXPECT ", 7) == 0) {
            if (!strchr(line + 7, '='))
                fail_msg("%s:%zu: EXPECT wants key=value", path, lineno);
            if (strncmp(line + 7, "want=", 5) == 0)
                t->expects_want = 1;
            assert_int_equal(strlist_add(&t->expect, line + 7), MXTLS_OK);
            continue;
        } else {
            fail_msg("%s:%zu: unknown directive \"%s\"", path, lineno, line);
        }
        if (text) {
            strbuf one, all;
            sb_init(&one, REPLAY_MAX_FILE);
            sb_init(&all, 16u * REPLAY_MAX_FILE);
            if (unescape(text, &one) != 0)
                fail_msg("%s:%zu: bad escape", path, lineno);
            for (unsigned long i = 0; i < repeat; i++)
                assert_int_equal(sb_append(&all, one.s ? one.s : "", one.len), MXTLS_OK);
            sb_free(&one);
            d.len = all.len;
            d.data = sb_take(&all);
        }
        add_directive(t, d);
    }
    free(buf);
    if (t->n == 0)
        fail_msg("%s: no directives", path);
    if (t->expect.n == 0)
        fail_msg("%s: no EXPECT lines: a transcript must assert something", path);
}

/* free_transcript - release the directives */
static void free_transcript(struct transcript *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->d[i].data);
    free(t->d);
    strlist_free(&t->expect);
}

/* feed_read - one read by the client */
static void feed_read(const struct transcript *t, size_t line, smtp_session *s, const char *p,
                      size_t n, enum mode mode)
{
    size_t off = 0;
    while (off < n) {
        enum smtp_want w = smtp_want(s);
        if (w == SMTP_WANT_DONE)
            return;
        if (w == SMTP_WANT_WRITE) {
            const char *out;
            size_t on = smtp_output(s, &out);
            fail_msg("%s:%zu (%s mode): the client wants to send \"%.*s\" before the server's "
                     "read is consumed: a C: line is missing",
                     t->path, line, mode_names[mode], (int)on, out);
        }
        size_t step = mode == MODE_BYTE ? 1 : n - off;
        ssize_t r = smtp_feed(s, p + off, step);
        if (r < 0 || (size_t)r > step)
            fail_msg("%s:%zu: smtp_feed returned %zd", t->path, line, r);
        off += (size_t)r;
    }
}

/* run_mode - replay the transcript once; returns the session */
static smtp_session *run_mode(const struct transcript *t, enum mode mode)
{
    smtp_session *s = smtp_new(&t->cfg);
    if (!s)
        fail_msg("%s: smtp_new refused the CONFIG", t->path);
    for (size_t i = 0; i < t->n; i++) {
        const struct directive *d = &t->d[i];
        const char *out;
        size_t on;
        switch (d->k) {
        case D_SERVER:
            on = smtp_output(s, &out);
            if (on)
                fail_msg("%s:%zu (%s mode): the client sent \"%.*s\", the transcript has "
                         "server data here",
                         t->path, d->line, mode_names[mode], (int)on, out);
            if (mode == MODE_TURN) {
                /* Merge the following S: lines into this read. */
                strbuf b;
                sb_init(&b, 64u * REPLAY_MAX_FILE);
                size_t j = i;
                for (; j < t->n && t->d[j].k == D_SERVER; j++)
                    assert_int_equal(sb_append(&b, t->d[j].data, t->d[j].len), MXTLS_OK);
                feed_read(t, d->line, s, b.s ? b.s : "", b.len, mode);
                sb_free(&b);
                i = j - 1;
            } else {
                feed_read(t, d->line, s, d->data, d->len, mode);
            }
            break;
        case D_CLIENT:
            on = smtp_output(s, &out);
            if (on != d->len || memcmp(out, d->data, on) != 0)
                fail_msg("%s:%zu (%s mode): the client sent \"%.*s\", expected \"%.*s\"",
                         t->path, d->line, mode_names[mode], (int)on, out, (int)d->len, d->data);
            if (mode == MODE_BYTE)
                for (size_t k = 0; k < on; k++)
                    smtp_output_consumed(s, 1);
            else
                smtp_output_consumed(s, on);
            break;
        case D_TLS:
            if (smtp_want(s) != SMTP_WANT_START_TLS)
                fail_msg("%s:%zu (%s mode): TLS: but the machine wants %s", t->path, d->line,
                         mode_names[mode], smtp_want_name(smtp_want(s)));
            assert_int_equal(smtp_tls_done(s, d->ok), 0);
            break;
        case D_EOF:
            smtp_eof(s);
            break;
        case D_TIMEOUT:
            smtp_timeout(s);
            break;
        }
    }
    const char *out;
    size_t on = smtp_output(s, &out);
    if (on)
        fail_msg("%s (%s mode): the client sent \"%.*s\" after the transcript ended", t->path,
                 mode_names[mode], (int)on, out);
    if (!t->expects_want && smtp_want(s) != SMTP_WANT_DONE)
        fail_msg("%s (%s mode): the dialogue did not finish (want %s)", t->path,
                 mode_names[mode], smtp_want_name(smtp_want(s)));
    return s;
}

/* dump_of - smtp_dump as a string with a leading newline for whole-line search */
static char *dump_of(const smtp_session *s)
{
    strbuf b;
    sb_init(&b, 1u << 24);
    assert_int_equal(sb_puts(&b, "\n"), MXTLS_OK);
    assert_int_equal(smtp_dump(s, &b), MXTLS_OK);
    return sb_take(&b);
}

/* check_expect - "key=value" must be a whole line of the dump */
static void check_expect(const struct transcript *t, const char *dump, const char *kv)
{
    size_t n = strlen(kv);
    for (const char *p = dump; (p = strstr(p, kv)) != NULL; p++)
        if (p[-1] == '\n' && p[n] == '\n')
            return;
    /* Show the actual value of the key. */
    const char *eq = strchr(kv, '=');
    char key[128];
    snprintf(key, sizeof key, "\n%.*s=", (int)(eq - kv), kv);
    const char *a = strstr(dump, key);
    if (a) {
        a += 1;
        const char *e = strchr(a, '\n');
        fail_msg("%s: EXPECT %s\n     actual %.*s", t->path, kv, (int)(e - a), a);
    }
    fail_msg("%s: EXPECT %s: no such key in the dump:%s", t->path, kv, dump);
}

/* test_one_transcript - the cmocka test for one file */
static void test_one_transcript(void **state)
{
    const char *path = *state;
    struct transcript t;
    load_transcript(&t, path);
    char *dumps[3];
    for (int m = MODE_READ; m <= MODE_BYTE; m++) {
        smtp_session *s = run_mode(&t, (enum mode)m);
        dumps[m] = dump_of(s);
        smtp_free(s);
    }
    for (int m = MODE_TURN; m <= MODE_BYTE; m++)
        if (strcmp(dumps[MODE_READ], dumps[m]) != 0)
            fail_msg("%s: %s mode and %s mode observed different things:\n--- %s\n%s--- %s\n%s",
                     path, mode_names[MODE_READ], mode_names[m], mode_names[MODE_READ],
                     dumps[MODE_READ], mode_names[m], dumps[m]);
    for (size_t i = 0; i < t.expect.n; i++)
        check_expect(&t, dumps[MODE_READ], t.expect.v[i]);
    if (getenv("MXTLS_REPLAY_DUMP"))
        fprintf(stderr, "== %s%s", path, dumps[MODE_READ]);
    for (int m = MODE_READ; m <= MODE_BYTE; m++)
        free(dumps[m]);
    free_transcript(&t);
}

/* cmp_str - qsort comparator for file names */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *src = getenv("MXTLS_SOURCE_DIR");
    char dir[4096];
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else if (src)
        snprintf(dir, sizeof dir, "%s/tests/replay", src);
    else {
        fprintf(stderr, "test_replay: set MXTLS_SOURCE_DIR or name a directory\n");
        return 1;
    }
    DIR *dh = opendir(dir);
    if (!dh) {
        fprintf(stderr, "test_replay: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char *names[REPLAY_MAX_FILES];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL && n < REPLAY_MAX_FILES) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".txt") != 0)
            continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(dh);
    if (n == 0) {
        fprintf(stderr, "test_replay: no transcripts in %s: an empty set tests nothing\n", dir);
        return 1;
    }
    qsort(names, n, sizeof names[0], cmp_str);

    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    char **paths = calloc(n, sizeof *paths);
    if (!tests || !paths)
        return 1;
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(dir) + strlen(names[i]) + 2;
        paths[i] = malloc(pl);
        if (!paths[i])
            return 1;
        snprintf(paths[i], pl, "%s/%s", dir, names[i]);
        tests[i].name = names[i];
        tests[i].test_func = test_one_transcript;
        tests[i].initial_state = paths[i];
    }
    int rc = _cmocka_run_group_tests("replay", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(paths[i]);
        free(names[i]);
    }
    free(paths);
    free(tests);
    return rc;
}
