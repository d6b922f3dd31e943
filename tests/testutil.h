#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <check.h>

/* Runs one suite with TAP output on stdout; returns the exit status. */
int	tu_run(Suite *);

#endif
