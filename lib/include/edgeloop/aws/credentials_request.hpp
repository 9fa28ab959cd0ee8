#pragma once

#include <edgeloop/http/request.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgeloop::aws {

inline constexpr std::size_t max_role_alias_bytes = 128;

/// A request for temporary AWS credentials to the AWS IoT credentials provider
/// (`aws iot describe-endpoint --endpoint-type iot:CredentialProvider`), which authenticates the device
/// by its client certificate (mutual TLS) and assumes the IAM role the role alias points to.
struct credentials_request {
    /// "<prefix>.credentials.iot.<region>.amazonaws.com", or an IP address (tests).
    std::string endpoint;
    std::uint16_t port = 443;
    std::string role_alias;
    /// Sent as x-amzn-iot-thingname when not empty: AWS then checks that the thing is attached to the
    /// certificate, and the role's policy may use the thing's name and type as variables.
    std::string thing_name;
};

/// error::invalid_role_alias unless 1 to 128 of [a-zA-Z0-9_=,@-] (AWS's `[\w=,@-]+`).
boost::system::error_code validate_role_alias(std::string_view alias) noexcept;

/// `GET https://<endpoint>:<port>/role-aliases/<alias>/credentials` (with x-amzn-iot-thingname), sans-io.
/// Errors: error::invalid_role_alias, error::invalid_thing_name, error::invalid_endpoint, invalid_port.
boost::system::result<http::request> make_credentials_request(const credentials_request& r);

} // namespace edgeloop::aws
