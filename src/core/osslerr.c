/* osslerr.c - OpenSSL's allocation failures in its error queue */
#include "core/osslerr.h"

#include <openssl/err.h>

int osslerr_nomem(void)
{
    int nomem = 0;
    for (unsigned long e; (e = ERR_get_error()) != 0;)
        if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
            nomem = 1;
    return nomem;
}
