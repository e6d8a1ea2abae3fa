/* tlsparams.c - Postfix TLS protocol and cipher settings (tlsparams.h) */
#include "core/tlsparams.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} tlsp_names[] = {
    {"SSLv2", TLSP_SSLv2},     {"SSLv3", TLSP_SSLv3},     {"TLSv1", TLSP_TLSv1},
    {"TLSv1.1", TLSP_TLSv1_1}, {"TLSv1.2", TLSP_TLSv1_2}, {"TLSv1.3", TLSP_TLSv1_3},
};

/* The values of Postfix 3.7's tls_<grade>_cipherlist parameters (postconf -d). */
static const struct {
    const char *grade;
    const char *list;
} tlsp_grades[] = {
    {"high", "aNULL:-aNULL:HIGH:@STRENGTH"},
    {"medium", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"},
    {"low", "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH"},
    {"export", "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH"},
    {"null", "eNULL:!aNULL"},
};

#define TLSP_TOKEN_MAX 64

static unsigned tlsp_lookup(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof tlsp_names / sizeof tlsp_names[0]; i++)
        if (strlen(tlsp_names[i].name) == n && strncmp(tlsp_names[i].name, s, n) == 0)
            return tlsp_names[i].bit;
    return 0;
}

const char *tlsparams_protocol_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof tlsp_names / sizeof tlsp_names[0]; i++)
        if (tlsp_names[i].bit == bit)
            return tlsp_names[i].name;
    return "?";
}

static int tlsp_sep(char c) { return c == ',' || c == ' ' || c == '\t' || c == ':' || c == '\n'; }

int tlsparams_protocols(const char *list, unsigned *excluded, unsigned *floor, unsigned *ceiling,
                        err_rec *e)
{
    unsigned include = 0, exclude = 0;
    *floor = *ceiling = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p && tlsp_sep(*p))
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (*p && !tlsp_sep(*p))
            p++;
        size_t n = (size_t)(p - t);
        unsigned *bound = NULL, bit;
        int negate = 0;
        if (n > 2 && (!strncmp(t, ">=", 2) || !strncmp(t, "<=", 2))) {
            bound = t[0] == '>' ? floor : ceiling;
            t += 2;
            n -= 2;
        } else if (n > 1 && t[0] == '!') {
            negate = 1;
            t++;
            n--;
        }
        if (!(bit = tlsp_lookup(t, n))) {
            err_set(e, MXTLS_ERR_INVALID, "protocols",
                    "unknown TLS protocol \"%.*s\" (Postfix knows SSLv2, SSLv3, TLSv1, "
                    "TLSv1.1, TLSv1.2, TLSv1.3)",
                    (int)(n > TLSP_TOKEN_MAX ? TLSP_TOKEN_MAX : n), t);
            return -1;
        }
        if (bound)
            *bound = bit;
        else if (negate)
            exclude |= bit;
        else
            include |= bit;
    }
    /* Postfix: a non-empty include list also excludes everything it omits. */
    *excluded = include ? (exclude | (TLSP_ALL & ~include)) : exclude;
    return 0;
}

unsigned tlsparams_enabled(unsigned excluded, unsigned floor, unsigned ceiling)
{
    unsigned on = TLSP_ALL & ~excluded;
    for (unsigned bit = 1; bit <= TLSP_TLSv1_3; bit <<= 1)
        if ((floor && bit < floor) || (ceiling && bit > ceiling))
            on &= ~bit;
    return on;
}

int tlsparams_cipherlist(const char *grade, const char *exclude, int tls_required,
                         int must_authenticate, char *out, size_t cap, err_rec *e)
{
    const char *list = NULL;
    const char *g = grade ? grade : "medium";
    for (size_t i = 0; i < sizeof tlsp_grades / sizeof tlsp_grades[0]; i++)
        if (strcmp(tlsp_grades[i].grade, g) == 0)
            list = tlsp_grades[i].list;
    if (!list) {
        err_set(e, MXTLS_ERR_INVALID, "ciphers",
                "unknown cipher grade \"%.*s\" (Postfix knows high, medium, low, export, null)",
                TLSP_TOKEN_MAX, g);
        return -1;
    }
    size_t o = (size_t)snprintf(out, cap, "%s", list);
    const char *p = exclude ? exclude : "";
    while (*p && o < cap) {
        while (*p && tlsp_sep(*p))
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (*p && !tlsp_sep(*p))
            p++;
        size_t n = (size_t)(p - t);
        /* Postfix refuses tokens that already carry an operator. */
        if (strchr("!+-@", t[0]) || n > TLSP_TOKEN_MAX) {
            err_set(e, MXTLS_ERR_INVALID, "exclude",
                    "invalid exclude= token \"%.*s\" (a cipher or cipher class name, no "
                    "operator)",
                    (int)(n > TLSP_TOKEN_MAX ? TLSP_TOKEN_MAX : n), t);
            return -1;
        }
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, ":!%.*s", (int)n, t);
    }
    if (tls_required && o < cap)
        o += (size_t)snprintf(out + o, cap - o, ":!eNULL");
    if (must_authenticate && o < cap)
        o += (size_t)snprintf(out + o, cap - o, ":!aNULL");
    if (o >= cap) {
        err_set(e, MXTLS_ERR_INVALID, "ciphers", "the cipher list is too long");
        return -1;
    }
    return 0;
}
