/*
 * fuzz_gateway.c - libFuzzer driver for the --sms-gateway setting
 * (sms/gateway.h iz_sms_gateway_spec_parse: what iz_sms_gateway_open reads
 * before it opens a file or a connection).
 *
 * The input, up to a NUL, is the setting. Checks: a refusal is IZ_EINVAL
 * with a message; a setting taken is log:FILE (a file named), or kannel: or
 * json: with an http(s) URL that has a host and no space or control byte
 * (Kannel's with username= and password=), and its target is the text
 * after the prefix; what may be shown of a URL is, as the driver builds it
 * itself, the scheme, host and path without the query and without a user
 * or password before the host (plus Kannel's user name): no secret of the
 * URL ever reaches a log line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/iz.h"
#include "sms/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of name in the URL's query (after its first '?'), or NULL. */
static const char *param(const char *url, const char *name, size_t *len)
{
    const char *q = strchr(url, '?');
    size_t nl = strlen(name);
    for (const char *p = q; p; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, name, nl) == 0 && p[1 + nl] == '=') {
            *len = strcspn(p + 2 + nl, "&#");
            return p + 2 + nl;
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = fuzz_cstr(data, size);
    iz_sms_gateway_spec_t sp;
    const char *err = NULL;
    int rc = iz_sms_gateway_spec_parse(spec, &sp, &err);
    if (rc != 0) {
        if (rc != IZ_EINVAL || !err || !*err || sp.shown) abort();
        free(spec);
        return 0;
    }
    if (strlen(spec) > 2048) abort();
    const char *prefix = sp.kind == IZ_SMS_GW_LOG      ? "log:"
                         : sp.kind == IZ_SMS_GW_KANNEL ? "kannel:"
                         : sp.kind == IZ_SMS_GW_JSON   ? "json:"
                                                       : NULL;
    if (!prefix || strncmp(spec, prefix, strlen(prefix)) != 0 || sp.target != spec + strlen(prefix))
        abort();
    if (sp.kind == IZ_SMS_GW_LOG) {
        if (!*sp.target || sp.shown) abort();
        free(spec);
        return 0;
    }
    const char *url = sp.target;
    size_t sl = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (!sl) abort();
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7F) abort();
    size_t auth = strcspn(url + sl, "/?#");
    if (url[sl] == '\0' || url[sl] == '/' || url[sl] == '?') abort();
    size_t ul = 0, pl = 0;
    const char *user = param(url, "username", &ul);
    if (sp.kind == IZ_SMS_GW_KANNEL && (!user || ul == 0 || !param(url, "password", &pl))) abort();
    /* What may be shown, built here: no userinfo, no query. */
    char want[2600];
    const char *host = url + sl;
    for (size_t i = 0; i < auth; i++)
        if (url[sl + i] == '@') host = url + sl + i + 1;
    size_t base = strcspn(url, "?#");
    int n = snprintf(want, sizeof want, "%.*s:%.*s%.*s", (int)(strlen(prefix) - 1), prefix, (int)sl,
                     url, (int)(base - (size_t)(host - url)), host);
    if (user && ul > 0 && ul < 64)
        snprintf(want + n, sizeof want - (size_t)n, " (user %.*s)", (int)ul, user);
    if (!sp.shown || strcmp(sp.shown, want) != 0) abort();
    iz_sms_gateway_spec_clear(&sp);
    free(spec);
    return 0;
}
