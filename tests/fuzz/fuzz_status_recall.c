/*
 * libFuzzer target for the status file read back at start (module/status.c,
 * ms_status_recall): the previous run's <zone>.status, which may have been
 * cut, edited or written by another version. Whatever it holds, the
 * recalled error message fits its buffer and the times are not negative.
 */
#include "fuzz.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t success = -1, error_time = -1;
	char *last_error = malloc(MS_ERR_MSG_MAX); /* exactly: an overrun is an ASan report */
	FUZZ_CHECK(last_error != NULL);
	memset(last_error, 'x', MS_ERR_MSG_MAX);
	bool ok = ms_status_recall((const char *)data, size, "example.com.", &success,
	                           &error_time, last_error, MS_ERR_MSG_MAX);
	FUZZ_CHECK(memchr(last_error, '\0', MS_ERR_MSG_MAX) != NULL);
	FUZZ_CHECK(success >= 0 && error_time >= 0);
	if (!ok) {
		FUZZ_CHECK(success == 0 && error_time == 0 && last_error[0] == '\0');
	}
	free(last_error);
	return 0;
}
