# shadowdiff-compare: the diff engine offline, on two saved responses,
# with the rules of a configuration file (docs/diff.md). Owned by the
# diff module.
bin_PROGRAMS += shadowdiff-compare
shadowdiff_compare_SOURCES = tools/shadowdiff-compare.c
shadowdiff_compare_LDADD = $(SHADOWDIFF_LIBS)

# Its test runs the built program on files it writes.
check_PROGRAMS += tests/check_compare
TESTS += tests/check_compare
tests_check_compare_SOURCES = tests/check_compare.c
tests_check_compare_LDADD = tests/libtestutil.a $(JANSSON_LIBS) $(ZLIB_LIBS) \
	$(CHECK_LIBS)
EXTRA_tests_check_compare_DEPENDENCIES = shadowdiff-compare

# The conformance run over ../shared/conformance (docs/http.md): a tool,
# not part of make check.
EXTRA_DIST += tools/conformance.py
