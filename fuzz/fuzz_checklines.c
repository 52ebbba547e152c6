/*
 * fuzz_checklines.c - libFuzzer driver for the line reader of the
 * text/plain check (POST /v1/brands/{b}/check with a text/plain body:
 * domain.h iz_judge_stream_*), the part that needs no store: a
 * non-commercial check, where every line is ALLOWED or INVALID.
 *
 * The first byte picks the type (ARAMA, MESAJ, EPOSTA), the rest is the
 * body. It is fed whole, then a few bytes a feed (the count from the last
 * byte): both must answer the same lines alike. Every answer is checked
 * against the format read by the driver itself: one answer per non-blank
 * line, in order, the line trimmed of spaces, tabs and CR; a line over
 * IZ_INPUT_MAX bytes INVALID and shown as at most 64 bytes of it (never a
 * cut UTF-8 sequence) and "..."; any other ALLOWED exactly when
 * iz_recipient_normalize takes it, with that normalized form; the counts
 * are the answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/recipient.h"
#include "domain/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    const char *body;
    size_t size, pos; /* where the next expected line starts */
    iz_type_t type;
    uint64_t hash, answers;
} run_t;

static void mix(run_t *t, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        t->hash = (t->hash ^ b[i]) * 1099511628211ull;
    t->hash = (t->hash ^ n) * 1099511628211ull;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next non-blank line of the body from t->pos: its trimmed text (*p,
 * *len) and whether it was over-long; false when there is none. */
static bool next_line(run_t *t, const char **p, size_t *len, bool *overlong)
{
    while (t->pos < t->size) {
        const char *s = t->body + t->pos;
        const char *nl = memchr(s, '\n', t->size - t->pos);
        size_t raw = nl ? (size_t)(nl - s) : t->size - t->pos;
        t->pos += raw + 1;
        *overlong = raw > IZ_INPUT_MAX;
        size_t n = *overlong ? IZ_INPUT_MAX : raw;
        while (n && (s[n - 1] == '\r' || blank(s[n - 1])))
            n--;
        while (n && blank(*s)) {
            s++;
            n--;
        }
        if (n == 0 && !*overlong) continue;
        *p = s;
        *len = n;
        return true;
    }
    return false;
}

static void on_line(void *ctx, const char *line, size_t len, const char *norm, size_t normlen,
                    iz_verdict_t v)
{
    run_t *t = ctx;
    const char *p;
    size_t n;
    bool overlong;
    if (!next_line(t, &p, &n, &overlong)) abort(); /* an answer for no line */
    t->answers++;
    if (overlong) {
        if (v != IZ_VERDICT_INVALID || norm || len > 64 + 3 || len < 3 ||
            memcmp(line + len - 3, "...", 3) != 0 || memcmp(line, p, len - 3) != 0)
            abort();
        size_t k = len - 3;
        if (k < n && ((unsigned char)p[k] & 0xC0) == 0x80) abort(); /* a cut sequence */
        /* all of a short line is shown; of a longer one, 64 bytes less
         * only the continuation bytes of a sequence that would be cut */
        if (n <= 64 && k != n) abort();
        for (size_t q = k; n > 64 && q < 64; q++)
            if (((unsigned char)p[q] & 0xC0) != 0x80) abort();
    } else {
        if (len != n || memcmp(line, p, n) != 0) abort();
        char want[IZ_RECIPIENT_MAX];
        const char *hcode = NULL;
        bool ok = iz_recipient_normalize(p, n, t->type, want, &hcode) == 0;
        if (ok != (v == IZ_VERDICT_ALLOWED) || (!ok && v != IZ_VERDICT_INVALID)) abort();
        if (ok && (!norm || normlen != strlen(want) || memcmp(norm, want, normlen) != 0 ||
                   norm[normlen] != '\0'))
            abort();
        if (!ok && norm) abort();
    }
    mix(t, line, len);
    mix(t, &v, sizeof v);
}

static run_t read_all(const char *body, size_t size, iz_type_t type, size_t chunk)
{
    run_t t = {.body = body, .size = size, .type = type, .hash = 14695981039346656037ull};
    iz_judge_t j = {.brand_id = 1, .type = type, .rtype = IZ_BIREYSEL, .commercial = false};
    iz_judge_stream_t *s = iz_judge_stream_new(NULL, &j, on_line, &t);
    if (!chunk) chunk = size ? size : 1;
    for (size_t i = 0; i < size; i += chunk)
        if (iz_judge_stream_feed(s, body + i, i + chunk > size ? size - i : chunk) != 0) abort();
    if (iz_judge_stream_end(s) != 0) abort();
    const char *p;
    size_t n;
    bool overlong;
    if (next_line(&t, &p, &n, &overlong)) abort(); /* a line left unanswered */
    uint64_t allowed, blocked;
    iz_judge_stream_counts(s, &allowed, &blocked);
    if (allowed + blocked != t.answers) abort();
    iz_judge_stream_free(s);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const iz_type_t types[] = {IZ_ARAMA, IZ_MESAJ, IZ_EPOSTA};
    if (size < 1) return 0;
    iz_type_t type = types[data[0] % 3];
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    size_t chunk = 1 + data[size - 1] % 13;
    run_t a = read_all(body, n, type, 0), b = read_all(body, n, type, chunk);
    if (a.hash != b.hash || a.answers != b.answers) abort();
    return 0;
}
