/*
 * gate.c - what stands in front of the emulator's İYS API and what it
 * counts after each answer: injected faults, İYS's rate limits, request
 * statistics and the 70% success-rate watch.
 *
 * Only İYS API routes (every tag but "_sim" and "web") are gated: the
 * administration, the citizen's pages and /healthz must keep answering while
 * a test makes İYS misbehave. The order is latency, outage (503 H192), the
 * 429 window (429 H124), the per-second limit (H124), the hourly limits
 * (token H084 with İYS's restart rule, status H086, history H089), and last
 * the share of 500 H015 / 503 H192 answers.
 *
 * State is in memory behind one mutex and is lost on restart, as İYS's own
 * counters would be to a client. The per-client table is bounded: beyond
 * MAX_CLIENTS addresses the one seen longest ago is forgotten. The
 * per-second limit is the page kit's keyed counter (net/ratelimit.h) with a
 * window of one second, bounded the same way. Every limit is keyed by the
 * client's address alone (the connection's peer), as İYS counts a client
 * IP: all the providers and tokens calling from one address share one
 * budget.
 *
 * The watch: per client, requests and failures in hourly buckets over the
 * last 24 hours. Every 4xx but 429 is a failure (İYS names 400, 401, 403,
 * 404 and 422; 405, 413 and 415 are client errors just the same). A 429 or
 * a 5xx is counted as a request but not as a failure: the limit and the
 * server's own faults are not the client's invalid requests. With at least
 * cfg.watch_min requests in 24 h and under 70% success the client is
 * warned; İYS would drop it from its whitelist after 96 hours below, which
 * the statistics report (wouldBeRemoved) without blocking anyone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hcode.h"
#include "core/iz.h"
#include "core/trtime.h"
#include "net/ratelimit.h"
#include "sim/sim_int.h"
#include "sys/log.h"

#define MAX_CLIENTS 10000
#define CLIENT_BUCKETS 4096
#define MAX_EP 512 /* (tag, status) pairs counted */
#define HOUR 3600
#define WATCH_HOURS 24
#define REMOVE_AFTER_HOURS 96

enum { HIT_H124, HIT_H084, HIT_H086, HIT_H089, HIT_N };
static const char *const hit_codes[HIT_N] = {"H124", "H084", "H086", "H089"};

/* An hourly limit's window. */
typedef struct window {
    int64_t start;         /* when the counting hour began */
    int64_t count;         /* accepted requests in it */
    int64_t blocked_until; /* refusing until then */
} window_t;

typedef struct client {
    char addr[64];
    struct client *next; /* hash chain */
    int64_t last_seen;
    window_t token, status, history;
    struct {
        int64_t hour; /* epoch / 3600 */
        int64_t requests, failures;
    } bucket[WATCH_HOURS];
    bool warning;
    int64_t below_since;
} client_t;

typedef struct ep_count {
    const char *tag; /* static: the route table's, or "unrouted" */
    int status;
    int64_t n;
} ep_count_t;

struct iz_sim_ops {
    pthread_mutex_t mu;
    iz__sim_faults_t faults;
    double error_acc; /* accumulates error_rate; a fault each time it passes 1 */
    unsigned error_n; /* alternates 500 and 503 */
    int64_t injected_500, injected_503, injected_429, outage_503;
    int64_t hits[HIT_N];
    ep_count_t ep[MAX_EP];
    size_t nep;
    client_t *table[CLIENT_BUCKETS];
    size_t nclients;
    iz_ratelimit_t *per_second; /* cfg.rate a second per address; NULL when off */
};

int iz__sim_ops_new(const iz_sim_config_t *cfg, iz_sim_ops_t **out)
{
    iz_sim_ops_t *ops = iz_xcalloc(1, sizeof *ops);
    if (cfg->rate > 0) {
        int rc = iz_ratelimit_new(MAX_CLIENTS, cfg->rate, 1, &ops->per_second);
        if (rc != 0) {
            free(ops);
            return rc;
        }
    }
    pthread_mutex_init(&ops->mu, NULL);
    *out = ops;
    return 0;
}

void iz__sim_ops_free(iz_sim_ops_t *ops)
{
    if (!ops) return;
    for (size_t i = 0; i < CLIENT_BUCKETS; i++) {
        client_t *c = ops->table[i];
        while (c) {
            client_t *next = c->next;
            free(c);
            c = next;
        }
    }
    iz_ratelimit_free(ops->per_second);
    pthread_mutex_destroy(&ops->mu);
    free(ops);
}

/* İYS API routes are gated and watched; administration and pages are not. */
static bool is_api_tag(const char *tag)
{
    return tag && strcmp(tag, "_sim") != 0 && strcmp(tag, "web") != 0;
}

/* An unrouted request counts against a client when it was aimed at İYS's
 * API (a wrong path there is a client error İYS would count). */
static bool is_api_path(const char *path)
{
    return path && (strncmp(path, "/sps/", 5) == 0 || strncmp(path, "/v2/", 4) == 0 ||
                    strncmp(path, "/oauth2/", 8) == 0);
}

static size_t hash_addr(const char *s)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h % CLIENT_BUCKETS;
}

/* Forget the client seen longest ago (called with the table full). */
static void evict_oldest(iz_sim_ops_t *ops)
{
    client_t **victim = NULL;
    for (size_t i = 0; i < CLIENT_BUCKETS; i++)
        for (client_t **pp = &ops->table[i]; *pp; pp = &(*pp)->next)
            if (!victim || (*pp)->last_seen < (*victim)->last_seen) victim = pp;
    if (!victim) return;
    client_t *c = *victim;
    *victim = c->next;
    free(c);
    ops->nclients--;
}

/* The client of addr, created when new. Called with ops->mu held. */
static client_t *client_get(iz_sim_ops_t *ops, const char *addr, int64_t now)
{
    if (!addr) addr = "";
    size_t h = hash_addr(addr);
    for (client_t *c = ops->table[h]; c; c = c->next)
        if (strcmp(c->addr, addr) == 0) {
            c->last_seen = now;
            return c;
        }
    if (ops->nclients >= MAX_CLIENTS) evict_oldest(ops);
    client_t *c = iz_xcalloc(1, sizeof *c);
    iz_strlcpy(c->addr, addr, sizeof c->addr);
    c->last_seen = now;
    c->next = ops->table[h];
    ops->table[h] = c;
    ops->nclients++;
    return c;
}

/* One request against an hourly limit: true when it is refused. With
 * restart (İYS's token rule) a request inside the blocked hour starts the
 * hour again; otherwise the block ends with the counting hour. */
static bool hour_limit(window_t *w, int limit, int64_t now, bool restart)
{
    if (w->blocked_until > now) {
        if (restart) w->blocked_until = now + HOUR;
        return true;
    }
    if (now - w->start >= HOUR) {
        w->start = now;
        w->count = 0;
    }
    if (w->count >= limit) {
        w->blocked_until = restart ? now + HOUR : w->start + HOUR;
        return true;
    }
    w->count++;
    return false;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void reply_503(iz_req_t *r, int64_t retry_after)
{
    if (retry_after > 0) {
        char v[24];
        snprintf(v, sizeof v, "%lld", (long long)retry_after);
        iz_reply_header(r, "Retry-After", v);
    }
    iz_error_t e = {.code = "H192",
                    .message = iz_req_english(r) ? "The request timed out."
                                                 : "İstek zaman aşımına uğradı.",
                    .index = -1};
    iz_reply_errors(r, 503, &e, 1);
}

static void reply_429(iz_req_t *r, const char *code, int64_t retry_after)
{
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)(retry_after > 0 ? retry_after : 1));
    iz_reply_header(r, "Retry-After", v);
    iz_reply_error(r, code, NULL);
}

/* What the gate decided, made under the lock and answered outside it. */
typedef enum { PASS, OUTAGE, WIN429, LIMIT, FAIL500, FAIL503 } verdict_t;

bool iz_sim_gate(void *app, iz_req_t *r)
{
    iz_sim_t *sim = app;
    iz_sim_ops_t *ops = sim->ops;
    const iz_route_t *rt = iz_req_route(r);
    const char *tag = rt ? rt->tag : NULL;
    if (!is_api_tag(tag)) return false;

    pthread_mutex_lock(&ops->mu);
    int latency = ops->faults.latency_ms;
    pthread_mutex_unlock(&ops->mu);
    if (latency > 0) sleep_ms(latency);

    int64_t now = (int64_t)time(NULL);
    verdict_t v = PASS;
    const char *code = NULL;
    int64_t retry = 0;
    pthread_mutex_lock(&ops->mu);
    client_t *c = client_get(ops, iz_req_remote(r), now);
    const iz_sim_config_t *cfg = &sim->cfg;
    if (ops->faults.outage_until > now) {
        v = OUTAGE;
        retry = ops->faults.outage_until - now;
        ops->outage_503++;
    } else if (ops->faults.until_429 > now) {
        v = WIN429;
        code = "H124";
        retry = ops->faults.until_429 - now;
        ops->injected_429++;
    }
    if (v == PASS && ops->per_second &&
        iz_ratelimit_hit(ops->per_second, c->addr, now, &retry) != 0) {
        v = LIMIT;
        code = "H124";
        ops->hits[HIT_H124]++;
    }
    if (v == PASS) {
        window_t *w = NULL;
        int limit = 0, hit = 0;
        bool restart = false;
        if (strcmp(tag, "token") == 0) {
            w = &c->token;
            limit = cfg->token_limit;
            hit = HIT_H084;
            restart = true;
        } else if (strcmp(tag, "status") == 0) {
            w = &c->status;
            limit = cfg->status_limit;
            hit = HIT_H086;
        } else if (strcmp(tag, "history") == 0) {
            w = &c->history;
            limit = cfg->history_limit;
            hit = HIT_H089;
        }
        if (w && limit > 0 && hour_limit(w, limit, now, restart)) {
            v = LIMIT;
            code = hit_codes[hit];
            retry = w->blocked_until - now;
            ops->hits[hit]++;
        }
    }
    if (v == PASS && ops->faults.error_rate > 0) {
        ops->error_acc += ops->faults.error_rate;
        if (ops->error_acc >= 1.0 - 1e-9) {
            ops->error_acc -= 1.0;
            if (ops->error_acc < 0) ops->error_acc = 0;
            v = (ops->error_n++ % 2 == 0) ? FAIL500 : FAIL503;
            if (v == FAIL500)
                ops->injected_500++;
            else
                ops->injected_503++;
        }
    }
    pthread_mutex_unlock(&ops->mu);

    switch (v) {
    case PASS:
        return false;
    case OUTAGE:
        reply_503(r, retry);
        return true;
    case WIN429:
    case LIMIT:
        reply_429(r, code, retry);
        return true;
    case FAIL500:
        iz_reply_error(r, "H015", NULL);
        return true;
    case FAIL503:
        reply_503(r, 0);
        return true;
    }
    return false;
}

static void count_endpoint(iz_sim_ops_t *ops, const char *tag, int status)
{
    for (size_t i = 0; i < ops->nep; i++)
        if (ops->ep[i].status == status && strcmp(ops->ep[i].tag, tag) == 0) {
            ops->ep[i].n++;
            return;
        }
    if (ops->nep >= MAX_EP) return; /* bounded: further pairs are not counted */
    ops->ep[ops->nep++] = (ep_count_t){.tag = tag, .status = status, .n = 1};
}

/* Sums of a client's buckets over the last 24 hours. */
static void client_sums(const client_t *c, int64_t now, int64_t *req, int64_t *fail)
{
    int64_t hour = now / HOUR;
    *req = *fail = 0;
    for (int i = 0; i < WATCH_HOURS; i++) {
        if (c->bucket[i].hour > hour - WATCH_HOURS && c->bucket[i].hour <= hour) {
            *req += c->bucket[i].requests;
            *fail += c->bucket[i].failures;
        }
    }
}

static bool is_failure(int status)
{
    return status >= 400 && status < 500 && status != 429;
}

/* Below 70% success with enough requests to judge. */
static bool below_watch(int64_t req, int64_t fail, int watch_min)
{
    return req > 0 && req >= watch_min && (req - fail) * 10 < req * 7;
}

void iz_sim_complete(void *app, const iz_req_t *r)
{
    iz_sim_t *sim = app;
    iz_sim_ops_t *ops = sim->ops;
    const iz_route_t *rt = iz_req_route(r);
    const char *tag = rt && rt->tag ? rt->tag : "unrouted";
    int status = iz_req_status(r);
    bool watched = rt ? is_api_tag(rt->tag) : is_api_path(iz_req_path(r));
    int64_t now = (int64_t)time(NULL);

    pthread_mutex_lock(&ops->mu);
    count_endpoint(ops, tag, status);
    if (watched) {
        client_t *c = client_get(ops, iz_req_remote(r), now);
        int64_t hour = now / HOUR;
        int slot = (int)(hour % WATCH_HOURS);
        if (c->bucket[slot].hour != hour) {
            c->bucket[slot].hour = hour;
            c->bucket[slot].requests = 0;
            c->bucket[slot].failures = 0;
        }
        c->bucket[slot].requests++;
        if (is_failure(status)) c->bucket[slot].failures++;
        int64_t req, fail;
        client_sums(c, now, &req, &fail);
        bool below = below_watch(req, fail, sim->cfg.watch_min);
        if (below && !c->warning) {
            c->warning = true;
            c->below_since = now;
            iz_logf(IZ_LOG_WARN, "sim",
                    "client below 70% success in 24 h: warned; İYS removes such a client "
                    "from its whitelist",
                    "client=%s failed=%lld requests=%lld remove_after_hours=%d", c->addr,
                    (long long)fail, (long long)req, REMOVE_AFTER_HOURS);
        } else if (!below && c->warning) {
            c->warning = false;
            c->below_since = 0;
            iz_logf(IZ_LOG_INFO, "sim", "client back at or above 70% success", "client=%s",
                    c->addr);
        }
    }
    pthread_mutex_unlock(&ops->mu);
}

void iz__sim_faults_set(iz_sim_ops_t *ops, const iz__sim_faults_t *f)
{
    pthread_mutex_lock(&ops->mu);
    ops->faults = *f;
    ops->error_acc = 0;
    ops->error_n = 0;
    pthread_mutex_unlock(&ops->mu);
}

/* Called with ops->mu held. */
static json_t *faults_json_locked(iz_sim_ops_t *ops, int64_t now)
{
    const iz__sim_faults_t *f = &ops->faults;
    int64_t w429 = f->until_429 > now ? f->until_429 - now : 0;
    int64_t out = f->outage_until > now ? f->outage_until - now : 0;
    json_t *j =
        json_pack("{s:i, s:f, s:I, s:I}", "latencyMs", f->latency_ms, "errorRate", f->error_rate,
                  "status429Seconds", (json_int_t)w429, "outageSeconds", (json_int_t)out);
    if (!j) iz_oom();
    return j;
}

json_t *iz__sim_faults_json(iz_sim_ops_t *ops)
{
    pthread_mutex_lock(&ops->mu);
    json_t *j = faults_json_locked(ops, (int64_t)time(NULL));
    pthread_mutex_unlock(&ops->mu);
    return j;
}

/* A block's end as İYS's date text, or null when not blocked. */
static json_t *blocked_json(const window_t *w, int64_t now)
{
    if (w->blocked_until <= now) return json_null();
    char t[IZ_DATETIME_LEN];
    iz_tr_format(w->blocked_until, t);
    return json_string(t);
}

json_t *iz__sim_stats_json(iz_sim_t *sim)
{
    iz_sim_ops_t *ops = sim->ops;
    int64_t now = (int64_t)time(NULL);
    json_t *endpoints = json_object();
    json_t *clients = json_object();
    json_t *hits = json_object();
    pthread_mutex_lock(&ops->mu);
    for (size_t i = 0; i < ops->nep; i++) {
        json_t *t = json_object_get(endpoints, ops->ep[i].tag);
        if (!t) {
            t = json_object();
            json_object_set_new(endpoints, ops->ep[i].tag, t);
        }
        char st[16];
        snprintf(st, sizeof st, "%d", ops->ep[i].status);
        json_object_set_new(t, st, json_integer(ops->ep[i].n));
    }
    for (size_t b = 0; b < CLIENT_BUCKETS; b++) {
        for (const client_t *c = ops->table[b]; c; c = c->next) {
            int64_t req, fail;
            client_sums(c, now, &req, &fail);
            int64_t below_h = c->warning ? (now - c->below_since) / HOUR : 0;
            json_t *o =
                json_pack("{s:I, s:I, s:f, s:b, s:I, s:b, s:{s:o, s:o, s:o}}", "requests24h",
                          (json_int_t)req, "failures24h", (json_int_t)fail, "successRate",
                          req > 0 ? (double)(req - fail) / (double)req : 1.0, "warning", c->warning,
                          "hoursBelow", (json_int_t)below_h, "wouldBeRemoved",
                          c->warning && below_h >= REMOVE_AFTER_HOURS, "blockedUntil", "token",
                          blocked_json(&c->token, now), "status", blocked_json(&c->status, now),
                          "history", blocked_json(&c->history, now));
            if (!o) iz_oom();
            if (c->warning) {
                char t[IZ_DATETIME_LEN];
                iz_tr_format(c->below_since, t);
                json_object_set_new(o, "belowSince", json_string(t));
            }
            json_object_set_new(clients, c->addr, o);
        }
    }
    for (int i = 0; i < HIT_N; i++)
        json_object_set_new(hits, hit_codes[i], json_integer(ops->hits[i]));
    json_t *faults = faults_json_locked(ops, now);
    json_t *injected =
        json_pack("{s:I, s:I, s:I, s:I}", "500", (json_int_t)ops->injected_500, "503",
                  (json_int_t)ops->injected_503, "429", (json_int_t)ops->injected_429, "outage503",
                  (json_int_t)ops->outage_503);
    pthread_mutex_unlock(&ops->mu);
    const iz_sim_config_t *cfg = &sim->cfg;
    json_t *out = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i}}", "endpoints",
        endpoints, "clients", clients, "rateLimitHits", hits, "faults", faults, "injected",
        injected, "watch", "minRequests", cfg->watch_min, "minSuccessPercent", 70,
        "removeAfterHours", REMOVE_AFTER_HOURS, "limits", "perSecond", cfg->rate, "tokenPerHour",
        cfg->token_limit, "statusPerHour", cfg->status_limit, "historyPerHour", cfg->history_limit);
    if (!out) iz_oom();
    return out;
}
