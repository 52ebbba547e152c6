/*
 * fuzz_consent.c - libFuzzer driver for consent validation and the rules.
 *
 * The input is split at NUL or newline bytes into the six fields recipient,
 * type, status, source, consentDate, recipientType (missing trailing
 * fields are absent). A field spelled "~" is a JSON null, "#" a non-string
 * value, and a seventh piece, when present, is an unknown field name; an
 * eighth and a ninth are retailerCode and retailerAccess. The
 * last input byte also picks the options (İYS sources allowed or not) and
 * the current record the rules judge against. Invariants: validation either
 * succeeds with no errors and a non-empty recipient, or fails with 1 to
 * IZ_VERR_MAX errors, each a known code naming a field; the rules return
 * NULL or a known code, and only validated changes reach them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/consent.h"
#include "core/hcode.h"
#include "core/iz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static iz_field_t to_field(const char *s, size_t len)
{
    iz_field_t f = {IZ_FIELD_STRING, s, len};
    if (len == 1 && s[0] == '~')
        f.kind = IZ_FIELD_NULL;
    else if (len == 1 && s[0] == '#')
        f.kind = IZ_FIELD_NOT_STRING;
    if (f.kind != IZ_FIELD_STRING) {
        f.s = NULL;
        f.len = 0;
    }
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    iz_field_t f[8];
    char extra[64] = "";
    const char *unknown = NULL;
    char *buf;
    size_t start = 0, nf = 0;
    unsigned sel = size ? data[size - 1] : 0;
    iz_consent_raw_t raw;
    iz_validate_opts_t opts;
    iz_consent_t c;
    iz_verrs_t errs;
    int rc;

    buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    for (int i = 0; i < 8; i++)
        f[i] = (iz_field_t){IZ_FIELD_ABSENT, NULL, 0};
    for (size_t i = 0; i <= size && nf < 9; i++) {
        if (i == size || buf[i] == '\0' || buf[i] == '\n') {
            if (nf < 6 || nf > 6) {
                f[nf < 6 ? nf : nf - 1] = to_field(buf + start, i - start);
            } else if (i > start) {
                size_t n = i - start < sizeof(extra) - 1 ? i - start : sizeof(extra) - 1;
                memcpy(extra, buf + start, n);
                extra[n] = '\0';
                unknown = extra;
            }
            nf++;
            start = i + 1;
        }
    }
    /* an empty input leaves every field absent */
    if (size == 0) f[0] = (iz_field_t){IZ_FIELD_ABSENT, NULL, 0};

    raw = (iz_consent_raw_t){f[0], f[1], f[2], f[3], f[4], f[5], unknown, f[6], f[7]};
    opts.now = 1767258000LL; /* 2026-01-01 12:00:00 TR */
    opts.allow_iys_sources = (sel & 1) != 0;
    memset(&errs, 0x5a, sizeof(errs));
    rc = iz_consent_validate(&raw, &opts, &c, &errs);
    if (rc == IZ_OK) {
        CHECK(errs.n == 0);
        CHECK(c.recipient[0] != '\0');
        CHECK(c.type != IZ_TYPE_NONE && c.status != IZ_STATUS_NONE && c.rtype != IZ_RTYPE_NONE);
        CHECK(c.rtype == IZ_TACIR || (c.source != IZ_SOURCE_NONE && c.consent_date != 0));
        CHECK(c.consent_date == 0 ||
              (c.consent_date >= IZ_EPOCH_2015 && c.consent_date <= opts.now));
        CHECK(opts.allow_iys_sources || c.source == IZ_SOURCE_NONE || iz_source_is_hs(c.source));
        CHECK(c.source != IZ_HS_KARAR || c.status == IZ_RET);
        CHECK(c.source != IZ_HS_2015 || c.consent_date == IZ_EPOCH_2015);
        CHECK(c.retail.n <= IZ_RETAIL_ACCESS_MAX);
        CHECK(c.retail.code == 0 ||
              (c.retail.code >= IZ_RETAIL_CODE_MIN && c.retail.code <= IZ_RETAIL_CODE_MAX));
        for (uint32_t k = 0; k < c.retail.n; k++)
            CHECK(c.retail.access[k] >= IZ_RETAIL_CODE_MIN &&
                  c.retail.access[k] <= IZ_RETAIL_CODE_MAX);

        iz_current_t cur = {(sel & 2) != 0, (sel & 4) ? IZ_RET : IZ_ONAY, IZ_HS_WEB,
                            (sel & 8) ? 0 : 1700000000LL};
        iz_rules_ctx_t ctx = {opts.now, (sel & 16) ? 1735678800LL : 0, NULL};
        const char *code = iz_consent_rules(&c, &cur, &ctx);
        CHECK(code == NULL || iz_hcode(code) != NULL);
        if (!cur.exists && c.status == IZ_RET) CHECK(code != NULL);
        if (cur.exists && c.status == cur.status) CHECK(code != NULL);
    } else {
        CHECK(rc == IZ_ERULE);
        CHECK(errs.n >= 1 && errs.n <= IZ_VERR_MAX);
        for (int i = 0; i < errs.n; i++) {
            CHECK(errs.e[i].code && iz_hcode(errs.e[i].code) != NULL);
            CHECK(errs.e[i].field != NULL);
        }
    }
    free(buf);
    return 0;
}
