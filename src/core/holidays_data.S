/* The holiday table of data/tr-holidays.csv, compiled into the binary so that
 * izin needs no data file at run time (a newer table can still be loaded
 * with --holidays FILE). */
    .section .rodata
    .global iz_holidays_csv
    .type iz_holidays_csv, @object
iz_holidays_csv:
    .incbin "data/tr-holidays.csv"
    .global iz_holidays_csv_end
iz_holidays_csv_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
