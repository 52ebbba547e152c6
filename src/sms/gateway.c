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
#define POOL_MAX 32         /* idle HTTP handles kept (the queue sends up to 64 at once) */
#define TIMEOUT_MS 10000L   /* a whole HTTP send, unless set */
#define CONNECT_MS 5000L    /* connecting to the gateway */
#define ANSWER_MAX 4096     /* bytes of an answer read (for the reason) */
#define SMS_TEXT_MAX 65536u /* longest text a send accepts (the API bounds it far lower) */

#define GW_LOG IZ_SMS_GW_LOG
#define GW_KANNEL IZ_SMS_GW_KANNEL
#define GW_JSON IZ_SMS_GW_JSON

struct iz_sms_gateway {
    iz_sms_gw_kind_t kind;
    /* log sink */
    int fd;
    char *path;
    /* HTTP adapters: the URL (with Kannel's credentials in its query), and
     * what may be shown of it */
    char *url;
    size_t url_len;
    char *shown;
    iz_httpc_t *http;
    long timeout_ms;
    /* kannel: delivery reports (NULL: none); the token is a secret */
    char *dlr_url;
    char *dlr_token;
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

/* What may be shown of an HTTP gateway URL: everything before the query,
 * without the user and password a URL may carry before its host
 * ("https://user:secret@host/path": curl sends them as Basic auth). */
static char *shown_url(const char *kind, const char *url)
{
    size_t base = strcspn(url, "?#");
    const char *host = strstr(url, "://") + 3;
    size_t scheme = (size_t)(host - url);
    size_t auth = strcspn(host, "/?#");
    const char *at = NULL;
    for (const char *p = host; p < host + auth; p++)
        if (*p == '@') at = p;
    const char *rest = at ? at + 1 : host; /* the host and what follows it */
    char user[64] = "";
    size_t ul = 0;
    const char *u = query_param(url, "username", &ul);
    if (u && ul > 0 && ul < sizeof user) {
        memcpy(user, u, ul);
        user[ul] = '\0';
    }
    size_t n = strlen(kind) + base + sizeof user + 16;
    char *s = iz_xmalloc(n);
    snprintf(s, n, "%s:%.*s%.*s%s%s%s", kind, (int)scheme, url, (int)(base - (size_t)(rest - url)),
             rest, user[0] ? " (user " : "", user, user[0] ? ")" : "");
    return s;
}

static int check_url(iz_sms_gw_kind_t kind, const char *url, const char **err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return fail(err, "the gateway URL must start with http:// or https://", IZ_EINVAL);
    if (bad_url_chars(url))
        return fail(err, "the gateway URL must not contain spaces or control characters",
                    IZ_EINVAL);
    const char *host = strstr(url, "://") + 3;
    if (*host == '\0' || *host == '/' || *host == '?')
        return fail(err, "the gateway URL has no host", IZ_EINVAL);
    if (kind == GW_KANNEL) {
        size_t l;
        if (!query_param(url, "username", &l) || l == 0 || !query_param(url, "password", &l))
            return fail(err,
                        "kannel: needs username= and password= in the sendsms URL "
                        "(kannel:http://host:port/cgi-bin/sendsms?username=U&password=P)",
                        IZ_EINVAL);
        static const char *const ours[] = {"from",   "to",       "text",   "charset",
                                           "coding", "dlr-mask", "dlr-url"};
        for (size_t i = 0; i < IZ_ARRAY_LEN(ours); i++)
            if (query_param(url, ours[i], &l))
                return fail(err,
                            "kannel: from, to, text, charset, coding, dlr-mask and dlr-url are "
                            "set by izin (delivery reports: --sms-dlr-url); leave them out of "
                            "the URL",
                            IZ_EINVAL);
    }
    return 0;
}

int iz_sms_gateway_spec_parse(const char *spec, iz_sms_gateway_spec_t *out, const char **err)
{
    memset(out, 0, sizeof *out);
    if (strlen(spec) > SPEC_MAX) return fail(err, "the gateway setting is too long", IZ_EINVAL);
    static const struct {
        const char *prefix;
        iz_sms_gw_kind_t kind;
    } kinds[] = {{"log:", GW_LOG}, {"kannel:", GW_KANNEL}, {"json:", GW_JSON}};
    for (size_t i = 0; i < IZ_ARRAY_LEN(kinds); i++) {
        size_t pl = strlen(kinds[i].prefix);
        if (strncmp(spec, kinds[i].prefix, pl) != 0) continue;
        const char *target = spec + pl;
        int rc;
        if (kinds[i].kind == GW_LOG)
            rc = *target ? 0 : fail(err, "log: needs a file name (log:FILE)", IZ_EINVAL);
        else
            rc = check_url(kinds[i].kind, target, err);
        if (rc != 0) return rc;
        out->kind = kinds[i].kind;
        out->target = target;
        if (kinds[i].kind != GW_LOG) {
            char kind[8];
            memcpy(kind, spec, pl - 1);
            kind[pl - 1] = '\0';
            out->shown = shown_url(kind, target);
        }
        return 0;
    }
    return fail(err, "the gateway must be log:FILE, kannel:URL or json:URL", IZ_EINVAL);
}

void iz_sms_gateway_spec_clear(iz_sms_gateway_spec_t *sp)
{
    free(sp->shown);
    sp->shown = NULL;
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
    iz_sms_gateway_spec_t sp;
    int rc = iz_sms_gateway_spec_parse(spec, &sp, err);
    if (rc != 0) return rc;
    iz_sms_gateway_t *gw = iz_xcalloc(1, sizeof *gw);
    gw->fd = -1;
    gw->timeout_ms = TIMEOUT_MS;
    gw->kind = sp.kind;
    if (sp.kind == GW_LOG) {
        gw->fd = open(sp.target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (gw->fd < 0) {
            free(gw);
            return fail(err, "cannot open the SMS log file for appending", IZ_EIO);
        }
        gw->path = iz_xstrdup(sp.target);
    } else {
        iz_httpc_conf_t hc = {.pool = POOL_MAX};
        if (iz_httpc_new(&hc, &gw->http) != 0) {
            iz_sms_gateway_spec_clear(&sp);
            free(gw);
            return fail(err, "cannot initialize libcurl", IZ_EIO);
        }
        gw->url = iz_xstrdup(sp.target);
        gw->url_len = strlen(sp.target);
        gw->shown = sp.shown; /* now the gateway's */
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
    free(gw->dlr_url);
    if (gw->dlr_token) {
        iz_wipe(gw->dlr_token, strlen(gw->dlr_token));
        free(gw->dlr_token);
    }
    free(gw);
}

bool iz_sms_gateway_is_kannel(const iz_sms_gateway_t *gw)
{
    return gw->kind == GW_KANNEL;
}

void iz_sms_gateway_set_timeout(iz_sms_gateway_t *gw, long timeout_ms)
{
    if (timeout_ms >= 100 && timeout_ms <= 600000) gw->timeout_ms = timeout_ms;
}

void iz_sms_gateway_set_dlr(iz_sms_gateway_t *gw, const char *url, const char *token)
{
    free(gw->dlr_url);
    gw->dlr_url = url && *url ? iz_xstrdup(url) : NULL;
    if (gw->dlr_token) {
        iz_wipe(gw->dlr_token, strlen(gw->dlr_token));
        free(gw->dlr_token);
    }
    gw->dlr_token = token && *token ? iz_xstrdup(token) : NULL;
}

unsigned iz_sms_gateway_text_flags(const iz_sms_gateway_t *gw)
{
    return gw->kind == GW_KANNEL ? IZ_SMSTEXT_NO_TR_SHIFT | IZ_SMSTEXT_SPLIT_SURROGATES : 0;
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

int iz_sms_new_id(char id[IZ_SMS_ID_MAX])
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

/* The sendsms URL: the configured URL and its credentials, then ours. The
 * caller wipes (it holds the password and the gateway token) and frees it. */
static char *kannel_url(const iz_sms_gateway_t *gw, const iz_sms_out_t *m, size_t *len_out)
{
    size_t len = gw->url_len;
    char *url = iz_xmalloc(len + 2);
    memcpy(url, gw->url, len + 1);
    if (!strchr(url, '?')) {
        url[len++] = '?';
        url[len] = '\0';
    }
    if (m) {
        add_param(&url, &len, "from", m->from);
        add_param(&url, &len, "to", m->to);
        add_param(&url, &len, "text", m->text);
        add_param(&url, &len, "charset", "UTF-8");
        /* Kannel's GSM-7 has no Turkish shift table: such texts were
         * analyzed as UCS-2 already (iz_sms_gateway_text_flags). */
        add_param(&url, &len, "coding", m->enc == IZ_SMS_GSM7 ? "0" : "2");
        if (gw->dlr_url) {
            /* Kannel fills in %d (the report's type) when it calls back. */
            char *tok = iz_httpc_escape(gw->dlr_token ? gw->dlr_token : "");
            char *mid = iz_httpc_escape(m->id);
            size_t n = strlen(gw->dlr_url) + strlen(mid) + strlen(tok) + 48;
            char *dlr = iz_xmalloc(n);
            snprintf(dlr, n, "%s%cid=%s&status=%%d&token=%s", gw->dlr_url,
                     strchr(gw->dlr_url, '?') ? '&' : '?', mid, tok);
            add_param(&url, &len, "dlr-mask", "27");
            add_param(&url, &len, "dlr-url", dlr);
            iz_wipe(dlr, strlen(dlr));
            iz_wipe(tok, strlen(tok));
            free(dlr);
            free(tok);
            free(mid);
        }
    }
    *len_out = len;
    return url;
}

static iz_sms_fate_t send_http(iz_sms_gateway_t *gw, const iz_sms_out_t *m, char *err, size_t errsz,
                               bool *unsent)
{
    iz_httpc_req_t rq = {.timeout_ms = gw->timeout_ms,
                         .connect_timeout_ms =
                             gw->timeout_ms < CONNECT_MS ? gw->timeout_ms : CONNECT_MS,
                         .max_body = ANSWER_MAX};
    char *url = NULL, *body = NULL;
    size_t url_len = 0;
    if (gw->kind == GW_KANNEL) {
        url = kannel_url(gw, m, &url_len);
        rq.method = "GET";
        rq.url = url;
    } else {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "from", m->from, "to", m->to, "text", m->text,
                              "id", m->id);
        if (!o) {
            set_err(err, errsz, "text is not valid UTF-8");
            return IZ_SMS_FAILED;
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
        /* It holds the password and the gateway token. */
        iz_wipe(url, url_len);
        free(url);
    }
    free(body);
    /* An answer over the limit still has its status: a 2xx means the
     * message went, and reporting it as failed could make it go twice. */
    if (rc != 0 && !(rc == IZ_ETOOBIG && res.status != 0)) {
        /* No answer. A request that went out may have been taken (a
         * timeout while Kannel queued it): UNKNOWN, never sent again. One
         * that never reached the gateway was not sent. */
        set_err(err, errsz, res.error);
        bool sent = res.sent;
        iz_httpc_res_clear(&res);
        if (!sent) *unsent = true;
        return sent ? IZ_SMS_UNKNOWN : IZ_SMS_FAILED;
    }
    iz_sms_fate_t fate = IZ_SMS_SENT;
    if (res.status < 200 || res.status >= 300) {
        char line[96];
        first_line(&res, line, sizeof line);
        if (err && errsz) {
            if (line[0])
                snprintf(err, errsz, "HTTP %ld: %s", res.status, line);
            else
                snprintf(err, errsz, "HTTP %ld", res.status);
        }
        fate = IZ_SMS_FAILED;
    }
    iz_httpc_res_clear(&res);
    return fate;
}

iz_sms_fate_t iz_sms_send(iz_sms_gateway_t *gw, const iz_sms_out_t *m, char *err, size_t errsz,
                          bool *unsent)
{
    bool ignored;
    if (!unsent) unsent = &ignored;
    *unsent = false;
    if (err && errsz) err[0] = '\0';
    if (!m->id || !*m->id || !m->from || !*m->from || !m->to || !*m->to || !m->text ||
        strlen(m->text) > SMS_TEXT_MAX || strlen(m->id) >= IZ_SMS_ID_MAX) {
        set_err(err, errsz, "bad arguments");
        return IZ_SMS_FAILED;
    }
    if (gw->kind == GW_LOG)
        return send_log(gw, m->from, m->to, m->text, m->id, err, errsz) == 0 ? IZ_SMS_SENT
                                                                             : IZ_SMS_FAILED;
    return send_http(gw, m, err, errsz, unsent);
}

int iz_sms_gateway_probe(iz_sms_gateway_t *gw, char *msg, size_t msgsz)
{
    if (msgsz) msg[0] = '\0';
    if (gw->kind != GW_KANNEL) return 0;
    size_t len = 0;
    char *url = kannel_url(gw, NULL, &len);
    iz_httpc_req_t rq = {.method = "GET",
                         .url = url,
                         .timeout_ms = 3000,
                         .connect_timeout_ms = 3000,
                         .max_body = ANSWER_MAX};
    iz_httpc_res_t res = {0};
    int rc = iz_httpc_do(gw->http, &rq, &res);
    iz_wipe(url, len);
    free(url);
    char line[96] = "";
    if (rc == 0) first_line(&res, line, sizeof line);
    int out;
    if (rc != 0) {
        snprintf(msg, msgsz,
                 "Kannel's sendsms does not answer now (%s); sends will fail "
                 "until it does",
                 res.error);
        out = IZ_EIO;
    } else if (res.status == 400 && strstr(line, "receiver")) {
        snprintf(msg, msgsz, "Kannel's sendsms took the username and password");
        out = 0;
    } else if (res.status == 403) {
        snprintf(msg, msgsz,
                 "Kannel's sendsms refused the username and password, or this "
                 "address (HTTP 403: %s)",
                 line);
        out = IZ_ERULE;
    } else {
        snprintf(msg, msgsz,
                 "the sendsms URL answered a request without a receiver with HTTP "
                 "%ld (%s); Kannel answers 400: is it Kannel's sendsms?",
                 res.status, line);
        out = IZ_EINVAL;
    }
    iz_httpc_res_clear(&res);
    return out;
}
