/* chainmemo.c - what is computed from a certificate chain once, kept on its leaf */
#include "core/chainmemo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/fingerprint.h"
#include "core/names.h"

#define MEMO_PKIX 4    /* validations kept per chain (stores and windows) */
#define MEMO_DIGESTS 4 /* leaf fingerprint digests kept per chain */

typedef struct memo_pkix {
    X509_STORE *store; /* a reference: the address is never another store's */
    time_t lo, hi;
    pkix_result r;
} memo_pkix;

typedef struct memo_fp {
    char *digest, *cert, *pubkey;
} memo_fp;

typedef struct chain_memo {
    int n; /* certificates in the chain; their SHA-1 (X509's own cached hash) */
    unsigned char id[MXTLS_MAX_CHAIN][SHA_DIGEST_LENGTH];
    memo_pkix *pkix[MEMO_PKIX];
    size_t pkix_next; /* the slot replaced when all are taken */
    int texts;        /* certs and presented are filled */
    chain_cert *certs;
    presented_ids presented;
    memo_fp fp[MEMO_DIGESTS];
} chain_memo;

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static int memo_index = -1; /* -1: no ex_data index, nothing is remembered */
static unsigned long memo_pkix_hits;

/* memo_drop_texts - forget the chain's texts (whole or half made) */
static void memo_drop_texts(chain_memo *m)
{
    for (int i = 0; m->certs && i < m->n; i++)
        chain_cert_clear(&m->certs[i]);
    free(m->certs);
    m->certs = NULL;
    presented_ids_free(&m->presented);
    memset(&m->presented, 0, sizeof m->presented);
    m->texts = 0;
}

static void memo_clear(chain_memo *m)
{
    for (size_t i = 0; i < MEMO_PKIX; i++) {
        if (m->pkix[i])
            X509_STORE_free(m->pkix[i]->store);
        free(m->pkix[i]);
    }
    memo_drop_texts(m);
    for (size_t i = 0; i < MEMO_DIGESTS; i++) {
        free(m->fp[i].digest);
        free(m->fp[i].cert);
        free(m->fp[i].pubkey);
    }
    memset(m, 0, sizeof *m);
}

static void memo_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (ptr) {
        memo_clear(ptr);
        free(ptr);
    }
}

static void memo_init(void)
{
    memo_index = X509_get_ex_new_index(0, NULL, NULL, NULL, memo_free_cb);
}

/* memo_ids - the chain's identity; 0 when it has none we can keep */
static int memo_ids(STACK_OF(X509) *chain, unsigned char id[][SHA_DIGEST_LENGTH], int *n)
{
    int k = chain ? sk_X509_num(chain) : 0;
    if (k <= 0 || k > MXTLS_MAX_CHAIN)
        return 0;
    for (int i = 0; i < k; i++) {
        unsigned int len = 0;
        if (!X509_digest(sk_X509_value(chain, i), EVP_sha1(), id[i], &len) ||
            len != SHA_DIGEST_LENGTH)
            return 0;
    }
    *n = k;
    return 1;
}

/* memo_find - the leaf's memo for this very chain (lock held); with
 * `create`, a new or reset one; NULL when there is none and none could be
 * made */
static chain_memo *memo_find(STACK_OF(X509) *chain, int create)
{
    pthread_once(&memo_once, memo_init);
    unsigned char id[MXTLS_MAX_CHAIN][SHA_DIGEST_LENGTH];
    int n = 0;
    if (memo_index < 0 || !memo_ids(chain, id, &n))
        return NULL;
    X509 *leaf = sk_X509_value(chain, 0);
    chain_memo *m = X509_get_ex_data(leaf, memo_index);
    if (m && m->n == n && memcmp(m->id, id, (size_t)n * SHA_DIGEST_LENGTH) == 0)
        return m;
    if (!create)
        return NULL;
    if (m) {
        memo_clear(m); /* the same leaf in another chain: the new chain wins */
    } else {
        if (!(m = calloc(1, sizeof *m)))
            return NULL;
        if (!X509_set_ex_data(leaf, memo_index, m)) {
            free(m);
            return NULL;
        }
    }
    m->n = n;
    memcpy(m->id, id, (size_t)n * SHA_DIGEST_LENGTH);
    return m;
}

int chainmemo_pkix_get(STACK_OF(X509) *chain, X509_STORE *store, time_t t, pkix_result *out)
{
    int hit = 0;
    pthread_mutex_lock(&memo_lock);
    chain_memo *m = memo_find(chain, 0);
    for (size_t i = 0; m && !hit && i < MEMO_PKIX; i++) {
        const memo_pkix *p = m->pkix[i];
        if (p && p->store == store && p->lo <= t && t < p->hi) {
            *out = p->r;
            hit = 1;
            memo_pkix_hits++;
        }
    }
    pthread_mutex_unlock(&memo_lock);
    return hit;
}

unsigned long chainmemo_pkix_hits(void)
{
    pthread_mutex_lock(&memo_lock);
    unsigned long n = memo_pkix_hits;
    pthread_mutex_unlock(&memo_lock);
    return n;
}

void chainmemo_pkix_put(STACK_OF(X509) *chain, X509_STORE *store, time_t lo, time_t hi,
                        const pkix_result *r)
{
    memo_pkix *p = malloc(sizeof *p);
    if (!p)
        return;
    if (!X509_STORE_up_ref(store)) {
        free(p);
        return;
    }
    p->store = store;
    p->lo = lo;
    p->hi = hi;
    p->r = *r;
    pthread_mutex_lock(&memo_lock);
    chain_memo *m = memo_find(chain, 1);
    if (m) {
        size_t slot = MEMO_PKIX;
        for (size_t i = 0; i < MEMO_PKIX && slot == MEMO_PKIX; i++)
            if (!m->pkix[i])
                slot = i;
        if (slot == MEMO_PKIX) {
            slot = m->pkix_next++ % MEMO_PKIX;
            X509_STORE_free(m->pkix[slot]->store);
            free(m->pkix[slot]);
        }
        m->pkix[slot] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&memo_lock);
    if (p) {
        X509_STORE_free(p->store);
        free(p);
    }
}

/* memo_texts - compute the chain's texts into m (lock held) */
static mxtls_status memo_texts(chain_memo *m, STACK_OF(X509) *chain)
{
    if (m->texts)
        return MXTLS_OK;
    int n = sk_X509_num(chain);
    if (names_presented(sk_X509_value(chain, 0), &m->presented) != MXTLS_OK)
        return MXTLS_ERR_NOMEM;
    if (!(m->certs = calloc((size_t)n, sizeof *m->certs)))
        return MXTLS_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        if (chain_cert_fill(&m->certs[i], sk_X509_value(chain, i)) != MXTLS_OK)
            return MXTLS_ERR_NOMEM;
    m->texts = 1;
    return MXTLS_OK;
}

/* memo_fingerprints - the leaf's fingerprints in `digest` (lock held) */
static const memo_fp *memo_fingerprints(chain_memo *m, STACK_OF(X509) *chain,
                                        const char *digest)
{
    size_t i = 0;
    for (; i < MEMO_DIGESTS && m->fp[i].digest; i++)
        if (strcmp(m->fp[i].digest, digest) == 0)
            return &m->fp[i];
    if (i == MEMO_DIGESTS)
        return NULL; /* a fifth digest is computed for the report alone */
    memo_fp f = {strdup(digest), fp_digest_cert(sk_X509_value(chain, 0), digest, 0),
                 fp_digest_cert(sk_X509_value(chain, 0), digest, 1)};
    if (!f.digest || !f.cert || !f.pubkey) {
        free(f.digest);
        free(f.cert);
        free(f.pubkey);
        return NULL;
    }
    m->fp[i] = f;
    return &m->fp[i];
}

static char *dup_or_flag(const char *s, int *nomem)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *nomem = 1;
    return d;
}

mxtls_status chainmemo_report(STACK_OF(X509) *chain, const char *digest, mxtls_result *r)
{
    pthread_mutex_lock(&memo_lock);
    chain_memo *kept = memo_find(chain, 1);
    chain_memo local = {0}; /* the texts of a chain no memo could hold */
    chain_memo *m = kept ? kept : &local;
    if (!kept)
        local.n = sk_X509_num(chain);
    int nomem = memo_texts(m, chain) != MXTLS_OK;
    if (!nomem) {
        nomem |= strlist_copy(&r->presented.dns, &m->presented.dns) != MXTLS_OK;
        nomem |= strlist_copy(&r->presented.ip, &m->presented.ip) != MXTLS_OK;
        nomem |= strlist_copy(&r->presented.cn, &m->presented.cn) != MXTLS_OK;
    }
    if (!nomem && (r->chain = calloc((size_t)m->n, sizeof *r->chain)) != NULL) {
        r->nchain = (size_t)m->n;
        for (int i = 0; i < m->n; i++) {
            const chain_cert *c = &m->certs[i];
            r->chain[i].subject = dup_or_flag(c->subject, &nomem);
            r->chain[i].issuer = dup_or_flag(c->issuer, &nomem);
            r->chain[i].not_before = dup_or_flag(c->not_before, &nomem);
            r->chain[i].not_after = dup_or_flag(c->not_after, &nomem);
            r->chain[i].sha256 = dup_or_flag(c->sha256, &nomem);
        }
    } else {
        nomem = 1;
    }
    if (!nomem) {
        const memo_fp *f = memo_fingerprints(m, chain, digest);
        if (f) {
            r->fp_digest = dup_or_flag(f->digest, &nomem);
            r->fp_cert = dup_or_flag(f->cert, &nomem);
            r->fp_pubkey = dup_or_flag(f->pubkey, &nomem);
        } else {
            X509 *leaf = sk_X509_value(chain, 0);
            r->fp_digest = strdup(digest);
            r->fp_cert = fp_digest_cert(leaf, digest, 0);
            r->fp_pubkey = fp_digest_cert(leaf, digest, 1);
            nomem = !r->fp_digest || !r->fp_cert || !r->fp_pubkey;
        }
    }
    /* Texts half made (memory ran short) are not kept for the next report. */
    if (kept && !kept->texts)
        memo_drop_texts(kept);
    pthread_mutex_unlock(&memo_lock);
    if (!kept)
        memo_clear(&local);
    return nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;
}
