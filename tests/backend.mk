# sd-backend: the test, demo and benchmark backend (libevent only, none of
# the daemon's code). Built by plain make: tools/demo.sh and
# bench/proxy.sh run it too.
noinst_PROGRAMS += tests/sd-backend
tests_sd_backend_SOURCES = tests/backend.c tests/servers-common.c \
	tests/servers-common.h
tests_sd_backend_LDADD = $(LIBEVENT_LIBS) $(OPENSSL_LIBS)

# sd-misbehave: a shadow that answers late, badly or never, for the
# isolation tests (libevent only, like sd-backend).
noinst_PROGRAMS += tests/sd-misbehave
tests_sd_misbehave_SOURCES = tests/misbehave.c tests/servers-common.c \
	tests/servers-common.h
tests_sd_misbehave_LDADD = $(LIBEVENT_LIBS)
