/* chain.h - load a presented certificate chain from PEM text (untrusted input) */
#ifndef MXTLS_CORE_CHAIN_H
#define MXTLS_CORE_CHAIN_H

#include <openssl/x509.h>

#include "core/base.h"

/* chain_parse_pem - every CERTIFICATE block of buf, in order (leaf first)
 *
 * Other PEM blocks (private keys, parameters) are skipped: Postfix chain files
 * hold key and certificates together. Errors name `name:line`: empty input,
 * DER where PEM is expected, a BEGIN without END, undecodable base64/DER,
 * more than MXTLS_MAX_CHAIN certificates, input over MXTLS_MAX_INPUT_FILE,
 * no certificate at all. Returns a new stack (free with
 * sk_X509_pop_free(s, X509_free)) or NULL with the error in e. */
STACK_OF(X509) *chain_parse_pem(const char *buf, size_t len, const char *name, err_rec *e);

/* chain_parse_pem_first - the same, but reading stops after the first
 * CERTIFICATE block: what follows it (more certificates, whatever their
 * number) is not read. For commands that use only the first certificate. */
STACK_OF(X509) *chain_parse_pem_first(const char *buf, size_t len, const char *name, err_rec *e);

/* chain_free - free a stack from chain_parse_pem (NULL is fine) */
void chain_free(STACK_OF(X509) *chain);

#endif
