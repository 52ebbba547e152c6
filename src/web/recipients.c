/*
 * recipients.c - the panel's recipient search (/panel/recipients?q=...)
 * and its list of İYS-side changes (/panel/iys).
 *
 * The search normalizes what was typed as the API does (core/recipient.h:
 * any Turkish way of writing a number, or an e-mail address), then shows
 * for each consent type and recipient type the address has a record of its
 * current state and its whole history, newest first, each change with its
 * evidence (as GET /v1/brands/{b}/consents/{recipient} gives, from the same
 * store call). Every value is escaped.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/enums.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "api/api.h"
#include "core/recipient.h"
#include "core/trtime.h"
#include "web/panel_int.h"

#define IYS_PAGE 50 /* İYS-side changes a page */

const char *iz__panel_source_tr(iz_source_t s)
{
    switch (s) {
    case IZ_IYS_CM:
        return "Vatandaş, İYS çağrı merkezi (3338)";
    case IZ_IYS_WEB:
    case IZ_IYS_WEB_YENI:
        return "Vatandaş, İYS web sitesi / e-Devlet";
    case IZ_IYS_MOBIL:
        return "Vatandaş, İYS mobil uygulaması";
    case IZ_IYS_KISAMESAJ:
        return "Vatandaş, İYS kısa mesaj (RET SMS)";
    case IZ_IYS_EPOSTA:
        return "Vatandaş, İYS e-posta bağlantısı";
    case IZ_IYS_AHS_HAT_KAPATMA:
        return "Hat kapatma (operatör bildirimi)";
    case IZ_IYS_FRAME_EPOSTA:
        return "İYS çerçevesi, e-posta";
    case IZ_IYS_FRAME_SMS:
        return "İYS çerçevesi, SMS";
    case IZ_HS_WEB:
        return "Hizmet sağlayıcı, web";
    case IZ_HS_MOBIL:
        return "Hizmet sağlayıcı, mobil";
    case IZ_HS_MESAJ:
        return "Hizmet sağlayıcı, kısa mesaj";
    case IZ_HS_EPOSTA:
        return "Hizmet sağlayıcı, e-posta";
    case IZ_HS_CAGRI_MERKEZI:
        return "Hizmet sağlayıcı, çağrı merkezi";
    case IZ_HS_FIZIKSEL_ORTAM:
        return "Hizmet sağlayıcı, fiziksel ortam";
    case IZ_HS_ISLAK_IMZA:
        return "Hizmet sağlayıcı, ıslak imza";
    case IZ_HS_ETKINLIK:
        return "Hizmet sağlayıcı, etkinlik";
    case IZ_HS_ATM:
        return "Hizmet sağlayıcı, ATM";
    case IZ_HS_EORTAM:
        return "Hizmet sağlayıcı, elektronik ortam";
    case IZ_HS_SOSYAL_MEDYA:
        return "Hizmet sağlayıcı, sosyal medya";
    case IZ_HS_2015:
        return "2015 öncesi izin";
    case IZ_HS_KARAR:
        return "Mahkeme / kurum kararı";
    default:
        return "Kaynak yok (tacir)";
    }
}

/* The evidence of a change as indented JSON text (r's arena), "" when none. */
static const char *evidence_text(iz_req_t *r, const char *ev)
{
    if (!ev[0]) return "";
    json_t *j = json_loads(ev, 0, NULL);
    char *t = j ? json_dumps(j, JSON_INDENT(1)) : NULL;
    json_decref(j);
    const char *out = iz_req_strdup(r, t ? t : ev);
    free(t);
    return out;
}

/* One change as a table row: with who, its recipient and types too. */
static void change_row(iz_page_t *p, const iz_change_t *c, bool who)
{
    iz_req_t *r = p->r;
    char cd[IZ_DATETIME_LEN] = "";
    if (c->consent_date) iz_tr_format(c->consent_date, cd);
    const char *st = iz_iys_state_name(c->iys_state);
    iz_page_printf(p,
                   "<tr><td>%s</td><td><strong>%s</strong></td><td>%s<br><span "
                   "class=\"meta\">%s</span></td><td>%s</td><td>%s</td><td>%s%s%s</td>",
                   iz__panel_time(r, c->creation_ms / 1000), iz_status_name(c->status),
                   iz_page_esc(r, c->source ? iz_source_name(c->source) : "—"),
                   iz_page_esc(r, iz__panel_source_tr(c->source)), iz_page_esc(r, cd),
                   iz_origin_name(c->origin), st ? st : "LOCAL", c->iys_txid[0] ? " · " : "",
                   iz_page_esc(r, c->iys_txid));
    if (who)
        iz_page_printf(p, "<td>%s</td><td>%s · %s</td>", iz_page_esc(r, c->recipient),
                       iz_type_name(c->type), iz_rtype_name(c->rtype));
    iz_page_printf(p, "<td><pre class=\"ev\">%s</pre></td></tr>",
                   iz_page_esc(r, evidence_text(r, c->evidence)));
}

static const char change_head[] =
    "<thead><tr><th scope=\"col\">Kayıt zamanı</th><th scope=\"col\">Durum</th>"
    "<th scope=\"col\">Kaynak</th><th scope=\"col\">İzin tarihi</th>"
    "<th scope=\"col\">Geldiği yer</th><th scope=\"col\">İYS</th>";

/* ---- a change recorded from the panel ------------------------------------ */

/* The service provider's sources a person in the panel may name (İYS's
 * own sources are İYS's to set). */
static const char *const hs_sources[] = {
    "HS_CAGRI_MERKEZI", "HS_FIZIKSEL_ORTAM", "HS_ISLAK_IMZA", "HS_WEB",   "HS_MOBIL",
    "HS_MESAJ",         "HS_EPOSTA",         "HS_ETKINLIK",   "HS_ATM",   "HS_EORTAM",
    "HS_SOSYAL_MEDYA",  "HS_KARAR",          "HS_2015"};

/* The form that records a change of recipient norm (a phone number or an
 * e-mail address) from the panel: origin PANEL, the user as evidence. */
static void change_form(iz_page_t *p, const iz_panel_sess_t *s, const char *norm, bool phone)
{
    iz_req_t *r = p->r;
    char now[IZ_DATETIME_LEN];
    iz_tr_format((int64_t)time(NULL), now);
    iz_page_puts(p, "<section class=\"card\"><h2>Değişiklik kaydet</h2><p class=\"meta\">"
                    "Çağrı merkezinde, mağazada ya da yazılı olarak alınan bir izni ya da reddi "
                    "kaydedin: değişiklik API'den gelen bir değişiklik gibi denetlenir ve "
                    "İYS'ye gönderilir (geldiği yer PANEL; kanıt olarak kullanıcınız ve "
                    "adresiniz saklanır).</p>");
    iz__panel_form(p, s, "/panel/recipients", NULL);
    iz_page_printf(p,
                   "<input type=\"hidden\" name=\"recipient\" value=\"%s\">"
                   "<label for=\"ch-type\">Kanal</label><select id=\"ch-type\" name=\"type\">%s"
                   "</select><label for=\"ch-rt\">Alıcı türü</label><select id=\"ch-rt\" "
                   "name=\"recipientType\"><option value=\"BIREYSEL\">Bireysel</option>"
                   "<option value=\"TACIR\">Tacir</option></select>"
                   "<label for=\"ch-st\">Durum</label><select id=\"ch-st\" name=\"status\">"
                   "<option value=\"ONAY\">İzin (ONAY)</option><option value=\"RET\">Ret "
                   "(RET)</option></select><label for=\"ch-src\">Kaynak</label><select "
                   "id=\"ch-src\" name=\"source\">",
                   iz_page_esc(r, norm),
                   phone ? "<option value=\"MESAJ\">SMS (MESAJ)</option><option "
                           "value=\"ARAMA\">Arama (ARAMA)</option>"
                         : "<option value=\"EPOSTA\">E-posta (EPOSTA)</option>");
    for (size_t i = 0; i < IZ_ARRAY_LEN(hs_sources); i++) {
        iz_source_t src = IZ_SOURCE_NONE;
        (void)iz_source_parse(hs_sources[i], &src);
        iz_page_printf(p, "<option value=\"%s\">%s (%s)</option>", hs_sources[i],
                       iz_page_esc(r, iz__panel_source_tr(src)), hs_sources[i]);
    }
    iz_page_printf(p,
                   "</select><label for=\"ch-date\">İzin tarihi (Türkiye saati)</label><input "
                   "id=\"ch-date\" name=\"consentDate\" maxlength=\"19\" required value=\"%s\" "
                   "aria-describedby=\"ch-date-hint\"><p class=\"meta\" id=\"ch-date-hint\">"
                   "YYYY-AA-GG SS:DD:SS; İYS, etkinleşme tarihinden sonra 3 iş gününden eski bir "
                   "izni kabul etmez (H467).</p><button type=\"submit\">Kaydet</button></form>"
                   "</section>",
                   now);
}

/* One form value as a consent field: absent when not sent (or over max). */
static iz_field_t field_of(const iz_form_t *f, const char *name, size_t max)
{
    const char *v = iz_form_value(f, name, max);
    return v ? (iz_field_t){IZ_FIELD_STRING, v, strlen(v)} : (iz_field_t){IZ_FIELD_ABSENT, NULL, 0};
}

void iz__pg_recipients_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t form;
    if (iz__panel_post(r, app, &s, &form) != 0) return;
    if (!s.brand) {
        iz__panel_refuse(r, app, 404, "Marka yok", "Bu hesabın markası yok.");
        return;
    }
    iz_record_t *rec = iz_req_alloc(r, sizeof *rec);
    memset(rec, 0, sizeof *rec);
    rec->raw.recipient = field_of(&form, "recipient", 254);
    rec->raw.type = field_of(&form, "type", 16);
    rec->raw.recipient_type = field_of(&form, "recipientType", 16);
    rec->raw.status = field_of(&form, "status", 16);
    rec->raw.source = field_of(&form, "source", 32);
    rec->raw.consent_date = field_of(&form, "consentDate", 32);
    rec->origin = IZ_ORIGIN_PANEL;
    json_t *who = json_pack("{s:s}", "panelUser", s.user.email);
    rec->evidence = iz_api_evidence(r, who);
    json_decref(who);
    int rc = iz_domain_record(app->dom, s.brand, (int64_t)time(NULL), rec, 1);
    if (rc != 0) rec->rc = rc;
    if (rec->rc == 0 || rec->rc == IZ_REPEAT) {
        char path[IZ_RECIPIENT_MAX * 3 + 64];
        snprintf(path, sizeof path, "/panel/recipients?q=%s&saved=1",
                 iz_form_urlencode(r, rec->chg.recipient));
        iz__panel_redirect(r, app, &s, path, "Değişiklik kaydedildi.");
        return;
    }
    if (rec->rc == IZ_EIO || rec->rc == IZ_EBUSY) {
        iz__panel_store_error(r, app, rec->rc);
        return;
    }
    /* The refusal with each field's H-code and İYS's Turkish text. */
    char msg[1024] = "";
    size_t at = 0;
    int status = 422;
    if (rec->rc == IZ_EINVAL) {
        for (int i = 0; i < rec->errs.n && at < sizeof msg; i++) {
            const iz_hcode_t *h = iz_hcode(rec->errs.e[i].code);
            at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%s: %s", i ? " " : "",
                                   rec->errs.e[i].code, h ? h->tr : "");
        }
    } else if (rec->rc == IZ_ERULE && rec->hcode) {
        const iz_hcode_t *h = iz_hcode(rec->hcode);
        status = iz_hcode_http(rec->hcode);
        snprintf(msg, sizeof msg, "%s: %s", rec->hcode, h ? h->tr : "");
    } else {
        snprintf(msg, sizeof msg, "Değişiklik kaydedilemedi (%s).", iz_strerror(rec->rc));
    }
    iz__panel_refuse(r, app, status, "Değişiklik kaydedilmedi", msg);
}

void iz__pg_recipients(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    const char *q = iz_req_query(r, "q");
    if (q && strlen(q) > 254) q = NULL;
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Alıcı ara", "/panel/recipients");
    iz_page_printf(&p,
                   "<h1>Alıcı ara</h1><form class=\"card\" method=\"get\" action=\"/panel/"
                   "recipients\" role=\"search\"><label for=\"q\">Telefon numarası ya da e-posta "
                   "adresi</label><input id=\"q\" name=\"q\" type=\"search\" maxlength=\"254\" "
                   "required placeholder=\"0532 123 45 67\" value=\"%s\">",
                   iz_page_esc(r, q ? q : ""));
    if (s.nbrands > 1)
        iz_page_printf(&p, "<input type=\"hidden\" name=\"brand\" value=\"%lld\">",
                       (long long)s.brand->code);
    iz_page_puts(&p, "<button type=\"submit\">Ara</button></form>");
    if (!q || !*q || !s.brand) {
        iz__panel_end(&p, 200);
        return;
    }
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode = NULL;
    if (iz_recipient_normalize(q, strlen(q), IZ_TYPE_NONE, norm, &hcode) != 0) {
        char msg[400];
        const iz_hcode_t *h = iz_hcode(hcode ? hcode : "H122");
        snprintf(msg, sizeof msg,
                 "Bu bir telefon numarası ya da e-posta adresi olarak okunamadı (%s: %s).",
                 h ? h->code : "H122", h ? h->tr : "");
        iz_page_msg(&p, "err", msg, NULL);
        iz__panel_end(&p, 422);
        return;
    }
    bool phone = norm[0] == '+';
    static const iz_type_t phone_types[] = {IZ_MESAJ, IZ_ARAMA}, mail_types[] = {IZ_EPOSTA};
    const iz_type_t *types = phone ? phone_types : mail_types;
    size_t ntypes = phone ? 2 : 1;
    iz_page_printf(&p, "<h2>%s</h2>", iz_page_esc(r, norm));
    const char *saved = iz_req_query(r, "saved");
    if (saved && strcmp(saved, "1") == 0)
        iz_page_msg(&p, "ok", "Değişiklik kaydedildi; İYS'ye gönderimi aşağıda izleyebilirsiniz.",
                    NULL);
    bool any = false;
    for (size_t t = 0; t < ntypes; t++)
        for (int rt = IZ_BIREYSEL; rt <= IZ_TACIR; rt++) {
            iz_change_t *list = NULL;
            size_t n = 0;
            int rc = iz_store_consent_history(app->store, s.brand->id, (iz_rtype_t)rt, types[t],
                                              norm, &list, &n);
            if (rc != 0) {
                iz_page_msg(&p, "err", "Kayıtlar şu anda okunamadı.", NULL);
                free(list);
                continue;
            }
            if (n == 0) {
                free(list);
                continue;
            }
            any = true;
            iz_page_printf(&p,
                           "<section class=\"card\"><h3>%s · %s: şu an <strong>%s</strong></h3>"
                           "<p class=\"meta\">Geçmiş, en yenisi önce (%zu değişiklik), her "
                           "değişiklik kanıtıyla.</p><div class=\"tbl\"><table>%s"
                           "<th scope=\"col\">Kanıt</th></tr></thead><tbody>",
                           iz_type_name(types[t]), iz_rtype_name((iz_rtype_t)rt),
                           iz_status_name(list[0].status), n, change_head);
            for (size_t i = 0; i < n; i++)
                change_row(&p, &list[i], false);
            iz_page_puts(&p, "</tbody></table></div></section>");
            free(list);
        }
    if (!any) iz_page_msg(&p, "ok", "Bu alıcı için bu markada izin kaydı yok.", NULL);
    change_form(&p, &s, norm, phone);
    iz__panel_end(&p, 200);
}

void iz__pg_iys(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    int64_t before = 0;
    const char *b = iz_req_query(r, "before");
    if (b && iz_parse_i64(b, 1, INT64_MAX, &before) != 0) before = 0;
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "İYS tarafı değişiklikler", "/panel/iys");
    iz_page_puts(&p, "<h1>İYS tarafı değişiklikler</h1><p>Vatandaşların e-Devlet, İYS web "
                     "sitesi ve uygulaması, 3338 çağrı merkezi üzerinden yaptığı değişiklikler "
                     "ve mutabakat onarımları; en yenisi önce.</p>");
    if (!s.brand) {
        iz__panel_end(&p, 200);
        return;
    }
    iz_change_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_iys_changes(app->store, s.brand->id, before, IYS_PAGE, &list, &n);
    if (rc != 0) {
        iz_page_msg(&p, "err", "Kayıtlar şu anda okunamadı.", NULL);
    } else if (n == 0) {
        iz_page_msg(&p, "ok",
                    before ? "Daha eski değişiklik yok."
                           : "İYS tarafında henüz "
                             "değişiklik yok.",
                    NULL);
    } else {
        iz_page_printf(&p,
                       "<div class=\"tbl\"><table>%s<th scope=\"col\">Alıcı</th>"
                       "<th scope=\"col\">Tür</th><th scope=\"col\">Kanıt</th></tr></thead>"
                       "<tbody>",
                       change_head);
        for (size_t i = 0; i < n; i++)
            change_row(&p, &list[i], true);
        iz_page_puts(&p, "</tbody></table></div>");
        if (n == IYS_PAGE) {
            char next[64];
            snprintf(next, sizeof next, "/panel/iys?before=%lld", (long long)list[n - 1].id);
            iz_page_printf(&p, "<p><a href=\"%s\">Daha eski değişiklikler</a></p>",
                           iz_page_esc(r, iz__panel_href(r, &s, next)));
        }
    }
    free(list);
    iz_quarantine_t *ql = NULL;
    size_t nq = 0;
    iz_page_puts(&p, "<h2 id=\"karantina\">Karantina</h2><p>İYS'nin bildirdiği ama izin'in "
                     "uygulayamadığı değişiklikler; atılmaz, burada nedeniyle ve İYS'nin "
                     "gönderdiği ham JSON ile durur.</p>");
    rc = iz_store_quarantine_list(app->store, s.brand->id, 0, 100, &ql, &nq);
    if (rc != 0) {
        iz_page_msg(&p, "err", "Karantina şu anda okunamadı.", NULL);
    } else if (nq == 0) {
        iz_page_msg(&p, "ok", "Karantinada değişiklik yok.", NULL);
    } else {
        iz_page_puts(&p, "<div class=\"tbl\"><table><thead><tr><th scope=\"col\">Zaman</th>"
                         "<th scope=\"col\">Yol</th><th scope=\"col\">Neden</th>"
                         "<th scope=\"col\">Ham JSON</th></tr></thead><tbody>");
        for (size_t i = 0; i < nq; i++)
            iz_page_printf(&p,
                           "<tr><td>%s</td><td>%s %s</td><td>%s</td><td><pre "
                           "class=\"ev\">%s</pre></td></tr>",
                           iz__panel_time(r, ql[i].created_ms / 1000), iz_page_esc(r, ql[i].via),
                           iz_page_esc(r, ql[i].source), iz_page_esc(r, ql[i].reason),
                           iz_page_esc(r, ql[i].raw ? ql[i].raw : ""));
        iz_page_puts(&p, "</tbody></table></div>");
    }
    iz_store_quarantine_free(ql, nq);
    iz__panel_end(&p, 200);
}
