#include "dns_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace edgeloop::test {

namespace net = boost::asio;
using udp = net::ip::udp;

struct dns_server::state : std::enable_shared_from_this<dns_server::state> {
    state(net::io_context& ioc, std::map<std::string, std::vector<std::string>> a, std::set<std::string> s,
          std::uint32_t t, const std::string& address, std::uint16_t port)
        : socket(ioc, udp::endpoint(net::ip::make_address(address), port))
        , addresses(std::move(a))
        , stalled(std::move(s))
        , ttl(t) {}

    void receive() {
        socket.async_receive_from(
            net::buffer(in), peer,
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                if (ec == net::error::operation_aborted || !self->socket.is_open())
                    return;
                if (!ec)
                    self->answer(n);
                self->receive();
            });
    }

    void answer(std::size_t n) {
        if (n < 12 || in[4] != 0 || in[5] != 1)
            return; // not one question
        // QNAME: labels up to a zero byte, then QTYPE and QCLASS.
        std::size_t i = 12;
        std::string name;
        while (i < n && in[i] != 0) {
            const std::size_t len = in[i];
            if (len > 63 || i + 1 + len > n)
                return;
            if (!name.empty())
                name += '.';
            for (std::size_t j = 0; j < len; ++j)
                name += static_cast<char>(std::tolower(in[i + 1 + j]));
            i += 1 + len;
        }
        if (i + 5 > n)
            return;
        const std::size_t question_end = i + 5;
        const unsigned qtype = (in[i + 1] << 8) | in[i + 2];
        ++counts[name];
        if (stalled.contains(name))
            return;
        std::vector<unsigned char> out(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(question_end));
        const auto known = addresses.find(name);
        out[2] = 0x81 | (in[2] & 0x01);                  // QR, opcode 0, AA off, RD copied
        out[3] = known == addresses.end() ? 0x83 : 0x80; // RA; NXDOMAIN for an unknown name
        out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
        std::uint16_t answers = 0;
        if (known != addresses.end()) {
            for (const auto& text : known->second) {
                const auto addr = net::ip::make_address(text);
                if ((qtype == 1 && !addr.is_v4()) || (qtype == 28 && !addr.is_v6()) ||
                    (qtype != 1 && qtype != 28))
                    continue;
                const unsigned char head[] = {0xc0,
                                              0x0c,
                                              0,
                                              static_cast<unsigned char>(qtype),
                                              0,
                                              1,
                                              static_cast<unsigned char>(ttl >> 24),
                                              static_cast<unsigned char>(ttl >> 16),
                                              static_cast<unsigned char>(ttl >> 8),
                                              static_cast<unsigned char>(ttl),
                                              0,
                                              static_cast<unsigned char>(addr.is_v4() ? 4 : 16)};
                out.insert(out.end(), std::begin(head), std::end(head));
                if (addr.is_v4()) {
                    const auto b = addr.to_v4().to_bytes();
                    out.insert(out.end(), b.begin(), b.end());
                } else {
                    const auto b = addr.to_v6().to_bytes();
                    out.insert(out.end(), b.begin(), b.end());
                }
                ++answers;
            }
        }
        out[6] = static_cast<unsigned char>(answers >> 8);
        out[7] = static_cast<unsigned char>(answers);
        boost::system::error_code ignored;
        socket.send_to(net::buffer(out), peer, 0, ignored);
    }

    udp::socket socket;
    udp::endpoint peer;
    std::array<unsigned char, 1500> in{};
    std::map<std::string, std::vector<std::string>> addresses;
    std::set<std::string> stalled;
    std::uint32_t ttl;
    std::map<std::string, std::size_t> counts;
};

dns_server::dns_server(net::io_context& ioc, std::map<std::string, std::vector<std::string>> addresses,
                       std::set<std::string> stalled, std::uint32_t ttl, const std::string& address,
                       std::uint16_t port)
    : state_(std::make_shared<state>(ioc, std::move(addresses), std::move(stalled), ttl, address, port)) {
    state_->receive();
}

dns_server::~dns_server() {
    boost::system::error_code ignored;
    state_->socket.close(ignored);
}

std::uint16_t dns_server::port() const noexcept {
    boost::system::error_code ignored;
    return state_->socket.local_endpoint(ignored).port();
}

std::string dns_server::address() const {
    boost::system::error_code ignored;
    return state_->socket.local_endpoint(ignored).address().to_string() + ":" + std::to_string(port());
}

std::size_t dns_server::queries(const std::string& name) const {
    const auto it = state_->counts.find(name);
    return it == state_->counts.end() ? 0 : it->second;
}

} // namespace edgeloop::test
