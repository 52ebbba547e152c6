/* The city and town tables İYS's /info calls answer with (data/tr-cities.tsv,
 * data/tr-towns.tsv), compiled into the binary so that no data file is
 * needed at run time (src/core/places.c reads them: the emulator's /info
 * calls and the module's retailer commands). */
    .section .rodata
    .global iz_tr_cities_tsv
    .type iz_tr_cities_tsv, @object
iz_tr_cities_tsv:
    .incbin "data/tr-cities.tsv"
    .global iz_tr_cities_tsv_end
iz_tr_cities_tsv_end:
    .byte 0
    .global iz_tr_towns_tsv
    .type iz_tr_towns_tsv, @object
iz_tr_towns_tsv:
    .incbin "data/tr-towns.tsv"
    .global iz_tr_towns_tsv_end
iz_tr_towns_tsv_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
