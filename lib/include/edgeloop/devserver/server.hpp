#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::devserver {

struct options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0; ///< 0: any free port
    bool tls = true;
    /// Demand a client certificate signed by the server's own CA (see server::issue_client_certificate).
    bool require_client_certificate = false;
    /// With require_client_certificate: also accept client certificates signed by the CA(s) in this PEM
    /// file (a device PKI made outside, e.g. for keys in a PKCS#11 token).
    std::string client_ca_file;
    /// ALPN protocols the server accepts; when non-empty, a client offering none of them is refused in
    /// the handshake. Empty: ALPN ignored.
    std::vector<std::string> alpn;
    /// Answer the first N POST /topics/... requests with 429 and "Retry-After: 1" (AWS throttling).
    std::size_t throttle_publishes = 0;
    /// Close each connection after this many requests, without announcing it (as AWS IoT may). 0: never.
    std::size_t close_after_requests = 0;
    /// Listen at once. False: the port is bound (so it is known and reserved) but connections are refused
    /// until listen() is called — a server that comes up while a client is backing off.
    bool listen = true;
};

/// An HTTPS (or HTTP) test and demo server on Beast, bound to 127.0.0.1, running on the caller's
/// executor. At start-up it generates, in memory, a throwaway CA and a server certificate for
/// localhost / 127.0.0.1 / ::1, and writes the CA certificate to a private temporary directory that the
/// destructor removes.
///
/// Endpoints (in the spirit of httpstat.us):
///   /<status>                     answers that status (100..599 excluding 1xx) with a short text body
///   any path, ?sleep=<ms>         waits that long on a timer before answering
///   /bytes/<n>                    n bytes of a deterministic pattern (Content-Length)
///   /drip?chunks=<n>&interval_ms=<ms>&size=<bytes>
///                                 chunked body: n chunks of `size` bytes (default 16), one every interval
///   /headers                      the request's header fields as "name: value" lines
///   /redirect/<n>                 n redirects (302) down to /redirect/0, which answers 200
///   /redirect?to=<url>&status=<3xx>  one redirect to any URL (relative or absolute)
///   POST /topics/<topic>          {"message":"OK","traceId":"<uuid>"} (AWS IoT style)
///   POST /echo                    the request body back (application/octet-stream), for upload tests
/// Request bodies (Content-Length or chunked) up to 8 MiB are read. Keep-alive is supported. Unknown
/// paths answer 404.
class server {
public:
    server(boost::asio::any_io_executor ex, options opts = {});
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server();

    std::uint16_t port() const noexcept;
    /// "https://127.0.0.1:<port><path>" (or http://).
    std::string url(std::string_view path) const;
    /// Path of the PEM file holding the CA certificate that signed the server certificate.
    const std::string& ca_file() const noexcept;
    /// Writes a client certificate and key signed by the server's CA into dir (client.crt, client.key)
    /// and returns their paths, for mutual-TLS demos and tests.
    std::pair<std::string, std::string> issue_client_certificate(const std::string& dir) const;
    /// The same in memory: {certificate PEM, private key PEM}; nothing is written.
    std::pair<std::string, std::string> issue_client_certificate_pem() const;

    /// Starts accepting on a server made with options::listen = false. Thread-safe (runs on the executor).
    void listen();

    /// Stops accepting and closes every connection. The destructor does this too.
    void stop();

    std::size_t connections_accepted() const noexcept;
    std::size_t requests_served() const noexcept;
    /// SNI host name sent by the most recent TLS client, empty when none.
    std::string last_sni() const;
    /// ALPN protocol selected for the most recent TLS connection, empty when none.
    std::string last_alpn() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace edgeloop::devserver
