/*
 * plans_data.h - the built-in sample plans (data/plans.conf), linked in by
 * plans_data.S.
 */
#ifndef IZ_PLANS_DATA_H
#define IZ_PLANS_DATA_H

extern const char iz_plans_conf[];
extern const char iz_plans_conf_end[];

#endif
