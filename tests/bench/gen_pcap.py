#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a pcap of UDP/IPv4 frames for the whole-daemon benchmark.

One frame per flow, so that net_pcap's infinite_rx replays every flow in
turn. Flow i comes from client 198.18.<1 + i // 253>.<2 + i % 253> (never .0,
.1 or .255, so no source is our lan0 address 198.18.1.1 or a broadcast),
UDP source port 1024 + i % 60000, to one of the servers 198.19.1.2 ..
198.19.1.<1 + servers>, UDP port 9 (discard). Frames are addressed to the
router's lan0 MAC; the IPv4 header checksum is valid, TTL 64, DF clear, the
UDP checksum 0 (allowed for IPv4, and a router does not look at it).

--frame is the Ethernet frame size as RFC 2544 and Pktgen count it, with the
4-byte FCS: a 64-byte frame is written as 60 bytes, since a pcap holds frames
without their FCS.

Only the Python standard library is used.
"""

import argparse
import struct
import sys

FCS_LEN = 4
ETH_HDR_LEN = 14
IP_HDR_LEN = 20
UDP_HDR_LEN = 8
MIN_FRAME = 64    # RFC 2544 smallest frame, FCS included
MAX_FRAME = 1518  # largest untagged frame for a 1500-byte MTU, FCS included
MAX_CLIENTS = 253 * 254  # third octet 1..254, fourth 2..254


def parse_mac(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a MAC aa:bb:cc:dd:ee:ff")
    try:
        raw = bytes(int(p, 16) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a MAC aa:bb:cc:dd:ee:ff") from None
    return raw


def ipv4_checksum(header):
    total = 0
    for (word,) in struct.iter_unpack("!H", header):
        total += word
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def client_address(flow):
    third = 1 + flow // 253
    fourth = 2 + flow % 253
    return bytes((198, 18, third, fourth))


def server_address(flow, servers):
    return bytes((198, 19, 1, 2 + flow % servers))


def build_frame(flow, frame_len, dst_mac, src_mac, servers):
    wire_len = frame_len - FCS_LEN
    ip_len = wire_len - ETH_HDR_LEN
    udp_len = ip_len - IP_HDR_LEN
    eth = dst_mac + src_mac + struct.pack("!H", 0x0800)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s",
                               0x45, 0, ip_len,
                               flow & 0xFFFF, 0,  # id, flags/fragment: DF clear
                               64, 17, 0,         # TTL, UDP, checksum below
                               client_address(flow), server_address(flow, servers)))
    struct.pack_into("!H", ip, 10, ipv4_checksum(bytes(ip)))
    udp = struct.pack("!HHHH", 1024 + flow % 60000, 9, udp_len, 0)
    payload_len = udp_len - UDP_HDR_LEN
    # the payload names the flow, which helps when reading a capture by eye
    payload = (b"rampart-bench %08d " % flow).ljust(payload_len, b".")[:payload_len]
    return eth + bytes(ip) + udp + payload


def write_pcap(out, frames):
    # classic pcap: magic, version 2.4, GMT offset, accuracy, snaplen, Ethernet
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, frame in enumerate(frames):
        # timestamps 1 us apart; net_pcap's infinite_rx ignores them
        out.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
        out.write(frame)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True, help="pcap file to write")
    ap.add_argument("--flows", type=int, default=1024, help="UDP flows, one frame each (1024)")
    ap.add_argument("--frame", type=int, default=64,
                    help="frame size with FCS, %d..%d (64)" % (MIN_FRAME, MAX_FRAME))
    ap.add_argument("--dst-mac", type=parse_mac, default=parse_mac("02:70:63:61:70:00"),
                    help="router's lan0 MAC (02:70:63:61:70:00, the first net_pcap port's)")
    ap.add_argument("--src-mac", type=parse_mac, default=parse_mac("02:00:00:00:00:01"),
                    help="clients' MAC (02:00:00:00:00:01)")
    ap.add_argument("--servers", type=int, default=1,
                    help="servers 198.19.1.2 and up, flows spread over them (1)")
    args = ap.parse_args(argv)

    if not MIN_FRAME <= args.frame <= MAX_FRAME:
        ap.error(f"--frame {args.frame}: must be {MIN_FRAME}..{MAX_FRAME}")
    if not 1 <= args.flows <= MAX_CLIENTS:
        ap.error(f"--flows {args.flows}: must be 1..{MAX_CLIENTS}")
    if not 1 <= args.servers <= 253:
        ap.error(f"--servers {args.servers}: must be 1..253")
    if args.dst_mac[0] & 1:
        ap.error("--dst-mac: a router does not forward frames sent to a group address")

    frames = (build_frame(i, args.frame, args.dst_mac, args.src_mac, args.servers)
              for i in range(args.flows))
    with open(args.output, "wb") as out:
        write_pcap(out, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
