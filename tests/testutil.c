/* Helpers shared by the Check test programs. */
#include "config.h"

#include <stdlib.h>

#include "testutil.h"

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
