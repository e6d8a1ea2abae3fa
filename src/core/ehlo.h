/* ehlo.h - service extensions from the lines of a 250 EHLO reply (RFC 5321 §4.1.1.1)
 *
 * Pure. Input is the text of each reply line (what reply.c stores: without
 * "250-"/"250 " and without CRLF):
 *
 *     ehlo-ok-rsp  = first line: Domain [ SP ehlo-greet ]
 *                    then one ehlo-line per line
 *     ehlo-line    = ehlo-keyword *( SP ehlo-param )
 *     ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *     ehlo-param   = 1*(%d33-126)
 *
 * Keywords are case-insensitive (§2.4). Parsing never fails on what the peer
 * sent: deviations become `problems` (line, column, message) and the line is
 * still kept, because a checker must report what the server said, not what
 * it should have said. Only out-of-memory is an error. Storage is bounded by
 * the reply (itself bounded by reply.h's limits). */
#ifndef MXTLS_CORE_EHLO_H
#define MXTLS_CORE_EHLO_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

/* Extensions we recognise, as bits of ehlo_caps.ext. */
#define EHLO_STARTTLS 0x001u            /* RFC 3207 */
#define EHLO_REQUIRETLS 0x002u          /* RFC 8689 */
#define EHLO_SIZE 0x004u                /* RFC 1870 */
#define EHLO_PIPELINING 0x008u          /* RFC 2920 */
#define EHLO_8BITMIME 0x010u            /* RFC 6152 */
#define EHLO_SMTPUTF8 0x020u            /* RFC 6531 */
#define EHLO_CHUNKING 0x040u            /* RFC 3030 */
#define EHLO_DSN 0x080u                 /* RFC 3461 */
#define EHLO_ENHANCEDSTATUSCODES 0x100u /* RFC 2034 */
#define EHLO_AUTH 0x200u                /* RFC 4954, also the pre-standard "AUTH=" */

#define EHLO_MAX_PROBLEMS 16       /* problems kept; the rest are only counted */
#define EHLO_PROBLEM_MESSAGE_MAX 96
#define EHLO_MAX_DOMAIN 255       /* RFC 5321 §4.5.3.1.2: 255 octets */

typedef struct ehlo_problem {
    size_t line;   /* 1-based line of the reply */
    size_t column; /* 1-based column in that line's text (after "250-") */
    char message[EHLO_PROBLEM_MESSAGE_MAX];
} ehlo_problem;

/* ehlo_caps - what the server announced
 *
 * All strings are owned by the struct; release with ehlo_caps_free(). */
typedef struct ehlo_caps {
    char *domain;        /* first word of the first line; "" when missing */
    unsigned ext;        /* EHLO_* bits */
    uint64_t size;       /* SIZE value; 0 = none given or "no fixed maximum" (RFC 1870 §4) */
    int size_value;      /* SIZE carried a valid numeric value */
    strlist auth;        /* AUTH mechanisms, upper case, each once, in order */
    int auth_equals;     /* the pre-standard "AUTH=MECH ..." line was present */
    strlist keywords;    /* every keyword line's keyword, upper case, in order (with repeats) */
    strlist unknown;     /* lines whose keyword we do not interpret, as sent (VRFY, ETRN, X-...) */
    ehlo_problem *problems;  /* the first EHLO_MAX_PROBLEMS, allocated as they come:
                                most replies have none, and a scanner holds thousands */
    size_t nproblems;        /* entries in problems[] */
    size_t problems_total;   /* all problems, including those not kept */
} ehlo_caps;

void ehlo_caps_init(ehlo_caps *c);
void ehlo_caps_free(ehlo_caps *c);
/* ehlo_caps_copy - deep copy into an uninitialised dst; MXTLS_OK or
 * MXTLS_ERR_NOMEM (dst then empty) */
mxtls_status ehlo_caps_copy(ehlo_caps *dst, const ehlo_caps *src);

/* ehlo_parse - interpret the lines of a successful EHLO reply
 *
 * caps must be initialised (ehlo_caps_init); previous contents are freed.
 * Returns MXTLS_OK or MXTLS_ERR_NOMEM (caps then left empty). */
mxtls_status ehlo_parse(ehlo_caps *caps, const char *const *lines, size_t nlines);

/* ehlo_ext_name - "STARTTLS" for EHLO_STARTTLS, ...; NULL for other values */
const char *ehlo_ext_name(unsigned bit);

#endif
