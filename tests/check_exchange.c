/*
 * Unit tests of the exchange's pieces that the integration tests reach
 * only through a live shadow: capture_body's cap and digest boundary,
 * and the shadow error family (enum, record label, counter). The file
 * under test is included, as h2o's unit tests do, to reach its static
 * functions.
 */
#include "../src/exchange.c"

#include <check.h>

#include "testutil.h"

#define CAP	16

/* The SHA-256 of LEN bytes at P. */
static void
sha256_of(const void *p, size_t len, unsigned char *out)
{
	unsigned int	 n;

	ck_assert_int_eq(EVP_Digest(p, len, out, &n, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(n, DIFF_JOB_SHA256_LEN);
}

/* Feeds LEN bytes of DATA to a new capture in pieces of at most STEP. */
static void
capture_fed(struct diff_capture *c, const char *data, size_t len,
    size_t step)
{
	EVP_MD_CTX	*sha = NULL;
	size_t		 off, n;

	memset(c, 0, sizeof(*c));
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		capture_body(c, &sha, data + off, n, CAP);
	}
	capture_end(c, &sha);
	ck_assert_ptr_null(sha);
}

static const char	body[] = "0123456789abcdefXYZ";	/* CAP + 3 bytes */

/*
 * Up to the cap and exactly at it, in one piece or byte by byte: kept
 * whole, in no more room than the cap; not cut, nothing hashed.
 */
START_TEST(test_capture_kept)
{
	struct diff_capture	 c;
	unsigned char		 zero[DIFF_JOB_SHA256_LEN] = { 0 };
	size_t			 len, step;

	for (len = CAP - 1; len <= CAP; len++)
		for (step = 1; step <= CAP; step += CAP - 1) {
			capture_fed(&c, body, len, step);
			ck_assert_uint_eq(c.len, len);
			ck_assert_uint_eq(c.bytes, len);	/* not cut */
			ck_assert_mem_eq(c.body, body, len);
			ck_assert_mem_eq(c.digest, zero, sizeof(zero));
			ck_assert_uint_le(c.alloc, CAP);
			free(c.body);
		}
}
END_TEST

/*
 * One byte over the cap: the first CAP bytes kept, the digest of all
 * of them, however the bytes came.
 */
START_TEST(test_capture_over_cap)
{
	struct diff_capture	 c;
	unsigned char		 want[DIFF_JOB_SHA256_LEN];
	size_t			 len, step;

	for (len = CAP + 1; len <= CAP + 3; len += 2) {
		sha256_of(body, len, want);
		for (step = 1; step <= len; step++) {
			capture_fed(&c, body, len, step);
			ck_assert_uint_eq(c.len, CAP);
			ck_assert_uint_eq(c.bytes, len);
			ck_assert(c.bytes > c.len);	/* truncated */
			ck_assert_mem_eq(c.body, body, CAP);
			ck_assert_mem_eq(c.digest, want, sizeof(want));
			free(c.body);
		}
	}
}
END_TEST

/* Each shadow error: its label in a record and its counter. */
START_TEST(test_shadow_errors)
{
	static const struct {
		enum shadow_error	 e;
		const char		*label;
		enum stats_counter	 counter;
	} want[] = {
		{ SHADOW_ERROR_TIMEOUT, "timeout", STAT_SHADOW_TIMEOUT },
		{ SHADOW_ERROR_REFUSED, "refused", STAT_SHADOW_REFUSED },
		{ SHADOW_ERROR_RESET, "reset", STAT_SHADOW_RESET },
		{ SHADOW_ERROR_BAD_RESPONSE, "bad_response",
		    STAT_SHADOW_BAD_RESPONSE },
		{ SHADOW_ERROR_TOO_LARGE, "too_large", STAT_SHADOW_TOO_LARGE },
		{ SHADOW_ERROR_TLS, "tls", STAT_SHADOW_TLS }
	};
	size_t	 i, j;

	ck_assert_uint_eq(SHADOW_ERROR_COUNT, nitems(want) + 1);
	ck_assert_ptr_null(shadow_error_label(SHADOW_ERROR_NONE));
	ck_assert_ptr_null(shadow_error_label(SHADOW_ERROR_COUNT));
	for (i = 0; i < nitems(want); i++) {
		ck_assert_str_eq(shadow_error_label(want[i].e), want[i].label);
		ck_assert_int_eq(shadow_error_counter(want[i].e),
		    want[i].counter);
		/* Every error its own counter. */
		for (j = 0; j < i; j++)
			ck_assert_int_ne(shadow_error_counter(want[i].e),
			    shadow_error_counter(want[j].e));
	}
}
END_TEST

static Suite *
exchange_suite(void)
{
	const TTest	*capture[] = { test_capture_kept, test_capture_over_cap,
	    NULL };
	const TTest	*errors[] = { test_shadow_errors, NULL };
	Suite		*s;

	s = tu_suite("exchange", tcase_create("capture"), capture);
	suite_add_tcase(s, tu_tcase_tests(tcase_create("shadow_errors"),
	    errors));
	return (s);
}

int
main(void)
{
	return (tu_run(exchange_suite()));
}
