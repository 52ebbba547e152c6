/*
 * dash.c - the panel's dashboard (/panel): the selected brand's consents
 * and the health of its work with İYS at a glance.
 */
#include <stdio.h>
#include <string.h>

#include "core/iz.h"
#include "web/panel_int.h"

void iz__pg_dashboard(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Gösterge paneli", "/panel");
    iz_page_puts(&p, "<h1>Gösterge paneli</h1>");
    if (!s.brand) {
        iz_page_msg(&p, "err",
                    "Bu hesapta henüz marka yok. Bir marka ekleyin: izin brand add --account "
                    "HESAP --code KOD --name AD",
                    NULL);
        iz__panel_end(&p, 200);
        return;
    }
    iz_page_printf(&p, "<p>%s markasının izin kayıtları ve İYS ile çalışması.</p>",
                   iz_page_esc(r, s.brand->name));
    iz__panel_end(&p, 200);
}
