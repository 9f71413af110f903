/* term.c - no-echo secret prompt (after signify's use of readpassphrase).
 *
 * Echo is turned off with termios; a handler for the terminating signals
 * puts the terminal back before the signal's default action runs, so an
 * interrupted prompt never leaves the user's shell without echo.
 */
#include "sesctl/base/term.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const int term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGTSTP, SIGTTIN, SIGTTOU };
#define N_SIGNALS (sizeof(term_signals) / sizeof(term_signals[0]))

static volatile sig_atomic_t saved_valid;
static struct termios saved_termios;
static int saved_fd = -1;
static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
	caught_signal = sig;
	if (saved_valid)
		(void)tcsetattr(saved_fd, TCSAFLUSH, &saved_termios);
}

bool term_is_tty(int fd)
{
	return isatty(fd) == 1;
}

sesctl_err term_read_secret(int fd, int prompt_fd, const char *prompt,
			    struct secret *out, size_t max)
{
	struct sigaction sa, old[N_SIGNALS];
	struct termios noecho;
	unsigned char c;
	sesctl_err rc = SESCTL_OK;
	bool got_newline = false;
	size_t i;
	ssize_t n;

	if (tcgetattr(fd, &saved_termios) != 0)
		return SESCTL_ERR_IO;
	saved_fd = fd;
	caught_signal = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_SIGNALS; i++)
		(void)sigaction(term_signals[i], &sa, &old[i]);

	noecho = saved_termios;
	noecho.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	saved_valid = 1;
	if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0) {
		rc = SESCTL_ERR_IO;
		goto out;
	}
	if (prompt && write(prompt_fd, prompt, strlen(prompt)) < 0) {
		rc = SESCTL_ERR_IO;
		goto out;
	}

	secret_clear(out);
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR && !caught_signal)
			continue;
		if (n <= 0) {
			rc = SESCTL_ERR_IO;
			break;
		}
		if (c == '\n' || c == '\r') {
			got_newline = true;
			break;
		}
		if (out->len >= max) {
			rc = SESCTL_ERR_INPUT;
			break;
		}
		rc = secret_append(out, &c, 1);
		if (rc != SESCTL_OK)
			break;
	}
	c = 0;
	/* The user's Enter was not echoed: end the prompt line ourselves. */
	if (write(prompt_fd, "\n", 1) < 0 && rc == SESCTL_OK)
		rc = SESCTL_ERR_IO;
	if (rc == SESCTL_OK && !got_newline)
		rc = SESCTL_ERR_IO;
out:
	(void)tcsetattr(fd, TCSAFLUSH, &saved_termios);
	saved_valid = 0;
	for (i = 0; i < N_SIGNALS; i++)
		(void)sigaction(term_signals[i], &old[i], NULL);
	if (caught_signal) {
		secret_clear(out);
		(void)raise(caught_signal);
		rc = SESCTL_ERR_IO;
	}
	if (rc != SESCTL_OK)
		secret_clear(out);
	return rc;
}
