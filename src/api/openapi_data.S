/* The API document of data/openapi.json, compiled into the binary so that
 * GET /openapi.json and GET /docs need no file at run time. */
    .section .rodata
    .global iz_openapi_json
    .type iz_openapi_json, @object
iz_openapi_json:
    .incbin "data/openapi.json"
    .global iz_openapi_json_end
iz_openapi_json_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
