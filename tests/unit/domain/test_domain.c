/*
 * test_domain.c - the domain layer against a real store: recording from
 * every origin (field errors, state rules, a first RET kept LOCAL with
 * H175 for every origin, HS_KARAR included, repeats, evidence), a batch in
 * one call with a refused change not undoing the others and a later change
 * of one key seeing the earlier one, the commit subscribers (index, counts,
 * order), İYS's changes with the quarantine, and the verdicts - one, a
 * list, a stream cut at every byte - agreeing with each other, with and
 * without the index.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "../testutil.h"

#include "core/iz.h"
#include "core/trtime.h"
#include "domain/domain.h"

typedef struct fx {
    char dir[64];
    iz_store_t *st;
    iz_index_t *ix;
    iz_domain_t *dom;
    iz_brand_t brand;
    iz_holidays_t *hol;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/izin-domain-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    const char *err = NULL;
    assert_int_equal(iz_test_store_open(f->dir, &f->st, &err), 0);
    iz_account_t a = {.iys_code = 700001};
    strcpy(a.name, "acme");
    strcpy(a.iys_url, "http://127.0.0.1:9"); /* configured: changes are PENDING */
    assert_int_equal(iz_store_account_add(f->st, &a), 0);
    f->brand.account_id = a.id;
    f->brand.code = 700001;
    strcpy(f->brand.name, "ACME");
    assert_int_equal(iz_store_brand_add(f->st, &f->brand), 0);
    f->hol = iz_holidays_empty();
    f->ix = iz_index_new();
    iz_domain_conf_t dc = {.store = f->st, .holidays = f->hol, .index = f->ix};
    assert_int_equal(iz_domain_open(&dc, &f->dom, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    iz_domain_close(f->dom);
    iz_store_close(f->st);
    iz_index_free(f->ix);
    iz_holidays_free(f->hol);
    iz_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void set(iz_field_t *fl, const char *s)
{
    *fl = s ? (iz_field_t){IZ_FIELD_STRING, s, strlen(s)} : (iz_field_t){0};
}

/* A record of the given fields (NULL = absent), dated `ago` seconds back. */
static char dates[64][20];
static int ndates;

static iz_record_t rec(const char *recipient, const char *type, const char *status,
                       const char *source, int64_t ago, iz_origin_t origin)
{
    iz_record_t r;
    memset(&r, 0, sizeof r);
    set(&r.raw.recipient, recipient);
    set(&r.raw.type, type);
    set(&r.raw.status, status);
    set(&r.raw.source, source);
    if (ago >= 0) {
        char *d = dates[ndates++ % 64];
        iz_tr_format((int64_t)time(NULL) - ago, d);
        set(&r.raw.consent_date, d);
    }
    r.origin = origin;
    return r;
}

static int record1(fx_t *f, iz_record_t *r)
{
    int rc = iz_domain_record(f->dom, &f->brand, (int64_t)time(NULL), r, 1);
    return rc != 0 ? rc : r->rc;
}

static iz_verdict_t judge(fx_t *f, const char *who, const char *type)
{
    iz_judge_t j = {.brand_id = f->brand.id, .rtype = IZ_BIREYSEL, .commercial = true};
    assert_int_equal(iz_type_parse(type, &j.type), 0);
    char norm[IZ_RECIPIENT_MAX];
    iz_verdict_t v;
    assert_int_equal(iz_domain_judge(f->dom, &j, who, strlen(who), norm, &v), 0);
    return v;
}

static void test_record_one(void **state)
{
    fx_t *f = *state;
    iz_record_t r = rec("0532 111 22 33", "MESAJ", "ONAY", "HS_WEB", 3600, IZ_ORIGIN_API);
    r.evidence = "{\"ip\":\"127.0.0.1\"}";
    assert_int_equal(record1(f, &r), 0);
    assert_string_equal(r.chg.recipient, "+905321112233");
    assert_int_equal(r.chg.iys_state, IZ_IYS_PENDING);
    assert_int_equal(r.chg.origin, IZ_ORIGIN_API);
    assert_string_equal(r.chg.evidence, "{\"ip\":\"127.0.0.1\"}");
    assert_int_equal(judge(f, "05321112233", "MESAJ"), IZ_VERDICT_ALLOWED);
    assert_int_equal(judge(f, "05321112233", "ARAMA"), IZ_VERDICT_NO_CONSENT);
    /* the same change again: the stored one, nothing written */
    int64_t id = r.chg.id;
    iz_record_t again = r;
    assert_int_equal(record1(f, &again), IZ_REPEAT);
    assert_int_equal(again.chg.id, id);
    /* same status: İYS's H174 */
    iz_record_t same = rec("+905321112233", "MESAJ", "ONAY", "HS_WEB", 60, IZ_ORIGIN_API);
    assert_int_equal(record1(f, &same), IZ_ERULE);
    assert_string_equal(same.hcode, "H174");
    /* field errors, every one with its code */
    iz_record_t bad = rec("abc", "SMS", NULL, "HS_WEB", 60, IZ_ORIGIN_API); /* type unknown: H122 */
    assert_int_equal(record1(f, &bad), IZ_EINVAL);
    assert_int_equal(bad.errs.n, 3);
    assert_string_equal(bad.errs.e[0].code, "H122");
    /* evidence too large to keep whole is refused, never cut */
    char big[IZ_EVIDENCE_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    iz_record_t ev = rec("+905321112299", "MESAJ", "ONAY", "HS_WEB", 60, IZ_ORIGIN_API);
    ev.evidence = big;
    assert_int_equal(record1(f, &ev), IZ_ETOOBIG);
    assert_int_equal(judge(f, "+905321112299", "MESAJ"), IZ_VERDICT_NO_CONSENT);
    /* İYS's own changes do not come through here */
    iz_record_t iys = rec("+905321112298", "MESAJ", "ONAY", "HS_WEB", 60, IZ_ORIGIN_IYS);
    assert_int_equal(record1(f, &iys), IZ_EINVAL);
}

/* An opt-out is never lost: a first RET from every origin (and from
 * HS_KARAR) is kept LOCAL with H175 and blocks sending. */
static void test_first_ret_kept_from_every_origin(void **state)
{
    fx_t *f = *state;
    static const iz_origin_t origins[] = {IZ_ORIGIN_API, IZ_ORIGIN_BULK, IZ_ORIGIN_SMS,
                                          IZ_ORIGIN_URL, IZ_ORIGIN_PANEL};
    for (size_t i = 0; i < IZ_ARRAY_LEN(origins); i++) {
        char who[32];
        snprintf(who, sizeof who, "+90533000000%zu", i);
        iz_record_t r = rec(who, "MESAJ", "RET", i == 4 ? "HS_KARAR" : "HS_MESAJ", 60, origins[i]);
        assert_int_equal(record1(f, &r), 0);
        assert_int_equal(r.chg.iys_state, IZ_IYS_LOCAL);
        assert_string_equal(r.chg.warning, "H175");
        assert_int_equal(r.chg.origin, origins[i]);
        assert_int_equal(judge(f, who, "MESAJ"), IZ_VERDICT_RET);
    }
    int64_t outbox = -1;
    assert_int_equal(iz_store_outbox_count(f->st, &outbox), 0);
    assert_int_equal(outbox, 0); /* nothing LOCAL goes to İYS */
    iz_domain_stats_t s;
    iz_domain_stats(f->dom, &s);
    assert_int_equal(s.local_ret, 5);
    assert_int_equal(s.changes[IZ_ORIGIN_SMS], 1);
    assert_int_equal(s.changes[IZ_ORIGIN_PANEL], 1);
}

/* One call, one transaction: a refused or invalid change does not undo the
 * others, and a later change of a key sees the earlier one. */
static void test_batch(void **state)
{
    fx_t *f = *state;
    iz_record_t r[5];
    r[0] = rec("+905340000001", "MESAJ", "ONAY", "HS_WEB", 7200, IZ_ORIGIN_BULK);
    r[1] = rec("+905340000001", "MESAJ", "RET", "HS_WEB", 3600, IZ_ORIGIN_BULK); /* sees [0] */
    r[2] = rec("+905340000002", "MESAJ", "ONAY", "HS_WEB", 3600, IZ_ORIGIN_BULK);
    r[3] = rec("nope", "MESAJ", "ONAY", "HS_WEB", 3600, IZ_ORIGIN_BULK);         /* invalid */
    r[4] = rec("+905340000002", "MESAJ", "ONAY", "HS_WEB", 1800, IZ_ORIGIN_BULK); /* H174 */
    assert_int_equal(iz_domain_record(f->dom, &f->brand, (int64_t)time(NULL), r, 5), 0);
    assert_int_equal(r[0].rc, 0);
    assert_int_equal(r[1].rc, 0);
    assert_int_equal(r[1].chg.iys_state, IZ_IYS_PENDING); /* not a first RET */
    assert_int_equal(r[2].rc, 0);
    assert_int_equal(r[3].rc, IZ_EINVAL);
    assert_int_equal(r[4].rc, IZ_ERULE);
    assert_string_equal(r[4].hcode, "H174");
    assert_true(r[0].chg.id < r[1].chg.id && r[1].chg.id < r[2].chg.id);
    assert_int_equal(judge(f, "+905340000001", "MESAJ"), IZ_VERDICT_RET);
    assert_int_equal(judge(f, "+905340000002", "MESAJ"), IZ_VERDICT_ALLOWED);
    int64_t bad = 0;
    assert_int_equal(iz_store_verify_log(f->st, &bad), 0);
}

static void test_remote_and_quarantine(void **state)
{
    fx_t *f = *state;
    char date[IZ_DATETIME_LEN];
    iz_tr_format((int64_t)time(NULL) - 60, date);
    json_t *list = json_pack(
        "[{s:s, s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, s, "
        "{s:s, s:s, s:s, s:s}]",
        /* a citizen's RET: applied */
        "recipient", "+905350000001", "type", "MESAJ", "status", "RET", "source",
        "IYS_KISAMESAJ", "consentDate", date, "transactionId", "tx-1",
        /* an unknown type */
        "recipient", "+905350000002", "type", "FAKS", "status", "RET",
        /* a date that does not parse */
        "recipient", "+905350000003", "type", "MESAJ", "status", "ONAY", "consentDate", "dün",
        /* not an object */
        "hello",
        /* an unknown recipientType */
        "recipient", "+905350000004", "type", "MESAJ", "status", "ONAY", "recipientType",
        "KURUM");
    size_t applied = 0, kept = 0;
    assert_int_equal(iz_domain_apply_remote(f->dom, &f->brand, "pull", "IYS", list, &applied, &kept),
                     0);
    assert_int_equal(applied, 1);
    assert_int_equal(kept, 4);
    assert_int_equal(judge(f, "+905350000001", "MESAJ"), IZ_VERDICT_RET);
    /* the same page again (after a crash): nothing new, kept once */
    assert_int_equal(iz_domain_apply_remote(f->dom, &f->brand, "pull", "IYS", list, &applied, &kept),
                     0);
    assert_int_equal(applied, 0);
    iz_quarantine_t *q = NULL;
    size_t n = 0;
    assert_int_equal(iz_store_quarantine_list(f->st, f->brand.id, 0, 100, &q, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(q[2].raw, "\"hello\"");
    assert_string_equal(q[0].via, "pull");
    assert_string_equal(q[0].source, "IYS");
    assert_non_null(strstr(q[0].reason, "type"));
    assert_non_null(strstr(q[1].reason, "consentDate"));
    iz_store_quarantine_free(q, n);
    int64_t count = 0;
    assert_int_equal(iz_store_quarantine_count(f->st, &count), 0);
    assert_int_equal(count, 4);
    iz_change_t c;
    assert_int_equal(
        iz_store_consent_get(f->st, f->brand.id, IZ_BIREYSEL, IZ_MESAJ, "+905350000001", &c), 0);
    assert_int_equal(c.origin, IZ_ORIGIN_IYS);
    assert_int_equal(c.iys_state, IZ_IYS_ACCEPTED);
    assert_string_equal(c.iys_txid, "tx-1");
    json_decref(list);
}

/* ---- verdicts ------------------------------------------------------------ */

typedef struct collected {
    char out[8192];
    size_t len;
} collected_t;

static void collect(void *ctx, const char *line, size_t len, const char *norm, size_t normlen,
                    iz_verdict_t v)
{
    collected_t *c = ctx;
    const char *why = iz_verdict_reason(v);
    c->len += (size_t)snprintf(c->out + c->len, sizeof c->out - c->len, "%.*s|%.*s|%s\n",
                               (int)len, line, (int)normlen, norm ? norm : "", why ? why : "OK");
}

static void test_judge_paths_agree(void **state)
{
    fx_t *f = *state;
    iz_record_t r[3];
    r[0] = rec("+905360000001", "MESAJ", "ONAY", "HS_WEB", 3600, IZ_ORIGIN_API);
    r[1] = rec("+905360000002", "MESAJ", "RET", "HS_WEB", 3600, IZ_ORIGIN_API);
    r[2] = rec("+4915112345678", "MESAJ", "ONAY", "HS_WEB", 3600, IZ_ORIGIN_API);
    assert_int_equal(iz_domain_record(f->dom, &f->brand, (int64_t)time(NULL), r, 3), 0);
    /* every spelling, the fast path's and the full normalization's */
    static const char *const in[] = {"+905360000001", "05360000001",     "5360000001",
                                     "905360000001",  "00905360000001",  "+9005360000001",
                                     "0536 000 00 01", "(0536) 000-0001", "+905360000002",
                                     "05360000002",   "+4915112345678",  "004915112345678",
                                     "+905369999999", "12345",           "a@b.co",
                                     ""};
    static const iz_verdict_t want[] = {
        IZ_VERDICT_ALLOWED,    IZ_VERDICT_ALLOWED, IZ_VERDICT_ALLOWED, IZ_VERDICT_ALLOWED,
        IZ_VERDICT_ALLOWED,    IZ_VERDICT_ALLOWED, IZ_VERDICT_ALLOWED, IZ_VERDICT_ALLOWED,
        IZ_VERDICT_RET,        IZ_VERDICT_RET,     IZ_VERDICT_ALLOWED, IZ_VERDICT_ALLOWED,
        IZ_VERDICT_NO_CONSENT, IZ_VERDICT_INVALID, IZ_VERDICT_INVALID, IZ_VERDICT_INVALID};
    size_t n = IZ_ARRAY_LEN(in);
    size_t lens[IZ_ARRAY_LEN(in)];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(in[i]);
    iz_judge_t j = {.brand_id = f->brand.id, .type = IZ_MESAJ, .rtype = IZ_BIREYSEL,
                    .commercial = true};
    iz_judged_t out[IZ_ARRAY_LEN(in)];
    /* the list, without and with repeats dropped */
    assert_int_equal(iz_domain_judge_list(f->dom, &j, in, lens, n, false, out), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].v, want[i]);
        assert_false(out[i].repeat);
        assert_int_equal(judge(f, in[i], "MESAJ"), want[i]);
    }
    assert_int_equal(iz_domain_judge_list(f->dom, &j, in, lens, n, true, out), 0);
    assert_false(out[0].repeat);
    for (size_t i = 1; i < 8; i++)
        assert_true(out[i].repeat); /* the same person written 8 ways: once */
    assert_true(out[9].repeat && out[11].repeat && !out[13].repeat);
    /* informational: every valid recipient */
    iz_judge_t info = j;
    info.commercial = false;
    assert_int_equal(iz_domain_judge_list(f->dom, &info, in, lens, n, false, out), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i].v, want[i] == IZ_VERDICT_INVALID ? IZ_VERDICT_INVALID
                                                                 : IZ_VERDICT_ALLOWED);

    /* the stream, fed whole and cut at every byte, with CRLF, blanks,
     * padding and an over-long line */
    char text[4096], overlong[1100];
    memset(overlong, '5', sizeof overlong - 1);
    overlong[sizeof overlong - 1] = '\0';
    size_t tl = 0;
    for (size_t i = 0; i < n; i++)
        tl += (size_t)snprintf(text + tl, sizeof text - tl, i % 3 ? "%s\r\n" : "  %s \n\n", in[i]);
    tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s\n05360000001", overlong);
    collected_t whole = {.len = 0};
    iz_judge_stream_t *s = iz_judge_stream_new(f->dom, &j, collect, &whole);
    assert_int_equal(iz_judge_stream_feed(s, text, tl), 0);
    assert_int_equal(iz_judge_stream_end(s), 0);
    uint64_t allowed, blocked;
    iz_judge_stream_counts(s, &allowed, &blocked);
    iz_judge_stream_free(s);
    assert_int_equal(allowed, 11);      /* 10 of the list + the last line */
    assert_int_equal(blocked, 2 + 3 + 1); /* RET x2, NO_CONSENT, INVALID x2, over-long */
    assert_non_null(strstr(whole.out, "5360000001|+905360000001|OK\n"));
    assert_non_null(strstr(whole.out, "12345||INVALID\n"));
    assert_non_null(strstr(whole.out, "+905369999999|+905369999999|NO_CONSENT\n"));
    assert_non_null(strstr(whole.out, "5555555555555555555555555555555555555555555555555555555555555555...||INVALID\n"));
    for (size_t cut = 1; cut < tl; cut += 7) {
        collected_t parts = {.len = 0};
        s = iz_judge_stream_new(f->dom, &j, collect, &parts);
        for (size_t off = 0; off < tl; off += cut)
            assert_int_equal(iz_judge_stream_feed(s, text + off, off + cut > tl ? tl - off : cut),
                             0);
        assert_int_equal(iz_judge_stream_end(s), 0);
        iz_judge_stream_free(s);
        assert_string_equal(parts.out, whole.out);
    }

    /* without the index (a store-only tool) the verdicts are the same */
    iz_domain_t *bare = NULL;
    iz_domain_conf_t dc = {.store = f->st, .holidays = f->hol};
    const char *err = NULL;
    assert_int_equal(iz_domain_open(&dc, &bare, &err), 0);
    assert_int_equal(iz_domain_judge_list(bare, &j, in, lens, n, false, out), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i].v, want[i]);
    iz_domain_close(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_ret_kept_from_every_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_and_quarantine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_judge_paths_agree, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
