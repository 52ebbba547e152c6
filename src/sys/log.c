/*
 * log.c - structured log lines in logfmt (see log.h).
 *
 * The fields are formatted by a small printf of our own: it hands every
 * conversion but %s to snprintf and writes %s values through the logfmt
 * escaper, so a value can never end the line or fake a pair.
 */
#include "sys/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int min_level = IZ_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void iz_log_set_level(iz_log_level_t level)
{
    atomic_store(&min_level, (int)level);
}

int iz_log_level_parse(const char *s, iz_log_level_t *out)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (iz_log_level_t)i;
            return 0;
        }
    return -1;
}

/* A bounded output buffer; `cut` is set once something did not fit. The
 * last 8 bytes are kept free for " cut=1". */
typedef struct out {
    char *p;
    size_t len, cap;
    bool cut;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->cut) return;
    if (o->len + n > o->cap) {
        n = o->cap - o->len;
        /* Never leave half of a UTF-8 character behind. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        o->cut = true;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void putc_(out_t *o, char c)
{
    put(o, &c, 1);
}

/* Whether a value must be quoted: empty, or holding a space, quote, '=',
 * backslash or any control byte. */
static bool needs_quotes(const char *s)
{
    if (!*s) return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7F) return true;
    return false;
}

/* Write s as one logfmt value. */
static void put_value(out_t *o, const char *s)
{
    if (!s) s = "(null)";
    if (!needs_quotes(s)) {
        put(o, s, strlen(s));
        return;
    }
    putc_(o, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* The escapes of JSON and logfmt readers: \" \\ \n \r \t, and
         * \xNN for any other control byte. */
        static const char raw[] = "\"\\\n\r\t", shown[] = "\"\\nrt";
        const char *named = strchr(raw, *p);
        if (named) {
            char esc[2] = {'\\', shown[named - raw]};
            put(o, esc, 2);
        } else if (*p < 0x20 || *p == 0x7F) {
            char esc[5];
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            put(o, esc, 4);
        } else {
            putc_(o, (char)*p);
        }
    }
    putc_(o, '"');
}

/* One conversion other than %s: spec is "%...X" (NUL-terminated). The spec
 * is cut out of iz_logf's format, which the compiler has checked against
 * the arguments at the call (format attribute), hence the pragma. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void put_conv(out_t *o, const char *spec, char conv, const char *len, va_list *ap)
{
    char tmp[128];
    int n = 0;
    /* An integer is read at the width its length modifier says, then
     * written as an intmax_t: the spec's modifier becomes "j". */
    char jspec[40];
    size_t sl = strlen(spec) - 1 - strlen(len);
    snprintf(jspec, sizeof jspec, "%.*sj%c", (int)sl, spec, conv);
    bool ll = strcmp(len, "ll") == 0, l = strcmp(len, "l") == 0, j = strcmp(len, "j") == 0;
    bool z = strcmp(len, "z") == 0 || strcmp(len, "t") == 0;
    switch (conv) {
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
        /* Signed values keep their two's-complement bits in v and are cast
         * back to intmax_t to be written. */
        bool sign = conv == 'd' || conv == 'i';
        uintmax_t v;
        if (ll)
            v = sign ? (uintmax_t)va_arg(*ap, long long) : va_arg(*ap, unsigned long long);
        else if (l)
            v = sign ? (uintmax_t)va_arg(*ap, long) : va_arg(*ap, unsigned long);
        else if (z)
            v = sign ? (uintmax_t)va_arg(*ap, ptrdiff_t) : va_arg(*ap, size_t);
        else if (j)
            v = sign ? (uintmax_t)va_arg(*ap, intmax_t) : va_arg(*ap, uintmax_t);
        else
            v = sign ? (uintmax_t)va_arg(*ap, int) : va_arg(*ap, unsigned);
        n = sign ? snprintf(tmp, sizeof tmp, jspec, (intmax_t)v)
                 : snprintf(tmp, sizeof tmp, jspec, v);
        break;
    }
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 'e':
    case 'E':
        n = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, double));
        break;
    case 'c': {
        char s[2] = {(char)va_arg(*ap, int), '\0'};
        put_value(o, s);
        return;
    }
    case 'p':
        n = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, void *));
        break;
    default:
        n = snprintf(tmp, sizeof tmp, "%%%c", conv);
    }
    if (n > 0) put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
#pragma GCC diagnostic pop

/* printf into o with every %s escaped as a logfmt value. Widths and
 * precisions given as '*' are taken from the arguments. */
static void put_fields(out_t *o, const char *fmt, va_list *ap)
{
    for (const char *f = fmt; *f;) {
        if (*f != '%') {
            const char *pct = strchr(f, '%');
            size_t n = pct ? (size_t)(pct - f) : strlen(f);
            /* The format is the programmer's, but a newline in it would
             * still break the one-line promise. */
            for (size_t i = 0; i < n; i++)
                putc_(o, f[i] == '\n' || f[i] == '\r' ? ' ' : f[i]);
            f += n;
            continue;
        }
        if (f[1] == '%') {
            putc_(o, '%');
            f += 2;
            continue;
        }
        char spec[32];
        size_t sl = 0;
        spec[sl++] = *f++;
        int star_w = -1, prec = -1;
        while (*f && strchr("-+ #0", *f) && sl < 8)
            spec[sl++] = *f++;
        if (*f == '*') {
            star_w = va_arg(*ap, int);
            sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%d", star_w);
            f++;
        }
        while (*f >= '0' && *f <= '9' && sl < 16)
            spec[sl++] = *f++;
        if (*f == '.') {
            spec[sl++] = *f++;
            prec = 0;
            if (*f == '*') {
                prec = va_arg(*ap, int);
                if (prec < 0) prec = 0;
                sl += (size_t)snprintf(spec + sl, sizeof spec - sl, "%d", prec);
                f++;
            }
            while (*f >= '0' && *f <= '9' && sl < 24) {
                if (prec < 100000) prec = prec * 10 + (*f - '0');
                spec[sl++] = *f++;
            }
        }
        char len[3] = "";
        size_t ll = 0;
        while (*f && strchr("hlzjtL", *f) && ll < 2) {
            len[ll++] = *f;
            spec[sl++] = *f++;
        }
        len[ll] = '\0';
        char conv = *f ? *f++ : 's';
        spec[sl++] = conv;
        spec[sl] = '\0';
        if (conv == 's') {
            const char *s = va_arg(*ap, const char *);
            if (s && prec >= 0) {
                /* "%.*s": a bounded piece of a longer string. */
                char piece[IZ_LOG_LINE_MAX];
                size_t n = strnlen(s, (size_t)prec < sizeof piece - 1 ? (size_t)prec
                                                                      : sizeof piece - 1);
                memcpy(piece, s, n);
                piece[n] = '\0';
                put_value(o, piece);
            } else {
                put_value(o, s);
            }
        } else {
            put_conv(o, spec, conv, len, ap);
        }
    }
}

size_t iz__log_format(char *buf, size_t size, int64_t t_ms, iz_log_level_t level, const char *comp,
                      const char *msg, const char *fmt, va_list ap)
{
    out_t o = {.p = buf, .len = 0, .cap = size - 8};
    time_t secs = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char head[64];
    int n = snprintf(head, sizeof head, "time=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s comp=",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(t_ms % 1000),
                     level_names[level >= IZ_LOG_DEBUG && level <= IZ_LOG_ERROR ? level : 3]);
    put(&o, head, (size_t)n);
    put_value(&o, comp ? comp : "izin");
    if (msg) {
        put(&o, " msg=", 5);
        put_value(&o, msg);
    }
    if (fmt && *fmt) {
        putc_(&o, ' ');
        va_list cp;
        va_copy(cp, ap);
        put_fields(&o, fmt, &cp);
        va_end(cp);
    }
    if (o.cut) {
        memcpy(buf + o.len, " cut=1", 6);
        o.len += 6;
    }
    buf[o.len] = '\0';
    return o.len;
}

void iz_logf(iz_log_level_t level, const char *comp, const char *msg, const char *fmt, ...)
{
    if ((int)level < atomic_load(&min_level)) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char line[IZ_LOG_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    size_t n = iz__log_format(line, sizeof line - 1, t_ms, level, comp, msg, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    /* One write: the line lands whole (stderr is unbuffered anyway). */
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
}
