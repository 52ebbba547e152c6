/*
 * fuzz_holidays.c - libFuzzer driver for the holiday table's CSV parser.
 *
 * Invariants: a table that parses answers every business-day question
 * without crashing, weekends are never business days, and a deadline is
 * always after the consent and on a business day.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/iz.h"
#include "core/trtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    iz_holidays_t *h = NULL;
    int rc = iz_holidays_parse((const char *)data, size, &h);
    if (rc != 0) {
        if (h) abort();
        return 0;
    }
    /* 2020-01-01 .. 2031-01-01 in Turkey time, a day at a time */
    for (int64_t t = 1577826000; t < 1924981200; t += 86400 * 7 + 3600) {
        int64_t day = iz_tr_day(t);
        int64_t dow = (day + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
        bool bd = iz_is_business_day(h, day);
        if ((dow == 0 || dow == 6) && bd) abort();
        int64_t dl = iz_bizday_deadline(h, t);
        if (dl <= t || !iz_is_business_day(h, iz_tr_day(dl))) abort();
        if (iz_bizdays_between(h, t, dl) != 3) abort();
    }
    iz_holidays_free(h);
    return 0;
}
