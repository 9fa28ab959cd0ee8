#!/usr/bin/env bash
# Makes the TPM 2.0 keys of the TPM device-identity tests in a software TPM (swtpm) that is already
# listening, and certificates for them from the test CA:
#
#   swtpm-key.sh DIR PKI_DIR TCTI          e.g. TCTI = swtpm:host=127.0.0.1,port=2321
#
#   persistent handle 0x81000001   a P-256 signing key (tpm2-tools: createprimary, create, load,
#                                  evictcontrol), certificate DIR/handle.crt
#   DIR/key.tss2                   a P-256 key as a TSS2 PEM key file (openssl genpkey with the tpm2
#                                  provider), certificate DIR/tss2.crt
# Both certificates: CN=edgeloop-tpm-device, clientAuth, signed by PKI_DIR/ca.key. Needs swtpm-tools' TPM
# to be fresh (the handle must be free) and Debian's tpm2-tools and tpm2-openssl.
set -euo pipefail
if [[ $# -ne 3 ]]; then
    echo "usage: $0 DIR PKI_DIR TCTI" >&2
    exit 2
fi
dir="$(readlink -m "$1")"
pki="$(readlink -m "$2")"
export TPM2TOOLS_TCTI="$3" TPM2OPENSSL_TCTI="$3"
mkdir -p "$dir"
cd "$dir"
# Without a resource manager every transient object stays loaded: flush after each step.
tpm2_createprimary -Q -C o -g sha256 -G ecc -c primary.ctx
tpm2_flushcontext -t
tpm2_create -Q -C primary.ctx -G ecc256 -u key.pub -r key.priv
tpm2_flushcontext -t
tpm2_load -Q -C primary.ctx -u key.pub -r key.priv -c key.ctx
tpm2_flushcontext -t
tpm2_evictcontrol -Q -C o -c key.ctx 0x81000001
tpm2_flushcontext -t
rm -f primary.ctx key.ctx key.pub key.priv
openssl genpkey -provider tpm2 -provider default -algorithm EC -pkeyopt group:P-256 -out key.tss2 2>/dev/null
printf '[ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n' >ext.cnf
for k in handle:0x81000001 key.tss2; do
    name=$([[ $k == key.tss2 ]] && echo tss2 || echo handle)
    openssl req -provider tpm2 -provider default -new -key "$k" -subj "/O=edgeloop tests/CN=edgeloop-tpm-device" \
        -out "$name.csr"
    openssl x509 -req -in "$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
        -extfile ext.cnf -extensions ext -out "$name.crt" 2>/dev/null
done
rm -f ./*.csr ext.cnf
