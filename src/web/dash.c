/*
 * dash.c - the panel's dashboard (/panel): the selected brand's consents
 * by channel, status, origin and source, its changes a day over the last
 * 30 days, the health of its work with İYS (the account's queue, İYS's
 * answers by class and the success ratio, the last reconciliation), its
 * RET deadlines and its quarantined İYS changes.
 *
 * Every figure is cheap whatever the brand holds: the counts come from the
 * store's stat_state and stat_days rows (kept by triggers on every write,
 * store.h), the RETs from the open deadlines (few), the queue and answers
 * from what GET /v1/iys/status and /metrics read. Each chart is an inline
 * SVG of bars with a <title> and role="img", and the same numbers follow
 * it in a table, for screen readers and for copying.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/enums.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "web/panel_int.h"

#define DAYS 30

typedef struct bar {
    const char *label; /* plain text */
    int64_t n;
} bar_t;

/* A horizontal bar chart of bars[0..n) titled title (plain text), then the
 * table of its numbers; id makes the element ids unique on the page. */
static void bars(iz_page_t *p, const char *id, const char *title, const bar_t *b, size_t n)
{
    iz_req_t *r = p->r;
    int64_t max = 1;
    for (size_t i = 0; i < n; i++)
        if (b[i].n > max) max = b[i].n;
    const int row = 26, label_w = 170, bar_w = 220, w = label_w + bar_w + 90;
    int h = (int)n * row + 4;
    iz_page_printf(p,
                   "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
                   "aria-labelledby=\"%s-t\"><title id=\"%s-t\">%s</title>",
                   w, h, id, id, iz_page_esc(r, title));
    for (size_t i = 0; i < n; i++) {
        int y = (int)i * row + 2;
        int len = (int)(b[i].n * bar_w / max);
        if (b[i].n > 0 && len < 2) len = 2;
        iz_page_printf(p,
                       "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"end\" "
                       "fill=\"#1c2126\">%s</text>"
                       "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#0d4a80\"/>"
                       "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#1c2126\">%s</text>",
                       label_w - 6, y + 16, iz_page_esc(r, b[i].label), label_w, y + 3, len,
                       row - 8, label_w + len + 6, y + 16, iz__panel_num(r, b[i].n));
    }
    iz_page_printf(p,
                   "</svg><div class=\"tbl\"><table><caption>%s</caption>"
                   "<thead><tr><th scope=\"col\">Grup</th><th scope=\"col\" class=\"n\">Sayı</th>"
                   "</tr></thead><tbody>",
                   iz_page_esc(r, title));
    for (size_t i = 0; i < n; i++)
        iz_page_printf(p, "<tr><th scope=\"row\">%s</th><td class=\"n\">%s</td></tr>",
                       iz_page_esc(r, b[i].label), iz__panel_num(r, b[i].n));
    iz_page_puts(p, "</tbody></table></div>");
}

/* The changes a day: one column a day, the newest on the right, the
 * numbers in a table below (days with changes only, to keep it short). */
static void days_chart(iz_page_t *p, const char days[DAYS][11], const int64_t *v)
{
    iz_req_t *r = p->r;
    int64_t max = 1, total = 0;
    for (int i = 0; i < DAYS; i++) {
        if (v[i] > max) max = v[i];
        total += v[i];
    }
    const int col = 14, h = 120, base = h - 18;
    iz_page_printf(p,
                   "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
                   "aria-labelledby=\"days-t\"><title id=\"days-t\">Son %d günün değişiklikleri "
                   "(toplam %s)</title>",
                   DAYS * col + 8, h, DAYS, iz__panel_num(r, total));
    for (int i = 0; i < DAYS; i++) {
        int len = (int)(v[i] * (base - 14) / max);
        if (v[i] > 0 && len < 2) len = 2;
        iz_page_printf(p,
                       "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#0d4a80\">"
                       "<title>%.2s.%.2s: %s</title></rect>",
                       4 + i * col, base - len, col - 3, len, days[i] + 8, days[i] + 5,
                       iz__panel_num(r, v[i]));
    }
    iz_page_printf(p,
                   "<line x1=\"4\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#6b7580\"/>"
                   "<text x=\"4\" y=\"%d\" font-size=\"11\" fill=\"#4f5963\">%.2s.%.2s</text>"
                   "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" "
                   "fill=\"#4f5963\">%.2s.%.2s</text></svg>",
                   base, DAYS * col + 4, base, h - 4, days[0] + 8, days[0] + 5, DAYS * col + 4,
                   h - 4, days[DAYS - 1] + 8, days[DAYS - 1] + 5);
    iz_page_puts(p, "<div class=\"tbl\"><table><caption>Değişiklik olan günler</caption><thead>"
                    "<tr><th scope=\"col\">Gün</th><th scope=\"col\" class=\"n\">Değişiklik</th>"
                    "</tr></thead><tbody>");
    bool any = false;
    for (int i = DAYS - 1; i >= 0; i--)
        if (v[i]) {
            any = true;
            iz_page_printf(p, "<tr><td>%.2s.%.2s.%.4s</td><td class=\"n\">%s</td></tr>",
                           days[i] + 8, days[i] + 5, days[i], iz__panel_num(r, v[i]));
        }
    if (!any) iz_page_puts(p, "<tr><td colspan=\"2\">Son 30 günde değişiklik yok.</td></tr>");
    iz_page_puts(p, "</tbody></table></div>");
}

/* The consents' section from the brand's stat_state rows. */
static void consents_section(iz_page_t *p, const iz_stat_t *st, size_t n)
{
    static const char *const types[3] = {"MESAJ", "ARAMA", "EPOSTA"};
    int64_t onay[3] = {0}, ret[3] = {0}, total = 0, on = 0, off = 0;
    bar_t src[IZ_SOURCE_COUNT_ + 1];
    size_t nsrc = 0;
    for (size_t i = 0; i < n; i++) {
        total += st[i].n;
        bool is_onay = strcmp(st[i].c, "ONAY") == 0;
        if (is_onay)
            on += st[i].n;
        else
            off += st[i].n;
        for (int t = 0; t < 3; t++)
            if (strcmp(st[i].a, types[t]) == 0) {
                if (is_onay)
                    onay[t] += st[i].n;
                else
                    ret[t] += st[i].n;
            }
        const char *label = st[i].d[0] ? st[i].d : "(kaynaksız: tacir)";
        size_t k = 0;
        while (k < nsrc && strcmp(src[k].label, label) != 0)
            k++;
        if (k == nsrc && nsrc < IZ_ARRAY_LEN(src)) src[nsrc++] = (bar_t){label, 0};
        if (k < nsrc) src[k].n += st[i].n;
    }
    iz_page_printf(p,
                   "<section aria-labelledby=\"c-h\"><h2 id=\"c-h\">İzin kayıtları</h2>"
                   "<div class=\"grid\"><div class=\"card\"><p class=\"meta\">Toplam kayıt</p>"
                   "<p class=\"stat\">%s</p></div><div class=\"card\"><p class=\"meta\">Onay "
                   "(ONAY)</p><p class=\"stat\">%s</p></div><div class=\"card\"><p "
                   "class=\"meta\">Ret (RET)</p><p class=\"stat\">%s</p></div></div>",
                   iz__panel_num(p->r, total), iz__panel_num(p->r, on), iz__panel_num(p->r, off));
    bar_t ch[6];
    for (int t = 0; t < 3; t++) {
        char *l1 = iz_req_alloc(p->r, 48), *l2 = iz_req_alloc(p->r, 48);
        snprintf(l1, 48, "%s onay", types[t]);
        snprintf(l2, 48, "%s ret", types[t]);
        ch[2 * t] = (bar_t){l1, onay[t]};
        ch[2 * t + 1] = (bar_t){l2, ret[t]};
    }
    iz_page_puts(p, "<div class=\"grid\"><div><h3>Kanala ve duruma göre</h3>");
    bars(p, "ch", "Kanala ve duruma göre izinler", ch, 6);
    iz_page_puts(p, "</div><div><h3>Kaynağa göre</h3>");
    if (nsrc)
        bars(p, "src", "Kaynağa göre izinler", src, nsrc);
    else
        iz_page_puts(p, "<p>Henüz kayıt yok.</p>");
    iz_page_puts(p, "</div></div></section>");
}

/* İYS's side: the queue, the answers, the last reconciliation, the RETs
 * and the quarantine. */
static void iys_section(iz_page_t *p, iz_app_t *app, const iz_panel_sess_t *s, int64_t now)
{
    iz_req_t *r = p->r;
    int64_t waiting = 0, quarantined = 0;
    iz_ret_tally_t ret = {0};
    iz_recon_t *rec = NULL;
    size_t nrec = 0;
    int rc = iz_api_account_waiting(app, s->account.id, &waiting);
    if (rc == 0) rc = iz_store_quarantine_count_brand(app->store, s->brand->id, &quarantined);
    if (rc == 0) rc = iz_domain_ret_tally(app->dom, s->brand->id, now, &ret);
    if (rc == 0) rc = iz_store_recon_list(app->store, s->brand->id, NULL, 1, &rec, &nrec);
    if (rc != 0) {
        iz_page_msg(p, "err", "İYS bilgileri şu anda okunamadı.", NULL);
        return;
    }
    iz_page_printf(p,
                   "<section aria-labelledby=\"i-h\"><h2 id=\"i-h\">İYS ile eşitleme</h2>"
                   "<div class=\"grid\"><div class=\"card\"><p class=\"meta\">İYS'ye gönderilmeyi "
                   "bekleyen değişiklik (hesap)</p><p class=\"stat\">%s</p></div>"
                   "<div class=\"card\"><p class=\"meta\">Karantinadaki İYS değişikliği</p>"
                   "<p class=\"stat\">%s</p><p><a href=\"%s\">Karantinayı gör</a></p></div>"
                   "<div class=\"card\"><p class=\"meta\">Son mutabakat</p>",
                   iz__panel_num(r, waiting), iz__panel_num(r, quarantined),
                   iz_page_esc(r, iz__panel_href(r, s, "/panel/iys#karantina")));
    if (nrec)
        iz_page_printf(p,
                       "<p class=\"stat\">%s</p><p>%.2s.%.2s.%.4s günü: %s satır, %s eşleşti, %s "
                       "onarıldı, %s uyuşmadı</p>",
                       iz_page_esc(r, rec[0].status), rec[0].date + 8, rec[0].date + 5, rec[0].date,
                       iz__panel_num(r, rec[0].rows), iz__panel_num(r, rec[0].matched),
                       iz__panel_num(r, rec[0].repaired), iz__panel_num(r, rec[0].mismatched));
    else
        iz_page_puts(p, "<p>Henüz mutabakat yapılmadı.</p>");
    iz_store_recon_free(rec, nrec);
    iz_page_puts(p, "</div></div>");
    if (app->sync) {
        iz_sync_stats_t st;
        iz_sync_stats_get(app->sync, &st);
        bar_t cls[] = {{"Başarılı", (int64_t)st.ok},
                       {"İstemci hatası", (int64_t)st.client_error},
                       {"Hız sınırı (429)", (int64_t)st.rate_limited},
                       {"Sunucu hatası", (int64_t)st.server_error},
                       {"Bağlantı hatası", (int64_t)st.transport},
                       {"Oturum engeli", (int64_t)st.token_blocked}};
        /* Turkish writes a decimal comma: %99,5 */
        char rate[16];
        snprintf(rate, sizeof rate, "%.1f", st.success_rate * 100.0);
        char *dot = strchr(rate, '.');
        if (dot) *dot = ',';
        iz_page_printf(p,
                       "<h3>İYS yanıtları (sunucu açıldığından beri)</h3><p>Başarı oranı: "
                       "<strong>%%%s</strong> (İYS %%70'in altına düşen istemciyi "
                       "durdurur)</p>",
                       rate);
        bars(p, "cls", "Sınıfına göre İYS yanıtları", cls, IZ_ARRAY_LEN(cls));
    }
    bar_t rets[] = {
        {"Bekleyen", ret.pending}, {"Süresi yaklaşan", ret.at_risk}, {"Süresi geçen", ret.missed}};
    iz_page_puts(p, "<h3>RET bildirim süreleri (3 iş günü)</h3>");
    if (ret.at_risk || ret.missed)
        iz_page_msg(p, "err",
                    "Süresi yaklaşan ya da geçen RET var: İYS'ye ulaşmamış retler yasal süreyi "
                    "aşabilir.",
                    NULL);
    bars(p, "ret", "RET bildirim süreleri", rets, IZ_ARRAY_LEN(rets));
    iz_page_puts(p, "</section>");
}

void iz__pg_dashboard(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_page_t p;
    if (!s.brand) {
        iz__panel_begin(&p, r, app, &s, "Gösterge paneli", "/panel");
        iz_page_puts(&p, "<h1>Gösterge paneli</h1>");
        iz_page_msg(&p, "err",
                    "Bu hesapta henüz marka yok. Bir marka ekleyin: izin brand add --account "
                    "HESAP --code KOD --name AD",
                    NULL);
        iz__panel_end(&p, 200);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    char days[DAYS][11];
    int64_t perday[DAYS] = {0};
    for (int i = 0; i < DAYS; i++) {
        char f[IZ_DATETIME_LEN];
        iz_tr_format(now - (int64_t)(DAYS - 1 - i) * 86400, f);
        memcpy(days[i], f, 10);
        days[i][10] = '\0';
    }
    iz_stat_t *st = NULL, *dl = NULL, *orig = NULL;
    size_t nst = 0, ndl = 0, norig = 0;
    int rc = iz_store_stat_state(app->store, s.brand->id, &st, &nst);
    if (rc == 0) rc = iz_store_stat_days(app->store, s.brand->id, days[0], &dl, &ndl);
    if (rc == 0) rc = iz_store_stat_origins(app->store, s.brand->id, &orig, &norig);
    if (rc != 0) {
        free(st);
        free(dl);
        free(orig);
        iz__panel_store_error(r, app, rc);
        return;
    }
    for (size_t i = 0; i < ndl; i++)
        for (int k = 0; k < DAYS; k++)
            if (strcmp(dl[i].a, days[k]) == 0) perday[k] += dl[i].n;
    bar_t ob[IZ_ORIGIN_COUNT_ - 1];
    for (int o = 1; o < IZ_ORIGIN_COUNT_; o++) {
        ob[o - 1] = (bar_t){iz_origin_name((iz_origin_t)o), 0};
        for (size_t i = 0; i < norig; i++)
            if (strcmp(orig[i].a, ob[o - 1].label) == 0) ob[o - 1].n = orig[i].n;
    }
    iz__panel_begin(&p, r, app, &s, "Gösterge paneli", "/panel");
    iz_page_printf(&p, "<h1>Gösterge paneli</h1><p class=\"meta\">%s (%lld) · %s</p>",
                   iz_page_esc(r, s.brand->name), (long long)s.brand->code, iz__panel_time(r, now));
    consents_section(&p, st, nst);
    iz_page_puts(&p, "<section aria-labelledby=\"o-h\"><h2 id=\"o-h\">Değişiklikler</h2>"
                     "<div class=\"grid\"><div><h3>Geldiği yere göre (tüm zamanlar)</h3>");
    bars(&p, "org", "Geldiği yere göre değişiklikler", ob, IZ_ARRAY_LEN(ob));
    iz_page_puts(&p, "</div><div><h3>Günlük (son 30 gün)</h3>");
    days_chart(&p, (const char(*)[11])days, perday);
    iz_page_puts(&p, "</div></div></section>");
    iys_section(&p, app, &s, now);
    free(st);
    free(dl);
    free(orig);
    iz__panel_end(&p, 200);
}
