/* Compiles the system copy of llhttp's api.c (configure --with-llhttp-src). */
#include "api.c"
