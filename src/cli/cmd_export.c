/*
 * cmd_export.c - `izin export`: a brand's current consents as CSV, in the
 * bulk upload's own format (API.md, "Bulk CSV"), so that `izin import` and
 * POST .../consents/bulk read the file back unchanged:
 *
 *   recipient,type,status,source,consentDate,recipientType
 *   +905321234567,MESAJ,ONAY,HS_WEB,2026-01-05 10:00:00,BIREYSEL
 *
 * One line a current record, in key order (recipient, recipientType,
 * type); consentDate in Turkey time; source and consentDate empty when the
 * record has none (TACIR); fields quoted only when RFC 4180 needs it; LF
 * line ends, UTF-8 without a BOM. The store hands the rows over one at a
 * time, so a brand of any size is written in constant memory.
 *
 * With --out FILE the rows go to a temporary file beside FILE (mode 0600:
 * it holds personal data), which is synced and renamed over FILE only when
 * every row is written: a failed export never leaves a partial FILE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/csvout.h"
#include "core/iz.h"
#include "core/trtime.h"

static const iz_optdef_t export_defs[] = {
    {"data", true, "DIR", "./izin-data", "data directory (the SQLite store DIR/izin.db)"},
    {"db", true, "URL", NULL, "store location instead of --data: sqlite:PATH"},
    {"brand", true, "CODE", NULL, "the brand's İYS code (required)"},
    {"account", true, "NAME", NULL, "the brand's account, when several have that code"},
    {"type", true, "T", "every type", "only MESAJ, ARAMA or EPOSTA"},
    {"out", true, "FILE", "standard output", "write the CSV to FILE (replaced when complete)"},
};

static const iz_cmddef_t export_cmd =
    IZ_CMD("izin export", "--brand CODE [--type T] [--out FILE] [options]",
           "Write a brand's current consents as CSV (recipient,type,status,source,consentDate,\n"
           "recipientType), the format izin import reads.",
           export_defs);

#define EXPORT_HEADER "recipient,type,status,source,consentDate,recipientType\n"

typedef struct export_ctx {
    FILE *out;
    uint64_t rows;
} export_ctx_t;

/* Append a field that never needs quoting (an enum spelling, a date). */
static size_t put_plain(char *p, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    memcpy(p, s ? s : "", n);
    p[n] = ',';
    return n + 1;
}

/* One current consent as one CSV line. */
static int export_row(void *ctx, const iz_consent_t *c)
{
    export_ctx_t *x = ctx;
    char line[IZ_CSV_FIELD_MAX(IZ_RECIPIENT_MAX) + 128];
    char date[IZ_DATETIME_LEN] = "";
    size_t k = iz_csv_field(line, c->recipient, strlen(c->recipient));
    line[k++] = ',';
    k += put_plain(line + k, iz_type_name(c->type));
    k += put_plain(line + k, iz_status_name(c->status));
    k += put_plain(line + k, iz_source_name(c->source));
    if (c->consent_date > 0) iz_tr_format(c->consent_date, date);
    k += put_plain(line + k, date);
    k += put_plain(line + k, iz_rtype_name(c->rtype));
    line[k - 1] = '\n';
    if (fwrite(line, 1, k, x->out) != k) return IZ_EIO;
    x->rows++;
    return 0;
}

/* Where the rows go: standard output, or a temporary file beside path. */
typedef struct sink {
    FILE *f;
    char *tmp; /* the temporary file's name, NULL for standard output */
} sink_t;

static int sink_open(const char *path, sink_t *s)
{
    s->f = stdout;
    s->tmp = NULL;
    if (!path || strcmp(path, "-") == 0) return 0;
    size_t n = strlen(path) + sizeof ".tmp-XXXXXX";
    s->tmp = iz_xmalloc(n);
    snprintf(s->tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(s->tmp); /* 0600 */
    if (fd < 0 || !(s->f = fdopen(fd, "w"))) {
        iz_cli_fail("cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(s->tmp);
        }
        free(s->tmp);
        s->tmp = NULL;
        return -1;
    }
    return 0;
}

/* Finish the output: flush it, and for a file sync it and move it over
 * path when ok, or remove it. Returns 0 when everything reached its place. */
static int sink_close(sink_t *s, const char *path, bool ok)
{
    int rc = fflush(s->f) != 0 || ferror(s->f) ? -1 : 0;
    if (!s->tmp) return rc;
    if (rc == 0 && fsync(fileno(s->f)) != 0) rc = -1;
    if (fclose(s->f) != 0) rc = -1;
    if (rc == 0 && ok && rename(s->tmp, path) != 0) rc = -1;
    if (rc != 0 && ok) iz_cli_fail("cannot write %s: %s", path, strerror(errno));
    if (rc != 0 || !ok) unlink(s->tmp);
    free(s->tmp);
    return rc;
}

static int export_run(const iz_opts_t *o)
{
    int64_t code;
    if (iz_cli_brand_code(o, &code) != 0) return 2;
    iz_type_t type = IZ_TYPE_NONE;
    const char *ts = iz_cli_get(o, "type");
    if (ts && iz_type_parse(ts, &type) != 0) {
        iz_cli_fail("--type must be MESAJ, ARAMA or EPOSTA");
        return 2;
    }
    if (o->npositional > 0) {
        iz_cli_fail("unexpected argument '%s' (see izin export --help)", o->positional[0]);
        return 2;
    }
    iz_store_t *st;
    if (iz_cli_open_existing_store(o, &st) != 0) return 1;
    iz_brand_t brand;
    if (iz_cli_find_brand(st, iz_cli_get(o, "account"), code, &brand) != 0) {
        iz_store_close(st);
        return 1;
    }
    const char *path = iz_cli_get(o, "out");
    sink_t sink;
    if (sink_open(path, &sink) != 0) {
        iz_store_close(st);
        return 1;
    }
    static char buf[1 << 16];
    setvbuf(sink.f, buf, _IOFBF, sizeof buf);
    export_ctx_t x = {.out = sink.f};
    int rc = fputs(EXPORT_HEADER, sink.f) < 0 ? IZ_EIO : 0;
    if (rc == 0) rc = iz_store_consent_each(st, brand.id, type, export_row, &x);
    iz_store_close(st);
    if (rc != 0)
        iz_cli_fail("export failed: %s",
                    rc == IZ_EIO && ferror(sink.f) ? strerror(errno) : iz_strerror(rc));
    bool to_file = sink.tmp != NULL;
    int wrc = sink_close(&sink, path, rc == 0);
    if (rc != 0) return 1;
    if (wrc != 0) {
        if (!to_file) iz_cli_fail("cannot write the CSV: %s", strerror(errno));
        return 1;
    }
    if (to_file)
        fprintf(stderr, "izin: %llu consents of brand %lld written to %s\n",
                (unsigned long long)x.rows, (long long)code, path);
    return 0;
}

int iz_cmd_export(int argc, char **argv)
{
    return iz_cli_run(&export_cmd, export_run, argc, argv);
}
