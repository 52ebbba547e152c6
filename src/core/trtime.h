/*
 * trtime.h - Turkey time and Turkish business days.
 *
 * İYS dates are "YYYY-MM-DD HH:MM:SS" in Turkey time, UTC+3 with no DST
 * (since 2016; izin treats all of its range as UTC+3). Internally izin keeps
 * times as Unix epoch seconds (int64).
 *
 * Business days skip Saturdays, Sundays and the official holidays of the
 * holiday table. A "half" day (afternoon off) counts as a working day, and
 * so does an "admin" day (public-sector leave, a working day for private
 * business). The table is the CSV "date,name,kind" of data/tr-holidays.csv.
 *
 * The 3-business-day rule: the day of the consentDate is day 0; a change may
 * be registered until 23:59:59 Turkey time of the third business day after
 * it. The same count gives the deadline by which a RET must reach İYS.
 */
#ifndef IZ_TRTIME_H
#define IZ_TRTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IZ_TR_OFFSET (3 * 3600)
#define IZ_DATETIME_LEN 20 /* "YYYY-MM-DD HH:MM:SS" + NUL */

/* 2015-05-01 00:00:00 Turkey time, the earliest consentDate İYS accepts. */
#define IZ_EPOCH_2015 1430427600LL

/* Parse "YYYY-MM-DD HH:MM:SS" (Turkey time) into epoch seconds.
 * Returns 0, or IZ_EINVAL with *hcode "H158" (not that format) or "H157"
 * (that format but not a real date or time). */
int iz_tr_parse(const char *s, size_t len, int64_t *epoch, const char **hcode);

/* Format epoch seconds as "YYYY-MM-DD HH:MM:SS" Turkey time. */
void iz_tr_format(int64_t epoch, char out[IZ_DATETIME_LEN]);

/* Parse a plain "YYYY-MM-DD" date; *epoch is its 00:00:00 Turkey time. */
int iz_tr_parse_date(const char *s, int64_t *epoch);

/* Days since 1970-01-01 of the Turkey-time calendar day containing epoch. */
int64_t iz_tr_day(int64_t epoch);

typedef struct iz_holidays iz_holidays_t;

/* Load a holiday table from CSV text (header "date,name,kind"; quoted
 * fields allowed; LF or CRLF; an optional UTF-8 BOM; kinds "full", "half",
 * "admin"). Returns 0, IZ_EINVAL for a malformed table, or IZ_ETOOBIG for
 * text over 1 MiB. The caller frees *out with iz_holidays_free(). */
int iz_holidays_parse(const char *csv, size_t len, iz_holidays_t **out);

/* Load the table from a file. IZ_EIO when it cannot be read, otherwise as
 * iz_holidays_parse(). The only function of core/ that does I/O. */
int iz_holidays_load(const char *path, iz_holidays_t **out);

/* An empty table (weekends only). */
iz_holidays_t *iz_holidays_empty(void);

void iz_holidays_free(iz_holidays_t *h);

/* Number of holiday rows loaded (all kinds). */
size_t iz_holidays_count(const iz_holidays_t *h);

/* True when the day (days since epoch, Turkey calendar) is a working day
 * for private business. h may be NULL (weekends only). */
bool iz_is_business_day(const iz_holidays_t *h, int64_t day);

/* The last second (23:59:59 Turkey time) on which a change dated
 * consent_epoch may still be registered: end of the 3rd business day after
 * the consent's day. */
int64_t iz_bizday_deadline(const iz_holidays_t *h, int64_t consent_epoch);

/* Business days from the day of `from` to the day of `to` (0 when the same
 * day or to is earlier): the number of business days d with
 * day(from) < d <= day(to). */
int iz_bizdays_between(const iz_holidays_t *h, int64_t from, int64_t to);

#endif
