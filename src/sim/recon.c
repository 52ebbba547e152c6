/*
 * recon.c - reconciliation (İYS's "mutabakat"): at the end of every day
 * (Turkey time) İYS writes, for each brand, the day's change file - every
 * change of the brand recorded that day, from the provider's calls and
 * from the citizens' own IYS_* changes alike - keeps its SHA-384 and
 * stamps it with an RFC 3161 timestamp. The provider compares the hash
 * with the hash of its own file of the day and, when they match, records
 * the agreement.
 *
 * The calls (official specification, tag MUTABAKAT YÖNETİMİ):
 *   GET .../changes/{reportDate}/file                  the CSV (204: none)
 *   GET .../changes/{reportDate}/recipients/{rtype}    the day's summary
 *   GET .../agreements/{reportDate}                    hash and agreement
 *   PUT .../agreements/{reportDate}                    record the agreement
 *   GET .../agreements/{reportDate}/timestamp          the .tsr of the file
 * every one for the last 7 days only (422 H502 before that). And the
 * emulator's own POST /_sim/end-of-day {date}, which writes a day's files now
 * (tests need not wait for midnight), and GET /_sim/tsa-certificate, the
 * certificate that verifies the stamps.
 *
 * A file is kept as the log range it is made of (the brand's changes of
 * the day with id <= max_id) and its hash: the log is append-only, so the
 * same range always gives the same text; the text is written again when it
 * is downloaded, into an unlinked temporary file served from disk, so a
 * day of a million changes costs no memory. A worker runs the day-end of
 * every day of the window that ended without one (also the days the
 * emulator was down over); a call about such a day runs it first.
 * docs/IYS-EMULATOR.md ("Reconciliation") has the choices.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "core/csvout.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "sys/crypto.h"
#include "sys/log.h"
#include "sim/sim_int.h"

#define RECON_WINDOW_DAYS 7     /* İYS serves the last 7 days (H502) */
#define RECON_KEEP_DAYS 8       /* files older than the window are dropped */
#define RECON_PAGE 1000         /* log rows read at a time */
#define RECON_INTERVAL_MS 30000 /* how often the worker looks for a day that ended */
#define SHA384_LEN 48
#define SHA384_HEX (2 * SHA384_LEN + 1)
#define DAY_SECS 86400
/* The policy of the emulator's stamps: the example policy of OpenSSL's TSA
 * configuration. The emulator's stamps prove nothing to anyone else. */
#define TSA_POLICY "1.2.3.4.1"

/* One day-end at a time in the process: the worker's and a call's would
 * otherwise write the same files twice. */
static pthread_mutex_t day_end_mu = PTHREAD_MUTEX_INITIALIZER;

static const char csv_header[] =
    "creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n";

/* ---- days ----------------------------------------------------------------- */

/* The "YYYY-MM-DD" of a Turkey-time day (days since 1970-01-01). */
static void day_date(int64_t day, char out[11])
{
    char buf[IZ_DATETIME_LEN];
    iz_tr_format(day * DAY_SECS - IZ_TR_OFFSET, buf);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

static int64_t today(void)
{
    return iz_tr_day(time(NULL));
}

/* ---- the file's text -------------------------------------------------------- */

/* Where the text goes: always into the hash, and into f when it is set. */
typedef struct csv_out {
    EVP_MD_CTX *md;
    FILE *f;
    int64_t rows;
    int64_t last_id;
    int rc;
} csv_out_t;

static void out_put(csv_out_t *o, const char *s, size_t n)
{
    if (o->rc != 0) return;
    if (EVP_DigestUpdate(o->md, s, n) != 1) o->rc = IZ_EIO;
    if (o->f && fwrite(s, 1, n, o->f) != n) o->rc = IZ_EIO;
}

/* One field and the comma or newline after it. */
static void out_field(csv_out_t *o, const char *s, char end)
{
    char buf[IZ_CSV_FIELD_MAX(IZ_RECIPIENT_MAX) + 1];
    size_t n = strlen(s);
    if (n > IZ_RECIPIENT_MAX) n = IZ_RECIPIENT_MAX; /* every field fits; this only bounds */
    size_t len = iz_csv_field(buf, s, n);
    buf[len++] = end;
    out_put(o, buf, len);
}

/* A change as a line of the file, in the header's order; an omitted
 * consentDate or source is an empty field (TACIR). */
static void out_change(csv_out_t *o, const iz_sim_change_t *c)
{
    char creation[IZ_DATETIME_LEN], consent[IZ_DATETIME_LEN] = "";
    iz_tr_format(c->creation, creation);
    if (c->consent_date) iz_tr_format(c->consent_date, consent);
    const char *src = c->source != IZ_SOURCE_NONE ? iz_source_name(c->source) : "";
    out_field(o, creation, ',');
    out_field(o, c->txid, ',');
    out_field(o, c->recipient, ',');
    out_field(o, iz_rtype_name(c->rtype), ',');
    out_field(o, iz_type_name(c->type), ',');
    out_field(o, iz_status_name(c->status), ',');
    out_field(o, consent, ',');
    out_field(o, src ? src : "", '\n');
    o->rows++;
    o->last_id = c->id;
}

/* Write a brand's file of the day [from, to) with ids up to max_id; o->md
 * must be initialized. 0, or the store's or the output's failure. */
static int write_day(iz_sim_t *sim, int64_t iys, int64_t brand, int64_t from, int64_t to,
                     int64_t max_id, csv_out_t *o)
{
    out_put(o, csv_header, sizeof csv_header - 1);
    int64_t after = 0;
    for (;;) {
        iz_sim_change_t *list = NULL;
        size_t n = 0;
        int rc =
            iz_sim_day_changes(sim->st, iys, brand, after, max_id, from, to, RECON_PAGE, &list, &n);
        if (rc != 0) return rc;
        for (size_t i = 0; i < n; i++)
            out_change(o, &list[i]);
        if (n > 0) after = list[n - 1].id;
        free(list);
        if (o->rc != 0) return o->rc;
        if (n < RECON_PAGE) return 0;
    }
}

/* The hash of o's text as lowercase hex. */
static int out_hash(csv_out_t *o, char hex[SHA384_HEX], unsigned char raw[SHA384_LEN])
{
    unsigned int len = 0;
    if (o->rc != 0) return o->rc;
    if (EVP_DigestFinal_ex(o->md, raw, &len) != 1 || len != SHA384_LEN) return IZ_EIO;
    iz_hex(raw, SHA384_LEN, hex);
    return 0;
}

/* ---- the timestamp authority ------------------------------------------------ */

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok ? 0 : IZ_EIO;
}

/* A BIO's content as a NUL-terminated malloc'd string. */
static char *bio_text(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n < 0) return NULL;
    char *s = iz_xmalloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    return s;
}

/* A new self-signed timestamping key and certificate (EC P-256, 20 years;
 * the one extension RFC 3161 demands: a critical extendedKeyUsage of
 * timeStamping; no keyUsage, so that the certificate is its own trust
 * anchor). */
static int tsa_make(char **key_pem, char **cert_pem)
{
    *key_pem = *cert_pem = NULL;
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    int rc = IZ_EIO;
    uint64_t serial = 0;
    if (!pk || !x || !kb || !cb || iz_random(&serial, sizeof serial) != 0) goto out;
    X509_NAME *nm = X509_get_subject_name(x);
    if (X509_set_version(x, 2) != 1 ||
        ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -DAY_SECS) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 20L * 365 * DAY_SECS) ||
        X509_set_pubkey(x, pk) != 1 ||
        X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"TR", -1, -1, 0) !=
            1 ||
        X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8,
                                   (const unsigned char *)"İYS emulator (izin iys-sim)", -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"izin iys-sim TSA", -1, -1, 0) != 1 ||
        X509_set_issuer_name(x, nm) != 1 ||
        add_ext(x, NID_ext_key_usage, "critical,timeStamping") != 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") != 0 || X509_sign(x, pk, EVP_sha256()) <= 0)
        goto out;
    if (PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509(cb, x) != 1)
        goto out;
    *key_pem = bio_text(kb);
    *cert_pem = bio_text(cb);
    rc = *key_pem && *cert_pem ? 0 : IZ_EIO;
out:
    if (rc != 0) {
        free(*key_pem);
        free(*cert_pem);
        *key_pem = *cert_pem = NULL;
    }
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    EVP_PKEY_free(pk);
    return rc;
}

/* The emulator's timestamping key and certificate, made and stored on first
 * use. */
static int tsa_get(iz_sim_t *sim, char **key_pem, char **cert_pem)
{
    int rc = iz_sim_tsa_get(sim->st, key_pem, cert_pem);
    if (rc != IZ_ENOTFOUND) return rc;
    char *k, *c;
    if ((rc = tsa_make(&k, &c)) != 0) return rc;
    rc = iz_sim_tsa_put(sim->st, k, c);
    iz_wipe(k, strlen(k));
    free(k);
    free(c);
    return rc != 0 ? rc : iz_sim_tsa_get(sim->st, key_pem, cert_pem);
}

static ASN1_INTEGER *tsa_serial(TS_RESP_CTX *ctx, void *data)
{
    (void)data;
    uint64_t v = 0;
    ASN1_INTEGER *s = ASN1_INTEGER_new();
    if (!s || iz_random(&v, sizeof v) != 0 || ASN1_INTEGER_set_uint64(s, v >> 1) != 1) {
        ASN1_INTEGER_free(s);
        TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "no serial number");
        return NULL;
    }
    return s;
}

/* A DER TimeStampReq for a SHA-384 digest, asking for the certificate. */
static BIO *tsa_request(const unsigned char digest[SHA384_LEN])
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    BIO *b = BIO_new(BIO_s_mem());
    bool ok = req && mi && alg && b && TS_REQ_set_version(req, 1) == 1 &&
              X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha384), V_ASN1_NULL, NULL) == 1 &&
              TS_MSG_IMPRINT_set_algo(mi, alg) == 1 &&
              TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)digest, SHA384_LEN) == 1 &&
              TS_REQ_set_msg_imprint(req, mi) == 1 && TS_REQ_set_cert_req(req, 1) == 1 &&
              i2d_TS_REQ_bio(b, req) == 1;
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    if (!ok) {
        BIO_free(b);
        return NULL;
    }
    return b;
}

/* Stamp a file's SHA-384: the DER TimeStampResp (granted) into *der
 * (malloc'd) and *len. */
static int tsa_stamp(iz_sim_t *sim, const unsigned char digest[SHA384_LEN], unsigned char **der,
                     size_t *len)
{
    char *key_pem = NULL, *cert_pem = NULL;
    int rc = tsa_get(sim, &key_pem, &cert_pem);
    if (rc != 0) return rc;
    BIO *kb = BIO_new_mem_buf(key_pem, -1), *cb = BIO_new_mem_buf(cert_pem, -1);
    EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    ASN1_OBJECT *policy = OBJ_txt2obj(TSA_POLICY, 1);
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    BIO *req = tsa_request(digest);
    TS_RESP *resp = NULL;
    unsigned char *out = NULL;
    rc = IZ_EIO;
    if (pk && x && policy && ctx && req && TS_RESP_CTX_set_signer_cert(ctx, x) == 1 &&
        TS_RESP_CTX_set_signer_key(ctx, pk) == 1 && TS_RESP_CTX_set_def_policy(ctx, policy) == 1 &&
        TS_RESP_CTX_add_md(ctx, EVP_sha384()) == 1 &&
        TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) == 1 &&
        TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0) == 1) {
        TS_RESP_CTX_set_serial_cb(ctx, tsa_serial, NULL);
        resp = TS_RESP_create_response(ctx, req);
    }
    if (resp && ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp))) ==
                    TS_STATUS_GRANTED) {
        int n = i2d_TS_RESP(resp, &out);
        if (n > 0) {
            *der = iz_xmalloc((size_t)n);
            memcpy(*der, out, (size_t)n);
            *len = (size_t)n;
            rc = 0;
        }
    }
    OPENSSL_free(out);
    TS_RESP_free(resp);
    BIO_free(req);
    TS_RESP_CTX_free(ctx);
    ASN1_OBJECT_free(policy);
    X509_free(x);
    EVP_PKEY_free(pk);
    BIO_free(kb);
    BIO_free(cb);
    iz_wipe(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    return rc;
}

/* ---- the day-end ------------------------------------------------------------- */

/* Write one brand's file of the day: its hash over every change recorded so
 * far, kept with a new stamp unless the text is the one already kept (its
 * agreement then stays). A brand with no change that day has no file. */
static int day_end_brand(iz_sim_t *sim, int64_t iys, int64_t brand, int64_t day, iz_sim_recon_t *f)
{
    int64_t from = day * DAY_SECS - IZ_TR_OFFSET;
    csv_out_t o = {.md = EVP_MD_CTX_new()};
    if (!o.md || EVP_DigestInit_ex(o.md, EVP_sha384(), NULL) != 1) {
        EVP_MD_CTX_free(o.md);
        return IZ_EIO;
    }
    unsigned char raw[SHA384_LEN];
    memset(f, 0, sizeof *f);
    int rc = write_day(sim, iys, brand, from, from + DAY_SECS, INT64_MAX, &o);
    if (rc == 0) rc = out_hash(&o, f->hash, raw);
    EVP_MD_CTX_free(o.md);
    if (rc != 0 || o.rows == 0) return rc;
    f->iys_code = iys;
    f->brand_code = brand;
    day_date(day, f->date);
    f->rows = o.rows;
    f->max_id = o.last_id;
    f->generated = time(NULL);
    iz_sim_recon_t old;
    if (iz_sim_recon_get(sim->st, iys, brand, f->date, &old) == 0) {
        bool same = strcmp(old.hash, f->hash) == 0;
        iz_sim_recon_clear(&old);
        if (same) return 0;
    }
    if ((rc = tsa_stamp(sim, raw, &f->tsr, &f->tsr_len)) != 0) return rc;
    rc = iz_sim_recon_put(sim->st, f);
    iz_sim_recon_clear(f);
    return rc;
}

/* The day-end of a day: every brand with changes that day gets its file;
 * when the day is over it is marked done (a day not over yet is written
 * again by its real day-end). When files is not NULL it gets one object a
 * file written or kept. */
static int day_end(iz_sim_t *sim, int64_t day, json_t *files)
{
    char date[11];
    day_date(day, date);
    int64_t from = day * DAY_SECS - IZ_TR_OFFSET;
    pthread_mutex_lock(&day_end_mu);
    iz_sim_brand_key_t *brands = NULL;
    size_t n = 0;
    int rc = iz_sim_day_brands(sim->st, from, from + DAY_SECS, &brands, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        iz_sim_recon_t f;
        rc = day_end_brand(sim, brands[i].iys_code, brands[i].brand_code, day, &f);
        if (rc == 0 && files && f.rows > 0)
            json_array_append_new(files, json_pack("{s:I, s:I, s:I, s:s}", "iysCode",
                                                   (json_int_t)f.iys_code, "brandCode",
                                                   (json_int_t)f.brand_code, "rows",
                                                   (json_int_t)f.rows, "hashValue", f.hash));
    }
    free(brands);
    if (rc == 0 && day < today()) rc = iz_sim_recon_day_mark(sim->st, date, time(NULL));
    pthread_mutex_unlock(&day_end_mu);
    if (rc != 0)
        iz_logf(IZ_LOG_ERROR, "sim", "day_end_failed", "date=%s error=%s", date, iz_strerror(rc));
    else
        iz_logf(IZ_LOG_INFO, "sim", "day_end", "date=%s brands=%zu", date, n);
    return rc;
}

/* Run the day-end of day when it is over and has not run. */
static int ensure_day(iz_sim_t *sim, int64_t day)
{
    if (day >= today()) return 0;
    char date[11];
    day_date(day, date);
    bool done = false;
    int rc = iz_sim_recon_day_done(sim->st, date, &done);
    if (rc != 0 || done) return rc;
    return day_end(sim, day, NULL);
}

/* Every day of the window that ended without its day-end gets it; files
 * older than the window go. */
static void catch_up(iz_sim_t *sim)
{
    int64_t t = today();
    for (int64_t d = t - RECON_WINDOW_DAYS; d < t; d++)
        (void)ensure_day(sim, d);
    char before[11];
    day_date(t - RECON_KEEP_DAYS, before);
    (void)iz_sim_recon_purge(sim->st, before);
}

static void *recon_main(void *arg)
{
    iz_sim_t *sim = arg;
    do {
        catch_up(sim);
    } while (!iz__sim_nap(sim, RECON_INTERVAL_MS));
    return NULL;
}

int iz__sim_recon_start(iz_sim_t *sim)
{
    if (pthread_create(&sim->recon_thread, NULL, recon_main, sim) != 0) return IZ_EIO;
    sim->recon_started = true;
    return 0;
}

/* ---- the calls ------------------------------------------------------------------ */

/* The path's reportDate: 0 with its day, else answered 422 H501. */
static int report_day(iz_req_t *r, int64_t *day, char date[11])
{
    const char *d = iz_req_param(r, "reportDate");
    int64_t t;
    if (!d || iz_tr_parse_date(d, &t) != 0) {
        iz__sim_field_error(r, "H501", NULL, "reportDate", d);
        return -1;
    }
    *day = iz_tr_day(t);
    memcpy(date, d, 11);
    return 0;
}

/* The 7-day window: today and the 7 days before it; else 422 H502. A day
 * still to come is in it (it has no file yet: 204). */
static int in_window(iz_req_t *r, int64_t day, const char *date)
{
    if (day >= today() - RECON_WINDOW_DAYS) return 0;
    iz__sim_field_error(r, "H502", NULL, "reportDate", date);
    return -1;
}

static void reply_no_content(iz_req_t *r)
{
    iz_reply_bytes(r, 204, NULL, "", 0);
}

/* Answer 422 H512 about one field of PUT's body (value borrowed). */
static void reply_h512(iz_req_t *r, const char *message, const char *location, json_t *value)
{
    iz_error_t e = {
        .code = "H512", .message = message, .location = location, .value = value, .index = -1};
    iz_reply_errors(r, 422, &e, 1);
}

static const char *const put_fields[] = {"agreementStatus", "hashValue"};

/* PUT's body: {"agreementStatus": true} and, as the emulator's addition,
 * an optional "hashValue" the file's hash must equal. 0 when valid, else
 * answered. */
static int check_put_body(iz_req_t *r, json_t *body)
{
    if (!json_is_object(body)) {
        iz_reply_error(r, "H014", NULL);
        return -1;
    }
    const char *unknown = iz_json_unknown_key(body, put_fields, IZ_ARRAY_LEN(put_fields));
    if (unknown) {
        reply_h512(r,
                   "Alan kabul edilemedi. İzin verilen alanlar: agreementStatus, "
                   "hashValue",
                   unknown, NULL);
        return -1;
    }
    json_t *st = json_object_get(body, "agreementStatus");
    if (!json_is_true(st)) {
        char *text = st ? json_dumps(st, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        char msg[96];
        snprintf(msg, sizeof msg, "%.40s kabul edilemedi. İzin verilen değerler: true",
                 text ? text : "null");
        free(text);
        reply_h512(r, msg, "agreementStatus", st);
        return -1;
    }
    json_t *h = json_object_get(body, "hashValue");
    if (h && !(json_is_string(h) && json_string_length(h) == SHA384_HEX - 1)) {
        reply_h512(r,
                   "hashValue, 96 küçük harfli onaltılık karakterden oluşan bir "
                   "SHA-384 özeti olmalıdır.",
                   "hashValue", h);
        return -1;
    }
    return 0;
}

/* What the file, agreement and timestamp calls share: the authorization,
 * the date and its window, PUT's body (into *body when body is not NULL),
 * the day-end when it is due; then the brand's file of the day into *f.
 * 0 with *f (free its tsr) and *body, or non-zero when the request has
 * been answered (204 when there is no file). */
static int recon_prologue(iz_req_t *r, iz_sim_t *sim, iz__sim_auth_t *a, json_t **body,
                          iz_sim_recon_t *f)
{
    int64_t day;
    char date[11];
    if (iz__sim_authorize(r, sim, a, IZ__AUTH_BRAND) != 0 || iz__sim_may_reconcile(r, a) != 0 ||
        report_day(r, &day, date) != 0 || in_window(r, day, date) != 0)
        return -1;
    if (body) {
        if (!(*body = iz_req_json(r))) return -1;
        if (check_put_body(r, *body) != 0) {
            json_decref(*body);
            return -1;
        }
    }
    int rc = ensure_day(sim, day);
    if (rc == 0) rc = iz_sim_recon_get(sim->st, a->iys, a->brand, date, f);
    if (rc == 0) return 0;
    if (body) json_decref(*body);
    if (rc == IZ_ENOTFOUND)
        reply_no_content(r);
    else
        iz_reply_error(r, "H103", NULL);
    return -1;
}

static void attachment(iz_req_t *r, const iz_sim_recon_t *f, const char *ext)
{
    char cd[128];
    snprintf(cd, sizeof cd, "attachment; filename=\"%lld_%lld_%s.%s\"", (long long)f->iys_code,
             (long long)f->brand_code, f->date, ext);
    iz_reply_header(r, "Content-Disposition", cd);
}

void iz__sim_h_recon_file(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    iz_sim_recon_t f;
    if (recon_prologue(r, sim, &a, NULL, &f) != 0) return;
    int64_t from = 0;
    (void)iz_tr_parse_date(f.date, &from);
    csv_out_t o = {.md = EVP_MD_CTX_new(), .f = tmpfile()};
    char hex[SHA384_HEX];
    unsigned char raw[SHA384_LEN];
    int rc = o.md && o.f && EVP_DigestInit_ex(o.md, EVP_sha384(), NULL) == 1 ? 0 : IZ_EIO;
    if (rc == 0) rc = write_day(sim, a.iys, a.brand, from, from + DAY_SECS, f.max_id, &o);
    if (rc == 0) rc = out_hash(&o, hex, raw);
    /* The log is append-only and chained: a text that no longer hashes to
     * what was kept means the store was changed behind the emulator. */
    if (rc == 0 && (strcmp(hex, f.hash) != 0 || o.rows != f.rows)) {
        iz_logf(IZ_LOG_ERROR, "sim", "recon_file_mismatch", "iys=%lld brand=%lld date=%s",
                (long long)a.iys, (long long)a.brand, f.date);
        rc = IZ_EIO;
    }
    long size = rc == 0 && fflush(o.f) == 0 ? ftell(o.f) : -1;
    int fd = size >= 0 ? dup(fileno(o.f)) : -1;
    EVP_MD_CTX_free(o.md);
    if (o.f) fclose(o.f);
    if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        if (fd >= 0) close(fd);
        iz_sim_recon_clear(&f);
        iz_reply_error(r, "H103", NULL);
        return;
    }
    attachment(r, &f, "csv");
    iz_sim_recon_clear(&f);
    iz_reply_fd(r, 200, "text/csv; charset=utf-8", fd, (uint64_t)size);
}

void iz__sim_h_recon_get(iz_req_t *r, void *app)
{
    iz__sim_auth_t a;
    iz_sim_recon_t f;
    if (recon_prologue(r, app, &a, NULL, &f) != 0) return;
    json_t *out = json_pack("{s:s, s:s, s:s, s:b}", "processStatus", "completed", "hashValue",
                            f.hash, "hashMethod", "SHA-384", "agreementStatus", f.agreed > 0);
    iz_sim_recon_clear(&f);
    iz_reply_json(r, 200, out);
}

void iz__sim_h_recon_put(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    iz_sim_recon_t f;
    json_t *body = NULL;
    if (recon_prologue(r, sim, &a, &body, &f) != 0) return;
    json_t *h = json_object_get(body, "hashValue");
    if (h && strcmp(json_string_value(h), f.hash) != 0) {
        reply_h512(r,
                   "hashValue, İYS'deki günlük izin hareket dosyasının SHA-384 "
                   "özetiyle eşleşmiyor; mutabakat sağlanamadı.",
                   "hashValue", h);
        json_decref(body);
        iz_sim_recon_clear(&f);
        return;
    }
    json_decref(body);
    int rc = iz_sim_recon_agree(sim->st, a.iys, a.brand, f.date, f.hash, time(NULL));
    iz_sim_recon_clear(&f);
    if (rc == IZ_ENOTFOUND) {
        /* The day's file was written again between the read and now (a
         * day-end of a day not over): the provider compared another text. */
        reply_h512(r,
                   "Günlük izin hareket dosyası yeniden oluşturuldu; özeti yeniden "
                   "karşılaştırınız.",
                   "hashValue", NULL);
        return;
    }
    if (rc != 0) {
        iz_reply_error(r, "H101", NULL);
        return;
    }
    iz_reply_json(r, 200, json_pack("{s:b}", "agreementCaptured", 1));
}

void iz__sim_h_recon_timestamp(iz_req_t *r, void *app)
{
    iz__sim_auth_t a;
    iz_sim_recon_t f;
    if (recon_prologue(r, app, &a, NULL, &f) != 0) return;
    attachment(r, &f, "tsr");
    /* text/plain as İYS's specification says; the body is DER. */
    iz_reply_bytes(r, 200, "text/plain", (const char *)f.tsr, f.tsr_len);
    iz_sim_recon_clear(&f);
}

/* One changeStats item: the type and its HS line, and its IYS line when
 * the day had citizens' changes of that type. */
static json_t *stat_json(const iz_sim_day_stat_t *s, const char *source)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "source", source, "approval",
                     (json_int_t)s->approval, "rejection", (json_int_t)s->rejection, "pending",
                     (json_int_t)s->pending, "total", (json_int_t)s->total);
}

void iz__sim_h_recon_summary(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    int64_t day;
    char date[11];
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0 || iz__sim_may_reconcile(r, &a) != 0 ||
        report_day(r, &day, date) != 0)
        return;
    const char *rts = iz_req_param(r, "recipientType");
    iz_rtype_t rt;
    if (!rts || iz_rtype_parse(rts, &rt) != 0) {
        iz__sim_field_error(r, "H116",
                            "Alıcı tipi (recipientType) kabul edilemedi. İzin verilen değerler: "
                            "BIREYSEL, TACIR",
                            "recipientType", rts);
        return;
    }
    if (in_window(r, day, date) != 0) return;
    iz_sim_day_stat_t st[3][2];
    int64_t from = day * DAY_SECS - IZ_TR_OFFSET;
    if (iz_sim_day_summary(sim->st, a.iys, a.brand, rt, from, from + DAY_SECS, st) != 0) {
        iz_reply_error(r, "H103", NULL);
        return;
    }
    static const iz_type_t types[] = {IZ_ARAMA, IZ_MESAJ, IZ_EPOSTA};
    json_t *stats = json_array();
    for (size_t i = 0; i < IZ_ARRAY_LEN(types); i++) {
        const iz_sim_day_stat_t *s = st[types[i] - 1];
        json_t *consents = json_array();
        json_array_append_new(consents, stat_json(&s[0], "HS"));
        if (s[1].total > 0) json_array_append_new(consents, stat_json(&s[1], "IYS"));
        json_array_append_new(
            stats, json_pack("{s:s, s:o}", "type", iz_type_name(types[i]), "consents", consents));
    }
    iz_reply_json(r, 200, json_pack("{s:o}", "changeStats", stats));
}

/* ---- /_sim/ ---------------------------------------------------------------------- */

static void admin_error(iz_req_t *r, const char *field, const char *tr, const char *en)
{
    iz_error_t e = {
        .code = "IZ422", .message = iz_req_english(r) ? en : tr, .location = field, .index = -1};
    iz_reply_errors(r, 422, &e, 1);
}

void iz__sim_h_day_end(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    json_t *body = iz_req_json(r);
    if (!body) return;
    const char *d = json_string_value(json_object_get(body, "date"));
    int64_t t;
    if (!json_is_object(body) || !d || iz_tr_parse_date(d, &t) != 0) {
        json_decref(body);
        admin_error(r, "date", "date, YYYY-AA-GG biçiminde bir tarih olmalıdır.",
                    "date must be a date written YYYY-MM-DD.");
        return;
    }
    int64_t day = iz_tr_day(t);
    json_decref(body);
    if (day > today()) {
        admin_error(r, "date", "Henüz başlamamış bir günün sonu işlenemez.",
                    "A day that has not begun cannot be ended.");
        return;
    }
    json_t *files = json_array();
    if (day_end(sim, day, files) != 0) {
        json_decref(files);
        iz_reply_error(r, "H015", NULL);
        return;
    }
    char date[11];
    day_date(day, date);
    iz_reply_json(
        r, 200, json_pack("{s:s, s:b, s:o}", "date", date, "final", day < today(), "files", files));
}

void iz__sim_h_tsa_cert(iz_req_t *r, void *app)
{
    char *key = NULL, *cert = NULL;
    if (tsa_get(app, &key, &cert) != 0) {
        iz_reply_error(r, "H015", NULL);
        return;
    }
    iz_wipe(key, strlen(key));
    free(key);
    iz_reply_bytes(r, 200, "application/x-pem-file", cert, strlen(cert));
    free(cert);
}
