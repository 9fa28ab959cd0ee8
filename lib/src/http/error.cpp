#include <edgeloop/http/error.hpp>

#include <edgeloop/core/errc.hpp>

namespace edgeloop::http {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.http"; }

    // The most specific edgeloop::errc the code belongs to (the groups are decided in core/errc.cpp).
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        const boost::system::error_code ec(ev, *this);
        for (const errc c : {errc::timeout, errc::name_resolution})
            if (condition_category().equivalent(ec, static_cast<int>(c)))
                return c;
        return {ev, *this};
    }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::invalid_url:
            return "invalid URL";
        case error::unsupported_scheme:
            return "unsupported URL scheme (http and https only)";
        case error::resolve_failed:
            return "could not resolve host name";
        case error::connection_refused:
            return "connection refused";
        case error::connect_failed:
            return "could not connect";
        case error::resolve_timeout:
            return "timed out resolving the host name";
        case error::connect_timeout:
            return "timed out connecting";
        case error::handshake_timeout:
            return "timed out in the TLS handshake";
        case error::write_timeout:
            return "timed out sending the request";
        case error::response_head_timeout:
            return "timed out waiting for the response head";
        case error::idle_timeout:
            return "timed out waiting for body data";
        case error::total_timeout:
            return "transfer exceeded its total time limit";
        case error::header_too_large:
            return "response header exceeds the size limit";
        case error::body_too_large:
            return "response body exceeds the size limit";
        case error::malformed_response:
            return "malformed response";
        case error::partial_response:
            return "connection closed before the response was complete";
        case error::no_response:
            return "connection closed before any response";
        case error::connection_reset:
            return "connection reset by peer";
        case error::write_failed:
            return "could not send the request";
        case error::read_failed:
            return "could not read the response";
        case error::host_not_allowed:
            return "host is not in the allowlist";
        case error::too_many_redirects:
            return "too many redirects";
        case error::insecure_redirect:
            return "redirect from https to http refused";
        case error::bad_redirect:
            return "redirect without a usable Location";
        case error::invalid_request:
            return "invalid request settings";
        case error::request_body_unreadable:
            return "cannot read the request body file";
        case error::request_body_not_replayable:
            return "request body from a callback cannot be sent again";
        case error::unsupported_transfer_coding:
            return "unsupported transfer coding in the response";
        case error::queue_full:
            return "too many transfers waiting for a connection";
        case error::invalid_proxy:
            return "invalid proxy URL";
        case error::proxy_resolve_failed:
            return "could not resolve the proxy's name";
        case error::proxy_connect_failed:
            return "could not connect to the proxy";
        case error::proxy_auth_required:
            return "proxy authentication required (407)";
        case error::proxy_tunnel_refused:
            return "the proxy refused the CONNECT tunnel";
        case error::proxy_tunnel_timeout:
            return "timed out waiting for the proxy's answer to CONNECT";
        case error::bad_proxy_response:
            return "malformed answer from the proxy";
        case error::socks_no_acceptable_method:
            return "the SOCKS5 proxy accepts none of the authentication methods offered";
        case error::socks_auth_failed:
            return "the SOCKS5 proxy refused the username and password";
        case error::socks_general_failure:
            return "SOCKS5 reply 1: general SOCKS server failure";
        case error::socks_not_allowed:
            return "SOCKS5 reply 2: connection not allowed by ruleset";
        case error::socks_network_unreachable:
            return "SOCKS5 reply 3: network unreachable";
        case error::socks_host_unreachable:
            return "SOCKS5 reply 4: host unreachable";
        case error::socks_refused:
            return "SOCKS5 reply 5: connection refused by the target";
        case error::socks_ttl_expired:
            return "SOCKS5 reply 6: TTL expired";
        case error::socks_command_not_supported:
            return "SOCKS5 reply 7: command not supported";
        case error::socks_address_type_not_supported:
            return "SOCKS5 reply 8: address type not supported";
        case error::bad_socks_response:
            return "malformed SOCKS5 answer from the proxy";
        case error::digest_mismatch:
            return "the body's SHA-256 is not the one expected";
        case error::range_mismatch:
            return "the 206 response's Content-Range is not the range asked for";
        case error::range_not_satisfiable:
            return "the server cannot satisfy the range asked for (416)";
        case error::resume_file_unreadable:
            return "the file to resume cannot be read";
        case error::proxy_tls_failed:
            return "TLS with the https proxy failed";
        case error::proxy_handshake_timeout:
            return "timed out in the TLS handshake with the https proxy";
        case error::bad_content_encoding:
            return "the response body cannot be decoded (corrupt Content-Encoding stream)";
        case error::unsupported_content_encoding:
            return "the response's Content-Encoding is not supported";
        }
        return "unknown edgeloop.http error";
    }
};

} // namespace

bool is_transient(error e) noexcept {
    switch (e) {
    case error::resolve_failed:
    case error::connection_refused:
    case error::connect_failed:
    case error::resolve_timeout:
    case error::connect_timeout:
    case error::handshake_timeout:
    case error::write_timeout:
    case error::response_head_timeout:
    case error::idle_timeout:
    case error::total_timeout:
    case error::partial_response:
    case error::no_response:
    case error::connection_reset:
    case error::write_failed:
    case error::read_failed:
    case error::proxy_resolve_failed:
    case error::proxy_connect_failed:
    case error::proxy_tunnel_timeout:
    case error::proxy_handshake_timeout:
    case error::bad_proxy_response:
    case error::socks_general_failure:
    case error::socks_network_unreachable:
    case error::socks_host_unreachable:
    case error::socks_refused:
    case error::socks_ttl_expired:
    case error::bad_socks_response:
        return true;
    case error::invalid_url:
    case error::unsupported_scheme:
    case error::header_too_large:
    case error::body_too_large:
    case error::malformed_response:
    case error::host_not_allowed:
    case error::too_many_redirects:
    case error::insecure_redirect:
    case error::bad_redirect:
    case error::invalid_request:
    case error::request_body_unreadable:
    case error::request_body_not_replayable:
    case error::unsupported_transfer_coding:
    case error::queue_full:
    case error::invalid_proxy:
    case error::proxy_auth_required:
    case error::digest_mismatch:
    case error::range_mismatch:
    case error::range_not_satisfiable:
    case error::resume_file_unreadable:
    case error::bad_content_encoding:
    case error::unsupported_content_encoding:
    case error::proxy_tls_failed:
    case error::proxy_tunnel_refused:
    case error::socks_no_acceptable_method:
    case error::socks_auth_failed:
    case error::socks_not_allowed:
    case error::socks_command_not_supported:
    case error::socks_address_type_not_supported:
        return false;
    }
    return false;
}

const boost::system::error_category& http_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace edgeloop::http
