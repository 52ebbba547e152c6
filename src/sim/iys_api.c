/*
 * iys_api.c - the İYS API as the emulator answers it: /oauth2/token and the
 * consent calls under /sps/{iysCode}/brands/{brandCode}/... and /v2/sps/...
 * with İYS's statuses, H-codes and answer shapes (spec/IYS.md and the
 * official OpenAPI document).
 *
 * Every call but the token call goes through authorize(): bearer token,
 * integer path codes, the token's own provider, its subscription state and
 * the brand. Consent writes are judged by iz__sim_rule inside the store's
 * write transaction. Async bulk requests are only checked and stored here;
 * bulk.c applies them later. Where İYS's documents are silent the choices
 * are written next to the code and in docs/DECISIONS.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "net/form.h"
#include "net/jsonconsent.h"
#include "sys/crypto.h"
#include "sim/jwt.h"
#include "sim/sim_int.h"

#define BULK_MAX 1000    /* items in one async bulk request (H091) */
#define MULTI_MAX 1000   /* recipients in one multi-status query */
#define HISTORY_MAX 100  /* page size of the history (H186) */
#define CHANGES_MAX 1000 /* page size of the change pull (H507) */
#define CHANGES_WINDOW (7 * 86400)
#define CRED_MAX 256 /* username, password */
#define REQUEST_ID_MAX 36

/* ---- small helpers -------------------------------------------------------- */

static json_t *field_value(json_t *body, const char *field)
{
    return field && json_is_object(body) ? json_object_get(body, field) : NULL;
}

/* The version 4 UUID of 16 random bytes, in its text form. */
static void uuid4_of(const uint8_t rnd[16], char out[37])
{
    uint8_t b[16];
    memcpy(b, rnd, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char hex[33];
    iz_hex(b, sizeof b, hex);
    /* 8-4-4-4-12 */
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

void iz__sim_uuid4(char out[37])
{
    uint8_t b[16];
    if (iz_random(b, sizeof b) != 0) iz_oom();
    uuid4_of(b, out);
}

static json_t *tr_date(int64_t t)
{
    char buf[IZ_DATETIME_LEN];
    iz_tr_format(t, buf);
    return json_string(buf);
}

/* An error with a location and the offending value (borrowed). */
static void reply_field_error(iz_req_t *r, const char *code, const char *message,
                              const char *location, json_t *value)
{
    iz_error_t e = {
        .code = code, .message = message, .location = location, .value = value, .index = -1};
    iz_reply_errors(r, iz_hcode_http(code), &e, 1);
}

void iz__sim_field_error(iz_req_t *r, const char *code, const char *message, const char *location,
                         const char *value)
{
    json_t *v = value ? json_string(value) : NULL;
    reply_field_error(r, code, message, location, v);
    json_decref(v);
}

/* True when a raw phone is written as İYS takes it: exactly the E.164 form
 * izin normalized it to ("+905321234567"; İYS refuses the many other ways
 * of writing a number that izin's own API forgives), or İYS's known wrong
 * form of a mobile number, "+9005321234567". İYS stores that form as sent:
 * its documents say such a number is not shown to the citizen and is not
 * found by a query in the right form, so no SMS can be sent to it. For it
 * norm (IZ_RECIPIENT_MAX bytes) becomes the raw text. */
static bool phone_as_iys_takes(const iz_field_t *f, char *norm)
{
    if (f->kind != IZ_FIELD_STRING) return false;
    size_t n = strlen(norm);
    if (f->len == n && memcmp(f->s, norm, n) == 0) return true;
    /* "+90" "0" "5..." written for "+90" "5..." */
    if (n > 4 && f->len == n + 1 && f->len < IZ_RECIPIENT_MAX && memcmp(norm, "+905", 4) == 0 &&
        memcmp(f->s, "+9005", 5) == 0 && memcmp(f->s + 5, norm + 4, n - 4) == 0) {
        memcpy(norm, f->s, f->len);
        norm[f->len] = '\0';
        return true;
    }
    return false;
}

/* The code İYS answers for a recipient that is not of its type's form:
 * H120 (not an e-mail address) for EPOSTA, H121 (not an E.164 phone) for
 * MESAJ and ARAMA - as the history call's examples show; H464 is kept for
 * the list query, whose examples use it. */
static const char *mismatch_code(iz_type_t type)
{
    return type == IZ_EPOSTA ? "H120" : "H121";
}

static void verr_prepend(iz_verrs_t *errs, const char *code, const char *field)
{
    if (errs->n == IZ_VERR_MAX) errs->n--;
    memmove(&errs->e[1], &errs->e[0], (size_t)errs->n * sizeof errs->e[0]);
    errs->e[0] = (iz_verr_t){.code = code, .field = field};
    errs->n++;
}

static void verr_append(iz_verrs_t *errs, const char *code, const char *field)
{
    if (errs->n < IZ_VERR_MAX) errs->e[errs->n++] = (iz_verr_t){.code = code, .field = field};
}

/* Insert an error after errs->e[at] (dropped when the list is full). */
static void verr_insert_after(iz_verrs_t *errs, int at, const char *code, const char *field)
{
    if (errs->n == IZ_VERR_MAX) return;
    memmove(&errs->e[at + 2], &errs->e[at + 1], (size_t)(errs->n - at - 1) * sizeof errs->e[0]);
    errs->e[at + 1] = (iz_verr_t){.code = code, .field = field};
    errs->n++;
}

/* Turn izin's validation errors into the ones İYS's examples show for a
 * consent: a recipient of the wrong form for its type is H120/H121 (izin
 * says H464), an over-long phone is H160 followed by H121, and HS_KARAR
 * with ONAY (H408) is about the status. */
static void verrs_as_iys(iz_verrs_t *errs, iz_type_t type)
{
    for (int i = 0; i < errs->n; i++) {
        iz_verr_t *e = &errs->e[i];
        if (strcmp(e->code, "H464") == 0) {
            e->code = mismatch_code(type);
        } else if (strcmp(e->code, "H408") == 0) {
            e->field = "status";
        } else if (strcmp(e->code, "H160") == 0) {
            verr_insert_after(errs, i, "H121", e->field);
            i++;
        }
    }
}

/* İYS's consent fields beyond the ones izin's own API takes. */
static const char *const retailer_fields[] = {"retailerCode", "retailerAccess", NULL};

int iz__sim_consent_parse(json_t *item, int64_t now, iz_consent_t *out, iz__sim_retail_t *rt,
                          iz_verrs_t *errs)
{
    iz_consent_raw_t raw;
    iz_consent_raw_from_json(item, retailer_fields, &raw);
    iz_validate_opts_t vo = {.now = now, .allow_iys_sources = false};
    iz_consent_validate(&raw, &vo, out, errs);

    bool recipient_err = false;
    for (int i = 0; i < errs->n; i++)
        if (errs->e[i].field && strcmp(errs->e[i].field, "recipient") == 0) recipient_err = true;
    if (!recipient_err && (out->type == IZ_MESAJ || out->type == IZ_ARAMA) &&
        !phone_as_iys_takes(&raw.recipient, out->recipient))
        verr_prepend(errs, "H121", "recipient");
    verrs_as_iys(errs, out->type);

    iz__sim_retail_parse(item, rt, errs);
    return errs->n ? IZ_ERULE : 0;
}

json_t *iz__sim_change_json(const iz_sim_change_t *c)
{
    json_t *o = json_object();
    if (c->consent_date) json_object_set_new(o, "consentDate", tr_date(c->consent_date));
    json_object_set_new(o, "creationDate", tr_date(c->creation));
    if (c->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(c->source)));
    json_object_set_new(o, "recipient", json_string(c->recipient));
    json_object_set_new(o, "recipientType", json_string(iz_rtype_name(c->rtype)));
    json_object_set_new(o, "status", json_string(iz_status_name(c->status)));
    json_object_set_new(o, "type", json_string(iz_type_name(c->type)));
    json_object_set_new(o, "transactionId", json_string(c->txid));
    if (c->citizen_name[0]) {
        json_t *n = json_string(c->citizen_name);
        if (n) json_object_set_new(o, "citizenName", n);
    }
    return o;
}

static void reply_store_error(iz_req_t *r)
{
    iz_reply_error(r, "H015", NULL);
}

/* ---- authorization ---------------------------------------------------------- */

/* The calls under /sps/{iysCode}/brands/{brandCode}/... (accounts.c says
 * who may make them). */
typedef iz__sim_auth_t sim_auth_t;

static int authorize(iz_req_t *r, iz_sim_t *sim, sim_auth_t *a)
{
    return iz__sim_authorize(r, sim, a, IZ__AUTH_BRAND);
}

/* authorize(), then the JSON body: an object when object_code is given
 * (answered with that code otherwise), else any JSON value. NULL when the
 * request has been answered. */
static json_t *authorized_body(iz_req_t *r, iz_sim_t *sim, sim_auth_t *a, const char *object_code)
{
    if (authorize(r, sim, a) != 0) return NULL;
    return object_code ? iz_req_json_object(r, object_code) : iz_req_json(r);
}

/* ---- POST /oauth2/token -------------------------------------------------- */

static void reply_oauth_error(iz_req_t *r, const char *error, const char *description)
{
    iz_reply_json(r, 400,
                  json_pack("{s:s, s:s}", "error", error, "error_description", description));
}

/* A field of the token request from a form or a JSON object. */
static void token_field(const iz_form_t *form, json_t *obj, const char *name, iz_field_t *f)
{
    memset(f, 0, sizeof *f);
    if (obj) {
        iz_field_from_json(f, json_object_get(obj, name));
        return;
    }
    for (size_t i = 0; i < form->n; i++) {
        if (strcmp(form->name[i], name) == 0) {
            f->kind = IZ_FIELD_STRING;
            f->s = form->value[i];
            f->len = form->value_len[i];
            return;
        }
    }
}

/* Check one required credential field: 0 when usable, else answers the
 * error İYS gives (missing / wrong type / empty) and returns -1. */
static int token_required(iz_req_t *r, const iz_field_t *f, size_t max, const char *missing,
                          const char *badtype, const char *empty)
{
    if (f->kind == IZ_FIELD_ABSENT) {
        reply_oauth_error(r, "invalid_request", missing);
        return -1;
    }
    if (f->kind != IZ_FIELD_STRING || f->len > max || memchr(f->s, '\0', f->len)) {
        reply_oauth_error(r, "invalid_request", badtype);
        return -1;
    }
    if (f->len == 0) {
        reply_oauth_error(r, "invalid_grant", empty);
        return -1;
    }
    return 0;
}

void iz__sim_h_token(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    size_t len = 0;
    const char *body = iz_req_body(r, &len);
    iz_form_t form = {0};
    json_t *obj = NULL;
    if (iz_req_content_type_is(r, "application/x-www-form-urlencoded")) {
        if (iz_form_parse(r, body ? body : "", len, &form) != 0) {
            reply_oauth_error(r, "invalid_request", "İstek gövdesi çözümlenemedi.");
            return;
        }
    } else {
        obj = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(obj)) {
            json_decref(obj);
            reply_oauth_error(r, "invalid_request", "İstek gövdesi çözümlenemedi.");
            return;
        }
    }

    iz_field_t grant, user, pass, refresh;
    token_field(&form, obj, "grant_type", &grant);
    token_field(&form, obj, "username", &user);
    token_field(&form, obj, "password", &pass);
    token_field(&form, obj, "refresh_token", &refresh);
    int64_t code = 0;
    iz_sim_owner_t owner = IZ_SIM_SP;

    if (grant.kind == IZ_FIELD_ABSENT || grant.kind == IZ_FIELD_NULL) {
        reply_oauth_error(r, "invalid_request", "Giriş yöntemi belirtilmemiş.");
    } else if (grant.kind == IZ_FIELD_STRING && grant.len == 0) {
        reply_oauth_error(r, "invalid_grant", "Giriş yöntemi boş olamaz.");
    } else if (grant.kind == IZ_FIELD_STRING && grant.len == 8 &&
               memcmp(grant.s, "password", 8) == 0) {
        if (token_required(r, &user, CRED_MAX, "Kullanıcı adı verilmemiş.",
                           "Desteklenmeyen kullanıcı adı türü.",
                           "Kullanıcı adı boş bırakılamaz.") == 0 &&
            token_required(r, &pass, CRED_MAX, "Şifre verilmemiş.", "Desteklenmeyen şifre türü.",
                           "Şifre boş bırakılamaz.") == 0) {
            int rc = iz_sim_login(sim->st, user.s, pass.s, &owner, &code);
            if (rc == 0)
                iz__sim_issue_tokens(r, sim, owner, code);
            else if (rc == IZ_ENOTFOUND)
                /* İYS's own example answers bad credentials invalid_request. */
                reply_oauth_error(r, "invalid_request", "Kullanıcı kimlik bilgileri geçersiz.");
            else
                reply_store_error(r);
        }
    } else if (grant.kind == IZ_FIELD_STRING && grant.len == 13 &&
               memcmp(grant.s, "refresh_token", 13) == 0) {
        if (token_required(r, &refresh, IZ_JWT_MAX, "Yenileme jetonu verilmemiş.",
                           "Desteklenmeyen yenileme jetonu türü.",
                           "Yenileme jetonu boş olamaz.") == 0) {
            int rc = iz__sim_refresh_owner(sim, refresh.s, refresh.len, &owner, &code);
            if (rc == 0)
                iz__sim_issue_tokens(r, sim, owner, code);
            else if (rc == IZ_ENOTFOUND)
                reply_oauth_error(r, "invalid_grant",
                                  "Yenileme jetonu geçersiz, kullanılmış ya da süresi dolmuş.");
            else
                reply_store_error(r);
        }
    } else {
        reply_oauth_error(r, "invalid_request", "Bilinmeyen giriş yöntemi.");
    }
    json_decref(obj);
}

/* ---- single add ------------------------------------------------------------ */

static bool is_v2(const iz_req_t *r)
{
    return strncmp(iz_req_path(r), "/v2/", 4) == 0;
}

int iz__sim_record(iz_sim_t *sim, const iz_sim_provider_t *prov, const iz_consent_t *c, int64_t now,
                   bool idempotent, iz_sim_change_t *chg, const char **hcode)
{
    memcpy(chg->recipient, c->recipient, sizeof chg->recipient);
    chg->rtype = c->rtype;
    chg->type = c->type;
    chg->status = c->status;
    chg->source = c->source;
    chg->consent_date = c->consent_date;
    iz__sim_rule_ctx_t ctx;
    iz__sim_rule_init(&ctx, sim, prov, c, now);
    return iz_sim_consent_apply(sim->st, chg, idempotent, iz__sim_rule, &ctx, hcode);
}

void iz__sim_h_consent_add(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    json_t *body = authorized_body(r, sim, &a, "H085");
    if (!body) return;
    int64_t now = time(NULL);
    iz_consent_t c;
    iz__sim_retail_t rt;
    iz_verrs_t errs = {0};
    if (iz__sim_consent_parse(body, now, &c, &rt, &errs) != 0) {
        iz_reply_verrs(r, body, &errs);
        json_decref(body);
        return;
    }
    if (iz__sim_may(r, &a, IZ_RIGHT_WRITE, c.type) != 0) {
        json_decref(body);
        return;
    }

    /* The change and its retailers' access in one transaction. */
    iz_sim_change_t chg = {.iys_code = a.iys, .brand_code = a.brand};
    const char *hcode = NULL;
    size_t bad = 0;
    int rc = iz_sim_batch_begin(sim->st);
    if (rc == 0)
        rc = iz__sim_record_retail(sim, &a.prov, &c, &rt, now, is_v2(r), &chg, &hcode, &bad);
    int end = iz_sim_batch_end(sim->st, rc == IZ_REPEAT ? 0 : rc);
    if (end != 0 && (rc == 0 || rc == IZ_REPEAT)) rc = end;
    if (rc == IZ_ERULE && hcode) {
        /* The 3-business-day rule is about the consentDate: its 422 names
         * it, as İYS's example does; a retailer's code names the retailer;
         * the other rules' answers carry none. */
        json_t *e = iz__sim_retail_error(r, hcode, body, &rt, bad, -1);
        if (strcmp(hcode, "H467") == 0)
            reply_field_error(r, hcode, NULL, "consentDate", json_object_get(body, "consentDate"));
        else if (e)
            iz_reply_json(r, iz_hcode_http(hcode), json_pack("{s:[o]}", "errors", e));
        else
            iz_reply_error(r, hcode, NULL);
        json_decref(body);
        return;
    }
    json_decref(body);
    if (rc != 0 && rc != IZ_REPEAT) {
        reply_store_error(r);
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "transactionId", json_string(chg.txid));
    json_object_set_new(out, "creationDate", tr_date(chg.creation));
    iz_reply_json(r, 200, out);
}

/* ---- async bulk: POST .../consents/request ------------------------------- */

/* The item as stored and echoed: the normalized fields only. */
static json_t *normalized_item(const iz_consent_t *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(iz_type_name(c->type)));
    if (c->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(c->source)));
    json_object_set_new(o, "recipient", json_string(c->recipient));
    json_object_set_new(o, "status", json_string(iz_status_name(c->status)));
    if (c->consent_date) json_object_set_new(o, "consentDate", tr_date(c->consent_date));
    json_object_set_new(o, "recipientType", json_string(iz_rtype_name(c->rtype)));
    return o;
}

/* 1 when the request's new records would take the provider over its quota
 * (İYS refuses such a request whole with 422 H525), 0 when they fit, -1 on
 * a store failure. Only an ONAY can make a record (a first RET is refused
 * with H175), and only for a key that has none yet; the cheap count is
 * tried first, so a provider with room to spare costs no look-ups. */
static int quota_check(iz_sim_t *sim, const sim_auth_t *a, json_t *items, size_t new_onay)
{
    int64_t records;
    if (a->prov.quota <= 0 || a->prov.limit_exceed || new_onay == 0) return 0;
    if (iz_sim_provider_records(sim->st, a->iys, &records) != 0) return -1;
    if (records + (int64_t)new_onay <= a->prov.quota) return 0;
    int64_t fresh = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        iz_rtype_t rt;
        iz_type_t ty;
        iz_status_t stt;
        if (!json_is_object(it) ||
            iz_status_parse(json_string_value(json_object_get(it, "status")), &stt) != 0 ||
            stt != IZ_ONAY ||
            iz_rtype_parse(json_string_value(json_object_get(it, "recipientType")), &rt) != 0 ||
            iz_type_parse(json_string_value(json_object_get(it, "type")), &ty) != 0)
            continue;
        iz_sim_change_t cur;
        int rc = iz_sim_consent_get(sim->st, a->iys, a->brand, rt, ty,
                                    json_string_value(json_object_get(it, "recipient")), &cur);
        if (rc == IZ_ENOTFOUND)
            fresh++;
        else if (rc != 0)
            return -1;
    }
    return records + fresh > a->prov.quota ? 1 : 0;
}

void iz__sim_h_bulk_add(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    json_t *body = authorized_body(r, sim, &a, NULL);
    if (!body) return;
    size_t n = json_is_array(body) ? json_array_size(body) : 0;
    if (n == 0) {
        /* İYS has no code for an empty list; it is not a valid request. */
        iz_reply_error(r, "H092", NULL);
        json_decref(body);
        return;
    }
    if (n > BULK_MAX) {
        iz_reply_error(r, "H091", NULL);
        json_decref(body);
        return;
    }

    int64_t now = time(NULL);
    bool v2 = is_v2(r);
    iz_error_t *errs = iz_req_alloc(r, n * IZ_VERR_MAX * sizeof *errs);
    size_t nerr = 0;
    json_t *items = json_array(); /* normalized items, in order */
    json_t *seen = json_object(); /* "rtype|type|recipient" of every valid item */
    size_t new_onay = 0;          /* ONAY items, which may each make a new record */
    iz__sim_retail_t *rts = iz_req_alloc(r, n * sizeof *rts);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(body, i);
        if (!json_is_object(item)) {
            errs[nerr++] = (iz_error_t){.code = "H092", .index = (int)i};
            json_array_append_new(items, json_null());
            continue;
        }
        iz_consent_t c;
        iz_verrs_t ve = {0};
        if (iz__sim_consent_parse(item, now, &c, &rts[i], &ve) != 0) {
            for (int k = 0; k < ve.n; k++)
                errs[nerr++] = (iz_error_t){.code = ve.e[k].code,
                                            .location = ve.e[k].field,
                                            .value = field_value(item, ve.e[k].field),
                                            .index = (int)i};
            json_array_append_new(items, json_null());
            continue;
        }
        /* An integrator writes only the types it was given write for: the
         * whole request is refused, as for a single add. */
        if (iz__sim_may(r, &a, IZ_RIGHT_WRITE, c.type) != 0) {
            json_decref(seen);
            json_decref(items);
            json_decref(body);
            return;
        }
        char key[IZ_RECIPIENT_MAX + 32];
        snprintf(key, sizeof key, "%s|%s|%s", iz_rtype_name(c.rtype), iz_type_name(c.type),
                 c.recipient);
        if (json_object_get(seen, key)) {
            /* İYS's example: the index alone, no location or value. */
            errs[nerr++] = (iz_error_t){.code = "H194", .index = (int)i};
            json_array_append_new(items, json_null());
            continue;
        }
        json_object_set_new(seen, key, json_true());
        json_array_append_new(items, normalized_item(&c));
        /* A consent taken more than 3 business days ago refuses the whole
         * request at once (İYS's example), unlike the rules that depend on
         * the stored record, which fail their item later. */
        iz__sim_rule_ctx_t rctx;
        iz__sim_rule_init(&rctx, sim, &a.prov, &c, now);
        if (iz_consent_too_late(&c, &rctx.rules))
            errs[nerr++] = (iz_error_t){.code = "H467",
                                        .location = "consentDate",
                                        .value = json_object_get(item, "consentDate"),
                                        .index = (int)i};
        else if (c.status == IZ_ONAY)
            new_onay++;
    }
    json_decref(seen);
    if (!nerr) {
        int qrc = quota_check(sim, &a, items, new_onay);
        if (qrc < 0) {
            json_decref(items);
            json_decref(body);
            reply_store_error(r);
            return;
        }
        if (qrc > 0) {
            /* No index: the request as a whole does not fit. */
            iz_reply_error(r, "H525", NULL);
            json_decref(items);
            json_decref(body);
            return;
        }
    }
    if (nerr) {
        /* The first error's status, as the single add: mostly 422, but 400
         * for the codes the table gives 400 (addBatchConsent's own example
         * answers a null retailerCode, H266, with 400). */
        iz_reply_errors(r, iz_hcode_http(errs[0].code), errs, nerr);
        json_decref(items);
        json_decref(body);
        return;
    }
    /* Every item's retailers must be the brand's (403 H180 / H353). */
    if (iz__sim_retail_check_items(r, sim, &a, body, rts, n) != 0) {
        json_decref(items);
        json_decref(body);
        return;
    }
    json_decref(body);

    iz_sim_bulk_t b = {.iys_code = a.iys,
                       .brand_code = a.brand,
                       .created = now,
                       .process_after = now + sim->cfg.bulk_delay};
    iz__sim_uuid4(b.request_id);
    char **bodies = iz_req_alloc(r, n * sizeof *bodies);
    char **subs = iz_req_alloc(r, n * sizeof *subs);
    /* The subRequestIds' randomness in one draw (one a UUID cost a tenth
     * of the request). */
    uint8_t *rnd = iz_req_alloc(r, n * 16);
    if (iz_random(rnd, n * 16) != 0) iz_oom();
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(items, i);
        /* The stored copy says whether v2's idempotent resend applies. */
        json_t *stored = json_copy(item);
        if (v2) json_object_set_new(stored, "idempotent", json_true());
        iz__sim_retail_store(&rts[i], stored);
        bodies[i] = json_dumps(stored, JSON_COMPACT);
        json_decref(stored);
        if (!bodies[i]) iz_oom();
        subs[i] = iz_req_alloc(r, 37);
        uuid4_of(rnd + 16 * i, subs[i]);
    }
    int rc =
        iz_sim_bulk_create(sim->st, &b, (const char *const *)bodies, (const char *const *)subs, n);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    if (rc != 0) {
        json_decref(items);
        reply_store_error(r);
        return;
    }
    iz__sim_bulk_wake(sim);

    json_t *created = tr_date(now);
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(items, i);
        json_object_set_new(item, "subRequestId", json_string(subs[i]));
        json_object_set(item, "creationDate", created);
    }
    json_decref(created);
    iz_reply_json(r, 202, json_pack("{s:s, s:o}", "requestId", b.request_id, "subRequests", items));
}

/* ---- GET .../consents/request/{requestId} ---------------------------------- */

/* What v2's status adds to a success item (its example): whether the
 * request was made through v2's bulk add, as the text "true" or "false"
 * (the example's form; the schema says boolean), and for a consent v2 found
 * already recorded with the same fields and date (a repeat: its change was
 * made by another request or a single add), originalRequestInformation
 * naming the bulk request and item that first recorded it (left out when a
 * single add did). Returns non-zero on a store failure. */
static int v2_origin(iz_sim_t *sim, const iz_sim_bulk_t *b, const iz_sim_bulk_item_t *it,
                     bool made_v2, json_t *o)
{
    json_object_set_new(o, "isAddConsentV2Service", json_string(made_v2 ? "true" : "false"));
    iz_sim_origin_t org;
    int rc =
        iz_sim_change_origin(sim->st, b->iys_code, b->brand_code, it->txid, it->creation, &org);
    if (rc == IZ_ENOTFOUND) return 0;
    if (rc != 0) return rc;
    if (strcmp(org.request_id, b->request_id) != 0 && org.request_id[0])
        json_object_set_new(o, "originalRequestInformation",
                            json_pack("{s:s, s:s}", "requestId", org.request_id, "subRequestId",
                                      org.sub_request_id));
    return 0;
}

void iz__sim_h_bulk_status(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    if (authorize(r, sim, &a) != 0) return;
    const char *id = iz_req_param(r, "requestId");
    size_t len = strlen(id);
    size_t letters = 0, digits = 0, other = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)id[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            letters++;
        else if (ch >= '0' && ch <= '9')
            digits++;
        else
            other++;
    }
    if (len > REQUEST_ID_MAX) {
        iz__sim_field_error(r, "H198", NULL, "requestId", id);
        return;
    }
    if (letters == len) {
        iz__sim_field_error(r, "H199", NULL, "requestId", id);
        return;
    }
    if (digits == len) {
        iz__sim_field_error(r, "H400", NULL, "requestId", id);
        return;
    }

    /* İYS answers an empty list for a request it does not know (or no
     * longer keeps) and for one polled too early. */
    iz_sim_bulk_t b;
    iz_sim_bulk_item_t *items = NULL;
    size_t n = 0;
    int rc = iz_sim_bulk_get(sim->st, id, &b, &items, &n);
    if (rc == IZ_ENOTFOUND || (rc == 0 && (b.iys_code != a.iys || b.brand_code != a.brand)) ||
        (rc == 0 && time(NULL) < b.created + sim->cfg.min_poll)) {
        iz_sim_bulk_items_free(items, n);
        iz_reply_json(r, 200, json_array());
        return;
    }
    if (rc != 0) {
        reply_store_error(r);
        return;
    }
    /* A request made through v2 stores its items as idempotent. */
    bool made_v2 = n > 0 && items[0].body && strstr(items[0].body, "\"idempotent\":true");
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        const iz_sim_bulk_item_t *it = &items[i];
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(it->idx));
        json_object_set_new(o, "status", json_string(it->status));
        json_object_set_new(o, "subRequestId", json_string(it->sub_request_id));
        if (strcmp(it->status, "success") == 0) {
            json_object_set_new(o, "requestId", json_string(b.request_id));
            json_object_set_new(o, "transactionId", json_string(it->txid));
            json_object_set_new(o, "creationDate", tr_date(it->creation));
            if (is_v2(r) && v2_origin(sim, &b, it, made_v2, o) != 0) {
                json_decref(o);
                json_decref(out);
                iz_sim_bulk_items_free(items, n);
                reply_store_error(r);
                return;
            }
        } else if (strcmp(it->status, "failure") == 0) {
            json_object_set_new(
                o, "error",
                json_pack("{s:s, s:s}", "code", it->error_code, "message", it->error_message));
        }
        json_array_append_new(out, o);
    }
    iz_sim_bulk_items_free(items, n);
    iz_reply_json(r, 200, out);
}

/* ---- queries ------------------------------------------------------------------ */

typedef iz__sim_keyq_t key_query_t;

/* Normalize one queried recipient for a type: 0, or the H-code. */
static const char *query_recipient(json_t *v, iz_type_t type, char out[IZ_RECIPIENT_MAX])
{
    const char *code = NULL;
    if (!json_is_string(v)) return type == IZ_EPOSTA ? "H120" : "H121";
    iz_field_t f;
    iz_field_from_json(&f, v);
    if (f.len > IZ_INPUT_MAX) return type == IZ_EPOSTA ? "H120" : "H166";
    if (iz_recipient_normalize(f.s, f.len, type, out, &code) != 0)
        return strcmp(code, "H160") == 0 ? "H166" : code;
    if (type != IZ_EPOSTA && !phone_as_iys_takes(&f, out)) return "H121";
    return NULL;
}

bool iz__sim_parse_type(json_t *body, iz__sim_keyq_t *q, iz_verrs_t *errs)
{
    char buf[32];
    json_t *t = json_object_get(body, "type");
    if (!json_is_string(t) || json_string_length(t) == 0) {
        verr_append(errs, t && !json_is_null(t) && !json_is_string(t) ? "H117" : "H111", "type");
    } else if (iz_strlcpy(buf, json_string_value(t), sizeof buf) != 0 ||
               iz_type_parse(buf, &q->type) != 0) {
        verr_append(errs, "H117", "type");
    } else {
        return true;
    }
    return false;
}

void iz__sim_parse_rtype(json_t *body, iz__sim_keyq_t *q, iz_verrs_t *errs)
{
    char buf[32];
    json_t *rt = json_object_get(body, "recipientType");
    if (!json_is_string(rt) || json_string_length(rt) == 0) {
        verr_append(errs, rt && !json_is_null(rt) && !json_is_string(rt) ? "H116" : "H170",
                    "recipientType");
    } else if (iz_strlcpy(buf, json_string_value(rt), sizeof buf) != 0 ||
               iz_rtype_parse(buf, &q->rtype) != 0) {
        verr_append(errs, "H116", "recipientType");
    }
}

/* Parse the {recipient, recipientType, type} body of the status and
 * history queries (İYS: all three required); answers the errors itself and
 * returns non-zero. */
static int parse_key_query(iz_req_t *r, json_t *body, key_query_t *q)
{
    iz_verrs_t errs = {0};
    json_t *rc = json_object_get(body, "recipient");
    bool type_ok = iz__sim_parse_type(body, q, &errs);
    if (!rc || json_is_null(rc) || (json_is_string(rc) && json_string_length(rc) == 0)) {
        verr_append(&errs, "H114", "recipient");
    } else if (type_ok) {
        const char *code = query_recipient(rc, q->type, q->recipient);
        if (code && strcmp(code, "H464") == 0) code = mismatch_code(q->type);
        if (code) verr_append(&errs, code, "recipient");
    }
    iz__sim_parse_rtype(body, q, &errs);
    if (errs.n) {
        iz_reply_verrs(r, body, &errs);
        return -1;
    }
    return 0;
}

/* The object body of the status and history queries, parsed; answers the
 * errors itself and returns non-zero. */
static int key_query_body(iz_req_t *r, key_query_t *q)
{
    json_t *body = iz_req_json_object(r, "H097");
    if (!body) return -1;
    int bad = parse_key_query(r, body, q);
    json_decref(body);
    return bad;
}

void iz__sim_h_status(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    if (authorize(r, sim, &a) != 0) return;
    key_query_t q;
    if (key_query_body(r, &q) != 0 || iz__sim_may(r, &a, IZ_RIGHT_READ, q.type) != 0) return;
    iz_sim_change_t cur;
    int rc = iz_sim_consent_get(sim->st, a.iys, a.brand, q.rtype, q.type, q.recipient, &cur);
    if (rc == IZ_ENOTFOUND) {
        iz_reply_error(r, "IZ404", "İzin kaydı bulunamadı.");
        return;
    }
    if (rc != 0) {
        reply_store_error(r);
        return;
    }
    json_t *out = iz__sim_change_json(&cur);
    json_object_del(out, "citizenName");
    if (iz__sim_retail_status(sim, &cur, out) != 0) {
        json_decref(out);
        reply_store_error(r);
        return;
    }
    iz_reply_json(r, 200, out);
}

/* One recipient's error in the list query, shaped as its examples show: a
 * recipient of the other type's form is H464 at ["recipient"] with a
 * message naming the type; any other (a duplicate H193, a malformed
 * value) at ["recipients", i], the item's place. No "index" field. */
static json_t *list_error(iz_req_t *r, const char *code, iz_type_t type, json_t *v, size_t i)
{
    char msg[160];
    iz_error_t e = {.code = code, .value = v, .index = -1};
    bool mismatch = strcmp(code, "H464") == 0;
    if (mismatch) {
        snprintf(msg, sizeof msg,
                 "İzin tipi (type) %s için, alıcı (recipient) %s formatında olmalıdır.",
                 iz_type_name(type), type == IZ_EPOSTA ? "e-posta" : "telefon");
        e.message = msg;
        e.location = "recipient";
    } else if (strcmp(code, "H193") == 0) {
        e.message = "Alıcı (recipient) değeri liste içinde tekrarlanamaz.";
    }
    json_t *o = iz_error_json(r, &e);
    if (!mismatch)
        json_object_set_new(o, "location", json_pack("[s, I]", "recipients", (json_int_t)i));
    return o;
}

void iz__sim_h_multi_status(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    if (authorize(r, sim, &a) != 0) return;
    iz_type_t type;
    iz_rtype_t rtype;
    const char *pt = iz_req_param(r, "type"), *prt = iz_req_param(r, "recipientType");
    if (strlen(prt) > 16 || iz_rtype_parse(prt, &rtype) != 0) {
        iz__sim_field_error(r, "H116", NULL, "recipientType", prt);
        return;
    }
    if (strlen(pt) > 16 || iz_type_parse(pt, &type) != 0) {
        iz__sim_field_error(r, "H117", NULL, "type", pt);
        return;
    }
    if (iz__sim_may(r, &a, IZ_RIGHT_READ, type) != 0) return;
    json_t *body = iz_req_json(r);
    if (!body) return;
    json_t *list = json_is_object(body) ? json_object_get(body, "recipients") : NULL;
    if (!list || json_is_null(list)) {
        reply_field_error(r, "H168", NULL, "recipients", NULL);
    } else if (!json_is_array(list)) {
        reply_field_error(r, "H478", NULL, "recipients", list);
    } else if (json_array_size(list) == 0) {
        reply_field_error(r, "H164", NULL, "recipients", list);
    } else if (json_array_size(list) > MULTI_MAX) {
        reply_field_error(r, "H127", "Alıcı listesi (recipients) uzunluğu en fazla 1000 olmalıdır.",
                          "recipients", NULL);
    } else {
        size_t n = json_array_size(list);
        char(*norm)[IZ_RECIPIENT_MAX] = iz_req_alloc(r, n * sizeof *norm);
        json_t *errs = json_array();
        json_t *seen = json_object();
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(list, i);
            const char *code = query_recipient(v, type, norm[i]);
            if (!code && json_object_get(seen, norm[i])) code = "H193";
            if (code) {
                json_array_append_new(errs, list_error(r, code, type, v, i));
                norm[i][0] = '\0';
                continue;
            }
            json_object_set_new(seen, norm[i], json_true());
        }
        json_decref(seen);
        if (json_array_size(errs)) {
            iz_reply_json(r, 422, json_pack("{s:o}", "errors", errs));
            json_decref(body);
            return;
        }
        json_decref(errs);
        json_t *out = json_array();
        for (size_t i = 0; i < n; i++) {
            iz_sim_change_t cur;
            int rc = iz_sim_consent_get(sim->st, a.iys, a.brand, rtype, type, norm[i], &cur);
            if (rc == 0 && cur.status == IZ_ONAY) {
                json_array_append_new(out, json_string(norm[i]));
            } else if (rc != 0 && rc != IZ_ENOTFOUND) {
                json_decref(out);
                json_decref(body);
                reply_store_error(r);
                return;
            }
        }
        char rid[37];
        iz__sim_uuid4(rid);
        iz_reply_json(r, 200, json_pack("{s:s, s:o}", "requestId", rid, "list", out));
    }
    json_decref(body);
}

/* Parse an optional non-negative integer query argument: 0 ok (def when
 * absent), -1 when it is not one. */
static int query_int(iz_req_t *r, const char *name, int64_t def, int64_t *out)
{
    const char *s = iz_req_query(r, name);
    if (!s) {
        *out = def;
        return 0;
    }
    return iz_parse_i64(s, 0, INT32_MAX, out) == 0 ? 0 : -1;
}

int iz__sim_paging(iz_req_t *r, int64_t max, const char *bad_limit, const char *bad_offset,
                   int64_t *limit, int64_t *offset)
{
    if (query_int(r, "limit", max, limit) != 0) {
        iz__sim_field_error(r, bad_limit, "limit değeri geçerli olmalıdır.", "limit",
                              iz_req_query(r, "limit"));
        return -1;
    }
    if (*limit == 0) {
        reply_field_error(r, "H187", NULL, "limit", NULL);
        return -1;
    }
    if (*limit > max) {
        iz__sim_field_error(r, "H186", NULL, "limit", iz_req_query(r, "limit"));
        return -1;
    }
    if (query_int(r, "offset", 0, offset) != 0) {
        iz__sim_field_error(r, bad_offset, "offset değeri geçerli olmalıdır.", "offset",
                              iz_req_query(r, "offset"));
        return -1;
    }
    return 0;
}

void iz__sim_h_history(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    if (authorize(r, sim, &a) != 0) return;
    int64_t limit, offset;
    /* The history's examples give H182 for a bad limit and H183 for a bad
     * offset, the error table the other way round: the examples rule
     * (docs/IYS-EMULATOR.md, "Spec contradictions"). */
    if (iz__sim_paging(r, HISTORY_MAX, "H182", "H183", &limit, &offset) != 0) return;
    key_query_t q;
    if (key_query_body(r, &q) != 0 || iz__sim_may(r, &a, IZ_RIGHT_READ, q.type) != 0) return;
    iz_sim_change_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (iz_sim_consent_history(sim->st, a.iys, a.brand, q.rtype, q.type, q.recipient, offset, limit,
                               &list, &n, &total) != 0) {
        reply_store_error(r);
        return;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = iz__sim_change_json(&list[i]);
        json_object_del(o, "citizenName");
        json_array_append_new(out, o);
    }
    free(list);
    iz_reply_json(r, 200,
                  json_pack("{s:o, s:{s:I, s:I, s:I}}", "list", out, "pagination", "totalCount",
                            (json_int_t)total, "pageSize", (json_int_t)n, "offset",
                            (json_int_t)offset));
}

/* ---- GET .../consents/changes ----------------------------------------------- */

/* Resolve an `after` cursor "<creation epoch>_<transactionId>" to a log id;
 * -1 when it is malformed or names no change of this brand. */
static int resolve_cursor(iz_sim_t *sim, const sim_auth_t *a, const char *after, int64_t *id)
{
    const char *us = strchr(after, '_');
    if (!us || us == after || us - after > 19 || strlen(us + 1) != 64) return -1;
    char num[20];
    memcpy(num, after, (size_t)(us - after));
    num[us - after] = '\0';
    int64_t creation;
    if (iz_parse_i64(num, 0, INT64_MAX, &creation) != 0) return -1;
    for (const char *p = us + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return -1;
    return iz_sim_change_id(sim->st, a->iys, a->brand, us + 1, creation, id) == 0 ? 0 : -1;
}

void iz__sim_h_changes(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    sim_auth_t a;
    if (authorize(r, sim, &a) != 0) return;
    /* İYS's default source is IYS. */
    const char *source = iz_req_query(r, "source");
    bool iys_sources;
    if (!source || strcmp(source, "IYS") == 0) {
        iys_sources = true;
    } else if (strcmp(source, "HS") == 0) {
        iys_sources = false;
    } else {
        iz__sim_field_error(r, "H506", NULL, "source", source);
        return;
    }
    int64_t limit;
    if (query_int(r, "limit", CHANGES_MAX, &limit) != 0 || limit < 1 || limit > CHANGES_MAX) {
        iz__sim_field_error(r, "H507", NULL, "limit", iz_req_query(r, "limit"));
        return;
    }
    int64_t after_id = 0;
    const char *after = iz_req_query(r, "after");
    if (after && after[0] && resolve_cursor(sim, &a, after, &after_id) != 0) {
        /* İYS documents no code for a bad cursor; izin's IZ400 says so. */
        iz__sim_field_error(r, "IZ400", "after değeri geçerli bir gösterge olmalıdır.", "after",
                            after);
        return;
    }
    int64_t now = time(NULL);
    iz_sim_change_t *list = NULL;
    size_t n = 0;
    if (iz_sim_changes(sim->st, a.iys, a.brand, iys_sources, after_id, now - CHANGES_WINDOW,
                       now - sim->cfg.pull_lag, (size_t)limit, &list, &n) != 0) {
        reply_store_error(r);
        return;
    }
    if (n == 0) {
        free(list);
        iz_reply_bytes(r, 204, NULL, "", 0);
        return;
    }
    /* An integrator gets the types it may read; the cursor still moves
     * past what it may not. */
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        if (iz__sim_can_read(&a, list[i].type))
            json_array_append_new(out, iz__sim_change_json(&list[i]));
    char cursor[96];
    snprintf(cursor, sizeof cursor, "%lld_%s", (long long)list[n - 1].creation, list[n - 1].txid);
    free(list);
    iz_reply_json(r, 200, json_pack("{s:s, s:o}", "after", cursor, "list", out));
}

/* ---- shared with retailers.c ---------------------------------------------- */

int iz__sim_key_query(iz_req_t *r, json_t *body, iz__sim_keyq_t *q)
{
    return parse_key_query(r, body, q);
}

const char *iz__sim_query_recipient(json_t *v, iz_type_t type, char out[IZ_RECIPIENT_MAX])
{
    return query_recipient(v, type, out);
}

json_t *iz__sim_tr_date(int64_t t)
{
    return tr_date(t);
}
