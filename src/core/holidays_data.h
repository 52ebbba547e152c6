/*
 * holidays_data.h - the built-in copy of Turkey's official holiday table
 * (data/tr-holidays.csv, 2020-2030), linked in by holidays_data.S.
 */
#ifndef IZ_HOLIDAYS_DATA_H
#define IZ_HOLIDAYS_DATA_H

extern const char iz_holidays_csv[];
extern const char iz_holidays_csv_end[];

#endif
