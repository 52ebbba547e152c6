/*
 * complaints.c - complaints about commercial messages received without
 * consent (I3), and the authority's view of them.
 *
 *   POST /_sim/complaints      JSON {recipient, iysCode, brandCode, type,
 *                              messageTime, text} -> 201 {id, ...}
 *   GET  /_sim/complaints      every complaint, newest first (?iysCode= filters)
 *   GET  /vatandas/sikayet     the citizen's Turkish form
 *   POST /vatandas/sikayet     file one (CSRF-protected and limited like /vatandas)
 *   GET  /yetkili/sikayetler   the authority's Turkish view
 *
 * A complaint is judged by the consent that held at the message's time: the
 * newest change of (brand, recipient, type) whose consentDate is not after
 * messageTime. The individual (BIREYSEL) record is looked up first; when
 * the address has none, its TACIR record, since a merchant's address may be
 * reached with a TACIR consent. The verdict: consent held (ONAY at the
 * time), withdrawn (RET) or none at all (NO_CONSENT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "net/form.h"
#include "net/page.h"
#include "sim/sim_int.h"

#define TEXT_MAX 1000 /* bytes; the store keeps 1023 */
#define PAGE_MAX 500  /* complaints shown on the authority's page */

/* What a complaint's fields failed on: an H-code (or IZ422) and a field. */
typedef struct cerr {
    const char *code;
    const char *field;
    const char *tr; /* a Turkish sentence for the page and the JSON */
} cerr_t;

/* Accept "YYYY-MM-DD HH:MM:SS" and what an HTML datetime-local input sends
 * ("YYYY-MM-DDTHH:MM" or with seconds). */
static int parse_message_time(const char *in, int64_t *t, const char **hcode)
{
    char buf[IZ_DATETIME_LEN];
    size_t n = strlen(in);
    if (n == 16 || n == 19) {
        memcpy(buf, in, n);
        if (n == 16) memcpy(buf + 16, ":00", 3);
        buf[19] = '\0';
        if (buf[10] == 'T') buf[10] = ' ';
        return iz_tr_parse(buf, 19, t, hcode);
    }
    *hcode = "H158";
    return IZ_EINVAL;
}

/* Check every field and fill c. Returns 0, or -1 with *e set. */
static int complaint_check(iz_sim_t *sim, int64_t iys_code, int64_t brand_code,
                           const char *recipient, const char *type, const char *mtime,
                           const char *text, int64_t now, iz_sim_complaint_t *c, cerr_t *e)
{
    memset(c, 0, sizeof *c);
    iz_sim_provider_t p;
    if (iz_sim_provider_get(sim->st, iys_code, &p) != 0) {
        *e = (cerr_t){"H001", "iysCode", "Hizmet sağlayıcı bulunamadı."};
        return -1;
    }
    if (iz_sim_brand_get(sim->st, iys_code, brand_code, NULL) != 0) {
        *e = (cerr_t){"H018", "brandCode", "Marka bulunamadı."};
        return -1;
    }
    if (!type || !*type) {
        *e = (cerr_t){"H111", "type", "Kanal seçilmedi."};
        return -1;
    }
    if (iz_type_parse(type, &c->type) != 0) {
        *e = (cerr_t){"H117", "type", "Kanal SMS, arama veya e-posta olmalıdır."};
        return -1;
    }
    const char *hcode = "H114";
    if (!recipient || !*recipient) {
        *e = (cerr_t){"H114", "recipient", "Telefon numarası veya e-posta adresi girilmedi."};
        return -1;
    }
    if (strlen(recipient) > IZ_INPUT_MAX ||
        iz_recipient_normalize(recipient, strlen(recipient), c->type, c->recipient, &hcode) != 0) {
        *e = (cerr_t){hcode, "recipient",
                      c->type == IZ_EPOSTA
                          ? "E-posta kanalı için geçerli bir e-posta adresi girilmelidir."
                          : "SMS ve arama için geçerli bir telefon numarası girilmelidir."};
        return -1;
    }
    if (!mtime || !*mtime) {
        *e = (cerr_t){"IZ422", "messageTime", "İletinin geldiği zaman girilmedi."};
        return -1;
    }
    if (parse_message_time(mtime, &c->message_time, &hcode) != 0) {
        *e = (cerr_t){hcode, "messageTime",
                      "İleti zamanı YYYY-AA-GG SS:DD:ss biçiminde geçerli bir tarih olmalıdır."};
        return -1;
    }
    if (c->message_time > now) {
        *e = (cerr_t){"H162", "messageTime", "İleti zamanı gelecekte olamaz."};
        return -1;
    }
    size_t tl = text ? strlen(text) : 0;
    if (tl == 0 || tl > TEXT_MAX) {
        *e = (cerr_t){"IZ422", "text", "Şikâyet metni 1 ile 1000 bayt arasında olmalıdır."};
        return -1;
    }
    json_t *probe = json_string(text); /* NULL when not valid UTF-8 */
    if (!probe) {
        *e = (cerr_t){"IZ422", "text", "Şikâyet metni geçerli UTF-8 olmalıdır."};
        return -1;
    }
    json_decref(probe);
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)text[i] < 0x20 && text[i] != '\n' && text[i] != '\r' &&
            text[i] != '\t') {
            *e = (cerr_t){"IZ422", "text", "Şikâyet metninde denetim karakteri olamaz."};
            return -1;
        }
    c->iys_code = iys_code;
    c->brand_code = brand_code;
    iz_strlcpy(c->text, text, sizeof c->text);
    c->created = now;
    return 0;
}

/* The consent that held at the complaint's message time. Returns true with
 * *out filled when there was a record. */
static bool consent_at(iz_sim_t *sim, const iz_sim_complaint_t *c, iz_sim_change_t *out)
{
    if (iz_sim_consent_at(sim->st, c->iys_code, c->brand_code, IZ_BIREYSEL, c->type, c->recipient,
                          c->message_time, out) == 0)
        return true;
    return iz_sim_consent_at(sim->st, c->iys_code, c->brand_code, IZ_TACIR, c->type, c->recipient,
                             c->message_time, out) == 0;
}

static json_t *complaint_json(iz_sim_t *sim, const iz_sim_complaint_t *c)
{
    char mt[IZ_DATETIME_LEN], created[IZ_DATETIME_LEN];
    iz_tr_format(c->message_time, mt);
    iz_tr_format(c->created, created);
    json_t *text = json_string(c->text);
    json_t *o =
        json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:o, s:s}", "id", (json_int_t)c->id, "iysCode",
                  (json_int_t)c->iys_code, "brandCode", (json_int_t)c->brand_code, "recipient",
                  c->recipient, "type", iz_type_name(c->type), "messageTime", mt, "text",
                  text ? text : json_string(""), "created", created);
    if (!o) iz_oom();
    iz_sim_provider_t p;
    if (iz_sim_provider_get(sim->st, c->iys_code, &p) == 0) {
        json_t *s = json_string(p.name);
        if (s) json_object_set_new(o, "providerName", s);
    }
    char bname[128];
    if (iz_sim_brand_get(sim->st, c->iys_code, c->brand_code, bname) == 0) {
        json_t *s = json_string(bname);
        if (s) json_object_set_new(o, "brandName", s);
    }
    iz_sim_change_t at;
    if (consent_at(sim, c, &at)) {
        char cd[IZ_DATETIME_LEN], cr[IZ_DATETIME_LEN];
        iz_tr_format(at.creation, cr);
        json_t *st =
            json_pack("{s:s, s:s, s:s, s:s}", "recipientType", iz_rtype_name(at.rtype), "status",
                      iz_status_name(at.status), "creationDate", cr, "transactionId", at.txid);
        if (!st) iz_oom();
        if (at.source != IZ_SOURCE_NONE)
            json_object_set_new(st, "source", json_string(iz_source_name(at.source)));
        if (at.consent_date) {
            iz_tr_format(at.consent_date, cd);
            json_object_set_new(st, "consentDate", json_string(cd));
        }
        json_object_set_new(o, "consentAtMessageTime", st);
        json_object_set_new(o, "state", json_string(iz_status_name(at.status)));
        json_object_set_new(o, "consentHeld", json_boolean(at.status == IZ_ONAY));
    } else {
        json_object_set_new(o, "consentAtMessageTime", json_null());
        json_object_set_new(o, "state", json_string("NO_CONSENT"));
        json_object_set_new(o, "consentHeld", json_false());
    }
    return o;
}

static const char *const complaint_fields[] = {"recipient", "iysCode",     "brandCode",
                                               "type",      "messageTime", "text"};

void iz__sim_h_complaint_post(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *body = iz_req_json(r);
    if (!body) return;
    if (!json_is_object(body)) {
        iz_reply_error(r, "IZ400",
                       iz_req_english(r) ? "The body must be a JSON object."
                                         : "İstek gövdesi bir JSON nesnesi olmalıdır.");
        json_decref(body);
        return;
    }
    const char *key =
        iz_json_unknown_key(body, complaint_fields, IZ_ARRAY_LEN(complaint_fields));
    if (key) {
        iz_error_t e = {.code = "IZ422",
                        .message = iz_req_english(r) ? "Unknown field." : "Bilinmeyen alan.",
                        .location = key,
                        .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    json_t *vi = json_object_get(body, "iysCode"), *vb = json_object_get(body, "brandCode");
    if (!json_is_integer(vi) || json_integer_value(vi) <= 0) {
        iz_error_t e = {.code = "H190", .location = "iysCode", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    if (!json_is_integer(vb) || json_integer_value(vb) <= 0) {
        iz_error_t e = {.code = "H191", .location = "brandCode", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    const char *fields[4] = {"recipient", "type", "messageTime", "text"};
    const char *sv[4];
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(body, fields[i]);
        sv[i] = json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)
                    ? json_string_value(v)
                    : NULL;
    }
    iz_sim_complaint_t c;
    cerr_t err;
    int64_t now = (int64_t)time(NULL);
    if (complaint_check(sim, (int64_t)json_integer_value(vi), (int64_t)json_integer_value(vb),
                        sv[0], sv[1], sv[2], sv[3], now, &c, &err) != 0) {
        const iz_hcode_t *hc = iz_hcode(err.code);
        iz_error_t e = {.code = err.code,
                        .message = hc ? NULL : err.tr,
                        .location = err.field,
                        .value = json_object_get(body, err.field),
                        .index = -1};
        iz_reply_errors(r, hc ? hc->http : 422, &e, 1);
        json_decref(body);
        return;
    }
    json_decref(body);
    if (iz_sim_complaint_add(sim->st, &c) != 0) {
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    iz_reply_json(r, 201, complaint_json(sim, &c));
}

void iz__sim_h_complaint_list(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    int64_t filter = 0;
    const char *q = iz_req_query(r, "iysCode");
    if (q && iz_parse_i64(q, 1, INT64_MAX, &filter) != 0) {
        iz_reply_error(r, "H190", NULL);
        return;
    }
    iz_sim_complaint_t *list = NULL;
    size_t n = 0;
    if (iz_sim_complaint_list(sim->st, filter, &list, &n) != 0) {
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, complaint_json(sim, &list[i]));
    free(list);
    iz_reply_json(r, 200, json_pack("{s:o}", "list", arr));
}

/* ---- pages --------------------------------------------------------------- */

static void complaint_form(iz_req_t *r, iz_sim_t *sim, int status, const char *err,
                           const char *alici, const char *iys, const char *brand, const char *type,
                           const char *mtime, const char *text)
{
    iz_page_t p;
    iz_page_begin(&p, &sim->site, r, "Şikâyet başvurusu · İYS");
    iz_page_puts(&p, "<h1>İzinsiz ileti şikâyeti</h1>"
                     "<p>İzniniz olmadan size SMS, arama veya e-posta ile ticari ileti "
                     "gönderildiyse buradan şikâyet edebilirsiniz. Şikâyetiniz, iletinin geldiği "
                     "andaki izin kaydıyla birlikte yetkili kuruma iletilir.</p>");
    if (err) iz_page_msg(&p, "err", err, NULL);
    const char *sel = type ? type : "MESAJ";
    iz_page_form_post(&p, "card", "/vatandas/sikayet");
    iz_page_printf(
        &p,
        "<label for=\"alici\">İletinin geldiği telefon numarası veya e-posta adresi</label>"
        "<input id=\"alici\" name=\"alici\" value=\"%s\" maxlength=\"265\" required>"
        "<label for=\"iysCode\">Firmanın İYS numarası</label>"
        "<input id=\"iysCode\" name=\"iysCode\" value=\"%s\" inputmode=\"numeric\" "
        "maxlength=\"18\" required>"
        "<label for=\"brandCode\">Marka kodu</label>"
        "<input id=\"brandCode\" name=\"brandCode\" value=\"%s\" inputmode=\"numeric\" "
        "maxlength=\"18\" required>"
        "<label for=\"type\">Kanal</label><select id=\"type\" name=\"type\">"
        "<option value=\"MESAJ\"%s>SMS</option><option value=\"ARAMA\"%s>Arama</option>"
        "<option value=\"EPOSTA\"%s>E-posta</option></select>"
        "<label for=\"messageTime\">İletinin geldiği tarih ve saat</label>"
        "<p class=\"meta\" id=\"messageTime-ipucu\">Türkiye saatiyle; örneğin 1 Aralık 2026, "
        "14:30</p>"
        "<input id=\"messageTime\" name=\"messageTime\" type=\"datetime-local\" "
        "step=\"1\" value=\"%s\" aria-describedby=\"messageTime-ipucu\" required>"
        "<label for=\"text\">İletinin metni ve açıklamanız</label>"
        "<textarea id=\"text\" name=\"text\" rows=\"5\" maxlength=\"1000\" "
        "required>%s</textarea>"
        "<button type=\"submit\">Şikâyeti gönder</button></form>",
        iz_page_esc(r, alici), iz_page_esc(r, iys), iz_page_esc(r, brand),
        strcmp(sel, "MESAJ") == 0 ? " selected" : "", strcmp(sel, "ARAMA") == 0 ? " selected" : "",
        strcmp(sel, "EPOSTA") == 0 ? " selected" : "", iz_page_esc(r, mtime), iz_page_esc(r, text));
    iz_page_puts(&p, "<p><a href=\"/vatandas\">İzinlerim sayfasına dön</a></p>");
    iz_page_end(&p, status);
}

void iz__sim_h_complaint_page(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *done = iz_req_query(r, "tamam");
    int64_t id;
    if (done && iz_parse_i64(done, 1, INT64_MAX, &id) == 0) {
        iz_page_t p;
        iz_page_begin(&p, &sim->site, r, "Şikâyetiniz alındı · İYS");
        iz_page_puts(&p, "<h1>Şikâyetiniz alındı</h1>");
        iz_page_printf(&p,
                       "<div class=\"msg ok\" role=\"status\">Başvuru numaranız: <b>%lld</b>. "
                       "Şikâyetiniz, iletinin geldiği andaki izin kaydıyla birlikte "
                       "incelenecektir.</div>",
                       (long long)id);
        iz_page_puts(&p, "<p><a href=\"/vatandas\">İzinlerim sayfasına dön</a></p>");
        iz_page_end(&p, 200);
        return;
    }
    const char *q[4] = {iz_req_query(r, "alici"), iz_req_query(r, "iysCode"),
                        iz_req_query(r, "brandCode"), iz_req_query(r, "type")};
    for (int i = 0; i < 4; i++)
        if (q[i] && strlen(q[i]) > IZ_INPUT_MAX) q[i] = NULL;
    if (q[3] && strcmp(q[3], "MESAJ") != 0 && strcmp(q[3], "ARAMA") != 0 &&
        strcmp(q[3], "EPOSTA") != 0)
        q[3] = NULL;
    complaint_form(r, sim, 200, NULL, q[0], q[1], q[2], q[3], NULL, NULL);
}

void iz__sim_h_complaint_form(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_form_t form;
    if (iz_page_post_form(r, &sim->site, sim->page_posts, &form) != 0) return;
    const char *siys, *sbrand;
    int64_t iys_code = 0, brand_code = 0;
    const char *bad = iz__sim_form_codes(&form, &siys, &sbrand, &iys_code, &brand_code);
    const char *alici = iz_form_value(&form, "alici", IZ_INPUT_MAX);
    const char *type = iz_form_value(&form, "type", 16);
    const char *mtime = iz_form_value(&form, "messageTime", 32);
    const char *text = iz_form_value(&form, "text", TEXT_MAX);
    iz_sim_complaint_t c;
    cerr_t err = {0};
    int64_t now = (int64_t)time(NULL);
    int status = 422;
    if (bad && strcmp(bad, "H190") == 0) {
        err = (cerr_t){"H190", "iysCode", "Firmanın İYS numarası bir sayı olmalıdır."};
    } else if (bad) {
        err = (cerr_t){"H191", "brandCode", "Marka kodu bir sayı olmalıdır."};
    } else if (complaint_check(sim, iys_code, brand_code, alici, type, mtime, text, now, &c,
                               &err) == 0) {
        if (iz_sim_complaint_add(sim->st, &c) != 0) {
            err = (cerr_t){"IZ500", NULL,
                           "Şikâyet şu anda kaydedilemedi. Lütfen daha sonra "
                           "tekrar deneyin."};
            status = 500;
        } else {
            char loc[64];
            snprintf(loc, sizeof loc, "/vatandas/sikayet?tamam=%lld", (long long)c.id);
            iz_page_see_other(r, &sim->site, loc, "Şikâyetiniz alındı.");
            return;
        }
    } else if (strcmp(err.code, "H001") == 0 || strcmp(err.code, "H018") == 0) {
        status = 404;
    }
    complaint_form(r, sim, status, err.tr, alici, siys, sbrand, type, mtime, text);
}

/* One complaint on the authority's page, with the consent that held at its
 * message's time; true when that consent was ONAY. */
static bool authority_card(iz_page_t *p, iz_sim_t *sim, const iz_sim_complaint_t *c)
{
    iz_req_t *r = p->r;
    char mt[IZ_DATETIME_LEN], created[IZ_DATETIME_LEN];
    iz_tr_format(c->message_time, mt);
    iz_tr_format(c->created, created);
    iz_sim_provider_t prov;
    char bname[128] = "";
    if (iz_sim_provider_get(sim->st, c->iys_code, &prov) != 0) prov.name[0] = '\0';
    if (iz_sim_brand_get(sim->st, c->iys_code, c->brand_code, bname) != 0) bname[0] = '\0';
    iz_page_printf(p,
                   "<div class=\"card\"><b>Şikâyet no. %lld</b>"
                   "<p class=\"meta\">Başvuru: %s<br>Kanal: %s<br>İleti zamanı: %s</p>"
                   "<p>Alıcı: %s<br>Marka: %s (marka kodu %lld)<br>Hizmet sağlayıcı: %s (İYS "
                   "no. %lld)</p><p class=\"meta\">Metin: %s</p>",
                   (long long)c->id, created, iz__sim_channel(c->type), mt,
                   iz_page_esc(r, c->recipient), iz_page_esc(r, bname), (long long)c->brand_code,
                   iz_page_esc(r, prov.name), (long long)c->iys_code, iz_page_esc(r, c->text));
    iz_sim_change_t at;
    bool onay = false;
    if (consent_at(sim, c, &at)) {
        char since[IZ_DATETIME_LEN];
        iz_tr_format(at.consent_date ? at.consent_date : at.creation, since);
        onay = at.status == IZ_ONAY;
        iz_page_printf(p,
                       "<p class=\"%s\">İleti zamanındaki izin: %s</p>"
                       "<p class=\"meta\">Kayıt: %s, %s tarihli, kaynak %s, alıcı tipi %s<br>"
                       "İşlem no.: %s</p>",
                       onay ? "onay" : "red",
                       onay ? "ONAY: izin vardı, ileti izinliydi"
                            : "RET: izin geri alınmıştı, ileti izinsizdi",
                       iz_status_name(at.status), since,
                       at.source != IZ_SOURCE_NONE ? iz_source_name(at.source) : "belirtilmemiş",
                       iz_rtype_name(at.rtype), iz_page_esc(r, at.txid));
    } else {
        iz_page_puts(p, "<p class=\"red\">İleti zamanındaki izin: kayıt yok (NO_CONSENT), ileti "
                        "izinsizdi</p>");
    }
    iz_page_puts(p, "</div>");
    return onay;
}

void iz__sim_h_authority(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_sim_complaint_t *list = NULL;
    size_t n = 0;
    int rc = iz_sim_complaint_list(sim->st, 0, &list, &n);
    iz_page_t p;
    iz_page_begin(&p, &sim->site, r, "Şikâyetler · Yetkili kurum · İYS");
    iz_page_puts(&p, "<h1>Şikâyetler</h1><p>Vatandaşların izinsiz ileti şikâyetleri, iletinin "
                     "geldiği andaki İYS izin kaydıyla birlikte (en yenisi önce).</p>");
    if (rc != 0) {
        iz_page_msg(&p, "err", "Şikâyetler okunamadı.", NULL);
        iz_page_end(&p, 500);
        return;
    }
    size_t held = 0;
    for (size_t i = 0; i < n && i < PAGE_MAX; i++)
        if (authority_card(&p, sim, &list[i])) held++;
    if (n == 0) iz_page_puts(&p, "<div class=\"card\">Henüz şikâyet yok.</div>");
    if (n > PAGE_MAX)
        iz_page_printf(&p, "<p class=\"meta\">En yeni %d şikâyet gösteriliyor (toplam %zu).</p>",
                       PAGE_MAX, n);
    else if (n > 0)
        iz_page_printf(&p,
                       "<p class=\"meta\">Toplam %zu şikâyet; %zu tanesinde ileti zamanında izin "
                       "vardı.</p>",
                       n, held);
    free(list);
    iz_page_end(&p, 200);
}
