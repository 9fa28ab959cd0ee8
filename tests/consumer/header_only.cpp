// A program that uses Asio header-only and its deprecated names (io_service, io_service::work, reset()),
// as much existing gateway code does, with edgeloop's client on its io_service. Built by the consumer
// project (find_package) and with pkg-config's flags, against the static and the shared library.

#include <edgeloop/http.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_service.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <optional>

#if defined(BOOST_ASIO_SEPARATE_COMPILATION) || defined(BOOST_BEAST_SEPARATE_COMPILATION) ||                 \
    defined(BOOST_ASIO_NO_DEPRECATED)
#error "linking edgeloop must not change the program's Asio configuration"
#endif

int main() {
    boost::asio::io_service io;
    std::optional<boost::asio::io_service::work> work(io);
    edgeloop::http::client client(io.get_executor());

    bool done = false;
    boost::system::error_code result;
    edgeloop::http::transfer_info info;
    boost::asio::steady_timer watchdog(io, std::chrono::seconds(20));
    watchdog.async_wait([&](boost::system::error_code ec) {
        if (!ec)
            io.stop();
    });
    client.async_fetch("http://nonexistent.invalid/",
                       [&](boost::system::error_code ec, edgeloop::http::transfer_info i) {
                           done = true;
                           result = ec;
                           info = std::move(i);
                           watchdog.cancel();
                           work.reset();
                       });
    io.reset();
    io.run();

    if (!done) {
        std::cerr << "header-only consumer: the transfer did not complete\n";
        return 1;
    }
    if (result != edgeloop::http::error::resolve_failed || result != edgeloop::errc::name_resolution) {
        std::cerr << "header-only consumer: unexpected " << edgeloop::http::describe(result, info) << "\n";
        return 2;
    }
    // The resolver's error, made inside the library, compares equal to the program's Asio constants: one
    // error category on both sides (a hidden copy in a shared library would be another object).
    if (info.cause.category() != boost::asio::error::get_netdb_category() ||
        (info.cause != boost::asio::error::host_not_found &&
         info.cause != boost::asio::error::host_not_found_try_again)) {
        std::cerr << "header-only consumer: cause " << info.cause.category().name() << ":"
                  << info.cause.value() << " is not the resolver's own error\n";
        return 3;
    }
    std::cout << "header-only consumer: " << edgeloop::http::describe(result, info) << "\n";
    return 0;
}
