/* base.h - error records, bounded strings and string lists shared by every module
 *
 * Internal to the library. Nothing here does I/O. */
#ifndef MXTLS_CORE_BASE_H
#define MXTLS_CORE_BASE_H

#include <stdarg.h>
#include <stddef.h>

#include "mxtls.h"

#define MXTLS_ERR_WHERE_MAX 256
#define MXTLS_ERR_MESSAGE_MAX 768

/* err_rec - what went wrong, where, and why
 *
 * `where` names the input position ("chain.pem:12", "policy.map:3:17") or the
 * operation ("evidence"); `message` is a sentence for a person. Filled by the
 * function that fails; owned by whoever passed it in. */
typedef struct err_rec {
    mxtls_status code;
    char where[MXTLS_ERR_WHERE_MAX];
    char message[MXTLS_ERR_MESSAGE_MAX];
} err_rec;

void err_clear(err_rec *e);
/* err_code_errno - the status for a failed system call: MXTLS_ERR_RESOURCE for
 * EMFILE/ENFILE (out of file descriptors), MXTLS_ERR_NOMEM for ENOMEM, else
 * MXTLS_ERR_IO */
mxtls_status err_code_errno(int err);
/* err_errno_text - strerror(err), but "out of file descriptors (ulimit -n)" for
 * EMFILE/ENFILE and "out of memory" for ENOMEM: the words of exit code 4 */
const char *err_errno_text(int err);
/* err_set - record an error and return its code, so callers can `return err_set(...)` */
mxtls_status err_set(err_rec *e, mxtls_status code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* strbuf - growable string with a hard maximum
 *
 * Appends past `max` bytes fail with MXTLS_ERR_LIMIT and leave the buffer as it
 * was, so peer-controlled text can never grow memory without bound. The text is
 * always NUL-terminated when s != NULL. */
typedef struct strbuf {
    char *s;
    size_t len, cap, max;
} strbuf;

void sb_init(strbuf *b, size_t max);
void sb_free(strbuf *b);
void sb_reset(strbuf *b);
mxtls_status sb_append(strbuf *b, const char *s, size_t n);
mxtls_status sb_puts(strbuf *b, const char *s);
mxtls_status sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
mxtls_status sb_vprintf(strbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* sb_take - hand the text to the caller (malloc'd, caller frees); the buffer is emptied */
char *sb_take(strbuf *b);

/* utf8_seq_len - the length (1-4) of the well-formed UTF-8 sequence at s (n
 * bytes available), or 0: no overlong forms, surrogates or code points above
 * U+10FFFF (RFC 3629) */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* sb_put_display - append untrusted text for a terminal: control characters
 * (C0 including newline, DEL, C1) and bytes that are not UTF-8 as \xNN,
 * everything else (printable ASCII, valid UTF-8) as it is */
mxtls_status sb_put_display(strbuf *b, const char *s);
/* text_display - sb_put_display into a new string (caller frees); NULL when
 * memory is short */
char *text_display(const char *s);

/* strlist - owned array of owned strings */
typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

mxtls_status strlist_add(strlist *l, const char *s);
mxtls_status strlist_addn(strlist *l, const char *s, size_t n);
/* strlist_add_unique - add unless an equal string (case-insensitive) is present */
mxtls_status strlist_add_unique(strlist *l, const char *s);
int strlist_contains(const strlist *l, const char *s);
mxtls_status strlist_copy(strlist *dst, const strlist *src);
void strlist_free(strlist *l);

/* xstrndup - strndup that never reads past n */
char *xstrndup(const char *s, size_t n);
/* xmemdup - a copy of n bytes (n may be 0: still a valid allocation, p may
 * then be NULL); NULL only when memory is short */
void *xmemdup(const void *p, size_t n);

/* decimal_parse - s is a decimal number in [lo, hi] (0 <= lo <= hi): ASCII
 * digits only, no sign, no spaces; the number, or -1 */
long decimal_parse(const char *s, long lo, long hi);

#endif
