/* revshare.c - revocation results shared by the checks of one engine (revshare.h) */
#include "engine/revshare.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "io/https.h"

#define REVSHARE_BUCKETS 4096

typedef struct rv_entry {
    revshare *rs;
    unsigned char key[32];           /* SHA-256 of the chain's DER, the staple, the time */
    struct rv_entry *bnext;          /* bucket chain */
    struct rv_entry *prev, *next;    /* every entry, oldest first */
    int done;                        /* result kept */
    revocation_result res;
    revshare_wait *waiters;
} rv_entry;

struct revshare_wait {
    rv_entry *e;                     /* NULL once the result is on its way */
    revocation_cb cb;
    void *arg;
    struct event *ev;
    revocation_result res;           /* the waiter's own copy, until delivered */
    struct revshare_wait *prev, *next;
};

struct revshare {
    struct event_base *base;
    https_client *https;             /* made on first use */
    rv_entry *buckets[REVSHARE_BUCKETS];
    rv_entry *head, *tail;
    size_t nkept;
    unsigned long fetches, reused;
};

revshare *revshare_new(struct event_base *base)
{
    revshare *rs = calloc(1, sizeof *rs);
    if (rs)
        rs->base = base;
    return rs;
}

static void rv_waiter_free(revshare_wait *w)
{
    if (w->ev)
        event_free(w->ev);
    revocation_result_free(&w->res);
    free(w);
}

static void rv_entry_free(rv_entry *e)
{
    revshare *rs = e->rs;
    rv_entry **pp = &rs->buckets[(e->key[0] | e->key[1] << 8) % REVSHARE_BUCKETS];
    while (*pp && *pp != e)
        pp = &(*pp)->bnext;
    if (*pp)
        *pp = e->bnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        rs->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        rs->tail = e->prev;
    if (e->done)
        rs->nkept--;
    while (e->waiters) {
        revshare_wait *w = e->waiters;
        e->waiters = w->next;
        rv_waiter_free(w);
    }
    revocation_result_free(&e->res);
    free(e);
}

void revshare_free(revshare *rs)
{
    if (!rs)
        return;
    https_client_free(rs->https); /* its fetches end without callbacks */
    while (rs->head)
        rv_entry_free(rs->head);
    free(rs);
}

/* rv_key - what decides the answer: every certificate, the staple, the time */
static int rv_key(STACK_OF(X509) *chain, const unsigned char *staple, size_t staple_len,
                  time_t at, unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (int i = 0; ok && i < sk_X509_num(chain); i++) {
        unsigned char *der = NULL;
        int n = i2d_X509(sk_X509_value(chain, i), &der);
        unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                (unsigned char)(n >> 8), (unsigned char)n};
        ok = n > 0 && EVP_DigestUpdate(md, len, 4) && EVP_DigestUpdate(md, der, (size_t)n);
        OPENSSL_free(der);
    }
    long long t = (long long)at;
    unsigned char sep[1] = {0xff};
    ok = ok && EVP_DigestUpdate(md, sep, 1) && EVP_DigestUpdate(md, &t, sizeof t) &&
         (!staple || EVP_DigestUpdate(md, staple, staple_len)) &&
         EVP_DigestFinal_ex(md, out, NULL);
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static void rv_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
    revshare_wait *w = arg;
    (void)fd;
    (void)what;
    revocation_cb cb = w->cb;
    void *cbarg = w->arg;
    revocation_result r = w->res;
    memset(&w->res, 0, sizeof w->res);
    rv_waiter_free(w);
    cb(cbarg, &r);
    revocation_result_free(&r); /* whatever the callee left */
}

/* rv_copy - dst = src with its own detail (NULL when out of memory) */
static void rv_copy(revocation_result *dst, const revocation_result *src)
{
    *dst = *src;
    dst->detail = src->detail ? strdup(src->detail) : NULL;
    if (src->detail && !dst->detail)
        dst->nomem = 1;
}

/* rv_done - the fetch's answer: every waiter gets a copy; kept unless it is
 * no answer at all */
static void rv_done(void *arg, revocation_result *r)
{
    rv_entry *e = arg;
    revshare *rs = e->rs;
    while (e->waiters) {
        revshare_wait *w = e->waiters;
        e->waiters = w->next;
        w->prev = w->next = NULL;
        w->e = NULL;
        rv_copy(&w->res, r);
        event_active(w->ev, 0, 0);
    }
    if (r->status == MXTLS_REVOCATION_UNAVAILABLE) {
        rv_entry_free(e);
        return;
    }
    e->res = *r;
    r->detail = NULL; /* taken */
    e->done = 1;
    if (++rs->nkept > REVSHARE_MAX_ENTRIES) {
        rv_entry *old = rs->head;
        while (old && !old->done)
            old = old->next;
        if (old)
            rv_entry_free(old);
    }
}

static void rv_attach(rv_entry *e, revshare_wait *w)
{
    w->e = e;
    w->prev = NULL;
    w->next = e->waiters;
    if (e->waiters)
        e->waiters->prev = w;
    e->waiters = w;
}

revshare_wait *revshare_get(revshare *rs, STACK_OF(X509) *chain, X509_STORE *store,
                            const unsigned char *staple, size_t staple_len, time_t at,
                            int timeout_ms, revocation_cb cb, void *arg, err_rec *e)
{
    unsigned char key[32];
    revshare_wait *w = calloc(1, sizeof *w);
    if (!w || rv_key(chain, staple, staple_len, at, key) != 0 ||
        !(w->ev = event_new(rs->base, -1, 0, rv_deliver_cb, w))) {
        free(w);
        err_set(e, MXTLS_ERR_NOMEM, "revocation", "out of memory");
        return NULL;
    }
    w->cb = cb;
    w->arg = arg;
    size_t h = (size_t)(key[0] | key[1] << 8) % REVSHARE_BUCKETS;
    for (rv_entry *x = rs->buckets[h]; x; x = x->bnext)
        if (!memcmp(x->key, key, sizeof key)) {
            rs->reused++;
            if (x->done) {
                rv_copy(&w->res, &x->res);
                event_active(w->ev, 0, 0);
            } else {
                rv_attach(x, w);
            }
            return w;
        }
    rv_entry *en = calloc(1, sizeof *en);
    if (!en || (!rs->https && !(rs->https = https_client_new(rs->base, e)))) {
        free(en);
        rv_waiter_free(w);
        if (!e->code)
            err_set(e, MXTLS_ERR_NOMEM, "revocation", "out of memory");
        return NULL;
    }
    en->rs = rs;
    memcpy(en->key, key, sizeof key);
    if (revocation_check(rs->https, chain, store, staple, staple_len, at, timeout_ms, rv_done, en,
                         e) != 0) {
        free(en);
        rv_waiter_free(w);
        return NULL;
    }
    rs->fetches++;
    en->bnext = rs->buckets[h];
    rs->buckets[h] = en;
    en->prev = rs->tail;
    if (rs->tail)
        rs->tail->next = en;
    else
        rs->head = en;
    rs->tail = en;
    rv_attach(en, w);
    return w;
}

void revshare_cancel(revshare_wait *w)
{
    if (!w)
        return;
    if (w->e) {
        if (w->prev)
            w->prev->next = w->next;
        else
            w->e->waiters = w->next;
        if (w->next)
            w->next->prev = w->prev;
    }
    rv_waiter_free(w);
}

void revshare_stats(const revshare *rs, unsigned long *fetches, unsigned long *reused)
{
    *fetches = rs ? rs->fetches : 0;
    *reused = rs ? rs->reused : 0;
}
