/*
 * consent.c - validating one consent change as İYS does, and judging it
 * against the current record of its key.
 *
 * izin refuses locally everything İYS would refuse, with İYS's own code, so
 * that no request izin sends can fail at İYS and lower the success rate İYS
 * watches. Validation reports every failing field at once, in a fixed order
 * (recipient, type, status, source, consentDate, recipientType, then an
 * unknown field), one code per field:
 *   - absent, null or "" in a required field is "missing" (H114 H111 H110
 *     H113 H112); recipientType is optional (BIREYSEL) but an explicit null
 *     or "" is H170;
 *   - a value that is not a string, or not one of the field's values, is
 *     the field's "bad value" code (recipient H121/H120/H122 by type, type
 *     H117, status H115, source H119, consentDate H158, recipientType H116);
 *   - TACIR may omit source and consentDate (omit only: null is still
 *     missing);
 *   - IYS_* sources only when the caller allows them (changes pulled from
 *     İYS); HS_KARAR needs RET (H408).
 *   - the retailer fields (optional) get İYS's format codes (H266 H267 H085
 *     H169 H163 H126); a code that cannot name a retailer is H180, judged
 *     only when nothing else failed, as İYS judges retailers.
 * The rules step then applies İYS's state rules in İYS's order.
 */
#include "core/consent.h"

#include <string.h>

#include "core/iz.h"

#define ENUM_TEXT_MAX 32 /* longer than every enum spelling */

static void add_err(iz_verrs_t *errs, const char *code, const char *field)
{
    if (errs->n < IZ_VERR_MAX) {
        errs->e[errs->n].code = code;
        errs->e[errs->n].field = field;
        errs->n++;
    }
}

/* Absent, null and "" all mean "not given" for a required field. */
static int is_missing(const iz_field_t *f)
{
    return f->kind == IZ_FIELD_ABSENT || f->kind == IZ_FIELD_NULL ||
           (f->kind == IZ_FIELD_STRING && (f->len == 0 || !f->s));
}

/* Copy a string field into buf as a C string for the enum parsers; 0 when
 * it cannot be an enum spelling (too long, or holding a NUL byte that would
 * cut "ONAY\0junk" down to "ONAY"). */
static int enum_text(const iz_field_t *f, char buf[ENUM_TEXT_MAX])
{
    if (f->kind != IZ_FIELD_STRING || !f->s || f->len >= ENUM_TEXT_MAX ||
        memchr(f->s, '\0', f->len))
        return 0;
    memcpy(buf, f->s, f->len);
    buf[f->len] = '\0';
    return 1;
}

int iz_consent_validate(const iz_consent_raw_t *raw, const iz_validate_opts_t *opts,
                        iz_consent_t *out, iz_verrs_t *errs)
{
    iz_verrs_t local;
    char buf[ENUM_TEXT_MAX];
    const char *code;
    int type_ok, status_ok, rtype_ok, tacir;

    if (!errs) errs = &local;
    errs->n = 0;
    if (!raw || !opts || !out) return IZ_EINVAL;
    memset(out, 0, sizeof(*out));

    /* Parse the fields the others depend on first: the type decides how
     * the recipient is read, recipientType whether source and consentDate
     * may be omitted, status whether HS_KARAR is allowed. Errors are still
     * reported in field order below. */
    type_ok = enum_text(&raw->type, buf) && iz_type_parse(buf, &out->type) == IZ_OK;
    status_ok = enum_text(&raw->status, buf) && iz_status_parse(buf, &out->status) == IZ_OK;
    if (raw->recipient_type.kind == IZ_FIELD_ABSENT) {
        out->rtype = IZ_BIREYSEL;
        rtype_ok = 1;
    } else {
        rtype_ok =
            enum_text(&raw->recipient_type, buf) && iz_rtype_parse(buf, &out->rtype) == IZ_OK;
    }
    tacir = rtype_ok && out->rtype == IZ_TACIR;

    /* recipient */
    if (is_missing(&raw->recipient)) {
        add_err(errs, "H114", "recipient");
    } else if (raw->recipient.kind != IZ_FIELD_STRING) {
        add_err(errs, out->type == IZ_EPOSTA ? "H120" : type_ok ? "H121" : "H122", "recipient");
    } else if (iz_recipient_normalize(raw->recipient.s, raw->recipient.len,
                                      type_ok ? out->type : IZ_TYPE_NONE, out->recipient,
                                      &code) != IZ_OK) {
        add_err(errs, code, "recipient");
    }

    /* type */
    if (is_missing(&raw->type))
        add_err(errs, "H111", "type");
    else if (!type_ok)
        add_err(errs, "H117", "type");

    /* status */
    if (is_missing(&raw->status))
        add_err(errs, "H110", "status");
    else if (!status_ok)
        add_err(errs, "H115", "status");

    /* source */
    if (raw->source.kind == IZ_FIELD_ABSENT && tacir) {
        out->source = IZ_SOURCE_NONE;
    } else if (is_missing(&raw->source)) {
        add_err(errs, "H113", "source");
    } else if (!enum_text(&raw->source, buf) || iz_source_parse(buf, &out->source) != IZ_OK ||
               (!iz_source_is_hs(out->source) && !opts->allow_iys_sources)) {
        out->source = IZ_SOURCE_NONE;
        add_err(errs, "H119", "source");
    } else if (out->source == IZ_HS_KARAR && status_ok && out->status != IZ_RET) {
        add_err(errs, "H408", "source");
    }

    /* consentDate */
    if (raw->consent_date.kind == IZ_FIELD_ABSENT && tacir) {
        out->consent_date = 0;
    } else if (is_missing(&raw->consent_date)) {
        add_err(errs, "H112", "consentDate");
    } else if (raw->consent_date.kind != IZ_FIELD_STRING) {
        add_err(errs, "H158", "consentDate");
    } else if (iz_tr_parse(raw->consent_date.s, raw->consent_date.len, &out->consent_date, &code) !=
               IZ_OK) {
        out->consent_date = 0;
        add_err(errs, code, "consentDate");
    } else if (out->source == IZ_HS_2015 && out->consent_date != IZ_EPOCH_2015) {
        /* HS_2015 names one instant; checked first because any other date,
         * earlier or later, breaks this more specific rule. */
        add_err(errs, "H155", "consentDate");
    } else if (out->consent_date < IZ_EPOCH_2015) {
        add_err(errs, "H156", "consentDate");
    } else if (out->consent_date > opts->now) {
        add_err(errs, "H162", "consentDate");
    }

    /* recipientType */
    if (raw->recipient_type.kind != IZ_FIELD_ABSENT) {
        if (is_missing(&raw->recipient_type))
            add_err(errs, "H170", "recipientType");
        else if (!rtype_ok)
            add_err(errs, "H116", "recipientType");
    }

    /* retailerCode, retailerAccess: their format first; whether the codes
     * can name a retailer only when the whole request is well-formed. */
    const char *bad_code = NULL;
    const iz_field_t *rc = &raw->retailer_code, *ra = &raw->retailer_access;
    if (rc->kind == IZ_FIELD_NULL) {
        add_err(errs, "H266", "retailerCode");
    } else if (rc->kind == IZ_FIELD_NOT_STRING) {
        add_err(errs, "H085", "retailerCode");
    } else if (rc->kind == IZ_FIELD_STRING && (rc->len == 0 || !rc->s)) {
        add_err(errs, "H267", "retailerCode");
    } else if (rc->kind == IZ_FIELD_STRING &&
               !iz_retail_code_parse(rc->s, rc->len, &out->retail.code)) {
        bad_code = "retailerCode";
    }
    if (ra->kind == IZ_FIELD_NULL) {
        add_err(errs, "H169", "retailerAccess");
    } else if (ra->kind == IZ_FIELD_NOT_STRING) {
        add_err(errs, "H085", "retailerAccess");
    } else if (ra->kind == IZ_FIELD_STRING) {
        switch (iz_retail_list_parse(ra->s ? ra->s : "", ra->s ? ra->len : 0, &out->retail, NULL)) {
        case IZ_RETAIL_LIST_OK:
            break;
        case IZ_RETAIL_LIST_EMPTY:
            add_err(errs, "H163", "retailerAccess");
            break;
        case IZ_RETAIL_LIST_TOO_LONG:
            add_err(errs, "H126", "retailerAccess");
            break;
        case IZ_RETAIL_LIST_BAD_CODE:
            bad_code = "retailerAccess";
            break;
        }
    }

    if (raw->unknown_field) add_err(errs, "H118", raw->unknown_field);

    if (bad_code && errs->n == 0) add_err(errs, "H180", bad_code);
    return errs->n ? IZ_ERULE : IZ_OK;
}

const char *iz_consent_rules(const iz_consent_t *c, const iz_current_t *cur,
                             const iz_rules_ctx_t *ctx)
{
    static const iz_current_t none = {0};

    if (!c) return "H015";
    if (!cur) cur = &none;

    /* HS_KARAR (the provider's own decision to stop) only ever carries RET
     * (an ONAY is refused by validation with H408); a first RET from it is
     * a first RET like any other: H175, which izin keeps locally. */
    /* TACIR may omit source and date only on its first record. */
    if (cur->exists && c->rtype == IZ_TACIR) {
        if (c->consent_date == 0) return "H462";
        if (c->source == IZ_SOURCE_NONE) return "H463";
    }
    if (!cur->exists && c->status == IZ_RET) return "H175";
    if (cur->exists && c->status == cur->status) return "H174";
    if (cur->exists && c->consent_date != 0 && cur->consent_date != 0 &&
        c->consent_date <= cur->consent_date)
        return "H178";
    if (iz_consent_too_late(c, ctx)) return "H467";
    return NULL;
}

/* The 3-business-day rule holds only after the account's İYS activation;
 * before it the account is uploading its existing consents. */
bool iz_consent_too_late(const iz_consent_t *c, const iz_rules_ctx_t *ctx)
{
    return c && ctx && ctx->activation != 0 && ctx->now >= ctx->activation &&
           c->consent_date != 0 && ctx->now > iz_bizday_deadline(ctx->holidays, c->consent_date);
}
