/*
 * viastore.h - the İYS emulator's store of ViA (consent collected by İYS on
 * a brand's behalf) and ViA Pass / OTP management (İYS verifies a phone or
 * an e-mail address for a provider): tables of the emulator's own SQLite
 * file (simstore.h, migration 4), kept on its connection.
 *
 * Schema
 * ------
 *   (the ViA subscription and its credit: product_subscriptions' VIA row,
 *          simstore.h, since v8; one credit a message İYS sends)
 *   via_config(kind FORM|TEMPLATE|WIDGET, id, iys_code, body) PK(kind, id):
 *          a ViA form (formId), a ViA Pass template (templateId) or a ViA
 *          Frame widget (widgetUUID), as JSON (viaflow.c reads it)
 *   via_requests(request_id PK, iys_code, short_code UNIQUE NULL, created,
 *          body): one process - a ViA consent request, a widget's, or a ViA
 *          Pass verification - with its state as JSON (viaflow.c)
 *   via_kvk(id PK, iys_code, request_id, recipient, type, body): a KVK
 *          consent (AYDINLATMA_METNI, ACIK_RIZA_METNI, YURTDISI_AKTARIM) a
 *          completed ViA process recorded, as JSON
 *   via_messages(id PK, recipient, request_id, created, body): every SMS or
 *          e-mail İYS "sent" (JSON: text, code, shortUrl), which the
 *          emulator shows under /_sim/otp as the person's phone would
 *   via_links(hash PK, iys_code, brand_code, recipient, rtype, created,
 *          expires, used NULL): e-mail opt-out (RET) links
 *   via_nonces(nonce PK, widget, csrf NULL, expires): the nonces a widget's
 *          public-key call hands out, and the CSRF token bound to each
 *
 * Invariants: an OTP code is never stored in via_requests, only its salted
 * hash (the message that carried it is the person's copy, in
 * via_messages); a process changes state only inside a batch
 * (iz_sim_batch_begin) that also writes the consents it records, so a
 * completion and its consents are durable together. Bodies returned
 * through char ** are iz_xmalloc'ed and freed by the caller.
 */
#ifndef IZ_SIM_VIASTORE_H
#define IZ_SIM_VIASTORE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/simstore.h"

#define IZ_VIA_BODY_MAX (256 * 1024) /* bytes of one stored JSON body */

/* ---- forms, templates, widgets ------------------------------------------------ */

/* Create or replace one (kind "FORM", "TEMPLATE" or "WIDGET"). */
int iz_sim_via_config_put(iz_sim_store_t *st, const char *kind, const char *id, int64_t iys_code,
                          const char *body);
/* Its owner and body; IZ_ENOTFOUND when none. */
int iz_sim_via_config_get(iz_sim_store_t *st, const char *kind, const char *id, int64_t *iys_code,
                          char **body);

/* ---- processes ------------------------------------------------------------------ */

typedef struct iz_sim_via_req {
    char request_id[37];
    int64_t iys_code;
    char short_code[16]; /* "" = none */
    int64_t created;
    char *body; /* JSON state, owned */
} iz_sim_via_req_t;

/* Create a process (IZ_EEXIST when its requestId or short code is taken). */
int iz_sim_via_req_add(iz_sim_store_t *st, const iz_sim_via_req_t *req);
/* Replace a process's state. IZ_ENOTFOUND when it does not exist. */
int iz_sim_via_req_set(iz_sim_store_t *st, const char *request_id, const char *body);
/* A process by requestId or by short code; IZ_ENOTFOUND when none. The
 * caller frees out->body. */
int iz_sim_via_req_get(iz_sim_store_t *st, const char *request_id, iz_sim_via_req_t *out);
int iz_sim_via_req_by_short(iz_sim_store_t *st, const char *short_code, iz_sim_via_req_t *out);

/* ---- KVK consents --------------------------------------------------------------- */

int iz_sim_via_kvk_add(iz_sim_store_t *st, int64_t iys_code, const char *request_id,
                       const char *recipient, const char *type, const char *body);
/* The bodies of one process's KVK consents, in order; or the requestIds of
 * a provider's KVK consents of one recipient and type, oldest first. Free
 * with iz_sim_via_strings_free. */
int iz_sim_via_kvk_of_request(iz_sim_store_t *st, const char *request_id, char ***list, size_t *n);
int iz_sim_via_kvk_requests(iz_sim_store_t *st, int64_t iys_code, const char *recipient,
                            const char *type, char ***list, size_t *n);
void iz_sim_via_strings_free(char **list, size_t n);

/* ---- messages İYS sent ---------------------------------------------------------- */

int iz_sim_via_message_add(iz_sim_store_t *st, const char *recipient, const char *request_id,
                           int64_t created, const char *body);
/* The newest (at most limit) message bodies sent to recipient, newest
 * first. */
int iz_sim_via_messages(iz_sim_store_t *st, const char *recipient, size_t limit, char ***list,
                        size_t *n);

/* ---- e-mail opt-out links ---------------------------------------------------------- */

typedef struct iz_sim_via_link {
    char hash[65];
    int64_t iys_code, brand_code;
    char recipient[IZ_RECIPIENT_MAX];
    char rtype[16];
    int64_t created, expires, used; /* used 0 = not yet */
} iz_sim_via_link_t;

int iz_sim_via_link_add(iz_sim_store_t *st, const iz_sim_via_link_t *l);
int iz_sim_via_link_get(iz_sim_store_t *st, const char *hash, iz_sim_via_link_t *out);
/* Mark a link used at time t: IZ_ENOTFOUND when it was already used. */
int iz_sim_via_link_use(iz_sim_store_t *st, const char *hash, int64_t t);

/* ---- widget nonces ---------------------------------------------------------------- */

int iz_sim_via_nonce_add(iz_sim_store_t *st, const char *nonce, const char *widget,
                         int64_t expires);
/* Bind a CSRF token to an unexpired nonce of widget; IZ_ENOTFOUND when
 * there is none. */
int iz_sim_via_nonce_bind(iz_sim_store_t *st, const char *nonce, const char *widget,
                          const char *csrf, int64_t now);
/* 0 when nonce is an unexpired nonce of widget bound to csrf. */
int iz_sim_via_nonce_check(iz_sim_store_t *st, const char *nonce, const char *widget,
                           const char *csrf, int64_t now);

#endif
