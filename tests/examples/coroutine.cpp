// GET a URL in a coroutine: status, a header and the body, at most 1 MiB of it.
//   coroutine URL [CA_FILE]
#include <edgeloop/core.hpp>
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <exception>
#include <string>

namespace asio = boost::asio;

asio::awaitable<int> get(edgeloop::http::client& client, std::string url) {
    // Pass the URL itself, not a braced request, inside co_await (edgeloop/http/client.hpp says why).
    auto [ec, resp] = co_await client.async_get(url, 1 << 20, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        std::fprintf(stderr, "%s\n", edgeloop::http::describe(ec, resp.info).c_str());
        co_return ec == edgeloop::errc::timeout ? 2 : 1;
    }
    std::printf("HTTP %u, %zu bytes of %s\n", resp.status(), resp.body.size(),
                std::string(resp.header("Content-Type")).c_str());
    co_return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: coroutine URL [CA_FILE]\n");
        return 64;
    }
    edgeloop::core::reactor reactor;
    edgeloop::tls::options tls;
    if (argc > 2)
        tls.ca_file = argv[2];
    edgeloop::http::client client(reactor.executor(), edgeloop::tls::context(tls));
    int status = 3;
    asio::co_spawn(reactor.context(), get(client, argv[1]), [&](std::exception_ptr e, int s) {
        status = e ? 3 : s;
        reactor.stop();
    });
    reactor.run();
    return status;
}
