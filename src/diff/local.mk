# The diff engine: a pure library (no I/O, no libevent), linked by the
# daemon, shadowdiff-compare and the tests. Owned by the diff module.
noinst_LIBRARIES += libsddiff.a
libsddiff_a_SOURCES = \
	src/diff/diff-int.h \
	src/diff/util.c \
	src/diff/json.c \
	src/diff/number.c \
	src/diff/timestamp.c \
	src/diff/pointer.c \
	src/diff/shape.c \
	src/diff/rules.c \
	src/diff/result.c \
	src/diff/headers.c \
	src/diff/body.c \
	src/diff/compare.c \
	src/diff/diff.c
noinst_HEADERS += include/shadowdiff/diff.h

# Its unit test links only the engine, not the daemon's modules.
DIFF_TEST_LIBS = libsddiff.a tests/libtestutil.a $(JANSSON_LIBS) \
	$(ZLIB_LIBS) $(PCRE2_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/check_diff
TESTS += tests/check_diff
tests_check_diff_SOURCES = tests/check_diff.c
# It reaches the engine's private parts too (the token-stream prefix).
tests_check_diff_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/diff
tests_check_diff_LDADD = $(DIFF_TEST_LIBS)

# The engine's benchmark (docs/performance.md); built, never run by make.
noinst_PROGRAMS += bench/diff/bench-diff
bench_diff_bench_diff_SOURCES = bench/diff/bench-diff.c
bench_diff_bench_diff_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/diff
bench_diff_bench_diff_LDADD = libsddiff.a $(JANSSON_LIBS) $(ZLIB_LIBS) \
	$(PCRE2_LIBS)

EXTRA_DIST += docs/diff.md
