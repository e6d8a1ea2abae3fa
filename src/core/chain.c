/* chain.c - load a presented certificate chain from PEM text (untrusted input) */
#include "core/chain.h"
#include "core/osslerr.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

void chain_free(STACK_OF(X509) *chain)
{
    if (chain)
        sk_X509_pop_free(chain, X509_free);
}

/* chain_line_is - does the line [p, end) equal s, ignoring trailing CR/space? */
static int chain_line_is(const char *p, const char *end, const char *s)
{
    while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = strlen(s);
    return (size_t)(end - p) == n && memcmp(p, s, n) == 0;
}

/* chain_contains - bounded substring search (memmem is a GNU extension) */
static int chain_contains(const char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (buf[i] == s[0] && memcmp(buf + i, s, n) == 0)
            return 1;
    return 0;
}

static int chain_line_starts(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* chain_block_is_empty - no base64 between the BEGIN line and the END line */
static int chain_block_is_empty(const char *p, size_t n)
{
    const char *end = p + n;
    const char *nl = memchr(p, '\n', n);
    for (const char *q = nl ? nl + 1 : end; q < end; q++) {
        if (*q == '-')
            return 1; /* reached the END line */
        if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
            return 0;
    }
    return 1;
}

/* chain_decode_block - one PEM block of text into an X509 */
static X509 *chain_decode_block(const char *p, size_t n, err_rec *e, const char *where)
{
    if (chain_block_is_empty(p, n))
        return err_set(e, MXTLS_ERR_PARSE, where,
                       "empty certificate block: no base64 data between the BEGIN and END "
                       "lines"),
               NULL;
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    if (!bio)
        return err_set(e, MXTLS_ERR_NOMEM, where, "out of memory"), NULL;
    ERR_clear_error();
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!x) {
        unsigned long code = ERR_peek_last_error();
        char reason[256];
        ERR_error_string_n(code, reason, sizeof reason);
        if (osslerr_nomem()) /* empties the queue */
            return err_set(e, MXTLS_ERR_NOMEM, where, "out of memory"), NULL;
        err_set(e, MXTLS_ERR_PARSE, where,
                "certificate block cannot be decoded (damaged base64 or not a certificate)%s%s",
                code ? ": " : "", code ? reason : "");
    }
    return x;
}

/* chain_parse - chain_parse_pem, stopping after max_certs certificates when
 * stop_at_max, else failing beyond MXTLS_MAX_CHAIN */
static STACK_OF(X509) *chain_parse(const char *buf, size_t len, const char *name,
                                   int stop_at_max, err_rec *e)
{
    char where[MXTLS_ERR_WHERE_MAX];
    if (!name)
        name = "chain";
    if (len > MXTLS_MAX_INPUT_FILE)
        return err_set(e, MXTLS_ERR_LIMIT, name, "input is larger than the limit of %u bytes",
                       MXTLS_MAX_INPUT_FILE),
               NULL;
    /* A UTF-8 byte order mark (Windows editors write one) is not part of
     * the text; OpenSSL's PEM reader skips it too. */
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    size_t skip = 0;
    while (skip < len && (buf[skip] == ' ' || buf[skip] == '\t' || buf[skip] == '\r' ||
                          buf[skip] == '\n'))
        skip++;
    if (skip == len)
        return err_set(e, MXTLS_ERR_PARSE, name, "empty file: expected PEM certificates"), NULL;
    if ((unsigned char)buf[skip] == 0x30 && !chain_contains(buf, len, "-----BEGIN"))
        return err_set(e, MXTLS_ERR_PARSE, name,
                       "binary (DER) data where PEM is expected; convert it with "
                       "\"openssl x509 -inform DER -in FILE\""),
               NULL;

    STACK_OF(X509) *chain = sk_X509_new_null();
    if (!chain)
        return err_set(e, MXTLS_ERR_NOMEM, name, "out of memory"), NULL;

    const char *end = buf + len;
    const char *p = buf;
    size_t line = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (chain_line_starts(p, le, "-----BEGIN ")) {
            size_t begin_line = line;
            int is_cert = chain_line_is(p, le, "-----BEGIN CERTIFICATE-----");
            const char *block = p;
            /* find the END line of this block */
            const char *q = nl ? nl + 1 : end;
            size_t l2 = line + 1;
            const char *block_end = NULL;
            while (q < end) {
                const char *nl2 = memchr(q, '\n', (size_t)(end - q));
                const char *le2 = nl2 ? nl2 : end;
                if (chain_line_starts(q, le2, "-----END ")) {
                    block_end = nl2 ? nl2 + 1 : end;
                    break;
                }
                if (chain_line_starts(q, le2, "-----BEGIN "))
                    break;
                q = nl2 ? nl2 + 1 : end;
                l2++;
            }
            snprintf(where, sizeof where, "%s:%zu", name, begin_line);
            if (!block_end) {
                err_set(e, MXTLS_ERR_PARSE, where,
                        "PEM block has no END line (truncated file?)");
                goto fail;
            }
            if (is_cert) {
                if (sk_X509_num(chain) >= MXTLS_MAX_CHAIN) {
                    err_set(e, MXTLS_ERR_LIMIT, where,
                            "more than %d certificates: a presented chain is not that long",
                            MXTLS_MAX_CHAIN);
                    goto fail;
                }
                X509 *x = chain_decode_block(block, (size_t)(block_end - block), e, where);
                if (!x)
                    goto fail;
                if (!sk_X509_push(chain, x)) {
                    X509_free(x);
                    err_set(e, MXTLS_ERR_NOMEM, where, "out of memory");
                    goto fail;
                }
                if (stop_at_max)
                    break;
            }
            p = block_end;
            line = l2 + 1;
            continue;
        }
        p = nl ? nl + 1 : end;
        line++;
    }
    if (sk_X509_num(chain) == 0) {
        err_set(e, MXTLS_ERR_PARSE, name,
                "no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")");
        goto fail;
    }
    return chain;
fail:
    chain_free(chain);
    return NULL;
}

STACK_OF(X509) *chain_parse_pem(const char *buf, size_t len, const char *name, err_rec *e)
{
    return chain_parse(buf, len, name, 0, e);
}

STACK_OF(X509) *chain_parse_pem_first(const char *buf, size_t len, const char *name, err_rec *e)
{
    return chain_parse(buf, len, name, 1, e);
}
