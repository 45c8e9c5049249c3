/*
 * Announcing a container's address after it starts or is restored: gratuitous ARP from its eth0
 * (RFC 5227's ARP Announcement, as a booting server or keepalived sends one). Without it, what the
 * segment remembers about the address is stale until the container itself speaks: the bridges between
 * hosts still forward its MAC to the port of the host it left (Linux keeps a learnt FDB entry 300 s),
 * and a neighbour that had the address under another MAC (an earlier container's, reused) keeps
 * sending there. New connections to a moved or re-created container then time out for minutes while
 * a container that only listens says nothing. Linux updates an existing neighbour entry on a
 * gratuitous ARP (arp_process: is_garp overrides), and every bridge on the way learns the new port.
 *
 * The frames are sent from inside the container's net namespace, on its own eth0, with its own MAC
 * and address read there, so they pass the anti-spoofing rules like any ARP of its own.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nsexec.h"

struct arp_frame {
  unsigned char dst[6], src[6];
  unsigned short type;
  unsigned short htype, ptype;
  unsigned char hlen, plen;
  unsigned short op;
  unsigned char sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

/* An announcement with `op`: a request (target hardware address zero, as RFC 5227 2.3 says) or a reply
 * (target hardware address its own, as arping -A sends; some neighbours heed only one of the two). */
static void build(struct arp_frame *f, unsigned short op, const unsigned char mac[6], const unsigned char ip[4]) {
  memset(f, 0, sizeof *f);
  memset(f->dst, 0xff, 6);
  memcpy(f->src, mac, 6);
  f->type = htons(ETHERTYPE_ARP);
  f->htype = htons(ARPHRD_ETHER);
  f->ptype = htons(ETHERTYPE_IP);
  f->hlen = 6;
  f->plen = 4;
  f->op = htons(op);
  memcpy(f->sha, mac, 6);
  memcpy(f->spa, ip, 4);
  if (op == ARPOP_REPLY) memcpy(f->tha, mac, 6);
  memcpy(f->tpa, ip, 4);
}

int mode_announce(const char *nsfile, const char *ifname) {
  if (strlen(ifname) >= IFNAMSIZ) die("interface-name", ENAMETOOLONG, ifname);
  int fd = open(nsfile, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open-netns", errno, nsfile);
  if (setns(fd, CLONE_NEWNET) < 0) die("setns-net", errno, nsfile);
  close(fd);

  int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (s < 0) die("socket-packet", errno, ifname);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) die("ifindex", errno, ifname);
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) die("hwaddr", errno, ifname);
  unsigned char mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  ifr.ifr_addr.sa_family = AF_INET;
  if (ioctl(s, SIOCGIFADDR, &ifr) < 0) die("ipv4-address", errno, ifname);
  unsigned char ip[4];
  memcpy(ip, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, 4);

  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  struct arp_frame f;
  unsigned short ops[] = {ARPOP_REQUEST, ARPOP_REPLY};
  for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    build(&f, ops[i], mac, ip);
    if (sendto(s, &f, sizeof f, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof f) die("send-arp", errno, ifname);
  }
  close(s);
  printf("ok %02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], ip[0], ip[1], ip[2], ip[3]);
  return 0;
}
