/*
 * The test helpers' own promises, which every other test relies on: a
 * temporary directory is new and empty.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* The number of entries of DIR other than . and .., or -1. */
static int
dir_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return (n);
}

/*
 * A failed test leaves its directory behind (Check ends it with _exit),
 * and PIDs come round again: a later process with the same PID must not
 * find the old files (once, a divergence log of one record made
 * check_shadow's test_reopen count 201 records for 200 requests).
 */
START_TEST(test_tmpdir_fresh)
{
	char		 stale[64], file[128];
	const char	*dir;
	FILE		*f;
	int		 n;

	snprintf(stale, sizeof(stale), "/tmp/sdtest.%ld", (long)getpid());
	ck_assert_int_eq(mkdir(stale, 0700), 0);
	snprintf(file, sizeof(file), "%s/divergence.0.log", stale);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fputs("{\"type\":\"mismatch\"}\n", f);
	fclose(f);

	dir = tu_tmpdir();
	n = dir != NULL ? dir_entries(dir) : -1;
	unlink(file);
	rmdir(stale);
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(n, 0);
	/* The same one for the rest of the process. */
	ck_assert_str_eq(tu_tmpdir(), dir);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("testutil");
	TCase	*tc = tcase_create("tmpdir");

	tcase_add_test(tc, test_tmpdir_fresh);
	suite_add_tcase(s, tc);
	return (tu_run(s));
}
