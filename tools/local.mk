# shadowdiff-compare: the diff engine offline, on two saved responses,
# with the rules of a configuration file (docs/diff.md). Owned by the
# diff module.
bin_PROGRAMS += shadowdiff-compare
shadowdiff_compare_SOURCES = tools/shadowdiff-compare.c
shadowdiff_compare_LDADD = $(SHADOWDIFF_LIBS)

# Its test, tests/check_compare, is listed in tests/local.mk.

# shadowdiff-report: the triage figures from divergence logs (docs/triage.md).
bin_PROGRAMS += shadowdiff-report
shadowdiff_report_SOURCES = tools/shadowdiff-report.c
shadowdiff_report_LDADD = $(SHADOWDIFF_LIBS)
EXTRA_DIST += bench/gen-divlog.py

# The conformance run over ../shared/conformance (docs/http.md): a tool,
# not part of make check.
EXTRA_DIST += tools/conformance.py
