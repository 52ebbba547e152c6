/*
 * cli.h - the izin command line: option parsing shared by the commands, and
 * the commands themselves (one file per group).
 *
 * Options are "--name VALUE" or "--name=VALUE"; a boolean option takes no
 * value. Settings of serve/demo may also come from the environment
 * (IZIN_NAME, upper-cased, '-' as '_') and from a --config file of
 * "name = value" lines; a flag wins over the environment, which wins over
 * the file.
 */
#ifndef IZ_CLI_H
#define IZ_CLI_H

#include <stdbool.h>

#include "store/store.h"

#define IZ_CLI_MAX_OPTS 32

typedef struct iz_optdef {
    const char *name; /* without "--" */
    bool has_arg;
} iz_optdef_t;

typedef struct iz_opts {
    const iz_optdef_t *defs;
    int ndefs;
    const char *val[IZ_CLI_MAX_OPTS]; /* per def: the value, "1" for a set boolean, or NULL */
    const char *positional[4];
    int npositional;
    char *file_vals[IZ_CLI_MAX_OPTS]; /* values read from --config (owned) */
} iz_opts_t;

/* Parse argv against defs (at most IZ_CLI_MAX_OPTS). Prints a message and
 * returns non-zero on an unknown option or a missing value. */
int iz_cli_parse(iz_opts_t *o, const iz_optdef_t *defs, int ndefs, int argc, char **argv);

/* The value of option name: flag, else IZIN_NAME from the environment, else
 * the --config file (when loaded), else NULL. */
const char *iz_cli_get(const iz_opts_t *o, const char *name);

/* Read "name = value" lines of a config file for options in defs. */
int iz_cli_load_config(iz_opts_t *o, const char *path);

void iz_cli_free(iz_opts_t *o);

/* Open the store named by --db/--data (IZIN_DB/IZIN_DATA, else ./izin-data).
 * Prints the reason and returns non-zero on failure. */
int iz_cli_open_store(const iz_opts_t *o, iz_store_t **st);

/* Print "izin: <message>" on stderr. */
void iz_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int iz_cmd_init(int argc, char **argv);
int iz_cmd_account(int argc, char **argv);
int iz_cmd_brand(int argc, char **argv);
int iz_cmd_key(int argc, char **argv);
int iz_cmd_serve(int argc, char **argv);
int iz_cmd_demo(int argc, char **argv);
int iz_cmd_iys_sim(int argc, char **argv);
int iz_cmd_check(int argc, char **argv);

#endif
