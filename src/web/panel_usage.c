/*
 * panel_usage.c - the panel's usage page (/panel/usage): the account's plan
 * and its consent records against the plan's limit (iz_domain_usage, what
 * GET /v1/account and /metrics show), the yearly price before and with
 * VAT, and the plan tiers of the operator's plans file.
 *
 * The share used is a <meter> (no script, no style attribute: the CSP
 * allows neither); its low/high marks are the page's warnings, at 80% and
 * at the limit, where the domain refuses new consent records (IZ4031) and
 * still records every withdrawal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/iz.h"
#include "core/plans.h"
#include "domain/domain.h"
#include "web/panel_int.h"

#define WARN_PERCENT 80 /* the share used that the page warns at */

const char *iz__panel_money(iz_req_t *r, int64_t kurus)
{
    char out[48];
    snprintf(out, sizeof out, "%s,%02d TL", iz__panel_num(r, kurus / 100), (int)(kurus % 100));
    return iz_req_strdup(r, out);
}

/* A plan's limit in words: "5.000 kayıt", or "Sınırsız". */
static const char *limit_text(iz_req_t *r, int64_t limit)
{
    if (!limit) return "Sınırsız";
    char out[40];
    snprintf(out, sizeof out, "%s kayıt", iz__panel_num(r, limit));
    return iz_req_strdup(r, out);
}

/* A yearly price with VAT as a price table shows it. */
static const char *price_text(iz_req_t *r, int64_t kurus)
{
    if (kurus < 0) return "Bizi arayın";
    if (kurus == 0) return "Ücretsiz";
    return iz__panel_money(r, iz_plan_with_vat(kurus));
}

/* used of limit as Turkish writes a share, rounded down to a tenth (so a
 * page never says %100 before the limit is reached): "%85,3", "%80". */
static const char *share_text(iz_req_t *r, int64_t used, int64_t limit)
{
    int64_t tenths = used * 1000 / limit;
    char out[32];
    if (tenths % 10)
        snprintf(out, sizeof out, "%%%" PRId64 ",%d", tenths / 10, (int)(tenths % 10));
    else
        snprintf(out, sizeof out, "%%%" PRId64, tenths / 10);
    return iz_req_strdup(r, out);
}

static void show_usage(iz_page_t *p, const iz_usage_t *u)
{
    iz_req_t *r = p->r;
    const iz_plan_t *pl = u->plan;
    int64_t limit = pl ? pl->limit : 0;
    if (limit && u->used >= limit)
        iz_page_msg(p, "err",
                    "Planınızın sınırına ulaştınız: yeni izin kayıtları (yeni adresler için "
                    "ONAY) IZ4031 koduyla reddediliyor. Geri çekmeler (RET) ve var olan "
                    "kayıtların değişiklikleri her zaman kaydedilir. Daha büyük bir plana "
                    "geçmek için bizimle iletişime geçin.",
                    NULL);
    else if (limit && u->used * 100 >= limit * WARN_PERCENT)
        iz_page_msg(p, "err",
                    "Planınızın %80'ini kullandınız. Sınıra ulaşıldığında yeni izin kayıtları "
                    "IZ4031 koduyla reddedilir (geri çekmeler her zaman kaydedilir); daha büyük "
                    "bir plana geçmeyi düşünün.",
                    NULL);
    iz_page_puts(p, "<div class=\"card\"><dl class=\"shown\"><dt>Plan</dt><dd>");
    if (pl)
        iz_page_printf(p, "<strong>%s</strong> <span class=\"meta\">(%s)</span>",
                       iz_page_esc(r, pl->name), iz_page_esc(r, pl->code));
    else
        iz_page_puts(p, "Plan yok: sınırsız kullanım");
    iz_page_printf(p, "</dd><dt>Sınır</dt><dd>%s</dd><dt>Kullanılan</dt><dd>%s kayıt</dd>",
                   limit_text(r, limit), iz__panel_num(r, u->used));
    if (limit) {
        int64_t left = limit > u->used ? limit - u->used : 0;
        /* optimum 0 (less is better): the meter turns amber above low,
         * where the warning starts (80%), and red above high, at the
         * limit. */
        iz_page_printf(p,
                       "<dt>Kullanım oranı</dt><dd><meter id=\"share\" min=\"0\" max=\"%" PRId64
                       "\" low=\"%" PRId64 "\" high=\"%" PRId64 "\" optimum=\"0\" value=\"%" PRId64
                       "\">%s</meter> <strong>%s</strong></dd><dt>Kalan</dt><dd>%s kayıt</dd>",
                       limit, (limit * WARN_PERCENT - 1) / 100, limit - 1,
                       u->used < limit ? u->used : limit, share_text(r, u->used, limit),
                       share_text(r, u->used, limit), iz__panel_num(r, left));
    }
    iz_page_puts(p, "<dt>Yıllık ücret</dt><dd>");
    if (!pl || pl->price_kurus < 0)
        iz_page_puts(p, pl ? "Bizi arayın" : "Yok");
    else if (pl->price_kurus == 0)
        iz_page_puts(p, "Ücretsiz");
    else
        iz_page_printf(p,
                       "<strong>%s</strong> (KDV dahil)<br><span class=\"meta\">%s + %%%d KDV"
                       "</span>",
                       iz__panel_money(r, iz_plan_with_vat(pl->price_kurus)),
                       iz__panel_money(r, pl->price_kurus), IZ_VAT_PERCENT);
    iz_page_puts(p, "</dd></dl></div>");
}

static void show_tiers(iz_page_t *p, const iz_plans_t *plans, const iz_plan_t *mine)
{
    iz_req_t *r = p->r;
    iz_page_printf(p,
                   "<h2>Planlar</h2><p>Yıllık planlar, izin kaydı sınırlarıyla; fiyatlara %%%d KDV "
                   "dahildir.</p><div class=\"tbl\"><table><thead><tr><th scope=\"col\">Plan</th>"
                   "<th scope=\"col\" class=\"n\">Sınır</th>"
                   "<th scope=\"col\" class=\"n\">Yıllık ücret</th></tr></thead><tbody>",
                   IZ_VAT_PERCENT);
    for (size_t i = 0; i < plans->n; i++) {
        const iz_plan_t *pl = &plans->plan[i];
        bool own = pl == mine;
        iz_page_printf(p, "<tr%s><td>%s%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
                       own ? " class=\"mine\" aria-current=\"true\"" : "", iz_page_esc(r, pl->name),
                       own ? " <strong>(planınız)</strong>" : "",
                       pl->limit ? iz__panel_num(r, pl->limit) : "Sınırsız",
                       price_text(r, pl->price_kurus));
    }
    iz_page_puts(p, "</tbody></table></div>");
}

void iz__pg_usage(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_usage_t u;
    int rc = iz_domain_usage(app->dom, s.account.id, &u);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Kullanım ve plan", "/panel/usage");
    iz_page_puts(&p, "<h1>Kullanım ve plan</h1><p>Plan, hesabın bütün markalarındaki izin "
                     "kayıtlarının sayısını sınırlar (İYS'nin saydığı gibi: her alıcı, kanal ve "
                     "alıcı türü bir kayıttır; geri çekilmiş olanlar da sayılır).</p>");
    show_usage(&p, &u);
    const iz_plans_t *plans = iz_domain_plans(app->dom);
    if (plans && plans->n) show_tiers(&p, plans, u.plan);
    iz__panel_end(&p, 200);
}
