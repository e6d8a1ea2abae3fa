/* reply.h - SMTP reply accumulation and parsing (RFC 5321 §4.2)
 *
 * Pure: bytes in, replies out. A reply is one or more lines
 *
 *     Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                     Reply-code [ SP textstring ] CRLF
 *
 * The parser is incremental and linear: it is fed arbitrary slices of the
 * stream (one byte at a time or all at once give the same result) and stops
 * right after the final line of a reply, so the bytes that follow belong to
 * whoever reads next (RFC 3207 §5: after "220 ready to start TLS" nothing may
 * be interpreted as SMTP).
 *
 * Strict about structure, liberal where the Internet is sloppy:
 * - every line starts with three digits, the first 2..5 (§4.2.1: there are no
 *   1yz replies in SMTP); then '-' (more lines follow), ' ' or the end of the
 *   line (last line);
 * - all lines of one reply carry the same code (§4.2.1);
 * - a NUL byte is an error (it cannot be text, and it would truncate C strings);
 * - a line ending in LF without CR is accepted and flagged (REPLY_F_BARE_LF), as
 *   Postfix and OpenSMTPD accept it; a CR inside the text is kept and flagged.
 *
 * Every limit is checked as early as the byte that makes it unreachable, so
 * no peer-controlled input allocates more than the limits allow:
 * - a line, terminator included, is at most `max_line` bytes. RFC 5321
 *   §4.5.3.1.5 says 512; real servers send longer text, so we default to 2048;
 * - a reply has at most `max_lines` lines (OpenSMTPD and Postfix bound this too:
 *   an endless "250-" stream must end somewhere);
 * - a reply, terminators included, is at most `max_bytes` bytes. */
#ifndef MXTLS_CORE_REPLY_H
#define MXTLS_CORE_REPLY_H

#include <stddef.h>

#include "core/base.h"

#define REPLY_MAX_LINE_DEFAULT 2048u   /* bytes per line, CRLF included */
#define REPLY_MAX_LINES_DEFAULT 100u   /* lines per reply */
#define REPLY_MAX_BYTES_DEFAULT 65536u /* bytes per reply, CRLFs included */
/* Bounds on the limits themselves, so a configuration cannot unbound us. */
#define REPLY_MAX_LINE_MIN 8u          /* "250 x\r\n" fits */
#define REPLY_MAX_LINE_MAX 65536u
#define REPLY_MAX_LINES_MAX 10000u
#define REPLY_MAX_BYTES_MAX (1024u * 1024u)

typedef struct reply_limits {
    size_t max_line;  /* 0 = REPLY_MAX_LINE_DEFAULT */
    size_t max_lines; /* 0 = REPLY_MAX_LINES_DEFAULT */
    size_t max_bytes; /* 0 = REPLY_MAX_BYTES_DEFAULT */
} reply_limits;

/* Flags describing tolerated deviations in a reply. */
#define REPLY_F_BARE_LF 0x1u /* at least one line ended in LF without CR */
#define REPLY_F_BARE_CR 0x2u /* a CR not followed by LF appears in the text */

/* reply_rec - one complete reply
 *
 * Owned by whoever holds it; free with reply_free(). `lines` holds the text of
 * each line after the code and separator, without terminator ("" when a line
 * has no text). */
typedef struct reply_rec {
    int code;           /* 200..599; 0 = no reply */
    strlist lines;      /* text of every line, in order */
    size_t bytes;       /* bytes on the wire, terminators included */
    unsigned flags;     /* REPLY_F_* */
    size_t bare_lf_line;  /* 1-based first line ending in bare LF, 0 = none */
    size_t bare_cr_line;  /* 1-based first line with a bare CR, 0 = none */
} reply_rec;

typedef enum reply_status {
    REPLY_ERROR = -1,    /* malformed or over a limit: see reply_error */
    REPLY_NEED_MORE = 0, /* every byte consumed; the reply is not complete yet */
    REPLY_COMPLETE = 1   /* a reply ended; bytes after it were not consumed */
} reply_status;

typedef enum reply_error_kind {
    REPLY_ERR_NONE = 0,
    REPLY_ERR_SYNTAX = 1, /* the peer broke the reply grammar */
    REPLY_ERR_LIMIT = 2,  /* the reply is larger than a limit allows */
    REPLY_ERR_NOMEM = 3
} reply_error_kind;

#define REPLY_ERROR_MESSAGE_MAX 160

/* reply_error - what is wrong and where: 1-based line within the reply and
 * 1-based byte column within that line. */
typedef struct reply_error {
    reply_error_kind kind;
    size_t line;
    size_t column;
    char message[REPLY_ERROR_MESSAGE_MAX];
} reply_error;

/* reply_parser - incremental parser state; one per connection */
typedef struct reply_parser {
    reply_limits lim; /* effective limits (defaults filled in) */
    char *line;       /* current line so far; max_line bytes, allocated once */
    size_t line_len;
    int more;         /* the current line is a continuation ('-') line */
    reply_rec r;      /* reply being accumulated */
    reply_error err;
    int failed;       /* sticky: after an error the stream is not resynchronised */
} reply_parser;

/* reply_limits_effective - limits with defaults filled in; -1 when a limit is
 * outside its allowed range (REPLY_*_MIN/MAX) */
int reply_limits_effective(const reply_limits *in, reply_limits *out);

/* reply_parser_init - prepare a parser; lim may be NULL for defaults.
 * Returns MXTLS_OK, MXTLS_ERR_INVALID (limits out of range) or MXTLS_ERR_NOMEM. */
mxtls_status reply_parser_init(reply_parser *p, const reply_limits *lim);
void reply_parser_free(reply_parser *p);

/* reply_parser_feed - consume bytes until a reply completes
 *
 * *consumed receives how many bytes of buf were used. On REPLY_COMPLETE the
 * reply is taken with reply_parser_take(); on REPLY_ERROR p->err says what
 * and where, and every later call fails the same way. */
reply_status reply_parser_feed(reply_parser *p, const char *buf, size_t len, size_t *consumed);

/* reply_parser_take - move the completed reply into *out (the caller frees it
 * with reply_free); the parser is ready for the next reply */
void reply_parser_take(reply_parser *p, reply_rec *out);

/* reply_parser_pending - bytes of an incomplete reply held so far (0 between replies) */
size_t reply_parser_pending(const reply_parser *p);

/* reply_parse - one-shot: parse the reply at the start of buf
 *
 * Returns REPLY_COMPLETE with *out filled (caller frees) and *consumed the
 * length of the reply, REPLY_NEED_MORE when buf ends inside a reply, or
 * REPLY_ERROR with *err filled. lim may be NULL. */
reply_status reply_parse(const char *buf, size_t len, const reply_limits *lim, reply_rec *out,
                         size_t *consumed, reply_error *err);

void reply_init(reply_rec *r);
void reply_free(reply_rec *r);
/* reply_copy - deep copy; MXTLS_OK or MXTLS_ERR_NOMEM (dst left empty) */
mxtls_status reply_copy(reply_rec *dst, const reply_rec *src);

/* reply_escape - printable rendering of peer bytes for messages: printable
 * ASCII as is, '\\' and '"' escaped, \r \n \t, other bytes as \xHH. Writes at
 * most outsz-1 characters plus NUL, never splitting an escape; returns the
 * number of input bytes rendered. */
size_t reply_escape(const char *in, size_t n, char *out, size_t outsz);

#endif
