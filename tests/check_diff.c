/*
 * Tests of the diff engine through its public interface (diff.h): each
 * case gives two responses and the rules, and the exact list of
 * differences expected as "PATH OP" (body), "h:NAME OP" (header) or
 * "status", in the order the engine reports them, with the forgiven
 * counts and notes where they matter.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "shadowdiff/diff.h"
#include "diff-int.h"
#include "testutil.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_HEADERS	32

#define JSON		"application/json"

/* Two 43-character base64url tokens, and one of 42. */
#define B64A		"q3Kx9-_aZ0lM4nP8rT2vW6yB1cD5eF7gH0iJ3kL9mN_"
#define B64B		"Zz0Yy1Xx2Ww3Vv4Uu5Tt6Ss7Rr8Qq9Pp0Oo1Nn2Mm3L"
#define B64A_42		"q3Kx9-_aZ0lM4nP8rT2vW6yB1cD5eF7gH0iJ3kL9mN"
#define NO_TYPE		""

/* A case of body comparison. */
struct body_case {
	const char	*name;
	const char	*a;		/* primary body */
	const char	*b;		/* shadow body */
	const char	*rules;		/* "key = value" lines */
	const char	*want;		/* "PATH OP, ..." or "" */
	const char	*forgiven;	/* the forgiven object, or NULL */
	const char	*notes;		/* "SIDE NOTE, ..." or NULL */
	const char	*type_a;	/* media types; NULL: JSON */
	const char	*type_b;
};

/* A case of status and header comparison (bodies equal). */
struct header_case {
	const char	*name;
	int		 status_a;
	int		 status_b;
	const char	*ha;		/* "Name: value" lines */
	const char	*hb;
	const char	*rules;
	const char	*want;
	const char	*forgiven;
};

/* A rule setting and what it must answer. */
struct rule_case {
	const char	*key;
	const char	*value;
	int		 rc;
	const char	*cause;		/* a part of the reason, if rc -1 */
};

static const struct body_case body_cases[] = {
	/* Representation never matters. */
	{ "key order", "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", NULL, "",
	    "{}" },
	{ "whitespace", "{\"a\":[1,2]}", "{ \"a\" :\t[ 1 ,\r\n 2 ] }", NULL,
	    "" },
	{ "trailing newline (Go's Encoder)", "{\"a\":1}\n", "{\"a\":1}", NULL,
	    "" },
	{ "escape \\u003c equals <", "{\"s\":\"\\u003c\"}", "{\"s\":\"<\"}",
	    NULL, "" },
	{ "Go's HTML escaping of <>&",
	    "{\"h\":\"\\u003ca href=\\\"x\\\"\\u003eA \\u0026 B\\u003c/a\\u003e\"}",
	    "{\"h\":\"<a href=\\\"x\\\">A & B</a>\"}", NULL, "" },
	{ "Go's escaping of U+2028 and U+2029",
	    "{\"s\":\"a\\u2028b\\u2029c\"}",
	    "{\"s\":\"a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\"}", NULL, "" },
	{ "escaped solidus", "{\"u\":\"a\\/b\"}", "{\"u\":\"a/b\"}", NULL,
	    "" },
	{ "surrogate pair against UTF-8", "{\"e\":\"\\ud83d\\ude00\"}",
	    "{\"e\":\"\xf0\x9f\x98\x80\"}", NULL, "" },
	{ "\\u0008 against \\b", "{\"c\":\"\\u0008\\u000c\\u000a\"}",
	    "{\"c\":\"\\b\\f\\n\"}", NULL, "" },
	{ "upper-case hex escape", "{\"s\":\"\\u00E9\"}",
	    "{\"s\":\"\xc3\xa9\"}", NULL, "" },
	{ "escaped key", "{\"\\u0061\":1}", "{\"a\":1}", NULL, "" },
	{ "string changed", "{\"s\":\"a\"}", "{\"s\":\"b\"}", NULL,
	    "/s changed" },
	{ "string case matters", "{\"s\":\"abc\"}", "{\"s\":\"ABC\"}", NULL,
	    "/s changed" },

	/* Numbers by exact decimal value. */
	{ "1 vs 1.0", "{\"n\":1}", "{\"n\":1.0}", NULL, "" },
	{ "1, 1e0, 10E-1, 0.1e1", "[1,1,1,1,1]",
	    "[1.0,1e0,10E-1,0.1e1,100e-2]", NULL, "" },
	{ "-0 vs 0", "[-0,0,-0.0]", "[0,-0,0e5]", NULL, "" },
	{ "trailing fraction zeros", "[12.34,1,0.1,-5,10,2.5e3]",
	    "[12.340,1.000,0.10,-5.0,10.0,2.50e3]", NULL, "" },
	{ "a zero tail that is not a fraction's", "[1,10,1.5,1.0,1]",
	    "[10,100,1.05,1.0e1,1.01]", NULL,
	    "/0 changed, /1 changed, /2 changed, /3 changed, /4 changed" },
	{ "1e16 vs 10000000000000000", "{\"n\":1e16}",
	    "{\"n\":10000000000000000}", NULL, "" },
	{ "1e-6 vs 0.000001", "{\"n\":1e-6}", "{\"n\":0.000001}", NULL, "" },
	{ "Go's 1e+21 vs ryu's 1e21", "{\"n\":1e+21}", "{\"n\":1e21}", NULL,
	    "" },
	{ "Go's 1e-07 vs 1e-7", "{\"n\":1e-07}", "{\"n\":1E-7}", NULL, "" },
	{ "u64 max equal", "{\"n\":18446744073709551615}",
	    "{\"n\":1.8446744073709551615e19}", NULL, "" },
	{ "u64 max off by one", "{\"n\":18446744073709551615}",
	    "{\"n\":18446744073709551614}", NULL, "/n changed" },
	{ "2^53+1 vs 2^53", "{\"n\":9007199254740993}",
	    "{\"n\":9007199254740992}", NULL, "/n changed" },
	{ "i64 min equal", "[-9223372036854775808]",
	    "[-9223372036854775808.000]", NULL, "" },
	{ "100-digit integers equal",
	    "[1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890]",
	    "[1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890.0]",
	    NULL, "" },
	{ "100-digit integers, last digit",
	    "[1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890]",
	    "[1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567891]",
	    NULL, "/0 changed" },
	{ "0.1 vs 0.10000000000000001 (one double)", "[0.1]",
	    "[0.10000000000000001]", NULL, "/0 changed" },
	{ "1.5 vs 1.50", "[1.5]", "[1.50]", NULL, "" },
	{ "1e400 beyond double equal", "[1e400]", "[10e399]", NULL, "" },
	{ "sign", "[-1]", "[1]", NULL, "/0 changed" },

	/* Types. */
	{ "number vs string", "{\"n\":3}", "{\"n\":\"3\"}", NULL,
	    "/n type" },
	{ "null vs 0", "{\"n\":null}", "{\"n\":0}", NULL, "/n type" },
	{ "true vs false", "{\"b\":true}", "{\"b\":false}", NULL,
	    "/b changed" },
	{ "[] vs {}", "{\"x\":[]}", "{\"x\":{}}", NULL, "/x type" },
	{ "string vs null", "[\"a\"]", "[null]", NULL, "/0 type" },
	{ "top-level scalar", "1", "2", NULL, "\"\" changed" },
	{ "top-level type", "[]", "{}", NULL, "\"\" type" },

	/* Arrays. */
	{ "shorter array", "[1,2,3]", "[1,2]", NULL, "/2 removed" },
	{ "longer array", "[1,2]", "[1,2,3,4]", NULL,
	    "/2 added, /3 added" },
	{ "order matters", "[1,2,3]", "[3,2,1]", NULL,
	    "/0 changed, /2 changed" },
	{ "nested arrays", "[[1,[2,3]],[4]]", "[[1,[2,4]],[4,5]]", NULL,
	    "/0/1/1 changed, /1/1 added" },

	/* Objects. */
	{ "added key", "{\"a\":1}", "{\"a\":1,\"b\":2}", NULL, "/b added" },
	{ "removed key", "{\"a\":1,\"b\":2}", "{\"a\":1}", NULL,
	    "/b removed" },
	{ "nested change", "{\"a\":{\"b\":{\"c\":1}}}",
	    "{\"a\":{\"b\":{\"c\":2}}}", NULL, "/a/b/c changed" },
	{ "keys with / and ~", "{\"a/b\":1,\"m~n\":2}",
	    "{\"a/b\":2,\"m~n\":3}", NULL, "/a~1b changed, /m~0n changed" },
	{ "empty key", "{\"\":1}", "{\"\":2}", NULL, "/ changed" },
	{ "reordered with changes", "{\"a\":1,\"b\":2,\"c\":3}",
	    "{\"c\":4,\"a\":1,\"d\":5}", NULL,
	    "/b removed, /c changed, /d added" },
	{ "same order then different", "{\"a\":1,\"b\":2,\"c\":3}",
	    "{\"a\":1,\"c\":3,\"b\":9}", NULL, "/b changed" },
	{ "large reordered object",
	    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
	    "\"k8\":8,\"k9\":9,\"k10\":10}",
	    "{\"k10\":10,\"k9\":9,\"k8\":8,\"k7\":7,\"k6\":6,\"k5\":5,\"k4\":4,"
	    "\"k3\":3,\"k2\":2,\"k1\":0}", NULL, "/k1 changed" },

	/* Duplicate keys. */
	{ "duplicate on the primary", "{\"a\":1,\"a\":2}", "{\"a\":2}", NULL,
	    "/a duplicate" },
	{ "duplicate on the shadow", "{\"a\":1}", "{\"a\":1,\"a\":1}", NULL,
	    "/a duplicate" },
	{ "same duplicates on both", "{\"a\":1,\"a\":2}",
	    "{\"a\": 1, \"a\": 2.0}", NULL, "" },
	{ "same duplicates, reordered", "{\"x\":0,\"a\":1,\"a\":2}",
	    "{\"a\":1,\"a\":2,\"x\":0}", NULL, "" },
	{ "duplicate, reordered object", "{\"x\":0,\"a\":1,\"a\":2}",
	    "{\"a\":1,\"x\":0}", NULL, "/a duplicate" },
	{ "duplicate only the shadow has", "{\"x\":0}",
	    "{\"x\":0,\"d\":1,\"d\":2}", NULL, "/d duplicate" },
	{ "duplicate in a large object",
	    "{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
	    "\"k8\":8,\"k9\":9,\"k1\":10}",
	    "{\"k1\":10,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
	    "\"k8\":8,\"k9\":9}", NULL, "/k1 duplicate" },

	/* Empty bodies are no document. */
	{ "empty body against null", "", "null", NULL, "\"\" added" },
	{ "null against empty body", "null", "", NULL, "\"\" removed" },
	{ "empty against empty", "", "", NULL, "" },
	{ "empty without media type against null", "", "null", NULL,
	    "\"\" added", NULL, NULL, NO_TYPE, NO_TYPE },

	/* What is not JSON, and JSON that is not valid. */
	{ "text bodies", "hello world", "hello there", NULL, "\"\" changed",
	    NULL, NULL, "text/plain", "text/plain" },
	{ "text bodies equal", "same", "same", NULL, "", NULL, NULL,
	    "text/plain", "text/plain" },
	{ "JSON text as text/plain is bytes", "{\"a\":1,\"b\":2}",
	    "{\"b\":2,\"a\":1}", NULL, "\"\" changed", NULL, NULL,
	    "text/plain", "text/plain" },
	{ "no media type, both parse", "{\"a\":1,\"b\":2}",
	    "{\"b\":2,\"a\":1}", NULL, "", NULL, NULL, NO_TYPE, NO_TYPE },
	{ "no media type, one does not parse", "{\"a\":1}", "a=1", NULL,
	    "\"\" changed", NULL, "", NO_TYPE, NO_TYPE },
	{ "+json media type", "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", NULL,
	    "", NULL, NULL, "application/problem+json",
	    "application/problem+json" },
	{ "invalid JSON on the shadow", "{\"a\":1}", "{\"a\":1", NULL,
	    "\"\" changed", NULL, "shadow unparseable" },
	{ "invalid UTF-8", "{\"s\":\"\xff\"}", "{\"s\":\"x\"}", NULL,
	    "\"\" changed", NULL, "primary unparseable" },
	{ "overlong UTF-8", "{\"s\":\"\xc0\xaf\"}", "{\"s\":\"/\"}", NULL,
	    "\"\" changed", NULL, "primary unparseable" },
	{ "lone surrogate escape", "{\"s\":\"\\ud800\"}", "{\"s\":\"x\"}",
	    NULL, "\"\" changed", NULL, "primary unparseable" },
	{ "control character in string", "{\"s\":\"a\tb\"}",
	    "{\"s\":\"a\\tb\"}", NULL, "\"\" changed", NULL,
	    "primary unparseable" },
	{ "leading zero", "[01]", "[1]", NULL, "\"\" changed", NULL,
	    "primary unparseable" },
	{ "two documents", "{} {}", "{}", NULL, "\"\" changed", NULL,
	    "primary unparseable" },
	{ "trailing comma", "[1,2,]", "[1,2]", NULL, "\"\" changed", NULL,
	    "primary unparseable" },
	{ "both invalid, equal bytes", "{bad", "{bad", NULL, "", NULL, "" },

	/* ignore */
	{ "ignore a key", "{\"id\":1,\"updated_at\":\"x\"}",
	    "{\"id\":1,\"updated_at\":\"y\"}", "ignore = /updated_at", "",
	    "{\"ignore /updated_at\":1}" },
	{ "ignore does not cover a longer key", "{\"a\":1,\"ab\":1}",
	    "{\"a\":2,\"ab\":2}", "ignore = /a", "/ab changed",
	    "{\"ignore /a\":1}" },
	{ "ignore with *", "{\"items\":[{\"id\":1,\"etag\":\"a\"},"
	    "{\"id\":2,\"etag\":\"b\"}]}",
	    "{\"items\":[{\"id\":1,\"etag\":\"c\"},{\"id\":3,\"etag\":\"d\"}]}",
	    "ignore = /items/*/etag", "/items/1/id changed",
	    "{\"ignore /items/*/etag\":2}" },
	{ "ignore with **", "{\"a\":1,\"meta\":{\"x\":[1,2],\"y\":{\"z\":1}}}",
	    "{\"a\":1,\"meta\":{\"x\":[1],\"y\":{\"z\":2},\"w\":0}}",
	    "ignore = /meta/**", "", "{\"ignore /meta/**\":1}" },
	{ "** matches the key itself", "{\"a\":1,\"meta\":{\"x\":1}}",
	    "{\"a\":1}", "ignore = /meta/**", "", "{\"ignore /meta/**\":1}" },
	{ "** in the middle", "{\"a\":{\"b\":{\"etag\":1},\"etag\":2}}",
	    "{\"a\":{\"b\":{\"etag\":3},\"etag\":4}}", "ignore = /**/etag", "",
	    "{\"ignore /**/etag\":2}" },
	{ "ignore the whole document", "{\"a\":1}", "[2]", "ignore = \"\"",
	    "", "{\"ignore \\\"\\\"\":1}" },
	{ "ignore the whole non-JSON body", "a", "b", "ignore = \"\"", "",
	    "{\"ignore \\\"\\\"\":1}", NULL, "text/plain", "text/plain" },
	{ "ignore an escaped key", "{\"a/b\":1,\"c~\":1}", "{\"a/b\":2,\"c~\":2}",
	    "ignore = /a~1b /c~0", "",
	    "{\"ignore /a~1b\":1,\"ignore /c~0\":1}" },
	{ "ignore a quoted key with a space", "{\"first name\":\"a\"}",
	    "{\"first name\":\"b\"}", "ignore = \"/first name\"", "",
	    "{\"ignore \\\"/first name\\\"\":1}" },
	{ "ignore an array element", "[1,2,3]", "[1,9,3,4]",
	    "ignore = /1 /3", "", "{\"ignore /1\":1,\"ignore /3\":1}" },
	{ "ignored but equal counts nothing", "{\"a\":1,\"b\":1}",
	    "{\"b\":1,\"a\":1.0}", "ignore = /a", "", "{}" },

	/* unordered */
	{ "unordered strings", "{\"tags\":[\"a\",\"b\",\"c\"]}",
	    "{\"tags\":[\"c\",\"a\",\"b\"]}", "unordered = /tags", "", "{}" },
	{ "unordered with duplicates",
	    "{\"tags\":[\"a\",\"b\",\"b\"]}", "{\"tags\":[\"b\",\"a\",\"a\"]}",
	    "unordered = /tags", "/tags/2 removed, /tags/2 added" },
	{ "unordered objects with duplicates",
	    "{\"items\":[{\"id\":1},{\"id\":2,\"x\":[1]},{\"id\":1}]}",
	    "{\"items\":[{\"id\":1},{\"x\":[1],\"id\":2},{\"id\":1.0}]}",
	    "unordered = /items", "" },
	{ "unordered objects, one differs",
	    "{\"items\":[{\"id\":1},{\"id\":1}]}",
	    "{\"items\":[{\"id\":2},{\"id\":1}]}", "unordered = /items",
	    "/items/1 removed, /items/0 added" },
	{ "unordered, different lengths", "[1,2,3]", "[3,1]",
	    "unordered = \"\"", "/1 removed" },
	{ "unordered with ignore inside",
	    "{\"items\":[{\"id\":1,\"etag\":\"a\"},{\"id\":2,\"etag\":\"b\"}]}",
	    "{\"items\":[{\"id\":2,\"etag\":\"x\"},{\"id\":1,\"etag\":\"y\"}]}",
	    "unordered = /items\nignore = /items/*/etag", "",
	    "{\"ignore /items/*/etag\":2}" },
	{ "unordered numbers by value", "[1.0,2,3e0]", "[3,2.00,1]",
	    "unordered = \"\"", "" },
	{ "unordered nested with *",
	    "{\"a\":[{\"t\":[1,2]},{\"t\":[3,4]}]}",
	    "{\"a\":[{\"t\":[2,1]},{\"t\":[4,3]}]}",
	    "unordered = /a/*/t", "" },
	{ "unordered arrays inside unordered",
	    "[[1,2],[3,4]]", "[[4,3],[2,1]]", "unordered = \"\" /*", "" },
	{ "unordered on a non-array is inert", "{\"t\":{\"a\":1}}",
	    "{\"t\":{\"a\":2}}", "unordered = /t", "/t/a changed" },
	{ "unordered with null_equals_empty inside",
	    "[{\"a\":null,\"id\":1},{\"a\":[1],\"id\":2}]",
	    "[{\"a\":[1],\"id\":2},{\"a\":[],\"id\":1}]",
	    "unordered = \"\"\nnull_equals_empty = yes", "",
	    "{\"null_equals_empty\":1}" },
	{ "unordered with missing_equals_default inside",
	    "[{\"id\":1},{\"id\":2,\"x\":0}]",
	    "[{\"id\":2},{\"id\":1,\"x\":false}]",
	    "unordered = \"\"\nmissing_equals_default = yes", "",
	    "{\"missing_equals_default\":2}" },

	/* float_tolerance */
	{ "tolerance forgives", "[0.1]", "[0.1000000000000001]",
	    "float_tolerance = 1e-9", "", "{\"float_tolerance\":1}" },
	{ "tolerance is relative", "[1.0]", "[1.1]", "float_tolerance = 1e-9",
	    "/0 changed" },
	{ "tolerance keeps integers exact", "[9007199254740993]",
	    "[9007199254740992]", "float_tolerance = 1e-9", "/0 changed" },
	{ "tolerance for an integer against a fraction", "[100]",
	    "[100.00000000001]", "float_tolerance = 1e-9", "",
	    "{\"float_tolerance\":1}" },
	{ "no tolerance by default", "[0.1]", "[0.1000000000000001]", NULL,
	    "/0 changed" },

	/* null_equals_empty */
	{ "null equals [] and {}", "{\"a\":null,\"b\":null,\"c\":[],"
	    "\"d\":{}}", "{\"a\":[],\"b\":{},\"c\":null,\"d\":null}",
	    "null_equals_empty = yes", "", "{\"null_equals_empty\":4}" },
	{ "null vs [] by default", "{\"a\":null}", "{\"a\":[]}", NULL,
	    "/a type" },
	{ "null_equals_empty at a path", "{\"a\":null,\"b\":null}",
	    "{\"a\":[],\"b\":[]}", "null_equals_empty = /a", "/b type",
	    "{\"null_equals_empty /a\":1}" },
	{ "null is not [1]", "{\"a\":null}", "{\"a\":[1]}",
	    "null_equals_empty = yes", "/a type" },
	{ "[] is still not {}", "{\"a\":[]}", "{\"a\":{}}",
	    "null_equals_empty = yes", "/a type" },

	/* missing_equals_default */
	{ "absent equals every default", "{\"a\":1}",
	    "{\"a\":1,\"b\":null,\"c\":false,\"d\":0,\"e\":\"\",\"f\":[],"
	    "\"g\":{},\"h\":0.0}", "missing_equals_default = yes", "",
	    "{\"missing_equals_default\":7}" },
	{ "absent is not 1", "{\"a\":1,\"b\":1}", "{\"a\":1}",
	    "missing_equals_default = yes", "/b removed" },
	{ "absent vs null by default", "{\"a\":1}", "{\"a\":1,\"b\":null}",
	    NULL, "/b added" },
	{ "missing_equals_default at paths", "{\"x\":{},\"y\":{}}",
	    "{\"x\":{\"a\":0},\"y\":{\"a\":0}}",
	    "missing_equals_default = /x/*", "/y/a added",
	    "{\"missing_equals_default /x/*\":1}" },
	{ "not for array elements", "[1]", "[1,0]",
	    "missing_equals_default = yes", "/1 added" },

	/* timestamps */
	{ "timestamps: fraction digits", "{\"t\":\"2024-01-02T03:04:05.1Z\"}",
	    "{\"t\":\"2024-01-02T03:04:05.100Z\"}", "timestamps = instant", "",
	    "{\"timestamps\":1}" },
	{ "timestamps: offset", "{\"t\":\"2024-01-02T03:04:05.1Z\"}",
	    "{\"t\":\"2024-01-02T04:04:05.1+01:00\"}", "timestamps = instant",
	    "" },
	{ "timestamps: across midnight and a year",
	    "[\"2024-01-01T00:30:00Z\"]", "[\"2023-12-31T19:30:00-05:00\"]",
	    "timestamps = instant", "" },
	{ "timestamps: lower case t and z", "[\"2024-02-29T10:00:00z\"]",
	    "[\"2024-02-29t10:00:00.000Z\"]", "timestamps = instant", "" },
	{ "timestamps: another instant", "[\"2024-01-02T03:04:05Z\"]",
	    "[\"2024-01-02T03:04:06Z\"]", "timestamps = instant", "/0 changed" },
	{ "timestamps: nanoseconds differ", "[\"2024-01-02T03:04:05.000000001Z\"]",
	    "[\"2024-01-02T03:04:05.000000002Z\"]", "timestamps = instant",
	    "/0 changed" },
	{ "timestamps off by default", "[\"2024-01-02T03:04:05.1Z\"]",
	    "[\"2024-01-02T03:04:05.100Z\"]", NULL, "/0 changed" },
	{ "timestamps: not a timestamp", "[\"2024-13-02T03:04:05Z\"]",
	    "[\"2024-13-02T03:04:05.0Z\"]", "timestamps = instant",
	    "/0 changed" },
	{ "timestamps: February 30", "[\"2023-02-29T00:00:00Z\"]",
	    "[\"2023-02-29T00:00:00.0Z\"]", "timestamps = instant",
	    "/0 changed" },
	{ "timestamps at a path", "{\"created\":\"2024-01-02T03:04:05Z\","
	    "\"raw\":\"2024-01-02T03:04:05Z\"}",
	    "{\"created\":\"2024-01-02T03:04:05.000Z\","
	    "\"raw\":\"2024-01-02T03:04:05.000Z\"}", "timestamps = /created",
	    "/raw changed", "{\"timestamps /created\":1}" },

	/* profile */
	{ "profile go-rust", "{\"a\":null,\"t\":\"2024-01-02T03:04:05.1Z\","
	    "\"m\":null}", "{\"a\":[],\"t\":\"2024-01-02T03:04:05.100Z\","
	    "\"m\":{},\"c\":0}", "profile = go-rust", "/c added",
	    "{\"null_equals_empty\":2,\"timestamps\":1}" },
	{ "profile, then a key turns a rule off", "{\"a\":null}",
	    "{\"a\":[]}", "profile = go-rust\nnull_equals_empty = no",
	    "/a type" },
	{ "a key, then the profile: the key still wins", "{\"a\":null}",
	    "{\"a\":[]}", "null_equals_empty = no\nprofile = go-rust",
	    "/a type" },
	{ "profile none", "{\"a\":null}", "{\"a\":[]}",
	    "profile = go-rust\nprofile = none", "/a type" },

	/* ignore_like: forgiven only while both sides have the shape. */
	{ "ignore_like base64url:43",
	    "{\"token\":\"" B64A "\"}", "{\"token\":\"" B64B "\"}",
	    "ignore_like = /token base64url:43", "",
	    "{\"ignore_like /token base64url:43\":1}" },
	{ "ignore_like: null on the shadow is reported",
	    "{\"token\":\"" B64A "\"}", "{\"token\":null}",
	    "ignore_like = /token base64url:43", "/token type", "{}" },
	{ "ignore_like: 42 characters is another shape",
	    "{\"token\":\"" B64A "\"}", "{\"token\":\"" B64A_42 "\"}",
	    "ignore_like = /token base64url:43", "/token changed", "{}" },
	{ "ignore_like: absent on the shadow is reported",
	    "{\"token\":\"" B64A "\"}", "{}",
	    "ignore_like = /token base64url:43", "/token removed", "{}" },
	{ "ignore_like: base64url is not base64",
	    "{\"t\":\"ab+c\"}", "{\"t\":\"ab-c\"}",
	    "ignore_like = /t base64url", "/t changed", "{}" },
	{ "ignore_like uuid at *", "{\"items\":[{\"id\":"
	    "\"0b9e7a52-7d4c-4c55-9a0e-3f1f3b8f6a01\"},{\"id\":\"x\"}]}",
	    "{\"items\":[{\"id\":\"D1C3A1B2-0000-4000-8000-00000000ABCD\"},"
	    "{\"id\":\"y\"}]}", "ignore_like = /items/*/id uuid",
	    "/items/1/id changed", "{\"ignore_like /items/*/id uuid\":1}" },
	{ "ignore_like rfc3339, hex and digits, one key",
	    "{\"at\":\"2024-01-02T03:04:05Z\",\"h\":\"00ff\",\"n\":\"12\"}",
	    "{\"at\":\"2025-06-07T08:09:10.5+02:00\",\"h\":\"AB12\","
	    "\"n\":\"345\"}",
	    "ignore_like = /at rfc3339 /h hex:4 /n digits:1-3", "",
	    "{\"ignore_like /at rfc3339\":1,\"ignore_like /h hex:4\":1,"
	    "\"ignore_like /n digits:1-3\":1}" },
	{ "ignore_like: digits is a string shape, not a number",
	    "{\"n\":1}", "{\"n\":2}", "ignore_like = /n digits",
	    "/n changed" },
	{ "ignore_like regex", "{\"sha\":\"a1b2\",\"v\":\"1.2\"}",
	    "{\"sha\":\"c3d4\",\"v\":\"1.3-rc\"}",
	    "ignore_like = /sha regex:[0-9a-f]{4} /v regex:\\d+\\.\\d+", "/v changed",
	    "{\"ignore_like /sha regex:[0-9a-f]{4}\":1}" },
	{ "ignore_like regex matches the whole value",
	    "{\"v\":\"ab\"}", "{\"v\":\"abc\"}",
	    "ignore_like = /v regex:ab?", "/v changed" },
	{ "ignore_like quoted regex with a space",
	    "{\"v\":\"a b\"}", "{\"v\":\"c d\"}",
	    "ignore_like = /v \"regex:^[a-z] [a-z]$\"", "",
	    "{\"ignore_like /v \\\"regex:^[a-z] [a-z]$\\\"\":1}" },
	{ "ignore_like in an unordered array",
	    "{\"items\":[{\"k\":1,\"t\":\"aaaa\"},{\"k\":2,\"t\":\"bbbb\"}]}",
	    "{\"items\":[{\"k\":2,\"t\":\"cccc\"},{\"k\":1,\"t\":\"dddd\"}]}",
	    "unordered = /items\nignore_like = /items/*/t base64url:4", "",
	    "{\"ignore_like /items/*/t base64url:4\":2}" },

	/* allow_added: only what the shadow adds. */
	{ "allow_added = yes", "{\"a\":1,\"b\":2,\"c\":3}",
	    "{\"a\":1,\"b\":9,\"n\":{\"x\":1},\"m\":null}",
	    "allow_added = yes", "/b changed, /c removed",
	    "{\"allow_added\":2}" },
	{ "allow_added nested", "{\"u\":{\"id\":1},\"l\":[{\"a\":1}]}",
	    "{\"u\":{\"id\":1,\"new\":true},\"l\":[{\"a\":1,\"b\":2}]}",
	    "allow_added = yes", "", "{\"allow_added\":2}" },
	{ "allow_added not for array elements", "[1]", "[1,2]",
	    "allow_added = yes", "/1 added" },
	{ "allow_added at patterns", "{\"u\":{},\"v\":{}}",
	    "{\"u\":{\"x\":1},\"v\":{\"x\":1}}", "allow_added = /u/*",
	    "/v/x added", "{\"allow_added /u/*\":1}" },
	{ "allow_added in an unordered array",
	    "[{\"id\":1},{\"id\":2}]", "[{\"id\":2,\"z\":0},{\"id\":1,\"z\":1}]",
	    "unordered = \"\"\nallow_added = yes", "",
	    "{\"allow_added\":2}" },
	{ "allow_added: a removed member in an unordered array",
	    "[{\"id\":1,\"z\":1}]", "[{\"id\":1}]",
	    "unordered = \"\"\nallow_added = yes", "/0 removed, /0 added" },
	{ "allow_added: a duplicate key the shadow adds", "{\"a\":1}",
	    "{\"a\":1,\"d\":1,\"d\":2}", "allow_added = yes", "",
	    "{\"allow_added\":1}" },
	{ "allow_added off by default", "{}", "{\"a\":1}", NULL, "/a added" },

	/* shape_only: types and structure. */
	{ "shape_only = yes", "{\"n\":1,\"s\":\"a\",\"b\":true,"
	    "\"o\":{\"x\":1}}", "{\"n\":2.5,\"s\":\"zz\",\"b\":false,"
	    "\"o\":{\"x\":-1}}", "shape_only = yes", "",
	    "{\"shape_only\":1}" },
	{ "shape_only: an equal ignored member forgives nothing",
	    "{\"x\":1,\"s\":[{\"id\":1}]}", "{\"s\":[{\"id\":1}],\"x\":1}",
	    "shape_only = /s\nignore = /**/id", "", "{}" },
	{ "shape_only: a type is reported", "{\"n\":1,\"s\":\"a\"}",
	    "{\"n\":\"1\",\"s\":\"b\"}", "shape_only = yes", "/n type",
	    "{\"shape_only\":1}" },
	{ "shape_only: member names are reported", "{\"a\":1,\"b\":1}",
	    "{\"a\":2,\"c\":1}", "shape_only = yes",
	    "/b removed, /c added" },
	{ "shape_only: array lengths do not matter",
	    "{\"recs\":[{\"id\":1,\"score\":0.5},{\"id\":2,\"score\":0.1}]}",
	    "{\"recs\":[{\"id\":9,\"score\":0.7}]}", "shape_only = /recs",
	    "", "{\"shape_only /recs\":1}" },
	{ "shape_only: an element of another shape",
	    "{\"recs\":[{\"id\":1},{\"id\":2},{\"id\":3}]}",
	    "{\"recs\":[{\"id\":4},{\"id\":\"5\"},{\"id\":\"6\"},{\"ID\":7}]}",
	    "shape_only = /recs", "/recs/1 added, /recs/3 added" },
	{ "shape_only: an element type only the primary has",
	    "{\"r\":[1,\"a\",2,\"b\"]}", "{\"r\":[3]}", "shape_only = /r",
	    "/r/1 removed" },
	{ "shape_only: an empty array fits any", "{\"r\":[]}",
	    "{\"r\":[[1],{\"a\":[]}]}", "shape_only = /r", "",
	    "{\"shape_only /r\":1}" },
	{ "shape_only: nested arrays by element type",
	    "[[1,2],[\"a\"],[]]", "[[\"b\",\"c\"],[3]]", "shape_only = yes", "",
	    "{\"shape_only\":1}" },
	{ "shape_only: nested arrays, another type", "[[1,2]]", "[[true]]",
	    "shape_only = yes", "/0 removed, /0 added" },
	{ "shape_only at a pattern only", "{\"recs\":[1,2],\"total\":2}",
	    "{\"recs\":[3],\"total\":1}", "shape_only = /recs",
	    "/total changed", "{\"shape_only /recs\":1}" },
	{ "shape_only: equal values count nothing", "{\"a\":[1]}",
	    "{\"a\":[1.0]}", "shape_only = yes", "", "{}" },
	{ "shape_only with ignore inside", "{\"a\":{\"x\":1}}",
	    "{\"a\":{\"y\":\"s\"}}", "shape_only = yes\nignore = /a/*", "",
	    "{\"ignore /a/*\":2}" },
	{ "shape_only in an unordered array",
	    "{\"u\":[{\"a\":1},{\"b\":\"x\"}]}",
	    "{\"u\":[{\"b\":\"y\"},{\"a\":2}]}",
	    "unordered = /u\nshape_only = /u/*", "",
	    "{\"shape_only /u/*\":2}" },
};

/* The rows of docs/diff.md's Go-against-Rust tables, in order. */
static const struct body_case go_rust_cases[] = {
	/* Always forgiven. */
	{ "go/rust: map key order", "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}",
	    NULL, "", "{}" },
	{ "go/rust: HTML-safe escaping",
	    "{\"s\":\"\\u003cb\\u003e \\u0026\"}", "{\"s\":\"<b> &\"}", NULL, "",
	    "{}" },
	{ "go/rust: U+2028", "{\"s\":\"\\u2028\"}", "{\"s\":\"\xe2\x80\xa8\"}",
	    NULL, "", "{}" },
	{ "go/rust: control characters", "{\"s\":\"\\u0008\\u000c\"}",
	    "{\"s\":\"\\b\\f\"}", NULL, "", "{}" },
	{ "go/rust: Encoder newline", "{\"a\":1}\n", "{\"a\":1}", NULL, "",
	    "{}" },
	{ "go/rust: float 3.0", "{\"x\":3}", "{\"x\":3.0}", NULL, "", "{}" },
	{ "go/rust: float 0.0 and -0.0", "{\"x\":0,\"y\":-0}",
	    "{\"x\":0.0,\"y\":-0.0}", NULL, "", "{}" },
	{ "go/rust: float 1e15", "[1000000000000000]",
	    "[1000000000000000.0]", NULL, "", "{}" },
	{ "go/rust: float 1e16", "[10000000000000000]", "[1e16]", NULL, "",
	    "{}" },
	{ "go/rust: float 1e20", "[100000000000000000000]", "[1e20]", NULL,
	    "", "{}" },
	{ "go/rust: float 1e21", "[1e+21]", "[1e21]", NULL, "", "{}" },
	{ "go/rust: float 1e-6", "[0.000001]", "[1e-6]", NULL, "", "{}" },
	/* Forgiven by the profile. */
	{ "go/rust: nil slice", "{\"tags\":null}", "{\"tags\":[]}",
	    "profile = go-rust", "", "{\"null_equals_empty\":1}" },
	{ "go/rust: nil map", "{\"attrs\":null}", "{\"attrs\":{}}",
	    "profile = go-rust", "", "{\"null_equals_empty\":1}" },
	{ "go/rust: RFC3339Nano against chrono",
	    "[\"2024-01-02T03:04:05.1Z\"]", "[\"2024-01-02T03:04:05.100Z\"]",
	    "profile = go-rust", "", "{\"timestamps\":1}" },
	{ "go/rust: local zone against UTC",
	    "[\"2024-01-02T04:04:05.1+01:00\"]",
	    "[\"2024-01-02T03:04:05.100Z\"]", "profile = go-rust", "",
	    "{\"timestamps\":1}" },
	/* Not forgiven by the profile. */
	{ "go/rust: omitempty", "{\"id\":1}", "{\"id\":1,\"tags\":[]}",
	    "profile = go-rust", "/tags added" },
	{ "go/rust: omitempty, with the rule", "{\"id\":1}",
	    "{\"id\":1,\"tags\":[]}", "missing_equals_default = yes", "",
	    "{\"missing_equals_default\":1}" },
	{ "go/rust: omitempty on a zero", "{\"id\":1}",
	    "{\"id\":1,\"count\":0}", "profile = go-rust", "/count added" },
	{ "go/rust: omitempty on a zero, with the rule", "{\"id\":1}",
	    "{\"id\":1,\"count\":0}", "missing_equals_default = yes", "",
	    "{\"missing_equals_default\":1}" },
	{ "go/rust: []byte against Vec<u8>", "{\"b\":\"aGk=\"}",
	    "{\"b\":[104,105]}", "profile = go-rust", "/b type" },
	{ "go/rust: an integer through float64", "{\"n\":9007199254740992}",
	    "{\"n\":9007199254740993}", "profile = go-rust", "/n changed" },
};

static const struct header_case header_cases[] = {
	/* status_equal */
	{ "status_equal 5xx", 500, 503, "", "", "status_equal = 5xx", "",
	    "{\"status_equal 5xx\":1}" },
	{ "status_equal 5xx, not 4xx", 500, 404, "", "", "status_equal = 5xx",
	    "status", "{}" },
	{ "status_equal pairs", 404, 410, "", "",
	    "status_equal = 301=308 404=410=451", "",
	    "{\"status_equal 404=410=451\":1}" },
	{ "status_equal pairs, both in the set", 451, 404, "", "",
	    "status_equal = 404=410=451", "", NULL },
	{ "status_equal pairs, not in one set", 404, 308, "", "",
	    "status_equal = 301=308 404=410", "status" },
	{ "status_equal class", 201, 204, "", "", "status_equal = class", "",
	    "{\"status_equal 2xx\":1}" },
	{ "status_equal no", 500, 503, "", "",
	    "status_equal = 5xx\nstatus_equal = no", "status" },

	/* volatile_headers */
	{ "Date on one side only", 200, 200,
	    "Date: Mon, 01 Jan 2024 00:00:00 GMT", "", NULL, "h:date removed" },
	{ "volatile by default", 200, 200,
	    "Age: 1\nX-Request-Id: a\nTraceparent: 00-a-b-01\nTracestate: x=1\n"
	    "X-B3-TraceId: 1\nX-B3-SpanId: 2\nServer-Timing: db;dur=5",
	    "age: 7\nx-request-id: b\ntraceparent: 00-c-d-01\ntracestate: y=2\n"
	    "x-b3-traceid: 3\nx-b3-spanid: 4\nserver-timing: db;dur=9", NULL, "",
	    "{}" },
	{ "volatile, present on one side", 200, 200, "X-B3-Sampled: 1",
	    "Traceparent: 00-a-b-01", NULL,
	    "h:traceparent added, h:x-b3-sampled removed" },
	{ "ETag is not volatile by default", 200, 200, "ETag: \"a\"",
	    "ETag: \"b\"", NULL, "h:etag changed" },
	{ "volatile_headers = default etag", 200, 200,
	    "ETag: \"a\"\nDate: x", "ETag: \"b\"\nDate: y",
	    "volatile_headers = default etag", "", "{}" },
	{ "volatile_headers replaces the list", 200, 200,
	    "Date: x\nX-Req: 1", "Date: y\nX-Req: 2",
	    "volatile_headers = x-req", "h:date changed" },
	{ "volatile_headers = no", 200, 200, "Age: 1", "Age: 2",
	    "volatile_headers = no", "h:age changed" },
	{ "ignore_headers date: as before, either side", 200, 200,
	    "Date: x", "", "ignore_headers = date", "",
	    "{\"ignore_headers date\":1}" },

	{ "names ignore case", 200, 200, "X-Thing: a", "x-thing: a", NULL,
	    "" },
	{ "media type parameters", 200, 200,
	    "Content-Type: application/json; charset=utf-8",
	    "Content-Type: application/json;charset=UTF-8", NULL, "" },
	{ "media type case", 200, 200, "Content-Type: Application/JSON",
	    "Content-Type: application/json", NULL, "" },
	{ "quoted parameter", 200, 200,
	    "Content-Type: text/plain; charset=\"utf-8\"",
	    "Content-Type: text/plain; charset=utf-8", NULL, "" },
	{ "parameter order", 200, 200,
	    "Content-Type: text/plain; a=1; b=2",
	    "Content-Type: text/plain; b=2;a=1", NULL, "" },
	{ "JSON's charset=utf-8 says nothing (RFC 8259)", 200, 200,
	    "Content-Type: application/json",
	    "Content-Type: application/json; charset=utf-8", NULL, "" },
	{ "+json's charset=\"UTF-8\" too", 200, 200,
	    "Content-Type: application/problem+json; charset=\"UTF-8\"",
	    "Content-Type: application/problem+json", NULL, "" },
	{ "JSON with another charset", 200, 200,
	    "Content-Type: application/json",
	    "Content-Type: application/json; charset=latin1", NULL,
	    "h:content-type changed" },
	{ "a parameter more", 200, 200, "Content-Type: text/plain",
	    "Content-Type: text/plain; charset=utf-8", NULL,
	    "h:content-type changed" },
	{ "boundary value keeps its case", 200, 200,
	    "Content-Type: multipart/mixed; boundary=AbC",
	    "Content-Type: multipart/mixed; boundary=abc", NULL,
	    "h:content-type changed" },
	{ "other media type", 200, 200, "Content-Type: text/html",
	    "Content-Type: text/plain", NULL, "h:content-type changed" },
	{ "multi-valued, same order", 200, 200,
	    "Set-Cookie: a=1\nVary: x\nSet-Cookie: b=2",
	    "set-cookie: a=1\nSet-Cookie: b=2\nVary: x", NULL, "" },
	{ "multi-valued, other order", 200, 200,
	    "Set-Cookie: a=1\nSet-Cookie: b=2",
	    "Set-Cookie: b=2\nSet-Cookie: a=1", NULL, "h:set-cookie changed" },
	{ "multi-valued, one more", 200, 200, "Vary: a",
	    "Vary: a\nVary: b", NULL, "h:vary changed" },
	{ "framing and hop-by-hop never compared", 200, 200,
	    "Content-Length: 10\nConnection: keep-alive\nKeep-Alive: 5\n"
	    "TE: trailers\nTrailer: x\nUpgrade: h2c\nProxy-Authenticate: B\n"
	    "Proxy-Connection: close",
	    "Transfer-Encoding: chunked\nContent-Length: 12\n"
	    "Proxy-Authenticate: A", NULL, "" },
	{ "Date never compared", 200, 200,
	    "Date: Mon, 01 Jan 2024 00:00:00 GMT",
	    "Date: Mon, 01 Jan 2024 00:00:01 GMT", NULL, "" },
	{ "what Connection names is hop-by-hop", 200, 200,
	    "Connection: close, X-Hop\nX-Hop: 1", "Connection: close", NULL,
	    "" },
	{ "added header", 200, 200, "", "X-New: 1", NULL, "h:x-new added" },
	{ "removed header", 200, 200, "X-Old: 1", "", NULL,
	    "h:x-old removed" },
	{ "changed header", 200, 200, "Cache-Control: no-store",
	    "Cache-Control: no-cache", NULL, "h:cache-control changed" },
	{ "surrounding whitespace", 200, 200, "X-A:  v ", "X-A: v", NULL,
	    "" },
	{ "ignore_headers", 200, 200, "X-Request-Id: 1\nServer: go",
	    "X-Request-Id: 2\nServer: rust\nX-Other: 1",
	    "ignore_headers = x-request-id Server", "h:x-other added",
	    "{\"ignore_headers server\":1,\"ignore_headers x-request-id\":1}" },
	{ "ignore_headers, header only on one side", 200, 200, "",
	    "SERVER: axum", "ignore_headers = server", "",
	    "{\"ignore_headers server\":1}" },
	{ "status", 200, 503, "", "", NULL, "status" },
	{ "status and headers in order", 404, 200, "B: 1", "A: 1", NULL,
	    "status, h:a added, h:b removed" },
	{ "go/rust: header name case", 200, 200,
	    "Content-Type: application/json", "content-type: application/json",
	    NULL, "" },
	{ "go/rust: framing", 200, 200, "Content-Length: 27",
	    "Transfer-Encoding: chunked", NULL, "" },
	{ "go/rust: a sniffed type against JSON", 200, 200,
	    "Content-Type: text/plain; charset=utf-8",
	    "Content-Type: application/json", NULL, "h:content-type changed" },
	{ "go/rust: a sniffed type, ignored", 200, 200,
	    "Content-Type: text/plain; charset=utf-8",
	    "Content-Type: application/json", "ignore_headers = content-type",
	    "", "{\"ignore_headers content-type\":1}" },
	{ "content-encoding alone, bodies equal", 200, 200,
	    "Content-Encoding: identity", "", NULL, "" },
};

static const struct rule_case rule_cases[] = {
	{ "ignore", "/a /b/*/c /d/** \"\" \"/e f\"", 0, NULL },
	{ "ignore", "a/b", -1, "starting with '/'" },
	{ "ignore", "/a/b*c", -1, "only as a whole segment" },
	{ "ignore", "/a~2", -1, "'~' followed by 0 or 1" },
	{ "ignore", "/a~", -1, "'~' followed by 0 or 1" },
	{ "ignore", "", -1, "one or more JSON Pointer patterns" },
	{ "ignore", "   ", -1, "one or more JSON Pointer patterns" },
	{ "ignore", "\"/a", -1, "a closing quote" },
	{ "ignore", "\"/a\\q\"", -1, "a valid JSON string" },
	{ "ignore", "\"/a\"b", -1, "a space after" },
	{ "ignore", "/ok /bad*", -1, "only as a whole segment" },
	{ "ignore", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21"
	    "/22/23/24/25/26/27/28/29/30/31/32/33/34/35/36/37/38/39/40/41/42"
	    "/43/44/45/46/47/48/49/50/51/52/53/54/55/56/57/58/59/60/61/62/63"
	    "/64", -1, "at most 63 segments" },
	{ "unordered", "items", -1, "starting with '/'" },
	{ "unordered", "/items /tags", 0, NULL },
	{ "ignore_headers", "x-request-id Server", 0, NULL },
	{ "ignore_headers", "x:y", -1, "is not one" },
	{ "ignore_headers", "", -1, "one or more header names" },
	{ "float_tolerance", "1e-9", 0, NULL },
	{ "float_tolerance", "0", 0, NULL },
	{ "float_tolerance", " 1e-9\t", 0, NULL },
	{ "null_equals_empty", " yes ", 0, NULL },
	{ "timestamps", "\n  /a\n  /b", 0, NULL },
	{ "float_tolerance", "abc", -1, "a relative tolerance from 0, below 1" },
	{ "float_tolerance", "-1e-9", -1, "a relative tolerance from 0, below 1" },
	{ "float_tolerance", "nan", -1, "a relative tolerance from 0, below 1" },
	{ "float_tolerance", "inf", -1, "a relative tolerance from 0, below 1" },
	{ "float_tolerance", "1e-9x", -1, "a relative tolerance from 0, below 1" },
	{ "null_equals_empty", "yes", 0, NULL },
	{ "null_equals_empty", "no", 0, NULL },
	{ "null_equals_empty", "/a /b/*", 0, NULL },
	{ "null_equals_empty", "maybe", -1, "yes, no, or JSON Pointer patterns" },
	{ "missing_equals_default", "/a*", -1, "only as a whole segment" },
	{ "missing_equals_default", "true", 0, NULL },
	{ "timestamps", "instant", 0, NULL },
	{ "timestamps", "no", 0, NULL },
	{ "timestamps", "yes", -1, "instant, no, or JSON Pointer patterns" },
	{ "timestamps", "/created_at /items/*/at", 0, NULL },
	{ "profile", "go-rust", 0, NULL },
	{ "profile", "none", 0, NULL },
	{ "profile", "go-java", -1, "go-rust or none" },
	{ "ignore", "/caf\xe9", -1, "UTF-8 text" },
	{ "ignore", "\"/caf\xc3\xa9\"", 0, NULL },
	{ "ignore_like", "/token base64url:43 /id uuid /n digits:1-20 "
	    "/h hex /at rfc3339 /s string /b base64:4", 0, NULL },
	{ "ignore_like", "/v regex:^[a-z]{3}$ /w \"regex:a b\"", 0, NULL },
	{ "ignore_like", "/token", -1, "a value shape after /token" },
	{ "ignore_like", "/token base64url:43 /id", -1,
	    "a value shape after /id" },
	{ "ignore_like", "/t sha", -1, "a value shape (string, uuid" },
	{ "ignore_like", "/t hex:x", -1, "not hex:x" },
	{ "ignore_like", "/t hex:5-2", -1, "not hex:5-2" },
	{ "ignore_like", "/t regex:", -1, "a regular expression after regex:" },
	{ "ignore_like", "/t regex:(a", -1,
	    "regex:(a: missing closing parenthesis at offset 2 (for /t)" },
	{ "ignore_like", "/t regex:a{2,1}", -1, "at offset" },
	{ "ignore_like", "t uuid", -1, "starting with '/'" },
	{ "ignore_like", "", -1, "each followed by a value shape" },
	{ "allow_added", "yes", 0, NULL },
	{ "allow_added", "/user/* /items/*/meta/**", 0, NULL },
	{ "allow_added", "some", -1, "yes, no, or JSON Pointer patterns" },
	{ "shape_only", "/recs", 0, NULL },
	{ "shape_only", "no", 0, NULL },
	{ "shape_only", "/recs*", -1, "only as a whole segment" },
	{ "status_equal", "5xx 404=410 301=302=308", 0, NULL },
	{ "status_equal", "class", 0, NULL },
	{ "status_equal", "no", 0, NULL },
	{ "status_equal", "6xx", -1, "6xx is neither" },
	{ "status_equal", "404", -1, "404 is neither" },
	{ "status_equal", "404=41", -1, "404=41 is neither" },
	{ "status_equal", "404=", -1, "is neither" },
	{ "status_equal", "", -1, "status classes (5xx" },
	{ "volatile_headers", "default etag X-Trace-*", 0, NULL },
	{ "volatile_headers", "no", 0, NULL },
	{ "volatile_headers", "x:y", -1, "x:y is none of them" },
	{ "volatile_headers", "*", -1, "is none of them" },
	{ "volatile_headers", "x-*-y", -1, "is none of them" },
	{ "volatile_headers", "", -1, "header names, default, or no" },
	{ "match", "/api/*", 1, NULL },
	{ "bogus", "x", 1, NULL },
};

/* Applies "key = value" lines to R; fails the test on error. */
static void
apply_rules(struct diff_rules *r, const char *text)
{
	char	*copy, *line, *next, *eq, *key, *value, *cause;
	size_t	 n;

	if (text == NULL)
		return;
	copy = strdup(text);
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		eq = strchr(line, '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		key = line;
		for (n = strlen(key); n > 0 && key[n - 1] == ' '; n--)
			key[n - 1] = '\0';
		for (value = eq + 1; *value == ' '; value++)
			;
		cause = NULL;
		ck_assert_msg(diff_rules_set(r, key, value, &cause) == 0,
		    "rule %s = %s: %s", key, value, cause);
	}
	free(copy);
}

/* Splits "Name: value" lines into headers; the strings stay in TEXT. */
static size_t
parse_headers(char *text, struct diff_header *h)
{
	char	*line, *next, *colon;
	size_t	 n = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		colon = strchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		ck_assert_uint_lt(n, MAX_HEADERS);
		h[n].name = line;
		h[n].name_len = (size_t)(colon - line);
		h[n].value = colon + 1;
		h[n].value_len = strlen(colon + 1);
		n++;
	}
	return (n);
}

/* Appends to a ", "-separated summary. */
static void
summary_add(char *buf, size_t size, const char *item)
{
	if (buf[0] != '\0')
		strncat(buf, ", ", size - strlen(buf) - 1);
	strncat(buf, item, size - strlen(buf) - 1);
}

/*
 * The result as the tests state it: the record JSON is parsed (which
 * checks that it is JSON) and each difference listed as "PATH OP",
 * "h:NAME OP" or "status"; notes as "SIDE NOTE".
 */
static json_t *
summarize(const struct diff_result *res, char *diffs, char *notes,
    size_t size)
{
	json_error_t	 err;
	json_t		*o, *d;
	const char	*kind, *path;
	char		*js, item[512];
	size_t		 i;

	js = diff_result_json(res, 0);
	o = json_loads(js, JSON_DECODE_INT_AS_REAL, &err);
	ck_assert_msg(o != NULL, "not JSON (%s): %s", err.text, js);
	free(js);
	diffs[0] = notes[0] = '\0';
	json_array_foreach(json_object_get(o, "diffs"), i, d) {
		kind = json_string_value(json_object_get(d, "kind"));
		path = json_string_value(json_object_get(d, "path"));
		if (strcmp(kind, "status") == 0)
			snprintf(item, sizeof(item), "status");
		else
			snprintf(item, sizeof(item), "%s%s %s",
			    strcmp(kind, "header") == 0 ? "h:" : "",
			    path[0] == '\0' ? "\"\"" : path,
			    json_string_value(json_object_get(d, "op")));
		summary_add(diffs, size, item);
	}
	json_array_foreach(json_object_get(o, "notes"), i, d) {
		snprintf(item, sizeof(item), "%s %s",
		    json_string_value(json_object_get(d, "side")),
		    json_string_value(json_object_get(d, "note")));
		summary_add(notes, size, item);
	}
	return (o);
}

/* Checks the forgiven object of a result against WANT. */
static void
check_forgiven(const struct diff_result *res, const char *want,
    const char *name)
{
	json_t	*got;
	char	*s;

	got = diff_result_forgiven_json(res);
	s = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_msg(strcmp(s, want) == 0, "%s: forgiven %s, want %s", name,
	    s, want);
	free(s);
	json_decref(got);
}

/* Fills a response with a body and a media type (NULL: JSON). */
static void
make_response(struct diff_response *r, struct diff_header *h,
    const char *type, const void *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	if (type == NULL)
		type = JSON;
	if (type[0] != '\0') {
		h->name = "Content-Type";
		h->name_len = 12;
		h->value = type;
		h->value_len = strlen(type);
		r->headers = h;
		r->nheaders = 1;
	}
	r->body = body;
	r->body_len = len;
}

/* Runs one body case. */
static void
run_body_case(const struct body_case *c)
{
	struct diff_rules	*r;
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			 diffs[2048], notes[512];
	json_t			*o;

	r = diff_rules_new(NULL);
	apply_rules(r, c->rules);
	make_response(&a, &ha, c->type_a, c->a, strlen(c->a));
	make_response(&b, &hb, c->type_b, c->b, strlen(c->b));
	res = diff_compare(r, &a, &b, 0);
	o = summarize(res, diffs, notes, sizeof(diffs));
	ck_assert_msg(strcmp(diffs, c->want) == 0, "%s: got \"%s\", want "
	    "\"%s\"", c->name, diffs, c->want);
	ck_assert_int_eq(diff_result_differs(res), c->want[0] != '\0');
	if (c->forgiven != NULL)
		check_forgiven(res, c->forgiven, c->name);
	if (c->notes != NULL)
		ck_assert_msg(strcmp(notes, c->notes) == 0, "%s: notes \"%s\", "
		    "want \"%s\"", c->name, notes, c->notes);
	json_decref(o);
	diff_result_free(res);
	diff_rules_free(r);
}

START_TEST(test_body_case)
{
	run_body_case(&body_cases[_i]);
}
END_TEST

START_TEST(test_go_rust_case)
{
	run_body_case(&go_rust_cases[_i]);
}
END_TEST

START_TEST(test_header_case)
{
	const struct header_case *c = &header_cases[_i];
	struct diff_rules	*r;
	struct diff_response	 a, b;
	struct diff_header	 ha[MAX_HEADERS], hb[MAX_HEADERS];
	struct diff_result	*res;
	char			 diffs[2048], notes[512], *ta, *tb;
	json_t			*o;

	r = diff_rules_new(NULL);
	apply_rules(r, c->rules);
	ta = strdup(c->ha);
	tb = strdup(c->hb);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.status = c->status_a;
	b.status = c->status_b;
	a.headers = ha;
	a.nheaders = parse_headers(ta, ha);
	b.headers = hb;
	b.nheaders = parse_headers(tb, hb);
	a.body = b.body = (const unsigned char *)"{}";
	a.body_len = b.body_len = 2;
	res = diff_compare(r, &a, &b, 0);
	o = summarize(res, diffs, notes, sizeof(diffs));
	ck_assert_msg(strcmp(diffs, c->want) == 0, "%s: got \"%s\", want "
	    "\"%s\"", c->name, diffs, c->want);
	if (c->forgiven != NULL)
		check_forgiven(res, c->forgiven, c->name);
	json_decref(o);
	diff_result_free(res);
	diff_rules_free(r);
	free(ta);
	free(tb);
}
END_TEST

START_TEST(test_rule_case)
{
	const struct rule_case	*c = &rule_cases[_i];
	struct diff_rules	*r;
	char			*cause = NULL;
	int			 rc;

	r = diff_rules_new(NULL);
	rc = diff_rules_set(r, c->key, c->value, &cause);
	ck_assert_msg(rc == c->rc, "%s = %s: rc %d, want %d (%s)", c->key,
	    c->value, rc, c->rc, cause != NULL ? cause : "");
	if (c->rc == -1) {
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, c->cause) != NULL, "%s = %s: cause "
		    "\"%s\" lacks \"%s\"", c->key, c->value, cause, c->cause);
	} else
		ck_assert_ptr_null(cause);
	free(cause);
	diff_rules_free(r);
}
END_TEST

/* Runs a comparison of two JSON bodies and returns the record text. */
static char *
compare_text(const struct diff_rules *r, const char *a, const char *b,
    size_t limit)
{
	struct diff_response	 ra, rb;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*s;

	make_response(&ra, &ha, NULL, a, strlen(a));
	make_response(&rb, &hb, NULL, b, strlen(b));
	res = diff_compare(r, &ra, &rb, 0);
	s = diff_result_json(res, limit);
	diff_result_free(res);
	return (s);
}

START_TEST(test_record_exact_numbers)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	char			*s;

	/* Beyond what a double holds, too (jansson cannot read these). */
	s = compare_text(r, "{\"n\":18446744073709551615,\"f\":0.10,"
	    "\"g\":1e400}", "{\"n\":18446744073709551614,\"f\":1e-1000,"
	    "\"g\":2E400}", 0);
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/n\",\"op\":\"changed\","
	    "\"primary\":18446744073709551615,\"shadow\":18446744073709551614},"
	    "{\"kind\":\"body\",\"path\":\"/f\",\"op\":\"changed\","
	    "\"primary\":0.10,\"shadow\":1e-1000},"
	    "{\"kind\":\"body\",\"path\":\"/g\",\"op\":\"changed\","
	    "\"primary\":1e400,\"shadow\":2E400}"
	    "],\"forgiven\":{},\"notes\":[]}");
	free(s);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_record_values)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	char			*s;

	/* Added and removed values appear on their side only. */
	s = compare_text(r, "{\"a\":{\"x\":[1,\"\\u003c\"]}}",
	    "{\"b\":\"\\u2028\"}", 0);
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/a\",\"op\":\"removed\","
	    "\"primary\":{\"x\":[1,\"<\"]}},"
	    "{\"kind\":\"body\",\"path\":\"/b\",\"op\":\"added\","
	    "\"shadow\":\"\xe2\x80\xa8\"}"
	    "],\"forgiven\":{},\"notes\":[]}");
	free(s);
	/* A duplicate lists every value of each side. */
	s = compare_text(r, "{\"a\":1,\"a\":2}", "{\"a\":2}", 0);
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/a\",\"op\":\"duplicate\","
	    "\"primary\":[1,2],\"shadow\":[2]}"
	    "],\"forgiven\":{},\"notes\":[]}");
	free(s);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_record_cut)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	char			 a[3000], *s;
	json_t			*o, *d;

	memset(a, 'x', sizeof(a));
	memcpy(a, "[\"", 2);
	memcpy(a + sizeof(a) - 3, "\"]", 3);
	s = compare_text(r, a, "[\"y\"]", 0);
	o = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(o);
	d = json_array_get(json_object_get(o, "diffs"), 0);
	ck_assert(json_is_true(json_object_get(d, "truncated")));
	/* The cut value is a string: the start of the value's JSON. */
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(d,
	    "primary"))), DIFF_VALUE_LIMIT);
	ck_assert_str_eq(json_string_value(json_object_get(d, "shadow")), "y");
	ck_assert(strncmp(json_string_value(json_object_get(d, "primary")),
	    "\"xxx", 4) == 0);
	json_decref(o);
	free(s);
	/* A larger limit, up to DIFF_VALUE_MAX. */
	s = compare_text(r, a, "[\"y\"]", 100000);
	o = json_loads(s, 0, NULL);
	d = json_array_get(json_object_get(o, "diffs"), 0);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(d,
	    "primary"))), DIFF_VALUE_MAX);
	json_decref(o);
	free(s);
	diff_rules_free(r);
}
END_TEST

/* Compares A and B as compare_text does, then hides what RED hides. */
static char *
compare_redacted(const struct diff_redact *red, const char *a, const char *b)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 ra, rb;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*s;

	make_response(&ra, &ha, NULL, a, strlen(a));
	make_response(&rb, &hb, NULL, b, strlen(b));
	res = diff_compare(r, &ra, &rb, 0);
	diff_result_redact(res, red);
	s = diff_result_json(res, 0);
	diff_result_free(res);
	diff_rules_free(r);
	return (s);
}

/* Redaction: values hidden at and below patterns, paths kept. */
START_TEST(test_redact_body)
{
	struct diff_redact	*red = diff_redact_new();
	static const char	 tail[] = "\",\"password\":\"p4ss\"}}";
	char			 big[3000], *s, *cause = NULL;
	size_t			 len;

	ck_assert_int_eq(diff_redact_add_paths(red, "/items/*/card "
	    "/**/password", &cause), 0);
	s = compare_redacted(red, "{\"items\":[{\"card\":\"4111\",\"n\":1}]}",
	    "{\"items\":[{\"card\":\"4222\",\"n\":2}]}");
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/items/0/card\",\"op\":\"changed\","
	    "\"primary\":\"[redacted]\",\"shadow\":\"[redacted]\"},"
	    "{\"kind\":\"body\",\"path\":\"/items/0/n\",\"op\":\"changed\","
	    "\"primary\":1,\"shadow\":2}],\"forgiven\":{},\"notes\":[]}");
	free(s);
	/* Below the difference: the rest of the value, digits kept. */
	s = compare_redacted(red, "{}", "{\"a\":{\"password\":1,\"f\":1.10}}");
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/a\",\"op\":\"added\","
	    "\"shadow\":{\"password\":\"[redacted]\",\"f\":1.10}}],"
	    "\"forgiven\":{},\"notes\":[]}");
	free(s);
	/* A value cut where a pattern may apply is hidden whole. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"b\":{\"x\":\"", 11);
	memcpy(big + sizeof(big) - sizeof(tail), tail, sizeof(tail));
	s = compare_redacted(red, big, "{}");
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/b\",\"op\":\"removed\","
	    "\"primary\":\"[redacted]\"}],\"forgiven\":{},\"notes\":[]}");
	free(s);
	/* The request body: 0 when nothing is hidden, -1 if not JSON. */
	ck_assert_int_eq(diff_redact_json(red, (const unsigned char *)"[1]",
	    3, &s, &len), 0);
	ck_assert_int_eq(diff_redact_json(red, (const unsigned char *)"a=1",
	    3, &s, &len), -1);
	ck_assert_int_eq(diff_redact_json(red,
	    (const unsigned char *)"{\"password\" : \"x\"}", 18, &s, &len), 1);
	ck_assert_str_eq(s, "{\"password\":\"[redacted]\"}");
	ck_assert_uint_eq(len, strlen(s));
	free(s);
	/* The whole document. */
	ck_assert_int_eq(diff_redact_add_paths(red, "\"\"", &cause), 0);
	s = compare_redacted(red, "[1]", "[2]");
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/0\",\"op\":\"changed\","
	    "\"primary\":\"[redacted]\",\"shadow\":\"[redacted]\"}],"
	    "\"forgiven\":{},\"notes\":[]}");
	free(s);
	ck_assert_int_eq(diff_redact_add_paths(red, "/a*", &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	diff_redact_free(red);
}
END_TEST

/*
 * Redaction by word: members whose name holds password, passwd, secret,
 * token or apikey, in any case and with '_' and '-' left out, at any
 * depth, without patterns; "monkey" and "key" are not hidden.
 */
START_TEST(test_redact_body_words)
{
	struct diff_redact	*red = diff_redact_new(), *c;
	static const char	 body[] = "{\"Password\":\"s1\","
	    "\"user\":{\"apiKey\":\"s2\",\"monkey\":1,\"key\":2},"
	    "\"list\":[{\"accessToken\":\"s3\"},{\"Refresh-Token\":[1]}],"
	    "\"clientSecret\":\"s4\",\"userPassword\":\"s5\","
	    "\"auth_token\":\"s6\",\"API_KEY\":\"s7\",\"passwd\":\"s8\","
	    "\"tokenizer\":\"t\",\"pass\":\"p\",\"to_ken\":\"s9\"}";
	char			*s;
	size_t			 len;

	/* Off (diff_redact_new's default): nothing to hide. */
	ck_assert_int_eq(diff_redact_has_paths(red), 0);
	ck_assert_int_eq(diff_redact_json(red, (const unsigned char *)body,
	    strlen(body), &s, &len), 0);
	diff_redact_set_words(red, 1);
	ck_assert_int_eq(diff_redact_has_paths(red), 1);
	ck_assert_int_eq(diff_redact_json(red, (const unsigned char *)body,
	    strlen(body), &s, &len), 1);
	ck_assert_str_eq(s, "{\"Password\":\"[redacted]\","
	    "\"user\":{\"apiKey\":\"[redacted]\",\"monkey\":1,\"key\":2},"
	    "\"list\":[{\"accessToken\":\"[redacted]\"},"
	    "{\"Refresh-Token\":\"[redacted]\"}],"
	    "\"clientSecret\":\"[redacted]\","
	    "\"userPassword\":\"[redacted]\","
	    "\"auth_token\":\"[redacted]\",\"API_KEY\":\"[redacted]\","
	    "\"passwd\":\"[redacted]\",\"tokenizer\":\"[redacted]\","
	    "\"pass\":\"p\",\"to_ken\":\"[redacted]\"}");
	free(s);
	/* In differences: at the path, and below it. */
	s = compare_redacted(red, "{\"a\":{\"refreshToken\":\"s1\"}}",
	    "{\"a\":{\"refreshToken\":\"s2\"},"
	    "\"b\":{\"x\":{\"ClientSecret\":\"s3\"},\"n\":1}}");
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"/a/refreshToken\","
	    "\"op\":\"changed\","
	    "\"primary\":\"[redacted]\",\"shadow\":\"[redacted]\"},"
	    "{\"kind\":\"body\",\"path\":\"/b\",\"op\":\"added\","
	    "\"shadow\":{\"x\":{\"ClientSecret\":\"[redacted]\"},"
	    "\"n\":1}}],\"forgiven\":{},\"notes\":[]}");
	free(s);
	/* A copy keeps the words; a policy off hides nothing by them. */
	diff_redact_free(red);
	red = diff_redact_new();
	ck_assert_int_eq(diff_redact_add_paths(red, "/x", &s), 0);
	ck_assert_int_eq(diff_redact_json(red,
	    (const unsigned char *)"{\"token\":1}", 11, &s, &len), 0);
	diff_redact_set_words(red, 1);
	c = diff_redact_copy(red);
	ck_assert_int_eq(diff_redact_json(c,
	    (const unsigned char *)"{\"x\":1,\"token\":1}", 17, &s, &len), 1);
	ck_assert_str_eq(s, "{\"x\":\"[redacted]\",\"token\":\"[redacted]\"}");
	free(s);
	diff_redact_free(c);
	diff_redact_free(red);
}
END_TEST

/* Redaction of header names, query values and URI headers. */
START_TEST(test_redact_names)
{
	struct diff_redact	*red = diff_redact_new();
	char			*s;
	size_t			 len;

	ck_assert_int_eq(diff_redact_header(red, "WWW-Authenticate", 16), 1);
	ck_assert_int_eq(diff_redact_header(red, "X-API-KEY", 9), 1);
	ck_assert_int_eq(diff_redact_header(red, "X-CSRF-Token", 12), 1);
	ck_assert_int_eq(diff_redact_header(red, "Set-Cookie", 10), 1);
	ck_assert_int_eq(diff_redact_header(red, "Content-Type", 12), 0);
	ck_assert_int_eq(diff_redact_header(red, "X-Tenant", 8), 0);
	diff_redact_add_header(red, "X-Tenant");
	ck_assert_int_eq(diff_redact_header(red, "x-tenant", 8), 1);
	/* No query names: nothing to hide. */
	ck_assert_ptr_null(diff_redact_uri(red, "/a?code=1", 9, 0, &len));
	diff_redact_add_query(red, "access_token");
	diff_redact_add_query(red, "code");
	s = diff_redact_uri(red, "/cb?Code=1&x=2&access%5Ftoken=3&code&"
	    "code=#code=4", 49, 0, &len);
	ck_assert_str_eq(s, "/cb?Code=[redacted]&x=2&"
	    "access%5Ftoken=[redacted]&code&code=#code=4");
	ck_assert_uint_eq(len, strlen(s));
	free(s);
	ck_assert_ptr_null(diff_redact_uri(red, "/cb?x=code", 10, 0, &len));
	s = diff_redact_uri(red, "user=ann&code=x+y", 17, 1, &len);
	ck_assert_str_eq(s, "user=ann&code=[redacted]");
	free(s);
	/* Regression: ';' splits too (older parsers); a form has no '#'. */
	s = diff_redact_uri(red, "/cb?x=1;code=2", 14, 0, &len);
	ck_assert_str_eq(s, "/cb?x=1;code=[redacted]");
	free(s);
	s = diff_redact_uri(red, "a=1#&code=2", 11, 1, &len);
	ck_assert_str_eq(s, "a=1#&code=[redacted]");
	free(s);
	/* Regression: PHP's and Rails' bracketed names hid nothing. */
	s = diff_redact_uri(red, "user%5Bcode%5D=1&code[]=2&a[b][Code]=3&"
	    "codes[x]=4", 49, 1, &len);
	ck_assert_str_eq(s, "user%5Bcode%5D=[redacted]&code[]=[redacted]&"
	    "a[b][Code]=[redacted]&codes[x]=4");
	free(s);
	s = diff_redact_header_value(red, "Location", 8,
	    "https://app/cb?code=abc&state=1", 31, &len);
	ck_assert_str_eq(s, "https://app/cb?code=[redacted]&state=1");
	free(s);
	s = diff_redact_header_value(red, "Proxy-Authorization", 19, "x", 1,
	    &len);
	ck_assert_str_eq(s, "[redacted]");
	free(s);
	ck_assert_ptr_null(diff_redact_header_value(red, "Server", 6, "x", 1,
	    &len));
	diff_redact_free(red);
}
END_TEST

START_TEST(test_record_headers)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 a, b;
	struct diff_header	 ha[MAX_HEADERS], hb[MAX_HEADERS];
	struct diff_result	*res;
	char			 ta[] = "Vary: a\nVary: b\nX-One: \xff",
				 tb[] = "Vary: a", *s;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.status = 200;
	b.status = 502;
	a.headers = ha;
	a.nheaders = parse_headers(ta, ha);
	b.headers = hb;
	b.nheaders = parse_headers(tb, hb);
	res = diff_compare(r, &a, &b, 0);
	s = diff_result_json(res, 0);
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"status\",\"path\":\"\",\"op\":\"changed\","
	    "\"primary\":200,\"shadow\":502},"
	    "{\"kind\":\"header\",\"path\":\"vary\",\"op\":\"changed\","
	    "\"primary\":[\"a\",\"b\"],\"shadow\":\"a\"},"
	    "{\"kind\":\"header\",\"path\":\"x-one\",\"op\":\"removed\","
	    "\"primary\":\"\\u00ff\"}"
	    "],\"forgiven\":{},\"notes\":[]}");
	free(s);
	s = diff_result_text(res, 0);
	ck_assert_str_eq(s, "status changed: 200 -> 502\n"
	    "header vary changed: [\"a\",\"b\"] -> \"a\"\n"
	    "header x-one removed: \"\\u00ff\" -> (none)\n");
	free(s);
	diff_result_free(res);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_record_bytes)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*s;

	make_response(&a, &ha, "text/plain", "line one\nline \"two\"", 19);
	make_response(&b, &hb, "text/plain", "line one\nline 2", 15);
	res = diff_compare(r, &a, &b, 0);
	s = diff_result_json(res, 0);
	ck_assert_str_eq(s, "{\"diffs\":["
	    "{\"kind\":\"body\",\"path\":\"\",\"op\":\"changed\",\"offset\":14,"
	    "\"primary\":\"\\\"two\\\"\",\"shadow\":\"2\"}"
	    "],\"forgiven\":{},\"notes\":[]}");
	free(s);
	diff_result_free(res);
	diff_rules_free(r);
}
END_TEST

/* Compresses LEN bytes as gzip (GZIP) or zlib (!GZIP); raw if RAW. */
static unsigned char *
compress_body(const void *in, size_t len, int gzip, int raw, size_t *outlen)
{
	z_stream	 z;
	unsigned char	*out;
	size_t		 cap = len + len / 2 + 1024;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, gzip ? 31 : raw ?
	    -15 : 15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	out = malloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return (out);
}

/* Compares with a Content-Encoding on the primary; returns the summary. */
static json_t *
compare_encoded(const char *coding, const void *abody, size_t alen,
    const char *bbody, size_t cap, int truncated, char *diffs, char *notes)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 a, b;
	struct diff_header	 ha[2], hb;
	struct diff_result	*res;
	json_t			*o;

	make_response(&a, &ha[0], NULL, abody, alen);
	ha[1].name = "Content-Encoding";
	ha[1].name_len = 16;
	ha[1].value = coding;
	ha[1].value_len = strlen(coding);
	a.nheaders = 2;
	a.body_truncated = truncated;
	make_response(&b, &hb, NULL, bbody, strlen(bbody));
	res = diff_compare(r, &a, &b, cap);
	o = summarize(res, diffs, notes, 1024);
	diff_result_free(res);
	diff_rules_free(r);
	return (o);
}

START_TEST(test_gzip_against_identity)
{
	const char	*doc = "{\"a\":1,\"b\":[1,2,3],\"s\":\"text\"}";
	unsigned char	*z;
	size_t		 zlen;
	char		 diffs[1024], notes[1024];

	z = compress_body(doc, strlen(doc), 1, 0, &zlen);
	json_decref(compare_encoded("gzip", z, zlen,
	    "{\"s\":\"text\",\"b\":[1,2,3],\"a\":1.0}", 0, 0, diffs, notes));
	ck_assert_str_eq(diffs, "");
	ck_assert_str_eq(notes, "");
	json_decref(compare_encoded("x-gzip", z, zlen,
	    "{\"s\":\"text\",\"b\":[1,2,3],\"a\":2}", 0, 0, diffs, notes));
	ck_assert_str_eq(diffs, "/a changed");
	free(z);
	/* deflate: zlib-wrapped as the RFC says, and raw as some send it. */
	z = compress_body(doc, strlen(doc), 0, 0, &zlen);
	json_decref(compare_encoded("deflate", z, zlen, doc, 0, 0, diffs,
	    notes));
	ck_assert_str_eq(diffs, "");
	free(z);
	z = compress_body(doc, strlen(doc), 0, 1, &zlen);
	json_decref(compare_encoded("Deflate", z, zlen, doc, 0, 0, diffs,
	    notes));
	ck_assert_str_eq(diffs, "");
	ck_assert_str_eq(notes, "");
	free(z);
}
END_TEST

START_TEST(test_gzip_chain_and_members)
{
	const char	*doc = "[1,2,3]";
	unsigned char	*z1, *z2, *two;
	size_t		 l1, l2;
	char		 diffs[1024], notes[1024];

	/* "gzip, deflate": deflate was applied last, so undone first. */
	z1 = compress_body(doc, strlen(doc), 1, 0, &l1);
	z2 = compress_body(z1, l1, 0, 0, &l2);
	json_decref(compare_encoded("gzip, deflate", z2, l2, doc, 0, 0, diffs,
	    notes));
	ck_assert_str_eq(diffs, "");
	free(z2);
	/* Two gzip members are one body. */
	z2 = compress_body("[4]", 3, 1, 0, &l2);
	two = malloc(l1 + l2);
	memcpy(two, z1, l1);
	memcpy(two + l1, z2, l2);
	json_decref(compare_encoded("gzip", two, l1 + l2, "[1,2,3][4]", 0, 0,
	    diffs, notes));
	ck_assert_str_eq(diffs, "");
	ck_assert_str_eq(notes, "");
	free(z1);
	free(z2);
	free(two);
}
END_TEST

START_TEST(test_gzip_bomb)
{
	unsigned char	*zeros, *z;
	size_t		 zlen, big = 64 * 1024 * 1024;
	char		 diffs[1024], notes[1024];
	json_t		*o;

	/* 64 MiB of spaces is about 64 KiB of gzip: it stops at the cap. */
	zeros = malloc(big);
	memset(zeros, ' ', big);
	zeros[0] = '[';
	z = compress_body(zeros, big, 1, 0, &zlen);
	free(zeros);
	o = compare_encoded("gzip", z, zlen, "[]", 1024 * 1024, 0, diffs,
	    notes);
	ck_assert_str_eq(diffs, "\"\" changed");
	ck_assert_str_eq(notes, "primary truncated");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
	    json_array_get(json_object_get(o, "notes"), 0), "detail")),
	    "exceeds the cap of 1048576 bytes"));
	json_decref(o);
	free(z);
}
END_TEST

START_TEST(test_gzip_broken)
{
	const char	*doc = "[1,2,3]";
	unsigned char	*z;
	size_t		 zlen;
	char		 diffs[1024], notes[1024];

	/* Garbage: noted, compared as captured, and the header compared. */
	json_decref(compare_encoded("gzip", "not gzip", 8, doc, 0, 0, diffs,
	    notes));
	ck_assert_str_eq(notes, "primary undecodable");
	ck_assert_str_eq(diffs, "h:content-encoding removed, \"\" changed");
	/* A coding we do not decode. */
	json_decref(compare_encoded("br", "\x0b\x02\x80[1,2,3]\x03", 11, doc,
	    0, 0, diffs, notes));
	ck_assert_str_eq(notes, "primary undecodable");
	ck_assert_str_eq(diffs, "h:content-encoding removed, \"\" changed");
	/* A stream cut short: truncated, the prefix compared. */
	z = compress_body(doc, strlen(doc), 1, 0, &zlen);
	json_decref(compare_encoded("gzip", z, zlen - 12, doc, 0, 0, diffs,
	    notes));
	ck_assert_str_eq(notes, "primary truncated");
	/* Cut by the capture: one note only. */
	json_decref(compare_encoded("gzip", z, zlen - 12, doc, 0, 1, diffs,
	    notes));
	ck_assert_str_eq(notes, "primary truncated");
	free(z);
}
END_TEST

START_TEST(test_truncated_capture)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			 diffs[1024], notes[1024];

	/* Equal prefixes: noted, not a difference. */
	make_response(&a, &ha, NULL, "{\"a\":[1,2,", 10);
	make_response(&b, &hb, NULL, "{\"a\":[1,2,", 10);
	a.body_truncated = b.body_truncated = 1;
	res = diff_compare(r, &a, &b, 0);
	json_decref(summarize(res, diffs, notes, sizeof(diffs)));
	ck_assert_str_eq(diffs, "");
	ck_assert_str_eq(notes, "primary truncated, shadow truncated");
	ck_assert_uint_eq(diff_result_nnotes(res), 2);
	ck_assert_int_eq(diff_result_differs(res), 0);
	diff_result_free(res);
	/* Over the cap given: cut there. */
	make_response(&a, &ha, NULL, "[1,2,3,4]", 9);
	make_response(&b, &hb, NULL, "[1,2,3,5]", 9);
	res = diff_compare(r, &a, &b, 4);
	json_decref(summarize(res, diffs, notes, sizeof(diffs)));
	ck_assert_str_eq(diffs, "");
	ck_assert_str_eq(notes, "primary truncated, shadow truncated");
	diff_result_free(res);
	diff_rules_free(r);
}
END_TEST

/* Builds DEPTH nested arrays around VALUE. */
static char *
nested(size_t depth, const char *value)
{
	char	*s;
	size_t	 vlen = strlen(value);

	s = malloc(depth * 2 + vlen + 1);
	memset(s, '[', depth);
	memcpy(s + depth, value, vlen);
	memset(s + depth + vlen, ']', depth);
	s[depth * 2 + vlen] = '\0';
	return (s);
}

START_TEST(test_deep)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	char			*a, *b, *s;
	json_t			*o;
	char			 diffs[1024], notes[1024];
	struct diff_response	 ra, rb;
	struct diff_header	 ha, hb;
	struct diff_result	*res;

	/* 10,000 deep: unparseable on both sides, compared as bytes. */
	a = nested(10000, "1");
	b = nested(10000, "2");
	make_response(&ra, &ha, NULL, a, strlen(a));
	make_response(&rb, &hb, NULL, b, strlen(b));
	res = diff_compare(r, &ra, &rb, 0);
	o = summarize(res, diffs, notes, sizeof(diffs));
	ck_assert_str_eq(diffs, "\"\" changed");
	ck_assert_str_eq(notes, "primary unparseable, shadow unparseable");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(
	    json_array_get(json_object_get(o, "notes"), 0), "detail")),
	    "nesting too deep"));
	json_decref(o);
	diff_result_free(res);
	free(a);
	free(b);
	/* At the limit: parsed, and the path is 512 segments long. */
	a = nested(DIFF_JSON_MAX_DEPTH, "1");
	b = nested(DIFF_JSON_MAX_DEPTH, "1.5");
	s = compare_text(r, a, b, 0);
	ck_assert_ptr_nonnull(strstr(s, "\"op\":\"changed\""));
	ck_assert_ptr_nonnull(strstr(s, "\"primary\":1,\"shadow\":1.5"));
	ck_assert_ptr_null(strstr(s, "unparseable"));
	free(s);
	free(a);
	free(b);
	/* Deep objects too, with a key that needs escaping. */
	a = malloc(DIFF_JSON_MAX_DEPTH * 8 + 16);
	b = malloc(DIFF_JSON_MAX_DEPTH * 8 + 16);
	a[0] = b[0] = '\0';
	for (size_t i = 0; i < DIFF_JSON_MAX_DEPTH - 1; i++) {
		strcat(a, "{\"~/\":");
		strcat(b, "{\"~/\":");
	}
	strcat(a, "[true]");
	strcat(b, "[false]");
	for (size_t i = 0; i < DIFF_JSON_MAX_DEPTH - 1; i++) {
		strcat(a, "}");
		strcat(b, "}");
	}
	s = compare_text(r, a, b, 0);
	ck_assert_ptr_nonnull(strstr(s, "\"path\":\"/~0~1/~0~1/"));
	ck_assert_ptr_nonnull(strstr(s, "/~0~1/0\",\"op\":\"changed\""));
	free(s);
	free(a);
	free(b);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_many_diffs)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*sa, *sb, *s;
	size_t			 i, n = 2500;
	json_t			*o;

	sa = malloc(n * 4 + 2);
	sb = malloc(n * 4 + 2);
	strcpy(sa, "[");
	strcpy(sb, "[");
	for (i = 0; i < n; i++) {
		strcat(sa, i ? ",1" : "1");
		strcat(sb, i ? ",2" : "2");
	}
	strcat(sa, "]");
	strcat(sb, "]");
	make_response(&a, &ha, NULL, sa, strlen(sa));
	make_response(&b, &hb, NULL, sb, strlen(sb));
	res = diff_compare(r, &a, &b, 0);
	ck_assert_uint_eq(diff_result_count(res), n);
	s = diff_result_json(res, 0);
	o = json_loads(s, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "diffs")),
	    DIFF_MAX_DIFFS);
	ck_assert_int_eq(json_integer_value(json_object_get(o,
	    "diffs_omitted")), (json_int_t)(n - DIFF_MAX_DIFFS));
	json_decref(o);
	free(s);
	diff_result_free(res);
	free(sa);
	free(sb);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_unordered_large)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	char			*sa, *sb, *s, item[64];
	size_t			 i, n = 5000;

	/* 5,000 objects reversed, one missing: matched by hash, not n^2. */
	apply_rules(r, "unordered = /items\nignore = /items/*/etag");
	sa = malloc(n * 48 + 32);
	sb = malloc(n * 48 + 32);
	strcpy(sa, "{\"items\":[");
	strcpy(sb, "{\"items\":[");
	for (i = 0; i < n; i++) {
		snprintf(item, sizeof(item), "%s{\"id\":%zu,\"etag\":\"a%zu\"}",
		    i ? "," : "", i, i);
		strcat(sa, item);
		if (i == 0)
			continue;
		snprintf(item, sizeof(item), "%s{\"etag\":\"b\",\"id\":%zu}",
		    i != 1 ? "," : "", n - i);
		strcat(sb, item);
	}
	strcat(sa, "]}");
	strcat(sb, "]}");
	s = compare_text(r, sa, sb, 0);
	ck_assert_str_eq(s, "{\"diffs\":[{\"kind\":\"body\",\"path\":"
	    "\"/items/0\",\"op\":\"removed\",\"primary\":{\"id\":0,\"etag\":"
	    "\"a0\"}}],\"forgiven\":{\"ignore /items/*/etag\":4999},"
	    "\"notes\":[]}");
	free(s);
	free(sa);
	free(sb);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_rules_inherit)
{
	struct diff_rules	*g, *route;
	char			*cause = NULL, *s;

	g = diff_rules_new(NULL);
	apply_rules(g, "ignore = /a\nnull_equals_empty = yes\n"
	    "ignore_headers = server");
	route = diff_rules_new(g);
	/* Lists add to the global ones; the others replace them. */
	apply_rules(route, "ignore = /b\nnull_equals_empty = /n");
	s = compare_text(route, "{\"a\":1,\"b\":1,\"m\":null,\"n\":null}",
	    "{\"a\":2,\"b\":2,\"m\":[],\"n\":[]}", 0);
	ck_assert_str_eq(s, "{\"diffs\":[{\"kind\":\"body\",\"path\":\"/m\","
	    "\"op\":\"type\",\"primary\":null,\"shadow\":[]}],\"forgiven\":"
	    "{\"ignore /a\":1,\"ignore /b\":1,\"null_equals_empty /n\":1},"
	    "\"notes\":[]}");
	free(s);
	/* The global rules are unchanged. */
	s = compare_text(g, "{\"b\":1,\"m\":null}", "{\"b\":2,\"m\":[]}", 0);
	ck_assert_str_eq(s, "{\"diffs\":[{\"kind\":\"body\",\"path\":\"/b\","
	    "\"op\":\"changed\",\"primary\":1,\"shadow\":2}],\"forgiven\":"
	    "{\"null_equals_empty\":1},\"notes\":[]}");
	free(s);
	/* A bad value leaves the rules as they were. */
	ck_assert_int_eq(diff_rules_set(route, "null_equals_empty", "/x /y*",
	    &cause), -1);
	free(cause);
	s = compare_text(route, "{\"n\":null}", "{\"n\":[]}", 0);
	ck_assert_ptr_nonnull(strstr(s, "\"null_equals_empty /n\":1"));
	free(s);
	diff_rules_free(route);
	diff_rules_free(g);
}
END_TEST

START_TEST(test_rules_inherit_new)
{
	struct diff_rules	*g, *route;
	struct diff_response	 a, b;
	struct diff_header	 ha[2], hb[2];
	struct diff_result	*res;
	char			*s;

	g = diff_rules_new(NULL);
	apply_rules(g, "ignore_like = /t regex:x+\nstatus_equal = 5xx\n"
	    "volatile_headers = x-v");
	route = diff_rules_new(g);
	apply_rules(route, "ignore_like = /u uuid\nallow_added = yes");
	/* The route has the global regex (a copy) and its own pattern. */
	diff_rules_free(g);
	s = compare_text(route, "{\"t\":\"xx\",\"u\":"
	    "\"00000000-0000-0000-0000-000000000000\"}", "{\"t\":\"xxx\",\"u\":"
	    "\"00000000-0000-0000-0000-000000000001\",\"n\":1}", 0);
	ck_assert_str_eq(s, "{\"diffs\":[],\"forgiven\":{\"ignore_like /t "
	    "regex:x+\":1,\"ignore_like /u uuid\":1,\"allow_added\":1},"
	    "\"notes\":[]}");
	free(s);
	/* status_equal and volatile_headers were inherited. */
	make_response(&a, ha, NULL, "{}", 2);
	make_response(&b, hb, NULL, "{}", 2);
	ha[1].name = hb[1].name = "X-V";
	ha[1].name_len = hb[1].name_len = 3;
	ha[1].value = "1";
	hb[1].value = "2";
	ha[1].value_len = hb[1].value_len = 1;
	a.nheaders = b.nheaders = 2;
	a.status = 502;
	b.status = 500;
	res = diff_compare(route, &a, &b, 0);
	ck_assert_int_eq(diff_result_differs(res), 0);
	diff_result_free(res);
	diff_rules_free(route);
}
END_TEST

START_TEST(test_text_output)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*s;

	apply_rules(r, "ignore = /t");
	make_response(&a, &ha, NULL, "{\"n\":1,\"t\":1,\"x\":[]}",
	    strlen("{\"n\":1,\"t\":1,\"x\":[]}"));
	make_response(&b, &hb, NULL, "{\"n\":2,\"t\":2,\"y\":\"}\"}",
	    strlen("{\"n\":2,\"t\":2,\"y\":\"}\"}"));
	res = diff_compare(r, &a, &b, 0);
	s = diff_result_text(res, 0);
	ck_assert_str_eq(s, "body /n changed: 1 -> 2\n"
	    "body /x removed: [] -> (none)\n"
	    "body /y added: (none) -> \"}\"\n"
	    "forgiven by ignore /t: 1\n");
	free(s);
	diff_result_free(res);
	diff_rules_free(r);
}
END_TEST

struct thread_arg {
	const struct diff_rules	*rules;
	int			 failures;
};

/* Compares the same pair many times with shared rules. */
static void *
thread_main(void *v)
{
	struct thread_arg	*t = v;
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	const char		*x = "{\"items\":[{\"id\":1,\"etag\":\"a\"},"
				    "{\"id\":2}],\"t\":\"2024-01-01T00:00:00Z\","
				    "\"n\":null}";
	const char		*y = "{\"n\":[],\"items\":[{\"id\":2},"
				    "{\"id\":1,\"etag\":\"b\"}],"
				    "\"t\":\"2024-01-01T01:00:00+01:00\",\"z\":1}";
	int			 i;

	make_response(&a, &ha, NULL, x, strlen(x));
	make_response(&b, &hb, NULL, y, strlen(y));
	for (i = 0; i < 300; i++) {
		res = diff_compare(t->rules, &a, &b, 0);
		if (diff_result_count(res) != 1)
			t->failures++;
		diff_result_free(res);
	}
	return (NULL);
}

START_TEST(test_threads)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct thread_arg	 args[4];
	pthread_t		 th[4];
	size_t			 i;

	/* The compiled regex and its match context are shared too. */
	apply_rules(r, "profile = go-rust\nunordered = /items\n"
	    "ignore_like = /items/*/etag regex:[a-z]+");
	for (i = 0; i < nitems(th); i++) {
		args[i].rules = r;
		args[i].failures = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main,
		    &args[i]), 0);
	}
	for (i = 0; i < nitems(th); i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	diff_rules_free(r);
}
END_TEST

/* A growable string for the generator below. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* Appends LEN bytes. */
static void
sb_add(struct sbuf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/* Appends a C string. */
static void
sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/*
 * A random document written twice: as Go might (a) and as another
 * encoder might (b: other whitespace, escapes, number spellings, maybe
 * other key order), with at most one leaf changed in b.
 */
struct gen {
	uint64_t	 seed;
	int		 target;	/* the leaf to change, or -1 */
	int		 leaf;
	int		 reorder;
	char		 path[4096];
	char		 want[4096 + 16];	/* "PATH OP" of the change */
};

/* A pseudo-random number (xorshift64). */
static uint64_t
gen_rnd(struct gen *g)
{
	g->seed ^= g->seed << 13;
	g->seed ^= g->seed >> 7;
	g->seed ^= g->seed << 17;
	return (g->seed);
}

/* Some blanks in b only. */
static void
gen_space(struct gen *g, struct sbuf *b)
{
	static const char *const sp[] = { "", "", " ", "\n  ", "\t" };

	sb_adds(b, sp[gen_rnd(g) % 5]);
}

/* A number leaf: the same value spelled two ways. */
static void
gen_number(struct gen *g, struct sbuf *a, struct sbuf *b, int change)
{
	long	 n = (long)(gen_rnd(g) % 2001) - 1000;
	char	 x[64], y[64];

	snprintf(x, sizeof(x), "%ld", n);
	switch (gen_rnd(g) % 4) {
	case 0:
		snprintf(y, sizeof(y), "%ld", n + change);
		break;
	case 1:
		snprintf(y, sizeof(y), "%ld.0", n + change);
		break;
	case 2:
		snprintf(y, sizeof(y), "%ldE0", n + change);
		break;
	default:
		snprintf(y, sizeof(y), n + change == 0 ? "0e-1" : "%ld0e-1",
		    n + change);
		break;
	}
	sb_adds(a, x);
	sb_adds(b, y);
}

/* A string leaf: raw on a, escaped where an encoder may on b. */
static void
gen_string(struct gen *g, struct sbuf *a, struct sbuf *b, int change)
{
	static const char *const raw[] = { "a", "Z", " ", "<", ">", "&",
		"/", "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", "\\\\",
		"\\\"", "\\n" };
	static const char *const esc[] = { "a", "\\u005A", " ", "\\u003c",
		"\\u003E", "\\u0026", "\\/", "\\u00e9", "\\u2028",
		"\\ud83d\\ude00", "\\u005c", "\\u0022", "\\u000a" };
	size_t	 i, n = gen_rnd(g) % 6, k;

	sb_adds(a, "\"");
	sb_adds(b, "\"");
	for (i = 0; i < n; i++) {
		k = gen_rnd(g) % 13;
		sb_adds(a, raw[k]);
		sb_adds(b, gen_rnd(g) % 2 ? esc[k] : raw[k]);
	}
	if (change)
		sb_adds(b, "x");
	sb_adds(a, "\"");
	sb_adds(b, "\"");
}

static void	gen_value(struct gen *, int, struct sbuf *, struct sbuf *);

/* Notes the difference the changed leaf must give. */
static void
gen_want(struct gen *g, const char *op)
{
	snprintf(g->want, sizeof(g->want), "%s %s",
	    g->path[0] != '\0' ? g->path : "\"\"", op);
}

/* Appends reference token S, escaped, to the current path. */
static size_t
gen_push(struct gen *g, const char *s)
{
	size_t	 len = strlen(g->path);

	for (; *s != '\0'; s++) {
		if (*s == '~')
			strcat(g->path, "~0");
		else if (*s == '/')
			strcat(g->path, "~1");
		else
			strncat(g->path, s, 1);
	}
	return (len);
}

/* An object: distinct keys, maybe in another order on b. */
static void
gen_object(struct gen *g, int depth, struct sbuf *a, struct sbuf *b)
{
	static const char *const keys[] = { "id", "a/b", "m~n", "<k>", "",
		"x y" };
	static const char *const keys_b[] = { "\\u0069d", "a\\/b", "m~n",
		"\\u003ck>", "", "x y" };
	struct sbuf	 ta[6], tb[6];
	size_t		 n = gen_rnd(g) % 6, i, j, saved;
	char		 key[16];

	memset(ta, 0, sizeof(ta));
	memset(tb, 0, sizeof(tb));
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/");
		strcat(g->path, key);
		saved = gen_push(g, keys[i]) - 1;
		sb_adds(&ta[i], "\"");
		sb_adds(&ta[i], keys[i]);
		sb_adds(&ta[i], "\":");
		sb_adds(&tb[i], "\"");
		sb_adds(&tb[i], keys_b[i]);
		sb_adds(&tb[i], "\"");
		gen_space(g, &tb[i]);
		sb_adds(&tb[i], ":");
		gen_space(g, &tb[i]);
		gen_value(g, depth + 1, &ta[i], &tb[i]);
		g->path[saved] = '\0';
	}
	sb_adds(a, "{");
	sb_adds(b, "{");
	for (i = 0; i < n; i++) {
		j = g->reorder ? n - 1 - i : i;
		if (i > 0) {
			sb_adds(a, ",");
			sb_adds(b, ",");
			gen_space(g, b);
		}
		sb_add(a, ta[i].p, ta[i].len);
		sb_add(b, tb[j].p, tb[j].len);
	}
	sb_adds(a, "}");
	sb_adds(b, "}");
	for (i = 0; i < n; i++) {
		free(ta[i].p);
		free(tb[i].p);
	}
}

/* A value of any type; containers only above depth 6. */
static void
gen_value(struct gen *g, int depth, struct sbuf *a, struct sbuf *b)
{
	size_t	 n, i, saved;
	char	 idx[16];
	int	 change;

	/* Containers at the top and rather often below; leaves deep down. */
	switch (depth < 2 ? 4 + gen_rnd(g) % 2 : gen_rnd(g) % (depth >= 6 ?
	    4 : 6)) {
	case 0:
		change = (g->leaf++ == g->target);
		if (gen_rnd(g) % 2) {
			sb_adds(a, "null");
			sb_adds(b, change ? "0" : "null");
			if (change)
				gen_want(g, "type");
		} else {
			sb_adds(a, "true");
			sb_adds(b, change ? "false" : "true");
			if (change)
				gen_want(g, "changed");
		}
		break;
	case 1:
	case 3:
		change = (g->leaf++ == g->target);
		gen_number(g, a, b, change);
		if (change)
			gen_want(g, "changed");
		break;
	case 2:
		change = (g->leaf++ == g->target);
		gen_string(g, a, b, change);
		if (change)
			gen_want(g, "changed");
		break;
	case 4:
		n = gen_rnd(g) % 5;
		sb_adds(a, "[");
		sb_adds(b, "[");
		gen_space(g, b);
		for (i = 0; i < n; i++) {
			if (i > 0) {
				sb_adds(a, ",");
				sb_adds(b, ",");
				gen_space(g, b);
			}
			saved = strlen(g->path);
			snprintf(idx, sizeof(idx), "/%zu", i);
			strcat(g->path, idx);
			gen_value(g, depth + 1, a, b);
			g->path[saved] = '\0';
		}
		sb_adds(a, "]");
		sb_adds(b, "]");
		break;
	default:
		gen_object(g, depth, a, b);
		break;
	}
}

/* Whether P, in JSON text S, is inside a string. */
static int
gen_in_string(const char *s, const char *p)
{
	int	 in = 0;

	for (; s < p; s++) {
		if (in && *s == '\\')
			s++;
		else if (*s == '"')
			in = !in;
	}
	return (in);
}

/* Whether the path of "PATH OP" has an index (generated keys do not). */
static int
gen_in_array(const char *want)
{
	const char	*p;

	for (p = want; *p != '\0' && *p != ' '; p++)
		if (*p == '/' && p[1] >= '0' && p[1] <= '9')
			return (1);
	return (0);
}

/* How many times WHAT appears in S. */
static int
gen_count(const char *s, const char *what)
{
	int	 n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return (n);
}

/*
 * Asserts that compare_json() finds the same with and without the
 * prefix json_stream_equal() reports (the subtrees it holds equal are
 * skipped), for bodies A and B under RULES.
 */
static void
check_prefix(const struct diff_rules *rules, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct jdoc		 d[2];
	struct diff_result	*res[2];
	char			*s[2];
	uint32_t		 prefix = 0;
	int			 i;

	memset(d, 0, sizeof(d));
	if (json_stream_equal((const unsigned char *)a, alen,
	    (const unsigned char *)b, blen, &d[0], &d[1], &prefix) ||
	    json_parse(&d[0], (const unsigned char *)a, alen) == -1 ||
	    json_parse(&d[1], (const unsigned char *)b, blen) == -1) {
		json_free(&d[0]);
		json_free(&d[1]);
		return;
	}
	for (i = 0; i < 2; i++) {
		res[i] = calloc(1, sizeof(*res[i]));
		compare_json(res[i], rules, &d[0], &d[1], i ? prefix : 0);
		s[i] = diff_result_json(res[i], 0);
	}
	ck_assert_msg(strcmp(s[0], s[1]) == 0, "prefix %u: %s against %s\n"
	    "%.*s\n%.*s", prefix, s[1], s[0], (int)alen, a, (int)blen, b);
	for (i = 0; i < 2; i++) {
		free(s[i]);
		diff_result_free(res[i]);
		json_free(&d[i]);
	}
}

/*
 * Compares two bodies under RULES (may be NULL); the summary of the
 * differences in DIFFS, and the forgiven object in FORGIVEN if not NULL.
 */
static void
compare_summary(const struct sbuf *a, const struct sbuf *b,
    const char *rules, char *diffs, char *notes, size_t size,
    char **forgiven)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 ra, rb;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*txt;
	json_t			*f;

	apply_rules(r, rules);
	make_response(&ra, &ha, NULL, a->p, a->len);
	make_response(&rb, &hb, NULL, b->p, b->len);
	res = diff_compare(r, &ra, &rb, 0);
	json_decref(summarize(res, diffs, notes, size));
	if (forgiven != NULL) {
		f = diff_result_forgiven_json(res);
		*forgiven = json_dumps(f, JSON_COMPACT);
		json_decref(f);
	}
	txt = diff_result_text(res, 0);
	free(txt);
	diff_result_free(res);
	diff_rules_free(r);
}

START_TEST(test_random_documents)
{
	struct diff_rules *rules[2];
	struct gen	 g;
	struct sbuf	 a, b;
	char		 diffs[8192], notes[512];
	int		 round, leaves;

	rules[0] = diff_rules_new(NULL);
	rules[1] = diff_rules_new(NULL);
	apply_rules(rules[1], "profile = go-rust\nunordered = /**\n"
	    "missing_equals_default = yes\nignore = /**/id\n"
	    "shape_only = /**/m~0n");

	for (round = 0; round < 3000; round++) {
		/* Written two ways: equal. */
		memset(&g, 0, sizeof(g));
		g.seed = 0x2545f4914f6cdd1dULL + (uint64_t)round * 7919;
		g.target = -1;
		g.reorder = round % 3 == 0;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		gen_value(&g, 0, &a, &b);
		leaves = g.leaf;
		compare_summary(&a, &b, NULL, diffs, notes, sizeof(diffs),
		    NULL);
		ck_assert_msg(diffs[0] == '\0' && notes[0] == '\0', "round %d: "
		    "%s / %s\n%s\n%s", round, diffs, notes, a.p, b.p);
		free(a.p);
		free(b.p);
		if (leaves == 0)
			continue;

		/* The same document with one leaf changed: one difference. */
		memset(&g, 0, sizeof(g));
		g.seed = 0x2545f4914f6cdd1dULL + (uint64_t)round * 7919;
		g.target = (int)((uint64_t)round * 31 % (uint64_t)leaves);
		g.reorder = round % 3 == 0;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		gen_value(&g, 0, &a, &b);
		compare_summary(&a, &b, NULL, diffs, notes, sizeof(diffs),
		    NULL);
		ck_assert_msg(strcmp(diffs, g.want) == 0, "round %d: got \"%s\", "
		    "want \"%s\"\n%s\n%s", round, diffs, g.want, a.p, b.p);
		check_prefix(rules[round % 2], a.p, a.len, b.p, b.len);
		free(a.p);
		free(b.p);
	}
	diff_rules_free(rules[0]);
	diff_rules_free(rules[1]);
}
END_TEST

/*
 * shape_only = yes on generated documents: written two ways they are
 * equal and nothing is forgiven; with one leaf changed, a value change
 * is forgiven (counted once) and only a change of type is reported.
 */
START_TEST(test_random_shape)
{
	struct gen	 g;
	struct sbuf	 a, b;
	char		 diffs[8192], notes[512], *forgiven;
	int		 round, leaves, type;

	for (round = 0; round < 2000; round++) {
		memset(&g, 0, sizeof(g));
		g.seed = 0x9e3779b97f4a7c15ULL + (uint64_t)round * 104729;
		g.target = -1;
		g.reorder = round % 2;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		gen_value(&g, 0, &a, &b);
		leaves = g.leaf;
		compare_summary(&a, &b, "shape_only = yes", diffs, notes,
		    sizeof(diffs), &forgiven);
		ck_assert_msg(diffs[0] == '\0' && strcmp(forgiven, "{}") == 0,
		    "round %d: %s %s\n%s\n%s", round, diffs, forgiven, a.p,
		    b.p);
		free(forgiven);
		free(a.p);
		free(b.p);
		if (leaves == 0)
			continue;
		memset(&g, 0, sizeof(g));
		g.seed = 0x9e3779b97f4a7c15ULL + (uint64_t)round * 104729;
		g.target = (int)((uint64_t)round * 17 % (uint64_t)leaves);
		g.reorder = round % 2;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		gen_value(&g, 0, &a, &b);
		compare_summary(&a, &b, "shape_only = yes", diffs, notes,
		    sizeof(diffs), &forgiven);
		type = strstr(g.want, " type") != NULL;
		/*
		 * A type changes the shape. Below an array element, the
		 * element's shape: it is reported as removed and added, or
		 * not at all if the array still has an element of each shape.
		 */
		if (type && gen_in_array(g.want))
			ck_assert_msg(strstr(diffs, " changed") == NULL &&
			    strstr(diffs, " type") == NULL, "round %d: got "
			    "\"%s\" for %s\n%s\n%s", round, diffs, g.want, a.p,
			    b.p);
		else if (type)
			ck_assert_msg(strcmp(diffs, g.want) == 0, "round %d: got "
			    "\"%s\", want \"%s\"\n%s\n%s", round, diffs, g.want,
			    a.p, b.p);
		else
			ck_assert_msg(diffs[0] == '\0' &&
			    strcmp(forgiven, "{\"shape_only\":1}") == 0, "round "
			    "%d: %s %s (%s)\n%s\n%s", round, diffs, forgiven,
			    g.want, a.p, b.p);
		free(forgiven);
		free(a.p);
		free(b.p);
	}
}
END_TEST

/*
 * allow_added = yes on generated documents: every member the shadow
 * alone has is forgiven (one count each), and the reverse comparison
 * reports each of them as removed.
 */
START_TEST(test_random_added)
{
	struct gen	 g;
	struct sbuf	 a, b;
	char		 diffs[8192], notes[512], *forgiven, want[64];
	const char	*p;
	int		 round, n;

	for (round = 0; round < 2000; round++) {
		memset(&g, 0, sizeof(g));
		g.seed = 0x51a2b3c4d5e6f708ULL + (uint64_t)round * 6151;
		g.target = -1;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		gen_value(&g, 0, &a, &b);
		/* The shadow: every object with a member "new" more. */
		free(b.p);
		memset(&b, 0, sizeof(b));
		for (p = a.p, n = 0; *p != '\0'; p++) {
			sb_add(&b, p, 1);
			if (*p == '{' && !gen_in_string(a.p, p)) {
				sb_adds(&b, p[1] == '}' ? "\"new\":1" :
				    "\"new\":1,");
				n++;
			}
		}
		compare_summary(&a, &b, "allow_added = yes", diffs, notes,
		    sizeof(diffs), &forgiven);
		snprintf(want, sizeof(want), "{\"allow_added\":%d}", n);
		ck_assert_msg(diffs[0] == '\0' && strcmp(forgiven,
		    n > 0 ? want : "{}") == 0, "round %d: %s %s\n%s\n%s",
		    round, diffs, forgiven, a.p, b.p);
		free(forgiven);
		compare_summary(&b, &a, "allow_added = yes", diffs, notes,
		    sizeof(diffs), NULL);
		ck_assert_msg(gen_count(diffs, " removed") == n, "round %d: %s",
		    round, diffs);
		free(a.p);
		free(b.p);
	}
}
END_TEST

/*
 * A regex that backtracks catastrophically ends at its match limit: the
 * value is compared as if the rule did not hold, the result notes a rule
 * error and counts it. The case's timeout is the bound.
 */
START_TEST(test_regex_limit)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 ra, rb;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*a, *b, *js;
	size_t			 n = 30000, i;

	apply_rules(r, "ignore_like = /v regex:(a+)+$ /w regex:[ab]+");
	/* 30,000 a's then b: (a+)+$ backtracks exponentially. */
	a = malloc(n + 64);
	b = malloc(n + 64);
	ck_assert(a != NULL && b != NULL);
	strcpy(a, "{\"w\":\"ab\",\"v\":\"");
	i = strlen(a);
	memset(a + i, 'a', n);
	strcpy(a + i + n, "b\"}");
	strcpy(b, a);
	b[6] = 'b';
	b[7] = 'a';
	b[i + n] = 'c';
	make_response(&ra, &ha, NULL, a, strlen(a));
	make_response(&rb, &hb, NULL, b, strlen(b));
	res = diff_compare(r, &ra, &rb, 0);
	js = diff_result_json(res, 0);
	ck_assert_msg(strstr(js, "\"path\":\"/v\",\"op\":\"changed\"") !=
	    NULL, "%s", js);
	ck_assert_msg(strstr(js, "\"note\":\"rule_error\",\"detail\":"
	    "\"ignore_like /v regex:(a+)+$: match limit reached at /v\"") !=
	    NULL, "%s", js);
	ck_assert_ptr_nonnull(strstr(js, "\"forgiven\":{\"ignore_like /w "
	    "regex:[ab]+\":1}"));
	ck_assert_ptr_nonnull(strstr(js, "\"rule_errors\":1}"));
	ck_assert_uint_eq(diff_result_rule_errors(res), 1);
	ck_assert_int_eq(diff_result_differs(res), 1);
	free(js);
	js = diff_result_text(res, 0);
	ck_assert_ptr_nonnull(strstr(js, "rule errors: 1\n"));
	free(js);
	diff_result_free(res);
	diff_rules_free(r);
	free(a);
	free(b);
}
END_TEST

/* {"v":[...]}: N strings, PRE then (NUM) the index's 3 last hex digits. */
static char *
regex_doc(size_t n, const char *pre, int num)
{
	char	*d, *p;
	size_t	 i, cap = 64 + n * 40;

	d = p = malloc(cap);
	ck_assert_ptr_nonnull(d);
	p += sprintf(p, "{\"v\":[");
	for (i = 0; i < n; i++) {
		p += sprintf(p, i > 0 ? ",\"" : "\"");
		p += sprintf(p, "%s", pre);
		if (num)
			p += sprintf(p, "%03x", (unsigned)i & 0xfff);
		p += sprintf(p, "\"");
	}
	strcpy(p, "]}");
	return (d);
}

/* Compares regex_doc(N, PA, NUM) with regex_doc(N, PB, NUM) under RULES. */
static struct diff_result *
regex_compare(const char *rules, size_t n, const char *pa, const char *pb,
    int num)
{
	struct diff_rules	*r = diff_rules_new(NULL);
	struct diff_response	 ra, rb;
	struct diff_header	 ha, hb;
	struct diff_result	*res;
	char			*a = regex_doc(n, pa, num);
	char			*b = regex_doc(n, pb, num);

	apply_rules(r, rules);
	make_response(&ra, &ha, NULL, a, strlen(a));
	make_response(&rb, &hb, NULL, b, strlen(b));
	res = diff_compare(r, &ra, &rb, 0);
	diff_rules_free(r);
	free(a);
	free(b);
	return (res);
}

/*
 * A comparison's regex work is bounded whatever the number of values: a
 * regex that reached its limit once is not run again (one rule error,
 * not 5,000), and after 4,096 matches no regex runs (a second note).
 * Counts, not time, are asserted.
 */
START_TEST(test_regex_budget)
{
	static const struct {
		const char	*rules;
		size_t		 n;
		const char	*pre[2];
		int		 num;
		size_t		 errors;
		const char	*want;
	} t[] = {
		/* 25 a's then b: each value alone would reach the limit. */
		{ "ignore_like = /v/* regex:(a+)+$", 5000,
		  { "aaaaaaaaaaaaaaaaaaaaaaaaab", "aaaaaaaaaaaaaaaaaaaaaaaaac" },
		  0, 1, "\"diffs_omitted\":4000,\"forgiven\":{},\"notes\":"
		  "[{\"side\":\"primary\",\"note\":\"rule_error\",\"detail\":"
		  "\"ignore_like /v/* regex:(a+)+$: match limit reached at "
		  "/v/0\"}],\"rule_errors\":1}" },
		/* Under the budget a regex forgives every value. */
		{ "ignore_like = /v/* regex:[0-9a-f]{4}", 2048, { "a", "b" }, 1,
		  0, "{\"diffs\":[],\"forgiven\":{\"ignore_like /v/* "
		  "regex:[0-9a-f]{4}\":2048},\"notes\":[]}" },
		/* Two matches a value: 2,048 forgiven, the rest reported. */
		{ "ignore_like = /v/* regex:[0-9a-f]{4}", 5000, { "a", "b" }, 1,
		  1, "\"diffs_omitted\":1952,\"forgiven\":{\"ignore_like /v/* "
		  "regex:[0-9a-f]{4}\":2048},\"notes\":[{\"side\":\"primary\","
		  "\"note\":\"rule_error\",\"detail\":\"ignore_like /v/* "
		  "regex:[0-9a-f]{4}: regex budget of the comparison spent at "
		  "/v/2048\"}],\"rule_errors\":1}" },
	};
	struct diff_result	*res;
	char			*js;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		res = regex_compare(t[i].rules, t[i].n, t[i].pre[0],
		    t[i].pre[1], t[i].num);
		js = diff_result_json(res, 0);
		ck_assert_uint_eq(diff_result_rule_errors(res), t[i].errors);
		ck_assert_msg(strstr(js, t[i].want) != NULL, "%zu: %s", i, js);
		free(js);
		diff_result_free(res);
	}
}
END_TEST

/*
 * One scratch through documents that grow, shrink, fail to parse and
 * pass SCRATCH_KEEP (4 MiB per document): every result is the one
 * diff_compare() gives without it.
 */
START_TEST(test_scratch)
{
	static const char	*small[] = {
		"{\"a\":\"x\\u003cy\",\"b\":[1,2]}", "{\"b\":[1,2],\"a\":\"x<y\"}",
		"{\"a\":[1,2", "{\"a\":[1,2]}",
		"[\"\\n\",1.0]", "[\"\\n\",1]",
		"{\"k\":1,\"k\":2}", "{\"k\":1,\"k\":3}"
	};
	struct diff_rules	*r;
	struct diff_scratch	*scratch;
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res[2];
	struct {
		char	*p;
		size_t	 len;
	}			 big[2];
	char			*s[2];
	size_t			 i, k, sizes[] = { 1000, 200000, 1500000, 10 };
	int			 round, side;

	r = diff_rules_new(NULL);
	scratch = diff_scratch_new();
	for (round = 0; round < 3; round++) {
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			/* [0,0,...,"\u0041"] against one 0 changed, reordered
			   escapes: a tree per side, nodes and arena used. */
			for (side = 0; side < 2; side++) {
				big[side].p = malloc(sizes[k] * 2 + 32);
				big[side].len = 0;
				big[side].p[big[side].len++] = '[';
				for (i = 0; i < sizes[k]; i++) {
					big[side].p[big[side].len++] =
					    side && i == sizes[k] / 2 ? '1' :
					    '0';
					big[side].p[big[side].len++] = ',';
				}
				memcpy(big[side].p + big[side].len,
				    side ? "\"A\"]" : "\"\\u0041\"]", side ? 4 : 9);
				big[side].len += side ? 4 : 9;
			}
			make_response(&a, &ha, NULL, big[0].p, big[0].len);
			make_response(&b, &hb, NULL, big[1].p, big[1].len);
			res[0] = diff_compare(r, &a, &b, 16 * 1024 * 1024);
			res[1] = diff_compare_scratch(scratch, r, &a, &b,
			    16 * 1024 * 1024);
			s[0] = diff_result_json(res[0], 0);
			s[1] = diff_result_json(res[1], 0);
			ck_assert_str_eq(s[1], s[0]);
			ck_assert_int_eq(diff_result_count(res[1]), 1);
			for (side = 0; side < 2; side++) {
				free(s[side]);
				diff_result_free(res[side]);
				free(big[side].p);
			}
			for (i = 0; i < sizeof(small) / sizeof(small[0]);
			    i += 2) {
				make_response(&a, &ha, NULL, small[i],
				    strlen(small[i]));
				make_response(&b, &hb, NULL, small[i + 1],
				    strlen(small[i + 1]));
				res[0] = diff_compare(r, &a, &b, 0);
				res[1] = diff_compare_scratch(scratch, r, &a,
				    &b, 0);
				s[0] = diff_result_json(res[0], 0);
				s[1] = diff_result_json(res[1], 0);
				ck_assert_str_eq(s[1], s[0]);
				for (side = 0; side < 2; side++) {
					free(s[side]);
					diff_result_free(res[side]);
				}
			}
		}
	}
	diff_scratch_free(scratch);
	diff_scratch_free(NULL);
	diff_rules_free(r);
}
END_TEST

START_TEST(test_mutations)
{
	static const char	*doc = "{\"items\":[{\"id\":1,\"tags\":[\"a\","
				    "\"b\"],\"at\":\"2024-01-02T03:04:05Z\","
				    "\"n\":null,\"p\":1.5e3,\"s\":\"\\u003c\\ud83d"
				    "\\ude00\"},{\"id\":2,\"x\":{\"y\":[[],{}]}}],"
				    "\"meta\":{\"k~/\":true,\"e\":\"\"}}";
	static const char	 bytes[] = "{}[],:\"\\ -+.eE0123456789tfnu\x80"
				    "\xc3\xff\x00";
	struct diff_rules	*rules[3];
	struct diff_response	 a, b;
	struct diff_header	 ha, hb;
	struct diff_result	*res, *res2;
	struct diff_scratch	*scratch;
	uint64_t		 seed = 88172645463325252ULL;
	size_t			 len = strlen(doc), i, k, n;
	char			*m, *s, *s2;
	int			 round;

	rules[0] = diff_rules_new(NULL);
	rules[1] = diff_rules_new(NULL);
	rules[2] = diff_rules_new(NULL);
	apply_rules(rules[1], "profile = go-rust\nunordered = /items "
	    "/items/*/tags\nignore = /meta/** /items/*/x\n"
	    "missing_equals_default = yes\nfloat_tolerance = 1e-9");
	apply_rules(rules[2], "unordered = /items\nshape_only = /items/*/x "
	    "/items/*/tags\nallow_added = /items/*\nignore_like = /items/*/s "
	    "regex:^(\\D|\\d)+$ /items/*/at rfc3339 /meta/e string");
	m = malloc(len + 8);
	scratch = diff_scratch_new();
	for (round = 0; round < 20000; round++) {
		memcpy(m, doc, len + 1);
		n = 1 + round % 4;
		for (k = 0; k < n; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			i = seed % len;
			m[i] = bytes[(seed >> 32) % (sizeof(bytes) - 1)];
		}
		make_response(&a, &ha, round % 2 ? NULL : NO_TYPE, doc, len);
		make_response(&b, &hb, round % 2 ? NULL : NO_TYPE, m, len);
		res = diff_compare(rules[round % 3], &a, &b, 0);
		s = diff_result_json(res, 0);
		ck_assert_ptr_nonnull(s);
		check_prefix(rules[round % 3], doc, len, m, len);
		/* A kept scratch changes nothing, whatever came before. */
		res2 = diff_compare_scratch(scratch, rules[round % 3], &a, &b,
		    0);
		s2 = diff_result_json(res2, 0);
		ck_assert_str_eq(s2, s);
		free(s2);
		diff_result_free(res2);
		free(s);
		s = diff_result_text(res, 0);
		free(s);
		diff_result_free(res);
	}
	diff_scratch_free(scratch);
	free(m);
	diff_rules_free(rules[0]);
	diff_rules_free(rules[1]);
	diff_rules_free(rules[2]);
}
END_TEST

static Suite *
diff_suite(void)
{
	const TTest	*record[] = { test_record_exact_numbers,
	    test_record_values, test_record_cut, test_record_headers,
	    test_redact_body, test_redact_body_words, test_redact_names, test_record_bytes,
	    test_text_output, test_many_diffs, NULL };
	const TTest	*encoding[] = { test_gzip_against_identity,
	    test_gzip_chain_and_members, test_gzip_bomb, test_gzip_broken,
	    test_truncated_capture, NULL };
	const TTest	*limits[] = { test_deep, test_unordered_large,
	    test_threads, test_random_documents, test_random_shape,
	    test_random_added, test_regex_limit, test_regex_budget,
	    test_mutations, test_scratch, NULL };
	Suite		*s;
	TCase		*tc;

	s = suite_create("diff");
	tc = tcase_create("body");
	tcase_add_loop_test(tc, test_body_case, 0, (int)nitems(body_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("go-rust");
	tcase_add_loop_test(tc, test_go_rust_case, 0,
	    (int)nitems(go_rust_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("headers");
	tcase_add_loop_test(tc, test_header_case, 0,
	    (int)nitems(header_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_rule_case, 0, (int)nitems(rule_cases));
	tcase_add_test(tc, test_rules_inherit);
	tcase_add_test(tc, test_rules_inherit_new);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tu_tcase_tests(tcase_create("record"), record));
	suite_add_tcase(s, tu_tcase_tests(tcase_create("encoding"), encoding));
	suite_add_tcase(s, tu_tcase_tests(tu_tcase("limits", 60, NULL, NULL),
	    limits));
	return (s);
}

int
main(void)
{
	return (tu_run(diff_suite()));
}
