// socks5:// (the client resolves the target's name): the target's address comes the way a direct
// connection's does, from the client's name overrides (connect_options::connect_to and resolve, curl's
// --connect-to and --resolve) and else the client's resolver (c-ares on the loop, with its DNS cache).
// The first address goes to the proxy: IPv4 first, within connect_options::family. Bounded by the tunnel
// phase's deadline (timeouts::proxy_tunnel), which the connector armed.

#include "connector.hpp"

#include <edgeloop/http/error.hpp>
#include <edgeloop/net/address_order.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace edgeloop::http::detail {

namespace net = boost::asio;

void connector::resolve_socks_target() {
    edgeloop::net::name_overrides::route route{target_.url.host, target_.url.port};
    const auto& names = state_->names;
    const auto go = [this](const net::ip::address& a, std::uint16_t port) {
        url_parts to = target_.url;
        to.host = a.to_string();
        to.host_is_ip = true;
        to.port = port;
        open_socks(to);
    };
    const auto first = [this](const std::vector<net::ip::address>& addresses, std::uint16_t port) {
        std::vector<net::ip::tcp::endpoint> ordered;
        for (const auto& a : addresses)
            ordered.emplace_back(a, port);
        edgeloop::net::happy_eyeballs_order(ordered, state_->opts.connect.family); // -4 / -6
        // One address goes to the proxy, with no race to fall back on: IPv4 first (as getaddrinfo with
        // AI_ADDRCONFIG gives "localhost" on a host without global IPv6), IPv6 when it is all there is.
        std::stable_partition(ordered.begin(), ordered.end(),
                              [](const net::ip::tcp::endpoint& e) { return e.address().is_v4(); });
        return ordered;
    };
    std::string source = "DNS";
    if (!names.empty()) {
        route = names.connect_to(route.host, route.port);
        if (const auto* fixed = names.resolve(route.host, route.port)) {
            const auto ordered = first(*fixed, route.port);
            if (!ordered.empty()) {
                const auto chosen = ordered.front();
                // Posted: the tunnel's first write never runs inside start_socks's caller's frame.
                return net::post(state_->ex, [self = shared_from_this(), run = run_, go, chosen] {
                    if (run == self->run_)
                        go(chosen.address(), chosen.port());
                });
            }
        }
    }
    boost::system::error_code not_ip;
    if (const auto literal = net::ip::make_address(std::string(route.host), not_ip); !not_ip)
        return go(literal, route.port);
    const std::string host(route.host);
    const std::uint16_t port = route.port;
    state_->resolver().async_resolve(
        host, [weak = weak_from_this(), run = run_, host, port, go,
               first](const boost::system::error_code& ec, edgeloop::net::resolve_answer a) {
            auto self = weak.lock();
            if (!self || run != self->run_)
                return;
            const auto ordered = ec ? std::vector<net::ip::tcp::endpoint>() : first(a.addresses, port);
            if (ordered.empty()) {
                self->result_.cause = ec;
                self->result_.detail = "host " + host + " (resolved by the client for " +
                                       self->target_.proxy->display() + "): " +
                                       (ec ? (a.detail.empty() ? ec.message() : a.detail)
                                           : std::string("no address of the family asked for"));
                return self->fail(error::resolve_failed);
            }
            go(ordered.front().address(), port);
        });
}

} // namespace edgeloop::http::detail
