/* osslerr.h - telling OpenSSL's out-of-memory failures from real ones
 *
 * OpenSSL reports a failed allocation like any other failure (NULL, 0 or
 * -1) and leaves ERR_R_MALLOC_FAILURE in the thread's error queue. A caller
 * that turns an OpenSSL failure into a verdict ("not a certificate", "no
 * match") must ask first, so that out of memory ends in MXTLS_ERR_NOMEM and
 * never in a wrong verdict. */
#ifndef MXTLS_CORE_OSSLERR_H
#define MXTLS_CORE_OSSLERR_H

/* osslerr_nomem - 1 when the error queue holds an allocation failure; the
 * queue is left as it is */
int osslerr_nomem(void);

#endif
