#!/bin/sh
# Makes the self-signed certificates Sibyl's TLS tests use (and the TLS example of
# docs/security.md): FOR TESTS ONLY — the private keys are committed, so anyone can impersonate
# these names. Never use them to protect anything.
#
#   scripts/make-test-certs.sh [out-dir]   (default: packages/server/test/fixtures/tls)
#
# Writes, each valid for 100 years:
#   test-ca.pem / test-ca.key                      a CA that signs everything below
#   test-server.pem / test-server.key              CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   test-server-renewed.pem / test-server-renewed.key   the same names, CN=localhost-renewed, another serial (the reload test)
#   test-client.pem / test-client.key              a client certificate, CN=test-client, SAN URI:spiffe://sibyl.test/test-client
#   test-other-ca.pem, test-untrusted-client.pem/.key   a second CA and a client it signed (refused by the first CA)
set -eu
OUT=${1:-$(dirname "$0")/../packages/server/test/fixtures/tls}
mkdir -p "$OUT"
cd "$OUT"
DAYS=36500
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ca() { # name subject
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days $DAYS \
    -subj "$2" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # name subject ca extensions serial
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$2" -keyout "$1.key" -out "$TMP/$1.csr" 2>/dev/null
  printf '%s\n' "$4" > "$TMP/$1.ext"
  openssl x509 -req -in "$TMP/$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "$5" -days $DAYS -sha256 -extfile "$TMP/$1.ext" -out "$1.pem" 2>/dev/null
}

SERVER_EXT='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'
CLIENT_EXT='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectAltName=URI:spiffe://sibyl.test/test-client'

ca test-ca "/O=Sibyl tests/CN=Sibyl TEST-ONLY CA"
leaf test-server "/O=Sibyl tests/CN=localhost" test-ca "$SERVER_EXT" 1001
leaf test-server-renewed "/O=Sibyl tests/CN=localhost-renewed" test-ca "$SERVER_EXT" 1002
leaf test-client "/O=Sibyl tests/CN=test-client" test-ca "$CLIENT_EXT" 2001
ca test-other-ca "/O=Sibyl tests/CN=Sibyl TEST-ONLY other CA"
leaf test-untrusted-client "/O=Sibyl tests/CN=untrusted-client" test-other-ca "$CLIENT_EXT" 3001
rm -f test-other-ca.key
echo "test-only certificates written to $(pwd)"
