/*
 * panel_sms.c - SMS kampanyası (/panel/sms): a campaign written, previewed
 * and sent exactly as POST /v1/brands/{b}/sms/send sends it. "Önizle"
 * shows the text as it will go out (api/sms.c's iz_sms_compose: the footer
 * the content rules add, GSM-7 or UCS-2, parts) and the warning (IZ4223)
 * when a text marked informational reads as commercial; "Gönder" queues it
 * through iz_sms_enqueue (the same filter, footer and queue), then the
 * send's page shows each message's state as GET /v1/sms/sends/{id} does,
 * refreshing while messages are on their way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "sms/outbound.h"
#include "web/panel_ops.h"

#define SMS_BYTES (2u << 20) /* bytes of the form: text and recipients */
#define SMS_TO_MAX 100000    /* recipients in one send, as the API */
#define SHOWN 1000           /* recipients the send's page lists */

static const char LIMIT_TEXT[] = "en çok 100.000 alıcı ve 2 MB";

/* What the form holds (re-shown after a preview or a refusal). */
typedef struct fields {
    const char *from, *text, *rtype, *recipients;
    bool commercial;
} fields_t;

static void form(iz_page_t *p, const iz_panel_sess_t *s, const fields_t *f)
{
    iz_req_t *r = p->r;
    iz_page_puts(p, "<div class=\"card\">");
    iz__panel_form_mp(p, s, "/panel/sms");
    iz_page_printf(p,
                   "<label for=\"from\">Gönderen başlığı</label>"
                   "<input id=\"from\" name=\"from\" maxlength=\"15\" required value=\"%s\">"
                   "<p class=\"meta\">En çok 11 karakterlik bir başlık ya da en çok 15 haneli bir "
                   "numara.</p>"
                   "<label for=\"text\">Mesaj metni</label>"
                   "<textarea id=\"text\" name=\"text\" rows=\"5\" required>%s</textarea>",
                   iz_page_esc(r, f->from), iz_page_esc(r, f->text));
    iz__panel_commercial_select(p, "commercial", f->commercial);
    iz__panel_rtype_select(p, "recipientType", f->rtype);
    iz_page_printf(p,
                   "<label for=\"recipients\">Alıcılar (her satıra bir numara)</label>"
                   "<textarea id=\"recipients\" name=\"recipients\" rows=\"6\">%s</textarea>"
                   "<label for=\"file\">ya da bir dosya (her satırda bir numara)</label>"
                   "<input id=\"file\" name=\"file\" type=\"file\" accept=\".txt,.csv,text/plain,"
                   "text/csv\"><p class=\"meta\">Sınır: %s. Her alıcı gönderim filtresinden "
                   "geçer; izni olmayanlara gönderilmez.</p>"
                   "<button type=\"submit\" name=\"action\" value=\"preview\">Önizle</button> "
                   "<button type=\"submit\" name=\"action\" value=\"send\">Gönder</button>"
                   "</form></div>",
                   iz_page_esc(r, f->recipients), LIMIT_TEXT);
}

static void page_head(iz_page_t *p, iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s)
{
    iz__panel_begin(p, r, app, s, "SMS kampanyası", "/panel/sms");
    iz_page_puts(p, "<h1>SMS kampanyası</h1>");
}

void iz__pg_sms(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_page_t p;
    page_head(&p, r, app, &s);
    if (!s.brand) {
        iz_page_msg(&p, "err", "Bu hesapta henüz marka yok.", NULL);
    } else {
        iz_page_printf(&p,
                       "<p>%s markası adına SMS gönderin. Ticari iletiye, metinde yoksa, "
                       "gönderenin kimliği, iletişim bilgisi ve ücretsiz ret talimatı eklenir.</p>",
                       iz_page_esc(r, s.brand->name));
        const fields_t f = {"", "", "BIREYSEL", "", true};
        form(&p, &s, &f);
    }
    iz__panel_end(&p, 200);
}

static const char *added_tr(unsigned bit)
{
    switch (bit) {
    case IZ_CONTENT_IDENTITY:
        return "gönderenin kimliği";
    case IZ_CONTENT_CONTACT:
        return "iletişim bilgisi";
    default:
        return "ret talimatı";
    }
}

/* The preview: the text as it goes out, its encoding and parts, what the
 * footer added and the informational text's warning. */
static void preview(iz_page_t *p, const iz_content_t *c, bool commercial)
{
    iz_req_t *r = p->r;
    const char *enc = c->info.encoding == IZ_SMS_UCS2      ? "UCS-2"
                      : c->info.encoding == IZ_SMS_GSM7_TR ? "GSM-7 (Türkçe tek kaydırma tablosu)"
                                                           : "GSM-7";
    iz_page_printf(p,
                   "<h2>Önizleme</h2><div class=\"card\"><p class=\"ev\" id=\"preview\">%s</p>"
                   "<p class=\"meta\" id=\"encoding\">Kodlama: %s · %zu parça</p>",
                   iz_page_esc(r, c->text), enc, c->info.parts);
    if (commercial && c->added) {
        iz_page_puts(p, "<p class=\"meta\">Metne eklenenler: ");
        bool first = true;
        for (unsigned bit = IZ_CONTENT_IDENTITY; bit <= IZ_CONTENT_OPTOUT; bit <<= 1)
            if (c->added & bit) {
                iz_page_printf(p, "%s%s", first ? "" : ", ", added_tr(bit));
                first = false;
            }
        iz_page_puts(p, ".</p>");
    }
    iz_page_puts(p, "</div>");
    if (c->nwords > 0) {
        const iz_hcode_t *h = iz_hcode("IZ4223");
        iz_page_printf(p,
                       "<div class=\"msg err\" role=\"alert\" id=\"warning\"><strong>Uyarı "
                       "(IZ4223):</strong> %s Metindeki sözcükler: ",
                       iz_page_esc(r, h ? h->tr : ""));
        for (size_t i = 0; i < c->nwords; i++)
            iz_page_printf(p, "%s“%s”", i ? ", " : "", iz_page_esc(r, c->words[i]));
        iz_page_puts(p, ".</div>");
    }
}

static void sms_done(iz_req_t *r, iz_panel_mp_t *m)
{
    iz_app_t *app = m->app;
    const iz_panel_sess_t *s = &m->s;
    if (!s->brand) {
        iz__panel_refuse(r, app, 404, "Marka bulunamadı", "Bu hesapta henüz marka yok.");
        return;
    }
    fields_t f = {iz_form_value(&m->form, "from", 64), iz_form_value(&m->form, "text", SMS_BYTES),
                  iz_form_value(&m->form, "recipientType", 16),
                  iz_form_value(&m->form, "recipients", SMS_BYTES), true};
    const char *com = iz_form_value(&m->form, "commercial", 1);
    const char *action = iz_form_value(&m->form, "action", 16);
    iz_rtype_t rtype = IZ_BIREYSEL;
    if ((com && strcmp(com, "0") != 0 && strcmp(com, "1") != 0) ||
        (f.rtype && iz_rtype_parse(f.rtype, &rtype) != 0) || !action ||
        (strcmp(action, "preview") != 0 && strcmp(action, "send") != 0)) {
        iz__panel_refuse(r, app, 422, "Seçim geçersiz", "Alıcı tipi ya da ileti türü geçersiz.");
        return;
    }
    f.commercial = !com || strcmp(com, "1") == 0;
    bool send = strcmp(action, "send") == 0;
    iz_content_t *c = iz_req_alloc(r, sizeof *c);
    iz_sms_refusal_t why;
    const char *text = f.text ? f.text : "";
    int rc = iz_sms_compose(app, s->brand, f.from, text, strlen(text), f.commercial, c, &why);
    if (rc != 0 && rc != IZ_EINVAL) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    json_t *to = NULL;
    const char *err = rc == IZ_EINVAL ? why.tr : NULL;
    if (!err && send) {
        size_t len;
        const char *lines = iz__panel_lines(r, &m->form, "recipients", "file", &len);
        to = iz__panel_list_json(lines, len, SMS_TO_MAX);
        if (json_array_size(to) == 0)
            err = "Alıcı listesi boş: numaraları yazın ya da bir dosya seçin.";
        else if (json_array_size(to) > SMS_TO_MAX)
            err = "Tek gönderimde en çok 100.000 alıcı olabilir.";
        else if (!iz_api_sms_queue(app))
            err = "SMS ağ geçidi yapılandırılmamış; gönderim yapılamıyor.";
    }
    if (!err && send) {
        iz_sms_msg_t *msg;
        rc = iz_sms_enqueue(r, app, s->brand, f.from, c, f.commercial, rtype, to, NULL, NULL, &msg,
                            NULL, NULL);
        json_decref(to);
        if (rc != 0) {
            iz__panel_store_error(r, app, rc);
            return;
        }
        char path[64];
        snprintf(path, sizeof path, "/panel/sms/%lld", (long long)msg->id);
        iz__panel_redirect(r, app, s, path, "Gönderim sıraya alındı.");
        return;
    }
    json_decref(to);
    if (!f.from) f.from = "";
    if (!f.text) f.text = "";
    if (!f.recipients) f.recipients = "";
    iz_page_t p;
    page_head(&p, r, app, s);
    if (err) iz_page_msg(&p, "err", err, NULL);
    if (!err) preview(&p, c, f.commercial);
    form(&p, s, &f);
    iz__panel_end(&p, err ? 422 : 200);
}

void iz__pg_sms_post(iz_req_t *r, void *vapp)
{
    iz__panel_mp_start(r, vapp, SMS_BYTES, LIMIT_TEXT, NULL, sms_done);
}

/* ---- a send's page ------------------------------------------------------------- */

static const char *state_tr(const char *st)
{
    static const char *const map[][2] = {
        {"QUEUED", "Sırada"},       {"SENDING", "Gönderiliyor"},
        {"SENT", "Gönderildi"},     {"DELIVERED", "İletildi"},
        {"FAILED", "Başarısız"},    {"UNKNOWN", "Bilinmiyor"},
        {"NO_CONSENT", "İzin yok"}, {"RET", "Ret"},
        {"INVALID", "Geçersiz"},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(map); i++)
        if (strcmp(st, map[i][0]) == 0) return map[i][1];
    return st;
}

void iz__pg_sms_send(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    int64_t id = 0;
    const char *sid = iz_req_param(r, "sendId");
    iz_sms_msg_t *m = iz_req_alloc(r, sizeof *m);
    int rc = sid && iz_parse_i64(sid, 1, INT64_MAX, &id) == 0 ? iz_store_sms_get(app->store, id, m)
                                                              : IZ_ENOTFOUND;
    if (rc == 0 && m->account_id != s.account.id) rc = IZ_ENOTFOUND;
    iz_sms_counts_t c;
    iz_sms_rcpt_t *l = NULL;
    size_t n = 0;
    if (rc == 0) rc = iz_store_sms_counts(app->store, id, &c);
    if (rc == 0) rc = iz_store_sms_rcpts(app->store, id, -1, SHOWN, false, &l, &n);
    if (rc == IZ_ENOTFOUND) {
        iz__panel_refuse(r, app, 404, "Gönderim bulunamadı", "Bu hesapta böyle bir gönderim yok.");
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    bool live = c.queued + c.sending > 0;
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "SMS gönderimi", "/panel/sms");
    if (live) iz__panel_refresh(&p, 2);
    iz_page_printf(&p,
                   "<h1>SMS gönderimi %lld: <span id=\"state\">%s</span></h1>"
                   "<p class=\"meta\">%s · gönderen %s · %s · %s, %d parça</p>"
                   "<p class=\"ev\">%s</p>",
                   (long long)m->id, live ? "sürüyor" : "tamamlandı",
                   iz__panel_time(r, m->created_ms / 1000), iz_page_esc(r, m->sender),
                   m->commercial ? "ticari" : "bilgilendirme", iz_page_esc(r, m->encoding),
                   m->parts, iz_page_esc(r, m->text));
    const int64_t counts[] = {c.queued,  c.sending,    c.sent, c.delivered, c.failed,
                              c.unknown, c.no_consent, c.ret,  c.invalid};
    static const char *const names[] = {"QUEUED",  "SENDING",    "SENT", "DELIVERED", "FAILED",
                                        "UNKNOWN", "NO_CONSENT", "RET",  "INVALID"};
    iz_page_puts(&p, "<div class=\"tbl\"><table><caption>Durumlar</caption><tbody>");
    for (size_t i = 0; i < IZ_ARRAY_LEN(names); i++)
        if (counts[i])
            iz_page_printf(&p, "<tr><th>%s</th><td class=\"n\" id=\"n-%s\">%s</td></tr>",
                           state_tr(names[i]), names[i], iz__panel_num(r, counts[i]));
    iz_page_puts(&p, "</tbody></table></div>");
    iz_page_printf(&p,
                   "<div class=\"tbl\"><table><caption>Alıcılar%s</caption><thead><tr>"
                   "<th>Alıcı</th><th>Durum</th><th>Mesaj kimliği</th><th>Ayrıntı</th></tr>"
                   "</thead><tbody>",
                   n == SHOWN ? " (ilk 1.000)" : "");
    for (size_t i = 0; i < n; i++)
        iz_page_printf(&p, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
                       iz_page_esc(r, l[i].recipient), state_tr(l[i].outcome),
                       iz_page_esc(r, l[i].gateway_id), iz_page_esc(r, l[i].error));
    iz_page_puts(&p, "</tbody></table></div>");
    free(l);
    iz_page_printf(&p, "<p><a href=\"%s\">Yeni kampanya</a></p>",
                   iz_page_esc(r, iz__panel_href(r, &s, "/panel/sms")));
    iz__panel_end(&p, 200);
}
