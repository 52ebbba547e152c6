/*
 * fuzz_config.c - libFuzzer driver for the --config file of izin serve and
 * demo (cli.h iz_cli_read_config, what iz_cli_load_config reads a file
 * with), against serve's own settings table.
 *
 * The input is the file. Checks, against the format read by the driver
 * itself ("name = value" lines; blank lines and # comments skipped; names
 * and values trimmed; a line of at most IZ_CLI_CONFIG_LINE_MAX bytes; no
 * NUL byte): the file is taken exactly when every line is good, and then
 * every setting answers (iz_cli_get, no flag or environment in the way) the
 * last value the file gave it, and a setting it did not name answers
 * nothing.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The trimmed span of s[0..n). */
static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool clean;
    if (!clean) {
        /* the environment would win over the file */
        const iz_cmddef_t *cmd = iz_cli_serve_cmd();
        for (int i = 0; i < cmd->nopts; i++) {
            char env[96] = "IZIN_";
            size_t k = 5;
            for (const char *p = cmd->opts[i].name; *p && k + 1 < sizeof env; p++)
                env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
            env[k] = '\0';
            unsetenv(env);
        }
        clean = true;
    }
    iz_opts_t o;
    if (iz_cli_parse(&o, iz_cli_serve_cmd(), 0, NULL) != 0) abort();
    FILE *f = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "r");
    if (!f) abort();
    int rc = size ? iz_cli_read_config(&o, f, "fuzz.conf") : 0;
    fclose(f);

    /* The file as the format reads it: the last value of each setting. */
    const char *last[IZ_CLI_MAX_OPTS] = {0};
    size_t last_len[IZ_CLI_MAX_OPTS] = {0};
    const char *text = (const char *)data;
    bool good = true;
    for (size_t i = 0; i < size && good;) {
        const char *nl = memchr(text + i, '\n', size - i);
        size_t len = nl ? (size_t)(nl - (text + i)) : size - i;
        const char *s = text + i;
        i += len + 1;
        if (len > IZ_CLI_CONFIG_LINE_MAX || memchr(s, '\0', len)) {
            good = false;
            break;
        }
        size_t n = len;
        trim(&s, &n);
        if (n == 0 || *s == '#') continue;
        const char *eq = memchr(s, '=', n);
        if (!eq) {
            good = false;
            break;
        }
        const char *name = s, *val = eq + 1;
        size_t nn = (size_t)(eq - s), vn = n - nn - 1;
        trim(&name, &nn);
        trim(&val, &vn);
        int d = -1;
        for (int k = 0; k < o.ndefs; k++)
            if (strlen(o.defs[k].name) == nn && memcmp(o.defs[k].name, name, nn) == 0) d = k;
        if (d < 0 || (nn == 6 && memcmp(name, "config", 6) == 0)) {
            good = false;
            break;
        }
        last[d] = val;
        last_len[d] = vn;
    }
    if ((rc == 0) != good) abort();
    if (rc == 0)
        for (int k = 0; k < o.ndefs; k++) {
            const char *v = iz_cli_get(&o, o.defs[k].name);
            if (!last[k] ? v != NULL
                         : !v || strlen(v) != last_len[k] || memcmp(v, last[k], last_len[k]) != 0)
                abort();
        }
    iz_cli_free(&o);
    return 0;
}
