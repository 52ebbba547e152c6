/*
 * panel_ops.h - what the panel's operations pages (bulk upload, send
 * check, SMS and voice campaigns, numbers, consent page) share beyond
 * panel_int.h: forms that carry a file (multipart/form-data, read as a
 * stream and bounded) and small pieces of their pages. Not for other
 * layers.
 */
#ifndef IZ_WEB_PANEL_OPS_H
#define IZ_WEB_PANEL_OPS_H

#include "net/multipart.h"
#include "web/panel_int.h"

typedef struct iz_panel_mp iz_panel_mp_t;

/* Called once a multipart form has been read whole and its CSRF field
 * checked: the page answers. */
typedef void (*iz_panel_mp_done_fn)(iz_req_t *r, iz_panel_mp_t *mp);

/* A file field sent somewhere else than memory (the bulk upload's spool):
 * write gets its bytes. */
typedef struct iz_panel_mp_sink {
    const char *field; /* the file field's name */
    void (*write)(void *ctx, const char *data, size_t len);
    void *ctx;
    void (*free)(void *ctx); /* runs when the request ends (may be NULL) */
} iz_panel_mp_sink_t;

struct iz_panel_mp {
    iz_app_t *app;
    iz_panel_sess_t s;
    iz_form_t form; /* the fields held in memory (a file's content included) */
    iz_panel_mp_sink_t sink;
    bool sink_seen;                        /* the sink's field came */
    char sink_type[IZ_MULTIPART_TYPE_MAX]; /* its Content-Type */
    char sink_name[IZ_MULTIPART_NAME_MAX]; /* its filename */
    /* the reader's own */
    iz_multipart_t *mp;
    iz_panel_mp_done_fn done;
    int err;
    bool over;  /* the fields were over max */
    size_t max; /* bytes of fields held in memory */
    char *buf;
    size_t used, cap;
    size_t off[IZ_FORM_MAX_FIELDS]; /* each field's value in buf */
    int cur;                        /* the part being read: its field, -1 the sink, -2 none */
    char names[IZ_FORM_MAX_FIELDS][IZ_MULTIPART_NAME_MAX];
};

/* Start reading a logged-in page's multipart POST (call it from an
 * IZ_ROUTE_STREAM route's first call): the per-IP limit, a same-origin
 * request, a multipart/form-data body (a 403 page otherwise, as for a bad
 * CSRF token), the session (iz__panel_auth), then the body as it comes,
 * its fields held in memory up to max bytes (a 413 page over it, naming
 * limit_text) and sink's field (may be NULL) streamed on. done runs once
 * the body is whole, well formed (400 page otherwise) and its CSRF field
 * right (403 page otherwise). */
void iz__panel_mp_start(iz_req_t *r, iz_app_t *app, size_t max, const char *limit_text,
                        const iz_panel_mp_sink_t *sink, iz_panel_mp_done_fn done);

/* Let the form's sink go now (a spool file not taken is removed), not when
 * the request ends: a done function that refuses the upload calls it
 * before it answers, so a client that sees the answer finds nothing left. */
void iz__panel_mp_release(iz_panel_mp_t *m);

/* The file field name of a form as text, with the pasted field text
 * before it: the lines the user gave (in r's arena, NUL-terminated, *len
 * set). */
const char *iz__panel_lines(iz_req_t *r, const iz_form_t *f, const char *text_field,
                            const char *file_field, size_t *len);

/* Lines (a pasted list and a file, as iz__panel_lines gives them) as a
 * JSON array of strings, each trimmed (spaces, tabs, CR), blank lines
 * skipped, at most max + 1 items (one more than max says "too many"): the
 * list the API's JSON bodies take. */
json_t *iz__panel_list_json(const char *text, size_t len, size_t max);

/* Open a POST form that carries a file (enctype multipart/form-data) with
 * the CSRF field first; the caller writes the fields and "</form>". */
void iz__panel_form_mp(iz_page_t *p, const iz_panel_sess_t *s, const char *action);

/* A <select> of the recipient types (BIREYSEL, TACIR) with sel chosen,
 * and one of commercial (1) or informational (0). */
void iz__panel_rtype_select(iz_page_t *p, const char *name, const char *sel);
void iz__panel_commercial_select(iz_page_t *p, const char *name, bool commercial);

/* ---- the pages' handlers (routes in panel.c) ---------------------------------- */

void iz__pg_bulk(iz_req_t *r, void *app);          /* panel_bulk.c */
void iz__pg_bulk_post(iz_req_t *r, void *app);     /* panel_bulk.c */
void iz__pg_bulk_job(iz_req_t *r, void *app);      /* panel_bulk.c */
void iz__pg_bulk_errors(iz_req_t *r, void *app);   /* panel_bulk.c */
void iz__pg_check(iz_req_t *r, void *app);         /* panel_check.c */
void iz__pg_check_post(iz_req_t *r, void *app);    /* panel_check.c */
void iz__pg_check_file(iz_req_t *r, void *app);    /* panel_check.c */
void iz__pg_sms(iz_req_t *r, void *app);           /* panel_sms.c */
void iz__pg_sms_post(iz_req_t *r, void *app);      /* panel_sms.c */
void iz__pg_sms_send(iz_req_t *r, void *app);      /* panel_sms.c */
void iz__pg_voice(iz_req_t *r, void *app);         /* panel_voice.c */
void iz__pg_voice_post(iz_req_t *r, void *app);    /* panel_voice.c */
void iz__pg_voice_numbers(iz_req_t *r, void *app); /* panel_voice.c */
void iz__pg_voice_campaign(iz_req_t *r, void *app); /* panel_voice.c */
void iz__pg_numbers(iz_req_t *r, void *app);        /* panel_brand.c */
void iz__pg_numbers_post(iz_req_t *r, void *app);   /* panel_brand.c */
void iz__pg_cpage(iz_req_t *r, void *app);          /* panel_brand.c */
void iz__pg_cpage_post(iz_req_t *r, void *app);     /* panel_brand.c */

#endif
