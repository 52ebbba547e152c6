/*
 * fuzz_storeloc.c - libFuzzer driver for the store location (--db,
 * --data, IZIN_DB: store.h iz_store_location_parse), the one place that
 * tells a data directory, an SQLite file and a PostgreSQL URL apart.
 *
 * The input, up to a NUL, is the location. Checks: a location taken is a
 * postgres(ql):// URL kept as it is, an sqlite:/file: path whose data
 * directory is the folder of its file, or a plain directory holding
 * izin.db; the key file is always the database's name and ".key"; no
 * other "scheme:" is ever taken as a directory; nothing with a control
 * byte is taken. A refusal says why, and the message never repeats what
 * a URL holds after its scheme (a password in "postgresql:/u:pw@h" would
 * otherwise reach the log).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/iz.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *loc = fuzz_cstr(data, size);
    static iz_store_loc_t out;
    const char *err = NULL;
    int rc = iz_store_location_parse(loc, &out, &err);
    size_t n = strlen(loc);
    bool ctl = false;
    for (size_t i = 0; i < n; i++)
        ctl |= (unsigned char)loc[i] < 0x20 || loc[i] == 0x7F;
    /* the scheme, as a URI's: a letter, then letters, digits, + - . */
    size_t sl = 0;
    if ((loc[0] | 0x20) >= 'a' && (loc[0] | 0x20) <= 'z')
        while (((loc[sl] | 0x20) >= 'a' && (loc[sl] | 0x20) <= 'z') ||
               (loc[sl] >= '0' && loc[sl] <= '9') || loc[sl] == '+' || loc[sl] == '-' ||
               loc[sl] == '.')
            sl++;
    bool scheme = sl > 0 && loc[sl] == ':';
    if (rc != 0) {
        if ((rc != IZ_EINVAL && rc != IZ_ETOOBIG) || !err || !*err) abort();
        /* The message may name an unknown scheme, never what follows it:
         * with those bytes replaced it reads the same. */
        if (scheme && !ctl && !starts(loc, "sqlite:") && !starts(loc, "file:")) {
            char *msg = strdup(err);
            if (!msg) abort();
            memset(loc + sl + 1, 'Q', n - sl - 1);
            const char *err2 = NULL;
            if (iz_store_location_parse(loc, &out, &err2) == 0 || strcmp(msg, err2) != 0) abort();
            free(msg);
        }
        free(loc);
        return 0;
    }
    if (ctl || n == 0) abort();
    char want[IZ_PATH_MAX + 8];
    snprintf(want, sizeof want, "%s.key", out.db);
    if (out.kind != IZ_STORE_POSTGRES && strcmp(out.key_file, want) != 0) abort();
    if (starts(loc, "postgres://") || starts(loc, "postgresql://")) {
        if (out.kind != IZ_STORE_POSTGRES || strcmp(out.db, loc) != 0) abort();
    } else if (starts(loc, "sqlite:") || starts(loc, "file:")) {
        const char *file = strchr(loc, ':') + 1;
        if (out.kind != IZ_STORE_SQLITE || strcmp(out.db, file) != 0 || !*file ||
            file[strlen(file) - 1] == '/')
            abort();
        const char *slash = strrchr(file, '/');
        if (!slash          ? strcmp(out.dir, ".") != 0
            : slash == file ? strcmp(out.dir, "/") != 0
                            : strlen(out.dir) != (size_t)(slash - file) ||
                                  strncmp(out.dir, file, (size_t)(slash - file)) != 0)
            abort();
    } else {
        if (scheme) abort(); /* "postgresql:/x" must never become a folder */
        snprintf(want, sizeof want, "%s/izin.db", loc);
        if (out.kind != IZ_STORE_DIR || strcmp(out.dir, loc) != 0 || strcmp(out.db, want) != 0)
            abort();
    }
    free(loc);
    return 0;
}
