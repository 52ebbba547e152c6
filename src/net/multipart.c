/*
 * multipart.c - the streaming multipart/form-data reader (multipart.h).
 *
 * The body is searched for the delimiter "\r\n--boundary". The buffer
 * starts with a CRLF of our own so that the first delimiter, which has
 * none before it, is found the same way. Part data is handed on as soon as
 * it cannot be the start of a delimiter: all but the last delimiter's
 * length of the buffer.
 */
#include "net/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/iz.h"

#define BUF_DATA (64 * 1024) /* room for part data beyond a header block */

typedef enum { PREAMBLE, AFTER_DELIM, HEADERS, BODY, END, FAILED } state_t;

struct iz_multipart {
    iz_multipart_cb_t cb;
    void *ctx;
    char delim[IZ_MULTIPART_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
    size_t dlen;
    state_t state;
    int rc; /* the error that stopped the reader */
    size_t parts;
    char *buf;
    size_t used, cap;
};

static bool boundary_char(char c)
{
    /* RFC 2046's bchars, space included except at the end. */
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

int iz_multipart_boundary(const char *ct, char *out)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) return IZ_EINVAL;
    const char *p = ct + 19;
    while (*p) {
        while (*p == ';' || *p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "boundary=", 9) != 0) {
            const char *semi = strchr(p, ';');
            if (!semi) break;
            p = semi;
            continue;
        }
        p += 9;
        bool quoted = *p == '"';
        if (quoted) p++;
        size_t n = 0;
        while (p[n] && (quoted ? p[n] != '"' : p[n] != ';' && p[n] != ' ')) {
            if (n >= IZ_MULTIPART_BOUNDARY_MAX || !boundary_char(p[n])) return IZ_EINVAL;
            out[n] = p[n];
            n++;
        }
        if (n == 0 || (quoted && p[n] != '"') || out[n - 1] == ' ') return IZ_EINVAL;
        out[n] = '\0';
        return 0;
    }
    return IZ_EINVAL;
}

iz_multipart_t *iz_multipart_new(const char *boundary, const iz_multipart_cb_t *cb, void *ctx)
{
    iz_multipart_t *m = iz_xcalloc(1, sizeof *m);
    m->cb = *cb;
    m->ctx = ctx;
    m->dlen = (size_t)snprintf(m->delim, sizeof m->delim, "\r\n--%s", boundary);
    m->cap = IZ_MULTIPART_HEADER_MAX + BUF_DATA + sizeof m->delim;
    m->buf = iz_xmalloc(m->cap);
    memcpy(m->buf, "\r\n", 2); /* the first delimiter has no CRLF before it */
    m->used = 2;
    m->state = PREAMBLE;
    return m;
}

void iz_multipart_free(iz_multipart_t *m)
{
    if (!m) return;
    free(m->buf);
    free(m);
}

static void drop(iz_multipart_t *m, size_t n)
{
    memmove(m->buf, m->buf + n, m->used - n);
    m->used -= n;
}

static int fail(iz_multipart_t *m, int rc)
{
    m->state = FAILED;
    m->rc = rc;
    return rc;
}

/* The value of parameter key (name, filename) in a Content-Disposition's
 * text (hdr, len bytes) into out: 1 found, 0 absent, -1 over size. */
static int param(const char *hdr, size_t len, const char *key, char *out, size_t size, bool cut)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 1 < len; i++) {
        if ((i > 0 && hdr[i - 1] != ';' && hdr[i - 1] != ' ') ||
            strncasecmp(hdr + i, key, klen) != 0 || hdr[i + klen] != '=')
            continue;
        const char *v = hdr + i + klen + 1, *end = hdr + len;
        bool quoted = v < end && *v == '"';
        if (quoted) v++;
        size_t n = 0;
        while (v + n < end && (quoted ? v[n] != '"' : v[n] != ';' && v[n] != ' ')) {
            if (quoted && v[n] == '\\' && v + n + 1 < end) v++; /* a quoted-pair */
            if (n + 1 >= size) {
                if (!cut) return -1;
                /* Cut at a character's boundary: when the byte that does
                 * not fit continues a character, its start goes too. */
                if (((unsigned char)v[n] & 0xC0) == 0x80)
                    while (n > 0 && ((unsigned char)out[--n] & 0xC0) == 0x80) {
                    }
                break;
            }
            out[n] = v[n];
            n++;
        }
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* Read a part's header block (len bytes, lines ended by CRLF) and announce
 * the part. */
static int part_begin(iz_multipart_t *m, const char *h, size_t len)
{
    iz_multipart_part_t p;
    memset(&p, 0, sizeof p);
    bool named = false;
    for (size_t i = 0; i < len;) {
        const char *eol = memmem(h + i, len - i, "\r\n", 2);
        size_t n = eol ? (size_t)(eol - (h + i)) : len - i;
        const char *line = h + i;
        i += n + 2;
        if (n > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
            const char *v = line + 20;
            size_t vn = n - 20;
            while (vn && *v == ' ') {
                v++;
                vn--;
            }
            if (vn < 9 || strncasecmp(v, "form-data", 9) != 0) return fail(m, IZ_EINVAL);
            int rc = param(v, vn, "name", p.name, sizeof p.name, false);
            if (rc < 0) return fail(m, IZ_EINVAL);
            named = rc == 1 && p.name[0];
            rc = param(v, vn, "filename", p.filename, sizeof p.filename, true);
            p.has_filename = rc == 1;
        } else if (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
            const char *v = line + 13;
            size_t vn = n - 13;
            while (vn && *v == ' ') {
                v++;
                vn--;
            }
            if (vn >= sizeof p.type) return fail(m, IZ_EINVAL);
            memcpy(p.type, v, vn);
            p.type[vn] = '\0';
        }
    }
    if (!named || ++m->parts > IZ_MULTIPART_PARTS_MAX) return fail(m, IZ_EINVAL);
    int rc = m->cb.part(m->ctx, &p);
    return rc ? fail(m, rc) : 0;
}

static int emit(iz_multipart_t *m, size_t n)
{
    if (n == 0) return 0;
    int rc = m->cb.data(m->ctx, m->buf, n);
    if (rc) return fail(m, rc);
    drop(m, n);
    return 0;
}

/* Work through the buffer as far as it goes. */
static int run(iz_multipart_t *m)
{
    for (;;) {
        switch (m->state) {
        case PREAMBLE:
        case BODY: {
            const char *d = memmem(m->buf, m->used, m->delim, m->dlen);
            if (!d) {
                size_t keep = m->dlen - 1;
                if (m->used <= keep) return 0;
                if (m->state == PREAMBLE) {
                    drop(m, m->used - keep);
                    return 0;
                }
                return emit(m, m->used - keep);
            }
            size_t at = (size_t)(d - m->buf);
            if (m->state == BODY && emit(m, at) != 0) return m->rc;
            if (m->state == PREAMBLE) drop(m, at);
            drop(m, m->dlen);
            m->state = AFTER_DELIM;
            break;
        }
        case AFTER_DELIM:
            while (m->used && (m->buf[0] == ' ' || m->buf[0] == '\t'))
                drop(m, 1); /* transport padding */
            if (m->used < 2) return 0;
            if (memcmp(m->buf, "--", 2) == 0) {
                m->state = END;
                m->used = 0;
                return 0;
            }
            if (memcmp(m->buf, "\r\n", 2) != 0) return fail(m, IZ_EINVAL);
            drop(m, 2);
            m->state = HEADERS;
            break;
        case HEADERS: {
            if (m->used >= 2 && memcmp(m->buf, "\r\n", 2) == 0)
                return fail(m, IZ_EINVAL); /* no header at all: a part without a name */
            const char *e = memmem(m->buf, m->used, "\r\n\r\n", 4);
            if (!e) {
                if (m->used > IZ_MULTIPART_HEADER_MAX) return fail(m, IZ_EINVAL);
                return 0;
            }
            size_t hlen = (size_t)(e - m->buf);
            if (hlen > IZ_MULTIPART_HEADER_MAX) return fail(m, IZ_EINVAL);
            if (part_begin(m, m->buf, hlen) != 0) return m->rc;
            drop(m, hlen + 4);
            m->state = BODY;
            break;
        }
        case END:
            m->used = 0; /* the epilogue */
            return 0;
        case FAILED:
            return m->rc;
        }
    }
}

int iz_multipart_feed(iz_multipart_t *m, const char *data, size_t len)
{
    while (len > 0) {
        if (m->state == FAILED) return m->rc;
        if (m->state == END) return 0;
        size_t room = m->cap - m->used;
        if (room == 0) return fail(m, IZ_EINVAL); /* a header block that never ends */
        size_t k = len < room ? len : room;
        memcpy(m->buf + m->used, data, k);
        m->used += k;
        data += k;
        len -= k;
        int rc = run(m);
        if (rc) return rc;
    }
    return m->state == FAILED ? m->rc : 0;
}

int iz_multipart_finish(iz_multipart_t *m)
{
    if (m->state == FAILED) return m->rc;
    return m->state == END ? 0 : IZ_EINVAL;
}
