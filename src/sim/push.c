/*
 * push.c - the emulator's push delivery: İYS POSTs the IYS_* changes of a
 * brand (a citizen's own changes on İYS's channels) to the connections the
 * provider registered with POST .../push/registration.
 *
 * Every cfg.push_interval_ms the worker reads each registration, takes the
 * brand's IYS_* changes after its cursor (no pull lag: a push is
 * immediate), and POSTs {list:[...]} to every connection whose type has
 * changes, with HTTP Basic auth and a 5 s timeout. The cursor advances only
 * when every such connection answered 2xx; otherwise the same changes are
 * sent again on the next round, so delivery is at least once and in order.
 *
 * The POSTs go through the emulator's one net/client (sim->push_http), which
 * the worker and the registration handler (its test POST) share.
 *
 * A brand's registration is one JSON array of connections {url, type,
 * username, password, status, time}: status "active" (delivered to),
 * "failed" (its test POST was not answered 2xx: İYS lists it as "Bağlantı
 * Oluşturulamadı") or "removed" (unregistered), time when it got that
 * status. A connection is known by its url and type: registering it again
 * replaces it. Rows stored before statuses existed have neither field and
 * count as active.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "core/trtime.h"
#include "net/client.h"
#include "sim/sim_int.h"

#define PUSH_TIMEOUT_MS 5000
#define PUSH_BATCH 1000
#define PUSH_ANSWER_MAX 4096 /* answer bytes read: only the status matters */
#define PUSH_URL_MAX 2048
#define PUSH_CRED_MAX 256 /* username, password */
#define PUSH_PER_TYPE 2   /* active connections per consent type */
#define PUSH_CONN_MAX 16  /* connections in one registration body */
#define PUSH_KEPT_MAX 16  /* connections a brand's list keeps (failed and removed ones go first) */

/* True when a stored connection receives pushes. */
static bool conn_active(json_t *c)
{
    const char *st = json_string_value(json_object_get(c, "status"));
    return !st || strcmp(st, "active") == 0;
}

static bool stopping(iz_sim_t *sim)
{
    pthread_mutex_lock(&sim->mu);
    bool s = sim->stopping;
    pthread_mutex_unlock(&sim->mu);
    return s;
}

/* The abort check of a push: the emulator is stopping. */
static bool abort_push(void *ud)
{
    return stopping(ud);
}

int iz__sim_push_post(iz_sim_t *sim, const char *url, const char *user, const char *pass,
                      const char *body)
{
    iz_httpc_req_t rq = {.method = "POST",
                         .url = url,
                         .body = body,
                         .body_len = strlen(body),
                         .content_type = "application/json",
                         .user = user,
                         .password = pass,
                         .timeout_ms = PUSH_TIMEOUT_MS,
                         .max_body = PUSH_ANSWER_MAX,
                         .abort = abort_push,
                         .abort_ud = sim};
    iz_httpc_res_t res = {0};
    int rc = iz_httpc_do(sim->push_http, &rq, &res);
    bool timed_out = res.timed_out;
    /* A longer answer than anyone needs is still an answer: its status
     * decides. */
    bool ok = (rc == 0 || rc == IZ_ETOOBIG) && res.status >= 200 && res.status < 300;
    iz_httpc_res_clear(&res);
    if (timed_out) return IZ_EBUSY;
    return ok ? 0 : IZ_EIO;
}

/* Deliver one brand's pending changes; true when its cursor may advance
 * past all of them. */
static bool deliver(iz_sim_t *sim, const iz_sim_push_t *p, const iz_sim_change_t *list, size_t n)
{
    json_t *conns = json_loads(p->connections ? p->connections : "[]", 0, NULL);
    bool ok = true;
    size_t i;
    json_t *c;
    json_array_foreach(conns, i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *url = json_string_value(json_object_get(c, "url"));
        const char *user = json_string_value(json_object_get(c, "username"));
        const char *pass = json_string_value(json_object_get(c, "password"));
        if (!type || !url || !user || !pass || !conn_active(c)) continue;
        json_t *items = json_array();
        for (size_t k = 0; k < n; k++) {
            if (strcmp(iz_type_name(list[k].type), type) != 0) continue;
            json_t *o = iz__sim_change_json(&list[k]);
            json_object_set_new(o, "iysCode", json_integer(list[k].iys_code));
            json_object_set_new(o, "brandCode", json_integer(list[k].brand_code));
            json_array_append_new(items, o);
        }
        if (json_array_size(items) > 0) {
            json_t *body = json_pack("{s:o}", "list", items);
            char *text = json_dumps(body, JSON_COMPACT);
            json_decref(body);
            if (!text) iz_oom();
            if (iz__sim_push_post(sim, url, user, pass, text) != 0) ok = false;
            free(text);
        } else {
            json_decref(items);
        }
        if (stopping(sim)) ok = false;
    }
    json_decref(conns);
    return ok;
}

static void push_round(iz_sim_t *sim)
{
    iz_sim_push_t *regs = NULL;
    size_t nregs = 0;
    if (iz_sim_push_list(sim->st, &regs, &nregs) != 0) return;
    for (size_t i = 0; i < nregs && !stopping(sim); i++) {
        iz_sim_change_t *list = NULL;
        size_t n = 0;
        if (iz_sim_changes(sim->st, regs[i].iys_code, regs[i].brand_code, true, regs[i].cursor, 0,
                           INT64_MAX, PUSH_BATCH, &list, &n) == 0 &&
            n > 0 && deliver(sim, &regs[i], list, n))
            iz_sim_push_advance(sim->st, regs[i].iys_code, regs[i].brand_code, list[n - 1].id);
        free(list);
    }
    iz_sim_push_list_free(regs, nregs);
}

static void *push_main(void *arg)
{
    iz_sim_t *sim = arg;
    long interval = sim->cfg.push_interval_ms > 0 ? sim->cfg.push_interval_ms : 1000;
    do {
        push_round(sim);
    } while (!iz__sim_nap(sim, interval));
    return NULL;
}

int iz__sim_push_start(iz_sim_t *sim)
{
    int rc = iz_httpc_new(NULL, &sim->push_http);
    if (rc != 0) return rc;
    if (pthread_create(&sim->push_thread, NULL, push_main, sim) != 0) return IZ_EIO;
    sim->push_started = true;
    return 0;
}

/* ---- POST, GET .../push/registration, POST .../push/unregistration ----- */

/* The test payload İYS sends to a new connection (its documented sample). */
static const char push_test_body[] =
    "{\"list\":[{\"iysCode\":121212,\"brandCode\":121212,"
    "\"consentDate\":\"2015-05-01 15:00:00\",\"creationDate\":\"2015-05-01 15:00:00\","
    "\"source\":\"IYS_MOBIL\",\"recipient\":\"pushtest@iys.org.tr\","
    "\"recipientType\":\"BIREYSEL\",\"status\":\"ONAY\",\"type\":\"EPOSTA\","
    "\"transactionId\":\"e52ee30512adfcd2a41fb3b4682f5bd61eee5b1c92bda665fc0b7e56644d429d\"}]}";

static bool str_field_ok(json_t *v, size_t max)
{
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
           !memchr(json_string_value(v), '\0', json_string_length(v));
}

/* Check one connection object (of a registration or an unregistration);
 * NULL when valid, else the error (code, location, message) through the
 * out-parameters. */
static const char *check_connection(const iz_sim_t *sim, json_t *c, const char **loc,
                                    const char **msg)
{
    *msg = NULL;
    if (!json_is_object(c)) {
        *loc = "connection";
        *msg = "Bağlantı oluşturulamadı.";
        return "H530";
    }
    json_t *url = json_object_get(c, "url"), *type = json_object_get(c, "type");
    *loc = "url";
    /* İYS takes https only; --allow-http-push lets tests receive pushes on
     * loopback without certificates. */
    const char *u = json_string_value(url);
    if (!str_field_ok(url, PUSH_URL_MAX) ||
        (strncmp(u, "https://", 8) != 0 &&
         !(sim->cfg.allow_http_push && strncmp(u, "http://", 7) == 0))) {
        *msg = "Bağlantı linki (url) https ile başlamalıdır.";
        return "H531";
    }
    *loc = "type";
    iz_type_t t;
    if (!type || json_is_null(type)) return "H111";
    if (!json_is_string(type) || json_string_length(type) > 16 ||
        iz_type_parse(json_string_value(type), &t) != 0)
        return "H117";
    *loc = "username";
    if (!str_field_ok(json_object_get(c, "username"), PUSH_CRED_MAX)) {
        *msg = "Kullanıcı adı (username) bulunamadı.";
        return "H093";
    }
    *loc = "password";
    if (!str_field_ok(json_object_get(c, "password"), PUSH_CRED_MAX)) {
        *msg = "Şifre (password) bulunamadı.";
        return "H093";
    }
    return NULL;
}

/* Answer check_connection's error; index -1 for an unregistration's body. */
static void reply_connection_error(iz_req_t *r, json_t *c, const char *code, const char *loc,
                                   const char *msg, int index)
{
    iz_error_t e = {.code = code,
                    .message = msg,
                    .location = loc,
                    .value = json_is_object(c) ? json_object_get(c, loc) : NULL,
                    .index = index};
    iz_reply_errors(r, 422, &e, 1);
}

/* The brand's stored connections (a new reference; an empty array when
 * none); *registered tells whether the brand has a registration row. */
static json_t *stored_connections(iz_sim_t *sim, int64_t iys, int64_t brand, bool *registered)
{
    iz_sim_push_t *list = NULL;
    size_t n = 0;
    json_t *out = NULL;
    *registered = false;
    if (iz_sim_push_list(sim->st, &list, &n) == 0) {
        for (size_t i = 0; i < n && !out; i++)
            if (list[i].iys_code == iys && list[i].brand_code == brand) {
                *registered = true;
                if (list[i].connections) out = json_loads(list[i].connections, 0, NULL);
            }
        iz_sim_push_list_free(list, n);
    }
    if (!json_is_array(out)) {
        json_decref(out);
        out = json_array();
    }
    return out;
}

static bool same_connection(json_t *a, json_t *b)
{
    return json_equal(json_object_get(a, "url"), json_object_get(b, "url")) &&
           json_equal(json_object_get(a, "type"), json_object_get(b, "type"));
}

/* Put connection c (its four fields) into list with status and time now,
 * replacing the one with its url and type. */
static void upsert_connection(json_t *list, json_t *c, const char *status, int64_t now)
{
    json_t *clean = json_pack(
        "{s:O, s:O, s:O, s:O, s:s, s:I}", "url", json_object_get(c, "url"), "type",
        json_object_get(c, "type"), "username", json_object_get(c, "username"), "password",
        json_object_get(c, "password"), "status", status, "time", (json_int_t)now);
    if (!clean) iz_oom();
    size_t k;
    json_t *old;
    json_array_foreach(list, k, old)
    {
        if (same_connection(old, clean)) {
            json_array_set_new(list, k, clean);
            return;
        }
    }
    json_array_append_new(list, clean);
}

/* Keep the list within PUSH_KEPT_MAX: the oldest inactive entries go. */
static void trim_connections(json_t *list)
{
    while (json_array_size(list) > PUSH_KEPT_MAX) {
        size_t k, victim = SIZE_MAX;
        json_int_t oldest = 0;
        json_t *c;
        json_array_foreach(list, k, c)
        {
            json_int_t t = json_integer_value(json_object_get(c, "time"));
            if (!conn_active(c) && (victim == SIZE_MAX || t < oldest)) {
                victim = k;
                oldest = t;
            }
        }
        if (victim == SIZE_MAX) return; /* only active ones: bounded by PUSH_PER_TYPE */
        json_array_remove(list, victim);
    }
}

/* Store the brand's list. The delivery cursor starts at the end of the log
 * when the brand had no active connection (nothing older is pushed to a new
 * registration) and is kept otherwise (an added connection does not make
 * the others lose what they have not received yet). */
static int save_connections(iz_sim_t *sim, int64_t iys, int64_t brand, json_t *list,
                            bool had_active)
{
    trim_connections(list);
    char *text = json_dumps(list, JSON_COMPACT);
    if (!text) iz_oom();
    int rc = had_active ? iz_sim_push_replace(sim->st, iys, brand, text)
                        : iz_sim_push_set(sim->st, iys, brand, text);
    free(text);
    return rc;
}

/* Store the brand's list (taking its reference) and answer 200 with
 * message, or 500 H412. */
static void save_and_reply(iz_req_t *r, iz_sim_t *sim, const iz__sim_auth_t *a, json_t *list,
                           bool had_active, const char *message)
{
    int rc = save_connections(sim, a->iys, a->brand, list, had_active);
    json_decref(list);
    if (rc != 0) {
        iz_reply_error(r, "H412", NULL);
        return;
    }
    iz_reply_json(r, 200, json_pack("{s:s}", "message", message));
}

static bool any_active(json_t *list)
{
    size_t k;
    json_t *c;
    json_array_foreach(list, k, c)
    {
        if (conn_active(c)) return true;
    }
    return false;
}

void iz__sim_h_push_register(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0) return;
    json_t *body = iz_req_json(r);
    if (!body) return;
    json_t *conns = json_is_object(body) ? json_object_get(body, "connection") : NULL;
    if (!json_is_array(conns) || json_array_size(conns) == 0 ||
        json_array_size(conns) > PUSH_CONN_MAX) {
        iz_error_t e = {.code = "H530",
                        .message = "Bağlantı oluşturulamadı.",
                        .location = "connection",
                        .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        json_decref(body);
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(conns, i, c)
    {
        const char *loc, *msg;
        const char *code = check_connection(sim, c, &loc, &msg);
        if (code) {
            reply_connection_error(r, c, code, loc, msg, (int)i);
            json_decref(body);
            return;
        }
        /* An integrator registers for the types it may read. */
        iz_type_t t = IZ_TYPE_NONE;
        (void)iz_type_parse(json_string_value(json_object_get(c, "type")), &t);
        if (iz__sim_may(r, &a, IZ_RIGHT_READ, t) != 0) {
            json_decref(body);
            return;
        }
    }

    /* Merge with the brand's connections: the same (url, type) is replaced,
     * others are added; at most PUSH_PER_TYPE active ones per type. */
    int64_t now = time(NULL);
    bool registered;
    json_t *current = stored_connections(sim, a.iys, a.brand, &registered);
    bool had_active = any_active(current);
    json_t *merged = json_deep_copy(current);
    json_array_foreach(conns, i, c) upsert_connection(merged, c, "active", now);
    static const char *const types[] = {"ARAMA", "MESAJ", "EPOSTA"};
    for (size_t t = 0; t < IZ_ARRAY_LEN(types); t++) {
        size_t count = 0, k;
        json_t *old;
        json_array_foreach(merged, k, old)
        {
            const char *ty = json_string_value(json_object_get(old, "type"));
            if (conn_active(old) && ty && strcmp(ty, types[t]) == 0) count++;
        }
        if (count > PUSH_PER_TYPE) {
            json_decref(merged);
            json_decref(current);
            json_decref(body);
            iz__sim_field_error(r, "H530",
                                "Bağlantı oluşturulamadı: her izin tipi için en fazla iki "
                                "bağlantı olabilir.",
                                "type", types[t]);
            return;
        }
    }

    /* Like İYS, send the test payload to each new connection first; a
     * connection that does not answer 2xx in 5 s is not created, and is
     * listed as such. */
    json_array_foreach(conns, i, c)
    {
        int rc =
            iz__sim_push_post(sim, json_string_value(json_object_get(c, "url")),
                              json_string_value(json_object_get(c, "username")),
                              json_string_value(json_object_get(c, "password")), push_test_body);
        if (rc != 0) {
            json_decref(merged);
            upsert_connection(current, c, "failed", now);
            bool saved = save_connections(sim, a.iys, a.brand, current, had_active) == 0;
            json_decref(current);
            json_decref(body);
            if (!saved) {
                iz_reply_error(r, "H412", NULL);
                return;
            }
            iz_error_t e = {.code = rc == IZ_EBUSY ? "H191" : "H530",
                            .message = rc == IZ_EBUSY ? "Bağlantı zaman aşımına uğradı."
                                                      : "Bağlantı oluşturulamadı.",
                            .index = (int)i};
            iz_reply_errors(r, 422, &e, 1);
            return;
        }
    }
    json_decref(body);
    json_decref(current);
    save_and_reply(r, sim, &a, merged, had_active, "Bağlantı oluşturuldu");
}

/* İYS's words for a connection's status. */
static const char *status_text(json_t *c)
{
    const char *st = json_string_value(json_object_get(c, "status"));
    if (st && strcmp(st, "failed") == 0) return "Bağlantı Oluşturulamadı";
    if (st && strcmp(st, "removed") == 0) return "Bağlantı Kaldırıldı";
    return "Bağlantı Oluşturuldu";
}

void iz__sim_h_push_list(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0) return;
    bool registered;
    json_t *list = stored_connections(sim, a.iys, a.brand, &registered);
    json_t *out = json_array();
    size_t k;
    json_t *c;
    json_array_foreach(list, k, c)
    {
        json_t *o = json_pack("{s:O, s:O, s:s}", "url", json_object_get(c, "url"), "type",
                              json_object_get(c, "type"), "status", status_text(c));
        if (!o) iz_oom();
        json_t *t = json_object_get(c, "time");
        if (json_is_integer(t)) {
            char buf[IZ_DATETIME_LEN];
            iz_tr_format(json_integer_value(t), buf);
            json_object_set_new(o, "registerTime", json_string(buf));
        }
        json_array_append_new(out, o);
    }
    json_decref(list);
    iz_reply_json(r, 200, out);
}

void iz__sim_h_push_unregister(iz_req_t *r, void *app)
{
    iz_sim_t *sim = app;
    iz__sim_auth_t a;
    if (iz__sim_authorize(r, sim, &a, IZ__AUTH_BRAND) != 0) return;
    json_t *body = iz_req_json(r);
    if (!body) return;
    const char *loc, *msg;
    const char *code = check_connection(sim, body, &loc, &msg);
    if (code) {
        reply_connection_error(r, body, code, loc, msg, -1);
        json_decref(body);
        return;
    }
    bool registered;
    json_t *list = stored_connections(sim, a.iys, a.brand, &registered);
    bool had_active = any_active(list);
    /* The active connection with this url and type, and the credentials it
     * was registered with: the four fields name what is removed. */
    bool found = false;
    size_t k;
    json_t *c;
    json_array_foreach(list, k, c)
    {
        if (conn_active(c) && same_connection(c, body) &&
            json_equal(json_object_get(c, "username"), json_object_get(body, "username")) &&
            json_equal(json_object_get(c, "password"), json_object_get(body, "password"))) {
            found = true;
            break;
        }
    }
    if (!found) {
        json_decref(list);
        json_decref(body);
        iz_error_t e = {.code = "H530", .message = "Bağlantı kaldırılamadı.", .index = -1};
        iz_reply_errors(r, 422, &e, 1);
        return;
    }
    upsert_connection(list, body, "removed", time(NULL));
    json_decref(body);
    save_and_reply(r, sim, &a, list, had_active, "Bağlantı Kaldırıldı");
}
