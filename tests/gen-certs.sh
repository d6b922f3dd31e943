#!/bin/sh
# gen-certs.sh DIR: the certificates of the TLS tests, made afresh with
# the openssl command (P-256 keys: quick to make), all in DIR:
#   ca.pem ca.key            a CA that signs every certificate below
#   server.pem server.key    CN localhost, SAN DNS:localhost IP:127.0.0.1
#   renewed.pem renewed.key  the same names, another key and serial (a
#                            renewal, for the reload test)
#   other.pem other.key      SAN DNS:other.test only (SNI; a wrong host)
#   expired.pem expired.key  localhost and 127.0.0.1, expired in 2020
#   client.pem client.key    CN shadowdiff-client, for clientAuth
#   chain-*.pem              the leaf then the CA, for -t and [tls]
set -eu

dir=$1
mkdir -p "$dir"
cd "$dir"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1.key" 2>/dev/null
}

key ca
openssl req -x509 -new -key ca.key -out ca.pem -days 30 \
    -subj "/CN=shadowdiff test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"

# sign NAME SUBJECT EXTENSIONS [DAYS]: NAME.pem signed by the CA.
sign() {
	key "$1"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
	    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
	    -days "${4:-30}" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
	cat "$1.pem" ca.pem >"chain-$1.pem"
	rm -f "$1.csr" "$1.ext"
}

server_ext='subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth'
sign server "/CN=localhost" "$server_ext"
sign renewed "/CN=localhost/O=renewed" "$server_ext"
sign other "/CN=other.test" 'subjectAltName=DNS:other.test
extendedKeyUsage=serverAuth'
sign client "/CN=shadowdiff-client" 'extendedKeyUsage=clientAuth'

# Expired: openssl ca can set both dates in the past; x509 -req can't.
key expired
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
mkdir -p ca.db
: >ca.db/index.txt
cat >ca.db/ca.cnf <<EOF
[ca]
default_ca = test
[test]
database = ca.db/index.txt
new_certs_dir = ca.db
serial = ca.db/serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
EOF
echo 01 >ca.db/serial
openssl ca -batch -config ca.db/ca.cnf -cert ca.pem -keyfile ca.key \
    -in expired.csr -out expired.pem -startdate 20200101000000Z \
    -enddate 20200201000000Z -extensions ext -notext 2>/dev/null
cat expired.pem ca.pem >chain-expired.pem
rm -rf expired.csr ca.db
