/* spawn.c - the set-up of a child process (see spawn.h). */
#include "sesctl/base/spawn.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

int spawn_setup_init(struct spawn_setup *s, int in_fd, int out_fd,
		     int err_fd, bool own_group)
{
	sigset_t none, dflt;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int e;

	memset(s, 0, sizeof(*s));
	e = posix_spawn_file_actions_init(&s->fa);
	if (e)
		return e;
	s->fa_ok = true;
	e = posix_spawnattr_init(&s->attr);
	if (e)
		return e;
	s->attr_ok = true;
	e = posix_spawn_file_actions_adddup2(&s->fa, in_fd, 0);
	if (!e)
		e = posix_spawn_file_actions_adddup2(&s->fa, out_fd, 1);
	if (!e)
		e = posix_spawn_file_actions_adddup2(&s->fa, err_fd, 2);
	/* Nothing else of ours: libcurl's sockets (the TLS connection to
	 * IAM, its wake-up pair) are not all close-on-exec. */
	if (!e)
		e = posix_spawn_file_actions_addclosefrom_np(&s->fa, 3);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGHUP);
	if (!e)
		e = posix_spawnattr_setsigmask(&s->attr, &none);
	if (!e)
		e = posix_spawnattr_setsigdefault(&s->attr, &dflt);
	if (!e && own_group) {
		e = posix_spawnattr_setpgroup(&s->attr, 0);
		flags |= POSIX_SPAWN_SETPGROUP;
	}
	if (!e)
		e = posix_spawnattr_setflags(&s->attr, flags);
	return e;
}

void spawn_setup_release(struct spawn_setup *s)
{
	if (s->fa_ok)
		posix_spawn_file_actions_destroy(&s->fa);
	if (s->attr_ok)
		posix_spawnattr_destroy(&s->attr);
	s->fa_ok = s->attr_ok = false;
}
