/*
 * simstore_int.h - what the emulator's store files share (simstore.c and
 * simstore_accounts.c); private to them.
 */
#ifndef IZ_SIMSTORE_INT_H
#define IZ_SIMSTORE_INT_H

#include "sim/simstore.h"
#include "store/sqlite_util.h"

/* The store's SQLite plumbing. Calls through it are single statements or
 * their own transactions (not batch-aware: none of them runs in a batch). */
iz_sq_t *iz__sim_store_sq(iz_sim_store_t *st);

#endif
