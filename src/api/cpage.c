/*
 * cpage.c - the consent page (cpage.h): a brand's short URL where a person
 * gives or withdraws consent, proven by a 6-digit code sent by SMS.
 *
 * Built with the page kit (net/page.h): the layout, escaping of every value,
 * the double-submit CSRF token of each form, a CSP that allows no script and
 * no other origin (frame-ancestors 'none'), per-IP limits with a Turkish 429
 * page. Forms are plain HTML and post to this page's own paths; nothing
 * redirects, so nothing can be made to redirect elsewhere.
 *
 * What a person proves with a code: that they hold the number. The code is
 * bound to the choices shown on the code form (brand, number, e-mail,
 * channels, give or withdraw): the form's hidden fields are hashed with
 * the code, so changing one of them makes the code wrong. Answers never
 * say whether a number has a record: the code is sent and the confirmation
 * given alike (a first RET is kept locally, a repeat is no error).
 */
#include "api/cpage.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "core/qr.h"
#include "core/recipient.h"
#include "iys/client.h"
#include "net/form.h"
#include "net/page.h"
#include "sms/outbound.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define CODES_MAX 4096         /* codes alive at once (older ones are forgotten first) */
#define CODE_TRIES 5           /* wrong answers before a code is void */
#define NUM_PER_MINUTE 1       /* codes a minute to one number */
#define NUM_PER_HOUR 5         /* codes an hour to one number */
#define IP_CODES_PER_HOUR 10   /* codes an hour asked from one address */
#define IP_POSTS_PER_MINUTE 30 /* form posts a minute from one address */
#define CLIENTS 8192           /* keys each limiter remembers */
#define EMAIL_MAX 254
#define SLUG_MAX 63
#define IYS_TRIES 3       /* İYS's: wrong codes before it ends the process */
#define IYS_TTL 180       /* İYS's: seconds a code of its SMS OTP is valid */
#define REQUEST_ID_MAX 64 /* İYS's requestId (a UUID), with room */

typedef struct code {
    int64_t brand_id; /* 0: free slot */
    char phone[IZ_PHONE_MAX];
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    int64_t sent, expires; /* epoch seconds */
    int tries_left;
    int busy; /* being recorded by a verify now */
    char msg_id[IZ_SMS_ID_MAX];
    char page_sha[IZ_SHA256_HEX], info_sha[IZ_SHA256_HEX];
    /* İYS-verified mode: İYS's process, and what became of its completion
     * (an answer lost on the way: İYS may have completed it; verified: it
     * did, and mac is then over the code too, for a retry of the record) */
    char request_id[REQUEST_ID_MAX];
    bool complete_lost, verified;
} code_t;

struct iz_cpage {
    iz_page_site_t site;
    char public_url[IZ_CPAGE_PUBLIC_URL_MAX + 1];
    int64_t ttl;
    iz_ratelimit_t *ip_posts, *ip_codes, *num_minute, *num_hour;
    uint8_t key[crypto_auth_hmacsha256_KEYBYTES];
    pthread_mutex_t mu;
    code_t codes[CODES_MAX];
};

/* The page's additions to the kit's stylesheet: choices as large tap
 * targets with the box beside its text, the information text kept in its
 * paragraphs and scrollable when long, the QR code at print size. */
static const char cpage_css[] =
    "fieldset{border:0;padding:0;margin:0 0 1rem;min-width:0}"
    "legend{font-weight:700;padding:0;margin-bottom:.25rem}"
    ".opt{display:flex;gap:.7rem;align-items:center;font-weight:400;margin:.35rem 0;"
    "min-height:2.75rem;padding:.2rem .6rem;border:1px solid #d3d9df;border-radius:.45rem}"
    ".opt input{width:1.35rem;height:1.35rem;min-height:0;margin:0;padding:0;flex:none}"
    ".info{white-space:pre-line;max-height:18rem;overflow:auto;padding:.5rem .7rem;"
    "border:1px solid #d3d9df;border-radius:.45rem;background:#fafbfc}"
    ".qr{display:block;width:11rem;height:11rem;max-width:100%;margin:.5rem 0}"
    ".link{word-break:break-all}"
    ".hint{color:#4f5963;font-size:.92rem;margin:.2rem 0 .6rem}";

int iz_cpage_new(const char *public_url, int64_t ttl, iz_cpage_t **out)
{
    size_t n = public_url ? strlen(public_url) : 0;
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    bool https = n > 8 && strncmp(public_url, "https://", 8) == 0;
    if (ttl < 1 || ttl > 3600 || n == 0 || n > IZ_CPAGE_PUBLIC_URL_MAX ||
        (!https && !(n > 7 && strncmp(public_url, "http://", 7) == 0)))
        return IZ_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)public_url[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"'<>\\`?#", c)) return IZ_EINVAL;
    }
    iz_cpage_t *cp = iz_xcalloc(1, sizeof *cp);
    memcpy(cp->public_url, public_url, n);
    cp->ttl = ttl;
    const iz_page_site_cfg_t cfg = {
        .title = "İleti izni",
        .subtitle = "Ticari ileti onayı ve reddi",
        .footer = "Bu sayfa 6698 sayılı KVKK ve İYS mevzuatı kapsamında izin kaydı içindir.",
        .home = "/c/",
        .home_label = "Başa dön",
        .css = cpage_css,
        .https = https,
    };
    int rc = iz_page_site_init(&cp->site, &cfg);
    if (rc == 0) rc = iz_ratelimit_new(CLIENTS, IP_POSTS_PER_MINUTE, 60, &cp->ip_posts);
    if (rc == 0) rc = iz_ratelimit_new(CLIENTS, IP_CODES_PER_HOUR, 3600, &cp->ip_codes);
    if (rc == 0) rc = iz_ratelimit_new(CLIENTS, NUM_PER_MINUTE, 60, &cp->num_minute);
    if (rc == 0) rc = iz_ratelimit_new(CLIENTS, NUM_PER_HOUR, 3600, &cp->num_hour);
    if (rc == 0) rc = iz_random(cp->key, sizeof cp->key);
    if (rc != 0) {
        iz_cpage_free(cp);
        return rc;
    }
    pthread_mutex_init(&cp->mu, NULL);
    *out = cp;
    return 0;
}

void iz_cpage_free(iz_cpage_t *cp)
{
    if (!cp) return;
    iz_ratelimit_free(cp->ip_posts);
    iz_ratelimit_free(cp->ip_codes);
    iz_ratelimit_free(cp->num_minute);
    iz_ratelimit_free(cp->num_hour);
    iz_wipe(cp, sizeof *cp);
    free(cp);
}

int iz_cpage_link(const iz_cpage_t *cp, const char *slug, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/c/%s", cp->public_url, slug);
    return n < 0 || (size_t)n >= size ? IZ_ETOOBIG : 0;
}

/* ---- one request's context -------------------------------------------------- */

typedef struct ctx {
    iz_req_t *r;
    iz_app_t *app;
    iz_cpage_t *cp;
    iz_page_site_t *site; /* the page's site with this brand's page as home */
    iz_brand_t brand;
    const char *slug, *home, *link; /* "/c/slug", the public link */
    char *info;                     /* the brand's information text */
    iz_brand_page_t page;           /* how the page proves a number */
} ctx_t;

/* What the person chose on the form. */
typedef struct choice {
    const char *phone_in, *email_in; /* as typed (for the form again) */
    char phone[IZ_PHONE_MAX];
    char email[IZ_RECIPIENT_MAX];
    bool types[3]; /* MESAJ, ARAMA, EPOSTA */
    iz_status_t status;
} choice_t;

static const iz_type_t type_of[3] = {IZ_MESAJ, IZ_ARAMA, IZ_EPOSTA};
static const char *const type_label[3] = {"SMS (kısa mesaj)", "Telefon araması", "E-posta"};

/* The brand of {slug}, its information text and the site for its pages;
 * false when answered (404 for no such page, 503 for a store failure). */
static bool ctx_open(ctx_t *c, iz_req_t *r, void *vapp)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->app = vapp;
    c->cp = atomic_load(&c->app->cpage);
    c->slug = iz_req_param(r, "slug");
    if (!c->cp) {
        iz_reply_error(r, "IZ404", "Bulunamadı.");
        return false;
    }
    c->site = iz_req_alloc(r, sizeof *c->site);
    *c->site = c->cp->site;
    int rc = IZ_ENOTFOUND;
    bool slug_ok = c->slug && *c->slug && strlen(c->slug) <= SLUG_MAX;
    for (const char *p = c->slug; slug_ok && *p; p++)
        slug_ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
    if (slug_ok) rc = iz_store_brand_by_slug(c->app->store, c->slug, &c->brand);
    if (rc == 0) {
        c->info = iz_req_alloc(r, IZ_BRAND_INFO_MAX);
        rc = iz_store_brand_info_get(c->app->store, c->brand.id, c->info, IZ_BRAND_INFO_MAX);
    }
    if (rc == 0) rc = iz_store_brand_page_get(c->app->store, c->brand.id, &c->page);
    if (rc != 0) {
        iz_page_t p;
        iz_page_begin(&p, c->site, r, "Sayfa bulunamadı");
        if (rc == IZ_ENOTFOUND) {
            iz_page_puts(&p, "<h1>Sayfa bulunamadı</h1>");
            iz_page_msg(&p, "err", "Bu adreste bir izin sayfası yok. Bağlantıyı kontrol edin.",
                        NULL);
        } else {
            iz_logf(IZ_LOG_ERROR, "cpage", "store failure", "error=%s", iz_strerror(rc));
            iz_page_puts(&p, "<h1>Şu anda hizmet veremiyoruz</h1>");
            iz_page_msg(&p, "err", "Lütfen birkaç dakika sonra tekrar deneyin.", NULL);
        }
        iz_page_end(&p, rc == IZ_ENOTFOUND ? 404 : 503);
        return false;
    }
    char *home = iz_req_alloc(r, strlen(c->slug) + 4);
    sprintf(home, "/c/%s", c->slug);
    c->home = home;
    c->site->cfg.home = home;
    c->site->cfg.home_label = "İzin sayfasına dön";
    size_t ln = strlen(c->cp->public_url) + strlen(home) + 1;
    char *link = iz_req_alloc(r, ln);
    iz_cpage_link(c->cp, c->slug, link, ln);
    c->link = link;
    return true;
}

/* ---- rendering ----------------------------------------------------------- */

/* The part of the page a person reads before consenting: the brand and its
 * information text. Its bytes are shown as they are and their SHA-256 is
 * kept as evidence (the form's CSRF token, which changes, is not in it). */
static const char *shown_html(ctx_t *c)
{
    iz_req_t *r = c->r;
    const char *name = iz_page_esc(r, c->brand.name);
    size_t n = 0;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, &n);
    if (!f) iz_oom();
    fprintf(f,
            "<h1>%s: ticari ileti izni</h1>"
            "<p>Bu sayfada <strong>%s</strong> markasının size SMS, telefon araması veya e-posta "
            "ile kampanya ve duyuru göndermesine izin verebilir ya da verdiğiniz izni geri "
            "alabilirsiniz. Seçiminizi cep telefonunuza gelen kodla onaylarsınız.</p>"
            "<section class=\"card\" aria-labelledby=\"info-h\"><h2 id=\"info-h\">Aydınlatma "
            "metni</h2>",
            name, name);
    if (c->info[0])
        fprintf(f,
                "<div class=\"info\" tabindex=\"0\" role=\"region\" "
                "aria-labelledby=\"info-h\">%s</div>",
                iz_page_esc(r, c->info));
    else
        fprintf(f,
                "<p>%s henüz bir aydınlatma metni eklememiş. Kişisel verileriniz yalnızca "
                "izin kaydınız için kullanılır.</p>",
                name);
    fputs("</section>", f);
    fclose(f);
    char *out = iz_req_strdup(r, buf);
    free(buf);
    return out;
}

static void checked(iz_page_t *p, bool on)
{
    if (on) iz_page_puts(p, " checked");
}

/* The form's fields with the person's earlier values (ch may be NULL). */
static void choice_fields(iz_page_t *p, const choice_t *ch)
{
    iz_req_t *r = p->r;
    bool ret = ch && ch->status == IZ_RET;
    iz_page_puts(p, "<fieldset><legend>Ne yapmak istiyorsunuz?</legend>"
                    "<label class=\"opt\"><input type=\"radio\" name=\"status\" value=\"ONAY\"");
    checked(p, !ret);
    iz_page_puts(p, "> İzin veriyorum</label>"
                    "<label class=\"opt\"><input type=\"radio\" name=\"status\" value=\"RET\"");
    checked(p, ret);
    iz_page_puts(p, "> İznimi geri alıyorum</label></fieldset>"
                    "<fieldset><legend>Hangi kanallar için?</legend>");
    for (int i = 0; i < 3; i++) {
        iz_page_printf(p,
                       "<label class=\"opt\"><input type=\"checkbox\" name=\"types\" value=\"%s\"",
                       iz_type_name(type_of[i]));
        checked(p, ch ? ch->types[i] : i == 0);
        iz_page_printf(p, "> %s</label>", type_label[i]);
    }
    iz_page_printf(p,
                   "</fieldset><label for=\"phone\">Cep telefonu numaranız</label>"
                   "<input id=\"phone\" name=\"phone\" type=\"tel\" inputmode=\"tel\" "
                   "autocomplete=\"tel\" required maxlength=\"20\" placeholder=\"0532 123 45 67\" "
                   "aria-describedby=\"phone-hint\" value=\"%s\">"
                   "<p class=\"hint\" id=\"phone-hint\">Doğrulama kodu bu numaraya SMS ile "
                   "gönderilir.</p>"
                   "<label for=\"email\">E-posta adresiniz</label>"
                   "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" "
                   "maxlength=\"254\" aria-describedby=\"email-hint\" value=\"%s\">"
                   "<p class=\"hint\" id=\"email-hint\">Yalnızca e-posta kanalını seçtiyseniz "
                   "gerekir.</p>",
                   iz_page_esc(r, ch ? ch->phone_in : ""), iz_page_esc(r, ch ? ch->email_in : ""));
}

/* The brand's page: what is shown, the form, the link and its QR code;
 * with an error message (err, plain text) above the form when not NULL. */
static void form_page(ctx_t *c, int status, const char *err, const choice_t *ch)
{
    iz_page_t p;
    char title[IZ_NAME_MAX + 32];
    snprintf(title, sizeof title, "%s · İleti izni", c->brand.name);
    iz_page_begin(&p, c->site, c->r, title);
    iz_page_puts(&p, shown_html(c));
    if (err) iz_page_msg(&p, "err", err, NULL);
    char *action = iz_req_alloc(c->r, strlen(c->home) + 5);
    sprintf(action, "%s/otp", c->home);
    iz_page_form_post(&p, "card", action);
    choice_fields(&p, ch);
    iz_page_puts(&p, "<button type=\"submit\">Doğrulama kodu gönder</button></form>");
    iz_page_printf(&p,
                   "<section class=\"card\" aria-labelledby=\"link-h\"><h2 id=\"link-h\">Bu "
                   "sayfanın bağlantısı</h2><p class=\"link\"><a href=\"%s\">%s</a></p>"
                   "<img class=\"qr\" src=\"%s/qr.svg\" alt=\"Bu sayfanın bağlantısını içeren "
                   "karekod\" width=\"176\" height=\"176\"></section>",
                   iz_page_esc(c->r, c->link), iz_page_esc(c->r, c->link),
                   iz_page_esc(c->r, c->home));
    iz_page_end(&p, status);
}

/* The channels chosen, as Turkish text ("SMS (kısa mesaj), E-posta"). */
static const char *channels_text(iz_req_t *r, const choice_t *ch)
{
    char buf[128] = "";
    for (int i = 0; i < 3; i++)
        if (ch->types[i]) {
            if (buf[0]) strcat(buf, ", ");
            strcat(buf, type_label[i]);
        }
    return iz_req_strdup(r, buf);
}

/* The number with all but its last 4 digits hidden: "+90 *** *** 45 67". */
static const char *masked(iz_req_t *r, const char *phone)
{
    size_t n = strlen(phone);
    char buf[40];
    snprintf(buf, sizeof buf, "%.3s *** *** %.2s %.2s", phone, phone + n - 4, phone + n - 2);
    return iz_req_strdup(r, buf);
}

/* The code form: the choices as hidden fields, the code box. */
static void code_page(ctx_t *c, int status, const char *ok, const char *err, const choice_t *ch)
{
    iz_req_t *r = c->r;
    iz_page_t p;
    char title[IZ_NAME_MAX + 32];
    snprintf(title, sizeof title, "Doğrulama kodu · %s", c->brand.name);
    iz_page_begin(&p, c->site, r, title);
    iz_page_printf(&p, "<h1>Doğrulama kodu</h1><p>%s için seçiminiz: <strong>%s</strong> · %s</p>",
                   iz_page_esc(r, c->brand.name),
                   ch->status == IZ_RET ? "İznimi geri alıyorum" : "İzin veriyorum",
                   iz_page_esc(r, channels_text(r, ch)));
    if (ok) iz_page_msg(&p, "ok", ok, NULL);
    if (err) iz_page_msg(&p, "err", err, NULL);
    char *action = iz_req_alloc(r, strlen(c->home) + 8);
    sprintf(action, "%s/verify", c->home);
    iz_page_form_post(&p, "card", action);
    iz_page_printf(&p,
                   "<input type=\"hidden\" name=\"phone\" value=\"%s\">"
                   "<input type=\"hidden\" name=\"email\" value=\"%s\">"
                   "<input type=\"hidden\" name=\"status\" value=\"%s\">",
                   iz_page_esc(r, ch->phone), iz_page_esc(r, ch->email),
                   iz_status_name(ch->status));
    for (int i = 0; i < 3; i++)
        if (ch->types[i])
            iz_page_printf(&p, "<input type=\"hidden\" name=\"types\" value=\"%s\">",
                           iz_type_name(type_of[i]));
    iz_page_printf(&p,
                   "<label for=\"code\">SMS ile gelen 6 haneli kod</label>"
                   "<input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" "
                   "autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" maxlength=\"6\" required "
                   "aria-describedby=\"code-hint\">"
                   "<p class=\"hint\" id=\"code-hint\">%sKod %lld dakika geçerlidir; kimseyle "
                   "paylaşmayın.</p>"
                   "<button type=\"submit\">Onayla</button></form>"
                   "<p><a href=\"%s\">Kod gelmedi mi? Yeni kod isteyin</a></p>",
                   c->page.iys ? "Kodu İleti Yönetim Sistemi (İYS) gönderdi ve doğrular. " : "",
                   (long long)(c->page.iys ? IYS_TTL / 60 : (c->cp->ttl + 59) / 60),
                   iz_page_esc(r, c->home));
    iz_page_end(&p, status);
}

/* ---- the form's values ----------------------------------------------------- */

/* Read and check the choices; NULL when fine, else the Turkish reason. */
static const char *read_choice(iz_req_t *r, const iz_form_t *f, choice_t *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->phone_in = iz_form_value(f, "phone", 32);
    ch->email_in = iz_form_value(f, "email", EMAIL_MAX);
    const char *st = iz_form_value(f, "status", 8);
    int ntypes = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->name[i], "types") != 0) continue;
        int k = -1;
        for (int j = 0; j < 3; j++)
            if (strcmp(f->value[i], iz_type_name(type_of[j])) == 0) k = j;
        if (k < 0 || f->value_len[i] != strlen(f->value[i])) return "Geçersiz bir kanal seçildi.";
        ch->types[k] = true;
        ntypes++;
    }
    (void)r;
    if (!st || iz_status_parse(st, &ch->status) != 0)
        return "İzin vermek mi yoksa geri almak mı istediğinizi seçin.";
    if (ntypes == 0) return "En az bir kanal seçin.";
    const char *hcode = NULL;
    if (!ch->phone_in || !*ch->phone_in ||
        iz_phone_normalize(ch->phone_in, strlen(ch->phone_in), ch->phone, &hcode) != 0 ||
        strncmp(ch->phone, "+905", 4) != 0)
        return "Cep telefonu numaranızı 0532 123 45 67 gibi, başında 0 ile yazın.";
    if (ch->types[2]) {
        if (!ch->email_in || !*ch->email_in ||
            iz_recipient_normalize(ch->email_in, strlen(ch->email_in), IZ_EPOSTA, ch->email,
                                   &hcode) != 0)
            return "E-posta kanalı için geçerli bir e-posta adresi yazın.";
    } else if (ch->email_in && *ch->email_in) {
        ch->email_in = ""; /* not asked for: neither kept nor bound to the code */
    }
    return NULL;
}

/* The code's MAC: the brand, the choices and the code under the key. */
static void code_mac(const iz_cpage_t *cp, int64_t brand_id, const choice_t *ch, const char *code,
                     uint8_t out[crypto_auth_hmacsha256_BYTES])
{
    char msg[64 + IZ_PHONE_MAX + IZ_RECIPIENT_MAX];
    int n = snprintf(msg, sizeof msg, "%lld|%s|%s|%d%d%d|%s|%s", (long long)brand_id, ch->phone,
                     ch->types[2] ? ch->email : "", ch->types[0], ch->types[1], ch->types[2],
                     iz_status_name(ch->status), code);
    crypto_auth_hmacsha256(out, (const unsigned char *)msg, (unsigned long long)n, cp->key);
}

/* The live code of (brand, phone), or NULL; under cp->mu. */
static code_t *code_find(iz_cpage_t *cp, int64_t brand_id, const char *phone)
{
    for (size_t i = 0; i < CODES_MAX; i++)
        if (cp->codes[i].brand_id == brand_id && strcmp(cp->codes[i].phone, phone) == 0)
            return &cp->codes[i];
    return NULL;
}

/* A slot for a new code of (brand, phone): its old one, a free or expired
 * one, else the one that ends first; under cp->mu. */
static code_t *code_slot(iz_cpage_t *cp, int64_t brand_id, const char *phone, int64_t now)
{
    code_t *c = code_find(cp, brand_id, phone);
    if (c && !c->busy) return c;
    code_t *best = NULL;
    for (size_t i = 0; i < CODES_MAX; i++) {
        code_t *k = &cp->codes[i];
        if (k->busy) continue;
        if (k->brand_id == 0 || k->expires <= now) return k;
        if (!best || k->expires < best->expires) best = k;
    }
    return best;
}

/* ---- handlers --------------------------------------------------------------- */

/* The İYS-verified mode's halves of the two POSTs, and the answer to a
 * verified code (both modes). */
static void otp_iys(ctx_t *c, const choice_t *ch);
static void verify_iys(ctx_t *c, const choice_t *ch, const char *code);
static void done_page(ctx_t *c, const choice_t *ch, int rc);

void iz__h_cpage_get(iz_req_t *r, void *vapp)
{
    ctx_t c;
    if (!ctx_open(&c, r, vapp)) return;
    form_page(&c, 200, NULL, NULL);
}

void iz__h_cpage_qr(iz_req_t *r, void *vapp)
{
    ctx_t c;
    if (!ctx_open(&c, r, vapp)) return;
    iz_qr_t *q = iz_req_alloc(r, sizeof *q);
    if (iz_qr_encode(c.link, strlen(c.link), -1, q) != 0) {
        iz_reply_error(r, "IZ500", "Bağlantı karekoda sığmıyor.");
        return;
    }
    char *svg = iz_req_alloc(r, IZ_QR_SVG_MAX);
    size_t n = iz_qr_svg(q, svg, IZ_QR_SVG_MAX);
    iz_reply_header(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    iz_reply_bytes(r, 200, "image/svg+xml", svg, n);
}

/* Count one code for the number and the address: 0, or answered with 429. */
static int code_limits(ctx_t *c, const char *phone)
{
    int64_t now = (int64_t)time(NULL), retry = 1;
    char key[IZ_PHONE_MAX + 8];
    snprintf(key, sizeof key, "n:%s", phone);
    if (iz_ratelimit_hit(c->cp->ip_codes, iz_req_remote(c->r), now, &retry) == 0 &&
        iz_ratelimit_hit(c->cp->num_minute, key, now, &retry) == 0 &&
        iz_ratelimit_hit(c->cp->num_hour, key, now, &retry) == 0)
        return 0;
    iz_page_too_many(c->r, c->site, retry);
    return IZ_EBUSY;
}

/* The prologue of both POSTs: the brand, the per-IP limit, the CSRF check
 * and the choices; false when answered (a bad choice: the form again). */
static bool post_open(ctx_t *c, iz_req_t *r, void *vapp, iz_form_t *form, choice_t *ch)
{
    if (!ctx_open(c, r, vapp) || iz_page_post_form(r, c->site, c->cp->ip_posts, form) != 0)
        return false;
    const char *err = read_choice(r, form, ch);
    if (err) form_page(c, 422, err, ch);
    return err == NULL;
}

void iz__h_cpage_otp(iz_req_t *r, void *vapp)
{
    ctx_t c;
    iz_form_t form;
    choice_t ch;
    if (!post_open(&c, r, vapp, &form, &ch)) return;
    if (c.page.iys) {
        otp_iys(&c, &ch);
        return;
    }
    struct iz_sms_queue *q = iz_api_sms_queue(c.app);
    if (!q) {
        form_page(&c, 503, "SMS gönderimi şu anda yapılamıyor. Lütfen daha sonra tekrar deneyin.",
                  &ch);
        return;
    }
    if (code_limits(&c, ch.phone) != 0) return;
    uint32_t v = randombytes_uniform(1000000);
    char code[8], text[IZ_NAME_MAX + 160];
    snprintf(code, sizeof code, "%06u", (unsigned)v);
    snprintf(text, sizeof text,
             "%s izin doğrulama kodunuz: %s. Kod %lld dakika geçerlidir; kimseyle paylaşmayın.",
             c.brand.name, code, (long long)((c.cp->ttl + 59) / 60));
    const char *from = c.brand.short_number[0] ? c.brand.short_number : "IZIN";
    char msg_id[IZ_SMS_ID_MAX] = "";
    int rc = iz_sms_queue_notice(q, c.brand.account_id, c.brand.id, from, ch.phone, text, msg_id);
    if (rc != 0) {
        iz_logf(IZ_LOG_ERROR, "cpage", "code SMS not queued", "brand=%lld error=%s",
                (long long)c.brand.code, iz_strerror(rc));
        form_page(&c, 503, "Kod gönderilemedi. Lütfen birkaç dakika sonra tekrar deneyin.", &ch);
        return;
    }
    iz_sms_queue_wake(q);
    const char *shown = shown_html(&c);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&c.cp->mu);
    code_t *k = code_slot(c.cp, c.brand.id, ch.phone, now);
    if (k) {
        memset(k, 0, sizeof *k);
        k->brand_id = c.brand.id;
        memcpy(k->phone, ch.phone, sizeof k->phone);
        code_mac(c.cp, c.brand.id, &ch, code, k->mac);
        k->sent = now;
        k->expires = now + c.cp->ttl;
        k->tries_left = CODE_TRIES;
        memcpy(k->msg_id, msg_id, sizeof k->msg_id);
        iz_sha256_hex(shown, strlen(shown), k->page_sha);
        iz_sha256_hex(c.info, strlen(c.info), k->info_sha);
    }
    pthread_mutex_unlock(&c.cp->mu);
    sodium_memzero(code, sizeof code);
    sodium_memzero(text, sizeof text);
    char ok[160];
    snprintf(ok, sizeof ok, "%s numarasına 6 haneli bir kod gönderdik.", masked(r, ch.phone));
    code_page(&c, 200, ok, NULL, &ch);
}

/* Record each chosen channel through the domain, with the evidence: the
 * code's (k) and the mode's own fields in extra (taken). */
static int record(ctx_t *c, const choice_t *ch, const code_t *k, int64_t now, json_t *extra)
{
    json_t *common = json_pack("{s:s, s:s, s:s, s:s}", "page", c->link, "pageSha256", k->page_sha,
                               "infoTextSha256", k->info_sha, "otpRecipient", ch->phone);
    if (!extra || !common || json_object_update(extra, common) != 0) iz_oom();
    json_decref(common);
    char sent[IZ_DATETIME_LEN];
    iz_tr_format(k->sent, sent);
    json_object_set_new(extra, "codeSentAt", json_string(sent));
    const char *evidence = iz_api_evidence(c->r, extra);
    json_decref(extra);
    iz_record_t recs[3];
    iz_consent_t valid[3];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        if (!ch->types[i]) continue;
        memset(&recs[n], 0, sizeof recs[n]);
        memset(&valid[n], 0, sizeof valid[n]);
        iz_strlcpy(valid[n].recipient, i == 2 ? ch->email : ch->phone, sizeof valid[n].recipient);
        valid[n].type = type_of[i];
        valid[n].status = ch->status;
        valid[n].source = IZ_HS_WEB;
        valid[n].rtype = IZ_BIREYSEL;
        valid[n].consent_date = now;
        recs[n].valid = &valid[n];
        recs[n].origin = IZ_ORIGIN_URL;
        recs[n].evidence = evidence;
        n++;
    }
    int rc = iz_domain_record(c->app->dom, &c->brand, now, recs, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* The same status again (H174) is what the person asked for: no
         * error, and no hint whether there was a record. */
        if (recs[i].rc == 0 || recs[i].rc == IZ_REPEAT ||
            (recs[i].rc == IZ_ERULE && recs[i].hcode && strcmp(recs[i].hcode, "H174") == 0))
            continue;
        iz_logf(IZ_LOG_WARN, "cpage", "change refused", "brand=%lld type=%s rc=%s hcode=%s",
                (long long)c->brand.code, iz_type_name(valid[i].type), iz_strerror(recs[i].rc),
                recs[i].hcode ? recs[i].hcode : "");
        if (recs[i].rc == IZ_EIO || recs[i].rc == IZ_EBUSY)
            rc = recs[i].rc;
        else if (recs[i].hcode && strcmp(recs[i].hcode, "IZ4031") == 0)
            rc = IZ_EQUOTA; /* the brand's plan is full: not the person's doing */
        else
            rc = IZ_ERULE;
    }
    return rc;
}

void iz__h_cpage_verify(iz_req_t *r, void *vapp)
{
    ctx_t c;
    iz_form_t form;
    choice_t ch;
    if (!post_open(&c, r, vapp, &form, &ch)) return;
    const char *code = iz_form_value(&form, "code", 16);
    bool digits = code && strlen(code) == 6 && strspn(code, "0123456789") == 6;
    if (!digits) {
        code_page(&c, 422, NULL, "Kod 6 rakamdan oluşur; SMS ile gelen kodu yazın.", &ch);
        return;
    }
    if (c.page.iys) {
        verify_iys(&c, &ch, code);
        return;
    }
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    code_mac(c.cp, c.brand.id, &ch, code, mac);
    int64_t now = (int64_t)time(NULL);
    code_t k;
    int left = -1;
    pthread_mutex_lock(&c.cp->mu);
    code_t *slot = code_find(c.cp, c.brand.id, ch.phone);
    if (slot && (slot->busy || slot->expires <= now)) slot = NULL;
    if (slot) {
        if (sodium_memcmp(slot->mac, mac, sizeof mac) == 0) {
            slot->busy = 1;
            k = *slot;
        } else {
            left = --slot->tries_left;
            if (left <= 0) memset(slot, 0, sizeof *slot);
            slot = NULL;
        }
    }
    pthread_mutex_unlock(&c.cp->mu);
    if (!slot) {
        if (left > 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "Kod yanlış. %d deneme hakkınız kaldı.", left);
            code_page(&c, 422, NULL, msg, &ch);
        } else {
            form_page(&c, left == 0 ? 422 : 410,
                      left == 0 ? "Kod 5 kez yanlış girildi ve artık geçersiz. Yeni bir kod "
                                  "isteyin."
                                : "Kodun süresi dolmuş ya da bu numara için geçerli bir kod "
                                  "yok. Yeni bir kod isteyin.",
                      &ch);
        }
        return;
    }
    json_t *extra = json_pack("{s:s, s:s}", "method", "SMS_OTP", "otpMessageId", k.msg_id);
    int rc = record(&c, &ch, &k, now, extra);
    pthread_mutex_lock(&c.cp->mu);
    if (rc == 0 || rc == IZ_ERULE || rc == IZ_EQUOTA)
        memset(slot, 0, sizeof *slot); /* a code is used once */
    else
        slot->busy = 0; /* the store failed: the person may try the same code again */
    pthread_mutex_unlock(&c.cp->mu);
    done_page(&c, &ch, rc);
}

/* The answer to a verified code: the record's failure (rc), or the
 * confirmation. */
static void done_page(ctx_t *c, const choice_t *ch, int rc)
{
    iz_req_t *r = c->r;
    if (rc == IZ_EQUOTA) {
        char msg[IZ_NAME_MAX + 160];
        snprintf(msg, sizeof msg,
                 "%s şu anda yeni izin kaydı alamıyor; seçiminiz kaydedilmedi. Lütfen markayla "
                 "iletişime geçin.",
                 c->brand.name);
        form_page(c, 403, msg, ch);
        return;
    }
    if (rc != 0) {
        code_page(c, rc == IZ_ERULE ? 409 : 503, NULL,
                  rc == IZ_ERULE ? "Bu değişiklik kaydedilemedi. Lütfen markayla iletişime geçin."
                                 : "Kayıt şu anda yapılamadı. Aynı kodla biraz sonra tekrar "
                                   "deneyin.",
                  ch);
        return;
    }
    iz_page_t p;
    iz_page_begin(&p, c->site, r, "Tercihiniz kaydedildi");
    iz_page_puts(&p, "<h1>Tercihiniz kaydedildi</h1>");
    char ok[IZ_NAME_MAX + 256];
    snprintf(ok, sizeof ok, "%s için %s: %s.", c->brand.name,
             ch->status == IZ_RET ? "izniniz geri alındı" : "izniniz kaydedildi",
             channels_text(r, ch));
    iz_page_msg(&p, "ok", ok, NULL);
    iz_page_printf(&p,
                   "<div class=\"card\"><p>Değişiklik İleti Yönetim Sistemi'ne (İYS) iletilir. "
                   "Tercihinizi istediğiniz zaman bu sayfadan değiştirebilirsiniz.</p>"
                   "<p><a href=\"%s\">İzin sayfasına dön</a></p></div>",
                   iz_page_esc(r, c->home));
    iz_page_end(&p, 200);
}

/* ---- the İYS-verified mode ------------------------------------------------------
 *
 * İYS's OTP management (ViA Pass) sends the code and checks it, so İYS holds
 * the proof that the person has the number (its process, its request
 * history and summary file under the requestId). izin keeps the requestId
 * in the code table, bound to the choices as a local code is (the MAC is
 * over the choices and the requestId), and on İYS's "completed" records the
 * change through the domain, HS_WEB, with the requestId in the evidence; the
 * sync engine sends it to İYS as every change (docs/DECISIONS.md). */

/* İYS did not answer (or the account has no İYS): nothing was done. */
static const char iys_down[] = "İYS'ye şu an ulaşılamıyor. İşleminiz kaydedilmedi; lütfen "
                               "birkaç dakika sonra tekrar deneyin.";

static iz_iys_t *iys_client(ctx_t *c)
{
    return c->app->sync ? iz_sync_client(c->app->sync, c->brand.account_id) : NULL;
}

/* A call to İYS's OTP service, on an outside-call worker (net/http.h,
 * iz_req_defer): no server thread waits for İYS. The work reads only its
 * own copies; c and ch (the request's) are for the end, on a server
 * thread again. */
typedef struct otp_call {
    ctx_t c;
    choice_t ch;
    iz_iys_t *cli;
    bool complete; /* iz_iys_otp_sms_complete, else _start */
    char phone[IZ_PHONE_MAX], tmpl[IZ_PAGE_TEMPLATE_MAX], vkn[sizeof(((iz_brand_page_t *)0)->vkn)];
    char request_id[REQUEST_ID_MAX], code[8];
    /* verify's: the slot (busy while İYS is asked) and its copy */
    code_t *slot;
    code_t k;
    int64_t now;
    /* the work's */
    int rc;
    iz_iys_res_t res;
} otp_call_t;

static void otp_call_work(iz_work_t *w, void *arg)
{
    (void)w;
    otp_call_t *o = arg;
    if (o->complete)
        o->rc = iz_iys_otp_sms_complete(o->cli, o->request_id, o->code, &o->res);
    else
        o->rc = iz_iys_otp_sms_start(o->cli, o->phone, o->tmpl, o->vkn, &o->res);
}

static void otp_call_free(void *arg)
{
    otp_call_t *o = arg;
    iz_iys_res_clear(&o->res);
    sodium_memzero(o->code, sizeof o->code);
    free(o);
}

/* A new call for the request of c and ch. */
static otp_call_t *otp_call_new(ctx_t *c, const choice_t *ch, iz_iys_t *cli)
{
    otp_call_t *o = iz_xcalloc(1, sizeof *o);
    o->c = *c;
    o->ch = *ch;
    o->cli = cli;
    return o;
}

static void otp_start_end(iz_req_t *r, void *arg, iz_defer_end_t how);

static void otp_iys(ctx_t *c, const choice_t *ch)
{
    iz_iys_t *cli = iys_client(c);
    if (!cli) {
        iz_logf(IZ_LOG_ERROR, "cpage", "İYS-verified page without İYS", "brand=%lld",
                (long long)c->brand.code);
        form_page(c, 503, iys_down, ch);
        return;
    }
    if (code_limits(c, ch->phone) != 0) return;
    otp_call_t *o = otp_call_new(c, ch, cli);
    iz_strlcpy(o->phone, ch->phone, sizeof o->phone);
    iz_strlcpy(o->tmpl, c->page.otp_template, sizeof o->tmpl);
    iz_strlcpy(o->vkn, c->page.vkn, sizeof o->vkn);
    iz_req_defer(c->r, otp_call_work, otp_start_end, otp_call_free, o,
                 (unsigned)c->app->iys_wait_ms);
}

static void otp_start_end(iz_req_t *r, void *arg, iz_defer_end_t how)
{
    (void)r;
    otp_call_t *o = arg;
    ctx_t *c = &o->c;
    const choice_t *ch = &o->ch;
    if (how != IZ_DEFER_DONE) {
        iz_logf(IZ_LOG_WARN, "cpage", "İYS's SMS OTP not started in time", "brand=%lld %s",
                (long long)c->brand.code, how == IZ_DEFER_LATE ? "late" : "busy");
        form_page(c, 503, iys_down, ch);
        return;
    }
    iz_iys_res_t res = o->res;
    int rc = o->rc;
    const char *rid =
        json_string_value(json_object_get(json_object_get(res.body, "data"), "requestId"));
    bool rid_ok = rid && *rid && strlen(rid) < REQUEST_ID_MAX;
    for (const char *q = rid; rid_ok && *q; q++)
        rid_ok = (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                 *q == '-' || *q == '_';
    if (rc != 0 || res.cls != IZ_IYS_OK || !rid_ok) {
        iz_logf(IZ_LOG_WARN, "cpage", "İYS's SMS OTP not started",
                "brand=%lld http=%ld code=%s "
                "message=%s",
                (long long)c->brand.code, res.http, res.code, res.message);
        char msg[400];
        bool refused = rc == 0 && res.cls == IZ_IYS_PERMANENT;
        if (refused)
            snprintf(msg, sizeof msg,
                     "İYS doğrulama kodunu gönderemedi (%s: %s). Lütfen markayla iletişime "
                     "geçin.",
                     res.code, res.message);
        form_page(c, refused ? 502 : 503, refused ? msg : iys_down, ch);
        return;
    }
    const char *shown = shown_html(c);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&c->cp->mu);
    code_t *k = code_slot(c->cp, c->brand.id, ch->phone, now);
    if (k) {
        memset(k, 0, sizeof *k);
        k->brand_id = c->brand.id;
        memcpy(k->phone, ch->phone, sizeof k->phone);
        iz_strlcpy(k->request_id, rid, sizeof k->request_id);
        code_mac(c->cp, c->brand.id, ch, k->request_id, k->mac);
        k->sent = now;
        k->expires = now + IYS_TTL;
        k->tries_left = IYS_TRIES;
        iz_sha256_hex(shown, strlen(shown), k->page_sha);
        iz_sha256_hex(c->info, strlen(c->info), k->info_sha);
    }
    pthread_mutex_unlock(&c->cp->mu);
    char ok[200];
    snprintf(ok, sizeof ok, "İleti Yönetim Sistemi (İYS), %s numarasına 6 haneli bir kod gönderdi.",
             masked(c->r, ch->phone));
    code_page(c, 200, ok, NULL, ch);
}

/* İYS's refusal of a code as the page's answer; the slot (under the lock
 * again) is counted down or ended as İYS counts. */
static void iys_refused(ctx_t *c, const choice_t *ch, code_t *slot, const iz_iys_res_t *res)
{
    bool wrong = strcmp(res->code, "H1052") == 0;
    int left = 0;
    pthread_mutex_lock(&c->cp->mu);
    if (wrong && --slot->tries_left > 0) {
        slot->busy = 0;
        left = slot->tries_left;
    } else {
        memset(slot, 0, sizeof *slot);
    }
    pthread_mutex_unlock(&c->cp->mu);
    char msg[400];
    if (wrong && left > 0) {
        snprintf(msg, sizeof msg, "İYS kodu doğrulamadı: kod yanlış. %d deneme hakkınız kaldı.",
                 left);
        code_page(c, 422, NULL, msg, ch);
        return;
    }
    int status = 410;
    if (wrong || strcmp(res->code, "H1050") == 0)
        snprintf(msg, sizeof msg,
                 "Kod %d kez yanlış girildi; İYS bu doğrulamayı kapattı. Yeni "
                 "bir kod isteyin.",
                 IYS_TRIES);
    else if (strcmp(res->code, "H1051") == 0 || strcmp(res->code, "OTP-ERROR-001") == 0)
        snprintf(msg, sizeof msg,
                 "Kodun süresi dolmuş ya da bu numara için geçerli bir kod yok. "
                 "Yeni bir kod isteyin.");
    else {
        status = 422;
        snprintf(msg, sizeof msg, "İYS doğrulamayı kabul etmedi (%s: %s). Yeni bir kod isteyin.",
                 res->code, res->message);
    }
    form_page(c, status, msg, ch);
}

static void verify_iys_end(iz_req_t *r, void *arg, iz_defer_end_t how);
static void verify_unanswered(ctx_t *c, const choice_t *ch, code_t *slot, bool lost);
static void verify_record(ctx_t *c, const choice_t *ch, code_t *slot, const code_t *kp,
                          const char *code, int64_t now);

static void verify_iys(ctx_t *c, const choice_t *ch, const char *code)
{
    int64_t now = (int64_t)time(NULL);
    code_t k;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    pthread_mutex_lock(&c->cp->mu);
    code_t *slot = code_find(c->cp, c->brand.id, ch->phone);
    if (slot && (slot->busy || !slot->request_id[0] || slot->expires <= now)) slot = NULL;
    bool bound = false;
    if (slot) {
        /* Verified already (the record failed): the MAC holds the code too. */
        char with_code[REQUEST_ID_MAX + 8];
        snprintf(with_code, sizeof with_code, "%s|%s", slot->request_id, code);
        code_mac(c->cp, c->brand.id, ch, slot->verified ? with_code : slot->request_id, mac);
        bound = sodium_memcmp(slot->mac, mac, sizeof mac) == 0;
        if (bound) {
            slot->busy = 1;
            k = *slot;
        } else if (--slot->tries_left <= 0) {
            memset(slot, 0, sizeof *slot);
        }
    }
    int left = slot && !bound ? slot->tries_left : 0;
    pthread_mutex_unlock(&c->cp->mu);
    if (!slot || !bound) {
        if (left > 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "Kod yanlış. %d deneme hakkınız kaldı.", left);
            code_page(c, 422, NULL, msg, ch);
        } else {
            form_page(c, 410,
                      "Kodun süresi dolmuş ya da bu numara için geçerli bir kod yok. "
                      "Yeni bir kod isteyin.",
                      ch);
        }
        return;
    }
    if (!k.verified) {
        /* İYS is asked whether the code is right; the answer comes in
         * verify_iys_end. */
        iz_iys_t *cli = iys_client(c);
        if (!cli) {
            verify_unanswered(c, ch, slot, true);
            return;
        }
        otp_call_t *o = otp_call_new(c, ch, cli);
        o->complete = true;
        iz_strlcpy(o->request_id, k.request_id, sizeof o->request_id);
        iz_strlcpy(o->code, code, sizeof o->code);
        o->slot = slot;
        o->k = k;
        o->now = now;
        iz_req_defer(c->r, otp_call_work, verify_iys_end, otp_call_free, o,
                     (unsigned)c->app->iys_wait_ms);
        return;
    }
    verify_record(c, ch, slot, &k, code, now);
}

/* İYS's answer to a completion as the page's answer. */
static void verify_iys_end(iz_req_t *r, void *arg, iz_defer_end_t how)
{
    (void)r;
    otp_call_t *o = arg;
    ctx_t *c = &o->c;
    const choice_t *ch = &o->ch;
    if (how != IZ_DEFER_DONE) {
        /* Late: İYS may complete it yet, as with an answer lost. */
        verify_unanswered(c, ch, o->slot, how == IZ_DEFER_LATE);
        return;
    }
    iz_iys_res_t *res = &o->res;
    int rc = o->rc;
    /* İYS answered "completed already" to a process whose earlier
     * completion's answer was lost: that completion was this one. */
    bool ok = rc == 0 &&
              (res->cls == IZ_IYS_OK || (o->k.complete_lost && strcmp(res->code, "H1110") == 0));
    if (!ok && (rc != 0 || res->cls != IZ_IYS_PERMANENT)) {
        iz_logf(IZ_LOG_WARN, "cpage", "İYS's SMS OTP completion not answered",
                "brand=%lld http=%ld message=%s", (long long)c->brand.code, res->http,
                res->message);
        verify_unanswered(c, ch, o->slot, res->http == 0 || res->http >= 500);
        return;
    }
    if (!ok) {
        iys_refused(c, ch, o->slot, res);
        return;
    }
    verify_record(c, ch, o->slot, &o->k, o->code, o->now);
}

/* İYS did not answer a completion: the slot is free for another try (lost:
 * İYS may have completed it) and the page says so. */
static void verify_unanswered(ctx_t *c, const choice_t *ch, code_t *slot, bool lost)
{
    pthread_mutex_lock(&c->cp->mu);
    slot->busy = 0;
    slot->complete_lost = lost;
    pthread_mutex_unlock(&c->cp->mu);
    code_page(c, 503, NULL, iys_down, ch);
}

/* Record a code İYS verified (k, the slot's copy) and answer. */
static void verify_record(ctx_t *c, const choice_t *ch, code_t *slot, const code_t *kp,
                          const char *code, int64_t now)
{
    code_t k = *kp;
    json_t *extra = json_pack("{s:s, s:s, s:s}", "method", "IYS_SMS_OTP", "iysRequestId",
                              k.request_id, "iysOtpTemplate", c->page.otp_template);
    int rc = record(c, ch, &k, now, extra);
    pthread_mutex_lock(&c->cp->mu);
    if (rc == 0 || rc == IZ_ERULE || rc == IZ_EQUOTA) {
        memset(slot, 0, sizeof *slot); /* a process is used once */
    } else {
        /* İYS verified the code but the store failed: the same code may
         * record it again, without asking İYS (which would answer H1110). */
        char with_code[REQUEST_ID_MAX + 8];
        snprintf(with_code, sizeof with_code, "%s|%s", k.request_id, code);
        code_mac(c->cp, c->brand.id, ch, with_code, slot->mac);
        slot->verified = true;
        slot->busy = 0;
    }
    pthread_mutex_unlock(&c->cp->mu);
    done_page(c, ch, rc);
}
