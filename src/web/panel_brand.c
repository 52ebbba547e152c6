/*
 * panel_brand.c - the brand's settings pages, each a part of what
 * PATCH /v1/brands/{b} changes, through the same code (api/brands.c:
 * iz_brand_settings_get, iz_brand_keywords_set, iz_brand_settings_check,
 * iz_brand_settings_save), so a value the API refuses is refused here with
 * the same code and its Turkish text:
 *
 *   SMS numaraları ve anahtar kelimeler (/panel/numbers): keywords, short
 *   number, 0850 subscriber number, the three SMS replies, the sender's
 *   identity and contact that commercial messages carry (core/content.h),
 *   and the brand's latest inbound SMS with their outcome.
 *
 *   İzin sayfası (/panel/page): the consent page's link (--public-url +
 *   /c/{slug}) and its QR code (the page's own /c/{slug}/qr.svg, same
 *   origin), the slug, the information text, how the page proves a number
 *   (izin's own code, or İYS's OTP with its template and the VKN).
 *
 * A form sends every field of its page; a field left as it was is written
 * back unchanged. After a save the page answers 303 to itself (?saved=1
 * says so), a refused form comes back with what was typed and the reason.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cpage.h"
#include "core/keyword.h"
#include "core/iz.h"
#include "sys/log.h"
#include "web/panel_ops.h"

#define INBOUND_SHOWN 50 /* inbound messages the numbers page lists */
#define KEYWORDS_BYTES (IZ_KEYWORDS_MAX * 2 * IZ_KEYWORD_MAX)

/* A page's form: apply puts the form's fields into s (mode: the page mode
 * as typed, "" when the form has none); 0, or IZ_EINVAL with *why. */
typedef int (*apply_fn)(const iz_form_t *f, iz_brand_settings_t *s, char mode[8],
                        iz_brand_refusal_t *why);

/* Render a page: its settings s (as typed after a refusal: why, else NULL;
 * f the form then, else NULL). */
typedef void (*render_fn)(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *sess,
                          const iz_brand_settings_t *s, const iz_form_t *f,
                          const iz_brand_refusal_t *why, int status);

/* A field's label on the panel, for a refusal that names the API's field. */
static const char *label_of(const char *field)
{
    static const char *const map[][2] = {
        {"keywords", "Anahtar kelimeler"},
        {"shortNumber", "Kısa numara"},
        {"subscriberNumber", "0850 numarası"},
        {"replies.onay", "ONAY yanıtı"},
        {"replies.ret", "RET yanıtı"},
        {"replies.help", "Yardım yanıtı"},
        {"tradeName", "Ticari unvan"},
        {"mersis", "MERSİS numarası"},
        {"tradesman", "Esnafın adı soyadı"},
        {"contact", "İletişim bilgisi"},
        {"slug", "Sayfa adresi (slug)"},
        {"infoText", "Aydınlatma metni"},
        {"pageMode", "Doğrulama yöntemi"},
        {"pageOtpTemplate", "İYS OTP şablonu"},
        {"pageVkn", "VKN"},
        {"name", "Marka adı"},
    };
    for (size_t i = 0; field && i < IZ_ARRAY_LEN(map); i++)
        if (strcmp(field, map[i][0]) == 0) return map[i][1];
    return field ? field : "";
}

/* A text field of the form into dst (size bytes with its NUL): absent
 * leaves dst; longer than the API takes is refused as the API refuses it
 * (IZ422 naming the API's field). */
static int text_in(const iz_form_t *f, const char *name, const char *field, char *dst, size_t size,
                   iz_brand_refusal_t *why)
{
    if (!iz_form_get(f, name)) return 0;
    const char *v = iz_form_value(f, name, 2 * (size - 1));
    if (v) {
        /* A browser sends a textarea's line breaks as CRLF: kept as LF, as
         * an API client writes them (an SMS reply would count the CR). */
        size_t o = 0;
        for (; *v && o + 1 < size; v++)
            if (!(v[0] == '\r' && v[1] == '\n')) dst[o++] = *v;
        if (!*v) {
            dst[o] = '\0';
            return 0;
        }
    }
    why->code = "IZ422";
    why->field = field;
    why->echo = false;
    snprintf(why->tr, sizeof why->tr, "%s en çok %zu baytlık bir metin olmalıdır.", field,
             size - 1);
    snprintf(why->en, sizeof why->en, "%s must be text of at most %zu bytes.", field, size - 1);
    return IZ_EINVAL;
}

/* The saved or refused message at the top of a page. */
static void outcome(iz_page_t *p, const iz_brand_refusal_t *why)
{
    iz_req_t *r = p->r;
    if (why) {
        char html[1024];
        snprintf(html, sizeof html, "<strong>%s (%s):</strong> %s", label_of(why->field), why->code,
                 iz_page_esc(r, why->tr));
        iz_page_msg(p, "err", NULL, html);
    } else if (iz_req_query(r, "saved")) {
        iz_page_msg(p, "ok", "Ayarlar kaydedildi.", NULL);
    }
}

/* GET of a settings page: the selected brand's settings rendered. */
static void settings_get(iz_req_t *r, iz_app_t *app, render_fn render)
{
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_brand_settings_t *st = NULL;
    if (s.brand) {
        st = iz_req_alloc(r, sizeof *st);
        int rc = iz_brand_settings_get(app, s.brand, st);
        if (rc != 0) {
            iz__panel_store_error(r, app, rc);
            return;
        }
    }
    render(r, app, &s, st, NULL, NULL, 200);
}

/* POST of a settings page: the brand's settings with the form's fields
 * applied, checked and saved as PATCH /v1/brands/{b} does. */
static void settings_post(iz_req_t *r, iz_app_t *app, apply_fn apply, render_fn render,
                          const char *path)
{
    iz_panel_sess_t s;
    iz_form_t f;
    if (iz__panel_post(r, app, &s, &f) != 0) return;
    if (!s.brand) {
        iz__panel_refuse(r, app, 404, "Marka bulunamadı", "Bu hesapta henüz marka yok.");
        return;
    }
    iz_brand_settings_t *st = iz_req_alloc(r, sizeof *st);
    int rc = iz_brand_settings_get(app, s.brand, st);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_brand_refusal_t why;
    char mode[8] = "";
    rc = apply(&f, st, mode, &why);
    if (rc == 0) rc = iz_brand_settings_check(st, mode, &why);
    if (rc == 0) rc = iz_brand_settings_save(app, st, &why);
    if (rc == IZ_EINVAL || rc == IZ_EEXIST) {
        render(r, app, &s, st, &f, &why, rc == IZ_EEXIST ? 409 : 422);
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_logf(IZ_LOG_INFO, "panel", "brand settings saved", "account=%lld user=%s brand=%lld page=%s",
            (long long)s.account.id, s.user.email, (long long)s.brand->code, path);
    char to[64];
    snprintf(to, sizeof to, "%s?saved=1", path);
    iz__panel_redirect(r, app, &s, to, "Ayarlar kaydedildi.");
}

/* An <input> of a settings form. */
static void input(iz_page_t *p, const char *name, const char *label, const char *value, size_t size,
                  const char *extra)
{
    iz_page_printf(p,
                   "<label for=\"%s\">%s</label><input id=\"%s\" name=\"%s\" maxlength=\"%zu\" "
                   "value=\"%s\"%s>",
                   name, label, name, name, size - 1, iz_page_esc(p->r, value), extra ? extra : "");
}

static void textarea(iz_page_t *p, const char *name, const char *label, const char *value,
                     size_t size, int rows)
{
    iz_page_printf(p,
                   "<label for=\"%s\">%s</label><textarea id=\"%s\" name=\"%s\" maxlength=\"%zu\" "
                   "rows=\"%d\">%s</textarea>",
                   name, label, name, name, size - 1, rows, iz_page_esc(p->r, value));
}

/* The start of a settings page; false when the account has no brand (the
 * page then says so and is ended). */
static bool page_open(iz_page_t *p, iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *sess,
                      const char *title, const char *path, int status)
{
    iz__panel_begin(p, r, app, sess, title, path);
    iz_page_printf(p, "<h1>%s</h1>", title);
    if (sess->brand) return true;
    iz_page_msg(p, "err", "Bu hesapta henüz marka yok.", NULL);
    iz__panel_end(p, status);
    return false;
}

/* ---- SMS numaraları ve anahtar kelimeler ---------------------------------------- */

static const char *inbound_outcome_tr(const char *o)
{
    static const char *const map[][2] = {
        {"APPLIED", "Uygulandı"},
        {"REFUSED", "Reddedildi"},
        {"HELP", "Anlaşılamadı: yardım yanıtı gönderildi"},
        {"NO_BRAND", "Marka bulunamadı"},
        {"NO_NUMBER", "Numara hiçbir markanın değil"},
        {"BAD_SENDER", "Gönderen numarası geçersiz"},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(map); i++)
        if (strcmp(o, map[i][0]) == 0) return map[i][1];
    return o;
}

/* The brand's latest inbound messages. */
static void inbound_list(iz_page_t *p, const iz_inbound_t *l, size_t n)
{
    iz_req_t *r = p->r;
    iz_page_puts(p, "<h2>Gelen SMS'ler</h2>");
    if (n == 0) {
        iz_page_puts(p, "<p>Bu markaya henüz SMS gelmedi.</p>");
        return;
    }
    /* What was written and what came of it first: on a phone the table
     * scrolls sideways and its first columns are what shows. */
    iz_page_printf(p,
                   "<div class=\"tbl\"><table id=\"inbound\" class=\"wide\"><caption>Son %d "
                   "mesaj (en yenisi önce)</caption><thead><tr><th scope=\"col\">Metin</th>"
                   "<th scope=\"col\">Sonuç</th><th scope=\"col\">Gönderen</th>"
                   "<th scope=\"col\">Zaman</th><th scope=\"col\">Numara</th>"
                   "<th scope=\"col\">Yanıt</th></tr></thead><tbody>",
                   INBOUND_SHOWN);
    for (size_t i = 0; i < n; i++) {
        const iz_inbound_t *m = &l[i];
        iz_page_printf(p,
                       "<tr><td>%s</td><td>%s%s%s%s</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%s</td></tr>",
                       iz_page_esc(r, m->text), inbound_outcome_tr(m->outcome),
                       m->detail[0] ? " <span class=\"meta\">(" : "", iz_page_esc(r, m->detail),
                       m->detail[0] ? ")</span>" : "", iz_page_esc(r, m->sender),
                       iz__panel_time(r, m->received_ms / 1000), iz_page_esc(r, m->receiver),
                       iz_page_esc(r, m->reply));
    }
    iz_page_puts(p, "</tbody></table></div>");
}

static void numbers_render(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *sess,
                           const iz_brand_settings_t *s, const iz_form_t *f,
                           const iz_brand_refusal_t *why, int status)
{
    iz_inbound_t *l = NULL;
    size_t n = 0;
    int rc = sess->brand
                 ? iz_store_inbound_of_brand(app->store, sess->brand->id, INBOUND_SHOWN, &l, &n)
                 : 0;
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_page_t p;
    if (!page_open(&p, r, app, sess, "SMS numaraları ve anahtar kelimeler", "/panel/numbers",
                   status)) {
        free(l);
        return;
    }
    iz_page_printf(&p,
                   "<p>Alıcılar %s markasına SMS ile izin verir ya da izinlerini geri alır: kısa "
                   "numaraya anahtar kelimeyle birlikte (örneğin <code>ONAY %s</code>, "
                   "<code>RET %s</code>) ya da markanın 0850 numarasına yalnızca ONAY veya RET "
                   "yazarak. izin her mesajı kaydeder ve yanıtlar.</p>",
                   iz_page_esc(r, sess->brand->name),
                   iz_page_esc(r, s->sms.nkeywords ? s->sms.keywords[0] : "ANAHTAR"),
                   iz_page_esc(r, s->sms.nkeywords ? s->sms.keywords[0] : "ANAHTAR"));
    outcome(&p, why);
    /* The keywords as typed after a refusal, else one a line. */
    const char *kw = f ? iz_form_value(f, "keywords", KEYWORDS_BYTES) : NULL;
    if (!kw) {
        char *buf = iz_req_alloc(r, IZ_KEYWORDS_MAX * IZ_KEYWORD_MAX + 1);
        buf[0] = '\0';
        for (size_t i = 0; i < s->sms.nkeywords; i++) {
            strcat(buf, s->sms.keywords[i]);
            strcat(buf, "\n");
        }
        kw = buf;
    }
    iz__panel_form(&p, sess, "/panel/numbers", "card");
    iz_page_printf(&p,
                   "<h2>Numaralar</h2><label for=\"keywords\">Anahtar kelimeler (her satıra bir "
                   "tane, en çok %d; ilki ana anahtar kelimedir)</label>"
                   "<textarea id=\"keywords\" name=\"keywords\" rows=\"3\" maxlength=\"%d\">%s"
                   "</textarea><p class=\"meta\">Harf ve rakamlardan oluşan 1-4 kelime; ONAY, "
                   "RET, SMS gibi komut kelimeleri olamaz. Aynı kısa numarada başka bir markanın "
                   "anahtar kelimesi kullanılamaz.</p>",
                   IZ_KEYWORDS_MAX, KEYWORDS_BYTES, iz_page_esc(r, kw));
    input(&p, "shortNumber", "Kısa numara (4 hane)", s->b.short_number, sizeof s->b.short_number,
          " inputmode=\"numeric\" placeholder=\"4607\"");
    input(&p, "subscriberNumber", "0850 numarası (markanın kendi numarası)", s->b.subscriber_number,
          sizeof s->b.subscriber_number, " inputmode=\"numeric\" placeholder=\"08501234567\"");
    iz_page_puts(&p, "<h2>SMS yanıtları</h2><p class=\"meta\">Boş bırakılan yanıt yerine izin'in "
                     "Türkçe varsayılan metni gönderilir. Yer tutucular: {brand}, {channels}, "
                     "{keyword}, {number}, {onay}, {ret}.</p>");
    textarea(&p, "replyOnay", "ONAY yanıtı", s->sms.reply_onay, sizeof s->sms.reply_onay, 2);
    textarea(&p, "replyRet", "RET yanıtı", s->sms.reply_ret, sizeof s->sms.reply_ret, 2);
    textarea(&p, "replyHelp", "Yardım yanıtı (anlaşılamayan mesajlara)", s->sms.reply_help,
             sizeof s->sms.reply_help, 2);
    iz_page_puts(&p, "<h2>Gönderen kimliği</h2><p class=\"meta\">Ticari iletide gönderenin kimliği "
                     "(ticari unvan ve MERSİS numarası ya da esnafın adı soyadı) ve iletişim "
                     "bilgisi bulunmalıdır; metinde yoksa izin bunları iletinin sonuna ekler. "
                     "Bunlar olmadan ticari SMS gönderilemez.</p>");
    input(&p, "tradeName", "Ticari unvan", s->ident.trade_name, sizeof s->ident.trade_name, NULL);
    input(&p, "mersis", "MERSİS numarası (16 hane)", s->ident.mersis, sizeof s->ident.mersis,
          " inputmode=\"numeric\"");
    input(&p, "tradesman", "ya da esnafın adı soyadı", s->ident.tradesman,
          sizeof s->ident.tradesman, NULL);
    input(&p, "contact", "İletişim bilgisi (telefon, adres, web ya da e-posta)", s->ident.contact,
          sizeof s->ident.contact, NULL);
    iz_page_puts(&p, "<button type=\"submit\">Kaydet</button></form>");
    inbound_list(&p, l, n);
    free(l);
    iz__panel_end(&p, status);
}

/* The keywords of the form, one a line (trimmed, blank lines skipped). */
static int keywords_in(const iz_form_t *f, iz_brand_settings_t *s, iz_brand_refusal_t *why)
{
    if (!iz_form_get(f, "keywords")) return 0;
    const char *v = iz_form_value(f, "keywords", KEYWORDS_BYTES);
    const char *kw[IZ_KEYWORDS_MAX + 1];
    char line[IZ_KEYWORDS_MAX + 1][IZ_KEYWORD_MAX * 2];
    size_t n = 0;
    bool bad = !v;
    for (const char *p = v; !bad && p && *p && n <= IZ_KEYWORDS_MAX;) {
        size_t len = strcspn(p, "\n");
        const char *b = p, *e = p + len;
        p = *e ? e + 1 : e;
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (e == b) continue;
        if ((size_t)(e - b) >= sizeof line[n]) {
            kw[n++] = NULL; /* too long to be a keyword: refused as one */
            continue;
        }
        memcpy(line[n], b, (size_t)(e - b));
        line[n][e - b] = '\0';
        kw[n] = line[n];
        n++;
    }
    if (bad) kw[n++] = NULL;
    return iz_brand_keywords_set(&s->sms, kw, n, why);
}

static int numbers_apply(const iz_form_t *f, iz_brand_settings_t *s, char mode[8],
                         iz_brand_refusal_t *why)
{
    (void)mode;
    iz_brand_t *b = &s->b;
    iz_brand_sms_t *m = &s->sms;
    iz_brand_ident_t *id = &s->ident;
    int rc = text_in(f, "shortNumber", "shortNumber", b->short_number, sizeof b->short_number, why);
    if (rc == 0)
        rc = text_in(f, "subscriberNumber", "subscriberNumber", b->subscriber_number,
                     sizeof b->subscriber_number, why);
    if (rc == 0)
        rc = text_in(f, "replyOnay", "replies.onay", m->reply_onay, sizeof m->reply_onay, why);
    if (rc == 0) rc = text_in(f, "replyRet", "replies.ret", m->reply_ret, sizeof m->reply_ret, why);
    if (rc == 0)
        rc = text_in(f, "replyHelp", "replies.help", m->reply_help, sizeof m->reply_help, why);
    if (rc == 0)
        rc = text_in(f, "tradeName", "tradeName", id->trade_name, sizeof id->trade_name, why);
    if (rc == 0) rc = text_in(f, "mersis", "mersis", id->mersis, sizeof id->mersis, why);
    if (rc == 0)
        rc = text_in(f, "tradesman", "tradesman", id->tradesman, sizeof id->tradesman, why);
    if (rc == 0) rc = text_in(f, "contact", "contact", id->contact, sizeof id->contact, why);
    if (rc == 0) rc = keywords_in(f, s, why);
    return rc;
}

void iz__pg_numbers(iz_req_t *r, void *vapp)
{
    settings_get(r, vapp, numbers_render);
}

void iz__pg_numbers_post(iz_req_t *r, void *vapp)
{
    settings_post(r, vapp, numbers_apply, numbers_render, "/panel/numbers");
}

/* ---- İzin sayfası --------------------------------------------------------------- */

static void cpage_render(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *sess,
                         const iz_brand_settings_t *s, const iz_form_t *f,
                         const iz_brand_refusal_t *why, int status)
{
    (void)f;
    iz_page_t p;
    if (!page_open(&p, r, app, sess, "İzin sayfası", "/panel/page", status)) return;
    iz_page_printf(&p,
                   "<p>%s markasının izin sayfasında kişiler cep telefonlarına gelen kodla SMS, "
                   "arama ve e-posta izni verir ya da geri alır; değişiklik kaynak HS_WEB ile ve "
                   "kanıtıyla kaydedilir.</p>",
                   iz_page_esc(r, sess->brand->name));
    outcome(&p, why);
    /* The page's link as saved (not as typed in a refused form). */
    const iz_brand_t *saved = sess->brand;
    struct iz_cpage *cp = atomic_load(&app->cpage);
    char link[IZ_CPAGE_PUBLIC_URL_MAX + 128];
    if (!saved->slug[0]) {
        iz_page_msg(&p, "err",
                    "Sayfanın henüz adresi (slug) yok: aşağıda bir adres verin, sayfa o adreste "
                    "yayına girer.",
                    NULL);
    } else if (!cp || iz_cpage_link(cp, saved->slug, link, sizeof link) != 0) {
        iz_page_msg(&p, "err", "İzin sayfası bu sunucuda kapalı.", NULL);
    } else {
        char qr[128];
        snprintf(qr, sizeof qr, "/c/%s/qr.svg", saved->slug);
        iz_page_printf(&p,
                       "<div class=\"card qrcard\"><h2>Sayfanın bağlantısı</h2>"
                       "<p><a id=\"link\" href=\"%s\">%s</a></p>"
                       "<img class=\"qr\" id=\"qr\" src=\"%s\" width=\"176\" height=\"176\" "
                       "alt=\"İzin sayfasının bağlantısını içeren karekod\">"
                       "<p class=\"meta\">Karekodu mağazada, fişte ya da ambalajda gösterin; "
                       "okutan kişi bu sayfaya gelir. <a href=\"%s\" download=\"izin-karekod.svg\">"
                       "Karekodu indir (SVG)</a></p></div>",
                       iz_page_esc(r, link), iz_page_esc(r, link), iz_page_esc(r, qr),
                       iz_page_esc(r, qr));
    }
    iz__panel_form(&p, sess, "/panel/page", "card");
    iz_page_puts(&p, "<h2>Sayfa ayarları</h2>");
    input(&p, "slug", "Sayfa adresi (slug: a-z, 0-9 ve -)", s->b.slug, sizeof s->b.slug,
          " placeholder=\"markam\"");
    textarea(&p, "infoText", "Aydınlatma metni (KVKK)", s->info, sizeof s->info, 8);
    iz_page_printf(&p,
                   "<p class=\"meta\">Kişi izin vermeden önce bu metni okur; metin ve özeti "
                   "kanıtla birlikte saklanır.</p>"
                   "<label for=\"pageMode\">Numaranın doğrulanması</label>"
                   "<select id=\"pageMode\" name=\"pageMode\">"
                   "<option value=\"LOCAL\"%s>izin'in kendi SMS kodu</option>"
                   "<option value=\"IYS\"%s>İYS'nin SMS kodu (İYS OTP)</option></select>",
                   s->page.iys ? "" : " selected", s->page.iys ? " selected" : "");
    input(&p, "pageOtpTemplate", "İYS OTP şablonu (İYS doğrulamasında gerekli)",
          s->page.otp_template, sizeof s->page.otp_template, NULL);
    input(&p, "pageVkn", "VKN ya da TCKN (İYS doğrulamasında gerekli; 10-11 hane)", s->page.vkn,
          sizeof s->page.vkn, " inputmode=\"numeric\"");
    iz_page_puts(&p, "<button type=\"submit\">Kaydet</button></form>");
    iz__panel_end(&p, status);
}

static int cpage_apply(const iz_form_t *f, iz_brand_settings_t *s, char mode[8],
                       iz_brand_refusal_t *why)
{
    iz_brand_page_t *pg = &s->page;
    int rc = text_in(f, "slug", "slug", s->b.slug, sizeof s->b.slug, why);
    if (rc == 0) rc = text_in(f, "infoText", "infoText", s->info, sizeof s->info, why);
    if (rc == 0) rc = text_in(f, "pageMode", "pageMode", mode, 8, why);
    if (rc == 0)
        rc = text_in(f, "pageOtpTemplate", "pageOtpTemplate", pg->otp_template,
                     sizeof pg->otp_template, why);
    if (rc == 0) rc = text_in(f, "pageVkn", "pageVkn", pg->vkn, sizeof pg->vkn, why);
    return rc;
}

void iz__pg_cpage(iz_req_t *r, void *vapp)
{
    settings_get(r, vapp, cpage_render);
}

void iz__pg_cpage_post(iz_req_t *r, void *vapp)
{
    settings_post(r, vapp, cpage_apply, cpage_render, "/panel/page");
}
