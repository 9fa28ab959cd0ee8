// A program with Asio code of its own (a listening socket, a timer, a coroutine) on the io_context that
// edgeloop's client runs on. It compiles Asio separately (asio_src.cpp): its own choice, not the
// library's.

#include <edgeloop/http.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <iostream>
#include <string>

#if !defined(BOOST_ASIO_SEPARATE_COMPILATION)
#error "this consumer is built with its own Asio configuration"
#endif

namespace asio = boost::asio;
using asio::ip::tcp;

int main() {
    asio::io_context ioc;
    edgeloop::http::client client(ioc.get_executor());

    // The program's own one-request HTTP server.
    tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
    tcp::socket peer(ioc);
    std::string request;
    const std::string reply =
        "HTTP/1.1 200 OK\r\nContent-Length: 22\r\nConnection: close\r\n\r\nhello from the program";
    acceptor.async_accept(peer, [&](boost::system::error_code ec) {
        if (ec)
            return;
        asio::async_read_until(
            peer, asio::dynamic_buffer(request), "\r\n\r\n", [&](boost::system::error_code e, std::size_t) {
                if (!e)
                    asio::async_write(peer, asio::buffer(reply),
                                      [&](boost::system::error_code, std::size_t) { peer.close(); });
            });
    });
    asio::steady_timer watchdog(ioc, std::chrono::seconds(20));
    watchdog.async_wait([&](boost::system::error_code ec) {
        if (!ec)
            ioc.stop();
    });

    int status = 1;
    const std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/hello";
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto [ec, resp] = co_await client.async_get(url, 1024, asio::as_tuple(asio::use_awaitable));
            if (ec)
                std::cerr << "own-asio consumer: " << edgeloop::http::describe(ec, resp.info) << "\n";
            else if (resp.status() != 200 || resp.body != "hello from the program")
                std::cerr << "own-asio consumer: unexpected " << resp.status() << " " << resp.body << "\n";
            else if (request.find("GET /hello HTTP/1.1\r\n") != 0)
                std::cerr << "own-asio consumer: the server saw " << request << "\n";
            else
                status = 0;
            watchdog.cancel();
            client.cancel_all();
        },
        asio::detached);
    ioc.run();
    if (status == 0)
        std::cout << "own-asio consumer: GET " << url << ": 200, 22 bytes\n";
    return status;
}
