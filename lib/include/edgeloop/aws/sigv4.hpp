#pragma once

#include <edgeloop/aws/signing_credentials.hpp>
#include <edgeloop/http/request.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace edgeloop::aws {

/// The SigV4 service name of the AWS IoT data plane (publish, Device Shadow) on its ATS endpoint.
inline constexpr std::string_view iot_data_service = "iotdevicegateway";

/// Everything a SigV4 signature is made of, for checking against AWS's test suite and for debugging
/// a refused signature (none of it is secret: the key never appears).
struct sigv4_signature {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers; ///< "host;x-amz-date"
    std::string signature;      ///< lower-case hex HMAC-SHA256
    /// "AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request,
    /// SignedHeaders=..., Signature=..."
    std::string authorization;
};

/// Signs a request with AWS Signature Version 4 (HMAC-SHA256, OpenSSL), sans-io.
///  - `target`: the request target as sent (path and query; the path as it is on the wire is
///    URI-encoded once more for the canonical URI, as AWS specifies for every service but S3);
///  - `headers`: those to sign, which must include Host and X-Amz-Date (YYYYMMDD'T'HHMMSS'Z', which
///    dates the credential scope) and X-Amz-Security-Token when the credentials have a session token.
///    Names are compared case-insensitively, values trimmed and inner runs of spaces collapsed, repeated
///    names joined with ','. Connection, Expect, User-Agent, Upgrade, Transfer-Encoding and
///    X-Amzn-Trace-Id are left unsigned (proxies may change them).
///  - `payload`: the body, hashed with SHA-256.
sigv4_signature sigv4_sign(std::string_view method, std::string_view target, const http::header_list& headers,
                           std::string_view payload, const signing_credentials& creds,
                           std::string_view region, std::string_view service);

/// "YYYYMMDDTHHMMSSZ" (UTC) for X-Amz-Date.
std::string sigv4_amz_date(std::chrono::system_clock::time_point t);

/// The SigV4 signing key: HMAC chain over the date (YYYYMMDD), region, service and "aws4_request",
/// keyed with "AWS4" + secret (32 raw bytes).
std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date,
                              std::string_view region, std::string_view service);

/// Signs an http::request in place at time `now`: adds X-Amz-Date, X-Amz-Security-Token (with a
/// session token) and Authorization, signing the Host the client will send (the URL's host, and its
/// port when not 443/80) and every other header of the request but the unsigned ones above. Errors:
/// error::missing_credentials (no key id or secret), error::unsignable_body (a body_file or
/// body_source: only in-memory bodies are hashed), error::invalid_endpoint (a URL that does not parse).
/// Sign again before each attempt of a retried request: AWS refuses a signature older than 5 minutes.
boost::system::error_code sign_request(http::request& req, const signing_credentials& creds,
                                       std::string_view region, std::string_view service,
                                       std::chrono::system_clock::time_point now);

/// The region of an AWS IoT data endpoint ("<prefix>-ats.iot.<region>.amazonaws.com[.cn]"), empty when
/// the name is not of that form.
std::string region_of_endpoint(std::string_view endpoint);

} // namespace edgeloop::aws
