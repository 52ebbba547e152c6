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

#include "core/enums.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "core/recipient.h"
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
