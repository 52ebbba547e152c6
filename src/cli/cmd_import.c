/*
 * cmd_import.c - `izin import`: load a file of consents (CSV, XLSX, JSON)
 * into a brand, with a progress display.
 *
 * Two modes, one command. Without --server the file goes into the local
 * store (iz_cli_import_local, import_local.c). With --server URL --key KEY
 * it goes to an izin server (API.md):
 *
 *   1. POST URL/v1/brands/CODE/consents/bulk, the file streamed from disk as
 *      the body (Content-Type from its extension, else from its first
 *      bytes), answered 202 {"jobId"};
 *   2. GET URL/v1/jobs/ID every 0.5 s, shown by the progress display, until
 *      the job is DONE or FAILED.
 *
 * Exit codes (API.md): 0 every row accepted; 3 the job finished with
 * rejected rows (where errors.csv is and the first errors are printed); 1
 * failed: the file cannot be read, the server refuses the upload (no such
 * brand, a wrong key) or cannot be reached, the job FAILED (its error is
 * printed); 2 a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/iz.h"
#include "net/client.h"

static const iz_optdef_t import_defs[] = {
    {"brand", true, "CODE", NULL, "the brand's İYS code (required)"},
    {"server", true, "URL", "the local store", "upload to the izin server at URL"},
    {"key", true, "KEY", NULL, "the API key for --server (IZIN_KEY keeps it out of ps)"},
    {"data", true, "DIR", "./izin-data", "(local) data directory (the SQLite store DIR/izin.db)"},
    {"db", true, "URL", NULL, "(local) store location instead of --data: sqlite:PATH"},
    {"account", true, "NAME", NULL, "(local) the brand's account, when several have that code"},
    {"errors", true, "FILE", NULL, "(local) write every rejected row to FILE as errors.csv"},
    {"json", false, NULL, NULL, "print the finished job as one JSON object"},
};

static const iz_cmddef_t import_cmd = IZ_CMD(
    "izin import", "--brand CODE [--server URL --key KEY] [options] FILE",
    "Import a file of consents (CSV, XLSX or JSON; API.md's bulk format) into a brand: the\n"
    "local store, or an izin server with --server. Exit 0 when every row was accepted, 3 when\n"
    "some were rejected, 1 when the import failed.",
    import_defs);

#define POLL_MS 500             /* a job poll every half second */
#define POLL_GIVE_UP_MS 30000   /* a server unreachable this long ends the watch */
#define UPLOAD_STALL_MS 120000  /* an upload that moves nothing this long fails */
#define JOB_BODY_MAX (8u << 20) /* a job's JSON (1000 errors and warnings) */
#define SHOWN_ERRORS 5          /* rejected rows printed after the errors.csv link */
#define HEAD_MAX 512            /* bytes read to tell a file's type */

#define CT_CSV "text/csv"
#define CT_XLSX "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define CT_JSON "application/json"

/* ---- the file ------------------------------------------------------------ */

/* The file being uploaded: its first bytes (read to tell its type) are
 * sent from head, then the rest straight from the descriptor. */
typedef struct upload {
    int fd;
    bool seekable;
    int64_t size; /* -1 when not a regular file */
    unsigned char head[HEAD_MAX];
    size_t nhead, headpos;
    int err; /* errno of a failed read */
} upload_t;

static long upload_read(void *ud, char *buf, size_t n)
{
    upload_t *u = ud;
    if (u->headpos < u->nhead) {
        size_t k = u->nhead - u->headpos < n ? u->nhead - u->headpos : n;
        memcpy(buf, u->head + u->headpos, k);
        u->headpos += k;
        return (long)k;
    }
    for (;;) {
        ssize_t r = read(u->fd, buf, n);
        if (r >= 0) return (long)r;
        if (errno != EINTR) {
            u->err = errno;
            return -1;
        }
    }
}

/* Back to the first byte after the head, which is sent again from memory. */
static int upload_rewind(void *ud)
{
    upload_t *u = ud;
    if (!u->seekable || lseek(u->fd, (off_t)u->nhead, SEEK_SET) < 0) return -1;
    u->headpos = 0;
    return 0;
}

/* Open path and read its head. Prints why not and returns -1. */
static int upload_open(const char *path, upload_t *u)
{
    memset(u, 0, sizeof *u);
    u->size = -1;
    u->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (u->fd < 0 || fstat(u->fd, &sb) != 0) {
        iz_cli_fail("cannot read %s: %s", path, strerror(errno));
        if (u->fd >= 0) close(u->fd);
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        iz_cli_fail("cannot read %s: it is a directory", path);
        close(u->fd);
        return -1;
    }
    if (S_ISREG(sb.st_mode)) {
        u->size = (int64_t)sb.st_size;
        u->seekable = true;
    }
    while (u->nhead < HEAD_MAX) {
        ssize_t r = read(u->fd, u->head + u->nhead, HEAD_MAX - u->nhead);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            iz_cli_fail("cannot read %s: %s", path, strerror(errno));
            close(u->fd);
            return -1;
        }
        if (r == 0) break;
        u->nhead += (size_t)r;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The Content-Type of a file: a ZIP's signature makes it XLSX, whatever its
 * name; then the extension (.csv/.txt, .xlsx, .json); else its first bytes
 * (a '[' after an optional BOM and blanks: JSON; otherwise CSV). An Excel
 * 97-2003 file (.xls) is refused here: NULL with *why. No charset is
 * claimed for CSV: the server tells UTF-8 from Windows-1254 itself. */
static const char *content_type(const char *path, const unsigned char *h, size_t n,
                                const char **why)
{
    static const unsigned char zip[] = {'P', 'K', 3, 4}, ole[] = {0xD0, 0xCF, 0x11, 0xE0};
    if (n >= 4 && memcmp(h, zip, 4) == 0) return CT_XLSX;
    if ((n >= 4 && memcmp(h, ole, 4) == 0) || ends_with(path, ".xls")) {
        *why = "an Excel 97-2003 (.xls) file cannot be imported: save it as .xlsx or CSV";
        return NULL;
    }
    if (ends_with(path, ".csv") || ends_with(path, ".txt")) return CT_CSV;
    if (ends_with(path, ".xlsx")) return CT_XLSX;
    if (ends_with(path, ".json")) return CT_JSON;
    size_t i = n >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
        i++;
    return i < n && h[i] == '[' ? CT_JSON : CT_CSV;
}

/* ---- talking to the server ------------------------------------------------ */

/* Text from the server, made safe to print: control bytes become '?', so
 * an answer cannot move the cursor or forge lines on the terminal. */
static void print_safe(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7F ? '?' : *s, f);
}

/* The first error of an izin error answer ({"errors":[{code, message}]}),
 * as "CODE: message", or the answer's start when it has no such shape. */
static void answer_error(const iz_httpc_res_t *res, char *out, size_t n)
{
    json_t *j = res->body ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
    json_t *e = json_array_get(json_object_get(j, "errors"), 0);
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (code || msg)
        snprintf(out, n, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
    else
        snprintf(out, n, "%.120s", res->body ? res->body : "");
    json_decref(j);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F) *p = '?';
}

/* An integer field (a JSON integer or real), or def when absent or null. */
static int64_t num_field(const json_t *o, const char *name, int64_t def)
{
    const json_t *v = json_object_get(o, name);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    return def;
}

typedef struct remote {
    iz_httpc_t *http;
    char *base; /* --server without trailing '/' */
    const char *key;
    int64_t brand;
    char job_id[128];
    char *job_url;
} remote_t;

/* Upload the file; on 202 keep the job's id. Prints why not and returns
 * -1. */
static int remote_upload(remote_t *r, const char *path, upload_t *u, const char *ctype)
{
    char url[IZ_URL_MAX + 96];
    snprintf(url, sizeof url, "%s/v1/brands/%lld/consents/bulk", r->base, (long long)r->brand);
    iz_httpc_req_t req = {.method = "POST",
                          .url = url,
                          .bearer = r->key,
                          .content_type = ctype,
                          .body_read = upload_read,
                          .body_rewind = upload_rewind,
                          .body_ud = u,
                          .body_size = u->size,
                          .timeout_ms = UPLOAD_STALL_MS,
                          .connect_timeout_ms = 10000};
    iz_httpc_res_t res;
    int rc = iz_httpc_do(r->http, &req, &res);
    char why[256] = "";
    if (rc == 0 && res.status != 202) answer_error(&res, why, sizeof why);
    if (rc != 0 && u->err) {
        iz_cli_fail("cannot read %s: %s", path, strerror(u->err));
    } else if (rc != 0) {
        iz_cli_fail("cannot reach %s: %s", r->base, res.error);
    } else if (res.status == 401) {
        iz_cli_fail("the server refused the key (HTTP 401)");
    } else if (res.status == 404) {
        iz_cli_fail("no brand %lld at %s (HTTP 404%s%s)", (long long)r->brand, r->base,
                    why[0] ? ": " : "", why);
    } else if (res.status == 413) {
        iz_cli_fail("the file is larger than the server takes (HTTP 413)");
    } else if (res.status != 202) {
        iz_cli_fail("the server refused the upload (HTTP %ld%s%s)", res.status, why[0] ? ": " : "",
                    why);
    } else {
        json_t *j = json_loadb(res.body ? res.body : "", res.body_len, 0, NULL);
        json_t *id = json_object_get(j, "jobId");
        if (json_is_string(id) && json_string_length(id) > 0 &&
            json_string_length(id) < sizeof r->job_id)
            snprintf(r->job_id, sizeof r->job_id, "%s", json_string_value(id));
        else if (json_is_integer(id))
            snprintf(r->job_id, sizeof r->job_id, "%lld", (long long)json_integer_value(id));
        json_decref(j);
        if (!r->job_id[0]) iz_cli_fail("the server answered 202 without a usable jobId");
    }
    iz_httpc_res_clear(&res);
    if (!r->job_id[0]) return -1;
    char *esc = iz_httpc_escape(r->job_id);
    size_t n = strlen(r->base) + strlen(esc) + sizeof "/v1/jobs/";
    r->job_url = iz_xmalloc(n);
    snprintf(r->job_url, n, "%s/v1/jobs/%s", r->base, esc);
    free(esc);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Poll the job until it is DONE or FAILED, showing its progress. Returns
 * the final job object (the caller frees it), or NULL after printing why
 * the watch ended. A server that does not answer (or answers 5xx/429) is
 * asked again for up to POLL_GIVE_UP_MS. */
static json_t *remote_watch(remote_t *r)
{
    iz_progress_t *pg = iz_progress_new(stderr, isatty(STDERR_FILENO));
    json_t *job = NULL;
    int64_t failing_since = 0;
    for (;;) {
        int64_t t0 = mono_ms();
        iz_httpc_req_t req = {
            .url = r->job_url, .bearer = r->key, .timeout_ms = 10000, .max_body = JOB_BODY_MAX};
        iz_httpc_res_t res;
        int rc = iz_httpc_do(r->http, &req, &res);
        if (rc != 0 || res.cls == IZ_HTTPC_TRANSIENT) {
            if (!failing_since) failing_since = t0;
            if (t0 - failing_since >= POLL_GIVE_UP_MS) {
                iz_progress_done(pg);
                if (rc != 0)
                    iz_cli_fail("lost the server (%s); job %s goes on there: %s", res.error,
                                r->job_id, r->job_url);
                else
                    iz_cli_fail("the server answers HTTP %ld; job %s goes on there: %s", res.status,
                                r->job_id, r->job_url);
                iz_httpc_res_clear(&res);
                return NULL;
            }
            /* after Retry-After when the server gives one, but not past
             * the moment of giving up (then one last try) */
            int64_t wait = res.retry_after_s > 0 ? res.retry_after_s * 1000L : POLL_MS;
            int64_t left = POLL_GIVE_UP_MS - (t0 - failing_since);
            iz_httpc_res_clear(&res);
            sleep_ms(wait < left ? wait : left > POLL_MS ? left : POLL_MS);
            continue;
        }
        failing_since = 0;
        if (res.status != 200) {
            char why[256];
            answer_error(&res, why, sizeof why);
            iz_progress_done(pg);
            iz_cli_fail("cannot read job %s (HTTP %ld%s%s)", r->job_id, res.status,
                        why[0] ? ": " : "", why);
            iz_httpc_res_clear(&res);
            return NULL;
        }
        job = json_loadb(res.body ? res.body : "", res.body_len, 0, NULL);
        iz_httpc_res_clear(&res);
        const char *state = json_string_value(json_object_get(job, "state"));
        if (!json_is_object(job) || !state) {
            iz_progress_done(pg);
            iz_cli_fail("the server's answer for job %s is not a job", r->job_id);
            json_decref(job);
            return NULL;
        }
        iz_progress_update(pg, num_field(job, "processed", 0), num_field(job, "total", -1),
                           num_field(job, "accepted", 0), num_field(job, "rejected", 0));
        if (strcmp(state, "DONE") == 0 || strcmp(state, "FAILED") == 0) break;
        if (strcmp(state, "QUEUED") != 0 && strcmp(state, "RUNNING") != 0) {
            iz_progress_done(pg);
            fprintf(stderr, "izin: job %s is in a state this izin does not know: ", r->job_id);
            print_safe(stderr, state);
            fputc('\n', stderr);
            json_decref(job);
            return NULL;
        }
        json_decref(job);
        job = NULL;
        sleep_ms(POLL_MS - (mono_ms() - t0));
    }
    iz_progress_done(pg);
    return job;
}

/* What a finished job comes to: the summary, warnings and first errors on
 * standard output (or the job as JSON), and the exit code. */
static int remote_report(const remote_t *r, json_t *job, bool as_json)
{
    const char *state = json_string_value(json_object_get(job, "state"));
    bool failed = strcmp(state, "FAILED") == 0;
    int64_t processed = num_field(job, "processed", 0), accepted = num_field(job, "accepted", 0),
            rejected = num_field(job, "rejected", 0);
    char errors_url[IZ_URL_MAX + 256];
    snprintf(errors_url, sizeof errors_url, "%s/errors.csv", r->job_url);
    if (as_json) {
        if (rejected > 0) json_object_set_new(job, "errorsUrl", json_string(errors_url));
        char *s = json_dumps(job, JSON_COMPACT);
        if (!s) iz_oom();
        puts(s);
        free(s);
    } else {
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(job, "warnings"), i, w)
        {
            fputs("warning: ", stdout);
            print_safe(stdout, json_string_value(w));
            fputc('\n', stdout);
        }
        if (!failed) {
            printf("job %s done: %lld rows, %lld accepted, %lld rejected\n", r->job_id,
                   (long long)processed, (long long)accepted, (long long)rejected);
        }
        if (!failed && rejected > 0) {
            printf("rejected rows, every one: %s\n", errors_url);
            json_t *errs = json_object_get(job, "errors"), *e;
            json_array_foreach(errs, i, e)
            {
                if (i == SHOWN_ERRORS) break;
                const json_t *line = json_object_get(e, "line");
                if (json_is_integer(line))
                    printf("  line %lld: ", (long long)json_integer_value(line));
                else
                    fputs("  ", stdout);
                print_safe(stdout, json_string_value(json_object_get(e, "code")));
                fputc(' ', stdout);
                print_safe(stdout, json_string_value(json_object_get(e, "message")));
                fputc('\n', stdout);
            }
            if (rejected > SHOWN_ERRORS)
                printf("  ... and %lld more in errors.csv\n", (long long)(rejected - SHOWN_ERRORS));
        }
    }
    if (fflush(stdout) != 0) return 1;
    if (failed) {
        const char *err = json_string_value(json_object_get(job, "error"));
        fprintf(stderr, "izin: import failed (job %s): ", r->job_id);
        print_safe(stderr, err ? err : "the server gave no reason");
        fputc('\n', stderr);
        return 1;
    }
    return rejected > 0 ? 3 : 0;
}

static int import_remote(const iz_opts_t *o, const char *server, const char *file)
{
    const char *key = iz_cli_get(o, "key");
    remote_t r = {0};
    if (!key || !*key) {
        iz_cli_fail("--server needs --key KEY (or IZIN_KEY)");
        return 2;
    }
    if (iz_cli_brand_code(o, &r.brand) != 0) return 2;
    if (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0) {
        iz_cli_fail("--server must be an http:// or https:// URL");
        return 2;
    }
    size_t bl = strlen(server);
    while (bl > 0 && server[bl - 1] == '/')
        bl--;
    if (bl > IZ_URL_MAX) {
        iz_cli_fail("--server is too long");
        return 2;
    }
    upload_t u;
    if (upload_open(file, &u) != 0) return 1;
    const char *why = NULL, *ctype = content_type(file, u.head, u.nhead, &why);
    if (!ctype) {
        iz_cli_fail("%s", why);
        close(u.fd);
        return 1;
    }
    if (iz_httpc_new(NULL, &r.http) != 0) {
        iz_cli_fail("cannot start the HTTP client");
        close(u.fd);
        return 1;
    }
    r.base = iz_xstrndup(server, bl);
    r.key = key;
    int rc = 1;
    if (remote_upload(&r, file, &u, ctype) == 0) {
        fprintf(stderr, "izin: %s uploaded, job %s: %s\n", file, r.job_id, r.job_url);
        json_t *job = remote_watch(&r);
        if (job) rc = remote_report(&r, job, iz_cli_get(o, "json") != NULL);
        json_decref(job);
    }
    close(u.fd);
    iz_httpc_free(r.http);
    free(r.base);
    free(r.job_url);
    return rc;
}

static int import_run(const iz_opts_t *o)
{
    if (o->npositional != 1) {
        iz_cli_fail("usage: izin import --brand CODE [--server URL --key KEY] FILE "
                    "(see izin import --help)");
        return 2;
    }
    const char *file = o->positional[0];
    const char *server = iz_cli_get(o, "server");
    if (server) {
        static const char *const local_only[] = {"data", "db", "account", "errors"};
        for (size_t i = 0; i < IZ_ARRAY_LEN(local_only); i++)
            for (int d = 0; d < o->ndefs; d++)
                if (strcmp(o->defs[d].name, local_only[i]) == 0 && o->val[d]) {
                    iz_cli_fail("--%s is for the local store; --server imports through the server",
                                local_only[i]);
                    return 2;
                }
        return import_remote(o, server, file);
    }
    const char *brand = iz_cli_get(o, "brand");
    if (!brand) {
        iz_cli_fail("--brand is required");
        return 2;
    }
    return iz_cli_import_local(o, brand, file);
}

int iz_cmd_import(int argc, char **argv)
{
    return iz_cli_run(&import_cmd, import_run, argc, argv);
}
