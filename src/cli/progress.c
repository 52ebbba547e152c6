/*
 * progress.c - the progress display of long command-line jobs (see
 * progress.h).
 *
 * The rate is taken over a window of recent samples rather than since the
 * start, so that it follows a job that speeds up or slows down (a server
 * that commits in large batches, a file read from a slow disk); samples are
 * kept at most four a second in a small ring, so an update per row costs a
 * clock read and a compare.
 */
#include "cli/progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/iz.h"

#define TTY_EVERY_MS 100    /* a terminal's line is redrawn at most 10 times a second */
#define PLAIN_EVERY_MS 2000 /* a plain line at most every 2 s */
#define SAMPLE_EVERY_MS 250 /* a rate sample at most 4 times a second */
#define WINDOW_MS 5000      /* the rate is over the last 5 s */
#define NSAMPLES 32         /* 32 x 250 ms: more than the window */
#define BAR_MAX 30          /* the bar's width at most */
#define BAR_MIN 10          /* narrower than this, no bar */
#define BAR_SLACK 12        /* columns the first drawing leaves for the numbers to grow */
#define LINE_MAX_ 256

typedef struct sample {
    int64_t t, processed;
} sample_t;

struct iz_progress {
    FILE *out;
    bool tty;
    int cols; /* the terminal's width */
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;
    int64_t start;
    int64_t last_write; /* when the display last wrote (start before any) */
    bool updated, written;
    int64_t processed, total, accepted, rejected;
    sample_t ring[NSAMPLES];
    size_t nring, head; /* head: where the next sample goes */
    size_t drawn;       /* length of the terminal line last drawn */
    int bar;            /* the bar's width, once drawn */
};

static int64_t mono_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

iz_progress_t *iz_progress_new(FILE *out, bool tty)
{
    iz_progress_t *p = iz_xcalloc(1, sizeof *p);
    p->out = out;
    p->tty = tty;
    p->cols = 80;
    struct winsize ws;
    int fd = fileno(out);
    if (tty && fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) p->cols = ws.ws_col;
    if (p->cols > LINE_MAX_) p->cols = LINE_MAX_;
    iz_progress_set_clock(p, mono_ms, NULL);
    return p;
}

void iz_progress_set_clock(iz_progress_t *p, int64_t (*now_ms)(void *ctx), void *ctx)
{
    p->now_ms = now_ms;
    p->clock_ctx = ctx;
    p->start = p->last_write = now_ms(ctx);
}

/* Rows a second over the window, from the oldest sample inside it; since
 * the start while the window holds no older sample. */
static double window_rate(const iz_progress_t *p, int64_t now)
{
    int64_t t0 = p->start, n0 = 0;
    for (size_t i = 0; i < p->nring; i++) {
        const sample_t *s = &p->ring[(p->head + NSAMPLES - p->nring + i) % NSAMPLES];
        if (s->t >= now - WINDOW_MS && s->t < now) {
            t0 = s->t;
            n0 = s->processed;
            break;
        }
    }
    if (now <= t0 || p->processed < n0) return 0;
    return (double)(p->processed - n0) * 1000.0 / (double)(now - t0);
}

/* Seconds left at rate, or -1 when that cannot be told. */
static int64_t eta_s(const iz_progress_t *p, double rate)
{
    if (p->total < 0) return -1;
    if (p->processed >= p->total) return 0;
    if (rate <= 0) return -1;
    return (int64_t)((double)(p->total - p->processed) / rate + 0.5);
}

static void fmt_secs(char *out, size_t n, int64_t s)
{
    if (s < 0)
        snprintf(out, n, "--:--");
    else if (s >= 3600)
        snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(out, n, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static void write_plain(iz_progress_t *p, double rate)
{
    int64_t eta = eta_s(p, rate);
    char total[24] = "unknown", left[24] = "unknown";
    if (p->total >= 0) snprintf(total, sizeof total, "%lld", (long long)p->total);
    if (eta >= 0) snprintf(left, sizeof left, "%lld", (long long)eta);
    fprintf(p->out,
            "processed=%lld total=%s accepted=%lld rejected=%lld rows_per_s=%lld eta_s=%s\n",
            (long long)p->processed, total, (long long)p->accepted, (long long)p->rejected,
            (long long)(rate + 0.5), left);
}

/* A count for the terminal's line: exact below 100,000, then with k, M or
 * G, so that the line fits a terminal at any size of job. */
static void human(char *out, size_t n, int64_t v)
{
    if (v < 100000)
        snprintf(out, n, "%lld", (long long)v);
    else if (v < 1000000)
        snprintf(out, n, "%.1fk", (double)v / 1e3);
    else if (v < 1000000000)
        snprintf(out, n, "%.2fM", (double)v / 1e6);
    else
        snprintf(out, n, "%.2fG", (double)v / 1e9);
}

/* The terminal line's text, in full words or (brief) in short ones; pct -1
 * while the total is not known. */
static void tty_text(const iz_progress_t *p, char *out, size_t n, int pct, double rate,
                     const char *when_label, const char *when, bool brief)
{
    char done[24], total[24], speed[24], ok[24], bad[24];
    human(done, sizeof done, p->processed);
    human(total, sizeof total, p->total);
    human(speed, sizeof speed, (int64_t)(rate + 0.5));
    human(ok, sizeof ok, p->accepted);
    human(bad, sizeof bad, p->rejected);
    if (pct >= 0 && !brief)
        snprintf(out, n, "%3d%% %s/%s rows  %s rows/s  %s %s  accepted %s  rejected %s", pct, done,
                 total, speed, when_label, when, ok, bad);
    else if (pct >= 0)
        snprintf(out, n, "%d%% %s/%s %s/s %s %s ok %s rej %s", pct, done, total, speed, when_label,
                 when, ok, bad);
    else if (!brief)
        snprintf(out, n, "%s rows  %s rows/s%s%s  accepted %s  rejected %s", done, speed,
                 when_label[0] ? "  in " : "", when_label[0] ? when : "", ok, bad);
    else
        snprintf(out, n, "%s rows %s/s%s%s ok %s rej %s", done, speed, when_label[0] ? " in " : "",
                 when_label[0] ? when : "", ok, bad);
}

/* Redraw the terminal's line, shorter than the terminal is wide: the full
 * words when they fit with a bar (or alone, without a total), else the
 * brief ones, and the bar in the room left. The last line (final) shows the time the run took
 * instead of the time left. */
static void draw_tty(iz_progress_t *p, double rate, int64_t now, bool final)
{
    char when[24], text[LINE_MAX_], line[LINE_MAX_ * 2];
    fmt_secs(when, sizeof when, final ? (now - p->start) / 1000 : eta_s(p, rate));
    int pct = -1;
    if (p->total > 0)
        pct = (int)(p->processed >= p->total ? 100 : p->processed * 100 / p->total);
    else if (p->total == 0)
        pct = 100;
    /* without a total, only the last line tells a time (the time taken) */
    const char *label = final ? "in" : pct >= 0 ? "ETA" : "";
    size_t max = (size_t)p->cols - 1;         /* short of the last column: no wrap */
    size_t need = pct >= 0 ? BAR_MIN + 3 : 0; /* with a total, room for a bar too */
    tty_text(p, text, sizeof text, pct, rate, label, when, false);
    if (strlen(text) + need > max) tty_text(p, text, sizeof text, pct, rate, label, when, true);
    size_t tl = strlen(text), k = 0;
    /* The bar keeps the width of its first drawing, which leaves the
     * numbers room to grow, so that it does not jump from one drawing to
     * the next; it narrows only when the room does. */
    int room = (int)max - (int)tl - 3; /* "[", "] " */
    if (p->bar == 0) p->bar = room - BAR_SLACK > BAR_MAX ? BAR_MAX : room - BAR_SLACK;
    if (room < p->bar) p->bar = room;
    int bar = p->bar;
    if (pct >= 0 && bar >= BAR_MIN) {
        int fill = pct * bar / 100;
        line[k++] = '[';
        for (int i = 0; i < bar; i++)
            line[k++] = i < fill ? '#' : '-';
        line[k++] = ']';
        line[k++] = ' ';
    }
    if (tl > max) tl = max;
    memcpy(line + k, text, tl);
    k += tl;
    size_t len = k;
    while (k < p->drawn) /* blank what is left of a longer line before */
        line[k++] = ' ';
    fputc('\r', p->out);
    fwrite(line, 1, k, p->out);
    if (final) fputc('\n', p->out);
    fflush(p->out);
    p->drawn = len;
}

void iz_progress_update(iz_progress_t *p, int64_t processed, int64_t total, int64_t accepted,
                        int64_t rejected)
{
    int64_t now = p->now_ms(p->clock_ctx);
    p->processed = processed;
    p->total = total;
    p->accepted = accepted;
    p->rejected = rejected;
    p->updated = true;
    const sample_t *last = p->nring ? &p->ring[(p->head + NSAMPLES - 1) % NSAMPLES] : NULL;
    if (!last || now - last->t >= SAMPLE_EVERY_MS) {
        p->ring[p->head] = (sample_t){now, processed};
        p->head = (p->head + 1) % NSAMPLES;
        if (p->nring < NSAMPLES) p->nring++;
    }
    if (p->tty) {
        if (p->written && now - p->last_write < TTY_EVERY_MS) return;
        draw_tty(p, window_rate(p, now), now, false);
    } else {
        if (now - p->last_write < PLAIN_EVERY_MS) return;
        write_plain(p, window_rate(p, now));
        fflush(p->out);
    }
    p->last_write = now;
    p->written = true;
}

void iz_progress_done(iz_progress_t *p)
{
    if (!p) return;
    if (p->updated) {
        int64_t now = p->now_ms(p->clock_ctx);
        double avg = now > p->start ? (double)p->processed * 1000.0 / (double)(now - p->start) : 0;
        if (p->tty) {
            draw_tty(p, avg, now, true);
        } else {
            write_plain(p, avg);
            fflush(p->out);
        }
    }
    free(p);
}
