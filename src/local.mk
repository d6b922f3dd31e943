# The daemon's modules, built once into a convenience library that the
# daemon, the tools and the tests link.
noinst_LIBRARIES += libshadowdiff.a
libshadowdiff_a_SOURCES = \
	src/log.c \
	src/config.c \
	src/config-table.c \
	src/route.c \
	src/daemon.c \
	src/listen.c \
	src/divlog.c \
	src/http.c \
	src/conn.c \
	src/exchange.c \
	src/mirror.c \
	src/differ.c \
	src/diff_job.c \
	src/record.c \
	src/notify.c \
	src/upstream.c \
	src/sock.c \
	src/tls.c \
	src/worker.c \
	src/stats.c \
	src/report.c \
	src/metrics.c \
	src/admin.c \
	src/triage.c src/triage-parse.c \
	src/util.c
noinst_HEADERS = \
	include/shadowdiff/log.h \
	include/shadowdiff/config.h \
	src/config-internal.h \
	include/shadowdiff/daemon.h \
	include/shadowdiff/listen.h \
	include/shadowdiff/divlog.h \
	include/shadowdiff/http.h \
	include/shadowdiff/conn.h \
	include/shadowdiff/exchange.h \
	include/shadowdiff/mirror.h \
	include/shadowdiff/differ.h \
	include/shadowdiff/diff_job.h \
	include/shadowdiff/record.h \
	include/shadowdiff/notify.h \
	include/shadowdiff/upstream.h \
	include/shadowdiff/sock.h \
	include/shadowdiff/tls.h \
	include/shadowdiff/worker.h \
	include/shadowdiff/stats.h \
	include/shadowdiff/report.h \
	include/shadowdiff/metrics.h \
	include/shadowdiff/admin.h \
	include/shadowdiff/triage.h \
	include/shadowdiff/util.h

sbin_PROGRAMS += shadowdiff
shadowdiff_SOURCES = src/main.c
shadowdiff_LDADD = $(SHADOWDIFF_LIBS)

# llhttp from the system's sources (Debian 12 ships no library): the
# wrappers below include them, so nothing third-party is in the tree or
# in the tarball.
if LLHTTP_BUNDLED
noinst_LIBRARIES += libllhttp.a
libllhttp_a_SOURCES = src/llhttp/sys-llhttp.c src/llhttp/sys-api.c \
	src/llhttp/sys-http.c
libllhttp_a_CPPFLAGS = -I$(LLHTTP_SRCDIR) -DLLHTTP_STRICT_MODE=1
libllhttp_a_CFLAGS = $(LLHTTP_CFLAGS) $(SAN_CFLAGS) -w
LLHTTP_LIBADD = libllhttp.a
else
LLHTTP_LIBADD = $(LLHTTP_LIBS)
endif
