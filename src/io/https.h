/* https.h - HTTP(S) fetches with libcurl's multi interface on the event loop
 *
 * Used for MTA-STS policies and for revocation (OCSP over HTTP POST, CRLs).
 * Every fetch is bounded in time and size; redirects are not followed unless
 * asked (MTA-STS forbids them, RFC 8461 §3.3). */
#ifndef MXTLS_IO_HTTPS_H
#define MXTLS_IO_HTTPS_H

#include <stddef.h>

#include "core/base.h"

struct event_base;

#define HTTPS_DEFAULT_TIMEOUT_MS 10000
#define HTTPS_DEFAULT_MAX_BODY (64u * 1024u)

typedef struct https_request {
    const char *url;
    const char *post_body;      /* NULL: GET */
    size_t post_len;
    const char *content_type;   /* for POST, e.g. "application/ocsp-request" */
    size_t max_body;            /* 0: HTTPS_DEFAULT_MAX_BODY; larger bodies fail */
    int timeout_ms;             /* 0: HTTPS_DEFAULT_TIMEOUT_MS */
    const char *ca_file;        /* trust for https:// (NULL: system store) */
    int follow_redirects;       /* 0 by default */
    const char *ca_path;        /* a hashed CA directory for https:// (NULL: none) */
    /* Trust for https:// already loaded (held by reference for the
     * transfer; ca_file and ca_path are then not read). libcurl may set
     * verification flags on it (X509_V_FLAG_PARTIAL_CHAIN, TRUSTED_FIRST),
     * so it must be a store for HTTPS fetches only, used by one thread. */
    struct x509_store_st *trust;
    /* "HOST:PORT:ADDR" (CURLOPT_RESOLVE): connect to ADDR for HOST:PORT
     * instead of resolving HOST; the name is still the one verified. NULL:
     * libcurl resolves. */
    const char *resolve;
    int want_certinfo;          /* fill https_response.cert (subject, issuer, dates) */
    /* Optional: called with arg instead of the callback when
     * https_client_free() drops this fetch in flight, so that whoever owns
     * arg can release it. Never called otherwise. */
    void (*cancelled)(void *arg);
} https_request;

typedef struct https_response {
    int ok;                     /* transfer completed (any HTTP status) */
    long status;                /* HTTP status */
    char *content_type;         /* NULL if none */
    unsigned char *body;        /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    char *cert;                 /* with want_certinfo: the server certificate as
                                   "subject; issuer; not before; not after", or NULL */
    char *primary_ip;           /* the address connected to, or NULL */
    char *error;                /* why the transfer failed: "timed out", TLS error, "body larger than N bytes" */
    int nomem;                  /* an allocation of ours failed: the response (or the
                                   failure) says nothing of the server */
} https_response;

/* https_response_free - free r and everything it holds (NULL is fine) */
void https_response_free(https_response *r);

typedef struct https_client https_client;
typedef void (*https_cb)(void *arg, https_response *r); /* callee owns r */

https_client *https_client_new(struct event_base *base, err_rec *e);
/* https_call_soon - run fn(arg) on the next turn of the loop, unless the
 * client is freed first (then cancelled(arg) if given, as for fetches).
 * Lets users of the client keep "callbacks only from the loop" for results
 * they know at once. 0, or -1 with the error in e. */
int https_call_soon(https_client *c, void (*fn)(void *arg), void (*cancelled)(void *arg),
                    void *arg, err_rec *e);
/* https_client_free - cancels transfers in flight (no callbacks) */
void https_client_free(https_client *c);
/* https_fetch - start a transfer; 0, or -1 with the error in e (no callback) */
int https_fetch(https_client *c, const https_request *req, https_cb cb, void *arg, err_rec *e);

#endif
