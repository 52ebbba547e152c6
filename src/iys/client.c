/*
 * client.c - the İYS client (see client.h for the token and rate rules).
 *
 * The HTTP exchange itself is net/client's: one client per iz_iys_t, whose
 * kept handle keeps the connection to İYS alive. Answers are accepted up to
 * 16 MiB: a change pull of 1000 items is far below that, and a hostile or
 * broken server cannot make izin allocate without bound. What stays here is
 * İYS's own: the budget slot, the tokens and the answer classes.
 */
#include "iys/client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/trtime.h"
#include "iys/budget.h"
#include "net/client.h"
#include "net/jsonconsent.h"
#include "sys/log.h"

#define IZ_IYS_MAX_BODY (16u << 20)
#define TOKEN_MARGIN_S 300
#define TOKEN_BLOCK_S 3600

struct iz_iys_auth {
    iz_iys_auth_conf_t conf;
    pthread_mutex_t mu; /* the token fields below */
    char access[IZ_IYS_TOKEN_MAX], refresh[IZ_IYS_TOKEN_MAX];
    int64_t access_exp, refresh_exp; /* epoch seconds */
    int64_t token_blocked_until;     /* after H084: no token request before this */
};

struct iz_iys {
    iz_iys_conf_t conf;
    iz_iys_budget_t *budget, *own_budget; /* own_budget: made here when conf gave none */
    iz_iys_auth_t *auth, *own_auth;       /* own_auth: made here when conf gave none */
    iz_httpc_t *http;
    _Atomic uint64_t n_ok, n_client, n_rate, n_server, n_transport, n_token_blocked, n_tokens;
};

/* The stored token state of an auth: an account's, or a partner's. */
static int token_get(const iz_iys_auth_t *a, iz_iys_token_t *t)
{
    const iz_iys_auth_conf_t *c = &a->conf;
    if (c->integrator_code)
        return iz_store_iys_partner_token_get(c->store, c->integrator_code, c->base_url,
                                              c->username, t);
    return iz_store_iys_token_get(c->store, c->account_id, c->base_url, c->username, t);
}

/* Start from the token state kept in the store for this İYS and user (when
 * there is a store): what is still valid of the pair, and an H084 hour that
 * is not over yet. */
static void token_load(iz_iys_auth_t *a)
{
    if (!a->conf.store) return;
    iz_iys_token_t *t = iz_xmalloc(sizeof *t);
    if (token_get(a, t) == 0) {
        int64_t now = (int64_t)time(NULL);
        if (t->access[0] && t->access_exp > now) {
            iz_strlcpy(a->access, t->access, sizeof a->access);
            a->access_exp = t->access_exp;
        }
        if (t->refresh[0] && t->refresh_exp > now) {
            iz_strlcpy(a->refresh, t->refresh, sizeof a->refresh);
            a->refresh_exp = t->refresh_exp;
        }
        if (t->blocked_until > now) a->token_blocked_until = t->blocked_until;
    }
    iz_wipe(t, sizeof *t);
    free(t);
}

/* Keep the token state in the store (when there is one) for the next
 * start. A failure is logged and costs at most a token request later. */
static void token_save(iz_iys_auth_t *a)
{
    if (!a->conf.store) return;
    iz_iys_token_t *t = iz_xcalloc(1, sizeof *t);
    iz_strlcpy(t->base_url, a->conf.base_url, sizeof t->base_url);
    iz_strlcpy(t->username, a->conf.username, sizeof t->username);
    iz_strlcpy(t->access, a->access, sizeof t->access);
    iz_strlcpy(t->refresh, a->refresh, sizeof t->refresh);
    t->access_exp = a->access[0] ? a->access_exp : 0;
    t->refresh_exp = a->refresh[0] ? a->refresh_exp : 0;
    t->blocked_until = a->token_blocked_until;
    int rc = a->conf.integrator_code
                 ? iz_store_iys_partner_token_put(a->conf.store, a->conf.integrator_code, t)
                 : iz_store_iys_token_put(a->conf.store, a->conf.account_id, t);
    if (rc != 0)
        iz_logf(IZ_LOG_WARN, "iys", "cannot keep the İYS tokens in the store",
                "account=%lld integrator=%lld error=%s", (long long)a->conf.account_id,
                (long long)a->conf.integrator_code, iz_strerror(rc));
    iz_wipe(t, sizeof *t);
    free(t);
}

/* A base URL without its trailing slashes. */
static void trim_url(char *u)
{
    size_t l = strlen(u);
    while (l > 0 && u[l - 1] == '/')
        u[--l] = '\0';
}

iz_iys_auth_t *iz_iys_auth_new(const iz_iys_auth_conf_t *conf)
{
    iz_iys_auth_t *a = iz_xcalloc(1, sizeof *a);
    a->conf = *conf;
    trim_url(a->conf.base_url);
    pthread_mutex_init(&a->mu, NULL);
    token_load(a);
    return a;
}

void iz_iys_auth_free(iz_iys_auth_t *a)
{
    if (!a) return;
    pthread_mutex_destroy(&a->mu);
    iz_wipe(a, sizeof *a);
    free(a);
}

int iz_iys_new(const iz_iys_conf_t *conf, iz_iys_t **out)
{
    iz_iys_t *c = iz_xcalloc(1, sizeof *c);
    c->conf = *conf;
    trim_url(c->conf.base_url);
    if (c->conf.timeout_ms <= 0) c->conf.timeout_ms = 10000;
    if (c->conf.rate <= 0) c->conf.rate = 10;
    c->budget = conf->budget;
    iz_httpc_conf_t hc = {.pool = 4};
    int rc = iz_httpc_new(&hc, &c->http);
    if (rc != 0) {
        iz_wipe(c->conf.password, sizeof c->conf.password);
        free(c);
        return rc;
    }
    if (!c->budget) c->budget = c->own_budget = iz_iys_budget_new(c->conf.rate);
    c->auth = conf->auth;
    if (!c->auth) {
        iz_iys_auth_conf_t ac = {.store = c->conf.store, .account_id = c->conf.account_id};
        iz_strlcpy(ac.base_url, c->conf.base_url, sizeof ac.base_url);
        iz_strlcpy(ac.username, c->conf.username, sizeof ac.username);
        iz_strlcpy(ac.password, c->conf.password, sizeof ac.password);
        c->auth = c->own_auth = iz_iys_auth_new(&ac);
        iz_wipe(&ac, sizeof ac);
    }
    /* The password lives in the auth alone. */
    iz_wipe(c->conf.password, sizeof c->conf.password);
    *out = c;
    return 0;
}

void iz_iys_free(iz_iys_t *c)
{
    if (!c) return;
    iz_httpc_free(c->http);
    iz_iys_budget_free(c->own_budget);
    iz_iys_auth_free(c->own_auth);
    free(c);
}

void iz_iys_res_clear(iz_iys_res_t *res)
{
    json_decref(res->body);
    memset(res, 0, sizeof *res);
}

void iz_iys_counts_get(const iz_iys_t *c, iz_iys_counts_t *o)
{
    o->ok = atomic_load(&c->n_ok);
    o->client_error = atomic_load(&c->n_client);
    o->rate_limited = atomic_load(&c->n_rate);
    o->server_error = atomic_load(&c->n_server);
    o->transport = atomic_load(&c->n_transport);
    o->token_blocked = atomic_load(&c->n_token_blocked);
    o->tokens = atomic_load(&c->n_tokens);
}

/* Set by iz_iys_prepaid() on this thread: the next request's budget slot
 * was taken by the caller. */
static _Thread_local bool prepaid;

void iz_iys_prepaid(void)
{
    prepaid = true;
}

bool iz_iys_prepaid_unused(void)
{
    bool was = prepaid;
    prepaid = false;
    return was;
}

/* Take the first error's code and message out of an İYS error body, or the
 * OAuth "error" of a token answer. */
static void read_error(iz_iys_res_t *res)
{
    json_t *errs = json_object_get(res->body, "errors");
    json_t *e0 = json_array_get(errs, 0);
    const char *code = json_string_value(json_object_get(e0, "code"));
    const char *msg = json_string_value(json_object_get(e0, "message"));
    if (!code) code = json_string_value(json_object_get(res->body, "error"));
    if (!msg) msg = json_string_value(json_object_get(res->body, "error_description"));
    if (code) iz_strlcpy(res->code, code, sizeof res->code);
    if (msg) iz_strlcpy(res->message, msg, sizeof res->message);
}

int iz_iys_token_read(const json_t *body, iz_iys_token_answer_t *t)
{
    memset(t, 0, sizeof *t);
    const char *a = json_string_value(json_object_get(body, "access_token"));
    const char *r = json_string_value(json_object_get(body, "refresh_token"));
    json_int_t ae = json_integer_value(json_object_get(body, "expires_in"));
    json_int_t re = json_integer_value(json_object_get(body, "refresh_expires_in"));
    if (!a || iz_strlcpy(t->access, a, sizeof t->access) != 0) {
        t->access[0] = '\0';
        return IZ_EINVAL;
    }
    /* A life beyond IZ_IYS_TTL_MAX is not believed: added to the clock it
     * could overflow (a token then always stale, a new one asked for on
     * every call until the hour's allowance is spent). */
    t->access_ttl = ae > 0 ? (ae < IZ_IYS_TTL_MAX ? ae : IZ_IYS_TTL_MAX) : 7200;
    if (r && iz_strlcpy(t->refresh, r, sizeof t->refresh) == 0)
        t->refresh_ttl = re > 0 ? (re < IZ_IYS_TTL_MAX ? re : IZ_IYS_TTL_MAX) : 14400;
    else
        t->refresh[0] = '\0';
    return 0;
}

void iz_iys_item_read(const json_t *item, iz_iys_item_t *out)
{
    memset(out, 0, sizeof *out);
    out->type = IZ_TYPE_NONE;
    json_t *jix = json_object_get(item, "index");
    const char *st = json_string_value(json_object_get(item, "status"));
    if (!json_is_integer(jix) || json_integer_value(jix) < 0 || !st) return;
    out->index = json_integer_value(jix);
    if (strcmp(st, "success") == 0) {
        out->state = IZ_IYS_ITEM_SUCCESS;
        out->txid = json_string_value(json_object_get(item, "transactionId"));
        out->created = iz_iys_created(item);
    } else if (strcmp(st, "failure") == 0) {
        out->state = IZ_IYS_ITEM_FAILURE;
        json_t *err = json_object_get(item, "error");
        out->code = json_string_value(json_object_get(err, "code"));
        out->message = json_string_value(json_object_get(err, "message"));
        iz_type_parse(json_string_value(json_object_get(item, "type")), &out->type);
    } else {
        out->state = IZ_IYS_ITEM_PENDING; /* "enqueue": not processed yet */
    }
}

int64_t iz_iys_created(const json_t *o)
{
    const char *d = json_string_value(json_object_get(o, "creationDate"));
    const char *hcode;
    int64_t e = 0;
    if (!d || iz_tr_parse(d, strlen(d), &e, &hcode) != 0) return 0;
    return e;
}

const char *iz_iys_request_id(const json_t *body, size_t max)
{
    const char *rid = json_string_value(json_object_get(body, "requestId"));
    return rid && strlen(rid) < max ? rid : NULL;
}

bool iz_iys_error_item(const json_t *e, size_t n, size_t *index)
{
    json_t *ix = json_object_get(e, "index");
    if (!json_is_integer(ix) || json_integer_value(ix) < 0 || (size_t)json_integer_value(ix) >= n)
        return false;
    *index = (size_t)json_integer_value(ix);
    return true;
}

json_t *iz_iys_page_read(const json_t *body, const char **after, size_t after_max)
{
    const char *a = json_string_value(json_object_get(body, "after"));
    *after = a && strlen(a) < after_max ? a : NULL;
    json_t *list = json_object_get(body, "list");
    return json_is_array(list) ? list : NULL;
}

/* Where a download's 2xx body goes (NULL fn: into res->body as JSON). */
typedef struct sink {
    iz_httpc_write_fn fn;
    void *ud;
} sink_t;

/* One HTTP exchange, after a slot of the URL's budget. body may be NULL
 * (GET); bearer, when not NULL, is the access token; sink, when not NULL,
 * takes a 2xx answer's body as it arrives. */
static void http(iz_iys_t *c, const char *method, const char *path, const char *body,
                 const char *content_type, const char *bearer, const sink_t *sink,
                 iz_iys_res_t *res)
{
    memset(res, 0, sizeof *res);
    char url[IZ_URL_MAX + 512];
    snprintf(url, sizeof url, "%s%s", c->conf.base_url, path);
    if (prepaid) {
        prepaid = false;
        iz_iys_budget_use(c->budget);
    } else {
        iz_iys_budget_take(c->budget);
    }
    static const char *const accept[] = {"Accept: application/json"};
    iz_httpc_req_t rq = {.method = method,
                         .url = url,
                         .headers = accept,
                         .nheaders = 1,
                         .body = body,
                         .body_len = body ? strlen(body) : 0,
                         .content_type = content_type,
                         .bearer = bearer,
                         .timeout_ms = c->conf.timeout_ms,
                         .max_body = IZ_IYS_MAX_BODY,
                         .body_write = sink ? sink->fn : NULL,
                         .body_write_ud = sink ? sink->ud : NULL};
    iz_httpc_res_t hr = {0};
    int rc = iz_httpc_do(c->http, &rq, &hr);
    iz_iys_budget_answer(c->budget, rc != 0 ? 0 : hr.status, hr.retry_after_s);
    if (rc != 0) {
        /* No usable answer (none, cut, too large, or a request the client
         * refused, such as a base URL that is not http): try again later. */
        res->cls = IZ_IYS_TRANSIENT;
        iz_strlcpy(res->message, hr.error, sizeof res->message);
        atomic_fetch_add(&c->n_transport, 1);
        iz_httpc_res_clear(&hr);
        return;
    }
    iz_iys_answer_read(res, hr.status, hr.body, hr.body_len, hr.retry_after_s);
    iz_httpc_res_clear(&hr);
    if (res->cls == IZ_IYS_OK)
        atomic_fetch_add(&c->n_ok, 1);
    else if (res->http == 429)
        atomic_fetch_add(&c->n_rate, 1);
    else if (res->http >= 500 || res->http < 300) /* (a 2xx here: JSON that cannot be read) */
        atomic_fetch_add(&c->n_server, 1);
    else
        atomic_fetch_add(&c->n_client, 1);
}

void iz_iys_answer_read(iz_iys_res_t *res, long status, const char *body, size_t len,
                        long retry_after_s)
{
    memset(res, 0, sizeof *res);
    res->http = status;
    res->retry_after_s = retry_after_s;
    if (len) res->body = json_loadb(body, len, 0, NULL);
    /* JSON that does not parse (cut, malformed); a body that is no JSON
     * at all (an "OK" some answers carry) is not read. */
    size_t lead = 0;
    while (lead < len && strchr(" \t\r\n", body[lead]))
        lead++;
    bool unreadable = !res->body && lead < len && (body[lead] == '{' || body[lead] == '[');
    if (res->http >= 200 && res->http < 300 && unreadable) {
        /* A 2xx whose JSON does not parse (cut, or not İYS's): nothing in
         * it can be taken as İYS's word, so it is no answer - retried, as
         * a 5xx is (taken as OK, a change would count as accepted with no
         * transaction and never reach İYS). */
        res->cls = IZ_IYS_TRANSIENT;
        snprintf(res->message, sizeof res->message, "HTTP %ld with JSON that cannot be read",
                 res->http);
        return;
    }
    if (res->http >= 200 && res->http < 300) {
        res->cls = IZ_IYS_OK;
        return;
    }
    read_error(res);
    if (res->http == 429 || res->http >= 500 || res->http < 200) {
        res->cls = IZ_IYS_TRANSIENT;
    } else {
        /* 401 is judged by the caller (a new token and a retry). */
        res->cls = res->code[0] && res->http != 401 ? IZ_IYS_PERMANENT : IZ_IYS_TRANSIENT;
    }
    if (!res->message[0]) snprintf(res->message, sizeof res->message, "HTTP %ld", res->http);
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* Ask /oauth2/token for a pair (the refresh grant when use_refresh). What
 * İYS answered - a new pair, an H084 hour, a refusal - is kept in the
 * store: a later start goes on with the pair, waits out the hour, and does
 * not offer a refused token again. A 5xx, a per-second 429 or no answer
 * changes nothing worth keeping. */
static int token_request(iz_iys_t *c, bool use_refresh, iz_iys_res_t *res)
{
    iz_iys_auth_t *au = c->auth;
    json_t *req = use_refresh ? json_pack("{s:s, s:s}", "grant_type", "refresh_token",
                                          "refresh_token", au->refresh)
                              : json_pack("{s:s, s:s, s:s}", "grant_type", "password", "username",
                                          au->conf.username, "password", au->conf.password);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) iz_oom();
    atomic_fetch_add(&c->n_tokens, 1);
    http(c, "POST", "/oauth2/token", text, "application/json", NULL, NULL, res);
    iz_wipe(text, strlen(text));
    free(text);
    if (res->cls != IZ_IYS_OK) {
        if (res->http == 429 && strcmp(res->code, "H084") == 0) {
            /* The hourly token limit; a request inside the blocked hour
             * restarts it, so ask for nothing for an hour. Other 429s (the
             * per-second limit) are ordinary transient failures. */
            au->token_blocked_until = now_s() + TOKEN_BLOCK_S;
            token_save(au);
        } else if (res->http >= 400 && res->http < 500 && res->http != 429) {
            /* Refused: a refresh token İYS will not take is spent, and the
             * stored pair must not be offered again at the next start. */
            if (use_refresh) au->refresh[0] = '\0';
            token_save(au);
        }
        return -1;
    }
    iz_iys_token_answer_t t;
    if (iz_iys_token_read(res->body, &t) != 0) {
        res->cls = IZ_IYS_TRANSIENT;
        snprintf(res->message, sizeof res->message, "token answer without a usable token");
        au->access[0] = '\0';
        return -1;
    }
    memcpy(au->access, t.access, sizeof au->access);
    au->access_exp = now_s() + t.access_ttl;
    memcpy(au->refresh, t.refresh, sizeof au->refresh);
    if (t.refresh[0]) au->refresh_exp = now_s() + t.refresh_ttl;
    iz_wipe(&t, sizeof t);
    token_save(au);
    return 0;
}

/* Whether the URL's hourly token allowance has room for one more request;
 * when not, res says so (TRANSIENT). */
static bool token_allowed(iz_iys_t *c, iz_iys_res_t *res)
{
    if (iz_iys_budget_token(c->budget)) return true;
    memset(res, 0, sizeof *res);
    res->cls = IZ_IYS_TRANSIENT;
    snprintf(res->message, sizeof res->message,
             "this hour's %d token requests to this İYS are used", IZ_IYS_TOKENS_PER_HOUR);
    res->token_failed = true;
    atomic_fetch_add(&c->n_token_blocked, 1);
    return false;
}

/* Make sure an access token with at least TOKEN_MARGIN_S left is held
 * (the auth's lock held). stale, when not NULL, is a token İYS answered
 * 401 to: a new one is asked for unless another thread of the auth's
 * already got one. On failure res holds the reason (TRANSIENT). */
static int ensure_token(iz_iys_t *c, const char *stale, iz_iys_res_t *res)
{
    iz_iys_auth_t *au = c->auth;
    int64_t now = now_s();
    bool fresh = au->access[0] && au->access_exp - TOKEN_MARGIN_S > now;
    if (fresh && (!stale || strcmp(stale, au->access) != 0)) return 0;
    if (au->token_blocked_until > now) {
        memset(res, 0, sizeof *res);
        res->cls = IZ_IYS_TRANSIENT;
        iz_strlcpy(res->code, "H084", sizeof res->code);
        snprintf(res->message, sizeof res->message, "token requests paused for an hour after H084");
        res->token_failed = true;
        atomic_fetch_add(&c->n_token_blocked, 1);
        return -1;
    }
    if (iz_iys_budget_down(c->budget)) {
        /* İYS does not answer: a token request would fail too, and spend
         * one of the hour's; the probe finds out when İYS is back. */
        memset(res, 0, sizeof *res);
        res->cls = IZ_IYS_TRANSIENT;
        snprintf(res->message, sizeof res->message, "İYS does not answer; no token asked");
        return -1;
    }
    au->access[0] = '\0';
    if (!token_allowed(c, res)) return -1;
    if (au->refresh[0] && au->refresh_exp > now) {
        if (token_request(c, true, res) == 0) {
            iz_iys_res_clear(res);
            return 0;
        }
        if (au->token_blocked_until > now_s()) return -1;
        iz_iys_res_clear(res);
        au->refresh[0] = '\0';
        if (!token_allowed(c, res)) return -1;
    }
    if (token_request(c, false, res) == 0) {
        iz_iys_res_clear(res);
        return 0;
    }
    /* Bad credentials are not the change's fault: retry later. */
    res->cls = IZ_IYS_TRANSIENT;
    return -1;
}

/* A call with a bearer token: one new token and one retry on 401 (a 401
 * has no 2xx body, so nothing reached the sink before the retry). */
static int call_to(iz_iys_t *c, const char *method, const char *path, json_t *body,
                   const sink_t *sink, iz_iys_res_t *res)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) iz_oom();
    int rc = 0;
    char bearer[IZ_IYS_TOKEN_MAX];
    for (int attempt = 0; attempt < 2; attempt++) {
        /* Requests of one account (of every partner account, for a
         * shared auth) may run on several threads: one of them gets a
         * new token while the others wait for it. */
        pthread_mutex_lock(&c->auth->mu);
        int trc = ensure_token(c, attempt > 0 ? bearer : NULL, res);
        memcpy(bearer, c->auth->access, sizeof bearer);
        pthread_mutex_unlock(&c->auth->mu);
        if (trc != 0) {
            /* The account's own failure (a refused login, İYS's H084 hour,
             * the hour's token requests used), as opposed to İYS not
             * answering (no answer, 5xx, the per-second 429). */
            if ((res->http >= 400 && res->http < 500 && res->http != 429) ||
                strcmp(res->code, "H084") == 0)
                res->token_failed = true;
            rc = -1;
            break;
        }
        http(c, method, path, text, text ? "application/json" : NULL, bearer, sink, res);
        if (res->http != 401) break;
        if (attempt == 0) iz_iys_res_clear(res);
    }
    iz_wipe(bearer, sizeof bearer);
    free(text);
    return rc;
}

static int call(iz_iys_t *c, const char *method, const char *path, json_t *body, iz_iys_res_t *res)
{
    return call_to(c, method, path, body, NULL, res);
}

json_t *iz_iys_consent_json(const iz_change_t *chg)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "recipient", chg->recipient, "type",
                          iz_type_name(chg->type), "status", iz_status_name(chg->status),
                          "recipientType", iz_rtype_name(chg->rtype));
    if (!o) iz_oom();
    /* İYS wants optional fields omitted, never "" or null (TACIR). */
    if (chg->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(chg->source)));
    if (chg->consent_date) {
        char d[IZ_DATETIME_LEN];
        iz_tr_format(chg->consent_date, d);
        json_object_set_new(o, "consentDate", json_string(d));
    }
    iz_retail_to_json(&chg->retail, o); /* integers, as İYS's Consent schema has them */
    return o;
}

static void sps_path(const iz_iys_t *c, char *out, size_t n, bool v2, int64_t brand,
                     const char *tail)
{
    snprintf(out, n, "%s/sps/%lld/brands/%lld%s", v2 ? "/v2" : "", (long long)c->conf.iys_code,
             (long long)brand, tail);
}

int iz_iys_consent_add(iz_iys_t *c, int64_t brand_code, const iz_change_t *chg, iz_iys_res_t *res)
{
    char path[256];
    sps_path(c, path, sizeof path, true, brand_code, "/consents");
    json_t *body = iz_iys_consent_json(chg);
    int rc = call(c, "POST", path, body, res);
    json_decref(body);
    return rc;
}

int iz_iys_bulk_add(iz_iys_t *c, int64_t brand_code, const iz_change_t *const *chgs, size_t n,
                    iz_iys_res_t *res)
{
    if (n == 0 || n > 1000) return IZ_EINVAL;
    char path[256];
    sps_path(c, path, sizeof path, true, brand_code, "/consents/request");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, iz_iys_consent_json(chgs[i]));
    int rc = call(c, "POST", path, arr, res);
    json_decref(arr);
    return rc;
}

/* A request id goes into a path: only UUID characters. */
static bool safe_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F') || s[n] == '-'))
            return false;
    return n > 0 && n <= 36;
}

int iz_iys_bulk_status(iz_iys_t *c, int64_t brand_code, const char *request_id, iz_iys_res_t *res)
{
    if (!safe_id(request_id)) return IZ_EINVAL;
    char tail[96], path[256];
    snprintf(tail, sizeof tail, "/consents/request/%s", request_id);
    sps_path(c, path, sizeof path, true, brand_code, tail);
    return call(c, "GET", path, NULL, res);
}

int iz_iys_probe(iz_iys_t *c, int64_t brand_code, iz_iys_res_t *res)
{
    char path[256];
    sps_path(c, path, sizeof path, true, brand_code,
             "/consents/request/00000000-0000-4000-8000-000000000000");
    /* With the access token when one is held; without, İYS answers 401,
     * which tells just as well that it is there, and no token request is
     * spent while it may not be. */
    char bearer[IZ_IYS_TOKEN_MAX];
    pthread_mutex_lock(&c->auth->mu);
    bool have = c->auth->access[0] && c->auth->access_exp - TOKEN_MARGIN_S > now_s();
    memcpy(bearer, c->auth->access, sizeof bearer);
    pthread_mutex_unlock(&c->auth->mu);
    http(c, "GET", path, NULL, NULL, have ? bearer : NULL, NULL, res);
    iz_wipe(bearer, sizeof bearer);
    return 0;
}

int iz_iys_status(iz_iys_t *c, int64_t brand_code, const char *recipient, iz_rtype_t rtype,
                  iz_type_t type, iz_iys_res_t *res)
{
    char path[256];
    sps_path(c, path, sizeof path, false, brand_code, "/consents/status");
    json_t *body = json_pack("{s:s, s:s, s:s}", "recipient", recipient, "recipientType",
                             iz_rtype_name(rtype), "type", iz_type_name(type));
    int rc = call(c, "POST", path, body, res);
    json_decref(body);
    return rc;
}

int iz_iys_retailer_create(iz_iys_t *c, int64_t brand_code, json_t *body, iz_iys_res_t *res)
{
    char path[256];
    sps_path(c, path, sizeof path, false, brand_code, "/retailers");
    return call(c, "POST", path, body, res);
}

int iz_iys_retailer_list(iz_iys_t *c, int64_t brand_code, int64_t offset, int limit,
                         iz_iys_res_t *res)
{
    char tail[128], path[256];
    snprintf(tail, sizeof tail, "/retailers?offset=%lld&limit=%d&all=true", (long long)offset,
             limit);
    sps_path(c, path, sizeof path, false, brand_code, tail);
    return call(c, "GET", path, NULL, res);
}

int iz_iys_retailer_delete(iz_iys_t *c, int64_t brand_code, int64_t code, iz_iys_res_t *res)
{
    char tail[64], path[256];
    snprintf(tail, sizeof tail, "/retailers/%lld", (long long)code);
    sps_path(c, path, sizeof path, false, brand_code, tail);
    return call(c, "DELETE", path, NULL, res);
}

int iz_iys_for_account(const iz_account_t *a, const char *default_url, iz_store_t *st,
                       iz_iys_budget_t *budget, long timeout_ms, double rate, iz_iys_t **out)
{
    const char *url = a->iys_url[0] ? a->iys_url : default_url;
    if (!url || !url[0]) return IZ_ENOTFOUND;
    iz_iys_conf_t c = {0};
    iz_strlcpy(c.base_url, url, sizeof c.base_url);
    iz_strlcpy(c.username, a->iys_user, sizeof c.username);
    iz_strlcpy(c.password, a->iys_password, sizeof c.password);
    c.iys_code = a->iys_code;
    c.timeout_ms = timeout_ms;
    c.rate = rate;
    c.budget = budget;
    c.store = st; /* the account's tokens outlive a restart */
    c.account_id = a->id;
    int rc = iz_iys_new(&c, out);
    iz_wipe(c.password, sizeof c.password);
    return rc;
}

int iz_iys_changes(iz_iys_t *c, int64_t brand_code, const char *source, const char *after,
                   int limit, iz_iys_res_t *res)
{
    char tail[512], path[640];
    char *esc = after && *after ? iz_httpc_escape(after) : NULL;
    snprintf(tail, sizeof tail, "/consents/changes?source=%s&limit=%d%s%s", source, limit,
             esc ? "&after=" : "", esc ? esc : "");
    free(esc);
    sps_path(c, path, sizeof path, false, brand_code, tail);
    return call(c, "GET", path, NULL, res);
}

/* ---- reconciliation (MUTABAKAT YÖNETİMİ) ------------------------------------ */

/* A report date goes into a path: only "YYYY-MM-DD". */
static bool safe_date(const char *d)
{
    if (!d || strlen(d) != 10) return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? d[i] != '-' : (d[i] < '0' || d[i] > '9')) return false;
    return true;
}

/* One reconciliation call about date: what + "/" + date + rest under the
 * brand's path ("/changes", "/file" is .../changes/{date}/file). */
static int recon_call(iz_iys_t *c, int64_t brand_code, const char *what, const char *date,
                      const char *rest, const char *method, json_t *body, const sink_t *sink,
                      iz_iys_res_t *res)
{
    if (!safe_date(date)) return IZ_EINVAL;
    char tail[64], path[256];
    snprintf(tail, sizeof tail, "%s/%s%s", what, date, rest);
    sps_path(c, path, sizeof path, false, brand_code, tail);
    return call_to(c, method, path, body, sink, res);
}

int iz_iys_recon_file(iz_iys_t *c, int64_t brand_code, const char *date, iz_httpc_write_fn fn,
                      void *ud, iz_iys_res_t *res)
{
    if (!fn) return IZ_EINVAL;
    sink_t sk = {fn, ud};
    return recon_call(c, brand_code, "/changes", date, "/file", "GET", NULL, &sk, res);
}

int iz_iys_agreement_get(iz_iys_t *c, int64_t brand_code, const char *date, iz_iys_res_t *res)
{
    return recon_call(c, brand_code, "/agreements", date, "", "GET", NULL, NULL, res);
}

int iz_iys_agreement_put(iz_iys_t *c, int64_t brand_code, const char *date, iz_iys_res_t *res)
{
    /* İYS's body is this alone: the hashes were compared before (recon.c). */
    json_t *body = json_pack("{s:b}", "agreementStatus", 1);
    if (!body) iz_oom();
    int rc = recon_call(c, brand_code, "/agreements", date, "", "PUT", body, NULL, res);
    json_decref(body);
    return rc;
}

int iz_iys_recon_timestamp(iz_iys_t *c, int64_t brand_code, const char *date, iz_httpc_write_fn fn,
                           void *ud, iz_iys_res_t *res)
{
    if (!fn) return IZ_EINVAL;
    sink_t sk = {fn, ud};
    return recon_call(c, brand_code, "/agreements", date, "/timestamp", "GET", NULL, &sk, res);
}

int iz_iys_subscription(iz_iys_t *c, iz_iys_res_t *res)
{
    char path[96];
    snprintf(path, sizeof path, "/sps/%lld/subscription", (long long)c->conf.iys_code);
    return call(c, "GET", path, NULL, res);
}

int iz_iys_partner_subscription(iz_iys_t *c, iz_iys_res_t *res)
{
    if (c->conf.integrator_code <= 0) return IZ_EINVAL;
    char path[96];
    snprintf(path, sizeof path, "/integrator/%lld/subscription",
             (long long)c->conf.integrator_code);
    return call(c, "GET", path, NULL, res);
}

int iz_iys_partner_brands(iz_iys_t *c, int offset, int limit, iz_iys_res_t *res)
{
    if (c->conf.integrator_code <= 0 || offset < 0 || limit < 1 || limit > 100) return IZ_EINVAL;
    char path[128];
    snprintf(path, sizeof path, "/integrator/%lld/sps?offset=%d&limit=%d",
             (long long)c->conf.integrator_code, offset, limit);
    return call(c, "GET", path, NULL, res);
}

/* OTP management (ViA Pass) answers errors in a shape of its own:
 * {errorCode, errorMessage} with, for İYS's own refusals (ERR-SYS-0007),
 * subSystemErrorInfo {status, errors [{code, message}]}. The sub-system's
 * H-code is the answer's code when there is one, else errorCode; a
 * sub-system status of 5xx or 429 (H1058 the OTP service unreachable,
 * H083 the per-second limit) is İYS not answering, not a refusal. */
static void otp_error(iz_iys_res_t *res)
{
    if (res->cls == IZ_IYS_OK || !res->body || res->http == 401) return;
    json_t *sub = json_object_get(res->body, "subSystemErrorInfo");
    json_t *e0 = json_array_get(json_object_get(sub, "errors"), 0);
    const char *code = json_string_value(json_object_get(e0, "code"));
    const char *msg = json_string_value(json_object_get(e0, "message"));
    if (!code) {
        code = json_string_value(json_object_get(res->body, "errorCode"));
        msg = json_string_value(json_object_get(res->body, "errorMessage"));
        /* A field error names the field's own message. */
        json_t *f0 = json_array_get(json_object_get(res->body, "data"), 0);
        const char *fmsg = json_string_value(json_object_get(f0, "message"));
        if (fmsg) msg = fmsg;
    }
    if (code) iz_strlcpy(res->code, code, sizeof res->code);
    if (msg) iz_strlcpy(res->message, msg, sizeof res->message);
    json_int_t st = json_integer_value(json_object_get(sub, "status"));
    if (res->http >= 400 && res->http < 500 && res->http != 429 && res->code[0])
        res->cls = st >= 500 || st == 429 ? IZ_IYS_TRANSIENT : IZ_IYS_PERMANENT;
}

int iz_iys_otp_sms_start(iz_iys_t *c, const char *phone, const char *template_id, const char *vkn,
                         iz_iys_res_t *res)
{
    char path[96];
    snprintf(path, sizeof path, "/otp-management/api/v1/%lld/sms/start",
             (long long)c->conf.iys_code);
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "phoneNumber", phone, "templateId", template_id, "vkn", vkn);
    if (!body) iz_oom();
    int rc = call(c, "POST", path, body, res);
    json_decref(body);
    otp_error(res);
    return rc;
}

int iz_iys_otp_sms_complete(iz_iys_t *c, const char *request_id, const char *code,
                            iz_iys_res_t *res)
{
    json_t *body = json_pack("{s:s, s:s}", "requestId", request_id, "otpCode", code);
    if (!body) iz_oom();
    int rc = call(c, "POST", "/otp-management/api/v1/sms/complete", body, res);
    json_decref(body);
    otp_error(res);
    return rc;
}
