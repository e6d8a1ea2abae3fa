/* tlsparams.h - Postfix's TLS protocol and cipher settings as OpenSSL settings
 *
 * A Postfix TLS policy entry may restrict the handshake (protocols=,
 * ciphers=, exclude=). mxtls makes the handshake that entry makes, so these
 * settings are translated the way Postfix 3.7 translates them
 * (src/tls/tls_misc.c tls_proto_mask_lims(), tls_set_ciphers()). Pure. */
#ifndef MXTLS_CORE_TLSPARAMS_H
#define MXTLS_CORE_TLSPARAMS_H

#include <stddef.h>

#include "core/base.h"

/* Protocol bits, as Postfix's TLS_PROTOCOL_* */
enum {
    TLSP_SSLv2 = 1 << 0,
    TLSP_SSLv3 = 1 << 1,
    TLSP_TLSv1 = 1 << 2,
    TLSP_TLSv1_1 = 1 << 3,
    TLSP_TLSv1_2 = 1 << 4,
    TLSP_TLSv1_3 = 1 << 5,
    TLSP_ALL = (1 << 6) - 1
};

/* tlsparams_protocols - parse a Postfix protocol list ("!SSLv2, !SSLv3",
 * "TLSv1", ">=TLSv1.2", "<=TLSv1.1"; separators comma, blank or colon). A
 * bare name is an include list: every protocol not named is excluded.
 * *excluded receives the excluded protocols, *floor and *ceiling the
 * TLSP_* bit of a ">=" / "<=" bound (0: none). -1 with e set on a name
 * Postfix does not know (Postfix then refuses the TLS session). */
int tlsparams_protocols(const char *list, unsigned *excluded, unsigned *floor, unsigned *ceiling,
                        err_rec *e);

/* tlsparams_enabled - the protocols a client may offer under these limits */
unsigned tlsparams_enabled(unsigned excluded, unsigned floor, unsigned ceiling);

/* tlsparams_protocol_name - "TLSv1.2" for one TLSP_* bit */
const char *tlsparams_protocol_name(unsigned bit);

/* tlsparams_cipherlist - the OpenSSL cipher list (TLS 1.2 and older) of a
 * Postfix cipher grade (null, export, low, medium, high; NULL: medium) with
 * the exclude= tokens appended as ":!TOKEN", and eNULL (encrypt and up) and
 * aNULL (levels that authenticate the server) excluded as Postfix does.
 * Writes into out; -1 with e set on an unknown grade or a bad token. */
int tlsparams_cipherlist(const char *grade, const char *exclude, int tls_required,
                         int must_authenticate, char *out, size_t cap, err_rec *e);

#endif
