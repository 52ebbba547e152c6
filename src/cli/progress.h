/*
 * progress.h - the progress display of long command-line jobs (izin
 * import): how many rows are done, how fast, and when the rest will be.
 *
 * On a terminal it is one line redrawn in place with '\r' at most ten times
 * a second: a bar and the percentage (when the total is known),
 * processed/total, rows a second over the last five seconds, the time left,
 * and the accepted and rejected rows. Anywhere else (a log file, a pipe, a
 * CI job) it writes a plain line at most every two seconds:
 *
 *   processed=420000 total=1000000 accepted=419990 rejected=10 rows_per_s=98000 eta_s=6
 *
 * with total=unknown and eta_s=unknown while the total is not known. The
 * last line, written by iz_progress_done(), gives the average rate of the
 * whole run.
 */
#ifndef IZ_CLI_PROGRESS_H
#define IZ_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct iz_progress iz_progress_t;

/* A display writing to out (borrowed: it must outlive the display), as a
 * terminal's redrawn line when tty, else as plain lines. Never NULL. */
iz_progress_t *iz_progress_new(FILE *out, bool tty);

/* The job's counts now: rows processed, the total (-1 while unknown),
 * accepted and rejected. Cheap enough to call for every row: it writes only
 * when the display is due. */
void iz_progress_update(iz_progress_t *p, int64_t processed, int64_t total, int64_t accepted,
                        int64_t rejected);

/* Write the final state (on a terminal, ending the line) and free the
 * display. Writes nothing when there was no update. NULL is fine. */
void iz_progress_done(iz_progress_t *p);

/* The clock the display reads, in milliseconds (by default the monotonic
 * clock): tests set their own. Call it before the first update. */
void iz_progress_set_clock(iz_progress_t *p, int64_t (*now_ms)(void *ctx), void *ctx);

#endif
