/* ctx.h - the library context: error record and trust configuration */
#ifndef MXTLS_CORE_CTX_H
#define MXTLS_CORE_CTX_H

#include <time.h>

#include <openssl/x509_vfy.h>

#include "core/base.h"

struct mxtls_ctx {
    err_rec err;
    char *ca_file;   /* NULL: OpenSSL default paths */
    char *ca_path;
    time_t at;       /* validation time; 0 = now */
    X509_STORE *store; /* trust store, loaded on first use and reused */
    mxtls_revocation_mode revocation; /* default soft (set by mxtls_ctx_new) */
};

#endif
