/*
 * cmd_verify.c - `izin verify`: walk the consent log's hash chain (store.h:
 * every change's hash covers the one before it), as an operator does after
 * a crash, a restore or a doubt about the database. Exit 0 intact, 3
 * broken (with the first change whose hash does not match), 1 when the
 * store cannot be read.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/iz.h"

static const iz_optdef_t verify_defs[] = {
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},
    {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH or postgresql://"},
    {"json", false, NULL, NULL, "print the result as one JSON object"},
};

static const iz_cmddef_t verify_cmd =
    IZ_CMD("izin verify", "[options]",
           "Check the consent log's hash chain: exit 0 intact, 3 broken (the first broken\n"
           "change is named).",
           verify_defs);

static int run_verify(const iz_opts_t *o)
{
    iz_store_t *st = NULL;
    if (iz_cli_open_existing_store(o, &st) != 0) return 1;
    int64_t bad = 0;
    int rc = iz_store_verify_log(st, &bad);
    iz_store_close(st);
    int ex = iz_cli_verify_print(rc, bad, iz_cli_get(o, "json") != NULL);
    if (ex >= 0) return ex;
    iz_cli_fail("cannot read the log: %s", iz_strerror(rc));
    return 1;
}

int iz_cmd_verify(int argc, char **argv)
{
    return iz_cli_run(&verify_cmd, run_verify, argc, argv);
}
