/*
 * The job's size and teardown: a worker frees the jobs the diff queue
 * refused, a diff thread those it compared.
 */
#include "config.h"

#include <stdlib.h>

#include "shadowdiff/config.h"
#include "shadowdiff/diff_job.h"

/* Bytes the job holds, for the diff queue's bound. */
size_t
diff_job_size(const struct diff_job *job)
{
	size_t	 size, i;

	size = sizeof(*job) + job->request.hsize + job->reqbody_len;
	for (i = 0; i < DIFF_LEGS; i++)
		size += job->legs[i].alloc + job->legs[i].hsize;
	return (size);
}

/* Frees what a capture holds. */
static void
diff_capture_clear(struct diff_capture *c)
{
	free(c->hdrs);
	free(c->hbuf);
	free(c->body);
}

/* The job's single teardown. */
void
diff_job_free(struct diff_job *job)
{
	size_t	 i;

	if (job == NULL)
		return;
	diff_capture_clear(&job->request);
	for (i = 0; i < DIFF_LEGS; i++)
		diff_capture_clear(&job->legs[i]);
	free(job->reqbody);
	config_unref(job->cfg);
	free(job->id);
	free(job->uri);
	free(job);
}
