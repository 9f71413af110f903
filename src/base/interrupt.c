/* interrupt.c - signals that wait for the critical section to end (see
 * interrupt.h). */
#include "sesctl/base/interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught;
static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction saved[3];
static int armed;

static void on_signal(int sig)
{
	if (!caught)
		caught = sig;
}

void interrupt_arm(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (armed)
		return;
	/* A signal the caller ignores (nohup, a background job) stays
	 * ignored. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &saved[i]) == 0 &&
		    saved[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	armed = 1;
}

void interrupt_disarm(void)
{
	size_t i;

	if (!armed)
		return;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &saved[i], NULL);
	armed = 0;
}

int interrupt_caught(void)
{
	return (int)caught;
}

const char *interrupt_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "a signal";
	}
}
