# Unit tests of the config and http modules: Check programs printing TAP,
# run by make check through the LOG_DRIVER of tests/local.mk. The test
# config files they write go to a mkdtemp(3) directory they remove.
check_PROGRAMS += tests/check_config tests/check_http
TESTS += tests/check_config tests/check_http
tests_check_config_SOURCES = tests/check_config.c
tests_check_http_SOURCES = tests/check_http.c

# Unit tests of the exchange (its .c included: capture_body, the shadow
# error family) and of the record format.
check_PROGRAMS += tests/check_exchange tests/check_record
TESTS += tests/check_exchange tests/check_record
tests_check_exchange_SOURCES = tests/check_exchange.c
tests_check_record_SOURCES = tests/check_record.c
