/* spawn.h - how sesctl starts a child process (a credential_process, a
 * --deploy-hook): its standard streams, its signals, its process group.
 *
 * The child's fds 0, 1 and 2 are dup2'ed from the given ones and every
 * other descriptor is closed in it (glibc's addclosefrom_np); its signal
 * mask is empty and SIGPIPE (which sesctl ignores, and an ignored signal
 * stays ignored across exec) and the interrupt signals are back to their
 * default action; with own_group it leads a process group of its own, so
 * that kill(-pid, ...) stops whatever it started.
 */
#ifndef SESCTL_SPAWN_H
#define SESCTL_SPAWN_H

#include <spawn.h>
#include <stdbool.h>

struct spawn_setup {
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_ok, attr_ok;
};

/* 0, or the errno of what failed; release `s` either way. */
int spawn_setup_init(struct spawn_setup *s, int in_fd, int out_fd,
		     int err_fd, bool own_group);
void spawn_setup_release(struct spawn_setup *s);

#endif
