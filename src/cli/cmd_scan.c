/* cmd_scan.c - mxtls scan [FILE|-]: many domains on one engine, JSON Lines out
 *
 * One event loop and one engine (one warm validating resolver) run up to
 * --concurrency checks at a time; the engine shares probe results between
 * them and keeps to the politeness bounds (engine/probeshare.h). Each
 * finished check is written at once as one line: exactly the object
 * `mxtls check DOMAIN --json` prints, from the same report code. Every line
 * leaves through scan_emit() in one write(2), so an interrupted run leaves
 * only whole lines (--resume drops a partial last one). docs/scanning.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/ctx.h"
#include "core/scanlist.h"
#include "report/jsonw.h"
#include "report/survey.h"

#define SCAN_DNS_INFLIGHT 4096 /* upstream queries (mxtls_config_set_dns_inflight) */
#define SCAN_DEFAULT_CONCURRENCY 100
#define SCAN_MAX_CONCURRENCY 100000
#define SCAN_DEFAULT_PER_IP 2
#define SCAN_DEFAULT_IP_RATE 10
#define SCAN_DEFAULT_MAX_CONNECTIONS 512
#define SCAN_DEFAULT_MAX_DNS 500
#define SCAN_DEFAULT_RETRIES 1
#define SCAN_DEFAULT_RETRY_DELAY_MS 1000
#define SCAN_MAX_CLASSES 64      /* distinct failure classes counted; the rest as "other" */
#define SCAN_KEY_BUCKETS 65536

static const char scan_help[] =
    "usage: mxtls scan [FILE|-] [options]\n"
    "\n"
    "Check every domain of FILE (one per line; blank lines and # comments\n"
    "allowed; default: standard input) and write one JSON line per domain:\n"
    "exactly the object `mxtls check DOMAIN --json` prints. Malformed lines\n"
    "become a line with an error object; they never stop the scan.\n"
    "\n"
    "output:\n"
    "  --output FILE          write the lines to FILE (default: standard output)\n"
    "  --resume               keep FILE's complete lines, drop a partial last line,\n"
    "                         and check only the domains it does not have yet\n"
    "  --shard I/N            only the domains in shard I of N (0 <= I < N): FNV-1a\n"
    "                         64-bit hash of the normalised domain, mod N\n"
    "  --stats                print a summary on standard error at the end\n"
    "  --stats-json FILE      write the summary as JSON to FILE\n"
    "pace and politeness:\n"
    "  --concurrency N        domains in flight (default 100)\n"
    "  --per-ip N             connections at a time per server address (default 2)\n"
    "  --ip-rate R            new connections per second per server address\n"
    "                         (default 10; 0: no bound)\n"
    "  --max-connections N    connections at a time in all (default 512)\n"
    "  --max-dns N            DNS queries at a time (default 500)\n"
    "  --retries N            retries of a 421/450 greeting or refused connection\n"
    "                         (default 1, at most 5)\n"
    "  --retry-delay MS       before the first retry, doubled after each (default 1000)\n"
    "  --connect-timeout S    per connection attempt (default 10)\n"
    "  --phase-timeout S      per SMTP phase and TLS handshake (default 30)\n"
    "  --no-share             probe every domain's servers anew (no shared results)\n"
    "check's options (mxtls check --help): --level, --policy-map, --sts-cache,\n"
    "  --route, --revocation, -4, -6, --port, --tls-on-connect, --sni, --sni-compare,\n"
    "  --servername, --ehlo, --client-cert, --client-key, --timeout, --ca-file,\n"
    "  --ca-path, --at, --resolver, --trust-anchor, --root-hints\n"
    "\n"
    "exit: 0 every domain has its line, 2 usage or input file error, 4 local\n"
    "failure (a line not written, out of memory or file descriptors).\n";

enum {
    OPT_HELP = 256, OPT_OUTPUT, OPT_RESUME, OPT_SHARD, OPT_STATS, OPT_STATS_JSON, OPT_CONCURRENCY, OPT_PER_IP,
    OPT_IP_RATE, OPT_MAX_CONNECTIONS, OPT_RETRIES, OPT_RETRY_DELAY, OPT_CONNECT_TIMEOUT,
    OPT_PHASE_TIMEOUT, OPT_NO_SHARE, OPT_JSON, OPT_MAX_DNS
};

static const struct option scan_options_long[] = {
    {"json", no_argument, NULL, OPT_JSON},
    CLI_CHECK_LONG_OPTIONS,
    CLI_LIVE_LONG_OPTIONS,
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"stats", no_argument, NULL, OPT_STATS},
    {"stats-json", required_argument, NULL, OPT_STATS_JSON},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"per-ip", required_argument, NULL, OPT_PER_IP},
    {"ip-rate", required_argument, NULL, OPT_IP_RATE},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-dns", required_argument, NULL, OPT_MAX_DNS},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"phase-timeout", required_argument, NULL, OPT_PHASE_TIMEOUT},
    {"no-share", no_argument, NULL, OPT_NO_SHARE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* ---- a set of keys (domains answered or started) ---------------------- */

typedef struct scan_key {
    struct scan_key *next;
    char s[];
} scan_key;

typedef struct scan_keys {
    scan_key **b;
    size_t n;
} scan_keys;

/* scan_keys_add - 1 if added, 0 if it was there, -1 out of memory */
static int scan_keys_add(scan_keys *k, const char *s)
{
    if (!k->b && !(k->b = calloc(SCAN_KEY_BUCKETS, sizeof *k->b)))
        return -1;
    size_t h = (size_t)(scanlist_hash(s) % SCAN_KEY_BUCKETS);
    for (scan_key *e = k->b[h]; e; e = e->next)
        if (!strcmp(e->s, s))
            return 0;
    size_t n = strlen(s);
    scan_key *e = malloc(sizeof *e + n + 1);
    if (!e)
        return -1;
    memcpy(e->s, s, n + 1);
    e->next = k->b[h];
    k->b[h] = e;
    k->n++;
    return 1;
}

static void scan_keys_free(scan_keys *k)
{
    for (size_t i = 0; k->b && i < SCAN_KEY_BUCKETS; i++)
        while (k->b[i]) {
            scan_key *e = k->b[i];
            k->b[i] = e->next;
            free(e);
        }
    free(k->b);
}

/* ---- the run ----------------------------------------------------------- */

typedef struct scan_class {
    char name[64];
    unsigned long n;
} scan_class;

typedef struct scan_run {
    struct event_base *base;
    mxtls_engine *eng;
    mxtls_check_options po;          /* every check's options but the domain */
    mxtls_level level;
    FILE *in;
    const char *in_name;
    unsigned long lineno;
    int eof;
    int outfd;
    const char *out_name;
    int write_failed;
    unsigned long shard_i, shard_n;
    scan_keys done;                  /* answered in the output file, or started now */
    unsigned long skipped_resume;    /* input domains the output already had */
    unsigned long skipped_shard, duplicates;
    size_t concurrency, inflight;
    unsigned long total;             /* input lines to answer, when known (progress) */
    /* counters (--stats) */
    unsigned long lines;             /* lines written */
    unsigned long checked;           /* check objects among them */
    unsigned long input_errors, local_errors;
    unsigned long verdicts[3];       /* pass, fail, tempfail at the headline level */
    scan_class classes[SCAN_MAX_CLASSES + 1];
    size_t nclasses;
    struct timeval t0;
    struct event *progress;
    int show_progress;
    int local_failed;
    char *line;                      /* getline's buffer */
    size_t linecap;
    survey *survey;                  /* the survey figures (--stats, --stats-json) */
} scan_run;

static double scan_seconds(const scan_run *s)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (double)(now.tv_sec - s->t0.tv_sec) + (now.tv_usec - s->t0.tv_usec) / 1e6;
}

/* scan_count_class - one more domain that did not pass, by its class (the
 * decisive reason code; "invalid" for input lines that are no domain,
 * "local" for domains this machine failed to check) */
static void scan_count_class(scan_run *s, const char *name)
{
    if (!name || !*name)
        name = "unknown";
    for (size_t i = 0; i < s->nclasses; i++)
        if (!strcmp(s->classes[i].name, name)) {
            s->classes[i].n++;
            return;
        }
    if (s->nclasses < SCAN_MAX_CLASSES) {
        snprintf(s->classes[s->nclasses].name, sizeof s->classes[0].name, "%s", name);
        s->classes[s->nclasses++].n = 1;
        return;
    }
    snprintf(s->classes[SCAN_MAX_CLASSES].name, sizeof s->classes[0].name, "other");
    s->classes[SCAN_MAX_CLASSES].n++;
}

/* scan_emit - every output line goes through here: one write(2) of the line
 * and its newline (an interrupted run leaves whole lines), then the counters.
 * Survey figures computed from the lines belong here too. */
static void scan_emit(scan_run *s, const char *line, size_t len)
{
    struct iovec iov[2] = {{(void *)line, len}, {(void *)"\n", 1}};
    size_t want = len + 1;
    ssize_t n;
    do
        n = writev(s->outfd, iov, 2);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)want) {
        if (!s->write_failed)
            fprintf(stderr, "mxtls scan: %s: %s\n", s->out_name,
                    n < 0 ? strerror(errno) : "short write (disk full?)");
        s->write_failed = 1;
        return;
    }
    s->lines++;
    /* The figures come from the very lines written (what `mxtls report`
     * would compute from the output file); a line of ours that the survey
     * cannot read would be a bug, and is listed in its figures. */
    char err[256];
    if (s->survey && survey_add_json(s->survey, line, len, err, sizeof err) != 0)
        survey_note_rejected(s->survey, s->lines, err);
}

/* scan_emit_error - a line that answers an input without a check: the input
 * as shown, its line number, and why */
static void scan_emit_error(scan_run *s, const char *input, unsigned long lineno,
                            const char *code, const char *where, const char *message)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "input", input);
    jw_kint(&w, "line", (long long)lineno);
    jw_key(&w, "error");
    jw_obj(&w);
    jw_kstr(&w, "code", code);
    jw_kstr(&w, "where", where);
    jw_kstr(&w, "message", message);
    jw_end_obj(&w);
    jw_end_obj(&w);
    char *doc = jw_finish(&w);
    if (!doc) {
        s->local_failed = 1;
        fprintf(stderr, "mxtls scan: out of memory writing the line for '%s'\n", input);
        return;
    }
    scan_emit(s, doc, strlen(doc));
    free(doc);
    scan_count_class(s, code);
}

/* scan_local_failure - this machine failed for DOMAIN (out of memory or
 * descriptors): no line, so that --resume checks it again; the exit code
 * says so */
static void scan_local_failure(scan_run *s, const char *domain, const char *where,
                               const char *message)
{
    s->local_errors++;
    s->local_failed = 1;
    scan_count_class(s, "local");
    fprintf(stderr, "mxtls scan: %s: %s: %s (no line written: --resume checks it again)\n",
            domain, where, message);
}

typedef struct scan_item {
    scan_run *s;
    char *domain;
    unsigned long lineno;
} scan_item;

static void scan_feed(scan_run *s);

static void scan_check_done(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    scan_item *it = arg;
    scan_run *s = it->s;
    s->inflight--;
    if (!rep) {
        scan_local_failure(s, it->domain, err && err->where[0] ? err->where : "check",
                           err && err->message[0] ? err->message : "out of memory");
    } else {
        char *doc = mxtls_report_json(rep, s->level);
        if (!doc) {
            scan_local_failure(s, it->domain, "json", "out of memory");
        } else {
            scan_emit(s, doc, strlen(doc));
            free(doc);
            s->checked++;
            const mxtls_domain_verdict *v = mxtls_report_verdict(rep, s->level);
            if (v && v->verdict == MXTLS_VERDICT_PASS)
                s->verdicts[0]++;
            else if (v) {
                s->verdicts[v->verdict == MXTLS_VERDICT_FAIL ? 1 : 2]++;
                scan_count_class(s, v->code);
            }
        }
        mxtls_report_free(rep);
    }
    free(it->domain);
    free(it);
    scan_feed(s);
}

/* scan_start - one check; a domain it cannot start gets an error line */
static void scan_start(scan_run *s, char *domain, unsigned long lineno)
{
    scan_item *it = calloc(1, sizeof *it);
    if (!it) {
        scan_local_failure(s, domain, "scan", "out of memory");
        free(domain);
        return;
    }
    it->s = s;
    it->domain = domain;
    it->lineno = lineno;
    mxtls_check_options o = s->po;
    o.domain = domain;
    mxtls_error me;
    memset(&me, 0, sizeof me);
    if (!mxtls_check_start(s->eng, &o, scan_check_done, it, &me)) {
        if (me.code == MXTLS_ERR_NOMEM || me.code == MXTLS_ERR_RESOURCE) {
            scan_local_failure(s, domain, me.where[0] ? me.where : "check",
                               me.message[0] ? me.message : "out of memory");
        } else {
            s->input_errors++;
            scan_emit_error(s, domain, lineno, "invalid", me.where[0] ? me.where : "check",
                            me.message);
        }
        free(domain);
        free(it);
        return;
    }
    s->inflight++;
}

/* scan_feed - read input until --concurrency checks are in flight or it ends */
static void scan_feed(scan_run *s)
{
    while (!s->eof && s->inflight < s->concurrency && !s->write_failed) {
        errno = 0;
        ssize_t n = getline(&s->line, &s->linecap, s->in);
        if (n < 0) {
            if (ferror(s->in)) {
                fprintf(stderr, "mxtls scan: %s: %s\n", s->in_name, strerror(errno));
                s->local_failed = 1;
            }
            s->eof = 1;
            break;
        }
        s->lineno++;
        size_t len = (size_t)n;
        if (len && s->line[len - 1] == '\n')
            len--;
        char *out = NULL;
        err_rec e;
        err_clear(&e);
        scanlist_kind k = scanlist_line(s->line, len, &out, &e);
        if (k == SCANLIST_SKIP)
            continue;
        if (!out) {
            s->local_failed = 1;
            fprintf(stderr, "mxtls scan: %s line %lu: out of memory\n", s->in_name, s->lineno);
            continue;
        }
        if (!scanlist_in_shard(out, s->shard_i, s->shard_n)) {
            s->skipped_shard++;
            if (s->total)
                s->total--; /* not this run's: out of the progress's total */
            free(out);
            continue;
        }
        int added = scan_keys_add(&s->done, out);
        if (added <= 0) {
            if (added < 0)
                s->local_failed = 1;
            else if (s->total)
                s->total--;
            /* in the output already (--resume), or listed twice */
            if (added == 0)
                s->skipped_resume++;
            free(out);
            continue;
        }
        if (k == SCANLIST_BAD) {
            s->input_errors++;
            scan_emit_error(s, out, s->lineno, "invalid", e.where, e.message);
            free(out);
            continue;
        }
        scan_start(s, out, s->lineno);
    }
    if (s->eof && s->inflight == 0)
        event_base_loopbreak(s->base);
}

/* ---- progress (standard error, when it is a terminal) ------------------ */

static void scan_progress_cb(evutil_socket_t fd, short what, void *arg)
{
    scan_run *s = arg;
    (void)fd;
    (void)what;
    double secs = scan_seconds(s);
    double rate = secs > 0 ? s->lines / secs : 0;
    char eta[32] = "?";
    if (s->total && rate > 0 && s->total >= s->lines)
        snprintf(eta, sizeof eta, "%.0fs", (s->total - s->lines) / rate);
    char total[32] = "?";
    if (s->total)
        snprintf(total, sizeof total, "%lu", s->total);
    fprintf(stderr, "\r\033[Kmxtls scan: %lu/%s done, %.1f domains/s, ETA %s, %lu in flight; "
                    "fail %lu, tempfail %lu, input errors %lu",
            s->lines, total, rate, eta, (unsigned long)s->inflight, s->verdicts[1],
            s->verdicts[2], s->input_errors);
    size_t top = 0;
    for (size_t i = 1; i < s->nclasses; i++)
        if (s->classes[i].n > s->classes[top].n)
            top = i;
    if (s->nclasses)
        fprintf(stderr, "; most: %s (%lu)", s->classes[top].name, s->classes[top].n);
    fflush(stderr);
}

/* scan_count_input - lines that will need an answer, for the progress's
 * total and ETA (a regular file only: read once more from its start) */
static unsigned long scan_count_input(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    while ((r = getline(&line, &cap, f)) >= 0) {
        size_t i = 0;
        while (i < (size_t)r && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i < (size_t)r && line[i] != '\n' && line[i] != '#')
            n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* ---- --resume ---------------------------------------------------------- */

/* scan_resume - the keys of FILE's complete lines into s->done; a partial
 * last line (an interrupted write) is cut off. EXIT_PASS or EXIT_USAGE /
 * EXIT_LOCAL (printed). */
static int scan_resume(scan_run *s, int fd)
{
    FILE *f = fdopen(dup(fd), "r");
    if (!f) {
        fprintf(stderr, "mxtls scan: %s: %s\n", s->out_name, strerror(errno));
        return EXIT_LOCAL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t good = 0;
    unsigned long lineno = 0, unknown = 0;
    int rc = EXIT_PASS;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n == 0 || line[n - 1] != '\n')
            break; /* partial: cut below */
        char *key = scanlist_output_key(line, (size_t)n - 1);
        if (key) {
            if (scan_keys_add(&s->done, key) < 0)
                rc = EXIT_LOCAL;
            free(key);
        } else {
            unknown++;
        }
        good += n;
    }
    if (ferror(f)) {
        fprintf(stderr, "mxtls scan: %s: %s\n", s->out_name, strerror(errno));
        rc = EXIT_LOCAL;
    }
    free(line);
    fclose(f);
    if (unknown)
        fprintf(stderr, "mxtls scan: %s: %lu line(s) not from mxtls scan kept as they are\n",
                s->out_name, unknown);
    struct stat st;
    if (rc == EXIT_PASS && fstat(fd, &st) == 0 && st.st_size > good) {
        fprintf(stderr, "mxtls scan: %s: partial last line (%lld bytes) removed\n", s->out_name,
                (long long)(st.st_size - good));
        if (ftruncate(fd, good) != 0) {
            fprintf(stderr, "mxtls scan: %s: %s\n", s->out_name, strerror(errno));
            rc = EXIT_LOCAL;
        }
    }
    return rc;
}

/* ---- summary (--stats, --stats-json) ----------------------------------- */

static int scan_class_cmp(const void *a, const void *b)
{
    const scan_class *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void scan_stats_text(const scan_run *s, const mxtls_engine_stats *es, double secs)
{
    fprintf(stderr,
            "mxtls scan: %lu lines (%lu checked, %lu input errors, %lu local failures) in "
            "%.1f s, %.1f domains/s\n"
            "  verdicts: %lu pass, %lu fail, %lu tempfail\n"
            "  probes: %lu connections (%lu retries), %lu results reused (%lu joined while "
            "running), %lu waited for politeness\n"
            "  peak connections: %lu in all, %lu to one address; DNS queries: %lu (at most %lu "
            "at a time)\n"
            "  revocation: %lu checks, %lu results reused\n"
            "  skipped: %lu already in the output or listed twice, %lu in other shards\n",
            s->lines, s->checked, s->input_errors, s->local_errors, secs,
            secs > 0 ? s->lines / secs : 0.0, s->verdicts[0], s->verdicts[1], s->verdicts[2],
            es->probes, es->retries, es->probes_reused, es->probes_joined, es->probes_queued,
            es->peak_connections, es->peak_connections_per_ip, es->dns_queries, es->peak_dns,
            es->revocation_checks, es->revocation_reused,
            s->skipped_resume, s->skipped_shard);
    size_t nc = s->nclasses + (s->classes[SCAN_MAX_CLASSES].n ? 1 : 0);
    scan_class sorted[SCAN_MAX_CLASSES + 1];
    memcpy(sorted, s->classes, sizeof sorted[0] * s->nclasses);
    if (nc > s->nclasses)
        sorted[s->nclasses] = s->classes[SCAN_MAX_CLASSES];
    qsort(sorted, nc, sizeof sorted[0], scan_class_cmp);
    if (nc)
        fprintf(stderr, "  failures by class:");
    for (size_t i = 0; i < nc; i++)
        fprintf(stderr, " %s %lu%s", sorted[i].name, sorted[i].n, i + 1 < nc ? "," : "\n");
    char *fig = s->survey ? survey_stats_text(s->survey) : NULL;
    if (fig)
        fputs(fig, stderr);
    else if (s->survey)
        fputs("mxtls scan: out of memory: survey figures left out\n", stderr);
    free(fig);
}

static int scan_stats_json(const scan_run *s, const mxtls_engine_stats *es, double secs,
                           const char *path)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kint(&w, "lines", (long long)s->lines);
    jw_kint(&w, "domains_checked", (long long)s->checked);
    jw_kint(&w, "input_errors", (long long)s->input_errors);
    jw_kint(&w, "local_failures", (long long)s->local_errors);
    jw_kint(&w, "elapsed_ms", (long long)(secs * 1000 + 0.5));
    jw_kint(&w, "domains_per_second_milli",
            (long long)(secs > 0 ? s->lines / secs * 1000 + 0.5 : 0));
    jw_key(&w, "verdicts");
    jw_obj(&w);
    jw_kint(&w, "pass", (long long)s->verdicts[0]);
    jw_kint(&w, "fail", (long long)s->verdicts[1]);
    jw_kint(&w, "tempfail", (long long)s->verdicts[2]);
    jw_end_obj(&w);
    jw_key(&w, "probes");
    jw_obj(&w);
    jw_kint(&w, "connections", (long long)es->probes);
    jw_kint(&w, "retries", (long long)es->retries);
    jw_kint(&w, "reused", (long long)es->probes_reused);
    jw_kint(&w, "joined", (long long)es->probes_joined);
    jw_kint(&w, "queued", (long long)es->probes_queued);
    jw_kint(&w, "peak_connections", (long long)es->peak_connections);
    jw_kint(&w, "peak_connections_per_ip", (long long)es->peak_connections_per_ip);
    jw_end_obj(&w);
    jw_key(&w, "revocation");
    jw_obj(&w);
    jw_kint(&w, "checks", (long long)es->revocation_checks);
    jw_kint(&w, "reused", (long long)es->revocation_reused);
    jw_end_obj(&w);
    jw_kint(&w, "dns_queries", (long long)es->dns_queries);
    jw_kint(&w, "peak_dns_queries", (long long)es->peak_dns);
    jw_key(&w, "skipped");
    jw_obj(&w);
    jw_kint(&w, "resume_or_duplicate", (long long)s->skipped_resume);
    jw_kint(&w, "other_shards", (long long)s->skipped_shard);
    jw_end_obj(&w);
    jw_key(&w, "failures_by_class");
    jw_obj(&w);
    for (size_t i = 0; i <= SCAN_MAX_CLASSES; i++)
        if ((i < s->nclasses || i == SCAN_MAX_CLASSES) && s->classes[i].n)
            jw_kint(&w, s->classes[i].name, (long long)s->classes[i].n);
    jw_end_obj(&w);
    /* the figures `mxtls report --json` gives for the output (docs/json.md) */
    char *fig = survey_stats_json(s->survey);
    if (!fig) {
        free(jw_finish(&w));
        return cli_nomem("scan");
    }
    jw_key(&w, "survey");
    jw_json(&w, fig);
    free(fig);
    jw_end_obj(&w);
    char *doc = jw_finish(&w);
    if (!doc)
        return cli_nomem("scan");
    FILE *f = fopen(path, "w");
    int bad = !f || fputs(doc, f) < 0 || fputc('\n', f) < 0;
    if (f && fclose(f) != 0)
        bad = 1;
    free(doc);
    if (bad) {
        fprintf(stderr, "mxtls scan: %s: %s\n", path, strerror(errno));
        return EXIT_LOCAL;
    }
    return EXIT_PASS;
}

/* ---- options ----------------------------------------------------------- */

/* scan_count - a decimal option in [lo, hi] */
static int scan_count(const char *opt, const char *arg, long lo, long hi, long *out)
{
    if ((*out = decimal_parse(arg, lo, hi)) < 0)
        return cli_usage_error("scan", "%s '%s' is not a number from %ld to %ld", opt, arg, lo, hi);
    return EXIT_PASS;
}

int cmd_scan(int argc, char **argv)
{
    const char *cmd = "scan";
    check_options opt = {0};
    cli_trust trust = {0};
    cli_live live = {0};
    const char *output = NULL, *shard = NULL, *stats_json = NULL, *ip_rate_arg = NULL;
    int resume = 0, stats = 0, no_share = 0, c, r;
    long concurrency = SCAN_DEFAULT_CONCURRENCY, per_ip = SCAN_DEFAULT_PER_IP,
         max_conns = SCAN_DEFAULT_MAX_CONNECTIONS, retries = SCAN_DEFAULT_RETRIES,
         retry_delay = SCAN_DEFAULT_RETRY_DELAY_MS, connect_s = 0, phase_s = 0,
         max_dns = SCAN_DEFAULT_MAX_DNS;
    double ip_rate = SCAN_DEFAULT_IP_RATE;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":" CLI_CHECK_SHORT_OPTIONS, scan_options_long, NULL)) !=
           -1) {
        if ((r = cli_check_option(cmd, c, optarg, &opt, &trust)) != CLI_CHECK_OPT_OTHER ||
            (r = cli_live_option(cmd, c, optarg, &opt, &live)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS)
                return r;
            continue;
        }
        r = EXIT_PASS;
        switch (c) {
        case OPT_JSON: break; /* the lines are always check's JSON */
        case OPT_OUTPUT: output = optarg; break;
        case OPT_RESUME: resume = 1; break;
        case OPT_SHARD: shard = optarg; break;
        case OPT_STATS: stats = 1; break;
        case OPT_STATS_JSON: stats_json = optarg; break;
        case OPT_CONCURRENCY:
            r = scan_count("--concurrency", optarg, 1, SCAN_MAX_CONCURRENCY, &concurrency);
            break;
        case OPT_PER_IP: r = scan_count("--per-ip", optarg, 0, 1000, &per_ip); break;
        case OPT_IP_RATE: ip_rate_arg = optarg; break;
        case OPT_MAX_CONNECTIONS:
            r = scan_count("--max-connections", optarg, 0, 1000000, &max_conns);
            break;
        case OPT_MAX_DNS: r = scan_count("--max-dns", optarg, 0, 100000, &max_dns); break;
        case OPT_RETRIES: r = scan_count("--retries", optarg, 0, 5, &retries); break;
        case OPT_RETRY_DELAY: r = scan_count("--retry-delay", optarg, 0, 60000, &retry_delay); break;
        case OPT_CONNECT_TIMEOUT:
            r = scan_count("--connect-timeout", optarg, 1, 3600, &connect_s);
            break;
        case OPT_PHASE_TIMEOUT: r = scan_count("--phase-timeout", optarg, 1, 3600, &phase_s); break;
        case OPT_NO_SHARE: no_share = 1; break;
        case OPT_HELP: fputs(scan_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
        if (r != EXIT_PASS)
            return r;
    }
    if (argc - optind > 1)
        return cli_usage_error(cmd, "at most one input FILE (or - for standard input)");
    const char *in_name = optind < argc ? argv[optind] : "-";
    if (ip_rate_arg) {
        char *end = NULL;
        errno = 0;
        ip_rate = strtod(ip_rate_arg, &end);
        if (errno || !end || *end || end == ip_rate_arg || !(ip_rate >= 0) || ip_rate > 100000)
            return cli_usage_error(cmd, "--ip-rate '%s' is not a rate from 0 to 100000 per second",
                                   ip_rate_arg);
    }
    if (resume && !output)
        return cli_usage_error(cmd, "--resume needs --output FILE (the file to resume)");
    unsigned long shard_i = 0, shard_n = 1;
    if (shard && scanlist_shard_parse(shard, &shard_i, &shard_n) != 0)
        return cli_usage_error(cmd, "--shard needs I/N with 0 <= I < N (e.g. 0/4)");
    mxtls_level level = MXTLS_LEVEL_INVALID;
    if ((r = cli_live_check(cmd, &live, &opt, &level)) != EXIT_PASS ||
        (r = cli_trust_check(cmd, &trust)) != EXIT_PASS)
        return r;

    scan_run s;
    memset(&s, 0, sizeof s);
    s.level = level;
    s.concurrency = (size_t)concurrency;
    s.shard_i = shard_i;
    s.shard_n = shard_n;
    s.outfd = -1;
    s.in_name = strcmp(in_name, "-") ? in_name : "standard input";
    s.out_name = output ? output : "standard output";
    int rc = EXIT_USAGE;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = NULL;
    mxtls_config *cfg = NULL;
    if (!ctx)
        return cli_nomem(cmd);
    if (live.policy_map) {
        size_t len = 0;
        char *text = mxtls_read_file(ctx, live.policy_map, MXTLS_MAX_INPUT_FILE, &len);
        map = text ? mxtls_policymap_parse(ctx, text, len, live.policy_map) : NULL;
        free(text);
        if (!map) {
            rc = cli_ctx_error(cmd, ctx);
            goto out;
        }
    }
    if (strcmp(in_name, "-")) {
        if (!(s.in = fopen(in_name, "r"))) {
            fprintf(stderr, "mxtls scan: %s: %s\n", in_name, strerror(errno));
            rc = errno == EMFILE || errno == ENFILE || errno == ENOMEM ? EXIT_LOCAL : EXIT_USAGE;
            goto out;
        }
    } else {
        s.in = stdin;
    }
    if (output) {
        s.outfd = open(output, (resume ? O_RDWR : O_WRONLY | O_TRUNC) | O_CREAT | O_APPEND | O_CLOEXEC,
                       0644);
        if (s.outfd < 0) {
            fprintf(stderr, "mxtls scan: %s: %s\n", output, strerror(errno));
            rc = errno == EMFILE || errno == ENFILE || errno == ENOMEM ? EXIT_LOCAL : EXIT_USAGE;
            goto out;
        }
        if (resume && (rc = scan_resume(&s, s.outfd)) != EXIT_PASS)
            goto out;
    } else {
        s.outfd = STDOUT_FILENO;
    }

    mxtls_error me;
    memset(&me, 0, sizeof me);
    /* hundreds of checks at once: room for their lookups upstream (a scan
     * queued behind libunbound's default, bench/RESULTS.md) */
    if (!(cfg = cli_live_config(&opt, &trust, live.revocation, (int)connect_s * 1000,
                                (int)phase_s * 1000, &me)) ||
        mxtls_config_set_dns_inflight(cfg, SCAN_DNS_INFLIGHT, &me) != MXTLS_OK ||
        !(s.base = event_base_new()) || !(s.eng = mxtls_engine_new(s.base, cfg, &me))) {
        if (!s.base && !me.code)
            me = (mxtls_error){MXTLS_ERR_NOMEM, "scan", "out of memory (the event loop)"};
        fprintf(stderr, "mxtls scan: %s%s%s\n", me.where, me.where[0] ? ": " : "",
                me.message[0] ? me.message : "out of memory");
        rc = cli_exit_for_status(me.code ? me.code : MXTLS_ERR_NOMEM);
        goto out;
    }
    mxtls_engine_limits lim = {!no_share, (unsigned)per_ip, ip_rate, (unsigned)max_conns,
                               (unsigned)retries, (int)retry_delay, (unsigned)max_dns};
    if (mxtls_engine_set_limits(s.eng, &lim, &me) != MXTLS_OK) {
        fprintf(stderr, "mxtls scan: %s: %s\n", me.where, me.message);
        rc = cli_exit_for_status(me.code);
        goto out;
    }
    /* Every check's options: check's, minus the domain. */
    cli_live_check_options(&opt, map, &s.po);

    /* Many checks at once hold many sockets: take the whole soft limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (stats || stats_json) {
        if (!(s.survey = survey_new())) {
            rc = cli_nomem(cmd);
            goto out;
        }
        if (trust.when)
            survey_set_now(s.survey, trust.when);
    }
    gettimeofday(&s.t0, NULL);
    s.show_progress = isatty(STDERR_FILENO);
    if (s.show_progress) {
        if (s.in != stdin)
            s.total = scan_count_input(in_name);
        struct timeval one = {1, 0};
        if ((s.progress = event_new(s.base, -1, EV_PERSIST, scan_progress_cb, &s)))
            event_add(s.progress, &one);
    }
    scan_feed(&s);
    if (!(s.eof && s.inflight == 0))
        event_base_dispatch(s.base);
    if (s.show_progress) {
        scan_progress_cb(-1, 0, &s);
        fputc('\n', stderr);
    }
    /* The lines are in the kernel already (one write each); on a file, make
     * them durable once at the end rather than once per line. */
    if (output && fsync(s.outfd) != 0 && errno != EINVAL) {
        fprintf(stderr, "mxtls scan: %s: %s\n", output, strerror(errno));
        s.write_failed = 1;
    }
    double secs = scan_seconds(&s);
    mxtls_engine_stats es;
    mxtls_engine_get_stats(s.eng, &es);
    rc = s.write_failed || s.local_failed ? EXIT_LOCAL : EXIT_PASS;
    if (stats)
        scan_stats_text(&s, &es, secs);
    if (stats_json && scan_stats_json(&s, &es, secs, stats_json) != EXIT_PASS)
        rc = EXIT_LOCAL;
out:
    if (s.progress)
        event_free(s.progress);
    mxtls_engine_free(s.eng);
    if (s.base)
        event_base_free(s.base);
    mxtls_config_unref(cfg);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    if (s.in && s.in != stdin)
        fclose(s.in);
    if (output && s.outfd >= 0)
        close(s.outfd);
    free(s.line);
    scan_keys_free(&s.done);
    survey_free(s.survey);
    return rc;
}
