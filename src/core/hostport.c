/* hostport.c - a server given as text: host or address, optional port
 * (core/hostport.h) */
#include "core/hostport.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/names.h"

/* Longer input is no host: a name has at most MXTLS_MAX_NAME bytes, plus
 * brackets, "IPv6:" and ":65535". */
#define HOSTPORT_MAX_INPUT (MXTLS_MAX_NAME + 16)

static mxtls_status hostport_bad(err_rec *e, const char *in, const char *why)
{
    return err_set(e, MXTLS_ERR_INVALID, "host", "\"%.64s\" %s", in, why);
}

mxtls_status hostport_parse(const char *in, hostport *out, err_rec *e)
{
    memset(out, 0, sizeof *out);
    if (!in || !*in)
        return err_set(e, MXTLS_ERR_INVALID, "host", "empty host");
    size_t len = strlen(in);
    if (len > HOSTPORT_MAX_INPUT)
        return err_set(e, MXTLS_ERR_INVALID, "host", "host longer than %d bytes",
                       HOSTPORT_MAX_INPUT);
    char host[HOSTPORT_MAX_INPUT + 1];
    const char *port = NULL;
    if (in[0] == '[') {
        const char *close = strchr(in, ']');
        if (!close)
            return hostport_bad(e, in, "has no closing bracket");
        size_t n = (size_t)(close - in - 1);
        if (n == 0)
            return hostport_bad(e, in, "has nothing between the brackets");
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return hostport_bad(e, in, "has something other than :PORT after the bracket");
        memcpy(host, in + 1, n);
        host[n] = '\0';
        out->bracketed = 1;
        /* RFC 5321 §4.1.3: the SMTP address literal "[IPv6:...]" */
        if (strncasecmp(host, "IPv6:", 5) == 0 && strchr(host + 5, ':'))
            memmove(host, host + 5, n - 5 + 1);
    } else {
        const char *colon = strchr(in, ':');
        /* More than one colon: a bare IPv6 address, which cannot carry a port. */
        if (colon && !strchr(colon + 1, ':')) {
            port = colon + 1;
            len = (size_t)(colon - in);
        }
        if (len == 0)
            return hostport_bad(e, in, "has no host before the port");
        memcpy(host, in, len);
        host[len] = '\0';
    }
    if (port) {
        long p = decimal_parse(port, 1, 65535);
        if (p < 0)
            return hostport_bad(e, in, "has a port that is not a number from 1 to 65535");
        out->port = (unsigned)p;
    }
    unsigned char bin[16];
    int af = strchr(host, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, host, bin) == 1) {
        if (!inet_ntop(af, bin, out->host, sizeof out->host))
            return hostport_bad(e, in, "is not an address");
        out->is_ip = af == AF_INET6 ? 6 : 4;
        return MXTLS_OK;
    }
    if (af == AF_INET6)
        return hostport_bad(e, in, "is not an IPv6 address (a port goes after [ADDR])");
    err_rec ne;
    err_clear(&ne);
    char *n = names_normalize(host, 0, &ne);
    if (!n && ne.code == MXTLS_ERR_NOMEM)
        return err_set(e, MXTLS_ERR_NOMEM, "host", "out of memory");
    if (!n) {
        out->bad_name = 1;
        return err_set(e, MXTLS_ERR_INVALID, "host", "%s", ne.message);
    }
    size_t nl = strlen(n);
    if (nl >= sizeof out->host) {
        free(n);
        return hostport_bad(e, in, "is too long for a host name");
    }
    /* "192.0.2.1." normalises to an address: it is that address (a name
     * that looks like one would be read as one everywhere else). */
    if (inet_pton(AF_INET, n, bin) == 1) {
        free(n);
        if (!inet_ntop(AF_INET, bin, out->host, sizeof out->host))
            return hostport_bad(e, in, "is not an address");
        out->is_ip = 4;
        return MXTLS_OK;
    }
    memcpy(out->host, n, nl + 1);
    free(n);
    return MXTLS_OK;
}
