/*
 * plans.c - the plans every command that needs them reads: --plans FILE
 * (or IZIN_PLANS), else the built-in sample (data/plans.conf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/iz.h"
#include "core/plans_data.h"

#define PLANS_FILE_MAX (256u << 10) /* a plans file, at most */

int iz_cli_load_plans(const iz_opts_t *o, iz_plans_t **out)
{
    *out = iz_xcalloc(1, sizeof **out);
    const char *path = iz_cli_get(o, "plans");
    char *text = NULL;
    size_t len;
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            iz_cli_fail("--plans: cannot open %s", path);
            goto fail;
        }
        text = iz_xmalloc(PLANS_FILE_MAX + 1);
        len = fread(text, 1, PLANS_FILE_MAX + 1, f);
        bool err = ferror(f) != 0;
        fclose(f);
        if (err || len > PLANS_FILE_MAX) {
            iz_cli_fail("--plans %s: %s", path, err ? "cannot read it" : "over 256 KiB");
            goto fail;
        }
    } else {
        len = (size_t)(iz_plans_conf_end - iz_plans_conf);
    }
    int line = 0;
    char why[160];
    if (iz_plans_parse(text ? text : iz_plans_conf, len, *out, &line, why, sizeof why) != 0) {
        iz_cli_fail("--plans %s: line %d: %s", path ? path : "(built-in)", line, why);
        goto fail;
    }
    free(text);
    return 0;
fail:
    free(text);
    free(*out);
    *out = NULL;
    return -1;
}

int iz_cli_plan_known(const iz_plans_t *plans, const char *code)
{
    if (!*code || iz_plans_find(plans, code)) return 0;
    char known[1024];
    iz_plans_codes(plans, known, sizeof known);
    iz_cli_fail("no plan '%s' (the plans are: %s)", code, known);
    return -1;
}
