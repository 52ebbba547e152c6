/*
 * import_local.c - `izin import` on the local store (no --server).
 *
 * PLACEHOLDER: the local import (the bulk readers and the job runner on
 * the local store, with the progress display of cli/progress.h) is being
 * built on another branch; that work replaces this file. Until then the
 * local mode answers that it is not built, and `izin import --server URL
 * --key KEY` (cmd_import.c) imports through a server.
 */
#include "cli/cli.h"

int iz_cli_import_local(const iz_opts_t *o, const char *brand, const char *file)
{
    (void)o;
    (void)brand;
    (void)file;
    iz_cli_fail("local import is not built yet: use --server URL --key KEY");
    return 1;
}
