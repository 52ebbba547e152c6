/*
 * recon.c - the daily reconciliation with İYS (see recon.h for the steps
 * and what each outcome means).
 */
#include "iys/recon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "core/trtime.h"
#include "sys/crypto.h"
#include "sys/log.h"

#define REPAIR_BATCH 1000         /* repairs applied in one domain call */
#define DAY_IDS_PAGE 1000         /* izin's accepted changes of the day read at a time */
#define SEEN_MAX_BYTES (1u << 28) /* the bitmap of a day's log id span, at most */
#define SHA384_LEN 48

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void iz_recon_yesterday(int64_t now, char out[11])
{
    char d[IZ_DATETIME_LEN];
    iz_tr_format(now - 86400, d);
    memcpy(out, d, 10);
    out[10] = '\0';
}

const char *iz_recon_compare(const iz_recon_line_t *row, const iz_change_t *c)
{
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode;
    if (iz_recipient_normalize(row->recipient, row->recipient_len, row->type, norm, &hcode) != 0 ||
        strcmp(norm, c->recipient) != 0)
        return "recipient";
    if (row->rtype != c->rtype) return "recipientType";
    if (row->type != c->type) return "type";
    if (row->status != c->status) return "status";
    if (row->consent_date != c->consent_date) return "consentDate";
    if (row->source != c->source) return "source";
    return NULL;
}

/* A time as İYS writes it, or null. */
static json_t *tr_json(int64_t ms)
{
    if (!ms) return json_null();
    char d[IZ_DATETIME_LEN];
    iz_tr_format(ms / 1000, d);
    return json_string(d);
}

json_t *iz_recon_json(const iz_recon_t *r, int64_t brand_code)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "brandCode",
                          (json_int_t)brand_code, "date", r->date, "status", r->status, "rows",
                          (json_int_t)r->rows, "matched", (json_int_t)r->matched, "repaired",
                          (json_int_t)r->repaired, "pending", (json_int_t)r->pending, "mismatched",
                          (json_int_t)r->mismatched, "agreed", r->agreed);
    if (!o) iz_oom();
    json_object_set_new(o, "hashValue", r->hash[0] ? json_string(r->hash) : json_null());
    json_object_set_new(o, "agreedAt", tr_json(r->agreed_ms));
    json_t *ts = json_null();
    if (r->tsr && r->tsr_len) {
        size_t n = sodium_base64_ENCODED_LEN(r->tsr_len, sodium_base64_VARIANT_ORIGINAL);
        char *b = iz_xmalloc(n);
        sodium_bin2base64(b, n, r->tsr, r->tsr_len, sodium_base64_VARIANT_ORIGINAL);
        json_decref(ts);
        ts = json_string(b);
        free(b);
    }
    json_object_set_new(o, "timestamp", ts);
    json_t *m = r->details ? json_loads(r->details, 0, NULL) : NULL;
    json_object_set_new(o, "mismatches", json_is_array(m) ? m : json_array());
    if (m && !json_is_array(m)) json_decref(m);
    json_object_set_new(o, "error", r->error[0] ? json_string(r->error) : json_null());
    json_object_set_new(o, "startedAt", tr_json(r->started_ms));
    json_object_set_new(o, "finishedAt", tr_json(r->finished_ms));
    return o;
}

/* ---- one run ------------------------------------------------------------- */

typedef struct run {
    iz_domain_t *dom;
    iz_store_t *st;
    const iz_brand_t *brand;
    const char *date;
    int64_t day; /* the report date's Turkey-time day number */
    iz_recon_t *r;
    json_t *details;
    int64_t more;  /* mismatches past IZ_RECON_DETAILS_KEPT */
    json_t *batch; /* repairs waiting for the domain */
    int64_t batch_lines[REPAIR_BATCH];
    uint8_t *seen; /* a bit per log id of izin's accepted changes of the day */
    int64_t seen_min, seen_max;
} run_t;

/* Note a mismatch: counted always, described while there is room. The
 * object d is taken. */
static void mismatch(run_t *u, const char *kind, json_t *d)
{
    u->r->mismatched++;
    if (json_array_size(u->details) >= IZ_RECON_DETAILS_KEPT) {
        u->more++;
        json_decref(d);
        return;
    }
    json_object_set_new(d, "kind", json_string(kind));
    json_array_append_new(u->details, d);
}

/* A line's own fields for a mismatch's description. */
static json_t *line_json(const iz_recon_line_t *row)
{
    json_t *o =
        json_pack("{s:I, s:s, s:s%, s:s, s:s}", "line", (json_int_t)row->line, "transactionId",
                  row->txid, "recipient", row->recipient, row->recipient_len, "type",
                  iz_type_name(row->type), "status", iz_status_name(row->status));
    if (!o) iz_oom();
    return o;
}

/* Mark a change of izin's as found in the file. */
static void see(run_t *u, int64_t id)
{
    if (!u->seen || id < u->seen_min || id > u->seen_max) return;
    uint64_t k = (uint64_t)(id - u->seen_min);
    u->seen[k >> 3] |= (uint8_t)(1u << (k & 7));
}

/* Whether a change of izin's was found in the file. One outside the span
 * the bitmap was made for (İYS's answer about it came after the span was
 * read) was not looked for: it counts as seen here, not as missing, and a
 * later run checks it. */
static bool seen(const run_t *u, int64_t id)
{
    if (!u->seen || id < u->seen_min || id > u->seen_max) return true;
    uint64_t k = (uint64_t)(id - u->seen_min);
    return (u->seen[k >> 3] >> (k & 7)) & 1u;
}

/* Hand the waiting repairs to the domain. */
static int flush(run_t *u)
{
    size_t n = json_array_size(u->batch);
    if (n == 0) return 0;
    iz_repair_t out[REPAIR_BATCH];
    int rc = iz_domain_repair_remote(u->dom, u->brand, u->date, u->batch, out, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (out[i].rc == 0) {
            u->r->repaired++;
        } else if (out[i].rc == IZ_REPEAT) {
            /* Already here: one of izin's own changes whose answer has not
             * come yet is pending, not a mismatch. */
            if (out[i].state == IZ_IYS_PENDING || out[i].state == IZ_IYS_SENT)
                u->r->pending++;
            else
                u->r->matched++;
        } else {
            json_t *it = json_array_get(u->batch, i);
            json_t *d = json_pack("{s:I, s:O, s:O, s:s}", "line", (json_int_t)u->batch_lines[i],
                                  "transactionId", json_object_get(it, "transactionId"),
                                  "recipient", json_object_get(it, "recipient"), "reason",
                                  "izin could not apply it: kept in the quarantine");
            if (!d) iz_oom();
            mismatch(u, "NOT_APPLIED", d);
        }
    }
    json_array_clear(u->batch);
    return rc;
}

/* The JSON item of a line, as a change pull would give it. */
static json_t *line_item(const iz_recon_line_t *row)
{
    char cr[IZ_DATETIME_LEN];
    iz_tr_format(row->creation, cr);
    json_t *o = json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s}", "recipient", row->recipient,
                          row->recipient_len, "recipientType", iz_rtype_name(row->rtype), "type",
                          iz_type_name(row->type), "status", iz_status_name(row->status),
                          "creationDate", cr, "transactionId", row->txid);
    if (!o) iz_oom();
    if (row->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(row->source)));
    if (row->consent_date) {
        char cd[IZ_DATETIME_LEN];
        iz_tr_format(row->consent_date, cd);
        json_object_set_new(o, "consentDate", json_string(cd));
    }
    return o;
}

/* Whether izin holds a newer change of the line's key than the line (so
 * applying the line would turn the current record back). */
static int superseded(run_t *u, const iz_recon_line_t *row, bool *out)
{
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode;
    *out = false;
    if (iz_recipient_normalize(row->recipient, row->recipient_len, row->type, norm, &hcode) != 0)
        return 0; /* the domain quarantines it */
    iz_change_t cur;
    int rc = iz_store_consent_get(u->st, u->brand->id, row->rtype, row->type, norm, &cur);
    if (rc == IZ_ENOTFOUND) return 0;
    if (rc != 0) return rc;
    bool same = cur.status == row->status && cur.source == row->source &&
                cur.consent_date == row->consent_date;
    *out = !same && cur.creation_ms / 1000 > row->creation;
    return 0;
}

static int on_row(void *ctx, const iz_recon_line_t *row)
{
    run_t *u = ctx;
    u->r->rows++;
    if (iz_tr_day(row->creation) != u->day) {
        json_t *d = line_json(row);
        json_object_set_new(d, "reason", json_string("creationDate is not on the report date"));
        mismatch(u, "BAD_LINE", d);
        return 0;
    }
    iz_change_t *cs = NULL;
    size_t n = 0;
    int rc = iz_store_changes_by_txid(u->st, u->brand->id, row->txid, &cs, &n);
    if (rc != 0) return rc;
    const iz_change_t *exact = NULL, *other = NULL;
    for (size_t i = 0; i < n && !exact; i++) {
        if (!iz_recon_compare(row, &cs[i]))
            exact = &cs[i];
        else if (!(cs[i].origin != IZ_ORIGIN_IYS && row->source != IZ_SOURCE_NONE &&
                   !iz_source_is_hs(row->source)))
            other = &cs[i];
    }
    /* İYS gives two changes of one address in one second the same
     * transactionId, so a citizen's change (an IYS_* source) may share its
     * transactionId with one of izin's own: that one is not the line. */
    if (exact) {
        see(u, exact->id);
        u->r->matched++;
    } else if (other) {
        json_t *d = line_json(row);
        json_object_set_new(d, "id", json_integer(other->id));
        json_object_set_new(d, "field", json_string(iz_recon_compare(row, other)));
        json_object_set_new(d, "reason",
                            json_string("izin's change with this transactionId differs"));
        mismatch(u, "DIFFERENT", d);
    }
    free(cs);
    if (exact || other) return 0;
    bool newer;
    if ((rc = superseded(u, row, &newer)) != 0) return rc;
    if (newer) {
        json_t *d = line_json(row);
        json_object_set_new(d, "reason",
                            json_string("izin holds a newer change of this key; the "
                                        "older İYS change was not applied"));
        mismatch(u, "SUPERSEDED", d);
        return 0;
    }
    u->batch_lines[json_array_size(u->batch)] = row->line;
    json_array_append_new(u->batch, line_item(row));
    return json_array_size(u->batch) >= REPAIR_BATCH ? flush(u) : 0;
}

static int on_bad(void *ctx, int64_t line, const char *why)
{
    run_t *u = ctx;
    json_t *d = json_pack("{s:I, s:s}", "line", (json_int_t)line, "reason", why);
    if (!d) iz_oom();
    mismatch(u, "BAD_LINE", d);
    return 0;
}

/* izin's changes İYS accepted that day that the file did not hold. */
static int missing(run_t *u)
{
    int64_t after = 0;
    for (;;) {
        int64_t *ids = NULL;
        size_t n = 0;
        int rc = iz_store_iys_day_ids(u->st, u->brand->id, u->date, after, DAY_IDS_PAGE, &ids, &n);
        if (rc != 0) return rc;
        for (size_t i = 0; i < n; i++) {
            after = ids[i];
            if (u->seen && seen(u, ids[i])) continue;
            if (json_array_size(u->details) >= IZ_RECON_DETAILS_KEPT) {
                /* counted, not described: no read for a detail not kept */
                mismatch(u, "MISSING", json_object());
                continue;
            }
            iz_change_t c;
            json_t *d = json_pack("{s:I, s:s}", "id", (json_int_t)ids[i], "reason",
                                  "İYS accepted this change of izin's on that day; its file "
                                  "does not hold it");
            if (!d) iz_oom();
            if (iz_store_change_get(u->st, ids[i], &c) == 0) {
                json_object_set_new(d, "transactionId", json_string(c.iys_txid));
                json_object_set_new(d, "recipient", json_string(c.recipient));
                json_object_set_new(d, "type", json_string(iz_type_name(c.type)));
                json_object_set_new(d, "status", json_string(iz_status_name(c.status)));
            }
            mismatch(u, "MISSING", d);
        }
        free(ids);
        if (n < DAY_IDS_PAGE) return 0;
    }
}

/* ---- downloads ------------------------------------------------------------ */

/* The day's file: to a temporary file and through the hash. */
typedef struct file_sink {
    FILE *f;
    EVP_MD_CTX *md;
    int64_t bytes;
} file_sink_t;

static int to_file(void *ud, const char *data, size_t n)
{
    file_sink_t *k = ud;
    if (fwrite(data, 1, n, k->f) != n || EVP_DigestUpdate(k->md, data, n) != 1) return -1;
    k->bytes += (int64_t)n;
    return 0;
}

/* The timestamp reply: into memory, bounded. */
typedef struct mem_sink {
    unsigned char *p;
    size_t len;
} mem_sink_t;

static int to_mem(void *ud, const char *data, size_t n)
{
    mem_sink_t *k = ud;
    if (n > IZ_RECON_TSR_MAX - k->len) return -1;
    k->p = iz_xrealloc(k->p, k->len + n);
    memcpy(k->p + k->len, data, n);
    k->len += n;
    return 0;
}

/* Record why a run failed: what was asked and İYS's answer. */
static void failed(iz_recon_t *r, const char *what, const iz_iys_res_t *res)
{
    iz_strlcpy(r->status, "FAILED", sizeof r->status);
    if (res && res->http)
        snprintf(r->error, sizeof r->error, "%s: HTTP %ld %s %s", what, res->http, res->code,
                 res->message);
    else
        snprintf(r->error, sizeof r->error, "%s: %s", what,
                 res && res->message[0] ? res->message : "no answer");
}

/* Read the downloaded file and compare. */
static int compare(run_t *u, FILE *f)
{
    int64_t count, lo, hi;
    int rc = iz_store_iys_day_span(u->st, u->brand->id, u->date, &count, &lo, &hi);
    if (rc != 0) return rc;
    if (count > 0) {
        uint64_t bytes = (uint64_t)(hi - lo) / 8 + 1;
        if (bytes > SEEN_MAX_BYTES) return IZ_ETOOBIG;
        u->seen = iz_xcalloc(1, (size_t)bytes);
        u->seen_min = lo;
        u->seen_max = hi;
    }
    if (f) {
        iz_reconfile_t *p = iz_reconfile_new(on_row, on_bad, u);
        char *buf = iz_xmalloc(1 << 16);
        size_t n;
        rewind(f);
        while (rc == 0 && (n = fread(buf, 1, 1 << 16, f)) > 0)
            rc = iz_reconfile_feed(p, buf, n);
        if (rc == 0 && ferror(f)) rc = IZ_EIO;
        if (rc == 0) rc = iz_reconfile_end(p);
        free(buf);
        iz_reconfile_free(p);
        if (rc == 0) rc = flush(u);
    }
    if (rc == 0) rc = missing(u);
    return rc;
}

/* Agree with İYS: its hash must be the file's; then PUT, then keep the
 * timestamp. Sets the status to FAILED or MISMATCH when that goes wrong. */
static void agree(run_t *u, iz_iys_t *cli)
{
    iz_recon_t *r = u->r;
    iz_iys_res_t res = {0};
    iz_iys_agreement_get(cli, u->brand->code, u->date, &res);
    if (res.cls != IZ_IYS_OK || res.http == 204) {
        failed(r, res.http == 204 ? "İYS keeps no agreement for the day" : "agreement query", &res);
        iz_iys_res_clear(&res);
        return;
    }
    const char *theirs = json_string_value(json_object_get(res.body, "hashValue"));
    if (!theirs || strcasecmp(theirs, r->hash) != 0) {
        json_t *d =
            json_pack("{s:s, s:s?, s:s}", "hashValue", r->hash, "iysHashValue", theirs, "reason",
                      "İYS's hash of its file is not the hash of the file it served");
        if (!d) iz_oom();
        mismatch(u, "HASH", d);
        iz_strlcpy(r->status, "MISMATCH", sizeof r->status);
        iz_iys_res_clear(&res);
        return;
    }
    iz_iys_res_clear(&res);
    iz_iys_agreement_put(cli, u->brand->code, u->date, &res);
    if (res.cls != IZ_IYS_OK) {
        failed(r, "agreement", &res);
        iz_iys_res_clear(&res);
        return;
    }
    iz_iys_res_clear(&res);
    r->agreed = true;
    r->agreed_ms = now_ms();
    mem_sink_t m = {0};
    iz_iys_recon_timestamp(cli, u->brand->code, u->date, to_mem, &m, &res);
    if (res.cls == IZ_IYS_OK && res.http != 204 && m.len > 0) {
        r->tsr = m.p;
        r->tsr_len = m.len;
    } else {
        free(m.p);
        failed(r, "timestamp", &res);
    }
    iz_iys_res_clear(&res);
}

int iz_recon_run(iz_domain_t *dom, iz_iys_t *cli, const iz_brand_t *brand, const char *date,
                 iz_recon_t *out)
{
    int64_t day0;
    if (!dom || !cli || !brand || !date || iz_tr_parse_date(date, &day0) != 0) return IZ_EINVAL;
    iz_recon_t r = {.brand_id = brand->id, .started_ms = now_ms()};
    iz_strlcpy(r.date, date, sizeof r.date);
    run_t u = {.dom = dom,
               .st = iz_domain_store(dom),
               .brand = brand,
               .date = r.date,
               .day = iz_tr_day(day0),
               .r = &r,
               .details = json_array(),
               .batch = json_array()};
    int rc = 0;
    FILE *f = tmpfile();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    iz_iys_res_t res = {0};
    if (!f || !md || EVP_DigestInit_ex(md, EVP_sha384(), NULL) != 1) {
        iz_strlcpy(r.status, "FAILED", sizeof r.status);
        iz_strlcpy(r.error, "cannot make a temporary file for the day's file", sizeof r.error);
        goto done;
    }
    file_sink_t k = {.f = f, .md = md};
    iz_iys_recon_file(cli, brand->code, r.date, to_file, &k, &res);
    if (res.cls != IZ_IYS_OK) {
        failed(&r, "change file", &res);
        goto done;
    }
    bool have_file = res.http != 204;
    if (have_file) {
        unsigned char raw[SHA384_LEN];
        unsigned int len = 0;
        if (fflush(f) != 0 || EVP_DigestFinal_ex(md, raw, &len) != 1 || len != SHA384_LEN) {
            iz_strlcpy(r.status, "FAILED", sizeof r.status);
            iz_strlcpy(r.error, "cannot keep the day's file", sizeof r.error);
            goto done;
        }
        iz_hex(raw, SHA384_LEN, r.hash);
    }
    rc = compare(&u, have_file ? f : NULL);
    if (rc != 0) {
        iz_strlcpy(r.status, "FAILED", sizeof r.status);
        snprintf(r.error, sizeof r.error, "store failure while comparing: %s", iz_strerror(rc));
        goto done;
    }
    iz_strlcpy(r.status,
               r.mismatched ? "MISMATCH"
               : r.repaired ? "REPAIRED"
                            : "MATCHED",
               sizeof r.status);
    /* With no file İYS keeps no agreement for the day: there is nothing to
     * agree on, and izin's view (nothing accepted that day) agrees. */
    if (!r.mismatched && have_file) agree(&u, cli);
done:
    iz_iys_res_clear(&res);
    if (md) EVP_MD_CTX_free(md);
    if (f) fclose(f);
    free(u.seen);
    json_decref(u.batch);
    if (u.more)
        json_array_append_new(u.details,
                              json_pack("{s:s, s:I}", "kind", "MORE", "count", (json_int_t)u.more));
    if (json_array_size(u.details)) r.details = json_dumps(u.details, JSON_COMPACT);
    json_decref(u.details);
    r.finished_ms = now_ms();
    int src = iz_store_recon_put(u.st, &r);
    iz_logf(r.mismatched || strcmp(r.status, "FAILED") == 0 ? IZ_LOG_WARN : IZ_LOG_INFO, "recon",
            "reconciliation",
            "brand=%lld date=%s status=%s rows=%lld matched=%lld repaired=%lld "
            "pending=%lld mismatched=%lld agreed=%d error=%s",
            (long long)brand->code, r.date, r.status, (long long)r.rows, (long long)r.matched,
            (long long)r.repaired, (long long)r.pending, (long long)r.mismatched, r.agreed,
            r.error);
    if (src != 0)
        iz_logf(IZ_LOG_ERROR, "recon", "cannot keep the reconciliation's result",
                "brand=%lld date=%s error=%s", (long long)brand->code, r.date, iz_strerror(src));
    if (out) {
        *out = r;
    } else {
        free(r.tsr);
        free(r.details);
    }
    return src;
}
