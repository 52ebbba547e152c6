/*
 * feed.c - a change as JSON, in one place: the API's answers, the changes
 * feed and the customer webhooks (hook/) all show a change through it, so
 * that a change reads the same wherever a customer meets it.
 */
#include "core/iz.h"
#include "domain/domain.h"
#include "net/jsonconsent.h"

json_t *iz_change_json(const iz_change_t *c)
{
    char cd[IZ_DATETIME_LEN], cr[IZ_DATETIME_LEN];
    iz_tr_format(c->creation_ms / 1000, cr);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "recipient", json_string(c->recipient));
    json_object_set_new(o, "recipientType", json_string(iz_rtype_name(c->rtype)));
    json_object_set_new(o, "type", json_string(iz_type_name(c->type)));
    json_object_set_new(o, "status", json_string(iz_status_name(c->status)));
    if (c->source != IZ_SOURCE_NONE)
        json_object_set_new(o, "source", json_string(iz_source_name(c->source)));
    if (c->consent_date != 0) {
        iz_tr_format(c->consent_date, cd);
        json_object_set_new(o, "consentDate", json_string(cd));
    }
    json_object_set_new(o, "creationDate", json_string(cr));
    json_object_set_new(o, "origin", json_string(iz_origin_name(c->origin)));
    json_t *iys = json_object();
    const char *st = iz_iys_state_name(c->iys_state);
    json_object_set_new(iys, "state", json_string(st ? st : "LOCAL"));
    if (c->iys_txid[0]) json_object_set_new(iys, "transactionId", json_string(c->iys_txid));
    if (c->iys_error[0]) json_object_set_new(iys, "error", json_string(c->iys_error));
    json_object_set_new(o, "iys", iys);
    iz_retail_to_json(&c->retail, o);
    return o;
}

json_t *iz_change_feed_json(const iz_change_t *c)
{
    json_t *o = iz_change_json(c);
    json_object_del(o, "iys");
    return o;
}
