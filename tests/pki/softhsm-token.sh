#!/usr/bin/env bash
# Makes a SoftHSM2 token for the device-identity tests and benchmarks, in a directory of its own:
#
#   softhsm-token.sh DIR PKI_DIR
#
# DIR/softhsm2.conf (point SOFTHSM2_CONF at it), DIR/tokens/ (the token store), DIR/pin (user PIN "1234",
# mode 0600). Tokens "edgeloop", "edgeloop-locked" and "edgeloop-uri" each hold, as "device" (CKA_ID 01),
# PKI_DIR/client.key (P-256, private, sensitive) and PKI_DIR/client.crt, imported with pkcs11-tool
# (opensc); the URI of a key is
#   pkcs11:token=edgeloop;object=device;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so
# (PKCS#11 login is per process and token: tests of PIN errors use a token that no test of the same
# process logs into with the right PIN.)
# Nothing outside DIR is touched (the user's own SoftHSM configuration is not read).
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 DIR PKI_DIR" >&2
    exit 2
fi
dir="$(readlink -m "$1")"
pki="$(readlink -m "$2")"
module=/usr/lib/softhsm/libsofthsm2.so
mkdir -p "$dir/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir" >"$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"
umask 077
printf '1234\n' >"$dir/pin"
openssl pkcs8 -topk8 -nocrypt -in "$pki/client.key" -outform DER -out "$dir/key.der"
openssl x509 -in "$pki/client.crt" -outform DER -out "$dir/cert.der"
for token in edgeloop edgeloop-locked edgeloop-uri; do
    softhsm2-util --init-token --free --label "$token" --pin 1234 --so-pin 87654321 >/dev/null
    p11() { pkcs11-tool --module "$module" --token-label "$token" --login --pin 1234 "$@" >/dev/null; }
    p11 --write-object "$dir/key.der" --type privkey --id 01 --label device
    p11 --write-object "$dir/cert.der" --type cert --id 01 --label device
done
rm -f "$dir/key.der" "$dir/cert.der"
