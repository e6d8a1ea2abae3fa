/* scanlist.h - the lines `mxtls scan` reads and writes (pure)
 *
 * Input: one domain per line. Blank lines and lines whose first non-blank
 * character is '#' are skipped; a '#' after blanks ends the line (a comment);
 * a trailing CR is dropped. Anything else must be one mail domain (U- or
 * A-labels, one trailing dot allowed), normalised as `mxtls check` does
 * (names_normalize): lower case A-labels without the trailing dot.
 *
 * Shards (`--shard I/N`): a domain belongs to shard FNV-1a-64(key) mod N,
 * where key is its normalised name (or, for a malformed line, the line as
 * shown in its error object) as bytes; docs/scanning.md gives the function so
 * that other tools reproduce it.
 *
 * Output (`--resume`): every output line is one JSON object; its top-level
 * "domain" string (a check) or "input" string (a line that was no domain)
 * says which input it answers. */
#ifndef MXTLS_CORE_SCANLIST_H
#define MXTLS_CORE_SCANLIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

#define SCANLIST_MAX_LINE 1024 /* input line bytes, newline excluded */

typedef enum scanlist_kind {
    SCANLIST_SKIP = 0,   /* blank or comment */
    SCANLIST_DOMAIN = 1, /* *out: the normalised domain */
    SCANLIST_BAD = 2     /* *out: the line as shown (trimmed, at most 256 bytes, may hold
                            any byte); e: why it is no domain */
} scanlist_kind;

/* scanlist_line - classify one input line of len bytes (no newline). On
 * DOMAIN and BAD *out is set (caller frees). Out of memory: BAD with *out
 * NULL and e->code MXTLS_ERR_NOMEM. */
scanlist_kind scanlist_line(const char *line, size_t len, char **out, err_rec *e);

/* scanlist_hash - FNV-1a, 64 bits, of the NUL-terminated key */
uint64_t scanlist_hash(const char *key);

/* scanlist_in_shard - key belongs to shard i of n (0 <= i < n) */
int scanlist_in_shard(const char *key, unsigned long i, unsigned long n);

/* scanlist_shard_parse - "I/N" with 0 <= I < N <= 1000000; 0, or -1 */
int scanlist_shard_parse(const char *s, unsigned long *i, unsigned long *n);

/* scanlist_output_key - the top-level "domain" (preferred) or "input" string
 * of the JSON object in line (len bytes, no newline), unescaped; NULL when
 * the line is no such object or it has neither key (or out of memory).
 * Caller frees. */
char *scanlist_output_key(const char *line, size_t len);

#endif
