/*
 * enums.c - the spellings of the İYS enumerations and izin's own.
 *
 * Each enum has one table indexed by its value, so a name and its value can
 * never drift apart; index 0 (NONE) has no spelling. Parsing is exact and
 * case-sensitive because İYS itself refuses "onay" for ONAY: accepting it
 * locally would only move the refusal to İYS and cost success rate.
 */
#include "core/enums.h"

#include <string.h>

#include "core/iz.h"

/* A spelling with its length: parsing compares lengths and last letters
 * before any bytes (the source table has 23 spellings, a bulk file brings
 * one a row). */
typedef struct name {
    const char *s;
    unsigned char len;
} name_t;

/* clang-format off */
#define N(text) {text, sizeof text - 1}
/* clang-format on */

static const name_t type_names[] = {{NULL, 0}, N("ARAMA"), N("MESAJ"), N("EPOSTA")};

static const name_t status_names[] = {{NULL, 0}, N("ONAY"), N("RET")};

static const name_t rtype_names[] = {{NULL, 0}, N("BIREYSEL"), N("TACIR")};

static const name_t source_names[IZ_SOURCE_COUNT_] = {
    [IZ_SOURCE_NONE] = {NULL, 0},
    [IZ_HS_FIZIKSEL_ORTAM] = N("HS_FIZIKSEL_ORTAM"),
    [IZ_HS_ISLAK_IMZA] = N("HS_ISLAK_IMZA"),
    [IZ_HS_ETKINLIK] = N("HS_ETKINLIK"),
    [IZ_HS_ATM] = N("HS_ATM"),
    [IZ_HS_EORTAM] = N("HS_EORTAM"),
    [IZ_HS_WEB] = N("HS_WEB"),
    [IZ_HS_MOBIL] = N("HS_MOBIL"),
    [IZ_HS_MESAJ] = N("HS_MESAJ"),
    [IZ_HS_EPOSTA] = N("HS_EPOSTA"),
    [IZ_HS_CAGRI_MERKEZI] = N("HS_CAGRI_MERKEZI"),
    [IZ_HS_SOSYAL_MEDYA] = N("HS_SOSYAL_MEDYA"),
    [IZ_HS_2015] = N("HS_2015"),
    [IZ_HS_KARAR] = N("HS_KARAR"),
    [IZ_IYS_CM] = N("IYS_CM"),
    [IZ_IYS_WEB] = N("IYS_WEB"),
    [IZ_IYS_WEB_YENI] = N("IYS_WEB_YENI"),
    [IZ_IYS_MOBIL] = N("IYS_MOBIL"),
    [IZ_IYS_KISAMESAJ] = N("IYS_KISAMESAJ"),
    [IZ_IYS_EPOSTA] = N("IYS_EPOSTA"),
    [IZ_IYS_AHS_HAT_KAPATMA] = N("IYS_AHS_HAT_KAPATMA"),
    [IZ_IYS_FRAME_EPOSTA] = N("IYS_FRAME_EPOSTA"),
    [IZ_IYS_FRAME_SMS] = N("IYS_FRAME_SMS"),
};

static const name_t origin_names[] = {{NULL, 0}, N("API"),   N("BULK"), N("SMS"),
                                      N("URL"),  N("PANEL"), N("IYS")};

static const name_t iys_state_names[] = {{NULL, 0},     N("PENDING"),  N("SENT"),
                                         N("ACCEPTED"), N("REJECTED"), N("LOCAL")};

/* The spelling of value v in a table of n names, NULL when out of range. */
static const char *name_of(const name_t *names, size_t n, int v)
{
    if (v <= 0 || (size_t)v >= n) return NULL;
    return names[v].s;
}

/* The value whose spelling is exactly s, or 0 when there is none. */
static int value_of(const name_t *names, size_t n, const char *s)
{
    if (!s || !*s) return 0;
    size_t len = strlen(s);
    for (size_t i = 1; i < n; i++)
        if (names[i].len == len && names[i].s[len - 1] == s[len - 1] &&
            memcmp(names[i].s, s, len) == 0)
            return (int)i;
    return 0;
}

/* The name and parse functions of one enum, from its table: written once,
 * so the six enums cannot drift apart in how they are read. */
#define ENUM_FUNCS(prefix, type, table)                                                            \
    const char *iz_##prefix##_name(type v)                                                         \
    {                                                                                              \
        return name_of(table, IZ_ARRAY_LEN(table), (int)v);                                        \
    }                                                                                              \
    int iz_##prefix##_parse(const char *s, type *out)                                              \
    {                                                                                              \
        int v = value_of(table, IZ_ARRAY_LEN(table), s);                                           \
        if (!v) return IZ_EINVAL;                                                                  \
        *out = (type)v;                                                                            \
        return IZ_OK;                                                                              \
    }

ENUM_FUNCS(type, iz_type_t, type_names)
ENUM_FUNCS(status, iz_status_t, status_names)
ENUM_FUNCS(rtype, iz_rtype_t, rtype_names)
ENUM_FUNCS(source, iz_source_t, source_names)
ENUM_FUNCS(origin, iz_origin_t, origin_names)
ENUM_FUNCS(iys_state, iz_iys_state_t, iys_state_names)

bool iz_source_is_hs(iz_source_t v)
{
    return v >= IZ_HS_FIZIKSEL_ORTAM && v <= IZ_HS_KARAR;
}

const char *iz_right_name(iz_right_t r)
{
    return r == IZ_RIGHT_WRITE ? "write" : r == IZ_RIGHT_READ ? "read" : NULL;
}

iz_right_t iz_right_parse(const char *s)
{
    if (s && strcmp(s, "write") == 0) return IZ_RIGHT_WRITE;
    if (s && strcmp(s, "read") == 0) return IZ_RIGHT_READ;
    return IZ_RIGHT_NONE;
}
