// What is set on a connection's socket: TCP keepalive (read back with getsockopt on the client's own
// socket) and the source address or device (--interface), seen by the peer.
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fetch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

namespace http = edgeloop::http;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// This process's TCP socket whose peer is 127.0.0.1:port (the client's end of a connection), or -1.
int client_socket_to(std::uint16_t port) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        const int fd = std::stoi(entry.path().filename().string());
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 && peer.sin_family == AF_INET &&
            ntohs(peer.sin_port) == port)
            return fd;
    }
    return -1;
}

int int_option(int fd, int level, int name) {
    int value = -1;
    socklen_t len = sizeof value;
    BOOST_REQUIRE(::getsockopt(fd, level, name, &value, &len) == 0);
    return value;
}

struct devserver_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor(), {.tls = false}};
    std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/200";
};

/// Accepts connections on 127.0.0.1 and answers each with an empty 200, noting the peer's address.
struct source_recorder {
    explicit source_recorder(net::io_context& ioc)
        : acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}) {
        accept();
    }
    void accept() {
        acceptor.async_accept([this](const boost::system::error_code& ec, net::ip::tcp::socket s) {
            if (ec)
                return;
            boost::system::error_code ignored;
            peer = s.remote_endpoint(ignored).address().to_string();
            auto sock = std::make_shared<net::ip::tcp::socket>(std::move(s));
            auto buf = std::make_shared<std::array<char, 4096>>();
            sock->async_read_some(
                net::buffer(*buf), [sock, buf](const boost::system::error_code& e, std::size_t) {
                    if (e)
                        return;
                    static const std::string answer =
                        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                    net::async_write(*sock, net::buffer(answer),
                                     [sock](const boost::system::error_code&, std::size_t) {
                                         boost::system::error_code ignored2;
                                         sock->shutdown(net::socket_base::shutdown_send, ignored2);
                                     });
                });
            accept();
        });
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
    }
    net::ip::tcp::acceptor acceptor;
    std::optional<std::string> peer;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(socket_options, devserver_fixture)

BOOST_AUTO_TEST_CASE(connections_have_tcp_keepalive_as_configured) {
    http::client_options o;
    o.pool.tcp_keepalive_idle = 45s;
    o.pool.tcp_keepalive_interval = 7s;
    o.pool.tcp_keepalive_count = 3;
    http::client client(ioc.get_executor(), o);
    BOOST_TEST(fetch(ioc, client, get(url)).info.status == 200u);
    BOOST_TEST_REQUIRE(client.idle_connections() == 1u);
    const int fd = client_socket_to(server.port());
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_TEST(int_option(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
    BOOST_TEST(int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 45);
    BOOST_TEST(int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 7);
    BOOST_TEST(int_option(fd, IPPROTO_TCP, TCP_KEEPCNT) == 3);
}

BOOST_AUTO_TEST_CASE(keepalive_is_on_by_default_and_can_be_switched_off) {
    {
        http::client client(ioc.get_executor(), http::client_options{});
        BOOST_TEST(fetch(ioc, client, get(url)).info.status == 200u);
        const int fd = client_socket_to(server.port());
        BOOST_TEST_REQUIRE(fd >= 0);
        BOOST_TEST(int_option(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
        BOOST_TEST(int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 60);
    }
    ioc.run_for(50ms); // the first client's connection closes
    http::client_options o;
    o.pool.tcp_keepalive = false;
    http::client client(ioc.get_executor(), o);
    BOOST_TEST(fetch(ioc, client, get(url)).info.status == 200u);
    const int fd = client_socket_to(server.port());
    BOOST_TEST_REQUIRE(fd >= 0);
    BOOST_TEST(int_option(fd, SOL_SOCKET, SO_KEEPALIVE) == 0);
}

BOOST_AUTO_TEST_CASE(interface_address_is_the_source_the_server_sees) {
    source_recorder peer(ioc);
    http::client_options o;
    o.connect.bind_interface = "127.0.0.2";
    http::client client(ioc.get_executor(), o);
    auto out = fetch(ioc, client, get(peer.url()));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(peer.peer.value_or("none") == "127.0.0.2");
}

BOOST_AUTO_TEST_CASE(interface_of_the_other_family_fails_naming_it) {
    http::client_options o;
    o.connect.bind_interface = "::1";
    http::client client(ioc.get_executor(), o);
    auto out = fetch(ioc, client, get(url));
    const auto said = http::describe(out.ec, out.info);
    BOOST_TEST(out.ec == make_error_code(http::error::connect_failed), said);
    BOOST_TEST(said.find("--interface ::1") != std::string::npos, said);
}

BOOST_AUTO_TEST_CASE(interface_device_is_bound_or_the_missing_capability_named) {
    http::client_options o;
    o.connect.bind_interface = "nosuchdev0";
    http::client missing(ioc.get_executor(), o);
    auto out = fetch(ioc, missing, get(url));
    auto said = http::describe(out.ec, out.info);
    BOOST_TEST(out.ec == make_error_code(http::error::connect_failed), said);
    BOOST_TEST((said.find("no such network device") != std::string::npos ||
                said.find("CAP_NET_RAW") != std::string::npos),
               said);
    o.connect.bind_interface = "lo";
    http::client lo(ioc.get_executor(), o);
    out = fetch(ioc, lo, get(url));
    said = http::describe(out.ec, out.info);
    if (::geteuid() == 0) {
        BOOST_TEST(!out.ec, said);
    } else { // without CAP_NET_RAW (if the test is not run as root)
        BOOST_TEST(out.ec == make_error_code(http::error::connect_failed), said);
        BOOST_TEST(said.find("CAP_NET_RAW") != std::string::npos, said);
    }
}

BOOST_AUTO_TEST_SUITE_END()
