/* backoff.c - waiting between attempts (see backoff.h). */
#include "sesctl/base/backoff.h"
#include "sesctl/base/interrupt.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

long backoff_base_ms(void)
{
#if SESCTL_TEST_HOOKS
	const char *v = getenv("SESCTL_TEST_RETRY_BASE_MS");

	if (v && *v)
		return strtol(v, NULL, 10);
#endif
	return BACKOFF_BASE_MS;
}

long backoff_jitter_ms(long base, int attempt)
{
	static unsigned long state;
	long ceiling = base;
	int i;

	for (i = 1; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	if (ceiling <= 0)
		return 0;
	if (!state)
		state = (unsigned long)time(NULL) ^
			((unsigned long)getpid() << 16) ^ 0x9e3779b9UL;
	/* xorshift: not for secrets, only to spread retries. */
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (long)(state % (unsigned long)(ceiling + 1));
}

void backoff_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* A signal that interrupt.h holds back for later cuts the wait
	 * short: the caller looks at interrupt_caught(). */
	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR &&
	       !interrupt_caught())
		;
}

long backoff_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}
