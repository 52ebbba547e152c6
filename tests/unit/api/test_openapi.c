/*
 * test_openapi.c - the API document compiled into the binary against the
 * route table: every route is an operation of the document with the same
 * method and path and the route's name as its operationId, and every
 * operation of the document is a route. A path added to routes[] without
 * its place in data/openapi.json (or the other way round) fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "api/api.h"

static json_t *document(void)
{
    size_t len;
    const char *text = iz_api_openapi(&len);
    assert_true(len > 1000);
    assert_int_equal(text[len], '\0');
    json_error_t err;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!doc) fail_msg("data/openapi.json: line %d: %s", err.line, err.text);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    return doc;
}

static void lower(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
    out[i] = '\0';
}

static void test_every_route_is_documented(void **state)
{
    (void)state;
    json_t *doc = document();
    json_t *paths = json_object_get(doc, "paths");
    size_t n;
    const iz_route_t *rt = iz_api_routes(&n);
    for (size_t i = 0; i < n; i++) {
        char m[8];
        lower(rt[i].method, m, sizeof m);
        json_t *op = json_object_get(json_object_get(paths, rt[i].pattern), m);
        if (!op)
            fail_msg("%s %s (%s) is not in data/openapi.json", rt[i].method, rt[i].pattern,
                     rt[i].tag);
        const char *id = json_string_value(json_object_get(op, "operationId"));
        if (!id || strcmp(id, rt[i].tag) != 0)
            fail_msg("%s %s: operationId %s, the route is named %s", rt[i].method, rt[i].pattern,
                     id ? id : "(none)", rt[i].tag);
        assert_true(json_object_size(json_object_get(op, "responses")) > 0);
    }
    json_decref(doc);
}

static void test_every_operation_is_a_route(void **state)
{
    (void)state;
    static const char *const methods[] = {"get",   "put",  "post",    "delete",
                                          "patch", "head", "options", "trace"};
    json_t *doc = document();
    size_t n, ops = 0;
    const iz_route_t *rt = iz_api_routes(&n);
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
            if (!json_object_get(item, methods[k])) continue;
            ops++;
            bool found = false;
            for (size_t i = 0; i < n && !found; i++)
                found =
                    strcasecmp(rt[i].method, methods[k]) == 0 && strcmp(rt[i].pattern, path) == 0;
            if (!found)
                fail_msg("data/openapi.json documents %s %s, which no route serves", methods[k],
                         path);
        }
    }
    assert_int_equal(ops, n);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_operation_is_a_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
