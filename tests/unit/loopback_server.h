/* loopback_server.h - a loopback HTTP/1.1 server in a thread, for the unit
 * tests that prove requests overlap without relying on timing.
 *
 * It answers the requests of every connection with srv->reply(), but none
 * before `barrier` requests wait at once (then everything, from then on):
 * a client that sends one request after the other never gets past it, so
 * answers prove that requests were in flight together.
 *
 * Set up a zeroed struct srv (barrier or never, reply, data), then
 * srv_start(); read port; after srv_stop() read what happened.  Failures
 * to set up fail the running cmocka test. */
#ifndef SESCTL_LOOPBACK_SERVER_H
#define SESCTL_LOOPBACK_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define SRV_CONNS 32

struct srv_conn {
	int fd;
	char buf[16384];
	size_t len;
};

struct srv {
	int lfd, stop[2];
	unsigned short port;
	pthread_t th;
	size_t barrier;  /* requests that must wait at once before any answer */
	bool released;
	bool never;      /* never answer */
	/* The answer to request number `seq` (from 1) with body `body`:
	 * *status, and a malloc'd body with its content type.  Runs in the
	 * server thread. */
	char *(*reply)(struct srv *s, unsigned seq, const char *body,
		       int *status, const char **ctype);
	void *data;
	struct srv_conn conns[SRV_CONNS];
	/* what happened (read after srv_stop) */
	unsigned requests, accepted;
	size_t max_waiting;
	char log[64][256]; /* request bodies, in the order received */
	char last_head[2048]; /* the last request's line and headers */
};

/* Listen on an ephemeral port of 127.0.0.1 (s->port) and serve from a
 * thread until srv_stop. */
void srv_start(struct srv *s);

/* Stop the thread and close every socket. */
void srv_stop(struct srv *s);

#endif
