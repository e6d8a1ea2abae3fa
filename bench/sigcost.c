/* sigcost.c - how many DNSSEC signatures a process verifies, and the CPU they cost
 *
 *   LD_PRELOAD=build/bench/sigcost.so MXTLS_SIGCOST_OUT=FILE mxtls scan ...
 *
 * libunbound does the validation, with the crypto library it was built
 * against. Debian builds libunbound with nettle (libhogweed, over GMP), not
 * OpenSSL, so a validating scanner's signature checks are nettle's. This
 * module defines nettle's public verify functions for the algorithms a
 * zone signs with today (ECDSA P-256/P-384, RSA/SHA-256 and SHA-512,
 * Ed25519); the dynamic linker binds libunbound's calls to them first. Each
 * one calls nettle's own (dlsym RTLD_NEXT), counts the call and adds the
 * thread CPU time it took. At exit each process that verified anything
 * appends one line to MXTLS_SIGCOST_OUT:
 *
 *   sigcost pid PID verifies N cpu_s S
 *
 * A libunbound built against OpenSSL never calls these: no line, which the
 * benchmark reports as "not through nettle". The bookkeeping (two
 * clock_gettime calls, about a microsecond) is under 1% of a P-256 verify.
 * Benchmark only: built with the project, never installed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long sig_verifies;
static double sig_cpu_s;

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nettle's function of that name, looked up once; abort if absent (a
 * caller that reached this wrapper was linked against it) */
static void *next_fn(void **slot, const char *name)
{
    if (!*slot) {
        *slot = dlsym(RTLD_NEXT, name);
        if (!*slot) {
            fprintf(stderr, "sigcost: %s not found after this module\n", name);
            abort();
        }
    }
    return *slot;
}

/* Each wrapper has the prototype of nettle 3's function; key and signature
 * types are opaque here (pointers to nettle's structures and mpz_t). */
#define TIMED(expr)                                                                                \
    do {                                                                                           \
        double t0 = thread_cpu_s();                                                                \
        int ok = (expr);                                                                           \
        sig_cpu_s += thread_cpu_s() - t0;                                                          \
        sig_verifies++;                                                                            \
        return ok;                                                                                 \
    } while (0)

typedef int ecdsa_fn(const void *, size_t, const unsigned char *, const void *);
int nettle_ecdsa_verify(const void *pub, size_t length, const unsigned char *digest,
                        const void *signature);
int nettle_ecdsa_verify(const void *pub, size_t length, const unsigned char *digest,
                        const void *signature)
{
    static void *fn;
    TIMED(((ecdsa_fn *)next_fn(&fn, "nettle_ecdsa_verify"))(pub, length, digest, signature));
}

typedef int rsa_digest_fn(const void *, const unsigned char *, const void *);
int nettle_rsa_sha256_verify_digest(const void *key, const unsigned char *digest,
                                    const void *signature);
int nettle_rsa_sha256_verify_digest(const void *key, const unsigned char *digest,
                                    const void *signature)
{
    static void *fn;
    TIMED(((rsa_digest_fn *)next_fn(&fn, "nettle_rsa_sha256_verify_digest"))(key, digest,
                                                                             signature));
}

int nettle_rsa_sha512_verify_digest(const void *key, const unsigned char *digest,
                                    const void *signature);
int nettle_rsa_sha512_verify_digest(const void *key, const unsigned char *digest,
                                    const void *signature)
{
    static void *fn;
    TIMED(((rsa_digest_fn *)next_fn(&fn, "nettle_rsa_sha512_verify_digest"))(key, digest,
                                                                             signature));
}

typedef int ed25519_fn(const unsigned char *, size_t, const unsigned char *,
                       const unsigned char *);
int nettle_ed25519_sha512_verify(const unsigned char *pub, size_t length,
                                 const unsigned char *msg, const unsigned char *signature);
int nettle_ed25519_sha512_verify(const unsigned char *pub, size_t length,
                                 const unsigned char *msg, const unsigned char *signature)
{
    static void *fn;
    TIMED(((ed25519_fn *)next_fn(&fn, "nettle_ed25519_sha512_verify"))(pub, length, msg,
                                                                       signature));
}

/* One line per process, written with one append so that the workers of a
 * `scan --jobs` do not interleave. A worker that ends with _exit() writes
 * nothing; the benchmark uses this module on single processes. */
__attribute__((destructor)) static void sigcost_report(void)
{
    const char *out = getenv("MXTLS_SIGCOST_OUT");
    if (!out || !*out || sig_verifies == 0)
        return;
    char line[128];
    int n = snprintf(line, sizeof line, "sigcost pid %ld verifies %lu cpu_s %.3f\n",
                     (long)getpid(), sig_verifies, sig_cpu_s);
    if (n <= 0)
        return;
    int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) != n)
        fprintf(stderr, "sigcost: cannot write %s\n", out);
    close(fd);
}
