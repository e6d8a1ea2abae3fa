/* cmd_scan.c - mxtls scan [FILE|-]: many domains on one engine, JSON Lines out
 *
 * One event loop and one engine (one warm validating resolver) run up to
 * --concurrency checks at a time; the engine shares probe results between
 * them and keeps to the politeness bounds (engine/probeshare.h). Each
 * finished check is written at once as one line: exactly the object
 * `mxtls check DOMAIN --json` prints, from the same report code. Every line
 * leaves through scan_emit() in one write(2), so an interrupted run leaves
 * only whole lines (--resume drops a partial last one).
 *
 * --jobs J runs J such loops, each with its own engine, in J threads (the
 * first in the calling thread): each takes the next input line when it has
 * room, under the run's mutex, and writes each line whole under it. The
 * politeness bounds are split between them so that their sum is the bound
 * the user gave. docs/scanning.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
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
#include "report/check_report.h"
#include "report/survey.h"

#define SCAN_DNS_INFLIGHT 4096 /* upstream queries (mxtls_config_set_dns_inflight) */
#define SCAN_DEFAULT_CONCURRENCY 100
#define SCAN_MAX_CONCURRENCY 100000
#define SCAN_DEFAULT_PER_IP 2
#define SCAN_DEFAULT_IP_RATE 10
#define SCAN_DEFAULT_MAX_CONNECTIONS 512
/* --max-dns when not given: four lookups per domain in flight (a check asks
 * for MX, TXT, TLSA and addresses at once), at least 500, at most 2000 (so
 * that libunbound, holding SCAN_DNS_INFLIGHT / 2 queries per thread, never
 * drops one): with a fixed 500 a scan at --concurrency 1000 waited for DNS
 * slots, not for the network (bench/RESULTS.md) */
#define SCAN_MIN_MAX_DNS 500
#define SCAN_MAX_MAX_DNS 2000
#define SCAN_DNS_PER_DOMAIN 4
#define SCAN_DEFAULT_RETRIES 1
#define SCAN_DEFAULT_RETRY_DELAY_MS 1000
#define SCAN_MAX_CLASSES 64      /* distinct failure classes counted; the rest as "other" */
#define SCAN_KEY_BUCKETS 65536
#define SCAN_MAX_JOBS 256

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
    "  --jobs J               J event loops in J threads, the bounds below split\n"
    "                         between them (default 1; 0: one per online CPU)\n"
    "  --concurrency N        domains in flight (default 100)\n"
    "  --per-ip N             connections at a time per server address (default 2)\n"
    "  --ip-rate R            new connections per second per server address\n"
    "                         (default 10; 0: no bound)\n"
    "  --max-connections N    connections at a time in all (default 512)\n"
    "  --max-dns N            DNS queries at a time (default 4 per --concurrency, 500 to 2000)\n"
    "  --retries N            retries of a 421/450 greeting or refused connection\n"
    "                         (default 1, at most 5)\n"
    "  --retry-delay MS       before the first retry, doubled after each (default 1000)\n"
    "  --connect-timeout S    per connection attempt (default 10)\n"
    "  --phase-timeout S      per SMTP phase and TLS handshake (default 30)\n"
    "  --no-share             probe every domain's servers anew (no shared results)\n"
    "  --lookup-order mx-first|parallel\n"
    "                         mx-first (default): a domain's MTA-STS and TLSRPT\n"
    "                         records are asked for once its MX answer is in, so\n"
    "                         its DNSSEC keys are verified once (less CPU);\n"
    "                         parallel: all three at once, as `mxtls check` does\n"
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
    OPT_PHASE_TIMEOUT, OPT_NO_SHARE, OPT_JSON, OPT_MAX_DNS, OPT_JOBS, OPT_LOOKUP_ORDER
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
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"lookup-order", required_argument, NULL, OPT_LOOKUP_ORDER},
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

typedef struct scan_run scan_run;

/* One event loop and its engine (--jobs: one per thread). Only its own
 * thread touches it while the scan runs. */
typedef struct scan_worker {
    scan_run *s;
    struct event_base *base;
    mxtls_engine *eng;
    size_t concurrency, inflight;    /* its share of --concurrency; its checks */
    pthread_t thread;
    int thread_started;
} scan_worker;

/* The run: what the workers share, under mu (the input, the output, the
 * counters); po, level, outfd, out_name, shard, t0 and show_progress are set
 * before the workers start and only read afterwards. */
struct scan_run {
    pthread_mutex_t mu;
    pthread_cond_t finished;         /* signalled when a worker thread ends */
    size_t running;                  /* worker threads not ended yet */
    scan_worker *workers;
    size_t nworkers;
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
    unsigned long max_dns;           /* --max-dns, all workers (its default follows --concurrency) */
    scan_keys done;                  /* answered in the output file, or started now */
    unsigned long skipped_resume;    /* input domains the output already had */
    unsigned long skipped_shard, duplicates;
    size_t inflight;                 /* checks in flight, all workers */
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
};

static double scan_seconds(const scan_run *s)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (double)(now.tv_sec - s->t0.tv_sec) + (now.tv_usec - s->t0.tv_usec) / 1e6;
}

/* scan_count_class - one more domain that did not pass, by its class (the
 * decisive reason code; "invalid" for input lines that are no domain,
 * "local" for domains this machine failed to check). With s->mu held, as
 * for every function below that changes the run. */
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

/* scan_emit_parsed - every output line goes through here: one write(2) of
 * the line and its newline (an interrupted run leaves whole lines), then the
 * counters. Survey figures computed from the lines belong here too: sl is
 * the line as the survey parsed it (outside the lock; NULL: perr says why),
 * added here and freed. */
static void scan_emit_parsed(scan_run *s, const char *line, size_t len, survey_line *sl,
                             const char *perr)
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
        survey_line_free(sl);
        return;
    }
    s->lines++;
    /* The figures come from the very lines written (what `mxtls report`
     * would compute from the output file); a line of ours that the survey
     * cannot read would be a bug, and is listed in its figures. */
    char err[256];
    if (s->survey && !sl)
        survey_note_rejected(s->survey, s->lines, perr);
    else if (s->survey && survey_add_line(s->survey, sl, err, sizeof err) != 0)
        survey_note_rejected(s->survey, s->lines, err);
}

/* scan_line_parse - the line parsed for the survey (NULL: none kept, or err
 * says why); without the lock */
static survey_line *scan_line_parse(const scan_run *s, const char *line, size_t len, char *err,
                                    size_t errlen)
{
    err[0] = '\0';
    return s->survey ? survey_line_parse(line, len, err, errlen) : NULL;
}

/* scan_report_parse - a report's survey figures, taken from the report
 * itself (check_report_survey_line: the values its line holds, without
 * writing and parsing JSON, which cost as much CPU as the checks), NULL when
 * none are kept */
static survey_line *scan_report_parse(const scan_run *s, const mxtls_report *rep, char *err,
                                      size_t errlen)
{
    err[0] = '\0';
    if (!s->survey)
        return NULL;
    survey_line *sl = check_report_survey_line(rep, s->level);
    if (!sl)
        snprintf(err, errlen, "out of memory");
    return sl;
}

/* scan_emit - a line parsed for the survey here (short lines, or one loop) */
static void scan_emit(scan_run *s, const char *line, size_t len)
{
    char err[256];
    survey_line *sl = scan_line_parse(s, line, len, err, sizeof err);
    scan_emit_parsed(s, line, len, sl, err);
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
    scan_worker *w;
    char *domain;
    unsigned long lineno;
} scan_item;

static int scan_feed(scan_worker *w);

static void scan_check_done(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    scan_item *it = arg;
    scan_worker *w = it->w;
    scan_run *s = w->s;
    /* The line is made, and parsed for the survey, outside the lock (a good
     * part of a domain's CPU); only its write and the counters are under it. */
    char *doc = rep ? mxtls_report_json(rep, s->level) : NULL;
    const mxtls_domain_verdict *v = doc ? mxtls_report_verdict(rep, s->level) : NULL;
    size_t len = doc ? strlen(doc) : 0;
    char perr[256];
    survey_line *sl = doc ? scan_report_parse(s, rep, perr, sizeof perr) : NULL;
    pthread_mutex_lock(&s->mu);
    w->inflight--;
    s->inflight--;
    if (!rep) {
        scan_local_failure(s, it->domain, err && err->where[0] ? err->where : "check",
                           err && err->message[0] ? err->message : "out of memory");
    } else if (!doc) {
        scan_local_failure(s, it->domain, "json", "out of memory");
    } else {
        scan_emit_parsed(s, doc, len, sl, perr);
        s->checked++;
        if (v && v->verdict == MXTLS_VERDICT_PASS)
            s->verdicts[0]++;
        else if (v) {
            s->verdicts[v->verdict == MXTLS_VERDICT_FAIL ? 1 : 2]++;
            scan_count_class(s, v->code);
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(doc);
    mxtls_report_free(rep);
    free(it->domain);
    free(it);
    if (scan_feed(w))
        event_base_loopbreak(w->base);
}

/* scan_start - one check on w's engine, counted in flight already by the
 * caller; a domain it cannot start gets an error line. Without s->mu. */
static void scan_start(scan_worker *w, char *domain, unsigned long lineno)
{
    scan_run *s = w->s;
    mxtls_error me;
    memset(&me, 0, sizeof me);
    scan_item *it = calloc(1, sizeof *it);
    if (it) {
        it->w = w;
        it->domain = domain;
        it->lineno = lineno;
        mxtls_check_options o = s->po;
        o.domain = domain;
        if (mxtls_check_start(w->eng, &o, scan_check_done, it, &me))
            return;
    } else {
        me = (mxtls_error){MXTLS_ERR_NOMEM, "scan", "out of memory"};
    }
    pthread_mutex_lock(&s->mu);
    w->inflight--;
    s->inflight--;
    if (me.code == MXTLS_ERR_NOMEM || me.code == MXTLS_ERR_RESOURCE) {
        scan_local_failure(s, domain, me.where[0] ? me.where : "check",
                           me.message[0] ? me.message : "out of memory");
    } else {
        s->input_errors++;
        scan_emit_error(s, domain, lineno, "invalid", me.where[0] ? me.where : "check",
                        me.message);
    }
    pthread_mutex_unlock(&s->mu);
    free(domain);
    free(it);
}

/* scan_feed - read input until w has its share of --concurrency in flight
 * or the input ends; the shared cursor (the input stream) moves under s->mu.
 * 1 when w is done: the input is over (or the output failed) and none of
 * w's checks is in flight. */
static int scan_feed(scan_worker *w)
{
    scan_run *s = w->s;
    pthread_mutex_lock(&s->mu);
    while (!s->eof && w->inflight < w->concurrency && !s->write_failed) {
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
        unsigned long lineno = s->lineno;
        w->inflight++;
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        scan_start(w, out, lineno);
        pthread_mutex_lock(&s->mu);
    }
    int done = (s->eof || s->write_failed) && w->inflight == 0;
    pthread_mutex_unlock(&s->mu);
    return done;
}

/* ---- progress (standard error, when it is a terminal) ------------------ */

/* scan_progress - one progress line (under s->mu: the workers' counters) */
static void scan_progress(scan_run *s)
{
    pthread_mutex_lock(&s->mu);
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
    pthread_mutex_unlock(&s->mu);
}

/* scan_progress_cb - once a second on the loop of a single worker */
static void scan_progress_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    scan_progress(arg);
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

/* scan_engine_stats - the run's engine counters: the workers' summed. The
 * peaks are summed too: the most the workers could have had at once
 * together, which is what the user's bounds (split between them) bound;
 * never below the true peak of the run. */
static void scan_engine_stats(const scan_run *s, mxtls_engine_stats *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < s->nworkers; i++) {
        mxtls_engine_stats w;
        mxtls_engine_get_stats(s->workers[i].eng, &w);
        out->probes += w.probes;
        out->probes_reused += w.probes_reused;
        out->probes_joined += w.probes_joined;
        out->probes_queued += w.probes_queued;
        out->retries += w.retries;
        out->peak_connections += w.peak_connections;
        out->peak_connections_per_ip += w.peak_connections_per_ip;
        out->dns_queries += w.dns_queries;
        out->peak_dns += w.peak_dns;
        out->revocation_checks += w.revocation_checks;
        out->revocation_reused += w.revocation_reused;
    }
}

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
            "  skipped: %lu already in the output or listed twice, %lu in other shards\n"
            "  jobs: %zu (probe and DNS counters and peaks summed over them)\n",
            s->lines, s->checked, s->input_errors, s->local_errors, secs,
            secs > 0 ? s->lines / secs : 0.0, s->verdicts[0], s->verdicts[1], s->verdicts[2],
            es->probes, es->retries, es->probes_reused, es->probes_joined, es->probes_queued,
            es->peak_connections, es->peak_connections_per_ip, es->dns_queries, es->peak_dns,
            es->revocation_checks, es->revocation_reused,
            s->skipped_resume, s->skipped_shard, s->nworkers);
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
    jw_kint(&w, "jobs", (long long)s->nworkers);
    jw_kint(&w, "max_dns", (long long)s->max_dns);
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

/* scan_share - worker i's share of a bound of total over n workers: the
 * shares add up to total exactly (0, no bound, stays 0 for every worker) */
static unsigned long scan_share(unsigned long total, size_t n, size_t i)
{
    return total / n + (i < total % n ? 1 : 0);
}

/* scan_jobs_fit - a usage error when bound (0: none) cannot give each of
 * jobs workers at least one; EXIT_PASS otherwise */
static int scan_jobs_fit(const char *opt, long bound, long jobs)
{
    if (bound == 0 || bound >= jobs)
        return EXIT_PASS;
    return cli_usage_error("scan",
                           "%s %ld cannot be split between --jobs %ld (each worker needs at least "
                           "1): raise %s to %ld or more, or lower --jobs to %ld",
                           opt, bound, jobs, opt, jobs, bound);
}

/* scan_jobs_auto - --jobs 0: the online CPUs, no more than every bound can
 * be split between (at most SCAN_MAX_JOBS) */
static long scan_jobs_auto(long concurrency, long per_ip, long max_conns, long max_dns)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > SCAN_MAX_JOBS)
        n = SCAN_MAX_JOBS;
    long bounds[] = {concurrency, per_ip, max_conns, max_dns};
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
        if (bounds[i] > 0 && bounds[i] < n)
            n = bounds[i];
    return n;
}

/* scan_worker_main - a worker thread: its loop until its share is done */
static void *scan_worker_main(void *arg)
{
    scan_worker *w = arg;
    scan_run *s = w->s;
    if (!scan_feed(w))
        event_base_dispatch(w->base);
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_cond_signal(&s->finished);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* scan_run_workers - the scan: one worker in this thread with progress on
 * its loop, or each in a thread of its own with progress from this one */
static void scan_run_workers(scan_run *s)
{
    if (s->nworkers == 1) {
        scan_worker *w = &s->workers[0];
        if (s->show_progress) {
            struct timeval one = {1, 0};
            if ((s->progress = event_new(w->base, -1, EV_PERSIST, scan_progress_cb, s)))
                event_add(s->progress, &one);
        }
        if (!scan_feed(w))
            event_base_dispatch(w->base);
        return;
    }
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nworkers; i++) {
        scan_worker *w = &s->workers[i];
        int e = pthread_create(&w->thread, NULL, scan_worker_main, w);
        if (e) {
            /* fewer threads: the ones running take the whole input */
            fprintf(stderr, "mxtls scan: cannot start worker %zu of %zu: %s\n", i + 1,
                    s->nworkers, strerror(e));
            s->local_failed = 1;
            if (i == 0)
                s->eof = 1; /* nobody to read it: no line, exit 4 */
            break;
        }
        w->thread_started = 1;
        s->running++;
    }
    while (s->running) {
        if (s->show_progress) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_sec++;
            if (pthread_cond_timedwait(&s->finished, &s->mu, &t) == ETIMEDOUT) {
                pthread_mutex_unlock(&s->mu);
                scan_progress(s);
                pthread_mutex_lock(&s->mu);
            }
        } else {
            pthread_cond_wait(&s->finished, &s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < s->nworkers; i++)
        if (s->workers[i].thread_started)
            pthread_join(s->workers[i].thread, NULL);
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
         max_dns = -1, jobs = 1;
    /* CPU, not a domain's latency, bounds a scan: each signed domain's
     * DNSKEY set verified once (mxtls_config_set_lookup_order) */
    mxtls_lookup_order lookup_order = MXTLS_LOOKUP_MX_FIRST;
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
        case OPT_JOBS: r = scan_count("--jobs", optarg, 0, SCAN_MAX_JOBS, &jobs); break;
        case OPT_LOOKUP_ORDER:
            if (!strcmp(optarg, "mx-first"))
                lookup_order = MXTLS_LOOKUP_MX_FIRST;
            else if (!strcmp(optarg, "parallel"))
                lookup_order = MXTLS_LOOKUP_PARALLEL;
            else
                return cli_usage_error(cmd, "--lookup-order '%s' is not mx-first or parallel",
                                       optarg);
            break;
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
    if (max_dns < 0) {
        max_dns = concurrency * SCAN_DNS_PER_DOMAIN;
        if (concurrency == 0 || max_dns > SCAN_MAX_MAX_DNS)
            max_dns = SCAN_MAX_MAX_DNS;
        if (max_dns < SCAN_MIN_MAX_DNS)
            max_dns = SCAN_MIN_MAX_DNS;
    }
    /* --jobs: every bound is split between the workers, so each needs 1 */
    if (jobs == 0)
        jobs = scan_jobs_auto(concurrency, per_ip, max_conns, max_dns);
    if ((r = scan_jobs_fit("--concurrency", concurrency, jobs)) != EXIT_PASS ||
        (r = scan_jobs_fit("--per-ip", per_ip, jobs)) != EXIT_PASS ||
        (r = scan_jobs_fit("--max-connections", max_conns, jobs)) != EXIT_PASS ||
        (r = scan_jobs_fit("--max-dns", max_dns, jobs)) != EXIT_PASS)
        return r;
    mxtls_level level = MXTLS_LEVEL_INVALID;
    if ((r = cli_live_check(cmd, &live, &opt, &level)) != EXIT_PASS ||
        (r = cli_trust_check(cmd, &trust)) != EXIT_PASS)
        return r;

    scan_run s;
    memset(&s, 0, sizeof s);
    if (pthread_mutex_init(&s.mu, NULL) != 0 || pthread_cond_init(&s.finished, NULL) != 0)
        return cli_nomem(cmd);
    s.level = level;
    s.shard_i = shard_i;
    s.shard_n = shard_n;
    s.max_dns = (unsigned long)max_dns;
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
     * queued behind libunbound's default, bench/RESULTS.md). Frozen here,
     * in this thread: the workers' engines share it read-only. */
    if (!(cfg = cli_live_config(&opt, &trust, live.revocation, (int)connect_s * 1000,
                                (int)phase_s * 1000, &me)) ||
        mxtls_config_set_dns_inflight(cfg, SCAN_DNS_INFLIGHT, &me) != MXTLS_OK ||
        mxtls_config_set_lookup_order(cfg, lookup_order, &me) != MXTLS_OK ||
        mxtls_config_freeze(cfg, &me) != MXTLS_OK ||
        !(s.workers = calloc((size_t)jobs, sizeof *s.workers))) {
        if (!me.code)
            me = (mxtls_error){MXTLS_ERR_NOMEM, "scan", "out of memory"};
        fprintf(stderr, "mxtls scan: %s%s%s\n", me.where, me.where[0] ? ": " : "",
                me.message[0] ? me.message : "out of memory");
        rc = cli_exit_for_status(me.code);
        goto out;
    }
    /* Every engine is made here, one after the other: libunbound's set-up
     * writes process-wide state (its log, its verbosity). */
    for (size_t i = 0; i < (size_t)jobs; i++) {
        scan_worker *w = &s.workers[i];
        w->s = &s;
        w->concurrency = scan_share((unsigned long)concurrency, (size_t)jobs, i);
        mxtls_engine_limits lim = {!no_share,
                                   (unsigned)scan_share((unsigned long)per_ip, (size_t)jobs, i),
                                   ip_rate / (double)jobs,
                                   (unsigned)scan_share((unsigned long)max_conns, (size_t)jobs, i),
                                   (unsigned)retries,
                                   (int)retry_delay,
                                   (unsigned)scan_share((unsigned long)max_dns, (size_t)jobs, i)};
        memset(&me, 0, sizeof me);
        if (!(w->base = event_base_new()) || !(w->eng = mxtls_engine_new(w->base, cfg, &me)) ||
            mxtls_engine_set_limits(w->eng, &lim, &me) != MXTLS_OK) {
            if (!w->base && !me.code)
                me = (mxtls_error){MXTLS_ERR_NOMEM, "scan", "out of memory (the event loop)"};
            fprintf(stderr, "mxtls scan: %s%s%s\n", me.where, me.where[0] ? ": " : "",
                    me.message[0] ? me.message : "out of memory");
            rc = cli_exit_for_status(me.code ? me.code : MXTLS_ERR_NOMEM);
            s.nworkers = i + 1; /* what to free */
            goto out;
        }
        s.nworkers = i + 1;
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
    if (s.show_progress && s.in != stdin)
        s.total = scan_count_input(in_name);
    scan_run_workers(&s);
    if (s.show_progress) {
        scan_progress(&s);
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
    scan_engine_stats(&s, &es);
    rc = s.write_failed || s.local_failed ? EXIT_LOCAL : EXIT_PASS;
    if (stats)
        scan_stats_text(&s, &es, secs);
    if (stats_json && scan_stats_json(&s, &es, secs, stats_json) != EXIT_PASS)
        rc = EXIT_LOCAL;
out:
    if (s.progress)
        event_free(s.progress);
    for (size_t i = 0; i < s.nworkers; i++) {
        mxtls_engine_free(s.workers[i].eng);
        if (s.workers[i].base)
            event_base_free(s.workers[i].base);
    }
    free(s.workers);
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
    pthread_cond_destroy(&s.finished);
    pthread_mutex_destroy(&s.mu);
    return rc;
}
