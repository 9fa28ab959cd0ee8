#include "socks5.hpp"

#include <edgeloop/http/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace edgeloop::http::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr unsigned char version = 5;
constexpr unsigned char method_none = 0x00;
constexpr unsigned char method_userpass = 0x02;
constexpr unsigned char method_refused = 0xff;
constexpr unsigned char cmd_connect = 0x01;
constexpr unsigned char atyp_ipv4 = 0x01;
constexpr unsigned char atyp_domain = 0x03;
constexpr unsigned char atyp_ipv6 = 0x04;

struct reply_code {
    error e;
    const char* meaning;
};

/// RFC 1928 6: REP 1..8.
constexpr std::array<reply_code, 8> replies{{
    {error::socks_general_failure, "general SOCKS server failure"},
    {error::socks_not_allowed, "connection not allowed by ruleset"},
    {error::socks_network_unreachable, "network unreachable"},
    {error::socks_host_unreachable, "host unreachable"},
    {error::socks_refused, "connection refused"},
    {error::socks_ttl_expired, "TTL expired"},
    {error::socks_command_not_supported, "command not supported"},
    {error::socks_address_type_not_supported, "address type not supported"},
}};

unsigned char byte(std::string_view s, std::size_t i) {
    return static_cast<unsigned char>(s[i]);
}

} // namespace

socks5_handshake::socks5_handshake(std::string_view host, bool host_is_ip, std::uint16_t port,
                                   const proxy_endpoint& proxy)
    : target_((host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host)) +
              ":" + std::to_string(port))
    , user_(proxy.user)
    , password_(proxy.password)
    , offer_auth_(proxy.has_credentials)
    , proxy_("proxy " + proxy.display()) {
    request_ = {static_cast<char>(version), static_cast<char>(cmd_connect), 0};
    if (host_is_ip) {
        error_code ec;
        const auto a = net::ip::make_address(std::string(host), ec);
        if (ec) {
            fail(error::invalid_url, "not an IP address: " + std::string(host));
            return;
        }
        if (a.is_v4()) {
            request_.push_back(static_cast<char>(atyp_ipv4));
            const auto b = a.to_v4().to_bytes();
            request_.append(reinterpret_cast<const char*>(b.data()), b.size());
        } else {
            request_.push_back(static_cast<char>(atyp_ipv6));
            const auto b = a.to_v6().to_bytes();
            request_.append(reinterpret_cast<const char*>(b.data()), b.size());
        }
    } else {
        if (host.empty() || host.size() > 255) {
            fail(error::invalid_url, "a host name of " + std::to_string(host.size()) +
                                         " bytes cannot be sent to a SOCKS5 proxy (1 to 255)");
            return;
        }
        request_.push_back(static_cast<char>(atyp_domain));
        request_.push_back(static_cast<char>(host.size()));
        request_.append(host);
    }
    request_.push_back(static_cast<char>(port >> 8));
    request_.push_back(static_cast<char>(port & 0xff));
    if (offer_auth_ && (user_.size() > 255 || password_.size() > 255)) {
        fail(error::invalid_proxy,
             proxy_ + ": a SOCKS5 user name and password are 255 bytes at most (RFC 1929)");
        return;
    }
    // Offering "no authentication" beside username/password, as curl does: a proxy that needs none
    // picks it.
    out_ = offer_auth_ ? std::string{static_cast<char>(version), 2, static_cast<char>(method_none),
                                     static_cast<char>(method_userpass)}
                       : std::string{static_cast<char>(version), 1, static_cast<char>(method_none)};
}

void socks5_handshake::fail(error_code ec, std::string words) {
    state_ = state::failed;
    error_ = ec;
    detail_ = std::move(words);
    out_.clear();
    need_ = 0;
}

void socks5_handshake::written() {
    out_.clear();
    state_ = state::read;
    switch (step_) {
    case step::greeting:
        step_ = step::method;
        need_ = 2;
        break;
    case step::auth:
        step_ = step::auth_status;
        need_ = 2;
        break;
    case step::request:
        // VER REP RSV ATYP and the first byte of BND.ADDR (a domain's length).
        step_ = step::reply_head;
        need_ = 5;
        break;
    default:
        break;
    }
}

void socks5_handshake::send_request() {
    step_ = step::request;
    state_ = state::write;
    out_ = request_;
    need_ = 0;
}

void socks5_handshake::received(std::string_view in) {
    if (in.size() != need_ || state_ != state::read)
        return fail(error::bad_socks_response, proxy_ + ": SOCKS5 answer of an unexpected size");
    switch (step_) {
    case step::method: {
        if (byte(in, 0) != version)
            return fail(error::bad_socks_response,
                        proxy_ + ": not a SOCKS5 answer (version " + std::to_string(byte(in, 0)) + ")");
        const unsigned char m = byte(in, 1);
        if (m == method_none)
            return send_request();
        if (m == method_userpass && offer_auth_) {
            step_ = step::auth;
            state_ = state::write;
            need_ = 0;
            out_ = {1, static_cast<char>(user_.size())};
            out_.append(user_).push_back(static_cast<char>(password_.size()));
            out_.append(password_);
            return;
        }
        if (m == method_refused)
            return fail(error::socks_no_acceptable_method,
                        proxy_ + (offer_auth_
                                      ? " accepts neither no authentication nor username/password"
                                      : " requires authentication and no proxy credentials were given"));
        return fail(error::bad_socks_response,
                    proxy_ + " chose authentication method " + std::to_string(m) + ", which was not offered");
    }
    case step::auth_status:
        // RFC 1929: VER 1, STATUS 0 = success. The credentials are never named.
        if (byte(in, 1) != 0)
            return fail(error::socks_auth_failed, proxy_ + " refused the username and password (status " +
                                                      std::to_string(byte(in, 1)) + ")");
        return send_request();
    case step::reply_head: {
        if (byte(in, 0) != version)
            return fail(error::bad_socks_response,
                        proxy_ + ": not a SOCKS5 reply (version " + std::to_string(byte(in, 0)) + ")");
        const unsigned char rep = byte(in, 1);
        if (rep != 0) {
            const std::string said = proxy_ + " answered SOCKS5 reply " + std::to_string(rep);
            if (rep <= replies.size())
                return fail(replies[rep - 1].e,
                            said + " (" + replies[rep - 1].meaning + ") to CONNECT " + target_);
            return fail(error::bad_socks_response, said + " (unassigned) to CONNECT " + target_);
        }
        // The bound address and port follow; nothing else may (the target speaks only when spoken to).
        switch (byte(in, 3)) {
        case atyp_ipv4:
            need_ = 3 + 2;
            break;
        case atyp_ipv6:
            need_ = 15 + 2;
            break;
        case atyp_domain:
            need_ = std::size_t{byte(in, 4)} + 2;
            break;
        default:
            return fail(error::bad_socks_response,
                        proxy_ + ": SOCKS5 reply with address type " + std::to_string(byte(in, 3)));
        }
        step_ = step::reply_rest;
        return;
    }
    case step::reply_rest:
        state_ = state::done;
        need_ = 0;
        return;
    default:
        return fail(error::bad_socks_response, proxy_ + ": SOCKS5 answer out of turn");
    }
}

void socks5_handshake::failed_io(const error_code& ec) {
    if (ec == net::error::eof)
        return fail(error::bad_socks_response,
                    proxy_ + ": closed the connection during the SOCKS5 handshake");
    if (ec == net::error::connection_reset || ec == net::error::broken_pipe)
        return fail(error::bad_socks_response,
                    proxy_ + ": closed the connection during the SOCKS5 handshake (" + ec.message() + ")");
    fail(error::bad_socks_response, proxy_ + ": " + ec.message() + " during the SOCKS5 handshake");
}

std::shared_ptr<socks5_tunnel> socks5_tunnel::start(tcp::socket& socket, const proxy_endpoint& proxy,
                                                    const url_parts& target, handler done) {
    auto t = std::make_shared<socks5_tunnel>(socket, proxy, target, std::move(done));
    const std::string host = t->target_.host;
    t->begin(host, t->target_.host_is_ip);
    return t;
}

socks5_tunnel::socks5_tunnel(tcp::socket& socket, const proxy_endpoint& proxy, const url_parts& target,
                             handler done)
    : socket_(socket)
    , proxy_(proxy)
    , target_(target)
    , done_(std::move(done)) {}

void socks5_tunnel::cancel() {
    cancelled_ = true;
    // done_ stays until the pending handlers have run: it holds the socket's owner.
}

void socks5_tunnel::begin(std::string host, bool is_ip) {
    handshake_ = std::make_unique<socks5_handshake>(host, is_ip, target_.port, proxy_);
    if (handshake_->current() == socks5_handshake::state::failed) {
        // Posted: never inside start().
        return net::post(socket_.get_executor(), [self = shared_from_this()] { self->pump(); });
    }
    pump();
}

void socks5_tunnel::pump() {
    if (cancelled_)
        return;
    switch (handshake_->current()) {
    case socks5_handshake::state::write:
        return net::async_write(socket_, net::buffer(handshake_->to_write()),
                                [self = shared_from_this()](const error_code& ec, std::size_t) {
                                    if (self->cancelled_)
                                        return;
                                    if (ec) {
                                        self->outcome_.cause = ec;
                                        self->handshake_->failed_io(ec);
                                    } else {
                                        self->handshake_->written();
                                    }
                                    self->pump();
                                });
    case socks5_handshake::state::read:
        in_.assign(handshake_->to_read(), '\0');
        return net::async_read(socket_, net::buffer(in_),
                               [self = shared_from_this()](const error_code& ec, std::size_t) {
                                   if (self->cancelled_)
                                       return;
                                   if (ec) {
                                       self->outcome_.cause = ec;
                                       self->handshake_->failed_io(ec);
                                   } else {
                                       self->handshake_->received(self->in_);
                                   }
                                   self->pump();
                               });
    case socks5_handshake::state::done:
        return complete();
    case socks5_handshake::state::failed:
        outcome_.ec = handshake_->error();
        outcome_.detail = handshake_->detail();
        return complete();
    }
}

void socks5_tunnel::complete() {
    if (cancelled_)
        return;
    if (auto done = std::move(done_)) {
        done_ = nullptr;
        done(outcome_);
    }
}

} // namespace edgeloop::http::detail
