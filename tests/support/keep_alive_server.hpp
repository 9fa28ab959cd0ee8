#pragma once

// A plain-HTTP server on 127.0.0.1 that answers one request per connection ("200 ok", keep-alive) and then
// closes that connection behind the client's back: the stale kept-alive connection a pool must cope with.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace edgeloop::test {

class keep_alive_server {
public:
    enum class close_when {
        after_response,    ///< at once, while the connection sits idle in the client's pool
        on_second_request, ///< when the next request arrives on it (the client already reused it)
    };

    keep_alive_server(boost::asio::io_context& ioc, close_when when)
        : ioc_(ioc)
        , when_(when)
        , acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        accept();
    }

    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
    }
    int accepted() const noexcept { return accepted_; }
    void close() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    void accept() {
        auto sock = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
        acceptor_.async_accept(*sock, [this, sock](boost::system::error_code ec) {
            if (ec)
                return;
            ++accepted_;
            accept();
            serve(sock);
        });
    }

    void serve(std::shared_ptr<boost::asio::ip::tcp::socket> sock) {
        namespace net = boost::asio;
        auto buf = std::make_shared<net::streambuf>();
        net::async_read_until(
            *sock, *buf, "\r\n\r\n", [this, sock, buf](boost::system::error_code e, std::size_t n) {
                if (e)
                    return;
                buf->consume(n);
                static const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                net::async_write(
                    *sock, net::buffer(answer), [this, sock, buf](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        if (when_ == close_when::after_response) {
                            sock->shutdown(net::ip::tcp::socket::shutdown_both, ignored);
                            sock->close(ignored);
                            return;
                        }
                        net::async_read_until(*sock, *buf, "\r\n\r\n",
                                              [sock, buf](boost::system::error_code, std::size_t) {
                                                  boost::system::error_code ignored2;
                                                  sock->close(ignored2);
                                              });
                    });
            });
    }

    boost::asio::io_context& ioc_;
    close_when when_;
    boost::asio::ip::tcp::acceptor acceptor_;
    int accepted_ = 0;
};

} // namespace edgeloop::test
