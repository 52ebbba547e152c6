/*
 * page.c - the HTML page kit of page.h: the layout and its stylesheet, the
 * security headers, escaping, the CSRF double submit, cookies, and the
 * pages that refuse a request.
 *
 * A page is written to a memory stream (open_memstream) and sent whole with
 * one iz_reply_bytes, so a handler never answers half a page and the
 * headers are always decided before the body goes out.
 */
#include "net/page.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/utf8.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define CSRF_COOKIE "iz_csrf"
#define HOST_PREFIX "__Host-"

/* The kit's stylesheet: mobile first (one column, full-width controls and
 * 44 px touch targets from 320 px up; buttons shrink to their text from
 * 40rem), text and borders at WCAG AA contrast on their backgrounds, and a
 * focus ring on whatever the keyboard reaches. */
static const char kit_css[] =
    "*,*::before,*::after{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',"
    "'DejaVu Sans',Arial,sans-serif;background:#f3f5f7;color:#1c2126;line-height:1.5;"
    "font-size:1rem;overflow-wrap:break-word}"
    ".skip{position:absolute;left:.5rem;top:-5rem;background:#fff;color:#0d4a80;"
    "padding:.5rem 1rem;border-radius:.3rem;font-weight:600}"
    ".skip:focus{top:.5rem}"
    "header{background:#0d4a80;color:#fff;padding:.9rem 0}"
    "header p{max-width:42rem;margin:0 auto;padding:0 1rem}"
    ".site{font-weight:700;font-size:1.1rem}.sub{font-size:.9rem;color:#dce8f3}"
    "main{display:block;max-width:42rem;margin:0 auto;padding:1rem}"
    "main:focus{outline:none}"
    "h1{font-size:1.35rem;line-height:1.3;margin:.5rem 0 1rem}"
    "h2{font-size:1.1rem;line-height:1.3;margin:1.5rem 0 .5rem}"
    ".card{background:#fff;border:1px solid #d3d9df;border-radius:.6rem;padding:1rem;"
    "margin:.75rem 0}"
    ".card>:first-child{margin-top:0}.card>:last-child{margin-bottom:0}"
    "label{display:block;font-weight:600;margin-top:.75rem}"
    ".card label:first-of-type{margin-top:0}"
    "input,select,textarea,button{display:block;font:inherit;color:inherit;width:100%;"
    "min-width:0;min-height:2.75rem;padding:.55rem .7rem;margin:.3rem 0;"
    "border:1px solid #6b7580;border-radius:.45rem;background:#fff}"
    "textarea{resize:vertical;min-height:7rem}"
    "button{margin-top:.75rem;background:#0d4a80;border-color:#0d4a80;color:#fff;"
    "font-weight:600;cursor:pointer}"
    "button:hover{background:#0a3a66}"
    ":focus-visible{outline:3px solid #1c2126;outline-offset:2px}"
    ".msg{padding:.8rem 1rem;border-radius:.5rem;margin:.75rem 0;border:1px solid}"
    ".msg.ok{background:#e6f4ea;border-color:#3d8b4f}"
    ".msg.err{background:#fdecea;border-color:#c0392b}"
    ".meta{color:#4f5963;font-size:.92rem;margin:.25rem 0}"
    "a{color:#0d4a80;text-underline-offset:.15em}"
    "footer{max-width:42rem;margin:0 auto;padding:1rem 1rem 1.5rem;color:#4f5963;"
    "font-size:.85rem;text-align:center}"
    "footer p{margin:0;padding-top:1rem;border-top:1px solid #d3d9df}"
    "@media(min-width:40rem){main{padding:1.5rem 1rem}"
    "button{display:inline-block;width:auto;padding:.55rem 1.4rem}}";

/* A path of this site: "/" and more, never "//host" (another origin), no
 * control byte or space (nothing to split a header with). */
static bool is_local_path(const char *s)
{
    if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\') return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return false;
    return true;
}

int iz_page_site_init(iz_page_site_t *site, const iz_page_site_cfg_t *cfg)
{
    memset(site, 0, sizeof *site);
    const char *css = cfg->css ? cfg->css : "";
    if (strchr(css, '<') || (cfg->home && !is_local_path(cfg->home))) return IZ_EINVAL;
    int n = snprintf(site->style, sizeof site->style, "%s%s", kit_css, css);
    if (n < 0 || (size_t)n >= sizeof site->style) return IZ_ETOOBIG;
    uint8_t md[32];
    iz_sha256(site->style, (size_t)n, md);
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, md, sizeof md, sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(site->csp, sizeof site->csp,
                 "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                 b64);
    if (n < 0 || (size_t)n >= sizeof site->csp) return IZ_ETOOBIG;
    site->cfg = *cfg;
    return 0;
}

/* ---- escaping ---------------------------------------------------------------- */

size_t iz_page_escape(char *out, size_t outsz, const char *text)
{
    size_t n = 0;
    for (const char *p = text ? text : ""; *p; p++) {
        const char *rep;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            rep = NULL;
            break;
        }
        size_t l = rep ? strlen(rep) : 1;
        if (n + l < outsz)
            memcpy(out + n, rep ? rep : p, l);
        else if (n < outsz)
            outsz = n + 1; /* full: stop writing, keep counting */
        n += l;
    }
    if (outsz > 0) out[n < outsz ? n : outsz - 1] = '\0';
    return n;
}

const char *iz_page_esc(iz_req_t *r, const char *text)
{
    size_t n = iz_page_escape(NULL, 0, text);
    char *o = iz_req_alloc(r, n + 1);
    iz_page_escape(o, n + 1, text);
    return o;
}

/* ---- a page ------------------------------------------------------------------- */

void iz_page_begin(iz_page_t *p, const iz_page_site_t *site, iz_req_t *r, const char *title)
{
    memset(p, 0, sizeof *p);
    p->site = site;
    p->r = r;
    p->f = open_memstream(&p->buf, &p->len);
    if (!p->f) iz_oom();
    const iz_page_site_cfg_t *c = &site->cfg;
    iz_page_printf(p,
                   "<!DOCTYPE html>\n<html lang=\"tr\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                   "<link rel=\"icon\" href=\"data:,\"><title>%s</title><style>%s</style>"
                   "</head><body><a class=\"skip\" href=\"#main\">İçeriğe geç</a><header>",
                   iz_page_esc(r, title), site->style);
    if (c->title) iz_page_printf(p, "<p class=\"site\">%s</p>", iz_page_esc(r, c->title));
    if (c->subtitle) iz_page_printf(p, "<p class=\"sub\">%s</p>", iz_page_esc(r, c->subtitle));
    iz_page_puts(p, "</header><main id=\"main\" tabindex=\"-1\">");
}

void iz_page_printf(iz_page_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
}

void iz_page_puts(iz_page_t *p, const char *html)
{
    fputs(html, p->f);
}

void iz_page_msg(iz_page_t *p, const char *kind, const char *text, const char *html)
{
    bool ok = strcmp(kind, "ok") == 0;
    iz_page_printf(p, "<div class=\"msg %s\" role=\"%s\">%s</div>", ok ? "ok" : "err",
                   ok ? "status" : "alert", html ? html : iz_page_esc(p->r, text));
}

void iz_page_csrf_field(iz_page_t *p)
{
    if (!p->csrf && !p->failed && iz_page_csrf(p->r, p->site, &p->csrf) != 0) {
        iz_logf(IZ_LOG_ERROR, "page", "no randomness for a CSRF token", "path=%s",
                iz_req_path(p->r));
        p->failed = IZ_EIO;
    }
    iz_page_printf(p, "<input type=\"hidden\" name=\"" IZ_PAGE_CSRF_FIELD "\" value=\"%s\">",
                   p->csrf ? p->csrf : "");
}

void iz_page_form_post(iz_page_t *p, const char *cls, const char *action)
{
    if (cls)
        iz_page_printf(p, "<form class=\"%s\" method=\"post\" action=\"%s\">",
                       iz_page_esc(p->r, cls), iz_page_esc(p->r, action));
    else
        iz_page_printf(p, "<form method=\"post\" action=\"%s\">", iz_page_esc(p->r, action));
    iz_page_csrf_field(p);
}

/* The headers every page carries besides those the HTTP layer adds. */
static void security_headers(iz_req_t *r, const iz_page_site_t *site)
{
    iz_reply_header(r, "Content-Security-Policy", site->csp);
    iz_reply_header(r, "X-Frame-Options", "DENY");
    iz_reply_header(r, "Referrer-Policy", "no-referrer");
}

void iz_page_end(iz_page_t *p, int status)
{
    if (p->site->cfg.footer)
        iz_page_printf(p, "</main><footer><p>%s</p></footer>",
                       iz_page_esc(p->r, p->site->cfg.footer));
    else
        iz_page_puts(p, "</main>");
    iz_page_puts(p, "</body></html>\n");
    if (fclose(p->f) != 0) iz_oom();
    p->f = NULL;
    if (p->failed) {
        /* A form without a token could never be sent back: say so instead. */
        free(p->buf);
        p->buf = NULL;
        iz_page_refuse(p->r, p->site, 503, "Hizmet geçici olarak kullanılamıyor",
                       "Sayfa şu anda güvenli biçimde hazırlanamıyor. Lütfen biraz sonra "
                       "tekrar deneyin.");
        return;
    }
    security_headers(p->r, p->site);
    iz_reply_bytes(p->r, status, "text/html; charset=utf-8", p->buf, p->len);
    free(p->buf);
    p->buf = NULL;
}

/* ---- whole-page answers --------------------------------------------------------- */

void iz_page_refuse(iz_req_t *r, const iz_page_site_t *site, int status, const char *title,
                    const char *message)
{
    const iz_page_site_cfg_t *c = &site->cfg;
    char full[256];
    snprintf(full, sizeof full, "%s%s%s", title, c->title ? " · " : "", c->title ? c->title : "");
    iz_page_t p;
    iz_page_begin(&p, site, r, full);
    iz_page_printf(&p, "<h1>%s</h1>", iz_page_esc(r, title));
    iz_page_msg(&p, "err", message, NULL);
    iz_page_printf(&p, "<p><a href=\"%s\">%s</a></p>", iz_page_esc(r, c->home ? c->home : "/"),
                   iz_page_esc(r, c->home_label ? c->home_label : "Ana sayfaya dön"));
    iz_page_end(&p, status);
}

void iz_page_csrf_refuse(iz_req_t *r, const iz_page_site_t *site)
{
    iz_page_refuse(r, site, 403, "İstek reddedildi",
                   "Güvenlik doğrulaması başarısız oldu: form süresi dolmuş ya da başka bir "
                   "siteden gönderilmiş olabilir. Hiçbir değişiklik yapılmadı. Lütfen sayfayı "
                   "yeniden açıp tekrar deneyin.");
}

void iz_page_too_many(iz_req_t *r, const iz_page_site_t *site, int64_t retry_after)
{
    if (retry_after < 1) retry_after = 1;
    char v[24], msg[256];
    snprintf(v, sizeof v, "%lld", (long long)retry_after);
    iz_reply_header(r, "Retry-After", v);
    snprintf(msg, sizeof msg,
             "Kısa sürede çok fazla istek gönderildi. Hiçbir değişiklik yapılmadı. Lütfen %lld "
             "saniye sonra tekrar deneyin.",
             (long long)retry_after);
    iz_page_refuse(r, site, 429, "Çok fazla istek", msg);
}

void iz_page_see_other(iz_req_t *r, const iz_page_site_t *site, const char *location,
                       const char *text)
{
    if (!is_local_path(location)) {
        /* A programming error; never send a browser elsewhere. */
        iz_logf(IZ_LOG_ERROR, "page", "refused a redirect off this site", "location=%s", location);
        iz_page_refuse(r, site, 500, "Bir hata oluştu",
                       "İsteğiniz işlendi ancak sonraki sayfa gösterilemiyor.");
        return;
    }
    iz_reply_header(r, "Location", location);
    iz_page_t p;
    iz_page_begin(&p, site, r, text);
    iz_page_printf(&p, "<p>%s <a href=\"%s\">Devam edin</a></p>", iz_page_esc(r, text),
                   iz_page_esc(r, location));
    iz_page_end(&p, 303);
}

/* ---- requests ------------------------------------------------------------------- */

bool iz_page_limit(iz_req_t *r, const iz_page_site_t *site, iz_ratelimit_t *rl)
{
    int64_t retry = 1;
    if (iz_ratelimit_hit(rl, iz_req_remote(r), (int64_t)time(NULL), &retry) == 0) return false;
    iz_page_too_many(r, site, retry);
    return true;
}

int iz_page_post_form(iz_req_t *r, const iz_page_site_t *site, iz_ratelimit_t *limit,
                      iz_form_t *form)
{
    if (limit && iz_page_limit(r, site, limit)) return IZ_EBUSY;
    size_t len;
    const char *body = iz_req_body(r, &len);
    /* Browsers say where a request comes from (Fetch Metadata); a form
     * posted from another site is refused whatever it carries. Clients
     * that do not send the header rely on the token alone. */
    const char *fetch_site = iz_req_header(r, "Sec-Fetch-Site");
    if (!iz_req_content_type_is(r, "application/x-www-form-urlencoded") ||
        (fetch_site && strcmp(fetch_site, "same-origin") != 0) ||
        iz_form_parse(r, body, len, form) != 0 ||
        !iz_page_csrf_ok(r, site, iz_form_value(form, IZ_PAGE_CSRF_FIELD, IZ_PAGE_CSRF_LEN))) {
        iz_page_csrf_refuse(r, site);
        return IZ_EINVAL;
    }
    /* Pages are UTF-8, and so is what a browser posts from them; a value
     * that is not would reach the store, which refuses it on PostgreSQL
     * (a 503 for a typo'd byte). */
    for (size_t i = 0; i < form->n; i++) {
        if (iz_utf8_valid_prefix(form->value[i], form->value_len[i]) != form->value_len[i] ||
            memchr(form->value[i], '\0', form->value_len[i])) {
            iz_page_refuse(r, site, 400, "Geçersiz form",
                           "Formda geçersiz bir karakter var. Sayfayı yenileyip yeniden deneyin.");
            return IZ_EINVAL;
        }
    }
    return 0;
}

/* ---- CSRF ------------------------------------------------------------------------ */

static bool is_token(const char *s)
{
    if (strlen(s) != IZ_PAGE_CSRF_LEN) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return false;
    return true;
}

/* The cookie's token when it is a well-formed one, else NULL. */
static const char *csrf_cookie(iz_req_t *r, const iz_page_site_t *site)
{
    const char *v = iz_page_cookie(r, site, CSRF_COOKIE);
    return v && is_token(v) ? v : NULL;
}

int iz_page_csrf(iz_req_t *r, const iz_page_site_t *site, const char **token)
{
    const char *have = csrf_cookie(r, site);
    if (have) {
        *token = have;
        return 0;
    }
    uint8_t raw[IZ_PAGE_CSRF_LEN / 2];
    if (iz_random(raw, sizeof raw) != 0) return IZ_EIO;
    char *tok = iz_req_alloc(r, IZ_PAGE_CSRF_LEN + 1);
    iz_hex(raw, sizeof raw, tok);
    iz_wipe(raw, sizeof raw);
    /* A session cookie: the token lives as long as the browser's session. */
    if (iz_page_cookie_set(r, site, CSRF_COOKIE, tok, 0) != 0) return IZ_EINVAL;
    *token = tok;
    return 0;
}

bool iz_page_csrf_ok(iz_req_t *r, const iz_page_site_t *site, const char *sent)
{
    const char *have = csrf_cookie(r, site);
    if (!have || !sent || strlen(sent) != IZ_PAGE_CSRF_LEN) return false;
    return iz_secret_equal(have, sent);
}

/* ---- cookies --------------------------------------------------------------------- */

static bool is_value_byte(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* A cookie name the kit sets and reads: letters, digits, '-' and '_'. */
static bool is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > IZ_PAGE_COOKIE_NAME_MAX) return false;
    for (; *s; s++)
        if (!is_value_byte(*s) || *s == '.' || *s == '~') return false;
    return true;
}

int iz_page_cookie_parse(const char *header, const char *name, char *out, size_t outsz)
{
    if (strnlen(header, IZ_PAGE_COOKIE_HEADER_MAX + 1) > IZ_PAGE_COOKIE_HEADER_MAX)
        return IZ_ETOOBIG;
    const size_t nl = strlen(name);
    const char *value = NULL;
    size_t vlen = 0;
    int found = 0;
    bool bad = false;
    for (const char *p = header; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        if (!end) end = p + strlen(p);
        if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            found++;
            value = p + nl + 1;
            vlen = (size_t)(end - value);
            while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
                vlen--;
            if (vlen == 0 || vlen > IZ_PAGE_COOKIE_MAX) bad = true;
            for (size_t i = 0; i < vlen; i++)
                if (!is_value_byte(value[i])) bad = true;
        } else if ((size_t)(end - p) == nl && strncmp(p, name, nl) == 0) {
            bad = true; /* the name with no '=' at all */
        }
        p = end;
    }
    if (found == 0 && !bad) return IZ_ENOTFOUND;
    if (found != 1 || bad) return IZ_EINVAL;
    if (vlen + 1 > outsz) return IZ_ETOOBIG;
    memcpy(out, value, vlen);
    out[vlen] = '\0';
    return 0;
}

/* The name as the browser stores it: with __Host- over https. */
static int full_name(const iz_page_site_t *site, const char *name,
                     char out[sizeof HOST_PREFIX + IZ_PAGE_COOKIE_NAME_MAX])
{
    if (!is_name(name)) return IZ_EINVAL;
    snprintf(out, sizeof HOST_PREFIX + IZ_PAGE_COOKIE_NAME_MAX, "%s%s",
             site->cfg.https ? HOST_PREFIX : "", name);
    return 0;
}

const char *iz_page_cookie(iz_req_t *r, const iz_page_site_t *site, const char *name)
{
    char full[sizeof HOST_PREFIX + IZ_PAGE_COOKIE_NAME_MAX];
    const char *h = iz_req_header(r, "Cookie");
    if (!h || full_name(site, name, full) != 0) return NULL;
    char *v = iz_req_alloc(r, IZ_PAGE_COOKIE_MAX + 1);
    return iz_page_cookie_parse(h, full, v, IZ_PAGE_COOKIE_MAX + 1) == 0 ? v : NULL;
}

/* One Set-Cookie header with the kit's attributes; max_age < 0 clears. */
static int set_cookie(iz_req_t *r, const iz_page_site_t *site, const char *name, const char *value,
                      int64_t max_age)
{
    char full[sizeof HOST_PREFIX + IZ_PAGE_COOKIE_NAME_MAX];
    if (full_name(site, name, full) != 0) return IZ_EINVAL;
    char age[40] = "";
    if (max_age < 0)
        snprintf(age, sizeof age, "; Max-Age=0");
    else if (max_age > 0)
        snprintf(age, sizeof age, "; Max-Age=%lld", (long long)max_age);
    char line[sizeof full + IZ_PAGE_COOKIE_MAX + 128];
    snprintf(line, sizeof line, "%s=%s; Path=/%s; HttpOnly; SameSite=Strict%s", full, value, age,
             site->cfg.https ? "; Secure" : "");
    iz_reply_header(r, "Set-Cookie", line);
    return 0;
}

int iz_page_cookie_set(iz_req_t *r, const iz_page_site_t *site, const char *name, const char *value,
                       int64_t max_age)
{
    size_t n = strlen(value);
    if (n == 0 || n > IZ_PAGE_COOKIE_MAX) return IZ_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!is_value_byte(value[i])) return IZ_EINVAL;
    return set_cookie(r, site, name, value, max_age < 0 ? 0 : max_age);
}

int iz_page_cookie_clear(iz_req_t *r, const iz_page_site_t *site, const char *name)
{
    return set_cookie(r, site, name, "", -1);
}
