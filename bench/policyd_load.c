/* policyd_load.c - many concurrent socketmap clients for a fixed time
 * (bench/policyd_bench.sh)
 *
 *   policyd_load --connect unix:PATH|inet:ADDR:PORT --map NAME --clients N
 *                --seconds T --domains d1,d2,... [--expect FILE] [--pid PID]
 *                [--label TEXT] [--samples]
 *
 * Each client keeps one connection (as Postfix does), sends one request,
 * waits for the whole reply, and sends the next, cycling through the
 * domains. A connection the server closes is reopened (counted). Prints
 * one line of key=value: requests, queries/s, latency p50/p99/max (µs),
 * replies by kind, replies that differ from --expect (a file of
 * "DOMAIN<TAB>REPLY" lines: the netstrings the server gave with its cache
 * warm), of those the OK ones, and, with --pid, the server's RSS (KiB) and
 * open descriptors at the start, the end and their maximum (sampled every
 * 200 ms; --samples prints one line per second).
 *
 * Plain epoll and sockets: no mxtls code, so it measures only the server. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_DOMAINS 64
#define MAX_CLIENTS 20000
#define REPLY_MAX 8192

typedef struct client {
    int fd;
    size_t next;          /* domain index */
    char out[600];
    size_t outlen, outoff;
    char in[REPLY_MAX];
    size_t inlen;
    long long sent_ns;
} client;

static struct sockaddr_storage addr;
static socklen_t addrlen;
static const char *domains[MAX_DOMAINS];
static char *expect[MAX_DOMAINS];
static size_t ndomains;
static const char *map = "mxtls";
static long long *lat;
static size_t nlat, caplat;
static unsigned long long n_ok, n_nf, n_temp, n_perm, n_other, n_wrong, n_wrong_ok, n_reconnect,
    n_connfail;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_addr(const char *spec)
{
    memset(&addr, 0, sizeof addr);
    if (!strncmp(spec, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&addr;
        sun->sun_family = AF_UNIX;
        snprintf(sun->sun_path, sizeof sun->sun_path, "%s", spec + 5);
        addrlen = sizeof *sun;
        return 0;
    }
    if (!strncmp(spec, "inet:", 5)) {
        char host[128];
        snprintf(host, sizeof host, "%s", spec + 5);
        char *c = strrchr(host, ':');
        if (!c)
            return -1;
        *c = '\0';
        struct sockaddr_in *sin = (struct sockaddr_in *)&addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)atoi(c + 1));
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return -1;
        addrlen = sizeof *sin;
        return 0;
    }
    return -1;
}

static int open_conn(int ep, client *c)
{
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, addrlen) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->inlen = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    return 0;
}

static void prepare(client *c)
{
    const char *d = domains[c->next];
    size_t pl = strlen(map) + 1 + strlen(d);
    c->outlen = (size_t)snprintf(c->out, sizeof c->out, "%zu:%s %s,", pl, map, d);
    c->outoff = 0;
    c->inlen = 0;
    c->sent_ns = now_ns();
}

static void record(client *c, const char *reply, size_t len)
{
    long long l = now_ns() - c->sent_ns;
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 1 << 20;
        lat = realloc(lat, caplat * sizeof *lat);
        if (!lat) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    lat[nlat++] = l;
    const char *p = memchr(reply, ':', len);
    const char *k = p ? p + 1 : reply;
    if (!strncmp(k, "OK ", 3))
        n_ok++;
    else if (!strncmp(k, "NOTFOUND ", 9))
        n_nf++;
    else if (!strncmp(k, "TEMP ", 5))
        n_temp++;
    else if (!strncmp(k, "PERM ", 5))
        n_perm++;
    else
        n_other++;
    const char *want = expect[c->next];
    if (want && (strlen(want) != len || memcmp(want, reply, len) != 0)) {
        n_wrong++;
        if (!strncmp(k, "OK ", 3))
            n_wrong_ok++;
    }
    c->next = (c->next + 1) % ndomains;
}

/* reply_len - bytes of one complete netstring at the start of buf, or 0 */
static size_t reply_len(const char *buf, size_t n)
{
    size_t i = 0, v = 0;
    while (i < n && buf[i] >= '0' && buf[i] <= '9')
        v = v * 10 + (size_t)(buf[i++] - '0');
    if (i == n || buf[i] != ':')
        return 0;
    if (n < i + 1 + v + 1)
        return 0;
    return i + 1 + v + 1;
}

static long proc_rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

static long proc_fds(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR *d = opendir(path);
    long n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static void load_expect(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        exit(2);
    }
    char line[REPLY_MAX + 300];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        for (size_t i = 0; i < ndomains; i++)
            if (!strcmp(domains[i], line))
                expect[i] = strdup(tab + 1);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *conn = NULL, *dlist = NULL, *efile = NULL, *label = "";
    int nclients = 100, seconds = 10, samples = 0;
    long pid = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--samples")) {
            samples = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "%s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--connect")) conn = v;
        else if (!strcmp(a, "--map")) map = v;
        else if (!strcmp(a, "--clients")) nclients = atoi(v);
        else if (!strcmp(a, "--seconds")) seconds = atoi(v);
        else if (!strcmp(a, "--domains")) dlist = v;
        else if (!strcmp(a, "--expect")) efile = v;
        else if (!strcmp(a, "--pid")) pid = atol(v);
        else if (!strcmp(a, "--label")) label = v;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    if (!conn || !dlist || parse_addr(conn) != 0 || nclients < 1 || nclients > MAX_CLIENTS ||
        seconds < 1) {
        fprintf(stderr, "usage: policyd_load --connect unix:PATH|inet:ADDR:PORT --domains "
                        "a,b --clients N --seconds T [--map NAME] [--expect FILE] [--pid PID]\n");
        return 2;
    }
    char *dl = strdup(dlist);
    for (char *t = strtok(dl, ","); t && ndomains < MAX_DOMAINS; t = strtok(NULL, ","))
        domains[ndomains++] = t;
    if (efile)
        load_expect(efile);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    client *cs = calloc((size_t)nclients, sizeof *cs);
    if (ep < 0 || !cs)
        return 1;
    for (int i = 0; i < nclients; i++) {
        cs[i].next = (size_t)i % ndomains;
        if (open_conn(ep, &cs[i]) != 0) {
            fprintf(stderr, "connect: %s\n", strerror(errno));
            return 1;
        }
        prepare(&cs[i]);
    }
    long rss0 = pid ? proc_rss_kb(pid) : -1, fd0 = pid ? proc_fds(pid) : -1;
    long rssmax = rss0, fdmax = fd0, rss1 = rss0, fd1 = fd0;
    long long t0 = now_ns(), end = t0 + (long long)seconds * 1000000000LL;
    long long next_sample = t0 + 200000000LL, next_print = t0 + 1000000000LL;
    size_t last_n = 0;
    struct epoll_event evs[1024];
    while (now_ns() < end) {
        int n = epoll_wait(ep, evs, 1024, 50);
        for (int i = 0; i < n; i++) {
            client *c = evs[i].data.ptr;
            int dead = 0;
            if (c->outoff < c->outlen && (evs[i].events & EPOLLOUT)) {
                ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
                if (w > 0)
                    c->outoff += (size_t)w;
                else if (w < 0 && errno != EAGAIN)
                    dead = 1;
                if (c->outoff == c->outlen) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                ssize_t r = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
                if (r > 0) {
                    c->inlen += (size_t)r;
                    size_t rl = reply_len(c->in, c->inlen);
                    if (rl) {
                        record(c, c->in, rl);
                        prepare(c);
                        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    } else if (c->inlen == sizeof c->in) {
                        dead = 1;
                    }
                } else if (r == 0 || errno != EAGAIN) {
                    dead = 1;
                }
            }
            if (dead) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                n_reconnect++;
                if (open_conn(ep, c) != 0) {
                    n_connfail++;
                    usleep(10000);
                    if (open_conn(ep, c) != 0) {
                        fprintf(stderr, "reconnect failed: %s\n", strerror(errno));
                        return 1;
                    }
                }
                prepare(c);
            }
        }
        long long t = now_ns();
        if (pid && t >= next_sample) {
            rss1 = proc_rss_kb(pid);
            fd1 = proc_fds(pid);
            if (rss1 > rssmax)
                rssmax = rss1;
            if (fd1 > fdmax)
                fdmax = fd1;
            next_sample = t + 200000000LL;
        }
        if (samples && t >= next_print) {
            printf("  %s t=%llds qps=%zu rss_kb=%ld fds=%ld\n", label, (t - t0) / 1000000000LL,
                   nlat - last_n, rss1, fd1);
            fflush(stdout);
            last_n = nlat;
            next_print += 1000000000LL;
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    for (int i = 0; i < nclients; i++)
        close(cs[i].fd);
    qsort(lat, nlat, sizeof *lat, cmp_ll);
    long long p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(nlat * 99) / 100] : 0,
              mx = nlat ? lat[nlat - 1] : 0;
    if (pid) {
        usleep(300000); /* the server closes the connections */
        rss1 = proc_rss_kb(pid);
        fd1 = proc_fds(pid);
    }
    printf("%s%srequests=%zu qps=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f ok=%llu notfound=%llu "
           "temp=%llu perm=%llu other=%llu differ=%llu differ_ok=%llu reconnects=%llu "
           "rss_kb_start=%ld rss_kb_end=%ld rss_kb_max=%ld fds_start=%ld fds_end=%ld fds_max=%ld\n",
           label, *label ? " " : "", nlat, nlat / secs, p50 / 1e3, p99 / 1e3, mx / 1e3, n_ok, n_nf,
           n_temp, n_perm, n_other, n_wrong, n_wrong_ok, n_reconnect, rss0, rss1, rssmax, fd0, fd1,
           fdmax);
    return 0;
}
