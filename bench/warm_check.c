/* warm_check.c - many checks from one process through the public API, against
 * one `mxtls check` process per check (bench/warm_vs_oneshot.sh runs it
 * inside the test world).
 *
 * Phases, in this order, in one run:
 *   (c) one-shot: `mxtls check DOMAIN --json` as a new process per check,
 *       one after the other; their verdict matrices are the reference;
 *   (d) in-process, cold: a new engine (so a new, empty resolver cache) per
 *       check, one check per domain: what a one-shot process pays besides
 *       starting up;
 *   (a) warm, sequential: one engine, one check in flight;
 *   (b) warm, concurrent: the same engine, K checks in flight on one
 *       event_base.
 * Domains: the rows of cases.tsv whose `what` neither starts with
 * "hostile" nor uses a hostile server ("(hostile NAME)"), cycled. Every report of (a), (b) and (d) must have the verdict
 * matrix (verdict, security and decisive code at every level, and the auto
 * level) of the one-shot check of its domain; the driver exits 1 otherwise.
 *
 * The DNS queries the process sends (UDP or TCP to port 53) are counted by
 * interposing send(), sendto() and sendmsg(), which libunbound calls through
 * the dynamic linker: a warm resolver asks nothing again for a domain it has
 * seen, a cold one walks the DNSSEC chain from the root. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "mxtls.h"

#define MAX_DOMAINS 256
#define MAX_MATRIX 4096
/* Level values are below this (include/mxtls.h: 0-7, 20-24, 30-31) */
#define LEVEL_SLOTS 64
#define MAX_JSON (16u * 1024u * 1024u)

/* ---- counting DNS queries --------------------------------------------- */

static unsigned long dns_queries;

static int port_is_dns(const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port) == 53;
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port) == 53;
    return 0;
}

/* count_dns - one more query when fd (or dest) is a DNS server */
static void count_dns(int fd, const struct sockaddr *dest)
{
    if (dest) {
        if (port_is_dns(dest))
            dns_queries++;
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && port_is_dns((struct sockaddr *)&ss))
        dns_queries++;
}

/* dlsym's object pointer as a function pointer (POSIX guarantees it works) */
static void *real_fn(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        fprintf(stderr, "warm_check: dlsym(%s) failed\n", name);
        abort();
    }
    return p;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, const void *, size_t, int);
    if (!real)
        *(void **)&real = real_fn("send");
    count_dns(fd, NULL);
    return real(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t tolen)
{
    static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    if (!real)
        *(void **)&real = real_fn("sendto");
    count_dns(fd, to);
    return real(fd, buf, len, flags, to, tolen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    static ssize_t (*real)(int, const struct msghdr *, int);
    if (!real)
        *(void **)&real = real_fn("sendmsg");
    count_dns(fd, msg ? (const struct sockaddr *)msg->msg_name : NULL);
    return real(fd, msg, flags);
}

/* ---- small helpers ---------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long maxrss_kib(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_maxrss;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("warm_check: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ---- the domains ------------------------------------------------------ */

static char *domains[MAX_DOMAINS];
static size_t ndomains;
/* the one-shot matrix of each domain: the reference */
static char *reference[MAX_DOMAINS];

static void load_cases(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    char line[4096];
    int header = 1;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (header) { /* the column names */
            header = 0;
            continue;
        }
        char *cols[5] = {0};
        char *p = line;
        for (int i = 0; i < 5 && p; i++) {
            cols[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        if (!cols[4])
            die("%s: a row with fewer than 5 columns", path);
        /* Hostile servers (and rows that use one, "(hostile NAME)") wait
         * for timeouts by design: they measure deadlines, not a check's cost. */
        if (strncmp(cols[4], "hostile", 7) == 0 || strstr(cols[4], "(hostile "))
            continue;
        if (ndomains == MAX_DOMAINS)
            die("%s: more than %d domains", path, MAX_DOMAINS);
        if (!(domains[ndomains++] = strdup(cols[0])))
            die("out of memory");
    }
    fclose(f);
    if (ndomains == 0)
        die("%s: no non-hostile domain", path);
}

/* ---- verdict matrices ------------------------------------------------- *
 * "auto=LEVEL none=VERDICT/SECURITY/CODE may=..." in mxtls_levels() order. */

__attribute__((format(printf, 3, 4))) static void matrix_add(char *m, size_t size,
                                                             const char *fmt, ...)
{
    size_t used = strlen(m);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m + used, size - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - used)
        die("verdict matrix longer than %d bytes", MAX_MATRIX);
}

static void matrix_of_report(const mxtls_report *rep, char *m, size_t size)
{
    m[0] = '\0';
    const char *al = mxtls_level_name(mxtls_report_auto_level(rep));
    matrix_add(m, size, "auto=%s", al ? al : "?");
    size_t n = 0;
    const mxtls_level *lv = mxtls_levels(&n);
    for (size_t i = 0; i < n; i++) {
        const mxtls_domain_verdict *v = mxtls_report_verdict(rep, lv[i]);
        if (!v) {
            matrix_add(m, size, " %s=-", mxtls_level_name(lv[i]));
            continue;
        }
        matrix_add(m, size, " %s=%s/%s/%s", mxtls_level_name(lv[i]), mxtls_verdict_name(v->verdict),
                   mxtls_security_name(v->security), v->code ? v->code : "null");
    }
}

/* A minimal JSON reader for `mxtls check --json`: enough to take the
 * top-level "effective_level" and "matrix" out of a well-formed document. */
typedef struct jp {
    const char *p, *end;
    int bad;
} jp;

static void jp_ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
        j->p++;
}

static int jp_lit(jp *j, char c)
{
    jp_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

/* jp_string - a string into out (escapes kept as \X pairs, which the
 * compared fields never contain); out may be NULL */
static void jp_string(jp *j, char *out, size_t size)
{
    size_t n = 0;
    if (!jp_lit(j, '"')) {
        j->bad = 1;
        return;
    }
    while (j->p < j->end && *j->p != '"') {
        if (*j->p == '\\' && j->p + 1 < j->end) {
            if (out && n + 2 < size) {
                out[n++] = j->p[0];
                out[n++] = j->p[1];
            }
            j->p += 2;
            continue;
        }
        if (out && n + 1 < size)
            out[n++] = *j->p;
        j->p++;
    }
    if (j->p >= j->end)
        j->bad = 1;
    else
        j->p++;
    if (out)
        out[n] = '\0';
}

static void jp_skip(jp *j, int depth)
{
    jp_ws(j);
    if (j->bad || j->p >= j->end || depth > 64) {
        j->bad = 1;
        return;
    }
    char c = *j->p;
    if (c == '"') {
        jp_string(j, NULL, 0);
    } else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (jp_lit(j, close))
            return;
        do {
            if (c == '{') {
                jp_string(j, NULL, 0);
                if (!jp_lit(j, ':'))
                    j->bad = 1;
            }
            jp_skip(j, depth + 1);
        } while (!j->bad && jp_lit(j, ','));
        if (!jp_lit(j, close))
            j->bad = 1;
    } else {
        while (j->p < j->end && (strchr("-+.eE", *j->p) || (*j->p >= '0' && *j->p <= '9') ||
                                 (*j->p >= 'a' && *j->p <= 'z')))
            j->p++;
    }
}

/* jp_field - the string or null value at the cursor ("null" for null) */
static void jp_field(jp *j, char *out, size_t size)
{
    jp_ws(j);
    if (j->p < j->end && *j->p == '"') {
        jp_string(j, out, size);
    } else {
        snprintf(out, size, "null");
        jp_skip(j, 0);
    }
}

/* matrix_of_json - the matrix of a check document; 0, or -1 if unreadable */
static int matrix_of_json(const char *doc, size_t len, char *m, size_t size, double *elapsed)
{
    jp j = {doc, doc + len, 0};
    char key[128], auto_level[64] = "", cell[LEVEL_SLOTS][3][128];
    int have[LEVEL_SLOTS] = {0}, have_matrix = 0;
    if (!jp_lit(&j, '{'))
        return -1;
    do {
        jp_string(&j, key, sizeof key);
        if (!jp_lit(&j, ':'))
            return -1;
        if (!strcmp(key, "effective_level")) {
            jp_field(&j, auto_level, sizeof auto_level);
        } else if (!strcmp(key, "elapsed_ms")) {
            jp_ws(&j);
            *elapsed = atof(j.p);
            jp_skip(&j, 0);
        } else if (!strcmp(key, "matrix")) {
            have_matrix = 1;
            if (!jp_lit(&j, '{'))
                return -1;
            if (jp_lit(&j, '}'))
                continue;
            do {
                char lname[64];
                jp_string(&j, lname, sizeof lname);
                mxtls_level l = mxtls_level_from_name(lname);
                if (!jp_lit(&j, ':') || l < 0 || l >= LEVEL_SLOTS ||
                    !jp_lit(&j, '{'))
                    return -1;
                have[l] = 1;
                strcpy(cell[l][0], "?");
                strcpy(cell[l][1], "?");
                strcpy(cell[l][2], "?");
                if (jp_lit(&j, '}'))
                    continue;
                do {
                    char f[64];
                    jp_string(&j, f, sizeof f);
                    if (!jp_lit(&j, ':'))
                        return -1;
                    int k = !strcmp(f, "verdict") ? 0 : !strcmp(f, "security") ? 1
                            : !strcmp(f, "code")  ? 2 : -1;
                    if (k >= 0)
                        jp_field(&j, cell[l][k], sizeof cell[l][k]);
                    else
                        jp_skip(&j, 1);
                } while (!j.bad && jp_lit(&j, ','));
                if (!jp_lit(&j, '}'))
                    return -1;
            } while (!j.bad && jp_lit(&j, ','));
            if (!jp_lit(&j, '}'))
                return -1;
        } else {
            jp_skip(&j, 0);
        }
    } while (!j.bad && jp_lit(&j, ','));
    if (j.bad || !jp_lit(&j, '}') || !have_matrix || !auto_level[0])
        return -1;
    m[0] = '\0';
    matrix_add(m, size, "auto=%s", auto_level);
    size_t n = 0;
    const mxtls_level *lv = mxtls_levels(&n);
    for (size_t i = 0; i < n; i++) {
        mxtls_level l = lv[i];
        if (l < 0 || l >= LEVEL_SLOTS || !have[l])
            matrix_add(m, size, " %s=-", mxtls_level_name(l));
        else
            matrix_add(m, size, " %s=%s/%s/%s", mxtls_level_name(l), cell[l][0], cell[l][1],
                       cell[l][2]);
    }
    return 0;
}

static unsigned long mismatches;

/* compare - a matrix against the domain's reference */
static void compare(const char *phase, size_t d, const char *m)
{
    if (!reference[d]) {
        if (strcmp(phase, "one-shot") != 0)
            die("%s: no one-shot check to compare with", domains[d]);
        if (!(reference[d] = strdup(m)))
            die("out of memory");
        return;
    }
    if (strcmp(reference[d], m) == 0)
        return;
    if (mismatches++ < 10)
        fprintf(stderr, "MISMATCH %s %s\n  one-shot: %s\n  this:     %s\n", phase, domains[d],
                reference[d], m);
}

/* ---- options ---------------------------------------------------------- */

static struct {
    const char *cases, *mxtls, *root_hints, *trust_anchor, *ca_file;
    long checks, inflight, oneshot;
} opt = {NULL, NULL, NULL, NULL, NULL, 1000, 100, -1};

static mxtls_config *make_config(void)
{
    mxtls_error err;
    mxtls_config *cfg = mxtls_config_new();
    if (!cfg)
        die("out of memory");
    if (mxtls_config_set_ca_file(cfg, opt.ca_file, &err) != MXTLS_OK ||
        mxtls_config_set_dns(cfg, NULL, opt.trust_anchor, opt.root_hints, &err) != MXTLS_OK ||
        mxtls_config_freeze(cfg, &err) != MXTLS_OK)
        die("configuration: %s: %s", err.where, err.message);
    return cfg;
}

/* ---- (c) one-shot processes ------------------------------------------- */

typedef struct phase {
    const char *name;
    long checks;
    double wall_ms, cpu_ms;
    unsigned long queries;
    double latency_sum_ms; /* sum of the checks' own elapsed times */
    double *walls;         /* wall time of each check (sequential phases) */
    long nwalls;
} phase;

static void phase_sample(phase *ph, double ms)
{
    double *w = realloc(ph->walls, (size_t)(ph->nwalls + 1) * sizeof *w);
    if (!w)
        die("out of memory");
    ph->walls = w;
    ph->walls[ph->nwalls++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* quantile - of the phase's per-check wall times (sorts them) */
static double quantile(phase *ph, double q)
{
    if (ph->nwalls == 0)
        return 0;
    qsort(ph->walls, (size_t)ph->nwalls, sizeof *ph->walls, cmp_double);
    long i = (long)(q * (double)(ph->nwalls - 1) + 0.5);
    return ph->walls[i];
}

/* oneshot - run `mxtls check DOMAIN --json ...`; its stdout in *out */
static size_t oneshot(const char *domain, char **out)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(opt.mxtls, opt.mxtls, "check", domain, "--json", "--root-hints", opt.root_hints,
              "--trust-anchor", opt.trust_anchor, "--ca-file", opt.ca_file, (char *)NULL);
        fprintf(stderr, "warm_check: exec %s: %s\n", opt.mxtls, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        die("out of memory");
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_JSON)
                die("%s: more than %u bytes of output", domain, MAX_JSON);
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                die("out of memory");
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fds[0], buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("read: %s", strerror(errno));
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fds[0]);
    if (len == cap) {
        char *nb = realloc(buf, cap + 1);
        if (!nb)
            die("out of memory");
        buf = nb;
    }
    buf[len] = '\0';
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    /* exit codes 0, 1 and 3 are verdicts; anything else is an error */
    if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1 && WEXITSTATUS(st) != 3))
        die("mxtls check %s: exit status %d", domain, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    *out = buf;
    return len;
}

static void run_oneshot(phase *ph, long n)
{
    double c0 = cpu_ms(RUSAGE_CHILDREN), t0 = now_ms();
    for (long i = 0; i < n; i++) {
        size_t d = (size_t)i % ndomains;
        char *doc = NULL, m[MAX_MATRIX];
        double p0 = now_ms();
        size_t len = oneshot(domains[d], &doc);
        phase_sample(ph, now_ms() - p0);
        double elapsed = 0;
        if (matrix_of_json(doc, len, m, sizeof m, &elapsed) != 0)
            die("mxtls check %s --json: cannot read the matrix", domains[d]);
        ph->latency_sum_ms += elapsed; /* the check's own time inside the process */
        free(doc);
        compare("one-shot", d, m);
    }
    ph->wall_ms = now_ms() - t0;
    ph->cpu_ms = cpu_ms(RUSAGE_CHILDREN) - c0;
    ph->checks = n;
}

/* ---- (a), (b), (d): checks through the engine -------------------------- */

typedef struct runner {
    struct event_base *base;
    mxtls_engine *eng;
    phase *ph;
    long target, started, done, inflight;
    int stop_when_idle; /* break the loop when nothing is in flight */
} runner;

typedef struct job {
    runner *r;
    size_t d;
    double t0;
    unsigned long q0;
} job;

/* per-check figures of the sequential phase */
typedef struct seqstat {
    double first_ms[MAX_DOMAINS];
    unsigned long first_q[MAX_DOMAINS];
    int seen[MAX_DOMAINS];
    double repeat_ms;
    unsigned long repeat_q;
    long repeats;
    unsigned long repeat_dq[MAX_DOMAINS]; /* per domain */
    long repeat_dn[MAX_DOMAINS];
} seqstat;
static seqstat seq;
static int seq_active;

static void start_one(runner *r);

static void check_done(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    job *j = arg;
    runner *r = j->r;
    double ms = now_ms() - j->t0;
    unsigned long q = dns_queries - j->q0;
    if (!rep)
        die("check of %s could not run: %s: %s", domains[j->d], err ? err->where : "?",
            err ? err->message : "?");
    char m[MAX_MATRIX];
    matrix_of_report(rep, m, sizeof m);
    compare(r->ph->name, j->d, m);
    r->ph->latency_sum_ms += (double)mxtls_report_elapsed_ms(rep);
    mxtls_report_free(rep);
    if (seq_active)
        phase_sample(r->ph, ms);
    if (seq_active) {
        if (!seq.seen[j->d]) {
            seq.seen[j->d] = 1;
            seq.first_ms[j->d] = ms;
            seq.first_q[j->d] = q;
        } else {
            seq.repeat_ms += ms;
            seq.repeat_q += q;
            seq.repeat_dq[j->d] += q;
            seq.repeat_dn[j->d]++;
            seq.repeats++;
        }
    }
    free(j);
    r->done++;
    r->inflight--;
    if (r->started < r->target)
        start_one(r);
    if (r->inflight == 0)
        event_base_loopbreak(r->base);
}

static void start_one(runner *r)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        die("out of memory");
    j->r = r;
    j->d = (size_t)r->started % ndomains;
    j->t0 = now_ms();
    j->q0 = dns_queries;
    mxtls_check_options o = {.domain = domains[j->d]};
    mxtls_error err;
    r->started++;
    r->inflight++;
    if (!mxtls_check_start(r->eng, &o, check_done, j, &err))
        die("mxtls_check_start(%s): %s: %s", domains[j->d], err.where, err.message);
}

/* run_engine - n checks on eng, k in flight */
static void run_engine(struct event_base *base, mxtls_engine *eng, phase *ph, long n, long k)
{
    runner r = {base, eng, ph, n, 0, 0, 0, 0};
    double c0 = cpu_ms(RUSAGE_SELF), t0 = now_ms();
    unsigned long q0 = dns_queries;
    while (r.started < n && r.inflight < k)
        start_one(&r);
    while (r.done < n)
        if (event_base_dispatch(base) < 0)
            die("event_base_dispatch failed");
    ph->wall_ms += now_ms() - t0;
    ph->cpu_ms += cpu_ms(RUSAGE_SELF) - c0;
    ph->queries += dns_queries - q0;
    ph->checks += n;
}

/* run_cold - one check per domain, each on a new engine (empty cache);
 * the engine's creation and release count as part of its check */
static void run_cold(struct event_base *base, mxtls_config *cfg, phase *ph)
{
    for (size_t d = 0; d < ndomains; d++) {
        mxtls_error err;
        double t0 = now_ms(), c0 = cpu_ms(RUSAGE_SELF);
        unsigned long q0 = dns_queries;
        mxtls_engine *eng = mxtls_engine_new(base, cfg, &err);
        if (!eng)
            die("mxtls_engine_new: %s: %s", err.where, err.message);
        /* check number d goes to domain d */
        runner one = {base, eng, ph, (long)d + 1, (long)d, 0, 0, 0};
        start_one(&one);
        while (one.inflight > 0)
            if (event_base_dispatch(base) < 0)
                die("event_base_dispatch failed");
        mxtls_engine_free(eng);
        ph->wall_ms += now_ms() - t0;
        ph->cpu_ms += cpu_ms(RUSAGE_SELF) - c0;
        ph->queries += dns_queries - q0;
        ph->checks++;
    }
}

/* ---- the table -------------------------------------------------------- */

static void print_row(const char *label, const phase *ph, long scaled_to)
{
    double per_wall = ph->wall_ms / (double)ph->checks, per_cpu = ph->cpu_ms / (double)ph->checks;
    char q[32];
    if (ph->name[0] == 'c') /* other processes: not counted */
        snprintf(q, sizeof q, "n/a");
    else
        snprintf(q, sizeof q, "%.1f", (double)ph->queries / (double)ph->checks);
    printf("%-44s %6ld %9.1f %10.2f %9.2f %9.1f %11.2f %10s\n", label, ph->checks,
           (scaled_to ? per_wall * (double)scaled_to : ph->wall_ms) / 1e3, per_wall, per_cpu,
           1e3 * (double)ph->checks / ph->wall_ms, ph->latency_sum_ms / (double)ph->checks, q);
}

static void usage(void)
{
    fputs("usage: warm_check --cases CASES.TSV --mxtls BIN --root-hints FILE --trust-anchor FILE\n"
          "                  --ca-file FILE [--checks N] [--inflight K] [--oneshot M]\n"
          "  --checks N     checks per phase (default 1000)\n"
          "  --inflight K   checks in flight in the concurrent phase (default 100)\n"
          "  --oneshot M    one-shot processes (default N; fewer are scaled to N)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"cases", required_argument, NULL, 'c'},     {"mxtls", required_argument, NULL, 'm'},
        {"root-hints", required_argument, NULL, 'r'}, {"trust-anchor", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'a'},   {"checks", required_argument, NULL, 'n'},
        {"inflight", required_argument, NULL, 'k'},  {"oneshot", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'c': opt.cases = optarg; break;
        case 'm': opt.mxtls = optarg; break;
        case 'r': opt.root_hints = optarg; break;
        case 't': opt.trust_anchor = optarg; break;
        case 'a': opt.ca_file = optarg; break;
        case 'n': opt.checks = atol(optarg); break;
        case 'k': opt.inflight = atol(optarg); break;
        case 'o': opt.oneshot = atol(optarg); break;
        default: usage();
        }
    }
    if (optind != argc || !opt.cases || !opt.mxtls || !opt.root_hints || !opt.trust_anchor ||
        !opt.ca_file || opt.checks < 1 || opt.inflight < 1)
        usage();
    if (opt.oneshot < 0 || opt.oneshot > opt.checks)
        opt.oneshot = opt.checks;
    if (opt.oneshot < 1)
        usage();
    signal(SIGPIPE, SIG_IGN);
    load_cases(opt.cases);
    if ((size_t)opt.oneshot < ndomains)
        die("--oneshot %ld: at least one per domain (%zu) is needed as the reference",
            opt.oneshot, ndomains);

    /* (c) first: the references, and the children's peak RSS is measured
     * while this process is still small (a child's ru_maxrss includes the
     * parent image it was forked from). */
    phase pc = {.name = "c"};
    run_oneshot(&pc, opt.oneshot);
    long child_rss = maxrss_kib(RUSAGE_CHILDREN);

    struct event_base *base = event_base_new();
    if (!base)
        die("event_base_new failed");
    mxtls_config *cfg = make_config();

    /* (d) a cold engine per check, in this process */
    phase pd = {.name = "d"};
    run_cold(base, cfg, &pd);

    /* (a) one warm engine, one check in flight */
    mxtls_error err;
    mxtls_engine *eng = mxtls_engine_new(base, cfg, &err);
    if (!eng)
        die("mxtls_engine_new: %s: %s", err.where, err.message);
    phase pa = {.name = "a"};
    seq_active = 1;
    run_engine(base, eng, &pa, opt.checks, 1);
    seq_active = 0;

    /* (b) the same engine, K in flight */
    phase pb = {.name = "b"};
    run_engine(base, eng, &pb, opt.checks, opt.inflight);
    long self_rss = maxrss_kib(RUSAGE_SELF);

    mxtls_engine_free(eng);
    mxtls_config_unref(cfg);
    event_base_free(base);

    char label[128];
    printf("%zu domains (cases.tsv, non-hostile), cycled; %ld checks per phase\n\n", ndomains,
           opt.checks);
    printf("%-44s %6s %9s %10s %9s %9s %11s %10s\n", "", "checks", "wall s", "wall ms", "CPU ms",
           "checks/s", "check's own", "DNS");
    printf("%-44s %6s %9s %10s %9s %9s %11s %10s\n", "", "", "", "/check", "/check", "",
           "ms (mean)", "queries");
    printf("%-44s %6s %9s %10s %9s %9s %11s %10s\n", "", "", "", "", "", "", "", "/check");
    print_row("(a) one process, warm, 1 in flight", &pa, 0);
    snprintf(label, sizeof label, "(b) one process, warm, %ld in flight", opt.inflight);
    print_row(label, &pb, 0);
    if (opt.oneshot == opt.checks)
        print_row("(c) one `mxtls check --json` process each", &pc, 0);
    else {
        snprintf(label, sizeof label, "(c) one process each (%ld run, wall s scaled)", opt.oneshot);
        print_row(label, &pc, opt.checks);
    }
    print_row("(d) one process, new engine per check", &pd, 0);

    double wa = pa.wall_ms / (double)pa.checks, wb = pb.wall_ms / (double)pb.checks,
           wc = pc.wall_ms / (double)pc.checks;
    double ca = pa.cpu_ms / (double)pa.checks, cb = pb.cpu_ms / (double)pb.checks,
           cc = pc.cpu_ms / (double)pc.checks;
    printf("\nratios, one-shot (c) / warm:  wall per check  c/a %.1f  c/b %.1f;  "
           "CPU per check  c/a %.1f  c/b %.1f\n",
           wc / wa, wc / wb, cc / ca, cc / cb);
    printf("wall per check, median / 90th percentile / max:  (a) %.1f / %.1f / %.1f ms;  "
           "(c) %.1f / %.1f / %.1f ms\n",
           quantile(&pa, 0.5), quantile(&pa, 0.9), quantile(&pa, 1.0), quantile(&pc, 0.5),
           quantile(&pc, 0.9), quantile(&pc, 1.0));
    printf("peak RSS: warm process %.1f MiB (after (a) and (b)); largest one-shot process %.1f MiB\n",
           (double)self_rss / 1024.0, (double)child_rss / 1024.0);

    /* the DNSSEC chain: paid once per engine, not per check */
    double first_sum = 0;
    unsigned long first_q = 0;
    size_t nfirst = 0;
    for (size_t d = 1; d < ndomains; d++)
        if (seq.seen[d]) {
            first_sum += seq.first_ms[d];
            first_q += seq.first_q[d];
            nfirst++;
        }
    printf("\nDNS in (a), one engine from cold:\n");
    printf("  its first check (%s): %.1f ms, %lu queries (the chain from the root)\n", domains[0],
           seq.first_ms[0], seq.first_q[0]);
    if (nfirst)
        printf("  first check of each other domain: %.1f ms, %.1f queries (mean of %zu)\n",
               first_sum / (double)nfirst, (double)first_q / (double)nfirst, nfirst);
    if (seq.repeats)
        printf("  repeated domains: %.1f ms, %.2f queries (mean of %ld)\n",
               seq.repeat_ms / (double)seq.repeats, (double)seq.repeat_q / (double)seq.repeats,
               seq.repeats);
    int asked = 0;
    for (size_t d = 0; d < ndomains; d++)
        if (seq.repeat_dq[d]) {
            printf("%s%s %.1f", asked++ ? ", " : "  repeated domains that asked again (per check): ",
                   domains[d], (double)seq.repeat_dq[d] / (double)seq.repeat_dn[d]);
        }
    if (asked)
        printf("\n");
    printf("  (d), a new engine per check: %.1f queries per check\n",
           (double)pd.queries / (double)pd.checks);

    long compared = pa.checks + pb.checks + pd.checks + pc.checks - (long)ndomains;
    for (size_t d = 0; d < ndomains; d++) {
        free(reference[d]);
        free(domains[d]);
    }
    free(pa.walls);
    free(pb.walls);
    free(pc.walls);
    free(pd.walls);
    if (pd.queries == 0) {
        fprintf(stderr, "warm_check: no DNS query was counted: the send() interposition did "
                        "not take effect\n");
        return 1;
    }
    if (mismatches) {
        printf("\nverdict matrices: %lu of %ld reports DIFFER from the one-shot check\n", mismatches,
               compared);
        return 1;
    }
    printf("\nverdict matrices (auto level; verdict, security, decisive code at every level): "
           "%ld reports, every one equal to the one-shot `mxtls check --json` of its domain\n",
           compared);
    return 0;
}
