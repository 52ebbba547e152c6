/*
 * panel_ops.c - what the operations pages share (panel_ops.h): forms that
 * carry a file. A browser without script sends a file only as
 * multipart/form-data, so these forms are read as a stream by
 * net/multipart.h: the small fields and a pasted or uploaded list are held
 * in memory up to the page's bound, a bulk file goes straight to its spool
 * file, and the CSRF field is checked once the body is whole (before
 * anything is done with it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iz.h"
#include "web/panel_ops.h"

typedef struct mp_state {
    iz_panel_mp_t mp;
    const char *limit_text;
} mp_state_t;

/* End the part being held in memory: its NUL and its length. */
static void field_end(iz_panel_mp_t *m)
{
    if (m->cur < 0) return;
    if (m->used + 1 > m->cap) {
        m->cap = m->used + 1;
        m->buf = iz_xrealloc(m->buf, m->cap);
    }
    m->form.value_len[m->cur] = m->used - m->off[m->cur];
    m->buf[m->used++] = '\0';
    m->cur = -2;
}

static int on_part(void *ctx, const iz_multipart_part_t *part)
{
    iz_panel_mp_t *m = ctx;
    field_end(m);
    if (m->sink.write && strcmp(part->name, m->sink.field) == 0) {
        if (m->sink_seen) return IZ_EINVAL; /* one file a form */
        m->sink_seen = true;
        iz_strlcpy(m->sink_type, part->type, sizeof m->sink_type);
        iz_strlcpy(m->sink_name, part->filename, sizeof m->sink_name);
        m->cur = -1;
        return 0;
    }
    if (m->form.n >= IZ_FORM_MAX_FIELDS) return IZ_EINVAL;
    m->cur = (int)m->form.n++;
    iz_strlcpy(m->names[m->cur], part->name, sizeof m->names[m->cur]);
    m->off[m->cur] = m->used;
    return 0;
}

static int on_data(void *ctx, const char *data, size_t len)
{
    iz_panel_mp_t *m = ctx;
    if (m->cur == -1) {
        m->sink.write(m->sink.ctx, data, len);
        return 0;
    }
    if (m->cur < 0) return IZ_EINVAL;
    if (m->used + len + 1 > m->max) {
        m->over = true;
        return IZ_ETOOBIG;
    }
    if (m->used + len + 1 > m->cap) {
        m->cap = m->used + len + 1 > m->cap * 2 ? m->used + len + 1 : m->cap * 2;
        m->buf = iz_xrealloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->used, data, len);
    m->used += len;
    return 0;
}

static void mp_chunk(iz_req_t *r, void *state, const char *data, size_t len)
{
    (void)r;
    iz_panel_mp_t *m = &((mp_state_t *)state)->mp;
    if (!m->err) m->err = iz_multipart_feed(m->mp, data, len);
}

void iz__panel_mp_release(iz_panel_mp_t *m)
{
    if (m->sink.free) m->sink.free(m->sink.ctx);
    m->sink.free = NULL;
}

static void mp_done(iz_req_t *r, void *state)
{
    mp_state_t *st = state;
    iz_panel_mp_t *m = &st->mp;
    if (!m->err) m->err = iz_multipart_finish(m->mp);
    if (m->over || m->err) iz__panel_mp_release(m); /* before the answer leaves */
    if (m->over) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "Gönderilen liste sınırın üzerinde: %s. Daha küçük parçalar "
                 "hâlinde gönderin.",
                 st->limit_text);
        iz__panel_refuse(r, m->app, 413, "Liste çok büyük", msg);
        return;
    }
    if (m->err) {
        iz__panel_refuse(r, m->app, 400, "Form okunamadı",
                         "Gönderilen form eksik ya da bozuk geldi. Sayfayı yenileyip tekrar "
                         "deneyin.");
        return;
    }
    field_end(m);
    for (size_t i = 0; i < m->form.n; i++) {
        m->form.name[i] = m->names[i];
        m->form.value[i] = m->buf + m->off[i];
    }
    const iz_page_site_t *site = &iz__panel(m->app)->site;
    if (!iz_page_csrf_ok(r, site, iz_form_value(&m->form, IZ_PAGE_CSRF_FIELD, IZ_PAGE_CSRF_LEN))) {
        iz__panel_mp_release(m);
        iz_page_csrf_refuse(r, site);
        return;
    }
    m->done(r, m);
}

static void mp_free(void *state)
{
    mp_state_t *st = state;
    iz_multipart_free(st->mp.mp);
    iz__panel_mp_release(&st->mp);
    free(st->mp.buf);
    free(st);
}

void iz__panel_mp_start(iz_req_t *r, iz_app_t *app, size_t max, const char *limit_text,
                        const iz_panel_mp_sink_t *sink, iz_panel_mp_done_fn done)
{
    iz_panel_t *pn = iz__panel_or_404(r, app);
    if (!pn) goto out;
    if (iz_page_limit(r, &pn->site, pn->ip_posts)) goto out;
    /* As the kit's urlencoded forms: another site's form is refused
     * whatever it carries; a body that is not multipart has no token. */
    const char *fetch_site = iz_req_header(r, "Sec-Fetch-Site");
    char boundary[IZ_MULTIPART_BOUNDARY_MAX + 1];
    if ((fetch_site && strcmp(fetch_site, "same-origin") != 0) ||
        iz_multipart_boundary(iz_req_header(r, "Content-Type"), boundary) != 0) {
        iz_page_csrf_refuse(r, &pn->site);
        goto out;
    }
    mp_state_t *st = iz_xcalloc(1, sizeof *st);
    iz_panel_mp_t *m = &st->mp;
    if (iz__panel_auth(r, app, &m->s) != 0) {
        free(st);
        goto out;
    }
    st->limit_text = limit_text;
    m->app = app;
    m->max = max;
    m->done = done;
    m->cur = -2;
    if (sink) m->sink = *sink;
    static const iz_multipart_cb_t cb = {on_part, on_data};
    m->mp = iz_multipart_new(boundary, &cb, m);
    iz_req_stream(r, mp_chunk, mp_done, mp_free, st);
    return;
out:
    if (sink && sink->free) sink->free(sink->ctx);
}

const char *iz__panel_lines(iz_req_t *r, const iz_form_t *f, const char *text_field,
                            const char *file_field, size_t *len)
{
    const char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!a && strcmp(f->name[i], text_field) == 0) {
            a = f->value[i];
            na = f->value_len[i];
        } else if (!b && file_field && strcmp(f->name[i], file_field) == 0) {
            b = f->value[i];
            nb = f->value_len[i];
        }
    }
    char *out = iz_req_alloc(r, na + nb + 2);
    if (na) memcpy(out, a, na);
    size_t n = na;
    if (na && nb) out[n++] = '\n';
    if (nb) memcpy(out + n, b, nb);
    n += nb;
    out[n] = '\0';
    *len = n;
    return out;
}

json_t *iz__panel_list_json(const char *text, size_t len, size_t max)
{
    json_t *a = json_array();
    for (size_t i = 0; i < len && json_array_size(a) <= max;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len, b = i, e = end;
        while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r'))
            b++;
        while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
            e--;
        if (e > b) json_array_append_new(a, json_stringn_nocheck(text + b, e - b));
        i = end + 1;
    }
    return a;
}

void iz__panel_form_mp(iz_page_t *p, const iz_panel_sess_t *s, const char *action)
{
    iz_page_printf(p, "<form method=\"post\" enctype=\"multipart/form-data\" action=\"%s\">",
                   iz_page_esc(p->r, iz__panel_href(p->r, s, action)));
    iz_page_csrf_field(p);
}

void iz__panel_rtype_select(iz_page_t *p, const char *name, const char *sel)
{
    bool tacir = sel && strcmp(sel, "TACIR") == 0;
    iz_page_printf(p,
                   "<label for=\"%s\">Alıcı tipi</label><select id=\"%s\" name=\"%s\">"
                   "<option value=\"BIREYSEL\"%s>Bireysel</option>"
                   "<option value=\"TACIR\"%s>Tacir</option></select>",
                   name, name, name, tacir ? "" : " selected", tacir ? " selected" : "");
}

void iz__panel_commercial_select(iz_page_t *p, const char *name, bool commercial)
{
    iz_page_printf(p,
                   "<label for=\"%s\">İleti türü</label><select id=\"%s\" name=\"%s\">"
                   "<option value=\"1\"%s>Ticari (izin gerekir)</option>"
                   "<option value=\"0\"%s>Bilgilendirme (izin gerekmez)</option></select>",
                   name, name, name, commercial ? " selected" : "", commercial ? "" : " selected");
}
