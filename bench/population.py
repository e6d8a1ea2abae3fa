#!/usr/bin/env python3
"""population.py DIR N MX KSK.key ZSK.key INCEPTION EXPIRATION - the data of the benchmark population (bench/population.sh)

Writes under DIR, deterministically (seeded), for N domains over MX mail
hosts in PROVIDERS provider zones:

  domains.txt            one domain per line (popNNNNN.test)
  mx.tsv                 k, host, relay address, real address, provider, tls, tlsa
  zones/Z.unsigned       every domain zone and provider zone
  zones/KZ.{ksk,zsk}.key the shared key pair with the owner Z (see below); .private links
  zones.list             the zone names
  sign.jobs              one ldns-signzone argument list per line
  test.additions         what test. gains: ns1.popdns.test's address, and per
                         zone an NS and a DS record
  www/HOST/.well-known/mta-sts.txt   the MTA-STS policies (CRLF)
  sts-names.txt          the mta-sts.DOMAIN names (for the certificate)

Heavy tail: a domain's MX host is drawn from a Zipf distribution (s = 1.2)
over the MX hosts, so the first few hosts serve most domains, as one
provider's MX serves millions of domains on the internet; one domain in ten
also has a backup MX (the next host of the same provider). One domain in ten
publishes an MTA-STS policy in mode enforce that lists its MX hosts.
Providers 1-3 publish a TLSA 3 1 1 record for each of their MX hosts (their
certificate's key, from DIR/tlsa.tsv); the last provider offers no STARTTLS.

Keys: every population zone is signed with one KSK and one ZSK (ECDSA
P-256), as a DNS hosting provider signs the zones it serves; the DS in test.
is computed per zone (RFC 4034 section 5.1.4: SHA-256 over the owner name
and the DNSKEY RDATA).
"""
import base64
import hashlib
import os
import random
import sys

PROVIDERS = 12
ZIPF_S = 1.2
DNS_RELAY = "127.0.20.1"
MX_RELAY_NET = "127.0.22."
MX_REAL_NET = "127.0.23."
HTTPS_RELAY = "127.0.24.1"


def wire(name):
    out = b""
    for label in name.rstrip(".").lower().split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_key(path):
    """(flags, protocol, algorithm, public key bytes) of a K*.key file"""
    with open(path) as f:
        for line in f:
            parts = line.split()
            if "DNSKEY" in parts:
                i = parts.index("DNSKEY")
                return int(parts[i + 1]), int(parts[i + 2]), int(parts[i + 3]), "".join(parts[i + 4:])
    raise SystemExit(f"population: no DNSKEY in {path}")


def keytag(rdata):
    acc = 0
    for i, b in enumerate(rdata):
        acc += b if i & 1 else b << 8
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def main():
    out, n, nmx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ksk_file, zsk_file = sys.argv[4], sys.argv[5]
    incep, expire = sys.argv[6], sys.argv[7]
    if not 1 <= nmx <= 254 or nmx < PROVIDERS or n < 1:
        raise SystemExit("population: need 1 <= N and 12 <= MX <= 254")
    rng = random.Random(12)
    per = nmx // PROVIDERS
    hosts = []  # (k, name, provider)
    for k in range(1, nmx + 1):
        p = min((k - 1) // per, PROVIDERS - 1) + 1
        hosts.append((k, f"mx{k:03d}.prov{p:02d}.test", p))
    by_prov = {}
    for h in hosts:
        by_prov.setdefault(h[2], []).append(h)
    tlsa = {}
    tpath = os.path.join(out, "tlsa.tsv")
    if os.path.exists(tpath):
        for line in open(tpath):
            p, hexdata = line.split()
            tlsa[int(p)] = hexdata
    weights = [1.0 / (k ** ZIPF_S) for k in range(1, nmx + 1)]

    ksk, zsk = read_key(ksk_file), read_key(zsk_file)
    ksk_rdata = bytes([ksk[0] >> 8, ksk[0] & 255, ksk[1], ksk[2]]) + base64.b64decode(ksk[3])
    tag = keytag(ksk_rdata)
    zdir = os.path.join(out, "zones")
    os.makedirs(zdir, exist_ok=True)
    serial = int(incep)
    zones = []
    add = [f"ns1.popdns.test.\tIN\tA\t{DNS_RELAY}"]

    def zone(name, body):
        zones.append(name)
        with open(os.path.join(zdir, name + ".unsigned"), "w") as f:
            f.write(f"$ORIGIN {name}.\n$TTL 300\n")
            f.write(f"@\tIN\tSOA\tns1.popdns.test. hostmaster.test. {serial} 3600 600 604800 60\n")
            f.write("@\tIN\tNS\tns1.popdns.test.\n")
            f.write(body)
        for kind, key, src in (("ksk", ksk, ksk_file), ("zsk", zsk, zsk_file)):
            base = os.path.join(zdir, f"K{name}.{kind}")
            with open(base + ".key", "w") as f:
                f.write(f"{name}.\tIN\tDNSKEY\t{key[0]} {key[1]} {key[2]} {key[3]}\n")
            if not os.path.lexists(base + ".private"):
                os.symlink(os.path.abspath(src[:-len(".key")] + ".private"), base + ".private")
        digest = hashlib.sha256(wire(name) + ksk_rdata).hexdigest()
        add.append(f"{name}.\tIN\tNS\tns1.popdns.test.")
        add.append(f"{name}.\tIN\tDS\t{tag} {ksk[2]} 2 {digest}")

    with open(os.path.join(out, "mx.tsv"), "w") as f:
        for k, name, p in hosts:
            tls = "no" if p == PROVIDERS else "yes"
            f.write(f"{k}\t{name}\t{MX_RELAY_NET}{k}\t{MX_REAL_NET}{k}\tprov{p:02d}\t{tls}\t"
                    f"{'yes' if p in tlsa else 'no'}\n")
    for p, hs in sorted(by_prov.items()):
        body = ""
        for k, name, _ in hs:
            short = name.split(".")[0]
            body += f"{short}\tIN\tA\t{MX_RELAY_NET}{k}\n"
            if p in tlsa:
                body += f"_25._tcp.{short}\tIN\tTLSA\t3 1 1 {tlsa[p]}\n"
        zone(f"prov{p:02d}.test", body)

    domains = []
    sts_names = []
    www = os.path.join(out, "www")
    for i in range(1, n + 1):
        d = f"pop{i:05d}.test"
        domains.append(d)
        k = rng.choices(range(nmx), weights=weights)[0]
        mxs = [hosts[k]]
        if i % 10 == 7:
            ph = by_prov[hosts[k][2]]
            mxs.append(ph[(ph.index(hosts[k]) + 1) % len(ph)])
        body = "".join(f"@\tIN\tMX\t{10 * (j + 1)} {h[1]}.\n" for j, h in enumerate(mxs))
        if i % 10 == 3:
            body += '_mta-sts\tIN\tTXT\t"v=STSv1; id=20261205T000000;"\n'
            body += f"mta-sts\tIN\tA\t{HTTPS_RELAY}\n"
            host = f"mta-sts.{d}"
            sts_names.append(host)
            os.makedirs(os.path.join(www, host, ".well-known"), exist_ok=True)
            policy = "version: STSv1\r\nmode: enforce\r\n" + "".join(f"mx: {h[1]}\r\n" for h in mxs) + \
                "max_age: 604800\r\n"
            with open(os.path.join(www, host, ".well-known", "mta-sts.txt"), "w", newline="") as f:
                f.write(policy)
        zone(d, body)

    with open(os.path.join(out, "domains.txt"), "w") as f:
        f.write("\n".join(domains) + "\n")
    with open(os.path.join(out, "sts-names.txt"), "w") as f:
        f.write("\n".join(sts_names) + "\n")
    with open(os.path.join(out, "zones.list"), "w") as f:
        f.write("\n".join(zones) + "\n")
    with open(os.path.join(out, "test.additions"), "w") as f:
        f.write("\n".join(add) + "\n")
    with open(os.path.join(out, "sign.jobs"), "w") as f:
        for z in zones:
            b = os.path.join(zdir, z)
            f.write(f"-i {incep} -e {expire} -o {z}. -f {b}.zone {b}.unsigned "
                    f"{zdir}/K{z}.zsk {zdir}/K{z}.ksk\n")


if __name__ == "__main__":
    main()
