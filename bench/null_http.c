/*
 * null_http.c - the least an HTTP/1.1 keep-alive server can do, as a
 * baseline for bench/load.py: it reads requests and writes one fixed
 * 200 answer (a check's JSON) for each, nothing else - no parsing beyond
 * finding each request's end, no routing, no key, no lookup. What wrk
 * measures against it on this machine is the ceiling any server has here
 * under the same wrk (both share the cores): izin's figure is read
 * against it.
 *
 *     null_http [--threads 2] [--seconds 600]
 *
 * Listens on 127.0.0.1, a free port, printed as "port N"; exits after
 * --seconds (a bench's loop is bounded and stops by itself). Requests
 * without a body only (GET).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

static const char answer[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 44\r\n"
                             "\r\n"
                             "{\"recipient\":\"+905300001234\",\"allowed\":true}";

static int listen_fd;
/* The last three bytes read of each connection: a request's end may be
 * split between two reads. */
static unsigned char tail[MAX_FD][3];

static void serve_read(int fd)
{
    unsigned char buf[16384];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        close(fd);
        return;
    }
    unsigned char *t = tail[fd];
    int ends = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n' && t[2] == '\r' && t[1] == '\n' && t[0] == '\r') ends++;
        t[0] = t[1];
        t[1] = t[2];
        t[2] = buf[i];
    }
    for (int i = 0; i < ends; i++)
        if (send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL) < 0) {
            close(fd);
            return;
        }
}

static void *worker(void *arg)
{
    (void)arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
        perror("epoll");
        exit(1);
    }
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd != listen_fd) {
                serve_read(fd);
                continue;
            }
            int c, one = 1;
            while ((c = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                if (c >= MAX_FD) {
                    close(c);
                    continue;
                }
                memset(tail[c], 0, sizeof tail[c]);
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 2, seconds = 600;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atoi(argv[i + 1]);
    }
    if (threads < 1 || threads > 64 || seconds < 1) {
        fprintf(stderr, "usage: null_http [--threads 1..64] [--seconds N]\n");
        return 2;
    }
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listen_fd, 1024) != 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("listen");
        return 1;
    }
    printf("port %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    pthread_t th;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&th, NULL, worker, NULL) != 0) return 1;
    sleep((unsigned)seconds);
    return 0;
}
