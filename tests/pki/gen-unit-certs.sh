#!/bin/sh
# gen-unit-certs.sh DIR - the certificates the unit and CLI tests use
#
# Fixed validity dates: tests validate with --at 2026-06-01T00:00:00Z.
# Idempotent: an existing complete set made by this version of the scripts
# is kept (.complete holds their checksum).
set -eu
PKI_DIR=${1:?usage: gen-unit-certs.sh DIR}
PKI_STAMP=$(cat "$0" "$(dirname "$0")/pki.sh" | cksum)
[ -f "$PKI_DIR/.complete" ] && [ "$(cat "$PKI_DIR/.complete")" = "$PKI_STAMP" ] && exit 0
rm -rf "$PKI_DIR"
mkdir -p "$PKI_DIR"
. "$(dirname "$0")/pki.sh"

pki_root root "mxtls Test Root CA"
pki_inter inter root "mxtls Test Intermediate CA"

pki_leaf mx1 inter "DNS:mx1.example.com" "mx1.example.com"
pki_leaf helo inter "DNS:foo.example.com" "foo.example.com"
pki_leaf wild inter "DNS:*.example.com,DNS:example.com" "*.example.com"
PKI_NO_SAN=1 pki_leaf cnonly inter "" "mx1.example.com"
pki_leaf disagree inter "DNS:mx2.example.com" "mx1.example.com"
PKI_START=20200101000000Z PKI_END=20210101000000Z pki_leaf expired inter "DNS:mx1.example.com" "mx1.example.com"
PKI_START=20400101000000Z PKI_END=20410101000000Z pki_leaf future inter "DNS:mx1.example.com" "mx1.example.com"
pki_selfsigned self "DNS:mx1.example.com" "mx1.example.com"
pki_leaf idn inter "DNS:mx.xn--mnchen-3ya.example" "mx.xn--mnchen-3ya.example"
pki_leaf ipsan inter "DNS:mx1.example.com,IP:192.0.2.25,IP:2001:db8::25" "mx1.example.com"
pki_leaf esa inter "DNS:*.emailhosted.not,DNS:emailhosted.not" "*.emailhosted.not"
PKI_EKU=clientAuth pki_leaf clientonly inter "DNS:mx1.example.com" "mx1.example.com"
pki_leaf domain inter "DNS:example.com" "example.com"
pki_leaf sub inter "DNS:mail.sub.example.com" "mail.sub.example.com"
# an address spelt as a name: CN only, and as a dNSName with the CN (no
# iPAddress SAN: ipsan above has those)
PKI_NO_SAN=1 pki_leaf ipcn inter "" "192.0.2.1"
pki_leaf ipname inter "DNS:192.0.2.1" "192.0.2.1"
# a partial wildcard, which no sender accepts (RFC 6125 §7.2; PITFALLS.md)
pki_leaf partial inter "DNS:mx*.example.com" "mx*.example.com"

pki_root otherroot "mxtls Other Root CA"
pki_inter otherinter otherroot "mxtls Other Intermediate CA"
pki_leaf othermx1 otherinter "DNS:mx1.example.com" "mx1.example.com"

for n in mx1 helo wild cnonly disagree expired future idn ipsan esa clientonly domain sub ipcn \
         ipname partial; do
    pki_chain "$PKI_DIR/$n-chain.pem" "$PKI_DIR/$n.crt" "$PKI_DIR/inter.crt"
done
pki_chain "$PKI_DIR/othermx1-chain.pem" "$PKI_DIR/othermx1.crt" "$PKI_DIR/otherinter.crt"
pki_chain "$PKI_DIR/mx1-leafonly.pem" "$PKI_DIR/mx1.crt"
pki_chain "$PKI_DIR/self-chain.pem" "$PKI_DIR/self.crt"
cp "$PKI_DIR/root.crt" "$PKI_DIR/ca.pem"
echo "$PKI_STAMP" > "$PKI_DIR/.complete"
