/*
 * enums.h - the İYS enumerations with their exact spellings, and izin's own
 * (origin, İYS delivery state).
 *
 * Each enum has 0 as "absent / not given", so a zeroed struct means "nothing
 * set". Names are spelled exactly as İYS spells them on the wire; *_name()
 * returns that spelling and *_parse() accepts exactly it (case-sensitive, as
 * İYS is).
 */
#ifndef IZ_ENUMS_H
#define IZ_ENUMS_H

#include <stdbool.h>

typedef enum { IZ_TYPE_NONE = 0, IZ_ARAMA, IZ_MESAJ, IZ_EPOSTA } iz_type_t;

typedef enum { IZ_STATUS_NONE = 0, IZ_ONAY, IZ_RET } iz_status_t;

typedef enum { IZ_RTYPE_NONE = 0, IZ_BIREYSEL, IZ_TACIR } iz_rtype_t;

typedef enum {
    IZ_SOURCE_NONE = 0,
    /* sources a service provider (HS) may use */
    IZ_HS_FIZIKSEL_ORTAM,
    IZ_HS_ISLAK_IMZA,
    IZ_HS_ETKINLIK,
    IZ_HS_ATM,
    IZ_HS_EORTAM,
    IZ_HS_WEB,
    IZ_HS_MOBIL,
    IZ_HS_MESAJ,
    IZ_HS_EPOSTA,
    IZ_HS_CAGRI_MERKEZI,
    IZ_HS_SOSYAL_MEDYA,
    IZ_HS_2015,
    IZ_HS_KARAR,
    /* sources only İYS sets (a citizen acting on İYS's channels) */
    IZ_IYS_CM,
    IZ_IYS_WEB,
    IZ_IYS_WEB_YENI,
    IZ_IYS_MOBIL,
    IZ_IYS_KISAMESAJ,
    IZ_IYS_EPOSTA,
    IZ_IYS_AHS_HAT_KAPATMA,
    IZ_IYS_FRAME_EPOSTA,
    IZ_IYS_FRAME_SMS,
    IZ_SOURCE_COUNT_
} iz_source_t;

/* How a change reached izin (izin only; İYS does not know it). */
typedef enum {
    IZ_ORIGIN_NONE = 0,
    IZ_ORIGIN_API,
    IZ_ORIGIN_BULK,
    IZ_ORIGIN_SMS,
    IZ_ORIGIN_URL,
    IZ_ORIGIN_PANEL,
    IZ_ORIGIN_IYS,
    IZ_ORIGIN_COUNT_
} iz_origin_t;

/* Where a change stands with İYS. */
typedef enum {
    IZ_IYS_NONE = 0,
    IZ_IYS_PENDING,
    IZ_IYS_SENT,
    IZ_IYS_ACCEPTED,
    IZ_IYS_REJECTED,
    IZ_IYS_LOCAL
} iz_iys_state_t;

/* Spelling of a value, or NULL for NONE/out of range. */
const char *iz_type_name(iz_type_t v);
const char *iz_status_name(iz_status_t v);
const char *iz_rtype_name(iz_rtype_t v);
const char *iz_source_name(iz_source_t v);
const char *iz_origin_name(iz_origin_t v);
const char *iz_iys_state_name(iz_iys_state_t v);

/* Parse the exact spelling; 0 on success, IZ_EINVAL otherwise (out untouched). */
int iz_type_parse(const char *s, iz_type_t *out);
int iz_status_parse(const char *s, iz_status_t *out);
int iz_rtype_parse(const char *s, iz_rtype_t *out);
int iz_source_parse(const char *s, iz_source_t *out);
int iz_origin_parse(const char *s, iz_origin_t *out);
int iz_iys_state_parse(const char *s, iz_iys_state_t *out);

/* What a provider lets a partner (iş ortağı) do with one consent type of a
 * brand, as İYS's integrator listing spells it: "write" (which includes
 * reading), "read", or null for none. */
typedef enum { IZ_RIGHT_NONE = 0, IZ_RIGHT_READ, IZ_RIGHT_WRITE } iz_right_t;

/* "read", "write", or NULL for none; anything but those two reads as none. */
const char *iz_right_name(iz_right_t r);
iz_right_t iz_right_parse(const char *s);

/* True for HS_* sources (those a provider may send), false for IYS_*. */
bool iz_source_is_hs(iz_source_t v);

#endif
