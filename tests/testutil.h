#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>

#include <check.h>
#include <jansson.h>

/* Runs one suite with TAP output on stdout; returns the exit status. */
int	tu_run(Suite *);
/*
 * A test case whose tests may take TIMEOUT seconds each (0: Check's
 * default), with SETUP and TEARDOWN (NULL for none) around each test, in
 * its process.
 */
TCase	*tu_tcase(const char *, double, SFun, SFun);
/* Adds the tests of a NULL-terminated table to a test case; returns it. */
TCase	*tu_tcase_tests(TCase *, const TTest *const *);
/* A suite NAME of one test case holding the tests of a NULL-ended table. */
Suite	*tu_suite(const char *, TCase *, const TTest *const *);

/* A process a test started; stopped by the test, by its PID. */
struct tu_proc {
	pid_t	 pid;
	int	 port;		/* what it listens on */
	char	 out[256];	/* its stdout and stderr, in one file */
	char	 conf[256];	/* its config file, if any */
};

/* Milliseconds on the monotonic clock. */
long long	tu_now_ms(void);
/* The build directory's path of a built program. */
const char *tu_build_path(const char *);
/*
 * Runs program PROG to its end with the arguments ARG and then AP's up to
 * NULL, stdin from file IN (NULL: /dev/null), stdout into OUT and stderr
 * into the file stderr.txt and then ERR (if not NULL), each of LEN bytes
 * at most, NUL-terminated. Its exit status; asserts it ran and exited.
 */
int		 tu_run_va(const char *, const char *, char *, char *, size_t,
		    const char *, va_list);
/* A fresh temporary directory, removed at exit. */
const char *tu_tmpdir(void);

/*
 * Starts sd-backend (FLAVOR "go" or "rust"; EXTRA: more arguments,
 * separated by blanks, at most TU_BACKEND_ARGS, or NULL).
 */
#define TU_BACKEND_ARGS	8
int	tu_backend_start(struct tu_proc *, const char *, const char *);
/* Starts sd-misbehave in MODE, logging request heads to LOG (or NULL). */
int	tu_misbehave_start(struct tu_proc *, const char *, const char *);
/* The same on a given port (0: any). */
int	tu_misbehave_start_on(struct tu_proc *, const char *, const char *,
	    int);
/* Stops a daemon and two backends by PID; the daemon's exit status. */
int	tu_stop_all(struct tu_proc *, struct tu_proc *, struct tu_proc *);
/*
 * The records of the divergence log at PATH, an array, once it holds N
 * (waiting at most WAIT_MS; asserts it does), every line validated.
 */
json_t	*tu_records(const char *, size_t, int);
/* Validates every line of PATH against the divergence log's schema. */
int	tu_validate_records(const char *);
/*
 * Starts the daemon with CONF (its text; "%BACKEND%" is replaced by
 * BACKEND_PORT) listening on 127.0.0.1:0, and learns its port.
 */
int	tu_daemon_start(struct tu_proc *, const char *, int);
/* Sends SIG and waits for the exit (bounded); returns the exit status. */
int	tu_proc_stop(struct tu_proc *, int);
/* Waits (bounded) for P's output to hold PREFIX and a port: it, or -1. */
int	tu_proc_port(struct tu_proc *, const char *);
/* Whether the process's output file contains TEXT. */
int	tu_proc_output_has(const struct tu_proc *, const char *);
/* Waits at most MS for P's output to hold TEXT; whether it does. */
int	tu_proc_wait_output(const struct tu_proc *, const char *, int);
/* Peak resident memory of the process, in KiB (VmHWM). */
long	tu_proc_peak_kib(const struct tu_proc *);
/* Resident memory of the process now, in KiB (VmRSS). */
long	tu_proc_rss_kib(const struct tu_proc *);

/* A parsed response. */
struct tu_resp {
	int	 status;
	char	 head[16384];	/* status line and headers, as received */
	char	*body;		/* malloc'd, NUL-terminated */
	size_t	 body_len;
	int	 closed;	/* the server closed after it */
};

int	tu_connect(int);
int	tu_connect_rcvbuf(int, int);
int	tu_send(int, const void *, size_t);
int	tu_send_str(int, const char *);
/* Reads one response; HEAD says the request was HEAD. 0 or -1. */
int	tu_read_response(int, int, struct tu_resp *);
void	tu_resp_free(struct tu_resp *);
/* The value of a header of R (case-insensitive), copied into BUF. */
const char *tu_resp_header(const struct tu_resp *, const char *, char *,
	    size_t);
/* Sends RAW on a new connection and reads one response. */
int	tu_exchange(int, const char *, struct tu_resp *);
/* Whether the peer closed FD within MS milliseconds. */
int	tu_wait_closed(int, int);
/* Requests received by the backend (its /stats). */
long	tu_backend_count(int);
/* Waits (bounded) until the backend on PORT counted N requests: 0 or -1. */
int	tu_backend_wait(int, long);
/* The daemon's admin /stats, parsed (the port from its output), or NULL. */
json_t	*tu_admin_stats(struct tu_proc *);
/* The integer at the slash-separated PATH of a JSON object, or -1. */
long long tu_json_int(json_t *, const char *);
/* The sum of the integer members of the object at PATH of a JSON object. */
long long tu_json_sum(json_t *, const char *);
/* The exchanges compared, over all routes, in the daemon's /stats. */
long long tu_compared(json_t *);
/*
 * Waits (bounded) until every exchange the daemon mirrored so far is
 * compared or dropped; 0 or -1. With one diff thread, the record of an
 * exchange mirrored after this comes after all of theirs: a sentinel.
 */
int	tu_mirrors_wait(struct tu_proc *);

#endif
