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

# Integration: the daemon and sd-backend, as built by `make all`.
check_PROGRAMS += tests/check_proxy
TESTS += tests/check_proxy
tests_check_proxy_SOURCES = tests/check_proxy.c

# The divergence log's writer.
check_PROGRAMS += tests/check_divlog
TESTS += tests/check_divlog
tests_check_divlog_SOURCES = tests/check_divlog.c
EXTRA_DIST += tests/validate-records.py

# Integration: mirroring, diffing and the divergence log, with the test
# backends (sd-backend, sd-misbehave) as primary and shadow.
check_PROGRAMS += tests/check_shadow
TESTS += tests/check_shadow
tests_check_shadow_SOURCES = tests/check_shadow.c

# The mirror module: which requests go to the shadow, and why not.
check_PROGRAMS += tests/check_mirror
TESTS += tests/check_mirror
tests_check_mirror_SOURCES = tests/check_mirror.c

# The sd_notify protocol, and the daemon speaking it.
check_PROGRAMS += tests/check_notify
TESTS += tests/check_notify
tests_check_notify_SOURCES = tests/check_notify.c

# The manual pages pass mandoc -T lint.
TESTS += tests/check-man.sh
EXTRA_DIST += tests/check-man.sh

# The layers of docs/architecture.md: no module reaches a header its
# "never does" column forbids.
TESTS += tests/check-layers.sh
EXTRA_DIST += tests/check-layers.sh

# SIGHUP: live reload of what can change without a restart.
check_PROGRAMS += tests/check_reload
TESTS += tests/check_reload
tests_check_reload_SOURCES = tests/check_reload.c

# The admin endpoint and the Prometheus text writer (promtool checks
# the writer's output: Debian package prometheus).
check_PROGRAMS += tests/check_admin
TESTS += tests/check_admin
tests_check_admin_SOURCES = tests/check_admin.c

# Integration: the admin endpoint's figures after known traffic, checked
# exactly and by promtool; /healthz while serving and draining.
check_PROGRAMS += tests/check_metrics
TESTS += tests/check_metrics
tests_check_metrics_SOURCES = tests/check_metrics.c

# The figure table of /metrics, /stats and the exit summary, and the
# counter families it shows (includes src/report.c).
check_PROGRAMS += tests/check_report
TESTS += tests/check_report
tests_check_report_SOURCES = tests/check_report.c

# Integration: TLS to clients and to backends, with certificates that
# tests/gen-certs.sh makes for the run (the openssl command).
check_PROGRAMS += tests/check_tls
TESTS += tests/check_tls
tests_check_tls_SOURCES = tests/check_tls.c
EXTRA_DIST += tests/gen-certs.sh
