/*
 * Tests of shadowdiff-compare: the built program is run on files written
 * to a temporary directory, and its exit status, standard output and
 * standard error are checked.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "testutil.h"

#define OUT_MAX		65536	/* of each stream kept */

static char	 tmpdir[] = "/tmp/check_compare.XXXXXX";
static char	 prog[PATH_MAX];
static char	 out[OUT_MAX];
static char	 err[OUT_MAX];

/* Where the program is: $top_builddir (make check) or here. */
static void
setup(void)
{
	const char	*top = getenv("top_builddir");

	if (top != NULL)
		snprintf(prog, sizeof(prog), "%s/shadowdiff-compare", top);
	else if (realpath("shadowdiff-compare", prog) == NULL)
		snprintf(prog, sizeof(prog), "./shadowdiff-compare");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
}

/* Removes the files of a test and the directory. */
static void
teardown(void)
{
	char	 cmd[PATH_MAX + 16];

	if (chdir("/") == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

/* Writes LEN bytes to the file NAME. */
static void
put(const char *name, const void *data, size_t len)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(name, "wb"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Writes a string to the file NAME. */
static void
puts_file(const char *name, const char *s)
{
	put(name, s, strlen(s));
}

/* Runs the program with the NULL-terminated arguments; its exit status. */
static int
run(const char *arg, ...)
{
	va_list	 ap;
	int	 status;

	va_start(ap, arg);
	status = tu_run_va(prog, NULL, out, err, OUT_MAX, arg, ap);
	va_end(ap);
	return (status);
}

#define EQUAL_JSON	"{\"diffs\":[],\"forgiven\":{},\"notes\":[]}\n"

/* The two responses most tests use: equal but written differently. */
static void
put_pair(void)
{
	puts_file("p.http", "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
	    "Content-Length: 44\r\n\r\n"
	    "{\"id\":1,\"at\":\"2024-01-02T03:04:05.1Z\",\"n\":1}");
	/* Date's value is volatile: only its presence is compared. */
	puts_file("s.http", "HTTP/1.1 200 OK\r\n"
	    "content-type: application/json\r\n"
	    "date: Mon, 01 Jan 2024 00:00:01 GMT\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "10\r\n{\"n\":1.0,\"at\":\"2\r\n"
	    "1e;ext=1\r\n024-01-02T03:04:05.1Z\",\"id\":1}\r\n"
	    "0\r\nX-Trailer: 1\r\n\r\n");
}

START_TEST(test_equal)
{
	put_pair();
	ck_assert_int_eq(run("p.http", "s.http", NULL), 0);
	ck_assert_str_eq(out, EQUAL_JSON);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(run("--text", "p.http", "s.http", NULL), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_differ)
{
	put_pair();
	puts_file("d.http", "HTTP/1.1 500 Internal Server Error\n"
	    "Content-Type: application/json\n"
	    "Date: Mon, 01 Jan 2024 00:00:02 GMT\n"
	    "X-New: 1\n\n"
	    "{\"id\":2,\"at\":\"2024-01-02T03:04:05.100Z\"}");
	ck_assert_int_eq(run("p.http", "d.http", NULL), 1);
	ck_assert_str_eq(out, "{\"diffs\":["
	    "{\"kind\":\"status\",\"path\":\"\",\"op\":\"changed\","
	    "\"primary\":200,\"shadow\":500},"
	    "{\"kind\":\"header\",\"path\":\"x-new\",\"op\":\"added\","
	    "\"shadow\":\"1\"},"
	    "{\"kind\":\"body\",\"path\":\"/id\",\"op\":\"changed\","
	    "\"primary\":1,\"shadow\":2},"
	    "{\"kind\":\"body\",\"path\":\"/at\",\"op\":\"changed\","
	    "\"primary\":\"2024-01-02T03:04:05.1Z\","
	    "\"shadow\":\"2024-01-02T03:04:05.100Z\"},"
	    "{\"kind\":\"body\",\"path\":\"/n\",\"op\":\"removed\","
	    "\"primary\":1}],\"forgiven\":{},\"notes\":[]}\n");
	ck_assert_int_eq(run("--text", "p.http", "d.http", NULL), 1);
	ck_assert_str_eq(out, "status changed: 200 -> 500\n"
	    "header x-new added: (none) -> \"1\"\n"
	    "body /id changed: 1 -> 2\n"
	    "body /at changed: \"2024-01-02T03:04:05.1Z\" -> "
	    "\"2024-01-02T03:04:05.100Z\"\n"
	    "body /n removed: 1 -> (none)\n");
}
END_TEST

START_TEST(test_rules)
{
	put_pair();
	puts_file("d.http", "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Date: Tue, 02 Jan 2024 00:00:00 GMT\r\n\r\n"
	    "{\"id\":1,\"at\":\"2024-01-02T04:04:05.100+01:00\",\"n\":1,"
	    "\"extra\":null}");
	ck_assert_int_eq(run("-r", "timestamps = instant", "-r",
	    "missing_equals_default=yes", "p.http", "d.http", NULL), 0);
	ck_assert_str_eq(out, "{\"diffs\":[],\"forgiven\":{\"timestamps\":1,"
	    "\"missing_equals_default\":1},\"notes\":[]}\n");
	ck_assert_int_eq(run("-r", "profile=go-rust", "p.http", "d.http",
	    NULL), 1);
	ck_assert_str_eq(out, "{\"diffs\":[{\"kind\":\"body\",\"path\":"
	    "\"/extra\",\"op\":\"added\",\"shadow\":null}],\"forgiven\":"
	    "{\"timestamps\":1},\"notes\":[]}\n");
}
END_TEST

/* The rules of issue 17 through the tool: the same engine. */
START_TEST(test_rules_like_shape)
{
	puts_file("e1.http", "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nTraceparent: 00-a-b-01\r\n\r\n"
	    "{\"token\":\"abc_DEF-1\",\"recs\":[{\"id\":1},{\"id\":2}]}");
	puts_file("e2.http", "HTTP/1.1 500 Internal Server Error\r\n"
	    "Content-Type: application/json\r\nTraceparent: 00-c-d-01\r\n\r\n"
	    "{\"token\":\"xyz_123-4\",\"recs\":[{\"id\":7}],\"v\":2}");
	ck_assert_int_eq(run("-r", "status_equal=5xx", "-r",
	    "ignore_like=/token base64url:9", "-r", "shape_only=/recs", "-r",
	    "allow_added=yes", "e1.http", "e2.http", NULL), 0);
	ck_assert_str_eq(out, "{\"diffs\":[],\"forgiven\":{\"status_equal "
	    "5xx\":1,\"ignore_like /token base64url:9\":1,\"shape_only "
	    "/recs\":1,\"allow_added\":1},\"notes\":[]}\n");
	/* The token is not of the shape on the shadow: reported. */
	ck_assert_int_eq(run("-r", "status_equal=5xx", "-r",
	    "ignore_like=/token regex:[a-z]{3}_[A-Z]{3}-\\d", "e1.http",
	    "e2.http", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out, "\"path\":\"/token\",\"op\":"
	    "\"changed\""));
	ck_assert_int_eq(run("-r", "ignore_like=/token regex:a)", "e1.http",
	    "e2.http", NULL), 2);
	ck_assert_msg(strstr(err, "regex:a): unmatched closing parenthesis at "
	    "offset 1 (for /token)") != NULL, "%s", err);
}
END_TEST

START_TEST(test_bare_bodies)
{
	puts_file("a.json", "{\"a\":[1,2],\"b\":\"\\u003c\"}\n");
	puts_file("b.json", "{\"b\":\"<\",\"a\":[1,2.0]}");
	ck_assert_int_eq(run("a.json", "b.json", NULL), 0);
	ck_assert_int_eq(run("--content-type", "application/json", "a.json",
	    "b.json", NULL), 0);
	ck_assert_int_eq(run("--content-type", "text/plain", "a.json",
	    "b.json", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out, "\"offset\":2,"));
	/* --body: a file that looks like a response is compared whole. */
	put_pair();
	ck_assert_int_eq(run("--body", "p.http", "s.http", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out, "\"offset\":17,"));
}
END_TEST

START_TEST(test_framing)
{
	const char	*body = "{\"z\":[true,false,null]}";
	unsigned char	 gz[256];
	char		 head[256], file[512];
	z_stream	 z;
	size_t		 n, len;

	/* gzip in the saved file against identity. */
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 9,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)body;
	z.avail_in = (uInt)strlen(body);
	z.next_out = gz;
	z.avail_out = sizeof(gz);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	len = sizeof(gz) - z.avail_out;
	deflateEnd(&z);
	n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	memcpy(file, head, n);
	memcpy(file + n, gz, len);
	put("gz.http", file, n + len);
	puts_file("id.http", "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\n\r\n"
	    "{\"z\":[true,false,null]}");
	ck_assert_int_eq(run("gz.http", "id.http", NULL), 0);
	ck_assert_str_eq(out, EQUAL_JSON);
	/* Bytes past Content-Length are not the body. */
	puts_file("cl.http", "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n"
	    "Content-Type: application/json\r\n\r\n"
	    "{\"z\":[true,false,null]}HTTP/1.1 200 OK\r\n\r\n");
	ck_assert_int_eq(run("cl.http", "id.http", NULL), 0);
	/* A file shorter than its Content-Length was saved short. */
	puts_file("short.http", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n"
	    "Content-Type: application/json\r\n\r\n{\"z\":[true,false,null]}");
	ck_assert_int_eq(run("short.http", "id.http", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"notes\":[{\"side\":\"primary\","
	    "\"note\":\"truncated\""));
	/* HTTP/2 as curl -i saves it, and LF line ends. */
	puts_file("h2.http", "HTTP/2 200\ncontent-type: application/json\n\n"
	    "{\"z\":[true,false,null]}");
	ck_assert_int_eq(run("h2.http", "id.http", NULL), 0);
	/* --limit cuts long values. */
	puts_file("long.json", "[\"0123456789012345678901234567890123456789\"]");
	puts_file("other.json", "[1]");
	ck_assert_int_eq(run("--limit", "10", "long.json", "other.json",
	    NULL), 1);
	ck_assert_ptr_nonnull(strstr(out, "\"primary\":\"\\\"012345678\","
	    "\"shadow\":1,\"truncated\":true}"));
}
END_TEST

START_TEST(test_config)
{
	put_pair();
	puts_file("d.http", "HTTP/1.1 200 OK\r\n"
	    "Content-Type: application/json\r\nServer: axum\r\n"
	    "Date: Tue, 02 Jan 2024 00:00:00 GMT\r\n\r\n"
	    "{\"id\":1,\"at\":\"x\",\"n\":[]}");
	puts_file("c.conf", "[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:9\n"
	    "[diff]\nignore = /at\nignore_headers = server\n"
	    "[route items]\nmatch = /items/*\nignore = /n\n");
	ck_assert_int_eq(run("-c", "c.conf", "p.http", "d.http", NULL), 1);
	ck_assert_str_eq(out, "{\"diffs\":[{\"kind\":\"body\",\"path\":\"/n\","
	    "\"op\":\"type\",\"primary\":1,\"shadow\":[]}],\"forgiven\":"
	    "{\"ignore_headers server\":1,\"ignore /at\":1},\"notes\":[]}\n");
	ck_assert_int_eq(run("-c", "c.conf", "--route", "items", "p.http",
	    "d.http", NULL), 0);
	ck_assert_str_eq(out, "{\"diffs\":[],\"forgiven\":{\"ignore_headers "
	    "server\":1,\"ignore /at\":1,\"ignore /n\":1},\"notes\":[]}\n");
	/* -r adds to the route's rules. */
	ck_assert_int_eq(run("-c", "c.conf", "--route", "items", "-r",
	    "ignore = \"\"", "p.http", "d.http", NULL), 0);
	ck_assert_int_eq(run("-c", "c.conf", "--route", "nope", "p.http",
	    "d.http", NULL), 2);
	ck_assert_str_eq(err, "shadowdiff-compare: c.conf: no [route nope]\n");
	puts_file("bad.conf", "[listen]\naddress = 127.0.0.1:0\n"
	    "[primary]\nurl = http://127.0.0.1:9\n"
	    "[diff]\nignore = /a/b*\n");
	ck_assert_int_eq(run("-c", "bad.conf", "p.http", "d.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "bad.conf:6: [diff] ignore"));
	ck_assert_ptr_nonnull(strstr(err, "only as a whole segment"));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_errors)
{
	put_pair();
	ck_assert_int_eq(run("p.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "usage: shadowdiff-compare"));
	ck_assert_int_eq(run("--route", "x", "p.http", "s.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "--route needs -c"));
	ck_assert_int_eq(run("--bogus", "p.http", "s.http", NULL), 2);
	ck_assert_int_eq(run("missing.http", "s.http", NULL), 2);
	ck_assert_str_eq(err, "shadowdiff-compare: missing.http: No such file "
	    "or directory\n");
	ck_assert_int_eq(run("-r", "ignore=items", "p.http", "s.http", NULL),
	    2);
	ck_assert_str_eq(err, "shadowdiff-compare: -r ignore = items: expected "
	    "a JSON Pointer pattern starting with '/', or \"\" for the whole "
	    "document, not items\n");
	ck_assert_int_eq(run("-r", "colour=blue", "p.http", "s.http", NULL),
	    2);
	ck_assert_str_eq(err, "shadowdiff-compare: -r colour: not a diff "
	    "rule\n");
	ck_assert_int_eq(run("-r", "ignore", "p.http", "s.http", NULL), 2);
	ck_assert_int_eq(run("--cap", "lots", "p.http", "s.http", NULL), 2);
	ck_assert_int_eq(run("--limit", "-", "p.http", "s.http", NULL), 2);
	puts_file("bad1.http", "HTTP/1.1 OK\r\n\r\n");
	ck_assert_int_eq(run("bad1.http", "s.http", NULL), 2);
	ck_assert_str_eq(err, "shadowdiff-compare: bad1.http: invalid status "
	    "line\n");
	puts_file("bad2.http", "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n");
	ck_assert_int_eq(run("bad2.http", "s.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "invalid header line"));
	puts_file("bad3.http", "HTTP/1.1 200 OK\r\nX: 1\r\n");
	ck_assert_int_eq(run("bad3.http", "s.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "no blank line ends the headers"));
	puts_file("bad4.http", "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n");
	ck_assert_int_eq(run("bad4.http", "s.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "invalid chunk size"));
	puts_file("bad5.http", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n");
	ck_assert_int_eq(run("bad5.http", "s.http", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err, "invalid Content-Length"));
	ck_assert_int_eq(run("-h", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: shadowdiff-compare"));
}
END_TEST

static Suite *
compare_suite(void)
{
	const TTest	*tests[] = { test_equal, test_differ, test_rules,
	    test_rules_like_shape, test_bare_bodies, test_framing, test_config,
	    test_errors, NULL };

	return (tu_suite("compare", tu_tcase("compare", 0, setup, teardown),
	    tests));
}

int
main(void)
{
	return (tu_run(compare_suite()));
}
