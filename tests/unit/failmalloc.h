/* failmalloc.h - make the Nth allocation fail, to test out-of-memory paths
 * (the technique of nghttp2's failmalloc tests)
 *
 * The test executable is linked with
 *     -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
 * (tests/CMakeLists.txt does so for every tests/unit/test_oom_*.c), so that
 * every call our objects (the test and libmxtls.a) make to those functions
 * goes through the __wrap_ functions below, which count them and fail the
 * chosen one. OpenSSL allocates through CRYPTO_malloc; fm_init() points its
 * memory functions here too, so OpenSSL's allocations are counted and failed
 * the same way (when fm_.openssl is set). Other shared libraries (libidn2,
 * ldns, libunbound) allocate with their own malloc calls and are not
 * failed. Under the ASan build __real_malloc is ASan's malloc, so
 * LeakSanitizer sees every allocation and reports any leak at exit.
 *
 * fm_run(what, op, arg) runs op once to warm up (one-time initialisation in
 * the libraries), once counting allocations (it must succeed: FM_SAME), then
 * once for every N in 1..count with allocation N failing. op returns FM_SAME
 * (the operation succeeded with the result of the run without failures),
 * FM_NOMEM (it failed cleanly: MXTLS_ERR_NOMEM, or a NULL "out of memory"
 * return) or FM_WRONG (anything else: a wrong error, a different result);
 * FM_WRONG fails the test with the allocation number. An op that does not
 * reach allocation N returns FM_SAME.
 *
 * With FM_BACKTRACE set in the environment, every failed allocation prints
 * a backtrace on stderr (addresses for addr2line -e EXECUTABLE).
 *
 * Include in exactly one file per executable, after <cmocka.h>, and call
 * fm_init() first thing in main(). */
#ifndef MXTLS_FAILMALLOC_H
#define MXTLS_FAILMALLOC_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <execinfo.h>
#include <unistd.h>

#include <openssl/crypto.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

enum { FM_SAME = 0, FM_NOMEM = 1, FM_WRONG = 2 };

static struct {
    int active;    /* counting (and failing) now */
    int openssl;   /* OpenSSL's allocations count too */
    long count;    /* allocations seen since fm_start */
    long fail_at;  /* the one to fail (1-based); 0: none */
    int failed;    /* it was failed */
    /* the wrap is in effect (a malloc call came through); volatile, since the
     * compiler assumes malloc() touches no global of ours */
    volatile int wrapped;
    long runs;     /* runs with an allocation failing, over all fm_run calls */
} fm_;

/* fm_tick - count one allocation; 1 when this one is to fail */
static inline int fm_tick(void)
{
    fm_.wrapped = 1;
    if (!fm_.active)
        return 0;
    if (++fm_.count == fm_.fail_at) {
        fm_.failed = 1;
        if (getenv("FM_BACKTRACE")) { /* where the failing allocation is (addr2line) */
            void *bt[24];
            fprintf(stderr, "failmalloc: allocation %ld failed here:\n", fm_.count);
            backtrace_symbols_fd(bt, backtrace(bt, 24), STDERR_FILENO);
        }
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) { return fm_tick() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fm_tick() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fm_tick() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fm_tick() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fm_tick() ? NULL : __real_strndup(s, n); }

static void *fm_crypto_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (fm_.openssl && fm_tick())
        return NULL;
    return __real_malloc(n);
}

static void *fm_crypto_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (fm_.openssl && fm_tick())
        return NULL;
    return __real_realloc(p, n);
}

static void fm_crypto_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* fm_init - route OpenSSL's allocations through the counter; before
 * anything has called OpenSSL */
static inline void fm_init(void)
{
    if (!CRYPTO_set_mem_functions(fm_crypto_malloc, fm_crypto_realloc, fm_crypto_free)) {
        fprintf(stderr, "failmalloc: OpenSSL allocated memory before fm_init()\n");
        exit(1);
    }
    /* The wrap must be in effect, or every test below passes vacuously. */
    fm_.wrapped = 0;
    void *volatile p = malloc(1); /* volatile: the compiler must not elide the pair */
    int wrapped = fm_.wrapped;
    free(p);
    if (!wrapped) {
        fprintf(stderr, "failmalloc: malloc is not wrapped (link with -Wl,--wrap=malloc,...)\n");
        exit(1);
    }
}

/* fm_start / fm_stop - bracket the code under test inside an op; allocations
 * outside (building inputs, comparing results) are neither counted nor failed */
static inline void fm_start(void)
{
    fm_.count = 0;
    fm_.failed = 0;
    fm_.active = 1;
}

static inline void fm_stop(void) { fm_.active = 0; }

typedef int (*fm_op)(void *arg);

/* fm_run - the operation with every one of its allocations failing in turn;
 * returns the number of allocations (all of which were failed once) */
static inline long fm_run(const char *what, fm_op op, void *arg, int openssl)
{
    fm_.openssl = openssl;
    fm_.fail_at = 0;
    if (op(arg) != FM_SAME) /* warm-up */
        fail_msg("%s: fails without any allocation failing", what);
    int rc = op(arg);
    long total = fm_.count;
    if (rc != FM_SAME)
        fail_msg("%s: fails without any allocation failing (second run)", what);
    if (total == 0)
        fail_msg("%s: no allocation counted: the wrap is not in effect", what);
    long nomem = 0;
    for (long n = 1; n <= total; n++) {
        fm_.fail_at = n;
        rc = op(arg);
        fm_stop();
        if (rc == FM_WRONG)
            fail_msg("%s: allocation %ld of %ld failing: wrong outcome (not out-of-memory, "
                     "not the result of the run without failures)",
                     what, n, total);
        if (rc == FM_NOMEM && !fm_.failed)
            fail_msg("%s: allocation %ld of %ld failing: out-of-memory reported, but no "
                     "allocation failed", what, n, total);
        nomem += rc == FM_NOMEM;
        fm_.runs++;
    }
    fm_.fail_at = 0;
    fm_.openssl = 0;
    /* Every failure of our own code's allocations is an error; a few of
     * OpenSSL's are absorbed by OpenSSL, so at least one failure must have
     * been reported for the test to mean anything. */
    if (nomem == 0)
        fail_msg("%s: %ld allocations failed one by one, and never out of memory", what,
                 total);
    return total;
}

#endif
