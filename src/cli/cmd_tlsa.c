/* cmd_tlsa.c - mxtls tlsa gen | check: TLSA records for a certificate, and
 * whether the published ones authenticate the servers now and after a change
 *
 * gen is offline: PEM files in, zone-file lines out. check runs the engine of
 * `mxtls check` (MX, addresses, TLSA with DNSSEC, one probe per address) and
 * judges the result with src/engine/tlsa_check.c. docs/tlsa.md. */
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
#include "report/jsonw.h"

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

/* tlsa_parse_num - a decimal in [lo, hi]; -1 if not */
static long tlsa_parse_num(const char *s, long lo, long hi)
{
    char *end = NULL;
    if (!s || !*s || *s == '-' || *s == '+' || strlen(s) > 10)
        return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -1;
    return v;
}

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

/* tlsa_subject - the certificate's subject, RFC 2253 style; caller frees */
static char *tlsa_subject(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = n >= 0 ? xstrndup(data, (size_t)n) : NULL;
    BIO_free(b);
    return s;
}

/* ---- gen -------------------------------------------------------------- */

typedef struct gen_item {
    const char *file;
    tlsa_material m;
    dane_rr rr;
    int index;        /* chain index the record was made from; -1 the key */
} gen_item;

/* gen_record_line - one zone-file line */
static void gen_record_line(const char *owner, long ttl, const dane_rr *rr)
{
    char *t = dane_rr_text(rr);
    if (ttl >= 0)
        printf("%s %ld IN TLSA %s\n", owner, ttl, t ? t : "?");
    else
        printf("%s IN TLSA %s\n", owner, t ? t : "?");
    free(t);
}

/* gen_same - two records with identical fields and data */
static int gen_same(const dane_rr *a, const dane_rr *b)
{
    return a->usage == b->usage && a->selector == b->selector && a->mtype == b->mtype &&
           a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

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
            usage = tlsa_parse_num(optarg, 0, 255);
            if (usage == 0 || usage == 1)
                return cli_usage_error(cmd, "--usage %s: usages 0 and 1 (PKIX) are ignored by "
                                            "SMTP senders (RFC 7672 §3.1.3); use 3 or 2",
                                       optarg);
            if (usage != 2 && usage != 3)
                return cli_usage_error(cmd, "--usage '%s' must be 3 (DANE-EE) or 2 (DANE-TA)",
                                       optarg);
            break;
        case O_SELECTOR:
            if ((selector = tlsa_parse_num(optarg, 0, 1)) < 0)
                return cli_usage_error(cmd, "--selector '%s' must be 0 (certificate) or 1 "
                                            "(public key)",
                                       optarg);
            break;
        case O_MTYPE:
            if ((mtype = tlsa_parse_num(optarg, 0, 2)) < 0)
                return cli_usage_error(cmd, "--mtype '%s' must be 0 (full), 1 (SHA-256) or 2 "
                                            "(SHA-512)",
                                       optarg);
            break;
        case O_HOST: host_arg = optarg; break;
        case O_PORT:
            if ((port = tlsa_parse_num(optarg, 1, 65535)) < 0)
                return cli_usage_error(cmd, "--port '%s' is not a port number (1-65535)", optarg);
            break;
        case O_TTL:
            /* RFC 2181 §8: a TTL is an unsigned 31-bit number of seconds. */
            if ((ttl = tlsa_parse_num(optarg, 0, 2147483647L)) < 0)
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
    printf("; \"3 1 1\" (DANE-EE, public key, SHA-256) matches the server's key rather than "
           "its certificate, so it survives every renewal that keeps the key.\n");
    if (selector == 0)
        printf("; warning: \"x 0 x\" records match the whole certificate and break on every "
               "renewal, even one that keeps the key; prefer selector 1.\n");
    if (!host_arg)
        printf("; host %s: the first DNS name of %s (--host sets another)\n", host, cert_file);
    if (nnext)
        printf("; rollover: publish all these records now, wait at least 2 x TTL, switch the "
               "server to the next certificate, then remove the current records.\n");
    for (size_t i = 0; i < nitems; i++) {
        gen_item *it = &items[i];
        if (nnext)
            printf("; %s: %s\n", i == 0 ? "current" : "next", it->file);
        if (usage == 2) {
            X509 *ta = sk_X509_value(it->m.chain, it->index);
            char *subj = tlsa_subject(ta);
            printf("; DANE-TA: the CA \"%s\" (certificate %d of %s%s); the server must send it "
                   "in its chain (RFC 7672 §3.1.2).\n",
                   subj ? subj : "?", it->index + 1, it->file,
                   it->index == 0 ? ", itself a CA certificate" : ", the issuer of the leaf");
            free(subj);
        }
        int dup = -1;
        for (size_t j = 0; j < i && dup < 0; j++)
            if (gen_same(&items[j].rr, &it->rr))
                dup = (int)j;
        if (dup >= 0)
            printf("; (same record as for %s: printed once)\n", items[dup].file);
        else
            gen_record_line(owner, ttl, &it->rr);
    }
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

/* ---- check: text ------------------------------------------------------ */

/* cell_text - one record against one address, in a few words */
static void cell_text(strbuf *b, const dane_result *d, int raw_depth, int unusable)
{
    if (unusable) {
        if (raw_depth >= 0)
            sb_printf(b, "unusable, though its data equals the certificate at depth %d",
                      raw_depth);
        else
            sb_printf(b, "unusable; its data matches no certificate sent");
    } else if (d->authenticated) {
        sb_printf(b, "matches the certificate at depth %d (%s)", d->match_depth, d->code);
    } else if (!strcmp(d->code, "tlsa-mismatch")) {
        sb_printf(b, "no match");
    } else {
        sb_printf(b, "%s: %s", d->code, d->message);
    }
}

/* tlsa_short - "3 1 1 0a1b2c..." for display: digests (up to SHA-512) in
 * full, longer full data cut after 32 bytes (JSON has it all) */
static char *tlsa_short(const dane_rr *rr)
{
    char *t = dane_rr_text(rr);
    if (t && rr->len > 64) {
        /* the text is "U S M " + 2 * len hex digits: room for the note */
        char *hex = t + strlen(t) - 2 * rr->len;
        snprintf(hex + 64, 2 * rr->len - 64 + 1, "... (%zu bytes)", rr->len);
    }
    return t;
}

/* mx_unfinished - the deadline stopped the MX lookup: check_report keeps the
 * zeroed outcome ("data, secure") then, which must not be shown */
static int mx_unfinished(const check_report *rep)
{
    return !rep->routed && rep->timed_out && rep->nhosts == 0 && !rep->null_mx &&
           rep->mx_outcome == DNS_DATA;
}

static char *tlsa_check_text(const tlsa_check_result *r, const char *name)
{
    const check_report *rep = r->rep;
    strbuf b;
    sb_init(&b, 16u << 20);
    sb_printf(&b, "tlsa check %s port %u\n", name, rep->port);
    if (rep->routed)
        sb_printf(&b, "MX: not looked up\n");
    else if (mx_unfinished(rep))
        sb_printf(&b, "MX: no answer before the deadline\n");
    else if (rep->null_mx)
        sb_printf(&b, "MX: null MX (RFC 7505), %s\n", dns_security_name(rep->mx_security));
    else if (rep->implicit_mx)
        sb_printf(&b, "MX: none, %s is its own mail host (implicit MX), %s\n", rep->domain,
                  dns_security_name(rep->mx_security));
    else
        sb_printf(&b, "MX: %s, %s%s%s\n", dns_outcome_name(rep->mx_outcome),
                  dns_security_name(rep->mx_security), rep->mx_why ? ": " : "",
                  rep->mx_why ? rep->mx_why : "");
    for (size_t i = 0; i < r->nhosts; i++) {
        const tlsa_host_result *hr = &r->hosts[i];
        const check_host *h = hr->host;
        sb_printf(&b, "host %s\n", h->name);
        if (h->problem)
            sb_printf(&b, "  %s\n", h->problem);
        mxtls_tlsa_state st = h->tlsa_started ? h->tlsa_state : MXTLS_TLSA_NOT_LOOKED_UP;
        sb_printf(&b, "  TLSA %s: %s", hr->owner, mxtls_tlsa_state_name(st));
        if (hr->ttl != TLSA_TTL_UNKNOWN)
            sb_printf(&b, ", TTL %ld", hr->ttl);
        if (h->ntlsa)
            sb_printf(&b, ", %zu record%s (%zu usable)", h->ntlsa, h->ntlsa == 1 ? "" : "s",
                      hr->usable);
        if (h->tlsa_why)
            sb_printf(&b, ": %s", h->tlsa_why);
        sb_puts(&b, "\n");
        for (size_t k = 0; k < h->ntlsa; k++) {
            const dane_rr *rr = &h->tlsa[k];
            const char *why = dane_rr_unusable_why(rr);
            char *t = tlsa_short(rr);
            sb_printf(&b, "    [%zu] %s\n", k + 1, t ? t : "?");
            free(t);
            sb_printf(&b, "        %s, %s%s\n", dane_usage_name(rr->usage),
                      why ? "unusable: " : "usable", why ? why : "");
            for (size_t j = 0; j < h->naddrs; j++) {
                const tlsa_addr_result *ar = &hr->addrs[j];
                sb_printf(&b, "        %s: ", ar->addr->ip);
                if (ar->per_rr)
                    cell_text(&b, &ar->per_rr[k], ar->raw_depth[k], why != NULL);
                else
                    sb_printf(&b, "%s%s%s", ar->state, ar->note[0] ? ": " : "", ar->note);
                sb_puts(&b, "\n");
            }
        }
        if (hr->published) {
            sb_puts(&b, "  now:\n");
            for (size_t j = 0; j < h->naddrs; j++) {
                const tlsa_addr_result *ar = &hr->addrs[j];
                if (!strcmp(ar->state, "authenticated"))
                    sb_printf(&b, "    %s: authenticated by [%d] (%s, depth %d)\n", ar->addr->ip,
                              ar->all.match_index + 1, ar->all.code, ar->all.match_depth);
                else if (!strcmp(ar->state, "fails"))
                    sb_printf(&b, "    %s: FAILS %s: %s\n", ar->addr->ip, ar->all.code,
                              ar->all.message);
                else if (!strcmp(ar->state, "no-tls"))
                    sb_printf(&b, "    %s: FAILS no-tls: %s; with secure TLSA records senders "
                                  "require TLS\n",
                              ar->addr->ip, ar->note);
                else
                    sb_printf(&b, "    %s: %s: %s\n", ar->addr->ip, ar->state, ar->note);
            }
        }
        if (hr->nplans)
            sb_puts(&b, "  planned:\n");
        for (size_t p = 0; p < hr->nplans; p++) {
            const tlsa_plan_result *pr = &hr->plans[p];
            if (!strcmp(pr->verdict, "safe"))
                sb_printf(&b, "    %s: safe to deploy: %s\n", pr->plan->file, pr->r.message);
            else if (!strcmp(pr->verdict, "will-break"))
                sb_printf(&b, "    %s: WILL BREAK DANE: %s: %s\n", pr->plan->file, pr->r.code,
                          pr->r.message);
            else
                sb_printf(&b, "    %s: not applicable: %s\n", pr->plan->file, pr->note);
            for (size_t k = 0; k < pr->publish.n; k++)
                sb_printf(&b, "      publish first: %s. IN TLSA %s\n", hr->owner,
                          pr->publish.v[k]);
        }
    }
    if (rep->hosts_dropped)
        sb_printf(&b, "(%zu more MX hosts not checked)\n", rep->hosts_dropped);
    if (r->nwarnings) {
        sb_puts(&b, "warnings:\n");
        for (size_t i = 0; i < r->nwarnings; i++)
            sb_printf(&b, "  %s: %s\n", r->warnings[i].code, r->warnings[i].message);
    }
    sb_printf(&b, "result: %s: %s\n", tlsa_status_name(r->status), r->summary);
    return sb_take(&b);
}

/* ---- check: JSON ------------------------------------------------------ */

static void json_dane(jsonw *w, const dane_result *d)
{
    jw_kbool(w, "authenticated", d->authenticated);
    jw_kstr(w, "code", d->code);
    jw_key(w, "match_index");
    if (d->match_index >= 0)
        jw_int(w, d->match_index);
    else
        jw_null(w);
    jw_key(w, "match_depth");
    if (d->match_depth >= 0)
        jw_int(w, d->match_depth);
    else
        jw_null(w);
    jw_kstr(w, "message", d->message);
}

static char *tlsa_check_json(const tlsa_check_result *r, const char *name)
{
    const check_report *rep = r->rep;
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "name", name);
    jw_kstr(&w, "domain", rep->domain);
    jw_kint(&w, "port", rep->port);
    jw_key(&w, "mx");
    jw_obj(&w);
    int unfinished = mx_unfinished(rep);
    jw_kstr(&w, "outcome", unfinished ? "timeout" : dns_outcome_name(rep->mx_outcome));
    jw_kstr(&w, "security", dns_security_name(unfinished ? DNS_SEC_INDETERMINATE
                                                         : rep->mx_security));
    jw_kstr(&w, "why", rep->mx_why);
    jw_kbool(&w, "null_mx", rep->null_mx);
    jw_kbool(&w, "implicit_mx", rep->implicit_mx);
    jw_end_obj(&w);
    jw_key(&w, "hosts");
    jw_arr(&w);
    for (size_t i = 0; i < r->nhosts; i++) {
        const tlsa_host_result *hr = &r->hosts[i];
        const check_host *h = hr->host;
        jw_obj(&w);
        jw_kstr(&w, "name", h->name);
        jw_kstr(&w, "problem", h->problem);
        jw_key(&w, "tlsa");
        jw_obj(&w);
        jw_kstr(&w, "owner", hr->owner);
        jw_kstr(&w, "state", mxtls_tlsa_state_name(h->tlsa_started ? h->tlsa_state
                                                                  : MXTLS_TLSA_NOT_LOOKED_UP));
        jw_kstr(&w, "why", h->tlsa_why);
        jw_key(&w, "ttl");
        if (hr->ttl != TLSA_TTL_UNKNOWN)
            jw_int(&w, hr->ttl);
        else
            jw_null(&w);
        jw_kbool(&w, "published", hr->published);
        jw_kint(&w, "usable", (long long)hr->usable);
        jw_key(&w, "records");
        jw_arr(&w);
        for (size_t k = 0; k < h->ntlsa; k++) {
            const dane_rr *rr = &h->tlsa[k];
            char *t = dane_rr_text(rr);
            jw_obj(&w);
            jw_kstr(&w, "record", t);
            free(t);
            jw_kstr(&w, "usage", dane_usage_name(rr->usage));
            jw_kstr(&w, "unusable", dane_rr_unusable_why(rr));
            jw_key(&w, "addresses");
            jw_arr(&w);
            for (size_t j = 0; j < h->naddrs; j++) {
                const tlsa_addr_result *ar = &hr->addrs[j];
                jw_obj(&w);
                jw_kstr(&w, "ip", ar->addr->ip);
                jw_kbool(&w, "checked", ar->per_rr != NULL);
                if (ar->per_rr) {
                    json_dane(&w, &ar->per_rr[k]);
                    jw_key(&w, "data_depth");
                    if (ar->raw_depth[k] >= 0)
                        jw_int(&w, ar->raw_depth[k]);
                    else
                        jw_null(&w);
                }
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_key(&w, "addresses");
        jw_arr(&w);
        for (size_t j = 0; j < h->naddrs; j++) {
            const tlsa_addr_result *ar = &hr->addrs[j];
            jw_obj(&w);
            jw_kstr(&w, "ip", ar->addr->ip);
            jw_kstr(&w, "state", ar->state);
            jw_kstr(&w, "note", ar->note[0] ? ar->note : NULL);
            if (ar->per_rr) {
                jw_key(&w, "rrset");
                jw_obj(&w);
                json_dane(&w, &ar->all);
                jw_end_obj(&w);
            }
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_key(&w, "planned");
        jw_arr(&w);
        for (size_t p = 0; p < hr->nplans; p++) {
            const tlsa_plan_result *pr = &hr->plans[p];
            jw_obj(&w);
            jw_kstr(&w, "option", pr->plan->option);
            jw_kstr(&w, "file", pr->plan->file);
            jw_kstr(&w, "verdict", pr->verdict);
            if (strcmp(pr->verdict, "not-applicable") != 0)
                json_dane(&w, &pr->r);
            else
                jw_kstr(&w, "note", pr->note);
            jw_key(&w, "publish");
            jw_arr(&w);
            for (size_t k = 0; k < pr->publish.n; k++)
                jw_str(&w, pr->publish.v[k]);
            jw_end_arr(&w);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_key(&w, "warnings");
    jw_arr(&w);
    for (size_t i = 0; i < r->nwarnings; i++) {
        jw_obj(&w);
        jw_kstr(&w, "code", r->warnings[i].code);
        jw_kstr(&w, "host", r->warnings[i].host);
        jw_kstr(&w, "message", r->warnings[i].message);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_key(&w, "result");
    jw_obj(&w);
    jw_kstr(&w, "status", tlsa_status_name(r->status));
    jw_kstr(&w, "message", r->summary);
    jw_end_obj(&w);
    jw_end_obj(&w);
    return jw_finish(&w);
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
            if ((window = tlsa_parse_num(optarg, 1, 2147483647L)) < 0)
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
    char *doc = json ? tlsa_check_json(res, name) : tlsa_check_text(res, name);
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
