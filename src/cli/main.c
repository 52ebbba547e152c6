/*
 * main.c - `izin <command>`: finds the command and hands it its arguments.
 * The commands live in cmd_*.c; this file has no logic of its own.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"demo", iz_cmd_demo, "run everything on embedded defaults with a demo account"},
    {"serve", iz_cmd_serve, "run the module server"},
    {"iys-sim", iz_cmd_iys_sim, "run the İYS emulator (iys-sim verify: check its log)"},
    {"init", iz_cmd_init, "create or migrate the store"},
    {"account", iz_cmd_account, "account add: add a service-provider account"},
    {"brand", iz_cmd_brand, "brand add: add a brand to an account"},
    {"key", iz_cmd_key, "key add: create an API key for an account (printed once)"},
    {"user", iz_cmd_user, "user add | list | delete: the panel's users"},
    {"retailer", iz_cmd_retailer, "retailer add | list | delete: a brand's retailers at İYS"},
    {"check", iz_cmd_check, "print the recipients of a file or pipe that may be sent to"},
    {"import", iz_cmd_import, "import a CSV/XLSX/JSON file of consents (local, or --server)"},
    {"export", iz_cmd_export, "write a brand's current consents as CSV"},
    {"iys", iz_cmd_iys, "iys reconcile: run the daily reconciliation with İYS now"},
    {"verify", iz_cmd_verify, "check the consent log's hash chain"},
};

static void usage(FILE *f)
{
    fputs("usage: izin <command> [options]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fputs("\n'izin <command> --help' lists a command's options and their defaults.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 2, argv + 2);
    fprintf(stderr, "izin: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
