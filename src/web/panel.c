/*
 * panel.c - the panel's site, routes, session check and layout (what
 * panel_int.h promises every page).
 *
 * A session is a random 256-bit token in an HttpOnly cookie (SameSite=
 * Strict, Secure and __Host- over https: the kit's cookie); the store keeps
 * only its SHA-256, so a copy of the database opens no session. It ends
 * after 12 hours without use, 7 days after login at the latest, at logout,
 * when the password changes (the other sessions) and when the user is
 * deleted.
 */
#include "web/panel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/trtime.h"
#include "sys/log.h"
#include "web/panel_int.h"
#include "web/panel_ops.h"

#define CLIENTS 8192            /* addresses each limiter remembers */
#define IP_POSTS_PER_MINUTE 60  /* form posts a minute from one address */
#define IP_LOGINS_PER_WINDOW 30 /* login attempts a quarter hour from one address */
#define TOUCH_EVERY 60          /* seconds between writes of a session's last use */

static const iz_route_t routes[] = {
    {"GET", "/", iz__pg_root, 0, "panel_root"},
    {"GET", "/panel", iz__pg_dashboard, 0, "panel_dashboard"},
    {"GET", "/panel/recipients", iz__pg_recipients, 0, "panel_recipients"},
    {"POST", "/panel/recipients", iz__pg_recipients_post, 0, "panel_recipients_post"},
    {"GET", "/panel/iys", iz__pg_iys, 0, "panel_iys"},
    {"GET", "/panel/keys", iz__pg_keys, 0, "panel_keys"},
    {"POST", "/panel/keys/new", iz__pg_keys_new, 0, "panel_keys_new"},
    {"POST", "/panel/keys/revoke", iz__pg_keys_revoke, 0, "panel_keys_revoke"},
    {"GET", "/panel/users", iz__pg_users, 0, "panel_users"},
    {"POST", "/panel/users/new", iz__pg_users_new, 0, "panel_users_new"},
    {"POST", "/panel/users/delete", iz__pg_users_delete, 0, "panel_users_delete"},
    {"GET", "/panel/login", iz__pg_login, 0, "panel_login"},
    {"POST", "/panel/login", iz__pg_login_post, 0, "panel_login_post"},
    {"POST", "/panel/logout", iz__pg_logout, 0, "panel_logout"},
    {"GET", "/panel/password", iz__pg_password, 0, "panel_password"},
    {"POST", "/panel/password", iz__pg_password_post, 0, "panel_password_post"},
    {"GET", "/panel/bulk", iz__pg_bulk, 0, "panel_bulk"},
    {"POST", "/panel/bulk", iz__pg_bulk_post, IZ_ROUTE_STREAM, "panel_bulk_post"},
    {"GET", "/panel/bulk/{jobId}", iz__pg_bulk_job, 0, "panel_bulk_job"},
    {"GET", "/panel/bulk/{jobId}/errors.csv", iz__pg_bulk_errors, 0, "panel_bulk_errors"},
    {"GET", "/panel/check", iz__pg_check, 0, "panel_check"},
    {"POST", "/panel/check", iz__pg_check_post, IZ_ROUTE_STREAM, "panel_check_post"},
    {"GET", "/panel/check/{checkId}/{file}", iz__pg_check_file, 0, "panel_check_file"},
    {"GET", "/panel/sms", iz__pg_sms, 0, "panel_sms"},
    {"POST", "/panel/sms", iz__pg_sms_post, IZ_ROUTE_STREAM, "panel_sms_post"},
    {"GET", "/panel/sms/{sendId}", iz__pg_sms_send, 0, "panel_sms_send"},
    {"GET", "/panel/webhook", iz__pg_webhook, 0, "panel_webhook"},
    {"POST", "/panel/webhook", iz__pg_webhook_set, 0, "panel_webhook_set"},
    {"POST", "/panel/webhook/delete", iz__pg_webhook_delete, 0, "panel_webhook_delete"},
    {"POST", "/panel/webhook/retry", iz__pg_webhook_retry, 0, "panel_webhook_retry"},
    {"GET", "/panel/usage", iz__pg_usage, 0, "panel_usage"},
    {"GET", "/panel/voice", iz__pg_voice, 0, "panel_voice"},
    {"POST", "/panel/voice", iz__pg_voice_post, IZ_ROUTE_STREAM, "panel_voice_post"},
    {"GET", "/panel/voice/{campaignId}", iz__pg_voice_campaign, 0, "panel_voice_campaign"},
    {"GET", "/panel/voice/{campaignId}/numbers.csv", iz__pg_voice_numbers, 0,
     "panel_voice_numbers"},
    {"GET", "/panel/numbers", iz__pg_numbers, 0, "panel_numbers"},
    {"POST", "/panel/numbers", iz__pg_numbers_post, 0, "panel_numbers_post"},
    {"GET", "/panel/page", iz__pg_cpage, 0, "panel_page"},
    {"POST", "/panel/page", iz__pg_cpage_post, 0, "panel_page_post"},
};

const iz_route_t *iz_web_routes(size_t *n)
{
    *n = IZ_ARRAY_LEN(routes);
    return routes;
}

const iz_panel_nav_t iz__panel_nav[] = {
    {"/panel", "Gösterge paneli"},
    {"/panel/recipients", "Alıcı ara"},
    {"/panel/bulk", "Toplu yükleme"},
    {"/panel/iys", "İYS tarafı değişiklikler"},
    {"/panel/check", "Gönderim kontrolü"},
    {"/panel/sms", "SMS kampanyası"},
    {"/panel/voice", "Sesli kampanyalar"},
    {"/panel/numbers", "SMS numaraları ve anahtar kelimeler"},
    {"/panel/page", "İzin sayfası"},
    {"/panel/webhook", "Webhook"},
    {"/panel/keys", "API anahtarları"},
    {"/panel/users", "Kullanıcılar"},
    {"/panel/usage", "Kullanım ve plan"},
};
const size_t iz__panel_nav_n = IZ_ARRAY_LEN(iz__panel_nav);

/* The panel's additions to the kit's stylesheet: a wide main; the
 * navigation a sidebar on a desktop and a scrolling row at the top on a
 * phone; tables that scroll sideways in their own box rather than widen
 * the page at 360 px; bar charts drawn as inline SVG. */
static const char panel_css[] =
    "header p{max-width:80rem}main{max-width:80rem}footer{max-width:80rem}"
    ".top{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;"
    "justify-content:space-between;margin:0 0 .75rem}"
    ".top p{margin:0}.who{color:#4f5963;font-size:.92rem}"
    ".brandsel{display:flex;gap:.4rem;align-items:center;margin:0}"
    ".brandsel label{margin:0;font-weight:600}"
    ".brandsel select,.brandsel button{width:auto;margin:0;min-height:2.5rem}"
    ".side{margin:0 0 1rem}"
    ".side ul{list-style:none;margin:0;padding:0 0 .3rem;display:flex;gap:.3rem;"
    "overflow-x:auto}"
    ".side li{flex:none}"
    ".side a,.side span,.side button{display:block;white-space:nowrap;padding:.45rem .7rem;"
    "border-radius:.4rem;text-decoration:none;border:1px solid #d3d9df;background:#fff;"
    "color:#0d4a80;font-weight:400;margin:0;min-height:0;width:auto;font-size:.95rem;"
    "line-height:1.4}"
    ".side a[aria-current=page]{background:#0d4a80;border-color:#0d4a80;color:#fff;"
    "font-weight:600}"
    ".side span{color:#6b7580;background:transparent;border-style:dashed}"
    ".side span small{font-size:.75rem}"
    ".side form{margin:0}.side button:hover{background:#e8eef4}"
    ".content{min-width:0}"
    ".tbl{overflow-x:auto;margin:.5rem 0}"
    "table{border-collapse:collapse;width:100%;font-size:.92rem;background:#fff}"
    "caption{text-align:left;font-weight:600;padding:.3rem 0}"
    "th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #d3d9df;"
    "vertical-align:top}"
    "th{background:#eef2f6}"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:0 1rem}"
    ".stat{font-size:1.6rem;font-weight:700;margin:0}"
    ".chart{display:block;width:100%;height:auto;max-width:32rem}"
    ".ev{white-space:pre-wrap;word-break:break-all;font-size:.85rem;background:#fafbfc;"
    "border:1px solid #d3d9df;border-radius:.4rem;padding:.4rem .5rem;margin:0;min-width:16rem}"
    ".secret{display:inline-block;word-break:break-all;font-size:1.05rem;padding:.4rem .6rem;"
    "background:#fff8e1;border:1px solid #e0c060;border-radius:.4rem;user-select:all}"
    ".rowact{margin:.3rem 0 0}.rowact button{margin:0;padding:.25rem .7rem;min-height:0;"
    "width:auto;font-size:.85rem;white-space:nowrap}"
    ".shown dt{font-weight:600}.shown dd{margin:0 0 .6rem}"
    ".inline{display:inline}.inline button{margin:0;padding:.3rem .8rem;min-height:0}"
    "meter{display:inline-block;vertical-align:middle;width:100%;max-width:20rem;height:1.4rem}"
    "tr.mine td{background:#e8f1fa}"
    ".qr{display:block;width:11rem;height:11rem;max-width:100%;margin:.5rem 0;"
    "image-rendering:pixelated;background:#fff}"
    ".card h2:first-child,.card input[type=hidden]:first-child+h2{margin-top:0}"
    "table.wide{min-width:46rem}"
    "@media(min-width:56rem){.shell{display:grid;grid-template-columns:15rem minmax(0,1fr);"
    "gap:1.5rem;align-items:start}"
    ".side ul{display:block;overflow:visible;padding:0}.side li{margin:0 0 .3rem}"
    ".side a,.side span,.side button{white-space:normal;width:100%;text-align:left}}";

int iz_panel_new(bool https, iz_panel_t **out)
{
    iz_panel_t *pn = iz_xcalloc(1, sizeof *pn);
    const iz_page_site_cfg_t cfg = {
        .title = "izin",
        .subtitle = "İYS modülü",
        .footer = "izin · İleti Yönetim Sistemi (İYS) izin kayıtları",
        .home = "/panel",
        .home_label = "Panele dön",
        .css = panel_css,
        .https = https,
    };
    int rc = iz_page_site_init(&pn->site, &cfg);
    if (rc == 0) rc = iz_ratelimit_new(CLIENTS, IP_POSTS_PER_MINUTE, 60, &pn->ip_posts);
    if (rc == 0)
        rc = iz_ratelimit_new(CLIENTS, IP_LOGINS_PER_WINDOW, IZ_PANEL_LOCK_WINDOW, &pn->ip_logins);
    char pw[IZ_PW_GEN_LEN + 1];
    if (rc == 0) rc = iz_pw_generate(pw);
    if (rc == 0) rc = iz_pw_hash(pw, pn->dummy_hash);
    iz_wipe(pw, sizeof pw);
    if (rc != 0) {
        iz_ratelimit_free(pn->ip_posts);
        iz_ratelimit_free(pn->ip_logins);
        free(pn);
        return rc;
    }
    pthread_mutex_init(&pn->mu, NULL);
    pthread_cond_init(&pn->cv, NULL);
    *out = pn;
    return 0;
}

void iz_panel_free(iz_panel_t *pn)
{
    if (!pn) return;
    iz_ratelimit_free(pn->ip_posts);
    iz_ratelimit_free(pn->ip_logins);
    pthread_mutex_destroy(&pn->mu);
    pthread_cond_destroy(&pn->cv);
    free(pn);
}

/* ---- answers ------------------------------------------------------------------ */

/* The panel's site, or a 404 answered when the server runs without one. */
static const iz_page_site_t *site_of(iz_req_t *r, iz_app_t *app)
{
    iz_panel_t *pn = iz__panel_or_404(r, app);
    return pn ? &pn->site : NULL;
}

void iz__panel_refuse(iz_req_t *r, iz_app_t *app, int status, const char *title,
                      const char *message)
{
    const iz_page_site_t *site = site_of(r, app);
    if (site) iz_page_refuse(r, site, status, title, message);
}

void iz__panel_store_error(iz_req_t *r, iz_app_t *app, int rc)
{
    iz_logf(IZ_LOG_ERROR, "panel", "store failure", "path=%s error=%s", iz_req_path(r),
            iz_strerror(rc));
    iz__panel_refuse(r, app, 503, "Şu anda hizmet veremiyoruz",
                     "Veriler okunamadı. Lütfen birkaç dakika sonra tekrar deneyin.");
}

void iz__panel_redirect(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, const char *path,
                        const char *text)
{
    const iz_page_site_t *site = site_of(r, app);
    if (site) iz_page_see_other(r, site, s ? iz__panel_href(r, s, path) : path, text);
}

void iz__pg_root(iz_req_t *r, void *vapp)
{
    iz__panel_redirect(r, vapp, NULL, "/panel", "Panele gidin.");
}

/* ---- the session ---------------------------------------------------------------- */

/* 303 to the login page, the session cookie cleared. */
static void to_login(iz_req_t *r, iz_app_t *app)
{
    const iz_page_site_t *site = site_of(r, app);
    if (!site) return;
    if (iz_page_cookie(r, site, IZ_PANEL_COOKIE)) iz_page_cookie_clear(r, site, IZ_PANEL_COOKIE);
    iz_page_see_other(r, site, "/panel/login", "Giriş yapın.");
}

/* The selected brand of s from ?brand= (the first when absent); false when
 * the code is not one of the account's. */
static bool pick_brand(iz_req_t *r, iz_panel_sess_t *s)
{
    const char *q = iz_req_query(r, "brand");
    s->brand = s->nbrands ? &s->brands[0] : NULL;
    if (!q) return true;
    int64_t code;
    if (iz_parse_i64(q, 1, INT64_MAX, &code) != 0) return false;
    for (size_t i = 0; i < s->nbrands; i++)
        if (s->brands[i].code == code) {
            s->brand = &s->brands[i];
            return true;
        }
    return false;
}

int iz__panel_auth(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s)
{
    memset(s, 0, sizeof *s);
    iz_panel_t *pn = iz__panel_or_404(r, app);
    if (!pn) return -1;
    const char *tok = iz_page_cookie(r, &pn->site, IZ_PANEL_COOKIE);
    if (!tok || strlen(tok) != 64) {
        to_login(r, app);
        return -1;
    }
    iz_sha256_hex(tok, strlen(tok), s->hash);
    iz_session_t se;
    int64_t now = (int64_t)time(NULL);
    int rc = iz_store_session_get(app->store, s->hash, &se);
    if (rc == 0 &&
        (now - se.last_seen > IZ_PANEL_IDLE || now - se.created_at > IZ_PANEL_ABSOLUTE)) {
        iz_store_session_delete(app->store, s->hash);
        rc = IZ_ENOTFOUND;
    }
    if (rc == 0) rc = iz_store_user_get(app->store, se.user_id, &s->user);
    if (rc == 0) rc = iz_store_account_get(app->store, s->user.account_id, &s->account);
    iz_wipe(s->account.iys_password, sizeof s->account.iys_password);
    iz_brand_t *list = NULL;
    if (rc == 0) rc = iz_store_brands_of(app->store, s->account.id, &list, &s->nbrands);
    if (rc == IZ_ENOTFOUND) {
        to_login(r, app);
        return -1;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return -1;
    }
    s->brands = iz_req_alloc(r, (s->nbrands ? s->nbrands : 1) * sizeof *s->brands);
    if (s->nbrands) memcpy(s->brands, list, s->nbrands * sizeof *list);
    free(list);
    if (now - se.last_seen >= TOUCH_EVERY) iz_store_session_touch(app->store, s->hash, now);
    if (s->user.must_change && strcmp(iz_req_path(r), "/panel/password") != 0) {
        iz_page_see_other(r, &pn->site, "/panel/password", "Önce parolanızı değiştirin.");
        return -1;
    }
    if (!pick_brand(r, s)) {
        iz_page_refuse(r, &pn->site, 404, "Marka bulunamadı", "Bu hesapta böyle bir marka yok.");
        return -1;
    }
    return 0;
}

iz_panel_t *iz__panel_or_404(iz_req_t *r, iz_app_t *app)
{
    iz_panel_t *pn = iz__panel(app);
    if (!pn) iz_reply_error(r, "IZ404", NULL);
    return pn;
}

iz_panel_t *iz__panel_post_open(iz_req_t *r, iz_app_t *app, iz_form_t *form)
{
    iz_panel_t *pn = iz__panel_or_404(r, app);
    if (pn && iz_page_post_form(r, &pn->site, pn->ip_posts, form) != 0) return NULL;
    return pn;
}

int iz__panel_post(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s, iz_form_t *form)
{
    if (!iz__panel_post_open(r, app, form)) return -1;
    return iz__panel_auth(r, app, s);
}

/* ---- layout ---------------------------------------------------------------------- */

const char *iz__panel_href(iz_req_t *r, const iz_panel_sess_t *s, const char *path)
{
    if (!s || s->nbrands < 2 || !s->brand) return path;
    size_t n = strlen(path) + 32;
    char *out = iz_req_alloc(r, n);
    snprintf(out, n, "%s%cbrand=%lld", path, strchr(path, '?') ? '&' : '?',
             (long long)s->brand->code);
    return out;
}

void iz__panel_form(iz_page_t *p, const iz_panel_sess_t *s, const char *action, const char *cls)
{
    iz_page_form_post(p, cls, iz__panel_href(p->r, s, action));
}

/* True when the panel serves path with GET (a page that exists). */
static bool page_exists(const char *path)
{
    for (size_t i = 0; i < IZ_ARRAY_LEN(routes); i++)
        if (strcmp(routes[i].method, "GET") == 0 && strcmp(routes[i].pattern, path) == 0)
            return true;
    return false;
}

void iz__panel_begin(iz_page_t *p, iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s,
                     const char *title, const char *active)
{
    char full[256];
    snprintf(full, sizeof full, "%s · izin", title);
    iz_page_begin(p, &iz__panel(app)->site, r, full);
    iz_page_printf(p, "<div class=\"top\"><p><strong>%s</strong> <span class=\"who\">%s</span></p>",
                   iz_page_esc(r, s->account.name), iz_page_esc(r, s->user.email));
    if (s->nbrands > 1) {
        iz_page_printf(p,
                       "<form class=\"brandsel\" method=\"get\" action=\"%s\">"
                       "<label for=\"brand\">Marka</label><select id=\"brand\" name=\"brand\">",
                       iz_page_esc(r, iz_req_path(r)));
        for (size_t i = 0; i < s->nbrands; i++)
            iz_page_printf(p, "<option value=\"%lld\"%s>%s (%lld)</option>",
                           (long long)s->brands[i].code,
                           &s->brands[i] == s->brand ? " selected" : "",
                           iz_page_esc(r, s->brands[i].name), (long long)s->brands[i].code);
        iz_page_puts(p, "</select><button type=\"submit\">Seç</button></form>");
    } else if (s->brand) {
        iz_page_printf(p, "<p>Marka: <strong>%s</strong> (%lld)</p>",
                       iz_page_esc(r, s->brand->name), (long long)s->brand->code);
    }
    iz_page_puts(p, "</div><div class=\"shell\"><nav class=\"side\" aria-label=\"Panel\"><ul>");
    for (size_t i = 0; i < iz__panel_nav_n; i++) {
        const iz_panel_nav_t *n = &iz__panel_nav[i];
        if (!page_exists(n->path)) {
            iz_page_printf(p, "<li><span>%s <small>(yakında)</small></span></li>", n->label);
            continue;
        }
        bool on = active && strcmp(active, n->path) == 0;
        iz_page_printf(p, "<li><a href=\"%s\"%s>%s</a></li>",
                       iz_page_esc(r, iz__panel_href(r, s, n->path)),
                       on ? " aria-current=\"page\"" : "", n->label);
    }
    iz_page_puts(p, "<li>");
    iz_page_form_post(p, NULL, "/panel/logout");
    iz_page_puts(p, "<button type=\"submit\">Çıkış</button></form></li></ul></nav>"
                    "<div class=\"content\">");
}

void iz__panel_end(iz_page_t *p, int status)
{
    iz_page_puts(p, "</div></div>");
    iz_page_end(p, status);
}

void iz__panel_refresh(iz_page_t *p, int seconds)
{
    iz_page_printf(p, "<meta http-equiv=\"refresh\" content=\"%d\">", seconds);
}

const char *iz__panel_num(iz_req_t *r, int64_t n)
{
    char digits[24], out[32];
    bool neg = n < 0;
    snprintf(digits, sizeof digits, "%llu",
             neg ? (unsigned long long)(-(n + 1)) + 1 : (unsigned long long)n);
    size_t len = strlen(digits), o = 0;
    if (neg) out[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) out[o++] = '.';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return iz_req_strdup(r, out);
}

const char *iz__panel_time(iz_req_t *r, int64_t t)
{
    if (t <= 0) return "—";
    char f[IZ_DATETIME_LEN], out[24];
    iz_tr_format(t, f); /* "YYYY-MM-DD HH:MM:SS", Turkey's time */
    snprintf(out, sizeof out, "%.2s.%.2s.%.4s %.5s", f + 8, f + 5, f, f + 11);
    return iz_req_strdup(r, out);
}
