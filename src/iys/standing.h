/*
 * standing.h - an account's standing with İYS: whether its changes may go
 * to İYS now, and why not. Pure logic, no I/O: it reads İYS's answers (the
 * subscription query, a partner's authorization listing, an error code)
 * into states the sync engine (sync.c) acts on.
 *
 * A hold stops sending for the whole account; its changes wait in the
 * outbox (PENDING), nothing is dropped and nothing is sent only to fail:
 *   - the HS subscription is PAUSED, EXPIRED or CLOSED, or there is none
 *     (İYS's H520, H521, H524; the query's 404 H437);
 *   - the consent limit is full (usedConsentLimit >= consentLimit without
 *     consentLimitExceed; İYS's H525): new consents wait, RETs still go
 *     (a RET changes a record İYS has, which the limit does not count);
 *   - the package has no API use (H586);
 *   - the user may not act for the iysCode (H353 "iysCode, ..."; a
 *     partner no brand of the provider authorized);
 *   - partner mode: the partner's own subscription is not ACTIVE, or
 *     `izin serve` has no partner credentials.
 * A partner's missing rights on one brand or type hold only those changes
 * (sync.c parks them); the listing (iz_standing_grants_parse) says which.
 */
#ifndef IZ_IYS_STANDING_H
#define IZ_IYS_STANDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/enums.h"

typedef enum {
    IZ_HOLD_NONE = 0,
    IZ_HOLD_SUB_PAUSED,
    IZ_HOLD_SUB_EXPIRED,
    IZ_HOLD_SUB_CLOSED,
    IZ_HOLD_SUB_NONE,
    IZ_HOLD_LIMIT_FULL,
    IZ_HOLD_NO_API,
    IZ_HOLD_NOT_AUTHORIZED,
    IZ_HOLD_PARTNER_PAUSED,
    IZ_HOLD_PARTNER_EXPIRED,
    IZ_HOLD_PARTNER_CLOSED,
    IZ_HOLD_PARTNER_NONE,
    IZ_HOLD_NO_PARTNER_CREDENTIALS,
    IZ_HOLD_COUNT_
} iz_hold_t;

/* The reason's word in the API, the command line and /metrics
 * ("SUBSCRIPTION_PAUSED", ...); "" for IZ_HOLD_NONE. */
const char *iz_hold_name(iz_hold_t h);

/* Whether İYS refuses every call of the account under this hold (reads,
 * pulls and polls too), as opposed to new consents only (the limit). */
bool iz_hold_stops_all(iz_hold_t h);

/* The hold an error answer means, or IZ_HOLD_NONE for a code that is
 * about the change itself. message tells whose subscription H520 and H521
 * are about: İYS names "Entegratör" for the partner's own. H353 is
 * IZ_HOLD_NOT_AUTHORIZED only for the iysCode (iz_standing_h353_field
 * tells the brand and type ones, which hold one brand or type). */
iz_hold_t iz_standing_hold_of_code(const char *code, const char *message);

/* The field an H353 message names: "iysCode, kullanıcı izinleriyle
 * eşleştirilemiyor" and the like. */
typedef enum { IZ_H353_OTHER = 0, IZ_H353_IYSCODE, IZ_H353_BRAND, IZ_H353_TYPE } iz_h353_t;
iz_h353_t iz_standing_h353_field(const char *message);

/* A subscription as İYS's query answers it. Fields İYS does not show (an
 * integrator sees no limits) are -1. */
typedef struct iz_sub {
    char status[16];       /* ACTIVE, PAUSED, EXPIRED, CLOSED; NONE: no subscription */
    int64_t consent_limit; /* -1: not shown or no limit */
    int64_t used;          /* -1: not shown */
    int limit_exceed;      /* 1 the limit may be passed, 0 not, -1 not shown */
} iz_sub_t;

/* Read the query's answer; IZ_EINVAL when it has no status. */
int iz_standing_sub_parse(const json_t *body, iz_sub_t *out);

/* The hold a subscription means (partner: its own subscription, whose
 * holds are the PARTNER_ ones); for a state İYS does not document,
 * IZ_HOLD_NONE: izin does not stop on what it cannot read, İYS's answers
 * to the sends will tell. */
iz_hold_t iz_standing_sub_hold(const iz_sub_t *sub, bool partner);

/* A partner's rights on one brand, from GET /integrator/{code}/sps. */
typedef struct iz_grant {
    int64_t iys_code, brand_code;
    iz_right_t right[IZ_EPOSTA + 1]; /* by consent type (core/enums.h) */
    bool agreement;                  /* agreementControl: the reconciliation calls */
} iz_grant_t;

/* Append the items of one listing page (its "list"; codes as numbers or
 * text, as İYS's example writes them) to *grants (realloc'd; the caller
 * frees it) and *n. Items that cannot be read are skipped and counted in
 * *skipped. IZ_EINVAL when list is not an array. */
int iz_standing_grants_parse(const json_t *list, iz_grant_t **grants, size_t *n, size_t *skipped);

/* The grant of (iys_code, brand_code) in a listing, or NULL. */
const iz_grant_t *iz_standing_grant(const iz_grant_t *g, size_t n, int64_t iys_code,
                                    int64_t brand_code);

/* Whether any brand of iys_code is in the listing. */
bool iz_standing_authorized(const iz_grant_t *g, size_t n, int64_t iys_code);

/* The right a grant gives on one consent type (NONE for NULL). */
iz_right_t iz_standing_right(const iz_grant_t *g, iz_type_t type);

#endif
