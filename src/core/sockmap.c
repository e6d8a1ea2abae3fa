/* sockmap.c - socketmap requests and replies, and the MTA-STS/DANE to
 * Postfix policy translation (core/sockmap.h) */
#include "core/sockmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/evidence.h"
#include "core/names.h"

sockmap_parse_result sockmap_parse(const char *buf, size_t len, size_t max, sockmap_request *rq)
{
    memset(rq, 0, sizeof *rq);
    size_t i = 0, n = 0;
    /* LEN: digits, no leading zero (except "0"), then ':' */
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
        if (i == 1 && buf[0] == '0') {
            rq->error = "netstring length with a leading zero";
            rq->error_at = 0;
            return SOCKMAP_PARSE_BAD;
        }
        n = n * 10 + (size_t)(buf[i] - '0');
        i++;
        if (n > max) {
            rq->error = "request longer than the limit";
            rq->error_at = 0;
            return SOCKMAP_PARSE_BAD;
        }
    }
    if (i == len)
        return SOCKMAP_PARSE_MORE;
    if (i == 0 || buf[i] != ':') {
        rq->error = i == 0 ? "a netstring begins with its length" : "netstring length not "
                                                                     "followed by ':'";
        rq->error_at = i;
        return SOCKMAP_PARSE_BAD;
    }
    i++;
    if (len - i < n + 1)
        return SOCKMAP_PARSE_MORE;
    const char *p = buf + i;
    if (p[n] != ',') {
        rq->error = "netstring not terminated by ','";
        rq->error_at = i + n;
        return SOCKMAP_PARSE_BAD;
    }
    if (memchr(p, '\0', n)) {
        rq->error = "NUL byte in the request";
        rq->error_at = i + (size_t)((const char *)memchr(p, '\0', n) - p);
        return SOCKMAP_PARSE_BAD;
    }
    const char *sp = memchr(p, ' ', n);
    if (!sp || sp == p) {
        rq->error = sp ? "empty map name" : "no space between map name and key";
        rq->error_at = i;
        return SOCKMAP_PARSE_BAD;
    }
    if ((size_t)(sp - p) > SOCKMAP_MAX_NAME) {
        rq->error = "map name too long";
        rq->error_at = i;
        return SOCKMAP_PARSE_BAD;
    }
    rq->name = p;
    rq->name_len = (size_t)(sp - p);
    rq->key = sp + 1;
    rq->key_len = n - rq->name_len - 1;
    rq->consumed = i + n + 1;
    return SOCKMAP_PARSE_OK;
}

const char *sockmap_kind_name(sockmap_kind k)
{
    switch (k) {
    case SOCKMAP_OK: return "OK";
    case SOCKMAP_NOTFOUND: return "NOTFOUND";
    case SOCKMAP_TEMP: return "TEMP";
    case SOCKMAP_PERM: return "PERM";
    }
    return "TEMP";
}

size_t sockmap_reply_format(sockmap_kind kind, const char *text, char *out, size_t cap)
{
    const char *k = sockmap_kind_name(kind);
    if (kind == SOCKMAP_NOTFOUND || !text)
        text = "";
    size_t kl = strlen(k), tl = strlen(text), pl = kl + 1 + tl;
    char head[24];
    int hl = snprintf(head, sizeof head, "%zu:", pl);
    if (hl < 0 || (size_t)hl + pl + 2 > cap)
        return 0;
    memcpy(out, head, (size_t)hl);
    memcpy(out + hl, k, kl);
    out[hl + kl] = ' ';
    char *t = out + hl + kl + 1;
    for (size_t i = 0; i < tl; i++) {
        unsigned char c = (unsigned char)text[i];
        t[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    t[tl] = ',';
    t[tl + 1] = '\0';
    return (size_t)hl + pl + 1;
}

int sockmap_key_domain(const char *key, size_t len, char *out, size_t cap)
{
    char tmp[MXTLS_MAX_NAME + 2];
    if (len == 0 || len > MXTLS_MAX_NAME + 1 || memchr(key, '\0', len))
        return -1;
    memcpy(tmp, key, len);
    tmp[len] = '\0';
    /* "[host]", "[host]:port", "host:port", "inet:..." are next hops without
     * an MX lookup or with a port: not a recipient domain of RFC 8461. */
    if (strpbrk(tmp, "[]:/ \t") || evidence_is_ip(tmp))
        return -1;
    char *n = names_normalize(tmp, 0, NULL);
    if (!n)
        return -1;
    int rc = -1;
    if (strlen(n) < cap && !evidence_is_ip(n) && strchr(n, '.')) {
        memcpy(out, n, strlen(n) + 1);
        rc = 0;
    }
    free(n);
    return rc;
}

/* sockmap_append - append s at *pos of buf; -1 when it does not fit */
static int sockmap_append(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n + 1 > cap)
        return -1;
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
    return 0;
}

void sockmap_translate(const sockmap_facts *f, sockmap_answer *a)
{
    memset(a, 0, sizeof *a);
    a->kind = SOCKMAP_NOTFOUND;
    const char *src = f->source ? f->source : "fetched";
    if (!f->has_policy || f->mode == MTASTS_MODE_UNSET) {
        snprintf(a->why, sizeof a->why, "no MTA-STS policy");
        return;
    }
    if (f->mode == MTASTS_MODE_NONE || f->mode == MTASTS_MODE_TESTING) {
        snprintf(a->why, sizeof a->why, "MTA-STS policy (%s) in mode %s: Postfix's own level "
                 "applies", src, mtasts_mode_name(f->mode));
        return;
    }
    /* enforce */
    if (f->mx == SOCKMAP_MX_FAILED) {
        a->kind = SOCKMAP_TEMP;
        snprintf(a->text, sizeof a->text, "4.4.3 MX lookup of %s failed (%.200s): the MTA-STS "
                 "policy (mode enforce) needs the MX hosts", f->domain,
                 f->mx_why ? f->mx_why : "no answer");
        snprintf(a->why, sizeof a->why, "MTA-STS enforce (%s), MX lookup failed", src);
        return;
    }
    if (f->mx == SOCKMAP_MX_NONE || f->nhosts == 0) {
        snprintf(a->why, sizeof a->why, "MTA-STS enforce (%s), but no MX host to deliver to",
                 src);
        return;
    }
    size_t n = f->nhosts < SOCKMAP_MAX_HOSTS ? f->nhosts : SOCKMAP_MAX_HOSTS;
    /* hosts not looked at are never allowed: only a listed match= then */
    size_t unseen = f->hosts_dropped + (f->nhosts - n);
    size_t ndane = 0, ncovered = 0, nuse = 0;
    int use[SOCKMAP_MAX_HOSTS];
    for (size_t i = 0; i < n; i++) {
        int covered = f->patterns && mtasts_mx_match(f->patterns, f->hosts[i].name, NULL);
        ndane += f->hosts[i].dane != 0;
        ncovered += covered != 0;
        use[i] = covered || f->hosts[i].dane;
        nuse += use[i] != 0;
    }
    if (ndane == n && unseen == 0) {
        a->kind = SOCKMAP_OK;
        snprintf(a->text, sizeof a->text, "dane");
        snprintf(a->why, sizeof a->why, "MTA-STS enforce (%s), DANE in charge of every MX "
                 "host (RFC 8461 §2)", src);
        return;
    }
    if (nuse == 0) {
        a->kind = SOCKMAP_TEMP;
        size_t pos = 0;
        pos = (size_t)snprintf(a->text, sizeof a->text,
                               "4.7.5 MTA-STS policy of %s (mode enforce) covers none of its MX "
                               "hosts:", f->domain);
        for (size_t i = 0; i < n && pos < sizeof a->text; i++)
            if (sockmap_append(a->text, sizeof a->text, &pos, i ? ", " : " ") ||
                sockmap_append(a->text, sizeof a->text, &pos, f->hosts[i].name))
                break;
        snprintf(a->why, sizeof a->why, "MTA-STS enforce (%s), no MX host covered", src);
        return;
    }
    a->kind = SOCKMAP_OK;
    if (ncovered == n && ndane == 0 && unseen == 0) {
        snprintf(a->text, sizeof a->text, "secure match=hostname servername=hostname");
        snprintf(a->why, sizeof a->why, "MTA-STS enforce (%s), every MX host covered", src);
        return;
    }
    size_t pos = 0;
    int bad = sockmap_append(a->text, sizeof a->text, &pos, "secure match=");
    for (size_t i = 0, k = 0; i < n && !bad; i++) {
        if (!use[i])
            continue;
        bad = (k++ && sockmap_append(a->text, sizeof a->text, &pos, ":")) ||
              sockmap_append(a->text, sizeof a->text, &pos, f->hosts[i].name);
    }
    if (bad || sockmap_append(a->text, sizeof a->text, &pos, " servername=hostname")) {
        /* cannot happen within SOCKMAP_MAX_HOSTS names; fail closed */
        a->kind = SOCKMAP_TEMP;
        snprintf(a->text, sizeof a->text, "4.3.0 policy answer too long");
    }
    snprintf(a->why, sizeof a->why, "MTA-STS enforce (%s), %zu of %zu MX hosts allowed (%zu "
             "covered, %zu under DANE)", src, nuse, n, ncovered, ndane);
}
