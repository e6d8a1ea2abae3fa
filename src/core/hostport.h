/* hostport.h - one parser for a server given as text: a host name or an
 * address, with or without a port
 *
 * Accepted (RFC 3986 authority and Postfix next-hop forms):
 *   host             mx.example.com
 *   host:port        mx.example.com:587
 *   [host]           [mx.example.com]            (Postfix: no MX lookup)
 *   [host]:port      [mx.example.com]:587
 *   IPv4 / IPv4:port 192.0.2.1, 192.0.2.1:25
 *   IPv6             2001:db8::1                 (bare: never with a port)
 *   [IPv6]:port      [2001:db8::1]:25, [IPv6:2001:db8::1]:25 (RFC 5321 §4.1.3)
 * Ports are decimal 1..65535. Names come back normalised (names_normalize:
 * lower case, no trailing dot, A-labels), addresses in canonical text.
 * Pure; untrusted input (command lines, policy maps) is fine. */
#ifndef MXTLS_CORE_HOSTPORT_H
#define MXTLS_CORE_HOSTPORT_H

#include "core/base.h"

typedef struct hostport {
    char host[MXTLS_MAX_NAME + 1]; /* normalised name or canonical address */
    unsigned port;                 /* 0: none given */
    int is_ip;                     /* 4 or 6 for an address, else 0 */
    int bracketed;                 /* written as "[...]" */
    int bad_name;                  /* on error: the form is right, the name is not */
} hostport;

/* hostport_parse - parse in into out; MXTLS_OK, or MXTLS_ERR_INVALID (or
 * MXTLS_ERR_NOMEM) with what is wrong in e (where "host") */
mxtls_status hostport_parse(const char *in, hostport *out, err_rec *e);

#endif
