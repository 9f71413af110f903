/* loopback_server.c - the unit tests' loopback HTTP/1.1 server (see
 * loopback_server.h). */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback_server.h"

static bool srv_complete(const struct srv_conn *c, size_t *hdr_len,
			 size_t *total)
{
	const char *end, *cl;
	size_t body = 0;

	if (c->len == 0)
		return false;
	end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (!end)
		return false;
	*hdr_len = (size_t)(end - c->buf) + 4;
	cl = strcasestr(c->buf, "\r\ncontent-length:");
	if (cl && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	*total = *hdr_len + body;
	return c->len >= *total;
}

static void srv_answer(struct srv *s, struct srv_conn *c)
{
	size_t hdr_len, total, n;
	char head[256], body[8192];
	const char *ctype = "text/xml";
	char *out;
	int status = 200, hn;

	if (!srv_complete(c, &hdr_len, &total))
		return;
	n = total - hdr_len < sizeof(body) - 1 ? total - hdr_len :
						  sizeof(body) - 1;
	memcpy(body, c->buf + hdr_len, n);
	body[n] = '\0';
	s->requests++;
	if (s->requests <= 64) {
		size_t m = n < sizeof(s->log[0]) - 1 ? n : sizeof(s->log[0]) - 1;

		memcpy(s->log[s->requests - 1], body, m);
		s->log[s->requests - 1][m] = '\0';
	}
	n = hdr_len < sizeof(s->last_head) - 1 ? hdr_len :
						 sizeof(s->last_head) - 1;
	memcpy(s->last_head, c->buf, n);
	s->last_head[n] = '\0';
	out = s->reply(s, s->requests, body, &status, &ctype);
	hn = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
		      "x-amzn-RequestId: req-%u\r\nContent-Length: %zu\r\n\r\n",
		      status, ctype, s->requests, out ? strlen(out) : 0);
	(void)!send(c->fd, head, (size_t)hn, MSG_NOSIGNAL);
	if (out)
		(void)!send(c->fd, out, strlen(out), MSG_NOSIGNAL);
	free(out);
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd pf[SRV_CONNS + 2];
	size_t i, k, waiting;
	size_t hl, tot;

	for (;;) {
		pf[0] = (struct pollfd){ s->stop[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ s->lfd, POLLIN, 0 };
		for (i = 0; i < SRV_CONNS; i++)
			pf[i + 2] = (struct pollfd){ s->conns[i].fd, POLLIN, 0 };
		if (poll(pf, SRV_CONNS + 2, -1) < 0)
			continue;
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN) {
			int fd = accept(s->lfd, NULL, NULL);

			for (k = 0; fd >= 0 && k < SRV_CONNS; k++)
				if (s->conns[k].fd < 0) {
					s->conns[k].fd = fd;
					s->conns[k].len = 0;
					s->accepted++;
					fd = -1;
				}
			if (fd >= 0)
				close(fd);
		}
		for (i = 0; i < SRV_CONNS; i++) {
			struct srv_conn *c = &s->conns[i];
			ssize_t r;

			if (c->fd < 0 || !(pf[i + 2].revents & (POLLIN | POLLHUP)))
				continue;
			r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
				 0);
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)r;
		}
		waiting = 0;
		for (i = 0; i < SRV_CONNS; i++)
			if (s->conns[i].fd >= 0 &&
			    srv_complete(&s->conns[i], &hl, &tot))
				waiting++;
		if (waiting > s->max_waiting)
			s->max_waiting = waiting;
		if (s->never || (!s->released && waiting < s->barrier))
			continue;
		s->released = true;
		for (i = 0; i < SRV_CONNS; i++)
			if (s->conns[i].fd >= 0)
				srv_answer(s, &s->conns[i]);
	}
	return NULL;
}

void srv_start(struct srv *s)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	size_t i;

	for (i = 0; i < SRV_CONNS; i++)
		s->conns[i].fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pipe(s->stop), 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

void srv_stop(struct srv *s)
{
	size_t i;

	(void)!write(s->stop[1], "x", 1);
	pthread_join(s->th, NULL);
	for (i = 0; i < SRV_CONNS; i++)
		if (s->conns[i].fd >= 0)
			close(s->conns[i].fd);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
}
