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
#include <stdio.h>

#include "core/iz.h"
#include "core/plans.h"

#include "store/store.h"

#define IZ_CLI_MAX_OPTS 40

/* One option of a command, with what `--help` shows of it. */
typedef struct iz_optdef {
    const char *name; /* without "--" */
    bool has_arg;
    const char *arg;  /* the value's name in --help ("ADDR"); NULL for a flag */
    const char *def;  /* the default as --help shows it, or NULL */
    const char *help; /* one line */
} iz_optdef_t;

/* A command: its name, what follows it on the usage line, one sentence on
 * what it does, its options. */
typedef struct iz_cmddef {
    const char *name;    /* "izin serve" */
    const char *args;    /* "[options]" */
    const char *summary; /* a sentence or two */
    const iz_optdef_t *opts;
    int nopts;
} iz_cmddef_t;

#define IZ_CMD(name, args, summary, defs)                                                          \
    {                                                                                              \
        name, args, summary, defs, (int)IZ_ARRAY_LEN(defs)                                         \
    }

typedef struct iz_opts {
    const iz_optdef_t *defs;
    int ndefs;
    const char *val[IZ_CLI_MAX_OPTS]; /* per def: the value, "1" for a set boolean, or NULL */
    const char *positional[4];
    int npositional;
    char *file_vals[IZ_CLI_MAX_OPTS]; /* values read from --config (owned) */
} iz_opts_t;

#define IZ_CLI_HELP 1 /* iz_cli_parse printed --help: exit 0 */

/* Parse argv against the command's options. --help (or -h) anywhere prints
 * the usage, the summary and every option with its default on standard
 * output and returns IZ_CLI_HELP. Prints a message and returns 2 on an
 * unknown option or a missing value; 0 otherwise. */
int iz_cli_parse(iz_opts_t *o, const iz_cmddef_t *cmd, int argc, char **argv);

/* The exit code for a non-zero iz_cli_parse result: 0 after --help, 2 for a
 * usage error. */
#define IZ_CLI_EXIT(rc) ((rc) == IZ_CLI_HELP ? 0 : 2)

/* Parse a command's options and run fn with them: fn's exit code, 0 after
 * --help, 2 for a usage error. The parsing every command shares, written
 * once. */
int iz_cli_run(const iz_cmddef_t *cmd, int (*fn)(const iz_opts_t *o), int argc, char **argv);

/* Print a command's help on f. */
void iz_cli_help(FILE *f, const iz_cmddef_t *cmd);

/* The value of option name: flag, else IZIN_NAME from the environment, else
 * the --config file (when loaded), else NULL. */
const char *iz_cli_get(const iz_opts_t *o, const char *name);

/* Read "name = value" lines of a config file for options in defs. */
int iz_cli_load_config(iz_opts_t *o, const char *path);
#define IZ_CLI_CONFIG_LINE_MAX 2046 /* bytes of a config line, without its newline */

/* The same from an open file (path names it in messages): what
 * iz_cli_load_config reads with, and the fuzz driver too. Prints what is
 * wrong (the line) and returns -1; 0 when every line was taken. */
int iz_cli_read_config(iz_opts_t *o, FILE *f, const char *path);

/* The settings of `izin serve` (and demo): the table a config file's
 * names are looked up in. */
const iz_cmddef_t *iz_cli_serve_cmd(void);

void iz_cli_free(iz_opts_t *o);

/* The store location the options name: --db or --data, else IZIN_DB,
 * else IZIN_DATA, else ./izin-data. */
const char *iz_cli_store_location(const iz_opts_t *o);

/* With a PostgreSQL store, the node's own folder for what stays on the
 * machine (upload spool, SMS log): --data (or IZIN_DATA), else
 * ./izin-data. NULL for an SQLite store (its data directory is that). */
const char *iz_cli_local_dir(const iz_opts_t *o);

/* Open the store named by --db/--data (IZIN_DB/IZIN_DATA, else ./izin-data).
 * Prints the reason and returns non-zero on failure. */
int iz_cli_open_store(const iz_opts_t *o, iz_store_t **st);
/* The same for a command that reads a store: a SQLite store that does not
 * exist is refused ("no store at ...") rather than made empty. */
int iz_cli_open_existing_store(const iz_opts_t *o, iz_store_t **st);

/* Print a hash chain walk's verdict (izin verify, izin iys-sim verify):
 * rc 0 "log intact" (exit 0), IZ_ERULE "log broken at change N" (exit 3),
 * as one JSON object with json; -1 (nothing printed) for any other rc. */
int iz_cli_verify_print(int rc, int64_t bad, bool json);

/* The --brand option as a brand code (a positive integer); prints why not
 * and returns -1 when it is missing or not one. */
int iz_cli_brand_code(const iz_opts_t *o, int64_t *code);

/* The brand `code` of the store: with account (a name, may be NULL) that
 * account's, otherwise the only brand with that code. Prints why not (no
 * such account or brand, a code in several accounts) and returns -1. */
int iz_cli_find_brand(iz_store_t *st, const char *account, int64_t code, iz_brand_t *out);

/* Print o (a JSON value, released) as one compact line on stdout: what
 * --json prints. */
struct json_t;
void iz_cli_print_json(struct json_t *o);

/* Print "izin: <message>" on stderr. */
void iz_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The plans: --plans FILE (IZIN_PLANS), else the built-in sample; 0 with
 * *out (free()), or -1 said (the file's line and what is wrong). */
int iz_cli_load_plans(const iz_opts_t *o, iz_plans_t **out);

/* 0 when code is "" or one of the plans; else -1, said with the codes
 * there are. */
int iz_cli_plan_known(const iz_plans_t *plans, const char *code);

int iz_cmd_init(int argc, char **argv);
int iz_cmd_account(int argc, char **argv);
int iz_cmd_brand(int argc, char **argv);
int iz_cmd_key(int argc, char **argv);
int iz_cmd_user(int argc, char **argv); /* cmd_user.c */
int iz_cmd_serve(int argc, char **argv);
int iz_cmd_demo(int argc, char **argv);
int iz_cmd_iys_sim(int argc, char **argv);
int iz_cmd_check(int argc, char **argv);
int iz_cmd_export(int argc, char **argv);
int iz_cmd_import(int argc, char **argv);
int iz_cmd_iys(int argc, char **argv);
int iz_cmd_retailer(int argc, char **argv);
int iz_cmd_verify(int argc, char **argv); /* cmd_verify.c */

/* `izin import` without --server: import file into the brand (its code as
 * given to --brand) of the local store named by o's --data/--db, with
 * o's other options (--account, --json). Prints its result and returns
 * the exit code: 0 every row accepted, 3 some rejected, 1 failed, 2 a
 * usage error. (import_local.c) */
int iz_cli_import_local(const iz_opts_t *o, const char *brand, const char *file);

#endif
