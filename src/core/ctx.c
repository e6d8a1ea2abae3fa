/* ctx.c - library context, errors, whole-file reads */
#include "core/ctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

mxtls_ctx *mxtls_ctx_new(void)
{
    mxtls_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->revocation = MXTLS_REVOCATION_REPORT;
    return ctx;
}

void mxtls_ctx_free(mxtls_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->ca_file);
    free(ctx->ca_path);
    X509_STORE_free(ctx->store);
    free(ctx);
}

const char *mxtls_ctx_error(const mxtls_ctx *ctx)
{
    return ctx ? ctx->err.message : "no context";
}

const char *mxtls_ctx_error_where(const mxtls_ctx *ctx)
{
    return ctx ? ctx->err.where : "";
}

mxtls_status mxtls_ctx_error_code(const mxtls_ctx *ctx)
{
    return ctx ? ctx->err.code : MXTLS_ERR_INVALID;
}

static mxtls_status ctx_set_path(mxtls_ctx *ctx, char **slot, const char *path, int want_dir)
{
    struct stat st;
    if (!path || !*path)
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "trust store", "empty path");
    if (stat(path, &st) != 0)
        return err_set(&ctx->err, err_code_errno(errno), path, "cannot use trust store: %s",
                       strerror(errno));
    if (want_dir != !!S_ISDIR(st.st_mode))
        return err_set(&ctx->err, MXTLS_ERR_INVALID, path, "trust store is %s",
                       want_dir ? "not a directory" : "a directory, not a file");
    char *copy = strdup(path);
    if (!copy)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "trust store", "out of memory");
    free(*slot);
    *slot = copy;
    X509_STORE_free(ctx->store); /* reload with the new configuration */
    ctx->store = NULL;
    return MXTLS_OK;
}

mxtls_status mxtls_ctx_set_ca_file(mxtls_ctx *ctx, const char *path)
{
    return ctx_set_path(ctx, &ctx->ca_file, path, 0);
}

mxtls_status mxtls_ctx_set_ca_path(mxtls_ctx *ctx, const char *dir)
{
    return ctx_set_path(ctx, &ctx->ca_path, dir, 1);
}

void mxtls_ctx_set_time(mxtls_ctx *ctx, time_t when)
{
    ctx->at = when;
}

void mxtls_ctx_set_revocation(mxtls_ctx *ctx, mxtls_revocation_mode mode)
{
    ctx->revocation = mode;
}

static const char *const revocation_mode_names[] = {"off", "soft", "hard", "report"};
static const char *const revocation_status_names[] = {"not-checked", "good", "revoked",
                                                      "unknown", "unavailable"};

int mxtls_revocation_mode_from_name(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, revocation_mode_names[i]) == 0)
            return i;
    return -1;
}

const char *mxtls_revocation_mode_name(mxtls_revocation_mode mode)
{
    return (unsigned)mode < 4 ? revocation_mode_names[mode] : "unknown";
}

int mxtls_revocation_status_from_name(const char *name)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, revocation_status_names[i]) == 0)
            return i;
    return -1;
}

const char *mxtls_revocation_status_name(mxtls_revocation_status s)
{
    return (unsigned)s < 5 ? revocation_status_names[s] : "unknown";
}

char *mxtls_read_file(mxtls_ctx *ctx, const char *path, size_t max, size_t *len)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(&ctx->err, err_code_errno(errno), path, "cannot open: %s", err_errno_text(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        err_set(&ctx->err, MXTLS_ERR_IO, path, "is a directory, not a file");
        return NULL;
    }
    /* Read up to max+1 bytes: works for pipes and /dev/stdin, where st_size lies. */
    char *buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        err_set(&ctx->err, MXTLS_ERR_NOMEM, path, "out of memory");
        return NULL;
    }
    size_t n = fread(buf, 1, max + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_set(&ctx->err, MXTLS_ERR_IO, path, "read error");
        return NULL;
    }
    if (n > max) {
        free(buf);
        err_set(&ctx->err, MXTLS_ERR_LIMIT, path, "file is larger than the limit of %zu bytes",
                max);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

const char *mxtls_version(void)
{
    return MXTLS_VERSION;
}
