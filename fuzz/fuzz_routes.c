/*
 * fuzz_routes.c - libFuzzer driver for HTTP routing (net/http.h
 * iz_http_route, the server's own) over the route tables izin serves:
 * the module's API and pages (iz_api_routes + iz_web_routes, as izin serve
 * puts them together) and the İYS emulator's (iz_sim_routes).
 *
 * Two inputs in one. The bytes as a method and a path ("METHOD path"):
 * when a route takes it, the route's pattern with its {name} segments
 * replaced by the params read back (iz_req_param) is the path again, each
 * param a non-empty segment, and the method fits (HEAD takes GET). Then a
 * path built from a route of the table (picked by the first byte, its
 * params filled from the input): the route found is that one, or an
 * earlier one that is more specific - a literal segment where this one has
 * a {param} - never one that hides it by being more general.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "api/api.h"
#include "net/http.h"
#include "sim/sim.h"
#include "web/panel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static iz_route_t *izin_routes;
static size_t n_izin;

static void tables(void)
{
    if (izin_routes) return;
    size_t na, nw;
    const iz_route_t *a = iz_api_routes(&na), *w = iz_web_routes(&nw);
    izin_routes = malloc((na + nw) * sizeof *izin_routes);
    if (!izin_routes) abort();
    memcpy(izin_routes, a, na * sizeof *a);
    memcpy(izin_routes + na, w, nw * sizeof *w);
    n_izin = na + nw;
}

/* The pattern with r's params in place of its {name} segments. */
static void rebuild(iz_req_t *r, const char *pattern, char *out, size_t outsz)
{
    size_t k = 0;
    for (const char *p = pattern; *p;) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
            const char *v = iz_req_param(r, name);
            if (!v || !*v || strchr(v, '/')) abort();
            k += (size_t)snprintf(out + k, outsz - k, "%s", v);
            p = e + 1;
        } else {
            out[k++] = *p++;
        }
        if (k >= outsz - 1) abort();
    }
    out[k] = '\0';
}

static bool is_param(const char *seg, size_t n)
{
    return n >= 2 && seg[0] == '{' && seg[n - 1] == '}';
}

/* Whether earlier route a is more specific than b wherever they differ: a
 * has a literal where b has a param, never the reverse. */
static bool more_specific(const char *a, const char *b)
{
    while (*a && *b) {
        a++;
        b++;
        size_t al = strcspn(a, "/"), bl = strcspn(b, "/");
        if (is_param(a, al) && !is_param(b, bl)) return false;
        a += al;
        b += bl;
    }
    return true;
}

static void route_text(const iz_route_t *routes, size_t n, const char *method, const char *path)
{
    iz_req_t *r = iz_req_detached();
    bool known;
    const iz_route_t *rt = iz_http_route(r, routes, n, method, path, false, &known);
    if (rt) {
        char back[4096];
        if (!known) abort();
        if (strcmp(rt->method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            abort();
        rebuild(r, rt->pattern, back, sizeof back);
        if (strcmp(back, path) != 0) abort();
    }
    iz_req_detached_free(r);
}

/* Build a path from routes[i] with params from the input, route it. */
static void route_built(const iz_route_t *routes, size_t n, size_t i, const uint8_t *d, size_t sz)
{
    const iz_route_t *want = &routes[i];
    char path[2048];
    size_t k = 0, at = 0;
    for (const char *p = want->pattern; *p && k < 1024;) {
        if (*p == '{') {
            /* a param: bytes of the input up to a '/', NUL or '\n', at least one */
            size_t m = 0;
            while (at < sz && d[at] != '/' && d[at] != '\0' && d[at] != '\n' && m < 200)
                path[k++] = (char)d[at++], m++;
            if (at < sz) at++;
            if (m == 0) path[k++] = 'x';
            p = strchr(p, '}') + 1;
        } else {
            path[k++] = *p++;
        }
    }
    path[k] = '\0';
    iz_req_t *r = iz_req_detached();
    bool known;
    const iz_route_t *rt = iz_http_route(r, routes, n, want->method, path, false, &known);
    if (!rt || !known || rt > want) abort(); /* a route must take its own paths */
    if (rt != want && !more_specific(rt->pattern, want->pattern)) abort();
    iz_req_detached_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tables();
    size_t ns;
    const iz_route_t *sim = iz_sim_routes(&ns);
    char *text = fuzz_cstr(data, size);
    char *sp = strchr(text, ' ');
    if (sp) {
        *sp = '\0';
        route_text(izin_routes, n_izin, text, sp + 1);
        route_text(sim, ns, text, sp + 1);
    }
    free(text);
    if (size >= 1) {
        route_built(izin_routes, n_izin, data[0] % n_izin, data + 1, size - 1);
        route_built(sim, ns, data[0] % ns, data + 1, size - 1);
    }
    return 0;
}
