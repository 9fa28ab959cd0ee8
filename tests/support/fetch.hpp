#pragma once

// Runs one http::client transfer to completion on a private io_context, bounded in time, and collects
// everything the callbacks saw.

#include <edgeloop/http/client.hpp>
#include <edgeloop/http/multi.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace edgeloop::test {

struct fetch_outcome {
    boost::system::error_code ec;
    http::transfer_info info;
    bool done = false;
    int done_calls = 0;
    bool head_seen = false;
    http::response_head head;
    std::string body;
    std::vector<std::chrono::steady_clock::time_point> chunk_times;
    std::chrono::steady_clock::time_point done_time;
};

namespace detail {

/// Handlers that record what a transfer delivers into `out`.
inline http::handlers recording_handlers(fetch_outcome& out) {
    http::handlers h;
    h.on_response = [&out](const http::response_head& head) {
        out.head_seen = true;
        out.head = head;
    };
    h.on_body = [&out](std::span<const std::byte> bytes) {
        out.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        out.chunk_times.push_back(std::chrono::steady_clock::now());
    };
    return h;
}

/// A completion handler that records the result (and how often it was called) into `out`.
inline auto recording_completion(fetch_outcome& out) {
    return [&out](boost::system::error_code ec, http::transfer_info info) {
        out.ec = ec;
        out.info = std::move(info);
        out.done = true;
        ++out.done_calls;
        out.done_time = std::chrono::steady_clock::now();
    };
}

/// Runs ioc until the transfer recorded in `out` completes or `limit` passes (which fails the test).
inline void wait_for_completion(boost::asio::io_context& ioc, fetch_outcome& out,
                                std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (!out.done && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    BOOST_REQUIRE_MESSAGE(out.done, "transfer did not complete within " << limit.count() << " s");
    // Let the connection close (TLS close_notify) so that nothing is left for the next test.
    ioc.run_for(std::chrono::milliseconds(50));
}

} // namespace detail

/// Starts the transfer on `client` (whose executor must be ioc's) and runs ioc until it completes or
/// `limit` passes; a transfer still running then fails the test.
inline fetch_outcome fetch(boost::asio::io_context& ioc, http::client& client, http::request req,
                           std::chrono::seconds limit = std::chrono::seconds(20)) {
    fetch_outcome out;
    client.async_fetch(std::move(req), detail::recording_handlers(out), detail::recording_completion(out));
    detail::wait_for_completion(ioc, out, limit);
    return out;
}

/// The same through an http::multi made for this one transfer (on_done instead of a completion token).
inline fetch_outcome fetch_with_multi(boost::asio::io_context& ioc, http::client& client, http::request req,
                                      std::chrono::seconds limit = std::chrono::seconds(20)) {
    fetch_outcome out;
    http::multi m(client);
    auto done = detail::recording_completion(out);
    m.add({.req = std::move(req),
           .callbacks = detail::recording_handlers(out),
           .on_done = [done](const boost::system::error_code& ec, const http::transfer_info& info) mutable {
               done(ec, info);
           }});
    detail::wait_for_completion(ioc, out, limit);
    return out;
}

/// Runs ioc until `done()` holds or `limit` passes (servers on the same loop never let it run dry).
template <typename Pred>
bool run_until(boost::asio::io_context& ioc, Pred done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_until(deadline);
    return done();
}

inline http::request get(std::string url) {
    http::request r;
    r.url = std::move(url);
    return r;
}

} // namespace edgeloop::test
