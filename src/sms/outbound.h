/*
 * outbound.h - the outbound SMS queue: every SMS izin sends goes through
 * it (sms/send, and the replies to inbound messages that izin sends
 * itself), so that a campaign of 100,000 recipients is answered as soon as
 * it is durably queued and then goes out at the gateway's pace, and no
 * message is ever sent twice.
 *
 * A send is written whole in one transaction (store.h, "the outbound
 * queue"): its allowed recipients QUEUED with their message ids, the
 * blocked ones with their reason. One dispatcher thread then takes the
 * next messages in batches - first the sends someone waits for (priority
 * 0: small sends, replies), then the campaigns in turn, so one tenant's
 * 100,000 do not hold another's 50 until they are all out - judges each
 * recipient again (a consent withdrawn since the send was queued stops its
 * message), marks the batch SENDING in one transaction and hands it to a
 * pool of workers, which keep up to `concurrency` requests in flight to the
 * gateway (and at most `rate` a second when set). Their answers are
 * written in batches (one transaction for up to 256, at most 20 ms after
 * the first, and always before more messages are claimed; at once for a
 * send someone waits for): SENT, FAILED, or UNKNOWN for a request that went
 * out without an answer in time.
 *
 * Never twice: a message is handed to the gateway only from SENDING, and a
 * process that stops while messages are SENDING leaves them so; the next
 * start makes them UNKNOWN (they may have gone out) and never sends them
 * again. A clean stop lets the running requests finish and returns the
 * messages not yet handed over to QUEUED. At most 2 x concurrency messages
 * are SENDING at a time, which bounds what a crash can leave UNKNOWN.
 *
 * Delivery reports (GET /v1/sms/dlr) are applied by the same dispatcher
 * with group commit: a report is acknowledged only once it is on disk.
 *
 * Threads: every call is thread-safe. The queue owns its threads; the
 * domain, its store and the gateway must outlive it.
 */
#ifndef IZ_SMS_OUTBOUND_H
#define IZ_SMS_OUTBOUND_H

#include <stdint.h>

#include "domain/domain.h"
#include "sms/gateway.h"
#include "store/store.h"

typedef struct iz_sms_queue iz_sms_queue_t;

#define IZ_SMS_CONCURRENCY_MAX 64

typedef struct iz_sms_queue_conf {
    iz_domain_t *dom;          /* judges again before a send; its store holds the queue */
    iz_sms_gateway_t *gateway; /* where messages go */
    unsigned concurrency;      /* requests to the gateway at once: 1..64; 0: 16 */
    double rate;               /* messages a second at most; 0: as fast as the gateway takes them */
    int max_parts;             /* parts a reply may have (--sms-max-parts); 0: 10 */
    /* Several nodes (domain/cluster.h): whether this node sends now; the
     * queue is the store's, so the node that leads sends it all. The
     * recovery below runs when this node starts to send. NULL: always. */
    bool (*lead)(void *ctx);
    void *lead_ctx;
} iz_sms_queue_conf_t;

/* Make messages a stopped process left SENDING UNKNOWN, then start the
 * dispatcher and the workers. 0, or the store's failure. */
int iz_sms_queue_start(const iz_sms_queue_conf_t *conf, iz_sms_queue_t **out);

/* Let the running sends finish, write what is pending, put the messages not
 * yet handed over back to QUEUED, and free the queue (NULL is fine). */
void iz_sms_queue_stop(iz_sms_queue_t *q);

/* Queue a send (iz_store_sms_queue: IZ_EEXIST for a taken Idempotency-Key)
 * and wake the dispatcher. */
int iz_sms_queue_put(iz_sms_queue_t *q, iz_sms_msg_t *msg, const iz_sms_item_t *items, size_t n);

/* Write a one-message informational send - the reply to an inbound message
 * - from `from` to `to` (a phone number in any common writing), of brand
 * brand_id (0: none) of account account_id (0: none), at priority 0;
 * inside a store transaction it joins it. The caller wakes the queue after
 * the commit. 0, IZ_EINVAL when to is not a phone number or the text
 * cannot go through this gateway (not UTF-8, over max_parts parts), or the
 * store's failure. */
int iz_sms_queue_reply(iz_sms_queue_t *q, int64_t account_id, int64_t brand_id, const char *from,
                       const char *to, const char *text);

/* iz_sms_queue_reply, with the message's id (izin's, as the gateway and
 * its delivery reports know it) into msg_id when not NULL: the consent
 * page keeps the id of the code's SMS as evidence. */
int iz_sms_queue_notice(iz_sms_queue_t *q, int64_t account_id, int64_t brand_id, const char *from,
                        const char *to, const char *text, char msg_id[IZ_SMS_ID_MAX]);

/* Have the dispatcher look for newly queued sends now. */
void iz_sms_queue_wake(iz_sms_queue_t *q);

/* Wait until no message of send id is QUEUED or SENDING (each has the
 * gateway's answer or a reason), at most timeout_ms. 0 when so, IZ_EBUSY
 * when the time ran out first, or the store's failure. */
int iz_sms_queue_wait(iz_sms_queue_t *q, int64_t id, long timeout_ms);

/* Apply a delivery report for message msg_id (Kannel's dlr type: 1
 * delivered, 2 undeliverable, 4 buffered, 8 taken by the SMSC, 16 refused
 * by the SMSC); returns once it is on disk: 0, IZ_ENOTFOUND for no such
 * message, IZ_EINVAL for another status or a malformed id, IZ_EBUSY when
 * the queue is stopping, or the store's failure. */
int iz_sms_queue_dlr(iz_sms_queue_t *q, const char *msg_id, int status);

/* What the queue did since start, for /metrics. */
typedef struct iz_sms_queue_stats {
    uint64_t sent, failed, unknown; /* the gateway's answers */
    uint64_t blocked;               /* stopped by the judge at send time */
    uint64_t reports;               /* delivery reports applied */
    uint64_t reports_unknown;       /* delivery reports for no message izin has */
    uint64_t unsent_retries;        /* sends tried again: the gateway refused the connection */
    unsigned in_flight;             /* requests running now */
    unsigned concurrency;
} iz_sms_queue_stats_t;
void iz_sms_queue_stats(iz_sms_queue_t *q, iz_sms_queue_stats_t *out);

#endif
