/*
 * standing.c - an account's standing with İYS (see standing.h): İYS's
 * answers read into holds and rights.
 */
#include "iys/standing.h"

#include <string.h>

#include "core/iz.h"

static const char *const hold_names[IZ_HOLD_COUNT_] = {
    [IZ_HOLD_NONE] = "",
    [IZ_HOLD_SUB_PAUSED] = "SUBSCRIPTION_PAUSED",
    [IZ_HOLD_SUB_EXPIRED] = "SUBSCRIPTION_EXPIRED",
    [IZ_HOLD_SUB_CLOSED] = "SUBSCRIPTION_CLOSED",
    [IZ_HOLD_SUB_NONE] = "NO_SUBSCRIPTION",
    [IZ_HOLD_LIMIT_FULL] = "CONSENT_LIMIT_FULL",
    [IZ_HOLD_NO_API] = "NO_API_ACCESS",
    [IZ_HOLD_NOT_AUTHORIZED] = "NOT_AUTHORIZED",
    [IZ_HOLD_PARTNER_PAUSED] = "PARTNER_SUBSCRIPTION_PAUSED",
    [IZ_HOLD_PARTNER_EXPIRED] = "PARTNER_SUBSCRIPTION_EXPIRED",
    [IZ_HOLD_PARTNER_CLOSED] = "PARTNER_SUBSCRIPTION_CLOSED",
    [IZ_HOLD_PARTNER_NONE] = "PARTNER_NO_SUBSCRIPTION",
    [IZ_HOLD_NO_PARTNER_CREDENTIALS] = "NO_PARTNER_CREDENTIALS",
};

const char *iz_hold_name(iz_hold_t h)
{
    return h >= 0 && h < IZ_HOLD_COUNT_ ? hold_names[h] : "";
}

bool iz_hold_stops_all(iz_hold_t h)
{
    return h != IZ_HOLD_NONE && h != IZ_HOLD_LIMIT_FULL;
}

iz_hold_t iz_standing_hold_of_code(const char *code, const char *message)
{
    if (!code) return IZ_HOLD_NONE;
    /* İYS's H520 text: "Abonelik durumu {PAUSED|EXPIRED} iken sadece
     * {HS|Entegratör} abonelik sorgulama servisine istek atılabilir." */
    bool partner = message && strstr(message, "Entegratör") != NULL;
    bool expired = message && strstr(message, "EXPIRED") != NULL;
    if (strcmp(code, "H520") == 0) {
        if (partner) return expired ? IZ_HOLD_PARTNER_EXPIRED : IZ_HOLD_PARTNER_PAUSED;
        return expired ? IZ_HOLD_SUB_EXPIRED : IZ_HOLD_SUB_PAUSED;
    }
    /* H521 and H524 do not say whose; the subscription reads they set off
     * tell (sync.c). */
    if (strcmp(code, "H521") == 0) return IZ_HOLD_SUB_CLOSED;
    if (strcmp(code, "H524") == 0 || strcmp(code, "H437") == 0) return IZ_HOLD_SUB_NONE;
    if (strcmp(code, "H525") == 0) return IZ_HOLD_LIMIT_FULL;
    if (strcmp(code, "H586") == 0) return IZ_HOLD_NO_API;
    if (strcmp(code, "H353") == 0 && iz_standing_h353_field(message) == IZ_H353_IYSCODE)
        return IZ_HOLD_NOT_AUTHORIZED;
    return IZ_HOLD_NONE;
}

iz_h353_t iz_standing_h353_field(const char *message)
{
    /* İYS names the field first: "iysCode, kullanıcı izinleriyle
     * eşleştirilemiyor" (also "integratorIysCode, ..."). */
    static const struct {
        const char *prefix;
        iz_h353_t field;
    } fields[] = {{"iysCode,", IZ_H353_IYSCODE},
                  {"integratorIysCode,", IZ_H353_IYSCODE},
                  {"brandCode,", IZ_H353_BRAND},
                  {"type,", IZ_H353_TYPE}};
    if (!message) return IZ_H353_OTHER;
    for (size_t i = 0; i < IZ_ARRAY_LEN(fields); i++)
        if (strncmp(message, fields[i].prefix, strlen(fields[i].prefix)) == 0)
            return fields[i].field;
    return IZ_H353_OTHER;
}

/* A whole number that İYS may write as a JSON number or as text. */
static bool code_value(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return *out > 0;
    }
    const char *s = json_string_value(v);
    return s && iz_parse_i64(s, 1, 999999999999, out) == 0;
}

int iz_standing_sub_parse(const json_t *body, iz_sub_t *out)
{
    memset(out, 0, sizeof *out);
    out->consent_limit = out->used = -1;
    out->limit_exceed = -1;
    const char *status = json_string_value(json_object_get(body, "status"));
    if (!status || !*status || iz_strlcpy(out->status, status, sizeof out->status) != 0)
        return IZ_EINVAL;
    json_t *lim = json_object_get(body, "consentLimit");
    json_t *used = json_object_get(body, "usedConsentLimit");
    json_t *exc = json_object_get(body, "consentLimitExceed");
    /* İYS shows an unlimited figure as -1 (the emulator's limit 0 too). */
    if (json_is_integer(lim) && json_integer_value(lim) > 0)
        out->consent_limit = (int64_t)json_integer_value(lim);
    if (json_is_integer(used) && json_integer_value(used) >= 0)
        out->used = (int64_t)json_integer_value(used);
    if (json_is_boolean(exc)) out->limit_exceed = json_is_true(exc) ? 1 : 0;
    return 0;
}

iz_hold_t iz_standing_sub_hold(const iz_sub_t *sub, bool partner)
{
    static const struct {
        const char *status;
        iz_hold_t own, partner;
    } states[] = {
        {"PAUSED", IZ_HOLD_SUB_PAUSED, IZ_HOLD_PARTNER_PAUSED},
        {"EXPIRED", IZ_HOLD_SUB_EXPIRED, IZ_HOLD_PARTNER_EXPIRED},
        {"CLOSED", IZ_HOLD_SUB_CLOSED, IZ_HOLD_PARTNER_CLOSED},
        {"NONE", IZ_HOLD_SUB_NONE, IZ_HOLD_PARTNER_NONE},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(states); i++)
        if (strcmp(sub->status, states[i].status) == 0)
            return partner ? states[i].partner : states[i].own;
    if (strcmp(sub->status, "ACTIVE") != 0) return IZ_HOLD_NONE;
    /* "usedConsentLimit alanı ile consentLimit alanı eşit olduğunda API
     * tarafında izin ekleme işlemine izin verilmez", unless the package
     * lets the limit be passed. */
    if (!partner && sub->consent_limit > 0 && sub->used >= sub->consent_limit &&
        sub->limit_exceed != 1)
        return IZ_HOLD_LIMIT_FULL;
    return IZ_HOLD_NONE;
}

int iz_standing_grants_parse(const json_t *list, iz_grant_t **grants, size_t *n, size_t *skipped)
{
    if (!json_is_array(list)) return IZ_EINVAL;
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        iz_grant_t g = {0};
        if (!code_value(json_object_get(it, "iysCode"), &g.iys_code) ||
            !code_value(json_object_get(it, "brandCode"), &g.brand_code)) {
            (*skipped)++;
            continue;
        }
        for (iz_type_t t = IZ_ARAMA; t <= IZ_EPOSTA; t++)
            g.right[t] = iz_right_parse(json_string_value(json_object_get(it, iz_type_name(t))));
        g.agreement = json_is_true(json_object_get(it, "agreementControl"));
        *grants = iz_xrealloc(*grants, (*n + 1) * sizeof **grants);
        (*grants)[(*n)++] = g;
    }
    return 0;
}

const iz_grant_t *iz_standing_grant(const iz_grant_t *g, size_t n, int64_t iys_code,
                                    int64_t brand_code)
{
    for (size_t i = 0; i < n; i++)
        if (g[i].iys_code == iys_code && g[i].brand_code == brand_code) return &g[i];
    return NULL;
}

bool iz_standing_authorized(const iz_grant_t *g, size_t n, int64_t iys_code)
{
    for (size_t i = 0; i < n; i++)
        if (g[i].iys_code == iys_code) return true;
    return false;
}

iz_right_t iz_standing_right(const iz_grant_t *g, iz_type_t type)
{
    return g && type >= IZ_ARAMA && type <= IZ_EPOSTA ? g->right[type] : IZ_RIGHT_NONE;
}
