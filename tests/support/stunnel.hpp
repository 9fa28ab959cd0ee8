#pragma once

// stunnel (Debian `stunnel4`) as the TLS front of a plain TCP service on 127.0.0.1: it accepts TLS with a
// certificate of the test PKI and forwards the decrypted bytes to `forward_port`. In front of squid's
// plain port it makes an HTTPS proxy (squid-openssl, which has an https_port, would replace squid).
// It never asks the client for a certificate (no `verify`).

#include <support/process.hpp>

#include <cstdint>
#include <string>

namespace edgeloop::test {

class stunnel_server {
public:
    struct options {
        std::uint16_t forward_port = 0; ///< where the decrypted bytes go (127.0.0.1)
        std::string cert = "server";    ///< pki base name: <cert>.crt / <cert>.key
    };
    /// Starts stunnel on a free port and waits (10 s) until it listens; throws with its log otherwise.
    explicit stunnel_server(options opts);
    ~stunnel_server();
    stunnel_server(const stunnel_server&) = delete;
    stunnel_server& operator=(const stunnel_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    /// What stunnel logged so far (connections, handshake failures).
    std::string log() const;

private:
    std::string dir_;
    std::uint16_t port_ = 0;
    child_process proc_;
};

} // namespace edgeloop::test
