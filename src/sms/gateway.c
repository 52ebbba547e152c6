/*
 * gateway.c - the outbound SMS adapters: the log sink, Kannel's sendsms
 * and a JSON POST (see gateway.h for the contract).
 *
 * The HTTP adapters send through one net/client per gateway, whose pool of
 * handles lets concurrent sends go without waiting for each other and
 * consecutive ones reuse the connection. Answers are accepted up to 4 KiB:
 * izin needs the status, and a line of the body for the reason of a
 * refusal; a longer answer still counts by its status.
 */
#include "sms/gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/iz.h"
#include "sys/crypto.h"
#include "core/trtime.h"
#include "net/client.h"

#define SPEC_MAX 2048       /* longest --sms-gateway value */
#define POOL_MAX 8          /* idle HTTP handles kept */
#define TIMEOUT_MS 10000L   /* a whole HTTP send */
#define CONNECT_MS 5000L    /* connecting to the gateway */
#define ANSWER_MAX 4096     /* bytes of an answer read (for the reason) */
#define SMS_TEXT_MAX 65536u /* longest text a send accepts (the API bounds it far lower) */

typedef enum { GW_LOG = 1, GW_KANNEL, GW_JSON } gw_kind_t;

struct iz_sms_gateway {
    gw_kind_t kind;
    /* log sink */
    int fd;
    char *path;
    /* HTTP adapters: the URL (with Kannel's credentials in its query), and
     * what may be shown of it */
    char *url;
    size_t url_len;
    char *shown;
    iz_httpc_t *http;
};

static int fail(const char **err, const char *msg, int rc)
{
    if (err) *err = msg;
    return rc;
}

/* True when s (len bytes) has a space or control byte: not a URL. */
static bool bad_url_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7F) return true;
    return false;
}

/* The value of query parameter name in url ("" when it is there but empty),
 * or NULL. The value is not decoded; only its presence matters here. */
static const char *query_param(const char *url, const char *name, size_t *len)
{
    const char *q = strchr(url, '?');
    size_t nl = strlen(name);
    while (q) {
        q++;
        if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
            const char *v = q + nl + 1;
            *len = strcspn(v, "&#");
            return v;
        }
        q = strchr(q, '&');
    }
    return NULL;
}

/* What may be shown of an HTTP gateway URL: everything before the query. */
static char *shown_url(const char *kind, const char *url)
{
    size_t base = strcspn(url, "?#");
    char user[64] = "";
    size_t ul = 0;
    const char *u = query_param(url, "username", &ul);
    if (u && ul > 0 && ul < sizeof user) {
        memcpy(user, u, ul);
        user[ul] = '\0';
    }
    size_t n = strlen(kind) + base + sizeof user + 16;
    char *s = iz_xmalloc(n);
    if (user[0])
        snprintf(s, n, "%s:%.*s (user %s)", kind, (int)base, url, user);
    else
        snprintf(s, n, "%s:%.*s", kind, (int)base, url);
    return s;
}

static int open_log(iz_sms_gateway_t *gw, const char *path, const char **err)
{
    if (!*path) return fail(err, "log: needs a file name (log:FILE)", IZ_EINVAL);
    gw->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (gw->fd < 0) return fail(err, "cannot open the SMS log file for appending", IZ_EIO);
    gw->path = iz_xstrdup(path);
    return 0;
}

static int open_http(iz_sms_gateway_t *gw, const char *kind, const char *url, const char **err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return fail(err, "the gateway URL must start with http:// or https://", IZ_EINVAL);
    if (bad_url_chars(url))
        return fail(err, "the gateway URL must not contain spaces or control characters",
                    IZ_EINVAL);
    const char *host = strstr(url, "://") + 3;
    if (*host == '\0' || *host == '/' || *host == '?')
        return fail(err, "the gateway URL has no host", IZ_EINVAL);
    if (gw->kind == GW_KANNEL) {
        size_t l;
        if (!query_param(url, "username", &l) || l == 0 || !query_param(url, "password", &l))
            return fail(err,
                        "kannel: needs username= and password= in the sendsms URL "
                        "(kannel:http://host:port/cgi-bin/sendsms?username=U&password=P)",
                        IZ_EINVAL);
        static const char *const ours[] = {"from", "to", "text", "charset", "coding"};
        for (size_t i = 0; i < IZ_ARRAY_LEN(ours); i++)
            if (query_param(url, ours[i], &l))
                return fail(err,
                            "kannel: from, to, text, charset and coding are set by izin; "
                            "leave them out of the URL",
                            IZ_EINVAL);
    }
    iz_httpc_conf_t hc = {.pool = POOL_MAX};
    if (iz_httpc_new(&hc, &gw->http) != 0) return fail(err, "cannot initialize libcurl", IZ_EIO);
    gw->url = iz_xstrdup(url);
    gw->url_len = strlen(url);
    gw->shown = shown_url(kind, url);
    return 0;
}

int iz_sms_gateway_open(const char *spec, const char *data_dir, iz_sms_gateway_t **out,
                        const char **err)
{
    *out = NULL;
    char deflt[4096];
    if (!spec || !*spec) {
        int n =
            snprintf(deflt, sizeof deflt, "log:%s/sms.log", data_dir && *data_dir ? data_dir : ".");
        if (n < 0 || (size_t)n >= sizeof deflt)
            return fail(err, "the data directory's path is too long", IZ_EINVAL);
        spec = deflt;
    }
    if (strlen(spec) > SPEC_MAX) return fail(err, "the gateway setting is too long", IZ_EINVAL);
    iz_sms_gateway_t *gw = iz_xcalloc(1, sizeof *gw);
    gw->fd = -1;
    int rc;
    if (strncmp(spec, "log:", 4) == 0) {
        gw->kind = GW_LOG;
        rc = open_log(gw, spec + 4, err);
    } else if (strncmp(spec, "kannel:", 7) == 0) {
        gw->kind = GW_KANNEL;
        rc = open_http(gw, "kannel", spec + 7, err);
    } else if (strncmp(spec, "json:", 5) == 0) {
        gw->kind = GW_JSON;
        rc = open_http(gw, "json", spec + 5, err);
    } else {
        rc = fail(err, "the gateway must be log:FILE, kannel:URL or json:URL", IZ_EINVAL);
    }
    if (rc != 0) {
        free(gw);
        return rc;
    }
    *out = gw;
    return 0;
}

void iz_sms_gateway_close(iz_sms_gateway_t *gw)
{
    if (!gw) return;
    if (gw->fd >= 0) close(gw->fd);
    free(gw->path);
    if (gw->url) {
        iz_httpc_free(gw->http);
        iz_wipe(gw->url, gw->url_len);
        free(gw->url);
        free(gw->shown);
    }
    free(gw);
}

unsigned iz_sms_gateway_text_flags(const iz_sms_gateway_t *gw)
{
    return gw->kind == GW_KANNEL ? IZ_SMSTEXT_NO_TR_SHIFT : 0;
}

void iz_sms_gateway_describe(const iz_sms_gateway_t *gw, char *out, size_t outsz)
{
    if (gw->kind == GW_LOG)
        snprintf(out, outsz, "log:%s", gw->path);
    else
        snprintf(out, outsz, "%s", gw->shown);
}

static void set_err(char *err, size_t errsz, const char *msg)
{
    if (err && errsz) snprintf(err, errsz, "%s", msg);
}

/* A fresh message id: 32 hex digits from 128 random bits. */
static int new_id(char id[IZ_SMS_ID_MAX])
{
    uint8_t b[16];
    if (iz_random(b, sizeof b) != 0) return IZ_EIO;
    iz_hex(b, sizeof b, id);
    return 0;
}

static int send_log(iz_sms_gateway_t *gw, const char *from, const char *to, const char *text,
                    const char *id, char *err, size_t errsz)
{
    char now[IZ_DATETIME_LEN];
    iz_tr_format((int64_t)time(NULL), now);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", now, "from", from, "to", to, "text",
                          text, "id", id);
    if (!o) {
        set_err(err, errsz, "text is not valid UTF-8");
        return IZ_EINVAL;
    }
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!line) iz_oom();
    size_t n = strlen(line);
    line = iz_xrealloc(line, n + 2);
    line[n++] = '\n';
    line[n] = '\0';
    /* One write(2) per line: O_APPEND makes each line land whole at the
     * end, whatever other threads or processes write. */
    size_t off = 0;
    int rc = 0;
    while (off < n) {
        ssize_t w = write(gw->fd, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            set_err(err, errsz, "cannot write the SMS log");
            rc = IZ_EIO;
            break;
        }
        off += (size_t)w;
    }
    free(line);
    return rc;
}

/* Append "&name=<escaped value>" to *url (a growing malloc'd string). */
static void add_param(char **url, size_t *len, const char *name, const char *value)
{
    char *esc = iz_httpc_escape(value);
    size_t add = 1 + strlen(name) + 1 + strlen(esc);
    *url = iz_xrealloc(*url, *len + add + 1);
    snprintf(*url + *len, add + 1, "&%s=%s", name, esc);
    *len += add;
    free(esc);
}

/* The first line of an answer, printable ASCII only, for a reason. */
static void first_line(const iz_httpc_res_t *a, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < a->body_len && o + 1 < outsz && o < 80; i++) {
        unsigned char c = (unsigned char)a->body[i];
        if (c == '\n' || c == '\r') break;
        out[o++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    out[o] = '\0';
}

static int send_http(iz_sms_gateway_t *gw, const char *from, const char *to, const char *text,
                     iz_sms_enc_t enc, const char *id, char *err, size_t errsz)
{
    iz_httpc_req_t rq = {
        .timeout_ms = TIMEOUT_MS, .connect_timeout_ms = CONNECT_MS, .max_body = ANSWER_MAX};
    char *url = NULL, *body = NULL;
    if (gw->kind == GW_KANNEL) {
        /* GET sendsms: the configured URL and its credentials, then ours. */
        size_t len = gw->url_len;
        url = iz_xmalloc(len + 2);
        memcpy(url, gw->url, len + 1);
        if (!strchr(url, '?')) {
            url[len++] = '?';
            url[len] = '\0';
        }
        add_param(&url, &len, "from", from);
        add_param(&url, &len, "to", to);
        add_param(&url, &len, "text", text);
        add_param(&url, &len, "charset", "UTF-8");
        /* Kannel's GSM-7 has no Turkish shift table: such texts were
         * analyzed as UCS-2 already (iz_sms_gateway_text_flags). */
        add_param(&url, &len, "coding", enc == IZ_SMS_GSM7 ? "0" : "2");
        rq.method = "GET";
        rq.url = url;
    } else {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s}", "from", from, "to", to, "text", text, "id", id);
        if (!o) {
            set_err(err, errsz, "text is not valid UTF-8");
            return IZ_EINVAL;
        }
        body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!body) iz_oom();
        rq.method = "POST";
        rq.url = gw->url;
        rq.body = body;
        rq.body_len = strlen(body);
        rq.content_type = "application/json";
    }
    iz_httpc_res_t res = {0};
    int rc = iz_httpc_do(gw->http, &rq, &res);
    if (url) {
        /* It holds the password. */
        iz_wipe(url, strlen(url));
        free(url);
    }
    free(body);
    /* An answer over the limit still has its status: a 2xx means the
     * message went, and reporting it as failed could make it go twice. */
    if (rc != 0 && !(rc == IZ_ETOOBIG && res.status != 0)) {
        /* A timeout after the request went out may still have been sent;
         * it is reported, not retried, so it can never go twice. */
        set_err(err, errsz, res.error);
        iz_httpc_res_clear(&res);
        return IZ_EIO;
    }
    rc = 0;
    if (res.status < 200 || res.status >= 300) {
        char line[96];
        first_line(&res, line, sizeof line);
        if (err && errsz) {
            if (line[0])
                snprintf(err, errsz, "HTTP %ld: %s", res.status, line);
            else
                snprintf(err, errsz, "HTTP %ld", res.status);
        }
        rc = IZ_EIO;
    }
    iz_httpc_res_clear(&res);
    return rc;
}

int iz_sms_send(iz_sms_gateway_t *gw, const char *from, const char *to, const char *text,
                iz_sms_enc_t enc, char id_out[IZ_SMS_ID_MAX], char *err, size_t errsz)
{
    id_out[0] = '\0';
    if (err && errsz) err[0] = '\0';
    if (!from || !*from || !to || !*to || !text || strlen(text) > SMS_TEXT_MAX) {
        set_err(err, errsz, "bad arguments");
        return IZ_EINVAL;
    }
    char id[IZ_SMS_ID_MAX];
    if (new_id(id) != 0) {
        set_err(err, errsz, "no randomness for a message id");
        return IZ_EIO;
    }
    int rc = gw->kind == GW_LOG ? send_log(gw, from, to, text, id, err, errsz)
                                : send_http(gw, from, to, text, enc, id, err, errsz);
    if (rc == 0) memcpy(id_out, id, sizeof id);
    return rc;
}
