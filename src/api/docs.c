/*
 * docs.c - the API document: GET /openapi.json answers data/openapi.json
 * as compiled into the binary (openapi_data.S), GET /docs the same document
 * as a Turkish-titled HTML page of the page kit: a table of contents, then
 * each operation with its method, path, summary, parameters, request body
 * and responses (schemas and examples as indented JSON, a schema's $ref a
 * link to the schema at the end of the page), then the schemas.
 *
 * The page's content is rendered once, at the first request, from the
 * parsed document (the document does not change while the binary runs);
 * each request wraps it in the kit's layout. Every text of the document is
 * escaped, the page has no script and names no other host.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/iz.h"
#include "net/page.h"

extern const char iz_openapi_json[];
extern const char iz_openapi_json_end[];

const char *iz_api_openapi(size_t *len)
{
    *len = (size_t)(iz_openapi_json_end - iz_openapi_json);
    return iz_openapi_json;
}

void iz__h_openapi(iz_req_t *r, void *vapp)
{
    (void)vapp;
    size_t len;
    const char *doc = iz_api_openapi(&len);
    iz_reply_bytes(r, 200, "application/json; charset=utf-8", doc, len);
}

/* ---- rendering ------------------------------------------------------------- */

/* The page's additions to the kit: wider than a form page, operations as
 * cards, code and tables that scroll inside themselves on a phone. */
static const char docs_css[] =
    "main,header p,footer{max-width:64rem}"
    "h3{font-size:1.05rem;margin:0 0 .4rem;overflow-wrap:anywhere}"
    "h4{font-size:.95rem;margin:1rem 0 .3rem}"
    "h5{font-size:.9rem;margin:.8rem 0 .2rem}"
    "code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "font-size:.85rem}"
    "pre{background:#f6f8fa;border:1px solid #d3d9df;border-radius:.4rem;padding:.5rem .7rem;"
    "overflow:auto;max-height:28rem;margin:.3rem 0;white-space:pre}"
    ".m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:.3rem;"
    "padding:0 .35rem;margin-right:.35rem;color:#fff;background:#4f5963;font-weight:700;"
    "font-size:.8rem;font-family:ui-monospace,monospace}"
    ".m-get{background:#1f6f43}.m-post{background:#0d4a80}.m-patch{background:#7a4b00}"
    ".m-delete{background:#9b1c1c}.m-put{background:#5b3a8c}"
    ".tw{overflow-x:auto;margin:.3rem 0}"
    "table{border-collapse:collapse;width:100%;font-size:.9rem}"
    "th,td{border:1px solid #d3d9df;padding:.3rem .45rem;text-align:left;vertical-align:top}"
    "th{background:#eef1f4}"
    "nav ul{list-style:none;padding:0;margin:.2rem 0 .8rem}"
    "nav li{margin:.25rem 0;overflow-wrap:anywhere}"
    ".path{overflow-wrap:anywhere}"
    "details{margin:.3rem 0}summary{cursor:pointer;color:#0d4a80}";

static const char *const methods[] = {"get", "put", "post", "delete", "patch"};

/* Escaped text into f. */
static void esc(FILE *f, const char *s)
{
    if (!s) return;
    size_t n = iz_page_escape(NULL, 0, s);
    char *buf = iz_xmalloc(n + 1);
    iz_page_escape(buf, n + 1, s);
    fputs(buf, f);
    free(buf);
}

/* A JSON string as JSON text ("..." with JSON's escapes), HTML-escaped. */
static void esc_json_string(FILE *f, json_t *s)
{
    char *t = json_dumps(s, JSON_ENCODE_ANY);
    if (!t) iz_oom();
    esc(f, t);
    free(t);
}

static void indent(FILE *f, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", f);
}

/* A schema's anchor: "schema-" and its name, which the document keeps to
 * [A-Za-z0-9_] (escaped all the same). */
static void schema_link(FILE *f, const char *ref)
{
    static const char prefix[] = "#/components/schemas/";
    const char *name = ref + sizeof prefix - 1;
    fputs("<a href=\"#schema-", f);
    esc(f, name);
    fputs("\">", f);
    esc(f, name);
    fputs("</a>", f);
}

/* JSON as indented text for a <pre>: every string escaped; the value of a
 * schema "$ref" a link to that schema. */
static void json_html(FILE *f, json_t *v, int depth)
{
    if (json_is_object(v)) {
        if (json_object_size(v) == 0) {
            fputs("{}", f);
            return;
        }
        fputs("{\n", f);
        const char *k;
        json_t *x;
        size_t i = 0, n = json_object_size(v);
        json_object_foreach(v, k, x)
        {
            indent(f, depth + 1);
            json_t *key = json_string(k);
            esc_json_string(f, key);
            json_decref(key);
            fputs(": ", f);
            if (strcmp(k, "$ref") == 0 && json_is_string(x) &&
                strncmp(json_string_value(x), "#/components/schemas/", 21) == 0) {
                fputs("\"", f);
                schema_link(f, json_string_value(x));
                fputs("\"", f);
            } else {
                json_html(f, x, depth + 1);
            }
            fputs(++i < n ? ",\n" : "\n", f);
        }
        indent(f, depth);
        fputs("}", f);
    } else if (json_is_array(v)) {
        if (json_array_size(v) == 0) {
            fputs("[]", f);
            return;
        }
        fputs("[\n", f);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            indent(f, depth + 1);
            json_html(f, x, depth + 1);
            fputs(i + 1 < json_array_size(v) ? ",\n" : "\n", f);
        }
        indent(f, depth);
        fputs("]", f);
    } else {
        esc_json_string(f, v);
    }
}

static void pre_json(FILE *f, json_t *v)
{
    fputs("<pre>", f);
    json_html(f, v, 0);
    fputs("</pre>", f);
}

/* A component a "$ref" names (#/components/KIND/NAME), or v itself. */
static json_t *deref(json_t *doc, json_t *v)
{
    const char *ref = json_string_value(json_object_get(v, "$ref"));
    if (!ref || strncmp(ref, "#/components/", 13) != 0) return v;
    const char *kind = ref + 13, *slash = strchr(kind, '/');
    if (!slash) return v;
    char k[32];
    size_t n = (size_t)(slash - kind);
    if (n >= sizeof k) return v;
    memcpy(k, kind, n);
    k[n] = '\0';
    json_t *c = json_object_get(json_object_get(json_object_get(doc, "components"), k), slash + 1);
    return c ? c : v;
}

/* A text of the document as a paragraph (its blank lines start new ones). */
static void para(FILE *f, const char *cls, const char *text)
{
    if (!text || !*text) return;
    fprintf(f, "<p%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    for (const char *p = text; *p;) {
        const char *nl = strstr(p, "\n\n");
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *part = iz_xstrndup(p, n);
        esc(f, part);
        free(part);
        if (!nl) break;
        fputs("</p><p>", f);
        p = nl + 2;
    }
    fputs("</p>", f);
}

/* The content types of a request body or a response: each with its schema
 * and examples. */
static void contents(FILE *f, json_t *content)
{
    const char *ct;
    json_t *c;
    json_object_foreach(content, ct, c)
    {
        fputs("<p class=\"meta\"><code>", f);
        esc(f, ct);
        fputs("</code></p>", f);
        json_t *schema = json_object_get(c, "schema");
        if (schema) {
            /* a lone $ref is shown as its link; a schema of its own is
             * folded (the page stays readable on a phone) */
            const char *ref = json_string_value(json_object_get(schema, "$ref"));
            if (ref && json_object_size(schema) == 1 &&
                strncmp(ref, "#/components/schemas/", 21) == 0) {
                fputs("<p class=\"meta\">Şema: ", f);
                schema_link(f, ref);
                fputs("</p>", f);
            } else {
                fputs("<details><summary>Şema</summary>", f);
                pre_json(f, schema);
                fputs("</details>", f);
            }
        }
        json_t *ex = json_object_get(c, "example");
        if (ex) {
            fputs("<details><summary>Örnek</summary>", f);
            if (json_is_string(ex)) {
                fputs("<pre>", f);
                esc(f, json_string_value(ex));
                fputs("</pre>", f);
            } else {
                pre_json(f, ex);
            }
            fputs("</details>", f);
        }
        const char *name;
        json_t *e;
        json_object_foreach(json_object_get(c, "examples"), name, e)
        {
            fputs("<details><summary>Örnek: ", f);
            esc(f, name);
            fputs("</summary>", f);
            pre_json(f, json_object_get(e, "value"));
            fputs("</details>", f);
        }
    }
}

static const char *security_text(json_t *doc, json_t *op)
{
    json_t *sec = json_object_get(op, "security");
    if (!sec) sec = json_object_get(doc, "security");
    if (json_array_size(sec) == 0) return "yok (herkese açık)";
    void *it = json_object_iter(json_array_get(sec, 0));
    const char *first = it ? json_object_iter_key(it) : NULL;
    if (!first) return "yok (herkese açık)";
    if (strcmp(first, "apiKey") == 0) return "API anahtarı (Authorization: Bearer)";
    if (strcmp(first, "iysPush") == 0) return "HTTP Basic (İYS'nin push kimliği)";
    return "ağ geçidi anahtarı (?token= ya da X-Izin-Token)";
}

static void parameters(FILE *f, json_t *doc, json_t *list)
{
    if (json_array_size(list) == 0) return;
    fputs("<h4>Parametreler</h4><div class=\"tw\"><table><thead><tr><th>ad</th><th>yer</th>"
          "<th>zorunlu</th><th>şema</th><th>açıklama</th></tr></thead><tbody>",
          f);
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        p = deref(doc, p);
        fputs("<tr><td><code>", f);
        esc(f, json_string_value(json_object_get(p, "name")));
        fputs("</code></td><td>", f);
        esc(f, json_string_value(json_object_get(p, "in")));
        fprintf(f, "</td><td>%s</td><td><code>",
                json_is_true(json_object_get(p, "required")) ? "evet" : "hayır");
        char *s = json_dumps(json_object_get(p, "schema"), JSON_COMPACT | JSON_ENCODE_ANY);
        json_t *sv = json_object_get(p, "schema");
        const char *ref = json_string_value(json_object_get(sv, "$ref"));
        if (ref && strncmp(ref, "#/components/schemas/", 21) == 0)
            schema_link(f, ref);
        else
            esc(f, s ? s : "");
        free(s);
        fputs("</code></td><td>", f);
        esc(f, json_string_value(json_object_get(p, "description")));
        fputs("</td></tr>", f);
    }
    fputs("</tbody></table></div>", f);
}

static void operation(FILE *f, json_t *doc, const char *path, const char *method, json_t *op,
                      json_t *path_params)
{
    const char *id = json_string_value(json_object_get(op, "operationId"));
    fputs("<section class=\"card\" id=\"op-", f);
    esc(f, id);
    fprintf(f, "\"><h3><span class=\"m m-%s\">", method);
    for (const char *m = method; *m; m++)
        fputc(*m - 'a' + 'A', f);
    fputs("</span> <code class=\"path\">", f);
    esc(f, path);
    fputs("</code></h3>", f);
    para(f, NULL, json_string_value(json_object_get(op, "summary")));
    para(f, NULL, json_string_value(json_object_get(op, "description")));
    fputs("<p class=\"meta\">Kimlik doğrulama: ", f);
    esc(f, security_text(doc, op));
    fputs(" · operationId <code>", f);
    esc(f, id);
    fputs("</code></p>", f);
    json_t *all = json_array();
    if (path_params) json_array_extend(all, path_params);
    json_t *own = json_object_get(op, "parameters");
    if (own) json_array_extend(all, own);
    parameters(f, doc, all);
    json_decref(all);
    json_t *body = json_object_get(op, "requestBody");
    if (body) {
        body = deref(doc, body);
        fprintf(f, "<h4>İstek gövdesi%s</h4>",
                json_is_true(json_object_get(body, "required")) ? " (zorunlu)" : "");
        para(f, NULL, json_string_value(json_object_get(body, "description")));
        contents(f, json_object_get(body, "content"));
    }
    fputs("<h4>Yanıtlar</h4>", f);
    const char *status;
    json_t *resp;
    json_object_foreach(json_object_get(op, "responses"), status, resp)
    {
        resp = deref(doc, resp);
        fputs("<h5>", f);
        esc(f, status);
        fputs(" · ", f);
        esc(f, json_string_value(json_object_get(resp, "description")));
        fputs("</h5>", f);
        const char *h;
        json_t *hv;
        json_object_foreach(json_object_get(resp, "headers"), h, hv)
        {
            fputs("<p class=\"meta\">Başlık <code>", f);
            esc(f, h);
            fputs("</code> ", f);
            esc(f, json_string_value(json_object_get(hv, "description")));
            fputs("</p>", f);
        }
        contents(f, json_object_get(resp, "content"));
    }
    fputs("</section>", f);
}

/* Call fn for each operation of tag (each operation under its first tag),
 * in the document's order of paths and a fixed order of methods. */
typedef void each_fn(FILE *f, json_t *doc, const char *path, const char *method, json_t *op,
                     json_t *path_params);

static void each_op(FILE *f, json_t *doc, const char *tag, each_fn *fn)
{
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t i = 0; i < IZ_ARRAY_LEN(methods); i++) {
            json_t *op = json_object_get(item, methods[i]);
            const char *t = json_string_value(json_array_get(json_object_get(op, "tags"), 0));
            if (op && t && strcmp(t, tag) == 0)
                fn(f, doc, path, methods[i], op, json_object_get(item, "parameters"));
        }
    }
}

static void toc_entry(FILE *f, json_t *doc, const char *path, const char *method, json_t *op,
                      json_t *path_params)
{
    (void)doc;
    (void)path_params;
    fputs("<li><a href=\"#op-", f);
    esc(f, json_string_value(json_object_get(op, "operationId")));
    fprintf(f, "\"><span class=\"m m-%s\">", method);
    for (const char *m = method; *m; m++)
        fputc(*m - 'a' + 'A', f);
    fputs("</span><code>", f);
    esc(f, path);
    fputs("</code></a> ", f);
    esc(f, json_string_value(json_object_get(op, "summary")));
    fputs("</li>", f);
}

/* The tag's anchor: its position among the tags (names hold spaces). */
static void tag_heading(FILE *f, size_t i, json_t *tag, const char *el)
{
    fprintf(f, "<%s id=\"tag-%zu\">", el, i);
    esc(f, json_string_value(json_object_get(tag, "name")));
    fprintf(f, "</%s>", el);
}

/* The page's content (what goes inside <main>), malloc'd. */
static char *render(json_t *doc)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) iz_oom();
    json_t *info = json_object_get(doc, "info");
    fputs("<h1>", f);
    esc(f, json_string_value(json_object_get(info, "title")));
    fputs(" · API belgesi</h1><p class=\"meta\">OpenAPI ", f);
    esc(f, json_string_value(json_object_get(doc, "openapi")));
    fputs(" · sürüm ", f);
    esc(f, json_string_value(json_object_get(info, "version")));
    fputs(" · makinece okunur hâli: <a href=\"/openapi.json\">/openapi.json</a></p>", f);
    para(f, NULL, json_string_value(json_object_get(info, "summary")));
    para(f, NULL, json_string_value(json_object_get(info, "description")));

    json_t *tags = json_object_get(doc, "tags");
    size_t i;
    json_t *tag;
    fputs("<nav class=\"card\" aria-labelledby=\"toc\"><h2 id=\"toc\">İçindekiler</h2>", f);
    json_array_foreach(tags, i, tag)
    {
        fprintf(f, "<h3><a href=\"#tag-%zu\">", i);
        esc(f, json_string_value(json_object_get(tag, "name")));
        fputs("</a></h3><ul>", f);
        each_op(f, doc, json_string_value(json_object_get(tag, "name")), toc_entry);
        fputs("</ul>", f);
    }
    fputs("<h3><a href=\"#auth\">Kimlik doğrulama</a></h3>"
          "<h3><a href=\"#schemas\">Şemalar</a></h3></nav>",
          f);

    fputs("<h2 id=\"auth\">Kimlik doğrulama</h2>", f);
    const char *name;
    json_t *s;
    json_object_foreach(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
                        name, s)
    {
        fputs("<p><code>", f);
        esc(f, name);
        fputs("</code>: ", f);
        esc(f, json_string_value(json_object_get(s, "description")));
        fputs("</p>", f);
    }
    json_array_foreach(tags, i, tag)
    {
        tag_heading(f, i, tag, "h2");
        para(f, NULL, json_string_value(json_object_get(tag, "description")));
        each_op(f, doc, json_string_value(json_object_get(tag, "name")), operation);
    }
    fputs("<h2 id=\"schemas\">Şemalar</h2>", f);
    json_object_foreach(json_object_get(json_object_get(doc, "components"), "schemas"), name, s)
    {
        fputs("<section class=\"card\" id=\"schema-", f);
        esc(f, name);
        fputs("\"><h3>", f);
        esc(f, name);
        fputs("</h3>", f);
        para(f, NULL, json_string_value(json_object_get(s, "description")));
        pre_json(f, s);
        fputs("</section>", f);
    }
    if (fclose(f) != 0) iz_oom();
    return out;
}

/* ---- the page ------------------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static iz_page_site_t site;
static char *content; /* NULL when the document could not be read */

static void prepare(void)
{
    static const iz_page_site_cfg_t cfg = {
        .title = "izin",
        .subtitle = "HTTP API belgesi",
        .footer = "Bu sayfa /openapi.json belgesinden üretilmiştir.",
        .home = "/docs",
        .home_label = "API belgesine dön",
        .css = docs_css,
    };
    if (iz_page_site_init(&site, &cfg) != 0) return;
    size_t len;
    const char *text = iz_api_openapi(&len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    if (doc) content = render(doc);
    json_decref(doc);
}

void iz__h_docs(iz_req_t *r, void *vapp)
{
    (void)vapp;
    pthread_once(&once, prepare);
    if (!content) {
        iz_reply_error(r, "IZ500", "the API document cannot be read");
        return;
    }
    iz_page_t p;
    iz_page_begin(&p, &site, r, "izin HTTP API belgesi");
    iz_page_puts(&p, content);
    iz_page_end(&p, 200);
}
