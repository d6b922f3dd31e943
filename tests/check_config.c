/*
 * Unit tests of the config module: the value parsers, config_load on
 * good and bad files (every error with its exact file:line), routes and
 * their matching, and the reference count.
 *
 * Each test writes its file to one path in a mkdtemp(3) directory made
 * before the tests and removed after them; the tests run one at a time,
 * so they can share the path.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff.h"
#include "shadowdiff/util.h"
#include "testutil.h"

/* The smallest valid file: four lines, so what is appended is line 5. */
#define BASE \
	"[listen]\n" \
	"address = 127.0.0.1:0\n" \
	"[primary]\n" \
	"url = http://127.0.0.1:8080\n"

#define MAX_EXPECTED	8	/* errors one bad case may expect */
#define MAX_LINES	32	/* lines of a cause we look at */

/* "[route NAME] has no match key" is reported at the section header. */
#define NO_MATCH_LINE(section, first_key)	(section)

static char	tmpdir[PATH_MAX - 32];	/* room for the file names */
static char	conf_path[PATH_MAX];
static char	missing_path[PATH_MAX];

/* Makes the directory the test files go to (once, before all tests). */
static void
dir_setup(void)
{
	const char	*base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_config.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
	snprintf(conf_path, sizeof(conf_path), "%s/test.conf", tmpdir);
	snprintf(missing_path, sizeof(missing_path), "%s/missing.conf",
	    tmpdir);
}

/* Removes the directory and the file in it (once, after all tests). */
static void
dir_teardown(void)
{
	unlink(conf_path);
	rmdir(tmpdir);
}

/* Writes LEN bytes of TEXT as the test file. */
static void
write_conf_len(const char *text, size_t len)
{
	FILE	*fp;

	fp = fopen(conf_path, "w");
	ck_assert_msg(fp != NULL, "cannot write %s", conf_path);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Writes TEXT as the test file and loads it. */
static struct config *
load_text(const char *text, char **cause)
{
	write_conf_len(text, strlen(text));
	*cause = NULL;
	return (config_load(conf_path, cause));
}

/* Loads TEXT, which must be valid. */
static struct config *
load_good(const char *text)
{
	struct config	*cfg;
	char		*cause;

	cfg = load_text(text, &cause);
	ck_assert_msg(cfg != NULL, "config rejected: %s", cause);
	ck_assert_ptr_null(cause);
	return (cfg);
}

/* One error a bad file must give: its line (0: none) and a phrase. */
struct want {
	unsigned int	 line;
	const char	*phrase;
};

/*
 * Checks that CAUSE is exactly the errors of WANT, one per line, in that
 * order, each starting with "file:line: " (or "file: " for line 0).
 */
static void
check_cause(const char *name, const char *cause, const struct want *want,
    size_t nwant)
{
	struct want	 sorted[MAX_EXPECTED], tmp;
	char		*copy, *line, *save = NULL, prefix[PATH_MAX + 32];
	size_t		 n, i;

	ck_assert_msg(cause != NULL, "%s: no cause", name);
	/* Errors come in line order; at one line, in the order given. */
	ck_assert_uint_le(nwant, MAX_EXPECTED);
	memcpy(sorted, want, nwant * sizeof(*want));
	for (n = 1; n < nwant; n++)
		for (i = n; i > 0 && sorted[i - 1].line > sorted[i].line; i--) {
			tmp = sorted[i];
			sorted[i] = sorted[i - 1];
			sorted[i - 1] = tmp;
		}
	want = sorted;
	copy = strdup(cause);
	ck_assert_ptr_nonnull(copy);
	line = strtok_r(copy, "\n", &save);
	for (n = 0; line != NULL && n < MAX_LINES; n++) {
		ck_assert_msg(n < nwant, "%s: unexpected error \"%s\" in:\n%s",
		    name, line, cause);
		if (want[n].line == 0)
			snprintf(prefix, sizeof(prefix), "%s: ", conf_path);
		else
			snprintf(prefix, sizeof(prefix), "%s:%u: ", conf_path,
			    want[n].line);
		ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0,
		    "%s: error %zu should start with \"%s\":\n%s", name, n,
		    prefix, cause);
		ck_assert_msg(strstr(line + strlen(prefix), want[n].phrase) !=
		    NULL, "%s: error %zu should say \"%s\":\n%s", name, n,
		    want[n].phrase, cause);
		line = strtok_r(NULL, "\n", &save);
	}
	ck_assert_msg(n == nwant, "%s: %zu errors instead of %zu:\n%s", name,
	    n, nwant, cause);
	free(copy);
}

/* Loads TEXT, which must fail with exactly the errors of WANT. */
static void
check_bad(const char *name, const char *text, const struct want *want,
    size_t nwant)
{
	struct config	*cfg;
	char		*cause;

	cfg = load_text(text, &cause);
	ck_assert_msg(cfg == NULL, "%s: config accepted", name);
	check_cause(name, cause, want, nwant);
	free(cause);
}

/*
 * Value parsers.
 */

static const struct {
	const char	*text;
	uint64_t	 ms;
} good_durations[] = {
	{ "250ms", 250 }, { "5s", 5000 }, { "2m", 120000 },
	{ "1h", 3600000 }, { "0ms", 0 }, { "0s", 0 },
	{ "86400s", 86400000 },
};

/* Each good duration gives its milliseconds. */
START_TEST(duration_good)
{
	uint64_t	 ms = 12345;
	char		*cause = NULL;

	ck_assert_msg(config_parse_duration(good_durations[_i].text, &ms,
	    &cause) == 0, "%s rejected", good_durations[_i].text);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(ms, good_durations[_i].ms);
}
END_TEST

static const char *const bad_durations[] = {
	"", "5", "s", "5 s", " 5s", "5s ", "-1s", "+5s", "1.5s", "5S",
	"5sec", "5d", "0x10s", "99999999999999999999ms", "9999999999999999h",
};

/* Each bad duration is rejected with the expected form. */
START_TEST(duration_bad)
{
	uint64_t	 ms = 777;
	char		*cause = NULL;

	ck_assert_msg(config_parse_duration(bad_durations[_i], &ms,
	    &cause) == -1, "\"%s\" accepted", bad_durations[_i]);
	ck_assert_str_eq(cause, "a duration such as 250ms, 5s, 2m or 1h");
	ck_assert_uint_eq(ms, 777);
	free(cause);
}
END_TEST

static const struct {
	const char	*text;
	uint64_t	 bytes;
} good_sizes[] = {
	{ "512", 512 }, { "512B", 512 }, { "0", 0 }, { "16KiB", 16384 },
	{ "1MiB", 1048576 }, { "2GiB", (uint64_t)2 << 30 },
	{ "1TiB", (uint64_t)1 << 40 },
};

/* Each good size gives its bytes. */
START_TEST(size_good)
{
	uint64_t	 bytes = 1;
	char		*cause = NULL;

	ck_assert_msg(config_parse_size(good_sizes[_i].text, &bytes,
	    &cause) == 0, "%s rejected", good_sizes[_i].text);
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(bytes, good_sizes[_i].bytes);
}
END_TEST

static const char *const bad_sizes[] = {
	"", "KiB", "16KB", "16k", "16K", "16kib", "1.5MiB", "-1", "16 KiB",
	"1MB", "17179869184GiB", "99999999999999999999",
};

/* Each bad size is rejected with the expected form. */
START_TEST(size_bad)
{
	uint64_t	 bytes = 777;
	char		*cause = NULL;

	ck_assert_msg(config_parse_size(bad_sizes[_i], &bytes, &cause) == -1,
	    "\"%s\" accepted", bad_sizes[_i]);
	ck_assert_str_eq(cause, "a size such as 512, 16KiB, 1MiB or 2GiB");
	ck_assert_uint_eq(bytes, 777);
	free(cause);
}
END_TEST

static const struct {
	const char	*text;
	double		 fraction;
} good_percents[] = {
	{ "10%", 0.1 }, { "0.5%", 0.005 }, { "0%", 0 }, { "100%", 1 },
	{ "33.3%", 0.333 },
};

/* Each good percentage gives its fraction of one. */
START_TEST(percent_good)
{
	double	 f = -1;
	char	*cause = NULL;

	ck_assert_msg(config_parse_percent(good_percents[_i].text, &f,
	    &cause) == 0, "%s rejected", good_percents[_i].text);
	ck_assert_ptr_null(cause);
	ck_assert_double_eq_tol(f, good_percents[_i].fraction, 1e-12);
}
END_TEST

static const char *const bad_percents[] = {
	"", "%", "10", "101%", "100.5%", "-1%", "abc%", "10 %", " 10%",
	"10%%", ".5%", "nan%", "inf%",
};

/* Each bad percentage is rejected with the expected form. */
START_TEST(percent_bad)
{
	double	 f = -1;
	char	*cause = NULL;

	ck_assert_msg(config_parse_percent(bad_percents[_i], &f, &cause) == -1,
	    "\"%s\" accepted", bad_percents[_i]);
	ck_assert_str_eq(cause,
	    "a percentage from 0% to 100%, such as 10% or 0.5%");
	ck_assert_double_eq(f, -1);
	free(cause);
}
END_TEST

static const struct {
	const char	*text;
	int		 flag;
} good_bools[] = {
	{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
	{ "on", 1 }, { "off", 0 }, { "YES", 1 }, { "Off", 0 },
};

/* Each boolean word gives its value. */
START_TEST(bool_good)
{
	int	 flag = -1;
	char	*cause = NULL;

	ck_assert_msg(config_parse_bool(good_bools[_i].text, &flag,
	    &cause) == 0, "%s rejected", good_bools[_i].text);
	ck_assert_ptr_null(cause);
	ck_assert_int_eq(flag, good_bools[_i].flag);
}
END_TEST

static const char *const bad_bools[] = {
	"", "1", "0", "y", "n", "maybe", "yes please", "enable",
};

/* Anything else is rejected. */
START_TEST(bool_bad)
{
	int	 flag = -1;
	char	*cause = NULL;

	ck_assert_msg(config_parse_bool(bad_bools[_i], &flag, &cause) == -1,
	    "\"%s\" accepted", bad_bools[_i]);
	ck_assert_str_eq(cause, "yes or no");
	ck_assert_int_eq(flag, -1);
	free(cause);
}
END_TEST

/* Lists split on any run of blanks; an empty list is an empty array. */
START_TEST(split_words)
{
	char	**w;

	w = config_split_words("  GET \t HEAD\tPOST  ");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w[0], "GET");
	ck_assert_str_eq(w[1], "HEAD");
	ck_assert_str_eq(w[2], "POST");
	ck_assert_ptr_null(w[3]);
	config_free_words(w);

	w = config_split_words(" \t ");
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_null(w[0]);
	config_free_words(w);
	config_free_words(NULL);
}
END_TEST

/*
 * Good files.
 */

/* The online CPUs, as workers = auto counts them. */
static uint64_t
online_cpus(void)
{
	long	 n = sysconf(_SC_NPROCESSORS_ONLN);

	return (n < 1 ? 1 : (uint64_t)n);
}

/* Keys left out take the defaults of config_options[]. */
START_TEST(defaults)
{
	struct config	*cfg = load_good(BASE);

	ck_assert_uint_eq(cfg->workers, online_cpus());
	ck_assert_uint_eq(cfg->drain_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->backlog, 511);
	ck_assert_uint_eq(cfg->max_connections, 10000);
	ck_assert_uint_eq(cfg->primary.connect_timeout_ms, 2000);
	ck_assert_uint_eq(cfg->primary.read_timeout_ms, 60000);
	ck_assert_uint_eq(cfg->primary.idle_timeout_ms, 30000);
	ck_assert_uint_eq(cfg->primary.pool_size, 64);
	ck_assert_uint_eq(cfg->max_header_bytes, 16384);
	ck_assert_uint_eq(cfg->max_header_count, 100);
	ck_assert_uint_eq(cfg->max_request_body, (uint64_t)1 << 30);
	ck_assert_uint_eq(cfg->client_header_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->client_body_timeout_ms, 30000);
	ck_assert_uint_eq(cfg->keepalive_timeout_ms, 75000);
	ck_assert_uint_eq(cfg->send_timeout_ms, 60000);
	ck_assert_uint_eq(cfg->nroutes, 0);
	ck_assert_ptr_null(cfg->routes);
	ck_assert_ptr_nonnull(cfg->diff_rules);
	ck_assert_str_eq(cfg->path, conf_path);
	ck_assert_str_eq(cfg->request_id_header, "X-Shadowdiff-Id");
	ck_assert_ptr_null(cfg->shadow.url);
	ck_assert_uint_eq(cfg->shadow.connect_timeout_ms, 1000);
	ck_assert_uint_eq(cfg->shadow_timeout_ms, 5000);
	ck_assert_uint_eq(cfg->shadow.read_timeout_ms, 5000);
	ck_assert(cfg->sample == 1.0);
	ck_assert_str_eq(cfg->sample_key, "");
	ck_assert_ptr_null(cfg->sample_key_name);
	ck_assert_str_eq(cfg->mirror_methods[0], "GET");
	ck_assert_str_eq(cfg->mirror_methods[1], "HEAD");
	ck_assert_str_eq(cfg->mirror_methods[2], "OPTIONS");
	ck_assert_ptr_null(cfg->mirror_methods[3]);
	ck_assert_uint_eq(cfg->max_inflight, 100);
	ck_assert_uint_eq(cfg->mirror_max_body, 1048576);
	ck_assert_uint_eq(cfg->shadow_max_response, 64 << 20);
	/* Copies are marked unless told not to; the Host is the client's. */
	ck_assert_str_eq(cfg->marker_name, "X-Shadowdiff-Shadow");
	ck_assert_str_eq(cfg->marker_value, "1");
	ck_assert_ptr_null(cfg->shadow_host_fixed);
	ck_assert_ptr_null(cfg->shadow_host_suffix);
	ck_assert_uint_eq(cfg->diff_max_body, 1048576);
	ck_assert_uint_eq(cfg->diff_threads, 2);
	ck_assert_uint_eq(cfg->diff_queue, 256);
	ck_assert_uint_eq(cfg->diff_queue_memory, 256 << 20);
	ck_assert_str_eq(cfg->log_path, "/var/log/shadowdiff/divergence.log");
	ck_assert(cfg->log_matches == 0);
	ck_assert_int_eq(cfg->log_request_headers, 0);
	ck_assert_int_eq(cfg->log_request_body, 0);
	ck_assert_ptr_null(cfg->redact_headers[0]);
	ck_assert_str_eq(cfg->redact_query[0], "access_token");
	ck_assert_str_eq(cfg->redact_body, "/**/password /**/secret "
	    "/**/client_secret /**/token /**/access_token /**/refresh_token "
	    "/**/id_token /**/api_key /**/apikey");
	ck_assert_int_eq(cfg->redact_body_words, 1);
	ck_assert_int_eq(diff_redact_has_paths(cfg->redact), 1);
	ck_assert_int_eq(diff_redact_header(cfg->redact,
	    "X-Forwarded-Authorization", 25), 1);
	ck_assert_int_eq(diff_redact_header(cfg->redact, "X-Session", 9), 0);
	ck_assert_uint_eq(cfg->log_value_limit, 256);
	ck_assert_uint_eq(cfg->log_queue, 4096);
	ck_assert_uint_eq(cfg->log_queue_memory, 64 << 20);
	config_unref(cfg);
}
END_TEST

/* A route's redact_body adds to [log]'s; other routes keep [log]'s. */
START_TEST(route_redact_body)
{
	struct config	*cfg;
	char		*out;
	size_t		 len;

	cfg = load_good(BASE
	    "[log]\nredact_body = /password\n"
	    "[route pay]\nmatch = /pay\nredact_body = /card/number\n"
	    "[route other]\nmatch = /other\n");
	ck_assert_ptr_nonnull(cfg->routes[0].redact);
	ck_assert_ptr_null(cfg->routes[1].redact);
	ck_assert_int_eq(diff_redact_json(cfg->routes[0].redact,
	    (const unsigned char *)"{\"password\":1,\"card\":{\"number\":2}}",
	    34, &out, &len), 1);
	ck_assert_str_eq(out, "{\"password\":\"[redacted]\","
	    "\"card\":{\"number\":\"[redacted]\"}}");
	free(out);
	ck_assert_int_eq(diff_redact_json(cfg->redact,
	    (const unsigned char *)"{\"password\":1,\"card\":{\"number\":2}}",
	    34, &out, &len), 1);
	ck_assert_str_eq(out, "{\"password\":\"[redacted]\","
	    "\"card\":{\"number\":2}}");
	free(out);
	config_unref(cfg);
}
END_TEST

/* The keys of [shadow], [log] and [diff] that the daemon reads. */
START_TEST(mirror_keys)
{
	struct config			*cfg;
	const struct config_route	*r;
	char				*uri;
	size_t				 len;

	cfg = load_good(BASE
	    "[server]\nrequest_id_header = X-Req\n"
	    "[shadow]\n"
	    "url = http://127.0.0.1:9001\n"
	    "connect_timeout = 50ms\n"
	    "timeout = 2s\n"
	    "idle_timeout = 3s\n"
	    "pool_size = 7\n"
	    "sample = 12.5%\n"
	    "sample_key = query:user\n"
	    "methods = GET POST\n"
	    "max_inflight = 9\n"
	    "max_body = 4KiB\n"
	    "max_response = 2MiB\n"
	    "marker = X-Env:\tshadow  copy\n"
	    "host = suffix\n"
	    "[diff]\n"
	    "max_body = 64KiB\n"
	    "threads = 3\n"
	    "queue = 5\n"
	    "queue_memory = 1MiB\n"
	    "[log]\n"
	    "path = -\n"
	    "log_matches = 1%\n"
	    "log_request = headers body\n"
	    "redact_headers = X-Session\n"
	    "redact_query = sid SIG\n"
	    "redact_body = /card/number\n"
	    "redact_body_words = no\n"
	    "value_limit = 64\n"
	    "queue = 10\n"
	    "queue_memory = 128KiB\n"
	    "[route writes]\n"
	    "match = /w/**\n"
	    "mirror_methods = GET PUT\n"
	    "[route quiet]\n"
	    "match = /q\n"
	    "mirror_methods = none\n");
	ck_assert_str_eq(cfg->request_id_header, "X-Req");
	ck_assert_str_eq(cfg->shadow.hostport, "127.0.0.1:9001");
	ck_assert_uint_eq(cfg->shadow.connect_timeout_ms, 50);
	ck_assert_uint_eq(cfg->shadow_timeout_ms, 2000);
	ck_assert_uint_eq(cfg->shadow.read_timeout_ms, 2000);
	ck_assert_uint_eq(cfg->shadow.idle_timeout_ms, 3000);
	ck_assert_uint_eq(cfg->shadow.pool_size, 7);
	ck_assert(cfg->sample == 0.125);
	ck_assert_int_eq(cfg->sample_key_query, 1);
	ck_assert_str_eq(cfg->sample_key_name, "user");
	ck_assert_uint_eq(cfg->max_inflight, 9);
	ck_assert_uint_eq(cfg->mirror_max_body, 4096);
	ck_assert_uint_eq(cfg->shadow_max_response, 2 << 20);
	ck_assert_str_eq(cfg->marker_name, "X-Env");
	ck_assert_str_eq(cfg->marker_value, "shadow  copy");
	ck_assert_ptr_null(cfg->shadow_host_fixed);
	ck_assert_str_eq(cfg->shadow_host_suffix, "-shadow");
	ck_assert_uint_eq(cfg->diff_max_body, 65536);
	ck_assert_uint_eq(cfg->diff_threads, 3);
	ck_assert_uint_eq(cfg->diff_queue, 5);
	ck_assert_uint_eq(cfg->diff_queue_memory, 1 << 20);
	ck_assert_str_eq(cfg->log_path, "-");
	ck_assert(cfg->log_matches == 0.01);
	ck_assert_int_eq(cfg->log_request_headers, 1);
	ck_assert_int_eq(cfg->log_request_body, 1);
	/* Header names add to those always hidden; lists replace. */
	ck_assert_int_eq(diff_redact_header(cfg->redact, "x-session", 9), 1);
	ck_assert_int_eq(diff_redact_header(cfg->redact, "Cookie", 6), 1);
	uri = diff_redact_uri(cfg->redact, "/a?sid=1&access_token=2&sig=3",
	    strlen("/a?sid=1&access_token=2&sig=3"), 0, &len);
	ck_assert_str_eq(uri, "/a?sid=[redacted]&access_token=2&"
	    "sig=[redacted]");
	free(uri);
	/* Patterns replace the default list; no words: password shows. */
	ck_assert_int_eq(cfg->redact_body_words, 0);
	ck_assert_int_eq(diff_redact_json(cfg->redact,
	    (const unsigned char *)"{\"card\":{\"number\":4111},"
	    "\"password\":1}", 37, &uri, &len), 1);
	ck_assert_str_eq(uri, "{\"card\":{\"number\":\"[redacted]\"},"
	    "\"password\":1}");
	free(uri);
	ck_assert_uint_eq(cfg->log_value_limit, 64);
	ck_assert_uint_eq(cfg->log_queue, 10);
	ck_assert_uint_eq(cfg->log_queue_memory, 128 << 10);
	/* Methods: [shadow] by default, a route's list where it has one. */
	ck_assert_int_eq(config_mirrors_method(cfg, NULL, "POST"), 1);
	ck_assert_int_eq(config_mirrors_method(cfg, NULL, "PUT"), 0);
	ck_assert_int_eq(config_mirrors_method(cfg, NULL, "HEAD"), 0);
	r = config_route_find(cfg, "writes");
	ck_assert_int_eq(config_mirrors_method(cfg, r, "PUT"), 1);
	ck_assert_int_eq(config_mirrors_method(cfg, r, "POST"), 0);
	r = config_route_find(cfg, "quiet");
	ck_assert_int_eq(config_mirrors_method(cfg, r, "GET"), 0);
	config_unref(cfg);
	/* An empty url turns mirroring off; the other keys may stay. */
	cfg = load_good(BASE "[shadow]\nurl =\nsample = 5%\n");
	ck_assert_ptr_null(cfg->shadow.url);
	config_unref(cfg);
	/* No marker at all; a fixed Host, a name or an address. */
	cfg = load_good(BASE "[shadow]\nurl = http://127.0.0.1:9\n"
	    "marker = none\nhost = api-shadow.internal:8443\n");
	ck_assert_ptr_null(cfg->marker_name);
	ck_assert_ptr_null(cfg->marker_value);
	ck_assert_str_eq(cfg->shadow_host_fixed, "api-shadow.internal:8443");
	ck_assert_ptr_null(cfg->shadow_host_suffix);
	config_unref(cfg);
	cfg = load_good(BASE "[shadow]\nurl = http://127.0.0.1:9\n"
	    "host = [2001:db8::7]\n");
	ck_assert_str_eq(cfg->shadow_host_fixed, "[2001:db8::7]");
	config_unref(cfg);
}
END_TEST

/* Every key of the table, set to a value other than its default. */
START_TEST(every_key)
{
	struct config	*cfg;

	cfg = load_good(
	    "[server]\n"
	    "workers = 3\n"
	    "drain_timeout = 250ms\n"
	    "[listen]\n"
	    "address = 127.0.0.1:0\n"
	    "backlog = 128\n"
	    "max_connections = 1000000\n"
	    "[primary]\n"
	    "url = http://127.0.0.1:9000/\n"
	    "connect_timeout = 1ms\n"
	    "read_timeout = 2m\n"
	    "idle_timeout = 1h\n"
	    "pool_size = 0\n"
	    "[limits]\n"
	    "max_header_bytes = 1MiB\n"
	    "max_header_count = 10000\n"
	    "max_request_body = 0\n"
	    "client_header_timeout = 5s\n"
	    "client_body_timeout = 6s\n"
	    "keepalive_timeout = 7s\n"
	    "send_timeout = 24h\n");
	ck_assert_uint_eq(cfg->workers, 3);
	ck_assert_uint_eq(cfg->drain_timeout_ms, 250);
	ck_assert_uint_eq(cfg->nlisten, 1);
	ck_assert_str_eq(cfg->listen[0].text, "127.0.0.1:0");
	ck_assert_uint_eq(cfg->backlog, 128);
	ck_assert_uint_eq(cfg->max_connections, 1000000);
	ck_assert_str_eq(cfg->primary.url, "http://127.0.0.1:9000/");
	ck_assert_str_eq(cfg->primary.host, "127.0.0.1");
	ck_assert_str_eq(cfg->primary.port, "9000");
	ck_assert_str_eq(cfg->primary.hostport, "127.0.0.1:9000");
	ck_assert_int_eq(cfg->primary.tls, 0);
	ck_assert_uint_eq(cfg->primary.connect_timeout_ms, 1);
	ck_assert_uint_eq(cfg->primary.read_timeout_ms, 120000);
	ck_assert_uint_eq(cfg->primary.idle_timeout_ms, 3600000);
	ck_assert_uint_eq(cfg->primary.pool_size, 0);
	ck_assert_uint_eq(cfg->max_header_bytes, 1048576);
	ck_assert_uint_eq(cfg->max_header_count, 10000);
	ck_assert_uint_eq(cfg->max_request_body, 0);
	ck_assert_uint_eq(cfg->client_header_timeout_ms, 5000);
	ck_assert_uint_eq(cfg->client_body_timeout_ms, 6000);
	ck_assert_uint_eq(cfg->keepalive_timeout_ms, 7000);
	ck_assert_uint_eq(cfg->send_timeout_ms, 86400000);
	config_unref(cfg);
}
END_TEST

/* workers = auto counts the online CPUs. */
START_TEST(workers_auto)
{
	struct config	*cfg;

	cfg = load_good(BASE "[server]\nworkers = auto\n");
	ck_assert_uint_eq(cfg->workers, online_cpus());
	config_unref(cfg);
}
END_TEST

/* Bounds are inclusive: the smallest and largest values are accepted. */
START_TEST(bounds_inclusive)
{
	struct config	*cfg;

	cfg = load_good(BASE
	    "[server]\nworkers = 256\ndrain_timeout = 3600s\n"
	    "[limits]\nmax_header_bytes = 1024\nmax_request_body = 1024GiB\n");
	ck_assert_uint_eq(cfg->workers, 256);
	ck_assert_uint_eq(cfg->drain_timeout_ms, 3600000);
	ck_assert_uint_eq(cfg->max_header_bytes, 1024);
	ck_assert_uint_eq(cfg->max_request_body, (uint64_t)1 << 40);
	config_unref(cfg);
}
END_TEST

/* [listen] takes several addresses, IPv6 among them. */
START_TEST(listen_several)
{
	struct config		*cfg;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	cfg = load_good(
	    "[listen]\n"
	    "address = 127.0.0.1:0\n"
	    "address = [::1]:0\n"
	    "address = 0.0.0.0:8081\n"
	    "[primary]\n"
	    "url = http://127.0.0.1:8080\n");
	ck_assert_uint_eq(cfg->nlisten, 3);
	ck_assert_str_eq(cfg->listen[0].text, "127.0.0.1:0");
	ck_assert_str_eq(cfg->listen[1].text, "[::1]:0");
	ck_assert_str_eq(cfg->listen[2].text, "0.0.0.0:8081");

	ck_assert_int_eq(cfg->listen[0].addr.ss_family, AF_INET);
	sin = (struct sockaddr_in *)&cfg->listen[0].addr;
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_uint_eq(ntohs(sin->sin_port), 0);
	ck_assert_uint_eq(cfg->listen[0].addrlen, sizeof(*sin));

	ck_assert_int_eq(cfg->listen[1].addr.ss_family, AF_INET6);
	sin6 = (struct sockaddr_in6 *)&cfg->listen[1].addr;
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_uint_eq(cfg->listen[1].addrlen, sizeof(*sin6));

	sin = (struct sockaddr_in *)&cfg->listen[2].addr;
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_ANY);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8081);
	config_unref(cfg);
}
END_TEST

static const struct {
	const char	*url;
	const char	*host;
	const char	*port;
	const char	*hostport;
	int		 family;
} good_urls[] = {
	{ "http://127.0.0.1", "127.0.0.1", "80", "127.0.0.1:80", AF_INET },
	{ "http://127.0.0.1/", "127.0.0.1", "80", "127.0.0.1:80", AF_INET },
	{ "http://127.0.0.1:8080", "127.0.0.1", "8080", "127.0.0.1:8080",
	    AF_INET },
	{ "HTTP://127.0.0.1:1/", "127.0.0.1", "1", "127.0.0.1:1", AF_INET },
	{ "http://[::1]:8080", "::1", "8080", "[::1]:8080", AF_INET6 },
	{ "http://[::1]", "::1", "80", "[::1]:80", AF_INET6 },
};

/* A backend URL: host, port (80 when absent) and the resolved address. */
START_TEST(url_good)
{
	struct config		*cfg;
	char			 text[512];
	struct sockaddr_in	*sin;

	snprintf(text, sizeof(text), "[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = %s\n", good_urls[_i].url);
	cfg = load_good(text);
	ck_assert_str_eq(cfg->primary.url, good_urls[_i].url);
	ck_assert_str_eq(cfg->primary.host, good_urls[_i].host);
	ck_assert_str_eq(cfg->primary.port, good_urls[_i].port);
	ck_assert_str_eq(cfg->primary.hostport, good_urls[_i].hostport);
	ck_assert_int_eq(cfg->primary.addr.ss_family, good_urls[_i].family);
	if (good_urls[_i].family == AF_INET) {
		sin = (struct sockaddr_in *)&cfg->primary.addr;
		ck_assert_uint_eq(ntohs(sin->sin_port),
		    (unsigned)atoi(good_urls[_i].port));
	}
	config_unref(cfg);
}
END_TEST

/* Comments: # and ; at the start of a line, ; inline; CRLF endings. */
START_TEST(comments)
{
	struct config	*cfg;

	cfg = load_good(
	    "# a comment\n"
	    "; another\r\n"
	    "\n"
	    "[listen]   ; the listeners\n"
	    "address = 127.0.0.1:0 ; loopback\r\n"
	    "  # an indented comment is no continuation\n"
	    "\t; nor is this one\n"
	    "[primary]\r\n"
	    "url = http://127.0.0.1:8080\r\n"
	    "[server]\n"
	    "workers = 2 ; two\n"
	    "drain_timeout: 3s\n");
	ck_assert_uint_eq(cfg->nlisten, 1);
	ck_assert_uint_eq(cfg->workers, 2);
	ck_assert_uint_eq(cfg->drain_timeout_ms, 3000);
	config_unref(cfg);
}
END_TEST

/*
 * An inline ';' starts a comment only after a blank, and '#' never does
 * inline: both are then part of the value.
 */
START_TEST(comment_inline_needs_blank)
{
	static const struct want w1[] = {
		{ 6, "[server] workers = \"2;x\": expected a whole number" },
	};
	static const struct want w2[] = {
		{ 6, "[server] workers = \"2 # two\": expected a whole" },
	};

	check_bad("semicolon", BASE "[server]\nworkers = 2;x\n", w1, 1);
	check_bad("hash", BASE "[server]\nworkers = 2 # two\n", w2, 1);
}
END_TEST

/* Indented lines continue a value; a list may be spread over lines. */
START_TEST(continuation_lines)
{
	struct config			*cfg;
	const struct config_route	*r;

	cfg = load_good(BASE
	    "[route reads]\n"
	    "match = /items/*\n"
	    "methods = GET\n"
	    "  HEAD\n"
	    "\tOPTIONS\n"
	    "\n"
	    "  POST\n"
	    "[route writes]\n"
	    "  match = /items/**\n");
	ck_assert_uint_eq(cfg->nroutes, 2);
	r = &cfg->routes[0];
	ck_assert_str_eq(r->name, "reads");
	ck_assert_str_eq(r->match, "/items/*");
	ck_assert_ptr_nonnull(r->methods);
	ck_assert_str_eq(r->methods[0], "GET");
	ck_assert_str_eq(r->methods[1], "HEAD");
	ck_assert_str_eq(r->methods[2], "OPTIONS");
	ck_assert_str_eq(r->methods[3], "POST");
	ck_assert_ptr_null(r->methods[4]);
	/* The first key of a section may be indented. */
	ck_assert_str_eq(cfg->routes[1].match, "/items/**");
	ck_assert_ptr_null(cfg->routes[1].methods);
	config_unref(cfg);
}
END_TEST

/* A line of exactly the reader's limit (198 bytes) is accepted. */
START_TEST(line_at_limit)
{
	struct config	*cfg;
	char		 text[1024];
	char		 comment[199];

	memset(comment, 'x', sizeof(comment) - 1);
	comment[0] = '#';
	comment[sizeof(comment) - 1] = '\0';
	ck_assert_uint_eq(strlen(comment), 198);
	snprintf(text, sizeof(text), "%s%s\n", BASE, comment);
	cfg = load_good(text);
	config_unref(cfg);
}
END_TEST

/* Routes keep their file order, name, line, pattern and methods. */
START_TEST(routes_parsed)
{
	struct config	*cfg;

	cfg = load_good(BASE
	    "[route users]\n"
	    "match = /users/*\n"
	    "methods = GET HEAD\n"
	    "[route api-v2.x_y]\n"
	    "match = /api/**\n");
	ck_assert_uint_eq(cfg->nroutes, 2);
	ck_assert_str_eq(cfg->routes[0].name, "users");
	ck_assert_str_eq(cfg->routes[0].match, "/users/*");
	ck_assert_str_eq(cfg->routes[0].segments[0], "users");
	ck_assert_str_eq(cfg->routes[0].segments[1], "*");
	ck_assert_ptr_null(cfg->routes[0].segments[2]);
	ck_assert_str_eq(cfg->routes[0].methods[0], "GET");
	ck_assert_str_eq(cfg->routes[0].methods[1], "HEAD");
	ck_assert_ptr_null(cfg->routes[0].methods[2]);
	ck_assert_ptr_nonnull(cfg->routes[0].rules);
	ck_assert_str_eq(cfg->routes[1].name, "api-v2.x_y");
	ck_assert_ptr_null(cfg->routes[1].methods);
	ck_assert_ptr_nonnull(cfg->routes[1].rules);
	ck_assert_ptr_eq(config_route_find(cfg, "users"), &cfg->routes[0]);
	ck_assert_ptr_eq(config_route_find(cfg, "api-v2.x_y"),
	    &cfg->routes[1]);
	ck_assert_ptr_null(config_route_find(cfg, "user"));
	ck_assert_ptr_null(config_route_find(cfg, "USERS"));
	ck_assert_ptr_null(config_route_find(cfg, ""));
	config_unref(cfg);
}
END_TEST

/* [diff] and [route] rule keys go to the diff engine. */
START_TEST(rule_keys_delegated)
{
	struct config	*cfg;

	cfg = load_good(
	    "[diff]\n"
	    "ignore = /meta/request_id\n"
	    BASE
	    "[route users]\n"
	    "match = /users/*\n"
	    "ignore = /etag\n");
	ck_assert_uint_eq(cfg->nroutes, 1);
	ck_assert_ptr_nonnull(cfg->routes[0].rules);
	ck_assert_ptr_ne(cfg->routes[0].rules, cfg->diff_rules);
	config_unref(cfg);
}
END_TEST

/* Every rule key of docs/configuration.md is taken, in both sections. */
START_TEST(rule_keys_all)
{
	struct config	*cfg;

	cfg = load_good(BASE
	    "[diff]\n"
	    "ignore = /meta/request_id /items/*/etag\n"
	    "ignore_headers = Date X-Request-Id\n"
	    "unordered = /tags\n"
	    "float_tolerance = 1e-9\n"
	    "null_equals_empty = yes\n"
	    "missing_equals_default = no\n"
	    "timestamps = no\n"
	    "profile = go-rust\n"
	    "[route r]\n"
	    "match = /r/**\n"
	    "ignore = /debug\n"
	    "ignore_headers = Server\n"
	    "unordered = /list\n"
	    "float_tolerance = 0\n"
	    "null_equals_empty = no\n"
	    "missing_equals_default = yes\n"
	    "timestamps = /created_at\n"
	    "profile = none\n");
	ck_assert_uint_eq(cfg->nroutes, 1);
	config_unref(cfg);
}
END_TEST

/* The rule keys of issue 17 are taken, in both sections. */
START_TEST(rule_keys_like_shape)
{
	struct config	*cfg;

	cfg = load_good(BASE
	    "[diff]\n"
	    "ignore_like = /token base64url:43\n"
	    "  /items/*/id uuid /sig regex:^[0-9a-f]{64}$\n"
	    "volatile_headers = default etag\n"
	    "[route r]\n"
	    "match = /r/**\n"
	    "ignore_like = /at rfc3339\n"
	    "allow_added = /user/*\n"
	    "shape_only = /recs\n"
	    "status_equal = 5xx 404=410\n"
	    "volatile_headers = no\n");
	ck_assert_uint_eq(cfg->nroutes, 1);
	config_unref(cfg);
}
END_TEST

/* shadowdiff -t names the file and line of a bad regular expression. */
START_TEST(check_mode_bad_regex)
{
	char	 cmd[PATH_MAX * 2 + 32], out[2048], want[PATH_MAX + 256];
	FILE	*f;
	size_t	 n;
	int	 status;

	f = fopen(conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(BASE "[diff]\nignore = /a\nignore_like = /sig regex:[0-9\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1",
	    tu_build_path("shadowdiff"), conf_path);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	status = pclose(f);
	ck_assert_int_eq(WEXITSTATUS(status), 1);
	snprintf(want, sizeof(want), "%s:7: [diff] ignore_like = \"/sig "
	    "regex:[0-9\": expected a valid regular expression: regex:[0-9: "
	    "missing terminating ] for character class at offset 4 (for "
	    "/sig)", conf_path);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
}
END_TEST

/* The routes of route_cases, in this order. */
#define ROUTES \
	"[route users_read]\n" \
	"match = /users/*\n" \
	"methods = GET HEAD\n" \
	"[route users]\n" \
	"match = /users/*\n" \
	"[route users_again]\n" \
	"match = /users/*\n" \
	"[route orders]\n" \
	"match = /users/*/orders\n" \
	"[route api]\n" \
	"match = /api/**\n" \
	"[route all_posts]\n" \
	"match = /**\n" \
	"methods = POST\n" \
	"[route root]\n" \
	"match = /\n"

static const struct {
	const char	*path;
	const char	*method;
	const char	*route;		/* NULL: none */
} route_cases[] = {
	{ "/users/1", "GET", "users_read" },
	{ "/users/1?x=y", "GET", "users_read" },
	{ "/users/1?x=/a/b", "HEAD", "users_read" },
	{ "/users/abc", "DELETE", "users" },	/* methods filter */
	{ "/users/1", "POST", "users" },	/* first match wins */
	{ "/users/1/x", "GET", NULL },
	{ "/users/", "GET", NULL },
	{ "/users", "GET", NULL },
	{ "/users?x=1", "GET", NULL },
	{ "/usersx/1", "GET", NULL },
	{ "/users/1/orders", "GET", "orders" },
	{ "/users/1/orders/2", "GET", NULL },
	{ "/users//orders", "GET", NULL },
	{ "/api", "GET", "api" },
	{ "/api/", "GET", "api" },
	{ "/api/a", "GET", "api" },
	{ "/api/a/b/c?d", "PUT", "api" },
	{ "/apix", "GET", NULL },
	{ "/apix", "POST", "all_posts" },
	{ "/", "GET", "root" },
	{ "/?q", "GET", "root" },
	{ "/x", "GET", NULL },
	{ "", "GET", NULL },
	{ "*", "OPTIONS", NULL },
	{ "users/1", "GET", NULL },
	{ "/users/1", "get", "users" },		/* methods are exact */
};

/* config_route_match: '*' is one segment, '**' the rest, first wins. */
START_TEST(route_match)
{
	struct config			*cfg;
	const struct config_route	*r;
	const char			*path = route_cases[_i].path;

	cfg = load_good(BASE ROUTES);
	ck_assert_uint_eq(cfg->nroutes, 7);
	r = config_route_match(cfg, path, strlen(path),
	    route_cases[_i].method);
	if (route_cases[_i].route == NULL)
		ck_assert_msg(r == NULL, "%s %s matched route %s",
		    route_cases[_i].method, path, r ? r->name : "");
	else {
		ck_assert_msg(r != NULL, "%s %s matched no route",
		    route_cases[_i].method, path);
		ck_assert_str_eq(r->name, route_cases[_i].route);
	}
	config_unref(cfg);
}
END_TEST

/* Only LEN bytes of the path are looked at; no routes match nothing. */
START_TEST(route_match_len)
{
	struct config	*cfg;
	const char	*path = "/api/x";

	cfg = load_good(BASE "[route api]\nmatch = /api\n");
	ck_assert_ptr_null(config_route_match(cfg, path, strlen(path),
	    "GET"));
	ck_assert_ptr_eq(config_route_match(cfg, path, 4, "GET"),
	    &cfg->routes[0]);
	ck_assert_ptr_null(config_route_match(cfg, path, 3, "GET"));
	config_unref(cfg);

	cfg = load_good(BASE);
	ck_assert_ptr_null(config_route_match(cfg, "/", 1, "GET"));
	ck_assert_ptr_null(config_route_find(cfg, "api"));
	config_unref(cfg);
}
END_TEST

/* A reference keeps the config alive; the last unref frees it. */
START_TEST(ref_unref)
{
	struct config	*cfg = load_good(BASE);

	ck_assert_int_eq(atomic_load(&cfg->refs), 1);
	ck_assert_ptr_eq(config_ref(cfg), cfg);
	ck_assert_int_eq(atomic_load(&cfg->refs), 2);
	config_unref(cfg);
	ck_assert_int_eq(atomic_load(&cfg->refs), 1);
	/* Still usable: under the sanitizers a free here would show. */
	ck_assert_uint_eq(cfg->nlisten, 1);
	ck_assert_str_eq(cfg->primary.hostport, "127.0.0.1:8080");
	config_unref(cfg);
	config_unref(NULL);
}
END_TEST

/* Two loads of one file are two independent configs. */
START_TEST(load_twice)
{
	struct config	*a, *b;

	a = load_good(BASE "[server]\nworkers = 2\n");
	b = load_good(BASE "[server]\nworkers = 5\n");
	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(a->workers, 2);
	ck_assert_uint_eq(b->workers, 5);
	config_unref(a);
	config_unref(b);
}
END_TEST

/*
 * Bad files: each gives exactly these errors, at these lines.
 */

static const struct {
	const char	*name;
	const char	*text;
	struct want	 want[MAX_EXPECTED];
} bad_cases[] = {
	{ "unknown section", BASE "[bogus]\nx = 1\n", {
	    { 5, "unknown section [bogus]: expected [server], [listen], "
		"[tls], [admin], [primary], [shadow], [limits], [diff], [log] or "
		"[route NAME]" } } },
	{ "admin address", BASE "[admin]\nlisten = 9901\n", {
	    { 6, "[admin] listen = \"9901\": expected host:port, such as "
		"127.0.0.1:8080, [::1]:8080 or 0.0.0.0:80" } } },
	{ "unknown key server", BASE "[server]\nworkerz = 2\n", {
	    { 6, "[server] unknown key \"workerz\": expected workers, "
		"drain_timeout" } } },
	{ "unknown key listen", BASE "[listen]\nport = 80\n", {
	    { 6, "[listen] unknown key \"port\": expected address, backlog, "
		"max_connections" } } },
	{ "unknown key primary", BASE "[primary]\ntimeout = 1s\n", {
	    { 6, "[primary] unknown key \"timeout\": expected url, "
		"connect_timeout, read_timeout, idle_timeout, pool_size" } } },
	{ "unknown key limits", BASE "[limits]\nmax_body = 1\n", {
	    { 6, "[limits] unknown key \"max_body\": expected "
		"max_header_bytes, max_header_count, max_request_body, "
		"client_header_timeout, client_body_timeout, "
		"keepalive_timeout, send_timeout" } } },
	{ "unknown key diff", BASE "[diff]\nno_such_rule = 1\n", {
	    { 6, "[diff] unknown key \"no_such_rule\": expected max_body, "
		"threads, queue, queue_memory or a diff rule (see "
		"docs/configuration.md)" } } },
	{ "unknown key route", BASE "[route a]\nmatch = /a\nmatches = /b\n", {
	    { 7, "[route a] unknown key \"matches\": expected match, "
		"methods, mirror_methods, redact_body or a diff rule (see "
		"docs/configuration.md)" } } },
	{ "shadow without url", BASE "[shadow]\nsample = 10%\n", {
	    { 6, "[shadow] has no url: expected url = http://host:port" } } },
	{ "shadow bad url", BASE "[shadow]\nurl = ftp://x\n", {
	    { 6, "[shadow] url = \"ftp://x\": expected a URL such as "
		"http://127.0.0.1:8080" } } },
	{ "shadow methods lower case",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmethods = GET post\n", {
	    { 7, "[shadow] methods = \"GET post\": expected HTTP methods in "
		"capitals, such as GET HEAD" } } },
	{ "shadow methods empty",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmethods =\n", {
	    { 7, "[shadow] methods is empty: expected at least one method" } } },
	{ "shadow sample over 100%",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nsample = 150%\n", {
	    { 7, "[shadow] sample = \"150%\": expected a percentage from 0% "
		"to 100%" } } },
	{ "shadow sample_key kind",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nsample_key = cookie:u\n", {
	    { 7, "[shadow] sample_key = \"cookie:u\": expected header:NAME or "
		"query:NAME" } } },
	{ "shadow marker without a value",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmarker = X-Shadow\n", {
	    { 7, "[shadow] marker = \"X-Shadow\": expected NAME: VALUE, a "
		"header of your own (not one that shadowdiff writes or that "
		"frames a message) and its value, such as "
		"X-Shadowdiff-Shadow: 1, or none" } } },
	{ "shadow marker empty value",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmarker = X-Shadow:\n", {
	    { 7, "[shadow] marker = \"X-Shadow:\": expected NAME: VALUE" } } },
	{ "shadow marker name not a token",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmarker = X Shadow: 1\n", {
	    { 7, "[shadow] marker = \"X Shadow: 1\": expected NAME: "
		"VALUE" } } },
	{ "shadow marker a field we write",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmarker = host: x\n", {
	    { 7, "[shadow] marker = \"host: x\": expected NAME: VALUE, a "
		"header of your own" } } },
	{ "shadow marker value control byte",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmarker = X-S: a\x7f"
	    "b\n", {
	    { 7, "[shadow] marker = \"X-S: a\x7f" "b\": expected NAME: "
		"VALUE" } } },
	{ "shadow marker is the request id",
	    BASE "[server]\nrequest_id_header = X-Copy\n"
	    "[shadow]\nurl = http://127.0.0.1:9\nmarker = x-copy: 1\n", {
	    { 9, "[shadow] marker = \"x-copy: 1\": expected a header other "
		"than [server] request_id_header" } } },
	{ "shadow marker default is the request id",
	    BASE "[server]\nrequest_id_header = X-Shadowdiff-Shadow\n"
	    "[shadow]\nurl = http://127.0.0.1:9\n", {
	    { 6, "[shadow] marker = \"X-Shadowdiff-Shadow: 1\": expected a "
		"header other than [server] request_id_header" } } },
	{ "shadow host with a path",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nhost = api/v1\n", {
	    { 7, "[shadow] host = \"api/v1\": expected client, suffix, or a "
		"host[:port] for the shadow's Host header, such as "
		"api-shadow.internal or 10.0.0.7:8080" } } },
	{ "shadow host bad port",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nhost = api:70000\n", {
	    { 7, "[shadow] host = \"api:70000\": expected client, suffix, "
		"or a host[:port]" } } },
	{ "shadow host empty",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nhost =\n", {
	    { 7, "[shadow] host = \"\": expected client, suffix, or a "
		"host[:port]" } } },
	{ "shadow host unclosed bracket",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nhost = [::1:80\n", {
	    { 7, "[shadow] host = \"[::1:80\": expected client, suffix, or "
		"a host[:port]" } } },
	{ "shadow max_inflight zero",
	    BASE "[shadow]\nurl = http://127.0.0.1:9\nmax_inflight = 0\n", {
	    { 7, "[shadow] max_inflight = \"0\": expected a whole number from "
		"1 to 1000000" } } },
	{ "server request_id_header",
	    BASE "[server]\nrequest_id_header = X Id\n", {
	    { 6, "[server] request_id_header = \"X Id\": expected a header "
		"name" } } },
	{ "log relative path", BASE "[log]\npath = div.log\n", {
	    { 6, "[log] path = \"div.log\": expected an absolute file path" } } },
	{ "log log_request", BASE "[log]\nlog_request = body\n", {
	    { 6, "[log] log_request = \"body\": expected none, headers, or "
		"headers body" } } },
	{ "log redact_headers", BASE "[log]\nredact_headers = X-Key B@d\n", {
	    { 6, "[log] redact_headers = \"X-Key B@d\": expected a header "
		"name" } } },
	{ "log redact_query", BASE "[log]\nredact_query = a=b\n", {
	    { 6, "[log] redact_query = \"a=b\": expected query parameter "
		"names" } } },
	{ "log redact_query none", BASE "[log]\nredact_query = sid none\n", {
	    { 6, "[log] redact_query: none stands alone" } } },
	{ "log redact_query empty", BASE "[log]\nredact_query =\n", {
	    { 6, "[log] redact_query is empty: expected query parameter "
		"names, or none" } } },
	{ "log redact_body empty", BASE "[log]\nredact_body =\n", {
	    { 6, "[log] redact_body = \"\": expected JSON Pointer patterns, "
		"such as" } } },
	{ "log redact_body_words", BASE "[log]\nredact_body_words = all\n", {
	    { 6, "[log] redact_body_words = \"all\": expected yes or no" } } },
	{ "log redact_body pattern", BASE "[log]\nredact_body = password\n", {
	    { 6, "[log] redact_body = \"password\": expected JSON Pointer "
		"patterns, or none: a JSON Pointer pattern starting with "
		"'/'" } } },
	{ "route redact_body",
	    BASE "[route a]\nmatch = /a\nredact_body = /a/~2\n", {
	    { 7, "[route a] redact_body = \"/a/~2\": expected JSON Pointer "
		"patterns: '~' followed by 0 or 1" } } },
	{ "log value_limit", BASE "[log]\nvalue_limit = 8\n", {
	    { 6, "[log] value_limit = \"8\": expected a size from 16 to 1024 "
		"bytes" } } },
	{ "route mirror_methods",
	    BASE "[route a]\nmatch = /a\nmirror_methods = post\n", {
	    { 7, "[route a] mirror_methods = \"post\": expected HTTP methods "
		"in capitals, such as GET HEAD" } } },
	{ "duplicate key", BASE "[server]\nworkers = 2\nworkers = 3\n", {
	    { 7, "[server] duplicate key \"workers\" (first set at line "
		"6)" } } },
	{ "duplicate key across sections",
	    BASE "[primary]\nurl = http://127.0.0.1:9\n", {
	    { 6, "[primary] duplicate key \"url\" (first set at line 4)" } } },
	{ "duplicate key route",
	    BASE "[route a]\nmatch = /a\nmatch = /b\n", {
	    { 7, "[route a] duplicate key \"match\" (first set at line "
		"6)" } } },
	{ "duplicate key diff",
	    BASE "[diff]\nno_rule = 1\nno_rule = 2\n", {
	    { 6, "[diff] unknown key \"no_rule\"" },
	    { 7, "[diff] duplicate key \"no_rule\" (first set at line "
		"6)" } } },
	{ "bad duration", BASE "[server]\ndrain_timeout = 5x\n", {
	    { 6, "[server] drain_timeout = \"5x\": expected a duration such "
		"as 250ms, 5s, 2m or 1h" } } },
	{ "duration without unit", BASE "[primary]\nread_timeout = 30\n", {
	    { 6, "[primary] read_timeout = \"30\": expected a duration" } } },
	{ "bad size", BASE "[limits]\nmax_header_bytes = 16KB\n", {
	    { 6, "[limits] max_header_bytes = \"16KB\": expected a size such "
		"as 512, 16KiB, 1MiB or 2GiB" } } },
	{ "bad number", BASE "[listen]\nbacklog = 12abc\n", {
	    { 6, "[listen] backlog = \"12abc\": expected a whole number from "
		"1 to 65535" } } },
	{ "bad workers", BASE "[server]\nworkers = many\n", {
	    { 6, "[server] workers = \"many\": expected a whole number from "
		"1 to 256, or auto" } } },
	{ "negative number", BASE "[primary]\npool_size = -1\n", {
	    { 6, "[primary] pool_size = \"-1\": expected a whole number "
		"from 0 to 100000" } } },
	{ "number too small", BASE "[server]\nworkers = 0\n", {
	    { 6, "[server] workers = \"0\": expected a whole number from 1 "
		"to 256" } } },
	{ "number too large", BASE "[listen]\nmax_connections = 1000001\n", {
	    { 6, "[listen] max_connections = \"1000001\": expected a whole "
		"number from 1 to 1000000" } } },
	{ "duration too small",
	    BASE "[limits]\nclient_header_timeout = 0ms\n", {
	    { 6, "[limits] client_header_timeout = \"0ms\": expected a "
		"duration from 1ms to 3600s" } } },
	{ "duration too large", BASE "[server]\ndrain_timeout = 61m\n", {
	    { 6, "[server] drain_timeout = \"61m\": expected a duration "
		"from 0ms to 3600s" } } },
	{ "size too small", BASE "[limits]\nmax_header_bytes = 1023\n", {
	    { 6, "[limits] max_header_bytes = \"1023\": expected a size "
		"from 1024 to 1048576 bytes" } } },
	{ "size too large", BASE "[limits]\nmax_request_body = 1025GiB\n", {
	    { 6, "[limits] max_request_body = \"1025GiB\": expected a size "
		"from 0 to 1099511627776 bytes" } } },
	{ "empty value", BASE "[server]\nworkers =\n", {
	    { 6, "[server] workers = \"\": expected a whole number" } } },
	{ "listen without port",
	    "[listen]\naddress = 127.0.0.1\n[primary]\n"
	    "url = http://127.0.0.1:8080\n", {
	    { 2, "[listen] address = \"127.0.0.1\": expected host:port, such "
		"as 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:80" } } },
	{ "listen port too large",
	    "[listen]\naddress = 127.0.0.1:65536\n[primary]\n"
	    "url = http://127.0.0.1:8080\n", {
	    { 2, "[listen] address = \"127.0.0.1:65536\": expected "
		"host:port" } } },
	{ "listen bare IPv6",
	    "[listen]\naddress = ::1:80\n[primary]\n"
	    "url = http://127.0.0.1:8080\n", {
	    { 2, "[listen] address = \"::1:80\": expected host:port" } } },
	{ "listen IPv6 without port",
	    "[listen]\naddress = [::1]\n[primary]\n"
	    "url = http://127.0.0.1:8080\n", {
	    { 2, "[listen] address = \"[::1]\": expected host:port" } } },
	{ "listen port not a number",
	    "[listen]\naddress = 127.0.0.1:http\n[primary]\n"
	    "url = http://127.0.0.1:8080\n", {
	    { 2, "[listen] address = \"127.0.0.1:http\": expected "
		"host:port" } } },
	{ "https url with a bad CA file",
	    "[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = https://127.0.0.1:8443\nca_file = /dev/null\n", {
	    { 5, "[primary] ca_file = \"/dev/null\": expected a file of PEM "
		"CA certificates" } } },
	{ "ftp url",
	    "[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = ftp://127.0.0.1:21\n", {
	    { 4, "[primary] url = \"ftp://127.0.0.1:21\": expected a URL "
		"such as http://127.0.0.1:8080 or https://api.internal" } } },
	{ "listen address twice",
	    "[listen]\naddress = 127.0.0.1:8080\naddress = 127.0.0.1:8080\n"
	    "[primary]\nurl = http://127.0.0.1:1\n", {
	    { 3, "[listen] address = 127.0.0.1:8080: the same address as "
		"line 2" } } },
	{ "tls listener without a certificate",
	    "[listen]\naddress = 127.0.0.1:0 tls\n"
	    "[primary]\nurl = http://127.0.0.1:1\n", {
	    { 2, "[listen] address = 127.0.0.1:0 tls: expected a [tls] "
		"certificate = CHAIN KEY for it" } } },
	{ "listen address with a bad word",
	    "[listen]\naddress = 127.0.0.1:0 ssl\n"
	    "[primary]\nurl = http://127.0.0.1:1\n", {
	    { 2, "[listen] address = \"127.0.0.1:0 ssl\": expected host:port, "
		"and tls if clients speak TLS there" } } },
	{ "tls certificate missing",
	    BASE "[tls]\ncertificate = /nonexistent.pem /nonexistent.key\n", {
	    { 6, "[tls] certificate = \"/nonexistent.pem /nonexistent.key\": "
		"expected a certificate chain and its key, in PEM files: "
		"/nonexistent.pem: no such file" } } },
	{ "tls certificate one path", BASE "[tls]\ncertificate = /x.pem\n", {
	    { 6, "expected a certificate chain and its key, in PEM files: "
		"two paths" } } },
	{ "tls protocols", BASE "[tls]\nprotocols = SSLv3\n", {
	    { 6, "[tls] protocols = \"SSLv3\": expected TLSv1.2, TLSv1.3 or "
		"both" } } },
	{ "tls ciphers", BASE "[tls]\nciphers = NOPE\n", {
	    { 6, "[tls] ciphers = \"NOPE\": expected an OpenSSL cipher list" } } },
	{ "tls ciphersuites", BASE "[tls]\nciphersuites = TLS_NOPE\n", {
	    { 6, "[tls] ciphersuites = \"TLS_NOPE\": expected TLS 1.3 suites" } } },
	{ "verify not a boolean", BASE "[primary]\nverify = maybe\n", {
	    { 6, "[primary] verify = \"maybe\": expected yes or no" } } },
	{ "url without scheme",
	    "[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = 127.0.0.1:8080\n", {
	    { 4, "[primary] url = \"127.0.0.1:8080\": expected a URL such as "
		"http://127.0.0.1:8080" } } },
	{ "url with path",
	    "[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "url = http://127.0.0.1:8080/api\n", {
	    { 4, "[primary] url = \"http://127.0.0.1:8080/api\": expected a "
		"URL with no path, such as http://127.0.0.1:8080 (requests "
		"keep their own path)" } } },
	{ "url without host",
	    "[listen]\naddress = 127.0.0.1:0\n[primary]\nurl = http://\n", {
	    { 4, "[primary] url = \"http://\": expected a URL such as "
		"http://127.0.0.1:8080" } } },
	{ "missing primary url",
	    "[listen]\naddress = 127.0.0.1:0\n[primary]\n"
	    "pool_size = 1\n", {
	    { 0, "[primary] url is required" } } },
	{ "missing listen address",
	    "[listen]\nbacklog = 5\n[primary]\n"
	    "url = http://127.0.0.1:8080\n", {
	    { 0, "[listen] address is required" } } },
	{ "empty file", "", {
	    { 0, "[listen] address is required" },
	    { 0, "[primary] url is required" } } },
	{ "line without =", BASE "[server]\nworkers\n", {
	    { 6, "expected 'key = value', a [section] or a comment" } } },
	{ "section without ]", BASE "[server\n", {
	    { 5, "section header has no closing ']'" } } },
	{ "line too long", BASE "[server]\nworkers = 2 ; "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\nworkers = 3\n", {
	    { 6, "line longer than 198 bytes: continue a long value on "
		"indented lines" } } },
	{ "indented key after a key",
	    BASE "[server]\nworkers = 2\n  drain_timeout = 5s\n", {
	    { 6, "[server] workers = \"2 drain_timeout = 5s\": expected a "
		"whole number" },
	    { 7, "indented line continues the value of workers; to start a "
		"key, remove the indentation" } } },
	{ "route named default", BASE "[route default]\nmatch = /a\n", {
	    { 5, "[route default]: the name default stands for requests no "
		"route matches, in the log and the metrics; name the route "
		"otherwise" } } },
	{ "route without match", BASE "[route a]\nmethods = GET\n"
	    "ignore = /x\n", {
	    { NO_MATCH_LINE(5, 6), "[route a] has no match key: expected "
		"match = /path/pattern" } } },
	{ "route pattern with * in a segment",
	    BASE "[route a]\nmatch = /a*b\n", {
	    { 6, "[route a] match = \"/a*b\": expected a path pattern whose "
		"'*' stands for a whole segment, such as /users/*/orders" } } },
	{ "route pattern with ** inside",
	    BASE "[route a]\nmatch = /**/x\n", {
	    { 6, "[route a] match = \"/**/x\": expected a path pattern with "
		"'**' only as its last segment, such as /api/**" } } },
	{ "route pattern without /", BASE "[route a]\nmatch = users/*\n", {
	    { 6, "[route a] match = \"users/*\": expected a path pattern "
		"starting with '/', such as /users/* or /api/**" } } },
	{ "route pattern with a query",
	    BASE "[route a]\nmatch = /a?b\n", {
	    { 6, "[route a] match = \"/a?b\": expected a path pattern "
		"starting with '/'" } } },
	{ "route methods lowercase",
	    BASE "[route a]\nmatch = /a\nmethods = GET post\n", {
	    { 7, "[route a] methods = \"GET post\": expected HTTP methods in "
		"capitals, such as GET HEAD" } } },
	{ "route methods empty", BASE "[route a]\nmatch = /a\nmethods =\n", {
	    { 7, "[route a] methods = \"\": expected at least one method, "
		"such as GET HEAD" } } },
	{ "route section without name", BASE "[route]\nmatch = /a\n", {
	    { 5, "bad section [route]: expected [route NAME] with NAME made "
		"of letters, digits, '_', '-' and '.'" } } },
	{ "route section with two names",
	    BASE "[route a b]\nmatch = /a\n", {
	    { 5, "bad section [route a b]: expected [route NAME]" } } },
	{ "route section with a bad name",
	    BASE "[route a/b]\nmatch = /a\n", {
	    { 5, "bad section [route a/b]: expected [route NAME]" } } },
	{ "routes section", BASE "[routes]\nmatch = /a\n", {
	    { 5, "bad section [routes]: expected [route NAME]" } } },
	{ "bad rule value", BASE "[diff]\nignore = no-pointer\n", {
	    { 6, "[diff] ignore = \"no-pointer\": expected " } } },
	{ "ignore_like bad regex",
	    BASE "[diff]\nignore_like = /token regex:^(a|b$\n", {
	    { 6, "[diff] ignore_like = \"/token regex:^(a|b$\": expected a "
		"valid regular expression: regex:^(a|b$: missing closing "
		"parenthesis at offset 6 (for /token)" } } },
	{ "ignore_like unknown shape",
	    BASE "[route t]\nmatch = /t\nignore_like = /token base64url:43 "
	    "/id guid\n", {
	    { 7, "[route t] ignore_like = \"/token base64url:43 /id guid\": "
		"expected a value shape (string, uuid, rfc3339, hex, digits, "
		"base64 or base64url, each maybe with :LENGTH or :MIN-MAX, or "
		"regex:EXPRESSION), not guid (for /id)" } } },
	{ "ignore_like without a shape", BASE "[diff]\nignore_like = /token\n", {
	    { 6, "[diff] ignore_like = \"/token\": expected a value shape "
		"after /token" } } },
	{ "allow_added", BASE "[route t]\nmatch = /t\nallow_added = all\n", {
	    { 7, "[route t] allow_added = \"all\": expected yes, no, or JSON "
		"Pointer patterns" } } },
	{ "shape_only", BASE "[diff]\nshape_only = recs\n", {
	    { 6, "[diff] shape_only = \"recs\": expected yes, no, or JSON "
		"Pointer patterns" } } },
	{ "status_equal", BASE "[route t]\nmatch = /t\nstatus_equal = 5xx "
	    "404=4100\n", {
	    { 7, "[route t] status_equal = \"5xx 404=4100\": expected status "
		"classes (5xx, or class for all) and equal codes (404=410), or "
		"no; 404=4100 is neither" } } },
	{ "volatile_headers", BASE "[diff]\nvolatile_headers = default "
	    "x-b3-*-id\n", {
	    { 6, "[diff] volatile_headers = \"default x-b3-*-id\": expected "
		"header names (a name prefix ends in *, as x-b3-*), default, or "
		"no; x-b3-*-id is none of them" } } },
};

/* Each bad file gives exactly its errors, at the right lines. */
START_TEST(bad_file)
{
	size_t	 n;

	for (n = 0; n < MAX_EXPECTED && bad_cases[_i].want[n].phrase != NULL;
	    n++)
		;
	check_bad(bad_cases[_i].name, bad_cases[_i].text, bad_cases[_i].want,
	    n);
}
END_TEST

/*
 * Several errors of every pass (reader, table, routes, missing keys) are
 * all reported, in line order, though found in another order.
 */
START_TEST(errors_all_reported)
{
	static const char	 text[] =
	    "[route r]\n"			/* 1 */
	    "match = /r\n"			/* 2 */
	    "methods = get\n"			/* 3 */
	    "[listen]\n"			/* 4 */
	    "address = 127.0.0.1:0\n"		/* 5 */
	    "[server]\n"			/* 6 */
	    "workers = x\n"			/* 7 */
	    "workers = 2\n"			/* 8 */
	    "[bogus]\n"				/* 9 */
	    "[limits]\n"			/* 10 */
	    "max_header_bytes = 1\n"		/* 11 */
	    "oops\n";				/* 12 */
	static const struct want want[] = {
		{ 0, "[primary] url is required" },
		{ 3, "[route r] methods = \"get\": expected HTTP methods" },
		{ 7, "[server] workers = \"x\": expected a whole number" },
		{ 8, "[server] duplicate key \"workers\" (first set at line "
		    "7)" },
		{ 9, "unknown section [bogus]" },
		{ 11, "[limits] max_header_bytes = \"1\": expected a size from "
		    "1024 to 1048576 bytes" },
		{ 12, "expected 'key = value', a [section] or a comment" },
	};

	check_bad("all errors", text, want, nitems(want));
}
END_TEST

/* After 20 errors the rest are counted, not listed. */
START_TEST(errors_capped)
{
	char		 text[4096];
	char		*cause, *last;
	struct config	*cfg;
	size_t		 i, len, lines = 0;

	len = (size_t)snprintf(text, sizeof(text), "%s[server]\n", BASE);
	for (i = 0; i < 25; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "bad%zu\n", i);
	cfg = load_text(text, &cause);
	ck_assert_ptr_null(cfg);
	for (i = 0; cause[i] != '\0'; i++)
		if (cause[i] == '\n')
			lines++;
	ck_assert_uint_eq(lines, 20);
	last = strrchr(cause, '\n') + 1;
	ck_assert_msg(strstr(last, ": ... and 5 more errors") != NULL,
	    "last line: %s", last);
	ck_assert_msg(strstr(cause, "test.conf:6: expected 'key = value'") !=
	    NULL, "%s", cause);
	free(cause);
}
END_TEST

/* A NUL byte in a line is an error of its own. */
START_TEST(nul_byte)
{
	static const char	 text[] = BASE "[server]\nwork\0ers = 2\n";
	static const struct want want[] = {
		{ 6, "NUL byte in line" },
	};
	struct config		*cfg;
	char			*cause = NULL;

	write_conf_len(text, sizeof(text) - 1);
	cfg = config_load(conf_path, &cause);
	ck_assert_ptr_null(cfg);
	check_cause("nul", cause, want, nitems(want));
	free(cause);
}
END_TEST

/* A file that does not exist: its name and strerror. */
START_TEST(missing_file)
{
	struct config	*cfg;
	char		*cause = NULL, want[PATH_MAX + 64];

	cfg = config_load(missing_path, &cause);
	ck_assert_ptr_null(cfg);
	snprintf(want, sizeof(want), "%s: No such file or directory",
	    missing_path);
	ck_assert_str_eq(cause, want);
	free(cause);
}
END_TEST

/*
 * Regressions: bugs found in src/config.c, each test failed before its fix.
 */

/*
 * Regression: inih does not trim a section name, so "[ limits ]" becomes
 * the section " limits ". The reader trims it, finds it known and says
 * nothing; apply() then skips every key of it as an unknown section's.
 * The value is silently dropped: it must be applied or rejected.
 */
START_TEST(bug_section_blanks)
{
	struct config	*cfg;
	char		*cause = NULL;

	cfg = load_text(BASE "[ limits ]\nmax_header_bytes = 8KiB\n", &cause);
	if (cfg != NULL) {
		ck_assert_msg(cfg->max_header_bytes == 8192, "[ limits ] "
		    "max_header_bytes = 8KiB silently ignored (got %llu)",
		    (unsigned long long)cfg->max_header_bytes);
		config_unref(cfg);
	} else {
		ck_assert_msg(strstr(cause, "test.conf:5: ") != NULL, "%s",
		    cause);
		free(cause);
	}
}
END_TEST

/*
 * Regression: a key before the first section header goes to the section
 * "", which is neither reported nor applied.
 */
START_TEST(bug_key_before_section)
{
	static const struct want want[] = {
		{ 1, "workers" },
	};
	struct config	*cfg;
	char		*cause = NULL;

	cfg = load_text("workers = 2\n" BASE, &cause);
	if (cfg != NULL) {
		ck_assert_msg(0, "workers = 2 before any section silently "
		    "ignored (workers %llu)",
		    (unsigned long long)cfg->workers);
		config_unref(cfg);
	}
	check_cause("key before section", cause, want, nitems(want));
	free(cause);
}
END_TEST

/*
 * Regression: a [route NAME] section with no key at all creates no route,
 * so it is not reported as a route without match.
 */
START_TEST(bug_route_empty)
{
	static const struct want want[] = {
		{ 5, "[route a] has no match key" },
	};
	struct config	*cfg;
	char		*cause = NULL;

	cfg = load_text(BASE "[route a]\n", &cause);
	if (cfg != NULL) {
		ck_assert_msg(0, "empty [route a] silently ignored (%zu "
		    "routes)", cfg->nroutes);
		config_unref(cfg);
	}
	check_cause("empty route", cause, want, nitems(want));
	free(cause);
}
END_TEST

/*
 * Regression: "has no match key" is reported at the route's first key,
 * though struct config_route's line is documented as "where the section
 * starts" and the section header is the line to look at.
 */
START_TEST(bug_route_line)
{
	static const struct want want[] = {
		{ 5, "[route a] has no match key" },
	};

	check_bad("route line", BASE "[route a]\n# methods\nmethods = GET\n",
	    want, nitems(want));
}
END_TEST

/*
 * Regression: inih keeps at most 49 bytes of a section name, so a route
 * name longer than 43 bytes is silently cut (and two such routes that
 * share their first 43 bytes are merged into one).
 */
START_TEST(bug_route_long_name)
{
	static const char	 name[] =
	    "a_route_name_that_is_longer_than_the_buffer_of_inih";
	struct config		*cfg;
	char			 text[512], *cause = NULL;

	snprintf(text, sizeof(text), "%s[route %s]\nmatch = /a\n", BASE,
	    name);
	cfg = load_text(text, &cause);
	if (cfg == NULL) {
		ck_assert_msg(strstr(cause, "test.conf:5: ") != NULL, "%s",
		    cause);
		free(cause);
		return;
	}
	ck_assert_uint_eq(cfg->nroutes, 1);
	ck_assert_msg(config_route_find(cfg, name) != NULL, "route name cut "
	    "to \"%s\"", cfg->routes[0].name);
	config_unref(cfg);
}
END_TEST

/*
 * Regression: split_hostport() frees *host when the port is bad, or when
 * the host has a ':' outside brackets, but leaves the pointer; for a URL
 * that is &b->host, which config_free() frees again: a double free
 * (abort) on a mistyped port.
 */
static const char *const bug_url_cases[] = {
	"http://127.0.0.1:99999",
	"http://127.0.0.1:port",
	"http://::1:80",
};

/* Regression: a bad URL port must be an error, not a crash. */
START_TEST(bug_url_bad_port)
{
	struct want	 want[1];
	char		 text[256], phrase[128];

	snprintf(text, sizeof(text), "[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = %s\n", bug_url_cases[_i]);
	snprintf(phrase, sizeof(phrase), "[primary] url = \"%s\": expected "
	    "a URL such as http://127.0.0.1:8080", bug_url_cases[_i]);
	want[0].line = 4;
	want[0].phrase = phrase;
	check_bad(bug_url_cases[_i], text, want, 1);
}
END_TEST

/*
 * Regression: inih 55 (Debian 12) does not cut an inline "; comment" off
 * an indented continuation line, so it ends up in the value, though the
 * same comment on the key's own line is cut.
 */
START_TEST(bug_continuation_comment)
{
	struct config	*cfg;
	char		*cause = NULL;

	cfg = load_text(BASE "[route r]\nmatch = /r\nmethods = GET ; reads\n"
	    "  HEAD ; and heads\n", &cause);
	ck_assert_msg(cfg != NULL, "%s", cause);
	ck_assert_str_eq(cfg->routes[0].methods[0], "GET");
	ck_assert_str_eq(cfg->routes[0].methods[1], "HEAD");
	ck_assert_ptr_null(cfg->routes[0].methods[2]);
	config_unref(cfg);
}
END_TEST

/* The config suite. */
static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("values");
	tcase_add_loop_test(tc, duration_good, 0, nitems(good_durations));
	tcase_add_loop_test(tc, duration_bad, 0, nitems(bad_durations));
	tcase_add_loop_test(tc, size_good, 0, nitems(good_sizes));
	tcase_add_loop_test(tc, size_bad, 0, nitems(bad_sizes));
	tcase_add_loop_test(tc, percent_good, 0, nitems(good_percents));
	tcase_add_loop_test(tc, percent_bad, 0, nitems(bad_percents));
	tcase_add_loop_test(tc, bool_good, 0, nitems(good_bools));
	tcase_add_loop_test(tc, bool_bad, 0, nitems(bad_bools));
	tcase_add_test(tc, split_words);
	suite_add_tcase(s, tc);

	tc = tcase_create("good");
	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, mirror_keys);
	tcase_add_test(tc, route_redact_body);
	tcase_add_test(tc, workers_auto);
	tcase_add_test(tc, bounds_inclusive);
	tcase_add_test(tc, listen_several);
	tcase_add_loop_test(tc, url_good, 0, nitems(good_urls));
	tcase_add_test(tc, comments);
	tcase_add_test(tc, comment_inline_needs_blank);
	tcase_add_test(tc, continuation_lines);
	tcase_add_test(tc, line_at_limit);
	tcase_add_test(tc, routes_parsed);
	tcase_add_test(tc, rule_keys_delegated);
	tcase_add_test(tc, rule_keys_all);
	tcase_add_test(tc, rule_keys_like_shape);
	tcase_add_test(tc, check_mode_bad_regex);
	tcase_add_loop_test(tc, route_match, 0, nitems(route_cases));
	tcase_add_test(tc, route_match_len);
	tcase_add_test(tc, ref_unref);
	tcase_add_test(tc, load_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_loop_test(tc, bad_file, 0, nitems(bad_cases));
	tcase_add_test(tc, errors_all_reported);
	tcase_add_test(tc, errors_capped);
	tcase_add_test(tc, nul_byte);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("regressions");
	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, bug_section_blanks);
	tcase_add_test(tc, bug_key_before_section);
	tcase_add_test(tc, bug_route_empty);
	tcase_add_test(tc, bug_route_line);
	tcase_add_test(tc, bug_route_long_name);
	tcase_add_loop_test(tc, bug_url_bad_port, 0, nitems(bug_url_cases));
	tcase_add_test(tc, bug_continuation_comment);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the config suite. */
int
main(void)
{
	return (tu_run(config_suite()));
}
