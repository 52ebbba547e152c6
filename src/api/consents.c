/*
 * consents.c - POST /v1/brands/{b}/consents and GET .../consents/{recipient}.
 *
 * A posted change is validated field by field (core/consent.c), then
 * applied in one store transaction in which the İYS state rules are judged
 * against the current record, so two concurrent changes of one address can
 * never both pass a rule that only one of them may. A first RET (H175 in
 * İYS) is kept: an opt-out is never lost, it is stored with iys.state LOCAL
 * and a warning, and blocks sending.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "net/jsonconsent.h"

typedef struct rule_ctx {
    const iz_consent_t *c;
    iz_rules_ctx_t rules;
    bool iys_configured;
    const char *hcode;
} rule_ctx_t;

/* Runs inside the store's write transaction with the current record. */
static int apply_rule(void *vctx, const iz_current_t *cur, iz_change_t *chg)
{
    rule_ctx_t *ctx = vctx;
    const char *code = iz_consent_rules(ctx->c, cur, &ctx->rules);
    if (code && strcmp(code, "H175") == 0) {
        /* İYS refuses a first RET; izin keeps the opt-out locally. */
        chg->iys_state = IZ_IYS_LOCAL;
        iz_strlcpy(chg->warning, "H175", sizeof chg->warning);
        return 0;
    }
    if (code) {
        ctx->hcode = code;
        return IZ_ERULE;
    }
    chg->iys_state = ctx->iys_configured ? IZ_IYS_PENDING : IZ_IYS_LOCAL;
    return 0;
}

/* The evidence of an API change: the client's address and user agent. */
static void put_evidence(iz_req_t *r, char out[IZ_EVIDENCE_MAX])
{
    json_t *ev = json_object();
    json_object_set_new(ev, "ip", json_string(iz_req_remote(r)));
    const char *ua = iz_req_header(r, "User-Agent");
    if (ua) {
        char cut[256];
        iz_strlcpy(cut, ua, sizeof cut);
        json_t *s = json_string(cut);
        if (s) json_object_set_new(ev, "userAgent", s);
    }
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    out[0] = '\0';
    if (text) iz_strlcpy(out, text, IZ_EVIDENCE_MAX);
    free(text);
}

int iz__consent_commit(iz_app_t *app, const iz_brand_t *brand, const iz_consent_t *c, int64_t now,
                       iz_origin_t origin, const char *evidence, iz_change_t *chg,
                       const char **hcode)
{
    *hcode = NULL;
    iz_account_t acct;
    int rc = iz_store_account_get(app->store, brand->account_id, &acct);
    if (rc != 0) return rc;
    rule_ctx_t ctx = {.c = c, .iys_configured = iz__iys_configured(app, &acct)};
    ctx.rules.now = now;
    ctx.rules.holidays = app->holidays;
    if (acct.activation_date[0]) iz_tr_parse_date(acct.activation_date, &ctx.rules.activation);
    iz_wipe(acct.iys_password, sizeof acct.iys_password);

    memset(chg, 0, sizeof *chg);
    chg->brand_id = brand->id;
    memcpy(chg->recipient, c->recipient, sizeof chg->recipient);
    chg->rtype = c->rtype;
    chg->type = c->type;
    chg->status = c->status;
    chg->source = c->source;
    chg->consent_date = c->consent_date;
    chg->origin = origin;
    /* A RET must reach İYS within 3 business days of its date. */
    if (c->status == IZ_RET)
        chg->ret_deadline =
            iz_bizday_deadline(app->holidays, c->consent_date ? c->consent_date : now);
    if (evidence) iz_strlcpy(chg->evidence, evidence, sizeof chg->evidence);

    rc = iz_store_consent_apply(app->store, chg, apply_rule, &ctx);
    if (rc == IZ_ERULE) *hcode = ctx.hcode;
    if (rc == 0 && chg->iys_state == IZ_IYS_PENDING) iz_sync_wake(app->sync);
    return rc;
}

void iz__reply_change(iz_req_t *r, const iz_change_t *chg, int rc)
{
    json_t *out = iz__change_json(chg);
    if (chg->warning[0]) {
        iz_error_t w = {.code = chg->warning, .index = -1};
        json_t *warn = iz_error_json(r, &w);
        const char *note = iz_req_english(r) ? "kept locally as an opt-out; not sent to İYS"
                                             : "ret yerel olarak saklandı; İYS'ye gönderilmedi";
        json_object_set_new(warn, "note", json_string(note));
        json_object_set_new(out, "warnings", json_pack("[o]", warn));
    }
    iz_reply_json(r, rc == IZ_REPEAT ? 200 : 201, out);
}

void iz__h_consent_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    json_t *body = iz_req_json(r);
    if (!body) return;
    if (!json_is_object(body)) {
        iz_reply_error(r, "H085", NULL);
        json_decref(body);
        return;
    }

    iz_consent_raw_t raw;
    iz_consent_raw_from_json(body, NULL, &raw);
    iz_validate_opts_t vo = {.now = time(NULL), .allow_iys_sources = false};
    iz_consent_t c;
    iz_verrs_t errs = {0};
    if (iz_consent_validate(&raw, &vo, &c, &errs) != 0) {
        iz_reply_verrs(r, body, &errs);
        json_decref(body);
        return;
    }

    char *ev = iz_req_alloc(r, IZ_EVIDENCE_MAX);
    put_evidence(r, ev);
    iz_change_t *chg = iz_req_alloc(r, sizeof *chg);
    const char *hcode = NULL;
    int rc = iz__consent_commit(app, &brand, &c, vo.now, IZ_ORIGIN_API, ev, chg, &hcode);
    iz__reply_commit(r, body, chg, rc, hcode, NULL);
}

void iz__reply_commit(iz_req_t *r, json_t *body, const iz_change_t *chg, int rc, const char *hcode,
                      const char *rule_field)
{
    if (rc == IZ_ERULE && hcode) {
        iz_error_t e = {.code = hcode, .location = rule_field, .index = -1};
        if (!e.location) {
            if (strcmp(hcode, "H462") == 0 || strcmp(hcode, "H178") == 0 ||
                strcmp(hcode, "H467") == 0)
                e.location = "consentDate";
            else if (strcmp(hcode, "H463") == 0 || strcmp(hcode, "H408") == 0)
                e.location = "source";
            else
                e.location = "status";
        }
        e.value = json_object_get(body, e.location);
        iz_reply_errors(r, iz_hcode_http(hcode), &e, 1);
    } else if (rc != 0 && rc != IZ_REPEAT) {
        iz__reply_store_error(r, rc);
    } else {
        iz__reply_change(r, chg, rc);
    }
    json_decref(body);
}

void iz__h_consent_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    iz_type_t type;
    iz_rtype_t rtype;
    if (iz__query_type(r, &type, &rtype) != 0) return;
    const char *in = iz_req_param(r, "recipient");
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode = NULL;
    if (iz_recipient_normalize(in, strlen(in), type, norm, &hcode) != 0) {
        json_t *v = json_string(in);
        iz_error_t e = {.code = hcode, .location = "recipient", .value = v, .index = -1};
        iz_reply_errors(r, iz_hcode_http(hcode), &e, 1);
        json_decref(v);
        return;
    }
    iz_change_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_consent_history(app->store, brand.id, rtype, type, norm, &list, &n);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    if (n == 0) {
        free(list);
        iz_reply_error(r, "IZ404",
                       iz_req_english(r) ? "no consent record" : "Bu alıcı için izin kaydı yok.");
        return;
    }
    /* The current record is the newest change of the key. */
    json_t *out = iz__change_json(&list[0]);
    json_t *hist = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(hist, iz__change_json(&list[i]));
    json_object_set_new(out, "history", hist);
    free(list);
    iz_reply_json(r, 200, out);
}
