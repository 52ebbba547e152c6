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
 * A send is tried once: a failure is reported to the caller, never retried
 * here, so a message can never go twice because of izin. Every send gets a
 * fresh id (32 hex digits) that the log line or the JSON POST carries.
 * HTTP sends time out after 10 s (connect 5 s).
 *
 * Threads: one gateway is shared by every HTTP worker; sends may run
 * concurrently (the log sink writes each line with one write(2) on an
 * O_APPEND file, so lines of several writers, processes included, never
 * interleave; HTTP adapters keep a small pool of connections).
 *
 * Secrets: the Kannel password lives only in the gateway's URL; it is never
 * printed (iz_sms_gateway_describe() leaves the query out) and is wiped on
 * close.
 */
#ifndef IZ_SMS_GATEWAY_H
#define IZ_SMS_GATEWAY_H

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

/* Stop using the gateway and free it (NULL is fine). No send may run. */
void iz_sms_gateway_close(iz_sms_gateway_t *gw);

/* The iz_smstext_analyze() flags of what this gateway can send: Kannel
 * cannot send GSM-7 with the Turkish shift table, so Turkish letters go as
 * UCS-2 there. */
unsigned iz_sms_gateway_text_flags(const iz_sms_gateway_t *gw);

/* A description for logs without secrets: "log:/path", "kannel:http://h:p/
 * cgi-bin/sendsms (user U)", "json:https://h/path". */
void iz_sms_gateway_describe(const iz_sms_gateway_t *gw, char *out, size_t outsz);

/* Send one SMS: from (originator), to (E.164), text (UTF-8) in encoding enc
 * (from iz_smstext_analyze with this gateway's flags). Returns 0 with the
 * message id in id_out, or IZ_EIO when the gateway refused or could not be
 * reached (err, when not NULL, gets a short reason: "HTTP 403", "timeout",
 * ...), IZ_EINVAL for empty arguments. */
int iz_sms_send(iz_sms_gateway_t *gw, const char *from, const char *to, const char *text,
                iz_sms_enc_t enc, char id_out[IZ_SMS_ID_MAX], char *err, size_t errsz);

#endif
