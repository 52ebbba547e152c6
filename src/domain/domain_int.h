/*
 * domain_int.h - what the domain's files share; private to src/domain/.
 *
 *   record.c   opening, the rules, recording changes from every origin
 *   remote.c   changes İYS reports (pull and push), the quarantine
 *   judge.c    the send filter's verdicts: one, a list, a stream
 */
#ifndef IZ_DOMAIN_INT_H
#define IZ_DOMAIN_INT_H

#include <stdatomic.h>

#include "domain/domain.h"

struct iz_domain {
    iz_store_t *st;
    const iz_holidays_t *holidays;
    iz_index_t *index;
    char *default_iys_url; /* NULL: none */
    bool index_subscribed;
    _Atomic uint64_t changes[IZ_ORIGIN_COUNT_];
    _Atomic uint64_t local_ret;
    _Atomic uint64_t quarantined;
};

#endif
