/*
 * The notify module (the sd_notify protocol) with a socket of the
 * test's own, and the daemon's READY=1 and STOPPING=1 through it.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shadowdiff/notify.h"
#include "testutil.h"

/* A datagram socket bound to NAME (a path, or "@abstract"). */
static int
listen_notify(const char *name)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, strlen(name));
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	return (fd);
}

/* The next message within MS milliseconds, or "" (BUF, LEN bytes). */
static const char *
next_message(int fd, int ms, char *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	ssize_t		 n;

	buf[0] = '\0';
	if (poll(&pfd, 1, ms) == 1 && (n = recv(fd, buf, len - 1, 0)) > 0)
		buf[n] = '\0';
	return (buf);
}

START_TEST(test_send_path)
{
	char	 path[256], buf[256];
	int	 fd;

	snprintf(path, sizeof(path), "%s/notify.sock", tu_tmpdir());
	fd = listen_notify(path);
	ck_assert_int_eq(notify_send("READY=1"), 0);
	ck_assert_str_eq(next_message(fd, 1000, buf, sizeof(buf)), "READY=1");
	close(fd);
}
END_TEST

START_TEST(test_send_abstract)
{
	char	 name[64], buf[256];
	int	 fd;

	snprintf(name, sizeof(name), "@shadowdiff-test-%d", (int)getpid());
	fd = listen_notify(name);
	ck_assert_int_eq(notify_send("STOPPING=1"), 0);
	ck_assert_str_eq(next_message(fd, 1000, buf, sizeof(buf)),
	    "STOPPING=1");
	close(fd);
}
END_TEST

START_TEST(test_reloading)
{
	struct timespec		 ts;
	unsigned long long	 usec, now;
	char			 path[256], buf[256];
	int			 fd;

	snprintf(path, sizeof(path), "%s/reload.sock", tu_tmpdir());
	fd = listen_notify(path);
	ck_assert_int_eq(notify_reloading(), 0);
	next_message(fd, 1000, buf, sizeof(buf));
	ck_assert_int_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec),
	    1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000;
	ck_assert(usec <= now && now - usec < 5000000);
	close(fd);
}
END_TEST

/* Without $NOTIFY_SOCKET nothing is sent and nothing fails. */
START_TEST(test_no_socket)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(notify_send("READY=1"), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "relative", 1), 0);
	ck_assert_int_eq(notify_send("READY=1"), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* The daemon says READY=1 once listening, STOPPING=1 on SIGTERM. */
START_TEST(test_daemon)
{
	struct tu_proc	 backend, daemon_;
	char		 path[256], buf[256];
	int		 fd;

	snprintf(path, sizeof(path), "%s/daemon.sock", tu_tmpdir());
	fd = listen_notify(path);
	ck_assert_int_eq(tu_backend_start(&backend, "go", NULL), 0);
	ck_assert_int_eq(tu_daemon_start(&daemon_, "[listen]\n"
	    "address = 127.0.0.1:0\n[server]\nworkers = 1\n[primary]\n"
	    "url = http://127.0.0.1:%BACKEND%\n", backend.port), 0);
	ck_assert_str_eq(next_message(fd, 5000, buf, sizeof(buf)),
	    "READY=1\nSTATUS=serving");
	ck_assert_int_eq(kill(daemon_.pid, SIGTERM), 0);
	ck_assert_str_eq(next_message(fd, 5000, buf, sizeof(buf)),
	    "STOPPING=1");
	ck_assert_int_eq(tu_proc_stop(&daemon_, SIGTERM), 0);
	tu_proc_stop(&backend, SIGTERM);
	close(fd);
}
END_TEST

static Suite *
notify_suite(void)
{
	const TTest	*tests[] = { test_send_path, test_send_abstract,
	    test_reloading, test_no_socket, test_daemon, NULL };

	return (tu_suite("notify", tu_tcase("sd_notify", 30, NULL, NULL),
	    tests));
}

int
main(void)
{
	return (tu_run(notify_suite()));
}
