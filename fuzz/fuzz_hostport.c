/* fuzz_hostport - the parser of servers given as text (core/hostport.c):
 * HOST, HOST:PORT, [HOST]:PORT and addresses, from command lines and routes
 *
 * Input: one string (up to a NUL). Invariants: an accepted input gives a
 * port of 0..65535, an address that parses back to itself, or a name that
 * is its own normal form and parses back to the same result; a refusal
 * always says why; evidence_route_parse (built on it) agrees. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/evidence.h"
#include "core/hostport.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_hostport: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FUZZ_HOSTPORT_MAX 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_HOSTPORT_MAX)
        return 0;
    char s[FUZZ_HOSTPORT_MAX + 1];
    memcpy(s, data, size);
    s[size] = '\0';

    hostport hp;
    err_rec e;
    err_clear(&e);
    mxtls_status st = hostport_parse(s, &hp, &e);
    char route[MXTLS_MAX_NAME + 8];
    int is_ip = 0;
    unsigned port = 0;
    err_rec re;
    err_clear(&re);
    mxtls_status rst = evidence_route_parse(s, route, sizeof route, &is_ip, &port, &re);
    CHECK((st == MXTLS_OK) == (rst == MXTLS_OK));
    if (st != MXTLS_OK) {
        CHECK(e.code != MXTLS_OK && e.message[0]);
        return 0;
    }
    CHECK(hp.port <= 65535);
    CHECK(hp.host[0] && strlen(hp.host) <= MXTLS_MAX_NAME);
    CHECK(!strcmp(route, hp.host) && port == hp.port && is_ip == (hp.is_ip != 0));
    CHECK(hp.is_ip == 0 || evidence_is_ip(hp.host));
    /* The result is its own normal form: parsing it again changes nothing. */
    hostport again;
    err_clear(&e);
    CHECK(hostport_parse(hp.host, &again, &e) == MXTLS_OK);
    CHECK(!strcmp(again.host, hp.host) && again.port == 0 && again.is_ip == hp.is_ip);
    return 0;
}
