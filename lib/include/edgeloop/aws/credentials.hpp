#pragma once

#include <edgeloop/tls/identity.hpp>

#include <string>

namespace edgeloop::aws {

/// How a device proves itself to AWS IoT and checks the endpoint: mutual TLS with the certificate
/// registered for the thing. Turned into tls::options by make_tls_options().
struct credentials {
    /// Trust anchors (Amazon Root CA 1 and/or 3, PEM). Empty: the system store.
    std::string ca_file;
    /// Device certificate (PEM) and its private key (PEM, possibly encrypted).
    std::string cert_file;
    std::string key_file;
    /// Passphrase of an encrypted key. Never logged.
    std::string key_passphrase;
    /// The device identity named any other way (PEM in memory, a PKCS#11 token; see tls::identity), in
    /// place of cert_file/key_file/key_passphrase.
    tls::identity identity;
    /// AWS refuses connections without SNI; turn it off only for a test server that cares.
    bool sni = true;
    /// SNI name to send instead of the endpoint (e.g. the real endpoint name while connecting to an IP).
    std::string sni_name;
};

} // namespace edgeloop::aws
