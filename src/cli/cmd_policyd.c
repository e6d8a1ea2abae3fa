/* cmd_policyd.c - mxtls policyd: the MTA-STS socketmap server for Postfix
 *
 * Options and the --config file, logging (stderr in Postfix's format, or
 * syslog facility mail), signals: SIGTERM/SIGINT stop cleanly, SIGHUP
 * re-reads the config file. The server itself is engine/policyd.c;
 * docs/policyd.md describes both. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/base.h"
#include "engine/check.h"
#include "engine/policyd.h"

/* upstream DNS queries in flight (mxtls_config_set_dns_inflight) */
#define POLICYD_DNS_INFLIGHT 1024

#define PD_MAX_LISTEN 8
#define PD_CONF_MAX (64u * 1024u)
#define PD_DEFAULT_TOTAL_MS 15000 /* a lookup's bound: Postfix waits 100 s (dict_sockmap.c) */
#define PD_DEFAULT_PHASE_MS 10000 /* the policy fetch's bound */

static const char policyd_help[] =
    "usage: mxtls policyd --listen unix:PATH|inet:HOST:PORT [--cache FILE] [--config FILE]\n"
    "                     [--map-name NAME] [--syslog] [--check-config] [DNS and trust options]\n"
    "\n"
    "MTA-STS (RFC 8461) for Postfix: a socketmap server for smtp_tls_policy_maps.\n"
    "  smtp_tls_policy_maps = socketmap:unix:/run/mxtls/policyd.sock:mxtls\n"
    "An MTA-STS policy in mode enforce is answered \"secure match=... servername=hostname\"\n"
    "with exactly the MX hosts it covers; where DANE applies to the MX hosts, \"dane\";\n"
    "testing, none or no policy: NOTFOUND (Postfix's own level applies).\n"
    "\n"
    "  --listen SPEC      unix:PATH or inet:ADDRESS:PORT (repeatable, at most 8)\n"
    "  --cache FILE       the MTA-STS policy cache (SQLite; check can share it)\n"
    "  --config FILE      settings file (docs/policyd.md); options given here win\n"
    "  --map-name NAME    the socketmap name answered (default mxtls); others get PERM\n"
    "  --syslog           log to syslog (facility mail) instead of standard error\n"
    "  --check-config     check the settings, the cache and the trust files, then exit\n"
    "  --timeout SECONDS  bound of one lookup (default 15)\n"
    "  --ca-file FILE, --ca-path DIR, --resolver ADDR[@PORT], --trust-anchor FILE,\n"
    "  --root-hints FILE, -4, -6   as for mxtls check\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop, SIGHUP re-reads --config and recomputes every answer.\n"
    "Exit: 0 stopped by a signal or configuration OK, 2 usage or configuration error,\n"
    "4 local failure (cannot listen, out of memory).\n";

enum {
    OPT_LISTEN = 1,
    OPT_CACHE,
    OPT_CONFIG,
    OPT_MAP_NAME,
    OPT_SYSLOG,
    OPT_CHECK_CONFIG,
    OPT_HELP,
};

static const struct option policyd_long[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"map-name", required_argument, NULL, OPT_MAP_NAME},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
    {"help", no_argument, NULL, OPT_HELP},
    CLI_CHECK_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* The settings: from the command line, then the config file for what the
 * command line left unset. Strings point into argv or into `owned`. */
typedef struct pd_conf {
    const char *listen[PD_MAX_LISTEN];
    size_t nlisten;
    const char *cache, *map_name, *config;
    int use_syslog;
    check_options opt;
    cli_trust trust;
    policyd_settings set;
    strlist owned;
} pd_conf;

/* ---- logging ---------------------------------------------------------- */

typedef struct pd_logger {
    int use_syslog;
    char host[256];
} pd_logger;

/* pd_log - Postfix's format: "Mon DD HH:MM:SS HOST mxtls/policyd[PID]:
 * warning: text" on stderr, or the same through syslog(3) */
static void pd_log(void *arg, int prio, const char *msg)
{
    pd_logger *lg = arg;
    const char *level = prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " : "";
    if (lg->use_syslog) {
        syslog(prio, "%s%s", level, msg);
        return;
    }
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
    fprintf(stderr, "%s %s mxtls/policyd[%ld]: %s%s\n", ts, lg->host, (long)getpid(), level, msg);
    fflush(stderr);
}

/* ---- the config file -------------------------------------------------- */

static int pd_conf_bool(const char *v)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
        return 0;
    return -1;
}

/* pd_conf_file - read "name = value" lines (# comments, blank lines) into c,
 * for each setting the command line did not give. cmdline says which ones
 * it gave. Returns EXIT_PASS or EXIT_USAGE (message printed "FILE:LINE: ..."). */
typedef struct pd_given {
    int listen, cache, map_name, syslog, timeout, ca_file, ca_path, resolver, trust_anchor,
        root_hints;
} pd_given;

static int pd_conf_error(const char *file, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pd_conf_error(const char *file, size_t line, const char *fmt, ...)
{
    fprintf(stderr, "mxtls policyd: %s:%zu: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static const char *pd_keep(pd_conf *c, const char *s)
{
    if (strlist_add(&c->owned, s) != MXTLS_OK)
        return NULL;
    return c->owned.v[c->owned.n - 1];
}

static int pd_conf_file(pd_conf *c, const pd_given *g, const char *file)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem("policyd");
    size_t len = 0;
    char *text = mxtls_read_file(ctx, file, PD_CONF_MAX, &len);
    if (!text) {
        int r = cli_ctx_error("policyd", ctx);
        mxtls_ctx_free(ctx);
        return r;
    }
    mxtls_ctx_free(ctx);
    int rc = EXIT_PASS;
    size_t lineno = 0, nlisten_file = 0;
    const char *file_listen[PD_MAX_LISTEN];
    if (memchr(text, '\0', len)) {
        free(text);
        return pd_conf_error(file, 1, "NUL byte in the file");
    }
    for (char *p = text; p && rc == EXIT_PASS;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        char *line = p;
        p = nl ? nl + 1 : NULL;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line)
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = pd_conf_error(file, lineno, "expected \"name = value\"");
            break;
        }
        char *ke = eq;
        while (ke > line && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        *ke = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v) {
            rc = pd_conf_error(file, lineno, "%s has no value", line);
            break;
        }
        const char *kept = pd_keep(c, v);
        if (!kept) {
            rc = cli_nomem("policyd");
            break;
        }
        long n;
        if (!strcmp(line, "listen")) {
            if (nlisten_file >= PD_MAX_LISTEN)
                rc = pd_conf_error(file, lineno, "at most %d listen lines", PD_MAX_LISTEN);
            else
                file_listen[nlisten_file++] = kept;
        } else if (!strcmp(line, "cache")) {
            if (!g->cache)
                c->cache = kept;
        } else if (!strcmp(line, "map_name")) {
            if (!g->map_name)
                c->map_name = kept;
        } else if (!strcmp(line, "syslog")) {
            if ((n = pd_conf_bool(v)) < 0)
                rc = pd_conf_error(file, lineno, "syslog must be yes or no");
            else if (!g->syslog)
                c->use_syslog = (int)n;
        } else if (!strcmp(line, "verbose")) {
            if ((n = pd_conf_bool(v)) < 0)
                rc = pd_conf_error(file, lineno, "verbose must be yes or no");
            else
                c->set.verbose = (int)n;
        } else if (!strcmp(line, "lookup_timeout")) {
            if ((n = decimal_parse(v, 1, 3600)) < 0)
                rc = pd_conf_error(file, lineno, "lookup_timeout must be 1-3600 seconds");
            else if (!g->timeout)
                c->opt.total_timeout_ms = (int)n * 1000;
        } else if (!strcmp(line, "refresh_interval") || !strcmp(line, "stale_max") ||
                   !strcmp(line, "idle_timeout") || !strcmp(line, "request_timeout")) {
            if ((n = decimal_parse(v, 1, 31557600L)) < 0) {
                rc = pd_conf_error(file, lineno, "%s must be a number of seconds", line);
            } else {
                int *dst = !strcmp(line, "refresh_interval") ? &c->set.refresh_s
                           : !strcmp(line, "stale_max")      ? &c->set.stale_s
                           : !strcmp(line, "idle_timeout")   ? &c->set.idle_s
                                                             : &c->set.request_s;
                *dst = (int)n;
            }
        } else if (!strcmp(line, "max_clients") || !strcmp(line, "max_answers")) {
            if ((n = decimal_parse(v, 1, 10000000L)) < 0)
                rc = pd_conf_error(file, lineno, "%s must be a number 1-10000000", line);
            else if (!strcmp(line, "max_clients"))
                c->set.max_clients = (size_t)n;
            else
                c->set.max_answers = (size_t)n;
        } else if (!strcmp(line, "ca_file")) {
            if (!g->ca_file && !g->ca_path)
                c->trust.ca_file = kept;
        } else if (!strcmp(line, "ca_path")) {
            if (!g->ca_file && !g->ca_path)
                c->trust.ca_path = kept;
        } else if (!strcmp(line, "resolver")) {
            if (!g->resolver)
                c->opt.dns.resolver = kept;
        } else if (!strcmp(line, "trust_anchor")) {
            if (!g->trust_anchor)
                c->opt.dns.trust_anchor = kept;
        } else if (!strcmp(line, "root_hints")) {
            if (!g->root_hints)
                c->opt.dns.root_hints = kept;
        } else {
            rc = pd_conf_error(file, lineno, "unknown setting \"%.64s\"", line);
        }
    }
    free(text);
    if (rc == EXIT_PASS && !g->listen)
        for (size_t i = 0; i < nlisten_file; i++)
            c->listen[c->nlisten++] = file_listen[i];
    return rc;
}

/* pd_settings - the command line, then the config file (if any), then the
 * defaults; usage errors printed */
static int pd_settings(pd_conf *c, int argc, char **argv, int *check_only)
{
    pd_given g = {0};
    int ch, r;
    policyd_settings_default(&c->set);
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":" CLI_CHECK_SHORT_OPTIONS, policyd_long, NULL)) !=
           -1) {
        if ((r = cli_check_option("policyd", ch, optarg, &c->opt, &c->trust)) !=
            CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS)
                return r;
            g.timeout |= ch == CLI_CHECK_OPT_TIMEOUT;
            g.ca_file |= ch == CLI_CHECK_OPT_CA_FILE;
            g.ca_path |= ch == CLI_CHECK_OPT_CA_PATH;
            g.resolver |= ch == CLI_CHECK_OPT_RESOLVER;
            g.trust_anchor |= ch == CLI_CHECK_OPT_TRUST_ANCHOR;
            g.root_hints |= ch == CLI_CHECK_OPT_ROOT_HINTS;
            continue;
        }
        switch (ch) {
        case OPT_LISTEN:
            if (c->nlisten >= PD_MAX_LISTEN)
                return cli_usage_error("policyd", "at most %d --listen options", PD_MAX_LISTEN);
            c->listen[c->nlisten++] = optarg;
            g.listen = 1;
            break;
        case OPT_CACHE: c->cache = optarg; g.cache = 1; break;
        case OPT_CONFIG: c->config = optarg; break;
        case OPT_MAP_NAME: c->map_name = optarg; g.map_name = 1; break;
        case OPT_SYSLOG: c->use_syslog = 1; g.syslog = 1; break;
        case OPT_CHECK_CONFIG: *check_only = 1; break;
        case OPT_HELP: fputs(policyd_help, stdout); return -1;
        case ':': return cli_usage_error("policyd", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("policyd", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error("policyd", "unexpected argument '%s'", argv[optind]);
    if (c->opt.port || c->opt.ehlo_name || c->trust.at)
        return cli_usage_error("policyd", "--port, --ehlo and --at are not policyd options");
    if (c->config && (r = pd_conf_file(c, &g, c->config)) != EXIT_PASS)
        return r;
    if (c->nlisten == 0)
        return cli_usage_error("policyd", "--listen unix:PATH or inet:HOST:PORT is required");
    for (size_t i = 0; i < c->nlisten; i++)
        if (strncmp(c->listen[i], "unix:", 5) && strncmp(c->listen[i], "inet:", 5))
            return cli_usage_error("policyd", "--listen '%s': give unix:PATH or inet:HOST:PORT",
                                   c->listen[i]);
    if (c->map_name)
        c->set.map_name = c->map_name;
    c->set.cache_path = c->cache;
    if (!c->opt.total_timeout_ms)
        c->opt.total_timeout_ms = PD_DEFAULT_TOTAL_MS;
    c->opt.phase_timeout_ms = c->opt.total_timeout_ms < PD_DEFAULT_PHASE_MS
                                  ? c->opt.total_timeout_ms
                                  : PD_DEFAULT_PHASE_MS;
    if ((r = cli_trust_check("policyd", &c->trust)) != EXIT_PASS)
        return r;
    return EXIT_PASS;
}

/* ---- running ---------------------------------------------------------- */

typedef struct pd_run {
    struct event_base *base;
    policyd *d;
    pd_logger *lg;
    const char *config;
    int argc;
    char **argv;
    int stopping;
} pd_run;

static void pd_on_term(evutil_socket_t sig, short what, void *arg)
{
    pd_run *run = arg;
    (void)what;
    char msg[96];
    snprintf(msg, sizeof msg, "terminating on signal %d", (int)sig);
    pd_log(run->lg, LOG_INFO, msg);
    run->stopping = 1;
    event_base_loopbreak(run->base);
}

static void pd_on_hup(evutil_socket_t sig, short what, void *arg)
{
    pd_run *run = arg;
    (void)sig;
    (void)what;
    pd_conf c = {0};
    int check_only = 0;
    /* the command line again, then the file: the same precedence as at start */
    int r = pd_settings(&c, run->argc, run->argv, &check_only);
    if (r != EXIT_PASS) {
        pd_log(run->lg, LOG_WARNING, "reload failed: the configuration has errors (see above); "
                                     "keeping the running one");
        strlist_free(&c.owned);
        return;
    }
    c.set.log = pd_log;
    c.set.log_arg = run->lg;
    mxtls_error e = {0};
    char msg[700];
    if (policyd_reload(run->d, &c.set, &e) != MXTLS_OK) {
        snprintf(msg, sizeof msg, "reload failed: %s", e.message);
        pd_log(run->lg, LOG_WARNING, msg);
    } else {
        snprintf(msg, sizeof msg, "reload: settings re-read%s%.300s; every answer is recomputed "
                 "(listen, cache, DNS and trust settings take a restart)",
                 run->config ? " from " : "", run->config ? run->config : "");
        pd_log(run->lg, LOG_INFO, msg);
    }
    strlist_free(&c.owned);
}

int cmd_policyd(int argc, char **argv)
{
    pd_conf c = {0};
    int check_only = 0;
    int r = pd_settings(&c, argc, argv, &check_only);
    if (r != EXIT_PASS) {
        strlist_free(&c.owned);
        return r < 0 ? EXIT_PASS : r;
    }
    pd_logger lg = {.use_syslog = c.use_syslog};
    if (gethostname(lg.host, sizeof lg.host - 1) != 0)
        snprintf(lg.host, sizeof lg.host, "localhost");
    char *dot = strchr(lg.host, '.');
    if (dot)
        *dot = '\0';
    c.set.log = pd_log;
    c.set.log_arg = &lg;

    int rc = EXIT_LOCAL;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_config *cfg = NULL;
    struct event_base *base = NULL;
    mxtls_engine *eng = NULL;
    policyd *d = NULL;
    struct event *sigs[4] = {0};
    mxtls_error me = {0};
    if (!ctx) {
        rc = cli_nomem("policyd");
        goto out;
    }
    if ((r = cli_trust_apply("policyd", ctx, &c.trust)) != EXIT_PASS) {
        rc = r;
        goto out;
    }
    /* the background refresh of every cached domain runs many lookups at once */
    if (!(cfg = check_config_from(ctx, &c.opt, &me)) ||
        mxtls_config_set_dns_inflight(cfg, POLICYD_DNS_INFLIGHT, &me) != MXTLS_OK ||
        mxtls_config_freeze(cfg, &me) != MXTLS_OK) {
        fprintf(stderr, "mxtls policyd: %s: %s\n", me.where, me.message);
        rc = cli_exit_for_status(me.code);
        goto out;
    }
    if (check_only) {
        /* the cache opens, the settings are consistent, the trust store and
         * DNS files load: all without listening */
        base = event_base_new();
        eng = base ? mxtls_engine_new(base, cfg, &me) : NULL;
        policyd_settings quiet = c.set;
        quiet.log = NULL;
        d = eng ? policyd_new(base, eng, &quiet, &me) : NULL;
        if (!d) {
            fprintf(stderr, "mxtls policyd: %s: %s\n", me.where[0] ? me.where : "policyd",
                    me.message[0] ? me.message : "out of memory");
            rc = cli_exit_for_status(me.code);
            goto out;
        }
        printf("mxtls policyd: configuration OK: map %s, %zu listener%s, cache %s\n",
               c.set.map_name, c.nlisten, c.nlisten == 1 ? "" : "s",
               c.cache ? c.cache : "(none)");
        rc = EXIT_PASS;
        goto out;
    }
    if (lg.use_syslog)
        openlog("mxtls/policyd", LOG_PID | LOG_NDELAY, LOG_MAIL);
    signal(SIGPIPE, SIG_IGN);
    if (!(base = event_base_new()) || !(eng = mxtls_engine_new(base, cfg, &me)) ||
        !(d = policyd_new(base, eng, &c.set, &me))) {
        pd_log(&lg, LOG_ERR, me.message[0] ? me.message : "out of memory");
        rc = me.code == MXTLS_ERR_INVALID || me.code == MXTLS_ERR_PARSE ? EXIT_USAGE : EXIT_LOCAL;
        goto out;
    }
    for (size_t i = 0; i < c.nlisten; i++)
        if (policyd_listen(d, c.listen[i], &me) != MXTLS_OK) {
            pd_log(&lg, LOG_ERR, me.message);
            rc = me.code == MXTLS_ERR_INVALID ? EXIT_USAGE : EXIT_LOCAL;
            goto out;
        }
    pd_run run = {base, d, &lg, c.config, argc, argv, 0};
    int signums[4] = {SIGTERM, SIGINT, SIGHUP, 0};
    for (size_t i = 0; signums[i]; i++) {
        sigs[i] = evsignal_new(base, signums[i], signums[i] == SIGHUP ? pd_on_hup : pd_on_term,
                               &run);
        if (!sigs[i] || evsignal_add(sigs[i], NULL) != 0) {
            pd_log(&lg, LOG_ERR, "cannot install signal handlers");
            goto out;
        }
    }
    char msg[512];
    snprintf(msg, sizeof msg, "starting mxtls %s: map %s, cache %s, %zu listener%s (first %s)",
             mxtls_version(), c.set.map_name, c.cache ? c.cache : "(none)", c.nlisten,
             c.nlisten == 1 ? "" : "s", c.listen[0]);
    pd_log(&lg, LOG_INFO, msg);
    policyd_warm(d);
    event_base_dispatch(base);
    policyd_stats st;
    policyd_get_stats(d, &st);
    snprintf(msg, sizeof msg, "stopped: %llu requests, %llu lookups, %llu errors",
             st.requests, st.computed, st.errors);
    pd_log(&lg, LOG_INFO, msg);
    rc = run.stopping ? EXIT_PASS : EXIT_LOCAL;
out:
    for (size_t i = 0; i < 4; i++)
        if (sigs[i])
            event_free(sigs[i]);
    policyd_free(d);
    mxtls_engine_free(eng);
    if (base)
        event_base_free(base);
    mxtls_config_unref(cfg);
    mxtls_ctx_free(ctx);
    strlist_free(&c.owned);
    return rc;
}
