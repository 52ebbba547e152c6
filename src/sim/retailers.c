/*
 * retailers.c - İYS's retailers (bayi) as the emulator answers them: a
 * brand's retailers (BAYİ YÖNETİMİ: create, list, get, delete), which
 * retailers may see which consent (BAYİ İZİN YÖNETİMİ: add, override,
 * list, remove, remove all), and the retailerCode and retailerAccess
 * fields of the consent adds (single v1 and v2, and the async bulk).
 *
 * A retailer belongs to one brand; its code is 8 random digits, unique in
 * the emulator. A consent's access list is kept per consent key, and the
 * retailer a consent was obtained through (retailerCode) is its mediator,
 * which gets access too. Everything is in the emulator's store
 * (simstore.h); the choices where İYS's documents are silent or disagree
 * are written in docs/IYS-EMULATOR.md, section "Retailers".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/recipient.h"
#include "sim/sim_int.h"

#define RETAILER_PAGE_MAX 100 /* H186 above: a page of retailers */
#define RECIPIENTS_MAX 100    /* H127 above: recipients of one access call */
#define RETAILER_TEXT_MAX 255 /* H017 above: title, alias, name */
#define RETAILER_PLACE_MAX 64 /* H017 above: a city's or town's name */
#define RETAILER_CODE_LEN 16  /* H017 above: a city's or town's code */
#define SIM_ACCESS_MAX 10000  /* codes one /_sim/ access answer lists */

static void verr_add(iz_verrs_t *errs, const char *code, const char *field)
{
    if (errs->n < IZ_VERR_MAX) errs->e[errs->n++] = (iz_verr_t){.code = code, .field = field};
}

/* A retailer code as a body gives it: a positive integer, or a string of
 * digits; -1 for anything else (it names no retailer: H180). */
static int64_t code_of(json_t *v)
{
    int64_t c;
    if (json_is_integer(v)) return json_integer_value(v) > 0 ? json_integer_value(v) : -1;
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
        iz_parse_i64(json_string_value(v), 1, INT64_MAX, &c) == 0)
        return c;
    return -1;
}

/* ---- the consent adds' retailer fields ------------------------------------ */

void iz__sim_retail_parse(json_t *item, iz__sim_retail_t *rt, iz_verrs_t *errs)
{
    rt->code = 0;
    rt->n = 0;
    json_t *rc = json_object_get(item, "retailerCode");
    if (!rc) {
    } else if (json_is_null(rc)) {
        verr_add(errs, "H266", "retailerCode");
    } else if (json_is_string(rc) && json_string_length(rc) == 0) {
        verr_add(errs, "H267", "retailerCode");
    } else if (json_is_integer(rc) || json_is_string(rc)) {
        rt->code = code_of(rc);
    } else {
        verr_add(errs, "H085", "retailerCode");
    }
    json_t *ra = json_object_get(item, "retailerAccess");
    if (!ra) {
    } else if (json_is_null(ra)) {
        verr_add(errs, "H169", "retailerAccess");
    } else if (!json_is_array(ra)) {
        verr_add(errs, "H085", "retailerAccess");
    } else if (json_array_size(ra) == 0) {
        verr_add(errs, "H163", "retailerAccess");
    } else if (json_array_size(ra) > IZ_SIM_RETAILER_ACCESS_MAX) {
        verr_add(errs, "H126", "retailerAccess");
    } else {
        for (size_t i = 0; i < json_array_size(ra); i++)
            rt->access[rt->n++] = code_of(json_array_get(ra, i));
    }
}

/* Check rt's retailers against the brand: its access list, then its
 * retailerCode (*bad = rt->n). */
static int retail_check(iz_sim_t *sim, int64_t iys, int64_t brand, const iz__sim_retail_t *rt,
                        size_t *bad, const char **hcode)
{
    int rc = iz_sim_retailers_check(sim->st, iys, brand, rt->access, rt->n, bad, hcode);
    if (rc == 0 && rt->code &&
        (rc = iz_sim_retailers_check(sim->st, iys, brand, &rt->code, 1, bad, hcode)) == IZ_ERULE)
        *bad = rt->n;
    return rc;
}

int iz__sim_record_retail(iz_sim_t *sim, const iz_sim_provider_t *prov, const iz_consent_t *c,
                          const iz__sim_retail_t *rt, int64_t now, bool idempotent,
                          iz_sim_change_t *chg, const char **hcode, size_t *bad)
{
    *hcode = NULL;
    if (!rt || (!rt->code && !rt->n))
        return iz__sim_record(sim, prov, c, now, idempotent, chg, hcode);
    int rc = retail_check(sim, chg->iys_code, chg->brand_code, rt, bad, hcode);
    if (rc != 0) return rc;
    rc = iz__sim_record(sim, prov, c, now, idempotent, chg, hcode);
    if (rc != 0 && rc != IZ_REPEAT) return rc;
    iz_sim_key_t key = {.iys_code = chg->iys_code,
                        .brand_code = chg->brand_code,
                        .rtype = c->rtype,
                        .type = c->type};
    memcpy(key.recipient, c->recipient, sizeof key.recipient);
    size_t found = 0;
    int rc2 = iz_sim_access_change(sim->st, IZ_SIM_ACCESS_ADD, &key, 1, rt->access, rt->n, rt->code,
                                   &found, bad, hcode);
    return rc2 ? rc2 : rc;
}

/* One error of İYS's shape whose location is [field] or, with pos >= 0,
 * [field, pos] (new reference). */
static json_t *error_at(iz_req_t *r, const char *code, const char *message, const char *field,
                        int pos, json_t *value, int index)
{
    iz_error_t e = {
        .code = code, .message = message, .location = field, .value = value, .index = index};
    json_t *o = iz_error_json(r, &e);
    if (field && pos >= 0) json_object_set_new(o, "location", json_pack("[s, i]", field, pos));
    return o;
}

static const char msg_h353[] = "retailerCode, kullanıcı izinleriyle eşleştirilemiyor";

json_t *iz__sim_retail_error(iz_req_t *r, const char *hcode, json_t *item,
                             const iz__sim_retail_t *rt, size_t bad, int index)
{
    bool h353 = strcmp(hcode, "H353") == 0;
    if (!h353 && strcmp(hcode, "H180") != 0) return NULL;
    const char *msg = h353 ? msg_h353 : NULL;
    if (bad >= rt->n)
        return error_at(r, hcode, msg, "retailerCode", -1, json_object_get(item, "retailerCode"),
                        index);
    return error_at(r, hcode, msg, "retailerAccess", (int)bad,
                    json_array_get(json_object_get(item, "retailerAccess"), bad), index);
}

int iz__sim_retail_check_items(iz_req_t *r, iz_sim_t *sim, const iz__sim_auth_t *a, json_t *body,
                               const iz__sim_retail_t *rts, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!rts[i].code && !rts[i].n) continue;
        size_t bad = 0;
        const char *hcode = NULL;
        int rc = retail_check(sim, a->iys, a->brand, &rts[i], &bad, &hcode);
        if (rc == IZ_ERULE) {
            json_array_append_new(list, iz__sim_retail_error(r, hcode, json_array_get(body, i),
                                                             &rts[i], bad, (int)i));
        } else if (rc != 0) {
            json_decref(list);
            iz_reply_error(r, "H015", NULL);
            return -1;
        }
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return 0;
    }
    iz_reply_json(r, 403, json_pack("{s:o}", "errors", list));
    return -1;
}

void iz__sim_retail_store(const iz__sim_retail_t *rt, json_t *obj)
{
    if (rt->code) json_object_set_new(obj, "retailerCode", json_integer(rt->code));
    if (!rt->n) return;
    json_t *list = json_array();
    for (size_t i = 0; i < rt->n; i++)
        json_array_append_new(list, json_integer(rt->access[i]));
    json_object_set_new(obj, "retailerAccess", list);
}

static void key_of_change(const iz_sim_change_t *c, iz_sim_key_t *k)
{
    *k = (iz_sim_key_t){
        .iys_code = c->iys_code, .brand_code = c->brand_code, .rtype = c->rtype, .type = c->type};
    memcpy(k->recipient, c->recipient, sizeof k->recipient);
}

int iz__sim_retail_status(iz_sim_t *sim, const iz_sim_change_t *cur, json_t *out)
{
    iz_sim_key_t key;
    key_of_change(cur, &key);
    iz_sim_consent_retail_t cr;
    int rc = iz_sim_consent_retail(sim->st, &key, &cr);
    if (rc != 0) return rc;
    if (cr.mediator) {
        json_object_set_new(out, "retailerCode", json_integer(cr.mediator));
        if (cr.title[0]) json_object_set_new(out, "retailerTitle", json_string(cr.title));
    }
    if (cr.mediator || cr.access_count)
        json_object_set_new(out, "retailerAccessCount", json_integer(cr.access_count));
    return 0;
}

/* ---- a retailer's JSON ----------------------------------------------------- */

static json_t *place_json(const char *code, const char *name)
{
    return json_pack("{s:s, s:s}", "name", name, "code", code);
}

typedef enum { SHOW_FULL, SHOW_SINGLE, SHOW_SHORT, SHOW_OF_CONSENT } show_t;

/* A retailer as each of İYS's answers shows it: the list (every field with
 * its code and access count), the single query (no code: it is in the
 * path), the short list, and the retailers of one consent (no status or
 * count). */
static json_t *retailer_json(const iz_sim_retailer_t *rt, show_t show)
{
    json_t *o = json_object();
    json_object_set_new(o, "title", json_string(rt->title));
    if (show != SHOW_SHORT) {
        if (rt->mersis[0]) json_object_set_new(o, "mersis", json_string(rt->mersis));
        if (rt->alias[0]) json_object_set_new(o, "alias", json_string(rt->alias));
        json_object_set_new(o, "name", json_string(rt->name));
        json_object_set_new(o, "tckn", json_string(rt->tckn));
        if (rt->mobile[0]) json_object_set_new(o, "mobile", json_string(rt->mobile));
        if (show != SHOW_OF_CONSENT) json_object_set_new(o, "tin", json_string(rt->tin));
    }
    json_object_set_new(o, "city", place_json(rt->city_code, rt->city_name));
    if (show != SHOW_SHORT)
        json_object_set_new(o, "town", place_json(rt->town_code, rt->town_name));
    if (show != SHOW_OF_CONSENT) {
        json_object_set_new(o, "status", json_string(rt->status));
        json_object_set_new(o, "retailerAccessCount", json_integer(rt->access_count));
    }
    if (show != SHOW_SINGLE) json_object_set_new(o, "retailerCode", json_integer(rt->code));
    return o;
}

/* ---- POST .../retailers (createRetailer) ------------------------------------ */

/* TCKN's two check digits (the 10th and the 11th) over 11 digits. */
static bool tckn_valid(const char *s)
{
    int d[11];
    for (int i = 0; i < 11; i++)
        d[i] = s[i] - '0';
    if (d[0] == 0) return false;
    int odd = d[0] + d[2] + d[4] + d[6] + d[8], even = d[1] + d[3] + d[5] + d[7];
    int sum10 = 0;
    for (int i = 0; i < 10; i++)
        sum10 += d[i];
    return ((odd * 7 - even) % 10 + 10) % 10 == d[9] && sum10 % 10 == d[10];
}

/* VKN's check digit (the 10th) over 10 digits. */
static bool vkn_valid(const char *s)
{
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        int t = (s[i] - '0' + 9 - i) % 10;
        int v = (t * (1 << (9 - i))) % 9;
        if (t != 0 && v == 0) v = 9;
        sum += v;
    }
    return (10 - sum % 10) % 10 == s[9] - '0';
}

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/* İYS's "alphanumeric" names: letters (any non-ASCII UTF-8 letter such as
 * Ş or ı included), digits, spaces and the punctuation of a trade name. */
static bool alnum_text(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr(" .,&-'()/", ch))
            continue;
        return false;
    }
    return true;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ') return false;
    return true;
}

/* One create failure: its code and, when İYS's message names the field,
 * the message. */
typedef struct create_err {
    const char *code;
    char msg[160];
} create_err_t;

/* Record the failure code (with İYS's message about the field when fmt is
 * given) and return the code. */
__attribute__((format(printf, 3, 4))) static const char *fail(create_err_t *e, const char *code,
                                                              const char *fmt, ...)
{
    e->code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Read one field as text into out (size bytes): "" when absent or null. A
 * string, or an integer when digits is true (İYS's own example sends mersis
 * as a number); another kind of value is H016; longer than max bytes is
 * H017. */
static const char *text_field(json_t *obj, const char *name, bool digits, char *out, size_t size,
                              int max, create_err_t *e)
{
    json_t *v = json_object_get(obj, name);
    out[0] = '\0';
    if (!v || json_is_null(v)) return NULL;
    char num[24];
    const char *s = NULL;
    if (digits && json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
        s = json_string_value(v);
    } else {
        return fail(e, "H016", "Geçersiz girdi tespit edildi: %s", name);
    }
    if (strlen(s) > (size_t)max || strlen(s) >= size)
        return fail(e, "H017", "%s sahası için %d karakter üst sınırına ulaşıldı!", name, max);
    memcpy(out, s, strlen(s) + 1);
    return NULL;
}

/* A required name field (title, name): empty is missing, then H229. */
static const char *name_field(json_t *body, const char *name, const char *missing, char *out,
                              size_t size, create_err_t *e)
{
    const char *code = text_field(body, name, false, out, size, RETAILER_TEXT_MAX, e);
    if (code) return code;
    if (missing && blank(out)) return fail(e, missing, NULL);
    if (!alnum_text(out)) return fail(e, "H229", "%s alfanümerik olmalıdır.", name);
    return NULL;
}

/* city or town: an object with a code and a name. */
static const char *place_field(json_t *body, const char *field, const char *const codes[3],
                               char *code_out, size_t code_size, char *name_out, size_t name_size,
                               create_err_t *e)
{
    json_t *p = json_object_get(body, field);
    if (!p || json_is_null(p)) return fail(e, codes[0], NULL);
    if (!json_is_object(p)) return fail(e, "H016", "Geçersiz girdi tespit edildi: %s", field);
    const char *c = text_field(p, "code", true, code_out, code_size, RETAILER_CODE_LEN, e);
    if (!c && blank(code_out)) c = fail(e, codes[1], NULL);
    if (!c) c = text_field(p, "name", false, name_out, name_size, RETAILER_PLACE_MAX, e);
    if (!c && blank(name_out)) c = fail(e, codes[2], NULL);
    return c;
}

static const char *const create_fields[] = {"title",  "mersis", "alias", "name", "tckn",
                                            "mobile", "tin",    "city",  "town", "status"};

/* Check a create body into rt, in İYS's field order; NULL, or the first
 * failure's code (with e's message when it has one). */
static const char *parse_retailer(json_t *body, iz_sim_retailer_t *rt, create_err_t *e)
{
    static const char *const city[3] = {"H217", "H218", "H219"};
    static const char *const town[3] = {"H220", "H221", "H222"};
    const char *code,
        *unknown = iz_json_unknown_key(body, create_fields, IZ_ARRAY_LEN(create_fields));
    if (unknown) return fail(e, "H016", "Geçersiz girdi tespit edildi: %s", unknown);
    if ((code = name_field(body, "title", "H214", rt->title, sizeof rt->title, e)) ||
        (code = name_field(body, "name", "H215", rt->name, sizeof rt->name, e)) ||
        (code = name_field(body, "alias", NULL, rt->alias, sizeof rt->alias, e)))
        return code;

    if ((code = text_field(body, "tckn", true, rt->tckn, sizeof rt->tckn, 11, e))) {
        return strcmp(code, "H017") == 0 ? fail(e, "H226", NULL) : code;
    }
    if (blank(rt->tckn)) return fail(e, "H216", NULL);
    if (strlen(rt->tckn) != 11) return fail(e, "H226", NULL);
    if (!all_digits(rt->tckn) || !tckn_valid(rt->tckn)) return fail(e, "H225", NULL);

    if ((code = text_field(body, "mersis", true, rt->mersis, sizeof rt->mersis, 16, e)))
        return strcmp(code, "H017") == 0 ? fail(e, "H228", NULL) : code;
    if (rt->mersis[0] && !all_digits(rt->mersis)) return fail(e, "H227", NULL);
    if (rt->mersis[0] && strlen(rt->mersis) != 16) return fail(e, "H228", NULL);

    if ((code = text_field(body, "mobile", false, rt->mobile, sizeof rt->mobile, 15, e)))
        return strcmp(code, "H017") == 0 ? fail(e, "H224", NULL) : code;
    if (rt->mobile[0]) {
        char norm[IZ_RECIPIENT_MAX];
        const char *why = NULL;
        if (iz_recipient_normalize(rt->mobile, strlen(rt->mobile), IZ_MESAJ, norm, &why) != 0 ||
            strcmp(norm, rt->mobile) != 0)
            return fail(e, "H224", NULL);
    }

    if ((code = text_field(body, "tin", true, rt->tin, sizeof rt->tin, 11, e)))
        return strcmp(code, "H017") == 0 ? fail(e, "H244", NULL) : code;
    if (blank(rt->tin)) return fail(e, "H288", NULL);
    if (!all_digits(rt->tin)) return fail(e, "H243", NULL);
    size_t tl = strlen(rt->tin);
    if (tl != 10 && tl != 11) return fail(e, "H244", NULL);
    if (tl == 10 ? !vkn_valid(rt->tin) : !tckn_valid(rt->tin)) return fail(e, "H243", NULL);

    if ((code = place_field(body, "city", city, rt->city_code, sizeof rt->city_code, rt->city_name,
                            sizeof rt->city_name, e)) ||
        (code = place_field(body, "town", town, rt->town_code, sizeof rt->town_code, rt->town_name,
                            sizeof rt->town_name, e)))
        return code;

    if ((code = text_field(body, "status", false, rt->status, sizeof rt->status, 9, e)))
        return strcmp(code, "H017") == 0 ? fail(e, "H201", NULL) : code;
    if (!rt->status[0]) memcpy(rt->status, "active", 7);
    if (strcmp(rt->status, "active") != 0 && strcmp(rt->status, "passive") != 0 &&
        strcmp(rt->status, "suspended") != 0)
        return fail(e, "H201", NULL);
    return NULL;
}

void iz__sim_h_retailer_create(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0) return;
    json_t *body = iz_req_json_object(r, "H016");
    if (!body) return;
    iz_sim_retailer_t rt = {.iys_code = a.iys, .brand_code = a.brand};
    create_err_t e = {0};
    const char *code = parse_retailer(body, &rt, &e);
    json_decref(body);
    if (code) {
        iz_reply_error(r, code, e.msg[0] ? e.msg : NULL);
        return;
    }
    const char *field = NULL;
    int rc = iz_sim_retailer_add(sim->st, &rt, &code, &field);
    if (rc == IZ_ERULE) {
        bool tckn_h253 = strcmp(code, "H253") == 0 && strcmp(field, "tckn") == 0;
        iz_reply_error(r, code,
                       tckn_h253 ? "Verilen iysCode altında aynı kimlik numarası ile kaydedilen "
                                   "pasif bir bayi hâlihazırda mevcuttur."
                                 : NULL);
    } else if (rc != 0) {
        iz_reply_error(r, "H015", NULL);
    } else {
        iz_reply_json(r, 201, json_pack("{s:I}", "retailerCode", (json_int_t)rt.code));
    }
}

/* ---- GET .../retailers (searchRetailers) ------------------------------------- */

/* A yes/no query argument: absent is *out = false; "true", "" and "false". */
static int flag_arg(iz_req_t *r, const char *name, bool *out)
{
    const char *v = iz_req_query(r, name);
    *out = v && strcmp(v, "false") != 0;
    if (!v || !v[0] || strcmp(v, "true") == 0 || strcmp(v, "false") == 0) return 0;
    iz_error_t e = {.code = "IZ400",
                    .message = "Değer true ya da false olmalıdır.",
                    .location = name,
                    .index = -1};
    json_t *jv = json_string(v);
    e.value = jv;
    iz_reply_errors(r, 400, &e, 1);
    json_decref(jv);
    return -1;
}

/* {"pagination": {...}, "list": [...]} of one page of retailers; the
 * current page (1 based) only where İYS's answer has it. */
static json_t *page_json(const iz_sim_retailer_t *list, size_t n, show_t show, int64_t offset,
                         int64_t limit, int64_t total, bool current_page)
{
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, retailer_json(&list[i], show));
    json_t *pg = json_pack("{s:I, s:I, s:I}", "offset", (json_int_t)offset, "pageSize",
                           (json_int_t)limit, "totalCount", (json_int_t)total);
    if (current_page) json_object_set_new(pg, "currentPage", json_integer(offset / limit + 1));
    return json_pack("{s:o, s:o}", "pagination", pg, "list", out);
}

void iz__sim_h_retailer_list(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0) return;
    int64_t limit, offset;
    bool brief, all;
    if (iz__sim_paging(r, RETAILER_PAGE_MAX, "H183", "H182", &limit, &offset) != 0 ||
        flag_arg(r, "short", &brief) != 0 || flag_arg(r, "all", &all) != 0)
        return;
    iz_sim_retailer_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (iz_sim_retailer_list(sim->st, a.iys, a.brand, offset, limit, &list, &n, &total) != 0) {
        iz_reply_error(r, "H015", NULL);
        return;
    }
    json_t *out =
        page_json(list, n, brief && !all ? SHOW_SHORT : SHOW_FULL, offset, limit, total, true);
    free(list);
    iz_reply_json(r, 200, out);
}

/* ---- GET and DELETE .../retailers/{retailerCode} ------------------------------ */

/* The path's retailer, which must be the brand's: 0, or answers 404 H058
 * (none) or 403 H353 (another brand's) and returns non-zero. */
static int path_retailer(iz_req_t *r, iz_sim_t *sim, const iz__sim_auth_t *a, iz_sim_retailer_t *rt)
{
    const char *p = iz_req_param(r, "retailerCode");
    int64_t code = 0;
    int rc = iz_parse_i64(p, 1, INT64_MAX, &code) == 0 ? iz_sim_retailer_get(sim->st, code, rt)
                                                       : IZ_ENOTFOUND;
    if (rc == 0 && (rt->iys_code != a->iys || rt->brand_code != a->brand)) {
        iz_reply_error(r, "H353", msg_h353);
        return -1;
    }
    if (rc == IZ_ENOTFOUND) {
        char msg[96];
        snprintf(msg, sizeof msg, "Bayi:%.40s bulunamadı.", p);
        iz_reply_error(r, "H058", msg);
    } else if (rc != 0) {
        iz_reply_error(r, "H015", NULL);
    }
    return rc;
}

void iz__sim_h_retailer_get(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    iz_sim_retailer_t rt;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0 || path_retailer(r, sim, &a, &rt) != 0)
        return;
    iz_reply_json(r, 200, retailer_json(&rt, SHOW_SINGLE));
}

void iz__sim_h_retailer_delete(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    iz_sim_retailer_t rt;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0 || path_retailer(r, sim, &a, &rt) != 0)
        return;
    int rc = iz_sim_retailer_delete(sim->st, a.iys, a.brand, rt.code);
    if (rc == 0) {
        static const char ok[] = "Başarı";
        iz_reply_bytes(r, 200, "text/plain; charset=utf-8", ok, sizeof ok - 1);
    } else if (rc == IZ_EEXIST) {
        /* İYS names no code for it; its description says 400. */
        iz_reply_error(r, "IZ400", "Bayi bir izinle ilişkilendirildiği için silinemez.");
    } else if (rc == IZ_ENOTFOUND) {
        iz_reply_error(r, "H058", NULL);
    } else {
        iz_reply_error(r, "H015", NULL);
    }
}

/* ---- the access calls -------------------------------------------------------- */

/* What the access calls' bodies hold. */
enum { WANT_RECIPIENT = 1, WANT_RECIPIENTS = 2, WANT_CODES = 4 };

typedef struct access_req {
    iz_sim_key_t *keys; /* nkeys keys (in the request's arena) */
    size_t nkeys;
    iz__sim_retail_t rt; /* retailerAccess (code unused) */
    json_t *body;        /* owned */
} access_req_t;

static const char *const access_fields[] = {"type", "recipientType", "recipient", "recipients",
                                            "retailerAccess"};

/* The errors of one body, answered with the first one's status. */
typedef struct errlist {
    json_t *list;
    const char *first;
} errlist_t;

static void err_add(iz_req_t *r, errlist_t *el, const char *code, const char *field, int pos,
                    json_t *value)
{
    json_array_append_new(el->list, error_at(r, code, NULL, field, pos, value, -1));
    if (!el->first) el->first = code;
}

/* The recipients list (H168 H478 H164 H127, then each one's code at
 * [recipients, i]) into q's keys. */
static void parse_recipients(iz_req_t *r, json_t *body, bool type_ok, const iz__sim_keyq_t *kq,
                             access_req_t *q, errlist_t *el)
{
    json_t *list = json_object_get(body, "recipients");
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (!list || json_is_null(list)) {
        err_add(r, el, "H168", "recipients", -1, NULL);
    } else if (!json_is_array(list)) {
        err_add(r, el, "H478", "recipients", -1, list);
    } else if (n == 0) {
        err_add(r, el, "H164", "recipients", -1, list);
    } else if (n > RECIPIENTS_MAX) {
        err_add(r, el, "H127", "recipients", -1, NULL);
    } else if (type_ok) {
        /* A recipient listed twice is one consent (İYS's own examples list
         * one twice). */
        q->keys = iz_req_alloc(r, n * sizeof *q->keys);
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(list, i);
            char *norm = q->keys[q->nkeys].recipient;
            const char *code = iz__sim_query_recipient(v, kq->type, norm);
            bool again = false;
            for (size_t k = 0; !code && k < q->nkeys && !again; k++)
                again = strcmp(q->keys[k].recipient, norm) == 0;
            if (code)
                err_add(r, el, code, "recipients", (int)i, v);
            else if (!again)
                q->nkeys++;
        }
    }
}

/* Parse an access call's body as want says; answers the errors itself
 * (object_code for a body that is not an object or has a field İYS does
 * not take) and returns non-zero. */
static int access_body(iz_req_t *r, const iz__sim_auth_t *a, const char *object_code, unsigned want,
                       access_req_t *q)
{
    memset(q, 0, sizeof *q);
    json_t *body = iz_req_json_object(r, object_code);
    if (!body) return -1;
    const char *unknown = iz_json_unknown_key(body, access_fields, IZ_ARRAY_LEN(access_fields));
    bool extra = (!(want & WANT_RECIPIENT) && json_object_get(body, "recipient")) ||
                 (!(want & WANT_RECIPIENTS) && json_object_get(body, "recipients")) ||
                 (!(want & WANT_CODES) && json_object_get(body, "retailerAccess"));
    if (unknown || extra) {
        iz_reply_error(r, object_code, NULL);
        json_decref(body);
        return -1;
    }
    iz__sim_keyq_t kq;
    iz_verrs_t ve = {0};
    errlist_t el = {.list = json_array()};
    bool type_ok = iz__sim_parse_type(body, &kq, &ve);
    iz__sim_parse_rtype(body, &kq, &ve);
    for (int i = 0; i < ve.n; i++)
        err_add(r, &el, ve.e[i].code, ve.e[i].field, -1, json_object_get(body, ve.e[i].field));
    if (want & WANT_RECIPIENT) {
        json_t *v = json_object_get(body, "recipient");
        q->keys = iz_req_alloc(r, sizeof *q->keys);
        q->nkeys = 1;
        const char *code = NULL;
        if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
            code = "H114";
        else if (type_ok)
            code = iz__sim_query_recipient(v, kq.type, q->keys[0].recipient);
        if (code) err_add(r, &el, code, "recipient", -1, v);
    }
    if (want & WANT_RECIPIENTS) parse_recipients(r, body, type_ok, &kq, q, &el);
    if (want & WANT_CODES) {
        json_t *ra = json_object_get(body, "retailerAccess");
        if (!ra || json_is_null(ra))
            err_add(r, &el, "H169", "retailerAccess", -1, NULL);
        else if (!json_is_array(ra))
            err_add(r, &el, "H169", "retailerAccess", -1, ra);
        else if (json_array_size(ra) == 0)
            err_add(r, &el, "H163", "retailerAccess", -1, ra);
        else if (json_array_size(ra) > IZ_SIM_RETAILER_ACCESS_MAX)
            err_add(r, &el, "H126", "retailerAccess", -1, NULL);
        else
            for (size_t i = 0; i < json_array_size(ra); i++)
                q->rt.access[q->rt.n++] = code_of(json_array_get(ra, i));
    }
    if (el.first) {
        iz_reply_json(r, iz_hcode_http(el.first), json_pack("{s:o}", "errors", el.list));
        json_decref(body);
        return -1;
    }
    json_decref(el.list);
    for (size_t i = 0; i < q->nkeys; i++) {
        q->keys[i].iys_code = a->iys;
        q->keys[i].brand_code = a->brand;
        q->keys[i].rtype = kq.rtype;
        q->keys[i].type = kq.type;
    }
    q->body = body;
    return 0;
}

/* Run op on q's keys; answers a refusal or a store failure itself and
 * returns non-zero, else *found is the number of consents found. unknown
 * is the code of a retailer that does not exist (H180; H058 for the
 * remove call, as İYS's examples have it). */
static int access_run(iz_req_t *r, iz_sim_t *sim, iz_sim_access_op_t op, access_req_t *q,
                      const char *unknown, size_t *found)
{
    size_t bad = 0;
    const char *hcode = NULL;
    int rc = iz_sim_access_change(sim->st, op, q->keys, q->nkeys, q->rt.access, q->rt.n, 0, found,
                                  &bad, &hcode);
    if (rc == IZ_ERULE && strcmp(hcode, "H180") == 0 && strcmp(unknown, "H058") == 0) {
        json_t *v = json_array_get(json_object_get(q->body, "retailerAccess"), bad);
        char msg[96];
        snprintf(msg, sizeof msg, "Bayi:%lld bulunamadı.", (long long)q->rt.access[bad]);
        iz_reply_json(r, 404,
                      json_pack("{s:[o]}", "errors",
                                error_at(r, "H058", msg, "retailerAccess", (int)bad, v, -1)));
    } else if (rc == IZ_ERULE) {
        iz_reply_json(r, 403,
                      json_pack("{s:[o]}", "errors",
                                iz__sim_retail_error(r, hcode, q->body, &q->rt, bad, -1)));
    } else if (rc != 0) {
        iz_reply_error(r, "H015", NULL);
    }
    json_decref(q->body);
    q->body = NULL;
    return rc;
}

void iz__sim_h_access_add(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    access_req_t q;
    size_t found = 0;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0 ||
        access_body(r, &a, "H090", WANT_RECIPIENT | WANT_CODES, &q) != 0 ||
        access_run(r, sim, IZ_SIM_ACCESS_ADD, &q, "H180", &found) != 0)
        return;
    if (found == 0) {
        iz_reply_error(r, "H401", NULL);
        return;
    }
    char id[37];
    iz__sim_uuid4(id);
    iz_reply_json(
        r, 200,
        json_pack("{s:s, s:o}", "transactionId", id, "creationDate", iz__sim_tr_date(time(NULL))));
}

/* The 202 answer of the calls İYS takes for later: the number of the
 * listed recipients' consents that were found (İYS's examples show 1). */
static void reply_accepted(iz_req_t *r, size_t found)
{
    char num[24];
    int len = snprintf(num, sizeof num, "%zu", found);
    iz_reply_bytes(r, 202, "application/json", num, (size_t)len);
}

/* One of the calls İYS takes for later (202): its body's object code and
 * fields, its operation, and the code of a retailer that does not exist. */
static void accepted_call(iz_req_t *r, iz_sim_t *sim, const char *object_code, unsigned want,
                          iz_sim_access_op_t op, const char *unknown)
{
    iz__sim_auth_t a;
    access_req_t q;
    size_t found = 0;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) == 0 &&
        access_body(r, &a, object_code, want, &q) == 0 &&
        access_run(r, sim, op, &q, unknown, &found) == 0)
        reply_accepted(r, found);
}

void iz__sim_h_access_override(iz_req_t *r, void *app)
{
    accepted_call(r, app, "H171", WANT_RECIPIENTS | WANT_CODES, IZ_SIM_ACCESS_SET, "H180");
}

void iz__sim_h_access_remove(iz_req_t *r, void *app)
{
    accepted_call(r, app, "H172", WANT_RECIPIENTS | WANT_CODES, IZ_SIM_ACCESS_REMOVE, "H058");
}

void iz__sim_h_access_remove_all(iz_req_t *r, void *app)
{
    accepted_call(r, app, "H172", WANT_RECIPIENTS, IZ_SIM_ACCESS_REMOVE_ALL, "H180");
}

/* POST .../consent/retailers/access/list (searchRetailersOfOneConsent): a
 * consent with no retailer, or no consent, is an empty page. */
void iz__sim_h_access_list(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    int64_t limit, offset;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0 ||
        iz__sim_paging(r, RETAILER_PAGE_MAX, "H183", "H182", &limit, &offset) != 0)
        return;
    json_t *body = iz_req_json_object(r, "H173");
    if (!body) return;
    iz__sim_keyq_t kq;
    int bad = iz__sim_key_query(r, body, &kq);
    json_decref(body);
    if (bad) return;
    iz_sim_key_t key = {
        .iys_code = a.iys, .brand_code = a.brand, .rtype = kq.rtype, .type = kq.type};
    memcpy(key.recipient, kq.recipient, sizeof key.recipient);
    iz_sim_retailer_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (iz_sim_access_list(sim->st, &key, offset, limit, &list, &n, &total) != 0) {
        iz_reply_error(r, "H015", NULL);
        return;
    }
    json_t *out = page_json(list, n, SHOW_OF_CONSENT, offset, limit, total, false);
    free(list);
    iz_reply_json(r, 200, out);
}

/* ---- GET /_sim/retailers/access ------------------------------------------------ */

/* A consent's retailers for tests: ?iysCode=&brandCode=&recipientType=
 * &type=&recipient= gives {"retailerCode": n or null, "retailerAccess":
 * [codes]} (404 IZ404 when the key has no consent). */
void iz__sim_h_sim_access(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_key_t key = {0};
    const char *ic = iz_req_query(r, "iysCode"), *bc = iz_req_query(r, "brandCode");
    const char *rt = iz_req_query(r, "recipientType"), *ty = iz_req_query(r, "type");
    const char *rcp = iz_req_query(r, "recipient");
    if (!ic || !bc || !rt || !ty || !rcp || iz_parse_i64(ic, 1, INT64_MAX, &key.iys_code) != 0 ||
        iz_parse_i64(bc, 1, INT64_MAX, &key.brand_code) != 0 || strlen(rt) > 16 ||
        iz_rtype_parse(rt, &key.rtype) != 0 || strlen(ty) > 16 ||
        iz_type_parse(ty, &key.type) != 0 ||
        iz_strlcpy(key.recipient, rcp, sizeof key.recipient) != 0) {
        iz_reply_error(r, "IZ400",
                       "iysCode, brandCode, recipientType, type ve recipient verilmelidir.");
        return;
    }
    iz_sim_change_t cur;
    iz_sim_consent_retail_t cr;
    iz_sim_retailer_t *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    int rc = iz_sim_consent_get(sim->st, key.iys_code, key.brand_code, key.rtype, key.type,
                                key.recipient, &cur);
    if (rc == 0) rc = iz_sim_consent_retail(sim->st, &key, &cr);
    if (rc == 0) rc = iz_sim_access_list(sim->st, &key, 0, SIM_ACCESS_MAX, &list, &n, &total);
    if (rc == IZ_ENOTFOUND) {
        iz_reply_error(r, "IZ404", "İzin kaydı bulunamadı.");
        return;
    }
    if (rc != 0) {
        iz_reply_error(r, "H015", NULL);
        return;
    }
    json_t *codes = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(codes, json_integer(list[i].code));
    free(list);
    iz_reply_json(r, 200,
                  json_pack("{s:o, s:o}", "retailerCode",
                            cr.mediator ? json_integer(cr.mediator) : json_null(), "retailerAccess",
                            codes));
}
