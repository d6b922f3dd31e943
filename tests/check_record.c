/*
 * Unit tests of record.c: a compared job turned into its divergence
 * record, field by field against the contract (docs/divergence-log.md)
 * and against its schema.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <llhttp.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/diff_job.h"
#include "shadowdiff/record.h"
#include "shadowdiff/util.h"
#include "testutil.h"

/* The redaction a record applies: set up by each test's config. */
static struct diff_redact	*redact;

/* A config as record.c reads it: matches logged at SHARE, request LOGGED. */
static void
cfg_of(struct config *cfg, double share, int logged)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->generation = 1;
	cfg->log_matches = share;
	cfg->log_request_headers = cfg->log_request_body = logged;
	diff_redact_free(redact);
	redact = diff_redact_new();
	cfg->redact = redact;
	cfg->log_value_limit = 256;
	cfg->diff_max_body = 1024 * 1024;
}

static struct diff_header	req_hdrs[] = {
	{ "Host", 4, "example.com", 11 },
	{ "Authorization", 13, "Bearer secret", 13 },
	{ "X-Tag", 5, "a", 1 },
	{ "x-tag", 5, "b", 1 }
};
static struct diff_header	json_ct[] = {
	{ "Content-Type", 12, "application/json", 16 }
};
static char	pbody[] = "{\"id\":1,\"balance\":10.05}";
static char	sbody[] = "{\"balance\":10.5,\"id\":1}";
static char	reqbody[] = "{\"q\":1}";
static char	id[] = "f3a9c2";
static char	uri[] = "/users/1?full=1";

/* A leg answered STATUS with the JSON BODY, from START to END (us). */
static void
leg_of(struct diff_capture *c, int status, char *body, uint64_t start,
    uint64_t end)
{
	c->status = status;
	c->hdrs = json_ct;
	c->nhdrs = 1;
	c->body = (unsigned char *)body;
	c->len = c->bytes = strlen(body);
	c->start_us = start;
	c->end_us = end;
}

/* A job as a worker hands it over: POST, both legs answered. */
static void
job_of(struct diff_job *job, struct config *cfg, struct diff_rules *rules)
{
	memset(job, 0, sizeof(*job));
	job->cfg = cfg;
	job->rules = rules;
	job->route_name = "users";
	job->id = id;
	job->method = HTTP_POST;
	job->uri = uri;
	job->time_us = 1764000000123456LL;	/* 2025-11-24T16:00:00.123456Z */
	job->request.hdrs = req_hdrs;
	job->request.nhdrs = nitems(req_hdrs);
	job->reqbody = (unsigned char *)reqbody;
	job->reqbody_len = strlen(reqbody);
	leg_of(&job->legs[DIFF_LEG_PRIMARY], 200, pbody, 1000, 13346);
	leg_of(&job->legs[DIFF_LEG_SHADOW], 200, sbody, 2000, 17250);
}

/* The result of comparing the job's two legs. */
static struct diff_result *
compare(const struct diff_job *job)
{
	struct diff_response	 r[DIFF_LEGS];
	size_t			 i;

	for (i = 0; i < DIFF_LEGS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].status = job->legs[i].status;
		r[i].headers = job->legs[i].hdrs;
		r[i].nheaders = job->legs[i].nhdrs;
		r[i].body = job->legs[i].body;
		r[i].body_len = job->legs[i].len;
	}
	return (diff_compare(job->rules, &r[DIFF_LEG_PRIMARY],
	    &r[DIFF_LEG_SHADOW], 0));
}

/* Asserts that LINE, written alone to a records file, is valid. */
static void
assert_valid_record(const char *line)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/records.log", tu_tmpdir());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", line);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(tu_validate_records(path), 0);
}

/* A mismatch: every field by name, in the contract's order. */
START_TEST(test_mismatch_record)
{
	struct config		 cfg;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_job		 job;
	struct diff_result	*res;
	char			*line;

	cfg_of(&cfg, 0, 1);
	job_of(&job, &cfg, rules);
	res = compare(&job);
	line = record_job(&job, RECORD_MISMATCH, res);
	ck_assert_str_eq(line, "{\"type\":\"mismatch\","
	    "\"time\":\"2025-11-24T16:00:00.123456Z\",\"id\":\"f3a9c2\","
	    "\"config\":1,\"route\":\"users\",\"method\":\"POST\","
	    "\"uri\":\"/users/1?full=1\","
	    "\"primary\":{\"status\":200,\"ms\":12.346,\"bytes\":24},"
	    "\"shadow\":{\"status\":200,\"ms\":15.25,\"bytes\":23},"
	    "\"request\":{\"headers\":{\"host\":\"example.com\","
	    "\"authorization\":\"[redacted]\",\"x-tag\":[\"a\",\"b\"]},"
	    "\"body\":\"{\\\"q\\\":1}\"},"
	    "\"diffs\":[{\"kind\":\"body\",\"path\":\"/balance\","
	    "\"op\":\"changed\",\"primary\":10.05,\"shadow\":10.5}],"
	    "\"forgiven\":{},\"notes\":[]}");
	free(line);
	diff_result_free(res);
	diff_rules_free(rules);
}
END_TEST

/* A shadow error: its label and time, no status, no differences. */
START_TEST(test_shadow_error_record)
{
	struct config	 cfg;
	struct diff_job	 job;
	char		*line;

	cfg_of(&cfg, 0, 0);
	job_of(&job, &cfg, NULL);
	job.shadow_error = SHADOW_ERROR_TOO_LARGE;
	job.legs[DIFF_LEG_SHADOW].status = 0;
	line = record_job(&job, RECORD_SHADOW_ERROR, NULL);
	ck_assert_str_eq(line, "{\"type\":\"shadow_error\","
	    "\"time\":\"2025-11-24T16:00:00.123456Z\",\"id\":\"f3a9c2\","
	    "\"config\":1,\"route\":\"users\",\"method\":\"POST\","
	    "\"uri\":\"/users/1?full=1\","
	    "\"primary\":{\"status\":200,\"ms\":12.346,\"bytes\":24},"
	    "\"shadow\":{\"error\":\"too_large\",\"ms\":15.25},"
	    "\"diffs\":[],\"forgiven\":{},\"notes\":[]}");
	free(line);
}
END_TEST

/* A match is written only under [log] log_matches; then it is valid. */
START_TEST(test_match_record)
{
	struct config		 cfg;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_job		 job;
	struct diff_result	*res;
	char			*line;

	cfg_of(&cfg, 0, 1);
	job_of(&job, &cfg, rules);
	job.legs[DIFF_LEG_SHADOW] = job.legs[DIFF_LEG_PRIMARY];
	res = compare(&job);
	ck_assert_int_eq(diff_result_differs(res), 0);
	ck_assert_ptr_null(record_job(&job, RECORD_MATCH, res));

	cfg.log_matches = 1;
	line = record_job(&job, RECORD_MATCH, res);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "{\"type\":\"match\","));
	assert_valid_record(line);
	free(line);
	diff_result_free(res);
	diff_rules_free(rules);
}
END_TEST

/* Secrets: headers, query values and JSON values hidden; diffs kept. */
static struct diff_header	secret_req[] = {
	{ "Authorization", 13, "Bearer s1", 9 },
	{ "X-Forwarded-Authorization", 25, "Bearer s2", 9 },
	{ "Cookie", 6, "sid=s3", 6 },
	{ "Referer", 7, "http://a/?token=s4&page=2", 25 },
	{ "Content-Type", 12, "application/json", 16 }
};
static struct diff_header	secret_p[] = {
	{ "Content-Type", 12, "application/json", 16 },
	{ "Set-Cookie", 10, "sid=s5", 6 }
};
static struct diff_header	secret_s[] = {
	{ "Content-Type", 12, "application/json", 16 },
	{ "Set-Cookie", 10, "sid=s6", 6 }
};

START_TEST(test_redacted_record)
{
	struct config		 cfg;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_job		 job;
	struct diff_result	*res;
	char			*line, *cause = NULL;
	char			 suri[] = "/login?access_token=s7&x=1";
	char			 sreq[] = "{\"user\":\"ann\","
				    "\"password\":\"s8\"}";
	char			 sp[] = "{\"token\":\"s9\",\"n\":1}";
	char			 ss[] = "{\"token\":\"s10\",\"n\":2,"
				    "\"extra\":{\"password\":\"s11\",\"k\":1}}";

	cfg_of(&cfg, 0, 1);
	diff_redact_add_query(redact, "access_token");
	diff_redact_add_query(redact, "token");
	ck_assert_int_eq(diff_redact_add_paths(redact, "/**/password /token",
	    &cause), 0);
	job_of(&job, &cfg, rules);
	job.uri = suri;
	job.request.hdrs = secret_req;
	job.request.nhdrs = nitems(secret_req);
	job.reqbody = (unsigned char *)sreq;
	job.reqbody_len = strlen(sreq);
	leg_of(&job.legs[DIFF_LEG_PRIMARY], 200, sp, 1000, 13346);
	leg_of(&job.legs[DIFF_LEG_SHADOW], 200, ss, 2000, 17250);
	job.legs[DIFF_LEG_PRIMARY].hdrs = secret_p;
	job.legs[DIFF_LEG_PRIMARY].nhdrs = nitems(secret_p);
	job.legs[DIFF_LEG_SHADOW].hdrs = secret_s;
	job.legs[DIFF_LEG_SHADOW].nhdrs = nitems(secret_s);
	res = compare(&job);
	diff_result_redact(res, redact);
	line = record_job(&job, RECORD_MISMATCH, res);
	ck_assert_str_eq(line, "{\"type\":\"mismatch\","
	    "\"time\":\"2025-11-24T16:00:00.123456Z\",\"id\":\"f3a9c2\","
	    "\"config\":1,\"route\":\"users\",\"method\":\"POST\","
	    "\"uri\":\"/login?access_token=[redacted]&x=1\","
	    "\"primary\":{\"status\":200,\"ms\":12.346,\"bytes\":20},"
	    "\"shadow\":{\"status\":200,\"ms\":15.25,\"bytes\":54},"
	    "\"request\":{\"headers\":{\"authorization\":\"[redacted]\","
	    "\"x-forwarded-authorization\":\"[redacted]\","
	    "\"cookie\":\"[redacted]\","
	    "\"referer\":\"http://a/?token=[redacted]&page=2\","
	    "\"content-type\":\"application/json\"},"
	    "\"body\":\"{\\\"user\\\":\\\"ann\\\","
	    "\\\"password\\\":\\\"[redacted]\\\"}\"},"
	    "\"diffs\":[{\"kind\":\"header\",\"path\":\"set-cookie\","
	    "\"op\":\"changed\",\"primary\":\"[redacted]\","
	    "\"shadow\":\"[redacted]\"},"
	    "{\"kind\":\"body\",\"path\":\"/token\",\"op\":\"changed\","
	    "\"primary\":\"[redacted]\",\"shadow\":\"[redacted]\"},"
	    "{\"kind\":\"body\",\"path\":\"/n\",\"op\":\"changed\","
	    "\"primary\":1,\"shadow\":2},"
	    "{\"kind\":\"body\",\"path\":\"/extra\",\"op\":\"added\","
	    "\"shadow\":{\"password\":\"[redacted]\",\"k\":1}}],"
	    "\"forgiven\":{},\"notes\":[]}");
	assert_valid_record(line);
	free(line);
	diff_result_free(res);
	diff_rules_free(rules);
}
END_TEST

/*
 * Redaction by word ([log] redact_body_words): camelCase, prefixed and
 * mixed-case secret names, in the request body and in differences,
 * with no pattern at all.
 */
START_TEST(test_redacted_words_record)
{
	struct config		 cfg;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_job		 job;
	struct diff_result	*res;
	char			*line;
	char			 sreq[] = "{\"userName\":\"ann\","
				    "\"userPassword\":\"s1\","
				    "\"clientSecret\":\"s2\"}";
	char			 sp[] = "{\"accessToken\":\"s3\",\"n\":1}";
	char			 ss[] = "{\"accessToken\":\"s4\",\"n\":1,"
				    "\"auth\":{\"Auth_Token\":\"s5\",\"apiKey\":\"s6\","
				    "\"monkey\":7}}";

	cfg_of(&cfg, 0, 1);
	diff_redact_set_words(redact, 1);
	job_of(&job, &cfg, rules);
	job.reqbody = (unsigned char *)sreq;
	job.reqbody_len = strlen(sreq);
	leg_of(&job.legs[DIFF_LEG_PRIMARY], 200, sp, 1000, 13346);
	leg_of(&job.legs[DIFF_LEG_SHADOW], 200, ss, 2000, 17250);
	res = compare(&job);
	diff_result_redact(res, redact);
	line = record_job(&job, RECORD_MISMATCH, res);
	ck_assert_str_eq(line, "{\"type\":\"mismatch\","
	    "\"time\":\"2025-11-24T16:00:00.123456Z\",\"id\":\"f3a9c2\","
	    "\"config\":1,\"route\":\"users\",\"method\":\"POST\","
	    "\"uri\":\"/users/1?full=1\","
	    "\"primary\":{\"status\":200,\"ms\":12.346,\"bytes\":26},"
	    "\"shadow\":{\"status\":200,\"ms\":15.25,\"bytes\":78},"
	    "\"request\":{\"headers\":{\"host\":\"example.com\","
	    "\"authorization\":\"[redacted]\",\"x-tag\":[\"a\",\"b\"]},"
	    "\"body\":\"{\\\"userName\\\":\\\"ann\\\","
	    "\\\"userPassword\\\":\\\"[redacted]\\\","
	    "\\\"clientSecret\\\":\\\"[redacted]\\\"}\"},"
	    "\"diffs\":[{\"kind\":\"body\",\"path\":\"/accessToken\","
	    "\"op\":\"changed\","
	    "\"primary\":\"[redacted]\",\"shadow\":\"[redacted]\"},"
	    "{\"kind\":\"body\",\"path\":\"/auth\",\"op\":\"added\","
	    "\"shadow\":{\"Auth_Token\":\"[redacted]\","
	    "\"apiKey\":\"[redacted]\",\"monkey\":7}}],"
	    "\"forgiven\":{},\"notes\":[]}");
	assert_valid_record(line);
	free(line);
	diff_result_free(res);
	diff_rules_free(rules);
}
END_TEST

/*
 * Regression: a JSON body that does not parse (cut, trailing bytes, too
 * deep) was shown whole, secrets and all, unless declared JSON by its
 * Content-Type: text/plain or none is common for JSON.
 */
START_TEST(test_undeclared_json_body)
{
	struct config		 cfg;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_job		 job;
	struct diff_result	*res;
	char			*line, *cause = NULL;
	char			 body[] = " {\"password\":\"s1\"}x";
	char			 text[] = "password s2";

	cfg_of(&cfg, 0, 1);
	ck_assert_int_eq(diff_redact_add_paths(redact, "/**/password",
	    &cause), 0);
	job_of(&job, &cfg, rules);
	job.reqbody = (unsigned char *)body;
	job.reqbody_len = strlen(body);
	res = compare(&job);
	line = record_job(&job, RECORD_MISMATCH, res);
	ck_assert_msg(strstr(line, "s1") == NULL &&
	    strstr(line, "\"body\":\"[redacted]\"") != NULL, "%s", line);
	free(line);
	/* Text that is no JSON is shown as it is. */
	job.reqbody = (unsigned char *)text;
	job.reqbody_len = strlen(text);
	line = record_job(&job, RECORD_MISMATCH, res);
	ck_assert_msg(strstr(line, "\"body\":\"password s2\"") != NULL, "%s",
	    line);
	free(line);
	diff_result_free(res);
	diff_rules_free(rules);
}
END_TEST

/* A route with redact_body of its own has its policy; others [log]'s. */
START_TEST(test_route_redact)
{
	struct config		 cfg;
	struct config_route	 route;
	struct diff_rules	*rules = diff_rules_new(NULL);
	struct diff_redact	*own = diff_redact_new();
	struct diff_job		 job;

	cfg_of(&cfg, 0, 1);
	memset(&route, 0, sizeof(route));
	route.rules = rules;
	cfg.routes = &route;
	cfg.nroutes = 1;
	job_of(&job, &cfg, rules);
	ck_assert_ptr_eq(record_redact(&job), cfg.redact);
	route.redact = own;
	ck_assert_ptr_eq(record_redact(&job), own);
	job.rules = NULL;
	ck_assert_ptr_eq(record_redact(&job), cfg.redact);
	diff_redact_free(own);
	diff_rules_free(rules);
}
END_TEST

/* A cut body's digest as the record writes it. */
START_TEST(test_digest)
{
	unsigned char	 d[DIFF_JOB_SHA256_LEN];
	char		 buf[RECORD_DIGEST_LEN];
	size_t		 i;

	for (i = 0; i < sizeof(d); i++)
		d[i] = (unsigned char)(i * 8 + 1);
	record_digest(d, buf);
	ck_assert_str_eq(buf, "\"sha256:01091119212931394149515961697179818991"
	    "99a1a9b1b9c1c9d1d9e1e9f1f9\"");
}
END_TEST

static Suite *
record_suite(void)
{
	const TTest	*tests[] = { test_mismatch_record,
	    test_shadow_error_record, test_match_record, test_redacted_record,
	    test_redacted_words_record,
	    test_undeclared_json_body, test_route_redact, test_digest, NULL };

	return (tu_suite("record", tcase_create("record"), tests));
}

int
main(void)
{
	return (tu_run(record_suite()));
}
