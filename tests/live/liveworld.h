/* liveworld.h - shared helpers of the live C tests (header-only)
 *
 * The tests run inside the world's namespace (`world exec`); the world script
 * tells where its files are (`"$MXTLS_WORLD" env`). */
#ifndef MXTLS_TESTS_LIVEWORLD_H
#define MXTLS_TESTS_LIVEWORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* world_load_env - setenv() every `export K='V'` line of "$MXTLS_WORLD" env;
 * `who` names the test in messages */
static inline int world_load_env(const char *who)
{
    const char *world = getenv("MXTLS_WORLD");
    if (!world || !*world) {
        fprintf(stderr, "%s: MXTLS_WORLD is not set (run through ctest)\n", who);
        return -1;
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' env", world);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[4096];
    while (fgets(line, sizeof line, p)) {
        char *k = line;
        if (strncmp(k, "export ", 7) == 0)
            k += 7;
        char *eq = strchr(k, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *v = eq + 1;
        v[strcspn(v, "\n")] = '\0';
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
            v[n - 1] = '\0';
            v++;
        }
        setenv(k, v, 1);
    }
    return pclose(p) == 0 ? 0 : -1;
}

#endif
