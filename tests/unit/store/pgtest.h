/*
 * pgtest.h - a private PostgreSQL server for a unit test program, shared by
 * the store's PostgreSQL tests. scripts/pg.sh starts one in a temporary
 * folder (a unix socket there, no TCP) for the program and stops it at the
 * end. A guard process stops it too when the program dies any other way (a
 * crash, an abort): it waits on a pipe only the program holds open, and its
 * end means "stop". Header-only (static functions), like ../testutil.h;
 * include it after cmocka.h. The program runs from the worktree's top (as
 * `make unit` does), where scripts/pg.sh is.
 */
#ifndef IZ_PGTEST_H
#define IZ_PGTEST_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../testutil.h"

#include "store/pgdb.h"

/* The server of this program: its folder, its URL, the guard. */
static struct {
    char dir[64];
    char url[256];
    pid_t guard;
    int guard_fd;
} iz_pgt = {.guard_fd = -1};

/* Run `sh scripts/pg.sh CMD dir`; its first output line into out (may be
 * NULL). The exit status. */
static inline int iz_pgt_sh(const char *cmd, char *out, size_t size)
{
    char line[512];
    snprintf(line, sizeof line, "sh scripts/pg.sh %s '%s'", cmd, iz_pgt.dir);
    FILE *p = popen(line, "r");
    if (!p) return -1;
    char buf[512] = "";
    if (fgets(buf, sizeof buf, p)) buf[strcspn(buf, "\n")] = '\0';
    while (fgets(line, sizeof line, p))
        ;
    int st = pclose(p);
    if (out) snprintf(out, size, "%s", buf);
    return st;
}

/* The guard: a child that starts the server, hands its URL back through a
 * pipe, then waits for the end of another pipe - closed by this program at
 * its end, or by the system when it dies - and stops the server and
 * removes the folder. Start and stop run in that one process, one after
 * the other, so a death during the start still stops what it started. */
static inline int iz_pgt_start_guard(void)
{
    int ctl[2], res[2];
    if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(res, O_CLOEXEC) != 0) return -1;
    iz_pgt.guard = fork();
    if (iz_pgt.guard < 0) return -1;
    if (iz_pgt.guard == 0) {
        close(ctl[1]);
        close(res[0]);
        char got[256] = "";
        if (iz_pgt_sh("start", got, sizeof got) != 0) snprintf(got, sizeof got, "failed");
        /* A reader that died is no reason to die here: it is why we stop. */
        size_t n = strlen(got);
        (void)signal(SIGPIPE, SIG_IGN);
        if (write(res[1], got, n) != (ssize_t)n) n = 0;
        (void)signal(SIGPIPE, SIG_DFL);
        close(res[1]);
        char c;
        while (read(ctl[0], &c, 1) > 0)
            ;
        (void)iz_pgt_sh("stop", NULL, 0);
        (void)iz_test_rmtree(iz_pgt.dir);
        _exit(0);
    }
    close(ctl[0]);
    close(res[1]);
    iz_pgt.guard_fd = ctl[1];
    size_t len = 0;
    ssize_t r;
    char *url = iz_pgt.url;
    while (len + 1 < sizeof iz_pgt.url &&
           (r = read(res[0], url + len, sizeof iz_pgt.url - 1 - len)) > 0)
        len += (size_t)r;
    url[len] = '\0';
    close(res[0]);
    return 0;
}

/* A cmocka group setup: the server started, its URL in iz_pgt.url. */
static inline int iz_pgt_setup(void **state)
{
    (void)state;
    strcpy(iz_pgt.dir, "/tmp/izin-pg-XXXXXX");
    if (!mkdtemp(iz_pgt.dir)) return -1;
    if (iz_pgt_start_guard() != 0 || strncmp(iz_pgt.url, "postgresql://", 13) != 0) {
        fprintf(stderr, "scripts/pg.sh start failed (%s)\n", iz_pgt.url);
        return -1;
    }
    return 0;
}

/* The group teardown: the guard told to stop the server, and waited for. */
static inline int iz_pgt_teardown(void **state)
{
    (void)state;
    close(iz_pgt.guard_fd);
    int st = 0;
    (void)waitpid(iz_pgt.guard, &st, 0);
    return 0;
}

/* A new connection to the server's database (the test fails without one). */
static inline iz_pg_t *iz_pgt_open(void)
{
    iz_pg_t *pg = NULL;
    const char *err = NULL;
    assert_int_equal(iz__pg_open(&pg, "test", iz_pgt.url, &err), 0);
    assert_non_null(pg);
    return pg;
}

#endif
