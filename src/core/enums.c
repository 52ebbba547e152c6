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

static const char *const type_names[] = {NULL, "ARAMA", "MESAJ", "EPOSTA"};

static const char *const status_names[] = {NULL, "ONAY", "RET"};

static const char *const rtype_names[] = {NULL, "BIREYSEL", "TACIR"};

static const char *const source_names[IZ_SOURCE_COUNT_] = {
    [IZ_SOURCE_NONE] = NULL,
    [IZ_HS_FIZIKSEL_ORTAM] = "HS_FIZIKSEL_ORTAM",
    [IZ_HS_ISLAK_IMZA] = "HS_ISLAK_IMZA",
    [IZ_HS_ETKINLIK] = "HS_ETKINLIK",
    [IZ_HS_ATM] = "HS_ATM",
    [IZ_HS_EORTAM] = "HS_EORTAM",
    [IZ_HS_WEB] = "HS_WEB",
    [IZ_HS_MOBIL] = "HS_MOBIL",
    [IZ_HS_MESAJ] = "HS_MESAJ",
    [IZ_HS_EPOSTA] = "HS_EPOSTA",
    [IZ_HS_CAGRI_MERKEZI] = "HS_CAGRI_MERKEZI",
    [IZ_HS_SOSYAL_MEDYA] = "HS_SOSYAL_MEDYA",
    [IZ_HS_2015] = "HS_2015",
    [IZ_HS_KARAR] = "HS_KARAR",
    [IZ_IYS_CM] = "IYS_CM",
    [IZ_IYS_WEB] = "IYS_WEB",
    [IZ_IYS_WEB_YENI] = "IYS_WEB_YENI",
    [IZ_IYS_MOBIL] = "IYS_MOBIL",
    [IZ_IYS_KISAMESAJ] = "IYS_KISAMESAJ",
    [IZ_IYS_EPOSTA] = "IYS_EPOSTA",
    [IZ_IYS_AHS_HAT_KAPATMA] = "IYS_AHS_HAT_KAPATMA",
    [IZ_IYS_FRAME_EPOSTA] = "IYS_FRAME_EPOSTA",
    [IZ_IYS_FRAME_SMS] = "IYS_FRAME_SMS",
};

static const char *const origin_names[] = {NULL, "API", "BULK", "SMS", "URL", "PANEL", "IYS"};

static const char *const iys_state_names[] = {NULL,       "PENDING",  "SENT",
                                              "ACCEPTED", "REJECTED", "LOCAL"};

/* The spelling of value v in a table of n names, NULL when out of range. */
static const char *name_of(const char *const *names, size_t n, int v)
{
    if (v <= 0 || (size_t)v >= n) return NULL;
    return names[v];
}

/* The value whose spelling is exactly s, or 0 when there is none. */
static int value_of(const char *const *names, size_t n, const char *s)
{
    if (!s) return 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i], s) == 0) return (int)i;
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
