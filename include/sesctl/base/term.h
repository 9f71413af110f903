/* term.h - reading a secret from a terminal without echo. */
#ifndef SESCTL_TERM_H
#define SESCTL_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "sesctl/base/err.h"
#include "sesctl/base/secret.h"

/* True if `fd` is a terminal. */
bool term_is_tty(int fd);

/* Print `prompt` on `prompt_fd`, turn echo off on `fd`, read one line
 * (at most `max` bytes) into `out` without its newline, restore the
 * terminal (also when interrupted by a signal, which is then re-raised).
 * SESCTL_ERR_INPUT if the line is longer than `max`, SESCTL_ERR_IO on a
 * read error or end of file before any newline. */
MUST_USE sesctl_err term_read_secret(int fd, int prompt_fd, const char *prompt,
				     struct secret *out, size_t max);

#endif
