/* Compiles the system copy of llhttp's llhttp.c (configure --with-llhttp-src). */
#include "llhttp.c"
