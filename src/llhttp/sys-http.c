/* Compiles the system copy of llhttp's http.c (configure --with-llhttp-src). */
#include "http.c"
