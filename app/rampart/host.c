/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel side of the host interface: see host.h. Control thread only. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_log.h>

#include "host.h"

#define LOG(level, ...) RTE_LOG(level, USER1, __VA_ARGS__)

extern char **environ;

void
rp_host_device(const struct rp_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "net_tap0,iface=%s", cfg->host.interface);
}

/* Run `ip ARGS...` and wait for it; iproute2 is how an operator would do it too. */
static int
run_ip(char *const argv[])
{
	pid_t pid;
	int status;
	char cmd[512] = "";

	for (int i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
	if (posix_spawnp(&pid, "ip", NULL, NULL, argv, environ) != 0) {
		LOG(ERR, "host: cannot run \"%s\": %s\n", cmd, strerror(errno));
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		LOG(ERR, "host: \"%s\" failed\n", cmd);
		return -1;
	}
	LOG(DEBUG, "host: %s\n", cmd);
	return 0;
}

static int
kernel_mac(const char *ifname, struct rte_ether_addr *mac)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(mac->addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
		rc = 0;
	}
	close(fd);
	return rc;
}

/* IPv6 chatter on the host interface would only be dropped: keep it quiet. */
static void
ipv6_off(const char *ifname)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no IPv6 in this kernel */
	if (write(fd, "1", 1) != 1)
		LOG(WARNING, "host: cannot disable IPv6 on %s\n", ifname);
	close(fd);
}

int
rp_host_configure(struct rp_dp *dp, const struct rp_config *cfg)
{
	const char *ifn = cfg->host.interface;
	char mtu[8], addr[32], to[32], via[16];

	ipv6_off(ifn);
	snprintf(mtu, sizeof(mtu), "%u", cfg->host.mtu);
	if (run_ip((char *const[]){"ip", "link", "set", "dev", (char *)ifn, "mtu", mtu, "up", NULL}) != 0)
		return -1;
	if (kernel_mac(ifn, &dp->host_kernel_mac) != 0) {
		LOG(ERR, "host: cannot read the MAC address of %s\n", ifn);
		return -1;
	}
	/* the ports' addresses, so the kernel's daemons can bind them; each
	 * brings its connected route through the host interface */
	for (unsigned p = 0; p < cfg->n_ports; p++)
		for (unsigned a = 0; a < cfg->ports[p].n_addrs; a++) {
			rp_ipv4_fmt(cfg->ports[p].addrs[a].addr, addr);
			snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "/%u",
				 cfg->ports[p].addrs[a].len);
			if (run_ip((char *const[]){"ip", "-4", "addr", "replace", addr, "dev", (char *)ifn,
						   NULL}) != 0)
				return -1;
		}
	for (unsigned r = 0; r < cfg->n_routes; r++) {
		const struct rp_route_conf *rc = &cfg->routes[r];
		rp_ipv4_fmt(rc->to.addr, to);
		snprintf(to + strlen(to), sizeof(to) - strlen(to), "/%u", rc->to.len);
		if (rc->via) {
			rp_ipv4_fmt(rc->via, via);
			if (run_ip((char *const[]){"ip", "-4", "route", "replace", to, "via", via, "dev",
						   (char *)ifn, NULL}) != 0)
				return -1;
		} else if (run_ip((char *const[]){"ip", "-4", "route", "replace", to, "dev", (char *)ifn,
						  NULL}) != 0) {
			return -1;
		}
	}
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &dp->host_kernel_mac);
	LOG(INFO, "host: %s up with the appliance's addresses (kernel MAC %s)\n", ifn, mac);
	return 0;
}
