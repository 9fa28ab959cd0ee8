#!/usr/bin/env bash
# Generates the throwaway test PKI used by the edgeloop tests, with the openssl CLI (OpenSSL 3.0).
#
#   generate.sh OUTDIR
#
# Files in OUTDIR (EC P-256 keys, PKCS#8 PEM):
#   ca.crt/.key              test CA ("edgeloop test CA")
#   server.crt/.key          DNS:localhost, IP:127.0.0.1, IP:::1, signed by ca (serverAuth)
#   server-chain.crt         server.crt followed by ca.crt
#   client.crt/.key          CN=edgeloop-test-client, clientAuth, signed by ca
#   client-enc.key           client.key encrypted with AES-256, passphrase "edgeloop-test"
#   expired.crt/.key         localhost/127.0.0.1, signed by ca, valid only in the past (2020)
#   notyet.crt/.key          localhost/127.0.0.1, signed by ca, valid only in the future (2090)
#   wronghost.crt/.key       DNS:other.example only, signed by ca
#   untrusted-ca.crt/.key    a second CA that nothing trusts
#   untrusted.crt/.key       localhost/127.0.0.1, signed by untrusted-ca
#   ca-chain.crt             ca.crt followed by untrusted-ca.crt (a bundle trusting both CAs)
#   selfsigned.crt/.key      self-signed localhost/127.0.0.1, not a CA
#   nosan.crt/.key           CN=localhost and no subjectAltName, signed by ca (RFC 9525: never matches)
#   .complete                written last
#
# Idempotent: exits at once when OUTDIR/.complete is newer than this script. Concurrent runs are
# serialized with flock on OUTDIR.lock, and the PKI is built in a temporary directory next to OUTDIR and
# renamed into place, so nobody ever sees half a PKI in OUTDIR.
#
# Everything is world-readable on purpose (keys too): this PKI is for tests only, and nginx workers run
# as another user.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

script="$(readlink -f "${BASH_SOURCE[0]}")"
out="$(readlink -m "$1")"
parent="$(dirname "$out")"
name="$(basename "$out")"

is_complete() {
    [[ -f "$out/.complete" && "$out/.complete" -nt "$script" ]]
}

if is_complete; then
    exit 0
fi

mkdir -p "$parent"
exec 9>"$out.lock"
flock 9
# Another run may have finished while we were waiting for the lock.
if is_complete; then
    exit 0
fi

tmp="$(mktemp -d "$parent/.$name.tmp.XXXXXX")"
old=""
cleanup() {
    rm -rf "$tmp"
    if [[ -n "$old" ]]; then rm -rf "$old"; fi
}
trap cleanup EXIT

work="$tmp/.work"
mkdir -p "$work/main/certs" "$work/untrusted/certs"
touch "$work/main/index.txt" "$work/untrusted/index.txt"
# Random first serial numbers, so that regenerated certificates never repeat one.
openssl rand -hex 8 | sed 's/^./1/' >"$work/main/serial"
openssl rand -hex 8 | sed 's/^./2/' >"$work/untrusted/serial"

cnf="$work/openssl.cnf"
cat >"$cnf" <<EOF
# Minimal configuration: nothing from the system openssl.cnf is used.
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @localhost_san

[wronghost_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.example

[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[nosan_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[selfsigned_ext]
basicConstraints = critical, CA:FALSE
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = @localhost_san

[localhost_san]
DNS.1 = localhost
IP.1 = 127.0.0.1
IP.2 = ::1

[ca_main]
database = $work/main/index.txt
new_certs_dir = $work/main/certs
serial = $work/main/serial
certificate = $tmp/ca.crt
private_key = $tmp/ca.key
default_md = sha256
default_days = 3650
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[ca_untrusted]
database = $work/untrusted/index.txt
new_certs_dir = $work/untrusted/certs
serial = $work/untrusted/serial
certificate = $tmp/untrusted-ca.crt
private_key = $tmp/untrusted-ca.key
default_md = sha256
default_days = 3650
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_any]
organizationName = optional
commonName = supplied
EOF

ossl() {
    local log="$work/openssl.log"
    if ! openssl "$@" >"$log" 2>&1; then
        echo "generate.sh: openssl $* failed:" >&2
        cat "$log" >&2
        exit 1
    fi
}

new_key() { # name
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key"
}

new_ca() { # name subject
    new_key "$1"
    ossl req -config "$cnf" -new -x509 -key "$tmp/$1.key" -subj "$2" -days 3650 -sha256 \
        -extensions v3_ca -out "$tmp/$1.crt"
}

# signed name subject ca_section ext_section [openssl ca date options...]
signed() {
    local cert="$1" subject="$2" section="$3" ext="$4"
    shift 4
    new_key "$cert"
    ossl req -config "$cnf" -new -key "$tmp/$cert.key" -subj "$subject" -out "$work/$cert.csr"
    ossl ca -config "$cnf" -name "$section" -batch -notext -extensions "$ext" \
        -in "$work/$cert.csr" -out "$tmp/$cert.crt" "$@"
}

new_ca ca "/O=edgeloop tests/CN=edgeloop test CA"
new_ca untrusted-ca "/O=edgeloop tests/CN=edgeloop untrusted test CA"

signed server "/O=edgeloop tests/CN=localhost" ca_main server_ext
signed client "/O=edgeloop tests/CN=edgeloop-test-client" ca_main client_ext
signed expired "/O=edgeloop tests/CN=localhost" ca_main server_ext \
    -startdate 20200101000000Z -enddate 20200201000000Z
signed notyet "/O=edgeloop tests/CN=localhost" ca_main server_ext \
    -startdate 20900101000000Z -enddate 20910101000000Z
signed wronghost "/O=edgeloop tests/CN=other.example" ca_main wronghost_ext
signed untrusted "/O=edgeloop tests/CN=localhost" ca_untrusted server_ext
signed nosan "/O=edgeloop tests/CN=localhost" ca_main nosan_ext

new_key selfsigned
ossl req -config "$cnf" -new -x509 -key "$tmp/selfsigned.key" -subj "/O=edgeloop tests/CN=localhost" \
    -days 3650 -sha256 -extensions selfsigned_ext -out "$tmp/selfsigned.crt"

ossl pkey -in "$tmp/client.key" -aes256 -passout pass:edgeloop-test -out "$tmp/client-enc.key"

cat "$tmp/server.crt" "$tmp/ca.crt" >"$tmp/server-chain.crt"
cat "$tmp/ca.crt" "$tmp/untrusted-ca.crt" >"$tmp/ca-chain.crt"

# --- Checks -------------------------------------------------------------------------------------------

fail() {
    echo "generate.sh: check failed: $*" >&2
    exit 1
}

# expect_verify cert expected_error|OK [verify options...]
expect_verify() {
    local cert="$1" expect="$2" result
    shift 2
    result="$(openssl verify "$@" "$tmp/$cert.crt" 2>&1 || true)"
    if [[ "$expect" == OK ]]; then
        [[ "$result" == "$tmp/$cert.crt: OK" ]] || fail "$cert should verify: $result"
    else
        [[ "$result" != *": OK" && "$result" == *"$expect"* ]] ||
            fail "$cert should fail with '$expect': $result"
    fi
}

expect_verify ca OK -CAfile "$tmp/ca.crt"
expect_verify server OK -CAfile "$tmp/ca.crt" -purpose sslserver -verify_hostname localhost
expect_verify server OK -CAfile "$tmp/ca.crt" -verify_ip 127.0.0.1
expect_verify server OK -CAfile "$tmp/ca.crt" -verify_ip ::1
expect_verify client OK -CAfile "$tmp/ca.crt" -purpose sslclient
expect_verify client "unsuitable certificate purpose" -CAfile "$tmp/ca.crt" -purpose sslserver
expect_verify expired "certificate has expired" -CAfile "$tmp/ca.crt"
expect_verify notyet "certificate is not yet valid" -CAfile "$tmp/ca.crt"
expect_verify wronghost OK -CAfile "$tmp/ca.crt" -verify_hostname other.example
expect_verify wronghost "hostname mismatch" -CAfile "$tmp/ca.crt" -verify_hostname localhost
expect_verify wronghost "IP address mismatch" -CAfile "$tmp/ca.crt" -verify_ip 127.0.0.1
expect_verify untrusted "unable to get local issuer certificate" -CAfile "$tmp/ca.crt"
expect_verify untrusted OK -CAfile "$tmp/untrusted-ca.crt" -verify_hostname localhost
expect_verify untrusted OK -CAfile "$tmp/ca-chain.crt"
expect_verify selfsigned "self-signed certificate" -CAfile "$tmp/ca.crt"
# OpenSSL's own check still falls back to the CN; the client turns that off.
expect_verify nosan OK -CAfile "$tmp/ca.crt" -verify_hostname localhost
openssl x509 -in "$tmp/nosan.crt" -noout -ext subjectAltName 2>/dev/null | grep -q . &&
    fail "nosan.crt has a subjectAltName"

for cert in ca untrusted-ca server client expired notyet wronghost untrusted selfsigned nosan; do
    cert_pub="$(openssl x509 -in "$tmp/$cert.crt" -noout -pubkey)"
    key_pub="$(openssl pkey -in "$tmp/$cert.key" -pubout)"
    [[ "$cert_pub" == "$key_pub" ]] || fail "$cert.crt does not match $cert.key"
done
enc_pub="$(openssl pkey -in "$tmp/client-enc.key" -passin pass:edgeloop-test -pubout 2>&1)" ||
    fail "client-enc.key does not decrypt: $enc_pub"
[[ "$enc_pub" == "$(openssl pkey -in "$tmp/client.key" -pubout)" ]] || fail "client-enc.key != client.key"
grep -q "ENCRYPTED PRIVATE KEY" "$tmp/client-enc.key" || fail "client-enc.key is not encrypted"

# --- Publish ------------------------------------------------------------------------------------------

rm -rf "$work"
chmod 755 "$tmp"
chmod 644 "$tmp"/*.crt "$tmp"/*.key
touch "$tmp/.complete"
chmod 644 "$tmp/.complete"

if [[ -e "$out" || -L "$out" ]]; then
    # A stale or partial PKI: move it aside (a rename), then put the new one in its place.
    old="$(mktemp -d "$parent/.$name.old.XXXXXX")"
    mv -T "$out" "$old/pki"
fi
mv -T "$tmp" "$out"
