/* jsonw.h - a small JSON writer over strbuf (escaping, commas, nesting) */
#ifndef MXTLS_REPORT_JSONW_H
#define MXTLS_REPORT_JSONW_H

#include "core/base.h"

#define JSONW_MAX_DEPTH 32
#define JSONW_MAX_OUTPUT (64u * 1024u * 1024u)

typedef struct jsonw {
    strbuf b;
    int depth;
    int first[JSONW_MAX_DEPTH]; /* no element written yet at this depth */
    int failed;
} jsonw;

void jw_init(jsonw *w);
void jw_obj(jsonw *w);           /* { */
void jw_end_obj(jsonw *w);       /* } */
void jw_arr(jsonw *w);           /* [ */
void jw_end_arr(jsonw *w);       /* ] */
void jw_key(jsonw *w, const char *k);
void jw_str(jsonw *w, const char *s); /* NULL writes null */
void jw_int(jsonw *w, long long v);
/* jw_json - a value that is already a JSON document made by this writer
 * (nested as it is, not escaped); NULL writes null */
void jw_json(jsonw *w, const char *json);
void jw_bool(jsonw *w, int v);
void jw_null(jsonw *w);
/* key/value shorthands */
void jw_kstr(jsonw *w, const char *k, const char *s);
void jw_kint(jsonw *w, const char *k, long long v);
void jw_kbool(jsonw *w, const char *k, int v);
void jw_kstrlist(jsonw *w, const char *k, const strlist *l);
/* jw_chain_cert - one certificate of a chain (core/result.h) as the object
 * {subject, issuer, not_before, not_after, sha256} of docs/json.md: the
 * check result's chain and the probe report's are the same shape */
struct chain_cert;
void jw_chain_cert(jsonw *w, const struct chain_cert *c);
/* jw_str_as_read - a copy of s as a JSON parser reads back what jw_str
 * wrote: each byte that does not start valid UTF-8 replaced by U+FFFD
 * (caller frees; NULL when s is NULL or memory is short) */
char *jw_str_as_read(const char *s);
/* jw_finish - the document (caller frees), or NULL if anything failed */
char *jw_finish(jsonw *w);

#endif
