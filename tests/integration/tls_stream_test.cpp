// The client's TLS stream (lib/src/http/tls_stream.hpp, private to the library) on its own, against an
// asio::ssl::stream server on 127.0.0.1 (test PKI): what the client relies on and the fault matrix does
// not pin down directly — no completion inside an initiating call (even with bytes already decrypted),
// the error codes asio::ssl::stream gives for each way a connection ends, no alert sent after a bare EOF,
// no SIGPIPE, and cancellation of a waiting operation.
#include <http/tls_stream.hpp>

#include <edgeloop/tls/context.hpp>

#include <support/servers.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <optional>
#include <string>

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace tls = edgeloop::tls;
using client_stream = edgeloop::http::detail::tls_stream;
using edgeloop::test::pki;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

/// The outcome of one operation, filled in by its handler.
struct outcome {
    bool done = false;
    error_code ec;
    std::size_t n = 0;
};
/// A read or write handler recording into r.
auto record(outcome& r) {
    return [&r](const error_code& ec, std::size_t n) { r = {true, ec, n}; };
}
/// A handshake or shutdown handler recording into r.
auto record_ec(outcome& r) {
    return [&r](const error_code& ec) { r = {true, ec, 0}; };
}

/// A connected, handshaken pair: `client` (the stream under test) and `server` (asio::ssl::stream).
struct tls_pair {
    net::io_context ioc;
    ssl::context server_ctx{ssl::context::tls_server};
    tls::context client_ctx{tls::options{.ca_file = pki::path("ca.crt")}};
    std::optional<ssl::stream<tcp::socket>> server;
    std::optional<client_stream> client;

    tls_pair() {
        server_ctx.use_certificate_chain_file(pki::path("server.crt"));
        server_ctx.use_private_key_file(pki::path("server.key"), ssl::context::pem);
        tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
        tcp::socket s(ioc);
        s.connect(acceptor.local_endpoint());
        server.emplace(acceptor.accept(), server_ctx);
        client.emplace(std::move(s), client_ctx.native().native_handle());
        BOOST_REQUIRE(client->native_handle() != nullptr);
        outcome server_hs, client_hs;
        server->async_handshake(ssl::stream_base::server, record_ec(server_hs));
        client->async_handshake(record_ec(client_hs));
        run_until(client_hs);
        run_until(server_hs);
        BOOST_REQUIRE_MESSAGE(!client_hs.ec, client_hs.ec.message());
        BOOST_REQUIRE_MESSAGE(!server_hs.ec, server_hs.ec.message());
    }

    /// Runs the loop until r is done (other work, such as a server waiting for more, may remain).
    void run_until(const outcome& r) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!r.done && std::chrono::steady_clock::now() < give_up) {
            if (ioc.stopped())
                ioc.restart();
            ioc.run_one_for(std::chrono::milliseconds(100));
        }
        BOOST_REQUIRE(r.done);
    }

    void server_send(const std::string& bytes) { net::write(*server, net::buffer(bytes)); }

    /// One client read of up to `size` bytes, run to completion; `into` holds what it read.
    outcome client_read(std::string& into, std::size_t size) {
        into.assign(size, '\0');
        outcome r;
        client->async_read_some(net::buffer(into), record(r));
        run_until(r);
        into.resize(r.n);
        return r;
    }

    /// The server's socket ends abortively: the client sees a TCP RST.
    void server_reset() {
        server->next_layer().set_option(net::socket_base::linger(true, 0));
        server->next_layer().close();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(tls_stream)

BOOST_AUTO_TEST_CASE(completions_never_run_inside_the_initiating_call) {
    tls_pair p;
    p.server_send("hello");
    std::string got(1, '\0');
    outcome r;
    p.client->async_read_some(net::buffer(got), record(r));
    BOOST_TEST(!r.done);
    p.run_until(r);
    BOOST_TEST(!r.ec);
    BOOST_TEST(got == "h");

    // The rest of the record is decrypted and waiting in the SSL: the next read succeeds at once, and
    // still completes only from the loop.
    BOOST_TEST(SSL_pending(p.client->native_handle()) == 4);
    std::string rest(16, '\0');
    r = {};
    p.client->async_read_some(net::buffer(rest), record(r));
    BOOST_TEST(!r.done);
    p.run_until(r);
    BOOST_TEST(!r.ec);
    rest.resize(r.n);
    BOOST_TEST(rest == "ello");

    const std::string request = "GET / HTTP/1.1\r\n\r\n";
    r = {};
    p.client->async_write_some(net::buffer(request), record(r));
    BOOST_TEST(!r.done);
    p.run_until(r);
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.n == request.size());
    std::string echoed(request.size(), '\0');
    net::read(*p.server, net::buffer(echoed));
    BOOST_TEST(echoed == request);
}

BOOST_AUTO_TEST_CASE(small_pieces_of_a_write_go_out_together) {
    tls_pair p;
    const std::string a = "GET / HTTP/1.1\r\n", b = "Host: x\r\n", c = "\r\n";
    const std::array<net::const_buffer, 3> pieces{net::buffer(a), net::buffer(b), net::buffer(c)};
    outcome r;
    p.client->async_write_some(pieces, record(r));
    p.run_until(r);
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.n == a.size() + b.size() + c.size());
    std::string got(r.n, '\0');
    net::read(*p.server, net::buffer(got));
    BOOST_TEST(got == a + b + c);
}

BOOST_AUTO_TEST_CASE(close_notify_is_eof_and_the_shutdown_completes) {
    tls_pair p;
    outcome server_shutdown;
    p.server->async_shutdown(record_ec(server_shutdown));
    std::string got;
    const auto r = p.client_read(got, 16);
    BOOST_TEST(r.ec == net::error::eof, r.ec.message());
    outcome client_shutdown;
    p.client->async_shutdown(record_ec(client_shutdown));
    p.run_until(client_shutdown);
    p.run_until(server_shutdown);
    BOOST_TEST(!client_shutdown.ec, client_shutdown.ec.message());
    BOOST_TEST(!server_shutdown.ec, server_shutdown.ec.message());
}

BOOST_AUTO_TEST_CASE(end_of_stream_without_close_notify_is_stream_truncated_and_sends_no_alert) {
    tls_pair p;
    p.server_send("partial");
    p.server->next_layer().shutdown(tcp::socket::shutdown_send); // FIN, no close_notify
    std::string got;
    auto r = p.client_read(got, 64);
    BOOST_TEST(!r.ec);
    BOOST_TEST(got == "partial");
    r = p.client_read(got, 64);
    BOOST_TEST(r.ec == ssl::error::stream_truncated, r.ec.message());
    // The client answered the end with nothing (OpenSSL 3.0 sends a decode_error alert when the BIO
    // reports EOF to it).
    char byte;
    const auto n = ::recv(p.server->next_layer().native_handle(), &byte, 1, MSG_DONTWAIT);
    BOOST_TEST((n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)));
}

BOOST_AUTO_TEST_CASE(a_reset_is_connection_reset) {
    tls_pair p;
    p.server_reset();
    std::string got;
    const auto r = p.client_read(got, 64);
    BOOST_TEST(r.ec == net::error::connection_reset, r.ec.message());
}

BOOST_AUTO_TEST_CASE(writing_to_a_closed_peer_fails_without_sigpipe) {
    // SIGPIPE at its default disposition would end the test program: the stream must not raise it.
    struct sigaction dfl {};
    struct sigaction old {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, &old);
    tls_pair p;
    p.server->next_layer().close(); // FIN; the next bytes from the client draw an RST, then EPIPE
    const std::string data(4096, 'x');
    outcome r;
    std::size_t failures = 0;
    for (int i = 0; i < 100 && r.ec != net::error::broken_pipe; ++i) {
        r = {};
        p.client->async_write_some(net::buffer(data), record(r));
        p.run_until(r);
        failures += r.ec ? 1 : 0;
        BOOST_TEST((!r.ec || r.ec == net::error::broken_pipe || r.ec == net::error::connection_reset),
                   r.ec.message());
    }
    ::sigaction(SIGPIPE, &old, nullptr);
    BOOST_TEST(r.ec == net::error::broken_pipe, r.ec.message());
    BOOST_TEST(failures > 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_wait_aborts_the_read_and_the_stream_stays_usable) {
    tls_pair p;
    net::cancellation_signal cancel;
    std::string got(16, '\0');
    outcome r;
    p.client->async_read_some(net::buffer(got), net::bind_cancellation_slot(cancel.slot(), record(r)));
    net::post(p.ioc, [&] { cancel.emit(net::cancellation_type::terminal); });
    p.run_until(r);
    BOOST_TEST(r.ec == net::error::operation_aborted, r.ec.message());
    p.server_send("after");
    r = p.client_read(got, 16);
    BOOST_TEST(!r.ec);
    BOOST_TEST(got == "after");
}

BOOST_AUTO_TEST_CASE(closing_the_socket_aborts_a_waiting_read) {
    tls_pair p;
    std::string got(16, '\0');
    outcome r;
    p.client->async_read_some(net::buffer(got), record(r));
    net::post(p.ioc, [&] { p.client->next_layer().close(); });
    p.run_until(r);
    BOOST_TEST(r.ec == net::error::operation_aborted, r.ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
