/* reply.c - SMTP reply accumulation and parsing (RFC 5321 §4.2)
 *
 * The parser looks at one byte at a time (with the line kept in a buffer
 * allocated once at max_line bytes), so any slicing of the input gives the
 * same replies, the same errors at the same line and column, and the same
 * consumed counts. That property is what lets the SMTP state machine promise
 * identical observations whatever the TCP segmentation was. */
#include "core/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* reply_limits_effective - fill in defaults and check the ranges */
int reply_limits_effective(const reply_limits *in, reply_limits *out)
{
    reply_limits l = {0, 0, 0};
    if (in)
        l = *in;
    if (l.max_line == 0)
        l.max_line = REPLY_MAX_LINE_DEFAULT;
    if (l.max_lines == 0)
        l.max_lines = REPLY_MAX_LINES_DEFAULT;
    if (l.max_bytes == 0)
        l.max_bytes = REPLY_MAX_BYTES_DEFAULT;
    if (l.max_line < REPLY_MAX_LINE_MIN || l.max_line > REPLY_MAX_LINE_MAX ||
        l.max_lines > REPLY_MAX_LINES_MAX || l.max_bytes < REPLY_MAX_LINE_MIN ||
        l.max_bytes > REPLY_MAX_BYTES_MAX)
        return -1;
    *out = l;
    return 0;
}

/* reply_init - an empty reply (code 0, no lines) */
void reply_init(reply_rec *r)
{
    memset(r, 0, sizeof *r);
}

/* reply_free - release the lines; the record is left empty and reusable */
void reply_free(reply_rec *r)
{
    if (!r)
        return;
    strlist_free(&r->lines);
    reply_init(r);
}

/* reply_copy - deep copy of a reply */
mxtls_status reply_copy(reply_rec *dst, const reply_rec *src)
{
    reply_init(dst);
    mxtls_status st = strlist_copy(&dst->lines, &src->lines);
    if (st != MXTLS_OK) {
        strlist_free(&dst->lines);
        return st;
    }
    dst->code = src->code;
    dst->bytes = src->bytes;
    dst->flags = src->flags;
    dst->bare_lf_line = src->bare_lf_line;
    dst->bare_cr_line = src->bare_cr_line;
    return MXTLS_OK;
}

/* reply_parser_init - allocate the line buffer once; nothing else grows but the reply's lines */
mxtls_status reply_parser_init(reply_parser *p, const reply_limits *lim)
{
    memset(p, 0, sizeof *p);
    if (reply_limits_effective(lim, &p->lim) != 0)
        return MXTLS_ERR_INVALID;
    p->line = malloc(p->lim.max_line);
    if (!p->line)
        return MXTLS_ERR_NOMEM;
    reply_init(&p->r);
    return MXTLS_OK;
}

/* reply_parser_free - release the buffer and any partial reply */
void reply_parser_free(reply_parser *p)
{
    if (!p)
        return;
    free(p->line);
    p->line = NULL;
    reply_free(&p->r);
}

/* reply_parser_take - hand the completed reply to the caller and start afresh */
void reply_parser_take(reply_parser *p, reply_rec *out)
{
    *out = p->r;
    reply_init(&p->r);
    p->line_len = 0;
    p->more = 0;
}

/* reply_parser_pending - bytes of the reply in progress */
size_t reply_parser_pending(const reply_parser *p)
{
    return p->r.bytes + p->line_len;
}

/* reply_escape - render peer bytes safely for a message */
size_t reply_escape(const char *in, size_t n, char *out, size_t outsz)
{
    size_t o = 0, i;
    if (outsz == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        char tmp[5];
        size_t tl;
        if (c == '\r')
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\r");
        else if (c == '\n')
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\n");
        else if (c == '\t')
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\t");
        else if (c == '\\' || c == '"')
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\%c", c);
        else if (c < 0x20 || c > 0x7e)
            tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
        else {
            tmp[0] = (char)c;
            tmp[1] = '\0';
            tl = 1;
        }
        if (o + tl > outsz - 1)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
    }
    out[o] = '\0';
    return i;
}

/* reply_fail - record a sticky error at the current line */
__attribute__((format(printf, 4, 5))) static reply_status
reply_fail(reply_parser *p, reply_error_kind kind, size_t column, const char *fmt, ...)
{
    p->failed = 1;
    p->err.kind = kind;
    p->err.line = p->r.lines.n + 1;
    p->err.column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err.message, sizeof p->err.message, fmt, ap);
    va_end(ap);
    return REPLY_ERROR;
}

/* reply_fail_byte - a structural error naming the offending byte */
static reply_status reply_fail_byte(reply_parser *p, size_t column, unsigned char c,
                                    const char *expected)
{
    char esc[8];
    reply_escape((const char *)&c, 1, esc, sizeof esc);
    /* A server that answers with a TLS record (handshake 0x16, alert 0x15)
     * expects TLS first: the classic symptom of talking SMTP to port 465. */
    const char *hint = "";
    if (column == 1 && p->r.lines.n == 0 && (c == 0x16 || c == 0x15))
        hint = " (this looks like a TLS record: the port may expect implicit TLS)";
    return reply_fail(p, REPLY_ERR_SYNTAX, column, "expected %s, got '%s'%s", expected, esc,
                      hint);
}

/* reply_line_end - a LF arrived: validate and store the line */
static reply_status reply_line_end(reply_parser *p)
{
    size_t k = p->line_len;
    if (k < 3)
        return reply_fail(p, REPLY_ERR_SYNTAX, k + 1,
                          "line ends before the three-digit reply code");
    size_t lineno = p->r.lines.n + 1;
    int crlf = p->line[k - 1] == '\r';
    size_t tlen = crlf ? k - 1 : k;
    int more = tlen > 3 && p->line[3] == '-';
    /* §4.2.1: the text is optional; "250" CRLF is a complete last line. */
    const char *text = p->line + (tlen > 4 ? 4 : tlen);
    size_t textlen = tlen > 4 ? tlen - 4 : 0;

    if (more && lineno >= p->lim.max_lines)
        return reply_fail(p, REPLY_ERR_LIMIT, 4, "reply has more than %zu lines",
                          p->lim.max_lines);
    if (!crlf && !(p->r.flags & REPLY_F_BARE_LF)) {
        p->r.flags |= REPLY_F_BARE_LF;
        p->r.bare_lf_line = lineno;
    }
    if (memchr(text, '\r', textlen) && !(p->r.flags & REPLY_F_BARE_CR)) {
        p->r.flags |= REPLY_F_BARE_CR;
        p->r.bare_cr_line = lineno;
    }
    if (lineno == 1)
        p->r.code = (p->line[0] - '0') * 100 + (p->line[1] - '0') * 10 + (p->line[2] - '0');
    if (strlist_addn(&p->r.lines, text, textlen) != MXTLS_OK)
        return reply_fail(p, REPLY_ERR_NOMEM, 1, "out of memory");
    p->r.bytes += k + 1;
    p->line_len = 0;
    p->more = more;
    return more ? REPLY_NEED_MORE : REPLY_COMPLETE;
}

/* reply_parser_feed - the byte loop; see reply.h */
reply_status reply_parser_feed(reply_parser *p, const char *buf, size_t len, size_t *consumed)
{
    size_t i = 0;
    reply_status st = REPLY_NEED_MORE;
    *consumed = 0;
    if (p->failed)
        return REPLY_ERROR;
    while (i < len) {
        unsigned char c = (unsigned char)buf[i];
        size_t k = p->line_len;
        if (c == '\n') {
            /* The offending byte is never counted as consumed, LF included. */
            st = reply_line_end(p);
            if (st != REPLY_ERROR)
                i++;
            if (st != REPLY_NEED_MORE)
                break;
            continue;
        }
        if (c == '\0') {
            st = reply_fail(p, REPLY_ERR_SYNTAX, k + 1, "NUL byte in reply");
            break;
        }
        if (k < 3) {
            if (k == 0 && (c < '2' || c > '5')) {
                st = reply_fail_byte(p, 1, c, "a reply code starting with 2, 3, 4 or 5");
                break;
            }
            if (c < '0' || c > '9') {
                st = reply_fail_byte(p, k + 1, c, "a three-digit reply code");
                break;
            }
            if (k == 2 && p->r.lines.n > 0) {
                int code = (p->line[0] - '0') * 100 + (p->line[1] - '0') * 10 + (c - '0');
                if (code != p->r.code) {
                    /* §4.2.1: every line of a multiline reply has the same code. */
                    st = reply_fail(p, REPLY_ERR_SYNTAX, 1,
                                    "reply code %03d differs from %03d on the first line", code,
                                    p->r.code);
                    break;
                }
            }
        } else if (k == 3) {
            if (c != ' ' && c != '-' && c != '\r') {
                st = reply_fail_byte(p, 4, c, "' ', '-' or end of line after the reply code");
                break;
            }
        } else if (k == 4 && p->line[3] == '\r') {
            /* "250\rX": a CR where the separator belongs, not followed by LF. */
            st = reply_fail_byte(p, 4, '\r', "' ', '-' or end of line after the reply code");
            break;
        }
        /* The limits fail at the first byte that makes them unreachable: a
         * line needs at least its LF, a reply at least this line's LF. */
        if (k + 1 >= p->lim.max_line) {
            st = reply_fail(p, REPLY_ERR_LIMIT, k + 1, "line longer than %zu bytes",
                            p->lim.max_line);
            break;
        }
        if (p->r.bytes + k + 1 >= p->lim.max_bytes) {
            st = reply_fail(p, REPLY_ERR_LIMIT, k + 1, "reply longer than %zu bytes",
                            p->lim.max_bytes);
            break;
        }
        p->line[k] = (char)c;
        p->line_len = k + 1;
        i++;
    }
    *consumed = i;
    return st;
}

/* reply_parse - one-shot wrapper around the incremental parser */
reply_status reply_parse(const char *buf, size_t len, const reply_limits *lim, reply_rec *out,
                         size_t *consumed, reply_error *err)
{
    reply_parser p;
    reply_init(out);
    *consumed = 0;
    if (err)
        memset(err, 0, sizeof *err);
    mxtls_status ist = reply_parser_init(&p, lim);
    if (ist != MXTLS_OK) {
        if (err) {
            err->kind = ist == MXTLS_ERR_NOMEM ? REPLY_ERR_NOMEM : REPLY_ERR_LIMIT;
            snprintf(err->message, sizeof err->message, "%s",
                     ist == MXTLS_ERR_NOMEM ? "out of memory" : "limits out of range");
        }
        reply_parser_free(&p);
        return REPLY_ERROR;
    }
    reply_status st = reply_parser_feed(&p, buf, len, consumed);
    if (st == REPLY_COMPLETE)
        reply_parser_take(&p, out);
    else if (st == REPLY_ERROR && err)
        *err = p.err;
    reply_parser_free(&p);
    return st;
}
