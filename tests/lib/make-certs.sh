#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# make-certs.sh DIR: a test CA and the certificates the TLS tests use,
# ECDSA P-256 (what the benchmark's figures assume), made fresh by
# openssl in DIR:
#   ca.pem ca.key              the test CA
#   server.pem server.key      CN=moipgw-test server, SAN localhost, gateway.test
#                              (the browser test maps it to 127.0.0.1), 127.0.0.1, ::1,
#                              signed by the CA; server-chain.pem: it, then the CA
#   renewed.pem renewed.key    the same names, another key: a renewal
#   other.key                  a key that matches neither
#   wrongname.pem wrongname.key  signed by the CA for wrong.example only
#   expired.pem expired.key    valid in January 2020 only (made under faketime)
#   future.pem future.key      valid from 2090 only (made under faketime)
#   encrypted.key              server.key under a passphrase
#   server.spki                base64 SHA-256 of server.pem's public key, as
#                              Chromium's --ignore-certificate-errors-spki-list takes it
# Valid certificates last 100 years: a test run under a faked date
# (docs/testing.md, faked-date) still finds them valid.
set -eu
dir=$1
cd "$dir"

cat > ext.cnf <<'CNF'
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:gateway.test, IP:127.0.0.1, IP:::1
[wrongname]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
CNF

key () { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# issue NAME DAYS [faketime date [extensions]]: NAME.pem for NAME.key,
# signed by the CA.
issue () {
  local name=$1 days=$2 when=${3:-} ext=${4:-server}
  openssl req -new -key "$name.key" -subj "/CN=moipgw-test $name" -out "$name.csr" 2>/dev/null
  local cmd=(openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial
             -days "$days" -extfile ext.cnf -extensions "$ext" -out "$name.pem")
  # -f: the faked clock stands still (without it, it runs on from there).
  if [ -n "$when" ]; then faketime -f "$when" "${cmd[@]}" 2>/dev/null; else "${cmd[@]}" 2>/dev/null; fi
  rm -f "$name.csr"
}

key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=moipgw test CA" -days 36500 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out ca.pem 2>/dev/null
for n in server renewed expired future wrongname; do key "$n.key"; done
key other.key
issue server 36500
issue renewed 36500
issue expired 30 '2020-01-01 00:00:00'
issue future 30 '2090-01-01 00:00:00'
issue wrongname 36500 '' wrongname
cat server.pem ca.pem > server-chain.pem
openssl pkey -in server.key -aes256 -passout pass:secret -out encrypted.key 2>/dev/null
openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform der 2>/dev/null |
  openssl dgst -sha256 -binary | base64 > server.spki
chmod 600 ./*.key
