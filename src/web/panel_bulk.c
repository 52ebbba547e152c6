/*
 * panel_bulk.c - Toplu yükleme (/panel/bulk): a CSV, XLSX or JSON file
 * into the same bulk job as POST /v1/brands/{b}/consents/bulk (the file
 * spooled by api/jobs.c's iz_upload_*, run by the same job runner, origin
 * BULK as every bulk row), the job's live page and its errors.csv, and the
 * brand's recent jobs.
 *
 * The file comes as multipart/form-data (a browser without script sends a
 * file no other way) and goes to the spool file as it arrives: memory does
 * not grow with it. Its CSRF field is checked once the body is whole; a
 * refused upload leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk/job.h"
#include "core/iz.h"
#include "web/panel_ops.h"

#define RECENT_JOBS 20
#define FIRST_ERRORS 20
#define FIELDS_MAX 4096 /* bytes of the form's other fields (the CSRF token) */

static const char *state_tr(const char *state)
{
    if (strcmp(state, "QUEUED") == 0) return "Sırada";
    if (strcmp(state, "RUNNING") == 0) return "İşleniyor";
    if (strcmp(state, "DONE") == 0) return "Tamamlandı";
    if (strcmp(state, "FAILED") == 0) return "Başarısız";
    return state;
}

static const char *job_href(iz_req_t *r, const iz_panel_sess_t *s, const char *id, const char *tail)
{
    char path[96];
    snprintf(path, sizeof path, "/panel/bulk/%s%s", id, tail);
    return iz_page_esc(r, iz__panel_href(r, s, path));
}

void iz__pg_bulk(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_job_t *jobs = NULL;
    size_t n = 0;
    int rc = s.brand ? iz_store_jobs_of_brand(app->store, s.brand->id, RECENT_JOBS, &jobs, &n) : 0;
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Toplu yükleme", "/panel/bulk");
    iz_page_puts(&p, "<h1>Toplu yükleme</h1>");
    if (!s.brand) {
        iz_page_msg(&p, "err", "Bu hesapta henüz marka yok.", NULL);
        iz__panel_end(&p, 200);
        return;
    }
    iz_page_printf(
        &p,
        "<p>%s markasına bir dosyadaki izinleri toplu olarak kaydedin. Her satır, API ile "
        "gönderilen tek bir izin gibi denetlenir ve İYS'ye iletilir.</p>",
        iz_page_esc(r, s.brand->name));
    iz_page_puts(&p, "<div class=\"card\">");
    iz__panel_form_mp(&p, &s, "/panel/bulk");
    iz_page_puts(&p, "<label for=\"file\">Dosya (CSV, XLSX ya da JSON)</label>"
                     "<input id=\"file\" name=\"file\" type=\"file\" required "
                     "accept=\".csv,.txt,.xlsx,.json,text/csv,application/json,"
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\">"
                     "<p class=\"meta\">Sütunlar: recipient, type, status, source, consentDate, "
                     "recipientType (Türkçe adları da olur: alıcı, tip, durum, kaynak, tarih, "
                     "alıcı tipi). İlk satır başlıktır.</p>"
                     "<button type=\"submit\">Yükle</button></form></div>");
    iz_page_puts(&p, "<h2>Son yüklemeler</h2>");
    if (n == 0) {
        iz_page_puts(&p, "<p>Bu markanın henüz bir yüklemesi yok.</p>");
    } else {
        iz_page_puts(&p, "<div class=\"tbl\"><table><thead><tr><th>Yüklendi</th><th>Biçim</th>"
                         "<th>Durum</th><th class=\"n\">İşlenen</th><th class=\"n\">Kabul</th>"
                         "<th class=\"n\">Ret</th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            const iz_job_t *j = &jobs[i];
            iz_page_printf(&p,
                           "<tr><td><a href=\"%s\">%s</a></td><td>%s</td><td>%s</td>"
                           "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                           "</tr>",
                           job_href(r, &s, j->id, ""), iz__panel_time(r, j->created_ms / 1000),
                           iz_page_esc(r, j->format), state_tr(j->state),
                           iz__panel_num(r, j->processed), iz__panel_num(r, j->accepted),
                           iz__panel_num(r, j->rejected));
        }
        iz_page_puts(&p, "</tbody></table></div>");
    }
    free(jobs);
    iz__panel_end(&p, 200);
}

/* ---- the upload -------------------------------------------------------------- */

/* The upload's spool file, made when the file's first bytes come, not on
 * the request's first call: a form refused on its headers (the page's
 * limit, another site's form, a body that is not multipart) is answered
 * at once on the socket, before the handler returns, so a file made
 * before it would still be there when the client sees the answer. */
typedef struct bulk_sink {
    iz_app_t *app;
    iz_brand_t brand;
    iz_upload_t *u; /* NULL until the first bytes */
    int open_rc;    /* iz_upload_open's failure: answered once the body is read */
} bulk_sink_t;

static void sink_write(void *ctx, const char *data, size_t len)
{
    bulk_sink_t *b = ctx;
    if (!b->u && !b->open_rc) b->open_rc = iz_upload_open(b->app, &b->brand, &b->u);
    if (b->u) iz_upload_write(b->u, data, len);
}

static void sink_free(void *ctx)
{
    bulk_sink_t *b = ctx;
    iz_upload_free(b->u);
    free(b);
}

static void upload_done(iz_req_t *r, iz_panel_mp_t *m)
{
    iz_job_t job;
    const bulk_sink_t *b = m->sink.ctx;
    int open_rc = b->open_rc;
    /* No bytes of a file (no file field, or an empty one): nothing to run. */
    int rc = open_rc                ? open_rc
             : m->sink_seen && b->u ? iz_upload_finish(b->u, m->sink_type, &job)
                                    : IZ_EINVAL;
    iz__panel_mp_release(m); /* a refused file goes before the answer; a job's stays */
    if (open_rc) {
        iz__panel_refuse(r, m->app, 503, "Toplu yükleme kullanılamıyor",
                         "Sunucu şu anda dosya kabul edemiyor. Lütfen daha sonra tekrar deneyin.");
        return;
    }
    if (rc == IZ_EINVAL) {
        iz__panel_refuse(r, m->app, 422, "Dosya okunamadı",
                         "Dosya boş ya da biçimi tanınmadı. CSV, XLSX ya da JSON bir dosya "
                         "seçin.");
        return;
    }
    if (rc == IZ_EIO || rc == IZ_ETOOBIG) {
        iz__panel_refuse(r, m->app, rc == IZ_ETOOBIG ? 507 : 500, "Dosya kaydedilemedi",
                         "Dosya sunucuya yazılamadı. Lütfen daha sonra tekrar deneyin.");
        return;
    }
    if (rc != 0) {
        iz__panel_store_error(r, m->app, rc);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/panel/bulk/%s", job.id);
    iz__panel_redirect(r, m->app, &m->s, path, "Dosya yüklendi; iş başladı.");
}

void iz__pg_bulk_post(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    /* The brand first (the session's check comes again in mp_start): the
     * upload's spool file is made for it. */
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    if (!s.brand) {
        iz__panel_refuse(r, app, 404, "Marka bulunamadı", "Bu hesapta henüz marka yok.");
        return;
    }
    bulk_sink_t *b = iz_xcalloc(1, sizeof *b);
    b->app = app;
    b->brand = *s.brand;
    const iz_panel_mp_sink_t sink = {"file", sink_write, b, sink_free};
    iz__panel_mp_start(r, app, FIELDS_MAX, "4 KB form alanı", &sink, upload_done);
}

/* ---- a job --------------------------------------------------------------------- */

/* The job {jobId} of the session's account, or an answer (404) and -1. */
static int own_job(iz_req_t *r, iz_app_t *app, const iz_panel_sess_t *s, iz_job_t *job)
{
    const char *id = iz_req_param(r, "jobId");
    int rc = id && strlen(id) == IZ_JOB_ID_LEN - 1 ? iz_store_job_get(app->store, id, job)
                                                   : IZ_ENOTFOUND;
    if (rc == 0 && job->account_id == s->account.id) return 0;
    if (rc == 0 || rc == IZ_ENOTFOUND)
        iz__panel_refuse(r, app, 404, "Yükleme bulunamadı", "Bu hesapta böyle bir yükleme yok.");
    else
        iz__panel_store_error(r, app, rc);
    return -1;
}

/* A duration in seconds as Turkish text ("2 dk 5 sn"). */
static const char *duration(iz_req_t *r, double secs)
{
    long t = (long)(secs + 0.5);
    char out[48];
    if (t >= 3600)
        snprintf(out, sizeof out, "%ld sa %ld dk", t / 3600, t % 3600 / 60);
    else if (t >= 60)
        snprintf(out, sizeof out, "%ld dk %ld sn", t / 60, t % 60);
    else
        snprintf(out, sizeof out, "%ld sn", t);
    return iz_req_strdup(r, out);
}

void iz__pg_bulk_job(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_job_t job;
    if (iz__panel_auth(r, app, &s) != 0 || own_job(r, app, &s, &job) != 0) return;
    iz_job_error_t *errs = NULL;
    size_t nerr = 0;
    int rc = iz_store_job_errors(app->store, job.id, -1, FIRST_ERRORS, &errs, &nerr);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    bool live = strcmp(job.state, "QUEUED") == 0 || strcmp(job.state, "RUNNING") == 0;
    double rate, eta;
    iz_job_rate(&job, &rate, &eta);
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Yükleme", "/panel/bulk");
    if (live) iz__panel_refresh(&p, 1);
    iz_page_printf(&p, "<h1>Yükleme: %s</h1>", state_tr(job.state));
    iz_page_printf(&p, "<p class=\"meta\">%s dosyası, %s yüklendi. İş numarası %s.</p>",
                   iz_page_esc(r, job.format), iz__panel_time(r, job.created_ms / 1000),
                   iz_page_esc(r, job.id));
    if (job.total > 0)
        iz_page_printf(&p,
                       "<p><label for=\"pr\">İlerleme</label><progress id=\"pr\" max=\"%lld\" "
                       "value=\"%lld\">%lld / %lld</progress></p>",
                       (long long)job.total, (long long)job.processed, (long long)job.processed,
                       (long long)job.total);
    iz_page_printf(&p,
                   "<div class=\"grid\"><div class=\"card\"><p class=\"meta\">İşlenen satır</p>"
                   "<p class=\"stat\" id=\"processed\">%s / %s</p></div>"
                   "<div class=\"card\"><p class=\"meta\">Kabul edilen</p>"
                   "<p class=\"stat\" id=\"accepted\">%s</p></div>"
                   "<div class=\"card\"><p class=\"meta\">Reddedilen</p>"
                   "<p class=\"stat\" id=\"rejected\">%s</p></div>"
                   "<div class=\"card\"><p class=\"meta\">Hız</p>"
                   "<p class=\"stat\">%s satır/sn</p><p class=\"meta\">Kalan süre: %s</p>"
                   "</div></div>",
                   iz__panel_num(r, job.processed),
                   job.total >= 0 ? iz__panel_num(r, job.total) : "?",
                   iz__panel_num(r, job.accepted), iz__panel_num(r, job.rejected),
                   iz__panel_num(r, (int64_t)(rate + 0.5)), eta >= 0 ? duration(r, eta) : "—");
    if (live) iz_page_puts(&p, "<p class=\"meta\">Bu sayfa her saniye kendini yeniler.</p>");
    if (job.error[0]) iz_page_msg(&p, "err", job.error, NULL);
    if (job.warnings[0]) {
        iz_page_puts(&p, "<h2>Uyarılar</h2><ul>");
        for (char *w = job.warnings; *w;) {
            char *nl = strchr(w, '\n');
            if (nl) *nl = '\0';
            iz_page_printf(&p, "<li>%s</li>", iz_page_esc(r, w));
            if (!nl) break;
            w = nl + 1;
        }
        iz_page_puts(&p, "</ul>");
    }
    if (nerr > 0) {
        iz_page_printf(&p,
                       "<h2>Reddedilen satırlar</h2><p><a href=\"%s\" download>Hataların tümünü "
                       "indir (errors.csv)</a></p><div class=\"tbl\"><table><caption>İlk %zu "
                       "hata</caption><thead><tr><th class=\"n\">Satır</th><th>Kod</th>"
                       "<th>Açıklama</th></tr></thead><tbody>",
                       job_href(r, &s, job.id, "/errors.csv"), nerr);
        for (size_t i = 0; i < nerr; i++)
            iz_page_printf(&p, "<tr><td class=\"n\">%lld</td><td>%s</td><td>%s</td></tr>",
                           (long long)errs[i].line, iz_page_esc(r, errs[i].code),
                           iz_page_esc(r, errs[i].message));
        iz_page_puts(&p, "</tbody></table></div>");
    }
    free(errs);
    iz_page_printf(&p, "<p><a href=\"%s\">Toplu yükleme sayfasına dön</a></p>",
                   iz_page_esc(r, iz__panel_href(r, &s, "/panel/bulk")));
    iz__panel_end(&p, 200);
}

void iz__pg_bulk_errors(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    iz_job_t job;
    if (iz__panel_auth(r, app, &s) != 0 || own_job(r, app, &s, &job) != 0) return;
    int fd;
    uint64_t size;
    int rc = iz_job_errors_file(app, job.id, &fd, &size);
    if (rc != 0) {
        iz__panel_store_error(r, app, rc);
        return;
    }
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"errors-%.8s.csv\"", job.id);
    iz_reply_header(r, "Content-Disposition", disp);
    iz_reply_fd(r, 200, "text/csv; charset=utf-8", fd, size);
}
