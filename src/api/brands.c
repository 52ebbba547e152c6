/*
 * brands.c - GET and PATCH /v1/brands/{brandCode}: a brand's SMS settings
 * (keywords, short and 0850 numbers, consent page slug and information
 * text, reply texts, the sender's identity and contact that commercial
 * messages carry), the
 * same as `izin brand set`, for the account that owns the brand.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/content.h"
#include "core/iz.h"
#include "core/keyword.h"
#include "core/utf8.h"
#include "sms/inbound.h"

static json_t *brand_json(const iz_brand_t *b, const iz_brand_sms_t *m, const char *info,
                          const iz_brand_page_t *pg, const iz_brand_ident_t *id)
{
    json_t *kws = json_array();
    for (size_t i = 0; i < m->nkeywords; i++)
        json_array_append_new(kws, json_string(m->keywords[i]));
    json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "code",
                          (json_int_t)b->code, "name", b->name, "keywords", kws, "shortNumber",
                          b->short_number, "subscriberNumber", b->subscriber_number, "slug",
                          b->slug, "replies", "onay", m->reply_onay, "ret", m->reply_ret, "help",
                          m->reply_help);
    if (!o) iz_oom();
    json_object_set_new(o, "infoText", json_string(info));
    json_object_set_new(o, "pageMode", json_string(pg->iys ? "IYS" : "LOCAL"));
    json_object_set_new(o, "pageOtpTemplate", json_string(pg->otp_template));
    json_object_set_new(o, "pageVkn", json_string(pg->vkn));
    json_object_set_new(o, "tradeName", json_string(id->trade_name));
    json_object_set_new(o, "mersis", json_string(id->mersis));
    json_object_set_new(o, "tradesman", json_string(id->tradesman));
    json_object_set_new(o, "contact", json_string(id->contact));
    return o;
}

int iz_brand_settings_get(iz_app_t *app, const iz_brand_t *b, iz_brand_settings_t *out)
{
    out->b = *b;
    int rc = iz_store_brand_sms_get(app->store, b->id, &out->sms);
    if (rc == 0) rc = iz_store_brand_info_get(app->store, b->id, out->info, sizeof out->info);
    if (rc == 0) rc = iz_store_brand_page_get(app->store, b->id, &out->page);
    if (rc == 0) rc = iz_store_brand_ident_get(app->store, b->id, &out->ident);
    return rc;
}

void iz__h_brand_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t b;
    if (iz__api_brand(r, app, &b) != 0) return;
    iz_brand_settings_t *s = iz_req_alloc(r, sizeof *s);
    int rc = iz_brand_settings_get(app, &b, s);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    iz_reply_json(r, 200, brand_json(&s->b, &s->sms, s->info, &s->page, &s->ident));
}

/* Fill a refusal (IZ422 unless code says otherwise). */
static int refuse(iz_brand_refusal_t *why, const char *code, const char *field, bool echo,
                  const char *tr, const char *en)
{
    why->code = code;
    why->field = field;
    why->echo = echo;
    iz_strlcpy(why->tr, tr, sizeof why->tr);
    iz_strlcpy(why->en, en, sizeof why->en);
    return strcmp(code, "IZ409") == 0 ? IZ_EEXIST : IZ_EINVAL;
}

int iz_brand_keywords_set(iz_brand_sms_t *sms, const char *const *kw, size_t n,
                          iz_brand_refusal_t *why)
{
    bool ok = n <= IZ_KEYWORDS_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = kw[i] && iz_keyword(kw[i], sms->keywords[i]) == 0;
    if (ok) {
        sms->nkeywords = n;
        return 0;
    }
    return refuse(why, "IZ422", "keywords", true,
                  "keywords en çok 8 anahtar kelimelik bir liste olmalıdır: her biri harf ve "
                  "rakamlardan oluşan 1-4 kelime; RET, ONAY, SMS gibi komut kelimeleri olamaz.",
                  "keywords must be a list of at most 8 keywords, each 1 to 4 words of letters "
                  "and digits, none a command word such as RET, ONAY or SMS.");
}

int iz_brand_settings_check(iz_brand_settings_t *s, const char *mode, iz_brand_refusal_t *why)
{
    if (s->b.name[0] == '\0')
        return refuse(why, "IZ422", "name", false, "Marka adı boş olamaz.",
                      "name must not be empty.");
    if (s->b.short_number[0] && !iz_short_number_ok(s->b.short_number))
        return refuse(why, "IZ422", "shortNumber", true, "shortNumber 4 haneli olmalıdır.",
                      "shortNumber must be 4 digits.");
    if (s->b.subscriber_number[0] && !iz_subscriber_number_ok(s->b.subscriber_number))
        return refuse(why, "IZ422", "subscriberNumber", true,
                      "subscriberNumber 0850 ile başlayan 11 haneli bir numara olmalıdır.",
                      "subscriberNumber must be 0850 followed by 7 digits.");
    if (mode && mode[0]) {
        if (strcmp(mode, "IYS") != 0 && strcmp(mode, "LOCAL") != 0)
            return refuse(why, "IZ422", "pageMode", true, "pageMode IYS ya da LOCAL olmalıdır.",
                          "pageMode must be IYS or LOCAL.");
        s->page.iys = strcmp(mode, "IYS") == 0;
    }
    if (!iz_brand_page_ok(&s->page))
        return refuse(why, "IZ422", "pageVkn", true,
                      "İYS doğrulamalı sayfa (pageMode IYS) için pageOtpTemplate ve 10 ya da 11 "
                      "haneli, 0 ile başlamayan pageVkn gerekir.",
                      "An İYS-verified page (pageMode IYS) needs pageOtpTemplate and a pageVkn "
                      "of 10 or 11 digits not starting with 0.");
    if (s->ident.mersis[0] && !iz_content_mersis_ok(s->ident.mersis))
        return refuse(why, "IZ422", "mersis", true, "mersis 16 haneli MERSİS numarası olmalıdır.",
                      "mersis must be the 16-digit MERSİS number.");
    if (!iz_brand_ident_ok(&s->ident))
        return refuse(why, "IZ422", "tradeName", false,
                      "tradeName, tradesman ve contact denetim karakteri içermeyen metinler "
                      "olmalıdır.",
                      "tradeName, tradesman and contact must be text without control "
                      "characters.");
    for (const char *p = s->b.slug; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return refuse(why, "IZ422", "slug", true, "slug yalnızca a-z, 0-9 ve '-' içerebilir.",
                          "slug may contain only a-z, 0-9 and '-'.");
    return 0;
}

int iz_brand_settings_save(iz_app_t *app, iz_brand_settings_t *s, iz_brand_refusal_t *why)
{
    const char *conflict = NULL;
    int rc = iz_store_brand_update(app->store, &s->b, &s->sms, &conflict);
    if (rc == 0) rc = iz_store_brand_info_set(app->store, s->b.id, s->info);
    if (rc == 0) rc = iz_store_brand_page_set(app->store, s->b.id, &s->page);
    if (rc == 0) rc = iz_store_brand_ident_set(app->store, s->b.id, &s->ident);
    if (rc == IZ_EEXIST) {
        bool kw = conflict && strcmp(conflict, "keyword") == 0;
        bool slug = conflict && strcmp(conflict, "slug") == 0;
        char en[200];
        snprintf(en, sizeof en, "the %s is already another brand's%s",
                 conflict ? conflict : "setting", kw ? " on that short number" : "");
        return refuse(why, "IZ409",
                      kw     ? "keywords"
                      : slug ? "slug"
                             : "subscriberNumber",
                      false,
                      kw     ? "Bu anahtar kelime aynı kısa numarada başka bir markanın."
                      : slug ? "Bu slug başka bir markanın."
                             : "Bu 0850 numarası başka bir markanın.",
                      en);
    }
    if (rc == 0) iz_inbound_routes_forget();
    return rc;
}

/* A text field of the patch into dst: absent leaves it, a string of at most
 * n - 1 bytes replaces it; false (the reply sent) for anything else. */
static bool text_field(iz_req_t *r, json_t *o, const char *name, const char *path, char *dst,
                       size_t n)
{
    json_t *v = json_object_get(o, name);
    if (!v) return true;
    if (json_is_string(v) && json_string_length(v) < n &&
        iz_strlcpy(dst, json_string_value(v), n) == 0)
        return true;
    char tr[160], en[160];
    snprintf(tr, sizeof tr, "%s en çok %zu baytlık bir metin olmalıdır.", path, n - 1);
    snprintf(en, sizeof en, "%s must be text of at most %zu bytes.", path, n - 1);
    iz__reply_field(r, path, v, tr, en);
    return false;
}

/* Answer a refusal of PATCH, echoing the field's value from body. */
static void reply_refusal(iz_req_t *r, json_t *body, const iz_brand_refusal_t *why)
{
    if (strcmp(why->code, "IZ422") != 0) {
        iz_reply_error(r, why->code, iz_req_english(r) ? why->en : why->tr);
        return;
    }
    iz__reply_field(r, why->field, why->echo ? json_object_get(body, why->field) : NULL, why->tr,
                    why->en);
}

void iz__h_brand_patch(iz_req_t *r, void *vapp)
{
    static const char *const known[] = {
        "name",      "keywords", "shortNumber",     "slug",    "subscriberNumber",
        "replies",   "infoText", "pageOtpTemplate", "pageVkn", "pageMode",
        "tradeName", "mersis",   "tradesman",       "contact"};
    static const char *const reply_keys[] = {"onay", "ret", "help"};
    iz_app_t *app = vapp;
    iz_brand_t brand;
    json_t *body = iz__api_body(r, app, &brand, "IZ400");
    if (!body) return;
    iz_brand_settings_t *s = iz_req_alloc(r, sizeof *s);
    iz_brand_t *b = &s->b;
    iz_brand_sms_t *m = &s->sms;
    iz_brand_page_t *pg = &s->page;
    iz_brand_ident_t *id = &s->ident;
    char mode[8] = "";
    int rc = iz_brand_settings_get(app, &brand, s);
    if (rc != 0) {
        json_decref(body);
        iz__reply_store_error(r, rc);
        return;
    }
    const char *unk = iz_json_unknown_key(body, known, IZ_ARRAY_LEN(known));
    json_t *replies = json_object_get(body, "replies");
    if (!unk && replies)
        unk = !json_is_object(replies)
                  ? "replies"
                  : iz_json_unknown_key(replies, reply_keys, IZ_ARRAY_LEN(reply_keys));
    if (unk) {
        iz__reply_field(r, unk, NULL,
                        "Bilinmeyen alan. Kullanılabilecek alanlar: name, keywords, shortNumber, "
                        "subscriberNumber, slug, infoText, pageMode, pageOtpTemplate, pageVkn, "
                        "tradeName, mersis, tradesman, contact, replies {onay, ret, help}.",
                        "Unknown field. The body may contain: name, keywords, shortNumber, "
                        "subscriberNumber, slug, infoText, pageMode, pageOtpTemplate, pageVkn, "
                        "tradeName, mersis, tradesman, contact, replies {onay, ret, help}.");
        json_decref(body);
        return;
    }
    bool ok =
        text_field(r, body, "name", "name", b->name, sizeof b->name) &&
        text_field(r, body, "shortNumber", "shortNumber", b->short_number,
                   sizeof b->short_number) &&
        text_field(r, body, "subscriberNumber", "subscriberNumber", b->subscriber_number,
                   sizeof b->subscriber_number) &&
        text_field(r, body, "slug", "slug", b->slug, sizeof b->slug) &&
        text_field(r, body, "infoText", "infoText", s->info, sizeof s->info) &&
        text_field(r, body, "pageMode", "pageMode", mode, sizeof mode) &&
        text_field(r, body, "pageOtpTemplate", "pageOtpTemplate", pg->otp_template,
                   sizeof pg->otp_template) &&
        text_field(r, body, "pageVkn", "pageVkn", pg->vkn, sizeof pg->vkn) &&
        text_field(r, body, "tradeName", "tradeName", id->trade_name, sizeof id->trade_name) &&
        text_field(r, body, "mersis", "mersis", id->mersis, sizeof id->mersis) &&
        text_field(r, body, "tradesman", "tradesman", id->tradesman, sizeof id->tradesman) &&
        text_field(r, body, "contact", "contact", id->contact, sizeof id->contact) &&
        (!replies ||
         (text_field(r, replies, "onay", "replies.onay", m->reply_onay, sizeof m->reply_onay) &&
          text_field(r, replies, "ret", "replies.ret", m->reply_ret, sizeof m->reply_ret) &&
          text_field(r, replies, "help", "replies.help", m->reply_help, sizeof m->reply_help)));
    if (!ok) {
        json_decref(body);
        return;
    }
    iz_brand_refusal_t why;
    json_t *kws = json_object_get(body, "keywords");
    if (kws) {
        size_t n = json_is_array(kws) ? json_array_size(kws) : IZ_KEYWORDS_MAX + 1;
        const char *list[IZ_KEYWORDS_MAX];
        for (size_t i = 0; i < n && i < IZ_KEYWORDS_MAX; i++)
            list[i] = json_string_value(json_array_get(kws, i));
        rc = iz_brand_keywords_set(m, list, n, &why);
    }
    if (rc == 0) rc = iz_brand_settings_check(s, mode, &why);
    if (rc == 0) rc = iz_brand_settings_save(app, s, &why);
    if (rc == IZ_EINVAL || rc == IZ_EEXIST) {
        reply_refusal(r, body, &why);
        json_decref(body);
        return;
    }
    json_decref(body);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    iz_reply_json(r, 200, brand_json(b, m, s->info, pg, id));
}
