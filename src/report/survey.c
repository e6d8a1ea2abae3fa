/* survey.c - survey figures over many check reports (survey.h) */
#include "report/survey.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/base.h"
#include "core/utctime.h"
#include "report/jsonw.h"
#include "report/survey_impl.h"

#define SURVEY_TEXT_MAX (64u * 1024u * 1024u)

/* sv_dup - a copy of s cut after SURVEY_MAX_STRING bytes at a UTF-8
 * boundary (jansson hands over valid UTF-8); NULL stays NULL */
static char *sv_dup(const char *s, int *nomem)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > SURVEY_MAX_STRING) {
        n = SURVEY_MAX_STRING;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *d = strndup(s, n);
    if (!d)
        *nomem = 1;
    return d;
}

/* ---- counters --------------------------------------------------------- */

/* counter_slot - the entry for key: found, or added while there is room, or
 * the "(other)" entry once SURVEY_MAX_KEYS keys are known; NULL: no memory */
static survey_count *counter_slot(survey_counter *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i].key, key))
            return &c->v[i];
    if (c->n >= SURVEY_MAX_KEYS)
        key = SURVEY_OTHER;
    for (size_t i = SURVEY_MAX_KEYS; i < c->n; i++)
        if (!strcmp(c->v[i].key, key))
            return &c->v[i];
    int nomem = 0;
    char *k = sv_dup(key, &nomem);
    if (!k)
        return NULL;
    c->v[c->n].key = k;
    c->v[c->n].n = 0;
    return &c->v[c->n++];
}

static int counter_add(survey_counter *c, const char *key)
{
    survey_count *e = counter_slot(c, key);
    if (!e)
        return -1;
    e->n++;
    return 0;
}

static void counter_clear(survey_counter *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].key);
    c->n = 0;
}

unsigned long survey_counter_get(const survey_counter *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i].key, key))
            return c->v[i].n;
    return 0;
}

static int count_cmp(const void *a, const void *b)
{
    const survey_count *x = *(const survey_count *const *)a, *y = *(const survey_count *const *)b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->key, y->key);
}

size_t survey_counter_sorted(const survey_counter *c, const survey_count **out)
{
    for (size_t i = 0; i < c->n; i++)
        out[i] = &c->v[i];
    qsort(out, c->n, sizeof *out, count_cmp);
    return c->n;
}

/* ---- the survey ------------------------------------------------------- */

survey *survey_new(void)
{
    survey *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->now = time(NULL);
    s->expiry_days = SURVEY_DEFAULT_EXPIRY_DAYS;
    return s;
}

void survey_set_now(survey *s, time_t now)
{
    s->now = now;
}

void survey_set_expiry_days(survey *s, int days)
{
    if (days >= 1 && days <= 3650)
        s->expiry_days = days;
}

static void worst_clear(survey_worst *w)
{
    free(w->domain);
    free(w->verdict);
    free(w->level);
    free(w->code);
    free(w->message);
    strlist_free(&w->failing);
    strlist_free(&w->advice);
    memset(w, 0, sizeof *w);
}

void survey_free(survey *s)
{
    if (!s)
        return;
    counter_clear(&s->verdicts);
    counter_clear(&s->mx_security);
    counter_clear(&s->mx_outcome);
    counter_clear(&s->starttls);
    counter_clear(&s->tls_versions);
    counter_clear(&s->reasons);
    for (size_t i = 0; i < s->nlevels; i++) {
        free(s->levels[i].name);
        counter_clear(&s->levels[i].reasons);
    }
    for (size_t i = 0; i < s->nworst; i++)
        worst_clear(&s->worst[i]);
    for (size_t i = 0; i < s->nexpiring; i++) {
        survey_cert *c = &s->expiring[i];
        free(c->domain);
        free(c->host);
        free(c->ip);
        free(c->subject);
        free(c->not_after);
    }
    for (size_t i = 0; i < s->nerrlist; i++) {
        free(s->errlist[i].input);
        free(s->errlist[i].message);
    }
    free(s);
}

/* ---- reading one line ------------------------------------------------- */

static const char *j_str(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int j_true(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static void sv_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sv_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int is_verdict(const char *v)
{
    return v && (!strcmp(v, "pass") || !strcmp(v, "fail") || !strcmp(v, "tempfail"));
}

/* survey_check_shape - NULL when o has the fields of a check object this
 * survey reads, else what is wrong */
static const char *survey_check_shape(const json_t *o, const char **field)
{
    json_t *sv = json_object_get(o, "schema_version");
    *field = NULL;
    if (!json_is_integer(sv) || json_integer_value(sv) != 1)
        return "'schema_version' is not 1";
    if (!j_str(o, "domain"))
        return "'domain' is missing or not a string";
    if (!is_verdict(j_str(o, "verdict")))
        return "'verdict' is not pass, fail or tempfail";
    if (!json_is_object(json_object_get(o, "mx")))
        return "'mx' is missing or not an object";
    if (!json_is_array(json_object_get(o, "addresses")))
        return "'addresses' is missing or not an array";
    json_t *m = json_object_get(o, "matrix");
    if (!json_is_object(m))
        return "'matrix' is missing or not an object";
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (!json_is_object(v) || !is_verdict(j_str(v, "verdict"))) {
            *field = k;
            return "a 'matrix' entry has no verdict pass, fail or tempfail";
        }
    }
    json_t *r = json_object_get(o, "reason");
    if (r && !json_is_object(r) && !json_is_null(r))
        return "'reason' is not an object";
    return NULL;
}

static survey_level *level_slot(survey *s, const char *name)
{
    for (size_t i = 0; i < s->nlevels; i++)
        if (!strcmp(s->levels[i].name, name))
            return &s->levels[i];
    if (s->nlevels >= SURVEY_MAX_KEYS)
        name = SURVEY_OTHER;
    for (size_t i = SURVEY_MAX_KEYS; i < s->nlevels; i++)
        if (!strcmp(s->levels[i].name, name))
            return &s->levels[i];
    int nomem = 0;
    char *n = sv_dup(name, &nomem);
    if (!n)
        return NULL;
    survey_level *l = &s->levels[s->nlevels++];
    memset(l, 0, sizeof *l);
    l->name = n;
    return l;
}

/* worst_before - 1 when (score a, domain a) ranks before (b): higher score,
 * then domain name order, so the list does not depend on input order */
static int worst_before(long sa, const char *da, long sb, const char *db)
{
    if (sa != sb)
        return sa > sb;
    return strcmp(da, db) < 0;
}

/* survey_add_worst - keep c among the SURVEY_MAX_WORST worst domains */
static int survey_add_worst(survey *s, const survey_check *c, long score)
{
    if (s->nworst == SURVEY_MAX_WORST &&
        !worst_before(score, c->domain, s->worst[s->nworst - 1].score,
                      s->worst[s->nworst - 1].domain))
        return 0;
    survey_worst w;
    memset(&w, 0, sizeof w);
    int nomem = 0;
    w.score = score;
    w.domain = sv_dup(c->domain, &nomem);
    w.verdict = sv_dup(c->verdict, &nomem);
    w.level = sv_dup(c->effective_level, &nomem);
    w.code = sv_dup(c->reason_code, &nomem);
    w.message = sv_dup(c->reason_message, &nomem);
    for (size_t i = 0; i < c->nmatrix && !nomem; i++) {
        if (strcmp(c->matrix[i].verdict, "pass") != 0) {
            int dn = 0;
            char *name = sv_dup(c->matrix[i].level, &dn);
            if (!name || strlist_add(&w.failing, name) != MXTLS_OK)
                nomem = 1;
            free(name);
        }
    }
    for (size_t i = 0; i < c->nadvice && !nomem; i++) {
        int dn = 0;
        char *adv = sv_dup(c->advice[i], &dn);
        if (!adv || strlist_add(&w.advice, adv) != MXTLS_OK)
            nomem = 1;
        free(adv);
    }
    if (nomem) {
        worst_clear(&w);
        return -1;
    }
    if (s->nworst == SURVEY_MAX_WORST)
        worst_clear(&s->worst[--s->nworst]);
    size_t at = s->nworst;
    while (at > 0 && worst_before(w.score, w.domain, s->worst[at - 1].score, s->worst[at - 1].domain))
        at--;
    memmove(&s->worst[at + 1], &s->worst[at], (s->nworst - at) * sizeof w);
    s->worst[at] = w;
    s->nworst++;
    return 0;
}

static int survey_list_error(survey *s, unsigned long lineno, const char *input, const char *msg)
{
    if (s->nerrlist >= SURVEY_MAX_LISTED_ERRORS) {
        s->errlist_dropped++;
        return 0;
    }
    int nomem = 0;
    survey_errline *e = &s->errlist[s->nerrlist];
    e->lineno = lineno;
    e->input = sv_dup(input, &nomem);
    e->message = sv_dup(msg ? msg : "", &nomem);
    if (nomem) {
        free(e->input);
        free(e->message);
        return -1;
    }
    s->nerrlist++;
    return 0;
}

void survey_note_rejected(survey *s, unsigned long lineno, const char *why)
{
    s->rejected++;
    (void)survey_list_error(s, lineno, NULL, why);
}

/* survey_add_cert - the leaf of one address, when it expires within the window */
static int survey_add_cert(survey *s, const survey_check *chk, const survey_addr *a)
{
    time_t na;
    if (utctime_parse(a->leaf_not_after, 0, &na) != 0)
        return 0;
    double secs = difftime(na, s->now);
    if (secs > (double)s->expiry_days * 86400.0)
        return 0;
    if (secs <= 0)
        s->certs_expired++;
    else
        s->certs_expiring++;
    if (s->nexpiring >= SURVEY_MAX_EXPIRING) {
        s->expiring_dropped++;
        return 0;
    }
    int nomem = 0;
    survey_cert *c = &s->expiring[s->nexpiring];
    memset(c, 0, sizeof *c);
    /* whole days, rounded down: expired 1 s ago is day -1 */
    c->days = (long)(secs / 86400.0);
    if (secs < 0 && (double)c->days * 86400.0 != secs)
        c->days--;
    c->domain = sv_dup(chk->domain, &nomem);
    c->host = sv_dup(a->host, &nomem);
    c->ip = sv_dup(a->ip, &nomem);
    c->subject = sv_dup(a->leaf_subject, &nomem);
    c->not_after = sv_dup(a->leaf_not_after, &nomem);
    if (nomem) {
        free(c->domain);
        free(c->host);
        free(c->ip);
        free(c->subject);
        free(c->not_after);
        return -1;
    }
    s->nexpiring++;
    return 0;
}

/* survey_add_check - the figures of one valid check */
static int survey_add_check(survey *s, const survey_check *c)
{
    int rc = 0;
    s->domains++;
    rc |= counter_add(&s->verdicts, c->verdict);

    if (c->mx_routed) {
        rc |= counter_add(&s->mx_security, "routed");
    } else {
        rc |= counter_add(&s->mx_security, c->mx_security ? c->mx_security : "(none)");
        rc |= counter_add(&s->mx_outcome, c->mx_outcome ? c->mx_outcome : "(none)");
    }
    if (c->null_mx)
        s->null_mx++;
    if (c->implicit_mx)
        s->implicit_mx++;

    size_t reachable = 0, starttls = 0;
    for (size_t i = 0; i < c->naddrs; i++) {
        const survey_addr *a = &c->addrs[i];
        s->addresses++;
        if (!a->connected)
            continue;
        reachable++;
        s->addr_reachable++;
        if (a->starttls) {
            starttls++;
            s->addr_starttls++;
        }
        if (!a->tls)
            continue;
        if (a->tls_ok) {
            s->addr_tls++;
            rc |= counter_add(&s->tls_versions, a->tls_version ? a->tls_version : "(unknown)");
        }
        if (a->leaf)
            rc |= survey_add_cert(s, c, a);
    }
    const char *cls = c->naddrs == 0   ? "no-address"
                      : reachable == 0  ? "unreachable"
                      : starttls == reachable ? "all"
                      : starttls == 0   ? "none"
                                        : "some";
    rc |= counter_add(&s->starttls, cls);

    long fails = 0, tempfails = 0;
    for (size_t i = 0; i < c->nmatrix; i++) {
        survey_level *l = level_slot(s, c->matrix[i].level);
        if (!l) {
            rc = -1;
            continue;
        }
        const char *lv = c->matrix[i].verdict, *code = c->matrix[i].code;
        /* A level the survey's sender was not configured for (fingerprint
         * without --match) says nothing about the domain: it is counted in
         * its level's figures but does not make the domain one of the worst. */
        int unconfigured = code && !strcmp(code, "no-fingerprints");
        if (!strcmp(lv, "pass")) {
            l->pass++;
        } else {
            if (!strcmp(lv, "fail")) {
                l->fail++;
                fails += !unconfigured;
            } else {
                l->tempfail++;
                tempfails += !unconfigured;
            }
            rc |= counter_add(&l->reasons, code ? code : "(none)");
        }
    }
    if (strcmp(c->verdict, "pass") != 0) {
        rc |= counter_add(&s->reasons, c->reason_code ? c->reason_code : "(none)");
    }
    long score = (!strcmp(c->verdict, "fail") ? 1000 : !strcmp(c->verdict, "tempfail") ? 500 : 0) +
                 2 * fails + tempfails;
    if (score > 0) {
        s->not_all_pass++;
        rc |= survey_add_worst(s, c, score);
    }
    return rc ? -1 : 0;
}

/* survey_check_mem - the arrays a survey_check points to, when they are
 * its own (survey_check_of_json, survey_line_of_check) */
typedef struct survey_check_mem {
    survey_addr *addrs;
    survey_matrix_entry *matrix;
    const char *advice[SURVEY_MAX_ADVICE];
} survey_check_mem;

static void survey_check_clear(survey_check_mem *m)
{
    free(m->addrs);
    free(m->matrix);
    memset(m, 0, sizeof *m);
}

/* survey_check_of_json - what the survey reads of check object o (its shape
 * checked: survey_check_shape); c's arrays are m's (survey_check_clear frees
 * them), its strings are o's. -1 when memory is short. */
static int survey_check_of_json(const json_t *o, survey_check *c, survey_check_mem *m)
{
    memset(c, 0, sizeof *c);
    memset(m, 0, sizeof *m);
    c->domain = j_str(o, "domain");
    c->verdict = j_str(o, "verdict");
    c->effective_level = j_str(o, "effective_level");
    const json_t *r = json_object_get(o, "reason");
    if (json_is_object(r)) {
        c->reason_code = j_str(r, "code");
        c->reason_message = j_str(r, "message");
    }
    const json_t *mx = json_object_get(o, "mx");
    c->mx_routed = j_true(mx, "routed");
    c->mx_security = j_str(mx, "security");
    c->mx_outcome = j_str(mx, "outcome");
    c->null_mx = j_true(mx, "null_mx");
    c->implicit_mx = j_true(mx, "implicit_mx");

    const json_t *addrs = json_object_get(o, "addresses");
    size_t n = json_array_size(addrs), i;
    if (n && !(m->addrs = calloc(n, sizeof *m->addrs)))
        return -1;
    json_t *a;
    json_array_foreach(addrs, i, a) {
        if (!json_is_object(a))
            continue;
        survey_addr *sa = &m->addrs[c->naddrs++];
        sa->host = j_str(a, "host");
        sa->ip = j_str(a, "ip");
        json_t *p = json_object_get(a, "probe");
        if (!json_is_object(p) || !j_true(p, "connected"))
            continue;
        sa->connected = 1;
        sa->starttls = j_true(json_object_get(p, "starttls"), "offered") || j_true(p, "implicit_tls");
        json_t *tls = json_object_get(p, "tls");
        if (!json_is_object(tls))
            continue;
        sa->tls = 1;
        sa->tls_ok = j_true(tls, "ok");
        sa->tls_version = j_str(tls, "version");
        json_t *leaf = json_array_get(json_object_get(tls, "chain"), 0);
        if (json_is_object(leaf)) {
            sa->leaf = 1;
            sa->leaf_subject = j_str(leaf, "subject");
            sa->leaf_not_after = j_str(leaf, "not_after");
        }
    }
    c->addrs = m->addrs;

    const json_t *mat = json_object_get(o, "matrix");
    n = json_object_size(mat);
    if (n && !(m->matrix = calloc(n, sizeof *m->matrix)))
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)mat, k, v) {
        survey_matrix_entry *e = &m->matrix[c->nmatrix++];
        e->level = k;
        e->verdict = j_str(v, "verdict");
        e->code = j_str(v, "code");
    }
    c->matrix = m->matrix;

    const json_t *adv = json_object_get(o, "advice");
    json_array_foreach(adv, i, v) {
        if (i >= SURVEY_MAX_ADVICE)
            break;
        if (json_is_string(v))
            m->advice[c->nadvice++] = json_string_value(v);
    }
    c->advice = m->advice;
    return 0;
}

int survey_add_json(survey *s, const char *line, size_t len, char *err, size_t errlen)
{
    survey_line *l = survey_line_parse(line, len, err, errlen);
    return l ? survey_add_line(s, l, err, errlen) : -1;
}

/* A line: parsed JSON (survey_line_parse), or a check made elsewhere
 * (survey_line_of_check) with its own copies of the strings. */
struct survey_line {
    json_t *json;
    survey_check check;
    strlist strings;             /* the check's strings */
    survey_check_mem mem;        /* and its arrays */
};

survey_line *survey_line_parse(const char *line, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    if (err && errlen)
        err[0] = '\0';
    survey_line *l = calloc(1, sizeof *l);
    if (!l) {
        sv_err(err, errlen, "out of memory");
        return NULL;
    }
    l->json = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!l->json) {
        if (err && errlen)
            snprintf(err, errlen, "not JSON: %s (column %d)", je.text, je.column);
        free(l);
        return NULL;
    }
    return l;
}

/* line_str - s as read back from JSON, owned by l; *nomem set when that
 * could not be made */
static const char *line_str(survey_line *l, const char *s, int *nomem)
{
    if (!s)
        return NULL;
    char *r = jw_str_as_read(s);
    if (!r || strlist_add(&l->strings, r) != MXTLS_OK) {
        free(r);
        *nomem = 1;
        return NULL;
    }
    free(r);
    return l->strings.v[l->strings.n - 1];
}

survey_line *survey_line_of_check(const survey_check *c)
{
    survey_line *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    int nomem = 0;
    survey_check *d = &l->check;
    survey_check_mem *m = &l->mem;
    *d = *c;
    d->domain = line_str(l, c->domain, &nomem);
    d->verdict = line_str(l, c->verdict, &nomem);
    d->effective_level = line_str(l, c->effective_level, &nomem);
    d->reason_code = line_str(l, c->reason_code, &nomem);
    d->reason_message = line_str(l, c->reason_message, &nomem);
    d->mx_security = line_str(l, c->mx_security, &nomem);
    d->mx_outcome = line_str(l, c->mx_outcome, &nomem);
    if (c->naddrs && !(m->addrs = calloc(c->naddrs, sizeof *m->addrs)))
        nomem = 1;
    for (size_t i = 0; !nomem && i < c->naddrs; i++) {
        survey_addr *a = &m->addrs[i];
        *a = c->addrs[i];
        a->host = line_str(l, c->addrs[i].host, &nomem);
        a->ip = line_str(l, c->addrs[i].ip, &nomem);
        a->tls_version = line_str(l, c->addrs[i].tls_version, &nomem);
        a->leaf_subject = line_str(l, c->addrs[i].leaf_subject, &nomem);
        a->leaf_not_after = line_str(l, c->addrs[i].leaf_not_after, &nomem);
    }
    d->addrs = m->addrs;
    if (c->nmatrix && !(m->matrix = calloc(c->nmatrix, sizeof *m->matrix)))
        nomem = 1;
    for (size_t i = 0; !nomem && i < c->nmatrix; i++) {
        m->matrix[i].level = line_str(l, c->matrix[i].level, &nomem);
        m->matrix[i].verdict = line_str(l, c->matrix[i].verdict, &nomem);
        m->matrix[i].code = line_str(l, c->matrix[i].code, &nomem);
    }
    d->matrix = m->matrix;
    d->nadvice = c->nadvice < SURVEY_MAX_ADVICE ? c->nadvice : SURVEY_MAX_ADVICE;
    for (size_t i = 0; !nomem && i < d->nadvice; i++)
        m->advice[i] = line_str(l, c->advice[i], &nomem);
    d->advice = m->advice;
    if (nomem) {
        survey_line_free(l);
        return NULL;
    }
    return l;
}

void survey_line_free(survey_line *l)
{
    if (!l)
        return;
    json_decref(l->json);
    strlist_free(&l->strings);
    survey_check_clear(&l->mem);
    free(l);
}

/* survey_add_json_object - a line's JSON value o: a check object, or an
 * input error line of mxtls scan */
static int survey_add_json_object(survey *s, const json_t *o, char *err, size_t errlen)
{
    if (!json_is_object(o)) {
        sv_err(err, errlen, "not a JSON object");
        return -1;
    }
    json_t *e = json_object_get(o, "error");
    if (e && !json_object_get(o, "verdict")) {
        /* An input line mxtls scan could not check (a malformed domain). */
        const char *msg = json_is_string(e) ? json_string_value(e)
                          : json_is_object(e) ? j_str(e, "message") : NULL;
        const char *input = j_str(o, "domain");
        if (!input)
            input = j_str(o, "input");
        if (!msg) {
            sv_err(err, errlen, "'error' is neither a string nor an object with a message");
            return -1;
        }
        s->errors++;
        if (survey_list_error(s, 0, input ? input : "", msg) != 0) {
            sv_err(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    const char *field = NULL;
    const char *why = survey_check_shape(o, &field);
    if (why) {
        if (field)
            sv_err(err, errlen, "not a check object: %s (level '%.60s')", why, field);
        else
            sv_err(err, errlen, "not a check object: %s", why);
        return -1;
    }
    survey_check c;
    survey_check_mem m;
    int rc = survey_check_of_json(o, &c, &m) == 0 ? survey_add_check(s, &c) : -1;
    survey_check_clear(&m);
    if (rc != 0)
        sv_err(err, errlen, "out of memory");
    return rc;
}

int survey_add_line(survey *s, survey_line *l, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    int rc;
    if (!l) {
        sv_err(err, errlen, "no line");
        rc = -1;
    } else if (l->json) {
        rc = survey_add_json_object(s, l->json, err, errlen);
    } else if ((rc = survey_add_check(s, &l->check)) != 0) {
        sv_err(err, errlen, "out of memory");
    }
    survey_line_free(l);
    return rc;
}

/* ---- writers ---------------------------------------------------------- */

void survey_time_text(time_t t, char *buf, size_t n)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "%lld", (long long)t);
}

/* survey_levels_ordered - the levels, the ones issue 12 names first (verify,
 * dane, mta-sts, requiretls), then the others in the order first seen */
size_t survey_levels_ordered(const survey *s, const survey_level **out)
{
    static const char *const first[] = {"verify", "dane", "mta-sts", "requiretls"};
    size_t n = 0;
    for (size_t f = 0; f < sizeof first / sizeof first[0]; f++)
        for (size_t i = 0; i < s->nlevels; i++)
            if (!strcmp(s->levels[i].name, first[f]))
                out[n++] = &s->levels[i];
    for (size_t i = 0; i < s->nlevels; i++) {
        size_t f = 0;
        while (f < sizeof first / sizeof first[0] && strcmp(s->levels[i].name, first[f]))
            f++;
        if (f == sizeof first / sizeof first[0])
            out[n++] = &s->levels[i];
    }
    return n;
}

static void jw_counter(jsonw *w, const char *key, const survey_counter *c)
{
    const survey_count *sorted[SURVEY_MAX_KEYS + 1];
    size_t n = survey_counter_sorted(c, sorted);
    jw_key(w, key);
    jw_arr(w);
    for (size_t i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "key", sorted[i]->key);
        jw_kint(w, "count", (long long)sorted[i]->n);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

char *survey_stats_json(const survey *s)
{
    jsonw w;
    char t[32];
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    survey_time_text(s->now, t, sizeof t);
    jw_kstr(&w, "now", t);
    jw_kint(&w, "expiry_days", s->expiry_days);
    jw_kint(&w, "domains", (long long)s->domains);
    jw_kint(&w, "errors", (long long)s->errors);
    jw_kint(&w, "rejected_lines", (long long)s->rejected);
    jw_key(&w, "verdicts");
    jw_obj(&w);
    jw_kint(&w, "pass", (long long)survey_counter_get(&s->verdicts, "pass"));
    jw_kint(&w, "fail", (long long)survey_counter_get(&s->verdicts, "fail"));
    jw_kint(&w, "tempfail", (long long)survey_counter_get(&s->verdicts, "tempfail"));
    jw_end_obj(&w);
    jw_key(&w, "mx");
    jw_obj(&w);
    jw_kint(&w, "dnssec_secure", (long long)survey_counter_get(&s->mx_security, "secure"));
    jw_kint(&w, "null_mx", (long long)s->null_mx);
    jw_kint(&w, "implicit_mx", (long long)s->implicit_mx);
    jw_counter(&w, "security", &s->mx_security);
    jw_counter(&w, "outcome", &s->mx_outcome);
    jw_end_obj(&w);
    jw_key(&w, "starttls");
    jw_obj(&w);
    static const char *const classes[] = {"all", "some", "none", "unreachable", "no-address"};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        jw_kint(&w, classes[i], (long long)survey_counter_get(&s->starttls, classes[i]));
    jw_end_obj(&w);
    jw_key(&w, "addresses");
    jw_obj(&w);
    jw_kint(&w, "total", (long long)s->addresses);
    jw_kint(&w, "connected", (long long)s->addr_reachable);
    jw_kint(&w, "starttls", (long long)s->addr_starttls);
    jw_kint(&w, "tls", (long long)s->addr_tls);
    jw_end_obj(&w);
    jw_counter(&w, "tls_versions", &s->tls_versions);
    const survey_level *lv[SURVEY_MAX_KEYS + 1];
    size_t nl = survey_levels_ordered(s, lv);
    jw_key(&w, "levels");
    jw_arr(&w);
    for (size_t i = 0; i < nl; i++) {
        jw_obj(&w);
        jw_kstr(&w, "level", lv[i]->name);
        jw_kint(&w, "pass", (long long)lv[i]->pass);
        jw_kint(&w, "fail", (long long)lv[i]->fail);
        jw_kint(&w, "tempfail", (long long)lv[i]->tempfail);
        jw_counter(&w, "reasons", &lv[i]->reasons);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_counter(&w, "reasons", &s->reasons);
    jw_key(&w, "certificates");
    jw_obj(&w);
    jw_kint(&w, "expiring", (long long)s->certs_expiring);
    jw_kint(&w, "expired", (long long)s->certs_expired);
    jw_key(&w, "listed");
    jw_arr(&w);
    for (size_t i = 0; i < s->nexpiring; i++) {
        const survey_cert *c = &s->expiring[i];
        jw_obj(&w);
        jw_kstr(&w, "domain", c->domain);
        jw_kstr(&w, "host", c->host);
        jw_kstr(&w, "ip", c->ip);
        jw_kstr(&w, "subject", c->subject);
        jw_kstr(&w, "not_after", c->not_after);
        jw_kint(&w, "days", c->days);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_kint(&w, "dropped", (long long)s->expiring_dropped);
    jw_end_obj(&w);
    jw_kint(&w, "not_all_pass", (long long)s->not_all_pass);
    jw_key(&w, "worst");
    jw_arr(&w);
    for (size_t i = 0; i < s->nworst; i++) {
        const survey_worst *x = &s->worst[i];
        jw_obj(&w);
        jw_kstr(&w, "domain", x->domain);
        jw_kstr(&w, "verdict", x->verdict);
        jw_kstr(&w, "effective_level", x->level);
        jw_kstr(&w, "code", x->code);
        jw_kstr(&w, "message", x->message);
        jw_kstrlist(&w, "failing_levels", &x->failing);
        jw_kstrlist(&w, "advice", &x->advice);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_key(&w, "error_lines");
    jw_arr(&w);
    for (size_t i = 0; i < s->nerrlist; i++) {
        jw_obj(&w);
        if (s->errlist[i].lineno)
            jw_kint(&w, "line", (long long)s->errlist[i].lineno);
        else
            jw_key(&w, "line"), jw_null(&w);
        jw_kstr(&w, "input", s->errlist[i].input);
        jw_kstr(&w, "message", s->errlist[i].message);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_kint(&w, "error_lines_dropped", (long long)s->errlist_dropped);
    jw_end_obj(&w);
    return jw_finish(&w);
}

double survey_pct(unsigned long n, unsigned long of)
{
    return of ? 100.0 * (double)n / (double)of : 0.0;
}

static void tx_name(strbuf *b, const char *s)
{
    sb_put_display(b, s ? s : "-");
}

char *survey_stats_text(const survey *s)
{
    strbuf b;
    char t[32];
    sb_init(&b, SURVEY_TEXT_MAX);
    unsigned long d = s->domains;
    survey_time_text(s->now, t, sizeof t);
    sb_printf(&b, "domains: %lu checked, %lu input errors, %lu lines rejected\n", d, s->errors,
              s->rejected);
    sb_printf(&b, "verdicts: pass %lu (%.1f%%), fail %lu (%.1f%%), tempfail %lu (%.1f%%)\n",
              survey_counter_get(&s->verdicts, "pass"),
              survey_pct(survey_counter_get(&s->verdicts, "pass"), d),
              survey_counter_get(&s->verdicts, "fail"),
              survey_pct(survey_counter_get(&s->verdicts, "fail"), d),
              survey_counter_get(&s->verdicts, "tempfail"),
              survey_pct(survey_counter_get(&s->verdicts, "tempfail"), d));
    unsigned long sec = survey_counter_get(&s->mx_security, "secure");
    sb_printf(&b, "DNSSEC: MX secure for %lu domains (%.1f%%)", sec, survey_pct(sec, d));
    const survey_count *sorted[SURVEY_MAX_KEYS + 1];
    size_t n = survey_counter_sorted(&s->mx_security, sorted);
    sb_puts(&b, n ? " [" : "\n");
    for (size_t i = 0; i < n; i++) {
        sb_printf(&b, "%s", i ? ", " : "");
        tx_name(&b, sorted[i]->key);
        sb_printf(&b, " %lu", sorted[i]->n);
    }
    if (n)
        sb_puts(&b, "]\n");
    sb_printf(&b, "MX: null MX %lu, no MX (implicit MX) %lu", s->null_mx, s->implicit_mx);
    n = survey_counter_sorted(&s->mx_outcome, sorted);
    for (size_t i = 0; i < n; i++) {
        sb_puts(&b, i ? ", " : "; lookup ");
        tx_name(&b, sorted[i]->key);
        sb_printf(&b, " %lu", sorted[i]->n);
    }
    sb_puts(&b, "\n");
    sb_printf(&b,
              "STARTTLS (domains): on every server %lu (%.1f%%), some %lu, none %lu, "
              "unreachable %lu, no address %lu\n",
              survey_counter_get(&s->starttls, "all"),
              survey_pct(survey_counter_get(&s->starttls, "all"), d),
              survey_counter_get(&s->starttls, "some"), survey_counter_get(&s->starttls, "none"),
              survey_counter_get(&s->starttls, "unreachable"),
              survey_counter_get(&s->starttls, "no-address"));
    sb_printf(&b, "addresses: %lu, connected %lu, STARTTLS %lu, TLS %lu\n", s->addresses,
              s->addr_reachable, s->addr_starttls, s->addr_tls);
    n = survey_counter_sorted(&s->tls_versions, sorted);
    sb_puts(&b, "TLS versions (addresses):");
    for (size_t i = 0; i < n; i++) {
        sb_puts(&b, i ? ", " : " ");
        tx_name(&b, sorted[i]->key);
        sb_printf(&b, " %lu (%.1f%%)", sorted[i]->n, survey_pct(sorted[i]->n, s->addr_tls));
    }
    sb_puts(&b, n ? "\n" : " none\n");
    const survey_level *lv[SURVEY_MAX_KEYS + 1];
    size_t nl = survey_levels_ordered(s, lv);
    sb_printf(&b, "pass rates per level:\n  %-28s %8s %8s %8s %7s\n", "level", "pass", "fail",
              "tempfail", "pass%");
    for (size_t i = 0; i < nl; i++) {
        strbuf nm;
        sb_init(&nm, 4096);
        tx_name(&nm, lv[i]->name);
        unsigned long tot = lv[i]->pass + lv[i]->fail + lv[i]->tempfail;
        sb_printf(&b, "  %-28s %8lu %8lu %8lu %6.1f%%\n", nm.s ? nm.s : "", lv[i]->pass,
                  lv[i]->fail, lv[i]->tempfail, survey_pct(lv[i]->pass, tot));
        sb_free(&nm);
    }
    n = survey_counter_sorted(&s->reasons, sorted);
    sb_puts(&b, "top failure reasons (domains not passing):");
    for (size_t i = 0; i < n && i < SURVEY_TOP_REASONS; i++) {
        sb_puts(&b, "\n  ");
        sb_printf(&b, "%8lu  ", sorted[i]->n);
        tx_name(&b, sorted[i]->key);
    }
    sb_puts(&b, n ? "\n" : " none\n");
    sb_printf(&b, "certificates: %lu expiring within %d days of %s, %lu expired\n",
              s->certs_expiring, s->expiry_days, t, s->certs_expired);
    for (size_t i = 0; i < s->nexpiring; i++) {
        const survey_cert *c = &s->expiring[i];
        sb_puts(&b, "  ");
        tx_name(&b, c->domain);
        sb_puts(&b, " ");
        tx_name(&b, c->host);
        sb_puts(&b, " [");
        tx_name(&b, c->ip);
        sb_puts(&b, "] not after ");
        tx_name(&b, c->not_after);
        sb_printf(&b, " (%ld days)\n", c->days);
    }
    if (s->expiring_dropped)
        sb_printf(&b, "  ... %lu more not listed\n", s->expiring_dropped);
    sb_printf(&b, "worst domains (%zu shown; %lu domains do not pass every level but unconfigured fingerprint):\n",
              s->nworst < SURVEY_TEXT_WORST ? s->nworst : (size_t)SURVEY_TEXT_WORST,
              s->not_all_pass);
    for (size_t i = 0; i < s->nworst && i < SURVEY_TEXT_WORST; i++) {
        const survey_worst *x = &s->worst[i];
        sb_puts(&b, "  ");
        tx_name(&b, x->domain);
        sb_puts(&b, ": ");
        tx_name(&b, x->verdict);
        sb_puts(&b, " at ");
        tx_name(&b, x->level);
        sb_puts(&b, " (");
        tx_name(&b, x->code);
        sb_puts(&b, ": ");
        tx_name(&b, x->message);
        sb_printf(&b, "); %zu level%s not passing\n", x->failing.n, x->failing.n == 1 ? "" : "s");
    }
    if (s->nerrlist) {
        sb_puts(&b, "input errors and rejected lines:\n");
        for (size_t i = 0; i < s->nerrlist; i++) {
            const survey_errline *e = &s->errlist[i];
            if (e->lineno)
                sb_printf(&b, "  line %lu: ", e->lineno);
            else {
                sb_puts(&b, "  ");
                tx_name(&b, e->input);
                sb_puts(&b, ": ");
            }
            tx_name(&b, e->message);
            sb_puts(&b, "\n");
        }
        if (s->errlist_dropped)
            sb_printf(&b, "  ... %lu more not listed\n", s->errlist_dropped);
    }
    if (!b.s || b.len == 0) {
        sb_free(&b);
        return NULL;
    }
    return sb_take(&b);
}
