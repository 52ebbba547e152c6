/*
 * trtime.c - Turkey time and Turkish business days.
 *
 * Turkey has kept UTC+3 all year since 2016, and İYS's dates (which start in
 * 2015) are read as Turkey time, so converting is plain arithmetic with a
 * fixed offset. The libc time zone functions are avoided on purpose: they
 * depend on the TZ environment and on files of the host, and a server that
 * judges legal deadlines must compute the same answer everywhere. Calendar
 * conversion uses the days-from-civil algorithm of the proleptic Gregorian
 * calendar (H. Hinnant), exact for any year.
 *
 * Business days skip Saturdays, Sundays and the days of the holiday table
 * marked "full". A "half" day (the afternoon before a bayram) and an "admin"
 * day (leave for public servants only) are working days for private
 * business, so they do not move a deadline. The table is kept as an array
 * sorted by day with one entry per date (duplicate rows are merged into a
 * set of kinds), searched by bisection.
 */
#include "core/trtime.h"

#include <limits.h>
#include <stdio.h> /* iz_holidays_load only */
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"

#define DAY_SECS 86400
#define HOLIDAYS_MAX_BYTES (1024 * 1024) /* a table of decades is ~10 KiB */
#define CSV_FIELD_MAX 512                /* one field of the holiday table */

/* The kinds of a holiday row, as bits: one date may carry several rows. */
enum { KIND_FULL = 1, KIND_HALF = 2, KIND_ADMIN = 4 };

typedef struct holiday {
    int64_t day; /* days since 1970-01-01, Turkey calendar */
    unsigned kinds;
} holiday_t;

struct iz_holidays {
    holiday_t *v; /* sorted by day, days unique */
    size_t n;     /* entries in v */
    size_t rows;  /* rows read, all kinds, duplicates included */
};

/* Floor division, for days and seconds before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of the civil date y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The civil date of a day count since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s into *v; 0 when one of them is not a digit. */
static int digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

/* "YYYY-MM-DD" at s (10 bytes): 1 when the shape is right, fields in y m d. */
static int date_shape(const char *s, int *y, int *m, int *d)
{
    return digits(s, 4, y) && s[4] == '-' && digits(s + 5, 2, m) && s[7] == '-' &&
           digits(s + 8, 2, d);
}

static int date_valid(int y, int m, int d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

int iz_tr_parse(const char *s, size_t len, int64_t *epoch, const char **hcode)
{
    int y, mo, d, h, mi, se;
    const char *code = "H158";

    if (s && len == IZ_DATETIME_LEN - 1 && date_shape(s, &y, &mo, &d) && s[10] == ' ' &&
        digits(s + 11, 2, &h) && s[13] == ':' && digits(s + 14, 2, &mi) && s[16] == ':' &&
        digits(s + 17, 2, &se)) {
        /* The shape is right; now the values must name a real instant.
         * 24:00:00 and leap seconds are refused: İYS stores neither. */
        if (date_valid(y, mo, d) && h <= 23 && mi <= 59 && se <= 59) {
            if (epoch)
                *epoch =
                    days_from_civil(y, mo, d) * DAY_SECS + h * 3600 + mi * 60 + se - IZ_TR_OFFSET;
            return IZ_OK;
        }
        code = "H157";
    }
    if (hcode) *hcode = code;
    return IZ_EINVAL;
}

/* v as exactly n decimal digits, zero-padded. */
static void put_digits(char *s, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        s[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void iz_tr_format(int64_t epoch, char out[IZ_DATETIME_LEN])
{
    /* Clamp to years 0000..9999 so that the text always fits. */
    static const int64_t lo = -62167219200LL - IZ_TR_OFFSET; /* 0000-01-01 00:00:00 */
    static const int64_t hi = 253402300799LL - IZ_TR_OFFSET; /* 9999-12-31 23:59:59 */
    int64_t t, day, secs, y;
    int m, d;

    if (epoch < lo) epoch = lo;
    if (epoch > hi) epoch = hi;
    t = epoch + IZ_TR_OFFSET;
    day = floor_div(t, DAY_SECS);
    secs = t - day * DAY_SECS;
    civil_from_days(day, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, (unsigned)m, 2);
    out[7] = '-';
    put_digits(out + 8, (unsigned)d, 2);
    out[10] = ' ';
    put_digits(out + 11, (unsigned)(secs / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(secs / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(secs % 60), 2);
    out[19] = '\0';
}

int iz_tr_parse_date(const char *s, int64_t *epoch)
{
    int y, m, d;
    if (!s || strnlen(s, 11) != 10 || !date_shape(s, &y, &m, &d) || !date_valid(y, m, d))
        return IZ_EINVAL;
    if (epoch) *epoch = days_from_civil(y, m, d) * DAY_SECS - IZ_TR_OFFSET;
    return IZ_OK;
}

int64_t iz_tr_day(int64_t epoch)
{
    /* epoch + offset cannot overflow for any time izin meets; saturate
     * instead of wrapping for the extreme values a fuzzer may pass. */
    if (epoch > INT64_MAX - IZ_TR_OFFSET) epoch = INT64_MAX - IZ_TR_OFFSET;
    return floor_div(epoch + IZ_TR_OFFSET, DAY_SECS);
}

/* ---- the holiday table ---- */

/* One CSV record reader over a bounded text: fields may be quoted, with ""
 * standing for a quote inside; records end at "\n" or "\r\n". */
typedef struct csv {
    const char *p, *end;
} csv_t;

/* Read one field into buf (NUL-terminated). *last is set when the field
 * ended its record. Returns 0, or -1 for a malformed or over-long field. */
static int csv_field(csv_t *c, char *buf, size_t bufsz, int *last)
{
    size_t n = 0;
    int quoted = 0;

    if (c->p < c->end && *c->p == '"') {
        quoted = 1;
        c->p++;
    }
    for (;;) {
        char ch;
        if (c->p >= c->end) {
            if (quoted) return -1; /* unterminated quote */
            *last = 1;
            break;
        }
        ch = *c->p++;
        if (quoted) {
            if (ch == '"') {
                if (c->p < c->end && *c->p == '"') {
                    c->p++;
                } else {
                    quoted = 0; /* closing quote: a separator must follow */
                    if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') return -1;
                    continue;
                }
            }
        } else if (ch == ',') {
            *last = 0;
            break;
        } else if (ch == '\n') {
            *last = 1;
            break;
        } else if (ch == '\r') {
            if (c->p < c->end && *c->p == '\n') c->p++;
            *last = 1;
            break;
        } else if (ch == '"') {
            return -1; /* a quote inside an unquoted field */
        }
        if (n + 1 >= bufsz) return -1;
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return 0;
}

/* Read one record of exactly three fields. Returns 1 when one was read, 0 at
 * the end of the text, -1 when malformed. Blank lines are skipped. */
static int csv_record3(csv_t *c, char f[3][CSV_FIELD_MAX])
{
    int last = 0;

    while (c->p < c->end && (*c->p == '\n' || *c->p == '\r'))
        c->p++;
    if (c->p >= c->end) return 0;
    for (int i = 0; i < 3; i++) {
        if (csv_field(c, f[i], CSV_FIELD_MAX, &last) < 0) return -1;
        if (last != (i == 2)) return -1; /* too few or too many fields */
    }
    return 1;
}

static int cmp_holiday(const void *a, const void *b)
{
    const holiday_t *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

int iz_holidays_parse(const char *csv, size_t len, iz_holidays_t **out)
{
    char f[3][CSV_FIELD_MAX];
    csv_t c;
    iz_holidays_t *h;
    size_t cap = 0, j;
    int r;

    if (!out || (!csv && len)) return IZ_EINVAL;
    *out = NULL;
    if (len > HOLIDAYS_MAX_BYTES) return IZ_ETOOBIG;
    c.p = csv;
    c.end = csv + len;
    /* A UTF-8 byte order mark, as spreadsheet programs write one. */
    if (len >= 3 && memcmp(csv, "\xEF\xBB\xBF", 3) == 0) c.p += 3;
    if (csv_record3(&c, f) != 1 || strcmp(f[0], "date") || strcmp(f[1], "name") ||
        strcmp(f[2], "kind"))
        return IZ_EINVAL;

    h = iz_xcalloc(1, sizeof(*h));
    while ((r = csv_record3(&c, f)) == 1) {
        int y, m, d;
        unsigned kind;
        if (strlen(f[0]) != 10 || !date_shape(f[0], &y, &m, &d) || !date_valid(y, m, d)) goto bad;
        if (strcmp(f[2], "full") == 0)
            kind = KIND_FULL;
        else if (strcmp(f[2], "half") == 0)
            kind = KIND_HALF;
        else if (strcmp(f[2], "admin") == 0)
            kind = KIND_ADMIN;
        else
            goto bad;
        if (h->n == cap) {
            cap = cap ? cap * 2 : 64;
            h->v = iz_xrealloc(h->v, cap * sizeof(h->v[0]));
        }
        h->v[h->n].day = days_from_civil(y, m, d);
        h->v[h->n].kinds = kind;
        h->n++;
        h->rows++;
    }
    if (r < 0) goto bad;

    /* Sort, then merge the rows of one date into one entry. */
    if (h->n > 1) qsort(h->v, h->n, sizeof(h->v[0]), cmp_holiday);
    for (size_t i = j = 0; i < h->n; i++) {
        if (j > 0 && h->v[j - 1].day == h->v[i].day)
            h->v[j - 1].kinds |= h->v[i].kinds;
        else
            h->v[j++] = h->v[i];
    }
    h->n = j;
    *out = h;
    return IZ_OK;
bad:
    iz_holidays_free(h);
    return IZ_EINVAL;
}

/* The one function of core that reads a file: the table is data that ships
 * with izin, and every caller (server, CLI, tests) loads it the same way. */
int iz_holidays_load(const char *path, iz_holidays_t **out)
{
    FILE *f;
    char *buf;
    size_t n;
    int rc;

    if (!path || !out) return IZ_EINVAL;
    *out = NULL;
    f = fopen(path, "rb");
    if (!f) return IZ_EIO;
    buf = iz_xmalloc(HOLIDAYS_MAX_BYTES + 1);
    n = fread(buf, 1, HOLIDAYS_MAX_BYTES + 1, f);
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return IZ_EIO;
    }
    fclose(f);
    rc = n > HOLIDAYS_MAX_BYTES ? IZ_ETOOBIG : iz_holidays_parse(buf, n, out);
    free(buf);
    return rc;
}

iz_holidays_t *iz_holidays_empty(void)
{
    return iz_xcalloc(1, sizeof(iz_holidays_t));
}

void iz_holidays_free(iz_holidays_t *h)
{
    if (!h) return;
    free(h->v);
    free(h);
}

size_t iz_holidays_count(const iz_holidays_t *h)
{
    return h ? h->rows : 0;
}

/* Index of the first entry whose day is >= day (h->n when none). */
static size_t lower_bound(const iz_holidays_t *h, int64_t day)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->v[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 0 for Sunday .. 6 for Saturday; 1970-01-01 was a Thursday. */
static int weekday(int64_t day)
{
    return (int)(day - floor_div(day + 4, 7) * 7 + 4);
}

static int is_weekend(int64_t day)
{
    int w = weekday(day);
    return w == 0 || w == 6;
}

static int is_full_holiday(const iz_holidays_t *h, int64_t day)
{
    size_t i;
    if (!h || h->n == 0) return 0;
    i = lower_bound(h, day);
    return i < h->n && h->v[i].day == day && (h->v[i].kinds & KIND_FULL);
}

bool iz_is_business_day(const iz_holidays_t *h, int64_t day)
{
    return !is_weekend(day) && !is_full_holiday(h, day);
}

int64_t iz_bizday_deadline(const iz_holidays_t *h, int64_t consent_epoch)
{
    int64_t day = iz_tr_day(consent_epoch);
    /* Day 0 is the consent's own day; walk to the third business day after
     * it. The walk ends: the table is finite and weekdays recur. */
    for (int k = 0; k < 3;) {
        day++;
        if (iz_is_business_day(h, day)) k++;
    }
    return (day + 1) * DAY_SECS - 1 - IZ_TR_OFFSET;
}

/* Weekdays (Monday to Friday) among the days d < day, counted from the
 * Monday 1970-01-05 (day 4); negative before it. */
static int64_t weekdays_before(int64_t day)
{
    int64_t n = day - 4;
    int64_t weeks = floor_div(n, 7);
    int64_t rem = n - weeks * 7; /* 0..6, days past the last Monday */
    return weeks * 5 + (rem < 5 ? rem : 5);
}

int iz_bizdays_between(const iz_holidays_t *h, int64_t from, int64_t to)
{
    int64_t a = iz_tr_day(from), b = iz_tr_day(to), n;

    if (b <= a) return 0;
    /* Weekdays in (a, b], computed rather than walked so that a range of
     * years costs nothing, less the full holidays on weekdays in it. */
    n = weekdays_before(b + 1) - weekdays_before(a + 1);
    if (h) {
        for (size_t i = lower_bound(h, a + 1); i < h->n && h->v[i].day <= b; i++)
            if ((h->v[i].kinds & KIND_FULL) && !is_weekend(h->v[i].day)) n--;
    }
    return n > INT_MAX ? INT_MAX : (int)n;
}
