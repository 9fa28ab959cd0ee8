#include <edgeloop/aws/tls.hpp>

namespace edgeloop::aws {

std::vector<std::string> alpn_for_port(std::uint16_t port) {
    if (port == 443)
        return {std::string(alpn_protocol)};
    return {};
}

tls::options make_tls_options(const credentials& creds, std::uint16_t port) {
    tls::options o;
    o.ca_file = creds.ca_file;
    o.cert_file = creds.cert_file;
    o.key_file = creds.key_file;
    o.key_passphrase = creds.key_passphrase;
    o.client_identity = creds.identity;
    o.alpn = alpn_for_port(port);
    o.sni = creds.sni;
    // Left empty, http::client sends the URL's host, which make_publish_request sets to the endpoint.
    o.sni_name = creds.sni ? creds.sni_name : std::string();
    return o;
}

} // namespace edgeloop::aws
