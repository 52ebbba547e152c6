/*
 * remote.c - the changes İYS reports: a page of the change pull or the
 * list of a push. They are applied with origin IYS, as İYS reports them,
 * without izin's state rules (İYS has judged them already), in one store
 * transaction a page.
 *
 * Nothing İYS reports is dropped: an item izin cannot read (not an object,
 * a missing or unknown type, status, recipientType or source, a recipient
 * that does not normalize, a consentDate that does not parse) is written
 * to the quarantine with its raw JSON and the reason, logged, and counted,
 * before the caller may move its cursor past it; GET
 * /v1/brands/{b}/iys/quarantine lists them.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "core/recipient.h"
#include "domain/domain_int.h"
#include "sys/log.h"

static const char *str_field(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Read one item into c; NULL when it can be applied, else why not. A
 * reconciliation's repair (repair_date not NULL) says so in its evidence,
 * with the report date whose file brought it. */
const char *iz_domain_remote_item(json_t *it, int64_t brand_id, const char *repair_date,
                                  iz_change_t *c)
{
    memset(c, 0, sizeof *c);
    if (!json_is_object(it)) return "the item is not a JSON object";
    const char *rec = str_field(it, "recipient"), *ty = str_field(it, "type");
    const char *rt = str_field(it, "recipientType"), *stt = str_field(it, "status");
    const char *src = str_field(it, "source"), *cd = str_field(it, "consentDate");
    const char *tx = str_field(it, "transactionId");
    const char *hcode = NULL;
    if (!ty || iz_type_parse(ty, &c->type) != 0) return "missing or unknown type";
    if (!stt || iz_status_parse(stt, &c->status) != 0) return "missing or unknown status";
    if (!rec) return "missing recipient";
    if (iz_recipient_normalize(rec, strlen(rec), c->type, c->recipient, &hcode) != 0)
        return "the recipient does not fit the type";
    c->rtype = IZ_BIREYSEL;
    if (json_object_get(it, "recipientType") && (!rt || iz_rtype_parse(rt, &c->rtype) != 0))
        return "unknown recipientType";
    if (json_object_get(it, "source") && (!src || iz_source_parse(src, &c->source) != 0))
        return "unknown source";
    if (json_object_get(it, "consentDate") &&
        (!cd || iz_tr_parse(cd, strlen(cd), &c->consent_date, &hcode) != 0))
        return "consentDate is not yyyy-MM-dd HH:mm:ss";
    if (json_object_get(it, "transactionId") &&
        (!tx || iz_strlcpy(c->iys_txid, tx, sizeof c->iys_txid) != 0))
        return "transactionId is not a string of at most 71 characters";
    c->brand_id = brand_id;
    c->origin = IZ_ORIGIN_IYS;
    c->iys_state = IZ_IYS_ACCEPTED;
    /* What İYS says beyond the fields: when it recorded the change and, for
     * a citizen's own change, who made it. */
    json_t *ev = json_object();
    const char *created = str_field(it, "creationDate"), *who = str_field(it, "citizenName");
    if (created) json_object_set_new(ev, "iysCreationDate", json_string(created));
    if (who) json_object_set_new(ev, "citizenName", json_string(who));
    if (repair_date) {
        json_object_set_new(ev, "repair", json_string("reconciliation"));
        json_object_set_new(ev, "reportDate", json_string(repair_date));
    }
    char *evs = json_object_size(ev) ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    bool fits = !evs || iz_strlcpy(c->evidence, evs, sizeof c->evidence) == 0;
    free(evs);
    return fits ? NULL : "creationDate and citizenName are too long to keep";
}

/* Keep an item that cannot be applied. Its raw JSON is kept whole; an item
 * too large for the quarantine is kept as its first bytes inside an object
 * that says it was cut and how long it was. */
static int quarantine(iz_domain_t *d, const iz_brand_t *brand, const char *via,
                      const char *source, json_t *it, const char *why)
{
    char *raw = json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!raw) raw = iz_xstrdup("null");
    int rc = iz_store_quarantine_add(d->st, brand->id, via, source, raw, why);
    if (rc == IZ_ETOOBIG) {
        size_t len = strlen(raw), keep = 4096;
        while (keep > 0 && ((unsigned char)raw[keep] & 0xC0) == 0x80)
            keep--;
        raw[keep] = '\0';
        json_t *cut = json_pack("{s:b, s:I, s:s}", "cut", 1, "bytes", (json_int_t)len, "head", raw);
        char *small = cut ? json_dumps(cut, JSON_COMPACT) : NULL;
        json_decref(cut);
        rc = small ? iz_store_quarantine_add(d->st, brand->id, via, source, small, why) : IZ_EIO;
        free(small);
    }
    free(raw);
    if (rc == IZ_REPEAT) return 0; /* kept already */
    if (rc != 0) return rc;
    atomic_fetch_add(&d->quarantined, 1);
    iz_logf(IZ_LOG_WARN, "domain", "İYS change quarantined", "brand=%lld via=%s source=%s reason=%s",
            (long long)brand->code, via, source ? source : "", why);
    return 0;
}

/* Apply a list İYS reported (see iz_domain_apply_remote); with repair_date
 * the items are a reconciliation's repairs, and out[i] (when not NULL)
 * tells each one's fate. */
static int apply(iz_domain_t *d, const iz_brand_t *brand, const char *via, const char *source,
                 const char *repair_date, json_t *list, size_t *applied, size_t *quarantined,
                 iz_repair_t *out)
{
    size_t dummy_a, dummy_q;
    if (!applied) applied = &dummy_a;
    if (!quarantined) quarantined = &dummy_q;
    *applied = *quarantined = 0;
    if (!d || !brand || !via || !json_is_array(list)) return IZ_EINVAL;
    size_t n = json_array_size(list);
    if (n == 0) return 0;
    if (n > IZ_DOMAIN_BATCH_MAX) return IZ_ETOOBIG;
    iz_change_t *chgs = iz_xcalloc(n, sizeof *chgs);
    iz_store_apply_t *items = iz_xcalloc(n, sizeof *items);
    size_t *pos = iz_xcalloc(n, sizeof *pos); /* items[j] is list item pos[j] */
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *it = json_array_get(list, i);
        iz_change_t *c = &chgs[i];
        const char *why = iz_domain_remote_item(it, brand->id, repair_date, c);
        if (out) out[i] = (iz_repair_t){.rc = IZ_EINVAL};
        if (why) {
            if ((rc = quarantine(d, brand, via, source, it, why)) == 0) (*quarantined)++;
            continue;
        }
        if (c->iys_txid[0]) {
            /* A change izin sent (or already applied) carries a known
             * transactionId: it is already here. */
            iz_change_t old;
            int r = iz_store_change_by_txid(d->st, brand->id, c->iys_txid, &old);
            if (r == 0 && old.status == c->status && old.type == c->type &&
                strcmp(old.recipient, c->recipient) == 0) {
                if (out) out[i] = (iz_repair_t){.rc = IZ_REPEAT, .state = old.iys_state};
                continue;
            }
            if (r != 0 && r != IZ_ENOTFOUND) {
                rc = r;
                break;
            }
        }
        pos[k] = i;
        items[k++] = (iz_store_apply_t){.chg = c};
    }
    if (rc == 0 && k) rc = iz_store_consent_apply_batch(d->st, items, k);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        if (out)
            out[pos[i]] = (iz_repair_t){
                .rc = items[i].rc == 0 || items[i].rc == IZ_REPEAT ? items[i].rc : IZ_EINVAL,
                .state = items[i].chg->iys_state};
        if (items[i].rc == 0) {
            (*applied)++;
        } else if (items[i].rc != IZ_REPEAT) {
            /* The store refused a change İYS has: keep it rather than lose
             * it (an over-long value, say). */
            char why[96];
            snprintf(why, sizeof why, "the store refused it: %s", iz_strerror(items[i].rc));
            rc = quarantine(d, brand, via, source, json_array_get(list, pos[i]), why);
            if (rc == 0) (*quarantined)++;
        }
    }
    free(pos);
    free(items);
    free(chgs);
    return rc;
}

int iz_domain_apply_remote(iz_domain_t *d, const iz_brand_t *brand, const char *via,
                           const char *source, json_t *list, size_t *applied, size_t *quarantined)
{
    return apply(d, brand, via, source, NULL, list, applied, quarantined, NULL);
}

int iz_domain_repair_remote(iz_domain_t *d, const iz_brand_t *brand, const char *report_date,
                            json_t *list, iz_repair_t *out, size_t *applied)
{
    if (!report_date || !out) return IZ_EINVAL;
    return apply(d, brand, "recon", NULL, report_date, list, applied, NULL, out);
}
