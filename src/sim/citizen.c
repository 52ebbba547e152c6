/*
 * citizen.c - the citizen's side of İYS (I2): one place where a person sees
 * which brand may reach them on which channel, since when and from which
 * source, and gives or withdraws consent. Every change made here is an
 * İYS-side change (an IYS_* source), which the providers' change pull and
 * push then deliver, as İYS's e-Devlet, web and mobile channels do.
 *
 *   POST /_sim/citizen/consents   JSON, for tests and demos (any IYS_* source)
 *   GET  /_sim/citizen/consents   every brand's record for ?recipient=
 *   GET  /vatandas                the Turkish page: look up an address
 *   POST /vatandas                give (ONAY) or withdraw (RET), source IYS_WEB
 *
 * The consentDate of a citizen's change is the moment İYS records it; the
 * caller does not choose it. The change passes the same rules as every
 * other write of the emulator (H174 same status, H175 first RET, H178 ...),
 * except the provider's quota and subscription, which bind the provider's
 * API, not the citizen.
 *
 * The page is a plain form that works without JavaScript, built with the
 * page kit (net/page.h): the layout, escaping, the double-submit CSRF token
 * of every POST, the security headers with a CSP that allows no script and
 * no other origin, and a per-IP limit on POSTs. This file also sets up the
 * emulator's site of the kit, which complaints.c's pages share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "net/form.h"
#include "net/jsonconsent.h"
#include "net/page.h"
#include "sim/sim_int.h"

#define CITIZEN_NAME_MAX 63
#define PAGE_POSTS_PER_MINUTE 60 /* a page's POSTs from one address (form spam) */
#define PAGE_CLIENTS 4096        /* addresses the POST limit remembers */

/* ---- the emulator's site ---------------------------------------------------- */

/* What the emulator adds to the kit's stylesheet: the colours of a
 * consent's state and of the withdraw button (WCAG AA on white). */
static const char sim_css[] = ".onay{color:#1b7a36;font-weight:700}"
                              ".red{color:#b3261e;font-weight:700}"
                              "button.ret{background:#b3261e;border-color:#b3261e}"
                              "button.ret:hover{background:#8f1f18}";

int iz__sim_pages_open(iz_sim_t *sim)
{
    const iz_page_site_cfg_t cfg = {
        .title = "İleti Yönetim Sistemi",
        .subtitle = "İYS emülatörü",
        .footer = "Bu sayfa izin'in İYS emülatörüdür; gerçek İYS değildir.",
        .home = "/vatandas",
        .home_label = "Vatandaş sayfasına dön",
        .css = sim_css,
        .https = false, /* the emulator listens on plain http, on loopback */
    };
    int rc = iz_page_site_init(&sim->site, &cfg);
    if (rc == 0) rc = iz_ratelimit_new(PAGE_CLIENTS, PAGE_POSTS_PER_MINUTE, 60, &sim->page_posts);
    return rc;
}

void iz__sim_pages_close(iz_sim_t *sim)
{
    iz_ratelimit_free(sim->page_posts);
    sim->page_posts = NULL;
}

const char *iz__sim_channel(iz_type_t t)
{
    switch (t) {
    case IZ_MESAJ:
        return "SMS";
    case IZ_ARAMA:
        return "Arama";
    case IZ_EPOSTA:
        return "E-posta";
    default:
        return "?";
    }
}

/* ---- applying a citizen's change ---------------------------------------- */

/* The provider and brand exist: NULL, else "H001" or "H018". */
static const char *check_brand(iz_sim_t *sim, int64_t iys_code, int64_t brand_code)
{
    iz_sim_provider_t p;
    if (iz_sim_provider_get(sim->st, iys_code, &p) != 0) return "H001";
    if (iz_sim_brand_get(sim->st, iys_code, brand_code, NULL) != 0) return "H018";
    return NULL;
}

const char *iz__sim_form_codes(const iz_form_t *f, const char **siys, const char **sbrand,
                               int64_t *iys, int64_t *brand)
{
    *siys = iz_form_value(f, "iysCode", 20);
    *sbrand = iz_form_value(f, "brandCode", 20);
    if (!*siys || iz_parse_i64(*siys, 1, INT64_MAX, iys) != 0) return "H190";
    if (!*sbrand || iz_parse_i64(*sbrand, 1, INT64_MAX, brand) != 0) return "H191";
    return NULL;
}

/* Record a validated change c of brand (iys_code, brand_code). Returns 0
 * with chg filled, IZ_ERULE with *hcode, or a store error. */
static int apply_change(iz_sim_t *sim, int64_t iys_code, int64_t brand_code, const iz_consent_t *c,
                        const char *citizen_name, int64_t now, iz_sim_change_t *chg,
                        const char **hcode)
{
    *chg = (iz_sim_change_t){.iys_code = iys_code, .brand_code = brand_code, .creation = now};
    if (citizen_name) iz_strlcpy(chg->citizen_name, citizen_name, sizeof chg->citizen_name);
    /* A citizen's change is judged by İYS's state rules only (no provider):
     * no quota, and no 3-business-day limit (its consentDate is now). */
    return iz__sim_record(sim, NULL, c, now, false, chg, hcode);
}

static void set_field(iz_field_t *f, const char *s)
{
    if (!s) {
        f->kind = IZ_FIELD_ABSENT;
        return;
    }
    f->kind = IZ_FIELD_STRING;
    f->s = s;
    f->len = strlen(s);
}

/* The location an İYS rule's refusal concerns. */
static const char *rule_field(const char *code)
{
    if (strcmp(code, "H178") == 0 || strcmp(code, "H462") == 0 || strcmp(code, "H467") == 0)
        return "consentDate";
    if (strcmp(code, "H408") == 0 || strcmp(code, "H463") == 0) return "source";
    if (strcmp(code, "H525") == 0) return NULL;
    return "status";
}

/* A JSON code field: a positive integer, else the H-code (H190/H191). */
static bool json_code(json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0) return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}


void iz__sim_h_citizen_post(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *body = iz_req_json(r);
    if (!body) return;
    if (!json_is_object(body)) {
        iz_reply_error(r, "H085", NULL);
        json_decref(body);
        return;
    }
    int64_t iys_code, brand_code;
    if (!json_code(json_object_get(body, "iysCode"), &iys_code)) {
        iz_error_t e = {.code = "H190", .location = "iysCode", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    if (!json_code(json_object_get(body, "brandCode"), &brand_code)) {
        iz_error_t e = {.code = "H191", .location = "brandCode", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    const char *missing = check_brand(sim, iys_code, brand_code);
    if (missing) {
        iz_reply_error(r, missing, NULL);
        json_decref(body);
        return;
    }
    json_t *name = json_object_get(body, "citizenName");
    if (name && (!json_is_string(name) || json_string_length(name) > CITIZEN_NAME_MAX ||
                 strlen(json_string_value(name)) != json_string_length(name))) {
        iz_error_t e = {.code = "IZ422",
                        .message = iz_req_english(r)
                                       ? "citizenName must be text of at most 63 bytes."
                                       : "citizenName en fazla 63 baytlık bir metin olmalıdır.",
                        .location = "citizenName",
                        .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }

    /* The consentDate is the moment İYS records the change. */
    int64_t now = (int64_t)time(NULL);
    char date[IZ_DATETIME_LEN];
    iz_tr_format(now, date);
    /* The consent's fields and the citizen's own; consentDate is İYS's to
     * set, so a body that sends one names an unknown field (H118). */
    static const char *const extra[] = {"iysCode", "brandCode", "citizenName", NULL};
    iz_consent_raw_t raw;
    iz_consent_raw_from_json(body, extra, &raw);
    if (!raw.unknown_field && json_object_get(body, "consentDate")) raw.unknown_field = "consentDate";
    set_field(&raw.consent_date, date);
    iz_validate_opts_t vo = {.now = now, .allow_iys_sources = true};
    iz_consent_t c;
    iz_verrs_t errs = {0};
    if (iz_consent_validate(&raw, &vo, &c, &errs) != 0) {
        iz_error_t out[IZ_VERR_MAX];
        for (int i = 0; i < errs.n; i++)
            out[i] = (iz_error_t){.code = errs.e[i].code,
                                  .location = errs.e[i].field,
                                  .value = errs.e[i].field ? json_object_get(body, errs.e[i].field)
                                                           : NULL,
                                  .index = -1};
        iz_reply_errors(r, iz_hcode_http(errs.e[0].code), out, (size_t)errs.n);
        json_decref(body);
        return;
    }
    if (c.source == IZ_SOURCE_NONE || iz_source_is_hs(c.source)) {
        iz_error_t e = {.code = "H119",
                        .message =
                            iz_req_english(r)
                                ? "A citizen's change needs an İYS source: IYS_CM, IYS_WEB, "
                                  "IYS_WEB_YENI, IYS_MOBIL, IYS_KISAMESAJ, IYS_EPOSTA, "
                                  "IYS_AHS_HAT_KAPATMA, IYS_FRAME_EPOSTA, IYS_FRAME_SMS"
                                : "Vatandaş değişikliği için izin kaynağı (source) İYS kaynağı "
                                  "olmalıdır: IYS_CM, IYS_WEB, IYS_WEB_YENI, IYS_MOBIL, "
                                  "IYS_KISAMESAJ, IYS_EPOSTA, IYS_AHS_HAT_KAPATMA, "
                                  "IYS_FRAME_EPOSTA, IYS_FRAME_SMS",
                        .location = "source",
                        .value = json_object_get(body, "source"),
                        .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    iz_sim_change_t chg;
    const char *hcode = NULL;
    int rc = apply_change(sim, iys_code, brand_code, &c, name ? json_string_value(name) : NULL, now,
                          &chg, &hcode);
    if (rc == IZ_ERULE && hcode) {
        iz_error_t e = {.code = hcode, .location = rule_field(hcode), .index = -1};
        e.value = e.location ? json_object_get(body, e.location) : NULL;
        iz_reply_errors(r, iz_hcode_http(hcode), &e, 1);
    } else if (rc != 0) {
        iz_reply_error(r, "IZ500", NULL);
    } else {
        char created[IZ_DATETIME_LEN];
        iz_tr_format(chg.creation, created);
        iz_reply_json(r, 201,
                      json_pack("{s:s, s:s, s:s}", "transactionId", chg.txid, "creationDate",
                                created, "consentDate", date));
    }
    json_decref(body);
}

/* Every brand's record for an address, normalized as a phone or e-mail. */
static int load_records(iz_sim_t *sim, const char *in, char norm[IZ_RECIPIENT_MAX],
                        iz_sim_citizen_rec_t **list, size_t *n, const char **hcode)
{
    *list = NULL;
    *n = 0;
    size_t len = strlen(in);
    if (len == 0 || len > IZ_INPUT_MAX) {
        *hcode = "H122";
        return IZ_EINVAL;
    }
    if (iz_recipient_normalize(in, len, IZ_TYPE_NONE, norm, hcode) != 0) return IZ_EINVAL;
    return iz_sim_citizen_records(sim->st, norm, list, n);
}

static json_t *record_json(const iz_sim_citizen_rec_t *rec)
{
    const iz_sim_change_t *c = &rec->cur;
    char created[IZ_DATETIME_LEN], since[IZ_DATETIME_LEN];
    iz_tr_format(c->creation, created);
    json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "iysCode",
                          (json_int_t)c->iys_code, "providerName", rec->provider_name, "brandCode",
                          (json_int_t)c->brand_code, "brandName", rec->brand_name, "recipient",
                          c->recipient, "recipientType", iz_rtype_name(c->rtype), "type",
                          iz_type_name(c->type), "status", iz_status_name(c->status),
                          "creationDate", created, "transactionId", c->txid);
    if (!o) iz_oom();
    if (c->consent_date) {
        iz_tr_format(c->consent_date, since);
        json_object_set_new(o, "consentDate", json_string(since));
    }
    iz_tr_format(c->consent_date ? c->consent_date : c->creation, since);
    json_object_set_new(o, "since", json_string(since));
    if (c->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(c->source)));
    return o;
}

void iz__sim_h_citizen_get(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *in = iz_req_query(r, "recipient");
    if (!in) {
        iz_error_t e = {.code = "H114", .location = "recipient", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        return;
    }
    char norm[IZ_RECIPIENT_MAX];
    iz_sim_citizen_rec_t *list;
    size_t n;
    const char *hcode = "H122";
    int rc = load_records(sim, in, norm, &list, &n, &hcode);
    if (rc == IZ_EINVAL) {
        iz_error_t e = {.code = hcode, .location = "recipient", .index = -1};
        iz_reply_errors(r, iz_hcode_http(hcode), &e, 1);
        return;
    }
    if (rc != 0) {
        iz_reply_error(r, "IZ500", NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, record_json(&list[i]));
    free(list);
    iz_reply_json(r, 200, json_pack("{s:s, s:o}", "recipient", norm, "list", arr));
}

/* ---- the page ----------------------------------------------------------- */

/* A source as a citizen reads it. */
static const char *source_label(iz_source_t s)
{
    switch (s) {
    case IZ_HS_FIZIKSEL_ORTAM:
        return "Firma: fiziksel ortam";
    case IZ_HS_ISLAK_IMZA:
        return "Firma: ıslak imzalı belge";
    case IZ_HS_ETKINLIK:
        return "Firma: etkinlik";
    case IZ_HS_ATM:
        return "Firma: ATM";
    case IZ_HS_EORTAM:
        return "Firma: elektronik ortam";
    case IZ_HS_WEB:
        return "Firma: web sitesi";
    case IZ_HS_MOBIL:
        return "Firma: mobil uygulama";
    case IZ_HS_MESAJ:
        return "Firma: kısa mesaj";
    case IZ_HS_EPOSTA:
        return "Firma: e-posta";
    case IZ_HS_CAGRI_MERKEZI:
        return "Firma: çağrı merkezi";
    case IZ_HS_SOSYAL_MEDYA:
        return "Firma: sosyal medya";
    case IZ_HS_2015:
        return "1 Mayıs 2015 öncesinden gelen izin";
    case IZ_HS_KARAR:
        return "Mahkeme veya kurum kararı";
    case IZ_IYS_CM:
        return "İYS çağrı merkezi";
    case IZ_IYS_WEB:
        return "İYS web sitesi";
    case IZ_IYS_WEB_YENI:
        return "İYS web sitesi";
    case IZ_IYS_MOBIL:
        return "İYS mobil uygulaması";
    case IZ_IYS_KISAMESAJ:
        return "İYS kısa mesaj (3338)";
    case IZ_IYS_EPOSTA:
        return "İYS e-posta";
    case IZ_IYS_AHS_HAT_KAPATMA:
        return "Hattın kapatılması";
    case IZ_IYS_FRAME_EPOSTA:
        return "İYS e-posta bağlantısı";
    case IZ_IYS_FRAME_SMS:
        return "İYS SMS bağlantısı";
    default:
        return "Belirtilmemiş (tacir kaydı)";
    }
}

static void lookup_form(iz_page_t *p, const char *value)
{
    iz_page_printf(p,
                   "<form class=\"card\" method=\"get\" action=\"/vatandas\">"
                   "<label for=\"alici\">Cep telefonu numaranız veya e-posta adresiniz</label>"
                   "<input id=\"alici\" name=\"alici\" value=\"%s\" maxlength=\"265\" required "
                   "autocomplete=\"tel\" placeholder=\"0532 123 45 67 veya ad@ornek.com\">"
                   "<button type=\"submit\">İzinlerimi göster</button></form>",
                   iz_page_esc(p->r, value));
}

/* One record with its button. */
static void record_card(iz_page_t *p, const iz_sim_citizen_rec_t *rec)
{
    iz_req_t *r = p->r;
    const iz_sim_change_t *c = &rec->cur;
    char since[IZ_DATETIME_LEN];
    iz_tr_format(c->consent_date ? c->consent_date : c->creation, since);
    bool onay = c->status == IZ_ONAY;
    iz_page_printf(p,
                   "<div class=\"card\"><b>%s</b>"
                   "<p class=\"meta\">%s · İYS no. %lld · marka kodu %lld · %s</p>"
                   "<p class=\"%s\">%s</p>"
                   "<p class=\"meta\">%s: %s<br>Kaynak: %s</p>",
                   iz_page_esc(r, rec->brand_name), iz_page_esc(r, rec->provider_name),
                   (long long)c->iys_code, (long long)c->brand_code,
                   c->rtype == IZ_TACIR ? "Tacir/esnaf kaydı" : "Bireysel", onay ? "onay" : "red",
                   onay ? "İzin var: bu marka size ulaşabilir (ONAY)"
                        : "İzin yok: bu marka size ulaşamaz (RET)",
                   onay ? "İzin tarihi" : "Ret tarihi", since,
                   iz_page_esc(r, source_label(c->source)));
    iz_page_form_post(p, NULL, "/vatandas");
    iz_page_printf(p,
                   "<input type=\"hidden\" name=\"alici\" value=\"%s\">"
                   "<input type=\"hidden\" name=\"iysCode\" value=\"%lld\">"
                   "<input type=\"hidden\" name=\"brandCode\" value=\"%lld\">"
                   "<input type=\"hidden\" name=\"type\" value=\"%s\">"
                   "<input type=\"hidden\" name=\"recipientType\" value=\"%s\">"
                   "<input type=\"hidden\" name=\"status\" value=\"%s\">"
                   "<button type=\"submit\"%s>%s</button></form>",
                   iz_page_esc(r, c->recipient), (long long)c->iys_code, (long long)c->brand_code,
                   iz_type_name(c->type), iz_rtype_name(c->rtype), onay ? "RET" : "ONAY",
                   onay ? " class=\"ret\"" : "", onay ? "İzni geri al (RET)" : "İzin ver (ONAY)");
    iz_page_printf(p,
                   "<p class=\"meta\"><a href=\"/vatandas/sikayet?alici=%s&amp;iysCode=%lld&amp;"
                   "brandCode=%lld&amp;type=%s\">Bu markadan izinsiz ileti mi aldınız? Şikâyet "
                   "edin</a></p></div>",
                   iz_form_urlencode(r, c->recipient), (long long)c->iys_code,
                   (long long)c->brand_code, iz_type_name(c->type));
}

/* The records of one address, grouped by channel. Returns the page's
 * status: status, 422 for an address that is neither a phone nor an
 * e-mail, 500 when the store cannot be read. */
static int portal_records(iz_page_t *p, iz_sim_t *sim, const char *alici, int status)
{
    char norm[IZ_RECIPIENT_MAX];
    iz_sim_citizen_rec_t *list = NULL;
    size_t n = 0;
    const char *hcode = "H122";
    int rc = load_records(sim, alici, norm, &list, &n, &hcode);
    if (rc == IZ_EINVAL) {
        iz_page_msg(p, "err",
                    "Girdiğiniz değer geçerli bir cep telefonu numarası veya e-posta adresi "
                    "değil. Örnek: 0532 123 45 67 ya da ad@ornek.com",
                    NULL);
        return status == 200 ? 422 : status;
    }
    if (rc != 0) {
        iz_page_msg(p, "err", "Kayıtlar şu anda okunamıyor. Lütfen daha sonra tekrar deneyin.",
                    NULL);
        return 500;
    }
    iz_page_printf(p, "<h2>%s için kayıtlar</h2>", iz_page_esc(p->r, norm));
    if (n == 0)
        iz_page_puts(p, "<div class=\"card\">Bu adres için hiçbir markada kayıt yok: hiçbir "
                        "marka size ticari ileti gönderemez.</div>");
    static const iz_type_t order[] = {IZ_MESAJ, IZ_ARAMA, IZ_EPOSTA};
    for (size_t t = 0; t < IZ_ARRAY_LEN(order); t++) {
        size_t total = 0, reach = 0;
        for (size_t i = 0; i < n; i++)
            if (list[i].cur.type == order[t]) {
                total++;
                if (list[i].cur.status == IZ_ONAY) reach++;
            }
        if (total == 0) continue;
        iz_page_printf(p,
                       "<h2>%s</h2><p class=\"meta\">%zu markanın izni var, %zu marka "
                       "reddedildi.</p>",
                       iz__sim_channel(order[t]), reach, total - reach);
        for (size_t i = 0; i < n; i++)
            if (list[i].cur.type == order[t]) record_card(p, &list[i]);
    }
    free(list);
    return status;
}

/* The portal page, with an optional message box (kind "ok" or "err",
 * plain text). */
static void portal_page(iz_req_t *r, iz_sim_t *sim, const char *alici, int status,
                        const char *msg_kind, const char *msg)
{
    iz_page_t p;
    iz_page_begin(&p, &sim->site, r, "İzinlerim · İYS");
    iz_page_puts(&p, "<h1>Ticari ileti izinlerim</h1>"
                     "<p>Hangi markanın size hangi kanaldan (SMS, arama, e-posta) ticari ileti "
                     "gönderebileceğini görün; izin verin ya da izninizi geri alın.</p>");
    if (msg) iz_page_msg(&p, msg_kind, msg, NULL);
    lookup_form(&p, alici);
    if (alici && *alici) status = portal_records(&p, sim, alici, status);
    iz_page_puts(&p, "<p><a href=\"/vatandas/sikayet\">İzniniz olmadan gelen bir ileti için "
                     "şikâyet başvurusu</a></p>");
    iz_page_end(&p, status);
}

void iz__sim_h_portal(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    const char *alici = iz_req_query(r, "alici");
    const char *sonuc = iz_req_query(r, "sonuc");
    const char *msg = NULL;
    if (sonuc && strcmp(sonuc, "onay") == 0)
        msg = "İzniniz kaydedildi: bu marka artık size bu kanaldan ticari ileti gönderebilir.";
    else if (sonuc && strcmp(sonuc, "ret") == 0)
        msg = "İzniniz geri alındı: bu marka artık size bu kanaldan ticari ileti gönderemez.";
    if (alici && strlen(alici) > IZ_INPUT_MAX) alici = "";
    portal_page(r, sim, alici, 200, "ok", msg);
}

/* The Turkish sentence for an İYS rule's refusal of a citizen's change. */
static void rule_message(const char *hcode, char *out, size_t outsz)
{
    const iz_hcode_t *hc = iz_hcode(hcode);
    const char *why = strcmp(hcode, "H174") == 0 ? "Bu izin zaten bu durumda; değişiklik yapılmadı."
                      : strcmp(hcode, "H175") == 0
                          ? "Kaydı olmayan bir izin geri alınamaz; değişiklik yapılmadı."
                      : strcmp(hcode, "H178") == 0
                          ? "Bu izin az önce değişti; lütfen birkaç saniye sonra tekrar deneyin."
                          : "Değişiklik kaydedilemedi.";
    snprintf(out, outsz, "%s (%s%s%s)", why, hcode, hc ? ": " : "", hc ? hc->tr : "");
}

void iz__sim_h_portal_post(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz_form_t form;
    if (iz_page_post_form(r, &sim->site, sim->page_posts, &form) != 0) return;
    const char *alici = iz_form_value(&form, "alici", IZ_INPUT_MAX), *siys, *sbrand;
    int64_t iys_code = 0, brand_code = 0;
    if (!alici || iz__sim_form_codes(&form, &siys, &sbrand, &iys_code, &brand_code) ||
        check_brand(sim, iys_code, brand_code)) {
        portal_page(r, sim, alici, 422, "err", "Marka bulunamadı. Lütfen listeden seçin.");
        return;
    }
    int64_t now = (int64_t)time(NULL);
    char date[IZ_DATETIME_LEN];
    iz_tr_format(now, date);
    iz_consent_raw_t raw = {0};
    set_field(&raw.recipient, alici);
    set_field(&raw.type, iz_form_value(&form, "type", 16));
    set_field(&raw.status, iz_form_value(&form, "status", 16));
    set_field(&raw.recipient_type, iz_form_value(&form, "recipientType", 16));
    set_field(&raw.source, "IYS_WEB");
    set_field(&raw.consent_date, date);
    iz_validate_opts_t vo = {.now = now, .allow_iys_sources = true};
    iz_consent_t c;
    iz_verrs_t errs = {0};
    if (iz_consent_validate(&raw, &vo, &c, &errs) != 0) {
        portal_page(r, sim, alici, 422, "err",
                    "İstek geçersiz: alıcı, kanal veya durum bilgisi hatalı. Hiçbir değişiklik "
                    "yapılmadı.");
        return;
    }
    iz_sim_change_t chg;
    const char *hcode = NULL;
    int rc = apply_change(sim, iys_code, brand_code, &c, NULL, now, &chg, &hcode);
    if (rc == IZ_ERULE && hcode) {
        char msg[512];
        rule_message(hcode, msg, sizeof msg);
        portal_page(r, sim, chg.recipient[0] ? chg.recipient : c.recipient, iz_hcode_http(hcode),
                    "err", msg);
        return;
    }
    if (rc != 0) {
        portal_page(r, sim, c.recipient, 500, "err",
                    "Değişiklik şu anda kaydedilemedi. Lütfen daha sonra tekrar deneyin.");
        return;
    }
    char loc[IZ_RECIPIENT_MAX * 3 + 64];
    snprintf(loc, sizeof loc, "/vatandas?alici=%s&sonuc=%s", iz_form_urlencode(r, c.recipient),
             c.status == IZ_ONAY ? "onay" : "ret");
    iz_page_see_other(r, &sim->site, loc, "Değişikliğiniz kaydedildi.");
}
