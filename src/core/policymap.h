/* policymap.h - Postfix smtp_tls_policy_maps tables: parsed entries and lookup
 *
 * Internal to the library. The public API (mxtls_policymap_*) is in mxtls.h;
 * this header exposes the parsed entry so that the check engine can apply it
 * (level, match list, protocol and cipher overrides) without re-parsing text.
 * The format and the lookup rules are described in docs/policymap.md. */
#ifndef MXTLS_CORE_POLICYMAP_H
#define MXTLS_CORE_POLICYMAP_H

#include "core/base.h"

/* Limits (docs/policymap.md). A physical line longer than MAX_LINE bytes (the
 * line terminator not counted) and a map with more than MAX_ENTRIES entries are
 * MXTLS_ERR_LIMIT errors; the whole text is capped at MXTLS_MAX_INPUT_FILE. */
#define MXTLS_POLICYMAP_MAX_LINE 4096u
#define MXTLS_POLICYMAP_MAX_ENTRIES 100000u

/* What a key matches. Postfix looks up the next-hop destination verbatim and,
 * only for a bare domain, walks up its parent domains as ".parent" keys
 * (postconf(5) smtp_tls_policy_maps). */
typedef enum policymap_dest_kind {
    POLICYMAP_DEST_DOMAIN,     /* "example.com": that domain only */
    POLICYMAP_DEST_SUBDOMAINS, /* ".example.com": every domain below it */
    POLICYMAP_DEST_NEXTHOP,    /* "[host]", "[host]:port", "host:port": exactly that */
    POLICYMAP_DEST_DEFAULT     /* "*": no default in Postfix; never applies (policymap_lint) */
} policymap_dest_kind;

/* One entry. Strings are owned by the entry; NULL means the attribute is
 * absent. Values are as written (attribute names are case-insensitive and
 * stored by their canonical lower-case name). */
struct mxtls_policy_entry {
    char *key;                /* the destination as written */
    char *norm;               /* lookup form: lower case, A-labels, no trailing dot */
    policymap_dest_kind kind;
    size_t line;              /* 1-based line of the key */
    mxtls_level level;        /* a Postfix level: NONE .. DANE_ONLY */
    /* match=: every item of every match attribute, in order. For verify and
     * secure these are strategies ("hostname", "nexthop", "dot-nexthop") or
     * names (".example.com" = any name below); for fingerprint they are
     * digests ("AB:CD:..." or "abcd..."). match_raw is the attribute values
     * joined by the level's separator (":" resp. "|"). */
    strlist match;
    char *match_raw;
    strlist tafile;           /* tafile=: one item per attribute (verify, secure) */
    char *tafile_raw;         /* the tafile values joined by " " */
    char *protocols;          /* may be "" (Postfix accepts an empty list) */
    char *ciphers;            /* a Postfix cipher grade */
    char *exclude;            /* may be "" */
    char *servername;
    char *connection_reuse;   /* "yes" / "no" as written; the last one wins */
    char *enable_rpk;         /* "yes" / "no" as written; the last one wins */
};

/* policymap_find - mxtls_policymap_lookup that tells "no entry applies" (MXTLS_OK,
 * *out NULL) from "out of memory" (MXTLS_ERR_NOMEM), which the public lookup
 * cannot: it has no context for the error */
mxtls_status policymap_find(const mxtls_policymap *map, const char *destination,
                            const mxtls_policy_entry **out);

/* policymap_entry_at - the i-th entry in file order, NULL past the end */
const mxtls_policy_entry *policymap_entry_at(const mxtls_policymap *map, size_t i);

#endif
