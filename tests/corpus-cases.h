/*
 * Requests of the conformance corpus (docs/http.md, "Conformance") that
 * issue 14 found forwarded or refused wrongly, byte for byte, each named
 * by its case id in cases.json. Sources: aws/http-desync-guardian
 * (tests/ambiguous.yaml, Apache-2.0), nodejs/llhttp (test/request/,
 * MIT), defparam/smuggler (configs/exhaustive.py rendered in its
 * template, MIT).
 */
#ifndef CORPUS_CASES_H
#define CORPUS_CASES_H

/* Field names that CGI-style backends read as framing fields. */
#define GUARDIAN_AMBIGUOUS_08	"POST /foo/bar HTTP/1.1\r\n"		\
	"Transfer_Encoding: chunked\r\nHost: h.test\r\n\r\n"		\
	"5\r\nhello\r\n0\r\n\r\n"
#define GUARDIAN_AMBIGUOUS_09	"POST /foo/bar HTTP/1.1\r\n"		\
	"Content_Length: 1000\r\nHost: h.test\r\n\r\n"
#define GUARDIAN_AMBIGUOUS_31	"POST /foo/bar HTTP/1.1\r\n"		\
	"Transfer---Encoding: chunked\r\nHost: h.test\r\n\r\n"		\
	"5\r\nhello\r\n0\r\n\r\n"
#define GUARDIAN_AMBIGUOUS_32	"POST /foo/bar HTTP/1.1\r\n"		\
	"Transfer___Encoding: chunked\r\nHost: h.test\r\n\r\n"		\
	"5\r\nhello\r\n0\r\n\r\n"
#define SMUGGLER_0131		"POST /?cb=7 HTTP/1.1\r\n"		\
	"Transfer_Encoding: chunked\r\nHost: h.test\r\n"		\
	"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "	\
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.87 "	\
	"Safari/537.36\r\n"						\
	"Content-type: application/x-www-form-urlencoded; charset=UTF-8\r\n"\
	"Content-Length: 45\r\n\r\n"					\
	"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n"

/* Protocols other than HTTP, which llhttp 8.1 accepts. */
#define LLHTTP_METHOD_12	"SOURCE /music/sweet/music ICE/1.0\r\n"	\
	"Host: example.com\r\n\r\n"
#define LLHTTP_METHOD_13	"OPTIONS /music/sweet/music RTSP/1.0\r\n"\
	"Host: example.com\r\n\r\n"
#define LLHTTP_METHOD_14	"ANNOUNCE /music/sweet/music RTSP/1.0\r\n"\
	"Host: example.com\r\n\r\n"

/* Absolute-form targets (llhttp/uri/03 ends with one more CRLF). */
#define LLHTTP_URI_03		"GET http://hypnotoad.org?hail=all HTTP/1.1"\
	"\r\nHost: h.test\r\n\r\n\r\n"
#define LLHTTP_URI_04		"GET http://hypnotoad.org:1234?hail=all "\
	"HTTP/1.1\r\nHost: h.test\r\n\r\n"
#define LLHTTP_URI_06		"GET http://hypnotoad.org:1234 HTTP/1.1\r\n"\
	"Host: h.test\r\n\r\n"

/* A method llhttp 8.1 does not know, with a body. */
#define LLHTTP_METHOD_16	"QUERY /contacts HTTP/1.1\r\n"		\
	"Host: example.org\r\nContent-Type: example/query\r\n"		\
	"Accept: text/csv\r\nContent-Length: 41\r\n\r\n"		\
	"select surname, givenname, email limit 10"

#endif
