/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl: the operator's command line. Sends one request line to the
 * daemon's control socket and prints the answer.
 *
 *   rampartctl [-S SOCKET] status|stats|routes|neighbours [--json] [--offset N] [--limit N]
 *   rampartctl [-S SOCKET] conntrack [-L] [-p PROTO] [-s ADDR] [-d ADDR] [--state S] [--json]
 *   rampartctl [-S SOCKET] conntrack -D -p PROTO -s ADDR -d ADDR [--sport N] [--dport N]
 *   rampartctl [-S SOCKET] conntrack -F
 *   rampartctl [-S SOCKET] conntrack --expect [--json]
 *   rampartctl [-S SOCKET] rules [--save] [--zero]
 *   rampartctl [-S SOCKET] reload
 *
 * Exit codes: 0 ok, 1 the daemon refused the request, 2 bad command line,
 * 3 cannot reach the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/rampart/rampart.sock"

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: rampartctl [-S PATH] COMMAND [options]\n"
		"\n"
		"Commands:\n"
		"  status                 version, uptime, ports and their links\n"
		"  stats                  per-port packets/bytes, events, drops by reason\n"
		"  routes                 the FIB (connected, local, broadcast and static routes)\n"
		"  neighbours             the ARP table\n"
		"  conntrack [-L]         connections, as `conntrack -L` (filters: -p, -s, -d, --state)\n"
		"  conntrack -D ...       delete the connection -p P -s A -d A [--sport N --dport N]\n"
		"  conntrack -F           delete every connection\n"
		"  conntrack --expect     expectations (helpers' announced connections), as\n"
		"                         `conntrack -L expect`\n"
		"  rules [--save] [-Z]    the live ruleset with counters, as iptables -L -v -n;\n"
		"                         --save: as iptables-save -c; -Z, --zero: zero the counters\n"
		"  reload                 re-read the config's filter section; prints the new generation\n"
		"\n"
		"Options:\n"
		"  -S, --socket PATH      control socket (default " DEFAULT_SOCKET ")\n"
		"  -j, --json             machine-readable output\n"
		"      --offset N         listings: start at entry N\n"
		"      --limit N          listings: at most N entries\n"
		"  -p, --proto P          conntrack: tcp, udp, icmp or a number\n"
		"  -s, --src ADDR         conntrack: original source address\n"
		"  -d, --dst ADDR         conntrack: original destination address\n"
		"      --sport N, --dport N   conntrack -D: ports (ICMP: --sport is the id)\n"
		"      --state S          conntrack: TCP state (ESTABLISHED, SYN_SENT, ...)\n"
		"\n"
		"(-s and -d name addresses, as in conntrack(8); the socket is -S.)\n");
}

static int
proto_number(const char *p)
{
	if (strcasecmp(p, "tcp") == 0)
		return IPPROTO_TCP;
	if (strcasecmp(p, "udp") == 0)
		return IPPROTO_UDP;
	if (strcasecmp(p, "icmp") == 0)
		return IPPROTO_ICMP;
	char *end;
	long v = strtol(p, &end, 10);
	return (*end == '\0' && v >= 0 && v <= 255) ? (int)v : -1;
}

int
main(int argc, char **argv)
{
	enum { O_OFFSET = 256, O_LIMIT, O_SPORT, O_DPORT, O_STATE, O_SOCKET, O_SAVE, O_EXPECT };
	static const struct option opts[] = {
		{"socket", required_argument, NULL, O_SOCKET}, {"json", no_argument, NULL, 'j'},
		{"offset", required_argument, NULL, O_OFFSET}, {"limit", required_argument, NULL, O_LIMIT},
		{"proto", required_argument, NULL, 'p'},       {"src", required_argument, NULL, 's'},
		{"dst", required_argument, NULL, 'd'},         {"sport", required_argument, NULL, O_SPORT},
		{"dport", required_argument, NULL, O_DPORT},   {"state", required_argument, NULL, O_STATE},
		{"save", no_argument, NULL, O_SAVE},           {"zero", no_argument, NULL, 'Z'},
		{"expect", no_argument, NULL, O_EXPECT},
		{"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_SOCKET, *cmd = NULL;
	char req[512] = "", filters[384] = "", buf[65536];
	unsigned long offset = 0, limit = 0;
	int json = 0, opt, fd, list = 0, del = 0, flush = 0, save = 0, zero = 0, expect = 0;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

#define ADDF(...) snprintf(filters + strlen(filters), sizeof(filters) - strlen(filters), __VA_ARGS__)
	while ((opt = getopt_long(argc, argv, "S:jhp:s:d:LDFZ", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
		case O_SOCKET: path = optarg; break;
		case 'j': json = 1; break;
		case O_OFFSET: offset = strtoul(optarg, NULL, 10); break;
		case O_LIMIT: limit = strtoul(optarg, NULL, 10); break;
		case 'p': {
			int p = proto_number(optarg);
			if (p < 0) {
				fprintf(stderr, "rampartctl: unknown protocol \"%s\"\n", optarg);
				return 2;
			}
			ADDF(" proto=%d", p);
			break;
		}
		case 's': ADDF(" src=%s", optarg); break;
		case 'd': ADDF(" dst=%s", optarg); break;
		case O_SPORT: ADDF(" sport=%lu", strtoul(optarg, NULL, 10)); break;
		case O_DPORT: ADDF(" dport=%lu", strtoul(optarg, NULL, 10)); break;
		case O_STATE: ADDF(" state=%s", optarg); break;
		case O_SAVE: save = 1; break;
		case 'Z': zero = 1; break;
		case 'L': list = 1; break;
		case 'D': del = 1; break;
		case 'F': flush = 1; break;
		case O_EXPECT: expect = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
#undef ADDF
	/* the command may stand anywhere among the options; it is the one word left */
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "conntrack") == 0) {
		if (list + del + flush + expect > 1) {
			fprintf(stderr, "rampartctl: conntrack takes one of -L, -D, -F, --expect\n");
			return 2;
		}
		if (expect && filters[0]) {
			fprintf(stderr, "rampartctl: conntrack --expect takes no filter\n");
			return 2;
		}
		if (expect)
			cmd = "conntrack-expect";
		else if (del)
			cmd = "conntrack-delete";
		else if (flush)
			cmd = "conntrack-flush";
	} else if (strcmp(cmd, "rules") == 0) {
		if (filters[0] || list || del || flush || expect) {
			fprintf(stderr, "rampartctl: rules takes --save and --zero\n");
			return 2;
		}
		snprintf(filters, sizeof(filters), "%s%s", save ? " save" : "", zero ? " zero" : "");
	} else if (strcmp(cmd, "reload") == 0) {
		if (filters[0] || list || del || flush || expect || save || zero) {
			fprintf(stderr, "rampartctl: reload takes no options\n");
			return 2;
		}
	} else if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "routes") &&
		   strcmp(cmd, "neighbours") && strcmp(cmd, "neighbors")) {
		fprintf(stderr, "rampartctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return 2;
	} else if (filters[0] || list || del || flush || expect) {
		fprintf(stderr, "rampartctl: -p/-s/-d/--state/-L/-D/-F/--expect are for conntrack\n");
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
	snprintf(req, sizeof(req), "%s%s offset=%lu limit=%lu%s\n", cmd, json ? " json" : "", offset,
		 limit, filters);
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
