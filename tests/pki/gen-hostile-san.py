#!/usr/bin/env python3
"""gen-hostile-san.py - the self-signed certificates with hostile subjectAltNames
in fuzz/corpus/chain/san-*.pem (also used by tests/cli/hostile.sh).

The SAN extension is written as raw DER, so that it can carry what a CA
should never sign: control bytes in a dNSName, a 10,000-byte name, UTF-8 and
non-UTF-8 bytes, and an extension that is not valid DER at all. Run once, the
files are committed:  python3 tests/pki/gen-hostile-san.py fuzz/corpus/chain
"""
import os
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtensionOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

def der_len(n):
    if n < 0x80: return bytes([n])
    b = n.to_bytes((n.bit_length()+7)//8, 'big')
    return bytes([0x80|len(b)]) + b
def tlv(tag, body): return bytes([tag]) + der_len(len(body)) + body
def san(*names): return tlv(0x30, b''.join(tlv(0x82, n) for n in names))

key = ec.generate_private_key(ec.SECP256R1())
def cert(path, cn, sanval):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
         .serial_number(1).not_valid_before(datetime.datetime(2026,1,1)).not_valid_after(datetime.datetime(2027,1,1)))
    if sanval is not None:
        b = b.add_extension(x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, sanval), critical=False)
    c = b.sign(key, hashes.SHA256())
    open(path,'wb').write(c.public_bytes(serialization.Encoding.PEM))
out = sys.argv[1] if len(sys.argv) > 1 else '.'
cert(os.path.join(out, 'san-ctrl.pem'), 'ctrl.example', san(b'mx\n.ex\x1b[31mample\x07.com'))
cert(os.path.join(out, 'san-long.pem'), 'long.example', san(b'a'*10000 + b'.example.com'))
cert(os.path.join(out, 'san-utf8.pem'), 'b\u00fccher.example', san('bücher.example'.encode()))
cert(os.path.join(out, 'san-badutf8.pem'), 'bad.example', san(b'b\xfc\xffcher.example'))
# an IA5String that claims 7 bytes where 3 follow: not DER
cert(os.path.join(out, 'san-undecodable.pem'), 'und.example', b'\x30\x05\x82\x07abc')
