/*
 * testutil.h - what the unit tests share: a temporary directory made and
 * removed with everything in it. Header-only (static functions), included
 * by the test programs that need it; each test program is one file.
 */
#ifndef IZ_TESTUTIL_H
#define IZ_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static inline int iz_test_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything below it (rm -rf); 0 on success. */
static inline int iz_test_rmtree(const char *dir)
{
    return nftw(dir, iz_test_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
