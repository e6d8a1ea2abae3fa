/* main.c - mxtls: command dispatch, --help, --version */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/cli.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"check", cmd_check, "can senders deliver to DOMAIN over TLS? (MX, probes, verdicts)"},
    {"probe", cmd_probe, "the same for one server HOST[:PORT], without the MX lookup"},
    {"dns", cmd_dns, "what mxtls resolves for a domain, and how it is secured"},
    {"verify", cmd_verify, "verdicts for a certificate chain given as files (offline)"},
    {"fingerprint", cmd_fingerprint, "certificate or public-key fingerprint, Postfix format"},
    {"policy", cmd_policy, "look up or check a Postfix TLS policy map"},
    {"tlsa", cmd_tlsa, "generate TLSA records and check them before a certificate change"},
    {"mta-sts", cmd_mtasts, "check an MTA-STS policy or _mta-sts TXT record (offline)"},
    {"tlsrpt", cmd_tlsrpt, "check a TLS reporting (_smtp._tls) TXT record (offline)"},
    {"report", cmd_report, "survey figures, text, JSON or an HTML page, from check JSON Lines"},
    {"policyd", cmd_policyd, "MTA-STS for Postfix: socketmap server for smtp_tls_policy_maps"},
    {"audit", cmd_audit, "how well a mail server's own TLS is configured, with Postfix advice"},
    {"scan", cmd_scan, "check many domains politely, one JSON line each (docs/scanning.md)"},
};

static void main_usage(FILE *f)
{
    fprintf(f, "usage: mxtls COMMAND [OPTIONS] ...\n"
               "       mxtls --help | --version\n\n"
               "Can a sender deliver to a mail domain over TLS, and trust the certificate?\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'mxtls COMMAND --help' describes a command. Exit codes: 0 pass, 1 policy "
               "failure,\n2 usage or input error, 3 temporary failure, 4 local failure (out of\n"
               "memory, file descriptors, standard output not written) (docs/cli.md).\n");
}

static int main_run(int argc, char **argv)
{
    if (argc < 2) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        main_usage(stdout);
        return EXIT_PASS;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("mxtls %s\n", mxtls_version());
        return EXIT_PASS;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    if (cmd[0] == '-')
        fprintf(stderr, "mxtls: unknown option '%s'\n", cmd);
    else
        fprintf(stderr, "mxtls: unknown command '%s'\n", cmd);
    fprintf(stderr, "Try 'mxtls --help'.\n");
    return EXIT_USAGE;
}

/* The last message libevent wanted to log: never printed raw, but quoted in
 * the one line mxtls prints if libevent gives up. One per thread: the loops
 * of `scan --jobs` log (and give up) in their own threads. */
static _Thread_local char main_event_msg[160];

/* main_event_log - libevent's log: kept, not printed */
static void main_event_log(int severity, const char *msg)
{
    (void)severity;
    size_t o = 0;
    for (; msg && *msg && o + 1 < sizeof main_event_msg; msg++)
        main_event_msg[o++] = (*msg >= 0x20 && *msg < 0x7f) ? *msg : '?';
    main_event_msg[o] = '\0';
}

/* main_event_fatal - libevent cannot go on (it would exit(1), the code of a
 * policy failure): its failures are resource failures here, such as no
 * descriptor left for the loop's internal socket pair */
static void main_event_fatal(int err)
{
    (void)err;
    fflush(stdout);
    if (strstr(main_event_msg, "Too many open files"))
        fprintf(stderr, "mxtls: out of file descriptors (ulimit -n) (libevent: %s)\n",
                main_event_msg);
    else
        fprintf(stderr, "mxtls: the event loop failed (libevent: %s)\n",
                main_event_msg[0] ? main_event_msg : "fatal error");
    _exit(EXIT_LOCAL);
}

/* Stack that main_reserve_stack() grows at start-up. Under an address-space
 * limit (ulimit -v) the stack grows only while the limit allows it, and a
 * failed growth is a SIGSEGV, not an error: libunbound keeps 64 KiB buffers on
 * the stack while it starts. Growing it once, first, turns "no room" into
 * the clean out-of-memory exit. */
#define MAIN_STACK_RESERVE (512 * 1024)
#define MAIN_PAGE 4096

/* main_touch_stack - fault in MAIN_STACK_RESERVE bytes below this frame */
__attribute__((noinline)) static void main_touch_stack(void)
{
    volatile char pad[MAIN_STACK_RESERVE];
    for (size_t i = 0; i < sizeof pad; i += MAIN_PAGE)
        pad[i] = 0;
}

/* main_reserve_stack - 0, or -1 when the address-space limit leaves no
 * room for the stack reserve (the growth itself would be a SIGSEGV) */
static int main_reserve_stack(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        unsigned long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) {
            if (fscanf(f, "%lu", &pages) != 1)
                pages = 0;
            fclose(f);
        }
        long psize = sysconf(_SC_PAGESIZE);
        if (pages && psize > 0 &&
            (rlim_t)pages * (rlim_t)psize + 2 * MAIN_STACK_RESERVE > rl.rlim_cur)
            return -1;
    }
    main_touch_stack();
    return 0;
}

int main(int argc, char **argv)
{
    if (main_reserve_stack() != 0) {
        fprintf(stderr, "mxtls: out of memory (ulimit -v leaves no room to start)\n");
        return EXIT_LOCAL;
    }
    event_set_log_callback(main_event_log);
    event_set_fatal_callback(main_event_fatal);
    return cli_finish_output(main_run(argc, argv));
}
