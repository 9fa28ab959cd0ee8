// Uses the installed edgeloop headers and library: a reactor, an HTTP client on it, and a parsed URL.

#include <edgeloop/core.hpp>
#include <edgeloop/http.hpp>

#include <iostream>

int main() {
    edgeloop::core::reactor reactor;
    edgeloop::http::client client(reactor.executor());

    const auto parts = edgeloop::http::parse_url("https://localhost:8443/topics/a?b=c");
    if (!parts) {
        std::cerr << "parse_url failed: " << parts.error().message() << "\n";
        return 1;
    }
    if (!parts->tls || parts->host != "localhost" || parts->port != 8443 ||
        parts->target != "/topics/a?b=c") {
        std::cerr << "parse_url: unexpected parts of " << parts->authority() << "\n";
        return 2;
    }
    std::cout << "edgeloop consumer: " << parts->authority() << parts->target << ", " << client.active()
              << " active\n";
    return 0;
}
