/* tiny.c - a program built against an installed libmxtls (tests/install):
 * a server without STARTTLS passes level may and fails level encrypt */
#include <stdio.h>

#include <mxtls.h>

static const char *verdict(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level)
{
    mxtls_result *r = mxtls_evaluate(ctx, ev, level);
    if (!r) {
        fprintf(stderr, "tiny: %s\n", mxtls_ctx_error(ctx));
        return "error";
    }
    const char *v = mxtls_verdict_name(mxtls_result_verdict(r));
    mxtls_result_free(r);
    return v;
}

int main(void)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    if (!ctx || !ev || mxtls_evidence_set_domain(ctx, ev, "example.com") != MXTLS_OK)
        return 1;
    mxtls_evidence_set_no_tls(ev, 1);
    printf("mxtls %s: may %s, encrypt %s\n", mxtls_version(),
           verdict(ctx, ev, MXTLS_LEVEL_MAY), verdict(ctx, ev, MXTLS_LEVEL_ENCRYPT));
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return 0;
}
