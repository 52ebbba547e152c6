/*
 * users_page.c - the panel's users page (/panel/users): the account's
 * panel users, one added with a generated one-time password shown once
 * (the same iz_panel_user_add as `izin user add`; the user must change it
 * at the first login), one deleted after a confirmation step.
 *
 * Only the session's account's users are listed or deletable: the store's
 * delete takes the account, so another account's user id answers 404 as
 * an unknown one. Deleting a user ends their sessions in the same
 * transaction. A user cannot delete themself (the account would lose its
 * last way in when they are its only user; another user can do it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "sys/log.h"
#include "web/panel_int.h"

#define EMAIL_MAX 254 /* bytes of an e-mail address (iz_panel_email_ok) */

/* The users page with status and, when err is set, that refusal above the
 * form (email: what was typed, kept in the field). */
static void users_page(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, int status,
                       const char *err, const char *email)
{
    iz_user_t *users = NULL;
    size_t n = 0;
    int rc = iz_store_users_of(app->store, s->account.id, &users, &n);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_page_t p;
    iz__panel_begin(&p, r, app, s, "Kullanıcılar", "/panel/users");
    iz_page_puts(&p, "<h1>Kullanıcılar</h1><p>Bu hesabın panele giriş yapabilen kullanıcıları. "
                     "Yeni kullanıcıya tek kullanımlık bir parola verilir; ilk girişte kendi "
                     "parolasını belirler.</p>");
    if (err) iz_page_msg(&p, "err", err, NULL);
    iz__panel_form(&p, s, "/panel/users/new", "card");
    iz_page_printf(&p,
                   "<label for=\"email\">Yeni kullanıcının e-posta adresi</label>"
                   "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"off\" "
                   "required maxlength=\"%d\" value=\"%s\">"
                   "<button type=\"submit\">Kullanıcı ekle</button></form>",
                   EMAIL_MAX, iz_page_esc(r, email ? email : ""));
    /* The user and what can be done with them first: on a phone the
     * table scrolls sideways and its first columns are what shows. */
    iz_page_puts(&p, "<div class=\"tbl\"><table><caption>Hesabın kullanıcıları</caption><thead>"
                     "<tr><th scope=\"col\">E-posta</th><th scope=\"col\">Parola</th>"
                     "<th scope=\"col\">Son giriş</th><th scope=\"col\">Oluşturulma</th>"
                     "</tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const iz_user_t *u = &users[i];
        bool me = u->id == s->user.id;
        iz_page_printf(&p, "<tr><td>%s", iz_page_esc(r, u->email));
        if (me) {
            iz_page_puts(&p, " <strong>(siz)</strong>");
        } else {
            iz__panel_form(&p, s, "/panel/users/delete", "rowact");
            iz_page_printf(&p,
                           "<input type=\"hidden\" name=\"id\" value=\"%" PRId64 "\">"
                           "<button type=\"submit\">Sil</button></form>",
                           u->id);
        }
        iz_page_printf(&p, "</td><td>%s</td><td>%s</td><td>%s</td></tr>",
                       u->must_change ? "Değiştirmesi bekleniyor" : "Kendi parolası",
                       iz__panel_time(r, u->last_login), iz__panel_time(r, u->created_at));
    }
    iz_page_puts(&p, "</tbody></table></div>");
    free(users);
    iz__panel_end(&p, status);
}

void iz__pg_users(iz_req_t *r, void *vapp)
{
    iz_panel_sess_t s;
    if (iz__panel_auth(r, vapp, &s) != 0) return;
    users_page(r, vapp, &s, 200, NULL, NULL);
}

void iz__pg_users_new(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    if (iz__panel_post(r, app, &s, &f) != 0) return;
    const char *email = iz_form_value(&f, "email", EMAIL_MAX);
    if (!email || !iz_panel_email_ok(email)) {
        users_page(r, app, &s, 422,
                   "Geçerli bir e-posta adresi yazın (en çok 254 karakter, örneğin "
                   "ad@firma.com.tr).",
                   email);
        return;
    }
    char gen[IZ_PW_GEN_LEN + 1];
    iz_user_t u;
    int rc = iz_panel_user_add(app->store, s.account.id, email, NULL, gen, &u);
    if (rc == IZ_EEXIST) {
        users_page(r, app, &s, 409, "Bu e-posta adresiyle bir panel kullanıcısı zaten var.", email);
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "user added", "account=%lld by=%s email=%s",
            (long long)s.account.id, s.user.email, u.email);
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Yeni kullanıcı", "/panel/users");
    iz_page_puts(&p, "<h1>Yeni kullanıcı</h1>");
    iz_page_msg(&p, "ok",
                "Kullanıcı eklendi. Tek kullanımlık parolası yalnızca şimdi gösteriliyor ve bir "
                "daha gösterilmeyecek: kullanıcıya güvenli bir yoldan iletin. İlk girişte kendi "
                "parolasını belirlemesi istenecek.",
                NULL);
    iz_page_printf(&p,
                   "<dl class=\"shown\"><dt>E-posta</dt><dd>%s</dd><dt>Tek kullanımlık parola</dt>"
                   "<dd><code class=\"secret\" id=\"newpw\">%s</code></dd></dl>"
                   "<p><a href=\"%s\">Kullanıcılara dön</a></p>",
                   iz_page_esc(r, u.email), iz_page_esc(r, gen),
                   iz_page_esc(r, iz__panel_href(r, &s, "/panel/users")));
    iz_wipe(gen, sizeof gen);
    iz__panel_end(&p, 200);
}

void iz__pg_users_delete(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t f;
    int64_t id = iz__panel_post_id(r, app, &s, &f, "Silinecek kullanıcı belirtilmemiş.");
    if (id == 0) return;
    if (id == s.user.id) {
        iz__panel_refuse(r, app, 409, "Kendinizi silemezsiniz",
                         "Kendi kullanıcınızı silemezsiniz. Gerekirse hesabın başka bir "
                         "kullanıcısı sizi silebilir.");
        return;
    }
    iz_user_t u;
    int rc = iz_store_user_get(app->store, id, &u);
    if (rc == 0 && u.account_id != s.account.id) rc = IZ_ENOTFOUND;
    if (rc == 0 && !iz__panel_confirmed(&f)) {
        char text[IZ_EMAIL_MAX + 160];
        snprintf(text, sizeof text,
                 "%s kullanıcısı silinecek ve açık oturumları hemen kapanacak. Bu işlem geri "
                 "alınamaz.",
                 u.email);
        const iz_panel_confirm_t c = {"Kullanıcıyı sil",     text, "/panel/users",
                                      "/panel/users/delete", id,   "Evet, kullanıcıyı sil"};
        iz__panel_confirm(r, app, &s, &c);
        return;
    }
    if (rc == 0) rc = iz_store_user_delete(app->store, s.account.id, id);
    if (rc == IZ_ENOTFOUND) {
        iz__panel_refuse(r, app, 404, "Kullanıcı bulunamadı",
                         "Bu hesapta böyle bir kullanıcı yok.");
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "user deleted", "account=%lld by=%s email=%s",
            (long long)s.account.id, s.user.email, u.email);
    iz__panel_redirect(r, app, &s, "/panel/users", "Kullanıcı silindi.");
}
