/* mxtls.h - can a sender deliver to this mail domain over TLS, and trust it?
 *
 * Usage, offline (what `mxtls verify` does):
 *
 *     mxtls_ctx *ctx = mxtls_ctx_new();
 *     mxtls_ctx_set_ca_file(ctx, "/etc/ssl/certs/ca-certificates.crt");
 *     mxtls_evidence *ev = mxtls_evidence_new();
 *     mxtls_evidence_set_domain(ctx, ev, "example.com");
 *     mxtls_evidence_add_mx(ctx, ev, "mx1.example.com");
 *     mxtls_evidence_set_chain_pem(ctx, ev, pem, pem_len, "chain.pem");
 *     mxtls_result *r = mxtls_evaluate(ctx, ev, MXTLS_LEVEL_VERIFY);
 *     if (!r) fprintf(stderr, "%s\n", mxtls_ctx_error(ctx));
 *     else if (mxtls_result_verdict(r) == MXTLS_VERDICT_PASS) ...
 *     mxtls_result_free(r); mxtls_evidence_free(ev); mxtls_ctx_free(ctx);
 *
 * Conventions:
 * - Handles are opaque. Every `_new` has a `_free`; `_free(NULL)` is a no-op.
 * - Functions returning mxtls_status return MXTLS_OK (0) or an error code; the
 *   details (what, where, why) are in the context: mxtls_ctx_error(),
 *   mxtls_ctx_error_where().
 * - Strings returned by accessors are owned by the object they come from and live
 *   as long as it; strings returned as `char *` are the caller's to free().
 * - Codes and enums only ever grow; values are never renumbered.
 * - A context is not shared between threads; use one context per thread.
 */
#ifndef MXTLS_H
#define MXTLS_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MXTLS_API marks the library's interface: the shared library is built with
 * -fvisibility=hidden and exports these declarations only. */
#if defined(__GNUC__) || defined(__clang__)
#define MXTLS_API __attribute__((visibility("default")))
#else
#define MXTLS_API
#endif

/* Status codes. */
typedef enum mxtls_status {
    MXTLS_OK = 0,
    MXTLS_ERR_NOMEM = 1,   /* out of memory */
    MXTLS_ERR_INVALID = 2, /* an argument is not acceptable (bad name, address, level) */
    MXTLS_ERR_PARSE = 3,   /* input is malformed; where = file:line[:column] */
    MXTLS_ERR_IO = 4,      /* a file could not be read */
    MXTLS_ERR_LIMIT = 5,   /* input exceeds a documented limit */
    MXTLS_ERR_CRYPTO = 6,  /* OpenSSL failed unexpectedly */
    MXTLS_ERR_NOTFOUND = 7, /* nothing matches (e.g. no policy-map entry) */
    MXTLS_ERR_RESOURCE = 8, /* a local resource ran out: file descriptors, the event loop */
    MXTLS_ERR_STATE = 9     /* not now: the object is frozen, or in use */
} mxtls_status;

/* Documented limits. */
#define MXTLS_MAX_INPUT_FILE (1024u * 1024u) /* chain and policy-map files */
#define MXTLS_MAX_CHAIN 16                   /* certificates in a presented chain */
#define MXTLS_MAX_NAME 253                   /* a DNS name in presentation form */

/* Security levels: the Postfix levels, then the Cisco ESA modes. The values
 * are stable identifiers, not an order (Postfix's own order puts dane below
 * verify); what each level does is in src/core/level.c. */
typedef enum mxtls_level {
    MXTLS_LEVEL_NONE = 0,
    MXTLS_LEVEL_MAY = 1,
    MXTLS_LEVEL_ENCRYPT = 2,
    MXTLS_LEVEL_FINGERPRINT = 3,
    MXTLS_LEVEL_VERIFY = 4,
    MXTLS_LEVEL_SECURE = 5,
    MXTLS_LEVEL_DANE = 6,
    MXTLS_LEVEL_DANE_ONLY = 7,
    MXTLS_LEVEL_ESA_PREFERRED = 20,
    MXTLS_LEVEL_ESA_REQUIRED = 21,
    MXTLS_LEVEL_ESA_PREFERRED_VERIFY = 22,
    MXTLS_LEVEL_ESA_REQUIRED_VERIFY = 23,
    MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED = 24,
    /* An MTA-STS sender (RFC 8461): the domain's policy, with DANE first. */
    MXTLS_LEVEL_MTA_STS = 30,
    /* A message sent with REQUIRETLS (RFC 8689): delivered only over TLS
     * authenticated by DANE or MTA-STS to a server advertising REQUIRETLS. */
    MXTLS_LEVEL_REQUIRETLS = 31,
    MXTLS_LEVEL_INVALID = -1
} mxtls_level;

/* mxtls_level_name - "verify", "esa-required-verify", ...; NULL for unknown values */
MXTLS_API
const char *mxtls_level_name(mxtls_level level);
/* mxtls_level_from_name - inverse of mxtls_level_name; MXTLS_LEVEL_INVALID if unknown.
 * Postfix's "dane-only" is also accepted as "dane_only". */
MXTLS_API
mxtls_level mxtls_level_from_name(const char *name);
/* mxtls_levels - the levels evaluated offline, in report order; *n receives the count */
MXTLS_API
const mxtls_level *mxtls_levels(size_t *n);

typedef enum mxtls_verdict {
    MXTLS_VERDICT_PASS = 0,    /* the sender would deliver */
    MXTLS_VERDICT_FAIL = 1,    /* the sender would not deliver (policy failure) */
    MXTLS_VERDICT_TEMPFAIL = 2 /* no verdict possible now; the sender would defer */
} mxtls_verdict;
MXTLS_API
const char *mxtls_verdict_name(mxtls_verdict v); /* "pass", "fail", "tempfail" */

typedef enum mxtls_security {
    MXTLS_SECURITY_NONE = 0,      /* nothing would be delivered */
    MXTLS_SECURITY_PLAINTEXT = 1, /* delivered without TLS */
    MXTLS_SECURITY_ENCRYPTED = 2, /* TLS, peer not authenticated */
    MXTLS_SECURITY_VERIFIED = 3,  /* TLS, peer authenticated by PKIX + names or fingerprint */
    MXTLS_SECURITY_DANE = 4       /* TLS, peer authenticated by DNSSEC-secured TLSA */
} mxtls_security;
MXTLS_API
const char *mxtls_security_name(mxtls_security s);

/* ---- context ---------------------------------------------------------- */

typedef struct mxtls_ctx mxtls_ctx;

MXTLS_API
mxtls_ctx *mxtls_ctx_new(void);
MXTLS_API
void mxtls_ctx_free(mxtls_ctx *ctx);
/* Last error of this context: a sentence, and where it happened ("" if nowhere). */
MXTLS_API
const char *mxtls_ctx_error(const mxtls_ctx *ctx);
MXTLS_API
const char *mxtls_ctx_error_where(const mxtls_ctx *ctx);
MXTLS_API
mxtls_status mxtls_ctx_error_code(const mxtls_ctx *ctx);

/* Trust store for PKIX validation. Default: OpenSSL's default paths (the system
 * store). Setting a file or directory replaces the default. */
MXTLS_API
mxtls_status mxtls_ctx_set_ca_file(mxtls_ctx *ctx, const char *path);
MXTLS_API
mxtls_status mxtls_ctx_set_ca_path(mxtls_ctx *ctx, const char *dir);
/* Validate at this time instead of now (reproducible verdicts). */
MXTLS_API
void mxtls_ctx_set_time(mxtls_ctx *ctx, time_t when);

/* Revocation, and which sender it models. Neither Postfix nor Cisco ESA (in
 * its default configuration) checks CRLs or OCSP when it delivers, so by
 * default revocation is checked and reported but decides nothing.
 * report (default): a revoked certificate is a warning (`revoked`) beside
 * each sender's own verdict. soft: model a sender that checks revocation: a
 * revoked certificate fails every PKIX-based level; no usable answer is a
 * warning. hard: as soft, and no usable answer is a temporary failure.
 * off: revocation is not checked. */
typedef enum mxtls_revocation_mode {
    MXTLS_REVOCATION_OFF = 0,
    MXTLS_REVOCATION_SOFT = 1,
    MXTLS_REVOCATION_HARD = 2,
    MXTLS_REVOCATION_REPORT = 3
} mxtls_revocation_mode;
MXTLS_API
void mxtls_ctx_set_revocation(mxtls_ctx *ctx, mxtls_revocation_mode mode);
/* "off", "soft", "hard", "report" <-> mode; -1 for an unknown name */
MXTLS_API
int mxtls_revocation_mode_from_name(const char *name);
MXTLS_API
const char *mxtls_revocation_mode_name(mxtls_revocation_mode mode);

/* ---- evidence: what was observed about one MX host -------------------- */

typedef struct mxtls_evidence mxtls_evidence;

MXTLS_API
mxtls_evidence *mxtls_evidence_new(void);
MXTLS_API
void mxtls_evidence_free(mxtls_evidence *ev);

/* The recipient domain (the Postfix next-hop). U-labels are converted to
 * A-labels, case is folded, one trailing dot is removed. */
MXTLS_API
mxtls_status mxtls_evidence_set_domain(mxtls_ctx *ctx, mxtls_evidence *ev, const char *domain);
/* MX hostnames. The first one added is the host that presented the chain; the
 * others are the domain's other MX hosts. With none, the domain itself is the
 * host (RFC 5321 §5.1 implicit MX). */
MXTLS_API
mxtls_status mxtls_evidence_add_mx(mxtls_ctx *ctx, mxtls_evidence *ev, const char *host);
/* Whether the MX RRset was DNSSEC-validated. */
MXTLS_API
void mxtls_evidence_set_mx_secure(mxtls_evidence *ev, int secure);
/* The IP address connected to (IPv4 or IPv6 text). */
MXTLS_API
mxtls_status mxtls_evidence_set_ip(mxtls_ctx *ctx, mxtls_evidence *ev, const char *ip);
/* A PTR name of that IP; confirmed = its A/AAAA records contain the IP. */
MXTLS_API
mxtls_status mxtls_evidence_add_ptr(mxtls_ctx *ctx, mxtls_evidence *ev, const char *name,
                                    int confirmed);
/* An explicitly configured next hop (transport/route table, ESA SMTP route). */
MXTLS_API
mxtls_status mxtls_evidence_add_route(mxtls_ctx *ctx, mxtls_evidence *ev, const char *host);
/* Postfix match= list ("hostname:nexthop:.example.com", separators ':' ',' ' ').
 * For verify/secure these are name strategies or literal names; for the
 * fingerprint level they are certificate or public-key digests. */
MXTLS_API
mxtls_status mxtls_evidence_set_match(mxtls_ctx *ctx, mxtls_evidence *ev, const char *list);
/* Digest used for fingerprint matching: "sha256" (default), "sha1", "md5". */
MXTLS_API
mxtls_status mxtls_evidence_set_fingerprint_digest(mxtls_ctx *ctx, mxtls_evidence *ev,
                                                   const char *digest);
/* The server offered no STARTTLS: no chain. */
MXTLS_API
void mxtls_evidence_set_no_tls(mxtls_evidence *ev, int no_tls);
/* STARTTLS was offered but TLS could not be established: no chain.
 * after_220: the server accepted STARTTLS and the handshake failed (0: the
 * server refused STARTTLS). Cisco ESA falls back to plaintext only in the
 * second case. `why` says what happened (copied). */
MXTLS_API
mxtls_status mxtls_evidence_set_tls_failed(mxtls_ctx *ctx, mxtls_evidence *ev, int after_220,
                                           const char *why);

/* What a revocation check of the leaf found. */
typedef enum mxtls_revocation_status {
    MXTLS_REVOCATION_NOT_CHECKED = 0,
    MXTLS_REVOCATION_GOOD = 1,
    MXTLS_REVOCATION_REVOKED = 2,
    MXTLS_REVOCATION_UNKNOWN = 3,     /* the responder does not know the certificate */
    MXTLS_REVOCATION_UNAVAILABLE = 4  /* no usable answer (no responder, unreachable, bad answer) */
} mxtls_revocation_status;
/* "not-checked", "good", "revoked", "unknown", "unavailable" <-> status; -1 if unknown */
MXTLS_API
int mxtls_revocation_status_from_name(const char *name);
MXTLS_API
const char *mxtls_revocation_status_name(mxtls_revocation_status s);
/* detail: where the answer came from and what it said (copied; may be NULL) */
MXTLS_API
mxtls_status mxtls_evidence_set_revocation(mxtls_ctx *ctx, mxtls_evidence *ev,
                                           mxtls_revocation_status status, const char *detail);
/* The chain the server presented, PEM, leaf first. `name` labels errors
 * ("chain.pem:12: ..."). The buffer is copied. */
MXTLS_API
mxtls_status mxtls_evidence_set_chain_pem(mxtls_ctx *ctx, mxtls_evidence *ev, const char *pem,
                                          size_t len, const char *name);

/* DANE (RFC 7672). What the TLSA lookup at _PORT._tcp.HOST found:
 * NOT_LOOKED_UP: no lookup (the host's address records are not DNSSEC-secure,
 * or nothing was given offline); NONE: securely denied (no TLSA); SECURE:
 * records, DNSSEC-validated; INSECURE: records in an unsigned zone; BOGUS:
 * validation failed; ERROR: SERVFAIL or timeout. */
typedef enum mxtls_tlsa_state {
    MXTLS_TLSA_NOT_LOOKED_UP = 0,
    MXTLS_TLSA_NONE = 1,
    MXTLS_TLSA_SECURE = 2,
    MXTLS_TLSA_INSECURE = 3,
    MXTLS_TLSA_BOGUS = 4,
    MXTLS_TLSA_ERROR = 5
} mxtls_tlsa_state;
MXTLS_API
const char *mxtls_tlsa_state_name(mxtls_tlsa_state s); /* "not-looked-up", "none", ... */
/* base: the TLSA base domain (the MX host, or its secure CNAME target), NULL
 * for the MX host; why: a note for reports (may be NULL). Both copied. */
MXTLS_API
mxtls_status mxtls_evidence_set_tlsa_state(mxtls_ctx *ctx, mxtls_evidence *ev,
                                           mxtls_tlsa_state state, const char *base,
                                           const char *why);
/* A TLSA record in presentation form, "3 1 1 0a1b…". Records that SMTP cannot
 * use (usages 0/1, unknown parameters, wrong digest length) are kept and
 * reported as unusable; malformed text is an error. At most 64 records. */
MXTLS_API
mxtls_status mxtls_evidence_add_tlsa(mxtls_ctx *ctx, mxtls_evidence *ev, const char *text);
MXTLS_API
mxtls_status mxtls_evidence_add_tlsa_rdata(mxtls_ctx *ctx, mxtls_evidence *ev, unsigned usage,
                                           unsigned selector, unsigned mtype,
                                           const unsigned char *data, size_t len);

/* MTA-STS (RFC 8461): the policy in force for the recipient domain, as
 * fetched from https://mta-sts.DOMAIN/.well-known/mta-sts.txt or cached.
 * The level mta-sts judges the host against it; without one that level
 * behaves as may. `source` labels it ("fetched", "cached", a file name).
 * A text that is no valid policy is an error (MXTLS_ERR_PARSE, where =
 * source:line). The text is parsed, not kept. */
MXTLS_API
mxtls_status mxtls_evidence_set_sts_policy(mxtls_ctx *ctx, mxtls_evidence *ev, const char *text,
                                           size_t len, const char *source);

/* REQUIRETLS (RFC 8689): the server listed REQUIRETLS in its EHLO reply
 * after STARTTLS (over TLS). */
MXTLS_API
void mxtls_evidence_set_requiretls(mxtls_evidence *ev, int advertised);

/* ---- evaluation ------------------------------------------------------- */

typedef struct mxtls_result mxtls_result;

/* mxtls_evaluate - the verdict of a sender at `level` given this evidence
 *
 * Pure: no I/O beyond reading the trust store configured in ctx. Returns a new
 * result (caller frees with mxtls_result_free) or NULL with the error in ctx
 * (only for errors in the evidence or the context, never for a failing peer:
 * that is a verdict). */
MXTLS_API
mxtls_result *mxtls_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level);
MXTLS_API
void mxtls_result_free(mxtls_result *r);

MXTLS_API
mxtls_level mxtls_result_level(const mxtls_result *r);
MXTLS_API
mxtls_verdict mxtls_result_verdict(const mxtls_result *r);
MXTLS_API
mxtls_security mxtls_result_security(const mxtls_result *r);
/* Reasons: a stable machine code ("name-mismatch") and a sentence. The first
 * reason is the decisive one. Index out of range returns NULL. */
MXTLS_API
size_t mxtls_result_reason_count(const mxtls_result *r);
MXTLS_API
const char *mxtls_result_reason_code(const mxtls_result *r, size_t i);
MXTLS_API
const char *mxtls_result_reason_message(const mxtls_result *r, size_t i);
/* Advice for the operator of the receiving server, in sentences. */
MXTLS_API
size_t mxtls_result_advice_count(const mxtls_result *r);
MXTLS_API
const char *mxtls_result_advice(const mxtls_result *r, size_t i);
/* The reference identities this level used, and the pair that matched
 * (NULL when none did or the level checks no names). */
MXTLS_API
size_t mxtls_result_reference_count(const mxtls_result *r);
MXTLS_API
const char *mxtls_result_reference(const mxtls_result *r, size_t i);
MXTLS_API
const char *mxtls_result_matched_reference(const mxtls_result *r);
MXTLS_API
const char *mxtls_result_matched_presented(const mxtls_result *r);

/* mxtls_result_json - the result as one JSON object (docs/json.md); caller frees */
MXTLS_API
char *mxtls_result_json(const mxtls_result *r);
/* mxtls_results_json - several results for the same evidence, as the object
 * {"schema_version":1, "levels":[…]} used by `mxtls verify` without --level;
 * caller frees */
MXTLS_API
char *mxtls_results_json(mxtls_result *const *rs, size_t n);
/* mxtls_result_text - a human report; color adds ANSI colours; caller frees */
MXTLS_API
char *mxtls_result_text(const mxtls_result *r, int color);
/* mxtls_results_table_text - one line per level plus the shared evidence; caller frees */
MXTLS_API
char *mxtls_results_table_text(mxtls_result *const *rs, size_t n, int color);

/* ---- fingerprints ----------------------------------------------------- */

/* mxtls_fingerprint_pem - digest of the first certificate in a PEM buffer, or of
 * its public key (SubjectPublicKeyInfo), in Postfix's format ("AB:CD:…").
 * Returns a string the caller frees, or NULL with the error in ctx. */
MXTLS_API
char *mxtls_fingerprint_pem(mxtls_ctx *ctx, const char *pem, size_t len, const char *name,
                            const char *digest, int pubkey);

/* ---- Postfix TLS policy maps (smtp_tls_policy_maps text format) -------- */

typedef struct mxtls_policymap mxtls_policymap;
typedef struct mxtls_policy_entry mxtls_policy_entry;

/* mxtls_policymap_parse - parse a whole policy map
 *
 * `name` labels errors ("policy.map:3:17: unknown level \"verfy\""). Unknown
 * levels or attributes, duplicate keys and malformed lines are errors. Returns
 * a new map (caller frees) or NULL with the error in ctx. */
MXTLS_API
mxtls_policymap *mxtls_policymap_parse(mxtls_ctx *ctx, const char *text, size_t len,
                                       const char *name);
MXTLS_API
void mxtls_policymap_free(mxtls_policymap *map);
MXTLS_API
size_t mxtls_policymap_count(const mxtls_policymap *map);
/* mxtls_policymap_lookup - the entry a next-hop destination gets, as Postfix
 * finds it ("example.com", "[mx.example.com]:587"); NULL when none applies.
 * The entry is owned by the map. */
MXTLS_API
const mxtls_policy_entry *mxtls_policymap_lookup(const mxtls_policymap *map,
                                                 const char *destination);
/* mxtls_policymap_warnings - entries Postfix reads differently than their
 * author probably expects: a "*" key (no default in Postfix: it applies to
 * nothing), a key that starts with a UTF-8 BOM (it matches nothing), protocols= that leave neither TLS 1.2 nor 1.3 or that Postfix
 * cannot parse, fingerprints of another length than fingerprint_digest
 * ("sha256", "sha1", "md5"; NULL: not checked) computes. One
 * "LINE<TAB>KEY<TAB>sentence" per line, in file order; NULL when there is
 * nothing to say (or out of memory: then ctx has the error). Caller frees. */
MXTLS_API
char *mxtls_policymap_warnings(mxtls_ctx *ctx, const mxtls_policymap *map,
                               const char *fingerprint_digest);
MXTLS_API
const char *mxtls_policy_entry_key(const mxtls_policy_entry *e);   /* as written */
MXTLS_API
size_t mxtls_policy_entry_line(const mxtls_policy_entry *e);       /* 1-based */
MXTLS_API
mxtls_level mxtls_policy_entry_level(const mxtls_policy_entry *e);
/* Attribute value as written, or NULL when absent: "match", "protocols",
 * "ciphers", "exclude", "tafile", "servername", "connection_reuse", "enable_rpk". */
MXTLS_API
const char *mxtls_policy_entry_attr(const mxtls_policy_entry *e, const char *attr);

/* ---- live checks: shared configuration, asynchronous checks ----------- *
 *
 * Usage, many domains from one process (what `mxtls check`, the scanner and
 * the policy daemon do):
 *
 *     mxtls_error err;
 *     mxtls_config *cfg = mxtls_config_new();
 *     mxtls_config_set_ca_file(cfg, "/etc/ssl/certs/ca-certificates.crt", &err);
 *     if (mxtls_config_freeze(cfg, &err) != MXTLS_OK) fail(err.message);
 *     struct event_base *base = event_base_new();
 *     mxtls_engine *eng = mxtls_engine_new(base, cfg, &err); // one validating
 *     mxtls_config_unref(cfg);               // resolver, warm for every check
 *     mxtls_check_options o = {.domain = "example.com"};
 *     mxtls_check *c = mxtls_check_start(eng, &o, done, arg, &err);
 *     event_base_dispatch(base);             // done(arg, report, NULL) runs
 *     ...                                    // once per check
 *     mxtls_engine_free(eng);
 *
 *     static void done(void *arg, mxtls_report *rep, const mxtls_error *e)
 *     {
 *         const mxtls_domain_verdict *v = mxtls_report_verdict(rep, MXTLS_LEVEL_VERIFY);
 *         ... v->verdict, v->code, v->via ...
 *         mxtls_report_free(rep);
 *     }
 *
 * A configuration is built once and frozen; frozen, it is read-only and is
 * shared (reference-counted) by every engine and check that uses it, like
 * libtls's tls_config or Postfix's tls_client_init(). An engine lives on
 * one event loop (one thread) and holds what checks share there: the
 * validating resolver and its cache, the HTTPS client, the TLS context. A
 * check runs on the engine's loop and reports through its callback, never
 * from inside mxtls_check_start(). Errors belong to the call that failed:
 * they are written to the caller's mxtls_error, never to shared state.
 *
 * Threads: a frozen configuration may be shared by engines in several
 * threads (its reference count is atomic); freeze it first, and make the
 * engines in one thread, one after the other (libunbound's set-up writes
 * process-wide state), then run each on its own loop in its own thread
 * (what `mxtls scan --jobs` does). An engine, its loop and its checks stay
 * in one thread. */

/* An error of one call. */
typedef struct mxtls_error {
    mxtls_status code;
    char where[64];    /* "ca-file", "dns", "check", a file name ... */
    char message[512]; /* a finished sentence */
} mxtls_error;

typedef struct mxtls_config mxtls_config;

/* mxtls_config_new - defaults: the system trust store, validation at the time
 * of each check, revocation `report`, libunbound's embedded validating
 * resolver with Debian's root trust anchor, ports 25/465, timeouts as
 * documented in docs/cli.md. Reference count 1; NULL when out of memory. */
MXTLS_API
mxtls_config *mxtls_config_new(void);
/* mxtls_config_ref - one more reference; returns cfg */
MXTLS_API
mxtls_config *mxtls_config_ref(mxtls_config *cfg);
/* mxtls_config_unref - drop a reference; the last one frees (NULL: no-op) */
MXTLS_API
void mxtls_config_unref(mxtls_config *cfg);

/* Setters: MXTLS_OK, or an error in err (MXTLS_ERR_STATE once frozen). String
 * arguments are copied. */
MXTLS_API
mxtls_status mxtls_config_set_ca_file(mxtls_config *cfg, const char *path, mxtls_error *err);
MXTLS_API
mxtls_status mxtls_config_set_ca_path(mxtls_config *cfg, const char *dir, mxtls_error *err);
MXTLS_API
mxtls_status mxtls_config_set_time(mxtls_config *cfg, time_t when, mxtls_error *err);
MXTLS_API
mxtls_status mxtls_config_set_revocation(mxtls_config *cfg, mxtls_revocation_mode mode,
                                         mxtls_error *err);
/* DNS: resolver "ADDR[@PORT]" to forward to (still validated locally; NULL:
 * recursive), trust anchor file, root hints file (private roots). */
MXTLS_API
mxtls_status mxtls_config_set_dns(mxtls_config *cfg, const char *resolver,
                                  const char *trust_anchor, const char *root_hints,
                                  mxtls_error *err);
/* Timeouts in milliseconds (0: the default): connect, each SMTP/TLS phase,
 * and the whole check. */
MXTLS_API
mxtls_status mxtls_config_set_timeouts(mxtls_config *cfg, int connect_ms, int phase_ms,
                                       int total_ms, mxtls_error *err);
/* The name announced in EHLO (NULL: this host's FQDN, else mxtls.invalid). */
MXTLS_API
mxtls_status mxtls_config_set_ehlo_name(mxtls_config *cfg, const char *name, mxtls_error *err);
/* A client certificate chain (PEM) and its key (NULL: in the chain file) to
 * present when a server asks for one. */
MXTLS_API
mxtls_status mxtls_config_set_client_cert(mxtls_config *cfg, const char *chain_file,
                                          const char *key_file, mxtls_error *err);
/* 0: both address families, 4 or 6: that family only. */
MXTLS_API
mxtls_status mxtls_config_set_family(mxtls_config *cfg, int family, mxtls_error *err);
/* DNS queries the validating resolver may keep in flight to upstream
 * servers at once (libunbound's outgoing-range; 16..65536). 0, the default:
 * libunbound's own, which suits a check at a time and costs the least
 * memory. Engines that run hundreds of checks at once (a scanner, a policy
 * daemon) need more, or their lookups queue behind each other. */
MXTLS_API
mxtls_status mxtls_config_set_dns_inflight(mxtls_config *cfg, unsigned queries,
                                           mxtls_error *err);
/* The order of a check's lookups for its domain. */
typedef enum mxtls_lookup_order {
    /* The MX, MTA-STS (_mta-sts) and TLSRPT (_smtp._tls) records are asked
     * for at once: the shortest check. The default. */
    MXTLS_LOOKUP_PARALLEL = 0,
    /* The MTA-STS and TLSRPT records are asked for once the MX answer is in
     * (or never, when the check's time runs out first). */
    MXTLS_LOOKUP_MX_FIRST = 1
} mxtls_lookup_order;
/* How checks order their lookups. A validating resolver (libunbound)
 * verifies a zone's fetched DNSKEY set once for every lookup waiting for
 * it: asked at once, a signed domain's three lookups verify it three times.
 * MXTLS_LOOKUP_MX_FIRST has it verified once, and so spends about a fifth
 * less CPU on a signed domain's DNS, for one more round trip on the
 * MTA-STS path. For engines bound by CPU rather than by a check's latency
 * (`mxtls scan`); the verdicts are the same either way. */
MXTLS_API
mxtls_status mxtls_config_set_lookup_order(mxtls_config *cfg, mxtls_lookup_order order,
                                           mxtls_error *err);
/* mxtls_config_freeze - check and load everything (trust store, client
 * certificate, TLS context); afterwards the configuration is read-only.
 * Engines freeze it themselves; freezing early reports errors early. */
MXTLS_API
mxtls_status mxtls_config_freeze(mxtls_config *cfg, mxtls_error *err);

struct event_base;
typedef struct mxtls_engine mxtls_engine;
/* mxtls_engine_new - checks on this loop with this configuration (frozen
 * here if it is not yet; the engine holds a reference). NULL with err set. */
MXTLS_API
mxtls_engine *mxtls_engine_new(struct event_base *base, mxtls_config *cfg, mxtls_error *err);
/* mxtls_engine_free - cancels checks still running (their callbacks are not
 * called) and frees the resolver; not from inside a check's callback. */
MXTLS_API
void mxtls_engine_free(mxtls_engine *eng);

/* Surveys: what `mxtls scan` sets on its engine (docs/scanning.md). None of
 * it is on unless mxtls_engine_set_limits() is called: an engine of one-shot
 * checks probes as before. */
typedef struct mxtls_engine_limits {
    /* Keep every probe's result for the engine's life and hand it to every
     * check that needs the same probe: same MX host name, address, port and
     * ClientHello (SNI, protocol and cipher limits); a check asking while it
     * runs joins it. The revocation status of each chain is then shared the
     * same way (a result without an answer is not kept). */
    int share_probes;
    unsigned per_ip;          /* connections at a time to one server address; 0: no bound */
    double ip_rate;           /* new connections per second to one address; 0: no bound */
    unsigned max_connections; /* connections at a time in all; 0: no bound */
    /* Retries of a connection refused or greeted with 421/450 (at most 5),
     * the first after retry_delay_ms (0: 1000; at most 60000), doubled after
     * each. */
    unsigned retries;
    int retry_delay_ms;
    /* DNS queries the resolver works on at a time (0: no bound); more wait
     * their turn. libunbound itself drops queries beyond its
     * num-queries-per-thread (1024). */
    unsigned max_dns;
} mxtls_engine_limits;
/* mxtls_engine_set_limits - once, before the engine's first check.
 * MXTLS_ERR_STATE afterwards, MXTLS_ERR_INVALID for values out of range. */
MXTLS_API
mxtls_status mxtls_engine_set_limits(mxtls_engine *eng, const mxtls_engine_limits *lim,
                                     mxtls_error *err);

/* What the engine did so far (probe counters: with limits set). */
typedef struct mxtls_engine_stats {
    unsigned long probes;          /* connections made, retries included */
    unsigned long probes_reused;   /* probe results a check got without a connection of its own */
    unsigned long probes_joined;   /* ... of which it joined while the probe ran */
    unsigned long probes_queued;   /* probes that waited for a politeness bound */
    unsigned long retries;         /* connections that were retries */
    unsigned long peak_connections;        /* most connections at a time */
    unsigned long peak_connections_per_ip; /* most at a time to one address */
    unsigned long dns_queries;     /* DNS queries asked of the resolver (cache hits included) */
    unsigned long peak_dns;        /* most DNS queries in the resolver's hands at a time */
    /* With share_probes, a chain's revocation (OCSP, CRL) is checked once
     * for the engine too: checks made, and results a check got without one. */
    unsigned long revocation_checks;
    unsigned long revocation_reused;
} mxtls_engine_stats;
MXTLS_API
void mxtls_engine_get_stats(const mxtls_engine *eng, mxtls_engine_stats *out);

/* Which server name (SNI) the probes send. */
typedef enum mxtls_sni {
    MXTLS_SNI_SENDER = 0,   /* each level's sender's own (docs/policies.md) */
    MXTLS_SNI_HOSTNAME = 1, /* the MX hostname, at every level */
    MXTLS_SNI_NONE = 2,     /* none, at every level */
    MXTLS_SNI_NAME = 3      /* sni_name, at every level */
} mxtls_sni;

#define MXTLS_MAX_ROUTES 16

/* What to check; strings are borrowed until mxtls_check_start() returns,
 * except policy_map, which must outlive the check. */
typedef struct mxtls_check_options {
    const char *domain;                   /* recipient domain (required) */
    const char *routes[MXTLS_MAX_ROUTES]; /* next hops instead of the MX lookup */
    size_t nroutes;
    unsigned port;                        /* 0: 25 (465 with implicit_tls) */
    int implicit_tls;                     /* TLS on connect (RFC 8314) */
    mxtls_sni sni;
    const char *sni_name;                 /* with MXTLS_SNI_NAME */
    const char *servername;               /* Postfix smtp_tls_servername, or NULL */
    int sni_compare;                      /* also connect with the other SNI choice */
    const mxtls_policymap *policy_map;    /* for the auto level and the entry's attributes */
    const char *ip;                       /* connect to this address instead of resolving */
    const char *sts_cache;                /* MTA-STS policy cache file (RFC 8461 §5.1), or NULL */
} mxtls_check_options;

typedef struct mxtls_check mxtls_check;
typedef struct mxtls_report mxtls_report;

/* mxtls_check_cb - the check is over: rep is the caller's (free it with
 * mxtls_report_free); rep is NULL only when the check could not run, and
 * then err says why. The check handle is gone when the callback runs. */
typedef void (*mxtls_check_cb)(void *arg, mxtls_report *rep, const mxtls_error *err);

/* mxtls_check_start - start checking; NULL with err set when the options are
 * unusable (the callback is then never called). */
MXTLS_API
mxtls_check *mxtls_check_start(mxtls_engine *eng, const mxtls_check_options *opt,
                               mxtls_check_cb cb, void *arg, mxtls_error *err);
/* mxtls_check_cancel - stop a running check; its callback is not called */
MXTLS_API
void mxtls_check_cancel(mxtls_check *c);

/* The domain's verdict at one level. */
typedef struct mxtls_domain_verdict {
    mxtls_level level;
    mxtls_verdict verdict;
    mxtls_security security;
    const char *code;    /* decisive reason code */
    const char *message;
    const char *via;     /* "host [ip]" that decided, or NULL */
} mxtls_domain_verdict;

MXTLS_API
void mxtls_report_free(mxtls_report *rep);
MXTLS_API
const char *mxtls_report_domain(const mxtls_report *rep);
/* mxtls_report_auto_level - the level a modern MTA would use (docs/policies.md) */
MXTLS_API
mxtls_level mxtls_report_auto_level(const mxtls_report *rep);
/* mxtls_report_verdict - at a level (MXTLS_LEVEL_INVALID: the auto level);
 * NULL for a level that was not evaluated. Owned by the report. */
MXTLS_API
const mxtls_domain_verdict *mxtls_report_verdict(const mxtls_report *rep, mxtls_level level);
/* mxtls_report_elapsed_ms - wall-clock time of the check */
MXTLS_API
long mxtls_report_elapsed_ms(const mxtls_report *rep);
/* The report as `mxtls check` prints it (level: the headline's level,
 * MXTLS_LEVEL_INVALID for auto): JSON (docs/json.md) or text. Caller frees. */
MXTLS_API
char *mxtls_report_json(const mxtls_report *rep, mxtls_level level);
MXTLS_API
char *mxtls_report_text(const mxtls_report *rep, mxtls_level level, int color);
/* mxtls_report_dialogues_text - every connection's SMTP dialogue and TLS
 * details, as `mxtls probe` prints them after the report. Caller frees. */
MXTLS_API
char *mxtls_report_dialogues_text(const mxtls_report *rep, int color);

/* ---- files ------------------------------------------------------------ */

/* mxtls_read_file - read a whole file of at most `max` bytes; caller frees.
 * Errors (missing, unreadable, too large, a directory) go into ctx. */
MXTLS_API
char *mxtls_read_file(mxtls_ctx *ctx, const char *path, size_t max, size_t *len);

MXTLS_API
const char *mxtls_version(void);

#ifdef __cplusplus
}
#endif
#endif
