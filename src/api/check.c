/*
 * check.c - the send filter's API: POST /v1/brands/{b}/check (a JSON list,
 * or a text/plain stream of any length) and GET /v1/brands/{b}/check/{r}
 * (a dialer's last look). Every verdict comes from the domain layer.
 *
 * The JSON check answers each address once (repeats, after normalization,
 * are dropped, so a list can never make a message go twice to one person);
 * INVALID entries are echoed as sent. The text/plain check answers line by
 * line: the allowed recipients one a line (E.164), or with ?blocked=1 the
 * blocked ones as "recipient,reason".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "core/csvout.h"
#include "core/hcode.h"
#include "core/iz.h"

#define IZ_CHECK_MAX 100000 /* recipients in one JSON check */

/* ---- the streaming text/plain check ---------------------------------------- */

/* The body is judged chunk by chunk as libmicrohttpd hands it over; the
 * answer is spooled to an unlinked temporary file (through a buffer of our
 * own, written with write(2) a megabyte at a time) and sent from it once
 * the body has ended (libmicrohttpd answers only after the whole body), so
 * memory stays flat whatever the list's length. */

#define SPOOL_BUF (1u << 20)

typedef struct tstream {
    iz_judge_stream_t *js;
    bool want_blocked;
    int fd;
    bool io_error;
    char *buf;
    size_t used;
} tstream_t;

static void spool_flush(tstream_t *t)
{
    size_t off = 0;
    while (off < t->used && !t->io_error) {
        ssize_t w = write(t->fd, t->buf + off, t->used - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            t->io_error = true;
        else
            off += (size_t)w;
    }
    t->used = 0;
}

static void spool(tstream_t *t, const char *s, size_t n)
{
    if (t->used + n > SPOOL_BUF) spool_flush(t);
    memcpy(t->buf + t->used, s, n);
    t->used += n;
}

/* A CSV field, quoted when it holds a comma, a quote or a newline. */
static void spool_csv(tstream_t *t, const char *s, size_t n)
{
    if (!iz_csv_needs_quotes(s, n)) {
        spool(t, s, n);
        return;
    }
    char *buf = iz_xmalloc(IZ_CSV_FIELD_MAX(n));
    spool(t, buf, iz_csv_field(buf, s, n));
    free(buf);
}

static void on_line(void *ctx, const char *line, size_t len, const char *norm, size_t normlen,
                    iz_verdict_t v)
{
    tstream_t *t = ctx;
    if (v == IZ_VERDICT_ALLOWED) {
        if (!t->want_blocked) {
            spool(t, norm, normlen);
            spool(t, "\n", 1);
        }
    } else if (t->want_blocked) {
        if (norm)
            spool_csv(t, norm, normlen);
        else
            spool_csv(t, line, len);
        const char *why = iz_verdict_reason(v);
        spool(t, ",", 1);
        spool(t, why, strlen(why));
        spool(t, "\n", 1);
    }
}

static void tstream_free(void *v)
{
    tstream_t *t = v;
    iz_judge_stream_free(t->js);
    if (t->fd >= 0) close(t->fd);
    free(t->buf);
    free(t);
}

static void tstream_chunk(iz_req_t *r, void *v, const char *data, size_t len)
{
    (void)r;
    tstream_t *t = v;
    (void)iz_judge_stream_feed(t->js, data, len); /* a failure is answered at the end */
}

static void tstream_done(iz_req_t *r, void *v)
{
    tstream_t *t = v;
    int rc = iz_judge_stream_end(t->js);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    spool_flush(t);
    off_t size = lseek(t->fd, 0, SEEK_CUR);
    if (t->io_error || size < 0 || lseek(t->fd, 0, SEEK_SET) != 0) {
        iz_reply_error(r, "IZ500", "cannot spool the answer");
        return;
    }
    uint64_t allowed, blocked;
    iz_judge_stream_counts(t->js, &allowed, &blocked);
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)allowed);
    iz_reply_header(r, "X-Izin-Allowed", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)blocked);
    iz_reply_header(r, "X-Izin-Blocked", num);
    int fd = t->fd;
    t->fd = -1; /* the server closes it once the answer is sent */
    iz_reply_fd(r, 200, "text/plain; charset=utf-8", fd, (uint64_t)size);
}

static void check_stream_begin(iz_req_t *r, iz_app_t *app)
{
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    iz_judge_t j = {.brand_id = brand.id};
    bool want_blocked;
    if (iz__query_type(r, &j.type, &j.rtype) != 0 ||
        iz__query_bool(r, "commercial", true, &j.commercial) != 0 ||
        iz__query_bool(r, "blocked", false, &want_blocked) != 0)
        return;
    FILE *tmp = tmpfile();
    int fd = tmp ? dup(fileno(tmp)) : -1;
    if (tmp) fclose(tmp); /* the dup keeps the unlinked file */
    if (fd < 0) {
        iz_reply_error(r, "IZ503", "cannot create a spool file");
        return;
    }
    tstream_t *t = iz_xcalloc(1, sizeof *t);
    t->fd = fd;
    t->want_blocked = want_blocked;
    t->buf = iz_xmalloc(SPOOL_BUF);
    t->js = iz_judge_stream_new(app->dom, &j, on_line, t);
    iz_req_stream(r, tstream_chunk, tstream_done, tstream_free, t);
}

/* ---- the JSON check -------------------------------------------------------- */

void iz__h_check_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    if (iz_req_streaming(r)) {
        if (iz_req_content_type_is(r, "text/plain"))
            check_stream_begin(r, app);
        else
            iz_req_buffer(r);
        return;
    }
    iz_brand_t brand;
    json_t *body = iz__api_body(r, app, &brand, "H097");
    if (!body) return;
    iz_error_t e = {.index = -1};
    json_t *jt = json_object_get(body, "type");
    json_t *jrt = json_object_get(body, "recipientType");
    json_t *list = json_object_get(body, "recipients");
    iz_judge_t j = {.brand_id = brand.id, .rtype = IZ_BIREYSEL};
    if (!jt || json_is_null(jt) || (json_is_string(jt) && !*json_string_value(jt))) {
        e.code = "H111";
        e.location = "type";
    } else if (!json_is_string(jt) || iz_type_parse(json_string_value(jt), &j.type) != 0) {
        e.code = "H117";
        e.location = "type";
        e.value = jt;
    } else if (jrt && (json_is_null(jrt) || (json_is_string(jrt) && !*json_string_value(jrt)))) {
        e.code = "H170";
        e.location = "recipientType";
    } else if (jrt &&
               (!json_is_string(jrt) || iz_rtype_parse(json_string_value(jrt), &j.rtype) != 0)) {
        e.code = "H116";
        e.location = "recipientType";
        e.value = jrt;
    } else if (!list || json_is_null(list)) {
        e.code = "H168";
        e.location = "recipients";
    } else if (!json_is_array(list)) {
        e.code = "H478";
        e.location = "recipients";
    }
    if (e.code) {
        iz_reply_errors(r, iz_hcode_http(e.code), &e, 1);
        json_decref(body);
        return;
    }
    if (iz__send_flags(r, body, &j.commercial, &j.rtype) != 0) {
        json_decref(body);
        return;
    }
    if (json_array_size(list) > IZ_CHECK_MAX) {
        /* A list over its bound is a field over its bound, as in sms/send
         * and voice campaigns: 422 IZ422. */
        iz__reply_field(r, "recipients", NULL,
                        "Tek JSON sorgusunda en fazla 100000 alıcı olabilir; daha uzun listeleri "
                        "text/plain olarak gönderin.",
                        "At most 100000 recipients in one JSON check; send larger lists as "
                        "text/plain.");
        json_decref(body);
        return;
    }
    iz_judged_t *out;
    if (iz__judge_json(r, app, &j, list, &out) != 0) {
        json_decref(body);
        return;
    }
    size_t n = json_array_size(list);
    json_t *allowed = json_array(), *blocked = json_array();
    size_t nallowed = 0, nblocked = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i].repeat) continue;
        if (out[i].v == IZ_VERDICT_ALLOWED) {
            json_array_append_new(allowed, json_string(out[i].norm));
            nallowed++;
            continue;
        }
        json_t *who = out[i].v == IZ_VERDICT_INVALID ? json_incref(json_array_get(list, i))
                                                    : json_string(out[i].norm);
        json_array_append_new(blocked, json_pack("{s:o, s:s}", "recipient", who, "reason",
                                                 iz_verdict_reason(out[i].v)));
        nblocked++;
    }
    json_decref(body);
    iz_reply_json(r, 200,
                  json_pack("{s:o, s:o, s:{s:I, s:I}}", "allowed", allowed, "blocked", blocked,
                            "counts", "allowed", (json_int_t)nallowed, "blocked",
                            (json_int_t)nblocked));
}

void iz__h_check_get(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    iz_judge_t j = {.brand_id = brand.id};
    if (iz__query_type(r, &j.type, &j.rtype) != 0 ||
        iz__query_bool(r, "commercial", true, &j.commercial) != 0)
        return;
    const char *in = iz_req_param(r, "recipient");
    char norm[IZ_RECIPIENT_MAX];
    iz_verdict_t v;
    int rc = iz_domain_judge(app->dom, &j, in, strlen(in), norm, &v);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *who = v == IZ_VERDICT_INVALID ? json_string(in) : json_string(norm);
    json_t *out = json_pack("{s:o, s:b}", "recipient", who ? who : json_null(), "allowed",
                            v == IZ_VERDICT_ALLOWED);
    if (v != IZ_VERDICT_ALLOWED)
        json_object_set_new(out, "reason", json_string(iz_verdict_reason(v)));
    iz_reply_json(r, 200, out);
}
