/*
 * test_durable.c - a write is answered only once it is on disk (SQLite).
 *
 * The group commit writes a batch with synchronous = NORMAL and syncs the
 * WAL after the writers' lock is let go (store_sqlite.c's second stage),
 * so that the next batch is written during the sync. These tests watch the
 * disk calls themselves: this program defines pwrite64, fsync and
 * fdatasync, which the dynamic linker binds SQLite's and the store's calls
 * to, counts every write to the WAL file, and records how many of them a
 * completed sync covers (the writes made before it began). When a write
 * call returns, every WAL write so far must be covered: an answer given
 * before its sync, or a sync left out, fails here.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/iz.h"
#include "store/store.h"

/* ---- the watched disk calls ------------------------------------------------- */

static atomic_long wal_writes;  /* pwrite64 calls on a *-wal file */
static atomic_long wal_durable; /* of them, made before a sync of it that ended */
static atomic_long wal_syncs;

static bool is_wal(int fd)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 4) return false;
    path[n] = '\0';
    return strcmp(path + n - 4, "-wal") == 0;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "pwrite64");
    bool wal = is_wal(fd);
    ssize_t r = real(fd, buf, n, off);
    if (wal) atomic_fetch_add(&wal_writes, 1);
    return r;
}

static int synced(int fd, const char *name)
{
    int (*real)(int);
    *(void **)&real = dlsym(RTLD_NEXT, name);
    bool wal = is_wal(fd);
    long before = atomic_load(&wal_writes);
    int r = real(fd);
    if (r == 0 && wal) {
        atomic_fetch_add(&wal_syncs, 1);
        long cur = atomic_load(&wal_durable);
        while (before > cur && !atomic_compare_exchange_weak(&wal_durable, &cur, before)) {
        }
    }
    return r;
}

int fsync(int fd)
{
    return synced(fd, "fsync");
}

int fdatasync(int fd)
{
    return synced(fd, "fdatasync");
}

/* ---- fixture ---------------------------------------------------------------- */

typedef struct fx {
    char dir[64];
    iz_store_t *st;
    int64_t brand;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/izin-durable-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(iz_store_open(f->dir, NULL, &f->st, &err), 0);
    iz_account_t a = {0};
    snprintf(a.name, sizeof a.name, "acme");
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    iz_brand_t b = {0};
    b.account_id = a.id;
    b.code = 700001;
    snprintf(b.name, sizeof b.name, "ACME");
    assert_int_equal(iz_store_brand_add(f->st, &b), 0);
    f->brand = b.id;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    iz_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static iz_change_t change(int64_t brand, int t, int i)
{
    iz_change_t c;
    memset(&c, 0, sizeof c);
    c.brand_id = brand;
    snprintf(c.recipient, sizeof c.recipient, "+90532%02d%06d", t, i);
    c.rtype = IZ_BIREYSEL;
    c.type = IZ_MESAJ;
    c.status = i % 3 ? IZ_ONAY : IZ_RET;
    c.source = IZ_HS_WEB;
    c.consent_date = 1700000000 + i;
    c.origin = IZ_ORIGIN_API;
    c.iys_state = IZ_IYS_PENDING;
    return c;
}

/* ---- tests ------------------------------------------------------------------ */

/* One writer: each answer comes after a sync that covers all it wrote. */
static void test_each_answer_after_its_sync(void **state)
{
    fx_t *f = *state;
    long start = atomic_load(&wal_writes);
    for (int i = 0; i < 60; i++) {
        iz_change_t c = change(f->brand, 0, i);
        assert_int_equal(iz_store_consent_apply(f->st, &c, NULL, NULL), 0);
        assert_true(c.id > 0);
        long w = atomic_load(&wal_writes), d = atomic_load(&wal_durable);
        if (d < w) fail_msg("change %d answered with %ld of %ld WAL writes synced", i, d, w);
    }
    /* The watch saw the writes (a test that cannot fail would not). */
    assert_true(atomic_load(&wal_writes) - start >= 60);
}

#define THREADS 8
#define EACH 80

typedef struct worker {
    iz_store_t *st;
    int64_t brand;
    int t;
    int failures;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < EACH; i++) {
        iz_change_t c = change(w->brand, w->t + 1, i);
        if (iz_store_consent_apply(w->st, &c, NULL, NULL) != 0 || c.id <= 0) w->failures++;
    }
    return NULL;
}

/* Many writers at once share syncs (fewer syncs than writes), every write
 * is stored once, and when the last answer is given nothing is left
 * unsynced. */
static void test_writers_share_syncs(void **state)
{
    fx_t *f = *state;
    long syncs = atomic_load(&wal_syncs);
    pthread_t th[THREADS];
    worker_t w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker_t){.st = f->st, .brand = f->brand, .t = t};
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
    }
    assert_true(atomic_load(&wal_durable) >= atomic_load(&wal_writes));
    long used = atomic_load(&wal_syncs) - syncs;
    assert_true(used > 0);
    assert_true(used < THREADS * EACH);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < EACH; i++) {
            iz_change_t c = change(f->brand, t + 1, i), got;
            assert_int_equal(
                iz_store_consent_get(f->st, f->brand, c.rtype, c.type, c.recipient, &got), 0);
            assert_int_equal(got.status, c.status);
        }
}

/* What leaves the process reads the store and then asks for durability:
 * after iz_store_durable nothing written is unsynced. */
static void test_durable_barrier(void **state)
{
    fx_t *f = *state;
    iz_change_t c = change(f->brand, 20, 1);
    assert_int_equal(iz_store_consent_apply(f->st, &c, NULL, NULL), 0);
    assert_int_equal(iz_store_durable(f->st), 0);
    assert_true(atomic_load(&wal_durable) >= atomic_load(&wal_writes));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_answer_after_its_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writers_share_syncs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_barrier, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
