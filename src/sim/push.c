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
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/iz.h"
#include "net/client.h"
#include "sim/sim_int.h"

#define PUSH_TIMEOUT_MS 5000
#define PUSH_BATCH 1000
#define PUSH_ANSWER_MAX 4096 /* answer bytes read: only the status matters */

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
        if (!type || !url || !user || !pass) continue;
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
    for (;;) {
        push_round(sim);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += interval / 1000;
        ts.tv_nsec += (interval % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&sim->mu);
        /* Wakes meant for the bulk worker do not shorten the interval. */
        while (!sim->stopping && pthread_cond_timedwait(&sim->wake, &sim->mu, &ts) == 0) {
        }
        bool stop = sim->stopping;
        pthread_mutex_unlock(&sim->mu);
        if (stop) break;
    }
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
