/*
 * log.h - izin's structured log: one line per event on standard error, in
 * logfmt (key=value pairs), so that people read it and tools parse it:
 *
 *   time=2026-12-02T03:47:44.123Z level=warn comp=sync msg="İYS refused a change" id=42 code=H174
 *
 * iz_logf() takes a printf format for the fields after msg. Every %s value
 * is written as one logfmt value: quoted when it holds a space, a quote,
 * '=' or nothing, and with control bytes escaped (\n \r \t \" \\ \xNN), so
 * that no value - a request path, a header, an answer from İYS - can start
 * a forged line or break the pairs. Numbers (%d %lld %zu %u %f %x ...) are
 * written as printf writes them. The format itself is the programmer's and
 * is written as it stands.
 *
 * A line is at most IZ_LOG_LINE_MAX bytes; a longer one is cut where it
 * reaches the limit and ends with the pair cut=1: never cut silently. Each
 * line goes out with one write(2), so lines of many threads never
 * interleave.
 *
 * Secrets (passwords, keys, tokens) are never passed to the log.
 */
#ifndef IZ_LOG_H
#define IZ_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { IZ_LOG_DEBUG = 0, IZ_LOG_INFO, IZ_LOG_WARN, IZ_LOG_ERROR } iz_log_level_t;

#define IZ_LOG_LINE_MAX 4096

/* Write one event: level, component ("http", "store", "sync", ...), a
 * message (msg=), then the fields of fmt (may be NULL or ""). Lines below
 * the current level are dropped. */
void iz_logf(iz_log_level_t level, const char *comp, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The lowest level written (default IZ_LOG_INFO). */
void iz_log_set_level(iz_log_level_t level);

/* "debug", "info", "warn", "error" to a level; 0, or -1 when unknown. */
int iz_log_level_parse(const char *s, iz_log_level_t *out);

/* Format one line into buf (size bytes, at least 64) without the newline,
 * as iz_logf would write it at time t_ms (epoch milliseconds); returns its
 * length. For the unit tests and the fuzz driver. */
size_t iz__log_format(char *buf, size_t size, int64_t t_ms, iz_log_level_t level, const char *comp,
                      const char *msg, const char *fmt, va_list ap);

#endif
