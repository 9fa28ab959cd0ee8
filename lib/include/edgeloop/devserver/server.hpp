#pragma once

#include <edgeloop/aws/signing_credentials.hpp>
#include <edgeloop/devserver/received_publish.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::devserver {

/// publish_hook's verdict: the publish arrived, its answer is lost (the connection is closed).
inline constexpr unsigned publish_dropped = 1;

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
    /// Called (on the server's executor) with each valid publish before it is answered, to script faults:
    /// return 0 (or 200) to accept it as usual, an HTTP status to answer that instead (the publish is not
    /// recorded), or publish_dropped to record it and close the connection without answering (an answer
    /// lost on the way: the client cannot tell whether it arrived).
    std::function<unsigned(const received_publish&)> publish_hook;
    /// Close each connection after this many requests, without announcing it (as AWS IoT may). 0: never.
    std::size_t close_after_requests = 0;
    /// Listen at once. False: the port is bound (so it is known and reserved) but connections are refused
    /// until listen() is called — a server that comes up while a client is backing off.
    bool listen = true;
    /// Demand an AWS SigV4 signature (Authorization: AWS4-HMAC-SHA256 ...) made with these credentials
    /// for `sigv4_region` and `sigv4_service` on every request, as AWS IoT does on port 443 without a
    /// client certificate: the signature is recomputed from the request as received (signed headers,
    /// target, body), X-Amz-Date must be within 5 minutes of now and match the credential scope, and the
    /// session token, when the credentials have one, must be sent and signed. Anything else: 403
    /// {"message":"<why>"} (AWS's ForbiddenException). None: no signature checked.
    std::optional<aws::signing_credentials> sigv4_credentials;
    std::string sigv4_region = "us-east-1";
    std::string sigv4_service = "iotdevicegateway";
    /// The AWS IoT credentials provider for this role alias (empty: none): `GET /role-aliases/<alias>/
    /// credentials` from a client that presented a certificate signed by the server's CA (or
    /// client_ca_file; the server asks every client for one, and requires it here only) answers
    /// {"credentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}} with fresh random
    /// credentials valid for credentials_lifetime. Every other request must then be SigV4-signed (as
    /// with sigv4_credentials) with credentials this server issued and that have not expired (403
    /// "The security token included in the request is expired" otherwise), or with sigv4_credentials.
    /// An x-amzn-iot-thingname header must be a valid thing name (400 otherwise); see last_thing_name.
    std::string credentials_role_alias;
    std::chrono::seconds credentials_lifetime{3600};
    /// Answer the first N credentials requests with credentials_failure_status, its AWS error name in
    /// x-amzn-ErrorType ("ThrottlingException:<url>" for 429, "ForbiddenException:<url>" for 403, ...)
    /// and {"message":"..."}.
    std::size_t credentials_failures = 0;
    unsigned credentials_failure_status = 429;
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
///   POST /topics/<topic>          {"message":"OK","traceId":"<uuid>"} (AWS IoT style). Checked as AWS
///                                 checks it: qos 0|1, retain true|false, messageExpiry an unsigned 32-bit
///                                 number, a responseTopic without wildcards, x-amz-mqtt5-user-properties
///                                 base64 of [{"name":"value"},...], x-amz-mqtt5-payload-format-indicator
///                                 UNSPECIFIED_BYTES|UTF8_DATA, x-amz-mqtt5-correlation-data base64, or
///                                 400 with {"message":"<what>"}; a payload over 128 KB is 413. Retain
///                                 with a payload keeps it as the topic's retained message, with an
///                                 empty one clears it (see last_publish, retained_message).
///   GET|POST|DELETE /things/<thing>/shadow[?name=<shadow>]
///                                 AWS IoT Device Shadow in memory: update merges desired/reported (null
///                                 deletes), keeps per-field metadata timestamps, increments the version
///                                 (a shadow that never existed is at version 0; a delete keeps the
///                                 count), answers 409 "Version conflict" to an update naming another
///                                 version; get returns state.desired/reported/delta, metadata, version
///   GET /api/things/shadow/ListNamedShadowsForThing/<thing>?nextToken=&pageSize=
///                                 the thing's named shadows, paged
///   GET /role-aliases/<alias>/credentials
///                                 AWS IoT credentials provider (options::credentials_role_alias)
///   POST /echo                    the request body back (application/octet-stream), for upload tests
///   /request                      "METHOD TARGET", the header fields as "name: value" lines, a blank line,
///                                 the body (any method; at most 8 MiB), to compare what two clients send
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
    /// The most recent publish answered 200, decoded; none before the first.
    std::optional<received_publish> last_publish() const;
    /// The retained message of a topic (its payload), none when there is none or it was cleared.
    std::optional<std::string> retained_message(const std::string& topic) const;
    /// Credentials issued by the credentials provider endpoint so far.
    std::size_t credentials_issued() const;
    /// The x-amzn-iot-thingname of the most recent credentials request, empty when it had none.
    std::string last_thing_name() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace edgeloop::devserver
