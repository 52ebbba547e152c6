/*
 * panel_int.h - what every panel page shares; not for other layers.
 *
 * How to add a page (for example /panel/bulk):
 *
 *   1. Write its handlers in a file of its own (src/web/bulk.c):
 *
 *        void iz__pg_bulk(iz_req_t *r, void *vapp)
 *        {
 *            iz_app_t *app = vapp;
 *            iz_panel_sess_t s;
 *            if (iz__panel_auth(r, app, &s) != 0) return;      // answered: 303 to login
 *            iz_page_t p;
 *            iz__panel_begin(&p, r, app, &s, "Toplu yükleme", "/panel/bulk");
 *            iz_page_printf(&p, "<h1>Toplu yükleme</h1><p>%s</p>",
 *                           iz_page_esc(r, s.brand ? s.brand->name : ""));
 *            iz__panel_form(&p, &s, "/panel/bulk", NULL);    // <form> + CSRF field
 *            iz_page_puts(&p, "...<button type=\"submit\">Yükle</button></form>");
 *            iz__panel_end(&p, 200);
 *        }
 *
 *        void iz__pg_bulk_post(iz_req_t *r, void *vapp)
 *        {
 *            iz_form_t f;
 *            iz_panel_sess_t s;
 *            if (iz__panel_post(r, vapp, &s, &f) != 0) return;  // CSRF, limits, session
 *            ... do it, then iz__panel_redirect(r, vapp, &s, "/panel/bulk", "Yüklendi.");
 *        }
 *
 *   2. Declare them below and add their rows to the route table in
 *      web/panel.c (routes[]). The navigation (iz__panel_nav) already
 *      names every page; a page whose GET route exists becomes a link by
 *      itself, the others are shown as "yakında" (to come).
 *
 * The session a page gets (iz_panel_sess_t) is scoped to one account: its
 * brands only. The selected brand comes from ?brand=CODE (kept by
 * iz__panel_href and iz__panel_form on every link and form): a code that is
 * not the account's answers 404, as the API does for another account's
 * brand. Every value written into a page goes through iz_page_esc (or the
 * kit's calls that escape); pages carry no script (the kit's CSP allows
 * none): a live page reloads itself with <meta http-equiv="refresh">,
 * written with iz__panel_refresh before the content.
 */
#ifndef IZ_WEB_PANEL_INT_H
#define IZ_WEB_PANEL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "net/form.h"
#include "net/page.h"
#include "net/ratelimit.h"
#include "store/store.h"
#include "sys/crypto.h"
#include "web/panel.h"

#define IZ_PANEL_IDLE (12 * 3600)      /* seconds a session lives without use */
#define IZ_PANEL_ABSOLUTE (7 * 86400)  /* seconds a session lives at most */
#define IZ_PANEL_LOCK_FAILS 5          /* failed logins of an e-mail that lock it... */
#define IZ_PANEL_LOCK_WINDOW (15 * 60) /* ...when they fall within this many seconds */
#define IZ_PANEL_LOCK_TIME (15 * 60)   /* seconds the e-mail then stays locked */
#define IZ_PANEL_COOKIE "izin_session" /* the session cookie (__Host- over https) */

struct iz_panel {
    iz_page_site_t site;
    iz_ratelimit_t *ip_posts;  /* form POSTs a minute from one address */
    iz_ratelimit_t *ip_logins; /* login attempts a quarter hour from one address */
    /* argon2id verifications running now, at most IZ_PANEL_VERIFY_MAX: each
     * takes 64 MiB and a tenth of a second of a core */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int verifying;
    /* A hash of a random password that an unknown e-mail is checked
     * against, so that it takes as long as a known one. */
    char dummy_hash[IZ_PW_HASH_MAX];
};

/* A logged-in request: the user, their account and its brands. */
typedef struct iz_panel_sess {
    iz_user_t user;
    iz_account_t account; /* iys_password wiped */
    iz_brand_t *brands;   /* the account's brands by code, in r's arena */
    size_t nbrands;
    const iz_brand_t *brand;  /* ?brand=CODE, else the first; NULL when there is none */
    char hash[IZ_SHA256_HEX]; /* the session's token hash */
} iz_panel_sess_t;

/* One entry of the navigation. */
typedef struct iz_panel_nav {
    const char *path;  /* "/panel/recipients" */
    const char *label; /* "Alıcı ara" */
} iz_panel_nav_t;

/* Every page of the panel in the navigation's order (Çıkış, a POST, comes
 * after them). */
extern const iz_panel_nav_t iz__panel_nav[];
extern const size_t iz__panel_nav_n;

/* The panel of app (app->panel); NULL when the server runs without one. */
static inline iz_panel_t *iz__panel(iz_app_t *app)
{
    return app->panel;
}

/* The panel of app, or NULL with a 404 answered. */
iz_panel_t *iz__panel_or_404(iz_req_t *r, iz_app_t *app);

/* The checks of a POST that needs no session (login, logout): the per-IP
 * limit and the kit's form checks (CSRF). The panel, or NULL when the
 * request has been answered. */
iz_panel_t *iz__panel_post_open(iz_req_t *r, iz_app_t *app, iz_form_t *form);

/* The session of the request's cookie: 0 with *s filled (the user, the
 * account, its brands, the selected brand), or non-zero when the request
 * has been answered: 303 to /panel/login without a valid session (none,
 * unknown, idle over 12 h, older than 7 days, its user deleted), 303 to
 * /panel/password while the user must change a generated password (except
 * on that page), 404 for a ?brand= the account does not have, 503 for a
 * store failure. Marks the session seen (at most once a minute). */
int iz__panel_auth(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s);

/* The checks of a logged-in page's POST, in order: the per-IP limit, a
 * urlencoded body with the kit's CSRF token (403 page otherwise), then
 * iz__panel_auth. 0 with form and *s filled, or non-zero when answered. */
int iz__panel_post(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s, iz_form_t *form);

/* Start a page of the panel: the kit's page (title, then " · izin"), the
 * top bar (the account's name, the user's e-mail, a brand selector when
 * the account has several brands), the navigation with active (a path of
 * iz__panel_nav, or NULL) marked, and the opening of the content. Write
 * the content, then iz__panel_end. */
void iz__panel_begin(iz_page_t *p, iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s,
                     const char *title, const char *active);

/* Close the content and the layout and answer with status. */
void iz__panel_end(iz_page_t *p, int status);

/* A <meta http-equiv="refresh"> of seconds, for a live page: call it
 * right after iz__panel_begin (browsers honour it in the body too). */
void iz__panel_refresh(iz_page_t *p, int seconds);

/* path (a path of the panel, it may have a query) with the selected brand
 * kept: "?brand=CODE" or "&brand=CODE" appended when the account has more
 * than one brand; in r's arena, not escaped (pass it through iz_page_esc
 * when writing it into an attribute). */
const char *iz__panel_href(iz_req_t *r, const iz_panel_sess_t *s, const char *path);

/* Open a POST form to action (iz__panel_href'ed) with the CSRF field; cls
 * may be NULL. The caller writes the fields and "</form>". */
void iz__panel_form(iz_page_t *p, const iz_panel_sess_t *s, const char *action, const char *cls);

/* 303 to path (iz__panel_href'ed) after a POST; text (plain) on the short
 * page that links there. */
void iz__panel_redirect(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, const char *path,
                        const char *text);

/* A refusal page of the panel's site (status, plain title and message). */
void iz__panel_refuse(iz_req_t *r, iz_app_t *app, int status, const char *title,
                      const char *message);

/* Answer a store failure with a 503 page (logged). */
void iz__panel_store_error(iz_req_t *r, iz_app_t *app, int rc);

/* A number with thousands separated as Turkish writes them (1.234.567),
 * in r's arena. */
const char *iz__panel_num(iz_req_t *r, int64_t n);

/* An amount in kuruş as Turkish money: "1.800,00 TL", in r's arena.
 * (panel_usage.c) */
const char *iz__panel_money(iz_req_t *r, int64_t kurus);

/* A time (epoch seconds) as Turkey's local "DD.MM.YYYY HH:MM", in r's
 * arena; "—" for 0. */
const char *iz__panel_time(iz_req_t *r, int64_t t);

/* A source in Turkish words ("Vatandaş, İYS çağrı merkezi (3338)"), for
 * the pages that list changes. (recipients.c) */
const char *iz__panel_source_tr(iz_source_t s);

/* A confirmation step before a POST that cannot be undone (keys.c): the
 * page asks, and its form posts id and confirm=1 to action. */
typedef struct iz_panel_confirm {
    const char *title;  /* plain: the page's title and heading */
    const char *text;   /* plain: what will happen */
    const char *active; /* the page of the navigation, and where "Vazgeç" leads */
    const char *action; /* the POST's path */
    int64_t id;         /* the form's id field */
    const char *button; /* plain: the button's label */
} iz_panel_confirm_t;
void iz__panel_confirm(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s,
                       const iz_panel_confirm_t *c);

/* iz__panel_post, then the form's "id" field as a positive id: the id, or
 * 0 when the request has been answered (a 400 page saying missing, plain,
 * for an absent or malformed id). (keys.c) */
int64_t iz__panel_post_id(iz_req_t *r, iz_app_t *app, iz_panel_sess_t *s, iz_form_t *f,
                          const char *missing);

/* True when the form carries confirm=1 (what iz__panel_confirm's form
 * sends). (keys.c) */
bool iz__panel_confirmed(const iz_form_t *f);

/* ---- login (login.c) ------------------------------------------------------- */

/* When the e-mail whose newest failed logins are times[0..n) (newest
 * first) is locked: the epoch second the lock ends, or 0 when it is not
 * locked at now. Locked: IZ_PANEL_LOCK_FAILS failures within
 * IZ_PANEL_LOCK_WINDOW seconds, for IZ_PANEL_LOCK_TIME seconds after the
 * last of them (a locked e-mail's attempts are not counted, so the lock
 * ends on time). Pure. */
int64_t iz__panel_locked_until(const int64_t *times, size_t n, int64_t now);

/* When email is locked at now (iz__panel_locked_until over its stored
 * failures) into *until (0: not locked): 0, or the store's error. */
int iz__panel_lock_of(iz_app_t *app, const char *email, int64_t now, int64_t *until);

/* Check a password against a user's hash (or the dummy hash when user is
 * NULL, which is never right), waiting for a free verification slot:
 * 1 right, 0 wrong, IZ_EBUSY when no slot came free within 10 s. */
int iz__panel_verify(iz_panel_t *pn, const iz_user_t *user, const char *password);

/* 0 when pw may be a chosen password: IZ_ERULE under IZ_PW_MIN characters,
 * IZ_ETOOBIG over IZ_PW_MAX bytes. (users.c) */
int iz__panel_pw_check(const char *pw);

/* ---- the handlers, by file (the route table is in panel.c) -------------------- */

void iz__pg_root(iz_req_t *r, void *app);          /* panel.c: GET / */
void iz__pg_login(iz_req_t *r, void *app);         /* login.c */
void iz__pg_login_post(iz_req_t *r, void *app);    /* login.c */
void iz__pg_logout(iz_req_t *r, void *app);        /* login.c */
void iz__pg_password(iz_req_t *r, void *app);      /* login.c */
void iz__pg_password_post(iz_req_t *r, void *app); /* login.c */
void iz__pg_dashboard(iz_req_t *r, void *app);     /* dash.c */
void iz__pg_recipients(iz_req_t *r, void *app);    /* recipients.c */
void iz__pg_recipients_post(iz_req_t *r, void *app); /* recipients.c: a change from the panel */
void iz__pg_iys(iz_req_t *r, void *app);           /* recipients.c */
void iz__pg_keys(iz_req_t *r, void *app);          /* keys.c */
void iz__pg_keys_new(iz_req_t *r, void *app);      /* keys.c */
void iz__pg_keys_revoke(iz_req_t *r, void *app);   /* keys.c */
void iz__pg_users(iz_req_t *r, void *app);         /* users_page.c */
void iz__pg_users_new(iz_req_t *r, void *app);     /* users_page.c */
void iz__pg_users_delete(iz_req_t *r, void *app);  /* users_page.c */
void iz__pg_webhook(iz_req_t *r, void *app);       /* panel_webhook.c */
void iz__pg_webhook_set(iz_req_t *r, void *app);   /* panel_webhook.c */
void iz__pg_webhook_delete(iz_req_t *r, void *app); /* panel_webhook.c */
void iz__pg_webhook_retry(iz_req_t *r, void *app);  /* panel_webhook.c */
void iz__pg_usage(iz_req_t *r, void *app);          /* panel_usage.c */

#endif
