/*
 * wsload: a native WebSocket load client for the dwebsocket-c benchmarks.
 *
 * One thread, epoll, non-blocking sockets. Loopback only: the host must be in
 * 127.0.0.0/8 (or ::1 is not supported; use 127.0.0.1).
 *
 * Modes
 *   echo (default): open N connections, do the opening handshake (random key,
 *     check "101" and Sec-WebSocket-Accept computed with our own SHA-1), then
 *     each connection loops: send one masked frame of S bytes, read the whole
 *     echo (any fragmentation, 7/16/64-bit lengths, partial reads), compare it
 *     byte for byte, repeat. Runs W seconds of warmup then D seconds measured;
 *     prints one JSON object: round trips, round trips/s, errors, latency
 *     percentiles, and (with --cpu-pid) the CPU seconds used by that process
 *     and all its descendants over exactly the measured window, read from
 *     /proc/<pid>/stat (utime+stime+cutime+cstime, so reaped children count).
 *   idle: open N connections (at most --inflight handshakes at a time), hold
 *     them for H seconds answering the server's pings, then ping every
 *     connection once and count the pongs; prints opened/closed/ping counts and
 *     (with --cpu-pid) the server tree's RSS before and after.
 *
 * Many connections: one source address gives at most as many connections to
 * one server port as net.ipv4.ip_local_port_range has ports (28,232 by
 * default), so --src-addrs K spreads them over 127.0.0.2 .. 127.0.0.(K+1)
 * (bind() before connect(), the port chosen at connect time). The program
 * raises its own RLIMIT_NOFILE soft limit to the hard one, and the hard one too
 * when it may (CAP_SYS_RESOURCE); nothing system-wide is changed.
 *
 * Every loop is bounded: a hard deadline ends the program whatever happens.
 * Build: gcc -O2 -Wall -Wextra -o wsload wsload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ SHA-1 */

typedef struct {
    uint32_t h[5];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} sha1_ctx;

static uint32_t rol32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80], a, b, d, e, f, k, t, cc;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3]; e = c->h[4];
    for (int i = 0; i < 80; i++) {
        if (i < 20) { f = (b & cc) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ cc ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & cc) | (b & d) | (cc & d); k = 0x8F1BBCDC; }
        else { f = b ^ cc ^ d; k = 0xCA62C1D6; }
        t = rol32(a, 5) + f + e + k + w[i];
        e = d; d = cc; cc = rol32(b, 30); b = a; a = t;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
    c->h[0] = 0x67452301; c->h[1] = 0xEFCDAB89; c->h[2] = 0x98BADCFE;
    c->h[3] = 0x10325476; c->h[4] = 0xC3D2E1F0;
    c->len = 0; c->n = 0;
}

static void sha1_update(sha1_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    c->len += len;
    while (len) {
        size_t take = 64 - c->n;
        if (take > len) take = len;
        memcpy(c->buf + c->n, p, take);
        c->n += take; p += take; len -= take;
        if (c->n == 64) { sha1_block(c, c->buf); c->n = 0; }
    }
}

static void sha1_final(sha1_ctx *c, unsigned char out[20])
{
    uint64_t bits = c->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    sha1_update(c, &pad, 1);
    while (c->n != 56) sha1_update(c, &zero, 1);
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(c, lenb, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24); out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8); out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tb[v >> 18]; out[o++] = tb[(v >> 12) & 63]; out[o++] = tb[(v >> 6) & 63]; out[o++] = tb[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = tb[v >> 18]; out[o++] = tb[(v >> 12) & 63]; out[o++] = '='; out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = tb[v >> 18]; out[o++] = tb[(v >> 12) & 63]; out[o++] = tb[(v >> 6) & 63]; out[o++] = '=';
    }
    out[o] = 0;
}

/* ------------------------------------------------------------- utilities */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return rng_state = x;
}

static void rng_seed(void)
{
    uint64_t s = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
        close(fd);
    }
    s ^= (uint64_t)getpid() << 32 ^ (uint64_t)(now_s() * 1e9);
    rng_state = s ? s : 88172645463325252ULL;
}

static void die(const char *msg)
{
    fprintf(stderr, "wsload: %s\n", msg);
    exit(2);
}

/* ------------------------------------------- server process tree sampling */

typedef struct {
    double cpu_s;  /* utime+stime+cutime+cstime of the whole tree */
    double sys_s;  /* the kernel part of it (stime+cstime) */
    long rss_kb;   /* sum of VmRSS */
    long nfds;     /* open file descriptors */
    int nproc;
} tree_sample;

static int read_stat(int pid, int *ppid, unsigned long long *ticks, unsigned long long *sys)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    if (!p) return -1;
    /* fields after comm: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17) */
    char state;
    int pp;
    unsigned long long ut, st;
    long long cut, cst;
    if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &state, &pp, &ut, &st,
               &cut, &cst) != 6)
        return -1;
    *ppid = pp;
    *ticks = ut + st + (unsigned long long)(cut > 0 ? cut : 0) + (unsigned long long)(cst > 0 ? cst : 0);
    *sys = st + (unsigned long long)(cst > 0 ? cst : 0);
    return 0;
}

static long count_fds(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static long read_rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) { kb = atol(line + 6); break; }
    fclose(f);
    return kb;
}

#define MAXP 4096
static tree_sample sample_tree(int root)
{
    tree_sample s = {0, 0, 0, 0, 0};
    if (root <= 0) return s;
    static int pids[MAXP], ppids[MAXP];
    static unsigned long long ticks[MAXP], sys[MAXP];
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d) return s;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAXP) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        int pid = atoi(e->d_name), pp;
        unsigned long long t, st;
        if (read_stat(pid, &pp, &t, &st) == 0) { pids[n] = pid; ppids[n] = pp; ticks[n] = t; sys[n] = st; n++; }
    }
    closedir(d);
    static char in_tree[MAXP];
    memset(in_tree, 0, sizeof in_tree);
    for (int i = 0; i < n; i++) if (pids[i] == root) in_tree[i] = 1;
    for (int changed = 1; changed;) { /* transitive closure over ppid */
        changed = 0;
        for (int i = 0; i < n; i++) {
            if (in_tree[i]) continue;
            for (int j = 0; j < n; j++)
                if (in_tree[j] && pids[j] == ppids[i]) { in_tree[i] = 1; changed = 1; break; }
        }
    }
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long tot = 0, tsys = 0;
    for (int i = 0; i < n; i++)
        if (in_tree[i]) {
            tot += ticks[i]; tsys += sys[i]; s.rss_kb += read_rss_kb(pids[i]); s.nproc++;
            s.nfds += count_fds(pids[i]);
        }
    s.cpu_s = (double)tot / (double)(hz > 0 ? hz : 100);
    s.sys_s = (double)tsys / (double)(hz > 0 ? hz : 100);
    return s;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* ------------------------------------------------------------ connections */

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 /* linux/in.h; older libcs lack it */
#endif

enum { ST_CONNECTING, ST_HS_SEND, ST_HS_RECV, ST_OPEN, ST_CLOSING, ST_DEAD };

typedef struct conn {
    int fd, id, state;
    /* handshake */
    char req[512];
    size_t req_len, req_off;
    char *hs; /* HS_BUF bytes while the handshake is read, then freed (100k connections) */
    size_t hs_len;
    char accept[32];
    double t_connect;
    /* outgoing data frame (echo mode) */
    unsigned char *frame;
    size_t frame_len, frame_off;
    int sending, waiting;
    double t_send;
    /* outgoing control frames (pong, ping, close), appended */
    unsigned char ctl[1024];
    size_t ctl_len, ctl_off;
    /* frame parser */
    unsigned char hdr[14];
    int hdr_have, hdr_need;
    int opcode, fin;
    uint64_t pay_len, pay_off;
    unsigned char mkey[4];
    int masked;
    uint64_t msg_off;
    int in_msg;
    unsigned char cbuf[125];
    /* idle mode */
    int ping_sent, pong_ok;
    unsigned char ping_payload[8];
    int close_sent, close_rcvd;
} conn;

#define HS_BUF 4096

static struct {
    const char *host, *path, *mode, *origin;
    int port, nconns, size, binary, inflight, cpu_pid, max_errors_print;
    int src_addrs; /* 0: the kernel picks (127.0.0.1); K: 127.0.0.2 .. 127.0.0.(K+1) */
    double duration, warmup, hold, timeout, ping_timeout, stall;
    long long max_rt;
    int announce; /* print "measuring" on stdout when the measured window opens */
} opt = {"127.0.0.1", "/echo/", "echo", NULL, 0, 1, 16, 0, 256, 0, 5, 0, 5.0, 1.0, 5.0, 10.0, 10.0, 15.0, 100000000LL, 0};

static int ep;
static conn *conns;
static unsigned char *payload; /* expected echo content */
static unsigned char rbuf[1 << 18];
static struct sockaddr_in addr;

/* counters */
static long long rt_total, rt_window, errors, hs_errors, conn_errors, closed_by_peer, verify_errors;
static int n_open, n_done_connecting, n_started;
static int n_ping_waiting; /* idle mode: pings sent whose pong has not come (on live connections) */
static uint32_t *lat_us;
static size_t lat_n, lat_cap;
static double t_win_start = 1e300, t_win_end = 1e300;
static int phase; /* 0 connecting, 1 warmup, 2 measure, 3 drain/stop */

static void err_note(conn *c, const char *what)
{
    if (opt.max_errors_print > 0) {
        opt.max_errors_print--;
        fprintf(stderr, "wsload: conn %d: %s\n", c->id, what);
    }
}

static void conn_kill(conn *c, long long *counter, const char *what)
{
    if (c->state == ST_DEAD) return;
    if (counter) { (*counter)++; errors++; err_note(c, what); }
    if (c->state == ST_OPEN || c->state == ST_CLOSING) n_open--;
    if (c->state < ST_OPEN) n_done_connecting++;
    if (c->ping_sent && !c->pong_ok) n_ping_waiting--;
    free(c->hs);
    c->hs = NULL;
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = ST_DEAD;
    free(c->frame);
    c->frame = NULL;
}

static void set_events(conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void want_write(conn *c, int on) { set_events(c, EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0)); }

static void mask_bytes(unsigned char *dst, const unsigned char *src, size_t n, const unsigned char k[4])
{
    uint32_t k32;
    memcpy(&k32, k, 4);
    uint64_t k64 = (uint64_t)k32 << 32 | k32;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v ^= k64;
        memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++) dst[i] = src[i] ^ k[i & 3];
}

/* header of a masked client frame; returns its length */
static size_t put_header(unsigned char *h, int opcode, uint64_t len, const unsigned char key[4])
{
    size_t n = 0;
    h[n++] = (unsigned char)(0x80 | opcode);
    if (len < 126) h[n++] = (unsigned char)(0x80 | len);
    else if (len < 65536) { h[n++] = 0x80 | 126; h[n++] = (unsigned char)(len >> 8); h[n++] = (unsigned char)len; }
    else { h[n++] = 0x80 | 127; for (int i = 7; i >= 0; i--) h[n++] = (unsigned char)(len >> (8 * i)); }
    memcpy(h + n, key, 4);
    return n + 4;
}

static void queue_ctl(conn *c, int opcode, const unsigned char *data, size_t len)
{
    unsigned char key[4];
    uint64_t r = rng();
    memcpy(key, &r, 4);
    if (c->ctl_len + 6 + len > sizeof c->ctl) return; /* a flood of pings: drop */
    if (c->ctl_off == c->ctl_len) c->ctl_off = c->ctl_len = 0;
    size_t h = put_header(c->ctl + c->ctl_len, opcode, len, key);
    mask_bytes(c->ctl + c->ctl_len + h, data, len, key);
    c->ctl_len += h + len;
}

/* Build this connection's data frame once: a fresh random key per
 * connection (re-masking per frame would only burn client CPU). */
static void build_frame(conn *c)
{
    unsigned char key[4];
    uint64_t r = rng();
    memcpy(key, &r, 4);
    c->frame = malloc((size_t)opt.size + 14);
    if (!c->frame) die("out of memory");
    size_t h = put_header(c->frame, opt.binary ? 2 : 1, (uint64_t)opt.size, key);
    mask_bytes(c->frame + h, payload, (size_t)opt.size, key);
    c->frame_len = h + (size_t)opt.size;
}

static void flush_out(conn *c);

static void start_send(conn *c, double t)
{
    if (phase >= 3 || rt_total >= opt.max_rt) return;
    c->frame_off = 0;
    c->sending = 1;
    c->waiting = 1;
    c->t_send = t;
    c->msg_off = 0;
    flush_out(c);
}

static void flush_out(conn *c)
{
    for (;;) {
        const unsigned char *p;
        size_t left;
        int is_data;
        if (c->state == ST_HS_SEND) { p = (unsigned char *)c->req + c->req_off; left = c->req_len - c->req_off; is_data = 2; }
        else if (c->sending) { p = c->frame + c->frame_off; left = c->frame_len - c->frame_off; is_data = 1; }
        else if (c->ctl_off < c->ctl_len) { p = c->ctl + c->ctl_off; left = c->ctl_len - c->ctl_off; is_data = 0; }
        else { want_write(c, 0); return; }
        ssize_t n = send(c->fd, p, left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) { want_write(c, 1); return; }
            if (errno == EINTR) continue;
            conn_kill(c, &conn_errors, strerror(errno));
            return;
        }
        if (is_data == 2) {
            c->req_off += (size_t)n;
            if (c->req_off == c->req_len) c->state = ST_HS_RECV;
        } else if (is_data == 1) {
            c->frame_off += (size_t)n;
            if (c->frame_off == c->frame_len) c->sending = 0;
        } else {
            c->ctl_off += (size_t)n;
        }
    }
}

static void round_trip_done(conn *c, double t)
{
    c->waiting = 0;
    rt_total++;
    if (phase == 2 && c->t_send >= t_win_start && t <= t_win_end) {
        rt_window++;
        if (lat_n < lat_cap) {
            double us = (t - c->t_send) * 1e6;
            lat_us[lat_n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
        }
    }
    start_send(c, t);
}

/* feed bytes received on an open connection through the frame parser */
static void parse_frames(conn *c, const unsigned char *p, size_t n, double t)
{
    while (n > 0 && c->state >= ST_OPEN && c->state != ST_DEAD) {
        if (c->hdr_have < c->hdr_need) {
            size_t take = (size_t)(c->hdr_need - c->hdr_have);
            if (take > n) take = n;
            memcpy(c->hdr + c->hdr_have, p, take);
            c->hdr_have += (int)take; p += take; n -= take;
            if (c->hdr_have == 2) {
                int len7 = c->hdr[1] & 0x7f;
                c->masked = c->hdr[1] >> 7;
                c->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (c->masked ? 4 : 0);
                if (c->masked) { conn_kill(c, &verify_errors, "server frame is masked"); return; }
                if (c->hdr[0] & 0x70) { conn_kill(c, &verify_errors, "RSV bits set"); return; }
            }
            if (c->hdr_have < c->hdr_need || c->hdr_have < 2) continue;
            /* header complete */
            c->fin = c->hdr[0] >> 7;
            c->opcode = c->hdr[0] & 0x0f;
            int len7 = c->hdr[1] & 0x7f;
            if (len7 < 126) c->pay_len = (uint64_t)len7;
            else if (len7 == 126) c->pay_len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
            else { c->pay_len = 0; for (int i = 0; i < 8; i++) c->pay_len = c->pay_len << 8 | c->hdr[2 + i]; }
            c->pay_off = 0;
            if (c->opcode >= 8) {
                if (!c->fin || c->pay_len > 125) { conn_kill(c, &verify_errors, "bad control frame"); return; }
            } else if (c->opcode == 1 || c->opcode == 2) {
                if (c->in_msg) { conn_kill(c, &verify_errors, "new message inside a fragmented one"); return; }
                if (!c->waiting) { conn_kill(c, &verify_errors, "unsolicited data message"); return; }
                c->in_msg = 1;
                c->msg_off = 0;
            } else if (c->opcode == 0) {
                if (!c->in_msg) { conn_kill(c, &verify_errors, "continuation without a message"); return; }
            } else { conn_kill(c, &verify_errors, "reserved opcode"); return; }
            if ((c->opcode < 8 && c->msg_off + c->pay_len > (uint64_t)opt.size)) {
                conn_kill(c, &verify_errors, "echo longer than the message sent");
                return;
            }
        }
        /* payload */
        size_t take = (size_t)(c->pay_len - c->pay_off);
        if (take > n) take = n;
        if (take) {
            if (c->opcode < 8) {
                if (memcmp(p, payload + c->msg_off, take) != 0) { conn_kill(c, &verify_errors, "echo content differs"); return; }
                c->msg_off += take;
            } else {
                memcpy(c->cbuf + c->pay_off, p, take);
            }
            c->pay_off += take; p += take; n -= take;
        }
        if (c->pay_off == c->pay_len) { /* frame complete */
            c->hdr_have = 0;
            c->hdr_need = 2;
            if (c->opcode == 9) {
                queue_ctl(c, 10, c->cbuf, (size_t)c->pay_len);
                flush_out(c);
            } else if (c->opcode == 10) {
                if (c->ping_sent && !c->pong_ok && c->pay_len == 8 && !memcmp(c->cbuf, c->ping_payload, 8)) {
                    c->pong_ok = 1;
                    n_ping_waiting--;
                }
            } else if (c->opcode == 8) {
                c->close_rcvd = 1;
                if (c->state == ST_CLOSING) { conn_kill(c, NULL, NULL); return; }
                conn_kill(c, &closed_by_peer, "server sent a close frame");
                return;
            } else if (c->fin) {
                c->in_msg = 0;
                if (c->msg_off != (uint64_t)opt.size) { conn_kill(c, &verify_errors, "echo shorter than the message sent"); return; }
                round_trip_done(c, t);
            }
        }
    }
}

static void handshake_read(conn *c, double t)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->hs + c->hs_len, HS_BUF - 1 - c->hs_len, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            conn_kill(c, &hs_errors, strerror(errno));
            return;
        }
        if (n == 0) { conn_kill(c, &hs_errors, "EOF during the handshake"); return; }
        c->hs_len += (size_t)n;
        c->hs[c->hs_len] = 0;
        char *end = strstr(c->hs, "\r\n\r\n");
        if (!end) {
            if (c->hs_len >= HS_BUF - 1) conn_kill(c, &hs_errors, "handshake response too long");
            continue;
        }
        size_t head_len = (size_t)(end + 4 - c->hs);
        *end = 0;
        if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0) {
            char msg[160];
            char *eol = strstr(c->hs, "\r\n");
            if (eol) *eol = 0;
            snprintf(msg, sizeof msg, "handshake refused: %.120s", c->hs);
            conn_kill(c, &hs_errors, msg);
            return;
        }
        /* find Sec-WebSocket-Accept */
        int ok = 0;
        for (char *line = strstr(c->hs, "\r\n"); line; line = strstr(line, "\r\n")) {
            line += 2;
            if (!strncasecmp(line, "Sec-WebSocket-Accept:", 21)) {
                char *v = line + 21;
                while (*v == ' ' || *v == '\t') v++;
                ok = !strncmp(v, c->accept, 28) && (v[28] == '\r' || v[28] == 0 || v[28] == ' ');
                break;
            }
        }
        if (!ok) { conn_kill(c, &hs_errors, "bad or missing Sec-WebSocket-Accept"); return; }
        c->state = ST_OPEN;
        n_open++;
        n_done_connecting++;
        c->hdr_have = 0;
        c->hdr_need = 2;
        size_t extra = c->hs_len - head_len;
        unsigned char tmp[4096];
        memcpy(tmp, c->hs + head_len, extra);
        free(c->hs);
        c->hs = NULL;
        if (!strcmp(opt.mode, "echo")) {
            build_frame(c);
            if (phase > 0) start_send(c, t); /* late connection */
        }
        if (extra) parse_frames(c, tmp, extra, t);
        return;
    }
}

static void on_readable(conn *c, double t)
{
    if (c->state == ST_HS_RECV || c->state == ST_HS_SEND) { handshake_read(c, t); return; }
    for (int rounds = 0; rounds < 64 && c->state != ST_DEAD; rounds++) {
        ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            conn_kill(c, c->state == ST_CLOSING ? NULL : &closed_by_peer, strerror(errno));
            return;
        }
        if (n == 0) {
            conn_kill(c, c->state == ST_CLOSING ? NULL : &closed_by_peer, "EOF from the server");
            return;
        }
        parse_frames(c, rbuf, (size_t)n, t);
        if ((size_t)n < sizeof rbuf) return;
    }
}

static void start_connect(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { c->state = ST_DEAD; conn_errors++; errors++; n_done_connecting++; err_note(c, strerror(errno)); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = ST_CONNECTING; /* from here on, conn_kill() accounts for it */
    c->hs = malloc(HS_BUF);
    if (!c->hs) die("out of memory");
    if (opt.src_addrs > 0) {
        /* Round robin over the source addresses. Without IP_BIND_ADDRESS_NO_PORT,
         * bind() would pick a port unique to the address alone; with it, the port
         * is picked at connect() for the whole 4-tuple. */
        struct sockaddr_in src;
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(c->id % opt.src_addrs));
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "bind(127.0.0.%d): %s", 2 + c->id % opt.src_addrs, strerror(errno));
            n_started++;
            conn_kill(c, &conn_errors, msg);
            return;
        }
    }
    unsigned char key[16];
    for (int i = 0; i < 16; i += 8) { uint64_t r = rng(); memcpy(key + i, &r, 8); }
    char key64[32];
    base64(key, 16, key64);
    sha1_ctx s;
    unsigned char dig[20];
    sha1_init(&s);
    sha1_update(&s, key64, strlen(key64));
    sha1_update(&s, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    sha1_final(&s, dig);
    base64(dig, 20, c->accept);
    int len = snprintf(c->req, sizeof c->req,
                       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                       opt.path, opt.host, opt.port, key64, opt.origin ? "Origin: " : "", opt.origin ? opt.origin : "",
                       opt.origin ? "\r\n" : "");
    if (len <= 0 || (size_t)len >= sizeof c->req) die("request too long");
    c->req_len = (size_t)len;
    c->req_off = 0;
    c->hs_len = 0;
    c->t_connect = now_s();
    struct epoll_event e = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0) die("epoll_ctl");
    n_started++;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        c->state = ST_HS_SEND;
        flush_out(c);
    } else if (errno == EINPROGRESS) {
        c->state = ST_CONNECTING;
    } else {
        conn_kill(c, &conn_errors, strerror(errno));
    }
}

static void on_event(conn *c, uint32_t ev, double t)
{
    if (c->state == ST_DEAD) return;
    if (c->state == ST_CONNECTING) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err) { conn_kill(c, &conn_errors, strerror(err)); return; }
            c->state = ST_HS_SEND;
        } else return;
    }
    if (ev & EPOLLOUT) flush_out(c);
    if (c->state == ST_DEAD) return;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c, t);
}

static void run_loop_until(double deadline, int (*done)(void))
{
    struct epoll_event evs[512];
    for (;;) {
        double t = now_s();
        if (t >= deadline || (done && done())) return;
        int ms = (int)((deadline - t) * 1000) + 1;
        if (ms > 100) ms = 100;
        int n = epoll_wait(ep, evs, 512, ms);
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        t = now_s();
        for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events, t);
    }
}

/* connect everything, keeping at most opt.inflight handshakes in flight */
static int next_to_start;
static int all_connected(void) { return n_done_connecting >= opt.nconns; }
static void connect_all(double deadline)
{
    struct epoll_event evs[512];
    int last_done = -1;
    double t_progress = now_s();
    while (!all_connected()) {
        double t = now_s();
        if (t >= deadline) break;
        if (n_done_connecting != last_done) { last_done = n_done_connecting; t_progress = t; }
        else if (t - t_progress > opt.stall) {
            fprintf(stderr, "wsload: no handshake completed for %.0f s: giving up on the rest\n", opt.stall);
            break;
        }
        while (next_to_start < opt.nconns && (n_started - n_done_connecting) < opt.inflight)
            start_connect(&conns[next_to_start++]);
        int n = epoll_wait(ep, evs, 512, 50);
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        t = now_s();
        for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events, t);
    }
    /* whatever is still connecting now has failed */
    for (int i = 0; i < opt.nconns; i++)
        if (conns[i].state < ST_OPEN && (i < next_to_start)) conn_kill(&conns[i], &hs_errors, "handshake timed out");
    for (int i = next_to_start; i < opt.nconns; i++) { conns[i].state = ST_DEAD; hs_errors++; errors++; }
}

static int all_closed(void) { return n_open <= 0; }
static void close_all(double wait_s)
{
    static const unsigned char code[2] = {0x03, 0xe8}; /* 1000 */
    for (int i = 0; i < opt.nconns; i++) {
        conn *c = &conns[i];
        if (c->state != ST_OPEN) continue;
        c->sending = 0; /* a half-sent data frame: drop the connection instead */
        if (c->frame_off && c->frame_off < c->frame_len) { conn_kill(c, NULL, NULL); continue; }
        c->state = ST_CLOSING;
        queue_ctl(c, 8, code, 2);
        flush_out(c);
        if (c->state != ST_DEAD) shutdown(c->fd, SHUT_WR) ;
    }
    run_loop_until(now_s() + wait_s, all_closed);
    for (int i = 0; i < opt.nconns; i++) if (conns[i].state != ST_DEAD) conn_kill(&conns[i], NULL, NULL);
}

int pending(void);
int pongs_all(void);

/* Room for `want` descriptors: the soft limit up to the hard one, and the hard
 * one too when the kernel lets us (root with CAP_SYS_RESOURCE, up to
 * fs.nr_open). Process-local: nothing system-wide changes. */
static int raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        struct rlimit hi = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &hi) == 0) return 0;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want) {
        fprintf(stderr,
                "wsload: RLIMIT_NOFILE is %llu (hard %llu), too low for %d connections; raising the hard limit "
                "needs CAP_SYS_RESOURCE (ulimit -Hn, or the container's nofile limit)\n",
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, opt.nconns);
        return -1;
    }
    return 0;
}

/* Each source address reaches the server port from at most as many ports as
 * net.ipv4.ip_local_port_range holds: say so before connect() fails with
 * EADDRNOTAVAIL half way. */
static void check_port_range(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 0, hi = 0;
    if (!f) return;
    int ok = fscanf(f, "%d %d", &lo, &hi) == 2;
    fclose(f);
    if (!ok || hi < lo) return;
    long ports = hi - lo + 1, per_addr = (opt.nconns + (opt.src_addrs ? opt.src_addrs : 1) - 1) / (opt.src_addrs ? opt.src_addrs : 1);
    if (per_addr > ports)
        fprintf(stderr, "wsload: warning: %ld connections per source address, but ip_local_port_range has %ld ports "
                        "(%d-%d): use --src-addrs %ld or more\n", per_addr, ports, lo, hi,
                (opt.nconns + ports * 9 / 10 - 1) / (ports * 9 / 10));
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (!lat_n) return 0;
    size_t i = (size_t)(p * (double)(lat_n - 1) + 0.5);
    return (double)lat_us[i];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: wsload -p PORT [options]\n"
            "  -H HOST        server address, loopback only (127.0.0.1)\n"
            "  -P PATH        request path (/echo/)\n"
            "  -c N           connections (1)\n"
            "  -s BYTES       message size (16)\n"
            "  -b             binary frames (default: text, ASCII payload)\n"
            "  -d SECONDS     measured duration (5)\n"
            "  -w SECONDS     warmup after all connections are open (1)\n"
            "  -m MODE        echo | idle (echo)\n"
            "  -o ORIGIN      send an Origin header\n"
            "  --hold S       idle mode: hold time before the ping round (5)\n"
            "  --inflight N   handshakes in flight at once (256)\n"
            "  --src-addrs K  connect from 127.0.0.2 .. 127.0.0.(K+1), round robin (0: the kernel's\n"
            "                 choice); one address holds at most ip_local_port_range connections\n"
            "  --timeout S    connect/handshake phase limit (10)\n"
            "  --stall S      give up connecting after S seconds without progress (15)\n"
            "  --ping-timeout S  idle mode: wait for pongs (10)\n"
            "  --cpu-pid PID  report CPU (and RSS) of PID and its descendants\n"
            "  --max-rt N     stop after N round trips\n"
            "  --verbose N    print the first N errors\n"
            "  --announce     print a line \"measuring\" when the measured window opens\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static struct option lo[] = {{"hold", 1, 0, 1}, {"inflight", 1, 0, 2}, {"timeout", 1, 0, 3},
                                 {"ping-timeout", 1, 0, 4}, {"cpu-pid", 1, 0, 5}, {"max-rt", 1, 0, 6},
                                 {"verbose", 1, 0, 7}, {"stall", 1, 0, 8}, {"announce", 0, 0, 9}, {"src-addrs", 1, 0, 10},
                                 {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int ch;
    opt.max_errors_print = 5;
    while ((ch = getopt_long(argc, argv, "H:p:P:c:s:bd:w:m:o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'P': opt.path = optarg; break;
        case 'c': opt.nconns = atoi(optarg); break;
        case 's': opt.size = atoi(optarg); break;
        case 'b': opt.binary = 1; break;
        case 'd': opt.duration = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'm': opt.mode = optarg; break;
        case 'o': opt.origin = optarg; break;
        case 1: opt.hold = atof(optarg); break;
        case 2: opt.inflight = atoi(optarg); break;
        case 3: opt.timeout = atof(optarg); break;
        case 4: opt.ping_timeout = atof(optarg); break;
        case 5: opt.cpu_pid = atoi(optarg); break;
        case 6: opt.max_rt = atoll(optarg); break;
        case 7: opt.max_errors_print = atoi(optarg); break;
        case 8: opt.stall = atof(optarg); break;
        case 9: opt.announce = 1; break;
        case 10: opt.src_addrs = atoi(optarg); break;
        default: usage();
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.nconns <= 0 || opt.size < 0 || opt.inflight <= 0) usage();
    if (opt.src_addrs < 0 || opt.src_addrs > 253) die("--src-addrs must be 0..253 (127.0.0.2 .. 127.0.0.254)");
    if (strcmp(opt.mode, "echo") && strcmp(opt.mode, "idle")) usage();
    if (opt.duration <= 0 || opt.duration > 3600 || opt.hold < 0 || opt.hold > 3600) usage();
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) die("host must be an IPv4 address");
    if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127) die("loopback only: the host must be in 127.0.0.0/8");

    signal(SIGPIPE, SIG_IGN);
    if (raise_nofile((rlim_t)opt.nconns + 64) < 0) return 2;
    check_port_range();
    rng_seed();
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    conns = calloc((size_t)opt.nconns, sizeof *conns);
    payload = malloc((size_t)opt.size + 1);
    if (!conns || !payload) die("out of memory");
    for (int i = 0; i < opt.size; i++) payload[i] = opt.binary ? (unsigned char)rng() : (unsigned char)('a' + (i * 7 + i / 26) % 26);
    for (int i = 0; i < opt.nconns; i++) { conns[i].id = i; conns[i].fd = -1; conns[i].hdr_need = 2; }

    double t0 = now_s();
    tree_sample s_before = sample_tree(opt.cpu_pid);
    connect_all(t0 + opt.timeout);
    double t_conn = now_s();

    if (!strcmp(opt.mode, "echo")) {
        lat_cap = 4u << 20;
        lat_us = malloc(lat_cap * sizeof *lat_us);
        if (!lat_us) die("out of memory");
        phase = 1;
        for (int i = 0; i < opt.nconns; i++) if (conns[i].state == ST_OPEN) start_send(&conns[i], now_s());
        run_loop_until(now_s() + opt.warmup, all_closed);
        tree_sample s0 = sample_tree(opt.cpu_pid);
        double c0 = self_cpu_s();
        long long rt0 = rt_total, err0 = errors;
        phase = 2;
        if (opt.announce) {
            /* for a profiler that must count inside the window (bench_e2e.py --sched) */
            puts("measuring");
            fflush(stdout);
        }
        t_win_start = now_s();
        t_win_end = t_win_start + opt.duration;
        run_loop_until(t_win_end, all_closed);
        double t_end = now_s();
        phase = 3;
        tree_sample s1 = sample_tree(opt.cpu_pid);
        double c1 = self_cpu_s();
        long long rt_in = rt_total - rt0;
        double win = t_end - t_win_start;
        /* let outstanding echoes come back (bounded), then close */
        run_loop_until(now_s() + 2.0, pending);
        close_all(1.0);
        qsort(lat_us, lat_n, sizeof *lat_us, cmp_u32);
        double srv = s1.cpu_s - s0.cpu_s;
        printf("{\"mode\":\"echo\",\"conns\":%d,\"open\":%d,\"size\":%d,\"binary\":%s,\"connect_s\":%.4f,"
               "\"window_s\":%.4f,\"round_trips\":%lld,\"rt_per_s\":%.1f,\"errors\":%lld,\"errors_in_window\":%lld,"
               "\"handshake_errors\":%lld,\"conn_errors\":%lld,\"verify_errors\":%lld,\"closed_by_peer\":%lld,"
               "\"lat_us\":{\"n\":%zu,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"max\":%.0f},"
               "\"server_pid\":%d,\"server_procs\":%d,\"server_cpu_s\":%.4f,\"server_sys_s\":%.4f,\"server_cpu_us_per_rt\":%.2f,"
               "\"server_rss_kb\":%ld,\"client_cpu_s\":%.4f,\"client_cpu_us_per_rt\":%.2f}\n",
               opt.nconns, opt.nconns - (int)(hs_errors + conn_errors), opt.size, opt.binary ? "true" : "false",
               t_conn - t0, win, rt_in, rt_in / win, errors, errors - err0, hs_errors, conn_errors, verify_errors,
               closed_by_peer, lat_n, pct(0.5), pct(0.9), pct(0.99), lat_n ? (double)lat_us[lat_n - 1] : 0.0,
               opt.cpu_pid, s1.nproc, srv, s1.sys_s - s0.sys_s, rt_in ? srv * 1e6 / (double)rt_in : 0.0, s1.rss_kb, c1 - c0,
               rt_in ? (c1 - c0) * 1e6 / (double)rt_in : 0.0);
        (void)s_before;
    } else {
        int opened = n_open;
        fprintf(stderr, "wsload: %d/%d connections open after %.2fs\n", opened, opt.nconns, t_conn - t0);
        tree_sample s_open = sample_tree(opt.cpu_pid);
        double th0 = now_s();
        run_loop_until(th0 + opt.hold, NULL);
        double held = now_s() - th0;
        tree_sample s_held = sample_tree(opt.cpu_pid);
        int alive_before_ping = n_open;
        /* ping every open connection once */
        for (int i = 0; i < opt.nconns; i++) {
            conn *c = &conns[i];
            if (c->state != ST_OPEN) continue;
            uint64_t r = rng();
            memcpy(c->ping_payload, &i, 4);
            memcpy(c->ping_payload + 4, &r, 4);
            c->ping_sent = 1;
            n_ping_waiting++;
            queue_ctl(c, 9, c->ping_payload, 8);
            flush_out(c);
        }
        double tp = now_s();
        run_loop_until(tp + opt.ping_timeout, pongs_all);
        double ping_s = now_s() - tp;
        int ok = 0, sent = 0;
        for (int i = 0; i < opt.nconns; i++) { sent += conns[i].ping_sent; ok += conns[i].pong_ok; }
        tree_sample s_end = sample_tree(opt.cpu_pid);
        close_all(2.0);
        long delta = s_open.rss_kb - s_before.rss_kb;
        printf("{\"mode\":\"idle\",\"target\":%d,\"opened\":%d,\"connect_s\":%.3f,\"handshake_errors\":%lld,"
               "\"conn_errors\":%lld,\"alive_after_hold\":%d,\"closed_by_peer\":%lld,\"pings_sent\":%d,"
               "\"pongs_ok\":%d,\"ping_round_s\":%.3f,\"server_pid\":%d,\"server_procs\":%d,"
               "\"server_rss_before_kb\":%ld,\"server_rss_open_kb\":%ld,\"server_rss_end_kb\":%ld,"
               "\"server_rss_per_conn_kb\":%.2f,\"hold_s\":%.2f,\"server_idle_cpu_pct\":%.2f,"
               "\"server_fds_before\":%ld,\"server_fds_open\":%ld,\"src_addrs\":%d,\"client_rss_kb\":%ld}\n",
               opt.nconns, opened, t_conn - t0, hs_errors, conn_errors, alive_before_ping, closed_by_peer, sent, ok,
               ping_s, opt.cpu_pid, s_open.nproc, s_before.rss_kb, s_open.rss_kb, s_end.rss_kb,
               opened ? (double)delta / opened : 0.0, held, held > 0 ? 100.0 * (s_held.cpu_s - s_open.cpu_s) / held : 0.0,
               s_before.nfds, s_open.nfds, opt.src_addrs, read_rss_kb(getpid()));
    }
    fflush(stdout);
    return 0;
}

int pending(void)
{
    for (int i = 0; i < opt.nconns; i++)
        if (conns[i].state == ST_OPEN && conns[i].waiting) return 0;
    return 1;
}

int pongs_all(void) { return n_ping_waiting <= 0; } /* O(1): checked every loop turn at 100k connections */
