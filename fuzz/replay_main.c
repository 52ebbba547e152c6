/*
 * replay_main.c - a main() for the fuzz drivers when they are built without
 * libFuzzer: it feeds every file named on the command line, or every file in
 * a directory named there, to LLVMFuzzerTestOneInput once. `make
 * fuzz-replay` runs it over the committed corpora, so every input that once
 * found a bug stays a regression test in the normal build.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX (1024 * 1024) /* corpus files are small; refuse big ones */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run one file; 0 when it ran, -1 when it could not be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t n;

    if (!f) {
        perror(path);
        return -1;
    }
    buf = malloc(REPLAY_MAX + 1);
    if (!buf) {
        fclose(f);
        return -1;
    }
    n = fread(buf, 1, REPLAY_MAX + 1, f);
    if (ferror(f) || n > REPLAY_MAX) {
        fprintf(stderr, "%s: unreadable or larger than %d bytes\n", path, REPLAY_MAX);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every regular file of a directory, in name order so that runs are
 * reproducible. Returns the number run, or -1 on an error. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    long ran = 0;

    if (!d) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **nn;
            cap = cap ? cap * 2 : 64;
            nn = realloc(names, cap * sizeof(*names));
            if (!nn) abort();
            names = nn;
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n]) abort();
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1) qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(names[i]) < 0)
                ran = -1;
            else if (ran >= 0)
                ran++;
        }
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : (replay_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0) {
            rc = 1;
            continue;
        }
        printf("fuzz-replay %s: %ld inputs ok\n", argv[i], n);
    }
    return rc;
}
