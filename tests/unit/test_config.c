/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/config: a full config lands in struct rp_config with exact values,
 * defaults fill what is absent, and each class of error produces its exact
 * message with file and line. Configs are written to temporary files; the
 * file name in messages is written "@" in the expectations. No EAL needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rampart_config.h"
#include "rp_test.h"

/* Exact string equality, showing both strings when they differ. */
#define CHECK_STR_EQ(got, want)                                                          \
	do {                                                                             \
		const char *_g = (got), *_w = (want);                                    \
		rp_test_checks++;                                                        \
		if (strcmp(_g, _w) != 0) {                                               \
			rp_test_failures++;                                              \
			fprintf(stderr, "%s:%d: expected:\n%s--- got:\n%s---\n", __FILE__, \
				__LINE__, _w, _g);                                       \
		}                                                                        \
	} while (0)

/* Load @p text from a fresh temp file; *out gets the messages with the path as "@". */
static int
load_text(const char *text, struct rp_config *cfg, char **out)
{
	char path[] = "/tmp/rp-test-config-XXXXXX";
	int fd = mkstemp(path);
	char *raw = NULL;
	size_t raw_len = 0;
	FILE *err;
	int n;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("temp config");
		exit(1);
	}
	close(fd);
	err = open_memstream(&raw, &raw_len);
	n = rp_config_load(path, cfg, err);
	fclose(err);
	unlink(path);

	/* replace every occurrence of the temp path by "@" */
	size_t plen = strlen(path);
	char *res = malloc(raw_len + 1), *w = res;
	for (const char *r = raw; *r != '\0';) {
		if (strncmp(r, path, plen) == 0) {
			*w++ = '@';
			r += plen;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	free(raw);
	*out = res;
	return n;
}

/* The config must fail with exactly @p n errors and exactly @p expected output. */
#define EXPECT_ERRORS(text, n, expected) expect_errors(__LINE__, text, n, expected)
static void
expect_errors(int line, const char *text, int n, const char *expected)
{
	struct rp_config cfg;
	char *out;
	int got = load_text(text, &cfg, &out);

	rp_test_checks++;
	if (got != n || strcmp(out, expected) != 0) {
		rp_test_failures++;
		fprintf(stderr, "%s:%d: expected %d error(s):\n%s--- got %d:\n%s---\n", __FILE__, line,
			n, expected, got, out);
	}
	/* a failed load has released its allocations */
	if (got > 0)
		CHECK(cfg.routes == NULL && cfg.neighbours == NULL && cfg.eal_args == NULL);
	else
		rp_config_free(&cfg);
	free(out);
}

#define PORT_LAN "{ name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/24\"; }"
#define PORT_WAN "{ name = \"wan0\"; device = \"net_null1\"; address = \"198.19.1.1/24\"; }"

static const char full_conf[] =
	"# every section\n"                                                   /* 1 */
	"eal = [ \"-l\", \"0-2\", \"--no-huge\", \"-m\", \"512\" ];\n"        /* 2 */
	"ports = (\n"                                                         /* 3 */
	"  { name = \"lan0\";\n"                                              /* 4 */
	"    device = \"net_af_packet0,iface=veth-lan,qpairs=2\";\n"          /* 5 */
	"    address = [ \"198.18.1.1/24\", \"192.0.2.1\" ];\n"               /* 6 */
	"    mtu = 9000; rx_desc = 512; tx_desc = 2048;\n"                    /* 7 */
	"  },\n"                                                              /* 8 */
	"  { name = \"wan0\"; device = \"0000:03:00.1\"; address = \"198.19.1.1/24\"; }\n" /* 9 */
	");\n"                                                                /* 10 */
	"routes = (\n"                                                        /* 11 */
	"  { to = \"0.0.0.0/0\"; via = \"198.19.1.254\"; },\n"                /* 12 */
	"  { to = \"203.0.113.0/24\"; port = \"lan0\"; },\n"                  /* 13 */
	"  { to = \"198.51.100.0/25\"; via = \"198.18.1.20\"; port = \"lan0\"; }\n" /* 14 */
	");\n"                                                                /* 15 */
	"neighbours = ( { address = \"198.18.1.2\"; mac = \"02:00:00:00:00:0A\"; port = \"lan0\"; } );\n" /* 16 */
	"workers = { lcores = [ 1,\n"                                         /* 17 */
	"                       2 ]; burst = 16; idle_sleep_us = 50; };\n"    /* 18 */
	"arp = { reachable_ms = 20000; retrans_ms = 500; probes = 5; hold_packets = 8;\n" /* 19 */
	"        gc_stale_ms = 120000; max = 1024; };\n"                      /* 20 */
	"icmp = { ratelimit = 0; burst = 10; };\n"                            /* 21 */
	"control = { socket = \"/tmp/rampart-test.sock\"; };\n";              /* 22 */

static void
test_full(void)
{
	struct rp_config cfg;
	char *out;
	char buf[16];

	CHECK_EQ(load_text(full_conf, &cfg, &out), 0);
	CHECK(strcmp(out, "") == 0);
	free(out);

	CHECK_EQ(cfg.n_eal_args, 5);
	CHECK(strcmp(cfg.eal_args[0], "-l") == 0);
	CHECK(strcmp(cfg.eal_args[1], "0-2") == 0);
	CHECK(strcmp(cfg.eal_args[4], "512") == 0);
	CHECK(cfg.eal_args[5] == NULL);

	CHECK_EQ(cfg.n_ports, 2);
	CHECK(strcmp(cfg.ports[0].name, "lan0") == 0);
	CHECK(strcmp(cfg.ports[0].device, "net_af_packet0,iface=veth-lan,qpairs=2") == 0);
	CHECK_EQ(cfg.ports[0].n_addrs, 2);
	CHECK_EQ(cfg.ports[0].addrs[0].addr, 0xc6120101);
	CHECK_EQ(cfg.ports[0].addrs[0].len, 24);
	CHECK_EQ(cfg.ports[0].addrs[1].addr, 0xc0000201);
	CHECK_EQ(cfg.ports[0].addrs[1].len, 32); /* no /len: a host address */
	CHECK_EQ(cfg.ports[0].mtu, 9000);
	CHECK_EQ(cfg.ports[0].rx_desc, 512);
	CHECK_EQ(cfg.ports[0].tx_desc, 2048);
	CHECK_EQ(cfg.ports[0].line, 4);
	CHECK(strcmp(cfg.ports[1].name, "wan0") == 0);
	CHECK(strcmp(cfg.ports[1].device, "0000:03:00.1") == 0);
	CHECK_EQ(cfg.ports[1].n_addrs, 1);
	CHECK_EQ(cfg.ports[1].addrs[0].addr, 0xc6130101);
	CHECK_EQ(cfg.ports[1].addrs[0].len, 24);
	CHECK_EQ(cfg.ports[1].mtu, 1500);
	CHECK_EQ(cfg.ports[1].rx_desc, 1024);
	CHECK_EQ(cfg.ports[1].line, 9);

	CHECK_EQ(cfg.n_routes, 3);
	CHECK_EQ(cfg.routes[0].to.addr, 0);
	CHECK_EQ(cfg.routes[0].to.len, 0);
	CHECK_EQ(cfg.routes[0].via, 0xc61301fe);
	CHECK_EQ(cfg.routes[0].port, 1); /* resolved from via: wan0's subnet */
	CHECK_EQ(cfg.routes[0].line, 12);
	CHECK(strcmp(rp_ipv4_fmt(cfg.routes[1].to.addr, buf), "203.0.113.0") == 0);
	CHECK_EQ(cfg.routes[1].to.len, 24);
	CHECK_EQ(cfg.routes[1].via, 0);
	CHECK_EQ(cfg.routes[1].port, 0);
	CHECK_EQ(cfg.routes[2].via, 0xc6120114);
	CHECK_EQ(cfg.routes[2].port, 0);
	CHECK_EQ(cfg.routes[2].line, 14);

	CHECK_EQ(cfg.n_neighbours, 1);
	CHECK_EQ(cfg.neighbours[0].addr, 0xc6120102);
	CHECK(memcmp(cfg.neighbours[0].mac, "\x02\x00\x00\x00\x00\x0a", 6) == 0);
	CHECK_EQ(cfg.neighbours[0].port, 0);
	CHECK_EQ(cfg.neighbours[0].line, 16);

	CHECK_EQ(cfg.workers.n_lcores, 2);
	CHECK_EQ(cfg.workers.lcores[0], 1);
	CHECK_EQ(cfg.workers.lcores[1], 2);
	CHECK_EQ(cfg.workers.lcore_lines[0], 17);
	CHECK_EQ(cfg.workers.lcore_lines[1], 18);
	CHECK_EQ(cfg.workers.burst, 16);
	CHECK_EQ(cfg.workers.idle_sleep_us, 50);
	CHECK_EQ(cfg.workers.line, 17);

	CHECK_EQ(cfg.neigh.reachable_ms, 20000);
	CHECK_EQ(cfg.neigh.retrans_ms, 500);
	CHECK_EQ(cfg.neigh.probes, 5);
	CHECK_EQ(cfg.neigh.hold_packets, 8);
	CHECK_EQ(cfg.neigh.gc_stale_ms, 120000);
	CHECK_EQ(cfg.neigh.max, 1024);
	CHECK_EQ(cfg.icmp.ratelimit_pps, 0);
	CHECK_EQ(cfg.icmp.burst, 10);
	CHECK(strcmp(cfg.control_socket, "/tmp/rampart-test.sock") == 0);
	CHECK(strncmp(cfg.path, "/tmp/rp-test-config-", 20) == 0);

	CHECK_EQ(rp_config_port_index(&cfg, "wan0"), 1);
	CHECK_EQ(rp_config_port_index(&cfg, "lan0"), 0);
	CHECK_EQ(rp_config_port_index(&cfg, "lan"), -1);

	rp_config_free(&cfg);
	CHECK(cfg.eal_args == NULL && cfg.routes == NULL && cfg.neighbours == NULL);
}

static void
test_defaults(void)
{
	struct rp_config cfg;
	char *out;

	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n", &cfg, &out), 0);
	CHECK(strcmp(out, "") == 0);
	free(out);
	CHECK(cfg.eal_args == NULL);
	CHECK_EQ(cfg.n_eal_args, 0);
	CHECK_EQ(cfg.n_ports, 1);
	CHECK_EQ(cfg.ports[0].mtu, 1500);
	CHECK_EQ(cfg.ports[0].rx_desc, 1024);
	CHECK_EQ(cfg.ports[0].tx_desc, 1024);
	CHECK_EQ(cfg.n_routes, 0);
	CHECK_EQ(cfg.n_neighbours, 0);
	CHECK_EQ(cfg.workers.n_lcores, 1);
	CHECK_EQ(cfg.workers.lcores[0], 1);
	CHECK_EQ(cfg.workers.lcore_lines[0], 0);
	CHECK_EQ(cfg.workers.burst, 32);
	CHECK_EQ(cfg.workers.idle_sleep_us, 0);
	CHECK_EQ(cfg.neigh.reachable_ms, 30000);
	CHECK_EQ(cfg.neigh.retrans_ms, 1000);
	CHECK_EQ(cfg.neigh.probes, 3);
	CHECK_EQ(cfg.neigh.hold_packets, 16);
	CHECK_EQ(cfg.neigh.gc_stale_ms, 60000);
	CHECK_EQ(cfg.neigh.max, 4096);
	CHECK_EQ(cfg.icmp.ratelimit_pps, 1000);
	CHECK_EQ(cfg.icmp.burst, 50);
	CHECK(strcmp(cfg.control_socket, "/run/rampart/rampart.sock") == 0);
	rp_config_free(&cfg);

	/* empty lists, either bracket */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nroutes = [ ];\nneighbours = ( );\neal = [ ];\n",
			   &cfg, &out),
		 0);
	CHECK(strcmp(out, "") == 0);
	free(out);
	CHECK_EQ(cfg.n_routes, 0);
	CHECK_EQ(cfg.n_neighbours, 0);
	CHECK_EQ(cfg.n_eal_args, 0);
	CHECK(cfg.eal_args != NULL && cfg.eal_args[0] == NULL);
	rp_config_free(&cfg);

	/* a workers group without lcores keeps the default worker */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nworkers = { burst = 8; };\n", &cfg, &out), 0);
	free(out);
	CHECK_EQ(cfg.workers.n_lcores, 1);
	CHECK_EQ(cfg.workers.lcores[0], 1);
	CHECK_EQ(cfg.workers.burst, 8);
	rp_config_free(&cfg);
}

/* ---- host ----------------------------------------------------------------- */

static void
test_host_full(void)
{
	struct rp_config cfg;
	char *out;

	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"                                   /* 1 */
			   "host = {\n"                                                   /* 2 */
			   "  interface = \"rp_Host-1.x\";\n"                             /* 3 */
			   "  device = \"net_tap\";\n"                                    /* 4 */
			   "  mtu = 9000;\n"                                              /* 5 */
			   "};\n",                                                        /* 6 */
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.host.present, 1);
	CHECK_STR_EQ(cfg.host.interface, "rp_Host-1.x");
	CHECK_STR_EQ(cfg.host.device, "net_tap");
	CHECK_EQ(cfg.host.mtu, 9000);
	CHECK_EQ(cfg.host.line, 2);
	rp_config_free(&cfg);

	/* both ends of the ranges; a 15-character name */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "host = { interface = \"abcdefghijklmno\"; mtu = 68; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_STR_EQ(cfg.host.interface, "abcdefghijklmno");
	CHECK_EQ(cfg.host.mtu, 68);
	rp_config_free(&cfg);
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nhost = { mtu = 9600; };\n", &cfg, &out), 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.host.mtu, 9600);
	rp_config_free(&cfg);
}

static void
test_host_defaults(void)
{
	struct rp_config cfg;
	char *out;

	/* absent: all zero, and the sections around it are read as before */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "conntrack = { max = 1024; timeouts = { udp = 31; }; };\n"
			   "filter = { rules = [ \"-A INPUT -j ACCEPT\" ]; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.host.present, 0);
	CHECK_STR_EQ(cfg.host.interface, "");
	CHECK_STR_EQ(cfg.host.device, "");
	CHECK_EQ(cfg.host.mtu, 0);
	CHECK_EQ(cfg.host.line, 0);
	CHECK_EQ(cfg.conntrack.max, 1024);
	CHECK_EQ(cfg.filter.n_rules, 1);
	rp_config_free(&cfg);

	/* present but empty: every default, and no warning any more */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "conntrack = { max = 1024; };\n"
			   "host = { };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.host.present, 1);
	CHECK_STR_EQ(cfg.host.interface, "rampart0");
	CHECK_STR_EQ(cfg.host.device, "net_tap");
	CHECK_EQ(cfg.host.mtu, 1500);
	CHECK_EQ(cfg.host.line, 3);
	CHECK_EQ(cfg.conntrack.max, 1024);
	rp_config_free(&cfg);

	/* the name of a port (lan0 is Rampart's, not the kernel's) may be reused */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nhost = { interface = \"lan0\"; };\n", &cfg,
			   &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_STR_EQ(cfg.host.interface, "lan0");
	rp_config_free(&cfg);
}

static void
test_host_errors(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \"rampart0\"; ifname = \"x\"; };\n",
		      1,
		      "@:2: host.ifname: unknown setting (known here: interface, device, mtu)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = \"rampart0\";\n", 1,
		      "@:2: host: \"rampart0\": expected a group { ... }, found a string\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = ( );\n", 1,
		      "@:2: host: expected a group { ... }, found a list ( ... )\n");
	/* interface */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "host = { interface = 0; };\n"
		      "host2 = 1;\n",
		      2,
		      "@:2: host.interface: expected a string, found an integer\n"
		      "@:3: host2: unknown setting (known here: eal, ports, routes, neighbours, "
		      "workers, arp, icmp, control, conntrack, host, filter)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \"\"; };\n", 1,
		      "@:2: host.interface: \"\": must be 1..15 characters\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \"abcdefghijklmnop\"; };\n", 1,
		      "@:2: host.interface: \"abcdefghijklmnop\": must be 1..15 characters\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \"ramp art\"; };\n", 1,
		      "@:2: host.interface: \"ramp art\": may contain only letters, digits, '_', '.' and '-'\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \"eth0/1\"; };\n", 1,
		      "@:2: host.interface: \"eth0/1\": may contain only letters, digits, '_', '.' and '-'\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \".\"; };\n", 1,
		      "@:2: host.interface: \".\": not a valid interface name\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { interface = \"..\"; };\n", 1,
		      "@:2: host.interface: \"..\": not a valid interface name\n");
	/* device */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { device = \"virtio_user\"; };\n", 1,
		      "@:2: host.device: \"virtio_user\": only net_tap is supported here "
		      "(no vhost-net device for virtio_user)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { device = \"net_tap0\"; };\n", 1,
		      "@:2: host.device: \"net_tap0\": only net_tap is supported here "
		      "(no vhost-net device for virtio_user)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { device = \"\"; };\n", 1,
		      "@:2: host.device: \"\": only net_tap is supported here "
		      "(no vhost-net device for virtio_user)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { device = [ \"net_tap\" ]; };\n", 1,
		      "@:2: host.device: expected a string, found an array [ ... ]\n");
	/* mtu */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { mtu = 67; };\n", 1,
		      "@:2: host.mtu: 67: must be 68..9600\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { mtu = 9601; };\n", 1,
		      "@:2: host.mtu: 9601: must be 68..9600\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nhost = { mtu = \"1500\"; };\n", 1,
		      "@:2: host.mtu: \"1500\": expected an integer, found a string\n");
	/* every problem of the section in one run, in line order */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "host = {\n"
		      "  mtu = 20000;\n"
		      "  device = \"virtio_user0\";\n"
		      "  interface = \"a:b\";\n"
		      "};\n",
		      3,
		      "@:3: host.mtu: 20000: must be 68..9600\n"
		      "@:4: host.device: \"virtio_user0\": only net_tap is supported here "
		      "(no vhost-net device for virtio_user)\n"
		      "@:5: host.interface: \"a:b\": may contain only letters, digits, '_', '.' and '-'\n");
}

/* The host interface is a new kernel interface, never one a port's device drives. */
static void
test_host_interface_clash(void)
{
	struct rp_config cfg;
	char *out;

	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"lan0\"; device = \"net_af_packet0,iface=rp-lan\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"wan0\"; device = \"net_af_packet1,qpairs=1,iface=rp-wan\"; address = \"198.19.1.1/24\"; }\n"
		      ");\n"
		      "host = { interface = \"rp-wan\"; };\n",
		      1,
		      "@:5: host.interface: \"rp-wan\": is the interface of port wan0's device "
		      "(ports[1], line 3): the host interface is a new one\n");
	/* any driver's iface= argument (net_tap, net_pcap name theirs so too) */
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_tap1,iface=rampart0\"; "
		      "address = \"198.18.1.1/24\"; } );\n"
		      "host = { };\n",
		      1,
		      "@:2: host.interface: \"rampart0\" (the default) is the interface of port "
		      "lan0's device (ports[0], line 1): the host interface is a new one; set another\n");
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_tap1,iface=rampart0\"; "
		      "address = \"198.18.1.1/24\"; } );\n"
		      "host = {\n  interface = \"rampart0\"; };\n",
		      1,
		      "@:3: host.interface: \"rampart0\": is the interface of port lan0's device "
		      "(ports[0], line 1): the host interface is a new one\n");
	/* iface= inside another argument's [list] is not the device's interface;
	 * an argument merely starting with "iface" is not iface= either */
	CHECK_EQ(load_text("ports = ( { name = \"lan0\"; "
			   "device = \"net_af_packet0,x=[a,iface=rampart0,b],ifaces=rampart0,iface=rp-lan\"; "
			   "address = \"198.18.1.1/24\"; } );\n"
			   "host = { interface = \"rampart0\"; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_STR_EQ(cfg.host.interface, "rampart0");
	rp_config_free(&cfg);
	/* the same name as a device argument other than iface= is no clash */
	CHECK_EQ(load_text("ports = ( { name = \"lan0\"; device = \"net_pcap0,rx_iface=rampart0\"; "
			   "address = \"198.18.1.1/24\"; } );\n"
			   "host = { };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	rp_config_free(&cfg);
	/* a device string with an error of its own is reported once, without a clash */
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_af_packet0,iface=rampart0,\"; "
		      "address = \"198.18.1.1/24\"; } );\n"
		      "host = { };\n",
		      1,
		      "@:1: ports[0].device: \"net_af_packet0,iface=rampart0,\": empty device argument (stray ',')\n");
}

/* ---- filter --------------------------------------------------------------- */

static const char filter_full_conf[] =
	"ports = ( " PORT_LAN " );\n"                                             /* 1 */
	"filter = {\n"                                                            /* 2 */
	"  policy = { input = \"DROP\";\n"                                        /* 3 */
	"             forward = \"DROP\"; output = \"ACCEPT\"; };\n"              /* 4 */
	"  rules = [\n"                                                           /* 5 */
	"    \"-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT\",\n"      /* 6 */
	"    # a comment, \"quoted\", between rules\n"                             /* 7 */
	"    \"-A INPUT -m comment --comment \\\"a, b ]\\\" -j DROP\", /* x */\n"  /* 8 */
	"    \"-A FORWARD -i lan0 \"\n"                                            /* 9 */
	"      \"-j ACCEPT\"\n"                                                    /* 10 */
	"  ];\n"                                                                 /* 11 */
	"  revalidate = true;\n"                                                 /* 12 */
	"};\n";                                                                  /* 13 */

static void
test_filter_full(void)
{
	struct rp_config cfg;
	char *out;

	CHECK_EQ(load_text(filter_full_conf, &cfg, &out), 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.filter.line, 2);
	CHECK_EQ(cfg.filter.policy[0], RP_POLICY_DROP);
	CHECK_EQ(cfg.filter.policy[1], RP_POLICY_DROP);
	CHECK_EQ(cfg.filter.policy[2], RP_POLICY_ACCEPT);
	CHECK_EQ(cfg.filter.policy_line[0], 3);
	CHECK_EQ(cfg.filter.policy_line[1], 4);
	CHECK_EQ(cfg.filter.policy_line[2], 4);
	CHECK_EQ(cfg.filter.n_rules, 3);
	CHECK_STR_EQ(cfg.filter.rules[0], "-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT");
	CHECK_STR_EQ(cfg.filter.rules[1], "-A INPUT -m comment --comment \"a, b ]\" -j DROP");
	/* libconfig joins adjacent strings */
	CHECK_STR_EQ(cfg.filter.rules[2], "-A FORWARD -i lan0 -j ACCEPT");
	/* the line each rule begins on (libconfig itself would say 11 for the last) */
	CHECK_EQ(cfg.filter.rule_lines[0], 6);
	CHECK_EQ(cfg.filter.rule_lines[1], 8);
	CHECK_EQ(cfg.filter.rule_lines[2], 9);
	CHECK(cfg.filter.rules_file == NULL);
	CHECK_EQ(cfg.filter.revalidate, 1);
	rp_config_free(&cfg);
	CHECK(cfg.filter.rules == NULL && cfg.filter.n_rules == 0);
}

static void
test_filter_defaults_and_file(void)
{
	struct rp_config cfg;
	char *out;

	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n", &cfg, &out), 0);
	free(out);
	for (int i = 0; i < RP_FILTER_POLICY_CHAINS; i++)
		CHECK_EQ(cfg.filter.policy[i], RP_POLICY_UNSET);
	CHECK(cfg.filter.rules == NULL && cfg.filter.rules_file == NULL);
	CHECK_EQ(cfg.filter.n_rules, 0);
	CHECK_EQ(cfg.filter.revalidate, 0);
	CHECK_EQ(cfg.filter.line, 0);
	rp_config_free(&cfg);

	/* relative to the config file's directory (the temp file is in /tmp) */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "filter = {\n"
			   "  rules_file = \"rules/main.v4\";\n"
			   "};\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_STR_EQ(cfg.filter.rules_file, "/tmp/rules/main.v4");
	CHECK_EQ(cfg.filter.rules_file_line, 3);
	CHECK(cfg.filter.rules == NULL);
	rp_config_free(&cfg);
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "filter = { rules_file = \"/etc/iptables/rules.v4\"; rules = [ ]; };\n",
			   &cfg, &out),
		 1);
	CHECK_STR_EQ(out, "@:2: filter.rules_file: rules (line 2) and rules_file exclude each other: "
			  "give one\n");
	free(out);
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "filter = { rules_file = \"/etc/iptables/rules.v4\"; };\n",
			   &cfg, &out),
		 0);
	free(out);
	CHECK_STR_EQ(cfg.filter.rules_file, "/etc/iptables/rules.v4");
	rp_config_free(&cfg);
	/* an empty list is no rule at all */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nfilter = { rules = [ ]; };\n", &cfg, &out), 0);
	free(out);
	CHECK_EQ(cfg.filter.n_rules, 0);
	rp_config_free(&cfg);
}

static void
test_filter_errors(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "filter = {\n"
		      "  policy = { input = \"drop\"; forward = \"REJECT\"; prerouting = \"DROP\";\n"
		      "             output = 1; };\n"
		      "  rules = ( \"-A INPUT\", 7 );\n"
		      "  revalidate = 1;\n"
		      "  rule = \"x\";\n"
		      "};\n",
		      7,
		      "@:3: filter.policy.prerouting: unknown setting (known here: input, forward, "
		      "output)\n"
		      "@:3: filter.policy.input: \"drop\": a policy is \"ACCEPT\" or \"DROP\"\n"
		      "@:3: filter.policy.forward: \"REJECT\": a policy is \"ACCEPT\" or \"DROP\"\n"
		      "@:4: filter.policy.output: expected a string, found an integer\n"
		      "@:5: filter.rules[1]: expected a string, found an integer\n"
		      "@:6: filter.revalidate: expected a boolean (true or false), found an integer\n"
		      "@:7: filter.rule: unknown setting (known here: policy, rules, rules_file, "
		      "revalidate)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "filter = { rules = \"-A INPUT\"; };\n",
		      1,
		      "@:2: filter.rules: \"-A INPUT\": expected a list of rule strings [ \"-A INPUT "
		      "...\", ... ], found a string\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "filter = { rules_file = \"\"; policy = \"DROP\"; };\n",
		      2,
		      "@:2: filter.policy: \"DROP\": expected a group { ... }, found a string\n"
		      "@:2: filter.rules_file: \"\": empty path\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "filter = [ \"-A INPUT\" ];\n",
		      1, "@:2: filter: expected a group { ... }, found an array [ ... ]\n");
}

/* ---- conntrack ------------------------------------------------------------ */

static const char ct_full_conf[] =
	"ports = ( " PORT_LAN " );\n"                                          /* 1 */
	"workers = { lcores = [ 1, 2, 3 ]; };\n"                               /* 2 */
	"conntrack = {\n"                                                      /* 3 */
	"  max = 1048577; tcp_loose = false; checksum = false;\n"              /* 4 */
	"  helpers = [ \"ftp\" ];\n"                                           /* 5 */
	"  ftp_ports = [ 21, 2121, 65535 ];\n"                                 /* 6 */
	"  expect_max = 64;\n"                                                 /* 7 */
	"  frag = { max_datagrams = 16; timeout_ms = 600000; };\n"             /* 8 */
	"  timeouts = {\n"                                                     /* 9 */
	"    tcp_syn_sent = 1; tcp_syn_recv = 2; tcp_established = 2147483; tcp_fin_wait = 4;\n"
	"    tcp_close_wait = 5; tcp_last_ack = 6; tcp_time_wait = 7; tcp_close = 8;\n"
	"    tcp_syn_sent2 = 9; tcp_max_retrans = 10; tcp_unacknowledged = 11;\n"
	"    udp = 12; udp_stream = 13; icmp = 14; generic = 15;\n"
	"  };\n"
	"};\n";

static void
test_conntrack_full(void)
{
	struct rp_config cfg;
	const struct rp_ct_config *ct = &cfg.conntrack;
	char *out;

	CHECK_EQ(load_text(ct_full_conf, &cfg, &out), 0);
	/* the FTP helper is accepted and stored, without a word */
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(ct->max, 1048577);
	CHECK_EQ(ct->tcp_loose, 0);
	CHECK_EQ(ct->checksum, 0);
	CHECK_EQ(ct->helpers, RP_CT_HELPER_FTP);
	CHECK_EQ(ct->n_ftp_ports, 3);
	CHECK_EQ(ct->ftp_ports[0], 21);
	CHECK_EQ(ct->ftp_ports[1], 2121);
	CHECK_EQ(ct->ftp_ports[2], 65535);
	CHECK_EQ(ct->expect_max, 64);
	CHECK_EQ(ct->frag.max_datagrams, 16);
	CHECK_EQ(ct->frag.timeout_ms, 600000);
	CHECK_EQ(ct->timeouts.tcp_syn_sent, 1);
	CHECK_EQ(ct->timeouts.tcp_syn_recv, 2);
	CHECK_EQ(ct->timeouts.tcp_established, 2147483);
	CHECK_EQ(ct->timeouts.tcp_fin_wait, 4);
	CHECK_EQ(ct->timeouts.tcp_close_wait, 5);
	CHECK_EQ(ct->timeouts.tcp_last_ack, 6);
	CHECK_EQ(ct->timeouts.tcp_time_wait, 7);
	CHECK_EQ(ct->timeouts.tcp_close, 8);
	CHECK_EQ(ct->timeouts.tcp_syn_sent2, 9);
	CHECK_EQ(ct->timeouts.tcp_max_retrans, 10);
	CHECK_EQ(ct->timeouts.tcp_unacknowledged, 11);
	CHECK_EQ(ct->timeouts.udp, 12);
	CHECK_EQ(ct->timeouts.udp_stream, 13);
	CHECK_EQ(ct->timeouts.icmp, 14);
	CHECK_EQ(ct->timeouts.generic, 15);
	/* 1048577 over 3 workers: 349526 each, rounded up so the box holds max */
	CHECK_EQ(rp_config_ct_worker_max(&cfg), 349526);
	rp_config_free(&cfg);

	/* the other end of every range, booleans true, a 64-bit literal, a ( ) list */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "conntrack = { max = 67108864L; tcp_loose = true; checksum = true;\n"
			   "  helpers = ( ); ftp_ports = ( 1 ); expect_max = 1;\n"
			   "  frag = { max_datagrams = 1048576; timeout_ms = 100; };\n"
			   "  timeouts = { tcp_established = 1; generic = 2147483; }; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(ct->max, 67108864);
	CHECK_EQ(ct->tcp_loose, 1);
	CHECK_EQ(ct->checksum, 1);
	CHECK_EQ(ct->helpers, 0);
	CHECK_EQ(ct->n_ftp_ports, 1);
	CHECK_EQ(ct->ftp_ports[0], 1);
	CHECK_EQ(ct->expect_max, 1);
	CHECK_EQ(ct->frag.max_datagrams, 1048576);
	CHECK_EQ(ct->frag.timeout_ms, 100);
	CHECK_EQ(ct->timeouts.tcp_established, 1);
	CHECK_EQ(ct->timeouts.generic, 2147483);
	CHECK_EQ(ct->timeouts.udp, 30); /* not given: default */
	CHECK_EQ(rp_config_ct_worker_max(&cfg), 67108864); /* one worker */
	rp_config_free(&cfg);
}

static void
check_ct_defaults(const struct rp_ct_config *ct)
{
	CHECK_EQ(ct->max, 262144);
	CHECK_EQ(ct->tcp_loose, 1);
	CHECK_EQ(ct->checksum, 1);
	CHECK_EQ(ct->helpers, 0);
	CHECK_EQ(ct->n_ftp_ports, 1);
	CHECK_EQ(ct->ftp_ports[0], 21);
	CHECK_EQ(ct->expect_max, 4);
	CHECK_EQ(ct->frag.max_datagrams, 4096);
	CHECK_EQ(ct->frag.timeout_ms, 30000);
	CHECK_EQ(ct->timeouts.tcp_syn_sent, 120);
	CHECK_EQ(ct->timeouts.tcp_syn_recv, 60);
	CHECK_EQ(ct->timeouts.tcp_established, 432000);
	CHECK_EQ(ct->timeouts.tcp_fin_wait, 120);
	CHECK_EQ(ct->timeouts.tcp_close_wait, 60);
	CHECK_EQ(ct->timeouts.tcp_last_ack, 30);
	CHECK_EQ(ct->timeouts.tcp_time_wait, 120);
	CHECK_EQ(ct->timeouts.tcp_close, 10);
	CHECK_EQ(ct->timeouts.tcp_syn_sent2, 120);
	CHECK_EQ(ct->timeouts.tcp_max_retrans, 300);
	CHECK_EQ(ct->timeouts.tcp_unacknowledged, 300);
	CHECK_EQ(ct->timeouts.udp, 30);
	CHECK_EQ(ct->timeouts.udp_stream, 120);
	CHECK_EQ(ct->timeouts.icmp, 30);
	CHECK_EQ(ct->timeouts.generic, 600);
}

static void
test_conntrack_defaults(void)
{
	struct rp_config cfg;
	char *out;

	/* no section */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n", &cfg, &out), 0);
	CHECK_STR_EQ(out, "");
	free(out);
	check_ct_defaults(&cfg.conntrack);
	CHECK_EQ(rp_config_ct_worker_max(&cfg), 262144);
	rp_config_free(&cfg);

	/* empty section and empty subgroups */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nworkers = { lcores = [ 1, 2, 3 ]; };\n"
			   "conntrack = { frag = { }; timeouts = { }; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	check_ct_defaults(&cfg.conntrack);
	CHECK_EQ(rp_config_ct_worker_max(&cfg), 87382); /* 262144 / 3 = 87381.3 */
	rp_config_free(&cfg);
}

static void
test_conntrack_unknown_keys(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { hashsize = 16384; };\n",
		      1,
		      "@:2: conntrack.hashsize: unknown setting (known here: max, tcp_loose, checksum, "
		      "helpers, ftp_ports, expect_max, frag, timeouts)\n");
	/* the sysctl's full name is not the key */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { timeouts = { udp = 30;\n"
		      "  nf_conntrack_udp_timeout = 30; }; };\n",
		      1,
		      "@:3: conntrack.timeouts.nf_conntrack_udp_timeout: unknown setting (known here: "
		      "tcp_syn_sent, tcp_syn_recv, tcp_established, tcp_fin_wait, tcp_close_wait, "
		      "tcp_last_ack, tcp_time_wait, tcp_close, tcp_syn_sent2, tcp_max_retrans, "
		      "tcp_unacknowledged, udp, udp_stream, icmp, generic)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { frag = { timeout = 30; }; };\n",
		      1,
		      "@:2: conntrack.frag.timeout: unknown setting (known here: max_datagrams, "
		      "timeout_ms)\n");
}

static void
test_conntrack_ranges(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { max = 1023; expect_max = 0;\n"
		      "  frag = { max_datagrams = 15; timeout_ms = 99; }; };\n",
		      4,
		      "@:2: conntrack.max: 1023: must be 1024..67108864\n"
		      "@:2: conntrack.expect_max: 0: must be 1..64\n"
		      "@:3: conntrack.frag.max_datagrams: 15: must be 16..1048576\n"
		      "@:3: conntrack.frag.timeout_ms: 99: must be 100..600000\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { max = 67108865; expect_max = 65;\n"
		      "  frag = { max_datagrams = 1048577; timeout_ms = 600001; }; };\n",
		      4,
		      "@:2: conntrack.max: 67108865: must be 1024..67108864\n"
		      "@:2: conntrack.expect_max: 65: must be 1..64\n"
		      "@:3: conntrack.frag.max_datagrams: 1048577: must be 16..1048576\n"
		      "@:3: conntrack.frag.timeout_ms: 600001: must be 100..600000\n");
	/* a timeout's milliseconds must fit in 31 bits; 0 would expire at once */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { timeouts = {\n"
		      "  udp = 0;\n"
		      "  tcp_established = 2147484;\n"
		      "  generic = -1; }; };\n",
		      3,
		      "@:3: conntrack.timeouts.udp: 0: must be 1..2147483\n"
		      "@:4: conntrack.timeouts.tcp_established: 2147484: must be 1..2147483\n"
		      "@:5: conntrack.timeouts.generic: -1: must be 1..2147483\n");
}

static void
test_conntrack_helpers(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { helpers = [ \"sip\" ]; };\n",
		      1, "@:2: conntrack.helpers: \"sip\": unknown helper (known: ftp)\n");
	/* an unknown helper next to ftp, and ftp twice: the errors only */
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { helpers = [ \"ftp\",\n"
		      "  \"FTP\", \"ftp\" ]; };\n",
		      2,
		      "@:3: conntrack.helpers: \"FTP\": unknown helper (known: ftp)\n"
		      "@:3: conntrack.helpers: \"ftp\": helper listed twice\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { helpers = \"ftp\"; };\n",
		      1,
		      "@:2: conntrack.helpers: \"ftp\": expected a list of helper names [ \"ftp\" ], "
		      "found a string\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { helpers = ( 21 ); };\n",
		      1, "@:2: conntrack.helpers[0]: expected a string, found an integer\n");
}

static void
test_conntrack_ftp_enabled(void)
{
	struct rp_config cfg;
	char *out;

	/* no warning any more: the config loads with the helper stored */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n"
			   "conntrack = {\n"
			   "  helpers = [ \"ftp\" ]; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.conntrack.helpers, RP_CT_HELPER_FTP);
	CHECK_EQ(cfg.conntrack.n_ftp_ports, 1);
	CHECK_EQ(cfg.conntrack.ftp_ports[0], 21);
	rp_config_free(&cfg);

	/* ftp_ports alone enables nothing and says nothing */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nconntrack = { ftp_ports = [ 2121 ]; };\n",
			   &cfg, &out),
		 0);
	CHECK_STR_EQ(out, "");
	free(out);
	CHECK_EQ(cfg.conntrack.helpers, 0);
	CHECK_EQ(cfg.conntrack.n_ftp_ports, 1);
	CHECK_EQ(cfg.conntrack.ftp_ports[0], 2121);
	rp_config_free(&cfg);
}

static void
test_conntrack_ftp_ports(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { ftp_ports = [ 21, 0, 65536,\n"
		      "  21 ]; };\n",
		      3,
		      "@:2: conntrack.ftp_ports[1]: 0: must be 1..65535\n"
		      "@:2: conntrack.ftp_ports[2]: 65536: must be 1..65535\n"
		      "@:3: conntrack.ftp_ports[3]: port 21 is listed twice (also conntrack.ftp_ports[0])\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { ftp_ports = ( 21, \"2121\" ); };\n",
		      1, "@:2: conntrack.ftp_ports[1]: \"2121\": expected an integer, found a string\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { ftp_ports = [ ]; };\n",
		      1, "@:2: conntrack.ftp_ports: 0 ports: 1..8 are allowed\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { ftp_ports = [ 21, 22, 23, 24, 25, 26, 27, 28, 29 ]; };\n",
		      1, "@:2: conntrack.ftp_ports: 9 ports: 1..8 are allowed\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { ftp_ports = 21; };\n",
		      1,
		      "@:2: conntrack.ftp_ports: expected a list of port numbers [ 21, ... ], found an "
		      "integer\n");
}

static void
test_conntrack_types(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { tcp_loose = 1;\n"
		      "  checksum = \"yes\";\n"
		      "  max = 1048576.0; expect_max = \"4\";\n"
		      "  frag = [ 4096 ]; timeouts = ( 30 ); };\n",
		      6,
		      "@:2: conntrack.tcp_loose: expected a boolean (true or false), found an integer\n"
		      "@:3: conntrack.checksum: \"yes\": expected a boolean (true or false), found a string\n"
		      "@:4: conntrack.max: expected an integer, found a float\n"
		      "@:4: conntrack.expect_max: \"4\": expected an integer, found a string\n"
		      "@:5: conntrack.frag: expected a group { ... }, found an array [ ... ]\n"
		      "@:5: conntrack.timeouts: expected a group { ... }, found a list ( ... )\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "conntrack = { timeouts = { udp = true; icmp = \"30\"; }; };\n",
		      2,
		      "@:2: conntrack.timeouts.udp: expected an integer, found a boolean\n"
		      "@:2: conntrack.timeouts.icmp: \"30\": expected an integer, found a string\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nconntrack = 1048576;\n", 1,
		      "@:2: conntrack: expected a group { ... }, found an integer\n");
}

static void
test_file_errors(void)
{
	struct rp_config cfg;
	char *out = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&out, &len);

	CHECK_EQ(rp_config_load("/nonexistent/rampart.conf", &cfg, err), 1);
	CHECK_EQ(rp_config_load("/tmp", &cfg, err), 1);
	fclose(err);
	CHECK(strcmp(out, "/nonexistent/rampart.conf: cannot open: No such file or directory\n"
			  "/tmp: cannot open: Is a directory\n") == 0);
	free(out);

	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nworkers = { burst = ; };\n", 1,
		      "@:2: syntax error: near \"workers = { burst = ; };\"\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nicmp = { burst = 1; burst = 2; };\n", 1,
		      "@:2: syntax error: duplicate setting name\n");
	EXPECT_ERRORS("ports = (\n  " PORT_LAN "\n", 1, "@:3: syntax error: unexpected end of file\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n@include \"/nonexistent/x.conf\"\n", 1,
		      "@:2: syntax error: cannot open include file\n");
	EXPECT_ERRORS("", 1, "@: ports: required but missing\n");
}

static void
test_unknown_keys(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nroute = ();\n", 1,
		      "@:2: route: unknown setting (known here: eal, ports, routes, neighbours, "
		      "workers, arp, icmp, control, conntrack, host, filter)\n");
	EXPECT_ERRORS("ports = (\n{ name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/24\";\n"
		      "  speed = 1000; }\n);\n",
		      1,
		      "@:3: ports[0].speed: unknown setting (known here: name, device, address, mtu, "
		      "rx_desc, tx_desc)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nworkers = { cores = [ 1 ]; };\n"
		      "routes = ( { to = \"10.0.0.0/8\"; gw = \"198.18.1.2\"; via = \"198.18.1.2\"; } );\n"
		      "arp = { timeout = 5; };\n",
		      3,
		      "@:2: workers.cores: unknown setting (known here: lcores, burst, idle_sleep_us)\n"
		      "@:3: routes[0].gw: unknown setting (known here: to, via, port)\n"
		      "@:4: arp.timeout: unknown setting (known here: reachable_ms, retrans_ms, "
		      "probes, hold_packets, gc_stale_ms, max)\n");
}

static void
test_types(void)
{
	EXPECT_ERRORS("ports = ( { name = 1; device = \"net_null0\"; address = \"198.18.1.1/24\";\n"
		      "  mtu = \"1500\"; rx_desc = 1024.0; } );\n",
		      3,
		      "@:1: ports[0].name: expected a string, found an integer\n"
		      "@:2: ports[0].mtu: \"1500\": expected an integer, found a string\n"
		      "@:2: ports[0].rx_desc: expected an integer, found a float\n");
	EXPECT_ERRORS("ports = { name = \"lan0\"; };\n", 1,
		      "@:1: ports: expected a list of groups ( { ... }, ... ), found a group { ... }\n");
	EXPECT_ERRORS("eal = \"-l 0-1\";\nports = ( " PORT_LAN " );\nworkers = [ 1 ];\n", 2,
		      "@:1: eal: \"-l 0-1\": expected a list of strings [ \"-l\", \"0-1\", ... ], "
		      "found a string\n"
		      "@:3: workers: expected a group { ... }, found an array [ ... ]\n");
	EXPECT_ERRORS("eal = ( \"-l\", 1 );\nports = ( " PORT_LAN " );\n", 1,
		      "@:1: eal[1]: expected a string, found an integer\n");
}

static void
test_ranges(void)
{
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/24\";\n"
		      "  mtu = 9601; rx_desc = 1000; tx_desc = 32; } );\n",
		      3,
		      "@:2: ports[0].mtu: 9601: must be 68..9600\n"
		      "@:2: ports[0].rx_desc: 1000: must be a power of two (64..4096)\n"
		      "@:2: ports[0].tx_desc: 32: must be 64..4096\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "workers = { burst = 0; idle_sleep_us = 100001; };\n"
		      "arp = { retrans_ms = 5; probes = 11; hold_packets = 0; max = 8; };\n"
		      "icmp = { ratelimit = -1; burst = 10001; };\n",
		      8,
		      "@:2: workers.burst: 0: must be 1..64\n"
		      "@:2: workers.idle_sleep_us: 100001: must be 0..100000\n"
		      "@:3: arp.retrans_ms: 5: must be 10..60000\n"
		      "@:3: arp.probes: 11: must be 1..10\n"
		      "@:3: arp.hold_packets: 0: must be 1..256\n"
		      "@:3: arp.max: 8: must be 16..1048576\n"
		      "@:4: icmp.ratelimit: -1: must be 0..1000000\n"
		      "@:4: icmp.burst: 10001: must be 1..10000\n");
}

static void
test_port_names(void)
{
	EXPECT_ERRORS("ports = ( { device = \"net_null0\"; address = \"198.18.1.1/24\"; } );\n", 1,
		      "@:1: ports[0].name: required but missing\n");
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"a-very-long-name\"; device = \"net_null0\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"lan 1\"; device = \"net_null1\"; address = \"198.18.2.1/24\"; },\n"
		      "  { name = \"\"; device = \"net_null2\"; address = \"198.18.3.1/24\"; }\n"
		      ");\n",
		      3,
		      "@:2: ports[0].name: \"a-very-long-name\": must be 1..15 characters\n"
		      "@:3: ports[1].name: \"lan 1\": may contain only letters, digits, '_', '.' and '-'\n"
		      "@:4: ports[2].name: \"\": must be 1..15 characters\n");
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"lan0\"; device = \"net_null1\"; address = \"198.18.2.1/24\"; }\n"
		      ");\n",
		      1, "@:3: ports[1].name: \"lan0\": duplicate port name (also ports[0], line 2)\n");
	EXPECT_ERRORS("ports = ();\n", 1, "@:1: ports: 0 ports: 1..16 are supported\n");
}

static void
test_devices(void)
{
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"p0\"; device = \"eth0\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"p1\"; device = \"0000:03:20.0\"; address = \"198.18.2.1/24\"; },\n"
		      "  { name = \"p2\"; device = \"net_null0,size\"; address = \"198.18.3.1/24\"; },\n"
		      "  { name = \"p3\"; device = \"net_null1,\"; address = \"198.18.4.1/24\"; },\n"
		      "  { name = \"p4\"; device = \"net_tap\"; address = \"198.18.5.1/24\"; }\n"
		      ");\n",
		      5,
		      "@:2: ports[0].device: \"eth0\": not a PCI address (DDDD:BB:DD.F or BB:DD.F) nor a vdev "
		      "(net_<driver><N>[,key=value...])\n"
		      "@:3: ports[1].device: \"0000:03:20.0\": not a PCI address (DDDD:BB:DD.F or BB:DD.F) nor "
		      "a vdev (net_<driver><N>[,key=value...])\n"
		      "@:4: ports[2].device: \"net_null0,size\": device argument 1 is not key=value\n"
		      "@:5: ports[3].device: \"net_null1,\": empty device argument (stray ',')\n"
		      "@:6: ports[4].device: \"net_tap\": not a PCI address (DDDD:BB:DD.F or BB:DD.F) nor a "
		      "vdev (net_<driver><N>[,key=value...])\n");
	/* same device: a short PCI address is the long one in domain 0; vdevs by name */
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"p0\"; device = \"0000:03:00.0\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"p1\"; device = \"03:00.0\"; address = \"198.18.2.1/24\"; },\n"
		      "  { name = \"p2\"; device = \"net_pcap0,iface=a\"; address = \"198.18.3.1/24\"; },\n"
		      "  { name = \"p3\"; device = \"net_pcap0,iface=b\"; address = \"198.18.4.1/24\"; },\n"
		      "  { name = \"p4\"; device = \"eth_pcap0\"; address = \"198.18.5.1/24\"; }\n"
		      ");\n",
		      2,
		      "@:3: ports[1].device: \"03:00.0\": same device as ports[0] (line 2)\n"
		      "@:5: ports[3].device: \"net_pcap0,iface=b\": same device as ports[2] (line 4)\n");
	/* DPDK keys may hold '-' (net_null's no-rx) */
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"p0\"; device = \"net_null0,no-rx=1\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"p1\"; device = \"net_pcap0,rx_pcap=/tmp/a.pcap,infinite_rx=1\"; address = \"198.18.2.1/24\"; }\n"
		      ");\n",
		      0, "");
}

static void
test_af_packet_qpairs(void)
{
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_af_packet0,iface=veth-lan,qpairs=1\";\n"
		      "  address = \"198.18.1.1/24\"; } );\nworkers = { lcores = [ 1, 2 ]; };\n",
		      1,
		      "@:1: ports[0].device: \"net_af_packet0,iface=veth-lan,qpairs=1\": net_af_packet has "
		      "qpairs=1 but workers.lcores gives 2 workers: each worker needs one queue pair\n");
	/* absent qpairs is 1 */
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"eth_af_packet0,iface=veth-lan\";\n"
		      "  address = \"198.18.1.1/24\"; } );\nworkers = { lcores = [ 1, 2, 3 ]; };\n",
		      1,
		      "@:1: ports[0].device: \"eth_af_packet0,iface=veth-lan\": net_af_packet has "
		      "qpairs=1 but workers.lcores gives 3 workers: each worker needs one queue pair\n");
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_af_packet0,iface=veth-lan,qpairs=2\";\n"
		      "  address = \"198.18.1.1/24\"; } );\n",
		      1,
		      "@:1: ports[0].device: \"net_af_packet0,iface=veth-lan,qpairs=2\": net_af_packet has "
		      "qpairs=2 but there is 1 worker (the default; set workers.lcores): each worker "
		      "needs one queue pair\n");
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_af_packet0,qpairs=two\";\n"
		      "  address = \"198.18.1.1/24\"; } );\n",
		      1, "@:1: ports[0].device: \"net_af_packet0,qpairs=two\": qpairs=two: must be a positive number\n");
}

static void
test_port_addresses(void)
{
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/24\"; },\n"
		      "  { name = \"lan1\"; device = \"net_null1\";\n"
		      "    address = [ \"198.18.2.1/24\",\n"
		      "                \"198.18.1.1/33\" ]; }\n"
		      ");\n",
		      1, "@:5: ports[1].address: \"198.18.1.1/33\": prefix length must be 0..32\n");
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_null0\";\n"
		      "  address = [ \"198.18.1\", \"198.018.1.1/24\", \"127.0.0.1/8\", \"224.0.0.1\",\n"
		      "              \"0.1.2.3/24\", \"240.0.0.1/24\", \"198.18.1.0/24\", \"198.18.1.255/24\" ]; } );\n",
		      8,
		      "@:2: ports[0].address: \"198.18.1\": not an IPv4 address with optional prefix length (a.b.c.d[/len])\n"
		      "@:2: ports[0].address: \"198.018.1.1/24\": not an IPv4 address with optional prefix length (a.b.c.d[/len])\n"
		      "@:2: ports[0].address: \"127.0.0.1/8\": loopback addresses (127.0.0.0/8) cannot be on a port\n"
		      "@:2: ports[0].address: \"224.0.0.1\": multicast addresses (224.0.0.0/4) cannot be on a port\n"
		      "@:3: ports[0].address: \"0.1.2.3/24\": 0.0.0.0/8 (\"this network\") is not a host address\n"
		      "@:3: ports[0].address: \"240.0.0.1/24\": reserved and broadcast addresses (240.0.0.0/4) cannot be on a port\n"
		      "@:3: ports[0].address: \"198.18.1.0/24\": host part is zero: that is the subnet's own address\n"
		      "@:3: ports[0].address: \"198.18.1.255/24\": host part is all ones: that is the subnet's broadcast address\n");
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_null0\"; address = [ ]; },\n"
		      "  { name = \"lan1\"; device = \"net_null1\"; address = 5; },\n"
		      "  { name = \"lan2\"; device = \"net_null2\"; address = [ \"198.18.1.1/24\", \"198.18.1.1/16\" ]; } );\n",
		      3,
		      "@:1: ports[0].address: 0 addresses: a port has 1..8\n"
		      "@:2: ports[1].address: expected a string or a list of strings [ \"a.b.c.d/len\", ... ], found an integer\n"
		      "@:3: ports[2].address: \"198.18.1.1/16\": duplicate address on this port\n");
	/* overlapping subnets and duplicate addresses across ports */
	EXPECT_ERRORS("ports = (\n"
		      "  { name = \"lan0\"; device = \"net_null0\"; address = [ \"198.18.1.1/24\", \"192.0.2.1/32\" ]; },\n"
		      "  { name = \"lan1\"; device = \"net_null1\"; address = \"198.18.0.1/16\"; },\n"
		      "  { name = \"lan2\"; device = \"net_null2\"; address = \"192.0.2.1/24\"; },\n"
		      "  { name = \"lan3\"; device = \"net_null3\"; address = \"192.0.2.9/29\"; }\n"
		      ");\n",
		      3,
		      "@:3: ports[1].address: \"198.18.0.1/16\": subnet overlaps \"198.18.1.1/24\" of ports[0] (line 2)\n"
		      "@:4: ports[2].address: \"192.0.2.1/24\": duplicate address: also on ports[0] (line 2)\n"
		      "@:5: ports[3].address: \"192.0.2.9/29\": subnet overlaps \"192.0.2.1/24\" of ports[2] (line 4)\n");
}

static void
test_routes(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN ", " PORT_WAN " );\n"
		      "routes = (\n"
		      "  { to = \"10.1.2.3/8\"; via = \"198.18.1.2\"; },\n"
		      "  { to = \"10.0.0.0/33\"; via = \"198.18.1.2\"; },\n"
		      "  { to = \"10.0.0.0\"; port = \"lan0\"; },\n"
		      "  { to = \"10.0.0.0/32\"; port = \"lan0\"; },\n"
		      "  { to = \"10.0.0.0/7\"; },\n"
		      "  { via = \"198.18.1.2\"; },\n"
		      "  { to = \"10.2.0.0/16\"; via = \"10.9.9.9\"; },\n"
		      "  { to = \"10.3.0.0/16\"; via = \"198.18.1.1\"; },\n"
		      "  { to = \"10.4.0.0/16\"; via = \"198.18.1.2\"; port = \"wan0\"; },\n"
		      "  { to = \"10.5.0.0/16\"; port = \"dmz0\"; },\n"
		      "  { to = \"198.19.1.0/24\"; port = \"wan0\"; },\n"
		      "  { to = \"10.6.0.0/16\"; via = \"198.18.1\"; }\n"
		      ");\n",
		      11,
		      "@:3: routes[0].to: \"10.1.2.3/8\": invalid prefix for given prefix length (the network is 10.0.0.0/8)\n"
		      "@:4: routes[1].to: \"10.0.0.0/33\": prefix length must be 0..32\n"
		      "@:6: routes[3].to: \"10.0.0.0/32\": duplicate route (also routes[2], line 5)\n"
		      "@:7: routes[4]: needs \"via\" (a gateway), \"port\" (a direct route) or both\n"
		      "@:8: routes[5].to: required but missing\n"
		      "@:9: routes[6].via: \"10.9.9.9\": not in a connected subnet of any port: a gateway must be directly reachable\n"
		      "@:10: routes[7].via: \"198.18.1.1\": is an address of port lan0: a gateway is another host\n"
		      "@:11: routes[8].port: \"wan0\": gateway 198.18.1.2 is in the subnet of port lan0\n"
		      "@:12: routes[9].port: \"dmz0\": no such port\n"
		      "@:13: routes[10].to: \"198.19.1.0/24\": is the connected subnet of port wan0 already\n"
		      "@:14: routes[11].via: \"198.18.1\": not an IPv4 address (a.b.c.d)\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nroutes = { to = \"0.0.0.0/0\"; };\n", 1,
		      "@:2: routes: expected a list of groups ( { ... }, ... ), found a group { ... }\n");
}

static void
test_neighbours(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN ", " PORT_WAN " );\n"
		      "neighbours = (\n"
		      "  { address = \"198.18.1.2\"; mac = \"02:00:00:00:00:02\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.2\"; mac = \"02:00:00:00:00:03\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.3\"; mac = \"02:00:00:00:00\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.4\"; mac = \"01:00:5e:00:00:01\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.5\"; mac = \"00:00:00:00:00:00\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.6\"; mac = \"ff:ff:ff:ff:ff:ff\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.7\"; mac = \"02:00:00:00:00:07\"; port = \"wan0\"; },\n"
		      "  { address = \"198.18.1.8\"; mac = \"02:00:00:00:00:08\"; port = \"eth9\"; },\n"
		      "  { address = \"198.18.1.1\"; mac = \"02:00:00:00:00:09\"; port = \"lan0\"; },\n"
		      "  { address = \"198.18.1.10\"; mac = \"02:00:00:00:00:0a\"; }\n"
		      ");\n",
		      9,
		      "@:4: neighbours[1].address: \"198.18.1.2\": duplicate neighbour (also neighbours[0], line 3)\n"
		      "@:5: neighbours[2].mac: \"02:00:00:00:00\": not a MAC address (xx:xx:xx:xx:xx:xx)\n"
		      "@:6: neighbours[3].mac: \"01:00:5e:00:00:01\": a multicast or broadcast MAC address is not a host's\n"
		      "@:7: neighbours[4].mac: \"00:00:00:00:00:00\": the all-zero MAC address is not a host's\n"
		      "@:8: neighbours[5].mac: \"ff:ff:ff:ff:ff:ff\": a multicast or broadcast MAC address is not a host's\n"
		      "@:9: neighbours[6].address: \"198.18.1.7\": not in a connected subnet of port wan0\n"
		      "@:10: neighbours[7].port: \"eth9\": no such port\n"
		      "@:11: neighbours[8].address: \"198.18.1.1\": is an address of port lan0, not a neighbour's\n"
		      "@:12: neighbours[9].port: required but missing\n");
}

static void
test_workers(void)
{
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\n"
		      "workers = { lcores = [ 1, 2,\n"
		      "  1, 0, 128 ]; };\n",
		      3,
		      "@:3: workers.lcores[2]: lcore 1 is listed twice (also workers.lcores[0])\n"
		      "@:3: workers.lcores[3]: 0: must be 1..127\n"
		      "@:3: workers.lcores[4]: 128: must be 1..127\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nworkers = { lcores = [ ]; };\n", 1,
		      "@:2: workers.lcores: at least one worker lcore is required\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nworkers = { lcores = [ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, "
		      "11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, "
		      "32, 33 ]; };\n",
		      1, "@:2: workers.lcores: 33 lcores: at most 32 workers are supported\n");
	EXPECT_ERRORS("ports = ( " PORT_LAN " );\nworkers = { lcores = ( 1, \"2\" ); };\n", 1,
		      "@:2: workers.lcores[1]: \"2\": expected an integer, found a string\n");
}

static void
test_misc_sections(void)
{
	EXPECT_ERRORS("eal = [ \"-l\", \"\" ];\nports = ( " PORT_LAN " );\n"
		      "control = { socket = \"/run/rampart/a-very-long-directory-name-that-goes-on/and-on-"
		      "and-on-and-on-and-on-past-the-limit-of-sun-path/rampart.sock\"; };\n",
		      2,
		      "@:1: eal: \"\": empty EAL argument\n"
		      "@:3: control.socket: \"/run/rampart/a-very-long-directory-name-that-goes-on/and-on-"
		      "and-on-and-on-and-on-past-the-limit-of-sun-path/rampart.sock\": a unix socket path has 1..107 "
		      "characters\n");
	/* control characters in a value are escaped in the message */
	EXPECT_ERRORS("ports = ( { name = \"lan\\n0\"; device = \"net_null0\"; address = \"198.18.1.1/24\"; } );\n",
		      1,
		      "@:1: ports[0].name: \"lan\\x0a0\": may contain only letters, digits, '_', '.' and '-'\n");
}

/* Errors from several sections, all reported, in file order, counted. */
static void
test_all_errors_one_pass(void)
{
	EXPECT_ERRORS("workers = { lcores = [ 0 ]; };\n"
		      "ports = ( { name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/33\"; } );\n"
		      "routes = ( { to = \"10.0.0.1/8\"; port = \"lan0\"; } );\n"
		      "colour = \"blue\";\n",
		      4,
		      "@:1: workers.lcores[0]: 0: must be 1..127\n"
		      "@:2: ports[0].address: \"198.18.1.1/33\": prefix length must be 0..32\n"
		      "@:3: routes[0].to: \"10.0.0.1/8\": invalid prefix for given prefix length (the network is 10.0.0.0/8)\n"
		      "@:4: colour: unknown setting (known here: eal, ports, routes, neighbours, workers, "
		      "arp, icmp, control, conntrack, host, filter)\n");
	/* a broken port address does not make its routes' gateways errors too */
	EXPECT_ERRORS("ports = ( { name = \"lan0\"; device = \"net_null0\"; address = \"198.18.1.1/33\"; } );\n"
		      "routes = ( { to = \"10.0.0.0/8\"; via = \"198.18.1.2\"; } );\n",
		      1, "@:1: ports[0].address: \"198.18.1.1/33\": prefix length must be 0..32\n");
}

static int enabled_lcores[] = {1, 2, 3};

static int
lcore_enabled(unsigned lcore)
{
	for (size_t i = 0; i < sizeof(enabled_lcores) / sizeof(enabled_lcores[0]); i++)
		if ((unsigned)enabled_lcores[i] == lcore)
			return 1;
	return 0;
}

static void
test_check_lcores(void)
{
	struct rp_config cfg;
	char *out, *msgs = NULL;
	size_t len = 0;
	FILE *err;

	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\nworkers = { lcores = [ 2,\n 5, 3,\n 7 ]; };\n",
			   &cfg, &out),
		 0);
	free(out);
	err = open_memstream(&msgs, &len);
	CHECK_EQ(rp_config_check_lcores(&cfg, lcore_enabled, err), 2);
	fclose(err);
	char expected[1024];
	snprintf(expected, sizeof(expected),
		 "%s:3: workers.lcores[1]: lcore 5 is not enabled in EAL (or is the main lcore)\n"
		 "%s:4: workers.lcores[3]: lcore 7 is not enabled in EAL (or is the main lcore)\n",
		 cfg.path, cfg.path);
	CHECK(strcmp(msgs, expected) == 0);
	if (strcmp(msgs, expected) != 0)
		fprintf(stderr, "got:\n%s", msgs);
	free(msgs);
	rp_config_free(&cfg);

	/* the default worker has no line */
	CHECK_EQ(load_text("ports = ( " PORT_LAN " );\n", &cfg, &out), 0);
	free(out);
	enabled_lcores[0] = 4;
	msgs = NULL;
	err = open_memstream(&msgs, &len);
	CHECK_EQ(rp_config_check_lcores(&cfg, lcore_enabled, err), 1);
	fclose(err);
	snprintf(expected, sizeof(expected),
		 "%s: workers.lcores: lcore 1 (the default worker) is not enabled in EAL (or is the "
		 "main lcore); give EAL -l with it or set workers.lcores\n",
		 cfg.path);
	CHECK(strcmp(msgs, expected) == 0);
	free(msgs);
	enabled_lcores[0] = 1;
	CHECK_EQ(rp_config_check_lcores(&cfg, lcore_enabled, NULL), 0);
	rp_config_free(&cfg);
}

static void
test_address_parsers(void)
{
	struct rp_prefix p;
	uint32_t a;
	char buf[16];

	CHECK_EQ(rp_prefix_parse("10.1.2.3/8", &p), 0);
	CHECK_EQ(p.addr, 0x0a010203);
	CHECK_EQ(p.len, 8);
	CHECK_EQ(rp_prefix_parse("255.255.255.255", &p), 0);
	CHECK_EQ(p.addr, 0xffffffff);
	CHECK_EQ(p.len, 32);
	CHECK_EQ(rp_prefix_parse("0.0.0.0/0", &p), 0);
	CHECK_EQ(p.addr, 0);
	CHECK_EQ(p.len, 0);
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "+1.2.3.4", "1.+2.3.4", "01.2.3.4",
		"1.2.3.4/", "1.2.3.4/33", "1.2.3.4/+8", "1.2.3.4/08", "1.2.3.4/8 ", " 1.2.3.4",
		"1.2.3.4/-1", "1..3.4", "1.2.3.4x", "1.2.3.4/4294967304", "1234.1.1.1", "a.b.c.d",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = rp_prefix_parse(bad[i], &p);
		CHECK_EQ(r, -1);
		if (r != -1)
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
	}
	CHECK_EQ(rp_ipv4_parse("198.51.100.7", &a), 0);
	CHECK_EQ(a, 0xc6336407);
	CHECK_EQ(rp_ipv4_parse("198.51.100.7/32", &a), -1);
	CHECK_EQ(rp_ipv4_parse("198.51.100", &a), -1);
	CHECK(strcmp(rp_ipv4_fmt(0xc6336407, buf), "198.51.100.7") == 0);
	CHECK(strcmp(rp_ipv4_fmt(0xffffffff, buf), "255.255.255.255") == 0);
	CHECK(strcmp(rp_ipv4_fmt(0, buf), "0.0.0.0") == 0);
	CHECK_EQ(rp_prefix_mask(0), 0);
	CHECK_EQ(rp_prefix_mask(24), 0xffffff00);
	CHECK_EQ(rp_prefix_mask(32), 0xffffffff);
}

int
main(void)
{
	test_full();
	test_defaults();
	test_host_full();
	test_host_defaults();
	test_host_errors();
	test_host_interface_clash();
	test_filter_full();
	test_filter_defaults_and_file();
	test_filter_errors();
	test_conntrack_full();
	test_conntrack_defaults();
	test_conntrack_unknown_keys();
	test_conntrack_ranges();
	test_conntrack_helpers();
	test_conntrack_ftp_enabled();
	test_conntrack_ftp_ports();
	test_conntrack_types();
	test_file_errors();
	test_unknown_keys();
	test_types();
	test_ranges();
	test_port_names();
	test_devices();
	test_af_packet_qpairs();
	test_port_addresses();
	test_routes();
	test_neighbours();
	test_workers();
	test_misc_sections();
	test_all_errors_one_pass();
	test_check_lcores();
	test_address_parsers();
	return rp_test_done("test_config");
}
