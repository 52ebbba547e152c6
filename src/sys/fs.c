/*
 * fs.c - mkdir -p for the stores' data directories, and the thread-local
 * error text of the open calls (see fs.h).
 */
#include "sys/fs.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/iz.h"

static _Thread_local char err_buf[512];

const char *iz_errf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return err_buf;
}

/* Make one directory; one that is already there (a race with another
 * process included) is fine, whatever it is: the final stat judges it. */
static int make_one(const char *path, const char **err)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    *err = iz_errf("cannot create directory '%s': %s", path, strerror(errno));
    return IZ_EIO;
}

int iz_mkdirs(const char *dir, const char **err)
{
    char buf[PATH_MAX];
    if (iz_strlcpy(buf, dir, sizeof buf) != 0) {
        *err = iz_errf("directory path is too long (over %d bytes)", PATH_MAX - 1);
        return IZ_ETOOBIG;
    }
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    int rc = 0;
    for (char *p = buf + 1; rc == 0 && *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        rc = make_one(buf, err);
        *p = '/';
    }
    if (rc == 0) rc = make_one(buf, err);
    if (rc != 0) return rc;
    struct stat sb;
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        *err = iz_errf("'%s' is not a directory", dir);
        return IZ_EINVAL;
    }
    return 0;
}
