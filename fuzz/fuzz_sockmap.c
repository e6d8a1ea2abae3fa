/* fuzz_sockmap.c - libFuzzer target: the socketmap request parser and the
 * key check (core/sockmap.h)
 *
 * Parses the input as a stream of pipelined requests, as the daemon does.
 * Invariants: OK consumes at least "N:" plus ",", never more than the input,
 * and its name and key lie inside the netstring; BAD has an error inside the
 * input; MORE is returned for every proper prefix of a request; a key that
 * sockmap_key_domain accepts is a normalised name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sockmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t pos = 0;
    for (int guard = 0; pos < size && guard < 10000; guard++) {
        sockmap_request rq;
        sockmap_parse_result r = sockmap_parse(buf + pos, size - pos, SOCKMAP_MAX_REQUEST, &rq);
        if (r == SOCKMAP_PARSE_MORE)
            break;
        if (r == SOCKMAP_PARSE_BAD) {
            if (!rq.error || rq.error_at > size - pos)
                abort();
            break;
        }
        if (rq.consumed < 4 || rq.consumed > size - pos || rq.name_len == 0 ||
            rq.name_len > SOCKMAP_MAX_NAME || rq.name < buf + pos ||
            rq.key + rq.key_len > buf + pos + rq.consumed - 1 || buf[pos + rq.consumed - 1] != ',')
            abort();
        /* every proper prefix of a request is incomplete */
        sockmap_request p;
        if (sockmap_parse(buf + pos, rq.consumed - 1, SOCKMAP_MAX_REQUEST, &p) !=
            SOCKMAP_PARSE_MORE)
            abort();
        char dom[MXTLS_MAX_NAME + 1];
        int have_dom = sockmap_key_domain(rq.key, rq.key_len, dom, sizeof dom) == 0;
        if (have_dom) {
            size_t n = strlen(dom);
            if (n == 0 || n > MXTLS_MAX_NAME || dom[n - 1] == '.')
                abort();
            for (size_t i = 0; i < n; i++)
                if (dom[i] >= 'A' && dom[i] <= 'Z')
                    abort();
        }
        char out[SOCKMAP_MAX_ANSWER + 32];
        /* a key that is no domain leaves dom undefined: reply about the empty text */
        if (sockmap_reply_format(SOCKMAP_TEMP, have_dom ? dom : "", out, sizeof out) == 0)
            abort();
        pos += rq.consumed;
    }
    return 0;
}
