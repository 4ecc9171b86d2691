/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl: the operator's command line. Sends one request line to the
 * daemon's control socket and prints the answer.
 *
 *   rampartctl [-s SOCKET] status|stats|routes|neighbours [--json]
 *              [--offset N] [--limit N]
 *
 * Exit codes: 0 ok, 1 the daemon refused the request, 2 bad command line,
 * 3 cannot reach the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/rampart/rampart.sock"

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: rampartctl [-s SOCKET] COMMAND [--json] [--offset N] [--limit N]\n"
		"\n"
		"Commands:\n"
		"  status       version, uptime, ports and their links\n"
		"  stats        per-port packets/bytes, events, drops by reason\n"
		"  routes       the FIB (connected, local, broadcast and static routes)\n"
		"  neighbours   the ARP table\n"
		"\n"
		"  -s, --socket PATH  control socket (default " DEFAULT_SOCKET ")\n"
		"  -j, --json         machine-readable output\n"
		"      --offset N     listings: start at entry N\n"
		"      --limit N      listings: at most N entries\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"offset", required_argument, NULL, 'o'}, {"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_SOCKET, *cmd = NULL;
	unsigned long offset = 0, limit = 0;
	int json = 0, opt, fd;
	char req[256], buf[65536];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	while ((opt = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'j': json = 1; break;
		case 'o': offset = strtoul(optarg, NULL, 10); break;
		case 'n': limit = strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "routes") &&
	    strcmp(cmd, "neighbours") && strcmp(cmd, "neighbors")) {
		fprintf(stderr, "rampartctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return 2;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "rampartctl: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "rampartctl: cannot reach the daemon at %s: %s\n", path, strerror(errno));
		return 3;
	}
	snprintf(req, sizeof(req), "%s%s offset=%lu limit=%lu\n", cmd, json ? " json" : "", offset, limit);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "rampartctl: write: %s\n", strerror(errno));
		return 3;
	}
	int refused = 0, first = 1;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n >= 6 && strncmp(buf, "error:", 6) == 0)
			refused = 1;
		first = 0;
		fwrite(buf, 1, (size_t)n, refused ? stderr : stdout);
	}
	close(fd);
	return refused ? 1 : 0;
}
