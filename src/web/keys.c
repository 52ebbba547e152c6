/*
 * keys.c - the panel's API keys page (/panel/keys): the account's keys by
 * id and display prefix, a new key made and shown once, a key revoked.
 *
 * A new key is made by the same store call as `izin key add`
 * (iz_store_key_create): only its SHA-256 and first 8 characters are
 * kept, so the page that answers the POST is the only place the key is
 * ever shown; it says so. A revocation names the key by its id with the
 * session's account (iz_store_key_revoke_id), so an id of another account
 * answers 404 as an unknown one; the API looks every request's key up, so
 * a revoked key is refused (401) from the next request on. Revoking takes
 * a confirmation step (iz__panel_confirm), the users page's deletion too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "sys/log.h"
#include "web/panel_int.h"

void iz__panel_confirm(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s,
                       const iz_panel_confirm_t *c)
{
    iz_page_t p;
    iz__panel_begin(&p, r, app, s, c->title, c->active);
    iz_page_printf(&p, "<h1>%s</h1>", iz_page_esc(r, c->title));
    iz_page_msg(&p, "err", c->text, NULL);
    iz__panel_form(&p, s, c->action, "card");
    iz_page_printf(&p,
                   "<input type=\"hidden\" name=\"id\" value=\"%" PRId64 "\">"
                   "<input type=\"hidden\" name=\"confirm\" value=\"1\">"
                   "<button type=\"submit\">%s</button>"
                   "<p><a href=\"%s\">Vazgeç</a></p></form>",
                   c->id, iz_page_esc(r, c->button),
                   iz_page_esc(r, iz__panel_href(r, s, c->active)));
    iz__panel_end(&p, 200);
}

int64_t iz__panel_post_id(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s, iz_form_t *f,
                          const char *missing)
{
    if (iz__panel_post(r, app, s, f) != 0) return 0;
    const char *v = iz_form_value(f, "id", 20);
    int64_t id;
    if (v && iz_parse_i64(v, 1, INT64_MAX, &id) == 0) return id;
    iz__panel_refuse(r, app, 400, "Geçersiz istek", missing);
    return 0;
}

/* True when the form says the user confirmed (iz__panel_confirm's field). */
bool iz__panel_confirmed(const iz_form_t *f)
{
    const char *v = iz_form_value(f, "confirm", 1);
    return v && strcmp(v, "1") == 0;
}

/* The answer for a key id the account has no live key of. */
static void no_such_key(iz_req_t *r, iz_app_t *app)
{
    iz__panel_refuse(r, app, 404, "Anahtar bulunamadı",
                     "Bu hesapta bu numarayla etkin bir API anahtarı yok.");
}

/* The account's keys into *keys (freed by the caller), or false with a
 * store failure answered. */
static bool keys_of(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, iz_key_info_t **keys,
                    size_t *n)
{
    int rc = iz_store_keys_list(app->store, s->account.id, keys, n);
    if (rc != 0) iz__panel_store_error(r, app, rc);
    return rc == 0;
}

void iz__pg_keys(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_key_info_t *keys = NULL;
    size_t n = 0;
    if (!keys_of(r, app, &s, &keys, &n)) return;
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "API anahtarları", "/panel/keys");
    iz_page_puts(&p, "<h1>API anahtarları</h1>"
                     "<p>Yazılımınız izin'in HTTP API'sine bu anahtarlarla bağlanır "
                     "(<code>Authorization: Bearer &lt;anahtar&gt;</code>). Bir anahtar hesabın "
                     "bütün markalarında geçerlidir. izin anahtarın kendisini saklamaz, yalnızca "
                     "özetini tutar: anahtar yalnızca oluşturulduğu anda bir kez gösterilir.</p>");
    iz__panel_form(&p, &s, "/panel/keys/new", NULL);
    iz_page_puts(&p, "<button type=\"submit\">Yeni anahtar oluştur</button></form>");
    if (n == 0) {
        iz_page_puts(&p, "<p>Bu hesabın henüz bir API anahtarı yok.</p>");
    } else {
        /* The key and what can be done with it first: on a phone the
         * table scrolls sideways and its first columns are what shows. */
        iz_page_puts(&p, "<div class=\"tbl\"><table><caption>Hesabın anahtarları (en yenisi "
                         "önce)</caption><thead><tr><th scope=\"col\">Anahtar</th>"
                         "<th scope=\"col\">Durum</th><th scope=\"col\">Oluşturulma</th>"
                         "</tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            const iz_key_info_t *k = &keys[i];
            iz_page_printf(&p,
                           "<tr><td><code>%s…</code> <span class=\"meta\">(No %" PRId64
                           ")</span></td><td>",
                           iz_page_esc(r, k->prefix), k->id);
            if (k->revoked_at) {
                iz_page_printf(&p, "İptal edildi (%s)", iz__panel_time(r, k->revoked_at));
            } else {
                iz_page_puts(&p, "Etkin");
                iz__panel_form(&p, &s, "/panel/keys/revoke", "rowact");
                iz_page_printf(&p,
                               "<input type=\"hidden\" name=\"id\" value=\"%" PRId64 "\">"
                               "<button type=\"submit\">İptal et</button></form>",
                               k->id);
            }
            iz_page_printf(&p, "</td><td>%s</td></tr>", iz__panel_time(r, k->created_at));
        }
        iz_page_puts(&p, "</tbody></table></div>");
    }
    free(keys);
    iz__panel_end(&p, 200);
}

void iz__pg_keys_new(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    if (iz__panel_post(r, app, &s, &f) != 0) return;
    char key[IZ_KEY_LEN + 1];
    int rc = iz_store_key_create(app->store, s.account.id, key);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "api key created", "account=%lld user=%s prefix=%.8s",
            (long long)s.account.id, s.user.email, key);
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Yeni API anahtarı", "/panel/keys");
    iz_page_puts(&p, "<h1>Yeni API anahtarı</h1>");
    iz_page_msg(&p, "ok",
                "Anahtar oluşturuldu. Bu anahtar yalnızca şimdi gösteriliyor ve bir daha "
                "gösterilmeyecek: hemen kopyalayıp güvenli bir yere kaydedin. Kaybederseniz "
                "yeni bir anahtar oluşturup bunu iptal edin.",
                NULL);
    iz_page_printf(&p,
                   "<p><code class=\"secret\" id=\"newkey\">%s</code></p>"
                   "<p>Kullanımı: <code>Authorization: Bearer &lt;anahtar&gt;</code> "
                   "başlığıyla.</p><p><a href=\"%s\">API anahtarlarına dön</a></p>",
                   iz_page_esc(r, key), iz_page_esc(r, iz__panel_href(r, &s, "/panel/keys")));
    iz_wipe(key, sizeof key);
    iz__panel_end(&p, 200);
}

void iz__pg_keys_revoke(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    int64_t id = iz__panel_post_id(r, app, &s, &f, "İptal edilecek anahtar belirtilmemiş.");
    if (id == 0) return;
    if (!iz__panel_confirmed(&f)) {
        /* Not yet: ask, naming the key, but only a live key of this account. */
        iz_key_info_t *keys = NULL;
        size_t n = 0;
        if (!keys_of(r, app, &s, &keys, &n)) return;
        const iz_key_info_t *k = NULL;
        for (size_t i = 0; i < n && !k; i++)
            if (keys[i].id == id && !keys[i].revoked_at) k = &keys[i];
        char text[256];
        if (k)
            snprintf(text, sizeof text,
                     "%" PRId64 " numaralı %s… anahtarı iptal edilecek. Bu anahtarı kullanan "
                     "yazılımlar hemen reddedilir (401); bu işlem geri alınamaz.",
                     k->id, k->prefix);
        free(keys);
        if (!k) {
            no_such_key(r, app);
            return;
        }
        const iz_panel_confirm_t c = {"Anahtarı iptal et",  text, "/panel/keys",
                                      "/panel/keys/revoke", id,   "Evet, anahtarı iptal et"};
        iz__panel_confirm(r, app, &s, &c);
        return;
    }
    int rc = iz_store_key_revoke_id(app->store, s.account.id, id);
    if (rc == IZ_ENOTFOUND) {
        no_such_key(r, app);
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "api key revoked", "account=%lld user=%s key=%lld",
            (long long)s.account.id, s.user.email, (long long)id);
    iz__panel_redirect(r, app, &s, "/panel/keys", "Anahtar iptal edildi.");
}
