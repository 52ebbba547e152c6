/*
 * consent.h - a consent change: parsing and validating one as İYS does, and
 * the state rules that judge it against the current record.
 *
 * Validation is in two steps, mirroring İYS:
 *   1. iz_consent_validate(): the fields on their own (missing, wrong value,
 *      bad recipient, bad date, unknown field). All failures are reported,
 *      each with its H-code and the field it concerns.
 *   2. iz_consent_rules(): the change against the current record of the same
 *      (brand, recipient, recipientType, type): H174 H175 H178 H462
 *      H463 and the 3-business-day rule H467.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_CONSENT_H
#define IZ_CONSENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/enums.h"
#include "core/recipient.h"
#include "core/retail.h"
#include "core/trtime.h"

/* One field as it arrived: absent, null, a non-string value, or a string. */
typedef enum {
    IZ_FIELD_ABSENT = 0,
    IZ_FIELD_NULL,
    IZ_FIELD_NOT_STRING,
    IZ_FIELD_STRING
} iz_field_kind_t;

typedef struct iz_field {
    iz_field_kind_t kind;
    const char *s; /* the string (not owned) when kind == IZ_FIELD_STRING */
    size_t len;
} iz_field_t;

/* The raw fields of one consent as a client sent them. The retailer
 * fields (optional) come as text (core/retail.h): retailer_code the code's
 * digits, retailer_access the codes separated by '|', ',' or spaces; null
 * is IZ_FIELD_NULL, a value of another kind (not a number or string, not a
 * list) IZ_FIELD_NOT_STRING. */
typedef struct iz_consent_raw {
    iz_field_t recipient, type, status, source, consent_date, recipient_type;
    const char *unknown_field; /* name of the first unknown field, or NULL */
    iz_field_t retailer_code, retailer_access;
} iz_consent_raw_t;

/* A validated consent change. consent_date is 0 and source IZ_SOURCE_NONE
 * only for a TACIR record that omitted them. */
typedef struct iz_consent {
    char recipient[IZ_RECIPIENT_MAX]; /* normalized */
    iz_type_t type;
    iz_status_t status;
    iz_source_t source;
    iz_rtype_t rtype;
    int64_t consent_date; /* epoch seconds */
    iz_retail_t retail;   /* last: a copy may stop after its list's n codes */
} iz_consent_t;

#define IZ_VERR_MAX 8

typedef struct iz_verr {
    const char *code;  /* "H121" */
    const char *field; /* "recipient"; NULL when it concerns the whole body */
} iz_verr_t;

typedef struct iz_verrs {
    int n;
    iz_verr_t e[IZ_VERR_MAX];
} iz_verrs_t;

typedef struct iz_validate_opts {
    int64_t now;             /* current time, epoch seconds (H162) */
    bool allow_iys_sources;  /* accept IYS_* sources (changes pulled from İYS) */
} iz_validate_opts_t;

/* Validate raw into out. Returns 0, or IZ_ERULE with every failure in errs
 * (in field order: recipient, type, status, source, consentDate,
 * recipientType, retailerCode, retailerAccess, then H118 with the unknown
 * field's name as its field), one error per field. The retailer fields'
 * format codes are İYS's: retailerCode null H266, "" H267, another kind
 * H085; retailerAccess null H169, not a list H085, empty H163, over 100
 * codes H126. A code that is not well-formed names no retailer: H180 (403),
 * reported alone and only when nothing else failed, as İYS judges the
 * retailers only of a well-formed request (the list first, then the
 * code). raw, opts and out must not be NULL (IZ_EINVAL); errs may
 * be NULL. On failure out holds the fields that were valid. */
int iz_consent_validate(const iz_consent_raw_t *raw, const iz_validate_opts_t *opts,
                        iz_consent_t *out, iz_verrs_t *errs);

/* The current record of a key, as the rules need it. */
typedef struct iz_current {
    bool exists;
    iz_status_t status;
    iz_source_t source;
    int64_t consent_date;
} iz_current_t;

typedef struct iz_rules_ctx {
    int64_t now;                  /* registration time, epoch seconds */
    int64_t activation;           /* account's İYS activation (epoch of that
                                     day's 00:00 TR time), 0 = upload period */
    const iz_holidays_t *holidays;/* may be NULL (weekends only) */
} iz_rules_ctx_t;

/* Judge c against cur, in this order: H462/H463 (TACIR update without
 * consentDate/source), H175 (first record is RET, HS_KARAR included), H174,
 * H178, H467.
 * Returns NULL when the change may be recorded, else the H-code that
 * refuses it. cur NULL means no record; ctx NULL skips H467. "H175" (first
 * record is RET) is returned like the others; izin's callers keep such a
 * RET locally, the emulator refuses it. */
const char *iz_consent_rules(const iz_consent_t *c, const iz_current_t *cur,
                             const iz_rules_ctx_t *ctx);
/* The H467 check alone: true when c's consentDate is more than 3 business
 * days before ctx->now and the account is past its activation (ctx NULL:
 * false). It needs no current record, so a bulk request can be judged by
 * it when it arrives. */
bool iz_consent_too_late(const iz_consent_t *c, const iz_rules_ctx_t *ctx);

#endif
