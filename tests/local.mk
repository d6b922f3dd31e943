# Tests: one Check program per module, plus integration tests that run the
# real daemon against real backends on 127.0.0.1. Every Check program
# prints TAP, so each test case is one PASS/FAIL line.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	CK_DEFAULT_TIMEOUT=60; export CK_DEFAULT_TIMEOUT;

check_LIBRARIES = tests/libtestutil.a
tests_libtestutil_a_SOURCES = tests/testutil.c tests/testutil.h \
	tests/corpus-cases.h
TEST_LIBS = tests/libtestutil.a $(SHADOWDIFF_LIBS) $(CHECK_LIBS)
LDADD = $(TEST_LIBS)

# Every test program, registered here and nowhere else: tests/NAME is
# built from tests/NAME.c and linked with LDADD unless said below.
TEST_PROGS = \
	tests/check_testutil \
	tests/check_config \
	tests/check_http \
	tests/check_upstream \
	tests/check_diff \
	tests/check_compare \
	tests/check_triage \
	tests/check_mirror \
	tests/check_divlog \
	tests/check_notify \
	tests/check_admin \
	tests/check_report \
	tests/check_exchange \
	tests/check_record \
	tests/check_proxy \
	tests/check_shadow \
	tests/check_reload \
	tests/check_metrics \
	tests/check_tls
# Every test script: the manual pages pass mandoc -T lint; the unit
# passes systemd-analyze verify, with its exposure score, where systemd
# is; no module reaches a header that docs/architecture.md's "never"
# column forbids it.
TEST_SH = \
	tests/check-man.sh \
	tests/check-systemd.sh \
	tests/check-layers.sh

check_PROGRAMS += $(TEST_PROGS)
TESTS += $(TEST_PROGS) $(TEST_SH)
EXTRA_DIST += $(TEST_SH)

# What the programs need besides their .c:
# - check_proxy, check_shadow, check_reload, check_metrics, check_tls run
#   the daemon and sd-backend (tests/backend.mk), as built by `make all';
# - check_shadow and check_metrics validate records with
#   tests/validate-records.py; check_admin and check_metrics check
#   /metrics with promtool (Debian package prometheus), where it is;
# - check_tls makes its certificates with tests/gen-certs.sh;
# - check-systemd.sh verifies the unit built for this prefix.
EXTRA_DIST += tests/validate-records.py tests/gen-certs.sh
check_DATA = systemd/shadowdiff.service

# check_diff links only the diff engine, not the daemon's modules, and
# reaches the engine's private parts too (the token-stream prefix).
tests_check_diff_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/diff
tests_check_diff_LDADD = libsddiff.a tests/libtestutil.a $(JANSSON_LIBS) \
	$(ZLIB_LIBS) $(PCRE2_LIBS) $(CHECK_LIBS)

# check_compare runs the built shadowdiff-compare on files it writes.
tests_check_compare_LDADD = tests/libtestutil.a $(JANSSON_LIBS) \
	$(ZLIB_LIBS) $(CHECK_LIBS)
EXTRA_tests_check_compare_DEPENDENCIES = shadowdiff-compare

# check_triage runs the built shadowdiff-report on logs it writes.
EXTRA_tests_check_triage_DEPENDENCIES = shadowdiff-report
