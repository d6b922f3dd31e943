/*
 * Helpers shared by the Check programs: TAP output, starting and
 * stopping real processes by PID, and a small raw HTTP/1.1 client (raw,
 * so that tests can send what no library would).
 *
 * Every wait is bounded. Processes a test starts die with the test
 * (PR_SET_PDEATHSIG), and tu_proc_stop kills them by PID.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define TU_START_MS	10000	/* a process has this long to listen */
#define TU_STOP_MS	10000	/* and this long to exit on a signal */
#define TU_IO_MS	10000	/* a response has this long to arrive */

/* Runs one suite with TAP output on stdout; returns the exit status. */
int
tu_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

/*
 * A test case NAME whose tests may take TIMEOUT seconds each (0: Check's
 * default), with SETUP and TEARDOWN (NULL for none) around each test, in
 * its process.
 */
TCase *
tu_tcase(const char *name, double timeout, SFun setup, SFun teardown)
{
	TCase	*tc = tcase_create(name);

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	return (tc);
}

/* Adds the tests of the NULL-terminated table TESTS to TC; returns TC. */
TCase *
tu_tcase_tests(TCase *tc, const TTest *const *tests)
{
	for (; *tests != NULL; tests++)
		tcase_add_test(tc, *tests);
	return (tc);
}

/* A suite NAME of the one test case TC, holding the tests of TESTS. */
Suite *
tu_suite(const char *name, TCase *tc, const TTest *const *tests)
{
	Suite	*s = suite_create(name);

	suite_add_tcase(s, tu_tcase_tests(tc, tests));
	return (s);
}

/* The path of a built program, under $top_builddir (or "."). */
const char *
tu_build_path(const char *name)
{
	static char	 path[PATH_MAX];
	const char	*top = getenv("top_builddir");

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", name);
	return (path);
}

/* Reads at most LEN - 1 bytes of FD into BUF, NUL-terminated. */
static void
tu_slurp(int fd, char *buf, size_t len)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
}

/* Runs PROG with ARG and AP's arguments, its streams kept; its status. */
int
tu_run_va(const char *prog, const char *in, char *out, char *err,
    size_t len, const char *arg, va_list ap)
{
	const char	*argv[32];
	int		 fds[2], efd, fd, status;
	size_t		 n = 0;
	pid_t		 pid;

	argv[n++] = prog;
	for (; arg != NULL && n < 31; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	argv[n] = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	/* Its complaints go to a file, not into the TAP stream. */
	efd = open("stderr.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(efd, 0);
	if ((pid = fork()) == 0) {
		fd = open(in != NULL ? in : "/dev/null", O_RDONLY);
		dup2(fd, 0);
		dup2(fds[1], 1);
		dup2(efd, 2);
		close(fds[0]);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	close(fds[1]);
	tu_slurp(fds[0], out, len);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (err != NULL) {
		lseek(efd, 0, SEEK_SET);
		tu_slurp(efd, err, len);
	}
	close(efd);
	ck_assert_msg(WIFEXITED(status), "%s did not exit", prog);
	ck_assert_msg(WEXITSTATUS(status) != 127, "cannot run %s", prog);
	return (WEXITSTATUS(status));
}

static char	tu_dir[64];
static pid_t	tu_dir_pid;	/* the process that made tu_dir */

static void
tu_tmpdir_remove(void)
{
	char	 cmd[128];

	if (tu_dir[0] != '\0' && getpid() == tu_dir_pid) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tu_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tu_dir);
	}
}

/*
 * A temporary directory of this process, removed when it exits. It is
 * new and empty: a failed test leaves its directory behind (Check ends
 * it with _exit), and a name made of the PID alone would be reused with
 * its files by a later process given the same PID.
 */
const char *
tu_tmpdir(void)
{
	if (tu_dir[0] == '\0' || getpid() != tu_dir_pid) {
		snprintf(tu_dir, sizeof(tu_dir), "/tmp/sdtest.%ld.XXXXXX",
		    (long)getpid());
		if (mkdtemp(tu_dir) == NULL) {
			tu_dir[0] = '\0';
			return (NULL);
		}
		tu_dir_pid = getpid();
		atexit(tu_tmpdir_remove);
	}
	return (tu_dir);
}

/* Milliseconds on the monotonic clock. */
long long
tu_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Sleeps MS milliseconds. */
static void
tu_sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Starts ARGV with its output in P->out; 0 or -1. */
static int
tu_spawn(struct tu_proc *p, char *const argv[], const char *env)
{
	int	 fd;

	p->pid = fork();
	if (p->pid == -1)
		return (-1);
	if (p->pid == 0) {
		/* Dies with the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd == -1)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (env != NULL)
			putenv((char *)env);
		execv(argv[0], argv);
		_exit(127);
	}
	return (0);
}

/* Reads P's output file into BUF. */
static size_t
tu_read_output(const struct tu_proc *p, char *buf, size_t len)
{
	FILE	*f;
	size_t	 n;

	/* Not created yet: empty, not what the buffer held before. */
	buf[0] = '\0';
	if ((f = fopen(p->out, "r")) == NULL)
		return (0);
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (n);
}

/* Waits until P's output holds PREFIX followed by a port; 0 or -1. */
static int
tu_wait_port(struct tu_proc *p, const char *prefix)
{
	return ((p->port = tu_proc_port(p, prefix)) > 0 ? 0 : -1);
}

/* Waits (bounded) for P's output to hold PREFIX and a port; it, or -1. */
int
tu_proc_port(struct tu_proc *p, const char *prefix)
{
	char		 buf[65536];
	const char	*at;
	long long	 deadline = tu_now_ms() + TU_START_MS;
	int		 status;

	while (tu_now_ms() < deadline) {
		tu_read_output(p, buf, sizeof(buf));
		if ((at = strstr(buf, prefix)) != NULL &&
		    strchr(at, '\n') != NULL)
			return (atoi(at + strlen(prefix)) > 0 ?
			    atoi(at + strlen(prefix)) : -1);
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			fprintf(stderr, "process exited: %s\n", buf);
			p->pid = 0;
			return (-1);
		}
		tu_sleep_ms(10);
	}
	return (-1);
}

/*
 * Starts test server ARGV, its output in the temporary directory's
 * NAME.N.out, and waits until it says its port (as tu_wait_port).
 */
static int
server_spawn(struct tu_proc *p, const char *name, char *const argv[])
{
	static int	 n;

	snprintf(p->out, sizeof(p->out), "%s/%s.%d.out", tu_tmpdir(), name,
	    n++);
	if (tu_spawn(p, argv, NULL) == -1)
		return (-1);
	return (tu_wait_port(p, "port "));
}

/* Starts sd-backend with FLAVOR (and one extra argument, or NULL). */
int
tu_backend_start(struct tu_proc *p, const char *flavor, const char *extra)
{
	char		 bin[PATH_MAX], f[] = "-f", fl[16], ex[2 * PATH_MAX];
	char		*argv[3 + TU_BACKEND_ARGS + 1], *save = NULL, *w;
	size_t		 i = 0;

	memset(p, 0, sizeof(*p));
	snprintf(fl, sizeof(fl), "%s", flavor);
	snprintf(ex, sizeof(ex), "%s", extra ? extra : "");
	snprintf(bin, sizeof(bin), "%s", tu_build_path("tests/sd-backend"));
	argv[i++] = bin;
	argv[i++] = f;
	argv[i++] = fl;
	for (w = strtok_r(ex, " ", &save); w != NULL && i < 3 +
	    TU_BACKEND_ARGS; w = strtok_r(NULL, " ", &save))
		argv[i++] = w;
	argv[i] = NULL;
	return (server_spawn(p, "backend", argv));
}

/* Starts sd-misbehave in MODE, logging request heads to LOG (or NULL). */
int
tu_misbehave_start(struct tu_proc *p, const char *mode, const char *log)
{
	return (tu_misbehave_start_on(p, mode, log, 0));
}

/* The same on PORT (0: any), to take the place of one stopped. */
int
tu_misbehave_start_on(struct tu_proc *p, const char *mode, const char *log,
    int port)
{
	char		 bin[PATH_MAX], m[] = "-m", md[64], c[] = "-c";
	char		 lg[PATH_MAX], pf[] = "-p", pt[16];
	char *const	 argv[] = { bin, m, md, pf, pt, log ? c : NULL, lg,
			    NULL };

	memset(p, 0, sizeof(*p));
	snprintf(md, sizeof(md), "%s", mode);
	snprintf(pt, sizeof(pt), "%d", port);
	snprintf(lg, sizeof(lg), "%s", log ? log : "");
	snprintf(bin, sizeof(bin), "%s", tu_build_path("tests/sd-misbehave"));
	return (server_spawn(p, "misbehave", argv));
}

/*
 * Stops the daemon D, then the backends A and B (any may have no
 * process), and forgets them. Returns the daemon's exit status on
 * SIGTERM (0 when it was not running).
 */
int
tu_stop_all(struct tu_proc *d, struct tu_proc *a, struct tu_proc *b)
{
	int	 status = 0;

	if (d->pid > 0)
		status = tu_proc_stop(d, SIGTERM);
	if (a->pid > 0)
		tu_proc_stop(a, SIGTERM);
	if (b->pid > 0)
		tu_proc_stop(b, SIGTERM);
	memset(d, 0, sizeof(*d));
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	return (status);
}

/* The records of the log at PATH, once it holds N (bounded wait). */
json_t *
tu_records(const char *path, size_t n, int wait_ms)
{
	json_t		*all = NULL, *rec;
	FILE		*f;
	char		*line = NULL;
	size_t		 size = 0;
	long long	 deadline = tu_now_ms() + wait_ms;

	for (;;) {
		json_decref(all);
		all = json_array();
		if ((f = fopen(path, "r")) != NULL) {
			while (getline(&line, &size, f) != -1)
				if ((rec = json_loads(line, 0, NULL)) != NULL)
					json_array_append_new(all, rec);
			fclose(f);
		}
		if (json_array_size(all) >= n || tu_now_ms() >= deadline)
			break;
		tu_sleep_ms(20);
	}
	free(line);
	ck_assert_uint_ge(json_array_size(all), n);
	ck_assert_int_eq(tu_validate_records(path), 0);
	return (all);
}

/* Validates every line of PATH against docs/divergence-log.schema.json. */
int
tu_validate_records(const char *path)
{
	const char	*top = getenv("top_srcdir");
	char		 cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/"
	    "validate-records.py %s/docs/divergence-log.schema.json %s",
	    top ? top : "..", top ? top : "..", path);
	return (system(cmd) == 0 ? 0 : -1);
}

/* Writes CONF, "%BACKEND%" replaced by the backend port, to PATH. */
static int
tu_write_conf(const char *path, const char *conf, int backend_port)
{
	FILE		*f;
	const char	*s, *mark;

	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	for (s = conf; (mark = strstr(s, "%BACKEND%")) != NULL;
	    s = mark + 9) {
		fwrite(s, 1, (size_t)(mark - s), f);
		fprintf(f, "%d", backend_port);
	}
	fputs(s, f);
	/* Tests run side by side: no admin endpoint on the default port. */
	if (strstr(conf, "[admin]") == NULL)
		fputs("\n[admin]\nlisten = 127.0.0.1:0\n", f);
	return (fclose(f));
}

/* Starts the daemon with CONF and learns its port. */
int
tu_daemon_start(struct tu_proc *p, const char *conf, int backend_port)
{
	static int	 n;
	char		 bin[PATH_MAX], c[] = "-c";
	char *const	 argv[] = { bin, c, p->conf, NULL };

	memset(p, 0, sizeof(*p));
	snprintf(bin, sizeof(bin), "%s", tu_build_path("shadowdiff"));
	snprintf(p->out, sizeof(p->out), "%s/daemon.%d.out", tu_tmpdir(), n);
	snprintf(p->conf, sizeof(p->conf), "%s/daemon.%d.conf", tu_tmpdir(),
	    n++);
	if (tu_write_conf(p->conf, conf, backend_port) == -1)
		return (-1);
	/* ASan keeps freed memory for a while; the RSS tests need less. */
	if (tu_spawn(p, argv, "ASAN_OPTIONS=quarantine_size_mb=8:"
	    "detect_leaks=1") == -1)
		return (-1);
	return (tu_wait_port(p, "listening on 127.0.0.1:"));
}

/* Sends SIG and waits for the exit; the exit status, or -1. */
int
tu_proc_stop(struct tu_proc *p, int sig)
{
	long long	 deadline = tu_now_ms() + TU_STOP_MS;
	int		 status;

	if (p->pid <= 0)
		return (-1);
	kill(p->pid, sig);
	while (tu_now_ms() < deadline) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			return (WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status));
		}
		tu_sleep_ms(10);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	p->pid = 0;
	return (-1);
}

/* Waits at most MS for P's output to contain TEXT; whether it does. */
int
tu_proc_wait_output(const struct tu_proc *p, const char *text, int ms)
{
	long long	 deadline = tu_now_ms() + ms;

	for (;;) {
		if (tu_proc_output_has(p, text))
			return (1);
		if (tu_now_ms() >= deadline)
			return (0);
		tu_sleep_ms(20);
	}
}

/* Whether P's output contains TEXT. */
int
tu_proc_output_has(const struct tu_proc *p, const char *text)
{
	static char	 buf[1 << 20];

	tu_read_output(p, buf, sizeof(buf));
	return (strstr(buf, text) != NULL);
}

/* The value in KiB of FIELD ("VmHWM:") of P's /proc status, or -1. */
static long
tu_proc_status_kib(const struct tu_proc *p, const char *field)
{
	char	 path[64], line[256];
	FILE	*f;
	size_t	 len = strlen(field);
	long	 kib = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)p->pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0)
			kib = strtol(line + len, NULL, 10);
	fclose(f);
	return (kib);
}

/* Peak resident memory of P in KiB, or -1. */
long
tu_proc_peak_kib(const struct tu_proc *p)
{
	return (tu_proc_status_kib(p, "VmHWM:"));
}

/* Resident memory of P now, in KiB, or -1. */
long
tu_proc_rss_kib(const struct tu_proc *p)
{
	return (tu_proc_status_kib(p, "VmRSS:"));
}

/*
 * Buffered reading of responses. One reader for the test process: it is
 * reset for every new connection, so pipelined responses read one after
 * the other on one connection keep their bytes.
 */
struct tu_reader {
	int	 fd;
	char	 buf[65536];
	size_t	 off;
	size_t	 len;
	int	 eof;
};

static _Thread_local struct tu_reader tu_rd;	/* per thread: tests use several */

/* A blocking connection to 127.0.0.1:PORT, or -1. */
int
tu_connect(int port)
{
	return (tu_connect_rcvbuf(port, 0));
}

/* tu_connect with a receive buffer of RCVBUF bytes (0: the default). */
int
tu_connect_rcvbuf(int port, int rcvbuf)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { TU_IO_MS / 1000, 0 };
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Before connect(2), so that the window is small from the start. */
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return (-1);
	}
	memset(&tu_rd, 0, sizeof(tu_rd));
	tu_rd.fd = fd;
	return (fd);
}

/* Sends LEN bytes; 0 or -1. */
int
tu_send(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

int
tu_send_str(int fd, const char *s)
{
	return (tu_send(fd, s, strlen(s)));
}


/* Fills the reader's buffer; 0, or -1 at EOF or error. */
static int
tu_fill(struct tu_reader *r)
{
	ssize_t	 n;

	if (r->off < r->len)
		return (0);
	r->off = r->len = 0;
	n = recv(r->fd, r->buf, sizeof(r->buf), 0);
	if (n <= 0) {
		r->eof = 1;
		return (-1);
	}
	r->len = (size_t)n;
	return (0);
}

/* Reads a line ending in LF (kept) into BUF; its length, or -1. */
static ssize_t
tu_getline(struct tu_reader *r, char *buf, size_t size)
{
	size_t	 n = 0;

	while (n + 1 < size) {
		if (tu_fill(r) == -1)
			return (-1);
		buf[n++] = r->buf[r->off++];
		if (buf[n - 1] == '\n')
			break;
	}
	buf[n] = '\0';
	return ((ssize_t)n);
}

/* Appends LEN body bytes to R's body. */
static int
tu_body_read(struct tu_reader *rd, struct tu_resp *r, size_t len)
{
	size_t	 take;

	r->body = realloc(r->body, r->body_len + len + 1);
	if (r->body == NULL)
		return (-1);
	while (len > 0) {
		if (tu_fill(rd) == -1)
			return (-1);
		take = rd->len - rd->off < len ? rd->len - rd->off : len;
		memcpy(r->body + r->body_len, rd->buf + rd->off, take);
		rd->off += take;
		r->body_len += take;
		len -= take;
	}
	r->body[r->body_len] = '\0';
	return (0);
}

/* The value of header NAME in R, copied into BUF, or NULL. */
const char *
tu_resp_header(const struct tu_resp *r, const char *name, char *buf,
    size_t size)
{
	const char	*line = strchr(r->head, '\n'), *end;
	size_t		 len = strlen(name), n;

	while (line != NULL && *++line != '\0') {
		if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
			line += len + 1;
			line += strspn(line, " \t");
			end = strpbrk(line, "\r\n");
			n = end ? (size_t)(end - line) : strlen(line);
			if (n >= size)
				n = size - 1;
			memcpy(buf, line, n);
			buf[n] = '\0';
			return (buf);
		}
		line = strchr(line, '\n');
	}
	return (NULL);
}

/* Reads one final response from FD; interim 1xx ones go into the head. */
int
tu_read_response(int fd, int head_req, struct tu_resp *r)
{
	struct tu_reader	*rdp = &tu_rd;
	char			 line[16384], val[64];
	size_t			 hlen = 0;
	ssize_t			 n;
	unsigned long		 chunk;

	if (rdp->fd != fd) {
		memset(rdp, 0, sizeof(*rdp));
		rdp->fd = fd;
	}
	memset(r, 0, sizeof(*r));
	for (;;) {
		if ((n = tu_getline(rdp, line, sizeof(line))) <= 0)
			return (-1);
		if (hlen + (size_t)n + 1 < sizeof(r->head)) {
			memcpy(r->head + hlen, line, (size_t)n + 1);
			hlen += (size_t)n;
		}
		if (r->status == 0 && strncmp(line, "HTTP/1.", 7) == 0)
			r->status = atoi(line + 9);
		if (strcmp(line, "\r\n") == 0) {
			if (r->status >= 200 || r->status == 101)
				break;
			r->status = 0;		/* interim: read on */
		}
	}
	r->body = calloc(1, 1);
	if (head_req || r->status == 204 || r->status == 304 ||
	    r->status == 101)
		return (0);
	if (tu_resp_header(r, "Transfer-Encoding", val, sizeof(val))) {
		for (;;) {
			if (tu_getline(rdp, line, sizeof(line)) <= 0)
				return (-1);
			chunk = strtoul(line, NULL, 16);
			if (chunk == 0)
				break;
			if (tu_body_read(rdp, r, chunk) == -1 ||
			    tu_getline(rdp, line, sizeof(line)) <= 0)
				return (-1);
		}
		/* Trailers (none expected), then the empty line. */
		while (tu_getline(rdp, line, sizeof(line)) > 0 &&
		    strcmp(line, "\r\n") != 0)
			;
	} else if (tu_resp_header(r, "Content-Length", val, sizeof(val))) {
		if (tu_body_read(rdp, r, strtoul(val, NULL, 10)) == -1)
			return (-1);
	} else {
		while (tu_fill(rdp) == 0) {
			if (tu_body_read(rdp, r, rdp->len - rdp->off) == -1)
				return (-1);
		}
		r->closed = 1;
	}
	return (0);
}

void
tu_resp_free(struct tu_resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* Sends RAW on a new connection and reads one response. */
int
tu_exchange(int port, const char *raw, struct tu_resp *r)
{
	int	 fd, rc;

	if ((fd = tu_connect(port)) == -1)
		return (-1);
	rc = tu_send_str(fd, raw);
	if (rc == 0)
		rc = tu_read_response(fd, strncmp(raw, "HEAD ", 5) == 0, r);
	close(fd);
	return (rc);
}

/* Whether the peer closed FD within MS milliseconds (bytes are skipped). */
int
tu_wait_closed(int fd, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 buf[4096];
	long long	 deadline = tu_now_ms() + ms;
	ssize_t		 n;

	while (tu_now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - tu_now_ms())) <= 0)
			return (0);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN))
			return (1);
	}
	return (0);
}

/* Requests the backend received completely, from its /stats; -1 on error. */
long
tu_backend_count(int port)
{
	struct tu_resp	 r;
	long		 n = -1;

	if (tu_exchange(port, "GET /stats HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n\r\n", &r) == 0 && r.status == 200)
		n = strtol(r.body + strlen("requests "), NULL, 10);
	tu_resp_free(&r);
	return (n);
}

/* Waits (bounded) until the backend on PORT counted N requests: 0 or -1. */
int
tu_backend_wait(int port, long n)
{
	long long	 deadline = tu_now_ms() + TU_IO_MS;

	while (tu_backend_count(port) < n) {
		if (tu_now_ms() >= deadline)
			return (-1);
		tu_sleep_ms(10);
	}
	return (0);
}

/* The daemon P's admin /stats, parsed (the port from its output). */
json_t *
tu_admin_stats(struct tu_proc *p)
{
	struct tu_resp	 r;
	json_t		*o = NULL;
	int		 port;

	if ((port = tu_proc_port(p, "admin endpoint on 127.0.0.1:")) <= 0)
		return (NULL);
	r.body = NULL;
	if (tu_exchange(port, "GET /stats HTTP/1.1\r\nHost: a\r\n"
	    "Connection: close\r\n\r\n", &r) == 0 && r.status == 200)
		o = json_loads(r.body, 0, NULL);
	tu_resp_free(&r);
	return (o);
}

/* The member at the slash-separated PATH of O, or NULL. */
static json_t *
tu_json_at(json_t *o, const char *path)
{
	char	 buf[256], *p, *last;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, "/", &last); p != NULL && o != NULL;
	    p = strtok_r(NULL, "/", &last))
		o = json_object_get(o, p);
	return (o);
}

/* The integer at the slash-separated PATH of O, or -1. */
long long
tu_json_int(json_t *o, const char *path)
{
	o = tu_json_at(o, path);
	return (json_is_integer(o) ? (long long)json_integer_value(o) : -1);
}
/* The sum of the integer members of the object at PATH of O. */
long long
tu_json_sum(json_t *o, const char *path)
{
	json_t		*v;
	const char	*key;
	long long	 sum = 0;

	json_object_foreach(tu_json_at(o, path), key, v)
		if (json_is_integer(v))
			sum += (long long)json_integer_value(v);
	return (sum);
}
/* The exchanges compared, over all routes, in the daemon's /stats O. */
long long
tu_compared(json_t *o)
{
	json_t		*route;
	const char	*name;
	long long	 n = 0;

	json_object_foreach(json_object_get(o, "routes"), name, route)
		n += tu_json_sum(route, "compared");
	return (n);
}

/*
 * Whether every exchange the daemon P mirrored so far has been compared,
 * or dropped by the daemon (overloaded, diff queue full): its record, if
 * it has one, is in the divergence log or on its way there.
 */
static int
tu_mirrors_settled(struct tu_proc *p)
{
	json_t		*o, *route;
	const char	*name;
	long long	 open = 0, dropped;

	if ((o = tu_admin_stats(p)) == NULL)
		return (0);
	dropped = tu_json_int(o, "mirrors_dropped/overloaded") +
	    tu_json_int(o, "diff_queue/dropped");
	json_object_foreach(json_object_get(o, "routes"), name, route)
		open += tu_json_int(route, "mirrored");
	open -= tu_compared(o);
	json_decref(o);
	return (open <= dropped);
}

/*
 * Waits (bounded) until every exchange P mirrored so far is compared or
 * dropped; 0 or -1. With one diff thread, a record of an exchange
 * mirrored after this is written after all of theirs: a sentinel.
 */
int
tu_mirrors_wait(struct tu_proc *p)
{
	long long	 deadline = tu_now_ms() + TU_IO_MS;

	while (!tu_mirrors_settled(p)) {
		if (tu_now_ms() >= deadline)
			return (-1);
		tu_sleep_ms(20);
	}
	return (0);
}
