/*
 * login.c - logging in and out of the panel, and changing the password
 * (forced after a generated one-time password).
 *
 * A failed login says the same for an unknown e-mail, a wrong password and
 * a locked e-mail ("e-posta ya da parola hatalı"): the page tells nobody
 * which e-mails have users. An unknown e-mail is checked against a dummy
 * hash, so it takes as long as a known one, and its failures count alike:
 * 5 failures of an e-mail within 15 minutes lock it for 15 minutes (the
 * page then shows the wait, for any e-mail). Besides, one address may try
 * 30 logins a quarter hour (net/ratelimit.h), and at most
 * IZ_PANEL_VERIFY_MAX argon2id checks run at once (each takes 64 MiB and
 * a tenth of a second): more wait for a slot, up to 10 s, then get a 503
 * page. Every login, failed or not, is logged with the e-mail and the
 * client's address, never the password.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "sys/log.h"
#include "web/panel_int.h"

#define IZ_PANEL_VERIFY_MAX 2 /* argon2id checks at once (the machine's cores, say) */
#define VERIFY_WAIT 10        /* seconds a login waits for a free check */

int64_t iz__panel_locked_until(const int64_t *times, size_t n, int64_t now)
{
    if (n < IZ_PANEL_LOCK_FAILS) return 0;
    int64_t newest = times[0], oldest = times[IZ_PANEL_LOCK_FAILS - 1];
    if (newest - oldest > IZ_PANEL_LOCK_WINDOW) return 0;
    int64_t until = newest + IZ_PANEL_LOCK_TIME;
    return until > now ? until : 0;
}

int iz__panel_lock_of(iz_app_t *app, const char *email, int64_t now, int64_t *until)
{
    int64_t times[IZ_PANEL_LOCK_FAILS];
    size_t nt = 0;
    *until = 0;
    int rc = iz_store_login_fails(app->store, email, times, IZ_PANEL_LOCK_FAILS, &nt);
    if (rc == 0) *until = iz__panel_locked_until(times, nt, now);
    return rc;
}

int iz__panel_verify(iz_panel_t *pn, const iz_user_t *user, const char *password)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += VERIFY_WAIT;
    pthread_mutex_lock(&pn->mu);
    int wrc = 0;
    while (pn->verifying >= IZ_PANEL_VERIFY_MAX && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&pn->cv, &pn->mu, &dl);
    bool got = pn->verifying < IZ_PANEL_VERIFY_MAX;
    if (got) pn->verifying++;
    pthread_mutex_unlock(&pn->mu);
    if (!got) return IZ_EBUSY;
    bool ok = iz_pw_verify(user ? user->pwhash : pn->dummy_hash, password);
    pthread_mutex_lock(&pn->mu);
    pn->verifying--;
    pthread_cond_signal(&pn->cv);
    pthread_mutex_unlock(&pn->mu);
    return user && ok ? 1 : 0;
}

/* The login form, with an error (plain text) above it when not NULL. */
static void login_page(iz_req_t *r, iz_panel_t *pn, int status, const char *err, const char *email)
{
    iz_page_t p;
    iz_page_begin(&p, &pn->site, r, "Giriş · izin");
    iz_page_puts(&p, "<h1>Panele giriş</h1>");
    if (err) iz_page_msg(&p, "err", err, NULL);
    iz_page_form_post(&p, "card", "/panel/login");
    iz_page_printf(&p,
                   "<label for=\"email\">E-posta adresi</label>"
                   "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" "
                   "required maxlength=\"254\" value=\"%s\">"
                   "<label for=\"password\">Parola</label>"
                   "<input id=\"password\" name=\"password\" type=\"password\" "
                   "autocomplete=\"current-password\" required maxlength=\"256\">"
                   "<button type=\"submit\">Giriş yap</button></form>"
                   "<p class=\"meta\">Hesabınız yoksa yöneticinizden bir kullanıcı isteyin "
                   "(<code>izin user add</code>).</p>",
                   iz_page_esc(r, email ? email : ""));
    iz_page_end(&p, status);
}

void iz__pg_login(iz_req_t *r, void *vapp)
{
    iz_panel_t *pn = iz__panel_or_404(r, vapp);
    if (pn) login_page(r, pn, 200, NULL, NULL);
}

static const char bad_login[] = "Giriş yapılamadı: e-posta adresi ya da parola hatalı.";

/* A refused login: the same page for every cause; wait (seconds, 0: none)
 * is shown when the e-mail is locked. */
static void refuse_login(iz_req_t *r, iz_panel_t *pn, const char *email, int64_t wait)
{
    if (wait <= 0) {
        login_page(r, pn, 401, bad_login, email);
        return;
    }
    char msg[320], ra[24];
    int64_t minutes = (wait + 59) / 60;
    snprintf(msg, sizeof msg,
             "%s Bu e-posta adresiyle çok sayıda başarısız giriş denendi; %lld dakika sonra "
             "tekrar deneyin.",
             bad_login, (long long)minutes);
    snprintf(ra, sizeof ra, "%lld", (long long)wait);
    iz_reply_header(r, "Retry-After", ra);
    login_page(r, pn, 429, msg, email);
}

/* A new session for user: a random token in the cookie, its hash in the
 * store; the request's old session (a cookie it still had) ends, so a
 * session planted before the login is never the one that logs in. */
static int start_session(iz_req_t *r, iz_app_t *app, iz_panel_t *pn, const iz_user_t *u,
                         int64_t now)
{
    const char *old = iz_page_cookie(r, &pn->site, IZ_PANEL_COOKIE);
    if (old) {
        char oh[IZ_SHA256_HEX];
        iz_sha256_hex(old, strlen(old), oh);
        iz_store_session_delete(app->store, oh);
    }
    uint8_t raw[32];
    char tok[65], hash[IZ_SHA256_HEX];
    if (iz_random(raw, sizeof raw) != 0) return IZ_EIO;
    iz_hex(raw, sizeof raw, tok);
    iz_wipe(raw, sizeof raw);
    iz_sha256_hex(tok, 64, hash);
    iz_store_sessions_expire(app->store, now - IZ_PANEL_IDLE, now - IZ_PANEL_ABSOLUTE, NULL);
    int rc = iz_store_session_add(app->store, hash, u->id, now);
    if (rc == 0) rc = iz_page_cookie_set(r, &pn->site, IZ_PANEL_COOKIE, tok, 0);
    iz_wipe(tok, sizeof tok);
    return rc;
}

void iz__pg_login_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_form_t form;
    iz_panel_t *pn = iz__panel_post_open(r, app, &form);
    if (!pn) return;
    if (iz_page_limit(r, &pn->site, pn->ip_logins)) {
        iz_logf(IZ_LOG_WARN, "panel", "login refused: address over its limit", "ip=%s",
                iz_req_remote(r));
        return;
    }
    const char *email = iz_form_value(&form, "email", IZ_EMAIL_MAX - 1);
    const char *password = iz_form_value(&form, "password", IZ_PW_MAX);
    if (!email || !*email || !password || !*password) {
        login_page(r, pn, 422, "E-posta adresinizi ve parolanızı yazın.", email ? email : "");
        return;
    }
    int64_t now = (int64_t)time(NULL), until;
    int rc = iz__panel_lock_of(app, email, now, &until);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    if (until) {
        iz_logf(IZ_LOG_WARN, "panel", "login refused: e-mail locked", "email=%s ip=%s until=%lld",
                email, iz_req_remote(r), (long long)until);
        refuse_login(r, pn, email, until - now);
        return;
    }
    iz_user_t u;
    rc = iz_store_user_by_email(app->store, email, &u);
    if (rc != 0 && rc != IZ_ENOTFOUND) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    int ok = iz__panel_verify(pn, rc == 0 ? &u : NULL, password);
    if (ok == IZ_EBUSY) {
        iz_logf(IZ_LOG_WARN, "panel", "login refused: every password check busy", "ip=%s",
                iz_req_remote(r));
        iz_reply_header(r, "Retry-After", "5");
        iz_page_refuse(r, &pn->site, 503, "Sunucu yoğun",
                       "Şu anda çok sayıda giriş deneniyor. Lütfen birkaç saniye sonra tekrar "
                       "deneyin.");
        return;
    }
    if (ok != 1) {
        iz_logf(IZ_LOG_WARN, "panel", "login failed", "email=%s ip=%s reason=%s", email,
                iz_req_remote(r), rc == 0 ? "password" : "unknown-email");
        int frc = iz_store_login_fail_add(app->store, email, now);
        if (frc != 0) {
            iz__panel_store_error(r, app, frc);
            return;
        }
        /* This failure may be the one that locks the e-mail: say so now. */
        if (iz__panel_lock_of(app, email, now, &until) != 0) until = 0;
        refuse_login(r, pn, email, until ? until - now : 0);
        return;
    }
    if (iz_pw_needs_rehash(u.pwhash)) {
        /* Made with older limits: the password is at hand only now. A
         * failure keeps the old hash, which still verifies. (The store's
         * call ends the user's other sessions: once, at the upgrade.) */
        char hash[IZ_PW_HASH_MAX];
        if (iz_pw_hash(password, hash) == 0 &&
            iz_store_user_password_set(app->store, u.id, hash, u.must_change, NULL) == 0)
            iz_logf(IZ_LOG_INFO, "panel", "password hash renewed", "email=%s", u.email);
    }
    rc = start_session(r, app, pn, &u, now);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "login", "email=%s user=%lld account=%lld ip=%s", u.email,
            (long long)u.id, (long long)u.account_id, iz_req_remote(r));
    iz_page_see_other(r, &pn->site, u.must_change ? "/panel/password" : "/panel", "Giriş yapıldı.");
}

void iz__pg_logout(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_form_t form;
    iz_panel_t *pn = iz__panel_post_open(r, app, &form);
    if (!pn) return;
    const char *tok = iz_page_cookie(r, &pn->site, IZ_PANEL_COOKIE);
    if (tok) {
        char hash[IZ_SHA256_HEX];
        iz_sha256_hex(tok, strlen(tok), hash);
        iz_store_session_delete(app->store, hash);
        iz_page_cookie_clear(r, &pn->site, IZ_PANEL_COOKIE);
        iz_logf(IZ_LOG_INFO, "panel", "logout", "ip=%s", iz_req_remote(r));
    }
    iz_page_see_other(r, &pn->site, "/panel/login", "Çıkış yapıldı.");
}

/* ---- the password -------------------------------------------------------------- */

static void password_page(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, int status,
                          const char *err)
{
    iz_page_t p;
    iz__panel_begin(&p, r, app, s, "Parola değiştir", NULL);
    iz_page_puts(&p, "<h1>Parolanızı değiştirin</h1>");
    if (s->user.must_change)
        iz_page_msg(&p, "ok",
                    "Size verilen tek kullanımlık parolayı şimdi kendi parolanızla "
                    "değiştirmeniz gerekiyor; panelin diğer sayfaları bundan sonra açılır.",
                    NULL);
    if (err) iz_page_msg(&p, "err", err, NULL);
    iz__panel_form(&p, s, "/panel/password", "card");
    iz_page_printf(&p,
                   "<label for=\"current\">Şu anki parola</label>"
                   "<input id=\"current\" name=\"current\" type=\"password\" "
                   "autocomplete=\"current-password\" required maxlength=\"256\">"
                   "<label for=\"new\">Yeni parola</label>"
                   "<input id=\"new\" name=\"new\" type=\"password\" autocomplete=\"new-password\" "
                   "required minlength=\"%d\" maxlength=\"256\" aria-describedby=\"new-hint\">"
                   "<p class=\"meta\" id=\"new-hint\">En az %d karakter.</p>"
                   "<label for=\"new2\">Yeni parola (tekrar)</label>"
                   "<input id=\"new2\" name=\"new2\" type=\"password\" "
                   "autocomplete=\"new-password\" required minlength=\"%d\" maxlength=\"256\">"
                   "<button type=\"submit\">Parolayı değiştir</button></form>",
                   IZ_PW_MIN, IZ_PW_MIN, IZ_PW_MIN);
    iz__panel_end(&p, status);
}

void iz__pg_password(iz_req_t *r, void *vapp)
{
    iz_panel_sess_t s;
    if (iz__panel_auth(r, vapp, &s) != 0) return;
    password_page(r, vapp, &s, 200, NULL);
}

void iz__pg_password_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_form_t form;
    if (iz__panel_post(r, app, &s, &form) != 0) return;
    const char *cur = iz_form_value(&form, "current", IZ_PW_MAX);
    const char *nw = iz_form_value(&form, "new", IZ_PW_MAX);
    const char *nw2 = iz_form_value(&form, "new2", IZ_PW_MAX);
    if (!cur || !nw || !nw2) {
        password_page(r, app, &s, 422, "Üç alanı da doldurun (parola en çok 256 bayt olabilir).");
        return;
    }
    if (strcmp(nw, nw2) != 0) {
        password_page(r, app, &s, 422, "Yeni parola ile tekrarı aynı değil.");
        return;
    }
    if (iz__panel_pw_check(nw) != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "Yeni parola en az %d karakter olmalı.", IZ_PW_MIN);
        password_page(r, app, &s, 422, msg);
        return;
    }
    if (strcmp(nw, cur) == 0) {
        password_page(r, app, &s, 422, "Yeni parola şu ankinden farklı olmalı.");
        return;
    }
    /* The current password is guessed here as on the login page (by
     * whoever holds the session: a browser left open): its failures count
     * towards the same lock of the e-mail, and a locked e-mail's check is
     * refused whatever it carries. */
    int64_t now = (int64_t)time(NULL), until;
    int rc = iz__panel_lock_of(app, s.user.email, now, &until);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    int ok = until ? 0 : iz__panel_verify(iz__panel(app), &s.user, cur);
    if (ok == 0 && !until) {
        rc = iz_store_login_fail_add(app->store, s.user.email, now);
        if (rc == 0) rc = iz__panel_lock_of(app, s.user.email, now, &until);
        if (rc != 0) {
            iz__panel_store_error(r, app, rc);
            return;
        }
    }
    if (ok != 1) {
        iz_logf(IZ_LOG_WARN, "panel", "password change refused: current password wrong",
                "email=%s ip=%s locked=%s", s.user.email, iz_req_remote(r), until ? "yes" : "no");
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Şu anki parola yanlış. Çok sayıda yanlış parola denendi; %lld dakika sonra "
                 "tekrar deneyin.",
                 (long long)((until - now + 59) / 60));
        password_page(r, app, &s,
                      ok == IZ_EBUSY ? 503
                      : until        ? 429
                                     : 422,
                      ok == IZ_EBUSY ? "Sunucu yoğun; birkaç saniye sonra tekrar deneyin."
                      : until        ? msg
                                     : "Şu anki parola yanlış.");
        return;
    }
    char hash[IZ_PW_HASH_MAX];
    rc = iz_pw_hash(nw, hash);
    if (rc == 0) rc = iz_store_user_password_set(app->store, s.user.id, hash, false, s.hash);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "password changed", "email=%s ip=%s", s.user.email,
            iz_req_remote(r));
    iz__panel_redirect(r, app, &s, "/panel", "Parolanız değiştirildi.");
}
