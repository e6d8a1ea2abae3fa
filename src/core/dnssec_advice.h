/* dnssec_advice.h - what a zone's operator should do about a DNSSEC
 * validation failure, from the validator's own words */
#ifndef MXTLS_CORE_DNSSEC_ADVICE_H
#define MXTLS_CORE_DNSSEC_ADVICE_H

/* dnssec_advice - the advice for libunbound's why_bogus text ("validation
 * failure <NAME TYPE CLASS>: REASON from ADDR for key NAME ..."), or NULL when
 * the reason is none mxtls knows. Pure: the names in the text (query name,
 * key and signer names) do not take part, only unbound's own words. */
const char *dnssec_advice(const char *why);

#endif
