/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "compiler.h"
#include "fdio.h"
#include "progress.h"

#define REDRAW_NS	(200 * 1000000LL)	/* five times a second */

/* "1.8 GiB": one decimal below 100 units, none above. */
static void
human(char *buf, size_t len, double n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB",
	    "TiB", "PiB", "EiB" };
	unsigned i = 0;

	while (n >= 1024 && i < sizeof(units) / sizeof(units[0]) - 1) {
		n /= 1024;
		i++;
	}
	if (i == 0 || n >= 100)
		snprintf(buf, len, "%.0f %s", n, units[i]);
	else
		snprintf(buf, len, "%.1f %s", n, units[i]);
}

static void
duration(char *buf, size_t len, double secs)
{
	unsigned long s = secs > 0 ? (unsigned long)(secs + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
		    s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

static unsigned
columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void
draw_bar(struct progress *p, uint64_t done, int64_t now, bool final)
{
	char line[512], text[160], d[32], t[32], r[32], eta[32];
	double secs = (now - p->start_ns) / 1e9;
	double rate = secs > 0 ? done / secs : 0;
	unsigned cols = columns(), width, fill;
	int n;

	human(d, sizeof(d), done);
	human(r, sizeof(r), rate);
	if (p->total > 0) {
		human(t, sizeof(t), p->total);
		if (final)
			duration(eta, sizeof(eta), secs);
		else if (rate > 0)
			duration(eta, sizeof(eta), (p->total - done) / rate);
		else
			snprintf(eta, sizeof(eta), "--:--");
		snprintf(text, sizeof(text), " %3d%% %s / %s  %s/s  %s %s",
		    (int)(done * 100 / p->total), d, t, r, eta,
		    final ? "total" : "left");
	} else {
		snprintf(text, sizeof(text), " %s  %s/s", d, r);
	}
	width = cols > strlen(text) + 12 ? cols - strlen(text) - 3 : 10;
	if (width > sizeof(line) - sizeof(text) - 8)
		width = sizeof(line) - sizeof(text) - 8;
	fill = p->total > 0 ? (unsigned)(done * width / p->total) :
	    width;
	n = snprintf(line, sizeof(line), "\r[");
	for (unsigned i = 0; i < width; i++)
		line[n++] = i < fill ? '#' : '.';
	n += snprintf(line + n, sizeof(line) - n, "]%s\033[K%s", text,
	    final ? "\n" : "");
	(void)fd_write_all(STDERR_FILENO, line, n);
	p->drawn = true;
}

static void
write_percent(struct progress *p, uint64_t done, bool final)
{
	char buf[16];
	int percent, n;

	if (final)
		percent = 100;
	else if (p->total > 0)
		percent = done * 100 / p->total;
	else
		percent = 0;
	/* 100/100 is only ever the last line, written once everything is. */
	if (percent == 100 && !final)
		percent = 99;
	if (percent == p->last_percent)
		return;
	p->last_percent = percent;
	n = snprintf(buf, sizeof(buf), "%d/100\n", percent);
	(void)fd_write_all(p->fd, buf, n);
}

/* Bytes per second since the oldest redraw kept, a few seconds back. */
static double
recent_rate(struct progress *p, uint64_t done, int64_t now)
{
	unsigned n = ARRAY_SIZE(p->window), oldest;
	double secs;

	if (p->nwindow == 0) {
		secs = (now - p->start_ns) / 1e9;
		return secs > 0 ? (done - p->resumed) / secs : 0;
	}
	oldest = p->nwindow < n ? 0 : p->nwindow % n;
	secs = (now - p->window[oldest].ns) / 1e9;
	return secs > 0 ? (done - p->window[oldest].done) / secs : 0;
}

static void
remember(struct progress *p, uint64_t done, int64_t now)
{
	unsigned n = ARRAY_SIZE(p->window);

	p->window[p->nwindow % n].ns = now;
	p->window[p->nwindow % n].done = done;
	p->nwindow++;
}

/*
 * The fields that depend on the size: a stream has no total, and its
 * percent is known only once it has ended.
 */
static void
json_sized_fields(struct progress *p, uint64_t done, double rate, bool final,
    char total[32], char percent[32], char eta[32])
{
	if (p->sized)
		snprintf(total, 32, "%" PRIu64, p->total);
	else
		snprintf(total, 32, "null");
	if (final || (p->sized && done >= p->total)) {
		snprintf(percent, 32, "100.00");
		snprintf(eta, 32, "0");
		return;
	}
	snprintf(percent, 32, "null");
	snprintf(eta, 32, "null");
	if (!p->sized)
		return;
	snprintf(percent, 32, "%.2f", done * 100.0 / p->total);
	if (rate > 0)
		snprintf(eta, 32, "%.1f", (p->total - done) / rate);
}

static void
write_json(struct progress *p, uint64_t done, int64_t now, bool final)
{
	char line[512], total[32], percent[32], eta[32];
	double rate = recent_rate(p, done, now);
	int n = 0;

	json_sized_fields(p, done, rate, final, total, percent, eta);
	/* JSON on the terminal the bar is on: erase the bar first. */
	if (p->drawn && p->json_fd == STDERR_FILENO)
		n = snprintf(line, sizeof line, "\r\033[K");
	n += snprintf(line + n, sizeof line - n, "{\"phase\":\"%s\","
	    "\"bytes_done\":%" PRIu64 ",\"bytes_total\":%s,\"percent\":%s,"
	    "\"rate\":%.0f,\"eta_seconds\":%s,\"elapsed_seconds\":%.3f,"
	    "\"retries\":%" PRIu64 ",\"resumed_bytes\":%" PRIu64 "}\n",
	    p->phase, done, total, percent, rate, eta,
	    (now - p->start_ns) / 1e9, p->retries != NULL ? p->retries() : 0, p->resumed);
	(void)fd_write_all(p->json_fd, line, n);
}

static uint64_t
done_so_far(struct progress *p)
{
	uint64_t done = atomic_load(&p->done);

	return p->sized && done > p->total ? p->total : done;
}

static void
redraw(struct progress *p, int64_t now, bool final)
{
	uint64_t done = done_so_far(p);

	if (p->json_fd >= 0)
		write_json(p, done, now, final);
	if (p->bar)
		draw_bar(p, done, now, final);
	if (p->fd >= 0)
		write_percent(p, done, final);
	remember(p, done, now);
}

void
progress_begin(struct progress *p, bool bar, int fd, int json_fd,
    int64_t total, uint64_t resumed)
{
	p->bar = bar && isatty(STDERR_FILENO);
	p->fd = fd;
	p->json_fd = json_fd;
	p->sized = total >= 0;
	p->total = total > 0 ? (uint64_t)total : 0;
	p->resumed = resumed;
	p->phase = "copy";
	p->nwindow = 0;
	atomic_init(&p->done, resumed);
	p->start_ns = clock_now_ns();
	atomic_init(&p->next_ns, p->start_ns + REDRAW_NS);
	pthread_mutex_init(&p->lock, NULL);
	p->last_percent = -1;
	p->drawn = false;
	p->active = p->bar || p->fd >= 0 || p->json_fd >= 0;
	if (p->active)
		redraw(p, p->start_ns, false);
}

void
progress_phase(struct progress *p, const char *phase)
{
	if (!p->active)
		return;
	pthread_mutex_lock(&p->lock);
	p->phase = phase;
	redraw(p, clock_now_ns(), false);
	pthread_mutex_unlock(&p->lock);
}

void
progress_add(struct progress *p, uint64_t n)
{
	int64_t now, next;

	atomic_fetch_add_explicit(&p->done, n, memory_order_relaxed);
	if (!p->active)
		return;
	now = clock_now_ns();
	next = atomic_load_explicit(&p->next_ns, memory_order_relaxed);
	if (now < next)
		return;
	/* Whoever wins the exchange draws; the others go back to work. */
	if (!atomic_compare_exchange_strong(&p->next_ns, &next,
	    now + REDRAW_NS))
		return;
	pthread_mutex_lock(&p->lock);
	redraw(p, now, false);
	pthread_mutex_unlock(&p->lock);
}

void
progress_end(struct progress *p)
{
	if (!p->active)
		return;
	pthread_mutex_lock(&p->lock);
	redraw(p, clock_now_ns(), true);
	p->active = false;
	pthread_mutex_unlock(&p->lock);
}
