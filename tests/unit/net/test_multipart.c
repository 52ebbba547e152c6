/*
 * test_multipart.c - the streaming multipart/form-data reader: fields and
 * a file read whole whatever the pieces it comes in (one byte at a time
 * too), the boundary from Content-Type, and the refusals: a body cut short,
 * a part without a name, a header block over its bound, too many parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/iz.h"
#include "net/multipart.h"

typedef struct got {
    char log[8192]; /* "name|filename|type=data;" for each part */
    size_t len;
} got_t;

static int on_part(void *ctx, const iz_multipart_part_t *p)
{
    got_t *g = ctx;
    g->len += (size_t)snprintf(g->log + g->len, sizeof g->log - g->len,
                               "%s%s|%s|%s=", g->len ? ";" : "", p->name, p->filename, p->type);
    return 0;
}

static int on_data(void *ctx, const char *d, size_t n)
{
    got_t *g = ctx;
    assert_true(n > 0);
    assert_true(g->len + n < sizeof g->log);
    memcpy(g->log + g->len, d, n);
    g->len += n;
    g->log[g->len] = '\0';
    return 0;
}

static const iz_multipart_cb_t CB = {on_part, on_data};

/* Read body in pieces of step bytes: the result of finish, the log in g. */
static int read_all(const char *boundary, const char *body, size_t len, size_t step, got_t *g)
{
    memset(g, 0, sizeof *g);
    iz_multipart_t *m = iz_multipart_new(boundary, &CB, g);
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i += step)
        rc = iz_multipart_feed(m, body + i, len - i < step ? len - i : step);
    if (rc == 0) rc = iz_multipart_finish(m);
    iz_multipart_free(m);
    return rc;
}

static const char BODY[] = "preamble\r\n"
                           "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"csrf\"\r\n"
                           "\r\n"
                           "abc\r\n"
                           "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"file\"; filename=\"a b.csv\"\r\n"
                           "Content-Type: text/csv\r\n"
                           "\r\n"
                           "recipient\r\n+905321234567\r\n--XyY not the delimiter\r\n"
                           "--XyZ--\r\n"
                           "epilogue";

static void test_pieces(void **state)
{
    (void)state;
    const char *want = "csrf||=abc;file|a b.csv|text/csv=recipient\r\n+905321234567\r\n"
                       "--XyY not the delimiter";
    size_t steps[] = {1, 2, 3, 7, 64, sizeof BODY};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        got_t g;
        assert_int_equal(read_all("XyZ", BODY, sizeof BODY - 1, steps[i], &g), 0);
        assert_string_equal(g.log, want);
    }
}

typedef struct count {
    size_t bytes, parts;
    unsigned sum; /* a check of the bytes' order */
} count_t;

static int count_part(void *ctx, const iz_multipart_part_t *p)
{
    (void)p;
    ((count_t *)ctx)->parts++;
    return 0;
}

static int count_data(void *ctx, const char *d, size_t n)
{
    count_t *c = ctx;
    for (size_t i = 0; i < n; i++)
        c->sum = c->sum * 31 + (unsigned char)d[i];
    c->bytes += n;
    return 0;
}

static void test_large_file(void **state)
{
    (void)state;
    /* A part much longer than the reader's buffer comes out whole, in
     * order. */
    size_t n = 300 * 1024;
    char *body = malloc(n + 512);
    size_t len = (size_t)sprintf(body, "--b\r\nContent-Disposition: form-data; name=\"f\"; "
                                       "filename=\"x\"\r\n\r\n");
    unsigned want = 0;
    for (size_t i = 0; i < n; i++) {
        body[len] = (char)('a' + i % 26);
        want = want * 31 + (unsigned char)body[len++];
    }
    len += (size_t)sprintf(body + len, "\r\n--b--");
    const iz_multipart_cb_t cb = {count_part, count_data};
    size_t steps[] = {1000, 65536, len};
    for (size_t k = 0; k < 3; k++) {
        count_t c = {0, 0, 0};
        iz_multipart_t *m = iz_multipart_new("b", &cb, &c);
        for (size_t i = 0; i < len; i += steps[k])
            assert_int_equal(
                iz_multipart_feed(m, body + i, len - i < steps[k] ? len - i : steps[k]), 0);
        assert_int_equal(iz_multipart_finish(m), 0);
        iz_multipart_free(m);
        assert_int_equal(c.parts, 1);
        assert_int_equal(c.bytes, n);
        assert_int_equal(c.sum, want);
    }
    free(body);
}

static void test_refusals(void **state)
{
    (void)state;
    got_t g;
    /* cut short: no closing delimiter */
    const char *cut = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxyz";
    assert_int_equal(read_all("b", cut, strlen(cut), 4, &g), IZ_EINVAL);
    /* a part without a name, or without headers */
    const char *noname = "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--";
    assert_int_equal(read_all("b", noname, strlen(noname), 100, &g), IZ_EINVAL);
    const char *nohdr = "--b\r\n\r\nx\r\n--b--";
    assert_int_equal(read_all("b", nohdr, strlen(nohdr), 100, &g), IZ_EINVAL);
    /* not form-data */
    const char *att = "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--";
    assert_int_equal(read_all("b", att, strlen(att), 100, &g), IZ_EINVAL);
    /* a header block over its bound */
    char *big = malloc(IZ_MULTIPART_HEADER_MAX + 200);
    int k = sprintf(big, "--b\r\nX-Long: ");
    memset(big + k, 'a', IZ_MULTIPART_HEADER_MAX);
    strcpy(big + k + IZ_MULTIPART_HEADER_MAX,
           "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--");
    assert_int_equal(read_all("b", big, strlen(big), 512, &g), IZ_EINVAL);
    free(big);
    /* too many parts */
    char *many = malloc(100 * (IZ_MULTIPART_PARTS_MAX + 2));
    size_t len = 0;
    for (int i = 0; i <= IZ_MULTIPART_PARTS_MAX; i++)
        len += (size_t)sprintf(
            many + len, "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n1\r\n", i);
    len += (size_t)sprintf(many + len, "--b--");
    assert_int_equal(read_all("b", many, len, 100, &g), IZ_EINVAL);
    free(many);
    /* a name over its bound */
    char name[300];
    int nl = sprintf(name, "--b\r\nContent-Disposition: form-data; name=\"");
    memset(name + nl, 'n', 200);
    strcpy(name + nl + 200, "\"\r\n\r\nx\r\n--b--");
    assert_int_equal(read_all("b", name, strlen(name), 100, &g), IZ_EINVAL);
}

static void test_boundary(void **state)
{
    (void)state;
    char b[IZ_MULTIPART_BOUNDARY_MAX + 1];
    assert_int_equal(
        iz_multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundaryx7", b), 0);
    assert_string_equal(b, "----WebKitFormBoundaryx7");
    assert_int_equal(
        iz_multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"", b), 0);
    assert_string_equal(b, "a b");
    assert_int_equal(iz_multipart_boundary("multipart/form-data", b), IZ_EINVAL);
    assert_int_equal(iz_multipart_boundary("text/plain; boundary=x", b), IZ_EINVAL);
    assert_int_equal(iz_multipart_boundary("multipart/form-data; boundary=", b), IZ_EINVAL);
    assert_int_equal(iz_multipart_boundary("multipart/form-data; boundary=a<b", b), IZ_EINVAL);
    char lng[200];
    sprintf(lng, "multipart/form-data; boundary=%0*d", 71, 0);
    assert_int_equal(iz_multipart_boundary(lng, b), IZ_EINVAL);
    assert_int_equal(iz_multipart_boundary(NULL, b), IZ_EINVAL);
}

/* A filename over the bound is cut at a character's boundary: never in
 * the middle of a UTF-8 character (a lone lead byte is no text). */
static void test_filename_cut(void **state)
{
    (void)state;
    char name[IZ_MULTIPART_NAME_MAX + 32], body[1024];
    memset(name, 'a', IZ_MULTIPART_NAME_MAX - 2);
    strcpy(name + IZ_MULTIPART_NAME_MAX - 2, "\xc5\x9f.csv"); /* "ş.csv" */
    int n = snprintf(body, sizeof body,
                     "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                     "\r\nx\r\n--B--\r\n",
                     name);
    got_t g;
    assert_int_equal(read_all("B", body, (size_t)n, (size_t)n, &g), 0);
    char want[IZ_MULTIPART_NAME_MAX + 32];
    snprintf(want, sizeof want, "file|%.*s|=x", IZ_MULTIPART_NAME_MAX - 2, name);
    assert_string_equal(g.log, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces),       cmocka_unit_test(test_large_file),
        cmocka_unit_test(test_refusals),     cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_filename_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
