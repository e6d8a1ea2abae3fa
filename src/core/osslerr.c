/* osslerr.c - OpenSSL's allocation failures in its error queue */
#include "core/osslerr.h"

#include <openssl/err.h>

int osslerr_nomem(void)
{
    /* ERR_peek_error_all walks nothing: look at the oldest and the newest
     * entry, where OpenSSL's callers put the allocation failure they saw. */
    unsigned long e1 = ERR_peek_error(), e2 = ERR_peek_last_error();
    return (e1 && ERR_GET_REASON(e1) == ERR_R_MALLOC_FAILURE) ||
           (e2 && ERR_GET_REASON(e2) == ERR_R_MALLOC_FAILURE);
}
