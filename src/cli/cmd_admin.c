/*
 * cmd_admin.c - the administration commands: init, account add, brand add,
 * key add. Each prints its result (as one JSON object with --json) and exits
 * 0, or prints one line on stderr and exits non-zero.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/content.h"
#include "core/iz.h"
#include "core/keyword.h"
#include "core/trtime.h"
#include "core/utf8.h"
#include "sys/crypto.h"

#define DATA_OPTS                                                                                  \
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},          \
        {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},                 \
        {"json", false, NULL, NULL, "print the result as one JSON object"}

static bool want_json(const iz_opts_t *o)
{
    return iz_cli_get(o, "json") != NULL;
}

static const iz_optdef_t init_defs[] = {DATA_OPTS};
static const iz_cmddef_t init_cmd =
    IZ_CMD("izin init", "[options]",
           "Create the store, or bring it to the current schema; running it again changes "
           "nothing.",
           init_defs);

static int init_run(const iz_opts_t *o)
{
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    int v = iz_store_schema_version(st);
    iz_store_close(st);
    if (want_json(o))
        iz_cli_print_json(json_pack("{s:b, s:i}", "ok", 1, "schemaVersion", v));
    else
        printf("store ready (schema version %d)\n", v);
    return 0;
}

int iz_cmd_init(int argc, char **argv)
{
    return iz_cli_run(&init_cmd, init_run, argc, argv);
}

/* Copy a required text option into dst, refusing empty or too long values. */
static int text_opt(const iz_opts_t *o, const char *name, char *dst, size_t n, bool required)
{
    const char *v = iz_cli_get(o, name);
    if (!v || !*v) {
        if (!required) return 0;
        iz_cli_fail("--%s is required", name);
        return -1;
    }
    if (iz_strlcpy(dst, v, n) != 0) {
        iz_cli_fail("--%s is too long (at most %zu bytes)", name, n - 1);
        return -1;
    }
    return 0;
}

static const iz_optdef_t account_defs[] = {
    DATA_OPTS,
    {"name", true, "NAME", NULL, "the account's name (required)"},
    {"iys-code", true, "N", NULL, "İYS's code of the service provider (required)"},
    {"activation-date", true, "YYYY-MM-DD", "none: upload period, H467 not applied",
     "the account's İYS activation date"},
    {"iys-url", true, "URL", "serve's --iys-url", "İYS base URL of this account"},
    {"iys-user", true, "U", NULL, "İYS API user"},
    {"iys-password", true, "P", NULL, "İYS API password (stored sealed, never printed)"},
    {"iys-integrator", true, "CODE", NULL,
     "send through this İYS partner (iş ortağı) with serve's --iys-integrator-user, instead "
     "of an İYS user of the account's own"},
    {"plan", true, "NAME", NULL, "the account's plan"},
};
static const iz_cmddef_t account_cmd =
    IZ_CMD("izin account add", "--name NAME --iys-code N [options]",
           "Add a service-provider account.", account_defs);

static int account_add(const iz_opts_t *o)
{
    iz_account_t a = {0};
    if (text_opt(o, "name", a.name, sizeof a.name, true) != 0) return 2;
    const char *code = iz_cli_get(o, "iys-code");
    if (!code || iz_parse_i64(code, 1, 999999999999, &a.iys_code) != 0) {
        iz_cli_fail("--iys-code must be İYS's numeric code of the service provider");
        return 2;
    }
    const char *ad = iz_cli_get(o, "activation-date");
    if (ad) {
        int64_t e;
        if (iz_tr_parse_date(ad, &e) != 0) {
            iz_cli_fail("--activation-date must be YYYY-MM-DD");
            return 2;
        }
        iz_strlcpy(a.activation_date, ad, sizeof a.activation_date);
    }
    if (text_opt(o, "iys-url", a.iys_url, sizeof a.iys_url, false) != 0 ||
        text_opt(o, "iys-user", a.iys_user, sizeof a.iys_user, false) != 0 ||
        text_opt(o, "iys-password", a.iys_password, sizeof a.iys_password, false) != 0 ||
        text_opt(o, "plan", a.plan, sizeof a.plan, false) != 0)
        return 2;
    const char *ig = iz_cli_get(o, "iys-integrator");
    if (ig && iz_parse_i64(ig, 1, 999999999999, &a.iys_integrator) != 0) {
        iz_cli_fail("--iys-integrator must be İYS's numeric code of the partner (iş ortağı)");
        return 2;
    }
    if (a.iys_integrator && (a.iys_user[0] || a.iys_password[0])) {
        iz_cli_fail("--iys-integrator and --iys-user/--iys-password exclude each other: a "
                    "partner's account sends with the partner's user");
        return 2;
    }
    if (a.iys_url[0] && strncmp(a.iys_url, "http://", 7) != 0 &&
        strncmp(a.iys_url, "https://", 8) != 0) {
        iz_cli_fail("--iys-url must start with https:// (or http:// for the emulator)");
        return 2;
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    int rc = iz_store_account_add(st, &a);
    iz_wipe(a.iys_password, sizeof a.iys_password);
    iz_store_close(st);
    if (rc == IZ_EEXIST) {
        iz_cli_fail("an account named '%s' already exists", a.name);
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot add the account: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o)) {
        json_t *j = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)a.id, "name", a.name,
                              "iysCode", (json_int_t)a.iys_code);
        if (a.activation_date[0])
            json_object_set_new(j, "activationDate", json_string(a.activation_date));
        if (a.iys_integrator)
            json_object_set_new(j, "integratorCode", json_integer((json_int_t)a.iys_integrator));
        iz_cli_print_json(j);
    } else if (a.iys_integrator) {
        printf("account %s added (iys code %lld, through partner %lld)\n", a.name,
               (long long)a.iys_code, (long long)a.iys_integrator);
    } else {
        printf("account %s added (iys code %lld)\n", a.name, (long long)a.iys_code);
    }
    return 0;
}

static const iz_optdef_t account_list_defs[] = {DATA_OPTS};
static const iz_cmddef_t account_list_cmd =
    IZ_CMD("izin account list", "[options]",
           "List the accounts with how they reach İYS (their own user or a partner's) and "
           "where they\nstand with it, as izin serve last found: whether their changes go to "
           "İYS, and why not\n(a subscription that is not ACTIVE, a full consent limit, a "
           "partner not authorized).",
           account_list_defs);

/* The standing izin serve last wrote for an account, or NULL. */
static const iz_iys_standing_t *standing_of(const iz_iys_standing_t *l, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (l[i].account_id == id) return &l[i];
    return NULL;
}

static int account_list(const iz_opts_t *o)
{
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t *a = NULL;
    iz_iys_standing_t *sl = NULL;
    size_t n = 0, ns = 0;
    int rc = iz_store_accounts_all(st, &a, &n);
    if (rc == 0) rc = iz_store_iys_standing_all(st, &sl, &ns);
    iz_store_close(st);
    if (rc != 0) {
        iz_cli_fail("cannot read the accounts: %s", iz_strerror(rc));
        free(a);
        return 1;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const iz_iys_standing_t *sd = standing_of(sl, ns, a[i].id);
        json_t *iys = sd ? json_loads(sd->json, 0, NULL) : NULL;
        /* The mode izin serve found (an account without a URL of its own
         * uses serve's --iys-url, or has no İYS), else what the account
         * says. */
        const char *mode = json_string_value(json_object_get(iys, "mode"));
        if (!mode) mode = a[i].iys_integrator ? "partner" : "direct";
        json_t *j = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)a[i].id, "name", a[i].name,
                              "iysCode", (json_int_t)a[i].iys_code, "mode", mode);
        if (a[i].iys_integrator)
            json_object_set_new(j, "integratorCode", json_integer((json_int_t)a[i].iys_integrator));
        if (a[i].iys_url[0]) json_object_set_new(j, "iysUrl", json_string(a[i].iys_url));
        json_object_set_new(j, "iys", iys ? iys : json_null());
        if (!want_json(o)) {
            const char *shown = !sd                                 ? "not seen by izin serve yet"
                                : sd->sending                       ? "sending"
                                : strcmp(sd->reason, "NO_IYS") == 0 ? "local only: no İYS URL"
                                                                    : "waiting: ";
            printf("%-20s iys %-10lld %-8s %s%s\n", a[i].name, (long long)a[i].iys_code, mode,
                   shown, strcmp(shown, "waiting: ") == 0 ? sd->reason : "");
            json_t *problems = json_object_get(json_object_get(iys, "partner"), "problems");
            size_t k;
            json_t *p;
            json_array_foreach(problems, k, p)
            {
                const char *type = json_string_value(json_object_get(p, "type"));
                printf("  brand %lld%s%s: %s\n",
                       (long long)json_integer_value(json_object_get(p, "brandCode")),
                       type ? " " : "", type ? type : "",
                       json_string_value(json_object_get(p, "problem")));
            }
        }
        json_array_append_new(list, j);
    }
    if (want_json(o))
        iz_cli_print_json(json_pack("{s:o}", "list", list));
    else
        json_decref(list);
    free(a);
    iz_store_iys_standing_free(sl, ns);
    return 0;
}

#define BRAND_SMS_OPTS                                                                             \
    {"keyword", true, "KW[,KW...]", NULL,                                                          \
     "SMS keywords (letters, Turkish ones too, and digits); the first is named in opt-out texts"}, \
        {"short-number", true, "46XX", NULL, "the 4-digit short number the keywords are on"},      \
        {"subscriber-number", true, "0850XXXXXXX", NULL, "the brand's own 0850 number"},           \
        {"slug", true, "SLUG", NULL, "the consent page's short name: a-z, 0-9, '-'"},              \
        {"reply-onay", true, "TEXT", "izin's Turkish text",                                        \
         "SMS reply to an opt-in ({brand} {channels} {keyword} {number} are filled in)"},          \
        {"reply-ret", true, "TEXT", "izin's Turkish text", "SMS reply to an opt-out"},             \
        {"reply-help", true, "TEXT", "izin's Turkish text",                                        \
         "SMS reply to a message izin cannot read"},                                               \
        {"trade-name", true, "TEXT", NULL,                                                         \
         "the company's trade name (ticaret unvanı) commercial messages carry"},                   \
        {"mersis", true, "N", NULL, "the company's 16-digit MERSİS number"},                       \
        {"tradesman", true, "TEXT", NULL,                                                          \
         "a tradesman's (esnaf) name and surname, instead of a trade name and MERSİS number"},     \
    {                                                                                              \
        "contact", true, "TEXT", NULL,                                                             \
            "how to reach the sender (phone, address, web or e-mail), carried by commercial "      \
            "messages"                                                                             \
    }

static const iz_optdef_t brand_defs[] = {
        DATA_OPTS,
        {"account", true, "NAME", NULL, "the account the brand belongs to (required)"},
        {"code", true, "N", NULL, "İYS's brand code (required)"},
        {"name", true, "TEXT", NULL, "the brand's name (required)"},
        BRAND_SMS_OPTS,
};
static const iz_cmddef_t brand_cmd =
    IZ_CMD("izin brand add", "--account NAME --code N --name TEXT [options]",
           "Add a brand to an account.", brand_defs);

static const iz_optdef_t brand_set_defs[] = {
    DATA_OPTS,
    {"account", true, "NAME", "the one account with that brand code",
     "the account the brand belongs to"},
    {"code", true, "N", NULL, "İYS's brand code (required)"},
    {"name", true, "TEXT", NULL, "the brand's name"},
    BRAND_SMS_OPTS,
    {"info-text", true, "FILE", NULL,
     "the information text (KVKK aydınlatma metni, UTF-8 plain text) its consent page "
     "shows; '' clears it"},
    {"page-mode", true, "IYS|LOCAL", NULL,
     "how its consent page proves a number: LOCAL izin's own SMS code, IYS İYS's SMS OTP "
     "(needs --page-otp-template and --page-vkn)"},
    {"page-otp-template", true, "ID", NULL, "the brand's SMS OTP template (templateId) at İYS"},
    {"page-vkn", true, "VKN", NULL, "the sender's tax number İYS's SMS OTP start needs"},
};
static const iz_cmddef_t brand_set_cmd =
    IZ_CMD("izin brand set", "--code N [options]",
           "Change a brand's name, SMS keywords, numbers, slug, reply texts or sender identity; "
           "what is not "
           "given stays.\nAn empty value clears it (--keyword '' removes every keyword).",
           brand_set_defs);

/* The SMS settings given (add: every one; set: those given replace the
 * brand's, an empty value clears). Returns 0 or 2 (a usage error, said). */
static int brand_sms_opts(const iz_opts_t *o, iz_brand_t *b, iz_brand_sms_t *m)
{
    const char *v;
    if ((v = iz_cli_get(o, "keyword"))) {
        m->nkeywords = 0;
        char list[IZ_KEYWORDS_MAX * 64 + 1];
        if (iz_strlcpy(list, v, sizeof list) != 0) {
            iz_cli_fail("--keyword: too many or too long keywords");
            return 2;
        }
        for (char *save = NULL, *kw = strtok_r(list, ",", &save); kw;
             kw = strtok_r(NULL, ",", &save)) {
            while (*kw == ' ')
                kw++;
            for (size_t n = strlen(kw); n > 0 && kw[n - 1] == ' '; n--)
                kw[n - 1] = '\0';
            if (m->nkeywords == IZ_KEYWORDS_MAX ||
                iz_keyword(kw, m->keywords[m->nkeywords]) != 0) {
                iz_cli_fail("--keyword: '%s' is not a keyword (letters and digits, 1 to 4 words, "
                            "none an action or channel word like RET or SMS; at most %d keywords)",
                            kw, IZ_KEYWORDS_MAX);
                return 2;
            }
            m->nkeywords++;
        }
        iz_strlcpy(b->keyword, m->nkeywords ? m->keywords[0] : "", sizeof b->keyword);
    }
    struct {
        const char *name;
        char *dst;
        size_t n;
    } texts[] = {
        {"short-number", b->short_number, sizeof b->short_number},
        {"subscriber-number", b->subscriber_number, sizeof b->subscriber_number},
        {"slug", b->slug, sizeof b->slug},
        {"reply-onay", m->reply_onay, sizeof m->reply_onay},
        {"reply-ret", m->reply_ret, sizeof m->reply_ret},
        {"reply-help", m->reply_help, sizeof m->reply_help},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(texts); i++)
        if ((v = iz_cli_get(o, texts[i].name)) && iz_strlcpy(texts[i].dst, v, texts[i].n) != 0) {
            iz_cli_fail("--%s is too long (at most %zu bytes)", texts[i].name, texts[i].n - 1);
            return 2;
        }
    if (b->short_number[0] && !iz_short_number_ok(b->short_number)) {
        iz_cli_fail("--short-number must be 4 digits");
        return 2;
    }
    if (b->subscriber_number[0] && !iz_subscriber_number_ok(b->subscriber_number)) {
        iz_cli_fail("--subscriber-number must be 0850 followed by 7 digits");
        return 2;
    }
    for (const char *p = b->slug; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')) {
            iz_cli_fail("--slug may contain only a-z, 0-9 and '-'");
            return 2;
        }
    const char *texts_utf8[] = {m->reply_onay, m->reply_ret, m->reply_help};
    for (size_t i = 0; i < 3; i++)
        if (iz_utf8_valid_prefix(texts_utf8[i], strlen(texts_utf8[i])) != strlen(texts_utf8[i])) {
            iz_cli_fail("the reply texts must be UTF-8");
            return 2;
        }
    return 0;
}

static void brand_json(const iz_brand_t *b, const iz_brand_sms_t *m, const char *account)
{
    json_t *j = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)b->id, "account", account,
                          "code", (json_int_t)b->code, "name", b->name);
    if (b->keyword[0]) json_object_set_new(j, "keyword", json_string(b->keyword));
    if (m->nkeywords) {
        json_t *kws = json_array();
        for (size_t i = 0; i < m->nkeywords; i++)
            json_array_append_new(kws, json_string(m->keywords[i]));
        json_object_set_new(j, "keywords", kws);
    }
    if (b->short_number[0]) json_object_set_new(j, "shortNumber", json_string(b->short_number));
    if (b->subscriber_number[0])
        json_object_set_new(j, "subscriberNumber", json_string(b->subscriber_number));
    if (b->slug[0]) json_object_set_new(j, "slug", json_string(b->slug));
    iz_cli_print_json(j);
}

/* --info-text FILE read whole into out (IZ_BRAND_INFO_MAX bytes): "" clears
 * it. Returns 0, or 2 (said) for a file that cannot be read, is too long or
 * is not UTF-8. */
static int info_text_opt(const char *path, char *out)
{
    out[0] = '\0';
    if (!*path) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        iz_cli_fail("--info-text: cannot open %s", path);
        return 2;
    }
    size_t n = fread(out, 1, IZ_BRAND_INFO_MAX, f);
    bool err = ferror(f) != 0;
    fclose(f);
    if (err || n >= IZ_BRAND_INFO_MAX) {
        iz_cli_fail("--info-text: %s",
                    err ? "cannot read the file" : "the text is over 16383 bytes");
        return 2;
    }
    out[n] = '\0';
    if (memchr(out, '\0', n) || iz_utf8_valid_prefix(out, n) != n) {
        iz_cli_fail("--info-text: the file must be UTF-8 text");
        return 2;
    }
    return 0;
}

/* The consent page's mode, template and VKN: the brand's, with those
 * given replacing them. Returns 0, 1 (store) or 2 (a usage error, said). */
static int brand_page_opts(const iz_opts_t *o, iz_store_t *st, int64_t brand_id,
                           iz_brand_page_t *pg)
{
    if (iz_store_brand_page_get(st, brand_id, pg) != 0) {
        iz_cli_fail("cannot read the brand's consent page settings");
        return 1;
    }
    const char *mode = iz_cli_get(o, "page-mode");
    const char *tpl = iz_cli_get(o, "page-otp-template");
    const char *vkn = iz_cli_get(o, "page-vkn");
    if (mode && strcmp(mode, "IYS") != 0 && strcmp(mode, "LOCAL") != 0) {
        iz_cli_fail("--page-mode must be IYS or LOCAL");
        return 2;
    }
    if (mode) pg->iys = strcmp(mode, "IYS") == 0;
    if ((tpl && iz_strlcpy(pg->otp_template, tpl, sizeof pg->otp_template) != 0) ||
        (vkn && iz_strlcpy(pg->vkn, vkn, sizeof pg->vkn) != 0) || !iz_brand_page_ok(pg)) {
        iz_cli_fail("--page-mode IYS needs --page-otp-template (at most %d bytes) and --page-vkn "
                    "(10 or 11 digits, not starting with 0)",
                    IZ_PAGE_TEMPLATE_MAX - 1);
        return 2;
    }
    return 0;
}

/* The sender's identity and contact: the brand's (brand_id 0: none yet),
 * with those given replacing them ('' clears). Returns 0, 1 (store) or 2
 * (a usage error, said); *given tells whether any was. */
static int brand_ident_opts(const iz_opts_t *o, iz_store_t *st, int64_t brand_id,
                            iz_brand_ident_t *id, bool *given)
{
    memset(id, 0, sizeof *id);
    *given = false;
    if (brand_id && iz_store_brand_ident_get(st, brand_id, id) != 0) {
        iz_cli_fail("cannot read the brand's identity settings");
        return 1;
    }
    struct {
        const char *name;
        char *dst;
        size_t n;
    } t[] = {
        {"trade-name", id->trade_name, sizeof id->trade_name},
        {"mersis", id->mersis, sizeof id->mersis},
        {"tradesman", id->tradesman, sizeof id->tradesman},
        {"contact", id->contact, sizeof id->contact},
    };
    for (size_t i = 0; i < IZ_ARRAY_LEN(t); i++) {
        const char *v = iz_cli_get(o, t[i].name);
        if (!v) continue;
        *given = true;
        if (iz_strlcpy(t[i].dst, v, t[i].n) != 0 || !iz_content_field_ok(t[i].dst, t[i].n)) {
            iz_cli_fail("--%s must be UTF-8 text without control characters, at most %zu bytes",
                        t[i].name, t[i].n - 1);
            return 2;
        }
    }
    if (id->mersis[0] && !iz_content_mersis_ok(id->mersis)) {
        iz_cli_fail("--mersis must be the 16-digit MERSİS number");
        return 2;
    }
    return 0;
}

static int brand_set(const iz_opts_t *o)
{
    const char *code = iz_cli_get(o, "code");
    int64_t c;
    if (!code || iz_parse_i64(code, 1, 999999999999, &c) != 0) {
        iz_cli_fail("--code must be İYS's numeric brand code");
        return 2;
    }
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_brand_t b;
    iz_brand_sms_t m;
    iz_account_t a;
    if (iz_cli_find_brand(st, iz_cli_get(o, "account"), c, &b) != 0 ||
        iz_store_brand_sms_get(st, b.id, &m) != 0 || iz_store_account_get(st, b.account_id, &a) != 0) {
        iz_store_close(st);
        return 1;
    }
    iz_wipe(a.iys_password, sizeof a.iys_password);
    const char *name = iz_cli_get(o, "name");
    if (name && (!*name || iz_strlcpy(b.name, name, sizeof b.name) != 0)) {
        iz_cli_fail("--name must be 1 to %zu bytes", sizeof b.name - 1);
        iz_store_close(st);
        return 2;
    }
    int rc = brand_sms_opts(o, &b, &m);
    if (rc != 0) {
        iz_store_close(st);
        return rc;
    }
    const char *info = iz_cli_get(o, "info-text");
    char *text = info ? iz_xcalloc(1, IZ_BRAND_INFO_MAX) : NULL;
    if (info && (rc = info_text_opt(info, text)) != 0) {
        free(text);
        iz_store_close(st);
        return rc;
    }
    iz_brand_page_t pg;
    iz_brand_ident_t id;
    bool id_given;
    if ((rc = brand_page_opts(o, st, b.id, &pg)) != 0 ||
        (rc = brand_ident_opts(o, st, b.id, &id, &id_given)) != 0) {
        free(text);
        iz_store_close(st);
        return rc;
    }
    const char *conflict = NULL;
    rc = iz_store_brand_update(st, &b, &m, &conflict);
    if (rc == 0 && text) rc = iz_store_brand_info_set(st, b.id, text);
    if (rc == 0) rc = iz_store_brand_page_set(st, b.id, &pg);
    if (rc == 0 && id_given) rc = iz_store_brand_ident_set(st, b.id, &id);
    free(text);
    iz_store_close(st);
    if (rc == IZ_EEXIST) {
        iz_cli_fail("the %s is already another brand's%s", conflict ? conflict : "setting",
                    conflict && strcmp(conflict, "keyword") == 0 ? " on that short number" : "");
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot change the brand: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o))
        brand_json(&b, &m, a.name);
    else
        printf("brand %lld (%s) changed\n", (long long)b.code, b.name);
    return 0;
}

static int brand_add(const iz_opts_t *o)
{
    iz_brand_t b = {0};
    iz_brand_sms_t m = {0};
    char account[IZ_NAME_MAX];
    if (text_opt(o, "account", account, sizeof account, true) != 0 ||
        text_opt(o, "name", b.name, sizeof b.name, true) != 0)
        return 2;
    const char *code = iz_cli_get(o, "code");
    if (!code || iz_parse_i64(code, 1, 999999999999, &b.code) != 0) {
        iz_cli_fail("--code must be İYS's numeric brand code");
        return 2;
    }
    int rc = brand_sms_opts(o, &b, &m);
    if (rc != 0) return rc;
    iz_brand_ident_t id;
    bool id_given;
    if ((rc = brand_ident_opts(o, NULL, 0, &id, &id_given)) != 0) return rc;
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t a;
    rc = iz_store_account_by_name(st, account, &a);
    iz_wipe(a.iys_password, sizeof a.iys_password);
    const char *conflict = NULL;
    if (rc == 0) {
        b.account_id = a.id;
        rc = iz_store_brand_add(st, &b);
        /* Several keywords and reply texts: one more step. */
        if (rc == 0 && (m.nkeywords > 1 || m.reply_onay[0] || m.reply_ret[0] || m.reply_help[0]))
            rc = iz_store_brand_update(st, &b, &m, &conflict);
        if (rc == 0 && id_given) rc = iz_store_brand_ident_set(st, b.id, &id);
    }
    iz_store_close(st);
    if (rc == IZ_ENOTFOUND) {
        iz_cli_fail("no account named '%s'", account);
        return 1;
    }
    if (rc == IZ_EEXIST) {
        iz_cli_fail("brand code %lld, its slug, keyword (on that short number) or 0850 number "
                    "is already in use%s%s",
                    (long long)b.code, conflict ? ": " : "", conflict ? conflict : "");
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot add the brand: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o))
        brand_json(&b, &m, account);
    else
        printf("brand %lld (%s) added to account %s\n", (long long)b.code, b.name, account);
    return 0;
}

static const iz_optdef_t key_defs[] = {
    DATA_OPTS, {"account", true, "NAME", NULL, "the account the key opens (required)"}};
static const iz_cmddef_t key_cmd =
    IZ_CMD("izin key add", "--account NAME [options]",
           "Create an API key; it is printed once, alone on its line (only its hash is stored).",
           key_defs);

static int key_add(const iz_opts_t *o)
{
    char account[IZ_NAME_MAX];
    if (text_opt(o, "account", account, sizeof account, true) != 0) return 2;
    iz_store_t *st;
    if (iz_cli_open_store(o, &st) != 0) return 1;
    iz_account_t a;
    int rc = iz_store_account_by_name(st, account, &a);
    char key[IZ_KEY_LEN + 1], hex[IZ_SHA256_HEX], prefix[9];
    if (rc == 0) rc = iz_key_generate(key);
    if (rc == 0) {
        iz_sha256_hex(key, strlen(key), hex);
        memcpy(prefix, key, 8);
        prefix[8] = '\0';
        rc = iz_store_key_add(st, a.id, hex, prefix);
    }
    iz_store_close(st);
    if (rc == IZ_ENOTFOUND) {
        iz_cli_fail("no account named '%s'", account);
        return 1;
    }
    if (rc != 0) {
        iz_cli_fail("cannot add the key: %s", iz_strerror(rc));
        return 1;
    }
    if (want_json(o))
        iz_cli_print_json(json_pack("{s:s, s:s}", "account", account, "key", key));
    else
        puts(key);
    iz_wipe(key, sizeof key);
    return 0;
}

/* "izin account add ...": the sub-command word comes first. */
static int subcommand(const char *group, int argc, char **argv, const iz_cmddef_t *cmd,
                      int (*add)(const iz_opts_t *o))
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: izin %s add [options]%s\n\nSee izin %s add --help.\n", group,
               strcmp(group, "brand") == 0     ? "\n       izin brand set --code N [options]"
               : strcmp(group, "account") == 0 ? "\n       izin account list [options]"
                                               : "",
               group);
        return 0;
    }
    if (argc < 1 || strcmp(argv[0], "add") != 0) {
        iz_cli_fail("usage: izin %s add [options] (see izin %s add --help)", group, group);
        return 2;
    }
    return iz_cli_run(cmd, add, argc - 1, argv + 1);
}

int iz_cmd_account(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return iz_cli_run(&account_list_cmd, account_list, argc - 1, argv + 1);
    return subcommand("account", argc, argv, &account_cmd, account_add);
}

int iz_cmd_brand(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "set") == 0)
        return iz_cli_run(&brand_set_cmd, brand_set, argc - 1, argv + 1);
    return subcommand("brand", argc, argv, &brand_cmd, brand_add);
}

int iz_cmd_key(int argc, char **argv)
{
    return subcommand("key", argc, argv, &key_cmd, key_add);
}
