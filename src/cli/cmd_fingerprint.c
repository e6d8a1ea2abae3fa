/* cmd_fingerprint.c - mxtls fingerprint: digests in Postfix's format */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char fingerprint_help[] =
    "usage: mxtls fingerprint FILE [--digest sha256|sha1|md5] [--pubkey]\n"
    "\n"
    "Print the fingerprint of the first certificate in the PEM FILE ('-' = stdin),\n"
    "or of its public key with --pubkey, as upper-case hex pairs joined by colons:\n"
    "the format of Postfix's smtp_tls_fingerprint_cert_match, match= at level\n"
    "fingerprint, and relay_clientcerts. The default digest is sha256.\n"
    "\n"
    "exit: 0 printed, 2 usage or input error.\n";

int cmd_fingerprint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"digest", required_argument, NULL, 'd'},
        {"pubkey", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *digest = "sha256";
    int pubkey = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd': digest = optarg; break;
        case 'p': pubkey = 1; break;
        case 'h': fputs(fingerprint_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error("fingerprint", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("fingerprint", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("fingerprint", optind == argc ? "a certificate FILE is required"
                                                             : "exactly one FILE is expected");
    const char *file = argv[optind];
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem("fingerprint");
    size_t len = 0;
    int rc = EXIT_PASS;
    char *pem = mxtls_read_file(ctx, strcmp(file, "-") ? file : "/dev/stdin", MXTLS_MAX_INPUT_FILE, &len);
    char *fp = pem ? mxtls_fingerprint_pem(ctx, pem, len, file, digest, pubkey) : NULL;
    if (!fp)
        rc = cli_ctx_error("fingerprint", ctx);
    else
        printf("%s\n", fp);
    free(fp);
    free(pem);
    mxtls_ctx_free(ctx);
    return rc;
}
