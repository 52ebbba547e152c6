/*
 * panel_webhook.c - the panel's webhook page (/panel/webhook): the selected
 * brand's webhook as GET /v1/brands/{b}/webhook shows it (and the batch
 * being retried), set or replaced (PUT's checks and Turkish reasons: the
 * same iz_hook_set), removed after a confirmation step (DELETE's store
 * call), the backlog (changes not yet delivered) and the dead letters, each
 * sent again with "Yeniden gönder" (iz_hook_retry, as POST
 * .../dead-letters/{id}/retry does).
 *
 * The secret is never written into a page: not shown, not put back into
 * the form after a refusal, not logged. Everything is scoped to the
 * session's brand (the store's calls take its id), so another account's
 * dead letter id answers 404 as an unknown one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/enums.h"
#include "core/iz.h"
#include "hook/webhook.h"
#include "sys/log.h"
#include "web/panel_int.h"

#define PATH "/panel/webhook"
#define BACKLOG_SHOWN 20 /* the first undelivered changes listed */
#define DEAD_SHOWN 500   /* dead letters listed (the oldest first) */

/* The page's refusal of the set form: what to say and the URL typed. */
typedef struct set_err {
    const char *text; /* plain Turkish */
    const char *url;  /* kept in the field; the secret never is */
} set_err_t;

/* The brand's backlog and dead-letter counts (iz_store_webhook_figures). */
static int figures_of(iz_app_t *app, int64_t brand_id, int64_t *backlog, int64_t *dead)
{
    iz_webhook_figures_t *f = NULL;
    size_t n = 0;
    *backlog = *dead = 0;
    int rc = iz_store_webhook_figures(app->store, &f, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (f[i].brand_id == brand_id) {
            *backlog = f[i].backlog;
            *dead = f[i].dead;
        }
    free(f);
    return rc;
}

/* A failure as the page says it: the HTTP status when there was an
 * answer, and the error kept (English, as the delivery wrote it). */
static void failure(iz_page_t *p, long status, const char *error)
{
    if (status)
        iz_page_printf(p, "HTTP %ld", status);
    else
        iz_page_puts(p, "Yanıt yok");
    if (error[0]) iz_page_printf(p, "<br><span class=\"meta\">%s</span>", iz_page_esc(p->r, error));
}

static void show_webhook(iz_page_t *p, const iz_webhook_t *w)
{
    iz_req_t *r = p->r;
    iz_page_printf(p,
                   "<dl class=\"shown\"><dt>Adres</dt><dd><code>%s</code></dd>"
                   "<dt>Oluşturulma</dt><dd>%s</dd><dt>Son değişiklik</dt><dd>%s</dd>"
                   "<dt>Son teslim edilen değişiklik</dt><dd>%s</dd></dl>",
                   iz_page_esc(r, w->url), iz__panel_time(r, w->created_ms / 1000),
                   iz__panel_time(r, w->updated_ms / 1000),
                   w->cursor ? iz__panel_num(r, w->cursor) : "Henüz yok");
    if (!w->batch_last) {
        iz_page_msg(p, "ok", "Teslimatlar düzgün gidiyor: yeniden denenen bir gönderim yok.", NULL);
        return;
    }
    iz_page_msg(p, "err",
                "Alıcınız son gönderimi kabul etmedi; aynı gönderim artan aralıklarla yeniden "
                "deneniyor. Sonraki değişiklikler bu gönderim teslim edilince sırayla gider.",
                NULL);
    iz_page_printf(p,
                   "<div class=\"tbl\"><table><caption>Yeniden denenen gönderim</caption>"
                   "<tbody><tr><th scope=\"row\">Değişiklikler</th><td>%s – %s (%s adet)</td></tr>"
                   "<tr><th scope=\"row\">Deneme</th><td>%d</td></tr>"
                   "<tr><th scope=\"row\">İlk hata</th><td>%s</td></tr>"
                   "<tr><th scope=\"row\">Sonraki deneme</th><td>%s</td></tr>"
                   "<tr><th scope=\"row\">Son hata</th><td>",
                   iz__panel_num(r, w->batch_first), iz__panel_num(r, w->batch_last),
                   iz__panel_num(r, w->batch_count), w->attempts,
                   iz__panel_time(r, w->failing_since_ms / 1000),
                   iz__panel_time(r, w->next_ms / 1000));
    failure(p, w->last_status, w->last_error);
    iz_page_puts(p, "</td></tr></tbody></table></div>");
}

/* The first changes after the cursor: what delivery sends next. */
static void show_backlog(iz_page_t *p, iz_app_t *app, const iz_panel_sess_t *s,
                         const iz_webhook_t *w, int64_t backlog)
{
    iz_req_t *r = p->r;
    iz_page_puts(p, "<h2>Bekleyen değişiklikler</h2>");
    if (!w) {
        iz_page_puts(p, "<p>Webhook tanımlı olmadığı için değişiklikler gönderilmiyor; "
                        "<code>GET /v1/brands/{marka}/changes</code> ile okunabilirler.</p>");
        return;
    }
    if (backlog == 0) {
        iz_page_puts(p, "<p>Teslim edilmeyi bekleyen değişiklik yok.</p>");
        return;
    }
    iz_change_t *list = NULL;
    size_t n = 0;
    int rc = iz_store_changes(app->store, s->brand->id, w->cursor, BACKLOG_SHOWN, &list, &n);
    iz_page_printf(p, "<p>Henüz teslim edilmemiş <strong>%s</strong> değişiklik var%s.</p>",
                   iz__panel_num(r, backlog),
                   backlog > (int64_t)n && rc == 0 ? "; sıradaki ilkleri aşağıda" : "");
    if (rc != 0) {
        iz_page_msg(p, "err", "Bekleyen değişiklikler şu anda okunamadı.", NULL);
        return;
    }
    iz_page_puts(p, "<div class=\"tbl\"><table><thead><tr><th scope=\"col\">No</th>"
                    "<th scope=\"col\">Alıcı</th><th scope=\"col\">Kanal</th>"
                    "<th scope=\"col\">Durum</th><th scope=\"col\">Kayıt zamanı</th>"
                    "</tr></thead><tbody>");
    for (size_t i = 0; i < n; i++)
        iz_page_printf(p,
                       "<tr><td class=\"n\">%s</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%s</td></tr>",
                       iz__panel_num(r, list[i].id), iz_page_esc(r, list[i].recipient),
                       iz_type_name(list[i].type), iz_status_name(list[i].status),
                       iz__panel_time(r, list[i].creation_ms / 1000));
    iz_page_puts(p, "</tbody></table></div>");
    free(list);
}

static void show_dead(iz_page_t *p, iz_app_t *app, const iz_panel_sess_t *s, int64_t total)
{
    iz_req_t *r = p->r;
    iz_page_puts(p, "<h2 id=\"teslim-edilemeyen\">Teslim edilemeyen gönderimler</h2>"
                    "<p>Alıcının uzun süre kabul etmediği gönderimler burada saklanır, atılmaz. "
                    "“Yeniden gönder” aynı değişiklikleri webhook'un şimdiki adresine yeniden "
                    "gönderir; teslim edilince listeden çıkar.</p>");
    iz_webhook_dead_t *dl = NULL;
    size_t n = 0;
    int rc = iz_store_webhook_dead_list(app->store, s->brand->id, 0, DEAD_SHOWN, false, &dl, &n);
    if (rc != 0) {
        iz_page_msg(p, "err", "Teslim edilemeyen gönderimler şu anda okunamadı.", NULL);
        return;
    }
    if (n == 0) {
        iz_page_puts(p, "<p>Teslim edilemeyen gönderim yok.</p>");
        free(dl);
        return;
    }
    if (total > (int64_t)n)
        iz_page_printf(p, "<p class=\"meta\">Toplam %s; en eski %zu tanesi gösteriliyor.</p>",
                       iz__panel_num(r, total), n);
    /* What can be done first: on a phone the table scrolls sideways. */
    iz_page_puts(p, "<div class=\"tbl\"><table><thead><tr><th scope=\"col\">No</th>"
                    "<th scope=\"col\">Değişiklikler</th><th scope=\"col\">Adet</th>"
                    "<th scope=\"col\">Deneme</th><th scope=\"col\">Son hata</th>"
                    "<th scope=\"col\">Bırakılma</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const iz_webhook_dead_t *d = &dl[i];
        iz_page_printf(p, "<tr><td>%" PRId64, d->id);
        if (d->retry) {
            iz_page_puts(p, "<br><span class=\"meta\">Yeniden gönderim sırada</span>");
        } else {
            iz__panel_form(p, s, PATH "/retry", "rowact");
            iz_page_printf(p,
                           "<input type=\"hidden\" name=\"id\" value=\"%" PRId64 "\">"
                           "<button type=\"submit\">Yeniden gönder</button></form>",
                           d->id);
        }
        iz_page_printf(p, "</td><td>%s – %s</td><td class=\"n\">%s</td><td class=\"n\">%d</td><td>",
                       iz__panel_num(r, d->first_id), iz__panel_num(r, d->last_id),
                       iz__panel_num(r, d->count), d->attempts);
        failure(p, d->last_status, d->last_error);
        iz_page_printf(p, "</td><td>%s</td></tr>", iz__panel_time(r, d->dead_ms / 1000));
    }
    iz_page_puts(p, "</tbody></table></div>");
    free(dl);
}

/* The page with status; err, when set, above the set form. */
static void webhook_page(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, int status,
                         const set_err_t *err)
{
    iz_page_t p;
    if (!s->brand) {
        iz__panel_begin(&p, r, app, s, "Webhook", PATH);
        iz_page_puts(&p, "<h1>Webhook</h1><p>Bu hesabın henüz bir markası yok.</p>");
        iz__panel_end(&p, status);
        return;
    }
    iz_webhook_t *w = iz_req_alloc(r, sizeof *w);
    int rc = iz_store_webhook_get(app->store, s->brand->id, false, w);
    int64_t backlog = 0, dead = 0;
    if (rc == IZ_ENOTFOUND) {
        w = NULL;
        rc = 0;
    }
    if (rc == 0) rc = figures_of(app, s->brand->id, &backlog, &dead);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz__panel_begin(&p, r, app, s, "Webhook", PATH);
    iz_page_printf(&p,
                   "<h1>Webhook</h1><p><strong>%s</strong> markasının her izin değişikliği, "
                   "kaydedildiği sırayla webhook adresinize <code>POST</code> edilir: gövde "
                   "<code>{\"list\":[...], \"timestamp\": T}</code>, imza "
                   "<code>X-Izin-Signature: sha256=&lt;HMAC-SHA256&gt;</code> başlığında. "
                   "Kabul edilmeyen gönderim 5 saniye içinde, sonra 10 dakikaya kadar artan "
                   "aralıklarla yeniden denenir.</p>",
                   iz_page_esc(r, s->brand->name));
    if (!atomic_load(&app->hook))
        iz_page_msg(&p, "err", "Webhook gönderimi bu sunucuda çalışmıyor.", NULL);
    if (w)
        show_webhook(&p, w);
    else
        iz_page_puts(&p, "<p>Bu markanın webhook'u yok.</p>");
    iz_page_printf(&p, "<h2>%s</h2>", w ? "Webhook'u değiştir" : "Webhook tanımla");
    if (err) iz_page_msg(&p, "err", err->text, NULL);
    iz__panel_form(&p, s, PATH, "card");
    iz_page_printf(&p,
                   "<label for=\"url\">Adres</label><input id=\"url\" name=\"url\" type=\"url\" "
                   "required maxlength=\"%d\" placeholder=\"https://ornek.com.tr/izin-webhook\" "
                   "value=\"%s\"><label for=\"secret\">Gizli anahtar</label>"
                   "<input id=\"secret\" name=\"secret\" type=\"password\" required "
                   "autocomplete=\"new-password\" minlength=\"%d\" maxlength=\"%d\">"
                   "<p class=\"meta\">%d–%d karakter, boşluksuz. Gönderimleri bu anahtarla "
                   "imzalarız; izin onu şifreli saklar ve bir daha göstermez.%s</p>"
                   "<button type=\"submit\">Kaydet</button></form>",
                   IZ_HOOK_URL_MAX,
                   iz_page_esc(r, err && err->url ? err->url
                                  : w             ? w->url
                                                  : ""),
                   IZ_HOOK_SECRET_MIN, IZ_HOOK_SECRET_MAX, IZ_HOOK_SECRET_MIN, IZ_HOOK_SECRET_MAX,
                   w ? " Adresi değiştirmek teslim sırasını bozmaz." : "");
    if (w) {
        iz__panel_form(&p, s, PATH "/delete", "inline");
        iz_page_printf(&p,
                       "<input type=\"hidden\" name=\"id\" value=\"%" PRId64 "\">"
                       "<button type=\"submit\">Webhook'u kaldır</button></form>",
                       w->id);
    }
    show_backlog(&p, app, s, w, backlog);
    show_dead(&p, app, s, dead);
    iz__panel_end(&p, status);
}

void iz__pg_webhook(iz_req_t *r, void *vapp)
{
    iz_panel_sess_t s;
    if (iz__panel_auth(r, vapp, &s) != 0) return;
    webhook_page(r, vapp, &s, 200, NULL);
}

/* The engine, or NULL with a 503 page answered. */
static iz_hook_t *engine(iz_req_t *r, iz_app_t *app)
{
    iz_hook_t *h = atomic_load(&app->hook);
    if (!h)
        iz__panel_refuse(r, app, 503, "Webhook'lar çalışmıyor",
                         "Webhook gönderimi bu sunucuda çalışmıyor; hiçbir değişiklik yapılmadı.");
    return h;
}

/* The selected brand, or NULL with a 404 page answered (an account
 * without brands). */
static const iz_brand_t *brand_or_404(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s)
{
    if (!s->brand)
        iz__panel_refuse(r, app, 404, "Marka bulunamadı", "Bu hesabın henüz bir markası yok.");
    return s->brand;
}

/* The set form's setting, made on an outside-call worker: iz_hook_set
 * resolves the URL's host (DNS may hang), which must not hold a server
 * thread. s is the session (its pointers into the request's arena are
 * read only by the answer, while the request is alive). */
typedef struct set_call {
    iz_app_t *app;
    iz_hook_t *h;
    iz_panel_sess_t s;
    int64_t brand_id; /* the work's copy: it may outlive the request */
    char *url, *secret;
    int rc;
    bool created;
    const char *field, *why;
} set_call_t;

static void set_call_free(void *arg)
{
    set_call_t *c = arg;
    iz_wipe(c->secret, strlen(c->secret));
    free(c->secret);
    free(c->url);
    iz_wipe(c, sizeof *c);
    free(c);
}

static void set_call_work(iz_work_t *w, void *arg)
{
    (void)w;
    set_call_t *c = arg;
    c->rc = iz_hook_set(c->h, c->brand_id, c->url, c->secret, &c->created, &c->field, &c->why);
}

static void set_call_end(iz_req_t *r, void *arg, iz_defer_end_t how)
{
    set_call_t *c = arg;
    iz_app_t *app = c->app;
    if (how != IZ_DEFER_DONE) {
        iz__panel_refuse(r, app, 503, "Webhook kaydedilemedi",
                         how == IZ_DEFER_FULL
                             ? "Sunucu şu an çok meşgul. Biraz sonra yeniden deneyin."
                             : "Adresin adı zamanında çözümlenemedi. Biraz sonra yeniden deneyin.");
        return;
    }
    if (c->rc == IZ_EINVAL || c->rc == IZ_ETOOBIG) {
        const set_err_t e = {c->rc == IZ_ETOOBIG ? "Adres çok uzun." : iz_hook_why_tr(c->why),
                             c->url};
        webhook_page(r, app, &c->s, 422, &e);
        return;
    }
    if (c->rc != 0) {
        iz__panel_store_error(r, app, c->rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", c->created ? "webhook set" : "webhook replaced",
            "account=%lld user=%s brand=%lld", (long long)c->s.account.id, c->s.user.email,
            (long long)c->s.brand->code);
    iz__panel_redirect(r, app, &c->s, PATH,
                       c->created ? "Webhook tanımlandı: bundan sonraki değişiklikler gönderilecek."
                                  : "Webhook güncellendi.");
}

void iz__pg_webhook_set(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    if (iz__panel_post(r, app, &s, &f) != 0) return;
    const iz_brand_t *b = brand_or_404(r, app, &s);
    iz_hook_t *h = b ? engine(r, app) : NULL;
    if (!h) return;
    /* Bounded as PUT's checks bound them; an over-long field is refused
     * with the same reason, and never echoed. */
    const char *url = iz_form_value(&f, "url", IZ_HOOK_URL_MAX);
    const char *secret = iz_form_value(&f, "secret", IZ_HOOK_SECRET_MAX);
    const char *why = NULL;
    if (!url || !*url)
        why = iz_form_get(&f, "url") && *iz_form_get(&f, "url") ? "the URL is over 2048 bytes"
                                                                : "the URL is empty";
    else if (!secret)
        why = "the secret must be 16 to 256 bytes";
    if (why) {
        const set_err_t e = {iz_hook_why_tr(why), url};
        webhook_page(r, app, &s, 422, &e);
        return;
    }
    set_call_t *c = iz_xcalloc(1, sizeof *c);
    *c = (set_call_t){.app = app,
                      .h = h,
                      .s = s,
                      .brand_id = b->id,
                      .url = iz_xstrdup(url),
                      .secret = iz_xstrdup(secret)};
    iz_req_defer(r, set_call_work, set_call_end, set_call_free, c, IZ_HOOK_SET_WAIT_MS);
}

/* iz__panel_post_id, then the selected brand into *b: the id, or 0 when
 * the request has been answered. */
static int64_t post_id_brand(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s, iz_form_t *f,
                             const char *missing, const iz_brand_t **b)
{
    int64_t id = iz__panel_post_id(r, app, s, f, missing);
    if (id == 0) return 0;
    *b = brand_or_404(r, app, s);
    return *b ? id : 0;
}

void iz__pg_webhook_delete(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    const iz_brand_t *b;
    int64_t id = post_id_brand(r, app, &s, &f, "Kaldırılacak webhook belirtilmemiş.", &b);
    if (id == 0) return;
    /* The id names the webhook the page showed: one set anew since then
     * (or another brand's) is not removed by a stale form. */
    iz_webhook_t *w = iz_req_alloc(r, sizeof *w);
    int rc = iz_store_webhook_get(app->store, b->id, false, w);
    if (rc == 0 && w->id != id) rc = IZ_ENOTFOUND;
    if (rc == 0 && !iz__panel_confirmed(&f)) {
        char text[IZ_WEBHOOK_URL_MAX + 512];
        snprintf(text, sizeof text,
                 "%s adresine gönderim duracak; teslim edilmemiş değişiklikler bu adrese "
                 "gönderilmeyecek (değişiklik akışında durmaya devam eder). Teslim edilemeyen "
                 "gönderimler listede kalır. Yeniden tanımlanan webhook yalnızca o andan sonraki "
                 "değişiklikleri alır.",
                 w->url);
        const iz_panel_confirm_t c = {"Webhook'u kaldır", text, PATH,
                                      PATH "/delete",     id,   "Evet, webhook'u kaldır"};
        iz__panel_confirm(r, app, &s, &c);
        return;
    }
    if (rc == 0) rc = iz_store_webhook_delete(app->store, b->id);
    if (rc == IZ_ENOTFOUND) {
        iz__panel_refuse(r, app, 404, "Webhook bulunamadı", "Bu markanın böyle bir webhook'u yok.");
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "webhook deleted", "account=%lld user=%s brand=%lld",
            (long long)s.account.id, s.user.email, (long long)b->code);
    iz__panel_redirect(r, app, &s, PATH, "Webhook kaldırıldı.");
}

void iz__pg_webhook_retry(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    const iz_brand_t *b;
    int64_t id = post_id_brand(r, app, &s, &f, "Yeniden gönderilecek gönderim belirtilmemiş.", &b);
    iz_hook_t *h = id ? engine(r, app) : NULL;
    if (!h) return;
    int rc = iz_hook_retry(h, b->id, id);
    if (rc == IZ_ENOTFOUND) {
        iz__panel_refuse(r, app, 404, "Gönderim bulunamadı",
                         "Bu markanın böyle bir teslim edilemeyen gönderimi yok.");
        return;
    }
    if (rc == IZ_ERULE) {
        iz__panel_refuse(r, app, 409, "Webhook yok",
                         "Markanın gönderilecek bir webhook'u yok: önce webhook tanımlayın.");
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "webhook dead letter retried",
            "account=%lld user=%s brand=%lld id=%lld", (long long)s.account.id, s.user.email,
            (long long)b->code, (long long)id);
    iz__panel_redirect(r, app, &s, PATH,
                       "Yeniden gönderim sıraya alındı; teslim edilince listeden çıkar.");
}
