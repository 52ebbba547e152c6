/*
 * plans.h - izin's plans (F9): yearly tiers by consent count, read from the
 * text file an operator edits (data/plans.conf is the sample and the
 * built-in default, core/plans_data.S links it in).
 *
 * The file: one plan a line, `code | name | limit | price`; '#' starts a
 * comment, blank lines are ignored, fields are trimmed. code is 1-31 of
 * a-z 0-9 '-' '_' (what accounts name); name 1-63 bytes of UTF-8 without
 * control characters or '|'; limit a whole number from 1 (groups of three
 * digits may be separated by '.' or ',': "25.000") or '-' for no limit;
 * price TRY before VAT, digits with at most two decimals after '.'
 * ("2400", "2400.5", "2400.50"), or '-' for no list price. Codes are
 * unique; at most IZ_PLANS_MAX plans. Anything else is refused with the
 * line number.
 *
 * Money is kept in kuruş (int64): the price with 20% VAT is computed
 * exactly, rounded half up to the kuruş.
 *
 * Pure: no I/O, no allocation, no global state.
 */
#ifndef IZ_PLANS_H
#define IZ_PLANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IZ_PLANS_MAX 64
#define IZ_PLAN_CODE_MAX 32
#define IZ_PLAN_NAME_MAX 64
#define IZ_VAT_PERCENT 20

typedef struct iz_plan {
    char code[IZ_PLAN_CODE_MAX];
    char name[IZ_PLAN_NAME_MAX];
    int64_t limit;       /* consent records; 0: no limit */
    int64_t price_kurus; /* yearly, before VAT; -1: no list price */
} iz_plan_t;

typedef struct iz_plans {
    iz_plan_t plan[IZ_PLANS_MAX];
    size_t n;
} iz_plans_t;

/* Parse len bytes of a plans file into out. Returns 0, or IZ_EINVAL with
 * *line the 1-based line and err (at least 128 bytes) saying what is wrong
 * (in English). */
int iz_plans_parse(const char *text, size_t len, iz_plans_t *out, int *line, char *err,
                   size_t errsz);

/* The plan with that code, or NULL. */
const iz_plan_t *iz_plans_find(const iz_plans_t *p, const char *code);

/* A price with VAT (IZ_VAT_PERCENT), rounded half up to the kuruş; -1 stays
 * -1. */
int64_t iz_plan_with_vat(int64_t kurus);

/* A price as "1234.50" (no thousands separator), "" for -1; out needs 32
 * bytes. */
void iz_money_format(int64_t kurus, char out[32]);

/* The codes joined by ", " into out (cut when it does not fit). */
void iz_plans_codes(const iz_plans_t *p, char *out, size_t outsz);

#endif
