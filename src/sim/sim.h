/*
 * sim.h - the İYS emulator (`izin iys-sim`): İYS's API under its real paths
 * with its rules, codes and limits; administration, fault injection and
 * statistics under /_sim/; the citizen portal /vatandas and complaints.
 *
 * The CLI opens an emulator with iz_sim_open() and serves iz_sim_routes()
 * with iz_sim_gate/iz_sim_complete as the HTTP server's hooks and the
 * iz_sim_t as its app.
 */
#ifndef IZ_SIM_H
#define IZ_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/trtime.h"
#include "net/http.h"

typedef struct iz_sim_config {
    const char *data_dir;          /* the emulator's store: DIR/iys-sim.db */
    int bulk_delay;                /* s before a bulk request is processed (2) */
    int min_poll;                  /* s before a bulk status may be polled (0; İYS: 300) */
    int rate;                      /* requests a second per client address (10; 0 = off) */
    int token_limit;               /* token requests an hour per client (100; 0 = off) */
    int status_limit;              /* single status queries an hour per client (1000; 0 = off) */
    int history_limit;             /* history queries an hour per client (100; 0 = off) */
    int pull_lag;                  /* s: the change pull leaves out younger changes (3600) */
    int watch_min;                 /* requests in 24 h before the 70% watch judges (20000) */
    int push_interval_ms;          /* how often push deliveries are attempted (1000) */
    bool allow_http_push;          /* take http:// push URLs too (tests); İYS: https only */
    int otp_ttl;                   /* s an OTP code of ViA / ViA Pass is valid (180) */
    int link_ttl;                  /* s a ViA / ViA Pass short link is valid (86400) */
    const iz_holidays_t *holidays; /* not owned; never NULL */
} iz_sim_config_t;

/* Defaults as above. */
void iz_sim_config_defaults(iz_sim_config_t *cfg);

typedef struct iz_sim iz_sim_t;

/* Open the store and start the background workers (bulk processing, push
 * delivery). */
int iz_sim_open(const iz_sim_config_t *cfg, iz_sim_t **out, const char **err);

/* Stop the workers and close the store. */
void iz_sim_close(iz_sim_t *sim);

/* The emulator's routes (static table); app is the iz_sim_t. */
const iz_route_t *iz_sim_routes(size_t *n);

/* HTTP hooks: rate limits and injected faults before a handler, statistics
 * and the success-rate watch after each answer. */
bool iz_sim_gate(void *app, iz_req_t *r);
void iz_sim_complete(void *app, const iz_req_t *r);

/* Check the hash chain of the emulator's store in dir: 0 intact, IZ_ERULE
 * with *bad_id the first broken link. */
int iz_sim_verify_dir(const char *dir, int64_t *bad_id, const char **err);

#endif
