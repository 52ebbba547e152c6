/*
 * fuzz_iys.c - libFuzzer driver for İYS's answers as izin's İYS client and
 * sync engine read them (iys/client.h: iz_iys_answer_read, the token
 * answer, a bulk request's status, a bulk add's requestId and item errors,
 * a change pull page, the items of a pull or push as domain.h
 * iz_domain_remote_item reads them).
 *
 * The first byte picks the HTTP status, the rest is the body. Checks: the
 * class follows the status (2xx OK; no answer, 429 and 5xx TRANSIENT; a
 * 4xx PERMANENT exactly when it carries a code and is not 401); a refusal
 * has a message, and its code is the start of the body's first error code
 * (or OAuth's error); a token taken is the body's access_token whole, with
 * lives in (0, IZ_IYS_TTL_MAX] (added to the clock without overflow); a
 * bulk status item read as the fields say; an error item names one of the
 * n sent; a page's cursor is a string that fits; every pulled item izin
 * applies has a valid type, status and recipient type, a recipient in its
 * normalized form, and evidence that is JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/recipient.h"
#include "domain/domain.h"
#include "iys/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool starts_with(const char *s, const char *p)
{
    return s && p && strncmp(s, p, strlen(p)) == 0;
}

static void check_token(const json_t *body)
{
    static iz_iys_token_answer_t t;
    const char *a = json_string_value(json_object_get(body, "access_token"));
    if (iz_iys_token_read(body, &t) != 0) {
        if (a && strlen(a) < sizeof t.access) abort();
        return;
    }
    if (!a || strcmp(t.access, a) != 0) abort();
    if (t.access_ttl <= 0 || t.access_ttl > IZ_IYS_TTL_MAX) abort();
    if (t.refresh[0]) {
        const char *r = json_string_value(json_object_get(body, "refresh_token"));
        if (!r || strcmp(t.refresh, r) != 0) abort();
        if (t.refresh_ttl <= 0 || t.refresh_ttl > IZ_IYS_TTL_MAX) abort();
    }
}

static void check_item(json_t *item)
{
    iz_iys_item_t it;
    iz_iys_item_read(item, &it);
    json_t *ix = json_object_get(item, "index");
    const char *st = json_string_value(json_object_get(item, "status"));
    if (it.state == IZ_IYS_ITEM_UNREAD) {
        if (json_is_integer(ix) && json_integer_value(ix) >= 0 && st) abort();
        return;
    }
    if (!json_is_integer(ix) || it.index != json_integer_value(ix) || it.index < 0 || !st) abort();
    if ((it.state == IZ_IYS_ITEM_SUCCESS) != (strcmp(st, "success") == 0) ||
        (it.state == IZ_IYS_ITEM_FAILURE) != (strcmp(st, "failure") == 0))
        abort();
    if (it.txid && it.txid != json_string_value(json_object_get(item, "transactionId"))) abort();
    if (it.type < IZ_TYPE_NONE || it.type > IZ_EPOSTA) abort();
}

static void check_pulled(json_t *it)
{
    iz_change_t c;
    const char *why = iz_domain_remote_item(it, 7, NULL, &c);
    if (why) {
        if (!*why) abort();
        return;
    }
    if (c.type < IZ_ARAMA || c.type > IZ_EPOSTA || c.rtype < IZ_BIREYSEL || c.rtype > IZ_TACIR ||
        c.brand_id != 7)
        abort();
    char again[IZ_RECIPIENT_MAX];
    const char *hcode;
    size_t n = strnlen(c.recipient, sizeof c.recipient);
    if (n == sizeof c.recipient ||
        iz_recipient_normalize(c.recipient, n, c.type, again, &hcode) != 0 ||
        strcmp(again, c.recipient) != 0)
        abort();
    if (c.evidence[0]) {
        json_t *ev = json_loads(c.evidence, 0, NULL);
        if (!json_is_object(ev)) abort();
        json_decref(ev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 201, 202, 204, 400, 401, 403, 404,
                                    409, 422, 429, 500, 503, 0,   302, 199};
    if (size < 1) return 0;
    long status = statuses[data[0] % 16];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    iz_iys_res_t res;
    iz_iys_answer_read(&res, status, body, len, 0);
    if (res.http != status || strnlen(res.code, sizeof res.code) == sizeof res.code ||
        strnlen(res.message, sizeof res.message) == sizeof res.message)
        abort();
    bool ok2 = status >= 200 && status < 300;
    if ((res.cls == IZ_IYS_OK) != ok2) abort();
    if (!ok2) {
        bool transient = status == 429 || status >= 500 || status < 200;
        bool permanent = !transient && res.code[0] && status != 401;
        if ((res.cls == IZ_IYS_PERMANENT) != permanent || !res.message[0]) abort();
        if (res.code[0]) {
            json_t *e0 = json_array_get(json_object_get(res.body, "errors"), 0);
            const char *code = json_string_value(json_object_get(e0, "code"));
            if (!code) code = json_string_value(json_object_get(res.body, "error"));
            if (!starts_with(code, res.code)) abort();
        }
    } else {
        check_token(res.body);
        size_t k;
        json_t *item;
        if (json_is_array(res.body)) {
            json_array_foreach(res.body, k, item) check_item(item);
        }
        const char *rid = iz_iys_request_id(res.body, 64);
        if (rid &&
            (strlen(rid) >= 64 || rid != json_string_value(json_object_get(res.body, "requestId"))))
            abort();
        const char *after;
        json_t *list = iz_iys_page_read(res.body, &after, 300);
        if (after && strlen(after) >= 300) abort();
        if (list && !json_is_array(list)) abort();
        json_array_foreach(list, k, item) check_pulled(item);
        iz_iys_created(res.body);
    }
    /* a refused bulk add: each error names an item sent, or none */
    size_t k, i;
    json_t *e;
    json_array_foreach(json_object_get(res.body, "errors"), k, e)
    {
        if (iz_iys_error_item(e, 5, &i) && i >= 5) abort();
    }
    iz_iys_res_clear(&res);
    return 0;
}
