/*
 * panel_check.c - Gönderim kontrolü (/panel/check): a pasted or uploaded
 * list judged by the same send filter as POST /v1/brands/{b}/check's
 * text/plain form (the domain's line judge: one recipient a line, trimmed,
 * blank lines skipped), its counts shown and its two halves downloadable:
 * allowed.csv (recipient) and blocked.csv (recipient,reason).
 *
 * The two files are kept in the spool directory under the account's id
 * and a random name (a download of another account's name finds nothing)
 * for an hour; each new check removes the older ones. They are a result,
 * not a record: nothing acknowledged depends on them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/csvout.h"
#include "core/iz.h"
#include "sys/crypto.h"
#include "sys/log.h"
#include "web/panel_ops.h"

#define CHECK_BYTES (1u << 20) /* bytes of the form: the list, pasted and uploaded */
#define CHECK_LINES 50000      /* recipients in one check */
#define CHECK_KEEP 3600        /* seconds a result's files are kept */
#define CHECK_ID_HEX 32

static const char LIMIT_TEXT[] = "en çok 50.000 numara ve 1 MB";

/* The path of a result's file: which is "allowed" or "blocked". */
static void result_path(const iz_app_t *app, int64_t account, const char *id, const char *which,
                        char *out, size_t size)
{
    snprintf(out, size, "%s/check-%lld-%s-%s.csv", app->spool_dir, (long long)account, id, which);
}

/* Remove results older than CHECK_KEEP seconds. */
static void sweep(const iz_app_t *app)
{
    DIR *d = opendir(app->spool_dir);
    if (!d) return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "check-", 6) != 0) continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && now - st.st_mtime > CHECK_KEEP)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static void form_page(iz_page_t *p, const iz_panel_sess_t *s)
{
    iz_page_puts(p, "<div class=\"card\">");
    iz__panel_form_mp(p, s, "/panel/check");
    iz_page_printf(p,
                   "<label for=\"recipients\">Numaralar ya da e-posta adresleri (her satıra "
                   "bir tane)</label><textarea id=\"recipients\" name=\"recipients\" rows=\"8\" "
                   "placeholder=\"05321234567\"></textarea>"
                   "<label for=\"file\">ya da bir dosya (her satırda bir alıcı)</label>"
                   "<input id=\"file\" name=\"file\" type=\"file\" accept=\".txt,.csv,text/plain,"
                   "text/csv\"><p class=\"meta\">Sınır: %s.</p>"
                   "<label for=\"type\">İzin tipi</label><select id=\"type\" name=\"type\">"
                   "<option value=\"MESAJ\">SMS (MESAJ)</option>"
                   "<option value=\"ARAMA\">Arama (ARAMA)</option>"
                   "<option value=\"EPOSTA\">E-posta (EPOSTA)</option></select>",
                   LIMIT_TEXT);
    iz__panel_rtype_select(p, "recipientType", NULL);
    iz__panel_commercial_select(p, "commercial", true);
    iz_page_puts(p, "<button type=\"submit\">Kontrol et</button></form></div>");
}

void iz__pg_check(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    iz_page_t p;
    iz__panel_begin(&p, r, app, &s, "Gönderim kontrolü", "/panel/check");
    iz_page_puts(&p, "<h1>Gönderim kontrolü</h1>");
    if (!s.brand) {
        iz_page_msg(&p, "err", "Bu hesapta henüz marka yok.", NULL);
        iz__panel_end(&p, 200);
        return;
    }
    iz_page_printf(&p,
                   "<p>Bir listeyi %s markasının izinlerine göre ayırın: gönderilebilecek "
                   "alıcılar ve gönderilemeyecekler (nedeniyle). API'nin gönderim filtresinin "
                   "aynısıdır.</p>",
                   iz_page_esc(r, s.brand->name));
    form_page(&p, &s);
    iz__panel_end(&p, 200);
}

/* ---- the check ------------------------------------------------------------------- */

typedef struct out {
    FILE *allowed, *blocked;
    bool io_error;
} out_t;

static void put_csv(out_t *o, FILE *f, const char *s, size_t n)
{
    char *buf = iz_xmalloc(IZ_CSV_FIELD_MAX(n));
    size_t k = iz_csv_field(buf, s, n);
    if (fwrite(buf, 1, k, f) != k) o->io_error = true;
    free(buf);
}

static void on_line(void *ctx, const char *line, size_t len, const char *norm, size_t normlen,
                    iz_verdict_t v)
{
    out_t *o = ctx;
    if (v == IZ_VERDICT_ALLOWED) {
        put_csv(o, o->allowed, norm, normlen);
        fputc('\n', o->allowed);
        return;
    }
    if (norm)
        put_csv(o, o->blocked, norm, normlen);
    else
        put_csv(o, o->blocked, line, len);
    fprintf(o->blocked, ",%s\n", iz_verdict_reason(v));
}

/* Count the lines that are not blank, up to max + 1. */
static size_t count_lines(const char *text, size_t len, size_t max)
{
    size_t n = 0;
    bool content = false;
    for (size_t i = 0; i < len && n <= max; i++) {
        char c = text[i];
        if (c == '\n') {
            n += content;
            content = false;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            content = true;
        }
    }
    return n + content;
}

static const char *file_href(iz_req_t *r, const iz_panel_sess_t *s, const char *id,
                             const char *which)
{
    char path[96];
    snprintf(path, sizeof path, "/panel/check/%s/%s.csv", id, which);
    return iz_page_esc(r, iz__panel_href(r, s, path));
}

static void result_page(iz_req_t *r, iz_panel_mp_t *m, const iz_judge_t *j, const char *id,
                        uint64_t na, uint64_t nb)
{
    const iz_panel_sess_t *s = &m->s;
    iz_page_t p;
    iz__panel_begin(&p, r, m->app, s, "Gönderim kontrolü", "/panel/check");
    iz_page_printf(&p,
                   "<h1>Gönderim kontrolü</h1><p>%s markası, %s izni, %s.</p>"
                   "<div class=\"grid\"><div class=\"card\"><p class=\"meta\">"
                   "Gönderilebilir</p><p class=\"stat\" id=\"allowed\">%s</p>"
                   "<p><a href=\"%s\" download>allowed.csv indir</a></p></div>"
                   "<div class=\"card\"><p class=\"meta\">Gönderilemez</p>"
                   "<p class=\"stat\" id=\"blocked\">%s</p>"
                   "<p><a href=\"%s\" download>blocked.csv indir</a></p></div></div>"
                   "<p class=\"meta\">Dosyalar bir saat saklanır. Gönderilemeyenlerin nedeni: "
                   "NO_CONSENT (izin yok), RET (izin geri alınmış), INVALID (geçersiz adres).</p>"
                   "<h2>Yeni kontrol</h2>",
                   iz_page_esc(r, s->brand->name), iz_type_name(j->type),
                   j->commercial ? "ticari ileti" : "bilgilendirme iletisi",
                   iz__panel_num(r, (int64_t)na), file_href(r, s, id, "allowed"),
                   iz__panel_num(r, (int64_t)nb), file_href(r, s, id, "blocked"));
    form_page(&p, s);
    iz__panel_end(&p, 200);
}

static void check_done(iz_req_t *r, iz_panel_mp_t *m)
{
    iz_app_t *app = m->app;
    const iz_panel_sess_t *s = &m->s;
    if (!s->brand) {
        iz__panel_refuse(r, app, 404, "Marka bulunamadı", "Bu hesapta henüz marka yok.");
        return;
    }
    iz_judge_t j = {.brand_id = s->brand->id, .rtype = IZ_BIREYSEL, .commercial = true};
    const char *type = iz_form_value(&m->form, "type", 16);
    const char *rtype = iz_form_value(&m->form, "recipientType", 16);
    const char *com = iz_form_value(&m->form, "commercial", 1);
    if (!type || iz_type_parse(type, &j.type) != 0 ||
        (rtype && iz_rtype_parse(rtype, &j.rtype) != 0) ||
        (com && strcmp(com, "0") != 0 && strcmp(com, "1") != 0)) {
        iz__panel_refuse(r, app, 422, "Seçim geçersiz",
                         "İzin tipi, alıcı tipi ya da ileti türü geçersiz.");
        return;
    }
    j.commercial = !com || strcmp(com, "1") == 0;
    size_t len;
    const char *text = iz__panel_lines(r, &m->form, "recipients", "file", &len);
    size_t lines = count_lines(text, len, CHECK_LINES);
    if (lines == 0) {
        iz__panel_refuse(r, app, 422, "Liste boş",
                         "Kontrol edilecek bir numara ya da adres yazın veya bir dosya seçin.");
        return;
    }
    if (lines > CHECK_LINES) {
        char msg[160];
        snprintf(msg, sizeof msg, "Listede %s numaradan fazlası var; sınır: %s.",
                 iz__panel_num(r, CHECK_LINES), LIMIT_TEXT);
        iz__panel_refuse(r, app, 413, "Liste çok büyük", msg);
        return;
    }
    if (!app->spool_dir) {
        iz__panel_refuse(r, app, 503, "Kontrol kullanılamıyor", "Sunucunun çalışma dizini yok.");
        return;
    }
    sweep(app);
    uint8_t raw[CHECK_ID_HEX / 2];
    char id[CHECK_ID_HEX + 1];
    if (iz_random(raw, sizeof raw) != 0) {
        iz__panel_store_error(r, app, IZ_EIO);
        return;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(id + 2 * i, 3, "%02x", raw[i]);
    char pa[1200], pb[1200];
    result_path(app, s->account.id, id, "allowed", pa, sizeof pa);
    result_path(app, s->account.id, id, "blocked", pb, sizeof pb);
    out_t o = {fopen(pa, "wx"), fopen(pb, "wx"), false};
    int rc = o.allowed && o.blocked ? 0 : IZ_EIO;
    if (rc == 0) {
        fputs("recipient\n", o.allowed);
        fputs("recipient,reason\n", o.blocked);
        iz_judge_stream_t *js = iz_judge_stream_new(app->dom, &j, on_line, &o);
        rc = iz_judge_stream_feed(js, text, len);
        if (rc == 0) rc = iz_judge_stream_end(js);
        uint64_t na = 0, nb = 0;
        iz_judge_stream_counts(js, &na, &nb);
        iz_judge_stream_free(js);
        if (rc == 0 && (o.io_error || ferror(o.allowed) || ferror(o.blocked))) rc = IZ_EIO;
        if (fclose(o.allowed) != 0 && rc == 0) rc = IZ_EIO;
        if (fclose(o.blocked) != 0 && rc == 0) rc = IZ_EIO;
        o.allowed = o.blocked = NULL;
        if (rc == 0) {
            result_page(r, m, &j, id, na, nb);
            return;
        }
    }
    if (o.allowed) fclose(o.allowed);
    if (o.blocked) fclose(o.blocked);
    unlink(pa);
    unlink(pb);
    iz__panel_store_error(r, app, rc);
}

void iz__pg_check_post(iz_req_t *r, void *vapp)
{
    iz__panel_mp_start(r, vapp, CHECK_BYTES, LIMIT_TEXT, NULL, check_done);
}

void iz__pg_check_file(iz_req_t *r, void *vapp)
{
    iz_app_t *app = vapp;
    iz_panel_sess_t s;
    if (iz__panel_auth(r, app, &s) != 0) return;
    const char *id = iz_req_param(r, "checkId"), *file = iz_req_param(r, "file");
    const char *which = file && strcmp(file, "allowed.csv") == 0   ? "allowed"
                        : file && strcmp(file, "blocked.csv") == 0 ? "blocked"
                                                                   : NULL;
    bool ok = which && id && strlen(id) == CHECK_ID_HEX && app->spool_dir;
    for (size_t i = 0; ok && i < CHECK_ID_HEX; i++)
        ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    int fd = -1;
    struct stat st;
    if (ok) {
        char path[1200];
        result_path(app, s.account.id, id, which, path, sizeof path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        iz__panel_refuse(r, app, 404, "Sonuç bulunamadı",
                         "Bu kontrolün sonucu yok ya da bir saatten eski olduğu için silindi.");
        return;
    }
    char disp[64];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", which);
    iz_reply_header(r, "Content-Disposition", disp);
    iz_reply_fd(r, 200, "text/csv; charset=utf-8", fd, (uint64_t)st.st_size);
}
