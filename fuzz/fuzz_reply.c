/* fuzz_reply - the SMTP reply parser on arbitrary bytes and chunkings
 *
 * Input: byte 0 picks the limits (tiny limits reach every limit edge
 * quickly) and seeds the chunk sizes; the rest is the stream. The stream is
 * parsed reply after reply three times: all at once, one byte at a time and
 * in pseudo-random chunks. All three must agree exactly (replies, errors,
 * consumed counts), and every stored reply must respect the limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reply.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_reply: invariant failed: %s (line %d)\n", #c, __LINE__);   \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* fuzz_next_rand - xorshift32, deterministic per input */
static uint32_t fuzz_next_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* fuzz_check_reply - the limits hold for a stored reply */
static void fuzz_check_reply(const reply_rec *r, const reply_limits *lim)
{
    CHECK(r->code >= 200 && r->code <= 599);
    CHECK(r->lines.n >= 1 && r->lines.n <= lim->max_lines);
    CHECK(r->bytes <= lim->max_bytes);
    size_t sum = 0;
    for (size_t i = 0; i < r->lines.n; i++) {
        size_t l = strlen(r->lines.v[i]);
        CHECK(l + 3 + 1 <= lim->max_line); /* code, LF at least */
        sum += l + 4;
    }
    CHECK(sum <= r->bytes + r->lines.n); /* "250\n" has no separator byte */
}

/* fuzz_run - parse the whole stream with a chunking; digest everything seen */
static void fuzz_run(const char *data, size_t size, const reply_limits *lim, int mode,
                     uint32_t seed, strbuf *digest)
{
    reply_parser p;
    CHECK(reply_parser_init(&p, lim) == MXTLS_OK);
    size_t off = 0;
    reply_status st = REPLY_NEED_MORE;
    while (off < size) {
        size_t step = size - off;
        if (mode == 1)
            step = 1;
        else if (mode == 2)
            step = 1 + fuzz_next_rand(&seed) % (step < 64 ? step : 64);
        size_t used = 0;
        st = reply_parser_feed(&p, data + off, step, &used);
        CHECK(used <= step);
        if (st == REPLY_NEED_MORE)
            CHECK(used == step);
        off += used;
        if (st == REPLY_ERROR)
            break;
        if (st == REPLY_COMPLETE) {
            reply_rec r;
            reply_parser_take(&p, &r);
            fuzz_check_reply(&r, &p.lim);
            sb_printf(digest, "R%d/%zu/%zu/%u/%zu/%zu@%zu:", r.code, r.lines.n, r.bytes, r.flags,
                      r.bare_lf_line, r.bare_cr_line, off);
            for (size_t i = 0; i < r.lines.n; i++) {
                sb_puts(digest, r.lines.v[i]);
                sb_puts(digest, "|");
            }
            reply_free(&r);
            CHECK(reply_parser_pending(&p) == 0);
        }
    }
    if (st == REPLY_ERROR) {
        CHECK(p.err.kind == REPLY_ERR_SYNTAX || p.err.kind == REPLY_ERR_LIMIT);
        CHECK(p.err.line >= 1 && p.err.line <= p.lim.max_lines);
        CHECK(p.err.column >= 1 && p.err.column <= p.lim.max_line);
        CHECK(p.err.message[0] != '\0');
        size_t used = 1;
        CHECK(reply_parser_feed(&p, "250 x\r\n", 7, &used) == REPLY_ERROR && used == 0);
        sb_printf(digest, "E%d/%zu/%zu@%zu:%s", (int)p.err.kind, p.err.line, p.err.column, off,
                  p.err.message);
    } else {
        CHECK(reply_parser_pending(&p) <= p.lim.max_bytes);
        sb_printf(digest, "P%zu", reply_parser_pending(&p));
    }
    reply_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    reply_limits lim = {0, 0, 0};
    uint8_t sel = data[0];
    if (sel & 1) {
        lim.max_line = REPLY_MAX_LINE_MIN + (sel >> 1) % 24;
        lim.max_lines = 1 + (sel >> 3) % 6;
        lim.max_bytes = REPLY_MAX_LINE_MIN + (sel >> 2) % 64;
    }
    const char *in = (const char *)data + 1;
    size -= 1;

    strbuf d[3];
    for (int m = 0; m < 3; m++) {
        sb_init(&d[m], (size_t)1 << 26);
        fuzz_run(in, size, &lim, m, sel * 2654435761u + (uint32_t)size, &d[m]);
    }
    CHECK(d[0].len == d[1].len && memcmp(d[0].s, d[1].s, d[0].len) == 0);
    CHECK(d[0].len == d[2].len && memcmp(d[0].s, d[2].s, d[0].len) == 0);
    for (int m = 0; m < 3; m++)
        sb_free(&d[m]);

    /* One-shot parse agrees with the first reply of the stream. */
    reply_rec r;
    size_t used;
    reply_error e;
    reply_status st = reply_parse(in, size, &lim, &r, &used, &e);
    if (st == REPLY_COMPLETE) {
        CHECK(used == r.bytes && used <= size);
        reply_free(&r);
    }

    /* Escaping never overflows and never splits an escape. */
    char esc[37];
    size_t n = reply_escape(in, size, esc, sizeof esc);
    CHECK(n <= size);
    CHECK(strlen(esc) < sizeof esc);
    return 0;
}
