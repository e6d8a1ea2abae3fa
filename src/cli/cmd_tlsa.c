/* cmd_tlsa.c - mxtls tlsa gen | check: TLSA records for a certificate, and
 * whether the published ones authenticate the servers now and after a change
 *
 * gen is offline: PEM files in, zone-file lines out. check runs the engine of
 * `mxtls check` (MX, addresses, TLSA with DNSSEC, one probe per address) and
 * judges the result with src/engine/tlsa_check.c; src/report/tlsa_report.h
 * renders both. docs/tlsa.md. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509v3.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/chain.h"
#include "core/ctx.h"
#include "core/names.h"
#include "engine/check.h"
#include "engine/tlsa_check.h"
#include "report/tlsa_report.h"

static const char tlsa_help[] =
    "usage: mxtls tlsa gen --cert FILE [options]\n"
    "       mxtls tlsa check DOMAIN|HOST [options]\n"
    "\n"
    "gen: the TLSA records (zone-file lines) for a certificate, its key, and the\n"
    "next certificates or keys of a rollover.\n"
    "check: whether the published TLSA records authenticate every mail server of\n"
    "DOMAIN now, and whether they still will after a certificate change.\n"
    "\n"
    "'mxtls tlsa gen --help' and 'mxtls tlsa check --help' list the options.\n";

static const char gen_help[] =
    "usage: mxtls tlsa gen --cert FILE [--key FILE] [--usage 2|3] [--selector 0|1]\n"
    "                      [--mtype 0|1|2] [--host HOST] [--port N] [--ttl N]\n"
    "                      [--next FILE]...\n"
    "\n"
    "Print the TLSA records for _PORT._tcp.HOST. of the certificate in FILE (PEM,\n"
    "leaf first, as the server sends it; '-' = stdin). Default \"3 1 1\": DANE-EE,\n"
    "the SHA-256 digest of the public key (RFC 7671 §5.1), which survives renewals\n"
    "that keep the key.\n"
    "\n"
    "  --cert FILE       the server's certificate (chain)\n"
    "  --key FILE        its private (or public) key: \"3 1 x\" records are computed\n"
    "                    from it, and it must belong to the certificate\n"
    "  --usage 2|3       3 DANE-EE (the server's own key, default), 2 DANE-TA (the\n"
    "                    issuing CA: the certificate after the leaf in FILE)\n"
    "  --selector 0|1    1 public key (default), 0 whole certificate (breaks on\n"
    "                    every renewal)\n"
    "  --mtype 0|1|2     1 SHA-256 (default), 2 SHA-512, 0 full data\n"
    "  --host HOST       owner name (default: the certificate's first DNS name)\n"
    "  --port N          SMTP port (default 25)\n"
    "  --ttl N           TTL field in seconds (default: none, the zone's $TTL)\n"
    "  --next FILE       the next certificate or key (repeatable): its records are\n"
    "                    printed too, to publish before the switch\n"
    "\n"
    "exit: 0 printed, 2 usage or input error (unreadable, not PEM, key mismatch).\n";

static const char check_help_text[] =
    "usage: mxtls tlsa check DOMAIN|HOST [--cert FILE]... [--next FILE]... [options]\n"
    "\n"
    "Resolve DOMAIN's MX hosts (a name without MX records is its own host), look up\n"
    "their TLSA records with DNSSEC, connect to every address once, and report for\n"
    "every record and address whether it matches what the server presents now.\n"
    "With --cert/--next: whether the published records will still authenticate\n"
    "the server when it presents that chain (PEM, leaf first).\n"
    "\n"
    "  --cert FILE, --next FILE  a chain the server will present (repeatable)\n"
    "  --port N               SMTP port (default 25)\n"
    "  --window SECONDS       rollover window: warn when 2 x TTL exceeds it\n"
    "                         (default 86400)\n"
    "  --at TIME              validation time for DANE-TA (default: now)\n"
    "  -4, -6                 IPv4 or IPv6 addresses only\n"
    "  --ehlo NAME            name to announce (default: this host's FQDN)\n"
    "  --timeout SECONDS      deadline for the whole check (default 120)\n"
    "  --ca-file FILE, --ca-path DIR   trust store (as for mxtls check)\n"
    "  --resolver ADDR[@PORT] forward queries to ADDR (still validated locally)\n"
    "  --trust-anchor FILE    DNSSEC trust anchor (default /usr/share/dns/root.key)\n"
    "  --root-hints FILE      root servers (private roots, as in the test world)\n"
    "  --json                 JSON (docs/tlsa.md)\n"
    "\n"
    "exit: 0 the records authenticate every server (and the planned chains),\n"
    "1 they do not (or will not after the change), 2 usage or input error (also\n"
    "NXDOMAIN, null MX), 3 DNS failure (bogus, SERVFAIL) or nothing reachable.\n";

/* tlsa_load - read and load one PEM file ('-' = stdin); 0 or a CLI error printed */
static int tlsa_load(const char *cmd, mxtls_ctx *ctx, const char *file, tlsa_material *m)
{
    size_t len = 0;
    char *buf = mxtls_read_file(ctx, strcmp(file, "-") ? file : "/dev/stdin",
                                MXTLS_MAX_INPUT_FILE, &len);
    if (!buf)
        return cli_ctx_error(cmd, ctx);
    err_rec e;
    err_clear(&e);
    int rc = tlsa_material_load(buf, len, file, m, &e);
    free(buf);
    if (rc != 0) {
        fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
        return EXIT_USAGE;
    }
    return 0;
}

/* tlsa_first_dns_name - the certificate's first DNS subjectAltName that is
 * not a wildcard (the name a DANE-EE record is usually published at); caller frees */
static char *tlsa_first_dns_name(X509 *cert)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    char *out = NULL;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !out; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        int n = ASN1_STRING_length(g->d.dNSName);
        if (n <= 0 || memchr(s, '*', (size_t)n) || memchr(s, '\0', (size_t)n))
            continue;
        out = xstrndup((const char *)s, (size_t)n);
    }
    GENERAL_NAMES_free(gens);
    return out;
}

/* ---- gen -------------------------------------------------------------- */

typedef struct gen_item {
    const char *file;
    tlsa_material m;
    dane_rr rr;
    int index;        /* chain index the record was made from; -1 the key */
} gen_item;

static int tlsa_gen(int argc, char **argv)
{
    static const char cmd[] = "tlsa gen";
    enum { O_CERT = 256, O_KEY, O_USAGE, O_SELECTOR, O_MTYPE, O_HOST, O_PORT, O_TTL, O_NEXT,
           O_HELP };
    static const struct option opts[] = {
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"usage", required_argument, NULL, O_USAGE},
        {"selector", required_argument, NULL, O_SELECTOR},
        {"mtype", required_argument, NULL, O_MTYPE},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"ttl", required_argument, NULL, O_TTL},
        {"next", required_argument, NULL, O_NEXT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *cert_file = NULL, *key_file = NULL, *host_arg = NULL;
    const char *next[TLSA_MAX_PLANNED];
    size_t nnext = 0;
    long usage = 3, selector = 1, mtype = 1, port = 25, ttl = -1;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case O_CERT: cert_file = optarg; break;
        case O_KEY: key_file = optarg; break;
        case O_USAGE:
            usage = decimal_parse(optarg, 0, 255);
            if (usage == 0 || usage == 1)
                return cli_usage_error(cmd, "--usage %s: usages 0 and 1 (PKIX) are ignored by "
                                            "SMTP senders (RFC 7672 §3.1.3); use 3 or 2",
                                       optarg);
            if (usage != 2 && usage != 3)
                return cli_usage_error(cmd, "--usage '%s' must be 3 (DANE-EE) or 2 (DANE-TA)",
                                       optarg);
            break;
        case O_SELECTOR:
            if ((selector = decimal_parse(optarg, 0, 1)) < 0)
                return cli_usage_error(cmd, "--selector '%s' must be 0 (certificate) or 1 "
                                            "(public key)",
                                       optarg);
            break;
        case O_MTYPE:
            if ((mtype = decimal_parse(optarg, 0, 2)) < 0)
                return cli_usage_error(cmd, "--mtype '%s' must be 0 (full), 1 (SHA-256) or 2 "
                                            "(SHA-512)",
                                       optarg);
            break;
        case O_HOST: host_arg = optarg; break;
        case O_PORT:
            if ((port = decimal_parse(optarg, 1, 65535)) < 0)
                return cli_usage_error(cmd, "--port '%s' is not a port number (1-65535)", optarg);
            break;
        case O_TTL:
            /* RFC 2181 §8: a TTL is an unsigned 31-bit number of seconds. */
            if ((ttl = decimal_parse(optarg, 0, 2147483647L)) < 0)
                return cli_usage_error(cmd, "--ttl '%s' is not a number of seconds "
                                            "(0-2147483647)",
                                       optarg);
            break;
        case O_NEXT:
            if (nnext >= TLSA_MAX_PLANNED)
                return cli_usage_error(cmd, "at most %d --next options", TLSA_MAX_PLANNED);
            next[nnext++] = optarg;
            break;
        case O_HELP: fputs(gen_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!cert_file)
        return cli_usage_error(cmd, "--cert FILE is required");

    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem(cmd);
    int rc = EXIT_USAGE;
    gen_item items[1 + TLSA_MAX_PLANNED];
    size_t nitems = 0;
    memset(items, 0, sizeof items);
    char *host = NULL, *derived = NULL;
    err_rec e;
    err_clear(&e);

    /* The current certificate, and the key that goes with it. */
    gen_item *cur = &items[nitems++];
    cur->file = cert_file;
    if ((rc = tlsa_load(cmd, ctx, cert_file, &cur->m)) != 0)
        goto out;
    rc = EXIT_USAGE;
    if (!cur->m.chain) {
        fprintf(stderr, "mxtls %s: %s: no certificate, only a key; --cert needs the "
                        "certificate (give the key with --key)\n",
                cmd, cert_file);
        goto out;
    }
    X509 *leaf = sk_X509_value(cur->m.chain, 0);
    if (key_file) {
        tlsa_material km;
        if ((rc = tlsa_load(cmd, ctx, key_file, &km)) != 0)
            goto out;
        rc = EXIT_USAGE;
        if (!km.key) {
            fprintf(stderr, "mxtls %s: %s: no private or public key found\n", cmd, key_file);
            tlsa_material_clear(&km);
            goto out;
        }
        EVP_PKEY_free(cur->m.key);
        cur->m.key = km.key;
        km.key = NULL;
        tlsa_material_clear(&km);
        if (!tlsa_key_matches(leaf, cur->m.key)) {
            fprintf(stderr, "mxtls %s: %s: the key does not belong to the certificate in %s\n",
                    cmd, key_file, cert_file);
            goto out;
        }
    } else if (cur->m.key && !tlsa_key_matches(leaf, cur->m.key)) {
        fprintf(stderr, "mxtls %s: %s: the key in this file does not belong to the "
                        "certificate\n",
                cmd, cert_file);
        goto out;
    }
    for (size_t i = 0; i < nnext; i++) {
        gen_item *it = &items[nitems++];
        it->file = next[i];
        if ((rc = tlsa_load(cmd, ctx, next[i], &it->m)) != 0)
            goto out;
        rc = EXIT_USAGE;
        if (it->m.chain && it->m.key &&
            !tlsa_key_matches(sk_X509_value(it->m.chain, 0), it->m.key)) {
            fprintf(stderr, "mxtls %s: %s: the key in this file does not belong to the "
                            "certificate\n",
                    cmd, next[i]);
            goto out;
        }
    }

    /* The owner name: _PORT._tcp.HOST. (RFC 7672 §2.2.3) */
    if (!host_arg) {
        derived = tlsa_first_dns_name(leaf);
        if (!derived) {
            fprintf(stderr, "mxtls %s: %s names no host (no DNS subjectAltName without a "
                            "wildcard); give --host\n",
                    cmd, cert_file);
            goto out;
        }
    }
    host = names_normalize(host_arg ? host_arg : derived, 0, &e);
    if (!host) {
        /* The message quotes the name escaped and cut (names_normalize):
         * a certificate's name may hold any byte and any length. */
        if (host_arg)
            fprintf(stderr, "mxtls %s: --host: %s\n", cmd, e.message);
        else
            fprintf(stderr, "mxtls %s: %s: the certificate's first DNS subjectAltName is not "
                            "a host name: %s; give --host\n",
                    cmd, cert_file, e.message);
        goto out;
    }

    for (size_t i = 0; i < nitems; i++) {
        gen_item *it = &items[i];
        err_clear(&e);
        if (tlsa_make(&it->m, it->file, (uint8_t)usage, (uint8_t)selector, (uint8_t)mtype,
                      &it->rr, &it->index, &e) != 0) {
            fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
            goto out;
        }
    }

    char owner[MXTLS_MAX_NAME + 32];
    snprintf(owner, sizeof owner, "_%ld._tcp.%s.", port, host);
    tlsa_gen_item rows[1 + TLSA_MAX_PLANNED];
    for (size_t i = 0; i < nitems; i++)
        rows[i] = (tlsa_gen_item){.file = items[i].file, .rr = &items[i].rr,
                                  .ta = usage == 2 ? sk_X509_value(items[i].m.chain,
                                                                   items[i].index)
                                                   : NULL,
                                  .index = items[i].index};
    tlsa_gen_report g = {.owner = owner, .host = host, .host_derived = !host_arg, .ttl = ttl,
                         .usage = (int)usage, .selector = (int)selector, .items = rows,
                         .nitems = nitems};
    char *doc = tlsa_report_gen_text(&g);
    if (!doc) {
        fprintf(stderr, "mxtls %s: out of memory\n", cmd);
        rc = EXIT_TEMP;
        goto out;
    }
    fputs(doc, stdout);
    free(doc);
    rc = EXIT_PASS;
out:
    for (size_t i = 0; i < nitems; i++) {
        tlsa_material_clear(&items[i].m);
        dane_rr_clear(&items[i].rr);
    }
    free(host);
    free(derived);
    mxtls_ctx_free(ctx);
    return rc;
}

/* ---- check ------------------------------------------------------------ */

/* tlsa_exit - the exit code of a check (docs/tlsa.md) */
static int tlsa_exit(tlsa_status s)
{
    switch (s) {
    case TLSA_STATUS_OK: return EXIT_PASS;
    case TLSA_STATUS_FAILS:
    case TLSA_STATUS_WILL_BREAK: return EXIT_POLICY;
    case TLSA_STATUS_NO_SERVER: return EXIT_USAGE;
    case TLSA_STATUS_DNS_FAILURE:
    case TLSA_STATUS_UNCHECKED: return EXIT_TEMP;
    }
    return EXIT_TEMP;
}

static int tlsa_check(int argc, char **argv)
{
    static const char cmd[] = "tlsa check";
    enum { O_CERT = 256, O_NEXT, O_WINDOW, O_JSON, O_HELP };
    static const struct option opts[] = {
        {"cert", required_argument, NULL, O_CERT},
        {"next", required_argument, NULL, O_NEXT},
        {"window", required_argument, NULL, O_WINDOW},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, O_HELP},
        CLI_CHECK_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    check_options opt = {0};
    cli_trust trust = {0};
    tlsa_planned planned[TLSA_MAX_PLANNED];
    size_t nplanned = 0;
    long window = TLSA_DEFAULT_WINDOW;
    int json = 0, c, r;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":" CLI_CHECK_SHORT_OPTIONS, opts, NULL)) != -1) {
        if ((r = cli_check_option(cmd, c, optarg, &opt, &trust)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS)
                return r;
            continue;
        }
        switch (c) {
        case O_CERT:
        case O_NEXT:
            if (nplanned >= TLSA_MAX_PLANNED)
                return cli_usage_error(cmd, "at most %d --cert/--next files", TLSA_MAX_PLANNED);
            planned[nplanned++] = (tlsa_planned){
                .option = c == O_CERT ? "cert" : "next", .file = optarg, .chain = NULL};
            break;
        case O_WINDOW:
            if ((window = decimal_parse(optarg, 1, 2147483647L)) < 0)
                return cli_usage_error(cmd, "--window '%s' is not a number of seconds", optarg);
            break;
        case O_JSON: json = 1; break;
        case O_HELP: fputs(check_help_text, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "DOMAIN or HOST is required"
                                                   : "exactly one DOMAIN or HOST expected");
    const char *name = argv[optind];
    unsigned char bin[16];
    if (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1)
        return cli_usage_error(cmd, "'%s' is an IP address: TLSA records belong to host "
                                    "names (_25._tcp.HOST)",
                               name);
    if ((r = cli_trust_check(cmd, &trust)) != EXIT_PASS)
        return r;

    int rc = EXIT_USAGE;
    mxtls_ctx *ctx = mxtls_ctx_new();
    check_report *rep = NULL;
    tlsa_check_result *res = NULL;
    long *ttl = NULL;
    if (!ctx)
        return cli_nomem(cmd);
    for (size_t i = 0; i < nplanned; i++) {
        size_t len = 0;
        const char *f = planned[i].file;
        char *buf = mxtls_read_file(ctx, strcmp(f, "-") ? f : "/dev/stdin", MXTLS_MAX_INPUT_FILE,
                                    &len);
        if (!buf) {
            rc = cli_ctx_error(cmd, ctx);
            goto out;
        }
        err_rec e;
        err_clear(&e);
        planned[i].chain = chain_parse_pem(buf, len, f, &e);
        free(buf);
        if (!planned[i].chain) {
            fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
            goto out;
        }
    }
    if ((r = cli_trust_apply(cmd, ctx, &trust)) != EXIT_PASS) {
        rc = r;
        goto out;
    }
    /* DANE does not use revocation (RFC 7672 §3.1): no OCSP/CRL fetches. */
    mxtls_ctx_set_revocation(ctx, MXTLS_REVOCATION_OFF);
    opt.domain = name;
    rep = check_run(ctx, &opt);
    if (!rep) {
        rc = cli_ctx_error(cmd, ctx);
        goto out;
    }
    ttl = calloc(rep->nhosts ? rep->nhosts : 1, sizeof *ttl);
    if (!ttl) {
        rc = cli_nomem(cmd);
        goto out;
    }
    err_rec e;
    for (size_t i = 0; i < rep->nhosts; i++)
        ttl[i] = rep->hosts[i]->tlsa_ttl >= 0 ? rep->hosts[i]->tlsa_ttl : TLSA_TTL_UNKNOWN;
    tlsa_check_config cfg = {.planned = planned, .nplanned = nplanned, .ttl = ttl,
                             .window = window, .at = trust.when};
    err_clear(&e);
    res = tlsa_check_analyze(rep, &cfg, &e);
    if (!res) {
        fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
        rc = e.code == MXTLS_ERR_NOMEM ? EXIT_LOCAL : EXIT_TEMP;
        goto out;
    }
    char *doc = json ? tlsa_report_check_json(res, name) : tlsa_report_check_text(res, name);
    if (!doc) {
        rc = cli_nomem(cmd);
        goto out;
    }
    fputs(doc, stdout);
    if (json)
        fputc('\n', stdout);
    free(doc);
    rc = tlsa_exit(res->status);
out:
    tlsa_check_result_free(res);
    check_report_free(rep);
    free(ttl);
    for (size_t i = 0; i < nplanned; i++)
        chain_free(planned[i].chain);
    mxtls_ctx_free(ctx);
    return rc;
}

int cmd_tlsa(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("tlsa", "a subcommand is required: gen or check");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(tlsa_help, stdout);
        return EXIT_PASS;
    }
    if (!strcmp(sub, "gen"))
        return tlsa_gen(argc - 1, argv + 1);
    if (!strcmp(sub, "check"))
        return tlsa_check(argc - 1, argv + 1);
    return cli_usage_error("tlsa", "unknown subcommand '%s' (gen or check)", sub);
}
