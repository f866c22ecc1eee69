#!/usr/bin/env python3
"""Writes an iSCSI Boot Firmware Table (iBFT) for the VM tests: qemu -acpitable file=TABLE.

Written for kiscsi from the table layout (iBFT revision 1; see
the shared reference boot-path.md section 1.2). Python 3 standard library only.

The table is one control structure, one initiator, one NIC (index 0) and one target (index 0),
each 16-byte aligned (48, 80, 160, 272), followed by a heap of NUL-terminated strings (336).
The 48-byte table header is the 36-byte ACPI header plus 12 reserved bytes, so the file is the
whole table as qemu's -acpitable file= expects it. The defaults are the values the VM scenarios
assert (initiator iqn.2026-12.test.boot:initiator; NIC 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3,
MAC 52:54:00:12:34:56 at PCI 00:03.0, host name ibftguest; target 10.0.2.2:3261 LUN 1
iqn.2026-12.test.boot:root).

An address option given as "" or "none" leaves that address out (all zeros). CHAP type is derived
from what is given: 0 without --chap-name, 1 with it, 2 when --rchap-name is given too.

--corrupt makes a table the kernel (partly) refuses:
  checksum  the 8-bit sum of the table is not 0. NOTE: qemu's -acpitable recomputes the checksum
            of every table it installs, so this reaches only parsers of the raw file, never a
            guest booted with -acpitable.
  revision  table revision 2: iscsi_ibft refuses the whole table (only revision 1 is known), so
            nothing is published under /sys/firmware/ibft. Survives qemu (no rev= is passed).
  truncate  the NIC structure claims 100 bytes instead of 102: the kernel skips the NIC (no
            ethernet0) and publishes the rest.
"""

import argparse
import ipaddress
import struct
import sys

HEADER_LEN = 48
CONTROL_LEN = 18
INITIATOR_LEN = 74
NIC_LEN = 102
TARGET_LEN = 54
ALIGN = 16

ID_CONTROL, ID_INITIATOR, ID_NIC, ID_TARGET = 1, 2, 3, 4

DEFAULTS = {
    "initiator": "iqn.2026-12.test.boot:initiator",
    "nic_ip": "10.0.2.15",
    "nic_prefix": 24,
    "nic_gw": "10.0.2.2",
    "nic_dns1": "10.0.2.3",
    "nic_mac": "52:54:00:12:34:56",
    "nic_pci": "00:03.0",
    "nic_hostname": "ibftguest",
    "target_ip": "10.0.2.2",
    "target_port": 3261,
    "target_lun": 1,
    "target_name": "iqn.2026-12.test.boot:root",
}


def align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def ip_bytes(text):
    """16 bytes: IPv6 as is, IPv4 as ::ffff:a.b.c.d; empty/none gives all zeros (absent)."""
    if text is None or text == "" or text.lower() == "none":
        return bytes(16)
    addr = ipaddress.ip_address(text)
    if addr.version == 4:
        return bytes(10) + b"\xff\xff" + addr.packed
    return addr.packed


def mac_bytes(text):
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError(f"MAC address {text!r} does not have 6 bytes")
    return bytes(int(p, 16) for p in parts)


def pci_bdf(text):
    """'BB:DD.F' (or 'DDDD:BB:DD.F' with domain 0) -> bus << 8 | device << 3 | function."""
    parts = text.split(":")
    if len(parts) == 3:
        if int(parts[0], 16) != 0:
            raise ValueError("the iBFT has no PCI domain: only domain 0")
        parts = parts[1:]
    if len(parts) != 2 or "." not in parts[1]:
        raise ValueError(f"PCI address {text!r} is not BB:DD.F")
    bus = int(parts[0], 16)
    dev, fn = (int(x, 16) for x in parts[1].split("."))
    if bus > 0xFF or dev > 0x1F or fn > 7:
        raise ValueError(f"PCI address {text!r} is out of range")
    return bus << 8 | dev << 3 | fn


def lun_bytes(lun):
    """SAM-2 single level LUN: peripheral addressing below 256, flat space up to 16383."""
    if lun < 0 or lun > 0x3FFF:
        raise ValueError(f"LUN {lun} is out of range (0..16383)")
    if lun < 256:
        return bytes([0, lun]) + bytes(6)
    return bytes([0x40 | lun >> 8, lun & 0xFF]) + bytes(6)


class Heap:
    """Strings after the structures; each is referenced as (length u16, offset u16)."""

    def __init__(self, start):
        self.start = start
        self.data = bytearray()

    def add(self, text):
        if text is None:
            return (0, 0)
        raw = text.encode()
        offset = self.start + len(self.data)
        self.data += raw + b"\0"
        return (len(raw), offset)


def structure_header(sid, length, index, flags):
    return struct.pack("<BBHBB", sid, 1, length, index, flags)


def build(args):
    initiator_off = align(HEADER_LEN + CONTROL_LEN)
    nic_off = align(initiator_off + INITIATOR_LEN)
    target_off = align(nic_off + NIC_LEN)
    heap = Heap(align(target_off + TARGET_LEN))

    initiator_name = heap.add(args.initiator)
    hostname = heap.add(args.nic_hostname or None)
    target_name = heap.add(None if args.no_target_name else args.target_name)
    chap_name = heap.add(args.chap_name)
    chap_secret = heap.add(args.chap_secret if args.chap_name is not None else None)
    rchap_name = heap.add(args.rchap_name)
    rchap_secret = heap.add(args.rchap_secret if args.rchap_name is not None else None)
    if args.rchap_name is not None:
        chap_type = 2
    elif args.chap_name is not None:
        chap_type = 1
    else:
        chap_type = 0

    control = structure_header(ID_CONTROL, CONTROL_LEN, 0, 0)
    control += struct.pack("<HHHHHH", 0, initiator_off, nic_off, target_off, 0, 0)

    initiator = structure_header(ID_INITIATOR, INITIATOR_LEN, 0, args.initiator_flags)
    initiator += bytes(16 * 4)  # iSNS, SLP, primary and secondary RADIUS: none
    initiator += struct.pack("<HH", *initiator_name)

    origin = args.nic_origin
    if origin is None:
        origin = 3 if args.nic_dhcp else 1
    nic_len = NIC_LEN - 2 if args.corrupt == "truncate" else NIC_LEN
    nic = structure_header(ID_NIC, nic_len, 0, args.nic_flags)
    nic += ip_bytes(args.nic_ip)
    nic += struct.pack("<BB", args.nic_prefix, origin)
    for addr in (args.nic_gw, args.nic_dns1, args.nic_dns2, args.nic_dhcp):
        nic += ip_bytes(addr)
    nic += struct.pack("<H", args.nic_vlan)
    nic += mac_bytes(args.nic_mac)
    nic += struct.pack("<H", pci_bdf(args.nic_pci))
    nic += struct.pack("<HH", *hostname)

    target = structure_header(ID_TARGET, TARGET_LEN, 0, args.target_flags)
    target += ip_bytes(args.target_ip)
    target += struct.pack("<H", args.target_port)
    target += lun_bytes(args.target_lun)
    target += struct.pack("<BB", chap_type, args.target_nic_assoc)
    for pair in (target_name, chap_name, chap_secret, rchap_name, rchap_secret):
        target += struct.pack("<HH", *pair)

    assert len(control) == CONTROL_LEN and len(initiator) == INITIATOR_LEN
    assert len(nic) == NIC_LEN and len(target) == TARGET_LEN

    table = bytearray(heap.start + len(heap.data))
    for offset, blob in ((HEADER_LEN, control), (initiator_off, initiator),
                         (nic_off, nic), (target_off, target), (heap.start, heap.data)):
        table[offset:offset + len(blob)] = blob

    revision = 2 if args.corrupt == "revision" else 1
    # ACPI header: signature, length, revision, checksum (below), OEM id, OEM table id; OEM
    # revision, creator id and revision and the 12 bytes after them stay 0 (reserved in iBFT).
    header = struct.pack("<4sIBB6s8s", args.sig.encode(), len(table), revision, 0,
                         args.oem_id.encode().ljust(6)[:6],
                         args.oem_table_id.encode().ljust(8)[:8])
    table[0:len(header)] = header
    checksum = (-sum(table)) & 0xFF
    if args.corrupt == "checksum":
        checksum = (checksum + 1) & 0xFF
    table[9] = checksum
    return bytes(table)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="file to write the table to")
    p.add_argument("--sig", choices=("iBFT", "IBFT"), default="iBFT")
    p.add_argument("--oem-id", default="KISCSI")
    p.add_argument("--oem-table-id", default="TESTIBFT")
    p.add_argument("--initiator", default=DEFAULTS["initiator"], help="initiator name (IQN)")
    p.add_argument("--initiator-flags", type=int, default=3)
    p.add_argument("--nic-ip", default=DEFAULTS["nic_ip"])
    p.add_argument("--nic-prefix", type=int, default=DEFAULTS["nic_prefix"])
    p.add_argument("--nic-gw", default=DEFAULTS["nic_gw"])
    p.add_argument("--nic-dns1", default=DEFAULTS["nic_dns1"])
    p.add_argument("--nic-dns2", default=None)
    p.add_argument("--nic-dhcp", default=None, help="DHCP server (origin becomes 3 unless given)")
    p.add_argument("--nic-origin", type=int, default=None,
                   help="0 other, 1 manual (default), 2 well-known, 3 DHCP, 4 RA")
    p.add_argument("--nic-vlan", type=int, default=0)
    p.add_argument("--nic-mac", default=DEFAULTS["nic_mac"])
    p.add_argument("--nic-pci", default=DEFAULTS["nic_pci"], help="PCI address BB:DD.F")
    p.add_argument("--nic-hostname", default=DEFAULTS["nic_hostname"],
                   help='host name ("" for none)')
    p.add_argument("--nic-flags", type=int, default=3)
    p.add_argument("--target-ip", default=DEFAULTS["target_ip"])
    p.add_argument("--target-port", type=int, default=DEFAULTS["target_port"])
    p.add_argument("--target-lun", type=int, default=DEFAULTS["target_lun"])
    p.add_argument("--target-name", default=DEFAULTS["target_name"])
    p.add_argument("--no-target-name", action="store_true",
                   help="leave the target name out (a table open-iscsi calls invalid)")
    p.add_argument("--target-flags", type=int, default=3)
    p.add_argument("--target-nic-assoc", type=int, default=0)
    p.add_argument("--chap-name")
    p.add_argument("--chap-secret", default="")
    p.add_argument("--rchap-name")
    p.add_argument("--rchap-secret", default="")
    p.add_argument("--corrupt", choices=("checksum", "revision", "truncate"))
    args = p.parse_args(argv)
    if args.rchap_name is not None and args.chap_name is None:
        p.error("--rchap-name needs --chap-name (mutual CHAP is CHAP type 2)")
    for name in ("nic_prefix", "nic_origin", "nic_flags", "target_flags", "initiator_flags",
                 "target_nic_assoc"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= 0xFF:
            p.error(f"--{name.replace('_', '-')} must be 0..255")
    if not 0 <= args.nic_vlan <= 0xFFFF or not 0 <= args.target_port <= 0xFFFF:
        p.error("--nic-vlan and --target-port must be 0..65535")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        table = build(args)
    except ValueError as e:
        print(f"ibft_gen: {e}", file=sys.stderr)
        return 2
    with open(args.out, "wb") as f:
        f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
