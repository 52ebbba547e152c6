/*
 * check.c - the send filter's API: POST /v1/brands/{b}/check (JSON) and
 * GET /v1/brands/{b}/check/{recipient} (a dialer's last look).
 *
 * A commercial message may go to (brand, recipient, type, recipientType)
 * only when the current status is ONAY; no record blocks it (NO_CONSENT),
 * so does RET. An unusable recipient is INVALID. With commercial:false
 * (informational messages) every valid recipient is allowed. Each
 * recipient is answered once: repeats of an address (after normalization)
 * are dropped, so a list never makes a message go twice to one person.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "core/hcode.h"
#include "core/iz.h"

#define IZ_CHECK_MAX 100000 /* recipients in one JSON check */

/* Decide one normalized recipient; returns NULL when allowed, else reason. */
static const char *decide(iz_app_t *app, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                          bool commercial, const char *norm, int *rc)
{
    *rc = 0;
    if (!commercial) return NULL;
    iz_status_t st = IZ_STATUS_NONE;
    if (app->index)
        st = iz_index_get(app->index, brand_id, type, rtype, norm);
    else if ((*rc = iz_store_consent_status(app->store, brand_id, rtype, type, norm, &st)) != 0)
        return NULL;
    if (st == IZ_ONAY) return NULL;
    return st == IZ_RET ? "RET" : "NO_CONSENT";
}

const char *iz__filter(iz_app_t *app, int64_t brand_id, iz_type_t type, iz_rtype_t rtype,
                       bool commercial, const char *raw, size_t len, char norm[IZ_RECIPIENT_MAX],
                       int *rc)
{
    const char *hcode = NULL;
    *rc = 0;
    if (iz_recipient_normalize(raw, len, type, norm, &hcode) != 0) return "INVALID";
    return decide(app, brand_id, type, rtype, commercial, norm, rc);
}

/* ---- the streaming text/plain check ---------------------------------------- */

/* One recipient a line comes in, the allowed ones (or with ?blocked=1 the
 * blocked ones as "recipient,reason") go out, one a line. The body is taken
 * chunk by chunk as libmicrohttpd hands it over and judged in batches; the
 * answer is spooled to an unlinked temporary file and sent from it once the
 * body has ended (libmicrohttpd answers only after the whole body), so
 * memory stays flat whatever the list's length. Lines are answered as they
 * come: a repeated line is answered again (deduplicating 10M lines would
 * need memory in proportion to the list). */

#define STREAM_BATCH 4096
#define STREAM_OUTBUF (1u << 20)

typedef struct tstream {
    iz_app_t *app;
    int64_t brand_id;
    iz_type_t type;
    iz_rtype_t rtype;
    bool commercial, want_blocked;
    FILE *out;
    char *outbuf;
    int store_rc;
    uint64_t allowed, blocked;
    char line[IZ_INPUT_MAX + 1];
    size_t linelen;
    bool overlong;
    /* the batch being collected: raw lines (for INVALID) and their forms */
    size_t n;
    char (*raw)[IZ_INPUT_MAX + 1];
    char (*norm)[IZ_RECIPIENT_MAX];
    const char **reason;
    /* index look-ups of a batch: packed phones and texts, with positions */
    uint64_t *keys;
    uint32_t *kpos, *tpos;
    const char **texts;
    uint8_t *st;
} tstream_t;

static void tstream_free(void *v)
{
    tstream_t *t = v;
    if (t->out) fclose(t->out);
    free(t->outbuf);
    free(t->raw);
    free(t->norm);
    free(t->reason);
    free(t->keys);
    free(t->kpos);
    free(t->tpos);
    free(t->texts);
    free(t->st);
    free(t);
}

/* Write a CSV field, quoted when it holds a comma, a quote or a newline. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void tstream_flush(tstream_t *t)
{
    for (size_t i = 0; i < t->n && t->store_rc == 0; i++) {
        int rc = 0;
        t->reason[i] = iz__filter(t->app, t->brand_id, t->type, t->rtype, t->commercial, t->raw[i],
                                  strlen(t->raw[i]), t->norm[i], &rc);
        if (rc != 0) t->store_rc = rc;
    }
    for (size_t i = 0; i < t->n && t->store_rc == 0; i++) {
        const char *why = t->reason[i];
        if (!why) {
            t->allowed++;
            if (!t->want_blocked) {
                fputs(t->norm[i], t->out);
                fputc('\n', t->out);
            }
        } else {
            t->blocked++;
            if (t->want_blocked) {
                csv_field(t->out, strcmp(why, "INVALID") == 0 ? t->raw[i] : t->norm[i]);
                fputc(',', t->out);
                fputs(why, t->out);
                fputc('\n', t->out);
            }
        }
    }
    t->n = 0;
}

/* One complete line (without its newline). */
static void tstream_line(tstream_t *t, const char *s, size_t len, bool overlong)
{
    while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (len == 0 && !overlong) return;
    char *dst = t->raw[t->n];
    if (overlong) {
        /* Too long to be any address: answered INVALID, echoed cut short. */
        memcpy(dst, s, len < 64 ? len : 64);
        dst[len < 64 ? len : 64] = '\0';
        strcat(dst, "...");
    } else {
        memcpy(dst, s, len);
        dst[len] = '\0';
    }
    t->n++;
    if (t->n == STREAM_BATCH) tstream_flush(t);
}

static void tstream_chunk(iz_req_t *r, void *v, const char *data, size_t len)
{
    (void)r;
    tstream_t *t = v;
    if (t->store_rc != 0) return;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (!t->overlong) {
            if (t->linelen + take > IZ_INPUT_MAX) {
                t->overlong = true;
                size_t room = IZ_INPUT_MAX - t->linelen;
                memcpy(t->line + t->linelen, data, room);
                t->linelen += room;
            } else {
                memcpy(t->line + t->linelen, data, take);
                t->linelen += take;
            }
        }
        if (!nl) return;
        tstream_line(t, t->line, t->linelen, t->overlong);
        t->linelen = 0;
        t->overlong = false;
        data = nl + 1;
        len -= take + 1;
    }
}

static void tstream_done(iz_req_t *r, void *v)
{
    tstream_t *t = v;
    if (t->linelen || t->overlong) tstream_line(t, t->line, t->linelen, t->overlong);
    tstream_flush(t);
    if (t->store_rc != 0) {
        iz__reply_store_error(r, t->store_rc);
        return;
    }
    if (fflush(t->out) != 0) {
        iz_reply_error(r, "IZ500", "cannot spool the answer");
        return;
    }
    long size = ftell(t->out);
    int fd = dup(fileno(t->out));
    if (size < 0 || fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
        if (fd >= 0) close(fd);
        iz_reply_error(r, "IZ500", "cannot spool the answer");
        return;
    }
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)t->allowed);
    iz_reply_header(r, "X-Izin-Allowed", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)t->blocked);
    iz_reply_header(r, "X-Izin-Blocked", num);
    iz_reply_fd(r, 200, "text/plain; charset=utf-8", fd, (uint64_t)size);
}

/* The query parameters of a text/plain check (the JSON check has them in
 * its body); answers 422 and returns non-zero on a bad one. */
static int stream_params(iz_req_t *r, tstream_t *t)
{
    if (iz__query_type(r, &t->type, &t->rtype) != 0) return -1;
    const char *cm = iz_req_query(r, "commercial");
    const char *bl = iz_req_query(r, "blocked");
    t->commercial = true;
    if (cm && (strcmp(cm, "false") == 0 || strcmp(cm, "0") == 0))
        t->commercial = false;
    else if (cm && strcmp(cm, "true") != 0 && strcmp(cm, "1") != 0) {
        iz_error_t e = {.code = "IZ400",
                        .location = "commercial",
                        .index = -1,
                        .message = iz_req_english(r) ? "commercial must be true or false"
                                                     : "commercial true ya da false olmalıdır."};
        iz_reply_errors(r, 422, &e, 1);
        return -1;
    }
    t->want_blocked = bl && (strcmp(bl, "1") == 0 || strcmp(bl, "true") == 0);
    return 0;
}

static void check_stream_begin(iz_req_t *r, iz_app_t *app)
{
    iz_brand_t brand;
    if (iz__api_brand(r, app, &brand) != 0) return;
    tstream_t *t = iz_xcalloc(1, sizeof *t);
    t->app = app;
    t->brand_id = brand.id;
    if (stream_params(r, t) != 0) {
        free(t);
        return;
    }
    t->out = tmpfile();
    if (!t->out) {
        free(t);
        iz_reply_error(r, "IZ503", "cannot create a spool file");
        return;
    }
    t->outbuf = iz_xmalloc(STREAM_OUTBUF);
    setvbuf(t->out, t->outbuf, _IOFBF, STREAM_OUTBUF);
    t->raw = iz_xmalloc(STREAM_BATCH * sizeof *t->raw);
    t->norm = iz_xmalloc(STREAM_BATCH * sizeof *t->norm);
    t->reason = iz_xmalloc(STREAM_BATCH * sizeof *t->reason);
    t->keys = iz_xmalloc(STREAM_BATCH * sizeof *t->keys);
    t->kpos = iz_xmalloc(STREAM_BATCH * sizeof *t->kpos);
    t->tpos = iz_xmalloc(STREAM_BATCH * sizeof *t->tpos);
    t->texts = iz_xmalloc(STREAM_BATCH * sizeof *t->texts);
    t->st = iz_xmalloc(STREAM_BATCH * sizeof *t->st);
    iz_req_stream(r, tstream_chunk, tstream_done, tstream_free, t);
}

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
    if (iz__api_brand(r, app, &brand) != 0) return;
    json_t *body = iz_req_json(r);
    if (!body) return;
    iz_error_t e = {.index = -1};
    json_t *jt = json_object_get(body, "type");
    json_t *jrt = json_object_get(body, "recipientType");
    json_t *jc = json_object_get(body, "commercial");
    json_t *list = json_object_get(body, "recipients");
    iz_type_t type = IZ_TYPE_NONE;
    iz_rtype_t rtype = IZ_BIREYSEL;
    if (!json_is_object(body)) {
        e.code = "H097";
    } else if (!jt || json_is_null(jt) || (json_is_string(jt) && !*json_string_value(jt))) {
        e.code = "H111";
        e.location = "type";
    } else if (!json_is_string(jt) || iz_type_parse(json_string_value(jt), &type) != 0) {
        e.code = "H117";
        e.location = "type";
        e.value = jt;
    } else if (jrt && (json_is_null(jrt) || (json_is_string(jrt) && !*json_string_value(jrt)))) {
        e.code = "H170";
        e.location = "recipientType";
    } else if (jrt &&
               (!json_is_string(jrt) || iz_rtype_parse(json_string_value(jrt), &rtype) != 0)) {
        e.code = "H116";
        e.location = "recipientType";
        e.value = jrt;
    } else if (jc && !json_is_boolean(jc)) {
        e.code = "IZ400";
        e.location = "commercial";
        e.value = jc;
        e.message = iz_req_english(r) ? "commercial must be true or false"
                                      : "commercial true ya da false olmalıdır.";
    } else if (!list || json_is_null(list)) {
        e.code = "H168";
        e.location = "recipients";
    } else if (!json_is_array(list)) {
        e.code = "H478";
        e.location = "recipients";
    } else if (json_array_size(list) > IZ_CHECK_MAX) {
        e.code = "IZ413";
        e.location = "recipients";
        e.message = iz_req_english(r) ? "at most 100000 recipients in one JSON check; "
                                        "send larger lists as text/plain"
                                      : "Tek JSON sorgusunda en fazla 100000 alıcı olabilir.";
    }
    if (e.code) {
        int status = strcmp(e.code, "IZ400") == 0 ? 422 : iz_hcode_http(e.code);
        iz_reply_errors(r, status, &e, 1);
        json_decref(body);
        return;
    }
    bool commercial = jc ? json_is_true(jc) : true;

    size_t n = json_array_size(list);
    iz__seen_t seen;
    iz__seen_init(r, &seen, n);
    json_t *allowed = json_array(), *blocked = json_array();
    size_t nallowed = 0, nblocked = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        char norm[IZ_RECIPIENT_MAX];
        const char *hcode = NULL;
        const char *s = json_is_string(item) ? json_string_value(item) : NULL;
        if (!s || iz_recipient_normalize(s, json_string_length(item), type, norm, &hcode) != 0) {
            json_array_append_new(blocked,
                                  json_pack("{s:O, s:s}", "recipient", item, "reason", "INVALID"));
            nblocked++;
            continue;
        }
        char *key = iz_req_strdup(r, norm);
        if (!iz__seen_add(&seen, key)) continue;
        int rc;
        const char *reason = decide(app, brand.id, type, rtype, commercial, norm, &rc);
        if (rc != 0) {
            json_decref(allowed);
            json_decref(blocked);
            json_decref(body);
            iz__reply_store_error(r, rc);
            return;
        }
        if (reason) {
            json_array_append_new(blocked,
                                  json_pack("{s:s, s:s}", "recipient", norm, "reason", reason));
            nblocked++;
        } else {
            json_array_append_new(allowed, json_string(norm));
            nallowed++;
        }
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
    iz_type_t type;
    iz_rtype_t rtype;
    if (iz__query_type(r, &type, &rtype) != 0) return;
    const char *cm = iz_req_query(r, "commercial");
    bool commercial = !(cm && (strcmp(cm, "false") == 0 || strcmp(cm, "0") == 0));
    const char *in = iz_req_param(r, "recipient");
    char norm[IZ_RECIPIENT_MAX];
    const char *hcode = NULL;
    if (iz_recipient_normalize(in, strlen(in), type, norm, &hcode) != 0) {
        json_t *v = json_string(in);
        iz_reply_json(r, 200,
                      json_pack("{s:o, s:b, s:s}", "recipient", v ? v : json_null(), "allowed", 0,
                                "reason", "INVALID"));
        return;
    }
    int rc;
    const char *reason = decide(app, brand.id, type, rtype, commercial, norm, &rc);
    if (rc != 0) {
        iz__reply_store_error(r, rc);
        return;
    }
    json_t *out = json_pack("{s:s, s:b}", "recipient", norm, "allowed", reason == NULL);
    if (reason) json_object_set_new(out, "reason", json_string(reason));
    iz_reply_json(r, 200, out);
}
