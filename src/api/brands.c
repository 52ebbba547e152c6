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

void iz__h_brand_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t b;
    iz_brand_sms_t m;
    if (iz__api_brand(r, app, &b) != 0) return;
    char *info = iz_req_alloc(r, IZ_BRAND_INFO_MAX);
    iz_brand_page_t pg;
    iz_brand_ident_t id;
    int rc = iz_store_brand_sms_get(app->store, b.id, &m);
    if (rc == 0) rc = iz_store_brand_info_get(app->store, b.id, info, IZ_BRAND_INFO_MAX);
    if (rc == 0) rc = iz_store_brand_page_get(app->store, b.id, &pg);
    if (rc == 0) rc = iz_store_brand_ident_get(app->store, b.id, &id);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    iz_reply_json(r, 200, brand_json(&b, &m, info, &pg, &id));
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

void iz__h_brand_patch(iz_req_t *r, void *vapp)
{
    static const char *const known[] = {
        "name",      "keywords", "shortNumber",     "slug",    "subscriberNumber",
        "replies",   "infoText", "pageOtpTemplate", "pageVkn", "pageMode",
        "tradeName", "mersis",   "tradesman",       "contact"};
    static const char *const reply_keys[] = {"onay", "ret", "help"};
    iz_app_t *app = vapp;
    iz_brand_t b;
    iz_brand_sms_t m;
    json_t *body = iz__api_body(r, app, &b, "IZ400");
    if (!body) return;
    char *info = iz_req_alloc(r, IZ_BRAND_INFO_MAX);
    iz_brand_page_t pg;
    iz_brand_ident_t id;
    char mode[8] = "";
    int rc = iz_store_brand_sms_get(app->store, b.id, &m);
    if (rc == 0) rc = iz_store_brand_info_get(app->store, b.id, info, IZ_BRAND_INFO_MAX);
    if (rc == 0) rc = iz_store_brand_page_get(app->store, b.id, &pg);
    if (rc == 0) rc = iz_store_brand_ident_get(app->store, b.id, &id);
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
        text_field(r, body, "name", "name", b.name, sizeof b.name) &&
        text_field(r, body, "shortNumber", "shortNumber", b.short_number, sizeof b.short_number) &&
        text_field(r, body, "subscriberNumber", "subscriberNumber", b.subscriber_number,
                   sizeof b.subscriber_number) &&
        text_field(r, body, "slug", "slug", b.slug, sizeof b.slug) &&
        text_field(r, body, "infoText", "infoText", info, IZ_BRAND_INFO_MAX) &&
        text_field(r, body, "pageMode", "pageMode", mode, sizeof mode) &&
        text_field(r, body, "pageOtpTemplate", "pageOtpTemplate", pg.otp_template,
                   sizeof pg.otp_template) &&
        text_field(r, body, "pageVkn", "pageVkn", pg.vkn, sizeof pg.vkn) &&
        text_field(r, body, "tradeName", "tradeName", id.trade_name, sizeof id.trade_name) &&
        text_field(r, body, "mersis", "mersis", id.mersis, sizeof id.mersis) &&
        text_field(r, body, "tradesman", "tradesman", id.tradesman, sizeof id.tradesman) &&
        text_field(r, body, "contact", "contact", id.contact, sizeof id.contact) &&
        (!replies ||
         (text_field(r, replies, "onay", "replies.onay", m.reply_onay, sizeof m.reply_onay) &&
          text_field(r, replies, "ret", "replies.ret", m.reply_ret, sizeof m.reply_ret) &&
          text_field(r, replies, "help", "replies.help", m.reply_help, sizeof m.reply_help)));
    json_t *kws = json_object_get(body, "keywords");
    if (ok && kws) {
        size_t i;
        json_t *k;
        ok = json_is_array(kws) && json_array_size(kws) <= IZ_KEYWORDS_MAX;
        m.nkeywords = 0;
        json_array_foreach(kws, i, k)
        {
            if (!ok) break;
            ok = json_is_string(k) && iz_keyword(json_string_value(k), m.keywords[i]) == 0;
            m.nkeywords = i + 1;
        }
        if (!ok)
            iz__reply_field(r, "keywords", kws,
                            "keywords en çok 8 anahtar kelimelik bir liste olmalıdır: her biri "
                            "harf ve rakamlardan oluşan 1-4 kelime; RET, ONAY, SMS gibi komut "
                            "kelimeleri olamaz.",
                            "keywords must be a list of at most 8 keywords, each 1 to 4 words of "
                            "letters and digits, none a command word such as RET, ONAY or SMS.");
    }
    if (ok && b.name[0] == '\0') {
        iz__reply_field(r, "name", NULL, "Marka adı boş olamaz.", "name must not be empty.");
        ok = false;
    }
    if (ok && b.short_number[0] && !iz_short_number_ok(b.short_number)) {
        iz__reply_field(r, "shortNumber", json_object_get(body, "shortNumber"),
                        "shortNumber 4 haneli olmalıdır.", "shortNumber must be 4 digits.");
        ok = false;
    }
    if (ok && b.subscriber_number[0] && !iz_subscriber_number_ok(b.subscriber_number)) {
        iz__reply_field(r, "subscriberNumber", json_object_get(body, "subscriberNumber"),
                        "subscriberNumber 0850 ile başlayan 11 haneli bir numara olmalıdır.",
                        "subscriberNumber must be 0850 followed by 7 digits.");
        ok = false;
    }
    if (ok && mode[0]) {
        ok = strcmp(mode, "IYS") == 0 || strcmp(mode, "LOCAL") == 0;
        pg.iys = strcmp(mode, "IYS") == 0;
        if (!ok)
            iz__reply_field(r, "pageMode", json_object_get(body, "pageMode"),
                            "pageMode IYS ya da LOCAL olmalıdır.",
                            "pageMode must be IYS or LOCAL.");
    }
    if (ok && !iz_brand_page_ok(&pg)) {
        iz__reply_field(r, "pageVkn", json_object_get(body, "pageVkn"),
                        "İYS doğrulamalı sayfa (pageMode IYS) için pageOtpTemplate ve 10 ya da 11 "
                        "haneli, 0 ile başlamayan pageVkn gerekir.",
                        "An İYS-verified page (pageMode IYS) needs pageOtpTemplate and a pageVkn "
                        "of 10 or 11 digits not starting with 0.");
        ok = false;
    }
    if (ok && id.mersis[0] && !iz_content_mersis_ok(id.mersis)) {
        iz__reply_field(r, "mersis", json_object_get(body, "mersis"),
                        "mersis 16 haneli MERSİS numarası olmalıdır.",
                        "mersis must be the 16-digit MERSİS number.");
        ok = false;
    }
    if (ok && !iz_brand_ident_ok(&id)) {
        iz__reply_field(r, "tradeName", NULL,
                        "tradeName, tradesman ve contact denetim karakteri içermeyen metinler "
                        "olmalıdır.",
                        "tradeName, tradesman and contact must be text without control "
                        "characters.");
        ok = false;
    }
    for (const char *p = b.slug; ok && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
            iz__reply_field(r, "slug", json_object_get(body, "slug"),
                            "slug yalnızca a-z, 0-9 ve '-' içerebilir.",
                            "slug may contain only a-z, 0-9 and '-'.");
            ok = false;
        }
    json_decref(body);
    if (!ok) return;
    const char *conflict = NULL;
    rc = iz_store_brand_update(app->store, &b, &m, &conflict);
    if (rc == 0) rc = iz_store_brand_info_set(app->store, b.id, info);
    if (rc == 0) rc = iz_store_brand_page_set(app->store, b.id, &pg);
    if (rc == 0) rc = iz_store_brand_ident_set(app->store, b.id, &id);
    if (rc == IZ_EEXIST) {
        char tr[200], en[200];
        bool kw = conflict && strcmp(conflict, "keyword") == 0;
        snprintf(tr, sizeof tr, "%s",
                 kw ? "Bu anahtar kelime aynı kısa numarada başka bir markanın."
                 : conflict && strcmp(conflict, "slug") == 0
                     ? "Bu slug başka bir markanın."
                     : "Bu 0850 numarası başka bir markanın.");
        snprintf(en, sizeof en, "the %s is already another brand's%s",
                 conflict ? conflict : "setting", kw ? " on that short number" : "");
        iz_reply_error(r, "IZ409", iz_req_english(r) ? en : tr);
        return;
    }
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    iz_inbound_routes_forget();
    iz_reply_json(r, 200, brand_json(&b, &m, info, &pg, &id));
}
