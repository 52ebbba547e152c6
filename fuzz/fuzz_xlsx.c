/*
 * fuzz_xlsx.c - libFuzzer driver for the bulk XLSX reader.
 *
 * Two kinds of input. One that starts with "PK" is a workbook file as it
 * is. Any other is split at NUL bytes into up to four XML parts - the
 * sheet, the shared strings, the workbook and its relationships - which
 * are zipped (stored, so the fuzzer's bytes reach expat as they are) into
 * a workbook; a part left out is not in the zip. Either file is written to
 * a temporary directory and read through iz_bulk_open_path(); every row
 * must be well formed, a failure must stay (bulk_check.h), and a second
 * read must give the same rows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "bulk_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256], dir[200];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

/* The file every input is written to, in a directory of this process
 * (removed at exit). */
static const char *file_path(void)
{
    if (!path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/izin-fuzz-xlsx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/in.xlsx", dir);
        atexit(cleanup);
    }
    return path;
}

static void write_raw(const uint8_t *data, size_t size)
{
    FILE *f = fopen(file_path(), "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, size, f) == size || size == 0);
    CHECK(fclose(f) == 0);
}

static void write_parts(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                        "xl/workbook.xml", "xl/_rels/workbook.xml.rels"};
    int err;
    zip_t *z = zip_open(file_path(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    CHECK(z != NULL);
    size_t start = 0;
    int part = 0;
    for (size_t i = 0; i <= size && part < 4; i++) {
        if (i < size && data[i] != 0) continue;
        if (i > start) {
            zip_source_t *src = zip_source_buffer(z, data + start, i - start, 0);
            CHECK(src != NULL);
            zip_int64_t idx = zip_file_add(z, names[part], src, ZIP_FL_OVERWRITE);
            CHECK(idx >= 0);
            zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        }
        part++;
        start = i + 1;
    }
    CHECK(zip_close(z) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool raw = size >= 2 && data[0] == 'P' && data[1] == 'K';
    if (raw)
        write_raw(data, size);
    else
        write_parts(data, size);
    iz_bulk_reader_t *r;
    int rc = iz_bulk_open_path(&r, IZ_BULK_XLSX, file_path());
    digest_t a = check_reader(r, rc);
    rc = iz_bulk_open_path(&r, IZ_BULK_AUTO, file_path());
    digest_t b = check_reader(r, rc);
    /* Sniffed, a file is XLSX only with a zip's signature ("PK" and more
     * may be a CSV); what this driver zips always has it. */
    if (!raw || iz_bulk_format_sniff(data, size, NULL) == IZ_BULK_XLSX) same(a, b);
    return 0;
}
