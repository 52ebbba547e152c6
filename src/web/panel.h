/*
 * panel.h - the customer's web panel at /panel (API.md "Panel and
 * operations"): a Turkish, server-rendered site built with the page kit
 * (net/page.h) where an account's users log in with e-mail and password
 * and run the module: the dashboard, recipient search, İYS-side changes,
 * API keys, users, and the operations pages.
 *
 * The panel is a layer above api/: its pages read the same application
 * state (api/api.h iz_app_t: the domain, the store, the sync engine) and
 * call the same shared code the API's handlers call. Its routes are a
 * table of their own that the server joins to the API's (cli/cmd_serve.c),
 * so the API's table does not grow with every page.
 *
 * What a panel's pages share (the session, the layout, the forms) is in
 * web/panel_int.h.
 */
#ifndef IZ_WEB_PANEL_H
#define IZ_WEB_PANEL_H

#include <stdbool.h>
#include <stddef.h>

#include "net/http.h"
#include "store/store.h"
#include "sys/crypto.h"

typedef struct iz_panel iz_panel_t;

/* Make the panel's state: its page-kit site (https: Secure cookies with the
 * __Host- prefix, to be set when the panel is reached over https), its
 * per-IP limits and the bound on concurrent password checks. 0, or IZ_EIO
 * when there is no randomness or memory for a password hash. */
int iz_panel_new(bool https, iz_panel_t **out);
void iz_panel_free(iz_panel_t *p);

/* The panel's routes (a static table): GET / (303 to /panel) and every
 * /panel page. Handlers take the iz_app_t the API's do, with app->panel
 * set. */
const iz_route_t *iz_web_routes(size_t *n);

/* ---- users (users.c): what `izin user`, the demo and the users page share ---- */

/* True for an e-mail address a panel user may have: printable ASCII
 * without spaces, quotes or angle brackets, one '@' between a local part
 * and a domain with a dot, at most 254 bytes. */
bool iz_panel_email_ok(const char *email);

/* Add a panel user of account_id. With password NULL a one-time password
 * is generated into gen (the user must change it at the first login);
 * else password is theirs (IZ_PW_MIN characters at least). The password
 * is stored only as its argon2id hash. 0 with *out filled, IZ_EINVAL for an
 * unusable e-mail, IZ_ERULE for a password under IZ_PW_MIN characters,
 * IZ_ETOOBIG for one over IZ_PW_MAX bytes, IZ_EEXIST when the e-mail has a
 * user (in any ASCII case), IZ_ENOTFOUND for an unknown account, IZ_EIO. */
int iz_panel_user_add(iz_store_t *st, int64_t account_id, const char *email, const char *password,
                      char gen[IZ_PW_GEN_LEN + 1], iz_user_t *out);

/* Give user_id a new generated password (into gen) that they need not
 * change (the demo prints one on every start); their sessions end. */
int iz_panel_user_reset(iz_store_t *st, int64_t user_id, char gen[IZ_PW_GEN_LEN + 1]);

#endif
