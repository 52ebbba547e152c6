/*
 * panel_voice.c - Sesli kampanyalar (/panel/voice): a call list filtered on
 * ARAMA and kept, exactly as POST /v1/brands/{b}/voice/campaigns does it
 * (api/voice.c's iz_voice_create: the same judge, a repeat kept once, each
 * number stored with its verdict); the brand's campaigns listed; each
 * campaign's page with its blocked numbers; and the numbers the dialer may
 * call as GET /v1/voice/campaigns/{id}/numbers?format=csv gives them
 * (iz_voice_callable_csv: judged again when downloaded, so a consent
 * withdrawn since is not dialled). A campaign of another account answers
 * 404, as the API's numbers endpoint does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "web/panel_ops.h"

#define VOICE_BYTES (2u << 20) /* bytes of the form: the list, pasted and uploaded */
#define LISTED 50              /* campaigns the page lists */
#define SHOWN 1000             /* blocked numbers a campaign's page lists */

static const char LIMIT_TEXT[] = "en çok 100.000 numara ve 2 MB";

/* What the form holds (re-shown after a refusal). */
typedef struct fields {
    const char *name, *rtype, *recipients;
    bool commercial;
} fields_t;

static void form(iz_page_t *p, const iz_panel_sess_t *s, const fields_t *f)
{
    iz_req_t *r = p->r;
    iz_page_puts(p, "<div class=\"card\">");
    iz__panel_form_mp(p, s, "/panel/voice");
    iz_page_printf(p,
                   "<label for=\"name\">Kampanya adı</label>"
                   "<input id=\"name\" name=\"name\" maxlength=\"%d\" required value=\"%s\">",
                   IZ_NAME_MAX - 1, iz_page_esc(r, f->name));
    iz__panel_commercial_select(p, "commercial", f->commercial);
    iz__panel_rtype_select(p, "recipientType", f->rtype);
    iz_page_printf(p,
                   "<label for=\"recipients\">Aranacak numaralar (her satıra bir numara)</label>"
                   "<textarea id=\"recipients\" name=\"recipients\" rows=\"6\" "
                   "placeholder=\"05321234567\">%s</textarea>"
                   "<label for=\"file\">ya da bir dosya (her satırda bir numara)</label>"
                   "<input id=\"file\" name=\"file\" type=\"file\" accept=\".txt,.csv,text/plain,"
                   "text/csv\"><p class=\"meta\">Sınır: %s. Her numara arama (ARAMA) izinlerine "
                   "göre ayrılır; aynı numara bir kez aranır.</p>"
                   "<button type=\"submit\">Kampanyayı oluştur</button></form></div>",
                   iz_page_esc(r, f->recipients), LIMIT_TEXT);
}

static const char *campaign_href(iz_req_t *r, const iz_panel_sess_t *s, int64_t id,
                                 const char *tail)
{
    char path[96];
    snprintf(path, sizeof path, "/panel/voice/%lld%s", (long long)id, tail);
    return iz_page_esc(r, iz__panel_href(r, s, path));
}

/* The brand's newest campaigns l[0..n) (freed here). */
static void campaigns(iz_page_t *p, const iz_panel_sess_t *s, iz_voice_campaign_t *l, size_t n)
{
    iz_req_t *r = p->r;
    iz_page_puts(p, "<h2>Kampanyalar</h2>");
    if (n == 0) {
        iz_page_puts(p, "<p>Bu markanın henüz sesli kampanyası yok.</p>");
        free(l);
        return;
    }
    iz_page_printf(p,
                   "<div class=\"tbl\"><table id=\"campaigns\"><caption>Son %d kampanya (en "
                   "yenisi önce)</caption><thead><tr><th scope=\"col\">Kampanya</th>"
                   "<th scope=\"col\">Aranabilir numaralar</th>"
                   "<th scope=\"col\" class=\"n\">Aranabilir</th>"
                   "<th scope=\"col\" class=\"n\">Engellenen</th><th scope=\"col\">Tür</th>"
                   "<th scope=\"col\">Oluşturulma</th></tr></thead><tbody>",
                   LISTED);
    for (size_t i = 0; i < n; i++) {
        const iz_voice_campaign_t *c = &l[i];
        iz_page_printf(p,
                       "<tr><td><a href=\"%s\">%s</a></td><td><a href=\"%s\" download>CSV "
                       "indir</a></td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                       "<td>%s, %s</td><td>%s</td></tr>",
                       campaign_href(r, s, c->id, ""), iz_page_esc(r, c->name),
                       campaign_href(r, s, c->id, "/numbers.csv"), iz__panel_num(r, c->allowed),
                       iz__panel_num(r, c->blocked), c->commercial ? "ticari" : "bilgilendirme",
                       c->rtype == IZ_TACIR ? "tacir" : "bireysel",
                       iz__panel_time(r, c->created_ms / 1000));
    }
    iz_page_puts(p, "</tbody></table></div>");
    free(l);
}

static void page(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, const fields_t *f,
                 const char *err, int status)
{
    iz_voice_campaign_t *l = NULL;
    size_t n = 0;
    int rc = s->brand ? iz_store_voice_of_brand(app->store, s->brand->id, LISTED, &l, &n) : 0;
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_page_t p;
    iz__panel_begin(&p, r, app, s, "Sesli kampanyalar", "/panel/voice");
    iz_page_puts(&p, "<h1>Sesli kampanyalar</h1>");
    if (!s->brand) {
        iz_page_msg(&p, "err", "Bu hesapta henüz marka yok.", NULL);
        iz__panel_end(&p, status);
        return;
    }
    iz_page_printf(&p,
                   "<p>%s markasının arama listesini telefon araması (ARAMA) izinlerine göre "
                   "ayırın: kampanya saklanır, arayıcınız (dialer) aranabilir numaraları CSV "
                   "olarak indirir. Numaralar indirildiği anda yeniden denetlenir: kampanyadan "
                   "sonra izni geri alınan numara listede yer almaz.</p>",
                   iz_page_esc(r, s->brand->name));
    if (err) iz_page_msg(&p, "err", err, NULL);
    form(&p, s, f);
    campaigns(&p, s, l, n);
    iz__panel_end(&p, status);
}

void iz__pg_voice(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    const fields_t f = {"", "BIREYSEL", "", true};
    page(r, app, &s, &f, NULL, 200);
}

static void voice_done(iz_req_t *r, iz_panel_mp_t *m)
{
    iz_app_t *app = m->app;
    const iz_panel_sess_t *s = &m->s;
    if (!s->brand) {
        iz__panel_refuse(r, app, 404, "Marka bulunamadı", "Bu hesapta henüz marka yok.");
        return;
    }
    fields_t f = {iz_form_value(&m->form, "name", 4 * IZ_NAME_MAX),
                  iz_form_value(&m->form, "recipientType", 16),
                  iz_form_value(&m->form, "recipients", VOICE_BYTES), true};
    const char *com = iz_form_value(&m->form, "commercial", 1);
    iz_rtype_t rtype = IZ_BIREYSEL;
    if ((com && strcmp(com, "0") != 0 && strcmp(com, "1") != 0) ||
        (f.rtype && iz_rtype_parse(f.rtype, &rtype) != 0)) {
        iz__panel_refuse(r, app, 422, "Seçim geçersiz", "Alıcı tipi ya da ileti türü geçersiz.");
        return;
    }
    f.commercial = !com || strcmp(com, "1") == 0;
    if (!f.name) f.name = "";
    if (!f.recipients) f.recipients = "";
    if (!f.rtype) f.rtype = "BIREYSEL";
    size_t len;
    const char *lines = iz__panel_lines(r, &m->form, "recipients", "file", &len);
    json_t *list = iz__panel_list_json(lines, len, IZ_VOICE_MAX);
    const char *err = NULL;
    int status = 422;
    if (!iz_voice_name_ok(f.name, strlen(f.name))) {
        err = "Kampanya adı gerekli: en çok 127 bayt, denetim karakteri içermeyen bir metin.";
    } else if (json_array_size(list) == 0) {
        err = "Numara listesi boş: numaraları yazın ya da bir dosya seçin.";
    } else if (json_array_size(list) > IZ_VOICE_MAX) {
        err = "Bir kampanyada en çok 100.000 numara olabilir.";
        status = 413;
    }
    if (err) {
        json_decref(list);
        page(r, app, s, &f, err, status);
        return;
    }
    json_t *blocked = json_array();
    iz_voice_campaign_t c;
    int rc = iz_voice_create(r, app, s->brand, f.name, f.commercial, rtype, list, &c, blocked);
    json_decref(blocked); /* the campaign's page lists them from the store */
    json_decref(list);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/panel/voice/%lld", (long long)c.id);
    iz__panel_redirect(r, app, s, path, "Kampanya oluşturuldu.");
}

void iz__pg_voice_post(iz_req_t *r, void *vapp)
{
    iz__panel_mp_start(r, vapp, VOICE_BYTES, LIMIT_TEXT, NULL, voice_done);
}

/* ---- one campaign ----------------------------------------------------------------- */

/* The campaign of {campaignId} when it is the session's account's; false
 * when answered (404 page, or a store failure). */
static bool campaign_of(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s,
                        iz_voice_campaign_t *c)
{
    int64_t id = 0;
    const char *sid = iz_req_param(r, "campaignId");
    int rc = sid && iz_parse_i64(sid, 1, INT64_MAX, &id) == 0
                 ? iz_store_voice_get(app->store, id, c)
                 : IZ_ENOTFOUND;
    if (rc == 0 && c->account_id != s->account.id) rc = IZ_ENOTFOUND;
    if (rc == IZ_ENOTFOUND)
        iz__panel_refuse(r, app, 404, "Kampanya bulunamadı", "Bu hesapta böyle bir kampanya yok.");
    else if (rc != 0)
        iz__panel_store_error(r, app, rc);
    return rc == 0;
}

static const char *reason_tr(const char *outcome)
{
    if (strcmp(outcome, "NO_CONSENT") == 0) return "İzin yok";
    if (strcmp(outcome, "RET") == 0) return "İzin geri alınmış (ret)";
    if (strcmp(outcome, "INVALID") == 0) return "Geçersiz numara";
    return outcome;
}

void iz__pg_voice_campaign(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_voice_campaign_t c;
    if (iz__panel_auth(r, app, &s) != 0 || !campaign_of(r, app, &s, &c)) return;
    iz_voice_number_t *l = NULL;
    size_t n = 0;
    int rc = iz_store_voice_numbers(app->store, c.id, false, &l, &n);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Sesli kampanya", "/panel/voice");
    iz_page_printf(&p,
                   "<h1>Sesli kampanya: %s</h1><p class=\"meta\">%s · %s ileti · %s alıcı</p>"
                   "<div class=\"grid\"><div class=\"card\"><p class=\"meta\">Aranabilir</p>"
                   "<p class=\"stat\" id=\"allowed\">%s</p><p><a href=\"%s\" download>Aranabilir "
                   "numaraları indir (CSV)</a></p></div><div class=\"card\"><p class=\"meta\">"
                   "Engellenen</p><p class=\"stat\" id=\"blocked\">%s</p></div></div>"
                   "<p class=\"meta\">Sayılar kampanyanın oluşturulduğu andaki denetimdir. CSV "
                   "indirildiği anda yeniden denetlenir; API'de de "
                   "<code>GET /v1/voice/campaigns/%lld/numbers?format=csv</code>. Aramadan hemen "
                   "önce tek numara için: <code>GET /v1/brands/{marka}/check/{numara}?type=ARAMA"
                   "</code>.</p>",
                   iz_page_esc(r, c.name), iz__panel_time(r, c.created_ms / 1000),
                   c.commercial ? "ticari" : "bilgilendirme",
                   c.rtype == IZ_TACIR ? "tacir" : "bireysel", iz__panel_num(r, c.allowed),
                   campaign_href(r, &s, c.id, "/numbers.csv"), iz__panel_num(r, c.blocked),
                   (long long)c.id);
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < SHOWN; i++) {
        if (strcmp(l[i].outcome, "ALLOWED") == 0) continue;
        if (shown++ == 0)
            iz_page_printf(&p,
                           "<div class=\"tbl\"><table id=\"blocked-list\"><caption>Engellenen "
                           "numaralar%s</caption><thead><tr><th scope=\"col\">Numara</th>"
                           "<th scope=\"col\">Neden</th></tr></thead><tbody>",
                           c.blocked > SHOWN ? " (ilk 1.000)" : "");
        iz_page_printf(&p, "<tr><td>%s</td><td>%s</td></tr>", iz_page_esc(r, l[i].recipient),
                       reason_tr(l[i].outcome));
    }
    if (shown) iz_page_puts(&p, "</tbody></table></div>");
    free(l);
    iz_page_printf(&p, "<p><a href=\"%s\">Sesli kampanyalara dön</a></p>",
                   iz_page_esc(r, iz__panel_href(r, &s, "/panel/voice")));
    iz__panel_end(&p, 200);
}

void iz__pg_voice_numbers(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_voice_campaign_t c;
    if (iz__panel_auth(r, app, &s) != 0 || !campaign_of(r, app, &s, &c)) return;
    char *out = NULL;
    size_t len = 0;
    int rc = iz_voice_callable_csv(app, &c, &out, &len);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    char disp[80];
    snprintf(disp, sizeof disp, "attachment; filename=\"arama-%lld.csv\"", (long long)c.id);
    iz_reply_header(r, "Content-Disposition", disp);
    iz_reply_bytes(r, 200, "text/csv; charset=utf-8", out, len);
    free(out);
}
