#pragma once

// Private to the aws module: what request builders share.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace edgeloop::aws::detail {

/// "https://<endpoint>:<port>" for a DNS name or an IP literal (IPv6 in brackets); error::invalid_endpoint
/// or error::invalid_port otherwise.
boost::system::result<std::string> origin(std::string_view endpoint, std::uint16_t port);

} // namespace edgeloop::aws::detail
