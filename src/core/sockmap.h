/* sockmap.h - Postfix's socketmap protocol (socketmap_table(5)) and the
 * translation of a domain's MTA-STS and DANE state into a Postfix TLS policy
 *
 * Pure (sans-I/O): bytes in, a request or an error out; facts in, an answer
 * out. `mxtls policyd` (engine/policyd.c) drives these over its sockets.
 *
 * Postfix's client (src/util/dict_sockmap.c) sends one netstring
 * "NAME KEY" per lookup over a kept-open connection and reads one netstring
 * reply "OK DATA", "NOTFOUND ", "TEMP REASON", "TIMEOUT REASON" or
 * "PERM REASON". It caps the key at 10000 bytes and the reply at 100000.
 *
 *   sockmap_request rq;
 *   switch (sockmap_parse(buf, len, SOCKMAP_MAX_REQUEST, &rq)) {
 *   case SOCKMAP_PARSE_MORE: read more; case SOCKMAP_PARSE_BAD: rq.error, close;
 *   case SOCKMAP_PARSE_OK: rq.name, rq.key; drop rq.consumed bytes }
 *   sockmap_answer a; sockmap_translate(&facts, &a);
 *   sockmap_reply_format(a.kind, a.text, out, sizeof out);
 */
#ifndef MXTLS_CORE_SOCKMAP_H
#define MXTLS_CORE_SOCKMAP_H

#include <stddef.h>

#include "core/base.h"
#include "core/mtasts.h"

/* A request's payload ("NAME KEY") beyond this is cut off (the connection is
 * closed): Postfix sends keys of at most 10000 bytes, plus the map name. */
#define SOCKMAP_MAX_REQUEST 10240u
/* The map name: Postfix takes it from the map definition, no limit of its
 * own; ours is ample. */
#define SOCKMAP_MAX_NAME 64u
/* An answer's text: "secure match=" and up to SOCKMAP_MAX_HOSTS host names. */
#define SOCKMAP_MAX_HOSTS 16u
#define SOCKMAP_MAX_ANSWER (64u + SOCKMAP_MAX_HOSTS * (MXTLS_MAX_NAME + 1u) + 256u)

typedef enum sockmap_parse_result {
    SOCKMAP_PARSE_MORE = 0, /* a prefix of a valid request: read more */
    SOCKMAP_PARSE_OK,       /* one request, rq->consumed bytes long */
    SOCKMAP_PARSE_BAD       /* not a netstring, or too long: rq->error says why */
} sockmap_parse_result;

typedef struct sockmap_request {
    const char *name;   /* points into the buffer; name_len bytes (not NUL-terminated) */
    size_t name_len;
    const char *key;    /* the rest after the first space; key_len bytes, may be 0 */
    size_t key_len;
    size_t consumed;    /* bytes of the netstring, "LEN:" to "," */
    const char *error;  /* with SOCKMAP_PARSE_BAD: a sentence (static) */
    size_t error_at;    /* its byte offset in the buffer */
} sockmap_request;

/* sockmap_parse - the first netstring of buf ("LEN:PAYLOAD,", LEN decimal
 * without leading zeros) holding a request "NAME KEY" (NAME non-empty, at
 * most SOCKMAP_MAX_NAME bytes, no NUL in the payload). Payloads longer than
 * max are BAD as soon as their length field says so. Safe for any bytes and
 * any length. */
sockmap_parse_result sockmap_parse(const char *buf, size_t len, size_t max, sockmap_request *rq);

typedef enum sockmap_kind {
    SOCKMAP_OK = 0,
    SOCKMAP_NOTFOUND,
    SOCKMAP_TEMP,
    SOCKMAP_PERM
} sockmap_kind;

/* sockmap_kind_name - "OK", "NOTFOUND", "TEMP", "PERM" */
const char *sockmap_kind_name(sockmap_kind k);

/* sockmap_reply_format - the netstring "LEN:KIND TEXT," into out (cap
 * bytes, NUL-terminated). Bytes of text outside printable ASCII become '?'
 * (Postfix logs a reason with printable() anyway). Returns the netstring's
 * length, or 0 when it does not fit. NOTFOUND always has an empty text. */
size_t sockmap_reply_format(sockmap_kind kind, const char *text, char *out, size_t cap);

/* sockmap_key_domain - the next-hop domain a key names, normalised (lower
 * case, A-labels, no trailing dot) into out; 0, or -1 when the key is no
 * plain domain: "[host]" or "host:port" next hops (no MX lookup, so no
 * MTA-STS: RFC 8461 applies to MX delivery), address literals, bad names. */
int sockmap_key_domain(const char *key, size_t len, char *out, size_t cap);

/* ---- the translation --------------------------------------------------- */

typedef enum sockmap_mx_state {
    SOCKMAP_MX_HOSTS = 0, /* MX hosts (or the implicit MX, the domain itself) */
    SOCKMAP_MX_NONE,      /* the domain does not exist, or null MX: no delivery anyway */
    SOCKMAP_MX_FAILED     /* the MX lookup failed (timeout, SERVFAIL, bogus) */
} sockmap_mx_state;

typedef struct sockmap_host {
    const char *name;     /* MX host name, normalised */
    /* DANE is in charge of this host (RFC 7672 §2.2): the MX RRset is
     * DNSSEC-secure and the host's TLSA lookup gave secure usable records,
     * or failed (a DANE sender defers then, it never falls back). */
    int dane;
} sockmap_host;

typedef struct sockmap_facts {
    const char *domain;              /* normalised */
    sockmap_mx_state mx;
    const char *mx_why;              /* with SOCKMAP_MX_FAILED: what failed, or NULL */
    const sockmap_host *hosts;       /* in MX preference order; valid names only */
    size_t nhosts;
    size_t hosts_dropped;            /* MX hosts beyond those given (never allowed) */
    int has_policy;                  /* an MTA-STS policy is in force (fetched or cached) */
    mtasts_mode mode;
    const strlist *patterns;         /* its mx patterns */
    const char *source;              /* "fetched", "cached" (for the log) */
} sockmap_facts;

typedef struct sockmap_answer {
    sockmap_kind kind;
    char text[SOCKMAP_MAX_ANSWER];   /* the reply after the kind ("" for NOTFOUND) */
    char why[512];                   /* one line for the log: how the answer came about */
} sockmap_answer;

/* sockmap_translate - the Postfix TLS policy for a destination (the rules
 * and their reasons are in docs/policyd.md):
 *  - no policy, mode none or testing: NOTFOUND (Postfix's own level applies;
 *    with smtp_tls_security_level = dane that is DANE where it applies);
 *  - enforce, MX lookup failed: TEMP (the hosts to allow are unknown);
 *  - enforce, no such domain or null MX: NOTFOUND (Postfix bounces anyway);
 *  - enforce, DANE in charge of every MX host: OK dane (RFC 8461 §2);
 *  - enforce, every MX host covered by an mx pattern and none under DANE:
 *    OK secure match=hostname servername=hostname: the certificate must
 *    name the MX host dialled (RFC 8461 §4.2), sent as SNI;
 *  - enforce, otherwise: the hosts that are covered or under DANE, listed
 *    exactly: OK secure match=H1:H2 servername=hostname; none: TEMP (an
 *    uncovered MX is never delivered to, RFC 8461 §4.1, and that defers). */
void sockmap_translate(const sockmap_facts *f, sockmap_answer *a);

#endif
