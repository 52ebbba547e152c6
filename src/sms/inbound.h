/*
 * inbound.h - mobile-originated SMS: a person's opt-in or opt-out by SMS
 * (F2: anything to a brand's own 0850 number; F3: "RET ACME" to a 4-digit
 * short number many brands share), recorded through the domain layer.
 *
 * A message is routed by its receiver number (a brand's subscriber number,
 * or a short number and then the brand keyword in the text), its text read
 * by the grammar of spec/SMS.md (sms/mo.h), and the change recorded for
 * each channel it names (default: MESAJ and ARAMA) with origin SMS, source
 * HS_MESAJ, dated when the message was received, the message as evidence,
 * and queued for İYS at once (a first RET is kept LOCAL: H175). The message
 * itself and the reply izin gives are stored in the same transaction, once
 * per gateway message id: the same id again changes nothing and gets the
 * same reply. A reply names the brand and the channels, or explains the
 * commands; each brand may set its own texts (store.h iz_brand_sms_t).
 */
#ifndef IZ_SMS_INBOUND_H
#define IZ_SMS_INBOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/domain.h"
#include "store/store.h"

struct iz_sms_queue; /* sms/outbound.h */

/* One message as a gateway hands it over. Strings are borrowed. */
typedef struct iz_mo {
    const char *gateway;  /* "kannel", "json", "jasmin" */
    const char *id;       /* the gateway's message id (required) */
    const char *from;     /* the sender (a phone number) */
    const char *to;       /* the number it was sent to */
    const char *smsc;     /* the gateway's SMSC name, or NULL */
    const char *text;     /* UTF-8 */
    size_t text_len;
    int64_t received_ms;  /* when the network delivered it; 0 or later than now: now */
} iz_mo_t;

/* Take one message: 0 when it is stored (now, or before: *replay) with its
 * outcome and reply in *out (reply "" when there is none to send). With
 * reply_q, izin sends the reply itself: it is queued there in the same
 * transaction as the message (once per message id); without, the caller
 * hands it to the gateway (Kannel sends get-url's answer);
 * IZ_EINVAL for a message without an id, sender or receiver, with text
 * that is not UTF-8, or a field too long (nothing stored); the store's
 * failure otherwise (nothing stored: the gateway should deliver it
 * again). */
int iz_inbound_take(iz_domain_t *d, const iz_mo_t *mo, struct iz_sms_queue *reply_q,
                    iz_inbound_t *out, bool *replay);

/* Messages taken since start by outcome (APPLIED, REFUSED, HELP, NO_BRAND,
 * NO_NUMBER, BAD_SENDER) and those answered again (REPLAYED): *names gets
 * the outcomes' names; returns how many. */
#define IZ_INBOUND_OUTCOMES 7
size_t iz_inbound_counts(const char *const **names, uint64_t out[IZ_INBOUND_OUTCOMES]);

/* Forget the brands of every number read so far (they are kept a second):
 * a brand's keywords or numbers changed in this process. */
void iz_inbound_routes_forget(void);

/* A receiver number as brands store theirs: digits only, a 0850 number
 * with its 0 (+90850..., 90850..., 850... all become 0850...). Returns 0,
 * or IZ_EINVAL when nothing is left. */
int iz_inbound_number(const char *in, char *out, size_t n);

#endif
