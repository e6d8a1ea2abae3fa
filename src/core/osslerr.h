/* osslerr.h - telling OpenSSL's out-of-memory failures from real ones
 *
 * OpenSSL reports a failed allocation like any other failure (NULL, 0 or
 * -1) and leaves ERR_R_MALLOC_FAILURE in the thread's error queue. A caller
 * that turns an OpenSSL failure into a verdict ("not a certificate", "no
 * match") must ask first, so that out of memory ends in MXTLS_ERR_NOMEM and
 * never in a wrong verdict. */
#ifndef MXTLS_CORE_OSSLERR_H
#define MXTLS_CORE_OSSLERR_H

/* osslerr_nomem - 1 when the thread's error queue holds an allocation
 * failure, else 0; empties the queue (read what else you need from it
 * first). Clear the queue before the OpenSSL call you ask about. */
int osslerr_nomem(void);

#endif
