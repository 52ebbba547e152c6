/*
 * test_page.c - the page kit: escaping, strict cookie parsing with hostile
 * headers, building a site (its CSP names the SHA-256 of the stylesheet it
 * serves), and, against a real server on a loopback port, the layout, the
 * security headers, the CSRF double submit accepting and refusing, the
 * session cookie helpers over http and https, redirects, and the 429 page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "core/iz.h"
#include "net/page.h"

/* ---- escaping ---------------------------------------------------------------- */

static void test_escape(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(iz_page_escape(out, sizeof out, "a<b>&\"c'd"),
                     strlen("a&lt;b&gt;&amp;&quot;c&#39;d"));
    assert_string_equal(out, "a&lt;b&gt;&amp;&quot;c&#39;d");
    /* Turkish letters and every other byte pass unchanged */
    assert_int_equal(iz_page_escape(out, sizeof out, "İzin ğüşöç ı Ş = ` /"),
                     strlen("İzin ğüşöç ı Ş = ` /"));
    assert_string_equal(out, "İzin ğüşöç ı Ş = ` /");
    assert_int_equal(iz_page_escape(out, sizeof out, NULL), 0);
    assert_string_equal(out, "");
    /* an attribute cannot be closed nor a tag opened from inside a value */
    iz_page_escape(out, sizeof out, "\" onmouseover=\"x\"><script>");
    assert_null(strchr(out, '"'));
    assert_null(strchr(out, '<'));
    assert_null(strchr(out, '>'));
    iz_page_escape(out, sizeof out, "' autofocus '");
    assert_null(strchr(out, '\''));
}

static void test_escape_bounded(void **state)
{
    (void)state;
    /* like snprintf: the whole length comes back, the output is cut at an
     * entity's edge and always terminated */
    char out[8];
    memset(out, 'X', sizeof out);
    assert_int_equal(iz_page_escape(out, sizeof out, "ab&cd"), 9);
    assert_string_equal(out, "ab&amp;");
    memset(out, 'X', sizeof out);
    assert_int_equal(iz_page_escape(out, 6, "ab&cd"), 9);
    assert_string_equal(out, "ab"); /* "&amp;" did not fit whole: nothing after it either */
    assert_int_equal(iz_page_escape(out, 1, "<<"), 8);
    assert_string_equal(out, "");
    assert_int_equal(iz_page_escape(NULL, 0, "<<"), 8);
}

/* ---- cookies ------------------------------------------------------------------ */

static void test_cookie_parse(void **state)
{
    (void)state;
    char v[64];
    assert_int_equal(iz_page_cookie_parse("iz_s=abc", "iz_s", v, sizeof v), 0);
    assert_string_equal(v, "abc");
    assert_int_equal(iz_page_cookie_parse("a=1; iz_s=A-z_0.9~; b=2", "iz_s", v, sizeof v), 0);
    assert_string_equal(v, "A-z_0.9~");
    assert_int_equal(iz_page_cookie_parse("a=1;iz_s=x", "iz_s", v, sizeof v), 0);
    assert_string_equal(v, "x");
    assert_int_equal(iz_page_cookie_parse("  iz_s=x  ;", "iz_s", v, sizeof v), 0);
    assert_string_equal(v, "x");
    /* other cookies are skipped however they look */
    assert_int_equal(
        iz_page_cookie_parse("junk; =; ;;\"q\"; iz_s=ok; x=\"y z\"", "iz_s", v, sizeof v), 0);
    assert_string_equal(v, "ok");
}

static void test_cookie_parse_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        int rc;
    } cases[] = {
        {"", IZ_ENOTFOUND},
        {";;; ;", IZ_ENOTFOUND},
        {"xiz_s=abc", IZ_ENOTFOUND}, /* a longer name that ends in ours */
        {"iz_sx=abc", IZ_ENOTFOUND}, /* a longer name that starts with ours */
        {"IZ_S=abc", IZ_ENOTFOUND},  /* names are case-sensitive */
        {"iz_s =abc", IZ_ENOTFOUND}, /* not our name */
        {"iz_s", IZ_EINVAL},         /* our name, no value at all */
        {"iz_s=", IZ_EINVAL},        /* empty */
        {"iz_s=  ", IZ_EINVAL},      /* blank */
        {"iz_s=\"abc\"", IZ_EINVAL}, /* quoted */
        {"iz_s=a b", IZ_EINVAL},     /* a space inside */
        {"iz_s=a=b", IZ_EINVAL},     /* '=' inside */
        {"iz_s=a%00b", IZ_EINVAL},   /* an escape is not decoded, and '%' is refused */
        {"iz_s=ab\r\nSet-Cookie: x=1", IZ_EINVAL},
        {"iz_s=\xc4\xb0z", IZ_EINVAL},     /* non-ASCII */
        {"iz_s=abc; iz_s=abc", IZ_EINVAL}, /* twice, even the same: a planted cookie */
        {"iz_s=abc; iz_s=def", IZ_EINVAL},
        {"iz_s=abc; iz_s", IZ_EINVAL},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        char v[64] = "untouched";
        int rc = iz_page_cookie_parse(cases[i].header, "iz_s", v, sizeof v);
        if (rc != cases[i].rc) fail_msg("case %zu (%s): %d", i, cases[i].header, rc);
    }
    /* bounds: a value of IZ_PAGE_COOKIE_MAX bytes is read, one more is not */
    static char h[IZ_PAGE_COOKIE_HEADER_MAX + 64];
    static char v[IZ_PAGE_COOKIE_MAX + 8];
    snprintf(h, sizeof h, "iz_s=%0*d", IZ_PAGE_COOKIE_MAX, 7);
    assert_int_equal(iz_page_cookie_parse(h, "iz_s", v, sizeof v), 0);
    assert_int_equal(strlen(v), IZ_PAGE_COOKIE_MAX);
    assert_int_equal(iz_page_cookie_parse(h, "iz_s", v, 10), IZ_ETOOBIG); /* out too small */
    snprintf(h, sizeof h, "iz_s=%0*d", IZ_PAGE_COOKIE_MAX + 1, 7);
    assert_int_equal(iz_page_cookie_parse(h, "iz_s", v, sizeof v), IZ_EINVAL);
    /* a header over the limit is not read at all */
    memset(h, 'a', sizeof h);
    memcpy(h, "iz_s=x; b=", 10);
    h[IZ_PAGE_COOKIE_HEADER_MAX + 1] = '\0';
    assert_int_equal(iz_page_cookie_parse(h, "iz_s", v, sizeof v), IZ_ETOOBIG);
    h[IZ_PAGE_COOKIE_HEADER_MAX] = '\0';
    assert_int_equal(iz_page_cookie_parse(h, "iz_s", v, sizeof v), 0);
    assert_string_equal(v, "x");
}

/* ---- a site -------------------------------------------------------------------- */

/* Base64 of the SHA-256 of s, computed here with OpenSSL, apart from the
 * kit's own code. */
static void sha256_b64(const char *s, size_t n, char out[64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(s, n, md, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_EncodeBlock((unsigned char *)out, md, (int)len), 44);
}

static void expect_csp(const char *csp, const char *style, size_t n)
{
    char b64[64], want[IZ_PAGE_CSP_MAX];
    sha256_b64(style, n, b64);
    snprintf(want, sizeof want,
             "default-src 'none'; style-src 'sha256-%s'; img-src 'self' data:; "
             "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
             b64);
    assert_string_equal(csp, want);
    assert_null(strstr(csp, "unsafe"));
}

static void test_site_init(void **state)
{
    (void)state;
    static iz_page_site_t site;
    iz_page_site_cfg_t cfg = {.title = "T", .css = ".x{color:red}", .home = "/h"};
    assert_int_equal(iz_page_site_init(&site, &cfg), 0);
    assert_non_null(strstr(site.style, "box-sizing"));
    assert_non_null(strstr(site.style, ".x{color:red}"));
    expect_csp(site.csp, site.style, strlen(site.style));
    /* the site's CSS changes the hash */
    static iz_page_site_t other;
    cfg.css = ".x{color:blue}";
    assert_int_equal(iz_page_site_init(&other, &cfg), 0);
    assert_string_not_equal(site.csp, other.csp);

    cfg.css = "</style><script>alert(1)</script>";
    assert_int_equal(iz_page_site_init(&other, &cfg), IZ_EINVAL);
    cfg.css = NULL;
    cfg.home = "//evil.example/";
    assert_int_equal(iz_page_site_init(&other, &cfg), IZ_EINVAL);
    cfg.home = "https://evil.example/";
    assert_int_equal(iz_page_site_init(&other, &cfg), IZ_EINVAL);
    cfg.home = "/a\r\nX: y";
    assert_int_equal(iz_page_site_init(&other, &cfg), IZ_EINVAL);
    static char big[IZ_PAGE_CSS_MAX];
    memset(big, 'a', sizeof big - 1);
    cfg.home = NULL;
    cfg.css = big;
    assert_int_equal(iz_page_site_init(&other, &cfg), IZ_ETOOBIG);
}

/* ---- against a server ------------------------------------------------------------ */

static iz_page_site_t site_http, site_https;
static iz_ratelimit_t *limit2;
static iz_http_t *srv;

static const iz_page_site_t *site_of(iz_req_t *r)
{
    return strncmp(iz_req_path(r), "/s/", 3) == 0 ? &site_https : &site_http;
}

static void h_form(iz_req_t *r, void *app)
{
    (void)app;
    iz_page_t p;
    iz_page_begin(&p, site_of(r), r, "Sına <ma> & \"gör\"");
    iz_page_printf(&p, "<h1>%s</h1>", iz_page_esc(r, iz_req_query(r, "q")));
    iz_page_msg(&p, "ok", "Kaydedildi <b>", NULL);
    iz_page_form_post(&p, "card", "/post");
    iz_page_puts(&p, "<label for=\"a\">A</label><input id=\"a\" name=\"a\">"
                     "<button type=\"submit\">Gönder</button></form>");
    /* a second form on the page carries the same token */
    iz_page_form_post(&p, NULL, "/post");
    iz_page_puts(&p, "</form>");
    iz_page_end(&p, 200);
}

static void h_post(iz_req_t *r, void *app)
{
    (void)app;
    iz_form_t form;
    if (iz_page_post_form(r, site_of(r), NULL, &form) != 0) return;
    iz_page_t p;
    iz_page_begin(&p, site_of(r), r, "Tamam");
    iz_page_printf(&p, "<p>kabul: %s</p>", iz_page_esc(r, iz_form_value(&form, "a", 100)));
    iz_page_end(&p, 200);
}

static void h_limited(iz_req_t *r, void *app)
{
    (void)app;
    iz_form_t form;
    if (iz_page_post_form(r, &site_http, limit2, &form) != 0) return;
    iz_page_refuse(r, &site_http, 400, "Sınandı", "Form geçti, sınır aşılmadı.");
}

/* Handlers run on the server's threads, where cmocka cannot fail a test:
 * they answer 500 "unexpected" instead, which the test checks for. */
static void unexpected(iz_req_t *r)
{
    iz_reply_bytes(r, 500, "text/plain", "unexpected", 10);
}

static void h_login(iz_req_t *r, void *app)
{
    (void)app;
    const iz_page_site_t *s = site_of(r);
    static char big[IZ_PAGE_COOKIE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    if (iz_page_cookie_set(r, s, "bad name", "x", 0) != IZ_EINVAL ||
        iz_page_cookie_set(r, s, "iz_x", "a;b", 0) != IZ_EINVAL ||
        iz_page_cookie_set(r, s, "iz_x", "a\r\nX: y", 0) != IZ_EINVAL ||
        iz_page_cookie_set(r, s, "iz_x", "", 0) != IZ_EINVAL ||
        iz_page_cookie_set(r, s, "iz_x", big, 0) != IZ_EINVAL ||
        iz_page_cookie_set(r, s, "iz_sess", "s3ss10n-Tok_en", 3600) != 0) {
        unexpected(r);
        return;
    }
    iz_page_see_other(r, s, "/whoami?x=1", "Giriş yapıldı.");
}

static void h_logout(iz_req_t *r, void *app)
{
    (void)app;
    if (iz_page_cookie_clear(r, site_of(r), "iz_sess") != 0) {
        unexpected(r);
        return;
    }
    iz_page_see_other(r, site_of(r), "//evil.example/", "Çıkış");
}

static void h_whoami(iz_req_t *r, void *app)
{
    (void)app;
    const char *v = iz_page_cookie(r, site_of(r), "iz_sess");
    iz_reply_bytes(r, 200, "text/plain", v ? v : "-", strlen(v ? v : "-"));
}

static const iz_route_t routes[] = {
    {"GET", "/form", h_form, 0, "t"},        {"POST", "/post", h_post, 0, "t"},
    {"GET", "/s/form", h_form, 0, "t"},      {"POST", "/s/post", h_post, 0, "t"},
    {"POST", "/limited", h_limited, 0, "t"}, {"GET", "/login", h_login, 0, "t"},
    {"GET", "/s/login", h_login, 0, "t"},    {"GET", "/logout", h_logout, 0, "t"},
    {"GET", "/whoami", h_whoami, 0, "t"},    {"GET", "/s/whoami", h_whoami, 0, "t"},
};

typedef struct buf {
    char data[65536];
    size_t len;
} buf_t;

typedef struct answer {
    long status;
    buf_t body, head;
} answer_t;

/* A stream writing into b (curl's own fwrite fills it); a fuller answer
 * fails the write and so the request. */
static FILE *into(buf_t *b)
{
    FILE *f = fmemopen(b->data, sizeof b->data - 1, "w");
    assert_non_null(f);
    return f;
}

static void close_into(FILE *f, buf_t *b)
{
    long n = ftell(f);
    assert_int_equal(fclose(f), 0);
    b->len = (size_t)n;
    b->data[b->len] = '\0';
}

/* One request with up to three extra header lines (NULL ones are left
 * out); the answer's status, headers and body land in a. */
static void request_with(const char *method, const char *path, const char *const hdrs[3],
                         const char *body, answer_t *a)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)iz_http_port(srv), path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    for (int i = 0; i < 3; i++)
        if (hdrs[i]) h = curl_slist_append(h, hdrs[i]);
    FILE *fb = into(&a->body), *fh = into(&a->head);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, fb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, fh);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    close_into(fb, &a->body);
    close_into(fh, &a->head);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void request(const char *method, const char *path, const char *hdr1, const char *hdr2,
                    const char *body, answer_t *a)
{
    const char *const hdrs[3] = {hdr1, hdr2, NULL};
    request_with(method, path, hdrs, body, a);
}

/* The value of header name in a's headers (first one), or NULL. */
static const char *header(answer_t *a, const char *name, char *out, size_t outsz)
{
    char want[128];
    snprintf(want, sizeof want, "\r\n%s: ", name);
    const char *p = strcasestr(a->head.data, want);
    if (!p) return NULL;
    p += strlen(want);
    size_t n = strcspn(p, "\r\n");
    if (n >= outsz) n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The token of the page's first CSRF field. */
static void form_token(answer_t *a, char tok[IZ_PAGE_CSRF_LEN + 1])
{
    const char *p = strstr(a->body.data, "<input type=\"hidden\" name=\"csrf\" value=\"");
    assert_non_null(p);
    p += strlen("<input type=\"hidden\" name=\"csrf\" value=\"");
    memcpy(tok, p, IZ_PAGE_CSRF_LEN);
    tok[IZ_PAGE_CSRF_LEN] = '\0';
    assert_int_equal(p[IZ_PAGE_CSRF_LEN], '"');
}

static int setup(void **state)
{
    (void)state;
    iz_page_site_cfg_t cfg = {.title = "Sınama Sitesi",
                              .subtitle = "alt başlık <i>",
                              .footer = "Altbilgi & sonu",
                              .home = "/form",
                              .css = ".card{padding:2rem}"};
    assert_int_equal(iz_page_site_init(&site_http, &cfg), 0);
    cfg.https = true;
    assert_int_equal(iz_page_site_init(&site_https, &cfg), 0);
    assert_int_equal(iz_ratelimit_new(64, 2, 60, &limit2), 0);
    iz_http_config_t hc = {
        .listen = "127.0.0.1:0", .routes = routes, .nroutes = IZ_ARRAY_LEN(routes)};
    const char *err = NULL;
    assert_int_equal(iz_http_start(&hc, &srv, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iz_http_stop(srv);
    iz_ratelimit_free(limit2);
    return 0;
}

static void test_layout_and_headers(void **state)
{
    (void)state;
    static answer_t a;
    char v[1024];
    request("GET", "/form?q=%3Cscript%3Ex%3C%2Fscript%3E", NULL, NULL, NULL, &a);
    assert_int_equal(a.status, 200);
    const char *b = a.body.data;
    assert_non_null(strstr(b, "<!DOCTYPE html>\n<html lang=\"tr\">"));
    assert_non_null(strstr(b, "<meta name=\"viewport\" content=\"width=device-width"));
    assert_non_null(strstr(b, "<title>Sına &lt;ma&gt; &amp; &quot;gör&quot;</title>"));
    assert_non_null(strstr(b, "<a class=\"skip\" href=\"#main\">"));
    assert_non_null(strstr(b, "<header><p class=\"site\">Sınama Sitesi</p>"
                              "<p class=\"sub\">alt başlık &lt;i&gt;</p></header>"));
    assert_non_null(strstr(b, "<main id=\"main\" tabindex=\"-1\">"));
    assert_non_null(strstr(b, "<h1>&lt;script&gt;x&lt;/script&gt;</h1>"));
    assert_non_null(strstr(b, "<div class=\"msg ok\" role=\"status\">Kaydedildi &lt;b&gt;</div>"));
    assert_non_null(strstr(b, "<footer><p>Altbilgi &amp; sonu</p></footer></body></html>\n"));
    assert_null(strstr(b, "<script"));
    assert_null(strstr(b, "style=\""));
    /* one stylesheet, and the CSP names exactly it */
    assert_int_equal(count_of(b, "<style>"), 1);
    const char *s0 = strstr(b, "<style>") + strlen("<style>");
    const char *s1 = strstr(s0, "</style>");
    assert_non_null(s1);
    assert_non_null(header(&a, "Content-Security-Policy", v, sizeof v));
    expect_csp(v, s0, (size_t)(s1 - s0));
    assert_string_equal(v, site_http.csp);
    assert_string_equal(header(&a, "X-Frame-Options", v, sizeof v), "DENY");
    assert_string_equal(header(&a, "Referrer-Policy", v, sizeof v), "no-referrer");
    assert_string_equal(header(&a, "X-Content-Type-Options", v, sizeof v), "nosniff");
    assert_string_equal(header(&a, "Cache-Control", v, sizeof v), "no-store");
    assert_string_equal(header(&a, "Content-Type", v, sizeof v), "text/html; charset=utf-8");
    /* the CSRF cookie: set once, the same token in both forms */
    assert_int_equal(count_of(a.head.data, "Set-Cookie:"), 1);
    char tok[IZ_PAGE_CSRF_LEN + 1], want[256];
    form_token(&a, tok);
    snprintf(want, sizeof want, "iz_csrf=%s; Path=/; HttpOnly; SameSite=Strict", tok);
    assert_string_equal(header(&a, "Set-Cookie", v, sizeof v), want);
    snprintf(want, sizeof want, "name=\"csrf\" value=\"%s\"", tok);
    assert_int_equal(count_of(b, want), 2);
    assert_non_null(strstr(b, "<form class=\"card\" method=\"post\" action=\"/post\">"));
    /* a second page view with the cookie keeps the token and sets nothing */
    char cookie[128];
    snprintf(cookie, sizeof cookie, "Cookie: iz_csrf=%s", tok);
    request("GET", "/form", cookie, NULL, NULL, &a);
    assert_int_equal(count_of(a.head.data, "Set-Cookie:"), 0);
    char again[IZ_PAGE_CSRF_LEN + 1];
    form_token(&a, again);
    assert_string_equal(tok, again);
    /* a malformed cookie is replaced */
    request("GET", "/form", "Cookie: iz_csrf=XYZ", NULL, NULL, &a);
    form_token(&a, again);
    assert_string_not_equal(tok, again);
    assert_int_equal(count_of(a.head.data, "Set-Cookie:"), 1);
}

static void test_csrf_accept_and_refuse(void **state)
{
    (void)state;
    static answer_t a;
    char tok[IZ_PAGE_CSRF_LEN + 1], cookie[128], body[256], other[IZ_PAGE_CSRF_LEN + 1];
    request("GET", "/form", NULL, NULL, NULL, &a);
    form_token(&a, tok);
    snprintf(cookie, sizeof cookie, "Cookie: a=1; iz_csrf=%s; b=2", tok);
    const char *form = "Content-Type: application/x-www-form-urlencoded";

    snprintf(body, sizeof body, "a=%%C4%%B0zin&csrf=%s", tok);
    request("POST", "/post", cookie, form, body, &a);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body.data, "kabul: İzin"));

    /* refusals: each the 403 page, with the kit's headers */
    snprintf(other, sizeof other, "%s", tok);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    char wrong[256], upper[256], longer[256];
    snprintf(wrong, sizeof wrong, "a=1&csrf=%s", other);
    snprintf(upper, sizeof upper, "a=1&csrf=%.47sG", tok);
    snprintf(longer, sizeof longer, "a=1&csrf=%s0", tok);
    char nul[256];
    snprintf(nul, sizeof nul, "a=1&csrf=%.47s%%00", tok);
    struct {
        const char *h1, *h2, *body;
    } bad[] = {
        {NULL, form, body},                         /* no cookie */
        {cookie, form, "a=1"},                      /* no field */
        {cookie, form, wrong},                      /* another token */
        {cookie, form, upper},                      /* not hex */
        {cookie, form, longer},                     /* a token and more */
        {cookie, form, nul},                        /* NUL inside */
        {cookie, "Content-Type: text/plain", body}, /* not a form */
        {cookie, "Content-Type: application/json", body},
        {cookie, form, "csrf=%zz"}, /* a broken escape */
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(bad); i++) {
        request("POST", "/post", bad[i].h1, bad[i].h2, bad[i].body, &a);
        if (a.status != 403) fail_msg("case %zu: %ld", i, a.status);
        assert_non_null(strstr(a.body.data, "<h1>İstek reddedildi</h1>"));
        assert_non_null(strstr(a.body.data, "Hiçbir değişiklik yapılmadı"));
        assert_non_null(strstr(a.body.data, "<a href=\"/form\">Ana sayfaya dön</a>"));
        assert_non_null(strcasestr(a.head.data, "Content-Security-Policy: default-src 'none'"));
    }
    /* a planted second cookie of the same name */
    char twice[256];
    snprintf(twice, sizeof twice, "Cookie: iz_csrf=%s; iz_csrf=%s", tok, tok);
    request("POST", "/post", twice, form, body, &a);
    assert_int_equal(a.status, 403);
    /* and the right one still passes after all those refusals */
    request("POST", "/post", cookie, form, body, &a);
    assert_int_equal(a.status, 200);
}

/* Fetch Metadata: a browser's word that the form came from elsewhere is
 * refused even with the right token. */
static void test_fetch_metadata(void **state)
{
    (void)state;
    static answer_t a;
    char tok[IZ_PAGE_CSRF_LEN + 1], cookie[128], body[128];
    request("GET", "/form", NULL, NULL, NULL, &a);
    form_token(&a, tok);
    snprintf(cookie, sizeof cookie, "Cookie: iz_csrf=%s", tok);
    snprintf(body, sizeof body, "csrf=%s", tok);
    static const struct {
        const char *site;
        long status;
    } cases[] = {{"same-origin", 200}, {"cross-site", 403}, {"same-site", 403}, {"none", 403}};
    for (size_t i = 0; i < IZ_ARRAY_LEN(cases); i++) {
        char line[64];
        snprintf(line, sizeof line, "Sec-Fetch-Site: %s", cases[i].site);
        const char *const hdrs[3] = {cookie, line,
                                     "Content-Type: application/x-www-form-urlencoded"};
        request_with("POST", "/post", hdrs, body, &a);
        if (a.status != cases[i].status)
            fail_msg("Sec-Fetch-Site %s: %ld", cases[i].site, a.status);
    }
}

static void test_https_site_cookies(void **state)
{
    (void)state;
    static answer_t a;
    char v[512], tok[IZ_PAGE_CSRF_LEN + 1], want[256];
    request("GET", "/s/form", NULL, NULL, NULL, &a);
    form_token(&a, tok);
    snprintf(want, sizeof want, "__Host-iz_csrf=%s; Path=/; HttpOnly; SameSite=Strict; Secure",
             tok);
    assert_string_equal(header(&a, "Set-Cookie", v, sizeof v), want);
    /* the token is read only from the __Host- cookie */
    char cookie[128], body[128];
    const char *form = "Content-Type: application/x-www-form-urlencoded";
    snprintf(body, sizeof body, "csrf=%s", tok);
    snprintf(cookie, sizeof cookie, "Cookie: iz_csrf=%s", tok);
    request("POST", "/s/post", cookie, form, body, &a);
    assert_int_equal(a.status, 403);
    snprintf(cookie, sizeof cookie, "Cookie: __Host-iz_csrf=%s", tok);
    request("POST", "/s/post", cookie, form, body, &a);
    assert_int_equal(a.status, 200);
    /* a session cookie: Max-Age, Secure, __Host- */
    request("GET", "/s/login", NULL, NULL, NULL, &a);
    assert_int_equal(a.status, 303);
    assert_string_equal(header(&a, "Set-Cookie", v, sizeof v),
                        "__Host-iz_sess=s3ss10n-Tok_en; Path=/; Max-Age=3600; HttpOnly; "
                        "SameSite=Strict; Secure");
    request("GET", "/s/whoami", "Cookie: __Host-iz_sess=s3ss10n-Tok_en", NULL, NULL, &a);
    assert_string_equal(a.body.data, "s3ss10n-Tok_en");
    request("GET", "/s/whoami", "Cookie: iz_sess=s3ss10n-Tok_en", NULL, NULL, &a);
    assert_string_equal(a.body.data, "-");
}

static void test_session_cookie_and_redirects(void **state)
{
    (void)state;
    static answer_t a;
    char v[512];
    request("GET", "/login", NULL, NULL, NULL, &a);
    assert_int_equal(a.status, 303);
    assert_string_equal(header(&a, "Location", v, sizeof v), "/whoami?x=1");
    assert_string_equal(header(&a, "Set-Cookie", v, sizeof v),
                        "iz_sess=s3ss10n-Tok_en; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
    assert_non_null(strstr(a.body.data, "<a href=\"/whoami?x=1\">Devam edin</a>"));
    assert_non_null(header(&a, "Content-Security-Policy", v, sizeof v));
    request("GET", "/whoami", "Cookie: iz_sess=s3ss10n-Tok_en", NULL, NULL, &a);
    assert_string_equal(a.body.data, "s3ss10n-Tok_en");
    request("GET", "/whoami", "Cookie: iz_sess=s3ss10n-Tok_en; iz_sess=x", NULL, NULL, &a);
    assert_string_equal(a.body.data, "-");
    request("GET", "/whoami", "Cookie: iz_sess=<script>", NULL, NULL, &a);
    assert_string_equal(a.body.data, "-");
    request("GET", "/whoami", NULL, NULL, NULL, &a);
    assert_string_equal(a.body.data, "-");
    /* clearing; and a redirect off the site is never sent */
    request("GET", "/logout", NULL, NULL, NULL, &a);
    assert_string_equal(header(&a, "Set-Cookie", v, sizeof v),
                        "iz_sess=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    assert_int_equal(a.status, 500);
    assert_non_null(strstr(a.body.data, "<h1>Bir hata oluştu</h1>"));
    assert_null(header(&a, "Location", v, sizeof v));
}

static void test_rate_limit_page(void **state)
{
    (void)state;
    static answer_t a;
    char v[64];
    for (int i = 0; i < 2; i++) {
        request("POST", "/limited", NULL, NULL, "x=1", &a);
        assert_int_equal(a.status, 403); /* counted, then refused for want of a token */
    }
    request("POST", "/limited", NULL, NULL, "x=1", &a);
    assert_int_equal(a.status, 429);
    assert_non_null(strstr(a.body.data, "<h1>Çok fazla istek</h1>"));
    assert_non_null(strstr(a.body.data, "saniye sonra tekrar deneyin"));
    assert_non_null(header(&a, "Retry-After", v, sizeof v));
    int64_t retry = 0;
    assert_int_equal(iz_parse_i64(v, 1, 60, &retry), 0);
    assert_non_null(header(&a, "Content-Security-Policy", v, sizeof v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_bounded),
        cmocka_unit_test(test_cookie_parse),
        cmocka_unit_test(test_cookie_parse_hostile),
        cmocka_unit_test(test_site_init),
        cmocka_unit_test(test_layout_and_headers),
        cmocka_unit_test(test_csrf_accept_and_refuse),
        cmocka_unit_test(test_fetch_metadata),
        cmocka_unit_test(test_https_site_cookies),
        cmocka_unit_test(test_session_cookie_and_redirects),
        cmocka_unit_test(test_rate_limit_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
