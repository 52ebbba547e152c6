/*
 * gateway.h - where izin's outbound SMS go: one interface over three
 * adapters, chosen by the --sms-gateway setting.
 *
 *   log:FILE     append one JSON object a line to FILE:
 *                {"time","from","to","text","id"} (time in Turkey time,
 *                "YYYY-MM-DD HH:MM:SS"); the default, DATA/sms.log
 *   kannel:URL   Kannel's sendsms HTTP interface, e.g.
 *                kannel:http://127.0.0.1:13013/cgi-bin/sendsms?username=U&password=P
 *                (the URL's own parameters are kept, so smsc=, dlr-mask=,
 *                dlr-url= may be added there); izin adds from, to, text
 *                (UTF-8, charset=UTF-8) and coding (0 GSM-7, 2 UCS-2)
 *   json:URL     POST {"from","to","text","id"} as JSON; any 2xx is success
 *
 * A send is tried once: its fate is told to the caller, never retried here,
 * so a message can never go twice because of izin (the queue tries again
 * only a send iz_sms_send says never reached the gateway). Every message carries
 * izin's message id (32 hex digits, given when it was queued): the log line
 * and the JSON POST hold it, and Kannel gets it inside the dlr-url of its
 * delivery reports (dlr-mask 27: delivered, undeliverable, taken and
 * refused by the SMSC), which come back to izin's GET /v1/sms/dlr.
 *
 * Fates: SENT (the gateway took it: a 2xx answer; Kannel's "0: Accepted for
 * delivery" or "3: Queued for later delivery"), FAILED (the gateway refused
 * it with another status, or could not be reached: it was not sent), and
 * UNKNOWN (the request went out but no answer came in time: the gateway may
 * still deliver it, so it must never be sent again automatically). HTTP
 * sends time out after 10 s (iz_sms_gateway_set_timeout), connecting after
 * at most 5 s.
 *
 * Kannel's splitter (1.4.5) cuts UCS-2 every 67 code units, a surrogate pair
 * included, and has no Turkish shift table: iz_sms_gateway_text_flags says
 * so to the part count. Its sendsms-user sends at most max-messages parts
 * of a text (default 1) and drops the rest without a word, answering 202
 * all the same: nothing izin can see tells it, which is why izin refuses
 * longer texts itself (--sms-max-parts, see README).
 *
 * Threads: one gateway is shared by every thread that sends; sends may run
 * concurrently (the log sink writes each line with one write(2) on an
 * O_APPEND file, so lines of several writers, processes included, never
 * interleave; HTTP adapters keep a pool of connections). The set_* calls
 * are made before the first send.
 *
 * Secrets: the Kannel password lives only in the gateway's URL, the gateway
 * token only in the dlr-url; neither is ever printed
 * (iz_sms_gateway_describe() leaves the query out) and both are wiped on
 * close and after each request.
 */
#ifndef IZ_SMS_GATEWAY_H
#define IZ_SMS_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/smstext.h"

typedef struct iz_sms_gateway iz_sms_gateway_t;

#define IZ_SMS_ID_MAX 64

/* Open the gateway of spec (NULL or "" = log:DATA_DIR/sms.log). Returns 0,
 * IZ_EINVAL for a malformed spec, IZ_EIO when the log file cannot be
 * opened; *err (when not NULL) then gets a static message naming the
 * problem (never a secret). The caller closes *out. */
int iz_sms_gateway_open(const char *spec, const char *data_dir, iz_sms_gateway_t **out,
                        const char **err);

/* The setting as iz_sms_gateway_open reads it, before it opens anything:
 * the adapter, its target (the log file or the URL, pointing into spec) and,
 * for an HTTP adapter, what may be shown of the URL (allocated; no query,
 * no user or password): iz_sms_gateway_describe's text. 0, or IZ_EINVAL
 * with *err (static text) as iz_sms_gateway_open's. Clear with
 * iz_sms_gateway_spec_clear. */
typedef enum { IZ_SMS_GW_LOG = 1, IZ_SMS_GW_KANNEL, IZ_SMS_GW_JSON } iz_sms_gw_kind_t;
typedef struct iz_sms_gateway_spec {
    iz_sms_gw_kind_t kind;
    const char *target;
    char *shown;
} iz_sms_gateway_spec_t;
int iz_sms_gateway_spec_parse(const char *spec, iz_sms_gateway_spec_t *out, const char **err);
void iz_sms_gateway_spec_clear(iz_sms_gateway_spec_t *sp);

/* Stop using the gateway and free it (NULL is fine). No send may run. */
void iz_sms_gateway_close(iz_sms_gateway_t *gw);

/* The iz_smstext_analyze() flags of what this gateway can send: Kannel
 * cannot send GSM-7 with the Turkish shift table, so Turkish letters go as
 * UCS-2 there. */
unsigned iz_sms_gateway_text_flags(const iz_sms_gateway_t *gw);

/* A description for logs without secrets: "log:/path", "kannel:http://h:p/
 * cgi-bin/sendsms (user U)", "json:https://h/path". */
void iz_sms_gateway_describe(const iz_sms_gateway_t *gw, char *out, size_t outsz);

/* Whether this is the kannel: adapter. */
bool iz_sms_gateway_is_kannel(const iz_sms_gateway_t *gw);

/* The time limit of one HTTP send, in ms (100 .. 600000; default 10000). */
void iz_sms_gateway_set_timeout(iz_sms_gateway_t *gw, long timeout_ms);

/* kannel: ask for delivery reports at url (izin's GET /v1/sms/dlr, reachable
 * from Kannel), which gets ?id=<message id>&status=%d&token=<token>.
 * Copied; NULL or "" turns reports off. Other adapters ignore it. */
void iz_sms_gateway_set_dlr(iz_sms_gateway_t *gw, const char *url, const char *token);

/* Check what can be checked without sending anything: for kannel:, a
 * sendsms request with the credentials and no receiver, which Kannel
 * answers 400 "Missing receiver number" only after taking the username and
 * password (403 otherwise). Returns 0 (fine, or nothing to check),
 * IZ_ERULE (Kannel refused the credentials or this address), IZ_EIO (not
 * reachable now), IZ_EINVAL (an answer Kannel would not give); msg gets a
 * sentence for the log, without secrets. */
int iz_sms_gateway_probe(iz_sms_gateway_t *gw, char *msg, size_t msgsz);

/* A fresh message id: 32 hex digits from 128 random bits. 0, or IZ_EIO
 * without randomness. */
int iz_sms_new_id(char id[IZ_SMS_ID_MAX]);

/* What became of a send. */
typedef enum { IZ_SMS_SENT = 0, IZ_SMS_FAILED, IZ_SMS_UNKNOWN } iz_sms_fate_t;

/* One message: from (originator), to (E.164), text (UTF-8) in encoding enc
 * (from iz_smstext_analyze with this gateway's flags), id (izin's message
 * id). Strings are borrowed. */
typedef struct iz_sms_out {
    const char *id;
    const char *from;
    const char *to;
    const char *text;
    iz_sms_enc_t enc;
} iz_sms_out_t;

/* Send one message once. err (when not NULL) gets a short reason for
 * FAILED and UNKNOWN ("HTTP 403: ...", "timeout", ...); empty or missing
 * fields are FAILED ("bad arguments"), nothing sent. *unsent (when not
 * NULL) is set true when the message FAILED without reaching the gateway
 * (no connection, nothing of the request written): sending it again cannot
 * make it go twice. */
iz_sms_fate_t iz_sms_send(iz_sms_gateway_t *gw, const iz_sms_out_t *m, char *err, size_t errsz,
                          bool *unsent);

#endif
