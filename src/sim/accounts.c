/*
 * accounts.c - who may call the emulated İYS, and İYS's calls about
 * accounts: the tokens (HS256 JSON Web Tokens carrying the claims İYS's
 * token documentation shows, each also kept by its hash in the store, which
 * has the last word: expiry, rotation and restarts work as before), the
 * authorization of every call under /sps/{iysCode}/... (a provider's own
 * token, or an integrator's - iş ortağı - for the brands a provider
 * authorized it for, within the rights granted per consent type), the
 * brand listing, the subscription queries of providers and integrators and
 * the integrators' brand listings. Choices are in docs/IYS-EMULATOR.md,
 * "Accounts, subscriptions, integrators".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "sim/jwt.h"
#include "sim/sim_int.h"
#include "sys/crypto.h"

#define ACCESS_TTL 7200
#define REFRESH_TTL 14400
#define TOKEN_BRANDS 20 /* brands named in an access token (brandCount tells all) */
#define ISSUER "iys-sim"
#define PAGE_MAX 100 /* the integrator brand listing's page (H186) */
#define YEAR (365 * 86400)
#define HS_PACKAGE "İleti+"
#define IO_PACKAGE "IO - API Kullanım Lisansı"

int iz__sim_accounts_open(iz_sim_t *sim)
{
    return iz_sim_signing_key(sim->st, sim->jwt_key, sizeof sim->jwt_key);
}

/* nbytes random bytes as hex (2 * nbytes + 1 bytes of out). Without
 * randomness nothing safe can be handed out: stop. */
static void random_hex(char *out, size_t nbytes)
{
    uint8_t b[64];
    if (nbytes > sizeof b || iz_random(b, nbytes) != 0) iz_oom();
    iz_hex(b, nbytes, out);
    iz_wipe(b, sizeof b);
}

static json_t *code_text(int64_t code)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)code);
    return json_string(buf);
}

static void reply_store_error(iz_req_t *r)
{
    iz_reply_error(r, "H015", NULL);
}

/* ---- tokens --------------------------------------------------------------- */

/* The claims of an access token: the standard ones, the roles and user
 * name İYS's token documentation shows, and whose it is - a provider's
 * serviceProvider {title, iysCode} and brands, or an integrator's
 * integrator {title, integratorCode}. NULL when the owner is gone. */
static json_t *access_claims(iz_sim_t *sim, iz_sim_owner_t owner, int64_t code, int64_t now)
{
    char jti[33];
    random_hex(jti, 16);
    json_t *c = json_pack("{s:s, s:I, s:i, s:I, s:s, s:s, s:{s:[s, s, s]}}", "jti", jti, "exp",
                          (json_int_t)(now + ACCESS_TTL), "nbf", 0, "iat", (json_int_t)now, "iss",
                          ISSUER, "typ", "Bearer", "realm_access", "roles", "API_USER",
                          "offline_access", "uma_authorization");
    if (!c) iz_oom();
    char sub[48];
    if (owner == IZ_SIM_INTEGRATOR) {
        iz_sim_integrator_t ig;
        if (iz_sim_integrator_get(sim->st, code, &ig) != 0) goto gone;
        snprintf(sub, sizeof sub, "integrator-%lld", (long long)code);
        json_object_set_new(c, "userType", json_string("integrator"));
        json_object_set_new(c, "preferred_username", json_string(ig.username));
        json_object_set_new(
            c, "integrator",
            json_pack("{s:s, s:o}", "title", ig.name, "integratorCode", code_text(code)));
    } else {
        iz_sim_provider_t p;
        iz_sim_brand_stats_t *brands = NULL;
        size_t n = 0;
        if (iz_sim_provider_get(sim->st, code, &p) != 0 ||
            iz_sim_brand_stats(sim->st, code, false, &brands, &n) != 0)
            goto gone;
        snprintf(sub, sizeof sub, "sp-%lld", (long long)code);
        json_object_set_new(c, "userType", json_string("serviceProvider"));
        json_object_set_new(c, "preferred_username", json_string(p.username));
        json_object_set_new(c, "serviceProvider",
                            json_pack("{s:s, s:o}", "title", p.name, "iysCode", code_text(code)));
        json_t *list = json_array();
        for (size_t i = 0; i < n && i < TOKEN_BRANDS; i++)
            json_array_append_new(list, json_pack("{s:o, s:s}", "brandCode",
                                                  code_text(brands[i].brand_code), "name",
                                                  brands[i].name));
        free(brands);
        json_object_set_new(c, "brands", list);
        json_object_set_new(c, "brandCount", json_integer((json_int_t)n));
    }
    json_object_set_new(c, "sub", json_string(sub));
    return c;
gone:
    json_decref(c);
    return NULL;
}

static json_t *refresh_claims(int64_t now)
{
    char jti[33];
    random_hex(jti, 16);
    json_t *c = json_pack("{s:s, s:I, s:i, s:I, s:s, s:s, s:s}", "jti", jti, "exp",
                          (json_int_t)(now + REFRESH_TTL), "nbf", 0, "iat", (json_int_t)now, "iss",
                          ISSUER, "aud", ISSUER, "typ", "Refresh");
    if (!c) iz_oom();
    return c;
}

void iz__sim_issue_tokens(iz_req_t *r, iz_sim_t *sim, iz_sim_owner_t owner, int64_t code)
{
    int64_t now = time(NULL);
    json_t *ac = access_claims(sim, owner, code, now), *rc_claims = refresh_claims(now);
    char *access = NULL, *refresh = NULL;
    int rc = ac ? 0 : IZ_ENOTFOUND;
    if (rc == 0) rc = iz_jwt_encode(ac, sim->jwt_key, sizeof sim->jwt_key, &access);
    if (rc == 0) rc = iz_jwt_encode(rc_claims, sim->jwt_key, sizeof sim->jwt_key, &refresh);
    json_decref(ac);
    json_decref(rc_claims);
    char ah[IZ_SHA256_HEX], rh[IZ_SHA256_HEX];
    if (rc == 0) {
        iz_sha256_hex(access, strlen(access), ah);
        iz_sha256_hex(refresh, strlen(refresh), rh);
        rc = iz_sim_token_put(sim->st, ah, now + ACCESS_TTL, rh, now + REFRESH_TTL, code, owner);
    }
    if (rc != 0)
        reply_store_error(r);
    else
        iz_reply_json(r, 200,
                      json_pack("{s:s, s:s, s:i, s:i, s:s}", "access_token", access,
                                "refresh_token", refresh, "expires_in", ACCESS_TTL,
                                "refresh_expires_in", REFRESH_TTL, "token_type", "bearer"));
    if (access) iz_wipe(access, strlen(access));
    if (refresh) iz_wipe(refresh, strlen(refresh));
    free(access);
    free(refresh);
}

/* Whose a token of kind typ ("Bearer" or "Refresh") is: a good signature
 * and kind, then the store by the token's hash (expiry, revocation; a
 * refresh token is consumed). IZ_ENOTFOUND when it is no valid token. */
static int token_owner(iz_sim_t *sim, const char *tok, size_t len, const char *typ,
                       iz_sim_owner_t *owner, int64_t *code)
{
    json_t *claims = NULL;
    if (iz_jwt_decode(tok, len, sim->jwt_key, sizeof sim->jwt_key, &claims) != 0)
        return IZ_ENOTFOUND;
    const char *t = json_string_value(json_object_get(claims, "typ"));
    bool kind_ok = t && strcmp(t, typ) == 0;
    json_decref(claims);
    if (!kind_ok) return IZ_ENOTFOUND;
    char hash[IZ_SHA256_HEX];
    iz_sha256_hex(tok, len, hash);
    int64_t now = time(NULL);
    return strcmp(typ, "Refresh") == 0 ? iz_sim_token_refresh(sim->st, hash, now, code, owner)
                                       : iz_sim_token_access(sim->st, hash, now, code, owner);
}

int iz__sim_refresh_owner(iz_sim_t *sim, const char *tok, size_t len, iz_sim_owner_t *owner,
                          int64_t *code)
{
    return token_owner(sim, tok, len, "Refresh", owner, code);
}

/* The owner of the request's bearer token: 0, IZ_ENOTFOUND when it carries
 * no valid access token, or the store's failure. */
static int bearer_owner(iz_req_t *r, iz_sim_t *sim, iz_sim_owner_t *owner, int64_t *code)
{
    const char *h = iz_req_header(r, "Authorization");
    const char *tok = NULL;
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        tok = h + 7;
        while (*tok == ' ')
            tok++;
    }
    size_t len = tok ? strlen(tok) : 0;
    return len == 0 || len >= IZ_JWT_MAX ? IZ_ENOTFOUND
                                         : token_owner(sim, tok, len, "Bearer", owner, code);
}

int iz__sim_token_owner(iz_req_t *r, iz_sim_t *sim, int64_t *iys_code)
{
    iz_sim_owner_t owner = IZ_SIM_SP;
    int64_t code = 0;
    int rc = bearer_owner(r, sim, &owner, &code);
    if (rc != 0) return rc;
    if (owner != IZ_SIM_SP) return IZ_ENOTFOUND; /* ViA and OTP are the provider's own */
    *iys_code = code;
    return 0;
}

/* The bearer token of the request: 0 with its owner, else answers 401
 * H351 (or 500 H015) and returns -1. */
static int bearer(iz_req_t *r, iz_sim_t *sim, iz_sim_owner_t *owner, int64_t *code)
{
    int rc = bearer_owner(r, sim, owner, code);
    if (rc == 0) return 0;
    if (rc == IZ_ENOTFOUND)
        iz_reply_error(r, "H351", NULL);
    else
        reply_store_error(r);
    return -1;
}

int iz__sim_bearer(iz_req_t *r, iz_sim_t *sim, int64_t *code)
{
    iz_sim_owner_t owner = IZ_SIM_SP;
    return bearer(r, sim, &owner, code);
}

/* ---- authorization ---------------------------------------------------------- */

/* A path code as a positive integer; else answers code (H190, H191) with
 * the field and returns -1. */
static int path_code(iz_req_t *r, const char *name, const char *code, int64_t *out)
{
    const char *s = iz_req_param(r, name);
    if (s && iz_parse_i64(s, INT64_MIN, INT64_MAX, out) == 0) return 0;
    json_t *v = s ? json_string(s) : NULL;
    iz_error_t e = {.code = code, .location = name, .value = v, .index = -1};
    iz_reply_errors(r, iz_hcode_http(code), &e, 1);
    json_decref(v);
    return -1;
}

static void not_matched(iz_req_t *r, const char *field)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%s, kullanıcı izinleriyle eşleştirilemiyor", field);
    iz_reply_error(r, "H353", msg);
}

/* Refuse a subscription that is not ACTIVE with İYS's code: H524 naming
 * code when there is none, H520 (who: "HS" or "Entegratör", whose
 * subscription query is the one call left) and H521. 0 when ACTIVE. */
static int refuse_state(iz_req_t *r, iz_sub_t sub, int64_t code, const char *who)
{
    char msg[192];
    switch (sub) {
    case IZ_SUB_ACTIVE:
        return 0;
    case IZ_SUB_PAUSED:
    case IZ_SUB_EXPIRED:
        snprintf(msg, sizeof msg,
                 "Abonelik durumu %s iken sadece %s abonelik sorgulama servisine istek "
                 "atılabilir.",
                 iz_sub_name(sub), who);
        iz_reply_error(r, "H520", msg);
        return -1;
    case IZ_SUB_CLOSED:
        iz_reply_error(r, "H521", NULL);
        return -1;
    default:
        snprintf(msg, sizeof msg, "%lld için ait abonelik kaydı bulunamadı.", (long long)code);
        iz_reply_error(r, "H524", msg);
        return -1;
    }
}

/* 404 H437: no subscription to show. */
static void no_subscription(iz_req_t *r, int64_t code)
{
    char msg[96];
    snprintf(msg, sizeof msg, "IYS numarası:%lld ile abonelik bulunamadı.", (long long)code);
    iz_reply_error(r, "H437", msg);
}

/* True when some provider other than iys has a brand with this code. */
static bool brand_elsewhere(iz_sim_store_t *st, int64_t iys, int64_t brand)
{
    iz_sim_provider_t *list = NULL;
    size_t n = 0;
    bool found = false;
    if (iz_sim_provider_list(st, &list, &n) != 0) return false;
    for (size_t i = 0; i < n && !found; i++)
        if (list[i].iys_code != iys && iz_sim_brand_get(st, list[i].iys_code, brand, NULL) == 0)
            found = true;
    free(list);
    return found;
}

/* The integrator behind a token, refused when its own subscription is not
 * ACTIVE (subquery: only when it has none). 0, or answered and -1. */
static int integrator_ok(iz_req_t *r, iz_sim_t *sim, int64_t code, bool subquery,
                         iz_sim_integrator_t *ig)
{
    int rc = iz_sim_integrator_get(sim->st, code, ig);
    if (rc == IZ_ENOTFOUND) {
        iz_reply_error(r, "H031", NULL);
        return -1;
    }
    if (rc != 0) {
        reply_store_error(r);
        return -1;
    }
    if (subquery) {
        if (ig->sub.status != IZ_SUB_NONE) return 0;
        no_subscription(r, code);
        return -1;
    }
    return refuse_state(r, ig->sub.status, code, "Entegratör");
}

/* An integrator's grant for the call: the brand's (brand != 0) or any of
 * the provider's. 0 with *g, or answers 403 H353 naming what does not
 * match and returns -1. */
static int integrator_grant(iz_req_t *r, iz_sim_t *sim, int64_t ig, int64_t iys, int64_t brand,
                            iz_sim_grant_t *g)
{
    int64_t total = 0;
    iz_sim_grant_t *list = NULL;
    size_t n = 0;
    int rc = brand ? iz_sim_grant_get(sim->st, ig, iys, brand, g) : IZ_ENOTFOUND;
    if (rc == 0) return 0;
    if (rc == IZ_ENOTFOUND) rc = iz_sim_grant_list(sim->st, ig, iys, 0, 1, &list, &n, &total);
    if (rc == 0 && n > 0 && !brand) *g = list[0];
    free(list);
    if (rc != 0) {
        reply_store_error(r);
        return -1;
    }
    if (total > 0 && !brand) return 0;
    not_matched(r, total > 0 ? "brandCode" : "iysCode");
    return -1;
}

int iz__sim_authorize(iz_req_t *r, iz_sim_t *sim, iz__sim_auth_t *a, unsigned flags)
{
    memset(a, 0, sizeof *a);
    iz_sim_owner_t owner = IZ_SIM_SP;
    int64_t code = 0;
    bool subquery = flags & IZ__AUTH_SUBQUERY;
    if (bearer(r, sim, &owner, &code) != 0 || path_code(r, "iysCode", "H190", &a->iys) != 0 ||
        ((flags & IZ__AUTH_BRAND) && path_code(r, "brandCode", "H191", &a->brand) != 0))
        return -1;
    /* A code that names no provider at all is 404 H001, as the brand and
     * retailer calls' examples answer it ("Hizmet Sağlayıcı:{{iysCode}}
     * bulunamadı."); another provider's code is 403 H353 below. */
    int rc = iz_sim_provider_get(sim->st, a->iys, &a->prov);
    if (rc == IZ_ENOTFOUND) {
        char msg[64];
        snprintf(msg, sizeof msg, "Hizmet Sağlayıcı:%lld bulunamadı.", (long long)a->iys);
        iz_reply_error(r, "H001", msg);
        return -1;
    }
    if (rc != 0) {
        reply_store_error(r);
        return -1;
    }
    if (owner == IZ_SIM_INTEGRATOR) {
        iz_sim_integrator_t ig;
        /* A paused integrator may query its own subscription only. */
        if (integrator_ok(r, sim, code, false, &ig) != 0 ||
            integrator_grant(r, sim, code, a->iys, a->brand, &a->grant) != 0)
            return -1;
        a->integrator = code;
    } else if (a->iys != code) {
        not_matched(r, "iysCode");
        return -1;
    }
    iz_sub_t sub = a->prov.subscription;
    if (subquery && sub == IZ_SUB_NONE) {
        no_subscription(r, a->iys);
        return -1;
    }
    if (!subquery && refuse_state(r, sub, a->iys, "HS") != 0) return -1;
    /* The package's API use is the provider's; an integrator calls with its
     * own licence. */
    if (!a->integrator && !a->prov.api_access) {
        iz_reply_error(r, "H586", NULL);
        return -1;
    }
    if (!(flags & IZ__AUTH_BRAND) || a->integrator) return 0; /* a grant names an existing brand */
    rc = iz_sim_brand_get(sim->st, a->iys, a->brand, NULL);
    if (rc == 0) return 0;
    if (rc != IZ_ENOTFOUND) {
        reply_store_error(r);
        return -1;
    }
    if (brand_elsewhere(sim->st, a->iys, a->brand))
        not_matched(r, "brandCode");
    else
        iz_reply_error(r, "H018", NULL);
    return -1;
}

bool iz__sim_can_read(const iz__sim_auth_t *a, iz_type_t type)
{
    return !a->integrator || iz_sim_grant_right(&a->grant, type) >= IZ_RIGHT_READ;
}

int iz__sim_may(iz_req_t *r, const iz__sim_auth_t *a, iz_right_t need, iz_type_t type)
{
    if (!a->integrator || iz_sim_grant_right(&a->grant, type) >= need) return 0;
    not_matched(r, "type");
    return -1;
}

int iz__sim_may_reconcile(iz_req_t *r, const iz__sim_auth_t *a)
{
    if (!a->integrator || a->grant.agreement) return 0;
    not_matched(r, "agreementControl");
    return -1;
}

/* ---- GET /sps/{iysCode}/brands ------------------------------------------------ */

/* An integrator sees the brands it was authorized for only. */
void iz__sim_h_brands(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, 0) != 0) return;
    iz_sim_brand_stats_t *list = NULL;
    size_t n = 0;
    if (iz_sim_brand_stats(sim->st, a.iys, true, &list, &n) != 0) {
        reply_store_error(r);
        return;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        iz_sim_grant_t g;
        if (a.integrator &&
            iz_sim_grant_get(sim->st, a.integrator, a.iys, list[i].brand_code, &g) != 0)
            continue;
        json_array_append_new(
            out, json_pack("{s:I, s:{s:{s:I, s:I, s:I}, s:{s:I}}, s:s, s:b}", "brandCode",
                           (json_int_t)list[i].brand_code, "stats", "consents", "approval",
                           (json_int_t)list[i].approval, "rejection", (json_int_t)list[i].rejection,
                           "total", (json_int_t)list[i].total, "retailers", "total",
                           (json_int_t)list[i].retailers, "name", list[i].name, "master", i == 0));
    }
    free(list);
    iz_reply_json(r, 200, out);
}

/* ---- subscriptions ------------------------------------------------------------- */

/* The fields every subscription shows: id, dates, package name, state. An
 * unset start is start0, an unset end a year after the start. */
static void sub_fields(json_t *o, const char *prefix, const iz_sim_subinfo_t *s, int64_t start0,
                       const char *id0, const char *package0)
{
    char key[64];
    int64_t start = s->start ? s->start : start0;
    int64_t end = s->end ? s->end : start + YEAR - 1;
    json_object_set_new(o, "startDate", iz__sim_tr_date(start));
    json_object_set_new(o, "expirationDate", iz__sim_tr_date(end));
    snprintf(key, sizeof key, "%sSubscriptionPackageName", prefix);
    key[0] = prefix[0] ? key[0] : 's';
    json_object_set_new(o, key, json_string(s->package[0] ? s->package : package0));
    snprintf(key, sizeof key, "%sSubscriptionId", prefix);
    key[0] = prefix[0] ? key[0] : 's';
    json_object_set_new(o, key, json_string(s->id[0] ? s->id : id0));
    json_object_set_new(o, "status", json_string(iz_sub_name(s->status)));
}

/* A ViA or ViA PASS package object, or NULL when the provider has none. */
static json_t *via_json(iz_sim_t *sim, int64_t iys, bool pass, bool full)
{
    iz_sim_via_t v;
    if (iz_sim_via_get(sim->st, iys, pass, &v) != 0) return NULL;
    json_t *o = json_object();
    sub_fields(o, pass ? "viaPass" : "via", &v.sub, 0, "", "");
    if (full) json_object_set_new(o, pass ? "viaPassCredit" : "viaCredit", json_integer(v.credit));
    return o;
}

json_t *iz__sim_subscription_json(iz_sim_t *sim, const iz_sim_provider_t *p, bool full)
{
    json_t *o = json_object();
    iz_sim_subinfo_t hs = {.status = p->subscription, .start = p->sub_start, .end = p->sub_end};
    iz_strlcpy(hs.id, p->sub_id, sizeof hs.id);
    iz_strlcpy(hs.package, p->sub_package, sizeof hs.package);
    char id0[24];
    snprintf(id0, sizeof id0, "%lld", (long long)p->iys_code);
    sub_fields(o, "", &hs, p->created, id0, HS_PACKAGE);
    if (full) {
        int64_t used = 0;
        (void)iz_sim_provider_used(sim->st, p->iys_code, &used);
        /* An unlimited consent limit reads -1, as an unlimited ViA credit. */
        json_object_set_new(o, "consentLimit", json_integer(p->quota > 0 ? p->quota : -1));
        json_object_set_new(o, "consentLimitExceed", json_boolean(p->limit_exceed));
        json_object_set_new(o, "usedConsentLimit", json_integer(used));
    }
    json_t *v = via_json(sim, p->iys_code, false, full);
    if (v) json_object_set_new(o, "viaSubscriptionPackage", v);
    if ((v = via_json(sim, p->iys_code, true, full)))
        json_object_set_new(o, "viaPassSubscriptionPackage", v);
    return o;
}

json_t *iz__sim_integrator_sub_json(const iz_sim_integrator_t *ig)
{
    json_t *o = json_object();
    char id0[24];
    snprintf(id0, sizeof id0, "%lld", (long long)ig->code);
    sub_fields(o, "", &ig->sub, ig->created, id0, IO_PACKAGE);
    json_object_set_new(o, "iysCode", json_integer(ig->code));
    return o;
}

/* Answers in every state but none (404 H437); an integrator authorized
 * for any of the provider's brands sees it without limits and credits. */
void iz__sim_h_subscription(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_SUBQUERY) != 0) return;
    iz_reply_json(r, 200, iz__sim_subscription_json(sim, &a.prov, a.integrator == 0));
}

/* The integrator calls: an integrator's own token and code. 0 with *ig,
 * or answered (400 H522 for a provider's token, 403 H353 for another
 * integrator's code, the integrator's subscription) and -1. */
static int integrator_call(iz_req_t *r, iz_sim_t *sim, bool subquery, iz_sim_integrator_t *ig)
{
    iz_sim_owner_t owner = IZ_SIM_SP;
    int64_t code = 0, path = 0;
    if (bearer(r, sim, &owner, &code) != 0 || path_code(r, "integratorCode", "H190", &path) != 0)
        return -1;
    if (owner != IZ_SIM_INTEGRATOR) {
        if (subquery)
            iz_reply_error(r, "H522", NULL);
        else
            iz_reply_error(r, "H363", NULL);
        return -1;
    }
    if (path != code) {
        not_matched(r, "integratorIysCode");
        return -1;
    }
    return integrator_ok(r, sim, code, subquery, ig);
}

void iz__sim_h_integrator_subscription(iz_req_t *r, void *app)
{
    iz_sim_integrator_t ig;
    if (integrator_call(r, app, true, &ig) != 0) return;
    iz_reply_json(r, 200, iz__sim_integrator_sub_json(&ig));
}

/* ---- GET /integrator/{integratorCode}/sps[/{iysCode}] --------------------------- */

json_t *iz__sim_grant_json(const iz_sim_grant_t *g)
{
    json_t *o = json_pack("{s:I, s:s, s:b, s:s, s:I, s:b}", "brandCode", (json_int_t)g->brand_code,
                          "name", g->brand_name, "master", g->master, "title", g->provider_name,
                          "iysCode", (json_int_t)g->iys_code, "agreementControl", g->agreement);
    if (!o) iz_oom();
    static const iz_type_t types[] = {IZ_MESAJ, IZ_ARAMA, IZ_EPOSTA};
    for (size_t i = 0; i < IZ_ARRAY_LEN(types); i++) {
        const char *right = iz_right_name(iz_sim_grant_right(g, types[i]));
        json_object_set_new(o, iz_type_name(types[i]), right ? json_string(right) : json_null());
    }
    json_object_set_new(o, "viaControl", json_boolean(g->via));
    return o;
}

/* offset and limit of a page: every bad one is an error (H182 offset,
 * H183 limit, H187 a zero limit, H186 over PAGE_MAX), answered together
 * with 422; 0 when both are good. */
static int page_args(iz_req_t *r, int64_t *offset, int64_t *limit)
{
    iz_error_t errs[2];
    size_t n = 0;
    const char *so = iz_req_query(r, "offset"), *sl = iz_req_query(r, "limit");
    json_t *vo = so ? json_string(so) : NULL, *vl = sl ? json_string(sl) : NULL;
    *offset = 0;
    *limit = PAGE_MAX;
    if (so && iz_parse_i64(so, 0, INT32_MAX, offset) != 0)
        errs[n++] = (iz_error_t){.code = "H182", .location = "offset", .value = vo, .index = -1};
    if (sl && iz_parse_i64(sl, 0, INT32_MAX, limit) != 0)
        errs[n++] = (iz_error_t){.code = "H183", .location = "limit", .value = vl, .index = -1};
    else if (sl && *limit == 0)
        errs[n++] = (iz_error_t){.code = "H187", .location = "limit", .value = vl, .index = -1};
    else if (*limit > PAGE_MAX)
        errs[n++] = (iz_error_t){.code = "H186", .location = "limit", .value = vl, .index = -1};
    if (n) iz_reply_errors(r, 422, errs, n);
    json_decref(vo);
    json_decref(vl);
    return n ? -1 : 0;
}

/* Both listings: every grant of the integrator, or one provider's (the
 * path has {iysCode}: 403 H353 when the integrator has none of its
 * brands). */
void iz__sim_h_integrator_sps(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_integrator_t ig;
    int64_t iys = 0, offset, limit;
    if (integrator_call(r, sim, false, &ig) != 0) return;
    if (iz_req_param(r, "iysCode") && path_code(r, "iysCode", "H190", &iys) != 0) return;
    if (page_args(r, &offset, &limit) != 0) return;
    iz_sim_grant_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (iz_sim_grant_list(sim->st, ig.code, iys, offset, limit, &list, &n, &total) != 0) {
        reply_store_error(r);
        return;
    }
    if (iys && total == 0) {
        free(list);
        not_matched(r, "iysCode");
        return;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, iz__sim_grant_json(&list[i]));
    free(list);
    iz_reply_json(r, 200,
                  json_pack("{s:{s:I, s:I, s:I}, s:o}", "pagination", "offset", (json_int_t)offset,
                            "pageSize", (json_int_t)n, "totalCount", (json_int_t)total, "list",
                            out));
}
