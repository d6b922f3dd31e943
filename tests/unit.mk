# Unit tests of the config and http modules: Check programs printing TAP,
# run by make check through the LOG_DRIVER of tests/local.mk. The test
# config files they write go to a mkdtemp(3) directory they remove.
check_PROGRAMS += tests/check_config tests/check_http
TESTS += tests/check_config tests/check_http
tests_check_config_SOURCES = tests/check_config.c
tests_check_http_SOURCES = tests/check_http.c
