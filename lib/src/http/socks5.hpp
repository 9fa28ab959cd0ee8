#pragma once

// Private to lib/src/http: the client side of a SOCKS5 tunnel (RFC 1928) with username/password
// authentication (RFC 1929). The protocol is sans-io (socks5_handshake: bytes in, bytes out, unit-tested
// without sockets); socks5_tunnel drives it over the connector's socket. For socks5:// the connector has
// resolved the target's name already (socks5_target.cpp) and passes an address; socks5h:// sends the name.

#include <edgeloop/http/proxy.hpp>
#include <edgeloop/http/url.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace edgeloop::http::detail {

/// One SOCKS5 CONNECT, as a state machine: write to_write() and call written(), read exactly to_read()
/// bytes and pass them to received(), until state() is done or failed.
class socks5_handshake {
public:
    enum class state { write, read, done, failed };

    /// `host` is an IPv4/IPv6 literal (without brackets) when `host_is_ip`, else a name the proxy
    /// resolves. `proxy` names the proxy in details and gives the credentials (offered when it has some).
    socks5_handshake(std::string_view host, bool host_is_ip, std::uint16_t port, const proxy_endpoint& proxy);

    state current() const noexcept { return state_; }
    std::string_view to_write() const noexcept { return out_; }
    void written();
    std::size_t to_read() const noexcept { return need_; }
    void received(std::string_view bytes);
    /// The connection closed or failed while the proxy was to answer (ec: the I/O error).
    void failed_io(const boost::system::error_code& ec);

    /// When failed: the http::error, and words naming the proxy (never the credentials).
    boost::system::error_code error() const noexcept { return error_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    enum class step { greeting, method, auth, auth_status, request, reply_head, reply_rest };
    void send_request();
    void fail(boost::system::error_code ec, std::string words);

    std::string target_;  ///< "host:port" for details
    std::string request_; ///< the CONNECT request, built up front
    std::string user_, password_;
    bool offer_auth_ = false;
    std::string proxy_; ///< "proxy socks5h://host:port"
    step step_ = step::greeting;
    state state_ = state::write;
    std::string out_;
    std::size_t need_ = 0;
    boost::system::error_code error_;
    std::string detail_;
};

/// The outcome of a SOCKS5 tunnel: ec is an http::error; cause is the I/O error under it, if any.
struct socks5_outcome {
    boost::system::error_code ec;
    std::string detail;
    boost::system::error_code cause;
};

/// Opens a SOCKS5 tunnel over a socket connected to the proxy. `done` is called once, never inside
/// start(), unless cancel() came first (then never). The socket must outlive the operation: `done` is
/// where the caller holds it. Cancellation: cancel(); closing the socket ends the pending read or write.
class socks5_tunnel : public std::enable_shared_from_this<socks5_tunnel> {
public:
    using handler = std::function<void(const socks5_outcome&)>;

    static std::shared_ptr<socks5_tunnel> start(boost::asio::ip::tcp::socket& socket,
                                                const proxy_endpoint& proxy, const url_parts& target,
                                                handler done);
    void cancel();

    socks5_tunnel(boost::asio::ip::tcp::socket& socket, const proxy_endpoint& proxy, const url_parts& target,
                  handler done);

private:
    void begin(std::string host, bool is_ip);
    void pump();
    void complete();

    boost::asio::ip::tcp::socket& socket_;
    proxy_endpoint proxy_;
    url_parts target_;
    handler done_;
    std::unique_ptr<socks5_handshake> handshake_;
    std::string in_;
    socks5_outcome outcome_;
    bool cancelled_ = false;
};

} // namespace edgeloop::http::detail
