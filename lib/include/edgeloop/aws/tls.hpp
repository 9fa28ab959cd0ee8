#pragma once

#include <edgeloop/aws/credentials.hpp>
#include <edgeloop/tls/options.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::aws {

/// The ALPN protocol AWS IoT requires for HTTPS on port 443.
inline constexpr std::string_view alpn_protocol = "x-amzn-http-ca";

/// ALPN protocols to offer: {"x-amzn-http-ca"} on 443, where AWS IoT serves several protocols and picks
/// by ALPN; none elsewhere (8443 is HTTPS only).
std::vector<std::string> alpn_for_port(std::uint16_t port);

/// TLS options for an AWS IoT endpoint on `port`: the credentials' CA, certificate, key and passphrase,
/// ALPN by port, full verification. SNI names the endpoint (the URL's host, which http::client sends)
/// unless credentials::sni_name overrides it or credentials::sni turns it off.
tls::options make_tls_options(const credentials& creds, std::uint16_t port);

} // namespace edgeloop::aws
