/* backoff.h - waiting between attempts, shared by every retry loop (IAM,
 * STS, the container endpoint, SMTP verification): the AWS SDKs' capped
 * exponential backoff with full jitter, an EINTR-proof sleep and a
 * monotonic clock. */
#ifndef SESCTL_BACKOFF_H
#define SESCTL_BACKOFF_H

#define BACKOFF_BASE_MS 1000L
#define BACKOFF_CAP_MS 20000L

/* BACKOFF_BASE_MS; test builds (-Dtest_hooks=true) honour
 * SESCTL_TEST_RETRY_BASE_MS so fault tests do not wait. */
long backoff_base_ms(void);

/* Full jitter: uniform in [0, min(BACKOFF_CAP_MS, base * 2^(attempt-1))]
 * (attempt counts from 1).  The randomness only spreads retries. */
long backoff_jitter_ms(long base, int attempt);

/* Sleep `ms` milliseconds (nothing for ms <= 0), resuming after signals. */
void backoff_sleep_ms(long ms);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
long backoff_now_ms(void);

#endif
