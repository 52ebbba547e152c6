/* The sample plans of data/plans.conf, compiled into the binary: izin
 * serve's plans when --plans names no file. */
    .section .rodata
    .global iz_plans_conf
    .type iz_plans_conf, @object
iz_plans_conf:
    .incbin "data/plans.conf"
    .global iz_plans_conf_end
iz_plans_conf_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
